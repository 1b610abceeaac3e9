/*
 * Fuzzing: the client side of the SASL mechanisms (lib/sasl.c) against
 * a hostile server, SCRAM's server-first and server-final messages
 * above all.
 *
 * Input: one octet choosing the mechanism (low bits) and whether the
 * initial response is sent with AUTH (high bit clear) or asked for by an
 * empty challenge; then the server's challenges, already base64-decoded,
 * separated by NUL octets.  SCRAM uses the client nonces of RFC 5802 and
 * RFC 7677 with the password "pencil", so the RFCs' exchanges (the
 * seeds) run to the verified end.
 *
 * Properties: err is a printable line; a SCRAM exchange counts as
 * complete only after a server-final message was accepted; nothing is
 * answered after SASL_FAIL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "sasl.h"

#define ITER_MAX	4096	/* PBKDF2 runs beyond this are just slow */

/* True when an "i=" attribute asks for more than ITER_MAX rounds. */
static bool
too_slow(const uint8_t *p, size_t len)
{
	unsigned long	 v;
	size_t		 i, j;

	for (i = 0; i + 2 < len; i++) {
		if (p[i] != 'i' || p[i + 1] != '=' ||
		    (i > 0 && p[i - 1] != ','))
			continue;
		for (v = 0, j = i + 2; j < len && p[j] >= '0' && p[j] <= '9' &&
		    v <= 10000000; j++)
			v = v * 10 + (p[j] - '0');
		if (v > ITER_MAX)
			return true;
	}
	return false;
}

static void
check_err(const char *err)
{
	FUZZ_CHECK(!fuzz_has_control(err, strlen(err)),
	    "control character in err: %s", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sasl_mech	 m;
	enum sasl_status st = SASL_CONTINUE;
	struct sasl	*s;
	struct buf	 resp;
	const uint8_t	*chal, *rest;
	size_t		 clen, rlen, steps = 0;
	char		 err[256], *c;
	bool		 asked, scram, was;

	if (size < 1 || too_slow(data, size))
		return 0;
	m = (enum sasl_mech)((data[0] & 0x7f) % SASL_NMECH);
	asked = (data[0] & 0x80) != 0;
	scram = m == SASL_SCRAM_SHA_1 || m == SASL_SCRAM_SHA_256;
	data++;
	size--;
	if ((s = sasl_new(m, "user", "pencil")) == NULL)
		fuzz_fail("sasl_new");
	if (m == SASL_SCRAM_SHA_1)
		FUZZ_CHECK(sasl_set_nonce(s, "fyko+d2lbbFgONRv9qkxdawL") == 0,
		    "nonce");
	else if (m == SASL_SCRAM_SHA_256)
		FUZZ_CHECK(sasl_set_nonce(s, "rOprNGfwEbeRWgbNEkqO") == 0,
		    "nonce");
	buf_init(&resp, 0);
	if (!asked)
		(void)sasl_initial(s, &resp);
	while (st == SASL_CONTINUE && (size > 0 || steps == 0)) {
		fuzz_split(data, size, '\0', &chal, &clen, &rest, &rlen);
		c = fuzz_memdup(chal, clen);
		was = sasl_complete(s);
		st = sasl_step(s, c, clen, &resp, err, sizeof err);
		free(c);
		if (st == SASL_FAIL) {
			check_err(err);
			FUZZ_CHECK(resp.len == 0, "a response after SASL_FAIL");
		}
		/* SCRAM: only an accepted server-final message, the second
		 * challenge or later, proves the server. */
		if (scram && !was && sasl_complete(s))
			FUZZ_CHECK(st == SASL_CONTINUE && resp.len == 0 &&
			    steps + !asked >= 2, "SCRAM complete at step %zu",
			    steps);
		data = rest;
		size = rlen;
		steps++;
	}
	buf_wipe(&resp);
	sasl_free(s);
	return 0;
}
