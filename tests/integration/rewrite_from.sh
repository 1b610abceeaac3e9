#!/bin/bash
# rewrite_header_from as providers need it, asserted on what the
# smarthost receives (MAIL FROM and the header lines): the From: forms
# that cron (Debian's and cronie), mail(1) and programs write are
# replaced by the account's mailbox under the first name found (a
# comment beside a bare address, as in "root (Cron Daemon)", becomes the
# display name); the original addresses, qualified, go to a Reply-To:
# when the message has none; an existing Reply-To: is left alone; with
# the key false nothing of this happens; a cron job of an unprivileged
# user goes the same way.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"

accounts() {
	cat <<CONF
account "plain" {
    host = { "localhost:$FPORT" }
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"
    senders = { "*@plain.example" }
    from = "relay@provider.test"
}
account "default" {
    host = { "localhost:$FPORT" }
    tls_ca_file = "$CERTS/ca.pem"
    user = "alice"
    password = "$PASSWORD"
    from = "mailbox@provider.test"
    rewrite_header_from = true
}
CONF
}
{
	printf '%s\n' 'hostname = "web1.example.com"' 'domain = "example.com"' \
	    "queue_dir = \"$T/queue\"" "log = \"$T/sendq.log\"" \
	    'aliases_file = ""' 'delivery = interactive'
	accounts
} >"$T/sendq.conf"

n=0
# One message through sendmail ARGS... (in a pipeline: a subshell) ...
send() { assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" "$@"; }
# ... and the next message received is the one the checks below read.
received() {
	n=$((n + 1))
	fixture_wait_msgs relay "$n"
}
# The field NAME of the last message, continuation lines included, CRs
# removed; one line per occurrence of the field.
field() {
	tr -d '\r' <"$(fixture_eml relay "$n")" | awk -v want="$1:" '
	    /^$/ { exit }
	    /^[ \t]/ { if (on) print; next }
	    { on = tolower(substr($0, 1, length(want))) == tolower(want) }
	    on { print }'
}
sender() { fixture_field relay "$n" mail_from; }

echo "Debian's cron: From: root (Cron Daemon), recipient as an argument"
printf '%s\n' 'From: root (Cron Daemon)' 'To: root' \
    'Subject: Cron <root@web1> /usr/local/bin/backup' \
    'Content-Type: text/plain; charset=UTF-8' '' 'backup done' |
    send -FCronDaemon -i -B8BITMIME -oem root
received
assert_eq mailbox@provider.test "$(sender)" "envelope sender"
assert_eq root@example.com "$(fixture_field relay $n rcpt_tos)" "recipient"
assert_eq 'From: Cron Daemon <mailbox@provider.test>' "$(field From)" "From"
assert_eq 'Reply-To: root@example.com (Cron Daemon)' "$(field Reply-To)" \
    "Reply-To"
assert_eq 'To: root@example.com' "$(field To)" "To"

echo "cronie: From: \"(Cron Daemon)\" <root>, -t"
printf '%s\n' 'From: "(Cron Daemon)" <root>' 'To: root' 'Subject: Cron' '' \
    'out' | send -FCronDaemon -i -odi -oem -oi -t
received
assert_eq mailbox@provider.test "$(sender)" "envelope sender"
assert_eq 'From: "(Cron Daemon)" <mailbox@provider.test>' "$(field From)" "From"
assert_eq 'Reply-To: "(Cron Daemon)" <root@example.com>' "$(field Reply-To)" \
    "Reply-To"

echo "the comment quoted, and given as -f too"
printf '%s\n' 'From: "root (Cron Daemon)" <root>' 'Subject: x' '' 'b' |
    send -f '"root (Cron Daemon)" <root>' -i bob@example.org
received
assert_eq mailbox@provider.test "$(sender)" "envelope sender"
assert_eq 'From: "root (Cron Daemon)" <mailbox@provider.test>' "$(field From)" \
    "From"
assert_eq 'Reply-To: "root (Cron Daemon)" <root@example.com>' \
    "$(field Reply-To)" "Reply-To"

echo "mail(1): an unqualified sender, -r and From: www-data"
printf '%s\n' 'From: www-data' 'To: bob@example.org' 'Subject: x' '' 'b' |
    send -r www-data -t -i
received
assert_eq mailbox@provider.test "$(sender)" "envelope sender"
assert_eq 'From: mailbox@provider.test' "$(field From)" "From"
assert_eq 'Reply-To: www-data@example.com' "$(field Reply-To)" "Reply-To"

echo "a display name, with encoded words, folded over three lines"
printf '%s\n' 'From: =?UTF-8?Q?J=C3=B6rg?=' ' =?UTF-8?Q?M=C3=BCller?=' \
    '	<joerg@example.com>, backup' 'Subject: x' '' 'b' |
    send -i bob@example.org
received
assert_eq 'From: =?UTF-8?Q?J=C3=B6rg?=
 =?UTF-8?Q?M=C3=BCller?= <mailbox@provider.test>' "$(field From)" "From"
assert_eq 'Reply-To: =?UTF-8?Q?J=C3=B6rg?=
 =?UTF-8?Q?M=C3=BCller?=
	<joerg@example.com>, backup@example.com' "$(field Reply-To)" "Reply-To"

echo "an existing Reply-To: is left alone"
printf '%s\n' 'From: Web Shop <shop@example.com>' \
    'Reply-To: Orders <orders@example.com>' 'Subject: x' '' 'b' |
    send -i bob@example.org
received
assert_eq 'From: Web Shop <mailbox@provider.test>' "$(field From)" "From"
assert_eq 'Reply-To: Orders <orders@example.com>' "$(field Reply-To)" \
    "the one Reply-To"

echo "rewrite_header_from = false: the envelope only"
printf '%s\n' 'From: root (Cron Daemon)' 'To: root' 'Subject: x' '' 'b' |
    send -f cron@plain.example -t -i
received
assert_eq relay@provider.test "$(sender)" "envelope sender"
assert_eq 'From: root@example.com (Cron Daemon)' "$(field From)" "From"
assert_eq '' "$(field Reply-To)" "no Reply-To"

echo "a cron job of nobody's"
q_nobody_conf 'delivery = interactive' 'aliases_file = ""' "$(accounts)"
printf '%s\n' 'From: nobody (Cron Daemon)' 'To: nobody' 'Subject: Cron' '' \
    'out' | assert_exit 0 as_nobody "$SENDMAIL" -C "$pub/sendq.conf" \
    -FCronDaemon -i -B8BITMIME -oem nobody
received
assert_eq mailbox@provider.test "$(sender)" "envelope sender"
assert_eq nobody@example.com "$(fixture_field relay $n rcpt_tos)" "recipient"
assert_eq 'From: Cron Daemon <mailbox@provider.test>' "$(field From)" "From"
assert_eq 'Reply-To: nobody@example.com (Cron Daemon)' "$(field Reply-To)" \
    "Reply-To"
assert_not_contains "$pub/queue/log" 'error|warning'
echo ok
