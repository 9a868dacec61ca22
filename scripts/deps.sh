#!/bin/sh
# deps.sh - install the Debian 12 packages a make target needs, when missing.
#
#   scripts/deps.sh build|check|demo     install what is missing (as root)
#   scripts/deps.sh --print PROFILE      print the apt-get line, install nothing
#
# Not root: print the apt-get line and fail if anything is missing.
set -eu

build="build-essential pkg-config libssl-dev libsrtp2-dev libpcap-dev liburing-dev openssl"
tests="bats bats-assert bats-support mandoc clang libclang-rt-14-dev tshark sox
	baresip baresip-core kamailio kamailio-tls-modules rtpengine-daemon
	iproute2 procps psmisc tcpdump nftables xxd python3 python3-pylibsrtp
	sipvicious python3-aiortc sngrep prometheus kamailio-websocket-modules
	debhelper lintian dpkg-dev fakeroot"
demo="baresip baresip-core tshark sox tcpdump openssl iproute2"

# tests/sip-tls-term-ws.bats: a second, independent WebSocket client
tests="$tests python3-websockets"

# tests/dtls.bats: GnuTLS, a DTLS-SRTP peer that shares no code with OpenSSL
tests="$tests gnutls-bin"

# tests/e2e/browser.bats: Debian's Chromium, and node with npm for
# `npm ci --prefix tests/browser`. A Node.js already there (e.g. from
# NodeSource, which ships its own npm) is used as it is; only a machine with
# no node at all gets Debian's nodejs and npm (Node 18: enough for the pinned
# puppeteer-core 24 and jssip).
tests="$tests chromium"
command -v node >/dev/null 2>&1 || tests="$tests nodejs npm"

print=0
if [ "${1:-}" = --print ]; then print=1; shift; fi
case "${1:-build}" in
build) want="$build" ;;
check) want="$build $tests" ;;
demo)  want="$build $demo" ;;
*) echo "usage: scripts/deps.sh [--print] build|check|demo" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
if [ $print = 1 ]; then
	echo "apt-get install -y$missing"
	exit 0
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "sbckit: missing Debian packages:$missing" >&2
	echo "sbckit: as root, run: apt-get install -y$missing" >&2
	exit 1
fi
echo "sbckit: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packages such as kamailio and rtpengine-daemon must not start their
# system services here: the tests start their own instances.
rcd=/usr/sbin/policy-rc.d
added_rcd=0
if [ ! -e $rcd ]; then
	printf '#!/bin/sh\nexit 101\n' > $rcd && chmod 755 $rcd && added_rcd=1
fi
trap '[ $added_rcd = 1 ] && rm -f $rcd' EXIT
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
