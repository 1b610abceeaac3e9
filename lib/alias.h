/*
 * alias: the local aliases, from the inline `alias NAME { to = ... }`
 * sections of sendq.conf and from a sendmail-format aliases file
 * (aliases(5)): loaded, checked and looked up here, expanded by
 * resolve_expand() (resolve.h).
 *
 * sendq never delivers locally: an alias only rewrites a bare local name
 * into other recipients, which are then qualified with `domain` and
 * relayed to the smarthost like any other.  Targets that only a local
 * delivery agent could honour ("|command", "/path/file",
 * ":include:/path") are kept when the file is loaded, so that -bi can
 * report them, but expanding a name that leads to one fails.
 *
 * The file format accepted:
 *   name: target, target, ...
 *   - a line that starts with a blank continues the previous entry;
 *   - a line whose first non-blank character is '#' is a comment, and it
 *     and blank lines are skipped without ending the entry being read;
 *   - a name containing blanks, ':' or other specials is quoted:
 *     "name with space": target
 *   - a target is an RFC 5322 address or list element (display names,
 *     comments, groups), a bare local name (looked up again), "\name"
 *     (a local name never looked up again, sendmail's "keep a copy"
 *     idiom), or one of the undeliverable forms above (quoted or not);
 *   - LF or CRLF line ends.
 * Names are compared without regard to ASCII case, and a quoted name is
 * the same as its unquoted text ("root" and root are one name).
 *
 * Precedence and duplicates: an inline alias hides a file entry of the
 * same name.  Within the file the FIRST definition of a name wins (as in
 * Postfix's postalias; sendmail's newaliases keeps the last); every
 * ignored definition is reported by alias_warning(), as is an inline
 * alias hiding a file entry and a name with '@' (which is never looked
 * up).
 *
 * Limits: the file at most ALIAS_FILE_MAX bytes, a line at most
 * ALIAS_LINE_MAX bytes, at most ALIAS_NAMES_MAX names in the file (and
 * see resolve.h for the limits of an expansion).
 *
 * Ownership: the db owns every string it returns; alias_free() releases
 * them all.  A db is only read after alias_load(), so it may be shared.
 */
#ifndef SENDQ_ALIAS_H
#define SENDQ_ALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define ALIAS_FILE_MAX		(1024 * 1024)
#define ALIAS_LINE_MAX		(64 * 1024)
#define ALIAS_NAMES_MAX		10000

struct alias_db;

/* What an alias names. */
enum alias_kind {
	ALIAS_ADDR,		/* an address; a bare local name is looked up */
	ALIAS_FINAL,		/* "\name": never looked up */
	ALIAS_PIPE,		/* "|command" */
	ALIAS_FILE,		/* "/path/file" */
	ALIAS_INCLUDE,		/* ":include:/path" */
};

struct alias_target {
	enum alias_kind	 kind;
	char		*text;	/* the address, or the form without quotes */
};

/*
 * Loads the inline aliases of conf, then conf->aliases_file (none when
 * NULL).  A missing file (ENOENT) is an empty one.  Returns a new db
 * (free it with alias_free), or NULL with a one-line message in err (at
 * most errlen bytes, NUL-terminated):
 *   "FILE:LINE: what is wrong"   a syntax error or a limit exceeded;
 *   "FILE: what is wrong"        the file cannot be opened or read, is
 *                                not a regular file or is too large;
 *   "CONF: alias NAME: ..."      an inline alias whose target is not an
 *                                address (struct conf keeps no line);
 *   "out of memory".
 * Undeliverable targets are not errors here: see alias_unsupported().
 */
struct alias_db *alias_load(const struct conf *conf, char *err,
	    size_t errlen);

/* Accepts NULL. */
void	alias_free(struct alias_db *db);

/* The number of distinct names defined (case-insensitively), inline and
 * file together: a name defined twice, or inline and in the file,
 * counts once.  Ignored duplicate definitions do not count. */
size_t	alias_count(const struct alias_db *db);

/*
 * Lookups, for resolve_expand().  An alias is known by its index, from 0
 * to alias_count(db) - 1, for the life of the db.
 *
 * alias_find() says whether rcpt names an alias: only a bare local name
 * (no '@' outside quotes) is looked up, without regard to ASCII case,
 * and a local part that is one quoted string by its text ("root" is
 * root).  Returns 1 with *index set, 0 when rcpt names no alias (or db
 * is NULL), -1 on ENOMEM.  alias_name() and alias_targets() return what
 * the db owns: the alias's name, and its targets (*n >= 1 of them).
 */
int	alias_find(const struct alias_db *db, const char *rcpt,
	    size_t *index);
const char *alias_name(const struct alias_db *db, size_t index);
const struct alias_target *alias_targets(const struct alias_db *db,
	    size_t index, size_t *n);

/* Whether sendq can deliver to a target: not "|cmd", "/file" nor
 * ":include:". */
bool	alias_deliverable(const struct alias_target *t);
/* Why it cannot, into dst (at most len bytes, NUL-terminated):
 * "alias NAME: \"|cmd\" cannot be delivered by sendq (it relays
 * everything to the smarthost)", the target escaped. */
void	alias_refusal(const char *name, const struct alias_target *t,
	    char *dst, size_t len);

/*
 * The number of undeliverable targets ("|cmd", "/file", ":include:")
 * among the names in effect.  When there is one and first is not NULL,
 * the first (inline aliases first, then file order) is described in
 * first (at most len bytes, NUL-terminated) as
 *   "FILE:LINE: alias NAME: \"|cmd\" cannot be delivered by sendq (it
 *    relays everything to the smarthost)"
 * ("CONF: alias NAME: ..." for an inline alias).
 */
size_t	alias_unsupported(const struct alias_db *db, char *first,
	    size_t len);

/*
 * Warnings found while loading, in file order (inline ones first):
 * alias_warnings() says how many there were; alias_warning() returns the
 * i-th as "FILE:LINE: text" (owned by the db), or NULL when i is past the
 * end or past the first ALIAS_WARNINGS_KEPT, whose text alone is kept.
 */
#define ALIAS_WARNINGS_KEPT	100
size_t	alias_warnings(const struct alias_db *db);
const char *alias_warning(const struct alias_db *db, size_t i);

#endif
