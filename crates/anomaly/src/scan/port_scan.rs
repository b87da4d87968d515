//! Port scan: one source probing many ports of one destination (Snort 3's
//! "portscan" class; Zeek scan.zeek's `Port_Scan`).
//!
//! Key: (tenant, source, destination). Counted: the distinct destination
//! ports of TCP flows opened by a SYN and of UDP flows from the source to
//! the destination; and, where both directions are seen, the distinct
//! ports the destination rejected (a RST before establishment) to it.
//!
//! Defaults and why:
//! - `ports: 25` distinct ports in `window: 60` seconds. Zeek's scan.zeek
//!   fired at 15 *failed* ports in 5 minutes; Snort 3's medium
//!   sensitivity at 15 port changes in 90 s. Attempts here include the
//!   ones that succeed, so the bar is higher: a client uses a handful of
//!   ports of one server, while a scanner's 1000-port default goes past
//!   25 within a second. Passive FTP (a new data port per transfer) is the
//!   benign pattern that can reach it; allow-list such servers.
//! - `rejected_ports: 10` distinct ports rejected in the window (Snort 3
//!   medium: 10 rejects): a refused port is a probe that failed, rare in
//!   normal use, so fewer of them are needed. Counted only on
//!   bidirectional traffic.
//! - `max_distinct: 64` ports kept per key (over twice the largest
//!   threshold); `max_entries: 65536` keys (at most about 64 × 24 bytes of
//!   ports each, about 100 MiB if every key were full, a few MiB under a
//!   flood of spoofed single-probe sources).

use std::net::IpAddr;

use mirador_wire::Timestamp;

use super::{
    Distinct, REJECTED, TCP, UDP, after, before, horizon, protocol, udp_looks_like_reply, window_ns,
};
use crate::bounded::Bounded;
use crate::{Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value};

/// Port scan settings (`detectors.port-scan`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Whether it runs (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Distinct ports probed within the window to fire (default 25; 0: off).
    pub ports: usize,
    /// Distinct ports rejected within the window to fire, bidirectional
    /// traffic only (default 10; 0: off).
    pub rejected_ports: usize,
    /// The sliding window, seconds (default 60).
    pub window: u64,
    /// Ports kept per key (default 64; raised to the largest threshold).
    pub max_distinct: usize,
    /// Keys kept, all tenants together; taken from the default settings
    /// (default 65536).
    pub max_entries: usize,
    /// Traffic not counted (sources, destinations, destination ports).
    pub allow: Allow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            ports: 25,
            rejected_ports: 10,
            window: 60,
            max_distinct: 64,
            max_entries: 65536,
            allow: Allow::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    ports: Distinct<u16>,
    quiet_until: Option<Timestamp>,
}

/// The port scan detector.
#[derive(Debug)]
pub struct PortScan {
    cfg: PerTenant<Config>,
    table: Bounded<(u32, IpAddr, IpAddr), Entry>,
    horizon: i64,
    events: u64,
    detections: u64,
}

impl PortScan {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<Config>) -> Self {
        PortScan {
            table: Bounded::new(cfg.default.max_entries),
            horizon: horizon(&cfg, |c| c.window),
            cfg,
            events: 0,
            detections: 0,
        }
    }
}

impl Detector for PortScan {
    fn id(&self) -> DetectorId {
        DetectorId::PortScan
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
        let cap = cfg.max_distinct.max(cfg.ports).max(cfg.rejected_ports);
        let e = self
            .table
            .touch((ev.tenant, src, dst), ev.ts, Entry::default);
        e.ports.prune(before(ev.ts, w));
        e.ports.see(port, ev.ts, marks, cap);
        if e.quiet_until.is_some_and(|q| ev.ts < q) {
            return;
        }
        let n = e.ports.len();
        let rejected = e.ports.marked(REJECTED);
        let hit = (cfg.ports > 0 && n >= cfg.ports)
            || (cfg.rejected_ports > 0 && rejected >= cfg.rejected_ports);
        if !hit {
            return;
        }
        let (proto_text, proto) = protocol(e.ports.marks());
        out.push(Detection {
            detector: DetectorId::PortScan,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: "MIRADOR port scan: one source probed many ports of one host",
            severity: 2,
            src: Some(src),
            dst: Some(dst),
            proto,
            flow: None,
            evidence: vec![
                ("distinct_ports", Value::Count(n as u64)),
                ("ports", Value::Ports(e.ports.listed())),
                ("rejected_ports", Value::Count(rejected as u64)),
                ("protocol", proto_text),
                ("window", Value::Seconds(cfg.window as f64)),
                ("first_seen", Value::Time(e.ports.first().unwrap_or(ev.ts))),
                ("last_seen", Value::Time(ev.ts)),
            ],
        });
        self.detections += 1;
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

    fn scan(from: u16, n: u16, step_ms: i64) -> Vec<Event<'static>> {
        (0..n)
            .map(|i| {
                start(
                    ms(i64::from(i) * step_ms),
                    ip(10, 0, 0, 1),
                    ip(10, 0, 0, 2),
                    from + i,
                    6,
                )
            })
            .collect()
    }

    #[test]
    fn fires_at_the_threshold_with_evidence() {
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &scan(1, 30, 100));
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        assert_eq!(x.ts, ms(2400)); // the 25th port
        assert_eq!(
            (x.src, x.dst, x.proto, x.flow),
            (Some(ip(10, 0, 0, 1)), Some(ip(10, 0, 0, 2)), Some(6), None)
        );
        assert_eq!(get(x, "distinct_ports"), &Value::Count(25));
        assert_eq!(get(x, "ports"), &Value::Ports((1..=25).collect()));
        assert_eq!(get(x, "protocol"), &Value::Text("tcp".into()));
        assert_eq!(get(x, "first_seen"), &Value::Time(ms(0)));
        assert_eq!(get(x, "last_seen"), &Value::Time(ms(2400)));
        assert_eq!(get(x, "window"), &Value::Seconds(60.0));
        assert!(x.msg.starts_with("MIRADOR "));
        assert_eq!(d.counters().detections, 1);
    }

    #[test]
    fn a_near_miss_and_a_slow_scan_do_not_fire() {
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        // 24 ports, repeated: still 24 distinct.
        let mut evs = scan(1, 24, 100);
        evs.extend(scan(1, 24, 100).into_iter().map(|mut e| {
            e.ts = ms(e.ts.as_nanos() / 1_000_000 + 5000);
            e
        }));
        assert!(run(&mut d, &evs).is_empty());
        // 40 ports, one every 3 s: never 25 within 60 s.
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &scan(1000, 40, 3000)).is_empty());
    }

    #[test]
    fn midstream_tcp_and_udp_replies_do_not_count() {
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        let mut evs = Vec::new();
        for i in 0..40u16 {
            let mut e = start(
                ms(i64::from(i)),
                ip(10, 0, 0, 1),
                ip(10, 0, 0, 2),
                2000 + i,
                6,
            );
            if let EventKind::FlowStart { syn, .. } = &mut e.kind {
                *syn = false;
            }
            evs.push(e);
            let mut e = start(
                ms(i64::from(i)),
                ip(10, 0, 0, 1),
                ip(10, 0, 0, 2),
                3000 + i,
                17,
            );
            if let EventKind::FlowStart { sport, .. } = &mut e.kind {
                *sport = 53;
            }
            evs.push(e);
        }
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn rejects_fire_lower_but_only_when_bidirectional() {
        let rejects = |bidir| -> Vec<Event<'static>> {
            (0..10u16)
                .map(|i| {
                    reject(
                        ms(i64::from(i)),
                        ip(10, 0, 0, 2),
                        ip(10, 0, 0, 1),
                        100 + i,
                        bidir,
                    )
                })
                .collect()
        };
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &rejects(false)).is_empty());
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &rejects(true));
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "rejected_ports"), &Value::Count(10));
        assert_eq!(out[0].src, Some(ip(10, 0, 0, 1)));
        assert_eq!(out[0].dst, Some(ip(10, 0, 0, 2)));
        // 9 rejects: a near miss.
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &rejects(true)[..9]).is_empty());
    }

    #[test]
    fn allow_lists_are_respected() {
        for allow in [
            Allow {
                sources: vec!["10.0.0.0/24".parse().unwrap()],
                ..Allow::default()
            },
            Allow {
                destinations: vec!["10.0.0.2/32".parse().unwrap()],
                ..Allow::default()
            },
        ] {
            let mut d = PortScan::new(PerTenant::all(Config {
                allow,
                ..Config::default()
            }));
            assert!(run(&mut d, &scan(1, 100, 10)).is_empty());
        }
        // Allowed ports are not counted: 30 ports of which 6 allowed.
        let mut d = PortScan::new(PerTenant::all(Config {
            allow: Allow {
                ports: vec![1, 2, 3, 4, 5, 6],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &scan(1, 30, 10)).is_empty());
    }

    #[test]
    fn a_long_scan_fires_once_per_window() {
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        // 2000 ports, one every 100 ms: 200 s of scanning.
        let out = run(&mut d, &scan(1, 2000, 100));
        let times: Vec<i64> = out.iter().map(|x| x.ts.as_nanos() / 1_000_000).collect();
        // Fires at 2.4 s, then once the window since has passed.
        assert_eq!(times, vec![2400, 62400, 122400, 182400]);
        // Each report covers what came since the previous one (within the cap).
        assert_eq!(get(&out[1], "distinct_ports"), &Value::Count(64));
    }

    #[test]
    fn per_tenant_settings() {
        let mut d = PortScan::new(PerTenant {
            default: Config::default(),
            tenants: vec![(
                7,
                Config {
                    enabled: false,
                    ..Config::default()
                },
            )],
        });
        let evs: Vec<_> = scan(1, 30, 10)
            .into_iter()
            .map(|mut e| {
                e.tenant = 7;
                e
            })
            .collect();
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn memory_stays_under_the_caps_under_a_spoofed_flood() {
        let cap = 10_000;
        let mut d = PortScan::new(PerTenant::all(Config {
            max_entries: cap,
            ..Config::default()
        }));
        let mut out = Vec::new();
        for i in 0..1_000_000u32 {
            let e = start(
                Timestamp::from_nanos(i64::from(i)),
                ip32(0x0b00_0000 + i),
                ip(10, 0, 0, 2),
                (i % 65536) as u16,
                6,
            );
            d.on_event(&e, &mut out);
            assert!(d.table.len() <= cap);
        }
        assert!(out.is_empty());
        let c = d.counters();
        assert!(c.entries <= cap as u64);
        assert_eq!(c.evicted, 1_000_000 - cap as u64, "{c:?}");
        // One key probing every port keeps at most max_distinct of them.
        let mut d = PortScan::new(PerTenant::all(Config::default()));
        for p in 0..=u16::MAX {
            d.on_event(
                &start(ms(i64::from(p)), ip(10, 0, 0, 1), ip(10, 0, 0, 2), p, 6),
                &mut out,
            );
        }
        assert!(d.table.iter().all(|(_, e)| e.ports.len() <= 64));
        // Idle keys expire with time.
        d.advance(ms(10_000_000), &mut out);
        assert_eq!(d.counters().entries, 0);
    }
}
