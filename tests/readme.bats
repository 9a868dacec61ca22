#!/usr/bin/env bats
# readme.bats - the README's lab runs as written: its ```sh recipe blocks,
# in order, in one shell (tests/e2e/run-recipe), with build/bin on PATH.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	command -v openssl >/dev/null || skip "needs openssl"
	[ -x "$SBK_BIN/sbc-gateway" ] || skip "sbc-gateway not built"
	W=$(mktemp -d "${BATS_TMPDIR:-/tmp}/readme.XXXXXX")
}

# A recipe that failed half-way leaves its gateway running: stop whatever
# still runs in the lab directory, by PID.
teardown() {
	local p c
	for p in /proc/[0-9]*; do
		c=$(readlink "$p/cwd" 2>/dev/null) || continue
		[ "$c" = "$W" ] && kill "${p#/proc/}" 2>/dev/null
	done
	sleep 0.5
	rm -rf "$W"
}

@test "README: the five-minute lab registers a phone over TLS" {
	run timeout 60 "$SBK_TOP/tests/e2e/run-recipe" "$SBK_TOP/README.md" "$W"
	printf '%s\n' "$output" | sed 's/^/# /' >&3
	assert_success
	assert_output --partial "sbc-gateway: ready: srtp-bridge pid"
	assert_output --partial "SIP/2.0 200 OK"
	# What the lab says it leaves behind: TLS secrets, and files of
	# keys that only their owner can read.
	[ -s "$W/tls.keys" ]
	[ "$(stat -c %a "$W/tls.keys")" = 600 ]
	[ "$(stat -c %a "$W/keys.log")" = 600 ]
	grep -q '^CLIENT_HANDSHAKE_TRAFFIC_SECRET \|^CLIENT_RANDOM ' "$W/tls.keys"
}
