#!/bin/bash
# Every AUTH mechanism against the fixture; auth = auto picks the
# strongest (SCRAM-SHA-256 over TLS, CRAM-MD5 before PLAIN in clear);
# a 535 over TLS moves on to the next mechanism; a wrong password defers
# and never sends without AUTH; EXTERNAL with a client certificate.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
tls=(--starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
    --user alice --password "$PASSWORD" --require-auth)
all=PLAIN,LOGIN,CRAM-MD5,SCRAM-SHA-1,SCRAM-SHA-256,XOAUTH2,OAUTHBEARER

send() {
	printf 'Subject: %s\n\nbody\n' "$1" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
}

for mech in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 XOAUTH2 OAUTHBEARER; do
	name=m$(echo "$mech" | tr -d -- - | tr A-Z a-z)
	fixture_start "$name" "${tls[@]}" --auth-mechs "$all"
	q_conf auth="$(echo "$mech" | tr A-Z a-z)"
	send "$mech"
	assert_eq 1 "$(fixture_msgs "$name")" "delivered with $mech"
	assert_eq "$mech" "$(fixture_field "$name" 1 auth_mech)" "mechanism"
	assert_eq alice "$(fixture_field "$name" 1 auth_user)" "user"
	echo "$mech: ok"
done

echo "auto over TLS: SCRAM-SHA-256"
fixture_start auto "${tls[@]}" --auth-mechs "$all"
q_conf
send auto
assert_eq SCRAM-SHA-256 "$(fixture_field auto 1 auth_mech)" "auto over TLS"

echo "auto in clear (tls = none): CRAM-MD5 before PLAIN and LOGIN"
fixture_start clear --user alice --password "$PASSWORD" --require-auth \
    --auth-anywhere --auth-mechs PLAIN,LOGIN,CRAM-MD5
q_conf tls=none
send clear
assert_eq CRAM-MD5 "$(fixture_field clear 1 auth_mech)" "auto without TLS"

echo "a 535 moves on to the next mechanism"
fixture_start fallback "${tls[@]}" --auth-mechs "$all" \
    --fault 'AUTH#1=535 5.7.8 not this one'
q_conf
send fallback
assert_eq SCRAM-SHA-1 "$(fixture_field fallback 1 auth_mech)" "after a 535"

echo "a wrong password: deferred, nothing sent without AUTH"
fixture_start wrong "${tls[@]}" --auth-mechs "$all"
q_conf password='"not-the-password"'
send wrong
assert_eq 0 "$(fixture_msgs wrong)" "messages with a wrong password"
assert_eq 1 "$(q_count)" "deferred in the queue"
assert_eq 5 "$(grep -c ' C: AUTH ' "$(fixture_transcript wrong)")" \
    "mechanisms tried (SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5)"
assert_not_contains "$(fixture_transcript wrong)" ' C: MAIL'
assert_contains "$T/sendq.log" 'status=deferred \(authentication as alice with localhost\[[^]]*\]:[0-9]+ failed: 535 '
rm -rf "$T/queue"

echo "EXTERNAL with a client certificate"
fixture_start ext --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --client-ca "$CERTS/ca.pem" \
    --auth-mechs EXTERNAL --require-auth
q_conf auth=external password=- user=- \
    tls_cert_file="\"$CERTS/client.pem\"" tls_key_file="\"$CERTS/client.key\""
send external
assert_eq EXTERNAL "$(fixture_field ext 1 auth_mech)" "mechanism"
assert_eq sendq-client "$(fixture_field ext 1 client_cert_cn)" "client certificate"
assert_not_contains -F "$T/sendq.log" "$PASSWORD"
echo ok
