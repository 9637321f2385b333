#!/usr/bin/python3
# Seeds for fuzz_ssn_framer: byte 0 = options (bit 0 direct mode, bit 1
# switch to direct after the first message, bits 2-3 max size), byte 1 =
# number of split points N (low 4 bits), 2N bytes of split points, then
# one direction of a session stream. Writes corpus/ssn_framer/<sha256>.
# Provenance: the TCP 139/445 streams of pcaps/node-netbios/
# netbios-ssn-full-scanner-winxp.pcap (BSD-2-Clause), pcaps/zeek/
# netbios-{split,truncated}-session-msg.pcap (BSD-3-Clause) and
# pcaps/arkime/wireshark-smb-on-windows10.pcap (Apache-2.0), reassembled
# here by sequence number; plus generated streams of every packet kind.
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssn_packet as P  # noqa: E402

ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def pcap_streams(path):
    """Classic little-endian pcap, Ethernet, IPv4, TCP: one byte string per
    direction of each connection, ordered by sequence number."""
    data = open(path, "rb").read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", path
    pos, segs = 24, {}
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ihl = (frame[14] & 15) * 4
        total = struct.unpack(">H", frame[16:18])[0]
        tcp = frame[14 + ihl:14 + total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        payload = tcp[(tcp[12] >> 4) * 4:]
        key = (frame[26:30], sport, frame[30:34], dport)
        if payload:
            segs.setdefault(key, {})[seq] = payload
    out = []
    for key, by_seq in segs.items():
        direct = 445 in (key[1], key[3])
        out.append((direct, b"".join(by_seq[s] for s in sorted(by_seq))))
    return out


def seed(stream, opts=0, cuts=()):
    head = bytes([opts, len(cuts)])
    return head + b"".join(struct.pack(">H", c) for c in cuts) + stream


def generated():
    every = (P.SCANNER_REQUEST + P.POSITIVE + P.message(P.SMB1_NEGOTIATE) +
             P.KEEPALIVE + P.message(b"") + P.negative(0x82) +
             P.retarget((10, 0, 0, 1), 139) + P.message(b"\xffSMB" + bytes(20)))
    switch = (P.request(P.name(b"SERVER"), P.name(b"CLIENT", 0)) + P.POSITIVE +
              P.message(P.SMB2_HEAD) +
              P.message(b"\xfeSMB" + bytes(0x20000), True) + P.KEEPALIVE +
              P.message(b"\xfeSMB" + bytes(8), True))
    direct = (P.message(P.SMB2_HEAD, True) + P.KEEPALIVE +
              P.message(b"\xfeSMB" + bytes(200), True))
    ebit = P.message(b"\xffSMB" + bytes(0x10001)) + P.KEEPALIVE
    return [
        seed(every), seed(every, 0, (1, 2, 3, 70, 73, 200)),
        seed(every, 4), seed(every, 8, (5,)),
        seed(switch, 2, (75, 76, 77, 150)),
        seed(direct, 1, (2, 100)), seed(direct, 0),
        seed(ebit, 0, (1, 3, 0x8000)),
        seed(bytes.fromhex("00800005") + b"hello", 0, (2,)),
        seed(P.KEEPALIVE + bytes.fromhex("86000000")),
        seed(P.KEEPALIVE + bytes.fromhex("0000ffff") + b"A" * 100, 0, (6,)),
    ]


def main():
    items = generated()
    for rel in ("node-netbios/netbios-ssn-full-scanner-winxp.pcap",
                "zeek/netbios-split-session-msg.pcap",
                "zeek/netbios-truncated-session-msg.pcap",
                "arkime/wireshark-smb-on-windows10.pcap"):
        for direct, stream in pcap_streams(os.path.join(ROOT, "pcaps", rel)):
            opts = 1 if direct else 0
            items.append(seed(stream, opts))
            items.append(seed(stream, opts, (1, 3, 5, 40, 77, 300)))
    P.write("ssn_framer", items)


if __name__ == "__main__":
    main()
