#!/bin/bash
# The set-group-ID sendmail only queues and runs the installed sendq to
# deliver; tried as an unprivileged caller (nobody) would:
# - SENDQ_PROGRAM in the caller's environment is ignored: the sendq
#   installed beside sendmail delivers, at once, with -odi and -odb;
# - with `ulimit -s 160` the submission and the delivery (TLS, AUTH,
#   the body) do not crash: the message arrives (finding 8);
# - password_command never runs with the caller's uid: the message
#   waits in the queue, attempts 0, and root's `sendmail -q` sends it
#   (finding 9);
# - -bv names the account but not its smarthost to a caller outside
#   group sendq; root and members of the group see the hosts (finding
#   10).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
q_install
assert_eq "2755 root sendq" "$(stat -c '%a %U %G' "$p/sbin/sendmail")" "sendmail"

fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
install -m 0644 "$CERTS/ca.pem" "$p/etc/ca.pem"
install -d -m 0755 "$p/log"
install -m 0660 -g sendq /dev/null "$p/log/sendq.log"
log=$p/log/sendq.log
conf() {	# the account's secret line
	cat >"$p/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$p/spool"
log = "$log"
aliases_file = ""
retry_min = 1s
account "default" {
    host = { "localhost:$FPORT" }
    tls = starttls
    tls_ca_file = "$p/etc/ca.pem"
    user = "alice"
    $1
    timeout = 10s
}
CONF
}
conf "password = \"$PASSWORD\""
small_stack() { as_nobody bash -c 'ulimit -s 160 && exec "$@"' sh "$@"; }
queued() { find "$p/spool" -maxdepth 1 -name '*.ctl' | wc -l; }

cat >"$T/evil" <<EOF
#!/bin/sh
touch "$T/evil.ran"
EOF
chmod 0755 "$T/evil"
export SENDQ_PROGRAM=$T/evil

echo "-odi as nobody with ulimit -s 160: delivered by the installed sendq"
printf 'Subject: small stack, -odi\n\nbody\n' |
    assert_exit 0 small_stack "$p/sbin/sendmail" -odi bob@example.org
assert_eq 1 "$(fixture_msgs relay)" "delivered before -odi returned"
assert_eq 0 "$(queued)" "messages left in the queue"
[ ! -e "$T/evil.ran" ] || fail "the set-group-ID sendmail ran SENDQ_PROGRAM"

echo "-odb as nobody with ulimit -s 160"
printf 'Subject: small stack, -odb\n\nbody\n' |
    assert_exit 0 small_stack "$p/sbin/sendmail" -odb bob@example.org
fixture_wait_msgs relay 2
wait_until 10 test "$(queued)" = 0
[ ! -e "$T/evil.ran" ] || fail "the set-group-ID sendmail ran SENDQ_PROGRAM"
unset SENDQ_PROGRAM

echo "password_command: never as the caller"
cat >"$p/etc/pwcmd" <<EOF
#!/bin/sh
id -u >>"$T/pwcmd.uids"
echo '$PASSWORD'
EOF
chmod 0755 "$p/etc/pwcmd"
install -m 0666 /dev/null "$T/pwcmd.uids"
conf "password_command = \"$p/etc/pwcmd\""
printf 'Subject: waits, -odb\n\nbody\n' |
    assert_exit 0 as_nobody "$p/sbin/sendmail" -odb carol@example.org
printf 'Subject: waits, -odi\n\nbody\n' |
    assert_exit 0 as_nobody "$p/sbin/sendmail" -odi dave@example.org
wait_until 10 test "$(grep -c 'left for the queue run' "$log")" = 2
assert_eq "" "$(cat "$T/pwcmd.uids")" "uids that ran password_command"
assert_eq 2 "$(queued)" "messages waiting for the queue run"
assert_eq 2 "$(grep -lx 'attempts 0' "$p"/spool/*.ctl | wc -l)" \
    "messages still at attempts 0"
assert_eq 2 "$(fixture_msgs relay)" "messages at the relay"
assert_exit 0 "$p/sbin/sendmail" -q
fixture_wait_msgs relay 4
assert_eq 0 "$(queued)" "messages left after root's queue run"
assert_not_contains "$T/pwcmd.uids" '^65534$'
assert_contains "$T/pwcmd.uids" '^0$'

echo "-bv: the hosts only for root and group sendq"
as_nobody "$p/sbin/sendmail" -bv bob@example.org >"$T/bv.nobody" ||
    fail "-bv as nobody exited $?"
assert_contains -F "$T/bv.nobody" 'bob@example.org... deliverable: via account default'
assert_not_contains -F "$T/bv.nobody" "localhost"
assert_not_contains -F "$T/bv.nobody" "$FPORT"
setpriv --reuid=nobody --regid=nogroup --groups=sendq -- \
    "$p/sbin/sendmail" -bv bob@example.org >"$T/bv.member" ||
    fail "-bv as a member of sendq exited $?"
assert_contains -F "$T/bv.member" "via account default (localhost:$FPORT)"
"$p/sbin/sendmail" -bv bob@example.org >"$T/bv.root"
assert_contains -F "$T/bv.root" "via account default (localhost:$FPORT)"
echo ok
