#!/bin/bash
# password_file and password_command supply the AUTH secret; the
# command runs with a clean environment, its stderr reaches the log, and
# no source ever puts the secret there.  A failing command defers.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth

send() {
	printf 'Subject: %s\n\nbody\n' "$1" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi bob@example.org
}

printf '%s\nsecond line ignored\n' "$PASSWORD" >"$T/secret"
q_conf password=- password_file="\"$T/secret\""
send file
assert_eq 1 "$(fixture_msgs relay)" "delivered with password_file"

export LEAKY_VARIABLE=from-the-caller
cat >"$T/pw.sh" <<SH
[ -z "\${LEAKY_VARIABLE:-}" ] || { echo "environment leaked" >&2; exit 9; }
echo "fetching the token" >&2
printf '%s\n' '$PASSWORD'
SH
q_conf password=- password_command="\"sh $T/pw.sh\""
send command
assert_eq 2 "$(fixture_msgs relay)" "delivered with password_command"
assert_contains "$T/sendq.log" 'password_command: fetching the token$'

q_conf password=- password_command='"echo nope >&2; exit 3"'
send failing
assert_eq 2 "$(fixture_msgs relay)" "nothing sent without the secret"
assert_eq 1 "$(q_count)" "deferred message in the queue"
assert_contains "$T/sendq.log" 'status=deferred \(account default: password_command exited 3\)'

q_conf password=- password_file="\"$T/missing\""
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_contains "$T/sendq.log" "status=deferred \(account default: password_file $T/missing: No such file or directory\)"
assert_not_contains -F "$T/sendq.log" "$PASSWORD"
echo ok
