#!/usr/bin/env bats
# srtp-bridge.bats - the relay against independent peers over loopback:
# one-stream mode with stock libsrtp2 (pylibsrtp) on the outside, and ng
# mode over real UDP.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

PY=/usr/bin/python3

setup() {
	BR=$SBK_BIN/srtp-bridge
	T=$BATS_TEST_TMPDIR
	H=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	# ports on a random loopback address: even, with room for RTCP
	P=$((20000 + (RANDOM % 2000) * 2))
	KI=$(openssl rand -base64 30)
	KO=$(openssl rand -base64 30)
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

# spawn LOG CMD...: run CMD under timeout in the background; BPID is the
# command's own PID (timeout's child), TPID timeout's.
spawn() {
	local log=$1 i
	shift
	timeout -k 2 60 "$@" > "$log" 2>&1 &
	TPID=$!
	TPIDS+=("$TPID")
	for i in $(seq 50); do
		BPID=$(pgrep -P "$TPID" | head -1)
		[ -n "$BPID" ] && break
		sleep 0.05
	done
}

# wait_port ADDR PORT: until something is bound to UDP ADDR:PORT.
wait_udp() {
	local i
	for i in $(seq 100); do
		ss -Hnlu "src $1:$2" 2>/dev/null | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

bridge1() {	# one-stream mode on $H:$P (outside) and $H:$((P+10)) (inside)
	spawn "$T/bridge.log" "$BR" -v -v --outside "$H:$P" \
	    --inside "$H:$((P + 10))" --inside-peer "$H:$((P + 20))" \
	    --relatch-count 4 --relatch-quiet 600000 "$@"
	wait_udp "$H" "$P"
}

stop_bridge() {
	kill -TERM "$BPID"
	wait "$TPID"
}

@test "srtp-bridge: --help, --version, bad options" {
	run "$BR" --help
	assert_success
	assert_output --partial "usage: srtp-bridge"
	run "$BR" -V
	assert_success
	run "$BR" --bogus
	assert_failure 2
	run "$BR" --outside 1.2.3.4:5
	assert_failure 2
	run "$BR" --outside nowhere:5 --inside 127.0.0.1:6 --key-in x --key-out y
	assert_failure 2
	assert_output --partial "srtp-bridge: --outside: bad address"
	run "$BR" --outside 127.0.0.1:0 --inside 127.0.0.1:0 \
	    --key-in "AES_CM_128_HMAC_SHA1_80 inline:short" --key-out x
	assert_failure 3
}

@test "srtp-bridge: lines on stderr carry journald priorities under systemd, times when asked" {
	: > "$T/err"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/err") "$BR" --outside 1.2.3.4:5 \
	    --inside 127.0.0.1:6 2>> "$T/err" || true
	run cat "$T/err"
	assert_line "<3>srtp-bridge: need --key-in and --key-out, or --keys"
	# JOURNAL_STREAM naming another stream (a child's inherited value):
	# no prefix
	: > "$T/err2"
	JOURNAL_STREAM=1:2 "$BR" --outside 1.2.3.4:5 --inside 127.0.0.1:6 \
	    2>> "$T/err2" || true
	run cat "$T/err2"
	assert_line "srtp-bridge: need --key-in and --key-out, or --keys"
	SBK_LOG_TIME=1 run "$BR" --outside 1.2.3.4:5 --inside 127.0.0.1:6
	assert_output --regexp "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9:]{8}\.[0-9]{3}Z srtp-bridge: need --key-in"
}

@test "srtp-bridge: the whole configuration is checked before a port is bound or a file made" {
	local hold
	# the outside port is taken: a bad key must still be what is reported
	timeout 20 "$PY" -c 'import socket,sys,time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2]))); time.sleep(15)' "$H" "$P" &
	hold=$!
	TPIDS+=("$hold")
	wait_udp "$H" "$P"
	run "$BR" --outside "$H:$P" --inside "$H:$((P + 10))" \
	    --key-in "AES_CM_128_HMAC_SHA1_80 inline:$KI" \
	    --key-out "AES_CM_128_HMAC_SHA1_80 inline:short" --keylog "$T/k.log"
	assert_failure 3
	assert_output --partial "--key-out"
	refute_output --partial "in use"
	[ ! -e "$T/k.log" ]
	# a bad peer address is a usage error before any bind, too
	run "$BR" --outside "$H:$P" --inside "$H:$((P + 10))" \
	    --inside-peer nowhere:5 --key-in "AES_CM_128_HMAC_SHA1_80 inline:$KI" \
	    --key-out "AES_CM_128_HMAC_SHA1_80 inline:$KO"
	assert_failure 2
	assert_output --partial "--inside-peer: bad address"
	# with good keys, the taken port is what fails
	run "$BR" --outside "$H:$P" --inside "$H:$((P + 10))" \
	    --key-in "AES_CM_128_HMAC_SHA1_80 inline:$KI" \
	    --key-out "AES_CM_128_HMAC_SHA1_80 inline:$KO"
	assert_failure 1
	assert_output --partial "in use"
	kill "$hold"
}

@test "srtp-bridge: one stream, stock libsrtp2 peer, both directions, RTCP, drops, latching" {
	bridge1 --key-in "AES_CM_128_HMAC_SHA1_80 inline:$KI" \
	    --key-out "AES_CM_128_HMAC_SHA1_80 inline:$KO"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/srtp-peer.py" "$H" "$P" \
	    "$((P + 10))" "$((P + 20))" "$KI" "$KO" 4
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
	kill -USR1 "$BPID"
	sleep 0.3
	stop_bridge
	cat "$T/bridge.log"
	# the summary on SIGUSR1 and at exit: the drops were counted
	# (one line per block, key=value)
	run grep -c 'srtp-bridge: info: summary: stream=0 side=outside rtp ' "$T/bridge.log"
	assert_output 2
	run grep -m1 'summary: stream=0 side=outside rtp ' "$T/bridge.log"
	assert_output --regexp " drop_auth=1 drop_replay=[12] drop_malformed=3 "
	assert_output --partial " relatched=1"
	assert_output --partial " latched=1 "
	run grep -cE 'summary: rtp in_packets=[0-9]+ in_bytes=[0-9]+ forwarded=[0-9]+ drop_auth=' "$T/bridge.log"
	assert_output 2
}

@test "srtp-bridge: one stream over epoll (the io_uring fallback) passes the same checks" {
	bridge1 --io epoll --key-in "AES_CM_128_HMAC_SHA1_80 inline:$KI" \
	    --key-out "AES_CM_128_HMAC_SHA1_80 inline:$KO"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/srtp-peer.py" "$H" "$P" \
	    "$((P + 10))" "$((P + 20))" "$KI" "$KO" 4
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
	stop_bridge
}

@test "srtp-bridge: one stream with rtcp-mux on both sides, keys from a file, key log" {
	# comments, blank lines and key order do not matter
	printf '# keys\n\ndir=out AES_CM_128_HMAC_SHA1_80 inline:%s\n' "$KO" > "$T/keys"
	printf 'dir=in AES_CM_128_HMAC_SHA1_80 inline:%s\n' "$KI" >> "$T/keys"
	bridge1 --rtcp-mux --keys "$T/keys" --keylog "$T/keylog"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/srtp-peer.py" "$H" "$P" \
	    "$((P + 10))" "$((P + 20))" "$KI" "$KO" 4 mux
	echo "$output"
	assert_success
	stop_bridge
	run stat -c %a "$T/keylog"
	assert_output 600
	run grep -c "dir=in AES_CM_128_HMAC_SHA1_80 inline:$KI" "$T/keylog"
	assert_output 1
	run grep -c "dir=out AES_CM_128_HMAC_SHA1_80 inline:$KO" "$T/keylog"
	assert_output 1
}

@test "srtp-bridge: SIGHUP rekeys from the key file; unchanged keys keep the context" {
	printf 'dir=in AES_CM_128_HMAC_SHA1_80 inline:%s\ndir=out AES_CM_128_HMAC_SHA1_80 inline:%s\n' \
	    "$KI" "$KO" > "$T/keys"
	bridge1 --keys "$T/keys" --keylog "$T/keylog"
	kill -HUP "$BPID"
	sleep 0.3
	run grep -c "key set" "$T/bridge.log"
	assert_output 2
	K2=$(openssl rand -base64 30)
	printf 'dir=in AES_CM_128_HMAC_SHA1_80 inline:%s\ndir=out AES_CM_128_HMAC_SHA1_80 inline:%s\n' \
	    "$K2" "$KO" > "$T/keys"
	kill -HUP "$BPID"
	sleep 0.3
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/srtp-peer.py" "$H" "$P" \
	    "$((P + 10))" "$((P + 20))" "$K2" "$KO" 4
	echo "$output"
	assert_success
	stop_bridge
	run grep -c "receive key set" "$T/bridge.log"
	assert_output 2
	run grep -c "inline:$K2" "$T/keylog"
	assert_output 1
}

# ng mode: the daemon on $H (ng), outside $H2, inside $H3
bridge_ng() {
	H2=${H%.*}.$(( (${H##*.} % 250) + 2 ))
	H3=${H%.*}.$(( (${H##*.} % 250) + 3 ))
	NG=$((P + 100))
	spawn "$T/bridge.log" "$BR" -v -v --ng "$H:$NG" --outside "$H2" \
	    --inside "$H3" --port-min "$((P + 200))" --port-max "$((P + 399))" \
	    "$@"
	wait_udp "$H" "$NG"
}

ng_peer() {
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/ng-peer.py" "$1" "$H" \
	    "$NG" "$H2" "$H3"
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
}

@test "srtp-bridge --ng: offer/answer/media/query/list/delete, cookie cache" {
	bridge_ng --keylog "$T/keylog"
	ng_peer call
	# the SIGUSR1 summary in ng mode: calls, then streams and totals
	kill -USR1 "$BPID"
	sleep 0.3
	run grep -c "summary: calls now=2 total=3$" "$T/bridge.log"
	assert_output 1
	run grep -cE "summary: call call-id=call-2@test media=1 branches=1 age_s=[0-9]+$" "$T/bridge.log"
	assert_output 1
	stop_bridge
	# and at exit
	run grep -c "summary: calls " "$T/bridge.log"
	assert_output 2
	# keys learned and generated are in the key log, with the call-id
	run grep -c "^call-id=call-1@test " "$T/keylog"
	assert_output 3		# alice's, ours to her, and hers again with ssrc
	run grep -c "^call-id=call-1@test ssrc=0x000a11ce .* dir=in AES_CM_128_HMAC_SHA1_80" "$T/keylog"
	assert_output 1
	run grep -c "^call-id=call-2@test " "$T/keylog"
	assert_output 2		# the retransmitted offer ran once
}

@test "srtp-bridge --ng --steer: the port range through one socket per interface, or not" {
	run "$BR" --steer bogus --ng "$H:1" --outside "$H" --inside "$H"
	assert_failure 2
	assert_output --partial "--steer: auto, on or off"
	run "$BR" --steer on --outside "$H:$P" --inside "$H:$((P + 10))"
	assert_failure 2
	assert_output --partial "only with --ng"
	# the whole call flow, media both ways, steered
	bridge_ng --steer on
	ng_peer call
	kill -USR1 "$BPID"
	sleep 0.3
	run grep -c "summary: steering moved=0 stray=0$" "$T/bridge.log"
	assert_output 1
	stop_bridge
	# the same, not steered: no steering line
	bridge_ng --steer off
	ng_peer call
	stop_bridge
	run grep -c "summary: steering " "$T/bridge.log"
	assert_output 0
	# without CAP_BPF/CAP_NET_ADMIN: on fails, auto reads the port sockets
	run timeout 10 setpriv --bounding-set=-bpf,-net_admin,-sys_admin -- \
	    "$BR" --steer on --ng "$H:$((P + 100))" --outside "$H" --inside "$H"
	assert_failure 1
	assert_output --partial "--steer on: not permitted (needs CAP_BPF and CAP_NET_ADMIN)"
	spawn "$T/bridge.log" setpriv --bounding-set=-bpf,-net_admin,-sys_admin \
	    -- "$BR" -v --ng "$H:$((P + 100))" --outside "${H%.*}.$(( (${H##*.} % 250) + 2 ))" \
	    --inside "${H%.*}.$(( (${H##*.} % 250) + 3 ))" \
	    --port-min "$((P + 200))" --port-max "$((P + 399))"
	H2=${H%.*}.$(( (${H##*.} % 250) + 2 ))
	H3=${H%.*}.$(( (${H##*.} % 250) + 3 ))
	NG=$((P + 100))
	wait_udp "$H" "$NG"
	ng_peer call
	run grep -c "port range steered to one socket per interface: not permitted" "$T/bridge.log"
	assert_output 1
	# --io epoll cannot steer
	run timeout 10 "$BR" --steer on --io epoll --ng "$H:$((P + 102))" \
	    --outside "$H" --inside "$H"
	assert_failure 1
	assert_output --partial "needs io_uring"
}

@test "srtp-bridge --ng --raw-send: packets leave from one raw socket, or from the port sockets" {
	run "$BR" --raw-send bogus --ng "$H:1" --outside "$H" --inside "$H"
	assert_failure 2
	assert_output --partial "--raw-send: auto, on or off"
	# the whole call flow, media both ways (the peers check the source
	# address and port), sent raw
	bridge_ng --raw-send on
	ng_peer call
	kill -USR1 "$BPID"
	sleep 0.3
	run grep -E "summary: raw sent=[1-9][0-9]*$" "$T/bridge.log"
	assert_success
	stop_bridge
	# the same from the port sockets: no raw line
	bridge_ng --raw-send off
	ng_peer call
	stop_bridge
	run grep -c "summary: raw " "$T/bridge.log"
	assert_output 0
	# without CAP_NET_RAW: on fails to start
	run timeout 10 setpriv --bounding-set=-net_raw -- "$BR" --raw-send on \
	    --ng "$H:$((P + 100))" --outside "$H" --inside "$H"
	assert_failure 1
	assert_output --partial "--raw-send on: not permitted (needs CAP_NET_RAW)"
	run timeout 10 "$BR" --raw-send on --io epoll --ng "$H:$((P + 102))" \
	    --outside "$H" --inside "$H"
	assert_failure 1
	assert_output --partial "needs io_uring"
}

@test "srtp-bridge --ng: inside offers, SRTP towards outside, answer matched by suite" {
	bridge_ng
	ng_peer reverse
}

@test "srtp-bridge --ng: re-INVITE keeps an unchanged key, rekeys a new one" {
	bridge_ng
	ng_peer rekey
}

@test "srtp-bridge --ng: a two-key a=crypto line, packets under either MKI" {
	bridge_ng
	export SRTP_REF=$SBK_BUILD/tests/helpers/srtp-ref
	ng_peer mki
}

@test "srtp-bridge --ng: forks by via-branch; delete ends one branch, then the call" {
	bridge_ng
	ng_peer fork
}

@test "srtp-bridge --ng: UNENCRYPTED_SRTCP offered: mirrored in the answer, clear SRTCP both ways" {
	bridge_ng
	export SRTP_REF=$SBK_BUILD/tests/helpers/srtp-ref
	ng_peer params
}

@test "srtp-bridge --ng: an a=crypto with KDR=n is skipped for a later line; only KDR lines: refused" {
	bridge_ng
	ng_peer kdr
}

@test "srtp-bridge --ng-allow: requests from other sources get no answer" {
	local ngs=$SBK_BUILD/tests/helpers/ng-send other
	other=${H%.*}.$(( (${H##*.} % 250) + 4 ))
	bridge_ng --ng-allow "$H/32,10.0.0.0/8"
	run "$ngs" -b "$H:0" -t 300 -n 2 "$H:$NG" ping
	assert_success
	assert_output --partial "pong"
	run "$ngs" -b "$other:0" -t 300 -n 2 "$H:$NG" ping
	assert_failure
	stop_bridge
	run grep -c "ng: request from $other:[0-9]* refused: not in --ng-allow" \
	    "$T/bridge.log"
	assert_output 1
	# Not on loopback and no list: a warning. A bad list: a usage error.
	run "$BR" --ng "$H:$NG" --outside "$H" --inside "$H" \
	    --ng-allow 10.0.0.0/33
	assert_failure 2
	assert_output --partial "--ng-allow: 10.0.0.0/33: prefix too long"
	run "$BR" --ng-allow 127.0.0.1 --outside "$H:$P" --inside "$H:$P" \
	    --keys /dev/null
	assert_failure 2
	assert_output --partial "--ng-allow: only with --ng"
}

@test "srtp-bridge --ng: session limit strings" {
	bridge_ng --max-sessions 1
	ng_peer limit
}

@test "srtp-bridge --ng: port exhaustion string" {
	H2=${H%.*}.$(( (${H##*.} % 250) + 2 ))
	H3=${H%.*}.$(( (${H##*.} % 250) + 3 ))
	NG=$((P + 100))
	spawn "$T/bridge.log" "$BR" --ng "$H:$NG" --outside "$H2" \
	    --inside "$H3" --port-min "$((P + 200))" --port-max "$((P + 203))"
	wait_udp "$H" "$NG"
	ng_peer ports
}

@test "srtp-bridge --ng: media timeout deletes the call" {
	bridge_ng --timeout 1
	run timeout 20 "$PY" - "$H" "$NG" <<'PYEOF'
import socket, sys, time
h, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
def req(c, b):
    s.sendto(c + b" " + b, (h, p))
    return s.recvfrom(65536)[0]
sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
print(req(b"a1", b"d7:command5:offer7:call-id2:to8:from-tag1:f3:sdp%d:%se" % (len(sdp), sdp)))
print(req(b"a2", b"d7:command4:liste"))
time.sleep(3.5)
print(req(b"a3", b"d7:command4:liste"))
PYEOF
	echo "$output"
	assert_line --index 1 --partial "5:callsl2:toe"
	assert_line --index 2 --partial "5:callslee"
}

@test "srtp-bridge --ng: an idle video line does not time out a call whose audio flows" {
	bridge_ng --timeout 1
	run timeout 30 "$PY" - "$H" "$NG" <<'PYEOF'
import re, socket, struct, sys, time
h, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
def req(c, b):
    s.sendto(c + b" " + b, (h, p))
    return s.recvfrom(65536)[0]
sdp = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       b"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=video 4002 RTP/AVP 96\r\n")
r = req(b"v1", b"d7:command5:offer7:call-id2:av8:from-tag1:f3:sdp%d:%se" % (len(sdp), sdp))
addr = re.search(rb"c=IN IP4 (\S+)", r).group(1).decode()
port = int(re.search(rb"m=audio (\d+)", r).group(1))
m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):	# 3 s of audio, no video
    m.sendto(struct.pack("!BBHII", 0x80, 0, i, i * 160, 7) + b"x" * 160,
             (addr, port))
    time.sleep(0.15)
print(req(b"v2", b"d7:command4:liste"))
time.sleep(3.5)
print(req(b"v3", b"d7:command4:liste"))
PYEOF
	echo "$output"
	assert_line --index 0 --partial "5:callsl2:ave"
	assert_line --index 1 --partial "5:callslee"
}

@test "srtp-bridge --ng: the same requests give rtpengine's answers (profiles, crypto)" {
	command -v rtpengine > /dev/null || skip "rtpengine-daemon not installed"
	bridge_ng
	RE=$((P + 101))
	spawn "$T/rtpengine.log" rtpengine --config-file=none --foreground \
	    --log-stderr --table=-1 --interface="outside/$H2" \
	    --interface="inside/$H3" --listen-ng="$H:$RE" \
	    --port-min="$((P + 400))" --port-max="$((P + 599))" \
	    --pidfile="$T/rtpengine.pid"
	wait_udp "$H" "$RE" || skip "rtpengine did not start: $(tail -3 "$T/rtpengine.log")"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/ng-peer.py" compare "$H" \
	    "$NG" "$H2" "$H3" "$RE"
	echo "$output"
	assert_success
}

@test "srtp-bridge --ng: forks and branch deletes answered as rtpengine answers them" {
	command -v rtpengine > /dev/null || skip "rtpengine-daemon not installed"
	bridge_ng
	RE=$((P + 101))
	spawn "$T/rtpengine.log" rtpengine --config-file=none --foreground \
	    --log-stderr --table=-1 --interface="outside/$H2" \
	    --interface="inside/$H3" --listen-ng="$H:$RE" \
	    --port-min="$((P + 400))" --port-max="$((P + 599))" \
	    --pidfile="$T/rtpengine.pid"
	wait_udp "$H" "$RE" || skip "rtpengine did not start: $(tail -3 "$T/rtpengine.log")"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/ng-peer.py" fork-compare \
	    "$H" "$NG" "$H2" "$H3" "$RE"
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
}

@test "srtp-bridge: keys straight from sdp-rewrite --print-keys (offer, then answer)" {
	[ -x "$SBK_BIN/sdp-rewrite" ] || skip "sdp-rewrite not built"
	sdp() {	# sdp KEY
		printf 'v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n' "$H" "$H" "$1"
	}
	sdp "$KI" > "$T/offer.sdp"
	sdp "$KO" > "$T/answer.sdp"
	{ "$SBK_BIN/sdp-rewrite" --print-keys < "$T/offer.sdp"
	  "$SBK_BIN/sdp-rewrite" --print-keys < "$T/answer.sdp"; } > "$T/keys"
	cat "$T/keys"
	bridge1 --keys "$T/keys"
	run timeout 60 "$PY" "$SBK_TOP/tests/helpers/srtp-peer.py" "$H" "$P" \
	    "$((P + 10))" "$((P + 20))" "$KI" "$KO" 4
	echo "$output"
	assert_success
	stop_bridge
}

@test "srtp-bridge --ng ADDR:0 --print-addresses: the port the kernel picked, on stdout, and it answers there" {
	timeout -k 2 20 "$BR" --ng "$H:0" --outside "$H" --inside "$H" \
	    --print-addresses > "$T/out" 2> "$T/err" &
	TPIDS+=($!)
	for _ in $(seq 50); do
		grep -q '^ng udp ' "$T/out" && break
		sleep 0.1
	done
	run cat "$T/out"
	assert_output --regexp "^ng udp $H:[1-9][0-9]*$"
	local ng=${output#ng udp }
	run timeout 10 "$SBK_BIN/ng-ctl" "$ng" ping
	assert_success
	assert_output --partial pong
}
