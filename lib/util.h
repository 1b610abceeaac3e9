/*
 * util: small helpers with no knowledge of mail: full writes, directory
 * fsync, number parsing with range checks, dates, random bytes, and the
 * percent-encoding used in spool records.
 */
#ifndef SENDQ_UTIL_H
#define SENDQ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* write(2) until done; retries EINTR.  -1 with errno on failure. */
int	util_write_all(int fd, const void *data, size_t len);
/* fsync the directory holding path (or path itself when is_dir). */
int	util_fsync_dir(const char *dir);
/* Starts writing fd's dirty pages back without waiting: a hint that
 * lets one later fsync cover several files.  Never fails. */
void	util_start_writeback(int fd);

/* Decimal parsing of the whole string; -1 (errno EINVAL/ERANGE) when s is
 * not a number in [min, max]. */
int	util_parse_ll(const char *s, long long min, long long max,
	    long long *out);

/* RFC 5322 date-time of t in local time, e.g.
 * "Sun, 22 Nov 2026 10:00:01 +0100".  Returns dst. */
const char *util_rfc5322_date(time_t t, char *dst, size_t len);
/* asctime(3)'s "Sun Nov 22 10:00:01" (no year), local time, in
 * English whatever the locale. */
const char *util_asctime(time_t t, char *dst, size_t len);
/* RFC 3339 date-time in UTC, e.g. "2026-11-22T09:00:01Z". */
const char *util_rfc3339_date(time_t t, char *dst, size_t len);
/* The time of day in seconds, read from the clock poll(2) timeouts and
 * date(1) agree with: time(3) may read a coarser one that lags by a
 * tick, and a due time would look both past and future. */
time_t	util_now(void);
/* Milliseconds on the monotonic clock (CLOCK_MONOTONIC), for deadlines:
 * the one clock of every timeout, never set back. */
long long util_monotonic_ms(void);

/* Fills buf with len random bytes from the kernel (getrandom(2), the
 * one random source of both programs); -1 on failure. */
int	util_random(void *buf, size_t len);
/* Overwrites len bytes at p in a way the compiler cannot drop: the one
 * wipe for secrets, in both programs (explicit_bzero(3)). */
void	util_wipe(void *p, size_t len);
/* The value of the hexadecimal digit c, either case, or -1. */
int	util_hexval(int c);
/* The n bytes at src as 2 * n lowercase hexadecimal digits at dst,
 * then a NUL (2 * n + 1 bytes of room). */
void	util_hex(char *dst, const void *src, size_t n);

/*
 * Spool encoding: bytes outside 0x21..0x7e and '%' become "%XX", so an
 * encoded value is one non-empty word ("%" alone stands for "").
 * util_decode returns -1 (errno EINVAL) on a malformed escape.
 */
int	util_encode(struct buf *out, const char *s, size_t len);
int	util_decode(struct buf *out, const char *s, size_t len);

/* True when s holds no octet above 127. */
bool	util_is_ascii(const char *s);

/*
 * The one parser of durations and sizes: the whole of s is digits and
 * at most one unit letter.  UTIL_SECONDS takes s, m, h or d (a bare
 * number is seconds); UTIL_BYTES takes K, M or G in either case, powers
 * of 1024 (a bare number is bytes).  Stores the value in *out; -1 with
 * errno EINVAL when s is not such a number (a sign, a blank, a fraction,
 * another unit), ERANGE when it is above max.
 */
enum util_unit {
	UTIL_SECONDS,
	UTIL_BYTES,
};
int	util_parse_scaled(const char *s, enum util_unit unit,
	    unsigned long long max, unsigned long long *out);
/* A duration on a command line (util_parse_scaled, UTIL_SECONDS):
 * positive and at most a year.  -1 when s is anything else. */
long	util_parse_duration(const char *s);

/*
 * The one reader of a small file whole: appends the file at path to out
 * (initialised by the caller; buf_init_secret for a secret).  A file of
 * more than cap bytes is refused.  When regular_only, anything but a
 * regular file is refused too, and opening does not wait on a FIFO.
 * Returns 0, or -1 with errno from open(2) or read(2) (ENOENT: missing),
 * EISDIR for a directory, EINVAL for another file that is not regular
 * when regular_only, EFBIG past cap, ENOMEM; what was read stays in out
 * for the caller to free or wipe.
 */
int	util_read_file(const char *path, size_t cap, bool regular_only,
	    struct buf *out);
/* Its loop, for a descriptor already open and checked (atfile_read):
 * reads fd to its end into out, at most cap more bytes; -1 with errno
 * from read(2), EFBIG past cap, ENOMEM. */
int	util_read_fd(int fd, size_t cap, struct buf *out);

/* Base64 (RFC 4648, with padding) of data appended to out; -1 with
 * errno ENOMEM or EMSGSIZE.  Here, not in crypto, so that the
 * set-group-ID sendmail can encode a header without linking OpenSSL. */
int	util_base64_encode(struct buf *out, const void *data, size_t len);
/* Decodes text (padded, no whitespace) appended to out; -1 with errno
 * EINVAL on malformed input, ENOMEM or EMSGSIZE (out is unchanged). */
int	util_base64_decode(struct buf *out, const char *text, size_t len);

/* Case-insensitive ASCII comparison of a length-delimited string with a
 * NUL-terminated one. */
bool	util_strieq_n(const char *s, size_t len, const char *lit);

/*
 * Text from outside (a server's reply, an address, a header value) made
 * safe for a terminal, a log line or a spool record: s[0..len) appended
 * to out with every C0 control character and DEL written as "\xHH",
 * except those in keep (NULL: none), which are copied.  Every other
 * byte, the backslash included, is copied too, so that escaping text
 * twice changes nothing.  -1 with errno ENOMEM or EMSGSIZE (out's cap).
 */
int	util_escape(struct buf *out, const char *s, size_t len,
	    const char *keep);

#endif
