"""Transport for probes: what was sent, what came back, and when.

A probe is a short conversation made of Steps. A UDP step sends one
datagram from a fresh ephemeral port (nmbd drops name packets from its own
address with source port 137 and datagrams with source port 138, and
answers a broadcast once per socket it arrives on, so we never use 137/138
as a source and we accept one or more replies) and collects every reply
within a window. A TCP conversation records, in order, what we sent and
the session packets, end-of-stream or reset we saw.

Transport is the kernel's sockets, opened inside the client's namespace
(lab.Host.socket): exact ports, real TCP, no raw-socket races. Scapy reads
and writes the captures (capture.py); payloads come from nbtkit's codec
(codec.py) or are raw bytes (the malformed list).
"""

import errno
import select
import socket
import subprocess
import time
import zlib
from dataclasses import dataclass, field

from . import nbwire

UDP_WINDOW = 0.8        # wait this long for a first reply
UDP_SETTLE = 0.25       # after a reply, wait this much more for duplicates
TCP_WINDOW = 0.8        # quiet time that ends a TCP read


@dataclass
class Rx:
    t: float
    src: str
    sport: int
    data: bytes
    proto: str            # nbns | nbdgm | nbss
    dport: int = 0


@dataclass
class Step:
    label: str
    kind: str                      # udp | tcp | listen | tool
    proto: str = "nbns"
    dst: str = ""
    dport: int = 0
    sport: int = 0
    sent: bytes = b""
    builder: str = "raw"
    t0: float = 0.0
    t1: float = 0.0
    rx: list = field(default_factory=list)       # [Rx]
    events: list = field(default_factory=list)   # tcp: [(kind, bytes)]
    note: str = ""
    mask: tuple = ()                             # names of masked fields
    tool_ports: tuple = ()                       # tool steps: ports used


@dataclass
class Exchange:
    probe: str
    side: str
    steps: list = field(default_factory=list)
    ports: set = field(default_factory=set)      # client ports used
    t0: float = 0.0
    t1: float = 0.0
    error: str = ""

    def step(self, label):
        for s in self.steps:
            if s.label == label:
                return s
        raise KeyError(label)


def trn_for(probe_id, k=0):
    """Deterministic transaction id: the same on both sides, so replies
    compare byte for byte."""
    return (zlib.crc32(probe_id.encode()) + 7 * k) & 0x7FFF or 1


class ProbeCtx:
    """What a probe function gets: the side's client and target, the
    scenario, the codec, and send/receive helpers that record Steps."""

    def __init__(self, probe, side, client, target, scn, codec, bcast,
                 client_addr):
        self.probe = probe
        self.side = side
        self.client = client          # lab.Host, or None (remote target)
        self.target = target
        self.scn = scn
        self.codec = codec
        self.bcast = bcast
        self.client_addr = client_addr
        self.workdir = None           # per-side scratch dir (runner sets)
        self.ex = Exchange(probe.id, side)
        self._k = 0

    # helpers

    def trn(self):
        self._k += 1
        return trn_for(self.probe.id, self._k)

    def name(self, text):
        """NAME<XX> qualified with the scenario's scope."""
        return self.scn.qualify(text)

    @property
    def own(self):
        return self.scn.netbios_name

    def socket(self, type_=socket.SOCK_DGRAM):
        if self.client is None:
            return socket.socket(socket.AF_INET, type_)
        return self.client.socket(socket.AF_INET, type_)

    def _add(self, step):
        self.ex.steps.append(step)
        if step.sport:
            self.ex.ports.add(step.sport)
        return step

    # UDP

    def udp(self, label, payload, port=137, bcast=False, window=UDP_WINDOW,
            settle=UDP_SETTLE, proto=None, mask=(), until=None,
            also_listen=()):
        """Send one datagram, collect replies. Returns the Step. Collection
        ends `settle` seconds after the first reply (or after the first for
        which `until(rx)` is true), or after `window` without one. Ports in
        `also_listen` are bound on the client too, for replies addressed
        to a port named inside the packet (a datagram's SOURCE_PORT)."""
        proto = proto or {137: "nbns", 138: "nbdgm"}.get(port, "nbns")
        socks = []
        try:
            s = self.socket()
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.bind(("0.0.0.0", 0))
            for extra in also_listen:
                x = self.socket()
                socks.append(x)
                x.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                # Bound to the unicast address: a reply to us is unicast,
                # and the node's own broadcasts (browser announcements to
                # BCAST:138) must not count as replies.
                x.bind((self.client_addr or "0.0.0.0", extra))
                self.ex.ports.add(extra)
            dst = self.bcast if bcast else self.target
            st = Step(label, "udp", proto, dst, port, s.getsockname()[1],
                      bytes(payload), getattr(payload, "builder", "raw"),
                      mask=tuple(mask))
            self._add(st)
            st.t0 = time.time()
            s.sendto(bytes(payload), (dst, port))
            # Our own broadcast comes back to a socket bound to its port.
            st.rx = [rx for rx in _collect(socks, proto, window, settle,
                                           until)
                     if rx.src != self.client_addr or not self.client_addr]
            st.t1 = time.time()
            return st
        finally:
            for x in socks:
                x.close()

    def udp_listen(self, label, port, window, answer=None, proto="nbns"):
        """Bind `port` on the client (e.g. 137 to be challenged by a WINS
        server) and record what arrives; `answer(rx)` may return bytes to
        send back. Returns (step, socket) - the caller closes the socket."""
        s = self.socket()
        s.bind((self.client_addr or "0.0.0.0", port))  # unicast only
        st = Step(label, "listen", proto, "", port, port)
        self._add(st)
        st.t0 = time.time()
        return st, s

    def liveness(self, label="liveness"):
        """A unicast query for the node's own name (RD=0): answered by
        every implementation that is still alive (RFC 1002 5.1.1.5)."""
        q = self.codec.ns("query", self.name(f"{self.own}<20>"),
                          trn_for(self.probe.id, 99), rd=False)
        return self.udp(label, q, mask=("outcome",))

    # tools (real clients)

    def tool(self, label, argv, normalise, timeout=60, ports=(139, 445)):
        """Run a real client (smbclient, nmblookup) inside the client host.
        Its result is reduced by `normalise(rc, stdout, stderr)` to what is
        compared; the raw output is kept as the step's note."""
        st = Step(label, "tool", "nbss", self.target, ports[0],
                  tool_ports=tuple(ports))
        self._add(st)
        st.t0 = time.time()
        try:
            if self.client is not None:
                p = self.client.run(argv, timeout=timeout)
            else:
                p = subprocess.run(argv, capture_output=True, text=True,
                                   timeout=timeout, stdin=subprocess.DEVNULL)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = "timeout", "", ""
        st.t1 = time.time()
        st.events = [("rc", rc), ("result", normalise(rc, out, err))]
        st.note = (" ".join(str(a) for a in argv) + "\n" + out + err)[-4000:]
        return st

    # TCP

    def tcp(self, port=139):
        return TcpConv(self, port)

    def note(self, text):
        if self.ex.steps:
            self.ex.steps[-1].note = text


def _collect(socks, proto, window, settle, until=None):
    out = []
    done = False
    deadline = time.monotonic() + window
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(socks, [], [], left)
        if not ready:
            break
        for s in ready:
            try:
                data, (src, sport) = s.recvfrom(65535)
            except OSError:
                continue  # an ICMP error (port unreachable) queued on it
            out.append(Rx(time.time(), src, sport, data, proto,
                          s.getsockname()[1]))
            if not done and (until is None or until(out[-1])):
                done = True
                deadline = min(deadline, time.monotonic() + settle)
    return out


class TcpConv:
    """One TCP connection to the target; every action is recorded in one
    Step's event list: ('connect',), ('connect-failed', err), ('sent',
    bytes, label), ('recv', frame), ('eof',), ('reset',), ('open',)."""

    def __init__(self, ctx, port):
        self.ctx = ctx
        self.port = port
        self.buf = b""
        self.closed = False
        self.sock = ctx.socket(socket.SOCK_STREAM)
        self.st = Step(f"tcp:{port}", "tcp", "nbss", ctx.target, port)
        ctx._add(self.st)
        self.st.t0 = time.time()
        self.sock.settimeout(3.0)
        try:
            self.sock.connect((ctx.target, port))
            self.st.sport = self.sock.getsockname()[1]
            ctx.ex.ports.add(self.st.sport)
            self.st.events.append(("connect",))
        except OSError as e:
            self.st.events.append(("connect-failed",
                                   errno.errorcode.get(e.errno, str(e))))
            self.closed = True

    def send(self, data, label=""):
        if self.closed:
            return self
        self.st.events.append(("sent", bytes(data), label))
        if getattr(data, "builder", "raw") != "raw":
            self.st.builder = data.builder
        try:
            self.sock.sendall(bytes(data))
        except OSError as e:
            self._closed_by_peer(e)
        return self

    def read(self, window=TCP_WINDOW):
        """Read until `window` seconds pass without data or the stream
        ends; record each complete session packet."""
        if self.closed:
            return self
        deadline = time.monotonic() + window
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                break
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                self._closed_by_peer(e)
                break
            if not data:
                self._frames(final=True)
                self.st.events.append(("eof",))
                self.closed = True
                break
            self.buf += data
            self._frames()
            deadline = time.monotonic() + window
        return self

    def _frames(self, final=False):
        while True:
            n = nbwire.ssn_frame_len(self.buf)
            if n is None or len(self.buf) < n:
                break
            frame, self.buf = self.buf[:n], self.buf[n:]
            self.st.rx.append(Rx(time.time(), self.ctx.target, self.port,
                                 frame, "nbss"))
            self.st.events.append(("recv", frame))
        if final and self.buf:
            self.st.events.append(("recv-partial", self.buf))
            self.buf = b""

    def _closed_by_peer(self, e):
        kind = "reset" if getattr(e, "errno", None) in (
            errno.ECONNRESET, errno.EPIPE) else "error"
        self.st.events.append((kind,))
        self.closed = True

    def finish(self, window=TCP_WINDOW):
        """Read what is left; note whether the peer kept it open; close."""
        self.read(window)
        if not self.closed:
            self.st.events.append(("open",))
        try:
            self.sock.close()
        finally:
            self.closed = True
            self.st.t1 = time.time()
        return self.st
