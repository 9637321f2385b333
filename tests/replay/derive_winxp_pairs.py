"""Derive request/response pairs from the Windows XP response-only captures,
so that `nbt replay` can compare Windows XP's own answers with Samba's.

The node-netbios captures hold Windows XP's responses without the requests
that caused them. A name-service response names what was asked: RR_NAME is
the question name, RR_TYPE the question type, the transaction id is the
request's, and RD is echoed from the request (RFC 1002 4.2.1.1, 4.2.13,
4.2.18). Each derived capture is

  frame 1  a request rebuilt from those fields: unicast (B=0) from the
           response's destination to its source, UDP 137 to 137, RD as the
           response has it, QUESTION_CLASS IN;
  frame 2  the original response frame, byte for byte, 1 ms later.

What is not known and chosen: the requester's MAC addresses (locally
administered 02:00:00:00:00:01/02), the IP id/TTL, and B=0 (the responses
are unicast; Windows answers unicast queries).

Run from the repository root:
  /usr/bin/python3 tests/replay/derive_winxp_pairs.py SHARED_PCAPS_DIR
It writes pcaps/node-netbios-derived/*.pcap (listed in pcaps/PROVENANCE.md).
"""

import os
import struct
import sys

from scapy.all import IP, UDP, Ether, PcapWriter, Raw, rdpcap

PAIRS = [
    ("netbios-ns-b-positive-response-winxp.pcap", "winxp-query-pair.pcap"),
    ("netbios-ns-b-nbstat-response-winxp.pcap", "winxp-status-pair.pcap"),
]


def rr_name_end(payload):
    """Offset after the RR_NAME at 12 (labels, no pointers in these)."""
    pos = 12
    while payload[pos] != 0:
        pos += 1 + payload[pos]
    return pos + 1


def request_for(payload):
    tid, flags = struct.unpack("!HH", payload[:4])
    end = rr_name_end(payload)
    name = payload[12:end]
    rrtype = payload[end:end + 2]
    rd = flags & 0x0100  # RD is echoed (RFC 1002 4.2.1.1)
    hdr = struct.pack("!HHHHHH", tid, rd, 1, 0, 0, 0)
    return hdr + name + rrtype + b"\x00\x01"


def derive(src, dst):
    resp = rdpcap(src)[0]
    ip = resp[IP]
    req = (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
           / IP(src=ip.dst, dst=ip.src, id=1, ttl=128)
           / UDP(sport=ip[UDP].dport, dport=ip[UDP].sport)
           / Raw(request_for(bytes(ip[UDP].payload))))
    req.time = float(resp.time) - 0.001
    w = PcapWriter(dst, linktype=1, sync=True)
    w.write(req)
    w.write(resp)
    w.close()


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else \
        "/work/shared/pcaps-external/node-netbios"
    out = os.path.join("pcaps", "node-netbios-derived")
    os.makedirs(out, exist_ok=True)
    for src, dst in PAIRS:
        derive(os.path.join(shared, src), os.path.join(out, dst))
        print(os.path.join(out, dst))


if __name__ == "__main__":
    main()
