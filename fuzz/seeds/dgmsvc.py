#!/usr/bin/python3
# Seeds for fuzz_dgmsvc: scripted sessions of the datagram service engine
# (see the format in fuzz/dgmsvc.c). Writes corpus/dgmsvc/<sha256>.
# Provenance: hand-written from RFC 1002 5.3 (reception, B/P node sending,
# the NBDD) and the exchanges in tests/unit/test_dgmsvc.c; the raw packets
# are the shapes of the conformance lab's datagram probes
# (conformance/nbtlab/probes/dgm.py: bad names, label pointers, fragments,
# MSG_TYPE 0x20) and of the application protocol in docs/DATAGRAM-API.md.
import hashlib
import os
import struct
import sys

PACKET, STEP, TICK, NAME, UNNAME, BIND, UNBIND, SEND, ANSWER, CRAFT, API = \
    range(11)
B, P, M, H = 0, 1, 2, 3
TWO_IFACES, NBDD, NO_QUERY, NBDD_ROLE, SCOPE, TIGHT = 4, 8, 16, 32, 64, 128
# names (fuzz/dgmsvc.c name_text)
XYKON20, XYKON00, GRP1E, GRP1D, NBTTEST, STAR, XYKON03, LONG = range(8)
# CRAFT kinds
C_UNIQUE, C_GROUP, C_BCAST, C_FRAG1, C_FRAG2, C_QUERY, C_ERROR, C_ANSWER = \
    range(8)


def hdr(bits, seed=0x5eed, payload=224):
    return bytes([bits, seed & 255, seed >> 8, payload])


def ev(op, *payload):
    body = bytes(payload)
    return bytes([op, len(body)]) + body


def evb(op, body):
    return bytes([op, len(body)]) + body


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(n, suffix, pad=b" "):
    return b"\x20" + l1(n.ljust(15, pad)[:15] + bytes([suffix])) + b"\x00"


def dgram(t, flags, dgm_id, names, data, offset=0, length=None):
    body = names + data
    length = len(body) if length is None else length
    return struct.pack(">BBHIHHH", t, flags, dgm_id, 0xC000020A, 138, length,
                       offset) + body


def raw(src, flags, pkt):
    return evb(PACKET, bytes([src, flags]) + pkt)


def craft(kind, src=0, frm=NBTTEST, dst=XYKON20, dgm_id=1, bits=0,
          data=b"hello"):
    return evb(CRAFT, bytes([kind, src, frm, dst, dgm_id, bits]) + data)


def api(line):
    return evb(API, line.encode())


OWN = name(b"NBTTEST", 0) + name(b"XYKON-2", 0x20)
own = ev(NAME, XYKON20, 0) + ev(NAME, XYKON00, 0) + ev(NAME, GRP1E, 1)
binds = ev(BIND, XYKON20, 0) + ev(BIND, 0, 1 | 4) + ev(BIND, 0, 2 | 4)

seeds = {
    "receive-all-kinds": hdr(B) + own + binds
    + craft(C_UNIQUE) + craft(C_UNIQUE, dst=NBTTEST) + craft(C_GROUP, dst=GRP1E)
    + craft(C_GROUP, dst=GRP1D, bits=2) + craft(C_BCAST, dst=STAR, bits=2),
    "fragments": hdr(B) + own + binds + craft(C_FRAG2, data=b"x" * 200)
    + craft(C_FRAG1, data=b"x" * 200) + craft(C_FRAG1, dgm_id=9, data=b"y" * 240)
    + ev(TICK) + ev(STEP, 0xd0, 0x07),
    "raw-probes": hdr(B) + own
    + raw(0, 0, dgram(0x10, 2, 0x1234, OWN, b"nbtkit lab datagram"))
    + raw(0, 0, dgram(0x10, 2, 2, name(b"NBTTEST", 0) + name(b"NOSUCH", 0x20),
                      b"x"))
    + raw(0, 1, dgram(0x11, 2, 3, name(b"NBTTEST", 0) + name(b"NOGRP", 0x1e),
                      b"x"))
    + raw(0, 0, dgram(0x10, 2, 4, b"\x1f" + b"A" * 31 + b"\x00" +
                      name(b"XYKON-2", 0x20), b"x"))
    + raw(0, 0, dgram(0x10, 2, 5, name(b"NBTTEST", 0) + b"\xc0\x0e", b"x"))
    + raw(0, 0, dgram(0x10, 0xf2, 6, OWN, b"reserved"))
    + raw(0, 0, dgram(0x10, 2, 7, OWN, b"x", length=999))
    + raw(0, 0, dgram(0x10, 3, 8, OWN, b"first only"))
    + raw(0, 0, dgram(0x10, 0, 8, b"", b"second", offset=40, length=46))
    + raw(0, 0, bytes([0x20, 2, 0, 1, 192, 0, 2, 10, 0, 138]) + b"\x00" * 8)
    + raw(0, 0, b"\x13\x00\x00\x09\xc0\x00\x02\x0a\x00\x8a\x82")
    + raw(0, 0, b"\x10\x02\x00") + raw(0, 0, b""),
    "send-b": hdr(B) + own + ev(SEND, 0, XYKON00, NBTTEST, 7, 0) + b"hi"[:0]
    + evb(SEND, bytes([0, XYKON00, NBTTEST, 7, 0]) + b"to resolve")
    + ev(ANSWER, 0, 0, 1, 0) + evb(SEND, bytes([0, XYKON00, GRP1E, 7, 0]) + b"g")
    + ev(ANSWER, 0, 1, 2, 0, 1) + evb(SEND, bytes([2, XYKON00, GRP1D, 7, 0]))
    + evb(SEND, bytes([1, XYKON00, GRP1D, 7, 0]) + b"announce")
    + evb(SEND, bytes([0, XYKON00, NBTTEST, 0, 0]) + b"z" * 250)
    + evb(SEND, bytes([0, XYKON00, NBTTEST, 7, 2]) + b"over 512")
    + evb(SEND, bytes([0, NBTTEST, XYKON20, 7, 0]) + b"not ours")
    + evb(SEND, bytes([0, NBTTEST, XYKON20, 7, 1]) + b"any source")
    + ev(ANSWER, 1, 0, 0) + ev(ANSWER, 2, 0, 0) + ev(TICK) + ev(TICK),
    "send-p-nbdd": hdr(P | NBDD) + own
    + evb(SEND, bytes([1, XYKON00, GRP1E, 7, 0]) + b"g") + craft(C_ANSWER, bits=1)
    + evb(SEND, bytes([1, XYKON00, GRP1E, 7, 0]) + b"g") + craft(C_ANSWER)
    + ev(ANSWER, 0, 1, 3, 0, 1, 7) + evb(SEND, bytes([2, XYKON00, 0, 7, 0]))
    + ev(TICK) + ev(TICK) + ev(TICK) + ev(ANSWER, 0, 1, 1, 1),
    "send-m-nbdd-noquery": hdr(M | NBDD | NO_QUERY | TWO_IFACES) + own
    + evb(SEND, bytes([2, XYKON00, 0, 7, 0]) + b"bc")
    + evb(SEND, bytes([0, XYKON00, GRP1E, 7, 0]) + b"g") + ev(ANSWER, 0, 1, 1, 1),
    "nbdd-role": hdr(B | NBDD_ROLE | TWO_IFACES) + own
    + craft(C_QUERY, src=3, dst=GRP1E) + craft(C_QUERY, src=3, bits=2)
    + craft(C_GROUP, src=3, dst=GRP1D) + craft(C_BCAST, src=3, dst=STAR)
    + craft(C_UNIQUE, src=3, dst=NBTTEST),
    "errors-back": hdr(B) + own + evb(SEND, bytes([0, XYKON00, NBTTEST, 0, 0]) + b"u")
    + craft(C_ERROR, src=0, dgm_id=0) + craft(C_ERROR, src=0, dgm_id=1, bits=2),
    "rate-limit": hdr(B | TIGHT) + b"".join(
        raw(0, 0, dgram(0x10, 2, i, name(b"A", 0) + name(b"NO", 0x20), b"x"))
        for i in range(8)) + ev(STEP, 0xe8, 0x03) + raw(
        0, 0, dgram(0x10, 2, 9, name(b"A", 0) + name(b"NO", 0x20), b"x")),
    "scope": hdr(H | SCOPE) + own + binds + craft(C_UNIQUE) + craft(C_BCAST,
                                                                    dst=STAR)
    + raw(0, 0, dgram(0x10, 2, 3, OWN, b"unscoped")),
    "p-node-bcast": hdr(P) + own + binds + craft(C_GROUP, dst=GRP1E, bits=2),
    "api-lines": hdr(B) + api("BIND b1 XYKON-2<20>") + api("BIND b2 *")
    + api("BIND b3 TESTGRP<1d> group") + api("MONITOR m") + api("UNBIND u 7")
    + api("SEND s name - NBTTEST<20> 68656c6c6f")
    + api("SEND s broadcast MY\\x20NAME<00> * - 192.0.2.10")
    + api("PING p") + api("OK p pong") + api("ERR s ELIMIT user data over 512")
    + api("DGRAM 3 group 192.0.2.10:138 NBTTEST<20> TESTGRP<1d> B 00ff")
    + api("SENT s unique 2 192.0.2.10") + api("DERR s 82 192.0.2.10")
    + api("SEND s name A B 6") + api("BIND  x"),
}


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = os.path.join(root, "corpus", "dgmsvc")
    if len(sys.argv) > 1:
        out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for label, data in seeds.items():
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(out, digest), "wb") as f:
            f.write(data)
        print(f"{digest}  {label} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
