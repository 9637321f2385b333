"""Crash safety of nbtd's WINS database: a registration storm, nbtd killed
with SIGKILL at a random moment, restarted on the same database: every
registration it acknowledged must be there (and resolve to the address it
was registered with). Repeated; names from earlier rounds must survive
every later crash too.

Run by ctest as `wins_crash` (unprivileged, loopback, about a minute).
The seed is printed; NB_CRASH_SEED reproduces a run, NB_CRASH_ROUNDS sets
the number of rounds (default 6).
"""

import os
import random
import select
import signal
import time

import nbtdtest as T
import winstest as W

ROUNDS = int(os.environ.get("NB_CRASH_ROUNDS", "6"))
WINDOW = 256           # registrations in flight
PER_ROUND_MAX = 20000  # names sent per round at most


def ip_of(r, i):
    return f"127.{100 + r}.{(i >> 8) & 255}.{i & 255}"


def storm(c, r, kill_at, d):
    """Register R<r>N<i> as fast as the server answers (WINDOW in flight)
    until `kill_at` seconds have passed, then SIGKILL nbtd and collect what
    it had already sent. Returns {name: ip} of every positive answer."""
    acked, pending = {}, {}
    t0 = time.monotonic()
    i = 0
    killed = False
    while True:
        now = time.monotonic() - t0
        if not killed and now >= kill_at:
            os.kill(d.pid, signal.SIGKILL)
            d.proc.wait(timeout=10)
            killed = True
            t_kill = time.monotonic()
        if killed and time.monotonic() - t_kill > 0.5:
            break
        while not killed and len(pending) < WINDOW and i < PER_ROUND_MAX:
            t = c.next_trn()
            name = f"R{r}N{i}"
            pending[t] = (name, ip_of(r, i))
            c.send(W.registration(t, name, 0x00, ip_of(r, i), ttl=86400))
            i += 1
        rd, _, _ = select.select([c.s], [], [], 0.01)
        while rd:
            try:
                data, _ = c.s.recvfrom(2048)
            except BlockingIOError:
                break
            m = W.parse(data)
            if m and m["trn"] in pending and m["opcode"] == W.OP_REG:
                name, ip = pending.pop(m["trn"])
                assert m["rcode"] == 0, (name, m)
                assert m["entries"] == [(W.ONT_H, ip)], m
                acked[name] = ip
    return acked, i


def verify(c, acked):
    """Every acknowledged name resolves to its address (queries pipelined,
    each retried once)."""
    missing = {}
    names = list(acked.items())
    for attempt in range(2):
        todo = names if attempt == 0 else list(missing.items())
        missing = {}
        pending = {}
        k = 0
        deadline = None
        while k < len(todo) or pending:
            while k < len(todo) and len(pending) < WINDOW:
                t = c.next_trn()
                pending[t] = todo[k]
                c.send(W.query(t, todo[k][0], 0x00))
                k += 1
            m = c.recv(2.0)
            if m is None:
                missing.update(dict(pending.values()))
                break
            if m["trn"] not in pending:
                continue
            name, ip = pending.pop(m["trn"])
            got = [a for _, a in m["entries"]] if m["rcode"] == 0 else []
            if got != [ip]:
                missing[name] = (ip, got)
    return missing


def start(port, db):
    d = W.wins_daemon(port, db, extra=["--wins-max-names", "200000"])
    c = W.Client("127.0.0.1", port, timeout=3.0)
    assert W.wait_ready(c), d.logtext()
    return d, c


def test_kill9_during_registration_storm(tmp_path):
    seed = int(os.environ.get("NB_CRASH_SEED", str(int(time.time()))))
    print(f"NB_CRASH_SEED={seed}")
    rng = random.Random(seed)
    port = T.free_udp_port()
    db = str(tmp_path / "wins.db")
    acked = {}
    total_sent = 0
    for r in range(ROUNDS):
        d, c = start(port, db)
        try:
            missing = verify(c, acked)
            assert not missing, (f"round {r}: {len(missing)} acknowledged "
                                 f"names lost after SIGKILL: "
                                 f"{list(missing.items())[:5]}")
            kill_at = rng.uniform(0.05, 1.5)
            new, sent = storm(c, r, kill_at, d)
            total_sent += sent
            print(f"round {r}: killed at {kill_at:.3f} s, {sent} sent, "
                  f"{len(new)} acknowledged")
            acked.update(new)
        finally:
            c.close()
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
            d.log.close()
    d, c = start(port, db)
    try:
        missing = verify(c, acked)
        assert not missing, list(missing.items())[:5]
        print(f"{ROUNDS} crashes: {len(acked)} acknowledged of {total_sent} "
              f"sent, all present")
        assert len(acked) > 0
    finally:
        c.close()
        rc, _ = d.stop()
        assert rc == 0
