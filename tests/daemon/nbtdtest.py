"""Helpers for nbtd's tests: start the real daemon, wait for its names,
query it with the built `nbt`, send raw packets, stop it and check how.

Binaries come from the environment (ctest sets them): NBTD, NBT. Every
process started here is stopped by its pid in stop() or at teardown; all
traffic goes to loopback addresses or to lab namespaces the test made.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time

NBTD = os.environ.get("NBTD", "nbtd")
NBT = os.environ.get("NBT", "nbt")


def free_udp_port(host="127.0.0.1"):
    """A UDP port free on `host` right now (high, unprivileged)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


# --- packets (hand-built, RFC 1002 4.2; independent of nbtkit's codec) -----

def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def encode_name(name, suffix=0x20, scope=b"", pad=b" "):
    if isinstance(name, str):
        name = name.encode()
    raw = name.ljust(15, pad)[:15] + bytes([suffix])
    out = bytes([32]) + l1(raw)
    for label in scope.split(b".") if scope else []:
        out += bytes([len(label)]) + label
    return out + b"\0"


def query(trn_id, name, suffix=0x20, bcast=False, rd=False, qtype=0x20):
    """NAME QUERY REQUEST (RFC 1002 4.2.12); NODE STATUS with qtype 0x21."""
    flags = (0x0100 if rd or bcast else 0) | (0x0010 if bcast else 0)
    hdr = struct.pack(">HHHHHH", trn_id, flags, 1, 0, 0, 0)
    return hdr + encode_name(name, suffix) + struct.pack(">HH", qtype, 1)


def registration(trn_id, name, suffix, ip, group=False, bcast=True):
    """NAME REGISTRATION REQUEST (RFC 1002 4.2.2), B flag when `bcast`."""
    flags = 0x2900 | (0x0010 if bcast else 0)
    hdr = struct.pack(">HHHHHH", trn_id, flags, 1, 0, 0, 1)
    q = encode_name(name, suffix) + struct.pack(">HH", 0x20, 1)
    nb_flags = 0x8000 if group else 0
    rr = b"\xc0\x0c" + struct.pack(">HHIHH", 0x20, 1, 0, 6, nb_flags) + \
        socket.inet_aton(ip)
    return hdr + q + rr


def parse_header(pkt):
    trn, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", pkt[:12])
    return {"trn_id": trn, "response": bool(flags & 0x8000),
            "opcode": (flags >> 11) & 0xF, "nm_flags": (flags >> 4) & 0x7F,
            "rcode": flags & 0xF, "qd": qd, "an": an, "ns": ns, "ar": ar}


def first_name(pkt, off=12):
    """The 16 raw bytes of the first (uncompressed) name at `off`."""
    if pkt[off] != 32:
        return None
    enc = pkt[off + 1:off + 33]
    return bytes(((enc[2 * i] - 0x41) << 4) | (enc[2 * i + 1] - 0x41)
                 for i in range(16))


# Malformed-packet probes (shapes from shared/notes/samba-behaviour.md 6 and
# the seed's crash list): each must be dropped without harm.
def malformed_probes():
    good_q = query(0x4242, "XYKON-2")
    return [
        b"",                                     # CVE-2020-14303 shape
        b"\x00",
        b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00",   # 11-byte header
        good_q[:12],                              # header, no question
        good_q[:20],                              # truncated name
        good_q[:-2],                              # truncated class
        struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\xc0\x0c",  # self ptr
        struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x1f" + b"A" * 31
        + b"\x00\x00\x20\x00\x01",                # first label 31
        struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x20" + b"a" * 32
        + b"\x00\x00\x20\x00\x01",                # lower case label
        struct.pack(">HHHHHH", 1, 0, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF),
        good_q + b"\x00" * 2000,                  # over 576 bytes
        struct.pack(">HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x20" + b"CA" * 16
        + b"\x01a" * 120 + b"\x00\x00\x20\x00\x01",  # many labels
        registration(7, "XYKON-2", 0x00, "127.0.0.9")[:-3],  # short RDATA
        bytes(range(256)) * 2,
    ]


# --- the daemon ------------------------------------------------------------

class Nbtd:
    """One nbtd process. `args` are its flags after -F; `prefix` is an argv
    prefix (e.g. ["ip", "netns", "exec", NS]) to run it elsewhere."""

    def __init__(self, args, prefix=(), workdir=None, popen=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="nbtd-test-")
        os.chmod(self.dir, 0o755)
        self.control = os.path.join(self.dir, "nbtd.sock")
        self.log_path = os.path.join(self.dir, "nbtd.log")
        self.args = list(args)
        self.prefix = list(prefix)
        self.popen = popen or subprocess.Popen
        self.proc = None
        self.rc = None

    def start(self):
        # Every socket path in the test's own directory: a root nbtd's
        # defaults (/run/nbtd/) collide with any other nbtd on the machine.
        argv = self.prefix + [NBTD, "-F", "--control", self.control,
                              "--dgram-socket",
                              os.path.join(self.dir, "dgram.sock"),
                              "--log-level", "info"] + self.args
        self.log = open(self.log_path, "w")
        self.proc = self.popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def daemon_pid(self):
        """The pid of nbtd itself (under an `ip netns exec` prefix the
        child has the same pid: ip execs)."""
        return self.proc.pid

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stats(self, timeout=3):
        p = subprocess.run([NBT, "stats", "--json", "--control", self.control],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def names(self):
        s = self.stats()
        if not s:
            return {}
        return {n["name"]: n for n in s["name-service"]["names"]}

    def wait_names(self, states=("active",), timeout=8.0, want=None):
        """Wait until every name (or those in `want`) has left the
        registering state; return the name table."""
        deadline = time.monotonic() + timeout
        last = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nbtd exited {self.proc.returncode}:\n"
                                     + self.logtext())
            last = self.names()
            sel = [n for k, n in last.items() if want is None or k in want]
            if sel and all(n["state"] != "registering" for n in sel):
                return last
            time.sleep(0.1)
        raise AssertionError(f"names still registering: {last}\n"
                             + self.logtext())

    def send_signal(self, sig):
        os.kill(self.daemon_pid(), sig)

    def stop(self, sig=signal.SIGTERM, timeout=8.0):
        """Stop it; return (exit code, seconds it took)."""
        if self.proc is None or self.proc.poll() is not None:
            self.rc = self.proc.returncode if self.proc else None
            return self.rc, 0.0
        t0 = time.monotonic()
        self.send_signal(sig)
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait(timeout=5)
            raise AssertionError("nbtd did not stop in time:\n"
                                 + self.logtext())
        finally:
            self.log.close()
        return self.rc, time.monotonic() - t0


def nbt(*args, timeout=20, prefix=()):
    """Run the built nbt; return the CompletedProcess."""
    return subprocess.run(list(prefix) + [NBT] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def nbt_json(*args, **kw):
    p = nbt(*args, "--json", **kw)
    return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None)
