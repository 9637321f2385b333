"""The lab's namespaces come up, carry traffic, and are always torn down:
on normal exit, on an exception, on SIGINT/SIGTERM, and by the stale
sweep after a kill -9. The root namespace is never changed."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import CONFORMANCE, ROOT
from nbtlab import lab as labmod
from nbtlab.lab import Lab

pytestmark = pytest.mark.needs_root


def root_links():
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(line.split(":")[1].strip().split("@")[0]
                  for line in out.splitlines())


def mine(prefix):
    return [ns for ns in labmod.list_netns() if ns.startswith(prefix + "-")]


def test_up_traffic_and_teardown():
    before = root_links()
    with Lab() as lab:
        lan = lab.add_lan("t")
        a = lab.add_host("a", lan, "192.0.2.10")
        b = lab.add_host("b", lan, "192.0.2.100")
        lab.wait_links()
        assert sorted(mine(lab.prefix)) == sorted(
            [f"{lab.prefix}-{x}" for x in ("a", "b", "sw")])
        assert root_links() == before, "the lab touched the root namespace"
        srv = a.socket()
        srv.bind(("0.0.0.0", 5137))
        cli = b.socket()
        cli.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        cli.sendto(b"unicast", ("192.0.2.10", 5137))
        cli.sendto(b"broadcast", (lan.broadcast, 5137))
        srv.settimeout(2)
        got = {srv.recvfrom(64)[0], srv.recvfrom(64)[0]}
        assert got == {b"unicast", b"broadcast"}
        # The address exists only inside the lab.
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("0.0.0.0", 0))
        with pytest.raises(OSError):
            probe.bind(("192.0.2.10", 0))
        probe.close()
        # No IPv6 noise on lab links.
        six = a.run(["ip", "-6", "addr", "show", "dev", "eth0"]).stdout
        assert "inet6" not in six
        prefix = lab.prefix
        srv.close()
        cli.close()
    assert mine(prefix) == []
    assert root_links() == before


def test_teardown_on_exception():
    with pytest.raises(RuntimeError):
        with Lab() as lab:
            lan = lab.add_lan("t")
            h = lab.add_host("a", lan, "192.0.2.10")
            p = h.popen(["sleep", "300"])
            prefix = lab.prefix
            raise RuntimeError("probe blew up")
    assert mine(prefix) == []
    assert p.poll() is not None, "process inside the lab survived"


def test_idempotent():
    lab = Lab()
    lab.up()
    lab.up()
    lan = lab.add_lan("t")
    assert lab.add_lan("t") is lan
    lab.add_host("a", lan, "192.0.2.10")
    with pytest.raises(labmod.LabError):
        lab.add_host("a", lan, "192.0.2.11")
    lab.teardown()
    lab.teardown()
    assert mine(lab.prefix) == []


def _dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_sweep_removes_only_dead_owners():
    dead = f"nbl{_dead_pid()}-x"
    keeper = subprocess.Popen(["sleep", "60"])
    live = f"nbl{keeper.pid}-x"
    other = "nbltestkeep"     # not our pattern: never touched
    try:
        for ns in (dead, live, other):
            labmod.run_ip("netns", "add", ns)
        removed = labmod.sweep_stale()
        names = labmod.list_netns()
        assert dead in removed and dead not in names
        assert live in names and other in names
        keeper.kill()
        keeper.wait()
        assert live in labmod.sweep_stale()
        assert other in labmod.list_netns()
    finally:
        keeper.kill()
        for ns in (dead, live, other):
            labmod.run_ip("netns", "delete", ns, check=False)


HOLDER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from nbtlab.lab import Lab
with Lab() as lab:
    lan = lab.add_lan("t")
    h = lab.add_host("a", lan, "192.0.2.10")
    p = h.popen(["sleep", "300"])
    print(lab.prefix, p.pid, flush=True)
    while True:
        time.sleep(0.1)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_teardown_after_signal(sig):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, CONFORMANCE],
                         stdout=subprocess.PIPE, text=True)
    try:
        prefix, child = p.stdout.readline().split()
        assert mine(prefix), "lab did not come up"
        p.send_signal(sig)
        p.wait(timeout=15)
        assert mine(prefix) == []
        assert not os.path.exists(f"/proc/{child}") or \
            open(f"/proc/{child}/stat").read().split()[2] == "Z"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sweep_after_kill9():
    p = subprocess.Popen([sys.executable, "-c", HOLDER, CONFORMANCE],
                         stdout=subprocess.PIPE, text=True)
    prefix, child = p.stdout.readline().split()
    p.kill()
    p.wait()
    assert mine(prefix), "kill -9 leaves the namespaces (nothing can run)"
    labmod.sweep_stale()
    assert mine(prefix) == []
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or \
        open(f"/proc/{child}/stat").read().split()[2] == "Z"


def others_can_reach(path):
    """True when every directory above `path` lets other users in (o+x)
    and `path` itself is readable by them: what the unprivileged runs
    below need. A checkout under a private directory (mktemp -d is 0700)
    cannot be run by uid 65534 at all, which is not what they test."""
    path = os.path.abspath(path)
    if not os.stat(path).st_mode & 0o004:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & 0o001:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


def test_clear_error_without_privileges():
    """As an unprivileged user the CLI explains and exits 77."""
    if not others_can_reach(os.path.join(CONFORMANCE, "run")):
        pytest.skip("the checkout is not reachable by other users")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", "/usr/bin/python3",
                        os.path.join(CONFORMANCE, "run"), "--out",
                        "/tmp/nbtlab-unpriv"],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert p.returncode == 77, p.stderr
    assert "needs root" in p.stderr and "CAP_NET_ADMIN" in p.stderr
    assert not os.path.exists("/tmp/nbtlab-unpriv/index.html")


def test_selfcheck_script_skips_without_root():
    """ctest's lab_selfcheck reports 'skipped' (77) when not root."""
    script = os.path.join(ROOT, "tests", "lab", "run-selfcheck")
    if not others_can_reach(script):
        pytest.skip("the checkout is not reachable by other users")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", "--inh-caps=-all",
                        "--bounding-set=-all", "bash",
                        os.path.join(ROOT, "tests", "lab", "run-selfcheck")],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert p.returncode == 77, p.stdout + p.stderr
    assert "SKIPPED" in p.stdout
