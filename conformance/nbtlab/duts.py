"""The slots: what runs as `ref` and as `dut`.

A slot is a command line run inside its lab host plus a readiness check.
Ready-made slots:
- "samba": Debian's nmbd + smbd from a generated smb.conf (samba.py);
- "wrong": the deliberately wrong responder (wrong_responder.py), a small
  UDP 137 server that answers like nmbd but with one field off; the
  meta-test proves the harness reports it as differing;
- "nbtd": nbtkit's daemon, once the build has one (nbtd_argv below);
- anything else is a command template run in the dut host, e.g.
  ``--dut '/path/to/daemon --addr {addr} --name {name}'``.
  Placeholders: {addr} {prefixlen} {bcast} {name} {aliases} {workgroup}
  {scope} {wins} {smbconf} {workdir}. Readiness is a unicast query for
  {name}<20> being answered.
"""

import glob
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from . import codec
from . import nbwire
from . import samba

HERE = os.path.dirname(os.path.abspath(__file__))

# --- the nbtd hook ----------------------------------------------------------
# When src/daemon/ has built an `nbtd`, `--dut nbtd` (and scripts/
# conformance's automatic choice, best_available()) runs it in the dut slot
# with the argv below: the scenario's names on the dut's interface, in the
# foreground. Adjust it here when nbtd grows options (a WINS server mode,
# the session service); NBTD_TCP says whether readiness also waits for TCP
# 139 (nbtd has no session service yet, so the session and SMB probes show
# what is missing).
NBTD_TCP = False


def nbtd_argv(nbtd, host, scn, workdir=None):
    argv = [nbtd, "-F", "--interface",
            f"{host.addr}/{host.lan.subnet.prefixlen}",
            "--name", scn.netbios_name, "--workgroup", scn.workgroup,
            "--log-level", "info"]
    # The control and datagram sockets are filesystem paths shared by every
    # namespace: a root nbtd's defaults (/run/nbtd/) collide with any other
    # nbtd on the machine (a test, a second lab), so each slot gets its own.
    if workdir:
        argv += ["--control", os.path.join(workdir, "nbtd.sock"),
                 "--dgram-socket", os.path.join(workdir, "dgram.sock")]
    else:
        argv += ["--control", "", "--dgram-socket", ""]
    for alias in scn.aliases:
        argv += ["--alias", alias]
    if scn.scope:
        argv += ["--scope", scn.scope]
    if scn.wins_support:
        # `wins support = yes`: nbtd's NBNS (issue 9), its database in the
        # slot's directory.
        argv += ["--nbns-server"]
        if workdir:
            argv += ["--db", os.path.join(workdir, "wins.db")]
    return argv


def find_nbtd():
    env = os.environ.get("NBTD")
    if env and os.access(env, os.X_OK):
        return env
    for preset in ("release", "dev", "asan"):
        p = os.path.join(codec.ROOT, "build", preset, "src", "daemon", "nbtd")
        if os.access(p, os.X_OK):
            return p
    for p in sorted(glob.glob(os.path.join(codec.ROOT, "build", "*", "src",
                                           "daemon", "nbtd"))):
        if os.access(p, os.X_OK):
            return p
    return None


def best_available():
    """What scripts/conformance puts in the dut slot: nbtd when built."""
    return "nbtd" if find_nbtd() else "samba"


class SambaSlot:
    kind = "samba"

    def __init__(self):
        self.inst = None

    def describe(self):
        return f"Samba {samba.version()} (nmbd + smbd)"

    def start(self, host, scn, logdir, probe_host):
        self.inst = samba.Samba(host, scn, logdir, probe_host=probe_host)
        self.inst.start()
        return self

    def wait_ready(self, timeout=45.0):
        self.inst.wait_ready(timeout)

    def stop(self):
        if self.inst:
            self.inst.stop()
            self.inst = None


def query_answered(probe_host, addr, name, timeout=0.5):
    """One unicast NB query for `name` (RD=0); True on a positive reply."""
    s = probe_host.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("0.0.0.0", 0))
        s.settimeout(timeout)
        pkt = nbwire.build_ns(0x4242, nbwire.ns_flags(0),
                              [(nbwire.name_bytes(name), 0x20)])
        s.sendto(pkt, (addr, 137))
        data, _ = s.recvfrom(2048)
        p = nbwire.parse_ns(data)
        return p["trn"] == 0x4242 and p["rcode"] == 0 and bool(p["answers"])
    except (OSError, nbwire.WireError):
        return False
    finally:
        s.close()


def tcp_open(probe_host, addr, port, timeout=0.5):
    s = probe_host.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class CommandSlot:
    """Any command run in the host; ready when it answers its name."""

    kind = "command"

    def __init__(self, template, tcp=False, label=None):
        self.template = template
        self.tcp = tcp
        self.label = label or template
        self.proc = None
        self.root = None
        self.host = None
        self.scn = None
        self.probe_host = None
        self.log = None

    def describe(self):
        return self.label

    def argv(self, host, scn):
        self.root = tempfile.mkdtemp(prefix="nbtlab-dut-")
        os.chmod(self.root, 0o755)
        conf, dirs = samba.smb_conf(scn, self.root, host.addr,
                                    host.lan.subnet.prefixlen)
        for d in dirs.values():
            os.makedirs(d, exist_ok=True)
        smbconf = os.path.join(self.root, "smb.conf")
        with open(smbconf, "w", encoding="ascii") as f:
            f.write(conf)
        fields = {"addr": host.addr, "prefixlen": host.lan.subnet.prefixlen,
                  "bcast": host.lan.broadcast, "name": scn.netbios_name,
                  "aliases": ",".join(scn.aliases) or "-",
                  "workgroup": scn.workgroup, "scope": scn.scope or "-",
                  "wins": "yes" if scn.wins_support else "no",
                  "smbconf": smbconf, "workdir": self.root,
                  "nbtd": find_nbtd() or "nbtd", "python": sys.executable,
                  "here": HERE}
        return [a.format(**fields) for a in shlex.split(self.template)]

    def start(self, host, scn, logdir, probe_host):
        self.host, self.scn, self.probe_host = host, scn, probe_host
        os.makedirs(logdir, exist_ok=True)
        argv = self.argv(host, scn)
        with open(os.path.join(logdir, "command.txt"), "w",
                  encoding="utf-8") as f:
            f.write(shlex.join(argv) + "\n")
        self.log = open(os.path.join(logdir, "dut.log"), "wb")
        self.proc = host.popen(argv, stdin=subprocess.PIPE, stdout=self.log,
                               stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout=30.0):
        name = self.scn.qualify(f"{self.scn.netbios_name}<20>")
        deadline = time.monotonic() + timeout
        while not query_answered(self.probe_host, self.host.addr, name):
            if self.proc.poll() is not None:
                raise RuntimeError(f"dut command exited with "
                                   f"{self.proc.returncode}: {self.label}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"dut did not answer {name} within "
                                   f"{timeout:.0f} s: {self.label}")
        while self.tcp and not tcp_open(self.probe_host, self.host.addr, 139):
            if time.monotonic() > deadline:
                raise RuntimeError(f"dut not accepting on 139: {self.label}")
            time.sleep(0.2)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 15)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, 9)
                except ProcessLookupError:
                    pass
        if self.log:
            self.log.close()
            self.log = None
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


class NbtdSlot(CommandSlot):
    kind = "nbtd"

    def __init__(self):
        super().__init__("nbtd", tcp=NBTD_TCP, label=f"nbtd ({find_nbtd()})")

    def argv(self, host, scn):
        self.root = tempfile.mkdtemp(prefix="nbtlab-nbtd-")
        os.chmod(self.root, 0o755)
        return nbtd_argv(find_nbtd(), host, scn, workdir=self.root)


def wrong_slot(field="ra"):
    tpl = ("{python} {here}/wrong_responder.py --addr {addr} --name {name} "
           "--aliases {aliases} --workgroup {workgroup} --scope {scope} "
           f"--field {field}")
    return CommandSlot(tpl, label=f"wrong responder (field '{field}' off)")


def make(spec):
    """'samba' | 'wrong' | 'wrong:FIELD' | 'nbtd' | a command template."""
    if spec == "samba":
        return SambaSlot()
    if spec == "wrong" or spec.startswith("wrong:"):
        return wrong_slot(spec.partition(":")[2] or "ra")
    if spec == "nbtd":
        if not find_nbtd():
            raise RuntimeError("--dut nbtd: no nbtd binary in build/*/src/"
                               "daemon/ (set $NBTD to point at one)")
        return NbtdSlot()
    return CommandSlot(spec)
