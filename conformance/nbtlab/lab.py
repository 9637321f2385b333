"""The lab's network: namespaces joined by bridges, always torn down.

Topology. Every lab owns one "switch" namespace (``<prefix>-sw``) that holds
its bridges, one per LAN, and one namespace per host (``<prefix>-<host>``)
whose ``eth0`` is a veth pair plugged into a bridge. Nothing is created in
the root namespace: no bridge, no veth, no route, no address. IPv6 is
disabled in every lab namespace before any link exists, so the captures
hold only what the probes and the daemons send (no router solicitations,
MLD reports or DAD).

Names. ``<prefix>`` is ``nbl<pid>`` (``nbl<pid>n<k>`` for the k-th lab of
the same process), so parallel runs never collide, and a leftover from a
killed run is recognisable: ``sweep_stale()`` removes every ``nbl<pid>...``
namespace whose owner process is gone. A state file in /run/nbtlab records
the owner's pid and start time so a recycled pid is not mistaken for the
owner.

Teardown happens on every exit path: the context manager, ``atexit``, and
SIGINT/SIGTERM/SIGHUP handlers (installed when the first lab comes up in
the main thread); the processes the lab started are stopped first (their
process groups, then anything still inside our namespaces), then the
namespaces are deleted, which destroys the veths and bridges with them.

Library use (this is what ``nbt replay``'s tests import)::

    from nbtlab.lab import Lab
    with Lab() as lab:
        lan = lab.add_lan("a")
        srv = lab.add_host("srv", lan, "192.0.2.10")
        cli = lab.add_host("cli", lan, "192.0.2.100")
        p = srv.popen(["nmbd", "-F", ...])          # runs inside srv
        s = cli.socket(socket.AF_INET, socket.SOCK_DGRAM)  # lives in cli
"""

import atexit
import contextlib
import ctypes
import ipaddress
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

PREFIX_BASE = "nbl"
STATE_DIR = "/run/nbtlab"
NETNS_DIR = "/run/netns"
_PREFIX_RE = re.compile(r"^nbl(\d+)(?:n\d+)?-")
_CLONE_NEWNET = 0x40000000
_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21
_MAX_IFNAME = 15


class LabError(RuntimeError):
    """The lab could not be built or driven."""


class LabPermissionError(LabError):
    """Not root / lacking CAP_NET_ADMIN and CAP_SYS_ADMIN."""


def missing_privileges():
    """Return a sentence saying what is missing, or "" when we may build."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            caps = next(int(line.split()[1], 16) for line in f
                        if line.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        caps = 0
    need = {"CAP_NET_ADMIN": _CAP_NET_ADMIN, "CAP_SYS_ADMIN": _CAP_SYS_ADMIN}
    lacking = [n for n, bit in need.items() if not caps >> bit & 1]
    if not lacking:
        return ""
    who = "root" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    return (f"the lab needs root (it creates network namespaces, a bridge "
            f"and veth pairs); running as {who} without "
            f"{' and '.join(lacking)}. Run it as root, e.g. "
            f"'sudo bash scripts/conformance'.")


def check_privileges():
    msg = missing_privileges()
    if msg:
        raise LabPermissionError(msg)


def run_ip(*args, ns=None, check=True, timeout=15):
    """Run ``ip [-n NS] ARGS``; raise LabError with ip's message on failure."""
    argv = ["ip"] + (["-n", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(argv)}: {p.stderr.strip()}")
    return p


def list_netns():
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def _proc_start_time(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_alive(prefix):
    m = _PREFIX_RE.match(prefix + "-")
    if not m:
        return True  # not ours: never touch
    pid = int(m.group(1))
    start = _proc_start_time(pid)
    if start is None:
        return False
    try:
        with open(os.path.join(STATE_DIR, prefix + ".json"),
                  encoding="ascii") as f:
            recorded = json.load(f).get("start")
    except (OSError, ValueError):
        return True  # alive pid, no record: assume it is a live lab
    return recorded == start


def _kill_netns_pids(ns, sig=signal.SIGKILL):
    """Signal every process inside namespace `ns` (a lab namespace, so only
    processes the lab started live there)."""
    p = run_ip("netns", "pids", ns, check=False)
    pids = [int(x) for x in p.stdout.split() if x.isdigit()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    return pids


def _delete_netns(ns):
    if ns not in list_netns():
        return
    for _ in range(50):
        if not _kill_netns_pids(ns):
            break
        time.sleep(0.05)
    run_ip("netns", "delete", ns, check=False)


def sweep_stale(log=None):
    """Delete every lab namespace whose owning process is gone. Returns the
    names removed. Namespaces not matching our prefix are never touched."""
    removed = []
    prefixes = {}
    for ns in list_netns():
        m = _PREFIX_RE.match(ns)
        if m:
            prefixes.setdefault(ns[:ns.index("-")], []).append(ns)
    for prefix, names in prefixes.items():
        if _owner_alive(prefix):
            continue
        for ns in sorted(names, key=lambda n: n.endswith("-sw")):
            _delete_netns(ns)
            removed.append(ns)
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(STATE_DIR, prefix + ".json"))
    if removed and log:
        log(f"lab: removed stale namespaces {' '.join(removed)}")
    return removed


# --- entering a namespace from Python --------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def in_netns(ns):
    """Run the body with the calling thread inside network namespace `ns`.
    Sockets created in the body stay in `ns` for their whole life. setns()
    moves only the calling thread, so other threads are unaffected."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(target)
    finally:
        os.close(home)


# --- the lab ---------------------------------------------------------------

_live_labs = []
_live_lock = threading.Lock()
_handlers_installed = False
_lab_counter = itertools.count()


def _teardown_all():
    with _live_lock:
        labs = list(_live_labs)
    for lab in reversed(labs):
        lab.teardown()


def _on_signal(signum, frame):
    # Unwind normally (context managers and finally blocks run), then the
    # atexit hook catches anything left. SIGINT keeps its usual exception.
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed:
        return
    atexit.register(_teardown_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) in (signal.SIG_DFL,
                                         signal.default_int_handler):
                signal.signal(sig, _on_signal)
    _handlers_installed = True


class Lan:
    """A broadcast domain: one bridge in the switch namespace."""

    def __init__(self, lab, name, subnet):
        self.lab = lab
        self.name = name
        self.bridge = f"br-{name}"
        self.subnet = ipaddress.ip_network(subnet)
        self.hosts = []

    @property
    def broadcast(self):
        return str(self.subnet.broadcast_address)

    def __repr__(self):
        return f"Lan({self.name}, {self.subnet})"


class Host:
    """One namespace with eth0 on a LAN."""

    def __init__(self, lab, name, lan, addr):
        self.lab = lab
        self.name = name
        self.lan = lan
        self.addr = str(addr)
        self.ns = f"{lab.prefix}-{name}"
        self.ifname = "eth0"

    def __repr__(self):
        return f"Host({self.name}, {self.addr}@{self.lan.name})"

    def argv(self, argv):
        return ["ip", "netns", "exec", self.ns] + [str(a) for a in argv]

    def run(self, argv, timeout=30, check=False, **kw):
        """Run a command inside this host and wait (bounded by `timeout`)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("stdin", subprocess.DEVNULL)
        return subprocess.run(self.argv(argv), timeout=timeout, check=check,
                              **kw)

    def popen(self, argv, **kw):
        """Start a command inside this host in its own process group; the
        lab stops it at teardown."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(self.argv(argv), **kw)
        self.lab.track(p)
        return p

    def socket(self, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
        """A socket that lives in this host's namespace."""
        with in_netns(self.ns):
            return socket.socket(family, type, proto)

    def netns(self):
        """Context manager: the calling thread inside this host."""
        return in_netns(self.ns)


class Lab:
    """A set of namespaces, bridges and veths, torn down on every exit."""

    def __init__(self, log=None):
        n = next(_lab_counter)
        self.prefix = (f"{PREFIX_BASE}{os.getpid()}"
                       + (f"n{n}" if n else ""))
        self.sw = f"{self.prefix}-sw"
        self.lans = {}
        self.hosts = {}
        self.procs = []
        self.log = log or (lambda msg: None)
        self._up = False
        self._lock = threading.Lock()

    # lifecycle

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def up(self):
        """Create the switch namespace. Idempotent; clears leftovers of a
        previous lab with the same prefix and of dead runs."""
        if self._up:
            return self
        check_privileges()
        _install_handlers()
        sweep_stale(self.log)
        with _live_lock:
            _live_labs.append(self)
        self._up = True
        for ns in list_netns():
            if ns.startswith(self.prefix + "-"):
                _delete_netns(ns)
        os.makedirs(STATE_DIR, exist_ok=True)
        with open(os.path.join(STATE_DIR, self.prefix + ".json"), "w",
                  encoding="ascii") as f:
            json.dump({"pid": os.getpid(),
                       "start": _proc_start_time(os.getpid())}, f)
        self._add_netns(self.sw)
        self.log(f"lab: up, prefix {self.prefix}")
        return self

    def teardown(self):
        """Stop our processes, delete our namespaces. Idempotent; signals
        are held off while it runs so an impatient ^C cannot cut it short."""
        with self._lock:
            if not self._up:
                return
            old = None
            if threading.current_thread() is threading.main_thread():
                old = signal.pthread_sigmask(
                    signal.SIG_BLOCK,
                    {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
            try:
                self._stop_procs()
                for ns in [h.ns for h in self.hosts.values()] + [self.sw]:
                    _delete_netns(ns)
                for ns in list_netns():
                    if ns.startswith(self.prefix + "-"):
                        _delete_netns(ns)
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(STATE_DIR, self.prefix + ".json"))
                self._up = False
                with _live_lock:
                    if self in _live_labs:
                        _live_labs.remove(self)
                self.log(f"lab: torn down {self.prefix}")
            finally:
                if old is not None:
                    signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def namespaces(self):
        return [ns for ns in list_netns() if ns.startswith(self.prefix + "-")]

    # building

    def _add_netns(self, ns):
        run_ip("netns", "add", ns)
        # IPv6 off before any link exists (no sysctl binary needed; silently
        # skipped when the kernel has no IPv6).
        subprocess.run(["ip", "netns", "exec", ns, "sh", "-c",
                        "for k in all default; do echo 1 > "
                        "/proc/sys/net/ipv6/conf/$k/disable_ipv6; done"],
                       capture_output=True, timeout=10,
                       stdin=subprocess.DEVNULL)
        run_ip("link", "set", "lo", "up", ns=ns)

    def add_lan(self, name, subnet="192.0.2.0/24"):
        if name in self.lans:
            return self.lans[name]
        lan = Lan(self, name, subnet)
        if len(lan.bridge) > _MAX_IFNAME:
            raise LabError(f"LAN name too long: {name}")
        # STP off and no forwarding delay: ports forward at once.
        run_ip("link", "add", lan.bridge, "type", "bridge", "stp_state", "0",
               "forward_delay", "0", ns=self.sw)
        run_ip("link", "set", lan.bridge, "up", ns=self.sw)
        self.lans[name] = lan
        return lan

    def add_host(self, name, lan, addr):
        if name in self.hosts:
            raise LabError(f"host {name} exists")
        if len(f"v-{name}") > _MAX_IFNAME or not re.fullmatch(r"[a-z0-9-]+",
                                                               name):
            raise LabError(f"bad host name {name!r}")
        if ipaddress.ip_address(addr) not in lan.subnet:
            raise LabError(f"{addr} is not in {lan.subnet}")
        host = Host(self, name, lan, addr)
        self._add_netns(host.ns)
        port = f"v-{name}"
        run_ip("link", "add", port, "type", "veth", "peer", "name",
               host.ifname, "netns", host.ns, ns=self.sw)
        run_ip("link", "set", port, "master", lan.bridge, "up", ns=self.sw)
        run_ip("addr", "add", f"{addr}/{lan.subnet.prefixlen}", "broadcast",
               lan.broadcast, "dev", host.ifname, ns=host.ns)
        run_ip("link", "set", host.ifname, "up", ns=host.ns)
        self.hosts[name] = host
        lan.hosts.append(host)
        return host

    def wait_links(self, timeout=5.0):
        """Wait until every bridge port and host eth0 has carrier."""
        deadline = time.monotonic() + timeout
        while True:
            out = run_ip("-o", "link", "show", ns=self.sw).stdout
            up = {m.group(1) for m in re.finditer(
                r"^\d+: (v-[a-z0-9-]+)@\S+ <[^>]*LOWER_UP", out, re.M)}
            if all(f"v-{h}" in up for h in self.hosts):
                return
            if time.monotonic() > deadline:
                raise LabError(f"lab links not up within {timeout:.0f} s")
            time.sleep(0.05)

    # processes

    def track(self, proc):
        self.procs.append(proc)

    def _stop_procs(self):
        live = [p for p in self.procs if p.poll() is None]
        for p in live:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3.0
        for p in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.05, deadline - time.monotonic()))
        for p in live:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=2)
        self.procs = []
