#!/bin/bash
# An outage: each attempt records the next one at retry_min doubled per
# attempt, capped at retry_max; a queue run (sendq run) leaves a message
# alone until then, and delivers it once the server is back.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf global.retry_min=2s global.retry_max=5s
ctl() { sed -n "s/^$1 //p" "$T"/queue/*.ctl; }
tries() { grep -c 'status=deferred' "$T/sendq.log" || true; }

printf 'Subject: outage\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org
before=$(date +%s)
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" run
after=$(date +%s)
assert_eq 1 "$(ctl attempts)" "attempts after the first run"
next=$(ctl next)
[ "$next" -ge $((before + 2)) ] && [ "$next" -le $((after + 2)) ] ||
    fail "next attempt $next is not 2 s after the first ($before..$after)"

expect=(0 2 4 5 5)	# the wait after attempt n: 2, 4, then capped at 5
for n in 2 3 4; do
	# Not due yet: a run leaves it alone.
	# (only with a second to spare: the run reads the clock later)
	if [ $((next - $(date +%s))) -ge 2 ]; then
		assert_exit 0 "$SENDQ" -C "$T/sendq.conf" run
		assert_eq $((n - 1)) "$(ctl attempts)" "attempts before the message is due"
	fi
	due() { [ "$(date +%s)" -ge "$next" ]; }
	wait_until 10 due
	before=$(date +%s)
	assert_exit 0 "$SENDQ" -C "$T/sendq.conf" run
	after=$(date +%s)
	assert_eq "$n" "$(ctl attempts)" "attempts"
	next=$(ctl next)
	w=${expect[$n]}
	[ "$next" -ge $((before + w)) ] && [ "$next" -le $((after + w)) ] ||
	    fail "after attempt $n the wait is not $w s"
done
assert_eq 4 "$(tries)" "deferred attempts logged"

echo "the server is back"
fixture_start relay --port "$port" --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
due() { [ "$(date +%s)" -ge "$next" ]; }
wait_until 10 due
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" run
assert_eq 1 "$(fixture_msgs relay)" "delivered"
assert_eq 0 "$(q_count)" "queue"
assert_contains "$T/sendq.log" 'tries=5, status=sent'
echo ok
