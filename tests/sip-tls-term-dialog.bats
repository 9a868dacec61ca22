#!/usr/bin/env bats
# sip-tls-term-dialog.bats - whole dialogs through sip-tls-term and a real
# srtp-bridge, played by tests/helpers/sip-dialog.py (TLS phones outside,
# a UDP phone inside; media with stock libsrtp2): early media, late
# offers, re-INVITE and UPDATE from each side, calls from the inside, and
# outside-to-outside calls with the built-in registrar.

load "$SBK_TOP/tests/lib-sip"

DLG=$SBK_TOP/tests/helpers/sip-dialog.py

setup() {
	sip_setup			# IP: gateway, phones, relay outside
	RIN=${IP%.*}.$((${IP##*.} + 1))	# relay inside
}

# lab [GW ARGS]: srtp-bridge (outside $IP, inside $RIN) and the gateway
# (TLS and inside UDP on $IP, built-in registrar, upstream: BOB, a free
# port on $IP the driver's Bob binds, unless set, or $UPSTREAM); sets L,
# IN, BOB.
lab() {
	local ng
	ng=$("$FREEPORT" "$RIN")
	BOB=${BOB:-$IP:$("$FREEPORT" "$IP")}
	sip_bridge 40 "$RIN:$ng" "$IP" "$RIN" -v
	sip_gw 40 -u "udp:${UPSTREAM:-$BOB}" --registrar --media "ng:$RIN:$ng" \
	    --media-direction outside,inside "$@"
}

# dialog SCENARIO [RELAY_OUT]: run the driver; every check must pass.
dialog() {
	run timeout 30 /usr/bin/python3 "$DLG" "$1" "$L" "$IN" "$BOB" \
	    "${2:-$IP}" "$RIN" "$IP"
	echo "$output" > "$W/dialog.out"
	[ "$status" -eq 0 ] || { cat "$W/gw.err" >&2; cat "$W/bridge.log" >&2; }
	refute_line --partial "fail "
	assert_success
}

@test "sip-tls-term dialog: 183 with SDP then 200, re-INVITE and UPDATE from each side" {
	lab
	dialog early
	assert_line "ok 183 (early media): outside gets RTP/SAVP"
	assert_line "ok 183 (early media): exactly one a=crypto"
	assert_line "ok re-INVITE from outside (hold): inside gets no a=crypto"
	assert_line "ok re-INVITE from outside (hold): a=sendonly"
	assert_line "ok re-INVITE from inside (hold): a=sendonly"
	assert_line "ok UPDATE from inside: outside gets RTP/SAVP"
	assert_line --partial "ok media after the re-INVITEs: Bob's RTP reaches Alice's new port"
	# a refused re-INVITE must not delete the call at the relay
	assert_line "ok a re-INVITE refused with 491 keeps the media"
	run grep -c "delete" "$W/bridge.log"
	assert_output 1
}

@test "sip-tls-term dialog: INVITE without SDP, offer in the 200, answer in the ACK" {
	lab
	dialog late
	assert_line "ok answer in the ACK: inside gets RTP/AVP"
	# the 200's body went to the relay as the inside's offer
	run grep -c "offer .* from inside" "$W/bridge.log"
	assert_output 1
}

@test "sip-tls-term dialog: -v logs INVITE, 200, ACK and BYE in and out with the Call-ID; the relay's lines carry it" {
	lab
	dialog late
	cid=$(sed -n 's/^sip-tls-term: debug: sip: in outside [^ ]* INVITE call-id=\([^ ]*\) cseq=1 INVITE$/\1/p' "$W/gw.err" | head -1)
	[ -n "$cid" ]
	# msg DIRECTION FACE WHAT CSEQ: how many lines say so of this call
	msg() {
		grep -F " call-id=$cid cseq=$4" "$W/gw.err" |
		    grep -cE "sip: $1 $2 [^ ]+ $3 call-id="
	}
	[ "$(msg in outside INVITE '1 INVITE')" -eq 1 ]
	[ "$(msg out inside INVITE '1 INVITE')" -ge 1 ]
	[ "$(msg in inside 200 '1 INVITE')" -ge 1 ]
	[ "$(msg out outside 200 '1 INVITE')" -ge 1 ]
	[ "$(msg in outside ACK '1 ACK')" -eq 1 ]
	[ "$(msg out inside ACK '1 ACK')" -eq 1 ]
	[ "$(msg in outside BYE '2 BYE')" -eq 1 ]
	[ "$(msg out inside BYE '2 BYE')" -ge 1 ]
	[ "$(msg in inside 200 '2 BYE')" -ge 1 ]
	[ "$(msg out outside 200 '2 BYE')" -ge 1 ]
	# the next hop is Bob, where the driver listens
	[ "$(grep -cF "sip: out inside $BOB INVITE call-id=$cid " "$W/gw.err")" -ge 1 ]
	# srtp-bridge: offer, answer and delete name the call
	run grep -cF "offer call-id=$cid " "$W/bridge.log"
	assert_output 1
	run grep -cF "answer call-id=$cid " "$W/bridge.log"
	assert_output 1
	run grep -cF "delete call-id=$cid " "$W/bridge.log"
	assert_output 1
}

@test "sip-tls-term dialog: the inside calls a registered client, 183 with SDP from it" {
	lab
	dialog reverse
	assert_line "ok 183 from outside (early media): inside gets RTP/AVP"
}

@test "sip-tls-term dialog: outside to outside, flow to flow, SRTP on both legs" {
	lab
	dialog o2o -
	assert_line "ok o2o: nothing went inside"
	# both ng offers name the outside twice and ask for RTP/SAVP
	run grep -c "offer .* from outside" "$W/bridge.log"
	assert_output 1
}

@test "sip-tls-term dialog: the same dialogs through a real rtpengine" {
	command -v rtpengine >/dev/null || skip "rtpengine not installed"
	local ng pmin
	ng=$("$FREEPORT" "$RIN")
	BOB=$IP:$("$FREEPORT" "$IP")
	pmin=$(( 30000 + (RANDOM % 300) * 100 ))
	timeout 60 rtpengine --config-file=none --foreground --log-stderr \
	    --table=-1 --interface="outside/$IP" --interface="inside/$RIN" \
	    --listen-ng="$RIN:$ng" --port-min=$pmin --port-max=$((pmin + 99)) \
	    > "$W/bridge.log" 2>&1 &
	PIDS+=($!)
	sbk_wait_port udp "$RIN" "$ng" 5
	sip_gw 60 -u "udp:$BOB" --registrar --media "ng:$RIN:$ng" \
	    --media-direction outside,inside
	dialog early
	assert_line "ok a re-INVITE refused with 491 keeps the media"
	dialog late
	# rtpengine puts both legs of an outside-to-outside call outside
	dialog o2o
	assert_line "ok o2o: nothing went inside"
}

# A phone that vanishes mid-call (--bye-on-loss, the default): the inside
# party gets the BYE the phone can no longer send, and the relay the
# delete.
@test "sip-tls-term dialog: Alice's connection closes mid-call: Bob gets a BYE on her behalf" {
	lab
	dialog lost
	assert_line "ok BYE: Request-URI is Bob's remote target"
	assert_line "ok BYE: Route is the route set beyond the gateway"
	assert_line "ok BYE: CSeq is Alice's last + 1"
	assert_line "ok BYE: To is Bob with his tag"
	assert_line "ok BYE answered: no more copies"
	grep -q "flow lost: BYE sent for 1 call" "$W/gw.err"
	grep -q "BYE for lost flow: 200" "$W/gw.err"
	grep -q "delete" "$W/bridge.log"
}

@test "sip-tls-term dialog: Alice goes silent mid-call: after --idle-timeout Bob gets a BYE, retransmitted until answered" {
	lab --idle-timeout 3
	dialog silent
	assert_line "ok BYE: From is Alice with her tag"
	assert_line "ok BYE retransmission 2 unchanged"
	assert_line "ok BYE answered: no more copies"
	grep -q "closed: idle timeout" "$W/gw.err"
}

@test "sip-tls-term dialog: Bob called Alice; her connection closes: the BYE comes from her side of the dialog" {
	lab
	dialog lostrev
	assert_line "ok Alice's UPDATE: routed by Bob's proxy entry"
	assert_line "ok BYE: From is Alice with her tag"
	assert_line "ok BYE: CSeq is Alice's last + 1"
	assert_line "ok BYE: Route is the route set beyond the gateway"
}

@test "sip-tls-term dialog: calls ended by BYE, CANCEL or 486 are forgotten: no BYE when the connection closes" {
	lab
	dialog ended
	assert_line "ok calls already over: no BYE when the connection closes"
	run grep -c "flow lost: BYE sent" "$W/gw.err"
	assert_output 0
}

@test "sip-tls-term dialog: --no-bye-on-loss sends no BYE" {
	lab --no-bye-on-loss
	dialog nobye
	assert_line "ok --no-bye-on-loss: no BYE when the connection closes"
}

@test "sip-tls-term dialog: through a real Kamailio that record-routes: Alice's connection closes, the BYE reaches Bob through Kamailio" {
	command -v kamailio >/dev/null || skip "kamailio not installed"
	local kmod=${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}
	local kport
	kport=$("$FREEPORT" "$IP")
	BOB=$IP:$("$FREEPORT" "$IP")
	mkdir -p "$W/kam"
	cat > "$W/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=2
log_stderror=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:$IP:$kport
mpath="$kmod"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { t_relay(); exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
	record_route();
	\$du = "sip:$BOB";
	t_relay();
}
EOF
	kamailio -c -f "$W/kam/kamailio.cfg" > "$W/kam/check.log" 2>&1 ||
	    { cat "$W/kam/check.log" >&2; return 1; }
	timeout 40 kamailio -DD -E -f "$W/kam/kamailio.cfg" -Y "$W/kam" \
	    -P "$W/kam/kamailio.pid" -m 64 -M 16 < /dev/null > "$W/kam/log" \
	    2>&1 3>&- &
	PIDS+=($!)
	sbk_wait_port udp "$IP" "$kport" 10
	UPSTREAM=$IP:$kport lab
	# Bob talks to Kamailio, not to the gateway
	run timeout 30 /usr/bin/python3 "$DLG" kam "$L" "$IP:$kport" "$BOB" \
	    "$IP" "$RIN" "$IP"
	echo "$output" > "$W/dialog.out"
	[ "$status" -eq 0 ] || { cat "$W/gw.err" "$W/kam/log" >&2; }
	refute_line --partial "fail "
	assert_success
	assert_line "ok Kamailio record-routed the INVITE"
	assert_line "ok BYE: the proxy's Via above the gateway's"
	assert_line "ok BYE: Request-URI is Bob's remote target"
	assert_line "ok BYE: CSeq is Alice's last + 1"
	assert_line "ok BYE answered: no more copies"
	grep -q "BYE for lost flow: 200" "$W/gw.err"
}
