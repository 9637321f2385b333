"""The lab `nbt replay`'s tests run in: Samba (nmbd + smbd) in one network
namespace, the replaying client in another, built with the conformance
lab's module (conformance/nbtlab: Lab, Samba, Scenario) and always torn
down by it.

Addresses (TEST-NET-1, RFC 5737): Samba 192.0.2.10, client 192.0.2.100,
the wrong/right responders of the meta-tests 192.0.2.12.

The scenario names Samba after the hosts of the captures we replay, so
that their requests are for names Samba owns:
  XYKON-2   netbios-ns-b-full-query.pcap, netbios-ns-b-nbstat-winxp.pcap
  VMWINXP   netbios-ssn-full-scanner-winxp.pcap (called name VMWINXP<20>)
  SCV       wireshark-smb-on-windows10.pcap (called name SCV<20>)
  TEST      netbios-ns-b-query-winxp.pcap (TEST<20>)
SMB1 (NT1) is allowed so that the scanner's SMB1 negotiate is answered,
and the guest share is called SCANNER like the one the scanner connects
to."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "conformance"))

from nbtlab import lab as nbtlab_lab  # noqa: E402
from nbtlab import samba as nbtlab_samba  # noqa: E402
from nbtlab import scenarios as nbtlab_sc  # noqa: E402

SERVER = "192.0.2.10"
CLIENT = "192.0.2.100"
RESPONDER = "192.0.2.12"
ABSENT = nbtlab_sc.ABSENT_ADDR  # on the LAN, owned by nobody

SCENARIO = nbtlab_sc.with_changes(
    nbtlab_sc.BNODE, name="replay", netbios_name="XYKON-2",
    aliases=("VMWINXP", "SCV", "TEST"), workgroup="WORKGROUP",
    server_min_protocol="NT1", share="SCANNER")


def reference_captures():
    """The lab engineer's Samba captures, pcaps/samba-4.17/MANIFEST.tsv
    (or $NBT_REPLAY_REFERENCE_DIR): [(path, probe id, scenario)] in
    manifest order; [] when not recorded."""
    where = os.environ.get("NBT_REPLAY_REFERENCE_DIR",
                           pcap("samba-4.17"))
    manifest = os.path.join(where, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        return []
    out = []
    with open(manifest, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    head = rows[0]
    for row in rows[1:]:
        rec = dict(zip(head, row))
        out.append((os.path.join(where, rec["file"]),
                    rec["probe"], rec["scenario"]))
    return out


def scenario(name):
    return nbtlab_sc.ALL[name]


def pcap(rel):
    """A capture under pcaps/ (copied there with provenance)."""
    return os.path.join(SOURCE, "pcaps", rel)


def nbt_binary():
    path = os.environ.get("NBT")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set NBT to the built nbt binary")
    return path


class ReplayLab:
    """Lab + Samba; use as a context manager."""

    def __init__(self, logdir, samba=True, scenario=None):
        self.logdir = logdir
        self.want_samba = samba
        self.scenario = scenario or SCENARIO
        self.lab = None
        self.samba = None

    def __enter__(self):
        self.lab = nbtlab_lab.Lab()
        self.lab.up()
        try:
            lan = self.lab.add_lan("a", nbtlab_sc.SUBNET)
            self.srv = self.lab.add_host("srv", lan, SERVER)
            self.cli = self.lab.add_host("cli", lan, CLIENT)
            self.rsp = self.lab.add_host("rsp", lan, RESPONDER)
            self.lab.wait_links()
            if self.want_samba:
                self.samba = nbtlab_samba.Samba(self.srv, self.scenario,
                                                self.logdir,
                                                probe_host=self.rsp)
                self.samba.start().wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.samba is not None:
            self.samba.stop()
            self.samba = None
        if self.lab is not None:
            self.lab.teardown()
            self.lab = None
        return False

    def replay(self, capture, target=SERVER, extra=(), timeout=60):
        """Run `nbt replay --json` from the client host. Returns (exit code,
        list of exchange objects, stderr)."""
        argv = [nbt_binary(), "replay", capture, "--target", target,
                "--json", "--timeout", "500", "--max-time", "50"]
        argv += list(extra)
        p = self.cli.run(argv, timeout=timeout)
        rows = [json.loads(line) for line in p.stdout.splitlines() if line]
        return p.returncode, rows, p.stderr

    def start_responder(self, script_args):
        """The tiny responder of the meta-tests, inside the rsp host."""
        argv = ["/usr/bin/python3", os.path.join(HERE, "responder.py"),
                "--watch-stdin"]
        argv += list(script_args)
        p = self.rsp.popen(argv, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = p.stdout.readline().decode("ascii", "replace").strip()
        if line != "ready":
            raise RuntimeError(f"responder did not start: {line!r}")
        return p
