#!/bin/bash
# A session kept open between messages that the server has meanwhile
# closed (its limit of messages per connection: 421 to MAIL; or the
# connection simply gone) is replaced at once by a new one: the message
# goes in the same attempt, not deferred.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"

t_tmpdir
t_certs
fixture_start relay --starttls --cert "$CERTS/server.pem" \
    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
    --require-auth --fault 'MAIL#2=421 4.7.0 too many messages, closing' \
    --fault 'MAIL#4=disconnect'
q_conf
for i in 1 2 3 4; do
	printf 'Subject: m%s\n\nx\n' "$i" |
	    "$SENDMAIL" -C "$T/sendq.conf" -odq "m$i@example.org"
done
assert_exit 0 "$SENDQ" -C "$T/sendq.conf" flush
assert_eq 4 "$(fixture_msgs relay)" "messages sent"
assert_eq 0 "$(q_count)" "messages left"
assert_eq 3 "$(fixture_sessions relay)" "sessions"
assert_eq 2 "$(grep -c 'a new session takes the message' "$T/sendq.log")" \
    "sessions replaced"
assert_not_contains "$T/sendq.log" 'status=deferred'
assert_eq 4 "$(grep -c 'tries=1, status=sent' "$T/sendq.log")" "first tries"
