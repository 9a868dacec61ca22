#!/usr/bin/env bats
# stun.bats - lib/media/stun and ice against aioice (aiortc's STUN and ICE,
# Debian python3-aioice): its requests answered by our ICE-lite agent and
# our answers verified by it (MESSAGE-INTEGRITY, FINGERPRINT,
# XOR-MAPPED-ADDRESS), our requests parsed by it, and a real aioice ICE
# agent connecting to ours over 127.0.0.1 (tests/helpers/stun-tool.c and
# stun-aioice.py).
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	: "${SBK_BUILD:=$BATS_TEST_DIRNAME/../build}"
	ST=$SBK_BUILD/tests/helpers/stun-tool
	PY="timeout 30 /usr/bin/python3 $BATS_TEST_DIRNAME/helpers/stun-aioice.py"
	/usr/bin/python3 -c 'import aioice.stun' 2>/dev/null ||
	    skip "python3-aioice is not installed"
	L=Lite8ufr
	P=LitePassword24charsLong1
	W=$BATS_TEST_TMPDIR
}

teardown() {
	# a test that failed before serve_stop: stop the server by its PID
	if [ -n "${SPID:-}" ] && kill -0 "$SPID" 2>/dev/null; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	true
}

# aioice's request (args) answered by our agent as if from $SRC: sets
# $tid, $rc (our return) and $ans (our answer's hex, or -).
ask() {
	local hex line
	read -r tid hex < <($PY request "$@")
	[ -n "$hex" ]
	line=$(echo "$hex" | timeout 10 "$ST" answer $L $P "${REMOTE:--}" \
	    "${REMOTE_PWD:--}" "${SRC:-127.0.0.1:40000}" | head -1)
	rc=${line%% *}
	ans=${line#* }
}

@test "stun: aioice's check (USE-CANDIDATE) answered, and aioice verifies our answer" {
	ask "$L:peer" $P --use-candidate
	[ "$rc" = ok ]
	run $PY check-response "$ans" $P "$tid" 127.0.0.1 40000
	assert_success
	assert_output "success 127.0.0.1 40000"
}

@test "stun: the same from an IPv6 source: XOR-MAPPED-ADDRESS is IPv6" {
	SRC='[::1]:5004' ask "$L:peer" $P
	[ "$rc" = ok ]
	run $PY check-response "$ans" $P "$tid" ::1 5004
	assert_success
	assert_output "success ::1 5004"
}

@test "stun: aioice refuses our answer under another key (the check can fail)" {
	ask "$L:peer" $P
	[ "$rc" = ok ]
	run $PY check-response "$ans" WrongPassword24charsLong "$tid" \
	    127.0.0.1 40000
	assert_failure
	assert_output --partial "integrity does not match"
	# a flipped bit in our answer: aioice's FINGERPRINT check catches it
	bad=${ans:0:50}$(printf '%x' $(( (0x${ans:50:1} + 1) % 16 )))${ans:51}
	run $PY check-response "$bad" $P "$tid" 127.0.0.1 40000
	assert_failure
}

@test "stun: aioice's check with a wrong password is dropped and counted" {
	read -r tid hex < <($PY request "$L:peer" WrongPassword24charsLong)
	run sh -c "echo $hex | timeout 10 $ST answer $L $P - - 127.0.0.1:1"
	assert_success
	assert_line --index 0 "E_AUTH -"
	assert_line --index 1 --partial "bad_auth 1"
}

@test "stun: ICE-CONTROLLED from aioice: 487 with our MESSAGE-INTEGRITY" {
	ask "$L:peer" $P --controlled
	[ "$rc" = E_STATE ]
	run $PY check-response "$ans" $P "$tid" 127.0.0.1 40000
	assert_success
	assert_output "error 487 mi"
}

@test "stun: a USERNAME not ours:theirs gets a 401 without MI" {
	REMOTE=peer1 REMOTE_PWD=PeerPassword24charsLong1 ask "$L:peer2" $P
	[ "$rc" = E_AUTH ]
	run $PY check-response "$ans" $P "$tid" 127.0.0.1 40000
	assert_success
	assert_output "error 401 no-mi"
	REMOTE=peer1 REMOTE_PWD=PeerPassword24charsLong1 ask "$L:peer1" $P
	[ "$rc" = ok ]
}

@test "stun: a tampered aioice request is refused (FINGERPRINT)" {
	read -r tid hex < <($PY request "$L:peer" $P)
	bad=${hex:0:60}$(printf '%x' $(( (0x${hex:60:1} + 1) % 16 )))${hex:61}
	run sh -c "echo $bad | timeout 10 $ST answer $L $P - - 127.0.0.1:1"
	assert_line --index 0 "E_SYNTAX -"
}

@test "stun: our request, parsed and verified by aioice" {
	h=$(timeout 10 "$ST" request "peer:$L" $P 1853817087 1 \
	    1234605616436508552 1 00112233445566778899aabb)
	run $PY parse "$h" $P
	assert_success
	assert_output "REQUEST 00112233445566778899aabb PRIORITY=1853817087 ICE-CONTROLLING=1234605616436508552 USERNAME=peer:$L USE-CANDIDATE MESSAGE-INTEGRITY FINGERPRINT"
	run $PY parse "$h" WrongPassword24charsLong
	assert_failure
}

@test "stun: aioice's response, parsed and verified by us" {
	h=$($PY response 00112233445566778899aabb $P 192.0.2.1 32853)
	run sh -c "echo $h | timeout 10 $ST parse $P"
	assert_success
	assert_output "type=0x0101 tid=00112233445566778899aabb user= mapped=192.0.2.1:32853 mi=ok fp=1"
	run sh -c "echo $h | timeout 10 $ST parse WrongPassword24charsLong"
	assert_output --partial "mi=bad"
}

# A real aioice ICE agent against stun-tool serve (our agent on a UDP
# socket); the server's output in $W/serve.out.
serve() {
	timeout 30 "$ST" serve 127.0.0.1:0 20 "$@" > "$W/serve.out" 3>&- &
	SPID=$!
	for _ in $(seq 100); do
		[ -s "$W/serve.out" ] && break
		sleep 0.05
	done
	read -r _ PORT _ UF _ PW < "$W/serve.out"
	[ -n "$PW" ]
}

serve_stop() {
	/usr/bin/python3 -c "import socket; socket.socket(socket.AF_INET, \
socket.SOCK_DGRAM).sendto(b'bye', ('127.0.0.1', $PORT))"
	wait "$SPID"
}

@test "stun: aioice as a controlling full agent: checks, nomination, media" {
	serve
	run $PY peer "$PORT" "$UF" "$PW"
	serve_stop
	assert_success
	assert_output "connected controlling=1 echo=echo:hello"
	run cat "$W/serve.out"
	assert_line --regexp '^check ok nominated 1 from 127\.0\.0\.1:[0-9]+$'
	assert_line --partial "nominations 1 role_conflicts 0"
}

@test "stun: aioice starting controlled switches role on our 487" {
	serve
	run $PY peer "$PORT" "$UF" "$PW" --controlled
	serve_stop
	assert_success
	assert_output "connected controlling=1 echo=echo:hello"
	run cat "$W/serve.out"
	assert_line --index 1 --partial "check E_STATE nominated 0"
	assert_line --partial "role_conflicts 1"
}

@test "stun: with the peer's ufrag known, only its checks are answered" {
	serve PeerUfrag PeerPassword24charsLong1
	run $PY peer "$PORT" "$UF" "$PW" --local PeerUfrag \
	    PeerPassword24charsLong1
	assert_success
	run $PY peer "$PORT" "$UF" "$PW" --local OtherUfrag \
	    PeerPassword24charsLong1
	serve_stop
	assert_failure
	assert_output --partial "connect failed"
	run cat "$W/serve.out"
	assert_line --partial "bad_user 1"
}
