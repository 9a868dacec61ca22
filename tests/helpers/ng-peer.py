#!/usr/bin/python3
# ng-peer.py - drive srtp-bridge's ng mode over real UDP like Kamailio's
# rtpengine module would, with stock libsrtp2 (pylibsrtp) and plain sockets
# as the phones. Prints "ok NAME" or "fail NAME: why" per check; exit 0 if
# all passed.
#
#   ng-peer.py SCENARIO HOST NG_PORT OUTSIDE_ADDR INSIDE_ADDR
#
# Scenarios: call (offer/answer/media/query/retransmit/delete),
# reverse (inside offers SRTP, tag renumbered in the answer),
# rekey (re-INVITE with a new and with the same a=crypto),
# limit (run with --max-sessions 1), ports (run with a 4-port range on two
# interface addresses), mki (a two-key a=crypto line) and params
# (UNENCRYPTED_SRTCP mirrored), both needing $SRTP_REF, the srtp-ref helper
# on stock libsrtp2; fork (via-branch forks, branch deletes, delete-delay),
# fork-compare (the same steps against rtpengine at argv[6] too), kdr
# (a=crypto lines with KDR=n skipped, see srtp-bridge(1)).
import base64
import os
import re
import socket
import struct
import sys

from pylibsrtp import Policy, Session

scenario, host, ngport, out_addr, in_addr = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), sys.argv[4], sys.argv[5]
failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name)
    else:
        failed += 1
        print("fail %s: %s" % (name, why))
    sys.stdout.flush()


# ---- bencode ----
def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(benc(k) + benc(v[k]) for k in v) + b"e"
    raise TypeError(v)


def bdec(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        j = b.index(b"e", i)
        return int(b[i + 1:j]), j + 1
    if c == b"l":
        i, out = i + 1, []
        while b[i:i + 1] != b"e":
            v, i = bdec(b, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while b[i:i + 1] != b"e":
            k, i = bdec(b, i)
            v, i = bdec(b, i)
            out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ng.settimeout(3)
seq = [0]


def raw(cookie, d):
    ng.sendto(cookie + b" " + benc(d), (host, ngport))
    data, _ = ng.recvfrom(65536)
    c, _, rest = data.partition(b" ")
    assert c == cookie, (c, cookie)
    return data, bdec(rest)[0]


def req(d):
    seq[0] += 1
    cookie = b"%d_%s" % (seq[0], os.urandom(4).hex().encode())
    return raw(cookie, d)[1]


def s(v):
    return v.decode() if isinstance(v, bytes) else v


# ---- SDPs ----
def sdp(addr, port, proto, cryptos=(), mux=False):
    lines = ["v=0", "o=- 1 1 IN IP4 %s" % addr, "s=-", "c=IN IP4 %s" % addr,
             "t=0 0", "m=audio %d %s 0 101" % (port, proto),
             "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
             "a=sendrecv", "a=ptime:20"]
    for tag, suite, key in cryptos:
        lines.append("a=crypto:%d %s inline:%s" % (tag, suite, key))
    if mux:
        lines.append("a=rtcp-mux")
    return "\r\n".join(lines) + "\r\n"


def media_of(sdp_text):
    m = re.search(r"^m=audio (\d+) (\S+)", sdp_text, re.M)
    c = re.findall(r"^c=IN IP[46] (\S+)", sdp_text, re.M)
    cr = re.findall(r"^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)",
                    sdp_text, re.M)
    return (c[-1] if c else None, int(m.group(1)), m.group(2), cr)


def key():
    return base64.b64encode(os.urandom(30)).decode()


def session(k, outbound, profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80):
    return Session(policy=Policy(
        key=base64.b64decode(k), srtp_profile=profile,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND if outbound
        else Policy.SSRC_ANY_INBOUND))


def rtp(seqno, ssrc, payload):
    return struct.pack("!BBHII", 0x80, 0, seqno & 0xffff, seqno * 160,
                       ssrc) + payload


def udp(addr):
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    so.bind((addr, 0))
    so.settimeout(2)
    return so


def recv_from(so):
    try:
        return so.recvfrom(4096)
    except socket.timeout:
        return None, None


def recv(so):
    return recv_from(so)[0]


def ref_run(op, keys, lines, mkis=(), index=0, flags=(),
            suite="AES_CM_128_HMAC_SHA1_80"):
    """Protect/unprotect with stock libsrtp2 (the srtp-ref helper)."""
    import subprocess
    args = [os.environ["SRTP_REF"]]
    for m in mkis:
        args += ["-m", m]
    for f in flags:
        args += ["-f", f]
    args += ["-i", str(index), op, suite] + ["inline:" + k for k in keys]
    out = subprocess.run(args, input="".join(
        "%s %s\n" % (kind, p.hex()) for kind, p in lines).encode(),
        capture_output=True, timeout=10, check=True).stdout.decode()
    return [None if x.startswith("error") else bytes.fromhex(x)
            for x in out.splitlines()]


SBC_OUT = {"transport-protocol": "RTP/AVP", "direction": ["external",
           "internal"], "ICE": "remove", "rtcp-mux": ["demux"],
           "replace": ["origin", "session-connection"]}
SBC_IN = {"transport-protocol": "RTP/SAVP", "direction": ["internal",
          "external"], "ICE": "remove", "replace": ["origin",
          "session-connection"]}
PHONE_A, PHONE_B = "127.0.0.1", "127.0.0.1"


def call_flow(cid):
    alice, bob = udp(PHONE_A), udp(PHONE_B)
    ka = key()
    offer = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP",
                [(1, "AES_CM_128_HMAC_SHA1_80", ka)])
    r = req(dict(SBC_OUT, command="offer", **{"call-id": cid,
            "from-tag": "alice-tag", "sdp": offer}))
    check("offer ok", s(r.get("result")) == "ok", repr(r))
    o = s(r.get("sdp", b""))
    c, oport, proto, cr = media_of(o)
    check("offer towards inside is plain RTP/AVP without crypto",
          proto == "RTP/AVP" and not cr and "a=crypto" not in o, o)
    check("offer carries the inside address", c == in_addr, o)
    check("no rtcp-mux towards inside", "a=rtcp-mux" not in o, o)
    answer = sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")
    r = req({"command": "answer", "call-id": cid, "from-tag": "alice-tag",
             "to-tag": "bob-tag", "sdp": answer,
             "replace": ["origin", "session-connection"], "ICE": "remove"})
    check("answer ok", s(r.get("result")) == "ok", repr(r))
    a = s(r.get("sdp", b""))
    c2, aport, proto2, cr2 = media_of(a)
    check("answer towards outside is RTP/SAVP with exactly one a=crypto",
          proto2 == "RTP/SAVP" and len(cr2) == 1, a)
    check("answer crypto: offered suite and tag",
          cr2 and cr2[0][0] == "1" and cr2[0][1] == "AES_CM_128_HMAC_SHA1_80",
          repr(cr2))
    check("answer carries the outside address", c2 == out_addr, a)
    return alice, bob, ka, cr2[0][2] if cr2 else key(), oport, aport


def media(alice, bob, ka, kb, oport, aport, n=10, tag=""):
    atx, arx = session(ka, True), session(kb, False)
    ok = src_ok = True
    for i in range(n):
        p = rtp(100 + i, 0xa11ce, b"A" * 160)
        alice.sendto(atx.protect(p), (out_addr, aport))
        g, src = recv_from(bob)
        ok = ok and g == p
        src_ok = src_ok and src == (in_addr, oport)
    check("alice SRTP reaches bob as the exact RTP" + tag, ok)
    check("... from the relay's inside port" + tag, src_ok)
    ok = src_ok = True
    for i in range(n):
        p = rtp(200 + i, 0xb0b, b"B" * 160)
        bob.sendto(p, (in_addr, oport))
        g, src = recv_from(alice)
        src_ok = src_ok and src == (out_addr, aport)
        try:
            ok = ok and g is not None and arx.unprotect(g) == p
        except Exception:
            ok = False
    check("bob RTP reaches alice as SRTP she decrypts" + tag, ok)
    check("... from the relay's outside port" + tag, src_ok)


if scenario == "call":
    alice, bob, ka, kb, oport, aport = call_flow("call-1@test")
    media(alice, bob, ka, kb, oport, aport)
    r = req({"command": "query", "call-id": "call-1@test"})
    check("query ok", s(r.get("result")) == "ok", repr(r))
    tags = r.get("tags", {})
    check("query lists both tags", set(tags) == {"alice-tag", "bob-tag"},
          repr(list(tags)))
    tot = r.get("totals", {}).get("RTP", {})
    check("query totals count the packets", tot.get("packets", 0) >= 20,
          repr(r.get("totals")))
    st = tags.get("alice-tag", {}).get("medias", [{}])[0].get("streams",
                                                                [{}])[0]
    check("alice's stream: suite and latched endpoint",
          s(st.get("crypto suite", b"")) == "AES_CM_128_HMAC_SHA1_80" and
          st.get("endpoint", {}).get("port") == alice.getsockname()[1],
          repr(st))
    # a retransmission is answered from the cache, byte for byte, and
    # does not run again (no second call, no new ports)
    d = dict(SBC_OUT, command="offer", **{"call-id": "call-2@test",
             "from-tag": "x", "sdp": sdp(PHONE_A, 4000, "RTP/SAVP",
                                         [(1, "AES_CM_128_HMAC_SHA1_80",
                                           key())])})
    r1 = raw(b"retrans-1", d)
    r2 = raw(b"retrans-1", d)
    check("retransmitted cookie gets the same reply", r1[0] == r2[0])
    r = req({"command": "list"})
    calls = sorted(s(x) for x in r.get("calls", []))
    check("list shows two calls", calls == ["call-1@test", "call-2@test"],
          repr(calls))
    r = req({"command": "statistics"})
    check("statistics ok", s(r.get("result")) == "ok", repr(r))
    r = req({"command": "ping"})
    check("ping pong", s(r.get("result")) == "pong", repr(r))
    r = req({"command": "offer", "call-id": "x", "from-tag": "y",
             "sdp": "v=0\r\nbogus\r\n"})
    check("bad SDP is an error", s(r.get("result")) == "error", repr(r))
    r = req({"command": "offer", "call-id": "x", "from-tag": "y",
             "sdp": sdp(PHONE_A, 4000, "RTP/AVP"), "flags": ["zork"]})
    check("unknown flag: ok with a warning", s(r.get("result")) == "ok" and
          b"zork" in r.get("warning", b""), repr(r))
    r = req({"command": "delete", "call-id": "call-1@test",
             "from-tag": "alice-tag"})
    check("delete ok", s(r.get("result")) == "ok", repr(r))
    r = req({"command": "query", "call-id": "call-1@test"})
    check("query after delete: unknown call-id",
          s(r.get("result")) == "error" and
          s(r.get("error-reason")) == "Unknown call-id", repr(r))
    # deleting it again, as rtpengine answers: ok with a warning, or an
    # error with the flag `fatal`
    r = req({"command": "delete", "call-id": "call-1@test",
             "from-tag": "alice-tag"})
    check("delete of an unknown call: ok with a warning",
          s(r.get("result")) == "ok" and
          s(r.get("warning")) == "Call-ID not found or tags didn't match",
          repr(r))
    r = req({"command": "delete", "call-id": "call-1@test",
             "from-tag": "alice-tag", "flags": ["fatal"]})
    check("delete of an unknown call, fatal: an error",
          s(r.get("result")) == "error" and
          s(r.get("error-reason")) == "Call-ID not found or tags didn't match",
          repr(r))
    # the deleted call's ports are closed: media goes nowhere
    alice.sendto(b"\x80" * 40, (out_addr, aport))
    check("no media after delete", recv(bob) is None)

elif scenario == "reverse":
    # Bob (inside, plain) calls Alice (outside, SRTP)
    alice, bob = udp(PHONE_A), udp(PHONE_B)
    r = req(dict(SBC_IN, command="offer", **{"call-id": "rev@test",
            "from-tag": "bob", "sdp": sdp(PHONE_B, bob.getsockname()[1],
                                          "RTP/AVP")}))
    o = s(r.get("sdp", b""))
    c, oport, proto, cr = media_of(o)
    check("offer towards outside is RTP/SAVP", proto == "RTP/SAVP", o)
    check("offer lists AES_CM_128_HMAC_SHA1_80 first",
          cr and cr[0][1] == "AES_CM_128_HMAC_SHA1_80", repr(cr))
    check("offer has one fresh key per suite",
          len(cr) >= 2 and len(set(x[2] for x in cr)) == len(cr), repr(cr))
    # Alice picks the _32 suite and renumbers the tag to 7
    k32 = [x for x in cr if x[1] == "AES_CM_128_HMAC_SHA1_32"]
    ka = key()
    r = req({"command": "answer", "call-id": "rev@test", "from-tag": "bob",
             "to-tag": "alice", "sdp": sdp(PHONE_A, alice.getsockname()[1],
                                           "RTP/SAVP",
                                           [(7, "AES_CM_128_HMAC_SHA1_32",
                                             ka)])})
    a = s(r.get("sdp", b""))
    c2, aport, proto2, cr2 = media_of(a)
    check("answer towards inside is plain", proto2 == "RTP/AVP" and not cr2,
          a)
    # media with the _32 keys: Alice sends with hers, receives with ours
    P32 = Policy.SRTP_PROFILE_AES128_CM_SHA1_32
    atx, arx = session(ka, True, P32), session(k32[0][2], False, P32)
    p = rtp(1, 0xa, b"x" * 160)
    alice.sendto(atx.protect(p), (out_addr, oport))
    check("answer matched by suite, not tag: alice->bob", recv(bob) == p)
    p = rtp(1, 0xb, b"y" * 160)
    bob.sendto(p, (in_addr, aport))
    g = recv(alice)
    check("bob->alice under the offered _32 key",
          g is not None and arx.unprotect(g) == p)

elif scenario == "rekey":
    alice, bob, ka, kb, oport, aport = call_flow("rk@test")
    media(alice, bob, ka, kb, oport, aport, 5)
    # re-INVITE, same a=crypto: same context (the sequence continues)
    offer = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP",
                [(1, "AES_CM_128_HMAC_SHA1_80", ka)])
    r = req(dict(SBC_OUT, command="offer", **{"call-id": "rk@test",
            "from-tag": "alice-tag", "sdp": offer}))
    _, oport2, _, _ = media_of(s(r["sdp"]))
    check("re-offer keeps the ports", oport2 == oport)
    r = req({"command": "answer", "call-id": "rk@test",
             "from-tag": "alice-tag", "to-tag": "bob-tag",
             "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")})
    _, _, _, cr = media_of(s(r["sdp"]))
    check("re-answer keeps our key", cr and cr[0][2] == kb, repr(cr))
    atx = session(ka, True)
    # replaying an early packet must still fail: the context was kept
    old = atx.protect(rtp(100, 0xa11ce, b"A" * 160))
    alice.sendto(old, (out_addr, aport))
    check("unchanged key: replay window kept", recv(bob) is None)
    # re-INVITE with a new key: new context
    ka2 = key()
    offer = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP",
                [(1, "AES_CM_128_HMAC_SHA1_80", ka2)])
    req(dict(SBC_OUT, command="offer", **{"call-id": "rk@test",
        "from-tag": "alice-tag", "sdp": offer}))
    req({"command": "answer", "call-id": "rk@test", "from-tag": "alice-tag",
         "to-tag": "bob-tag", "sdp": sdp(PHONE_B, bob.getsockname()[1],
                                         "RTP/AVP")})
    atx2 = session(ka2, True)
    p = rtp(1, 0xa11ce, b"N" * 160)
    alice.sendto(atx2.protect(p), (out_addr, aport))
    check("new key: new context (sequence may restart)", recv(bob) == p)

elif scenario == "limit":
    d = lambda cid, extra: dict(SBC_OUT, command="offer", **dict(
        {"call-id": cid, "from-tag": "t", "sdp": sdp(
            PHONE_A, 4000, "RTP/SAVP", [(1, "AES_CM_128_HMAC_SHA1_80",
                                         key())])}, **extra))
    r = req(d("l1", {}))
    check("first call ok", s(r.get("result")) == "ok", repr(r))
    r = req(d("l2", {}))
    check("second call: Parallel session limit reached",
          s(r.get("result")) == "error" and
          s(r.get("error-reason")) == "Parallel session limit reached",
          repr(r))
    r = req(d("l3", {"supports": ["load limit"]}))
    check("with supports load limit: result load limit",
          s(r.get("result")) == "load limit", repr(r))
    r = req(d("l1", {}))
    check("re-offer of an existing call is not limited",
          s(r.get("result")) == "ok", repr(r))

elif scenario == "ports":
    d = lambda cid: dict(SBC_OUT, command="offer", **{
        "call-id": cid, "from-tag": "t", "sdp": sdp(
            PHONE_A, 4000, "RTP/SAVP", [(1, "AES_CM_128_HMAC_SHA1_80",
                                         key())])})
    # 4 ports: one RTP/RTCP pair per call and side; each interface
    # address has its own ports, so two calls fit and the third does not
    for cid in ("p1", "p2"):
        r = req(d(cid))
        check("call %s ok" % cid, s(r.get("result")) == "ok", repr(r))
    r = req(d("p3"))
    check("third call: Ran out of ports",
          s(r.get("result")) == "error" and
          s(r.get("error-reason")) == "Ran out of ports", repr(r))
    r = req({"command": "list"})
    check("a refused call is not kept",
          sorted(s(x) for x in r.get("calls", [])) == ["p1", "p2"], repr(r))
    req({"command": "delete", "call-id": "p1", "from-tag": "t"})
    r = req(d("p4"))
    check("ports come back after delete", s(r.get("result")) == "ok",
          repr(r))
elif scenario == "mki":
    # Alice's a=crypto carries two keys told apart by MKI (RFC 4568), as
    # some phones send; she moves from key 1 to key 2 mid-call. Her
    # packets come from stock libsrtp2 (the srtp-ref helper, $SRTP_REF).
    def ref_protect(keys, mkis, index, lines):
        return ref_run("protect", keys, lines, mkis, index)

    alice, bob = udp(PHONE_A), udp(PHONE_B)
    bob_rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bob_rtcp.bind((PHONE_B, bob.getsockname()[1] + 1))
    bob_rtcp.settimeout(2)
    k1, k2 = key(), key()
    line = "inline:%s|2^20|1:4;inline:%s|2^20|2:4" % (k1, k2)
    offer = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP").replace(
        "a=sendrecv", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 %s\r\na=sendrecv"
        % line)
    r = req(dict(SBC_OUT, command="offer", **{"call-id": "mki@test",
            "from-tag": "alice-tag", "sdp": offer}))
    check("offer with a two-key line ok", s(r.get("result")) == "ok",
          repr(r))
    r = req({"command": "answer", "call-id": "mki@test",
             "from-tag": "alice-tag", "to-tag": "bob-tag",
             "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")})
    a = s(r.get("sdp", b""))
    _, aport, proto, cr = media_of(a)
    check("answer: one a=crypto of ours", proto == "RTP/SAVP" and
          len(cr) == 1, a)
    plain = [rtp(300 + i, 0xa11ce, bytes([65 + i]) * 160) for i in range(6)]
    sent = ref_protect([k1, k2], ["00000001", "00000002"], 0,
                       [("rtp", p) for p in plain[:3]])
    sent += ref_protect([k1, k2], ["00000001", "00000002"], 1,
                        [("rtp", p) for p in plain[3:]])
    check("libsrtp2 put MKI 1, then MKI 2 in the packets",
          sent[0][-14:-10] == b"\0\0\0\1" and sent[5][-14:-10] ==
          b"\0\0\0\2", repr([x[-14:-10] for x in sent]))
    got = []
    for p in sent:
        alice.sendto(p, (out_addr, aport))
        got.append(recv(bob))
    check("packets under key 1 and key 2 reach bob as the exact RTP",
          got == plain, repr([g is not None and g[:12] for g in got]))
    sr = struct.pack("!BBHI", 0x80, 200, 6, 0xa11ce) + b"\x11" * 20
    p = ref_protect([k1, k2], ["00000001", "00000002"], 1, [("rtcp", sr)])
    alice.sendto(p[0], (out_addr, aport + 1))
    check("SRTCP under key 2 reaches bob as the exact RTCP",
          recv(bob_rtcp) == sr)
    # an MKI the line does not have: dropped, counted
    p = ref_protect([k1], ["00000003"], 0,
                    [("rtp", rtp(310, 0xa11ce, b"Z" * 160))])
    alice.sendto(p[0], (out_addr, aport))
    check("a packet with an unknown MKI is dropped", recv(bob) is None)
    # a re-INVITE with the same two-key line keeps the context: a replay
    # of a key-2 packet is still refused
    r = req(dict(SBC_OUT, command="offer", **{"call-id": "mki@test",
            "from-tag": "alice-tag", "sdp": offer}))
    req({"command": "answer", "call-id": "mki@test",
         "from-tag": "alice-tag", "to-tag": "bob-tag",
         "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")})
    alice.sendto(sent[5], (out_addr, aport))
    check("same line again: context kept, replay refused",
          recv(bob) is None)
    p = ref_protect([k1, k2], ["00000001", "00000002"], 1,
                    [("rtp", rtp(320, 0xa11ce, b"Y" * 160))])
    alice.sendto(p[0], (out_addr, aport))
    check("... and new packets still pass", recv(bob) ==
          rtp(320, 0xa11ce, b"Y" * 160))
    r = req({"command": "query", "call-id": "mki@test"})
    st = r.get("tags", {}).get("alice-tag", {}).get("medias", [{}])[0].get(
        "streams", [{}])[0]
    check("query counts the dropped packets as errors",
          st.get("stats", {}).get("errors", 0) >= 2, repr(st))
elif scenario in ("fork", "fork-compare"):
    # Parallel forking: one offer, two branches told apart by via-branch,
    # each answered by its own party; delete by to-tag or via-branch ends
    # one branch, the last one the call. With fork-compare the same steps
    # run against rtpengine (argv[6]) too and must give the same outcome.
    import time

    NF = "Call-ID not found or tags didn't match"

    def fork_flow(tag):
        cid = lambda n: "fork-%s-%s@test" % (n, tag)
        out = []

        def note(name, val, expect=True, compare=True):
            out.append((name, val, expect, compare))
            return val

        def tags_of(r):
            return sorted(s(k) for k in r.get("tags", {}))

        def off(c, via, port=4000):
            return req(dict(SBC_OUT, command="offer", **{
                "call-id": c, "from-tag": "A", "via-branch": via,
                "sdp": sdp(PHONE_A, port, "RTP/AVP")}))

        def ans(c, to, via, port):
            d = {"command": "answer", "call-id": c, "from-tag": "A",
                 "to-tag": to, "sdp": sdp(PHONE_B, port, "RTP/AVP")}
            if via:
                d["via-branch"] = via
            return req(d)

        def dele(c, **kw):
            d = {"command": "delete", "call-id": c, "delete-delay": 0}
            d.update({k.replace("_", "-"): v for k, v in kw.items()})
            return req(d)

        def gone(c):
            r = req({"command": "query", "call-id": c})
            return s(r.get("error-reason")) == "Unknown call-id"

        c = cid(1)
        bob1, bob2, alice = udp(PHONE_B), udp(PHONE_B), udp(PHONE_A)
        ap = alice.getsockname()[1]
        p1 = media_of(s(off(c, "b1", ap)["sdp"]))[1]
        p2 = media_of(s(off(c, "b2", ap)["sdp"]))[1]
        note("each fork its own ports towards its party", p1 != p2)
        a1 = media_of(s(ans(c, "B1", "b1", bob1.getsockname()[1])["sdp"]))[1]
        a2 = media_of(s(ans(c, "B2", "b2", bob2.getsockname()[1])["sdp"]))[1]
        note("each branch its own ports towards the offerer", a1 != a2)
        r = req({"command": "query", "call-id": c})
        note("query: A, B1, B2", tags_of(r), ["A", "B1", "B2"])
        r = dele(c, from_tag="A", to_tag="B1")
        note("delete to-tag B1: ok, reply about B1", (s(r.get("result")),
             tags_of(r)), ("ok", ["B1"]))
        note("... the call lives on", not gone(c))
        p = rtp(1, 0xa, b"a" * 160)
        alice.sendto(p, (out_addr, a2))
        ok = recv(bob2) == p
        p = rtp(1, 0xb2, b"2" * 160)
        bob2.sendto(p, (in_addr, p2))
        # not compared: rtpengine 10.5 takes alice's packet here but
        # forwards nothing after the B1 delete (its log: 1 packet in on
        # A's port, 0 out on B2's)
        note("... branch B2 still relays, both ways", ok and
             recv(alice) == p, True, False)
        bob1.sendto(rtp(1, 0xb1, b"1" * 160), (in_addr, p1))
        note("... branch B1's ports are closed", recv(alice) is None)
        r = dele(c, from_tag="A", to_tag="BX")
        note("delete of an unknown to-tag: ok + warning",
             (s(r.get("result")), s(r.get("warning"))), ("ok", NF))
        note("... the call lives on", not gone(c))
        r = dele(c, from_tag="A", to_tag="B2")
        note("delete of the last branch: reply about A and B2",
             (s(r.get("result")), tags_of(r)), ("ok", ["A", "B2"]))
        note("... the call is gone", gone(c))

        c = cid(2)
        off(c, "b1")
        off(c, "b2")
        r = dele(c, from_tag="A", via_branch="b1")
        note("delete via-branch b1 before any answer: ok",
             s(r.get("result")), "ok")
        note("... the call lives on", not gone(c))
        r = ans(c, "B2", "b2", 5002)
        note("... b2 answers", s(r.get("result")), "ok")
        r = dele(c, from_tag="B2", to_tag="A")
        note("callee's delete (tags swapped) of the one branch: all gone",
             (s(r.get("result")), gone(c)), ("ok", True))

        c = cid(3)
        off(c, "b1")
        ans(c, "B", "", 5004)
        r = dele(c, from_tag="X")
        note("delete with an unknown from-tag: ok + warning",
             (s(r.get("result")), s(r.get("warning"))), ("ok", NF))
        r = req({"command": "delete", "call-id": c, "from-tag": "X",
                 "flags": ["fatal"]})
        note("... with fatal: error", (s(r.get("result")),
             s(r.get("error-reason"))), ("error", NF))
        r = req({"command": "delete", "call-id": c, "from-tag": "A",
                 "delete-delay": 1})
        note("delete-delay 1: ok, reply about the call",
             (s(r.get("result")), tags_of(r)), ("ok", ["A", "B"]))
        note("... still there during the delay", not gone(c))
        time.sleep(2.2)
        note("... gone after it", gone(c))

        # a fork not answered yet has ports all the same: query and the
        # delete reply list its party as rtpengine does, "<untagged N>"
        def parties(r):
            return sorted((k, s(v.get("tag")), s(v.get("via-branch", b"")),
                           sum(len(m.get("streams", []))
                               for m in v.get("medias", [])))
                          for k, v in r.get("tags", {}).items())

        every = [("<untagged 2>", "", "b2", 2), ("A", "A", "", 2),
                 ("B1", "B1", "b1", 2)]
        c = cid(5)
        off(c, "b1")
        off(c, "b2")
        ans(c, "B1", "b1", 5006)
        r = req({"command": "query", "call-id": c})
        note("query, fork b2 unanswered: A, B1 and b2's untagged party",
             parties(r), every)
        r = dele(c, from_tag="A", via_branch="b2")
        note("delete via-branch b2 (unanswered): its party in the reply",
             ("<untagged 2>", "", "b2", 2) in parties(r))
        note("... the call lives on", not gone(c))
        c = cid(6)
        off(c, "b1")
        off(c, "b2")
        ans(c, "B1", "b1", 5008)
        r = dele(c, from_tag="A")
        note("delete of the call, fork b2 unanswered: every party, "
             "untagged b2 too", (s(r.get("result")), parties(r)),
             ("ok", every))
        note("... the call is gone", gone(c))

        c = cid(4)
        off(c, "")
        r = req({"command": "delete", "call-id": c, "delete-delay": 0})
        note("delete without tags: the whole call", (s(r.get("result")),
             gone(c)), ("ok", True))
        return out

    if scenario == "fork":
        for name, val, expect, _ in fork_flow("sb"):
            check(name, val == expect, "%r, not %r" % (val, expect))
    else:
        other = int(sys.argv[6])
        ours = fork_flow("sb")
        ngport = other
        theirs = fork_flow("re")
        for (name, a, _, cmp), (_, b, _, _) in zip(ours, theirs):
            if cmp:
                check("as rtpengine: " + name, a == b,
                      "srtp-bridge %r, rtpengine %r" % (a, b))
elif scenario == "params":
    # Alice's a=crypto says UNENCRYPTED_SRTCP: our answer's key says it
    # too (as rtpengine's does), her clear SRTCP reaches Bob, and what we
    # send her is clear SRTCP that stock libsrtp2 configured so reads.
    alice, bob = udp(PHONE_A), udp(PHONE_B)
    socks = []
    for so in (alice, bob):
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.bind((PHONE_A, so.getsockname()[1] + 1))
        r.settimeout(2)
        socks.append(r)
    alice_rtcp, bob_rtcp = socks
    ka = key()
    offer = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP",
                [(1, "AES_CM_128_HMAC_SHA1_80", ka)]).replace(
                    ka, ka + " UNENCRYPTED_SRTCP")
    r = req(dict(SBC_OUT, command="offer", **{"call-id": "par@test",
            "from-tag": "alice", "sdp": offer}))
    _, oport, _, _ = media_of(s(r.get("sdp", b"")))
    r = req({"command": "answer", "call-id": "par@test",
             "from-tag": "alice", "to-tag": "bob",
             "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")})
    a = s(r.get("sdp", b""))
    _, aport, _, cr = media_of(a)
    line = [l for l in a.split("\r\n") if l.startswith("a=crypto:")]
    check("answer mirrors UNENCRYPTED_SRTCP", len(line) == 1 and
          line[0].endswith(" UNENCRYPTED_SRTCP"), a)
    sr = struct.pack("!BBHI", 0x80, 200, 6, 0xa11ce) + b"\x22" * 20
    p = ref_run("protect", [ka], [("rtcp", sr)],
                flags=["unencrypted-srtcp"])[0]
    check("alice's SRTCP is in the clear", p is not None and
          p[8:28] == sr[8:] and not p[28] & 0x80, repr(p))
    alice_rtcp.sendto(p, (out_addr, aport + 1))
    check("her clear SRTCP reaches bob as the exact RTCP",
          recv(bob_rtcp) == sr)
    sr2 = struct.pack("!BBHI", 0x80, 200, 6, 0xb0b) + b"\x33" * 20
    bob_rtcp.sendto(sr2, (in_addr, oport + 1))
    g = recv(alice_rtcp)
    check("our SRTCP to her: clear, E flag 0", g is not None and
          g[8:28] == sr2[8:] and not g[28] & 0x80, repr(g))
    got = ref_run("unprotect", [cr[0][2]] if cr else [key()],
                  [("rtcp", g or b"")], flags=["unencrypted-srtcp"])[0]
    check("... and libsrtp2 authenticates it", got == sr2, repr(got))
elif scenario == "kdr":
    # RFC 4568 KDR=n (n > 0) re-derives the session keys every 2^n
    # packets; neither we nor libsrtp2 do that, so such an a=crypto line
    # is skipped and a later one taken; an offer with no other line is
    # refused with a reason. (rtpengine 10.5 takes the KDR line and
    # ignores the KDR: its media fails after 2^n packets.)
    def kdr_offer(cid, lines):
        o = sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP").replace(
            "a=sendrecv", "".join("a=crypto:%d %s\r\n" % (t, v)
                                  for t, v in lines) + "a=sendrecv")
        return req(dict(SBC_OUT, command="offer", **{
            "call-id": cid, "from-tag": "alice-tag", "sdp": o}))

    def kdr_answer(cid):
        r = req({"command": "answer", "call-id": cid,
                 "from-tag": "alice-tag", "to-tag": "bob-tag",
                 "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")})
        return media_of(s(r.get("sdp", b"")))

    alice, bob = udp(PHONE_A), udp(PHONE_B)
    k1, k2 = key(), key()
    r = kdr_offer("kdr-1@test", [
        (1, "AES_CM_128_HMAC_SHA1_80 inline:%s|2^20|1:32 KDR=1" % k1),
        (2, "AES_CM_128_HMAC_SHA1_32 inline:%s" % k2)])
    check("first line KDR=1, second usable: offer ok",
          s(r.get("result")) == "ok", repr(r))
    if s(r.get("result")) != "ok":
        sys.exit(1)
    oport = media_of(s(r.get("sdp", b"")))[1]
    _, aport, proto, cr = kdr_answer("kdr-1@test")
    check("answer takes the second line: one a=crypto, tag 2, its suite",
          proto == "RTP/SAVP" and [(t, su) for t, su, _ in cr] ==
          [("2", "AES_CM_128_HMAC_SHA1_32")], repr(cr))
    # alice encrypts with the key of the line the answer took (libsrtp2)
    atx = session(k2, True, Policy.SRTP_PROFILE_AES128_CM_SHA1_32)
    got, sent = [], []
    for i in range(5):
        p = rtp(700 + i, 0xa11ce, bytes([97 + i]) * 160)
        sent.append(p)
        alice.sendto(atx.protect(p), (out_addr, aport))
        got.append(recv(bob))
    check("her SRTP under the tag-2 key reaches bob as the exact RTP",
          got == sent, repr([g is not None and g[:12] for g in got]))
    if cr:
        arx = session(cr[0][2], False, Policy.SRTP_PROFILE_AES128_CM_SHA1_32)
        p = rtp(900, 0xb0b, b"B" * 160)
        bob.sendto(p, (in_addr, oport))
        g = recv(alice)
        check("bob's RTP reaches her under our tag-2 key",
              g is not None and arx.unprotect(g) == p, repr(g))
    r = kdr_offer("kdr-2@test", [
        (1, "AES_CM_128_HMAC_SHA1_80 inline:%s KDR=1" % k1),
        (2, "AES_CM_128_HMAC_SHA1_32 inline:%s KDR=24" % k2)])
    check("only KDR lines: offer refused, the reason names the KDR",
          s(r.get("result")) == "error" and
          "no usable a=crypto" in s(r.get("error-reason", b"")) and
          "KDR=1" in s(r.get("error-reason", b"")), repr(r))
    r = req({"command": "list"})
    check("the refused call is not kept",
          [s(x) for x in r.get("calls", [])] == ["kdr-1@test"], repr(r))
    r = kdr_offer("kdr-3@test", [
        (1, "AES_CM_128_HMAC_SHA1_80 inline:%s KDR=0" % k1)])
    check("KDR=0 (keys derived once) is fine", s(r.get("result")) == "ok",
          repr(r))
    # an answer has no other line to fall back on: an error that says why
    r = req(dict(SBC_IN, command="offer", **{
        "call-id": "kdr-4@test", "from-tag": "bob-tag",
        "sdp": sdp(PHONE_B, bob.getsockname()[1], "RTP/AVP")}))
    cr = media_of(s(r.get("sdp", b"")))[3] if r.get("sdp") else []
    r = req({"command": "answer", "call-id": "kdr-4@test",
             "from-tag": "bob-tag", "to-tag": "alice-tag",
             "sdp": sdp(PHONE_A, alice.getsockname()[1], "RTP/SAVP").replace(
                 "a=sendrecv", "a=crypto:%s %s inline:%s KDR=2\r\n"
                 "a=sendrecv" % (cr[0][0], cr[0][1], k1) if cr else "")})
    check("an answer with KDR=2: error naming the KDR",
          s(r.get("result")) == "error" and
          "KDR=2" in s(r.get("error-reason", b"")), repr(r))
elif scenario == "compare":
    # the same requests to srtp-bridge (NG_PORT) and to rtpengine
    # (argv[6]): equivalent answers (profiles, number of crypto lines,
    # suite and tag, a=rtcp-mux)
    other = int(sys.argv[6])
    outcome, first = {}, {}
    for name, port in (("srtp-bridge", ngport), ("rtpengine", other)):
        ngport = port
        ka = key()
        r1 = req(dict(SBC_OUT, command="offer", **{
            "call-id": "cmp-" + name, "from-tag": "alice",
            "sdp": sdp(PHONE_A, 4000, "RTP/SAVP",
                       [(1, "AES_CM_128_HMAC_SHA1_80", ka),
                        (2, "AES_CM_128_HMAC_SHA1_32", key())])}))
        r2 = req({"command": "answer", "call-id": "cmp-" + name,
                  "from-tag": "alice", "to-tag": "bob",
                  "sdp": sdp(PHONE_B, 5000, "RTP/AVP"), "ICE": "remove",
                  "replace": ["origin", "session-connection"]})
        r3 = req(dict(SBC_IN, command="offer", **{
            "call-id": "cmp2-" + name, "from-tag": "bob",
            "sdp": sdp(PHONE_B, 5002, "RTP/AVP")}))
        o1, a2, o3 = (media_of(s(r.get("sdp", b""))) for r in (r1, r2, r3))
        outcome[name] = (
            o1[2], len(o1[3]), a2[2], len(a2[3]),
            [(t, su) for t, su, _ in a2[3]], o3[2], bool(o3[3]),
            "a=rtcp-mux" in s(r1.get("sdp", b"")))
        first[name] = o3[3][0][1] if o3[3] else None
        for cid in ("cmp-", "cmp2-"):
            req({"command": "delete", "call-id": cid + name,
                 "from-tag": "x"})
        print("# %s: %r, first offered suite %s" % (name, outcome[name],
                                                      first[name]))
    check("same profiles, crypto lines, suites and tags as rtpengine",
          outcome["srtp-bridge"] == outcome["rtpengine"], repr(outcome))
    # the one intended difference: rtpengine 10.5 offers AEAD_AES_256_GCM
    # first, which baresip 1.0 picks and then fails to decrypt
    check("our SRTP offer lists AES_CM_128_HMAC_SHA1_80 first",
          first["srtp-bridge"] == "AES_CM_128_HMAC_SHA1_80", repr(first))
else:
    print("unknown scenario")
    sys.exit(2)
sys.exit(1 if failed else 0)
