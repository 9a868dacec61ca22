#!/usr/bin/env bats
# pcap-decrypt-tls.bats - pcap-decrypt --tls-keylog on real captures: SIP
# over TLS through sip-tls-term (its own --tls-keylog), from
# tests/helpers/sip-tls-client (TLS 1.3) and openssl s_client (TLS 1.2,
# forced suites), captured on lo by tcpdump. The SIP pcap-decrypt writes
# in clear must be what tshark decrypts from the same capture with the
# same key log (and what sngrep reads from it); the SRTP of a call whose
# SDP went inside TLS must decrypt to what libsrtp2 encrypted
# (tests/helpers/srtp-gen-pcap).

load "$SBK_TOP/tests/lib-sip"

PD=$SBK_BIN/pcap-decrypt
SHUF=$SBK_TOP/tests/helpers/pcap-shuffle.py
GEN=$SBK_BUILD/tests/helpers/srtp-gen-pcap

# cap_start FILE FILTER: tcpdump on lo until cap_stop; waits for it.
cap_start() {
	timeout 60 tcpdump -i lo -U -n -w "$1" "$2" 2> "$W/tcpdump.err" &
	TD=$!
	PIDS+=($TD)
	sbk_wait_for 10 grep -q "listening on" "$W/tcpdump.err"
}

cap_stop() {
	sleep 0.5
	kill -INT "$TD" 2>/dev/null
	wait "$TD" 2>/dev/null || true
}

# sip_list tshark-args...: every Call-ID, CSeq and status code tshark
# finds in SIP, one a line, sorted (how messages share frames differs).
sip_list() {
	timeout 60 tshark -n "$@" -Y sip -T fields -e sip.Call-ID -e sip.CSeq \
	    -e sip.Status-Code 2>/dev/null | tr '\t,' '\n\n' | sed '/^$/d' |
	    sort
}

# ref CAP KEYS PORT: tshark's own decryption.
ref() { sip_list -r "$1" -o "tls.keylog_file:$2" -d "tcp.port==$3,tls" \
    -d "tls.port==$3,sip"; }
# plain CAP PORT: the SIP of a pcap-decrypt -w output, with no keys.
plain() { sip_list -r "$1" -d "tcp.port==$2,sip"; }

json() {	# json FILE EXPR
	python3 -c "import json; r=json.load(open('$1')); print($2)"
}

# call_13: an SRTP INVITE in 60-byte records, two OPTIONS and a ping
# through sip-tls-term, from sip-tls-client (TLS 1.3), captured in
# $W/cap.pcap with sip-tls-term's key log $W/keys; sets PORT.
call_13() {
	start_peer_ok
	sip_gw 25 -u "udp:$UP" --tls-keylog "$W/keys"
	PORT=${L##*:}
	cap_start "$W/cap.pcap" "tcp and host $IP"
	sdes_invite "$W/inv"
	options "$W/o1" 1
	options "$W/o2" 2
	printf '\r\n\r\n' > "$W/ping"
	run timeout 10 "$CLI" -s 60 -d 2 -c 4 -w 4000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	run timeout 10 "$CLI" -c 3 -w 3000 "$L" "$W/o1" "$W/ping" "$W/o2"
	assert_line "CSeq: 2 OPTIONS"
	cap_stop
}

start_peer_ok() { sip_peer udp 20; }

@test "pcap-decrypt-tls: --help names --tls-keylog" {
	run "$PD" --help
	assert_success
	assert_output --partial "--tls-keylog"
}

@test "pcap-decrypt-tls: TLS 1.3 through sip-tls-term: the SIP tshark decrypts, in clear, no keys" {
	call_13
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/cap.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	assert_output --partial "2 TLS connections decrypted"
	ref "$W/cap.pcap" "$W/keys" "$PORT" > "$W/ref.txt"
	plain "$W/out.pcap" "$PORT" > "$W/got.txt"
	run cat "$W/ref.txt"
	assert_line "1 INVITE"
	assert_line "2 OPTIONS"
	assert_line "200"
	diff -u "$W/ref.txt" "$W/got.txt"
	[ "$(json "$W/r.json" "r['tls']['tls13']")" = 2 ]
	[ "$(json "$W/r.json" "r['tls']['records_failed']")" = 0 ]
	[ "$(json "$W/r.json" "r['tls']['sip_pings']")" = 1 ]
	# the INVITE's a=crypto was learned from inside TLS
	[ "$(json "$W/r.json" "r['sip_keys']")" = 1 ]
	# sngrep (no interface, its matches saved) finds the same SIP
	timeout 30 sngrep -N -q -I "$W/out.pcap" -O "$W/sngrep.pcap"
	plain "$W/sngrep.pcap" "$PORT" > "$W/sngrep.txt"
	diff -u "$W/ref.txt" "$W/sngrep.txt"
	# without the key log the output keeps the TLS: tshark sees no SIP
	run timeout 60 "$PD" -r "$W/cap.pcap" -w "$W/none.pcap"
	assert_failure 4
	[ -z "$(plain "$W/none.pcap" "$PORT")" ]
	# tshark finds no TCP sequence problem in the rewritten connection
	# (frames whose TLS gave no SIP stay as empty segments: dup ACKs)
	timeout 60 tshark -n -r "$W/out.pcap" -d "tcp.port==$PORT,sip" \
	    -Y "tcp.analysis.retransmission || tcp.analysis.out_of_order ||
	    tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment ||
	    tcp.analysis.spurious_retransmission" > "$W/bad.txt" 2>/dev/null
	[ ! -s "$W/bad.txt" ] || { cat "$W/bad.txt"; false; }
}

# s_client_call ARGS...: Alice's INVITE and an OPTIONS through
# sip-tls-term from openssl s_client ARGS; capture $W/cap.pcap, key log
# $W/keys (sip-tls-term's); sets PORT.
s_client_call() {
	start_peer_ok
	sip_gw 25 -u "udp:$UP" --tls-keylog "$W/keys"
	PORT=${L##*:}
	cap_start "$W/cap.pcap" "tcp and host $IP"
	sdes_invite "$W/inv"
	options "$W/o1" 1
	{ cat "$W/inv" "$W/o1"; sleep 2; } | timeout 10 openssl s_client \
	    -connect "$L" -quiet -no_ign_eof "$@" > "$W/client.out" 2> "$W/client.err"
	cap_stop
	run cat "$W/client.out"
	assert_line --partial "CSeq: 1 OPTIONS"
}

tls12_case() {	# tls12_case CIPHER
	s_client_call -tls1_2 -cipher "$1"
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/cap.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	ref "$W/cap.pcap" "$W/keys" "$PORT" > "$W/ref.txt"
	plain "$W/out.pcap" "$PORT" > "$W/got.txt"
	grep -qx "1 INVITE" "$W/ref.txt"
	grep -qx "1 OPTIONS" "$W/ref.txt"
	diff -u "$W/ref.txt" "$W/got.txt"
	[ "$(json "$W/r.json" "r['tls']['tls12']")" = 1 ]
	[ "$(json "$W/r.json" "r['tls']['records_failed']")" = 0 ]
}

@test "pcap-decrypt-tls: TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 (s_client)" {
	tls12_case ECDHE-ECDSA-AES128-GCM-SHA256
}

@test "pcap-decrypt-tls: TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 (s_client)" {
	tls12_case ECDHE-ECDSA-AES256-GCM-SHA384
}

@test "pcap-decrypt-tls: TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305 (s_client)" {
	tls12_case ECDHE-ECDSA-CHACHA20-POLY1305
}

@test "pcap-decrypt-tls: TLS 1.3 ChaCha20-Poly1305 and AES-256-GCM (s_client, its own key log)" {
	local cs
	for cs in TLS_CHACHA20_POLY1305_SHA256 TLS_AES_256_GCM_SHA384; do
		rm -f "$W/ckeys"
		s_client_call -tls1_3 -ciphersuites "$cs" -keylogfile "$W/ckeys"
		run timeout 60 "$PD" --tls-keylog "$W/ckeys" -r "$W/cap.pcap" \
		    -w "$W/out.pcap" -v
		assert_success
		assert_output --partial "TLS 1.3 $cs (keyed)"
		ref "$W/cap.pcap" "$W/ckeys" "$PORT" > "$W/ref.txt"
		plain "$W/out.pcap" "$PORT" > "$W/got.txt"
		grep -qx "1 OPTIONS" "$W/ref.txt"
		diff -u "$W/ref.txt" "$W/got.txt"
		sip_teardown || true
		PIDS=()
	done
}

@test "pcap-decrypt-tls: reordered and duplicated segments give the same SIP" {
	call_13
	# the handshakes reordered too: every message decrypted
	python3 "$SHUF" "$W/cap.pcap" "$W/shuf.pcap" --window 3 --dup 2
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/shuf.pcap" \
	    --json "$W/r.json"
	assert_success
	[ "$(json "$W/r.json" "r['tls']['sip_messages']")" = 8 ]
	[ "$(json "$W/r.json" "r['tls']['records_failed']")" = 0 ]
	[ "$(json "$W/r.json" "r['sip_keys']")" = 1 ]
	# after the handshakes: the -w output has the same SIP as tshark
	python3 "$SHUF" "$W/cap.pcap" "$W/shuf.pcap" --window 3 --dup 4 \
	    --keep 4
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/shuf.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	ref "$W/cap.pcap" "$W/keys" "$PORT" > "$W/ref.txt"
	plain "$W/out.pcap" "$PORT" > "$W/got.txt"
	grep -qx "1 INVITE" "$W/ref.txt"
	diff -u "$W/ref.txt" "$W/got.txt"
	[ "$(json "$W/r.json" "r['tls']['tcp_dup_bytes'] > 0")" = True ]
	[ "$(json "$W/r.json" "r['tls']['tcp_gaps']")" = 0 ]
	[ "$(json "$W/r.json" "r['sip_keys']")" = 1 ]
}

@test "pcap-decrypt-tls: a lost segment: resync on the next record, later SIP still decrypted" {
	call_13
	# the 6th data segment is inside the INVITE's 60-byte records
	python3 "$SHUF" "$W/cap.pcap" "$W/lost.pcap" --window 1 --dup 0 \
	    --drop 6
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/lost.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	plain "$W/out.pcap" "$PORT" > "$W/got.txt"
	grep -qx "2 OPTIONS" "$W/got.txt"
	[ "$(json "$W/r.json" "r['tls']['tcp_gaps'] >= 1")" = True ]
	[ "$(json "$W/r.json" "r['tls']['resyncs'] >= 1")" = True ]
}

@test "pcap-decrypt-tls: a capture that began after the handshake: TLS 1.3 found from the key log" {
	call_13
	tshark -r "$W/cap.pcap" -Y "tcp.stream == 0" -F pcap \
	    -w "$W/first.pcap" 2>/dev/null
	# the INVITE's connection from its 12th frame: no ClientHello
	python3 "$SHUF" "$W/first.pcap" "$W/mid.pcap" --window 1 --dup 0 \
	    --from 12
	run timeout 60 "$PD" --tls-keylog "$W/keys" -r "$W/mid.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	[ "$(json "$W/r.json" "r['tls']['keyed_without_hello']")" = 1 ]
	plain "$W/out.pcap" "$PORT" > "$W/got.txt"
	ref "$W/cap.pcap" "$W/keys" "$PORT" > "$W/ref.txt"
	grep -qx 200 "$W/got.txt"
	# what it found is what tshark decrypts with the whole capture
	[ -z "$(comm -23 "$W/got.txt" "$W/ref.txt")" ]
	# without the key log's traffic secrets it cannot be
	grep -v TRAFFIC_SECRET_0 "$W/keys" > "$W/hs-only"
	run timeout 60 "$PD" --tls-keylog "$W/hs-only" -r "$W/mid.pcap" \
	    --json "$W/r.json"
	assert_failure 4
	[ "$(json "$W/r.json" "r['tls']['no_hello']")" = 1 ]
}

@test "pcap-decrypt-tls: key log errors: a malformed line exit 3 with its number, another session's keys exit 4" {
	call_13
	printf '# keys\nCLIENT_RANDOM 00 11\n' > "$W/bad"
	run "$PD" --tls-keylog "$W/bad" -r "$W/cap.pcap"
	assert_failure 3
	assert_output --partial "bad: line 2: CLIENT_RANDOM: the client random"
	awk '{ $2 = "00000000000000000000000000000000" \
	    "000000000000000000000000000000ff"; print }' "$W/keys" > "$W/other"
	run timeout 60 "$PD" --tls-keylog "$W/other" -r "$W/cap.pcap" \
	    -w "$W/out.pcap"
	assert_failure 4
	assert_output --partial "2 without keys for their client random"
	cmp "$W/cap.pcap" "$W/out.pcap" || {
		# the same frames, written as captured
		[ "$(tshark -r "$W/cap.pcap" 2>/dev/null | wc -l)" = \
		    "$(tshark -r "$W/out.pcap" 2>/dev/null | wc -l)" ]
	}
	run "$PD" --tls-keylog "$W/missing" -r "$W/cap.pcap"
	assert_failure 1
}

# split_gen CAPTURE DIR: the SIP of a srtp-gen-pcap capture, in DIR/sipN.bin
# (N from 1: each run of SIP frames), and the other frames between and
# after them in DIR/srtpN.pcap (the frames after sipN.bin).
split_gen() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
src = open(sys.argv[1], 'rb').read()
hdr, p, n, runs = src[:24], 24, 0, []
assert struct.unpack('<I', hdr[20:24])[0] == 1	# ethernet
while p + 16 <= len(src):
    cl = struct.unpack('<I', src[p + 8:p + 12])[0]
    rec = src[p:p + 16 + cl]
    f = rec[16:]
    pl = f[14 + (f[14] & 15) * 4 + 8:]
    sip = f[23] == 17 and pl[:1] and pl[0] < 128
    if sip and (not runs or runs[-1][1]):
        runs.append([b'', []])
    if sip:
        runs[-1][0] += pl
    elif runs:
        runs[-1][1].append(rec)
    p += 16 + cl
for i, (sip, recs) in enumerate(runs, 1):
    open('%s/sip%d.bin' % (sys.argv[2], i), 'wb').write(sip)
    open('%s/srtp%d.pcap' % (sys.argv[2], i), 'wb').write(hdr + b''.join(recs))
PY
}

# tls_send FILE PCAP: FILE from openssl s_client to s_server over TLS,
# captured into PCAP; the client's key log appended to $W/ckeys; sets
# TLSPORT.
tls_send() {
	local port=$((20000 + RANDOM % 20000))
	cap_start "$2" "tcp and port $port"
	# (stdin open: s_server ends the connection when its stdin ends)
	rm -f "$W/fifo"
	mkfifo "$W/fifo"
	timeout 10 openssl s_server -accept "$IP:$port" -cert "$D/gw.pem" \
	    -key "$D/gw.key" -quiet < "$W/fifo" > "$W/server.out" 2>&1 &
	PIDS+=($!)
	exec 8> "$W/fifo"
	sbk_wait_port tcp "$IP" "$port" 10
	{ cat "$1"; sleep 1; } | timeout 10 openssl s_client \
	    -connect "$IP:$port" -quiet -no_ign_eof -keylogfile "$W/ckeys" \
	    > /dev/null 2>&1
	exec 8>&-
	cap_stop
	TLSPORT=$port
}

# same_raw DIR: every expected payload file of DIR/raw decrypted alike.
same_raw() {
	local f n=0
	for f in "$1"/raw/*.raw; do
		cmp "$f" "$1/out/$(basename "$f")"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "pcap-decrypt-tls: SRTP keyed by the SDP inside TLS decrypts as libsrtp2 encrypted it" {
	local T=$W/gen
	mkdir -p "$T/raw" "$T/out"
	"$GEN" -o "$T/e.pcap" --plain "$T/p.pcap" --keys "$T/k.txt" \
	    --raw "$T/raw" --sip udp --rtcp
	# the call's SIP goes over TLS (s_client to s_server), the media is
	# the generated SRTP
	split_gen "$T/e.pcap" "$T"
	[ -s "$T/sip1.bin" ] && [ ! -e "$T/sip2.bin" ]
	tls_send "$T/sip1.bin" "$W/tls.pcap"
	mergecap -a -F pcap -w "$W/call.pcap" "$W/tls.pcap" "$T/srtp1.pcap"
	run timeout 60 "$PD" --tls-keylog "$W/ckeys" -r "$W/call.pcap" \
	    --raw "$T/out" --json "$W/r.json" -w "$W/out.pcap"
	assert_success
	same_raw "$T"
	[ "$(json "$W/r.json" "set(s['key_from'] for s in r['streams'])")" = \
	    "{'tls'}" ]
	# -w: the SIP in clear, its SDP saying RTP/AVP, and the RTP
	timeout 60 tshark -n -r "$W/out.pcap" -d "tcp.port==$TLSPORT,sip" \
	    -Y sdp -T fields -e sdp.media -e sdp.media_attr 2>/dev/null \
	    > "$W/sdp.txt"
	[ "$(grep -c 'RTP/AVP' "$W/sdp.txt")" = 2 ]
	! grep -q 'SAVP\|crypto' "$W/sdp.txt"
	[ "$(timeout 60 tshark -n -r "$W/out.pcap" -d udp.port==20000,rtp \
	    -d udp.port==30000,rtp -Y rtp 2>/dev/null | wc -l)" = 100 ]
	[ "$(json "$W/r.json" "r['sip_keys']")" = 2 ]
	# and without the key log: no key at all
	run timeout 60 "$PD" -r "$W/call.pcap"
	assert_failure 4
}

@test "pcap-decrypt-tls: a re-INVITE rekey inside TLS applies from where it is" {
	local T=$W/gen
	mkdir -p "$T/raw" "$T/out"
	"$GEN" -o "$T/e.pcap" --plain "$T/p.pcap" --keys "$T/k.txt" \
	    --raw "$T/raw" --sip udp --rekey --rtcp
	split_gen "$T/e.pcap" "$T"
	[ -s "$T/sip2.bin" ]
	# each offer/answer over its own TLS connection, where it was
	tls_send "$T/sip1.bin" "$W/tls1.pcap"
	tls_send "$T/sip2.bin" "$W/tls2.pcap"
	mergecap -a -F pcap -w "$W/call.pcap" "$W/tls1.pcap" "$T/srtp1.pcap" \
	    "$W/tls2.pcap" "$T/srtp2.pcap"
	run timeout 60 "$PD" --tls-keylog "$W/ckeys" -r "$W/call.pcap" \
	    --raw "$T/out" --json "$W/r.json"
	assert_success
	same_raw "$T"
	[ "$(json "$W/r.json" "r['sip_keys']")" = 4 ]
	[ "$(json "$W/r.json" "r['tls']['connections']")" = 2 ]
	# with only the first connection's keys the rekeyed half fails
	awk 'NF == 3 { if (r == "") r = $2; if ($2 == r) print }' \
	    "$W/ckeys" > "$W/first"
	[ "$(wc -l < "$W/first")" = 5 ]
	run timeout 60 "$PD" --tls-keylog "$W/first" -r "$W/call.pcap" \
	    --json "$W/r.json"
	assert_failure 5
}

@test "pcap-decrypt-tls: SIP over WebSocket inside TLS (masked, fragmented frames)" {
	sdes_invite "$W/inv"
	mk "$W/ok" <<EOF2
SIP/2.0 200 OK
Via: SIP/2.0/WSS 127.0.0.10;branch=z9hG4bKsrtp1;rport
From: <sip:alice@gw.test>;tag=a1
To: <sip:bob@gw.test>;tag=b1
Call-ID: ws-$RANDOM@alice
CSeq: 1 INVITE

EOF2
	python3 "$SBK_TOP/tests/helpers/ws-frames.py" client "$W/inv" > "$W/ws.c"
	python3 "$SBK_TOP/tests/helpers/ws-frames.py" server "$W/ok" > "$W/ws.s"
	local port=$((20000 + RANDOM % 20000)) cp
	cap_start "$W/ws.pcap" "tcp and port $port"
	rm -f "$W/fifo"
	mkfifo "$W/fifo"
	timeout 10 openssl s_server -accept "$IP:$port" -cert "$D/gw.pem" \
	    -key "$D/gw.key" -quiet < "$W/fifo" > "$W/server.out" 2>&1 &
	PIDS+=($!)
	exec 8> "$W/fifo"
	sbk_wait_port tcp "$IP" "$port" 10
	{ cat "$W/ws.c"; sleep 1.5; } | timeout 10 openssl s_client \
	    -connect "$IP:$port" -quiet -no_ign_eof -keylogfile "$W/ckeys" \
	    > /dev/null 2>&1 &
	cp=$!
	PIDS+=($cp)
	sleep 0.7
	cat "$W/ws.s" >&8	# the server's 101 and its 200 OK
	wait "$cp" || true
	exec 8>&-
	cap_stop
	run timeout 60 "$PD" --tls-keylog "$W/ckeys" -r "$W/ws.pcap" \
	    -w "$W/out.pcap" --json "$W/r.json"
	assert_success
	[ "$(json "$W/r.json" "r['tls']['websocket_streams']")" = 2 ]
	[ "$(json "$W/r.json" "r['tls']['sip_messages']")" = 2 ]
	[ "$(json "$W/r.json" "r['sip_keys']")" = 1 ]
	plain "$W/out.pcap" "$port" > "$W/got.txt"
	# the INVITE is the one ws-frames.py masked and split
	grep -qx "$(sed -n 's/^Call-ID: //p' "$W/inv" | tr -d '\r')" "$W/got.txt"
	grep -qx "1 INVITE" "$W/got.txt"
	# the 200 OK is what tshark reads in the server's WebSocket frames
	sip_list -r "$W/ws.pcap" -o "tls.keylog_file:$W/ckeys" \
	    -d "tcp.port==$port,tls" -d "tls.port==$port,http" > "$W/ref.txt"
	grep -qx 200 "$W/ref.txt"
	grep -qx 200 "$W/got.txt"
	grep -qx "$(sed -n 's/^Call-ID: //p' "$W/ok" | tr -d '\r')" "$W/got.txt"
}
