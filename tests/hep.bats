#!/usr/bin/env bats
# hep.bats - HEPv3 capture: sip-tls-term sends every SIP message of both
# legs, in clear, to sngrep -L (Debian sngrep 1.6) and to a collector
# written from the HEP3 specification (tests/helpers/hep-listen.py);
# srtp-bridge sends its end-of-stream summaries, correlated by Call-ID.

bats_require_minimum_version 1.5.0
load "$SBK_TOP/tests/lib-sip"

DLG=$SBK_TOP/tests/helpers/sip-dialog.py
HL=$SBK_TOP/tests/helpers/hep-listen.py

setup() {
	sip_setup
	RIN=${IP%.*}.$((${IP##*.} + 1))	# relay inside
}

# collector SECONDS: hep-listen.py on $IP; sets HEP (ADDR:PORT).
collector() {
	timeout $(($1 + 5)) /usr/bin/python3 "$HL" "$IP" 0 "$1" \
	    > "$W/hep.out" &
	PIDS+=($!)
	wait_line "$W/hep.out" '^bound ' || return 1
	HEP=$(sed -n 's/^bound //p' "$W/hep.out")
}

# lab [GW ARGS]: srtp-bridge (outside $IP, inside $RIN; BRIDGE_ARGS) and
# the gateway (upstream BOB, a free port on $IP); sets L, IN, BOB.
lab() {
	local ng
	ng=$("$FREEPORT" "$RIN")
	BOB=$IP:$("$FREEPORT" "$IP")
	sip_bridge 40 "$RIN:$ng" "$IP" "$RIN" -v ${BRIDGE_ARGS:-}
	sip_gw 40 -u "udp:$BOB" --registrar --media "ng:$RIN:$ng" \
	    --media-direction outside,inside "$@"
}

# call: the "late" dialog (INVITE, 200 with the offer, ACK, BYE).
call() {
	run timeout 30 /usr/bin/python3 "$DLG" late "$L" "$IN" "$BOB" "$IP" \
	    "$RIN" "$IP"
	echo "$output" > "$W/dialog.out"
	refute_line --partial "fail "
	assert_success
	CID=$(sed -n 's/.*sip: in outside [^ ]* INVITE call-id=\([^ ]*\) cseq=1 INVITE$/\1/p' \
	    "$W/gw.err" | head -1)
	[ -n "$CID" ]
}

@test "hep: sip-tls-term sends both legs of a call, each chunk as the spec says" {
	collector 30
	lab --hep "udp:$HEP" --hep-id 2001 --hep-password s3cret
	call
	sbk_wait_for 5 grep -q "first=BYE " "$W/hep.out" || true
	sleep 0.5
	cat "$W/hep.out" > "$W/h"
	run cat "$W/h"
	refute_output --partial "bad "
	# has DIR-PROTO SRC DST FIRST: a line with these chunks
	has() {
		grep -F " proto=$1 src=$2 dst=$3 " "$W/h" | grep -F "id=2001 key=s3cret " |
		    grep -qF "first=$4"
	}
	# Outside: Alice's TLS connection (the flow), in and out, as TLS (22).
	alice=$(grep -F "first=INVITE " "$W/h" | grep -F " proto=22 " | head -1 |
	    sed 's/.* src=\([^ ]*\) .*/\1/')
	[ -n "$alice" ]
	has 22 "$alice" "$L" "INVITE sip:"
	has 22 "$L" "$alice" "SIP/2.0 200 OK"
	has 22 "$alice" "$L" "ACK sip:"
	has 22 "$alice" "$L" "BYE sip:"
	has 22 "$L" "$alice" "SIP/2.0 200 OK"
	# Inside: our inside UDP face and Bob, as UDP (17).
	has 17 "$IN" "$BOB" "INVITE sip:"
	has 17 "$BOB" "$IN" "SIP/2.0 200 OK"
	has 17 "$IN" "$BOB" "ACK sip:"
	has 17 "$IN" "$BOB" "BYE sip:"
	# SIP (type 1), a plausible wall-clock time.
	now=$(date +%s)
	grep "^hep " "$W/h" | awk -v now="$now" '{ for (i = 1; i <= NF; i++) if ($i ~ /^time=/) {
	    t = substr($i, 6) + 0; if (t < now - 60 || t > now + 5) bad = 1 }
	    if ($2 != "type=1") bad = 1 } END { exit bad }'
	# Every message the gateway traced (-vv) was captured: same count.
	n_trace=$(grep -c "debug: sip: \(in\|out\) " "$W/gw.err")
	n_hep=$(grep -c "^hep " "$W/h")
	[ "$n_trace" -eq "$n_hep" ]
}

@test "hep: sngrep -L shows the call, both legs, and tshark reads its capture" {
	command -v sngrep || skip "no sngrep"
	port=$("$FREEPORT" "$IP")
	timeout -s INT 30 sngrep -N -q -L "udp:$IP:$port" -O "$W/out.pcap" \
	    > "$W/sngrep.out" 2>&1 &
	SNG=$!
	PIDS+=($SNG)
	sbk_wait_port udp "$IP" "$port" 10
	lab --hep "udp:$IP:$port"
	call
	sleep 1
	kill -INT "$SNG"
	wait "$SNG" || true
	[ -s "$W/out.pcap" ]
	run --separate-stderr tshark -r "$W/out.pcap" -Y "sip.Call-ID == \"$CID\"" -T fields \
	    -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e sip.Method \
	    -e sip.Status-Code
	echo "$output" > "$W/tshark.out"
	assert_success
	# The four messages on each leg (the INVITE's 200 and the BYE's).
	ip=${IP}
	[ "$(grep -cP "\tINVITE\t" "$W/tshark.out")" -eq 2 ]
	[ "$(grep -cP "\tACK\t" "$W/tshark.out")" -eq 2 ]
	[ "$(grep -cP "\tBYE\t" "$W/tshark.out")" -eq 2 ]
	[ "$(grep -cP "\t200$" "$W/tshark.out")" -ge 4 ]
	# Inside: towards Bob's port; outside: from the TLS port.
	grep -P "^$ip\t${IN##*:}\t$ip\t${BOB##*:}\tINVITE" "$W/tshark.out"
	grep -P "^127\.0\.0\.1\t[0-9]+\t$ip\t${L##*:}\tINVITE" "$W/tshark.out"
}

@test "hep: srtp-bridge sends a summary per side when a call's stream ends, correlated by Call-ID" {
	collector 30
	BRIDGE_ARGS="--hep udp:$HEP --hep-id 7"
	lab
	call
	sbk_wait_for 5 grep -q "type=100 " "$W/hep.out" || true
	grep "^hep type=100 " "$W/hep.out" > "$W/h" || true
	cat "$W/h"
	# One stream (an audio line), two sides, nothing else from the relay.
	[ "$(wc -l < "$W/h")" -eq 2 ]
	run grep -c "^bad" "$W/hep.out"
	assert_output 0
	# Each: UDP, capture id 7, the Call-ID as correlation id, and the
	# JSON names the same Call-ID and its side with that side's address.
	run /usr/bin/python3 - "$W/h" "$CID" "$IP" "$RIN" <<'PY'
import json, sys
cid, out_ip, in_ip = sys.argv[2], sys.argv[3], sys.argv[4]
sides = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=", 1) for x in line.split(" first=")[0].split()[1:])
    j = json.loads(line.split(" first=", 1)[1])
    assert f["proto"] == "17" and f["id"] == "7", f
    assert f["corr"] == cid and j["call-id"] == cid, (f, j)
    assert j["event"] == "stream-end" and j["media"] == 0, j
    # HEP source: the side's peer; destination: the relay's local port
    assert f["dst"] == j["local"] and f["src"] == j["peer"], (f, j)
    sides[j["side"]] = j
assert set(sides) == {"outside", "inside"}, sides
assert sides["outside"]["local"].startswith(out_ip + ":"), sides
assert sides["inside"]["local"].startswith(in_ip + ":"), sides
assert sides["outside"]["srtp"] is True and sides["inside"]["srtp"] is False
# media went both ways: what one side forwarded arrived at the relay
for s in sides.values():
    assert s["rtp"]["in_packets"] > 0 and s["rtp"]["forwarded"] > 0, s
print("ok")
PY
	echo "$output"
	assert_success
	assert_output "ok"
}

@test "hep: srtp-bridge sends each RTCP report in clear as rtpengine's JSON (type 5), by Call-ID" {
	collector 20
	NG=$RIN:$("$FREEPORT" "$RIN")
	sip_bridge 30 "$NG" "$IP" "$RIN" -v --hep "udp:$HEP"
	run timeout 15 /usr/bin/python3 - "$NG" "$IP" "$RIN" <<'PY'
import re, socket, struct, sys, time
ng_host, ng_port = sys.argv[1].rsplit(":", 1)
ip, rin = sys.argv[2], sys.argv[3]

def benc(v):
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    v = v.encode() if isinstance(v, str) else v
    return b"%d:%s" % (len(v), v)

ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ng.settimeout(2)
def req(cookie, d):
    ng.sendto(cookie + b" " + benc(d), (ng_host, int(ng_port)))
    return ng.recv(65535).decode()

def phone(host):
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind((host, 0))
    port = r.getsockname()[1]
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        c.bind((host, port + 1))
    except OSError:
        return phone(host)
    return r, c, port

def sdp(host, port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (host, host, port))

a_rtp, a_rtcp, a_port = phone(ip)      # outside phone
b_rtp, b_rtcp, b_port = phone(rin)     # inside phone
cid = "rtcp-hep-1"
r = req(b"c1", {"command": "offer", "call-id": cid, "from-tag": "ta",
                "sdp": sdp(ip, a_port), "direction": ["outside", "inside"],
                "transport-protocol": "RTP/AVP"})
to_b = int(re.search(r"m=audio (\d+)", r).group(1))
r = req(b"c2", {"command": "answer", "call-id": cid, "from-tag": "ta",
                "to-tag": "tb", "sdp": sdp(rin, b_port),
                "transport-protocol": "RTP/AVP"})
to_a = int(re.search(r"m=audio (\d+)", r).group(1))
# An SR with one report block from A, an RR from B.
sr = struct.pack("!BBHIIIIII", 0x81, 200, 12, 0x11111111, 3900000000, 123456,
                 160000, 50, 8000)
sr += struct.pack("!IBBHIIII", 0x22222222, 12, 0xff, 0xfffe, 70000, 33, 0xaabbccdd, 65536)
rr = struct.pack("!BBHI", 0x81, 201, 7, 0x22222222)
rr += struct.pack("!IBBHIIII", 0x11111111, 0, 0, 3, 5001, 7, 0, 0)
a_rtcp.sendto(sr, (ip, to_a + 1))
b_rtcp.settimeout(2)
assert b_rtcp.recv(2000) == sr, "SR forwarded unchanged"
b_rtcp.sendto(rr, (rin, to_b + 1))
a_rtcp.settimeout(2)
assert a_rtcp.recv(2000) == rr, "RR forwarded unchanged"
print("a=%s:%d b=%s:%d ra=%s:%d rb=%s:%d" % (ip, a_port + 1, rin, b_port + 1,
      ip, to_a + 1, rin, to_b + 1))
PY
	echo "$output"
	assert_success
	read -r a b ra rb <<< "$(tail -1 <<< "$output" | sed 's/[a-z]*=//g')"
	sbk_wait_for 3 grep -q "type=5 .*type\":201" "$W/hep.out" || true
	grep "^hep type=5 " "$W/hep.out" > "$W/h" || true
	cat "$W/h"
	[ "$(wc -l < "$W/h")" -eq 2 ]
	run /usr/bin/python3 - "$W/h" "$a" "$b" "$ra" "$rb" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
a, b, ra, rb = sys.argv[2:6]
got = {}
for line in lines:
    f = dict(x.split("=", 1) for x in line.split(" first=")[0].split()[1:])
    j = json.loads(line.split(" first=", 1)[1])
    assert f["corr"] == "rtcp-hep-1" and f["proto"] == "17", f
    got[j["type"]] = (f, j)
f, j = got[200]
assert (f["src"], f["dst"]) == (a, ra), f
assert j["ssrc"] == 0x11111111 and j["report_count"] == 1, j
assert j["sender_information"] == {"ntp_timestamp_sec": 3900000000,
    "ntp_timestamp_usec": 123456, "rtp_timestamp": 160000, "packets": 50,
    "octets": 8000}, j
assert j["report_blocks"] == [{"source_ssrc": 0x22222222, "fraction_lost": 12,
    "packets_lost": -2, "highest_seq_no": 70000, "ia_jitter": 33,
    "lsr": 0xaabbccdd, "dlsr": 65536}], j
f, j = got[201]
assert (f["src"], f["dst"]) == (b, rb), f
assert "sender_information" not in j and j["ssrc"] == 0x22222222, j
assert j["report_blocks"][0]["packets_lost"] == 3, j
print("ok")
PY
	echo "$output"
	assert_output "ok"
}

@test "hep: SIP over TCP inside is captured as TCP (6), with the connection's addresses" {
	collector 15
	sip_peer tcp 10
	sip_gw 15 -u "tcp:$UP" --hep "udp:$HEP"
	invite "$W/inv" 70 "sip:bob@$IP;transport=tls" "a=sendrecv"
	run timeout 10 "$CLI" -c 3 -w 3000 "$L" "$W/inv"
	assert_success
	assert_line "SIP/2.0 200 OK"
	sbk_wait_for 3 grep -q " proto=6 src=$UP .*first=SIP/2.0 200" \
	    "$W/hep.out" || true
	cat "$W/hep.out"
	# Our end of the connection we opened: its own (ephemeral) port, the
	# same both ways, not the inside face's listening port.
	me=$(sed -n "s/^hep type=1 proto=6 src=\([^ ]*\) dst=$UP .*first=INVITE sip:.*/\1/p" \
	    "$W/hep.out")
	[ -n "$me" ] && [ "${me%:*}" = "$IP" ] && [ "$me" != "$IN" ]
	grep -q "^hep type=1 proto=6 src=$UP dst=$me .*first=SIP/2.0 200 OK" "$W/hep.out"
	# ... as the kernel says (the connection is still open)
	ss -Htn state established "dst $UP" | grep -qF "$me"
	grep -q "^hep type=1 proto=22 src=[0-9.:]* dst=$L .*first=INVITE sip:" "$W/hep.out"
	run grep -c "^bad" "$W/hep.out"
	assert_output 0
}

@test "hep: an inside face bound to 0.0.0.0 is captured with the source the route gives" {
	collector 15
	sip_peer udp 10
	sip_gw 15 -u "udp:$UP" -i 0.0.0.0:0 --hep "udp:$HEP"
	[ "${IN%:*}" = 0.0.0.0 ]
	invite "$W/inv" 70 "sip:bob@$IP;transport=tls" "a=sendrecv"
	run timeout 10 "$CLI" -c 3 -w 3000 "$L" "$W/inv"
	assert_success
	src=$(ip route get "${UP%:*}" | sed -n 's/.* src \([0-9.]*\).*/\1/p')
	sbk_wait_for 3 grep -q "src=$UP .*first=SIP/2.0 200" "$W/hep.out" || true
	cat "$W/hep.out"
	grep -q "^hep type=1 proto=17 src=$src:${IN##*:} dst=$UP .*first=INVITE sip:" "$W/hep.out"
	grep -q "^hep type=1 proto=17 src=$UP dst=$src:${IN##*:} .*first=SIP/2.0 200 OK" "$W/hep.out"
}
