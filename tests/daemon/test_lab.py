"""nbtd against the real thing, in a private lab (root only).

One LAN 192.0.2.0/24 (TEST-NET-1) of network namespaces built with the
conformance lab's library (conformance/nbtlab/lab.py), always torn down:

  nmbd  192.0.2.10  Debian's nmbd: NBTTEST, alias NBTALIAS, TESTGRP
  nbtd  192.0.2.20  nbtd (as root, drops to nobody): XYKON-2, XALIAS, TESTGRP
  peer  192.0.2.30  a second nbtd / a second nmbd for the conflict tests
  cli   192.0.2.100 nmblookup and nbt

Checks (issue 6, "Verified against the real thing"): nmblookup finds
nbtd's names; `nbt lookup` finds nmbd's; `nmblookup -A` and `nbt status`
show equivalent tables (for both daemons); conflicts both ways; the
malformed-packet probes leave nbtd up and answering; limited broadcasts
(255.255.255.255) are answered once, subnet broadcasts still once, those
from an interface nbtd is not on are dropped, and --no-limited-broadcast
turns them off; a graceful stop broadcasts releases. Run by ctest as `lab_nbtd` (label "lab"; exit 77 =
skipped when not root).
"""

import re
import signal
import socket
import subprocess
import time

import pytest

import nbtdtest as T
from nbtlab import samba as S
from nbtlab import scenarios as SC
from nbtlab.lab import Lab

BCAST = "192.0.2.255"
NMBD, NBTD, PEER, CLI = "192.0.2.10", "192.0.2.20", "192.0.2.30", \
    "192.0.2.100"
SCN = SC.Scenario("nbtd-lab")


class World:
    pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    w = World()
    w.tmp = tmp_path_factory.mktemp("lab")
    with Lab() as lab:
        lan = lab.add_lan("a")
        w.lab = lab
        w.nmbd_host = lab.add_host("nmbd", lan, NMBD)
        w.nbtd_host = lab.add_host("nbtd", lan, NBTD)
        w.peer = lab.add_host("peer", lan, PEER)
        w.cli = lab.add_host("cli", lan, CLI)
        lab.wait_links()
        w.samba = S.Samba(w.nmbd_host, SCN, str(w.tmp / "nmbd"),
                          probe_host=w.cli, smbd=False).start()
        w.nbtd = start_nbtd(w.nbtd_host, NBTD, "XYKON-2", ["XALIAS"])
        w.nbtd.wait_names()
        w.samba.wait_ready(timeout=30)
        w.client_conf = S.client_conf(str(w.tmp), SCN)
        yield w
        w.samba.stop()
        w.nbtd.stop()


def start_nbtd(host, addr, name, aliases=(), extra=()):
    args = ["--interface", f"{addr}/24", "--name", name,
            "--workgroup", "TESTGRP", "--rate-limit", "1000"]
    for a in aliases:
        args += ["--alias", a]
    return T.Nbtd(args + list(extra), popen=host.popen).start()


def nmblookup(w, *args):
    p = w.cli.run(["nmblookup", "-s", w.client_conf] + list(args),
                  timeout=20)
    return p.returncode, p.stdout


def nbt_cli(w, *args):
    return T.nbt(*args, prefix=w.cli.argv([]))


def test_nbtd_runs_as_nobody(lab):
    with open(f"/proc/{lab.nbtd.pid}/status") as f:
        assert re.search(r"^Uid:\s+65534\s+65534\s+65534", f.read(), re.M)


def test_nmblookup_finds_nbtd_names(lab):
    for name in ("XYKON-2", "XYKON-2#00", "XYKON-2#03", "XALIAS"):
        rc, out = nmblookup(lab, "-B", BCAST, name)
        assert f"{NBTD} {name.split('#')[0]}<" in out, (name, out)
    rc, out = nmblookup(lab, "-U", NBTD, "XALIAS#00")
    assert f"{NBTD} XALIAS<00>" in out, out
    # the group: both nmbd and nbtd are in TESTGRP
    rc, out = nmblookup(lab, "-B", BCAST, "TESTGRP#1e")
    assert f"{NBTD} TESTGRP<1e>" in out and f"{NMBD} TESTGRP<1e>" in out, out


def test_nbt_lookup_finds_nmbd_names(lab):
    p = nbt_cli(lab, "lookup", "-B", BCAST, "NBTTEST", "NBTALIAS<00>",
                "NBTTEST<03>")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [f"{NMBD} NBTTEST<20>",
                                     f"{NMBD} NBTALIAS<00>",
                                     f"{NMBD} NBTTEST<03>"]
    p = nbt_cli(lab, "lookup", "-U", NMBD, "NBTTEST<00>")
    assert p.returncode == 0 and p.stdout.strip() == f"{NMBD} NBTTEST<00>"
    rc, out = T.nbt_json("lookup", "-B", BCAST, "TESTGRP<00>",
                         prefix=lab.cli.argv([]))
    r = out["results"][0]
    assert rc == 0 and r["group"] is True
    assert set(r["addresses"]) == {NMBD, NBTD}  # every member (COLLECT)


def test_unicast_miss_answered_like_nmbd(lab):
    """nmblookup -U (RD=0) gets NAM_ERR from nmbd and from nbtd at once;
    `nbt lookup -U` sends RD=0 too and reports "not_found"."""
    for addr in (NMBD, NBTD):
        t0 = time.monotonic()
        rc, out = nmblookup(lab, "-U", addr, "NOSUCHNAME#00")
        took = time.monotonic() - t0
        assert "name_query failed to find name NOSUCHNAME" in out, out
        assert took < 1.5, (addr, took)  # answered, not timed out
        rc, out = T.nbt_json("lookup", "-U", addr, "--timeout", "3000",
                             "NOSUCHNAME<00>", prefix=lab.cli.argv([]))
        assert rc == 1 and out["results"][0]["result"] == "not_found", out


ROW = re.compile(r"^\s+(.*?)\s+<([0-9a-f]{2})> - (<GROUP> |\s{8})([BPMH]) "
                 r"(.*)$")


def table(text):
    """(name, suffix, group, type, flags) rows of nmblookup -A style output."""
    rows = set()
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            rows.add((m.group(1), int(m.group(2), 16),
                      m.group(3).startswith("<GROUP>"),
                      m.group(4), m.group(5).strip()))
    return rows


@pytest.mark.parametrize("addr", [NBTD, NMBD])
def test_status_tables_equivalent(lab, addr):
    rc, theirs = nmblookup(lab, "-A", addr)
    p = nbt_cli(lab, "status", addr)
    assert p.returncode == 0, p.stderr
    ours = table(p.stdout)
    assert table(theirs) == ours, (theirs, p.stdout)
    assert len(ours) == 8
    if addr == NBTD:
        assert ("TESTGRP", 0x1e, True, "B", "<ACTIVE>") in ours
        assert ("XYKON-2", 0x00, False, "B", "<ACTIVE>") in ours
    assert "MAC Address = 00-00-00-00-00-00" in p.stdout


def test_nbtd_refuses_a_name_nmbd_holds(lab):
    d = start_nbtd(lab.peer, PEER, "NBTTEST", extra=["--alias", "FREE"])
    try:
        names = d.wait_names()
        for sfx in ("00", "03", "20"):
            n = names[f"NBTTEST<{sfx}>"]
            assert n["state"] == "refused" and n["peer"] == NMBD, n
            assert n["rcode"] == 6
        assert names["FREE<20>"]["state"] == "active"
        assert re.search(r"name NBTTEST<00> refused: 192\.0\.2\.10 answered "
                         r"rcode 6 \(ACT_ERR", d.logtext())
        # nmbd still owns it; the refused node does not answer for it
        p = nbt_cli(lab, "lookup", "-B", BCAST, "NBTTEST<00>")
        assert p.stdout.strip() == f"{NMBD} NBTTEST<00>"
    finally:
        assert d.stop()[0] == 0


def test_nmbd_registration_of_our_name_is_defended(lab):
    before = lab.nbtd.stats()["name-service"]["counters"]["defences"]
    scn = SC.Scenario("nbtd-lab-peer", netbios_name="XYKON-2", aliases=())
    peer = S.Samba(lab.peer, scn, str(lab.tmp / "nmbd-peer"),
                   probe_host=lab.cli, smbd=False).start()
    try:
        deadline = time.monotonic() + 15
        log = ""
        while time.monotonic() < deadline:
            with open(lab.tmp / "nmbd-peer" / "nmbd.log", errors="replace") \
                    as f:
                log = f.read()
            if "Failed to register my name XYKON-2<20>" in log:
                break
            time.sleep(0.3)
        assert re.search(r"Failed to register my name XYKON-2<00>", log), log
        after = lab.nbtd.stats()["name-service"]["counters"]["defences"]
        assert after - before >= 3
        names = lab.nbtd.names()
        assert all(names[f"XYKON-2<{s}>"]["state"] == "active"
                   for s in ("00", "03", "20"))
        p = nbt_cli(lab, "lookup", "-B", BCAST, "XYKON-2<00>")
        assert p.stdout.strip() == f"{NBTD} XYKON-2<00>", p.stdout
    finally:
        peer.stop()


def test_malformed_probes_leave_nbtd_answering(lab):
    before = lab.nbtd.stats()["name-service"]["udp"]["rx"]
    s = lab.cli.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((CLI, 0))
    for pkt in T.malformed_probes():
        s.sendto(pkt, (NBTD, 137))
        s.sendto(pkt, (BCAST, 137))
    s.close()
    time.sleep(0.5)
    assert lab.nbtd.proc.poll() is None
    st = lab.nbtd.stats()["name-service"]
    assert st["udp"]["rx"] - before >= 2 * len(T.malformed_probes())
    rc, out = nmblookup(lab, "-U", NBTD, "XYKON-2#20")
    assert f"{NBTD} XYKON-2<20>" in out
    # nmbd survived them too (it got the broadcast copies)
    assert lab.samba.alive()


# ---- limited broadcasts (255.255.255.255) ---------------------------------

LBCAST = "255.255.255.255"


def bcast_socket(w, src=CLI):
    """A socket in cli (SO_BROADCAST), bound to `src`: the kernel sends
    255.255.255.255 out of the interface holding that address."""
    s = w.cli.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((src, 0))
    s.settimeout(0.2)
    return s


def heard(s, seconds=1.0):
    """(source address, packet, parsed header) of every datagram `s` (with
    a short timeout) receives within `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            pkt, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        yield src[0], pkt, T.parse_header(pkt)


def answers(s, trn_id, seconds=1.0):
    """(source address, packet) of every response with `trn_id` heard on
    `s` within `seconds`."""
    return [(src, pkt) for src, pkt, h in heard(s, seconds)
            if h["response"] and h["trn_id"] == trn_id]


def ns_stats(w):
    return w.nbtd.stats()["name-service"]


def test_limited_broadcast_query_answered(lab):
    """A NAME QUERY REQUEST broadcast to 255.255.255.255 (DHCP-less and
    embedded clients do this; nmbd hears it on 0.0.0.0): nbtd answers once,
    positively, and the datagram came in on the limited-broadcast path."""
    before = ns_stats(lab)
    s = bcast_socket(lab)
    try:
        s.sendto(T.query(0x6c01, "XYKON-2", 0x00, bcast=True), (LBCAST, 137))
        got = answers(s, 0x6c01)
    finally:
        s.close()
    assert [src for src, _ in got] == [NBTD], got  # one answer, from nbtd
    h = T.parse_header(got[0][1])
    assert h["rcode"] == 0 and h["an"] == 1, h
    assert got[0][1][-4:] == socket.inet_aton(NBTD)  # NB_ADDRESS
    after = ns_stats(lab)
    lb0, lb1 = before["limited_broadcast"], after["limited_broadcast"]
    assert lb1["enabled"] is True
    assert lb1["rx"] - lb0["rx"] == 1, (lb0, lb1)
    assert after["counters"]["answers_positive"] - \
        before["counters"]["answers_positive"] == 1


def test_subnet_broadcast_and_unicast_answered_once(lab):
    """The 0.0.0.0 socket hears subnet broadcasts too (Linux delivers a
    broadcast to every matching socket): it drops them, so a query to
    192.0.2.255 is answered exactly once. Unicast to nbtd's address goes
    to the more specific socket only."""
    s = bcast_socket(lab)
    try:
        before = ns_stats(lab)
        s.sendto(T.query(0x6c02, "XYKON-2", 0x00, bcast=True), (BCAST, 137))
        got = answers(s, 0x6c02)
        mid = ns_stats(lab)
        s.sendto(T.query(0x6c03, "XYKON-2", 0x00), (NBTD, 137))
        got_u = answers(s, 0x6c03)
        after = ns_stats(lab)
    finally:
        s.close()
    assert [src for src, _ in got] == [NBTD], got
    assert [src for src, _ in got_u] == [NBTD], got_u
    lb0, lb1, lb2 = (x["limited_broadcast"] for x in (before, mid, after))
    assert lb1["not_limited"] - lb0["not_limited"] == 1, (lb0, lb1)
    assert lb1["rx"] == lb0["rx"]
    assert mid["counters"]["answers_positive"] - \
        before["counters"]["answers_positive"] == 1
    assert lb2 == lb1, (lb1, lb2)  # unicast never reached 0.0.0.0


def test_limited_broadcast_on_other_interface_dropped(lab):
    """A limited broadcast arriving on an interface nbtd is not configured
    for is dropped and counted (a veth cli <-> nbtd, 198.51.100.0/24, added
    here and removed after)."""
    ns_nbtd, ns_cli = lab.nbtd_host.ns, lab.cli.ns
    subprocess.run(["ip", "-n", ns_nbtd, "link", "add", "lbx0", "type",
                    "veth", "peer", "name", "lbx1", "netns", ns_cli],
                   check=True)
    try:
        for ns, dev, addr in ((ns_nbtd, "lbx0", "198.51.100.20/24"),
                              (ns_cli, "lbx1", "198.51.100.100/24")):
            subprocess.run(["ip", "-n", ns, "addr", "add", addr, "dev", dev],
                           check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"],
                           check=True)
        time.sleep(0.5)
        before = ns_stats(lab)["limited_broadcast"]
        s = bcast_socket(lab, "198.51.100.100")
        try:
            s.sendto(T.query(0x6c04, "XYKON-2", 0x00, bcast=True),
                     (LBCAST, 137))
            got = answers(s, 0x6c04)
        finally:
            s.close()
        after = ns_stats(lab)["limited_broadcast"]
    finally:
        subprocess.run(["ip", "-n", ns_nbtd, "link", "del", "lbx0"])
    assert got == []
    assert after["other_iface"] - before["other_iface"] == 1, (before, after)
    assert after["rx"] == before["rx"]


def test_limited_broadcast_switch_off(lab):
    """--no-limited-broadcast: a second nbtd (on peer) does not hear
    255.255.255.255 and opens no 0.0.0.0 socket; subnet broadcasts still
    work."""
    d = start_nbtd(lab.peer, PEER, "LBOFF", extra=["--no-limited-broadcast"])
    try:
        d.wait_names()
        s = bcast_socket(lab)
        try:
            s.sendto(T.query(0x6c05, "LBOFF", 0x00, bcast=True),
                     (LBCAST, 137))
            got_l = answers(s, 0x6c05)
            s.sendto(T.query(0x6c06, "LBOFF", 0x00, bcast=True),
                     (BCAST, 137))
            got_s = answers(s, 0x6c06)
        finally:
            s.close()
        st = d.stats()["name-service"]
        assert got_l == [], got_l
        assert [src for src, _ in got_s] == [PEER], got_s
        assert st["limited_broadcast"]["enabled"] is False
        assert "limited broadcast" not in d.logtext()
        assert "0.0.0.0:137 (limited broadcast)" in lab.nbtd.logtext()
    finally:
        assert d.stop()[0] == 0


def test_zz_graceful_stop_broadcasts_releases(lab):
    """Last: stops the lab's nbtd. RFC 1001 15.5.3 / RFC 1002 5.1.1.4: a B
    node releases its names by broadcast (nmbd does not)."""
    cap = lab.cli.socket()
    cap.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    cap.bind((BCAST, 137))
    cap.settimeout(0.2)
    rc, took = lab.nbtd.stop(signal.SIGTERM)
    assert rc == 0 and took < 5.0
    released = {T.first_name(pkt) for src, pkt, h in heard(cap)
                if src == NBTD and not h["response"] and h["opcode"] == 6}
    cap.close()
    assert len(released) == 8, released
    rc, out = nmblookup(lab, "-B", BCAST, "XYKON-2")
    assert NBTD not in out
