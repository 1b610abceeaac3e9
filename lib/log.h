/*
 * log: one line per event to syslog (facility mail), stderr or a file.
 *
 * log_warn appends ": strerror(errno)", log_warnx does not (OpenSMTPD's
 * convention).  log_trace writes to stderr only when tracing is on
 * (sendmail -v, sendq -v): it is how the SMTP dialogue is shown, and its
 * callers must already have replaced secrets.
 *
 * Nothing here knows about mail; callers compose the Postfix-style lines.
 */
#ifndef SENDQ_LOG_H
#define SENDQ_LOG_H

#include <stdbool.h>

enum log_dest {
	LOG_DEST_SYSLOG,
	LOG_DEST_STDERR,
	LOG_DEST_FILE,
};

/* Returns -1 (errno set) when the file cannot be opened; logging then
 * falls back to syslog. */
int	log_open(const char *ident, enum log_dest dest, const char *path);
void	log_close(void);
void	log_set_trace(bool on);
bool	log_tracing(void);

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
