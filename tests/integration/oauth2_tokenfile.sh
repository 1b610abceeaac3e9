#!/bin/bash
# The token file as an attacker who is the user sendq sees it: the token
# directory is sendq's (as /var/lib/sendq is), so sendq can put links in
# it; root's sendq flush must then neither read, create nor chown
# anything outside it, nor send a root-only file to the token endpoint:
# the message is deferred with a log line saying why.  Also: a file that
# cannot be read defers (it does not hold the account); temporary files
# a crash left are removed at the next save; the files root's flush
# writes are sendq's.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
q_daemon_setup
SEC=cl1ent-s3cret
RT0=refresh-zero-0123456789
LIB=$T/lib			# as /var/lib/sendq: the user sendq's
TF=$LIB/oauth2/default
install -d -o sendq -g sendq -m 0750 "$LIB"

oauth2_start idp --client-id cid --client-secret "$SEC" --rotate \
    --refresh-token "$RT0" --expires-in 600
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --oauth2-dir "$T/idp" --user alice \
    --require-auth
REQ=$(oauth2_requests idp)
base="https://127.0.0.1:$(oauth2_port idp)"
q_conf password=- auth=auto oauth2_provider=custom oauth2_client_id='"cid"' \
    oauth2_client_secret="\"$SEC\"" oauth2_token_url="\"$base/token\"" \
    oauth2_device_url="\"$base/device\"" oauth2_scope='"smtp"' \
    oauth2_ca_file="\"$CERTS/ca.pem\"" oauth2_token_file="\"$TF\""

# seed [ISSUED_AGO]: a token file as sendq keeps it, the access token
# expired (a refresh is due), or fresh and issued ISSUED_AGO seconds ago
seed() {
	local now at=expired-access-0123 exp ago=${1:-}
	now=$(date +%s)
	rm -rf "$LIB/oauth2"
	install -d -o sendq -g sendq -m 0700 "$LIB/oauth2"
	if [ -n "$ago" ]; then
		at=$(jq_at)
		exp=$((now + 600))
	else
		exp=$((now - 10))
	fi
	printf '{"refresh_token": "%s", "access_token": "%s", "expires_at": %s, "issued_at": %s}\n' \
	    "$(rt_now)" "$at" "$exp" "$((now - ${ago:-700}))" >"$TF"
	chown sendq:sendq "$TF"
	chmod 0600 "$TF"
}
# the refresh token the fixture holds valid now (it rotates)
RT=$RT0
rt_now() { echo "$RT"; }
AT=
jq_at() { echo "$AT"; }
# after a successful flush: the tokens the file now holds
remember() {
	RT=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["refresh_token"])' "$TF")
	AT=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$TF")
}
send() {
	printf 'Subject: %s\n\nbody\n' "$1" |
	    "$SENDMAIL" -C "$T/sendq.conf" -odq rcpt@example.org
}
flush() {
	"$SENDQ" -C "$T/sendq.conf" flush >>"$T/flush.out" 2>&1 ||
	    fail "sendq flush exited $?: $(tail -n 3 "$T/flush.out")"
}
refreshes() { grep -c 'grant_type=refresh_token' "$REQ" || true; }
owner() { stat -c '%U %a' "$1"; }

# Root's own files, which sendq must not be able to reach.
install -d -o root -g root -m 0755 "$T/victim"
printf 'root-only-secret-line\n' >"$T/victim/default"
chmod 0600 "$T/victim/default"
printf 'root-only-secret-line\n' >"$T/rootfile"
chmod 0600 "$T/rootfile"

send one

# --- oauth2/ a symlink to a directory of root's
rm -rf "$LIB/oauth2"
ln -s "$T/victim" "$LIB/oauth2"
flush
assert_eq 1 "$(q_count)" "messages queued (oauth2/ a symlink)"
assert_eq 0 "$(refreshes)" "token requests (oauth2/ a symlink)"
assert_eq "default" "$(ls -A "$T/victim")" "what is in the victim directory"
assert_eq "root 600" "$(owner "$T/victim/default")" "the victim file"
assert_contains "$T/sendq.log" "token file $TF: Permission denied"
assert_not_contains "$T/sendq.log" 'held'
echo "ok - oauth2/ a symlink to root's directory: nothing read, made or given"

# --- the lock a hard link to a file of root's
seed
ln "$T/rootfile" "$TF.lock"
flush
assert_eq 1 "$(q_count)" "messages queued (a planted lock)"
assert_eq 0 "$(refreshes)" "token requests (a planted lock)"
assert_eq "root 600" "$(owner "$T/rootfile")" "the hard-linked root file"
assert_contains "$T/sendq.log" "$TF.lock: Permission denied"
echo "ok - a hard-linked lock file is not given to sendq"

# --- the token file a symlink to a file of root's
seed
ln -sf "$T/rootfile" "$TF"
flush
assert_eq 1 "$(q_count)" "messages queued (a symlinked token file)"
assert_eq 0 "$(refreshes)" "token requests (a symlinked token file)"
# Nothing reached the endpoint (above); the log says why: the file is
# read as the user sendq, who may not read root's.
last=$(grep 'status=deferred' "$T/sendq.log" | tail -n 1)
assert_contains -F "$last" "tries=3, status=deferred (account default: token file $TF: Permission denied)"
echo "ok - a symlinked token file: root's file never sent"

# --- a token file that is a directory: deferred, not held
seed
rm -f "$TF"
mkdir "$TF"
flush
assert_eq 1 "$(q_count)" "messages queued (a directory)"
assert_contains "$T/sendq.log" "token file $TF: Is a directory"
assert_not_contains "$T/sendq.log" "Is a directory: run sendq oauth2 login"
echo "ok - an unreadable token file defers without asking for a login"

# --- all in order: delivered, the files sendq's, old temporaries gone
seed
printf 'x' >"$TF.Ab12Cd"
touch -d '2 minutes ago' "$TF.Ab12Cd"
printf 'x' >"$TF.Ef34Gh"
printf 'x' >"$T/keep.Ij56Kl"
flush
assert_eq 0 "$(q_count)" "messages queued (all in order)"
assert_eq 1 "$(fixture_msgs relay)" "messages sent"
assert_eq 1 "$(refreshes)" "token requests (all in order)"
assert_eq "sendq 600" "$(owner "$TF")" "token file after root's flush"
assert_eq "sendq 600" "$(owner "$TF.lock")" "lock file after root's flush"
[ ! -e "$TF.Ab12Cd" ] || fail "a stale temporary token file was kept"
[ -e "$TF.Ef34Gh" ] || fail "a recent temporary file was removed"
remember
echo "ok - root's flush refreshes as sendq; a stale temporary removed"

# --- a refusal that is not about the token: no refresh
seed 3600
fixture_faults relay 'AUTH=535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.'
send two
flush
assert_eq 1 "$(q_count)" "messages queued (5.7.139)"
assert_eq 1 "$(refreshes)" "token requests after 535 5.7.139"
assert_contains "$T/sendq.log" '5.7.139'
echo "ok - 535 5.7.139 refreshes nothing"

# --- a refusal of the token: one refresh, then delivered
n=$(grep -c ' C: AUTH ' "$(fixture_transcript relay)" || true)
fixture_faults relay "AUTH#$((n + 1))=535 5.7.8 Username and Password not accepted."
flush
assert_eq 0 "$(q_count)" "messages queued (5.7.8 once)"
assert_eq 2 "$(refreshes)" "token requests after 535 5.7.8"
remember
echo "ok - 535 5.7.8 refreshes once and AUTH succeeds"

# --- the same refusal of a token issued seconds ago: no refresh
seed 5
fixture_faults relay 'AUTH=535 5.7.8 Username and Password not accepted.'
send three
flush
assert_eq 1 "$(q_count)" "messages queued (a new token refused)"
assert_eq 2 "$(refreshes)" "token requests for a token issued 5 s ago"
echo "ok - a token issued under a minute ago is not refreshed again"
fixture_faults relay

for s in "$RT0" "$RT" "$AT" "$SEC" root-only-secret-line; do
	assert_not_contains -F "$T/sendq.log" "$s"
	assert_not_contains -F "$T/flush.out" "$s"
done
echo "ok - no token in the log"
