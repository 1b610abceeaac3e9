#!/bin/sh
# Installs the Debian packages sendq needs (as root), or names them.
# Usage: tests/deps.sh build|test
set -eu
build="gcc make pkg-config libssl-dev libconfuse-dev"
test="$build check openssl python3-aiosmtpd swaks php-cli mandoc postfix dovecot-core"
case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
*) echo "usage: $0 build|test" >&2; exit 64 ;;
esac
missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix is only a test peer: no system-wide configuration for it.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "missing Debian packages; run as root:" >&2
	echo "  apt-get install$missing" >&2
	exit 1
fi
