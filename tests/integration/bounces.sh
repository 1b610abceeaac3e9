#!/bin/bash
# Delivery status notifications (RFC 3464).  A recipient refused for
# good, or a message older than max_queue_time, makes a multipart/report
# from the null sender to the envelope sender (or to postmaster alone
# with bounce = postmaster); a notification that fails goes to
# postmaster (double bounce), and one to postmaster that fails is kept
# in failed/.  bounce = none and -N never send nothing and keep the
# message in failed/; the null sender is never written to.  Each
# notification is parsed with Python's email package.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"

# dsn_show N: message N of the fixture parsed as a notification, one
# "key: value" a line; fails unless it is a well-formed one.
cat >"$T/dsn.py" <<'EOF'
import email
import email.policy
import sys

raw = open(sys.argv[1], "rb").read()
lines = raw.split(b"\r\n")
if lines[-1] != b"":
    sys.exit("the last line does not end in CRLF")
for i, l in enumerate(lines[:-1], 1):
    if b"\r" in l or b"\n" in l:
        sys.exit("bare CR or LF in line %d" % i)
    if len(l) > 998:
        sys.exit("line %d has %d octets" % (i, len(l)))
m = email.message_from_bytes(raw, policy=email.policy.default)
if m.defects:
    sys.exit("defects: %r" % m.defects)
print("content-type:", m.get_content_type())
print("report-type:", m.get_param("report-type"))
for h in ("From", "To", "Subject", "Auto-Submitted", "MIME-Version"):
    print("%s: %s" % (h.lower(), m[h]))
boundary = m.get_boundary()
if not boundary or raw.count(b"--" + boundary.encode()) != 4:
    sys.exit("the boundary is not used exactly 4 times")
parts = list(m.iter_parts())
print("parts:", " ".join(p.get_content_type() for p in parts))
if len(parts) != 3 or parts[1].get_content_type() != "message/delivery-status":
    sys.exit("not the three parts of a delivery report")
for p in parts:
    if p.defects:
        sys.exit("defects in a part: %r" % p.defects)
text = parts[0].get_content()
blocks = parts[1].get_payload()
if len(blocks) < 2:
    sys.exit("no per-recipient fields")
for k in ("Reporting-MTA", "Original-Envelope-Id", "Arrival-Date"):
    if blocks[0][k] is not None:
        print("%s: %s" % (k.lower(), blocks[0][k]))
for b in blocks[1:]:
    rcpt = b["Final-Recipient"]
    print("rcpt: %s | %s | %s | %s" % (rcpt, b["Action"], b["Status"],
                                       b["Diagnostic-Code"]))
    if b["Last-Attempt-Date"] is None:
        sys.exit("no Last-Attempt-Date")
    addr = str(rcpt).split(";", 1)[1].strip()
    if "<%s>" % addr not in text:
        sys.exit("the text part does not name %s" % addr)
orig = parts[2]
if orig.get_content_type() == "message/rfc822":
    om = orig.get_payload()[0]
    print("orig-subject:", om["Subject"])
    print("orig-body:", om.get_payload().strip())
else:
    oh = email.message_from_string(orig.get_payload(),
                                   policy=email.policy.default)
    print("orig-subject:", oh["Subject"])
    print("orig-body:", oh.get_payload().strip() or "(none)")
EOF
dsn_show() {
	"$PYTHON" "$T/dsn.py" "$(fixture_eml relay "$1")" >"$T/dsn.out" ||
		fail "message $1 is not a well-formed notification"
	cat "$T/dsn.out"
}
# fresh CONF_ARGS...: an empty queue and log, a new configuration
fresh() {
	rm -rf "$T/queue" "$T/sendq.log"
	q_conf "$@"
}

echo "(a) one of two recipients refused: the other gets it, the sender a report"
fresh
fixture_faults relay 'RCPT:bob@example.org=550 5.1.1 no such user'
printf 'Subject: partial\n\nthe body text\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org carol@example.org
fixture_wait_msgs relay 2
assert_eq "carol@example.org" "$(fixture_field relay 1 rcpt_tos)" "delivered"
assert_eq "" "$(fixture_field relay 2 mail_from)" "report's MAIL FROM"
assert_eq "me@example.com" "$(fixture_field relay 2 rcpt_tos)" "report's RCPT TO"
dsn_show 2
assert_contains "$T/dsn.out" '^content-type: multipart/report$'
assert_contains "$T/dsn.out" '^report-type: delivery-status$'
assert_contains "$T/dsn.out" '^from: Mail Delivery System <MAILER-DAEMON@client\.example\.com>$'
assert_contains "$T/dsn.out" '^to: me@example\.com$'
assert_contains "$T/dsn.out" '^subject: Undelivered Mail Returned to Sender$'
assert_contains "$T/dsn.out" '^auto-submitted: auto-replied$'
assert_contains "$T/dsn.out" '^parts: text/plain message/delivery-status text/rfc822-headers$'
assert_contains "$T/dsn.out" '^reporting-mta: dns; client\.example\.com$'
assert_contains -F "$T/dsn.out" 'rcpt: rfc822; bob@example.org | failed | 5.1.1 | smtp; 550 5.1.1 no such user'
assert_eq 1 "$(grep -c '^rcpt:' "$T/dsn.out")" "reported recipients"
assert_contains "$T/dsn.out" '^orig-subject: partial$'
assert_contains "$T/dsn.out" '^orig-body: \(none\)$'
wait_until 10 queue_is 0
assert_eq 0 "$(q_failed_count)" "failed/"
assert_contains "$T/sendq.log" ': sender non-delivery notification: [0-9A-F]{12}$'
assert_contains "$T/sendq.log" 'status=bounced \(550 5\.1\.1 no such user\)'

echo "(a) RET=FULL and ENVID: the whole message comes back"
printf 'Subject: full\n\nreturn all of me\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    -R full -V 'env-42' bob@example.org
fixture_wait_msgs relay 3
assert_eq "" "$(fixture_field relay 3 mail_from)" "report's MAIL FROM"
dsn_show 3
assert_contains "$T/dsn.out" '^parts: text/plain message/delivery-status message/rfc822$'
assert_contains "$T/dsn.out" '^original-envelope-id: env-42$'
assert_contains "$T/dsn.out" '^orig-subject: full$'
assert_contains "$T/dsn.out" '^orig-body: return all of me$'
wait_until 10 queue_is 0

echo "(b) expiry: a deferred message older than max_queue_time fails with 4.4.7"
fresh global.max_queue_time=4s global.retry_min=1s
fixture_faults relay 'RCPT:slow@example.org=451 4.3.0 try again later'
n=$(fixture_msgs relay)
printf 'Subject: slow\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq -f me@example.com \
    slow@example.org
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 1 "$(q_count)" "deferred"
assert_contains "$T/sendq.log" 'status=deferred \(451 4\.3\.0 try again later\)'
sleep 4.2
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq $((n + 1)) "$(fixture_msgs relay)" "the report only"
assert_eq "" "$(fixture_field relay $((n + 1)) mail_from)" "report's MAIL FROM"
assert_eq "me@example.com" "$(fixture_field relay $((n + 1)) rcpt_tos)" "report's RCPT TO"
dsn_show $((n + 1))
assert_contains -F "$T/dsn.out" 'rcpt: rfc822; slow@example.org | failed | 4.4.7 | smtp; 451 4.3.0 try again later'
assert_contains "$T/dsn.out" '^orig-subject: slow$'
assert_contains "$T/sendq.log" 'status=bounced \(message expired after 4 seconds in the queue; last error: 451 4\.3\.0 try again later\)'
assert_eq 0 "$(q_count)" "queue"
assert_eq 0 "$(q_failed_count)" "failed/"

echo "(c) the report refused too: a double bounce to postmaster"
fresh global.postmaster='"pm@example.org"'
fixture_faults relay 'RCPT:bob@example.org=550 5.1.1 no such user' \
    'RCPT:me@example.com=550 5.1.1 sender unknown'
n=$(fixture_msgs relay)
printf 'Subject: double\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org
fixture_wait_msgs relay $((n + 1))
wait_until 10 queue_is 0
assert_eq $((n + 1)) "$(fixture_msgs relay)" "the double bounce only"
assert_eq "" "$(fixture_field relay $((n + 1)) mail_from)" "MAIL FROM"
assert_eq "pm@example.org" "$(fixture_field relay $((n + 1)) rcpt_tos)" "RCPT TO"
dsn_show $((n + 1))
assert_contains "$T/dsn.out" '^to: pm@example\.org$'
assert_contains -F "$T/dsn.out" 'rcpt: rfc822; me@example.com | failed | 5.1.1 | smtp; 550 5.1.1 sender unknown'
# What came back is the first report's header section.
assert_contains "$T/dsn.out" '^orig-subject: Undelivered Mail Returned to Sender$'
assert_eq 0 "$(q_failed_count)" "failed/"
assert_contains "$T/sendq.log" ': sender non-delivery notification: '
assert_contains "$T/sendq.log" ': postmaster non-delivery notification: '

echo "(c) ... and postmaster refused as well: kept in failed/, logged"
fixture_faults relay 'RCPT:bob@example.org=550 5.1.1 no such user' \
    'RCPT:me@example.com=550 5.1.1 sender unknown' \
    'RCPT:pm@example.org=550 5.1.1 no postmaster here'
n=$(fixture_msgs relay)
printf 'Subject: triple\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org
wait_until 10 failed_is 1
wait_until 10 queue_is 0
assert_eq "$n" "$(fixture_msgs relay)" "nothing delivered"
id=$(basename "$(ls "$T/queue/failed/"*.ctl)" .ctl)
wait_until 10 grep -Eq "^.*$id: undeliverable \(from the null sender to postmaster\): no notification sent; kept in failed/$" "$T/sendq.log"
assert_contains "$T/queue/failed/$id.ctl" '^sender %$'
assert_contains "$T/queue/failed/$id.msg" '^To: <pm@example\.org>'

echo "(d) bounce = none: no report, the message is kept in failed/"
fresh global.bounce=none global.postmaster='"pm@example.org"'
fixture_faults relay 'RCPT:bob@example.org=550 5.1.1 no such user'
n=$(fixture_msgs relay)
printf 'Subject: none\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org
wait_until 10 failed_is 1
assert_eq 0 "$(q_count)" "queue"
sleep 0.3
assert_eq "$n" "$(fixture_msgs relay)" "no report"
wait_until 10 grep -Eq ': undeliverable \(bounce = none\): no notification sent; kept in failed/$' "$T/sendq.log"
assert_contains "$(ls "$T/queue/failed/"*.msg)" '^Subject: none'
assert_not_contains "$T/sendq.log" 'non-delivery notification'

echo "(d) bounce = postmaster: the report goes to postmaster alone"
# Written as an address in angle brackets: the same postmaster.
fresh global.bounce=postmaster global.postmaster='"<pm@example.org>"'
n=$(fixture_msgs relay)
printf 'Subject: pm only\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org
fixture_wait_msgs relay $((n + 1))
wait_until 10 queue_is 0
assert_eq "" "$(fixture_field relay $((n + 1)) mail_from)" "MAIL FROM"
assert_eq "pm@example.org" "$(fixture_field relay $((n + 1)) rcpt_tos)" "RCPT TO"
dsn_show $((n + 1))
assert_contains "$T/dsn.out" '^to: pm@example\.org$'
assert_contains -F "$T/dsn.out" 'rcpt: rfc822; bob@example.org | failed | 5.1.1 | smtp; 550 5.1.1 no such user'
assert_contains "$T/dsn.out" '^orig-subject: pm only$'
assert_eq 0 "$(q_failed_count)" "failed/"
assert_contains "$T/sendq.log" ': postmaster non-delivery notification: '
sleep 0.3
assert_eq $((n + 1)) "$(fixture_msgs relay)" "nothing to the sender"

echo "(d) a bare postmaster is qualified, and its alias applies"
fresh global.bounce=postmaster global.postmaster='"root"'
printf 'alias root {\n    to = { "ops@example.net", "admin" }\n}\n' \
    >>"$T/sendq.conf"
n=$(fixture_msgs relay)
printf 'Subject: alias\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    bob@example.org
fixture_wait_msgs relay $((n + 1))
wait_until 10 queue_is 0
assert_eq "ops@example.net admin@example.com" \
    "$(fixture_field relay $((n + 1)) rcpt_tos | xargs)" "RCPT TO"
dsn_show $((n + 1))
assert_contains "$T/dsn.out" '^to: root@example\.com$'

echo "(e) -N never: no report, kept in failed/; -N success alike"
fresh global.postmaster='"pm@example.org"'
n=$(fixture_msgs relay)
printf 'Subject: never\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    -N never bob@example.org
wait_until 10 failed_is 1
wait_until 10 grep -Eq ': undeliverable \(the sender asked for no notification, NOTIFY=NEVER\): no notification sent; kept in failed/$' "$T/sendq.log"
assert_contains "$(ls "$T/queue/failed/"*.msg)" '^Subject: never'
printf 'Subject: success only\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    -N success,delay bob@example.org
wait_until 10 failed_is 2
# The line comes once failed/ and the queue directory are synced.
wait_until 10 grep -q 'NOTIFY=SUCCESS,DELAY): no notification sent' "$T/sendq.log"
assert_eq 0 "$(q_count)" "queue"
sleep 0.3
assert_eq "$n" "$(fixture_msgs relay)" "no report"
echo "(e) -N failure: a report"
printf 'Subject: failure\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    -N failure,delay bob@example.org
fixture_wait_msgs relay $((n + 1))
assert_eq "me@example.com" "$(fixture_field relay $((n + 1)) rcpt_tos)" "RCPT TO"

echo "(f) the null sender is never written to: its failure goes to postmaster"
fresh global.postmaster='"pm@example.org"'
n=$(fixture_msgs relay)
printf 'Subject: from nobody\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f '<>' bob@example.org
fixture_wait_msgs relay $((n + 1))
wait_until 10 queue_is 0
assert_eq "pm@example.org" "$(fixture_field relay $((n + 1)) rcpt_tos)" "RCPT TO"
dsn_show $((n + 1))
assert_contains "$T/dsn.out" '^orig-subject: from nobody$'
assert_contains "$T/sendq.log" ': postmaster non-delivery notification: '
assert_not_contains "$(fixture_transcript relay)" 'RCPT TO:<>'
echo "(f) ... and from the null sender to postmaster: kept in failed/"
fixture_faults relay 'RCPT:pm@example.org=550 5.1.1 no postmaster here'
printf 'Subject: to pm\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f '' pm@example.org
wait_until 10 failed_is 1
assert_eq 0 "$(q_count)" "queue"
wait_until 10 grep -Eq ': undeliverable \(from the null sender to postmaster\): no notification sent; kept in failed/$' "$T/sendq.log"
sleep 0.3
assert_eq $((n + 1)) "$(fixture_msgs relay)" "nothing more"
assert_not_contains "$(fixture_transcript relay)" 'RCPT TO:<>'
echo ok
