/*
 * conftext: a configuration file's text made fit for libconfuse.  See
 * conftext.h.
 *
 * The walk knows libconfuse 3's tokens: blanks, '\n', comments ('#' and
 * "//" to the end of the line, "/" "*" to "*" "/"), strings in double
 * quotes (backslash escapes, ${NAME} that may run past a quote) and in
 * single quotes (backslash escapes), ${NAME} at the start of a token,
 * the punctuation { } = += , ( ), words (runs of anything else, '/'
 * included), and '+' alone and '*', which libconfuse drops.  It keeps
 * the last three tokens and the braces open: that is all it needs to
 * tell a list from a section and to name a key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conftext.h"

#define CONFTEXT_DEPTH	8
#define CONFTEXT_TITLE	80	/* the most of a section's name shown */

struct tok {
	int		 c;	/* '=', '+' for "+=", '{', '}', ',', '(', ')';
				 * 0 for a value: a word or a string */
	const char	*text;	/* a value's text, quotes off */
	size_t		 len;
	unsigned	 line;
};

struct brace {
	bool		 list;
	const char	*key;	/* the key's name, or NULL */
	const char	*title;	/* a section's name, or NULL */
	size_t		 tlen;
	unsigned	 line;
};

struct walk {
	struct conftext	*ct;
	char		*text, *p, *end;
	unsigned	 line;
	struct tok	 tok[3];	/* the latest three, tok[0] last */
	struct brace	 open[CONFTEXT_DEPTH];
	size_t		 depth;
};

/* The first mistake only. */
static void
fail(struct walk *w, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail(struct walk *w, unsigned line, const char *key, const char *fmt, ...)
{
	struct conftext	*ct = w->ct;
	size_t		 n = 0;
	va_list		 ap;
	int		 r;

	if (ct->line != 0)
		return;
	ct->line = line;
	if (key != NULL && (r = snprintf(ct->msg, sizeof(ct->msg), "%s: ",
	    key)) > 0)
		n = (size_t)r < sizeof(ct->msg) ? (size_t)r : 0;
	va_start(ap, fmt);
	if (vsnprintf(ct->msg + n, sizeof(ct->msg) - n, fmt, ap) < 0)
		ct->msg[n] = '\0';
	va_end(ap);
}

/* What libconfuse's unquoted-string rule takes. */
static bool
wordch(int c)
{
	return c != '\0' && strchr(" \t\r\n#\"'={}()+,*", c) == NULL;
}

/* The key a value token spells where it stands, and its kind; NULL if
 * there is none there. */
static const char *
key_of(const struct walk *w, const struct tok *t, enum conftext_kind *kind)
{
	const char	*section = NULL;
	size_t		 i;

	if (t->c != 0 || t->text == NULL)
		return NULL;
	for (i = w->depth; i > 0 && section == NULL; i--)
		if (!w->open[i - 1].list)
			section = w->open[i - 1].key;
	return w->ct->keys(section, t->text, t->len, kind);
}

/* The key a value at this point belongs to, for a message. */
static const char *
context_key(const struct walk *w)
{
	enum conftext_kind	 kind;
	const char		*key;

	if (w->depth > 0 && w->open[w->depth - 1].list)
		return w->open[w->depth - 1].key;
	if (w->tok[0].c == '=' || w->tok[0].c == '+')
		return key_of(w, &w->tok[1], &kind);
	key = key_of(w, &w->tok[0], &kind);
	return key != NULL && kind == CONFTEXT_SECTION ? key : NULL;
}

/* "${...}" at s, as libconfuse reads it: its end, or NULL if none. */
static char *
env_end(struct walk *w, char *s)
{
	char *q;

	if (s + 1 >= w->end || s[0] != '$' || s[1] != '{')
		return NULL;
	for (q = s + 2; q < w->end && *q != '}' && *q != '\0'; q++)
		;
	if (q == w->end || *q == '\0')
		return NULL;
	/* libconfuse counts no line inside. */
	if (memchr(s, '\n', (size_t)(q - s)) != NULL) {
		fail(w, w->line, context_key(w), "a ${NAME} reference must "
		    "stand on one line");
		return NULL;
	}
	return q + 1;
}

/* A quoted string from w->p; -1 when it is not closed. */
static int
string(struct walk *w, struct tok *t)
{
	char	q = *w->p++, *env;

	for (t->text = w->p; w->p < w->end && *w->p != q; w->p++) {
		if (*w->p == '\0')
			break;
		if (*w->p == '\\' && w->p + 1 < w->end && w->p[1] != '\0')
			w->p++;
		else if (q == '"' && (env = env_end(w, w->p)) != NULL)
			w->p = env - 1;
		else if (w->ct->line != 0)
			return -1;
		w->line += *w->p == '\n';
	}
	if (w->p < w->end && *w->p == q) {
		t->len = (size_t)(w->p++ - t->text);
		return 0;
	}
	if (w->p < w->end)
		fail(w, w->line, NULL, "NUL character in the file");
	else
		fail(w, t->line, context_key(w), "string is not closed "
		    "(missing %s)", q == '"' ? "'\"'" : "\"'\"");
	return -1;
}

/* Blanks a comment from w->p, newlines kept; -1 when it is not closed. */
static int
comment(struct walk *w)
{
	char	*e;

	if (w->p[1] == '*') {
		for (e = w->p + 2; e + 1 < w->end &&
		    !(e[0] == '*' && e[1] == '/'); e++)
			;
		if (e + 1 >= w->end) {
			fail(w, w->line, NULL, "comment is not closed "
			    "(missing \"*/\")");
			return -1;
		}
		e += 2;
	} else if ((e = memchr(w->p, '\n', (size_t)(w->end - w->p))) == NULL)
		e = w->end;
	for (; w->p < e; w->p++)
		if (*w->p == '\n')
			w->line++;
		else
			*w->p = ' ';
	return 0;
}

/* The next token, or -1 at the end or at a mistake. */
static int
next(struct walk *w, struct tok *t)
{
	char *s;

	while (w->ct->line == 0 && w->p < w->end) {
		s = w->p;
		*t = (struct tok){ 0, NULL, 0, w->line };
		if (*s == '\0') {
			fail(w, w->line, NULL, "NUL character in the file");
			return -1;
		}
		if (*s == '#' || (*s == '/' && s + 1 < w->end &&
		    (s[1] == '/' || s[1] == '*'))) {
			if (comment(w) == -1)
				return -1;
			continue;
		}
		if (*s == '"' || *s == '\'')
			return string(w, t);
		if ((w->p = env_end(w, s)) == NULL) {
			if (w->ct->line != 0)
				return -1;
			w->p = s + 1;
			if (*s == '+' && w->p < w->end && *w->p == '=') {
				w->p++;
				t->c = '+';
				return 0;
			}
			if (!wordch(*s)) {
				w->line += *s == '\n';
				if (strchr("{}=,()", *s) == NULL)
					continue;	/* blanks, '+', '*' */
				t->c = *s;
				return 0;
			}
			while (w->p < w->end && wordch(*w->p))
				w->p++;
		}
		t->text = s;
		t->len = (size_t)(w->p - s);
		return 0;
	}
	return -1;
}

/*
 * After '=': a value, or '{' for a list.  In a list: a value or '}'
 * first and after ',', then ',' or '}'.  Only under a known key, since
 * libconfuse reports an unknown one first, and not after a section's
 * key, where libconfuse reports the '='.
 */
static void
check(struct walk *w, const struct tok *t)
{
	const struct brace	*top = w->depth > 0 ? &w->open[w->depth - 1] :
	    NULL;
	enum conftext_kind	 kind;
	const char		*key, *what = t->c == '+' ? "+=" : "?";
	char			 c[2] = { (char)t->c, '\0' };
	int			 prev = w->tok[0].c;

	if (t->c != '+')
		what = c;
	if (prev == '=' || prev == '+') {
		key = key_of(w, &w->tok[1], &kind);
		if (key != NULL && kind != CONFTEXT_SECTION && t->c != 0 &&
		    (t->c != '{' || kind != CONFTEXT_LIST))
			fail(w, t->line, key, "expected a value, not '%s'",
			    what);
	} else if (top != NULL && top->list && top->key != NULL) {
		if ((prev == '{' || prev == ',') && t->c != 0 && t->c != '}')
			fail(w, t->line, top->key, "expected a value in the "
			    "list, not '%s'", what);
		else if (prev == 0 && t->c != ',' && t->c != '}')
			fail(w, t->line, top->key, "expected ',' or '}' in "
			    "the list");
	}
}

/* A '{': a list after '=', a section after a key and a name, else a
 * stray one.  -1 when memory runs out. */
static int
open_brace(struct walk *w, const struct tok *t)
{
	struct conftext		*ct = w->ct;
	struct brace		*b = &w->open[w->depth];
	const struct tok	*name = &w->tok[0];
	enum conftext_kind	 kind;
	const char		*key;
	void			*p;

	if (w->depth == CONFTEXT_DEPTH) {
		fail(w, t->line, NULL, "sections nested too deeply");
		return 0;
	}
	w->depth++;
	*b = (struct brace){ false, NULL, NULL, 0, t->line };
	if (name->c == '=' || name->c == '+') {
		b->list = true;
		b->key = key_of(w, &w->tok[1], &kind);
		return 0;
	}
	if (name->c != 0 || (key = key_of(w, &w->tok[1], &kind)) == NULL ||
	    kind != CONFTEXT_SECTION)
		return 0;
	b->key = key;
	b->line = w->tok[1].line;
	if (memchr(name->text, '\n', name->len) == NULL &&
	    !conftext_secret_line(w->text, name->line)) {
		b->title = name->text;
		b->tlen = name->len > CONFTEXT_TITLE ? CONFTEXT_TITLE :
		    name->len;
	}
	if (w->depth > 1)
		return 0;
	if (ct->nsects == ct->asects) {
		if ((p = reallocarray(ct->sects, ct->asects + 16,
		    sizeof(*ct->sects))) == NULL)
			return -1;
		ct->sects = p;
		ct->asects += 16;
	}
	ct->sects[ct->nsects++] = (struct conftext_section){ key, b->line };
	return 0;
}

/* What is left open at the end, the innermost first. */
static void
at_end(struct walk *w)
{
	const struct brace	*b;
	enum conftext_kind	 kind;
	const char		*key;

	if (w->depth == 0) {
		if ((w->tok[0].c == '=' || w->tok[0].c == '+') &&
		    (key = key_of(w, &w->tok[1], &kind)) != NULL)
			fail(w, w->tok[0].line, key, "missing value");
		return;
	}
	b = &w->open[w->depth - 1];
	w->ct->at_end = true;
	if (b->list)
		fail(w, b->line, b->key, "list is not closed (missing '}')");
	else if (b->title != NULL)
		fail(w, b->line, b->key, "section \"%.*s\" is not closed "
		    "(missing '}')", (int)b->tlen, b->title);
	else
		fail(w, b->line, b->key, "'{' is not closed (missing '}')");
}

int
conftext_prepare(struct conftext *ct, char *text, size_t len)
{
	struct walk	w = { .ct = ct, .text = text, .p = text,
	    .end = text + len, .line = 1 };
	struct tok	t;

	while (next(&w, &t) == 0) {
		check(&w, &t);
		if (t.c == '{' && open_brace(&w, &t) == -1)
			return -1;
		if (t.c == '}' && w.depth > 0)
			w.depth--;
		memmove(&w.tok[1], &w.tok[0], 2 * sizeof(w.tok[0]));
		w.tok[0] = t;
		ct->last_line = t.line;
	}
	if (ct->line == 0)
		at_end(&w);
	return 0;
}

void
conftext_free(struct conftext *ct)
{
	free(ct->sects);
	ct->sects = NULL;
	ct->nsects = ct->asects = 0;
}

unsigned
conftext_section_line(const struct conftext *ct, const char *key, size_t nth,
    size_t total)
{
	size_t i, n = 0;

	for (i = 0; i < ct->nsects; i++)
		n += strcmp(ct->sects[i].key, key) == 0;
	if (n < total)
		return 0;
	for (i = 0; i < ct->nsects; i++)
		if (strcmp(ct->sects[i].key, key) == 0 && nth-- == 0)
			return ct->sects[i].line;
	return 0;
}

unsigned
conftext_start_line(unsigned line, const char *token)
{
	while ((token = strchr(token, '\n')) != NULL && line > 1) {
		line--;
		token++;
	}
	return line;
}

bool
conftext_secret_line(const char *text, unsigned line)
{
	while (line-- > 1 && (text = strchr(text, '\n')) != NULL)
		text++;
	if (text == NULL)
		return true;
	text += strspn(text, " \t");
	return strncmp(text, "password", 8) == 0 ||
	    strncmp(text, "oauth2_client_secret", 20) == 0;
}
