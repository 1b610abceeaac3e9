#!/bin/bash
# max_recipients: a message with more pending recipients than the
# account's max_recipients goes in several transactions on one session,
# each of max_recipients but the last, in the message's recipient order,
# the whole message each time; a session lost between them leaves the
# rest pending, and no recipient gets the message twice.  For sendq
# flush and for sendmail -odi alike.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
tls=(--starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
    --user alice --password "$PASSWORD")
rcpts=(r1@example.org r2@example.org r3@example.org r4@example.org
    r5@example.org r6@example.org r7@example.org)

# The envelopes NAME's server stored, one line each: "SESSION: RCPT...".
envelopes() {
	local n i
	n=$(fixture_msgs "$1")
	for ((i = 1; i <= n; i++)); do
		echo "$(fixture_field "$1" "$i" session):" \
		    $(fixture_field "$1" "$i" rcpt_tos)
	done
}

# Every stored copy of NAME's messages has the same content: the
# whole message each time, not what was left after the first.
same_content() {
	local n i
	n=$(fixture_msgs "$1")
	for ((i = 2; i <= n; i++)); do
		assert_file_eq "$(fixture_eml "$1" 1)" "$(fixture_eml "$1" "$i")" \
		    "message $i of $1"
	done
	assert_contains -F "$(fixture_eml "$1" 1)" "Subject: split"
	assert_contains -F "$(fixture_eml "$1" 1)" "the last line"
}

echo "7 recipients, max_recipients = 3: 3 transactions on one session"
fixture_start relay "${tls[@]}"
q_conf max_recipients=3
printf 'Subject: split\n\nbody\nthe last line\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq "${rcpts[@]}"
assert_eq 1 "$(q_count)" "queued"
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
assert_eq "1: r1@example.org r2@example.org r3@example.org
1: r4@example.org r5@example.org r6@example.org
1: r7@example.org" "$(envelopes relay)" "transactions and their recipients"
assert_eq 1 "$(fixture_sessions relay)" "connections"
# Three MAIL FROM, each RCPT once, in order, in the one session.
assert_eq 3 "$(grep -c '^S1 C: MAIL FROM:' "$(fixture_transcript relay)")" \
    "MAIL commands"
assert_eq "${rcpts[*]}" "$(sed -n 's/^S[0-9]* C: RCPT TO:<\([^>]*\)>.*/\1/p' \
    "$(fixture_transcript relay)" | tr '\n' ' ' | sed 's/ $//')" \
    "RCPT commands"
same_content relay
assert_eq 0 "$(q_count)" "queue after the flush"
for r in "${rcpts[@]}"; do
	assert_eq 1 "$(grep -c "to=<$r>, .*status=sent" "$T/sendq.log")" \
	    "log lines sent to $r"
done

echo "the session lost in the second transaction (after its RCPTs): the rest stays pending"
fixture_start cut "${tls[@]}" --fault 'DATA#2=disconnect'
rm -f "$T/sendq.log"
q_conf max_recipients=3
printf 'Subject: split\n\nbody\nthe last line\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq "${rcpts[@]}"
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
assert_eq "1: r1@example.org r2@example.org r3@example.org" \
    "$(envelopes cut)" "the first transaction"
assert_eq 1 "$(q_count)" "queue after the cut"
for r in r4 r5 r6; do
	assert_contains "$T/sendq.log" "to=<$r@example.org>, .*status=deferred \\(lost connection"
done
assert_contains "$T/sendq.log" "to=<r7@example.org>, relay=none, .*status=deferred \\(not sent: the session with .* ended after an earlier transaction"
assert_eq 1 "$(fixture_sessions cut)" "connections"
# The next attempt sends to the four left, in two transactions.
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
assert_eq "1: r1@example.org r2@example.org r3@example.org
2: r4@example.org r5@example.org r6@example.org
2: r7@example.org" "$(envelopes cut)" "every recipient once"
same_content cut
assert_eq 0 "$(q_count)" "queue after the retry"

echo "sendmail -odi splits as well"
fixture_start direct "${tls[@]}"
q_conf max_recipients=2
printf 'Subject: split\n\nbody\nthe last line\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi a@example.org \
    b@example.org c@example.org
assert_eq "1: a@example.org b@example.org
1: c@example.org" "$(envelopes direct)" "transactions of sendmail -odi"
same_content direct
assert_eq 0 "$(q_count)" "queue after -odi"
echo ok
