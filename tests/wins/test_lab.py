"""nbtd as a WINS server against the real thing, side by side with nmbd as
the WINS server, in a private lab (root only; always torn down).

Two LANs with identical addressing (192.0.2.0/24), one per WINS server:

  LAN a: srv 192.0.2.20 nbtd --nbns-server        LAN b: srv nmbd, wins support
         c1  192.0.2.10 nmbd NBTTEST, wins server = 192.0.2.20
         c2  192.0.2.30 nmbd NBTTEST (a second claimant), same WINS server
         cli 192.0.2.100 nmblookup, nbt

The same script runs on both LANs: c1 registers its names with the WINS
server (nmbd sends multi-homed registrations), `nmblookup -U srv -R`
resolves them (Samba 4.17 spells -R as --recursion), c1 refreshes them (both servers are set to grant 60 s, so
the refresh is seen within the test: nbtd with --wins-ttl-min/--wins-ttl-max
60, nmbd with min/max wins ttl = 60; note the cap is nmbd's deviation and
nbtd's is configured here only to make refreshes observable), c2 claims
NBTTEST and is refused after the challenge while group names accumulate,
and c1 releases its names when it stops. nmbd's wins.dat, written at its
shutdown, is then imported with `nbt wins import`.

Assertions are on nbtd; nmbd's answers are recorded next to them in
$NB_LAB_OUT/wins-side-by-side.md (the deviations are listed in
docs/CONFORMANCE.md "WINS server"). Run by ctest as `lab_wins` (label
"lab"; exit 77 = skipped when not root).
"""

import json
import os
import re
import shutil
import signal
import tempfile
import time

import pytest

import nbtdtest as T
import winstest as W
from nbtlab import samba as S
from nbtlab import scenarios as SC
from nbtlab.lab import Lab

SRV, C1, C2, CLI = "192.0.2.20", "192.0.2.10", "192.0.2.30", "192.0.2.100"
NAMES = ["NBTTEST#00", "NBTTEST#03", "NBTTEST#20", "TESTGRP#00",
         "TESTGRP#1e"]
TTL = 60


class Cell:
    """One LAN: a WINS server (nbtd or nmbd), two nmbd clients, a client
    host for nmblookup; `obs` collects what was seen, step by step."""

    def __init__(self, lab, tag, kind, tmp):
        self.tag, self.kind, self.tmp = tag, kind, tmp
        lan = lab.add_lan(tag)
        self.srv_host = lab.add_host(f"{tag}-srv", lan, SRV)
        self.c1_host = lab.add_host(f"{tag}-c1", lan, C1)
        self.c2_host = lab.add_host(f"{tag}-c2", lan, C2)
        self.cli = lab.add_host(f"{tag}-cli", lan, CLI)
        self.obs = {}
        self.counters = {}
        self.c1 = self.c2 = self.server = None
        self.winsdat = None

    def start_server(self, ttl=TTL):
        if self.kind == "nbtd":
            d = tempfile.mkdtemp(prefix="nbtd-wins-lab-")
            os.chmod(d, 0o777)
            self.db = os.path.join(d, "wins.db")
            self.server = T.Nbtd(
                ["--interface", f"{SRV}/24", "--name", "WINSSRV",
                 "--workgroup", "TESTGRP", "--nbns-server", "--db", self.db,
                 "--wins-ttl-min", str(TTL), "--wins-ttl-max", str(TTL)]
                + W.DGRAM_OFF,
                popen=self.srv_host.popen).start()
            self.server.wait_names()
        else:
            extra = (("min wins ttl", str(ttl)), ("max wins ttl", str(ttl))) \
                if ttl else ()
            scn = SC.Scenario("wins-ref", netbios_name="REFWINS", aliases=(),
                              wins_support=True, share="", extra=extra)
            self.server = S.Samba(self.srv_host, scn,
                                  str(self.tmp / f"{self.tag}-srv{ttl}"),
                                  probe_host=self.cli, smbd=False).start()
            self.server.wait_ready(timeout=40)
        self.client_conf = S.client_conf(str(self.tmp / self.tag),
                                         SC.Scenario("cli"))

    def start_client(self, which):
        host = self.c1_host if which == "c1" else self.c2_host
        scn = SC.Scenario(f"wins-{which}", netbios_name="NBTTEST", aliases=(),
                          share="", extra=(("wins server", SRV),))
        s = S.Samba(host, scn, str(self.tmp / f"{self.tag}-{which}"),
                    probe_host=self.cli, smbd=False).start()
        setattr(self, which, s)
        return s

    def lookup(self, name):
        """Addresses `nmblookup -U srv -R name` prints ([] = not found)."""
        # Samba 4.17's nmblookup: --recursion sets RD (-R is now
        # --name-resolve)
        p = self.cli.run(["nmblookup", "-s", self.client_conf, "-U", SRV,
                          "--recursion", name], timeout=20)
        base = name.split("#")[0]
        return sorted(m.group(1) for m in re.finditer(
            r"^(\d+\.\d+\.\d+\.\d+) " + re.escape(base) + r"<", p.stdout,
            re.M))

    def snapshot(self, step):
        self.obs[step] = {n: self.lookup(n) for n in NAMES}
        return self.obs[step]

    def wait_lookup(self, name, want, timeout):
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.lookup(name)
            if want(got):
                return got
            time.sleep(0.5)
        return got

    def stats(self):
        return self.server.stats()["wins"] if self.kind == "nbtd" else None

    def stop_client(self, which):
        """SIGTERM (nmbd releases its names with the WINS server)."""
        s = getattr(self, which)
        if s is not None:
            s.stop()
            setattr(self, which, None)

    def stop_server(self):
        if self.kind == "nbtd":
            return self.server.stop()[0]
        # nmbd writes wins.dat when it stops (wins_write_database); keep it
        if self.server.root is None:
            return 0  # stopped already
        p = self.server.nmbd
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        src = os.path.join(self.server.root, "state", "wins.dat")
        if os.path.exists(src):
            self.winsdat = str(self.tmp / "nmbd-wins.dat")
            shutil.copy(src, self.winsdat)
        self.server.stop()
        return 0


def log_text(samba):
    with open(os.path.join(samba.logdir, "nmbd.log"), errors="replace") as f:
        return f.read()


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wins-lab")
    with Lab() as lab:
        a = Cell(lab, "a", "nbtd", tmp)
        b = Cell(lab, "b", "nmbd", tmp)
        lab.wait_links()
        for c in (a, b):
            c.start_server()
        for c in (a, b):
            c.start_client("c1")
        for c in (a, b):
            c.c1.wait_ready(timeout=40)
        yield a, b
        for c in (a, b):
            c.stop_client("c2")
            c.stop_client("c1")
            c.stop_server()
        write_report(a, b)


def write_report(a, b):
    out = os.environ.get("NB_LAB_OUT") or tempfile.gettempdir()
    os.makedirs(out, exist_ok=True)
    rows = ["| step | name | nbtd (LAN a) | nmbd (LAN b) |",
            "|---|---|---|---|"]
    for step in a.obs:
        for n in NAMES:
            ra = a.obs[step].get(n)
            rb = b.obs.get(step, {}).get(n)
            rows.append(f"| {step} | {n} | {' '.join(ra) or 'NAM_ERR'} | "
                        f"{' '.join(rb or []) or 'NAM_ERR'} |")
    path = os.path.join(out, "wins-side-by-side.md")
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(rows) + "\n")
        f.write("\nnbtd counters: " + json.dumps(a.counters) + "\n")
    print(f"side by side: {path}")


def test_registration_resolves(cells):
    a, b = cells
    for c in (a, b):
        c.wait_lookup("NBTTEST#20", lambda g: C1 in g, 20)
    snap_a, _ = a.snapshot("registered"), b.snapshot("registered")
    for n in ("NBTTEST#00", "NBTTEST#03", "NBTTEST#20"):
        assert snap_a[n] == [C1], (n, snap_a)
    # nmbd registers its workgroup names multi-homed (opcode 0xF, group):
    # nbtd keeps them (its own address is a static member of TESTGRP too)
    for n in ("TESTGRP#00", "TESTGRP#1e"):
        assert C1 in snap_a[n] and SRV in snap_a[n], (n, snap_a)
    st = a.stats()
    assert st["counters"]["registrations"] >= 5, st
    assert st["verdict"]["HANDLED"] >= 5


def test_refresh_keeps_names(cells):
    """Granted 60 s: without refreshes the names would be gone at 60 s."""
    a, b = cells
    before = a.stats()["counters"]["refreshes"]
    time.sleep(TTL + 15)
    snap = a.snapshot("after 75 s (refreshed)")
    b.snapshot("after 75 s (refreshed)")
    assert snap["NBTTEST#20"] == [C1], snap
    st = a.stats()["counters"]
    assert st["refreshes"] - before >= 3, st
    assert st["ttl_capped"] >= 1  # nmbd proposes 3 days


def test_second_claimant_refused_after_challenge(cells):
    a, b = cells
    for c in (a, b):
        c.start_client("c2")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if a.stats()["counters"]["challenges_kept"] >= 3:
            break
        time.sleep(0.5)
    time.sleep(3)
    snap = a.snapshot("second claimant")
    b.snapshot("second claimant")
    st = a.stats()["counters"]
    assert st["challenges"] >= 3 and st["challenges_kept"] >= 3, st
    assert st["wacks"] >= 3, st
    for n in ("NBTTEST#00", "NBTTEST#03", "NBTTEST#20"):
        assert snap[n] == [C1], (n, snap)  # never two owners
    # group names accumulate
    for n in ("TESTGRP#00", "TESTGRP#1e"):
        assert C1 in snap[n] and C2 in snap[n], (n, snap)
    assert re.search(r"NBTTEST<20>", log_text(a.c2)), log_text(a.c2)[-2000:]


def test_release_on_shutdown(cells):
    a, b = cells
    for c in (a, b):
        c.stop_client("c2")
        c.stop_client("c1")
    got = a.wait_lookup("NBTTEST#20", lambda g: g == [], 10)
    snap = a.snapshot("clients stopped")
    b.snapshot("clients stopped")
    assert got == [] and snap["NBTTEST#00"] == [], snap
    st = a.stats()["counters"]
    a.counters = st
    assert st["releases"] >= 3, st
    assert C1 not in snap["TESTGRP#1e"], snap


def test_nmbd_wins_dat_imports(cells, tmp_path):
    """nmbd's own wins.dat (written at its shutdown) migrates with one
    command. The reference server above grants 60 s (nmbd does not import
    records with under 60 s to live, nor does `nbt wins import`), so a
    fresh nmbd WINS server with its default TTLs takes two registrations,
    stops, and its wins.dat is imported."""
    a, b = cells
    assert b.stop_server() == 0
    b.start_server(ttl=None)
    # register two names with nmbd's WINS server from the client host
    s = b.cli.socket()
    s.bind((CLI, 0))
    s.settimeout(3)
    for i, (name, sfx, grp) in enumerate([("MIGRATED", 0x20, False),
                                          ("MIGGRP", 0x1c, True)]):
        s.sendto(W.registration(0x700 + i, name, sfx, CLI, group=grp,
                                ttl=3600), (SRV, 137))
        m = W.parse(s.recvfrom(1024)[0])
        assert m["rcode"] == 0, m
    s.close()
    assert b.stop_server() == 0
    assert b.winsdat, "nmbd wrote no wins.dat"
    out = os.environ.get("NB_LAB_OUT") or tempfile.gettempdir()
    os.makedirs(out, exist_ok=True)
    shutil.copy(b.winsdat, os.path.join(out, "nmbd-wins.dat"))
    text = open(b.winsdat, encoding="ascii", errors="replace").read()
    assert text.startswith("VERSION 1 0"), text
    db = str(tmp_path / "migrated.db")
    p = W.nbt_wins("import", b.winsdat, db=db)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("2 imported"), p.stdout  # nmbd's own: S
    p = W.nbt_wins("list", "--json", db=db)
    names = {n["name"]: n for n in json.loads(p.stdout)["names"]}
    assert [m["ip"] for m in names["MIGRATED<20>"]["members"]] == [CLI]
    assert names["MIGGRP<1c>"]["group"] is True

