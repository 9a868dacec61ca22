#!/usr/bin/env bats
# ng-ctl.bats - the ng control tool against a real srtp-bridge --ng, a real
# rtpengine-daemon when installed, and a scripted relay for what real ones
# do not send (bytes that are not UTF-8, malformed replies).
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

PY=/usr/bin/python3

setup() {
	CTL=$SBK_BIN/ng-ctl
	T=$BATS_TEST_TMPDIR
	H=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	H2=${H%.*}.$(( (${H##*.} % 250) + 2 ))
	H3=${H%.*}.$(( (${H##*.} % 250) + 3 ))
	P=$((20000 + (RANDOM % 2000) * 2))
	NG=$((P + 100))
	OFFER=$SBK_TOP/tests/cases/ng/outside-offer.sdp
	TPIDS=()
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

# spawn LOG CMD...: run CMD under timeout in the background.
spawn() {
	local log=$1
	shift
	timeout -k 2 60 "$@" > "$log" 2>&1 &
	TPIDS+=("$!")
}

wait_udp() {
	local i
	for i in $(seq 100); do
		ss -Hnlu "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# A one-shot relay on $H:$NG answering the first request with
# "COOKIE " + the bytes of file $1.
fake_relay() {
	spawn "$T/fake.log" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
d, a = s.recvfrom(65535)
s.sendto(d.split(b" ", 1)[0] + b" " + open(sys.argv[3], "rb").read(), a)
' "$H" "$NG" "$1"
	wait_udp "$H" "$NG"
}

# The whole tour against the relay on $H:$NG; $1 names it in messages.
tour() {
	run "$CTL" -t 500 -n 4 "$H:$NG" ping
	assert_success
	assert_output pong

	run "$CTL" -s "$T/answer.sdp" "$H:$NG" raw command=offer call-id=c1 \
	    from-tag=t1 sdp=@"$OFFER" transport-protocol=RTP/AVP \
	    'replace[]=origin' 'replace[]=session-connection' ICE=remove \
	    'direction[]=outside' 'direction[]=inside'
	assert_success
	assert_output --partial "sdp: v=0"
	run grep -c "RTP/AVP" "$T/answer.sdp"
	assert_output 1
	run grep -c "c=IN IP4 $H3" "$T/answer.sdp"
	assert_output 1

	run "$CTL" "$H:$NG" list
	assert_success
	assert_output c1
	run "$CTL" "$H:$NG" query c1
	assert_success
	assert_line "tags.t1.tag: t1"
	refute_output --partial "result"
	run "$CTL" --json "$H:$NG" query c1
	assert_success
	echo "$output" | "$PY" -m json.tool > /dev/null
	assert_output --partial '"result": "ok"'
	assert_output --partial '"tag": "t1"'

	run "$CTL" "$H:$NG" statistics
	assert_success
	assert_line --regexp '^statistics\.currentstatistics\.sessions(own|total): 1$'
	run "$CTL" -j "$H:$NG" statistics
	assert_success
	echo "$output" | "$PY" -m json.tool > /dev/null

	run "$CTL" "$H:$NG" delete c1 t1
	assert_success
	run "$CTL" "$H:$NG" list
	assert_success
	assert_output ""
	run "$CTL" "$H:$NG" query c1
	assert_failure 1
	assert_output --partial "ng-ctl: $H:$NG: error: Unknown call-id"
	# the JSON of an error reply is printed, and the status still says so
	run "$CTL" --json "$H:$NG" query c1
	assert_failure 1
	assert_output --partial '"result": "error"'
}

@test "ng-ctl: --help, --version, usage errors exit 2" {
	run "$CTL" --help
	assert_success
	assert_output --partial "usage: ng-ctl"
	run "$CTL" -V
	assert_success
	assert_output --regexp "^ng-ctl \(sbckit\) [0-9]"
	run "$CTL" --bogus
	assert_failure 2
	assert_output --partial "Try 'ng-ctl --help'"
	local bad
	for bad in "" "$H:1" "$H:1 frob" "$H:1 query" "$H:1 query a b" \
	    "$H:1 ping x" "$H:1 delete" "$H:1 delete a b c d" "$H:1 raw" \
	    "$H:1 raw call-id=x" "$H:1 raw command=ping novalue" \
	    "$H:1 raw command=ping =x" "$H:1 raw command=ping n:=abc" \
	    "$H:1 raw command=ping n:=99999999999999999999" \
	    "nowhere:1 ping" "$H ping" "-t 0 $H:1 ping" "-n 0 $H:1 ping" \
	    "-t x $H:1 ping"; do
		run $CTL $bad
		echo "args: $bad"
		assert_failure 2
	done
	# a file that cannot be read: exit 1, named
	run "$CTL" "$H:1" raw command=offer sdp=@"$T/missing"
	assert_failure 1
	assert_output --partial "$T/missing"
}

@test "ng-ctl: no relay: exit 1 after the tries, quickly" {
	local t0=$SECONDS
	run timeout 10 "$CTL" -t 200 -n 2 "$H:$NG" ping
	assert_failure 1
	assert_output "ng-ctl: $H:$NG: no reply after 2 tries, 200 ms apart"
	[ $((SECONDS - t0)) -le 3 ]
}

@test "ng-ctl: ping, offer, list, query, statistics, delete against srtp-bridge --ng" {
	spawn "$T/bridge.log" "$SBK_BIN/srtp-bridge" -v --ng "$H:$NG" \
	    --outside "$H2" --inside "$H3" --port-min "$((P + 200))" \
	    --port-max "$((P + 399))"
	wait_udp "$H" "$NG"
	tour
}

@test "ng-ctl: the same against rtpengine-daemon" {
	command -v rtpengine > /dev/null || skip "rtpengine is not installed"
	spawn "$T/rtpe.log" rtpengine --config-file=none --foreground \
	    --log-stderr --table=-1 --interface="outside/$H2" \
	    --interface="inside/$H3" --listen-ng="$H:$NG" \
	    --port-min="$((P + 200))" --port-max="$((P + 399))"
	wait_udp "$H" "$NG" || { cat "$T/rtpe.log"; false; }
	tour
}

@test "ng-ctl --json: escapes quotes, control bytes and bytes that are not UTF-8" {
	# "result": "ok", "s": a"b\<TAB><0x01>é<0xff>, "n": -5, "l": [1, "x"]
	printf 'd6:result2:ok1:s9:a"b\\\t\001\303\251\377' > "$T/reply"
	printf '1:ni-5e1:lli1e1:xe2:\377\376i0ee' >> "$T/reply"
	fake_relay "$T/reply"
	run "$CTL" --json "$H:$NG" raw command=ping
	assert_success
	echo "$output" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["s"] == "a\"b\\\t\x01\u00e9\u00ff", repr(d["s"])
assert d["n"] == -5 and d["l"] == [1, "x"] and d["\u00ff\u00fe"] == 0, d
'
	assert_output --partial '"a\"b\\\t\u0001é\u00ff"'
	# for a person: escaped as \xHH, never raw control bytes
	fake_relay "$T/reply"
	run "$CTL" "$H:$NG" raw command=ping
	assert_success
	assert_line 's: a"b\\\t\x01é\xff'
	assert_line "l[0]: 1"
	assert_line 'n: -5'
}

@test "ng-ctl: a malformed reply or an unknown result exits 3, load limit 1" {
	printf 'not bencode' > "$T/reply"
	fake_relay "$T/reply"
	run "$CTL" -t 300 "$H:$NG" ping
	assert_failure 3
	assert_output --partial "malformed reply"
	printf 'd6:result5:maybee' > "$T/reply"
	fake_relay "$T/reply"
	run "$CTL" -t 300 "$H:$NG" ping
	assert_failure 3
	printf 'd6:result10:load limite' > "$T/reply"
	fake_relay "$T/reply"
	run "$CTL" -t 300 "$H:$NG" statistics
	assert_failure 1
	assert_output --partial "load limit"
}
