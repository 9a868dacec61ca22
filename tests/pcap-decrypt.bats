#!/usr/bin/env bats
# pcap-decrypt.bats - one case per capture variant. Captures come from
# srtp-gen-pcap (stock libsrtp2), which also writes the expected plaintext
# pcap and payloads; the output is compared byte for byte with them and
# checked with tshark's RTP dissection.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	PD=$SBK_BIN/pcap-decrypt
	GEN=$SBK_BUILD/tests/helpers/srtp-gen-pcap
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/pcap-decrypt.XXXXXX")
	mkdir -p "$T/raw" "$T/out"
}

teardown() {
	rm -rf "$T"
}

# gen OPTIONS...: the capture $T/e.pcap, expected $T/p.pcap, keys, payloads.
gen() {
	"$GEN" -o "$T/e.pcap" --plain "$T/p.pcap" --keys "$T/k.txt" \
	    --raw "$T/raw" "$@"
}

# same: the output pcap and payload files equal the expected ones.
same() {
	cmp "$T/o.pcap" "$T/p.pcap"
	local f n=0
	for f in "$T"/raw/*.raw; do
		cmp "$f" "$T/out/$(basename "$f")"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# decrypt [OPTIONS...]: with the key file, output and report.
decrypt() {
	run timeout 60 "$PD" -K "$T/k.txt" -r "$T/e.pcap" -w "$T/o.pcap" \
	    --raw "$T/out" --json "$T/r.json" "$@"
}

# tshark_check: tshark, told the media ports are RTP, finds every stream's
# payloads in the output, in order, equal to the expected ones.
tshark_check() {
	local f ssrc
	timeout 120 tshark -n -r "$T/o.pcap" -d "udp.port==20000-20255,rtp" \
	    -d "udp.port==30000-30255,rtp" -Y rtp -T fields \
	    -e rtp.ssrc -e rtp.payload > "$T/tshark.txt" 2>/dev/null
	for f in "$T"/raw/*.raw; do
		ssrc=0x$(basename "$f" .raw)
		awk -v s="$ssrc" '$1 == s { print $2 }' "$T/tshark.txt" |
		    tr -d ':\n' > "$T/tshark.hex"
		od -An -v -tx1 "$f" | tr -d ' \n' > "$T/want.hex"
		[ -s "$T/want.hex" ]
		cmp "$T/tshark.hex" "$T/want.hex"
	done
}

json() {	# json EXPR: a value from the JSON report
	python3 -c "import json,sys; r=json.load(open('$T/r.json')); print($1)"
}

variant() {	# variant GEN-OPTIONS...: generate, decrypt, compare, tshark
	gen "$@"
	decrypt
	assert_success
	same
	[ -n "${NO_TSHARK:-}" ] || tshark_check
}

@test "usage: --help exits 0, a bad option exits 2, no capture exits 2" {
	run "$PD" --help
	assert_success
	assert_output --partial "usage: pcap-decrypt"
	run "$PD" --bogus
	assert_failure 2
	run "$PD"
	assert_failure 2
	run "$PD" --version
	assert_success
}

@test "link: ethernet" { variant --link ethernet --rtcp; }
@test "link: 802.1Q vlan" { variant --link vlan --rtcp; }
@test "link: QinQ (802.1ad + 802.1Q)" { variant --link qinq --rtcp; }
@test "link: linux cooked sll" { variant --link sll --rtcp; }
@test "link: linux cooked sll2" { variant --link sll2 --rtcp; }
@test "link: raw ip" { variant --link raw --rtcp; }
@test "link: bsd null (ipv6)" { variant --link null --ipv6; }
@test "ipv6 with a destination options header" { variant --ipv6 --ext --rtcp; }
@test "ipv4 fragments" { variant --frag 64 --rtcp; }
@test "ipv6 fragments" { variant --ipv6 --frag 64 --rtcp; }
@test "pcapng with two interfaces" { variant --pcapng --link sll2 --rtcp; }

@test "several calls and streams" {
	variant --calls 3 --rtcp
	[ "$(json "len(r['streams'])")" = 12 ]
	[ "$(json "sum(s['decrypted'] for s in r['streams'])")" = \
	    "$(json "r['frames']")" ]
}

@test "keys without selectors are tried on every stream" {
	gen --calls 3 --rtcp
	sed -i 's/^.* \([A-Z]\)/\1/' "$T/k.txt"
	! grep -q ssrc= "$T/k.txt"
	decrypt
	assert_success
	same
}

@test "relay key log behind NAT: with dir=, the peer address is only a hint" {
	gen --calls 3 --rtcp
	# as srtp-bridge --keylog writes it: the peer (10.1.x.y) as its SDP
	# said (198.18.x.y), the relay side (10.2.x.y) as it really is
	sed -e 's/ ssrc=0x[0-9a-f]*//' \
	    -e 's/ src=10\.1\./ dir=in src=198.18./' \
	    -e 's/ dst=10\.1\./ dir=out dst=198.18./' \
	    "$T/k.txt" > "$T/nat.txt"
	[ "$(grep -c 'dir=in src=198.18' "$T/nat.txt")" = 3 ]
	[ "$(grep -c 'dir=out dst=198.18' "$T/nat.txt")" = 3 ]
	run timeout 60 "$PD" -K "$T/nat.txt" -r "$T/e.pcap" -w "$T/o.pcap" \
	    --raw "$T/out"
	assert_success
	same
	# without dir= the addresses are strict, and nothing fits
	sed 's/dir=[a-z]* //' "$T/nat.txt" > "$T/strict.txt"
	run timeout 60 "$PD" -K "$T/strict.txt" -r "$T/e.pcap" -w "$T/o.pcap"
	assert_failure 4
}

@test "srtcp on separate ports" {
	variant --rtcp
	[ "$(json "[s['decrypted'] for s in r['streams'] if s['kind'] == 'rtcp']")" = "[5, 5]" ]
}

@test "rtcp-mux" {
	variant --rtcp-mux
	[ "$(json "sorted(s['src'] for s in r['streams'] if s['kind'] == 'rtcp')")" = \
	    "['10.1.0.1:20000', '10.2.0.1:30000']" ]
}

@test "unencrypted srtcp" { variant --unencrypted-srtcp --rtcp; }

@test "capture starting at ROC 3: found and reported" {
	variant --roc 3 --seq 1000
	[ "$(json "[s['roc_first'] for s in r['streams']]")" = "[3, 3]" ]
	assert_output --partial "found, started at 3"
}

@test "sequence number wrap" {
	variant --seq 65500 --packets 100
	[ "$(json "[s['roc'] for s in r['streams']]")" = "[1, 1]" ]
}

@test "mki" { variant --mki --rtcp; }

@test "suite AES_CM_128_HMAC_SHA1_80" { variant --suite AES_CM_128_HMAC_SHA1_80 --rtcp; }
@test "suite AES_CM_128_HMAC_SHA1_32" { variant --suite AES_CM_128_HMAC_SHA1_32 --rtcp; }
@test "suite AES_192_CM_HMAC_SHA1_80" { variant --suite AES_192_CM_HMAC_SHA1_80 --rtcp; }
@test "suite AES_192_CM_HMAC_SHA1_32" { variant --suite AES_192_CM_HMAC_SHA1_32 --rtcp; }
@test "suite AES_256_CM_HMAC_SHA1_80" { variant --suite AES_256_CM_HMAC_SHA1_80 --rtcp; }
@test "suite AES_256_CM_HMAC_SHA1_32" { variant --suite AES_256_CM_HMAC_SHA1_32 --rtcp; }
@test "suite AEAD_AES_128_GCM" { variant --suite AEAD_AES_128_GCM --rtcp; }
@test "suite AEAD_AES_256_GCM" { variant --suite AEAD_AES_256_GCM --rtcp; }

@test "corrupted and replayed packets are counted, not written decrypted: exit 5" {
	gen --corrupt 11 --replay 5 --packets 50
	decrypt
	# some packets of each stream did not authenticate: partly decrypted
	assert_failure 5
	assert_output --partial "2 of 2 keyed streams did not decrypt fully"
	assert_output --regexp "0x[0-9a-f]{8} rtp 10\.1\.0\.1:20000 -> 10\.2\.0\.1:30000: partial, 46 of 60 decrypted \(auth 4, replay 10\)"
	# (tshark would see the failed frames' ciphertext as RTP too)
	same
	[ "$(json "[s['failed']['auth'] for s in r['streams']]")" = "[4, 4]" ]
	[ "$(json "[s['failed']['replay'] for s in r['streams']]")" = "[10, 10]" ]
	[ "$(json "[s['decrypted'] for s in r['streams']]")" = "[46, 46]" ]
	[ "$(json "[s['status'] for s in r['streams']]")" = "['partial', 'partial']" ]
	[ "$(json "r['streams_not_ok']")" = 2 ]
}

@test "duplicates alone (replays) are not a failure: exit 0" {
	NO_TSHARK=1 variant --replay 5 --packets 50
	[ "$(json "[s['failed']['replay'] for s in r['streams']]")" = "[10, 10]" ]
	[ "$(json "[s['status'] for s in r['streams']]")" = "['ok', 'ok']" ]
}

@test "one keyed stream fails, the others decrypt: exit 5, that stream named" {
	gen --calls 2
	# the third stream's key line gets another (valid) key
	sed -i '3s#inline:[^ ]*#inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz#' \
	    "$T/k.txt"
	bad=$(sed -n '3s/.*ssrc=\(0x[0-9a-f]*\).*/\1/p' "$T/k.txt")
	decrypt
	assert_failure 5
	assert_output --partial "1 of 4 keyed streams did not decrypt fully"
	assert_output --partial "$bad rtp 10.1.1.1:20004 -> 10.2.1.1:30004: failed, 0 of 50 decrypted (auth 50)"
	[ "$(json "[s['status'] for s in r['streams']]")" = \
	    "['ok', 'ok', 'failed', 'ok']" ]
	# the others are decrypted exactly
	for f in "$T"/raw/*.raw; do
		[ "$(basename "$f" .raw)" = "${bad#0x}" ] && continue
		cmp "$f" "$T/out/$(basename "$f")"
	done
	# -q leaves out the report, not the streams that failed
	run timeout 60 "$PD" -q -K "$T/k.txt" -r "$T/e.pcap"
	assert_failure 5
	assert_output --partial "$bad rtp"
	refute_output --partial "ssrc       kind"
}

@test "streams no key fits are not failures: exit 0" {
	gen --calls 2
	sed -i '3,4d' "$T/k.txt"	# no keys for the second call
	decrypt
	assert_success
	[ "$(json "[s['status'] for s in r['streams']]")" = \
	    "['ok', 'ok', 'no-key', 'no-key']" ]
	[ "$(json "r['keyed_streams']")" = 2 ]
}

@test "KDR>0 key lines are refused with the reason: -k exit 2, key file exit 3" {
	gen --kdr 1
	grep -q ' KDR=1$' "$T/k.txt"
	decrypt
	assert_failure 3
	assert_output --partial "line 1: KDR=1: key derivation rate not supported"
	run timeout 60 "$PD" -k "$(sed -n 1p "$T/k.txt")" -r "$T/e.pcap"
	assert_failure 2
	assert_output --partial "-k: KDR=1: key derivation rate not supported"
	# KDR=0 is no rate at all
	sed -i 's/ KDR=1$/ KDR=0/' "$T/k.txt"
	decrypt
	assert_success
}

@test "KDR>0 in the capture's SDP: its streams reported unsupported, not decrypted" {
	# the generator's libsrtp2 ignores the KDR it writes in the SDP, so a
	# decrypter that ignored it too would decrypt these streams
	gen --sip udp --kdr 1 --rtcp
	run timeout 60 "$PD" --keep-sdp -r "$T/e.pcap" -w "$T/o.pcap" \
	    --json "$T/r.json"
	assert_failure 4
	assert_output --partial "nothing decrypted (the keys that fit cannot be used)"
	assert_output --partial "unsupported, 0 of 50 decrypted (unsupported 50: KDR=1: key derivation rate not supported)"
	cmp "$T/o.pcap" "$T/e.pcap"
	[ "$(json "set(s['status'] for s in r['streams'])")" = "{'unsupported'}" ]
	[ "$(json "[s['failed']['unsupported'] for s in r['streams']]")" = \
	    "[50, 50, 5, 5]" ]
	[ "$(json "r['decrypted']")" = 0 ]
}

@test "KDR>0 in one call's SDP: exit 5, that call unsupported, the other decrypted" {
	gen --sip udp --calls 2 --kdr 1 --kdr-call 1
	run timeout 60 "$PD" -r "$T/e.pcap" --raw "$T/out" --json "$T/r.json"
	assert_failure 5
	assert_output --partial "2 of 4 keyed streams did not decrypt fully"
	[ "$(json "[s['status'] for s in r['streams']]")" = \
	    "['ok', 'ok', 'unsupported', 'unsupported']" ]
	[ "$(json "[s['decrypted'] for s in r['streams']]")" = "[50, 50, 0, 0]" ]
}

@test "reordering and loss" {
	variant --reorder 4 --loss 9 --packets 50
	[ "$(json "[s['lost'] for s in r['streams']]")" = "[5, 5]" ]
	[ "$(json "[s['failed']['replay'] for s in r['streams']]")" = "[0, 0]" ]
}

@test "sip over udp in the capture is the only key source" {
	gen --sip udp --rtcp
	run timeout 60 "$PD" --keep-sdp -r "$T/e.pcap" -w "$T/o.pcap" \
	    --raw "$T/out" --json "$T/r.json"
	assert_success
	same
	[ "$(json "r['sip_keys']")" = 2 ]
	[ "$(json "set(s['key_from'] for s in r['streams'])")" = "{'sip'}" ]
}

@test "sip over tcp (messages split across segments) is the key source" {
	gen --sip tcp --rtcp
	run timeout 60 "$PD" -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out" \
	    --json "$T/r.json"
	assert_success
	# (without --keep-sdp: a message split across segments is written
	# as it was, only one whole in its segment is made plain RTP)
	same
}

@test "re-INVITE rekey applied from when it appears" {
	gen --sip udp --rekey --rtcp
	run timeout 60 "$PD" --keep-sdp -r "$T/e.pcap" -w "$T/o.pcap" \
	    --raw "$T/out" --json "$T/r.json"
	assert_success
	same
	[ "$(json "r['sip_keys']")" = 4 ]
}

@test "--no-sip ignores the keys in the capture: exit 4" {
	gen --sip udp
	run timeout 60 "$PD" --no-sip -r "$T/e.pcap" -w "$T/o.pcap"
	assert_failure 4
	assert_output --partial "nothing decrypted"
}

@test "wrong key: nothing decrypted, exit 4, capture still written" {
	gen
	"$GEN" -o "$T/other.pcap" --keys "$T/k.txt" --seed 99
	sed -i 's/^.* \([A-Z]\)/\1/' "$T/k.txt"
	decrypt
	assert_failure 4
	cmp "$T/o.pcap" "$T/e.pcap"
	[ "$(json "[s['failed']['auth'] for s in r['streams']]")" = "[50, 50]" ]
}

@test "truncated capture: exit 3, what was read is written" {
	gen --truncate 10 --rtcp
	decrypt
	assert_failure 3
	assert_output --partial "truncated"
	same
}

@test "truncated pcapng: exit 3" {
	gen --pcapng --truncate 10
	decrypt
	assert_failure 3
	same
}

@test "not a capture: exit 3; missing capture: exit 1" {
	echo "hello" > "$T/bad.pcap"
	run "$PD" -k "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" "$T/bad.pcap"
	assert_failure 3
	run "$PD" -k "AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" "$T/none.pcap"
	assert_failure 1
}

@test "keys from -k and from stdin (-k -), capture from stdin" {
	gen --calls 2
	run timeout 60 "$PD" -k "$(sed -n 1p "$T/k.txt")" -k "$(sed -n 2p "$T/k.txt")" \
	    -k "$(sed -n 3p "$T/k.txt")" -k "$(sed -n 4p "$T/k.txt")" \
	    -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out"
	assert_success
	same
	rm -f "$T/o.pcap"
	run sh -c "timeout 60 '$PD' -k - -r '$T/e.pcap' -w '$T/o.pcap' < '$T/k.txt'"
	assert_success
	cmp "$T/o.pcap" "$T/p.pcap"
	rm -f "$T/o.pcap"
	run sh -c "timeout 60 '$PD' -K '$T/k.txt' -w '$T/o.pcap' - < '$T/e.pcap'"
	assert_success
	cmp "$T/o.pcap" "$T/p.pcap"
	run "$PD" -k "AES_CM_128_HMAC_SHA1_80 inline:short" "$T/e.pcap"
	assert_failure 2
}

@test "keys from an sdp file" {
	gen --sip udp
	# an SDP with both streams' media, made from the key lines
	python3 - "$T/k.txt" "$T/a.sdp" <<-'EOF'
	import sys
	lines = open(sys.argv[1]).read().split("\n")
	out = open(sys.argv[2], "w")
	for i, l in enumerate(l for l in lines if l):
	    f = dict(x.split("=", 1) for x in l.split() if "=" in x and not x.startswith("inline"))
	    addr, port = f["src"].rsplit(":", 1)
	    crypto = " ".join(x for x in l.split() if "=" not in x or x.startswith("inline"))
	    if i == 0:
	        out.write("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\n" % addr)
	    out.write("m=audio %s RTP/SAVP 0\r\nc=IN IP4 %s\r\na=crypto:1 %s\r\n" % (port, addr, crypto))
	EOF
	run timeout 60 "$PD" --no-sip --sdp "$T/a.sdp" -r "$T/e.pcap" \
	    -w "$T/o.pcap" --raw "$T/out" --keep-sdp
	assert_success
	same
}

# sdps [--nat ADDR] [--bad]: one SDP per key line, $T/sdp1.sdp ...; with
# --nat the caller's (10.1.x.y) SDP names ADDR instead of where it sends
# from, with --bad it offers another key than it uses.
sdps() {
	python3 - "$T/k.txt" "$T" "$@" <<-'EOF'
	import sys
	keys, out, args = sys.argv[1], sys.argv[2], sys.argv[3:]
	nat = args[args.index("--nat") + 1] if "--nat" in args else None
	bad = "--bad" in args
	lines = [l for l in open(keys).read().split("\n") if l]
	for i, l in enumerate(lines):
	    f = dict(x.split("=", 1) for x in l.split() if "=" in x and not x.startswith("inline"))
	    addr, port = f["src"].rsplit(":", 1)
	    crypto = " ".join(x for x in l.split() if "=" not in x or x.startswith("inline"))
	    if addr.startswith("10.1."):
	        if nat:
	            addr = nat
	        if bad:
	            crypto = crypto.split()[0] + " inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	    with open("%s/sdp%d.sdp" % (out, i + 1), "w") as o:
	        o.write("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
	                "m=audio %s RTP/SAVP 0\r\na=crypto:1 %s\r\n" % (addr, addr, port, crypto))
	EOF
}

@test "NAT: --sdp whose c= is not where the phone sends from: keyed by authentication" {
	gen --rtcp
	sdps --nat 192.168.1.5
	grep -q 'c=IN IP4 192.168.1.5' "$T/sdp1.sdp"
	grep -q 'c=IN IP4 10.2.0.1' "$T/sdp2.sdp"
	run timeout 60 "$PD" --sdp "$T/sdp1.sdp" --sdp "$T/sdp2.sdp" \
	    -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out" --json "$T/r.json"
	assert_success
	same
	assert_output --partial "2 streams keyed by authentication"
	assert_output --regexp "0x[0-9a-f]{8} rtp  10\.1\.0\.1:20000 +10\.2\.0\.1:30000 +AES_CM_128_HMAC_SHA1_80 ok +sdp/auth "
	assert_output --regexp "0x[0-9a-f]{8} rtp  10\.2\.0\.1:30000 +10\.1\.0\.1:20000 +AES_CM_128_HMAC_SHA1_80 ok +sdp/addr "
	[ "$(json "sorted((s['kind'], s['src'], s['key_from'], s['keyed_by']) for s in r['streams'])")" = \
	    "[('rtcp', '10.1.0.1:20001', 'sdp', 'authentication'), ('rtcp', '10.2.0.1:30001', 'sdp', 'address'), ('rtp', '10.1.0.1:20000', 'sdp', 'authentication'), ('rtp', '10.2.0.1:30000', 'sdp', 'address')]" ]
	[ "$(json "r['auth_streams']")" = 2 ]
	# the same keys as key lines with src= stay strict (a key line is
	# exact): the caller's streams have no key, and that is no failure
	sed -e 's/ ssrc=0x[0-9a-f]*//' -e 's/src=10\.1\.0\.1/src=192.168.1.5/' \
	    -e 's/ dst=[^ ]*//' "$T/k.txt" > "$T/strict.txt"
	run timeout 60 "$PD" -K "$T/strict.txt" -r "$T/e.pcap"
	assert_success
	assert_output --regexp "rtp  10\.1\.0\.1:20000 .* no-key +- "
}

@test "NAT: a wrong key in the phone's SDP: exit 5, its streams named; all wrong: exit 4" {
	gen --rtcp
	sdps --nat 192.168.1.5 --bad
	run timeout 60 "$PD" --sdp "$T/sdp1.sdp" --sdp "$T/sdp2.sdp" \
	    -r "$T/e.pcap" --json "$T/r.json"
	assert_failure 5
	assert_output --partial "2 of 4 keyed streams did not decrypt fully"
	assert_output --regexp "0x[0-9a-f]{8} rtp 10\.1\.0\.1:20000 -> 10\.2\.0\.1:30000: failed, 0 of 50 decrypted \(no-key 42, auth 8\): no SDP names its source; the SDP keys \(--sdp\) tried by authentication, none fits"
	assert_output --regexp "0x[0-9a-f]{8} rtcp 10\.1\.0\.1:20001 -> 10\.2\.0\.1:30001: failed"
	[ "$(json "sorted((s['src'], s['status']) for s in r['streams'])")" = \
	    "[('10.1.0.1:20000', 'failed'), ('10.1.0.1:20001', 'failed'), ('10.2.0.1:30000', 'ok'), ('10.2.0.1:30001', 'ok')]" ]
	# the callee's SDP alone: the caller's streams it names were
	# promised SRTP but have no key that fits
	run timeout 60 "$PD" --sdp "$T/sdp2.sdp" -r "$T/e.pcap"
	assert_failure 5
	assert_output --regexp "rtp 10\.1\.0\.1:20000 -> 10\.2\.0\.1:30000: failed"
	# the phone's alone, its key wrong: nothing decrypted
	run timeout 60 "$PD" --sdp "$T/sdp1.sdp" -r "$T/e.pcap"
	assert_failure 4
	assert_output --partial "nothing decrypted"
}

@test "NAT: SIP in the capture whose SDP names another address: keyed by authentication" {
	gen --sip udp --rtcp
	# the INVITE's c= becomes a private address (same length)
	python3 - "$T/e.pcap" <<-'EOF'
	import sys
	b = open(sys.argv[1], "rb").read()
	assert b.count(b"c=IN IP4 10.1.0.1\r\n") == 1
	open(sys.argv[1], "wb").write(b.replace(b"c=IN IP4 10.1.0.1\r\n", b"c=IN IP4 10.9.0.1\r\n"))
	EOF
	run timeout 60 "$PD" -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out" \
	    --json "$T/r.json"
	assert_success
	assert_output --partial "2 streams keyed by authentication"
	assert_output --regexp "rtp  10\.1\.0\.1:20000 .* ok +sip/auth "
	[ "$(json "sorted((s['src'], s['key_from'], s['keyed_by']) for s in r['streams'])")" = \
	    "[('10.1.0.1:20000', 'sip', 'authentication'), ('10.1.0.1:20001', 'sip', 'authentication'), ('10.2.0.1:30000', 'sip', 'address'), ('10.2.0.1:30001', 'sip', 'address')]" ]
	for f in "$T"/raw/*.raw; do
		cmp "$f" "$T/out/$(basename "$f")"
	done
}

# sipcheck FILE: every frame of FILE equal to $T/p.pcap's but the SIP
# ones; each SIP message's Content-Length its body's length; prints the
# number of SIP messages.
sipcheck() {
	python3 - "$1" "$T/p.pcap" <<-'EOF'
	import struct, sys
	def frames(path):
	    b = open(path, "rb").read()
	    le = b[:4] == b"\xd4\xc3\xb2\xa1"
	    e = "<" if le else ">"
	    off, out = 24, []
	    while off + 16 <= len(b):
	        n = struct.unpack(e + "IIII", b[off:off + 16])[2]
	        out.append(b[off + 16:off + 16 + n])
	        off += 16 + n
	    return out
	got, want = frames(sys.argv[1]), frames(sys.argv[2])
	assert len(got) == len(want), (len(got), len(want))
	nsip = 0
	for g, w in zip(got, want):
	    i = g.find(b"SIP/2.0")
	    if i < 0:
	        assert g == w, "a frame that is not SIP differs"
	        continue
	    nsip += 1
	    start = max(g.rfind(b"INVITE ", 0, i + 1), g.find(b"SIP/2.0 "))
	    head, body = g[start:].split(b"\r\n\r\n", 1)
	    cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
	    assert int(cl[0].split(b":")[1]) == len(body), "Content-Length"
	print(nsip)
	EOF
}

# rtp_full FILE: the RTP packets tshark finds in FILE (ports told) whose
# payload is the whole 160 bytes the generator sent.
rtp_full() {
	timeout 120 tshark -n -r "$1" -d "udp.port==20000,rtp" \
	    -d "udp.port==30000,rtp" -Y rtp -T fields -e rtp.payload \
	    2>/dev/null | tr -d : | awk 'length($1) == 2 * 160' | wc -l
}

@test "-w: the SIP's SDP says RTP/AVP, no a=crypto; tshark gets whole payloads" {
	gen --sip udp --rtcp
	# what went in: SRTP profiles with keys
	timeout 120 tshark -n -r "$T/e.pcap" -Y sdp -T fields -e sdp.media \
	    2>/dev/null > "$T/in.txt"
	[ "$(grep -c 'RTP/SAVP' "$T/in.txt")" = 2 ]
	run timeout 60 "$PD" -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out"
	assert_success
	timeout 120 tshark -n -r "$T/o.pcap" -Y sdp -T fields -e sdp.media \
	    2>/dev/null > "$T/media.txt"
	cat "$T/media.txt"
	[ "$(grep -c ' RTP/AVP 0$' "$T/media.txt")" = 2 ]
	! grep -q SAVP "$T/media.txt"
	timeout 120 tshark -n -r "$T/o.pcap" -Y sdp -T fields \
	    -e sdp.media_attr 2>/dev/null > "$T/attr.txt"
	[ "$(grep -c 'rtpmap:0 PCMU/8000' "$T/attr.txt")" = 2 ]
	! grep -q crypto "$T/attr.txt"
	# lengths and checksums: tshark finds none bad, Content-Length fits
	[ "$(timeout 120 tshark -n -r "$T/o.pcap" -o ip.check_checksum:TRUE \
	    -o udp.check_checksum:TRUE -Y 'ip.checksum.status == 0 ||
	    udp.checksum.status == 0 || _ws.malformed' 2>/dev/null | wc -l)" = 0 ]
	[ "$(sipcheck "$T/o.pcap")" = 2 ]
	# the RTP whole: each packet's payload the exact plaintext
	[ "$(rtp_full "$T/o.pcap")" = 100 ]
	tshark_check
	# --keep-sdp: the SIP as it was, and tshark takes the RTP for SRTP
	run timeout 60 "$PD" --keep-sdp -r "$T/e.pcap" -w "$T/k.pcap"
	assert_success
	cmp "$T/k.pcap" "$T/p.pcap"
	[ "$(rtp_full "$T/k.pcap")" = 0 ]
}

@test "-w: fragmented SIP over UDP gets its SDP made plain too" {
	gen --sip udp --frag 256
	run timeout 60 "$PD" -r "$T/e.pcap" -w "$T/o.pcap" --raw "$T/out"
	assert_success
	timeout 120 tshark -n -r "$T/o.pcap" -o ip.check_checksum:TRUE \
	    -o udp.check_checksum:TRUE -Y sdp -T fields -e sdp.media \
	    -e udp.checksum.status 2>/dev/null > "$T/media.txt"
	cat "$T/media.txt"
	[ "$(grep -c ' RTP/AVP 0' "$T/media.txt")" = 2 ]
	! grep -q SAVP "$T/media.txt"
	[ "$(rtp_full "$T/o.pcap")" = 100 ]
}

@test "wav: PCMU and PCMA decoded as sox decodes the payloads" {
	local pt enc f
	for pt in 0 8; do
		enc=u-law; [ $pt = 8 ] && enc=a-law
		rm -rf "$T/raw"/* "$T/out"/* "$T/wav"
		mkdir -p "$T/wav"
		gen --pt $pt
		decrypt --wav "$T/wav"
		assert_success
		for f in "$T"/raw/*.raw; do
			sox -t raw -r 8000 -c 1 -e $enc -b 8 "$f" -t raw -e signed -b 16 -L "$T/want.s16"
			sox "$T/wav/$(basename "$f" .raw).wav" -t raw -e signed -b 16 -L "$T/got.s16"
			cmp "$T/got.s16" "$T/want.s16"
		done
	done
}

@test "wav: lost packets become silence of the right length" {
	gen --loss 5 --packets 50
	decrypt --wav "$T/wav"
	assert_success
	for f in "$T"/wav/*.wav; do
		# 50 packets of 160 samples, the 50th lost: 49 * 160
		[ "$(soxi -s "$f")" = 7840 ]
	done
}
