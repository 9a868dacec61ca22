#!/usr/bin/python3
# hep-listen.py - a HEPv3 collector for tests, written from sipcapture's
# HEP3 specification (not from lib/base/hep.c): every datagram is decoded
# chunk by chunk and checked (vendor 0 lengths, fixed sizes, total
# length), then printed as one line:
#
#   hep type=1 proto=22 src=1.2.3.4:5 dst=6.7.8.9:10 time=S.US id=N
#       key=K corr=C first=FIRST-LINE-OR-JSON
#
# or "bad REASON" for a datagram that breaks the format.
#
#   hep-listen.py ADDR PORT SECONDS   (PORT 0: any; prints "bound ADDR:PORT")
import socket
import struct
import sys
import time

FIXED = {1: 1, 2: 1, 3: 4, 4: 4, 5: 16, 6: 16, 7: 2, 8: 2, 9: 4, 10: 4,
         11: 1, 12: 4}


def decode(d):
    if len(d) < 6 or d[:4] != b"HEP3":
        raise ValueError("no HEP3 header")
    total = struct.unpack("!H", d[4:6])[0]
    if total != len(d):
        raise ValueError("length %d, datagram %d" % (total, len(d)))
    pos, c = 6, {}
    while pos < total:
        if pos + 6 > total:
            raise ValueError("chunk header cut")
        vendor, typ, ln = struct.unpack("!HHH", d[pos:pos + 6])
        if ln < 6 or pos + ln > total:
            raise ValueError("chunk %d length %d" % (typ, ln))
        data = d[pos + 6:pos + ln]
        pos += ln
        if vendor != 0:
            continue
        if typ in FIXED and len(data) != FIXED[typ]:
            raise ValueError("chunk %d of %d bytes" % (typ, len(data)))
        if typ in c:
            raise ValueError("chunk %d twice" % typ)
        c[typ] = data
    for need in (1, 2, 7, 8, 9, 10, 11, 15):
        if need not in c:
            raise ValueError("no chunk %d" % need)
    fam = c[1][0]
    if fam == 2:
        src = socket.inet_ntop(socket.AF_INET, c[3])
        dst = socket.inet_ntop(socket.AF_INET, c[4])
    elif fam == 10:
        src = "[%s]" % socket.inet_ntop(socket.AF_INET6, c[5])
        dst = "[%s]" % socket.inet_ntop(socket.AF_INET6, c[6])
    else:
        raise ValueError("family %d" % fam)
    u16 = lambda b: struct.unpack("!H", b)[0]
    u32 = lambda b: struct.unpack("!I", b)[0]
    pay = c[15]
    first = pay.split(b"\r\n", 1)[0] if c[11][0] == 1 else pay
    return ("hep type=%d proto=%d src=%s:%d dst=%s:%d time=%d.%06d id=%d "
            "key=%s corr=%s first=%s" % (
                c[11][0], c[2][0], src, u16(c[7]), dst, u16(c[8]),
                u32(c[9]), u32(c[10]), u32(c[12]) if 12 in c else -1,
                c.get(14, b"-").decode(errors="replace"),
                c.get(17, b"-").decode(errors="replace"),
                first.decode(errors="replace")))


def main():
    s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1]
                      else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], int(sys.argv[2])))
    a = s.getsockname()
    print("bound %s:%d" % (a[0], a[1]), flush=True)
    end = time.time() + float(sys.argv[3])
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            d = s.recv(65535)
        except socket.timeout:
            break
        try:
            print(decode(d), flush=True)
        except ValueError as e:
            print("bad %s" % e, flush=True)


main()
