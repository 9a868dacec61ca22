#!/usr/bin/env bats
# bench.bats - the srtp-bridge benchmark still runs end to end: its load
# generator sets calls up over ng, srtp-bridge and the bare UDP relay it
# is measured against forward every packet, and bad settings are refused.
# Figures are not checked here (bench/ prints them); what arrives is.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	B=$SBK_BUILD
}

# field NAME LINE: the value of NAME=... in a result line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }

# every packet the generator sent arrived, unaltered in length
all_arrived() {
	local l=$1 sent
	sent=$(field sent "$l")
	[ -n "$sent" ] && [ "$sent" -gt 0 ]
	[ "$(field received "$l")" = "$sent" ]
	[ "$(field bad "$l")" = 0 ]
}

@test "bench: srtp-bridge and the bare UDP relay carry a short load (LAYOUT=split)" {
	[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
	run env SBK_BUILD="$B" PARTS="uring bare" LAYOUT=split \
	    timeout -k 5 120 bench/srtp-bridge.sh 20 50 2
	assert_success
	assert_line --partial "layout split"
	l=$(grep '^srtp-bridge  SRTP->RTP io_uring ' <<< "$output")
	all_arrived "$l"
	# the relay's own counters agree: every packet in went out
	[ "$(field relay_in "$l")" = "$(field sent "$l")" ]
	[ "$(field relay_out "$l")" = "$(field sent "$l")" ]
	l=$(grep '^bare UDP relay RTP->RTP recvfrom+sendto' <<< "$output")
	all_arrived "$l"
	assert_line --partial "ratio srtp-bridge SRTP / bare UDP relay"
}

@test "bench: the bare relay batches (recvmmsg/sendmmsg) and pins everything to one CPU (LAYOUT=local)" {
	run env SBK_BUILD="$B" PARTS="bare32" LAYOUT=local \
	    timeout -k 5 120 bench/srtp-bridge.sh 20 50 2
	assert_success
	assert_line --partial "layout local"
	all_arrived "$(grep '^bare UDP relay RTP->RTP recvmmsg' <<< "$output")"
}

@test "bench: an unknown LAYOUT is refused with exit 2" {
	run env SBK_BUILD="$B" LAYOUT=sideways bench/srtp-bridge.sh 20 50 2
	assert_failure 2
	assert_output --partial "LAYOUT is split, local or free"
}

@test "bench: udp-relay and the generator refuse bad arguments" {
	run timeout 5 "$B/bench/udp-relay" 127.0.0.1:1
	assert_failure 2
	assert_output --partial "usage: udp-relay"
	run timeout 5 "$B/bench/udp-relay" 127.0.0.1:1 127.0.0.1 127.0.0.1 65
	assert_failure 1
	assert_output --partial "BATCH: 1 to 64"
	run timeout 5 "$B/bench/srtp-bridge" -n 127.0.0.1:1 -p 1 -a 3
	assert_failure 1
	assert_output --partial "-a SEND_CPU,RECV_CPU"
	run timeout 5 "$B/bench/srtp-bridge" -n 127.0.0.1:1 -p 1 -a 0,99999
	assert_failure 1
	assert_output --partial "-a SEND_CPU,RECV_CPU: CPU numbers, or -1"
	run timeout 5 "$B/bench/srtp-bridge" -n 127.0.0.1:1 -p 1 -a -2,0
	assert_failure 1
}
