# root.bash - the throwaway Debian root of the package test (sourced by
# run.sh): made by debootstrap, cached, mounted, given the package's
# dependencies.

# The Debian mirror apt uses here for $SUITE: deb822 .sources first,
# then one-line sources.list entries.
root_mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
	    function done_stanza() {
		if (!found && uri != "" && (" " suites " ") ~ (" " s " "))
			{ print uri; found = 1 }
		uri = suites = ""
	    }
	    /^[[:space:]]*$/ { done_stanza(); next }
	    $1 == "URIs:" { uri = $2 }
	    $1 == "Suites:" { suites = substr($0, index($0, ":") + 1) }
	    END { done_stanza() }')
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list 2>/dev/null | awk -v s="$SUITE" '
	    $1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++;
		if ($2 ~ /^\[/) i++; if ($(i + 1) == s) { print $i; exit } }')
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# The minbase root, from the cache when there is one.
root_make() {
	local tarball=$CACHE/$SUITE-minbase.tar.gz mirror
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	if [ ! -s "$tarball" ] || [ "${SENDQ_PKG_FRESH:-0}" = 1 ]; then
		mirror=$(root_mirror)
		echo "package-test: debootstrap $SUITE from $mirror"
		debootstrap --variant=minbase "$SUITE" "$R" "$mirror" \
		    >"$W/debootstrap.log" 2>&1 ||
		    show_log "$W/debootstrap.log" "debootstrap failed"
		rm -f "$R"/var/cache/apt/archives/*.deb
		tar -C "$R" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" ||
		    fail "cannot write $tarball"
	else
		echo "package-test: the root from $tarball"
		mkdir "$R" && tar -C "$R" -xzf "$tarball" ||
		    fail "cannot unpack $tarball"
	fi
	exec 9>&-
	cp /etc/resolv.conf "$R/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' \
	    >"$R/etc/hosts"
	mount -t proc proc "$R/proc" && mount --bind /dev "$R/dev" ||
	    fail "cannot mount /proc and /dev in the root"
}

# The package's Depends (the first of each alternative, no versions),
# installed with apt as an administrator's `apt install ./sendq_*.deb'
# would; then the .deb is copied into the root.
root_deps() {
	local deps
	deps=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep . | xargs)
	echo "package-test: apt-get install $deps"
	{ in_root apt-get update && in_root apt-get install -y \
	    --no-install-recommends $deps; } >"$W/apt.log" 2>&1 ||
	    show_log "$W/apt.log" "apt-get in the root failed"
	cp "$DEB" "$R/tmp/sendq.deb"
}

# Every path of the root with its type, mode and owner, except the
# mounts, /run (a tmpfs on a running system) and what changes on its
# own (apt's lists and caches).
listing() {
	in_root find / -xdev \( -path /proc -o -path /dev -o -path /sys \
	    -o -path /run -o -path /tmp -o -path /var/cache/apt \
	    -o -path /var/lib/apt/lists \) \
	    -prune -o -printf '%p %y %m %u:%g\n' | sort
}
