# checks.bash - the package test's checks of the installed package
# (sourced by run.sh): what dpkg -i put in place, a message sent through
# it, an upgrade, a removal and the purge.

# r_stat PATH: "MODE OWNER GROUP" of PATH in the root, as the root's
# own user database names them.
r_stat() {
	in_root stat -c '%a %U %G' "$1"
}

pkg_install() {
	in_root dpkg -i /tmp/sendq.deb >"$W/dpkg-i.log" 2>&1 ||
	    show_log "$W/dpkg-i.log" "dpkg -i failed"
	cat "$W/dpkg-i.log"
}

check_files() {
	local f
	assert_eq "2755 root sendq" "$(r_stat /usr/sbin/sendmail)" "sendmail"
	assert_eq "755 root root" "$(r_stat /usr/sbin/sendq)" "sendq"
	for f in /usr/bin/mailq /usr/bin/newaliases /usr/lib/sendmail; do
		assert_eq ../sbin/sendmail "$(in_root readlink "$f")" "link $f"
	done
	in_root test -x /usr/share/doc/sendq/examples/sendq-notify.sample ||
	    fail "no example notify_command"
	for f in man8/sendmail.8.gz man8/sendq.8.gz man5/sendq.conf.5.gz \
	    man8/mailq.8.gz man8/newaliases.8.gz; do
		in_root test -e "/usr/share/man/$f" || fail "no man page $f"
	done
	assert_eq "640 root sendq" "$(r_stat /etc/sendq.conf)" "sendq.conf"
	in_root dpkg-query -W -f='${Conffiles}\n' sendq |
	    grep -q '^ /etc/sendq.conf [0-9a-f]' || fail "sendq.conf is no conffile"
	assert_eq "root sendq 2755 /usr/sbin/sendmail
root sendq 640 /etc/sendq.conf" \
	    "$(in_root dpkg-statoverride --list | sort -k4r)" "dpkg-statoverride"
	in_root ldd /usr/sbin/sendmail >"$W/ldd" || fail "ldd sendmail failed"
	if grep -E 'libssl|libcrypto|libcurl|libjson-c' "$W/ldd"; then
		fail "the set-group-ID sendmail links a TLS, HTTP or JSON library"
	fi
}

check_user_spool() {
	local d uid
	assert_eq "sendq:x:/nonexistent:/usr/sbin/nologin" \
	    "$(in_root getent passwd sendq | cut -d: -f1,2,6,7)" "user sendq"
	uid=$(in_root id -u sendq)
	[ "$uid" -lt 1000 ] || fail "sendq is no system user (uid $uid)"
	assert_eq sendq "$(in_root id -gn sendq)" "sendq's group"
	for d in "" /failed /rate /state; do
		assert_eq "2770 root sendq" "$(r_stat "/var/spool/sendq$d")" \
		    "/var/spool/sendq$d"
	done
	assert_eq "750 sendq sendq" "$(r_stat /var/lib/sendq)" /var/lib/sendq
	assert_eq "700 sendq sendq" "$(r_stat /var/lib/sendq/oauth2)" \
	    /var/lib/sendq/oauth2
}

# Enabled by deb-systemd-helper: the links systemctl enable would make;
# the runner timer shipped but not enabled.
check_units() {
	local w=/etc/systemd/system t
	assert_eq /lib/systemd/system/sendq.socket \
	    "$(in_root readlink "$w/sockets.target.wants/sendq.socket")" \
	    "sendq.socket enabled"
	assert_eq /lib/systemd/system/sendq.service \
	    "$(in_root readlink "$w/multi-user.target.wants/sendq.service")" \
	    "sendq.service enabled"
	for t in sendq-runner.timer sendq-metrics.timer; do
		in_root test -f "/lib/systemd/system/$t" || fail "$t not installed"
		if in_root test -e "$w/timers.target.wants/$t"; then
			fail "$t is enabled"
		fi
	done
	in_root grep -qx 'ExecStart=/usr/sbin/sendq daemon' \
	    /lib/systemd/system/sendq.service ||
	    fail "sendq.service does not run /usr/sbin/sendq"
}

check_installed() {
	check_files
	check_user_spool
	check_units
}

# The fixture smarthost outside the root (STARTTLS, AUTH required); the
# root's /etc/sendq.conf, as an administrator edits it, names it.
send_setup() {
	t_certs
	fixture_start relay --starttls --cert "$CERTS/server.pem" \
	    --key "$CERTS/server.key" --user alice --password "$PASSWORD" \
	    --require-auth
	cp "$CERTS/ca.pem" "$R/etc/sendq-test-ca.pem"
	cat >"$R/etc/sendq.conf" <<CONF
hostname = "client.example.com"
domain = "example.com"
log = stderr
account "default" {
    host = { "localhost:$FPORT" }
    tls = starttls
    tls_ca_file = "/etc/sendq-test-ca.pem"
    user = "alice"
    password = "$PASSWORD"
}
CONF
}

# send N FROM [setpriv options]: one message with sendmail -odi, as root
# or (with options) as another user; the smarthost has N messages then.
send_one() {
	local n=$1 from=$2
	shift 2
	printf 'Subject: package test %s\n\nsent by %s\n' "$n" "$from" |
	    in_root ${1+setpriv "$@"} /usr/sbin/sendmail -odi bob@example.org \
	    >"$W/send$n.log" 2>&1 || show_log "$W/send$n.log" "sendmail as $from failed"
	fixture_wait_msgs relay "$n"
	assert_eq "$from@example.com" "$(fixture_field relay "$n" mail_from)" \
	    "MAIL FROM of message $n"
	assert_eq bob@example.org "$(fixture_field relay "$n" rcpt_tos)" \
	    "RCPT TO of message $n"
	assert_eq alice "$(fixture_field relay "$n" auth_user)" "AUTH user"
	assert_contains "$(fixture_field relay "$n" tls)" '^TLSv1\.[23] '
	assert_contains "$(fixture_eml relay "$n")" "^Subject: package test $n"
}

send_mail() {
	send_setup
	send_one 1 root
	send_one 2 nobody --reuid=nobody --regid=nogroup --clear-groups
	assert_eq "" "$(in_root find /var/spool/sendq -maxdepth 1 -name '*.msg')" \
	    "messages left in the queue"
}

# dpkg -i over the installed package keeps the edited conffile and the
# overrides; dpkg -r keeps the configuration and the queue.
check_upgrade() {
	cp "$R/etc/sendq.conf" "$W/sendq.conf.edited"
	in_root dpkg -i /tmp/sendq.deb >"$W/dpkg-i2.log" 2>&1 ||
	    show_log "$W/dpkg-i2.log" "dpkg -i over the installed package failed"
	cmp -s "$W/sendq.conf.edited" "$R/etc/sendq.conf" ||
	    fail "dpkg -i replaced the edited /etc/sendq.conf"
	assert_eq "640 root sendq" "$(r_stat /etc/sendq.conf)" "sendq.conf kept"
	assert_eq "2755 root sendq" "$(r_stat /usr/sbin/sendmail)" \
	    "sendmail after dpkg -i again"
	in_root dpkg -r sendq >"$W/dpkg-r.log" 2>&1 ||
	    show_log "$W/dpkg-r.log" "dpkg -r failed"
	if in_root test -e /usr/sbin/sendmail; then
		fail "dpkg -r left /usr/sbin/sendmail"
	fi
	cmp -s "$W/sendq.conf.edited" "$R/etc/sendq.conf" ||
	    fail "dpkg -r did not keep /etc/sendq.conf"
	in_root test -d /var/spool/sendq/failed || fail "dpkg -r removed the queue"
}

# What may differ after the purge: dpkg's and apt's records and logs,
# the caches that the triggers rebuild, and the user and group sendq in
# the user database (kept; their backups, the *- files, appear).
ALLOWED_CHANGES='/var/lib/dpkg/|/var/log/(dpkg\.log|apt/|alternatives\.log)|/var/cache/debconf/|/etc/(passwd|group|shadow|gshadow|subuid|subgid)-? '

check_purge() {
	rm -f "$R/etc/sendq-test-ca.pem"
	in_root dpkg --purge sendq >"$W/dpkg-purge.log" 2>&1 ||
	    show_log "$W/dpkg-purge.log" "dpkg --purge failed"
	listing >"$W/after.list"
	diff "$W/before.list" "$W/after.list" | grep '^[<>]' |
	    grep -vE "^[<>] ($ALLOWED_CHANGES)" >"$W/left" || true
	if [ -s "$W/left" ]; then
		cat "$W/left" >&2
		fail "the purge left the root different (< before, > after)"
	fi
	assert_eq "" "$(in_root dpkg-statoverride --list)" "dpkg-statoverride"
	assert_eq "sendq:x:/nonexistent:/usr/sbin/nologin" \
	    "$(in_root getent passwd sendq | cut -d: -f1,2,6,7)" \
	    "user sendq (kept)"
	in_root getent group sendq >/dev/null || fail "group sendq not kept"
	if in_root dpkg-query -W -f='${db:Status-Status}\n' sendq 2>/dev/null |
	    grep -qv not-installed; then
		fail "sendq is still known to dpkg"
	fi
}

# The maintainer scripts name every unit: the prerm stops each one on
# removal (no systemd runs in the root, so this is read from the
# scripts), the postrm drops each one's enablement on purge.
check_scripts() {
	local u
	dpkg-deb -I "$DEB" prerm >"$W/prerm" &&
	    dpkg-deb -I "$DEB" postrm >"$W/postrm" || fail "no prerm or postrm"
	for u in sendq.socket sendq.service sendq-runner.timer \
	    sendq-runner.service sendq-metrics.timer sendq-metrics.service; do
		grep 'deb-systemd-invoke stop' "$W/prerm" | grep -qF "'$u'" ||
		    fail "the prerm does not stop $u"
	done
	for u in sendq.socket sendq.service sendq-runner.timer \
	    sendq-metrics.timer; do
		grep 'deb-systemd-helper purge' "$W/postrm" | grep -qF "'$u'" ||
		    fail "the postrm does not purge $u's enablement"
	done
}

# What `systemctl enable sendq-metrics.timer' makes; the purge must
# remove it.
METRICS_WANTS=/etc/systemd/system/timers.target.wants/sendq-metrics.timer
enable_metrics() {
	in_root ln -s /lib/systemd/system/sendq-metrics.timer "$METRICS_WANTS" ||
	    fail "cannot enable sendq-metrics.timer"
}

# A package with its own /usr/sbin/sendmail, root root 0755, that
# provides, conflicts with and replaces mail-transport-agent as Postfix
# does.
othermta_deb() {
	local d=$W/othermta
	mkdir -p "$d/DEBIAN" "$d/usr/sbin"
	printf '#!/bin/sh\nexit 0\n' >"$d/usr/sbin/sendmail"
	chmod 755 "$d/usr/sbin/sendmail"
	cat >"$d/DEBIAN/control" <<CONTROL
Package: othermta
Version: 1.0
Architecture: all
Maintainer: sendq developers <sendq@example.org>
Provides: mail-transport-agent
Conflicts: mail-transport-agent
Replaces: mail-transport-agent
Description: another mail server's sendmail, for the package test
 Only /usr/sbin/sendmail.
CONTROL
	dpkg-deb --root-owner-group --build "$d" "$R/tmp/othermta.deb" \
	    >"$W/othermta.log" 2>&1 || show_log "$W/othermta.log" "dpkg-deb --build"
}

# dpkg -r took the override of /usr/sbin/sendmail with it (the
# configuration's stays until the purge): the next mail server,
# installed after sendq's removal as apt install postfix does it,
# keeps its sendmail's 0755 root root.  Then dpkg -i of sendq sets the
# override again, and dpkg -r leaves sendq removed for the purge.
check_next_mta() {
	local log=$W/othermta.log
	assert_eq "root sendq 640 /etc/sendq.conf" \
	    "$(in_root dpkg-statoverride --list)" "dpkg-statoverride after dpkg -r"
	othermta_deb
	in_root dpkg -i /tmp/othermta.deb >>"$log" 2>&1 ||
	    show_log "$log" "dpkg -i othermta failed"
	assert_eq "755 root root" "$(r_stat /usr/sbin/sendmail)" \
	    "the next mail server's sendmail"
	in_root dpkg --purge othermta >>"$log" 2>&1 ||
	    show_log "$log" "dpkg --purge othermta failed"
	in_root dpkg -i /tmp/sendq.deb >>"$log" 2>&1 ||
	    show_log "$log" "dpkg -i after othermta failed"
	assert_eq "2755 root sendq" "$(r_stat /usr/sbin/sendmail)" \
	    "sendmail installed again"
	assert_eq "root sendq 2755 /usr/sbin/sendmail
root sendq 640 /etc/sendq.conf" \
	    "$(in_root dpkg-statoverride --list | sort -k4r)" \
	    "dpkg-statoverride after dpkg -i again"
	in_root dpkg -r sendq >>"$log" 2>&1 || show_log "$log" "dpkg -r failed"
}

# After the purge: the enablement of the metrics timer is gone.
check_purged_units() {
	if in_root test -L "$METRICS_WANTS"; then
		fail "the purge left $METRICS_WANTS"
	fi
	if in_root test -e \
	    /var/lib/systemd/deb-systemd-helper-enabled/sendq-metrics.timer.dsh-also; then
		fail "the purge left deb-systemd-helper's state of sendq-metrics.timer"
	fi
}

# A system user sendq with no group sendq (made by hand or by another
# package): configure makes the group, puts the user in it and sets the
# overrides.
check_user_without_group() {
	local d
	in_root userdel sendq || fail "userdel sendq failed"
	if in_root getent group sendq >/dev/null; then
		in_root groupdel sendq || fail "groupdel sendq failed"
	fi
	in_root useradd --system --gid nogroup --home-dir /nonexistent \
	    --no-create-home --shell /usr/sbin/nologin sendq ||
	    fail "useradd sendq failed"
	in_root dpkg -i /tmp/sendq.deb >"$W/dpkg-i3.log" 2>&1 ||
	    show_log "$W/dpkg-i3.log" "dpkg -i with a user sendq and no group failed"
	in_root getent group sendq >/dev/null || fail "no group sendq made"
	in_root id -Gn sendq | tr ' ' '\n' | grep -qx sendq ||
	    fail "user sendq not put in group sendq: $(in_root id sendq)"
	assert_eq "2755 root sendq" "$(r_stat /usr/sbin/sendmail)" \
	    "sendmail (user sendq without a group)"
	assert_eq "640 root sendq" "$(r_stat /etc/sendq.conf)" \
	    "sendq.conf (user sendq without a group)"
	for d in "" /failed /rate /state; do
		assert_eq "2770 root sendq" "$(r_stat "/var/spool/sendq$d")" \
		    "/var/spool/sendq$d (user sendq without a group)"
	done
}

# A member of group sendq replaces the spool's rate/ with a link: the
# next configure (an upgrade) warns, leaves the link alone and
# completes.
check_planted_link() {
	in_root setpriv --reuid=sendq --regid=sendq --clear-groups \
	    sh -c 'rmdir /var/spool/sendq/rate && ln -s /etc /var/spool/sendq/rate' ||
	    fail "cannot plant the link as group sendq"
	in_root dpkg -i /tmp/sendq.deb >"$W/dpkg-i4.log" 2>&1 ||
	    show_log "$W/dpkg-i4.log" "dpkg -i with a link named rate in the spool failed"
	grep -q '^sendq: warning: /var/spool/sendq/rate: not a directory' \
	    "$W/dpkg-i4.log" || show_log "$W/dpkg-i4.log" "no warning about rate"
	assert_eq /etc "$(in_root readlink /var/spool/sendq/rate)" "the planted link"
	assert_eq "755 root root" "$(r_stat /etc)" "/etc, the link's target"
	assert_eq "2770 root sendq" "$(r_stat /var/spool/sendq/state)" \
	    "/var/spool/sendq/state beside the link"
}
