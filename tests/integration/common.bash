# common.bash - sendq-side helpers for integration tests, next to lib.sh
# (which runs the SMTP fixture).  Source after lib.sh.
#
#   SENDMAIL, SENDQ     the built programs ($SENDQ_BUILD, default the tree);
#                       SENDQ_PROGRAM (exported) makes sendmail run this
#                       sendq to deliver
#   q_conf [KEY=VALUE...]
#                       write $T/sendq.conf: queue $T/queue, log
#                       $T/sendq.log, one account "default" at
#                       localhost:$FPORT with STARTTLS, the test CA and
#                       AUTH as alice.  Each KEY=VALUE replaces or adds an
#                       account key (VALUE written as is: quote strings);
#                       a key prefixed with "global." sets a top-level key.
#   q_count             number of messages in the queue
#   q_failed_count      number of messages in failed/
#   PASSWORD            the account's password (tests grep logs for it)
#   q_install           (as root) build without sanitizers (their runtimes
#                       cannot work set-group-ID) with the paths it is
#                       installed at, so that sendmail finds its sendq, and
#                       `make install` into $T/inst; sets p=$T/inst and
#                       s=$p/spool; the daemon's socket is $p/run/sendq.sock.  Build output in $T/build.log and
#                       $T/install.log.
#   q_nobody_conf [LINE...]
#                       (as root) a configuration nobody may read, in
#                       $pub=$T/pub, whose queue (and log) nobody owns, with
#                       these extra top-level lines: for the programs run
#                       by nobody with -C, with nobody's own rights
#   as_nobody CMD...    run CMD as nobody:nogroup, no other group
#   prom_samples FILE   read FILE (Prometheus text) with Debian's
#                       prometheus_client parser (fails if it cannot) and
#                       print one line per sample, 'name{k=v,...} value'
#                       (labels sorted, value as %g), and per family
#                       'TYPE family type'
#   prom_has SAMPLES LINE...
#                       fail unless each LINE is a whole line of SAMPLES
#                       (prom_samples' output)
#   as_member CMD...    the same, with group sendq (the spool's writers)
#   as_daemon CMD...    run CMD as daemon, another unprivileged user

SENDQ_BUILD=${SENDQ_BUILD:-$TOP}
SENDMAIL=$SENDQ_BUILD/cmd/sendmail/sendmail
SENDQ=$SENDQ_BUILD/cmd/sendq/sendq
# sendmail delivers by running sendq: this one, not an installed one
# (honoured only when sendmail runs without privileges).
export SENDQ_PROGRAM=$SENDQ
PASSWORD='Xy7-secret-Pw9'
[ -x "$SENDMAIL" ] || fail "$SENDMAIL not built (run make)"

q_conf() {
	local kv key val
	declare -A acct=(
		[host]="{ \"localhost:${FPORT:-25}\" }"
		[tls]=starttls
		[tls_ca_file]="\"$CERTS/ca.pem\""
		[user]='"alice"'
		[password]="\"$PASSWORD\""
		[timeout]=10s
	)
	declare -A glob=(
		[hostname]='"client.example.com"'
		[domain]='"example.com"'
		[queue_dir]="\"$T/queue\""
		[log]="\"$T/sendq.log\""
		[aliases_file]='""'
		[retry_min]=1s
		[retry_max]=2s
	)
	for kv in "$@"; do
		key=${kv%%=*}
		val=${kv#*=}
		case $key in
		global.*) glob[${key#global.}]=$val ;;
		*) acct[$key]=$val ;;
		esac
	done
	{
		for key in "${!glob[@]}"; do
			[ "${glob[$key]}" = "-" ] || echo "$key = ${glob[$key]}"
		done
		echo 'account "default" {'
		for key in "${!acct[@]}"; do
			[ "${acct[$key]}" = "-" ] || echo "    $key = ${acct[$key]}"
		done
		echo '}'
	} >"$T/sendq.conf"
}

q_count() {
	find "$T/queue" -maxdepth 1 -name '*.ctl' 2>/dev/null | wc -l
}

# No delivery holds a queued message: each data file's lock is free (a
# run that finds one locked skips it as busy).
q_unlocked() {
	local f
	for f in "$T"/queue/*.msg; do
		[ -e "$f" ] || continue
		flock -n "$f" true || return 1
	done
}

q_failed_count() {
	find "$T/queue/failed" -maxdepth 1 -name '*.ctl' 2>/dev/null | wc -l
}

# For wait_until: N messages in the queue, N in failed/.
queue_is() { [ "$(q_count)" = "$1" ]; }
failed_is() { [ "$(q_failed_count)" = "$1" ]; }

q_install() {
	local vars
	[ "$(id -u)" = 0 ] || fail "this test needs root (make install, setpriv)"
	chmod 0711 "$T"
	p=$T/inst
	s=$p/spool
	vars=(SANITIZE= PREFIX="$p" SYSCONFDIR="$p/etc" SPOOLDIR="$s" RUNDIR="$p/run"
	    UNITDIR="$p/units")
	make -s -C "$TOP" O="$T/build" "${vars[@]}" all >"$T/build.log" 2>&1 ||
	    fail "build failed: $(cat "$T/build.log")"
	make -s -C "$TOP" O="$T/build" "${vars[@]}" install \
	    >"$T/install.log" 2>&1 ||
	    fail "make install failed: $(cat "$T/install.log")"
	chmod 0755 "$p" "$p/etc"
}

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

prom_samples() {
	/usr/bin/python3 - "$1" <<'PY' || fail "$1 does not parse as Prometheus text"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    print("TYPE %s %s" % (fam.name, fam.type))
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %g" % (s.name, labels, s.value))
PY
}

prom_has() {
	local f=$1 l
	shift
	for l in "$@"; do
		grep -qxF -- "$l" "$f" || fail "no '$l' among the samples: $(cat "$f")"
	done
}
as_member() { setpriv --reuid=nobody --regid=nogroup --groups=sendq -- "$@"; }
as_daemon() { setpriv --reuid=daemon --regid=daemon --clear-groups -- "$@"; }

q_nobody_conf() {
	local line
	[ "$(id -u)" = 0 ] || fail "this test needs root (to become nobody)"
	chmod 0711 "$T"
	pub=$T/pub
	mkdir -m 0755 "$pub"
	mkdir -m 0700 "$pub/queue"
	chown nobody "$pub/queue"
	{
		printf 'hostname = "client.example.com"\n'
		printf 'domain = "example.com"\n'
		printf 'queue_dir = "%s"\n' "$pub/queue"
		printf 'log = "%s"\n' "$pub/queue/log"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$pub/sendq.conf"
	chmod 0644 "$pub/sendq.conf"
}

# The delivery daemon (sendq daemon), for tests that run it:
#   q_daemon_setup      (as root) make $T reachable for the sendq user and
#                       $T/queue its spool (root:sendq 2770, as installed);
#                       the configuration must name global.socket =
#                       "$T/run/sendq.sock" (q_conf then makes it readable
#                       by group sendq)
#   q_daemon_start      start it in the background as root (it becomes the
#                       sendq user), wait for its socket; DPID is its pid
#   q_daemon_stop       SIGTERM; fail unless it exits 0 within 20 s, or when
#                       the daemon or a child of it wrote a sanitizer report
q_daemon_setup() {
	[ "$(id -u)" = 0 ] || fail "this test needs root (the daemon's user)"
	getent group sendq >/dev/null || groupadd --system sendq ||
	    fail "cannot create group sendq"
	getent passwd sendq >/dev/null ||
	    useradd --system --gid sendq --home-dir /nonexistent \
	    --no-create-home --shell /usr/sbin/nologin sendq ||
	    fail "cannot create user sendq"
	chmod 0711 "$T"
	mkdir -p "$T/queue"
	chgrp sendq "$T/queue"
	chmod 2770 "$T/queue"
}

q_daemon_start() {
	chgrp sendq "$T/sendq.conf"
	chmod 0640 "$T/sendq.conf"
	"$SENDQ" -C "$T/sendq.conf" daemon 2>>"$T/daemon.err" &
	DPID=$!
	t_on_exit "kill $DPID 2>/dev/null || true"
	wait_until 10 test -S "$T/run/sendq.sock"
}

q_daemon_stop() {
	local i
	kill -TERM "$DPID"
	for i in $(seq 200); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DPID" 2>/dev/null && fail "the daemon did not stop on SIGTERM"
	wait "$DPID" || fail "the daemon exited $? on SIGTERM"
	# Its sessions and submissions write here too.
	if grep -Eq 'Sanitizer|runtime error' "$T/daemon.err"; then
		fail "sanitizer report: $(cat "$T/daemon.err")"
	fi
}
