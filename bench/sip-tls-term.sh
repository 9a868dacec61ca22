#!/bin/bash
# sip-tls-term.sh - complete calls per second through the gateway and
# memory per idle TLS connection, against baselines in the same run:
# sip-tls-term with OpenSSL's default buffers (--no-release-buffers) and,
# when installed, Kamailio with its tls module on the same load.
#
#   SBK_BUILD=build bench/sip-tls-term.sh [CLIENTS] [SECONDS] [IDLE_CONNS]
#
# Defaults: 100 TLS clients running calls back to back (INVITE, 100, 180,
# 200, ACK, BYE, 200) for 10 s through the gateway to a UDP responder
# (tests/helpers/sip-udp-peer); 10000 idle TLS connections for memory
# (RSS of the gateway process(es) after minus before, divided by N;
# Kamailio: the sum of Pss over its processes). KAMAILIO=0 skips Kamailio.
set -u
B=${SBK_BUILD:-build}
BENCH=$B/bench/sip-tls-term
GW=$B/bin/sip-tls-term
PEER=$B/tests/helpers/sip-udp-peer
CLIENTS=${1:-100}
SECS=${2:-10}
IDLE=${3:-10000}
for f in "$BENCH" "$GW" "$PEER"; do
	[ -x "$f" ] || { echo "sip-tls-term.sh: $f not built (make tests)" >&2; exit 1; }
done
IP=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
D=$(mktemp -d "${TMPDIR:-/tmp}/sbk-bench-stt.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# KEEP=1: leave the run's files (logs, Kamailio's config) to read
	if [ "${KEEP:-0}" = 1 ]; then echo "# files kept in $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$D/gw.key" -out "$D/gw.pem" -subj /CN=gw.bench -days 2 2>/dev/null

wait_file() {
	local i
	for i in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "sip-tls-term.sh: timed out waiting for '$2' in $1" >&2
	return 1
}

timeout -k 2 900 "$PEER" -l "$IP:0" -w 900000 > "$D/peer.out" 2>/dev/null &
PIDS+=($!)
wait_file "$D/peer.out" '^bound ' || exit 1
UP=$(sed -n 's/^bound //p' "$D/peer.out" | head -1)
# The responder logs every message; it writes to a file we truncate.
: > "$D/peer.out"

# desc PID: PID's descendants (not PID itself: that is `timeout`)
desc() {
	local c
	for c in $(pgrep -P "$1"); do echo "$c"; desc "$c"; done
}
rss_kib() {
	local p s=0 v
	for p in $(desc "$1"); do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
# pss_kib PID...: the sum of Pss (shared pages split fairly) over PIDs
pss_kib() {
	local p s=0 v
	for p; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

# cpu_ticks PID...: user + system clock ticks used by PIDs so far
cpu_ticks() {
	local p s=0 v
	for p; do
		v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}

# run_calls ADDR:PORT PID...: sets cps (calls/s, wall clock: moves with
# the machine's load) and us_call (CPU µs the PIDs spent per call: steadier)
run_calls() {
	local addr=$1 t0 t1 out calls
	shift
	t0=$(cpu_ticks "$@")
	out=$(timeout -k 2 $((SECS + 120)) "$BENCH" "${WSMODE:-}calls" "$addr" "$CLIENTS" "$SECS")
	t1=$(cpu_ticks "$@")
	cps=$(echo "$out" | sed -n 's/.* cps \([0-9]*\)$/\1/p')
	calls=$(echo "$out" | sed -n 's/^calls \([0-9]*\) .*/\1/p')
	us_call=$(awk -v a="$t0" -v b="$t1" -v n="${calls:-0}" -v hz="$HZ" \
	    'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1e6 / hz / n; else print "n/a" }')
}
HZ=$(getconf CLK_TCK)

# run_idle ADDR:PORT MEASURE-CMD: KiB per idle connection
run_idle() {
	local addr=$1 before after
	shift
	before=$("$@")
	exec 7> >(exec timeout -k 2 600 "$BENCH" "${WSMODE:-}idle" "$addr" "$IDLE" > "$D/idle.out")
	local ip=$!
	if ! wait_file "$D/idle.out" '^ready' 2>/dev/null; then
		for _ in $(seq 600); do grep -q '^ready' "$D/idle.out" && break; sleep 0.1; done
	fi
	sleep 1
	after=$("$@")
	exec 7>&-
	wait "$ip" 2>/dev/null
	awk -v a="$after" -v b="$before" -v n="$IDLE" \
	    'BEGIN { printf "%.1f", (a - b) / n }'
}

# ours LABEL ARGS: calls/s and KiB/connection for one configuration. The
# clients all come from one address and idle connections never speak: the
# edge's per-address, first-message and rate limits are off.
ours() {
	local label=$1 pid l lk
	shift
	timeout -k 2 900 "$GW" -l "$IP:0" -c "$D/gw.pem" -k "$D/gw.key" \
	    -u "udp:$UP" -i "$IP:0" -q --max-conns $((IDLE + 100)) \
	    --handshake-timeout 120000 --max-per-ip 0 \
	    --first-message-timeout 0 --rate 0 --print-addresses "$@" \
	    > "$D/gw.out" 2>&1 &
	pid=$!
	PIDS+=($pid)
	wait_file "$D/gw.out" '^inside udp ' || return 1
	lk=tls
	[ -n "${WSMODE:-}" ] && lk=wss
	l=$(sed -n "s/^listening $lk //p" "$D/gw.out")
	run_calls "$l" $(desc "$pid")
	: > "$D/peer.out"
	kib=$(run_idle "$l" rss_kib "$pid")
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
	printf '%-44s %6s calls/s %6s CPU-us/call %6s KiB/idle conn\n' \
	    "$label" "$cps" "$us_call" "$kib"
}

echo "# sip-tls-term: $CLIENTS TLS clients x ${SECS}s of calls; $IDLE idle TLS connections"
ours "sip-tls-term (RELEASE_BUFFERS, default)"
C1=$cps U1=$us_call K1=$kib
ours "sip-tls-term --no-release-buffers (baseline)" --no-release-buffers
C2=$cps U2=$us_call K2=$kib
# ratio NAME C U K: ours (C1 U1 K1) against a baseline; > 1 means ours is
# better (more calls/s, fewer CPU-us per call, fewer KiB per connection)
ratio() {
	awk -v n="$1" -v c1="$C1" -v c2="$2" -v u1="$U1" -v u2="$3" \
	    -v k1="$K1" -v k2="$4" 'BEGIN {
		printf "ratio vs %s: calls/s %.2fx, CPU per call %.2fx less, memory/conn %.2fx less\n",
		    n, (c2 > 0 ? c1 / c2 : 0), (u1 > 0 ? u2 / u1 : 0),
		    (k1 > 0 && k2 > 0 ? k2 / k1 : 0) }'
}
ratio "OpenSSL default buffers" "$C2" "$U2" "$K2"
# The same gateway and loads over secure WebSocket (RFC 7118): the
# framing's cost, TLS against WSS.
WSMODE=ws ours "sip-tls-term, SIP over WSS" --listen-wss "$IP:0"
WKIB=$kib
awk -v c1="$C1" -v c2="$cps" -v u1="$U1" -v u2="$us_call" -v k1="$K1" \
    -v k2="$kib" 'BEGIN {
	printf "ratio WSS vs TLS: calls/s %.2fx, CPU per call %.2fx, memory/conn %.2fx\n",
	    (c1 > 0 ? c2 / c1 : 0), (u1 > 0 ? u2 / u1 : 0), (k1 > 0 ? k2 / k1 : 0) }'

# Kamailio with its tls module, the same loads (a stateful proxy with
# Record-Route, relaying to the same UDP responder).
if [ "${KAMAILIO:-1}" != 0 ] && command -v kamailio >/dev/null &&
    [ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ]; then
	KP=$((20000 + RANDOM % 20000))
	mkdir -p "$D/kam"
	cat > "$D/kam/tls.cfg" <<EOF
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
certificate = $D/gw.pem
private_key = $D/gw.key
EOF
	cat > "$D/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=0
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
enable_tls=yes
tcp_max_connections=$((IDLE + 1000))
tls_max_connections=$((IDLE + 1000))
tcp_connection_lifetime=3600
open_files_limit=$((IDLE + 3000))
listen=udp:$IP:$KP
listen=tls:$IP:$((KP + 1))
listen=tls:$IP:$((KP + 2))
tcp_accept_no_cl=yes
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules"
loadmodule "tls.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
modparam("tls", "config", "$D/kam/tls.cfg")
modparam("websocket", "keepalive_mechanism", 0)
# SIP over WSS on the second TLS port (websocket module, RFC 7118)
event_route[xhttp:request] {
	set_reply_close();
	set_reply_no_connect();
	if (\$Rp == $((KP + 2)) && \$hdr(Upgrade) =~ "websocket" &&
	    \$hdr(Connection) =~ "Upgrade" && \$rm =~ "GET") {
		if (ws_handle_handshake())
			exit;
	}
	xhttp_reply("404", "Not Found", "", "");
}
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		loose_route();
		\$du = "sip:$UP";
		t_relay();
		exit;
	}
	record_route();
	\$du = "sip:$UP";
	t_relay();
}
EOF
	if kamailio -c -f "$D/kam/kamailio.cfg" > "$D/kam/check.log" 2>&1; then
		timeout -k 2 900 kamailio -DD -E -f "$D/kam/kamailio.cfg" \
		    -Y "$D/kam" -P "$D/kam/pid" -m 2048 -M 64 \
		    > "$D/kam/log" 2>&1 &
		kpid=$!
		PIDS+=($kpid)
		sleep 2
		kall() { pss_kib $(desc "$kpid"); }
		run_calls "$IP:$((KP + 1))" $(desc "$kpid")
		: > "$D/peer.out"
		kib=$(run_idle "$IP:$((KP + 1))" kall)
		kkib=$kib
		printf '%-44s %6s calls/s %6s CPU-us/call %6s KiB/idle conn\n' \
		    "kamailio 5.6 + tls (reference)" "$cps" "$us_call" "$kib"
		ratio "kamailio+tls" "$cps" "$us_call" "$kib"
		# idle WSS connections, Kamailio's websocket module
		: > "$D/idle.out"
		kwkib=$(WSMODE=ws run_idle "$IP:$((KP + 2))" kall)
		kill -TERM "$kpid"; wait "$kpid" 2>/dev/null
		printf '%-44s %6s KiB/idle conn\n' \
		    "kamailio 5.6 + websocket (reference)" "$kwkib"
		awk -v o="$WKIB" -v k="$kwkib" 'BEGIN {
			if (o > 0 && k > 0)
				printf "ratio idle WSS memory/conn, sip-tls-term vs kamailio+websocket: %.2fx less\n", k / o }'
	else
		echo "kamailio+tls: config check failed (skipped)"
		sed 's/^/#   /' "$D/kam/check.log" | tail -5
	fi
else
	echo "kamailio+tls: not installed (skipped)"
fi
