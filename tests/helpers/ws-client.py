#!/usr/bin/python3
# ws-client.py - a scripted SIP-over-WebSocket client (RFC 6455, RFC 7118)
# written from the RFCs with the standard library only (socket, ssl,
# hashlib), independent of sbckit's lib/sip/ws*.c. For the tests of
# sip-tls-term's WebSocket listeners, including what a good client never
# sends (unmasked frames, oversized frames, bad Upgrades).
#
#   ws-client.py [options] ADDR:PORT [FILE...]
#
# Connects (TLS with --tls, no certificate check), sends the Upgrade,
# prints the response head ("HTTP/1.1 101 ..." and its headers, then
# "ACCEPT ok" or "ACCEPT bad" for Sec-WebSocket-Accept checked with
# hashlib), then sends each FILE as one SIP message and prints what
# arrives for -w MS or until -c N SIP messages came: each SIP message
# followed by "----", a pong as "PONG <payload>", a close frame as
# "CLOSE <code>", the end of the connection as "CLOSED".
#
# Options:
#   --tls                 WSS
#   --origin O            an Origin header
#   --protocol P          Sec-WebSocket-Protocol (default sip; "" none)
#   --version V           Sec-WebSocket-Version (default 13)
#   --key K               Sec-WebSocket-Key (default random 16 bytes)
#   --stall               send only part of the Upgrade, then wait
#   --frag N              send each message in N-byte fragments, with a
#                         ping frame ("mid") between the first two
#   --unmasked            send data frames unmasked (a protocol error)
#   --binary              binary frames instead of text
#   --ping DATA           send a ping first
#   --big N               send one text frame of N bytes first
#   --close CODE          send a close frame after the files (and -d MS),
#                         or with -c N after N SIP messages (and -d MS),
#                         then read on
#   -d MS                 wait MS between files (and before --close)
#   -a                    answer requests with 200 OK (100 first for an
#                         INVITE); ACK a 2xx to our INVITE
#   -w MS                 how long to read (default 2000)
#   -c N                  stop after N SIP messages
import argparse
import base64
import hashlib
import os
import re
import select
import socket
import ssl
import struct
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(op, payload, masked=True, fin=True):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    mbit = 0x80 if masked else 0
    if n < 126:
        h = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        h = struct.pack("!BBQ", b0, mbit | 127, n)
    if not masked:
        return h + payload
    key = os.urandom(4)
    return h + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.frag = b""

    def recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not (isinstance(self.s, ssl.SSLSocket) and self.s.pending()):
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                return None
        try:
            d = self.s.recv(65536)
        except (ConnectionResetError, ssl.SSLError, OSError):
            return b""
        return d

    def frames(self):
        """Whole server frames from the buffer: (op, fin, payload)."""
        out = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            i = 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n = struct.unpack("!H", self.buf[2:4])[0]
                i = 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n = struct.unpack("!Q", self.buf[2:10])[0]
                i = 10
            if b1 & 0x80:
                print("SERVER FRAME MASKED")
                i += 4
            if len(self.buf) < i + n:
                break
            out.append((b0 & 0x0F, b0 >> 7, self.buf[i:i + n]))
            self.buf = self.buf[i + n:]
        return out


def sip_reply(req, code, reason):
    head = req.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    lines = head.split("\r\n")
    keep = []
    for ln in lines[1:]:
        name = ln.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "from", "f", "call-id", "i", "cseq",
                    "record-route"):
            keep.append(ln)
        elif name in ("to", "t"):
            keep.append(ln if ";tag=" in ln else ln + ";tag=ws" +
                        str(os.getpid()))
    keep.append("Contact: <sip:wsuser@df7jal23ls0d.invalid;transport=ws>")
    keep.append("Content-Length: 0")
    return ("SIP/2.0 %d %s\r\n" % (code, reason) + "\r\n".join(keep) +
            "\r\n\r\n").encode()


def sip_ack(resp):
    """The ACK of a 2xx to our INVITE: to its Contact, by its route set."""
    head = resp.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    hs = head.split("\r\n")[1:]

    def get(n):
        return [h.split(":", 1)[1].strip() for h in hs
                if h.split(":", 1)[0].strip().lower() == n]
    contact = re.search(r"<([^>]+)>", get("contact")[0]).group(1)
    rr = []
    for v in get("record-route"):
        rr += [x.strip() for x in v.split(",")]
    cseq = get("cseq")[0].split()[0]
    lines = ["ACK %s SIP/2.0" % contact,
             "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKack%d"
             % os.getpid(),
             "Max-Forwards: 70",
             "From: " + get("from")[0], "To: " + get("to")[0],
             "Call-ID: " + get("call-id")[0], "CSeq: %s ACK" % cseq]
    lines += ["Route: " + r for r in reversed(rr)]
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--origin")
    ap.add_argument("--protocol", default="sip")
    ap.add_argument("--version", default="13")
    ap.add_argument("--key")
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--frag", type=int, default=0)
    ap.add_argument("--unmasked", action="store_true")
    ap.add_argument("--binary", action="store_true")
    ap.add_argument("--ping")
    ap.add_argument("--big", type=int, default=0)
    ap.add_argument("--close", type=int)
    ap.add_argument("-d", type=int, default=0)
    ap.add_argument("-a", action="store_true")
    ap.add_argument("-w", type=int, default=2000)
    ap.add_argument("-c", type=int, default=0)
    o = ap.parse_args()

    host, port = o.addr.rsplit(":", 1)
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
    if o.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.settimeout(None)
    key = o.key or base64.b64encode(os.urandom(16)).decode()
    req = ("GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: %s\r\n" % (o.addr, key, o.version))
    if o.protocol:
        req += "Sec-WebSocket-Protocol: %s\r\n" % o.protocol
    if o.origin:
        req += "Origin: %s\r\n" % o.origin
    req += "\r\n"
    c = Conn(s)
    deadline = time.monotonic() + o.w / 1000.0
    if o.stall:
        s.sendall(req[:20].encode())
        while True:
            d = c.recv(deadline)
            if d is None:
                print("STILL OPEN")
                return 0
            if d == b"":
                print("CLOSED")
                return 0
    s.sendall(req.encode())
    while b"\r\n\r\n" not in c.buf:
        d = c.recv(deadline)
        if not d:
            print("CLOSED" if d == b"" else "NO RESPONSE")
            return 0
        c.buf += d
    head, c.buf = c.buf.split(b"\r\n\r\n", 1)
    head = head.decode(errors="replace")
    print(head.replace("\r\n", "\n"))
    want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
    m = re.search(r"(?im)^Sec-WebSocket-Accept:\s*(\S+)", head)
    if m:
        print("ACCEPT " + ("ok" if m.group(1).encode() == want else "bad"))
    if not head.startswith("HTTP/1.1 101 "):
        while True:
            d = c.recv(deadline)
            if not d:
                print("CLOSED" if d == b"" else "STILL OPEN")
                return 0
    sys.stdout.flush()

    op = 0x2 if o.binary else 0x1
    masked = not o.unmasked
    if o.ping is not None:
        s.sendall(frame(0x9, o.ping.encode()))
    if o.big:
        s.sendall(frame(op, b"x" * o.big, masked))
    for i, f in enumerate(o.files):
        if i > 0 and o.d:
            time.sleep(o.d / 1000.0)
        msg = open(f, "rb").read()
        if o.frag and len(msg) > o.frag:
            parts = [msg[j:j + o.frag] for j in range(0, len(msg), o.frag)]
            for k, p in enumerate(parts):
                s.sendall(frame(op if k == 0 else 0x0, p, masked,
                                fin=k == len(parts) - 1))
                if k == 0:
                    s.sendall(frame(0x9, b"mid"))
        else:
            s.sendall(frame(op, msg, masked))
    closed_at = None

    def send_close():
        if o.d:
            time.sleep(o.d / 1000.0)
        s.sendall(frame(0x8, struct.pack("!H", o.close)))
    # --close: at once, or with -c after N SIP messages came.
    if o.close is not None and not o.c:
        send_close()
    got = 0
    while True:
        for fop, fin, pl in c.frames():
            if fop == 0x9:
                s.sendall(frame(0xA, pl))
            elif fop == 0xA:
                print("PONG " + pl.decode(errors="replace"))
            elif fop == 0x8:
                code = struct.unpack("!H", pl[:2])[0] if len(pl) >= 2 else 0
                print("CLOSE %d" % code)
                if closed_at is None and o.close is None:
                    s.sendall(frame(0x8, pl[:2]))
                closed_at = True
            elif fop in (0x1, 0x2):
                if not fin:
                    c.frag += pl
                    continue
                pl = c.frag + pl
                c.frag = b""
                sys.stdout.write(pl.decode(errors="replace")
                                 .replace("\r\n", "\n"))
                print("----")
                got += 1
                if o.a and not pl.startswith(b"SIP/2.0"):
                    meth = pl.split(b" ", 1)[0]
                    if meth != b"ACK":
                        if meth == b"INVITE":
                            s.sendall(frame(0x1, sip_reply(pl, 100,
                                                           "Trying")))
                        s.sendall(frame(0x1, sip_reply(pl, 200, "OK")))
                elif o.a and re.match(rb"SIP/2.0 2", pl) and \
                        re.search(rb"(?im)^CSeq:\s*\d+ INVITE", pl):
                    s.sendall(frame(0x1, sip_ack(pl)))
            sys.stdout.flush()
            if o.c and got >= o.c:
                if o.close is None:
                    return 0
                if got == o.c:
                    send_close()
                    got += 1
        d = c.recv(deadline)
        if d is None:
            return 0
        if d == b"":
            print("CLOSED")
            return 0
        c.buf += d


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ConnectionError, BrokenPipeError, ssl.SSLError) as e:
        print("CLOSED (%s)" % e.__class__.__name__)
        sys.exit(0)
