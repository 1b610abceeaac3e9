#!/bin/bash
# The systemd units as make install leaves them (as root, into a private
# prefix): the daemon's sendq.socket and sendq.service and the runner's
# sendq-runner.service and sendq-runner.timer, naming the installed
# sendq and spool; systemd-analyze verify finds nothing to say about
# them; sendq.service runs as the user sendq, which make install created
# (primary group sendq, no login shell), and systemd-analyze security
# rates its exposure under 2.5.  sendq-metrics.service, run by hand as
# systemd would run it (root without capabilities, group sendq),
# replaces node_exporter's textfile by a rename with what `sendq status
# --prometheus` prints, and refuses a directory others may write or one
# that is a link.
# make uninstall removes the programs and units and keeps the queue and
# the configuration.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing"
t_tmpdir
q_install
u=$p/units

echo "the user sendq"
getent passwd sendq >"$T/passwd" || fail "make install created no user sendq"
IFS=: read -r _ _ uid gid _ home shell <"$T/passwd"
assert_eq sendq "$(id -gn sendq)" "primary group of sendq"
assert_eq "$(getent group sendq | cut -d: -f3)" "$gid" "gid of sendq"
assert_eq /usr/sbin/nologin "$shell" "shell of sendq"
assert_eq /nonexistent "$home" "home of sendq"
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "sendq is no system user: uid $uid"
assert_eq "2770 root sendq" "$(stat -c '%a %U %G' "$s")" "spool"
for d in failed rate state; do
	assert_eq "2770 root sendq" "$(stat -c '%a %U %G' "$s/$d")" "spool/$d"
done

echo "the units name what was installed"
for f in sendq.socket sendq.service sendq-runner.service sendq-runner.timer \
    sendq-metrics.service sendq-metrics.timer; do
	[ -f "$u/$f" ] || fail "$f not installed"
	assert_eq 644 "$(stat -c %a "$u/$f")" "mode of $f"
	grep -n '/usr/local/sbin\|/var/spool/sendq' "$u/$f" &&
	    fail "$f names a default path, not the installed one"
done
[ ! -e "$u/sendq.timer" ] || fail "the old sendq.timer is installed"
assert_eq "$p/sbin/sendq daemon" "$(sed -n 's/^ExecStart=//p' "$u/sendq.service")" \
    "the daemon's ExecStart"
assert_eq "$p/sbin/sendq run" "$(sed -n 's/^ExecStart=//p' "$u/sendq-runner.service")" \
    "the runner's ExecStart"
assert_eq "$p/sbin/sendq status --prometheus --output /var/lib/prometheus/node-exporter/sendq.prom" \
    "$(sed -n 's/^ExecStart=//p' "$u/sendq-metrics.service")" \
    "the metrics' ExecStart"
assert_eq "" "$(sed -n 's/^CapabilityBoundingSet=//p' "$u/sendq-metrics.service")" \
    "the metrics' capabilities"
assert_eq sendq "$(sed -n 's/^SupplementaryGroups=//p' "$u/sendq-metrics.service")" \
    "the metrics' group"
assert_eq "$s" "$(sed -n 's/^ReadWritePaths=//p' "$u/sendq.service")" \
    "the daemon's writable spool"
assert_eq "$p/run/sendq.sock" "$(sed -n 's/^ListenStream=//p' "$u/sendq.socket")" \
    "the socket"
assert_eq 0666 "$(sed -n 's/^SocketMode=//p' "$u/sendq.socket")" "socket mode"
assert_eq sendq "$(sed -n 's/^User=//p' "$u/sendq.service")" "the daemon's user"

echo "systemd-analyze verify"
# Run from $u so that the units find each other (Requires=, the timer's
# service); verify runs man for each Documentation= page, which must be
# among those installed.  Unknown keys and missing programs are only
# warnings to verify: any output is a failure.
(cd "$u" && MANPATH=$p/share/man systemd-analyze verify ./sendq.socket ./sendq.service \
    ./sendq-runner.service ./sendq-runner.timer ./sendq-metrics.service \
    ./sendq-metrics.timer) >"$T/verify" 2>&1 ||
    fail "systemd-analyze verify exited $?: $(cat "$T/verify")"
[ ! -s "$T/verify" ] || fail "systemd-analyze verify: $(cat "$T/verify")"

echo "systemd-analyze security"
(cd "$u" && systemd-analyze security --offline=true ./sendq.service) \
    >"$T/security" 2>&1 || true
level=$(sed -n 's/.*Overall exposure level for sendq\.service: \([0-9.]*\).*/\1/p' \
    "$T/security")
[ -n "$level" ] || fail "no exposure level: $(cat "$T/security")"
echo "exposure level of sendq.service: $level"
grep '✗' "$T/security" | sed 's/  */ /g'
awk -v l="$level" 'BEGIN { exit !(l < 2.5) }' ||
    fail "exposure $level is not under 2.5"

echo "sendq-metrics.service, by hand"
# Its command as systemd runs it: root without any capability (the
# bounding set empty), in group sendq, in a textfile directory of ours.
tf=$T/textfile
mkdir -m 0755 "$tf"
# The installed configuration names the default spool: ours is $s.
sed -i "s|^queue_dir = .*|queue_dir = \"$s\"|" "$p/etc/sendq.conf"
cmd=$(sed -n 's/^ExecStart=//p' "$u/sendq-metrics.service" |
    sed "s|/var/lib/prometheus/node-exporter|$tf|g")
metrics() {
	# shellcheck disable=SC2086
	(umask 0022; setpriv --bounding-set=-all \
	    --groups "$(getent group sendq | cut -d: -f3)" -- $cmd)
}
echo 'stale 1' >"$tf/sendq.prom"
old=$(stat -c %i "$tf/sendq.prom")
metrics || fail "sendq-metrics.service failed"
assert_eq "644 root" "$(stat -c '%a %U' "$tf/sendq.prom")" "the textfile"
[ "$(stat -c %i "$tf/sendq.prom")" != "$old" ] ||
    fail "sendq.prom rewritten in place, not replaced by a rename"
assert_eq "sendq.prom" "$(ls -A "$tf")" "the textfile directory (no temporary left)"
"$p/sbin/sendq" -C "$p/etc/sendq.conf" status --prometheus >"$T/prom"
assert_file_eq "$T/prom" "$tf/sendq.prom" "the textfile"
prom_samples "$tf/sendq.prom" >"$T/samples"
prom_has "$T/samples" 'TYPE sendq_queue_messages gauge' \
    'TYPE sendq_account_up gauge'
echo "a textfile directory others may write, or a link: refused"
chmod 0775 "$tf"
assert_exit 74 metrics
chmod 0755 "$tf"
mv "$tf" "$T/real"
ln -s "$T/real" "$tf"
rm -f "$T/real/sendq.prom"
assert_exit 74 metrics
[ ! -e "$T/real/sendq.prom" ] || fail "written through a link"
rm "$tf"

echo "make uninstall"
make -s -C "$TOP" O="$T/build" SANITIZE= PREFIX="$p" SYSCONFDIR="$p/etc" \
    SPOOLDIR="$s" UNITDIR="$u" uninstall >"$T/uninstall.log" 2>&1 ||
    fail "make uninstall failed: $(cat "$T/uninstall.log")"
for f in sbin/sendq sbin/sendmail sbin/mailq units/sendq.service \
    units/sendq.socket units/sendq-runner.timer units/sendq-metrics.service \
    units/sendq-metrics.timer share/man/man8/sendq.8; do
	[ ! -e "$p/$f" ] && [ ! -L "$p/$f" ] || fail "$f left by make uninstall"
done
[ -d "$s/failed" ] && [ -f "$p/etc/sendq.conf" ] ||
    fail "make uninstall removed the queue or the configuration"
getent passwd sendq >/dev/null || fail "make uninstall removed the user"
echo ok
