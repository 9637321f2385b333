"""nbtd on loopback high ports, unprivileged: the real daemon, queried with
the built `nbt lookup`/`nbt status`/`nbt stats` and with raw packets.

Run by ctest as `daemon_loopback` (python3 -m pytest). Every daemon binds
127.0.0.x and 127.255.255.255 on a free high port and is stopped by pid.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

import nbtdtest as T

BCAST = "127.255.255.255"


def daemon(port, addr="127.0.0.1", name="XYKON-2", extra=()):
    d = T.Nbtd(["--interface", f"{addr}/8", "--port", str(port),
                "--name", name, "--alias", "XALIAS", "--workgroup", "TESTGRP",
                "--rate-limit", "1000", "--rate-limit-global", "100000"]
               + list(extra))
    return d.start()


@pytest.fixture(scope="module")
def nbtd():
    port = T.free_udp_port()
    d = daemon(port)
    d.port = port
    d.wait_names()
    yield d
    rc, _ = d.stop()
    assert rc == 0, d.logtext()


def sock(addr="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind((addr, 0))
    s.settimeout(1.5)
    return s


def test_registers_nmbd_name_set(nbtd):
    names = nbtd.names()
    want = {"XYKON-2<00>": False, "XYKON-2<03>": False, "XYKON-2<20>": False,
            "XALIAS<00>": False, "XALIAS<03>": False, "XALIAS<20>": False,
            "TESTGRP<00>": True, "TESTGRP<1e>": True}
    assert {k: v["group"] for k, v in names.items()} == want
    assert all(v["state"] == "active" for v in names.values())


def test_lookup_unicast(nbtd):
    p = T.nbt("lookup", "-U", "127.0.0.1", "--port", nbtd.port, "XYKON-2",
              "XYKON-2<00>", "xalias<03>", "TESTGRP<1e>")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "127.0.0.1 XYKON-2<20>", "127.0.0.1 XYKON-2<00>",
        "127.0.0.1 xalias<03>", "127.0.0.1 TESTGRP<1e>"]


def test_lookup_broadcast_json(nbtd):
    rc, out = T.nbt_json("lookup", "-B", BCAST, "--port", nbtd.port,
                         "XALIAS", "TESTGRP<00>")
    assert rc == 0, out
    r = {x["name"]: x for x in out["results"]}
    assert r["XALIAS<20>"]["addresses"] == ["127.0.0.1"]
    assert r["XALIAS<20>"]["group"] is False
    assert r["TESTGRP<00>"]["group"] is True
    assert r["TESTGRP<00>"]["responder"] == "127.0.0.1"


def test_lookup_miss_exit_codes(nbtd):
    # -U without -R asks the node itself (RD=0, as nmblookup): like nmbd, a
    # B node answers a miss with NAM_ERR at once (RFC 1002 4.2.14).
    t0 = time.monotonic()
    rc, out = T.nbt_json("lookup", "-U", "127.0.0.1", "--port", nbtd.port,
                         "--timeout", "3000", "NOPE", "XYKON-2")
    assert rc == 1
    assert [x["result"] for x in out["results"]] == ["not_found", "found"]
    assert time.monotonic() - t0 < 2.5  # an answer, not the timeout
    # -R asks it as an NBNS, which a B node is not (5.1.1.5): silence.
    rc, out = T.nbt_json("lookup", "-U", "127.0.0.1", "-R", "--port",
                         nbtd.port, "--timeout", "800", "NOPE")
    assert rc == 1 and out["results"][0]["result"] == "timeout"
    # Broadcast: never a negative answer (RFC 1002 5.1.1.5), so a timeout.
    rc, out = T.nbt_json("lookup", "-B", BCAST, "--port", nbtd.port, "NOPE")
    assert rc == 1 and out["results"][0]["result"] == "timeout"
    assert T.nbt("lookup").returncode == 2
    assert T.nbt("lookup", "-U", "300.1.1.1", "X").returncode == 2
    assert T.nbt("lookup", "BAD<zz>").returncode == 2


def test_status_table(nbtd):
    p = T.nbt("status", "--port", nbtd.port, "127.0.0.1")
    assert p.returncode == 0, p.stderr
    lines = [l.strip() for l in p.stdout.splitlines() if "<" in l]
    assert lines[0].startswith("XYKON-2         <00> -         B <ACTIVE>")
    assert "TESTGRP         <1e> - <GROUP> B <ACTIVE>" in lines
    assert len(lines) == 8
    rc, out = T.nbt_json("lookup", "-A", "127.0.0.1", "--port", nbtd.port)
    assert rc == 0
    names = out["results"][0]["names"]
    assert {(n["name"], n["suffix"], n["group"]) for n in names} == {
        ("XYKON-2", 0x00, False), ("XYKON-2", 0x03, False),
        ("XYKON-2", 0x20, False), ("XALIAS", 0x00, False),
        ("XALIAS", 0x03, False), ("XALIAS", 0x20, False),
        ("TESTGRP", 0x00, True), ("TESTGRP", 0x1e, True)}
    assert all(n["active"] and not n["conflict"] for n in names)


def test_status_of_a_silent_address(nbtd):
    rc, out = T.nbt_json("status", "--port", nbtd.port, "--timeout", "600",
                         "127.0.0.1", "127.0.0.3")
    assert rc == 1
    assert [r["result"] for r in out["results"]] == ["found", "no_reply"]


def test_status_not_answered_for_other_names(nbtd):
    # The seed answered node status for names it did not hold.
    rc, out = T.nbt_json("status", "--port", nbtd.port, "--timeout", "600",
                         "--name", "SOMEONE<00>", "127.0.0.1")
    assert rc == 1 and out["results"][0]["result"] == "no_reply"


def test_malformed_probes_leave_it_answering(nbtd):
    before = nbtd.stats()["name-service"]
    s = sock()
    for pkt in T.malformed_probes():
        s.sendto(pkt, ("127.0.0.1", nbtd.port))
        s.sendto(pkt, (BCAST, nbtd.port))
    time.sleep(0.3)
    after = nbtd.stats()["name-service"]
    bad = sum(after["drop"][k] - before["drop"][k]
              for k in ("TRUNCATED", "MALFORMED", "LIMIT", "INCOMPLETE",
                        "UNSUPPORTED"))
    assert bad >= len(T.malformed_probes()), (before["drop"], after["drop"])
    assert after["udp"]["rx"] - before["udp"]["rx"] >= \
        2 * len(T.malformed_probes())
    p = T.nbt("lookup", "-U", "127.0.0.1", "--port", nbtd.port, "XYKON-2")
    assert p.returncode == 0
    assert nbtd.proc.poll() is None


def test_raw_answer_flags(nbtd):
    """Positive answer to a unicast query: AA, R, same id, our address."""
    s = sock()
    s.sendto(T.query(0x5151, "XYKON-2", 0x00), ("127.0.0.1", nbtd.port))
    pkt, src = s.recvfrom(2048)
    h = T.parse_header(pkt)
    assert src == ("127.0.0.1", nbtd.port)
    assert h["trn_id"] == 0x5151 and h["response"] and h["opcode"] == 0
    assert h["nm_flags"] & 0x40  # AA
    assert h["rcode"] == 0 and h["an"] == 1
    assert T.first_name(pkt) == b"XYKON-2        \x00"
    assert pkt[-4:] == socket.inet_aton("127.0.0.1")


def test_defends_unique_registration(nbtd):
    """A unique registration of a name we hold, group names included, gets
    a NEGATIVE NAME REGISTRATION RESPONSE (ACT_ERR); a group registration
    of our group name goes unanswered (RFC 1002 5.1.1.5)."""
    s = sock("127.0.0.7")
    s.sendto(T.registration(0x0A0A, "XYKON-2", 0x20, "127.0.0.7"),
             (BCAST, nbtd.port))
    pkt, _ = s.recvfrom(2048)
    h = T.parse_header(pkt)
    assert h["trn_id"] == 0x0A0A and h["response"] and h["opcode"] == 5
    assert h["rcode"] == 6  # ACT_ERR
    s.sendto(T.registration(0x0B0B, "TESTGRP", 0x1e, "127.0.0.7"),
             (BCAST, nbtd.port))
    pkt, _ = s.recvfrom(2048)
    assert T.parse_header(pkt)["rcode"] == 6
    s.sendto(T.registration(0x0C0C, "TESTGRP", 0x00, "127.0.0.7", group=True),
             (BCAST, nbtd.port))
    with pytest.raises(socket.timeout):
        s.recvfrom(2048)
    assert nbtd.stats()["name-service"]["drop"]["GROUP_NOT_DEFENDED"] >= 1


def test_stats_text_and_sigusr1(nbtd):
    p = T.nbt("stats", "--control", nbtd.control)
    assert p.returncode == 0
    assert re.search(r"^name-service\.answers_positive [1-9]", p.stdout, re.M)
    assert "name-service.name XYKON-2<00> unique active" in p.stdout
    nbtd.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    assert "stats: name-service.rx_packets" in nbtd.logtext()
    assert T.nbt("stats", "--control", "/nonexistent/x").returncode == 3


def test_control_clients_that_vanish_do_not_kill_it():
    """A control client that goes away before its reply is written (an
    `nbt stats` killed mid-way) makes the reply's write fail with EPIPE.
    nbtd must ignore SIGPIPE in every configuration: here without the
    datagram service or session routes, which used to be what ignored it."""
    port = T.free_udp_port()
    d = daemon(port, addr="127.0.0.11", name="PIPETEST",
               extra=["--dgram-service", "no"])
    try:
        d.wait_names()
        for _ in range(200):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(d.control)
            # A reply larger than the socket buffer, and a reset on close
            # (unread data pending): the write hits a dead peer.
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            c.sendall(b"stats json\n")
            c.close()
        time.sleep(0.5)
        assert d.proc.poll() is None, "nbtd died: %s\n%s" % (
            d.proc.returncode, d.logtext()[-2000:])
        assert d.stats() is not None
    finally:
        rc, _ = d.stop()
    assert rc == 0, d.logtext()


def test_rate_limit_per_source():
    """Answers to one source are rate-limited (no amplifier)."""
    port = T.free_udp_port()
    d = T.Nbtd(["--interface", "127.0.0.1/8", "--port", str(port), "--name",
                "XYKON-2", "--rate-limit", "5"]).start()
    try:
        d.wait_names()
        s = sock("127.0.0.5")
        s.settimeout(0.3)
        for i in range(60):
            s.sendto(T.query(i, "XYKON-2", 0x00, qtype=0x21 if i % 2 else 0x20),
                     ("127.0.0.1", port))
        got = 0
        try:
            while True:
                s.recvfrom(2048)
                got += 1
        except socket.timeout:
            pass
        assert 5 <= got <= 15, got  # burst 10 plus what refills
        st = d.stats()["name-service"]
        assert st["counters"]["rate_limited"] >= 40
        # another source is not affected
        p = T.nbt("lookup", "-U", "127.0.0.1", "--port", port, "XYKON-2")
        assert p.returncode == 0
    finally:
        assert d.stop()[0] == 0


def capture_socket(port):
    """A third party listening to the loopback broadcast address."""
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((BCAST, port))
    c.settimeout(0.2)
    return c


def drain(c, seconds):
    pkts = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            pkts.append(c.recvfrom(2048))
        except socket.timeout:
            pass
    return pkts


def test_graceful_shutdown_releases_names():
    port = T.free_udp_port()
    cap = capture_socket(port)
    d = daemon(port)
    d.wait_names()
    drain(cap, 0.2)
    rc, took = d.stop(signal.SIGTERM)
    assert rc == 0 and took < 5.0, d.logtext()
    pkts = [p for p, src in drain(cap, 0.3) + [] if len(p) >= 12]
    released = set()
    for p in pkts:
        h = T.parse_header(p)
        if not h["response"] and h["opcode"] == 6:  # RFC 1002 4.2.9
            assert h["nm_flags"] & 0x01  # B
            released.add(T.first_name(p))
    assert len(released) == 8, released
    assert b"TESTGRP        \x1e" in released
    assert "stopped" in d.logtext()


def test_conflict_second_daemon_refused():
    """A second node claiming our unique name is refused (ACT_ERR) and says
    so; its group names coexist."""
    port = T.free_udp_port()
    a = daemon(port, "127.0.0.1")
    try:
        a.wait_names()
        b = daemon(port, "127.0.0.2", extra=["--alias", "OTHER"])
        try:
            names = b.wait_names()
            assert names["XYKON-2<00>"]["state"] == "refused"
            assert names["XYKON-2<00>"]["peer"] == "127.0.0.1"
            assert names["XALIAS<20>"]["state"] == "refused"
            assert names["OTHER<20>"]["state"] == "active"
            assert names["TESTGRP<00>"]["state"] == "active"
            assert re.search(r"name XYKON-2<00> refused: 127\.0\.0\.1 "
                             r"answered rcode 6", b.logtext())
            assert a.stats()["name-service"]["counters"]["defences"] >= 6
            # the holder still answers for it; the refused node does not
            p = T.nbt("lookup", "-B", BCAST, "--port", port, "XYKON-2<00>")
            assert p.stdout.strip() == "127.0.0.1 XYKON-2<00>"
        finally:
            assert b.stop()[0] == 0
    finally:
        assert a.stop()[0] == 0


def test_conflict_demand_marks_name():
    """NAME CONFLICT DEMAND (RFC 1002 4.2.8): the name is marked in conflict
    and no longer answered; node status shows CNF."""
    port = T.free_udp_port()
    d = daemon(port)
    try:
        d.wait_names()
        # conflict demand: a negative registration response, opcode 5,
        # rcode CFT_ERR (7), unsolicited (RFC 1002 4.2.8)
        pkt = struct.pack(">HHHHHH", 0x7777, 0xAD87, 0, 1, 0, 0) + \
            T.encode_name("XALIAS", 0x20) + \
            struct.pack(">HHIHHI", 0x20, 1, 0, 6, 0, 0)
        s = sock("127.0.0.9")
        s.sendto(pkt, ("127.0.0.1", port))
        time.sleep(0.3)
        assert d.names()["XALIAS<20>"]["state"] == "conflict", d.logtext()
        rc, out = T.nbt_json("lookup", "-U", "127.0.0.1", "--port", port,
                             "--timeout", "800", "XALIAS")
        assert rc == 1
        rc, out = T.nbt_json("status", "--port", port, "127.0.0.1")
        flags = {(n["name"], n["suffix"]): n for n in out["results"][0]["names"]}
        assert flags[("XALIAS", 0x20)]["conflict"] is True
    finally:
        assert d.stop()[0] == 0


def test_config_flags_and_dump(tmp_path):
    p = subprocess.run([T.NBTD, "--dump-config", "--name", "abc",
                        "--interface", "192.0.2.10/24", "--wins-server",
                        "192.0.2.1", "--scope", "example.com"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert "name = ABC\n" in p.stdout
    assert "interface = 192.0.2.10/24\n" in p.stdout
    assert "node-type = h\n" in p.stdout  # nmbd: H with a WINS server
    bad = subprocess.run([T.NBTD, "--interface", "192.0.2.300/24"],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2
    assert "bad IPv4 address" in bad.stderr
    conf = tmp_path / "nbtd.conf"
    conf.write_text("[global]\nname = FILE\nalias = A1\n[name-service]\n"
                    "port = 999\nrate-limit = x\n")
    bad = subprocess.run([T.NBTD, "-c", str(conf), "--dump-config"],
                         capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2
    assert f"{conf}:6:14: rate-limit: rate limit not" in bad.stderr


def test_smb_conf_import(tmp_path):
    smb = tmp_path / "smb.conf"
    smb.write_text("[global]\n  netbios name = nbttest\n"
                   "  netbios aliases = one two\n  workgroup = testgrp\n"
                   "  interfaces = 127.0.0.1/8\n  bind interfaces only = yes\n"
                   "  wins server = 192.0.2.1\n"
                   "  name resolve order = bcast wins\n"
                   "[printers]\n  path = /var/spool\n")
    p = subprocess.run([T.NBTD, "-s", str(smb), "--dump-config", "--alias",
                        "FLAG"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    assert "name = NBTTEST\n" in p.stdout
    assert "alias = FLAG\n" in p.stdout and "alias = ONE" not in p.stdout
    assert "workgroup = TESTGRP\n" in p.stdout
    assert "node-type = m\n" in p.stdout
    assert "bind-interfaces-only = yes\n" in p.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping root needs root")
def test_drops_root(nbtd):
    with open(f"/proc/{nbtd.pid}/status") as f:
        status = f.read()
    uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
    gid = re.search(r"^Gid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
    groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()
    assert set(uid) == {"65534"} and "0" not in gid and "0" not in groups
    assert "running as uid 65534" in nbtd.logtext()


def test_systemd_notify(tmp_path):
    """Type=notify: READY=1 once serving, STOPPING=1 when stopping."""
    path = str(tmp_path / "notify")
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(path)
    os.chmod(path, 0o777)  # nbtd may have become nobody by then
    n.settimeout(5)
    port = T.free_udp_port()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    d = T.Nbtd(["--interface", "127.0.0.1/8", "--port", str(port)],
               popen=lambda argv, **kw: subprocess.Popen(argv, env=env, **kw))
    d.start()
    try:
        assert n.recv(64) == b"READY=1"
        assert d.stats() is not None  # serving when READY arrives
    finally:
        assert d.stop()[0] == 0
    assert n.recv(64) == b"STOPPING=1"
    n.close()


def test_detaches_and_reports_start_failure(tmp_path):
    """Without -F the starting process exits 0 once the daemon is ready,
    1 when start-up fails (here: the address is not local)."""
    port = T.free_udp_port()
    pidf = tmp_path / "nbtd.pid"
    ctl = tmp_path / "nbtd.sock"
    p = subprocess.run([T.NBTD, "--interface", "127.0.0.1/8", "--port",
                        str(port), "--pid-file", str(pidf), "--control",
                        str(ctl)], timeout=10, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    pid = int(pidf.read_text())
    try:
        assert T.nbt("stats", "--control", ctl).returncode == 0
    finally:
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}") or \
                open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.05)
    bad = subprocess.run([T.NBTD, "--interface", "192.0.2.99/24", "--port",
                          str(port), "--control", ""], timeout=10,
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert "cannot bind 192.0.2.99" in bad.stderr
