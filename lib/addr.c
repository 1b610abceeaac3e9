/*
 * addr: RFC 5322 address-list parsing.  See addr.h.
 *
 * A tokenizer turns the header body into atoms (runs of atext and '.'),
 * quoted strings, domain literals and specials, skipping white space
 * and comments.  The parser then walks list elements: an element with
 * '<' yields what lies between '<' and '>' (minus an obsolete route), an
 * element without is itself an addr-spec; ':' opens a group, whose name
 * is dropped, and ';' closes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"

#define ADDR_MAX	998

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
};

struct lexer {
	const char	*s;
	size_t		 len, pos;
	const char	*err;
};

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
addr_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips white space and comments; -1 on an unterminated comment. */
static int
lex_skip(struct lexer *lx)
{
	int	 depth;

	for (;;) {
		while (lx->pos < lx->len && addr_ws(lx->s[lx->pos]))
			lx->pos++;
		if (lx->pos >= lx->len || lx->s[lx->pos] != '(')
			return 0;
		for (depth = 0; lx->pos < lx->len; lx->pos++) {
			char c = lx->s[lx->pos];

			if (c == '\\' && lx->pos + 1 < lx->len)
				lx->pos++;
			else if (c == '(')
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

static int
lex_next(struct lexer *lx, struct tok *t)
{
	size_t	 start;
	char	 c, close;

	if (lex_skip(lx) == -1)
		return -1;
	t->p = lx->s + lx->pos;
	t->len = 0;
	if (lx->pos >= lx->len) {
		t->type = TOK_END;
		return 0;
	}
	start = lx->pos;
	c = lx->s[lx->pos];
	if (c == '"' || c == '[') {
		close = c == '"' ? '"' : ']';
		for (lx->pos++; lx->pos < lx->len; lx->pos++) {
			if (lx->s[lx->pos] == '\\' && lx->pos + 1 < lx->len)
				lx->pos++;
			else if (lx->s[lx->pos] == close)
				break;
			else if (lx->s[lx->pos] == '\0')
				break;
		}
		if (lx->pos >= lx->len || lx->s[lx->pos] != close) {
			lx->err = c == '"' ? "unterminated quoted string" :
			    "unterminated domain literal";
			return -1;
		}
		lx->pos++;
		t->type = c == '"' ? TOK_QUOTED : TOK_LITERAL;
	} else if (strchr("<>@,:;", c) != NULL) {
		lx->pos++;
		t->type = TOK_SPECIAL;
	} else if (addr_atext((unsigned char)c)) {
		while (lx->pos < lx->len &&
		    addr_atext((unsigned char)lx->s[lx->pos]))
			lx->pos++;
		t->type = TOK_ATOM;
	} else {
		lx->err = "unexpected character";
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

/* Where an addr-spec stands in the text, for rewriting it in place. */
struct span {
	size_t	 start, end;	/* byte offsets in the parsed text */
	char	*spec;
};

struct spans {
	struct span	*v;
	size_t		 n;
	const char	*text;
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

/* One list element, tokens [a, b). */
static int
addr_element(const struct tok *a, const struct tok *b, struct buf *tmp,
    struct spans *out, const char **why)
{
	struct span	*nv;

	const struct tok	*lt = NULL, *gt = NULL, *t;

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
	} else {
		/* A bare addr-spec: no display-name allowed. */
		for (t = a; t + 1 < b; t++)
			if (t->type != TOK_SPECIAL &&
			    (t + 1)->type != TOK_SPECIAL &&
			    !(t->type == TOK_ATOM && t->p[t->len - 1] == '.') &&
			    !((t + 1)->type == TOK_ATOM && (t + 1)->p[0] == '.')) {
				*why = "display name without angle address";
				return -1;
			}
	}
	if (addr_spec(a, b, tmp, why) == -1)
		return -1;
	if (tmp->len > ADDR_MAX) {
		*why = "address too long";
		return -1;
	}
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
	if ((nv->spec = strdup(tmp->data)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	out->n++;
	return 0;
}

void
addr_list_init(struct addr_list *l)
{
	l->v = NULL;
	l->n = 0;
}

void
addr_list_free(struct addr_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	addr_list_init(l);
}

static bool
addr_equal(const char *a, const char *b)
{
	const char	*da = addr_domain(a), *db = addr_domain(b);
	size_t		 la = da ? (size_t)(da - a - 1) : strlen(a);
	size_t		 lb = db ? (size_t)(db - b - 1) : strlen(b);

	if (la != lb || memcmp(a, b, la) != 0 || (da == NULL) != (db == NULL))
		return false;
	return da == NULL || strcasecmp(da, db) == 0;
}

int
addr_list_add(struct addr_list *l, const char *addr)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < l->n; i++)
		if (addr_equal(l->v[i], addr))
			return 0;
	if ((v = reallocarray(l->v, l->n + 1, sizeof *v)) == NULL)
		return -1;
	l->v = v;
	if ((v[l->n] = strdup(addr)) == NULL)
		return -1;
	l->n++;
	return 0;
}

/* Finds every addr-spec of an address list, in order. */
static int
addr_scan(const char *s, size_t len, struct spans *found, char *err,
    size_t errlen)
{
	struct lexer		 lx = { s, len, 0, NULL };
	struct tok		*toks = NULL, *nt;
	size_t			 ntok = 0, i, start, depth = 0;
	struct buf		 tmp;
	const char		*why = NULL;
	bool			 group = false;
	int			 ret = -1;

	found->v = NULL;
	found->n = 0;
	found->text = s;
	buf_init(&tmp, ADDR_MAX + 1);
	for (;;) {
		if ((nt = reallocarray(toks, ntok + 1, sizeof *toks)) == NULL) {
			why = "out of memory";
			goto out;
		}
		toks = nt;
		if (lex_next(&lx, &toks[ntok]) == -1) {
			why = lx.err;
			goto out;
		}
		if (toks[ntok++].type == TOK_END)
			break;
	}
	for (i = start = 0; i < ntok; i++) {
		struct tok *t = &toks[i];

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
		if (tok_is(t, ':') && !group) {
			/* A group: its display name is not an address. */
			group = true;
			start = i + 1;
			continue;
		}
		/* Outside a group, ';' separates too: Outlook writes
		 * lists that way. */
		if (t->type == TOK_END || tok_is(t, ',') || tok_is(t, ';')) {
			if (addr_element(&toks[start], t, &tmp, found,
			    &why) == -1)
				goto out;
			if (tok_is(t, ';'))
				group = false;
			start = i + 1;
		}
	}
	if (group) {
		why = "group without ';'";
		goto out;
	}
	ret = 0;
out:
	if (ret == -1) {
		int saved = errno == E2BIG ? E2BIG : EINVAL;

		snprintf(err, errlen, "%s in \"%.*s\"", why ? why : "error",
		    (int)(len > 200 ? 200 : len), s);
		spans_free(found);
		errno = saved;
	}
	buf_free(&tmp);
	free(toks);
	return ret;
}

int
addr_parse_list(const char *s, size_t len, struct addr_list *out,
    char *err, size_t errlen)
{
	struct spans	 found;
	struct addr_list tmp;
	size_t		 i;
	int		 ret = 0;

	if (addr_scan(s, len, &found, err, errlen) == -1)
		return -1;
	/* All or nothing: out is untouched when any part fails. */
	addr_list_init(&tmp);
	for (i = 0; i < found.n && ret == 0; i++)
		ret = addr_list_add(&tmp, found.v[i].spec);
	for (i = 0; i < tmp.n && ret == 0; i++)
		ret = addr_list_add(out, tmp.v[i]);
	if (ret == -1)
		snprintf(err, errlen, "out of memory");
	addr_list_free(&tmp);
	spans_free(&found);
	return ret;
}

int
addr_rewrite_text(const char *s, size_t len, const char *domain,
    const char *replace, struct buf *out, char *err, size_t errlen)
{
	struct spans	 found;
	size_t		 i, pos = 0;
	int		 ret = 0;

	if (addr_scan(s, len, &found, err, errlen) == -1)
		return -1;
	for (i = 0; i < found.n && ret == 0; i++) {
		const struct span *sp = &found.v[i];

		if (replace != NULL) {
			if (buf_add(out, s + pos, sp->start - pos) == -1 ||
			    buf_addstr(out, replace) == -1)
				ret = -1;
		} else if (addr_domain(sp->spec) != NULL)
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

char *
addr_parse_one(const char *s, char *err, size_t errlen)
{
	struct addr_list	 l;
	char			*r;

	addr_list_init(&l);
	if (addr_parse_list(s, strlen(s), &l, err, errlen) == -1)
		return NULL;
	if (l.n != 1) {
		snprintf(err, errlen, "\"%.200s\" is not one address", s);
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
	buf_init(&b, 0);
	if (buf_printf(&b, "%s@%s", addr, domain) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}
