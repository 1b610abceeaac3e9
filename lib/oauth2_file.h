/*
 * oauth2_file: where an account's OAuth2 tokens are kept (SPEC
 * "Providers"): reading the token file, replacing it under its lock,
 * and the process that does both as the file's owner.
 *
 * The file is only ever replaced whole (a temporary FILE.XXXXXX in the
 * same directory, fsync, rename, fsync of the directory), mode 0600,
 * and only under an exclusive lock on FILE.lock beside it (a lock on
 * the file itself would be lost with the rename): a refresh holds it
 * from reading the refresh token to saving the new one, so a rotating
 * refresh token is used once, and a login's save cannot be overwritten
 * by a refresh that started from the old grant.  Temporary files a
 * crash left behind (older than a minute) are removed at the next save.
 *
 * Security: the token directory belongs to the user sendq (the daemon
 * runs as sendq), so that user could replace it, or the files in it,
 * with links.  Root therefore never touches it: when this process runs
 * as root and the user sendq exists, oauth2_file_run does the work in
 * a child process that has become sendq (setgroups, setresgid,
 * setresuid) and passes back only the status, the error text and the
 * access token, over a pipe.  The files are then sendq's without a
 * chown, and a link planted by sendq leads only where sendq may go.
 * Root makes the token directory itself when it is missing (its parent
 * may not be sendq's), and gives it to sendq only when, opened without
 * following links, it is still the empty directory root just made.
 */
#ifndef SENDQ_OAUTH2_FILE_H
#define SENDQ_OAUTH2_FILE_H

#include "oauth2.h"

/*
 * Reads the token file at path into t (the caller clears it).
 * OAUTH2_OK; OAUTH2_NO_LOGIN when it is missing, empty or not a token
 * file; OAUTH2_LOCAL when it cannot be read (permissions, a directory,
 * I/O).  err says which, never quoting a token.
 */
enum oauth2_status oauth2_file_load(const char *path,
	    struct oauth2_token *t, char *err, size_t errlen);
/* The lock beside the token file (FILE.lock, made 0600 when missing in
 * the directory made 0700 when missing), held until the descriptor is
 * closed; -1 with err. */
int	oauth2_file_lock(const char *path, char *err, size_t errlen);
/* Replaces the token file with t; the caller holds the lock.  0, or -1
 * with err. */
int	oauth2_file_save(const char *path, const struct oauth2_token *t,
	    char *err, size_t errlen);
/* oauth2_file_save under the lock, for who does not hold it. */
int	oauth2_file_store(const char *path, const struct oauth2_token *t,
	    char *err, size_t errlen);

/*
 * Runs fn(arg, out, err, errlen) as the owner of the token file at
 * path: in this process unless it is root and the user sendq exists,
 * else in a child process that has become sendq (see above).  Returns
 * fn's status with *out (a token, wiped by the caller with
 * secret_free, or NULL) and err as fn left them; OAUTH2_LOCAL with err
 * when the child could not be run or did not answer.
 */
typedef enum oauth2_status (*oauth2_file_fn)(void *arg, char **out,
	    char *err, size_t errlen);
enum oauth2_status oauth2_file_run(const char *path, oauth2_file_fn fn,
	    void *arg, char **out, char *err, size_t errlen);

#endif
