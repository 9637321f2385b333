#!/usr/bin/python3
# Seeds for fuzz_ssnsrv: scripted sessions of the session server and
# forwarder pump (format in fuzz/ssnsrv.c). Writes corpus/ssnsrv/<sha256>.
# Provenance: hand-written from RFC 1002 4.3 / 5.2 and the exchanges of
# tests/unit/test_ssnsrv.c; the client request and SMB1 negotiate bytes
# of the "scanner" seed are the shapes of the seed's scanner capture
# (pcaps/node-netbios/netbios-ssn-full-scanner-winxp.pcap, BSD-2-Clause).
import hashlib, os, struct, sys

CLIENT, BACKEND, EOF, RESET, CONNECT, STEP, WRITE, SWAP, FLUSH, TICK, BULK, PASS = range(12)
CLI, BAK = 0, 1
OK, REFUSED, FAILED = 0, 1, 2


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(text, suffix=0x20):
    return bytes([32]) + l1(text.ljust(15, b" ")[:15] + bytes([suffix])) + b"\0"


def request(called, calling=b"SCANNER"):
    body = name(called) + name(calling, 0)
    return bytes([0x81, 0, 0, len(body)]) + body


def msg(body, direct=False):
    n = len(body)
    if direct or n > 0x1FFFF:
        return struct.pack(">I", n) + body
    return bytes([0, (n >> 16) & 1, (n >> 8) & 255, n & 255]) + body


def ev(op, payload=b""):
    out = b""
    payload = bytes(payload)
    while True:  # split long payloads into 255-byte events
        out += bytes([op, min(len(payload), 255)]) + payload[:255]
        payload = payload[255:]
        if not payload or op not in (CLIENT, BACKEND):
            return out


def hdr(cfg=0, cap=60):
    return bytes([cfg, cap])


KA = b"\x85\0\0\0"
SMB2 = b"\xfeSMB" + bytes(60)
SMB1_NEG = b"\xffSMBr" + bytes(27) + b"\x00\x0c\x00\x02NT LM 0.12\x00"

seeds = {
    "direct": hdr() + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, KA + msg(SMB2) + KA) + ev(BACKEND, msg(SMB2, True) + KA)
    + ev(CLIENT, msg(b"x" * 300)) + ev(BACKEND, msg(b"y" * 700, True))
    + ev(EOF, [CLI]) + ev(EOF, [BAK]),
    "pipelined": hdr(8) + ev(CLIENT, request(b"a") + msg(SMB1_NEG))
    + ev(CONNECT, [OK]) + ev(WRITE, [BAK, 10, 0]) + ev(BACKEND, msg(SMB1_NEG, True))
    + ev(WRITE, [CLI, 3, 0]) + ev(FLUSH),
    "nbt": hdr() + ev(CLIENT, request(b"B")) + ev(CONNECT, [OK])
    + ev(BACKEND, KA + b"\x82\0\0\0" + msg(b"hello")) + ev(CLIENT, msg(b"hi"))
    + ev(RESET, [BAK]),
    "nbt-negative": hdr() + ev(CLIENT, request(b"B")) + ev(CONNECT, [OK])
    + ev(BACKEND, b"\x83\0\0\x01\x82") + ev(CLIENT, b"junk") + ev(EOF, [CLI]),
    "nbt-retarget": hdr() + ev(CLIENT, request(b"B")) + ev(CONNECT, [OK])
    + ev(BACKEND, b"\x84\0\0\x06\x0a\0\0\x09\0\x8b") + ev(STEP, [0x88, 0x13]),
    "refusals": hdr() + ev(CLIENT, request(b"R")) + ev(EOF, [CLI]),
    "reject": hdr() + ev(CLIENT, KA + request(b"J")) + ev(TICK),
    "own": hdr() + ev(CLIENT, request(b"OWN")),
    "busy": hdr(1) + ev(CLIENT, request(b"A")),
    "unreachable": hdr() + ev(CLIENT, request(b"A")) + ev(CONNECT, [REFUSED]),
    "connect-timeout": hdr() + ev(CLIENT, request(b"A")) + ev(TICK) + ev(TICK),
    "silent": hdr() + ev(TICK),
    "garbage": hdr() + ev(CLIENT, msg(b"\xffSMB")),
    "bad-request": hdr() + ev(CLIENT, b"\x81\0\0\x44" + b"\x20" + b"Z" * 67),
    "keepalive-idle": hdr(6) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(TICK) + ev(BACKEND, b"\0\0\0\x04ab") + ev(TICK) + ev(BACKEND, b"cd")
    + ev(TICK) + ev(TICK) + ev(TICK),
    "backpressure": hdr(8, 4) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, msg(bytes(range(256)) * 12)) + ev(WRITE, [BAK, 100, 0])
    + ev(CLIENT, msg(b"z" * 1000)) + ev(WRITE, [BAK, 0, 4]) + ev(SWAP, [BAK])
    + ev(FLUSH) + ev(SWAP, [BAK]) + ev(SWAP, [BAK]),
    "large-smb2": hdr(0, 255) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, msg(SMB2)) + ev(BACKEND, msg(SMB2, True))
    + ev(BACKEND, msg(bytes(range(256)) * 514 + b"!", True))
    + ev(CLIENT, msg(b"w" * 0x20001, True)),
    "bulk-smb2": hdr(0, 200) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, msg(SMB2)) + ev(BACKEND, msg(SMB2, True))
    + ev(BULK, [BAK, 0x00, 0x40, 7]) + ev(BULK, [CLI, 0x10, 0x08, 9])
    + ev(EOF, [BAK]),
    "bulk-async": hdr(8, 30) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(BACKEND, msg(SMB2, True)) + ev(BULK, [BAK, 0x00, 0x10, 1])
    + ev(WRITE, [CLI, 0, 16]) + ev(BULK, [BAK, 0x00, 0x10, 2]) + ev(FLUSH),
    "bulk-oversize": hdr() + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(BULK, [BAK, 0x01, 0x08, 3]),
    "passthrough": hdr() + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, msg(SMB2)) + ev(BACKEND, b"\0\0\x03\0\xfeSMB")
    + ev(PASS, [BAK] + [7] * 254) + ev(PASS, [BAK] + [8] * 254)
    + ev(BACKEND, bytes(260)) + ev(CLIENT, b"\0\0\x01\0" + b"c" * 10)
    + ev(PASS, [CLI] + [9] * 254) + ev(EOF, [CLI]) + ev(EOF, [BAK]),
    "oversize": hdr() + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(BACKEND, b"\0\x02\0\0" + b"q" * 10),
    "half-close": hdr(8) + ev(CLIENT, request(b"A")) + ev(CONNECT, [OK])
    + ev(CLIENT, msg(b"a" * 50)) + ev(EOF, [CLI]) + ev(WRITE, [BAK, 20, 0])
    + ev(BACKEND, msg(b"b" * 40, True)) + ev(FLUSH) + ev(EOF, [BAK]),
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "corpus", "ssnsrv")
os.makedirs(out, exist_ok=True)
for label, s in seeds.items():
    digest = hashlib.sha256(s).hexdigest()
    with open(os.path.join(out, digest), "wb") as f:
        f.write(s)
    if "-v" in sys.argv:
        print(digest, label, len(s))
print(f"{len(seeds)} seeds in {os.path.normpath(out)}")
