/*
 * esmtp: the syntax of ESMTP command arguments.  See esmtp.h.
 *
 * Pure functions over a command line the caller owns: the path and
 * parameter parsers cut it in place (NUL-terminating what they hand
 * back), so nothing is copied and nothing is allocated but decoded
 * xtext.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "esmtp.h"
#include "util.h"

bool
esmtp_blank(char c)
{
	return c == ' ' || c == '\t';
}

char *
esmtp_skip_blanks(char *p)
{
	while (esmtp_blank(*p))
		p++;
	return p;
}

int
esmtp_path(char **pp, char **addr)
{
	char	*p = *pp, *start, *c;
	bool	 quoted = false;

	if (*p == '<') {
		start = ++p;
		for (; *p != '\0'; p++) {
			if (quoted && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && (*p == '<' || esmtp_blank(*p)))
				return -1;
			else if (!quoted && *p == '>')
				break;
		}
		if (*p != '>')
			return -1;
		*p++ = '\0';
		if (*p != '\0' && !esmtp_blank(*p))
			return -1;
	} else {
		start = p;
		while (*p != '\0' && !esmtp_blank(*p)) {
			if (*p == '<' || *p == '>')
				return -1;
			p++;
		}
		if (p == start)
			return -1;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (start[0] == '@') {
		if ((c = strchr(start, ':')) == NULL || c[1] == '\0')
			return -1;
		start = c + 1;
	}
	*addr = start;
	*pp = p;
	return 0;
}

int
esmtp_param(char **pp, char **key, char **value)
{
	char	*p = esmtp_skip_blanks(*pp), *k;

	if (*p == '\0')
		return 0;
	k = p;
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9')))
		return -1;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    (*p >= '0' && *p <= '9') || *p == '-')
		p++;
	*key = k;
	*value = NULL;
	if (*p == '=') {
		*p++ = '\0';
		*value = p;
		/* esmtp-value: octets 33-126 but '='; UTF-8 (RFC 6531). */
		while (*p != '\0' && !esmtp_blank(*p)) {
			if ((unsigned char)*p < 33 || *p == '=' || *p == 0x7f)
				return -1;
			p++;
		}
		if (p == *value)
			return -1;
	}
	if (*p != '\0' && !esmtp_blank(*p))
		return -1;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return 1;
}

int
esmtp_xtext_decode(struct buf *out, const char *s, size_t len)
{
	size_t	 i;
	int	 hi, lo;
	char	 c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+') {
			if (len - i < 3 || (hi = util_hexval(s[i + 1])) == -1 ||
			    (lo = util_hexval(s[i + 2])) == -1) {
				errno = EINVAL;
				return -1;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if ((unsigned char)c < 0x21 ||
		    (unsigned char)c > 0x7e || c == '=') {
			errno = EINVAL;
			return -1;
		}
		if (buf_addch(out, c) == -1)
			return -1;
	}
	return 0;
}

bool
esmtp_envid_ok(const struct buf *b)
{
	size_t	 i;

	if (b->len == 0 || b->len > ESMTP_ENVID_MAX)
		return false;
	for (i = 0; i < b->len; i++)
		if (b->data[i] < 0x20 || b->data[i] > 0x7e)
			return false;
	return true;
}

int
esmtp_notify(const char *v, char *dst, size_t dstlen)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char	*p = v, *e;
	size_t		 len, i, l;
	unsigned	 seen = 0;

	if (strcasecmp(v, "NEVER") == 0) {
		snprintf(dst, dstlen, "NEVER");
		return 0;
	}
	for (;;) {
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		for (i = 0; i < NELEM(words); i++)
			if (strlen(words[i]) == len &&
			    strncasecmp(words[i], p, len) == 0)
				break;
		if (i == NELEM(words))
			return -1;
		seen |= 1u << i;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	dst[0] = '\0';
	for (i = 0; i < NELEM(words); i++)
		if (seen & (1u << i)) {
			l = strlen(dst);
			snprintf(dst + l, dstlen - l, "%s%s", l ? "," : "",
			    words[i]);
		}
	return 0;
}
