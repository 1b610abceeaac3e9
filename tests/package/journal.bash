# journal.bash - the package-test phase that boots systemd (sourced by
# run.sh): the package in a Debian 12 root whose init is systemd, run
# by systemd-nspawn -b, so that `journalctl -u sendq' shows what the
# daemon logs with `log = syslog'.
#
# A root of its own ($W/boot, from the same cached minbase), not $R:
# systemd and dbus there would be part of the purge's comparison.  It
# shares the host's network, so an unused port on 127.0.0.1 refuses the
# daemon's connection.  Commands run in the booted root through nsenter
# into its init's namespaces: this works on a host whose PID 1 is not
# systemd (no system bus, hence --register=no --keep-unit).  A container
# that does not boot fails the test.

B=''
BOOT_PID='' BOOT_INIT='' CURSOR=''

# nspawn_run CMD...: CMD in $B, not booted.
nspawn_run() {
	systemd-nspawn -q --register=no --keep-unit -D "$B" --pipe \
	    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@" </dev/null
}

# in_boot CMD...: CMD in the booted root, as root, a plain environment.
in_boot() {
	nsenter -t "$BOOT_INIT" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    LC_ALL=C.UTF-8 "$@"
}

# The root: systemd, dbus, the package's Depends, then the package.
boot_make() {
	local deps port
	B=$W/boot
	mkdir "$B" && tar -C "$B" -xzf "$CACHE/$SUITE-minbase.tar.gz" ||
	    fail "cannot unpack the root for systemd"
	cp /etc/resolv.conf "$B/etc/resolv.conf"
	cp "$DEB" "$B/root/sendq.deb"
	deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep . | xargs)
	# shellcheck disable=SC2086 # $deps: one word a package
	{ nspawn_run apt-get update && nspawn_run apt-get install -y \
	    --no-install-recommends systemd systemd-sysv dbus $deps &&
	    nspawn_run dpkg -i /root/sendq.deb; } >"$W/boot-apt.log" 2>&1 ||
	    show_log "$W/boot-apt.log" "installing systemd and sendq in the root failed"
	port=$(t_unused_port)
	sed -i "s/\"localhost:25\"/\"127.0.0.1:$port\"/" "$B/etc/sendq.conf"
	grep -q "127.0.0.1:$port" "$B/etc/sendq.conf" ||
	    fail "cannot point the account at 127.0.0.1:$port"
}

# The container's init, once nspawn has started it and it listens for
# systemctl: systemd itself, not nspawn's short-lived child (which on a
# host run by systemd would see the host's /run/systemd/private).
boot_init() {
	BOOT_INIT=$(ps -o pid= --ppid "$BOOT_PID" | tr -d ' ')
	[ -n "$BOOT_INIT" ] &&
	    [ "$(cat "/proc/$BOOT_INIT/comm" 2>/dev/null)" = systemd ] &&
	    in_boot test -S /run/systemd/private 2>/dev/null
}

boot_start() {
	local state i
	systemd-nspawn --register=no --keep-unit -D "$B" -b --console=pipe \
	    </dev/null >"$W/boot.log" 2>&1 &
	BOOT_PID=$!
	for ((i = 0; i < 300; i++)); do
		boot_init && break
		kill -0 "$BOOT_PID" 2>/dev/null ||
		    show_log "$W/boot.log" "systemd-nspawn -b ended"
		sleep 0.1
	done
	[ "$i" -lt 300 ] ||
	    show_log "$W/boot.log" "no systemd in the container after 30 s"
	state=$(in_boot timeout 90 systemctl is-system-running --wait) || true
	case $state in
	running) ;;
	degraded) in_boot systemctl --failed --no-pager ;;
	*) show_log "$W/boot.log" "systemd in the container: '$state'" ;;
	esac
	echo "package-test: systemd booted in the container: $state"
}

# The container stops with its init (poweroff, or nspawn's SIGTERM);
# anything else is killed.  run.sh's cleanup calls this first.
boot_stop() {
	local i
	[ -n "$BOOT_PID" ] || return 0
	if kill -0 "$BOOT_PID" 2>/dev/null; then
		if [ -n "$BOOT_INIT" ]; then
			in_boot systemctl poweroff 2>/dev/null ||
			    kill -TERM "$BOOT_PID" 2>/dev/null
		else
			kill -TERM "$BOOT_PID" 2>/dev/null
		fi
		for ((i = 0; i < 600; i++)); do
			kill -0 "$BOOT_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$BOOT_PID" 2>/dev/null && kill -KILL "$BOOT_PID"
	fi
	wait "$BOOT_PID" 2>/dev/null
	BOOT_PID=''
}

# journal_has REGEX: a line of `journalctl -u sendq' matches.
journal_has() {
	in_boot journalctl -u sendq --no-pager --after-cursor="$CURSOR" \
	    >"$W/journal.txt" 2>&1 &&
	    grep -qE "$1" "$W/journal.txt"
}

# The socket started alone, a message through /usr/sbin/sendmail starts
# the daemon, which defers it and holds its account; a reload; a stop.
# Each leaves its line in the journal, from the daemon (sendq[PID]).
check_journal() {
	local version d='sendq\[[0-9]+\]: '
	version=$(dpkg-deb -f "$DEB" Version)
	in_boot systemctl stop sendq.service sendq.socket
	# What the daemon started at boot logged is not looked at.
	CURSOR=$(in_boot journalctl -n 1 --show-cursor --no-pager |
	    sed -n 's/^-- cursor: //p')
	[ -n "$CURSOR" ] || fail "no journal cursor in the container"
	in_boot systemctl start sendq.socket
	assert_eq inactive "$(in_boot systemctl is-active sendq.service)" \
	    "sendq.service before a message"
	printf 'Subject: journal\n\nbody\n' |
	    in_boot /usr/sbin/sendmail journal@example.org ||
	    fail "sendmail in the container failed"
	wait_until 20 journal_has "${d}daemon started: .*sendq $version, config /etc/sendq.conf"
	wait_until 20 journal_has "${d}[0-9A-F]+: to=<journal@example.org>, .*status=deferred"
	wait_until 20 journal_has "${d}account default: failing: "
	in_boot systemctl reload sendq.service ||
	    { cat "$W/journal.txt"; fail "systemctl reload sendq.service failed"; }
	wait_until 20 journal_has "${d}SIGHUP: reloaded /etc/sendq.conf"
	in_boot systemctl stop sendq.service
	wait_until 20 journal_has "${d}daemon stopped: sendq $version"
	grep -E "$d" "$W/journal.txt"
}

# poweroff: the container's init ends and nspawn exits 0.  systemctl
# may lose its connection to the init that is going down, so its status
# is not what tells.
boot_poweroff() {
	local pid=$BOOT_PID rc=0
	in_boot systemctl poweroff 2>/dev/null || true
	wait_until 60 eval '! kill -0 '"$pid"' 2>/dev/null'
	wait "$pid" || rc=$?
	BOOT_PID=''
	[ "$rc" = 0 ] || show_log "$W/boot.log" "systemd-nspawn exited $rc"
}
