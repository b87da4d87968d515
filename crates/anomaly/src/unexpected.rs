//! Unexpected connections: a new flow to or from the protected hosts on a
//! port outside a configured allow-list (the "unauthorized connections"
//! case of traffic mirroring).
//!
//! # What it detects
//!
//! Many workloads talk on a handful of known ports: a web tier accepts 443
//! and calls a database on 5432, a build agent fetches over 443. A flow on
//! any other port (SSH to a web server, SMB out of a VPC, a reverse shell
//! on 4444) is a policy violation worth an alert by itself, whoever
//! started it. This is a policy check, not a statistical one: it has no
//! threshold and is off until configured.
//!
//! # Model
//!
//! For each [`EventKind::FlowStart`] whose initiator or responder lies in
//! `hosts` (every host of the tenant when `hosts` is empty), the flow's
//! protocol and responder port are looked up in `allowed`, a list of
//! (IP protocol, port range). A flow outside every entry fires once per
//! (tenant, initiator, responder, responder port, protocol); further flows
//! of that tuple (new source ports, retries) are suppressed by a dedup
//! table. Protocols without ports (ICMP, ...) have port 0: allow them with
//! `(1, 0..=65535)` or `(1, 0..=0)`. The direction does not matter: the
//! list names the responder ports allowed for flows in either direction,
//! so outbound calls (443, 53) need entries too.
//!
//! Flow starts are not failures: one-sided mirrors count.
//!
//! # Defaults and why
//!
//! - `enabled` false: there is no sensible default allow-list.
//! - `hosts` empty (every host), `allowed` empty (nothing allowed): once
//!   enabled, the operator lists what is allowed.
//! - `rearm_s` 86 400: a tuple fires again after a day without a flow of
//!   it (each flow of the tuple refreshes its entry), so a standing
//!   violation is not re-reported on every connection, but one that comes
//!   back another day is.
//! - `max_entries` 65 536 tuples (tenants together), about 12 MiB; at the
//!   cap the least recently seen tuple goes (counted in
//!   [`Counters::evicted`]) and would fire again on its next flow: a flood
//!   of spoofed sources costs alerts (which the runtime rate-limits), not
//!   memory.
//! - `allow`: sources, destinations and ports never reported, on top of
//!   `allowed` (monitoring, scanners you run).
//!
//! # Re-arm
//!
//! Per tuple, after `rearm_s` without a flow of it (or after eviction at
//! the cap).

use std::net::IpAddr;
use std::ops::RangeInclusive;

use mirador_wire::Timestamp;

use crate::bounded::Bounded;
use crate::{
    Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value,
    secs_to_ns,
};

const MSG: &str = "MIRADOR unexpected connection: a new flow on a port outside the allow-list";

/// `allowed` in config: `"tcp/443"`, `"udp/53"`, `"tcp/8000-8080"`,
/// `"icmp"` (protocol names tcp, udp, icmp, icmpv6, or a number).
fn de_allowed<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(u8, RangeInclusive<u16>)>, D::Error> {
    use serde::Deserialize;
    let items = Vec::<String>::deserialize(d)?;
    items
        .iter()
        .map(|s| parse_allowed(s).map_err(serde::de::Error::custom))
        .collect()
}

/// One `allowed` entry.
pub fn parse_allowed(s: &str) -> Result<(u8, RangeInclusive<u16>), String> {
    let bad = || {
        format!(
            "invalid entry '{s}', expected PROTO/PORT or PROTO/LOW-HIGH (tcp/443, udp/53, tcp/8000-8080, icmp)"
        )
    };
    let (proto, ports) = match s.trim().split_once('/') {
        Some((p, r)) => (p, Some(r)),
        None => (s.trim(), None),
    };
    let proto = match proto.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        "icmp" => 1,
        "icmpv6" | "ipv6-icmp" => 58,
        n => n.parse::<u8>().map_err(|_| bad())?,
    };
    let range = match ports {
        None => 0..=u16::MAX,
        Some(r) => match r.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (
                    a.trim().parse::<u16>().map_err(|_| bad())?,
                    b.trim().parse::<u16>().map_err(|_| bad())?,
                );
                if a > b {
                    return Err(bad());
                }
                a..=b
            }
            None => {
                let p = r.trim().parse::<u16>().map_err(|_| bad())?;
                p..=p
            }
        },
    };
    Ok((proto, range))
}

/// Settings of the unexpected-connection detector (one tenant's).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// On (default false).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// The protected hosts: flows from or to them are checked (default
    /// empty: every host).
    pub hosts: Vec<ipnet::IpNet>,
    /// Allowed (IP protocol, responder port range) (default none).
    #[serde(deserialize_with = "de_allowed")]
    pub allowed: Vec<(u8, RangeInclusive<u16>)>,
    /// A tuple fires again after this many seconds without a flow of it
    /// (default 86 400).
    #[serde(rename = "rearm")]
    pub rearm_s: u64,
    /// Sources, destinations and responder ports never reported.
    pub allow: Allow,
    /// Most tuples remembered (default 65 536).
    pub max_entries: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: false,
            hosts: Vec::new(),
            allowed: Vec::new(),
            rearm_s: 86_400,
            allow: Allow::default(),
            max_entries: 65_536,
        }
    }
}

impl Config {
    /// Whether a flow of `proto` to responder port `port` is allowed.
    pub fn is_allowed(&self, proto: u8, port: u16) -> bool {
        self.allowed
            .iter()
            .any(|(p, r)| *p == proto && r.contains(&port))
    }
}

/// (tenant, initiator, responder, responder port, protocol).
type Key = (u32, IpAddr, IpAddr, u16, u8);

/// The unexpected-connection detector.
#[derive(Debug)]
pub struct UnexpectedConnection {
    cfg: PerTenant<Config>,
    seen: Bounded<Key, Timestamp>,
    max_rearm_ns: i64,
    events: u64,
    detections: u64,
}

impl UnexpectedConnection {
    /// A detector with these settings; the table cap is the default's
    /// `max_entries` (shared by all tenants).
    pub fn new(cfg: PerTenant<Config>) -> Self {
        let max_rearm_s = std::iter::once(&cfg.default)
            .chain(cfg.tenants.iter().map(|(_, c)| c))
            .map(|c| c.rearm_s.max(1))
            .max()
            .unwrap_or(1);
        UnexpectedConnection {
            seen: Bounded::new(cfg.default.max_entries),
            max_rearm_ns: secs_to_ns(max_rearm_s),
            cfg,
            events: 0,
            detections: 0,
        }
    }

    /// Tuples remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn expire(&mut self, now: Timestamp) {
        let before = Timestamp::from_nanos(now.as_nanos().saturating_sub(self.max_rearm_ns));
        self.seen.expire(before, |_, _| {});
    }
}

impl Detector for UnexpectedConnection {
    fn id(&self) -> DetectorId {
        DetectorId::UnexpectedConnection
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        let EventKind::FlowStart {
            src,
            dst,
            sport,
            dport,
            proto,
            ..
        } = ev.kind
        else {
            return;
        };
        self.events += 1;
        self.expire(ev.ts);
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled {
            return;
        }
        let src_in = cfg.hosts.is_empty() || cfg.hosts.iter().any(|n| n.contains(&src));
        let dst_in = cfg.hosts.is_empty() || cfg.hosts.iter().any(|n| n.contains(&dst));
        if !(src_in || dst_in)
            || cfg.is_allowed(proto, dport)
            || cfg.allow.allows(src, dst, Some(dport))
        {
            return;
        }
        let key = (ev.tenant, src, dst, dport, proto);
        // A tuple of a tenant with a shorter re-arm than the table's expiry
        // fires again once its own re-arm time has passed.
        let rearm_ns = secs_to_ns(cfg.rearm_s.max(1));
        let fresh = match self.seen.get(&key) {
            None => true,
            Some(&last) => ev.ts.as_nanos().saturating_sub(last.as_nanos()) >= rearm_ns,
        };
        *self.seen.touch(key, ev.ts, || ev.ts) = ev.ts;
        if !fresh {
            return;
        }
        let side = match (cfg.hosts.is_empty(), src_in, dst_in) {
            (true, _, _) => "any",
            (false, true, true) => "both",
            (false, true, false) => "initiator",
            _ => "responder",
        };
        let evidence = vec![
            ("proto", Value::Text(proto_name(proto))),
            ("dst_port", Value::Ports(vec![dport])),
            ("protected", Value::Text(side.to_string())),
            ("rearm", Value::Seconds(cfg.rearm_s as f64)),
            ("first_seen", Value::Time(ev.ts)),
            ("last_seen", Value::Time(ev.ts)),
        ];
        self.detections += 1;
        out.push(Detection {
            detector: DetectorId::UnexpectedConnection,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: MSG,
            severity: 2,
            src: Some(src),
            dst: Some(dst),
            proto: Some(proto),
            flow: Some((sport, dport)),
            evidence,
        });
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.expire(now);
    }

    fn counters(&self) -> Counters {
        Counters {
            events: self.events,
            detections: self.detections,
            evicted: self.seen.evicted(),
            entries: self.seen.len() as u64,
        }
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6-ICMP".into(),
        132 => "SCTP".into(),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const WEB: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 10));
    const OUTSIDE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 50));

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    fn flow(
        ts: i64,
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        proto: u8,
    ) -> Event<'static> {
        Event {
            ts: t(ts),
            tenant: 7,
            session: 5,
            bidirectional: true,
            kind: EventKind::FlowStart {
                src,
                dst,
                sport,
                dport,
                proto,
                syn: proto == 6,
                echo: false,
                internal: (false, true),
            },
        }
    }

    fn web_policy() -> Config {
        Config {
            enabled: true,
            hosts: vec!["10.0.1.0/24".parse().unwrap()],
            allowed: vec![(6, 443..=443), (6, 8000..=8080), (17, 53..=53)],
            ..Config::default()
        }
    }

    fn run(d: &mut UnexpectedConnection, evs: &[Event<'static>]) -> Vec<Detection> {
        let mut out = Vec::new();
        for e in evs {
            d.on_event(e, &mut out);
        }
        out
    }

    fn get<'a>(d: &'a Detection, k: &str) -> &'a Value {
        &d.evidence.iter().find(|(n, _)| *n == k).unwrap().1
    }

    #[test]
    fn ssh_to_a_web_server_fires_with_its_flow() {
        let mut d = UnexpectedConnection::new(PerTenant::all(web_policy()));
        let out = run(&mut d, &[flow(100, OUTSIDE, WEB, 51_000, 22, 6)]);
        assert_eq!(out.len(), 1);
        let x = &out[0];
        assert_eq!(x.detector, DetectorId::UnexpectedConnection);
        assert_eq!(x.msg, MSG);
        assert_eq!((x.src, x.dst, x.proto), (Some(OUTSIDE), Some(WEB), Some(6)));
        assert_eq!(x.flow, Some((51_000, 22)));
        assert_eq!((x.tenant, x.session, x.ts), (7, 5, t(100)));
        assert_eq!(get(x, "proto"), &Value::Text("TCP".into()));
        assert_eq!(get(x, "dst_port"), &Value::Ports(vec![22]));
        assert_eq!(get(x, "protected"), &Value::Text("responder".into()));
        assert_eq!(get(x, "first_seen"), &Value::Time(t(100)));
        assert_eq!(get(x, "rearm"), &Value::Seconds(86_400.0));
        // Outbound from a protected host too.
        let out = run(&mut d, &[flow(101, WEB, OUTSIDE, 40_000, 4444, 6)]);
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "protected"), &Value::Text("initiator".into()));
    }

    #[test]
    fn allowed_ports_and_range_edges() {
        let mut d = UnexpectedConnection::new(PerTenant::all(web_policy()));
        let ok = [
            flow(1, OUTSIDE, WEB, 1, 443, 6),
            flow(2, OUTSIDE, WEB, 1, 8000, 6),
            flow(3, OUTSIDE, WEB, 1, 8080, 6),
            flow(4, WEB, OUTSIDE, 1, 53, 17),
        ];
        assert!(run(&mut d, &ok).is_empty());
        // Just outside: the range's neighbours, and the right port on the
        // wrong protocol.
        let bad = [
            flow(5, OUTSIDE, WEB, 1, 7999, 6),
            flow(6, OUTSIDE, WEB, 1, 8081, 6),
            flow(7, OUTSIDE, WEB, 1, 442, 6),
            flow(8, WEB, OUTSIDE, 1, 53, 6),
            flow(9, OUTSIDE, WEB, 1, 443, 17),
        ];
        assert_eq!(run(&mut d, &bad).len(), 5);
    }

    #[test]
    fn flows_away_from_the_hosts_are_not_checked() {
        let mut d = UnexpectedConnection::new(PerTenant::all(web_policy()));
        let e = flow(1, OUTSIDE, ip(0x0a00_0205), 1, 22, 6);
        assert!(run(&mut d, std::slice::from_ref(&e)).is_empty());
        // With no hosts configured, every host is protected.
        let cfg = Config {
            hosts: Vec::new(),
            ..web_policy()
        };
        let mut d = UnexpectedConnection::new(PerTenant::all(cfg));
        let out = run(&mut d, &[e]);
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "protected"), &Value::Text("any".into()));
    }

    #[test]
    fn off_unless_configured() {
        let mut d = UnexpectedConnection::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &[flow(1, OUTSIDE, WEB, 1, 22, 6)]).is_empty());
        assert!(d.is_empty());
        // Per tenant: only tenant 7 configured.
        let mut d = UnexpectedConnection::new(PerTenant {
            default: Config::default(),
            tenants: vec![(7, web_policy())],
        });
        let mut other = flow(1, OUTSIDE, WEB, 1, 22, 6);
        other.tenant = 8;
        assert!(run(&mut d, &[other]).is_empty());
        assert_eq!(run(&mut d, &[flow(1, OUTSIDE, WEB, 1, 22, 6)]).len(), 1);
    }

    #[test]
    fn allow_list_is_respected() {
        let mut cfg = web_policy();
        cfg.allow.sources = vec!["192.0.2.0/24".parse().unwrap()];
        cfg.allow.ports = vec![3389];
        let mut d = UnexpectedConnection::new(PerTenant::all(cfg));
        let evs = [
            flow(1, OUTSIDE, WEB, 1, 22, 6),
            flow(2, ip(0xcb00_7101), WEB, 1, 3389, 6),
        ];
        assert!(run(&mut d, &evs).is_empty());
        assert_eq!(
            run(&mut d, &[flow(3, ip(0xcb00_7101), WEB, 1, 22, 6)]).len(),
            1
        );
    }

    #[test]
    fn fires_once_per_tuple_and_rearms_after_a_quiet_day() {
        let mut d = UnexpectedConnection::new(PerTenant::all(web_policy()));
        let mut out = Vec::new();
        // Retries and new source ports of one tuple, every hour for two
        // days: one detection (each refreshes the entry).
        for h in 0..48 {
            d.on_event(
                &flow(h * 3600, OUTSIDE, WEB, 50_000 + h as u16, 22, 6),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        // Another port or another source is another tuple.
        d.on_event(&flow(48 * 3600, OUTSIDE, WEB, 1, 23, 6), &mut out);
        d.on_event(&flow(48 * 3600, ip(0xc000_0233), WEB, 1, 22, 6), &mut out);
        assert_eq!(out.len(), 3);
        // A day and a second later, the first tuple fires again.
        d.on_event(&flow(47 * 3600 + 86_401, OUTSIDE, WEB, 2, 22, 6), &mut out);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn one_sided_mirrors_still_fire() {
        let mut d = UnexpectedConnection::new(PerTenant::all(web_policy()));
        let mut e = flow(1, OUTSIDE, WEB, 1, 22, 6);
        e.bidirectional = false;
        assert_eq!(run(&mut d, &[e]).len(), 1);
    }

    #[test]
    fn a_million_spoofed_sources_stay_within_the_cap() {
        let cfg = Config {
            max_entries: 1000,
            ..web_policy()
        };
        let mut d = UnexpectedConnection::new(PerTenant::all(cfg));
        let mut out = Vec::new();
        for i in 0u32..1_000_000 {
            d.on_event(&flow(100, ip(0x0b00_0000 + i), WEB, 1, 22, 6), &mut out);
            // Drop the alerts as a runtime would.
            out.clear();
        }
        let c = d.counters();
        assert_eq!(c.entries, 1000);
        assert_eq!(c.evicted, 999_000);
        assert_eq!(c.detections, 1_000_000);
    }

    proptest! {
        /// Replaying the same stream gives the same detections.
        #[test]
        fn replay_is_deterministic(
            evs in proptest::collection::vec((0u32..4, 0u16..4, 0u8..2, 0i64..50_000), 0..300)
        ) {
            let cfg = Config { max_entries: 3, rearm_s: 60_000, ..web_policy() };
            let go = || {
                let mut d = UnexpectedConnection::new(PerTenant::all(cfg.clone()));
                let mut out = Vec::new();
                let mut ts = 0i64;
                for (s, p, pr, dt) in &evs {
                    ts += dt;
                    let proto = if *pr == 0 { 6 } else { 17 };
                    d.on_event(&flow(ts, ip(0xc000_0200 + s), WEB, 1, 20 + p, proto), &mut out);
                }
                d.advance(t(ts + 1_000_000), &mut out);
                (out, d.counters())
            };
            prop_assert_eq!(go(), go());
        }
    }
}
