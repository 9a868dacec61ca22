#!/usr/bin/env bats
# sip-tls-term-ws.bats - SIP over WebSocket (RFC 6455, RFC 7118) in
# sip-tls-term: a raw WebSocket client written from the RFCs
# (tests/helpers/ws-client.py: socket, ssl, hashlib) outside, the C UDP
# peer inside, tshark as an independent dissector of the exchange, and
# rtpengine as the relay for the WebRTC media flags.

load "$SBK_TOP/tests/lib-sip"

WSC=$SBK_TOP/tests/helpers/ws-client.py

# start_ws_gw ARGS: the gateway with a WS and a WSS listener; sets WS, WSS.
start_ws_gw() {
	sip_gw 25 --listen-ws "$IP:0" --listen-wss "$IP:0" "$@" || return 1
	WS=$(sed -n 's/^listening ws //p' "$W/gw.out")
	WSS=$(sed -n 's/^listening wss //p' "$W/gw.out")
}

# ws_register FILE USER: a JsSIP-like REGISTER (Via WSS and a .invalid
# Contact host, transport=ws).
ws_register() {
	mk "$1" <<EOF
REGISTER sip:gw.test SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKreg$RANDOM
Max-Forwards: 69
To: <sip:$2@gw.test>
From: <sip:$2@gw.test>;tag=r$RANDOM
Call-ID: reg-$RANDOM@ws
CSeq: 1 REGISTER
Contact: <sip:r2d2$2@df7jal23ls0d.invalid;transport=ws>;expires=300

EOF
}

# ws_invite FILE R-URI CALL-ID: a JsSIP-like INVITE with a WebRTC offer
# (candidates gathered: the default one in c= and m=, as JsSIP sends it).
ws_invite() {
	mk "$1" <<EOF
INVITE $2 SIP/2.0
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws$RANDOM
Max-Forwards: 69
To: <$2>
From: <sip:alice@gw.test>;tag=w$RANDOM
Call-ID: $3
CSeq: 1 INVITE
Contact: <sip:r2d2@df7jal23ls0d.invalid;transport=ws;ob>
Content-Type: application/sdp

v=0
o=- 4611 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
m=audio 40000 UDP/TLS/RTP/SAVPF 0
c=IN IP4 127.0.0.1
a=rtcp:40000 IN IP4 127.0.0.1
a=ice-ufrag:EsAw
a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:27:8F:9A:6A:B2:E5:55:62:60:89:E2
a=setup:actpass
a=mid:0
a=sendrecv
a=rtcp-mux
a=rtpmap:0 PCMU/8000
a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host
EOF
}

@test "sip-tls-term ws: options in --help, usage errors, a plain listener off loopback warned" {
	run "$GW" --help
	assert_success
	assert_output --partial "--listen-wss"
	assert_output --partial "--ws-origin"
	assert_output --partial "--outside-keying"
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --outside-keying zrtp
	assert_failure 2
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --ws-max-message 10
	assert_failure 2
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --listen-wss nowhere
	assert_failure 2
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --listen-ws 0.0.0.0:0 --check
	assert_output --partial "warning: --listen-ws 0.0.0.0:0"
	assert_line "ok listen-ws: 0.0.0.0:0 (not bound)"
}

@test "sip-tls-term ws: REGISTER over WS and WSS to the built-in registrar" {
	start_ws_gw --registrar
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" -c 1 "$WS" "$W/reg"
	assert_line "HTTP/1.1 101 Switching Protocols"
	assert_line "Sec-WebSocket-Protocol: sip"
	assert_line "ACCEPT ok"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:r2d2alice@df7jal23ls0d.invalid;transport=ws>;expires=300"
	ws_register "$W/reg2" bob
	run timeout 10 python3 "$WSC" --tls -c 1 "$WSS" "$W/reg2"
	assert_line "ACCEPT ok"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:r2d2bob@df7jal23ls0d.invalid;transport=ws>;expires=300"
	run grep -c "ws_upgraded=2 " "$W/gw.err"
	kill "${PIDS[0]}"; wait "${PIDS[0]}" || true
	run grep -o 'ws_upgraded=[0-9]* ws_refused=[0-9]*' "$W/gw.err"
	assert_output "ws_upgraded=2 ws_refused=0"
}

@test "sip-tls-term ws: a WS phone calls inside over UDP (Via WSS, Record-Route transport=ws)" {
	start_peer() { sip_peer udp 15 "$@"; }
	start_peer
	start_ws_gw -u "udp:$UP"
	ws_invite "$W/inv" "sip:bob@$IP" "wscall-$RANDOM"
	run timeout 10 python3 "$WSC" --tls -c 3 -w 4000 "$WSS" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws[0-9]+;received=127\\.[0-9.]+;rport=[0-9]+"
	run cat "$W/peer.out"
	assert_line "INVITE sip:bob@$IP SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/UDP $IN;branch=z9hG4bKsbk[0-9a-f]{36}\\.[0-9a-f]{16};rport"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$WSS;transport=ws;lr>"
	assert_line --regexp "^Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws[0-9]+;received=127\\.[0-9.]+;rport=[0-9]+"
}

@test "sip-tls-term ws: an inside call reaches the WS phone by its flow (.invalid Contact)" {
	start_ws_gw --registrar
	ws_register "$W/reg" alice
	( timeout 10 python3 "$WSC" -a -w 6000 "$WS" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^Contact:"
	bob_invite "$W/inv" "sip:alice@$IN" "sip:alice@$IN" bob1 bob-call
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1500
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$WS;transport=ws;lr>"
	run cat "$W/alice.out"
	assert_line "INVITE sip:r2d2alice@df7jal23ls0d.invalid;transport=ws SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/WS $WS;branch=z9hG4bKsbi\\.[0-9a-f]{16}"
}

@test "sip-tls-term ws: Path on a WS REGISTER through to the inside registrar" {
	sip_peer udp 15
	start_ws_gw -u "udp:$UP"
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" -c 1 "$WS" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	run cat "$W/peer.out"
	assert_line --regexp "^Path: <sip:sbk[0-9a-f]{36}@$IN;lr;ob>"
	assert_line "Contact: <sip:r2d2alice@df7jal23ls0d.invalid;transport=ws>;expires=300"
}

@test "sip-tls-term ws: bad Upgrades: no sip protocol, version 8, bad key, Origin" {
	start_ws_gw --registrar --ws-origin https://phone.test,https://other.test
	run timeout 5 python3 "$WSC" --protocol chat "$WS"
	assert_line "HTTP/1.1 400 Bad Request"
	assert_line "CLOSED"
	run timeout 5 python3 "$WSC" --version 8 "$WS"
	assert_line "HTTP/1.1 426 Upgrade Required"
	assert_line "Sec-WebSocket-Version: 13"
	assert_line "CLOSED"
	run timeout 5 python3 "$WSC" --tls --key c2hvcnQ= "$WSS"
	assert_line "HTTP/1.1 400 Bad Request"
	run timeout 5 python3 "$WSC" --origin https://evil.test "$WS"
	assert_line "HTTP/1.1 403 Forbidden"
	assert_line "CLOSED"
	ws_register "$W/reg" alice
	run timeout 5 python3 "$WSC" -c 1 --origin https://PHONE.test "$WS" "$W/reg"
	assert_line "HTTP/1.1 101 Switching Protocols"
	assert_line "SIP/2.0 200 OK"
	kill "${PIDS[0]}"; wait "${PIDS[0]}" || true
	run grep -o 'ws_upgraded=[0-9]* ws_refused=[0-9]*' "$W/gw.err"
	assert_output "ws_upgraded=1 ws_refused=4"
}

@test "sip-tls-term ws: frames: unmasked 1002, oversized 1009, fragmented with a ping, ping/pong, close echoed" {
	start_ws_gw --registrar --ws-max-message 2048
	ws_register "$W/reg" alice
	run timeout 5 python3 "$WSC" --unmasked "$WS" "$W/reg"
	assert_line "CLOSE 1002"
	refute_line "SIP/2.0 200 OK"
	run timeout 5 python3 "$WSC" --big 5000 "$WS" "$W/reg"
	assert_line "CLOSE 1009"
	refute_line "SIP/2.0 200 OK"
	ws_register "$W/reg" carol
	run timeout 5 python3 "$WSC" --frag 50 -c 1 "$WS" "$W/reg"
	assert_line "PONG mid"
	assert_line "SIP/2.0 200 OK"
	ws_register "$W/reg" dave
	run timeout 5 python3 "$WSC" --binary --ping hello -w 1500 --close 4000 "$WS" "$W/reg"
	assert_line "PONG hello"
	assert_line "SIP/2.0 200 OK"
	assert_line "CLOSE 4000"
}

# bob_udp [TARGET R-URI]: an inside UDP phone that answers an INVITE 200
# with its Record-Route (a dialog the gateway follows) and, to an offer,
# a PCMU answer; a BYE 200; and prints all it gets to $W/peer.out; sets
# UP. With TARGET, it first sends TARGET an INVITE for R-URI with a plain
# RTP offer.
bob_udp() {
	cat > "$W/bob.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
me = "%s:%d" % s.getsockname()
print("bound " + me, flush=True)
def sdp(port):
    return ("v=0\r\no=- 7 7 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            % (sys.argv[1], sys.argv[1], port))
if len(sys.argv) > 3:
    h, p = sys.argv[2].rsplit(":", 1)
    body = sdp(41000)
    inv = ("INVITE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKbob%d;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:bob@%s>;tag=b1\r\nTo: <%s>\r\n"
           "Call-ID: bobcall%d@bob\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@%s>\r\n"
           "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
           % (sys.argv[3], me, time.time_ns(), sys.argv[1], sys.argv[3],
              time.time_ns(), me, len(body), body))
    s.sendto(inv.encode(), (h, int(p)))
s.settimeout(0.5)
end = time.time() + 12
while time.time() < end:
    try:
        d, a = s.recvfrom(65535)
    except socket.timeout:
        continue
    t = d.decode(errors="replace")
    print(t.replace("\r\n", "\n") + "----", flush=True)
    head = t.split("\r\n\r\n")[0].split("\r\n")
    meth = head[0].split(" ")[0]
    if meth in ("ACK",) or head[0].startswith("SIP/"):
        continue
    keep = [h for h in head[1:] if h.split(":")[0].lower() in
            ("via", "from", "call-id", "cseq", "record-route")]
    keep += [h + ";tag=bob1" for h in head[1:] if h.lower().startswith("to:")]
    keep.append("Contact: <sip:bob@%s>" % me)
    body = sdp(42000) if meth == "INVITE" and "\r\n\r\nv=0" in t else ""
    if body:
        keep.append("Content-Type: application/sdp")
    s.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) +
              "\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
              ).encode(), a)
PY
	timeout 15 python3 "$W/bob.py" "$IP" "$@" > "$W/peer.out" &
	PIDS+=($!)
	wait_line "$W/peer.out" '^bound ' || return 1
	UP=$(sed -n 's/^bound //p' "$W/peer.out")
}

@test "sip-tls-term ws: a WS phone closing mid-call: the inside party gets the BYE" {
	bob_udp
	start_ws_gw -u "udp:$UP"
	ws_invite "$W/inv" "sip:bob@$IP" "wslost-$RANDOM"
	run timeout 10 python3 "$WSC" -a -c 2 -d 500 --close 1001 -w 3000 "$WS" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line "CLOSE 1001"
	wait_line "$W/peer.out" "^BYE sip:"
	run cat "$W/peer.out"
	assert_line --regexp "^ACK sip:"
	assert_line --regexp "^CSeq: [0-9]+ BYE"
}

@test "sip-tls-term ws: a client that never finishes its Upgrade is closed" {
	start_ws_gw --registrar --handshake-timeout 1500
	run timeout 8 python3 "$WSC" --stall -w 5000 "$WS"
	assert_output --partial "CLOSED"
	run timeout 8 python3 "$WSC" --tls --stall -w 5000 "$WSS"
	assert_output --partial "CLOSED"
}

@test "sip-tls-term ws: tshark dissects the exchange as WebSocket carrying SIP" {
	command -v tshark >/dev/null || skip "tshark is not installed"
	start_ws_gw --registrar
	port=${WS##*:}
	timeout 12 tshark -i lo -f "tcp port $port" -w "$W/ws.pcapng" \
	    > "$W/tshark.log" 2>&1 &
	PIDS+=($!)
	wait_line "$W/tshark.log" "Capturing on" || true
	sleep 0.5
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" -c 1 "$WS" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	sleep 0.5
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" || true
	run tshark -n -r "$W/ws.pcapng" -d "tcp.port==$port,http" -Y sip \
	    -T fields -e websocket.mask -e sip.Method -e sip.Status-Code
	assert_success
	# the client's REGISTER masked, our 200 unmasked, both whole SIP
	assert_line --regexp "^(True|1)[[:space:]]+REGISTER"
	assert_line --regexp "^(False|0)[[:space:]]+200"
	run tshark -n -r "$W/ws.pcapng" -d "tcp.port==$port,http" -Y http \
	    -T fields -e http.response.code -e http.upgrade
	assert_line --regexp "^101[[:space:]]+websocket"
}

@test "sip-tls-term ws: tshark decrypts WSS with our TLS key log and finds SIP in it" {
	command -v tshark >/dev/null || skip "tshark is not installed"
	start_ws_gw --registrar --tls-keylog "$W/keys.log"
	port=${WSS##*:}
	timeout 12 tshark -i lo -f "tcp port $port" -w "$W/wss.pcapng" \
	    > "$W/tshark.log" 2>&1 &
	PIDS+=($!)
	wait_line "$W/tshark.log" "Capturing on" || true
	sleep 0.5
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" --tls -c 1 "$WSS" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	sleep 0.5
	kill "${PIDS[-1]}"; wait "${PIDS[-1]}" || true
	run tshark -n -r "$W/wss.pcapng" -o "tls.keylog_file:$W/keys.log" \
	    -d "tcp.port==$port,tls" -Y sip -T fields -e websocket.mask \
	    -e sip.Method -e sip.Status-Code
	assert_success
	assert_line --regexp "^(True|1)[[:space:]]+REGISTER"
	assert_line --regexp "^(False|0)[[:space:]]+200"
}

# rtpengine_up: a real rtpengine, outside on $IP, inside on $RIN; sets NG.
rtpengine_up() {
	local port pmin
	RIN=${IP%.*}.$(( ${IP##*.} + 1 ))
	port=$("$FREEPORT" "$RIN")
	pmin=$(( 30000 + (RANDOM % 300) * 100 ))
	timeout 40 rtpengine --config-file=none --foreground --log-stderr \
	    --table=-1 --interface="outside/$IP" --interface="inside/$RIN" \
	    --listen-ng="$RIN:$port" --port-min=$pmin --port-max=$((pmin + 99)) \
	    > "$W/rtpengine.log" 2>&1 &
	PIDS+=($!)
	sbk_wait_port udp "$RIN" "$port" 5
	NG=$RIN:$port
}

@test "sip-tls-term ws: WebRTC media through a real rtpengine: DTLS-SRTP and ICE outside, RTP inside" {
	command -v rtpengine >/dev/null || skip "rtpengine not installed"
	rtpengine_up
	bob_udp
	start_ws_gw --registrar --allow-inside "$IP/32" --media "ng:$NG" \
	    --media-direction outside,inside
	# the WebRTC phone calls Bob inside
	ws_invite "$W/inv" "sip:bob@$UP" "rtc-$RANDOM"
	run timeout 10 python3 "$WSC" -c 2 -w 5000 "$WS" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^m=audio [0-9]+ UDP/TLS/RTP/SAVPF 0"
	assert_line --regexp "^a=fingerprint:sha-256 "
	assert_line --regexp "^a=setup:(active|passive)"
	assert_line --regexp "^a=ice-ufrag:"
	assert_line --regexp "^a=candidate:.* $IP [0-9]+ typ host"
	assert_line "a=rtcp-mux"
	refute_line --regexp "^a=crypto:"
	run cat "$W/peer.out"
	assert_line --regexp "^m=audio [0-9]+ RTP/AVP 0"
	assert_line "c=IN IP4 $RIN"
	refute_line --regexp "^a=(fingerprint|ice-ufrag|candidate|setup|crypto)"
	# Bob calls the WebRTC phone, registered over WebSocket
	ws_register "$W/reg" alice
	( timeout 10 python3 "$WSC" -a -w 6000 "$WS" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^Contact:"
	timeout 10 python3 "$W/bob.py" "$IP" "$IN" "sip:alice@$IN" > "$W/bob2.out" &
	PIDS+=($!)
	wait_line "$W/alice.out" "^INVITE "
	wait_line "$W/alice.out" "^a=rtcp-mux"
	run cat "$W/alice.out"
	assert_line --regexp "^m=audio [0-9]+ UDP/TLS/RTP/SAVPF 0"
	assert_line --regexp "^a=fingerprint:sha-256 "
	assert_line --regexp "^a=setup:(actpass|passive)$"
	assert_line --regexp "^a=ice-ufrag:"
	assert_line --regexp "^a=candidate:.* $IP [0-9]+ typ host"
	refute_line --regexp "^a=crypto:"
}

@test "sip-tls-term ws: --outside-keying dtls offers TLS phones DTLS-SRTP through rtpengine" {
	command -v rtpengine >/dev/null || skip "rtpengine not installed"
	rtpengine_up
	start_ws_gw --registrar --media "ng:$NG" --media-direction outside,inside \
	    --outside-keying dtls
	register "$W/reg" 300
	( timeout 10 "$CLI" -a -w 6000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^Contact:"
	bob_udp "$IN" "sip:alice@$IN"
	wait_line "$W/alice.out" "^a=setup"
	run cat "$W/alice.out"
	assert_line --regexp "^m=audio [0-9]+ UDP/TLS/RTP/SAVPF 0"
	assert_line --regexp "^a=fingerprint:sha-256 "
	refute_line --regexp "^a=crypto:"
}

@test "sbc-gateway: the WebSocket keys reach sip-tls-term; a phone registers over WSS" {
	local sg=$SBK_BIN/sbc-gateway wssport
	run "$sg" -o 192.0.2.10 --registrar --wss-port 8443 \
	    --ws-listen 127.0.0.1:8080 --ws-origin https://phone.test \
	    --outside-keying dtls --dry-run
	assert_success
	assert_line --partial " --listen-wss 192.0.2.10:8443 --listen-ws 127.0.0.1:8080 --ws-origin https://phone.test --outside-keying=dtls"
	run "$sg" -o 192.0.2.10 --registrar --wss-port 5061 --check
	assert_failure
	assert_output --partial "wss-port: the same as tls-port"
	cp "$D/gw.pem" "$W/cert.pem"
	cp "$D/gw.key" "$W/cert.key"
	wssport=$("$FREEPORT" "$IP")
	timeout -k 2 30 "$sg" --outside "$IP" --inside "$IP" --sip-port 0 \
	    --tls-port "$("$FREEPORT" "$IP")" --wss-port "$wssport" \
	    --cert "$W/cert.pem" --key "$W/cert.key" --registrar \
	    --media-ports 40000-40999 > "$W/sg.out" 2> "$W/sg.err" &
	PIDS+=($!)
	wait_line "$W/sg.err" 'sbc-gateway: ready: '
	KIDS+=($(sed -n 's/.*ready: srtp-bridge pid \([0-9]*\).*/\1/p' "$W/sg.err"))
	KIDS+=($(sed -n 's/.*sip-tls-term pid \([0-9]*\)$/\1/p' "$W/sg.err"))
	# without --print-addresses: nothing on stdout, the start-up lines
	# on stderr with sip-tls-term's prefix
	run cat "$W/sg.out"
	assert_output ""
	run grep -Fx "sip-tls-term: info: listening wss $IP:$wssport" "$W/sg.err"
	assert_success
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" --tls -c 1 "$IP:$wssport" "$W/reg"
	assert_line "ACCEPT ok"
	assert_line "SIP/2.0 200 OK"
}

@test "sip-tls-term ws: a WS phone calls a TLS phone: flow to flow, each side its own transport" {
	start_ws_gw --registrar
	register "$W/reg" 300
	( timeout 10 "$CLI" -a -w 6000 "$L" "$W/reg" > "$W/tls.out" ) &
	PIDS+=($!)
	wait_line "$W/tls.out" "^Contact:"
	ws_invite "$W/inv" "sip:alice@gw.test" "o2o-$RANDOM"
	run timeout 10 python3 "$WSC" --tls -c 2 -w 4000 "$WSS" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$WSS;transport=ws;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	run cat "$W/tls.out"
	assert_line "INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/TLS $L;branch=z9hG4bKsbk"
	assert_line --regexp "^Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKws[0-9]+;received="
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$WSS;transport=ws;lr>"
}

@test "sip-tls-term: a TLS phone offering DTLS-SRTP gets a DTLS answer, and DTLS offers after (rtpengine)" {
	command -v rtpengine >/dev/null || skip "rtpengine not installed"
	rtpengine_up
	bob_udp
	start_ws_gw --registrar --allow-inside "$IP/32" --media "ng:$NG" \
	    --media-direction outside,inside
	register "$W/reg" 300
	{
	alice_offer "sip:bob@$UP" 70 dtls1 "dtls-$RANDOM" "UDP/TLS/RTP/SAVP 0"
	echo "a=rtpmap:0 PCMU/8000"
	echo "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3A:27:8F:9A:6A:B2:E5:55:62:60:89:E2"
	echo "a=setup:actpass"
	} | mk "$W/inv"
	( timeout 12 "$CLI" -a -w 8000 "$L" "$W/reg" "$W/inv" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^a=fingerprint"
	sed -n '/^SIP\/2.0 200 OK/,/^----/p' "$W/alice.out" | grep -A30 'CSeq: 1 INVITE' > "$W/answer"
	run cat "$W/answer"
	assert_line --regexp "^m=audio [0-9]+ UDP/TLS/RTP/SAVP 0"
	assert_line --regexp "^a=setup:(active|passive)"
	refute_line --regexp "^a=crypto:"
	run cat "$W/peer.out"
	assert_line --regexp "^m=audio [0-9]+ RTP/AVP 0"
	refute_line --regexp "^a=(fingerprint|setup|crypto)"
	# Bob calls her: the offer she gets is DTLS-SRTP, as she spoke
	timeout 10 python3 "$W/bob.py" "$IP" "$IN" "sip:alice@$IN" > "$W/bob2.out" &
	PIDS+=($!)
	wait_line "$W/alice.out" "^INVITE "
	sbk_wait_for 5 sh -c "sed -n '/^INVITE /,\$p' '$W/alice.out' | grep -q '^a=fingerprint'"
	sed -n '/^INVITE /,$p' "$W/alice.out" > "$W/offer"
	run cat "$W/offer"
	assert_line --regexp "^m=audio [0-9]+ UDP/TLS/RTP/SAVPF 0"
	assert_line --regexp "^a=fingerprint:sha-256 "
	refute_line --regexp "^a=crypto:"
}

@test "sip-tls-term ws: Contact rewriting keeps a WS phone's .invalid Contact" {
	sip_peer udp 15
	start_ws_gw -u "udp:$UP" --contact-rewrite
	ws_register "$W/reg" alice
	run timeout 10 python3 "$WSC" -c 1 "$WS" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:r2d2alice@df7jal23ls0d.invalid;transport=ws>;expires=300"
	run cat "$W/peer.out"
	assert_line --regexp "^Contact: <sip:sbk[0-9a-f]{36}@$IN>;expires=300"
	refute_line --partial ".invalid>"
}

@test "sip-tls-term ws: python3-websockets (an independent RFC 6455 client) over WSS and WS" {
	/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
	    skip "python3-websockets is not installed"
	start_ws_gw --registrar --ws-origin https://phone.test
	ws_register "$W/reg" alice
	ws_register "$W/reg2" bob
	cat > "$W/wsc.py" <<'PY'
import asyncio, ssl, sys, websockets
async def main(url, proto, origin, reg, reg2):
    ctx = None
    if url.startswith("wss:"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        ws = await websockets.connect(url, subprotocols=[proto], ssl=ctx,
                                      origin=origin, compression=None)
    except websockets.exceptions.InvalidStatusCode as e:
        print("refused", e.status_code)
        return
    print("subprotocol", ws.subprotocol)
    await ws.send(open(reg, newline="").read())
    print((await asyncio.wait_for(ws.recv(), 5)).replace("\r\n", "\n"))
    await asyncio.wait_for(await ws.ping(b"hi"), 5)
    print("pong ok")
    # a message in fragments, from an async iterator
    msg = open(reg2, newline="").read()
    async def parts():
        for i in range(0, len(msg), 100):
            yield msg[i:i + 100]
    await ws.send(parts())
    print((await asyncio.wait_for(ws.recv(), 5)).replace("\r\n", "\n"))
    await ws.close()
    print("closed", ws.close_code)
asyncio.run(main(*sys.argv[1:]))
PY
	run timeout 20 /usr/bin/python3 "$W/wsc.py" "wss://$WSS/" sip https://phone.test "$W/reg" "$W/reg2"
	assert_success
	assert_line "subprotocol sip"
	assert_line "Contact: <sip:r2d2alice@df7jal23ls0d.invalid;transport=ws>;expires=300"
	assert_line "pong ok"
	assert_line "Contact: <sip:r2d2bob@df7jal23ls0d.invalid;transport=ws>;expires=300"
	assert_line "closed 1000"
	run timeout 20 /usr/bin/python3 "$W/wsc.py" "ws://$WS/" sip https://phone.test "$W/reg" "$W/reg2"
	assert_line "subprotocol sip"
	assert_line "closed 1000"
	run timeout 20 /usr/bin/python3 "$W/wsc.py" "ws://$WS/" chat https://phone.test "$W/reg" "$W/reg2"
	assert_line "refused 400"
	run timeout 20 /usr/bin/python3 "$W/wsc.py" "ws://$WS/" sip https://evil.test "$W/reg" "$W/reg2"
	assert_line "refused 403"
}
