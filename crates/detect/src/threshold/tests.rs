use super::*;

const SEC: i64 = 1_000_000_000;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Alerts among `n` matches one second apart from the same source.
fn run(spec: &str, keyword: &'static str, n: i64) -> Vec<i64> {
    let spec = Spec::parse(keyword, spec).unwrap();
    let mut t = Thresholds::new(1000);
    (0..n)
        .filter(|i| t.check(1, &spec, i * SEC, ip("10.0.0.1"), ip("10.0.0.2")))
        .collect()
}

#[test]
fn limit_alerts_the_first_count_of_each_window() {
    let got = run(
        "type limit, track by_src, count 2, seconds 5",
        "threshold",
        12,
    );
    assert_eq!(got, vec![0, 1, 5, 6, 10, 11]);
}

#[test]
fn threshold_alerts_every_countth_match_in_a_window() {
    let got = run(
        "type threshold, track by_src, count 3, seconds 60",
        "threshold",
        10,
    );
    assert_eq!(got, vec![2, 5, 8]);
    // A window that ends before the count restarts it.
    let got = run(
        "type threshold, track by_src, count 3, seconds 2",
        "threshold",
        10,
    );
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn both_alerts_once_per_window_at_the_count() {
    let got = run(
        "type both, track by_src, count 3, seconds 5",
        "threshold",
        12,
    );
    assert_eq!(got, vec![2, 7]);
}

#[test]
fn detection_filter_alerts_every_match_after_the_count() {
    let got = run("track by_src, count 3, seconds 60", "detection_filter", 6);
    assert_eq!(got, vec![3, 4, 5]);
}

#[test]
fn tracking_separates_sources_and_destinations() {
    let spec = Spec::parse("threshold", "type limit, track by_src, count 1, seconds 60").unwrap();
    let mut t = Thresholds::new(100);
    assert!(t.check(1, &spec, 0, ip("10.0.0.1"), ip("10.9.9.9")));
    assert!(!t.check(1, &spec, 1, ip("10.0.0.1"), ip("10.9.9.8")));
    assert!(t.check(1, &spec, 2, ip("10.0.0.2"), ip("10.9.9.9")));
    // Another rule has its own state.
    assert!(t.check(2, &spec, 3, ip("10.0.0.1"), ip("10.9.9.9")));
    let by_dst = Spec::parse("threshold", "type limit, track by_dst, count 1, seconds 60").unwrap();
    assert!(t.check(3, &by_dst, 0, ip("1.1.1.1"), ip("10.9.9.9")));
    assert!(!t.check(3, &by_dst, 1, ip("2.2.2.2"), ip("10.9.9.9")));
    let by_rule = Spec::parse(
        "threshold",
        "type limit, track by_rule, count 1, seconds 60",
    )
    .unwrap();
    assert!(t.check(4, &by_rule, 0, ip("1.1.1.1"), ip("2.2.2.2")));
    assert!(!t.check(4, &by_rule, 1, ip("3.3.3.3"), ip("4.4.4.4")));
    let c = t.counters();
    assert_eq!((c.passed, c.suppressed), (5, 3));
}

#[test]
fn the_cap_holds_and_is_counted() {
    let spec = Spec::parse("threshold", "type limit, track by_src, count 1, seconds 60").unwrap();
    let mut t = Thresholds::new(4);
    for i in 0..10u8 {
        t.check(
            1,
            &spec,
            i64::from(i),
            IpAddr::from([10, 0, 0, i]),
            ip("1.1.1.1"),
        );
    }
    assert_eq!(t.len(), 4);
    assert_eq!(t.counters().evicted, 6);
    t.expire(100 * SEC, 60 * SEC);
    assert!(t.is_empty());
}

#[test]
fn parse_errors_name_the_problem() {
    for (kw, v) in [
        ("threshold", "type limit, track by_src, count 1"),
        (
            "threshold",
            "type sometimes, track by_src, count 1, seconds 1",
        ),
        ("threshold", "type limit, track by_port, count 1, seconds 1"),
        ("threshold", "type limit, track by_src, count x, seconds 1"),
        ("threshold", "type limit, track by_src, count 0, seconds 1"),
        ("detection_filter", "track by_src, count 1"),
        ("threshold", "track by_src, count 1, seconds 1"),
    ] {
        assert!(Spec::parse(kw, v).is_err(), "{kw}: {v}");
    }
    // Options in any order, as Suricata accepts.
    let s = Spec::parse("threshold", "count 5, seconds 10, track by_dst, type both").unwrap();
    assert_eq!(
        (s.kind, s.track, s.count, s.seconds),
        (Kind::Both, Track::ByDst, 5, 10)
    );
}
