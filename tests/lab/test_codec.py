"""The lab's two codecs agree: nbtkit's `nbt build`/`nbt decode`/`nbt name`
and the lab's own reader/assembler (nbwire.py), on requests the probes
send and on replies Samba sends (shared/notes/samba-behaviour.md,
Appendix A). A disagreement is a bug in one of them - the report relies on
both. No lab needed."""

import pytest

from nbtlab import codec as codec_mod
from nbtlab import nbwire

CODEC = codec_mod.Codec()
needs_nbt = pytest.mark.skipif(not CODEC.nbt, reason="nbt not built")

NAMES = ["FRED", "FRED<00>", "*<00>", "NBTTEST<20>.NBTLAB.EXAMPLE",
         "nbttest<1e>", "__SAMBA__<20>", "A<03>.X"]


@needs_nbt
@pytest.mark.parametrize("text", NAMES)
def test_name_encoding_agrees(text):
    p = CODEC._run(["name", "encode", text])
    assert p.returncode == 0
    assert bytes.fromhex(p.stdout.split()[1]) == nbwire.name_bytes(text)


REQUESTS = [
    ("query", dict(name="NBTTEST<20>", trn=1)),
    ("query", dict(name="NBTTEST<20>", trn=2, bcast=True)),
    ("query", dict(name="NBTTEST<20>", trn=3, rd=False)),
    ("status", dict(name="*<00>", trn=4)),
    ("register", dict(name="NEW<00>", trn=5, bcast=True, addr="192.0.2.100",
                      ttl=300000)),
    ("register", dict(name="NEW<1e>", trn=6, addr="192.0.2.100", ttl=300000,
                      group=True, ont="p")),
    ("overwrite", dict(name="NEW<00>", trn=7, bcast=True, addr="192.0.2.100",
                       ttl=0)),
    ("refresh", dict(name="NEW<00>", trn=8, addr="192.0.2.100",
                     ttl=300000)),
    ("release", dict(name="NEW<00>", trn=9, bcast=True, addr="192.0.2.100",
                     ttl=0)),
    ("multihomed", dict(name="NEW<00>", trn=10, addr="192.0.2.100",
                        ttl=300000)),
]


@needs_nbt
@pytest.mark.parametrize("kind,kw", REQUESTS)
def test_ns_requests_agree(kind, kw):
    if not CODEC.supports("build", "ns"):
        pytest.skip("nbt build ns not in this build")
    built = CODEC.ns(kind, **kw)
    assert built.builder == "nbt", CODEC.fallbacks
    lab = CODEC._ns_lab(kind, kw["name"], kw["trn"], kw.get("bcast", False),
                        kw.get("rd"), kw.get("addr"), kw.get("ttl"),
                        kw.get("group", False), kw.get("ont", "b"))
    assert bytes(built) == lab


@needs_nbt
def test_ssn_and_dgm_requests_agree():
    if not (CODEC.supports("build", "ssn") and CODEC.supports("build", "dgm")):
        pytest.skip("nbt build ssn/dgm not in this build")
    r = CODEC.ssn_request("NBTTEST<20>", "NBTPROBE<00>")
    assert r.builder == "nbt"
    assert bytes(r) == nbwire.build_ssn(
        0x81, nbwire.name_bytes("NBTTEST<20>")
        + nbwire.name_bytes("NBTPROBE<00>"))
    assert bytes(CODEC.ssn_keepalive()) == b"\x85\x00\x00\x00"
    d = CODEC.dgm("unique", "192.0.2.100", 138, "NBTPROBE<00>", "NBTTEST<20>",
                  b"hi", dgm_id=7)
    assert d.builder == "nbt"
    p = nbwire.parse_dgm(bytes(d))
    assert (p["type"], p["flags"], p["id"], p["src_ip"], p["src_port"]) == \
        (0x10, 0x02, 7, "192.0.2.100", 138)
    assert p["destination_name"] == "NBTTEST<20>"
    assert p["dgm_length"] == len(bytes(d)) - 14


NBTTEST20 = "20454f45434645464545464644464543414341434143414341434143414341434100"
SAMBA_REPLIES = [
    # positive query response (Appendix A), TTL 259200, 192.0.2.10
    ("nbns", "1234858000000001000000" "00" + NBTTEST20
     + "00200001" "0003f480" "0006" "0000" "c000020a"),
    # negative query response, RR type NULL
    ("nbns", "1234858300000001000000" "00" + NBTTEST20
     + "000a0001" "00000000" "0000"),
    # ACT_ERR to a broadcast registration
    ("nbns", "1234ad8600000001000000" "00" + NBTTEST20
     + "00200001" "00000000" "0006" "0000" "c0000264"),
    # WACK
    ("nbns", "1234bc0000000001000000" "00" + NBTTEST20
     + "000a0001" "0000003c" "0002" "2900"),
    # session: positive, negative 0x82, retarget
    ("nbss", "82000000"), ("nbss", "8300000182"),
    ("nbss", "84000006c000020a01bd"),
]


@pytest.mark.parametrize("proto,hexs", SAMBA_REPLIES)
def test_samba_replies_parse_in_both(proto, hexs):
    data = bytes.fromhex(hexs)
    mine = nbwire.parse(proto, data)
    assert mine
    if proto == "nbns":
        assert mine["trailing"] == 0
    if not CODEC.nbt or not CODEC.supports("decode"):
        pytest.skip("nbt decode not in this build")
    d = CODEC.decode(proto, data)
    assert d["ok"], d
    obj = d["objects"][0]
    if proto == "nbns":
        assert obj["trn_id"] == mine["trn"]
        assert obj["rcode"] == mine["rcode"]
        assert len(obj["answers"]) == mine["ancount"]


@pytest.mark.parametrize("hexs,field", [
    ("", "header"), ("00" * 11, "header"),
    ("0001000000010000000000" "00" "c00c00200001", "name"),
    ("000100000001000000000000" "c0", "name"),
    ("000100000001000000000000" "1f" + "41" * 31 + "0000200001", "name"),
])
def test_reader_rejects_with_location(hexs, field):
    with pytest.raises(nbwire.WireError) as e:
        nbwire.parse_ns(bytes.fromhex(hexs))
    assert e.value.field == field
