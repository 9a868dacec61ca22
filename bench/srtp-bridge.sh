#!/bin/bash
# srtp-bridge.sh - relay CPU per bridged packet at many streams, and one
# blasted stream: srtp-bridge against its own no-crypto run and, when
# installed, rtpengine in userspace (--table=-1), in the same run.
#
#   SBK_BUILD=build bench/srtp-bridge.sh [CALLS] [PPS] [SECONDS] [BLAST_PPS]
#
# Defaults: 1000 calls x 50 packets/s for 20 s (SRTP in, RTP out), and one
# call blasted at 300000 packets/s for 3 s. Figures come from
# build/bench/srtp-bridge (pre-encrypted packets; relay CPU from
# /proc/PID/stat utime+stime). Ratios > 1 mean srtp-bridge is cheaper.
set -u
B=${SBK_BUILD:-build}
GEN=$B/bench/srtp-bridge
BR=$B/bin/srtp-bridge
CALLS=${1:-1000}
PPS=${2:-50}
SECS=${3:-20}
BLAST=${4:-300000}
for f in "$GEN" "$BR"; do
	[ -x "$f" ] || { echo "srtp-bridge.sh: $f not built (make tests)" >&2; exit 1; }
done
NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
NG=$((20000 + RANDOM % 20000))
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

wait_udp() {
	local i
	for i in $(seq 100); do
		ss -Hnlu "src $1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "srtp-bridge.sh: nothing listening on $1" >&2
	return 1
}

# field NAME LINE: the value of NAME=... in a result line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }

ours() {	# ours ARGS...: start srtp-bridge ($IO), run the generator, stop it
	timeout -k 2 600 "$BR" --io "${IO:-auto}" --ng "$NET.1:$NG" \
	    --outside "$NET.2" --inside "$NET.3" --port-min 30000 \
	    --port-max 39999 --max-sessions 0 2>/dev/null &
	local tp=$! bp
	PIDS+=("$tp")
	wait_udp "$NET.1:$NG" || return 1
	bp=$(pgrep -P "$tp" | head -1)
	timeout 600 "$GEN" -n "$NET.1:$NG" -p "$bp" -l "$NET.4" "$@"
	kill -TERM "$tp"
	wait "$tp" 2>/dev/null
}

theirs() {	# rtpengine, userspace only
	local d=$B/bench-rtpengine tp bp
	mkdir -p "$d"
	timeout -k 2 600 rtpengine --config-file=none --foreground \
	    --log-stderr --log-level=3 --table=-1 --interface="outside/$NET.2" \
	    --interface="inside/$NET.3" --listen-ng="$NET.1:$((NG + 1))" \
	    --port-min=40000 --port-max=49999 --pidfile="$d/pid" \
	    > "$d/log" 2>&1 &
	tp=$!
	PIDS+=("$tp")
	wait_udp "$NET.1:$((NG + 1))" || return 1
	bp=$(pgrep -P "$tp" | head -1)
	timeout 600 "$GEN" -n "$NET.1:$((NG + 1))" -p "$bp" -l "$NET.4" "$@"
	kill -TERM "$tp"
	wait "$tp" 2>/dev/null
}

echo "# srtp-bridge bench: $CALLS calls x $PPS pps x ${SECS}s, SRTP -> RTP; blast $BLAST pps"
echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
r_srtp=$(ours -c "$CALLS" -r "$PPS" -s "$SECS")
echo "srtp-bridge  SRTP->RTP io_uring : $r_srtp"
r_epoll=$(IO=epoll ours -c "$CALLS" -r "$PPS" -s "$SECS")
echo "srtp-bridge  SRTP->RTP epoll    : $r_epoll"
r_plain=$(ours -c "$CALLS" -r "$PPS" -s "$SECS" -P)
echo "srtp-bridge  RTP->RTP  io_uring : $r_plain"
us=$(field relay_us_per_pkt "$r_srtp")
us_epoll=$(field relay_us_per_pkt "$r_epoll")
us_plain=$(field relay_us_per_pkt "$r_plain")
echo "ratio epoll / io_uring (CPU per packet) = $(ratio "$us_epoll" "$us")"
echo "ratio crypto cost: SRTP / plain = $(ratio "$us" "$us_plain")"
if command -v rtpengine > /dev/null 2>&1; then
	r_re=$(theirs -c "$CALLS" -r "$PPS" -s "$SECS")
	echo "rtpengine    SRTP->RTP : $r_re"
	us_re=$(field relay_us_per_pkt "$r_re")
	echo "ratio rtpengine / srtp-bridge (CPU per packet) = $(ratio "$us_re" "$us")"
else
	echo "rtpengine not installed: no rtpengine ratio"
fi
r_blast=$(ours -c 1 -r "$BLAST" -s 3)
echo "srtp-bridge  blast     : $r_blast"
if command -v rtpengine > /dev/null 2>&1; then
	r_reb=$(theirs -c 1 -r "$BLAST" -s 3)
	echo "rtpengine    blast     : $r_reb"
	a=$(field received "$r_blast")
	b=$(field received "$r_reb")
	echo "ratio blast received srtp-bridge / rtpengine = $(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }')"
fi
