/*
 * addr: RFC 5322 address-list parsing.  See addr.h.
 *
 * A tokenizer turns the header body into atoms (runs of atext and '.'),
 * quoted strings, domain literals and specials, skipping white space
 * and comments.  The parser then walks list elements as the tokens come:
 * an element with '<' yields what lies between '<' and '>' (minus an
 * obsolete route), an element without is itself an addr-spec; ':' opens
 * a group, whose name is dropped, and ';' closes it.  Only the tokens of
 * the element being read are held, so a list is read in one pass and a
 * list with too many addresses is refused at the first one too many,
 * whatever follows it.
 *
 * Security: no control character (C0 or DEL) ever reaches an address,
 * quoted or not: an address goes into an SMTP command and a generated
 * From:, where a CR or LF would start a new command or header (the
 * CVE-2016-10033 path of PHP's mail()).  The only ones allowed anywhere
 * are TAB and, in a header or a file, the CR and LF of folding, and
 * those only between words or inside a display name or a comment.
 * Messages quote the text with every control character escaped.
 *
 * A list keeps, beside its array, an open-addressing hash set of the
 * addresses' indexes, so that adding n addresses costs O(n), not O(n^2).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "util.h"

#define ADDR_MAX	998
/* Tokens one list element may hold: an address and a display name of
 * any sensible length, not a header's worth. */
#define ADDR_ELEMENT_TOKENS	4096
/* Bytes of the text quoted in a message. */
#define ADDR_QUOTE_MAX	200

enum tok_type {
	TOK_ATOM,	/* atext and dots */
	TOK_QUOTED,	/* "..." with its quotes */
	TOK_LITERAL,	/* [...] */
	TOK_SPECIAL,	/* one of < > @ , : ; */
	TOK_END,
};

struct tok {
	enum tok_type	 type;
	const char	*p;
	size_t		 len;
	bool		 blank;	/* a quoted string or literal holds a TAB or
				 * a line break: fine in a display name,
				 * never in an address */
};

struct lexer {
	const char	*s;
	size_t		 len, pos;
	bool		 breaks;	/* CR and LF may fold (a header) */
	const char	*err;
};

static bool
addr_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
addr_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;	/* UTF-8, RFC 6532 */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static bool
addr_ws(const struct lexer *lx, char c)
{
	return c == ' ' || c == '\t' ||
	    (lx->breaks && (c == '\r' || c == '\n'));
}

/*
 * Whether c may stand inside a comment, a quoted string or a domain
 * literal: any control character but TAB and a folding line break is
 * refused.  The white space ones set *blank.
 */
static bool
lex_ctl_ok(struct lexer *lx, unsigned char c, bool escaped, bool *blank)
{
	if (!addr_ctl(c))
		return true;
	if (c == '\t' || (!escaped && addr_ws(lx, (char)c))) {
		*blank = true;
		return true;
	}
	lx->err = "control character";
	return false;
}

/* Skips white space and comments; -1 on an unterminated comment or a
 * control character in one. */
static int
lex_skip(struct lexer *lx)
{
	int	 depth;
	bool	 esc, blank;

	for (;;) {
		while (lx->pos < lx->len && addr_ws(lx, lx->s[lx->pos]))
			lx->pos++;
		if (lx->pos >= lx->len || lx->s[lx->pos] != '(')
			return 0;
		for (depth = 0; lx->pos < lx->len; lx->pos++) {
			char c = lx->s[lx->pos];

			if ((esc = c == '\\' && lx->pos + 1 < lx->len))
				c = lx->s[++lx->pos];
			if (!lex_ctl_ok(lx, (unsigned char)c, esc, &blank))
				return -1;
			if (esc)
				continue;
			if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
		}
		if (lx->pos >= lx->len) {
			lx->err = "unterminated comment";
			return -1;
		}
		lx->pos++;
	}
}

/* A quoted string or a domain literal, from its opening character. */
static int
lex_quoted(struct lexer *lx, struct tok *t, char open)
{
	char	 close = open == '"' ? '"' : ']', c;
	bool	 esc;

	t->type = open == '"' ? TOK_QUOTED : TOK_LITERAL;
	for (lx->pos++; lx->pos < lx->len; lx->pos++) {
		c = lx->s[lx->pos];
		if ((esc = c == '\\' && lx->pos + 1 < lx->len))
			c = lx->s[++lx->pos];
		if (!lex_ctl_ok(lx, (unsigned char)c, esc, &t->blank))
			return -1;
		if (!esc && c == close)
			break;
	}
	if (lx->pos >= lx->len) {
		lx->err = open == '"' ? "unterminated quoted string" :
		    "unterminated domain literal";
		return -1;
	}
	lx->pos++;
	return 0;
}

static int
lex_next(struct lexer *lx, struct tok *t)
{
	size_t	 start;
	char	 c;

	if (lex_skip(lx) == -1)
		return -1;
	t->p = lx->s + lx->pos;
	t->len = 0;
	t->blank = false;
	if (lx->pos >= lx->len) {
		t->type = TOK_END;
		return 0;
	}
	start = lx->pos;
	c = lx->s[lx->pos];
	if (c == '"' || c == '[') {
		if (lex_quoted(lx, t, c) == -1)
			return -1;
	} else if (c != '\0' && strchr("<>@,:;", c) != NULL) {
		lx->pos++;
		t->type = TOK_SPECIAL;
	} else if (addr_atext((unsigned char)c)) {
		while (lx->pos < lx->len &&
		    addr_atext((unsigned char)lx->s[lx->pos]))
			lx->pos++;
		t->type = TOK_ATOM;
	} else {
		lx->err = addr_ctl((unsigned char)c) ? "control character" :
		    "unexpected character";
		return -1;
	}
	t->len = lx->pos - start;
	return 0;
}

static bool
tok_is(const struct tok *t, char c)
{
	return t->type == TOK_SPECIAL && t->p[0] == c;
}

/*
 * Builds an addr-spec from tokens [a, b): local-part tokens, optionally
 * '@' and domain tokens.  Appends to out; -1 with *why on bad syntax.
 */
static int
addr_spec(const struct tok *a, const struct tok *b, struct buf *out,
    const char **why)
{
	const struct tok	*t;
	bool			 at = false, local = false, dom = false;

	buf_reset(out);
	for (t = a; t < b; t++) {
		if (t->blank) {
			/* No SMTP path can carry it (RFC 5321 4.1.2). */
			*why = "control character in the address";
			return -1;
		}
		if (tok_is(t, '@')) {
			if (at || !local) {
				*why = at ? "two '@'" : "empty local part";
				return -1;
			}
			at = true;
		} else if (t->type == TOK_SPECIAL) {
			*why = "misplaced special character";
			return -1;
		} else if (at) {
			if (t->type == TOK_QUOTED) {
				*why = "quoted string in domain";
				return -1;
			}
			dom = true;
		} else {
			if (t->type == TOK_LITERAL) {
				*why = "domain literal without local part";
				return -1;
			}
			local = true;
		}
		if (buf_add(out, t->p, t->len) == -1) {
			*why = "address too long";
			return -1;
		}
	}
	if (!local) {
		*why = "empty address";
		return -1;
	}
	if (at && !dom) {
		*why = "empty domain";
		return -1;
	}
	if (out->data[0] == '.' || out->data[out->len - 1] == '.') {
		*why = "misplaced dot";
		return -1;
	}
	return 0;
}

/* Where an addr-spec stands in the text, for rewriting it in place,
 * and what stands around it in its list element. */
struct span {
	size_t	 start, end;	/* byte offsets in the parsed text */
	char	*spec;
	size_t	 elem_start, elem_end;	/* its list element */
	size_t	 addr_start, addr_end;	/* the spec, or "<...>" */
	size_t	 name_start, name_end;	/* the display name, or empty */
};

struct spans {
	struct span	*v;
	size_t		 n;
	const char	*text;
	size_t		 elem;	/* where the element being read starts */
};

static void
spans_free(struct spans *sp)
{
	size_t	 i;

	for (i = 0; i < sp->n; i++)
		free(sp->v[i].spec);
	free(sp->v);
	sp->v = NULL;
	sp->n = 0;
}

/* Whether every two words of [a, b) are joined by a special or a dot,
 * as in an addr-spec (RFC 5322 3.4.1, its obsolete forms included). */
static bool
addr_words_joined(const struct tok *a, const struct tok *b)
{
	const struct tok	*t;

	for (t = a; t + 1 < b; t++)
		if (t->type != TOK_SPECIAL && (t + 1)->type != TOK_SPECIAL &&
		    !(t->type == TOK_ATOM && t->p[t->len - 1] == '.') &&
		    !((t + 1)->type == TOK_ATOM && (t + 1)->p[0] == '.'))
			return false;
	return true;
}

/* Records the addr-spec spec, written by tokens [a, b); the list's
 * limit is checked here, as each address is found. */
static int
addr_span_add(struct spans *out, const struct tok *a, const struct tok *b,
    const char *spec, const char **why)
{
	struct span	*nv;

	if (out->n >= ADDR_LIST_MAX) {
		*why = "too many addresses";
		errno = E2BIG;
		return -1;
	}
	if ((nv = reallocarray(out->v, out->n + 1, sizeof *nv)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	out->v = nv;
	nv += out->n;
	nv->start = (size_t)(a->p - out->text);
	nv->end = (size_t)((b - 1)->p + (b - 1)->len - out->text);
	if ((nv->spec = strdup(spec)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	out->n++;
	return 0;
}

/*
 * Where the mailbox just recorded stands in its element: tokens [a, b),
 * b the ',', ';' or end that closes it; lt and gt its angle brackets,
 * or NULL.  Between the element's start, the address and the element's
 * end, only blanks and comments stand, but for a display name before
 * '<'.  Words before '<' that are no phrase ("a@b <c@d>") are no name:
 * the element then starts at '<', so that nothing reads them as one.
 */
static void
addr_span_place(struct spans *out, const struct tok *a, const struct tok *b,
    const struct tok *lt, const struct tok *gt)
{
	struct span	*sp = &out->v[out->n - 1];
	const struct tok *t;

	sp->elem_start = out->elem;
	sp->elem_end = (size_t)(b->p - out->text);
	sp->name_start = sp->name_end = 0;
	if (lt == NULL) {
		sp->addr_start = sp->start;
		sp->addr_end = sp->end;
		return;
	}
	sp->addr_start = (size_t)(lt->p - out->text);
	sp->addr_end = (size_t)(gt->p + 1 - out->text);
	for (t = a; t < lt; t++)
		if (t->type != TOK_ATOM && t->type != TOK_QUOTED) {
			sp->elem_start = sp->addr_start;
			return;
		}
	if (lt > a) {
		sp->name_start = (size_t)(a->p - out->text);
		sp->name_end = (size_t)((lt - 1)->p + (lt - 1)->len -
		    out->text);
	}
}

/* One list element, tokens [a, b). */
static int
addr_element(const struct tok *a, const struct tok *b, struct buf *tmp,
    struct spans *out, const char **why)
{
	const struct tok	*lt = NULL, *gt = NULL, *t, *a0 = a, *end = b;

	if (a == b)
		return 0;	/* obs-addr-list: empty element */
	for (t = a; t < b; t++) {
		if (tok_is(t, '<') && lt == NULL)
			lt = t;
		else if (tok_is(t, '>') && lt != NULL && gt == NULL)
			gt = t;
		else if (tok_is(t, '<') || tok_is(t, '>')) {
			*why = "misplaced angle bracket";
			return -1;
		}
	}
	if (lt != NULL) {
		if (gt == NULL || gt + 1 != b) {
			*why = gt == NULL ? "missing '>'" :
			    "text after '>'";
			return -1;
		}
		a = lt + 1;
		b = gt;
		/* obs-route: "@a,@b:" before the address. */
		for (t = a; t < b; t++)
			if (tok_is(t, ':')) {
				if (!tok_is(a, '@')) {
					*why = "bad route";
					return -1;
				}
				a = t + 1;
				break;
			}
		if (a == b)	/* "<>" in a header: nothing to send to */
			return 0;
	}
	/* Words side by side: a display name without angle brackets, or
	 * blanks (a TAB, a line break) inside the angle address. */
	if (!addr_words_joined(a, b)) {
		*why = lt == NULL ? "display name without angle address" :
		    "white space inside the address";
		return -1;
	}
	if (addr_spec(a, b, tmp, why) == -1)
		return -1;
	if (tmp->len > ADDR_MAX) {
		*why = "address too long";
		return -1;
	}
	if (addr_span_add(out, a, b, tmp->data, why) == -1)
		return -1;
	addr_span_place(out, a0, end, lt, gt);
	return 0;
}

void
addr_list_init(struct addr_list *l)
{
	memset(l, 0, sizeof *l);
}

void
addr_list_free(struct addr_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->set);
	addr_list_init(l);
}

static unsigned char
addr_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The local part's length, and the domain (after '@') or NULL. */
static size_t
addr_split(const char *a, const char **dom)
{
	*dom = addr_domain(a);
	return *dom != NULL ? (size_t)(*dom - a - 1) : strlen(a);
}

/* Equal for delivery: the same local part, the domain in any ASCII
 * case (the same rule as addr_hash). */
static bool
addr_equal(const char *a, const char *b)
{
	const char	*da, *db;
	size_t		 la = addr_split(a, &da), lb = addr_split(b, &db);

	if (la != lb || memcmp(a, b, la) != 0 || (da == NULL) != (db == NULL))
		return false;
	if (da == NULL)
		return true;
	for (; *da != '\0' && *db != '\0'; da++, db++)
		if (addr_fold((unsigned char)*da) != addr_fold((unsigned char)*db))
			return false;
	return *da == *db;
}

/* FNV-1a of the local part and of the domain folded to lower case. */
static uint64_t
addr_hash(const char *a)
{
	const char	*dom, *p;
	size_t		 i, ll = addr_split(a, &dom);
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (i = 0; i < ll; i++)
		h = (h ^ (unsigned char)a[i]) * 0x100000001b3ULL;
	if (dom == NULL)
		return h;
	h = (h ^ '@') * 0x100000001b3ULL;
	for (p = dom; *p != '\0'; p++)
		h = (h ^ addr_fold((unsigned char)*p)) * 0x100000001b3ULL;
	return h;
}

/* The slot that holds addr, or the free one where it would go. */
static size_t *
addr_slot(const struct addr_list *l, const char *addr)
{
	size_t	 mask = l->nset - 1, i = (size_t)addr_hash(addr) & mask;

	while (l->set[i] != 0 && !addr_equal(l->v[l->set[i] - 1], addr))
		i = (i + 1) & mask;
	return &l->set[i];
}

/* A set of nset slots holding v[0..n); -1 on ENOMEM. */
static int
addr_rehash(struct addr_list *l, size_t nset)
{
	size_t	*set, i;

	if ((set = calloc(nset, sizeof *set)) == NULL)
		return -1;
	free(l->set);
	l->set = set;
	l->nset = nset;
	for (i = 0; i < l->n; i++)
		*addr_slot(l, l->v[i]) = i + 1;
	return 0;
}

int
addr_list_add(struct addr_list *l, const char *addr)
{
	size_t	*slot;
	char	**v;

	/* At most half full, so that probes stay short. */
	if (2 * (l->n + 1) > l->nset &&
	    addr_rehash(l, l->nset ? 2 * l->nset : 16) == -1)
		return -1;
	slot = addr_slot(l, addr);
	if (*slot != 0)
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 8;

		if ((v = reallocarray(l->v, ncap, sizeof *v)) == NULL)
			return -1;
		l->v = v;
		l->cap = ncap;
	}
	if ((l->v[l->n] = strdup(addr)) == NULL)
		return -1;
	*slot = ++l->n;
	return 0;
}

bool
addr_list_has(const struct addr_list *l, const char *addr)
{
	return l->nset > 0 && *addr_slot(l, addr) != 0;
}

void
addr_list_truncate(struct addr_list *l, size_t n)
{
	size_t	 i;

	if (n >= l->n)
		return;
	for (i = n; i < l->n; i++)
		free(l->v[i]);
	l->n = n;
	/* Rebuilt in place: the set is as large as before. */
	memset(l->set, 0, l->nset * sizeof *l->set);
	for (i = 0; i < n; i++)
		*addr_slot(l, l->v[i]) = i + 1;
}

/* "why in \"text\"", the text cut and its control characters escaped. */
static void
addr_error(char *err, size_t errlen, const char *why, const char *s,
    size_t len)
{
	struct buf	 b;

	buf_init(&b, 0);
	if (util_escape(&b, s, len > ADDR_QUOTE_MAX ? ADDR_QUOTE_MAX : len,
	    NULL) == -1)
		buf_reset(&b);
	snprintf(err, errlen, "%s in \"%s%s\"", why, buf_str(&b),
	    len > ADDR_QUOTE_MAX ? "..." : "");
	buf_free(&b);
}

/* The tokens of the element being read, in a growing array. */
static struct tok *
addr_tok_slot(struct tok **toks, size_t *cap, size_t n, const char **why)
{
	struct tok	*nt;
	size_t		 ncap;

	if (n < *cap)
		return &(*toks)[n];
	if (n >= ADDR_ELEMENT_TOKENS) {
		*why = "list element too long";
		return NULL;
	}
	ncap = *cap ? 2 * *cap : 32;
	if ((nt = reallocarray(*toks, ncap, sizeof *nt)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	*toks = nt;
	*cap = ncap;
	return &nt[n];
}

/*
 * A token t read outside angle brackets: ':' opens a group (its display
 * name is not an address), ',', ';' and the end close an element, whose
 * addr-spec goes to found.  Returns 1 at the end of the list, 0 to read
 * on, -1 with *why set.
 */
static int
addr_scan_top(const struct tok *toks, const struct tok *t,
    const struct lexer *lx, bool *group, size_t *ntok, struct buf *tmp,
    struct spans *found, const char **why)
{
	if (tok_is(t, ':') && !*group) {
		/* A group: its display name is not an address. */
		*group = true;
		*ntok = 0;
		found->elem = lx->pos;
		return 0;
	}
	/* Outside a group, ';' separates too: Outlook writes
	 * lists that way. */
	if (t->type == TOK_END || tok_is(t, ',') || tok_is(t, ';')) {
		if (addr_element(toks, t, tmp, found, why) == -1)
			return -1;
		if (tok_is(t, ';'))
			*group = false;
		if (t->type == TOK_END)
			return 1;
		*ntok = 0;
		found->elem = lx->pos;
	}
	return 0;
}

/*
 * Finds every addr-spec of an address list, in order, reading the
 * tokens once.  breaks: CR and LF are folding white space (a header or
 * a file), else they are refused (an argument).
 */
static int
addr_scan(const char *s, size_t len, bool breaks, struct spans *found,
    char *err, size_t errlen)
{
	struct lexer	 lx = { s, len, 0, breaks, NULL };
	struct tok	*toks = NULL, *t;
	size_t		 ntok = 0, cap = 0, depth = 0;
	struct buf	 tmp;
	const char	*why = NULL;
	bool		 group = false;
	int		 ret = -1, top;

	found->v = NULL;
	found->n = 0;
	found->text = s;
	found->elem = 0;
	buf_init(&tmp, ADDR_MAX + 1);
	for (;;) {
		if ((t = addr_tok_slot(&toks, &cap, ntok, &why)) == NULL)
			goto out;
		if (lex_next(&lx, t) == -1) {
			why = lx.err;
			goto out;
		}
		ntok++;
		if (tok_is(t, '<'))
			depth++;
		else if (tok_is(t, '>') && depth > 0)
			depth--;
		if (depth > 0 && t->type == TOK_END) {
			why = "missing '>'";
			goto out;
		}
		if (depth > 0)
			continue;
		top = addr_scan_top(toks, t, &lx, &group, &ntok, &tmp, found,
		    &why);
		if (top == -1)
			goto out;
		if (top == 1)
			break;
	}
	if (group) {
		why = "group without ';'";
		goto out;
	}
	ret = 0;
out:
	if (ret == -1) {
		int saved = errno == E2BIG ? E2BIG : EINVAL;

		addr_error(err, errlen, why ? why : "error", s, len);
		spans_free(found);
		errno = saved;
	}
	buf_free(&tmp);
	free(toks);
	return ret;
}

/* Every addr-spec of s[0..len) added to out, or none. */
static int
addr_parse(const char *s, size_t len, bool breaks, struct addr_list *out,
    char *err, size_t errlen)
{
	struct spans	 found;
	size_t		 i, n0 = out->n;
	int		 ret = 0;

	if (addr_scan(s, len, breaks, &found, err, errlen) == -1)
		return -1;
	for (i = 0; i < found.n && ret == 0; i++)
		ret = addr_list_add(out, found.v[i].spec);
	if (ret == -1) {
		snprintf(err, errlen, "out of memory");
		addr_list_truncate(out, n0);
		errno = ENOMEM;
	}
	spans_free(&found);
	return ret;
}

int
addr_parse_list(const char *s, size_t len, struct addr_list *out,
    char *err, size_t errlen)
{
	return addr_parse(s, len, true, out, err, errlen);
}

int
addr_parse_arg(const char *s, struct addr_list *out, char *err,
    size_t errlen)
{
	return addr_parse(s, strlen(s), false, out, err, errlen);
}

int
addr_rewrite_text(const char *s, size_t len, const char *domain,
    struct buf *out, char *err, size_t errlen)
{
	struct spans	 found;
	size_t		 i, pos = 0;
	int		 ret = 0;

	if (addr_scan(s, len, true, &found, err, errlen) == -1)
		return -1;
	for (i = 0; i < found.n && ret == 0; i++) {
		const struct span *sp = &found.v[i];

		if (addr_domain(sp->spec) != NULL)
			continue;
		/* Up to the end of the local part as it was, "@domain". */
		else if (buf_add(out, s + pos, sp->end - pos) == -1 ||
		    buf_addch(out, '@') == -1 || buf_addstr(out, domain) == -1)
			ret = -1;
		pos = sp->end;
	}
	if (ret == 0 && buf_add(out, s + pos, len - pos) == -1)
		ret = -1;
	if (ret == -1)
		snprintf(err, errlen, "out of memory");
	spans_free(&found);
	return ret;
}

/*
 * The first comment of s[from, to) that holds more than blanks, added
 * to out: its text within the outer parentheses, quoted pairs undone,
 * the line breaks of folding dropped, a TAB as a space, the blanks at
 * either end trimmed.  Only blanks and comments stand in that range
 * (addr_span_place).  1 when one was found, 0 if not, -1 on ENOMEM.
 */
static int
addr_comment(const char *s, size_t from, size_t to, struct buf *out)
{
	size_t	 i, depth, mark, keep;
	char	 c;

	for (i = from; i < to; i++) {
		if (s[i] != '(')
			continue;
		mark = keep = out->len;
		for (depth = 0; i < to; i++) {
			if ((c = s[i]) == '\\' && i + 1 < to)
				c = s[++i];
			else if (c == '(' && depth++ == 0)
				continue;
			else if (c == ')' && --depth == 0)
				break;
			if (c == '\r' || c == '\n')
				continue;	/* folding */
			if (c == '\t')
				c = ' ';
			if (c == ' ' && out->len == mark)
				continue;	/* a blank at its start */
			if (buf_addch(out, c) == -1)
				return -1;
			if (c != ' ')
				keep = out->len;
		}
		out->len = keep;	/* without the blanks at its end */
		if (out->data != NULL)
			out->data[out->len] = '\0';
		if (keep > mark)
			return 1;
	}
	return 0;
}

int
addr_first_name(const char *s, size_t len, struct buf *out, bool *comment,
    char *err, size_t errlen)
{
	struct spans	 found;
	const struct span *sp;
	size_t		 i;
	int		 r = 0;

	*comment = false;
	if (addr_scan(s, len, true, &found, err, errlen) == -1)
		return -1;
	for (i = 0; i < found.n && r == 0; i++) {
		sp = &found.v[i];
		if (sp->name_end > sp->name_start) {
			r = buf_add(out, s + sp->name_start,
			    sp->name_end - sp->name_start) == -1 ? -1 : 1;
			break;
		}
		if ((r = addr_comment(s, sp->elem_start, sp->addr_start,
		    out)) == 0)
			r = addr_comment(s, sp->addr_end, sp->elem_end, out);
		*comment = r == 1;
	}
	spans_free(&found);
	if (r == -1)
		snprintf(err, errlen, "out of memory");
	return r == -1 ? -1 : 0;
}

char *
addr_parse_one(const char *s, char *err, size_t errlen)
{
	struct addr_list	 l;
	char			*r;

	addr_list_init(&l);
	if (addr_parse_arg(s, &l, err, errlen) == -1)
		return NULL;
	if (l.n != 1) {
		addr_error(err, errlen, "not one address", s, strlen(s));
		addr_list_free(&l);
		return NULL;
	}
	r = l.v[0];
	l.v[0] = NULL;
	l.n = 0;
	addr_list_free(&l);
	return r;
}

const char *
addr_domain(const char *addr)
{
	const char	*at = NULL, *p;
	bool		 q = false;

	for (p = addr; *p != '\0'; p++) {
		if (*p == '\\' && q && p[1] != '\0')
			p++;
		else if (*p == '"')
			q = !q;
		else if (*p == '@' && !q)
			at = p;
	}
	return at != NULL ? at + 1 : NULL;
}

char *
addr_qualify(const char *addr, const char *domain)
{
	struct buf	 b;

	if (addr_domain(addr) != NULL || addr[0] == '\0')
		return strdup(addr);
	buf_init(&b, strlen(addr) + strlen(domain) + 2);
	if (buf_printf(&b, "%s@%s", addr, domain) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}
