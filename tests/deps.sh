#!/bin/sh
# The one list of the Debian packages sendq needs, used by make, make
# check, make demo, make fuzz and .ci/run alike.  Installs what is
# missing (as root), or prints the exact apt-get line.
#
# Usage: tests/deps.sh build|test|fuzz|package
#   build  compile the programs
#   test   build, then every package a test touches (make check, make
#          asan, make demo, make bench; bench mounts a new ext4 image;
#          units.sh checks the installed systemd units with
#          systemd-analyze, and make install runs useradd)
#   fuzz   test, then clang and its libFuzzer runtime (make fuzz)
#   package  test, then what make package-test touches: git (the copy
#          of the tree), dpkg-buildpackage and debhelper (no fakeroot:
#          debian/control says Rules-Requires-Root: no), lintian,
#          debootstrap and Debian's keyring for the throwaway root,
#          util-linux's mount, findmnt and nsenter, systemd-container's
#          systemd-nspawn to boot systemd in a root (the journal phase)
#
# apt-get runs with --no-install-recommends, as on a minimal machine, so
# a tool's Recommends that a test needs are named here: swaks speaks TLS
# only with Net::SSLeay and IPv6 only with IO::Socket::INET6.
set -eu
build="gcc make pkg-config libc6-dev libssl-dev libconfuse-dev
    libcurl4-openssl-dev libjson-c-dev"
test="$build check ca-certificates openssl procps e2fsprogs python3 python3-aiosmtpd
    python3-prometheus-client util-linux
    curl swaks libnet-ssleay-perl libio-socket-inet6-perl php-cli mandoc
    postfix dovecot-core passwd login systemd"
fuzz="$test clang libclang-rt-14-dev"
package="$test git dpkg-dev debhelper lintian debootstrap
    debian-archive-keyring util-linux systemd-container"
case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
fuzz) want=$fuzz ;;
package) want=$package ;;
*) echo "usage: $0 build|test|fuzz|package" >&2; exit 64 ;;
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
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "missing Debian packages; run as root:" >&2
	echo "  apt-get install --no-install-recommends$missing" >&2
	exit 1
fi
