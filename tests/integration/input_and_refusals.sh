#!/bin/bash
# What the caller sees: a lone "." ends the input unless -i; options may
# follow the recipients; with -odi a refusal of every recipient exits 67
# and the message leaves the queue (the caller was told); in the
# background, with bounce = none, a refused message is kept in failed/,
# never dropped; an earlier refusal still counts when the last recipient
# is sent later, and is reported to the sender.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf

echo "a lone dot ends the input without -i, options after recipients"
printf 'Subject: dot\n\nbefore\n.\nafter\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" bob@example.org -odi
assert_eq 1 "$(fixture_msgs relay)" "delivered"
assert_eq "before" "$(sed -n '/^\r$/,$p' "$(fixture_eml relay 1)" | tail -n +2 | tr -d '\r')" "body"
printf 'Subject: dot\n\nbefore\n.\nafter\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi -i bob@example.org
assert_eq "before .. after" "$(sed -n '/^\r$/,$p' "$(fixture_eml relay 2)" |
    tail -n +2 | tr -d '\r' | sed 's/^\.$/../' | xargs)" "body with -i"

echo "-odi: every recipient refused -> 67, nothing left"
fixture_faults relay 'RCPT=550 5.1.1 no such user'
printf 'Subject: refused\n\nbody\n' |
    assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -odi a@example.org b@example.org
# The delivering child removes the message once sendmail has its answer.
wait_until 10 queue_is 0
assert_eq 0 "$(q_failed_count)" "failed/"
echo "-odi: the message refused at the end of data -> 69"
fixture_faults relay 'DOT=554 5.7.1 content refused'
printf 'Subject: refused\n\nbody\n' |
    assert_exit 69 "$SENDMAIL" -C "$T/sendq.conf" -odi a@example.org
wait_until 10 queue_is 0

echo "background: refused mail is kept in failed/ when nobody is told"
q_conf global.bounce=none
printf 'Subject: kept\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" a@example.org
wait_until 10 failed_is 1
assert_eq 0 "$(q_count)" "queue"
assert_contains "$T/sendq.log" 'status=bounced \(554 5\.7\.1 content refused\)'

echo "an earlier refusal counts when the last recipient goes later"
q_conf
rm -rf "$T/queue/failed"
fixture_faults relay 'RCPT:x@example.org=550 5.1.1 unknown' \
    'RCPT:y@example.org=451 4.3.0 later'
printf 'Subject: mixed\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq x@example.org \
    y@example.org z@example.org
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 1 "$(q_count)" "deferred for y"
fixture_faults relay 'RCPT:x@example.org=550 5.1.1 unknown'
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
wait_until 10 queue_is 0
assert_eq 0 "$(q_failed_count)" "failed/ (x's refusal was reported)"
last=$(fixture_msgs relay)
assert_eq "" "$(fixture_field relay "$last" mail_from)" "a report on x"
assert_eq root@example.com "$(fixture_field relay "$last" rcpt_tos)" "to the sender"
assert_contains "$(fixture_eml relay "$last")" '^Final-Recipient: rfc822; x@example\.org'
assert_contains "$(fixture_eml relay "$last")" '^Status: 5\.1\.1'
echo ok
