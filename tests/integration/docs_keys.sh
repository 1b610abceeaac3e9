#!/bin/bash
# The documentation names every configuration key that exists, and
# nothing that does not: each key of lib/conf.c's option tables has its
# entry in sendq.conf(5) and a line in the sample etc/sendq.conf; each
# entry of sendq.conf(5) is a key of lib/conf.c.  Every command in
# sendq's usage has its entry in sendq(8).  The pages are lint-clean.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/common.bash"
t_tmpdir
keys=$(grep -o 'CFG_[A-Z_]*("[a-z_0-9]*"' "$TOP/lib/conf.c" |
    sed 's/.*("//; s/"//' | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 40 ] || fail "too few keys found: $keys"
for k in $keys; do
	# Sections: account has a chapter of its own, alias an entry.
	[ "$k" = account ] && grep -q '^\.Sh ACCOUNTS$' "$TOP/man/sendq.conf.5" &&
	    continue
	grep -q "^\.It Ic $k\b" "$TOP/man/sendq.conf.5" ||
	    grep -q "Ic $k No = " "$TOP/man/sendq.conf.5" ||
	    fail "sendq.conf(5) has no entry for $k"
	grep -Eq "^[# ]*$k\b" "$TOP/etc/sendq.conf" ||
	    fail "etc/sendq.conf has no line for $k"
done
for k in $(grep -o '^\.It Ic [a-z_0-9]*' "$TOP/man/sendq.conf.5" |
    awk '{ print $3 }' | sort -u); do
	echo "$keys" | grep -qx "$k" ||
	    fail "sendq.conf(5) documents $k, which lib/conf.c does not know"
done
"$SENDQ" --help >"$T/usage"
for c in $(awk '/^  [a-z]/ { print $1 }' "$T/usage" | sort -u); do
	grep -q "^\.It Cm $c\b" "$TOP/man/sendq.8" ||
	    grep -A1 '^\.It Xo$' "$TOP/man/sendq.8" | grep -q "^\.Cm $c\b" ||
	    fail "sendq(8) has no entry for the command $c"
done
for m in "$TOP"/man/*; do
	mandoc -Tlint -W warning "$m" >"$T/lint" 2>&1 || true
	grep -v 'outdated mandoc.db' "$T/lint" >"$T/lint2" || true
	[ ! -s "$T/lint2" ] || fail "mandoc -Tlint $(basename "$m"): $(cat "$T/lint2")"
done
echo "ok: $(echo "$keys" | wc -l) keys, every command and every page"
