#!/usr/bin/python3
# sip-dialog.py - whole SIP dialogs through sip-tls-term with scripted
# phones: "Alice" and "Carol" are SIP-over-TLS clients outside, "Bob" a
# SIP-over-UDP phone inside (the gateway's upstream). Every SDP each side
# gets is checked (outside: RTP/SAVP with a=crypto on the relay's address;
# inside: RTP/AVP without a=crypto), and media is sent through the relay
# with stock libsrtp2 (pylibsrtp) to show the relay follows new ports and
# keys. Prints "ok NAME" or "fail NAME: why" per check; exit 0 if all
# passed.
#
#   sip-dialog.py SCENARIO TLS_ADDR:PORT GW_UDP_ADDR:PORT BOB_ADDR:PORT \
#                 RELAY_OUT RELAY_IN [PHONE_IP]
#
# Scenarios:
#   early    Alice calls Bob: 183 with SDP then 200, a hold re-INVITE from
#            each side (a=sendonly, new port), UPDATE from each side,
#            media both ways on the new ports, BYE
#   late     Alice calls Bob with an INVITE without SDP: the 200 carries
#            the offer, the ACK the answer
#   reverse  Bob calls Alice (registered with the built-in registrar):
#            183 with SDP from Alice, then 200
#   o2o      Alice calls Carol, both registered outside: flow to flow,
#            SRTP on both legs, BYE from the callee
#   lost     Alice calls Bob (an inside proxy's Record-Route in the 200),
#            re-INVITE and UPDATE from Alice, a target refresh from Bob,
#            then Alice's TLS connection closes: Bob must get the BYE the
#            gateway sends for her (every header checked), answer it, and
#            get no retransmission after
#   silent   as lost, but Alice only goes silent (the gateway runs with a
#            short --idle-timeout): Bob lets the BYE go unanswered for a
#            while (retransmissions, the same branch, no storm), then 200
#   lostrev  Bob calls Alice (registered; his INVITE carries an inside
#            proxy's Record-Route), Alice sends an UPDATE, then her
#            connection closes: Bob gets the BYE from Alice's side
#   ended    three calls on one connection, all over before it closes:
#            one ended by BYE, one cancelled, one refused (486); then the
#            connection closes and Bob must get nothing
#   nobye    one call, then the connection closes; the gateway runs with
#            --no-bye-on-loss: Bob must get nothing
#   kam      as lost, with a real Kamailio between the gateway and Bob
#            (record-routing; GW_UDP_ADDR:PORT is then Kamailio's): the
#            BYE is routed through it
# RELAY_OUT "-" skips the address check of outside SDPs (a relay with one
# face per side puts the callee of an outside-to-outside call on its other
# address).
import base64
import os
import re
import select
import socket
import ssl
import struct
import sys
import time

from pylibsrtp import Policy, Session

scenario = sys.argv[1]


def hp(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


TLS, GWU, BOB = hp(sys.argv[2]), hp(sys.argv[3]), hp(sys.argv[4])
R_OUT, R_IN = sys.argv[5], sys.argv[6]
PHONE = sys.argv[7] if len(sys.argv) > 7 else "127.0.0.1"
failed = 0
TIMEOUT = 4.0


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name)
    else:
        failed += 1
        print("fail %s: %s" % (name, why))
    sys.stdout.flush()
    return cond


def rnd():
    return os.urandom(6).hex()


# ---- SIP messages ----
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type"}


def split_values(v):
    """Split a header value on commas outside <> and quotes."""
    out, cur, depth, q = [], "", 0, False
    for ch in v:
        if ch == '"':
            q = not q
        elif ch == "<" and not q:
            depth += 1
        elif ch == ">" and not q:
            depth -= 1
        if ch == "," and depth == 0 and not q:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Msg:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        self.raw = raw.decode(errors="replace")
        self.start = lines[0]
        self.hdrs = []
        for ln in lines[1:]:
            if ln[:1] in (" ", "\t") and self.hdrs:
                n, v = self.hdrs[-1]
                self.hdrs[-1] = (n, v + " " + ln.strip())
                continue
            n, _, v = ln.partition(":")
            n = n.strip().lower()
            self.hdrs.append((COMPACT.get(n, n), v.strip()))
        self.body = body.decode(errors="replace")
        self.is_req = not self.start.startswith("SIP/2.0 ")
        parts = self.start.split(" ", 2)
        if self.is_req:
            self.method, self.ruri, self.status = parts[0], parts[1], 0
        else:
            self.method, self.ruri = None, None
            self.status = int(parts[1])

    def get(self, name):
        for n, v in self.hdrs:
            if n == name.lower():
                return v
        return None

    def all(self, name):
        out = []
        for n, v in self.hdrs:
            if n == name.lower():
                out += split_values(v)
        return out

    def lines(self, name):
        return [v for n, v in self.hdrs if n == name.lower()]

    def cseq(self):
        n, m = self.get("cseq").split()
        return int(n), m

    def tag(self, name):
        m = re.search(r";tag=([^;>\s]+)", self.get(name) or "")
        return m.group(1) if m else None

    def __repr__(self):
        return self.start


def uri_of(v):
    m = re.search(r"<([^>]*)>", v)
    return m.group(1) if m else v.split(";")[0].strip()


def build(start, hdrs, body=""):
    out = start + "\r\n"
    for n, v in hdrs:
        out += "%s: %s\r\n" % (n, v)
    if body:
        out += "Content-Type: application/sdp\r\n"
    out += "Content-Length: %d\r\n\r\n" % len(body.encode())
    return out + body


# ---- transports ----
class Tls:
    def __init__(self, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(TLS, timeout=TIMEOUT)
        self.s = ctx.wrap_socket(raw)
        self.name, self.buf, self.inbox = name, b"", []
        self.contact = "sip:%s-%s@%s:5061;transport=tls" % (name, rnd()[:4],
                                                           PHONE)

    def send(self, text):
        self.s.sendall(text.encode())

    def _frame(self):
        self.buf = self.buf.lstrip(b"\r\n")
        i = self.buf.find(b"\r\n\r\n")
        if i < 0:
            return None
        m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", self.buf[:i])
        n = int(m.group(2)) if m else 0
        if len(self.buf) < i + 4 + n:
            return None
        raw, self.buf = self.buf[:i + 4 + n], self.buf[i + 4 + n:]
        return Msg(raw)

    def pump(self, until):
        while time.time() < until:
            m = self._frame()
            if m is not None:
                self.inbox.append(m)
                return True
            if not self.s.pending():
                r, _, _ = select.select([self.s], [], [], until - time.time())
                if not r:
                    return False
            try:
                d = self.s.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            if not d:
                return False
            self.buf += d
        return False


class Udp:
    def __init__(self, addr):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(addr)
        self.inbox = []
        self.name = "bob"

    def send(self, text):
        self.s.sendto(text.encode(), GWU)

    def pump(self, until):
        t = until - time.time()
        if t <= 0:
            return False
        r, _, _ = select.select([self.s], [], [], t)
        if not r:
            return False
        d, _ = self.s.recvfrom(65536)
        if d.strip():
            self.inbox.append(Msg(d))
        return True


def wait(peer, pred, what, secs=TIMEOUT):
    """The first message (old or new) that `pred` accepts, consumed."""
    until = time.time() + secs
    while True:
        for i, m in enumerate(peer.inbox):
            if pred(m):
                del peer.inbox[i]
                return m
        if time.time() >= until:
            check("%s gets %s" % (peer.name, what), False,
                  "timed out; inbox: %r" % peer.inbox)
            raise SystemExit(1)
        if not peer.pump(until):
            time.sleep(0.01)


def is_req(method, cseq=None):
    return lambda m: m.is_req and m.method == method and \
        (cseq is None or m.cseq()[0] == cseq)


def is_resp(status, method, cseq=None):
    return lambda m: not m.is_req and m.status == status and \
        m.cseq()[1] == method and (cseq is None or m.cseq()[0] == cseq)


# ---- dialogs ----
class Leg:
    """One side's view of a dialog: enough to send in-dialog requests."""

    def __init__(self, peer, via_proto, local_uri, local_tag, contact):
        self.peer, self.via_proto = peer, via_proto
        self.local_uri, self.local_tag = local_uri, local_tag
        self.contact = contact
        self.remote_uri = self.remote_tag = self.target = None
        self.route, self.cid, self.cseq = [], None, 0

    def via(self, branch):
        host = PHONE + ":5061" if self.via_proto == "TLS" else \
            "%s:%d" % BOB
        return "SIP/2.0/%s %s;branch=%s;rport" % (self.via_proto, host,
                                                  branch)

    def request(self, method, body="", cseq=None, ruri=None, extra=(),
                branch=None):
        """Send an in-dialog request; `branch` given: the ACK of a
        failed INVITE (same branch as the INVITE)."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        self.branch = branch or "z9hG4bK" + rnd()
        h = [("Via", self.via(self.branch)), ("Max-Forwards", "70")]
        h += [("Route", r) for r in self.route]
        h += [("From", "<%s>;tag=%s" % (self.local_uri, self.local_tag)),
              ("To", "<%s>%s" % (self.remote_uri, ";tag=" + self.remote_tag
                                 if self.remote_tag else "")),
              ("Call-ID", self.cid), ("CSeq", "%d %s" % (cseq, method)),
              ("Contact", "<%s>" % self.contact)] + list(extra)
        self.peer.send(build("%s %s SIP/2.0" % (method, ruri or self.target),
                             h, body))

    def uas_from(self, req):
        """Become the UAS of dialog-forming request `req`."""
        self.cid = req.get("call-id")
        self.remote_uri = uri_of(req.get("from"))
        self.remote_tag = req.tag("from")
        self.target = uri_of(req.get("contact"))
        self.route = req.all("record-route")

    def uac_from(self, resp):
        """Learn the dialog from a 2xx/18x to our INVITE."""
        self.remote_tag = resp.tag("to")
        if resp.get("contact"):
            self.target = uri_of(resp.get("contact"))
        self.route = list(reversed(resp.all("record-route")))

    def respond(self, req, code, body="", reason=None):
        reason = reason or {100: "Trying", 180: "Ringing",
                            183: "Session Progress", 200: "OK"}.get(code, "X")
        h = [("Via", v) for v in req.lines("via")]
        to = req.get("to")
        if ";tag=" not in to and code > 100:
            to += ";tag=" + self.local_tag
        h += [("From", req.get("from")), ("To", to),
              ("Call-ID", req.get("call-id")), ("CSeq", req.get("cseq"))]
        if req.method in ("INVITE", "SUBSCRIBE") and code > 100:
            h += [("Record-Route", v) for v in req.lines("record-route")]
        if code > 100 and req.method != "BYE":
            h.append(("Contact", "<%s>" % self.contact))
        self.peer.send(build("SIP/2.0 %d %s" % (code, reason), h, body))


# ---- SDP and media ----
def key():
    return base64.b64encode(os.urandom(30)).decode()


class Media:
    """A phone's audio socket and what it offered."""

    def __init__(self, srtp):
        self.so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.so.bind((PHONE, 0))
        self.so.settimeout(1.0)
        self.port = self.so.getsockname()[1]
        self.srtp = srtp
        self.key = key() if srtp else None
        self.ver = 1

    def sdp(self, direction="sendrecv", tag=1, suite="AES_CM_128_HMAC_SHA1_80"):
        self.ver += 1
        ln = ["v=0", "o=- 4242 %d IN IP4 %s" % (self.ver, PHONE), "s=-",
              "c=IN IP4 %s" % PHONE, "t=0 0",
              "m=audio %d %s 0 101" % (self.port, "RTP/SAVP" if self.srtp
                                       else "RTP/AVP"),
              "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000"]
        if self.srtp:
            ln.append("a=crypto:%d %s inline:%s" % (tag, suite, self.key))
        ln += ["a=" + direction, "a=ptime:20"]
        return "\r\n".join(ln) + "\r\n"


def sdp_info(body):
    m = re.search(r"^m=audio (\d+) (\S+)", body, re.M)
    c = re.findall(r"^c=IN IP4 (\S+)", body, re.M)
    cr = re.findall(r"^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)",
                    body, re.M)
    d = re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", body,
                   re.M)
    return {"port": int(m.group(1)) if m else 0,
            "proto": m.group(2) if m else None,
            "addr": c[-1] if c else None, "crypto": cr,
            "dir": d[-1] if d else "sendrecv"}


def check_outside(name, msg, answer, want_dir=None, addr=True):
    """An SDP as an outside client must get it."""
    s = sdp_info(msg.body)
    check(name + ": outside gets RTP/SAVP", s["proto"] == "RTP/SAVP",
          msg.body)
    if answer:
        check(name + ": exactly one a=crypto", len(s["crypto"]) == 1,
              msg.body)
    else:
        check(name + ": a=crypto, AES_CM_128_HMAC_SHA1_80 first",
              len(s["crypto"]) >= 1 and
              s["crypto"][0][1] == "AES_CM_128_HMAC_SHA1_80", msg.body)
    if addr and R_OUT != "-":
        check(name + ": outside sees the relay's outside address",
              s["addr"] == R_OUT, msg.body)
    if want_dir:
        check(name + ": a=" + want_dir, s["dir"] == want_dir, msg.body)
    return s


def check_inside(name, msg, want_dir=None):
    s = sdp_info(msg.body)
    check(name + ": inside gets RTP/AVP", s["proto"] == "RTP/AVP", msg.body)
    check(name + ": inside gets no a=crypto", "a=crypto" not in msg.body,
          msg.body)
    check(name + ": inside sees the relay's inside address",
          s["addr"] == R_IN, msg.body)
    if want_dir:
        check(name + ": a=" + want_dir, s["dir"] == want_dir, msg.body)
    return s


def srtp_session(k, outbound):
    return Session(policy=Policy(
        key=base64.b64decode(k),
        srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        ssrc_type=Policy.SSRC_ANY_OUTBOUND if outbound
        else Policy.SSRC_ANY_INBOUND))


def rtp(seq, ssrc, payload):
    return struct.pack("!BBHII", 0x80, 0, seq & 0xffff, seq * 160,
                       ssrc) + payload


def media_flows(name, src, dst, to_addr, to_port, rx_key=None, n=8):
    """src sends n packets to the relay at to_addr:to_port; dst must get
    them (decrypted with rx_key if dst is SRTP). Packets are sent and
    read one by one: the relay may drop the first ones before it has
    latched."""
    tx = srtp_session(src.key, True) if src.srtp else None
    rx = srtp_session(rx_key, False) if dst.srtp else None
    ssrc = struct.unpack("!I", os.urandom(4))[0]
    got = 0
    for i in range(n):
        pl = bytes([0x40 + i]) * 160
        p = rtp(1000 + i, ssrc, pl)
        src.so.sendto(tx.protect(p) if tx else p, (to_addr, to_port))
        try:
            d = dst.so.recv(4096)
            if rx:
                d = rx.unprotect(d)
            if d[12:] == pl:
                got += 1
        except Exception:
            pass
    check(name, got >= n // 2, "%d of %d packets arrived intact" % (got, n))


# ---- scenarios ----
def alice_invites(alice, a_leg, media, ruri, with_sdp=True):
    a_leg.cid = "dlg-%s@alice" % rnd()
    a_leg.target = ruri
    a_leg.request("INVITE", media.sdp() if with_sdp else "")


def register(tls, user):
    cid = "reg-%s" % rnd()
    tls.send(build("REGISTER sip:gw.test;transport=tls SIP/2.0", [
        ("Via", "SIP/2.0/TLS %s:5061;branch=z9hG4bK%s;rport" % (PHONE, rnd())),
        ("Max-Forwards", "70"),
        ("From", "<sip:%s@gw.test>;tag=%s" % (user, rnd())),
        ("To", "<sip:%s@gw.test>" % user), ("Call-ID", cid),
        ("CSeq", "1 REGISTER"),
        ("Contact", "<%s>;expires=300" % tls.contact)]))
    r = wait(tls, is_resp(200, "REGISTER"), "200 to REGISTER")
    check(user + " registered", tls.contact in r.raw, r.raw)


def sc_early():
    alice = Tls("alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    b = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
            "sip:bob@%s:%d" % BOB)
    a.remote_uri = "sip:bob@gw.test"
    alice_invites(alice, a, am, "sip:bob@%s:%d;transport=tls" % TLS)
    inv = wait(bob, is_req("INVITE", 1), "the INVITE")
    check("INVITE inside: Request-URI rebuilt for UDP",
          "transport=tls" not in inv.ruri, inv.ruri)
    check_inside("INVITE", inv, "sendrecv")
    b.uas_from(inv)
    b.respond(inv, 100)
    b.respond(inv, 183, bm.sdp())
    r183 = wait(alice, is_resp(183, "INVITE"), "183 with SDP")
    s183 = check_outside("183 (early media)", r183, True, "sendrecv")
    b.respond(inv, 200, bm.sdp())
    r200 = wait(alice, is_resp(200, "INVITE"), "200 to INVITE")
    s200 = check_outside("200 after 183", r200, True, "sendrecv")
    check("200 after 183: the same key and port as in the 183",
          s183["crypto"] == s200["crypto"] and s183["port"] == s200["port"],
          "%r / %r" % (s183, s200))
    a.uac_from(r200)
    a.request("ACK", cseq=1)
    wait(bob, is_req("ACK", 1), "the ACK")
    # early media flowed to the relay address given in the 183: media
    # both ways on the first ports
    media_flows("media outside->inside", am, bm, R_OUT if R_OUT != "-" else
                s200["addr"], s200["port"])
    media_flows("media inside->outside", bm, am, R_IN, inv_port(inv),
                rx_key=s200["crypto"][0][2])

    # Alice holds: re-INVITE, a=sendonly, a new port.
    am2 = Media(True)
    am2.key = am.key
    a.request("INVITE", am2.sdp("sendonly"))
    rinv = wait(bob, is_req("INVITE", 2), "Alice's re-INVITE")
    sr = check_inside("re-INVITE from outside (hold)", rinv, "sendonly")
    b.respond(rinv, 200, bm.sdp("recvonly"))
    r = wait(alice, is_resp(200, "INVITE", 2), "200 to her re-INVITE")
    check_outside("200 to re-INVITE from outside", r, True, "recvonly")
    a.request("ACK", cseq=2)
    wait(bob, is_req("ACK", 2), "the ACK of the re-INVITE")

    # Bob holds: re-INVITE from the inside, a=sendonly, a new port.
    bm2 = Media(False)
    b.request("INVITE", bm2.sdp("sendonly"))
    binv = wait(alice, is_req("INVITE"), "Bob's re-INVITE")
    check("re-INVITE from inside: Alice's Contact as Request-URI",
          binv.ruri == alice.contact, binv.ruri)
    check("re-INVITE from inside: no Route left for Alice",
          not binv.all("route"), binv.raw)
    so = check_outside("re-INVITE from inside (hold)", binv, False,
                       "sendonly")
    a.respond(binv, 200, am2.sdp("recvonly", tag=int(so["crypto"][0][0])))
    r = wait(bob, is_resp(200, "INVITE", b.cseq), "200 to his re-INVITE")
    si = check_inside("200 to re-INVITE from inside", r, "recvonly")
    b.request("ACK", cseq=b.cseq)
    wait(alice, is_req("ACK"), "the ACK of Bob's re-INVITE")

    # A re-INVITE that fails (491) keeps the call and its media.
    a.request("INVITE", am2.sdp("sendrecv"))
    br = a.branch
    g = wait(bob, is_req("INVITE", a.cseq), "Alice's re-INVITE to refuse")
    b.respond(g, 491, reason="Request Pending")
    wait(alice, is_resp(491, "INVITE", a.cseq), "491 to her re-INVITE")
    a.request("ACK", cseq=a.cseq, branch=br)
    media_flows("a re-INVITE refused with 491 keeps the media", am2, bm2,
                so["addr"], so["port"])

    # Alice resumes with UPDATE.
    a.request("UPDATE", am2.sdp("sendrecv"))
    up = wait(bob, is_req("UPDATE"), "Alice's UPDATE")
    su = check_inside("UPDATE from outside", up, "sendrecv")
    b.respond(up, 200, bm2.sdp("sendrecv"))
    r = wait(alice, is_resp(200, "UPDATE"), "200 to UPDATE")
    sa = check_outside("200 to UPDATE from outside", r, True, "sendrecv")
    # Bob resumes with UPDATE.
    b.request("UPDATE", bm2.sdp("sendrecv"))
    bup = wait(alice, is_req("UPDATE"), "Bob's UPDATE")
    sbu = check_outside("UPDATE from inside", bup, False, "sendrecv")
    a.respond(bup, 200, am2.sdp("sendrecv", tag=int(sbu["crypto"][0][0])))
    r = wait(bob, is_resp(200, "UPDATE"), "200 to his UPDATE")
    sbi = check_inside("200 to UPDATE from inside", r, "sendrecv")

    # Media on the new ports, both ways, with the keys last negotiated.
    media_flows("media after the re-INVITEs: Alice's SRTP reaches Bob's new "
                "port", am2, bm2, sbu["addr"], sbu["port"])
    k = sbu["crypto"][0][2]
    media_flows("media after the re-INVITEs: Bob's RTP reaches Alice's new "
                "port as SRTP", bm2, am2, R_IN, sbi["port"], rx_key=k)
    check("relay ports kept across re-INVITEs (inside)",
          sr["port"] == su["port"] == sbi["port"], "%r %r %r" % (sr, su, sbi))
    del sa, si
    a.request("BYE")
    bye = wait(bob, is_req("BYE"), "BYE")
    b.respond(bye, 200)
    wait(alice, is_resp(200, "BYE"), "200 to BYE")


def inv_port(inv):
    return sdp_info(inv.body)["port"]


def sc_late():
    alice = Tls("alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    b = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
            "sip:bob@%s:%d" % BOB)
    a.remote_uri = "sip:bob@gw.test"
    alice_invites(alice, a, am, "sip:bob@%s:%d;transport=tls" % TLS,
                  with_sdp=False)
    inv = wait(bob, is_req("INVITE", 1), "the INVITE without SDP")
    check("INVITE without SDP stays without", inv.body == "", inv.body)
    b.uas_from(inv)
    b.respond(inv, 200, bm.sdp())
    r = wait(alice, is_resp(200, "INVITE"), "200 with the offer")
    so = check_outside("offer in the 200", r, False)
    a.uac_from(r)
    a.request("ACK", am.sdp(tag=int(so["crypto"][0][0])), cseq=1)
    ack = wait(bob, is_req("ACK", 1), "the ACK with the answer")
    sa = check_inside("answer in the ACK", ack)
    media_flows("late offer: Alice's SRTP reaches Bob", am, bm, so["addr"],
                so["port"])
    media_flows("late offer: Bob's RTP reaches Alice as SRTP", bm, am, R_IN,
                sa["port"], rx_key=so["crypto"][0][2])
    a.request("BYE")
    bye = wait(bob, is_req("BYE"), "BYE")
    b.respond(bye, 200)
    wait(alice, is_resp(200, "BYE"), "200 to BYE")


def sc_reverse():
    alice = Tls("alice")
    register(alice, "alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    b = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
            "sip:bob@%s:%d" % BOB)
    b.remote_uri = "sip:alice@%s:%d" % GWU
    b.cid = "dlg-%s@bob" % rnd()
    b.target = "sip:alice@%s:%d" % GWU
    b.request("INVITE", bm.sdp())
    inv = wait(alice, is_req("INVITE"), "Bob's INVITE")
    so = check_outside("INVITE from inside", inv, False, "sendrecv")
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    a.uas_from(inv)
    tag = int(so["crypto"][0][0])
    a.respond(inv, 183, am.sdp(tag=tag))
    r183 = wait(bob, is_resp(183, "INVITE"), "183 from Alice")
    s183 = check_inside("183 from outside (early media)", r183)
    a.respond(inv, 200, am.sdp(tag=tag))
    r200 = wait(bob, is_resp(200, "INVITE"), "200 from Alice")
    s200 = check_inside("200 after 183 from outside", r200)
    check("200 after 183: the same relay port",
          s183["port"] == s200["port"], "%r / %r" % (s183, s200))
    b.remote_tag = r200.tag("to")
    b.target = uri_of(r200.get("contact"))
    b.route = list(reversed(r200.all("record-route")))
    b.request("ACK", cseq=b.cseq)
    wait(alice, is_req("ACK"), "the ACK")
    media_flows("reverse: Alice's SRTP reaches Bob", am, bm, so["addr"],
                so["port"])
    media_flows("reverse: Bob's RTP reaches Alice as SRTP", bm, am, R_IN,
                s200["port"], rx_key=so["crypto"][0][2])
    b.request("BYE")
    bye = wait(alice, is_req("BYE"), "BYE from Bob")
    a.respond(bye, 200)
    wait(bob, is_resp(200, "BYE"), "200 to BYE")


def sc_o2o():
    alice, carol = Tls("alice"), Tls("carol")
    register(alice, "alice")
    register(carol, "carol")
    bob = Udp(BOB)
    am, cm = Media(True), Media(True)
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    a.remote_uri = "sip:carol@gw.test"
    alice_invites(alice, a, am, "sip:carol@%s:%d;transport=tls" % TLS)
    wait(alice, is_resp(100, "INVITE"), "100 Trying")
    inv = wait(carol, is_req("INVITE"), "Alice's INVITE on her own flow")
    check("o2o INVITE: Carol's Contact as Request-URI",
          inv.ruri == carol.contact, inv.ruri)
    so = check_outside("o2o INVITE (offer)", inv, False, "sendrecv",
                       addr=False)
    c = Leg(carol, "TLS", "sip:carol@gw.test", "carol" + rnd()[:4],
            carol.contact)
    c.uas_from(inv)
    c.respond(inv, 180)
    wait(alice, is_resp(180, "INVITE"), "180 from Carol")
    c.respond(inv, 200, cm.sdp(tag=int(so["crypto"][0][0])))
    r = wait(alice, is_resp(200, "INVITE"), "200 from Carol")
    sa = check_outside("o2o 200 (answer)", r, True, "sendrecv")
    a.uac_from(r)
    a.request("ACK", cseq=1)
    ack = wait(carol, is_req("ACK"), "the ACK on her flow")
    check("o2o ACK: no Route left", not ack.all("route"), ack.raw)
    # (srtp-bridge gives each leg its own keys; rtpengine may hand Alice's
    # key on to Carol)
    media_flows("o2o: Alice's SRTP reaches Carol as SRTP",
                am, cm, sa["addr"], sa["port"], rx_key=so["crypto"][0][2])
    media_flows("o2o: Carol's SRTP reaches Alice as SRTP",
                cm, am, so["addr"], so["port"], rx_key=sa["crypto"][0][2])
    c.request("BYE")
    bye = wait(alice, is_req("BYE"), "Carol's BYE on her flow")
    check("o2o BYE: no Route left", not bye.all("route"), bye.raw)
    a.respond(bye, 200)
    wait(carol, is_resp(200, "BYE"), "200 to her BYE")
    bob.s.setblocking(False)
    try:
        d = bob.s.recv(65536)
    except BlockingIOError:
        d = b""
    check("o2o: nothing went inside", d == b"", d[:200])


# ---- a phone that vanishes: the gateway's BYE ----
def quiet(peer, secs):
    """Everything `peer` gets within `secs` (plus what it has)."""
    until = time.time() + secs
    while time.time() < until:
        peer.pump(until)
    got, peer.inbox = peer.inbox, []
    return got


def proxy_rr():
    """The Record-Route of an inside proxy: Bob's own address, so that
    a request routed there reaches Bob."""
    return "<sip:inproxy@%s:%d;lr;x=p1>" % BOB


def call_out(alice, bob, am, bm, extra_rr=True):
    """Alice calls Bob; Bob answers (with an inside proxy's RR)."""
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    b = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
            "sip:bob@%s:%d" % BOB)
    a.remote_uri = "sip:bob@gw.test"
    alice_invites(alice, a, am, "sip:bob@%s:%d;transport=tls" % TLS)
    inv = wait(bob, is_req("INVITE", 1), "the INVITE")
    b.uas_from(inv)
    if extra_rr:
        # As if an inside proxy had record-routed: it sits on top (and
        # takes its own entry off Bob's requests before they reach us).
        inv.hdrs.insert(0, ("record-route", proxy_rr()))
    b.respond(inv, 200, bm.sdp())
    r = wait(alice, is_resp(200, "INVITE", 1), "200 to INVITE")
    a.uac_from(r)
    a.request("ACK", cseq=1)
    wait(bob, is_req("ACK", 1), "the ACK")
    return a, b


def check_bye(bye, a, b, cseq, target, route, via_hops=1):
    """The BYE the gateway sent for Alice, as RFC 3261 §12.2.1.1 says."""
    check("BYE: Request-URI is Bob's remote target", bye.ruri == target,
          bye.ruri)
    check("BYE: Route is the route set beyond the gateway",
          bye.all("route") == route, "%r, want %r" % (bye.all("route"),
                                                     route))
    check("BYE: Call-ID", bye.get("call-id") == a.cid, bye.get("call-id"))
    check("BYE: From is Alice with her tag",
          uri_of(bye.get("from")) == a.local_uri and
          bye.tag("from") == a.local_tag, bye.get("from"))
    check("BYE: To is Bob with his tag",
          uri_of(bye.get("to")) == b.local_uri and
          bye.tag("to") == b.local_tag, bye.get("to"))
    check("BYE: CSeq is Alice's last + 1", bye.cseq() == (cseq, "BYE"),
          bye.get("cseq"))
    via = bye.all("via")
    if via_hops == 1:
        check("BYE: one Via, the gateway's inside face, fresh branch",
              len(via) == 1 and "%s:%d" % GWU in via[0] and
              ";branch=z9hG4bK" in via[0], repr(via))
    else:
        check("BYE: the proxy's Via above the gateway's",
              len(via) == via_hops and "%s:%d" % GWU in via[0] and
              ";branch=z9hG4bKsbye." in via[-1], repr(via))
    check("BYE: Max-Forwards 70 (less one per proxy)",
          bye.get("max-forwards") == str(71 - via_hops),
          bye.get("max-forwards"))
    check("BYE: Content-Length 0", bye.get("content-length") == "0" and
          bye.body == "", bye.raw)


def branch_of(m):
    return re.search(r"branch=([^;\s,]+)", m.lines("via")[0]).group(1)


def sc_lost(silent=False, kam=False):
    alice = Tls("alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    a, b = call_out(alice, bob, am, bm, extra_rr=not kam)
    if kam:
        check("Kamailio record-routed the INVITE",
              len(b.route) == 3 and "%s:%d" % GWU in b.route[0],
              repr(b.route))
    # Alice: a re-INVITE (CSeq 2) and an UPDATE (CSeq 3).
    a.request("INVITE", am.sdp("sendrecv"))
    ri = wait(bob, is_req("INVITE", 2), "Alice's re-INVITE")
    b.respond(ri, 200, bm.sdp())
    r = wait(alice, is_resp(200, "INVITE", 2), "200 to her re-INVITE")
    a.request("ACK", cseq=2)
    wait(bob, is_req("ACK", 2), "the ACK of her re-INVITE")
    a.request("UPDATE", am.sdp("sendrecv"))
    up = wait(bob, is_req("UPDATE", 3), "Alice's UPDATE")
    b.respond(up, 200, bm.sdp())
    wait(alice, is_resp(200, "UPDATE", 3), "200 to her UPDATE")
    # Bob: a target refresh to a new Contact.
    b.contact = "sip:bob-moved@%s:%d" % BOB
    b.request("INVITE", bm.sdp())
    bi = wait(alice, is_req("INVITE"), "Bob's re-INVITE")
    a.respond(bi, 200, am.sdp(tag=int(sdp_info(bi.body)["crypto"][0][0])))
    wait(bob, is_resp(200, "INVITE", b.cseq), "200 to his re-INVITE")
    b.request("ACK", cseq=b.cseq)
    wait(alice, is_req("ACK"), "the ACK of his re-INVITE")
    if not silent:
        alice.s.close()         # TLS close_notify and FIN
        bye = wait(bob, is_req("BYE"), "the gateway's BYE", 5)
    else:
        # Nothing more from Alice: the idle timeout drops her flow.
        bye = wait(bob, is_req("BYE"), "the gateway's BYE", 15)
    if kam:
        # Kamailio took its own Route entry off.
        check_bye(bye, a, b, 4, b.contact, [], via_hops=2)
    else:
        check_bye(bye, a, b, 4, b.contact, [proxy_rr()])
    if silent:
        # Unanswered: retransmitted (timer E), the same transaction;
        # answered right after the second copy (the next one is due
        # 2 s later), so anything more is a storm or a lost answer.
        for n in (1, 2):
            again = wait(bob, is_req("BYE"), "retransmission %d" % n, 4)
            check("BYE retransmission %d unchanged" % n,
                  again.raw == bye.raw, again.raw)
    b.respond(bye, 200)
    late = [m for m in quiet(bob, 3.0) if m.is_req]
    check("BYE answered: no more copies", late == [], repr(late))


def sc_lostrev():
    alice = Tls("alice")
    register(alice, "alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    b = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
            "sip:bob@%s:%d" % BOB)
    b.remote_uri = "sip:alice@%s:%d" % GWU
    b.cid = "dlg-%s@bob" % rnd()
    b.target = "sip:alice@%s:%d" % GWU
    b.cseq = 10
    b.request("INVITE", bm.sdp(), extra=[("Record-Route", proxy_rr())])
    inv = wait(alice, is_req("INVITE"), "Bob's INVITE")
    so = sdp_info(inv.body)
    a = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
            alice.contact)
    a.uas_from(inv)
    a.respond(inv, 200, am.sdp(tag=int(so["crypto"][0][0])))
    r200 = wait(bob, is_resp(200, "INVITE"), "200 from Alice")
    b.remote_tag = r200.tag("to")
    # (the inside proxy takes its own entry off)
    b.route = [v for v in reversed(r200.all("record-route"))
               if v != proxy_rr()]
    b.request("ACK", cseq=b.cseq)
    wait(alice, is_req("ACK"), "the ACK")
    a.cseq = 6
    a.request("UPDATE", am.sdp(tag=int(so["crypto"][0][0])))
    up = wait(bob, is_req("UPDATE", 7), "Alice's UPDATE")
    check("Alice's UPDATE: routed by Bob's proxy entry",
          up.all("route") == [proxy_rr()], repr(up.all("route")))
    b.respond(up, 200, bm.sdp())
    wait(alice, is_resp(200, "UPDATE", 7), "200 to her UPDATE")
    alice.s.close()
    bye = wait(bob, is_req("BYE"), "the gateway's BYE", 5)
    # Alice's side of the dialog: she was the UAS.
    a.remote_uri = b.local_uri
    b.local_uri = uri_of(inv.get("from"))
    a.local_uri = uri_of(inv.get("to"))
    check_bye(bye, a, b, 8, b.contact, [proxy_rr()])
    b.respond(bye, 200)


def sc_ended():
    alice = Tls("alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    # 1: ended by Alice's BYE.
    a, b = call_out(alice, bob, am, bm)
    a.request("BYE")
    bye = wait(bob, is_req("BYE"), "Alice's BYE")
    b.respond(bye, 200)
    wait(alice, is_resp(200, "BYE"), "200 to her BYE")
    # 2: cancelled while ringing.
    a2 = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
             alice.contact)
    a2.remote_uri = "sip:bob@gw.test"
    alice_invites(alice, a2, am, "sip:bob@%s:%d;transport=tls" % TLS)
    inv = wait(bob, is_req("INVITE", 1), "the second INVITE")
    b2 = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
             "sip:bob@%s:%d" % BOB)
    b2.uas_from(inv)
    b2.respond(inv, 180)
    wait(alice, is_resp(180, "INVITE"), "180")
    a2.request("CANCEL", cseq=1, branch=a2.branch)
    c = wait(bob, is_req("CANCEL"), "the CANCEL")
    b2.respond(c, 200)
    b2.respond(inv, 487, reason="Request Terminated")
    wait(alice, is_resp(487, "INVITE"), "487")
    a2.request("ACK", cseq=1, branch=a2.branch)
    # 3: refused.
    a3 = Leg(alice, "TLS", "sip:alice@gw.test", "alice" + rnd()[:4],
             alice.contact)
    a3.remote_uri = "sip:bob@gw.test"
    alice_invites(alice, a3, am, "sip:bob@%s:%d;transport=tls" % TLS)
    inv = wait(bob, is_req("INVITE", 1), "the third INVITE")
    b3 = Leg(bob, "UDP", "sip:bob@gw.test", "bob" + rnd()[:4],
             "sip:bob@%s:%d" % BOB)
    b3.uas_from(inv)
    b3.respond(inv, 486, reason="Busy Here")
    wait(alice, is_resp(486, "INVITE"), "486")
    a3.request("ACK", cseq=1, branch=a3.branch)
    quiet(bob, 0.3)             # the ACKs
    alice.s.close()
    got = [m for m in quiet(bob, 2.0) if m.is_req]
    check("calls already over: no BYE when the connection closes",
          got == [], repr(got))


def sc_nobye():
    alice = Tls("alice")
    bob = Udp(BOB)
    am, bm = Media(True), Media(False)
    call_out(alice, bob, am, bm)
    alice.s.close()
    got = [m for m in quiet(bob, 2.0) if m.is_req]
    check("--no-bye-on-loss: no BYE when the connection closes",
          got == [], repr(got))


try:
    {"early": sc_early, "late": sc_late, "reverse": sc_reverse,
     "o2o": sc_o2o, "lost": sc_lost, "silent": lambda: sc_lost(True),
     "lostrev": sc_lostrev, "ended": sc_ended,
     "nobye": sc_nobye, "kam": lambda: sc_lost(kam=True)}[scenario]()
except SystemExit:
    pass
sys.exit(1 if failed else 0)
