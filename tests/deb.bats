#!/usr/bin/env bats
# deb.bats - `make deb` builds a Debian package that lintian accepts with
# no error; installed into a scratch root (dpkg --root, maintainer scripts
# run chrootless) it puts the tools, the units and the configuration in
# place and creates the sbckit user; the tools run and the units verify.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup_file() {
	for t in dpkg-buildpackage dh lintian; do
		command -v $t > /dev/null ||
		    skip "$t is missing (make check installs it)"
	done
	export DEBO=$BATS_FILE_TMPDIR/out
	# the whole build again, in a copy of the tree
	timeout 600 make --no-print-directory -C "$SBK_TOP" deb O="$DEBO" \
	    > "$BATS_FILE_TMPDIR/deb.out" 2>&1
	echo $? > "$BATS_FILE_TMPDIR/deb.rc"
}

setup() {
	for t in dpkg-buildpackage dh lintian; do
		command -v $t > /dev/null ||
		    skip "$t is missing (make check installs it)"
	done
	DEB=$(tail -1 "$BATS_FILE_TMPDIR/deb.out")
}

tools() {
	local t
	for t in "$SBK_TOP"/tools/*.c; do
		t=$(basename "$t" .c)
		[ "$t" = common ] || echo "$t"
	done
}

# scratch_install DIR: an empty dpkg database in DIR, the package installed
scratch_install() {
	local r=$1
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
	touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
	# the shared libraries it depends on are the host's, not in DIR
	timeout 120 dpkg --root="$r" --force-script-chrootless \
	    --force-depends --log=/dev/null -i "$DEB"
}

@test "deb: make deb builds a package lintian accepts (no errors)" {
	run cat "$BATS_FILE_TMPDIR/deb.out"
	[ "$(cat "$BATS_FILE_TMPDIR/deb.rc")" = 0 ] ||
	    fail "make deb failed: $output"
	[ -f "$DEB" ]
	case $DEB in */sbckit_*.deb) ;; *) fail "not a package: $DEB" ;; esac
	# our own lintian run, to see the verdict here too
	run lintian --fail-on error "$DEB"
	assert_success
	refute_output --partial "E: "
	# the version is the Makefile's
	run dpkg-deb -f "$DEB" Version
	assert_output "$(sed -n 's/^VERSION *:= *//p' "$SBK_TOP/Makefile")"
	# the libraries it runs on, found by dpkg-shlibdeps (libsrtp2 is
	# only the tests' reference: the tools do not use it)
	run dpkg-deb -f "$DEB" Depends
	local l
	for l in libssl3 libpcap0.8 liburing2 adduser; do
		assert_output --partial "$l"
	done
	# the configuration is a conffile: an upgrade keeps the admin's edits
	run sh -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xOf - ./conffiles"
	assert_output "/etc/sbckit/sbc-gateway.conf"
}

@test "deb: installed into a scratch root, every tool runs and the user exists" {
	local r=$BATS_TEST_TMPDIR/root t
	run scratch_install "$r"
	assert_success
	for t in $(tools); do
		[ -x "$r/usr/bin/$t" ] || fail "no /usr/bin/$t"
		[ -f "$r/usr/share/man/man1/$t.1.gz" ] || fail "no man page $t"
		[ -f "$r/usr/share/bash-completion/completions/$t" ] ||
		    fail "no completion for $t"
		run "$r/usr/bin/$t" --version
		assert_success
		assert_output --partial "$t"
	done
	[ -f "$r/usr/share/doc/sbckit/copyright" ]
	[ -f "$r/usr/share/doc/sbckit/examples/debug-recipe.md" ]
	# postinst: the sbckit user (sysusers), then its directories (tmpfiles)
	run grep -E '^sbckit:x:[0-9]+:[0-9]+:.*:/var/lib/sbckit:' "$r/etc/passwd"
	assert_success
	[ -d "$r/var/lib/sbckit" ]
	run stat -c %a "$r/etc/sbckit"
	assert_output 750
	run "$r/usr/bin/sbc-gateway" -c "$r/etc/sbckit/sbc-gateway.conf" \
	    --print-config
	assert_success
	# dpkg knows the package and every file it put there
	run dpkg --root="$r" -s sbckit
	assert_output --partial "Status: install ok installed"
	run dpkg --root="$r" -L sbckit
	assert_output --partial "/usr/bin/srtp-bridge"
}

@test "deb: the packaged units name /usr/bin and verify with systemd-analyze" {
	command -v systemd-analyze > /dev/null ||
	    skip "systemd-analyze is not installed"
	local r=$BATS_TEST_TMPDIR/root w=$BATS_TEST_TMPDIR/units u n=0
	run scratch_install "$r"
	assert_success
	mkdir -p "$w"
	for u in "$r"/lib/systemd/system/*.service; do
		run grep -c '^ExecStart=/usr/bin/' "$u"
		assert_output 1
		run grep -l /usr/local "$u"
		assert_failure
		# verify checks that ExecStart= exists: point it into the root
		sed -e "s|=/usr/bin/|=$r/usr/bin/|" -e '/^Documentation=/d' \
		    "$u" > "$w/$(basename "$u")"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
	run systemd-analyze verify "$w"/*.service
	assert_success
	assert_output ""
	# installed, not enabled: no symlink in the root's wants directories
	if [ -d "$r/etc/systemd" ]; then
		run find "$r/etc/systemd" -name '*.service'
		assert_output ""
	fi
}
