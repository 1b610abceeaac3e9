#!/bin/bash
# sendq status with the daemon running: its live figures.  Account
# "default" sends 3 messages, has one deferred (451 at RCPT) and one
# bounced (550 at RCPT) on a session kept open; account "other", whose
# password the server refuses, is held.  The text, --json and
# --prometheus (read by Debian's prometheus_client parser) give those
# counts, the open session, the hold (whose log line says why), and
# daemon true.  A caller outside group sendq is refused the figures on
# the socket.  The daemon's start, reload and stop lines name the
# version and the configuration.  Once the daemon is stopped, the
# figures come from the spool alone: no counts, no
# sendq_messages_total.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
fixture_faults relay 'RCPT:slow@example.org=451 4.3.0 try again later' \
    'RCPT:nobody@example.org=550 5.1.1 no such user'
q_daemon_setup
# bounce = none: the 550 makes no notification (which would be one
# more message sent) and leaves the message in failed/.  retry_min =
# 10m: the deferred one is tried once.
q_conf global.socket="\"$T/run/sendq.sock\"" global.bounce=none \
    global.retry_min=10m global.retry_max=1h idle_timeout=1m \
    'senders={ "*@example.com" }'
cat >>"$T/sendq.conf" <<EOF
account "other" {
    host = { "localhost:$FPORT" }
    tls = starttls
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "not-the-password"
    senders = { "*@other.example" }
    timeout = 10s
}
EOF
q_daemon_start
wait_until 10 grep -q 'daemon started: ' "$T/sendq.log"
version=$("$SENDQ" version | sed 's/^sendq //')
assert_contains "$T/sendq.log" \
    "daemon started: 0 messages queued \\(read in [0-9]+ ms\\), sendq $version, config $T/sendq.conf, socket $T/run/sendq.sock, uid [0-9]+$"

# One at a time, so that they share one session.
logged() { [ "$(grep -c "$1" "$T/sendq.log")" -ge "$2" ]; }
printf 'Subject: s1\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f a@example.com s1@example.org
fixture_wait_msgs relay 1
printf 'Subject: s2\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f a@example.com s2@example.org
fixture_wait_msgs relay 2
printf 'Subject: d\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f a@example.com slow@example.org
wait_until 10 logged 'status=deferred' 1
printf 'Subject: b\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f a@example.com nobody@example.org
wait_until 10 logged 'status=bounced' 1
printf 'Subject: s3\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f a@example.com s3@example.org
fixture_wait_msgs relay 3
printf 'Subject: h\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" \
    -f h@other.example h@example.org
wait_until 10 grep -q 'account other: held: ' "$T/sendq.log"
# The hold's line says why.
assert_contains "$T/sendq.log" \
    'account other: held: authentication refused \(.*535 5\.7\.8 .*\), until '
# The results reach the manager after the server's reply, and the held
# account's session is gone once it has said QUIT and been reaped.
settled() {
	"$SENDQ" -C "$T/sendq.conf" status >"$T/text" &&
	    grep -q '^  sessions 1; sent 3, deferred 1, bounced 1$' "$T/text" &&
	    grep -q '^  sessions 0; sent 0, deferred 1, bounced 0$' "$T/text"
}
wait_until 20 settled
assert_eq 2 "$(fixture_sessions relay)" "connections: one per account"

echo "text"
"$SENDQ" -C "$T/sendq.conf" status >"$T/text"
cat "$T/text"
assert_contains "$T/text" '^queue: 0 queued, 2 deferred, 1 failed; '
assert_contains "$T/text" '^daemon: running$'
assert_contains "$T/text" '^account default: ok; last success '
assert_contains "$T/text" '^  sessions 1; sent 3, deferred 1, bounced 1$'
assert_contains "$T/text" '^account other: held since .* \(1 in a row\)'
assert_contains "$T/text" '^  sessions 0; sent 0, deferred 1, bounced 0$'

echo "--json"
"$SENDQ" -C "$T/sendq.conf" status --json >"$T/json"
cat "$T/json"
"$PYTHON" - "$T/json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["daemon"] is True, o
assert o["queue"] == {"queued": 0, "deferred": 2, "failed": 1}, o["queue"]
d, h = o["accounts"]
assert d["name"] == "default" and d["state"] == "ok", d
assert (d["sessions"], d["sent"], d["deferred"], d["bounced"]) == (1, 3, 1, 1), d
assert h["name"] == "other" and h["state"] == "held", h
assert "held_until" in h and "535" in h["last_error"], h
assert (h["sessions"], h["sent"], h["deferred"], h["bounced"]) == (0, 0, 1, 0), h
PY

echo "--prometheus"
"$SENDQ" -C "$T/sendq.conf" status --prometheus >"$T/prom"
cat "$T/prom"
prom_samples "$T/prom" >"$T/samples"
prom_has "$T/samples" \
    'sendq_messages_total{account=default,outcome=sent} 3' \
    'sendq_messages_total{account=default,outcome=deferred} 1' \
    'sendq_messages_total{account=default,outcome=bounced} 1' \
    'sendq_messages_total{account=other,outcome=sent} 0' \
    'sendq_messages_total{account=other,outcome=deferred} 1' \
    'sendq_messages_total{account=other,outcome=bounced} 0' \
    'sendq_connections_open{account=default} 1' \
    'sendq_connections_open{account=other} 0' \
    'sendq_account_up{account=default} 1' \
    'sendq_account_up{account=other} 0' \
    'sendq_account_held{account=other} 1' \
    'sendq_queue_messages{state=deferred} 2' \
    'TYPE sendq_messages counter' 'TYPE sendq_connections_open gauge' \
    'TYPE sendq_account_held gauge'

echo "a caller outside group sendq is refused the figures"
chmod 0755 "$T/run"
as_nobody "$PYTHON" - "$T/run/sendq.sock" >"$T/nobody" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"STATUS\n")
print(s.makefile().read(), end="")
PY
cat "$T/nobody"
assert_eq 'ERR permission denied' "$(cat "$T/nobody")" "answer to nobody"

echo "reload and stop lines"
kill -HUP "$DPID"
wait_until 10 grep -q "SIGHUP: reloaded $T/sendq.conf: read again, 2 accounts$" \
    "$T/sendq.log"
# A reload keeps the counts.
"$SENDQ" -C "$T/sendq.conf" status >"$T/text"
assert_contains "$T/text" '^  sessions [01]; sent 3, deferred 1, bounced 1$'
q_daemon_stop
assert_contains "$T/sendq.log" "daemon stopped: sendq $version$"

echo "without the daemon: the spool's figures"
"$SENDQ" -C "$T/sendq.conf" status >"$T/text"
cat "$T/text"
assert_contains "$T/text" '^daemon: not running'
assert_not_contains "$T/text" 'sessions'
assert_contains "$T/text" '^account other: held since '
"$SENDQ" -C "$T/sendq.conf" status --json >"$T/json"
"$PYTHON" - "$T/json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["daemon"] is False, o
assert o["queue"] == {"queued": 0, "deferred": 2, "failed": 1}, o["queue"]
for a in o["accounts"]:
    assert "sent" not in a and "sessions" not in a, a
PY
"$SENDQ" -C "$T/sendq.conf" status --prometheus >"$T/prom"
prom_samples "$T/prom" >"$T/samples"
prom_has "$T/samples" 'sendq_connections_open{account=default} 0' \
    'sendq_connections_open{account=other} 0'
assert_eq 2 "$(grep -c '^sendq_connections_open{' "$T/samples")" \
    "connections_open samples"
assert_not_contains "$T/samples" '^sendq_messages_total'
echo ok
