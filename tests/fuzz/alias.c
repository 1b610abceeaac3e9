/*
 * Fuzzing: the aliases file reader (lib/alias.c) and alias expansion
 * (lib/resolve.c).
 *
 * The input is the file (given to alias_load() as an anonymous file);
 * an inline alias "inline" is defined besides.  Every name that the
 * file's lines seem to define is then expanded, and so are a few fixed
 * ones.
 *
 * Properties: messages and warnings are printable lines; an expansion
 * yields at most RESOLVE_ALIAS_MAX new, non-empty addresses, and leaves
 * the list as it was when it fails; expanding twice gives the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alias.h"
#include "conf.h"
#include "resolve.h"
#include "fuzz.h"

#define NAMES_MAX	16

static char	*inline_to[] = { "root", "x@example.com" };
static struct conf_alias inline_alias = { "inline", inline_to, 2 };

/* One line, safe on a terminal: no control character. */
static void
printable(const char *what, const char *s)
{
	FUZZ_CHECK(s != NULL, "%s: NULL", what);
	for (; *s != '\0'; s++)
		FUZZ_CHECK(!fuzz_has_control(s, 1),
		    "%s holds the control character %#x", what,
		    (unsigned char)*s);
}

static void
expand(const struct alias_db *db, const char *name)
{
	struct addr_list l, l2;
	char		 err[1024];
	size_t		 i;
	int		 r;

	addr_list_init(&l);
	FUZZ_CHECK(addr_list_add(&l, "already@example.com") == 0, "add");
	r = resolve_expand(db, name, &l, err, sizeof err);
	if (r == -1) {
		FUZZ_CHECK(l.n == 1, "a failed expansion left %zu", l.n);
		printable("expansion error", err);
	} else {
		FUZZ_CHECK(l.n >= 1 && l.n - 1 <= RESOLVE_ALIAS_MAX,
		    "%zu addresses", l.n - 1);
		for (i = 0; i < l.n; i++)
			FUZZ_CHECK(l.v[i][0] != '\0', "empty address");
		addr_list_init(&l2);
		FUZZ_CHECK(addr_list_add(&l2, "already@example.com") == 0,
		    "add");
		FUZZ_CHECK(resolve_expand(db, name, &l2, err, sizeof err) == 0 &&
		    l2.n == l.n, "a second expansion differs");
		for (i = 0; i < l.n; i++)
			FUZZ_CHECK(strcmp(l.v[i], l2.v[i]) == 0,
			    "a second expansion differs");
		addr_list_free(&l2);
	}
	addr_list_free(&l);
}

/* The names at the start of the input's lines, roughly. */
static size_t
names_of(const uint8_t *data, size_t size, char *names[NAMES_MAX])
{
	const uint8_t	*p = data, *end = data + size, *nl, *c;
	size_t		 n = 0;

	for (; p < end && n < NAMES_MAX; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (p == nl || *p == ' ' || *p == '\t' || *p == '#')
			continue;
		if ((c = memchr(p, ':', (size_t)(nl - p))) == NULL || c == p)
			continue;
		if (*p == '"' && c - p >= 2 && c[-1] == '"')
			names[n++] = fuzz_strndup(p + 1, (size_t)(c - p - 2));
		else
			names[n++] = fuzz_strndup(p, (size_t)(c - p));
	}
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = { "root", "postmaster", "inline",
	    "\"root\"", "a", "x@example.com" };
	struct conf	 c;
	struct alias_db	*db;
	char		 err[1024], first[1024], *names[NAMES_MAX];
	size_t		 i, n;

	memset(&c, 0, sizeof c);
	c.path = "fuzz.conf";
	c.aliases = &inline_alias;
	c.naliases = 1;
	c.aliases_file = (char *)fuzz_file(0, data, size);
	if ((db = alias_load(&c, err, sizeof err)) == NULL) {
		printable("load error", err);
		return 0;
	}
	for (i = 0; i < alias_warnings(db); i++)
		if (alias_warning(db, i) != NULL)
			printable("warning", alias_warning(db, i));
	if (alias_unsupported(db, first, sizeof first) > 0)
		printable("unsupported", first);
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		expand(db, fixed[i]);
	n = names_of(data, size, names);
	for (i = 0; i < n; i++) {
		expand(db, names[i]);
		free(names[i]);
	}
	alias_free(db);
	fuzz_log_trim();
	return 0;
}
