#!/bin/bash
# sendq check --connect: reports TLS, the certificate, the capabilities
# and the AUTH result for every host, sends no mail, and exits 0, 69
# (a smarthost check failed) or 78 (configuration).  With -v (and
# sendmail -v) the dialogue is shown with AUTH secrets as ***.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --auth-mechs PLAIN,LOGIN
q_conf

"$SENDQ" -C "$T/sendq.conf" -v check --connect >"$T/out" 2>"$T/err" ||
    fail "check --connect exited $? (stderr: $(cat "$T/err"))"
cat "$T/out"
assert_contains "$T/out" "^account default, host localhost:$FPORT\$"
assert_contains "$T/out" '^  tls: TLSv1\.3 TLS_'
assert_contains "$T/out" '^  certificate: subject CN=localhost$'
assert_contains "$T/out" '^               issuer CN=sendq test CA$'
assert_contains "$T/out" '^               sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}$'
assert_contains "$T/out" '^  verification: ok$'
assert_contains "$T/out" '^  capabilities: .*PIPELINING.*AUTH PLAIN LOGIN'
assert_contains "$T/out" '^  auth: PLAIN as alice: accepted$'
assert_contains "$T/out" '^  ok$'
assert_contains "$T/err" '^> AUTH PLAIN \*\*\*$'
assert_contains "$T/err" '^< 235 '
assert_not_contains "$(fixture_transcript relay)" ' C: (MAIL|RCPT|DATA)'
assert_eq 0 "$(fixture_msgs relay)" "messages sent by a check"
assert_not_contains -F "$T/out" "$PASSWORD"
assert_not_contains -F "$T/err" "$PASSWORD"

echo "LOGIN: both steps hidden"
q_conf auth=login
"$SENDQ" -C "$T/sendq.conf" -v check --connect >"$T/out" 2>"$T/err"
assert_eq 2 "$(grep -c '^> \*\*\*$' "$T/err")" "hidden LOGIN responses"
assert_not_contains -F "$T/err" "$(printf %s "$PASSWORD" | base64)"
assert_not_contains -F "$T/err" "$(printf alice | base64)"

echo "wrong password: 69"
q_conf password='"wrong-password"'
assert_exit 69 "$SENDQ" -C "$T/sendq.conf" check --connect >"$T/out"
assert_contains "$T/out" '^  FAILED: authentication as alice with localhost\[[^]]*\]:[0-9]+ failed: 535 '

echo "untrusted certificate: 69, and what it was"
q_conf tls_ca_file=-
assert_exit 69 "$SENDQ" -C "$T/sendq.conf" check --connect >"$T/out"
assert_contains "$T/out" '^  verification: failed: unable to get local issuer certificate$'
assert_contains "$T/out" '^  certificate: subject CN=localhost$'

echo "configuration error: 78"
echo 'tls_bogus = 1' >>"$T/sendq.conf"
assert_exit 78 "$SENDQ" -C "$T/sendq.conf" check --connect

echo "sendmail -v: the dialogue, no secret"
q_conf
printf 'Subject: v\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" -v \
    bob@example.org >"$T/vout" 2>&1 || fail "sendmail -v exited $?"
assert_contains "$T/vout" '^> MAIL FROM:<root@example\.com> SIZE=[0-9]+$'
assert_contains "$T/vout" '^> AUTH PLAIN \*\*\*$'
assert_not_contains -F "$T/vout" "$PASSWORD"
assert_not_contains -F "$T/vout" "$(printf '\0alice\0%s' "$PASSWORD" | base64)"
assert_eq 1 "$(fixture_msgs relay)" "message sent with -v"
assert_not_contains -F "$T/sendq.log" "$PASSWORD"
echo ok
