/*
 * addr: RFC 5322 addresses.
 *
 * addr_parse_list() extracts the addr-specs from an address-list header
 * body: display names, quoted strings, comments (nested), angle
 * addresses with obsolete routes, groups ("undisclosed-recipients:;"),
 * folding whitespace, and empty list elements (obs-addr-list).  Display
 * names are dropped, so encoded words need no decoding here.  Local parts
 * are kept as written, quotes included; 8-bit (UTF-8) octets are allowed
 * in atoms and quoted strings (RFC 6532).
 *
 * No address ever holds a control character (C0 or DEL), quoted,
 * escaped or not: an address goes into SMTP commands and headers, where
 * a CR or LF would start another.  Outside addresses, TAB is white
 * space, and in a header (addr_parse_list) so are the CR and LF of
 * folding, also inside a display name or a comment; on a command line
 * or in an SMTP command (addr_parse_arg, addr_parse_one) CR and LF are
 * refused wherever they are.
 *
 * Errors: -1 with a message naming the offending text (at most 200
 * bytes of it, control characters written as \xHH), errno EINVAL
 * (malformed) or E2BIG (more than ADDR_LIST_MAX addresses; the text
 * after the one too many is not read); nothing is appended to the list
 * then.
 */
#ifndef SENDQ_ADDR_H
#define SENDQ_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The most addresses one list may hold (addr_parse_list refuses more). */
#define ADDR_LIST_MAX	1000

/* Read v and n; change it only through these functions. */
struct addr_list {
	char	**v;
	size_t	  n;
	size_t	  cap;		/* of v */
	size_t	 *set;		/* hash set of indexes into v, plus one */
	size_t	  nset;		/* its slots: 0 or a power of two */
};

void	addr_list_init(struct addr_list *l);
void	addr_list_free(struct addr_list *l);
/* Appends a copy unless an equal address (case-insensitive ASCII
 * domain, case-sensitive local part) is present; the test takes
 * constant time on average.  -1 on ENOMEM. */
int	addr_list_add(struct addr_list *l, const char *addr);
/* Whether an equal address (as addr_list_add compares) is in l. */
bool	addr_list_has(const struct addr_list *l, const char *addr);
/* Drops the addresses from index n on. */
void	addr_list_truncate(struct addr_list *l, size_t n);

/* An address list from a header or a file: CR and LF may fold. */
int	addr_parse_list(const char *s, size_t len, struct addr_list *out,
	    char *err, size_t errlen);
/* An address list given as one argument (command line): no CR or LF. */
int	addr_parse_arg(const char *s, struct addr_list *out, char *err,
	    size_t errlen);
/*
 * Copies an address-list header body to out with "@domain" added to
 * every address that has no domain; every other byte stays as it was
 * (display names, comments, folding).  -1 with err when the text does
 * not parse (the caller then keeps it as it is).
 */
int	addr_rewrite_text(const char *s, size_t len, const char *domain,
	    struct buf *out, char *err, size_t errlen);
/*
 * The name of the first mailbox of an address-list header body that has
 * one, added to out.  A display name is copied as written (quoted
 * strings, encoded words, comments and folding kept), *comment false.
 * A mailbox without one may be named by a comment beside it, the old
 * form "root (Cron Daemon)": then the comment's text, without its
 * parentheses and outer blanks, quoted pairs undone and folding line
 * breaks dropped, *comment true (it is no phrase yet: the caller makes
 * one).  Nothing is added when no mailbox has a name.  -1 with err when
 * the text does not parse, or on ENOMEM.
 */
int	addr_first_name(const char *s, size_t len, struct buf *out,
	    bool *comment, char *err, size_t errlen);
/* One address as given on a command line or in an SMTP command:
 * "user", "user@domain", "<user@domain>" or "Name <user@domain>", no
 * CR or LF.  Returns a new string (free it), or NULL with err set. */
char	*addr_parse_one(const char *s, char *err, size_t errlen);
/* "user" -> "user@domain"; an address with a domain is copied. */
char	*addr_qualify(const char *addr, const char *domain);
/* The part after the last '@' outside quotes, or NULL. */
const char *addr_domain(const char *addr);

#endif
