#!/usr/bin/env bats
# attack-auth.bats - "anyone can be anyone" (issue 18): sip-tls-term
# --registrar --auth against a real TLS client that computes its digest
# itself (tests/helpers/sip-digest-client.py, python3 hashlib): challenges,
# stale nonces, replays, bindings only their owner may change, and a
# brute force that gets its source banned while a legit client from
# another loopback address registers and calls.

load "$SBK_TOP/tests/lib-sip"

DC=$SBK_TOP/tests/helpers/sip-digest-client.py

setup_file() {
	sip_setup_file
	# user:realm:HA1, SHA-256 and MD5 lines, computed here.
	python3 - > "$D/creds" <<'EOF'
import hashlib
for u, p in (("alice", "alice-secret"), ("bob", "bob-secret")):
    for f in (hashlib.sha256, hashlib.md5):
        print("%s:lab:%s" % (u, f(("%s:lab:%s" % (u, p)).encode()).hexdigest()))
EOF
}

# Client source addresses: a /24 of their own, away from the gateway's.
setup() {
	sip_setup
	C=127.$((RANDOM % 200 + 20)).$((RANDOM % 250)).
}

# start_gw ARGS: the gateway with the built-in registrar and --auth.
start_gw() {
	sip_gw 40 --registrar --auth "$D/creds" --auth-realm lab "$@"
}

dc() { timeout 30 python3 "$DC" "$L" "$@"; }

# sig SIGNAL: to the gateway itself (PIDS[0] is its `timeout`, which
# would die of USR1 and KILL the gateway 5 s after a HUP).
sig() { kill -"$1" "$(pgrep -P "${PIDS[0]}")"; }

@test "attack-auth: a REGISTER without credentials gets 401 with SHA-256 and MD5 challenges" {
	start_gw
	run dc "${C}10" reg alice -
	assert_output "401"
	# The challenge itself, as the client sees it.
	printf 'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKa1\r\nFrom: <sip:alice@lab>;tag=1\r\nTo: <sip:alice@lab>\r\nCall-ID: c1@t\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5099;transport=tls>\r\nContent-Length: 0\r\n\r\n' \
	    "${L%:*}" > "$W/reg"
	run timeout 10 "$CLI" -w 1500 -c 1 "$L" "$W/reg"
	assert_output --partial "SIP/2.0 401"
	assert_output --regexp 'WWW-Authenticate: Digest realm="lab", qop="auth", algorithm=SHA-256, nonce="[^"]+"'
	assert_output --regexp 'WWW-Authenticate: Digest realm="lab", qop="auth", algorithm=MD5, nonce="[^"]+"'
}

@test "attack-auth: a correct digest registers (SHA-256 and MD5); a wrong one is challenged again" {
	start_gw
	run dc "${C}10" reg alice alice-secret
	assert_line --index 0 "401"
	assert_line --index 1 "200"
	assert_line --index 2 "contacts 1"
	run dc "${C}10" reg alice alice-secret alice "" 3600 MD5
	assert_line --index 1 "200"
	assert_line --index 2 "contacts 2"
	run dc "${C}10" reg alice wrong-password
	assert_output "$(printf '401\n401')"
	run dc "${C}10" reg mallory whatever
	assert_output "$(printf '401\n401')"
	grep -q "authentication failed from ${C}10 as alice: bad response" "$W/gw.err"
}

@test "attack-auth: an old nonce gets stale=true, then the fresh one works" {
	start_gw --auth-nonce-life 1
	run dc "${C}10" stale alice alice-secret 2.5
	assert_output "$(printf '401\n401\nstale\n200')"
	# Stale is no failure: nothing counted.
	run grep -c "authentication failed" "$W/gw.err"
	assert_output "0"
}

@test "attack-auth: the same credentials on a new transaction are a replay" {
	start_gw
	run dc "${C}10" replay alice alice-secret
	assert_output "$(printf '200\n401')"
	grep -q "as alice: replay" "$W/gw.err"
}

@test "attack-auth: bob can neither register as alice nor remove her bindings" {
	start_gw
	run dc "${C}10" reg alice alice-secret
	assert_line --index 1 "200"
	run dc "${C}11" reg alice alice-secret
	assert_line --index 2 "contacts 2"
	# bob, authenticated as bob, for alice's address: 403.
	run dc "${C}20" reg bob bob-secret alice
	assert_output "$(printf '401\n403')"
	run dc "${C}20" reg bob bob-secret alice '*' 0
	assert_output "$(printf '401\n403')"
	# bob's own: registered, then all of them removed with Contact: *.
	run dc "${C}20" reg bob bob-secret bob
	assert_line --index 2 "contacts 1"
	run dc "${C}20" reg bob bob-secret bob '*' 0
	assert_output "$(printf '401\n200\ncontacts 0')"
	# alice's two bindings are still there (and a third joins them).
	run dc "${C}10" reg alice alice-secret
	assert_line --index 2 "contacts 3"
	grep -q "REGISTER for another's address by bob: 403" "$W/gw.err"
}

@test "attack-auth: a legit call: INVITE 407, then 200, ACK, BYE; credentials not relayed" {
	start_gw
	run dc "${C}30" call alice alice-secret bob bob-secret
	assert_output "$(printf 'callee 200\ninvite 407\ncallee INVITE\ninvite 200\nbye 200')"
}

@test "attack-auth: a brute force is banned (connection closed, new ones refused) while another address registers and calls" {
	start_gw --ban-fails 5 --ban-window 60 --ban-time 4
	run dc "${C}66" brute alice 20
	# Five failures, the fifth answered, then the connection is closed.
	assert_output "$(printf '401\n401\n401\n401\n401\n401\nCLOSED')"
	run dc "${C}66" connect
	assert_output "REFUSED"
	grep -q "source ${C}66 banned for 4 s after repeated authentication failures; 1 connection closed" "$W/gw.err"
	# Meanwhile a legit client from another address.
	run dc "${C}40" call alice alice-secret bob bob-secret
	assert_output "$(printf 'callee 200\ninvite 407\ncallee INVITE\ninvite 200\nbye 200')"
	# The ban ends.
	sleep 4.5
	run dc "${C}66" connect
	assert_output "CONNECTED"
	run dc "${C}66" reg alice alice-secret
	assert_line --index 1 "200"
	# Counted in the summary (SIGUSR1).
	sig USR1
	wait_line "$W/gw.err" "summary: auth .* bans=1 banned_now=0 refused_banned=[1-9][0-9]* "
}

@test "attack-auth: the ban counts the inside's 401s to credentials (Path mode, --auth-requests off)" {
	# An inside PBX that refuses every password: 401 to each request.
	cat > "$W/pbx.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.settimeout(30)
print("bound %s:%d" % s.getsockname(), flush=True)
while True:
    d, a = s.recvfrom(65535)
    hs = d.decode(errors="replace").split("\r\n")
    keep = [h for h in hs[1:] if h.split(":")[0].lower() in
            ("via", "from", "to", "call-id", "cseq")]
    s.sendto(("SIP/2.0 401 Unauthorized\r\n" + "\r\n".join(keep) +
              "\r\nWWW-Authenticate: Digest realm=\"pbx\", nonce=\"n\"\r\n"
              "Content-Length: 0\r\n\r\n").encode(), a)
EOF
	timeout 35 python3 "$W/pbx.py" "$IP" > "$W/peer.out" &
	PIDS+=($!)
	wait_line "$W/peer.out" '^bound '
	UP=$(sed -n 's/^bound //p' "$W/peer.out")
	sip_gw 40 -u "udp:$UP" --ban-fails 3 --ban-time 30
	for i in 1 2 3 4; do
		printf 'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKb%d\r\nFrom: <sip:alice@lab>;tag=1\r\nTo: <sip:alice@lab>\r\nCall-ID: c2@t\r\nCSeq: %d REGISTER\r\nContact: <sip:alice@127.0.0.1:5099;transport=tls>\r\nAuthorization: Digest username="alice", realm="pbx", nonce="n", uri="sip:x", response="00000000000000000000000000000000", qop=auth, nc=00000001, cnonce="c"\r\nContent-Length: 0\r\n\r\n' \
		    "${L%:*}" "$i" "$i" > "$W/reg$i"
	done
	run timeout 10 "$CLI" -w 3000 "$L" "$W/reg1" "$W/reg2" "$W/reg3" "$W/reg4"
	assert_output --partial "CLOSED"
	wait_line "$W/gw.err" "banned for 30 s"
	grep -q "refused by the inside" "$W/gw.err"
}

@test "attack-auth: SIGHUP rereads the credentials file; a bad one is refused and the old kept" {
	cp "$D/creds" "$W/creds"
	sip_gw 40 --registrar --auth "$W/creds" --auth-realm lab
	run dc "${C}10" reg alice alice-secret
	assert_line --index 1 "200"
	# A file that does not parse: the old credentials stay.
	echo "broken line" >> "$W/creds"
	sig HUP
	wait_line "$W/gw.err" "old credentials kept"
	run dc "${C}10" reg alice alice-secret
	assert_line --index 1 "200"
	# Only bob now: alice is refused.
	grep '^bob:' "$D/creds" > "$W/creds"
	sig HUP
	wait_line "$W/gw.err" "reloaded: 2 entries"
	run dc "${C}10" reg alice alice-secret
	assert_output "$(printf '401\n401')"
	run dc "${C}10" reg bob bob-secret
	assert_line --index 1 "200"
}

@test "attack-auth: usage errors; a bad credentials file is refused at start" {
	run "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" --rate x
	assert_failure 2
	echo "alice:lab:nothex" > "$W/bad"
	run timeout 10 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -i "$IP:0" --registrar --auth "$W/bad"
	assert_failure 3
	assert_output --partial "auth: "
	assert_output --partial "line 1"
	run timeout 10 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -i "$IP:0" --registrar --auth "$W/missing"
	assert_failure 1
}

@test "attack-auth: sipvicious svwar finds no open extension with --auth" {
	command -v svwar > /dev/null || skip "sipvicious is not installed"
	# svwar speaks UDP only: a bridge carries its datagrams over one TLS
	# connection (and each message back as a datagram).
	cat > "$W/bridge.py" <<'EOF'
import re, socket, ssl, sys, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 0))
print("bound %s:%d" % u.getsockname(), flush=True)
host, port = sys.argv[2].rsplit(":", 1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(socket.create_connection((host, int(port)),
                    source_address=(sys.argv[1], 0)))
peer = [None]
def back():
    buf = b""
    while True:
        d = t.recv(65536)
        if not d:
            return
        buf += d
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
            n = int(m.group(2)) if m else 0
            if len(rest) < n:
                break
            if peer[0]:
                u.sendto(head + b"\r\n\r\n" + rest[:n], peer[0])
            buf = rest[n:]
threading.Thread(target=back, daemon=True).start()
u.settimeout(40)
while True:
    d, a = u.recvfrom(65535)
    peer[0] = a
    t.sendall(d)
EOF
	start_gw
	timeout 40 python3 "$W/bridge.py" "${C}50" "$L" > "$W/bridge.out" &
	PIDS+=($!)
	wait_line "$W/bridge.out" '^bound '
	B=$(sed -n 's/^bound //p' "$W/bridge.out")
	printf '%s\n' alice bob carol 100 1000 2000 > "$W/dict"
	run timeout 30 svwar -d "$W/dict" -b "${C}51" "udp://$B"
	assert_output --partial "found nothing"
	refute_output --partial "noauth"
	# Every REGISTER was challenged; none made a binding.
	sig USR1
	wait_line "$W/gw.err" "summary: auth challenges=[1-9][0-9]* ok=0 "
	run grep -c "REGISTER: .* bindings in all" "$W/gw.err"
	assert_output "0"
}

@test "attack-auth: an IPv6 /64 is one source: a ban earned from one address refuses its neighbours, not the next /64" {
	unshare --net true 2>/dev/null ||
	    skip "needs a network namespace of its own (unshare --net, as root)"
	# In a namespace of its own: four IPv6 addresses on lo, three in one
	# /64, one in another; the gateway on the first.
	run timeout 90 unshare --net env GW="$GW" DC="$DC" D="$D" W="$W" bash -c '
		ip link set lo up || exit 1
		for a in fd00:5b:1::1 fd00:5b:1::2 fd00:5b:1::3 fd00:5b:2::1; do
			ip -6 addr add "$a/64" dev lo nodad || exit 1
		done
		timeout 60 "$GW" -l "[fd00:5b:1::1]:5061" -c "$D/gw.pem" \
		    -k "$D/gw.key" -i 127.0.0.1:0 --registrar --auth "$D/creds" \
		    --auth-realm lab --ban-fails 5 --ban-window 60 \
		    --ban-time 30 2> "$W/gw6.err" &
		gw=$!
		for _ in $(seq 50); do
			ss -Hltn | grep -q "\[fd00:5b:1::1\]:5061" && break
			sleep 0.1
		done
		g="[fd00:5b:1::1]:5061"
		echo "brute: $(timeout 30 python3 "$DC" "$g" fd00:5b:1::2 brute alice 20 | tail -1)"
		echo "neighbour: $(timeout 30 python3 "$DC" "$g" fd00:5b:1::3 connect)"
		echo "other /64: $(timeout 30 python3 "$DC" "$g" fd00:5b:2::1 reg alice alice-secret | tr "\n" " ")"
		kill $gw; wait $gw
		true'
	echo "$output"
	assert_success
	assert_line "brute: CLOSED"
	assert_line "neighbour: REFUSED"
	assert_line --regexp "^other /64: 401 200 "
	run grep -c "banned for 30 s after repeated authentication failures" "$W/gw6.err"
	assert_output 1
}
