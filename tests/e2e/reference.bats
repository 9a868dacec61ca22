#!/usr/bin/env bats
# reference.bats - the baseline SBC made of Debian parts, with real phones:
# baresip Alice (SIP over TLS, mandatory SRTP) -> Kamailio (tls, registrar,
# rtpengine module) + rtpengine (userspace, SRTP <-> RTP) -> baresip Bob
# (plain UDP). What sbckit's gateway is compared against, and the proof
# that the harness and the baresip configuration are right.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	sbk_have baresip sox tshark tcpdump kamailio rtpengine ||
	    skip "needs baresip, sox, tshark, tcpdump, kamailio, rtpengine"
	[ -f "$KAMAILIO_MODULES/tls.so" ] ||
	    skip "kamailio-tls-modules not installed"
	sbk_e2e_init "reference-$BATS_TEST_NUMBER"
	sbk_lab_kamailio rtpengine
}

teardown() {
	sbk_e2e_cleanup
}

@test "reference SBC: Alice (TLS+SRTP) calls Bob (UDP+RTP), both hear the other" {
	sbk_call alice bob "$BOB_FROM_ALICE" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
}

@test "reference SBC: Bob calls Alice over her registered TLS connection" {
	sbk_call bob alice "$ALICE_FROM_BOB" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
}
