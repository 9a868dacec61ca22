#!/usr/bin/env bash
# demo-webrtc.sh - a browser phone through sbckit's gateway, on loopback.
#
#   scripts/demo-webrtc.sh [BUILD_DIR]   (`make demo-webrtc` builds, then runs this)
#
# In a network namespace of its own (only lo), starts srtp-bridge and
# sip-tls-term (built-in registrar, SIP over secure WebSocket on
# --listen-wss), baresip as Bob on plain UDP/RTP (1000 Hz), and headless
# Chromium running JsSIP (tests/browser/, npm packages pinned by its lock
# file) as Alice, whose fake microphone plays 440 Hz. Alice registers over
# WSS and calls Bob, then Bob calls Alice; media is DTLS-SRTP with ICE on
# the outside, plain RTP inside. Each side's tone is checked where it is
# heard (baresip's recording; the page's WebAudio analyser), the browser's
# WebRTC stats must show DTLS-SRTP over a loopback ICE pair, and each leg's
# capture is classified. Everything is bounded and stopped at the end.
# Exit status: 0 every step worked, 1 one failed, 2 something is missing
# (the reason is printed). The files stay in BUILD_DIR/demo-webrtc/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
export SBK_TOP=$top SBK_BUILD=$O SBK_BIN=$O/bin
E2E_TIMEOUT=100
# shellcheck source=../tests/e2e/lib.bash
source "$top/tests/e2e/lib.bash"
# shellcheck source=../tests/e2e/lib-browser.bash
source "$top/tests/e2e/lib-browser.bash"

die() { printf 'demo-webrtc: %s\n' "$*" >&2; exit 2; }

for c in baresip sox tshark tcpdump openssl ss timeout unshare; do
	sbk_have "$c" || die "missing: $c (as root: scripts/deps.sh check)"
done
for t in sip-tls-term srtp-bridge; do
	[ -x "$SBK_BIN/$t" ] || die "$SBK_BIN/$t not built (run 'make demo-webrtc')"
done
[ -x "$O/tests/helpers/tonecheck" ] || die "$O/tests/helpers/tonecheck not built"
sbk_browser_deps || die "$E2E_SKIP"

E2E_ROOT=$O
sbk_e2e_init demo-webrtc
trap 'sbk_e2e_cleanup' EXIT
trap 'exit 1' INT TERM
export E2E_ROOT
log=$E2E_DIR/demo.log

printf 'demo-webrtc: %s, lab %s.0/24, files in %s\n' \
    "headless Chromium + JsSIP over WSS -> sip-tls-term + srtp-bridge -> baresip" \
    "$E2E_NET" "$E2E_DIR" >&2
failed=0
for dir in out in; do
	case $dir in
	out) what="the browser (Alice, 440 Hz) calls Bob (baresip, 1000 Hz)" ;;
	in) what="Bob calls the browser, registered over WSS" ;;
	esac
	printf '  %-58s' "$what" >&2
	t0=$(date +%s)
	if sbk_netns sbk_browser_scenario sbckit "$dir" > "$log.$dir" 2>&1; then
		printf 'ok (%s s)\n' $(($(date +%s) - t0)) >&2
	else
		printf 'FAILED\n' >&2
		failed=1
	fi
	# what each side heard, the browser's WebRTC stats, the legs
	grep -E '^# (browser heard|bob heard|browser "stats"|media (outside|inside))' \
	    "$log.$dir" | sed -e 's/^# /      /' -e 's/"stats"://' | cut -c1-160 >&2
	[ $failed = 0 ] || sed 's/^/      | /' "$log.$dir" | tail -15 >&2
done
if [ $failed = 0 ]; then
	printf 'demo-webrtc: both calls carried, each side heard the other\n' >&2
else
	printf 'demo-webrtc: a step failed; logs in %s\n' "$E2E_DIR" >&2
fi
exit $failed
