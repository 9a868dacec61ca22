#!/bin/sh
# dtls.sh - run the DTLS-SRTP handshake benchmark (handshakes/s per core).
#   SBK_BUILD=build bench/dtls.sh [HANDSHAKES]
set -u
b=${SBK_BUILD:-build}/bench/dtls
[ -x "$b" ] || { echo "dtls.sh: $b not built (make tests)" >&2; exit 1; }
exec "$b" "${1:-200}"
