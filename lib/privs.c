/*
 * privs: becoming the user sendq.  See privs.h.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "privs.h"

int
privs_sendq(uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(SENDQ_USER)) == NULL || pw->pw_uid == 0)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
privs_become_sendq(uid_t uid, gid_t gid, bool all_groups)
{
	if (uid == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((all_groups ? initgroups(SENDQ_USER, gid) :
	    setgroups(1, &gid)) == -1 ||
	    setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		return -1;
	/* Neither the user nor the group may be had back. */
	if (setuid(0) != -1 || (gid != 0 && setgid(0) != -1)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
