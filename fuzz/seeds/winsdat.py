#!/usr/bin/python3
# Seeds for fuzz_winsdat: byte 0 picks the scope (bit 0), the rest is a
# wins.dat. Writes corpus/winsdat/<sha256>.
# Provenance: tests/wins/golden/nmbd-wins.dat (written by a real nmbd 4.17
# in the WINS lab) and hand-written lines in the format of Samba's
# source3/nmbd/nmbd_winsserver.c (wins_write_name_record, initialise_wins).
import hashlib, os, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..")
seeds = {
 "golden": open(os.path.join(root, "tests/wins/golden/nmbd-wins.dat"), "rb").read(),
 "records": b'VERSION 1 0\n"HOST#20" 1795291289 192.0.2.100 64R\n"GRP#1c" 1795291289 192.0.2.100 192.0.2.101 192.0.2.102 e4R\n"PERM#00" 0 10.0.0.1 04R\n',
 "own-and-expired": b'"SELF#20" 1795291289 192.0.2.1 66R\n"OWN#00" 1795291289 192.0.2.1 64S\n"OLD#20" 1000 192.0.2.5 64R\n',
 "malformed": b'VERSION 2 0\n"NOHASH" 1 1.2.3.4 64R\n"A#zz" 1 1.2.3.4 64R\n"A#20" x 1.2.3.4 64R\n"A#20" 1795291289 1.2.3 64R\n"A#20" 1795291289 1.2.3.4 1ffR\n"TOOLONGNAME12345#20" 0 1.2.3.4 64R\n',
 "quoted-space": b'# comment\n\n"A B#20" 1795291289 192.0.2.7 04R\r\n"X#03"\t0\t192.0.2.8\t24R\n',
 "scope": b'\x01"HOST#20" 1795291289 192.0.2.100 64R\n',
}
for k, v in seeds.items():
    if k != "scope":
        v = b"\x00" + v
    h = hashlib.sha256(v).hexdigest()
    open(os.path.join(root, "corpus/winsdat", h), "wb").write(v)
print(len(seeds))
