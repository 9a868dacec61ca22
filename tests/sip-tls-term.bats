#!/usr/bin/env bats
# sip-tls-term.bats - the SIP-aware TLS terminator against scripted peers:
# a C TLS client (tests/helpers/sip-tls-client) outside and a C UDP peer
# (tests/helpers/sip-udp-peer) inside, on a random 127.x.y.z address.

load "$SBK_TOP/tests/lib-sip"

# start_peer [ARGS]: the inside UDP peer; sets UP.
start_peer() { sip_peer udp 15 "$@"; }

# start_gw ARGS: the gateway on $IP; sets L (TLS) and IN (inside UDP).
start_gw() { sip_gw 25 "$@"; }

@test "sip-tls-term: --help, --version, usage errors" {
	run "$GW" --help
	assert_success
	assert_output --partial "--upstream"
	run "$GW" --version
	assert_success
	run "$GW" --bogus
	assert_failure 2
	run "$GW" -l 127.0.0.1:0
	assert_failure 2
	assert_output --partial "--cert"
	run "$GW" -c "$D/gw.pem" -k "$D/missing.key" -l "$IP:0"
	assert_failure 1
}

@test "sip-tls-term: INVITE relayed inside with Via, Record-Route, Max-Forwards" {
	start_peer
	start_gw -u "udp:$UP"
	invite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv"
	assert_success
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 180 Ringing"
	assert_line "SIP/2.0 200 OK"
	assert_line --partial "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKinv1;received="
	# our Via never leaks outside
	refute_line --partial "SIP/2.0/UDP $IN"
	run cat "$W/peer.out"
	assert_line "INVITE sip:bob@$IP SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/UDP $IN;branch=z9hG4bKsbk[0-9a-f]{36}\\.[0-9a-f]{16};rport"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;lr>"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	assert_line --regexp "^Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKinv1;received=127\\.[0-9.]+;rport=[0-9]+"
	assert_line "Max-Forwards: 69"
	assert_line "m=audio 10000 RTP/AVP 0"
}

@test "sip-tls-term: records split mid-message, several messages per record, CRLF ping" {
	start_peer
	start_gw -u "udp:$UP"
	invite "$W/inv"
	run timeout 10 "$CLI" -s 7 -c 3 -w 4000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	options "$W/o1" 1
	options "$W/o2" 2
	printf '\r\n\r\n' > "$W/ping"
	run timeout 10 "$CLI" -j -c 2 -w 4000 "$L" "$W/o1" "$W/ping" "$W/o2"
	assert_line "CSeq: 1 OPTIONS"
	assert_line "CSeq: 2 OPTIONS"
	run timeout 10 "$CLI" -w 800 "$L" "$W/ping"
	assert_line "PONG"
}

@test "sip-tls-term: Max-Forwards 0 gets 483, malformed request 400, sips: refused" {
	start_peer
	start_gw -u "udp:$UP"
	invite "$W/inv" 0
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/inv"
	assert_line "SIP/2.0 483 Too Many Hops"
	mk "$W/bad" <<EOF
OPTIONS sip:bob@$IP SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKbad
From: <sip:alice@gw.test>;tag=b
To: <sip:bob@gw.test>
Call-ID: bad@alice
CSeq: 1 OPTIONS
Max-Forwards: lots

EOF
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/bad"
	assert_line "SIP/2.0 400 Bad Max-Forwards"
	invite "$W/sips" 70 "sips:bob@$IP"
	run timeout 10 "$CLI" -c 2 -w 3000 "$L" "$W/sips"
	assert_line "SIP/2.0 480 Temporarily Unavailable"
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 0
}

@test "sip-tls-term: oversize and unframeable streams are closed" {
	start_peer
	start_gw -u "udp:$UP" --max-msg 300
	invite "$W/inv"
	run timeout 10 "$CLI" -w 3000 "$L" "$W/inv"
	assert_line "CLOSED"
	printf 'OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\r\n' > "$W/nocl"
	run timeout 10 "$CLI" -w 3000 "$L" "$W/nocl"
	assert_line "CLOSED"
	# the gateway is still serving
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line "SIP/2.0 200 OK"
}

@test "sip-tls-term: handshake timeout closes a silent connection" {
	start_gw --handshake-timeout 300
	host=${L%:*}; port=${L##*:}
	exec 5<>"/dev/tcp/$host/$port"
	# EOF well before `timeout` would end the read
	run timeout 5 cat <&5
	exec 5<&-
	assert_success
	run grep -c "handshake timeout" "$W/gw.err"
	assert_output 1
}

@test "sip-tls-term: silent inside gets retransmissions, then 408" {
	start_peer -m silent
	start_gw -u "udp:$UP" --timeout 2200
	invite "$W/inv"
	run timeout 10 "$CLI" -c 2 -w 6000 "$L" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 408 Request Timeout"
	n=$(grep -c '^INVITE' "$W/peer.out")
	[ "$n" -ge 3 ]
}

@test "sip-tls-term: a client that stops reading does not stall others" {
	start_peer -m big
	start_gw -u "udp:$UP" --write-queue 32768 --socket-sndbuf 16384
	for i in $(seq 1 100); do options "$W/o$i" "$i"; done
	timeout 10 "$CLI" -r 4096 -j -n -w 3000 "$L" $(for i in $(seq 1 100); do echo "$W/o$i"; done) > "$W/slow.out" &
	PIDS+=($!)
	sleep 1
	options "$W/x" 999
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/x"
	assert_line "CSeq: 999 OPTIONS"
	wait_line "$W/gw.err" "write queue full"
}

@test "sip-tls-term: Path on REGISTER, Contact back unchanged, inside reaches the flow" {
	start_peer
	start_gw -u "udp:$UP"
	register "$W/reg" 300 gruu,replaces
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=300"
	run cat "$W/peer.out"
	assert_line --regexp "^Path: <sip:sbk[0-9a-f]{36}@$IN;lr;ob>"
	assert_line "Supported: gruu,replaces, path"
	path=$(sed -n 's/^Path: <\(.*\)>$/\1/p' "$W/peer.out" | head -1)
	# A registrar with Path preloads it as a Route towards Alice.
	( timeout 10 "$CLI" -S gw.test -a -c 2 -w 4000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	sleep 0.7
	path=$(sed -n 's/^Path: <\(.*\)>$/\1/p' "$W/peer.out" | tail -1)
	mk "$W/bye" <<EOF
OPTIONS sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0
Via: SIP/2.0/UDP $IP:5099;branch=z9hG4bKin1;rport
Route: <$path>
Max-Forwards: 70
From: <sip:bob@$IP>;tag=b1
To: <sip:alice@gw.test>
Call-ID: in-1@bob
CSeq: 7 OPTIONS

EOF
	timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/bye" -w 2000 > "$W/bob.out"
	run cat "$W/alice.out"
	assert_line "OPTIONS sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
	refute_line --partial "Route:"
	run cat "$W/bob.out"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 7 OPTIONS"
	refute_line --partial "SIP/2.0/TLS"
}

@test "sip-tls-term: forged or stale flow tokens get 430" {
	start_peer
	start_gw -u "udp:$UP"
	mk "$W/req" <<EOF
OPTIONS sip:alice@127.0.0.10 SIP/2.0
Via: SIP/2.0/UDP $IP:5099;branch=z9hG4bKin2;rport
Route: <sip:sbk0000000100000000aaaaaaaaaaaaaaaaaaaa@$IN;lr>
Max-Forwards: 70
From: <sip:bob@$IP>;tag=b1
To: <sip:alice@gw.test>
Call-ID: in-2@bob
CSeq: 1 OPTIONS

EOF
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/req" -w 1000
	assert_line "SIP/2.0 404 Not Found"
	register "$W/reg" 300 gruu,replaces
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	path=$(sed -n 's/^Path: <\(.*\)>$/\1/p' "$W/peer.out" | head -1)
	sed -i "s|^Route: .*|Route: <$path>\r|" "$W/req"
	# that client has gone
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/req" -w 1000
	assert_line "SIP/2.0 430 Flow Failed"
}

@test "sip-tls-term: Contact rewriting keeps the client's Contact" {
	start_peer
	start_gw -u "udp:$UP" --contact-rewrite
	register "$W/reg" 300 gruu,replaces
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	assert_line "Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=300"
	run cat "$W/peer.out"
	assert_line --regexp "^Contact: <sip:sbk[0-9a-f]{36}@$IN>;expires=300"
	refute_line --partial "Path:"
}

@test "sip-tls-term: built-in registrar, calls from the inside reach the flow" {
	start_gw --registrar
	register "$W/reg" 300 gruu,replaces
	( timeout 10 "$CLI" -a -w 5000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" "^Contact:"
	run cat "$W/alice.out"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=(300|299)"
	bob_invite "$W/inv" "sip:alice@$IN" "sip:alice@$IN" bob1 bob-call
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1500
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$L;transport=tls;lr>"
	run cat "$W/alice.out"
	assert_line "INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
	assert_line --regexp "^Via: SIP/2.0/TLS $L;branch=z9hG4bKsbi\\.[0-9a-f]{16}"
	sed -i 's/alice@/carol@/; s/bob-call/carol-call/' "$W/inv"
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1000
	assert_line "SIP/2.0 404 Not Found"
	wait "${PIDS[-1]}" || true
	sed -i 's/carol@/alice@/; s/carol-call/gone-call/' "$W/inv"
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1000
	assert_line "SIP/2.0 480 Temporarily Unavailable"
}

@test "sip-tls-term: built-in registrar, two devices for one AoR, newest live one called" {
	start_gw --registrar
	register "$W/reg1" 300 gruu,replaces
	register "$W/reg2" 120 gruu,replaces
	sed -i 's/alice-0x55d1@127.0.0.10/alice-0x77e2@127.0.0.11/' "$W/reg2"
	( timeout 10 "$CLI" -a -w 8000 "$L" "$W/reg1" > "$W/a1.out" ) &
	PIDS+=($!)
	wait_line "$W/a1.out" "^Contact:"
	( timeout 10 "$CLI" -a -w 2500 "$L" "$W/reg2" > "$W/a2.out" ) &
	PIDS+=($!)
	A2=$!
	wait_line "$W/a2.out" "^Contact:"
	# The 200 OK lists every binding with its own expiry (RFC 3261 10.3).
	run cat "$W/a2.out"
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=(300|299)$"
	assert_line --regexp "^Contact: <sip:alice-0x77e2@127.0.0.11:5061;transport=tls>;expires=(120|119)$"
	bob_invite "$W/inv" "sip:alice@$IN" "sip:alice@$IN" two1 two-1
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1000
	assert_line "SIP/2.0 200 OK"
	# the newest registration gets the call
	run grep -c '^INVITE sip:alice-0x77e2@127.0.0.11:5061;transport=tls SIP/2.0$' "$W/a2.out"
	assert_output 1
	run grep -c '^INVITE' "$W/a1.out"
	assert_output 0
	# its flow gone, the other (live) binding gets the next call
	wait "$A2" || true
	sed -i 's/two1/two2/; s/two-1@/two-2@/' "$W/inv"
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1000
	assert_line "SIP/2.0 200 OK"
	run grep -c '^INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0$' "$W/a1.out"
	assert_output 1
	# expires=0 removes one Contact; the others are listed
	register "$W/unreg" 0 gruu,replaces
	sed -i 's/alice-0x55d1@127.0.0.10/alice-0x77e2@127.0.0.11/' "$W/unreg"
	run timeout 5 "$CLI" -c 1 -w 3000 "$L" "$W/unreg"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=(300|2[0-9][0-9])$"
	refute_line --partial "alice-0x77e2"
	# "Contact: *" with Expires: 0 removes them all
	register "$W/star" 300 gruu,replaces
	sed -i 's/^Contact: .*/Contact: *\r/; s/^CSeq: .*/Expires: 0\r\nCSeq: 1 REGISTER\r/' "$W/star"
	run timeout 5 "$CLI" -c 1 -w 3000 "$L" "$W/star"
	assert_line "SIP/2.0 200 OK"
	refute_line --partial "Contact:"
	sed -i 's/two2/two3/; s/two-2@/two-3@/' "$W/inv"
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/inv" -w 1000
	assert_line "SIP/2.0 404 Not Found"
}

@test "sip-tls-term: built-in registrar, outside requests for a local AoR never go inside" {
	start_peer
	start_gw -u "udp:$UP" --registrar
	register "$W/reg" 300 gruu,replaces
	# Alice registers, then her connection goes away
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	invite "$W/inv" 70 "sip:alice@$IP;transport=tls"
	run timeout 10 "$CLI" -c 2 -w 3000 "$L" "$W/inv"
	assert_line "SIP/2.0 480 Temporarily Unavailable"
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 0
	# an AoR not registered here goes upstream as before
	invite "$W/inv2" 70 "sip:dave@$IP;transport=tls"
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv2"
	assert_line "SIP/2.0 200 OK"
	run grep -c "^INVITE sip:dave@$IP SIP/2.0" "$W/peer.out"
	assert_output 1
}

@test "sip-tls-term: --tls-keylog writes an NSS key log, mode 0600" {
	start_peer
	start_gw -u "udp:$UP" --tls-keylog "$W/keys.log"
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line "SIP/2.0 200 OK"
	run stat -c %a "$W/keys.log"
	assert_output 600
	run grep -c '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]\{64\} [0-9a-f]\{64\}' "$W/keys.log"
	assert_output 1
}

@test "sip-tls-term: SIGHUP reopens the TLS key log (logrotate), never through a link" {
	start_peer
	start_gw -u "udp:$UP" --tls-keylog "$W/keys.log"
	local st
	st=$(pgrep -P "${PIDS[-1]}" -x sip-tls-term)
	[ -n "$st" ]
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line "SIP/2.0 200 OK"
	# rotated: renamed away, then SIGHUP
	mv "$W/keys.log" "$W/keys.log.1"
	kill -HUP "$st"
	wait_line "$W/gw.err" "info: tls: key log $W/keys.log reopened"
	run stat -c %a "$W/keys.log"
	assert_output 600
	options "$W/o2" 2
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o2"
	assert_line "SIP/2.0 200 OK"
	# the new connection's secrets in the new file, the old file unchanged
	run grep -c '^CLIENT_TRAFFIC_SECRET_0 ' "$W/keys.log"
	assert_output 1
	run grep -c '^CLIENT_TRAFFIC_SECRET_0 ' "$W/keys.log.1"
	assert_output 1
	run cmp -s "$W/keys.log" "$W/keys.log.1"
	assert_failure
	# a link planted at the path: refused, the open file kept
	mv "$W/keys.log" "$W/keys.log.2"
	ln -s "$W/planted" "$W/keys.log"
	kill -HUP "$st"
	wait_line "$W/gw.err" "error: tls: $W/keys.log: .*; key log not reopened"
	options "$W/o3" 3
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o3"
	assert_line "SIP/2.0 200 OK"
	[ ! -e "$W/planted" ]
	run grep -c '^CLIENT_TRAFFIC_SECRET_0 ' "$W/keys.log.2"
	assert_output 2
	kill -0 "$st"
}

@test "sip-tls-term: SDP through srtp-bridge (ng): RTP/AVP inside, RTP/SAVP outside" {
	start_peer
	ngport=$("$FREEPORT" "$IP")
	sip_bridge 25 "$IP:$ngport" "$IP" "$IP"
	start_gw -u "udp:$UP" --media "ng:$IP:$ngport" \
	    --media-direction outside,inside
	sdes_invite "$W/inv" 101
	run timeout 10 "$CLI" -c 3 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	# the answer the client gets is SRTP with one key, on the relay
	assert_line --regexp "^m=audio [0-9]+ RTP/SAVP 0"
	assert_line --regexp "^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	assert_line "c=IN IP4 $IP"
	run cat "$W/peer.out"
	assert_line --regexp "^m=audio [0-9]+ RTP/AVP 0"
	refute_line --partial "a=crypto"
	assert_line "c=IN IP4 $IP"
}

@test "sip-tls-term: a relay that does not answer gets the caller a 5xx" {
	start_peer
	ngport=$("$FREEPORT" "$IP")
	start_gw -u "udp:$UP" --media "ng:$IP:$ngport"
	sdes_invite "$W/inv" 101
	run timeout 15 "$CLI" -c 2 -w 8000 "$L" "$W/inv"
	assert_line "SIP/2.0 100 Trying"
	assert_line "SIP/2.0 503 Service Unavailable"
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 0
}

@test "sip-tls-term: an SDP the relay cannot parse gets the caller a 488, not a 503" {
	start_peer
	ngport=$("$FREEPORT" "$IP")
	sip_bridge 25 "$IP:$ngport" "$IP" "$IP"
	start_gw -u "udp:$UP" --media "ng:$IP:$ngport" \
	    --media-direction outside,inside
	# a line that is not TYPE=VALUE: no SDP parser takes it
	invite "$W/inv" 70 "" "this is not sdp"
	run timeout 10 "$CLI" -c 2 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 488 Not Acceptable Here"
	refute_line --partial "SIP/2.0 503"
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 0
	# the relay's reason, and the call it was about, reach the log
	cid=$(sed -n 's/^Call-ID: //p' "$W/inv" | tr -d '\r')
	run grep -F "ng: relay error: " "$W/gw.err"
	assert_output --partial ": call-id=$cid"
	run grep -F "media relay: syntax error: call-id=$cid from-tag=a1" "$W/gw.err"
	assert_success
}

@test "sip-tls-term: --require-srtp answers 488 to offers without a=crypto" {
	start_peer
	start_gw -u "udp:$UP" --require-srtp
	invite "$W/inv"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/inv"
	assert_line "SIP/2.0 488 Not Acceptable Here"
	sdes_invite "$W/inv2" 101
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv2"
	assert_line "SIP/2.0 200 OK"
}

@test "sip-tls-term --check: files and keys checked, nothing bound" {
	printf 'alice:lab:%s\n' "$(printf 'alice:lab:pw' | md5sum | cut -d' ' -f1)" > "$W/creds"
	run timeout 10 "$GW" --check -c "$D/gw.pem" -k "$D/gw.key" \
	    -l "$IP:5061" -u "udp:$IP:5060" --registrar --auth "$W/creds" \
	    --tls-keylog "$W/tls.keys"
	assert_success
	assert_line "ok tls: 1 certificate and key load and match"
	assert_line "ok tls-keylog: $W/tls.keys: will be created"
	assert_line "ok auth: $W/creds: 1 entries"
	refute_line --partial "FAIL"
	[ ! -e "$W/tls.keys" ]
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$W/other.key" 2>/dev/null
	chmod 600 "$W/other.key"
	run timeout 10 "$GW" --check -c "$D/gw.pem" -k "$W/other.key" \
	    -l "$IP:5061" --tls-keylog "$W/no/dir/tls.keys"
	assert_failure 1
	assert_line "FAIL tls: a certificate or key is bad, or a key does not match its certificate"
	assert_line --partial "FAIL tls-keylog: $W/no/dir/tls.keys: directory $W/no/dir:"
	printf 'alice:lab\n' > "$W/bad"
	run timeout 10 "$GW" --check -c "$D/gw.pem" -k "$D/gw.key" \
	    -l "$IP:5061" --auth "$W/bad"
	assert_failure 3
	assert_line --regexp "^FAIL auth: $W/bad: .*line 1"
}

@test "sip-tls-term: a key file others may read is refused (exit 4) unless --allow-readable-key" {
	cp "$D/gw.key" "$W/open.key"
	chmod 644 "$W/open.key"
	P=$("$FREEPORT" "$IP")
	run timeout 10 "$GW" -c "$D/gw.pem" -k "$W/open.key" -l "$IP:$P" \
	    -i "$IP:0"
	assert_failure 4
	assert_output "sip-tls-term: tls: $W/open.key: mode 0644: group or others can read the private key (chmod 600) (--allow-readable-key accepts it)"
	# refused before anything was bound
	run "$FREEPORT" "$IP"
	assert_success
	run ss -Htln "src $IP:$P"
	assert_output ""
	# group-readable only: the same
	chmod 640 "$W/open.key"
	run timeout 10 "$GW" -c "$D/gw.pem" -k "$W/open.key" -l "$IP:$P" \
	    -i "$IP:0"
	assert_failure 4
	assert_output --partial "mode 0640"
	# --check says FAIL, exit 1; with the option a warning, exit 0
	run timeout 10 "$GW" --check -c "$D/gw.pem" -k "$W/open.key" \
	    -l "$IP:5061"
	assert_failure 1
	assert_line "FAIL key-mode: $W/open.key: mode 0640: group or others can read the private key (chmod 600)"
	assert_line "ok tls: 1 certificate and key load and match"
	run timeout 10 "$GW" --check -c "$D/gw.pem" -k "$W/open.key" \
	    -l "$IP:5061" --allow-readable-key
	assert_success
	assert_line "warn key-mode: $W/open.key: mode 0640: group or others can read the private key (chmod 600)"
	# an --sni key too
	run timeout 10 "$GW" -c "$D/gw.pem" -k "$D/gw.key" -l "$IP:$P" \
	    -i "$IP:0" --sni "other.test=$D/gw.pem,$W/open.key"
	assert_failure 4
	# allowed: it runs, with a warning on stderr
	timeout -k 5 10 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$W/open.key" \
	    -i "$IP:0" --allow-readable-key --print-addresses > "$W/gw.out" \
	    2> "$W/gw.err" &
	PIDS+=($!)
	wait_line "$W/gw.out" '^inside udp '
	L=$(sed -n 's/^listening tls //p' "$W/gw.out")
	run grep -F "sip-tls-term: warning: tls: $W/open.key: mode 0640" "$W/gw.err"
	assert_success
	options "$W/o1" 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line --partial "SIP/2.0 "
	# strict (the default) at a reload too: the old certificates stay
	cp "$D/gw.key" "$W/strict.key"
	timeout -k 5 10 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$W/strict.key" \
	    -i "$IP:0" --print-addresses > "$W/s.out" 2> "$W/s.err" &
	PIDS+=($!)
	wait_line "$W/s.out" '^inside udp '
	chmod 604 "$W/strict.key"
	kill -HUP "$(pgrep -P "${PIDS[-1]}" -x sip-tls-term)"
	wait_line "$W/s.err" "error: reload failed; old certificates kept"
	run grep -F "error: tls: $W/strict.key: mode 0604" "$W/s.err"
	assert_success
	L=$(sed -n 's/^listening tls //p' "$W/s.out")
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/o1"
	assert_line --partial "SIP/2.0 "
}

@test "sip-tls-term: a bad credentials file fails before a port is bound" {
	P=$("$FREEPORT" "$IP")
	timeout -k 1 20 python3 -c 'import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("held", flush=True)
time.sleep(20)' "$IP" "$P" > "$W/hold.out" &
	PIDS+=($!)
	wait_line "$W/hold.out" held
	printf 'alice:lab\n' > "$W/bad"
	# the auth file is read before the (busy) port is bound: exit 3
	run timeout 10 "$GW" -c "$D/gw.pem" -k "$D/gw.key" -l "$IP:$P" \
	    --registrar --auth "$W/bad"
	assert_failure 3
	assert_output --partial "auth: "
	printf 'alice:lab:%s\n' "$(printf 'alice:lab:pw' | md5sum | cut -d' ' -f1)" > "$W/creds"
	run timeout 10 "$GW" -c "$D/gw.pem" -k "$D/gw.key" -l "$IP:$P" \
	    --registrar --auth "$W/creds"
	assert_failure 1
	assert_output --partial "listen: Address already in use"
}

@test "sip-tls-term: -v logs one line per SIP message in and out, with Call-ID and CSeq" {
	start_peer
	start_gw -u "udp:$UP"
	register "$W/reg" 300
	cid=$(sed -n 's/^Call-ID: //p' "$W/reg" | tr -d '\r')
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	cat "$W/gw.err"
	# "sip: in|out outside|inside PEER METHOD|STATUS call-id=... cseq=N M"
	run grep -cE "^sip-tls-term: debug: sip: in outside 127\.[0-9.]+:[0-9]+ REGISTER call-id=$cid cseq=1 REGISTER$" "$W/gw.err"
	assert_output 1
	run grep -cF "sip: out inside $UP REGISTER call-id=$cid cseq=1 REGISTER" "$W/gw.err"
	assert_output 1
	run grep -cF "sip: in inside $UP 200 call-id=$cid cseq=1 REGISTER" "$W/gw.err"
	assert_output 1
	run grep -cE "sip: out outside 127\.[0-9.]+:[0-9]+ 200 call-id=$cid cseq=1 REGISTER$" "$W/gw.err"
	assert_output 1
	# nothing else
	run grep -c "sip: " "$W/gw.err"
	assert_output 4
}

# gw_plain OUT ARGS: sip-tls-term on $IP with ARGS, stdout in $W/OUT.out,
# stderr in $W/OUT.err (created first: JOURNAL_STREAM may name it); waits
# for its inside udp line in either.
gw_plain() {
	local out=$1; shift
	: > "$W/$out.err"
	timeout -k 5 10 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -i "$IP:0" "$@" > "$W/$out.out" 2>> "$W/$out.err" &
	PIDS+=($!)
	sbk_wait_for 10 grep -q "inside udp " "$W/$out.out" "$W/$out.err"
}

@test "sip-tls-term: start-up lines on stderr with the prefix; stdout only with --print-addresses" {
	local mp
	mp=$("$FREEPORT" "$IP")
	# the default: nothing on stdout, each bound socket an info line
	gw_plain a --metrics "$IP:$mp" --listen-ws "$IP:0"
	sleep 0.3
	run cat "$W/a.out"
	assert_output ""
	run grep -E '^sip-tls-term: info: (listening|inside|metrics) ' "$W/a.err"
	assert_line --regexp "^sip-tls-term: info: listening tls $IP:[1-9][0-9]*\$"
	assert_line --regexp "^sip-tls-term: info: listening ws $IP:[1-9][0-9]*\$"
	assert_line --regexp "^sip-tls-term: info: inside udp $IP:[1-9][0-9]*\$"
	assert_line "sip-tls-term: info: metrics http $IP:$mp"
	assert_equal "${#lines[@]}" 4
	# the addresses said are the ones bound
	L=$(sed -n 's/^sip-tls-term: info: listening tls //p' "$W/a.err")
	run ss -Htln "src $L"
	refute_output ""
	# --print-addresses: the same lines on stdout, in order, unprefixed
	gw_plain b --print-addresses --inside-tcp
	run cat "$W/b.out"
	assert_equal "${#lines[@]}" 3
	assert_regex "${lines[0]}" "^listening tls $IP:[1-9][0-9]*\$"
	assert_regex "${lines[1]}" "^inside udp $IP:[1-9][0-9]*\$"
	assert_equal "${lines[2]}" "inside tcp ${lines[1]#inside udp }"
	run grep -c "^sip-tls-term: info: inside tcp " "$W/b.err"
	assert_output 1
	# -q: errors only on stderr; stdout unchanged
	gw_plain c -q --print-addresses
	run cat "$W/c.out"
	assert_equal "${#lines[@]}" 2
	run cat "$W/c.err"
	assert_output ""
	# under journald: each line with its syslog priority (6: info)
	: > "$W/d.err"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$W/d.err") gw_plain d
	run grep -E '^<6>sip-tls-term: info: listening tls ' "$W/d.err"
	assert_success
}

# gw_default ARGS: the gateway at the default log level (no -v).
gw_default() {
	timeout -k 5 25 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -i "$IP:0" --print-addresses "$@" > "$W/gw.out" 2> "$W/gw.err" &
	PIDS+=($!)
	wait_line "$W/gw.out" '^inside udp ' || return 1
	L=$(sed -n 's/^listening tls //p' "$W/gw.out")
}

@test "sip-tls-term: the default level logs no message lines; summaries are one key=value line a block" {
	start_peer
	gw_default -u "udp:$UP"
	local tp=${PIDS[-1]}
	register "$W/reg" 300
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	invite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 4000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	kill -USR1 "$(pgrep -P "$tp")"
	wait_line "$W/gw.err" 'summary: sip '
	kill -TERM "$(pgrep -P "$tp")"
	wait "$tp" || true
	cat "$W/gw.err"
	run grep -c "sip: " "$W/gw.err"
	assert_output 0
	# on SIGUSR1 and at exit: flows and sip, a line each, prefixed
	run grep -cE '^sip-tls-term: info: summary: flows( [a-z_]+=[0-9]+)+$' "$W/gw.err"
	assert_output 2
	run grep -cE '^sip-tls-term: info: summary: sip( [a-z_]+=[0-9]+)+$' "$W/gw.err"
	assert_output 2
	run grep -m1 'summary: flows ' "$W/gw.err"
	assert_output --partial " accepted=2 "
	run grep -m1 'summary: sip ' "$W/gw.err"
	assert_output --partial " requests_outside=2 "
	assert_output --partial " responses_inside=4 "
	# every line has the tool's prefix
	run grep -vc '^sip-tls-term: ' "$W/gw.err"
	assert_output 0
}
