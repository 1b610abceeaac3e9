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
 * Errors: -1 with a message naming the offending text, errno EINVAL
 * (malformed) or E2BIG (more than ADDR_LIST_MAX addresses); nothing is
 * appended to the list then.
 */
#ifndef SENDQ_ADDR_H
#define SENDQ_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* The most addresses one list may hold (addr_parse_list refuses more). */
#define ADDR_LIST_MAX	1000

struct addr_list {
	char	**v;
	size_t	  n;
};

void	addr_list_init(struct addr_list *l);
void	addr_list_free(struct addr_list *l);
/* Appends a copy unless an equal address (case-insensitive domain,
 * case-sensitive local part) is present.  -1 on ENOMEM. */
int	addr_list_add(struct addr_list *l, const char *addr);

int	addr_parse_list(const char *s, size_t len, struct addr_list *out,
	    char *err, size_t errlen);
/*
 * Copies an address-list header body to out with every address
 * replaced by `replace` when that is not NULL, else with "@domain" added
 * to every address that has no domain; every other byte stays as it was
 * (display names, comments, folding).  -1 with err when the text does
 * not parse (the caller then keeps it as it is).
 */
int	addr_rewrite_text(const char *s, size_t len, const char *domain,
	    const char *replace, struct buf *out, char *err, size_t errlen);
/* One address as given on a command line: "user", "user@domain",
 * "<user@domain>" or "Name <user@domain>".  Returns a new string
 * (free it), or NULL with err set. */
char	*addr_parse_one(const char *s, char *err, size_t errlen);
/* "user" -> "user@domain"; an address with a domain is copied. */
char	*addr_qualify(const char *addr, const char *domain);
/* The part after the last '@' outside quotes, or NULL. */
const char *addr_domain(const char *addr);

#endif
