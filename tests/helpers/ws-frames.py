#!/usr/bin/env python3
"""ws-frames.py - SIP messages as a WebSocket stream (RFC 6455, RFC 7118).

    ws-frames.py client|server FILE...

Writes to stdout the HTTP upgrade request (client) or its 101 response
(server), then each FILE as one text message: client frames masked with a
fixed key, the first FILE split over a text frame and a continuation frame,
a ping between messages. Written for the pcap-decrypt TLS tests; it knows
nothing of lib/cap.
"""
import struct
import sys


def frame(op, payload, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        hdr = struct.pack('>BB', b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        hdr = struct.pack('>BBH', b0, (0x80 if mask else 0) | 126, n)
    else:
        hdr = struct.pack('>BBQ', b0, (0x80 if mask else 0) | 127, n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return hdr + mask + payload
    return hdr + payload


def main():
    role, files = sys.argv[1], sys.argv[2:]
    mask = b'\x12\x34\x56\x78' if role == 'client' else None
    if role == 'client':
        out = (b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'
               b'Connection: Upgrade\r\nSec-WebSocket-Key: '
               b'dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n'
               b'Sec-WebSocket-Version: 13\r\n\r\n')
    else:
        out = (b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
               b'Connection: Upgrade\r\nSec-WebSocket-Accept: '
               b's3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n'
               b'Sec-WebSocket-Protocol: sip\r\n\r\n')
    for i, f in enumerate(files):
        m = open(f, 'rb').read()
        if i == 0 and len(m) > 20:
            out += frame(1, m[:20], fin=False, mask=mask)
            out += frame(0, m[20:], mask=mask)
        else:
            out += frame(1, m, mask=mask)
        out += frame(9, b'ping', mask=mask)
    sys.stdout.buffer.write(out)


main()
