#!/usr/bin/env python3
"""sip-digest-client.py - a SIP-over-TLS client that answers digest challenges.

Used by tests/attack-auth.bats against sip-tls-term --auth. It computes the
digest itself (hashlib), independently of lib/sip/digest.c.

  sip-digest-client.py GW SRC reg USER PASS [TO [CONTACT [EXPIRES]]]
      REGISTER (To: TO, default USER; CONTACT "*" removes all), answering
      one challenge with USER/PASS (PASS "-": no answer). Prints each
      status code on a line, then "contacts N" (Contact lines in the 200).
  sip-digest-client.py GW SRC stale USER PASS SECONDS
      a REGISTER answered after SECONDS (past the nonce lifetime): prints
      the codes, "stale" when the 401 said stale=true, then the code of
      the answer to the fresh challenge.
  sip-digest-client.py GW SRC replay USER PASS
      the same credentials twice on new transactions: prints the codes.
  sip-digest-client.py GW SRC brute USER N
      N REGISTERs with wrong passwords on one connection, each answering
      the last challenge; prints the codes, then "CLOSED" if the gateway
      closed the connection.
  sip-digest-client.py GW SRC connect
      prints "CONNECTED" if a TLS handshake completes, else "REFUSED".
  sip-digest-client.py GW SRC call CALLEE_USER CALLEE_PASS USER PASS
      CALLEE registers (its own connection), USER (from SRC's next
      address, SRC2 = SRC with the last byte + 1) calls it: INVITE
      (407 answered), the callee answers 200, ACK, BYE, 200. Prints the
      steps ("callee 200", "invite 407", "invite 200", "bye 200").

GW is ADDR:PORT ([ADDR]:PORT for IPv6), SRC the local address to bind (a
loopback address, or an IPv6 one in a test's network namespace).
"""
import hashlib
import os
import re
import socket
import ssl
import sys
import time

TIMEOUT = 5.0


class Conn:
    def __init__(self, gw, src):
        host, port = gw.rsplit(":", 1)
        self.gw = gw
        self.src = src
        raw = socket.create_connection((host.strip("[]"), int(port)),
                                       timeout=TIMEOUT,
                                       source_address=(src, 0))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(raw)
        self.lport = self.s.getsockname()[1]
        self.buf = b""

    def send(self, msg):
        self.s.sendall(msg.encode())

    def recv(self):
        """One message (start line, headers dict-ish, raw) or None."""
        while b"\r\n\r\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                return None
            if not d:
                return None
            self.buf += d
            self.buf = self.buf.lstrip(b"\r\n")
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
        clen = int(m.group(2)) if m else 0
        while len(rest) < clen:
            d = self.s.recv(65536)
            if not d:
                return None
            rest += d
        self.buf = rest[clen:]
        return Msg(head.decode(errors="replace"), rest[:clen].decode())

    def recv_final(self):
        """The next response >= 200 (skips 1xx), or None."""
        while True:
            m = self.recv()
            if m is None or m.code is None or m.code >= 200:
                return m


class Msg:
    def __init__(self, head, body):
        lines = head.split("\r\n")
        self.start = lines[0]
        self.hdrs = []
        for ln in lines[1:]:
            if ":" in ln:
                n, v = ln.split(":", 1)
                self.hdrs.append((n.strip(), v.strip()))
        self.body = body
        self.code = None
        if self.start.startswith("SIP/2.0 "):
            self.code = int(self.start.split()[1])

    def all(self, name):
        return [v for n, v in self.hdrs if n.lower() == name.lower()]

    def get(self, name):
        a = self.all(name)
        return a[0] if a else None


def h(alg, s):
    f = hashlib.sha256 if alg == "SHA-256" else hashlib.md5
    return f(s.encode()).hexdigest()


def params(chal):
    return dict((k.lower(), v.strip('"')) for k, v in
                re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', chal))


def authorize(user, pw, chals, method, uri, nc=1, alg="SHA-256"):
    for c in chals:
        p = params(c)
        if p.get("algorithm", "MD5") == alg:
            break
    else:
        raise SystemExit("no %s challenge in %r" % (alg, chals))
    cnonce = os.urandom(8).hex()
    ha1 = h(alg, "%s:%s:%s" % (user, p["realm"], pw))
    ha2 = h(alg, "%s:%s" % (method, uri))
    ncs = "%08x" % nc
    resp = h(alg, "%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], ncs, cnonce,
                                             ha2))
    return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"'
            % (user, p["realm"], p["nonce"], uri, resp, alg, ncs, cnonce))


class UA:
    """One user agent on one connection."""

    def __init__(self, conn, user):
        self.c = conn
        self.user = user
        self.cseq = 0
        self.callid = os.urandom(8).hex() + "@test"
        self.tag = os.urandom(4).hex()
        self.host = self.c.gw.rsplit(":", 1)[0]

    def src(self):
        """Our address as a URI host ([...] for IPv6)."""
        s = self.c.src
        return "[%s]" % s if ":" in s else s

    def via(self):
        return ("Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK%s;rport\r\n"
                % (self.src(), self.c.lport, os.urandom(6).hex()))

    def contact(self):
        return "<sip:%s@%s:%d;transport=tls>" % (self.user, self.src(),
                                                 self.c.lport)

    def register(self, to, contact=None, expires=3600, auth=None):
        self.cseq += 1
        uri = "sip:%s" % self.host
        contact = contact or self.contact()
        msg = ("REGISTER %s SIP/2.0\r\n%sMax-Forwards: 70\r\n"
               "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\n"
               "Call-ID: %s\r\nCSeq: %d REGISTER\r\nContact: %s\r\n"
               "Expires: %d\r\n" % (uri, self.via(), self.user, self.host,
                                    self.tag, to, self.host, self.callid,
                                    self.cseq, contact, expires))
        if auth:
            msg += "Authorization: %s\r\n" % auth
        self.c.send(msg + "Content-Length: 0\r\n\r\n")
        return uri

    def reg_auth(self, to, pw, contact=None, expires=3600, alg="SHA-256"):
        """REGISTER, answer the challenge: [codes], final message."""
        uri = self.register(to, contact, expires)
        r = self.c.recv_final()
        codes = [r.code if r else "CLOSED"]
        if r is None or r.code != 401 or pw == "-":
            return codes, r
        a = authorize(self.user, pw, r.all("WWW-Authenticate"), "REGISTER",
                      uri, alg=alg)
        self.register(to, contact, expires, auth=a)
        r = self.c.recv_final()
        codes.append(r.code if r else "CLOSED")
        return codes, r


def cmd_reg(gw, src, user, pw, to=None, contact=None, expires="3600",
            alg="SHA-256"):
    ua = UA(Conn(gw, src), user)
    codes, r = ua.reg_auth(to or user, pw, contact, int(expires), alg)
    for c in codes:
        print(c)
    if r is not None and r.code == 200:
        print("contacts %d" % len(r.all("Contact")))


def cmd_stale(gw, src, user, pw, wait):
    ua = UA(Conn(gw, src), user)
    uri = ua.register(user)
    r = ua.c.recv_final()
    print(r.code)
    time.sleep(float(wait))     # past the nonce lifetime
    ua.register(user, auth=authorize(user, pw, r.all("WWW-Authenticate"),
                                     "REGISTER", uri))
    r = ua.c.recv_final()
    print(r.code)
    if r.code == 401 and any("stale=true" in c
                             for c in r.all("WWW-Authenticate")):
        print("stale")
        ua.register(user, auth=authorize(user, pw,
                                         r.all("WWW-Authenticate"),
                                         "REGISTER", uri))
        r = ua.c.recv_final()
        print(r.code)


def cmd_replay(gw, src, user, pw):
    ua = UA(Conn(gw, src), user)
    uri = ua.register(user)
    r = ua.c.recv_final()
    a = authorize(user, pw, r.all("WWW-Authenticate"), "REGISTER", uri)
    for _ in range(2):
        ua.register(user, auth=a)
        r = ua.c.recv_final()
        print(r.code if r else "CLOSED")


def cmd_brute(gw, src, user, n):
    ua = UA(Conn(gw, src), user)
    uri = ua.register(user)
    r = ua.c.recv_final()
    for i in range(int(n)):
        if r is None:
            print("CLOSED")
            return
        print(r.code)
        a = authorize(user, "guess%d" % i, r.all("WWW-Authenticate"),
                      "REGISTER", uri)
        try:
            ua.register(user, auth=a)
        except OSError:
            print("CLOSED")
            return
        r = ua.c.recv_final()
    print(r.code if r else "CLOSED")


def cmd_connect(gw, src):
    try:
        Conn(gw, src)
        print("CONNECTED")
    except (OSError, ssl.SSLError):
        print("REFUSED")


def cmd_call(gw, src, callee, cpw, user, pw):
    # The callee registers and waits on its connection.
    cua = UA(Conn(gw, src), callee)
    codes, _ = cua.reg_auth(callee, cpw)
    print("callee %s" % codes[-1])
    parts = src.split(".")
    src2 = ".".join(parts[:3] + [str(int(parts[3]) + 1)])
    ua = UA(Conn(gw, src2), user)
    ruri = "sip:%s@%s" % (callee, ua.host)
    sdp = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\n" % (src2, src2))

    def invite(auth=None, cseq=1):
        msg = ("INVITE %s SIP/2.0\r\n%sMax-Forwards: 70\r\n"
               "From: <sip:%s@%s>;tag=%s\r\nTo: <%s>\r\nCall-ID: %s\r\n"
               "CSeq: %d INVITE\r\nContact: %s\r\n"
               "Content-Type: application/sdp\r\n"
               % (ruri, ua.via(), user, ua.host, ua.tag, ruri, ua.callid,
                  cseq, ua.contact()))
        if auth:
            msg += "Proxy-Authorization: %s\r\n" % auth
        ua.c.send(msg + "Content-Length: %d\r\n\r\n%s" % (len(sdp), sdp))

    invite()
    r = ua.c.recv_final()
    print("invite %s" % (r.code if r else "CLOSED"))
    if r is None or r.code != 407:
        return
    # The ACK of a non-2xx final response: same branch in principle; our
    # proxy answered it itself, so the client just goes on.
    invite(authorize(user, pw, r.all("Proxy-Authenticate"), "INVITE", ruri),
           cseq=2)
    inv = cua.c.recv()
    if inv is None or not inv.start.startswith("INVITE"):
        print("callee got %s" % (inv.start if inv else "nothing"))
        return
    print("callee INVITE")
    if inv.get("Proxy-Authorization"):
        print("credentials relayed")
    hd = "".join("%s: %s\r\n" % (n, v) for n, v in inv.hdrs
                 if n.lower() in ("via", "record-route", "from",
                                  "call-id", "cseq"))
    to = inv.get("To") + ";tag=callee1"
    cua.c.send("SIP/2.0 200 OK\r\n%sTo: %s\r\nContact: %s\r\n"
               "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
               % (hd, to, cua.contact(), len(sdp), sdp))
    r = ua.c.recv_final()
    print("invite %s" % (r.code if r else "CLOSED"))
    if r is None or r.code != 200:
        return
    routes = list(reversed(r.all("Record-Route")))
    rt = "".join("Route: %s\r\n" % x for x in routes)
    target = re.search(r"<([^>]*)>", r.get("Contact")).group(1)
    rto = r.get("To")
    for meth, cseq in (("ACK", 2), ("BYE", 3)):
        ua.c.send("%s %s SIP/2.0\r\n%s%sMax-Forwards: 70\r\n"
                  "From: <sip:%s@%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\n"
                  "CSeq: %d %s\r\nContent-Length: 0\r\n\r\n"
                  % (meth, target, ua.via(), rt, user, ua.host, ua.tag, rto,
                     ua.callid, cseq, meth))
        m = cua.c.recv()
        if m is None or not m.start.startswith(meth):
            print("callee missed %s" % meth)
            return
        if meth == "BYE":
            hd = "".join("%s: %s\r\n" % (n, v) for n, v in m.hdrs
                         if n.lower() in ("via", "from", "to", "call-id",
                                          "cseq"))
            cua.c.send("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n" % hd)
    r = ua.c.recv_final()
    print("bye %s" % (r.code if r else "CLOSED"))


def main():
    a = sys.argv[1:]
    if len(a) < 3:
        sys.exit(__doc__)
    gw, src, cmd = a[0], a[1], a[2]
    f = {"reg": cmd_reg, "stale": cmd_stale,
         "replay": cmd_replay, "brute": cmd_brute, "connect": cmd_connect,
         "call": cmd_call}.get(cmd)
    if f is None:
        sys.exit(__doc__)
    try:
        f(gw, src, *a[3:])
    except (OSError, ssl.SSLError) as e:
        print("ERROR %s" % e)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
