#!/bin/bash
# A 50 MB message goes through intact, and memory does not grow with the
# message: sendmail's peak RSS for 50 MB stays under 16 MB (without
# sanitizers) and within 4 MB of its peak for 1 MB, both when queueing
# and when delivering.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --size 200000000
q_conf global.max_message_size=0

# Peak RSS in KiB of one command (its own process, waited for).
peak_rss() {
	"$PYTHON" - "$@" <<'PY'
import resource, subprocess, sys
with open(sys.argv[1], "rb") as f:
    r = subprocess.run(sys.argv[2:], stdin=f)
if r.returncode != 0:
    sys.exit("exit %d" % r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

make_msg() {	# FILE MEGABYTES
	"$PYTHON" - "$1" "$2" <<'PY'
import sys
line = b"".join(bytes([33 + (i * 7) % 94]) for i in range(76)) + b"\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"Subject: big\nMessage-ID: <big@example.com>\n\n")
    n = int(sys.argv[2]) * 1024 * 1024 // len(line)
    for i in range(n):
        f.write(b"." + line if i % 1000 == 0 else line)
PY
}

declare -A rss
for mb in 1 50; do
	make_msg "$T/in$mb" $mb
	rss[q$mb]=$(peak_rss "$T/in$mb" "$SENDMAIL" -C "$T/sendq.conf" -odq \
	    bob@example.org)
	rss[d$mb]=$(peak_rss /dev/null "$SENDMAIL" -C "$T/sendq.conf" -q)
	assert_eq 0 "$(q_count)" "queue after delivering $mb MB"
done
fixture_wait_msgs relay 2

# Intact: the body received equals the input in CRLF.
eml=$(fixture_eml relay 2)
sed -n '/^\r$/,$p' "$eml" | tail -n +2 >"$T/got"
sed -n '/^$/,$p' "$T/in50" | tail -n +2 | sed 's/$/\r/' >"$T/want"
assert_file_eq "$T/want" "$T/got" "50 MB body"

echo "peak RSS KiB: queue 1MB=${rss[q1]} 50MB=${rss[q50]}; deliver 1MB=${rss[d1]} 50MB=${rss[d50]}"
for k in q d; do
	grow=$(( ${rss[${k}50]} - ${rss[${k}1]} ))
	[ "$grow" -lt 4096 ] || fail "RSS grew by $grow KiB from 1 to 50 MB ($k)"
	if [ -z "${SENDQ_SANITIZE:-}" ]; then
		[ "${rss[${k}50]}" -lt 16384 ] ||
		    fail "peak RSS ${rss[${k}50]} KiB for 50 MB ($k)"
	fi
done
echo ok
