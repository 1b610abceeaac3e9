/*
 * The one test runner: the Check unit suites, then every script in
 * tests/integration and tests/interop as a test of its own, so that
 * Check's summary line counts the whole suite.
 *
 * A script passes by exiting 0.  There is no skip: a script that cannot
 * run (a missing package, no server) fails.  Its output goes to
 * $SENDQ_BUILD/tests/logs/NAME.log; the tail is shown on failure.
 *
 * SENDQ_ONLY=unit runs the unit suites alone; SENDQ_ONLY=NAME runs just
 * the integration script NAME.sh.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"

#define MAX_SCRIPTS	256

static char	*scripts[MAX_SCRIPTS];
static int	 nscripts;
static const char *top, *build;

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
find_scripts(const char *dir, const char *only)
{
	char		 path[4096];
	DIR		*d;
	struct dirent	*de;
	size_t		 l;

	snprintf(path, sizeof path, "%s/tests/%s", top, dir);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && nscripts < MAX_SCRIPTS) {
		l = strlen(de->d_name);
		if (l < 4 || strcmp(de->d_name + l - 3, ".sh") != 0 ||
		    strcmp(de->d_name, "lib.sh") == 0)
			continue;
		if (only != NULL && (strncmp(de->d_name, only, l - 3) != 0 ||
		    only[l - 3] != '\0'))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		scripts[nscripts++] = strdup(path);
	}
	closedir(d);
}

static void
show_tail(const char *log)
{
	char	 line[1024];
	long	 n = 0, skip;
	FILE	*f;

	if ((f = fopen(log, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL)
		n++;
	rewind(f);
	skip = n > 40 ? n - 40 : 0;
	fprintf(stderr, "---- %s (last %ld lines)\n", log, n - skip);
	for (n = 0; fgets(line, sizeof line, f) != NULL; n++)
		if (n >= skip)
			fputs(line, stderr);
	fprintf(stderr, "----\n");
	fclose(f);
}

START_TEST(test_script)
{
	const char	*s = scripts[_i];
	char		 log[4096], name[512], cmd[9000], *p;
	int		 st;

	snprintf(name, sizeof name, "%s", s);
	for (p = name; *p != '\0'; p++)
		if (*p == '/')
			*p = '-';
	snprintf(log, sizeof log, "%s/tests/logs", build);
	mkdir(log, 0755);
	snprintf(log, sizeof log, "%s/tests/logs/%s.log", build, name);
	snprintf(cmd, sizeof cmd, "cd '%s' && bash 'tests/%s' >'%s' 2>&1 "
	    "</dev/null", top, s, log);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		show_tail(log);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "%s failed (exit %d); log: %s", s,
	    st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
}
END_TEST

static Suite *
scripts_suite(const char *only)
{
	Suite	*s = suite_create("integration");
	TCase	*tc;
	int	 i;

	find_scripts("integration", only);
	find_scripts("interop", only);
	qsort(scripts, (size_t)nscripts, sizeof *scripts, cmp);
	for (i = 0; i < nscripts; i++) {
		/* One test case a script, named after it. */
		tc = tcase_create(scripts[i]);
		tcase_set_timeout(tc, 600);
		tcase_add_loop_test(tc, test_script, i, i + 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	SRunner		*sr;
	const char	*only = getenv("SENDQ_ONLY");
	int		 failed;

	top = getenv("SENDQ_TOP") ? getenv("SENDQ_TOP") : SENDQ_TOP;
	build = getenv("SENDQ_BUILD") ? getenv("SENDQ_BUILD") : top;
	setenv("SENDQ_TOP", top, 1);
	setenv("SENDQ_BUILD", build, 1);

	sr = srunner_create(NULL);
	if (only == NULL || strcmp(only, "unit") == 0) {
		srunner_add_suite(sr, buf_suite());
		srunner_add_suite(sr, addr_suite());
		srunner_add_suite(sr, smtp_suite());
		srunner_add_suite(sr, transcript_suite());
		srunner_add_suite(sr, queue_suite());
		srunner_add_suite(sr, mail_suite());
		srunner_add_suite(sr, conf_suite());
		srunner_add_suite(sr, util_suite());
		srunner_add_suite(sr, sasl_suite());
		srunner_add_suite(sr, smtpd_suite());
		srunner_add_suite(sr, alias_suite());
		srunner_add_suite(sr, resolve_suite());
		srunner_add_suite(sr, bounce_suite());
		srunner_add_suite(sr, plan_suite());
		srunner_add_suite(sr, stream_suite());
		srunner_add_suite(sr, deliver_suite());
		srunner_add_suite(sr, explain_suite());
		srunner_add_suite(sr, oauth2_suite());
		srunner_add_suite(sr, notify_suite());
	}
	if (only == NULL || strcmp(only, "unit") != 0)
		srunner_add_suite(sr, scripts_suite(only));
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
