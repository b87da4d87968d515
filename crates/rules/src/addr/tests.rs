use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn set(s: &str) -> Result<IpSet, ExprError> {
    AddrExpr::parse(s)?.resolve(&Vars::suricata_defaults())
}

fn v4(s: &str) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    set(s)
        .unwrap()
        .v4_ranges()
        .iter()
        .map(|&(a, b)| (Ipv4Addr::from(a), Ipv4Addr::from(b)))
        .collect()
}

fn r4(a: &str, b: &str) -> (Ipv4Addr, Ipv4Addr) {
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn literals() {
    let one = |s| IpRange::parse(s).unwrap();
    assert_eq!(
        one("1.2.3.4"),
        IpRange::V4 {
            start: 0x0102_0304,
            end: 0x0102_0304
        }
    );
    assert_eq!(
        one("1.2.3.4/24"),
        IpRange::V4 {
            start: 0x0102_0300,
            end: 0x0102_03ff
        }
    );
    assert_eq!(one("1.2.3.4/255.255.255.0"), one("1.2.3.0/24"));
    assert_eq!(
        one("0.0.0.0/0"),
        IpRange::V4 {
            start: 0,
            end: u32::MAX
        }
    );
    assert_eq!(
        one("1.2.3.4-1.2.3.10"),
        IpRange::V4 {
            start: 0x0102_0304,
            end: 0x0102_030a
        }
    );
    assert_eq!(one("1.2.3.4-1.2.3.4"), one("1.2.3.4"));
    assert_eq!(one("::1"), IpRange::V6 { start: 1, end: 1 });
    assert_eq!(
        one("2001:db8::/32"),
        IpRange::V6 {
            start: 0x2001_0db8 << 96,
            end: (0x2001_0db8 << 96) | ((1u128 << 96) - 1)
        }
    );
    assert_eq!(
        one("::/0"),
        IpRange::V6 {
            start: 0,
            end: u128::MAX
        }
    );
    assert_eq!(
        one("2001::1-2001::4"),
        IpRange::V6 {
            start: (0x2001 << 112) | 1,
            end: (0x2001 << 112) | 4
        }
    );
    assert_eq!(
        one("::ffff:1.2.3.4"),
        IpRange::V6 {
            start: 0xffff_0102_0304,
            end: 0xffff_0102_0304
        }
    );
    for bad in [
        "1.2.3",
        "1.2.3.4/33",
        "1.2.3.4/",
        "1.2.3.256",
        "01.2.3.4",
        "1.2.3.10-1.2.3.4",
        "::1/129",
        "::1/x",
        "2001::4-2001::1",
        "foo",
        "1.2.3.4/24/8",
        "1.2.3.4 5.6.7.8",
        "1.2.3.4-::1",
    ] {
        assert!(IpRange::parse(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn display_is_canonical_and_round_trips() {
    for (input, shown) in [
        ("1.2.3.4", "1.2.3.4"),
        ("1.2.3.4/24", "1.2.3.0/24"),
        ("1.2.3.4-1.2.3.10", "1.2.3.4-1.2.3.10"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("[any,!$HOME_NET,[::1]]", "[any,!$HOME_NET,[::1]]"),
    ] {
        let e = AddrExpr::parse(input).unwrap();
        assert_eq!(e.to_string(), shown);
        assert_eq!(AddrExpr::parse(&e.to_string()).unwrap(), e);
    }
}

#[test]
fn any_and_groups() {
    let any = set("any").unwrap();
    assert!(any.is_any());
    assert!(any.contains(ip("8.8.8.8")) && any.contains(ip("::1")));
    assert_eq!(set("ANY").unwrap(), IpSet::any());
    assert_eq!(
        v4("[1.2.3.4,1.2.3.5,1.2.3.6]"),
        vec![r4("1.2.3.4", "1.2.3.6")]
    );
    assert_eq!(
        v4("1.2.3.4,5.6.7.8"),
        vec![r4("1.2.3.4", "1.2.3.4"), r4("5.6.7.8", "5.6.7.8")]
    );
    assert_eq!(
        v4("[[1.2.3.4],[[1.2.3.5]]]"),
        vec![r4("1.2.3.4", "1.2.3.5")]
    );
    // IPv4-only sets hold no IPv6.
    assert!(!set("10.0.0.0/8").unwrap().contains(ip("::a00:1")));
}

#[test]
fn negation_within_groups() {
    assert_eq!(
        v4("[10.0.0.0/8,!10.1.0.0/16]"),
        vec![
            r4("10.0.0.0", "10.0.255.255"),
            r4("10.2.0.0", "10.255.255.255")
        ]
    );
    // Negations inside nested plain groups join the outer pool.
    assert_eq!(
        v4("[10.0.0.0/8,[!10.1.0.0/16]]"),
        vec![
            r4("10.0.0.0", "10.0.255.255"),
            r4("10.2.0.0", "10.255.255.255")
        ]
    );
    // A group of negations only is "any minus those", per family.
    let s = set("[!1.2.3.4,!5.6.7.8]").unwrap();
    assert!(s.contains(ip("1.2.3.5")));
    assert!(!s.contains(ip("1.2.3.4")) && !s.contains(ip("5.6.7.8")));
    assert!(
        s.v6_ranges().is_empty(),
        "IPv4 negations leave IPv6 empty, as in Suricata"
    );
    let s = set("!::1").unwrap();
    assert!(s.v4_ranges().is_empty() && !s.contains(ip("::1")) && s.contains(ip("::2")));
    // Negating a negated group is the group again.
    assert_eq!(v4("![!1.2.3.4]"), vec![r4("1.2.3.4", "1.2.3.4")]);
    // A negated group is resolved first: 1.2.3.4 is not re-added by the
    // inner negation.
    assert_eq!(
        v4("[1.0.0.0/8,![1.2.0.0/16,!1.2.3.4]]"),
        vec![
            r4("1.0.0.0", "1.1.255.255"),
            r4("1.2.3.4", "1.2.3.4"),
            r4("1.3.0.0", "1.255.255.255")
        ]
    );
    // `any` with a negation keeps the other family whole.
    let s = set("[any,!1.2.3.4]").unwrap();
    assert!(s.contains(ip("::1")) && !s.contains(ip("1.2.3.4")) && s.contains(ip("1.2.3.3")));
}

#[test]
fn variables_and_nesting() {
    let home = set("$HOME_NET").unwrap();
    assert!(home.contains(ip("192.168.1.1")) && home.contains(ip("172.31.255.255")));
    assert!(!home.contains(ip("172.32.0.0")) && !home.contains(ip("8.8.8.8")));
    let ext = set("$EXTERNAL_NET").unwrap();
    assert!(ext.contains(ip("8.8.8.8")) && !ext.contains(ip("10.0.0.1")));
    assert!(
        !ext.contains(ip("2001:db8::1")),
        "Suricata: !$HOME_NET (IPv4 only) has no IPv6"
    );
    assert_eq!(set("$AIM_SERVERS").unwrap(), ext);
    assert_eq!(set("!$EXTERNAL_NET").unwrap(), home);
    assert_eq!(set("[$HOME_NET]").unwrap(), home);

    let mut vars = Vars::suricata_defaults();
    vars.set_address("HOME_NET", "[10.0.0.0/8,!10.9.0.0/16]")
        .unwrap();
    vars.set_address("DMZ", "[$HOME_NET,192.0.2.0/24]").unwrap();
    let dmz = AddrExpr::parse("$DMZ").unwrap().resolve(&vars).unwrap();
    assert!(dmz.contains(ip("192.0.2.5")) && dmz.contains(ip("10.8.0.1")));
    assert!(
        !dmz.contains(ip("10.9.0.1")),
        "the variable's negation applies to the whole pool"
    );
    // A negated variable is resolved first, negations included.
    let ext = AddrExpr::parse("!$HOME_NET")
        .unwrap()
        .resolve(&vars)
        .unwrap();
    assert!(ext.contains(ip("10.9.0.1")) && !ext.contains(ip("10.8.0.1")));

    let mut vars = Vars::new();
    vars.set_address("A", "[1.2.3.4,$B]").unwrap();
    vars.set_address("B", "[$C]").unwrap();
    vars.set_address("C", "$A").unwrap();
    let e = AddrExpr::parse("$A").unwrap().resolve(&vars).unwrap_err();
    assert_eq!(
        e,
        ExprError::Cycle {
            kind: ExprKind::Address,
            name: "A".into()
        }
    );
    let e = AddrExpr::parse("[$NOPE]")
        .unwrap()
        .resolve(&vars)
        .unwrap_err();
    assert_eq!(e.to_string(), "undefined address variable $NOPE");
    // The same variable twice side by side is not a cycle.
    vars.set_address("D", "[$E,$E]").unwrap();
    vars.set_address("E", "5.6.7.8").unwrap();
    assert!(AddrExpr::parse("$D").unwrap().resolve(&vars).is_ok());
}

#[test]
fn errors_where_suricata_errors() {
    let e = set("!any").unwrap_err();
    assert_eq!(
        e,
        ExprError::CompleteSpaceNegated {
            kind: ExprKind::Address
        }
    );
    assert_eq!(e.to_string(), "the complete IPv4 address space is negated");
    assert!(set("[!0.0.0.0/1,!128.0.0.0/1]").is_err());
    assert_eq!(
        set("[1.2.3.4,!1.2.3.4]").unwrap_err(),
        ExprError::Empty {
            kind: ExprKind::Address
        }
    );
    // The negation is bigger than the positive range (Suricata ticket 1079).
    assert!(set("[192.168.1.3,!192.168.0.0/16]").is_err());
    let mut vars = Vars::new();
    vars.set_address("X", "[1.2.3.4,!1.2.3.4]").unwrap();
    // A plain variable joins the outer pool, so only its own check fails.
    let s = AddrExpr::parse("[5.6.7.8,$X]")
        .unwrap()
        .resolve(&vars)
        .unwrap();
    assert_eq!(s.v4_ranges(), &[(0x0506_0708, 0x0506_0708)]);
    assert_eq!(
        vars.check()[0].to_string(),
        "in $X: no addresses left after applying the negations"
    );
    let e = AddrExpr::parse("[5.6.7.8,!$X]")
        .unwrap()
        .resolve(&vars)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "in $X: no addresses left after applying the negations"
    );
}

#[test]
fn ipnets_cover_exactly() {
    let s = set("[10.0.0.1-10.0.0.6,::/0,!::1]").unwrap();
    let nets: Vec<String> = s.to_ipnets().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        &nets[..4],
        ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
    );
    assert_eq!(nets[4], "::/128");
    assert_eq!(nets[5], "::2/127");
    assert_eq!(nets.last().unwrap(), "8000::/1");
    assert_eq!(IpSet::any().to_ipnets().len(), 2);
    assert_eq!(IpSet::any().to_string(), "any");
    assert_eq!(set("1.2.3.0/24").unwrap().to_string(), "[1.2.3.0/24]");
}

#[test]
fn negation_is_found_through_variables() {
    let vars = Vars::suricata_defaults();
    let neg = |s: &str| AddrExpr::parse(s).unwrap().contains_negation(&vars);
    assert!(!neg("any"));
    assert!(!neg("$HOME_NET"));
    assert!(!neg("[1.2.3.4,5.6.7.0/24]"));
    // `$EXTERNAL_NET` is `!$HOME_NET`.
    assert!(neg("$EXTERNAL_NET"));
    assert!(neg("[1.2.3.4,!1.2.3.5]"));
    assert!(neg("[10.0.0.0/8,[$EXTERNAL_NET]]"));
}
