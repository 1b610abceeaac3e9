#!/bin/bash
# make bench: figures, not assertions.
#   W1. submit latency: sendmail -odq per message, beside two floors
#      measured in the same run, interleaved with it message by message:
#      a bare fork+exec and a bare durable write (tests/bench/
#      durable_write.c: a new file, fsynced with its directory; and two
#      new files, as a spool of a data file and a control file must
#      write at the least); each in ms (median and mean) and sendmail's
#      ratio to each floor.  Run
#      twice: in the test directory, and (as root) on a new ext4 file
#      system on a loop device.  The second is the figure to read: on a
#      file system where many files were just deleted (a test suite, a
#      busy spool), ext4 skips the recently freed inodes when it
#      allocates one, and each new file can cost a millisecond of CPU;
#      a submission makes two files (data and control) and the floor
#      one, so that cost, not sendq's, would dominate the ratio.
#   1. submission: N messages queued with -odq (each fsynced), per message
#   2. drain: a backlog of M messages sent by one `sendmail -q`, over one
#      connection, with and without PIPELINING at the server
#   3. writes and round trips per message, counted from the server's reads
#   4. peak RSS queueing and delivering a 50 MB message
#   W2. delivery of 1,000 messages of 4 KB from 1 and from 8 parallel
#      submitters (each message a separate sendmail process), to the
#      fixture with STARTTLS + AUTH, with `sendq daemon` and without it
#      (each sendmail forks its own delivery): end-to-end msg/s (first
#      submission to the last message received by the server), the
#      submit phase (first submission to the last sendmail's exit), and
#      the connections each used.  Floor: one TLS connection, opened
#      once, pushing 1,000 such messages (tests/bench/reused_conn.c over
#      lib/smtp), before and after.  BENCH_REPEAT passes (default 3)
#      of the four cases: the table gives medians, ranges beside them.
#   W4. 500 messages queued with the daemon running and the smarthost
#      down; then it comes up and `sendq flush` drains the queue: time
#      from the flush to the last message received, beside the floor
#      of the same 500 files over one reused connection (BENCH_REPEAT
#      passes, each drain beside its own floor).  Then the same
#      outage left to the daemon's own retry (retry_min 2s, retry_max
#      4s), no flush: time from the server's return to the last message.
#   BIG. BENCH_BIG (default 100,000) messages queued with the smarthost
#      down, the spool files written directly in the queue's format (a
#      message queued by sendmail -odq, copied under new IDs): the
#      daemon's start-up time, its RSS, its CPU time (with its
#      children's) over 60 idle seconds, then the drain rate of `sendq
#      flush` once the smarthost is up.
# The servers of W2, W4 and BIG run with --sink (tests/fixtures/
# smtpd.py): one line per message, not two files, so that the fixture's
# file system is not what is measured.  A table of every figure, each
# beside its floor and target, ends the output.  Timed figures are
# printed, never asserted: they depend on the machine and its load.
# BENCH_N and BENCH_M change the counts (default 200 and 1000).
# BENCH_SENDMAIL measures W1 with another sendmail (e.g. an older
# build).  BENCH_ONLY selects sections, comma-separated: w1,
# submission, drain, w2, w4, big (e.g. BENCH_ONLY=w2,w4).  BENCH_W2
# selects W2's cases: daemon:1, nodaemon:1, daemon:8, nodaemon:8.
set -eu
build=${1:-$(pwd)}
export SENDQ_BUILD=$build
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/common.bash"
t_tmpdir
t_certs
N=${BENCH_N:-200}
M=${BENCH_M:-1000}

# Whether section $1 is to run (BENCH_ONLY).
want() {
	case ",${BENCH_ONLY:-all}," in
	*",all,"* | *",$1,"*) return 0 ;;
	esac
	return 1
}

# The closing table: SECTION, FIGURE, VALUE, FLOOR, RATIO, TARGET, tab
# separated ("-" for none).
SUMMARY=$T/summary.tsv
: >"$SUMMARY"
row() {
	local IFS=$'\t'
	echo "$*" >>"$SUMMARY"
}

now() { date +%s.%N; }
ms() { echo "$1 $2" | awk '{ printf "%.1f", ($2 - $1) * 1000 }'; }

msg() { printf 'Subject: bench %s\nMessage-ID: <bench-%s@example.com>\n\n%s\n' "$1" "$1" \
    "a short body of one line, as cron and monitoring mail are"; }

# W1: each message costs one run of each of the three programs, in
# turn, so that a change in the machine's load weighs on all alike.
w1() {	# DIR: where the queue and the floor's files go
	local sm=${BENCH_SENDMAIL:-$SENDMAIL} dw=$T/durable_write i a b c d e
	local dir=$1
	${CC:-cc} -O2 -o "$dw" "$TOP/tests/bench/durable_write.c" ||
	    fail "cannot build durable_write"
	q_conf "global.queue_dir=\"$dir/queue\""
	rm -rf "$dir/queue" "$dir/floor"
	mkdir "$dir/floor"
	msg w1 >"$T/w1.msg"
	"$sm" -C "$T/sendq.conf" -odq bob@example.org <"$T/w1.msg" ||
	    fail "$sm exited $?"
	for ((i = 0; i < N; i++)); do
		a=$EPOCHREALTIME
		"$dw" <"$T/w1.msg"
		b=$EPOCHREALTIME
		"$dw" "$dir/floor" <"$T/w1.msg" || fail "durable_write failed"
		c=$EPOCHREALTIME
		"$dw" -2 "$dir/floor" <"$T/w1.msg" || fail "durable_write failed"
		d=$EPOCHREALTIME
		"$sm" -C "$T/sendq.conf" -odq bob@example.org <"$T/w1.msg" ||
		    fail "$sm exited $?"
		e=$EPOCHREALTIME
		echo "$a $b $c $d $e"
	done >"$T/w1.times"
	a=$(find "$dir/queue" -maxdepth 1 -name '*.ctl' | wc -l)
	[ "$a" = $((N + 1)) ] || fail "W1: $a of $((N + 1)) queued"
	"$PYTHON" - "$T/w1.times" "$sm" "$2" "$SUMMARY" <<'PY'
import statistics, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
def ms(k):
    v = [(r[k + 1] - r[k]) * 1000 for r in rows]
    return statistics.median(v), statistics.mean(v)
ex, dw, dw2, sm = ms(0), ms(1), ms(2), ms(3)
print("W1 submit latency, %s (%d messages, median / mean ms per message):" % (sys.argv[3], len(rows)))
print("  fork+exec floor               %6.2f / %6.2f" % ex)
print("  durable write floor, 1 file   %6.2f / %6.2f" % dw)
print("  durable write floor, 2 files  %6.2f / %6.2f" % dw2)
print("  sendmail -odq                 %6.2f / %6.2f   (%s)" % (sm + (sys.argv[2],)))
print("  ratio to the durable write of 1 file %.2fx (mean %.2fx), of 2 files %.2fx (mean %.2fx), to fork+exec %.2fx" %
      (sm[0] / dw[0], sm[1] / dw[1], sm[0] / dw2[0], sm[1] / dw2[1], sm[0] / ex[0]))
with open(sys.argv[4], "a") as f:
    f.write("W1\tsendmail -odq, %s (median ms)\t%.2f ms\t%.2f ms (durable write, 2 files)\t%.2fx\t-\n"
            % (sys.argv[3], sm[0], dw2[0], sm[0] / dw2[0]))
PY
	rm -rf "$dir/queue" "$dir/floor"
}

# A new ext4 file system on a loop device, for W1 (see above).
w1_fresh_fs() {
	local img=$T/w1.img mnt=$T/w1.mnt
	if [ "$(id -u)" != 0 ]; then
		echo "W1 on a new file system: skipped (needs root for mount)"
		return
	fi
	truncate -s 256M "$img"
	mkfs.ext4 -q -F "$img" || fail "mkfs.ext4 failed"
	mkdir "$mnt"
	mount -o loop "$img" "$mnt" || fail "cannot mount a loop device"
	t_on_exit "umount '$mnt'"
	w1 "$mnt" "a new ext4 file system"
}
if want w1; then
	w1 "$T" "the test directory"
	w1_fresh_fs
fi

submission() {
	fixture_start sink --starttls --cert "$CERTS/server.pem" \
	    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
	q_conf
	t0=$(now)
	for i in $(seq "$N"); do
		msg "$i" | "$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org
	done
	t1=$(now)
	echo "submission: $N messages queued in $(ms "$t0" "$t1") ms," \
	    "$(echo "$t0 $t1 $N" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 }') ms each (fsync of data, control file and directory)"
	row submission "sendmail -odq, $N in a row (ms each)" \
	    "$(echo "$t0 $t1 $N" | awk '{ printf "%.2f ms", ($2 - $1) * 1000 / $3 }')" - - -
	rm -rf "$T/queue"
}
want submission && submission

drain() {	# NAME [fixture options]
	local name=$1
	shift
	fixture_start "$name" --starttls --cert "$CERTS/server.pem" \
	    --key "$CERTS/server.key" --user alice --password "$PASSWORD" "$@"
	q_conf
	rm -rf "$T/queue"
	for i in $(seq "$M"); do
		msg "$i" | "$SENDMAIL" -C "$T/sendq.conf" -odq "r$((i % 3))@example.org"
	done
	local a b
	a=$(now)
	"$SENDMAIL" -C "$T/sendq.conf" -q
	b=$(now)
	[ "$(fixture_msgs "$name")" = "$M" ] || fail "$name: $(fixture_msgs "$name") of $M delivered"
	"$PYTHON" - "$T/$name/reads.log" "$T/$name/transcript.log" "$M" "$name" "$(ms "$a" "$b")" \
	    "$SUMMARY" <<'PY'
import json, sys
reads, transcript, m, name, msecs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
sessions = sum(1 for l in open(transcript) if l.split(" ", 2)[1].startswith("CONNECT"))
# A client write that the server waits for before replying is a round
# trip; count reads in the transaction phase (after AUTH) per message.
chunks = [json.loads(l) for l in open(reads)]
after_auth, n = False, 0
for c in chunks:
    if c["data"].startswith("AUTH"):
        after_auth = True
        continue
    if after_auth and not c["data"].startswith("QUIT"):
        n += 1
print("drain (%s): %d messages in %.0f ms over %d connection(s): %.2f ms each, "
      "%.2f client writes (round trips) per message" % (name, m, msecs, sessions, msecs / m, n / m))
with open(sys.argv[6], "a") as f:
    f.write("drain\tsendmail -q, %d queued, %s (ms each)\t%.2f ms, %.2f writes/msg, %d conn\t-\t-\t-\n"
            % (m, name, msecs / m, n / m, sessions))
PY
}
if want drain; then
	drain pipelining
	drain nopipelining --no-pipelining
fi

. "$TOP/tests/bench/delivery.bash"
if want w2; then w2; fi
if want w4; then w4; fi
if want big; then big; fi
summary
