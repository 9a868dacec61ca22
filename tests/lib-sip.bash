# lib-sip.bash - shared harness of the SIP tool tests (sip-tls-term,
# sbc-gateway): a lab certificate, a random loopback address per test,
# processes under `timeout` killed by PID in teardown, the scripted peers
# and gateway started and waited for, SIP request files.
#
# Loaded with `load "$SBK_TOP/tests/lib-sip"` by tests/*.bats and
# tests/e2e/*.bats: loads bats-support and bats-assert, defines the four
# bats hooks (a file may redefine them), builds on tests/e2e/lib.bash
# (sbk_certs, sbk_freeport, sbk_wait_for, sbk_wait_port). Conventions:
#   - $D: one directory per bats file (certificates), $W: one per test;
#   - $IP: a random 127.x.y.z per test whose last byte leaves room for
#     $IP + 1 (a second address on the same /24);
#   - every process started here, or by a test, is added to PIDS (killed
#     with TERM, then waited for); KIDS are grandchildren (not ours to
#     wait for) that get TERM, and KILL after PIDS are gone.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
source "${BASH_SOURCE[0]%/*}/e2e/lib.bash"

GW=$SBK_BIN/sip-tls-term
CLI=$SBK_BUILD/tests/helpers/sip-tls-client
PEER=$SBK_BUILD/tests/helpers/sip-udp-peer
TPEER=$SBK_BUILD/tests/helpers/sip-tcp-peer
FREEPORT=$SBK_BUILD/tests/helpers/freeport

# sip_setup_file [NAME...]: a fresh $D (exported) and, for each NAME
# (default gw), a server certificate $D/NAME.pem with key $D/NAME.key,
# each signed by its own lab CA (sbk_certs).
sip_setup_file() {
	local n
	export D=$(mktemp -d \
	    "${BATS_TMPDIR:-/tmp}/sbk-${BATS_TEST_FILENAME##*/}.XXXXXX")
	[ $# -gt 0 ] || set -- gw
	for n; do
		sbk_certs "$D/pki-$n" 127.0.0.1 || return 1
		cp "$D/pki-$n/gw.pem" "$D/$n.pem"
		cp "$D/pki-$n/gw.key" "$D/$n.key"
	done
}

sip_teardown_file() {
	rm -rf "$D"
}

# sip_setup: a random $IP, an empty $W, no processes yet.
sip_setup() {
	IP=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
	W=$D/$BATS_TEST_NUMBER
	mkdir -p "$W"
	PIDS=()
	KIDS=()
}

sip_teardown() {
	local p
	for p in ${KIDS[@]+"${KIDS[@]}"} ${PIDS[@]+"${PIDS[@]}"}; do
		kill "$p" 2>/dev/null
	done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2>/dev/null; done
	for p in ${KIDS[@]+"${KIDS[@]}"}; do kill -KILL "$p" 2>/dev/null; done
	true
}

# wait_line FILE PATTERN: until a line matches (at most 10 s); on time-out
# says so and shows the file.
wait_line() {
	sbk_wait_for 10 grep -q "$2" "$1" 2>/dev/null && return 0
	echo "timed out waiting for '$2' in $1" >&2
	cat "$1" >&2
	return 1
}

# sip_peer udp|tcp SECONDS [ARGS]: the scripted inside peer
# (tests/helpers/sip-udp-peer, or sip-tcp-peer, which answers on UDP on
# the same port too) on $IP and a free port, answering for SECONDS; output
# in $W/peer.out. Sets UP (ADDR:PORT).
sip_peer() {
	local prog=$PEER secs=$2
	[ "$1" = tcp ] && prog=$TPEER
	shift 2
	timeout $((secs + 5)) "$prog" -l "$IP:0" -w $((secs * 1000)) "$@" \
	    > "$W/peer.out" &
	PIDS+=($!)
	wait_line "$W/peer.out" '^bound ' || return 1
	UP=$(sed -n 's/^bound //p' "$W/peer.out")
}

# sip_gw SECONDS [ARGS]: sip-tls-term for at most SECONDS, TLS and inside
# UDP on $IP and free ports, certificate $D/gw.pem, -vv (or
# $SIP_GW_VERBOSE, which may be empty: floods log a debug line per
# message); output in
# $W/gw.out (its --print-addresses lines) and $W/gw.err. Waits until it
# listens; sets L (TLS), IN (inside UDP) and INT (inside TCP, when it
# listens on TCP).
sip_gw() {
	local secs=$1 v=(-vv); shift
	[ -z "${SIP_GW_VERBOSE+set}" ] || read -r -a v <<< "$SIP_GW_VERBOSE"
	timeout -k 5 "$secs" "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -i "$IP:0" --print-addresses ${v[@]+"${v[@]}"} "$@" \
	    > "$W/gw.out" 2> "$W/gw.err" &
	PIDS+=($!)
	wait_line "$W/gw.out" '^inside udp ' || return 1
	L=$(sed -n 's/^listening tls //p' "$W/gw.out")
	IN=$(sed -n 's/^inside udp //p' "$W/gw.out")
	INT=$(sed -n 's/^inside tcp //p' "$W/gw.out")
}

# sip_bridge SECONDS NG OUTSIDE INSIDE [ARGS]: srtp-bridge for at most
# SECONDS as an ng daemon on NG (ADDR:PORT), output (stderr, and the
# --print-addresses lines) in $W/bridge.log; waits until the ng port is
# bound.
sip_bridge() {
	local secs=$1 ng=$2 out=$3 in=$4; shift 4
	timeout -k 5 "$secs" "$SBK_BIN/srtp-bridge" --ng "$ng" --outside "$out" \
	    --inside "$in" --print-addresses "$@" > "$W/bridge.log" 2>&1 &
	PIDS+=($!)
	sbk_wait_port udp "${ng%:*}" "${ng##*:}" 10
}

# mk FILE: headers on stdin, a blank line, a body; CRLFs and
# Content-Length added.
mk() {
	local line hdr="" body="" inbody=0
	while IFS= read -r line; do
		if [ $inbody = 0 ] && [ -z "$line" ]; then inbody=1; continue; fi
		if [ $inbody = 0 ]; then hdr+="$line"$'\r\n'
		else body+="$line"$'\r\n'; fi
	done
	printf '%sContent-Length: %d\r\n\r\n%s' "$hdr" "${#body}" "$body" > "$1"
}

# alice_offer R-URI MAX-FORWARDS BRANCH CALL-ID M-PROTO-FMTS: Alice's
# INVITE over TLS to Bob, its SDP offer up to the m= line.
alice_offer() {
	cat <<EOF
INVITE $1 SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bK$3;rport
Max-Forwards: $2
From: <sip:alice@gw.test>;tag=a1
To: <sip:bob@gw.test>
Call-ID: $4@alice
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.10:5061;transport=tls>
Content-Type: application/sdp

v=0
o=- 1 1 IN IP4 127.0.0.10
s=-
c=IN IP4 127.0.0.10
t=0 0
m=audio 10000 $5
EOF
}

# invite FILE [MAX-FORWARDS] [R-URI] [SDP-LINE]: Alice's INVITE with a
# plain RTP offer (PCMU), SDP-LINE added to its end.
invite() {
	{
	alice_offer "${3:-sip:bob@$IP;transport=tls}" "${2:-70}" inv1 \
	    "call-$RANDOM" "RTP/AVP 0"
	[ -z "${4:-}" ] || printf '%s\n' "$4"
	} | mk "$1"
}

# sdes_invite FILE [TELEPHONE-EVENT-PT]: Alice's INVITE offering PCMU over
# SRTP (SDES, AES_CM_128_HMAC_SHA1_80), and telephone-event on that
# payload type if one is given.
sdes_invite() {
	local te=${2:-}
	{
	alice_offer "sip:bob@$IP" 70 srtp1 "srtp-$RANDOM" \
	    "RTP/SAVP 0${te:+ $te}"
	echo "a=rtpmap:0 PCMU/8000"
	[ -z "$te" ] || echo "a=rtpmap:$te telephone-event/8000"
	echo "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	echo "a=sendrecv"
	} | mk "$1"
}

# bob_invite FILE R-URI TO BRANCH CALL-ID [tcp]: Bob's INVITE from the
# inside ($IP:5099, over UDP, or TCP), without a body.
bob_invite() {
	local via=UDP ct=""
	[ "${6:-}" = tcp ] && via=TCP ct=";transport=tcp"
	mk "$1" <<EOF
INVITE $2 SIP/2.0
Via: SIP/2.0/$via $IP:5099;branch=z9hG4bK$4;rport
Max-Forwards: 70
From: <sip:bob@$IP>;tag=b1
To: <$3>
Call-ID: $5@bob
CSeq: 1 INVITE
Contact: <sip:bob@$IP:5099$ct>

EOF
}

# options FILE N: Alice's OPTIONS to Bob, CSeq N.
options() {
	mk "$1" <<EOF
OPTIONS sip:bob@$IP SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKopt$2
Max-Forwards: 70
From: <sip:alice@gw.test>;tag=o$2
To: <sip:bob@gw.test>
Call-ID: opt-$2@alice
CSeq: $2 OPTIONS

EOF
}

# register FILE [EXPIRES] [SUPPORTED]: Alice's REGISTER over TLS (Contact
# alice-0x55d1@127.0.0.10:5061), with a Supported header if one is given.
register() {
	{
	cat <<EOF
REGISTER sip:gw.test;transport=tls SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKreg$RANDOM;rport
Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=${2:-300}
Max-Forwards: 70
To: <sip:alice@gw.test;transport=tls>
From: <sip:alice@gw.test;transport=tls>;tag=r1
Call-ID: reg-$RANDOM@alice
CSeq: 1 REGISTER
EOF
	[ -z "${3:-}" ] || echo "Supported: $3"
	echo
	} | mk "$1"
}

# The bats hooks, unless a file defines its own (after loading this one).
setup_file() { sip_setup_file; }
teardown_file() { sip_teardown_file; }
setup() { sip_setup; }
teardown() { sip_teardown; }
