#!/bin/bash
# srtp-bridge-dtls.sh - DTLS-SRTP handshakes in srtp-bridge's ng daemon:
# how many calls with a handshake it sets up per second (its event loop
# is one thread: per core), and whether SDES streams flowing beside a
# steady rate of handshakes lose anything.
#
#   SBK_BUILD=build bench/srtp-bridge-dtls.sh [CALLS] [PPS] [SECONDS] [HS_RATE] [HS_CALLS]
#
# Part 1: HS_CALLS (default 300) calls set up back to back by
# build/bench/srtp-bridge -D (ng offer, answer, then a DTLS-SRTP handshake
# with the relay, ECDSA P-256 both ways): setups_per_s, and the relay's
# CPU per set-up (from /proc/PID/stat).
# Part 2: CALLS (default 1000) SDES calls at PPS (50) packets/s for SECONDS
# (20) while a second generator sets up DTLS calls at HS_RATE (100) a
# second beside them: the SDES streams' loss must be 0.
set -u
B=${SBK_BUILD:-build}
GEN=$B/bench/srtp-bridge
BR=$B/bin/srtp-bridge
CALLS=${1:-1000}
PPS=${2:-50}
SECS=${3:-20}
RATE=${4:-100}
HSN=${5:-300}
for f in "$GEN" "$BR"; do
	[ -x "$f" ] || { echo "srtp-bridge-dtls.sh: $f not built (make tests)" >&2; exit 1; }
done
NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
NG=$((20000 + RANDOM % 20000))
TP=""
cleanup() { [ -n "$TP" ] && { kill -TERM "$TP" 2>/dev/null; wait "$TP" 2>/dev/null; }; }
trap cleanup EXIT
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }

start() {
	mkdir -p "$B/bench-srtp-bridge"
	timeout -k 2 900 "$BR" --ng "$NET.1:$NG" --outside "$NET.2" \
	    --inside "$NET.3" --port-min 30000 --port-max 49999 \
	    --max-sessions 0 2> "$B/bench-srtp-bridge/dtls.log" &
	TP=$!
	for _ in $(seq 100); do
		ss -Hnlu "src $NET.1:$NG" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	BP=$(pgrep -P "$TP" | head -1)
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "# srtp-bridge DTLS-SRTP bench: $HSN back-to-back set-ups; $CALLS SDES calls x $PPS pps x ${SECS}s beside $RATE DTLS set-ups/s"
echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start
k0=$(ticks "$BP")
l=$("$GEN" -n "$NET.1:$NG" -p "$BP" -l "$NET.4" -D -c "$HSN" -r 1 -s 1)
k1=$(ticks "$BP")
hz=$(getconf CLK_TCK)
echo "back to back: $l"
rate=$(field setups_per_s "$l")
awk -v k="$((k1 - k0))" -v hz="$hz" -v n="$HSN" -v r="$rate" 'BEGIN {
    cpu = k / hz * 1e6 / n
    printf "DTLS call set-ups per second: %s (relay CPU per set-up incl. ng offer/answer and handshake: %.0f us; per core: %.0f/s)\n", r, cpu, (cpu > 0 ? 1e6 / cpu : 0) }'
cleanup
TP=""
start
"$GEN" -n "$NET.1:$NG" -p "$BP" -l "$NET.4" -c "$CALLS" -r "$PPS" \
    -s "$SECS" > "$B/bench-srtp-bridge/dtls-sdes.txt" &
G=$!
# the SDES calls are set up; then the handshakes beside their media
sleep $((CALLS / 400 + 3))
n=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { printf "%d", r * s / 2 }')
h=$("$GEN" -n "$NET.1:$NG" -p "$BP" -l "$NET.5" -D -c "$n" -H "$RATE" -r 1 -s 1)
wait "$G"
l=$(cat "$B/bench-srtp-bridge/dtls-sdes.txt")
echo "SDES streams : $l"
echo "beside them  : $h"
echo "SDES loss beside $(field setups_per_s "$h") DTLS set-ups/s: $(field loss "$l") (budget: 0)"
