# lib.bash - end-to-end harness: lab PKI, tones, baresip clients, processes.
#
# Sourced by tests/e2e/*.bats and scripts/demo.sh. Needs SBK_BUILD (for the
# helpers freeport and tonecheck) and SBK_TOP. Conventions:
#   - sbk_e2e_init NAME makes the run directory E2E_DIR (logs, configs,
#     recordings, captures: kept after the run for debugging) and a random
#     loopback /24, E2E_NET (e.g. 127.83.17), so parallel runs never collide;
#   - every process is started by sbk_spawn under `timeout` and recorded;
#     sbk_e2e_cleanup kills them all by PID (TERM, then KILL);
#   - baresip clients are driven over ctrl_tcp (netstring JSON): one
#     connection per client, held open by this shell, with a reader in the
#     background that writes every event and response as one JSON line to
#     $E2E_DIR/NAME/events.
# Nothing here uses fixed well-known ports.

SBK_BUILD=${SBK_BUILD:-$SBK_TOP/build}
SBK_BIN=${SBK_BIN:-$SBK_BUILD/bin}
E2E_TIMEOUT=${E2E_TIMEOUT:-120}		# upper bound for any spawned process
BARESIP_MODULES=${BARESIP_MODULES:-/usr/lib/baresip/modules}
KAMAILIO_MODULES=${KAMAILIO_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}

sbk_log() { printf '# %s\n' "$*" >&2; }
sbk_fail() { printf 'e2e: %s\n' "$*" >&2; return 1; }

# sbk_e2e_init NAME: fresh run directory and random loopback network.
sbk_e2e_init() {
	local name=$1
	E2E_DIR=${E2E_ROOT:-$SBK_BUILD/e2e}/$name
	rm -rf "$E2E_DIR"
	mkdir -p "$E2E_DIR"
	E2E_NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 254 + 1))
	: > "$E2E_DIR/pids"
	declare -gA E2E_CTL=()
	export LC_ALL=C
}

# sbk_have CMD...: all commands exist.
sbk_have() {
	local c
	for c; do command -v "$c" >/dev/null 2>&1 || return 1; done
}

# sbk_freeport ADDR [COUNT]: free UDP+TCP port(s) on ADDR.
sbk_freeport() { "$SBK_BUILD/tests/helpers/freeport" "$@"; }

# sbk_spawn NAME CMD...: start CMD in the background under timeout, output
# to $E2E_DIR/NAME.log; the PID is recorded for cleanup and left in
# E2E_PID. The process gets no terminal fds of the caller (bats' fd 3).
sbk_spawn() {
	local name=$1; shift
	timeout -k 2 "$E2E_TIMEOUT" "$@" </dev/null >"$E2E_DIR/$name.log" 2>&1 3>&- &
	E2E_PID=$!
	echo "$E2E_PID $name" >> "$E2E_DIR/pids"
}

# sbk_stop NAME: stop one spawned process by name (TERM, then KILL).
sbk_stop() {
	local pid n
	while read -r pid n; do
		[ "$n" = "$1" ] && sbk_kill_pid "$pid"
	done < "$E2E_DIR/pids"
	return 0
}

sbk_kill_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return 0
}

# sbk_e2e_cleanup: close control connections and kill everything spawned:
# TERM to all at once, up to 1.5 s to exit, then KILL.
sbk_e2e_cleanup() {
	local name pid n i pids=()
	[ -n "${E2E_DIR:-}" ] && [ -f "$E2E_DIR/pids" ] || return 0
	for name in "${!E2E_CTL[@]}"; do
		eval "exec ${E2E_CTL[$name]}>&-" 2>/dev/null
	done
	E2E_CTL=()
	while read -r pid n; do pids+=("$pid"); done < "$E2E_DIR/pids"
	: > "$E2E_DIR/pids"
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < 15; i++)); do
		kill -0 "${pids[@]}" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	return 0
}

# sbk_wait_port PROTO ADDR PORT [SECONDS]: wait until something listens.
sbk_wait_port() {
	local proto=$1 addr=$2 port=$3 secs=${4:-10} i flag=-ltn
	[ "$proto" = udp ] && flag=-lun
	for ((i = 0; i < secs * 10; i++)); do
		ss -H "$flag" "src $addr:$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	sbk_fail "nothing listens on $proto $addr:$port after ${secs}s"
}

# sbk_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
sbk_wait_for() {
	local secs=$1 i; shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# --- lab PKI -----------------------------------------------------------

# sbk_certs DIR IP...: lab CA (ca.pem, ca.key) and a gateway certificate
# (gw.pem, gw.key; ECDSA P-256, SAN for every IP) signed by it.
sbk_certs() {
	local dir=$1 san="" ip; shift
	for ip; do san="${san:+$san,}IP:$ip"; done
	mkdir -p "$dir"
	(
	cd "$dir" || exit 1
	openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
	openssl req -x509 -new -key ca.key -sha256 -days 2 \
	    -subj "/CN=sbckit lab CA" -out ca.pem \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign &&
	openssl ecparam -name prime256v1 -genkey -noout -out gw.key &&
	openssl req -new -key gw.key -subj "/CN=${1:-sbckit gateway}" \
	    -out gw.csr &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" \
	    > gw.ext &&
	openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -sha256 -extfile gw.ext -out gw.pem &&
	chmod 600 ca.key gw.key
	) >"$dir/openssl.log" 2>&1 || sbk_fail "certificates: see $dir/openssl.log"
}

# --- audio -------------------------------------------------------------

# sbk_tone FILE HZ [SECONDS]: 8 kHz mono 16-bit sine, long enough that
# baresip's aufile source (which ends the call when the file ends) outlasts
# the call.
sbk_tone() {
	sox -n -r 8000 -c 1 -b 16 "$1" synth "${3:-60}" sine "$2" vol 0.5 \
	    2>"$1.log" || sbk_fail "sox: see $1.log"
}

# sbk_tonecheck WAV HZ: does HZ dominate what was recorded? Prints the
# measure ("freq=440 level=-9.0 active=3.90 purity=1.00").
sbk_tonecheck() {
	"$SBK_BUILD/tests/helpers/tonecheck" --expect "$2" "$1"
}

# --- baresip -----------------------------------------------------------

# sbk_baresip NAME ADDR TONE ACCOUNT [CAFILE]: write a config directory
# $E2E_DIR/NAME, start baresip (SIP on ADDR, a free port; RTP on a free
# range; ctrl_tcp on a free port), connect to its ctrl_tcp and start the
# event reader. ACCOUNT is the accounts line; "@SIPPORT@" in it is replaced
# by the SIP port chosen. Sets E2E_SIPPORT (of this client).
sbk_baresip() {
	local name=$1 addr=$2 tone=$3 account=$4 ca=${5:-} d ports sip ctl rtp
	d=$E2E_DIR/$name
	mkdir -p "$d/rec"
	ports=$(sbk_freeport "$addr" 2) || return 1
	{ read -r sip; read -r ctl; } <<< "$ports"
	rtp=$(sbk_rtp_range) || return 1
	cat > "$d/config" <<-EOF
	poll_method	epoll
	sip_listen	$addr:$sip
	net_interface	$addr
	${ca:+sip_cafile	$ca}
	audio_source	aufile,$tone
	audio_player	alsa,null
	audio_alert	alsa,null
	rtp_ports	$rtp-$((rtp + 39))
	rtcp_mux	no
	module_path	$BARESIP_MODULES
	module		g711.so
	module		aufile.so
	module		alsa.so
	module		sndfile.so
	module		srtp.so
	module_tmp	uuid.so
	module_tmp	account.so
	module_app	menu.so
	module_app	ctrl_tcp.so
	ctrl_tcp_listen	$addr:$ctl
	snd_path	$d/rec
	EOF
	# E2E_CONF_NAME: extra config lines for this client (e.g. rtp_timeout)
	local extra=E2E_CONF_$name
	[ -n "${!extra:-}" ] && printf '%s\n' "${!extra}" >> "$d/config"
	printf '%s\n' "${account//@SIPPORT@/$sip}" > "$d/accounts"
	: > "$d/contacts"
	: > "$d/events"
	echo "$sip" > "$d/sipport"
	E2E_SIPPORT=$sip
	sbk_spawn "$name" baresip -s -f "$d"
	sbk_wait_port tcp "$addr" "$ctl" 10 || return 1
	local fd
	exec {fd}<>"/dev/tcp/$addr/$ctl" || return 1
	E2E_CTL[$name]=$fd
	# The reader: one JSON document a line. read -N counts bytes (LC_ALL=C).
	(
	exec 3>&-
	while IFS= read -r -d : len && IFS= read -r -N "$len" body &&
	    IFS= read -r -N 1 _; do
		printf '%s\n' "$body"
	done
	) <&"$fd" >> "$d/events" 2>/dev/null &
	echo "$! $name-ctl" >> "$E2E_DIR/pids"
}

# sbk_rtp_range: the first of 40 UDP ports (20000-29999) nobody listens on,
# on any address: baresip binds its RTP sockets to the wildcard address
# (and sends from 127.0.0.1), so a port taken on any 127.x address makes
# its call fail with "Address already in use". The relays use 30000 up.
sbk_rtp_range() {
	local base i used
	used=$(ss -Hlun 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for i in 1 2 3 4 5 6 7 8 9 10; do
		base=$((20000 + (RANDOM % 250) * 40))
		awk -v b=$base 'BEGIN { bad = 0 } $1 >= b && $1 < b + 40 { bad = 1 }
		    END { exit bad }' <<< "$used" && { echo $base; return 0; }
	done
	sbk_fail "no free RTP port range"
}

# sbk_sipport NAME: the SIP port chosen for a client.
sbk_sipport() { cat "$E2E_DIR/$1/sipport"; }

# sbk_cmd NAME COMMAND [PARAMS]: send a ctrl_tcp command and wait (5 s) for
# its response; succeed if it says ok. The response is left in E2E_RESP.
sbk_cmd() {
	local name=$1 cmd=$2 params=${3:-} fd tok msg
	fd=${E2E_CTL[$name]:?no control connection for $name}
	tok=t$RANDOM$RANDOM
	msg=$(printf '{"command":"%s","params":"%s","token":"%s"}' \
	    "$cmd" "$params" "$tok")
	printf '%d:%s,' "${#msg}" "$msg" >&"$fd" || return 1
	sbk_wait_for 5 grep -q "\"token\":\"$tok\"" "$E2E_DIR/$name/events" ||
	    { sbk_fail "$name: no response to $cmd"; return 1; }
	E2E_RESP=$(grep "\"token\":\"$tok\"" "$E2E_DIR/$name/events")
	[[ $E2E_RESP == *'"ok":true'* ]] ||
	    { sbk_fail "$name: $cmd: $E2E_RESP"; return 1; }
}

# sbk_mark NAME: remember how many events NAME has seen, so the next
# sbk_event only looks at newer ones.
sbk_mark() {
	wc -l < "$E2E_DIR/$1/events" > "$E2E_DIR/$1/mark"
}

# sbk_event NAME TYPE [SECONDS]: wait for an event of TYPE after the mark.
# The event's JSON is left in E2E_EVENT.
sbk_event() {
	local name=$1 type=$2 secs=${3:-10} from=0
	[ -f "$E2E_DIR/$name/mark" ] && from=$(cat "$E2E_DIR/$name/mark")
	_sbk_ev() {
		E2E_EVENT=$(tail -n +"$((from + 1))" "$E2E_DIR/$name/events" |
		    grep -m1 "\"type\":\"$type\"")
	}
	sbk_wait_for "$secs" _sbk_ev ||
	    { sbk_fail "$name: no $type within ${secs}s"; return 1; }
}

# sbk_newest_rec NAME: the newest recording of what NAME heard.
sbk_newest_rec() {
	ls -t "$E2E_DIR/$1"/rec/*-dec.wav 2>/dev/null | head -1
}

# sbk_call FROM TO URI [SECONDS]: FROM dials URI, TO auto-answers; both
# must see CALL_ESTABLISHED; audio flows SECONDS (default 3); FROM hangs
# up; both must see CALL_CLOSED. Sets E2E_SETUP_MS (dial to established).
sbk_call() {
	local from=$1 to=$2 uri=$3 secs=${4:-3} t0 t1
	sbk_mark "$from"; sbk_mark "$to"
	t0=$(date +%s%N)
	sbk_cmd "$from" dial "$uri" || return 1
	sbk_event "$from" CALL_ESTABLISHED 15 || return 1
	t1=$(date +%s%N)
	E2E_SETUP_MS=$(((t1 - t0) / 1000000))
	sbk_event "$to" CALL_ESTABLISHED 5 || return 1
	sleep "$secs"
	sbk_cmd "$from" hangup || return 1
	sbk_event "$from" CALL_CLOSED 10 || return 1
	sbk_event "$to" CALL_CLOSED 10 || return 1
	sleep 0.3	# sndfile closes its WAVs after the call is gone
}

# sbk_heard NAME HZ: NAME's newest recording is dominated by HZ. Prints
# the measurement as a bats diagnostic.
sbk_heard() {
	local wav out st
	wav=$(sbk_newest_rec "$1")
	[ -n "$wav" ] || { sbk_fail "$1: no recording"; return 1; }
	out=$(sbk_tonecheck "$wav" "$2"); st=$?
	sbk_log "$1 heard: $out (want $2 Hz)"
	return $st
}

# --- captures ----------------------------------------------------------

# sbk_capture NAME FILTER: tcpdump on lo into $E2E_DIR/NAME.pcap.
sbk_capture() {
	sbk_spawn "cap-$1" tcpdump -i lo --immediate-mode -U -s 0 -w "$E2E_DIR/$1.pcap" "$2"
	sbk_wait_for 5 grep -q 'listening on' "$E2E_DIR/cap-$1.log"
}

# sbk_capture_stop NAME: end a capture so the file is complete. What
# tcpdump has not yet written when it is stopped is lost ("362 received
# by filter, 166 captured" before --immediate-mode, when packets waited
# for a 1 s block timeout): wait until the file stops growing (at most
# ~6 s) first.
sbk_capture_stop() {
	local f=$E2E_DIR/$1.pcap a b i
	b=$(stat -c %s "$f" 2>/dev/null || echo 0)
	for i in $(seq 20); do
		sleep 0.3
		a=$b
		b=$(stat -c %s "$f" 2>/dev/null || echo 0)
		[ "$a" = "$b" ] && break
	done
	sbk_stop "cap-$1"
}

# --- reference SBC from Debian parts: rtpengine + Kamailio -------------

# sbk_rtpengine EXT INT: rtpengine in userspace, interfaces "ext" on EXT
# and "int" on INT, ng on INT and a free port (E2E_NG=ADDR:PORT); waits
# until it answers on the ng port.
sbk_rtpengine() {
	local ext=$1 int=$2 ng base
	ng=$(sbk_freeport "$int") || return 1
	base=$((30000 + (RANDOM % 300) * 100))
	E2E_NG=$int:$ng
	sbk_spawn rtpengine rtpengine --config-file=none --foreground \
	    --log-stderr --log-level=6 --table=-1 \
	    --interface="ext/$ext" --interface="int/$int" \
	    --listen-ng="$E2E_NG" --port-min=$base --port-max=$((base + 99))
	sbk_wait_port udp "$int" "$ng" 10
}

# sbk_srtp_bridge OUTSIDE INSIDE: sbckit's media relay as an ng daemon,
# ng on INSIDE and a free port (E2E_NG), key log in $E2E_DIR/keys.log;
# words in E2E_BRIDGE_ARGS are passed on.
sbk_srtp_bridge() {
	local out=$1 in=$2 ng base
	ng=$(sbk_freeport "$in") || return 1
	base=$((30000 + (RANDOM % 300) * 100))
	E2E_NG=$in:$ng
	E2E_KEYLOG=$E2E_DIR/keys.log
	sbk_spawn srtp-bridge "$SBK_BIN/srtp-bridge" --ng "$E2E_NG" \
	    --outside "$out" --inside "$in" --port-min $base \
	    --port-max $((base + 99)) --keylog "$E2E_KEYLOG" -v \
	    ${E2E_BRIDGE_ARGS:-}
	sbk_wait_port udp "$in" "$ng" 10
}

# sbk_kamailio EXT INT CERT KEY [OUTIF INIF]: the reference SBC
# (conf/kamailio-sbc.cfg): TLS on EXT, UDP on INT, both on free ports
# (E2E_KAM_TLS, E2E_KAM_UDP), media through the ng relay at E2E_NG, whose
# interfaces are named OUTIF and INIF (rtpengine here: ext, int;
# srtp-bridge: outside, inside).
sbk_kamailio() {
	local ext=$1 int=$2 cert=$3 key=$4 oif=${5:-ext} iif=${6:-int}
	local d=$E2E_DIR/kamailio conf
	mkdir -p "$d"
	conf=$SBK_TOP/tests/e2e/conf
	E2E_KAM_TLS=$(sbk_freeport "$ext") || return 1
	E2E_KAM_UDP=$(sbk_freeport "$int") || return 1
	sed -e "s|@CERT@|$cert|; s|@KEY@|$key|" "$conf/kamailio-tls.cfg" \
	    > "$d/tls.cfg"
	sed -e "s|@EXT@|$ext|g; s|@INT@|$int|g; s|@TLSPORT@|$E2E_KAM_TLS|g" \
	    -e "s|@UDPPORT@|$E2E_KAM_UDP|g; s|@MODULES@|$KAMAILIO_MODULES|g" \
	    -e "s|@TLSCFG@|$d/tls.cfg|g; s|@RUNDIR@|$d|g; s|@NG@|$E2E_NG|g" \
	    -e "s|@OUTIF@|$oif|g; s|@INIF@|$iif|g" \
	    "$conf/kamailio-sbc.cfg" > "$d/kamailio.cfg"
	kamailio -c -f "$d/kamailio.cfg" > "$d/check.log" 2>&1 ||
	    { sbk_fail "kamailio config: see $d/check.log"; return 1; }
	sbk_spawn kamailio kamailio -DD -E -f "$d/kamailio.cfg" -Y "$d" \
	    -P "$d/kamailio.pid" -m 64 -M 16
	sbk_wait_port tcp "$ext" "$E2E_KAM_TLS" 15 &&
	    sbk_wait_port udp "$int" "$E2E_KAM_UDP" 5
}

# sbk_registered NAME [SECONDS]: wait until NAME's account is registered
# (asked with `reginfo`: baresip registers before ctrl_tcp is connected,
# so the REGISTER_OK event itself may come too early to be seen).
sbk_registered() {
	_sbk_reg() { sbk_cmd "$1" reginfo 2>/dev/null && [[ $E2E_RESP == *'[32mOK'* ]]; }
	sbk_wait_for "${2:-10}" _sbk_reg "$1" ||
	    { sbk_fail "$1: not registered: $E2E_RESP"; return 1; }
}

# sbk_pcap_classes PCAP: count what tshark sees, one line:
#   "tls=N sip=N rtp=N srtp80=N plain=N other=N"
# rtp: UDP packets that look like RTP (heuristic); srtp80: of those, ones
# the size of a 20 ms G.711 packet plus an 80-bit SRTP tag (12+160+10
# bytes); plain: exactly a 20 ms G.711 RTP packet (12+160 bytes).
sbk_pcap_classes() {
	tshark -r "$1" -o rtp.heuristic_rtp:TRUE \
	    -o udp.try_heuristic_first:TRUE -T fields \
	    -e frame.protocols -e udp.length 2>/dev/null |
	awk '
	{ p = $1; u = $2 }
	p ~ /:tls/ { tls++; next }
	p ~ /:sip/ { sip++; next }
	p ~ /:rtp$/ { rtp++; if (u == 190) s++; else if (u == 180) pl++; next }
	p ~ /:rtcp/ { next }
	p ~ /:udp|:tcp/ { o++ }
	END { printf "tls=%d sip=%d rtp=%d srtp80=%d plain=%d other=%d\n",
	    tls, sip, rtp, s, pl, o }'
}

# sbk_pcap_get CLASSES KEY: one count out of sbk_pcap_classes' line.
sbk_pcap_get() {
	local kv
	for kv in $1; do
		[ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }
	done
	echo 0
}

# --- whole labs ----------------------------------------------------------

# sbk_lab_tones: the two tone files (Alice 440 Hz, Bob 1000 Hz).
sbk_lab_tones() {
	sbk_tone "$E2E_DIR/alice.wav" 440 && sbk_tone "$E2E_DIR/bob.wav" 1000
}

# sbk_lab_phones GW_TLS BOB_REGISTRAR: start Alice (registering over TLS
# at GW_TLS = ADDR:PORT, mandatory SRTP, trusting $E2E_DIR/pki/ca.pem) and
# Bob (registering over UDP at BOB_REGISTRAR = ADDR:PORT) and wait until
# both are registered. Sets BOB_FROM_ALICE, ALICE_FROM_BOB (the URIs each
# dials).
sbk_lab_phones() {
	local gw="$1;transport=tls" reg=$2
	sbk_baresip alice "$E2E_NET.10" "$E2E_DIR/alice.wav" \
	    "<sip:alice@$gw>;regint=600;mediaenc=srtp-mand;audio_codecs=pcmu;answermode=auto;outbound=\"sip:$gw\"" \
	    "$E2E_DIR/pki/ca.pem" || return 1
	sbk_baresip bob "$E2E_NET.30" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$reg>;regint=600;answermode=auto;audio_codecs=pcmu" ||
	    return 1
	sbk_registered alice && sbk_registered bob || return 1
	BOB_FROM_ALICE="sip:bob@$gw"
	ALICE_FROM_BOB="sip:alice@$reg"
}

# sbk_lab_kamailio RELAY: the Kamailio SBC with RELAY (rtpengine or
# srtp-bridge) for media: TLS on $E2E_NET.1, UDP on .2, media outside on
# .3, inside on .4; captures "outside" and "inside" running; both phones
# registered.
sbk_lab_kamailio() {
	local relay=$1
	EXT=$E2E_NET.1 INT=$E2E_NET.2 MEXT=$E2E_NET.3 MINT=$E2E_NET.4
	sbk_certs "$E2E_DIR/pki" "$EXT" && sbk_lab_tones || return 1
	case $relay in
	rtpengine) sbk_rtpengine "$MEXT" "$MINT" || return 1
		sbk_kamailio "$EXT" "$INT" "$E2E_DIR/pki/gw.pem" \
		    "$E2E_DIR/pki/gw.key" ext int || return 1 ;;
	srtp-bridge) sbk_srtp_bridge "$MEXT" "$MINT" || return 1
		sbk_kamailio "$EXT" "$INT" "$E2E_DIR/pki/gw.pem" \
		    "$E2E_DIR/pki/gw.key" outside inside || return 1 ;;
	esac
	sbk_capture outside "host $EXT or host $MEXT" &&
	sbk_capture inside "(host $INT or host $MINT) and not port ${E2E_NG#*:}" &&
	sbk_lab_phones "$EXT:$E2E_KAM_TLS" "$INT:$E2E_KAM_UDP"
}

# sbk_check_legs: stop the captures; the outside leg must carry only TLS
# and SRTP (G.711 + 80-bit tag), the inside only SIP and plain G.711 RTP.
sbk_check_legs() {
	local out in
	sbk_capture_stop outside
	sbk_capture_stop inside
	out=$(sbk_pcap_classes "$E2E_DIR/outside.pcap")
	in=$(sbk_pcap_classes "$E2E_DIR/inside.pcap")
	sbk_log "outside: $out"
	sbk_log "inside:  $in"
	[ "$(sbk_pcap_get "$out" tls)" -gt 0 ] &&
	[ "$(sbk_pcap_get "$out" sip)" = 0 ] &&
	[ "$(sbk_pcap_get "$out" plain)" = 0 ] &&
	[ "$(sbk_pcap_get "$out" srtp80)" -ge 100 ] &&
	[ "$(sbk_pcap_get "$in" tls)" = 0 ] &&
	[ "$(sbk_pcap_get "$in" sip)" -ge 4 ] &&
	[ "$(sbk_pcap_get "$in" srtp80)" = 0 ] &&
	[ "$(sbk_pcap_get "$in" plain)" -ge 100 ] ||
	    { sbk_fail "legs: outside: $out; inside: $in"; return 1; }
}

# sbk_sip_tls_term EXT INT UPSTREAM [ARGS...]: sbckit's SIP-aware TLS
# terminator, TLS on EXT, inside UDP on INT (free ports: E2E_GW_TLS,
# E2E_GW_UDP), upstream UPSTREAM (ADDR:PORT), media through the ng relay at
# E2E_NG (interfaces "outside" and "inside"), certificate from
# $E2E_DIR/pki, TLS key log in $E2E_DIR/tls.keys. ARGS are passed on.
sbk_sip_tls_term() {
	local ext=$1 int=$2 up=$3; shift 3
	E2E_GW_TLS=$(sbk_freeport "$ext") || return 1
	E2E_GW_UDP=$(sbk_freeport "$int") || return 1
	E2E_TLSKEYS=$E2E_DIR/tls.keys
	sbk_spawn sip-tls-term "$SBK_BIN/sip-tls-term" \
	    --listen "$ext:$E2E_GW_TLS" --cert "$E2E_DIR/pki/gw.pem" \
	    --key "$E2E_DIR/pki/gw.key" --upstream "udp:$up" \
	    --inside "$int:$E2E_GW_UDP" --media "ng:$E2E_NG" \
	    --media-direction outside,inside --tls-keylog "$E2E_TLSKEYS" \
	    -v "$@"
	sbk_wait_port tcp "$ext" "$E2E_GW_TLS" 10 &&
	    sbk_wait_port udp "$int" "$E2E_GW_UDP" 5
}

# sbk_lab_gateway [ARGS...]: sbckit's gateway with its built-in registrar:
# srtp-bridge (outside $E2E_NET.3, inside .4) and sip-tls-term (TLS on .1,
# inside UDP on .2, upstream: Bob's phone on .30, which does not
# register); captures "outside" and "inside" running; Alice registered.
# ARGS go to sip-tls-term.
sbk_lab_gateway() {
	EXT=$E2E_NET.1 INT=$E2E_NET.2 MEXT=$E2E_NET.3 MINT=$E2E_NET.4
	BOBIP=$E2E_NET.30
	sbk_certs "$E2E_DIR/pki" "$EXT" && sbk_lab_tones || return 1
	sbk_srtp_bridge "$MEXT" "$MINT" || return 1
	sbk_baresip bob "$BOBIP" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$BOBIP:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu" ||
	    return 1
	sbk_sip_tls_term "$EXT" "$INT" "$BOBIP:$(sbk_sipport bob)" --registrar \
	    "$@" || return 1
	sbk_capture outside "host $EXT or host $MEXT" &&
	sbk_capture inside "(host $INT or host $MINT or host $BOBIP) and not port ${E2E_NG#*:}" ||
	    return 1
	local gw="$EXT:$E2E_GW_TLS;transport=tls"
	# E2E_ALICE_MEDIAENC=dtls_srtp: Alice keys SRTP with DTLS (baresip's
	# dtls_srtp module; it keeps RTCP on its own port)
	local enc=${E2E_ALICE_MEDIAENC:-srtp-mand}
	[ "$enc" = srtp-mand ] ||
	    E2E_CONF_alice="module		dtls_srtp.so${E2E_CONF_alice:+
$E2E_CONF_alice}"
	sbk_baresip alice "$E2E_NET.10" "$E2E_DIR/alice.wav" \
	    "<sip:alice@$gw>;regint=600;mediaenc=$enc;audio_codecs=pcmu;answermode=auto;outbound=\"sip:$gw\"" \
	    "$E2E_DIR/pki/ca.pem" || return 1
	sbk_registered alice || return 1
	BOB_FROM_ALICE="sip:bob@$gw"
	ALICE_FROM_BOB="sip:alice@$INT:$E2E_GW_UDP"
}

# sbk_rtp_tuples PCAP: "SSRC SEQ PAYLOAD-HEX" for every RTP packet, sorted.
# (Without the DTLS dissector: after a DTLS-SRTP handshake Wireshark takes
# the rest of that flow for SRTP, decrypted or not.)
sbk_rtp_tuples() {
	tshark -r "$1" --disable-protocol dtls -o rtp.heuristic_rtp:TRUE \
	    -o udp.try_heuristic_first:TRUE -Y rtp -T fields \
	    -e rtp.ssrc -e rtp.seq -e rtp.payload 2>/dev/null | sort
}

# sbk_rtp_match A B [PERCENT]: the RTP packets (SSRC, sequence number,
# payload) of capture A and capture B are the same, but for PERCENT
# (default 5) of either (the edges of a call, packets sent before a relay
# latched). Prints "common=N a=N b=N".
sbk_rtp_match() {
	local pct=${3:-5} a b common na nb
	a=$(mktemp) b=$(mktemp)
	sbk_rtp_tuples "$1" > "$a"
	sbk_rtp_tuples "$2" > "$b"
	common=$(comm -12 "$a" "$b" | wc -l)
	na=$(wc -l < "$a") nb=$(wc -l < "$b")
	rm -f "$a" "$b"
	echo "common=$common a=$na b=$nb"
	[ "$common" -gt 0 ] &&
	    [ $((common * 100)) -ge $((na * (100 - pct))) ] &&
	    [ $((common * 100)) -ge $((nb * (100 - pct))) ]
}

# sbk_tls_sip PCAP KEYLOG PORT [FILTER]: the SIP messages tshark reads out
# of the TLS on PORT with the key log (one summary line each). SIP over TLS
# on a port other than 5061 needs telling tshark what the TLS carries.
sbk_tls_sip() {
	tshark -r "$1" -o "tls.keylog_file:$2" -d "tls.port==$3,sip" \
	    -Y "${4:-sip}" 2>/dev/null
}

# sbk_signal NAME SIG: send SIG to the program spawned as NAME, not to its
# `timeout` wrapper: GNU timeout -k arms its SIGKILL on any signal it gets.
sbk_signal() {
	local pid n c
	while read -r pid n; do
		[ "$n" = "$1" ] || continue
		for c in $(pgrep -P "$pid"); do kill "-$2" "$c"; done
	done < "$E2E_DIR/pids"
}

# sbk_lab_launcher [ARGS...]: the lab of sbk_lab_gateway, the gateway
# started by sbc-gateway from one command line (process name
# "sbc-gateway", its log has both tools' messages): TLS and SRTP on
# $E2E_NET.1, SIP and RTP inside on .2, upstream Bob's phone on .30;
# captures "outside" and "inside" running; Alice registered. ARGS go to
# sbc-gateway.
sbk_lab_launcher() {
	EXT=$E2E_NET.1 INT=$E2E_NET.2 BOBIP=$E2E_NET.30
	sbk_certs "$E2E_DIR/pki" "$EXT" && sbk_lab_tones || return 1
	sbk_baresip bob "$BOBIP" "$E2E_DIR/bob.wav" \
	    "<sip:bob@$BOBIP:@SIPPORT@>;regint=0;answermode=auto;audio_codecs=pcmu" ||
	    return 1
	E2E_GW_TLS=$(sbk_freeport "$EXT") && E2E_GW_UDP=$(sbk_freeport "$INT") ||
	    return 1
	E2E_KEYLOG=$E2E_DIR/keys.log E2E_TLSKEYS=$E2E_DIR/tls.keys
	local base=$((30000 + (RANDOM % 300) * 100))
	sbk_spawn sbc-gateway "$SBK_BIN/sbc-gateway" --outside "$EXT" \
	    --inside "$INT" --tls-port "$E2E_GW_TLS" --sip-port "$E2E_GW_UDP" \
	    --upstream "$BOBIP:$(sbk_sipport bob)" --registrar \
	    --cert "$E2E_DIR/pki/gw.pem" --key "$E2E_DIR/pki/gw.key" \
	    --media-ports "$base-$((base + 99))" \
	    --keylog "$E2E_KEYLOG" --tls-keylog "$E2E_TLSKEYS" -v "$@"
	sbk_wait_for 15 grep -q '^sbc-gateway: ready: ' "$E2E_DIR/sbc-gateway.log" ||
	    { sbk_fail "sbc-gateway not ready: see $E2E_DIR/sbc-gateway.log"; return 1; }
	sbk_log "$(grep '^sbc-gateway: ready: ' "$E2E_DIR/sbc-gateway.log")"
	sbk_capture outside "host $EXT" &&
	sbk_capture inside "host $INT or host $BOBIP" || return 1
	local gw="$EXT:$E2E_GW_TLS;transport=tls"
	# E2E_ALICE_MEDIAENC=dtls_srtp: Alice keys SRTP with DTLS (baresip's
	# dtls_srtp module; it keeps RTCP on its own port)
	local enc=${E2E_ALICE_MEDIAENC:-srtp-mand}
	[ "$enc" = srtp-mand ] ||
	    E2E_CONF_alice="module		dtls_srtp.so${E2E_CONF_alice:+
$E2E_CONF_alice}"
	sbk_baresip alice "$E2E_NET.10" "$E2E_DIR/alice.wav" \
	    "<sip:alice@$gw>;regint=600;mediaenc=$enc;audio_codecs=pcmu;answermode=auto;outbound=\"sip:$gw\"" \
	    "$E2E_DIR/pki/ca.pem" || return 1
	sbk_registered alice || return 1
	BOB_FROM_ALICE="sip:bob@$gw"
	ALICE_FROM_BOB="sip:alice@$INT:$E2E_GW_UDP"
}
