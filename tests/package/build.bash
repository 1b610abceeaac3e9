# build.bash - the package-test phases that build and lint the package
# (sourced by run.sh).

# The tree's tracked files and its new ones that .gitignore does not
# exclude, as they are in the working tree (edits included), copied to
# $W/src/sendq; dpkg-buildpackage writes the .deb into $W/src.
pkg_build() {
	local version
	mkdir -p "$W/src/sendq"
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
	    while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	    done | tar --null -T - -cf -) | tar -C "$W/src/sendq" -xf - ||
	    fail "cannot copy the tree"
	(cd "$W/src/sendq" && dpkg-buildpackage -us -uc -b) \
	    >"$W/build.log" 2>&1 || show_log "$W/build.log" "dpkg-buildpackage failed"
	DEB=$(find "$W/src" -maxdepth 1 -name 'sendq_*.deb')
	[ -n "$DEB" ] && [ "$(printf '%s\n' "$DEB" | wc -l)" = 1 ] ||
	    fail "expected one sendq_*.deb, found: $DEB"
	grep -q 'tests/run' "$W/build.log" &&
	    grep -qE '^[0-9]+%: Checks: [0-9]+, Failures: 0, Errors: 0' \
	    "$W/build.log" || show_log "$W/build.log" "the unit tests did not run"
	version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$TOP/GNUmakefile")
	assert_eq "$version" "$(dpkg-deb -f "$DEB" Version)" \
	    "package version (debian/changelog) and the GNUmakefile's VERSION"
	echo "package-test: built $(basename "$DEB"), $(stat -c %s "$DEB") bytes"
}

# lintian: errors and warnings fail (so does lintian failing to run);
# overrides live in debian/sendq.lintian-overrides, each with its reason.
pkg_lint() {
	local rc=0
	lintian --fail-on error,warning --pedantic --display-info \
	    "$DEB" >"$W/lintian.log" 2>&1 || rc=$?
	cat "$W/lintian.log"
	[ "$rc" = 0 ] || fail "lintian: exit $rc (errors or warnings above)"
	echo "package-test: lintian: no error, no warning"
}
