/*
 * Fuzzing: the SMTP reply line parser, smtp_reply_line() and
 * smtp_reply_enh(), one input line at a time (lines split at LF).
 *
 * Properties: a line is accepted only with a code 200..599 and its text
 * offset inside the line; an enhanced code found is "C.S.D" of the
 * reply's class, at most 15 octets, and spans no more than the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtp.h"

static void
one_line(const char *line, size_t len)
{
	char	 enh[16];
	int	 code;
	bool	 more;
	size_t	 off, n, i, dots = 0;

	if (smtp_reply_line(line, len, &code, &more, &off) == -1)
		return;
	FUZZ_CHECK(code >= 200 && code <= 599, "code %d", code);
	FUZZ_CHECK(off <= len, "text offset %zu past %zu", off, len);
	FUZZ_CHECK(!more || len > 3, "continuation without a hyphen");
	memset(enh, 'x', sizeof enh);
	n = smtp_reply_enh(line + off, len - off, code, enh);
	FUZZ_CHECK(n <= len - off, "enhanced code spans %zu of %zu", n,
	    len - off);
	FUZZ_CHECK(memchr(enh, '\0', sizeof enh) != NULL, "enh unterminated");
	if (n == 0) {
		FUZZ_CHECK(enh[0] == '\0', "enh set without a match");
		return;
	}
	FUZZ_CHECK(enh[0] - '0' == code / 100, "class %c for %d", enh[0],
	    code);
	for (i = 0; enh[i] != '\0'; i++) {
		FUZZ_CHECK(enh[i] == '.' || (enh[i] >= '0' && enh[i] <= '9'),
		    "enh holds %#x", (unsigned char)enh[i]);
		dots += enh[i] == '.';
	}
	FUZZ_CHECK(dots == 2, "enh %s", enh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*line, *rest;
	size_t		 llen, rlen;
	char		*copy;

	while (size > 0) {
		fuzz_split(data, size, '\n', &line, &llen, &rest, &rlen);
		/* A copy of exactly llen bytes: ASan sees any overread. */
		copy = fuzz_memdup(line, llen);
		one_line(copy, llen);
		free(copy);
		data = rest;
		size = rlen;
	}
	return 0;
}
