#!/usr/bin/env python3
"""pcap-shuffle.py - reorder and duplicate the TCP data segments of a pcap.

    pcap-shuffle.py IN OUT [--window N] [--dup K] [--drop I] [--from F]
                           [--keep M]

Reads a classic pcap (as tcpdump -w writes it, Ethernet or Linux cooked
link), and writes the same frames with the TCP segments that carry data
reversed within windows of N (default 3) and every K-th of them (default
4) written twice; --drop I leaves out the I-th data segment (a loss);
--from F drops every frame before the F-th (a capture that began
mid-connection); --keep M leaves the first M data segments after each SYN
in order (the handshakes). Reordering never moves data across a SYN. Timestamps are kept in output order so the file stays
monotonic. Written for the pcap-decrypt TLS tests: independent of lib/cap.
"""
import struct
import sys


def frames(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        magic = struct.unpack('<I', hdr[:4])[0]
        if magic not in (0xa1b2c3d4, 0xa1b23c4d):
            sys.exit('pcap-shuffle: %s: not a little-endian pcap' % path)
        link = struct.unpack('<I', hdr[20:24])[0]
        out = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            ts, tu, cl, wl = struct.unpack('<IIII', rh)
            out.append([ts, tu, wl, f.read(cl)])
        return hdr, link, out


def l3_off(link, data):
    off = {1: 14, 113: 16, 276: 20}.get(link)
    if off is not None and link == 1 and data[12:14] == b'\x81\x00':
        off += 4
    return off


def is_syn(link, data):
    off = l3_off(link, data)
    if off is None:
        return False
    v = data[off] >> 4
    if v == 4 and data[off + 9] == 6:
        t = off + (data[off] & 15) * 4
    elif v == 6 and data[off + 6] == 6:
        t = off + 40
    else:
        return False
    return data[t + 13] & 0x12 == 0x02


def tcp_payload_len(link, data):
    off = {1: 14, 113: 16, 276: 20}.get(link)
    if off is None:
        return 0
    if link == 1 and data[12:14] == b'\x81\x00':
        off += 4
    v = data[off] >> 4
    if v == 4:
        if data[off + 9] != 6:
            return 0
        ihl = (data[off] & 15) * 4
        tot = struct.unpack('>H', data[off + 2:off + 4])[0]
        thl = (data[off + ihl + 12] >> 4) * 4
        return tot - ihl - thl
    if v == 6:
        if data[off + 6] != 6:
            return 0
        plen = struct.unpack('>H', data[off + 4:off + 6])[0]
        thl = (data[off + 40 + 12] >> 4) * 4
        return plen - thl
    return 0


def main():
    a = sys.argv[1:]
    opt = {'--window': 3, '--dup': 4, '--drop': 0, '--from': 0, '--keep': 0}
    pos = []
    i = 0
    while i < len(a):
        if a[i] in opt:
            opt[a[i]] = int(a[i + 1])
            i += 2
        else:
            pos.append(a[i])
            i += 1
    hdr, link, fr = frames(pos[0])
    fr = fr[max(opt['--from'] - 1, 0):]
    data = [k for k, f in enumerate(fr) if tcp_payload_len(link, f[3]) > 0]
    # a window never spans a SYN (a connection's data stays after it)
    epochs, cur = [], []
    for k, f in enumerate(fr):
        if is_syn(link, f[3]):
            epochs.append(cur)
            cur = []
        if k in data:
            cur.append(k)
    epochs.append(cur)
    order = list(range(len(fr)))
    w = opt['--window']
    for ep in epochs:
        for s in range(opt['--keep'], len(ep) - w + 1, w):
            idx = ep[s:s + w]
            for j, k in enumerate(idx):
                order[k] = idx[len(idx) - 1 - j]
    out = []
    n = 0
    for k in order:
        if k in data:
            n += 1
            if opt['--drop'] and n == opt['--drop']:
                continue
            out.append(fr[k])
            if opt['--dup'] and n % opt['--dup'] == 0:
                out.append(fr[k])
        else:
            out.append(fr[k])
    ts = sorted((f[0], f[1]) for f in out)
    with open(pos[1], 'wb') as f:
        f.write(hdr)
        for (t, u), x in zip(ts, out):
            f.write(struct.pack('<IIII', t, u, len(x[3]), x[2]) + x[3])


main()
