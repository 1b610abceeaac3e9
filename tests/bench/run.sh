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
# BENCH_N and BENCH_M change the counts (default 200 and 1000).
# BENCH_SENDMAIL measures W1 with another sendmail (e.g. an older
# build); BENCH_ONLY=w1 runs W1 alone.
set -eu
build=${1:-$(pwd)}
export SENDQ_BUILD=$build
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/common.bash"
t_tmpdir
t_certs
N=${BENCH_N:-200}
M=${BENCH_M:-1000}

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
	"$PYTHON" - "$T/w1.times" "$sm" "$2" <<'PY'
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
w1 "$T" "the test directory"
w1_fresh_fs
[ "${BENCH_ONLY:-}" != w1 ] || exit 0

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
rm -rf "$T/queue"

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
	"$PYTHON" - "$T/$name/reads.log" "$T/$name/transcript.log" "$M" "$name" "$(ms "$a" "$b")" <<'PY'
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
PY
}
drain pipelining
drain nopipelining --no-pipelining
