"""Captures on the lab bridges, split per probe, cross-checked by tshark.

One tcpdump per LAN runs inside the switch namespace for the whole run
(everything on the bridge, Samba's own chatter included). Afterwards the
capture is cut into one pcap per probe and side with Scapy: the frames of
the probe's time window that involve the client address on one of the
probe's client ports (or, for real-client steps, the service ports).
tshark dissects the whole capture once; its Info column and its
malformed/expert flags are attached to each probe's frames.
"""

import os
import signal
import subprocess
import time

from scapy.all import IP, TCP, UDP, PcapReader, wrpcap  # noqa: F401

TSHARK_FIELDS = ("frame.number", "_ws.col.Info", "_ws.malformed",
                 "_ws.expert.message")


class Capture:
    def __init__(self, lab, lan, path):
        self.lab = lab
        self.lan = lan
        self.path = path
        self.proc = None
        self.errlog = path + ".log"

    def start(self, timeout=5.0):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        err = open(self.errlog, "wb")
        argv = ["ip", "netns", "exec", self.lab.sw, "tcpdump", "-i",
                self.lan.bridge, "-n", "-U", "-s", "0", "-Z", "root", "-w",
                self.path, "udp or tcp"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err,
                                     start_new_session=True)
        err.close()
        self.lab.track(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.errlog, "rb") as f:
                if b"listening on" in f.read():
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"tcpdump on {self.lan.bridge} did not start: "
                           f"see {self.errlog}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            time.sleep(0.3)   # let the last replies reach the file
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def read_frames(path):
    """All frames of a pcap as a list (index i is frame number i+1)."""
    if not os.path.exists(path) or os.path.getsize(path) < 24:
        return []
    with PcapReader(path) as r:
        return list(r)


def _matches(pkt, client, ports, tool_ports, t0, t1):
    if IP not in pkt:
        return False
    t = float(pkt.time)
    if t < t0 or t > t1:
        return False
    ip = pkt[IP]
    if client not in (ip.src, ip.dst):
        return False
    l4 = pkt[UDP] if UDP in pkt else pkt[TCP] if TCP in pkt else None
    if l4 is None:
        return False
    mine = l4.sport if ip.src == client else l4.dport
    theirs = l4.dport if ip.src == client else l4.sport
    return mine in ports or theirs in tool_ports


def split(frames, ex, client, out_path, slack=0.05, tail=0.4):
    """Write the exchange's frames to out_path; return their frame
    numbers."""
    if not ex.steps:
        return []
    t0 = min(s.t0 for s in ex.steps if s.t0) - slack
    t1 = max((s.t1 or s.t0) for s in ex.steps) + tail
    tool_ports = set()
    for s in ex.steps:
        tool_ports |= set(getattr(s, "tool_ports", ()) or ())
    picked = [(i + 1, p) for i, p in enumerate(frames)
              if _matches(p, client, ex.ports, tool_ports, t0, t1)]
    if picked:
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        wrpcap(out_path, [p for _, p in picked])
    return [n for n, _ in picked]


def tshark_table(path, timeout=120):
    """frame number -> (info, malformed?, expert text) for a whole pcap."""
    if not os.path.exists(path):
        return {}
    argv = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t",
            "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in TSHARK_FIELDS:
        argv += ["-e", f]
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return {}
    out = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if not cols or not cols[0].isdigit():
            continue
        cols += [""] * (len(TSHARK_FIELDS) - len(cols))
        out[int(cols[0])] = (cols[1], bool(cols[2]), cols[3])
    return out
