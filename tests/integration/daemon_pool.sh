#!/bin/bash
# sendq daemon owns the connections: 8 submitters x 25 messages each go
# out exactly once, over at most max_connections sessions at a time and
# at most ceil(200 / max_messages_per_connection) + max_connections
# connections in all; a message with more than max_recipients recipients
# is split into transactions on one session; a deferred message is tried
# again within a second of its backoff's end, by the daemon alone.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
q_daemon_setup
q_conf global.socket="\"$T/run/sendq.sock\"" max_connections=2 \
    max_messages_per_connection=20 idle_timeout=2s max_recipients=3 \
    global.retry_min=2s global.retry_max=4s
q_daemon_start
wait_until 5 grep -q 'daemon started: 0 messages queued' "$T/sendq.log"

# The largest number of sessions open at once, from the transcript: a
# session lasts from its CONNECT to its QUIT (the server may log the
# CLOSE of a session that has said QUIT and gone after the next one's
# CONNECT), or to its CLOSE.
max_concurrent() {
	awk '$2 == "CONNECT" { open[$1] = 1; n++; if (n > m) m = n }
	     ($2 == "CLOSE" || ($2 == "C:" && $3 == "QUIT")) && open[$1] {
		delete open[$1]; n-- }
	     END { print m + 0 }' "$(fixture_transcript relay)"
}

# --- 8 submitters x 25 -------------------------------------------------
submitter() {
	local k i
	k=$1
	for i in $(seq 25); do
		printf 'Subject: p%s-%s\n\nbody %s %s\n' "$k" "$i" "$k" "$i" |
		    "$SENDMAIL" -C "$T/sendq.conf" "r$k@example.org" ||
		    echo "submitter $k message $i: exit $?" >>"$T/sub.err"
	done
}
pids=
for k in 1 2 3 4 5 6 7 8; do
	submitter "$k" &
	pids="$pids $!"
done
for pid in $pids; do wait "$pid"; done
[ -s "$T/sub.err" ] && fail "submissions failed: $(cat "$T/sub.err")"
fixture_wait_msgs relay 200 60
sleep 1
assert_eq 200 "$(fixture_msgs relay)" "messages received"
subjects=$(cat "$(fixture_dir relay)"/msgs/*.eml | grep -c '^Subject: p')
uniq=$(cat "$(fixture_dir relay)"/msgs/*.eml | grep '^Subject: p' |
    sort -u | wc -l)
assert_eq 200 "$subjects" "Subject lines received"
assert_eq 200 "$uniq" "distinct messages received (no duplicate)"
wait_until 10 queue_is 0	# each goes after the server's 250
conc=$(max_concurrent)
conns=$(fixture_sessions relay)
echo "200 messages: $conns connections, at most $conc at once"
[ "$conc" -le 2 ] || fail "$conc sessions at once (max_connections = 2)"
# ceil(200 / 20) + 2
[ "$conns" -le 12 ] || fail "$conns connections for 200 messages"
assert_contains "$T/sendq.log" 'status=sent'
assert_not_contains "$T/sendq.log" "$PASSWORD"

# --- max_recipients = 3: 7 recipients, 3 transactions, 1 session ------
# The pool's sessions close after idle_timeout.
no_open_session() {
	awk '$2 == "CONNECT" { n++ } $2 == "CLOSE" { n-- }
	    END { exit n != 0 }' "$(fixture_transcript relay)"
}
wait_until 10 no_open_session
before=$(fixture_sessions relay)
printf 'Subject: seven\n\nsplit\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    s1@example.org s2@example.org s3@example.org s4@example.org \
    s5@example.org s6@example.org s7@example.org
fixture_wait_msgs relay 203 20
assert_eq $((before + 1)) "$(fixture_sessions relay)" \
    "sessions for a split message"
for n in 201 202 203; do
	fixture_field relay "$n" rcpt_tos >>"$T/split"
done
assert_eq "s1@example.org s2@example.org s3@example.org s4@example.org s5@example.org s6@example.org s7@example.org" \
    "$(tr '\n' ' ' <"$T/split" | sed 's/ $//')" "recipients in order"
assert_eq "3 3 1" "$(for n in 201 202 203; do
	fixture_field relay "$n" rcpt_tos | wc -l; done | tr '\n' ' ' |
	sed 's/ $//')" "recipients per transaction"

# --- a deferred message is retried within a second of its backoff -----
fixture_faults relay 'RCPT:late@example.org#1=451 4.3.0 try later'
printf 'Subject: late\n\nretry me\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    late@example.org
wait_until 10 grep -q 'to=<late@example.org>.*status=deferred' \
    "$T/sendq.log"
# The control file gets its next attempt after the transaction's end.
attempted() {
	"$SENDQ" -C "$T/sendq.conf" queue --json >"$T/late.json" &&
	    grep -q '"attempts":1' "$T/late.json"
}
wait_until 10 attempted
next=$(sed -n 's/.*"next_attempt":"\([^"]*\)".*/\1/p' "$T/late.json")
[ -n "$next" ] || fail "no next_attempt for the deferred message"
fixture_wait_msgs relay 204 20
got=$(stat -c %.3Y "$(fixture_eml relay 204)")
due=$(date -d "$next" +%s)
lag=$(awk -v g="$got" -v d="$due" 'BEGIN { printf "%.3f", g - d }')
echo "deferred message: due $next, received $lag s after"
# A file's time is stamped from a clock a tick coarser than ours.
awk -v l="$lag" 'BEGIN { exit !(l >= -0.02 && l <= 1.0) }' ||
    fail "retried $lag s after its backoff ended"

q_daemon_stop
assert_contains "$T/sendq.log" 'daemon stopped'
