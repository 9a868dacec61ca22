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
	EXT=$E2E_NET.1 INT=$E2E_NET.2 MEXT=$E2E_NET.3 MINT=$E2E_NET.4
	sbk_certs "$E2E_DIR/pki" "$EXT"
	sbk_tone "$E2E_DIR/alice.wav" 440
	sbk_tone "$E2E_DIR/bob.wav" 1000
	sbk_rtpengine "$MEXT" "$MINT"
	sbk_kamailio "$EXT" "$INT" "$E2E_DIR/pki/gw.pem" "$E2E_DIR/pki/gw.key"
	local gw="$EXT:$E2E_KAM_TLS;transport=tls"
	sbk_capture outside "host $EXT or host $MEXT"
	sbk_capture inside "(host $INT or host $MINT) and not port ${E2E_NG#*:}"
	sbk_baresip alice "$E2E_NET.10" "$E2E_DIR/alice.wav" \
	    "<sip:alice@$gw>;regint=600;mediaenc=srtp-mand;audio_codecs=pcmu;answermode=auto;outbound=\"sip:$gw\"" \
	    "$E2E_DIR/pki/ca.pem"
	sbk_baresip bob "$E2E_NET.30" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$INT:$E2E_KAM_UDP>;regint=600;answermode=auto;audio_codecs=pcmu"
	sbk_registered alice
	sbk_registered bob
	ALICE_FROM_BOB=sip:alice@$INT:$E2E_KAM_UDP
	BOB_FROM_ALICE="sip:bob@$gw"
}

teardown() {
	sbk_e2e_cleanup
}

# The outside leg carries only TLS and SRTP, the inside only SIP and RTP.
check_legs() {
	local out in
	sbk_capture_stop outside
	sbk_capture_stop inside
	out=$(sbk_pcap_classes "$E2E_DIR/outside.pcap")
	in=$(sbk_pcap_classes "$E2E_DIR/inside.pcap")
	sbk_log "outside: $out"
	sbk_log "inside:  $in"
	[ "$(sbk_pcap_get "$out" tls)" -gt 0 ]
	[ "$(sbk_pcap_get "$out" sip)" = 0 ]
	[ "$(sbk_pcap_get "$out" plain)" = 0 ]
	[ "$(sbk_pcap_get "$out" srtp80)" -ge 100 ]
	[ "$(sbk_pcap_get "$in" tls)" = 0 ]
	[ "$(sbk_pcap_get "$in" sip)" -ge 4 ]
	[ "$(sbk_pcap_get "$in" srtp80)" = 0 ]
	[ "$(sbk_pcap_get "$in" plain)" -ge 100 ]
}

@test "reference SBC: Alice (TLS+SRTP) calls Bob (UDP+RTP), both hear the other" {
	sbk_call alice bob "$BOB_FROM_ALICE" 3
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	check_legs
}

@test "reference SBC: Bob calls Alice over her registered TLS connection" {
	sbk_call bob alice "$ALICE_FROM_BOB" 3
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	check_legs
}
