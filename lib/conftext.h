/*
 * conftext: the text of a configuration file made fit for libconfuse,
 * which then parses it (conf.c).
 *
 * libconfuse 3 counts each comment as one or two lines more than it is,
 * accepts an unclosed section or comment without a word, and reports an
 * unclosed list or string only at the end of the file.  So before it
 * reads the text, conftext_prepare() blanks every comment in place,
 * keeping each newline and every byte inside a string: then libconfuse's
 * line counter is exact.  It reports the first string, comment, list or
 * section left open at the line where it opens, and a token out of place
 * after '=' or in a list with the key it belongs to, which libconfuse's
 * message does not name.  Blanking comments first also lets a comment
 * stand inside a list or between a key and its value.  It follows
 * libconfuse's lexer as far as comments, strings, ${NAME} and
 * punctuation go, and no further: the grammar stays libconfuse's.
 *
 * Security: a message names a key or a section's name, never a value;
 * a name on a line that sets a password is not shown either.
 */
#ifndef SENDQ_CONFTEXT_H
#define SENDQ_CONFTEXT_H

#include <stdbool.h>
#include <stddef.h>

enum conftext_kind {
	CONFTEXT_VALUE,		/* key = value */
	CONFTEXT_LIST,		/* key = { value, ... } */
	CONFTEXT_SECTION,	/* key name { ... } */
};

/* The caller's keys: the static name and the kind of the key spelt
 * s[0..len) in the section of that key (NULL: at top level), or NULL
 * when there is none there. */
typedef const char *(*conftext_key_fn)(const char *section, const char *s,
	    size_t len, enum conftext_kind *kind);

struct conftext_section {
	const char	*key;		/* as conftext_key_fn returned it */
	unsigned	 line;		/* of the key */
};

struct conftext {
	conftext_key_fn	 keys;		/* set by the caller */
	unsigned	 line;		/* of the first mistake; 0: none */
	char		 msg[256];	/* "KEY: what is wrong" or "what" */
	bool		 at_end;	/* a brace left open: seen at the end */
	unsigned	 last_line;	/* of the last token */
	struct conftext_section *sects;	/* the sections at top level */
	size_t		 nsects, asects;
};

/*
 * Blanks the comments of text[0..len) and fills in ct (zeroed but for
 * keys).  A mistake is not a failure: it is in ct->line and ct->msg, and
 * the text after it is left as it was.  Returns -1 (errno ENOMEM) only
 * when memory runs out.  Free ct with conftext_free().
 */
int	conftext_prepare(struct conftext *ct, char *text, size_t len);
void	conftext_free(struct conftext *ct);

/* The line of the nth section of that key, or 0 when the pre-pass saw
 * fewer than total of them (libconfuse's count). */
unsigned conftext_section_line(const struct conftext *ct, const char *key,
	    size_t nth, size_t total);

/* The line where a token of that text starts, libconfuse's counter
 * being on the line where it ends. */
unsigned conftext_start_line(unsigned line, const char *token);

/* Whether line (from 1) of text, a NUL-terminated string, sets a
 * password: a word on it must not be shown. */
bool	conftext_secret_line(const char *text, unsigned line);

#endif
