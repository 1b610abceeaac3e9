#!/bin/bash
# SIGTERM during a burst of 50 messages to a slow server: the daemon
# ends the transactions in progress, says QUIT and exits 0; nothing is
# lost, and after a restart every message is delivered.  A duplicate
# could only come from a transaction cut after its final dot; the count
# is printed.  Also: a message queued with -odq waits for a flush.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth --fault 'DOT=delay:0.2'
q_daemon_setup
q_conf global.socket="\"$T/run/sendq.sock\"" max_connections=2 \
    global.retry_min=1h global.retry_max=2h
q_daemon_start

for i in $(seq 50); do
	printf 'Subject: s%s\nMessage-ID: <s%s@example.com>\n\nburst\n' \
	    "$i" "$i" | "$SENDMAIL" -C "$T/sendq.conf" "s$i@example.org"
done
fixture_wait_msgs relay 6 20
kill -TERM "$DPID"
start=$(date +%s.%N)
wait "$DPID" || fail "the daemon exited $? on SIGTERM"
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
sent=$(fixture_msgs relay)
left=$(q_count)
echo "SIGTERM: stopped in $took s; $sent sent, $left queued"
assert_contains "$T/sendq.log" 'stopping after the transactions in progress'
assert_contains "$T/sendq.log" 'daemon stopped'
# Every session ended with QUIT: no transaction was cut.
assert_eq "$(fixture_sessions relay)" \
    "$(grep -c 'C: QUIT' "$(fixture_transcript relay)")" "sessions that said QUIT"
[ $((sent + left)) -ge 50 ] || fail "$sent sent + $left queued < 50"

# Restarted, it finds the rest and sends it (as new: never attempted).
q_daemon_start
fixture_wait_msgs relay 50 60
sleep 1
ids=$(cat "$(fixture_dir relay)"/msgs/*.eml | grep -c '^Message-ID: <s')
uniq=$(cat "$(fixture_dir relay)"/msgs/*.eml | grep '^Message-ID: <s' |
    sort -u | wc -l)
echo "after the restart: $ids received, $uniq distinct, $((ids - uniq)) duplicates"
assert_eq 50 "$uniq" "distinct messages delivered"
assert_eq 0 $((ids - uniq)) "duplicates (no transaction was cut)"
assert_eq 0 "$(q_count)" "messages left"

# -odq: queued only; the daemon takes it at the flush.
printf 'Subject: later\n\nqueued only\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -odq later@example.org
sleep 2
assert_eq 50 "$(fixture_msgs relay)" "an -odq message sent before a flush"
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
assert_eq 51 "$(fixture_msgs relay)" "messages after the flush"
q_daemon_stop
