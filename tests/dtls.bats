#!/usr/bin/env bats
# dtls.bats - lib/media/dtls against another DTLS-SRTP implementation:
# openssl s_server and s_client (their own state machines, their own
# use_srtp and exporter code paths), over UDP on 127.x.y.z, in both roles.
# openssl prints the RFC 5764 keying material it exported
# (-keymatexport EXTRACTOR-dtls_srtp); tests/helpers/dtls-peer prints the
# same material rebuilt from the tx/rx keys our library derived. They
# must be equal, byte for byte; so must the NSS key log lines, and the
# fingerprint we publish must be the one openssl computes of the
# certificate we presented.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup_file() {
	# the other side's certificates, once: ECDSA P-256 and RSA 2048
	C=$BATS_FILE_TMPDIR
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -keyout "$C/ec.key" -out "$C/ec.pem" -days 2 -nodes \
	    -subj /CN=ec-peer 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -keyout "$C/rsa.key" \
	    -out "$C/rsa.pem" -days 2 -nodes -subj /CN=rsa-peer 2>/dev/null
}

setup() {
	PEER=$SBK_BUILD/tests/helpers/dtls-peer
	FREEPORT=$SBK_BUILD/tests/helpers/freeport
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/dtls.XXXXXX")
	H=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	P=$("$FREEPORT" "$H")
	PIDS=()
	cp "$BATS_FILE_TMPDIR"/ec.* "$BATS_FILE_TMPDIR"/rsa.* "$T/"
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}

# fp PEM [sha256|sha1]: the certificate's fingerprint as an SDP says it.
fp() {
	openssl x509 -in "$1" -noout -fingerprint "-${2:-sha256}" | cut -d= -f2
}

# wait_for FILE TEXT: up to 5 s for TEXT to appear in FILE.
wait_for() {
	local i
	for i in $(seq 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# server OPTIONS...: openssl s_server on $H:$P in the background; it
# asks for our certificate. Its stdin is a FIFO it holds open itself:
# no EOF, which would end it. (3>&-: bats does not wait for it.)
server() {
	mkfifo "$T/in"
	timeout 20 openssl s_server -accept "$H:$P" -Verify 1 -naccept 1 \
	    -keymatexport EXTRACTOR-dtls_srtp -keylogfile "$T/ossl.keylog" \
	    "$@" 0<> "$T/in" > "$T/s.out" 2>&1 3>&- &
	PIDS+=($!)
	wait_for "$T/s.out" ACCEPT
}

# client OPTIONS...: openssl s_client to our passive side on $H:$P.
client() {
	timeout 10 openssl s_client -connect "$H:$P" \
	    -keymatexport EXTRACTOR-dtls_srtp -keylogfile "$T/ossl.keylog" \
	    "$@" < /dev/null > "$T/c.out" 2>&1 || true
}

# passive OPTIONS...: our dtls-peer, passive, on $H:$P in the background.
passive() {
	timeout 10 "$PEER" -r passive -l "$H:$P" -k "$T/our.keylog" "$@" \
	    > "$T/p.out" 2> "$T/p.err" 3>&- &
	PIDS+=($!)
	wait_for "$T/p.out" bound
}

# ossl_material FILE: the "Keying material:" openssl printed.
ossl_material() {
	sed -n 's/^ *Keying material: *//p' "$1"
}

# same_material FILE_OURS FILE_OSSL: both printed the same, non-empty.
same_material() {
	local ours theirs
	ours=$(sed -n 's/^material //p' "$1")
	theirs=$(ossl_material "$2")
	echo "ours:   $ours"
	echo "theirs: $theirs"
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]
}

# our_cert_fp OUT_FILE: openssl's fingerprint of the certificate openssl
# received from us (the PEM it printed).
our_cert_fp() {
	sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$1" > "$T/ours.pem"
	fp "$T/ours.pem"
}

@test "dtls: active against s_server (ECDSA, AES_CM_128_HMAC_SHA1_80): same keys, key log, fingerprint" {
	server -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexportlen 60
	run timeout 10 "$PEER" -r active -l "$H:0" -t "$H:$P" \
	    -f "sha-256 $(fp "$T/ec.pem")" -k "$T/our.keylog"
	assert_success
	echo "$output" > "$T/a.out"
	assert_line "suite AES_CM_128_HMAC_SHA1_80"
	assert_line "peer $(fp "$T/ec.pem")"
	wait_for "$T/s.out" "Keying material:"
	grep -q "SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80" \
	    "$T/s.out"
	same_material "$T/a.out" "$T/s.out"
	# the certificate we sent is the one we publish
	[ "fingerprint $(our_cert_fp "$T/s.out")" = "$(grep ^fingerprint "$T/a.out")" ]
	# the NSS key log line is the one openssl logged
	grep ^CLIENT_RANDOM "$T/ossl.keylog" > "$T/k1"
	cmp "$T/k1" "$T/our.keylog"
	[ -s "$T/k1" ]
}

@test "dtls: passive against s_client (ECDSA, AEAD_AES_128_GCM): same keys, key log, fingerprint" {
	passive -f "sha-256 $(fp "$T/ec.pem")"
	client -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80 \
	    -keymatexportlen 56
	wait_for "$T/p.out" material
	grep -q "^suite AEAD_AES_128_GCM$" "$T/p.out"
	grep -q "profile=SRTP_AEAD_AES_128_GCM" "$T/c.out"
	grep -q "Protocol  : DTLSv1.2" "$T/c.out"
	same_material "$T/p.out" "$T/c.out"
	[ "fingerprint $(our_cert_fp "$T/c.out")" = "$(grep ^fingerprint "$T/p.out")" ]
	grep ^CLIENT_RANDOM "$T/ossl.keylog" > "$T/k1"
	cmp "$T/k1" "$T/our.keylog"
}

@test "dtls: passive prefers AEAD_AES_256_GCM when offered everything" {
	passive -f "sha-256 $(fp "$T/ec.pem")"
	client -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM \
	    -keymatexportlen 88
	wait_for "$T/p.out" material
	grep -q "^suite AEAD_AES_256_GCM$" "$T/p.out"
	same_material "$T/p.out" "$T/c.out"
}

@test "dtls: passive against a DTLS 1.0 client (AES_CM_128_HMAC_SHA1_32)" {
	passive -f "sha-256 $(fp "$T/ec.pem")"
	client -dtls1 -cipher 'DEFAULT:@SECLEVEL=0' -cert "$T/ec.pem" \
	    -key "$T/ec.key" -use_srtp SRTP_AES128_CM_SHA1_32 \
	    -keymatexportlen 60
	wait_for "$T/p.out" material
	grep -q "Protocol  : DTLSv1$" "$T/c.out"
	grep -q "^suite AES_CM_128_HMAC_SHA1_32$" "$T/p.out"
	same_material "$T/p.out" "$T/c.out"
}

@test "dtls: active against an RSA s_server, sha-1 fingerprint, AEAD_AES_256_GCM" {
	server -dtls1_2 -cert "$T/rsa.pem" -key "$T/rsa.key" \
	    -use_srtp SRTP_AEAD_AES_256_GCM -keymatexportlen 88
	run timeout 10 "$PEER" -r active -l "$H:0" -t "$H:$P" \
	    -f "sha-1 $(fp "$T/rsa.pem" sha1)"
	assert_success
	echo "$output" > "$T/a.out"
	assert_line "suite AEAD_AES_256_GCM"
	wait_for "$T/s.out" "Keying material:"
	grep -q "CIPHER is ECDHE-RSA-" "$T/s.out"
	same_material "$T/a.out" "$T/s.out"
}

@test "dtls: active, the server's certificate is not the SDP's: fails, exit 4" {
	server -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexportlen 60
	run timeout 10 "$PEER" -r active -l "$H:0" -t "$H:$P" \
	    -f "sha-256 $(fp "$T/rsa.pem")"
	assert_failure 4
	assert_output --partial "failed: fingerprint mismatch"
	refute_output --partial material
	sleep 0.3
	! grep -q "Keying material:" "$T/s.out"
}

@test "dtls: passive, the client's certificate is not the SDP's: fails, exit 4" {
	passive -f "sha-256 $(fp "$T/rsa.pem")"
	client -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexportlen 60
	wait "${PIDS[0]}" || st=$?
	[ "${st:-0}" = 4 ]
	grep -q "failed: fingerprint mismatch" "$T/p.err"
	! grep -q material "$T/p.out"
}

@test "dtls: passive, a client without a certificate fails" {
	passive -f "sha-256 $(fp "$T/ec.pem")"
	client -dtls -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexportlen 60
	wait "${PIDS[0]}" || st=$?
	[ "${st:-0}" = 4 ]
	cat "$T/p.err"
	grep -q "failed:" "$T/p.err"
	! grep -q material "$T/p.out"
}

@test "dtls: passive, no common SRTP profile fails" {
	passive -f "sha-256 $(fp "$T/ec.pem")" -s AES_CM_128_HMAC_SHA1_80
	client -dtls -cert "$T/ec.pem" -key "$T/ec.key" \
	    -use_srtp SRTP_AES128_CM_SHA1_32 -keymatexportlen 60
	wait "${PIDS[0]}" || st=$?
	[ "${st:-0}" = 4 ]
	grep -q "failed: no common SRTP profile" "$T/p.err"
}

@test "dtls: active with MTU 300 against s_server: fragments fit, same keys" {
	server -dtls -cert "$T/rsa.pem" -key "$T/rsa.key" -mtu 1400 \
	    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexportlen 60
	run timeout 10 "$PEER" -r active -l "$H:0" -t "$H:$P" -m 300 \
	    -f "sha-256 $(fp "$T/rsa.pem")"
	assert_success
	echo "$output" > "$T/a.out"
	n=$(sed -n 's/^biggest //p' "$T/a.out")
	[ "$n" -le 300 ] && [ "$n" -gt 200 ]
	wait_for "$T/s.out" "Keying material:"
	same_material "$T/a.out" "$T/s.out"
}

# GnuTLS: a second implementation, none of OpenSSL's code (its DTLS 3.7
# knows the two AES_CM_128 profiles only). gnutls-cli prints the keying
# material it exported; gnutls-serv does not, but it makes us go through
# a HelloVerifyRequest (cookie) exchange.

# gclient OPTIONS...: gnutls-cli over DTLS to our passive side on $H:$P.
gclient() {
	timeout 10 gnutls-cli -u -p "$P" "$H" --insecure --print-cert \
	    --x509certfile "$T/ec.pem" --x509keyfile "$T/ec.key" \
	    --keymatexport EXTRACTOR-dtls_srtp --keymatexportsize 60 \
	    "$@" < /dev/null > "$T/g.out" 2>&1 || true
}

@test "dtls: passive against gnutls-cli (AES_CM_128_HMAC_SHA1_80): same keys, fingerprint" {
	command -v gnutls-cli > /dev/null || skip "no gnutls-cli (gnutls-bin)"
	passive -f "sha-256 $(fp "$T/ec.pem")"
	gclient --srtp-profiles SRTP_AES128_CM_HMAC_SHA1_80
	wait_for "$T/p.out" material
	grep -q "SRTP profile: SRTP_AES128_CM_HMAC_SHA1_80" "$T/g.out"
	ours=$(sed -n 's/^material //p' "$T/p.out")
	theirs=$(sed -n 's/^- Key material: //p' "$T/g.out" | tr a-f A-F)
	echo "ours $ours theirs $theirs"
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]
	[ "fingerprint $(our_cert_fp "$T/g.out")" = "$(grep ^fingerprint "$T/p.out")" ]
}

@test "dtls: passive against gnutls-cli offering _32 then _80: ours first (_80), same keys" {
	command -v gnutls-cli > /dev/null || skip "no gnutls-cli (gnutls-bin)"
	passive -f "sha-256 $(fp "$T/ec.pem")"
	gclient --srtp-profiles SRTP_AES128_CM_HMAC_SHA1_32:SRTP_AES128_CM_HMAC_SHA1_80
	wait_for "$T/p.out" material
	grep -q "^suite AES_CM_128_HMAC_SHA1_80$" "$T/p.out"
	grep -q "SRTP profile: SRTP_AES128_CM_HMAC_SHA1_80" "$T/g.out"
	ours=$(sed -n 's/^material //p' "$T/p.out")
	theirs=$(sed -n 's/^- Key material: //p' "$T/g.out" | tr a-f A-F)
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]
}

@test "dtls: active against gnutls-serv, through its HelloVerifyRequest cookie" {
	command -v gnutls-serv > /dev/null || skip "no gnutls-serv (gnutls-bin)"
	# it binds the wildcard address: its replies come from 127.0.0.1
	H=127.0.0.1
	P=$("$FREEPORT" "$H")
	timeout 20 gnutls-serv -u --echo -p "$P" \
	    --x509certfile "$T/rsa.pem" --x509keyfile "$T/rsa.key" \
	    --srtp-profiles SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32 \
	    --require-client-cert > "$T/gs.out" 2>&1 3>&- &
	PIDS+=($!)
	# "...done" once bound (the line starts before)
	wait_for "$T/gs.out" "IPv4.*done"
	run timeout 15 "$PEER" -r active -l "$H:0" -t "$H:$P" -w 10000 \
	    -s AES_CM_128_HMAC_SHA1_32 -f "sha-256 $(fp "$T/rsa.pem")"
	cat "$T/gs.out"
	assert_success
	assert_line "suite AES_CM_128_HMAC_SHA1_32"
	assert_line "peer $(fp "$T/rsa.pem")"
}
