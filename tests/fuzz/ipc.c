/*
 * Fuzzing: the daemon's socket protocol (lib/ipc.c): the fields of a
 * SUBMIT, sent by any local uid, and the RESULT line, read by sendmail
 * from the daemon; and the account state files it keeps in the spool
 * (lib/acctstate.c), which a member of group sendq can write.
 *
 * The first octet chooses the parser (its value modulo 3: fields,
 * RESULT line, account state file).  Properties: accepted fields
 * encode back to the same text when re-decoded (decode -> encode ->
 * decode gives the same submission), no string holds a NUL, the
 * recipient count is within IPC_RCPT_MAX; an accepted RESULT has a
 * status and a mail status in range and a valid ID or none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acctstate.h"
#include "buf.h"
#include "fuzz.h"
#include "ipc.h"
#include "queue.h"

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
same_sub(const struct ipc_sub *a, const struct ipc_sub *b)
{
	size_t	 i;

	FUZZ_CHECK(same_str(a->from, b->from) &&
	    same_str(a->fullname, b->fullname) &&
	    same_str(a->dsn_notify, b->dsn_notify) &&
	    same_str(a->dsn_ret, b->dsn_ret) &&
	    same_str(a->dsn_envid, b->dsn_envid), "a field changed");
	FUZZ_CHECK(a->extract == b->extract && a->dot_ends == b->dot_ends &&
	    a->queue_only == b->queue_only &&
	    a->deliver_now == b->deliver_now, "a flag changed");
	FUZZ_CHECK(a->nrcpts == b->nrcpts, "recipient count changed");
	for (i = 0; i < a->nrcpts; i++)
		FUZZ_CHECK(strcmp(a->rcpts[i], b->rcpts[i]) == 0,
		    "recipient %zu changed", i);
}

static void
fields(const char *data, size_t len)
{
	struct ipc_sub	 s, s2;
	struct buf	 b;
	char		*store, *store2, err[256];

	if (ipc_sub_decode(data, len, &s, &store, err, sizeof err) == -1) {
		FUZZ_CHECK(store == NULL && err[0] != '\0',
		    "refused without a reason");
		return;
	}
	FUZZ_CHECK(s.nrcpts <= IPC_RCPT_MAX, "%zu recipients", s.nrcpts);
	buf_init(&b, 0);
	FUZZ_CHECK(ipc_sub_encode(&b, &s) == 0, "encode failed");
	FUZZ_CHECK(ipc_sub_decode(b.data, b.len, &s2, &store2, err,
	    sizeof err) == 0, "own encoding refused: %s", err);
	same_sub(&s, &s2);
	ipc_sub_free(&s2, store2);
	ipc_sub_free(&s, store);
	buf_free(&b);
}

static void
result(const char *line)
{
	struct submit_result	 r;

	if (ipc_result_decode(line, &r) == -1)
		return;
	FUZZ_CHECK(r.status <= SUBMIT_NOMEM && r.mail <= MAIL_ERR_NOMEM,
	    "status out of range");
	FUZZ_CHECK(r.id[0] == '\0' || queue_id_valid(r.id), "bad ID");
	FUZZ_CHECK(memchr(r.err, '\0', sizeof r.err) != NULL,
	    "unterminated error");
}

/* An account's state file: what parses formats back to the same. */
static void
state(const char *text, size_t len)
{
	struct acctstate	 st, st2;
	struct buf		 b;

	if (acctstate_parse(text, len, &st) == -1)
		return;
	FUZZ_CHECK(st.kind <= ACCTSTATE_FAILING, "kind %d", (int)st.kind);
	buf_init(&b, 0);
	FUZZ_CHECK(acctstate_format(&st, &b) == 0, "format failed");
	FUZZ_CHECK(acctstate_parse(b.data, b.len, &st2) == 0,
	    "own record refused");
	FUZZ_CHECK(st.kind == st2.kind && st.until == st2.until &&
	    st.since == st2.since && st.streak == st2.streak &&
	    st.last_success == st2.last_success &&
	    strcmp(st.last_error, st2.last_error) == 0, "record changed");
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;

	if (size == 0)
		return 0;
	if (data[0] % 3 == 2) {
		text = fuzz_memdup(data + 1, size - 1);
		state(text, size - 1);
	} else if (data[0] % 3 == 1) {
		/* A line, as ipc_read_line() gives it: NUL-terminated. */
		if ((text = malloc(size)) == NULL)
			fuzz_fail("out of memory");
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		result(text);
	} else {
		text = fuzz_memdup(data + 1, size - 1);
		fields(text, size - 1);
	}
	free(text);
	return 0;
}
