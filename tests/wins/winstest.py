"""Helpers for the WINS (NBNS server) tests: hand-built name-service
packets (RFC 1002 4.2, independent of nbtkit's codec), a client that keeps
many requests in flight, and nbtd started as a WINS server.

Binaries come from the environment (ctest sets them): NBTD, NBT. Every
process started here is stopped by its pid; traffic goes to loopback or to
lab namespaces the test made.
"""

import os
import select
import socket
import struct
import subprocess
import tempfile
import time

import nbtdtest as T

NBT = T.NBT

OP_QUERY, OP_REG, OP_REL, OP_WACK, OP_REFRESH, OP_MULTI = 0, 5, 6, 7, 8, 15
G = 0x8000
ONT_H = 0x6000


def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def raw_name(name, suffix):
    if isinstance(name, str):
        name = name.encode()
    pad = b"\0" if name == b"*" else b" "
    return name.ljust(15, pad)[:15] + bytes([suffix])


def encode_name(name, suffix=0x20, scope=b""):
    out = bytes([32]) + l1(raw_name(name, suffix))
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def ip_bytes(ip):
    return socket.inet_aton(ip)


def request(trn, opcode, name, suffix, entries, ttl=259200, rd=True,
            bcast=False):
    """A registration-kind request: opcode 5 (registration), 8 (refresh),
    6 (release) or 15 (multi-homed); `entries` is [(nb_flags, ip), ...] in
    the one additional NB record (C0 0C pointer, RFC 1002 4.2.2)."""
    flags = (opcode << 11) | (0x0100 if rd else 0) | (0x0010 if bcast else 0)
    hdr = struct.pack(">HHHHHH", trn, flags, 1, 0, 0, 1)
    q = encode_name(name, suffix) + struct.pack(">HH", 0x20, 1)
    rdata = b"".join(struct.pack(">H", f) + ip_bytes(a) for f, a in entries)
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 0x20, 1, ttl if opcode != OP_REL
                                   else 0, len(rdata)) + rdata
    return hdr + q + rr


def registration(trn, name, suffix, ip, group=False, ttl=259200,
                 opcode=OP_REG):
    return request(trn, opcode, name, suffix,
                   [((G if group else 0) | ONT_H, ip)], ttl)


def release(trn, name, suffix, ip, group=False):
    return request(trn, OP_REL, name, suffix,
                   [((G if group else 0) | ONT_H, ip)], rd=False)


def query(trn, name, suffix=0x20, rd=True):
    flags = 0x0100 if rd else 0
    return struct.pack(">HHHHHH", trn, flags, 1, 0, 0, 0) + \
        encode_name(name, suffix) + struct.pack(">HH", 0x20, 1)


def parse(pkt):
    """The header fields and, for answers with an NB record, its TTL and
    (nb_flags, ip) entries. Names are skipped, not decoded."""
    if len(pkt) < 12:
        return None
    trn, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", pkt[:12])
    out = {"trn": trn, "response": bool(flags & 0x8000),
           "opcode": (flags >> 11) & 0xF, "flags": flags,
           "rcode": flags & 0xF, "an": an, "ttl": None, "entries": [],
           "rrtype": None}
    off = 12
    for _ in range(qd):
        off = skip_name(pkt, off) + 4
    if an:
        off = skip_name(pkt, off)
        rrtype, _, ttl, rdlen = struct.unpack(">HHIH", pkt[off:off + 10])
        out["ttl"], out["rrtype"] = ttl, rrtype
        rd = pkt[off + 10:off + 10 + rdlen]
        if rrtype == 0x20:
            out["entries"] = [(struct.unpack(">H", rd[i:i + 2])[0],
                               socket.inet_ntoa(rd[i + 2:i + 6]))
                              for i in range(0, len(rd) - 5, 6)]
    return out


def skip_name(pkt, off):
    while True:
        n = pkt[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        if n == 0:
            return off + 1
        off += n + 1


class Client:
    """A UDP client for one server address; keeps requests by trn id."""

    def __init__(self, server, port, bind="127.0.0.1", timeout=2.0):
        self.server = (server, port)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.s.bind((bind, 0))
        self.s.setblocking(False)
        self.timeout = timeout
        self.trn = 0

    def next_trn(self):
        self.trn = (self.trn + 1) & 0xFFFF
        return self.trn

    def send(self, pkt):
        self.s.sendto(pkt, self.server)

    def recv(self, timeout=None):
        """One parsed response (or None on timeout)."""
        r, _, _ = select.select([self.s], [], [],
                                self.timeout if timeout is None else timeout)
        if not r:
            return None
        data, _ = self.s.recvfrom(2048)
        return parse(data)

    def ask(self, pkt, want_trn, timeout=None, skip_wack=True):
        """Send and wait for the response with `want_trn` (WACKs skipped:
        the wait is extended by their TTL, RFC 1002 4.2.16). `pkt` None:
        only wait."""
        if pkt is not None:
            self.send(pkt)
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            m = self.recv(max(0.0, deadline - time.monotonic()))
            if m is None:
                return None
            if m["trn"] != want_trn:
                continue
            if skip_wack and m["opcode"] == OP_WACK:
                deadline = time.monotonic() + m["ttl"] + 1
                continue
            return m
        return None

    def register(self, name, suffix, ip, group=False, ttl=259200,
                 opcode=OP_REG, timeout=None):
        t = self.next_trn()
        return self.ask(registration(t, name, suffix, ip, group, ttl, opcode),
                        t, timeout)

    def release(self, name, suffix, ip, group=False):
        t = self.next_trn()
        return self.ask(release(t, name, suffix, ip, group), t)

    def resolve(self, name, suffix=0x20, rd=True):
        """[ip, ...] of a positive answer, [] for NAM_ERR, None for none."""
        t = self.next_trn()
        m = self.ask(query(t, name, suffix, rd), t)
        if m is None:
            return None
        if m["rcode"] != 0:
            return []
        return [ip for _, ip in m["entries"]]

    def close(self):
        self.s.close()


# The datagram service's local socket defaults to /run/nbtd/dgram.sock,
# shared by every nbtd on the machine: the WINS tests do not need it.
DGRAM_OFF = ["--dgram-socket", ""]


def wins_daemon(port, db, addr="127.0.0.1", name="WINSSRV", extra=(),
                prefix=(), workdir=None):
    d = T.Nbtd(["--interface", f"{addr}/8", "--port", str(port),
                "--name", name, "--workgroup", "TESTGRP", "--nbns-server",
                "--db", db, "--rate-limit", "0", "--rate-limit-global", "0"]
               + DGRAM_OFF + list(extra), prefix=prefix, workdir=workdir)
    return d.start()


def wait_ready(client, name="WINSSRV", timeout=8.0):
    """Until the server answers a query for its own name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.resolve(name, 0x20):
            return True
        time.sleep(0.05)
    return False


def nbt_wins(*args, db):
    return subprocess.run([NBT, "wins", args[0], "--db", db]
                          + [str(a) for a in args[1:]],
                          capture_output=True, text=True, timeout=60)


def tmpdir():
    d = tempfile.mkdtemp(prefix="nbtd-wins-")
    os.chmod(d, 0o777)  # nbtd drops root to nobody: the WAL lives here
    return d
