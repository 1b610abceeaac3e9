# delivery.bash - make bench's delivery sections W2, W4 and BIG (see the
# header of run.sh), sourced by it after lib.sh and common.bash; each
# section adds its figures to the closing table with row().
#
# Every server here is the fixture with STARTTLS, AUTH required and
# --sink: sink.log has one line per message accepted, with the time it
# was accepted, which is when a run ends.  A run starts just before its
# first submission (or its flush, or the floor's client).

REUSED=$T/reused_conn
W2_N=1000
W2_REPEAT=${BENCH_REPEAT:-3}
W4_N=500
BIG_N=${BENCH_BIG:-100000}
BIG_IDLE=${BENCH_IDLE:-60}

# The floor's client, linked with the build's lib/libsendq.a.
build_reused() {
	[ -x "$REUSED" ] && return 0
	# shellcheck disable=SC2046 # pkg-config's words are separate flags
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lib" -o "$REUSED" \
	    "$TOP/tests/bench/reused_conn.c" "$SENDQ_BUILD/lib/libsendq.a" \
	    $(pkg-config --libs openssl libconfuse) ||
	    fail "cannot build reused_conn"
}

# A message of 4 KB (headers and 60 lines of 66 octets).
msg4k() {
	local line i
	line=$(printf '%066d' 0 | tr 0 x)
	printf 'Subject: bench 4k\n\n'
	for ((i = 0; i < 60; i++)); do
		printf '%s\n' "$line"
	done
}

# srv_start NAME PORT: the fixture on PORT, as every section wants it.
srv_start() {
	fixture_start "$1" --port "$2" --starttls --cert "$CERTS/server.pem" \
	    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
	    --require-auth --sink
}

sink_count() {
	if [ -f "$T/$1/sink.log" ]; then
		wc -l <"$T/$1/sink.log"
	else
		echo 0
	fi
}

# sink_wait NAME COUNT SECS: 0 once COUNT messages arrived, else 1.
sink_wait() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(sink_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	[ "$(sink_count "$1")" -ge "$2" ]
}

# The time the last (first) message arrived.
sink_last() { tail -n 1 "$T/$1/sink.log" | cut -d ' ' -f 4; }
sink_first() { head -n 1 "$T/$1/sink.log" | cut -d ' ' -f 4; }

# The most sessions the server had open at once (daemon_pool.sh).
max_concurrent() {
	awk '$2 == "CONNECT" { open[$1] = 1; n++; if (n > m) m = n }
	     ($2 == "CLOSE" || ($2 == "C:" && $3 == "QUIT")) && open[$1] {
		delete open[$1]; n-- }
	     END { print m + 0 }' "$(fixture_transcript "$1")"
}

# rate N A B: N per second from time A to time B.
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# submitters K N: N messages of 4 KB from K parallel loops, each message
# its own sendmail; a failed submission is written to $T/sub.err.
submitters() {
	local k pids=
	for ((k = 0; k < $1; k++)); do
		(
			for ((i = 0; i < $2 / $1; i++)); do
				"$SENDMAIL" -C "$T/sendq.conf" bob@example.org \
				    <"$T/m4k" || echo "submitter $k: exit $?"
			done
		) >>"$T/sub.err" 2>&1 &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
}

# queue_empty SECS: waits for the queue to empty; 0, or 1 when it did
# not.
queue_empty() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		[ "$(q_count)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# The daemon's configuration on PORT, with the default retry times
# (1m, 1h) unless more keys are given.
daemon_conf() {
	local port=$1
	shift
	q_conf global.socket="\"$T/run/sendq.sock\"" \
	    host="{ \"localhost:$port\" }" global.retry_min=- \
	    global.retry_max=- "$@"
}

# daemon_up: q_daemon_start, then wait for the start line (the end of
# its first reading of the queue), so that the figures are of a daemon
# at work, not of one still reading.
started_more() {
	local c
	c=$(grep -c 'daemon started' "$T/sendq.log" 2>/dev/null) || c=0
	[ "$c" -gt "$1" ]
}
daemon_up() {
	local n i
	n=$(grep -c 'daemon started' "$T/sendq.log" 2>/dev/null) || n=0
	q_daemon_start
	for ((i = 0; i < 100; i++)); do
		started_more "$n" && return 0
		sleep 0.1
	done
	echo "NOTE: the daemon logged no start line within 10 s"
}

load() { echo "load average: $(cut -d ' ' -f 1-3 /proc/loadavg)"; }

# ---------------------------------------------------------------- W2

# w2_floor NAME PORT: the floor, 1,000 messages queued (-odq, in a queue
# of their own, untimed) sent over one connection.  Its rate in FLOOR.
w2_floor() {
	local a e
	srv_start "$1" "$2"
	a=$EPOCHREALTIME
	"$REUSED" localhost "$2" "$CERTS/ca.pem" alice "$PASSWORD" \
	    "$T/w2floor"/*.msg >/dev/null || fail "reused_conn failed"
	sink_wait "$1" "$W2_N" 60 || fail "$1: $(sink_count "$1") of $W2_N"
	e=$(sink_last "$1")
	fixture_stop "$1"
	FLOOR=$(rate "$W2_N" "$a" "$e")
	echo "W2 floor ($1): $W2_N over 1 reused connection in" \
	    "$(secs "$a" "$e") s: $FLOOR msg/s"
}

# w2_run MODE K PORT PASS: MODE daemon or nodaemon, K submitters.  Sets
# W2_E2E, W2_SUB (msg/s), W2_CONN and W2_CONC.
w2_run() {
	local mode=$1 k=$2 port=$3 name=w2-$1-$2-$4 a b e left=0 sock
	srv_start "$name" "$port"
	sock=$T/run/sendq.sock
	[ "$mode" = daemon ] || sock=$T/run/none.sock
	daemon_conf "$port" global.socket="\"$sock\""
	[ "$mode" = nodaemon ] || daemon_up
	: >"$T/sub.err"
	a=$EPOCHREALTIME
	submitters "$k" "$W2_N"
	b=$EPOCHREALTIME
	[ -s "$T/sub.err" ] && echo "W2 $name: $(head -n 3 "$T/sub.err")"
	if ! sink_wait "$name" "$W2_N" 300; then
		echo "W2 $name: only $(sink_count "$name") of $W2_N arrived" \
		    "within 300 s"
	fi
	e=$(sink_last "$name")
	queue_empty 60 || left=$(q_count)
	[ "$mode" = nodaemon ] || q_daemon_stop
	fixture_stop "$name"
	W2_SUB=$(rate "$W2_N" "$a" "$b")
	W2_E2E=$(rate "$(sink_count "$name")" "$a" "$e")
	W2_CONN=$(fixture_sessions "$name")
	W2_CONC=$(max_concurrent "$name")
	echo "W2 pass $4, $mode, $k submitter(s): submit phase $(secs "$a" "$b") s" \
	    "($W2_SUB msg/s), last message received at $(secs "$a" "$e") s" \
	    "($W2_E2E msg/s end to end); $W2_CONN connections, at most" \
	    "$W2_CONC at once; $left left in the queue"
}

w2() {
	local port r k
	build_reused
	msg4k >"$T/m4k"
	port=$(t_unused_port)
	echo "W2: $W2_N messages of $(wc -c <"$T/m4k") octets, STARTTLS + AUTH PLAIN, fixture with --sink, $W2_REPEAT pass(es); $(load)"
	# The floor's messages: queued as sendmail queues them.
	q_conf global.queue_dir="\"$T/w2floor\""
	for ((i = 0; i < W2_N; i++)); do
		"$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org <"$T/m4k"
	done
	q_daemon_setup
	: >"$T/w2.tsv"
	w2_floor w2-floor0 "$port"
	echo "0 floor 0 - $FLOOR 1 1" >>"$T/w2.tsv"
	# Each pass runs each case once, the daemon and its counterpart
	# side by side, so that a change in the machine's load weighs on
	# the pair alike.
	for ((r = 1; r <= W2_REPEAT; r++)); do
		for k in 1 8; do
			for mode in daemon nodaemon; do
				case ",${BENCH_W2:-all}," in
				*",all,"* | *",$mode:$k,"*) ;;
				*) continue ;;
				esac
				w2_run "$mode" "$k" "$port" "$r"
				echo "$r $mode $k $W2_SUB $W2_E2E $W2_CONN" \
				    "$W2_CONC" >>"$T/w2.tsv"
			done
		done
	done
	w2_floor w2-floor1 "$port"
	echo "0 floor 0 - $FLOOR 1 1" >>"$T/w2.tsv"
	w2_rows
	rm -rf "$T/w2floor"
}

# The table's W2 rows from $T/w2.tsv (pass, mode, submitters, submit
# msg/s, end-to-end msg/s, connections, most at once): medians over the
# passes, the range beside them; each ratio is taken within a pass.
w2_rows() {
	"$PYTHON" - "$T/w2.tsv" >>"$SUMMARY" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1]) if l.strip()]
floors = [float(r[4]) for r in runs if r[1] == "floor"]
def sel(mode, k):
    return {int(r[0]): r for r in runs if r[1] == mode and r[2] == str(k)}
def med(v, fmt="%.0f"):
    m = fmt % statistics.median(v)
    return m if len(v) == 1 else "%s (%s-%s)" % (m, fmt % min(v), fmt % max(v))
def row(*c):
    print("\t".join(("W2",) + c))
flo = statistics.median(floors)
row("floor: 1 reused TLS connection", med(floors) + " msg/s", "-", "-", "-")
for k in (1, 8):
    d, n = sel("daemon", k), sel("nodaemon", k)
    e2e = [float(r[4]) for r in d.values()]
    sub = [float(r[3]) for r in d.values()]
    row("daemon, %d submitter(s): end to end" % k, med(e2e) + " msg/s",
        "%.0f msg/s" % flo, "%.2f" % (statistics.median(e2e) / flo), "-")
    row("daemon, %d submitter(s): submit phase" % k, med(sub) + " msg/s",
        "-", "-", "-")
    row("daemon, %d: end to end / submit phase" % k,
        med([float(r[4]) / float(r[3]) for r in d.values()], "%.2f"),
        "-", "-", ">= 0.9")
    row("daemon, %d: connections; most at once" % k,
        "%s; %s" % (med([int(r[5]) for r in d.values()]),
                    max(int(r[6]) for r in d.values())),
        "1; 1", "-", "<= 2 at once")
    row("no daemon, %d submitter(s): end to end" % k,
        med([float(r[4]) for r in n.values()]) + " msg/s", "-", "-", "-")
    row("no daemon, %d submitter(s): submit phase" % k,
        med([float(r[3]) for r in n.values()]) + " msg/s", "-", "-", "-")
    row("no daemon, %d: connections; most at once" % k,
        "%s; %s" % (med([int(r[5]) for r in n.values()]),
                    max(int(r[6]) for r in n.values())), "-", "-", "-")
    row("daemon / no daemon, %d submitter(s), end to end" % k,
        med([float(d[p][4]) / float(n[p][4]) for p in d if p in n], "%.2f"),
        "-", "-", ">= 3")
PY
}

# ---------------------------------------------------------------- W4

# w4_outage PORT: the daemon running, the server on PORT down, W4_N
# messages submitted; returns when the account is seen failing.
w4_outage() {
	local port=$1
	: >"$T/sub.err"
	daemon_up
	submitters 1 "$W4_N"
	[ -s "$T/sub.err" ] && echo "W4: $(head -n 3 "$T/sub.err")"
	wait_until 20 grep -q 'account default: failing' "$T/sendq.log"
	[ "$(q_count)" = "$W4_N" ] ||
	    echo "W4: $(q_count) of $W4_N in the queue during the outage"
}

# w4_pass PASS: one outage drained by sendq flush, then the floor on
# the same files; a line "drain floor connections most" in $T/w4.tsv
# (seconds, seconds).
w4_pass() {
	local port a b e fa fe conn conc name=w4-$1
	port=$(t_unused_port)
	daemon_conf "$port"
	w4_outage "$port"
	rm -rf "$T/w4floor"
	mkdir "$T/w4floor"
	cp "$T/queue"/*.msg "$T/w4floor/"
	srv_start "$name" "$port"
	a=$EPOCHREALTIME
	"$SENDQ" -C "$T/sendq.conf" flush >/dev/null ||
	    echo "W4: sendq flush exited $?"
	b=$EPOCHREALTIME
	sink_wait "$name" "$W4_N" 120 ||
	    echo "W4: only $(sink_count "$name") of $W4_N arrived within 120 s"
	e=$(sink_last "$name")
	q_daemon_stop
	fixture_stop "$name"
	conn=$(fixture_sessions "$name")
	conc=$(max_concurrent "$name")
	echo "W4 pass $1, sendq flush: $W4_N queued during the outage" \
	    "drained in $(secs "$a" "$e") s ($(rate "$W4_N" "$a" "$e")" \
	    "msg/s; the flush returned after $(secs "$a" "$b") s); $conn" \
	    "connections, at most $conc at once; $(q_count) left"

	# The floor: the same files over one connection.
	port=$(t_unused_port)
	srv_start "$name-floor" "$port"
	fa=$EPOCHREALTIME
	"$REUSED" localhost "$port" "$CERTS/ca.pem" alice "$PASSWORD" \
	    "$T/w4floor"/*.msg >/dev/null || fail "reused_conn failed"
	sink_wait "$name-floor" "$W4_N" 60 || fail "W4 floor incomplete"
	fe=$(sink_last "$name-floor")
	fixture_stop "$name-floor"
	echo "W4 pass $1, floor: the same $W4_N over 1 reused connection" \
	    "in $(secs "$fa" "$fe") s ($(rate "$W4_N" "$fa" "$fe") msg/s)"
	echo "$(secs "$a" "$e") $(secs "$fa" "$fe") $conn $conc" >>"$T/w4.tsv"
	rm -rf "$T/w4floor"
}

w4() {
	local r
	build_reused
	[ -f "$T/m4k" ] || msg4k >"$T/m4k"
	rm -f "$T/sendq.log"
	echo "W4: $W4_N messages of $(wc -c <"$T/m4k") octets," \
	    "$W2_REPEAT pass(es); $(load)"
	q_daemon_setup
	: >"$T/w4.tsv"
	for ((r = 1; r <= W2_REPEAT; r++)); do
		w4_pass "$r"
	done
	"$PYTHON" - "$T/w4.tsv" "$W4_N" >>"$SUMMARY" <<'PY'
import statistics, sys
runs = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
def med(v, fmt):
    m = fmt % statistics.median(v)
    return m if len(v) == 1 else "%s (%s-%s)" % (m, fmt % min(v), fmt % max(v))
def row(*c):
    print("\t".join(("W4",) + c))
row("drain by sendq flush, %d queued (time)" % n,
    med([r[0] for r in runs], "%.2f") + " s",
    med([r[1] for r in runs], "%.2f") + " s",
    med([r[0] / r[1] for r in runs], "%.2f") + "x", "<= 1.2x floor")
row("drain by sendq flush (rate)",
    med([n / r[0] for r in runs], "%.0f") + " msg/s",
    med([n / r[1] for r in runs], "%.0f") + " msg/s", "-", "-")
row("drain: connections; most at once",
    "%d; %d" % (max(r[2] for r in runs), max(r[3] for r in runs)),
    "1; 1", "-", "<= 2 at once")
PY
	w4_retry
}

# The same outage, left to the daemon: no flush.  Its wait after a
# failed session doubles from retry_min to retry_max, so the server's
# return is noticed within retry_max.
w4_retry() {
	local port a f e
	port=$(t_unused_port)
	rm -f "$T/sendq.log"
	daemon_conf "$port" global.retry_min=2s global.retry_max=4s
	w4_outage "$port"
	srv_start w4-retry "$port"
	a=$EPOCHREALTIME
	sink_wait w4-retry "$W4_N" 120 ||
	    echo "W4: only $(sink_count w4-retry) of $W4_N arrived within 120 s"
	f=$(sink_first w4-retry)
	e=$(sink_last w4-retry)
	q_daemon_stop
	fixture_stop w4-retry
	echo "W4 the daemon's own retry (retry_min 2s, retry_max 4s): first" \
	    "message $(secs "$a" "$f") s after the server came up, the last" \
	    "$(secs "$f" "$e") s later ($(rate "$((W4_N - 1))" "$f" "$e")" \
	    "msg/s); $(fixture_sessions w4-retry) connections"
	row W4 "own retry: server up -> first message" "$(secs "$a" "$f") s" \
	    - - "<= retry_max (4 s)"
	row W4 "own retry: first -> last message" "$(secs "$f" "$e") s" - - -
}

# ---------------------------------------------------------------- BIG

# proc_cpu PID: its CPU time and its reaped children's, with that of
# its live children, in clock ticks.
proc_cpu() {
	local pid=$1 t c kids=()
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat")
	read -r -a kids <"/proc/$pid/task/$pid/children" || true
	for c in "${kids[@]}"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" \
		    2>/dev/null || echo 0)))
	done
	echo "$t"
}

proc_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# Writes BIG_N - 1 more messages beside the one in $T/queue: its two
# files under new IDs (older ones: the same time field less one, less
# one more every 65,536), the ID replaced in both, in the queue's order
# (ID.msg whole, then ID.ctl).  Mode and group as the originals.
big_fill() {
	"$PYTHON" - "$T/queue" "$BIG_N" <<'PY'
import os, sys
q, n = sys.argv[1], int(sys.argv[2])
tid = [f[:-4] for f in os.listdir(q) if f.endswith(".ctl")][0]
msg = open(os.path.join(q, tid + ".msg"), "rb").read()
ctl = open(os.path.join(q, tid + ".ctl"), "rb").read()
st = os.stat(os.path.join(q, tid + ".ctl"))
assert ctl.count(("\nid %s\n" % tid).encode()) == 1
t0 = int(tid[:8], 16)
def put(name, data):
    fd = os.open(os.path.join(q, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, data)
    os.fchmod(fd, st.st_mode & 0o7777)
    os.close(fd)
for i in range(1, n):
    nid = ("%08X%04X" % (t0 - 1 - (i >> 16), i & 0xffff)).encode()
    put(nid.decode() + ".msg", msg.replace(tid.encode(), nid))
    put(nid.decode() + ".ctl", ctl.replace(tid.encode(), nid))
PY
}

# start_watch A LOG SECS: waits (at most SECS) for the daemon's start
# line in LOG; prints the seconds since A (EPOCHREALTIME), the number
# queued and the "read in" figure, or "- - -" when none came.
start_watch() {
	local a=$1 log=$2 i line=
	for ((i = 0; i < $3 * 100; i++)); do
		line=$(grep -m 1 'daemon started' "$log" 2>/dev/null) && break
		sleep 0.01
	done
	if [ -z "$line" ]; then
		echo "- - -"
		return
	fi
	echo "$(secs "$a" "$EPOCHREALTIME") $(echo "$line" |
	    sed -n 's/.*daemon started: \([0-9]*\) messages* queued (read in \([0-9]*\) ms).*/\1 \2/p')"
}

# A second daemon with an empty queue, beside the loaded one: the floor
# of the figures that do not depend on the queue.  Its pid in EPID.
empty_start() {
	local conf=$T/empty.conf
	mkdir -p "$T/equeue"
	chgrp sendq "$T/equeue"
	chmod 2770 "$T/equeue"
	sed -e "s|\"$T/queue\"|\"$T/equeue\"|" \
	    -e "s|\"$T/run/sendq.sock\"|\"$T/run/empty.sock\"|" \
	    -e "s|\"$T/sendq.log\"|\"$T/equeue/log\"|" "$T/sendq.conf" >"$conf"
	chgrp sendq "$conf"
	chmod 0640 "$conf"
	EA=$EPOCHREALTIME
	"$SENDQ" -C "$conf" daemon 2>>"$T/empty.err" &
	EPID=$!
	t_on_exit "kill $EPID 2>/dev/null || true"
}

big() {
	local port a t st est c0 c1 e0 e1 rss hwm ers flr b e fa fe conn late
	build_reused
	port=$(t_unused_port)
	rm -rf "$T/queue" "$T/sendq.log"
	q_daemon_setup
	daemon_conf "$port"
	msg big | "$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org
	a=$EPOCHREALTIME
	big_fill
	sync
	echo "BIG: $BIG_N messages of $(find "$T/queue" -name '*.msg' \
	    -printf '%s\n' -quit) octets written to the spool in $(secs "$a" \
	    "$EPOCHREALTIME") s (the files of one sendmail -odq, copied)"
	mkdir -p "$T/bigfloor"
	find "$T/queue" -name '*.msg' | head -n 1000 |
	    xargs cp -t "$T/bigfloor"
	echo "BIG: $(load)"
	empty_start
	est=$(start_watch "$EA" "$T/equeue/log" 10)
	a=$EPOCHREALTIME
	q_daemon_start
	# A caller while the daemon reads its queue: sendmail waits for
	# its answer (at most 5 s, then it delivers by itself).
	(
		b=$EPOCHREALTIME
		msg late | "$SENDMAIL" -C "$T/sendq.conf" bob@example.org
		ms "$b" "$EPOCHREALTIME" >"$T/late"
	) &
	late=$!
	st=$(start_watch "$a" "$T/sendq.log" 600)
	wait "$late"
	echo "BIG start-up: $(echo "$st" | awk '{ printf "%s s to the start line, %s queued, read in %s ms", $1, $2, $3 }');" \
	    "empty queue: $(echo "$est" | awk '{ print $1 }') s; a sendmail" \
	    "run as it started took $(cat "$T/late") ms"
	# Settled: the first attempt failed and the account waits.
	wait_until 30 grep -q 'account default: failing' "$T/sendq.log"
	sleep 2
	c0=$(proc_cpu "$DPID")
	e0=$(proc_cpu "$EPID")
	sleep "$BIG_IDLE"
	c1=$(proc_cpu "$DPID")
	e1=$(proc_cpu "$EPID")
	rss=$(proc_kb "$DPID" VmRSS)
	hwm=$(proc_kb "$DPID" VmHWM)
	ers=$(proc_kb "$EPID" VmRSS)
	kill -TERM "$EPID"
	wait "$EPID" || true
	# The same caller once the daemon is up.
	b=$EPOCHREALTIME
	msg late2 | "$SENDMAIL" -C "$T/sendq.conf" bob@example.org
	e=$EPOCHREALTIME
	t=$(getconf CLK_TCK)
	echo "BIG idle: VmRSS $rss kB, VmHWM $hwm kB (empty queue: $ers kB);" \
	    "CPU over $BIG_IDLE s: $(awk -v c=$((c1 - c0)) -v t="$t" 'BEGIN { printf "%.2f", c / t }') s" \
	    "(empty queue: $(awk -v c=$((e1 - e0)) -v t="$t" 'BEGIN { printf "%.2f", c / t }') s)"
	row BIG "$BIG_N queued: start-up to the start line" \
	    "$(echo "$st" | awk '{ print $1 }') s" \
	    "$(echo "$est" | awk '{ print $1 }') s (empty)" - -
	row BIG "$BIG_N queued: the daemon's scan (read in)" \
	    "$(echo "$st" | awk '{ print $3 }') ms" - - -

	row BIG "$BIG_N queued: VmRSS (VmHWM)" \
	    "$(awk -v r="$rss" -v h="$hwm" 'BEGIN { printf "%.1f (%.1f) MiB", r / 1024, h / 1024 }')" \
	    "$(awk -v r="$ers" 'BEGIN { printf "%.1f MiB (empty)", r / 1024 }')" - "<= 32 MiB"
	row BIG "$BIG_N queued: CPU over $BIG_IDLE idle s" \
	    "$(awk -v c=$((c1 - c0)) -v t="$t" 'BEGIN { printf "%.2f s", c / t }')" \
	    "$(awk -v c=$((e1 - e0)) -v t="$t" 'BEGIN { printf "%.2f s (empty)", c / t }')" \
	    - "<= 0.5 s"
	row BIG "$BIG_N queued: a sendmail during start-up" \
	    "$(cat "$T/late") ms" "$(ms "$b" "$e") ms (daemon up)" - -

	srv_start big "$port"
	a=$EPOCHREALTIME
	"$SENDQ" -C "$T/sendq.conf" flush >/dev/null ||
	    echo "BIG: sendq flush exited $?"
	b=$EPOCHREALTIME
	# The queue holds BIG_N, and the two sendmail calls above.
	sink_wait big "$((BIG_N + 2))" 60 ||
	    echo "BIG: only $(sink_count big) of $((BIG_N + 2)) arrived"
	e=$(sink_last big)
	hwm=$(proc_kb "$DPID" VmHWM)
	q_daemon_stop
	fixture_stop big
	conn=$(fixture_sessions big)
	echo "BIG drain by sendq flush: $(sink_count big) in $(secs "$a" "$e") s" \
	    "($(rate "$(sink_count big)" "$a" "$e") msg/s, the flush returned" \
	    "after $(secs "$a" "$b") s), $conn connections, $(q_count) left;" \
	    "VmHWM after it $hwm kB"

	# The floor: 1,000 of the same files over one connection.
	port=$(t_unused_port)
	srv_start big-floor "$port"
	fa=$EPOCHREALTIME
	"$REUSED" localhost "$port" "$CERTS/ca.pem" alice "$PASSWORD" \
	    "$T/bigfloor"/*.msg >/dev/null || fail "reused_conn failed"
	sink_wait big-floor 1000 60 || fail "BIG floor incomplete"
	fe=$(sink_last big-floor)
	fixture_stop big-floor
	flr=$(rate 1000 "$fa" "$fe")
	echo "BIG floor: 1000 of the same files over 1 reused connection: $flr msg/s"
	row BIG "$BIG_N queued: drain by sendq flush" \
	    "$(rate "$(sink_count big)" "$a" "$e") msg/s" "$flr msg/s" \
	    "$(ratio "$(rate "$(sink_count big)" "$a" "$e")" "$flr")" -
	row BIG "drain: connections; VmHWM after it" \
	    "$conn; $(awk -v h="$hwm" 'BEGIN { printf "%.1f MiB", h / 1024 }')" - - -
	rm -rf "$T/bigfloor" "$T/queue"
}

# ---------------------------------------------------------------- table

summary() {
	echo
	echo "Summary (every figure beside its floor; targets from issue 10;" \
	    "at the end, $(load)):"
	"$PYTHON" - "$SUMMARY" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
head = ["", "figure", "measured", "floor", "ratio", "target"]
rows = [r + ["-"] * (6 - len(r)) for r in rows]
w = [max(len(r[i]) for r in rows + [head]) for i in range(6)]
for r in [head] + rows:
    print("  " + "  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
PY
}
