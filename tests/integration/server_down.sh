#!/bin/bash
# With the smarthost down, sendmail exits 0 and the message waits in the
# queue; once the server is up, sendmail -q delivers it exactly once.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf

printf 'Subject: while down\nMessage-ID: <down-1@example.com>\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" bob@example.org
assert_eq 1 "$(q_count)" "messages in the queue"
# The background attempt finds nobody and defers.
wait_until 10 grep -q 'status=deferred (connect to localhost' "$T/sendq.log"
assert_eq 1 "$(q_count)" "messages in the queue after the attempt"

fixture_start relay --port "$port" --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
# The first attempt logs the deferral before it lets the message go.
wait_until 10 q_unlocked
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 1 "$(fixture_msgs relay)" "messages received"
assert_eq 0 "$(q_count)" "messages in the queue"
assert_contains "$(fixture_eml relay 1)" '^Message-ID: <down-1@example\.com>'
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 1 "$(fixture_msgs relay)" "messages received after a second run"
echo ok
