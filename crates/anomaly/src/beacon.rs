//! Beaconing: one internal host connecting to one external destination at
//! regular intervals.
//!
//! # What it detects
//!
//! Implants check in with their command-and-control server on a timer
//! (Cobalt Strike's `sleep` with a jitter percentage, Sliver, Metasploit's
//! reverse HTTP(S) stagers, commodity RATs). A person browsing opens
//! connections in bursts at irregular times; a timer opens them at a
//! near-constant period, even when jitter is added. Because the check-in
//! usually carries no payload and rides on HTTPS, the timing is often the
//! only thing a sensor sees.
//!
//! # Model
//!
//! State per (tenant, internal source, external destination, destination
//! port, protocol), fed by [`EventKind::FlowStart`] events with
//! `internal == (true, false)` (source inside `HOME_NET`, destination
//! outside). Flow starts less than `merge_s` apart are one *beat* (a
//! check-in that opens several connections, or a retried SYN flow). The
//! last `max_starts` beats within `window_s` are kept in a ring.
//!
//! When the ring holds at least `min_connections` beats, the intervals
//! between consecutive beats are scored, in the spirit of RITA's beacon
//! analysis (which scores interval dispersion with the median absolute
//! deviation and skew, and the connection count) but with robust measures
//! only, so that a few outliers (an extra connection, a missed check-in)
//! do not hide a beacon:
//!
//! - the *period* `M` is the median interval;
//! - the *jitter* is the median absolute deviation of the intervals from
//!   `M`, relative to `M` (MAD/M): about 0.075 for a period with uniform
//!   ±15% jitter, 0.10 for ±20%, but about 0.7 for random (Poisson)
//!   connection times, whose intervals are exponential;
//! - the *regular fraction* is the share of intervals within
//!   `tolerance × M` of `M`, `2M` or `3M` (one or two missed beats still
//!   count as regular); about 0.3 for Poisson times.
//!
//! It fires when `M >= min_period_s`, jitter `<= max_jitter` and regular
//! fraction `>= min_regular`. Requiring both measures is what keeps random
//! traffic out: with eleven or more intervals a Poisson stream almost never
//! has both a small MAD and most intervals on a grid.
//!
//! # Defaults and why
//!
//! - `window_s` 21 600 (6 h) and `min_connections` 12: ten or more
//!   check-ins are the fewest that make a dispersion estimate meaningful
//!   (RITA ignores pairs with few connections); twelve cut false positives
//!   on random traffic by a factor of about five against ten. In 6 hours
//!   they cover periods up to about 30 minutes (Cobalt Strike's default
//!   sleep is 60 s).
//! - `max_starts` 32 beats per key: enough for a robust median, 512 bytes
//!   per key.
//! - `max_jitter` 0.2, `tolerance` 0.25 and `min_regular` 0.75: chosen on a
//!   simulation (the tests' generator). Of 20 000 streams of 400
//!   connections at random (Poisson) times to one destination, one a
//!   minute (about 6.7 hours each, scored at every connection), 0.14%
//!   fired once. Of 1 000 beacons of 30 check-ins each, a 60 s period with
//!   uniform jitter of ±15% or ±20% on each interval fired in 100%; with
//!   two missed check-ins and two stray connections to the same
//!   destination, 100% (±15%) and 99.5% (±20%); ±30% jitter fired in 99%
//!   (72% with the misses and strays).
//! - `merge_s` 1 s and `min_period_s` 10 s: connections in the same second
//!   are one check-in; a sequence of downloads one after another (a script
//!   fetching files, seconds apart) is regular too, but no implant beacons
//!   faster than every ten seconds for hours without being noticed by
//!   volume anyway.
//! - `allow.ports` `[123]`: NTP clients poll external servers at a fixed
//!   interval by design. Add update checkers, monitoring agents and
//!   keep-alive services you know (by destination CIDR or port).
//! - `max_entries` 65 536 keys (tenants together), about 45 MiB at most;
//!   the least recently touched key goes at the cap (counted in
//!   [`Counters::evicted`]). A beacon touches its key every period, so it
//!   survives unless more than the cap of other pairs start flows within
//!   one period.
//!
//! # Re-arm
//!
//! A key fires at most once per window: after a detection, it can fire
//! again once `window_s` has passed since it, so a beacon that goes on is
//! reported again every window (default every 6 hours) and one that stops
//! is forgotten a window after its last connection.

use std::net::IpAddr;

use mirador_wire::Timestamp;

use crate::bounded::Bounded;
use crate::{
    Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value,
    secs_to_ns,
};

const MSG: &str =
    "MIRADOR beaconing: one internal host connects to one external host at regular intervals";

/// Settings of the beaconing detector (one tenant's).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// On (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// How far back beats count, in seconds (default 21 600).
    #[serde(rename = "window")]
    pub window_s: u64,
    /// Fewest beats (merged flow starts) in the window to judge (default
    /// 12).
    pub min_connections: usize,
    /// Most beats kept per key (default 32).
    pub max_starts: usize,
    /// Flow starts closer than this, in seconds, are one beat (default 1).
    #[serde(rename = "merge")]
    pub merge_s: f64,
    /// Shortest period that fires, in seconds (default 10).
    #[serde(rename = "min-period")]
    pub min_period_s: f64,
    /// Highest median absolute deviation of the intervals relative to
    /// their median that fires (default 0.2).
    pub max_jitter: f64,
    /// How far from a multiple (1, 2 or 3) of the period an interval may
    /// be, relative to the period, to count as regular (default 0.25).
    pub tolerance: f64,
    /// Least share of regular intervals that fires (default 0.75).
    pub min_regular: f64,
    /// Sources, destinations and destination ports left alone (default:
    /// port 123, NTP).
    pub allow: Allow,
    /// Most keys (default 65 536).
    pub max_entries: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_s: 21_600,
            min_connections: 12,
            max_starts: 32,
            merge_s: 1.0,
            min_period_s: 10.0,
            max_jitter: 0.2,
            tolerance: 0.25,
            min_regular: 0.75,
            allow: Allow {
                ports: vec![123],
                ..Allow::default()
            },
            max_entries: 65_536,
        }
    }
}

/// (tenant, internal source, external destination, destination port,
/// protocol).
type Key = (u32, IpAddr, IpAddr, u16, u8);

#[derive(Debug, Default)]
struct Beats {
    /// (time of the beat's first flow, flows merged into it), oldest first.
    ring: std::collections::VecDeque<(Timestamp, u32)>,
    /// Time of the last detection.
    fired: Option<Timestamp>,
}

/// What a scoring of the intervals found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Median interval, seconds.
    pub period: f64,
    /// Median absolute deviation from the period, seconds.
    pub mad: f64,
    /// Share of intervals near a multiple (1 to 3) of the period.
    pub regular: f64,
}

/// Scores intervals (seconds, any order; at least one).
pub fn score(intervals: &mut [f64], tolerance: f64) -> Score {
    intervals.sort_by(f64::total_cmp);
    let period = median_sorted(intervals);
    let mut dev: Vec<f64> = intervals.iter().map(|d| (d - period).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_sorted(&dev);
    let tol = tolerance * period;
    let regular = intervals
        .iter()
        .filter(|&&d| {
            let k = (d / period).round();
            (1.0..=3.0).contains(&k) && (d - k * period).abs() <= tol
        })
        .count() as f64
        / intervals.len() as f64;
    Score {
        period,
        mad,
        regular,
    }
}

fn median_sorted(x: &[f64]) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        x[n / 2]
    } else {
        (x[n / 2 - 1] + x[n / 2]) / 2.0
    }
}

/// The beaconing detector.
#[derive(Debug)]
pub struct Beaconing {
    cfg: PerTenant<Config>,
    table: Bounded<Key, Beats>,
    max_window_ns: i64,
    events: u64,
    detections: u64,
}

impl Beaconing {
    /// A detector with these settings; the table cap is the default's
    /// `max_entries` (shared by all tenants).
    pub fn new(cfg: PerTenant<Config>) -> Self {
        let max_window_s = std::iter::once(&cfg.default)
            .chain(cfg.tenants.iter().map(|(_, c)| c))
            .map(|c| c.window_s.max(1))
            .max()
            .unwrap_or(1);
        Beaconing {
            table: Bounded::new(cfg.default.max_entries),
            max_window_ns: secs_to_ns(max_window_s),
            cfg,
            events: 0,
            detections: 0,
        }
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn expire(&mut self, now: Timestamp) {
        let before = Timestamp::from_nanos(now.as_nanos().saturating_sub(self.max_window_ns));
        self.table.expire(before, |_, _| {});
    }
}

impl Detector for Beaconing {
    fn id(&self) -> DetectorId {
        DetectorId::Beaconing
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        let EventKind::FlowStart {
            src,
            dst,
            dport,
            proto,
            internal,
            ..
        } = ev.kind
        else {
            return;
        };
        self.events += 1;
        self.expire(ev.ts);
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled || internal != (true, false) || cfg.allow.allows(src, dst, Some(dport)) {
            return;
        }
        let window_ns = secs_to_ns(cfg.window_s.max(1));
        let merge_ns = (cfg.merge_s.max(0.0) * 1e9) as i64;
        let b = self
            .table
            .touch((ev.tenant, src, dst, dport, proto), ev.ts, Beats::default);

        // Forget beats that left the window, and a detection a window old.
        let horizon = ev.ts.as_nanos().saturating_sub(window_ns);
        while b.ring.front().is_some_and(|(t, _)| t.as_nanos() < horizon) {
            b.ring.pop_front();
        }
        if b.fired.is_some_and(|f| f.as_nanos() <= horizon) {
            b.fired = None;
        }
        match b.ring.back_mut() {
            Some((t, n)) if ev.ts.as_nanos().saturating_sub(t.as_nanos()) < merge_ns => {
                *n = n.saturating_add(1);
                // A merged start changes no interval.
                return;
            }
            _ => {
                if b.ring.len() >= cfg.max_starts.max(2) {
                    b.ring.pop_front();
                }
                b.ring.push_back((ev.ts, 1));
            }
        }
        if b.fired.is_some() || b.ring.len() < cfg.min_connections.max(3) {
            return;
        }
        let mut intervals: Vec<f64> = b
            .ring
            .iter()
            .zip(b.ring.iter().skip(1))
            .map(|((a, _), (c, _))| (c.as_nanos() - a.as_nanos()) as f64 / 1e9)
            .collect();
        let s = score(&mut intervals, cfg.tolerance);
        if s.period < cfg.min_period_s.max(f64::MIN_POSITIVE)
            || s.mad > cfg.max_jitter * s.period
            || s.regular < cfg.min_regular
        {
            return;
        }
        b.fired = Some(ev.ts);
        let flows: u64 = b.ring.iter().map(|(_, n)| u64::from(*n)).sum();
        let first = b.ring.front().map_or(ev.ts, |(t, _)| *t);
        let evidence = vec![
            ("period", Value::Seconds(round3(s.period))),
            ("jitter", Value::Number(round3(s.mad / s.period))),
            ("jitter_s", Value::Seconds(round3(s.mad))),
            ("regular", Value::Number(round3(s.regular))),
            ("beats", Value::Count(b.ring.len() as u64)),
            ("connections", Value::Count(flows)),
            ("dst_port", Value::Ports(vec![dport])),
            ("window", Value::Seconds(cfg.window_s as f64)),
            ("first_seen", Value::Time(first)),
            ("last_seen", Value::Time(ev.ts)),
        ];
        self.detections += 1;
        out.push(Detection {
            detector: DetectorId::Beaconing,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg: MSG,
            severity: 2,
            src: Some(src),
            dst: Some(dst),
            proto: Some(proto),
            flow: None,
            evidence,
        });
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.expire(now);
    }

    fn counters(&self) -> Counters {
        Counters::of(self.events, self.detections, &self.table)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
    const C2: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    fn secs(s: f64) -> Timestamp {
        Timestamp::from_nanos((s * 1e9) as i64)
    }

    fn start(
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        dport: u16,
        internal: (bool, bool),
    ) -> Event<'static> {
        Event {
            ts,
            tenant: 2,
            session: 1,
            bidirectional: true,
            kind: EventKind::FlowStart {
                src,
                dst,
                sport: 40_000,
                dport,
                proto: 6,
                syn: true,
                echo: false,
                internal,
            },
        }
    }

    /// A deterministic pseudo-random generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn exp(&mut self, mean: f64) -> f64 {
            -mean * (1.0 - self.unit()).ln()
        }
    }

    /// Beacon start times: period `p` with uniform jitter of ±`j` × p on
    /// each interval, from `t0`, `n` of them.
    fn beacon(rng: &mut Rng, t0: f64, p: f64, j: f64, n: usize) -> Vec<f64> {
        let mut t = t0;
        (0..n)
            .map(|_| {
                let now = t;
                t += p * (1.0 + j * (2.0 * rng.unit() - 1.0));
                now
            })
            .collect()
    }

    fn feed(d: &mut Beaconing, evs: &mut [Event<'static>]) -> Vec<Detection> {
        evs.sort_by_key(|e| e.ts);
        let mut out = Vec::new();
        for e in evs.iter() {
            d.on_event(e, &mut out);
        }
        out
    }

    fn get<'a>(d: &'a Detection, k: &str) -> &'a Value {
        &d.evidence.iter().find(|(n, _)| *n == k).unwrap().1
    }

    #[test]
    fn scores_of_a_grid_and_of_outliers() {
        let mut x = vec![60.0; 9];
        let s = score(&mut x, 0.25);
        assert_eq!((s.period, s.mad, s.regular), (60.0, 0.0, 1.0));
        // A missed beat (120) and an extra connection (20 + 40).
        let mut x = vec![60.0, 60.0, 120.0, 60.0, 20.0, 40.0, 60.0, 60.0, 60.0, 60.0];
        let s = score(&mut x, 0.25);
        assert_eq!(s.period, 60.0);
        assert_eq!(s.mad, 0.0);
        assert!((s.regular - 0.8).abs() < 1e-9);
    }

    #[test]
    fn a_jittered_beacon_among_noise_fires_with_its_period() {
        let mut rng = Rng(42);
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let t0 = 1_700_000_000.0;
        let mut evs = Vec::new();
        // 60 s ± 15% to the C2 on 443, for an hour.
        let beats = beacon(&mut rng, t0, 60.0, 0.15, 60);
        for &t in &beats {
            evs.push(start(secs(t), HOST, C2, 443, (true, false)));
        }
        // A second connection within the same second on two beats.
        evs.push(start(secs(beats[3] + 0.2), HOST, C2, 443, (true, false)));
        evs.push(start(secs(beats[6] + 0.3), HOST, C2, 443, (true, false)));
        // Noise from the same host: 600 connections at random times to 50
        // other external hosts, some on 443.
        for _ in 0..600 {
            let t = t0 + rng.unit() * 3600.0;
            let dst = ip(0xc633_6400 + (rng.next() % 50) as u32);
            let port = if rng.next().is_multiple_of(2) {
                443
            } else {
                80
            };
            evs.push(start(secs(t), HOST, dst, port, (true, false)));
        }
        // Two stray connections to the C2 itself (a person browsing it).
        evs.push(start(secs(beats[4] + 17.0), HOST, C2, 443, (true, false)));
        evs.push(start(secs(beats[12] + 41.0), HOST, C2, 443, (true, false)));
        let out = feed(&mut d, &mut evs);
        let ours: Vec<_> = out.iter().filter(|x| x.dst == Some(C2)).collect();
        assert_eq!(ours.len(), 1, "{out:?}");
        assert_eq!(out.len(), 1, "noise fired: {out:?}");
        let det = ours[0];
        assert_eq!(det.detector, DetectorId::Beaconing);
        assert_eq!(det.src, Some(HOST));
        assert_eq!(det.proto, Some(6));
        assert_eq!(det.flow, None);
        let Value::Seconds(p) = get(det, "period") else {
            panic!()
        };
        assert!((p - 60.0).abs() < 6.0, "period {p}");
        let Value::Number(j) = get(det, "jitter") else {
            panic!()
        };
        assert!(*j <= 0.2, "jitter {j}");
        assert_eq!(get(det, "dst_port"), &Value::Ports(vec![443]));
        let Value::Count(b) = get(det, "beats") else {
            panic!()
        };
        let Value::Count(c) = get(det, "connections") else {
            panic!()
        };
        assert!(*b >= 12 && *c >= *b);
        assert_eq!(get(det, "first_seen"), &Value::Time(secs(beats[0])));
        assert_eq!(get(det, "last_seen"), &Value::Time(det.ts));
        assert_eq!(get(det, "window"), &Value::Seconds(21_600.0));
        // Fired within the first quarter hour or so.
        assert!(det.ts <= secs(beats[16]), "late: {:?}", det.ts);
    }

    #[test]
    fn missed_beats_and_a_long_period_still_fire() {
        let mut rng = Rng(5);
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        // 5 minutes ± 10%, every fourth check-in lost.
        let beats = beacon(&mut rng, 1000.0, 300.0, 0.10, 40);
        let mut evs: Vec<_> = beats
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 4 != 3)
            .map(|(_, &t)| start(secs(t), HOST, C2, 8443, (true, false)))
            .collect();
        let out = feed(&mut d, &mut evs);
        assert_eq!(out.len(), 1, "{out:?}");
        let Value::Seconds(p) = get(&out[0], "period") else {
            panic!()
        };
        assert!((p - 300.0).abs() < 30.0, "{p}");
    }

    #[test]
    fn random_connection_times_do_not_fire() {
        // Poisson connections to one destination at several rates, many
        // seeds, hours each: nothing.
        for seed in 1..=40u64 {
            for mean in [15.0, 60.0, 300.0] {
                let mut rng = Rng(seed * 7919);
                let mut d = Beaconing::new(PerTenant::all(Config::default()));
                let mut t = 0.0;
                let mut out = Vec::new();
                for _ in 0..400 {
                    t += rng.exp(mean);
                    d.on_event(&start(secs(t), HOST, C2, 443, (true, false)), &mut out);
                }
                assert!(out.is_empty(), "seed {seed} mean {mean}: {out:?}");
            }
        }
    }

    #[test]
    fn near_misses_do_not_fire() {
        // Eleven perfect beats: one short of the count.
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut evs: Vec<_> = (0..11)
            .map(|i| {
                start(
                    secs(100.0 + 60.0 * f64::from(i)),
                    HOST,
                    C2,
                    443,
                    (true, false),
                )
            })
            .collect();
        assert!(feed(&mut d, &mut evs).is_empty());
        // Fourteen beats, jitter ±60%: dispersion too high.
        let mut rng = Rng(3);
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut evs: Vec<_> = beacon(&mut rng, 100.0, 60.0, 0.6, 14)
            .into_iter()
            .map(|t| start(secs(t), HOST, C2, 443, (true, false)))
            .collect();
        assert!(feed(&mut d, &mut evs).is_empty());
        // Twenty perfect beats every 5 s: under the shortest period.
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut evs: Vec<_> = (0..20)
            .map(|i| {
                start(
                    secs(100.0 + 5.0 * f64::from(i)),
                    HOST,
                    C2,
                    443,
                    (true, false),
                )
            })
            .collect();
        assert!(feed(&mut d, &mut evs).is_empty());
        // Twelve beats an hour apart: they do not fit in the window.
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut evs: Vec<_> = (0..12)
            .map(|i| {
                start(
                    secs(100.0 + 3600.0 * f64::from(i)),
                    HOST,
                    C2,
                    443,
                    (true, false),
                )
            })
            .collect();
        assert!(feed(&mut d, &mut evs).is_empty());
    }

    #[test]
    fn only_internal_to_external_counts() {
        for internal in [(true, true), (false, false), (false, true)] {
            let mut d = Beaconing::new(PerTenant::all(Config::default()));
            let mut evs: Vec<_> = (0..20)
                .map(|i| start(secs(100.0 + 60.0 * f64::from(i)), HOST, C2, 443, internal))
                .collect();
            assert!(feed(&mut d, &mut evs).is_empty(), "{internal:?}");
            assert!(d.is_empty());
        }
    }

    #[test]
    fn one_sided_mirrors_still_count() {
        // Flow starts are not failures: a one-sided session sees them too.
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        for i in 0..12 {
            let mut e = start(
                secs(100.0 + 60.0 * f64::from(i)),
                HOST,
                C2,
                443,
                (true, false),
            );
            e.bidirectional = false;
            d.on_event(&e, &mut out);
        }
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn allow_lists_are_respected() {
        let go = |cfg: Config, port: u16| {
            let mut d = Beaconing::new(PerTenant::all(cfg));
            let mut evs: Vec<_> = (0..14)
                .map(|i| {
                    start(
                        secs(100.0 + 64.0 * f64::from(i)),
                        HOST,
                        C2,
                        port,
                        (true, false),
                    )
                })
                .collect();
            feed(&mut d, &mut evs).len()
        };
        assert_eq!(go(Config::default(), 443), 1);
        assert_eq!(go(Config::default(), 123), 0, "NTP is allowed by default");
        let mut c = Config::default();
        c.allow.destinations = vec!["203.0.113.0/24".parse().unwrap()];
        assert_eq!(go(c, 443), 0);
        let mut c = Config::default();
        c.allow.sources = vec!["10.0.0.5/32".parse().unwrap()];
        assert_eq!(go(c, 443), 0);
        let c = Config {
            enabled: false,
            ..Config::default()
        };
        assert_eq!(go(c, 443), 0);
    }

    #[test]
    fn fires_once_per_window() {
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        // A perfect 60 s beacon for 14 hours.
        for i in 0..840 {
            d.on_event(
                &start(
                    secs(1000.0 + 60.0 * f64::from(i)),
                    HOST,
                    C2,
                    443,
                    (true, false),
                ),
                &mut out,
            );
        }
        // At beat 12, then again once each 6-hour window has passed.
        let at: Vec<_> = out.iter().map(|x| x.ts).collect();
        assert_eq!(
            at,
            vec![
                secs(1660.0),
                secs(1660.0 + 21_600.0),
                secs(1660.0 + 43_200.0)
            ]
        );
    }

    #[test]
    fn a_stopped_beacon_is_forgotten() {
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        for i in 0..12 {
            d.on_event(
                &start(
                    secs(1000.0 + 60.0 * f64::from(i)),
                    HOST,
                    C2,
                    443,
                    (true, false),
                ),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        d.advance(secs(1660.0 + 21_599.0), &mut out);
        assert_eq!(d.len(), 1);
        d.advance(secs(1660.0 + 21_601.0), &mut out);
        assert_eq!(d.len(), 0);
        assert_eq!(d.counters().entries, 0);
    }

    #[test]
    fn a_million_spoofed_pairs_stay_within_the_cap() {
        let cfg = Config {
            max_entries: 1000,
            ..Config::default()
        };
        let mut d = Beaconing::new(PerTenant::all(cfg));
        let mut out = Vec::new();
        for i in 0u32..1_000_000 {
            let e = start(
                Timestamp::from_nanos(i64::from(i) * 1000),
                ip(0x0a00_0000 + i),
                C2,
                443,
                (true, false),
            );
            d.on_event(&e, &mut out);
        }
        assert!(out.is_empty());
        let c = d.counters();
        assert_eq!(c.entries, 1000);
        assert_eq!(c.evicted, 999_000);
        // Beats per key are capped too.
        let mut d = Beaconing::new(PerTenant::all(Config::default()));
        for i in 0..10_000 {
            d.on_event(
                &start(secs(f64::from(i) * 1.5), HOST, C2, 443, (true, false)),
                &mut out,
            );
        }
        let (_, b) = d.table.iter().next().unwrap();
        assert_eq!(b.ring.len(), 32);
    }

    proptest! {
        /// Replaying the same stream gives the same detections.
        #[test]
        fn replay_is_deterministic(
            evs in proptest::collection::vec((0u32..3, 0u32..3, 0u16..2, 0i64..120_000), 0..300)
        ) {
            let cfg = Config { max_entries: 5, min_connections: 4, max_starts: 6, ..Config::default() };
            let go = || {
                let mut d = Beaconing::new(PerTenant::all(cfg.clone()));
                let mut out = Vec::new();
                let mut ts = 0i64;
                for (s, t, p, dt) in &evs {
                    ts += dt;
                    let e = start(Timestamp::from_nanos(ts * 1_000_000), ip(0x0a00_0000 + s), ip(0xcb00_7100 + t), 443 + p, (true, false));
                    d.on_event(&e, &mut out);
                }
                d.advance(Timestamp::from_nanos(ts * 1_000_000 + 100_000_000_000_000), &mut out);
                (out, d.counters())
            };
            prop_assert_eq!(go(), go());
        }
    }
}
