#!/usr/bin/env bats
# gateway.bats - sbckit's own gateway with real phones: baresip Alice (SIP
# over TLS, mandatory SRTP) -> sip-tls-term (built-in registrar) +
# srtp-bridge -> baresip Bob (plain UDP). Calls both ways, tones checked at
# both ends, each leg classified with tshark, and the outside capture,
# decrypted with pcap-decrypt and srtp-bridge's key log, compared packet by
# packet with what the inside leg carried. Then faults.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	[ -x "$SBK_BIN/sip-tls-term" ] && [ -x "$SBK_BIN/srtp-bridge" ] ||
	    skip "sip-tls-term or srtp-bridge not built"
	sbk_have baresip sox tshark tcpdump ||
	    skip "needs baresip, sox, tshark, tcpdump"
	sbk_e2e_init "gateway-$BATS_TEST_NUMBER"
}

teardown() {
	sbk_e2e_cleanup
}

# decrypt_and_compare: the decrypted outside leg carries the same RTP
# packets (SSRC, sequence, payload) as the inside leg, decrypted with
# srtp-bridge's key log as written. Its src=/dst= name the phone's SDP
# address while baresip sends from another one (as a phone behind NAT
# would) and the relay latches to it: pcap-decrypt must take the peer's
# address in a dir= key line as a hint (see pcap-decrypt(1), KEYS).
decrypt_and_compare() {
	[ -x "$SBK_BIN/pcap-decrypt" ] || { sbk_log "no pcap-decrypt"; return 0; }
	mkdir -p "$E2E_DIR/wav"
	run "$SBK_BIN/pcap-decrypt" --keylog "$E2E_KEYLOG" \
	    -r "$E2E_DIR/outside.pcap" -w "$E2E_DIR/outside-plain.pcap" \
	    --wav "$E2E_DIR/wav"
	sbk_log "${lines[${#lines[@]} - 1]}"
	assert_success
	[ "$(ls "$E2E_DIR"/wav/*.wav | wc -l)" -ge 2 ]
	# the packets of the decrypted outside leg are those the inside leg
	# carried, but for the edges of the call (5%); the inside may have
	# more: what came before the handshake was done had no key to go
	# out with
	run sbk_rtp_match "$E2E_DIR/outside-plain.pcap" "$E2E_DIR/inside.pcap" 100
	sbk_log "decrypted outside vs inside: $output"
	local common a
	common=$(sed -n 's/^common=\([0-9]*\) .*/\1/p' <<< "$output")
	a=$(sed -n 's/.* a=\([0-9]*\) .*/\1/p' <<< "$output")
	[ "${a:-0}" -ge 40 ] && [ $((common * 100)) -ge $((a * 95)) ] ||
	    fail "decrypted outside RTP not all from the inside leg: $output"
}

@test "gateway: Alice (TLS+SRTP) calls Bob (UDP+RTP), both hear the other" {
	sbk_lab_gateway
	sbk_call alice bob "$BOB_FROM_ALICE" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
	grep -q ' dir=in AES_CM_128_HMAC_SHA1_80 inline:' "$E2E_KEYLOG"
	grep -q ' dir=out AES_CM_128_HMAC_SHA1_80 inline:' "$E2E_KEYLOG"
	decrypt_and_compare
}

# dtls_legs: the outside leg carried DTLS handshakes and SRTP; the keys
# the relay's DTLS exported, in its key log, decrypt every stream of the
# outside leg: both RTP streams into the packets the inside leg carried,
# and SRTCP. baresip keeps RTCP on its own port and keys it with a DTLS
# association of its own (RFC 5764 4.1): a second handshake, whose keys
# the relay uses for SRTCP and logs with the RTCP ports. baresip also
# sends a few RTCP packets in clear there (an APP "PINGPONG" as the stream
# starts, its BYE after the DTLS close): those (RTCP whose lengths add up
# to the datagram, where SRTCP has its index and tag after them, read from
# tshark's UDP payloads) are the only packets of the leg allowed not to
# decrypt.
dtls_legs() {
	local n l src clear nrtcp=0
	n=$(tshark -r "$E2E_DIR/outside.pcap" -d "udp.port==1-65535,dtls" \
	    -Y 'dtls.handshake.type == 1' 2>/dev/null | wc -l)
	sbk_log "DTLS ClientHellos outside: $n"
	[ "$n" -ge 2 ] || fail "a handshake on RTP and one on RTCP: $n"
	run "$SBK_BIN/pcap-decrypt" --keylog "$E2E_KEYLOG" \
	    -r "$E2E_DIR/outside.pcap" -w "$E2E_DIR/outside-plain.pcap"
	sbk_log "pcap-decrypt ($status): $output"
	[ "$status" -eq 0 ] || [ "$status" -eq 5 ] ||
	    fail "pcap-decrypt failed ($status): $output"
	[ "$(grep -cE ' rtp .* ok +line ' <<< "$output")" -eq 2 ] ||
	    fail "both RTP streams must decrypt: $output"
	# columns: ssrc kind source destination suite status key packets
	# decrypted ...
	while read -r l; do
		set -- $l
		src=$3
		clear=$(tshark -r "$E2E_DIR/outside.pcap" -Y "!icmp && \
		    ip.src==${src%:*} && udp.srcport==${src##*:}" \
		    -T fields -e udp.payload 2>/dev/null | awk '
		    function h(x,  i, v) { v = 0; for (i = 1; i <= length(x); i++)
			v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
			return v }
		    { n = length($0) / 2; o = 0; t = h(substr($0, 3, 2))
		      ok = n >= 8 && t >= 192 && t <= 223
		      while (ok && o + 4 <= n) {
			if (int(h(substr($0, o * 2 + 1, 2)) / 64) != 2) ok = 0
			o += (h(substr($0, o * 2 + 5, 4)) + 1) * 4 }
		      if (ok && o == n) c++ }
		    END { print c + 0 }')
		sbk_log "SRTCP $1 from $src: $9 of $8 decrypted, $clear in clear"
		[ "$9" -ge 1 ] && [ $(($8 - $9)) -eq "$clear" ] ||
		    fail "SRTCP from $src: $9 of $8 decrypted, $clear in clear"
		nrtcp=$((nrtcp + 1))
	done < <(grep -E '^0x[0-9a-f]+ rtcp ' <<< "$output")
	[ "$nrtcp" -ge 1 ] || fail "no SRTCP stream on the outside leg"
	# a failed stream other than RTCP that the above explained
	[ "$status" -eq 0 ] || ! grep -E '^0x[0-9a-f]+ rtp ' <<< "$output" |
	    grep -vqE ' ok +line ' ||
	    fail "an RTP stream failed: $output"
	# the packets of the decrypted outside leg are those the inside leg
	# carried, but for the edges of the call (5%); the inside may have
	# more: what came before the handshake was done had no key to go
	# out with
	run sbk_rtp_match "$E2E_DIR/outside-plain.pcap" "$E2E_DIR/inside.pcap" 100
	sbk_log "decrypted outside vs inside: $output"
	local common a
	common=$(sed -n 's/^common=\([0-9]*\) .*/\1/p' <<< "$output")
	a=$(sed -n 's/.* a=\([0-9]*\) .*/\1/p' <<< "$output")
	[ "${a:-0}" -ge 40 ] && [ $((common * 100)) -ge $((a * 95)) ] ||
	    fail "decrypted outside RTP not all from the inside leg: $output"
}

@test "gateway: Alice keys SRTP with DTLS (baresip dtls_srtp) and calls Bob, both hear the other" {
	E2E_ALICE_MEDIAENC=dtls_srtp sbk_lab_gateway
	sbk_call alice bob "$BOB_FROM_ALICE" 2
	sbk_heard alice 1000
	sbk_heard bob 440
	dtls_legs
}

@test "gateway: Bob calls Alice, who keys with DTLS (--outside-keying dtls)" {
	E2E_ALICE_MEDIAENC=dtls_srtp sbk_lab_gateway --outside-keying dtls
	sbk_call bob alice "$ALICE_FROM_BOB" 2
	sbk_heard alice 1000
	sbk_heard bob 440
	dtls_legs
}

@test "gateway: Bob calls Alice over her registered TLS connection" {
	sbk_lab_gateway
	sbk_call bob alice "$ALICE_FROM_BOB" 2
	sbk_log "call set-up: ${E2E_SETUP_MS} ms"
	sbk_heard alice 1000
	sbk_heard bob 440
	sbk_check_legs
	decrypt_and_compare
	# The TLS key log opens the signalling to tshark.
	run sbk_tls_sip "$E2E_DIR/outside.pcap" "$E2E_TLSKEYS" "$E2E_GW_TLS" \
	    'sip.Method == "INVITE"'
	assert_output --partial "INVITE sip:alice"
	# The debugging recipe's commands (examples/debug-recipe.md) work on
	# this capture, as written.
	run "$SBK_TOP/tests/e2e/run-recipe" "$SBK_TOP/examples/debug-recipe.md" \
	    "$E2E_DIR"
	printf '%s\n' "$output" > "$E2E_DIR/recipe.log"
	assert_success
	assert_output --partial "INVITE sip:alice"
	assert_output --partial "RTP/SAVP"
	assert_output --partial "SIP messages in clear: 0"
	assert_output --regexp "pcap-decrypt: [0-9]+ packets decrypted"
	assert_output --regexp "common [0-9]{3}"
	assert_output --regexp "wav: [0-9.]+ s, (9[5-9][0-9]|10[0-4][0-9]) Hz"
	assert_output --regexp "wav: [0-9.]+ s, 4[2-5][0-9] Hz"
}

@test "gateway: certificate reload (SIGHUP) in mid-call keeps the call" {
	sbk_lab_gateway
	sbk_mark alice; sbk_mark bob
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_ESTABLISHED 15
	sleep 1
	sbk_certs "$E2E_DIR/pki2" "$EXT"
	cp "$E2E_DIR/pki2/gw.pem" "$E2E_DIR/pki/gw.pem"
	cp "$E2E_DIR/pki2/gw.key" "$E2E_DIR/pki/gw.key"
	sbk_signal sip-tls-term HUP
	sbk_wait_for 5 grep -q 'certificates reloaded' "$E2E_DIR/sip-tls-term.log"
	sleep 2
	# Still up: no CALL_CLOSED on either side, audio still flowing.
	run grep -c CALL_CLOSED "$E2E_DIR/alice/events"
	assert_output 0
	# New connections get the new certificate.
	local served
	served=$(openssl s_client -connect "$EXT:$E2E_GW_TLS" </dev/null \
	    2>/dev/null | openssl x509 -noout -fingerprint -sha256)
	assert_equal "$served" \
	    "$(openssl x509 -in "$E2E_DIR/pki2/gw.pem" -noout -fingerprint -sha256)"
	sbk_cmd alice hangup
	sbk_event bob CALL_CLOSED 10
	sleep 0.3
	sbk_heard bob 440
	sbk_heard alice 1000
}

@test "gateway: inside phone gone: the caller gets an error in bounded time" {
	sbk_lab_gateway --timeout 3000
	sbk_stop bob
	sbk_mark alice
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_CLOSED 20
	sbk_log "alice: $E2E_EVENT"
	[[ $E2E_EVENT != *'"type":"CALL_ESTABLISHED"'* ]]
}

@test "gateway: media relay down: the caller gets a 5xx, no hang" {
	sbk_lab_gateway
	sbk_stop srtp-bridge
	sbk_mark alice
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_CLOSED 20
	sbk_log "alice: $E2E_EVENT"
	[[ $E2E_EVENT == *'"param":"5'[0-9][0-9]* ]]
}

# sbk_tshark_fields PCAP FILTER FIELD: FIELD of every matching packet.
sbk_tshark_fields() {
	tshark -r "$1" -Y "$2" -T fields -e "$3" 2>/dev/null
}

@test "gateway: hold and resume from each side keep the call and the audio" {
	sbk_lab_gateway
	sbk_mark alice; sbk_mark bob
	sbk_cmd alice dial "$BOB_FROM_ALICE"
	sbk_event alice CALL_ESTABLISHED 15
	sbk_event bob CALL_ESTABLISHED 5
	# baresip's hold is a re-INVITE with a=sendonly, resume one with
	# a=sendrecv: Alice's go outside -> inside, Bob's over her flow.
	local who t
	# baresip's recorder stops at a hold: give it over a second first
	sleep 1.5
	for who in alice bob; do
		sleep 0.5
		sbk_cmd "$who" hold
		sleep 0.5
		sbk_cmd "$who" resume
	done
	sleep 1.5
	sbk_cmd alice hangup
	sbk_event alice CALL_CLOSED 10
	sbk_event bob CALL_CLOSED 10
	sleep 0.3
	# one call, closed once, by the hangup
	run grep -c CALL_CLOSED "$E2E_DIR/alice/events"
	assert_output 1
	run grep -c CALL_CLOSED "$E2E_DIR/bob/events"
	assert_output 1
	# every re-INVITE's SDP went through the relay, from each side
	run grep -c 'offer .* from outside' "$E2E_DIR/srtp-bridge.log"
	[ "$output" -ge 3 ]
	run grep -c 'offer .* from inside' "$E2E_DIR/srtp-bridge.log"
	[ "$output" -ge 2 ]
	sbk_capture_stop inside
	# the holds reached Bob as plain RTP/AVP without keys
	run sbk_tshark_fields "$E2E_DIR/inside.pcap" 'sdp.media_attr == "sendonly"' \
	    sdp.media.proto
	assert_output --partial "RTP/AVP"
	refute_output --partial "SAVP"
	run sbk_tshark_fields "$E2E_DIR/inside.pcap" \
	    'sdp.media_attr contains "crypto"' frame.number
	assert_output ""
	# after the last resume, audio flows both ways on the inside leg
	t=$(sbk_tshark_fields "$E2E_DIR/inside.pcap" 'sip.Method == "ACK"' \
	    frame.time_relative | tail -1)
	run sbk_tshark_fields "$E2E_DIR/inside.pcap" \
	    "frame.time_relative > $t && udp.length == 180 && ip.src == $MINT" \
	    frame.number
	[ "${#lines[@]}" -ge 25 ]
	run sbk_tshark_fields "$E2E_DIR/inside.pcap" \
	    "frame.time_relative > $t && udp.length == 180 && ip.dst == $MINT" \
	    frame.number
	[ "${#lines[@]}" -ge 25 ]
	sbk_heard alice 1000
	sbk_heard bob 440
}

@test "gateway: Alice calls Carol, both outside, flow to flow with SRTP on both legs" {
	sbk_lab_gateway
	local gw="$EXT:$E2E_GW_TLS;transport=tls" in
	sbk_tone "$E2E_DIR/carol.wav" 700
	sbk_baresip carol "$E2E_NET.11" "$E2E_DIR/carol.wav" \
	    "<sip:carol@$gw>;regint=600;mediaenc=srtp-mand;audio_codecs=pcmu;answermode=auto;outbound=\"sip:$gw\"" \
	    "$E2E_DIR/pki/ca.pem"
	sbk_registered carol
	sbk_call alice carol "sip:carol@$gw" 2
	sbk_heard alice 700
	sbk_heard carol 440
	# Bob (upstream) never saw the call
	run grep -c 'INVITE sip:carol' "$E2E_DIR/bob.log"
	assert_output 0
	# srtp-bridge puts the callee leg on its inside address: SRTP there
	# too, never plain RTP
	sbk_capture_stop outside
	sbk_capture_stop inside
	in=$(sbk_pcap_classes "$E2E_DIR/inside.pcap")
	sbk_log "callee leg: $in"
	[ "$(sbk_pcap_get "$in" plain)" = 0 ]
	[ "$(sbk_pcap_get "$in" srtp80)" -ge 50 ]
}
