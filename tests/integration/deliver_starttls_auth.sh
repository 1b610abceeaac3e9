#!/bin/bash
# The main path: sendmail -t through STARTTLS and AUTH (PLAIN, then
# LOGIN) to a smarthost; the bytes received equal the submitted message
# with CRLF endings, Bcc removed and only the Received: line added.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth --auth-mechs PLAIN,LOGIN
q_conf

printf '%s\n' \
    'From: Web App <www@example.com>' \
    'To: Bob <bob@example.org>' \
    'Cc: carol@example.org' \
    'Bcc: dave@example.org' \
    'Subject: integration test' \
    'Date: Sun, 22 Nov 2026 10:00:00 +0000' \
    'Message-ID: <test-1@example.com>' \
    '' \
    'Hello Bob,' \
    '.a line with a leading dot' \
    '..and two' \
    'last line' >"$T/in.txt"

assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -t -odi -f www@example.com \
    <"$T/in.txt"
assert_eq 1 "$(fixture_msgs relay)" "messages received"
assert_eq 0 "$(q_count)" "messages left in the queue"

# Expected: the input in CRLF without Bcc, under one Received: line.
grep -v '^Bcc:' "$T/in.txt" | sed 's/$/\r/' >"$T/expected"
eml=$(fixture_eml relay 1)
head -n 1 "$eml" >"$T/received"
assert_contains "$T/received" \
    "^Received: by client\.example\.com \(sendq, from userid $(id -u)\) id [0-9A-F]{12}; [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}"$'\r'"\$"
tail -n +2 "$eml" >"$T/rest"
assert_file_eq "$T/expected" "$T/rest" "message body and headers"

assert_eq www@example.com "$(fixture_field relay 1 mail_from)" "MAIL FROM"
assert_eq "bob@example.org carol@example.org dave@example.org" \
    "$(fixture_field relay 1 rcpt_tos | xargs)" "RCPT TO"
assert_eq alice "$(fixture_field relay 1 auth_user)" "AUTH user"
assert_eq PLAIN "$(fixture_field relay 1 auth_mech)" "AUTH mechanism"
assert_contains "$(fixture_field relay 1 tls)" '^TLSv1\.[23] '

id=$(sed -n 's/.* id \([0-9A-F]*\);.*/\1/p' "$T/received")
assert_contains "$T/sendq.log" \
    "$id: from=<www@example.com>, size=[0-9]+, nrcpt=3, uid=$(id -u)\$"
assert_contains "$T/sendq.log" \
    "$id: to=<dave@example.org>, relay=localhost\[(127\.0\.0\.1|::1)\]:$FPORT, delay=[0-9]+, tries=1, status=sent \(250 "

# AUTH LOGIN, when that is what the account asks for.
q_conf auth=login
printf 'Subject: second\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
assert_eq 2 "$(fixture_msgs relay)" "messages received"
assert_eq LOGIN "$(fixture_field relay 2 auth_mech)" "AUTH mechanism"
assert_eq "bob@example.org" "$(fixture_field relay 2 rcpt_tos)" "RCPT TO"
# A generated From:, Date: and Message-ID: for a bare message.
assert_contains "$(fixture_eml relay 2)" "^From: .*<root@example\.com>"$'\r'"\$"
assert_contains "$(fixture_eml relay 2)" "^Date: "
assert_contains "$(fixture_eml relay 2)" "^Message-ID: <[0-9]{14}\.[0-9A-F]{12}@client\.example\.com>"

# The password is in no log.
assert_not_contains -F "$T/sendq.log" "$PASSWORD"
echo ok
