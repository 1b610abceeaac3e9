/*
 * Unit tests for util's one parser of durations and sizes and its one
 * reader of small files.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "suites.h"
#include "util.h"

/* util_parse_scaled's result, or -1 with errno. */
static long long
scaled(const char *s, enum util_unit unit, unsigned long long max)
{
	unsigned long long v = 0;

	if (util_parse_scaled(s, unit, max, &v) == -1)
		return -1;
	return (long long)v;
}

START_TEST(scaled_durations)
{
	ck_assert_int_eq(scaled("45", UTIL_SECONDS, UINT_MAX), 45);
	ck_assert_int_eq(scaled("0", UTIL_SECONDS, UINT_MAX), 0);
	ck_assert_int_eq(scaled("90s", UTIL_SECONDS, UINT_MAX), 90);
	ck_assert_int_eq(scaled("5m", UTIL_SECONDS, UINT_MAX), 300);
	ck_assert_int_eq(scaled("2h", UTIL_SECONDS, UINT_MAX), 7200);
	ck_assert_int_eq(scaled("5d", UTIL_SECONDS, UINT_MAX), 432000);
	ck_assert_int_eq(scaled("4294967295", UTIL_SECONDS, UINT_MAX),
	    UINT_MAX);
	ck_assert_int_eq(scaled("49710d", UTIL_SECONDS, UINT_MAX),
	    49710LL * 86400);
	/* Above max, or past what strtoull holds. */
	ck_assert_int_eq(scaled("4294967296", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(scaled("49711d", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(scaled("99999999999999999999999", UTIL_SECONDS,
	    UINT_MAX), -1);
	ck_assert_int_eq(errno, ERANGE);
	/* Signs, blanks, fractions, other units, two units. */
	ck_assert_int_eq(scaled("+5m", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("-5m", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled(" 5m", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("1.5h", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("5M", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("5mm", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("m", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(scaled("", UTIL_SECONDS, UINT_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* The command line's durations: positive, a year at most. */
	ck_assert_int_eq(util_parse_duration("365d"), 365L * 86400);
	ck_assert_int_eq(util_parse_duration("525601m"), -1);
	ck_assert_int_eq(util_parse_duration("+5m"), -1);
}
END_TEST

START_TEST(scaled_sizes)
{
	ck_assert_int_eq(scaled("1000", UTIL_BYTES, LONG_MAX), 1000);
	ck_assert_int_eq(scaled("10K", UTIL_BYTES, LONG_MAX), 10240);
	ck_assert_int_eq(scaled("10k", UTIL_BYTES, LONG_MAX), 10240);
	ck_assert_int_eq(scaled("50M", UTIL_BYTES, LONG_MAX), 50LL << 20);
	ck_assert_int_eq(scaled("1g", UTIL_BYTES, LONG_MAX), 1LL << 30);
	ck_assert_int_eq(scaled("8589934591G", UTIL_BYTES, LONG_MAX),
	    8589934591LL << 30);
	ck_assert_int_eq(scaled("8589934592G", UTIL_BYTES, LONG_MAX), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(scaled("1T", UTIL_BYTES, LONG_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("5MB", UTIL_BYTES, LONG_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(scaled("5s", UTIL_BYTES, LONG_MAX), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static char	 dir[] = "/tmp/check_util.XXXXXX";
static char	 path[64];

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/f", dir),
	    (int)sizeof(path));
}

static void
teardown(void)
{
	char fifo[80];

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
	memcpy(dir + sizeof(dir) - 7, "XXXXXX", 6);
}

static void
put(const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* util_read_file into a new buf: 0, or errno. */
static int
read_into(struct buf *b, const char *p, size_t cap, bool regular_only)
{
	buf_init(b, 0);
	return util_read_file(p, cap, regular_only, b) == 0 ? 0 : errno;
}

START_TEST(read_file_caps)
{
	static const char	 text[] = "first\0second\n";
	struct buf		 b;

	put(text, sizeof(text) - 1);
	/* Whole, NUL bytes and all; a file of exactly cap bytes fits. */
	ck_assert_int_eq(read_into(&b, path, sizeof(text) - 1, true), 0);
	ck_assert_uint_eq(b.len, sizeof(text) - 1);
	ck_assert_mem_eq(b.data, text, sizeof(text) - 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	/* Appended to what out holds. */
	ck_assert_int_eq(util_read_file(path, 100, false, &b), 0);
	ck_assert_uint_eq(b.len, 2 * (sizeof(text) - 1));
	buf_free(&b);
	/* One byte more than cap. */
	ck_assert_int_eq(read_into(&b, path, sizeof(text) - 2, false), EFBIG);
	buf_free(&b);
	/* No size to go by: read up to cap, then one byte more. */
	ck_assert_int_eq(read_into(&b, "/dev/zero", 100, false), EFBIG);
	ck_assert_uint_eq(b.len, 100);
	buf_free(&b);
	ck_assert_int_eq(read_into(&b, "/dev/null", 100, false), 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(read_file_refusals)
{
	char		fifo[80];
	struct buf	b;

	ck_assert_int_eq(read_into(&b, path, 100, false), ENOENT);
	ck_assert_int_eq(read_into(&b, dir, 100, false), EISDIR);
	ck_assert_int_eq(read_into(&b, dir, 100, true), EISDIR);
	ck_assert_int_eq(read_into(&b, "/dev/null", 100, true), EINVAL);
	/* A FIFO without a writer: refused at once, not waited on. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(read_into(&b, fifo, 100, true), EINVAL);
	buf_free(&b);
}
END_TEST

Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc;

	tc = tcase_create("scaled");
	tcase_add_test(tc, scaled_durations);
	tcase_add_test(tc, scaled_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("read_file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_file_caps);
	tcase_add_test(tc, read_file_refusals);
	suite_add_tcase(s, tc);
	return s;
}
