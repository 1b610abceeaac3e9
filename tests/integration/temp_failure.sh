#!/bin/bash
# A 4xx for one recipient of three leaves only that one queued; the
# next run sends it to that recipient alone.  Background delivery (the
# default mode) reaches the server without -odi.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
fixture_faults relay 'RCPT:b@example.org=451 4.3.0 mailbox busy'
q_conf

printf 'Subject: three\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" a@example.org \
    b@example.org c@example.org
fixture_wait_msgs relay 1
wait_until 10 grep -q 'to=<b@example.org>.*status=deferred (451 4.3.0 mailbox busy)' "$T/sendq.log"
assert_eq "a@example.org c@example.org" \
    "$(fixture_field relay 1 rcpt_tos | xargs)" "first delivery"
assert_eq 1 "$(q_count)" "messages in the queue"

fixture_faults relay
# The first attempt logs the deferral before it lets the message go.
wait_until 10 q_unlocked
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 2 "$(fixture_msgs relay)" "messages received"
assert_eq "b@example.org" "$(fixture_field relay 2 rcpt_tos | xargs)" \
    "retry"
assert_eq 0 "$(q_count)" "messages in the queue"
echo ok
