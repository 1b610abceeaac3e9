# lib.sh - helpers for sendq integration tests.  Source it from a test:
#
#   #!/bin/bash
#   set -eu
#   . "$(dirname "$0")/lib.sh"
#   t_tmpdir
#   t_certs
#   fixture_start relay --starttls --cert "$CERTS/server.pem" --key "$CERTS/server.key"
#   ... run sendq against 127.0.0.1:$FPORT ...
#   fixture_wait_msgs relay 1
#   assert_eq "rcpt@example.org" "$(fixture_field relay 1 rcpt_tos)" "recipient"
#
# A test passes by exiting 0.  Missing prerequisites are failures, never skips.
#
# Variables
#   TOP        repository root;  FIXTURES=$TOP/tests/fixtures
#   PYTHON     /usr/bin/python3 (Debian's, which has aiosmtpd)
#   T          the test's private temp dir (set by t_tmpdir)
#   CERTS      directory with the test PKI (set by t_certs)
#   FPORT      port of the fixture most recently started by fixture_start
#
# Test directory
#   t_tmpdir              create $T; on exit stop all fixtures and remove $T
#                         (kept, and its path printed, when KEEP=1).  On a
#                         failing exit the tail of each fixture's transcript
#                         is printed to stderr.  This installs the EXIT trap:
#                         tests must not set their own, use t_on_exit.
#   t_on_exit CMD         run CMD (eval'd) at exit, before fixtures are stopped
#   t_certs               make the PKI (tests/fixtures/mkcerts.sh) in the shared
#                         cache $TOP/tests/.certs and set CERTS
#   t_unused_port         print a TCP port on 127.0.0.1 that nothing listens on
#   wait_until SECS CMD.. retry CMD every 0.1 s until it succeeds; fail after SECS
#
# SMTP fixture (tests/fixtures/smtpd.py; its state lives in $T/NAME)
#   fixture_start NAME [smtpd.py options...]
#                         start it in the background (calls t_tmpdir if
#                         needed), wait up to 10 s for it to listen, set
#                         FPORT.  Its output goes to $T/NAME/smtpd.err.
#                         Call it from the test's main shell, not in $(...).
#                         Starting NAME again after fixture_stop keeps its
#                         messages and transcript (numbering continues); pass
#                         --port "$(fixture_port NAME)" to reuse the port.
#   fixture_stop NAME     SIGTERM it; fail unless it exits 0 within 5 s
#   fixture_port NAME     print its port (the last one, once stopped)
#   fixture_dir NAME      print $T/NAME
#   fixture_faults NAME [SPEC...]
#                         replace $T/NAME/faults with these specs (none =
#                         clear); the server re-reads it before every command
#   fixture_msgs NAME     print the number of stored messages
#   fixture_wait_msgs NAME COUNT [TIMEOUT]
#                         wait (default 10 s) until COUNT messages are stored
#   fixture_eml NAME N    print the path of message N's content (.eml)
#   fixture_field NAME N KEY
#                         print field KEY of message N's envelope: strings as
#                         is, null as nothing, lists one item per line (lists
#                         of lists space-joined), tls as "VERSION CIPHER"
#   fixture_sessions NAME print the number of connections it has accepted
#   fixture_transcript NAME  print the path of its transcript.log
#
# OAuth2 fixture (tests/fixtures/oauth2_server.py, HTTPS with the test PKI;
# its state lives in $T/NAME; read its header for the endpoints and files)
#   oauth2_start NAME [oauth2_server.py options...]
#                         start it (calls t_tmpdir and t_certs if needed;
#                         --cert/--key default to $CERTS/server.*), wait up
#                         to 10 s for it to listen, set O2PORT.  Its output
#                         goes to $T/NAME/oauth2.err.  Call it from the
#                         test's main shell.  Pass --client-id; smtpd.py
#                         --oauth2-dir "$(fixture_dir NAME)" accepts the
#                         access tokens it issues.
#   oauth2_stop NAME      SIGTERM it; fail unless it exits 0 within 5 s
#   oauth2_port NAME      print its port
#   oauth2_requests NAME  print the path of its requests.log
#   oauth2_errors NAME [ENDPOINT=CODE...]
#                         replace $T/NAME/errors (none = clear); re-read at
#                         each request
#   oauth2_revoke NAME [off]
#                         every refresh token invalid (invalid_grant) from
#                         now on; "off" makes them valid again
#
# Assertions (each prints "FAIL: ..." to stderr and exits 1)
#   fail MSG...
#   assert_eq EXPECTED ACTUAL WHAT
#   assert_file_eq FILE1 FILE2 WHAT
#   assert_contains [-F] FILE_OR_STRING PATTERN
#   assert_not_contains [-F] FILE_OR_STRING PATTERN
#                         PATTERN is an extended regex, or a fixed string with
#                         -F; the first argument is read as a file if one of
#                         that name exists, else taken as the text itself
#   assert_exit CODE CMD...  run CMD; fail (showing its stderr) unless it
#                         exits with CODE; its stdout passes through

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FIXTURES=$TOP/tests/fixtures
PYTHON=/usr/bin/python3
export TOP FIXTURES PYTHON

declare -A _T_FIXTURE_PID=()
_T_ON_EXIT=()
_T_CREATED=

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ------------------------------------------------------------ test directory

t_tmpdir() {
	[ -z "$_T_CREATED" ] || return 0
	T=$(mktemp -d "${TMPDIR:-/tmp}/sendq-test.XXXXXX") || fail "mktemp failed"
	export T
	_T_CREATED=1
	trap '_t_exit $?' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

t_on_exit() {
	_T_ON_EXIT+=("$*")
}

_t_exit() {
	local rc=$1 cmd name f
	set +e
	for cmd in "${_T_ON_EXIT[@]}"; do
		eval "$cmd"
	done
	for name in "${!_T_FIXTURE_PID[@]}"; do
		_fixture_kill "$name"
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*/transcript.log; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 30 "$f" >&2
		done
		for f in "$T"/*/requests.log; do
			[ -f "$f" ] || continue
			echo "--- last lines of $f" >&2
			tail -n 15 "$f" >&2
		done
		for f in "$T"/*/smtpd.err "$T"/*/oauth2.err; do
			[ -s "$f" ] || continue
			echo "--- $f" >&2
			tail -n 30 "$f" >&2
		done
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "KEEP=1: test files left in $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

t_certs() {
	local cache=$TOP/tests/.certs
	command -v openssl >/dev/null || fail "openssl is not installed"
	command -v flock >/dev/null || fail "flock is not installed"
	mkdir -p "$cache" || fail "cannot create $cache"
	flock "$cache/.lock" bash "$FIXTURES/mkcerts.sh" "$cache" ||
		fail "mkcerts.sh failed"
	CERTS=$cache
	export CERTS
}

t_unused_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_until() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@" || fail "timed out after ${secs}s waiting for: $*"
}

# ------------------------------------------------------------ SMTP fixture

fixture_dir() { echo "$T/$1"; }
fixture_transcript() { echo "$T/$1/transcript.log"; }

fixture_port() {
	[ -s "$T/$1/port" ] || fail "fixture $1 was never started"
	cat "$T/$1/port"
}

fixture_start() {
	local name=$1 dir
	shift
	t_tmpdir
	[ -z "${_T_FIXTURE_PID[$name]:-}" ] || fail "fixture $name already running"
	"$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
		fail "$PYTHON cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
	dir=$T/$name
	mkdir -p "$dir"
	rm -f "$dir/port" "$dir/pid"
	"$PYTHON" "$FIXTURES/smtpd.py" --dir "$dir" "$@" \
		</dev/null >>"$dir/smtpd.err" 2>&1 &
	_fixture_listen "$name" $! "$dir/smtpd.err" fixture
	# shellcheck disable=SC2034 # for the calling test
	FPORT=$(cat "$dir/port")
}

# _fixture_listen NAME PID ERRFILE WHAT: wait up to 10 s for the
# fixture started as PID to write its port; fail with ERRFILE if it
# ends first.
_fixture_listen() {
	local name=$1 pid=$2 i
	_T_FIXTURE_PID[$name]=$pid
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$name/port" ] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			unset "_T_FIXTURE_PID[$name]"
			wait "$pid" 2>/dev/null || true
			fail "$4 $name did not start: $(cat "$3")"
		fi
		sleep 0.1
	done
	fail "$4 $name did not listen within 10 s"
}

# _fixture_kill NAME: stop it, print its exit status
_fixture_kill() {
	local name=$1 pid=${_T_FIXTURE_PID[$1]:-} i rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	unset "_T_FIXTURE_PID[$name]"
	return "$rc"
}

# _fixture_stop WHAT NAME ERRFILE: stop it; it must have exited 0
_fixture_stop() {
	local rc=0
	[ -n "${_T_FIXTURE_PID[$2]:-}" ] || fail "$1 $2 is not running"
	_fixture_kill "$2" || rc=$?
	[ "$rc" -eq 0 ] || fail "$1 $2 exited with status $rc: $(tail -n 20 "$T/$2/$3")"
}

# _fixture_script WHAT NAME FILE LINE...: the fixture's FILE replaced
# whole by the lines (none: emptied), as it reads it at each step
_fixture_script() {
	local what=$1 name=$2 file=$3 dir=$T/$2
	shift 3
	[ -d "$dir" ] || fail "no $what $name"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$dir/.$file.tmp"
	else
		: >"$dir/.$file.tmp"
	fi
	mv -f "$dir/.$file.tmp" "$dir/$file"
}

fixture_stop() { _fixture_stop fixture "$1" smtpd.err; }
fixture_faults() { _fixture_script fixture "$1" faults "${@:2}"; }

fixture_msgs() {
	local n=0 f
	for f in "$T/$1"/msgs/[0-9]*.json; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

fixture_wait_msgs() {
	local name=$1 want=$2 secs=${3:-10} i n
	for ((i = 0; i <= secs * 10; i++)); do
		n=$(fixture_msgs "$name")
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "fixture $name: expected $want message(s) within ${secs}s, have $n"
}

fixture_eml() {
	local f
	f=$(printf '%s/%s/msgs/%06d.eml' "$T" "$1" "$2")
	[ -f "$f" ] || fail "fixture $1 has no message $2"
	echo "$f"
}

fixture_field() {
	local f
	f=$(printf '%s/%s/msgs/%06d.json' "$T" "$1" "$2")
	[ -f "$f" ] || fail "fixture $1 has no message $2"
	"$PYTHON" - "$f" "$3" <<'EOF' || fail "cannot read field $3 of $f"
import json, sys
meta = json.load(open(sys.argv[1]))
key = sys.argv[2]
if key not in meta:
    sys.exit("no field %r in %s" % (key, sys.argv[1]))
v = meta[key]
def text(x):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, list):
        return " ".join(text(i) for i in x)
    if isinstance(x, dict):
        return " ".join(text(i) for i in x.values())
    return str(x)
if isinstance(v, list):
    for item in v:
        print(text(item))
elif v is not None:
    print(text(v))
EOF
}

fixture_sessions() {
	local f=$T/$1/transcript.log
	if [ -f "$f" ]; then
		grep -c '^S[0-9]* CONNECT$' "$f" || true
	else
		echo 0
	fi
}

# ------------------------------------------------------------ OAuth2 fixture

oauth2_port() { fixture_port "$1"; }
oauth2_requests() { echo "$T/$1/requests.log"; }

oauth2_start() {
	local name=$1 dir
	shift
	t_tmpdir
	[ -n "${CERTS:-}" ] || t_certs
	[ -z "${_T_FIXTURE_PID[$name]:-}" ] || fail "fixture $name already running"
	dir=$T/$name
	mkdir -p "$dir"
	rm -f "$dir/port" "$dir/pid"
	"$PYTHON" "$FIXTURES/oauth2_server.py" --dir "$dir" \
		--cert "$CERTS/server.pem" --key "$CERTS/server.key" "$@" \
		</dev/null >>"$dir/oauth2.err" 2>&1 &
	_fixture_listen "$name" $! "$dir/oauth2.err" "oauth2 fixture"
	# shellcheck disable=SC2034 # for the calling test
	O2PORT=$(cat "$dir/port")
}

oauth2_stop() { _fixture_stop "oauth2 fixture" "$1" oauth2.err; }
oauth2_errors() { _fixture_script "oauth2 fixture" "$1" errors "${@:2}"; }

oauth2_revoke() {
	[ -d "$T/$1" ] || fail "no oauth2 fixture $1"
	if [ "${2:-}" = off ]; then
		rm -f "$T/$1/revoked"
	else
		: >"$T/$1/revoked"
	fi
}

# ------------------------------------------------------------ assertions

# ok TEXT: one numbered "ok N - TEXT" line of a script's checks (T_PASS
# counts them)
T_PASS=0
ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok $T_PASS - $*"
}

assert_eq() {
	[ "$1" = "$2" ] && return 0
	fail "${3:-value}: expected '$1', got '$2'"
}

assert_file_eq() {
	local a=$1 b=$2 what=${3:-files}
	[ -f "$a" ] || fail "$what: no such file $a"
	[ -f "$b" ] || fail "$what: no such file $b"
	cmp -s "$a" "$b" && return 0
	{
		echo "FAIL: $what: $a and $b differ"
		cmp "$a" "$b" 2>&1 || true
		diff -u <(cat -A "$a") <(cat -A "$b") | head -n 40 || true
	} >&2
	exit 1
}

# _t_grep OPTS FILE_OR_STRING PATTERN
_t_grep() {
	local opt=$1 subject=$2 pat=$3
	# A path that names no file is a mistake, not text to search: an
	# assertion that it lacks something would pass for nothing.
	case $subject in
	/*[!$'\n']) [ -f "$subject" ] || [[ $subject == *$'\n'* ]] ||
	    [[ $subject == *' '* ]] || fail "no file $subject" ;;
	esac
	if [ -f "$subject" ]; then
		grep -q "$opt" -e "$pat" -- "$subject"
	else
		printf '%s\n' "$subject" | grep -q "$opt" -e "$pat"
	fi
}

assert_contains() {
	local opt=-E
	[ "$1" != -F ] || { opt=-F; shift; }
	_t_grep "$opt" "$1" "$2" && return 0
	if [ -f "$1" ]; then
		fail "$1 does not contain '$2'"
	fi
	fail "'$2' not found in: $1"
}

assert_not_contains() {
	local opt=-E
	[ "$1" != -F ] || { opt=-F; shift; }
	_t_grep "$opt" "$1" "$2" || return 0
	if [ -f "$1" ]; then
		fail "$1 contains '$2': $(grep -n "$opt" -e "$2" -- "$1" | head -n 3)"
	fi
	fail "'$2' unexpectedly found in: $1"
}

assert_exit() {
	local want=$1 rc=0 err
	shift
	err=$(mktemp "${TMPDIR:-/tmp}/sendq-stderr.XXXXXX")
	"$@" 2>"$err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: expected exit $want, got $rc from: $*" >&2
		sed 's/^/  stderr: /' "$err" | head -n 40 >&2
		rm -f "$err"
		exit 1
	fi
	rm -f "$err"
}
