#!/usr/bin/env bats
# browser.bats - a real browser phone: JsSIP in headless Chromium (driven by
# puppeteer-core, tests/browser/) registers over SIP/WSS, calls baresip
# inside (UDP, plain RTP) and is called by it, with DTLS-SRTP + ICE media.
# Each side must hear the other's tone: baresip's recording (tonecheck) and,
# in the page, the received track's dominant frequency (WebAudio).
#
# The reference gateway is Kamailio 5.6 (websocket + tls modules) with
# rtpengine's WebRTC flags; sbckit's own gateway (sip-tls-term --listen-wss
# + srtp-bridge over ng) runs the same scenarios (tests/e2e/lib-browser.bash).

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# A real browser, Kamailio and rtpengine on a loaded 2-core machine: one
# of these calls failed once in ~20 runs (a timing edge, not reproduced
# alone). A test is tried again once (bats 1.8); a broken call fails both.
BATS_TEST_RETRIES=1

setup_file() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	source "$SBK_TOP/tests/e2e/lib-browser.bash"
	sbk_browser_deps || echo "$E2E_SKIP" > "$BATS_FILE_TMPDIR/skip"
}

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	source "$SBK_TOP/tests/e2e/lib-browser.bash"
	[ ! -f "$BATS_FILE_TMPDIR/skip" ] || skip "$(cat "$BATS_FILE_TMPDIR/skip")"
	sbk_have baresip sox node || skip "needs baresip, sox, node"
	sbk_e2e_init "browser-$BATS_TEST_NUMBER"
}

teardown() {
	sbk_e2e_cleanup
}

need_reference() {
	sbk_have kamailio rtpengine || skip "needs kamailio and rtpengine"
	[ -f "$KAMAILIO_MODULES/websocket.so" ] ||
	    skip "needs kamailio-websocket-modules"
}

@test "browser: reference (Kamailio+rtpengine): the browser calls baresip over WSS, both hear the other" {
	need_reference
	sbk_netns sbk_browser_scenario kamailio out
}

@test "browser: reference (Kamailio+rtpengine): baresip calls the browser registered over WSS, both hear the other" {
	need_reference
	sbk_netns sbk_browser_scenario kamailio in
}

# sbckit's gateway: sip-tls-term's WebSocket listener and srtp-bridge's
# DTLS-SRTP (it links OpenSSL's DTLS only with its WebRTC side).
need_sbckit() {
	[ -x "$SBK_BIN/sip-tls-term" ] && [ -x "$SBK_BIN/srtp-bridge" ] ||
	    skip "sip-tls-term or srtp-bridge not built"
	"$SBK_BIN/sip-tls-term" --help 2>&1 | grep -q -- '--listen-wss' ||
	    skip "sip-tls-term has no --listen-wss yet"
	grep -q -a DTLS_method "$SBK_BIN/srtp-bridge" ||
	    skip "srtp-bridge has no DTLS-SRTP yet"
}

@test "browser: sbckit (sip-tls-term --listen-wss + srtp-bridge): the browser calls baresip over WSS, both hear the other" {
	need_sbckit
	sbk_netns sbk_browser_scenario sbckit out
}

@test "browser: sbckit (sip-tls-term --listen-wss + srtp-bridge): baresip calls the browser registered over WSS, both hear the other" {
	need_sbckit
	sbk_netns sbk_browser_scenario sbckit in
}

@test "browser: sbckit: the browser lost mid-call (page closed, no BYE): the gateway ends the call inside" {
	need_sbckit
	sbk_netns sbk_browser_scenario sbckit drop
	grep -q 'out inside .* BYE' "$E2E_DIR/sip-tls-term.log"
}

@test "browser: sbckit: a page from an origin not in --ws-origin cannot register" {
	need_sbckit
	sbk_netns sbk_browser_scenario sbckit refused
	grep -q 'upgrade refused: 403' "$E2E_DIR/sip-tls-term.log"
	run grep -q 'REGISTER' "$E2E_DIR/sip-tls-term.log"
	assert_failure
}
