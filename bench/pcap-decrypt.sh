#!/bin/bash
# pcap-decrypt.sh - a generated 1,000,000-packet SRTP capture decrypted to a
# pcap, against `tcpdump -r IN -w OUT` copying the same capture in the same
# run (the baseline: reading and writing the same frames, no crypto).
#
#   SBK_BUILD=build bench/pcap-decrypt.sh [PACKETS] [RUNS]
#
# The capture (AES_CM_128_HMAC_SHA1_80, 172-byte RTP, Ethernet/IPv4/UDP,
# 100 streams) is made by srtp-gen-pcap on stock libsrtp2, in /dev/shm when
# there is room (so the disk does not take part). Each program runs RUNS
# times, interleaved; the best run of each counts. Packets/s are given per
# CPU second (user + system, i.e. on one core: the machines are shared and
# noisy) and per wall-clock second. Budget: >= 1,000,000 packets/s and
# >= 0.5 of tcpdump's speed.
set -u
B=${SBK_BUILD:-build}
PD=$B/bin/pcap-decrypt
GEN=$B/tests/helpers/srtp-gen-pcap
N=${1:-1000000}
RUNS=${2:-3}
for f in "$PD" "$GEN"; do
	[ -x "$f" ] || { echo "pcap-decrypt.sh: $f not built (make tests)" >&2; exit 1; }
done
command -v tcpdump >/dev/null || { echo "pcap-decrypt.sh: tcpdump not installed" >&2; exit 1; }
base=/dev/shm
[ -d $base ] && [ "$(df -Pk $base | awk 'NR==2 {print $4}')" -gt 1500000 ] || base=${TMPDIR:-/tmp}
D=$(mktemp -d "$base/sbk-bench-pd.XXXXXX")
trap 'rm -rf "$D"' EXIT

calls=50
per=$(( (N + 2 * calls - 1) / (2 * calls) ))
total=$((per * 2 * calls))
echo "pcap-decrypt bench: generating $total packets ($calls calls, 2 streams each) in $base"
"$GEN" -o "$D/in.pcap" --keys "$D/keys" --calls $calls --packets $per || exit 1

# cpu CMD...: run, print "CPU_SECONDS WALL_SECONDS" (GNU time if present)
cpu() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$D/time" -f '%U %S %e' "$@" >/dev/null 2>&1
		awk '{ printf "%.3f %.3f\n", $1 + $2, $3 }' "$D/time"
	else
		local s e
		s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
		awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f %.3f\n", e - s, e - s }'
	fi
}

best_pd_cpu=999999 best_pd_wall=999999 best_td_cpu=999999 best_td_wall=999999
for r in $(seq "$RUNS"); do
	read -r c w < <(cpu tcpdump -r "$D/in.pcap" -w "$D/td.pcap")
	best_td_cpu=$(awk -v a="$c" -v b="$best_td_cpu" 'BEGIN { print (a < b ? a : b) }')
	best_td_wall=$(awk -v a="$w" -v b="$best_td_wall" 'BEGIN { print (a < b ? a : b) }')
	rm -f "$D/td.pcap"
	read -r c w < <(cpu "$PD" -q -K "$D/keys" -r "$D/in.pcap" -w "$D/out.pcap")
	best_pd_cpu=$(awk -v a="$c" -v b="$best_pd_cpu" 'BEGIN { print (a < b ? a : b) }')
	best_pd_wall=$(awk -v a="$w" -v b="$best_pd_wall" 'BEGIN { print (a < b ? a : b) }')
	echo "  run $r: tcpdump ${best_td_cpu}s cpu, pcap-decrypt ${best_pd_cpu}s cpu (best so far)"
done
# the output must be a decrypted copy: every packet, none failed
"$PD" -K "$D/keys" -r "$D/in.pcap" -w "$D/out.pcap" --json "$D/r.json" -q
rc=$?
[ $rc = 0 ] || echo "pcap-decrypt bench: decryption failed (exit $rc)"

awk -v n="$total" -v pc="$best_pd_cpu" -v pw="$best_pd_wall" \
    -v tc="$best_td_cpu" -v tw="$best_td_wall" 'BEGIN {
	pps = n / pc; tpps = n / tc
	printf "pcap-decrypt: %d packets decrypted to pcap in %.3f s cpu (%.3f s wall): %.0f packets/s per cpu second (%.0f/s wall)\n", n, pc, pw, pps, n / pw
	printf "tcpdump -r -w: same capture copied in %.3f s cpu (%.3f s wall): %.0f packets/s per cpu second (%.0f/s wall)\n", tc, tw, tpps, n / tw
	printf "ratio pcap-decrypt/tcpdump speed: %.2f cpu, %.2f wall (budget >= 0.5)\n", tc / pc, tw / pw
	printf "budget >= 1000000 packets/s per cpu second: %s\n", (pps >= 1000000) ? "met" : "NOT met"
	printf "budget >= 0.5 of tcpdump (cpu): %s\n", (tc / pc >= 0.5) ? "met" : "NOT met"
}'
