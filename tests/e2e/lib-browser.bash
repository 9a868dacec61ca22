# lib-browser.bash - a real browser phone in the e2e tests: JsSIP in headless
# Chromium (tests/browser/driver.js, puppeteer-core) against any SIP-over-
# WebSocket gateway, and the labs it is tested in.
#
# Sourced after lib.bash. The browser side is gateway-agnostic: give it a
# WSS URL, an address of record and a tone, and it registers, calls or
# answers, and measures what it hears. The labs (sbk_lab_browser_*) build a
# gateway (Kamailio 5.6 + rtpengine as the reference; sbckit's
# sip-tls-term --listen-wss + srtp-bridge) with baresip "bob" inside on UDP,
# and leave in BROWSER_WSS, BROWSER_AOR, BOB_FROM_BROWSER and
# BROWSER_FROM_BOB what the scenarios (sbk_browser_call_out/_in) need.

SBK_BROWSER_DIR=${SBK_BROWSER_DIR:-$SBK_TOP/tests/browser}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Tones: the browser's microphone and what bob plays.
BROWSER_HZ=${BROWSER_HZ:-440}
BOB_HZ=${BOB_HZ:-1000}

# sbk_browser_deps: install tests/browser's npm packages (pinned by its
# package-lock.json) when they are missing; bounded; never a browser
# download (puppeteer-core has none, and scripts are not run). Sets
# E2E_SKIP and fails when the browser test cannot run here.
sbk_browser_deps() {
	E2E_SKIP=
	if [ ! -x "$CHROMIUM" ]; then
		E2E_SKIP="no $CHROMIUM (Debian package chromium; scripts/deps.sh check installs it)"
		return 1
	fi
	if ! sbk_netns_ok; then
		E2E_SKIP="needs a network namespace of its own (unshare --net, as root)"
		return 1
	fi
	if ! sbk_have node npm; then
		E2E_SKIP="needs node and npm"
		return 1
	fi
	if [ ! -d "$SBK_BROWSER_DIR/node_modules/jssip" ] ||
	    [ ! -d "$SBK_BROWSER_DIR/node_modules/puppeteer-core" ]; then
		if ! PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm ci --prefix \
		    "$SBK_BROWSER_DIR" --ignore-scripts --no-audit --no-fund \
		    > "${BATS_FILE_TMPDIR:-/tmp}/npm-ci.log" 2>&1; then
			E2E_SKIP="npm ci --prefix tests/browser failed: $(tail -1 "${BATS_FILE_TMPDIR:-/tmp}/npm-ci.log")"
			return 1
		fi
	fi
	return 0
}

# sbk_netns_ok: this shell can make a network namespace (root, unshare).
# The browser tests run in one whose only interface is lo: Chromium gathers
# ICE candidates on every interface it sees, and on the host it would also
# use the machine's other addresses (a check from one of them reaches the
# relay, which then answers there).
sbk_netns_ok() {
	unshare --net -- sh -c 'ip link set lo up' 2>/dev/null
}

# sbk_netns CMD...: run CMD (a function of lib.bash or this file, or a
# program) in a new network namespace with only lo (up: all of 127.0.0.0/8),
# in a child bash that sources both libraries. E2E_DIR and E2E_NET come from
# the caller's sbk_e2e_init (exported here); what the child spawns is in
# $E2E_DIR/pids as usual, stopped by the child when it ends and again by the
# caller's sbk_e2e_cleanup.
sbk_netns() {
	export E2E_DIR E2E_NET SBK_TOP SBK_BUILD SBK_BIN
	unshare --net -- bash -c '
	ip link set lo up || exit 1
	source "$SBK_TOP/tests/e2e/lib.bash" &&
	    source "$SBK_TOP/tests/e2e/lib-browser.bash" || exit 1
	declare -gA E2E_CTL=()
	export LC_ALL=C
	trap sbk_e2e_cleanup EXIT
	"$@"' sbk-netns "$@"
}

# sbk_browser_tone FILE HZ: the fake microphone's file (48 kHz mono 16-bit).
sbk_browser_tone() {
	sox -n -r 48000 -c 1 -b 16 "$1" synth 60 sine "$2" vol 0.5 \
	    2>"$1.log" || sbk_fail "sox: see $1.log"
}

# sbk_browser NAME WSS AOR STEP...: start the browser phone NAME (driver.js
# under timeout, its JSON event lines in $E2E_DIR/NAME.log, a screenshot in
# $E2E_DIR/NAME.png) playing $E2E_DIR/browser.wav, its page served from
# 127.0.0.1:$E2E_HTTP_PORT when set (a free port otherwise).
# E2E_BROWSER_PID is the PID to wait for.
sbk_browser() {
	local name=$1 wss=$2 aor=$3; shift 3
	[ -f "$E2E_DIR/browser.wav" ] ||
	    sbk_browser_tone "$E2E_DIR/browser.wav" "$BROWSER_HZ" || return 1
	sbk_spawn "$name" node "$SBK_BROWSER_DIR/driver.js" --wss "$wss" \
	    --uri "$aor" --tone "$E2E_DIR/browser.wav" --chromium "$CHROMIUM" \
	    ${E2E_HTTP_PORT:+--http-port "$E2E_HTTP_PORT"} \
	    --timeout "${E2E_BROWSER_TIMEOUT:-45}" \
	    --screenshot "$E2E_DIR/$name.png" "$@"
	E2E_BROWSER_PID=$E2E_PID
}

# sbk_browser_event NAME REGEX [SECONDS]: wait for a line of NAME's log
# that matches REGEX (grep -E); it is left in E2E_BEVENT. Fails at once
# when the driver has finished without it.
sbk_browser_event() {
	local name=$1 re=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 10; i++)); do
		E2E_BEVENT=$(grep -m1 -E "$re" "$E2E_DIR/$name.log")
		[ -n "$E2E_BEVENT" ] && return 0
		grep -q '"event":"done"' "$E2E_DIR/$name.log" && break
		sleep 0.1
	done
	sbk_fail "$name: no event /$re/ (see $E2E_DIR/$name.log)"
	sbk_browser_show "$name"
	return 1
}

# sbk_browser_done NAME [SECONDS]: wait for the driver to exit; its status.
sbk_browser_done() {
	local name=$1 secs=${2:-30} st
	sbk_wait_for "$secs" grep -q '"event":"done"' "$E2E_DIR/$name.log" ||
	    sbk_fail "$name: not done after ${secs}s"
	wait "$E2E_BROWSER_PID"; st=$?
	[ $st = 0 ] || { sbk_fail "$name: driver exited $st"; sbk_browser_show "$name"; }
	return $st
}

# sbk_browser_show NAME: the driver's failures and key events, as bats
# diagnostics (the full log stays in $E2E_DIR).
sbk_browser_show() {
	grep -E '"event":"(fail|heard|ice|pc|registrationFailed|failed|ended|call-ended|pageerror|console)"' \
	    "$E2E_DIR/$1.log" | cut -c1-400 | sed 's/^/# /' >&2
	return 0
}

# sbk_browser_heard NAME [N]: the N-th (default 1st) "heard" event of NAME,
# logged; succeeds when its "ok" is true.
sbk_browser_heard() {
	local line
	line=$(grep '"event":"heard"' "$E2E_DIR/$1.log" | sed -n "${2:-1}p")
	sbk_log "$1 heard: ${line:-nothing}"
	[[ $line == *'"ok":true'* ]]
}

# sbk_browser_stats NAME: the WebRTC stats of the last measure (codec,
# packets, DTLS-SRTP cipher and role, ICE pair), logged; succeeds when the
# media was DTLS-SRTP (DTLS connected, an SRTP cipher negotiated) over an
# ICE pair on 127.0.0.0/8 at both ends, with packets both ways.
sbk_browser_stats() {
	local s
	s=$(grep '"event":"listen"' "$E2E_DIR/$1.log" | tail -1 |
	    grep -o '"stats":{[^}]*}')
	sbk_log "$1 $s"
	[[ $s == *'"dtlsState":"connected"'* ]] &&
	[[ $s =~ \"srtpCipher\":\"SRTP_[A-Z0-9_]+\" ]] &&
	[[ $s =~ \"pair\":\"127\.[0-9.]+:[0-9]+\ -\>\ 127\.[0-9.]+:[0-9]+\" ]] &&
	[[ $s =~ \"packetsReceived\":[1-9][0-9] ]] &&
	[[ $s =~ \"packetsSent\":[1-9][0-9] ]] ||
	    { sbk_fail "$1: not DTLS-SRTP over loopback ICE: $s"; return 1; }
}

# sbk_browser_legs_start: capture the media legs of a lab (outside: the
# relay's address $MEXT; inside: $MINT), as "legs-out" and "legs-in".
sbk_browser_legs_start() {
	sbk_capture legs-out "udp and host $MEXT" &&
	    sbk_capture legs-in "udp and host $MINT and not port ${E2E_NG#*:}"
}

# sbk_browser_legs_check: stop the captures; the outside leg must carry
# STUN (ICE), a DTLS handshake and SRTP, never a plain 20 ms G.711 packet;
# the inside leg plain G.711 RTP only, no STUN nor DTLS.
sbk_browser_legs_check() {
	local out in
	sbk_capture_stop legs-out
	sbk_capture_stop legs-in
	out=$(_sbk_legs "$E2E_DIR/legs-out.pcap")
	in=$(_sbk_legs "$E2E_DIR/legs-in.pcap")
	sbk_log "media outside: $out"
	sbk_log "media inside:  $in"
	[[ $out =~ stun=[1-9] && $out =~ dtls=[1-9] && $out =~ srtp=[1-9][0-9] &&
	    $out == *' plain=0'* ]] &&
	[[ $in == 'stun=0 dtls=0 '* && $in =~ plain=[1-9][0-9] ]] ||
	    { sbk_fail "media legs: outside: $out; inside: $in"; return 1; }
}

# _sbk_legs PCAP: "stun=N dtls=N srtp=N plain=N": STUN and DTLS packets;
# RTP-looking packets bigger than a plain 20 ms G.711 one (an SRTP tag);
# plain 20 ms G.711 RTP (12 + 160 bytes).
_sbk_legs() {
	tshark -r "$1" -o rtp.heuristic_rtp:TRUE -T fields \
	    -e frame.protocols -e udp.length 2>/dev/null |
	awk '
	$1 ~ /:stun/ { st++; next }
	$1 ~ /:dtls/ { d++; next }
	$1 ~ /:rtp$/ { if ($2 == 180) p++; else if ($2 > 180) s++ }
	END { printf "stun=%d dtls=%d srtp=%d plain=%d\n", st, d, s, p }'
}

# --- scenarios: the same against any gateway ---------------------------

# sbk_browser_call_out WSS AOR PEER TARGET: the browser registers at WSS as
# AOR and calls TARGET, which baresip PEER answers; each side must hear the
# other's tone (browser: BOB_HZ by WebAudio; PEER: BROWSER_HZ by tonecheck
# on its recording); the browser hangs up and PEER must see the call end.
sbk_browser_call_out() {
	local wss=$1 aor=$2 peer=$3 target=$4
	sbk_mark "$peer"
	sbk_browser browser "$wss" "$aor" register "call:$target" \
	    "listen:2:$BOB_HZ" hangup || return 1
	sbk_browser_event browser '"event":"registered"' 15 || return 1
	sbk_event "$peer" CALL_ESTABLISHED 15 || { sbk_browser_show browser; return 1; }
	sbk_browser_event browser '"event":"heard"' 20 || return 1
	sbk_event "$peer" CALL_CLOSED 10 || return 1
	sbk_browser_done browser 15 || return 1
	sleep 0.3	# sndfile closes its WAVs after the call is gone
	sbk_browser_heard browser && sbk_browser_stats browser &&
	    sbk_heard "$peer" "$BROWSER_HZ"
}

# sbk_browser_call_in WSS AOR PEER URI: the browser registers at WSS as AOR
# and waits; baresip PEER dials URI (the browser through the gateway); the
# browser answers; each side must hear the other's tone; PEER hangs up and
# the browser must see the BYE.
sbk_browser_call_in() {
	local wss=$1 aor=$2 peer=$3 uri=$4
	sbk_browser browser "$wss" "$aor" register answer "listen:2:$BOB_HZ" \
	    ended || return 1
	sbk_browser_event browser '"event":"registered"' 15 || return 1
	sbk_browser_event browser '"step":"answer"' 5 || return 1
	sbk_mark "$peer"
	sbk_cmd "$peer" dial "$uri" || return 1
	sbk_event "$peer" CALL_ESTABLISHED 15 || { sbk_browser_show browser; return 1; }
	sbk_browser_event browser '"event":"heard"' 20 || return 1
	sbk_cmd "$peer" hangup || return 1
	sbk_event "$peer" CALL_CLOSED 10 || return 1
	sbk_browser_event browser '"event":"call-ended"' 10 || return 1
	sbk_browser_done browser 15 || return 1
	sleep 0.3
	sbk_browser_heard browser && sbk_browser_stats browser &&
	    sbk_heard "$peer" "$BROWSER_HZ"
}

# sbk_browser_drop WSS AOR PEER TARGET: the browser calls TARGET (baresip
# PEER answers), hears it, then its page is closed at once: no BYE, the
# WebSocket and the media just go. The gateway must end the call towards
# PEER by itself within 10 s (PEER sees CALL_CLOSED).
sbk_browser_drop() {
	local wss=$1 aor=$2 peer=$3 target=$4
	sbk_mark "$peer"
	sbk_browser browser "$wss" "$aor" register "call:$target" \
	    "listen:1:$BOB_HZ" drop || return 1
	sbk_event "$peer" CALL_ESTABLISHED 15 || { sbk_browser_show browser; return 1; }
	sbk_browser_event browser '"event":"dropped"' 20 || return 1
	sbk_browser_done browser 15 || return 1
	sbk_browser_heard browser || return 1
	sbk_event "$peer" CALL_CLOSED 10 || return 1
	sbk_log "$peer: $(grep -o '"param":"[^"]*"' <<< "$E2E_EVENT")"
}

# sbk_browser_refused WSS AOR: the page, served from an origin the gateway
# does not allow ($E2E_HTTP_PORT moved to another free port), must not
# register: its WebSocket is refused (closed) and no REGISTER gets in.
sbk_browser_refused() {
	local wss=$1 aor=$2 allowed=${E2E_HTTP_PORT:-}
	E2E_HTTP_PORT=$(sbk_freeport 127.0.0.1) || return 1
	[ "$E2E_HTTP_PORT" != "$allowed" ] || return 1
	sbk_browser browser "$wss" "$aor" refused:3 || return 1
	sbk_browser_done browser 20 || return 1
	E2E_HTTP_PORT=$allowed
}

# --- labs ----------------------------------------------------------------

# sbk_lab_browser_kamailio: the reference WebRTC gateway: rtpengine
# (--dtls-passive; interfaces ext on $E2E_NET.3, int on .4) and Kamailio
# (conf/kamailio-ws.cfg: WSS on .1, UDP on .2); bob (baresip, UDP, .30)
# registered at Kamailio's UDP side.
sbk_lab_browser_kamailio() {
	EXT=$E2E_NET.1 INT=$E2E_NET.2 MEXT=$E2E_NET.3 MINT=$E2E_NET.4
	local d=$E2E_DIR/kamailio conf=$SBK_TOP/tests/e2e/conf ng base
	sbk_certs "$E2E_DIR/pki" "$EXT" || return 1
	sbk_tone "$E2E_DIR/bob.wav" "$BOB_HZ" || return 1
	ng=$(sbk_freeport "$MINT") || return 1
	base=$((30000 + (RANDOM % 300) * 100))
	E2E_NG=$MINT:$ng
	sbk_spawn rtpengine rtpengine --config-file=none --foreground \
	    --log-stderr --log-level=6 --table=-1 --dtls-passive \
	    --interface="ext/$MEXT" --interface="int/$MINT" \
	    --listen-ng="$E2E_NG" --port-min=$base --port-max=$((base + 99))
	sbk_wait_port udp "$MINT" "$ng" 10 || return 1
	mkdir -p "$d"
	E2E_KAM_WSS=$(sbk_freeport "$EXT") || return 1
	E2E_KAM_UDP=$(sbk_freeport "$INT") || return 1
	sed -e "s|@CERT@|$E2E_DIR/pki/gw.pem|; s|@KEY@|$E2E_DIR/pki/gw.key|" \
	    "$conf/kamailio-tls.cfg" > "$d/tls.cfg"
	sed -e "s|@EXT@|$EXT|g; s|@INT@|$INT|g; s|@WSSPORT@|$E2E_KAM_WSS|g" \
	    -e "s|@UDPPORT@|$E2E_KAM_UDP|g; s|@MODULES@|$KAMAILIO_MODULES|g" \
	    -e "s|@TLSCFG@|$d/tls.cfg|g; s|@RUNDIR@|$d|g; s|@NG@|$E2E_NG|g" \
	    -e "s|@OUTIF@|ext|g; s|@INIF@|int|g" \
	    "$conf/kamailio-ws.cfg" > "$d/kamailio.cfg"
	kamailio -c -f "$d/kamailio.cfg" > "$d/check.log" 2>&1 ||
	    { sbk_fail "kamailio config: see $d/check.log"; return 1; }
	sbk_spawn kamailio kamailio -DD -E -f "$d/kamailio.cfg" -Y "$d" \
	    -P "$d/kamailio.pid" -m 64 -M 16
	sbk_wait_port tcp "$EXT" "$E2E_KAM_WSS" 15 &&
	    sbk_wait_port udp "$INT" "$E2E_KAM_UDP" 5 || return 1
	sbk_baresip bob "$E2E_NET.30" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$INT:$E2E_KAM_UDP>;regint=600;answermode=auto;audio_codecs=pcmu" ||
	    return 1
	sbk_registered bob || return 1
	BROWSER_WSS="wss://$EXT:$E2E_KAM_WSS"
	BROWSER_AOR="sip:alice@$EXT"
	BOB_FROM_BROWSER="sip:bob@$EXT"
	BROWSER_FROM_BOB="sip:alice@$INT:$E2E_KAM_UDP"
}

# sbk_lab_browser_sbckit: sbckit's own WebRTC gateway: srtp-bridge as the
# ng relay (DTLS-SRTP + ICE-lite outside on $E2E_NET.3, RTP inside on .4)
# and sip-tls-term with its built-in registrar (WSS and TLS on .1, UDP
# inside on .2, --ws-origin the page's origin only), upstream bob
# (baresip, UDP, .30, not registering). Returns 2 with the reason in
# E2E_SKIP when these tools have no WebSocket listener yet.
sbk_lab_browser_sbckit() {
	EXT=$E2E_NET.1 INT=$E2E_NET.2 MEXT=$E2E_NET.3 MINT=$E2E_NET.4
	local bobip=$E2E_NET.30 wss tls udp
	E2E_SKIP=
	if ! "$SBK_BIN/sip-tls-term" --help 2>&1 | grep -q -- '--listen-wss'; then
		E2E_SKIP="sip-tls-term has no --listen-wss yet"
		return 2
	fi
	sbk_certs "$E2E_DIR/pki" "$EXT" || return 1
	sbk_tone "$E2E_DIR/bob.wav" "$BOB_HZ" || return 1
	sbk_srtp_bridge "$MEXT" "$MINT" || return 1
	sbk_baresip bob "$bobip" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$bobip:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu" ||
	    return 1
	{ read -r wss; read -r tls; read -r E2E_HTTP_PORT; } \
	    <<< "$(sbk_freeport "$EXT" 2; sbk_freeport 127.0.0.1)" || return 1
	udp=$(sbk_freeport "$INT") || return 1
	E2E_GW_WSS=$wss E2E_GW_TLS=$tls E2E_GW_UDP=$udp
	sbk_spawn sip-tls-term "$SBK_BIN/sip-tls-term" \
	    --listen "$EXT:$tls" --listen-wss "$EXT:$wss" \
	    --ws-origin "http://127.0.0.1:$E2E_HTTP_PORT" \
	    --cert "$E2E_DIR/pki/gw.pem" --key "$E2E_DIR/pki/gw.key" \
	    --upstream "udp:$bobip:$(sbk_sipport bob)" --inside "$INT:$udp" \
	    --registrar --media "ng:$E2E_NG" --media-direction outside,inside \
	    --tls-keylog "$E2E_DIR/tls.keys" -v
	sbk_wait_port tcp "$EXT" "$wss" 10 && sbk_wait_port udp "$INT" "$udp" 5 ||
	    return 1
	BROWSER_WSS="wss://$EXT:$wss"
	BROWSER_AOR="sip:alice@$EXT"
	BOB_FROM_BROWSER="sip:bob@$EXT:$wss"
	BROWSER_FROM_BOB="sip:alice@$INT:$udp"
}

# sbk_browser_scenario LAB out|in|drop|refused: build LAB
# (sbk_lab_browser_LAB) and run a call out of the browser or into it (with
# its media legs captured and checked), the browser lost mid-call, or its
# origin refused. Meant for sbk_netns.
sbk_browser_scenario() {
	local lab=$1 dir=$2
	"sbk_lab_browser_$lab" || return
	case $dir in
	out) sbk_browser_legs_start &&
		sbk_browser_call_out "$BROWSER_WSS" "$BROWSER_AOR" bob "$BOB_FROM_BROWSER" &&
		sbk_browser_legs_check ;;
	in) sbk_browser_legs_start &&
		sbk_browser_call_in "$BROWSER_WSS" "$BROWSER_AOR" bob "$BROWSER_FROM_BOB" &&
		sbk_browser_legs_check ;;
	drop) sbk_browser_drop "$BROWSER_WSS" "$BROWSER_AOR" bob "$BOB_FROM_BROWSER" ;;
	refused) sbk_browser_refused "$BROWSER_WSS" "$BROWSER_AOR" ;;
	*) sbk_fail "sbk_browser_scenario: out, in, drop or refused, not $dir" ;;
	esac
}
