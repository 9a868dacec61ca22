#!/usr/bin/env bats
# faults.bats - a phone that vanishes in mid-call, through sbckit's gateway
# (sip-tls-term --registrar + srtp-bridge) with baresip phones: what is
# reaped, by which timeout, and what the other side sees.
#
# sip-tls-term drops a TLS flow at once when the peer closes it, or after
# --idle-timeout without traffic when the peer went silent. With
# --bye-on-loss (the default) it then ends the phone's calls itself: the
# inside party gets the BYE the phone can no longer send (checked here
# field by field against the INVITE and 200 tshark reads off the inside
# capture, and answered 200 by a real baresip), and the relay a delete.
# With --no-bye-on-loss it sends nothing (as Kamailio + rtpengine without
# the dialog module): a request for the dropped flow gets 430 Flow Failed,
# and a BYE deletes the call from the relay, whether forwarded or answered
# 430; srtp-bridge ends a call once neither direction has carried media
# for --timeout (as rtpengine does), and the inside phone's own RTP
# timeout (baresip: rtp_timeout) or its user ends it.

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

# sip_field FILTER FIELD: FIELD of the SIP messages on the inside leg that
# match FILTER (tshark), one a line.
sip_field() {
	tshark -r "$E2E_DIR/inside.pcap" -Y "$1" -T fields -e "$2" 2>/dev/null
}

# inside_bye_ok: the one BYE Bob got is the one Alice would have sent:
# Call-ID, tags and URIs of the dialog, CSeq one more than her INVITE's,
# Request-URI Bob's Contact from his 200, no Route (nothing inside
# record-routed), our Via; and Bob answered it 200.
inside_bye_ok() {
	local inv='sip.Method == "INVITE"' ok='sip.Status-Code == 200 && sip.CSeq.method == "INVITE"'
	local bye='sip.Method == "BYE"'
	sbk_capture_stop inside
	run sip_field "$bye" sip.Call-ID
	[ "${#lines[@]}" -ge 1 ] || { sbk_fail "no BYE on the inside leg"; return 1; }
	[ "$(sip_field "$bye" sip.Call-ID | sort -u)" = "$(sip_field "$inv" sip.Call-ID | sort -u)" ]
	[ "$(sip_field "$bye" sip.from.tag | sort -u)" = "$(sip_field "$inv" sip.from.tag | sort -u)" ]
	[ "$(sip_field "$bye" sip.from.addr | sort -u)" = "$(sip_field "$inv" sip.from.addr | sort -u)" ]
	[ "$(sip_field "$bye" sip.to.tag | sort -u)" = "$(sip_field "$ok" sip.to.tag | sort -u)" ]
	[ "$(sip_field "$bye" sip.to.addr | sort -u)" = "$(sip_field "$inv" sip.to.addr | sort -u)" ]
	[ "$(sip_field "$bye" sip.CSeq.seq | sort -u)" = "$(( $(sip_field "$inv" sip.CSeq.seq | sort -u) + 1 ))" ]
	[ "$(sip_field "$bye" sip.r-uri | sort -u)" = "$(sip_field "$ok" sip.contact.uri | sort -u)" ]
	[ -z "$(sip_field "$bye" sip.Route)" ]
	[ "$(sip_field "$bye" sip.Max-Forwards | sort -u)" = 70 ]
	sip_field "$bye" sip.Via | grep -q "^SIP/2.0/UDP $INT:$E2E_GW_UDP;branch=z9hG4bK"
	run sip_field 'sip.Status-Code == 200 && sip.CSeq.method == "BYE"' sip.Call-ID
	[ "${#lines[@]}" -ge 1 ]
	grep -q "BYE for lost flow: 200" "$E2E_DIR/sip-tls-term.log"
}

@test "faults: a phone closes its connection mid-call: flow dropped at once, the inside phone gets a BYE on its behalf, the relay a delete" {
	E2E_BRIDGE_ARGS=		# no media timeout: only a BYE can end it
	sbk_lab_gateway --idle-timeout 60 -v
	call_up
	sbk_signal alice KILL		# the kernel closes its TCP (FIN)
	sbk_wait_for 5 no_flows
	flow_closed "peer closed"
	# Bob has no RTP timeout: only our BYE ends his call.
	sbk_event bob CALL_CLOSED 10
	sbk_log "bob: $E2E_EVENT"
	sbk_wait_for 5 no_calls
	grep -q "flow lost: BYE sent for 1 call" "$E2E_DIR/sip-tls-term.log"
	grep -E 'delete call-id=[0-9a-f]+' "$E2E_DIR/srtp-bridge.log"
	inside_bye_ok
}

@test "faults: a phone vanishes silently mid-call: after the idle timeout the inside phone gets a BYE on its behalf" {
	E2E_BRIDGE_ARGS=		# no media timeout: only a BYE can end it
	sbk_lab_gateway --idle-timeout 8 -v
	call_up
	vanish_silently
	# Bob still sends and nothing times his call out; the idle timeout
	# drops Alice's flow, and the gateway ends the call for her.
	sbk_wait_for 20 no_flows
	flow_closed "idle timeout"
	sbk_event bob CALL_CLOSED 10
	sbk_log "bob: $E2E_EVENT"
	sbk_wait_for 5 no_calls
	inside_bye_ok
}

@test "faults: --no-bye-on-loss: a phone closes its connection mid-call: flow dropped at once; the inside phone's BYE gets 430 and still deletes the call from the relay" {
	E2E_CONF_bob="rtp_timeout	3"
	E2E_BRIDGE_ARGS=		# no media timeout: only the BYE can end it
	sbk_lab_gateway --idle-timeout 60 --no-bye-on-loss -v
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
	grep -E 'delete call-id=[0-9a-f]+' "$E2E_DIR/srtp-bridge.log"
	run sbk_ng "${E2E_NG%:*}" "${E2E_NG##*:}" statistics
	assert_output --partial '"sessionstotal": 0'
	assert_output --partial '"managedsessions": 1'
}

@test "faults: --no-bye-on-loss: both phones vanish silently mid-call (no FIN): the relay's media timeout deletes the call, the idle timeout drops the flow" {
	sbk_lab_gateway --idle-timeout 10 --no-bye-on-loss -v
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
