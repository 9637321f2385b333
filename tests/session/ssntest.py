"""Helpers for the session service tests: hand-built session packets
(RFC 1002 4.3, independent of nbtkit's codec), scripted backends, and nbtd
started with session routes. Binaries come from the environment (NBTD,
NBT); every process is stopped by pid, every socket is on loopback or in a
lab namespace the test made.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

NBTD = os.environ.get("NBTD", "nbtd")
NBT = os.environ.get("NBT", "nbt")


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


# --- packets ----------------------------------------------------------------

def l1(raw16):
    return bytes(c for b in raw16 for c in (0x41 + (b >> 4), 0x41 + (b & 15)))


def encode_name(name, suffix=0x20):
    raw = name.encode().ljust(15, b" ")[:15] + bytes([suffix])
    return bytes([32]) + l1(raw) + b"\0"


def request(called, calling="SCANNER", called_suffix=0x20):
    body = encode_name(called, called_suffix) + encode_name(calling, 0)
    return bytes([0x81, 0, 0, len(body)]) + body


def message(body, direct=False):
    n = len(body)
    if direct or n > 0x1FFFF:
        return struct.pack(">I", n) + body
    return bytes([0, (n >> 16) & 1, (n >> 8) & 255, n & 255]) + body


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return buf
        buf += chunk
    return buf


def read_packet(s, direct=False):
    """(type, body) or (None, partial) at EOF. 24-bit lengths when
    `direct` (and always for type 0 messages whose length needs it)."""
    hdr = recv_exact(s, 4)
    if len(hdr) < 4:
        return None, hdr
    if direct or hdr[0] == 0:
        n = (hdr[1] << 16) | (hdr[2] << 8) | hdr[3]
    else:
        n = ((hdr[1] & 1) << 16) | (hdr[2] << 8) | hdr[3]
    body = recv_exact(s, n)
    if len(body) < n:
        return None, hdr + body
    return hdr[0], body


def connect(port, host="127.0.0.1", timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def open_session(port, called, host="127.0.0.1"):
    s = connect(port, host)
    s.sendall(request(called))
    t, body = read_packet(s)
    return s, t, body


def closed_by_peer(s, timeout=5):
    """True when the peer closed (EOF or reset) within `timeout`."""
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


# --- scripted backends --------------------------------------------------------

class Backend(threading.Thread):
    """A TCP server on 127.0.0.1 (or `host`). mode:
    'echo445'  direct framing: every message is echoed back; a KEEP ALIVE
               or any non-zero type is recorded as a violation (smbd drops
               such connections before negotiate);
    'nbt'      a session service: checks the request (called name in
               self.expect_called when set), answers positive, then echoes;
    'negative' answers NEGATIVE self.code;
    'smb2big'  answers the first message with an SMB2-like negotiate
               response, then any message with `big` bytes (a READ reply);
    'cut'      after the first message, sends half of a message and closes.
    """

    def __init__(self, mode, host="127.0.0.1", port=0, **kw):
        super().__init__(daemon=True)
        self.mode = mode
        self.kw = kw
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.violations = []
        self.requests = []
        self.conns = 0
        self.closed = 0
        self.messages = 0
        self.lock = threading.Lock()
        self.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
            threading.Thread(target=self.serve_safe, args=(c,),
                             daemon=True).start()

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def serve_safe(self, c):
        try:
            c.settimeout(60)
            getattr(self, "serve_" + self.mode)(c)
        except OSError:
            pass
        finally:
            c.close()
            with self.lock:
                self.closed += 1

    def echo(self, c, direct):
        while True:
            t, body = read_packet(c, direct=direct)
            if t is None:
                return
            if t != 0:
                self.violations.append(t)
                if direct:
                    return  # smbd: "Invalid message type": disconnect
                continue
            with self.lock:
                self.messages += 1
            c.sendall(message(body, direct=direct))

    def serve_echo445(self, c):
        self.echo(c, True)

    def serve_nbt(self, c):
        t, body = read_packet(c)
        self.requests.append(body)
        want = self.kw.get("expect_called")
        if t != 0x81 or (want and body[:34] != encode_name(want)):
            c.sendall(b"\x83\0\0\x01\x82")
            return
        c.sendall(b"\x82\0\0\0")
        self.echo(c, False)

    def serve_negative(self, c):
        read_packet(c)
        c.sendall(bytes([0x83, 0, 0, 1, self.kw["code"]]))

    def serve_smb2big(self, c):
        big = self.kw["big"]
        first = True
        while True:
            t, body = read_packet(c, direct=True)
            if t is None:
                return
            if first:
                c.sendall(message(b"\xfeSMB" + b"\0" * 60, direct=True))
                first = False
                continue
            payload = bytes((i * 7 + 1) & 255 for i in range(256)) * \
                (big // 256)
            c.sendall(message(payload, direct=True))

    def serve_flood(self, c):
        """After the first message, 64 KiB messages as fast as the peer
        takes them, until it goes away."""
        read_packet(c, direct=True)
        msg = message(bytes(range(256)) * 256, direct=True)
        while True:
            c.sendall(msg)
            with self.lock:
                self.messages += 1

    def serve_cut(self, c):
        t, body = read_packet(c, direct=True)
        c.sendall(struct.pack(">I", 100000) + b"x" * 50000)
        time.sleep(0.2)


# --- nbtd ---------------------------------------------------------------------

def other_services_off():
    """Flags that turn off nbtd's services these tests are not about (the
    datagram service binds a fixed unix socket that concurrent daemons
    would fight over), for the keys this nbtd binary knows."""
    p = subprocess.run([NBTD, "--name", "X", "--dump-config"],
                       capture_output=True, text=True, timeout=10)
    return ["--dgram-service", "no"] if "dgram-service" in p.stdout else []


class Nbtd:
    def __init__(self, args, prefix=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="nbtd-ssn-")
        os.chmod(self.dir, 0o755)
        self.control = os.path.join(self.dir, "nbtd.sock")
        self.log_path = os.path.join(self.dir, "nbtd.log")
        self.args = list(args)
        self.prefix = list(prefix)
        self.env = env
        self.proc = None

    def start(self):
        argv = self.prefix + [NBTD, "-F", "--control", self.control,
                              "--log-level", "info"] + \
            other_services_off() + self.args
        self.log = open(self.log_path, "w")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        return self

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None

    def stats(self, timeout=5):
        p = subprocess.run(self.prefix + [NBT, "stats", "--json", "--control",
                                          self.control],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)

    def session_stats(self):
        s = self.stats()
        return s.get("session") if s else None

    def wait_listening(self, port, host="127.0.0.1", timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError("nbtd exited:\n" + self.logtext())
            s = self.session_stats()
            if s is not None:
                return
            time.sleep(0.1)
        raise AssertionError("nbtd not ready:\n" + self.logtext())

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                self.log.close()
                raise AssertionError("nbtd did not stop:\n" + self.logtext())
        self.log.close()
        return self.proc.returncode


def nbt(*args, timeout=60, prefix=()):
    return subprocess.run(list(prefix) + [NBT] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)
