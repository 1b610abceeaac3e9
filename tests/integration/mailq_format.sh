#!/bin/bash
# mailq and sendmail -bp print the queue in Postfix's layout: empty, one
# message, a deferred message with its reason, several messages; failed/
# is not listed.  The expected text is built here from SPEC.md's layout
# and compared byte for byte.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf
ln -s "$SENDMAIL" "$T/mailq"

echo "empty"
printf 'Mail queue is empty\n' >"$T/want"
"$T/mailq" -C "$T/sendq.conf" >"$T/got"
assert_file_eq "$T/want" "$T/got" "empty queue"

heading() {
	echo "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
}
# entry ID SENDER: the message line, as SPEC.md shows it.
entry() {
	local id=$1 sender=$2 ctl=$T/queue/$1.ctl
	local arrival size when
	arrival=$(sed -n 's/^arrival //p' "$ctl")
	size=$(stat -c %s "$T/queue/$id.msg")
	when=$(LC_ALL=C date -d "@$arrival" '+%a %b %e %H:%M:%S')
	printf '%-13s %7d %-20s %s\n' "$id" "$size" "$when" "$sender"
}
rcpt() { printf '%41s%s\n' "" "$1"; }
ids() { ls "$T/queue" | sed -n 's/\.ctl$//p' | sort; }

echo "one message, two recipients"
printf 'Subject: one\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq -f www-data@example.com a@example.org b@example.org
id1=$(ids)
{
	heading
	entry "$id1" www-data@example.com
	rcpt a@example.org
	rcpt b@example.org
	echo
	size=$(stat -c %s "$T/queue/$id1.msg")
	echo "-- $(( (size + 1023) / 1024 )) Kbytes in 1 Request."
} >"$T/want"
"$T/mailq" -C "$T/sendq.conf" >"$T/got"
assert_file_eq "$T/want" "$T/got" "one message"
"$SENDMAIL" -C "$T/sendq.conf" -bp >"$T/got2"
assert_file_eq "$T/want" "$T/got2" "sendmail -bp"

echo "deferred: the reason in parentheses; the null sender"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
printf 'Subject: two\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq -f '<>' c@example.org
printf 'Subject: three\n\n%s\n' "$(head -c 3000 /dev/zero | tr '\0' x)" |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq d@example.org
mapfile -t all < <(ids)
[ "${#all[@]}" = 3 ] || fail "expected 3 queued messages, have ${#all[@]}"
reason="connect to localhost[127.0.0.1]:$port: Connection refused"
grep -q "^error .*Connection%20refused" "$T/queue/$id1.ctl" ||
    fail "no deferral reason recorded"
total=0
{
	heading
	for id in "${all[@]}"; do
		size=$(stat -c %s "$T/queue/$id.msg")
		total=$((total + size))
		if [ "$id" = "$id1" ]; then
			entry "$id" www-data@example.com
			# The reason as recorded (the address tried last).
			echo "($(sed -n 's/^rcpt pending a@example.org //p' \
			    "$T/queue/$id.ctl" | sed 's/%20/ /g; s/%5B/[/g; s/%5D/]/g'))"
			rcpt a@example.org
			rcpt b@example.org
		elif grep -q '^sender %$' "$T/queue/$id.ctl"; then
			entry "$id" MAILER-DAEMON
			rcpt c@example.org
		else
			entry "$id" root@example.com
			rcpt d@example.org
		fi
		[ "$id" = "${all[2]}" ] || echo
	done
	echo
	echo "-- $(( (total + 1023) / 1024 )) Kbytes in 3 Requests."
} >"$T/want"
"$T/mailq" -C "$T/sendq.conf" >"$T/got"
assert_file_eq "$T/want" "$T/got" "three messages"
assert_contains "$T/got" "^\\(connect to localhost\\[(127\\.0\\.0\\.1|::1)\\]:$port: Connection refused\\)\$"

echo "failed/ is not listed"
mkdir -p "$T/queue/failed"
mv "$T/queue/${all[1]}.ctl" "$T/queue/${all[1]}.msg" "$T/queue/failed/"
"$T/mailq" -C "$T/sendq.conf" >"$T/got"
assert_not_contains -F "$T/got" "${all[1]}"
assert_contains "$T/got" ' in 2 Requests\.$'
echo ok
