"""nbtd's session service and forwarder on loopback high ports (no root):
the real daemon (ASan build in the test command) between raw-socket or
`nbt session` clients and scripted backends. Every route action, negative
codes, keep-alives handled locally both ways, the large-message framing
after an SMB2 negotiate, faults (backend or client gone mid-transfer,
connections that send nothing, malformed packets), the session limit, and
a clean stop (LeakSanitizer would fail the exit code).
"""

import os
import socket
import struct
import tempfile
import threading
import time

import pytest

import ssntest as T


def ports():
    return T.free_port(socket.SOCK_DGRAM), T.free_port()


@pytest.fixture(scope="module")
def lab():
    env = {}
    env["echo"] = T.Backend("echo445")
    env["nbt"] = T.Backend("nbt", expect_called="REAL")
    env["neg"] = T.Backend("negative", code=0x83)
    env["big"] = T.Backend("smb2big", big=1 << 20)
    env["cut"] = T.Backend("cut")
    env["flood"] = T.Backend("flood")
    closed = T.free_port()  # nothing listens there
    udp, tcp = ports()
    env["port"] = tcp
    d = T.Nbtd([
        "--interface", "127.0.0.1/8", "--port", str(udp), "--name", "FWD",
        "--session-port", str(tcp), "--keepalive", "1",
        "--request-timeout", "2", "--connect-timeout", "3",
        "--forward", f"XYKON-2=127.0.0.1:{env['echo'].port}",
        "--route", f"NBTB nbt 127.0.0.1:{env['nbt'].port} as REAL",
        "--route", f"NEGB nbt 127.0.0.1:{env['neg'].port}",
        "--route", f"BIG direct 127.0.0.1:{env['big'].port}",
        "--route", f"CUT direct 127.0.0.1:{env['cut'].port}",
        "--route", f"FLOOD direct 127.0.0.1:{env['flood'].port}",
        "--route", f"DOWN direct 127.0.0.1:{closed}",
        "--route", f"OLD retarget 127.0.0.1:{env['nbt'].port}",
        "--route", "GONE reject 0x81",
    ]).start()
    d.wait_listening(tcp)
    env["d"] = d
    yield env
    rc = d.stop()
    for b in ("echo", "nbt", "neg", "big", "cut", "flood"):
        env[b].stop()
    assert rc == 0, d.logtext()


def test_forward_with_nbt_session(lab, tmp_path):
    data = os.urandom(0x1FFFF)
    src = tmp_path / "in"
    out = tmp_path / "out"
    src.write_bytes(data)
    p = T.nbt("session", f"127.0.0.1:{lab['port']}", "--called", "xykon-2",
              "--send", src, "--send", src, "--out", out)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "positive session response" in p.stdout
    assert out.read_bytes() == data + data
    assert lab["echo"].violations == []


@pytest.mark.parametrize("called,want", [
    ("NOBODY", b"\x83\0\0\x01\x82"),   # not present (RFC 1002 4.3.4)
    ("FWD", b"\x83\0\0\x01\x80"),      # own name, nobody listening
    ("GONE", b"\x83\0\0\x01\x81"),     # reject route
    ("DOWN", b"\x83\0\0\x01\x80"),     # backend refuses: not listening
    ("NEGB", b"\x83\0\0\x01\x83"),     # nbt backend's code relayed
])
def test_negative_responses(lab, called, want):
    s, t, body = T.open_session(lab["port"], called)
    assert bytes([t, 0, 0, len(body)]) + body == want
    assert T.closed_by_peer(s)
    s.close()


def test_retarget_followed_by_nbt_session(lab):
    p = T.nbt("session", f"127.0.0.1:{lab['port']}", "--called", "REAL")
    # REAL has no route here: 0x82 ...
    assert p.returncode == 1 and "0x82" in p.stdout
    # ... but OLD retargets to the nbt backend, which answers REAL only:
    s, t, body = T.open_session(lab["port"], "OLD")
    assert t == 0x84 and body == bytes([127, 0, 0, 1]) + \
        struct.pack(">H", lab["nbt"].port)
    s.close()
    p = T.nbt("session", f"127.0.0.1:{lab['port']}", "--called", "OLD")
    assert p.returncode == 1 and "retarget 127.0.0.1" in p.stdout
    assert "0x82" in p.stdout  # the backend wanted REAL, not OLD


def test_nbt_backend_with_rewrite(lab, tmp_path):
    src = tmp_path / "in"
    out = tmp_path / "out"
    src.write_bytes(b"hello through an nbt backend")
    p = T.nbt("session", f"127.0.0.1:{lab['port']}", "--called", "NBTB",
              "--calling", "SCANNER", "--send", src, "--out", out)
    assert p.returncode == 0, p.stdout
    assert out.read_bytes() == src.read_bytes()
    req = lab["nbt"].requests[-1]
    assert req[:34] == T.encode_name("REAL")        # rewritten
    assert req[34:] == T.encode_name("SCANNER", 0x20)  # calling kept


def test_keepalives_local_both_ways(lab):
    s, t, _ = T.open_session(lab["port"], "XYKON-2")
    assert t == 0x82
    s.sendall(b"\x85\0\0\0" * 3 + T.message(b"ping") + b"\x85\0\0\0")
    t, body = T.read_packet(s)
    assert (t, body) == (0, b"ping")
    # Idle for over the 1 s keep-alive interval: nbtd sends one.
    s.settimeout(5)
    t, body = T.read_packet(s)
    assert (t, body) == (0x85, b"")
    assert lab["echo"].violations == []
    s.close()


def test_large_smb2_read_uses_24_bit_length(lab):
    s, t, _ = T.open_session(lab["port"], "BIG")
    assert t == 0x82
    s.sendall(T.message(b"\xfeSMB" + b"\0" * 60))     # "NEGOTIATE"
    t, body = T.read_packet(s)
    assert t == 0 and body.startswith(b"\xfeSMB")
    s.sendall(T.message(b"\xfeSMB" + b"\1" * 60))     # "READ"
    hdr = T.recv_exact(s, 4)
    assert hdr == b"\x00\x10\x00\x00"                   # 1 MiB, 24 bits
    body = T.recv_exact(s, 1 << 20)
    want = bytes((i * 7 + 1) & 255 for i in range(256)) * 4096
    assert body == want
    # The client may now use 24-bit lengths too (a large WRITE).
    s.sendall(struct.pack(">I", 0x30000) + b"w" * 0x30000)
    hdr = T.recv_exact(s, 4)
    assert hdr == b"\x00\x10\x00\x00"
    assert len(T.recv_exact(s, 1 << 20)) == 1 << 20
    s.close()
    st = lab["d"].session_stats()
    assert st["counters"]["big_msgs"] >= 2


def test_backend_gone_mid_transfer(lab):
    s, t, _ = T.open_session(lab["port"], "CUT")
    assert t == 0x82
    s.sendall(T.message(b"go"))
    got = b""
    s.settimeout(10)
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    assert got[:4] == b"\x00\x01\x86\xa0" and len(got) == 50004
    s.close()
    assert lab["d"].alive()
    p = T.nbt("session", f"127.0.0.1:{lab['port']}", "--called", "XYKON-2")
    assert p.returncode == 0, p.stdout


def test_client_gone_mid_transfer(lab):
    before = lab["echo"].closed
    s, t, _ = T.open_session(lab["port"], "XYKON-2")
    assert t == 0x82
    s.sendall(b"\x00\x01\x00\x00" + b"z" * 30000)   # half a message
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()                                         # RST
    deadline = time.monotonic() + 10
    while lab["echo"].closed <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lab["echo"].closed > before               # backend closed too
    assert lab["d"].alive()


def test_slow_reader_memory_bounded(lab):
    """A backend that floods a client that reads 16 KiB every 20 ms: nbtd
    stops reading the backend at the high watermark, so its memory stays
    put while the backend has far more to send."""
    d = lab["d"]
    clients = []
    for _ in range(4):
        s, t, _ = T.open_session(lab["port"], "FLOOD")
        assert t == 0x82
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
        s.sendall(T.message(b"go"))
        clients.append(s)
    time.sleep(0.5)
    base = d.rss_kib()
    stops0 = d.session_stats()["counters"]["read_stops"]
    got = 0
    t_end = time.monotonic() + 3
    peak = base
    while time.monotonic() < t_end:
        for s in clients:
            got += len(s.recv(16384))
        peak = max(peak, d.rss_kib())
        time.sleep(0.02)
    st = d.session_stats()
    for s in clients:
        s.close()
    sent = lab["flood"].messages * 65540
    c = st["counters"]
    assert sent > 2 * got           # the backend was far ahead ...
    # ... and nbtd stopped taking its bytes: bodies wait in a pipe of at
    # most 256 KiB per direction (splice, kernel memory) or in the engine's
    # buffer up to the high watermark (read_stops), never beyond.
    assert c["read_stops"] > stops0 or c["bytes_spliced"] > 0
    assert st["buffers_in_use"] <= 2 * len(clients)
    assert peak - base < 8 * 1024, (base, peak)   # KiB: bounded


def test_silent_connections_are_closed(lab):
    socks = [T.connect(lab["port"]) for _ in range(5)]
    t0 = time.monotonic()
    for s in socks:
        assert T.closed_by_peer(s, timeout=10)
        s.close()
    assert time.monotonic() - t0 < 8  # request-timeout is 2 s


@pytest.mark.parametrize("junk", [
    b"\x00\x00\x00\x04\xffSMB",                  # a message first
    b"\x81\x00\x00\x00",                         # request, LENGTH 0
    b"\x81\x00\x01\xff" + b"A" * 511,            # over 510
    b"\x81\x02\x00\x44" + b"\x20" + b"A" * 67,   # reserved FLAGS bit
    T.request("X")[:-1] + b"\x01\x00",           # trailing byte
    b"\x81\x00\x00\x44" + b"\x20" + b"Z" * 67,   # bad first-level name
    b"\x86\x00\x00\x00",                         # unknown type
    b"\x82\x00\x00\x00",                         # a response from a client
    bytes(range(256)),
])
def test_malformed_session_packets(lab, junk):
    s = T.connect(lab["port"])
    s.sendall(junk)
    s.settimeout(5)
    try:
        reply = s.recv(64)
    except ConnectionResetError:
        reply = b""
    # Either closed silently or a negative response (0x8F for a request
    # that cannot be parsed).
    assert reply in (b"", b"\x83\x00\x00\x01\x8f"), reply
    assert T.closed_by_peer(s)
    s.close()
    assert lab["d"].alive()


def test_stats_report(lab):
    s, t, _ = T.open_session(lab["port"], "XYKON-2")
    s.sendall(b"\x85\0\0\0" * 4 + T.message(b"x"))
    assert T.read_packet(s) == (0, b"x")
    s.settimeout(5)
    assert T.read_packet(s) == (0x85, b"")   # after the 1 s interval
    s.close()
    s, t, _ = T.open_session(lab["port"], "NOBODY")
    s.close()
    st = lab["d"].session_stats()
    c = st["counters"]
    assert c["accepted"] >= c["established"] >= 1
    assert c["keepalives_in"] >= 4 and c["keepalives_out"] >= 1
    assert st["negative"].get("0x82", 0) >= 1


def test_session_limit_and_stop():
    echo = T.Backend("echo445")
    udp, tcp = ports()
    d = T.Nbtd(["--interface", "127.0.0.1/8", "--port", str(udp),
                "--name", "LIM", "--session-port", str(tcp),
                "--session-limit", "2", "--keepalive", "0",
                "--forward", f"XYKON-2=127.0.0.1:{echo.port}",
                "--route", "GONE reject 0x82"]).start()
    try:
        d.wait_listening(tcp)
        a, ta, _ = T.open_session(tcp, "XYKON-2")
        b, tb, _ = T.open_session(tcp, "XYKON-2")
        assert (ta, tb) == (0x82, 0x82)
        c, tc, body = T.open_session(tcp, "XYKON-2")
        assert (tc, body) == (0x83, b"\x83")          # insufficient resources
        e, te, body = T.open_session(tcp, "GONE")
        assert (te, body) == (0x83, b"\x82")          # refusals still answered
        for s in (c, e):
            assert T.closed_by_peer(s)
            s.close()
        a.close()
        time.sleep(0.3)
        f, tf, _ = T.open_session(tcp, "XYKON-2")      # a slot is free again
        assert tf == 0x82
        # Stop with sessions open: they end, nbtd exits 0 (no leaks).
        rc = d.stop()
        assert rc == 0, d.logtext()
        assert T.closed_by_peer(b) and T.closed_by_peer(f)
    finally:
        if d.alive():
            d.stop()
        echo.stop()
