#!/usr/bin/python3
# Seeds for fuzz_nbns: scripted sessions of the NBNS (WINS) server engine
# (see the format in fuzz/nbns.c). Writes corpus/nbns/<sha256>.
# Provenance: hand-written from RFC 1002 5.1.4 (NBNS procedures) and the
# exchanges of tests/unit/test_nbns.c; the malformed requests are the
# shapes the issue names (QDCOUNT 0, ARCOUNT 0, an empty NB RDATA as in
# Samba's CVE-2026-3238, a wrong opcode).
import hashlib, os, struct, sys

PACKET, STEP, TICK, REQ, ANSWER, FLUSH, FAIL, RESTART, ADMIN = range(9)
REG, REF8, REF9, MULTI, REL, QRD, QNORD, OVER = range(8)
TINY_TABLE, TTL_CAP, TINY_JOURNAL, TINY_QUEUE, TWO_IPS, STATICS = 1, 2, 4, 8, 16, 32
G = 1
H_ONT = 6  # bits 1-2 = 3: H node
ELSEWHERE = 0x80


def hdr(bits=0, seed=0x1234):
    return bytes([bits, seed & 255, seed >> 8, 0])


def ev(op, *payload):
    body = bytes(payload)
    return bytes([op, len(body)]) + body


def req(kind, name, addr, flags=H_ONT, ttl=40, n=1):
    return ev(REQ, kind, name, addr, flags, ttl, n)


def ans(pos, *addrs, flags=0):
    return ev(ANSWER, 1 if pos else 0, flags, *addrs)


def step(ms):
    return ev(STEP, ms & 255, (ms >> 8) & 255, (ms >> 16) & 255)


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def raw(src, pkt, bcast=False):
    return bytes([PACKET, len(pkt) + 2, src, 1 if bcast else 0]) + pkt


NAME = b"\x20" + l1(b"FRED" + b" " * 11 + b"\x00") + b"\x00"
Q = NAME + struct.pack(">HH", 0x20, 1)
RR = b"\xc0\x0c" + struct.pack(">HHIH", 0x20, 1, 3600, 6) + \
    struct.pack(">H", 0x6000) + bytes([192, 0, 2, 20])
REG_OK = struct.pack(">HHHHHH", 0x4242, 0x2900, 1, 0, 0, 1) + Q + RR
QD0 = struct.pack(">HHHHHH", 0x4243, 0x2900, 0, 0, 0, 1) + RR
AR0 = struct.pack(">HHHHHH", 0x4244, 0x2900, 1, 0, 0, 0) + Q
EMPTY = struct.pack(">HHHHHH", 0x4245, 0x2900, 1, 0, 0, 1) + Q + \
    b"\xc0\x0c" + struct.pack(">HHIH", 0x20, 1, 3600, 0)
EMPTY_MH = struct.pack(">HHHHHH", 0x4246, 0x7900, 1, 0, 0, 1) + Q + \
    b"\xc0\x0c" + struct.pack(">HHIH", 0x20, 1, 3600, 0)
OP3 = struct.pack(">HHHHHH", 0x4247, 0x1900, 1, 0, 0, 1) + Q + RR
A_REC = struct.pack(">HHHHHH", 0x4248, 0x2900, 1, 0, 0, 1) + Q + \
    b"\xc0\x0c" + struct.pack(">HHIH", 0x01, 1, 3600, 4) + bytes([1, 2, 3, 4])

seeds = {
    "register-query-release": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(QRD, 0, 2)
    + req(QNORD, 0, 2) + req(REF8, 0, 0) + req(REF9, 0, 0) + ev(FLUSH)
    + req(REL, 0, 0, flags=H_ONT | ELSEWHERE) + req(REL, 0, 0) + ev(FLUSH)
    + req(QRD, 0, 2),
    "expiry": hdr() + req(REG, 1, 1, ttl=1) + ev(FLUSH) + step(400000) + ev(TICK)
    + ev(FLUSH) + req(QRD, 1, 2),
    "conflict-defended": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1)
    + ans(True, 0) + ev(FLUSH) + req(QRD, 0, 2),
    "conflict-released": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1)
    + ans(False) + ev(FLUSH) + req(QRD, 0, 2),
    "conflict-silent": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1)
    + req(REG, 0, 1) + ev(TICK) + ev(TICK) + ev(TICK) + ev(FLUSH) + req(QRD, 0, 2),
    "conflict-wrong-source": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1)
    + ans(True, 0, flags=1 | (3 << 1)) + ev(TICK) + ev(TICK) + ev(TICK) + ev(FLUSH),
    "two-claimants": hdr() + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1)
    + req(REG, 0, 2) + ev(TICK) + ev(TICK) + ev(TICK) + ev(FLUSH) + ans(True, 1)
    + ev(TICK) + ev(FLUSH),
    "groups": hdr() + req(REG, 2, 0, flags=G | H_ONT) + req(REG, 2, 1, flags=G | H_ONT)
    + req(REG, 2, 2) + ev(FLUSH) + req(QRD, 2, 3) + req(REL, 2, 0, flags=G)
    + ev(FLUSH) + req(REG, 0, 0) + ev(FLUSH) + req(REG, 0, 1, flags=G) + ans(False),
    "multihomed": hdr() + req(MULTI, 0, 0, n=2) + ev(FLUSH) + req(MULTI, 4, 0)
    + ev(FLUSH) + req(MULTI, 4, 3) + ans(True, 0, 3) + ev(FLUSH) + req(MULTI, 4, 4)
    + ans(True, 0, 3) + req(MULTI, 3, 1, flags=G | H_ONT) + ev(FLUSH),
    "statics": hdr(STATICS | TWO_IPS) + req(REG, 3, 0, flags=G | H_ONT) + req(REG, 3, 1)
    + req(REG, 5, 0) + ev(FLUSH) + ev(RESTART) + req(QRD, 3, 2),
    "restart-and-fail": hdr() + req(REG, 0, 0) + req(REG, 1, 1) + ev(FAIL)
    + ev(FLUSH) + ev(RESTART) + req(QRD, 0, 2) + ev(ADMIN, 0, 6, 4)
    + ev(ADMIN, 1, 0) + ev(FLUSH) + ev(RESTART),
    "tiny-caps": hdr(TINY_TABLE | TINY_JOURNAL | TINY_QUEUE)
    + b"".join(req(REG, i, i) for i in range(8)) + ev(FLUSH)
    + b"".join(req(REG, i, i + 1) for i in range(8)) + ev(TICK) + ev(FLUSH),
    "ttl-cap": hdr(TTL_CAP) + req(REG, 0, 0, ttl=255) + req(REG, 1, 0, ttl=0)
    + ev(FLUSH),
    # found by fuzz_nbns (fixed): the owner of a multi-homed unique name
    # re-registers it as a group; the other member kept its unique flags
    "owner-turns-group": hdr() + req(MULTI, 0, 0, n=2) + ev(FLUSH)
    + req(REG, 0, 0, flags=G | H_ONT) + ev(FLUSH) + req(QRD, 0, 2),
    "malformed": hdr() + raw(0, REG_OK) + raw(1, QD0) + raw(1, AR0) + raw(1, EMPTY)
    + raw(1, EMPTY_MH) + raw(1, OP3) + raw(1, A_REC) + raw(2, b"") + raw(2, REG_OK[:11])
    + raw(0, REG_OK, bcast=True) + ev(FLUSH),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "corpus", "nbns")
os.makedirs(out, exist_ok=True)
for data in seeds.values():
    with open(os.path.join(out, hashlib.sha256(data).hexdigest()), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
