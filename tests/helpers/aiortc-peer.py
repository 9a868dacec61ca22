#!/usr/bin/python3
# aiortc-peer.py - a WebRTC peer (python3-aiortc: its own ICE, DTLS-SRTP
# and SRTP) and a plain RTP phone (a UDP socket), both driving srtp-bridge's
# ng daemon the way Kamailio's rtpengine module does for a WebRTC gateway.
# Prints "ok NAME" or "fail NAME: why" per check; exit 0 if all passed.
#
#   aiortc-peer.py SCENARIO NG_HOST NG_PORT PHONE_HOST OUTDIR
#
# Scenarios:
#   out2in    aiortc offers (outside), flags "ICE=remove RTP/AVP
#             rtcp-mux-demux" towards the phone; aiortc plays a 440 Hz tone,
#             the phone records what it receives (OUTDIR/phone.wav)
#   in2out    the phone offers RTP/AVP; flags "ICE=force UDP/TLS/RTP/SAVPF
#             rtcp-mux-require" towards aiortc (setup:actpass: the
#             installed aiortc refuses RFC 8842's passive offers), which
#             answers; the ng answer reaches us a second after aiortc
#             started (its DTLS and ICE arrive before the answer); the
#             phone plays 440 Hz, aiortc records (OUTDIR/aiortc.wav)
#   fpbad     out2in with the fingerprint in the offer given to us
#             tampered: the phone must get no media
#   badpwd    out2in, then a STUN Binding request with a wrong password
#             sent to our outside port: no answer
#   compare   (argv[6]: rtpengine's ng port on NG_HOST) the same offers
#             and answers, both directions, to srtp-bridge and to
#             rtpengine-daemon: profiles, a=setup, ICE attributes, one
#             fingerprint, rtcp-mux and rtcp-fb must be alike
# OUTDIR/offer.sdp and answer.sdp keep the SDPs srtp-bridge wrote.
import asyncio
import math
import os
import random
import re
import socket
import struct
import sys
import wave

import aioice.ice
from aioice import stun
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRecorder

# aioice leaves 127.0.0.1 out of its host candidates; these tests run on
# loopback only
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

scenario, nghost, ngport, phost, outdir = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), sys.argv[4], sys.argv[5]
failed = 0
TONE = 440
SECONDS = 4


def check(name, cond, why=""):
    global failed
    if cond:
        print("ok " + name)
    else:
        failed += 1
        print("fail %s: %s" % (name, why))
    sys.stdout.flush()


# ---- bencode and ng ----
def benc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(benc(x) for x in v) + b"e"
    return b"d" + b"".join(benc(k) + benc(v[k]) for k in sorted(v)) + b"e"


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


def ng(d):
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    so.settimeout(2)
    cookie = b"%08x" % random.getrandbits(32)
    so.sendto(cookie + b" " + benc(d), (nghost, ngport))
    data = so.recv(65535)
    so.close()
    return bdec(data[len(cookie) + 1:])[0]


# ---- G.711 mu-law, WAV ----
def ulaw_enc(x):
    x = max(-32635, min(32635, x))
    sign = 0x80 if x < 0 else 0
    x = abs(x) + 0x84
    exp = 7
    for e in range(8):
        if x < (0x100 << e):
            exp = e
            break
    mant = (x >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def ulaw_dec(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return (0x84 - t) if u & 0x80 else (t - 0x84)


def write_wav(path, samples, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))


def tone_wav(path):
    write_wav(path, [int(8000 * math.sin(2 * math.pi * TONE * i / 8000))
                     for i in range(8000 * (SECONDS + 4))])


# ---- the plain phone ----
class Phone:
    def __init__(self):
        self.so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.so.bind((phost, 0))
        self.so.setblocking(False)
        self.port = self.so.getsockname()[1]
        self.got = []
        self.peer = None

    def sdp(self):
        return ("v=0\r\no=phone 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
                "t=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000"
                "\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
                % (phost, phost, self.port))

    async def receive(self, secs):
        loop = asyncio.get_running_loop()
        end = loop.time() + secs
        while loop.time() < end:
            try:
                data, src = self.so.recvfrom(2048)
                if len(data) >= 12 and data[0] >> 6 == 2 and \
                        data[1] & 0x7F == 0:
                    self.got.append(data[12:])
                    self.peer = src
            except BlockingIOError:
                await asyncio.sleep(0.005)

    async def play(self, dst, secs):
        ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), 0
        ph = 0
        for n in range(secs * 50):
            pl = bytes(ulaw_enc(int(8000 * math.sin(2 * math.pi * TONE *
                                                    (ph + i) / 8000)))
                       for i in range(160))
            ph += 160
            hdr = struct.pack("!BBHII", 0x80, 0, (seq + n) & 0xFFFF,
                              (ts + 160 * n) & 0xFFFFFFFF, ssrc)
            self.so.sendto(hdr + pl, dst)
            await asyncio.sleep(0.02)


def m_port(sdp_text):
    m = re.search(r"^m=audio (\d+) (\S+)", sdp_text, re.M)
    return int(m.group(1)), m.group(2)


def c_addr(sdp_text):
    return re.search(r"^c=IN IP4 (\S+)", sdp_text, re.M).group(1)


def pc_new():
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def wait_connected(pc, secs):
    for _ in range(int(secs * 20)):
        if pc.connectionState == "connected":
            return True
        await asyncio.sleep(0.05)
    return False


def save(name, text):
    with open(os.path.join(outdir, name), "w") as f:
        f.write(text)


async def out2in(tamper=False, badpwd=False):
    cid = "webrtc-%08x" % random.getrandbits(32)
    wav = os.path.join(outdir, "tone.wav")
    tone_wav(wav)
    pc = pc_new()
    player = MediaPlayer(wav)
    pc.addTrack(player.audio)
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    if tamper:
        offer = re.sub(r"(a=fingerprint:sha-256 )([0-9A-F]{2})",
                       lambda m: m.group(1) + ("00" if m.group(2) != "00"
                                               else "11"), offer)
    phone = Phone()
    r = ng({"command": "offer", "call-id": cid, "from-tag": "browser",
            "sdp": offer, "direction": ["outside", "inside"],
            "ICE": "remove", "transport-protocol": "RTP/AVP",
            "rtcp-mux": ["demux"]})
    check("offer ok", r.get("result") == b"ok", repr(r))
    to_phone = r.get("sdp", b"").decode()
    save("offer.sdp", to_phone)
    check("offer to the phone is RTP/AVP", m_port(to_phone)[1] == "RTP/AVP",
          to_phone)
    check("offer to the phone has no ICE, DTLS, rtcp-fb", not re.search(
        r"a=(ice-|candidate|fingerprint|setup|rtcp-fb|rtcp-mux)", to_phone),
        to_phone)
    r = ng({"command": "answer", "call-id": cid, "from-tag": "browser",
            "to-tag": "phone", "sdp": phone.sdp(), "ICE": "force",
            "rtcp-mux": ["require"]})
    check("answer ok", r.get("result") == b"ok", repr(r))
    to_browser = r.get("sdp", b"").decode()
    save("answer.sdp", to_browser)
    check("answer is UDP/TLS/RTP/SAVPF",
          m_port(to_browser)[1] == "UDP/TLS/RTP/SAVPF", to_browser)
    check("answer: one fingerprint, setup:passive, ice-lite, candidate",
          len(re.findall(r"a=fingerprint:sha-256 ", to_browser)) == 1 and
          "a=setup:passive" in to_browser and "a=ice-lite" in to_browser and
          "a=candidate:" in to_browser and "a=rtcp-mux" in to_browser,
          to_browser)
    await pc.setRemoteDescription(RTCSessionDescription(to_browser, "answer"))
    ok = await wait_connected(pc, 8)
    if tamper:
        await phone.receive(3)
        check("fingerprint mismatch: no media at the phone",
              len(phone.got) == 0, "%d packets" % len(phone.got))
    else:
        check("aiortc connected (ICE and DTLS)", ok, pc.connectionState)
        await phone.receive(SECONDS)
        check("phone got RTP", len(phone.got) > 50, "%d" % len(phone.got))
        write_wav(os.path.join(outdir, "phone.wav"),
                  [ulaw_dec(b) for p in phone.got for b in p])
    if badpwd:
        port = m_port(to_browser)[0]
        ufrag = re.search(r"a=ice-ufrag:(\S+)", to_browser).group(1)
        req = stun.Message(message_method=stun.Method.BINDING,
                           message_class=stun.Class.REQUEST)
        theirs = re.search(r"a=ice-ufrag:(\S+)", offer).group(1)
        req.attributes["USERNAME"] = ufrag + ":" + theirs
        req.attributes["PRIORITY"] = 1
        req.attributes["ICE-CONTROLLING"] = 1
        req.add_message_integrity(b"wrong-password-wrong-pw")
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        so.settimeout(1)
        so.sendto(bytes(req), (c_addr(to_browser), port))
        try:
            data = so.recv(2048)
            kind = struct.unpack("!H", data[:2])[0]
        except socket.timeout:
            kind = None
        # the right USERNAME, a wrong MESSAGE-INTEGRITY: dropped
        check("STUN with a wrong password: no answer", kind is None,
              "type %r" % kind)
    await pc.close()
    ng({"command": "delete", "call-id": cid, "from-tag": "browser"})


async def in2out():
    cid = "webrtc-%08x" % random.getrandbits(32)
    phone = Phone()
    r = ng({"command": "offer", "call-id": cid, "from-tag": "phone",
            "sdp": phone.sdp(), "direction": ["inside", "outside"],
            "ICE": "force", "transport-protocol": "UDP/TLS/RTP/SAVPF",
            "rtcp-mux": ["require"]})
    check("offer ok", r.get("result") == b"ok", repr(r))
    to_browser = r.get("sdp", b"").decode()
    save("offer.sdp", to_browser)
    check("offer to aiortc: UDP/TLS/RTP/SAVPF, setup:actpass, ICE",
          m_port(to_browser)[1] == "UDP/TLS/RTP/SAVPF" and
          "a=setup:actpass" in to_browser and "a=ice-ufrag:" in to_browser
          and "a=rtcp-mux" in to_browser, to_browser)
    pc = pc_new()
    got = {}

    @pc.on("track")
    def on_track(track):
        got["track"] = track

    await pc.setRemoteDescription(RTCSessionDescription(to_browser, "offer"))
    rec_path = os.path.join(outdir, "aiortc.wav")
    await pc.setLocalDescription(await pc.createAnswer())
    answer = pc.localDescription.sdp
    rec = None
    if "track" in got:
        rec = MediaRecorder(rec_path)
        rec.addTrack(got["track"])
        await rec.start()
    # aiortc checks and starts DTLS now; the ng answer comes later
    await asyncio.sleep(1.0)
    r = ng({"command": "answer", "call-id": cid, "from-tag": "phone",
            "to-tag": "browser", "sdp": answer, "ICE": "remove",
            "transport-protocol": "RTP/AVP", "rtcp-mux": ["demux"]})
    check("answer ok", r.get("result") == b"ok", repr(r))
    to_phone = r.get("sdp", b"").decode()
    save("answer.sdp", to_phone)
    check("answer to the phone is RTP/AVP, no ICE or DTLS",
          m_port(to_phone)[1] == "RTP/AVP" and not re.search(
              r"a=(ice-|candidate|fingerprint|setup)", to_phone), to_phone)
    ok = await wait_connected(pc, 8)
    check("aiortc connected (ICE and DTLS)", ok, pc.connectionState)
    await phone.play((c_addr(to_phone), m_port(to_phone)[0]), SECONDS)
    if rec is not None:
        await rec.stop()
    check("aiortc recorded", os.path.exists(rec_path), rec_path)
    await pc.close()
    ng({"command": "delete", "call-id": cid, "from-tag": "phone"})


def features(text):
    """What the comparison with rtpengine looks at in an SDP."""
    audio = text[text.find("m=audio"):]
    audio = audio[:audio.find("\nm=", 1)] if "\nm=" in audio[1:] else audio
    setup = re.search(r"a=setup:(\S+)", text)
    return {
        "profile": m_port(text)[1],
        "setup": setup.group(1) if setup else None,
        "ice-ufrag": "a=ice-ufrag:" in text,
        "ice-pwd": "a=ice-pwd:" in text,
        "candidate": "a=candidate:" in audio,
        "fingerprints": len(re.findall(r"a=fingerprint:", text)),
        "rtcp-mux": "a=rtcp-mux" in audio,
        "rtcp-fb": "a=rtcp-fb" in audio,
    }


def compare(name, ours, theirs, skip=()):
    fo, ft = features(ours), features(theirs)
    for k in fo:
        if k in skip:
            continue
        check("%s: %s as rtpengine's" % (name, k), fo[k] == ft[k],
              "srtp-bridge %r, rtpengine %r" % (fo[k], ft[k]))


async def compare_run(report):
    global ngport
    ports = {"srtp-bridge": ngport, "rtpengine": int(sys.argv[6])}
    # A: the browser offers; Kamailio's flags towards the phone
    pc = pc_new()
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    phone = Phone()
    out = {}
    for relay, port in ports.items():
        ngport = port
        cid = "cmp-a-%08x" % random.getrandbits(32)
        r = ng({"command": "offer", "call-id": cid, "from-tag": "browser",
                "sdp": offer, "direction": ["outside", "inside"],
                "ICE": "remove", "transport-protocol": "RTP/AVP",
                "rtcp-mux": ["demux"], "flags": ["trust-address"]})
        a = ng({"command": "answer", "call-id": cid, "from-tag": "browser",
                "to-tag": "phone", "sdp": phone.sdp(), "ICE": "force",
                "rtcp-mux": ["require"], "flags": ["trust-address"]})
        out[relay] = (r.get("sdp", b"").decode(), a.get("sdp", b"").decode())
        save("cmp-a-%s.sdp" % relay, out[relay][0] + "----\n" +
             out[relay][1])
        ng({"command": "delete", "call-id": cid, "from-tag": "browser"})
    compare("browser offers: offer to the phone", out["srtp-bridge"][0],
            out["rtpengine"][0])
    # rtpengine 10.5 answers actpass with active; issue 14 and srtp-bridge(1)
    # say passive (the browser then starts DTLS as soon as it has the
    # answer, and a ClientHello of ours cannot race the answer)
    compare("browser offers: answer to the browser", out["srtp-bridge"][1],
            out["rtpengine"][1], skip=("setup",))
    check("browser offers: answer setup: passive here, active in rtpengine",
          features(out["srtp-bridge"][1])["setup"] == "passive" and
          features(out["rtpengine"][1])["setup"] == "active",
          "%r %r" % (features(out["srtp-bridge"][1])["setup"],
                     features(out["rtpengine"][1])["setup"]))
    await pc.close()
    # B: the phone offers; Kamailio's flags towards the browser
    for relay, port in ports.items():
        ngport = port
        cid = "cmp-b-%08x" % random.getrandbits(32)
        r = ng({"command": "offer", "call-id": cid, "from-tag": "phone",
                "sdp": phone.sdp(), "direction": ["inside", "outside"],
                "ICE": "force", "transport-protocol": "UDP/TLS/RTP/SAVPF",
                "rtcp-mux": ["offer", "require"],
                "flags": ["trust-address"]})
        pc = pc_new()
        # aiortc cannot parse rtpengine's "a=rtcp:PORT" (no address)
        await pc.setRemoteDescription(RTCSessionDescription(re.sub(
            r"a=rtcp:\d+\r\n", "", r.get("sdp", b"").decode()), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        a = ng({"command": "answer", "call-id": cid, "from-tag": "phone",
                "to-tag": "browser", "sdp": pc.localDescription.sdp,
                "ICE": "remove", "transport-protocol": "RTP/AVP",
                "rtcp-mux": ["demux"], "flags": ["trust-address"]})
        out[relay] = (r.get("sdp", b"").decode(), a.get("sdp", b"").decode())
        save("cmp-b-%s.sdp" % relay, out[relay][0] + "----\n" +
             out[relay][1])
        await pc.close()
        ng({"command": "delete", "call-id": cid, "from-tag": "phone"})
    compare("phone offers: offer to the browser", out["srtp-bridge"][0],
            out["rtpengine"][0])
    compare("phone offers: answer to the phone", out["srtp-bridge"][1],
            out["rtpengine"][1])


def main():
    if scenario == "out2in":
        asyncio.run(out2in())
    elif scenario == "in2out":
        asyncio.run(in2out())
    elif scenario == "fpbad":
        asyncio.run(out2in(tamper=True))
    elif scenario == "badpwd":
        asyncio.run(out2in(badpwd=True))
    elif scenario == "compare":
        asyncio.run(compare_run(True))
    else:
        print("unknown scenario " + scenario)
        sys.exit(2)
    sys.exit(1 if failed else 0)


main()
