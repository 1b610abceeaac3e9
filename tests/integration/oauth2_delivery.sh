#!/bin/bash
# Delivery with OAuth2 through the daemon, against the OAuth2 fixture and
# an SMTP fixture that takes only the access tokens it issued: three
# messages across an access token's expiry are all delivered with one
# refresh, the rotated refresh token is saved; a token the server
# refuses is refreshed once and the AUTH retried in the same session;
# invalid_grant holds the account (state/ACCOUNT), bounces nothing and
# says to run sendq oauth2 login.  No token or secret in the log.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
q_daemon_setup
SEC=cl1ent-s3cret
RT0=refresh-zero-0123456789
AT0=access-zero-0123456789
TF=$T/o2/default

oauth2_start idp --client-id cid --client-secret "$SEC" --rotate \
    --refresh-token "$RT0" --access-token "$AT0" --access-expires-in 30 \
    --expires-in 600
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --oauth2-dir "$T/idp" --user alice \
    --require-auth
REQ=$(oauth2_requests idp)
base="https://127.0.0.1:$(oauth2_port idp)"
q_conf global.socket="\"$T/run/sendq.sock\"" password=- auth=auto \
    idle_timeout=1s oauth2_provider=custom oauth2_client_id='"cid"' \
    oauth2_client_secret="\"$SEC\"" oauth2_token_url="\"$base/token\"" \
    oauth2_device_url="\"$base/device\"" oauth2_scope='"smtp"' \
    oauth2_ca_file="\"$CERTS/ca.pem\"" oauth2_token_file="\"$TF\""

# seed ACCESS EXPIRES_AT [REFRESH [ISSUED_AGO]]: the token file, as sendq
# oauth2 login leaves it (sendq's, 0600), the access token issued now or
# ISSUED_AGO seconds ago
seed() {
	mkdir -p -m 0700 "$T/o2"
	printf '{"refresh_token": "%s", "access_token": "%s", "expires_at": %s, "issued_at": %s}\n' \
	    "${3:-$RT0}" "$1" "$2" "$(($(date +%s) - ${4:-0}))" >"$TF"
	chmod 0600 "$TF"
	chown -R sendq: "$T/o2"
}
send() {
	printf 'Subject: %s\n\nbody %s\n' "$1" "$1" |
	    "$SENDMAIL" -C "$T/sendq.conf" "rcpt@example.org"
}
refreshes() { grep -c 'grant_type=refresh_token result=ok' "$REQ" || true; }
jget() {
	"$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
	    "$TF" "$1"
}

# The first access token lives 12 s: room for the daemon's start and a
# session under ASan before it runs out; the next one lives 30 s.
seed "$AT0" $(($(date +%s) + 12))
t0=$(date +%s)
q_daemon_start

# --- three messages across the expiry of the access token
send one
fixture_wait_msgs relay 1
assert_eq 0 "$(refreshes)" "refreshes before the expiry"
left=$((t0 + 13 - $(date +%s)))
[ "$left" -le 0 ] || sleep "$left"
send two
fixture_wait_msgs relay 2
send three
fixture_wait_msgs relay 3
assert_eq 1 "$(refreshes)" "refreshes for three messages across the expiry"
rt1=$(jget refresh_token)
at1=$(jget access_token)
[ "$rt1" != "$RT0" ] || fail "the rotated refresh token was not saved"
[ "$at1" != "$AT0" ] || fail "the new access token was not saved"
assert_eq "600 sendq" "$(stat -c '%a %U' "$TF")" "token file after a refresh"
assert_contains "$T/sendq.log" 'account default: OAuth2 access token refreshed'
echo "ok - three messages across an expiry, one refresh, rotation saved"

# --- a token the server refuses: refreshed once, AUTH again, same session
# (a token issued under a minute ago is not: see oauth2_tokenfile.sh)
q_daemon_stop
seed not-a-valid-token $(($(date +%s) + 3000)) "$rt1" 120
q_daemon_start
send four
fixture_wait_msgs relay 4
assert_eq 2 "$(refreshes)" "refreshes after a refused token"
s=$(awk '$2 == "OAUTH2" && $3 == "unknown" { print $1 }' \
    "$(fixture_transcript relay)" | tail -1)
[ -n "$s" ] || fail "the refused token never reached the server"
assert_contains "$(fixture_transcript relay)" "^$s OAUTH2 valid"
echo "ok - a refused token refreshed once and AUTH retried in session $s"

# --- invalid_grant: held, nothing bounced, told to log in again
q_daemon_stop
seed "$(jget access_token)" $(($(date +%s) - 10)) "$(jget refresh_token)"
oauth2_revoke idp
q_daemon_start
send five
wait_until 10 grep -q 'account default: held: ' "$T/sendq.log"
# The state file is written just after the line.
wait_until 10 grep -qx 'state held' "$T/queue/state/default"
assert_eq 1 "$(q_count)" "messages queued after invalid_grant"
assert_eq 4 "$(fixture_msgs relay)" "messages sent"
assert_contains "$T/sendq.log" 'invalid_grant.*run sendq oauth2 login default'
assert_not_contains "$T/sendq.log" 'status=bounced'
assert_not_contains "$T/sendq.log" 'non-delivery notification'
"$SENDQ" -C "$T/sendq.conf" status >"$T/status"
assert_contains "$T/status" '^account default: held since '
assert_contains "$T/status" '^  last error: .*invalid_grant'
"$SENDQ" -C "$T/sendq.conf" status --json >"$T/status.json"
"$PYTHON" -c 'import json,sys; a = json.load(open(sys.argv[1]))["accounts"][0]; assert a["state"] == "held" and "held_until" in a, a' "$T/status.json"
echo "ok - invalid_grant holds the account; sendq status shows it"
q_daemon_stop

# --- no token or secret anywhere in the log
for s in "$RT0" "$AT0" "$rt1" "$at1" "$SEC" "$(jget access_token)"; do
	assert_not_contains -F "$T/sendq.log" "$s"
	assert_not_contains -F "$T/daemon.err" "$s"
done
echo "ok - no token in the log"
