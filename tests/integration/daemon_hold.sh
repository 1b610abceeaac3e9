#!/bin/bash
# An account whose AUTH is refused is held: whatever the number of its
# queued messages, at most max_connections sessions try AUTH per hold
# window, the hold is logged once, nothing bounces, and it outlives a
# restart of the daemon (queue_dir/state/); once the server is
# fixed, `sendq flush` ends the hold and every message goes once.
# SIGHUP with a broken configuration keeps the one in use.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
server() {
	fixture_start relay --starttls --cert "$CERTS/server.pem" \
	    --key "$CERTS/server.key" --user alice --password "$1" \
	    --require-auth "${@:2}"
}
server 'not-the-password'
port=$FPORT
q_daemon_setup
q_conf global.socket="\"$T/run/sendq.sock\"" max_connections=2 \
    global.retry_min=6s global.retry_max=12s
q_daemon_start

# Sessions of the transcript that sent AUTH at least once.
auth_sessions() {
	awk '$2 == "C:" && $3 == "AUTH" { s[$1] = 1 }
	    END { print length(s) }' "$(fixture_transcript relay)"
}

for i in $(seq 20); do
	printf 'Subject: h%s\n\nheld %s\n' "$i" "$i" |
	    "$SENDMAIL" -C "$T/sendq.conf" "h$i@example.org"
done
wait_until 10 grep -q 'account default: held: ' "$T/sendq.log"
# A second session may have been under way when the first was refused:
# count once the daemon says none is left, still inside the window.
no_sessions() {
	"$SENDQ" -C "$T/sendq.conf" status | grep -q '^  sessions 0;'
}
wait_until 5 no_sessions
n=$(auth_sessions)
echo "first hold window: $n sessions tried AUTH for 20 messages"
[ "$n" -ge 1 ] && [ "$n" -le 2 ] ||
    fail "$n sessions tried AUTH in one hold window (max_connections 2)"
assert_eq 1 "$(grep -c 'account default: held: ' "$T/sendq.log")" \
    "hold log lines in the first window"
assert_eq 20 "$(q_count)" "messages queued while held"
assert_eq 0 "$(fixture_msgs relay)" "messages sent while held"
assert_not_contains "$T/sendq.log" 'status=bounced'
assert_not_contains "$T/sendq.log" 'non-delivery notification'
assert_not_contains "$T/sendq.log" "$PASSWORD"

# The spool keeps the hold: a restart does not knock again before it ends.
assert_contains "$T/queue/state/default" '^state held$'
assert_contains "$T/queue/state/default" '^error .*535'
q_daemon_stop
q_daemon_start
wait_until 5 grep -q 'account default: held until .*, as before the restart' "$T/sendq.log"
sleep 0.5
assert_eq "$n" "$(auth_sessions)" "AUTH sessions after a restart within the hold"

# The hold ends after 6 s: one probe session, refused again; the next
# window is 12 s.
held_twice() {
	[ "$(grep -c 'account default: held: ' "$T/sendq.log")" -ge 2 ]
}
wait_until 10 held_twice
sleep 1
n2=$(auth_sessions)
echo "after the second window began: $n2 sessions in all"
[ "$n2" -le $((n + 1)) ] || fail "$((n2 - n)) probes for one hold's end"
assert_eq 2 "$(grep -c 'account default: held: ' "$T/sendq.log")" \
    "hold log lines after the probe"

# SIGHUP with a broken configuration: logged with file and line, kept.
cp "$T/sendq.conf" "$T/good.conf"
printf 'max_queue_time = 5d\nbogus_key = 1\n' >>"$T/sendq.conf"
kill -HUP "$DPID"
wait_until 10 grep -q 'SIGHUP: .*sendq.conf:[0-9]*.*kept' "$T/sendq.log"
grep 'SIGHUP' "$T/sendq.log" | tail -1
kill -0 "$DPID" || fail "the daemon died on a broken configuration"
cp "$T/good.conf" "$T/sendq.conf"
kill -HUP "$DPID"
wait_until 10 grep -q 'SIGHUP: .* read again' "$T/sendq.log"

# The server is fixed; a flush ends the hold and waits for the attempts.
fixture_stop relay
server "$PASSWORD" --port "$port"
start=$(date +%s)
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
echo "sendq flush returned after $(( $(date +%s) - start )) s"
assert_eq 20 "$(fixture_msgs relay)" "messages sent after the flush"
assert_eq 20 "$(cat "$(fixture_dir relay)"/msgs/*.eml |
    grep '^Subject: h' | sort -u | wc -l)" "distinct messages"
assert_eq 0 "$(q_count)" "messages left"
assert_contains "$T/sendq.log" 'account default: working again'
assert_contains "$T/queue/state/default" '^state ok$'
q_daemon_stop
