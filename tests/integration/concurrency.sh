#!/bin/bash
# Any number of submitters and runners at once (SPEC "Queue"): a message
# is never lost and never sent twice, because whoever works on a message
# holds the lock on its ID.msg (lib/queue.h).
#
# Two variants, each 8 parallel submitters x 50 small messages while two
# queue runners run over and over (one "sendmail -q" loop, forced, and
# one "sendq run" loop):
#   queue       submitters use -odq, so only the runners deliver;
#   background  the default background delivery: each submission's
#               detached child races the runners for its message.
# Then: every message was accepted (exit 0), reached the smarthost exactly
# once (400 distinct Message-IDs, none twice) and intact, was logged
# status=sent exactly once, and the queue is empty: no *.msg, *.ctl or
# *.tmp, nothing in failed/.
#
# CONC_SUBMITTERS and CONC_PER_SUBMITTER change the sizes.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
start=$SECONDS
S=${CONC_SUBMITTERS:-8}
P=${CONC_PER_SUBMITTER:-50}
TOTAL=$((S * P))
token=$$.$RANDOM
Q=$T/queue

fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf
msgdir=$(fixture_dir relay)/msgs

# Our background loops, and the detached background-delivery children
# (found by the test's own, unique, configuration path): all killed at
# exit, whatever happens.
BG=()
our_procs() {
	local d
	for d in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null |
		    grep -qF -- "$T/sendq.conf" && echo "${d#/proc/}"
	done
	return 0
}
no_procs() { [ -z "$(our_procs)" ]; }
queue_empty() { [ "$(q_count)" -eq 0 ]; }
kill_bg() {
	local p
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $(our_procs); do
		kill -KILL "$p" 2>/dev/null || true
	done
}
t_on_exit kill_bg

# runner NAME CMD...: run CMD over and over until $T/stop exists, at most
# 3000 times and 120 s; count the runs in $T/NAME.runs, log a non-zero
# exit to $T/errors.
runner() {
	local name=$1 i end=$((SECONDS + 120)) rc
	shift
	for ((i = 0; i < 3000 && SECONDS < end; i++)); do
		[ ! -e "$T/stop" ] || break
		rc=0
		"$@" 2>>"$T/$name.err" || rc=$?
		[ "$rc" -eq 0 ] || echo "$name: run $i exited $rc" >>"$T/errors"
		sleep 0.01
	done
	echo "$i" >"$T/$name.runs"
}

# submitter VARIANT N [sendmail options]: P messages (for at most 120 s),
# each with its own Message-ID; a non-zero exit goes to $T/errors.
submitter() {
	local v=$1 n=$2 i rc end=$((SECONDS + 120))
	shift 2
	for ((i = 1; i <= P && SECONDS < end; i++)); do
		rc=0
		printf 'Subject: %s %s.%s\nMessage-ID: <%s-%s.%s.%s@example.com>\n\n%s message %s of submitter %s\n..a dotted line\n' \
		    "$v" "$n" "$i" "$v" "$n" "$i" "$token" "$v" "$i" "$n" |
		    "$SENDMAIL" -C "$T/sendq.conf" "$@" rcpt@example.org \
		    2>>"$T/submit.err" || rc=$?
		[ "$rc" -eq 0 ] || echo "submitter $n: message $i exited $rc" >>"$T/errors"
	done
}

# Every message of VARIANT arrived exactly once, intact; figures.
check_variant() {
	"$PYTHON" - "$msgdir" "$1" "$S" "$P" "$token" <<'PY'
import collections, os, re, sys
msgdir, v, s, p, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
seen = collections.Counter()
errors = []
for name in sorted(os.listdir(msgdir)):
    if not name.endswith(".eml"):
        continue
    data = open(os.path.join(msgdir, name), "rb").read()
    m = re.search(rb"^Message-ID: <(\w+)-(\d+)\.(\d+)\.([^@]+)@example\.com>\r$",
                  data, re.M)
    if m is None:
        errors.append("%s: no Message-ID of ours" % name)
        continue
    if m.group(1).decode() != v:
        continue
    n, i = int(m.group(2)), int(m.group(3))
    seen[(n, i)] += 1
    if m.group(4).decode() != token:
        errors.append("%s: from another run" % name)
    body = data.partition(b"\r\n\r\n")[2]
    want = ("%s message %d of submitter %d\r\n..a dotted line\r\n"
            % (v, i, n)).encode()
    if body != want:
        errors.append("%s: body %r, want %r" % (name, body, want))
for n in range(1, s + 1):
    for i in range(1, p + 1):
        if seen[(n, i)] != 1:
            errors.append("message %d of submitter %d: %d copies"
                          % (i, n, seen[(n, i)]))
for k in seen:
    if not (1 <= k[0] <= s and 1 <= k[1] <= p):
        errors.append("unexpected message %r" % (k,))
for e in errors[:20]:
    print("FAIL: " + e, file=sys.stderr)
if errors:
    sys.exit(1)
print("%d distinct messages, none twice" % len(seen))
PY
}

assert_no_debris() {
	local left
	left=$( (find "$Q" -maxdepth 1 \( -name '*.msg' -o -name '*.ctl' \
	    -o -name '*.tmp' \); find "$Q/failed" -mindepth 1) | sort | head -n 20)
	[ -z "$left" ] || fail "$1: left in the queue: $(echo "$left" | tr "\n" " ")"
}

# variant NAME [sendmail options for the submitters]
variant() {
	local v=$1 t0=$SECONDS pids=() n sent0 sent deferred p msgs0
	shift
	echo "== $v: $S submitters x $P messages, 2 runners"
	rm -f "$T/stop" "$T"/*.runs
	msgs0=$(fixture_msgs relay)
	sent0=$(grep -c 'status=sent' "$T/sendq.log" 2>/dev/null || true)
	runner "$v-sendmail-q" "$SENDMAIL" -C "$T/sendq.conf" -q &
	BG+=($!)
	pids+=($!)
	runner "$v-sendq-run" "$SENDQ" -C "$T/sendq.conf" run &
	BG+=($!)
	pids+=($!)
	local subs=()
	for ((n = 1; n <= S; n++)); do
		submitter "$v" "$n" "$@" &
		BG+=($!)
		subs+=($!)
	done
	for p in "${subs[@]}"; do
		wait "$p" || fail "submitter $p failed"
	done
	echo "  submitted $TOTAL in $((SECONDS - t0)) s"
	[ ! -s "$T/errors" ] || fail "$(head -n 20 "$T/errors")"
	# Everything arrives while the runners keep going.
	fixture_wait_msgs relay $((msgs0 + TOTAL)) 60
	wait_until 30 queue_empty
	touch "$T/stop"
	for p in "${pids[@]}"; do
		wait "$p" || fail "runner $p failed"
	done
	# Background deliveries finish on their own.
	wait_until 30 no_procs
	[ ! -s "$T/errors" ] || fail "$(head -n 20 "$T/errors")"
	echo "  delivered in $((SECONDS - t0)) s; runs: sendmail -q $(cat "$T/$v-sendmail-q.runs"), sendq run $(cat "$T/$v-sendq-run.runs")"
	# One more run finds nothing to send.
	assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
	assert_eq $((msgs0 + TOTAL)) "$(fixture_msgs relay)" "messages at the smarthost"
	assert_eq 0 "$(q_count)" "messages in the queue"
	assert_no_debris "$v"
	check_variant "$v" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail "$v: see above"
	sent=$(($(grep -c 'status=sent' "$T/sendq.log") - sent0))
	assert_eq "$TOTAL" "$sent" "status=sent lines logged"
	deferred=$(grep -c 'status=deferred' "$T/sendq.log" || true)
	echo "  logged: $sent sent, $deferred deferred so far; connections so far: $(fixture_sessions relay)"
}

variant queue -odq
variant background
echo "elapsed $((SECONDS - start)) s"
echo ok
