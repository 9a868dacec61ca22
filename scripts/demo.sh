#!/usr/bin/env bash
# demo.sh - sbckit's gateway end to end on loopback, with real SIP phones.
#
#   scripts/demo.sh [BUILD_DIR]        (`make demo` builds, then runs this)
#
# Makes a lab CA and a gateway certificate, starts srtp-bridge and
# sip-tls-term (built-in registrar) with sbc-gateway, the launcher, on a
# random 127.x.y.0/24, starts two baresip phones - Alice over TLS with
# mandatory SRTP, Bob on plain UDP -
# and places a call each way, each side playing its own tone (Alice 440 Hz,
# Bob 1000 Hz), while both legs are captured. Then it decrypts the outside
# capture with pcap-decrypt and srtp-bridge's key log, and prints a report.
# Everything it starts is bounded by `timeout` and stopped at the end.
# Exit status: 0 if every step worked, 1 if one failed, 2 if a tool or
# package is missing. The files stay in BUILD_DIR/demo/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
O=${1:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
export SBK_TOP=$top SBK_BUILD=$O SBK_BIN=$O/bin
E2E_TIMEOUT=100			# no process outlives this many seconds
# shellcheck source=../tests/e2e/lib.bash
source "$top/tests/e2e/lib.bash"

t_start=$(date +%s%N)
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 2; }

# --- what is needed ----------------------------------------------------
missing=""
for c in baresip sox tshark tcpdump openssl ss timeout; do
	sbk_have "$c" || missing="$missing $c"
done
[ -z "$missing" ] ||
    die "missing:$missing (as root, 'make demo' installs them: scripts/deps.sh demo)"
for h in freeport tonecheck; do
	[ -x "$O/tests/helpers/$h" ] || die "$O/tests/helpers/$h not built (run 'make demo')"
done
[ -x "$SBK_BIN/srtp-bridge" ] || die "$SBK_BIN/srtp-bridge not built (run 'make demo')"
if [ -x "$SBK_BIN/sbc-gateway" ] && [ -x "$SBK_BIN/sip-tls-term" ]; then
	mode=launcher
	what="sbc-gateway: sip-tls-term --registrar + srtp-bridge"
elif [ -x "$SBK_BIN/sip-tls-term" ]; then
	mode=gateway
	what="sip-tls-term --registrar + srtp-bridge"
elif sbk_have kamailio && [ -f "$KAMAILIO_MODULES/tls.so" ]; then
	mode=kamailio
	what="Kamailio (TLS, registrar) + srtp-bridge"
	say "demo: sip-tls-term is not built yet: Kamailio does the signalling," \
	    "srtp-bridge the media"
else
	die "sip-tls-term is not built, and no Kamailio to stand in for it"
fi
[ "$(id -u)" = 0 ] || say "demo: not root: tcpdump may be refused the capture"

E2E_ROOT=$O
sbk_e2e_init demo
D=$E2E_DIR
log=$D/demo.log
trap 'sbk_e2e_cleanup' EXIT
trap 'exit 1' INT TERM

failed=0
# step TEXT CMD...: run CMD in this shell (it may set variables), output
# to the log; print TEXT and ok or FAILED.
step() {
	local text=$1 t0 st; shift
	t0=$(date +%s%N)
	printf '  %-58s' "$text" >&2
	printf '\n=== %s\n' "$text" >> "$log"
	"$@" >> "$log" 2>&1; st=$?
	if [ $st = 0 ]; then
		printf 'ok (%s ms)\n' "$(ms_since "$t0")" >&2
	else
		printf 'FAILED\n' >&2
		failed=1
	fi
	return $st
}

report_fail() {
	say ""
	say "demo: FAILED; logs, configs and captures are in $D/"
	say "demo: the step log is $log; the last lines:"
	tail -15 "$log" | sed 's/^/    /'
	exit 1
}

say "sbckit demo: $what on $E2E_NET.0/24 (files in $D/)" >&2

# --- the lab -------------------------------------------------------------
t_reg=$(date +%s%N)
case $mode in
launcher) step "sbc-gateway, phones, captures; Alice registers over TLS" \
	    sbk_lab_launcher || report_fail ;;
gateway) step "gateway, phones, captures; Alice registers over TLS" \
	    sbk_lab_gateway || report_fail ;;
kamailio) step "Kamailio, srtp-bridge, phones, captures; both register" \
	    sbk_lab_kamailio srtp-bridge || report_fail ;;
esac
reg_ms=$(ms_since "$t_reg")

# --- the calls -----------------------------------------------------------
heard() {	# NAME HZ VAR: tonecheck NAME's newest recording into VAR
	local out
	out=$(sbk_tonecheck "$(sbk_newest_rec "$1")" "$2")
	local st=$?
	printf -v "$3" '%s' "$out"
	echo "$1 heard: $out (want $2)"
	return $st
}
a2b_ms=- b2a_ms=- a1="" b1="" a2="" b2=""
if step "Alice calls Bob (3 s of audio)" sbk_call alice bob "$BOB_FROM_ALICE" 3; then
	a2b_ms=$E2E_SETUP_MS
	step "  Alice hears 1000 Hz, Bob hears 440 Hz" \
	    eval 'heard alice 1000 a1 && heard bob 440 b1'
fi
if step "Bob calls Alice over her TLS connection" sbk_call bob alice "$ALICE_FROM_BOB" 3; then
	b2a_ms=$E2E_SETUP_MS
	step "  Alice hears 1000 Hz, Bob hears 440 Hz" \
	    eval 'heard alice 1000 a2 && heard bob 440 b2'
fi

# --- captures, relay counters, decryption --------------------------------
step "outside leg only TLS+SRTP, inside only SIP+RTP" sbk_check_legs
legs_out=$(sbk_pcap_classes "$D/outside.pcap" 2>/dev/null)
legs_in=$(sbk_pcap_classes "$D/inside.pcap" 2>/dev/null)
# srtp-bridge prints its totals when it stops (through sbc-gateway's log
# when the launcher runs it).
relay_log=$D/srtp-bridge.log
if [ $mode = launcher ]; then
	# to sbc-gateway itself, not its timeout wrapper; it stops both tools
	sbk_signal sbc-gateway TERM
	sbk_wait_for 15 grep -q '^sbc-gateway: stopped' "$D/sbc-gateway.log"
	relay_log=$D/sbc-gateway.log
else
	sbk_stop srtp-bridge
fi
# its one-line summary: "srtp-bridge: info: summary: rtp in_packets=N
# ... forwarded=N drop_auth=N ... relatched=N"
rtp_line=$(grep -m1 'summary: rtp in_packets=' "$relay_log")
bridged=$(sed -n 's/.* forwarded=\([0-9]*\).*/\1/p' <<< "$rtp_line")
dropped=$(grep -o 'drop_[a-z]*=[0-9]*' <<< "$rtp_line" | paste -sd' ')
dropsum=$(grep -o 'drop_[a-z]*=[0-9]*' <<< "$rtp_line" |
    awk -F= '{ s += $2 } END { if (NR) print s }')

# decrypt KEYS: the outside capture into outside-decrypted.pcap and WAVs.
decrypt() {
	rm -rf "$D/wav"
	mkdir -p "$D/wav"
	"$SBK_BIN/pcap-decrypt" --keylog "$1" -r "$D/outside.pcap" \
	    -w "$D/outside-decrypted.pcap" --wav "$D/wav" \
	    --json "$D/decrypt.json" || return 1
	[ "$(ls "$D"/wav/*.wav 2>/dev/null | wc -l)" -ge 2 ]
}
dec_line="pcap-decrypt not built: capture left encrypted"
wavs=""
if [ -x "$SBK_BIN/pcap-decrypt" ]; then
	step "decrypt the outside capture (srtp-bridge key log)" \
	    decrypt "$D/keys.log"
	dec_line=$(grep '^pcap-decrypt: .* packets decrypted in' "$log" |
	    tail -1 | sed 's/^pcap-decrypt: //')
	for w in "$D"/wav/*.wav; do
		[ -f "$w" ] || continue
		wavs="$wavs
                  $(basename "$w"): $("$O/tests/helpers/tonecheck" "$w" | cut -d' ' -f1-2)"
	done
else
	say "  (pcap-decrypt is not built yet: skipping decryption)" >&2
fi
sip_tls="no TLS key log (Kamailio writes none)"
if [ -s "${E2E_TLSKEYS:-/nonexistent}" ]; then
	sip_tls="$(sbk_tls_sip "$D/outside.pcap" "$E2E_TLSKEYS" "$E2E_GW_TLS" |
	    wc -l) SIP messages readable with the TLS key log"
fi
sbk_e2e_cleanup

# --- the report ----------------------------------------------------------
hz() {	# WHO TONECHECK-LINE: "WHO heard N Hz"
	[ -n "$2" ] || return 0
	local f=${2#freq=}
	printf "%s heard %s Hz" "$1" "${f%% *}"
}
pcap=$D/outside-decrypted.pcap
[ -f "$pcap" ] || pcap=$D/outside.pcap
tlsopt=""
[ -s "${E2E_TLSKEYS:-/nonexistent}" ] &&
    tlsopt="-o tls.keylog_file:$E2E_TLSKEYS -d tls.port==$E2E_GW_TLS,sip "
cat <<EOF

sbckit demo report ($what)
  registration    Alice (SIP over TLS, SRTP mandatory) registered; lab up in $reg_ms ms
  Alice -> Bob    set up in $a2b_ms ms; $(hz Alice "$a1"), $(hz Bob "$b1")
  Bob -> Alice    set up in $b2a_ms ms; $(hz Alice "$a2"), $(hz Bob "$b2")
  media relay     ${bridged:-?} RTP packets bridged, ${dropsum:-?} failed (${dropped:-no totals})
  outside leg     $legs_out
  inside leg      $legs_in
  SIP in TLS      $sip_tls
  decrypted       $dec_line$wavs
  files           $D/
                  outside.pcap, inside.pcap, keys.log, tls.keys, */rec/*.wav (what each phone heard)
  open it:        wireshark ${tlsopt}-o rtp.heuristic_rtp:TRUE -o udp.try_heuristic_first:TRUE $pcap
  took            $(ms_since "$t_start") ms
EOF
if [ $failed != 0 ]; then
	say "demo: some steps FAILED; see $log" >&2
	exit 1
fi
say "demo: ok" >&2
