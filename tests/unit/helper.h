/*
 * What several unit suites share: a temporary directory holding a spool
 * and a configuration (check_bounce, check_smtpd), the removal of such a
 * directory, and an allocator for buf that looks at every block as it
 * is freed (check_buf, check_sasl).
 */
#ifndef SENDQ_TEST_HELPER_H
#define SENDQ_TEST_HELPER_H

#include <stddef.h>

struct conf;

extern char		 t_dir[64];	/* /tmp/sendq-NAME-XXXXXX */
extern char		 t_queue[128];	/* t_dir/q, the queue_dir */
extern struct conf	*t_conf;

/*
 * Makes t_dir, writes t_dir/sendq.conf (hostname mx.example.com, domain
 * example.com, queue_dir t_queue, log t_dir/log, no aliases file, then
 * the formatted text), loads it into t_conf and opens the log there.
 * Fails the test on any error.
 */
void	t_conf_setup(const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Closes the log, frees t_conf and removes t_dir. */
void	t_teardown(void);
/* Removes dir and everything below it, following no link. */
void	t_rmrf(const char *dir);

/*
 * From now on every block a buf frees (or leaves behind by growing) is
 * searched for marker before it goes; t_watch_end() restores the usual
 * allocator and returns how many of them held it.  Growth always moves
 * the storage, as realloc may.
 */
void	t_watch_frees(const char *marker);
size_t	t_watch_end(void);

#endif
