#!/bin/bash
# pcap-decrypt-tls.sh - a capture of SIP over TLS (TLS 1.3 and TLS 1.2,
# records of 500 bytes, one a segment, as sip-tls-client -s 500 -d 1
# writes them) decrypted by
# pcap-decrypt --tls-keylog into cleartext SIP (-w), against
# `tcpdump -r IN -w OUT` copying the same capture in the same run.
#
#   SBK_BUILD=build bench/pcap-decrypt-tls.sh [MESSAGES] [RUNS]
#
# The capture is made live on lo (tcpdump: needs the right to capture; the
# bench says so and stops when it has not) between openssl s_server (which
# writes the key log) and tests/helpers/sip-tls-client, then copied
# COPIES times side by side with mergecap so the run is long enough to
# time. Each program runs RUNS times, interleaved; the best run of each
# counts, per CPU second (user + system) and per wall-clock second.
set -u
B=${SBK_BUILD:-build}
PD=$B/bin/pcap-decrypt
CLI=$B/tests/helpers/sip-tls-client
N=${1:-2000}
RUNS=${2:-3}
COPIES=${COPIES:-40}
for f in "$PD" "$CLI"; do
	[ -x "$f" ] || { echo "pcap-decrypt-tls.sh: $f not built (make tests)" >&2; exit 1; }
done
for c in tcpdump openssl mergecap; do
	command -v $c >/dev/null || { echo "pcap-decrypt-tls.sh: $c not installed" >&2; exit 1; }
done
D=$(mktemp -d "${TMPDIR:-/tmp}/sbk-bench-pdtls.XXXXXX")
PIDS=()
trap 'for p in ${PIDS[@]+"${PIDS[@]}"}; do kill $p 2>/dev/null; done; rm -rf "$D"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$D/k.pem" -out "$D/c.pem" -days 1 -subj /CN=127.0.0.1 \
    >/dev/null 2>&1 || exit 1
for i in $(seq "$N"); do
	printf 'OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKb%d\r\nMax-Forwards: 70\r\nFrom: <sip:alice@bench.test>;tag=a%d\r\nTo: <sip:bob@bench.test>\r\nCall-ID: bench-%d@alice\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n' "$i" "$i" "$i" "$i"
done > "$D/msgs"

# one TLS session (ARGS for s_server) captured into $D/$1.pcap
capture() {
	local name=$1 port=$((20000 + RANDOM % 20000)) t s; shift
	timeout 120 tcpdump -i lo -U -n -w "$D/$name.pcap" "tcp port $port" \
	    2> "$D/tcpdump.err" & t=$!
	PIDS+=($t)
	for _ in $(seq 50); do grep -q "listening on" "$D/tcpdump.err" && break; sleep 0.1; done
	grep -q "listening on" "$D/tcpdump.err" ||
	    { echo "pcap-decrypt-tls.sh: tcpdump cannot capture on lo" >&2; exit 1; }
	# its stdin stays open (s_server ends a connection when it ends)
	rm -f "$D/fifo"; mkfifo "$D/fifo"
	timeout 60 openssl s_server -accept "127.0.0.1:$port" \
	    -cert "$D/c.pem" -key "$D/k.pem" -quiet -keylogfile "$D/keys" \
	    "$@" < "$D/fifo" > /dev/null 2>&1 & s=$!
	PIDS+=($s)
	exec 3> "$D/fifo"
	sleep 0.5
	timeout 60 "$CLI" -s 500 -d 1 -w 500 "127.0.0.1:$port" "$D/msgs" > /dev/null
	exec 3>&-
	kill $s 2>/dev/null; wait $s 2>/dev/null
	sleep 0.3
	kill -INT $t; wait $t 2>/dev/null
	return 0
}
echo "pcap-decrypt-tls bench: $N SIP messages over TLS 1.3 and TLS 1.2, x$COPIES"
capture t13 || exit 1
capture t12 -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 || exit 1
files=()
for i in $(seq "$COPIES"); do files+=("$D/t13.pcap" "$D/t12.pcap"); done
mergecap -a -F pcap -w "$D/in.pcap" "${files[@]}" || exit 1
frames=$(tcpdump -r "$D/in.pcap" 2>/dev/null | wc -l)
bytes=$(stat -c %s "$D/in.pcap")

cpu() {	# CMD...: "CPU_SECONDS WALL_SECONDS"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$D/time" -f '%U %S %e' "$@" >/dev/null 2>&1
		awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$D/time"
	else
		local s e
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f %.3f\n", e - s, e - s }'
	fi
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

bpc=999999 bpw=999999 btc=999999 btw=999999
for r in $(seq "$RUNS"); do
	read -r c w < <(cpu tcpdump -r "$D/in.pcap" -w "$D/td.pcap")
	btc=$(min "$c" "$btc"); btw=$(min "$w" "$btw")
	rm -f "$D/td.pcap"
	read -r c w < <(cpu "$PD" -q --tls-keylog "$D/keys" -r "$D/in.pcap" -w "$D/out.pcap")
	bpc=$(min "$c" "$bpc"); bpw=$(min "$w" "$bpw")
	echo "  run $r: tcpdump ${btc}s cpu, pcap-decrypt ${bpc}s cpu (best so far)"
done
# the output must hold every message in clear
"$PD" -q --tls-keylog "$D/keys" -r "$D/in.pcap" -w "$D/out.pcap" --json "$D/r.json"
rc=$?
msgs=$(python3 -c "import json; print(json.load(open('$D/r.json'))['tls']['sip_messages'])" 2>/dev/null)
[ "$rc" = 0 ] && [ "$msgs" = $((2 * COPIES * N)) ] ||
    echo "pcap-decrypt-tls bench: decryption incomplete (exit $rc, $msgs of $((2 * COPIES * N)) messages)"
awk -v f="$frames" -v b="$bytes" -v m="$((2 * COPIES * N))" -v pc="$bpc" \
    -v pw="$bpw" -v tc="$btc" -v tw="$btw" 'BEGIN {
	printf "pcap-decrypt --tls-keylog: %d frames (%.1f MB, %d SIP messages) in %.3f s cpu (%.3f s wall): %.0f frames/s, %.1f MB/s, %.0f SIP messages/s per cpu second\n", f, b / 1e6, m, pc, pw, f / pc, b / 1e6 / pc, m / pc
	printf "tcpdump -r -w: same capture copied in %.3f s cpu (%.3f s wall): %.0f frames/s per cpu second\n", tc, tw, f / tc
	printf "ratio pcap-decrypt/tcpdump speed: %.2f cpu, %.2f wall\n", tc / pc, tw / pw
}'
