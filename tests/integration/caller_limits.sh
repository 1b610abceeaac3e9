#!/bin/bash
# What an unprivileged caller (nobody) learns and gets from the
# installed, set-group-ID sendmail:
# - mailq / -bp list only the caller's own messages, and the closing
#   line counts only those (finding 3); root and members of group sendq
#   see them all; another user sees an empty queue; mailq -C FILE reads
#   with the caller's own rights (the spool is then closed to it);
# - rate_limit "3/h" cannot be reset: submissions under `ulimit -f 0`
#   (SIGXFSZ ignored, so the failing write returns) and submissions
#   killed with SIGKILL at random moments, mixed with plain ones, never
#   get more than 3 accepted (exit 0) or queued in the window (finding
#   2; the old code, which truncated the counter before rewriting it,
#   accepted one more after each failed write).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
q_install
install -d -m 0755 "$p/log"
install -m 0660 -g sendq /dev/null "$p/log/sendq.log"
conf() {	# extra global lines
	cat >"$p/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$s"
log = "$p/log/sendq.log"
aliases_file = ""
delivery = queue
$*
CONF
}
msg() { printf 'Subject: %s\n\nbody\n' "$1"; }
ids_of() {	# UID: the IDs of its queued messages
	grep -l "^uid $1\$" "$s"/*.ctl 2>/dev/null | xargs -r -n1 basename |
	    sed 's/\.ctl$//' | sort
}

echo "mailq as nobody: its own messages only"
conf
msg root1 | "$p/sbin/sendmail" carol@example.org
msg root2 | "$p/sbin/sendmail" -f ceo@example.com dave@example.org
msg mine | as_nobody "$p/sbin/sendmail" erin@example.org
mine=$(ids_of "$(id -u nobody)")
[ -n "$mine" ] || fail "nobody's message is not queued"
as_nobody "$p/sbin/mailq" >"$T/mailq.nobody" || fail "mailq exited $?"
as_nobody "$p/sbin/sendmail" -bp >"$T/bp.nobody" || fail "-bp exited $?"
assert_file_eq "$T/mailq.nobody" "$T/bp.nobody" "mailq and -bp"
assert_contains "$T/mailq.nobody" "^$mine "
assert_contains "$T/mailq.nobody" 'erin@example\.org$'
for id in $(ids_of 0); do
	assert_not_contains "$T/mailq.nobody" "$id"
done
assert_not_contains "$T/mailq.nobody" 'carol|dave|ceo'
assert_eq "-- 1 Kbytes in 1 Request." "$(tail -n 1 "$T/mailq.nobody")" \
    "nobody's closing line"
as_daemon "$p/sbin/mailq" >"$T/mailq.daemon" || fail "mailq exited $?"
assert_eq "Mail queue is empty" "$(cat "$T/mailq.daemon")" "daemon's mailq"
"$p/sbin/mailq" >"$T/mailq.root"
assert_eq "-- 1 Kbytes in 3 Requests." "$(tail -n 1 "$T/mailq.root")" \
    "root's closing line"
as_member "$p/sbin/mailq" >"$T/mailq.member"
assert_file_eq "$T/mailq.root" "$T/mailq.member" "a member's mailq"
cp "$p/etc/sendq.conf" "$T/mine.conf"
chmod 0644 "$T/mine.conf"
assert_exit 77 as_nobody "$p/sbin/mailq" -C "$T/mine.conf"
"$p/sbin/sendq" delete $(ids_of 0) $mine >/dev/null

echo "rate_limit 3/h as nobody: plain, ulimit -f 0, SIGKILL"
conf 'rate_limit = "3/h"'
accepted=0
refused=0
# MODE: plain, fsize (every write beyond 0 bytes fails) or kill (SIGKILL
# after 0 to 40 ms).  Counts what the caller was told.
try() {
	local rc=0 pid
	case $1 in
	plain)
		msg plain | as_nobody "$p/sbin/sendmail" bob@example.org ||
		    rc=$? ;;
	fsize)
		msg fsize | as_nobody bash -c \
		    'trap "" XFSZ; ulimit -f 0; exec "$@"' sh \
		    "$p/sbin/sendmail" bob@example.org 2>/dev/null || rc=$? ;;
	kill)
		msg kill >"$T/kill.in"
		as_nobody "$p/sbin/sendmail" bob@example.org <"$T/kill.in" \
		    2>/dev/null &
		pid=$!
		sleep "0.0$((RANDOM % 40))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || rc=$? ;;
	esac
	if [ "$rc" = 0 ]; then
		accepted=$((accepted + 1))
	else
		refused=$((refused + 1))
	fi
}
# A failed write neither takes a slot nor gives the window back.
try plain
try fsize
try plain
try fsize
try plain
assert_eq 3 "$accepted" "plain submissions between failed writes"
try fsize
try plain
assert_eq 3 "$accepted" "a plain one after the window is full"
for i in $(seq 1 24); do
	case $((i % 3)) in
	0) try plain ;;
	1) try fsize ;;
	2) try kill ;;
	esac
	[ "$accepted" -le 3 ] ||
		fail "accepted $accepted in the window (attempt $i)"
done
assert_eq 3 "$(ids_of "$(id -u nobody)" | wc -l)" "nobody's queued messages"
assert_contains "$p/log/sendq.log" 'rate limit of 3 messages in 3600 seconds reached for uid [0-9]+; try later$'
echo "accepted $accepted, refused $refused"

echo "a counter that does not parse: the limit, until its window ends"
"$p/sbin/sendq" delete $(ids_of "$(id -u nobody)") >/dev/null
: >"$s/rate/$(id -u nobody)"
msg x | assert_exit 75 as_nobody "$p/sbin/sendmail" bob@example.org
touch -d '-2 hours' "$s/rate/$(id -u nobody)"
msg x | assert_exit 0 as_nobody "$p/sbin/sendmail" bob@example.org
rm "$s/rate/$(id -u nobody)"
msg x | assert_exit 0 as_nobody "$p/sbin/sendmail" bob@example.org
echo ok
