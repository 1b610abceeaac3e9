#!/bin/bash
# rate_limit: the N+1-th submission in the window exits 75, and a
# refused submission does not count.  As an unprivileged user (setpriv
# to nobody): -f with allow_from_override = false exits 77, and so does
# -q without a configuration of the user's own.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
q_conf global.rate_limit='"2/h"'

send() { printf 'Subject: %s\n\nbody\n' "$1" | "$SENDMAIL" -C "$T/sendq.conf" -odq "${@:2}"; }
assert_exit 0 send one bob@example.org
printf 'Subject: none\n\nbody\n' |
    assert_exit 65 "$SENDMAIL" -C "$T/sendq.conf" -odq -t
assert_exit 0 send two bob@example.org
assert_exit 75 send three bob@example.org
assert_eq 2 "$(q_count)" "queued under the limit"
assert_contains "$T/sendq.log" 'rate limit of 2 messages in 3600 seconds reached for uid 0; try later$'

echo "an unprivileged caller"
q_nobody_conf 'allow_from_override = false'
printf 'Subject: x\n\nbody\n' |
    assert_exit 77 as_nobody "$SENDMAIL" -C "$pub/sendq.conf" -odq \
    -f ceo@example.com bob@example.org
printf 'Subject: x\n\nbody\n' |
    assert_exit 0 as_nobody "$SENDMAIL" -C "$pub/sendq.conf" -odq bob@example.org
assert_eq 1 "$(find "$pub/queue" -name '*.ctl' | wc -l)" "queued as nobody"
grep -q '^sender nobody@example.com$' "$pub"/queue/*.ctl ||
    fail "sender is not nobody@example.com"
assert_exit 77 as_nobody "$SENDMAIL" -q
echo ok
