#!/bin/bash
# Refusals explained.  The fixture replays, word for word, the refusals
# that Microsoft 365, Gmail, Amazon SES and SendGrid send; `sendq check
# --connect` prints below the FAILED line one line that says what the
# refusal means and which key to change, and nothing for a refusal the
# table does not know.  Through real deliveries the log's deferral and
# bounce reasons carry the same explanation, once per line, also for
# the messages that follow in the same run without a new session.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf

# refused WHEN REPLY EXPLANATION: check --connect with REPLY to WHEN
# fails (69) and explains it on the line after FAILED.
refused() {
	local when=$1 reply=$2 want=$3 failed first next
	fixture_faults relay "$when=$reply"
	assert_exit 69 "$SENDQ" -C "$T/sendq.conf" check --connect \
	    >"$T/out"
	failed=$(grep -n '^  FAILED: ' "$T/out") ||
	    fail "$when=$reply: no FAILED line: $(cat "$T/out")"
	# The server's own first line is in the reason, as it said it.
	first=${reply%%\\n*}
	assert_contains -F "$failed" "${first:4}"
	next=$(sed -n "$((${failed%%:*} + 1))p" "$T/out")
	assert_eq "  explanation: $want" "$next" "explanation of $when=$reply"
	assert_eq 1 "$(grep -c '^  explanation: ' "$T/out")" \
	    "explanation lines for $when=$reply"
}

ms_disabled='Microsoft 365: SMTP AUTH is disabled for this tenant or mailbox: an administrator must enable Authenticated SMTP for the mailbox; use it with oauth2_provider = microsoft'
ms_send_as="Microsoft 365: the mailbox in user may not send as this sender: set from to that mailbox's address with rewrite_header_from = true, or grant the mailbox Send As permission"
sendgrid='SendGrid: the From address is not a verified Sender Identity: set from to a verified address (with rewrite_header_from = true), or verify the address or its domain in SendGrid'

echo "Microsoft 365"
refused AUTH '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR02CA0123.eurprd02.prod.outlook.com]' \
    "$ms_disabled"
refused AUTH "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator. [AM0PR02CA0123.eurprd02.prod.outlook.com]" \
    'Microsoft 365: security defaults or a Conditional Access policy forbid sign-in with a password: set oauth2_provider = microsoft and run sendq oauth2 login'
refused AUTH '550 5.7.30 Basic authentication is not supported for Client Submission.' \
    'Microsoft 365 no longer accepts a password for SMTP AUTH: set oauth2_provider = microsoft in place of password, then run sendq oauth2 login'
refused AUTH '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.' \
    "$ms_send_as"
refused AUTH '550 5.7.60 SMTP; Client does not have permissions to send as this sender' \
    "$ms_send_as"
# At EHLO: a 4xx there ends the session (a 5xx would mean "try HELO").
refused EHLO '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname=DB9PR02MB1234.eurprd02.prod.outlook.com]' \
    'Microsoft 365 takes at most 3 SMTP AUTH connections at once for a mailbox: set max_connections = 3 (or fewer) for this account'
refused AUTH '535 5.7.3 Authentication unsuccessful [AM0PR02CA0123.eurprd02.prod.outlook.com]' \
    "Microsoft 365 did not accept the user name and password: user must be the mailbox's full address; or set oauth2_provider = microsoft"

echo "Gmail"
refused AUTH '534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor d2-20020a05600c34c200b0040e3bd.17 - gsmtp' \
    'Google: the account uses 2-Step Verification, so its own password is refused: set password to an app password, or set oauth2_provider = google'
refused AUTH '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials t66sm6271302pjb.45 - gsmtp' \
    'Google did not accept the credentials: user must be the full address and password an app password, or set oauth2_provider = google (with OAuth2, run sendq oauth2 login again)'
# At STARTTLS, the step before AUTH.
refused STARTTLS '454 4.7.0 Too many login attempts, please try again later. y18sm18170739ywa.8 - gsmtp' \
    'Google refuses sign-ins for a while after too many attempts: lower max_connections, and mend user or password if earlier attempts were refused'
refused AUTH '550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\n550-5.4.5 sending limits go to\n550 5.4.5  https://support.google.com/a/answer/166852 a1-20020a170902.30 - gsmtp' \
    "Google's daily sending limit for this account is reached (about 500 recipients a day for Gmail, 2000 for Workspace): set rate (for example rate = \"400/d\") to stay below it"

echo "Amazon SES"
refused AUTH '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: root@client.example.com' \
    'Amazon SES: an address is not a verified identity in this region (the sender; in the sandbox, the recipients too): verify it in SES, or set from to a verified address'
refused AUTH '454 Throttling failure: Maximum sending rate exceeded.' \
    'Amazon SES: the account'"'"'s maximum sending rate (messages per second) was exceeded: set rate and max_connections below it'
refused AUTH '454 Throttling failure: Daily message quota exceeded.' \
    'Amazon SES: the account'"'"'s 24-hour sending quota is used up: set rate (for example rate = "N/d") within it, or ask AWS to raise it'

echo "SendGrid"
refused AUTH '403 You are not authorized to send from that email address' \
    "$sendgrid"
refused AUTH '550 The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved.' \
    "$sendgrid"

echo "not in the table: no explanation"
fixture_faults relay 'AUTH=535 5.7.8 Authentication credentials invalid'
assert_exit 69 "$SENDQ" -C "$T/sendq.conf" check --connect >"$T/out"
assert_contains "$T/out" '^  FAILED: .*535 5\.7\.8 Authentication credentials invalid'
assert_not_contains "$T/out" 'explanation'
fixture_faults relay
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" check --connect >"$T/out"
assert_not_contains "$T/out" 'explanation'
assert_eq 0 "$(fixture_msgs relay)" "messages sent by the checks"

echo "delivery: AUTH refused, two messages deferred, each explained once"
fixture_faults relay 'AUTH=535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.'
for i in 1 2; do
	printf 'Subject: d%s\n\nbody\n' "$i" |
	    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq "d$i@example.org"
done
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush --no-daemon
grep 'status=deferred' "$T/sendq.log" >"$T/deferred"
cat "$T/deferred"
assert_eq 2 "$(wc -l <"$T/deferred")" "deferral lines"
assert_eq 2 "$(grep -c -F "SmtpClientAuthentication is disabled for the Tenant. -- $ms_disabled)" "$T/deferred")" \
    "deferral lines with the reply, then the explanation"
assert_eq 2 "$(grep -o -F "$ms_disabled" "$T/deferred" | wc -l)" \
    "explanations in two deferral lines"
assert_eq 2 "$(q_count)" "messages kept"
assert_not_contains "$T/sendq.log" "$PASSWORD"
# mailq shows the reason a message waits for, with its explanation.
"$SENDMAIL" -C "$T/sendq.conf" -bp >"$T/mailq"
assert_contains -F "$T/mailq" "oauth2_provider = microsoft"

echo "delivery: Send As refused at the end of data, bounced and explained"
fixture_faults relay 'DOT#1=554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message.'
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" delete $(find "$T/queue" \
    -maxdepth 1 -name '*.ctl' -printf '%f\n' | sed 's/\.ctl$//')
assert_eq 0 "$(q_count)" "queue emptied"
printf 'Subject: s\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq sendas@example.org
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush --no-daemon
line=$(grep 'to=<sendas@example.org>.*status=bounced' "$T/sendq.log")
echo "$line"
assert_contains -F "$line" "Cannot submit message. -- $ms_send_as)"
assert_eq 1 "$(grep -o -F "$ms_send_as" <<<"$line" | wc -l)" \
    "explanations in the bounce line"
# The notification to the sender says it too.
fixture_wait_msgs relay 1
assert_eq "root@example.com" "$(fixture_field relay 1 rcpt_tos)" \
    "notification recipient"
tr -d '\r' <"$(fixture_eml relay 1)" | tr '\n' ' ' | tr -s ' ' >"$T/dsn"
assert_contains -F "$T/dsn" "may not send as this sender"
# Its Diagnostic-Code holds the server's words alone.
"$PYTHON" - "$(fixture_eml relay 1)" >"$T/diag" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
status = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
for b in status[0].get_payload()[1:]:
    print(" ".join(str(b["Diagnostic-Code"]).split()))
PY
assert_eq "smtp; 554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message Cannot submit message." \
    "$(cat "$T/diag")" "Diagnostic-Code of the notification"
echo ok
