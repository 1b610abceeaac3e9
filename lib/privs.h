/*
 * privs: the user sendq, the one identity that delivers (SPEC "Security
 * model", "Delivery engine"), and the one way root becomes it: the
 * daemon at start, the child that runs notify_command, the child that
 * works on an OAuth2 token file.
 *
 * Security: the change is for good.  The groups go first (while root
 * may still set them), then the real, effective and saved group IDs,
 * then the user IDs; a process that could get root back afterwards is
 * an error, not a warning.  A user sendq of uid 0 is refused: it would
 * be root under another name.
 */
#ifndef SENDQ_PRIVS_H
#define SENDQ_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

/* The name; the build may give another (DAEMON_USER). */
#ifndef SENDQ_USER
#define SENDQ_USER	"sendq"
#endif

/* The user sendq's IDs: 0, or -1 when there is no such user or it is
 * root. */
int	privs_sendq(uid_t *uid, gid_t *gid);
/*
 * Becomes the user sendq (uid, gid from privs_sendq) for good.  With
 * all_groups, its supplementary groups from the group database
 * (initgroups(3)); else gid alone.  0, or -1 with errno (EPERM when
 * root could be regained).
 */
int	privs_become_sendq(uid_t uid, gid_t gid, bool all_groups);

#endif
