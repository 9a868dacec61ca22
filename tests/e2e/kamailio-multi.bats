#!/usr/bin/env bats
# kamailio-multi.bats - examples/kamailio/kamailio.cfg as shipped: Kamailio
# (TLS outside, UDP inside, registrar) drives a set of two srtp-bridge
# relays through its rtpengine module. Real phones (baresip Alice over TLS
# with mandatory SRTP, Bob over UDP) place calls until both relays have
# carried one (srtp-bridge's own ng statistics), then one relay dies (or
# hangs) and the next calls must still set up, through the other one.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

CFG=$SBK_TOP/examples/kamailio/kamailio.cfg

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	source "$SBK_TOP/tests/e2e/lib-kamailio.bash"
	[ -x "$SBK_BIN/srtp-bridge" ] || skip "srtp-bridge not built"
	sbk_have baresip sox kamailio kamcmd ||
	    skip "needs baresip, sox, kamailio, kamcmd"
	[ -f "$KAMAILIO_MODULES/tls.so" ] ||
	    skip "kamailio-tls-modules not installed"
	sbk_e2e_init "kamailio-multi-$BATS_TEST_NUMBER"
}

teardown() {
	sbk_e2e_cleanup
}

# lab WA WB: relays ra and rb (weights WA and WB), Kamailio with the
# example config, both phones registered.
lab() {
	EXT=$E2E_NET.1 INT=$E2E_NET.2
	sbk_certs "$E2E_DIR/pki" "$EXT" && sbk_lab_tones &&
	relay ra "$E2E_NET.3" "$E2E_NET.4" &&
	relay rb "$E2E_NET.5" "$E2E_NET.6" &&
	kamailio_example "udp:$RA=$1 udp:$RB=$2" &&
	sbk_lab_phones "$EXT:$KAM_TLS" "$INT:$KAM_UDP"
}

# relay NAME OUTSIDE INSIDE: an srtp-bridge ng daemon, ng on INSIDE and a
# free port; sets the upper-cased NAME (RA, RB) to ADDR:PORT of its ng.
relay() {
	local name=$1 out=$2 in=$3 port base
	port=$(sbk_freeport "$in") || return 1
	base=$((30000 + (RANDOM % 300) * 100))
	sbk_spawn "$name" "$SBK_BIN/srtp-bridge" --ng "$in:$port" \
	    --outside "$out" --inside "$in" --port-min $base \
	    --port-max $((base + 99)) --keylog "$E2E_DIR/$name.keys" -v
	sbk_wait_port udp "$in" "$port" 10 || return 1
	printf -v "${name^^}" '%s' "$in:$port"
}

# kamailio_example RELAYS: the example config, unedited, with the lab's
# values given as defines on the command line. Sets KAM_TLS, KAM_UDP.
kamailio_example() {
	local d=$E2E_DIR/kamailio
	local -a defs
	mkdir -p "$d"
	KAM_TLS=$(sbk_freeport "$EXT") || return 1
	KAM_UDP=$(sbk_freeport "$INT") || return 1
	defs=(-A "EXT_ADDR=$EXT" -A "TLS_PORT=$KAM_TLS" -A "INT_ADDR=$INT"
	    -A "UDP_PORT=$KAM_UDP" -A "TLS_CERT=\"$E2E_DIR/pki/gw.pem\""
	    -A "TLS_KEY=\"$E2E_DIR/pki/gw.key\"" -A "RELAYS=\"$1\""
	    -A "RELAY_TIMEOUT_MS=300" -A "RELAY_TRIES=2"
	    -A "MODULES=\"$KAMAILIO_MODULES\""
	    -A "CTL_SOCK=\"unix:$d/ctl\"")
	printf '%q ' "${defs[@]}" > "$d/defines"
	kamailio -c -f "$CFG" "${defs[@]}" > "$d/check.log" 2>&1 ||
	    { sbk_fail "kamailio config: see $d/check.log"; return 1; }
	sbk_spawn kamailio kamailio -DD -E -f "$CFG" "${defs[@]}" -Y "$d" \
	    -P "$d/kamailio.pid" -m 64 -M 16
	sbk_wait_port tcp "$EXT" "$KAM_TLS" 15 &&
	    sbk_wait_port udp "$INT" "$KAM_UDP" 5
}

# sessions ADDR:PORT: calls the relay has managed since it started.
sessions() {
	sbk_ng "${1%:*}" "${1##*:}" statistics |
	    sed -n 's/.*"managedsessions": \([0-9]*\).*/\1/p'
}

# relay_state NODE: what Kamailio thinks of relay NODE (ADDR:PORT).
relay_state() {
	kamcmd -s "unix:$E2E_DIR/kamailio/ctl" rtpengine.show all 2>&1 |
	    grep -A4 "udp:$1"
}

# calls_until MAX CMD...: Alice calls Bob (no audio wait) until CMD
# succeeds; at most MAX calls. Every call must set up and end.
calls_until() {
	local max=$1 n; shift
	for ((n = 1; n <= max; n++)); do
		sbk_call alice bob "$BOB_FROM_ALICE" 0 || return 1
		sbk_log "call $n: set up in $E2E_SETUP_MS ms (${SECONDS}s)"
		"$@" && { sbk_log "after $n call(s)"; return 0; }
	done
	sbk_fail "not after $max calls: $*"
}

both_used() { [ "$(sessions "$RA")" -ge 1 ] && [ "$(sessions "$RB")" -ge 1 ]; }
# Kamailio's rtpengine module logs a relay it could not reach.
ra_tried() { grep "send_rtpp_command().*$RA" "$E2E_DIR/kamailio.log"; }

# failover_to_rb: relay ra is out; calls whose hash picks it fail there
# (no answer, or port unreachable), go to rb instead, and Kamailio leaves
# ra out from then on. A last call carries audio both ways through rb.
failover_to_rb() {
	local before
	before=$(sessions "$RB")
	calls_until 16 ra_tried
	sbk_call alice bob "$BOB_FROM_ALICE" 2
	sbk_heard alice 1000
	sbk_heard bob 440
	[ "$(sessions "$RB")" -gt "$before" ] ||
	    { sbk_fail "rb carried no new call"; return 1; }
	run relay_state "$RA"
	sbk_log "$output"
	assert_output --partial "disabled: 1"
}

@test "kamailio example: calls spread over two srtp-bridge relays; one hangs, calls go to the other" {
	lab 1 1
	# A call lands on one relay by a hash of its random Call-ID (equal
	# weights here): 16 calls all on one relay has odds 2^-15.
	calls_until 16 both_used
	sbk_log "sessions: ra $(sessions "$RA"), rb $(sessions "$RB")"
	# A hung relay (a host gone without a word): Kamailio's requests
	# time out (RELAY_TIMEOUT_MS x RELAY_TRIES) before it moves on.
	sbk_signal ra STOP
	failover_to_rb
	# The relay comes back; the operator puts it back in the set at once
	# instead of waiting RELAY_DISABLE seconds (Kamailio pings it first).
	sbk_signal ra CONT
	kamcmd -s "unix:$E2E_DIR/kamailio/ctl" rtpengine.enable "udp:$RA" 1
	run relay_state "$RA"
	assert_output --partial "disabled: 0"
}

@test "kamailio example: weights; a relay killed: calls go to the other" {
	# ra takes 100 shares, rb 1: almost every call hashes to ra, so the
	# first call after the kill finds it dead (ICMP port unreachable).
	lab 100 1
	calls_until 4 eval '[ "$(sessions "$RA")" -ge 1 ]'
	sbk_signal ra KILL
	failover_to_rb
}
