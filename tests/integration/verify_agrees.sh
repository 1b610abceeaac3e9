#!/bin/bash
# sendmail -bv resolves addresses as a submission does, through the one
# resolver (lib/resolve.c): the same exit status and message for a -f
# the caller may not give (77), a malformed -f (67), more than 1000
# recipients (65) and an alias that cannot be expanded (67); each final
# address listed once, in the order in which the smarthost then
# receives the message's recipients; and a notification to postmaster
# goes to the addresses that -bv lists for postmaster.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD"
cat >"$T/aliases" <<'AL'
postmaster: root
root: ops@example.org, oncall, \root
oncall: pager@example.net, ops@example.org
team: ann@example.org, bob, bob@EXAMPLE.com
loop1: loop2
loop2: loop1
AL
q_conf global.aliases_file="\"$T/aliases\""

# finals FILE: the final address of each "deliverable" line, in order.
finals() {
	sed -nE -e 's/^.*\.\.\. deliverable: as ([^,]*), via account .*/\1/p' \
	    -e 't' -e 's/^(.*)\.\.\. deliverable: via account .*/\1/p' "$1" |
	    xargs
}
# same CODE CMD...: CMD -bv and CMD as a submission (-odq) both exit
# CODE; their output in $T/bv.out, $T/bv.err and $T/sub.err.
same() {
	local want=$1 rc=0
	shift
	"$@" -bv >"$T/bv.out" 2>"$T/bv.err" || rc=$?
	[ "$rc" = "$want" ] || fail "-bv exited $rc, not $want: $(cat "$T/bv.err")"
	rc=0
	printf 'Subject: same\n\nbody\n' | "$@" -odq 2>"$T/sub.err" || rc=$?
	[ "$rc" = "$want" ] || fail "the submission exited $rc, not $want"
}

echo "each final address once, in the order the smarthost receives them"
"$SENDMAIL" -C "$T/sendq.conf" -bv team bob@example.com root \
    ops@example.org >"$T/out" || fail "-bv exited $?"
cat "$T/out"
want="ann@example.org bob@example.com ops@example.org pager@example.net root@example.com"
assert_eq "$want" "$(finals "$T/out")" "-bv's final addresses"
assert_eq 5 "$(wc -l <"$T/out")" "-bv's lines"
assert_contains -F "$T/out" "team... deliverable: as bob@example.com, via account default (localhost:$FPORT)"
assert_not_contains "$T/out" '^ops@example\.org\.\.\.'
printf 'Subject: dups\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" team bob@example.com root \
    ops@example.org
fixture_wait_msgs relay 1
assert_eq "$want" "$(fixture_field relay 1 rcpt_tos | xargs)" "RCPT TO"

echo "an alias that cannot be expanded: 67 for both, nothing queued"
same 67 "$SENDMAIL" -C "$T/sendq.conf" loop1 bob@example.org
assert_contains -F "$T/bv.out" 'loop1... undeliverable: alias loop: loop1 -> loop2 -> loop1'
assert_contains -F "$T/sub.err" 'alias loop: loop1 -> loop2 -> loop1'
assert_contains -F "$T/bv.out" 'bob@example.org... deliverable: via account default'

echo "a malformed -f: 67 for both"
same 67 "$SENDMAIL" -C "$T/sendq.conf" -f 'a@@example.com' bob@example.org
assert_contains "$T/bv.err" 'bad sender address'
assert_file_eq "$T/sub.err" "$T/bv.err" "what -bv and a submission say"
assert_eq 0 "$(wc -c <"$T/bv.out")" "-bv's lines"

echo "more than 1000 recipients: 65 for both; 1000 are fine"
mapfile -t many < <(seq -f 'u%g@example.org' 1 1001)
same 65 "$SENDMAIL" -C "$T/sendq.conf" "${many[@]}"
assert_contains "$T/bv.err" 'more than 1000 recipients$'
assert_file_eq "$T/sub.err" "$T/bv.err" "what -bv and a submission say"
"$SENDMAIL" -C "$T/sendq.conf" -bv "${many[@]:1}" >"$T/out" ||
    fail "-bv of 1000 exited $?"
assert_eq 1000 "$(wc -l <"$T/out")" "-bv's lines"
assert_eq 0 "$(q_count)" "queued"

echo "a -f the caller may not give: 77 for both"
q_nobody_conf 'allow_from_override = false'
same 77 as_nobody "$SENDMAIL" -C "$pub/sendq.conf" -f ceo@example.com \
    bob@example.org
assert_contains -F "$T/bv.err" 'sender ceo@example.com: not allowed (allow_from_override = false)'
assert_file_eq "$T/sub.err" "$T/bv.err" "what -bv and a submission say"
as_nobody "$SENDMAIL" -C "$pub/sendq.conf" -bv bob@example.org >"$T/out" ||
    fail "-bv without -f exited $?"
assert_contains -F "$T/out" 'bob@example.org... deliverable: via account default'
assert_eq 0 "$(find "$pub/queue" -name '*.ctl' | wc -l)" "queued as nobody"

echo "postmaster's notification goes where -bv says postmaster goes"
q_conf global.aliases_file="\"$T/aliases\"" global.bounce=postmaster \
    global.postmaster='"postmaster"'
"$SENDMAIL" -C "$T/sendq.conf" -bv postmaster >"$T/out" ||
    fail "-bv exited $?"
want="ops@example.org pager@example.net root@example.com"
assert_eq "$want" "$(finals "$T/out")" "-bv's final addresses"
fixture_faults relay 'RCPT:carol@example.org=550 5.1.1 no such user'
n=$(fixture_msgs relay)
printf 'Subject: refused\n\nbody\n' |
    assert_exit 0 "$SENDMAIL" -C "$T/sendq.conf" -f me@example.com \
    carol@example.org
fixture_wait_msgs relay $((n + 1))
assert_eq "" "$(fixture_field relay $((n + 1)) mail_from)" "MAIL FROM"
assert_eq "$want" "$(fixture_field relay $((n + 1)) rcpt_tos | xargs)" \
    "the notification's RCPT TO"
echo ok
