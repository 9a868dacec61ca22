#!/usr/bin/env bats
# metrics.bats - --metrics on srtp-bridge and sip-tls-term: the endpoint
# passes `promtool check metrics` (Debian prometheus), its counters equal
# the tools' own SIGUSR1 summary lines after a call, after a WebRTC call
# (aiortc: ICE, DTLS-SRTP) and after WebSocket registrations
# (tests/helpers/ws-client.py), and slow, idle or garbage clients never
# block the event loop.

bats_require_minimum_version 1.5.0
load "$SBK_TOP/tests/lib-sip"

DLG=$SBK_TOP/tests/helpers/sip-dialog.py

setup() {
	sip_setup
	RIN=${IP%.*}.$((${IP##*.} + 1))	# relay inside
}

# lab: srtp-bridge and sip-tls-term, both with --metrics on port 0; sets
# L, IN, BOB, NG, MB (bridge metrics ADDR:PORT), MG (gateway's).
lab() {
	BOB=$IP:$("$FREEPORT" "$IP")
	NG=$RIN:$("$FREEPORT" "$RIN")
	sip_bridge 40 "$NG" "$IP" "$RIN" -v --metrics "$RIN:0"
	wait_line "$W/bridge.log" '^metrics http '
	MB=$(sed -n 's/^metrics http //p' "$W/bridge.log")
	sip_gw 40 -u "udp:$BOB" --registrar --media "ng:$NG" \
	    --media-direction outside,inside --metrics "$IP:0"
	wait_line "$W/gw.out" '^metrics http '
	MG=$(sed -n 's/^metrics http //p' "$W/gw.out")
}

# scrape ADDR:PORT FILE: GET /metrics, bounded.
scrape() {
	curl -sS --max-time 5 -o "$2" -w '%{http_code} %{content_type}\n' \
	    "http://$1/metrics"
}

# prom_cmp PROM LOG WORD PAIRS...: every PAIR "key=family{k:v,k:v}" holds:
# the sum of those samples in PROM equals key in LOG's last
# `summary: WORD` line. Prints "key=value" per pair, then "ok N".
prom_cmp() {
	/usr/bin/python3 - "$@" <<'PY'
import re, sys

prom, log, word = sys.argv[1:4]
m = {}
for line in open(prom):
    if line.startswith("#") or not line.strip():
        continue
    name, v = line.rsplit(" ", 1)
    fam, _, lab = name.partition("{")
    m.setdefault(fam, []).append((dict(re.findall(r'(\w+)="([^"]*)"', lab)),
                                  float(v)))
line = [l for l in open(log) if "summary: " + word + " " in l][-1]
s = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
n = 0
for pair in sys.argv[4:]:
    key, _, want = pair.partition("=")
    fam, _, lab = want.partition("{")
    labels = dict(x.split(":") for x in lab.rstrip("}").split(",") if x)
    rows = [v for l, v in m.get(fam, [])
            if all(l.get(k) == x for k, x in labels.items())]
    assert rows, ("no samples", want)
    assert sum(rows) == s[key], (key, want, sum(rows), s[key])
    print("%s=%d" % (key, s[key]))
    n += 1
print("ok %d" % n)
PY
}

# child PROG: the PID of PROG under one of our `timeout`s.
child() {
	local p
	for p in "${PIDS[@]}"; do
		pgrep -P "$p" -x "$1" && return 0
	done
	return 1
}

@test "metrics: after a call, promtool passes and the counters equal the summaries" {
	lab
	run timeout 30 /usr/bin/python3 "$DLG" late "$L" "$IN" "$BOB" "$IP" \
	    "$RIN" "$IP"
	refute_output --partial "fail "
	assert_success
	sleep 0.5
	run scrape "$MB" "$W/bridge.prom"
	assert_output "200 text/plain; version=0.0.4; charset=utf-8"
	run scrape "$MG" "$W/gw.prom"
	assert_output --partial "200 "
	run promtool check metrics < "$W/bridge.prom"
	echo "$output"
	assert_success
	run promtool check metrics < "$W/gw.prom"
	echo "$output"
	assert_success
	# The summaries, asked for now (nothing flows any more).
	kill -USR1 "$(child srtp-bridge)" "$(child sip-tls-term)"
	wait_line "$W/bridge.log" 'summary: rtcp '
	wait_line "$W/gw.err" 'summary: sip '
	run /usr/bin/python3 - "$W/bridge.prom" "$W/bridge.log" "$W/gw.prom" \
	    "$W/gw.err" <<'PY'
import re, sys

def prom(path):
    m = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, v = line.rsplit(" ", 1)
        fam, _, lab = name.partition("{")
        labels = dict(re.findall(r'(\w+)="([^"]*)"', lab))
        m.setdefault(fam, []).append((labels, float(v)))
    return m

def total(m, fam, **want):
    return sum(v for l, v in m.get(fam, [])
               if all(l.get(k) == x for k, x in want.items()))

def summary(path, word):
    line = [l for l in open(path) if "summary: " + word + " " in l][-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}

b, g = prom(sys.argv[1]), prom(sys.argv[3])
checks = 0
for comp in ("rtp", "rtcp"):
    s = summary(sys.argv[2], comp)
    for key, res in (("in_packets", "received"), ("forwarded", "forwarded"),
                     ("drop_auth", "auth"), ("drop_replay", "replay"),
                     ("drop_malformed", "malformed"), ("drop_nokey", "nokey"),
                     ("drop_nopeer", "nopeer"), ("drop_other", "other"),
                     ("crypto_errors", "crypto_error")):
        got = total(b, "sbckit_packets_total", component=comp, result=res)
        assert got == s[key], (comp, key, got, s[key])
        checks += 1
    got = total(b, "sbckit_bytes_total", component=comp, result="received")
    assert got == s["in_bytes"], (comp, "bytes", got, s["in_bytes"])
assert total(b, "sbckit_packets_total", component="rtp",
             result="received") > 0, "no media counted"
assert total(b, "sbckit_streams_open") == summary(sys.argv[2], "relay")["streams"]
c = summary(sys.argv[2], "calls")
assert total(b, "sbckit_calls_open") == c["now"]
assert total(b, "sbckit_calls_total") == c["total"] == 1, c
# ng: the gateway's offer, answer and delete, answered ok
for cmd in ("offer", "answer", "delete"):
    assert total(b, "sbckit_ng_requests_total", command=cmd,
                 result="ok") >= 1, cmd
s = summary(sys.argv[4], "sip")
for face, word in (("inside", "inside"), ("outside", "outside")):
    assert total(g, "sbckit_sip_requests_total", face=face) == \
        s["requests_" + word], (face, s)
    assert total(g, "sbckit_sip_responses_total", face=face) == \
        s["responses_" + word], (face, s)
assert total(g, "sbckit_sip_requests_total", face="outside",
             method="INVITE") == 1
assert total(g, "sbckit_sip_requests_total", face="outside",
             method="BYE") == 1
assert total(g, "sbckit_sip_messages_bad_total") == s["bad"]
assert total(g, "sbckit_sip_messages_dropped_total") == s["dropped"]
f = summary(sys.argv[4], "flows")
assert total(g, "sbckit_tls_connections_total") == f["accepted"] >= 1
assert total(g, "sbckit_tls_handshakes_total", result="ok") >= 1
# the gateway timed the relay's answers: offer, answer, delete at least
n = total(g, "sbckit_ng_answer_seconds_count")
assert n >= 3 and total(g, "sbckit_ng_answer_seconds_bucket", le="+Inf") == n, n
assert total(g, "sbckit_ng_answer_seconds_bucket", le="2") <= n
print("ok %d" % checks)
PY
	echo "$output"
	assert_success
	assert_output "ok 18"
}

@test "metrics: idle, slow, oversized and garbage clients never block the loop" {
	NG=$RIN:$("$FREEPORT" "$RIN")
	sip_bridge 40 "$NG" "$IP" "$RIN" -v --metrics "$RIN:0"
	wait_line "$W/bridge.log" '^metrics http '
	MB=$(sed -n 's/^metrics http //p' "$W/bridge.log")
	run timeout 30 /usr/bin/python3 - "$MB" "$NG" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
ng_host, ng_port = sys.argv[2].rsplit(":", 1)
addr = (host, int(port))

def ping():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    t = time.time()
    u.sendto(b"c1 d7:command4:pinge", (ng_host, int(ng_port)))
    r = u.recv(100)
    assert r == b"c1 d6:result4:ponge", r
    return time.time() - t

def req(data, read=True):
    s = socket.create_connection(addr, timeout=3)
    s.sendall(data)
    if not read:
        return s
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out

# idle clients: more than the 8 allowed, holding connections open
idle = [socket.create_connection(addr, timeout=3) for _ in range(12)]
# one that sends half a request and stops
slow = req(b"GET /metr", read=False)
assert ping() < 0.5, "ng answers while clients hang"
# a scrape still works (the oldest idle ones are evicted)
r = req(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
assert r.startswith(b"HTTP/1.1 200 OK\r\n") and b"sbckit_packets_total" in r, r[:200]
print("ok scrape while 13 clients hang")
for data, want in ((b"GET /nope HTTP/1.1\r\n\r\n", b"404"),
                   (b"POST /metrics HTTP/1.1\r\n\r\n", b"405"),
                   (b"\x16\x03\x01\x00\x10garbage\r\n\r\n", b"400"),
                   (b"GET /metrics HTTP/9.9\r\n\r\n", b"400"),
                   (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000, b"431"),
                   (b"HEAD /metrics HTTP/1.0\r\n\r\n", b"200")):
    r = req(data)
    assert r.split(b" ")[1] == want, (data[:30], r[:80])
    if data.startswith(b"HEAD"):
        assert r.endswith(b"\r\n\r\n"), r
    print("ok %s" % want.decode())
# a client that asks and never reads: the answer is buffered, not waited for
nr = req(b"GET /metrics HTTP/1.1\r\n\r\n", read=False)
assert ping() < 0.5
# the hanging ones are closed within the 5 s bound
t = time.time()
slow.settimeout(8)
assert slow.recv(10) == b"", "slow client closed"
print("ok slow client closed after %.0f s" % (time.time() - t + 0.0))
assert ping() < 0.5
print("ok")
PY
	echo "$output"
	assert_success
	assert_line "ok scrape while 13 clients hang"
	assert_line "ok 431"
	assert_line "ok"
}

@test "metrics: bad --metrics and --hep are usage errors; a non-loopback endpoint is warned about" {
	for tool in srtp-bridge sip-tls-term; do
		run "$SBK_BIN/$tool" --metrics nowhere
		assert_failure 2
		assert_output --partial "--metrics: want [ADDR:]PORT"
		run "$SBK_BIN/$tool" --hep "tcp:$IP:9060"
		assert_failure 2
		assert_output --partial "--hep: only udp:ADDR:PORT"
		run "$SBK_BIN/$tool" --help
		assert_output --partial "--metrics [ADDR:]PORT"
		assert_output --partial "--hep-password S"
	done
	NG=$IP:$("$FREEPORT" "$IP")
	sip_bridge 10 "$NG" "$IP" "$RIN" --metrics 0.0.0.0:0
	wait_line "$W/bridge.log" '^metrics http 0\.0\.0\.0:'
	grep -q "warning: --metrics 0.0.0.0:0 is not on loopback" "$W/bridge.log"
	# A port alone is on loopback.
	run timeout 3 "$SBK_BIN/srtp-bridge" --ng "$RIN:0" --outside "$IP" \
	    --inside "$RIN" --metrics 0 --print-addresses
	assert_line --regexp '^metrics http 127\.0\.0\.1:[0-9]+$'
}

@test "metrics: a WebRTC call (aiortc: ICE, DTLS-SRTP, a STUN check with a wrong password): the stun/ice/dtls counters equal summary: webrtc" {
	/usr/bin/python3 -c "import aiortc" 2>/dev/null ||
	    skip "python3-aiortc not installed"
	NG=$RIN:$("$FREEPORT" "$RIN")
	# outside $IP (aiortc's side), inside $RIN (the plain phone)
	sip_bridge 90 "$NG" "$IP" "$RIN" -v --metrics "$RIN:0"
	wait_line "$W/bridge.log" '^metrics http '
	MB=$(sed -n 's/^metrics http //p' "$W/bridge.log")
	run timeout 60 /usr/bin/python3 "$SBK_TOP/tests/helpers/aiortc-peer.py" \
	    badpwd "${NG%:*}" "${NG##*:}" "$RIN" "$W"
	echo "$output"
	assert_success
	refute_output --regexp "^fail "
	sleep 0.5
	run scrape "$MB" "$W/bridge.prom"
	assert_output --partial "200 "
	run promtool check metrics < "$W/bridge.prom"
	echo "$output"
	assert_success
	kill -USR1 "$(child srtp-bridge)"
	wait_line "$W/bridge.log" 'summary: webrtc '
	run prom_cmp "$W/bridge.prom" "$W/bridge.log" webrtc \
	    'stun=sbckit_stun_requests_total{result:received}' \
	    'ice_answered=sbckit_stun_requests_total{result:answered}' \
	    'ice_bad_auth=sbckit_stun_requests_total{result:bad_auth}' \
	    'ice_other=sbckit_stun_requests_total{result:other}' \
	    'nominations=sbckit_ice_nominations_total' \
	    'dtls=sbckit_dtls_packets_total{result:received}' \
	    'dtls_bad=sbckit_dtls_packets_total{result:malformed}' \
	    'dtls_untrusted=sbckit_dtls_packets_total{result:untrusted}' \
	    'dtls_early=sbckit_dtls_packets_total{result:early}' \
	    'handshakes=sbckit_dtls_handshakes_total{result:ok}' \
	    'fingerprint_mismatch=sbckit_dtls_handshakes_total{result:fingerprint_mismatch}' \
	    'dtls_failed=sbckit_dtls_handshakes_total{result:failed}' \
	    'handshakes_rtcp=sbckit_dtls_handshakes_rtcp_total'
	echo "$output"
	assert_success
	assert_line "ok 13"
	# what the call did: aiortc's checks and handshake, our bad check
	assert_line "handshakes=1"
	assert_line "handshakes_rtcp=0"	# aiortc muxes RTCP
	assert_line "ice_bad_auth=1"
	assert_line "fingerprint_mismatch=0"
	assert_line --regexp "^ice_answered=[1-9]"
	assert_line --regexp "^dtls=[1-9]"
}

# ws_reg FILE USER: a JsSIP-like REGISTER over WebSocket.
ws_reg() {
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

@test "metrics: WebSocket registrations, a refused Upgrade, a frame error: the ws counters equal summary: flows; connections by transport" {
	WSC=$SBK_TOP/tests/helpers/ws-client.py
	# a low per-source rate: the burst below goes over it
	sip_gw 40 --registrar --listen-ws "$IP:0" --listen-wss "$IP:0" \
	    --metrics "$IP:0" --rate 3/3
	wait_line "$W/gw.out" '^metrics http '
	MG=$(sed -n 's/^metrics http //p' "$W/gw.out")
	WS=$(sed -n 's/^listening ws //p' "$W/gw.out")
	WSS=$(sed -n 's/^listening wss //p' "$W/gw.out")
	ws_reg "$W/reg" alice
	ws_reg "$W/reg2" bob
	run timeout 10 /usr/bin/python3 "$WSC" -c 1 "$WS" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	# bob stays connected over WSS while we scrape
	( timeout 10 /usr/bin/python3 "$WSC" --tls -w 6000 "$WSS" "$W/reg2" \
	    > "$W/bob.out" ) &
	PIDS+=($!)
	wait_line "$W/bob.out" "^SIP/2.0 200 OK"
	# six REGISTERs at once on one connection: over the rate, throttled
	sleep 1
	ws_reg "$W/reg3" carol
	run timeout 10 /usr/bin/python3 "$WSC" -w 1500 "$WS" "$W/reg3" \
	    "$W/reg3" "$W/reg3" "$W/reg3" "$W/reg3" "$W/reg3"
	assert_line "SIP/2.0 200 OK"
	run timeout 5 /usr/bin/python3 "$WSC" --protocol chat "$WS"
	assert_line --partial "HTTP/1.1 400"
	run timeout 5 /usr/bin/python3 "$WSC" --unmasked -w 2000 "$WS" "$W/reg"
	assert_line "CLOSE 1002"
	run scrape "$MG" "$W/gw.prom"
	assert_output --partial "200 "
	run promtool check metrics < "$W/gw.prom"
	echo "$output"
	assert_success
	kill -USR1 "$(child sip-tls-term)"
	wait_line "$W/gw.err" 'summary: flows '
	run prom_cmp "$W/gw.prom" "$W/gw.err" flows \
	    'ws_upgraded=sbckit_ws_upgrades_total{result:ok}' \
	    'ws_refused=sbckit_ws_upgrades_total{result:refused}' \
	    'ws_errors=sbckit_ws_errors_total' \
	    'throttled=sbckit_flows_throttled_total' \
	    'accepted=sbckit_tls_connections_total'
	echo "$output"
	assert_success
	assert_line "ok 5"
	assert_line "ws_upgraded=4"
	assert_line --regexp "^throttled=[1-9]"
	assert_line "ws_refused=1"
	assert_line "ws_errors=1"
	# bob's WSS connection is the only one open
	run grep '^sbckit_connections_open{' "$W/gw.prom"
	assert_line 'sbckit_connections_open{transport="tls"} 0'
	assert_line 'sbckit_connections_open{transport="wss"} 1'
	assert_line 'sbckit_connections_open{transport="ws"} 0'
}
