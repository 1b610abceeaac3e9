#!/bin/bash
# The queue cannot take the message: a full disk (a 64 KiB tmpfs) exits
# 74, a queue the caller may not write exits 73; either way nothing is
# left behind, and a message that fits still goes in afterwards.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
[ "$(id -u)" = 0 ] || fail "this test needs root (mount, setpriv)"
mkdir "$T/small"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$T/small" ||
    fail "cannot mount a tmpfs"
t_on_exit "umount '$T/small'"
q_conf global.queue_dir="\"$T/small/queue\""

echo "ENOSPC"
head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 76 |
    sed '1i Subject: too big for the disk\n' >"$T/big"
"$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org <"$T/big" \
    2>"$T/err" && rc=0 || rc=$?
assert_eq 74 "$rc" "exit status on a full disk"
assert_contains "$T/err" 'No space left on device'
assert_eq 0 "$(find "$T/small/queue" -type f | wc -l)" "files left behind"
printf 'Subject: small\n\nfits\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org
assert_eq 2 "$(find "$T/small/queue" -maxdepth 1 -type f | wc -l)" \
    "the message that fits (data and control file)"

echo "EACCES"
chmod 0711 "$T"
mkdir -m 0755 "$T/ro" "$T/ro/queue"
cat >"$T/ro/sendq.conf" <<CONF
hostname = "client.example.com"
queue_dir = "$T/ro/queue"
log = stderr
CONF
chmod 0644 "$T/ro/sendq.conf"
printf 'Subject: x\n\nbody\n' | setpriv --reuid=nobody --regid=nogroup \
    --clear-groups -- "$SENDMAIL" -C "$T/ro/sendq.conf" -odq bob@example.org \
    2>"$T/err" && rc=0 || rc=$?
assert_eq 73 "$rc" "exit status without write permission"
assert_contains "$T/err" 'Permission denied'
assert_eq 0 "$(find "$T/ro/queue" -type f | wc -l)" "files left behind"
echo ok
