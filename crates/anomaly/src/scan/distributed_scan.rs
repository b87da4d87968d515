//! Distributed port scan: many sources probing many ports of one
//! destination, with the destination rejecting them (Snort 3's
//! "distributed portscan" class: one target, the probes split across
//! hosts so that no single source passes a port scan threshold).
//!
//! Key: (tenant, destination). Counted: the distinct sources that opened
//! flows to it (TCP SYN, UDP) or that it rejected; the distinct ports
//! probed; and, where both directions are seen, the distinct ports it
//! rejected (a RST before establishment). All three thresholds must be
//! met, so a busy server (many sources, few ports, few refusals) does not
//! fire, nor does a single scanner (one source; that is a port scan).
//! Because it needs rejects, it fires on bidirectional traffic only.
//!
//! Defaults and why:
//! - `sources: 5`, `ports: 25`, `rejected_ports: 15` in `window: 60`
//!   seconds. Snort 3's medium sensitivity for TCP distributed scans asks
//!   for 30 rejects and 30 port changes in 90 s; fewer sources than five
//!   is what the port scan detector covers. A server's clients use a few
//!   ports and seldom hit closed ones: 15 distinct refused ports from at
//!   least five hosts within a minute is a scan, not use.
//! - `max_distinct: 64` sources and 64 ports kept per destination;
//!   `max_entries: 16384` destinations (at most about 64 × 64 bytes each
//!   when full).

use std::net::IpAddr;

use mirador_wire::Timestamp;

use super::{
    Distinct, REJECTED, TCP, UDP, after, before, horizon, protocol, udp_looks_like_reply, window_ns,
};
use crate::bounded::Bounded;
use crate::{Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value};

/// Distributed scan settings (`detectors.distributed-scan`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Whether it runs (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Distinct sources within the window (default 5).
    pub sources: usize,
    /// Distinct ports probed within the window (default 25).
    pub ports: usize,
    /// Distinct ports rejected within the window, bidirectional traffic
    /// only (default 15; 0 counts as 1: this detector always needs a
    /// reject).
    pub rejected_ports: usize,
    /// The sliding window, seconds (default 60).
    pub window: u64,
    /// Sources, and ports, kept per destination (default 64 each; raised
    /// to the largest threshold).
    pub max_distinct: usize,
    /// Destinations kept, all tenants together; taken from the default
    /// settings (default 16384).
    pub max_entries: usize,
    /// Traffic not counted (sources, destinations, destination ports).
    pub allow: Allow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            sources: 5,
            ports: 25,
            rejected_ports: 15,
            window: 60,
            max_distinct: 64,
            max_entries: 16384,
            allow: Allow::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    sources: Distinct<IpAddr>,
    ports: Distinct<u16>,
    quiet_until: Option<Timestamp>,
}

/// The distributed scan detector.
#[derive(Debug)]
pub struct DistributedScan {
    cfg: PerTenant<Config>,
    table: Bounded<(u32, IpAddr), Entry>,
    horizon: i64,
    events: u64,
    detections: u64,
}

impl DistributedScan {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<Config>) -> Self {
        DistributedScan {
            table: Bounded::new(cfg.default.max_entries),
            horizon: horizon(&cfg, |c| c.window),
            cfg,
            events: 0,
            detections: 0,
        }
    }
}

impl Detector for DistributedScan {
    fn id(&self) -> DetectorId {
        DetectorId::DistributedScan
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.events += 1;
        self.table.expire(before(ev.ts, self.horizon), |_, _| {});
        let (src, dst, port, marks) = match ev.kind {
            EventKind::FlowStart {
                src,
                dst,
                sport,
                dport,
                proto,
                syn,
                ..
            } => match proto {
                6 if syn => (src, dst, dport, TCP),
                17 if !udp_looks_like_reply(sport, dport) => (src, dst, dport, UDP),
                _ => return,
            },
            // The rejecting host is the one scanned.
            EventKind::Reject { src, dst, port } if ev.bidirectional => {
                (dst, src, port, TCP | REJECTED)
            }
            _ => return,
        };
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled || cfg.allow.allows(src, dst, Some(port)) {
            return;
        }
        let w = window_ns(cfg.window);
        let cap = cfg
            .max_distinct
            .max(cfg.sources)
            .max(cfg.ports)
            .max(cfg.rejected_ports);
        let e = self.table.touch((ev.tenant, dst), ev.ts, Entry::default);
        let horizon = before(ev.ts, w);
        e.sources.prune(horizon);
        e.ports.prune(horizon);
        e.sources.see(src, ev.ts, 0, cap);
        e.ports.see(port, ev.ts, marks, cap);
        if e.quiet_until.is_some_and(|q| ev.ts < q) {
            return;
        }
        let (s, p, r) = (e.sources.len(), e.ports.len(), e.ports.marked(REJECTED));
        if s < cfg.sources || p < cfg.ports || r < cfg.rejected_ports.max(1) {
            return;
        }
        let (proto_text, proto) = protocol(e.ports.marks());
        let first = e.sources.first().into_iter().chain(e.ports.first()).min();
        out.push(Detection {
            detector: DetectorId::DistributedScan,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: "MIRADOR distributed port scan: many sources probed many ports of one host, with rejects",
            severity: 2,
            src: None,
            dst: Some(dst),
            proto,
            flow: None,
            evidence: vec![
                ("distinct_sources", Value::Count(s as u64)),
                ("sources", Value::Hosts(e.sources.listed())),
                ("distinct_ports", Value::Count(p as u64)),
                ("ports", Value::Ports(e.ports.listed())),
                ("rejected_ports", Value::Count(r as u64)),
                ("protocol", proto_text),
                ("window", Value::Seconds(cfg.window as f64)),
                ("first_seen", Value::Time(first.unwrap_or(ev.ts))),
                ("last_seen", Value::Time(ev.ts)),
            ],
        });
        self.detections += 1;
        e.sources.clear();
        e.ports.clear();
        e.quiet_until = Some(after(ev.ts, w));
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.table.expire(before(now, self.horizon), |_, _| {});
    }

    fn counters(&self) -> Counters {
        Counters::of(self.events, self.detections, &self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testutil::*;

    /// `n` ports of 10.0.0.2 probed by 8 sources in turn, each SYN answered
    /// by a RST (`bidir`: whether the rejects are on bidirectional traffic).
    fn dist(n: u16, bidir: bool) -> Vec<Event<'static>> {
        let target = ip(10, 0, 0, 2);
        let mut evs = Vec::new();
        for i in 0..n {
            let src = ip(192, 0, 2, (i % 8) as u8 + 1);
            let mut e = start(ms(i64::from(i) * 100), src, target, 1000 + i, 6);
            e.bidirectional = bidir;
            evs.push(e);
            evs.push(reject(
                ms(i64::from(i) * 100 + 1),
                target,
                src,
                1000 + i,
                bidir,
            ));
        }
        evs
    }

    #[test]
    fn fires_with_evidence() {
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &dist(40, true));
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        // The 25th port's SYN completes it (25 ports, 24 rejected, 8 sources).
        assert_eq!(x.ts, ms(2400));
        assert_eq!(
            (x.src, x.dst, x.proto, x.flow),
            (None, Some(ip(10, 0, 0, 2)), Some(6), None)
        );
        assert_eq!(get(x, "distinct_sources"), &Value::Count(8));
        assert_eq!(
            get(x, "sources"),
            &Value::Hosts((1..=8).map(|i| ip(192, 0, 2, i)).collect())
        );
        assert_eq!(get(x, "distinct_ports"), &Value::Count(25));
        assert_eq!(get(x, "rejected_ports"), &Value::Count(24));
        assert_eq!(get(x, "ports"), &Value::Ports((1000..1025).collect()));
        assert_eq!(get(x, "first_seen"), &Value::Time(ms(0)));
    }

    #[test]
    fn one_sided_near_misses_busy_servers_and_single_scanners_do_not_fire() {
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &dist(200, false)).is_empty());
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &dist(24, true)).is_empty());
        // A busy server: 500 clients on 3 ports, a few refusals.
        let mut evs = Vec::new();
        for i in 0..500u32 {
            let src = ip32(0xc000_0200 + i);
            evs.push(start(
                ms(i64::from(i)),
                src,
                ip(10, 0, 0, 2),
                [80, 443, 25][i as usize % 3],
                6,
            ));
        }
        for p in 0..10 {
            evs.push(reject(
                ms(600 + p),
                ip(10, 0, 0, 2),
                ip(192, 0, 2, 9),
                8000 + p as u16,
                true,
            ));
        }
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &evs).is_empty());
        // A single scanner with rejects: a port scan, not a distributed one.
        let evs: Vec<_> = (0..100u16)
            .flat_map(|i| {
                [
                    start(ms(i64::from(i)), ip(192, 0, 2, 1), ip(10, 0, 0, 2), i, 6),
                    reject(ms(i64::from(i)), ip(10, 0, 0, 2), ip(192, 0, 2, 1), i, true),
                ]
            })
            .collect();
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn allow_lists_are_respected() {
        let mut d = DistributedScan::new(PerTenant::all(Config {
            allow: Allow {
                destinations: vec!["10.0.0.2/32".parse().unwrap()],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &dist(200, true)).is_empty());
        // Four of the eight sources allowed: under five sources.
        let mut d = DistributedScan::new(PerTenant::all(Config {
            allow: Allow {
                sources: vec![
                    "192.0.2.0/30".parse().unwrap(),
                    "192.0.2.4/32".parse().unwrap(),
                ],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &dist(200, true)).is_empty());
    }

    #[test]
    fn a_long_scan_fires_once_per_window() {
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &dist(2000, true)); // 200 s
        let times: Vec<i64> = out.iter().map(|x| x.ts.as_nanos() / 1_000_000).collect();
        assert_eq!(times, vec![2400, 62400, 122400, 182400]);
    }

    #[test]
    fn memory_stays_under_the_caps_under_a_spoofed_flood() {
        // 1M spoofed sources toward one destination: one key, capped sets.
        let mut d = DistributedScan::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        for i in 0..1_000_000u32 {
            let e = start(
                Timestamp::from_nanos(i64::from(i)),
                ip32(0x0b00_0000 + i),
                ip(10, 0, 0, 2),
                i as u16,
                6,
            );
            d.on_event(&e, &mut out);
        }
        assert!(out.is_empty());
        assert_eq!(d.counters().entries, 1);
        assert!(
            d.table
                .iter()
                .all(|(_, e)| e.sources.len() <= 64 && e.ports.len() <= 64)
        );
        // 1M spoofed destinations: the table stays at its cap.
        let cap = 10_000;
        let mut d = DistributedScan::new(PerTenant::all(Config {
            max_entries: cap,
            ..Config::default()
        }));
        for i in 0..1_000_000u32 {
            let e = start(
                Timestamp::from_nanos(i64::from(i)),
                ip(192, 0, 2, 1),
                ip32(0x0b00_0000 + i),
                80,
                6,
            );
            d.on_event(&e, &mut out);
            assert!(d.table.len() <= cap);
        }
        assert_eq!(d.counters().evicted, 1_000_000 - cap as u64);
    }
}
