#!/bin/bash
# oauth2_ca_file replaces the system store (sendq.conf(5)): in a private
# mount namespace whose /etc/ssl/certs trusts the test CA (as if the
# token endpoint had a certificate of a public CA), a login with
# oauth2_ca_file naming another CA is refused at the TLS handshake;
# with oauth2_ca_file the test CA, or unset (the system store), it
# succeeds.  Nothing outside the namespace changes.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

command -v unshare >/dev/null || fail "unshare is not installed"
command -v curl >/dev/null || fail "curl is not installed"
t_tmpdir
t_certs
q_daemon_setup
unshare -m true 2>/dev/null || fail "cannot make a mount namespace (needs root)"
SEC=cl1ent-s3cret
TF=$T/o2/default

# The store the namespace sees: the test CA only, hashed as OpenSSL
# looks it up, and as the bundle.
mkdir -p "$T/store"
cp "$CERTS/ca.pem" "$T/store/test-ca.pem"
cp "$CERTS/ca.pem" "$T/store/ca-certificates.crt"
ln -s test-ca.pem "$T/store/$(openssl x509 -noout -hash -in "$CERTS/ca.pem").0"

oauth2_start idp --client-id cid --client-secret "$SEC"
base="https://127.0.0.1:$(oauth2_port idp)"
# conf [CA_FILE]
conf() {
	q_conf password=- auth=auto oauth2_provider=custom \
	    oauth2_client_id='"cid"' oauth2_client_secret="\"$SEC\"" \
	    oauth2_token_url="\"$base/token\"" \
	    oauth2_device_url="\"$base/device\"" oauth2_scope='"smtp"' \
	    oauth2_token_file="\"$TF\"" ${1:+oauth2_ca_file="\"$1\""}
}
# login EXPECTED: sendq oauth2 login in the namespace, the test approving
login() {
	local rc=0 verify i
	rm -rf "$T/o2"
	: >"$T/out"
	unshare -m bash -c 'mount --bind "$1" /etc/ssl/certs &&
	    exec "$2" -C "$3" oauth2 login default' _ "$T/store" "$SENDQ" \
	    "$T/sendq.conf" >"$T/out" 2>"$T/err" &
	LPID=$!
	# approve whenever the login gets that far (the old, wrong
	# behaviour then ends at once with 0)
	for ((i = 0; i < 300; i++)); do
		kill -0 "$LPID" 2>/dev/null || break
		if grep -q '^or open' "$T/out"; then
			verify=$(awk 'f { print $1; exit } /^or open/ { f = 1 }' "$T/out")
			curl -sS --cacert "$CERTS/ca.pem" --max-time 10 "$verify" >/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$LPID" || rc=$?
	[ "$rc" = "$1" ] || fail "login exited $rc, not $1: $(cat "$T/out" "$T/err")"
}

conf
login 0
echo "ok - the namespace's system store trusts the test CA"

conf "$CERTS/ca.pem"
login 0
echo "ok - oauth2_ca_file naming the endpoint's CA"

conf "$CERTS/other-ca.pem"
login 75
assert_contains "$T/err" 'certificate'
[ ! -e "$TF" ] || fail "a token file was written"
echo "ok - oauth2_ca_file naming another CA: the system store is not used"
