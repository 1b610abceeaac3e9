#!/bin/bash
# The privilege model, installed for real: make install as root (into a
# private prefix, built with its own configuration and spool paths)
# creates group sendq, installs sendmail set-group-ID sendq, the spool
# 2770 and the configuration 0640.  Then, as nobody: the configuration
# and the queue files cannot be read, a message can still be submitted
# (and lands owned by group sendq), -q is refused (77), and -C with a
# file of the caller's own loses the group (the spool is then closed).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
q_install
getent group sendq >/dev/null || fail "group sendq was not created"
assert_eq "2755 root sendq" "$(stat -c '%a %U %G' "$p/sbin/sendmail")" "sendmail"
assert_eq "2770 root sendq" "$(stat -c '%a %U %G' "$p/spool")" "spool"
assert_eq "640 root sendq" "$(stat -c '%a %U %G' "$p/etc/sendq.conf")" "config"
assert_eq "sendmail" "$(readlink "$p/sbin/mailq")" "mailq link"
[ -f "$p/share/man/man8/sendmail.8" ] && [ -f "$p/share/man/man5/sendq.conf.5" ] &&
    [ -f "$p/units/sendq.service" ] || fail "man pages or units missing"
grep -q "^ExecStart=$p/sbin/sendq daemon$" "$p/units/sendq.service" ||
    fail "the unit does not run the installed sendq"

# A configuration the test controls, as root would write it.
cat >"$p/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$p/spool"
log = "$p/spool/log"
aliases_file = ""
delivery = queue
CONF

as_nobody cat "$p/etc/sendq.conf" 2>/dev/null && fail "nobody read the configuration"
as_nobody ls "$p/spool" 2>/dev/null && fail "nobody listed the queue"
printf 'Subject: from nobody\n\nbody\n' |
    assert_exit 0 as_nobody "$p/sbin/sendmail" bob@example.org
msg=$(ls "$p/spool"/*.msg)
assert_eq "660 nobody sendq" "$(stat -c '%a %U %G' "$msg")" "queued file"
as_nobody cat "$msg" 2>/dev/null && fail "nobody read a queued message"
grep -q '^sender nobody@example.com$' "$p"/spool/*.ctl || fail "wrong sender"
assert_exit 77 as_nobody "$p/sbin/sendmail" -q
as_nobody "$p/sbin/mailq" >"$T/mailq" || fail "mailq as nobody exited $?"
assert_contains "$T/mailq" 'nobody@example\.com$'

echo "-C drops the group"
cp "$p/etc/sendq.conf" "$T/mine.conf"
chmod 0644 "$T/mine.conf"
printf 'Subject: x\n\nbody\n' |
    assert_exit 73 as_nobody "$p/sbin/sendmail" -C "$T/mine.conf" bob@example.org
assert_eq 1 "$(ls "$p/spool"/*.ctl | wc -l)" "messages in the spool"
echo ok
