#!/bin/bash
# sendmail only queues; sendq delivers.  Seen from outside:
# - ldd: sendmail is linked without libssl and libcrypto (sendq with);
# - both programs are not dumpable and have no core file limit, even
#   when the caller raised it (seen in /proc as root; finding 8);
# - ${TZ} in the configuration takes nothing from the caller's TZ, in
#   sendmail or in sendq (finding 10);
# - `sendq --help` prints the usage on stdout and exits 0; an unknown
#   command still exits 64 with the usage on stderr (finding 10).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs

echo "ldd"
ldd "$SENDMAIL" >"$T/ldd.sendmail" || fail "ldd $SENDMAIL failed"
ldd "$SENDQ" >"$T/ldd.sendq" || fail "ldd $SENDQ failed"
assert_contains "$T/ldd.sendmail" 'libconfuse'
assert_not_contains "$T/ldd.sendmail" 'libssl|libcrypto'
assert_contains "$T/ldd.sendq" 'libssl'

echo "sendq --help"
"$SENDQ" --help >"$T/help.out" 2>"$T/help.err" || fail "sendq --help exited $?"
assert_contains "$T/help.out" '^usage: sendq '
assert_contains "$T/help.out" 'flush \[--id S\]'
assert_eq "" "$(cat "$T/help.err")" "sendq --help on stderr"
rc=0
"$SENDQ" frobnicate >"$T/bad.out" 2>"$T/bad.err" || rc=$?
assert_eq 64 "$rc" "sendq frobnicate"
assert_eq "" "$(cat "$T/bad.out")" "usage on stdout after a bad command"
assert_contains "$T/bad.err" '^usage: sendq '

echo "\${TZ} in the configuration"
q_conf global.domain='"x${TZ}.example.com"'
TZ=UTC "$SENDMAIL" -C "$T/sendq.conf" -bv bob >"$T/bv" ||
    fail "sendmail -bv exited $?"
assert_contains -F "$T/bv" 'bob... deliverable: as bob@x.example.com, via'
TZ=UTC "$SENDQ" -C "$T/sendq.conf" check >"$T/check" ||
    fail "sendq check exited $?"
assert_contains -F "$T/check" 'domain x.example.com,'
q_conf global.domain='"${TZ:-fallback}.example.com"'
TZ=Europe/Paris "$SENDMAIL" -C "$T/sendq.conf" -bv bob >"$T/bv" ||
    fail "sendmail -bv exited $?"
assert_contains -F "$T/bv" 'as bob@fallback.example.com, via'

echo "not dumpable, no core file, as nobody"
q_nobody_conf
runs() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]; }
# PROGRAM ARGS...: run it as nobody with core files allowed, its input
# a FIFO kept open; check it from outside while it waits; stop it.
check_undumpable() {
	local prog=$1 pid
	shift
	rm -f "$T/fifo"
	mkfifo -m 0644 "$T/fifo"
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	    bash -c 'ulimit -c unlimited && exec "$@"' sh "$prog" "$@" \
	    <"$T/fifo" >/dev/null 2>&1 &
	pid=$!
	exec 9>"$T/fifo"
	wait_until 10 runs "$pid" "$prog"
	# The program's first step makes it undumpable: /proc/PID turns
	# root's (ASan's start-up before main can take a while).
	owned_by_root() { [ "$(stat -c %U "/proc/$pid/status")" = root ]; }
	wait_until 10 owned_by_root
	kill -0 "$pid" || fail "$prog exited early"
	assert_contains "$(grep '^Max core file size' "/proc/$pid/limits")" \
	    '^Max core file size +0 +0 '
	kill -TERM "$pid"
	exec 9>&-
	wait "$pid" 2>/dev/null || true
}
check_undumpable "$SENDMAIL" -C "$pub/sendq.conf" -bs
check_undumpable "$SENDQ" -C "$pub/sendq.conf" run --every 1h
echo ok
