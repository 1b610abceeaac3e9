#!/bin/bash
# Header and command injection through an address (the path of PHP
# mail()'s fifth parameter, CVE-2016-10033): a CR, LF or any other
# control character in an address, also inside a quoted local part or
# a quoted-pair, exits 67 and queues nothing, whether it comes from -f,
# a recipient argument, a -t header or a -bs MAIL/RCPT (501).  Root is
# refused too: no SMTP path can carry it.  The message names the
# address with the characters escaped.  -F with a CR/LF cannot add a
# header either: its control characters are dropped.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf

queued() { find "$T/queue" -maxdepth 1 -name '*.ctl' 2>/dev/null | wc -l; }
# refused CODE CMD...: CMD exits CODE; its stderr is kept in $T/err.
refused() {
	local want=$1 rc=0
	shift
	"$@" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "expected exit $want, got $rc from:" \
	    "$(printf '%q ' "$@"): $(cat "$T/err")"
}
# No raw control character but LF in a file (stderr, a -bs dialogue).
no_raw_ctl() {
	"$PYTHON" - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
bad = sorted({b for b in data if (b < 0x20 and b not in b"\n") or b == 0x7f})
if bad:
    sys.exit("raw control characters %s in %r" % (bad, data[:300]))
PY
}

inj=$'"a\r\nX-Injected: yes\r\nTo: victim@x"@example.com'

echo "-f with CR/LF in a quoted local part"
printf 'Subject: x\n\nbody\n' >"$T/msg"
refused 67 "$SENDMAIL" -C "$T/sendq.conf" -odq -f "$inj" \
    rcpt@example.org <"$T/msg"
assert_eq 0 "$(queued)" "messages queued"
no_raw_ctl "$T/err"
assert_contains -F "$T/err" '\x0d\x0aX-Injected: yes\x0d\x0aTo: victim@x'
assert_contains "$T/err" 'sender'

echo "-r (the same option) and -f with an escaped CR in a quoted-pair"
assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -odq -r "$inj" \
    rcpt@example.org <"$T/msg"
assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -odq \
    -f $'"a\\\r\\\nX-Injected: yes"@example.com' rcpt@example.org \
    <"$T/msg"
assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -odq \
    -f $'www@example.com\r\nX-Injected: yes' rcpt@example.org \
    <"$T/msg"
assert_eq 0 "$(queued)" "messages queued"

echo "recipient arguments: CR/LF, ESC, DEL, TAB, BEL"
for r in "$inj" $'"a\x1b[31m"@example.org' $'"a\x7f"@example.org' \
    $'"a\tb"@example.org' $'"a\\\x07"@example.org' \
    $'ok@example.org,\r\nX-Injected: yes' $'x@[192.0.2.1\x01]'; do
	refused 67 "$SENDMAIL" -C "$T/sendq.conf" -odq \
	    ok@example.org "$r" <"$T/msg"
	no_raw_ctl "$T/err"
	assert_contains "$T/err" 'recipient'
done
assert_eq 0 "$(queued)" "messages queued"

echo "-bv says the same as a submission would"
refused 67 "$SENDMAIL" -C "$T/sendq.conf" -bv "$inj"
refused 67 "$SENDMAIL" -C "$T/sendq.conf" -bv $'ok@example.org,\r\nb@example.org'
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -bv 'ok@example.org, b@example.org'

echo "-t: To:, Cc:, Bcc: with ESC, DEL, a TAB or a folded line in a quoted local part"
for h in $'To: "a\x1b[2J"@example.org' $'To: ok@example.org, "a\x7f"@example.org' \
    $'Cc: "a\\\x1b"@example.org' $'Bcc: "a\tb"@example.org' \
    $'To: "a\n X-Injected: yes"@example.org' $'To: <"a\x01"@example.org>'; do
	printf '%s\nSubject: t\n\nbody\n' "$h" >"$T/msg-t"
	refused 67 "$SENDMAIL" -C "$T/sendq.conf" -odq -t <"$T/msg-t"
	no_raw_ctl "$T/err"
done
assert_eq 0 "$(queued)" "messages queued"

echo "-t: a NUL is dropped by the header reader, never carried"
printf 'To: "a\0b"@example.org\nSubject: nul\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq -t
assert_eq 1 "$(queued)" "messages queued"
assert_contains "$T"/queue/*.ctl '^rcpt pending "ab"@example\.org '
rm -f "$T"/queue/*.ctl "$T"/queue/*.msg

echo "-t: a TAB or a folded line in a display name is no address"
printf 'To: "J\tDoe" <j@example.org>, "K\n Roe" <k@example.org>\n\nb\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq -t
assert_eq 1 "$(queued)" "messages queued"
rm -f "$T"/queue/*.ctl "$T"/queue/*.msg

echo "-F with CR/LF: dropped, the generated From: stays one line"
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq \
    -F $'Evil\r\nX-Injected: yes\r\nBcc: victim@x' rcpt@example.org <"$T/msg"
assert_eq 1 "$(queued)" "messages queued"
assert_not_contains "$T"/queue/*.msg '^(X-Injected|Bcc):'
assert_contains "$T"/queue/*.msg $'^From: "EvilX-Injected: yesBcc: victim@x" <root@example\\.com>\r$'
rm -f "$T"/queue/*.ctl "$T"/queue/*.msg

echo "-bs: MAIL and RCPT with control characters get 501"
{
	printf 'EHLO client\r\n'
	printf 'MAIL FROM:<"a\x1b[31m"@example.com>\r\n'
	printf 'MAIL FROM:<"a\x7f"@example.com>\r\n'
	printf 'MAIL FROM:<"a\tb"@example.com>\r\n'
	printf 'MAIL FROM:<ok@example.com>\r\n'
	printf 'RCPT TO:<"a\x1b]0;x\x07"@example.org>\r\n'
	printf 'RCPT TO:<"a\\\x7f"@example.org>\r\n'
	printf 'RCPT TO:<"a\tb"@example.org>\r\n'
	printf 'DATA\r\n'
	printf 'QUIT\r\n'
} >"$T/bs-in"
"$SENDMAIL" -C "$T/sendq.conf" -odq -bs <"$T/bs-in" >"$T/bs-out" || true
tr -d '\r' <"$T/bs-out" >"$T/bs-lines"
cat "$T/bs-lines"
no_raw_ctl "$T/bs-lines"
assert_eq 3 "$(grep -c '^501 5\.1\.7 ' "$T/bs-lines")" "MAIL refusals"
assert_eq 3 "$(grep -c '^501 5\.1\.3 ' "$T/bs-lines")" "RCPT refusals"
assert_contains "$T/bs-lines" '^554 '
assert_eq 0 "$(queued)" "messages queued"
echo ok
