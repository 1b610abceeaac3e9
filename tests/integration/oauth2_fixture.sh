#!/bin/bash
# The OAuth2 fixture (tests/fixtures/oauth2_server.py) checked with curl
# against its documented interface, and smtpd.py --oauth2-dir checked with
# an independent SMTP client (selftest.py), so that the OAuth2 tests of
# sendq can trust both: the device flow with authorization_pending and
# slow_down, the code flow with PKCE and a loopback redirect, refresh with
# and without rotation, every injected error, the revoked file, no secret
# in requests.log, and XOAUTH2/OAUTHBEARER accepted only with a valid
# access token (a refused one answered 334 + 535 as Gmail does).
set -eu
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || fail "curl is not installed"
t_tmpdir
t_certs


SEC=s3cr3t-Cl1ent
DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code
SECRETS=("$SEC")        # every value that must never reach requests.log

cu() { curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$@"; }
url() { echo "https://127.0.0.1:$(oauth2_port "$1")$2"; }
sha8() { printf %s "$1" | sha256sum | cut -c1-8; }
# jget FILE KEY: a field of a JSON object ("" when absent)
jget() {
	"$PYTHON" -c 'import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else v)' "$1" "$2" || fail "$1 is not JSON: $(cat "$1")"
}
# result FILE: the "error" of a JSON answer, "ok" without one
result() {
	local e
	e=$(jget "$1" error)
	echo "${e:-ok}"
}
# tok NAME OUT [curl args]: POST /token, answer in $T/OUT, print
# "STATUS RESULT"
tok() {
	local name=$1 out=$T/$2 code
	shift 2
	code=$(cu -o "$out" -w '%{http_code}' "$@" "$(url "$name" /token)") ||
		fail "curl /token failed"
	echo "$code $(result "$out")"
}
# device NAME OUT [curl args]: POST /device, answer in $T/OUT, print
# "STATUS RESULT"
device() {
	local name=$1 out=$T/$2 code
	shift 2
	code=$(cu -o "$out" -w '%{http_code}' "$@" "$(url "$name" /device)") ||
		fail "curl /device failed"
	echo "$code $(result "$out")"
}
poll() {
	tok "$1" "$2" -u "cid:$SEC" -d "grant_type=$DEVICE_GRANT" \
		-d "device_code=$3"
}
refresh() {
	local name=$1 out=$2 rt=$3
	shift 3
	tok "$name" "$out" -d grant_type=refresh_token -d client_id=cid \
		--data-urlencode "refresh_token=$rt" "$@"
}
# valid NAME TOKEN: is TOKEN in NAME's tokens.json, unexpired?
valid() {
	"$PYTHON" -c 'import json, sys, time
t = json.load(open(sys.argv[1])).get(sys.argv[2])
sys.exit(0 if t and t["expires_at"] > time.time() and t["user"] is None else 1)' \
		"$T/$1/tokens.json" "$2"
}

# --- device authorization grant (RFC 8628), two polls pending
oauth2_start dev --client-id cid --client-secret "$SEC" --pending 2
scope="https://outlook.office.com/SMTP.Send offline_access"
assert_eq "200 ok" "$(device dev d1 -d client_id=cid --data-urlencode "scope=$scope")" "POST /device"
dc=$(jget "$T/d1" device_code)
uc=$(jget "$T/d1" user_code)
SECRETS+=("$dc")
assert_contains "$uc" '^[B-Z]{4}-[B-Z]{4}$'
assert_eq "https://127.0.0.1:$O2PORT/verify" "$(jget "$T/d1" verification_uri)" verification_uri
assert_eq "https://127.0.0.1:$O2PORT/verify?user_code=$uc" \
	"$(jget "$T/d1" verification_uri_complete)" verification_uri_complete
assert_eq 1 "$(jget "$T/d1" interval)" interval
assert_eq 600 "$(jget "$T/d1" expires_in)" expires_in
assert_eq "400 authorization_pending" "$(poll dev p1 "$dc")" "poll before the user approves"
assert_eq approved "$(cu "$(jget "$T/d1" verification_uri_complete)")" "the user approves"
assert_eq "400 authorization_pending" "$(poll dev p2 "$dc")" "second poll (--pending 2)"
assert_eq "200 ok" "$(poll dev p3 "$dc")" "third poll"
at=$(jget "$T/p3" access_token)
rt=$(jget "$T/p3" refresh_token)
SECRETS+=("$at" "$rt")
[ -n "$at" ] && [ -n "$rt" ] || fail "no tokens in $(cat "$T/p3")"
assert_eq Bearer "$(jget "$T/p3" token_type)" token_type
assert_eq 3600 "$(jget "$T/p3" expires_in)" expires_in
assert_eq "$scope" "$(jget "$T/p3" scope)" scope
valid dev "$at" || fail "the access token is not in tokens.json"
assert_eq "400 invalid_grant" "$(poll dev p4 "$dc")" "a device code used twice"
assert_contains "$(oauth2_requests dev)" \
	"^POST /token grant_type=$DEVICE_GRANT result=ok access=$(sha8 "$at") new_refresh=$(sha8 "$rt") t=[0-9.]+$"
ok "device flow: pending until approved and --pending polls, then tokens"

assert_eq "200 ok" "$(device dev d2 -d client_id=cid -d scope=x)" "POST /device"
SECRETS+=("$(jget "$T/d2" device_code)")
assert_eq denied "$(cu "$(jget "$T/d2" verification_uri_complete)&deny=1")" "the user denies"
assert_eq "400 access_denied" "$(poll dev p5 "$(jget "$T/d2" device_code)")" "poll after a denial"
code=$(cu -o /dev/null -w '%{http_code}' "$(url dev /verify)?user_code=BCDF-GHJK")
assert_eq 404 "$code" "unknown user code"
assert_eq "401 invalid_client" "$(device dev d3 -d client_id=other)" "unknown client at /device"
assert_eq "401 invalid_client" "$(tok dev t1 -u "cid:wrong" -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "wrong client secret"
assert_eq "400 unsupported_grant_type" "$(tok dev t2 -u "cid:$SEC" -d grant_type=password)" \
	"password grant"
code=$(cu -o "$T/t3" -w '%{http_code}' -u "cid:$SEC" -H 'Content-Type: application/json' \
	-d '{"grant_type":"refresh_token"}' "$(url dev /token)")
assert_eq "400 invalid_request" "$code $(result "$T/t3")" "a JSON body"
ok "device flow: access_denied, unknown codes and clients"

# A client stalled in the TLS handshake holds up nobody: the server is
# threaded.
exec 3<>"/dev/tcp/127.0.0.1/$O2PORT"
assert_eq "200 ok" "$(device dev d4 -d client_id=cid -d scope=x --max-time 3)" \
	"POST /device beside a stalled connection"
exec 3>&-
oauth2_stop dev
ok "threaded; SIGTERM ends it with status 0"

# --- slow_down: first poll, then every poll sooner than interval + 5 s
oauth2_start slow --client-id cid --slow-down
assert_eq "200 ok" "$(device slow d1 -d client_id=cid -d scope=x)" "POST /device"
dc=$(jget "$T/d1" device_code)
SECRETS+=("$dc")
assert_eq approved "$(cu "$(jget "$T/d1" verification_uri_complete)")" "the user approves"
assert_eq "400 slow_down" "$(tok slow s1 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "first poll"
sleep 1.2
assert_eq "400 slow_down" "$(tok slow s2 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "a poll after the old interval"
sleep 6
assert_eq "200 ok" "$(tok slow s3 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "a poll after interval + 5 s"
SECRETS+=("$(jget "$T/s3" access_token)" "$(jget "$T/s3" refresh_token)")
oauth2_stop slow
ok "slow_down answered until the client adds 5 s to its interval"

# --- injected device errors, and a device code that really expires
oauth2_start derr --client-id cid --error device=expired_token --device-expires-in 1
assert_eq "200 ok" "$(device derr d1 -d client_id=cid -d scope=x)" "POST /device"
dc=$(jget "$T/d1" device_code)
SECRETS+=("$dc")
assert_eq "400 expired_token" "$(tok derr e1 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "--error device=expired_token"
oauth2_errors derr device=access_denied
assert_eq "400 access_denied" "$(tok derr e2 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "errors file device=access_denied"
oauth2_errors derr device=invalid_scope
assert_eq "400 invalid_scope" "$(device derr d2 -d client_id=cid -d scope=x)" \
	"errors file device=invalid_scope answered by /device"
oauth2_errors derr device=authorization_pending
sleep 1.1
assert_eq expired "$(cu "$(url derr /verify)?user_code=$(jget "$T/d1" user_code)")" \
	"/verify after expiry"
assert_eq "400 authorization_pending" "$(tok derr e3 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "injected errors come first"
oauth2_errors derr
assert_eq "400 expired_token" "$(tok derr e4 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$dc")" "--error again once the file is empty"
oauth2_stop derr
oauth2_start dexp --client-id cid --device-expires-in 1
assert_eq "200 ok" "$(device dexp d1 -d client_id=cid -d scope=x)" "POST /device"
SECRETS+=("$(jget "$T/d1" device_code)")
sleep 1.1
assert_eq expired "$(cu "$(jget "$T/d1" verification_uri_complete)")" "/verify after expiry"
assert_eq "400 expired_token" "$(tok dexp e1 -d client_id=cid -d "grant_type=$DEVICE_GRANT" \
	-d "device_code=$(jget "$T/d1" device_code)")" "poll after expiry"
oauth2_stop dexp
ok "device=expired_token, device=access_denied, the errors file, real expiry"

# --- authorization code grant with PKCE and a loopback redirect
oauth2_start code --client-id cid --client-secret "$SEC"
verifier=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
challenge=$("$PYTHON" -c 'import base64, hashlib, sys
d = hashlib.sha256(sys.argv[1].encode()).digest()
print(base64.urlsafe_b64encode(d).rstrip(b"=").decode())' "$verifier")
SECRETS+=("$verifier")
redirect="http://127.0.0.1:$(t_unused_port)/cb"
scope=https://mail.google.com/
# authorize [EXTRA QUERY...]: GET /authorize, print "STATUS LOCATION"
authorize() {
	local q=(response_type=code client_id=cid "redirect_uri=$redirect"
		"scope=$scope" state=st-123 "code_challenge=$challenge"
		code_challenge_method=S256)
	local args=() x
	[ $# -eq 0 ] || q=("$@")
	for x in "${q[@]}"; do
		args+=(--data-urlencode "$x")
	done
	cu -G -o /dev/null -w '%{http_code} %{redirect_url}' "${args[@]}" \
		"$(url code /authorize)"
}
a=$(authorize)
assert_contains "$a" "^302 $redirect\\?code=[A-Za-z0-9_-]+&state=st-123$"
c=$("$PYTHON" -c 'import sys, urllib.parse as u
print(u.parse_qs(u.urlsplit(sys.argv[1]).query)["code"][0])' "${a#302 }")
SECRETS+=("$c")
red() {
	tok code "$1" -d grant_type=authorization_code --data-urlencode "code=$c" \
		--data-urlencode "redirect_uri=${3:-$redirect}" \
		--data-urlencode "code_verifier=$2" "${@:4}"
}
wrong=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
assert_eq "400 invalid_grant" "$(red c1 "$wrong" "" -u "cid:$SEC")" "a wrong code_verifier"
assert_eq "400 invalid_grant" "$(red c2 "$verifier" "http://127.0.0.1:1/other" -u "cid:$SEC")" \
	"another redirect_uri"
assert_eq "400 invalid_request" "$(red c3 short "" -u "cid:$SEC")" "a malformed code_verifier"
assert_eq "401 invalid_client" "$(red c4 "$verifier" "" -d client_id=cid -d client_secret=nope)" \
	"a wrong client_secret in the body"
assert_eq "400 invalid_request" "$(red c5 "$verifier" "" -u "cid:$SEC" -d "client_secret=$SEC")" \
	"Basic and client_secret at once"
assert_eq "200 ok" "$(red c6 "$verifier" "" -d client_id=cid -d "client_secret=$SEC")" \
	"the right code_verifier, secret in the body"
at=$(jget "$T/c6" access_token)
crt=$(jget "$T/c6" refresh_token)
SECRETS+=("$at" "$crt")
[ -n "$crt" ] || fail "no refresh_token from the code grant"
assert_eq "$scope" "$(jget "$T/c6" scope)" scope
valid code "$at" || fail "the access token is not in tokens.json"
assert_eq "400 invalid_grant" "$(red c7 "$verifier" "" -u "cid:$SEC")" "a code used twice"
ok "code flow: S256 verifier checked, redirect_uri must match, one use, client secret"

lhost="http://localhost:$(t_unused_port)/"
a=$(authorize response_type=code client_id=cid "redirect_uri=$lhost" state=s2 \
	"code_challenge=$challenge" code_challenge_method=S256)
assert_contains "$a" "^302 http://localhost:[0-9]+/\\?code=[A-Za-z0-9_-]+&state=s2$"
for bad in https://127.0.0.1:8443/cb http://127.0.0.1/cb http://evil.example:80/cb; do
	a=$(authorize response_type=code client_id=cid "redirect_uri=$bad" state=s \
		"code_challenge=$challenge" code_challenge_method=S256)
	assert_eq "400 " "$a" "redirect_uri $bad"
done
a=$(authorize response_type=code client_id=other "redirect_uri=$redirect" state=s \
	"code_challenge=$challenge" code_challenge_method=S256)
assert_eq "400 " "$a" "unknown client_id"
a=$(authorize response_type=code client_id=cid "redirect_uri=$redirect" state=s \
	"code_challenge=$verifier" code_challenge_method=plain)
assert_eq "302 $redirect?error=invalid_request&state=s" "$a" "PKCE plain"
a=$(authorize response_type=code client_id=cid "redirect_uri=$redirect" state=s)
assert_eq "302 $redirect?error=invalid_request&state=s" "$a" "no PKCE"
a=$(authorize response_type=token client_id=cid "redirect_uri=$redirect" state=s \
	"code_challenge=$challenge" code_challenge_method=S256)
assert_eq "302 $redirect?error=unsupported_response_type&state=s" "$a" "implicit grant"
a=$(authorize response_type=code client_id=cid "redirect_uri=$redirect" state=s \
	"code_challenge=$challenge" code_challenge_method=S256 deny=1)
assert_eq "302 $redirect?error=access_denied&state=s" "$a" "the user denies"
oauth2_errors code authorize=access_denied
assert_eq "302 $redirect?error=access_denied&state=st-123" "$(authorize)" "authorize=access_denied"
oauth2_errors code
ok "code flow: loopback redirects only, PKCE S256 required, access_denied"

# --- refresh without rotation, injected errors, revoked
assert_eq "200 ok" "$(refresh code r1 "$crt" -u "cid:$SEC")" "refresh"
a1=$(jget "$T/r1" access_token)
SECRETS+=("$a1")
assert_eq "" "$(jget "$T/r1" refresh_token)" "no new refresh token without --rotate"
valid code "$a1" || fail "the refreshed access token is not in tokens.json"
valid code "$at" || fail "the older access token stays valid until it expires"
assert_eq "200 ok" "$(refresh code r2 "$crt" -u "cid:$SEC")" "the same refresh token again"
SECRETS+=("$(jget "$T/r2" access_token)")
assert_eq "401 invalid_client" "$(refresh code r3 "$crt")" "refresh without the secret"
assert_eq "400 invalid_grant" "$(refresh code r4 not-a-token -u "cid:$SEC")" "unknown refresh token"
assert_eq "400 invalid_scope" "$(refresh code r5 "$crt" -u "cid:$SEC" -d scope=https://other/)" \
	"a wider scope"
for e in token=invalid_grant token=invalid_client refresh=invalid_grant \
	refresh=temporarily_unavailable; do
	oauth2_errors code "$e"
	want=400
	[ "${e#*=}" != invalid_client ] || want=401
	assert_eq "$want ${e#*=}" "$(refresh code r6 "$crt" -u "cid:$SEC")" "$e"
done
oauth2_errors code token=http503
code=$(cu -o "$T/r7" -w '%{http_code}' -u "cid:$SEC" -d grant_type=refresh_token \
	--data-urlencode "refresh_token=$crt" "$(url code /token)")
assert_eq 503 "$code" "token=http503"
assert_contains "$T/r7" '^<html>'
oauth2_errors code
oauth2_revoke code
assert_eq "400 invalid_grant" "$(refresh code r8 "$crt" -u "cid:$SEC")" "revoked"
oauth2_revoke code off
assert_eq "200 ok" "$(refresh code r9 "$crt" -u "cid:$SEC")" "revoked file removed"
SECRETS+=("$(jget "$T/r9" access_token)")
assert_eq 3 "$(grep -c "^POST /token grant_type=refresh_token result=ok refresh=$(sha8 "$crt") access=" \
	"$(oauth2_requests code)")" "refreshes in requests.log"
oauth2_stop code
ok "refresh without rotation; token=/refresh= errors, http503, the revoked file"

# --- rotation, seeded tokens
oauth2_start rot --client-id cid --rotate --refresh-token seed-R1 \
	--access-token seed-A1 --access-expires-in 600 --expires-in 60
SECRETS+=(seed-R1 seed-A1)
valid rot seed-A1 || fail "--access-token is not in tokens.json"
assert_eq "200 ok" "$(refresh rot q1 seed-R1)" "refresh with the seeded token"
r2=$(jget "$T/q1" refresh_token)
SECRETS+=("$r2" "$(jget "$T/q1" access_token)")
[ -n "$r2" ] && [ "$r2" != seed-R1 ] || fail "no rotated refresh token: $(cat "$T/q1")"
assert_eq 60 "$(jget "$T/q1" expires_in)" "--expires-in"
assert_eq "400 invalid_grant" "$(refresh rot q2 seed-R1)" "the rotated-away refresh token"
assert_eq "200 ok" "$(refresh rot q3 "$r2")" "the rotated refresh token"
r3=$(jget "$T/q3" refresh_token)
SECRETS+=("$r3" "$(jget "$T/q3" access_token)")
[ -n "$r3" ] && [ "$r3" != "$r2" ] || fail "no second rotation: $(cat "$T/q3")"
assert_contains "$(oauth2_requests rot)" \
	"^POST /token grant_type=refresh_token result=ok refresh=$(sha8 "$r2") access=[0-9a-f]{8} new_refresh=$(sha8 "$r3") t="
oauth2_stop rot
ok "rotation: each refresh a new refresh token, the old one invalid_grant"

# --- smtpd.py --oauth2-dir: the current token only
oauth2_start o2 --client-id cid --refresh-token seed-R --expires-in 10
SECRETS+=(seed-R)
fixture_start smtp --implicit --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
	--oauth2-dir "$(fixture_dir o2)" --user alice@example.com
sauth() {
	"$PYTHON" "$FIXTURES/selftest.py" auth "$(fixture_port smtp)" "$1" "$2" "$3" \
		--tls implicit --ca "$CERTS/ca.pem" "${@:4}"
}
assert_eq "200 ok" "$(refresh o2 m1 seed-R)" "refresh"
tk=$(jget "$T/m1" access_token)
SECRETS+=("$tk")
sauth XOAUTH2 alice@example.com "$tk"
sauth OAUTHBEARER alice@example.com "$tk"
assert_eq 2 "$(fixture_msgs smtp)" "messages sent with the valid token"
assert_eq "XOAUTH2 OAUTHBEARER" "$(fixture_field smtp 1 auth_mech) $(fixture_field smtp 2 auth_mech)" \
	"mechanisms"
assert_eq 535 "$(sauth XOAUTH2 alice@example.com unknown-token --expect-fail)" "unknown token"
assert_eq 535 "$(sauth XOAUTH2 bob@example.com "$tk" --expect-fail)" "another user"
assert_eq 535 "$(sauth OAUTHBEARER alice@example.com unknown-token --expect-fail)" \
	"unknown token (OAUTHBEARER)"
"$PYTHON" -c 'import json, sys, time
e = json.load(open(sys.argv[1]))[sys.argv[2]]["expires_at"]
time.sleep(max(0, e - time.time() + 0.1))' "$T/o2/tokens.json" "$tk"
assert_eq 535 "$(sauth XOAUTH2 alice@example.com "$tk" --expect-fail)" "expired token"
assert_eq 2 "$(fixture_msgs smtp)" "nothing sent with a refused token"
tr=$(fixture_transcript smtp)
for v in valid unknown wrong-user expired; do
	assert_contains "$tr" "^S[0-9]+ OAUTH2 $v token=[0-9a-f]{8}$"
done
assert_contains "$tr" "^S[0-9]+ OAUTH2 expired token=$(sha8 "$tk")$"
# Gmail's answer: 334 + the JSON, the client's empty line, then 535 5.7.8.
"$PYTHON" - "$tr" <<'EOF' || fail "no 334 JSON / empty line / 535 sequence for XOAUTH2"
import base64, json, re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
want = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
for i, l in enumerate(lines[:-2]):
    m = re.match(r"^(S\d+) S: 334 (\S+)$", l)
    if m and lines[i + 1] == m.group(1) + " C: " and \
            lines[i + 2] == m.group(1) + " S: 535 5.7.8 Username and Password not accepted":
        if json.loads(base64.b64decode(m.group(2))) == want:
            sys.exit(0)
sys.exit(1)
EOF
fixture_stop smtp
oauth2_stop o2
if "$PYTHON" "$FIXTURES/smtpd.py" --dir "$T/bad" --oauth2-dir "$T/o2" --user u \
	--auth-mechs PLAIN,XOAUTH2 2>"$T/bad.err"; then
	fail "smtpd.py took --user without --password for PLAIN"
fi
assert_contains "$T/bad.err" 'only XOAUTH2, OAUTHBEARER'
ok "smtpd.py --oauth2-dir: valid token accepted, unknown/expired/other user refused (334 + 535)"

# --- nothing secret in any requests.log
for f in "$T"/*/requests.log; do
	for s in "${SECRETS[@]}"; do
		[ -n "$s" ] || continue
		assert_not_contains -F "$f" "$s"
	done
done
ok "no token, code, verifier or secret in requests.log (${#SECRETS[@]} values checked)"
