use super::*;

fn tcp(flags: u8) -> PacketView {
    PacketView {
        ip_proto: 6,
        ttl: 64,
        tcp_flags: Some(flags),
        has_flow: true,
        ..PacketView::default()
    }
}

fn hm(name: &str, value: &str) -> HeaderMatch {
    HeaderMatch::parse(name, Some(value))
        .expect("a header keyword")
        .unwrap_or_else(|e| panic!("{name}:{value}: {e}"))
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const ECE: u8 = 0x40;
const CWR: u8 = 0x80;

/// (keyword, value, packet flags, expected).
const FLAGS: &[(&str, u8, bool)] = &[
    ("S", SYN, true),
    // Exact: SYN-ACK is not "S".
    ("S", SYN | ACK, false),
    ("S+", SYN | ACK, true),
    ("S+", ACK, false),
    ("SA", SYN | ACK, true),
    ("*SF", FIN, true),
    ("*SF", ACK, false),
    ("!S", ACK, true),
    ("!S", SYN | ACK, false),
    // The part after the comma is ignored: ECN bits on a SYN.
    ("S,CE", SYN | ECE | CWR, true),
    ("S", SYN | ECE | CWR, false),
    ("S,12", SYN | ECE | CWR, true),
    ("0", 0, true),
    ("0", ACK, false),
    ("AP", ACK | PSH, true),
    ("A", ACK | PSH, false),
];

#[test]
fn flags_table() {
    for &(v, f, want) in FLAGS {
        for kw in ["flags", "tcp.flags"] {
            assert_eq!(hm(kw, v).matches(&tcp(f)), want, "{kw}:{v} on {f:#04x}");
        }
    }
    // Not TCP: never.
    let udp = PacketView {
        ip_proto: 17,
        ..PacketView::default()
    };
    assert!(!hm("flags", "0").matches(&udp));
    for bad in ["", "X", "S,Z"] {
        assert!(Flags::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn uint_forms_as_suricata() {
    let c = |s: &str| UintCmp::parse("ttl", s, 255).unwrap();
    let cases: &[(&str, u64, bool)] = &[
        ("64", 64, true),
        ("64", 63, false),
        ("=64", 64, true),
        ("<10", 9, true),
        ("<10", 10, false),
        ("<=10", 10, true),
        (">10", 11, true),
        (">10", 10, false),
        (">=10", 10, true),
        ("!10", 10, false),
        ("!10", 11, true),
        // Ranges are exclusive (Suricata's detect-engine-uint).
        ("10-20", 10, false),
        ("10-20", 11, true),
        ("10-20", 20, false),
        ("10<>20", 15, true),
        ("!10-20", 10, true),
        ("!10-20", 15, false),
        ("!10-20", 20, true),
        ("0x10", 16, true),
    ];
    for &(s, x, want) in cases {
        assert_eq!(c(s).matches(x), want, "{s} on {x}");
    }
    for bad in ["", "256", "a", "20-10", "5-5", "<"] {
        assert!(UintCmp::parse("ttl", bad, 255).is_err(), "{bad:?}");
    }
}

#[test]
fn ttl_icmp_and_ip_proto() {
    let p = PacketView {
        ip_proto: 1,
        ttl: 3,
        icmp: Some((8, 0)),
        icmp_echo: Some((0x1234, 7)),
        has_flow: true,
        ..PacketView::default()
    };
    assert!(hm("ttl", "<5").matches(&p));
    assert!(!hm("ttl", ">5").matches(&p));
    assert!(hm("itype", "8").matches(&p));
    assert!(!hm("itype", "0").matches(&p));
    assert!(hm("icode", "0").matches(&p));
    assert!(hm("icode", "<1").matches(&p));
    assert!(hm("icmp_id", "4660").matches(&p));
    assert!(!hm("icmp_id", "1").matches(&p));
    assert!(hm("icmp_seq", "7").matches(&p));
    assert!(!hm("icmp_seq", "8").matches(&p));
    assert!(hm("ip_proto", "1").matches(&p));
    assert!(hm("ip_proto", "ICMP").matches(&p));
    assert!(!hm("ip_proto", "tcp").matches(&p));
    assert!(hm("ip_proto", "!6").matches(&p));
    assert!(hm("ip_proto", "<2").matches(&p));
    // ICMP keywords never match other protocols.
    let t = tcp(SYN);
    assert!(!hm("itype", "8").matches(&t) && !hm("icmp_id", "0").matches(&t));
}

#[test]
fn flow_options() {
    let mut p = tcp(ACK);
    p.to_server = true;
    p.established = true;
    assert!(hm("flow", "established,to_server").matches(&p));
    assert!(hm("flow", "from_client").matches(&p));
    assert!(!hm("flow", "to_client").matches(&p));
    assert!(!hm("flow", "not_established").matches(&p));
    assert!(hm("flow", "no_stream").matches(&p));
    assert!(!hm("flow", "only_stream").matches(&p));
    p.stream = true;
    assert!(hm("flow", "only_stream,established").matches(&p));
    p.established = false;
    assert!(hm("flow", "not_established").matches(&p));
    for bad in [
        "to_server,to_client",
        "bogus",
        "established,not_established",
        "",
    ] {
        assert!(FlowOpts::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn stream_size() {
    let mut p = tcp(ACK);
    p.stream_size = Some((100, 5000));
    assert!(hm("stream_size", "server,>,4000").matches(&p));
    assert!(!hm("stream_size", "client,>,4000").matches(&p));
    assert!(hm("stream_size", "either,>,4000").matches(&p));
    assert!(!hm("stream_size", "both,>,4000").matches(&p));
    assert!(hm("stream_size", "both,<,6000").matches(&p));
    assert!(hm("stream_size", "client,=,100").matches(&p));
    assert!(hm("stream_size", "client,!=,99").matches(&p));
    p.stream_size = None;
    assert!(!hm("stream_size", "both,<,6000").matches(&p));
    assert!(StreamSize::parse("sideways,>,1").is_err());
    assert!(StreamSize::parse("client,>").is_err());
}

#[test]
fn other_keywords_are_not_header_keywords() {
    assert!(HeaderMatch::parse("content", Some("\"x\"")).is_none());
}
