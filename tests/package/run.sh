#!/bin/bash
# make package-test: the Debian package as an administrator gets it.
#
#   build    dpkg-buildpackage -us -uc -b in a copy of the tree (its
#            tracked and new files, not build output), so that nothing
#            lands in the working tree; the unit tests run in the build
#   lint     lintian on the .deb: any E: or W: fails (I: and P: tags,
#            --pedantic, are shown only)
#   root     a throwaway Debian 12 root: debootstrap --variant=minbase
#            from the mirror apt uses on this machine, cached as a
#            tarball in /var/cache/sendq-test/ (SENDQ_PKG_FRESH=1 makes
#            it again), then the package's dependencies with apt inside
#   install  dpkg -i in the root (chroot; no systemd runs there, so the
#            maintainer scripts only record which units are enabled);
#            checks the files, modes, user, group, spool, overrides,
#            conffile and units, and that the prerm and postrm name
#            every unit; then enables sendq-metrics.timer as systemctl
#            enable would (a link)
#   send     the fixture smarthost (tests/fixtures/smtpd.py, STARTTLS and
#            AUTH) runs outside on 127.0.0.1, which the root shares; a
#            message through the installed /usr/sbin/sendmail -odi as
#            root and one as an unprivileged user both arrive
#   upgrade  dpkg -i again keeps the edited /etc/sendq.conf and the
#            modes; dpkg -r keeps the configuration and the queue and
#            takes the override of /usr/sbin/sendmail with it: another
#            package's sendmail installed then stays 0755 root:root
#   purge    dpkg --purge: the root is as it was before the install,
#            except dpkg's and apt's own records and the user and group
#            sendq, which are kept (debian/README.Debian); the metrics
#            timer's enablement is gone
#   again    a system user sendq without a group sendq: dpkg -i makes
#            the group and completes; a link named rate planted in the
#            spool by group sendq: dpkg -i again warns, does not follow
#            it and completes; then the purge as above
#   journal  a second root from the same cache with systemd, dbus and
#            the package, booted by systemd-nspawn -b (tests/package/
#            journal.bash): sendq.socket started alone, a message through
#            /usr/sbin/sendmail, systemctl reload and stop; `journalctl
#            -u sendq' shows the daemon's start, delivery, account hold,
#            reload and stop lines; a container that does not boot fails
#
# Each phase's time is printed.  Runs as root (debootstrap, chroot,
# mount).  KEEP=1 keeps the work directory.
set -eu
. "$(dirname "$0")/../integration/lib.sh"

CACHE=/var/cache/sendq-test
SUITE=bookworm
PASSWORD='Pk9-secret-Zq4'

[ "$(id -u)" = 0 ] || fail "make package-test needs root (debootstrap, chroot)"
for c in git dpkg-buildpackage lintian debootstrap chroot findmnt \
    systemd-nspawn nsenter; do
	command -v "$c" >/dev/null || fail "$c is not installed (tests/deps.sh package)"
done

t_tmpdir
# Not under $T: lib.sh removes $T with a plain rm -rf, and the root has
# /proc and /dev mounted while the test runs.
W=$(mktemp -d /var/tmp/sendq-package.XXXXXX) || fail "mktemp failed"
R=$W/root

pkg_cleanup() {
	local m
	boot_stop
	findmnt -rn -o TARGET | grep -F "$R/" | sort -r |
	    while read -r m; do umount -l "$m"; done
	if findmnt -rn -o TARGET | grep -qF "$W/"; then
		echo "still mounted below $W: not removed" >&2
	elif [ "${KEEP:-0}" = 1 ]; then
		echo "KEEP=1: package test files left in $W" >&2
	else
		rm -rf --one-file-system "$W"
	fi
}
t_on_exit pkg_cleanup

_PHASE='' _PHASE_T=0
phase() {
	local now
	now=$(date +%s)
	[ -z "$_PHASE" ] ||
	    printf 'package-test: %-8s %4d s\n' "$_PHASE" $((now - _PHASE_T))
	_PHASE=$1 _PHASE_T=$now
}

# in_root CMD...: CMD inside the root, with a plain environment.
in_root() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive chroot "$R" "$@"
}

# show_log FILE MESSAGE: the tail of FILE, then fail.
show_log() {
	tail -n 40 "$1" >&2
	fail "$2 (log: $1; KEEP=1 keeps it)"
}

. "$(dirname "$0")/build.bash"
. "$(dirname "$0")/root.bash"
. "$(dirname "$0")/checks.bash"
. "$(dirname "$0")/journal.bash"

phase build
pkg_build
phase lint
pkg_lint
phase root
root_make
root_deps
listing >"$W/before.list"
phase install
pkg_install
check_installed
check_scripts
enable_metrics
phase send
send_mail
phase upgrade
check_upgrade
check_next_mta
phase purge
check_purge
check_purged_units
phase again
check_user_without_group
check_planted_link
check_purge
phase journal
boot_make
boot_start
check_journal
boot_poweroff
phase ""
echo "package-test: passed"
