"""nbtd as a WINS server on loopback high ports, unprivileged, with its real
SQLite database: registration, refresh, release, queries, conflicts (the
challenge of the owner), groups, multi-homed registrations, persistence
across restarts, `nbt wins`, wins.dat import/export, smb.conf's
`wins support`, and malformed requests.

Run by ctest as `wins_loopback`. Every daemon binds 127.0.0.1 on a free
high port and is stopped by its pid.
"""

import os
import socket
import struct
import subprocess
import time

import pytest

import nbtdtest as T
import winstest as W


@pytest.fixture()
def server(tmp_path):
    port = T.free_udp_port()
    db = str(tmp_path / "wins.db")
    d = W.wins_daemon(port, db)
    c = W.Client("127.0.0.1", port)
    assert W.wait_ready(c), d.logtext()
    d.port, d.db, d.client = port, db, c
    yield d
    c.close()
    rc, _ = d.stop()
    assert rc == 0, d.logtext()


def test_register_query_release(server):
    c = server.client
    m = c.register("XYKON-2", 0x20, "127.0.0.5", ttl=259200)
    assert m and m["rcode"] == 0 and m["flags"] == 0xAD80
    assert m["ttl"] == 259200
    assert c.resolve("XYKON-2", 0x20) == ["127.0.0.5"]
    assert c.resolve("xykon-2", 0x20) == ["127.0.0.5"]  # case-insensitive
    assert c.resolve("NOBODY", 0x20) == []
    # a release from an address that is not the owner's is refused
    m = c.release("XYKON-2", 0x20, "127.0.0.5")  # sent from 127.0.0.1
    assert m["rcode"] == 6
    assert c.resolve("XYKON-2", 0x20) == ["127.0.0.5"]


def test_node_status_and_plain_queries_reach_the_node(server):
    """Node status and queries without RD are for the node, not the NBNS
    (the tap passes them on): the server's own names answer both."""
    p = T.nbt("status", "--port", server.port, "127.0.0.1")
    assert p.returncode == 0, p.stderr
    assert "WINSSRV" in p.stdout and "TESTGRP" in p.stdout, p.stdout
    c = server.client
    assert c.resolve("WINSSRV", 0x20, rd=False) == ["127.0.0.1"]
    # a name only the NBNS knows: the node does not have it (RD clear)
    assert c.register("ONLYWINS", 0x20, "127.0.0.7")["rcode"] == 0
    assert c.resolve("ONLYWINS", 0x20, rd=False) in (None, [])
    assert c.resolve("ONLYWINS", 0x20, rd=True) == ["127.0.0.7"]


def test_release_from_owner(server):
    c = server.client
    assert c.register("OWNED", 0x00, "127.0.0.1")["rcode"] == 0
    m = c.release("OWNED", 0x00, "127.0.0.1")
    assert m["rcode"] == 0 and m["opcode"] == W.OP_REL
    assert c.resolve("OWNED", 0x00) == []


def test_ttl_policy(server):
    c = server.client
    assert c.register("SHORT", 0x00, "127.0.0.1", ttl=5)["ttl"] == 300
    assert c.register("INF", 0x00, "127.0.0.1", ttl=0)["ttl"] == 518400
    # longer than nmbd's 518400 clamp: granted as proposed (RFC 1001
    # 15.1.3.2: at least the proposal)
    assert c.register("LONG", 0x00, "127.0.0.1",
                      ttl=10000000)["ttl"] == 10000000


def test_refresh_opcodes(server):
    c = server.client
    assert c.register("FRESH", 0x00, "127.0.0.1", ttl=600)["rcode"] == 0
    for op in (8, 9):
        m = c.register("FRESH", 0x00, "127.0.0.1", ttl=900, opcode=op)
        assert m["rcode"] == 0 and m["ttl"] == 900
    m = c.register("FRESH", 0x00, "127.0.0.9", ttl=900, opcode=8)
    assert m["rcode"] == 6  # not the owner


def test_groups_accumulate(server):
    c = server.client
    for ip in ("127.0.0.11", "127.0.0.12", "127.0.0.13"):
        assert c.register("TEAM", 0x1c, ip, group=True)["rcode"] == 0
    assert c.resolve("TEAM", 0x1c) == ["127.0.0.11", "127.0.0.12",
                                       "127.0.0.13"]
    assert c.register("TEAM", 0x1c, "127.0.0.14")["rcode"] == 6  # unique


def test_multihomed(server):
    c = server.client
    t = c.next_trn()
    pkt = W.request(t, W.OP_MULTI, "MULTI", 0x20,
                    [(W.ONT_H, "127.0.0.21"), (W.ONT_H, "127.0.0.22")])
    assert c.ask(pkt, t)["rcode"] == 0
    assert c.resolve("MULTI", 0x20) == ["127.0.0.21", "127.0.0.22"]
    # nmbd registers its workgroup names multi-homed as groups
    t = c.next_trn()
    pkt = W.request(t, W.OP_MULTI, "TESTWG", 0x1e, [(W.G | W.ONT_H,
                                                     "127.0.0.23")])
    assert c.ask(pkt, t)["rcode"] == 0
    assert c.resolve("TESTWG", 0x1e) == ["127.0.0.23"]


def test_conflict_silent_owner_moves(server):
    """The owner (127.0.0.31, nobody listening) does not answer the
    challenge: WACK, three queries, then the name moves."""
    c = server.client
    assert c.register("MOVER", 0x20, "127.0.0.31")["rcode"] == 0
    t = c.next_trn()
    c.send(W.registration(t, "MOVER", 0x20, "127.0.0.1"))
    wack = c.recv(2)
    assert wack["opcode"] == W.OP_WACK and wack["trn"] == t
    assert wack["ttl"] == 6
    t0 = time.monotonic()
    m = c.recv(wack["ttl"] + 2)
    assert m and m["trn"] == t and m["rcode"] == 0
    assert 2.5 < time.monotonic() - t0 < 5
    assert c.resolve("MOVER", 0x20) == ["127.0.0.1"]


def test_conflict_owner_defends(server):
    """The owner answers the challenge: the claimant gets ACT_ERR."""
    owner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    owner.bind(("127.0.0.41", server.port))
    owner.settimeout(3)
    try:
        c = server.client
        assert c.register("KEEPER", 0x20, "127.0.0.41")["rcode"] == 0
        t = c.next_trn()
        c.send(W.registration(t, "KEEPER", 0x20, "127.0.0.1"))
        q, addr = owner.recvfrom(1024)
        h = W.parse(q)
        assert h["opcode"] == 0 and not h["response"]
        assert h["flags"] & 0x0100 == 0  # RD clear: asks the node
        answer = struct.pack(">HHHHHH", h["trn"], 0x8500, 0, 1, 0, 0) + \
            W.encode_name("KEEPER", 0x20) + \
            struct.pack(">HHIHH", 0x20, 1, 600, 6, W.ONT_H) + \
            W.ip_bytes("127.0.0.41")
        owner.sendto(answer, addr)
        m = c.ask(None, t)  # already sent: wait (the WACK is skipped)
        assert m and m["rcode"] == 6
        assert c.resolve("KEEPER", 0x20) == ["127.0.0.41"]
    finally:
        owner.close()


def test_persistence_and_tools(tmp_path):
    port = T.free_udp_port()
    db = str(tmp_path / "wins.db")
    d = W.wins_daemon(port, db)
    c = W.Client("127.0.0.1", port)
    try:
        assert W.wait_ready(c), d.logtext()
        for i in range(50):
            assert c.register(f"HOST{i}", 0x00, f"127.0.1.{i}")["rcode"] == 0
        assert c.register("CREW", 0x00, "127.0.2.1", group=True)["rcode"] == 0
        assert c.register("CREW", 0x00, "127.0.2.2", group=True)["rcode"] == 0
        # readers work while nbtd runs; writers are refused
        p = W.nbt_wins("show", "HOST7<00>", db=db)
        assert p.returncode == 0 and "127.0.1.7" in p.stdout, p.stderr
        p = W.nbt_wins("delete", "HOST7<00>", db=db)
        assert p.returncode == 3 and "running nbtd" in p.stderr
        stats = d.stats()["wins"]
        assert stats["db"]["commits"] >= 1
        assert stats["counters"]["registrations"] == 52
        rc, _ = d.stop()
        assert rc == 0
        # restart: everything is back
        d = W.wins_daemon(port, db)
        assert W.wait_ready(c), d.logtext()
        assert c.resolve("HOST49", 0x00) == ["127.0.1.49"]
        assert c.resolve("CREW", 0x00) == ["127.0.2.1", "127.0.2.2"]
        rc, _ = d.stop()
        assert rc == 0
        # nbt wins with nbtd stopped
        p = W.nbt_wins("list", "--json", db=db)
        assert p.returncode == 0
        import json
        names = {n["name"]: n for n in json.loads(p.stdout)["names"]}
        assert len(names) == 51
        assert names["CREW<00>"]["kind"] == "group"
        assert [m["ip"] for m in names["CREW<00>"]["members"]] == \
            ["127.0.2.1", "127.0.2.2"]
        p = W.nbt_wins("delete", "HOST7<00>", "HOST8<00>", db=db)
        assert p.returncode == 0 and p.stdout.strip() == "2 deleted"
        p = W.nbt_wins("show", "HOST7<00>", db=db)
        assert p.returncode == 1
        out = tmp_path / "wins.dat"
        p = W.nbt_wins("export", str(out), db=db)
        assert p.returncode == 0
        lines = out.read_text().splitlines()
        assert lines[0] == "VERSION 1 0"
        assert len(lines) == 50
        assert any(l.startswith('"CREW#00" ') and
                   l.endswith(" 127.0.2.1 127.0.2.2 e4R") for l in lines)
        # import into a fresh database: the same export back
        db2 = str(tmp_path / "again.db")
        p = W.nbt_wins("import", str(out), db=db2)
        assert p.returncode == 0 and p.stdout.startswith("49 imported"), \
            p.stdout + p.stderr
        out2 = tmp_path / "again.dat"
        assert W.nbt_wins("export", str(out2), db=db2).returncode == 0
        assert sorted(out2.read_text().splitlines()) == sorted(lines)
    finally:
        c.close()
        d.stop()


def test_import_real_nmbd_wins_dat(tmp_path):
    """tests/wins/golden/nmbd-wins.dat: written by Samba 4.17.12's nmbd (a
    WINS server in the lab) when it stopped, with two names registered by
    a client. Its own names (0x66R) and its 0.0.0.0 group records are left
    out; the rest imports as it was on that day (--now)."""
    golden = os.path.join(os.path.dirname(__file__), "golden",
                          "nmbd-wins.dat")
    db = str(tmp_path / "golden.db")
    p = W.nbt_wins("import", "--now", "1795287689", golden, db=db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("2 imported, 0 expired"), p.stdout
    p = W.nbt_wins("show", "--json", "MIGRATED<20>", "MIGGRP<1c>", db=db)
    import json
    names = {n["name"]: n for n in json.loads(p.stdout)["names"]}
    assert names["MIGRATED<20>"]["kind"] == "unique"
    assert names["MIGRATED<20>"]["members"][0]["ip"] == "192.0.2.100"
    assert names["MIGGRP<1c>"]["kind"] == "internet-group"
    assert names["MIGGRP<1c>"]["members"][0]["nb_flags"] == 0xE000
    # 30 s before those names die: under nmbd's 60 s, nothing is imported
    p = W.nbt_wins("import", "--now", "1795291259", golden,
                   db=str(tmp_path / "late.db"))
    assert p.returncode == 0 and p.stdout.startswith("0 imported, 2 expired")


def test_smbconf_wins_support(tmp_path):
    port = T.free_udp_port()
    conf = tmp_path / "smb.conf"
    conf.write_text("[global]\n  netbios name = SMBWINS\n"
                    "  workgroup = TESTGRP\n  wins support = yes\n"
                    "  interfaces = 127.0.0.1/8\n")
    d = T.Nbtd(["--smb-conf", str(conf), "--port", str(port),
                "--db", str(tmp_path / "w.db")] + W.DGRAM_OFF).start()
    c = W.Client("127.0.0.1", port)
    try:
        assert W.wait_ready(c, "SMBWINS"), d.logtext()
        assert c.register("FROMCONF", 0x00, "127.0.0.1")["rcode"] == 0
        assert c.resolve("FROMCONF", 0x00) == ["127.0.0.1"]
    finally:
        c.close()
        rc, _ = d.stop()
        assert rc == 0


def test_malformed_requests(server):
    """QDCOUNT 0, ARCOUNT 0, empty NB RDATA (CVE-2026-3238's shape), wrong
    opcodes and garbage: an error response or nothing, never a crash."""
    c = server.client
    good = W.registration(0x0101, "VICTIM", 0x00, "127.0.0.1")
    qd0 = good[:4] + b"\x00\x00" + good[6:]
    ar0 = good[:10] + b"\x00\x00" + good[12:12 + 34 + 4]
    empty = W.request(0x0103, W.OP_REG, "VICTIM", 0x00, [])
    empty_mh = W.request(0x0104, W.OP_MULTI, "VICTIM", 0x00, [])
    op3 = good[:2] + bytes([(3 << 3) | 1]) + good[3:]
    for pkt in T.malformed_probes() + [qd0, ar0, empty, empty_mh, op3]:
        c.send(pkt)
    got = {}
    while True:
        m = c.recv(1.0)
        if m is None:
            break
        got[m["trn"]] = m
    fmt = [m for m in got.values() if m["rcode"] == 1]
    assert len(fmt) >= 3, got  # ARCOUNT 0 and both empty RDATAs: FMT_ERR
    assert c.resolve("VICTIM", 0x00) == []
    assert server.proc.poll() is None
    v = server.stats()["wins"]["verdict"]
    assert v["INCOMPLETE"] >= 3
