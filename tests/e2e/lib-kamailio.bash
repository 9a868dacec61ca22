# lib-kamailio.bash - ng relays (rtpengine-daemon, srtp-bridge) and a
# Kamailio whose rtpengine module drives them, for the e2e tests.
#
# Sourced after lib.bash (sbk_e2e_init, sbk_spawn, sbk_freeport, ...).
# Relays get two interfaces named "outside" (the SRTP side) and "inside"
# (the RTP side), so the same ng flags (direction=outside direction=inside)
# work for both.

NG_SEND=${NG_SEND:-$SBK_BUILD/tests/helpers/ng-send}
KAMAILIO_CFG=${KAMAILIO_CFG:-$SBK_TOP/tests/e2e/kamailio-ng.cfg}
# What Kamailio asks of the relay (see shared/refs/ng-protocol.md).
NG_OFFER_IN=${NG_OFFER_IN:-"replace-origin replace-session-connection ICE=remove rtcp-mux-demux DTLS=off RTP/AVP direction=outside direction=inside"}
# Towards an SRTP phone, offer AES_CM_128_HMAC_SHA1_80 alone: rtpengine 10.5
# lists AEAD_AES_256_GCM first, which baresip 1.0 picks and then cannot
# decrypt (refs/clients.md), and it has no SDES-only-SUITE yet.
NG_SDES_80_ONLY="SDES-no-AEAD_AES_256_GCM SDES-no-AEAD_AES_128_GCM SDES-no-AES_256_CM_HMAC_SHA1_80 SDES-no-AES_256_CM_HMAC_SHA1_32 SDES-no-AES_192_CM_HMAC_SHA1_80 SDES-no-AES_192_CM_HMAC_SHA1_32 SDES-no-AES_CM_128_HMAC_SHA1_32 SDES-no-F8_128_HMAC_SHA1_80 SDES-no-F8_128_HMAC_SHA1_32 SDES-no-NULL_HMAC_SHA1_80 SDES-no-NULL_HMAC_SHA1_32"
NG_OFFER_OUT=${NG_OFFER_OUT:-"replace-origin replace-session-connection ICE=remove rtcp-mux-demux DTLS=off RTP/SAVP $NG_SDES_80_ONLY direction=inside direction=outside"}
NG_ANSWER=${NG_ANSWER:-"replace-origin replace-session-connection ICE=remove"}

# sbk_ng ADDR PORT ARGS...: ng-send with short retries (prints the reply).
sbk_ng() {
	local a=$1 p=$2; shift 2
	timeout 20 "$NG_SEND" -n 3 -t 1000 "$a:$p" "$@"
}

# sbk_media_ports: a random media port range start (100 ports); the relays
# bind their own random 127.x address, so collisions are unlikely anyway.
sbk_media_base() { echo $(((RANDOM % 300) * 100 + 20000)); }

# sbk_rtpengine NAME OUTSIDE INSIDE NGADDR: rtpengine-daemon in userspace.
# Sets E2E_NGPORT.
sbk_rtpengine() {
	local name=$1 out=$2 in=$3 ng=$4 port base
	sbk_have rtpengine || { sbk_fail "rtpengine-daemon is not installed"; return 1; }
	port=$(sbk_freeport "$ng") || return 1
	base=$(sbk_media_base)
	sbk_spawn "$name" rtpengine --config-file=none --foreground \
	    --log-stderr --table=-1 --interface="outside/$out" \
	    --interface="inside/$in" --listen-ng="$ng:$port" \
	    --port-min="$base" --port-max="$((base + 99))"
	sbk_wait_port udp "$ng" "$port" 10 || return 1
	sbk_wait_for 10 sbk_ng "$ng" "$port" -q ping ||
	    { sbk_fail "$name: no pong"; return 1; }
	E2E_NGPORT=$port
}

# sbk_srtp_bridge_ng NAME OUTSIDE INSIDE NGADDR: srtp-bridge as an ng
# daemon. Returns 2 (with the reason in E2E_SKIP) when this srtp-bridge
# has no working ng mode yet, 1 on other failures. Sets E2E_NGPORT.
sbk_srtp_bridge_ng() {
	local name=$1 out=$2 in=$3 ng=$4 port base bin=$SBK_BIN/srtp-bridge pid
	E2E_SKIP=
	if [ ! -x "$bin" ]; then
		E2E_SKIP="build/bin/srtp-bridge does not exist yet"
		return 2
	fi
	if ! "$bin" --help 2>/dev/null | grep -q -- '--ng'; then
		E2E_SKIP="srtp-bridge has no --ng option yet"
		return 2
	fi
	port=$(sbk_freeport "$ng") || return 1
	base=$(sbk_media_base)
	sbk_spawn "$name" "$bin" --ng "$ng:$port" --outside "$out" \
	    --inside "$in" --port-min "$base" --port-max "$((base + 99))"
	pid=$E2E_PID
	if ! sbk_wait_for 5 sbk_ng "$ng" "$port" -q -n 1 -t 300 ping; then
		# skip only while srtp-bridge itself says ng mode is not there;
		# any other refusal (a changed option, a crash) is a failure
		if ! kill -0 "$pid" 2>/dev/null &&
		    grep -qiE 'ng.*not (built|implemented|supported)' \
		    "$E2E_DIR/$name.log"; then
			E2E_SKIP="srtp-bridge --ng is not usable yet: $(head -1 "$E2E_DIR/$name.log")"
			return 2
		fi
		sbk_fail "$name: no pong on $ng:$port; see $E2E_DIR/$name.log"
		return 1
	fi
	E2E_NGPORT=$port
}

# sbk_kamailio NAME ADDR NGADDR NGPORT BOB ALICE: Kamailio on ADDR (a free
# port, left in E2E_KAMPORT) routing user bob to BOB (host:port) and user
# alice to ALICE, with its rtpengine module on NGADDR:NGPORT.
sbk_kamailio() {
	local name=$1 addr=$2 ngaddr=$3 ngport=$4 bob=$5 alice=$6 port d cfg
	sbk_have kamailio || { sbk_fail "kamailio is not installed"; return 1; }
	d=$E2E_DIR/$name
	mkdir -p "$d"
	port=$(sbk_freeport "$addr") || return 1
	cfg=$(<"$KAMAILIO_CFG")
	cfg=${cfg//@ADDR@/$addr}
	cfg=${cfg//@PORT@/$port}
	cfg=${cfg//@MPATH@/$KAMAILIO_MODULES}
	cfg=${cfg//@NGADDR@/$ngaddr}
	cfg=${cfg//@NGPORT@/$ngport}
	cfg=${cfg//@BOB@/$bob}
	cfg=${cfg//@ALICE@/$alice}
	cfg=${cfg//@OFFER_IN@/$NG_OFFER_IN}
	cfg=${cfg//@OFFER_OUT@/$NG_OFFER_OUT}
	cfg=${cfg//@ANSWER@/$NG_ANSWER}
	printf '%s\n' "$cfg" > "$d/kamailio.cfg"
	kamailio -c -f "$d/kamailio.cfg" > "$d/check.log" 2>&1 ||
	    { sbk_fail "$name: config check failed: see $d/check.log"; return 1; }
	sbk_spawn "$name" kamailio -DD -E -f "$d/kamailio.cfg" -Y "$d" \
	    -P "$d/kamailio.pid" -w "$d" -m 64 -M 16
	sbk_wait_port udp "$addr" "$port" 10 || return 1
	E2E_KAMPORT=$port
}

# sbk_ng_extract PCAP PORT DIR [rep]: every ng datagram sent TO port PORT
# in PCAP (with "rep": sent FROM it, the replies), one file a datagram
# (DIR/req-NN.bin or DIR/rep-NN.bin), in capture order.
sbk_ng_extract() {
	local pcap=$1 port=$2 dir=$3 kind=${4:-req} n=0 hex field=udp.dstport
	[ "$kind" = rep ] && field=udp.srcport
	mkdir -p "$dir"
	while IFS= read -r hex; do
		[ -n "$hex" ] || continue
		n=$((n + 1))
		printf '%s' "$hex" | xxd -r -p > "$dir/$kind-$(printf %02d $n).bin"
	done < <(tshark -r "$pcap" -Y "$field == $port" -T fields \
	    -e udp.payload 2>/dev/null | tr -d ':')
	[ "$n" -gt 0 ]
}

# sbk_sdp_summary FILE: one line per m= line: "PROFILE crypto=N", where N
# counts the a=crypto lines of that media section.
sbk_sdp_summary() {
	tr -d '\r' < "$1" | awk '
	/^m=/ { if (m != "") print m " crypto=" c; split($0, f, " "); m = f[3]; c = 0 }
	/^a=crypto:/ { c++ }
	END { if (m != "") print m " crypto=" c }'
}
