#!/usr/bin/env bats
# install.bats - `make install` into a scratch root puts every file where a
# distribution expects it, with the paths it was given; `make uninstall`
# takes it all away again.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	D=$BATS_TEST_TMPDIR/root
	# the existing build: `make install` builds first and must find it
	MK=(make --no-print-directory -C "$SBK_TOP" O="$SBK_BUILD"
	    DESTDIR="$D" PREFIX=/usr)
}

tools() {
	local t
	for t in "$SBK_TOP"/tools/*.c; do
		t=$(basename "$t" .c)
		[ "$t" = common ] || echo "$t"
	done
}

@test "install: make install PREFIX=/usr DESTDIR=...: everything in place" {
	run timeout 300 "${MK[@]}" install
	assert_success
	local t u n
	for t in $(tools); do
		[ -x "$D/usr/bin/$t" ] || fail "no /usr/bin/$t"
		[ -f "$D/usr/share/man/man1/$t.1" ] || fail "no man page $t.1"
		[ -f "$D/usr/share/bash-completion/completions/$t" ] ||
		    fail "no bash completion for $t"
		[ -f "$D/usr/share/zsh/vendor-completions/_$t" ] ||
		    fail "no zsh completion for $t"
		run "$D/usr/bin/$t" --version
		assert_success
		assert_output --partial "$t"
	done
	[ -x "$D/usr/bin/ng-ctl" ]
	[ -f "$D/usr/share/man/man7/sbckit.7" ]
	[ -f "$D/usr/share/doc/sbckit/README.md" ]
	[ -f "$D/usr/share/doc/sbckit/examples/debug-recipe.md" ]
	[ -f "$D/usr/share/doc/sbckit/examples/kamailio/kamailio.cfg" ]
	[ -f "$D/usr/share/doc/sbckit/examples/systemd/sbc-gateway.service" ]
	# the units, naming /usr/bin and nothing under /usr/local
	n=0
	for u in "$SBK_TOP"/examples/systemd/*.service; do
		u=$D/usr/lib/systemd/system/$(basename "$u")
		[ -f "$u" ] || fail "no $u"
		run grep -c '^ExecStart=/usr/bin/' "$u"
		assert_output 1
		run grep -l /usr/local "$u"
		assert_failure
		n=$((n + 1))
	done
	[ "$n" -ge 3 ]
	run grep -rl /usr/local "$D"/usr/share/doc/sbckit/examples "$D"/etc
	assert_failure
	# the sbckit user and its directories
	run grep -E '^u sbckit ' "$D/usr/lib/sysusers.d/sbckit.conf"
	assert_success
	run grep -E '^d /etc/sbckit 0750 root sbckit' \
	    "$D/usr/lib/tmpfiles.d/sbckit.conf"
	assert_success
	# the configuration: commented, valid, naming /usr/bin
	[ -f "$D/etc/sbckit/sbc-gateway.conf" ]
	run grep -c '^#srtp-bridge = /usr/bin/srtp-bridge$' \
	    "$D/etc/sbckit/sbc-gateway.conf"
	assert_output 1
	run "$D/usr/bin/sbc-gateway" -c "$D/etc/sbckit/sbc-gateway.conf" \
	    --print-config
	assert_success
}

@test "install: the installed units verify with systemd-analyze" {
	command -v systemd-analyze > /dev/null ||
	    skip "systemd-analyze is not installed"
	run timeout 300 "${MK[@]}" install
	assert_success
	local w=$BATS_TEST_TMPDIR/units u
	mkdir -p "$w"
	# verify checks that ExecStart= exists: point it into the scratch
	# root, and drop Documentation= (man pages are not looked up there)
	for u in "$D"/usr/lib/systemd/system/*.service; do
		sed -e "s|=/usr/bin/|=$D/usr/bin/|" -e '/^Documentation=/d' \
		    "$u" > "$w/$(basename "$u")"
	done
	run systemd-analyze verify "$w"/*.service
	assert_success
	assert_output ""
}

@test "install: an existing configuration is kept; uninstall leaves only it" {
	mkdir -p "$D/etc/sbckit"
	echo "outside = 192.0.2.99" > "$D/etc/sbckit/sbc-gateway.conf"
	run timeout 300 "${MK[@]}" install
	assert_success
	assert_output --partial "keeping the existing"
	run cat "$D/etc/sbckit/sbc-gateway.conf"
	assert_output "outside = 192.0.2.99"
	run "${MK[@]}" uninstall
	assert_success
	assert_output --partial "keeping $D/etc/sbckit/sbc-gateway.conf"
	# what is left: that file, and empty directories only
	run find "$D" -not -type d
	assert_output "$D/etc/sbckit/sbc-gateway.conf"
	[ ! -e "$D/usr/share/doc/sbckit" ]
}

@test "install: uninstall after a plain install leaves no file behind" {
	run timeout 300 "${MK[@]}" install
	assert_success
	run "${MK[@]}" uninstall
	assert_success
	run find "$D" -not -type d
	assert_output ""
	[ ! -e "$D/etc/sbckit" ]
	[ ! -e "$D/usr/share/doc/sbckit" ]
}
