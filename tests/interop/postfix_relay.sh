#!/bin/bash
# sendq relays through a real Postfix smarthost (Debian's postfix and
# dovecot-core, a private instance on 127.0.0.1 started and stopped here;
# see postfix.bash), one step at a time, failing at the first step that
# fails:
#   1. STARTTLS on the submission port, AUTH PLAIN
#   2. the same, AUTH LOGIN
#   3. the same, AUTH SCRAM-SHA-256
#   4. implicit TLS on the second port, auth = auto: Postfix offers
#      SCRAM-SHA-256, the strongest, so that is what sendq must pick
#   5. DSN: -N success,failure -R hdrs -V envid123 reach Postfix, which
#      then sends the sender a success notification that carries the ENVID
#      and only the headers of the message
# Each step: sendmail -odi exits 0, sendq's queue is empty, the message is
# in the recipient's Maildir with its Subject and body intact, and
# Postfix's log shows the TLS session, the SASL login as alice with the
# expected mechanism, and the delivery.
set -eu
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/common.bash"
. "$(dirname "$0")/postfix.bash"
t_tmpdir
mta_start plain login scram smtps dsn dsn-sender

# q_conf's default host is localhost:$FPORT.  sendmail -odi waits at most
# interactive_timeout, so a hung step still ends well within the budget.
FPORT=$PF_SUBMISSION_PORT  # read by q_conf
CONF=(global.interactive_timeout=15s)

step() {
	STEP=$1
	STEP_WHAT=$2
	echo "step $STEP: $STEP_WHAT"
}

step_fail() {
	fail "step $STEP ($STEP_WHAT): $*"
}

step_ok() {
	echo "step $STEP: ok"
}

# check WHAT CMD...: CMD, a check that fails by calling fail (lib.sh's
# assertions, pf_wait_*), must pass; else the step fails with WHAT and
# CMD's complaint.
check() {
	local what=$1 out
	shift
	out=$("$@" 2>&1 >/dev/null) || step_fail "$what: ${out#FAIL: }"
}

# submit USER SENDER [sendmail options...]: send a fresh message to
# USER@$PF_DOMAIN with -odi; check the exit status and the empty queue.
# Sets MSG (the submitted file), MARK (Postfix's log before it).
submit() {
	local user=$1 sender=$2 rc=0
	shift 2
	MSG=$T/step$STEP.txt
	printf '%s\n' \
	    "From: Interop Test <$sender>" \
	    "To: <$user@$PF_DOMAIN>" \
	    "Subject: sendq interop step $STEP ($STEP_WHAT)" \
	    '' \
	    "Hello $user, this is step $STEP." \
	    '.a line with a leading dot' \
	    '..and one with two' \
	    "token-$STEP-$$" \
	    'last line' >"$MSG"
	MARK=$(pf_log_mark)
	"$SENDMAIL" -C "$T/sendq.conf" -odi -f "$sender" "$@" \
	    "$user@$PF_DOMAIN" <"$MSG" 2>"$T/step$STEP.err" || rc=$?
	[ "$rc" = 0 ] ||
	    step_fail "sendmail exited $rc: $(cat "$T/step$STEP.err")"
	[ "$(q_count)" = 0 ] ||
	    step_fail "sendmail -odi exited 0 but the message is still in" \
	    "sendq's queue; sendq logged: $(tail -n 3 "$T/sendq.log")"
}

# delivered USER N SERVICE MECH: USER's Nth message is MSG, received by
# postfix/SERVICE over TLS from alice, authenticated with MECH.
delivered() {
	local user=$1 n=$2 service=$3 mech=$4 eml
	check "sendq reported success, but the message was not delivered" \
	    pf_wait_mail "$user" "$n"
	check "Postfix logged no TLS session on its $service port" \
	    pf_wait_log "$MARK" "postfix/$service/smtpd\[[0-9]+\]: [^ ]+ TLS connection established from [^ ]*\[127\.0\.0\.1\]"
	check "Postfix logged no AUTH $mech as alice" \
	    pf_wait_log "$MARK" "postfix/$service/smtpd\[[0-9]+\]: [0-9A-Za-z]+: client=[^,]*\[127\.0\.0\.1\](:[0-9]+)?, sasl_method=$mech, sasl_username=alice\$"
	check "Postfix logged no delivery" \
	    pf_wait_log "$MARK" "postfix/virtual\[[0-9]+\]: [0-9A-Za-z]+: to=<$user@$PF_DOMAIN>, .*status=sent \(delivered to maildir\)"
	# Headers: Postfix's Received (TLS, ESMTPSA, the SASL user) on top of
	# what was submitted; body: byte for byte, dots and all.
	eml=$(pf_mail "$user" "$n")
	check "wrong Subject" assert_contains -F "$eml" \
	    "Subject: sendq interop step $STEP ($STEP_WHAT)"
	check "wrong Delivered-To" \
	    assert_contains "$eml" "^Delivered-To: $user@$PF_DOMAIN\$"
	sed '/^$/q' "$eml" | tr -d '\n' | tr -s ' \t' ' ' >"$T/hdr$STEP"
	check "Postfix's Received: header does not show ESMTPSA as alice" \
	    assert_contains "$T/hdr$STEP" "\(Authenticated sender: alice\) by mx\.$PF_DOMAIN \(Postfix\) with ESMTPSA"
	sed '1,/^$/d' "$MSG" >"$T/body$STEP.want"
	sed '1,/^$/d' "$eml" >"$T/body$STEP.got"
	check "the body changed on the way" assert_file_eq \
	    "$T/body$STEP.want" "$T/body$STEP.got" "submitted and delivered body"
}

step 1 "STARTTLS, AUTH PLAIN"
q_conf "${CONF[@]}" auth=plain
submit plain sender@example.com
delivered plain 1 submission PLAIN
step_ok

step 2 "STARTTLS, AUTH LOGIN"
q_conf "${CONF[@]}" auth=login
submit login sender@example.com
delivered login 1 submission LOGIN
step_ok

step 3 "STARTTLS, AUTH SCRAM-SHA-256"
q_conf "${CONF[@]}" auth=scram-sha-256
submit scram sender@example.com
delivered scram 1 submission SCRAM-SHA-256
step_ok

step 4 "implicit TLS, auth = auto (must pick SCRAM-SHA-256)"
q_conf "${CONF[@]}" host="{ \"localhost:$PF_SMTPS_PORT\" }" tls=implicit \
    auth=auto
submit smtps sender@example.com
delivered smtps 1 smtps SCRAM-SHA-256
step_ok

step 5 "DSN NOTIFY=SUCCESS,FAILURE RET=HDRS ENVID=envid123"
# The sender is a mailbox of the test domain, so Postfix's success
# notification lands where we can read it.
q_conf "${CONF[@]}" auth=plain
submit dsn "dsn-sender@$PF_DOMAIN" -N success,failure -R hdrs -V envid123
delivered dsn 1 submission PLAIN
if ! (pf_wait_mail dsn-sender 1 10) >/dev/null 2>&1; then
	step_fail "the message was delivered, but no delivery status" \
	    "notification reached dsn-sender@$PF_DOMAIN within 10 s: sendq did" \
	    "not pass NOTIFY=SUCCESS (nor, presumably, RET and ENVID) to Postfix," \
	    "which offers DSN"
fi
dsn=$(pf_mail dsn-sender 1)
check "not a delivery status notification" assert_contains "$dsn" \
    '^Content-Type: multipart/report; report-type=delivery-status;'
check "ENVID was not passed on" \
    assert_contains "$dsn" '^Original-Envelope-Id: envid123$'
check "not a success report for dsn@$PF_DOMAIN" \
    assert_contains "$dsn" "^Final-Recipient: rfc822; dsn@$PF_DOMAIN\$"
check "not a success report" assert_contains "$dsn" '^Action: delivered$'
check "not a success report" assert_contains "$dsn" '^Status: 2\.[0-9]+\.[0-9]+$'
# RET=HDRS: the headers come back, the body does not.
check "RET=HDRS was not passed on (no text/rfc822-headers part)" \
    assert_contains "$dsn" '^Content-Type: text/rfc822-headers'
check "the returned headers are not the message's" \
    assert_contains -F "$dsn" "Subject: sendq interop step 5 ($STEP_WHAT)"
check "RET=HDRS was not passed on (the body came back)" \
    assert_not_contains -F "$dsn" "token-5-$$"
check "Postfix logged no success notification" \
    pf_wait_log "$MARK" "postfix/bounce\[[0-9]+\]: [0-9A-Za-z]+: sender delivery status notification: [0-9A-Za-z]+"
step_ok

# Nothing may stay running or listening.
mta_stop
for port in $PF_SUBMISSION_PORT $PF_SMTPS_PORT; do
	! port_listening "$port" ||
	    fail "something still listens on port $port after mta_stop"
done
echo "all 5 steps ok"
