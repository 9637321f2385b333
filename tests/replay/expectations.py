"""What replaying each capture against the lab's Samba must give.

For every capture: the `nbt replay` arguments, the exit code, the number of
exchanges, and the differences we expect, each with the reason. An
exchange that has no expected difference must agree. The test fails on any
difference not listed here AND on any listed difference that no longer
appears (so this table stays true).

An entry is (exchange, field, recorded, live, reason): `exchange` is its
number, or a regular expression over its request description ("registration
0x2900 .*") for captures with many alike exchanges; `field` is a regular
expression over the diff's field name (fullmatch), `recorded` and `live`
regular expressions over its values. Notes (TTL remaining lives, copies)
are not differences and are not listed.

`live` checks are for requests recorded without a response: (exchange,
index of the live response, its flags word in hex as sent by Samba,
reason).

Samba is 4.17 as Debian ships it, configured by replaylab.SCENARIO
(netbios name XYKON-2, aliases VMWINXP SCV TEST, workgroup WORKGROUP,
B-node, no WINS server, SMB1 allowed). Facts about nmbd cited from
shared/notes/samba-behaviour.md ("notes §x").
"""

NMBD_QUERY_FLAGS = ("nmbd sets RD and RA on every query response, 0x8580 "
                    "(notes §2.5; RFC 1002 4.2.13 leaves RA open)")
NMBD_STATUS_NAMES = ("nmbd's node status lists its own name table: 14 names "
                     "for this scenario (netbios name, 3 aliases x <00><03>"
                     "<20>, WORKGROUP<00><1e>), own name first (notes §2.4)")
REQUEST_ONLY = ("the capture holds only the request: the recorded side has "
                "no response at all")

CAPTURES = {
    # Windows XP (10.0.1.12) asks for XYKON-2<00> by broadcast, then for its
    # node status; the answers come from 10.0.1.6, a responder that sets AA
    # only (0x8400) and reports a remaining life of 3572 s.
    "node-netbios/netbios-ns-b-full-query.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 2,
        "diffs": [
            (1, r"resp\[0\]\.flags", r"0x8400 \(R AA\)",
             r"0x8580 \(R AA RD RA\)",
             "the recorded responder answers 0x8400 (AA only); "
             + NMBD_QUERY_FLAGS),
            (2, r"resp\[0\]\.an\[0\]\.rdlength", "65", "299",
             "1 name recorded against Samba's 14: " + NMBD_STATUS_NAMES),
            (2, r"resp\[0\]\.an\[0\]\.num_names", "1", "14",
             NMBD_STATUS_NAMES),
        ],
    },
    # Windows XP's own positive query response (VMWINXP<20>), with the query
    # rebuilt from it (tests/replay/derive_winxp_pairs.py).
    "node-netbios-derived/winxp-query-pair.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 1,
        "diffs": [
            (1, r"resp\[0\]\.flags", r"0x8500 \(R AA RD\)",
             r"0x8580 \(R AA RD RA\)",
             "Windows XP answers AA|RD (0x8500); " + NMBD_QUERY_FLAGS),
            (1, r"resp\[0\]\.an\[0\]\.nb\[0\]\.flags", "0x6000", "0x0000",
             "Windows XP is an H node (ONT 11, a Microsoft extension of RFC "
             "1002 4.2.1.3); nmbd without WINS is a B node (notes §2.3)"),
        ],
    },
    # Windows XP's own node status response (VMWINXP<20>), with the request
    # rebuilt from it.
    "node-netbios-derived/winxp-status-pair.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 1,
        "diffs": [
            (1, r"resp\[0\]\.an\[0\]\.rdlength", "155", "299",
             "6 names recorded against 14: " + NMBD_STATUS_NAMES),
            (1, r"resp\[0\]\.an\[0\]\.num_names", "6", "14",
             NMBD_STATUS_NAMES),
            (1, r"resp\[0\]\.an\[0\]\.names\[[0-5]\](\.flags)?", ".*", ".*",
             "a different host's name table (Windows XP: VMWINXP<00><20>, "
             "WORKGROUP<00><1e><1d>, __MSBROWSE__<01>, as the master "
             "browser; Samba runs with local master = no)"),
            (1, r"resp\[0\]\.an\[0\]\.unit_id", "set", "zero",
             "Windows XP sends its MAC address as UNIT_ID; nmbd sends 46 "
             "zero bytes of statistics (notes §2.4)"),
            (1, r"trailing bytes", "18", "0",
             "Windows XP pads its node status response with 18 bytes after "
             "the RR (see nb/ns.h); nmbd does not"),
        ],
    },
    # Windows 98 booting (Arkime's nbns.pcap): 46 name registrations, none
    # answered in the capture, and 15 browser datagrams.
    "arkime/nbns.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 61,
        "diffs": [
            (r"registration 0x2900 .*", "responses", "0", "1",
             "unicast registrations to the WINS server went unanswered in "
             "the capture; nmbd, no WINS server, answers each with FMT_ERR"),
        ],
        "live": [(r"registration 0x2900 .*", 0, "ad81",
                  "FMT_ERR, opcode 5, to a unicast registration (notes "
                  "§2.5)")],
        # Broadcast registrations (0x2910) and overwrite demands (0x2810)
        # of names nmbd does not own are silently ignored, as in the
        # capture (notes §2.5: "Anything else: silence"); the DIRECT_GROUP
        # browser datagrams get no answer either (nmbd never sends
        # DATAGRAM ERROR, notes §1).
    },
    # Request-only captures: Samba's answer is checked by its flags word.
    "node-netbios/netbios-ns-b-query-winxp.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 1,
        "diffs": [(1, "responses", "0", "1", REQUEST_ONLY)],
        "live": [(1, 0, "8580",
                  "TEST<20> is one of Samba's aliases: a positive answer; "
                  + NMBD_QUERY_FLAGS)],
    },
    "node-netbios/netbios-ns-b-nbstat-winxp.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 1,
        "diffs": [(1, "responses", "0", "1", REQUEST_ONLY)],
        "live": [(1, 0, "8400",
                  "node status of Samba's own name: AA only (notes §2.4)")],
    },
    "node-netbios/netbios-ns-b-register-winxp.pcap": {
        "args": [],
        "exit": 1,
        "exchanges": 1,
        "diffs": [(1, "responses", "0", "1", REQUEST_ONLY)],
        "live": [(1, 0, "ad81",
                  "a unicast (WINS) registration to an nmbd that is no WINS "
                  "server gets FMT_ERR, opcode 5 (notes §2.5)")],
    },
    # The scanner's session until smbd answers negotiate: the session
    # request to VMWINXP<20> and the SMB1 NEGOTIATE (the later SMB1 turns
    # agree too at the level compared, see test_scanner_full_session).
    "node-netbios/netbios-ssn-full-scanner-winxp.pcap": {
        "args": ["--ssn-turns", "2"],
        "exit": 0,
        "exchanges": 2,
        "diffs": [],
    },
    # Windows 10's two connections to SCV<20> on 139: the session requests.
    "arkime/wireshark-smb-on-windows10.pcap": {
        "args": ["--ssn-turns", "1"],
        "exit": 0,
        "exchanges": 2,
        "diffs": [],
    },
}


# Samba against Samba (pcaps/samba-4.17/, recorded by the lab): probe id ->
# {"args": extra nbt replay arguments, "diffs": expected differences in the
# same form}. A probe not listed must agree in every exchange.
SAMBA = {
    # smbclient -L, authenticated with NTLMSSP: the replayed AUTHENTICATE
    # answers the recorded server challenge, not the new one, so the
    # session setup fails (a note: smb_status 0x00000000 vs an error) and
    # Samba answers the later requests at once with
    # STATUS_USER_SESSION_DELETED. The comparison stops at magic and
    # command, so those agree, except the srvsvc IOCTLs, which Samba first
    # answered with an interim STATUS_PENDING response and then the result
    # ([MS-SMB2] 3.3.4.2): two packets recorded, one error live.
    "smb.list.shares": {"args": [], "diffs": [
        (r"SESSION MESSAGE SMB2 0x000b", "packets", "2", "1",
         "authentication cannot be replayed: the IOCTL fails at once instead "
         "of an interim and a final response"),
    ]},
    # The probe registers WINSNAME<00> for its "owner" (192.0.2.100) before
    # the capture starts and answers nmbd's name query as that owner on
    # port 137, so nmbd sends a WACK and then ACT_ERR (RFC 1002 4.2.16,
    # 5.1.4). Replay has no owner answering on 137, and whether WINSNAME<00>
    # is already registered depends on the captures replayed before it: a
    # fresh nmbd registers it at once (a positive response instead of the
    # WACK); one that has it sends the WACK and is still waiting for the
    # owner when the timeout ends. Either way the ACT_ERR never comes.
    "ns.wins.reg.conflict": {"args": [], "diffs": [
        (1, r"responses|resp\[0\]\.(kind|flags|an\[0\]\.(type|ttl|rdlength))",
         ".*", ".*",
         "no owner answers nmbd's query: one response (WACK, or a positive "
         "registration when the name is new) instead of WACK + ACT_ERR"),
    ]},
}
