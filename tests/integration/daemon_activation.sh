#!/bin/bash
# Socket activation: started by systemd-socket-activate (as systemd's
# sendq.socket would), the daemon takes its listening socket from
# LISTEN_FDS instead of binding one, and delivers what sendmail hands
# it on that socket.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
command -v systemd-socket-activate >/dev/null ||
    fail "systemd-socket-activate missing (package systemd)"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth
q_daemon_setup
q_conf global.socket="\"$T/act.sock\""
chgrp sendq "$T/sendq.conf"
chmod 0640 "$T/sendq.conf"
systemd-socket-activate -l "$T/act.sock" \
    "$SENDQ" -C "$T/sendq.conf" daemon 2>>"$T/daemon.err" &
DPID=$!
t_on_exit "kill $DPID 2>/dev/null || true"
wait_until 10 test -S "$T/act.sock"
# Nothing runs the daemon yet: the first connection starts it.
[ -e "$T/sendq.log" ] && fail "the daemon started before a connection"
printf 'Subject: activated\n\nx\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -v bob@example.org 2>"$T/v.err" ||
    fail "sendmail exited $?: $(cat "$T/v.err")"
assert_contains "$T/v.err" 'handed to the daemon'
fixture_wait_msgs relay 1
assert_contains "$T/sendq.log" 'daemon started: .*socket'
assert_eq sendq "$(ps -o user= -p "$DPID")" "the daemon's user"
assert_eq 0 "$(q_count)" "messages left"
q_daemon_stop
