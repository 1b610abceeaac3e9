/*
 * Fuzzing: the control-file reader, queue_env_parse() (lib/queue_env.c),
 * and the spool encoding under it (util_encode/util_decode).
 *
 * A control file is written by sendq, but a member of group sendq can
 * write one too, and root's queue runner reads it.
 *
 * Properties: an accepted file has an ID, a sender, an account and at
 * least one recipient, none holding a NUL; formatting it and parsing the
 * result gives the same text again (format -> parse -> format is the
 * identity).  Any bytes survive util_encode -> util_decode unchanged,
 * and an encoded value is one non-empty word of printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "queue.h"
#include "util.h"

static void
check_env(const struct queue_env *env)
{
	size_t	 i;

	FUZZ_CHECK(queue_id_valid(env->id), "invalid id accepted");
	FUZZ_CHECK(env->sender != NULL && env->account != NULL &&
	    env->nrcpts > 0, "incomplete envelope accepted");
	for (i = 0; i < env->nrcpts; i++) {
		FUZZ_CHECK(env->rcpts[i].addr[0] != '\0', "empty recipient");
		FUZZ_CHECK(env->rcpts[i].state <= QUEUE_RCPT_FAILED,
		    "state %d", (int)env->rcpts[i].state);
	}
}

static void
round_trip(const char *text, size_t len)
{
	struct queue_env env, env2;
	struct buf	 a, b;
	char		 err[256];

	if (queue_env_parse(text, len, &env, err, sizeof err) == -1)
		return;
	check_env(&env);
	buf_init(&a, 0);
	buf_init(&b, 0);
	FUZZ_CHECK(queue_env_format(&env, &a) == 0, "format failed");
	FUZZ_CHECK(queue_env_parse(a.data, a.len, &env2, err,
	    sizeof err) == 0, "own output refused: %s", err);
	FUZZ_CHECK(queue_env_format(&env2, &b) == 0, "format failed");
	FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
	    "format -> parse -> format changed the text");
	queue_env_clear(&env);
	queue_env_clear(&env2);
	buf_free(&a);
	buf_free(&b);
}

static void
encoding(const uint8_t *data, size_t len)
{
	struct buf	 enc, dec;
	size_t		 i;

	buf_init(&enc, 0);
	buf_init(&dec, 0);
	FUZZ_CHECK(util_encode(&enc, (const char *)data, len) == 0,
	    "util_encode failed");
	FUZZ_CHECK(enc.len > 0, "empty encoding");
	for (i = 0; i < enc.len; i++)
		FUZZ_CHECK(enc.data[i] > 0x20 && enc.data[i] < 0x7f,
		    "encoded octet %#x", (unsigned char)enc.data[i]);
	FUZZ_CHECK(util_decode(&dec, enc.data, enc.len) == 0,
	    "util_decode refused util_encode's output");
	FUZZ_CHECK(dec.len == len && (len == 0 ||
	    memcmp(dec.data, data, len) == 0), "encoding round trip");
	/* And decoding arbitrary text must not overrun. */
	buf_reset(&dec);
	(void)util_decode(&dec, (const char *)data, len);
	buf_free(&enc);
	buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text = fuzz_memdup(data, size);

	round_trip(text, size);
	free(text);
	if (size <= 512)
		encoding(data, size);
	return 0;
}
