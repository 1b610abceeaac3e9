#!/bin/bash
# sendq oauth2 login against the OAuth2 fixture, the test playing the
# user: the device flow (authorization_pending, slow_down obeyed, then
# the token), each device-flow error with its message and exit status,
# the authorization code flow with PKCE and the loopback redirect (curl
# follows the provider's redirect to sendq's listener), a denied
# authorization, and --no-browser with the redirected address pasted.
# The token file is JSON, mode 0600, owned by sendq; no token is
# printed; only root or sendq may log in.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

command -v curl >/dev/null || fail "curl is not installed"
t_tmpdir
t_certs
q_daemon_setup
SEC=cl1ent-s3cret
TF=$T/o2/default

# conf NAME [device]: an account of the fixture NAME, with the device
# endpoint or without it (the code flow).
conf() {
	local base="https://127.0.0.1:$(oauth2_port "$1")"
	q_conf password=- auth=auto oauth2_provider=custom \
	    oauth2_client_id='"cid"' oauth2_client_secret="\"$SEC\"" \
	    oauth2_token_url="\"$base/token\"" \
	    oauth2_auth_url="\"$base/authorize\"" \
	    oauth2_scope='"https://mail.example/smtp offline_access"' \
	    oauth2_ca_file="\"$CERTS/ca.pem\"" oauth2_token_file="\"$TF\"" \
	    ${2:+oauth2_device_url="\"$base/device\""}
}
# login [args]: sendq oauth2 login in the background; out in $T/out
login() {
	"$SENDQ" -C "$T/sendq.conf" oauth2 login default "$@" \
	    >"$T/out" 2>"$T/err" &
	LPID=$!
}
# finish CODE: wait for the login, check its exit status
finish() {
	local rc=0
	wait "$LPID" || rc=$?
	[ "$rc" = "$1" ] || fail "login exited $rc, not $1: $(cat "$T/out" "$T/err")"
}
# the line after the one matching $1 in the output, trimmed
after() {
	wait_until 10 grep -q "$1" "$T/out"
	awk -v p="$1" 'f { print $1; exit } $0 ~ p { f = 1 }' "$T/out"
}
token_checks() {
	local rt
	[ -f "$TF" ] || fail "no token file"
	assert_eq "600 sendq" "$(stat -c '%a %U' "$TF")" "token file mode, owner"
	assert_eq "700 sendq" "$(stat -c '%a %U' "$T/o2")" "token dir mode, owner"
	rt=$("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["access_token"] and d["expires_at"] > 0
print(d["refresh_token"])' "$TF") || fail "token file: $(cat "$TF")"
	assert_not_contains -F "$T/out" "$rt"
	assert_not_contains -F "$T/err" "$rt"
	assert_not_contains -F "$T/out" "$SEC"
	rm -rf "$T/o2"
}

# --- device flow: two polls pending, then the user approves
oauth2_start dev --client-id cid --client-secret "$SEC" --pending 2
conf dev device
login
verify=$(after '^or open')
assert_contains "$T/out" 'enter the code'
curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$verify" >/dev/null ||
    fail "the verification URL did not load"
finish 0
assert_contains "$T/out" "signed in; the token is kept in $TF"
token_checks
# Two answered pending at least (more when the approval came late), then
# the token once.
req=$(oauth2_requests dev)
assert_eq 1 "$(grep -c 'POST /token grant_type=urn.* result=ok' "$req")" \
    "device polls answered with the token"
[ "$(grep -c 'POST /token grant_type=urn.* result=authorization_pending' "$req")" -ge 2 ] ||
    fail "fewer than 2 device polls answered authorization_pending: $(cat "$req")"
echo "ok - device flow"
oauth2_stop dev

# --- an outage of the token endpoint while polling: polling goes on
oauth2_start outage --client-id cid --client-secret "$SEC"
conf outage device
echo 'token=http503' >"$T/outage/errors"
login
verify=$(after '^or open')
wait_until 10 grep -q 'result=http503' "$(oauth2_requests outage)"
rm -f "$T/outage/errors"
curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$verify" >/dev/null
finish 0
assert_contains "$T/err" 'trying again'
token_checks
echo "ok - device flow: a 503 while polling is waited out"

# --- the login's save waits for the lock a refresh holds
install -d -o sendq -g sendq -m 0700 "$T/o2"
install -o sendq -g sendq -m 0600 /dev/null "$TF.lock"
# Held until the test says so; the login's wait shows in /proc/locks.
flock "$TF.lock" sh -c 'while [ ! -e "$1" ]; do sleep 0.1; done' - \
    "$T/release" &
FPID=$!
ino=$(stat -c %i "$TF.lock")
lock_held() {
	awk -v i="$ino" '$2 != "->" && $6 ~ (":" i "$") { f = 1 }
	    END { exit !f }' /proc/locks
}
lock_waited() {
	awk -v i="$ino" '$2 == "->" && $7 ~ (":" i "$") { f = 1 }
	    END { exit !f }' /proc/locks
}
wait_until 10 lock_held
: >"$T/out"
login
verify=$(after '^or open')
curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$verify" >/dev/null
# The code redeemed (the second time on this fixture), then the save
# waits for the lock.
granted_twice() {
	[ "$(grep -c 'grant_type=urn.*result=ok' "$(oauth2_requests outage)")" -ge 2 ]
}
wait_until 10 granted_twice
wait_until 10 lock_waited
[ ! -e "$TF" ] || fail "the login saved while the lock was held"
touch "$T/release"
wait "$FPID"
finish 0
token_checks
echo "ok - the login's save takes the token file's lock"
oauth2_stop outage

# --- slow_down: the interval grows by 5 s
oauth2_start slow --client-id cid --client-secret "$SEC" --slow-down
conf slow device
login
verify=$(after '^or open')
curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$verify" >/dev/null
finish 0
token_checks
"$PYTHON" - "$(oauth2_requests slow)" <<'PY' || fail "slow_down not obeyed"
import re, sys
t = [float(re.search(r" t=([0-9.]+)", l).group(1)) for l in open(sys.argv[1])
     if "grant_type=urn" in l]
assert len(t) >= 2 and t[1] - t[0] >= 5.5, t
PY
echo "ok - slow_down"
oauth2_stop slow

# --- device-flow errors: a message each, exit 69, no token file
for e in expired_token access_denied; do
	oauth2_start "e_$e" --client-id cid --client-secret "$SEC" \
	    --error "device=$e"
	conf "e_$e" device
	login
	finish 69
	assert_contains "$T/err" "$e"
	[ ! -e "$TF" ] || fail "$e: a token file was written"
	echo "ok - device flow: $e"
	oauth2_stop "e_$e"
done
oauth2_start e_client --client-id other --client-secret "$SEC"
conf e_client device
login
finish 69
assert_contains "$T/err" 'check oauth2_client_id'
echo "ok - device flow: invalid_client"
oauth2_stop e_client

# --- the authorization code flow: curl plays the browser
oauth2_start code --client-id cid --client-secret "$SEC"
conf code
login
url=$(after 'open this address in a browser')
case $url in
"https://127.0.0.1:$(oauth2_port code)/authorize?"*code_challenge_method=S256*) ;;
*) fail "authorization URL: $url" ;;
esac
page=$(curl -sS -L --cacert "$CERTS/ca.pem" --max-time 10 "$url") ||
    fail "the redirect to sendq's listener failed"
assert_contains "$page" 'you may close this window'
finish 0
token_checks
assert_contains "$(oauth2_requests code)" 'grant_type=authorization_code result=ok'
echo "ok - code flow with a loopback redirect"

# --- a local client that connects and says nothing does not keep the
# browser's redirect waiting
: >"$T/out"
login
url=$(after 'open this address in a browser')
lport=$(echo "$url" | sed -n 's/.*redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\([0-9]*\).*/\1/p')
[ -n "$lport" ] || fail "no loopback port in $url"
exec 8<>"/dev/tcp/127.0.0.1/$lport"
t0=$(date +%s)
page=$(curl -sS -L --cacert "$CERTS/ca.pem" --max-time 8 "$url") ||
    fail "the redirect waited behind a silent connection"
exec 8<&-
assert_contains "$page" 'you may close this window'
finish 0
token_checks
echo "ok - code flow: a silent local connection delays the redirect $(($(date +%s) - t0)) s"

# --- denied in the browser
login
url=$(after 'open this address in a browser')
curl -sS -L --cacert "$CERTS/ca.pem" --max-time 10 "$url&deny=1" >/dev/null
finish 69
assert_contains "$T/err" 'access_denied: the user or the provider refused'
echo "ok - code flow: access_denied"

# --- --no-browser: the redirected address pasted on stdin
mkfifo "$T/paste"
"$SENDQ" -C "$T/sendq.conf" oauth2 login default --no-browser \
    <"$T/paste" >"$T/out" 2>"$T/err" &
LPID=$!
exec 7>"$T/paste"
url=$(after 'open this address in a browser')
assert_contains "$T/out" 'paste here'
loc=$(curl -sS -o /dev/null -w '%{redirect_url}' --cacert "$CERTS/ca.pem" \
    --max-time 10 "$url")
case $loc in http://127.0.0.1:*code=*) ;; *) fail "redirect: $loc" ;; esac
echo "$loc" >&7
exec 7>&-
finish 0
token_checks
echo "ok - --no-browser"

# --- only root or sendq
chmod 0644 "$T/sendq.conf"
assert_exit 77 as_nobody "$SENDQ" -C "$T/sendq.conf" oauth2 login default
assert_exit 64 "$SENDQ" -C "$T/sendq.conf" oauth2 login nosuch
assert_exit 64 "$SENDQ" -C "$T/sendq.conf" oauth2 logout default
echo "ok - who may log in"
