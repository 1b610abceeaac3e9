#!/bin/bash
# sendq status without a daemon: the figures come from the spool.  A
# queue with 2 messages never tried, 1 deferred and 1 in failed/, and an
# account the spool says is held: the text, --json (one object with
# SPEC's fields) and --prometheus (read by Debian's prometheus_client
# parser) give the same right numbers.  A caller outside group sendq
# who cannot read the configuration gets 77 from status, queue, show,
# flush, delete and run, as SPEC's security model says.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf
by() { grep -l "$1" "$T"/queue/*.ctl | xargs -n1 basename | sed 's/\.ctl$//'; }

for s in a b c d; do
	printf 'Subject: %s\n\nbody %s\n' "$s" "$s" | assert_exit 0 "$SENDMAIL" \
	    -C "$T/sendq.conf" -odq -f "$s@example.com" "to-$s@example.org"
done
a=$(by '^sender a@example.com$')
d=$(by '^sender d@example.com$')
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush --no-daemon "$a"	# nobody listens
mkdir -p "$T/queue/failed"
mv "$T/queue/$d.msg" "$T/queue/$d.ctl" "$T/queue/failed/"
# The size of the three left, as sendq queue --json says.
bytes=$("$SENDQ" -C "$T/sendq.conf" queue --json |
    "$PYTHON" -c 'import json,sys; print(sum(json.loads(l)["size"] for l in sys.stdin))')

# The account's state as the daemon keeps it (lib/acctstate.c).
now=$(date +%s)
mkdir -p "$T/queue/state"
printf 'sendq-account-state 1\nstate held\nuntil %s\nsince %s\nstreak 2\nsuccess %s\nerror 535 5.7.8 Authentication%%20credentials%%20invalid\nend\n' \
    $((now + 600)) $((now - 60)) $((now - 3600)) >"$T/queue/state/default"

echo "text"
"$SENDQ" -C "$T/sendq.conf" status >"$T/text"
cat "$T/text"
assert_contains "$T/text" "^queue: 2 queued, 1 deferred, 1 failed; $bytes bytes; oldest [0-9]+ s$"
assert_contains "$T/text" '^daemon: not running'
assert_contains "$T/text" "^account default: held since .* \\(2 in a row\\); last success "
assert_contains "$T/text" '^  last error: 535 5.7.8 Authentication credentials invalid$'

echo "--json"
"$SENDQ" -C "$T/sendq.conf" status --json >"$T/json"
cat "$T/json"
assert_eq 1 "$(wc -l <"$T/json")" "lines of status --json"
"$PYTHON" - "$T/json" "$bytes" "$((now + 600))" <<'PY'
import datetime, json, sys
o = json.load(open(sys.argv[1]))
assert o["queue"] == {"queued": 2, "deferred": 1, "failed": 1}, o["queue"]
assert o["bytes"] == int(sys.argv[2]), o["bytes"]
assert 0 <= o["oldest_seconds"] < 120, o["oldest_seconds"]
assert o["daemon"] is False
[a] = o["accounts"]
assert a["name"] == "default" and a["state"] == "held", a
until = datetime.datetime.strptime(a["held_until"], "%Y-%m-%dT%H:%M:%SZ")
assert until.replace(tzinfo=datetime.timezone.utc).timestamp() == int(sys.argv[3]), a
assert a["last_error"] == "535 5.7.8 Authentication credentials invalid", a
assert "last_success" in a and "failing_since" not in a, a
PY

echo "--prometheus"
"$SENDQ" -C "$T/sendq.conf" status --prometheus >"$T/prom"
cat "$T/prom"
prom_samples "$T/prom" >"$T/samples"
prom_has "$T/samples" 'sendq_queue_messages{state=queued} 2' \
    'sendq_queue_messages{state=deferred} 1' \
    'sendq_queue_messages{state=failed} 1' "sendq_queue_bytes{} $bytes" \
    'sendq_account_up{account=default} 0' \
    'sendq_account_held{account=default} 1' \
    'sendq_connections_open{account=default} 0' \
    'TYPE sendq_queue_messages gauge'
oldest=$(sed -n 's/^sendq_queue_oldest_seconds{} //p' "$T/samples")
[ -n "$oldest" ] && [ "$oldest" -ge 0 ] && [ "$oldest" -lt 120 ] ||
    fail "sendq_queue_oldest_seconds: '$oldest'"
assert_contains "$T/prom" '^# HELP sendq_queue_messages '
assert_contains "$T/prom" '^# TYPE sendq_account_held gauge$'

echo "a caller outside group sendq, the configuration 0640: 77, and why"
chmod 0711 "$T"
mkdir -m 0755 "$T/etc"
cp "$T/sendq.conf" "$T/etc/sendq.conf"
chown root:sendq "$T/etc/sendq.conf"
chmod 0640 "$T/etc/sendq.conf"
for c in status queue "show $a" flush "delete $a" run; do
	rc=0
	# shellcheck disable=SC2086
	as_nobody "$SENDQ" -C "$T/etc/sendq.conf" $c 2>"$T/err" || rc=$?
	assert_eq 77 "$rc" "exit of sendq $c as nobody"
	assert_contains "$T/err" "^sendq: $T/etc/sendq.conf: Permission denied: sendq ${c%% *} is for root and group sendq$"
done
# Not a permission matter: still 78.
assert_exit 78 as_nobody "$SENDQ" -C "$T/etc/sendq.conf" check
echo "ok"

echo "a spool that cannot be read: 74, and why"
q_conf global.queue_dir="\"$T/nowhere\""
rc=0
"$SENDQ" -C "$T/sendq.conf" status 2>"$T/err" || rc=$?
assert_eq 74 "$rc" "exit status for a spool that cannot be read"
assert_contains "$T/err" "$T/nowhere: No such file or directory"
echo "ok"
