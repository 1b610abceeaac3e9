#!/bin/bash
# SMTP smuggling: whatever line endings the input mixes, each submission
# is exactly one message at the server, no bare CR or LF crosses the
# wire, and a smuggled second transaction stays text inside the first.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
q_conf

inject='MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nFrom: ceo@example.org\r\n\r\nsmuggled\r\n.\r\n'
n=0
for seq in '\n.\r\n' '\r\n.\n' '\r.\r' '\n.\n' '\r\n.\r' '\r.\r\n' '\n.\r' \
    '\r\n\x00.\r\n' '\r\n.\x00\r\n'; do
	for i in "" -i; do
		n=$((n + 1))
		printf "Subject: seq $n\r\n\r\nbefore${seq}${inject}after\r\n" |
		    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -odi $i \
		    bob@example.org
		fixture_wait_msgs relay "$n"
		assert_eq bob@example.org "$(fixture_field relay "$n" rcpt_tos)" \
		    "recipients of message $n"
	done
done
assert_eq "$n" "$(fixture_msgs relay)" "messages received"
assert_eq "$n" "$(fixture_sessions relay)" "sessions"
# No message went to the smuggled recipient, and nothing bare crossed.
for f in "$(fixture_dir relay)"/msgs/*.json; do
	assert_not_contains "$f" 'victim|evil'
done
"$PYTHON" - "$(fixture_dir relay)/reads.log" <<'PY'
import json, re, sys
for line in open(sys.argv[1]):
    d = json.loads(line)["data"]
    assert not re.search(r"\r(?!\n)", d), "bare CR on the wire: %r" % d[:200]
    assert not re.search(r"(?<!\r)\n", d), "bare LF on the wire: %r" % d[:200]
    assert "\x00" not in d, "NUL on the wire"
PY
# With -i the injected text is all there, as body.
assert_contains "$(fixture_eml relay 2)" '^MAIL FROM:<evil@attacker\.test>'$'\r''$'
assert_contains "$(fixture_eml relay 2)" '^after'$'\r''$'
echo ok
