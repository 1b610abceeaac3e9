#!/bin/bash
# A daemon that takes the connection and never answers (hung, or not
# sendq's): sendmail waits 5 seconds, then delivers by itself, as
# without a daemon; the message is sent once.  A daemon of another
# queue answers "no such message": sendmail delivers by itself at once.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
mkdir "$T/run"
q_conf global.socket="\"$T/run/sendq.sock\""
"$PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
held = []
while True:
    c, _ = s.accept()
    held.append(c)      # read nothing, answer nothing
' "$T/run/sendq.sock" &
mute=$!
t_on_exit "kill $mute 2>/dev/null || true"
wait_until 5 test -S "$T/run/sendq.sock"

start=$(date +%s.%N)
printf 'Subject: hung\n\nx\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -v bob@example.org 2>"$T/v.err" ||
    fail "sendmail exited $?: $(cat "$T/v.err")"
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
echo "sendmail returned after $took s"
awk -v t="$took" 'BEGIN { exit !(t >= 4.5) }' ||
    fail "sendmail did not wait for the daemon's answer ($took s)"
assert_contains "$T/v.err" 'the daemon did not take it'
fixture_wait_msgs relay 1
kill "$mute"
wait "$mute" 2>/dev/null || true
rm -f "$T/run/sendq.sock"

# Another queue's daemon: it does not know the message.
q_daemon_setup
mkdir -p "$T/other"
chgrp sendq "$T/other"
chmod 2770 "$T/other"
cp "$T/sendq.conf" "$T/mine.conf"
q_conf global.socket="\"$T/run/sendq.sock\"" \
    global.queue_dir="\"$T/other\""
q_daemon_start
printf 'Subject: elsewhere\n\nx\n' |
    "$SENDMAIL" -C "$T/mine.conf" -v bob@example.org 2>"$T/v2.err" ||
    fail "sendmail exited $?: $(cat "$T/v2.err")"
assert_contains "$T/v2.err" 'did not take it \(ERR no such message\)'
fixture_wait_msgs relay 2
assert_eq 2 "$(fixture_msgs relay)" "messages sent"
assert_eq 0 "$(find "$T/queue" -maxdepth 1 -name '*.ctl' | wc -l)" "left"
q_daemon_stop
