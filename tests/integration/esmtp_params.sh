#!/bin/bash
# ESMTP parameters: SIZE always, BODY=8BITMIME for 8-bit content,
# SMTPUTF8 for a non-ASCII address, and the DSN requests of -N/-R/-V
# (NOTIFY, ORCPT, RET, ENVID) when the server offers DSN, not otherwise.
# A need the server cannot meet fails for good: -odi exits 69.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
tls=(--starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
    --user alice --password "$PASSWORD")
fixture_start dsn "${tls[@]}" --dsn --smtputf8
q_conf

printf 'Subject: dsn\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odi -N success,failure -R hdrs -V 'env+id=7' \
    -f www@example.com bob@example.org
opts=$(fixture_field dsn 1 mail_options | xargs)
assert_contains "$opts" '(^| )SIZE=[0-9]+( |$)'
assert_contains "$opts" 'RET=HDRS'
assert_contains -F "$opts" 'ENVID=env+2Bid+3D7'
ropts=$(fixture_field dsn 1 rcpt_options | xargs)
assert_contains -F "$ropts" 'NOTIFY=SUCCESS,FAILURE'
assert_contains -F "$ropts" 'ORCPT=rfc822;bob@example.org'

printf 'Subject: caf\xc3\xa9\n\ncaf\xc3\xa9\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odi -N never $'j\xc3\xbcrgen@example.org'
assert_contains "$(fixture_field dsn 2 mail_options | xargs)" 'BODY=8BITMIME'
assert_contains "$(fixture_field dsn 2 mail_options | xargs)" 'SMTPUTF8'
assert_eq "NOTIFY=NEVER" "$(fixture_field dsn 2 rcpt_options | xargs)" \
    "no ORCPT for a UTF-8 address"

# A server without DSN gets no DSN parameters.
fixture_start plain "${tls[@]}"
q_conf
printf 'Subject: no dsn\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odi -N success -R full -V x1 bob@example.org
assert_not_contains "$(fixture_field plain 1 mail_options | xargs)" 'RET=|ENVID='
assert_eq "" "$(fixture_field plain 1 rcpt_options | xargs)" "RCPT params"

# Needs it cannot meet: no SMTPUTF8, no 8BITMIME.
printf 'Subject: x\n\nbody\n' | assert_exit 69 "$SENDMAIL" \
    -C "$T/sendq.conf" -odi $'j\xc3\xbcrgen@example.org'
assert_contains "$T/sendq.log" 'status=bounced \(host localhost\[[^]]*\]:[0-9]+ does not offer SMTPUTF8'
fixture_start no8 "${tls[@]}" --no-8bitmime
q_conf
printf 'Subject: x\n\ncaf\xc3\xa9\n' | assert_exit 69 "$SENDMAIL" \
    -C "$T/sendq.conf" -odi bob@example.org
assert_eq 0 "$(fixture_msgs no8)" "8-bit message sent without 8BITMIME"
# The delivering child removes a message once sendmail has its answer.
wait_until 10 queue_is 0

# Bad values are usage errors.
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -N sometimes bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -R body bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -V 'has space' bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -B 9BIT bob@example.org
echo ok
