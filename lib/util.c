/*
 * util: generic helpers.  See util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
util_write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
util_start_writeback(int fd)
{
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
	(void)fd;
#endif
}

int
util_fsync_dir(const char *dir)
{
	int	 fd, r, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int
util_parse_ll(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '\t' || *s == '+') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

/* English names, whatever the locale: mail dates are not localised. */
static const char *const util_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const util_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

const char *
util_asctime(time_t t, char *dst, size_t len)
{
	struct tm	 tm;

	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 ||
	    tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
		snprintf(dst, len, "?");
	else
		snprintf(dst, len, "%s %s %2d %02d:%02d:%02d",
		    util_days[tm.tm_wday], util_months[tm.tm_mon], tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
	return dst;
}

const char *
util_rfc5322_date(time_t t, char *dst, size_t len)
{
	struct tm	 tm;
	long		 off;
	char		 sign;

	/* strftime's %a/%b follow the locale; RFC 5322 wants English. */
	if (localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 ||
	    tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(dst, len, "Thu, 01 Jan 1970 00:00:00 +0000");
		return dst;
	}
	off = tm.tm_gmtoff / 60;
	sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(dst, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    util_days[tm.tm_wday], tm.tm_mday, util_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60, off % 60);
	return dst;
}

const char *
util_rfc3339_date(time_t t, char *dst, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(dst, len, "1970-01-01T00:00:00Z");
	return dst;
}

long long
util_monotonic_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

time_t
util_now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int
util_random(void *buf, size_t len)
{
	char	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
util_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

int
util_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 i;
	unsigned char	 c;

	if (len == 0)
		return buf_addch(out, '%');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '%') {
			if (buf_addch(out, (char)c) == -1)
				return -1;
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (buf_add(out, esc, 3) == -1)
				return -1;
		}
	}
	return 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
util_hex(char *dst, const void *src, size_t n)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*s = src;
	size_t			 i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[s[i] >> 4];
		dst[2 * i + 1] = digits[s[i] & 0xf];
	}
	dst[2 * n] = '\0';
}

int
util_decode(struct buf *out, const char *s, size_t len)
{
	size_t	 i;
	int	 hi, lo;

	if (len == 1 && s[0] == '%')
		return buf_add(out, "", 0);
	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (buf_addch(out, s[i]) == -1)
				return -1;
			continue;
		}
		if (len - i < 3 || (hi = util_hexval(s[i + 1])) < 0 ||
		    (lo = util_hexval(s[i + 2])) < 0) {
			errno = EINVAL;
			return -1;
		}
		if (buf_addch(out, (char)(hi << 4 | lo)) == -1)
			return -1;
		i += 2;
	}
	return 0;
}

int
util_base64_encode(struct buf *out, const void *data, size_t len)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*p = data;
	unsigned long		 v;
	size_t			 i, need;
	char			*d;

	if (len > 0x3fffffff) {
		errno = EMSGSIZE;
		return -1;
	}
	need = 4 * ((len + 2) / 3);
	if ((d = buf_reserve(out, need)) == NULL)	/* and the NUL */
		return -1;
	for (i = 0; i < len; i += 3, d += 4) {
		v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		d[0] = abc[v >> 18 & 63];
		d[1] = abc[v >> 12 & 63];
		d[2] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		d[3] = i + 2 < len ? abc[v & 63] : '=';
	}
	out->len += need;
	out->data[out->len] = '\0';
	return 0;
}

/* The value of a base64 digit, or -1 ('=' included). */
static int
util_b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
util_base64_decode(struct buf *out, const char *text, size_t len)
{
	unsigned long	 v = 0;
	size_t		 i, n = 0, pad = 0;
	char		*d;
	int		 c;

	if (len % 4 != 0 || len > 0x3fffffff) {
		errno = EINVAL;
		return -1;
	}
	while (pad < 2 && pad < len && text[len - 1 - pad] == '=')
		pad++;
	if ((d = buf_reserve(out, len / 4 * 3)) == NULL)
		return -1;
	for (i = 0; i < len - pad; i++) {
		if ((c = util_b64val(text[i])) < 0) {
			util_wipe(d, n);	/* out may hold a secret */
			out->data[out->len] = '\0';
			errno = EINVAL;
			return -1;
		}
		v = v << 6 | (unsigned long)c;
		if (i % 4 == 3) {
			d[n++] = (char)(v >> 16);
			d[n++] = (char)(v >> 8);
			d[n++] = (char)v;
			v = 0;
		}
	}
	/* Two or three digits before the padding: one or two bytes. */
	if (pad > 0) {
		v <<= 6 * pad;
		d[n++] = (char)(v >> 16);
		if (pad == 1)
			d[n++] = (char)(v >> 8);
	}
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

bool
util_strieq_n(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

bool
util_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int
util_parse_scaled(const char *s, enum util_unit unit, unsigned long long max,
    unsigned long long *out)
{
	static const char	 *letters[] = { "smhd", "KMGkmg" };
	static const unsigned long long mult[][6] = {
		{ 1, 60, 3600, 86400 },
		{ 1ULL << 10, 1ULL << 20, 1ULL << 30,
		  1ULL << 10, 1ULL << 20, 1ULL << 30 },
	};
	unsigned long long	 v, m = 1;
	const char		*u;
	char			*end;

	if (*s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0' ||
		    (u = strchr(letters[unit], *end)) == NULL) {
			errno = EINVAL;
			return -1;
		}
		m = mult[unit][u - letters[unit]];
	}
	if (v > max / m) {
		errno = ERANGE;
		return -1;
	}
	*out = v * m;
	return 0;
}

long
util_parse_duration(const char *s)
{
	unsigned long long	 v;

	if (util_parse_scaled(s, UTIL_SECONDS, 86400ULL * 365, &v) == -1 ||
	    v == 0)
		return -1;
	return (long)v;
}

int
util_read_fd(int fd, size_t cap, struct buf *out)
{
	size_t	 got = 0, want;
	ssize_t	 n;
	char	*p, probe;

	for (;;) {
		want = cap - got < 8192 ? cap - got : 8192;
		/* At the cap, one more byte tells a full file from a
		 * larger one. */
		if (want == 0)
			p = &probe;
		else if ((p = buf_reserve(out, want)) == NULL)
			return -1;
		n = read(fd, p, want == 0 ? 1 : want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (want == 0) {
			util_wipe(&probe, 1);	/* a secret's byte */
			errno = EFBIG;
			return -1;
		}
		got += (size_t)n;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
}

int
util_read_file(const char *path, size_t cap, bool regular_only,
    struct buf *out)
{
	struct stat	 st;
	int		 fd, r = -1, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (regular_only ? O_NONBLOCK : 0));
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (S_ISDIR(st.st_mode))
		saved = EISDIR;
	else if (regular_only && !S_ISREG(st.st_mode))
		saved = EINVAL;
	else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > cap)
		saved = EFBIG;
	else {
		r = util_read_fd(fd, cap, out);
		saved = errno;
	}
	close(fd);
	errno = saved;
	return r;
}

int
util_escape(struct buf *out, const char *s, size_t len, const char *keep)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, run;
	unsigned char	 c;
	char		 esc[4] = { '\\', 'x', 0, 0 };

	for (i = 0; i < len; i += run) {
		/* The bytes that need nothing, in one copy. */
		for (run = 0; i + run < len; run++) {
			c = (unsigned char)s[i + run];
			if ((c < 0x20 || c == 0x7f) && (c == '\0' ||
			    keep == NULL || strchr(keep, c) == NULL))
				break;
		}
		if (run > 0) {
			if (buf_add(out, s + i, run) == -1)
				return -1;
			continue;
		}
		c = (unsigned char)s[i];
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		if (buf_add(out, esc, sizeof esc) == -1)
			return -1;
		run = 1;
	}
	return 0;
}
