#!/usr/bin/env bats
# attack-calls.bats - legit calls during each attack of issue 18: a TLS
# handshake flood, an INVITE flood, 10,000 slow connections from other
# addresses, a registration brute force from many addresses. The gateway
# is the built-in registrar with --auth and its default limits; during
# each attack 20 legit calls are made one after another by a real digest
# client (tests/helpers/sip-digest-client.py: the callee registers, the
# caller's INVITE is challenged, answered, 200, ACK, BYE). The figure to
# reach is >= 99% of them: all 20.

load "$SBK_TOP/tests/lib-sip"

FLOOD=$SBK_TOP/tests/helpers/conn-flood.py
DC=$SBK_TOP/tests/helpers/sip-digest-client.py
CALLS=20

setup_file() {
	sip_setup_file
	python3 - > "$D/creds" <<'EOF2'
import hashlib
for u, p in (("alice", "alice-secret"), ("bob", "bob-secret")):
    for f in (hashlib.sha256, hashlib.md5):
        print("%s:lab:%s" % (u, f(("%s:lab:%s" % (u, p)).encode()).hexdigest()))
EOF2
}

setup() {
	sip_setup
	command -v python3 > /dev/null || skip "needs python3"
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	NOFILE=$(ulimit -n)
	[ "$NOFILE" = unlimited ] && NOFILE=65536
	# the attackers' /16 and the legit clients' /24: apart
	PFX=127.$((RANDOM % 50 + 200))
	C=127.$((RANDOM % 150 + 20)).$((RANDOM % 250)).
}

# gw ARGS: the registrar with --auth and otherwise default limits; sets
# L and GWPID (sip-tls-term itself, under its `timeout`).
gw() {
	sip_gw 900 --registrar --auth "$D/creds" --auth-realm lab "$@" ||
	    return 1
	GWPID=$(pgrep -P "${PIDS[-1]}" sip-tls-term)
	[ -n "$GWPID" ]
}

# flood SECONDS IDLE SLOW FAT PER HS INV: conn-flood.py in the background
# (output $W/flood.out); waits until its first round is open. SECONDS is
# only its bound: stop() ends it once the calls are done.
flood() {
	timeout -k 2 $(($1 + 30)) python3 "$FLOOD" "${L%:*}" "${L##*:}" \
	    "$PFX" "$2" "$3" "$4" "$1" "$5" "$6" "$7" \
	    > "$W/flood.out" 2> "$W/flood.err" &
	FLOODPID=$!
	PIDS+=($FLOODPID)
	sbk_wait_for 60 grep -q '^ready' "$W/flood.out"
}

# calls: CALLS legit calls, one after another, each from its own pair of
# addresses; sets OK to the number that completed.
calls() {
	local i out t0=$SECONDS
	OK=0
	for i in $(seq "$CALLS"); do
		out=$(timeout 30 python3 "$DC" "$L" "$C$((i * 2))" call \
		    bob bob-secret alice alice-secret 2>&1)
		if [ "$out" = "$(printf 'callee 200\ninvite 407\ncallee INVITE\ninvite 200\nbye 200')" ]
		then OK=$((OK + 1))
		else echo "# call $i: $(echo $out)" >&3
		fi
	done
	echo "# legit calls during the attack: $OK of $CALLS" \
	    "in $((SECONDS - t0)) s" >&3
}

# stop: the flood, then the gateway (its summary in $W/gw.err); SUM is
# the flows summary line.
stop() {
	kill "$FLOODPID" 2>/dev/null || true
	wait "$FLOODPID" 2>/dev/null || true
	[ ! -f "$W/flood.out" ] || sed 's/^/# flood: /' "$W/flood.out" >&3
	[ ! -s "$W/flood.err" ] || tail -3 "$W/flood.err" | sed 's/^/# flood: /' >&3
	kill -TERM "$GWPID"
	wait "${PIDS[0]}" 2>/dev/null || true
	SUM=$(grep 'summary: flows ' "$W/gw.err")
}

@test "attack-calls: all legit calls complete during a TLS handshake flood" {
	gw
	# 100 clients handshaking back to back, from 50 addresses
	flood 600 0 0 0 2 100 0
	calls
	stop
	[ "$OK" -eq "$CALLS" ]
	# the flood really ran: thousands of handshakes
	hs=$(awk '$1 == "hs" { print $3 }' "$W/flood.out")
	echo "# handshakes completed by the flood: $hs" >&3
	[ "${hs:-0}" -gt 500 ]
}

@test "attack-calls: all legit calls complete during an INVITE flood from two connections" {
	# the default level, not a debug line for each of millions of INVITEs
	SIP_GW_VERBOSE= gw
	flood 600 0 0 0 1 0 2
	calls
	stop
	[ "$OK" -eq "$CALLS" ]
	sent=$(awk '$1 == "inv" { print $NF }' "$W/flood.out")
	echo "# INVITEs sent by the flood: $sent" >&3
	[ "${sent:-0}" -gt 2000 ]
	# the per-source cap refused some, and stopped reading the flooding
	# connections until their next token: the rest waited in TCP
	rated=$(sed -n 's/.* refused_rate=\([0-9]*\).*/\1/p' "$W/gw.err")
	thr=$(sed -n 's/.* throttled=\([0-9]*\).*/\1/p' "$W/gw.err")
	echo "# INVITEs refused by the per-source rate: $rated;" \
	    "flows throttled: $thr times" >&3
	[ "${rated:-0}" -gt 100 ]
	[ "${thr:-0}" -gt 100 ]
	grep -q "requests from $PFX\.0\.1:[0-9]* over the per-source rate" "$W/gw.err"
	# a few lines, not one per INVITE refused
	echo "# the gateway's log: $(wc -l < "$W/gw.err") lines" >&3
	[ "$(wc -l < "$W/gw.err")" -lt 300 ]
}

@test "attack-calls: all legit calls complete beside 10,000 slow connections from 500 addresses" {
	[ "$NOFILE" -ge 10500 ] || skip "needs 10500 descriptors (ulimit -n)"
	gw
	# 8000 that never handshake, 2000 TLS ones trickling a byte a
	# second, 20 an address (under the per-address limit of 32)
	flood 600 8000 2000 0 20 0 0
	calls
	stop
	[ "$OK" -eq "$CALLS" ]
	idle=$(awk '$1 == "idle" { print $3 }' "$W/flood.out")
	[ "${idle:-0}" -ge 8000 ]
}

@test "attack-calls: all legit calls complete during a registration brute force from 20 addresses" {
	gw --ban-fails 10 --ban-window 60 --ban-time 600
	local i
	for i in $(seq 20); do
		timeout 90 python3 "$DC" "$L" "$PFX.0.$i" brute alice 200 \
		    > "$W/brute$i.out" 2>&1 &
		PIDS+=($!)
	done
	sleep 1
	calls
	# every brute-forcing source ended banned: its connection closed
	for i in $(seq 20); do
		wait "${PIDS[$i]}" 2>/dev/null || true
		grep -q CLOSED "$W/brute$i.out" || fail "source $i not banned"
	done
	FLOODPID=${PIDS[1]}
	stop
	[ "$OK" -eq "$CALLS" ]
	[ "$(grep -c 'banned for 600 s after repeated authentication failures' "$W/gw.err")" -eq 20 ]
}
