#!/bin/bash
# How programs really call sendmail: PHP's mail() (with and without the
# fifth parameter), cron (-FCronDaemon -i -B8BITMIME -oem user), and -t
# with To/Cc/Bcc.  Asserted on what the smarthost receives.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf global.delivery=interactive
command -v php >/dev/null || fail "php-cli is not installed"

echo "PHP mail() without and with -f"
php -n -d sendmail_path="$SENDMAIL -C $T/sendq.conf -t -i" -r '
    exit(mail("bob@example.org", "PHP test", "Hello\r\n.\r\nfrom PHP",
        "From: Web Shop <shop@example.com>") ? 0 : 1);' ||
    fail "mail() returned false"
php -n -d sendmail_path="$SENDMAIL -C $T/sendq.conf -t -i" -r '
    exit(mail("carol@example.org", "PHP -f", "with -f",
        "From: shop@example.com", "-fbounces@example.com") ? 0 : 1);' ||
    fail "mail() with -f returned false"
fixture_wait_msgs relay 2
assert_eq root@example.com "$(fixture_field relay 1 mail_from)" "sender without -f"
assert_eq bob@example.org "$(fixture_field relay 1 rcpt_tos)" "recipient"
assert_contains "$(fixture_eml relay 1)" '^To: bob@example\.org'$'\r''$'
assert_contains "$(fixture_eml relay 1)" '^Subject: PHP test'$'\r''$'
assert_contains "$(fixture_eml relay 1)" '^From: Web Shop <shop@example\.com>'$'\r''$'
# The lone dot survives -i (stuffed on the wire, unstuffed at the server).
assert_contains "$(fixture_eml relay 1)" '^\.'$'\r''$'
assert_eq bounces@example.com "$(fixture_field relay 2 mail_from)" "sender with -f"

echo "cron"
printf '%s\n' 'From: root (Cron Daemon)' 'To: root' \
    'Subject: Cron <root@web1> /usr/local/bin/backup' \
    'MIME-Version: 1.0' 'Content-Type: text/plain; charset=UTF-8' \
    'Content-Transfer-Encoding: 8bit' 'X-Cron-Env: <SHELL=/bin/sh>' '' \
    'backup done: caf\xc3\xa9' | sed 's/\\xc3\\xa9/é/' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -FCronDaemon -i -B8BITMIME \
    -oem root
fixture_wait_msgs relay 3
assert_eq root@example.com "$(fixture_field relay 3 rcpt_tos)" "cron recipient"
assert_contains "$(fixture_field relay 3 mail_options | xargs)" 'BODY=8BITMIME'
eml=$(fixture_eml relay 3)
assert_contains "$eml" '^To: root@example\.com'$'\r''$'
assert_contains "$eml" '^From: root@example\.com \(Cron Daemon\)'$'\r''$'
assert_contains "$eml" '^X-Cron-Env: <SHELL=/bin/sh>'$'\r''$'
assert_contains "$eml" 'backup done: café'

echo "-t with To, Cc and Bcc"
printf '%s\n' 'From: a@example.com' 'To: Ann <ann@example.org>, bob@example.org' \
    'Cc: bob@example.org, Carl <carl@example.org>' 'Bcc: dora@example.org' \
    'Subject: three ways' '' 'body' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -t -i eve@example.org
fixture_wait_msgs relay 4
assert_eq "ann@example.org bob@example.org carl@example.org dora@example.org eve@example.org" \
    "$(fixture_field relay 4 rcpt_tos | sort | xargs)" "each recipient once"
assert_eq 4 "$(fixture_msgs relay)" "one delivery"
assert_not_contains "$(fixture_eml relay 4)" '^Bcc:|dora'
echo ok
