#!/usr/bin/env bats
# webrtc.bats - srtp-bridge's ng daemon between a WebRTC peer (python3-aiortc:
# its own ICE agent, DTLS-SRTP and SRTP) and a plain RTP phone, over
# loopback, both offer directions, tones checked; and the faults:
# fingerprint mismatch, STUN with a wrong password, DTLS before the answer.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

PY=/usr/bin/python3

setup() {
	BR=$SBK_BIN/srtp-bridge
	T=$BATS_TEST_TMPDIR
	H=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 240 + 1))
	H2=${H%.*}.$(( ${H##*.} + 1 ))
	H3=${H%.*}.$(( ${H##*.} + 2 ))
	P=$((20000 + (RANDOM % 2000) * 2))
	NG=$((P + 100))
	TPIDS=()
	$PY -c "import aiortc" 2>/dev/null || skip "python3-aiortc not installed"
}

teardown() {
	local p
	for p in "${TPIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${TPIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

spawn() {
	local log=$1 i
	shift
	timeout -k 2 90 "$@" > "$log" 2>&1 &
	TPID=$!
	TPIDS+=("$TPID")
	for i in $(seq 50); do
		BPID=$(pgrep -P "$TPID" | head -1)
		[ -n "$BPID" ] && break
		sleep 0.05
	done
}

wait_udp() {
	local i
	for i in $(seq 100); do
		ss -Hnlu "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# the daemon: ng on $H, outside $H2 (the WebRTC side), inside $H3
bridge() {
	spawn "$T/bridge.log" "$BR" -v -v --ng "$H:$NG" --outside "$H2" \
	    --inside "$H3" --port-min "$((P + 200))" --port-max "$((P + 399))" \
	    "$@"
	wait_udp "$H" "$NG"
}

stop_bridge() {
	kill -TERM "$BPID"
	wait "$TPID"
}

peer() {
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/aiortc-peer.py" "$1" \
	    "$H" "$NG" "$H3" "$T"
	echo "$output"
}

@test "webrtc: aiortc offers DTLS-SRTP with ICE, the plain phone hears its tone; key logs decrypt the capture" {
	bridge --keylog "$T/keylog" --dtls-keylog "$T/nss.keylog"
	# the outside leg as captured, for pcap-decrypt below
	spawn "$T/tcpdump.log" tcpdump -i lo --immediate-mode -U -s 0 \
	    -w "$T/outside.pcap" "udp and host $H2"
	CPID=$BPID
	for _ in $(seq 50); do
		grep -q "listening on" "$T/tcpdump.log" && break
		sleep 0.1
	done
	bridge_pid=$(pgrep -P "${TPIDS[0]}" | head -1)
	peer out2in
	assert_success
	refute_output --regexp "^fail "
	run "$SBK_BUILD/tests/helpers/tonecheck" --expect 440 "$T/phone.wav"
	echo "$output"
	assert_success
	sleep 0.5
	kill -TERM "$CPID"
	BPID=$bridge_pid
	stop_bridge
	# the DTLS-SRTP keys are key lines, as SDES keys are (pcap-decrypt):
	# aiortc's, ours to it, and aiortc's again with its SSRC
	run grep -c "^call-id=webrtc-.* AES_CM_128_HMAC_SHA1_80 inline:" \
	    "$T/keylog"
	assert_output 3
	run grep -c "^call-id=webrtc-.* ssrc=0x.* dir=in AES_CM_128_HMAC_SHA1_80" \
	    "$T/keylog"
	assert_output 1
	run grep -c "DTLS-SRTP keys (AES_CM_128_HMAC_SHA1_80) on the outside" \
	    "$T/bridge.log"
	assert_output 1
	# the handshake's secrets, NSS key log format, for Wireshark
	run grep -cE "^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$" "$T/nss.keylog"
	assert_output 1
	run stat -c %a "$T/nss.keylog"
	assert_output 600
	# with it, tshark decrypts both Finished messages of the handshake;
	# without it, none
	if command -v tshark > /dev/null; then
		port=$(sed -n 's/^m=audio \([0-9]*\).*/\1/p' "$T/answer.sdp")
		run sh -c "tshark -r '$T/outside.pcap' -d udp.port==$port,dtls \
		    -Y 'dtls.handshake.type == 20' 2>/dev/null | wc -l"
		assert_output 0
		run sh -c "tshark -r '$T/outside.pcap' -d udp.port==$port,dtls \
		    -o tls.keylog_file:'$T/nss.keylog' \
		    -Y 'dtls.handshake.type == 20' 2>/dev/null | wc -l"
		assert_output 2
	fi
	# pcap-decrypt, unchanged, decrypts aiortc's DTLS-keyed SRTP with the
	# key log: the tone is in it
	mkdir -p "$T/wav"
	run "$SBK_BIN/pcap-decrypt" --keylog "$T/keylog" --wav "$T/wav" \
	    "$T/outside.pcap"
	echo "$output"
	assert_success
	w=$(ls -S "$T"/wav/*.wav | head -1)
	run "$SBK_BUILD/tests/helpers/tonecheck" --expect 440 "$w"
	echo "$output"
	assert_success
}

@test "webrtc: the phone offers, aiortc answers DTLS-SRTP after starting DTLS before the ng answer, and hears the tone" {
	bridge
	peer in2out
	assert_success
	refute_output --regexp "^fail "
	run "$SBK_BUILD/tests/helpers/tonecheck" --expect 440 "$T/aiortc.wav"
	echo "$output"
	assert_success
	stop_bridge
	# its handshake came before the answer and was kept, not lost
	run grep -c "DTLS on the outside side before its role .*: kept" \
	    "$T/bridge.log"
	assert_output 1
	run grep -c "DTLS-SRTP keys .* on the outside" "$T/bridge.log"
	assert_output 1
	run grep -cE "summary: webrtc .* dtls_early=[1-9][0-9]* handshakes=1 " \
	    "$T/bridge.log"
	assert_output 1
}

@test "webrtc: a tampered fingerprint: no keys, no media, logged once" {
	bridge
	peer fpbad
	assert_success
	refute_output --regexp "^fail "
	stop_bridge
	run grep -c "DTLS on the outside side failed: fingerprint" \
	    "$T/bridge.log"
	assert_output 1
	run grep -c "DTLS-SRTP keys" "$T/bridge.log"
	assert_output 0
	run grep -c "summary: webrtc .* handshakes=0 fingerprint_mismatch=1 " \
	    "$T/bridge.log"
	assert_output 1
}

@test "webrtc: a STUN check with a wrong password is dropped and counted" {
	bridge
	peer badpwd
	assert_success
	refute_output --regexp "^fail "
	stop_bridge
	run grep -c "STUN check failing integrity on the outside side" \
	    "$T/bridge.log"
	assert_output 1
	run grep -c "summary: webrtc .* ice_bad_auth=1 .* handshakes=1 " \
	    "$T/bridge.log"
	assert_output 1
}

@test "webrtc: the same ng offers and answers give rtpengine's SDPs (profiles, setup, ICE, one fingerprint, rtcp-mux, rtcp-fb)" {
	command -v rtpengine > /dev/null || skip "rtpengine-daemon not installed"
	bridge
	RE=$((P + 101))
	spawn "$T/rtpengine.log" rtpengine --config-file=none --foreground \
	    --log-stderr --table=-1 --interface="outside/$H2" \
	    --interface="inside/$H3" --listen-ng="$H:$RE" \
	    --port-min="$((P + 400))" --port-max="$((P + 599))" \
	    --pidfile="$T/rtpengine.pid"
	wait_udp "$H" "$RE" || skip "rtpengine did not start: $(tail -3 "$T/rtpengine.log")"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/aiortc-peer.py" compare \
	    "$H" "$NG" "$H3" "$T" "$RE"
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
	run grep -c "^ok " <<< "$output"
	assert_output 32
}
