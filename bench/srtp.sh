#!/bin/sh
# srtp.sh - run the SRTP crypto benchmark (lib/rtpsec against libsrtp2).
#   SBK_BUILD=build bench/srtp.sh [PACKETS] [PAYLOAD]
set -u
b=${SBK_BUILD:-build}/bench/srtp
[ -x "$b" ] || { echo "srtp.sh: $b not built (make tests)" >&2; exit 1; }
exec "$b" "${1:-100000}" "${2:-160}"
