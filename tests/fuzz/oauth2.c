/*
 * Fuzzing: oauth2's parsers of outside input (lib/oauth2.c): the token
 * file and the replies of token and device endpoints, and the query of
 * a redirected address.
 *
 * Input: one octet choosing the parser (low two bits: token file, a
 * reply with HTTP status 200, one with 400, a query) and the text.
 *
 * Properties: a token file that parses has a token, every token is
 * visible ASCII without a space, and what oauth2_token_format writes
 * parses back to the same tokens and times; a reply's status matches its
 * fields (OAUTH2_OK only for 200) and its sentence is printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "oauth2.h"

static void
check_token(const char *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	FUZZ_CHECK(t[0] != '\0', "empty token");
	for (i = 0; t[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)t[i] > 0x20 &&
		    (unsigned char)t[i] < 0x7f, "token octet %02x",
		    (unsigned char)t[i]);
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

static void
fuzz_token_file(const char *text, size_t len)
{
	struct oauth2_token	 t, u;
	struct buf		 b;
	char			 err[256];

	if (oauth2_token_parse(text, len, &t, err, sizeof err) == -1) {
		FUZZ_CHECK(!fuzz_has_control(err, strlen(err)), "err");
		return;
	}
	FUZZ_CHECK(t.refresh_token != NULL || t.access_token != NULL,
	    "parsed without a token");
	check_token(t.refresh_token);
	check_token(t.access_token);
	buf_init_secret(&b, 0);
	FUZZ_CHECK(oauth2_token_format(&t, &b) == 0, "format");
	FUZZ_CHECK(oauth2_token_parse(b.data, b.len, &u, err,
	    sizeof err) == 0, "the written file does not parse: %s", err);
	FUZZ_CHECK(same(t.refresh_token, u.refresh_token) &&
	    same(t.access_token, u.access_token), "tokens differ");
	FUZZ_CHECK(t.access_token == NULL || (t.expires_at == u.expires_at &&
	    t.issued_at == u.issued_at), "times differ");
	oauth2_token_clear(&t);
	oauth2_token_clear(&u);
	buf_free(&b);
}

static void
fuzz_reply(long status, const char *text, size_t len)
{
	struct oauth2_reply	 r;

	oauth2_reply_parse(status, text, len, &r);
	FUZZ_CHECK(r.st != OAUTH2_OK || status == 200, "OK for %ld", status);
	FUZZ_CHECK(!fuzz_has_control(r.what, strlen(r.what)), "what");
	FUZZ_CHECK(!fuzz_has_control(r.error, strlen(r.error)), "error");
	FUZZ_CHECK(r.st == OAUTH2_OK || r.what[0] != '\0', "no sentence");
	check_token(r.access_token);
	check_token(r.refresh_token);
	check_token(r.device_code);
	check_token(r.user_code);
	check_token(r.verification_uri);
	oauth2_reply_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 b;
	char		*text;

	if (size < 1)
		return 0;
	text = fuzz_memdup(data + 1, size - 1);
	switch (data[0] & 3) {
	case 0:
		fuzz_token_file(text, size - 1);
		break;
	case 1:
		fuzz_reply(200, text, size - 1);
		break;
	case 2:
		fuzz_reply(400, text, size - 1);
		break;
	default:
		free(text);
		text = fuzz_strndup(data + 1, size - 1);
		buf_init(&b, 4096);
		(void)oauth2_query_get(text, "code", &b);
		buf_free(&b);
		break;
	}
	free(text);
	return 0;
}
