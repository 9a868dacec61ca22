#!/usr/bin/env bats
# srtp-ref.bats - the stock-libsrtp2 reference helper that other tests use
# as an independent SRTP peer works: round trip, tamper, MKI, suites.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	REF=$SBK_BUILD/tests/helpers/srtp-ref
	K30=$(openssl rand -base64 30)
	K28=$(openssl rand -base64 28)
	RTP=80000001000000a0cafebabe48656c6c6f2c20776f726c64
	RTCP=80c80006cafebabe0000000100000002000000030000000400000005
}

rt() {	# suite key opts... : protect then unprotect "$RTP" and "$RTCP"
	local s=$1 k=$2
	shift 2
	printf 'rtp %s\nrtcp %s\n' "$RTP" "$RTCP" |
	    timeout 10 "$REF" protect "$s" "inline:$k" "$@" |
	    sed -e '1s/^/rtp /' -e '2s/^/rtcp /' |
	    timeout 10 "$REF" unprotect "$s" "inline:$k" "$@"
}

@test "srtp-ref: AES_CM_128_HMAC_SHA1_80 round trip, RTP and RTCP" {
	run rt AES_CM_128_HMAC_SHA1_80 "$K30"
	assert_success
	assert_output "$RTP
$RTCP"
}

@test "srtp-ref: AEAD_AES_128_GCM with an MKI" {
	run rt AEAD_AES_128_GCM "$K28" -m 0001
	assert_success
	assert_output "$RTP
$RTCP"
}

@test "srtp-ref: two keys told apart by MKI; protect with key 1" {
	K2=$(openssl rand -base64 30)
	p=$(printf 'rtp %s\n' "$RTP" | timeout 10 "$REF" -m 00000001 \
	    -m 00000002 -i 1 protect AES_CM_128_HMAC_SHA1_80 "inline:$K30" \
	    "inline:$K2|2^20")
	# the MKI of key 1 before the 10-byte tag
	[ "${p: -28:8}" = 00000002 ]
	# a receiver with key 1 alone (and its MKI) reads it; key 0 alone not
	run sh -c "echo 'rtp $p' | timeout 10 $REF -m 00000002 unprotect \
	    AES_CM_128_HMAC_SHA1_80 inline:$K2"
	assert_output "$RTP"
	run sh -c "echo 'rtp $p' | timeout 10 $REF -m 00000001 -m 00000002 \
	    unprotect AES_CM_128_HMAC_SHA1_80 inline:$K30 inline:$K2"
	assert_output "$RTP"
	run sh -c "echo 'rtp $p' | timeout 10 $REF -m 00000001 unprotect \
	    AES_CM_128_HMAC_SHA1_80 inline:$K30"
	refute_output "$RTP"
}

@test "srtp-ref: a tampered packet is an auth failure (status 7)" {
	p=$(echo "rtp $RTP" | timeout 10 "$REF" protect \
	    AES_CM_128_HMAC_SHA1_32 "inline:$K30")
	bad=${p:0:30}f${p:31}
	[ "$bad" != "$p" ] || bad=${p:0:30}e${p:31}
	run sh -c "echo 'rtp $bad' | timeout 10 $REF unprotect \
	    AES_CM_128_HMAC_SHA1_32 inline:$K30"
	assert_success
	assert_output "error 7"
}

@test "srtp-ref: a key of the wrong length is a usage error" {
	run timeout 10 "$REF" protect AES_256_CM_HMAC_SHA1_80 "inline:$K30"
	assert_failure 2
}
