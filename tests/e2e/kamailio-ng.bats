#!/usr/bin/env bats
# kamailio-ng.bats - the ng protocol against real peers: rtpengine-daemon
# (the reference relay), Kamailio's rtpengine module (the reference client)
# and srtp-bridge (ours), with baresip phones making real calls.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	source "$SBK_TOP/tests/e2e/lib-kamailio.bash"
	sbk_have rtpengine kamailio baresip tshark xxd ||
	    skip "needs rtpengine-daemon, kamailio, baresip, tshark, xxd"
	sbk_e2e_init "kamailio-ng-$BATS_TEST_NUMBER"
	NG=$E2E_NET.1 KAM=$E2E_NET.2 OUT=$E2E_NET.20 IN=$E2E_NET.21
	ALICE=$E2E_NET.10 BOB=$E2E_NET.30
	REQS=$SBK_TOP/tests/cases/ng
}

teardown() {
	sbk_e2e_cleanup
}

# A call alice (outside, SRTP mandatory) -> Kamailio -> bob (inside, plain
# RTP) through the relay on $NG:$E2E_NGPORT; tones checked both ways.
call_through_kamailio() {
	sbk_tone "$E2E_DIR/alice.wav" 440
	sbk_tone "$E2E_DIR/bob.wav" 1000
	sbk_baresip bob "$BOB" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$BOB:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu"
	local bobport=$E2E_SIPPORT
	sbk_baresip alice "$ALICE" "$E2E_DIR/alice.wav" \
	    "<sip:alice@$ALICE:@SIPPORT@>;regint=0;answermode=auto;mediaenc=srtp-mand;audio_codecs=pcmu"
	local aliceport=$E2E_SIPPORT
	sbk_kamailio kam "$KAM" "$NG" "$E2E_NGPORT" "$BOB:$bobport" \
	    "$ALICE:$aliceport"
	sbk_call alice bob "sip:bob@$KAM:$E2E_KAMPORT" 3
	sbk_heard bob 440
	sbk_heard alice 1000
	# and the other way: the relay offers SRTP towards alice
	sbk_call bob alice "sip:alice@$KAM:$E2E_KAMPORT" 3
	sbk_heard bob 440
	sbk_heard alice 1000
}

# After a capture of the ng port: every request Kamailio sent got exactly
# one answer (retransmissions aside), and every answer is ok or pong.
check_ng_replies() {
	local f n_req n_rep
	sbk_ng_extract "$E2E_DIR/ng.pcap" "$E2E_NGPORT" "$E2E_DIR/ng" rep
	n_req=$(ls "$E2E_DIR"/ng/req-*.bin | wc -l)
	n_rep=$(ls "$E2E_DIR"/ng/rep-*.bin | wc -l)
	sbk_log "ng: $n_req requests, $n_rep replies"
	[ "$n_req" -ge 9 ]
	[ "$n_rep" = "$n_req" ]
	for f in "$E2E_DIR"/ng/rep-*.bin; do
		grep -qaE '6:result(2:ok|4:pong)' "$f" ||
		    { sbk_fail "not ok/pong: $(head -c 300 "$f")"; return 1; }
	done
}

@test "ng-send: ping, offer, query, delete against rtpengine-daemon" {
	sbk_rtpengine rtpe "$OUT" "$IN" "$NG"
	run sbk_ng "$NG" "$E2E_NGPORT" ping
	assert_success
	assert_output --partial '"result": "pong"'

	run sbk_ng "$NG" "$E2E_NGPORT" offer call-id=c1 from-tag=t1 \
	    sdp=@"$REQS/outside-offer.sdp" transport-protocol=RTP/AVP \
	    'replace[]=origin' 'replace[]=session-connection' ICE=remove \
	    'direction[]=outside' 'direction[]=inside' \
	    -s "$E2E_DIR/answer.sdp"
	assert_success
	run sbk_sdp_summary "$E2E_DIR/answer.sdp"
	assert_output "RTP/AVP crypto=0"
	run grep -c "c=IN IP4 $IN" "$E2E_DIR/answer.sdp"
	assert_output 1

	run sbk_ng "$NG" "$E2E_NGPORT" list
	assert_success
	assert_output --partial '"c1"'
	run sbk_ng "$NG" "$E2E_NGPORT" query call-id=c1
	assert_success
	assert_output --partial '"t1"'
	run sbk_ng "$NG" "$E2E_NGPORT" delete call-id=c1 from-tag=t1 \
	    delete-delay:=0
	assert_success
	run sbk_ng "$NG" "$E2E_NGPORT" query call-id=c1
	assert_failure 1
	assert_output --partial 'Unknown call-id'
}

@test "ng-send: usage, timeouts and malformed input" {
	run "$NG_SEND" --help
	assert_success
	assert_output --partial usage
	run "$NG_SEND" --bogus
	assert_failure 2
	run "$NG_SEND" "$NG:9"
	assert_failure 2
	run "$NG_SEND" "$NG:9" offer novalue
	assert_failure 2
	# nothing listens: every try times out
	run "$NG_SEND" -n 2 -t 100 "$NG:$(sbk_freeport "$NG")" ping
	assert_failure 1
	assert_output --partial 'no reply after 2 tries'
	printf 'not bencode' > "$E2E_DIR/junk"
	run "$NG_SEND" --decode "$E2E_DIR/junk"
	assert_failure 3
}

@test "Kamailio + rtpengine-daemon: a call, and what the rtpengine module sends parses with lib/ng" {
	sbk_rtpengine rtpe "$OUT" "$IN" "$NG"
	sbk_capture ng "udp and host $NG and port $E2E_NGPORT"
	call_through_kamailio
	sleep 0.5
	sbk_capture_stop ng || true	# its kill reports the signal
	sbk_ng_extract "$E2E_DIR/ng.pcap" "$E2E_NGPORT" "$E2E_DIR/ng"
	check_ng_replies
	local f cmds="" offer="" answer="" offer_out=""
	for f in "$E2E_DIR"/ng/req-*.bin; do
		"$NG_SEND" --decode "$f" > "$f.txt"
		# everything Kamailio sends is understood and complete
		run grep -E '^(unknown|incomplete):' "$f.txt"
		assert_failure
		local c
		c=$(sed -n 's/^command: //p' "$f.txt")
		cmds="$cmds $c"
		if [ "$c" = offer ] && [ -z "$offer" ]; then offer=$f.txt
		elif [ "$c" = offer ]; then offer_out=$f.txt; fi
		[ "$c" = answer ] && [ -z "$answer" ] && answer=$f.txt
	done
	sbk_log "ng commands sent by Kamailio:$cmds"
	[[ $cmds == *ping*offer*answer*query*delete*offer*answer*query*delete* ]]
	run cat "$offer"
	assert_line "transport-protocol: RTP/AVP"
	assert_line "from-interface: outside"
	assert_line "to-interface: inside"
	assert_line --regexp '^ICE: '
	assert_line --regexp '^replace: 0x3$'
	run cat "$answer"
	assert_line --regexp '^to-tag: .+'
	run cat "$offer_out"
	assert_line "transport-protocol: RTP/SAVP"
	assert_line "from-interface: inside"
	assert_line "to-interface: outside"
}

# Start srtp-bridge as an ng daemon, or skip the test (with the reason)
# while this build's srtp-bridge has no working ng mode.
bridge_or_skip() {
	local st=0
	sbk_srtp_bridge_ng bridge "$@" || st=$?
	[ $st = 2 ] && skip "$E2E_SKIP"
	[ $st = 0 ]
}

@test "same ng requests to rtpengine-daemon and srtp-bridge: equivalent SDP answers" {
	local cases=$SBK_TOP/tests/cases/ng/kamailio-5.6 relay port i
	local -A ngport=() outside=() inside=()
	bridge_or_skip "$OUT" "$IN" "$NG"
	ngport[bridge]=$E2E_NGPORT outside[bridge]=$OUT inside[bridge]=$IN
	sbk_rtpengine rtpe "$E2E_NET.40" "$E2E_NET.41" "$NG"
	ngport[rtpe]=$E2E_NGPORT outside[rtpe]=$E2E_NET.40 inside[rtpe]=$E2E_NET.41

	for relay in rtpe bridge; do
		port=${ngport[$relay]}
		# Kamailio's requests of a call outside -> inside, then of a
		# call inside -> outside, as captured
		i=0
		for f in offer-to-inside answer-from-inside offer-to-outside \
		    answer-from-outside; do
			i=$((i + 1))
			run sbk_ng "$NG" "$port" -q -f "$cases/$f.bin" \
			    -s "$E2E_DIR/$relay-$i.sdp"
			assert_success
			sbk_sdp_summary "$E2E_DIR/$relay-$i.sdp" \
			    > "$E2E_DIR/$relay-$i.sum"
		done
		# where the media goes: the relay's own addresses
		run grep -c "^c=IN IP4 ${inside[$relay]}" "$E2E_DIR/$relay-1.sdp"
		assert_output 1
		run grep -c "^c=IN IP4 ${outside[$relay]}" "$E2E_DIR/$relay-2.sdp"
		assert_output 1
		run grep -c "^c=IN IP4 ${outside[$relay]}" "$E2E_DIR/$relay-3.sdp"
		assert_output 1
		# a retransmitted delete (same cookie, same source address, as
		# Kamailio retransmits) is answered from the reply cache: the
		# same reply, not "Unknown call-id"
		run sbk_ng "$NG" "$port" -q offer call-id=retx from-tag=t1 \
		    sdp=@"$REQS/outside-offer.sdp" \
		    'direction[]=outside' 'direction[]=inside'
		assert_success
		local me
		me=$E2E_NET.50:$(sbk_freeport "$E2E_NET.50")
		run sbk_ng "$NG" "$port" --raw -b "$me" -c "retx-$relay" \
		    delete call-id=retx from-tag=t1 delete-delay:=0
		assert_success
		local first=$output
		run sbk_ng "$NG" "$port" --raw -b "$me" -c "retx-$relay" \
		    delete call-id=retx from-tag=t1 delete-delay:=0
		assert_success
		assert_output "$first"
		refute_output --partial 'not found'
		# and the call is gone
		run sbk_ng "$NG" "$port" -q query call-id=retx
		assert_failure 1
		# deleting it again: ok with a warning, or with the flag
		# `fatal` an error, the same reason from both relays
		run sbk_ng "$NG" "$port" delete call-id=retx from-tag=t1
		assert_success
		assert_output --partial '"result": "ok"'
		assert_output --partial '"warning": "Call-ID not found or tags didn'"'"'t match"'
		run sbk_ng "$NG" "$port" delete call-id=retx from-tag=t1 \
		    'flags[]=fatal'
		assert_failure 1
		assert_output --partial '"result": "error"'
		assert_output --partial '"error-reason": "Call-ID not found or tags didn'"'"'t match"'
	done
	for i in 1 2 3 4; do
		sbk_log "answer $i: rtpengine $(paste -sd' ' "$E2E_DIR/rtpe-$i.sum"), srtp-bridge $(paste -sd' ' "$E2E_DIR/bridge-$i.sum")"
		run diff "$E2E_DIR/rtpe-$i.sum" "$E2E_DIR/bridge-$i.sum"
		assert_success
	done
	# and what both said is what the SBC needs
	run cat "$E2E_DIR/rtpe-1.sum"
	assert_output "RTP/AVP crypto=0"
	run cat "$E2E_DIR/rtpe-2.sum"
	assert_output "RTP/SAVP crypto=1"
	run cat "$E2E_DIR/rtpe-3.sum"
	assert_output "RTP/SAVP crypto=1"
	run cat "$E2E_DIR/rtpe-4.sum"
	assert_output "RTP/AVP crypto=0"
}

@test "Kamailio + srtp-bridge: a call set up, queried and deleted through the ng port" {
	bridge_or_skip "$OUT" "$IN" "$NG"
	sbk_capture ng "udp and host $NG and port $E2E_NGPORT"
	call_through_kamailio
	sleep 0.5
	sbk_capture_stop ng || true	# its kill reports the signal
	# Kamailio's ping, offers, answers, queries and deletes were all
	# answered ok, and Kamailio logged no ng trouble
	sbk_ng_extract "$E2E_DIR/ng.pcap" "$E2E_NGPORT" "$E2E_DIR/ng"
	check_ng_replies
	run grep -iE 'rtpengine.*(error|failed|timeout)' "$E2E_DIR/kam.log"
	assert_failure
}
