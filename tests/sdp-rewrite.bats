#!/usr/bin/env bats
# sdp-rewrite.bats - data-driven cases (tests/cases/sdp-rewrite/CASE/), round
# trips, and the command-line conventions.
#
# A case directory holds: args (one argument per line), input.sdp (stdin),
# expected (stdout), exit (status), optionally stderr (exact), offer.sdp or
# key files the args name (the case runs in its directory), and
# normalize-keys (random inline: keys in stdout become inline:KEY).
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0

setup() {
	SR=$SBK_BIN/sdp-rewrite
	CASES=$SBK_TOP/tests/cases/sdp-rewrite
	T=$BATS_TEST_TMPDIR
}

normalize() {
	sed -E 's#inline:[A-Za-z0-9+/=]+#inline:KEY#g'
}

# run_case DIR: run one case; fail with a diff on any mismatch.
run_case() {
	local d=$1 args=() rc want
	mapfile -t args < "$d/args"
	( cd "$d" && timeout 10 "$SR" "${args[@]}" < input.sdp \
	    > "$T/out" 2> "$T/err" ); rc=$?
	want=$(cat "$d/exit")
	if [ -e "$d/normalize-keys" ]; then
		normalize < "$T/out" > "$T/out.n" && mv "$T/out.n" "$T/out"
	fi
	if [ "$rc" != "$want" ]; then
		echo "$(basename "$d"): exit $rc, want $want"; cat "$T/err"
		return 1
	fi
	if ! cmp -s "$d/expected" "$T/out"; then
		echo "$(basename "$d"): stdout differs"
		diff -u "$d/expected" "$T/out" | cat -A | head -40
		return 1
	fi
	if [ -e "$d/stderr" ] && ! cmp -s "$d/stderr" "$T/err"; then
		echo "$(basename "$d"): stderr differs"
		diff -u "$d/stderr" "$T/err"
		return 1
	fi
	if [ "$want" != 0 ] && [ -s "$T/out" ]; then
		echo "$(basename "$d"): failed but wrote to stdout"
		return 1
	fi
}

@test "every case under tests/cases/sdp-rewrite" {
	local d n=0 bad=0
	for d in "$CASES"/*/; do
		n=$((n + 1))
		run_case "${d%/}" || bad=$((bad + 1))
	done
	echo "$n cases, $bad failed"
	[ "$n" -ge 20 ]
	[ "$bad" = 0 ]
}

@test "cases: a wrong expectation is caught" {
	cp -r "$CASES/baresip-to-rtp" "$T/case"
	sed -i 's/40000/40001/' "$T/case/expected"
	run run_case "$T/case"
	assert_failure
	assert_output --partial "stdout differs"
}

@test "unchanged SDP comes out byte-identical (CRLF, LF, no final newline)" {
	local f
	for f in "$CASES"/*/input.sdp; do
		head -c 1 "$f" | grep -q v || continue
		timeout 10 "$SR" < "$f" > "$T/out" 2>/dev/null || continue
		cmp "$f" "$T/out"
	done
	printf 'v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0' > "$T/nonl"
	timeout 10 "$SR" "$T/nonl" > "$T/out"
	cmp "$T/nonl" "$T/out"
}

@test "round trip: --to srtp then --to rtp gives back the RTP original" {
	local f
	for f in pbx-answer lf-only session-c-only; do
		f=$CASES/$f/input.sdp
		timeout 10 "$SR" --to srtp < "$f" > "$T/srtp"
		grep -q '^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' "$T/srtp"
		grep -q '^a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:' "$T/srtp"
		timeout 10 "$SR" --to rtp < "$T/srtp" > "$T/rtp"
		cmp "$f" "$T/rtp"
	done
}

@test "round trip: SRTP offer to rtp and back keeps every media line" {
	local f
	for f in baresip-identity pbx-print-keys ipv6-print-keys; do
		f=$CASES/$f/input.sdp
		timeout 10 "$SR" --to rtp < "$f" > "$T/rtp"
		! grep -q crypto "$T/rtp"
		timeout 10 "$SR" --to srtp --key-file <(timeout 10 "$SR" \
		    --print-keys < "$f") < "$T/rtp" > "$T/srtp"
		# same lines, a=crypto last per media with tags renumbered
		diff <(grep -v crypto "$f") <(grep -v crypto "$T/srtp")
		diff <(grep crypto "$f" | sed 's/^a=crypto:[0-9]* //') \
		    <(grep crypto "$T/srtp" | sed 's/^a=crypto:[0-9]* //')
	done
}

@test "fresh keys differ between runs and match --keys-out" {
	local f=$CASES/lf-only/input.sdp
	timeout 10 "$SR" --to srtp --keys-out "$T/k1" < "$f" > "$T/a"
	timeout 10 "$SR" --to srtp --keys-out "$T/k2" < "$f" > "$T/b"
	run stat -c %a "$T/k1"
	assert_output 600
	[ "$(wc -l < "$T/k1")" = 2 ]
	! cmp -s "$T/k1" "$T/k2"
	# the key file holds exactly the keys of the SDP written
	diff <(timeout 10 "$SR" --print-keys < "$T/a") "$T/k1"
	# and its keys are valid base64 of 30 bytes (decoded independently)
	sed -E 's/.*inline:([^ |]+).*/\1/' "$T/k1" | while read -r k; do
		[ "$(printf '%s' "$k" | base64 -d | wc -c)" = 30 ]
	done
}

@test "--keys-out appends and keeps mode 0600" {
	local f=$CASES/lf-only/input.sdp
	timeout 10 "$SR" --to srtp --keys-out "$T/k" < "$f" > /dev/null
	timeout 10 "$SR" --to srtp --keys-out "$T/k" < "$f" > /dev/null
	[ "$(wc -l < "$T/k")" = 4 ]
	run stat -c %a "$T/k"
	assert_output 600
}

@test "--suites chooses the offered suites and their order" {
	local f=$CASES/lf-only/input.sdp
	run timeout 10 "$SR" --to srtp \
	    --suites AEAD_AES_256_GCM,AES_256_CM_HMAC_SHA1_32 < "$f"
	assert_success
	assert_line --partial 'a=crypto:1 AEAD_AES_256_GCM inline:'
	assert_line --partial 'a=crypto:2 AES_256_CM_HMAC_SHA1_32 inline:'
}

@test "malformed SDP: exit 3, line number, nothing on stdout" {
	printf 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP9 x\r\n' \
	    > "$T/bad.sdp"
	run --separate-stderr timeout 10 "$SR" --to rtp < "$T/bad.sdp"
	[ "$status" = 3 ]
	[ -z "$output" ]
	[ "$stderr" = "sdp-rewrite: line 4: bad c= line: want 'IN IP4|IP6 ADDR'" ]
	run --separate-stderr timeout 10 "$SR" --to rtp "$T/bad.sdp"
	[ "$status" = 3 ]
	[[ $stderr == "sdp-rewrite: $T/bad.sdp: line 4: "* ]]
}

@test "a missing input file: exit 1" {
	run --separate-stderr timeout 10 "$SR" "$T/nope.sdp"
	[ "$status" = 1 ]
	[[ $stderr == *"nope.sdp: No such file or directory" ]]
}

@test "--help on stdout exit 0, --version, bad option exit 2" {
	run --separate-stderr timeout 10 "$SR" --help
	assert_success
	[[ $output == "usage: sdp-rewrite"* ]]
	[ -z "$stderr" ]
	run timeout 10 "$SR" -V
	assert_success
	assert_output --regexp '^sdp-rewrite \(sbckit\) [0-9.]+$'
	run --separate-stderr timeout 10 "$SR" -Z
	[ "$status" = 2 ]
	[[ $stderr == *"Try 'sdp-rewrite --help' for more information." ]]
	run timeout 10 "$SR" a.sdp b.sdp
	[ "$status" = 2 ]
}

@test "stdout write errors are not silent" {
	[ -e /dev/full ] || skip "no /dev/full"
	run --separate-stderr bash -c 'timeout 10 "$1" "$2" > /dev/full' _ \
	    "$SR" "$CASES/baresip-identity/input.sdp"
	[ "$status" = 1 ]
	[[ $stderr == "sdp-rewrite: write error: "* ]]
}
