#!/usr/bin/python3
# Seeds for fuzz_nsnode: scripted sessions of the name-service node engine
# (see the format in fuzz/nsnode.c). Writes corpus/nsnode/<sha256>.
# Provenance: hand-written from RFC 1002 5.1 (B/P/M node procedures) and
# the exchanges in tests/unit/test_nsnode.c; the malformed packets are the
# shapes of shared/notes/samba-behaviour.md section 6 (CVE-2020-14303
# empty packet, pointer loop, 11-byte packet, huge counts).
import hashlib, os, sys

PACKET, STEP, TICK, ADD, REMOVE, FIND, STATUS, SHUTDOWN, CANCEL, REPLY, ASK = range(11)
# REPLY kinds (index into reply_kinds in fuzz/nsnode.c)
POS_REG, NEG_REG, CHALLENGE, CONFLICT, POS_REL, NEG_REL, POS_Q, NEG_Q, REDIRECT, WACK, STATUS_RESP = range(11)
# ASK kinds
A_QUERY, A_STATUS, A_REG, A_OVERWRITE, A_RELEASE, A_CONFLICT, A_REFRESH, A_MULTI = range(8)
B, P, M, H = 0, 1, 2, 3


def hdr(bits, seed=0x1234):
    return bytes([bits, seed & 255, seed >> 8, 0])


def ev(op, *payload):
    body = bytes(payload)
    return bytes([op, len(body)]) + body


def raw(src, flags, pkt):
    return bytes([PACKET, len(pkt) + 2, src, flags]) + pkt


def reply(kind, rcode=0, ttl=0, addr=0, src=0, entries=0):
    return ev(REPLY, kind, rcode, ttl & 255, ttl >> 8, addr, src, entries)


def ticks(k):
    return ev(TICK) * k


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


FRED = b"\x20" + l1(b"FRED" + b" " * 11 + b"\x20") + b"\x00"
query_fred = bytes.fromhex("1234 0110 0001 0000 0000 0000") + FRED + b"\x00\x20\x00\x01"

seeds = {
    "b-claim-silence": hdr(B) + ev(ADD, 0, 0) + ticks(4) + ev(ASK, A_QUERY, 0, 0, 1)
    + ev(ASK, A_STATUS, 0, 1, 0) + ev(REMOVE, 0) + ticks(4),
    "b-claim-refused": hdr(B) + ev(ADD, 0, 0) + reply(NEG_REG, 5, 0, 1, 0x80),
    "b-claim-refused-late": hdr(B) + ev(ADD, 0, 0) + ticks(2) + ev(STEP, 100, 0)
    + reply(NEG_REG, 5, 0, 1, 0x80) + ticks(2),
    "b-defend": hdr(B) + ev(ADD, 0, 0) + ev(ADD, 3, 1) + ticks(4)
    + ev(ASK, A_REG, 0, 0, 1) + ev(ASK, A_REG, 3, 0, 3) + ev(ASK, A_REG, 3, 0, 1)
    + ev(ASK, A_OVERWRITE, 0, 1, 1) + ev(ASK, A_CONFLICT, 0, 0, 4)
    + ev(ASK, A_STATUS, 0, 0, 8) + ev(REMOVE, 0) + ev(SHUTDOWN) + ticks(4),
    "b-find-conflict": hdr(B) + ev(FIND, 2, 0, 0, 0, 0) + reply(POS_Q, 0, 300, 0, 0x80, 1)
    + reply(POS_Q, 0, 300, 1, 0x81, 1) + ev(FIND, 2, 0, 0, 0, 0) + ticks(6),
    "b-find-collect-group": hdr(B) + ev(FIND, 3, 1, 2, 0, 0) + reply(POS_Q, 0, 60, 0, 0x80, 0x81)
    + reply(POS_Q, 0, 60, 1, 0x81, 0x81) + ticks(4) + ev(FIND, 3, 0, 0, 0, 0),
    "p-register-wack-refresh": hdr(P) + ev(ADD, 1, 0) + reply(WACK, 0, 10) + ticks(1)
    + reply(POS_REG, 0, 120) + ticks(1) + reply(POS_REG, 0, 600) + ticks(1)
    + reply(NEG_REG, 4) + ev(REMOVE, 1),
    "p-release": hdr(P) + ev(ADD, 1, 0) + reply(POS_REG, 0, 600) + ev(REMOVE, 1)
    + reply(POS_REL) + ev(ADD, 2, 1) + reply(POS_REG, 0, 0)
    + ev(ASK, A_RELEASE, 2, 2, 0),
    "p-find-redirect": hdr(P) + ev(FIND, 0, 0, 0, 0, 0) + reply(REDIRECT, 0, 60, 3)
    + reply(POS_Q, 0, 60, 0, 0, 3) + ev(FIND, 0, 0, 0, 0, 0),
    "p-find-negative": hdr(P | 64) + ev(FIND, 6, 2, 0, 0, 0) + reply(NEG_Q, 2)
    + ev(FIND, 6, 0, 0, 0, 0) + ev(STEP, 0x88, 0x13) + ev(FIND, 6, 0, 0, 0, 0) + ticks(4),
    "p-challenge": hdr(P) + ev(ADD, 0, 0) + reply(CHALLENGE, 0, 600, 1) + ticks(3)
    + reply(POS_REG, 0, 600),
    "p-two-servers": hdr(P | 8) + ev(ADD, 0, 0) + ev(FIND, 4, 0, 0, 0, 0) + ticks(8),
    "m-register": hdr(M) + ev(ADD, 4, 0) + ticks(3) + reply(POS_REG, 0, 300)
    + ev(REMOVE, 4) + reply(POS_REL) + ticks(4),
    "h-fallback": hdr(H) + ev(ADD, 0, 0) + ticks(7) + ev(FIND, 7, 0, 0, 0, 0)
    + reply(NEG_Q, 2) + ticks(4),
    "status-client": hdr(B) + ev(STATUS, 0, 9) + reply(STATUS_RESP, 0, 0, 0, 0, 3)
    + ev(STATUS, 4, 1) + ticks(4) + ev(CANCEL, 0),
    "malformed": hdr(B) + ev(ADD, 0, 0) + ticks(4) + raw(0, 0, b"") + raw(0, 0, b"\x00" * 11)
    + raw(1, 0, bytes.fromhex("1234 0110 0001 0000 0000 0000 c00c 0020 0001"))
    + raw(1, 0, bytes.fromhex("1234 0110 0005 0000 0000 0000"))
    + raw(2, 1, query_fred) + raw(5, 3, query_fred),
    "two-ifaces-ratelimit": hdr(4 | 128) + ev(ADD, 0, 0) + ticks(4)
    + ev(ASK, A_QUERY, 0, 7, 1) * 6 + ev(ASK, A_QUERY, 0, 0, 0) * 4 + ev(STEP, 0xe8, 3)
    + ev(ASK, A_QUERY, 0, 0, 0),
    "shutdown-midway": hdr(M) + ev(ADD, 0, 0) + ev(ADD, 3, 1) + ev(FIND, 5, 0, 0, 0, 5)
    + ev(STEP, 100, 0) + ev(SHUTDOWN) + ev(ADD, 1, 0) + ticks(10),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "corpus", "nsnode")
os.makedirs(out, exist_ok=True)
for name, s in seeds.items():
    digest = hashlib.sha256(s).hexdigest()
    with open(os.path.join(out, digest), "wb") as f:
        f.write(s)
    if "-v" in sys.argv:
        print(digest, name)
print(f"{len(seeds)} seeds in {os.path.normpath(out)}")
