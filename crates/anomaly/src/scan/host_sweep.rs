//! Host sweep: one source probing one port (or pinging) on many
//! destinations (Snort 3's "portsweep" class; Zeek scan.zeek's
//! `Address_Scan`).
//!
//! Key: (tenant, source, protocol, port): TCP flows opened by a SYN and
//! UDP flows keyed by their destination port, ICMP and ICMPv6 echo
//! requests by protocol alone (the port is none). Counted: the distinct
//! destinations probed; and, where both directions are seen, the distinct
//! destinations that rejected the port (a RST before establishment).
//!
//! Defaults and why:
//! - `hosts: 50` distinct destinations in `window: 60` seconds. Zeek's
//!   scan.zeek fired at 25 *failed* hosts in 5 minutes. Attempts here
//!   include the ones that succeed, and a web client may well reach a few
//!   dozen addresses on 443 in a minute (CDNs, ads, telemetry), so the bar
//!   is set above that; a sweep of a /24 reaches 50 in seconds. Hosts that
//!   legitimately talk to many peers on one port (recursive resolvers on
//!   53, monitoring that pings, crawlers, NAT gateways seen from outside)
//!   belong in `allow.sources`.
//! - `rejected_hosts: 10` distinct destinations rejecting the port in the
//!   window (Snort 3 medium TCP sweep: 7 rejects): ten hosts refusing one
//!   port to one client is a sweep finding closed doors. Counted only on
//!   bidirectional traffic.
//! - `max_distinct: 100` hosts kept per key (twice the threshold);
//!   `max_entries: 65536` keys (at most about 100 × 40 bytes of hosts
//!   each when full, a few MiB under a flood of spoofed single-probe
//!   sources).

use std::net::IpAddr;

use mirador_wire::Timestamp;

use super::{
    Distinct, REJECTED, after, before, horizon, proto_name, udp_looks_like_reply, window_ns,
};
use crate::bounded::Bounded;
use crate::{Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value};

/// Host sweep settings (`detectors.host-sweep`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Whether it runs (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Distinct destinations probed within the window to fire (default 50;
    /// 0: off).
    pub hosts: usize,
    /// Distinct destinations rejecting within the window to fire,
    /// bidirectional traffic only (default 10; 0: off).
    pub rejected_hosts: usize,
    /// The sliding window, seconds (default 60).
    pub window: u64,
    /// Hosts kept per key (default 100; raised to the largest threshold).
    pub max_distinct: usize,
    /// Keys kept, all tenants together; taken from the default settings
    /// (default 65536).
    pub max_entries: usize,
    /// Traffic not counted (sources, destinations, the port swept).
    pub allow: Allow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            hosts: 50,
            rejected_hosts: 10,
            window: 60,
            max_distinct: 100,
            max_entries: 65536,
            allow: Allow::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    hosts: Distinct<IpAddr>,
    quiet_until: Option<Timestamp>,
}

/// (tenant, source, protocol, port).
type Key = (u32, IpAddr, u8, Option<u16>);

/// The host sweep detector.
#[derive(Debug)]
pub struct HostSweep {
    cfg: PerTenant<Config>,
    table: Bounded<Key, Entry>,
    horizon: i64,
    events: u64,
    detections: u64,
}

impl HostSweep {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<Config>) -> Self {
        HostSweep {
            table: Bounded::new(cfg.default.max_entries),
            horizon: horizon(&cfg, |c| c.window),
            cfg,
            events: 0,
            detections: 0,
        }
    }
}

impl Detector for HostSweep {
    fn id(&self) -> DetectorId {
        DetectorId::HostSweep
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.events += 1;
        self.table.expire(before(ev.ts, self.horizon), |_, _| {});
        let (src, dst, proto, port, marks) = match ev.kind {
            EventKind::FlowStart {
                src,
                dst,
                sport,
                dport,
                proto,
                syn,
                echo,
                ..
            } => match proto {
                6 if syn => (src, dst, 6, Some(dport), 0),
                17 if !udp_looks_like_reply(sport, dport) => (src, dst, 17, Some(dport), 0),
                1 | 58 if echo => (src, dst, proto, None, 0),
                _ => return,
            },
            // `src` rejected the initiator `dst`.
            EventKind::Reject { src, dst, port } if ev.bidirectional => {
                (dst, src, 6, Some(port), REJECTED)
            }
            _ => return,
        };
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled || cfg.allow.allows(src, dst, port) {
            return;
        }
        let w = window_ns(cfg.window);
        let cap = cfg.max_distinct.max(cfg.hosts).max(cfg.rejected_hosts);
        let e = self
            .table
            .touch((ev.tenant, src, proto, port), ev.ts, Entry::default);
        e.hosts.prune(before(ev.ts, w));
        e.hosts.see(dst, ev.ts, marks, cap);
        if e.quiet_until.is_some_and(|q| ev.ts < q) {
            return;
        }
        let n = e.hosts.len();
        let rejected = e.hosts.marked(REJECTED);
        let hit = (cfg.hosts > 0 && n >= cfg.hosts)
            || (cfg.rejected_hosts > 0 && rejected >= cfg.rejected_hosts);
        if !hit {
            return;
        }
        let mut evidence = vec![
            ("distinct_hosts", Value::Count(n as u64)),
            ("hosts", Value::Hosts(e.hosts.listed())),
            ("rejected_hosts", Value::Count(rejected as u64)),
            ("protocol", Value::Text(proto_name(proto).into())),
        ];
        if let Some(p) = port {
            evidence.push(("ports", Value::Ports(vec![p])));
        }
        evidence.extend([
            ("window", Value::Seconds(cfg.window as f64)),
            ("first_seen", Value::Time(e.hosts.first().unwrap_or(ev.ts))),
            ("last_seen", Value::Time(ev.ts)),
        ]);
        out.push(Detection {
            detector: DetectorId::HostSweep,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: if port.is_some() {
                "MIRADOR host sweep: one source probed one port on many hosts"
            } else {
                "MIRADOR host sweep: one source pinged many hosts"
            },
            severity: 2,
            src: Some(src),
            dst: None,
            proto: Some(proto),
            flow: None,
            evidence,
        });
        self.detections += 1;
        e.hosts.clear();
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

    fn sweep(n: u8, proto: u8, step_ms: i64) -> Vec<Event<'static>> {
        (0..n)
            .map(|i| {
                start(
                    ms(i64::from(i) * step_ms),
                    ip(10, 0, 0, 1),
                    ip(10, 0, 1, i),
                    445,
                    proto,
                )
            })
            .collect()
    }

    #[test]
    fn fires_at_the_threshold_with_evidence() {
        for proto in [6, 17, 1] {
            let mut d = HostSweep::new(PerTenant::all(Config::default()));
            let out = run(&mut d, &sweep(200, proto, 10));
            assert_eq!(out.len(), 1, "{out:?}");
            let x = &out[0];
            assert_eq!(x.ts, ms(490));
            assert_eq!(
                (x.src, x.dst, x.proto, x.flow),
                (Some(ip(10, 0, 0, 1)), None, Some(proto), None)
            );
            assert_eq!(get(x, "distinct_hosts"), &Value::Count(50));
            assert_eq!(
                get(x, "hosts"),
                &Value::Hosts((0..32).map(|i| ip(10, 0, 1, i)).collect())
            );
            assert_eq!(get(x, "first_seen"), &Value::Time(ms(0)));
            assert_eq!(get(x, "last_seen"), &Value::Time(ms(490)));
            if proto == 1 {
                assert!(x.evidence.iter().all(|(k, _)| *k != "ports"));
                assert_eq!(get(x, "protocol"), &Value::Text("icmp".into()));
                assert!(x.msg.contains("pinged"));
            } else {
                assert_eq!(get(x, "ports"), &Value::Ports(vec![445]));
            }
        }
    }

    #[test]
    fn a_near_miss_and_other_ports_do_not_fire() {
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &sweep(49, 6, 10)).is_empty());
        // 60 hosts, each on its own port: no single port is swept.
        let evs: Vec<_> = (0..60u8)
            .map(|i| {
                start(
                    ms(i64::from(i)),
                    ip(10, 0, 0, 1),
                    ip(10, 0, 1, i),
                    1000 + u16::from(i),
                    6,
                )
            })
            .collect();
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn rejects_fire_lower_but_only_when_bidirectional() {
        let rejects = |bidir| -> Vec<Event<'static>> {
            (0..10u8)
                .map(|i| {
                    reject(
                        ms(i64::from(i)),
                        ip(10, 0, 1, i),
                        ip(10, 0, 0, 1),
                        23,
                        bidir,
                    )
                })
                .collect()
        };
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &rejects(false)).is_empty());
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &rejects(true)[..9]).is_empty());
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &rejects(true));
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "rejected_hosts"), &Value::Count(10));
        assert_eq!(get(&out[0], "ports"), &Value::Ports(vec![23]));
        assert_eq!(out[0].src, Some(ip(10, 0, 0, 1)));
    }

    #[test]
    fn allow_lists_are_respected() {
        for allow in [
            Allow {
                sources: vec!["10.0.0.1/32".parse().unwrap()],
                ..Allow::default()
            },
            Allow {
                ports: vec![445],
                ..Allow::default()
            },
        ] {
            let mut d = HostSweep::new(PerTenant::all(Config {
                allow,
                ..Config::default()
            }));
            assert!(run(&mut d, &sweep(200, 6, 10)).is_empty());
        }
        // Allowed destinations are not counted: 60 hosts, 20 allowed.
        let mut d = HostSweep::new(PerTenant::all(Config {
            allow: Allow {
                destinations: vec![
                    "10.0.1.0/28".parse().unwrap(),
                    "10.0.1.16/30".parse().unwrap(),
                ],
                ..Allow::default()
            },
            ..Config::default()
        }));
        assert!(run(&mut d, &sweep(60, 6, 10)).is_empty());
    }

    #[test]
    fn a_long_sweep_fires_once_per_window() {
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        let evs: Vec<_> = (0..3000u32)
            .map(|i| {
                start(
                    ms(i64::from(i) * 50),
                    ip(10, 0, 0, 1),
                    ip32(0x0a01_0000 + i),
                    22,
                    6,
                )
            })
            .collect();
        let out = run(&mut d, &evs);
        let times: Vec<i64> = out.iter().map(|x| x.ts.as_nanos() / 1_000_000).collect();
        assert_eq!(times, vec![2450, 62450, 122450]);
    }

    #[test]
    fn memory_stays_under_the_caps_under_a_spoofed_flood() {
        let cap = 10_000;
        let mut d = HostSweep::new(PerTenant::all(Config {
            max_entries: cap,
            ..Config::default()
        }));
        let mut out = Vec::new();
        for i in 0..1_000_000u32 {
            let e = start(
                Timestamp::from_nanos(i64::from(i)),
                ip32(0x0b00_0000 + i),
                ip(10, 0, 0, 2),
                80,
                6,
            );
            d.on_event(&e, &mut out);
            assert!(d.table.len() <= cap);
        }
        assert!(out.is_empty());
        let c = d.counters();
        assert_eq!(c.evicted, 1_000_000 - cap as u64);
        // One source sweeping a /8 keeps at most max_distinct hosts.
        let mut d = HostSweep::new(PerTenant::all(Config::default()));
        for i in 0..100_000u32 {
            d.on_event(
                &start(
                    ms(i64::from(i)),
                    ip(10, 0, 0, 1),
                    ip32(0x0a00_0000 + i),
                    80,
                    6,
                ),
                &mut out,
            );
        }
        assert!(d.table.iter().all(|(_, e)| e.hosts.len() <= 100));
        d.advance(ms(100_000_000), &mut out);
        assert_eq!(d.counters().entries, 0);
    }
}
