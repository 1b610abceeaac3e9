/*
 * Unit tests for lib/alias.c and the expansion of lib/resolve.c: the
 * aliases(5) file format (continuations, comments, quoted names, CRLF),
 * errors with their FILE:LINE, inline aliases from sendq.conf and their
 * precedence, and expansion: recursion, self-references, loops, the
 * depth and size limits, undeliverable targets and deduplication.  Each
 * test writes its aliases file and its configuration to mkstemp(3) files
 * and removes them.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "conf.h"
#include "resolve.h"
#include "suites.h"

static const char nodeliver[] =
    "cannot be delivered by sendq (it relays everything to the smarthost)";

struct fx {
	char		*conf_path;
	char		*alias_path;	/* NULL: aliases_file = "" */
	struct conf	*conf;
	struct alias_db	*db;
	char		 err[2048];
};

static char *
tmp_write(const char *text, size_t len)
{
	const char	*tmp = getenv("TMPDIR");
	struct buf	 b;
	char		*path;
	int		 fd;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	buf_init(&b, 0);
	ck_assert_int_eq(buf_printf(&b, "%s/check_alias.XXXXXX", tmp), 0);
	path = buf_detach(&b);
	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/*
 * Writes the aliases file (unless aliases is NULL: then aliases_file is
 * "") and a configuration holding extra, loads both.  Returns the
 * alias_load() result; f->err holds the error.
 */
static struct alias_db *
fx_load_n(struct fx *f, const char *extra, const char *aliases, size_t alen)
{
	struct buf	 c;
	char		 err[1024];

	memset(f, 0, sizeof *f);
	if (aliases != NULL)
		f->alias_path = tmp_write(aliases, alen);
	buf_init(&c, 0);
	ck_assert_int_eq(buf_printf(&c, "queue_dir = \"/tmp/x\"\n"
	    "domain = \"example.com\"\naliases_file = \"%s\"\n%s",
	    f->alias_path != NULL ? f->alias_path : "",
	    extra != NULL ? extra : ""), 0);
	f->conf_path = tmp_write(c.data, c.len);
	buf_free(&c);
	ck_assert_msg(conf_load(f->conf_path, &f->conf, err, sizeof err) == 0,
	    "conf_load: %s", err);
	f->db = alias_load(f->conf, f->err, sizeof f->err);
	return f->db;
}

static struct alias_db *
fx_load(struct fx *f, const char *extra, const char *aliases)
{
	return fx_load_n(f, extra, aliases, aliases ? strlen(aliases) : 0);
}

static struct alias_db *
fx_ok(struct fx *f, const char *extra, const char *aliases)
{
	struct alias_db *db = fx_load(f, extra, aliases);

	ck_assert_msg(db != NULL, "alias_load: %s", f->err);
	return db;
}

static void
fx_free(struct fx *f)
{
	alias_free(f->db);
	conf_free(f->conf);
	if (f->alias_path != NULL)
		unlink(f->alias_path);
	unlink(f->conf_path);
	free(f->alias_path);
	free(f->conf_path);
}

/* The load must fail with exactly "ALIASFILE:LINE: rest". */
static void
expect_load_error(const char *aliases, unsigned line, const char *rest)
{
	struct fx	 f;
	char		 want[2048];

	ck_assert_ptr_null(fx_load(&f, NULL, aliases));
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:%u: %s",
	    f.alias_path, line, rest), (int)sizeof want);
	ck_assert_str_eq(f.err, want);
	fx_free(&f);
}

/* The expansion of rcpt, addresses joined by ' ', or "ERR: message". */
static char *
expand(const struct alias_db *db, const char *rcpt)
{
	struct addr_list	 l;
	struct buf		 b;
	char			 err[2048];
	size_t			 i;

	addr_list_init(&l);
	buf_init(&b, 0);
	if (resolve_expand(db, rcpt, &l, err, sizeof err) == -1) {
		ck_assert_uint_eq(l.n, 0);
		ck_assert_int_eq(buf_printf(&b, "ERR: %s", err), 0);
	} else
		for (i = 0; i < l.n; i++)
			ck_assert_int_eq(buf_printf(&b, "%s%s", i ? " " : "",
			    l.v[i]), 0);
	addr_list_free(&l);
	ck_assert_int_eq(buf_addch(&b, '\0'), 0);
	return buf_detach(&b);
}

static void
expect_expand(const struct alias_db *db, const char *rcpt,
    const char *want)
{
	char	*got = expand(db, rcpt);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"",
	    rcpt, got, want);
	free(got);
}

START_TEST(simple)
{
	struct fx	 f;

	fx_ok(&f, NULL, "root: ops@example.com\n");
	ck_assert_uint_eq(alias_count(f.db), 1);
	ck_assert_uint_eq(alias_warnings(f.db), 0);
	ck_assert_uint_eq(alias_unsupported(f.db, NULL, 0), 0);
	expect_expand(f.db, "root", "ops@example.com");
	expect_expand(f.db, "nobody", "nobody");
	fx_free(&f);
}
END_TEST

START_TEST(multiple_targets)
{
	struct fx	 f;

	fx_ok(&f, NULL, "staff: a@x.test, b@y.test,c@z.test ,, d@w.test\n"
	    "team: Ops Team <ops@x.test>, \"Doe, John\" <jd@x.test>, "
	    "Friends: e@x.test, f@x.test;, g@x.test (a comment, really)\n");
	expect_expand(f.db, "staff", "a@x.test b@y.test c@z.test d@w.test");
	expect_expand(f.db, "team",
	    "ops@x.test jd@x.test e@x.test f@x.test g@x.test");
	fx_free(&f);
}
END_TEST

START_TEST(continuation_lines)
{
	struct fx	 f;

	fx_ok(&f, NULL, "list: a@x.test,\n"
	    "  b@x.test,\n"
	    "\n"
	    "# a comment inside the entry\n"
	    "\tc@x.test\n"
	    "other:\n"
	    "   d@x.test\n");
	ck_assert_uint_eq(alias_count(f.db), 2);
	expect_expand(f.db, "list", "a@x.test b@x.test c@x.test");
	expect_expand(f.db, "other", "d@x.test");
	fx_free(&f);
}
END_TEST

START_TEST(comments_and_crlf)
{
	struct fx	 f;

	fx_ok(&f, NULL, "# /etc/aliases\r\n"
	    "\r\n"
	    "   # an indented comment\r\n"
	    "#notanalias: x@y.test\r\n"
	    "postmaster: root\r\n"
	    "root: ops@example.com,\r\n"
	    "\toncall@example.com\r\n");
	ck_assert_uint_eq(alias_count(f.db), 2);
	expect_expand(f.db, "postmaster", "ops@example.com oncall@example.com");
	expect_expand(f.db, "#notanalias", "#notanalias");
	fx_free(&f);
}
END_TEST

START_TEST(quoted_names)
{
	struct fx	 f;

	fx_ok(&f, NULL, "\"name with space\": x@y.test\n"
	    "\"colon:name\" : z@y.test\n"
	    "\"root\": r@y.test\n"
	    "via: \"name with space\"\n");
	ck_assert_uint_eq(alias_count(f.db), 4);
	expect_expand(f.db, "\"name with space\"", "x@y.test");
	expect_expand(f.db, "\"Name With Space\"", "x@y.test");
	expect_expand(f.db, "\"colon:name\"", "z@y.test");
	expect_expand(f.db, "root", "r@y.test");
	expect_expand(f.db, "\"root\"", "r@y.test");
	expect_expand(f.db, "via", "x@y.test");
	fx_free(&f);
}
END_TEST

START_TEST(case_insensitive)
{
	struct fx	 f;

	fx_ok(&f, NULL, "Root: ops@example.com\nwebmaster: ROOT\n");
	expect_expand(f.db, "root", "ops@example.com");
	expect_expand(f.db, "ROOT", "ops@example.com");
	expect_expand(f.db, "rOoT", "ops@example.com");
	expect_expand(f.db, "WebMaster", "ops@example.com");
	fx_free(&f);
}
END_TEST

START_TEST(recursion)
{
	struct fx	 f;

	fx_ok(&f, NULL, "a: b\nb: c@x.test\n"
	    "top: a, mid, plain\nmid: m1@x.test, b\n");
	expect_expand(f.db, "a", "c@x.test");
	/* plain is no alias: final, unqualified (the caller qualifies). */
	expect_expand(f.db, "top", "c@x.test m1@x.test plain");
	fx_free(&f);
}
END_TEST

START_TEST(self_reference)
{
	struct fx	 f;

	fx_ok(&f, NULL, "root: root, ops@example.com\n"
	    "alice: \\alice, alice@elsewhere.test\n"
	    "bob: \\ROOT\n"
	    "admins: root, alice\n");
	expect_expand(f.db, "root", "root ops@example.com");
	expect_expand(f.db, "ROOT", "root ops@example.com");
	expect_expand(f.db, "alice", "alice alice@elsewhere.test");
	/* "\name" is never looked up again, even when it is an alias. */
	expect_expand(f.db, "bob", "ROOT");
	expect_expand(f.db, "admins",
	    "root ops@example.com alice alice@elsewhere.test");
	fx_free(&f);
}
END_TEST

START_TEST(loops)
{
	struct fx		 f;
	struct addr_list	 l;
	char			 err[256];

	fx_ok(&f, NULL, "a: b\nb: x@y.test, c\nc: a\nd: d2\nd2: D\n");
	expect_expand(f.db, "a", "ERR: alias loop: a -> b -> c -> a");
	expect_expand(f.db, "B", "ERR: alias loop: b -> c -> a -> b");
	expect_expand(f.db, "d", "ERR: alias loop: d -> d2 -> d");

	/* On error the list is left as it was. */
	addr_list_init(&l);
	ck_assert_int_eq(addr_list_add(&l, "keep@y.test"), 0);
	ck_assert_int_eq(resolve_expand(f.db, "a", &l, err, sizeof err), -1);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], "keep@y.test");
	addr_list_free(&l);
	fx_free(&f);
}
END_TEST

/* a1: a2, a2: a3, ..., a<n>: end@x.test */
static char *
chain_file(unsigned n)
{
	struct buf	 b;
	unsigned	 i;

	buf_init(&b, 0);
	for (i = 1; i < n; i++)
		ck_assert_int_eq(buf_printf(&b, "a%u: a%u\n", i, i + 1), 0);
	ck_assert_int_eq(buf_printf(&b, "a%u: end@x.test\n", n), 0);
	return buf_detach(&b);
}

START_TEST(depth_limit)
{
	struct fx	 f;
	char		*text, *got;

	text = chain_file(20);
	fx_ok(&f, NULL, text);
	expect_expand(f.db, "a1", "end@x.test");
	fx_free(&f);
	free(text);

	text = chain_file(21);
	fx_ok(&f, NULL, text);
	expect_expand(f.db, "a2", "end@x.test");
	got = expand(f.db, "a1");
	ck_assert_str_eq(got, "ERR: alias expansion deeper than 20 levels: "
	    "a1 -> a2 -> a3 -> a4 -> a5 -> a6 -> a7 -> a8 -> a9 -> a10 -> "
	    "a11 -> a12 -> a13 -> a14 -> a15 -> a16 -> a17 -> a18 -> a19 -> "
	    "a20 -> a21");
	free(got);
	fx_free(&f);
	free(text);
}
END_TEST

/* A shared sub-alias met first near the top and again deep down: the
 * second time it is too deep, and that is still seen. */
START_TEST(depth_limit_shared)
{
	struct fx	 f;
	struct buf	 b;
	const char	*prefix = "ERR: alias expansion deeper than 20 "
	    "levels: top -> x1 -> x2 -> ";
	unsigned	 i;
	char		*got;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_printf(&b, "top: b, x1\nb: c\nc: end@x.test\n"),
	    0);
	for (i = 1; i < 18; i++)
		ck_assert_int_eq(buf_printf(&b, "x%u: x%u\n", i, i + 1), 0);
	ck_assert_int_eq(buf_printf(&b, "x18: b\nok: b, x2\n"), 0);
	fx_ok(&f, NULL, b.data);
	buf_free(&b);
	/* ok -> x2 ... x18 -> b -> c: 20 levels. */
	expect_expand(f.db, "ok", "end@x.test");
	got = expand(f.db, "top");
	ck_assert_msg(strncmp(got, prefix, strlen(prefix)) == 0, "%s", got);
	ck_assert_msg(strstr(got, " -> x18 -> b -> c") != NULL, "%s", got);
	free(got);
	fx_free(&f);
}
END_TEST

/* l0 .. l19 where each level names both aliases of the next: 2^19
 * paths to the bottom, which a naive expansion would walk. */
START_TEST(shared_sublists_fast)
{
	struct fx	 f;
	struct buf	 b;
	unsigned	 i;
	time_t		 t0;

	buf_init(&b, 0);
	for (i = 0; i < 19; i++)
		ck_assert_int_eq(buf_printf(&b, "l%u: l%u, m%u\nm%u: l%u, "
		    "m%u, m%u@x.test\n", i, i + 1, i + 1, i, i + 1, i + 1, i),
		    0);
	ck_assert_int_eq(buf_printf(&b, "l19: bottom@x.test\n"
	    "m19: bottom@x.test\n"), 0);
	fx_ok(&f, NULL, b.data);
	buf_free(&b);
	t0 = time(NULL);
	expect_expand(f.db, "l0", "bottom@x.test m18@x.test m17@x.test "
	    "m16@x.test m15@x.test m14@x.test m13@x.test m12@x.test "
	    "m11@x.test m10@x.test m9@x.test m8@x.test m7@x.test m6@x.test "
	    "m5@x.test m4@x.test m3@x.test m2@x.test m1@x.test");
	ck_assert_int_le(time(NULL) - t0, 2);
	fx_free(&f);
}
END_TEST

START_TEST(result_limit)
{
	struct fx	 f;
	struct buf	 b;
	unsigned	 i;
	char		*got;

	buf_init(&b, 0);
	ck_assert_int_eq(buf_addstr(&b, "big: u1@x.test"), 0);
	for (i = 2; i <= 1000; i++)
		ck_assert_int_eq(buf_printf(&b, ",\n u%u@x.test", i), 0);
	ck_assert_int_eq(buf_addstr(&b, "\nbigger: big, one-more@x.test\n"
	    "same: big, u1@x.test\n"), 0);
	fx_ok(&f, NULL, b.data);
	buf_free(&b);
	got = expand(f.db, "big");
	ck_assert(strncmp(got, "u1@x.test u2@x.test", 19) == 0);
	free(got);
	/* Duplicates do not count. */
	got = expand(f.db, "same");
	ck_assert(strncmp(got, "ERR", 3) != 0);
	free(got);
	expect_expand(f.db, "bigger",
	    "ERR: alias bigger expands to more than 1000 addresses");
	fx_free(&f);
}
END_TEST

START_TEST(inline_precedence)
{
	struct fx	 f;
	char		 want[1024];

	fx_ok(&f, "alias root { to = { \"inline@example.com\", \"admin\" } }\n"
	    "alias admin { to = { \"a@example.com, b@example.com\" } }\n",
	    "root: file@example.com\n"
	    "postmaster: root\n");
	ck_assert_uint_eq(alias_count(f.db), 3);
	expect_expand(f.db, "root",
	    "inline@example.com a@example.com b@example.com");
	expect_expand(f.db, "postmaster",
	    "inline@example.com a@example.com b@example.com");
	ck_assert_uint_eq(alias_warnings(f.db), 1);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:1: alias root is "
	    "hidden by the inline alias in %s", f.alias_path, f.conf_path),
	    (int)sizeof want);
	ck_assert_str_eq(alias_warning(f.db, 0), want);
	ck_assert_ptr_null(alias_warning(f.db, 1));
	fx_free(&f);
}
END_TEST

START_TEST(inline_only)
{
	struct fx	 f;
	char		 want[1024], first[1024];

	fx_ok(&f, "alias root { to = { \"ops@example.com\" } }\n"
	    "alias prog { to = { \"|/bin/cat\" } }\n", NULL);
	ck_assert_uint_eq(alias_count(f.db), 2);
	expect_expand(f.db, "root", "ops@example.com");
	ck_assert_uint_eq(alias_unsupported(f.db, first, sizeof first), 1);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s: alias prog: "
	    "\"|/bin/cat\" %s", f.conf_path, nodeliver), (int)sizeof want);
	ck_assert_str_eq(first, want);
	fx_free(&f);

	ck_assert_ptr_null(fx_load(&f, "alias bad { to = { \"a b c\" } }\n",
	    NULL));
	ck_assert_int_lt(snprintf(want, sizeof want, "%s: alias bad: ",
	    f.conf_path), (int)sizeof want);
	ck_assert_msg(strncmp(f.err, want, strlen(want)) == 0, "%s", f.err);
	fx_free(&f);
}
END_TEST

START_TEST(missing_file)
{
	struct fx	 f;

	/* The file goes away after the configuration named it. */
	fx_ok(&f, NULL, "x: y@z.test\n");
	ck_assert_uint_eq(alias_count(f.db), 1);
	alias_free(f.db);
	ck_assert_int_eq(unlink(f.alias_path), 0);
	f.db = alias_load(f.conf, f.err, sizeof f.err);
	ck_assert_msg(f.db != NULL, "%s", f.err);
	ck_assert_uint_eq(alias_count(f.db), 0);
	ck_assert_uint_eq(alias_warnings(f.db), 0);
	expect_expand(f.db, "x", "x");
	fx_free(&f);

	/* aliases_file = "": no file at all. */
	fx_ok(&f, NULL, NULL);
	ck_assert_ptr_null(f.conf->aliases_file);
	ck_assert_uint_eq(alias_count(f.db), 0);
	expect_expand(f.db, "root", "root");
	fx_free(&f);

	/* And a NULL db expands nothing. */
	expect_expand(NULL, "root", "root");
	ck_assert_uint_eq(alias_count(NULL), 0);
}
END_TEST

START_TEST(syntax_errors)
{
	expect_load_error("root: a@x.test\n\nnocolon\n", 3,
	    "missing ':' after the alias name");
	expect_load_error("  b@x.test\nroot: a@x.test\n", 1,
	    "continuation line with no alias before it");
	expect_load_error("# c\nroot:\nother: x@y.test\n", 2,
	    "alias root has no target");
	expect_load_error("list: a@x.test,\n b@x.test,\n\n c@@x.test\n", 4,
	    "alias list: two '@' in \"c@@x.test\"");
	expect_load_error("\"unterminated: a@x.test\n", 1,
	    "unterminated quoted alias name");
	expect_load_error("user name: a@x.test\n", 1,
	    "blank space in an alias name (quote the name)");
	expect_load_error(": a@x.test\n", 1, "empty alias name");
	expect_load_error("x: a@x.test\ny: John Doe jd@x.test\n", 2,
	    "alias y: display name without angle address in "
	    "\"John Doe jd@x.test\"");
	expect_load_error("x: \\a, \\\n", 1,
	    "alias x: \"\\\" is not one address");
}
END_TEST

START_TEST(file_errors)
{
	struct fx	 f;
	struct buf	 b;
	char		 want[1024];
	char		 dir[] = "/tmp/check_alias.d.XXXXXX";
	unsigned	 i;

	/* A NUL byte. */
	ck_assert_ptr_null(fx_load_n(&f, NULL, "a: b@x.test\nc: d\0@x\n", 20));
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:2: NUL byte",
	    f.alias_path), (int)sizeof want);
	ck_assert_str_eq(f.err, want);
	fx_free(&f);

	/* A line over 64 KiB. */
	buf_init(&b, 0);
	ck_assert_int_eq(buf_addstr(&b, "# ok\nlong: a@x.test"), 0);
	while (b.len <= 70000)
		ck_assert_int_eq(buf_addstr(&b, ", a@x.test"), 0);
	ck_assert_int_eq(buf_addch(&b, '\n'), 0);
	expect_load_error(b.data, 2, "line longer than 65536 bytes");
	buf_free(&b);

	/* More than 10000 names. */
	buf_init(&b, 0);
	for (i = 1; i <= 10001; i++)
		ck_assert_int_eq(buf_printf(&b, "n%u: x\n", i), 0);
	expect_load_error(b.data, 10001, "more than 10000 aliases");
	buf_free(&b);

	/* More than 1 MiB. */
	buf_init(&b, 0);
	while (b.len <= 1024 * 1024)
		ck_assert_int_eq(buf_addstr(&b, "# padding padding padding\n"),
		    0);
	ck_assert_ptr_null(fx_load(&f, NULL, b.data));
	ck_assert_int_lt(snprintf(want, sizeof want, "%s: larger than "
	    "1048576 bytes", f.alias_path), (int)sizeof want);
	ck_assert_str_eq(f.err, want);
	fx_free(&f);
	buf_free(&b);

	/* Not a regular file. */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	fx_ok(&f, NULL, NULL);
	free(f.conf->aliases_file);
	ck_assert_ptr_nonnull(f.conf->aliases_file = strdup(dir));
	ck_assert_ptr_null(alias_load(f.conf, f.err, sizeof f.err));
	ck_assert_int_lt(snprintf(want, sizeof want, "%s: not a regular file",
	    dir), (int)sizeof want);
	ck_assert_str_eq(f.err, want);
	fx_free(&f);
	rmdir(dir);
}
END_TEST

START_TEST(unsupported_targets)
{
	struct fx	 f;
	char		 first[1024], want[1024];

	fx_ok(&f, NULL, "ok: a@x.test\n"
	    "prog: \"|/usr/bin/procmail -a x, y\", ops@x.test\n"
	    "save: /var/mail/save\n"
	    "inc: :INCLUDE:/etc/mail/list\n"
	    "bare: |/bin/cat\n"
	    "via: ok, prog\n");
	ck_assert_uint_eq(alias_count(f.db), 6);
	ck_assert_uint_eq(alias_unsupported(f.db, first, sizeof first), 4);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:2: alias prog: "
	    "\"|/usr/bin/procmail -a x, y\" %s", f.alias_path, nodeliver),
	    (int)sizeof want);
	ck_assert_str_eq(first, want);
	ck_assert_uint_eq(alias_unsupported(f.db, NULL, 0), 4);

	expect_expand(f.db, "ok", "a@x.test");
	expect_expand(f.db, "prog", "ERR: alias prog: "
	    "\"|/usr/bin/procmail -a x, y\" cannot be delivered by sendq "
	    "(it relays everything to the smarthost)");
	expect_expand(f.db, "via", "ERR: alias prog: "
	    "\"|/usr/bin/procmail -a x, y\" cannot be delivered by sendq "
	    "(it relays everything to the smarthost)");
	expect_expand(f.db, "save", "ERR: alias save: \"/var/mail/save\" "
	    "cannot be delivered by sendq (it relays everything to the "
	    "smarthost)");
	expect_expand(f.db, "inc", "ERR: alias inc: "
	    "\":INCLUDE:/etc/mail/list\" cannot be delivered by sendq (it "
	    "relays everything to the smarthost)");
	expect_expand(f.db, "bare", "ERR: alias bare: \"|/bin/cat\" cannot "
	    "be delivered by sendq (it relays everything to the smarthost)");
	fx_free(&f);
}
END_TEST

START_TEST(deduplication)
{
	struct fx	 f;

	fx_ok(&f, NULL, "a: x@y.test, b, x@Y.TEST, c\n"
	    "b: x@y.test, z@y.test\n"
	    "c: b, local, local\n");
	expect_expand(f.db, "a", "x@y.test z@y.test local");
	fx_free(&f);
}
END_TEST

START_TEST(domain_not_expanded)
{
	struct fx	 f;

	fx_ok(&f, NULL, "root: ops@example.com, admin@example.com\n"
	    "admin: boss@x.test\n"
	    "\"q@x\": quoted@x.test\n");
	expect_expand(f.db, "root@example.com", "root@example.com");
	expect_expand(f.db, "ROOT@EXAMPLE.COM", "ROOT@EXAMPLE.COM");
	expect_expand(f.db, "root", "ops@example.com admin@example.com");
	/* A quoted local part with '@' inside has no domain. */
	expect_expand(f.db, "\"q@x\"", "quoted@x.test");
	fx_free(&f);
}
END_TEST

START_TEST(duplicates_and_count)
{
	struct fx	 f;
	char		 want[1024];

	fx_ok(&f, "alias Ops { to = { \"inline@x.test\" } }\n",
	    "root: first@x.test\n"
	    "ops: file@x.test\n"
	    "ROOT: second@x.test\n"
	    "other@example.com: never@x.test\n"
	    "other: o@x.test\n");
	/* root, ops, other@example.com, other. */
	ck_assert_uint_eq(alias_count(f.db), 4);
	expect_expand(f.db, "root", "first@x.test");
	expect_expand(f.db, "ops", "inline@x.test");
	ck_assert_uint_eq(alias_warnings(f.db), 3);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:2: alias ops is "
	    "hidden by the inline alias in %s", f.alias_path, f.conf_path),
	    (int)sizeof want);
	ck_assert_str_eq(alias_warning(f.db, 0), want);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:3: duplicate alias "
	    "ROOT ignored (first defined at line 1)", f.alias_path),
	    (int)sizeof want);
	ck_assert_str_eq(alias_warning(f.db, 1), want);
	ck_assert_int_lt(snprintf(want, sizeof want, "%s:4: alias "
	    "other@example.com has a domain and is never used (only local "
	    "names are looked up)", f.alias_path), (int)sizeof want);
	ck_assert_str_eq(alias_warning(f.db, 2), want);
	ck_assert_ptr_null(alias_warning(f.db, 3));
	fx_free(&f);

	fx_ok(&f, NULL, "");
	ck_assert_uint_eq(alias_count(f.db), 0);
	fx_free(&f);
}
END_TEST

Suite *
alias_suite(void)
{
	Suite	*s = suite_create("alias");
	TCase	*tc;

	tc = tcase_create("format");
	tcase_add_test(tc, simple);
	tcase_add_test(tc, multiple_targets);
	tcase_add_test(tc, continuation_lines);
	tcase_add_test(tc, comments_and_crlf);
	tcase_add_test(tc, quoted_names);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, duplicates_and_count);
	suite_add_tcase(s, tc);

	tc = tcase_create("expand");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, case_insensitive);
	tcase_add_test(tc, recursion);
	tcase_add_test(tc, self_reference);
	tcase_add_test(tc, loops);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, depth_limit_shared);
	tcase_add_test(tc, shared_sublists_fast);
	tcase_add_test(tc, result_limit);
	tcase_add_test(tc, inline_precedence);
	tcase_add_test(tc, inline_only);
	tcase_add_test(tc, unsupported_targets);
	tcase_add_test(tc, deduplication);
	tcase_add_test(tc, domain_not_expanded);
	suite_add_tcase(s, tc);

	return s;
}
