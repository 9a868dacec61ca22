#!/usr/bin/env bats
# attack-sessions.bats - relay sessions always end (issue 18): a flood of
# INVITEs over TLS to an inside party that answers 486, and a relay that
# stalls and answers late, leave no call on a real srtp-bridge (far
# sooner than its own 60 s media timeout), and a legit call works after.

load "$SBK_TOP/tests/lib-sip"

NGSEND=$SBK_BUILD/tests/helpers/ng-send

# lab: srtp-bridge on $IP (ng on a free port: NG; its own PID: BRIDGE),
# a busy inside peer (486 to every INVITE, UP) and sip-tls-term between
# them (L).
lab() {
	local t pmin
	NG=$IP:$("$FREEPORT" "$IP")
	pmin=$((20000 + (RANDOM % 30) * 1000))
	timeout -k 5 90 "$SBK_BIN/srtp-bridge" --ng "$NG" --outside "$IP" \
	    --inside "$IP" --port-min $pmin --port-max $((pmin + 999)) \
	    > "$W/bridge.log" 2>&1 &
	t=$!
	PIDS+=($t)
	sbk_wait_port udp "${NG%:*}" "${NG##*:}" 10
	# the relay itself (not its timeout), for SIGSTOP and SIGCONT
	BRIDGE=$(ps -o pid= --ppid "$t" | tr -d ' ')
	[ -n "$BRIDGE" ]
	sip_peer udp 80 -m busy
	PEERPID=${PIDS[-1]}
	# The flood comes from one source: the per-source rate cap (its own
	# test is attack-auth.bats) would drop half of it before the relay.
	sip_gw 90 -u "udp:$UP" --media "ng:$NG" --no-bye-on-loss --rate 0
}

# flood N: N INVITEs with an SDES offer, each its own call, in $W/fl.*.
flood() {
	local i
	for ((i = 1; i <= $1; i++)); do
		{
		alice_offer "sip:bob@$IP" 70 "fl$i" "flood-$i-$RANDOM" \
		    "RTP/SAVP 0"
		echo "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
		} | mk "$W/fl.$i"
	done
}

# calls: the number of calls the relay lists.
calls() {
	"$NGSEND" "$NG" list | grep -c '^    "' || true
}

# no_calls: the relay lists no call and counts no session.
no_calls() {
	"$NGSEND" "$NG" list | grep -q '"calls": \[\]' &&
	    "$NGSEND" "$NG" statistics | grep -q '"sessionsown": 0,'
}

# legit: a call after the attack, to an inside party that answers: INVITE,
# 200 (the relay holds the call), ACK and BYE from a second connection
# (200; the relay holds nothing).
legit() {
	local to
	kill "$PEERPID"
	wait "$PEERPID" 2>/dev/null || true
	timeout 30 "$PEER" -l "$UP" -w 25000 > "$W/peer2.out" &
	PIDS+=($!)
	wait_line "$W/peer2.out" '^bound '
	sdes_invite "$W/inv"
	run timeout 15 "$CLI" -c 3 -w 8000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^m=audio [0-9]+ RTP/SAVP 0"
	to=$(printf '%s\n' "$output" | sed -n 's/^To: //p' | tail -1 | tr -d '\r')
	[ -n "$to" ]
	run calls
	assert_output 1
	local cid
	cid=$(sed -n 's/^Call-ID: //p' "$W/inv" | tr -d '\r')
	mk "$W/ack" <<EOF
ACK sip:peer@$UP SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKack$RANDOM;rport
Max-Forwards: 70
From: <sip:alice@gw.test>;tag=a1
To: $to
Call-ID: $cid
CSeq: 1 ACK

EOF
	mk "$W/bye" <<EOF
BYE sip:peer@$UP SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKbye$RANDOM;rport
Max-Forwards: 70
From: <sip:alice@gw.test>;tag=a1
To: $to
Call-ID: $cid
CSeq: 2 BYE

EOF
	run timeout 15 "$CLI" -c 1 -w 8000 "$L" "$W/ack" "$W/bye"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 2 BYE"
	sbk_wait_for 5 no_calls
}

@test "attack sessions: 200 INVITEs answered 486 leave no call on the relay; a legit call works after" {
	local n=200 fin
	lab
	flood $n
	run timeout 60 "$CLI" -c $((2 * n)) -w 40000 "$L" "$W"/fl.*
	fin=$(printf '%s\n' "$output" | grep -c '^SIP/2.0 [4-6][0-9][0-9] ')
	echo "# final answers: $fin, 486: $(printf '%s\n' "$output" |
	    grep -c '^SIP/2.0 486 ')" >&3
	# every INVITE answered: 486 from Bob, or 503 if refused here
	[ "$fin" -eq $n ]
	assert_line "SIP/2.0 486 Busy Here"
	# within seconds, not the relay's 60 s timeout
	if ! sbk_wait_for 5 no_calls; then
		echo "relay still has $(calls) calls" >&2
		false
	fi
	legit
}

@test "attack sessions: a relay that stalls (SIGSTOP) and answers late (SIGCONT) keeps no call" {
	local n=200 fin
	lab
	flood $n
	kill -STOP "$BRIDGE"
	run timeout 60 "$CLI" -c $((2 * n)) -w 30000 "$L" "$W"/fl.*
	fin=$(printf '%s\n' "$output" | grep -c '^SIP/2.0 503 ')
	# the deletes sent at the 503s, unanswered too, given up on
	sleep 5
	kill -CONT "$BRIDGE"
	echo "# 503: $fin" >&3
	[ "$fin" -eq $n ]
	# the relay works through what waited: offers (answered late), then
	# whatever deletes fitted in its socket buffer; the late answers
	# get deletes of their own
	if ! sbk_wait_for 8 no_calls; then
		echo "relay still has $(calls) calls" >&2
		false
	fi
	legit
}
