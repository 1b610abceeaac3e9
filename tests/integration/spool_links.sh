#!/bin/bash
# Links planted in the spool by a member of group sendq (finding 4), on a
# real install, the attacker being nobody with group sendq as a
# supplementary group:
# - rate/ replaced by a link to a directory outside: root's submission
#   is refused (75) and logged, nothing is made outside; a missing rate/
#   is made again, as a directory of the spool;
# - ID.tmp planted as a symbolic link, then as a hard link, to a file
#   outside, while root's submission reads its input (the data file
#   names the ID), and beside a message root's flush retries: the
#   submission is accepted, the control file rewritten, and the file
#   outside keeps its text and its single link;
# - failed/ replaced by a link: a message that would go there stays in
#   the queue (logged, named), a sender's bounce still goes out, the
#   orphan purge and the debris cleaning follow no link;
# - the log file: a caller borrowing group sendq does not create it;
#   root does not append through a link planted in its place.
# At the end every accepted message has been delivered or is kept.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
q_install
for d in failed rate; do
	assert_eq "2770 root sendq" "$(stat -c '%a %U %G' "$s/$d")" "$d/"
done

fixture_start relay
install -d -m 2770 -g sendq "$p/log"
log=$p/log/sendq.log
cat >"$p/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$s"
log = "$log"
aliases_file = ""
delivery = queue
rate_limit = "100/h"
retry_min = 1s
account "default" {
    host = { "localhost:$FPORT" }
    tls = none
    timeout = 10s
}
CONF
out=$T/outside
mkdir -m 0755 "$out"
chown nobody "$out"
printf 'precious\n' >"$out/victim"
chown nobody "$out/victim"
chmod 0644 "$out/victim"
# The attacker's target is as made: one file, its text, one link.
untouched() {
	assert_eq "victim" "$(ls -A "$out" | xargs)" "files outside the spool"
	assert_eq "precious" "$(cat "$out/victim")" "the file outside"
	assert_eq "1 nobody 644" "$(stat -c '%h %U %a' "$out/victim")" \
	    "links, owner, mode of the file outside"
}
submit() {	# SUBJECT ARGS...
	printf 'Subject: %s\n\nbody\n' "$1" | "$p/sbin/sendmail" "${@:2}"
}
ctl_id() {	# the ID of the queued message whose data has SUBJECT
	basename "$(grep -l "^Subject: $1" "$s"/*.msg)" .msg
}
accepted=0

echo "the log file: not created by a caller borrowing the group"
printf 'Subject: one\n\nbody\n' |
    assert_exit 0 as_nobody "$p/sbin/sendmail" bob@example.org
accepted=$((accepted + 1))
[ ! -e "$log" ] || fail "nobody created the log: $(stat -c '%U %G %a' "$log")"
install -m 0660 -g sendq /dev/null "$log"

echo "rate/ a link outside: refused, nothing made there"
as_member rm -rf "$s/rate"
as_member ln -s "$out" "$s/rate"
assert_exit 75 submit two bob@example.org
printf 'Subject: two\n\nbody\n' |
    assert_exit 75 as_nobody "$p/sbin/sendmail" bob@example.org
untouched
assert_contains "$log" "$s/rate: not a directory \(a link\?\): not used"
as_member rm "$s/rate"
assert_exit 0 submit three bob@example.org
accepted=$((accepted + 1))
[ -d "$s/rate" ] && [ ! -L "$s/rate" ] || fail "rate/ was not made again"
assert_eq "root sendq" "$(stat -c '%U %G' "$s/rate")" "rate/ made by root"

# The ID of the message being submitted: its data file has no control
# file yet.
pending_id() {
	local f
	for f in "$s"/*.msg; do
		[ -e "${f%.msg}.ctl" ] || { basename "$f" .msg; return 0; }
	done
	return 1
}
echo "ID.tmp a symbolic link, then a hard link, to a file outside"
echo "... planted while root's submission reads its input"
for how in -s ""; do
	rm -f "$T/in"
	mkfifo "$T/in"
	"$p/sbin/sendmail" bob@example.org <"$T/in" >"$T/sub.err" 2>&1 &
	pid=$!
	exec 8>"$T/in"
	printf 'Subject: race%s\n\n' "$how" >&8
	wait_until 10 eval "pending_id >/dev/null"
	as_member ln $how "$out/victim" "$s/$(pending_id).tmp"
	printf 'body\n' >&8
	exec 8>&-
	rc=0
	wait "$pid" || rc=$?
	assert_eq 0 "$rc" "root's submission ($(cat "$T/sub.err"))"
	accepted=$((accepted + 1))
	untouched
done
echo "... planted beside a queued message that root's flush retries"
fixture_faults relay 'RCPT:later@example.org=451 4.2.0 try later'
assert_exit 0 submit later later@example.org
accepted=$((accepted + 1))
id=$(ctl_id later)
for how in -s ""; do
	as_member ln $how "$out/victim" "$s/$id.tmp"
	before=$(grep '^attempts ' "$s/$id.ctl")
	assert_exit 0 "$p/sbin/sendq" flush "$id"
	untouched
	assert_contains "$s/$id.ctl" '^sendq-control 1$'
	[ "$(grep '^attempts ' "$s/$id.ctl")" != "$before" ] ||
		fail "the control file was not rewritten"
	[ ! -e "$s/$id.tmp" ] && [ ! -L "$s/$id.tmp" ] ||
		fail "the planted $id.tmp is still there"
done

echo "failed/ a link outside: the message stays queued"
as_member rm -rf "$s/failed"
as_member ln -s "$out" "$s/failed"
fixture_faults relay 'RCPT:later@example.org=451 4.2.0 try later' \
    'RCPT:never@example.org=550 5.1.1 no such user' \
    'RCPT:gone@example.org=550 5.1.1 no such user'
assert_exit 0 submit never -N never never@example.org
accepted=$((accepted + 1))
nid=$(ctl_id never)
assert_exit 0 "$p/sbin/sendq" flush "$nid"
untouched
[ -f "$s/$nid.ctl" ] && [ -f "$s/$nid.msg" ] ||
	fail "the message that could not go to failed/ is lost"
assert_contains "$log" "$s/failed: not a directory \(a link\?\): not used"

echo "... a bounce still goes out, with its ID.tmp planted too"
assert_exit 0 submit gone -f sender@example.com gone@example.org
accepted=$((accepted + 1))
gid=$(ctl_id gone)
as_member ln -s "$out/victim" "$s/$gid.tmp"
n=$(fixture_msgs relay)
assert_exit 0 "$p/sbin/sendq" flush "$gid"
untouched
fixture_wait_msgs relay $((n + 1))
assert_eq "sender@example.com" "$(fixture_field relay $((n + 1)) rcpt_tos)" \
    "the bounce's recipient"
[ ! -e "$s/$gid.ctl" ] || fail "the bounced message is still queued"

echo "... debris and orphans: nothing followed"
as_member ln -s "$out/victim" "$s/5F3A00C1AAAA.msg"
as_member ln "$out/victim" "$s/5F3A00C1BBBB.msg"
as_member touch "$s/5F3A00C1CCCC.ctl"
assert_exit 0 "$p/sbin/sendq" flush
untouched
[ -e "$s/5F3A00C1CCCC.ctl" ] || fail "the orphan went through the link"

echo "the log file a link: root does not append through it"
as_member rm "$log"
as_member ln -s "$out/victim" "$log"
assert_exit 0 "$p/sbin/sendq" flush
untouched
as_member rm "$log"
install -m 0660 -g sendq /dev/null "$log"

echo "failed/ back: nothing lost"
as_member rm "$s/failed" "$s/5F3A00C1AAAA.msg" "$s/5F3A00C1CCCC.ctl"
fixture_faults relay 'RCPT:never@example.org=550 5.1.1 no such user'
assert_exit 0 "$p/sbin/sendq" flush
untouched
assert_eq 0 "$(find "$s" -maxdepth 1 -name '*.ctl' | wc -l)" "still queued"
assert_eq 1 "$(find "$s/failed" -name '*.ctl' | wc -l)" "kept in failed/"
[ -f "$s/failed/$nid.msg" ] || fail "$nid is not in failed/"
# All delivered but never (kept) and gone (bounced, the bounce
# delivered): every accepted message accounted for.
assert_eq $((accepted - 2 + 1)) "$(fixture_msgs relay)" "messages delivered"
echo ok
