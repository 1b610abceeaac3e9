#!/bin/bash
# A server whose certificate is not trusted gets nothing (the message
# stays queued, the log says why and which certificate); with
# tls_ca_file pointing at the test CA, the queue run delivers it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf tls_ca_file=-		# the system store, which lacks the test CA

printf 'Subject: untrusted\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
assert_eq 0 "$(fixture_msgs relay)" "messages received"
assert_eq 1 "$(q_count)" "messages in the queue"
assert_contains "$T/sendq.log" \
    'certificate not trusted: unable to get local issuer certificate \(subject CN=localhost, issuer CN=sendq test CA, sha256:[0-9A-F:]{95}\)'
assert_contains "$T/sendq.log" 'status=deferred'
# Nothing but EHLO and STARTTLS reached the server.
assert_not_contains "$(fixture_transcript relay)" ' C: (AUTH|MAIL|RCPT|DATA)'

q_conf
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 1 "$(fixture_msgs relay)" "messages received"
assert_eq 0 "$(q_count)" "messages in the queue"
echo ok
