#!/bin/sh
# sdp.sh - run the SDP benchmark: parse + rewrite + write of a 1 KB offer.
#   SBK_BUILD=build bench/sdp.sh [ITERATIONS]
set -u
b=${SBK_BUILD:-build}/bench/sdp
[ -x "$b" ] || { echo "sdp.sh: $b not built (make tests)" >&2; exit 1; }
exec "$b" "${1:-50000}"
