/*
 * Fuzzing: the RFC 5322 address-list parser (lib/addr.c), as it meets
 * To:/Cc:/Bcc: bodies with -t and addresses on the command line.
 *
 * Properties: an accepted list holds at most ADDR_LIST_MAX non-empty
 * addresses of at most 998 octets, without NUL; addr_rewrite_text()
 * accepts exactly what addr_parse_list() accepts, and what it writes
 * when qualifying parses again, to addresses that all have a domain.
 * addr_parse_one() agrees with addr_parse_list() on the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "fuzz.h"

#define DOMAIN	"example.org"

static void
check_list(const struct addr_list *l, size_t *longest)
{
	size_t	 i, n;

	FUZZ_CHECK(l->n <= ADDR_LIST_MAX, "%zu addresses", l->n);
	*longest = 0;
	for (i = 0; i < l->n; i++) {
		n = strlen(l->v[i]);
		FUZZ_CHECK(n > 0 && n <= 998, "address of %zu octets", n);
		if (n > *longest)
			*longest = n;
	}
}

static void
check_rewrite(const char *s, size_t len, bool parsed, size_t naddr,
    size_t longest)
{
	struct buf	 out;
	struct addr_list l;
	char		 err[512];
	size_t		 i;
	int		 r;

	buf_init(&out, 0);
	r = addr_rewrite_text(s, len, DOMAIN, &out, err, sizeof err);
	FUZZ_CHECK((r == 0) == parsed, "qualify %d, parse %d", r, parsed);
	/* Qualifying may push a long address over the limit: skip those. */
	if (r == 0 && longest + sizeof DOMAIN <= 998) {
		addr_list_init(&l);
		FUZZ_CHECK(addr_parse_list(out.data, out.len, &l, err,
		    sizeof err) == 0, "qualified text does not parse: %s",
		    err);
		FUZZ_CHECK(l.n <= naddr && (l.n > 0) == (naddr > 0),
		    "%zu addresses became %zu", naddr, l.n);
		for (i = 0; i < l.n; i++)
			FUZZ_CHECK(addr_domain(l.v[i]) != NULL,
			    "%s was not qualified", l.v[i]);
		addr_list_free(&l);
	}
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l;
	char		 err[512], *s, *one, *q;
	size_t		 longest = 0, i;
	bool		 parsed;

	s = fuzz_memdup(data, size);
	addr_list_init(&l);
	parsed = addr_parse_list(s, size, &l, err, sizeof err) == 0;
	if (parsed)
		check_list(&l, &longest);
	else
		FUZZ_CHECK(l.n == 0, "a failed parse added %zu", l.n);
	check_rewrite(s, size, parsed, l.n, longest);
	for (i = 0; i < l.n; i++) {
		q = addr_qualify(l.v[i], DOMAIN);
		FUZZ_CHECK(q != NULL && addr_domain(q) != NULL,
		    "addr_qualify(%s)", l.v[i]);
		free(q);
	}
	free(s);

	/* The command-line form reads a C string. */
	s = fuzz_strndup(data, size);
	one = addr_parse_one(s, err, sizeof err);
	if (one != NULL && memchr(data, '\0', size) == NULL)
		FUZZ_CHECK(parsed && l.n == 1 && strcmp(one, l.v[0]) == 0,
		    "addr_parse_one gave %s", one);
	free(one);
	free(s);
	addr_list_free(&l);
	return 0;
}
