#!/usr/bin/python3
# Seeds for fuzz_dgm_reassembly (the script format is in
# fuzz/dgm_reassembly.c): two config bytes, then operations
#   0 STEP n | 1 RAW len bytes | 2 SEND ip id lenhi lenlo max order drops gap
# Written to corpus/dgm_reassembly/<sha256>. Hand-made scenarios: in order,
# reversed, duplicates, gaps that expire, tight caps, raw fragments that
# collide with a sent datagram's key, and a Windows 98 browser datagram.
import hashlib, os, struct

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))


def send(ip=0, dgm_id=1, length=512, mx=40, order=0, drops=0, gap=10,
         fill=b""):
    return bytes([2, ip, dgm_id, length >> 8, length & 255, mx, order, drops,
                  gap]) + fill


def step(n):
    return bytes([0, n])


def raw(payload):
    return bytes([1, len(payload)]) + payload


def frag(offset, data, more, dgm_id=1, ip=0x0A000000, length=600):
    flags = 0x01 if more else 0x00
    return (struct.pack(">BBHIHHH", 0x11, flags, dgm_id, ip, 138, length,
                        offset) + data)


cfg_default = bytes([15, 255])
cfg_tight = bytes([1, 10])  # one slot, 641 bytes
seeds = [
    cfg_default + send(),
    cfg_default + send(order=0x80),  # reversed
    cfg_default + send(order=1, drops=0x03),  # repeats
    cfg_default + send(order=0x41, drops=0x02),  # a gap
    cfg_default + send(order=0x41, drops=0x02) + step(200) + step(0),
    cfg_default + send(gap=255, mx=0),  # FRAGMENT_TO passes mid-datagram
    cfg_default + send(length=100, mx=255),  # a whole datagram
    cfg_tight + send(dgm_id=1) + send(dgm_id=2),  # eviction
    cfg_tight + send(length=600 % 513, mx=0),
    bytes([3, 255]) + b"".join(send(ip=i % 4, dgm_id=i, order=i * 37 % 256,
                                    drops=i * 11 % 256, gap=i) for i in range(8)),
    cfg_default + raw(frag(300, b"\xee" * 40, True, dgm_id=1)) + send(),
    cfg_default + send(order=0x41, drops=0x01) + raw(frag(100, b"z" * 20,
                                                          True)),
    cfg_default + raw(frag(0, b"x" * 10, True)) + raw(frag(580, b"y" * 20,
                                                           False)),
    cfg_default + step(255) * 4 + send(fill=bytes(range(256)) * 2),
]
# A real browser datagram (Windows 98 HostAnnouncement, arkime frame 30).
w98 = bytes.fromhex(
    "1102000cc0a8ef81008a00bb000020454e4545454b4643444a44494341434143"
    "4143414341434143414341434141410020464845504643454c45484643455046"
    "464641434143414341434143414341424e00ff534d4225000000000000000000"
    "0000000000000000000000000000000000001100002100000000000000000000"
    "00000000000000000021005600030001000100020032005c4d41494c534c4f54"
    "5c42524f57534500010360ea00004d444a523938000000000000000000000400"
    "03204000150455aa00")
seeds.append(cfg_default + raw(w98))

out = os.path.join(root, "corpus", "dgm_reassembly")
os.makedirs(out, exist_ok=True)
for s in seeds:
    with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
        f.write(s)
print(f"{len(seeds)} seeds in {os.path.relpath(out, root)}")
