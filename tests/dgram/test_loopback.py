"""nbtd's datagram socket (docs/DATAGRAM-API.md) on loopback high ports: no
root, no lab. The protocol line by line, `nbt dgram` through the socket,
and the regressions: a client that goes away while nbtd writes to it
(SIGPIPE), a client that never reads, a line over the limit. Run by ctest
as `dgram_loopback` (label "daemon").
"""

import os
import socket
import subprocess
import time

import pytest

import nbtdtest as T

ADDR = "127.0.0.42"


class Client:
    """A line client of nbtd's datagram socket."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(5)
        self.buf = b""

    def send(self, line):
        self.s.sendall(line.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                raise EOFError("nbtd closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def ask(self, line):
        self.send(line)
        return self.line()

    def close(self):
        self.s.close()


@pytest.fixture(scope="module")
def nbtd():
    ns_port, dg_port = T.free_udp_port(ADDR), T.free_udp_port(ADDR)
    d = T.Nbtd(["--interface", f"{ADDR}/8", "--port", str(ns_port),
                "--dgram-port", str(dg_port), "--name", "XYKON-2",
                "--workgroup", "TESTGRP"]).start()
    d.sock = os.path.join(d.dir, "dgram.sock")
    d.dg_port, d.ns_port = dg_port, ns_port
    d.wait_names()
    deadline = time.monotonic() + 5
    while not os.path.exists(d.sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield d
    rc, _ = d.stop()
    assert rc == 0, d.logtext()


def test_protocol(nbtd):
    c = Client(nbtd.sock)
    assert c.ask("PING p") == "OK p pong"
    ok = c.ask("BIND b1 XYKON-2<20>").split()
    assert ok[:2] == ["OK", "b1"] and int(ok[2]) > 0
    bid = ok[2]
    assert c.ask("HELLO there") == "ERR - EMALFORMED verb at byte 0"
    assert c.ask("BIND b2 *<20>").startswith("ERR b2 EINVAL")
    c.send("SEND s1 name - XYKON-2<20> 68656c6c6f")
    lines = {c.line(), c.line()}
    assert f"SENT s1 unique 1 {ADDR}" in lines
    assert (f"DGRAM {bid} unique {ADDR}:{nbtd.dg_port} XYKON-2<00> "
            "XYKON-2<20> U 68656c6c6f") in lines
    # over 512 bytes: refused, nothing sent
    r = c.ask("SEND s2 name - XYKON-2<20> " + "00" * 513)
    assert r.startswith("ERR s2 ELIMIT") and "512" in r
    # a name the node does not hold as source
    assert c.ask("SEND s3 name STRANGER<00> XYKON-2<20> 00").startswith(
        "ERR s3 ENOTFOUND")
    # a unique name nobody holds, unicast to us: a DATAGRAM ERROR comes back
    c.send(f"SEND s4 name - NOBODY<20> 6869 {ADDR}")
    assert c.line() == f"SENT s4 unique 1 {ADDR}"
    assert c.line() == f"DERR s4 82 {ADDR}"
    assert c.ask(f"UNBIND u {bid}") == "OK u"
    assert c.ask(f"UNBIND u {bid}").startswith("ERR u ENOTFOUND")
    c.close()


def test_claim_for_a_client(nbtd):
    c = Client(nbtd.sock)
    c.s.settimeout(10)
    r = c.ask("BIND b MYAPP")  # answered once the name is claimed
    assert r.startswith("OK b "), r
    lookup = ("lookup", "-U", ADDR, "--port", nbtd.ns_port, "--timeout",
              "1000", "MYAPP")
    p = T.nbt(*lookup)
    assert p.returncode == 0 and p.stdout == f"{ADDR} MYAPP<20>\n", p.stderr
    c.close()  # the name is released with the last binding
    deadline = time.monotonic() + 5
    while T.nbt(*lookup).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert T.nbt(*lookup).returncode == 1


def test_client_gone_mid_write(nbtd):
    """A client that sends a request and closes at once: nbtd's answer
    meets a closed socket (EPIPE). nbtd must live on (it died of SIGPIPE
    before svc_dgram.c ignored it)."""
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(nbtd.sock)
        s.sendall(b"MONITOR m\nSEND s name - XYKON-2<20> 6869\nPING p\n")
        s.close()
    time.sleep(0.5)
    assert nbtd.proc.poll() is None, nbtd.logtext()
    c = Client(nbtd.sock)
    assert c.ask("PING again") == "OK again pong"
    c.close()


def test_long_line_and_many_clients(nbtd):
    c = Client(nbtd.sock)
    c.send("PING " + "x" * 5000)
    assert c.line() == "ERR - ELIMIT line over 2048 bytes"
    assert c.ask("PING p") == "OK p pong"  # the rest of the line skipped
    many = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            for _ in range(40)]
    for s in many:
        s.connect(nbtd.sock)
    time.sleep(0.3)
    refused = 0
    for s in many:
        s.settimeout(1)
        try:
            s.sendall(b"PING p\n")
            if not s.recv(100):
                refused += 1
        except OSError:
            refused += 1
        s.close()
    assert 8 <= refused < 40  # at most 32 clients at once (c is one)
    c.close()


def test_nbt_dgram_through_the_socket(nbtd):
    listen = subprocess.Popen(
        [T.NBT, "dgram", "listen", "--socket", nbtd.sock, "--count", "1",
         "--timeout", "10000", "XYKON-2<00>"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p = T.nbt("dgram", "send", "--socket", nbtd.sock, "--to", "XYKON-2<00>",
              "--from", "XYKON-2<03>", "hi there")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"sent unique datagram to {ADDR} (1 UDP packet)\n"
    out, err = listen.communicate(timeout=15)
    assert out == (f"{ADDR}:{nbtd.dg_port} XYKON-2<03> -> XYKON-2<00> unique "
                   "unicast 8 bytes: hi there\n"), err
    p = T.nbt("dgram", "send", "--socket", nbtd.sock, "--to", "XYKON-2",
              "--hex", "00" * 513)
    assert p.returncode == 1 and "at most 512" in p.stderr
    p = T.nbt("dgram", "send", "--socket", "/nonexistent/dgram.sock",
              "--to", "XYKON-2", "x")
    assert p.returncode == 3


def test_stats(nbtd):
    s = nbtd.stats()["datagram-service"]
    c = s["counters"]
    assert c["sends"] >= 3 and c["errors_sent"] >= 1 and c["api_clients"] >= 3
    assert sum(s["drop"].values()) == c["rx_packets"]
    assert c["api_bad_lines"] >= 2
