#!/bin/bash
# Every TLS mode and every reason to refuse a certificate.  A refused
# certificate leaves the message queued with the reason and the
# certificate's identity in the log, and the server sees no AUTH and no
# MAIL.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
auth=(--user alice --password "$PASSWORD")
n=0

# send EXPECT_DELIVERED FIXTURE: one message, -odi.
send() {
	n=$((n + 1))
	printf 'Subject: tls %s\n\nbody\n' "$n" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
}
refused() {	# FIXTURE LOG-REGEX
	assert_eq 0 "$(fixture_msgs "$1")" "messages at $1"
	assert_contains "$T/sendq.log" "$2"
	assert_not_contains "$(fixture_transcript "$1")" ' C: (AUTH|MAIL)'
	rm -rf "$T/queue"
}

echo "implicit TLS"
fixture_start smtps --implicit --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" "${auth[@]}" --require-auth
q_conf tls=implicit
send
assert_eq 1 "$(fixture_msgs smtps)" "implicit TLS delivery"
assert_contains "$(fixture_field smtps 1 tls)" '^TLSv1\.[23] '

echo "expired certificate"
fixture_start expired --starttls --cert "$CERTS/expired.pem" \
    --key "$CERTS/expired.key" "${auth[@]}"
q_conf
send
refused expired 'certificate not trusted: certificate has expired \(subject CN=localhost, issuer CN=sendq test CA, sha256:'

echo "wrong name"
fixture_start wrongname --starttls --cert "$CERTS/wrongname.pem" \
    --key "$CERTS/wrongname.key" "${auth[@]}"
q_conf
send
refused wrongname 'certificate not trusted: hostname mismatch \(subject CN=wrong\.example'

echo "unknown issuer"
fixture_start untrusted --starttls --cert "$CERTS/untrusted.pem" \
    --key "$CERTS/untrusted.key" "${auth[@]}"
q_conf
send
refused untrusted 'certificate not trusted: unable to get local issuer certificate'

echo "fingerprint pin, right and wrong"
fp=$(openssl x509 -in "$CERTS/untrusted.pem" -noout -fingerprint -sha256 |
    sed 's/.*=//')
FPORT=$(fixture_port untrusted) q_conf tls_ca_file=- \
    tls_fingerprint="\"sha256:$(echo "$fp" | tr -d : | tr A-F a-f)\""
send
assert_eq 1 "$(fixture_msgs untrusted)" "delivery to a pinned certificate"
fixture_start pinned --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" "${auth[@]}"
q_conf tls_fingerprint="\"sha256:$fp\""
send
refused pinned 'certificate fingerprint does not match tls_fingerprint \(subject CN=localhost'

echo "IP literal verified against the certificate's addresses"
fixture_start byip --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" "${auth[@]}"
q_conf host="{ \"127.0.0.1:$FPORT\" }"
send
assert_eq 1 "$(fixture_msgs byip)" "delivery by IP address"
fixture_start byip_wrong --starttls --cert "$CERTS/wrongname.pem" \
    --key "$CERTS/wrongname.key" "${auth[@]}"
q_conf host="{ \"127.0.0.1:$FPORT\" }"
send
refused byip_wrong 'certificate not trusted: IP address mismatch'

echo "STARTTLS required but not offered: no AUTH in clear"
fixture_start notls "${auth[@]}" --auth-anywhere
q_conf
send
refused notls 'does not offer STARTTLS'
q_conf tls=opportunistic
send
refused notls 'does not offer STARTTLS and the account has credentials'
assert_not_contains "$(fixture_transcript notls)" ' C: AUTH'

echo "opportunistic without credentials: whatever it gets"
q_conf tls=opportunistic user=- password=-
send
assert_eq 1 "$(fixture_msgs notls)" "plaintext delivery"
assert_eq "" "$(fixture_field notls 1 tls)" "no TLS"
FPORT=$(fixture_port expired) q_conf tls=opportunistic user=- password=-
send
assert_eq 1 "$(fixture_msgs expired)" "unverified opportunistic delivery"
assert_contains "$(fixture_field expired 1 tls)" '^TLSv1'

echo "tls = none with credentials: AUTH in clear, because it was asked for"
FPORT=$(fixture_port notls) q_conf tls=none
send
assert_eq 2 "$(fixture_msgs notls)" "tls = none delivery"
assert_eq alice "$(fixture_field notls 2 auth_user)" "AUTH without TLS"

echo "tls_verify = false: unverified, but encrypted, AUTH allowed"
FPORT=$(fixture_port wrongname) q_conf tls_verify=false
send
assert_eq 1 "$(fixture_msgs wrongname)" "tls_verify = false delivery"
assert_eq alice "$(fixture_field wrongname 1 auth_user)" "AUTH"

echo "TLS 1.3 required, server stops at 1.2"
fixture_start tls12 --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" "${auth[@]}" --tls-max 1.2
q_conf tls_min_version='"1.3"'
send
refused tls12 'TLS with localhost\[[^]]*\]:[0-9]+ failed: TLS handshake failed'
q_conf
send
assert_contains "$(fixture_field tls12 1 tls)" '^TLSv1\.2 '
assert_not_contains -F "$T/sendq.log" "$PASSWORD"
echo ok
