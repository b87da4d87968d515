//! Volume exfiltration: an internal host sending more bytes to one external
//! host within a window than a fixed threshold, or far more than its own
//! learned baseline for that host.
//!
//! # What it detects
//!
//! Data theft ends with the data leaving: a database dump uploaded to a
//! cloud bucket or a VPS, an archive pushed over HTTPS or SSH. Whatever the
//! channel, the bytes from one internal host to one external host add up.
//!
//! # Model
//!
//! State per (tenant, internal host, external host), fed by
//! [`EventKind::FlowEnd`] events. Counted are the bytes the internal host
//! sent:
//!
//! - flows it *initiated* to an external host (`internal == (true,
//!   false)`): `bytes_to_server`;
//! - only with `include_responder` (default off), flows an external host
//!   initiated to it (`internal == (false, true)`): `bytes_to_client`. Off
//!   by default because every public service (a download server, an API
//!   answering a partner) sends most of its bytes as the responder, and
//!   would need an allow-list entry before the detector says anything
//!   useful; theft through a compromised exposed service is the case it
//!   adds.
//!
//! Bytes are counted when a flow ends, at the time of its end (the flow
//! table's timeouts bound how long a flow can last unseen), all in the
//! window where it ends. Windows are tumbling, `window_s` long, aligned to
//! the key's first flow end. The detector fires, at most once per window,
//! when the window's bytes reach
//!
//! - `threshold_bytes` (reason "threshold"), or
//! - once `baseline_windows` windows have been learned for the key,
//!   `max(baseline_min_bytes, baseline_factor × baseline)` (reason
//!   "baseline"), where the baseline is an exponentially weighted moving
//!   average (weight `baseline_alpha`) of the key's completed windows, empty
//!   windows counting as zero.
//!
//! Every completed window is learned, including those that fired, so a
//! lasting new level (a new backup job) stops firing the baseline path
//! after a few windows; the fixed threshold stays as the ceiling. A slow
//! ramp evades any baseline; the threshold is the backstop.
//!
//! # Defaults and why
//!
//! - `window_s` 3600: an hour holds a whole bulk transfer (1 GiB at a
//!   modest 2.4 Mbit/s) and matches how people reason about volumes.
//! - `threshold_bytes` 1 GiB (2^30): a server's API calls, logs and
//!   telemetry to any one external peer are megabytes per hour; a gibibyte
//!   to a single external address in an hour is a bulk transfer. Legitimate
//!   ones (backups and replication to outside addresses, software
//!   distribution uploads, video calls from workstations) are known
//!   destinations: allow-list them by CIDR.
//! - `baseline_factor` 10, `baseline_min_bytes` 256 MiB, `baseline_alpha`
//!   0.3, `baseline_windows` 3: a tenfold jump over what this host usually
//!   sends to this peer, and at least 256 MiB (so hosts that send little
//!   do not fire on every modest upload), after three hours of history. A
//!   weight of 0.3 halves an old window's influence in about two windows,
//!   following a changing but steady level within a few hours.
//! - `idle_s` 86 400: a key (and its baseline) is forgotten after a day
//!   without flows.
//! - `max_entries` 65 536 keys (tenants together), about 20 MiB; at the cap
//!   the least recently touched key goes (counted in
//!   [`Counters::evicted`]) with its baseline. Ports are listed up to
//!   [`MAX_LISTED`] per key and window (the `port_count` then reads "at
//!   least").
//!
//! # Re-arm
//!
//! A key fires at most once per window and not again in the next window if
//! the condition holds there too: it re-arms after a window that stayed
//! under the limit (or an empty window). A steady transfer above the
//! threshold is reported once, at its start.

use std::net::IpAddr;

use mirador_wire::Timestamp;

use crate::bounded::Bounded;
use crate::{
    Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, MAX_LISTED, PerTenant,
    Value, secs_to_ns,
};

const MSG_THRESHOLD: &str =
    "MIRADOR exfiltration: an internal host sent a large volume to one external host";
const MSG_BASELINE: &str =
    "MIRADOR exfiltration: an internal host sent far more than usual to one external host";

/// Settings of the exfiltration detector (one tenant's).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// On (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Window length in seconds (default 3600).
    #[serde(rename = "window")]
    pub window_s: u64,
    /// Bytes in a window that fire whatever the baseline (default 1 GiB;
    /// 0: off).
    pub threshold_bytes: u64,
    /// How many times the baseline fires (default 10; 0: the baseline path
    /// is off).
    pub baseline_factor: f64,
    /// The least limit the baseline path uses (default 256 MiB).
    pub baseline_min_bytes: u64,
    /// Weight of the newest window in the moving average (default 0.3).
    pub baseline_alpha: f64,
    /// Windows learned before the baseline is used (default 3).
    pub baseline_windows: u32,
    /// Also count bytes an internal host sends as the responder to an
    /// external initiator (default false).
    #[serde(deserialize_with = "crate::de_bool")]
    pub include_responder: bool,
    /// A key without flows for this long, in seconds, is forgotten
    /// (default 86 400).
    #[serde(rename = "idle")]
    pub idle_s: u64,
    /// Internal hosts (`sources`), external hosts (`destinations`) and
    /// responder ports left alone.
    pub allow: Allow,
    /// Most keys (default 65 536).
    pub max_entries: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_s: 3600,
            threshold_bytes: 1 << 30,
            baseline_factor: 10.0,
            baseline_min_bytes: 256 << 20,
            baseline_alpha: 0.3,
            baseline_windows: 3,
            include_responder: false,
            idle_s: 86_400,
            allow: Allow::default(),
            max_entries: 65_536,
        }
    }
}

/// (tenant, internal host, external host).
type Key = (u32, IpAddr, IpAddr);

const ROLE_INITIATOR: u8 = 1;
const ROLE_RESPONDER: u8 = 2;

#[derive(Debug)]
struct Volume {
    /// Start of the current window.
    start: Timestamp,
    bytes: u64,
    flows: u64,
    first: Timestamp,
    last: Timestamp,
    /// Responder ports, sorted, at most [`MAX_LISTED`].
    ports: Vec<u16>,
    /// The ports of the first flow, as (internal host's, external host's).
    flow: (u16, u16),
    proto: Option<u8>,
    protos_many: bool,
    roles: u8,
    /// Moving average of completed windows, and how many were learned.
    baseline: f64,
    learned: u32,
    hot: bool,
    armed: bool,
}

impl Volume {
    fn new(start: Timestamp) -> Self {
        Volume {
            start,
            bytes: 0,
            flows: 0,
            first: start,
            last: start,
            ports: Vec::new(),
            flow: (0, 0),
            proto: None,
            protos_many: false,
            roles: 0,
            baseline: 0.0,
            learned: 0,
            hot: false,
            armed: true,
        }
    }

    fn learn(&mut self, bytes: f64, alpha: f64) {
        self.baseline = if self.learned == 0 {
            bytes
        } else {
            alpha * bytes + (1.0 - alpha) * self.baseline
        };
        self.learned = self.learned.saturating_add(1);
    }

    /// Closes the windows that ended before `now`.
    fn roll(&mut self, now: Timestamp, window_ns: i64, alpha: f64) {
        let since = now.as_nanos().saturating_sub(self.start.as_nanos());
        if since < window_ns {
            return;
        }
        let k = since / window_ns;
        let alpha = alpha.clamp(0.0, 1.0);
        self.learn(self.bytes as f64, alpha);
        // Empty windows (at most a few dozen matter: the weight of the
        // rest is below 2^-52).
        for _ in 1..k.min(200) {
            self.learn(0.0, alpha);
        }
        self.armed = k >= 2 || !self.hot;
        self.hot = false;
        self.start = Timestamp::from_nanos(self.start.as_nanos().saturating_add(k * window_ns));
        self.bytes = 0;
        self.flows = 0;
        self.ports.clear();
        self.proto = None;
        self.protos_many = false;
        self.roles = 0;
    }
}

/// The exfiltration detector.
#[derive(Debug)]
pub struct Exfiltration {
    cfg: PerTenant<Config>,
    table: Bounded<Key, Volume>,
    max_idle_ns: i64,
    events: u64,
    detections: u64,
}

impl Exfiltration {
    /// A detector with these settings; the table cap is the default's
    /// `max_entries` (shared by all tenants).
    pub fn new(cfg: PerTenant<Config>) -> Self {
        let max_idle_s = std::iter::once(&cfg.default)
            .chain(cfg.tenants.iter().map(|(_, c)| c))
            .map(|c| c.idle_s.max(c.window_s).max(1))
            .max()
            .unwrap_or(1);
        Exfiltration {
            table: Bounded::new(cfg.default.max_entries),
            max_idle_ns: secs_to_ns(max_idle_s),
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
        let before = Timestamp::from_nanos(now.as_nanos().saturating_sub(self.max_idle_ns));
        self.table.expire(before, |_, _| {});
    }
}

impl Detector for Exfiltration {
    fn id(&self) -> DetectorId {
        DetectorId::Exfiltration
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        let EventKind::FlowEnd {
            src,
            dst,
            sport,
            dport,
            proto,
            bytes_to_server,
            bytes_to_client,
            start,
            internal,
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
        let (host, peer, bytes, role, ports) = match internal {
            (true, false) => (src, dst, bytes_to_server, ROLE_INITIATOR, (sport, dport)),
            (false, true) if cfg.include_responder => {
                (dst, src, bytes_to_client, ROLE_RESPONDER, (dport, sport))
            }
            _ => return,
        };
        if cfg.allow.allows(host, peer, Some(dport)) {
            return;
        }
        let window_ns = secs_to_ns(cfg.window_s.max(1));
        let v = self
            .table
            .touch((ev.tenant, host, peer), ev.ts, || Volume::new(ev.ts));
        v.roll(ev.ts, window_ns, cfg.baseline_alpha);

        if v.flows == 0 {
            v.first = start.min(ev.ts);
            v.flow = ports;
        } else {
            v.first = v.first.min(start);
        }
        v.flows += 1;
        v.bytes = v.bytes.saturating_add(bytes);
        v.last = ev.ts;
        v.roles |= role;
        if let Err(at) = v.ports.binary_search(&dport)
            && v.ports.len() < MAX_LISTED
        {
            v.ports.insert(at, dport);
        }
        match v.proto {
            None if !v.protos_many => v.proto = Some(proto),
            Some(p) if p != proto => {
                v.proto = None;
                v.protos_many = true;
            }
            _ => {}
        }

        if v.hot {
            return;
        }
        let by_threshold = cfg.threshold_bytes > 0 && v.bytes >= cfg.threshold_bytes;
        let baseline_limit = (cfg.baseline_factor > 0.0
            && v.learned >= cfg.baseline_windows.max(1))
        .then(|| (cfg.baseline_factor * v.baseline).max(cfg.baseline_min_bytes as f64));
        let by_baseline = baseline_limit.is_some_and(|l| v.bytes as f64 >= l);
        if !(by_threshold || by_baseline) {
            return;
        }
        v.hot = true;
        if !v.armed {
            return;
        }
        let (msg, reason) = if by_threshold {
            (MSG_THRESHOLD, "threshold")
        } else {
            (MSG_BASELINE, "baseline")
        };
        let role = match v.roles {
            ROLE_INITIATOR => "initiator",
            ROLE_RESPONDER => "responder",
            _ => "both",
        };
        let evidence = vec![
            ("reason", Value::Text(reason.to_string())),
            ("bytes", Value::Count(v.bytes)),
            ("flows", Value::Count(v.flows)),
            ("threshold", Value::Count(cfg.threshold_bytes)),
            ("baseline", Value::Count(v.baseline.round() as u64)),
            ("baseline_windows", Value::Count(u64::from(v.learned))),
            (
                "baseline_limit",
                Value::Count(baseline_limit.map_or(0, |l| l.round() as u64)),
            ),
            ("role", Value::Text(role.to_string())),
            ("ports", Value::Ports(v.ports.clone())),
            ("port_count", Value::Count(v.ports.len() as u64)),
            ("window", Value::Seconds(cfg.window_s as f64)),
            ("first_seen", Value::Time(v.first)),
            ("last_seen", Value::Time(v.last)),
        ];
        self.detections += 1;
        out.push(Detection {
            detector: DetectorId::Exfiltration,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg,
            severity: 2,
            src: Some(host),
            dst: Some(peer),
            proto: v.proto,
            flow: (v.flows == 1).then_some(v.flow),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
    const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 9));
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(n))
    }

    #[allow(clippy::too_many_arguments)]
    fn end(
        ts: i64,
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        up: u64,
        down: u64,
        internal: (bool, bool),
    ) -> Event<'static> {
        Event {
            ts: t(ts),
            tenant: 4,
            session: 2,
            bidirectional: true,
            kind: EventKind::FlowEnd {
                src,
                dst,
                sport,
                dport,
                proto: 6,
                pkts_to_server: up / 1400 + 1,
                pkts_to_client: down / 1400 + 1,
                bytes_to_server: up,
                bytes_to_client: down,
                start: t(ts - 30),
                established: true,
                internal,
            },
        }
    }

    fn up(ts: i64, bytes: u64) -> Event<'static> {
        end(ts, HOST, PEER, 50_000, 443, bytes, 10_000, (true, false))
    }

    fn run(d: &mut Exfiltration, evs: &[Event<'static>]) -> Vec<Detection> {
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
    fn a_gibibyte_in_an_hour_fires_with_its_evidence() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        // Eleven 100 MiB uploads over ten minutes; two on port 22.
        let mut evs: Vec<_> = (0..11).map(|i| up(10_000 + i * 60, 100 * MIB)).collect();
        evs[3] = end(10_180, HOST, PEER, 50_001, 22, 100 * MIB, 0, (true, false));
        evs[4] = end(10_240, HOST, PEER, 50_002, 22, 100 * MIB, 0, (true, false));
        let out = run(&mut d, &evs);
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        assert_eq!(x.detector, DetectorId::Exfiltration);
        assert_eq!(x.msg, MSG_THRESHOLD);
        assert_eq!((x.src, x.dst, x.proto), (Some(HOST), Some(PEER), Some(6)));
        assert_eq!(x.flow, None, "many flows");
        assert_eq!((x.tenant, x.session), (4, 2));
        assert_eq!(x.ts, t(10_600));
        assert_eq!(get(x, "reason"), &Value::Text("threshold".into()));
        assert_eq!(get(x, "bytes"), &Value::Count(1100 * MIB));
        assert_eq!(get(x, "flows"), &Value::Count(11));
        assert_eq!(get(x, "threshold"), &Value::Count(GIB));
        assert_eq!(get(x, "baseline_windows"), &Value::Count(0));
        assert_eq!(get(x, "role"), &Value::Text("initiator".into()));
        assert_eq!(get(x, "ports"), &Value::Ports(vec![22, 443]));
        assert_eq!(get(x, "port_count"), &Value::Count(2));
        assert_eq!(get(x, "window"), &Value::Seconds(3600.0));
        assert_eq!(get(x, "first_seen"), &Value::Time(t(10_000 - 30)));
        assert_eq!(get(x, "last_seen"), &Value::Time(t(10_600)));
        assert_eq!(d.counters().detections, 1);
    }

    #[test]
    fn one_big_flow_names_its_ports() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let out = run(&mut d, &[up(100, 2 * GIB)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].flow, Some((50_000, 443)));
    }

    #[test]
    fn near_misses_do_not_fire() {
        // One byte under the threshold in the window.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &[up(100, GIB / 2), up(200, GIB / 2 - 1)]).is_empty());
        // The threshold split over two windows.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        assert!(run(&mut d, &[up(100, 600 * MIB), up(3_800, 600 * MIB)]).is_empty());
        // The threshold to two external hosts.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let other = end(
            200,
            HOST,
            ip(0xc633_640a),
            1,
            443,
            600 * MIB,
            0,
            (true, false),
        );
        assert!(run(&mut d, &[up(100, 600 * MIB), other]).is_empty());
        // Inbound bytes (downloads) do not count.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        assert!(
            run(
                &mut d,
                &[end(100, HOST, PEER, 1, 443, 1000, 5 * GIB, (true, false))]
            )
            .is_empty()
        );
    }

    #[test]
    fn only_internal_to_external_counts_and_responders_on_request() {
        for internal in [(true, true), (false, false), (false, true)] {
            let mut d = Exfiltration::new(PerTenant::all(Config::default()));
            let e = end(100, HOST, PEER, 1, 443, 2 * GIB, 2 * GIB, internal);
            assert!(run(&mut d, &[e]).is_empty(), "{internal:?}");
        }
        // An external client downloading 2 GiB from an internal server.
        let cfg = Config {
            include_responder: true,
            ..Config::default()
        };
        let mut d = Exfiltration::new(PerTenant::all(cfg));
        let e = end(100, PEER, HOST, 40_000, 443, 1000, 2 * GIB, (false, true));
        let out = run(&mut d, &[e]);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].src, out[0].dst), (Some(HOST), Some(PEER)));
        assert_eq!(out[0].flow, Some((443, 40_000)));
        assert_eq!(get(&out[0], "role"), &Value::Text("responder".into()));
    }

    #[test]
    fn one_sided_mirrors_still_count() {
        // Byte volumes are not failures; a one-sided mirror sees the
        // outbound side in full.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let mut e = up(100, 2 * GIB);
        e.bidirectional = false;
        assert_eq!(run(&mut d, &[e]).len(), 1);
    }

    #[test]
    fn a_jump_over_the_baseline_fires() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let mut evs = Vec::new();
        // Five hours at 20 MiB an hour.
        for h in 0..5 {
            evs.push(up(h * 3600 + 100, 20 * MIB));
        }
        // Then 300 MiB in an hour: above max(256 MiB, 10 × 20 MiB).
        evs.push(up(5 * 3600 + 100, 150 * MIB));
        evs.push(up(5 * 3600 + 200, 150 * MIB));
        let out = run(&mut d, &evs);
        assert_eq!(out.len(), 1, "{out:?}");
        let x = &out[0];
        assert_eq!(x.msg, MSG_BASELINE);
        assert_eq!(get(x, "reason"), &Value::Text("baseline".into()));
        assert_eq!(get(x, "baseline"), &Value::Count(20 * MIB));
        assert_eq!(get(x, "baseline_windows"), &Value::Count(5));
        assert_eq!(get(x, "baseline_limit"), &Value::Count(256 * MIB));
        assert_eq!(get(x, "bytes"), &Value::Count(300 * MIB));

        // The same with a higher history: 40 MiB an hour, limit 400 MiB.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let mut evs: Vec<_> = (0..5).map(|h| up(h * 3600 + 100, 40 * MIB)).collect();
        evs.push(up(5 * 3600 + 100, 399 * MIB));
        assert!(run(&mut d, &evs).is_empty(), "just under 10 × baseline");
        let out = run(&mut d, &[up(5 * 3600 + 200, MIB)]);
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "baseline_limit"), &Value::Count(400 * MIB));
    }

    #[test]
    fn no_baseline_before_enough_windows() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        // Two windows of history, then 500 MiB: under the threshold, and
        // the baseline is not learned yet.
        let evs = [up(100, MIB), up(3700, MIB), up(7300, 500 * MIB)];
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn empty_windows_lower_the_baseline() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        // 100 MiB in the first hour, then silence for ten hours: the
        // baseline decays to about 3 MiB, the limit falls to its floor.
        let out = run(
            &mut d,
            &[up(100, 100 * MIB), up(11 * 3600 + 100, 300 * MIB)],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "baseline_windows"), &Value::Count(11));
        assert_eq!(get(&out[0], "baseline_limit"), &Value::Count(256 * MIB));
    }

    #[test]
    fn rearms_after_a_window_under_the_limit() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        let mut out = Vec::new();
        // Hours 0, 1, 2: 2 GiB each: one detection.
        for h in 0..3 {
            d.on_event(&up(h * 3600 + 100, 2 * GIB), &mut out);
        }
        assert_eq!(out.len(), 1);
        // Hour 3: 1 MiB (cleared); hour 4: 2 GiB again: a second one.
        d.on_event(&up(3 * 3600 + 100, MIB), &mut out);
        d.on_event(&up(4 * 3600 + 100, 2 * GIB), &mut out);
        assert_eq!(out.len(), 2);
        // Within hour 4, more: nothing.
        d.on_event(&up(4 * 3600 + 200, 2 * GIB), &mut out);
        assert_eq!(out.len(), 2);
        // Hour 6 after an empty hour 5: armed again.
        d.on_event(&up(6 * 3600 + 100, 2 * GIB), &mut out);
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn allow_lists_are_respected() {
        let go = |cfg: Config| {
            let mut d = Exfiltration::new(PerTenant::all(cfg));
            run(&mut d, &[up(100, 2 * GIB)]).len()
        };
        assert_eq!(go(Config::default()), 1);
        let mut c = Config::default();
        c.allow.destinations = vec!["198.51.100.0/24".parse().unwrap()];
        assert_eq!(go(c), 0);
        let mut c = Config::default();
        c.allow.sources = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(go(c), 0);
        let mut c = Config::default();
        c.allow.ports = vec![443];
        assert_eq!(go(c), 0);
        let c = Config {
            enabled: false,
            ..Config::default()
        };
        assert_eq!(go(c), 0);
        let c = Config {
            threshold_bytes: 0,
            ..Config::default()
        };
        assert_eq!(go(c), 0, "threshold off, no baseline yet");
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        run(&mut d, &[up(100, MIB)]);
        let mut out = Vec::new();
        d.advance(t(100 + 86_399), &mut out);
        assert_eq!(d.len(), 1);
        d.advance(t(100 + 86_401), &mut out);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn a_million_spoofed_hosts_stay_within_the_cap() {
        let cfg = Config {
            max_entries: 1000,
            ..Config::default()
        };
        let mut d = Exfiltration::new(PerTenant::all(cfg));
        let mut out = Vec::new();
        for i in 0u32..1_000_000 {
            let e = end(
                100,
                ip(0x0a00_0000 + i),
                PEER,
                1,
                443,
                1000,
                0,
                (true, false),
            );
            d.on_event(&e, &mut out);
        }
        assert!(out.is_empty());
        let c = d.counters();
        assert_eq!(c.entries, 1000);
        assert_eq!(c.evicted, 999_000);
        // Ports per key are capped too.
        let mut d = Exfiltration::new(PerTenant::all(Config::default()));
        for p in 0..1000u16 {
            d.on_event(
                &end(100, HOST, PEER, 1, p, 2 * MIB, 0, (true, false)),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "port_count"), &Value::Count(MAX_LISTED as u64));
        let Value::Ports(p) = get(&out[0], "ports") else {
            panic!()
        };
        assert_eq!(p.len(), MAX_LISTED);
    }

    proptest! {
        /// Replaying the same stream gives the same detections.
        #[test]
        fn replay_is_deterministic(
            evs in proptest::collection::vec((0u32..3, 0u32..3, 0u64..400, 0i64..2000, any::<bool>()), 0..300)
        ) {
            let cfg = Config { max_entries: 4, threshold_bytes: 1000, baseline_min_bytes: 100, include_responder: true, ..Config::default() };
            let go = || {
                let mut d = Exfiltration::new(PerTenant::all(cfg.clone()));
                let mut out = Vec::new();
                let mut ts = 0i64;
                for (h, p, b, dt, dir) in &evs {
                    ts += dt;
                    let e = if *dir {
                        end(ts, ip(0x0a00_0000 + h), ip(0xc633_6400 + p), 1, 443, *b, 0, (true, false))
                    } else {
                        end(ts, ip(0xc633_6400 + p), ip(0x0a00_0000 + h), 1, 443, 0, *b, (false, true))
                    };
                    d.on_event(&e, &mut out);
                }
                d.advance(t(ts + 1_000_000), &mut out);
                (out, d.counters())
            };
            prop_assert_eq!(go(), go());
        }
    }
}
