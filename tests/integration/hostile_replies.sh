#!/bin/bash
# Terminal escapes from outside never reach a terminal raw.  A hostile
# smarthost answers with ESC, BEL and DEL bytes at RCPT (a 451) and at
# the end of data (a reply whose lines disagree on the code: the
# "malformed reply" path); a message body holds ESC and DEL; a control
# file planted with ESC and DEL in its sender and a recipient (a member
# of group sendq can write one).  Then the control files (their values
# decoded), the log, mailq, sendq queue, sendq queue --json and sendq
# show hold no raw byte below 0x20 (but LF, and TAB in show's message
# text) and no 0x7f; the replies are there, escaped as \xHH when they
# were stored (so that in JSON, too, they decode to no control
# character; the planted bytes are JSON's \u escapes).
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf

# clean FILE [KEEP]: no raw control character but LF and those in KEEP
# (a string of them), and no DEL.
clean() {
	"$PYTHON" - "$1" "${2:-}" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
keep = set(b"\n" + sys.argv[2].encode())
bad = sorted({b for b in data if (b < 0x20 and b not in keep) or b == 0x7f})
if bad:
    i = min(data.index(bytes([b])) for b in bad)
    sys.exit("%s: raw control characters %s near %r"
             % (sys.argv[1], bad, data[max(0, i - 60):i + 20]))
PY
}
by() { grep -l -- "$1" "$T"/queue/*.ctl | xargs -n1 basename | sed 's/\.ctl$//'; }

printf 'Subject: rcpt\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq a@example.org
printf 'Subject: dot\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq d@example.org
fixture_faults relay \
    $'RCPT:a@example.org=451 4.3.0 \x1b[31mbusy\x07\x7f' \
    $'DOT=250-2.0.0 queued\x1b[2J\\n451 4.3.0 \x1b]0;owned\x07 oops\x7f'
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q
assert_eq 2 "$(q_count)" "messages deferred"
ida=$(by '^rcpt pending a@example.org ')
idd=$(by '^rcpt pending d@example.org ')
[ -n "$ida" ] && [ -n "$idd" ] || fail "expected the 2 messages queued"

printf 'Subject: body\n\nhello \x1b[2J world\x7f\n\tTAB kept\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odq b@example.org
idb=$(by '^rcpt pending b@example.org ')
# A planted control file: ESC and DEL in the sender and a recipient.
sed -i -e 's/^sender .*/sender evil%1B[2J%7F@example.com/' \
    -e 's/^rcpt pending b@example.org /rcpt pending %22v%1B]0;x%07%22@example.org /' \
    "$T/queue/$idb.ctl"

echo "control files: every value, decoded (but the planted one)"
"$PYTHON" - "$T/queue/$ida.ctl" "$T/queue/$idd.ctl" <<'PY'
import sys, urllib.parse
for path in sys.argv[1:]:
    for line in open(path, encoding="ascii").read().splitlines():
        for word in line.split(" ")[1:]:
            v = urllib.parse.unquote_to_bytes(word)
            if any(b < 0x20 or b == 0x7f for b in v):
                sys.exit("%s: %r decodes to control characters" % (path, line))
PY
assert_contains -F "$T/queue/$ida.ctl" 'rcpt pending a@example.org 451%204.3.0%20\x1b[31mbusy\x07\x7f'
assert_contains -F "$T/queue/$ida.ctl" 'error 451%204.3.0%20\x1b[31mbusy\x07\x7f'
assert_contains -F "$T/queue/$idd.ctl" 'malformed%20reply%20while%20sending%20the%20end%20of%20data:%20451%204.3.0%20\x1b]0;owned\x07%20oops\x7f'

echo "the log"
clean "$T/sendq.log"
assert_contains -F "$T/sendq.log" '451 4.3.0 \x1b[31mbusy\x07\x7f'

echo "mailq and sendq queue"
"$SENDMAIL" -C "$T/sendq.conf" -bp >"$T/mailq"
cat "$T/mailq"
clean "$T/mailq"
assert_contains -F "$T/mailq" '(451 4.3.0 \x1b[31mbusy\x07\x7f)'
assert_contains -F "$T/mailq" 'evil\x1b[2J\x7f@example.com'
"$SENDQ" -C "$T/sendq.conf" queue >"$T/queue.out"
clean "$T/queue.out"
assert_file_eq "$T/mailq" "$T/queue.out" "sendq queue and mailq"

echo "sendq queue --json"
"$SENDQ" -C "$T/sendq.conf" queue --json >"$T/json"
clean "$T/json"
"$PYTHON" - "$T/json" "$idb" <<'PY'
import json, sys
def walk(v):
    if isinstance(v, str):
        assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in v), v
    elif isinstance(v, list):
        for x in v:
            walk(x)
    elif isinstance(v, dict):
        for x in v.values():
            walk(x)
m = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(m) == 3, m
# The replies were escaped when stored; the planted file's ESC and DEL
# are data, which JSON escapes as \u001b and \u007f.
for o in m:
    if o["id"] != sys.argv[2]:
        walk(o)
    else:
        assert o["sender"] == "evil\x1b[2J\x7f@example.com", o
PY
assert_contains -F "$T/json" '"reason":"451 4.3.0 \\x1b[31mbusy\\x07\\x7f"'
assert_contains -F "$T/json" '"sender":"evil\u001b[2J\u007f@example.com"'

echo "sendq show: the envelope and the reasons"
for id in "$ida" "$idd"; do
	"$SENDQ" -C "$T/sendq.conf" show "$id" >"$T/show-$id"
	clean "$T/show-$id"
done
assert_contains -F "$T/show-$ida" 'recipient: <a@example.org> pending (451 4.3.0 \x1b[31mbusy\x07\x7f)'
assert_contains -F "$T/show-$idd" '\x1b]0;owned\x07 oops\x7f'

echo "sendq show: a planted sender and recipient, a body with ESC and DEL"
"$SENDQ" -C "$T/sendq.conf" show "$idb" >"$T/show-b"
cat -v "$T/show-b"
clean "$T/show-b" $'\t'
assert_contains -F "$T/show-b" 'sender: <evil\x1b[2J\x7f@example.com>'
assert_contains -F "$T/show-b" 'recipient: <"v\x1b]0;x\x07"@example.org> pending'
assert_contains -F "$T/show-b" 'hello \x1b[2J world\x7f'
assert_contains "$T/show-b" $'^\tTAB kept$'
echo ok
