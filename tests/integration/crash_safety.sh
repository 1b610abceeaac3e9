#!/bin/bash
# Crash safety of the queue (SPEC "Queue" and exit codes; lib/queue.h).
#
# 1. Submitters killed at random moments.  200 submissions of a 1 MB
#    message (-odq), each SIGKILLed after a random delay spread over the
#    time a submission takes here (measured first), so that some are
#    killed before they touch the queue, some while writing ID.msg, some
#    while writing ID.tmp, some after the commit, and some finish.  Then
#    one queue run, and:
#    - a submission that exited 0 is delivered exactly once, intact (its
#      body hashed against the input in CRLF);
#    - a killed submission is delivered only if it had committed (its
#      ID.ctl existed before the run: killed between the rename of ID.tmp
#      and exit), and then exactly once and intact; nothing else arrives,
#      so no partial message ever reaches the smarthost;
#    - after the run the queue holds no *.msg, *.ctl or *.tmp, and
#      failed/ is empty: queue_clean() removed every killed submitter's
#      debris.
# 1b. The same (100 submissions of 150 KB) while two queue runners
#    loop, so that queue_clean() races live and dying submitters: an
#    exit 0 is delivered exactly once, a killed one at most once (it
#    may have committed), all intact, and the queue ends empty.
# 2. Queue runners killed mid-delivery.  What sendq guarantees: a message
#    leaves the queue only after the smarthost's 250 to the final dot,
#    so a killed runner never loses one; and the smarthost can only have
#    stored a message whose final dot it received, so a runner killed
#    before its dot reached the server causes no duplicate.  The one
#    duplicate SMTP allows (RFC 1047, documented): the runner dies after
#    sending the final dot and before recording the reply -- the server
#    keeps the message, the queue still holds it, the next run sends it
#    again.  Shown deterministically:
#    a. killed while waiting for the 354 to DATA (fault DATA=delay):
#       nothing stored; the next run delivers it once;
#    b. killed mid-body (the fixture SIGSTOPped right after its 354, the
#       runner blocked on a full socket with a 32 MB message): the
#       server saw part of the body and no dot, stored nothing; the next
#       run delivers it once;
#    c. killed after the final dot, before the reply (fault
#       DOT=delay): the server stores it anyway; the next run sends it
#       again -- exactly two intact copies, the documented duplicate;
#    d. runners killed at random moments over a backlog of 1 MB
#       messages, then a final run: every message arrives intact; a
#       message arrives more than once only if each of its copies but
#       the last was the last message stored in a session that a kill cut
#       short (no QUIT): at most one extra copy per kill (the same message
#       can be cut twice by two kills); the queue ends empty.
#
# CRASH_N (default 200) and CRASH_SEED (default random, printed) make
# runs reproducible.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
start=$SECONDS
N=${CRASH_N:-200}
SEED=${CRASH_SEED:-$RANDOM$RANDOM}
echo "seed $SEED (CRASH_SEED=$SEED reproduces the kill times)"

fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --size 200000000
q_conf global.max_message_size=0
Q=$T/queue

# Background processes of this test: killed at exit, whatever happens.
BG=()
kill_bg() {
	local p
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# A fixture stopped by part 2b must not stay stopped.
	[ ! -s "$T/relay/pid" ] || kill -CONT "$(cat "$T/relay/pid")" 2>/dev/null || true
}
t_on_exit kill_bg

cat >"$T/crash.py" <<'PY'
"""Helpers of crash_safety.sh: submit and kill, check what arrived."""
import hashlib, json, os, random, re, signal, subprocess, sys, time

BULK_LINES = 13000


def bulk():
    """About 1 MB of varied lines, some starting with '.' or '..'."""
    rnd = random.Random(42)
    out = []
    for i in range(BULK_LINES):
        pre = "." if i % 97 == 0 else ".." if i % 101 == 0 else ""
        out.append("%sline %05d %s\n" % (pre, i, "".join(
            rnd.choice("abcdefghijklmnopqrstuvwxyz 0123456789-")
            for _ in range(rnd.randint(20, 140)))))
    return "".join(out).encode()


def body(tag, n, bulk):
    return b"%s %d begins\n" % (tag.encode(), n) + bulk + \
        b"%s %d ends\n" % (tag.encode(), n)


def message(tag, n, token, bulk):
    head = ("Subject: %s %d\nMessage-ID: <%s-%d.%s@example.com>\n\n"
            % (tag, n, tag, n, token)).encode()
    return head + body(tag, n, bulk)


def crlf_hash(b):
    return hashlib.sha256(b.replace(b"\n", b"\r\n")).hexdigest()


def queue_files(q):
    return set(n for n in os.listdir(q) if n != "failed")


def submit(argv):
    """submit SENDMAIL CONF QUEUE N SEED TOKEN OUT.json"""
    sendmail, conf, q, n, seed, token, out = argv
    n, rnd, b = int(n), random.Random(int(seed)), bulk()
    path = os.path.join(os.path.dirname(out), "in.eml")
    cmd = [sendmail, "-C", conf, "-odq", "rcpt@example.org"]

    def run(i, delay):
        with open(path, "wb") as f:
            f.write(message("crash", i, token, b))
        before = queue_files(q) if os.path.isdir(q) else set()
        with open(path, "rb") as f:
            p = subprocess.Popen(cmd, stdin=f)
        t0 = time.monotonic()
        killed = False
        if delay is not None:
            time.sleep(max(0.0, delay - (time.monotonic() - t0)))
            if p.poll() is None:
                p.kill()
                killed = True
        # Blocking: Popen.wait(timeout) polls with sleeps of up to 50 ms,
        # which would spoil the calibration.
        rc = p.wait()
        el = time.monotonic() - t0
        new = queue_files(q) - before
        exts = sorted(set(os.path.splitext(x)[1] for x in new))
        if ".ctl" in exts:
            left = "committed"
        elif ".tmp" in exts:
            left = "msg+tmp"
        elif ".msg" in exts:
            left = "msg"
        else:
            left = "nothing"
        partial = [os.path.getsize(os.path.join(q, x)) for x in new
                   if x.endswith(".msg") and left != "committed"]
        ids = sorted(set(x[:12] for x in new))
        return {"n": i, "rc": 137 if rc == -signal.SIGKILL else rc,
                "signalled": killed, "delay_ms": None if delay is None
                else round(delay * 1000, 2), "elapsed_ms": round(el * 1000, 2),
                "left": left, "ids": ids, "partial_sizes": partial,
                "mid": "<crash-%d.%s@example.com>" % (i, token),
                "hash": crlf_hash(body("crash", i, b))}

    recs = []
    # Calibration: how long does a submission take here?  Not killed.
    for i in range(7):
        recs.append(run(n + i, None))
    times = sorted(r["elapsed_ms"] for r in recs)
    med = times[len(times) // 2] / 1000
    # Kill times: half spread evenly over the whole submission and a
    # little beyond (so that some complete), half over its last third,
    # where the data file is fsynced and the control file written,
    # renamed and the directory fsynced.  Within 40 ms unless submissions
    # are slower than that (sanitizer builds).
    span = max(min(1.5 * med, 0.040), 1.1 * med)
    for i in range(n):
        if i % 2 == 0:
            d = rnd.uniform(0, span)
        else:
            d = rnd.uniform(0.67 * med, 1.05 * med)
        recs.append(run(i, d))
    json.dump({"median_ms": round(med * 1000, 2),
               "span_ms": round(span * 1000, 2), "recs": recs},
              open(out, "w"), indent=1)


def delivered(msgdir):
    """Message-ID -> list of (file, body hash, subject) of every copy."""
    got = {}
    for name in sorted(os.listdir(msgdir)):
        if not name.endswith(".eml"):
            continue
        data = open(os.path.join(msgdir, name), "rb").read()
        head, sep, bd = data.partition(b"\r\n\r\n")
        if not sep:
            sys.exit("%s: no end of header" % name)
        m = re.search(rb"^Message-ID:\s*(<[^>]*>)", head, re.M | re.I)
        s = re.search(rb"^Subject:\s*(.*)\r$", head, re.M)
        mid = m.group(1).decode() if m else "(none in %s)" % name
        got.setdefault(mid, []).append(
            (name, hashlib.sha256(bd).hexdigest(),
             s.group(1).decode() if s else None))
    return got


def check(argv):
    """check RECORDS.json MSGDIR: part 1's assertions; prints figures."""
    recs, msgdir = json.load(open(argv[0]))["recs"], argv[1]
    got = delivered(msgdir)
    errors = []
    byid = {r["mid"]: r for r in recs}
    for mid in got:
        if mid not in byid:
            errors.append("delivered, but never submitted: %s" % mid)
    for r in recs:
        copies = got.get(r["mid"], [])
        if r["rc"] not in (0, 137):
            errors.append("submission %d exited %d" % (r["n"], r["rc"]))
        if r["rc"] == 0 and r["left"] != "committed":
            errors.append("submission %d exited 0 without a control file"
                          % r["n"])
        # signalled with exit 0: it had exited before the kill landed.
        if r["left"] == "committed":
            if len(copies) != 1:
                errors.append("submission %d (exit %d, committed): %d "
                              "copies delivered" % (r["n"], r["rc"],
                                                    len(copies)))
        elif copies:
            errors.append("submission %d (exit %d, killed before its "
                          "commit, left %s) was delivered: %s"
                          % (r["n"], r["rc"], r["left"], copies))
        for name, h, subj in copies:
            if h != r["hash"]:
                errors.append("submission %d: %s has a corrupt body"
                              % (r["n"], name))
            if subj != "crash %d" % r["n"]:
                errors.append("submission %d: %s has subject %r"
                              % (r["n"], name, subj))
    for e in errors[:20]:
        print("FAIL: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)


def submit_live(argv):
    """submit_live SENDMAIL CONF N SEED TOKEN OUT.json: like submit, with
    queue runners at work, so no classification by the files left."""
    sendmail, conf, n, seed, token, out = argv
    n, rnd = int(n), random.Random(int(seed))
    b = bulk()
    b = b[:b.index(b"\n", 150000) + 1]
    path = os.path.join(os.path.dirname(out), "live.eml")
    cmd = [sendmail, "-C", conf, "-odq", "rcpt@example.org"]

    def run(i, delay):
        with open(path, "wb") as f:
            f.write(message("live", i, token, b))
        with open(path, "rb") as f:
            p = subprocess.Popen(cmd, stdin=f)
        t0 = time.monotonic()
        if delay is not None:
            time.sleep(max(0.0, delay - (time.monotonic() - t0)))
            if p.poll() is None:
                p.kill()
        rc = p.wait()
        return {"n": i, "rc": 137 if rc == -signal.SIGKILL else rc,
                "elapsed_ms": round((time.monotonic() - t0) * 1000, 2),
                "mid": "<live-%d.%s@example.com>" % (i, token),
                "hash": crlf_hash(body("live", i, b))}

    recs = [run(n + i, None) for i in range(5)]
    med = sorted(r["elapsed_ms"] for r in recs)[2] / 1000
    recs += [run(i, rnd.uniform(0, 1.5 * med)) for i in range(n)]
    json.dump(recs, open(out, "w"), indent=1)
    print("%d submissions (%.1f ms each): %d completed, %d killed" % (
        n, med * 1000, sum(1 for r in recs[5:] if r["rc"] == 0),
        sum(1 for r in recs[5:] if r["rc"] == 137)))


def check_live(argv):
    """check_live RECORDS.json MSGDIR: exit 0 means exactly once, a
    killed one at most once; intact; nothing else of this part."""
    recs, got = json.load(open(argv[0])), delivered(argv[1])
    errors, byid = [], {r["mid"]: r for r in recs}
    for mid in got:
        if mid.startswith("<live-") and mid not in byid:
            errors.append("delivered, but never submitted: %s" % mid)
    for r in recs:
        copies = got.get(r["mid"], [])
        if r["rc"] not in (0, 137):
            errors.append("submission %d exited %d" % (r["n"], r["rc"]))
        if r["rc"] == 0 and len(copies) != 1 or len(copies) > 1:
            errors.append("submission %d (exit %d): %d copies"
                          % (r["n"], r["rc"], len(copies)))
        for name, h, _ in copies:
            if h != r["hash"]:
                errors.append("submission %d: %s has a corrupt body"
                              % (r["n"], name))
    for e in errors[:20]:
        print("FAIL: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("%d delivered, %d of them killed after their commit" % (
        sum(1 for r in recs if r["mid"] in got),
        sum(1 for r in recs if r["mid"] in got and r["rc"] == 137)))


def figures(argv):
    d = json.load(open(argv[0]))
    recs = [r for r in d["recs"] if r["delay_ms"] is not None]
    c = lambda f: sum(1 for r in recs if f(r))
    ok = c(lambda r: r["rc"] == 0)
    killed = c(lambda r: r["rc"] == 137)
    print("submission: median %.1f ms (calibration), kills spread over "
          "0-%.1f ms" % (d["median_ms"], d["span_ms"]))
    print("%d submissions: %d completed (exit 0), %d killed (exit 137)"
          % (len(recs), ok, killed))
    for what, f in (
            ("killed before creating ID.msg", lambda r: r["left"] == "nothing"),
            ("killed while writing ID.msg", lambda r: r["left"] == "msg"),
            ("killed while committing (ID.tmp)", lambda r: r["left"] == "msg+tmp"),
            ("killed after the commit", lambda r: r["rc"] == 137 and
             r["left"] == "committed")):
        print("  %-34s %d" % (what, c(lambda r: r["rc"] == 137 and f(r))))
    ps = sorted(s for r in recs for s in r["partial_sizes"])
    if ps:
        print("  partial data files left: %d, %d..%d bytes" %
              (len(ps), ps[0], ps[-1]))


def expect(argv):
    """expect MSGDIR MID COPIES HASH: MID arrived COPIES times, intact."""
    msgdir, mid, n, h = argv
    copies = delivered(msgdir).get(mid, [])
    if len(copies) != int(n):
        sys.exit("FAIL: %s: %d copies delivered, want %s" %
                 (mid, len(copies), n))
    for name, hh, _ in copies:
        if hh != h:
            sys.exit("FAIL: %s: %s has a corrupt body" % (mid, name))


def make(argv):
    """make FILE TAG N TOKEN [MB]: write a message, print its body hash."""
    path, tag, n, token = argv[:4]
    b = bulk()
    if len(argv) > 4:
        b = b * int(argv[4])
    with open(path, "wb") as f:
        f.write(message(tag, int(n), token, b))
    print(crlf_hash(body(tag, int(n), b)))


def stop_after_354(argv):
    """stop_after_354 TRANSCRIPT SESSIONS_BEFORE PID TIMEOUT: SIGSTOP the
    fixture once a new session's 354 is in its transcript and the body
    has begun: its reads.log (beside the transcript) has grown by 512 KB
    since.  (The 354 is logged before it is sent: a stop at once could
    come before the client saw it.)"""
    path, before, pid, timeout = argv[0], int(argv[1]), int(argv[2]), \
        float(argv[3])
    reads = os.path.join(os.path.dirname(path), "reads.log")
    end = time.monotonic() + timeout
    pat = re.compile(r"^S(\d+) S: 354", re.M)
    sess, mark = None, 0
    while time.monotonic() < end:
        if sess is None:
            for m in pat.finditer(open(path, errors="replace").read()):
                if int(m.group(1)) > before:
                    sess, mark = m.group(1), os.stat(reads).st_size
                    break
        elif os.stat(reads).st_size > mark + 512 * 1024:
            os.kill(pid, signal.SIGSTOP)
            print(sess)
            return
        time.sleep(0.001)
    sys.exit("FAIL: no 354 and body within %gs" % timeout)


def session_bytes(argv):
    """session_bytes READS.LOG SESSION: bytes the server read in it."""
    n = 0
    for line in open(argv[0]):
        d = json.loads(line)
        if d["session"] == int(argv[1]):
            n += len(d["data"])
    print(n)


def dups(argv):
    """dups MSGDIR TRANSCRIPT KILLS MIDS...: part 2d's assertions."""
    msgdir, transcript, kills, mids = argv[0], argv[1], int(argv[2]), \
        argv[3:]
    quit_sessions = set(int(m.group(1)) for m in re.finditer(
        r"^S(\d+) C: QUIT$", open(transcript).read(), re.M))
    got = delivered(msgdir)
    # The last message stored in each session.
    last = {}
    for name in sorted(os.listdir(msgdir)):
        if name.endswith(".json"):
            last[json.load(open(os.path.join(msgdir, name)))["session"]] = \
                name[:-5] + ".eml"
    sess = {}
    for name in os.listdir(msgdir):
        if name.endswith(".json"):
            sess[name[:-5] + ".eml"] = \
                json.load(open(os.path.join(msgdir, name)))["session"]
    errors, ndup = [], 0
    for mid in got:
        if mid not in mids[0::2]:
            errors.append("unexpected message %s" % mid)
    for mid, h in zip(mids[0::2], mids[1::2]):
        copies = got.get(mid, [])
        if not copies:
            errors.append("%s was never delivered" % mid)
        for name, hh, _ in copies:
            if hh != h:
                errors.append("%s: %s has a corrupt body" % (mid, name))
        # One copy is the one whose 250 a runner recorded; every other
        # one was cut off after its dot by a kill: it is the last message
        # stored in a session that ended without QUIT.
        cut = [name for name, _, _ in copies
               if last.get(sess[name]) == name and
               sess[name] not in quit_sessions]
        ndup += max(0, len(copies) - 1)
        if len(copies) > 1 and len(cut) < len(copies) - 1:
            errors.append("%s: delivered %d times, but only %d copies were "
                          "the last of a session cut short (%s)"
                          % (mid, len(copies), len(cut),
                             [(n, sess[n]) for n, _, _ in copies]))
    if ndup > kills:
        errors.append("%d extra copies for %d kills" % (ndup, kills))
    for e in errors[:20]:
        print("FAIL: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(ndup)


globals()[sys.argv[1]](sys.argv[2:])
PY
crash() { "$PYTHON" "$T/crash.py" "$@"; }
msgdir=$(fixture_dir relay)/msgs

# No *.msg, *.ctl or *.tmp in the queue, nothing in failed/.
assert_no_debris() {
	local left
	left=$( (find "$Q" -maxdepth 1 \( -name '*.msg' -o -name '*.ctl' \
	    -o -name '*.tmp' \); find "$Q/failed" -mindepth 1) | sort | head -n 20)
	[ -z "$left" ] || fail "$1: left in the queue: $(echo "$left" | tr "\n" " ")"
}

# ---------------------------------------------------------------- part 1
echo "== part 1: $N submissions of 1 MB, killed at random moments"
token=$SEED.$$
crash submit "$SENDMAIL" "$T/sendq.conf" "$Q" "$N" "$SEED" "$token" \
    "$T/recs.json" || fail "the submission driver failed"
crash figures "$T/recs.json"
committed=$(find "$Q" -maxdepth 1 -name '*.ctl' | wc -l)
debris=$(find "$Q" -maxdepth 1 \( -name '*.msg' -o -name '*.tmp' \) | wc -l)
echo "  queue before the run: $committed messages, $((debris - committed)) debris files"
# The listing sees the committed messages only, debris or not.
jl=$("$SENDQ" -C "$T/sendq.conf" queue --json | wc -l)
assert_eq "$committed" "$jl" "messages listed by sendq queue --json"

t0=$SECONDS
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
echo "  queue run: $(fixture_msgs relay) messages delivered in $((SECONDS - t0)) s"
assert_no_debris "after the run"
assert_eq "$committed" "$(fixture_msgs relay)" "messages delivered"
crash check "$T/recs.json" "$msgdir" || fail "part 1: see above"
# A second run has nothing left to send.
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq "$committed" "$(fixture_msgs relay)" "messages after a second run"
assert_eq 0 "$(q_count)" "queue after a second run"

# ---------------------------------------------------------------- part 1b
echo "== part 1b: 100 submissions of 150 KB killed at random, runners at work"
# Two runners loop (bounded in count and time) while submitters are
# killed: queue_clean() then races live and dying submitters.
runner_loop() {
	local i end=$((SECONDS + 120))
	for ((i = 0; i < 2000 && SECONDS < end; i++)); do
		[ ! -e "$T/stop" ] || break
		"$@" 2>>"$T/loop.err" || echo "$* exited $?" >>"$T/errors"
		sleep 0.02
	done
}
rm -f "$T/stop"
runner_loop "$SENDMAIL" -C "$T/sendq.conf" -q &
BG+=($!)
l1=$!
runner_loop "$SENDQ" -C "$T/sendq.conf" run &
BG+=($!)
l2=$!
crash submit_live "$SENDMAIL" "$T/sendq.conf" 100 "$SEED" "$token" \
    "$T/live.json" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the submission driver failed"
touch "$T/stop"
wait "$l1" "$l2"
[ ! -s "$T/errors" ] || fail "runners failed: $(head -n 5 "$T/errors")"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_no_debris "after part 1b"
crash check_live "$T/live.json" "$msgdir" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "part 1b: see above"

# ---------------------------------------------------------------- part 2
# Start one queue run in the background; its pid in RUNNER.
start_runner() {
	"$SENDMAIL" -C "$T/sendq.conf" -q 2>>"$T/runner.err" &
	RUNNER=$!
	BG+=("$RUNNER")
}
# Kill it (if still running), reap it, its exit status in RC.
kill_runner() {
	RC=0
	kill -KILL "$RUNNER" 2>/dev/null || true
	{ wait "$RUNNER"; } 2>/dev/null || RC=$?	# no "Killed" notice
}
sessions_now() { fixture_sessions relay; }
transcript=$(fixture_transcript relay)

echo "== part 2a: runner killed while waiting for the 354"
h=$(crash make "$T/a.eml" kill 1 "$token")
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq rcpt@example.org <"$T/a.eml"
before=$(fixture_msgs relay)
fixture_faults relay 'DATA=delay:3'
start_runner
wait_until 15 grep -q 'FAULT DATA delay:3' "$transcript"
kill_runner
assert_eq 137 "$RC" "exit status of the killed runner"
fixture_faults relay
sleep 3.5	# the fixture finishes the delay and finds EOF, not a body
assert_eq "$before" "$(fixture_msgs relay)" "messages stored after the kill"
assert_eq 1 "$(q_count)" "queue after the kill"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
crash expect "$msgdir" "<kill-1.$token@example.com>" 1 "$h" || fail "part 2a"
assert_no_debris "after part 2a"

echo "== part 2b: runner killed mid-body (32 MB, fixture stopped after its 354)"
h=$(crash make "$T/b.eml" kill 2 "$token" 32)
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq rcpt@example.org <"$T/b.eml"
# The queued data is the message as sent (CRLF, with sendq's headers).
size=$(stat -c %s "$Q"/*.msg)
before=$(fixture_msgs relay)
fpid=$(cat "$T/relay/pid")
s0=$(sessions_now)
start_runner
sess=$(crash stop_after_354 "$transcript" "$s0" "$fpid" 30) || fail "part 2b"
sleep 0.5	# the runner fills the socket buffers and blocks
kill_runner
assert_eq 137 "$RC" "exit status of the killed runner"
kill -CONT "$fpid"
wait_until 10 grep -q "^S$sess CLOSE$" "$transcript"
sleep 0.5
got=$(crash session_bytes "$T/relay/reads.log" "$sess")
echo "  the server read $got bytes of session $sess for a $size byte message"
[ "$got" -lt "$size" ] || fail "part 2b: the whole message reached the server before the kill"
[ "$got" -gt 65536 ] || fail "part 2b: the kill came before the body"
assert_eq "$before" "$(fixture_msgs relay)" "messages stored after a mid-body kill"
assert_eq 1 "$(q_count)" "queue after the kill"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
crash expect "$msgdir" "<kill-2.$token@example.com>" 1 "$h" || fail "part 2b"
assert_no_debris "after part 2b"
rm -f "$T/b.eml"

echo "== part 2c: runner killed after the final dot, before the reply"
h=$(crash make "$T/c.eml" kill 3 "$token")
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq rcpt@example.org <"$T/c.eml"
before=$(fixture_msgs relay)
fixture_faults relay 'DOT=delay:2'
start_runner
wait_until 15 grep -q 'FAULT DOT delay:2' "$transcript"
kill_runner
assert_eq 137 "$RC" "exit status of the killed runner"
fixture_faults relay
# The server had the whole message: it stores it after the delay.
fixture_wait_msgs relay $((before + 1))
assert_eq 1 "$(q_count)" "queue after the kill (the reply never arrived)"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
# The documented duplicate: two copies, both intact.
crash expect "$msgdir" "<kill-3.$token@example.com>" 2 "$h" || fail "part 2c"
assert_no_debris "after part 2c"

echo "== part 2d: runners killed at random moments over a backlog"
M=20
mids=()
for i in $(seq 1 $M); do
	h=$(crash make "$T/d.eml" backlog "$i" "$token")
	mids+=("<backlog-$i.$token@example.com>" "$h")
	assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq rcpt@example.org <"$T/d.eml"
done
before=$(fixture_msgs relay)
RANDOM=$SEED
kills=0
for ((k = 0; k < 8; k++)); do
	[ "$(q_count)" -gt 0 ] || break
	start_runner
	sleep "0.$(printf '%03d' $((RANDOM % 400 + 50)))"
	kill_runner
	case $RC in
	137) kills=$((kills + 1)) ;;
	0) ;;	# it finished the whole queue first
	*) fail "a runner exited $RC" ;;
	esac
done
mid_run=$(($(fixture_msgs relay) - before))
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_no_debris "after part 2d"
# The messages of parts 1-2c were in their own sessions: remove them from
# the count by looking only at this part's Message-IDs.
mkdir "$T/d"
for f in "$msgdir"/*.eml; do
	if grep -q '^Message-ID: <backlog-' "$f"; then
		cp "$f" "${f%.eml}.json" "$T/d/"
	fi
done
ndup=$(crash dups "$T/d" "$transcript" "$kills" "${mids[@]}") || fail "part 2d"
echo "  $kills runners killed, $mid_run messages sent before the final run, $ndup extra copies (killed after the dot)"
echo "elapsed $((SECONDS - start)) s"
echo ok
