/*
 * alias: loading and expanding local aliases.  See alias.h for the file
 * format and the rules.
 *
 * Loading reads the whole file (at most ALIAS_FILE_MAX bytes) into
 * memory, cuts it into logical entries (a name line and its continuation
 * lines), splits each value into list elements at the commas that lie
 * outside quotes, comments, angle brackets and groups, and classifies
 * each element: an undeliverable form, a "\name", or an address list
 * element handed to addr_parse_list().  The entries, inline ones first,
 * are then sorted by name (ASCII case folded) and by order of definition,
 * and every definition but the first of a name is dropped with a warning.
 * Lookups are a binary search; an entry's index is its place in the
 * sorted array.
 *
 * Invariants: after alias_load() the entries are sorted, their names are
 * distinct without regard to case, and every entry has at least one
 * target; the db is never written again.
 *
 * Security: the aliases file is configuration chosen by root, but it is
 * still read with caps on its size, its line length and its number of
 * names; it must be a regular file (a FIFO cannot stall the setgid
 * program), and NUL bytes are refused.  Messages quote at most 200 bytes
 * of the file.  Nothing here runs a command or opens a file named by an
 * alias: those targets only ever produce an error.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "alias.h"
#include "buf.h"
#include "util.h"

#define ALIAS_QUOTE_MAX	200	/* bytes of outside text quoted in messages */

static const char alias_nodeliver[] =
    "cannot be delivered by sendq (it relays everything to the smarthost)";

struct alias_entry {
	char		*name;	/* as defined, quotes removed */
	struct alias_target *t;
	size_t		 nt;	/* >= 1 once loaded */
	const char	*origin;	/* the db's conf_path or file_path */
	unsigned	 line;	/* 0: an inline alias */
	size_t		 seq;	/* order of definition, inline first */
};

struct alias_db {
	struct alias_entry *e;
	size_t		 n, cap;
	char		*conf_path;
	char		*file_path;
	char	       **warn;	/* the first ALIAS_WARNINGS_KEPT */
	size_t		 nwarn_kept;
	size_t		 nwarn;	/* all of them */
};

struct alias_pending {
	size_t		 seq;	/* of the definition the warning is about */
	size_t		 order;	/* tie-break: order of discovery */
	char		*text;
};

struct alias_loader {
	struct alias_db	*db;
	char		*err;
	size_t		 errlen;
	struct alias_pending *warn;
	size_t		 nwarn, capwarn;
};

/* ------------------------------------------------------------------ */
/* Small helpers */

static int
alias_fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII case-insensitive comparison, independent of the locale. */
static int
alias_casecmp(const char *a, const char *b)
{
	int	 ca, cb;

	for (;; a++, b++) {
		ca = alias_fold((unsigned char)*a);
		cb = alias_fold((unsigned char)*b);
		if (ca != cb || ca == '\0')
			return ca - cb;
	}
}

static bool
alias_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
alias_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
alias_oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * Text of the file quoted in a message: at most ALIAS_QUOTE_MAX bytes,
 * control characters escaped, so that the message stays one line and
 * safe on a terminal (a value may span continuation lines).  Returns
 * dst.
 */
static const char *
alias_quote(char *dst, size_t dstlen, const char *s, size_t len)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (util_escape(&b, s, len > ALIAS_QUOTE_MAX ? ALIAS_QUOTE_MAX : len,
	    NULL) == -1)
		buf_reset(&b);
	snprintf(dst, dstlen, "%s", buf_str(&b));
	buf_free(&b);
	return dst;
}

/*
 * Unquotes the quoted string s[0..len) (which starts with '"') into out.
 * Returns the number of bytes of s it used (through the closing quote),
 * 0 when the quote is not closed, -1 on ENOMEM.
 */
static ssize_t
alias_unquote(const char *s, size_t len, struct buf *out)
{
	size_t	 i;

	buf_reset(out);
	for (i = 1; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			return (ssize_t)(i + 1);
		if (buf_addch(out, s[i]) == -1)
			return -1;
	}
	return 0;
}

/* "FILE:LINE" or "FILE" (an inline alias) for messages. */
static const char *
alias_where(const struct alias_entry *e, unsigned line, char *dst,
    size_t len)
{
	if (line == 0 || snprintf(dst, len, "%s:%u", e->origin, line) < 0)
		snprintf(dst, len, "%s", e->origin);
	return dst;
}

/* ------------------------------------------------------------------ */
/* The db */

static void
alias_entry_free(struct alias_entry *e)
{
	size_t	 i;

	for (i = 0; i < e->nt; i++)
		free(e->t[i].text);
	free(e->t);
	free(e->name);
	e->t = NULL;
	e->nt = 0;
	e->name = NULL;
}

void
alias_free(struct alias_db *db)
{
	size_t	 i;

	if (db == NULL)
		return;
	for (i = 0; i < db->n; i++)
		alias_entry_free(&db->e[i]);
	free(db->e);
	for (i = 0; i < db->nwarn_kept; i++)
		free(db->warn[i]);
	free(db->warn);
	free(db->conf_path);
	free(db->file_path);
	free(db);
}

size_t
alias_count(const struct alias_db *db)
{
	return db != NULL ? db->n : 0;
}

size_t
alias_warnings(const struct alias_db *db)
{
	return db != NULL ? db->nwarn : 0;
}

const char *
alias_warning(const struct alias_db *db, size_t i)
{
	if (db == NULL || i >= db->nwarn_kept)
		return NULL;
	return db->warn[i];
}

static const struct alias_entry *
alias_lookup(const struct alias_db *db, const char *name)
{
	size_t	 lo = 0, hi = db->n, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = alias_casecmp(name, db->e[mid].name);
		if (c == 0)
			return &db->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int
alias_find(const struct alias_db *db, const char *rcpt, size_t *index)
{
	const struct alias_entry	*e = NULL;
	struct buf			 key;
	size_t				 len = strlen(rcpt);
	ssize_t				 q = 0;

	if (db == NULL || db->n == 0 || addr_domain(rcpt) != NULL)
		return 0;
	/* A local part that is one quoted string: its text. */
	buf_init(&key, 0);
	if (rcpt[0] == '"' && (q = alias_unquote(rcpt, len, &key)) == -1) {
		buf_free(&key);
		return -1;
	}
	e = alias_lookup(db, (size_t)q == len ? buf_str(&key) : rcpt);
	buf_free(&key);
	if (e == NULL)
		return 0;
	*index = (size_t)(e - db->e);
	return 1;
}

const char *
alias_name(const struct alias_db *db, size_t index)
{
	return db->e[index].name;
}

const struct alias_target *
alias_targets(const struct alias_db *db, size_t index, size_t *n)
{
	*n = db->e[index].nt;
	return db->e[index].t;
}

bool
alias_deliverable(const struct alias_target *t)
{
	return t->kind == ALIAS_ADDR || t->kind == ALIAS_FINAL;
}

void
alias_refusal(const char *name, const struct alias_target *t, char *dst,
    size_t len)
{
	char	 quoted[4 * ALIAS_QUOTE_MAX + 1];

	snprintf(dst, len, "alias %s: \"%s\" %s", name, alias_quote(quoted,
	    sizeof quoted, t->text, strlen(t->text)), alias_nodeliver);
}

size_t
alias_unsupported(const struct alias_db *db, char *first, size_t len)
{
	const struct alias_entry	*fe = NULL;
	const struct alias_target	*ft = NULL;
	size_t				 i, j, n = 0;
	char				 where[512], why[1024];

	if (first != NULL && len > 0)
		first[0] = '\0';
	if (db == NULL)
		return 0;
	for (i = 0; i < db->n; i++)
		for (j = 0; j < db->e[i].nt; j++) {
			if (alias_deliverable(&db->e[i].t[j]))
				continue;
			n++;
			if (fe == NULL || db->e[i].seq < fe->seq) {
				fe = &db->e[i];
				ft = &db->e[i].t[j];
			}
		}
	if (fe != NULL && first != NULL && len > 0) {
		alias_refusal(fe->name, ft, why, sizeof why);
		snprintf(first, len, "%s: %s", alias_where(fe, fe->line, where,
		    sizeof where), why);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Loading */

static int
alias_fail(struct alias_loader *ld, const struct alias_entry *e,
    unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "WHERE: message" into ld->err; returns -1. */
static int
alias_fail(struct alias_loader *ld, const struct alias_entry *e,
    unsigned line, const char *fmt, ...)
{
	char	 where[512], msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	snprintf(ld->err, ld->errlen, "%s: %s",
	    alias_where(e, line, where, sizeof where), msg);
	return -1;
}

static int
alias_warn(struct alias_loader *ld, const struct alias_entry *e,
    unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records a warning about e; -1 on ENOMEM. */
static int
alias_warn(struct alias_loader *ld, const struct alias_entry *e,
    unsigned line, const char *fmt, ...)
{
	struct alias_pending	*w;
	struct buf		 b;
	char			 where[512];
	va_list			 ap;
	int			 r;

	if (ld->nwarn == ld->capwarn) {
		size_t ncap = ld->capwarn ? ld->capwarn * 2 : 8;

		if ((w = reallocarray(ld->warn, ncap, sizeof *w)) == NULL)
			return alias_oom(ld->err, ld->errlen);
		ld->warn = w;
		ld->capwarn = ncap;
	}
	buf_init(&b, 0);
	r = buf_printf(&b, "%s: ", alias_where(e, line, where, sizeof where));
	if (r == 0) {
		va_start(ap, fmt);
		r = buf_vprintf(&b, fmt, ap);
		va_end(ap);
	}
	if (r == -1) {
		buf_free(&b);
		return alias_oom(ld->err, ld->errlen);
	}
	w = &ld->warn[ld->nwarn];
	w->seq = e->seq;
	w->order = ld->nwarn;
	w->text = buf_detach(&b);
	ld->nwarn++;
	return 0;
}

static int
alias_add_target(struct alias_entry *e, enum alias_kind kind,
    const char *text, size_t len)
{
	struct alias_target	*t;

	if ((t = reallocarray(e->t, e->nt + 1, sizeof *t)) == NULL)
		return -1;
	e->t = t;
	t[e->nt].kind = kind;
	if ((t[e->nt].text = strndup(text, len)) == NULL)
		return -1;
	e->nt++;
	return 0;
}

/* Whether the element at s starts with one of the undeliverable forms. */
static bool
alias_special(const char *s, size_t len)
{
	if (len > 0 && s[0] == '"') {
		s++;
		len--;
	}
	return len > 0 && (s[0] == '|' || s[0] == '/' ||
	    (len >= 9 && util_strieq_n(s, 9, ":include:")));
}

/* Where alias_split stands inside an element. */
struct alias_scan {
	size_t	 depth;		/* of nested comments */
	bool	 quote, angle, group, lit;
};

/*
 * v[*i] inside a quoted string, or the double quote that opens one:
 * a backslash's character is stepped over.  Returns false when v[*i]
 * is neither.
 */
static bool
alias_split_quote(struct alias_scan *sc, const char *v, size_t n, size_t *i)
{
	char c = v[*i];

	if (sc->quote) {
		if (c == '\\' && *i + 1 < n)
			(*i)++;
		else if (c == '"')
			sc->quote = false;
		return true;
	}
	if (c == '"') {
		sc->quote = true;
		return true;
	}
	return false;
}

/*
 * v[*i] inside a comment or a domain literal: nesting is counted and a
 * backslash's character is stepped over.  Returns false when v[*i] is
 * in neither.
 */
static bool
alias_split_nested(struct alias_scan *sc, const char *v, size_t n,
    size_t *i)
{
	char c = v[*i];

	if (sc->depth > 0) {
		if (c == '\\' && *i + 1 < n)
			(*i)++;
		else if (c == '(')
			sc->depth++;
		else if (c == ')')
			sc->depth--;
		return true;
	}
	if (sc->lit) {
		if (c == '\\' && *i + 1 < n)
			(*i)++;
		else if (c == ']')
			sc->lit = false;
		return true;
	}
	return false;
}

/*
 * c outside quotes, comments and literals: opens a comment or a
 * literal, enters or leaves angle brackets or a group.  Returns true
 * for the comma that ends the element.
 */
static bool
alias_split_top(struct alias_scan *sc, char c)
{
	if (c == '(')
		sc->depth++;
	else if (c == '[')
		sc->lit = true;
	else if (c == '<')
		sc->angle = true;
	else if (c == '>')
		sc->angle = false;
	else if (c == ':' && !sc->angle)
		sc->group = true;
	else if (c == ';' && !sc->angle)
		sc->group = false;
	else if (c == ',' && !sc->angle && !sc->group)
		return true;
	return false;
}

/*
 * Finds the next list element of v[*pos..n): its bounds, trailing
 * blanks trimmed, in [*start, *end).  Returns false at the end.
 * Commas inside quotes, comments, angle brackets, domain literals and
 * groups do not split; an undeliverable form ends at the next comma
 * outside double quotes.  Unterminated constructs run to the end and are
 * left for addr_parse_list() to report.
 */
static bool
alias_split(const char *v, size_t n, size_t *pos, size_t *start,
    size_t *end)
{
	struct alias_scan	 sc = { 0, false, false, false, false };
	size_t			 i = *pos;
	bool			 special;

	while (i < n && (alias_space(v[i]) || v[i] == ','))
		i++;
	if (i >= n)
		return false;
	*start = i;
	special = alias_special(v + i, n - i);
	for (; i < n; i++) {
		if (alias_split_quote(&sc, v, n, &i))
			continue;
		if (special) {
			if (v[i] == ',')
				break;
			continue;
		}
		if (alias_split_nested(&sc, v, n, &i))
			continue;
		if (alias_split_top(&sc, v[i]))
			break;
	}
	*pos = i;
	while (i > *start && alias_space(v[i - 1]))
		i--;
	*end = i;
	return true;
}

/* An undeliverable form ("|cmd", "/file", ":include:"), quoted or not,
 * kept for -bi to report.  -1 on ENOMEM. */
static int
alias_add_special(struct alias_entry *e, const char *s, size_t len)
{
	struct buf	 tmp;
	enum alias_kind	 k;
	ssize_t		 q = 0;
	int		 r = -1;

	buf_init(&tmp, 0);
	if (s[0] == '"' && len >= 2 && s[len - 1] == '"' &&
	    (q = alias_unquote(s, len, &tmp)) == -1)
		goto out;
	if (q > 0 && (size_t)q == len) {
		s = buf_str(&tmp);
		len = tmp.len;
	}
	if (s[0] == '"') {	/* "|cmd" followed by more */
		s++;
		len--;
	}
	k = s[0] == '|' ? ALIAS_PIPE : s[0] == '/' ? ALIAS_FILE : ALIAS_INCLUDE;
	r = alias_add_target(e, k, s, len);
out:
	buf_free(&tmp);
	return r;
}

/*
 * One element s[0..len) of entry e's value, on line `line`: an
 * undeliverable form, a "\name", or an address list element.  Returns
 * 0, or -1 with ld->err set.
 */
static int
alias_parse_element(struct alias_loader *ld, struct alias_entry *e,
    unsigned line, const char *s, size_t len)
{
	struct addr_list	 l;
	enum alias_kind		 kind = ALIAS_ADDR;
	char			 why[512], quoted[4 * ALIAS_QUOTE_MAX + 1];
	size_t			 i, skip = 0;
	int			 ret = -1;

	if (alias_special(s, len))
		return alias_add_special(e, s, len) == -1 ?
		    alias_oom(ld->err, ld->errlen) : 0;
	if (s[0] == '\\') {
		kind = ALIAS_FINAL;
		skip = 1;
	}
	addr_list_init(&l);
	if (addr_parse_list(s + skip, len - skip, &l, why, sizeof why) == -1)
		alias_fail(ld, e, line, "alias %s: %s", e->name, why);
	else if (kind == ALIAS_FINAL && l.n != 1)
		alias_fail(ld, e, line, "alias %s: \"%s\" is not one address",
		    e->name, alias_quote(quoted, sizeof quoted, s, len));
	else
		for (ret = 0, i = 0; i < l.n && ret == 0; i++)
			if (alias_add_target(e, kind, l.v[i],
			    strlen(l.v[i])) == -1)
				ret = alias_oom(ld->err, ld->errlen);
	addr_list_free(&l);
	return ret;
}

/*
 * Parses the value v[0..n) of entry e into targets.  The value's first
 * byte is on line `line` (0: inline); each '\n' in it starts the next
 * line.  Returns 0, or -1 with ld->err set.
 */
static int
alias_parse_value(struct alias_loader *ld, struct alias_entry *e,
    unsigned line, const char *v, size_t n)
{
	size_t		 pos = 0, start, end, i, done = 0;
	unsigned	 eline = line;
	int		 ret = 0;

	while (ret == 0 && alias_split(v, n, &pos, &start, &end)) {
		for (i = done; line != 0 && i < start; i++)
			if (v[i] == '\n')
				eline++;
		done = start;
		ret = alias_parse_element(ld, e, eline, v + start,
		    end - start);
	}
	return ret;
}

/* Appends a new, empty entry to the db; NULL on ENOMEM. */
static struct alias_entry *
alias_new_entry(struct alias_db *db, const char *name, size_t len,
    const char *origin, unsigned line)
{
	struct alias_entry	*e;

	if (db->n == db->cap) {
		size_t ncap = db->cap ? db->cap * 2 : 16;

		if ((e = reallocarray(db->e, ncap, sizeof *e)) == NULL)
			return NULL;
		db->e = e;
		db->cap = ncap;
	}
	e = &db->e[db->n];
	memset(e, 0, sizeof *e);
	if ((e->name = strndup(name, len)) == NULL)
		return NULL;
	e->origin = origin;
	e->line = line;
	e->seq = db->n;
	db->n++;
	return e;
}

/* The checks common to both sources once an entry is complete. */
static int
alias_finish(struct alias_loader *ld, struct alias_entry *e, bool quoted)
{
	if (e->nt == 0)
		return alias_fail(ld, e, e->line, "alias %s has no target",
		    e->name);
	if (!quoted && strchr(e->name, '@') != NULL)
		return alias_warn(ld, e, e->line, "alias %s has a domain and "
		    "is never used (only local names are looked up)", e->name);
	return 0;
}

static int
alias_load_inline(struct alias_loader *ld, const struct conf *conf)
{
	struct alias_entry	*e;
	size_t			 i, j;

	for (i = 0; i < conf->naliases; i++) {
		const struct conf_alias *a = &conf->aliases[i];

		e = alias_new_entry(ld->db, a->name, strlen(a->name),
		    ld->db->conf_path, 0);
		if (e == NULL)
			return alias_oom(ld->err, ld->errlen);
		for (j = 0; j < a->nto; j++)
			if (alias_parse_value(ld, e, 0, a->to[j],
			    strlen(a->to[j])) == -1)
				return -1;
		if (alias_finish(ld, e, false) == -1)
			return -1;
	}
	return 0;
}

/*
 * Reads path into data.  A missing file sets *missing.  Returns 0, or -1
 * with err set.
 */
static int
alias_read(const char *path, struct buf *data, bool *missing, char *err,
    size_t errlen)
{
	*missing = false;
	if (util_read_file(path, ALIAS_FILE_MAX, true, data) == 0)
		return 0;
	if (errno == ENOENT)
		*missing = true;
	else if (errno == EISDIR || errno == EINVAL)
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (errno == EFBIG)
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    ALIAS_FILE_MAX);
	else if (errno == ENOMEM)
		alias_oom(err, errlen);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return *missing ? 0 : -1;
}

/*
 * Parses a name line: the name (quoted or not), blanks, ':'.  Stores the
 * name in name, whether it was quoted in *quoted, and the offset of the
 * value in *value.  Returns NULL, or what is wrong.
 */
static const char *
alias_parse_name(const char *s, size_t len, struct buf *name, bool *quoted,
    size_t *value)
{
	size_t	 i;
	ssize_t	 q;

	buf_reset(name);
	*quoted = s[0] == '"';
	if (*quoted) {
		if ((q = alias_unquote(s, len, name)) == -1)
			return "out of memory";
		if (q == 0)
			return "unterminated quoted alias name";
		i = (size_t)q;
	} else {
		for (i = 0; i < len && s[i] != ':' && !alias_blank(s[i]); i++)
			if (s[i] == '"')
				return "misplaced '\"' in the alias name";
		if (buf_add(name, s, i) == -1)
			return "out of memory";
	}
	while (i < len && alias_blank(s[i]))
		i++;
	if (i >= len || s[i] != ':')
		return !*quoted && i < len && memchr(s + i, ':', len - i) ?
		    "blank space in an alias name (quote the name)" :
		    "missing ':' after the alias name";
	*value = i + 1;
	if (name->len == 0)
		return "empty alias name";
	for (i = 0; i < name->len; i++)
		if ((unsigned char)name->data[i] < 0x20 ||
		    name->data[i] == 0x7f)
			return "control character in the alias name";
	return NULL;
}

/* The aliases file being read, line by line. */
struct alias_file {
	struct alias_loader	*ld;
	struct alias_entry	*cur;		/* the entry being read, or NULL */
	bool			 quoted;	/* ... had its name quoted */
	struct buf		 name, value;	/* ... its value so far */
	unsigned		 lineno;
	size_t			 names;
};

/* The entry being read is complete: its value parsed and checked. */
static int
alias_file_entry(struct alias_file *f)
{
	struct alias_entry	*e = f->cur;

	f->cur = NULL;
	if (e == NULL)
		return 0;
	if (alias_parse_value(f->ld, e, e->line, f->value.data,
	    f->value.len) == -1)
		return -1;
	return alias_finish(f->ld, e, f->quoted);
}

/* A name line, p[0..len): the entry before it is complete, a new one
 * begins with the value after the ':'. */
static int
alias_file_name(struct alias_file *f, const char *p, size_t len,
    const struct alias_entry *where)
{
	struct alias_db	*db = f->ld->db;
	const char	*why;
	size_t		 off;

	if (alias_file_entry(f) == -1)
		return -1;
	if (++f->names > ALIAS_NAMES_MAX)
		return alias_fail(f->ld, where, f->lineno, "more than %d "
		    "aliases", ALIAS_NAMES_MAX);
	if ((why = alias_parse_name(p, len, &f->name, &f->quoted,
	    &off)) != NULL)
		return alias_fail(f->ld, where, f->lineno, "%s", why);
	if ((f->cur = alias_new_entry(db, f->name.data, f->name.len,
	    db->file_path, f->lineno)) == NULL)
		return alias_oom(f->ld->err, f->ld->errlen);
	buf_reset(&f->value);
	if (buf_add(&f->value, p + off, len - off) == -1)
		return alias_oom(f->ld->err, f->ld->errlen);
	return 0;
}

/* One line of the file, p[0..len), its line end removed. */
static int
alias_file_line(struct alias_file *f, const char *p, size_t len)
{
	struct alias_entry	 where = { .origin = f->ld->db->file_path };
	size_t			 off;

	f->lineno++;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > ALIAS_LINE_MAX)
		return alias_fail(f->ld, &where, f->lineno, "line longer than "
		    "%d bytes", ALIAS_LINE_MAX);
	if (memchr(p, '\0', len) != NULL)
		return alias_fail(f->ld, &where, f->lineno, "NUL byte");
	for (off = 0; off < len && alias_blank(p[off]); off++)
		;
	if (off == len || p[off] == '#') {
		/* Blank or comment: skipped, the entry goes on. */
		if (f->cur != NULL && buf_addch(&f->value, '\n') == -1)
			return alias_oom(f->ld->err, f->ld->errlen);
		return 0;
	}
	if (off == 0)
		return alias_file_name(f, p, len, &where);
	if (f->cur == NULL)
		return alias_fail(f->ld, &where, f->lineno, "continuation "
		    "line with no alias before it");
	if (buf_addch(&f->value, '\n') == -1 || buf_add(&f->value, p,
	    len) == -1)
		return alias_oom(f->ld->err, f->ld->errlen);
	return 0;
}

static int
alias_load_file(struct alias_loader *ld, const char *path)
{
	struct alias_file	 f;
	struct buf		 data;
	const char		*p, *end, *nl;
	bool			 missing;
	int			 ret = -1;

	memset(&f, 0, sizeof f);
	f.ld = ld;
	buf_init(&data, 0);
	buf_init(&f.name, ALIAS_LINE_MAX);
	buf_init(&f.value, 0);
	if (alias_read(path, &data, &missing, ld->err, ld->errlen) == -1)
		goto out;
	p = buf_str(&data);
	end = p + data.len;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (alias_file_line(&f, p, (size_t)(nl - p)) == -1)
			goto out;
	}
	ret = alias_file_entry(&f);
out:
	buf_free(&data);
	buf_free(&f.name);
	buf_free(&f.value);
	return ret;
}

static int
alias_cmp_entry(const void *a, const void *b)
{
	const struct alias_entry	*x = a, *y = b;
	int				 c = alias_casecmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
alias_cmp_pending(const void *a, const void *b)
{
	const struct alias_pending	*x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the entries and drops every definition of a name but the first. */
static int
alias_dedup(struct alias_loader *ld)
{
	struct alias_db		*db = ld->db;
	struct alias_entry	*keep, *drop;
	size_t			 i, k = 0;
	int			 r;

	if (db->n > 1)
		qsort(db->e, db->n, sizeof *db->e, alias_cmp_entry);
	for (i = 0; i < db->n; i++) {
		if (k == 0 || alias_casecmp(db->e[k - 1].name,
		    db->e[i].name) != 0) {
			if (k != i)
				db->e[k] = db->e[i];
			k++;
			continue;
		}
		keep = &db->e[k - 1];
		drop = &db->e[i];
		if (keep->line == 0 && drop->line != 0)
			r = alias_warn(ld, drop, drop->line, "alias %s is "
			    "hidden by the inline alias in %s", drop->name,
			    keep->origin);
		else if (keep->line != 0)
			r = alias_warn(ld, drop, drop->line, "duplicate alias "
			    "%s ignored (first defined at line %u)",
			    drop->name, keep->line);
		else
			r = alias_warn(ld, drop, 0, "duplicate alias %s "
			    "ignored (names are compared without regard to "
			    "case)", drop->name);
		alias_entry_free(drop);
		if (r == -1) {
			/* Keep the db consistent for alias_free(). */
			for (i++; i < db->n; i++)
				db->e[k++] = db->e[i];
			db->n = k;
			return -1;
		}
	}
	db->n = k;
	return 0;
}

/* Moves the warnings, in order, into the db. */
static int
alias_keep_warnings(struct alias_loader *ld)
{
	struct alias_db	*db = ld->db;
	size_t		 i, n;

	if (ld->nwarn == 0)
		return 0;
	qsort(ld->warn, ld->nwarn, sizeof *ld->warn, alias_cmp_pending);
	n = ld->nwarn < ALIAS_WARNINGS_KEPT ? ld->nwarn : ALIAS_WARNINGS_KEPT;
	if ((db->warn = calloc(n, sizeof *db->warn)) == NULL)
		return alias_oom(ld->err, ld->errlen);
	for (i = 0; i < n; i++) {
		db->warn[i] = ld->warn[i].text;
		ld->warn[i].text = NULL;
	}
	db->nwarn_kept = n;
	db->nwarn = ld->nwarn;
	return 0;
}

struct alias_db *
alias_load(const struct conf *conf, char *err, size_t errlen)
{
	struct alias_loader	 ld;
	struct alias_db		*db;
	size_t			 i;
	int			 r = -1;

	if ((db = calloc(1, sizeof *db)) == NULL) {
		alias_oom(err, errlen);
		return NULL;
	}
	memset(&ld, 0, sizeof ld);
	ld.db = db;
	ld.err = err;
	ld.errlen = errlen;
	if ((db->conf_path = strdup(conf->path != NULL ? conf->path :
	    CONF_DEFAULT_PATH)) == NULL || (conf->aliases_file != NULL &&
	    (db->file_path = strdup(conf->aliases_file)) == NULL)) {
		alias_oom(err, errlen);
		goto out;
	}
	if (alias_load_inline(&ld, conf) == -1)
		goto out;
	if (db->file_path != NULL && alias_load_file(&ld, db->file_path) == -1)
		goto out;
	if (alias_dedup(&ld) == -1 || alias_keep_warnings(&ld) == -1)
		goto out;
	r = 0;
out:
	for (i = 0; i < ld.nwarn; i++)
		free(ld.warn[i].text);
	free(ld.warn);
	if (r == -1) {
		alias_free(db);
		return NULL;
	}
	return db;
}
