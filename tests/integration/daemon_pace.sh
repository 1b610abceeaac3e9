#!/bin/bash
# rate = "5/m": of 9 messages, 5 go and 4 wait in the queue, shown
# deferred with the reason "rate limit of account default" and no
# attempt counted.  -odi through the daemon: a recipient refused at RCPT
# is the caller's exit status (67), without a bounce.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth --fault 'RCPT:nobody@example.org=550 5.1.1 no such user'
q_daemon_setup
q_conf global.socket="\"$T/run/sendq.sock\"" rate='"5/m"'
q_daemon_start

# -odi: the daemon's verdict is the caller's exit status.
assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -odi nobody@example.org \
    <<<'Subject: refused'
assert_not_contains "$T/sendq.log" 'non-delivery notification'
wait_until 10 grep -q 'removed (the submitter was told)' "$T/sendq.log"

# The refused message took one of the minute's 5 slots.
for i in $(seq 8); do
	printf 'Subject: r%s\n\npaced %s\n' "$i" "$i" |
	    "$SENDMAIL" -C "$T/sendq.conf" "r$i@example.org"
done
fixture_wait_msgs relay 4
paced() { [ "$(grep -c 'rate limit of account default' \
    "$T/sendq.log")" -ge 4 ]; }
wait_until 10 paced
sleep 2
assert_eq 4 "$(fixture_msgs relay)" "messages sent in the first minute"
assert_eq 4 "$(q_count)" "messages waiting for the rate"
"$SENDMAIL" -C "$T/sendq.conf" -bp >"$T/mailq"
cat "$T/mailq"
assert_eq 4 "$(grep -c '^(rate limit of account default)$' "$T/mailq")" \
    "mailq reasons"
"$SENDQ" -C "$T/sendq.conf" queue --json >"$T/json"
assert_eq 4 "$(grep -c '"state":"deferred"' "$T/json")" "deferred in JSON"
assert_eq 4 "$(grep -c '"attempts":0' "$T/json")" "attempts counted"
assert_not_contains "$T/sendq.log" 'status=deferred'

q_daemon_stop
