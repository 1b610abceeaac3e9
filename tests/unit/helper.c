/* What several unit suites share.  See helper.h. */
#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "helper.h"

char		 t_dir[64];
char		 t_queue[128];
struct conf	*t_conf;

void
t_conf_setup(const char *name, const char *fmt, ...)
{
	char	 path[160], err[512];
	FILE	*f;
	va_list	 ap;

	snprintf(t_dir, sizeof t_dir, "/tmp/sendq-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(t_dir));
	snprintf(t_queue, sizeof t_queue, "%s/q", t_dir);
	snprintf(path, sizeof path, "%s/sendq.conf", t_dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "hostname = \"mx.example.com\"\n"
	    "domain = \"example.com\"\n"
	    "queue_dir = \"%s\"\n"
	    "log = \"%s/log\"\n"
	    "aliases_file = \"\"\n", t_queue, t_dir);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(conf_load(path, &t_conf, err, sizeof err) == 0, "%s",
	    err);
	snprintf(path, sizeof path, "%s/log", t_dir);
	ck_assert_int_eq(log_open("sendq", LOG_DEST_FILE, path), 0);
}

static int
t_rm(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void
t_rmrf(const char *dir)
{
	(void)nftw(dir, t_rm, 16, FTW_DEPTH | FTW_PHYS);
}

void
t_teardown(void)
{
	log_close();
	conf_free(t_conf);
	t_conf = NULL;
	t_rmrf(t_dir);
}

/* --- watching what buf frees ------------------------------------------ */

static const char	*t_marker;
static size_t		 t_found;

static void
t_free(void *p)
{
	if (p != NULL && memmem(p, malloc_usable_size(p), t_marker,
	    strlen(t_marker)) != NULL)
		t_found++;
	free(p);
}

/* Always a new block: the old one goes through t_free as it is. */
static void *
t_realloc(void *p, size_t n)
{
	void	*q;
	size_t	 old;

	if ((q = malloc(n)) == NULL || p == NULL)
		return q;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	t_free(p);
	return q;
}

void
t_watch_frees(const char *marker)
{
	t_marker = marker;
	t_found = 0;
	buf_set_allocator(t_realloc, t_free);
}

size_t
t_watch_end(void)
{
	buf_set_allocator(NULL, NULL);
	return t_found;
}
