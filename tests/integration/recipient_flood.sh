#!/bin/bash
# -t with a flood of addresses: 100,000 in one To:, 100,000 spread over
# To: headers of 1,000 each, and a 1 MiB header section of headers that
# each stay under the per-header limit.  Each is refused with exit 65
# (more than 1000 recipients) and leaves nothing queued; a 1 MiB header
# section of duplicates of one address is accepted.  Extraction and
# de-duplication are linear: the elapsed times go to this log (the old
# quadratic code took 96 s for the second case).  The `timeout` is no
# measurement, only a guard against quadratic time: it is two orders of
# magnitude above what the linear code needs on a loaded machine.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf

queued() { find "$T/queue" -maxdepth 1 -name '*.ctl' 2>/dev/null | wc -l; }
# gen FILE N PER FMT: N addresses (FMT % i), PER to a To: header.
gen() {
	"$PYTHON" - "$@" <<'PY'
import sys
path, n, per, fmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "w") as f:
    for start in range(0, n, per):
        f.write("To: " + ",".join(fmt % i for i in
                range(start, min(n, start + per))) + "\n")
    f.write("Subject: flood\n\nbody\n")
PY
	echo "$1: $(stat -c %s "$1") bytes"
}
# submit CODE FILE: sendmail -t, timed; exits CODE.
submit() {
	local want=$1 file=$2 rc=0 t0 t1
	t0=$(date +%s%N)
	timeout 20 "$SENDMAIL" -C "$T/sendq.conf" -odq -t <"$file" \
	    2>"$T/err" || rc=$?
	t1=$(date +%s%N)
	echo "  exit $rc in $(( (t1 - t0) / 1000000 )) ms: $(head -c 120 "$T/err")"
	[ "$rc" = "$want" ] || fail "$file: expected exit $want, got $rc"
}

echo "100,000 addresses in one To:"
gen "$T/one" 100000 100000 '%d@x'
submit 65 "$T/one"
assert_contains "$T/err" 'too many addresses'
assert_eq 0 "$(queued)" "messages queued"

echo "100,000 addresses, To: headers of 1,000"
gen "$T/split" 100000 1000 '%d@x'
submit 65 "$T/split"
assert_contains "$T/err" 'more than 1000 recipients'
assert_eq 0 "$(queued)" "messages queued"

echo "20,000 addresses, To: headers of 900"
gen "$T/20k" 20000 900 'u%d@example.org'
submit 65 "$T/20k"
assert_eq 0 "$(queued)" "messages queued"

echo "a header section just under 1 MiB, To: headers of 900"
gen "$T/mib" 52000 900 'u%d@example.org'
submit 65 "$T/mib"
assert_eq 0 "$(queued)" "messages queued"

echo "a header section of 800 KB, all one address: accepted, one recipient"
gen "$T/dup" 200000 1000 'a@x%.0s'
submit 0 "$T/dup"
assert_eq 1 "$(queued)" "messages queued"
assert_eq 1 "$(grep -c '^rcpt ' "$T"/queue/*.ctl)" "recipients"
echo ok
