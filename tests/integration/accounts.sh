#!/bin/bash
# The envelope sender chooses the account (senders patterns, else
# "default"); that account's from replaces the envelope sender, and with
# rewrite_header_from the From: address too, keeping the display name.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
tls=(--starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
    --user alice --password "$PASSWORD")
fixture_start main "${tls[@]}"
main=$FPORT
fixture_start shop "${tls[@]}"
shop=$FPORT
cat >"$T/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
queue_dir = "$T/queue"
log = "$T/sendq.log"
aliases_file = ""
delivery = interactive
account "shop" {
    host = { "localhost:$shop" }
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"
    senders = { "*@SHOP.example", "orders@*" }
    from = "mailbox@provider.test"
    rewrite_header_from = true
}
account "default" {
    host = { "localhost:$main" }
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"
}
CONF

send() {	# SENDER
	printf 'From: Web Shop <%s>\nSubject: via %s\n\nbody\n' "$1" "$1" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f "$1" bob@example.org
}
send sales@shop.example
send orders@elsewhere.test
send www@example.com
assert_eq 2 "$(fixture_msgs shop)" "messages through the shop account"
assert_eq 1 "$(fixture_msgs main)" "messages through the default account"
assert_eq mailbox@provider.test "$(fixture_field shop 1 mail_from)" "masqueraded sender"
assert_contains "$(fixture_eml shop 1)" '^From: Web Shop <mailbox@provider\.test>'$'\r''$'
assert_eq www@example.com "$(fixture_field main 1 mail_from)" "sender of default"
assert_contains "$(fixture_eml main 1)" '^From: Web Shop <www@example\.com>'$'\r''$'
echo ok
