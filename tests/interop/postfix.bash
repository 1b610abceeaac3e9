# postfix.bash - a private Postfix smarthost with Dovecot SASL, for the
# interoperability tests.  Source it after lib.sh and common.bash (not a
# test itself: the runner only picks up *.sh):
#
#   . "$(dirname "$0")/../integration/lib.sh"
#   . "$(dirname "$0")/../integration/common.bash"
#   . "$(dirname "$0")/postfix.bash"
#   t_tmpdir
#   mta_start rcpt
#   FPORT=$PF_SUBMISSION_PORT q_conf
#   ... submit to rcpt@$PF_DOMAIN ...
#   pf_wait_mail rcpt 1
#   mta_stop
#
# Needs root and Debian's postfix and dovecot-core packages.  Everything
# lives under $T: nothing in /etc/postfix, /var/spool/postfix or
# /etc/dovecot is read or changed, and /usr/sbin/sendmail (which the
# postfix package replaces with its own) is never used.  Only 127.0.0.1 is
# listened on, on two ports chosen free at run time; Dovecot has no network
# listener at all.
#
# Postfix (config_directory $PF_CONF, queue $PF_DIR/spool):
#   127.0.0.1:$PF_SUBMISSION_PORT  submission: STARTTLS required, AUTH
#                                  only after TLS, relay only when
#                                  authenticated; logs as postfix/submission
#   127.0.0.1:$PF_SMTPS_PORT       the same with implicit TLS
#                                  (smtpd_tls_wrappermode); postfix/smtps
#   Server certificate: $CERTS/server.pem (CN=localhost, from t_certs).
#   $PF_DOMAIN is a virtual mailbox domain: mail to USER@$PF_DOMAIN goes
#   to the Maildir $PF_DIR/mail/USER/ for each USER named to mta_start,
#   any other address of the domain to $PF_DIR/mail/catchall/.  Nothing
#   leaves the instance: every other domain goes to the error transport.
#   Log: $PF_DIR/postfix.log (maillog_file, written by postlogd).
# Dovecot (config $DC_DIR/dovecot.conf, base_dir $DC_DIR/run): the auth
#   service only, one user alice / $PASSWORD stored {PLAIN}, mechanisms
#   $DC_MECHS; Postfix talks to it on $DC_DIR/run/auth-postfix.
#   Log: $DC_DIR/dovecot.log.
#
# Functions
#   mta_prereqs         fail unless root, the packages and their users exist
#   mta_start [USER...] t_certs, then start Dovecot and Postfix (with a
#                       mailbox USER@$PF_DOMAIN for each USER) and wait
#                       until both serve; registers mta_stop with t_on_exit
#   mta_stop            stop both and wait until every process of either is
#                       gone; fails if one is left (safe to call twice)
#   pf_mail_count USER  number of messages delivered to USER@$PF_DOMAIN
#                       (USER "catchall": to addresses not given to mta_start)
#   pf_wait_mail USER N [SECS]
#                       wait (default 15 s) until USER has >= N messages
#   pf_mail USER N      print the path of USER's Nth message (oldest first)
#   pf_log              print the path of Postfix's log
#   pf_log_mark         print the log's current size (for pf_log_since)
#   pf_log_since MARK   print what was logged after pf_log_mark said MARK
#   pf_wait_log MARK PATTERN [SECS]
#                       wait (default 10 s) until a line logged after MARK
#                       matches the extended regex PATTERN
#   pf_queue_ids        the IDs of the messages in Postfix's queue
#   port_listening PORT some socket listens on TCP port PORT

PF_DOMAIN=sendq.test
DC_MECHS="plain login cram-md5 scram-sha-1 scram-sha-256"

mta_prereqs() {
	local c u
	[ "$(id -u)" = 0 ] || fail "the Postfix interop tests must run as root"
	for c in postfix postconf /usr/lib/postfix/sbin/master dovecot doveadm runuser setsid; do
		command -v "$c" >/dev/null ||
		    fail "$c not found (apt-get install postfix dovecot-core)"
	done
	for u in postfix dovecot dovenull; do
		id "$u" >/dev/null 2>&1 ||
		    fail "no user $u (apt-get install postfix dovecot-core)"
	done
}

# _pgrp_pids PGID: the live (non-zombie) processes in process group PGID
_pgrp_pids() {
	local f st rest state pgrp pid
	for f in /proc/[0-9]*/stat; do
		st=$(cat "$f" 2>/dev/null) || continue
		pid=${st%% *}
		rest=${st##*) }
		read -r state _ pgrp _ <<<"$rest"
		[ "$pgrp" = "$1" ] && [ "$state" != Z ] && echo "$pid"
	done
	return 0
}

_pgrp_gone() { [ -z "$(_pgrp_pids "$1")" ]; }

# _stop_group NAME PID: PID is a master process that was just told to
# stop.  Wait up to 10 s for its process group (Postfix's and Dovecot's
# masters each lead one, holding all their children) to exit, then SIGKILL
# what is left; return 1 if anything had to be killed or stays.
_stop_group() {
	local name=$1 pgid i left
	pgid=$(ps_pgid "$2") || pgid=$2
	if [ "$pgid" != "$2" ]; then
		# Not a group leader: never signal a group we may be part of.
		echo "WARNING: $name master $2 does not lead its process group" >&2
		for ((i = 0; i < 100; i++)); do
			ps_gone "$2" && return 0
			sleep 0.1
		done
		echo "ERROR: $name master $2 still runs 10 s after stop" >&2
		return 1
	fi
	for ((i = 0; i < 100; i++)); do
		_pgrp_gone "$pgid" && return 0
		sleep 0.1
	done
	left=$(_pgrp_pids "$pgid" | xargs)
	echo "WARNING: $name processes still running 10 s after stop: $left; killing them" >&2
	kill -KILL -- "-$pgid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		_pgrp_gone "$pgid" && return 1
		sleep 0.1
	done
	echo "ERROR: $name process group $pgid survives SIGKILL" >&2
	return 1
}

# port_listening PORT: some socket listens on TCP port PORT (any address,
# IPv4 or IPv6).  Reads /proc, so probing makes no connection (and no
# noise in Postfix's log).
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# _wait_master NAME JOB PIDFILE LOG...: wait until background job JOB has
# started a master that wrote PIDFILE; set MASTER_PID.  Fail, showing the
# LOGs, if JOB exits first or nothing happens within 10 s.
_wait_master() {
	local name=$1 job=$2 pidfile=$3 i pid
	shift 3
	for ((i = 0; i < 100; i++)); do
		pid=$(_master_pid "$pidfile")
		if [ -n "$pid" ] && ! ps_gone "$pid"; then
			MASTER_PID=$pid
			return 0
		fi
		ps_gone "$job" && break
		sleep 0.1
	done
	fail "$name did not start: $(tail -n 20 "$@" 2>/dev/null)"
}

# _reap NAME JOB: wait (at most 10 s) for background job JOB to exit;
# if it does not, SIGKILL it (and its process group if it leads one) and
# return 1.
_reap() {
	local i rc=0
	for ((i = 0; i < 100; i++)); do
		ps_gone "$2" && break
		sleep 0.1
	done
	if ! ps_gone "$2"; then
		echo "ERROR: $1 job $2 still runs; killing it" >&2
		if [ "$(ps_pgid "$2")" = "$2" ]; then
			kill -KILL -- "-$2" 2>/dev/null
		else
			kill -KILL "$2" 2>/dev/null
		fi
		rc=1
	fi
	wait "$2" 2>/dev/null
	return "$rc"
}

# _master_pid PIDFILE: print the PID in PIDFILE, if any
_master_pid() {
	[ -s "$1" ] && tr -d ' \n' <"$1"
	return 0
}

# ------------------------------------------------------------ Dovecot

dc_start() {
	DC_DIR=$T/dovecot
	mkdir -p "$DC_DIR/state"
	# {PLAIN}: PLAIN, LOGIN, CRAM-MD5 and both SCRAMs can all be served.
	printf 'alice:{PLAIN}%s::::::\n' "$PASSWORD" >"$DC_DIR/passwd"
	chmod 0640 "$DC_DIR/passwd"
	chgrp dovecot "$DC_DIR/passwd"
	cat >"$DC_DIR/dovecot.conf" <<EOF
# sendq interop test: Dovecot as a SASL server for Postfix, nothing else.
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
instance_name = sendq-test-$$
protocols = none
listen = 127.0.0.1
ssl = no
log_path = $DC_DIR/dovecot.log
info_log_path = $DC_DIR/dovecot.log
auth_verbose = yes
auth_mechanisms = $DC_MECHS
disable_plaintext_auth = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC_DIR/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
EOF
	# In the foreground, as our child (so that we reap it), in a session
	# of its own (so that its process group holds Dovecot and nothing else).
	setsid -w dovecot -F -c "$DC_DIR/dovecot.conf" \
	    </dev/null >"$DC_DIR/start.out" 2>&1 &
	DC_JOB=$!
	_wait_master dovecot "$DC_JOB" "$DC_DIR/run/master.pid" \
	    "$DC_DIR/start.out" "$DC_DIR/dovecot.log"
	DC_PID=$MASTER_PID
	wait_until 10 test -S "$DC_DIR/run/auth-postfix"
	runuser -u postfix -- test -w "$DC_DIR/run/auth-postfix" ||
	    fail "user postfix cannot reach $DC_DIR/run/auth-postfix"
	# The auth service starts on first use: a bad passdb or mechanism
	# shows only then.
	doveadm -c "$DC_DIR/dovecot.conf" auth test alice "$PASSWORD" \
	    >"$DC_DIR/authtest.out" 2>&1 ||
	    fail "Dovecot does not authenticate alice: $(cat "$DC_DIR/authtest.out"; tail -n 5 "$DC_DIR/dovecot.log")"
}

dc_stop() {
	local pid=${DC_PID:-} job=${DC_JOB:-} rc=0
	[ -n "$job" ] || return 0
	# A master that started but was not waited for still wrote its pid.
	[ -n "$pid" ] || pid=$(_master_pid "$DC_DIR/run/master.pid")
	DC_PID='' DC_JOB=''
	if [ -n "$pid" ] && ! ps_gone "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		_stop_group dovecot "$pid" || rc=1
	fi
	_reap dovecot "$job" || rc=1
	return "$rc"
}

# ps_gone PID: PID has exited (or is a zombie)
ps_gone() {
	local st rest state
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	rest=${st##*) }
	read -r state _ <<<"$rest"
	[ "$state" = Z ]
}

# ps_pgid PID: print PID's process group, fail if PID is gone
ps_pgid() {
	local st rest pgrp
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	rest=${st##*) }
	read -r _ _ pgrp _ <<<"$rest"
	echo "$pgrp"
}

# ------------------------------------------------------------ Postfix

pf_start() {
	local p
	PF_DIR=$T/postfix
	PF_CONF=$PF_DIR/etc
	mkdir -p "$PF_CONF" "$PF_DIR/spool" "$PF_DIR/data" "$PF_DIR/mail"
	chown postfix:postfix "$PF_DIR/data"
	chown nobody:nogroup "$PF_DIR/mail"
	: >"$PF_DIR/postfix.log"
	PF_SUBMISSION_PORT=$(t_unused_port)
	PF_SMTPS_PORT=$(t_unused_port)
	while [ "$PF_SMTPS_PORT" = "$PF_SUBMISSION_PORT" ]; do
		PF_SMTPS_PORT=$(t_unused_port)
	done
	# Each named user a Maildir of its own, any other address of the
	# domain the Maildir "catchall".  (virtual(8) refuses regexp
	# substitutions in virtual_mailbox_maps, hence a fixed list.)
	{
		for p in "$@"; do
			printf '%s@%s %s/\n' "$p" "$PF_DOMAIN" "$p"
		done
		printf '@%s catchall/\n' "$PF_DOMAIN"
	} >"$PF_CONF/vmailbox"
	cat >"$PF_CONF/main.cf" <<EOF
# sendq interop test: a private Postfix on 127.0.0.1 only.
compatibility_level = 3.6
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_DIR/postfix.log
maillog_file_prefixes = $PF_DIR
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.$PF_DOMAIN
mydomain = $PF_DOMAIN
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
biff = no
smtpd_banner = \$myhostname ESMTP
# No DNS, no outbound mail.
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
default_transport = error:outbound mail is disabled in the sendq test instance
relay_transport = \$default_transport
# Final delivery: Maildirs under $PF_DIR/mail, owned by nobody.
virtual_mailbox_domains = $PF_DOMAIN
virtual_mailbox_base = $PF_DIR/mail
virtual_mailbox_maps = texthash:$PF_CONF/vmailbox
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)
# TLS with the test PKI; AUTH only after TLS.
smtpd_tls_chain_files = $CERTS/server.key, $CERTS/server.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
# SASL through Dovecot.
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DC_DIR/run/auth-postfix
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_client_restrictions = permit_sasl_authenticated, reject
EOF
	cat >"$PF_CONF/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command
127.0.0.1:$PF_SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
127.0.0.1:$PF_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	for p in $PF_SUBMISSION_PORT $PF_SMTPS_PORT; do
		port_listening "$p" && fail "port $p is no longer free"
	done
	postfix -c "$PF_CONF" check >"$PF_DIR/start.out" 2>&1 ||
	    fail "postfix check failed: $(cat "$PF_DIR/start.out")"
	# start-fg: postfix-script stays our child and reaps the master,
	# which leads a process group of its own.
	postfix -c "$PF_CONF" start-fg </dev/null >>"$PF_DIR/start.out" 2>&1 &
	PF_JOB=$!
	_wait_master postfix "$PF_JOB" "$PF_DIR/spool/pid/master.pid" \
	    "$PF_DIR/start.out" "$PF_DIR/postfix.log"
	PF_PID=$MASTER_PID
	wait_until 10 port_listening "$PF_SUBMISSION_PORT"
	wait_until 10 port_listening "$PF_SMTPS_PORT"
}

pf_stop() {
	local pid=${PF_PID:-} job=${PF_JOB:-} rc=0
	[ -n "$job" ] || return 0
	[ -n "$pid" ] || pid=$(_master_pid "$PF_DIR/spool/pid/master.pid")
	PF_PID='' PF_JOB=''
	if [ -n "$pid" ] && ! ps_gone "$pid"; then
		postfix -c "$PF_CONF" stop >>"$PF_DIR/start.out" 2>&1 ||
		    kill -TERM "$pid" 2>/dev/null
		_stop_group postfix "$pid" || rc=1
	fi
	_reap postfix "$job" || rc=1
	return "$rc"
}

# ------------------------------------------------------------ both

mta_start() {
	mta_prereqs
	t_certs
	# Postfix's daemons run as user postfix and Dovecot's auth as
	# dovecot: they must be able to reach into $T (mktemp made it 0700).
	chmod 0711 "$T"
	runuser -u postfix -- test -x "$T" ||
	    fail "user postfix cannot reach $T (set TMPDIR to a directory others may traverse)"
	t_on_exit mta_stop_on_exit
	dc_start
	pf_start "$@"
}

mta_stop() {
	local rc=0
	pf_stop || rc=1
	dc_stop || rc=1
	[ "$rc" = 0 ] || fail "Postfix or Dovecot did not stop cleanly"
}

# At exit: stop whatever still runs; on a failing exit show the logs.  (In
# the exit hook, lib.sh's _t_exit holds the exit status in its local rc,
# which bash's dynamic scoping makes visible here.)
mta_stop_on_exit() {
	if [ "${rc:-0}" != 0 ]; then
		[ ! -s "${PF_DIR:-/nonexistent}/postfix.log" ] || {
			echo "--- last lines of $PF_DIR/postfix.log" >&2
			tail -n 40 "$PF_DIR/postfix.log" >&2
		}
		[ ! -s "${DC_DIR:-/nonexistent}/dovecot.log" ] || {
			echo "--- last lines of $DC_DIR/dovecot.log" >&2
			tail -n 20 "$DC_DIR/dovecot.log" >&2
		}
		[ ! -s "$T/sendq.log" ] || {
			echo "--- last lines of $T/sendq.log" >&2
			tail -n 20 "$T/sendq.log" >&2
		}
	fi
	pf_stop
	dc_stop
}

# ------------------------------------------------------------ mail and log

_pf_maildir() { echo "$PF_DIR/mail/$1/new"; }

pf_mail_count() {
	local n=0 f
	for f in "$(_pf_maildir "$1")"/*; do
		[ -f "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

pf_wait_mail() {
	local user=$1 want=$2 secs=${3:-15} i n
	for ((i = 0; i <= secs * 10; i++)); do
		n=$(pf_mail_count "$user")
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "$user@$PF_DOMAIN: expected $want message(s) within ${secs}s, have $n"
}

pf_mail() {
	local dir f
	dir=$(_pf_maildir "$1")
	# Oldest first, by delivery (modification) time.
	f=$(find "$dir" -maxdepth 1 -type f -printf '%T@ %p\n' 2>/dev/null |
	    sort -n | sed -n "$2{s/^[^ ]* //;p}")
	[ -n "$f" ] || fail "$1@$PF_DOMAIN has no message $2"
	echo "$f"
}

pf_log() { echo "$PF_DIR/postfix.log"; }

pf_log_mark() { stat -c %s "$PF_DIR/postfix.log"; }

pf_log_since() { tail -c +"$(($1 + 1))" "$PF_DIR/postfix.log"; }

_pf_log_has() { pf_log_since "$1" | grep -qE -e "$2"; }

pf_wait_log() {
	local mark=$1 pat=$2 secs=${3:-10} i
	for ((i = 0; i <= secs * 10; i++)); do
		_pf_log_has "$mark" "$pat" && return 0
		sleep 0.1
	done
	fail "Postfix did not log /$pat/ within ${secs}s; it logged:
$(pf_log_since "$mark" | tail -n 30)"
}

pf_queue_ids() {
	find "$PF_DIR/spool/incoming" "$PF_DIR/spool/active" \
	    "$PF_DIR/spool/deferred" "$PF_DIR/spool/hold" -type f \
	    -printf '%f\n' 2>/dev/null
}
