#!/usr/bin/env bats
# pcap-decrypt-dtls.bats - pcap-decrypt --tls-keylog on a real DTLS-SRTP
# call: python3-aiortc (its own ICE, DTLS and SRTP) through srtp-bridge's
# ng daemon to a plain RTP phone (tests/helpers/aiortc-peer.py, as in
# webrtc.bats), both legs captured on lo by tcpdump. With only the NSS key
# log srtp-bridge --dtls-keylog wrote (no key lines), every SRTP and SRTCP
# stream of the outside leg must decrypt, keyed from "dtls", to the same
# payloads as srtp-bridge's own key lines give, and to the RTP the inside
# leg carried (tshark reads both); a key log without the client random,
# or with a wrong secret, must decrypt nothing (exit 4).
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load "$SBK_TOP/tests/e2e/lib.bash"

PY=/usr/bin/python3
PD=$SBK_BIN/pcap-decrypt

setup() {
	BR=$SBK_BIN/srtp-bridge
	T=$BATS_TEST_TMPDIR
	C=$BATS_FILE_TMPDIR	# the call's capture, for every test
	H=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 240 + 1))
	H2=${H%.*}.$(( ${H##*.} + 1 ))
	H3=${H%.*}.$(( ${H##*.} + 2 ))
	P=$((20000 + (RANDOM % 2000) * 2))
	NG=$((P + 100))
	TPIDS=()
	$PY -c "import aiortc" 2>/dev/null || skip "python3-aiortc not installed"
	command -v tcpdump > /dev/null || skip "tcpdump not installed"
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

# spawn LOG CMD...: in the background, bounded; TPID its timeout, BPID it
spawn() {
	local log=$1 i
	shift
	timeout -k 2 90 "$@" > "$log" 2>&1 &
	TPID=$!
	TPIDS+=("$TPID")
	BPID=
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

# capture LOG FILE FILTER: tcpdump on lo; its PID in CPIDS
capture() {
	local i
	spawn "$1" tcpdump -i lo --immediate-mode -U -s 0 -w "$2" "$3"
	CPIDS+=("$BPID")
	for i in $(seq 50); do
		grep -q "listening on" "$1" && return 0
		sleep 0.1
	done
	return 1
}

need_call() {
	[ -s "$C/outside.pcap" ] || skip "no capture of the call"
}

# json FILE EXPR: a Python expression over the report `r`
json() {
	"$PY" -c "import json; r=json.load(open('$1')); print($2)"
}

@test "pcap-decrypt dtls: a real DTLS-SRTP call (aiortc through srtp-bridge), captured on both legs" {
	CPIDS=()
	spawn "$T/bridge.log" "$BR" -v --ng "$H:$NG" --outside "$H2" \
	    --inside "$H3" --port-min "$((P + 200))" --port-max "$((P + 399))" \
	    --keylog "$C/keylog" --dtls-keylog "$C/nss.keylog"
	bridge_pid=$BPID
	bridge_tpid=$TPID
	wait_udp "$H" "$NG"
	capture "$T/td1.log" "$C/outside.pcap" "udp and host $H2"
	capture "$T/td2.log" "$C/inside.pcap" "udp and host $H3"
	# aiortc offers and sends (it is the DTLS client), then the phone
	# offers and sends (srtp-bridge is the DTLS server, its key sends)
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/aiortc-peer.py" out2in \
	    "$H" "$NG" "$H3" "$T"
	echo "$output"
	assert_success
	cp "$T/answer.sdp" "$C/answer.sdp"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/aiortc-peer.py" in2out \
	    "$H" "$NG" "$H3" "$T"
	echo "$output"
	assert_success
	cp "$T/offer.sdp" "$C/answer2.sdp"	# the outside port is in the offer
	sleep 0.5
	kill -TERM "${CPIDS[@]}"
	kill -TERM "$bridge_pid"
	wait "$bridge_tpid" || true
	run grep -cE "^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$" "$C/nss.keylog"
	assert_output 2
	# the handshake is in the capture
	run "$PY" -c "
import struct,sys
d=open('$C/outside.pcap','rb').read()
print(sum(1 for i in range(len(d)-13) if d[i]==22 and d[i+1:i+3] in (b'\xfe\xfd', b'\xfe\xff') and d[i+13]==1))"
	echo "$output"
	[ "$output" -ge 2 ]
}

@test "pcap-decrypt dtls: the NSS key log alone decrypts every SRTP and SRTCP stream of the outside leg, keyed from dtls" {
	need_call
	mkdir -p "$T/wav"
	run "$PD" --tls-keylog "$C/nss.keylog" --json "$T/r.json" \
	    --raw "$T/raw" --wav "$T/wav" -w "$T/out.pcap" "$C/outside.pcap"
	echo "$output"
	assert_success
	assert_output --partial "dtls: 2 handshakes on 2 UDP flows"
	assert_output --partial ": 2 keyed (SRTP keys exported), 0 without keys"
	assert_output --regexp " ok +dtls "
	refute_output --regexp "(_[0-9]+|-) +(no-key|failed|partial) "
	# every stream: SRTP or SRTCP, keyed from dtls, ok; both kinds
	run json "$T/r.json" "len(r['streams']), \
	    sum(1 for s in r['streams'] if s['key_from']=='dtls' and \
	    s['status']=='ok' and s['decrypted']==s['packets']), \
	    sorted(set(s['kind'] for s in r['streams'])), \
	    r['dtls']['keyed'], r['dtls']['no_keys']"
	echo "$output"
	n=${output%% *}
	[ "$n" -ge 4 ]
	assert_output "$n $n ['rtcp', 'rtp'] 2 0"
	# both ways: from the DTLS client (aiortc) and from the server
	run json "$T/r.json" "len(set(s['src'] for s in r['streams'] if \
	    s['kind']=='rtp' and s['decrypted'] > 100))"
	assert_output 2
	# what the phone got: aiortc's 440 Hz tone
	w=$(ls -S "$T"/wav/*.wav | head -1)
	run "$SBK_BUILD/tests/helpers/tonecheck" --expect 440 "$w"
	echo "$output"
	assert_success
	# the same payloads as srtp-bridge's own key lines give
	run "$PD" --keylog "$C/keylog" --raw "$T/raw-lines" "$C/outside.pcap"
	assert_success
	run diff -r "$T/raw-lines" "$T/raw"
	assert_success
	[ "$(ls "$T/raw" | wc -l)" -ge 2 ]
	[ "$(ls -S "$T/raw" | head -1 | xargs -I{} stat -c %s "$T/raw/{}")" -gt 10000 ]
	# -w: the DTLS records left out, the rest RTP in clear, which is
	# what the relay sent the phone on the inside leg
	if command -v tshark > /dev/null; then
		for a in answer.sdp answer2.sdp; do
			port=$(sed -n 's/^m=audio \([0-9]*\).*/\1/p' "$C/$a")
			run sh -c "tshark -r '$C/outside.pcap' \
			    -d udp.port==$port,dtls -Y dtls.handshake 2>/dev/null | wc -l"
			[ "$output" -gt 0 ]
			run sh -c "tshark -r '$T/out.pcap' \
			    -d udp.port==$port,dtls -Y dtls.handshake 2>/dev/null | wc -l"
			assert_output 0
		done
		run sbk_rtp_match "$T/out.pcap" "$C/inside.pcap" 5
		echo "$output"
		assert_success
	fi
}

@test "pcap-decrypt dtls: a key log without the client random: no-key, exit 4" {
	need_call
	sed 's/^CLIENT_RANDOM [0-9a-f]\{64\}/CLIENT_RANDOM '"$(printf '%064d' 7)"'/' \
	    "$C/nss.keylog" > "$T/other.keylog"
	run "$PD" --tls-keylog "$T/other.keylog" --json "$T/r.json" \
	    "$C/outside.pcap"
	echo "$output"
	assert_failure 4
	assert_output --partial "2 DTLS handshakes: 0 keyed, 2 without keys for their client random"
	assert_output --partial "nothing decrypted"
	run json "$T/r.json" "sum(1 for s in r['streams'] if \
	    s['status']!='no-key'), r['dtls']['no_keys'], r['decrypted']"
	assert_output "0 2 0"
}

@test "pcap-decrypt dtls: the right client random with a wrong master secret decrypts nothing, exit 4" {
	need_call
	sed 's/ [0-9a-f]\{96\}$/ '"$(printf '%096d' 5)"'/' "$C/nss.keylog" \
	    > "$T/bad.keylog"
	run "$PD" --tls-keylog "$T/bad.keylog" --json "$T/r.json" \
	    "$C/outside.pcap"
	echo "$output"
	assert_failure 4
	run json "$T/r.json" "r['dtls']['keyed'], r['decrypted'], \
	    len(r['streams']) >= 2 and \
	    all(s['status']=='failed' for s in r['streams'])"
	assert_output "2 0 True"
}

@test "pcap-decrypt dtls: without a key log the capture is not keyed (DTLS passed through)" {
	need_call
	run "$PD" -w "$T/out.pcap" "$C/outside.pcap"
	echo "$output"
	assert_failure 4
	refute_output --partial "dtls:"
	n=$(tcpdump -r "$C/outside.pcap" 2>/dev/null | wc -l)
	[ "$n" -gt 0 ]
	run sh -c "tcpdump -r '$T/out.pcap' 2>/dev/null | wc -l"
	assert_output "$n"
}
