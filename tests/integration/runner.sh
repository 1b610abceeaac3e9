#!/bin/bash
# Queue runs: -qI, -qR and -qS pick messages by queue ID, recipient or
# sender substring; a runner (sendq run --every, sendmail -qf<interval>)
# stopped by SIGTERM finishes the message in progress, saves its state
# and exits 0 without waiting for its next pass.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf
by() { grep -l "$1" "$T"/queue/*.ctl | xargs -n1 basename | sed 's/\.ctl$//'; }
send() {	# SENDER RCPT
	printf 'Subject: %s to %s\n\nbody\n' "$1" "$2" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq -f "$1" "$2"
}
send alice@example.com one@example.org
send bob@example.com two@example.org
send carol@example.com three@example.net

echo "-qI, -qR, -qS"
id=$(by 'three@example.net')
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" "-qI${id:4:6}"
assert_eq 1 "$(fixture_msgs relay)" "after -qI"
assert_eq three@example.net "$(fixture_field relay 1 rcpt_tos)" "-qI chose"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -qRtwo@
assert_eq 2 "$(fixture_msgs relay)" "after -qR"
assert_eq two@example.org "$(fixture_field relay 2 rcpt_tos)" "-qR chose"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -qSnobody
assert_eq 2 "$(fixture_msgs relay)" "-qS with no match"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -qSALICE
assert_eq 3 "$(fixture_msgs relay)" "after -qS (case-insensitive)"
assert_eq 0 "$(q_count)" "queue"

stopped_cleanly() {	# PID: exits 0 after SIGTERM, within 15 s
	local pid=$1 n=0
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 150 ] || { kill -9 "$pid"; fail "runner ignored SIGTERM"; }
		sleep 0.1
	done
	wait "$pid" || fail "runner exited $? after SIGTERM"
}

echo "sendq run --every, SIGTERM during a delivery"
fixture_faults relay 'DOT=delay:2'
send dave@example.com four@example.org
datas() { grep -c ' C: DATA' "$(fixture_transcript relay)" || true; }
before=$(datas)
"$SENDQ" -C "$T/sendq.conf" run --every 1h &
runner=$!
t_on_exit "kill -9 $runner 2>/dev/null"
more_data() { [ "$(datas)" -gt "$before" ]; }
wait_until 20 more_data
stopped_cleanly "$runner"
assert_eq 4 "$(fixture_msgs relay)" "the message in progress was finished"
assert_eq 0 "$(q_count)" "queue"
assert_contains "$T/sendq.log" 'to=<four@example\.org>.*status=sent'
assert_contains "$T/sendq.log" 'queue runner stopped by a signal'

echo "sendmail -qf1h, SIGTERM while it waits"
fixture_faults relay
"$SENDMAIL" -C "$T/sendq.conf" -qf1h &
runner=$!
t_on_exit "kill -9 $runner 2>/dev/null"
# Ready when the sendq program it became catches SIGTERM (bit 15 of
# SigCgt), not before: until it runs sendmail, the forked shell has
# this script's TERM trap, and so the bit, too.
catches_term() {
	local mask
	[ "$(cat "/proc/$runner/comm" 2>/dev/null)" = sendq ] || return 1
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$runner/status")
	[ -n "$mask" ] && (( (16#$mask >> 14) & 1 ))
}
wait_until 20 catches_term
stopped_cleanly "$runner"
assert_eq "" "$(ls "$T/queue" | grep -v -e '^failed$' -e '^rate$' || true)" "queue files"
echo ok
