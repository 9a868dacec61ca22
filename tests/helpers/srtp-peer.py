#!/usr/bin/python3
# srtp-peer.py - an independent SRTP peer (stock libsrtp2 via pylibsrtp) that
# drives srtp-bridge's one-stream mode from both sides and reports, one line
# per check, "ok NAME" or "fail NAME: why". Exit 0 if every check passed.
#
#   srtp-peer.py HOST OUTSIDE_PORT INSIDE_PORT PHONE_PORT KEY_IN KEY_OUT \
#                RELATCH_COUNT [mux]
#
# KEY_IN / KEY_OUT are base64 master key+salt (AES_CM_128_HMAC_SHA1_80):
# the outside peer protects with KEY_IN and unprotects with KEY_OUT. The
# "phone" is the plain RTP peer on the inside, bound to PHONE_PORT (+1).
import base64
import socket
import struct
import sys

from pylibsrtp import Policy, Session

host, oport, iport, pport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4])
key_in, key_out = base64.b64decode(sys.argv[5]), base64.b64decode(sys.argv[6])
relatch = int(sys.argv[7])
mux = len(sys.argv) > 8 and sys.argv[8] == "mux"
failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name)
    else:
        failed += 1
        print("fail %s: %s" % (name, why))
    sys.stdout.flush()


def session(key, outbound):
    p = Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND if outbound
               else Policy.SSRC_ANY_INBOUND,
               srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80)
    return Session(policy=p)


def rtp(seq, ssrc, payload, pt=0, marker=0):
    return struct.pack("!BBHII", 0x80, (marker << 7) | pt, seq & 0xffff,
                       seq * 160, ssrc) + payload


def rtcp_rr(ssrc, n):
    rr = struct.pack("!BBHI", 0x80, 201, 1, ssrc)
    cname = b"peer%d@test" % n
    chunk = struct.pack("!I", ssrc) + bytes([1, len(cname)]) + cname
    chunk += b"\0" * (4 - len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return rr + sdes


def sock(port=0):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(2.0)
    return s


def recv(s):
    try:
        return s.recvfrom(4096)
    except socket.timeout:
        return None, None


def drain(s):
    s.settimeout(0.2)
    while recv(s)[0] is not None:
        pass
    s.settimeout(2.0)


ortp, ortcp = sock(), None
phone_rtp, phone_rtcp = sock(pport), None if mux else sock(pport + 1)
if not mux:
    ortcp = sock()
bridge_out = (host, oport)
bridge_out_rtcp = (host, oport if mux else oport + 1)
bridge_in = (host, iport)
bridge_in_rtcp = (host, iport if mux else iport + 1)
otx, orx = session(key_in, True), session(key_out, False)
SSRC_O, SSRC_I = 0x11223344, 0x55667788

# 1. outside -> inside: SRTP in, the exact RTP out.
sent = []
ok = True
for i in range(20):
    p = rtp(1000 + i, SSRC_O, bytes([i]) * 160, marker=i == 0)
    sent.append((p, otx.protect(p)))
for p, sp in sent:
    ortp.sendto(sp, bridge_out)
    got, src = recv(phone_rtp)
    if got != p:
        ok = False
        why = "packet %r" % (got[:16] if got else None)
        break
check("outside->inside RTP exact", ok, ok or why)

(ortcp or ortp).sendto(otx.protect_rtcp(rtcp_rr(SSRC_O, 1)), bridge_out_rtcp)
got, src = recv(phone_rtcp or phone_rtp)
check("outside->inside RTCP exact", got == rtcp_rr(SSRC_O, 1), repr(got))

# 2. inside -> outside: RTP in, SRTP out that stock libsrtp decrypts;
# the bridge has latched the outside peer's source address.
ok = True
for i in range(20):
    p = rtp(500 + i, SSRC_I, bytes([0x40 + i]) * 160)
    phone_rtp.sendto(p, bridge_in)
    got, src = recv(ortp)
    if got is None or orx.unprotect(got) != p:
        ok = False
        break
check("inside->outside RTP exact (latched)", ok, "lost or wrong")
phone = (phone_rtcp or phone_rtp)
phone.sendto(rtcp_rr(SSRC_I, 2), bridge_in_rtcp)
got, src = recv(ortcp or ortp)
try:
    dec = orx.unprotect_rtcp(got) if got else None
except Exception as e:
    dec = e
check("inside->outside RTCP exact", dec == rtcp_rr(SSRC_I, 2), repr(dec))

# 3. tampered, replayed and malformed packets: none reaches the phone.
good = sent[-1][1]
bad = bytearray(otx.protect(rtp(2000, SSRC_O, b"t" * 160)))
bad[20] ^= 1
ortp.sendto(bytes(bad), bridge_out)          # auth failure
ortp.sendto(sent[5][1], bridge_out)           # replay
ortp.sendto(b"\x80", bridge_out)              # short
ortp.sendto(b"\x40" + good[1:], bridge_out)   # version 1
cc = bytearray(otx.protect(rtp(2001, SSRC_O, b"")))
cc[0] |= 0x0f                                 # 15 CSRCs that are not there
ortp.sendto(bytes(cc[:24]), bridge_out)
marker = rtp(2002, SSRC_O, b"marker")
ortp.sendto(otx.protect(marker), bridge_out)
got, src = recv(phone_rtp)
check("bad packets dropped, next good one passes", got == marker,
      repr(got[:16] if got else None))

# 4. latching: a new source moves the latch only after RELATCH_COUNT
# consecutive authenticated packets.
o2 = sock()
seq = 3000
for i in range(relatch - 1):
    o2.sendto(otx.protect(rtp(seq, SSRC_O, b"m")), bridge_out)
    seq += 1
    recv(phone_rtp)
phone_rtp.sendto(rtp(600, SSRC_I, b"probe1"), bridge_in)
got1, _ = recv(ortp)
check("latch holds below the count", got1 is not None and
      orx.unprotect(got1) == rtp(600, SSRC_I, b"probe1"), repr(got1))
# forged (unauthenticated) packets from the new source do not count
o2.sendto(bytes(bad), bridge_out)
o2.sendto(otx.protect(rtp(seq, SSRC_O, b"m")), bridge_out)
seq += 1
recv(phone_rtp)
phone_rtp.sendto(rtp(601, SSRC_I, b"probe2"), bridge_in)
got2, _ = recv(o2)
check("latch moves after the count", got2 is not None and
      orx.unprotect(got2) == rtp(601, SSRC_I, b"probe2"), repr(got2))
sys.exit(1 if failed else 0)
