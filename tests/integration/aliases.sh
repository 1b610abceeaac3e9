#!/bin/bash
# Aliases from aliases_file and inline sections: expanded recursively
# before qualification, a loop refused with its chain (67, nothing
# queued), the inline ones first; -bi counts them, -bv shows where each
# address goes and sends nothing.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
cat >"$T/aliases" <<'AL'
# system aliases
postmaster: root
root: ops@example.org, oncall
oncall: pager@example.net,
	ops@example.org
team: "Ann A." <ann@example.org>, bob@example.org
webmaster: nobody-here@example.org
loop1: loop2
loop2: loop3
loop3: loop1
AL
q_conf global.aliases_file="\"$T/aliases\"" global.delivery=interactive
cat >>"$T/sendq.conf" <<'CONF'
alias webmaster {
    to = { "web@example.org" }
}
CONF

echo "recursive expansion, envelope only"
printf 'To: postmaster\nSubject: alias\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -t
fixture_wait_msgs relay 1
assert_eq "ops@example.org pager@example.net" \
    "$(fixture_field relay 1 rcpt_tos | sort | xargs)" "expanded recipients"
assert_contains "$(fixture_eml relay 1)" '^To: postmaster@example\.com'$'\r''$'

echo "inline aliases first; display names kept out of the envelope"
printf 'Subject: team\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" webmaster team
fixture_wait_msgs relay 2
assert_eq "ann@example.org bob@example.org web@example.org" \
    "$(fixture_field relay 2 rcpt_tos | sort | xargs)" "inline and file"

echo "-bs expands aliases the same way"
printf 'EHLO me\r\nMAIL FROM:<www@example.com>\r\nRCPT TO:<team>\r\nDATA\r\nSubject: bs\r\n\r\nbody\r\n.\r\nQUIT\r\n' |
    "$SENDMAIL" -C "$T/sendq.conf" -bs >"$T/bs.out" || fail "-bs exit $?"
assert_contains "$T/bs.out" '^250 2\.0\.0 Ok: queued as [0-9A-F]{12}'$'\r''$'
fixture_wait_msgs relay 3
assert_eq "ann@example.org bob@example.org" \
    "$(fixture_field relay 3 rcpt_tos | sort | xargs)" "-bs alias"
# -bs delivers in the background: the message goes after the server's 250.
wait_until 10 queue_is 0

echo "a loop"
printf 'Subject: loop\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" loop1 \
    2>"$T/err" && rc=0 || rc=$?
assert_eq 67 "$rc" "exit status for an alias loop"
assert_contains "$T/err" 'alias loop: loop1 -> loop2 -> loop3 -> loop1'
assert_eq 0 "$(q_count)" "queued"

echo "-bi and newaliases"
"$SENDMAIL" -C "$T/sendq.conf" -bi >"$T/out" 2>"$T/err" || fail "-bi exit $?"
assert_eq "$T/aliases: 8 aliases" "$(cat "$T/out")" "-bi"
assert_contains "$T/err" 'webmaster is hidden by the inline alias'
ln -s "$SENDMAIL" "$T/newaliases"
"$T/newaliases" -C "$T/sendq.conf" >"$T/out2" 2>/dev/null || fail "newaliases exit $?"
assert_file_eq "$T/out" "$T/out2" "newaliases"
printf 'bad line without colon\n' >"$T/bad-aliases"
q_conf global.aliases_file="\"$T/bad-aliases\""
assert_exit 78 "$SENDMAIL" -C "$T/sendq.conf" -bi

echo "-bv"
q_conf global.aliases_file="\"$T/aliases\""
"$SENDMAIL" -C "$T/sendq.conf" -bv root bob@example.org >"$T/out" ||
    fail "-bv exit $?"
cat "$T/out"
assert_contains "$T/out" "^root\\.\\.\\. deliverable: as ops@example\\.org, via account default \\(localhost:$FPORT\\)\$"
assert_contains "$T/out" "^root\\.\\.\\. deliverable: as pager@example\\.net, via account default"
assert_contains "$T/out" "^bob@example\\.org\\.\\.\\. deliverable: via account default"
assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -bv loop2
assert_eq 3 "$(fixture_msgs relay)" "messages sent by -bi and -bv"
assert_eq 0 "$(q_count)" "queued by -bv"
echo ok
