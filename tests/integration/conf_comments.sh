#!/bin/bash
# A comment in sendq.conf may stand anywhere but inside a string: in a
# host list, between a key and its value, after a value; the hosts
# around it are tried in order.  A section left open is an error at the
# line where it opens, whatever braces the comments and strings hold.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
dead=$(t_unused_port)
cat >"$T/sendq.conf" <<CONF
hostname = "client.example.com"   # the EHLO name
domain = "example.com"
queue_dir = "$T/queue"
log = "$T/sendq.log"
aliases_file = ""
delivery = interactive
account "default" {
    host = { "localhost:$dead",   # the primary, down today
             /* the backup */ "localhost:$FPORT" }
    tls_ca_file = // the test CA
        "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"   # a "#" in a comment, and { too
}
CONF
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" check
printf 'Subject: comments\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" bob@example.org
assert_eq 1 "$(fixture_msgs relay)" "messages through the second host"

printf 'retry_min = 1m   # {\naccount "a" {  // }\n    host = "}"  /* } */\n' \
    >"$T/open.conf"
out=$("$SENDQ" -C "$T/open.conf" check 2>&1) && rc=0 || rc=$?
assert_eq 78 "$rc" "exit status for a section left open"
assert_contains -F "$out" \
    "$T/open.conf:2: account: section \"a\" is not closed (missing '}')"
echo ok
