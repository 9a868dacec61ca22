#!/usr/bin/python3
# stun-aioice.py - aioice (aiortc's ICE, Debian python3-aioice) as the
# independent STUN/ICE peer of lib/media/stun and ice: it builds requests
# and responses, checks ours, and runs a real ICE agent against stun-tool.
#
#   stun-aioice.py request USERNAME PWD [--controlled] [--use-candidate]
#                  [--priority N] [--tiebreaker N]     -> "TID HEX"
#   stun-aioice.py check-response HEX PWD TID HOST PORT
#   stun-aioice.py parse HEX PWD
#   stun-aioice.py response TID PWD HOST PORT          -> "HEX"
#   stun-aioice.py peer PORT UFRAG PWD [--controlled] [--local U P]
#
# check-response prints "success HOST PORT" or "error CODE" for a response
# whose MESSAGE-INTEGRITY (keyed with PWD) and FINGERPRINT aioice verified
# and whose transaction is TID; "peer" runs aioice.Connection against an
# ICE-lite agent on 127.0.0.1:PORT (host candidates on 127.0.0.1 only),
# sends "hello" over the nominated pair and expects "echo:hello".
# Exit status: 0 ok, 1 mismatch or failure, 2 usage, 3 malformed.
import argparse
import asyncio
import sys

from aioice import stun
import aioice.ice
from aioice.candidate import Candidate


def cmd_request(a):
    m = stun.Message(stun.Method.BINDING, stun.Class.REQUEST)
    m.attributes["USERNAME"] = a.username
    m.attributes["PRIORITY"] = a.priority
    if a.controlled:
        m.attributes["ICE-CONTROLLED"] = a.tiebreaker
    else:
        m.attributes["ICE-CONTROLLING"] = a.tiebreaker
    if a.use_candidate:
        m.attributes["USE-CANDIDATE"] = None
    m.add_message_integrity(a.pwd.encode())  # adds FINGERPRINT too
    print(m.transaction_id.hex(), bytes(m).hex())
    return 0


def parse(hexmsg, pwd):
    try:
        data = bytes.fromhex(hexmsg)
    except ValueError:
        print("malformed hex")
        sys.exit(3)
    try:
        m = stun.parse_message(data, integrity_key=pwd.encode())
    except ValueError as e:
        print("refused:", e)
        sys.exit(1)
    # parse_message checks MI and FINGERPRINT only when present
    for need in ("MESSAGE-INTEGRITY", "FINGERPRINT"):
        if need not in m.attributes:
            print("no", need)
            sys.exit(1)
    if list(m.attributes)[-1] != "FINGERPRINT":
        print("FINGERPRINT not last")
        sys.exit(1)
    return m


def cmd_check_response(a):
    try:
        data = bytes.fromhex(a.hex)
    except ValueError:
        return 3
    try:
        m = stun.parse_message(data, integrity_key=a.pwd.encode())
    except ValueError as e:
        print("refused:", e)
        return 1
    if m.transaction_id.hex() != a.tid:
        print("wrong transaction", m.transaction_id.hex())
        return 1
    if "FINGERPRINT" not in m.attributes:
        print("no FINGERPRINT")
        return 1
    if m.message_class == stun.Class.ERROR:
        print("error", m.attributes["ERROR-CODE"][0],
              "mi" if "MESSAGE-INTEGRITY" in m.attributes else "no-mi")
        return 0
    if "MESSAGE-INTEGRITY" not in m.attributes:
        print("no MESSAGE-INTEGRITY")
        return 1
    if m.message_class != stun.Class.RESPONSE:
        print("class", m.message_class)
        return 1
    host, port = m.attributes["XOR-MAPPED-ADDRESS"]
    if (host, port) != (a.host, a.port):
        print("mapped", host, port)
        return 1
    print("success", host, port)
    return 0


def cmd_parse(a):
    m = parse(a.hex, a.pwd)
    out = [m.message_class.name, m.transaction_id.hex()]
    for k, v in m.attributes.items():
        if k in ("MESSAGE-INTEGRITY", "FINGERPRINT"):
            out.append(k)
        elif v is None:
            out.append(k)
        else:
            out.append("%s=%s" % (k, v))
    print(" ".join(out))
    return 0


def cmd_response(a):
    m = stun.Message(stun.Method.BINDING, stun.Class.RESPONSE,
                     transaction_id=bytes.fromhex(a.tid))
    m.attributes["XOR-MAPPED-ADDRESS"] = (a.host, a.port)
    m.add_message_integrity(a.pwd.encode())
    print(bytes(m).hex())
    return 0


async def peer(a):
    # host candidates on loopback only: tests stay on 127.0.0.0/8
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    conn = aioice.Connection(ice_controlling=not a.controlled, components=1,
                             use_ipv6=False)
    if a.local:
        conn.local_username, conn.local_password = a.local
    conn.remote_is_lite = True
    conn.remote_username = a.ufrag
    conn.remote_password = a.pwd
    await conn.gather_candidates()
    await conn.add_remote_candidate(Candidate.from_sdp(
        "1 1 udp 2130706431 127.0.0.1 %d typ host" % a.port))
    await conn.add_remote_candidate(None)
    try:
        await asyncio.wait_for(conn.connect(), 15)
    except (ConnectionError, asyncio.TimeoutError) as e:
        print("connect failed:", type(e).__name__, e)
        await conn.close()
        return 1
    await conn.send(b"hello")
    try:
        data = await asyncio.wait_for(conn.recv(), 5)
    except asyncio.TimeoutError:
        print("no echo")
        await conn.close()
        return 1
    print("connected controlling=%d echo=%s" % (conn.ice_controlling,
                                                 data.decode()))
    await conn.close()
    return 0 if data == b"echo:hello" else 1


def main():
    p = argparse.ArgumentParser(prog="stun-aioice.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("request")
    r.add_argument("username")
    r.add_argument("pwd")
    r.add_argument("--controlled", action="store_true")
    r.add_argument("--use-candidate", action="store_true")
    r.add_argument("--priority", type=int, default=0x6E7F00FF)
    r.add_argument("--tiebreaker", type=int, default=0x1122334455667788)
    c = sub.add_parser("check-response")
    for n in ("hex", "pwd", "tid", "host"):
        c.add_argument(n)
    c.add_argument("port", type=int)
    q = sub.add_parser("parse")
    q.add_argument("hex")
    q.add_argument("pwd")
    s = sub.add_parser("response")
    for n in ("tid", "pwd", "host"):
        s.add_argument(n)
    s.add_argument("port", type=int)
    e = sub.add_parser("peer")
    e.add_argument("port", type=int)
    e.add_argument("ufrag")
    e.add_argument("pwd")
    e.add_argument("--controlled", action="store_true")
    e.add_argument("--local", nargs=2, metavar=("UFRAG", "PWD"))
    a = p.parse_args()
    if a.cmd == "request":
        return cmd_request(a)
    if a.cmd == "check-response":
        return cmd_check_response(a)
    if a.cmd == "parse":
        return cmd_parse(a)
    if a.cmd == "response":
        return cmd_response(a)
    return asyncio.run(peer(a))


if __name__ == "__main__":
    sys.exit(main())
