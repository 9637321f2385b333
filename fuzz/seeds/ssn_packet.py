#!/usr/bin/python3
# Seeds for fuzz_ssn_packet: byte 0 = mode (bit 0: 0 RFC, 1 direct), then
# one session packet (RFC 1002 4.3). Writes corpus/ssn_packet/<sha256>.
# Provenance: RFC 1002 4.3 diagrams and 4.1 (FRED.NETBIOS.COM); the scanner
# capture pcaps/node-netbios/netbios-ssn-full-scanner-winxp.pcap
# (BSD-2-Clause); tshark-oracle-probe frames 25-35 and 43 in
# shared/pcaps-external/generated/; Samba's 83 00 00 01 82
# (notes/samba-behaviour.md); hand-made bad shapes (reserved flag bits,
# pointers, trailing bytes, the seed library's E bit 0x80).
# Also imported by ssn_framer.py for its packet builders.
import hashlib
import os
import struct


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def name(text, suffix=0x20, scope=b""):
    raw = text.ljust(15, b" ")[:15] + bytes([suffix])
    out = bytes([32]) + l1(raw)
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def header(t, length, direct=False):
    if direct:
        return bytes([t]) + struct.pack(">I", length)[1:]
    return bytes([t, (length >> 16) & 1]) + struct.pack(">H", length & 0xFFFF)


def request(called, calling):
    body = called + calling
    return header(0x81, len(body)) + body


def message(data, direct=False):
    return header(0, len(data), direct) + data


POSITIVE = bytes.fromhex("82000000")
KEEPALIVE = bytes.fromhex("85000000")


def negative(code):
    return bytes.fromhex("83000001") + bytes([code])


def retarget(ip, port):
    return bytes.fromhex("84000006") + bytes(ip) + struct.pack(">H", port)


SCANNER_REQUEST = request(name(b"VMWINXP", 0x20), name(b"PRINTER", 0x00))
SMB1_NEGOTIATE = bytes.fromhex(
    "ff534d4272000000000001000000000000000000000000000000010000000000"
    "008700025043204e4554574f524b2050524f4752414d20312e30000258454e49"
    "5820434f524500024d4943524f534f4654204e4554574f524b5320312e303300"
    "024c414e4d414e312e30000257696e646f777320666f7220576f726b67726f75"
    "707320332e316100024c4d312e325830303200024c414e4d414e322e3100024e"
    "54204c4d20302e313200")
SMB1_TREE_DISCONNECT = bytes.fromhex(
    "ff534d4271000000000000000000000000000000000000000008010000084000000000")
SMB2_HEAD = b"\xfeSMB" + bytes(60)


def seeds():
    rfc = []
    rfc.append(SCANNER_REQUEST)
    rfc.append(POSITIVE)
    rfc += [negative(c) for c in (0x80, 0x81, 0x82, 0x83, 0x8F, 0x84, 0x00)]
    rfc.append(retarget((10, 0, 0, 1), 139))
    rfc.append(retarget((192, 168, 1, 2), 4139))
    rfc.append(KEEPALIVE)
    rfc.append(message(SMB1_NEGOTIATE))
    rfc.append(message(SMB1_TREE_DISCONNECT))
    rfc.append(message(b""))
    rfc.append(message(SMB2_HEAD))
    rfc.append(message(b"\xfdSMB" + bytes(48)))
    rfc.append(request(name(b"FRED", 0x20, b"NETBIOS.COM"),
                       name(b"CLIENT", 0x00, b"NETBIOS.COM")))
    rfc.append(request(name(b"*SMBSERVER", 0x20), name(b"CLIENT", 0x00)))
    long_scope = b".".join([b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 28])
    rfc.append(request(name(b"A", 0x20, long_scope), name(b"B", 0, long_scope)))
    # tshark-oracle-probe frames 25-35, 43
    rfc.append(request(name(b"SERVER", 0x20), name(b"CLIENT", 0x00)))
    rfc += [bytes.fromhex(h) for h in (
        "8200000100", "830000028000", "85020000", "0001000441424344",
        "86000000", "00000000", "0000000568656c6c6f")]
    # bad shapes
    called = name(b"VMWINXP", 0x20)
    rfc.append(header(0x81, 68) + called + b"\xc0\x04" + bytes(32))  # pointer
    rfc.append(header(0x81, 69) + called + name(b"PRINTER", 0) + b"\xff")
    rfc.append(header(0x81, 68) + called + name(b"PRINTER", 0, b"com"))
    rfc.append(header(0x81, 0))
    rfc.append(bytes.fromhex("810001ff") + bytes(0x1ff))
    rfc.append(bytes.fromhex("00800005") + b"hello")  # the seed's E bit
    rfc.append(bytes.fromhex("00010005") + b"hello")  # E set, cut short
    rfc.append(header(0x81, 68) + b"\x1f" + called[1:32] + b"\0" + bytes(35))
    rfc.append(bytes.fromhex("8300000182"))  # Samba's only negative
    out = [b"\x00" + p for p in rfc]
    direct = [message(SMB2_HEAD, True), KEEPALIVE, bytes.fromhex("85000001"),
              bytes.fromhex("00ffffff") + b"\xfeSMB", SCANNER_REQUEST,
              message(b"", True), bytes.fromhex("00020000") + bytes(16)]
    out += [b"\x01" + p for p in direct]
    return out


def write(target, items):
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.normpath(os.path.join(here, "..", "..", "corpus", target))
    os.makedirs(out, exist_ok=True)
    for s in items:
        with open(os.path.join(out, hashlib.sha256(s).hexdigest()), "wb") as f:
            f.write(s)
    print(f"{len(items)} seeds in {out}")


if __name__ == "__main__":
    write("ssn_packet", seeds())
