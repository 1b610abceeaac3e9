/*
 * atfile: files reached through a directory descriptor, never through a
 * link.  Generic: it knows nothing of mail; the spool (queue) and the
 * rate limit's counters are built on it.  Postfix's safe_open is the
 * model.
 *
 * Security: a directory that others may write can hold any name as a
 * planted symbolic link, hard link, FIFO or device.  Every function here
 * resolves one name relative to a descriptor, without following a link
 * (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW), opens files for reading with
 * O_NONBLOCK so that a FIFO cannot stall the reader, and checks what it
 * opened.  No path is resolved twice.
 *
 * Errors: -1 with errno.
 */
#ifndef SENDQ_ATFILE_H
#define SENDQ_ATFILE_H

#include <sys/types.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Flags of a read-only open: no link followed, no FIFO waited on. */
#define ATFILE_RDFLAGS	(O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

/*
 * Opens the subdirectory name of dfd; a missing one is made first (mode
 * 0770, mkdirat) when create is set.  A new descriptor, or -1: errno
 * ENOTDIR when name is a link or not a directory, or was replaced
 * between the check and the open; ENOENT when it is missing and not to
 * be made.
 */
int	atfile_subdir(int dfd, const char *name, bool create);
/* Creates name in dfd for writing with O_EXCL | O_NOFOLLOW, mode 0660;
 * a file already there is taken for a stale temporary (the caller holds
 * the lock that makes it so) and unlinked first.  The descriptor. */
int	atfile_create_temp(int dfd, const char *name);
/*
 * Replaces name in dfd by a file holding data, whole or not at all:
 * written to the temporary tmp (atfile_create_temp), given mode (0: as
 * created), fsynced when sync is set, then renamed over name; the
 * temporary is removed on failure.  0, or -1 with errno.  Making the
 * rename itself durable (fsync of dfd) is the caller's choice.
 */
int	atfile_replace(int dfd, const char *tmp, const char *name,
	    const void *data, size_t len, mode_t mode, bool sync);
/* Whether name in dfd is still the file open as fd: not removed, not
 * replaced, not a link to it. */
bool	atfile_same(int dfd, const char *name, int fd);
/* Appends the regular file name in dfd whole to out, at most cap bytes
 * (util_read_fd): 0, or -1 with errno (EINVAL: not a regular file;
 * EFBIG: larger than cap). */
int	atfile_read(int dfd, const char *name, size_t cap, struct buf *out);
/*
 * The names in dfd made of stemlen bytes and ext (".ctl"), without ext
 * and for which ok (NULL: any) is true, sorted: *names is an array of *n
 * strings (free it with atfile_list_free).  -1 with errno from opendir,
 * or ENOMEM.
 */
int	atfile_list(int dfd, const char *ext, size_t stemlen,
	    bool (*ok)(const char *stem), char ***names, size_t *n);
void	atfile_list_free(char **names, size_t n);

#endif
