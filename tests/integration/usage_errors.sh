#!/bin/bash
# Bad configuration exits 78 naming file and line; bad command lines
# exit 64; a message without recipients exits 65; none leaves a file.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
t_certs
q_conf
printf 'hostname = "h.example.com"\nqueue_dir = "%s"\nbogus_key = 1\n' \
    "$T/queue" >"$T/bad.conf"
out=$(echo x | "$SENDMAIL" -C "$T/bad.conf" bob@example.org 2>&1) && rc=0 || rc=$?
assert_eq 78 "$rc" "exit status for a config error"
assert_contains "$out" "$T/bad.conf:3: .*bogus_key"

echo x | assert_exit 78 "$SENDMAIL" -C "$T/no-such.conf" bob@example.org
assert_exit 78 "$SENDQ" -C "$T/no-such.conf" check
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -Z bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" - bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -f -oQ/tmp bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -f-oQ/tmp bob@example.org
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf" -bd
echo x | assert_exit 64 "$SENDMAIL" -C "$T/sendq.conf"
printf 'Subject: nobody\n\nbody\n' |
    assert_exit 65 "$SENDMAIL" -C "$T/sendq.conf" -t
"$PYTHON" -c "print('To: ' + ', '.join('u%d@example.org' % i for i in range(1001)) + '\n\nbody')" |
    assert_exit 65 "$SENDMAIL" -C "$T/sendq.conf" -odq -t
"$PYTHON" -c "print('To: ' + ', '.join('u%d@example.org' % i for i in range(600)) + '\nCc: ' + ', '.join('v%d@example.org' % i for i in range(600)) + '\n\nbody')" |
    assert_exit 65 "$SENDMAIL" -C "$T/sendq.conf" -odq -t
q_conf global.max_message_size=1K
{ printf 'Subject: big\n\n'; head -c 5000 /dev/zero | tr '\0' x; } |
    assert_exit 65 "$SENDMAIL" -C "$T/sendq.conf" -odq bob@example.org
q_conf
printf 'To: Broken Name broken@example.org\n\nbody\n' |
    assert_exit 67 "$SENDMAIL" -C "$T/sendq.conf" -t
assert_eq 0 "$(find "$T/queue" -type f | wc -l)" "files left in the queue"
# Accepted-and-ignored options are named by -v.
printf 'Subject: x\n\nbody\n' | "$SENDMAIL" -C "$T/sendq.conf" -odq -v -oem \
    -U -h 5 -Am -L tag -n bob@example.org 2>"$T/err" || fail "exit $?"
assert_contains "$T/err" '^sendmail: accepted and ignored: -oem -U -h 5 -Am -L tag -n$'
rm -rf "$T/queue"
echo ok
