#!/usr/bin/env bats
# sip-tls-term-kamailio.bats - Path (RFC 3327) against a real Kamailio
# registrar (over UDP, and over TCP), and media through a real rtpengine
# (userspace), with the C TLS client outside and the C UDP or TCP peer
# inside.

load "$SBK_TOP/tests/lib-sip"

start_gw() { sip_gw 40 "$@"; }

# A Kamailio registrar with Path (strict mode: the 5.6 default); with
# "tcp", it listens on TCP too (same port).
start_kamailio() {
	local tcp="disable_tcp=yes"
	KPORT=$("$FREEPORT" "$IP")
	[ "${1:-}" = tcp ] && tcp="tcp_children=1
listen=tcp:$IP:$KPORT"
	mkdir -p "$W/kam"
	cat > "$W/kam/kamailio.cfg" <<EOF2
#!KAMAILIO
debug=2
log_stderror=yes
children=1
$tcp
auto_aliases=no
listen=udp:$IP:$KPORT
mpath="$KAMAILIO_MODULES"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "path.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "textops.so"
modparam("registrar", "use_path", 1)
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) { t_relay(); exit; }
		if (is_method("ACK")) { t_relay(); exit; }
		sl_send_reply("404", "Not here"); exit;
	}
	if (is_method("REGISTER")) { save("location"); exit; }
	record_route();
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
	t_relay();
}
EOF2
	kamailio -c -f "$W/kam/kamailio.cfg" > "$W/kam/check.log" 2>&1 ||
	    { cat "$W/kam/check.log" >&2; return 1; }
	timeout 40 kamailio -DD -E -f "$W/kam/kamailio.cfg" -Y "$W/kam" \
	    -P "$W/kam/kamailio.pid" -m 64 -M 16 < /dev/null > "$W/kam/log" \
	    2>&1 3>&- &
	PIDS+=($!)
	wait_line "$W/kam/log" "INFO.*\(listening\|init_.*children\|done\)" || true
	sleep 0.5
	# Kamailio listens on TCP only once its processes are up, which
	# takes a while on a loaded machine.
	if [ "${1:-}" = tcp ]; then
		local i
		for i in $(seq 200); do
			(exec 3<>"/dev/tcp/$IP/$KPORT") 2>/dev/null && return 0
			sleep 0.1
		done
		echo "kamailio is not listening on tcp:$IP:$KPORT" >&2
		return 1
	fi
}

@test "kamailio: REGISTER with Path through sip-tls-term, Bob reaches Alice's flow" {
	command -v kamailio >/dev/null || skip "kamailio not installed"
	start_kamailio
	start_gw -u "udp:$IP:$KPORT"
	register "$W/reg"
	( timeout 15 "$CLI" -a -w 8000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" '^CSeq: 1 REGISTER'
	run cat "$W/alice.out"
	assert_line "SIP/2.0 200 OK"
	# the client finds its own Contact, and the Path the registrar stored
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=[0-9]+"
	assert_line --regexp "^Path: <sip:sbk[0-9a-f]{36}@$IN;lr;ob>"
	# Bob, inside, calls alice at Kamailio; Kamailio routes by Path.
	bob_invite "$W/inv" "sip:alice@$IP:$KPORT" "sip:alice@$IP" kam1 \
	    "kam-call-$RANDOM"
	run timeout 8 "$PEER" -l "$IP:0" -t "$IP:$KPORT" -f "$W/inv" -w 3000
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 1 INVITE"
	run cat "$W/alice.out"
	assert_line "INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
}

@test "kamailio: over TCP inside: REGISTER with Path, Bob calls Alice over TCP through Kamailio" {
	command -v kamailio >/dev/null || skip "kamailio not installed"
	start_kamailio tcp
	start_gw -u "tcp:$IP:$KPORT"
	register "$W/reg"
	( timeout 15 "$CLI" -a -w 8000 "$L" "$W/reg" > "$W/alice.out" ) &
	PIDS+=($!)
	wait_line "$W/alice.out" '^CSeq: 1 REGISTER'
	run cat "$W/alice.out"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=[0-9]+"
	# the registrar stored a Path that brings requests back over TCP
	assert_line --regexp "^Path: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr;ob>"
	# Bob calls alice over TCP; Kamailio follows the Path over TCP.
	bob_invite "$W/inv" "sip:alice@$IP:$KPORT;transport=tcp" \
	    "sip:alice@$IP" kamt1 "kamt-call-$RANDOM" tcp
	run timeout 8 "$TPEER" -l "$IP:0" -t "$IP:$KPORT" -f "$W/inv" -w 3000
	assert_line "<<< tcp"
	assert_line "SIP/2.0 200 OK"
	assert_line "CSeq: 1 INVITE"
	assert_line --regexp "^Record-Route: <sip:sbk[0-9a-f]{36}@$IN;transport=tcp;lr>"
	run cat "$W/alice.out"
	assert_line "INVITE sip:alice-0x55d1@127.0.0.10:5061;transport=tls SIP/2.0"
	# Kamailio's hop to the gateway was TCP
	assert_line --regexp "^Via: SIP/2.0/TCP $IP:$KPORT;"
	refute_line --regexp "^Route:"
}

@test "kamailio: strict Path mode refuses Path without 'Supported: path' (--no-path-tag)" {
	command -v kamailio >/dev/null || skip "kamailio not installed"
	start_kamailio
	start_gw -u "udp:$IP:$KPORT" --no-path-tag
	register "$W/reg"
	run timeout 10 "$CLI" -c 1 -w 5000 "$L" "$W/reg"
	assert_line --regexp "^SIP/2.0 420 "
}

@test "rtpengine: SDP through a real rtpengine (ng), RTP/AVP inside, RTP/SAVP outside" {
	command -v rtpengine >/dev/null || skip "rtpengine not installed"
	IP2=${IP%.*}.$(( ${IP##*.} + 1 ))
	sip_peer udp 30
	ngport=$("$FREEPORT" 127.0.0.1)
	pmin=$(( 30000 + (RANDOM % 300) * 100 ))
	timeout 40 rtpengine --config-file=none --foreground --log-stderr \
	    --table=-1 --interface="outside/$IP" --interface="inside/$IP2" \
	    --listen-ng="127.0.0.1:$ngport" --port-min=$pmin \
	    --port-max=$((pmin + 99)) > "$W/rtpengine.log" 2>&1 &
	PIDS+=($!)
	sleep 1
	start_gw -u "udp:$UP" --media "ng:127.0.0.1:$ngport" \
	    --media-direction outside,inside
	sdes_invite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 6000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^m=audio [0-9]+ RTP/SAVP 0"
	assert_line --regexp "^a=crypto:[0-9]+ AES_CM_128_HMAC_SHA1_80 inline:"
	assert_line "c=IN IP4 $IP"
	run cat "$W/peer.out"
	assert_line --regexp "^m=audio [0-9]+ RTP/AVP 0"
	refute_line --partial "a=crypto"
	assert_line "c=IN IP4 $IP2"
}
