#!/usr/bin/env bats
# attack-relay.bats - sip-tls-term under attack from outside (issue 18,
# items 1 and 6): no open relay into the inside, bad input refused at the
# edge with a reason. A scripted TLS client outside, a UDP upstream peer
# on $IP, and a "victim" UDP listener on $IP + 1 that nothing from
# outside may reach unless --allow-inside says so.

load "$SBK_TOP/tests/lib-sip"

# start_victim [ARGS]: the victim, a UDP peer on $IP + 1 (answers by
# default); sets VICTIM (ADDR:PORT), output in $W/victim.out.
start_victim() {
	local vip="${IP%.*}.$(( ${IP##*.} + 1 ))"
	timeout 25 "$PEER" -l "$vip:0" -w 20000 "$@" > "$W/victim.out" &
	PIDS+=($!)
	wait_line "$W/victim.out" '^bound ' || return 1
	VICTIM=$(sed -n 's/^bound //p' "$W/victim.out")
}

# req FILE METHOD R-URI [HEADER...]: an outside request (CSeq 1 METHOD)
# with the extra header lines; "@NUL@" and "@SOH@" become bytes 0 and 1.
req() {
	local f=$1 m=$2 u=$3; shift 3
	{
	echo "$m $u SIP/2.0"
	echo "Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKatk$RANDOM;rport"
	echo "Max-Forwards: 70"
	echo "From: <sip:mallory@gw.test>;tag=m1"
	echo "To: <sip:bob@gw.test>"
	echo "Call-ID: atk-$RANDOM@mallory"
	echo "CSeq: 1 $m"
	local h
	for h; do echo "$h"; done
	echo
	} | mk "$f"
	sed -i 's/@NUL@/\x00/g; s/@SOH@/\x01/g' "$f"
}

# nothing_at FILE: the peer whose output is FILE received no message
# (a second after the answer: retransmissions would have started).
nothing_at() {
	sleep 1
	run grep -c -e '^----' "$1"
	assert_output 0
}

@test "attack-relay: an outside Route to an inside host gets 403, nothing reaches it" {
	sip_peer udp 15
	start_victim
	sip_gw 20 -u "udp:$UP"
	req "$W/loose" OPTIONS "sip:bob@gw.test" "Route: <sip:$VICTIM;lr>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/loose"
	assert_line "SIP/2.0 403 Route Not Allowed"
	# behind our own entry, and after the upstream: the same
	req "$W/behind" OPTIONS "sip:bob@gw.test" \
	    "Route: <sip:$IN;lr>, <sip:$UP;lr>, <sip:$VICTIM;lr>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/behind"
	assert_line "SIP/2.0 403 Route Not Allowed"
	nothing_at "$W/victim.out"
	nothing_at "$W/peer.out"
	grep -q "outside request from .* refused: 403 Route Not Allowed" \
	    "$W/gw.err"
}

@test "attack-relay: a strict route (no lr) to an inside host gets 403 too" {
	sip_peer udp 15
	start_victim
	sip_gw 20 -u "udp:$UP"
	req "$W/strict" OPTIONS "sip:$IN" "Route: <sip:$VICTIM>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/strict"
	assert_line "SIP/2.0 403 Route Not Allowed"
	req "$W/strict2" INVITE "sip:bob@$VICTIM" "Route: <sip:$VICTIM>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/strict2"
	assert_line "SIP/2.0 403 Route Not Allowed"
	refute_line "SIP/2.0 100 Trying"
	nothing_at "$W/victim.out"
	nothing_at "$W/peer.out"
}

@test "attack-relay: a Route to the upstream, and in-dialog Routes through us, still go to the upstream" {
	sip_peer udp 15
	start_victim
	sip_gw 20 -u "udp:$UP"
	req "$W/up" OPTIONS "sip:bob@gw.test" "Route: <sip:$UP;lr>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/up"
	assert_line "SIP/2.0 200 OK"
	# an in-dialog BYE: our two Record-Route entries, then the upstream's
	req "$W/bye" BYE "sip:bob@$VICTIM" \
	    "Route: <sip:sbk1@$L;transport=tls;lr>, <sip:sbk1@$IN;lr>, <sip:$UP;lr>"
	sed -i 's/^To: .*/To: <sip:bob@gw.test>;tag=b1\r/' "$W/bye"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/bye"
	assert_line "SIP/2.0 200 OK"
	run grep -c '^BYE sip:bob@'"$VICTIM"' SIP/2.0' "$W/peer.out"
	assert_output 1
	run cat "$W/peer.out"
	assert_line "Route: <sip:$UP;lr>"
	nothing_at "$W/victim.out"
}

@test "attack-relay: registrar without upstream: an R-URI at an inside host is refused, allowed with --allow-inside" {
	start_victim
	sip_gw 20 --registrar
	req "$W/ruri" OPTIONS "sip:carol@$VICTIM"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/ruri"
	assert_line "SIP/2.0 403 Request-URI Not Allowed"
	req "$W/route" OPTIONS "sip:carol@gw.test" "Route: <sip:$VICTIM;lr>"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/route"
	assert_line "SIP/2.0 403 Route Not Allowed"
	nothing_at "$W/victim.out"
	kill "${PIDS[-1]}"
	wait "${PIDS[-1]}" || true
	sip_gw 20 --registrar --allow-inside "10.0.0.0/8,${VICTIM%:*}"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/ruri"
	assert_line "SIP/2.0 200 OK"
	run grep -c "^OPTIONS sip:carol@$VICTIM SIP/2.0" "$W/victim.out"
	assert_output 1
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/route"
	assert_line "SIP/2.0 200 OK"
	# a host next to it is still refused
	req "$W/next" OPTIONS "sip:carol@${IP%.*}.$(( ${IP##*.} + 2 )):5060"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/next"
	assert_line "SIP/2.0 403 Request-URI Not Allowed"
	run "$GW" -c "$D/gw.pem" -k "$D/gw.key" --allow-inside 10.0.0.0/33
	assert_failure 2
	assert_output "sip-tls-term: --allow-inside: 10.0.0.0/33: prefix too long"
}

@test "attack-relay: NUL and control bytes get 400 at the edge, nothing goes inside" {
	sip_peer udp 15
	sip_gw 20 -u "udp:$UP"
	req "$W/nul" OPTIONS "sip:bob@gw.test"
	sed -i 's/^Call-ID: atk-/Call-ID: atk-@NUL@-/; s/@NUL@/\x00/' "$W/nul"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/nul"
	assert_line "SIP/2.0 400 Control Character in Call-ID"
	req "$W/ruri" OPTIONS "sip:bob@NUL@@gw.test"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/ruri"
	assert_line "SIP/2.0 400 Control Character in Request-Line"
	req "$W/soh" OPTIONS "sip:bob@gw.test" "User-Agent: evil@SOH@agent"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/soh"
	assert_line "SIP/2.0 400 Control Character in User-Agent"
	nothing_at "$W/peer.out"
}

# refused FILE STATUS-LINE: the gateway answers FILE with STATUS-LINE.
refused() {
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$1"
	assert_line "$2"
}

@test "attack-relay: each malformed request gets its 400 or 505 with a reason, a malformed ACK nothing" {
	sip_peer udp 15
	sip_gw 20 -u "udp:$UP"
	req "$W/colon" OPTIONS "sip:bob@gw.test" "NoColonHere"
	refused "$W/colon" "SIP/2.0 400 Header Without Colon"
	req "$W/cseq" OPTIONS "sip:bob@gw.test"
	sed -i 's/^CSeq: 1 OPTIONS/CSeq: one OPTIONS/' "$W/cseq"
	refused "$W/cseq" "SIP/2.0 400 Bad CSeq"
	req "$W/mism" OPTIONS "sip:bob@gw.test"
	sed -i 's/^CSeq: 1 OPTIONS/CSeq: 1 INVITE/' "$W/mism"
	refused "$W/mism" "SIP/2.0 400 CSeq Method Mismatch"
	req "$W/empty" OPTIONS ""
	refused "$W/empty" "SIP/2.0 400 Missing Request-URI"
	req "$W/ver" OPTIONS "sip:bob@gw.test"
	sed -i '1s/SIP\/2.0/SIP\/9.9/' "$W/ver"
	refused "$W/ver" "SIP/2.0 505 Version Not Supported"
	req "$W/mf" OPTIONS "sip:bob@gw.test"
	sed -i 's/^Max-Forwards: 70/Max-Forwards: 99999/' "$W/mf"
	refused "$W/mf" "SIP/2.0 400 Bad Max-Forwards"
	req "$W/mf2" OPTIONS "sip:bob@gw.test"
	sed -i 's/^Max-Forwards: 70/Max-Forwards: many/' "$W/mf2"
	refused "$W/mf2" "SIP/2.0 400 Bad Max-Forwards"
	req "$W/from" OPTIONS "sip:bob@gw.test"
	sed -i '/^From:/d' "$W/from"
	refused "$W/from" "SIP/2.0 400 Missing From"
	req "$W/dup" OPTIONS "sip:bob@gw.test" "i: another@mallory"
	refused "$W/dup" "SIP/2.0 400 Conflicting Call-ID"
	# Max-Forwards may be missing: we add it
	req "$W/nomf" OPTIONS "sip:bob@gw.test"
	sed -i '/^Max-Forwards:/d' "$W/nomf"
	refused "$W/nomf" "SIP/2.0 200 OK"
	# two Content-Lengths that disagree: the stream cannot be framed
	req "$W/cl" OPTIONS "sip:bob@gw.test" "Content-Length: 4"
	run timeout 10 "$CLI" -w 2000 "$L" "$W/cl"
	assert_line "CLOSED"
	refute_line --partial "SIP/2.0"
	# no response to an ACK, however bad
	req "$W/ack" ACK "sip:bob@gw.test"
	sed -i 's/^Max-Forwards: 70/Max-Forwards: lots/' "$W/ack"
	run timeout 10 "$CLI" -w 1500 "$L" "$W/ack"
	refute_line --partial "SIP/2.0"
	# only the one good OPTIONS went inside
	run grep -c '^OPTIONS' "$W/peer.out"
	assert_output 1
}

@test "attack-relay: from the inside over UDP, two disagreeing Content-Lengths get 400" {
	sip_gw 20 --registrar
	mk "$W/cl" <<EOF
OPTIONS sip:alice@$IN SIP/2.0
Via: SIP/2.0/UDP $IP:5099;branch=z9hG4bKcl1;rport
Max-Forwards: 70
From: <sip:bob@$IP>;tag=b1
To: <sip:alice@$IN>
Call-ID: cl@bob
CSeq: 1 OPTIONS
Content-Length: 7

EOF
	run timeout 5 "$PEER" -l "$IP:0" -t "$IN" -f "$W/cl" -w 1000
	assert_line "SIP/2.0 400 Conflicting Content-Length"
}

@test "attack-relay: during a flood of bad input, a legit REGISTER and INVITE go through, the log stays short" {
	sip_peer udp 15
	start_victim
	# The flood and the legit client share 127.0.0.1: without --rate 0
	# the per-source cap (attack-auth.bats) would take the flood's 200
	# requests for one source's and drop the rest, the legit ones too.
	sip_gw 20 -u "udp:$UP" --rate 0
	: > "$W/flood"
	for i in $(seq 1 100); do
		req "$W/one" OPTIONS "sip:bob@gw.test" "Route: <sip:$VICTIM;lr>"
		cat "$W/one" >> "$W/flood"
		req "$W/one" OPTIONS "sip:bob@gw.test"
		sed -i 's/^Max-Forwards: 70/Max-Forwards: lots/' "$W/one"
		cat "$W/one" >> "$W/flood"
	done
	( timeout 15 "$CLI" -c 200 -w 10000 "$L" "$W/flood" > "$W/flood.out" ) &
	PIDS+=($!)
	register "$W/reg"
	invite "$W/inv"
	run timeout 10 "$CLI" -c 4 -w 5000 "$L" "$W/reg" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 1 REGISTER"
	assert_line "CSeq: 1 INVITE"
	wait "${PIDS[-1]}" || true
	run grep -c "^SIP/2.0 403 Route Not Allowed" "$W/flood.out"
	assert_output 100
	run grep -c "^SIP/2.0 400 Bad Max-Forwards" "$W/flood.out"
	assert_output 100
	run grep -c '^INVITE' "$W/peer.out"
	assert_output 1
	run grep -c '^REGISTER' "$W/peer.out"
	assert_output 1
	nothing_at "$W/victim.out"
	# 200 refusals, a few log lines; the next line after a second
	# gives the count of those not logged
	n=$(grep -c -e "malformed SIP from" -e "refused: 403" "$W/gw.err")
	[ "$n" -le 8 ]
	sleep 1.1
	req "$W/last" OPTIONS "sip:bob@gw.test"
	sed -i 's/^Max-Forwards: 70/Max-Forwards: lots/' "$W/last"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/last"
	assert_line "SIP/2.0 400 Bad Max-Forwards"
	run grep -o "and [0-9]* more bad messages not logged" "$W/gw.err"
	assert_success
	[ "$(echo "$output" | awk '{s += $2} END {print s}')" -ge 90 ]
}
