#!/usr/bin/python3
"""The deliberately wrong responder: the lab's proof that it can fail.

A small UDP 137 server that answers name queries and node status requests
the way nmbd 4.17 does for the same configuration (names, flags, TTLs,
name re-encoding, silence rules: shared/notes/samba-behaviour.md 2.3-2.4)
- except for ONE field, chosen with --field:

  ra      positive query responses have RA=0 (0x8500 instead of 0x8580)
  ttl     positive query responses carry TTL max_ttl+1
  addr    positive query responses carry the address + 1
  status  node status entries lack the ACT flag (0x0000 instead of 0x0400)
  crash   exits on a datagram shorter than the 12-byte header (the
          empty-packet class of bug, CVE-2020-14303): the liveness check
          after a malformed packet must catch it
  none    nothing is wrong: the control that shows the responder is
          otherwise byte-identical to nmbd on the query/status probes

Run inside the dut host by the lab (duts.wrong_slot); never on a real
network. WARNING: parses untrusted network data (through nbwire, which
bounds-checks every read).
"""

import argparse
import os
import select
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from nbtlab import nbwire  # noqa: E402

MAX_TTL = 259200


def decode_question(data):
    """nmbd's view of the first question: the 16 name bytes interpreted as
    a C string (cut at NUL), trailing spaces dropped; the suffix; scope."""
    raw, scope, end = nbwire.read_name(data, 12)
    if end + 4 > len(data):
        raise nbwire.WireError(end, "question", "truncated")
    qtype, _qclass = struct.unpack_from(">HH", data, end)
    body = raw[:15].split(b"\0", 1)[0].rstrip(b" ")
    return body, raw[15], scope, qtype


def encode_like_nmbd(body, suffix, scope):
    """put_nmb_name: pad with spaces, or NULs when the name is exactly '*';
    case as received."""
    pad = b"\0" if body == b"*" else b" "
    raw = body + pad * (15 - len(body)) + bytes([suffix])
    return nbwire.encode_name(raw, scope)


class Responder:
    def __init__(self, a):
        self.addr = a.addr
        self.field = a.field
        self.own = a.name.upper().encode()
        self.scope = "" if a.scope in ("", "-") else a.scope
        aliases = [x for x in a.aliases.split(",") if x and x != "-"]
        self.unique = {}
        for n in [a.name] + aliases:
            for t in (0x00, 0x03, 0x20):
                self.unique[(n.upper().encode(), t)] = 0x0000
        self.group = {(a.workgroup.upper().encode(), t): 0x8000
                      for t in (0x00, 0x1E)}
        self.permanent = {(b"*", 0x00): 0, (b"*", 0x20): 0,
                          (b"__SAMBA__", 0x00): 0, (b"__SAMBA__", 0x20): 0}

    def lookup(self, body, suffix, scope):
        if scope.upper() != self.scope.upper():
            return None
        key = (body.upper(), suffix)
        for table in (self.unique, self.group, self.permanent):
            if key in table:
                return table[key]
        return None

    def handle(self, data):
        if len(data) < 12:
            if self.field == "crash":
                sys.exit(3)
            return None
        trn, flags, qd = struct.unpack_from(">HHH", data, 0)
        f = nbwire.decode_flags(flags)
        if f["r"] or f["opcode"] != 0 or qd == 0:
            return None
        try:
            body, suffix, scope, qtype = decode_question(data)
        except nbwire.WireError:
            return None
        nbf = self.lookup(body, suffix, scope)
        name = encode_like_nmbd(body, suffix, scope)
        if qtype == nbwire.T_NB:
            return self.query_reply(trn, f, name, nbf)
        if qtype == nbwire.T_NBSTAT and nbf is not None:
            return self.status_reply(trn, name)
        return None

    def query_reply(self, trn, f, name, nbf):
        if nbf is None:
            if f["b"] or f["rd"]:
                return None   # no negative to broadcasts, none with RD=1
            return nbwire.build_ns(trn, 0x8583,
                                   answers=[(name, nbwire.T_NULL, 0, b"")])
        flags, ttl, addr = 0x8580, MAX_TTL, self.addr
        if self.field == "ra":
            flags &= ~0x0080
        elif self.field == "ttl":
            ttl += 1
        elif self.field == "addr":
            parts = addr.split(".")
            addr = ".".join(parts[:3] + [str((int(parts[3]) + 1) % 256)])
        rdata = struct.pack(">H", nbf) + socket.inet_aton(addr)
        return nbwire.build_ns(trn, flags,
                               answers=[(name, nbwire.T_NB, ttl, rdata)])

    def status_reply(self, trn, name):
        entries = [(n, t, fl) for (n, t), fl in self.unique.items()]
        entries += [(n, t, fl) for (n, t), fl in self.group.items()]
        entries.sort(key=lambda e: (e[0] != self.own,
                                    e[0].ljust(15) + bytes([e[1]])))
        act = 0x0000 if self.field == "status" else 0x0400
        rd = bytes([len(entries)])
        for n, t, fl in entries:
            rd += n.ljust(15) + bytes([t]) + struct.pack(">H", fl | act)
        rd += b"\0" * 46
        return nbwire.build_ns(trn, 0x8400,
                               answers=[(name, nbwire.T_NBSTAT, 0, rd)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--aliases", default="-")
    ap.add_argument("--workgroup", required=True)
    ap.add_argument("--scope", default="-")
    ap.add_argument("--field", default="ra",
                    choices=("ra", "ttl", "addr", "status", "crash", "none"))
    a = ap.parse_args()
    r = Responder(a)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("0.0.0.0", 137))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"wrong responder on {a.addr}:137, field '{a.field}' off",
          flush=True)
    while True:
        # stdin is the lab's pipe: EOF means the lab is gone.
        ready, _, _ = select.select([s, sys.stdin], [], [])
        if sys.stdin in ready and not sys.stdin.buffer.read1(1):
            return 0
        if s in ready:
            data, peer = s.recvfrom(2048)
            reply = r.handle(data)
            if reply is not None:
                s.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
