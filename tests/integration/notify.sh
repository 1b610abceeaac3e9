#!/bin/bash
# notify_command (SPEC "Monitoring"): each event runs the program once,
# as the sendq user, with stdin and stdout on /dev/null and no other
# variable than PATH and the SENDQ_ ones: auth_failed (a refused
# password; two more inside notify_interval fold into one run with
# SENDQ_COUNT=2 when the interval ends), bounce (5xx at RCPT, a
# notification sent), failed (NOTIFY=never: kept in failed/), queue_age
# (once for the oldest message, with its log line, and no event more
# for the checks that find it again), tls_failed (an untrusted
# certificate, through `sendq flush` as root without the daemon: still
# run as sendq), oauth2_failed (invalid_grant).  No password, client
# secret or token reaches the program.  A program that sleeps 60 s is
# killed at 30 s, and the daemon delivers meanwhile.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
q_daemon_setup
OUT=$T/out
mkdir -m 0777 "$OUT"
SENDQ_UID=$(id -u sendq)
# The supervisor (the sendq user) logs to the same file as root.
touch "$T/sendq.log"
chown sendq:sendq "$T/sendq.log"
chmod 0660 "$T/sendq.log"

# The program: one file per run, written whole, with what the kernel
# gave its shell (environ as execve passed it, uid, descriptors).
cat >"$T/hook" <<EOF
#!/bin/sh
f=$OUT/run.\$(date +%s%N).\$\$
out=\$(readlink /proc/\$\$/fd/1)
{
	echo "uid=\$(id -u)"
	echo "stdin=\$(readlink /proc/\$\$/fd/0)"
	echo "stdout=\$out"
	echo "cwd=\$(readlink /proc/\$\$/cwd)"
	tr '\0' '\n' </proc/\$\$/environ | sed 's/^/env:/'
} >"\$f.tmp"
mv "\$f.tmp" "\$f"
if [ "\$SENDQ_EVENT" = failed ] && [ -e $T/slow ]; then
	sleep 60 &
	echo "started \$\$ \$!" >$OUT/slow
	wait
	echo finished >>$OUT/slow
fi
EOF
chmod 0755 "$T/hook"

runs() { ls "$OUT" | grep '^run\.[0-9]*\.[0-9]*$' | sort | sed "s|^|$OUT/|"; }
runs_of() { local f; for f in $(runs); do
	grep -qx "env:SENDQ_EVENT=$1" "$f" && echo "$f"; done; true; }
nruns_of() { runs_of "$1" | wc -l; }
nruns_is() { [ "$(nruns_of "$1")" = "$2" ]; }
var() { sed -n "s/^env:$2=//p" "$1"; }
# The run's process: the sendq user, /dev/null, /, only SPEC's variables.
check_run() {
	local f=$1
	assert_eq "uid=$SENDQ_UID" "$(grep '^uid=' "$f")" "uid of the program"
	assert_eq "stdin=/dev/null" "$(grep '^stdin=' "$f")" "its stdin"
	assert_eq "stdout=/dev/null" "$(grep '^stdout=' "$f")" "its stdout"
	assert_eq "cwd=/" "$(grep '^cwd=' "$f")" "its directory"
	assert_eq "PATH SENDQ_ACCOUNT SENDQ_COUNT SENDQ_EVENT SENDQ_QUEUE_ID SENDQ_REASON" \
	    "$(sed -n 's/^env:\([^=]*\)=.*/\1/p' "$f" | sort | tr '\n' ' ' |
	    sed 's/ $//')" "its environment's names"
	assert_eq "/usr/sbin:/usr/bin:/sbin:/bin" "$(var "$f" PATH)" "PATH"
}
conf() {
	q_conf global.socket="\"$T/run/sendq.sock\"" \
	    global.notify_command="\"$T/hook\"" "$@"
}

# --- auth_failed: once at once, then two more folded into one run
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password 'not-the-password' \
    --require-auth
conf global.notify_interval=10s global.retry_min=1h global.retry_max=2h
q_daemon_start
printf 'Subject: a\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" a@example.org
wait_until 10 nruns_is auth_failed 1
f1=$(runs_of auth_failed)
t1=$(date +%s)
check_run "$f1"
assert_eq default "$(var "$f1" SENDQ_ACCOUNT)" "SENDQ_ACCOUNT"
assert_eq 1 "$(var "$f1" SENDQ_COUNT)" "SENDQ_COUNT of the first run"
assert_eq "" "$(var "$f1" SENDQ_QUEUE_ID)" "SENDQ_QUEUE_ID of an account event"
assert_contains "$(var "$f1" SENDQ_REASON)" '535'
assert_contains "$T/sendq.log" 'notify_command .*: event auth_failed, account default, count 1'
# `sendq flush` ends the hold: each one is refused again, inside the
# interval: no run now ...
"$SENDQ" -C "$T/sendq.conf" flush
"$SENDQ" -C "$T/sendq.conf" flush
[ "$(grep -c 'account default: held: ' "$T/sendq.log")" -ge 3 ] ||
    fail "the flushes did not try AUTH again"
sleep 1
assert_eq 1 "$(nruns_of auth_failed)" "runs inside the interval"
assert_eq "pending 2" "$(grep '^pending ' "$T/queue/notify/auth_failed-default")" \
    "events folded inside the interval"
# ... one when it ends, for both.
wait_until 20 nruns_is auth_failed 2
t2=$(date +%s)
f2=$(runs_of auth_failed | tail -1)
check_run "$f2"
assert_eq 2 "$(var "$f2" SENDQ_COUNT)" "SENDQ_COUNT of the folded run"
[ $((t2 - t1)) -ge 8 ] || fail "the folded run came $((t2 - t1)) s after the first"
echo "ok - auth_failed: COUNT=1 at once, COUNT=2 $((t2 - t1)) s later"
q_daemon_stop
"$SENDQ" -C "$T/sendq.conf" delete $(cd "$T/queue" && ls *.ctl | sed 's/\.ctl$//')
rm "$T/queue/state/default"	# the hold, of a server that is gone

# --- bounce, failed, queue_age; a program that outlives its 30 s
fixture_start relayb --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" \
    --fault 'RCPT:bad@example.org=550 5.1.1 no such user' \
    --fault 'RCPT:slow@example.org=451 4.3.0 try later'
conf user=- password=- global.notify_interval=1h \
    global.queue_age_alert=2s global.retry_min=1h global.retry_max=2h
q_daemon_start
printf 'Subject: b\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" bad@example.org
wait_until 10 nruns_is bounce 1
f=$(runs_of bounce)
check_run "$f"
id=$(grep -o '[0-9A-F]\{12\}: to=<bad@example.org>.*status=bounced' \
    "$T/sendq.log" | head -1 | cut -d: -f1)
assert_eq "$id" "$(var "$f" SENDQ_QUEUE_ID)" "SENDQ_QUEUE_ID of the bounce"
assert_eq 1 "$(var "$f" SENDQ_COUNT)" "SENDQ_COUNT of the bounce"
assert_contains "$(var "$f" SENDQ_REASON)" '550 5\.1\.1 no such user'
echo "ok - bounce: $id"

touch "$T/slow"
printf 'Subject: f\n\nbody\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -N never bad@example.org
wait_until 10 nruns_is failed 1
wait_until 5 test -s "$OUT/slow"
slow_t0=$(date +%s)
f=$(runs_of failed)
check_run "$f"
assert_eq 1 "$(q_failed_count)" "messages in failed/"
assert_contains "$(var "$f" SENDQ_REASON)" '550 5\.1\.1 .*kept in failed/'
[ -n "$(var "$f" SENDQ_QUEUE_ID)" ] || fail "no SENDQ_QUEUE_ID for failed"
test -e "$T/queue/failed/$(var "$f" SENDQ_QUEUE_ID).ctl" ||
    fail "SENDQ_QUEUE_ID is not the message in failed/"
# The daemon delivers on while the program sleeps.
n=$(fixture_msgs relayb)
printf 'Subject: ok\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" ok@example.org
fixture_wait_msgs relayb $((n + 1)) 5
echo "ok - failed; a message sent while the program runs"

printf 'Subject: s\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" slow@example.org
wait_until 10 nruns_is queue_age 1
f=$(runs_of queue_age)
check_run "$f"
assert_contains "$(var "$f" SENDQ_REASON)" '^the oldest message, [0-9A-F]{12}, is [0-9]+ s old \(queue_age_alert 2 s\)$'
sleep 4		# checks every second: no second run, no second line
assert_eq 1 "$(nruns_of queue_age)" "queue_age runs in one interval"
assert_eq 1 "$(grep -c 'queue_age: the oldest message' "$T/sendq.log")" \
    "queue_age log lines"
# The checks that found the same message again are no events: nothing
# waits to be reported with SENDQ_COUNT when the interval ends.
assert_eq "pending 0" "$(grep '^pending ' "$T/queue/notify/queue_age-default")" \
    "queue_age events waiting after 4 s of checks of the same message"
echo "ok - queue_age"

# The sleeping program is killed at 30 s, with its process group.
read -r _ pid child <"$OUT/slow" || true
[ -n "$pid" ] && [ -n "$child" ] ||
    fail "no pids in $OUT/slow: $(cat "$OUT/slow")"
wait_until 40 grep -q 'killed after 30 s' "$T/sendq.log"
took=$(($(date +%s) - slow_t0))
echo "the program was killed after ~$took s"
[ "$took" -ge 27 ] && [ "$took" -le 35 ] || fail "killed after $took s"
sleep 0.5
# (a zombie waiting for init to reap it has been killed too)
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ "${st#Z}" = "$st" ]
}
alive "$pid" && fail "the program still runs"
alive "$child" && fail "the program's child (its group) still runs"
rm -f "$T/slow"
q_daemon_stop
echo "ok - a program that sleeps 60 s is killed at 30 s"

# --- tls_failed without the daemon: sendq flush as root runs it as sendq
conf tls_ca_file=- global.retry_min=1h global.retry_max=2h
printf 'Subject: t\n\nbody\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -odq t@example.org
"$SENDQ" -C "$T/sendq.conf" flush
wait_until 10 nruns_is tls_failed 1
f=$(runs_of tls_failed)
check_run "$f"
assert_contains "$(var "$f" SENDQ_REASON)" 'certificate not trusted'
echo "ok - tls_failed, through sendq flush as root, run as uid $SENDQ_UID"

# --- failed: a damaged message that the queue moves to failed/ itself
rm -f "$T/queue/notify/failed-default"	# a new interval for failed
printf 'Subject: d\n\nbody\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -odq damaged@example.org
did=$(grep -l '^rcpt .*damaged@example.org' "$T"/queue/*.ctl | xargs -n1 basename |
    sed 's/\.ctl$//')
[ -n "$did" ] || fail "the message to damage is not queued"
: >"$T/queue/$did.msg"		# not the size its control file records
"$SENDQ" -C "$T/sendq.conf" flush --no-daemon
wait_until 10 nruns_is failed 2
f=$(runs_of failed | tail -1)
check_run "$f"
assert_eq "$did" "$(var "$f" SENDQ_QUEUE_ID)" "SENDQ_QUEUE_ID of the damaged message"
assert_contains "$(var "$f" SENDQ_REASON)" 'not the size its control file records'
test -e "$T/queue/failed/$did.ctl" || fail "$did is not in failed/"
echo "ok - failed: a damaged message moved by the queue"

# --- oauth2_failed: invalid_grant
SEC=cl1ent-s3cret
RT0=refresh-zero-0123456789
AT0=access-zero-0123456789
oauth2_start idp --client-id cid --client-secret "$SEC" \
    --refresh-token "$RT0" --access-token "$AT0" --expires-in 600
fixture_start relayo --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --oauth2-dir "$T/idp" --user alice \
    --require-auth
base="https://127.0.0.1:$(oauth2_port idp)"
conf password=- auth=auto oauth2_provider=custom \
    oauth2_client_id='"cid"' oauth2_client_secret="\"$SEC\"" \
    oauth2_token_url="\"$base/token\"" oauth2_device_url="\"$base/device\"" \
    oauth2_scope='"smtp"' \
    oauth2_ca_file="\"$CERTS/ca.pem\"" oauth2_token_file="\"$T/o2/default\"" \
    global.retry_min=1h global.retry_max=2h
mkdir -p -m 0700 "$T/o2"
printf '{"refresh_token": "%s", "access_token": "%s", "expires_at": %s}\n' \
    "$RT0" "$AT0" $(($(date +%s) - 10)) >"$T/o2/default"
chmod 0600 "$T/o2/default"
chown -R sendq: "$T/o2"
oauth2_revoke idp
"$SENDQ" -C "$T/sendq.conf" delete $(cd "$T/queue" && ls *.ctl | sed 's/\.ctl$//')
q_daemon_start
printf 'Subject: o\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" o@example.org
wait_until 10 nruns_is oauth2_failed 1
f=$(runs_of oauth2_failed)
check_run "$f"
assert_contains "$(var "$f" SENDQ_REASON)" 'invalid_grant'
q_daemon_stop
echo "ok - oauth2_failed"

# --- each kind ran as said; no secret reached the program
assert_eq 2 "$(nruns_of auth_failed)" "auth_failed runs"
assert_eq 2 "$(nruns_of failed)" "failed runs"
for k in bounce queue_age tls_failed oauth2_failed; do
	assert_eq 1 "$(nruns_of "$k")" "$k runs"
done
for s in "$PASSWORD" "$SEC" "$RT0" "$AT0"; do
	if grep -rqF -- "$s" "$OUT"; then
		fail "a secret reached notify_command: $s"
	fi
done
assert_not_contains "$T/sendq.log" "$PASSWORD"
echo ok
