//! Unit tests with hand-built events, shaped like the captures the flood
//! detectors must fire on: a spoofed SYN flood (one host, one port, every
//! SYN from a new source, tens of thousands a second) and a SYN-ACK
//! reflection (SYN-ACKs from thousands of web servers' ports 80 and 443 to
//! one host, tens of thousands a second).

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use super::*;

/// Microseconds after a fixed start.
fn at(us: i64) -> Timestamp {
    Timestamp::from_nanos(1_619_605_821_000_000_000 + us * 1_000)
}

const SEC: i64 = 1_000_000;

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

const VICTIM: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 10, 10, 10));

/// The `i`th spoofed source (distinct for distinct `i`).
fn spoofed(i: u32) -> IpAddr {
    v4(0x2000_0000u32.wrapping_add(i))
}

fn ev(us: i64, bidirectional: bool, kind: EventKind<'static>) -> Event<'static> {
    Event {
        ts: at(us),
        tenant: 0,
        session: 3,
        bidirectional,
        kind,
    }
}

fn syn(src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> EventKind<'static> {
    EventKind::FlowStart {
        src,
        dst,
        sport,
        dport,
        proto: 6,
        syn: true,
        echo: false,
        internal: (false, true),
    }
}

fn synack(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, syn_seen: bool) -> EventKind<'static> {
    EventKind::SynAck {
        src,
        dst,
        sport,
        dport,
        syn_seen,
    }
}

fn end(
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    established: bool,
    pkts_to_client: u64,
) -> EventKind<'static> {
    EventKind::FlowEnd {
        src,
        dst,
        sport,
        dport,
        proto: 6,
        pkts_to_server: 1,
        pkts_to_client,
        bytes_to_server: 60,
        bytes_to_client: 60 * pkts_to_client,
        start: at(0),
        established,
        internal: (false, true),
    }
}

fn feed(d: &mut impl Detector, evs: &[Event<'_>]) -> Vec<Detection> {
    let mut out = Vec::new();
    for e in evs {
        d.on_event(e, &mut out);
    }
    out
}

fn value<'a>(d: &'a Detection, key: &str) -> &'a Value {
    &d.evidence
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("no {key} in {:?}", d.evidence))
        .1
}

fn count(d: &Detection, key: &str) -> u64 {
    match value(d, key) {
        Value::Count(n) => *n,
        v => panic!("{key} is {v:?}"),
    }
}

fn number(d: &Detection, key: &str) -> f64 {
    match value(d, key) {
        Value::Number(n) | Value::Seconds(n) => *n,
        v => panic!("{key} is {v:?}"),
    }
}

fn allow_net(net: &str) -> Allow {
    Allow {
        destinations: vec![net.parse().unwrap()],
        ..Allow::default()
    }
}

/// `n` SYNs to the victim's port 25565, one every 40 µs from `t0`, source
/// `i % sources` (every one new when `sources >= n`), as the spoofed flood
/// capture (about 25,000 a second in its first second).
fn syn_flood(t0: i64, n: u32, sources: u32, bidirectional: bool) -> Vec<Event<'static>> {
    (0..n)
        .map(|i| {
            ev(
                t0 + 40 * i as i64,
                bidirectional,
                syn(
                    spoofed(i % sources),
                    1024 + (i % 60_000) as u16,
                    VICTIM,
                    25565,
                ),
            )
        })
        .collect()
}

fn assert_flood_detection(d: &Detection, id: DetectorId) {
    assert_eq!(d.detector, id);
    assert_eq!(d.dst, Some(VICTIM));
    assert_eq!(d.src, None);
    assert_eq!(d.flow, None);
    assert_eq!(d.proto, Some(6));
    assert_eq!(d.severity, 2);
    assert_eq!(d.session, 3);
    assert!(d.msg.starts_with("MIRADOR "));
    let (first, last) = (value(d, "first_seen"), value(d, "last_seen"));
    assert!(matches!(first, Value::Time(_)) && matches!(last, Value::Time(_)));
}

// ---------------------------------------------------------------------------
// SYN flood

#[test]
fn syn_flood_fires_once_on_a_spoofed_flood() {
    let mut d = SynFlood::new(PerTenant::default());
    let out = feed(&mut d, &syn_flood(0, 12_000, u32::MAX, true));
    assert_eq!(out.len(), 1, "{out:?}");
    let x = &out[0];
    assert_flood_detection(x, DetectorId::SynFlood);
    assert_eq!(DetectorId::SynFlood.sid(), 5);
    // Fired by the 10,000th SYN.
    assert_eq!(x.ts, at(40 * 9_999));
    assert_eq!(count(x, "syns"), 10_000);
    assert_eq!(count(x, "sources"), 1_024);
    assert_eq!(count(x, "source_cap"), 1_024);
    match value(x, "source_hosts") {
        Value::Hosts(h) => {
            assert_eq!(h.len(), MAX_LISTED);
            assert!(h.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(h[0], spoofed(0));
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(value(x, "ports"), &Value::Ports(vec![25565]));
    assert_eq!(count(x, "port_count"), 1);
    assert_eq!(count(x, "completed"), 0);
    assert_eq!(number(x, "window"), 10.0);
    assert_eq!(value(x, "first_seen"), &Value::Time(at(0)));
    assert_eq!(value(x, "last_seen"), &Value::Time(at(40 * 9_999)));
    let rate = number(x, "rate");
    assert!(
        (rate - 10_000.0 / (0.000_04 * 9_999.0)).abs() < 1.0,
        "{rate}"
    );
    let c = d.counters();
    assert_eq!(
        (c.events, c.detections, c.entries, c.evicted),
        (12_000, 1, 1, 0)
    );
}

#[test]
fn syn_flood_near_misses_do_not_fire() {
    // One SYN short.
    let mut d = SynFlood::new(PerTenant::default());
    assert!(feed(&mut d, &syn_flood(0, 9_999, u32::MAX, true)).is_empty());
    // Enough SYNs, one source short.
    let mut d = SynFlood::new(PerTenant::default());
    assert!(feed(&mut d, &syn_flood(0, 20_000, 999, true)).is_empty());
    // Enough of both, but over more than a window (1,000 a second is the
    // least rate; this is 900).
    let slow: Vec<_> = (0..20_000u32)
        .map(|i| {
            ev(
                i as i64 * SEC / 900,
                true,
                syn(spoofed(i), 2000, VICTIM, 80),
            )
        })
        .collect();
    let mut d = SynFlood::new(PerTenant::default());
    assert!(feed(&mut d, &slow).is_empty());
}

#[test]
fn syn_flood_counts_one_sided_traffic() {
    // A SYN rate needs no answers: an ingress-only mirror sees it.
    let mut d = SynFlood::new(PerTenant::default());
    assert_eq!(
        feed(&mut d, &syn_flood(0, 10_000, u32::MAX, false)).len(),
        1
    );
}

#[test]
fn syn_flood_spares_a_busy_server_that_completes_its_handshakes() {
    // 2,000 new connections a second from 5,000 clients, every one
    // completing: the flows of a moment ago end established.
    let mut evs = Vec::new();
    for i in 0..40_000u32 {
        let t = i as i64 * SEC / 2_000;
        let client = spoofed(i % 5_000);
        evs.push(ev(t, true, syn(client, 40_000, VICTIM, 443)));
        if i >= 100 {
            let old = spoofed((i - 100) % 5_000);
            evs.push(ev(t, true, end(old, 40_000, VICTIM, 443, true, 5)));
        }
    }
    let mut d = SynFlood::new(PerTenant::default());
    assert!(feed(&mut d, &evs).is_empty());
    // The same seen one-sided (no completion visible) is a flood by rate.
    for e in &mut evs {
        e.bidirectional = false;
    }
    let mut d = SynFlood::new(PerTenant::default());
    assert_eq!(feed(&mut d, &evs).len(), 1);
}

#[test]
fn syn_flood_respects_allow_lists_and_tenants() {
    let flood = syn_flood(0, 12_000, u32::MAX, true);
    for allow in [
        allow_net("10.10.10.0/24"),
        Allow {
            ports: vec![25565],
            ..Allow::default()
        },
        Allow {
            sources: vec!["32.0.0.0/8".parse().unwrap()],
            ..Allow::default()
        },
    ] {
        let mut d = SynFlood::new(PerTenant::all(SynFloodConfig {
            allow,
            ..SynFloodConfig::default()
        }));
        assert!(feed(&mut d, &flood).is_empty());
    }
    // Off for tenant 1 only.
    let cfg = PerTenant {
        default: SynFloodConfig::default(),
        tenants: vec![(
            1,
            SynFloodConfig {
                enabled: false,
                ..SynFloodConfig::default()
            },
        )],
    };
    let mut d = SynFlood::new(cfg);
    let mut other = flood.clone();
    for e in &mut other {
        e.tenant = 1;
    }
    assert!(feed(&mut d, &other).is_empty());
    let out = feed(&mut d, &flood);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].tenant, 0);
}

#[test]
fn syn_flood_fires_once_per_episode_and_rearms() {
    let mut d = SynFlood::new(PerTenant::default());
    // 30 s of flood at 2,000 a second: three windows, one detection.
    let flood: Vec<_> = (0..60_000u32)
        .map(|i| ev(i as i64 * 500, true, syn(spoofed(i), 1, VICTIM, 80)))
        .collect();
    assert_eq!(feed(&mut d, &flood).len(), 1);
    // A trickle for a window: the condition clears, the state stays.
    let trickle: Vec<_> = (0..12u32)
        .map(|i| {
            ev(
                30 * SEC + i as i64 * SEC,
                true,
                syn(spoofed(i), 1, VICTIM, 80),
            )
        })
        .collect();
    assert!(feed(&mut d, &trickle).is_empty());
    assert_eq!(d.tracked(), 1);
    let again: Vec<_> = syn_flood(42 * SEC, 10_000, u32::MAX, true);
    assert_eq!(feed(&mut d, &again).len(), 1);
    // Quiet for a while: the state expires, and a new flood fires again.
    let mut out = Vec::new();
    d.advance(at(80 * SEC), &mut out);
    assert_eq!(d.tracked(), 0);
    assert_eq!(
        feed(&mut d, &syn_flood(80 * SEC, 10_000, u32::MAX, true)).len(),
        1
    );
    assert_eq!(d.counters().detections, 3);
}

#[test]
fn syn_flood_stays_within_its_caps_under_a_million_spoofed_sources() {
    let cfg = SynFloodConfig::default();
    let mut d = SynFlood::new(PerTenant::all(cfg.clone()));
    let mut out = Vec::new();
    for i in 0..1_000_000u32 {
        // Every other SYN to the victim on a random-looking port, the rest
        // to a new destination each.
        let dst = if i % 2 == 0 {
            VICTIM
        } else {
            v4(0x0a00_0000 | i)
        };
        let e = ev(
            i as i64 * 4,
            true,
            syn(spoofed(i), 1, dst, i.wrapping_mul(7919) as u16),
        );
        d.on_event(&e, &mut out);
        if i % 65_536 == 0 {
            assert!(d.tracked() <= cfg.max_entries);
        }
    }
    assert_eq!(out.len(), 1);
    assert!(d.tracked() <= cfg.max_entries);
    for (_, t) in d.dsts.iter() {
        assert!(t.sources.set.len() <= cfg.max_sources);
        assert!(t.ports.counts.len() <= TRACKED_PORTS);
    }
    let c = d.counters();
    assert!(c.entries <= cfg.max_entries as u64);
    assert!(c.evicted >= 500_000 - cfg.max_entries as u64, "{c:?}");
    assert_eq!(count(&out[0], "port_count"), TRACKED_PORTS as u64);
}

// ---------------------------------------------------------------------------
// Half-open

/// `n` SYNs from new sources to the victim's port 80, one every 1 ms.
fn syns_to_80(t0: i64, n: u32, first_source: u32, bidirectional: bool) -> Vec<Event<'static>> {
    (0..n)
        .map(|i| {
            ev(
                t0 + i as i64 * 1_000,
                bidirectional,
                syn(spoofed(first_source + i), 33_000, VICTIM, 80),
            )
        })
        .collect()
}

#[test]
fn half_open_fires_on_unanswered_syns_at_their_deadline() {
    for by_advance in [true, false] {
        let mut d = HalfOpen::new(PerTenant::default());
        let mut out = feed(&mut d, &syns_to_80(0, 1_200, 0, true));
        assert!(out.is_empty());
        if by_advance {
            d.advance(at(10 * SEC), &mut out);
        } else {
            // Any later event brings the deadlines.
            out = feed(&mut d, &[ev(10 * SEC, true, reject_kind())]);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        assert_flood_detection(x, DetectorId::HalfOpen);
        assert_eq!(DetectorId::HalfOpen.sid(), 6);
        // The 1,000th SYN's deadline.
        assert_eq!(x.ts, at(999 * 1_000 + 5 * SEC));
        assert_eq!(count(x, "half_open"), 1_000);
        assert_eq!(count(x, "unanswered"), 1_000);
        assert_eq!(count(x, "unacked"), 0);
        assert_eq!(count(x, "completed"), 0);
        assert_eq!(number(x, "ratio"), 1.0);
        assert_eq!(count(x, "sources"), 1_000);
        assert_eq!(count(x, "source_cap"), 1_024);
        assert_eq!(value(x, "ports"), &Value::Ports(vec![80]));
        assert_eq!(number(x, "window"), 60.0);
        assert_eq!(number(x, "syn_timeout"), 5.0);
        assert_eq!(value(x, "first_seen"), &Value::Time(at(5 * SEC)));
        assert_eq!(value(x, "last_seen"), &Value::Time(x.ts));
        assert_eq!(d.tracked().0, 0);
    }
}

fn reject_kind() -> EventKind<'static> {
    EventKind::Reject {
        src: v4(1),
        dst: v4(2),
        port: 9,
    }
}

#[test]
fn half_open_fires_on_answered_connections_never_established() {
    // The server answers (SYN cookies, say); the spoofed sources never
    // complete; the flows end unestablished a minute later.
    let mut evs = Vec::new();
    for i in 0..1_000u32 {
        let t = i as i64 * 1_000;
        evs.push(ev(t, true, syn(spoofed(i), 33_000, VICTIM, 80)));
        evs.push(ev(
            t + 100,
            true,
            synack(VICTIM, 80, spoofed(i), 33_000, true),
        ));
    }
    for i in 0..1_000u32 {
        let t = 70 * SEC + i as i64 * 1_000;
        evs.push(ev(t, true, end(spoofed(i), 33_000, VICTIM, 80, false, 5)));
    }
    let mut d = HalfOpen::new(PerTenant::default());
    let out = feed(&mut d, &evs);
    assert_eq!(out.len(), 1);
    assert_eq!(count(&out[0], "half_open"), 1_000);
    assert_eq!(count(&out[0], "unacked"), 1_000);
    assert_eq!(count(&out[0], "unanswered"), 0);
    assert_eq!(out[0].ts, at(70 * SEC + 999 * 1_000));
    assert_eq!(d.tracked(), (0, 0, 0, 1));
}

#[test]
fn half_open_near_misses_and_healthy_outcomes_do_not_fire() {
    let far = at(100 * SEC);
    // 999 unanswered.
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &syns_to_80(0, 999, 0, true));
    d.advance(far, &mut out);
    assert!(out.is_empty());
    // 2,000 answered and established.
    let mut evs = Vec::new();
    for i in 0..2_000u32 {
        let t = i as i64 * 1_000;
        evs.push(ev(t, true, syn(spoofed(i), 33_000, VICTIM, 80)));
        evs.push(ev(
            t + 100,
            true,
            synack(VICTIM, 80, spoofed(i), 33_000, true),
        ));
        evs.push(ev(
            t + 500,
            true,
            end(spoofed(i), 33_000, VICTIM, 80, true, 5),
        ));
    }
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &evs);
    d.advance(far, &mut out);
    assert!(out.is_empty());
    assert_eq!(d.tracked(), (0, 0, 0, 0));
    // 2,000 refused by a RST (closed port): a scan's business.
    let mut evs = Vec::new();
    for i in 0..2_000u32 {
        let t = i as i64 * 1_000;
        evs.push(ev(t, true, syn(spoofed(i), 33_000, VICTIM, 81)));
        let rst = EventKind::Reject {
            src: VICTIM,
            dst: spoofed(i),
            port: 81,
        };
        evs.push(ev(t + 100, true, rst));
    }
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &evs);
    d.advance(far, &mut out);
    assert!(out.is_empty());
    // 2,000 answered by something else than a SYN-ACK, learnt at flow end.
    let mut evs = syns_to_80(0, 2_000, 0, true);
    for i in 0..2_000u32 {
        evs.push(ev(
            2 * SEC + i as i64,
            true,
            end(spoofed(i), 33_000, VICTIM, 80, false, 1),
        ));
    }
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &evs);
    d.advance(far, &mut out);
    assert!(out.is_empty());
}

#[test]
fn half_open_ignores_one_sided_traffic() {
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &syns_to_80(0, 5_000, 0, false));
    d.advance(at(100 * SEC), &mut out);
    assert!(out.is_empty());
    assert_eq!(d.counters().entries, 0);
}

#[test]
fn half_open_spares_a_server_that_mostly_completes() {
    // 1,500 half-open beside 2,000 completed in the same window.
    let mut evs = syns_to_80(0, 1, 0, true);
    for i in 0..2_000u32 {
        let t = 6 * SEC + i as i64 * 1_000;
        evs.push(ev(
            t,
            true,
            end(spoofed(100_000 + i), 1, VICTIM, 80, true, 5),
        ));
    }
    evs.extend(syns_to_80(8 * SEC, 1_499, 1, true));
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &evs);
    d.advance(at(30 * SEC), &mut out);
    assert!(out.is_empty());
    // Without the completions it fires.
    let mut evs = syns_to_80(0, 1, 0, true);
    evs.extend(syns_to_80(8 * SEC, 1_499, 1, true));
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = feed(&mut d, &evs);
    d.advance(at(30 * SEC), &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn half_open_respects_allow_lists() {
    for allow in [
        allow_net("10.10.10.10/32"),
        Allow {
            ports: vec![80],
            ..Allow::default()
        },
    ] {
        let mut d = HalfOpen::new(PerTenant::all(HalfOpenConfig {
            allow,
            ..HalfOpenConfig::default()
        }));
        let mut out = feed(&mut d, &syns_to_80(0, 2_000, 0, true));
        d.advance(at(100 * SEC), &mut out);
        assert!(out.is_empty());
        assert_eq!(d.counters().entries, 0);
    }
}

#[test]
fn half_open_fires_once_per_episode_and_rearms() {
    let mut d = HalfOpen::new(PerTenant::default());
    let mut out = Vec::new();
    // Three minutes of 100 unanswered SYNs a second: one detection.
    for i in 0..18_000u32 {
        let e = ev(i as i64 * 10_000, true, syn(spoofed(i), 1, VICTIM, 80));
        d.on_event(&e, &mut out);
    }
    d.advance(at(200 * SEC), &mut out);
    assert_eq!(out.len(), 1);
    // A window of quiet, then again.
    for e in syns_to_80(300 * SEC, 1_000, 0, true) {
        d.on_event(&e, &mut out);
    }
    d.advance(at(400 * SEC), &mut out);
    assert_eq!(out.len(), 2);
}

#[test]
fn half_open_stays_within_its_caps_under_a_million_spoofed_sources() {
    let cfg = HalfOpenConfig::default();
    let mut d = HalfOpen::new(PerTenant::all(cfg.clone()));
    let mut out = Vec::new();
    // A million SYNs in four seconds, every one from a new source, plus
    // some to a million other hosts' answers and rejects.
    for i in 0..1_000_000u32 {
        let t = i as i64 * 4;
        d.on_event(&ev(t, true, syn(spoofed(i), 7, VICTIM, 80)), &mut out);
        if i % 4 == 0 {
            let rst = EventKind::Reject {
                src: v4(0x0a00_0000 | i),
                dst: spoofed(i),
                port: 22,
            };
            d.on_event(&ev(t, true, rst), &mut out);
        }
        if i % 65_536 == 0 {
            let (sent, acked, rejects, dsts) = d.tracked();
            assert!(sent <= cfg.max_pending && acked <= cfg.max_pending);
            assert!(rejects <= cfg.max_pending && dsts <= cfg.max_entries);
        }
    }
    d.advance(at(100 * SEC), &mut out);
    // The last 65,536 SYNs were still pending and count.
    assert_eq!(out.len(), 1);
    let c = d.counters();
    assert!(c.evicted >= 1_000_000 - cfg.max_pending as u64, "{c:?}");
    for (_, t) in d.dsts.iter() {
        assert!(t.sources.set.len() <= cfg.max_sources);
    }
}

// ---------------------------------------------------------------------------
// Reflection

/// `n` SYN-ACKs for no SYN to the victim, one every 20 µs, from reflector
/// `i % reflectors` on port 80 (or 443 every eighth), as the capture.
fn reflected(t0: i64, n: u32, reflectors: u32, bidirectional: bool) -> Vec<Event<'static>> {
    (0..n)
        .map(|i| {
            let port = if i % 8 == 7 { 443 } else { 80 };
            let kind = synack(
                v4(0x8800_0000 + i % reflectors),
                port,
                VICTIM,
                (i % 60_000) as u16 + 1024,
                false,
            );
            ev(t0 + i as i64 * 20, bidirectional, kind)
        })
        .collect()
}

#[test]
fn reflection_fires_once_on_synacks_for_no_syn() {
    let mut d = Reflection::new(PerTenant::default());
    let out = feed(&mut d, &reflected(0, 6_000, 5_000, true));
    assert_eq!(out.len(), 1, "{out:?}");
    let x = &out[0];
    assert_flood_detection(x, DetectorId::Reflection);
    assert_eq!(DetectorId::Reflection.sid(), 7);
    assert_eq!(x.ts, at(999 * 20));
    assert_eq!(count(x, "synacks"), 1_000);
    assert_eq!(count(x, "reflectors"), 1_000);
    assert_eq!(count(x, "reflector_cap"), 1_024);
    match value(x, "reflector_hosts") {
        Value::Hosts(h) => assert_eq!(h.len(), MAX_LISTED),
        v => panic!("{v:?}"),
    }
    assert_eq!(value(x, "ports"), &Value::Ports(vec![80, 443]));
    assert_eq!(count(x, "port_count"), 2);
    assert_eq!(count(x, "solicited"), 0);
    assert_eq!(number(x, "window"), 10.0);
    assert_eq!(value(x, "first_seen"), &Value::Time(at(0)));
    assert_eq!(value(x, "last_seen"), &Value::Time(at(999 * 20)));
}

#[test]
fn reflection_near_misses_do_not_fire() {
    let mut d = Reflection::new(PerTenant::default());
    assert!(feed(&mut d, &reflected(0, 999, 5_000, true)).is_empty());
    // Enough SYN-ACKs, from too few reflectors.
    let mut d = Reflection::new(PerTenant::default());
    assert!(feed(&mut d, &reflected(0, 5_000, 99, true)).is_empty());
}

#[test]
fn reflection_ignores_one_sided_traffic() {
    let mut d = Reflection::new(PerTenant::default());
    assert!(feed(&mut d, &reflected(0, 6_000, 5_000, false)).is_empty());
    assert_eq!(d.counters().entries, 0);
}

#[test]
fn reflection_spares_a_busy_client_with_a_few_lost_syns() {
    // 10,000 answered SYN-ACKs beside 1,500 for SYNs the mirror lost.
    let mut evs = reflected(0, 1, 5_000, true);
    for i in 0..10_000u32 {
        let kind = synack(v4(0x0900_0000 + i), 443, VICTIM, 1, true);
        evs.push(ev(1_000 + i as i64 * 100, true, kind));
    }
    evs.extend(reflected(2 * SEC, 1_499, 5_000, true));
    let mut d = Reflection::new(PerTenant::default());
    assert!(feed(&mut d, &evs).is_empty());
}

#[test]
fn reflection_respects_allow_lists() {
    for allow in [
        allow_net("10.10.10.0/24"),
        Allow {
            sources: vec!["136.0.0.0/8".parse().unwrap()],
            ..Allow::default()
        },
    ] {
        let mut d = Reflection::new(PerTenant::all(ReflectionConfig {
            allow,
            ..ReflectionConfig::default()
        }));
        assert!(feed(&mut d, &reflected(0, 6_000, 5_000, true)).is_empty());
    }
    // Allowing port 80 leaves the 443 ones, too few.
    let mut d = Reflection::new(PerTenant::all(ReflectionConfig {
        allow: Allow {
            ports: vec![80],
            ..Allow::default()
        },
        ..ReflectionConfig::default()
    }));
    assert!(feed(&mut d, &reflected(0, 6_000, 5_000, true)).is_empty());
}

#[test]
fn reflection_fires_once_per_episode_and_rearms() {
    let mut d = Reflection::new(PerTenant::default());
    // 30 s at 1,000 a second.
    let long: Vec<_> = (0..30_000u32)
        .map(|i| {
            let kind = synack(v4(0x8800_0000 + i % 3_000), 80, VICTIM, 5, false);
            ev(i as i64 * 1_000, true, kind)
        })
        .collect();
    assert_eq!(feed(&mut d, &long).len(), 1);
    // A trickle for a window, then again.
    let trickle = reflected(31 * SEC, 10, 10, true);
    assert!(feed(&mut d, &trickle).is_empty());
    assert_eq!(
        feed(&mut d, &reflected(45 * SEC, 1_000, 5_000, true)).len(),
        1
    );
}

#[test]
fn reflection_stays_within_its_caps_under_a_million_spoofed_sources() {
    let cfg = ReflectionConfig::default();
    let mut d = Reflection::new(PerTenant::all(cfg.clone()));
    let mut out = Vec::new();
    for i in 0..1_000_000u32 {
        let victim = if i % 2 == 0 {
            VICTIM
        } else {
            v4(0x0a00_0000 | i)
        };
        let kind = synack(spoofed(i), (i % 1000) as u16, victim, 1, false);
        d.on_event(&ev(i as i64 * 4, true, kind), &mut out);
    }
    assert_eq!(out.len(), 1);
    assert!(d.tracked() <= cfg.max_entries);
    for (_, t) in d.victims.iter() {
        assert!(t.sources.set.len() <= cfg.max_reflectors);
        assert!(t.ports.counts.len() <= TRACKED_PORTS);
    }
    let c = d.counters();
    assert!(c.evicted >= 500_000 - cfg.max_entries as u64, "{c:?}");
}

// ---------------------------------------------------------------------------
// Determinism

/// A small random event stream over few hosts and ports, with low
/// thresholds so that detections happen.
fn stream() -> impl Strategy<Value = Vec<Event<'static>>> {
    proptest::collection::vec(
        (
            0i64..400_000,
            0u8..6,
            0u32..6,
            0u32..3,
            0u16..3,
            any::<bool>(),
            0u32..2,
        ),
        0..300,
    )
    .prop_map(|raw| {
        let mut t = 0;
        raw.into_iter()
            .map(|(dt, kind, s, d, p, bidi, tenant)| {
                t += dt;
                let (src, dst) = (v4(100 + s), v4(200 + d));
                let kind = match kind {
                    0 | 1 => syn(src, 1000 + p, dst, 80 + p),
                    2 => synack(dst, 80 + p, src, 1000 + p, true),
                    3 => synack(dst, 80 + p, src, 1000 + p, false),
                    4 => EventKind::Reject {
                        src: dst,
                        dst: src,
                        port: 80 + p,
                    },
                    _ => end(src, 1000 + p, dst, 80 + p, p == 0, p as u64),
                };
                let mut e = ev(t, bidi, kind);
                e.tenant = tenant;
                e
            })
            .collect()
    })
}

fn low_flood() -> PerTenant<SynFloodConfig> {
    PerTenant::all(SynFloodConfig {
        min_syns: 4,
        min_sources: 2,
        window: 2,
        max_entries: 2,
        max_sources: 3,
        ..SynFloodConfig::default()
    })
}

fn low_half_open() -> PerTenant<HalfOpenConfig> {
    PerTenant::all(HalfOpenConfig {
        min_half_open: 3,
        min_sources: 2,
        window: 3,
        syn_timeout: 1,
        max_age: 4,
        max_entries: 2,
        max_pending: 8,
        max_sources: 3,
        ..HalfOpenConfig::default()
    })
}

fn low_reflection() -> PerTenant<ReflectionConfig> {
    PerTenant::all(ReflectionConfig {
        min_synacks: 3,
        min_reflectors: 2,
        window: 2,
        max_entries: 2,
        max_reflectors: 3,
        ..ReflectionConfig::default()
    })
}

fn replay(d: &mut impl Detector, evs: &[Event<'_>], advance_every: usize) -> Vec<Detection> {
    let mut out = Vec::new();
    for (i, e) in evs.iter().enumerate() {
        if advance_every > 0 && i % advance_every == 0 {
            d.advance(e.ts, &mut out);
        }
        d.on_event(e, &mut out);
    }
    let end = evs.last().map_or(at(0), |e| e.ts);
    d.advance(plus(end, 100 * NANOS), &mut out);
    out
}

proptest! {
    /// The same events give the same detections and counters, whenever
    /// time is advanced between them.
    #[test]
    fn replays_give_identical_detections(evs in stream(), every in 0usize..5) {
        let a = replay(&mut SynFlood::new(low_flood()), &evs, 0);
        let mut d = SynFlood::new(low_flood());
        prop_assert_eq!(&a, &replay(&mut d, &evs, every));
        prop_assert!(d.tracked() <= 2);

        let mut d1 = HalfOpen::new(low_half_open());
        let a = replay(&mut d1, &evs, 0);
        let mut d2 = HalfOpen::new(low_half_open());
        prop_assert_eq!(&a, &replay(&mut d2, &evs, 0));
        prop_assert_eq!(d1.counters(), d2.counters());
        let (sent, acked, rejects, dsts) = d2.tracked();
        prop_assert!(sent <= 8 && acked <= 8 && rejects <= 8 && dsts <= 2);
        // Advancing time in between changes nothing (with caps that do
        // not bite: an expired entry and an evicted one count apart).
        let roomy = || HalfOpen::new(PerTenant::all(HalfOpenConfig {
            max_entries: 64,
            max_pending: 256,
            ..low_half_open().default
        }));
        let a = replay(&mut roomy(), &evs, 0);
        prop_assert_eq!(&a, &replay(&mut roomy(), &evs, every));

        let a = replay(&mut Reflection::new(low_reflection()), &evs, 0);
        let mut d = Reflection::new(low_reflection());
        prop_assert_eq!(&a, &replay(&mut d, &evs, every));
        prop_assert!(d.tracked() <= 2);
    }
}
