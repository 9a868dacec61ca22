#!/usr/bin/env bats
# sbc-gateway.bats - the launcher: its configuration (file, command line,
# errors), the command lines it builds, and the gateway it starts on a
# random 127.x.y.z: a REGISTER over TLS (tests/helpers/sip-tls-client), an
# SDES call through the launched srtp-bridge to a UDP peer
# (tests/helpers/sip-udp-peer), an ng ping (tests/helpers/ng-send);
# signals (TERM, HUP with a new certificate served, USR1), a tool dying,
# the launcher killed. Every process is checked gone by PID.

load "$SBK_TOP/tests/lib-sip"

SG=$SBK_BIN/sbc-gateway
NGSEND=$SBK_BUILD/tests/helpers/ng-send

setup_file() { sip_setup_file gw gw2; }

# gone PID...: none of them runs any more (within ~5 s).
gone() {
	local i p left
	for i in $(seq 100); do
		left=""
		for p; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	echo "still running:$left" >&2
	return 1
}

# start_peer: the inside UDP peer (answers 200 with an SDP); sets UP.
start_peer() { sip_peer udp 25; }

# start_sg ARGS: the launcher, gateway on $IP with a copy of the test
# certificate; waits for "ready". Sets SGPID (the launcher), BRPID,
# STPID (srtp-bridge, sip-tls-term), NG, L (TLS), IN (inside UDP), TPID
# (the timeout wrapper).
start_sg() {
	cp "$D/gw.pem" "$W/cert.pem"
	cp "$D/gw.key" "$W/cert.key"
	TLSPORT=$("$FREEPORT" "$IP")
	timeout -k 2 40 "$SG" --outside "$IP" --inside "$IP" --sip-port 0 \
	    --tls-port "$TLSPORT" --cert "$W/cert.pem" --key "$W/cert.key" \
	    --media-ports 40000-40999 --print-addresses "$@" > "$W/sg.out" \
	    2> "$W/sg.err" &
	TPID=$!
	PIDS+=($TPID)
	wait_line "$W/sg.err" 'sbc-gateway: ready: ' || return 1
	SGPID=$(pgrep -P "$TPID")
	BRPID=$(sed -n 's/.*ready: srtp-bridge pid \([0-9]*\).*/\1/p' "$W/sg.err")
	STPID=$(sed -n 's/.*sip-tls-term pid \([0-9]*\)$/\1/p' "$W/sg.err")
	NG=$(sed -n 's/.*(ng \(.*\)).*/\1/p' "$W/sg.err")
	KIDS+=($BRPID $STPID)
	L=$(sed -n 's/^listening tls //p' "$W/sg.out")
	IN=$(sed -n 's/^inside udp //p' "$W/sg.out")
	[ -n "$SGPID" ] && [ -n "$BRPID" ] && [ -n "$STPID" ] && [ -n "$NG" ]
}

# stop_sg: SIGTERM the launcher; its exit status is left in SGST.
stop_sg() {
	kill -TERM "$SGPID"
	SGST=0
	wait "$TPID" || SGST=$?
}

# served: the SHA-256 fingerprint of the certificate the gateway serves.
served() {
	timeout 10 openssl s_client -connect "$L" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256
}

@test "sbc-gateway: --help, --version, usage errors" {
	run "$SG" --help
	assert_success
	assert_line --partial "usage: sbc-gateway"
	assert_line --regexp "^ +--media-ports +media port range, MIN-MAX \[30000-39999\]"
	run "$SG" --version
	assert_success
	assert_output --regexp "^sbc-gateway \(sbckit\) [0-9]"
	run "$SG" --bogus
	assert_failure 2
	assert_line "Try 'sbc-gateway --help' for more information."
	run "$SG" extra-arg
	assert_failure 2
	assert_line --partial "unexpected argument 'extra-arg'"
	run "$SG" -o 127.0.0.1 --registrar yes
	assert_failure 2
	assert_line --partial "--registrar, not --registrar yes"
	run "$SG" --registrar
	assert_failure 2
	assert_output "sbc-gateway: no outside address (outside = ADDR)"
	run "$SG" -o 127.0.0.1
	assert_failure 2
	assert_output --partial "no upstream"
	run "$SG" -o 127.0.0.1 --registrar --tls-port 70000
	assert_failure 2
	assert_output "sbc-gateway: --tls-port: want a number from 1 to 65535"
	run "$SG" -o 127.0.0.1 --registrar=perhaps
	assert_failure 2
	assert_output "sbc-gateway: --registrar: want yes or no"
	run "$SG" -c "$W/none.conf" --print-config
	assert_failure 1
	assert_output --partial "none.conf: No such file"
}

@test "sbc-gateway: malformed config files exit 3 with the line" {
	printf '# lab\noutside = 127.0.0.1\n\nbogus = 1\n' > "$W/a.conf"
	run "$SG" -c "$W/a.conf" --print-config
	assert_failure 3
	assert_output "sbc-gateway: $W/a.conf:4: unknown key 'bogus'"
	printf 'outside = 127.0.0.1\r\nupstream 127.0.0.2:5060\r\n' > "$W/b.conf"
	run "$SG" -c "$W/b.conf" --dry-run
	assert_failure 3
	assert_output "sbc-gateway: $W/b.conf:2: want key = value"
	printf 'outside = 127.0.0.1\nmedia-ports = 40000-3000\n' > "$W/c.conf"
	run "$SG" -c "$W/c.conf"
	assert_failure 3
	assert_output --partial "c.conf:2: media-ports: want MIN-MAX"
	printf 'tls-port = 5061\n#\ntls-port = 5062\n' > "$W/d.conf"
	run "$SG" -c "$W/d.conf"
	assert_failure 3
	assert_output --partial "d.conf:3: tls-port set twice (first on line 1)"
	printf 'outside = gw.example.org\n' > "$W/e.conf"
	run "$SG" -c "$W/e.conf"
	assert_failure 3
	assert_output --partial "e.conf:1: outside: want an IP address"
	printf 'outside = 127.0.0.1\ncert = /a\0b\n' > "$W/f.conf"
	run "$SG" -c "$W/f.conf"
	assert_failure 3
	assert_output --partial "f.conf:2: NUL byte"
}

@test "sbc-gateway: --print-config merges file, command line and defaults, and reads back" {
	cat > "$W/gw.conf" <<-EOF
	# a gateway behind NAT
	outside  = 192.0.2.10!203.0.113.5   # public
	upstream = udp:10.0.0.5:5060
	tls-port = 5062
	keylog   = /var/log/sbc/keys.log
	EOF
	run "$SG" -c "$W/gw.conf" --tls-port 5063 -vv --print-config
	assert_success
	assert_line "outside = 192.0.2.10!203.0.113.5"
	assert_line "upstream = 10.0.0.5:5060"
	assert_line "tls-port = 5063"
	assert_line "verbose = 2"
	assert_line "keylog = /var/log/sbc/keys.log"
	assert_line "media-ports = 30000-39999"
	assert_line "#inside ="
	echo "$output" > "$W/printed.conf"
	run "$SG" -c "$W/printed.conf" --print-config
	assert_success
	assert_output "$(cat "$W/printed.conf")"
}

@test "sbc-gateway: --dry-run prints the two command lines" {
	run "$SG" -o "$IP!203.0.113.5" -u "$IP:5080" --ng "$IP:2223" \
	    --keylog "$W/keys log" --require-srtp --cert /etc/gw.pem \
	    --key /etc/gw.key -v --srtp-bridge /opt/sbc/srtp-bridge \
	    --sip-tls-term-args "--max-per-ip 10" --dry-run
	assert_failure 2	# a blank in a value
	run "$SG" -o "$IP!203.0.113.5" -u "$IP:5080" --ng "$IP:2223" \
	    --keylog "$W/keys.log" --require-srtp --cert /etc/gw.pem \
	    --key /etc/gw.key -v --srtp-bridge /opt/sbc/srtp-bridge \
	    --sip-tls-term-args "--max-per-ip 10" --dry-run
	assert_success
	assert_equal "${#lines[@]}" 2
	# inside: the source address towards the upstream
	src=$(ip -o route get "$IP" | sed -n 's/.* src \([0-9.]*\).*/\1/p')
	assert_equal "${lines[0]}" "/opt/sbc/srtp-bridge --ng $IP:2223 --outside '$IP!203.0.113.5' --inside $src --port-min=30000 --port-max=39999 --keylog $W/keys.log -v"
	assert_equal "${lines[1]}" "$SBK_BIN/sip-tls-term --print-addresses --listen $IP:5061 --cert /etc/gw.pem --key /etc/gw.key --upstream=udp:$IP:5080 --inside $src:5060 --media=ng:$IP:2223 --media-direction=outside,inside --require-srtp --advertise=203.0.113.5:5061 -v --max-per-ip 10"
	# ng port 0 (the default): a free port on the loopback is chosen
	run "$SG" -o "$IP" --registrar --dry-run
	assert_success
	assert_line --regexp "^$SBK_BIN/srtp-bridge --ng 127\.0\.0\.1:[1-9][0-9]* --outside $IP --inside $IP "
	# a program that is not there
	run "$SG" -o "$IP" --registrar --sip-tls-term no-such-sip-tls-term -n
	assert_failure 1
	assert_output "sbc-gateway: no-such-sip-tls-term: not found next to sbc-gateway or in PATH"
}

@test "sbc-gateway: REGISTER over TLS and an ng ping through the launched gateway; SIGTERM stops both" {
	unset GLIBC_TUNABLES
	start_sg --registrar
	run ps -o ppid= -p "$BRPID" "$STPID"
	assert_line --regexp "^ *$SGPID$"
	# srtp-bridge alone runs with its heap on huge pages
	run grep -cx 'GLIBC_TUNABLES=glibc.malloc.hugetlb=1' \
	    <(tr '\0' '\n' < "/proc/$BRPID/environ")
	assert_output 1
	run grep -c '^GLIBC_TUNABLES=' <(tr '\0' '\n' < "/proc/$STPID/environ")
	assert_output 0
	assert_equal "$(pgrep -P "$SGPID" | sort | tr '\n' ' ')" \
	    "$(printf '%s\n' "$BRPID" "$STPID" | sort | tr '\n' ' ')"
	register "$W/reg"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	assert_line --regexp "^Contact: <sip:alice-0x55d1@127.0.0.10:5061;transport=tls>;expires=(300|299)"
	run timeout 10 "$NGSEND" "$NG" ping
	assert_success
	assert_output --partial "pong"
	assert_equal "$(served)" \
	    "$(openssl x509 -in "$D/gw.pem" -noout -fingerprint -sha256)"
	stop_sg
	assert_equal "$SGST" 0
	gone "$SGPID" "$BRPID" "$STPID"
	run cat "$W/sg.err"
	assert_line "sbc-gateway: stopping"
	assert_line "sbc-gateway: stopped"
	assert_line --regexp "summary: rtp in_packets=0 "	# srtp-bridge's totals
}

@test "sbc-gateway: an SDES call goes through the launched srtp-bridge" {
	start_peer
	start_sg --upstream "$UP" --keylog "$W/keys.log"
	sdes_invite "$W/inv"
	run timeout 10 "$CLI" -c 3 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	# the answer is SRTP on the relay's outside, from the configured range
	assert_line --regexp "^m=audio 40[0-9]{3} RTP/SAVP 0"
	assert_line --regexp "^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	assert_line "c=IN IP4 $IP"
	run cat "$W/peer.out"
	assert_line --regexp "^m=audio 40[0-9]{3} RTP/AVP 0"
	refute_line --partial "a=crypto"
	# the key log the config switched on has both directions' keys
	run grep -c ' dir=\(in\|out\) AES_CM_128_HMAC_SHA1_80 inline:' "$W/keys.log"
	assert_output 2
	stop_sg
	assert_equal "$SGST" 0
	gone "$SGPID" "$BRPID" "$STPID"
}

@test "sbc-gateway: SIGHUP reaches sip-tls-term: the new certificate is served; SIGUSR1 a summary" {
	start_sg --registrar
	cp "$D/gw2.pem" "$W/cert.pem"
	cp "$D/gw2.key" "$W/cert.key"
	kill -HUP "$SGPID"
	wait_line "$W/sg.err" 'sip-tls-term: .*certificates reloaded'
	assert_equal "$(served)" \
	    "$(openssl x509 -in "$D/gw2.pem" -noout -fingerprint -sha256)"
	kill -USR1 "$SGPID"
	wait_line "$W/sg.err" 'summary: calls now=0 '
	# both still run, under the same PIDs
	kill -0 "$BRPID" "$STPID"
	stop_sg
	assert_equal "$SGST" 0
	gone "$SGPID" "$BRPID" "$STPID"
}

@test "sbc-gateway: a tool dying stops the other, exit 1" {
	start_sg --registrar
	kill -KILL "$BRPID"
	SGST=0
	wait "$TPID" || SGST=$?
	assert_equal "$SGST" 1
	gone "$SGPID" "$BRPID" "$STPID"
	run cat "$W/sg.err"
	assert_line "sbc-gateway: srtp-bridge: killed by signal 9 (Killed)"
	assert_line "sbc-gateway: a tool died: gateway stopped"
	refute_line --partial "sip-tls-term: killed"
}

@test "sbc-gateway: a tool failing at start-up: exit 1, nothing left running" {
	cp "$D/gw.pem" "$W/cert.pem"
	run timeout 30 "$SG" --outside "$IP" --registrar --sip-port 0 \
	    --tls-port "$("$FREEPORT" "$IP")" \
	    --cert "$W/cert.pem" --key "$W/missing.key"
	assert_failure 1
	assert_line --regexp "^sbc-gateway: sip-tls-term: exited with status [1-9]"
	assert_line "sbc-gateway: start-up failed"
	BRPID=$(sed -n 's/^sbc-gateway: srtp-bridge: started, pid //p' <<< "$output")
	[ -n "$BRPID" ]
	gone "$BRPID"
	# a program that cannot run
	printf 'not a program\n' > "$W/fake"
	chmod 755 "$W/fake"
	run timeout 30 "$SG" --outside "$IP" --registrar --srtp-bridge "$W/fake"
	assert_failure 1
	assert_line --partial "sbc-gateway: srtp-bridge: cannot run $W/fake: Exec format error"
	# the second tool that cannot run: the first one is stopped
	run timeout 30 "$SG" --outside "$IP" --registrar --sip-tls-term "$W/nope/stt"
	assert_failure 1
	assert_line "sbc-gateway: sip-tls-term: cannot run $W/nope/stt: No such file or directory"
	refute_line --partial "not ready"
	assert_line "sbc-gateway: start-up failed"
	BRPID=$(sed -n 's/^sbc-gateway: srtp-bridge: started, pid //p' <<< "$output")
	gone "$BRPID"
}

@test "sbc-gateway: a tool never ready, deaf to SIGTERM: SIGKILL after stop-timeout, exit 1" {
	# ignored signals stay ignored across exec: sleep ignores TERM
	printf '#!/bin/sh\necho $$ > "%s"\ntrap "" TERM INT\nexec sleep 30\n' \
	    "$W/fake.pid" > "$W/fake"
	chmod 755 "$W/fake"
	run timeout 30 "$SG" --outside "$IP" --registrar --srtp-bridge "$W/fake" \
	    --ready-timeout 1 --stop-timeout 1
	assert_failure 1
	assert_line "sbc-gateway: srtp-bridge: not ready after 1 s"
	assert_line "sbc-gateway: srtp-bridge: still running after 1 s: SIGKILL"
	assert_line "sbc-gateway: start-up failed"
	refute_line --partial "sip-tls-term: started"
	gone "$(cat "$W/fake.pid")"
}

@test "sbc-gateway: the launcher killed with SIGKILL leaves no orphans" {
	start_sg --registrar
	kill -KILL "$SGPID"
	wait "$TPID" || true
	gone "$SGPID" "$BRPID" "$STPID"
}

@test "sbc-gateway: examples/sbc-gateway.conf is a valid configuration" {
	run "$SG" -c "$SBK_TOP/examples/sbc-gateway.conf" --print-config
	assert_success
	assert_line "outside = 192.0.2.10"
	assert_line "upstream = 10.0.0.5:5060"
	run "$SG" -c "$SBK_TOP/examples/sbc-gateway.conf" --dry-run
	assert_success
	assert_line --regexp "^$SBK_BIN/sip-tls-term --print-addresses --listen 192\.0\.2\.10:5061 "
}

@test "sbc-gateway: systemd units verify; Type=notify gets READY=1 and STOPPING=1" {
	local u
	if command -v systemd-analyze >/dev/null; then
		for u in "$SBK_TOP"/examples/systemd/*.service; do
			sed -e "s|/usr/local/bin|$SBK_BIN|" -e '/^Documentation=/d' \
			    "$u" > "$W/$(basename "$u")"
		done
		run systemd-analyze verify "$W"/*.service
		assert_success
		assert_output ""
	fi
	# A NOTIFY_SOCKET as systemd makes it: what arrives is logged.
	timeout 30 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode(), flush=True)
' "$W/notify.sock" > "$W/notify.log" &
	PIDS+=($!)
	wait_line "$W/notify.log" '^bound'
	NOTIFY_SOCKET=$W/notify.sock start_sg --registrar
	wait_line "$W/notify.log" '^READY=1$'
	stop_sg
	assert_equal "$SGST" 0
	wait_line "$W/notify.log" '^STOPPING=1$'
	gone "$SGPID" "$BRPID" "$STPID"
}

@test "sbc-gateway: inside-tcp, a tcp: upstream and bye-on-loss reach sip-tls-term's command line" {
	cat > "$W/tcp.conf" <<-EOF
	outside    = $IP
	upstream   = TCP:$IP:5080
	inside-tcp = yes
	bye-on-loss = no
	ng         = $IP:2223
	EOF
	run "$SG" -c "$W/tcp.conf" --print-config
	assert_success
	assert_line "upstream = tcp:$IP:5080"
	assert_line "inside-tcp = yes"
	assert_line "bye-on-loss = no"
	run "$SG" -c "$W/tcp.conf" --dry-run
	assert_success
	assert_line --regexp "^$SBK_BIN/sip-tls-term .* --upstream=tcp:$IP:5080 --inside-tcp --inside [0-9.]+:5060 .* --no-bye-on-loss"
	# the defaults: UDP, BYE on loss (no option needed)
	run "$SG" -o "$IP" -u "$IP:5080" --ng "$IP:2223" --dry-run
	assert_success
	refute_output --partial "--inside-tcp"
	refute_output --partial "bye-on-loss"
	run "$SG" -c "$W/tcp.conf" --inside-tcp=maybe --dry-run
	assert_failure 2
}

@test "sbc-gateway: upstream = tcp:ADDR:PORT: a call goes inside over TCP" {
	timeout 30 "$SBK_BUILD/tests/helpers/sip-tcp-peer" -l "$IP:0" -w 25000 \
	    > "$W/peer.out" &
	PIDS+=($!)
	wait_line "$W/peer.out" '^bound '
	UP=$(sed -n 's/^bound //p' "$W/peer.out")
	start_sg --upstream "tcp:$UP"
	# sip-tls-term listens on TCP inside, on its UDP address and port
	run grep "^inside tcp " "$W/sg.out"
	assert_output "inside tcp $IN"
	mk "$W/inv" <<EOF
INVITE sip:bob@$IP SIP/2.0
Via: SIP/2.0/TLS 127.0.0.10:5061;branch=z9hG4bKtcp1;rport
Max-Forwards: 70
From: <sip:alice@gw.test>;tag=a1
To: <sip:bob@gw.test>
Call-ID: tcp-$RANDOM@alice
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.10:5061;transport=tls>

EOF
	run timeout 10 "$CLI" -c 3 -w 5000 "$L" "$W/inv"
	assert_line "SIP/2.0 200 OK"
	run cat "$W/peer.out"
	assert_line "<<< tcp"
	refute_line "<<< udp"
	assert_line --regexp "^Via: SIP/2.0/TCP $IN;branch="
}

# chk ARGS: sbc-gateway --check on $IP with a copy of the test certificate
# and key (0600), registrar mode, the given ports.
chk() {
	[ -f "$W/cert.pem" ] || { cp "$D/gw.pem" "$W/cert.pem";
	    cp "$D/gw.key" "$W/cert.key"; chmod 600 "$W/cert.key"; }
	TLSPORT=${TLSPORT:-$("$FREEPORT" "$IP")}
	run timeout 20 "$SG" --check --outside "$IP" --inside "$IP" \
	    --registrar --sip-port 0 --tls-port "$TLSPORT" \
	    --cert "$W/cert.pem" --key "$W/cert.key" \
	    --media-ports 40000-40999 "$@"
}

@test "sbc-gateway --check: a good configuration, every check ok" {
	chk
	assert_success
	assert_line "ok config: parses"
	assert_line --regexp "^ok srtp-bridge: .*/srtp-bridge$"
	assert_line --regexp "^ok sip-tls-term: .*/sip-tls-term$"
	assert_line "ok cert: $W/cert.pem: readable"
	assert_line "ok key: $W/cert.key: readable"
	assert_line "ok tls: 1 certificate and key load and match"
	assert_line "ok outside: tcp $IP port $TLSPORT bindable"
	assert_line "ok inside: udp $IP port 0 bindable"
	assert_line "ok media-ports: udp $IP port 40000 bindable"
	refute_line --partial "FAIL"
	refute_line --partial "warn"
	# nothing was started, nothing is left bound
	run "$FREEPORT" "$IP"
	assert_success
}

@test "sbc-gateway --check: a missing key file fails, exit 1" {
	chk --key "$W/none.key"
	assert_failure 1
	assert_line --regexp "^FAIL key: $W/none.key: No such file"
	assert_line --partial "FAIL tls: "
	assert_line "ok config: parses"
}

@test "sbc-gateway --check: a key that is not the certificate's fails" {
	cp "$D/gw2.key" "$W/other.key"
	chmod 600 "$W/other.key"
	chk --key "$W/other.key"
	assert_failure 1
	assert_line "ok key: $W/other.key: readable"
	assert_line "FAIL tls: a certificate or key is bad, or a key does not match its certificate"
	assert_line "FAIL sip-tls-term: --check exited with status 1"
}

@test "sbc-gateway --check: a key others may read fails; a warning with allow-readable-key" {
	chk
	chmod 644 "$W/cert.key"
	chk
	assert_failure 1
	assert_line "FAIL key-mode: $W/cert.key: mode 0644: group or others can read the private key (chmod 600) (allow-readable-key accepts it)"
	# sip-tls-term --check, on the command line it would get, agrees
	assert_line "FAIL key-mode: $W/cert.key: mode 0644: group or others can read the private key (chmod 600)"
	assert_line "FAIL sip-tls-term: --check exited with status 1"
	chk --allow-readable-key
	assert_success
	assert_line "warn key-mode: $W/cert.key: mode 0644: group or others can read the private key (chmod 600)"
	refute_line --partial "FAIL"
	printf 'allow-readable-key = yes\n' > "$W/ark.conf"
	chk -c "$W/ark.conf"
	assert_success
	run "$SG" -o "$IP" --registrar --allow-readable-key --dry-run
	assert_success
	assert_line --regexp "/sip-tls-term .* --allow-readable-key$"
}

@test "sbc-gateway: a key others may read stops the start (exit 1), allow-readable-key lets it run" {
	chk
	chmod 640 "$W/cert.key"
	run timeout 30 "$SG" --outside "$IP" --inside "$IP" --registrar \
	    --sip-port 0 --tls-port "$("$FREEPORT" "$IP")" \
	    --cert "$W/cert.pem" --key "$W/cert.key" --media-ports 40000-40999
	assert_failure 1
	assert_line --partial "sip-tls-term: tls: $W/cert.key: mode 0640"
	assert_line --partial "sip-tls-term: exited with status 4"
	# start_sg's copy keeps the file's mode 0640
	start_sg --registrar --allow-readable-key
	run stat -c %a "$W/cert.key"
	assert_output 640
	run grep -F "sip-tls-term: warning: tls: $W/cert.key: mode 0640" "$W/sg.err"
	assert_success
	stop_sg
	[ "$SGST" = 0 ]
}

@test "sbc-gateway --check: an address that is not ours fails, exit 1" {
	cp "$D/gw.pem" "$W/cert.pem"
	cp "$D/gw.key" "$W/cert.key"
	chmod 600 "$W/cert.key"
	run timeout 20 "$SG" --check --outside 192.0.2.1 --inside "$IP" \
	    --registrar --sip-port 0 --tls-port 5061 --cert "$W/cert.pem" \
	    --key "$W/cert.key" --media-ports 40000-40999
	assert_failure 1
	assert_line "FAIL outside: tcp 192.0.2.1 port 5061: not a local address (no interface has it)"
	assert_line "FAIL media-ports: udp 192.0.2.1 port 40000: not a local address (no interface has it)"
	assert_line "ok media-ports: udp $IP port 40000 bindable"
}

@test "sbc-gateway --check: a port in use fails, exit 1" {
	TLSPORT=$("$FREEPORT" "$IP")
	timeout -k 1 20 python3 -c 'import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("held", flush=True)
time.sleep(20)' "$IP" "$TLSPORT" > "$W/hold.out" &
	PIDS+=($!)
	wait_line "$W/hold.out" held
	chk
	assert_failure 1
	assert_line "FAIL outside: tcp $IP port $TLSPORT: port in use"
}

@test "sbc-gateway --check: a missing program fails, exit 1" {
	chk --srtp-bridge "$W/no-such-bridge"
	assert_failure 1
	assert_line "FAIL srtp-bridge: $W/no-such-bridge: not found (or not executable) next to sbc-gateway or in PATH"
	assert_line "ok tls: 1 certificate and key load and match"
	chk --sip-tls-term no-such-term
	assert_failure 1
	assert_line --partial "FAIL sip-tls-term: no-such-term: not found"
	assert_line "FAIL tls: certificate and key not checked: no sip-tls-term to run"
}

@test "sbc-gateway --check: a malformed configuration exits 3, usage 2" {
	printf 'outside = 127.0.0.1\nbogus = 1\n' > "$W/a.conf"
	run "$SG" -c "$W/a.conf" --check
	assert_failure 3
	run "$SG" --check --inside 127.0.0.1
	assert_failure 3
	assert_output "sbc-gateway: no outside address (outside = ADDR)"
	run "$SG" --check --tls-port 0
	assert_failure 2
}

@test "sbc-gateway: hep, hep-id, metrics and relay-metrics reach both command lines, checked" {
	run "$SG" -o "$IP" --registrar --ng "$IP:2223" --hep "udp:$IP:9060" \
	    --hep-id 7 --metrics 9100 --relay-metrics "$IP:9101" --dry-run
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_regex "${lines[0]}" "^$SBK_BIN/srtp-bridge .* --hep udp:$IP:9060 --hep-id=7 --metrics $IP:9101\$"
	assert_regex "${lines[1]}" "^$SBK_BIN/sip-tls-term .* --hep udp:$IP:9060 --hep-id=7 --metrics 127\.0\.0\.1:9100\$"
	run "$SG" -o "$IP" --registrar --hep "tcp:$IP:9060" --dry-run
	assert_failure 2
	assert_output "sbc-gateway: --hep: want udp:ADDR:PORT"
	run "$SG" -o "$IP" --registrar --metrics nowhere --dry-run
	assert_failure 2
	assert_output "sbc-gateway: --metrics: want [ADDR:]PORT (IPv6: [ADDR]:PORT)"
	run "$SG" -o "$IP" --registrar --metrics "$IP:9100" \
	    --relay-metrics "$IP:9100" --dry-run
	assert_failure 2
	assert_output --partial "relay-metrics: the same as metrics"
	# --check binds each endpoint: one held by another program fails
	MP=$("$FREEPORT" "$IP")
	RP=$("$FREEPORT" "$IP")
	chk --metrics "$IP:$MP" --relay-metrics "$IP:$RP" --hep "udp:$IP:9060"
	assert_success
	assert_line "ok metrics: tcp $IP port $MP bindable"
	assert_line "ok relay-metrics: tcp $IP port $RP bindable"
	timeout -k 1 20 python3 -c 'import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("held", flush=True)
time.sleep(20)' "$IP" "$RP" > "$W/hold.out" &
	PIDS+=($!)
	wait_line "$W/hold.out" held
	chk --metrics "$IP:$MP" --relay-metrics "$IP:$RP"
	assert_failure 1
	assert_line "FAIL relay-metrics: tcp $IP port $RP: port in use"
	chk --metrics "$IP:$MP" --relay-metrics "$IP:$MP"
	assert_failure 3
}

@test "sbc-gateway: metrics on both tools: a REGISTER and a ping counted, promtool passes; HEP copies sent" {
	command -v promtool > /dev/null || skip "promtool (Debian prometheus) not installed"
	MP=$("$FREEPORT" "$IP")
	RP=$("$FREEPORT" "$IP")
	HP=$("$FREEPORT" "$IP")
	timeout -k 1 30 python3 -c 'import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], int(sys.argv[2])))
print("bound", flush=True)
while True:
    d = u.recv(65536)
    # HEP3, then chunks: vendor 0, type 0x000c is the capture agent id
    i, cid = 6, None
    while i + 6 <= len(d):
        t, n = int.from_bytes(d[i + 2:i + 4], "big"), int.from_bytes(d[i + 4:i + 6], "big")
        if t == 0x0c:
            cid = int.from_bytes(d[i + 6:i + n], "big")
        i += max(n, 6)
    print("hep", d[:4].decode("latin1"), cid, flush=True)' "$IP" "$HP" > "$W/hep.out" &
	PIDS+=($!)
	wait_line "$W/hep.out" bound
	start_sg --registrar --metrics "$IP:$MP" --relay-metrics "$IP:$RP" \
	    --hep "udp:$IP:$HP" --hep-id 4242
	grep -qx "metrics http $IP:$MP" "$W/sg.out"
	grep -qx "metrics http $IP:$RP" "$W/sg.out"
	register "$W/reg"
	run timeout 10 "$CLI" -c 1 -w 3000 "$L" "$W/reg"
	assert_line "SIP/2.0 200 OK"
	run timeout 10 "$NGSEND" "$NG" ping
	assert_output --partial "pong"
	wait_line "$W/hep.out" '^hep HEP3 4242$'
	for p in "$MP" "$RP"; do
		run curl -sS --max-time 5 -o "$W/$p.prom" "http://$IP:$p/metrics"
		assert_success
		run promtool check metrics < "$W/$p.prom"
		echo "$output"
		assert_success
	done
	# each tool's own families, on its own port
	run grep -E '^sbckit_build_info\{' "$W/$MP.prom" "$W/$RP.prom"
	assert_line --partial "$MP.prom:sbckit_build_info{tool=\"sip-tls-term\""
	assert_line --partial "$RP.prom:sbckit_build_info{tool=\"srtp-bridge\""
	run grep -E '^sbckit_sip_requests_total\{face="outside",method="REGISTER"\} 1$' "$W/$MP.prom"
	assert_success
	run grep -E '^sbckit_tls_handshakes_total\{result="ok"\} [1-9]' "$W/$MP.prom"
	assert_success
	run grep -E '^sbckit_connections_open\{transport="(wss|ws)"\} 0$' "$W/$MP.prom"
	assert_equal "${#lines[@]}" 2
	run grep -E '^sbckit_hep_messages_total\{result="sent"\} [1-9]' "$W/$MP.prom"
	assert_success
	run grep -E '^sbckit_ng_requests_total\{command="ping",result="ok"\} [1-9]' "$W/$RP.prom"
	assert_success
	run grep -E '^sbckit_dtls_handshakes_total\{result="ok"\} 0$' "$W/$RP.prom"
	assert_success
	stop_sg
	assert_equal "$SGST" 0
	gone "$SGPID" "$BRPID" "$STPID"
}
