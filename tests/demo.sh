#!/bin/bash
# make demo: a throwaway STARTTLS+AUTH smarthost on loopback, a message
# through sendmail -t, and what the smarthost received.
set -eu
build=${1:-$(pwd)}
# sendmail delivers by running sendq: the one built here.
export SENDQ_PROGRAM=$build/cmd/sendq/sendq
top=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
d=$(mktemp -d "${TMPDIR:-/tmp}/sendq-demo.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT

echo "== a throwaway smarthost: 127.0.0.1, STARTTLS, AUTH as demo"
bash "$top/tests/fixtures/mkcerts.sh" "$d/certs" >/dev/null
mkdir "$d/server"
"$py" "$top/tests/fixtures/smtpd.py" --dir "$d/server" --starttls \
    --cert "$d/certs/server.pem" --key "$d/certs/server.key" \
    --user demo --password demo-password --require-auth \
    2>"$d/server.err" &
pid=$!
for _ in $(seq 100); do [ -s "$d/server/port" ] && break; sleep 0.1; done
[ -s "$d/server/port" ] || { cat "$d/server.err"; exit 1; }
port=$(cat "$d/server/port")

cat >"$d/sendq.conf" <<CONF
hostname  = "demo.example.com"
domain    = "example.com"
queue_dir = "$d/queue"
socket    = "$d/sendq.sock"        # no daemon here: sendmail delivers itself
log       = stderr
account "default" {
    host        = { "localhost:$port" }
    tls         = starttls
    tls_ca_file = "$d/certs/ca.pem"
    user        = "demo"
    password    = "demo-password"
}
CONF
echo "== the configuration ($d/sendq.conf)"
sed 's/^/   /' "$d/sendq.conf"

echo "== sendmail -t -odi, with -v showing the SMTP dialogue"
"$build/cmd/sendmail/sendmail" -C "$d/sendq.conf" -t -odi -v <<'MSG'
From: Demo <www-data@example.com>
To: Someone <someone@example.org>
Bcc: hidden@example.org
Subject: Hello from sendq

This message went through sendq's queue, STARTTLS and AUTH.
.A line that starts with a dot stays as it is.
MSG
echo "   sendmail exited $?"

for _ in $(seq 100); do
	[ -e "$d/server/msgs/000001.json" ] && break
	sleep 0.1
done
echo "== the envelope the smarthost received"
"$py" -c 'import json,sys; e=json.load(open(sys.argv[1]))
print("   MAIL FROM:<%s>  RCPT TO:%s" % (e["mail_from"], ", ".join("<%s>" % r for r in e["rcpt_tos"])))
print("   AUTH %s as %s over %s" % (e["auth_mech"], e["auth_user"], e["tls"]["version"]))' \
    "$d/server/msgs/000001.json"
echo "== the message exactly as the smarthost received it (CRLF shown as \$)"
sed 's/\r$/$/' "$d/server/msgs/000001.eml" | sed 's/^/   /'
echo "== the queue after delivery: $(find "$d/queue" -name '*.ctl' | wc -l) message(s)"
