"""nbtkit's codec as the lab uses it: the `nbt` command line.

- ``nbt build ns|ssn|dgm KIND ...`` prints one packet as a line of hex; the
  probes build their requests with it.
- ``nbt decode --json --proto ns|dgm|ssn HEX`` parses a packet; every reply
  the lab records is also decoded this way and shown in the report next to
  the lab's own reader (nbwire.py) and tshark.
- ``nbt name encode`` gives a name's second-level bytes.

When a subcommand is missing from the build (it is written in parallel
with the lab) or refuses the arguments, the request is assembled by
nbwire.py instead, and the packet records which builder made it, so the
report says whether nbtkit's builder was exercised. Malformed packets are
raw bytes by design and never go through a builder.
"""

import functools
import glob
import json
import os
import shutil
import subprocess

from . import nbwire

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def find_nbt():
    """$NBT, else build/release's nbt (what scripts/conformance builds),
    else the most recently built build/*/src/tools/nbt, else PATH."""
    env = os.environ.get("NBT")
    if env:
        return env if os.access(env, os.X_OK) else None
    release = os.path.join(ROOT, "build", "release", "src", "tools", "nbt")
    if os.access(release, os.X_OK):
        return release
    found = [p for p in glob.glob(os.path.join(ROOT, "build", "*", "src",
                                               "tools", "nbt"))
             if os.access(p, os.X_OK)]
    if found:
        return max(found, key=os.path.getmtime)
    return shutil.which("nbt")


class Packet(bytes):
    """Bytes plus the name of what built them ('nbt', 'lab', 'raw')."""

    builder = "raw"

    @classmethod
    def of(cls, data, builder):
        p = cls(data)
        p.builder = builder
        return p


class Codec:
    def __init__(self, nbt=None):
        self.nbt = nbt if nbt is not None else find_nbt()
        self.fallbacks = []  # (argv, reason) for the report

    def _run(self, args, timeout=10):
        if not self.nbt:
            return None
        try:
            p = subprocess.run([self.nbt] + [str(a) for a in args],
                               capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as e:
            return subprocess.CompletedProcess(args, 127, "", str(e))
        return p

    @functools.lru_cache(maxsize=None)
    def supports(self, *words):
        """Whether `nbt WORDS... --help` exits 0 (the subcommand exists)."""
        p = self._run(list(words) + ["--help"])
        return p is not None and p.returncode == 0

    @functools.lru_cache(maxsize=4096)
    def _build(self, proto, argv):
        if not self.supports("build", proto):
            return None
        p = self._run(["build", proto] + list(argv))
        if p.returncode != 0:
            self.fallbacks.append((["build", proto] + list(argv),
                                   p.stderr.strip()[:200]))
            return None
        lines = p.stdout.split()
        try:
            if len(lines) != 1:
                raise ValueError
            return bytes.fromhex(lines[0])
        except ValueError:
            self.fallbacks.append((["build", proto] + list(argv),
                                   "output is not hex"))
            return None

    # names

    @functools.lru_cache(maxsize=None)
    def name(self, text):
        """Second-level bytes of NAME<XX>.scope (nbt name encode)."""
        p = self._run(["name", "encode", text])
        if p is not None and p.returncode == 0:
            lines = p.stdout.split()
            if len(lines) >= 2:
                return bytes.fromhex(lines[1])
        return nbwire.name_bytes(text)

    # name service (RFC 1002 4.2)

    def ns(self, kind, name, trn, bcast=False, rd=None, addr=None, ttl=None,
           group=False, ont="b"):
        """A name-service request: query, status, register, overwrite,
        refresh, release, multihomed."""
        argv = [kind, "--name", name, "--trn", str(trn)]
        if bcast:
            argv.append("--bcast")
        if kind == "query" and rd is False:
            argv.append("--no-rd")
        if addr is not None:
            argv += ["--addr", addr]
        if ttl is not None:
            argv += ["--ttl", str(ttl)]
        if group:
            argv.append("--group")
        if kind not in ("query", "status"):
            argv += ["--ont", ont]
        out = self._build("ns", tuple(argv))
        if out is not None:
            return Packet.of(out, "nbt")
        return Packet.of(self._ns_lab(kind, name, trn, bcast, rd, addr, ttl,
                                      group, ont), "lab")

    def ns_other(self, kind, argv, fallback):
        """Any other `nbt build ns KIND` (responses, demands: query-response,
        wack, redirect, conflict-demand ...) with the lab's assembly as
        fallback (a callable returning bytes)."""
        out = self._build("ns", tuple([kind] + [str(a) for a in argv]))
        if out is not None:
            return Packet.of(out, "nbt")
        return Packet.of(fallback(), "lab")

    _NS_KINDS = {  # opcode, RD default (RFC 1002 4.2.2-4.2.4, 4.2.9, 4.2.12,
        # 4.2.17; multihomed is opcode 15 as Windows and Samba send it)
        "query": (0, True), "status": (0, False), "register": (5, True),
        "overwrite": (5, False), "refresh": (8, False),
        "release": (6, False), "multihomed": (15, True)}

    def _ns_lab(self, kind, name, trn, bcast, rd, addr, ttl, group, ont):
        opcode, rd_default = self._NS_KINDS[kind]
        rd = rd_default if rd is None else rd
        flags = nbwire.ns_flags(opcode, rd=rd, b=bcast)
        qname = self.name(name)
        if kind in ("query", "status"):
            qtype = nbwire.T_NBSTAT if kind == "status" else nbwire.T_NB
            return nbwire.build_ns(trn, flags, [(qname, qtype)])
        rdata = nbwire.nb_rdata(addr, group, ont)
        # The additional record's name points at the question (0xC00C), as
        # Windows and Samba send it (RFC 1002 4.2.2 allows compression).
        ar = (b"\xc0\x0c", nbwire.T_NB, ttl or 0, rdata)
        return nbwire.build_ns(trn, flags, [(qname, nbwire.T_NB)],
                               additional=[ar])

    # session service (RFC 1002 4.3)

    def ssn_request(self, called, calling):
        out = self._build("ssn", ("request", "--called", called,
                                  "--calling", calling))
        if out is not None:
            return Packet.of(out, "nbt")
        body = self.name(called) + self.name(calling)
        return Packet.of(nbwire.build_ssn(0x81, body), "lab")

    def ssn_keepalive(self):
        out = self._build("ssn", ("keepalive",))
        if out is not None:
            return Packet.of(out, "nbt")
        return Packet.of(nbwire.build_ssn(0x85), "lab")

    def ssn_message(self, data):
        out = self._build("ssn", ("message", "--data", data.hex()))
        if out is not None:
            return Packet.of(out, "nbt")
        return Packet.of(nbwire.build_ssn(0x00, data), "lab")

    # datagram service (RFC 1002 4.4)

    def dgm(self, kind, src_ip, src_port, src_name, dst_name, data=b"",
            dgm_id=1):
        """DIRECT_UNIQUE / DIRECT_GROUP / BROADCAST (RFC 1002 4.4.2), one
        fragment (FIRST set, MORE clear, SNT B)."""
        t = {"unique": 0x10, "group": 0x11, "broadcast": 0x12}[kind]
        word = {"unique": "direct-unique", "group": "direct-group",
                "broadcast": "broadcast"}[kind]
        out = self._build("dgm", (word, "--src", src_name, "--dst", dst_name,
                                  "--data", data.hex(), "--src-ip", src_ip,
                                  "--src-port", str(src_port), "--id",
                                  str(dgm_id)))
        if out is not None:
            return Packet.of(out, "nbt")
        return Packet.of(nbwire.build_dgm(
            t, src_ip, src_port, self.name(src_name), self.name(dst_name),
            data, dgm_id=dgm_id), "lab")

    # decoding

    def decode(self, proto, data):
        """`nbt decode --json --proto P HEX` -> (ok, summary dict) or None
        when the build has no decoder."""
        if not self.supports("decode"):
            return None
        short = {"nbns": "ns", "nbdgm": "dgm", "nbss": "ssn"}[proto]
        p = self._run(["decode", "--json", "--proto", short, data.hex()])
        if p is None:
            return None
        objs = []
        for line in p.stdout.splitlines():
            try:
                objs.append(json.loads(line))
            except ValueError:
                pass
        ok = p.returncode == 0 and all(o.get("ok", True) for o in objs)
        return {"ok": ok, "rc": p.returncode, "objects": objs,
                "stderr": p.stderr.strip()[:300]}

    def describe(self):
        if not self.nbt:
            return "nbt not found: requests assembled by the lab (nbwire)"
        parts = [f"nbt at {self.nbt}"]
        for proto in ("ns", "ssn", "dgm"):
            parts.append(f"build {proto}: "
                         f"{'yes' if self.supports('build', proto) else 'no'}")
        parts.append(f"decode: {'yes' if self.supports('decode') else 'no'}")
        return "; ".join(parts)
