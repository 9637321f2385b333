#!/usr/bin/env python3
"""nbt session against scripted session servers on 127.0.0.1 (no root).

Each server is a thread on an ephemeral loopback port that reads the
SESSION REQUEST, checks it, and answers as told: positive (then echoes
every session message back), negative with a code, retarget to another
server, or a retarget to itself forever (the loop the seed's client hung
on). Usage: cli_session.py NBT
"""

import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

NBT = sys.argv[1]
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def l1(name16):
    out = bytearray()
    for b in name16:
        out += bytes([0x41 + (b >> 4), 0x41 + (b & 15)])
    return bytes([32]) + bytes(out) + b"\0"


def nbname(text, suffix=0x20):
    pad = b"\0" if text == "*" else b" "
    raw = text.encode().ljust(15, pad)[:15] + bytes([suffix])
    return l1(raw)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_packet(s):
    hdr = recv_exact(s, 4)
    if hdr is None:
        return None, None
    length = ((hdr[1] & 1) << 16) | (hdr[2] << 8) | hdr[3]
    return hdr[0], recv_exact(s, length)


class Server(threading.Thread):
    def __init__(self, mode, arg=None):
        super().__init__(daemon=True)
        self.mode, self.arg = mode, arg
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(20)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.start()

    def run(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                conn.settimeout(20)
                self.serve(conn)
                conn.close()
        except OSError:
            pass

    def serve(self, conn):
        t, body = read_packet(conn)
        if t != 0x81:
            return
        self.requests.append(body)
        if self.mode == "negative":
            conn.sendall(bytes([0x83, 0, 0, 1, self.arg]))
        elif self.mode == "retarget":
            port = self.arg.port if isinstance(self.arg, Server) else self.port
            conn.sendall(bytes([0x84, 0, 0, 6, 127, 0, 0, 1])
                         + struct.pack(">H", port))
        elif self.mode == "echo":
            conn.sendall(b"\x85\0\0\0\x82\0\0\0")
            while True:
                t, body = read_packet(conn)
                if t is None:
                    return
                if t == 0:
                    hdr = bytes([0, (len(body) >> 16) & 1,
                                 (len(body) >> 8) & 255, len(body) & 255])
                    conn.sendall(b"\x85\0\0\0" + hdr + body)


def nbt(*args, timeout=30):
    p = subprocess.run([NBT, "session"] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="nbt-session-")
    payload = os.path.join(tmp, "payload")
    out = os.path.join(tmp, "out")
    data = bytes((i * 31 + 7) & 255 for i in range(100000))  # > 64 KiB
    with open(payload, "wb") as f:
        f.write(data)

    echo = Server("echo")
    rc, text = nbt(f"127.0.0.1:{echo.port}", "--called", "xykon-2",
                   "--calling", "SCANNER", "--send", payload, "--send",
                   payload, "--out", out)
    check(rc == 0, f"echo: exit 0 (got {rc}: {text!r})")
    check("positive session response" in text, "echo: positive response")
    check(text.count("received message 100000 bytes") == 2,
          "echo: two 100000-byte messages back")
    with open(out, "rb") as f:
        check(f.read() == data + data, "echo: bodies byte-exact")
    req = echo.requests[0]
    check(req == nbname("XYKON-2") + nbname("SCANNER")
          or req[:34] == nbname("xykon-2"), "echo: request names")
    check(req[34:] == nbname("SCANNER"), "echo: calling name SCANNER<20>")

    for code in (0x80, 0x82, 0x83):
        neg = Server("negative", code)
        rc, text = nbt(f"127.0.0.1:{neg.port}", "--called", "NOBODY")
        check(rc == 1 and f"0x{code:02x}" in text,
              f"negative 0x{code:02x}: exit 1 and the code ({rc}, {text!r})")

    hop2 = Server("retarget", echo)
    hop1 = Server("retarget", hop2)
    rc, text = nbt(f"127.0.0.1:{hop1.port}", "--called", "X", "--send",
                   payload, "--out", out)
    check(rc == 0 and text.count("retarget 127.0.0.1") == 2,
          f"two retargets followed ({rc}, {text!r})")

    loop = Server("retarget")
    rc, text = nbt(f"127.0.0.1:{loop.port}", "--called", "X",
                   "--max-retargets", "3", timeout=20)
    check(rc == 1 and "too many retargets" in text
          and text.count("retarget 127.0.0.1") == 3,
          f"retarget loop ends after 3 hops ({rc}, {text!r})")
    check(len(loop.requests) == 4, "retarget loop: 4 requests in all")

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    rc, text = nbt(f"127.0.0.1:{port}", "--called", "X")
    check(rc == 3 and "connect failed" in text,
          f"refused connect: exit 3 ({rc}, {text!r})")

    rc, text = nbt("127.0.0.1", "--calling", "X")
    check(rc == 2, "no --called: usage error")
    print(f"{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
