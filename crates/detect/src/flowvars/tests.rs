use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn flowbits_set_then_isset_across_packets() {
    let mut n = Names::default();
    let set = Flowbits::parse("set, ET.login", &mut n).unwrap();
    let isset = Flowbits::parse("isset,ET.login", &mut n).unwrap();
    let isnotset = Flowbits::parse("isnotset,ET.login", &mut n).unwrap();
    let unset = Flowbits::parse("unset,ET.login", &mut n).unwrap();
    let toggle = Flowbits::parse("toggle,ET.login", &mut n).unwrap();
    assert_eq!(n.len(), 1, "one name interned once");
    let mut v = FlowVars::default();
    assert!(!v.check_bits(&isset) && v.check_bits(&isnotset));
    assert!(v.check_bits(&set), "actions are not conditions");
    v.apply_bits(&set);
    assert!(v.check_bits(&isset) && !v.check_bits(&isnotset));
    v.apply_bits(&unset);
    assert!(!v.check_bits(&isset));
    v.apply_bits(&toggle);
    assert!(v.check_bits(&isset));
    v.apply_bits(&toggle);
    assert!(!v.check_bits(&isset));
    assert!(!set.is_condition() && isset.is_condition());
}

#[test]
fn flowbits_or_and_errors() {
    let mut n = Names::default();
    let any = Flowbits::parse("isset, a|b", &mut n).unwrap();
    let mut v = FlowVars::default();
    assert!(!v.check_bits(&any));
    v.apply_bits(&Flowbits::parse("set,b", &mut n).unwrap());
    assert!(v.check_bits(&any));
    assert_eq!(
        Flowbits::parse("noalert", &mut n).unwrap(),
        Flowbits::NoAlert
    );
    for bad in ["set", "set,a|b", "frob,a", "noalert,x", "isset,", "set,a b"] {
        assert!(Flowbits::parse(bad, &mut n).is_err(), "{bad:?}");
    }
}

#[test]
fn per_flow_cap_is_reported() {
    let mut n = Names::default();
    let mut v = FlowVars::default();
    for i in 0..MAX_FLOW_VARS {
        assert!(v.apply_bits(&Flowbits::parse(&format!("set,b{i}"), &mut n).unwrap()));
    }
    assert!(!v.apply_bits(&Flowbits::parse("set,one.too.many", &mut n).unwrap()));
}

#[test]
fn flowint_arithmetic_and_comparisons() {
    let mut n = Names::default();
    let p = |s: &str, n: &mut Names| Flowint::parse(s, n).unwrap();
    let mut v = FlowVars::default();
    let add = p("ET.count, +, 1", &mut n);
    let gt2 = p("ET.count, >, 2", &mut n);
    let isset = p("ET.count, isset", &mut n);
    let notset = p("ET.count, notset", &mut n);
    assert!(!v.check_int(&gt2) && !v.check_int(&isset) && v.check_int(&notset));
    for _ in 0..3 {
        assert!(v.apply_int(&add));
    }
    assert_eq!(v.int(add.var), Some(3));
    assert!(v.check_int(&gt2) && v.check_int(&isset));
    assert!(v.check_int(&p("ET.count, ==, 3", &mut n)));
    assert!(v.check_int(&p("ET.count, !=, 4", &mut n)));
    assert!(v.check_int(&p("ET.count, <=, 3", &mut n)));
    assert!(!v.check_int(&p("ET.count, <, 3", &mut n)));
    // Another variable as the operand.
    v.apply_int(&p("other, =, 3", &mut n));
    assert!(v.check_int(&p("ET.count, ==, other", &mut n)));
    // Comparing with an unset variable is false.
    assert!(!v.check_int(&p("ET.count, ==, unset.var", &mut n)));
    v.apply_int(&p("ET.count, -, 10", &mut n));
    assert_eq!(v.int(add.var), Some(0));
    for bad in ["x", "x, ~, 1", "x, +", "x, isset, 1", "bad name, +, 1"] {
        assert!(Flowint::parse(bad, &mut n).is_err(), "{bad:?}");
    }
}

#[test]
fn xbits_by_host_and_pair_with_expiry() {
    const S: i64 = 1_000_000_000;
    let mut n = Names::default();
    let set = Xbits::parse("set,ET.seen,track ip_dst, expire 10", &mut n).unwrap();
    let isset_src = Xbits::parse("isset,ET.seen,track ip_src", &mut n).unwrap();
    let mut h = HostBits::new(100);
    let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
    // A request to b sets the bit on b; b's response (src b) finds it.
    h.apply(&set, 0, a, b);
    assert!(h.check(&isset_src, S, b, a));
    assert!(!h.check(&isset_src, S, a, b));
    // Expired after 10 s.
    assert!(!h.check(&isset_src, 10 * S, b, a));
    let pair = Xbits::parse("set,p,track ip_pair", &mut n).unwrap();
    let pair_check = Xbits::parse("isset,p,track ip_pair", &mut n).unwrap();
    h.apply(&pair, 0, a, b);
    assert!(h.check(&pair_check, S, b, a), "a pair is unordered");
    assert!(Xbits::parse("set,x,track tx", &mut n).is_err());
    assert!(Xbits::parse("set,x,track ip_src, expire 0", &mut n).is_err());
    assert!(Xbits::parse("set,x", &mut n).is_err());
}

#[test]
fn host_bits_are_capped() {
    let mut n = Names::default();
    let set = Xbits::parse("set,x,track ip_src", &mut n).unwrap();
    let mut h = HostBits::new(8);
    for i in 0..20u8 {
        h.apply(
            &set,
            i64::from(i),
            IpAddr::from([10, 0, 0, i]),
            ip("1.1.1.1"),
        );
    }
    assert_eq!(h.len(), 8);
    assert_eq!(h.evicted, 12);
    h.expire(i64::MAX);
    assert!(h.is_empty());
}
