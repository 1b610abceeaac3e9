#!/bin/bash
# Submission without the group (SPEC "Delivery engine"): installed for
# real, sendmail run by nobody with --no-new-privs (the set-group-ID bit
# has no effect, as in a NoNewPrivileges=yes PHP-FPM unit) cannot read
# the configuration or write the spool; it submits through the daemon's
# socket.  The daemon takes the uid from the kernel: Received: names
# uid 65534, the exit statuses are those of a direct submission, and
# delivery = queue applies as it would.  With
# the daemon stopped: exit 75, and the reason said.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
q_install
cat >"$p/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$s"
log = "$T/sendq.log"
aliases_file = ""
retry_min = 1h
retry_max = 2h
account "default" {
    host = { "localhost:$FPORT" }
    tls = starttls
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"
}
CONF
touch "$T/sendq.log"
chgrp sendq "$T/sendq.log"
chmod 0660 "$T/sendq.log"

nnp() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --no-new-privs -- "$@"
}

"$p/sbin/sendq" daemon 2>>"$T/daemon.err" &
DPID=$!
t_on_exit "kill $DPID 2>/dev/null || true"
wait_until 10 test -S "$p/run/sendq.sock"
assert_eq "srw-rw-rw-" "$(stat -c %A "$p/run/sendq.sock")" "socket mode"
assert_eq "sendq" "$(ps -o user= -p "$DPID")" "the daemon's user"

nnp cat "$p/etc/sendq.conf" 2>/dev/null &&
    fail "nobody read the configuration"
printf 'Subject: no group\n\nfrom a NoNewPrivileges unit\n' |
    assert_exit 0 nnp "$p/sbin/sendmail" bob@example.org
fixture_wait_msgs relay 1
assert_contains "$(fixture_eml relay 1)" 'Received: by client.example.com \(sendq, from userid 65534\)'
assert_eq "nobody@example.com" "$(fixture_field relay 1 mail_from)" \
    "the default sender is the caller's"
assert_contains "$T/sendq.log" 'uid=65534'

# -t with a Bcc, and the exit statuses of a direct submission.
printf 'To: carol@example.org\nBcc: dave@example.org\nSubject: t\n\nx\n' |
    assert_exit 0 nnp "$p/sbin/sendmail" -t -i
fixture_wait_msgs relay 2
assert_eq "carol@example.org dave@example.org" \
    "$(fixture_field relay 2 rcpt_tos | sort | tr '\n' ' ' | sed 's/ $//')" \
    "-t recipients"
assert_not_contains "$(fixture_eml relay 2)" '^Bcc:'
printf 'x\n' | assert_exit 67 nnp "$p/sbin/sendmail" "$(printf 'a\001b@example.org')"
printf 'x\n' | assert_exit 64 nnp "$p/sbin/sendmail"
assert_eq 2 "$(fixture_msgs relay)" "messages sent"

# delivery = queue holds for the caller without the group too, unless
# it asks for delivery with -odb.
sed -i 's/^aliases_file = ""$/&\ndelivery = queue/' "$p/etc/sendq.conf"
kill -HUP "$DPID"
wait_until 10 grep -q 'SIGHUP: .* read again' "$T/sendq.log"
printf 'Subject: queue only

x
' |
    assert_exit 0 nnp "$p/sbin/sendmail" bob@example.org
printf 'Subject: at once

x
' |
    assert_exit 0 nnp "$p/sbin/sendmail" -odb bob@example.org
fixture_wait_msgs relay 3
sleep 1
assert_eq 3 "$(fixture_msgs relay)" "messages sent with delivery = queue"
assert_contains "$(fixture_eml relay 3)" '^Subject: at once'
# The one with delivery = queue stays (the other goes after its 250).
one_queued() { [ "$(find "$s" -maxdepth 1 -name '*.ctl' | wc -l)" = 1 ]; }
wait_until 10 one_queued
assert_exit 0 "$p/sbin/sendq" flush
assert_eq 4 "$(fixture_msgs relay)" "messages sent after a flush"

# No daemon: the caller keeps the message and is told why.
kill -TERM "$DPID"
wait "$DPID" || fail "the daemon exited $? on SIGTERM"
printf 'Subject: lost?\n\nx\n' >"$T/m"
nnp "$p/sbin/sendmail" bob@example.org <"$T/m" 2>"$T/err" && st=0 || st=$?
assert_eq 75 "$st" "exit status without group and daemon"
assert_contains "$T/err" 'no delivery daemon answers'
assert_contains "$T/err" 'not accepted'
assert_eq 0 "$(find "$s" -maxdepth 1 -name '*.ctl' | wc -l)" "queued files"
