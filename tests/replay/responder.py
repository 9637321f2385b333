"""A tiny scripted NetBIOS responder for `nbt replay`'s meta-tests.

It answers from a capture: each UDP 137 request it receives is looked up
among the capture's requests (same bytes after the transaction id), and
the responses the capture's server sent to that request are sent back with
the new transaction id and the capture server's IPv4 address replaced by
our own wherever those four bytes occur. On TCP 139 (optional) the
client's session packets are answered, turn by turn, with the server's
packets recorded after each one.

--corrupt makes it answer wrongly in exactly one field, so that the replay
must fail:
  ns-flags   the first response to the capture's first NS request gets
             RA toggled in its flags word
  ns-addr    ... gets the last byte of its RDATA (an NB address) moved by one
  ssn-neg    a POSITIVE SESSION RESPONSE becomes NEGATIVE (0x83 0x82)

Bounded: it exits after --lifetime seconds (default 60), or with
--watch-stdin on EOF on stdin. Prints "ready" on stdout once its sockets
are bound.

Usage: responder.py --pcap FILE --bind IP [--ns-port N] [--ssn-port N]
                    [--corrupt WHAT] [--lifetime S] [--watch-stdin]
"""

import argparse
import select
import socket
import struct
import sys
import threading
import time

from scapy.all import IP, TCP, UDP, rdpcap  # Debian's python3-scapy


def load(path):
    """(server address, {request minus id: [responses]}, [(client packet,
    [server packets])]) from a capture; the server is the source of the
    first NS response or of the first TCP 139 segment."""
    pkts = rdpcap(path)
    server = None
    ns = {}
    last_req = {}
    c2s, s2c = b"", b""
    order = []  # ("c"|"s", bytes so far) in capture order
    for p in pkts:
        if IP not in p:
            continue
        ip = p[IP]
        if UDP in p and (ip[UDP].dport == 137 or ip[UDP].sport == 137):
            data = bytes(ip[UDP].payload)
            if len(data) < 12:
                continue
            tid, flags = struct.unpack("!HH", data[:4])
            if not flags & 0x8000 and ip[UDP].dport == 137:
                key = data[2:]
                ns.setdefault(key, [])
                last_req[(ip.src, ip[UDP].sport, tid)] = key
            elif flags & 0x8000 and ip[UDP].sport == 137:
                server = server or ip.src
                key = last_req.get((ip.dst, ip[UDP].dport, tid))
                if key is not None:
                    ns[key].append(data)
        elif TCP in p and (ip[TCP].dport == 139 or ip[TCP].sport == 139):
            data = bytes(ip[TCP].payload)
            if not data:
                continue
            if ip[TCP].dport == 139:
                c2s += data
                order.append(("c", len(c2s)))
            else:
                server = server or ip.src
                s2c += data
                order.append(("s", len(s2c)))
    return server, ns, turns(c2s, s2c, order)


def cut(stream):
    """Session packets (RFC 1002 4.3.1: 17-bit length, E bit 0x01)."""
    out, pos = [], 0
    while pos + 4 <= len(stream):
        n = ((stream[pos + 1] & 1) << 16) | struct.unpack(
            "!H", stream[pos + 2:pos + 4])[0]
        out.append((pos + 4 + n, stream[pos:pos + 4 + n]))
        pos += 4 + n
    return out


def turns(c2s, s2c, order):
    """Pair each client packet with the server packets that ended before
    the next client packet ended (in capture order). A fixture for clean,
    in-order captures only."""
    cp, sp = cut(c2s), cut(s2c)
    result = []
    ci = si = 0
    cdone = sdone = 0
    for side, upto in order:
        if side == "c":
            cdone = upto
            while ci < len(cp) and cp[ci][0] <= cdone:
                result.append((cp[ci][1], []))
                ci += 1
        else:
            sdone = upto
            while si < len(sp) and sp[si][0] <= sdone and result:
                result[-1][1].append(sp[si][1])
                si += 1
    return result


def corrupt_ns(data, what):
    b = bytearray(data)
    if what == "ns-flags":
        b[3] ^= 0x80  # RA (RFC 1002 4.2.1.1)
    elif what == "ns-addr" and len(b) >= 6:
        b[-1] = (b[-1] + 1) & 0xFF  # last byte of the (last) NB address
    return bytes(b)


def serve_udp(sock, server, own, ns, corrupt, stop):
    """Answer every request; with --corrupt ns-*, the first response to the
    capture's first request is the wrong one, every time it is asked."""
    srv = socket.inet_aton(server) if server else None
    mine = socket.inet_aton(own)
    first_key = next(iter(ns), None)
    while not stop.is_set():
        r, _, _ = select.select([sock], [], [], 0.2)
        if not r:
            continue
        data, peer = sock.recvfrom(2048)
        for i, resp in enumerate(ns.get(data[2:], [])):
            out = data[:2] + resp[2:]
            if srv:
                out = out.replace(srv, mine)
            if corrupt.startswith("ns-") and i == 0 and data[2:] == first_key:
                out = corrupt_ns(out, corrupt)
            sock.sendto(out, peer)


def read_packet(conn):
    hdr = b""
    while len(hdr) < 4:
        chunk = conn.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    n = ((hdr[1] & 1) << 16) | struct.unpack("!H", hdr[2:4])[0]
    body = b""
    while len(body) < n:
        chunk = conn.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return hdr + body


def serve_tcp(lsock, script, corrupt, stop):
    while not stop.is_set():
        r, _, _ = select.select([lsock], [], [], 0.2)
        if not r:
            continue
        conn, _ = lsock.accept()
        conn.settimeout(5)
        try:
            for _, answers in script:
                if read_packet(conn) is None:
                    break
                for a in answers:
                    if corrupt == "ssn-neg" and a[0] == 0x82:
                        a = b"\x83\x00\x00\x01\x82"
                    conn.sendall(a)
        except OSError:
            pass
        finally:
            conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--bind", required=True)
    ap.add_argument("--ns-port", type=int, default=137)
    ap.add_argument("--ssn-port", type=int, default=0)
    ap.add_argument("--corrupt", default="")
    ap.add_argument("--lifetime", type=float, default=60)
    ap.add_argument("--watch-stdin", action="store_true")
    a = ap.parse_args()
    server, ns, script = load(a.pcap)
    stop = threading.Event()
    threads = []
    us = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    us.bind((a.bind, a.ns_port))
    threads.append(threading.Thread(
        target=serve_udp, args=(us, server, a.bind, ns, a.corrupt, stop)))
    if a.ssn_port:
        ts = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ts.bind((a.bind, a.ssn_port))
        ts.listen(4)
        threads.append(threading.Thread(
            target=serve_tcp, args=(ts, script, a.corrupt, stop)))
    for t in threads:
        t.daemon = True
        t.start()
    print("ready", flush=True)
    deadline = time.monotonic() + a.lifetime
    while time.monotonic() < deadline:
        if not a.watch_stdin:
            time.sleep(0.2)
            continue
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if r and not sys.stdin.buffer.read1(1):
            break
    stop.set()


if __name__ == "__main__":
    main()
