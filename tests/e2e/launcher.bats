#!/usr/bin/env bats
# launcher.bats - the gateway as users run it: sbc-gateway starting
# srtp-bridge and sip-tls-term from one command line, with baresip phones
# (Alice over TLS with mandatory SRTP, Bob on plain UDP): a call with the
# tones checked at both ends and each leg classified by tshark, a new
# certificate loaded through the launcher's SIGHUP in mid-call, and SIGTERM
# stopping both tools with the relay's totals.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	[ -x "$SBK_BIN/sbc-gateway" ] || skip "sbc-gateway not built"
	sbk_have baresip sox tshark tcpdump ||
	    skip "needs baresip, sox, tshark, tcpdump"
	sbk_e2e_init "launcher-$BATS_TEST_NUMBER"
}

teardown() {
	sbk_e2e_cleanup
}

fingerprint() { openssl x509 -noout -fingerprint -sha256 "$@"; }

@test "launcher: a call through sbc-gateway survives SIGHUP (new certificate); SIGTERM stops all" {
	sbk_lab_launcher
	local log=$E2E_DIR/sbc-gateway.log br st
	br=$(sed -n 's/.*ready: srtp-bridge pid \([0-9]*\).*/\1/p' "$log")
	st=$(sed -n 's/.*sip-tls-term pid \([0-9]*\)$/\1/p' "$log")
	[ -n "$br" ] && [ -n "$st" ]
	# sip-tls-term's start-up lines: on stderr with its prefix; nothing
	# on the launcher's stdout (no --print-addresses)
	grep -qx "sip-tls-term: info: listening tls $EXT:$E2E_GW_TLS" "$log"
	grep -qx "sip-tls-term: info: inside udp $INT:$E2E_GW_UDP" "$log"
	run grep -E '^(listening|inside) ' "$log"
	assert_failure
	sbk_mark alice; sbk_mark bob
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_ESTABLISHED 15
	sbk_event bob CALL_ESTABLISHED 5
	sleep 1
	sbk_certs "$E2E_DIR/pki2" "$EXT"
	cp "$E2E_DIR/pki2/gw.pem" "$E2E_DIR/pki/gw.pem"
	cp "$E2E_DIR/pki2/gw.key" "$E2E_DIR/pki/gw.key"
	sbk_signal sbc-gateway HUP
	sbk_wait_for 5 grep -q '^sip-tls-term: .*certificates reloaded' "$log"
	assert_equal "$(openssl s_client -connect "$EXT:$E2E_GW_TLS" \
	    </dev/null 2>/dev/null | fingerprint)" \
	    "$(fingerprint -in "$E2E_DIR/pki2/gw.pem")"
	sleep 1
	run grep -c CALL_CLOSED "$E2E_DIR/alice/events"
	assert_output 0
	sbk_cmd alice hangup
	sbk_event alice CALL_CLOSED 10
	sbk_event bob CALL_CLOSED 10
	sleep 0.3
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
	# the same tools, under the same PIDs, all along
	kill -0 "$br" "$st"
	sbk_signal sbc-gateway TERM
	sbk_wait_for 15 grep -q '^sbc-gateway: stopped$' "$log"
	run grep -m1 'summary: rtp in_packets=' "$log"
	sbk_log "relay: $output"
	[[ $output =~ \ forwarded=([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -ge 100 ]
	sbk_wait_for 5 eval "! kill -0 $br 2>/dev/null && ! kill -0 $st 2>/dev/null"
}
