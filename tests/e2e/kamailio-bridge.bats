#!/usr/bin/env bats
# kamailio-bridge.bats - Kamailio drives sbckit's srtp-bridge through its
# rtpengine module (the scale-out path: Kamailio balances relays), with
# real phones: baresip Alice (TLS, mandatory SRTP) and Bob (UDP).

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	[ -x "$SBK_BIN/srtp-bridge" ] || skip "srtp-bridge not built"
	sbk_have baresip sox tshark tcpdump kamailio ||
	    skip "needs baresip, sox, tshark, tcpdump, kamailio"
	[ -f "$KAMAILIO_MODULES/tls.so" ] ||
	    skip "kamailio-tls-modules not installed"
	sbk_e2e_init "kamailio-bridge-$BATS_TEST_NUMBER"
	sbk_lab_kamailio srtp-bridge
}

teardown() {
	sbk_e2e_cleanup
}

@test "kamailio+srtp-bridge: Alice (TLS+SRTP) calls Bob (UDP+RTP), both hear the other" {
	sbk_call alice bob "$BOB_FROM_ALICE" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
	# srtp-bridge logged the keys of the call, one per direction.
	grep -q ' dir=in AES_CM_128_HMAC_SHA1_80 inline:' "$E2E_KEYLOG"
	grep -q ' dir=out AES_CM_128_HMAC_SHA1_80 inline:' "$E2E_KEYLOG"
}

@test "kamailio+srtp-bridge: Bob calls Alice over her registered TLS connection" {
	sbk_call bob alice "$ALICE_FROM_BOB" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
}
