#!/bin/bash
# sendq queue (as mailq), queue --json [--failed] (every line parses,
# with the documented fields), show, delete (queued and failed
# messages; an unknown ID exits 66), and flush of chosen IDs.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
port=$(t_unused_port)
FPORT=$port q_conf
ids() { ls "$T/queue" | sed -n 's/\.ctl$//p' | sort; }

printf 'Subject: one\n\nbody one\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq -f www@example.com a@example.org b@example.org
assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -q	# deferred: nobody listens
printf 'Subject: two\n\nbody two\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq $'j\xc3\xbcrgen@example.org'
# IDs sort by second, then at random: find each message by its content.
by() { grep -l "$1" "$T"/queue/*.ctl | xargs -n1 basename | sed 's/\.ctl$//'; }
q=("$(by '^sender www@example.com$')" "$(by 'j%C3%BCrgen')")
[ -n "${q[0]}" ] && [ -n "${q[1]}" ] || fail "expected 2 queued messages"

echo "queue = mailq"
"$SENDQ" -C "$T/sendq.conf" queue >"$T/a"
"$SENDMAIL" -C "$T/sendq.conf" -bp >"$T/b"
assert_file_eq "$T/b" "$T/a" "sendq queue and sendmail -bp"

echo "queue --json"
"$SENDQ" -C "$T/sendq.conf" queue --json >"$T/json"
"$PYTHON" - "$T/json" "${q[0]}" "${q[1]}" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 2, lines
m = [json.loads(l) for l in lines]
keys = {"id", "state", "size", "arrival", "sender", "account", "attempts",
        "next_attempt", "recipients"}
for o in m:
    assert set(o) == keys, o.keys()
    assert o["arrival"].endswith("Z") and "T" in o["arrival"], o["arrival"]
    for r in o["recipients"]:
        assert set(r) == {"address", "state", "reason"}, r
byid = {o["id"]: o for o in m}
a, b = byid[sys.argv[2]], byid[sys.argv[3]]
assert a["state"] == "deferred" and a["attempts"] == 1, a
assert a["sender"] == "www@example.com" and a["account"] == "default"
assert a["next_attempt"] is not None
assert [r["address"] for r in a["recipients"]] == ["a@example.org", "b@example.org"]
assert all(r["state"] == "pending" and "Connection refused" in r["reason"]
           for r in a["recipients"]), a["recipients"]
assert b["state"] == "queued" and b["attempts"] == 0, b
assert b["recipients"][0]["address"] == "j\u00fcrgen@example.org", b
assert b["recipients"][0]["reason"] is None
print("json ok")
PY

echo "show"
"$SENDQ" -C "$T/sendq.conf" show "${q[0]}" >"$T/show"
assert_contains "$T/show" "^id: ${q[0]}\$"
assert_contains "$T/show" '^sender: <www@example\.com>$'
assert_contains "$T/show" '^recipient: <a@example\.org> pending \(connect to .*Connection refused\)$'
# The text's CRLF line ends are shown as LF (no raw CR on a terminal).
assert_contains "$T/show" '^Subject: one$'
assert_contains "$T/show" '^body one$'
assert_exit 66 "$SENDQ" -C "$T/sendq.conf" show 0123456789AB
assert_exit 64 "$SENDQ" -C "$T/sendq.conf" show ../../etc/passwd

echo "flush one ID"
fixture_start relay --port "$port" --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" --smtputf8
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush "${q[1]}"
assert_eq 1 "$(fixture_msgs relay)" "flushed"
assert_eq $'j\xc3\xbcrgen@example.org' "$(fixture_field relay 1 rcpt_tos)" "flushed ID"
assert_eq "${q[0]}" "$(ids)" "left in the queue"

echo "delete, queued and failed"
printf 'Subject: three\n\nbody\n' | assert_exit 0 "$SENDMAIL" \
    -C "$T/sendq.conf" -odq c@example.org
q2=("$(by 'c@example.org')" "${q[0]}")
mkdir -p "$T/queue/failed"
mv "$T/queue/${q2[1]}.msg" "$T/queue/${q2[1]}.ctl" "$T/queue/failed/"
"$SENDQ" -C "$T/sendq.conf" queue --json --failed >"$T/json"
assert_contains "$T/json" "\"id\":\"${q2[1]}\",\"state\":\"failed\""
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" delete "${q2[0]}" "${q2[1]}"
assert_eq "" "$(ids)" "queue after delete"
assert_eq 0 "$(find "$T/queue" -type f | wc -l)" "files after delete"
assert_contains "$T/sendq.log" "${q2[0]}: deleted by uid 0"
assert_exit 66 "$SENDQ" -C "$T/sendq.conf" delete "${q2[0]}"
echo ok
