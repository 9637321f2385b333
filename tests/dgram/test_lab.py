"""nbtd's datagram service and `nbt dgram` / `nbt browse` against the real
thing, in a private lab (root only; issue 8, "Verified against the real
thing").

One LAN 192.0.2.0/24 (TEST-NET-1) of network namespaces built with the
conformance lab's library, always torn down:

  nmbd  192.0.2.10  Debian's nmbd: NBTTEST, alias NBTALIAS, TESTGRP, and
                    the WINS server (for the P node)
  nbtd  192.0.2.20  nbtd: XYKON-2, TESTGRP; its datagram socket is used
                    by `nbt dgram --socket` and `nbt browse --socket`
  nbdd  192.0.2.30  nbtd as the NBDD (--nbdd-server yes): RELAY
  pnode 192.0.2.40  nbtd as a P node (WINS 192.0.2.10, NBDD 192.0.2.30)
  cli   192.0.2.100 `nbt dgram` / `nbt browse` standalone (UDP 138 there)

Checks: nmbd's host announcements are listed by `nbt browse` with its
name, workgroup, OS version and comment, standalone and through nbtd; an
AnnouncementRequest from `nbt browse --request` makes nmbd announce (none
in a quiet window before it, one within seconds after), while nbtd sends
nothing and delivers the request to an application bound to TESTGRP<1e>;
unique datagrams both ways, fragmented ones (512 bytes of user data) both
ways, DATAGRAM ERROR 0x82 from nbtd (nmbd: none), a name claimed for an
application and released after it, the 512-byte limit, a group datagram
to 255.255.255.255 delivered once (and one to 192.0.2.255 still once), and
a P node's
group and broadcast datagrams going through the NBDD (DATAGRAM QUERY
REQUEST answered, the datagram relayed by broadcast). Run by ctest as
`lab_dgram` (label "lab"; exit 77 = skipped when not root). About 60 s.
"""

import json
import os
import re
import socket
import struct
import subprocess
import time

import pytest

import nbtdtest as T
from nbtlab import samba as S
from nbtlab import scenarios as SC
from nbtlab.lab import Lab

NMBD, NBTD, CLI = "192.0.2.10", "192.0.2.20", "192.0.2.100"
NBDD, PNODE = "192.0.2.30", "192.0.2.40"
BCAST = "192.0.2.255"
SCN = SC.Scenario("dgram-lab", wins_support=True)


class World:
    pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    w = World()
    w.tmp = tmp_path_factory.mktemp("dgram")
    with Lab() as lab:
        lan = lab.add_lan("a")
        w.lab = lab
        w.nmbd_host = lab.add_host("nmbd", lan, NMBD)
        w.nbtd_host = lab.add_host("nbtd", lan, NBTD)
        w.cli = lab.add_host("cli", lan, CLI)
        w.nbdd_host = lab.add_host("nbdd", lan, NBDD)
        w.pnode_host = lab.add_host("pnode", lan, PNODE)
        lab.wait_links()
        w.samba = S.Samba(w.nmbd_host, SCN, str(w.tmp / "nmbd"),
                          probe_host=w.cli, smbd=False).start()
        w.nbtd = T.Nbtd(["--interface", f"{NBTD}/24", "--name", "XYKON-2",
                         "--workgroup", "TESTGRP", "--rate-limit", "1000"],
                        popen=w.nbtd_host.popen).start()
        w.sock = os.path.join(w.nbtd.dir, "dgram.sock")
        w.nbdd = T.Nbtd(["--interface", f"{NBDD}/24", "--name", "RELAY",
                         "--workgroup", "TESTGRP", "--nbdd-server", "yes"],
                        popen=w.nbdd_host.popen).start()
        w.nbtd.wait_names()
        w.samba.wait_ready(timeout=30)
        w.pnode = T.Nbtd(["--interface", f"{PNODE}/24", "--name", "PNODE",
                          "--workgroup", "OTHERGRP", "--node-type", "p",
                          "--wins-server", NMBD, "--nbdd", NBDD],
                         popen=w.pnode_host.popen).start()
        w.nbdd.wait_names()
        w.pnode.wait_names(timeout=20)
        w.client_conf = S.client_conf(str(w.tmp), SCN)
        yield w
        w.samba.stop()
        for d in (w.nbtd, w.nbdd, w.pnode):
            d.stop()


def cli_nbt(w, *args, timeout=60):
    return T.nbt(*args, timeout=timeout, prefix=w.cli.argv([]))


def nbtd_nbt(w, *args, timeout=60):
    """nbt through nbtd's datagram socket (run in nbtd's namespace)."""
    return T.nbt(args[0], args[1], "--socket", w.sock, *args[2:],
                 timeout=timeout, prefix=w.nbtd_host.argv([]))


def nbtd_listen(w, *args):
    """A background `nbt dgram listen` through nbtd; returns the Popen."""
    argv = [T.NBT, "dgram", "listen", "--socket", w.sock, "--json"] + list(args)
    return w.nbtd_host.popen(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)


def lines_json(text):
    return [json.loads(x) for x in text.splitlines() if x.startswith("{")]


def dgram_stats(w):
    return w.nbtd.stats()["datagram-service"]["counters"]


def host(report, name):
    for h in report["hosts"]:
        if h["name"] == name:
            return h
    return None


# ---- browse ---------------------------------------------------------------

def test_browse_lists_nmbd_standalone(lab):
    p = cli_nbt(lab, "browse", "--standalone", "--request", "--workgroup",
                "TESTGRP", "--until", "NBTTEST", "--time", "60", "--json")
    assert p.returncode == 0, p.stderr
    h = host(json.loads(p.stdout), "NBTTEST")
    assert h is not None, p.stdout
    assert h["workgroup"] == "TESTGRP" and h["ip"] == NMBD
    assert re.fullmatch(r"\d+\.\d+", h["os"]) and h["os"] != "0.0"
    assert h["comment"].startswith("Samba "), h
    assert int(h["type"], 16) & 0x1  # SV_TYPE_WORKSTATION
    # the text table lists the same
    p = cli_nbt(lab, "browse", "--standalone", "--request", "--workgroup",
                "TESTGRP", "--until", "NBTTEST", "--time", "60")
    assert re.search(rf"^NBTTEST\s+TESTGRP\s+{NMBD}\s+{h['os']}\s+"
                     rf"{h['type']}\s+Samba ", p.stdout, re.M), p.stdout


def test_request_makes_nmbd_announce_not_nbtd(lab):
    """A quiet window first (nmbd announces every 1..12 minutes and has
    just announced), then the request: nmbd answers within seconds. nbtd
    heard the request (it is in TESTGRP<1e>): it delivers it to the
    application bound there and sends nothing."""
    before = dgram_stats(lab)["tx_queued"]
    app = nbtd_listen(lab, "TESTGRP<1e>", "--count", "1", "--timeout", "40000")
    time.sleep(0.5)
    quiet = cli_nbt(lab, "browse", "--standalone", "--follow", "--json",
                    "--time", "8")
    heard = [x for x in lines_json(quiet.stdout) if "announcement" in x]
    assert not any(x["host"]["name"] == "NBTTEST" for x in heard), heard
    t0 = time.monotonic()
    p = cli_nbt(lab, "browse", "--standalone", "--request", "--workgroup",
                "TESTGRP", "--until", "NBTTEST", "--time", "20", "--follow",
                "--json")
    took = time.monotonic() - t0
    assert p.returncode == 0, (p.stdout, p.stderr)
    seen = lines_json(p.stdout)
    assert any(x["host"]["name"] == "NBTTEST" for x in seen), seen
    assert took < 20
    assert not any(x["host"]["ip"] == NBTD for x in seen), seen
    # the application on nbtd got the AnnouncementRequest
    out, err = app.communicate(timeout=45)
    got = lines_json(out)
    assert app.returncode == 0 and len(got) == 1, (out, err)
    assert got[0]["mailslot"] == "\\MAILSLOT\\BROWSE"
    assert got[0]["to"] == "TESTGRP<1e>" and got[0]["ip"] == CLI
    # the mailslot name, then the browser message: opcode 2, unused 0
    assert b"\\MAILSLOT\\BROWSE\0\x02\0".hex() in got[0]["data"]
    assert dgram_stats(lab)["tx_queued"] == before  # nbtd sent nothing


def test_browse_through_nbtd(lab):
    p = nbtd_nbt(lab, "browse", "--request", "--workgroup", "TESTGRP",
                 "--until", "NBTTEST", "--time", "30", "--json")
    assert p.returncode == 0, (p.stdout, p.stderr)
    h = host(json.loads(p.stdout), "NBTTEST")
    assert h and h["workgroup"] == "TESTGRP" and h["ip"] == NMBD


# ---- datagrams both ways ----------------------------------------------------

def test_unique_to_nbtd_application(lab):
    """cli resolves XYKON-2<20> by broadcast (nbtd answers) and unicasts a
    DIRECT_UNIQUE; the application bound through nbtd receives it."""
    app = nbtd_listen(lab, "XYKON-2<20>", "--count", "1", "--timeout", "20000")
    time.sleep(0.5)
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "PROBE<00>",
                "--to", "XYKON-2<20>", "hello nbtd")
    assert p.returncode == 0, p.stderr
    assert f"sent unique datagram to {NBTD}" in p.stdout
    out, err = app.communicate(timeout=25)
    got = lines_json(out)
    assert len(got) == 1, (out, err)
    assert got[0]["from"] == "PROBE<00>" and got[0]["to"] == "XYKON-2<20>"
    assert got[0]["type"] == "unique" and got[0]["broadcast"] is False
    assert bytes.fromhex(got[0]["data"]) == b"hello nbtd"
    assert got[0]["ip"] == CLI and got[0]["port"] == 138


def test_datagram_error_from_nbtd_not_nmbd(lab):
    """RFC 1002 5.3.3: a unique destination not present -> 0x82 to the
    sender (nbtd); nmbd never sends DATAGRAM ERROR (its deviation)."""
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "PROBE<00>",
                "--to", "NOSUCH<20>", "--ip", NBTD, "--wait", "2000", "x")
    assert p.returncode == 1
    assert f"DATAGRAM ERROR 0x82 (DESTINATION NAME NOT PRESENT) from {NBTD}" \
        in p.stdout
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "PROBE<00>",
                "--to", "NOSUCH<20>", "--ip", NMBD, "--wait", "2000", "x")
    assert p.returncode == 0 and "DATAGRAM ERROR" not in p.stdout
    # by broadcast: no error from anyone (no storms)
    before = dgram_stats(lab)["errors_sent"]
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "PROBE<00>",
                "--to", "NOSUCH<20>", "--ip", BCAST, "--wait", "1500", "x")
    assert p.returncode == 0 and "DATAGRAM ERROR" not in p.stdout
    assert dgram_stats(lab)["errors_sent"] == before


def test_fragments_both_ways(lab):
    """512 bytes of user data: two UDP packets (RFC 1002 5.3.1, 576-byte
    IP datagrams), reassembled on the other side."""
    data = bytes(range(256)) * 2
    path = os.path.join(lab.tmp, "512.bin")
    with open(path, "wb") as f:
        f.write(data)
    # nbtd -> cli (standalone listener, held locally: --ip)
    rx = lab.cli.popen([T.NBT, "dgram", "listen", "--standalone", "--json",
                        "--count", "1", "--timeout", "20000", "CLIENT<20>"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    time.sleep(1.0)
    p = nbtd_nbt(lab, "dgram", "send", "--to", "CLIENT<20>", "--ip", CLI,
                 f"@{path}")
    assert p.returncode == 0, p.stderr
    assert "(2 UDP packets)" in p.stdout, p.stdout
    out, err = rx.communicate(timeout=25)
    got = lines_json(out)
    assert len(got) == 1 and bytes.fromhex(got[0]["data"]) == data, (out, err)
    assert got[0]["from"] == "XYKON-2<00>" and got[0]["ip"] == NBTD
    # cli -> an application on nbtd
    app = nbtd_listen(lab, "XYKON-2<00>", "--count", "1", "--timeout", "20000")
    time.sleep(0.5)
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "CLIENT<20>",
                "--to", "XYKON-2<00>", "--ip", NBTD, f"@{path}")
    assert p.returncode == 0 and "(2 UDP packets)" in p.stdout, p.stdout
    out, err = app.communicate(timeout=25)
    got = lines_json(out)
    assert len(got) == 1 and bytes.fromhex(got[0]["data"]) == data, (out, err)
    assert dgram_stats(lab)["rx_datagrams"] >= 1


def test_over_512_refused(lab):
    p = nbtd_nbt(lab, "dgram", "send", "--to", "NBTTEST", "--hex", "00" * 513)
    assert p.returncode == 1
    assert "513 bytes of user data" in p.stderr and "512" in p.stderr
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--to", "NBTTEST",
                "--ip", NMBD, "--hex", "00" * 513)
    assert p.returncode == 1 and "RFC 1001 17.1.2" in p.stderr


def test_claimed_name_for_an_application(lab):
    """BIND of a name the node does not hold: nbtd claims it in the name
    service while the application is bound, and releases it after."""
    app = nbtd_listen(lab, "MYAPP", "--count", "1", "--timeout", "20000")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        p = cli_nbt(lab, "lookup", "-B", BCAST, "--timeout", "1000", "MYAPP")
        if p.returncode == 0:
            break
        time.sleep(0.3)
    assert p.stdout.strip() == f"{NBTD} MYAPP<20>", p.stdout
    p = cli_nbt(lab, "dgram", "send", "--standalone", "--from", "CLIENT<00>",
                "--to", "MYAPP", "claimed")
    assert p.returncode == 0, p.stderr
    out, err = app.communicate(timeout=25)
    got = lines_json(out)
    assert len(got) == 1 and bytes.fromhex(got[0]["data"]) == b"claimed"
    # the listener exited: the name is released
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        p = cli_nbt(lab, "lookup", "-B", BCAST, "--timeout", "1000", "MYAPP")
        if p.returncode != 0:
            break
        time.sleep(0.5)
    assert p.returncode == 1, p.stdout


def test_nbtd_still_answers(lab):
    p = cli_nbt(lab, "lookup", "-U", NBTD, "XYKON-2")
    assert p.returncode == 0 and p.stdout.strip() == f"{NBTD} XYKON-2<20>"
    s = lab.nbtd.stats()["datagram-service"]
    assert s["counters"]["rx_packets"] > 0
    assert sum(s["drop"].values()) == s["counters"]["rx_packets"]


# ---- limited broadcasts (255.255.255.255) -----------------------------------

def direct_group(dgm_id, src_name, dst_name, data):
    """DIRECT_GROUP DATAGRAM (RFC 1002 4.4.2), hand-built: first and only
    fragment, B node, from cli:138."""
    body = T.encode_name(src_name, 0x00) + T.encode_name(dst_name, 0x00) + \
        data
    return struct.pack(">BBH4sHHH", 0x11, 0x02, dgm_id,
                       socket.inet_aton(CLI), 138, len(body), 0) + body


def test_limited_broadcast_datagram_delivered_once(lab):
    """A DIRECT_GROUP to 255.255.255.255:138 reaches the application bound
    to TESTGRP<00> through nbtd once, as a broadcast; one to 192.0.2.255
    still arrives once (the 0.0.0.0 socket drops its copy)."""
    before = lab.nbtd.stats()["datagram-service"]["limited_broadcast"]
    app = nbtd_listen(lab, "TESTGRP<00>", "--count", "3", "--timeout", "4000")
    time.sleep(0.5)
    s = lab.cli.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((CLI, 138))
        s.sendto(direct_group(0x7101, "PROBE", "TESTGRP", b"limited"),
                 ("255.255.255.255", 138))
        time.sleep(0.3)
        s.sendto(direct_group(0x7102, "PROBE", "TESTGRP", b"subnet"),
                 (BCAST, 138))
    finally:
        s.close()
    out, err = app.communicate(timeout=15)
    got = lines_json(out)
    assert [bytes.fromhex(g["data"]) for g in got] == [b"limited",
                                                       b"subnet"], (out, err)
    assert all(g["type"] == "group" and g["broadcast"] is True and
               g["ip"] == CLI and g["to"] == "TESTGRP<00>" for g in got), got
    after = lab.nbtd.stats()["datagram-service"]["limited_broadcast"]
    assert after["enabled"] is True
    assert after["rx"] - before["rx"] == 1, (before, after)
    assert after["not_limited"] - before["not_limited"] == 1, (before, after)


# ---- the NBDD (RFC 1002 5.3.2, 5.3.4) ---------------------------------------

def test_p_node_through_the_nbdd(lab):
    """A P node never broadcasts (RFC 1001 17.3): its group and broadcast
    datagrams go to the NBDD after a DATAGRAM QUERY REQUEST; nbtd as the
    NBDD answers POSITIVE and relays them, as sent, by broadcast."""
    assert lab.pnode.names()["PNODE<20>"]["state"] == "active"
    psock = os.path.join(lab.pnode.dir, "dgram.sock")
    rx = lab.cli.popen([T.NBT, "dgram", "listen", "--standalone", "--json",
                        "--monitor", "--count", "2", "--timeout", "20000"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    time.sleep(1.0)
    send = [T.NBT, "dgram", "send", "--socket", psock]
    p = T.nbt(*send[1:], "--group", "--to", "TESTGRP<1e>", "via the NBDD",
              prefix=lab.pnode_host.argv([]))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == \
        f"sent group datagram to {NBDD} (1 UDP packet)", p.stdout
    p = T.nbt(*send[1:], "--broadcast", "everyone",
              prefix=lab.pnode_host.argv([]))
    assert p.returncode == 0, p.stderr
    assert f"sent broadcast datagram to {NBDD}" in p.stdout
    out, err = rx.communicate(timeout=25)
    got = lines_json(out)
    assert len(got) == 2, (out, err)
    by_type = {g["type"]: g for g in got}
    assert by_type["group"]["to"] == "TESTGRP<1e>"
    assert by_type["broadcast"]["to"] == "*<00>"
    for g in got:  # relayed as sent: the P node's header, by broadcast
        assert g["ip"] == PNODE and g["from"] == "PNODE<00>"
        assert g["broadcast"] is True
    c = lab.nbdd.stats()["datagram-service"]["counters"]
    assert c["nbdd_answers"] >= 2 and c["nbdd_relayed"] >= 2
    c = lab.pnode.stats()["datagram-service"]["counters"]
    assert c["nbdd_queries"] >= 2 and c["sends_ok"] >= 2
