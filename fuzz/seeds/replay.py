#!/usr/bin/python3
# Seeds for fuzz_replay_capture and fuzz_replay_diff; writes
# corpus/replay_capture/<sha256> and corpus/replay_diff/<sha256>.
#
# replay_capture: byte 0 link type index (0 Ethernet, 1 raw IPv4, 2 SLL,
# 3 SLL2, 4 BSD loopback), byte 1 selection (bits 0-2 ns/dgm/ssn, bits 3-7
# --ssn-turns), then frames as 16-bit length + bytes. Taken from the
# classic-pcap captures under pcaps/ (provenance in pcaps/PROVENANCE.md),
# plus the same frames re-framed as raw IPv4 and SLL.
#
# replay_diff: byte 0 kind/flags, then (side, 16-bit length, bytes)
# messages. Recorded responses from those captures paired with Samba 4.17's
# live answers observed by tests/replay (lab run, Debian 4.17.12).
import glob, hashlib, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))


def frames(path):
    """Frames of a classic little/big-endian pcap with Ethernet link type."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        e = ">"
    else:
        return []  # pcapng: not used for seeds
    if struct.unpack(e + "I", data[20:24])[0] != 1:
        return []
    out, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack(e + "I", data[pos + 8:pos + 12])[0]
        out.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return out


def pack(link, sel, fr):
    return bytes([link, sel]) + b"".join(
        struct.pack(">H", len(f)) + f for f in fr)


def relink(fr, link):
    """Ethernet frames as raw IPv4 (1), SLL (2), SLL2 (3), loopback (4)."""
    out = []
    for f in fr:
        if f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        hdr = {1: b"",
               2: b"\x00\x00\x00\x01\x00\x06" + f[6:12] + b"\x00\x00\x08\x00",
               3: b"\x08\x00\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06"
                  + f[6:12] + b"\x00\x00",
               4: b"\x02\x00\x00\x00"}[link]
        out.append(hdr + ip)
    return out


def capture_seeds():
    seeds = []
    caps = sorted(glob.glob(os.path.join(root, "pcaps", "*", "*.pcap")))
    for path in caps:
        fr = frames(path)
        if not fr or len(fr) > 200:
            continue
        seeds.append(pack(0, 7, fr))
        if sum(map(len, fr)) >= 4096:  # keep the corpus small
            continue
        if any(len(f) > 54 and f[23] == 6 for f in fr):  # TCP: limit turns
            seeds.append(pack(0, 7 | (1 << 3), fr))
            seeds.append(pack(0, 4 | (2 << 3), fr))
        for link in (1, 2, 3, 4):
            seeds.append(pack(link, 7, relink(fr, link)))
    return seeds


def msg(side, b):
    return bytes([side]) + struct.pack(">H", len(b)) + b


def diff_seeds():
    h = bytes.fromhex
    fq_q = h("82c784000000000100000000204649464a454c4550454f434e444343414341"
             "4341434143414341434143414141000020000100000df4000600000a000106")
    samba_q = h("82c785800000000100000000204649464a454c4550454f434e44434341"
                "43414341434143414341434143414141000020000100"
                "03f48000060000c000020a")
    xp_q = h("d58e85000000000100000000204647454e4648454a454f46494641434143"
             "414341434143414341434143414341000020000100"
             "0493e000066000c0a8cf80")
    fq_s = h("82c684000000000100000000204649464a454c4550454f434e444343414341"
             "434143414341434143414341414100002100010000000000410158594b4f4e"
             "2d3220202020202020200004" + "00" * 46)
    fmt = h("8d8fad810000000100000000204647454e4648454a454f464946414341434143"
            "41434143414341434143414141000020000100000000000660"
            "00c0a8cf80")
    pos = h("82000000")
    neg = h("8300000182")
    smb1 = h("00000071ff534d4272000000008003400000000000000000000000000000"
             "01000000000011070003320001000441000000000100e05c0000fdf38000dd"
             "eb551cb879dd01")
    smb2 = h("000001c4fe534d4240000000000000000000010000000000000000000000"
             "0000000000000000000000000000000000000000")
    return [
        bytes([0]) + msg(0, fq_q) + msg(1, samba_q),
        bytes([0 | 8]) + msg(0, fq_q) + msg(1, fq_q),
        bytes([0]) + msg(0, xp_q) + msg(1, samba_q) + msg(1, samba_q),
        bytes([0 | 4]) + msg(0, xp_q) + msg(1, samba_q),
        bytes([0]) + msg(0, fq_s) + msg(1, fq_s[:70]),
        bytes([0]) + msg(1, fmt),
        bytes([2]) + msg(0, pos) + msg(1, neg),
        bytes([2 | 0x10]) + msg(0, smb1) + msg(1, smb1[:40]),
        bytes([2]) + msg(0, smb2) + msg(1, smb1),
        bytes([1]) + msg(0, h("130200011c0000020000008a" "82"))
        + msg(1, h("1302000200000000008a82")),
        bytes([1]),
    ]


for target, seeds in (("replay_capture", capture_seeds()),
                      ("replay_diff", diff_seeds())):
    out = os.path.join(root, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for s in seeds:
        with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(seeds)} seeds in {os.path.relpath(out, root)}")
