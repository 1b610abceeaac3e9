#!/bin/bash
# Failover from a dead first host; a backlog over one connection; one
# write for MAIL, every RCPT and DATA with PIPELINING, one command a
# write without it; HELO when EHLO is refused.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
tls=(--starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
    --user alice --password "$PASSWORD")

echo "failover"
dead=$(t_unused_port)
fixture_start backup "${tls[@]}"
q_conf host="{ \"localhost:$dead\", \"localhost:$FPORT\" }"
printf 'Subject: failover\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
assert_eq 1 "$(fixture_msgs backup)" "delivered by the second host"
assert_contains "$T/sendq.log" "account default: connect to localhost\[[^]]*\]:$dead: Connection refused"
assert_contains "$T/sendq.log" "relay=localhost\[[^]]*\]:$FPORT, .*status=sent"

echo "a backlog of 5 over one connection, pipelined"
fixture_start backlog "${tls[@]}"
q_conf
for i in 1 2 3 4 5; do
	printf 'Subject: backlog %s\n\nbody\n' "$i" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq \
	    a@example.org b@example.org c@example.org
done
assert_eq 5 "$(q_count)" "queued"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 5 "$(fixture_msgs backlog)" "delivered"
assert_eq 1 "$(fixture_sessions backlog)" "connections for the backlog"
assert_eq 0 "$(q_count)" "queue after the run"
# Each transaction's envelope arrived in one read: MAIL, 3 RCPT, DATA.
"$PYTHON" - "$(fixture_dir backlog)/reads.log" <<'PY'
import json, re, sys
groups = [json.loads(l)["data"] for l in open(sys.argv[1])]
env = [g for g in groups if g.startswith("MAIL FROM:")]
assert len(env) == 5, "MAIL commands in %d reads, want 5" % len(env)
for g in env:
    cmds = re.findall(r"^([A-Z]+)", g, re.M)
    assert cmds == ["MAIL", "RCPT", "RCPT", "RCPT", "DATA"], cmds
PY

echo "without PIPELINING: one command a write"
fixture_start nopipe "${tls[@]}" --no-pipelining
q_conf
printf 'Subject: nopipe\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi a@example.org b@example.org
assert_eq 1 "$(fixture_msgs nopipe)" "delivered"
"$PYTHON" - "$(fixture_dir nopipe)/reads.log" <<'PY'
import json, re, sys
for l in open(sys.argv[1]):
    d = json.loads(l)["data"]
    if re.match(r"(MAIL|RCPT|DATA)", d):
        assert len(re.findall(r"\r\n", d)) == 1, "several commands in one write: %r" % d
PY

echo "HELO when EHLO is refused"
fixture_start old --no-ehlo
q_conf tls=opportunistic user=- password=-
printf 'Subject: helo\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi a@example.org
assert_eq 1 "$(fixture_msgs old)" "delivered after HELO"
assert_eq client.example.com "$(fixture_field old 1 helo)" "HELO name"
echo ok
