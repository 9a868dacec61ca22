#!/usr/bin/env bats
# faults.bats - a phone that vanishes in mid-call, through sbckit's gateway
# (sip-tls-term --registrar + srtp-bridge) with baresip phones: what is
# reaped, by which timeout, and what the other side sees.
#
# What the gateway does: it never sends a BYE of its own (neither does
# Kamailio + rtpengine without the dialog module). sip-tls-term drops a
# TLS flow at once when the peer closes it, or after --idle-timeout without
# traffic when the peer went silent; a request for a dropped flow gets 430
# Flow Failed. A BYE deletes the call from the relay, whether forwarded or
# answered 430.
# srtp-bridge ends a call once neither direction has carried media for
# --timeout (as rtpengine does): while the inside phone keeps sending, the
# call is kept; the inside phone's own RTP timeout (baresip: rtp_timeout)
# or its user ends it.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	source "$SBK_TOP/tests/e2e/lib-kamailio.bash"
	[ -x "$SBK_BIN/sip-tls-term" ] && [ -x "$SBK_BIN/srtp-bridge" ] ||
	    skip "sip-tls-term or srtp-bridge not built"
	sbk_have baresip sox tcpdump ss ||
	    skip "needs baresip, sox, tcpdump, ss"
	sbk_e2e_init "faults-$BATS_TEST_NUMBER"
	NFT_TABLE=
	# Short timeouts, so the test is quick: relay media 3 s.
	E2E_BRIDGE_ARGS="--timeout 3"
}

teardown() {
	[ -n "$NFT_TABLE" ] && nft delete table inet "$NFT_TABLE" 2>/dev/null
	sbk_e2e_cleanup
}

# calls: the call-ids srtp-bridge has now (one a line).
calls() {
	sbk_ng "${E2E_NG%:*}" "${E2E_NG##*:}" list |
	    sed -n 's/^ *"\([^"]*\)",\{0,1\}$/\1/p'
}
no_calls() { [ -z "$(calls)" ]; }

# flows: established TCP connections on sip-tls-term's TLS port.
flows() {
	ss -Htn state established "( sport = :$E2E_GW_TLS )" src "$EXT" |
	    wc -l
}
no_flows() { [ "$(flows)" = 0 ]; }

# call_up: Alice calls Bob, both established, media flowing through the
# relay (one call in its list).
call_up() {
	sbk_mark alice; sbk_mark bob
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_ESTABLISHED 15
	sbk_event bob CALL_ESTABLISHED 5
	sleep 1
	run calls
	[ "${#lines[@]}" = 1 ] || { sbk_fail "relay calls: $output"; return 1; }
	[ "$(flows)" = 1 ]
}

# vanish_silently: from now on nothing reaches or leaves the gateway's
# outside addresses (TLS and SRTP), as when a phone loses its network;
# then the phone dies, and its FIN is lost too.
vanish_silently() {
	sbk_have nft || skip "needs nft"
	NFT_TABLE=sbkfaults$$$RANDOM
	nft add table inet "$NFT_TABLE" &&
	nft add chain inet "$NFT_TABLE" in \
	    '{ type filter hook input priority 0; policy accept; }' &&
	nft add rule inet "$NFT_TABLE" in ip daddr "{ $EXT, $MEXT }" drop &&
	nft add rule inet "$NFT_TABLE" in ip saddr "{ $EXT, $MEXT }" drop ||
	    skip "nft refused the rules (no CAP_NET_ADMIN?)"
	sbk_signal alice KILL
}

# flow_closed WHY: sip-tls-term logged a flow closed for reason WHY.
flow_closed() { grep -q "flow .*: closed: $1" "$E2E_DIR/sip-tls-term.log"; }

@test "faults: a phone closes its connection mid-call: flow dropped at once; the inside phone's BYE gets 430 and still deletes the call from the relay" {
	E2E_CONF_bob="rtp_timeout	3"
	E2E_BRIDGE_ARGS=		# no media timeout: only the BYE can end it
	sbk_lab_gateway --idle-timeout 60 -v
	call_up
	sbk_signal alice KILL		# the kernel closes its TCP (FIN)
	sbk_wait_for 5 no_flows
	flow_closed "peer closed"
	# Bob hears nothing, gives up after 3 s (rtp_timeout) and sends a
	# BYE, which the gateway answers 430 Flow Failed (RFC 5626): Alice's
	# flow is gone. It deletes the call from the relay all the same.
	sbk_event bob CALL_CLOSED 15
	sbk_log "bob: $E2E_EVENT"
	sbk_wait_for 5 grep -q '430 Flow Failed' "$E2E_DIR/bob.log"
	sbk_wait_for 5 no_calls
	grep -E 'delete [0-9a-f]+' "$E2E_DIR/srtp-bridge.log"
	run sbk_ng "${E2E_NG%:*}" "${E2E_NG##*:}" statistics
	assert_output --partial '"sessionstotal": 0'
	assert_output --partial '"managedsessions": 1'
}

@test "faults: both phones vanish silently mid-call (no FIN): the relay's media timeout deletes the call, the idle timeout drops the flow" {
	sbk_lab_gateway --idle-timeout 10 -v
	call_up
	vanish_silently
	# Bob still sends: the call is alive for the relay (as for
	# rtpengine), past its 3 s media timeout.
	sleep 4
	run calls
	[ "${#lines[@]}" = 1 ]
	# Bob goes too, without a BYE: now nothing flows either way and the
	# media timeout (3 s) deletes the call.
	sbk_signal bob KILL
	sbk_wait_for 10 no_calls
	grep 'no media, deleted' "$E2E_DIR/srtp-bridge.log"
	run sbk_ng "${E2E_NG%:*}" "${E2E_NG##*:}" statistics
	assert_output --partial '"sessionstotal": 0'
	# Nothing more comes from Alice: the idle timeout drops the flow;
	# the gateway never saw her close it.
	sbk_wait_for 25 no_flows
	flow_closed "idle timeout"
	run flow_closed "peer closed"
	assert_failure
}
