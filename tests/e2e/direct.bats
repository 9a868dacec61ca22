#!/usr/bin/env bats
# direct.bats - two plain baresip phones call each other over UDP: proves
# the harness (configs, ctrl_tcp, recordings, tonecheck) without a gateway.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	source "$SBK_TOP/tests/e2e/lib.bash"
	sbk_have baresip sox || skip "baresip or sox not installed"
	sbk_e2e_init "direct-$BATS_TEST_NUMBER"
	sbk_tone "$E2E_DIR/bob.wav" 1000
	sbk_tone "$E2E_DIR/carol.wav" 440
	local b=$E2E_NET.30 c=$E2E_NET.31
	sbk_baresip bob "$b" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$b:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu"
	sbk_baresip carol "$c" "$E2E_DIR/carol.wav" \
	    "<sip:carol@$c:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu"
	BOB=sip:bob@$b:$(sbk_sipport bob)
	CAROL=sip:carol@$c:$(sbk_sipport carol)
}

teardown() {
	sbk_e2e_cleanup
}

@test "direct: plain UDP calls both ways, each side hears the other's tone" {
	sbk_call bob carol "$CAROL" 2
	sbk_heard bob 440
	sbk_heard carol 1000
	sbk_call carol bob "$BOB" 2
	sbk_heard bob 440
	sbk_heard carol 1000
}
