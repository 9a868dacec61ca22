#!/bin/bash
# srtp-bridge-ab.sh - two builds of srtp-bridge under the same load, runs
# interleaved (A, B, A, B, ...), for a change whose effect is smaller than
# the noise between two runs on these shared machines.
#
#   bench/srtp-bridge-ab.sh BUILD_A BUILD_B [ROUNDS] [SECONDS] [CALLS] [PPS]
#
# Each BUILD is a build directory (bin/srtp-bridge, bench/srtp-bridge);
# a copy of an older build is the usual A. Defaults: 4 rounds (an even
# number: each build first in half of them) of 8 s at
# 1000 calls x 50 pps, the default (io_uring) configuration of
# bench/srtp-bridge.sh; BRIDGE_ARGS passes options to both. Prints each
# run, then the median CPU-us per packet of each and the ratio A / B
# (> 1: B is cheaper).
set -u
[ $# -ge 2 ] || { sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2; }
A=$1 B=$2 ROUNDS=${3:-4} SECS=${4:-8} CALLS=${5:-1000} PPS=${6:-50}
here=$(dirname "$0")
for b in "$A" "$B"; do
	[ -x "$b/bin/srtp-bridge" ] && [ -x "$b/bench/srtp-bridge" ] ||
	    { echo "srtp-bridge-ab.sh: $b: no bin/srtp-bridge and bench/srtp-bridge" >&2; exit 1; }
done
declare -A US
# Each round runs both, in turn first (A B, then B A, ...): the second of
# two back-to-back runs was measured ~10% dearer on these machines, which
# a fixed order puts all on B.
for i in $(seq "$ROUNDS"); do
	order="$A $B"
	[ $((i % 2)) = 0 ] && order="$B $A"
	for b in $order; do
		l=$(PARTS=uring SBK_BUILD=$b "$here/srtp-bridge.sh" "$CALLS" \
		    "$PPS" "$SECS" 2>&1 | grep 'relay_us_per_pkt' | head -1)
		us=$(sed -n 's/.*relay_us_per_pkt=\([^ ]*\).*/\1/p' <<< "$l")
		loss=$(sed -n 's/.* loss=\([^ ]*\).*/\1/p' <<< "$l")
		echo "round $i $b: ${us:-n/a} us/pkt, loss ${loss:-n/a}"
		US[$b]="${US[$b]:-} $us"
	done
done
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# shellcheck disable=SC2086
ma=$(med ${US[$A]}) mb=$(med ${US[$B]})
echo "median A $A: $ma us/pkt; B $B: $mb us/pkt"
awk -v a="$ma" -v b="$mb" 'BEGIN { if (b > 0 && a != "n/a") printf "ratio A / B = %.2f\n", a / b }'
