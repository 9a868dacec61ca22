#!/usr/bin/env bats
# sip-tls-term-tcp.bats - the terminator's inside TCP transport: TLS
# outside (tests/helpers/sip-tls-client), SIP over TCP inside
# (tests/helpers/sip-tcp-peer, which also answers on UDP on the same port),
# on a random 127.x.y.z address.

load "$SBK_TOP/tests/lib-sip"

# start_peer [ARGS]: the inside TCP+UDP peer; sets UP.
start_peer() { sip_peer tcp 15 "$@"; }

# start_gw ARGS: sets L (TLS), IN (inside UDP) and INT (inside TCP).
start_gw() { sip_gw 25 "$@"; }

# tinvite FILE [SDP-LINE]: invite to sip:bob@$IP;transport=tls, the offer
# ending in SDP-LINE (default a=sendrecv).
tinvite() { invite "$1" 70 "sip:bob@$IP;transport=tls" "${2:-a=sendrecv}"; }

# An SDP attribute block that takes a request past 1300 bytes.
big_sdp() {
	local i
	for i in $(seq 1 16); do
		echo "a=x-pad$i:0123456789012345678901234567890123456789012345678901234567890123456789"
	done
	echo "a=sendrecv"
}

@test "sip-tls-term tcp: --help and usage errors name the TCP options" {
	run "$GW" --help
	assert_success
	assert_output --partial "tcp:ADDR:PORT"
	assert_output --partial "--inside-tcp"
	assert_output --partial "--udp-max"
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" -u "sctp:$IP:5060"
	assert_failure 2
	assert_output --partial "tcp:ADDR:PORT"
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --inside-idle 0
	assert_failure 2
}

@test "sip-tls-term tcp: a call over TLS outside, TCP inside, and its BYE back" {
	start_peer
	start_gw -u "tcp:$UP"
	[ "$INT" = "$IN" ]
	tinvite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv"
	assert_success
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 180 Ringing"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:peer@$UP;transport=tcp>"
	refute_line --partial "SIP/2.0/TCP $IN"
	run cat "$W/peer.out"
	assert_line "<<< tcp"
	refute_line "<<< udp"
	assert_line "INVITE sip:bob@$IP SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/TCP $IN;branch=z9hG4bKsbk[0-9a-f]{36}\\.[0-9a-f]{16};rport"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	assert_line --regexp "^Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKinv1;received=127\\.[0-9.]+;rport=[0-9]+"
	# the BYE follows the route set back in, over the same connection
	rr_in=$(sed -n 's/^Record-Route: <\(.*;transport=tcp;lr\)>$/\1/p' "$W/peer.out")
	rr_out=$(sed -n 's/^Record-Route: <\(.*;transport=tls;lr\)>$/\1/p' "$W/peer.out")
	mk "$W/bye" <<EOF
BYE sip:peer@$UP;transport=tcp SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKbye1;rport
Route: <$rr_out>, <$rr_in>
Max-Forwards: 70
From: <sip:alice@gw.test>;tag=a1
To: <sip:bob@gw.test>;tag=tpeer1
Call-ID: bye-$RANDOM@alice
CSeq: 2 BYE

EOF
	run timeout 10 "$CLI" -c 1 -w 4000 "$L" "$W/bye"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 2 BYE"
	run cat "$W/peer.out"
	assert_line "BYE sip:peer@$UP;transport=tcp SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/TCP $IN;branch=z9hG4bKsbk"
	refute_line --regexp "^Route:"
	# one connection, reused
	run grep -c '^accepted' "$W/peer.out"
	assert_output 1
}

@test "sip-tls-term tcp: a request from inside over TCP reaches the client's TLS flow" {
	start_gw --registrar --inside-tcp
	register "$W/reg"
	( timeout 10 "$CLI" -a -w 5000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^Contact:"
	bob_invite "$W/inv" "sip:alice@$IN" "sip:alice@$IN" bob1 \
	    "bob-call-$RANDOM" tcp
	# Bob writes in 40-byte segments: the gateway reassembles
	run timeout 5 "$TPEER" -l "$IP:0" -t "$INT" -f "$W/inv" -s 40 -w 2500
	assert_line "<<< tcp"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 1 INVITE"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr>"
	assert_line --regexp "^Via: SIP/2.0/TCP $IP:5099;branch=z9hG4bKbob1;received=$IP;rport=[0-9]+"
	refute_line "<<< udp"
	run cat "$W/alice.out"
	assert_line "INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/TLS $L;branch=z9hG4bKsbi\\.[0-9a-f]{16}"
	assert_line --regexp "^Via: SIP/2.0/TCP $IP:5099;branch=z9hG4bKbob1;received=$IP;rport=[0-9]+"
}

@test "sip-tls-term tcp: a request over 1300 bytes goes over TCP, small ones UDP (RFC 3261 18.1.1)" {
	start_peer
	start_gw -u "udp:$UP" --inside-tcp
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line "SIP/2.0 200 OK"
	tinvite "$W/inv" "$(big_sdp)"
	[ "$(stat -c %s "$W/inv")" -gt 1300 ]
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line "a=x-pad16:0123456789012345678901234567890123456789012345678901234567890123456789"
	# OPTIONS over UDP, then the INVITE over TCP, with TCP in Via and RR
	run sed -n '/^<<< /p' "$W/peer.out"
	assert_output $'<<< udp\n<<< tcp'
	run sed -n '/^<<< tcp/,/^----/p' "$W/peer.out"
	assert_line --regexp "^Via: SIP/2.0/TCP $IN;branch=z9hG4bKsbk"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr>"
	assert_line "INVITE sip:bob@$IP SIP/2.0"
}

@test "sip-tls-term tcp: --udp-max 0 keeps large requests on UDP" {
	start_peer
	start_gw -u "udp:$UP" --inside-tcp --udp-max 0
	tinvite "$W/inv" "$(big_sdp)"
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	run sed -n '/^<<< /p' "$W/peer.out"
	assert_output "<<< udp"
	run grep -c "SIP/2.0/TCP" "$W/peer.out"
	assert_output 0
}

@test "sip-tls-term tcp: a peer without TCP gets the large request over UDP after all" {
	sip_peer udp 15
	start_gw -u "udp:$UP" --inside-tcp
	tinvite "$W/inv" "$(big_sdp)"
	run timeout 10 "$CLI" -c 3 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	run cat "$W/peer.out"
	assert_line --regexp "^Via: SIP/2.0/UDP $IN;branch=z9hG4bKsbk"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;lr>"
	refute_line --partial "transport=tcp"
}

@test "sip-tls-term tcp: an upstream that refuses TCP gets the caller a 503" {
	sip_peer udp 15
	start_gw -u "tcp:$UP"
	tinvite "$W/inv"
	run timeout 10 "$CLI" -c 2 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 503 Service Unavailable"
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 0
}

@test "sip-tls-term tcp: the inside peer closes its connection, the next request reconnects" {
	start_peer -x
	start_gw -u "tcp:$UP"
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line "SIP/2.0 200 OK"
	wait_line "$W/gw.err" "peer closed"
	options "$W/o2" 2
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o2"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 2 OPTIONS"
	run grep -c '^accepted' "$W/peer.out"
	assert_output 2
	run grep -c '^closing tcp' "$W/peer.out"
	assert_output 2
}

@test "sip-tls-term tcp: answers split across TCP segments are reassembled" {
	start_peer -s 23
	start_gw -u "tcp:$UP"
	tinvite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 8000 "$L" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 180 Ringing"
	assert_line "SIP/2.0 200 OK"
	assert_line "m=audio 10000 RTP/AVP 0"
	run grep -c "unframeable\|too large" "$W/gw.err"
	assert_output 0
}

@test "sip-tls-term tcp: Path and REGISTER over TCP say transport=tcp" {
	start_peer
	start_gw -u "tcp:$UP"
	register "$W/reg"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=300"
	run cat "$W/peer.out"
	assert_line "<<< tcp"
	assert_line --regexp "^Path: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr;ob>"
}
