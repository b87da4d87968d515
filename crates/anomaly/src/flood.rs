//! Floods toward one host: SYN floods, half-open exhaustion, SYN-ACK
//! reflection.
//!
//! Three detectors, each keyed by (tenant, destination host):
//!
//! - [`SynFlood`] (`syn-flood`): TCP connections opened by a SYN toward one
//!   host at a high rate from many sources. A SYN rate is visible on a
//!   one-sided mirror, so it counts whatever [`Event::bidirectional`] says.
//! - [`HalfOpen`] (`half-open`): connections toward one host left half-open:
//!   the SYN got no SYN-ACK within a timeout, or got one but the handshake
//!   never completed. This counts failures, so only where both directions
//!   are seen.
//! - [`Reflection`] (`reflection`): SYN-ACKs arriving at one host for SYNs it
//!   never sent, from many answering hosts: someone sends SYNs with the
//!   victim's address to many servers (reflectors), and their SYN-ACKs (and
//!   retransmissions of them) converge on the victim. A one-sided mirror
//!   also shows SYN-ACKs without their SYNs, so only where both directions
//!   are seen.
//!
//! # Model
//!
//! A SYN flood fills a server's backlog of half-open connections (RFC 4987,
//! "TCP SYN Flooding Attacks and Common Mitigations"). Network-side detection
//! has long compared SYNs with what should follow them: Wang, Zhang and Shin
//! ("Detecting SYN flooding attacks", INFOCOM 2002) pair SYNs with FINs and
//! RSTs under a CUSUM test; Thing, Sloman and Dulay ("Enhanced TCP SYN attack
//! detection", 2008) argue SYN against SYN-ACK pairs are the more reliable.
//! SYN-ACKs for no SYN are what Moore, Voelker and Savage called backscatter
//! ("Inferring Internet Denial-of-Service Activity", USENIX Security 2001),
//! seen here at the victim of a reflection. Neither Suricata nor Snort 3 nor
//! Zeek ships these detectors.
//!
//! Each detector counts, per (tenant, destination), in a window that starts
//! at the first counted event and lasts `window` seconds (tumbling: the next
//! counted event after it starts the next window). A detection fires on the
//! event that first meets every threshold in a window, once per episode:
//! the detector re-arms only after a window ends without meeting the
//! thresholds, or after the destination was quiet for a whole window (its
//! state then expires). A flood lasting an hour gives one detection.
//!
//! A busy web server takes thousands of SYNs per second from thousands of
//! clients, legitimately. [`SynFlood`] tells them apart by the share of
//! handshakes that complete: where both directions are seen, flows toward
//! the host that ended established (`FlowEnd { established: true }`) are
//! counted in the same window, and the detector fires only if they are at
//! most `max-completed-ratio` of the SYNs; a spoofed flood completes nothing.
//! Flows end late (the flow table's timeouts), so the ratio compares the
//! SYNs of now with the handshakes of a little earlier; on a server in a
//! steady state they match. On a one-sided mirror no completion is seen and
//! only the rate and the sources decide: there the default rate (10,000
//! SYNs in 10 s, 1,000 a second, from at least 1,000 sources) is the guard,
//! and a busier server wants a higher `min-syns` for its tenant or its
//! address in `allow.destinations`. [`HalfOpen`] and [`Reflection`] apply
//! the same kind of ratio (half-open against completed, unsolicited
//! SYN-ACKs against answers to the host's own SYNs).
//!
//! Half-open tracking keeps every TCP connection opened by a SYN, keyed by
//! (tenant, source, source port, destination, destination port), until it
//! resolves: a SYN-ACK moves it to "answered"; a flow end that is
//! established counts it completed; a reject (RST) toward its source from
//! its destination port, or a flow end with packets from the responder but
//! no SYN-ACK, means the port was refused (a scan's business, not a
//! half-open connection); no SYN-ACK within `syn-timeout` counts it
//! half-open ("unanswered"), at the deadline, whenever the detector learns
//! of it, so results do not depend on how often time is advanced; an
//! answered connection whose flow ends not established counts half-open
//! ("unacked"). The event model has no "handshake completed" event, so an
//! answered connection stays pending until its flow ends (or `max-age`).
//!
//! # Bounded memory
//!
//! Every table is a [`Bounded`] map whose least recently touched entry goes
//! at the cap (counted in [`Counters::evicted`]):
//!
//! - destinations (each detector): `max-entries` (1,024), expired after
//!   the longest window without an event;
//! - per destination, distinct sources (or reflectors): an exact set of at
//!   most `max-sources` (`max-reflectors`; 1,024) addresses; beyond it,
//!   further addresses are not counted (the evidence gives `source_cap` so a
//!   count equal to it reads "at least"), and thresholds above the cap are
//!   read as the cap;
//! - per destination, ports: counts of at most [`TRACKED_PORTS`] distinct
//!   ports (further ports are not counted);
//! - [`HalfOpen`]'s pending connections (SYN sent; SYN-ACK seen) and recent
//!   rejects: `max-pending` (32,768) each.
//!
//! Measured at the caps with the defaults (10 million spoofed sources
//! spread over 1,024 destinations), each detector holds about 40 MB of heap
//! at its peak ([`Reflection`] about 60 MB with the detections it made).
//! Table-wide settings (`max-entries`, `max-pending`, `syn-timeout`,
//! `max-age`) are read from the default settings; the others per tenant.
//!
//! At the cap the least recently touched destination goes, so a flooded
//! host, touched by every SYN, stays; only decoys to more than
//! `max-entries` other hosts between two of its SYNs could push it out.
//! Without an event for a completed handshake, an answered connection stays
//! pending until its flow ends: on a host taking hundreds of connections a
//! second, long-lived ones crowd the SYN-ACK table and some half-open
//! connections are evicted before their flow ends, so "unacked" is counted
//! low, never high.
//!
//! # Defaults
//!
//! | detector | setting | default | why |
//! |---|---|---|---|
//! | syn-flood | `window` | 10 s | long enough to see a rate, short enough to report within seconds |
//! | syn-flood | `min-syns` | 10,000 | 1,000 SYNs a second: above the new-connection rate of all but the busiest hosts |
//! | syn-flood | `min-sources` | 1,000 | many sources (spoofed floods use millions); a single busy client is not a flood of this kind |
//! | syn-flood | `max-completed-ratio` | 0.5 | a busy server completes nearly every handshake; a flood completes none |
//! | half-open | `window` | 60 s | a SYN-RECEIVED entry lives about a minute in a Linux backlog (SYN-ACK retransmissions) |
//! | half-open | `syn-timeout` | 5 s | clients retransmit their SYN after 1 s and 3 s; no SYN-ACK in 5 s is a failure |
//! | half-open | `min-half-open` | 1,000 | well above a backlog of 128-512 entries filled in a minute |
//! | half-open | `min-sources` | 100 | many clients; one scanner's unanswered probes are the port-scan detector's |
//! | half-open | `min-ratio` | 0.5 | half-open outnumber completed; a busy server's few failures do not count |
//! | half-open | `max-age` | 300 s | an answered connection waits for its flow's end (flow timeouts of 60 s, SYN-ACK retransmissions for a minute) |
//! | reflection | `window` | 10 s | as for syn-flood |
//! | reflection | `min-synacks` | 1,000 | 100 a second; midstream starts and mirror loss give a handful |
//! | reflection | `min-reflectors` | 100 | the reflector pool of a reflection attack is thousands of servers |
//! | reflection | `min-unsolicited-ratio` | 0.5 | a busy client's lost SYNs give few unsolicited SYN-ACKs beside many answered ones |
//!
//! [`Bounded`]: crate::bounded::Bounded

use std::net::IpAddr;

use hashbrown::{HashMap, HashSet};
use mirador_wire::Timestamp;

use crate::bounded::Bounded;
use crate::{
    Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, MAX_LISTED, PerTenant,
    Value,
};

/// The IP protocol number of TCP.
const TCP: u8 = 6;

/// Most distinct ports counted per destination.
pub const TRACKED_PORTS: usize = 64;

type Hasher = foldhash::fast::RandomState;

const NANOS: i64 = 1_000_000_000;

fn secs_to_nanos(secs: u64) -> i64 {
    crate::secs_to_ns(secs.max(1))
}

fn minus(t: Timestamp, nanos: i64) -> Timestamp {
    Timestamp::from_nanos(t.as_nanos().saturating_sub(nanos))
}

fn plus(t: Timestamp, nanos: i64) -> Timestamp {
    Timestamp::from_nanos(t.as_nanos().saturating_add(nanos))
}

/// Distinct addresses, counted exactly up to a cap.
#[derive(Debug)]
struct Hosts {
    set: HashSet<IpAddr, Hasher>,
    cap: usize,
}

impl Hosts {
    fn new(cap: usize) -> Self {
        Hosts {
            set: HashSet::with_hasher(Hasher::default()),
            cap: cap.max(1),
        }
    }

    fn insert(&mut self, ip: IpAddr) {
        if self.set.len() < self.cap || self.set.contains(&ip) {
            self.set.insert(ip);
        }
    }

    fn len(&self) -> u64 {
        self.set.len() as u64
    }

    /// The lowest [`MAX_LISTED`] addresses, sorted.
    fn listed(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.set.iter().copied().collect();
        v.sort_unstable();
        v.truncate(MAX_LISTED);
        v
    }
}

/// Counts by port, for at most [`TRACKED_PORTS`] ports.
#[derive(Debug, Default)]
struct Ports {
    counts: HashMap<u16, u64, Hasher>,
}

impl Ports {
    fn add(&mut self, port: u16) {
        if let Some(c) = self.counts.get_mut(&port) {
            *c += 1;
        } else if self.counts.len() < TRACKED_PORTS {
            self.counts.insert(port, 1);
        }
    }

    fn len(&self) -> u64 {
        self.counts.len() as u64
    }

    /// The [`MAX_LISTED`] most counted ports (ties: lower first), sorted.
    fn top(&self) -> Vec<u16> {
        let mut v: Vec<(u16, u64)> = self.counts.iter().map(|(p, c)| (*p, *c)).collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(MAX_LISTED);
        let mut ports: Vec<u16> = v.into_iter().map(|(p, _)| p).collect();
        ports.sort_unstable();
        ports
    }
}

/// One destination's window: what is counted, what speaks against it, who.
#[derive(Debug)]
struct Tally {
    /// Window start.
    start: Timestamp,
    /// First and last counted event in the window.
    first: Timestamp,
    last: Timestamp,
    /// Counted events (SYNs, half-open connections, unsolicited SYN-ACKs).
    count: u64,
    /// Of `count`, the half-open ones never answered (half-open only).
    unanswered: u64,
    /// Counter-evidence (completed handshakes, solicited SYN-ACKs).
    other: u64,
    sources: Hosts,
    ports: Ports,
    /// Whether a detection may fire (no detection in this episode yet).
    armed: bool,
    /// Whether the thresholds were met in this window.
    met: bool,
}

impl Tally {
    fn new(now: Timestamp, max_sources: usize) -> Self {
        Tally {
            start: now,
            first: now,
            last: now,
            count: 0,
            unanswered: 0,
            other: 0,
            sources: Hosts::new(max_sources),
            ports: Ports::default(),
            armed: true,
            met: false,
        }
    }

    /// Moves to the window holding `now`; re-arms if the last window did
    /// not meet the thresholds, or nothing was counted for a whole window.
    fn roll(&mut self, now: Timestamp, window: i64) {
        if now.as_nanos().saturating_sub(self.start.as_nanos()) < window {
            return;
        }
        let quiet = now.as_nanos().saturating_sub(self.last.as_nanos()) >= window;
        if !self.met || quiet || self.count == 0 {
            self.armed = true;
        }
        self.start = now;
        self.first = now;
        self.last = now;
        self.count = 0;
        self.unanswered = 0;
        self.other = 0;
        self.sources.set.clear();
        self.ports.counts.clear();
        self.met = false;
    }

    /// Counts one event at `now` from `src` to `port`.
    fn count(&mut self, now: Timestamp, src: IpAddr, port: u16) {
        if self.count == 0 {
            self.first = now;
        }
        self.count += 1;
        self.last = now;
        self.sources.insert(src);
        self.ports.add(port);
    }

    /// Whether to fire now that the thresholds are `met` (or not).
    fn fire(&mut self, met: bool) -> bool {
        if !met {
            return false;
        }
        self.met = true;
        std::mem::replace(&mut self.armed, false)
    }

    /// Counted events per second over the window so far (at least a
    /// millisecond).
    fn rate(&self) -> f64 {
        let secs = (self.last.as_nanos() - self.first.as_nanos()) as f64 / NANOS as f64;
        self.count as f64 / secs.max(0.001)
    }

    /// Sources counted, and whether they reach `min` (read as the cap when
    /// above it).
    fn enough_sources(&self, min: u64) -> bool {
        self.sources.len() >= min.min(self.sources.cap as u64)
    }
}

fn detection(
    detector: DetectorId,
    ev_ts: Timestamp,
    tenant: u32,
    session: u32,
    msg: &'static str,
    dst: IpAddr,
    evidence: Vec<(&'static str, Value)>,
) -> Detection {
    Detection {
        detector,
        ts: ev_ts,
        tenant,
        session,
        msg,
        severity: 2,
        src: None,
        dst: Some(dst),
        proto: Some(TCP),
        flow: None,
        evidence,
    }
}

/// The longest window of any tenant, in nanoseconds.
fn horizon<C>(cfg: &PerTenant<C>, window: impl Fn(&C) -> u64) -> i64 {
    std::iter::once(&cfg.default)
        .chain(cfg.tenants.iter().map(|(_, c)| c))
        .map(|c| secs_to_nanos(window(c)))
        .max()
        .unwrap_or(NANOS)
}

// ---------------------------------------------------------------------------
// SYN flood

/// Settings of the [`SynFlood`] detector (`detectors.syn-flood`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct SynFloodConfig {
    /// `enabled`: on by default.
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// `min-syns`: SYN-opened connections toward one host in a window
    /// (10,000).
    pub min_syns: u64,
    /// `min-sources`: distinct sources among them (1,000).
    pub min_sources: u64,
    /// `max-completed-ratio`: most handshakes completed toward the host in
    /// the window, as a share of the SYNs (0.5); only measurable where both
    /// directions are seen.
    pub max_completed_ratio: f64,
    /// `window`: seconds (10).
    pub window: u64,
    /// `allow`: sources, destinations and destination ports not counted.
    pub allow: Allow,
    /// `max-entries`: destinations tracked (1,024; read from the default
    /// settings).
    pub max_entries: usize,
    /// `max-sources`: distinct sources counted per destination (1,024).
    pub max_sources: usize,
}

impl Default for SynFloodConfig {
    fn default() -> Self {
        SynFloodConfig {
            enabled: true,
            min_syns: 10_000,
            min_sources: 1_000,
            max_completed_ratio: 0.5,
            window: 10,
            allow: Allow::default(),
            max_entries: 1_024,
            max_sources: 1_024,
        }
    }
}

/// Many SYNs toward one host from many sources (sid 5).
///
/// Counts [`EventKind::FlowStart`] with `syn` over TCP, toward (tenant,
/// destination), whatever the direction coverage; completed handshakes
/// ([`EventKind::FlowEnd`] `established`, both directions seen) toward a
/// host already tracked count against it. Emits one [`Detection`] per
/// episode with `dst` the target, `proto` 6, no `src` or `flow`, and
/// evidence `syns`, `sources`, `source_cap`, `source_hosts`, `ports` (the
/// most targeted), `port_count`, `completed`, `window`, `first_seen`,
/// `last_seen`, `rate` (SYNs a second).
#[derive(Debug)]
pub struct SynFlood {
    cfg: PerTenant<SynFloodConfig>,
    dsts: Bounded<(u32, IpAddr), Tally>,
    horizon: i64,
    counters: Counters,
}

impl SynFlood {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<SynFloodConfig>) -> Self {
        let horizon = horizon(&cfg, |c| c.window);
        SynFlood {
            dsts: Bounded::new(cfg.default.max_entries),
            cfg,
            horizon,
            counters: Counters::default(),
        }
    }

    /// Destinations tracked now.
    pub fn tracked(&self) -> usize {
        self.dsts.len()
    }
}

impl Detector for SynFlood {
    fn id(&self) -> DetectorId {
        DetectorId::SynFlood
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.counters.events += 1;
        let now = ev.ts;
        self.dsts.expire(minus(now, self.horizon), |_, _| {});
        match ev.kind {
            EventKind::FlowStart {
                src,
                dst,
                dport,
                proto: TCP,
                syn: true,
                ..
            } => {
                let c = self.cfg.get(ev.tenant);
                if !c.enabled || c.allow.allows(src, dst, Some(dport)) {
                    return;
                }
                let t = self
                    .dsts
                    .touch((ev.tenant, dst), now, || Tally::new(now, c.max_sources));
                t.roll(now, secs_to_nanos(c.window));
                t.count(now, src, dport);
                let met = t.count >= c.min_syns
                    && t.enough_sources(c.min_sources)
                    && t.other as f64 <= c.max_completed_ratio * t.count as f64;
                if t.fire(met) {
                    self.counters.detections += 1;
                    out.push(detection(
                        DetectorId::SynFlood,
                        now,
                        ev.tenant,
                        ev.session,
                        "MIRADOR SYN flood: many sources opened TCP connections to one host at a high rate",
                        dst,
                        vec![
                            ("syns", Value::Count(t.count)),
                            ("sources", Value::Count(t.sources.len())),
                            ("source_cap", Value::Count(t.sources.cap as u64)),
                            ("source_hosts", Value::Hosts(t.sources.listed())),
                            ("ports", Value::Ports(t.ports.top())),
                            ("port_count", Value::Count(t.ports.len())),
                            ("completed", Value::Count(t.other)),
                            ("window", Value::Seconds(c.window as f64)),
                            ("first_seen", Value::Time(t.first)),
                            ("last_seen", Value::Time(t.last)),
                            ("rate", Value::Number(t.rate())),
                        ],
                    ));
                }
            }
            EventKind::FlowEnd {
                src,
                dst,
                dport,
                proto: TCP,
                established: true,
                ..
            } if ev.bidirectional => {
                let key = (ev.tenant, dst);
                if self.dsts.get(&key).is_none() {
                    return;
                }
                let c = self.cfg.get(ev.tenant);
                if !c.enabled || c.allow.allows(src, dst, Some(dport)) {
                    return;
                }
                let t = self.dsts.touch(key, now, || Tally::new(now, c.max_sources));
                t.roll(now, secs_to_nanos(c.window));
                t.other += 1;
            }
            _ => {}
        }
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.dsts.expire(minus(now, self.horizon), |_, _| {});
    }

    fn counters(&self) -> Counters {
        Counters {
            evicted: self.dsts.evicted(),
            entries: self.dsts.len() as u64,
            ..self.counters
        }
    }
}

// ---------------------------------------------------------------------------
// Half-open

/// Settings of the [`HalfOpen`] detector (`detectors.half-open`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HalfOpenConfig {
    /// `enabled`: on by default.
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// `min-half-open`: connections toward one host left half-open in a
    /// window (1,000).
    pub min_half_open: u64,
    /// `min-sources`: distinct sources among them (100).
    pub min_sources: u64,
    /// `min-ratio`: least share of half-open among half-open and completed
    /// connections toward the host in the window (0.5).
    pub min_ratio: f64,
    /// `window`: seconds (60).
    pub window: u64,
    /// `syn-timeout`: seconds a SYN waits for its SYN-ACK (5; read from the
    /// default settings).
    pub syn_timeout: u64,
    /// `max-age`: seconds an answered connection waits for its flow's end
    /// before it is forgotten uncounted (300; default settings).
    pub max_age: u64,
    /// `allow`: sources, destinations and destination ports not counted.
    pub allow: Allow,
    /// `max-entries`: destinations tracked (1,024; default settings).
    pub max_entries: usize,
    /// `max-pending`: pending connections tracked, and recent rejects,
    /// each (32,768; default settings).
    pub max_pending: usize,
    /// `max-sources`: distinct sources counted per destination (1,024).
    pub max_sources: usize,
}

impl Default for HalfOpenConfig {
    fn default() -> Self {
        HalfOpenConfig {
            enabled: true,
            min_half_open: 1_000,
            min_sources: 100,
            min_ratio: 0.5,
            window: 60,
            syn_timeout: 5,
            max_age: 300,
            allow: Allow::default(),
            max_entries: 1_024,
            max_pending: 32_768,
            max_sources: 1_024,
        }
    }
}

/// (tenant, initiator, initiator port, responder, responder port).
type Conn = (u32, IpAddr, u16, IpAddr, u16);

/// A connection waiting for its outcome.
#[derive(Debug, Clone, Copy)]
struct Pending {
    start: Timestamp,
    session: u32,
}

/// Many connections toward one host left half-open (sid 6).
///
/// Tracks TCP connections opened by a SYN ([`EventKind::FlowStart`] `syn`)
/// where both directions are seen, matches [`EventKind::SynAck`] (`syn_seen`),
/// [`EventKind::Reject`] and [`EventKind::FlowEnd`], and counts half-open
/// ones toward (tenant, destination) as the module docs describe. Emits one
/// [`Detection`] per episode with `dst` the target, `proto` 6, no `src` or
/// `flow`, and evidence `half_open`, `unanswered`, `unacked`, `completed`,
/// `sources`, `source_cap`, `source_hosts`, `ports`, `port_count`,
/// `window`, `syn_timeout`, `first_seen`, `last_seen`, `rate` (half-open a
/// second). A connection never answered counts at its deadline (SYN time
/// plus `syn-timeout`), which is also the detection's time when it
/// completes one, whether that is learnt from a later event or from
/// [`Detector::advance`].
#[derive(Debug)]
pub struct HalfOpen {
    cfg: PerTenant<HalfOpenConfig>,
    /// SYN seen, no answer yet.
    syn_sent: Bounded<Conn, Pending>,
    /// SYN-ACK seen, flow not ended.
    syn_acked: Bounded<Conn, Pending>,
    /// Latest reject by (tenant, rejecting host, initiator, port).
    rejects: Bounded<(u32, IpAddr, IpAddr, u16), Timestamp>,
    dsts: Bounded<(u32, IpAddr), Tally>,
    timeout: i64,
    max_age: i64,
    horizon: i64,
    scratch: Vec<(Conn, Pending)>,
    counters: Counters,
}

impl HalfOpen {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<HalfOpenConfig>) -> Self {
        let d = &cfg.default;
        HalfOpen {
            syn_sent: Bounded::new(d.max_pending),
            syn_acked: Bounded::new(d.max_pending),
            rejects: Bounded::new(d.max_pending),
            dsts: Bounded::new(d.max_entries),
            timeout: secs_to_nanos(d.syn_timeout),
            max_age: secs_to_nanos(d.max_age),
            horizon: horizon(&cfg, |c| c.window),
            cfg,
            scratch: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// Entries in (SYN sent, SYN-ACK seen, rejects, destinations).
    pub fn tracked(&self) -> (usize, usize, usize, usize) {
        (
            self.syn_sent.len(),
            self.syn_acked.len(),
            self.rejects.len(),
            self.dsts.len(),
        )
    }

    /// Resolves what is due before `now`: SYNs past their deadline, stale
    /// rejects, answered connections past `max-age`, quiet destinations.
    fn catch_up(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        let mut due = std::mem::take(&mut self.scratch);
        self.syn_sent
            .expire(minus(now, self.timeout), |k, p| due.push((k, p)));
        for (k, p) in due.drain(..) {
            let (tenant, src, _, dst, dport) = k;
            let refused = self
                .rejects
                .get(&(tenant, dst, src, dport))
                .is_some_and(|r| *r >= p.start);
            if !refused {
                self.half_open(k, plus(p.start, self.timeout), p.session, false, out);
            }
        }
        self.scratch = due;
        self.rejects.expire(minus(now, self.timeout), |_, _| {});
        self.syn_acked.expire(minus(now, self.max_age), |_, _| {});
        self.dsts.expire(minus(now, self.horizon), |_, _| {});
    }

    /// Counts `conn` half-open at `at`.
    fn half_open(
        &mut self,
        conn: Conn,
        at: Timestamp,
        session: u32,
        answered: bool,
        out: &mut Vec<Detection>,
    ) {
        let (tenant, src, _, dst, dport) = conn;
        let c = self.cfg.get(tenant);
        if !c.enabled {
            return;
        }
        let t = self
            .dsts
            .touch((tenant, dst), at, || Tally::new(at, c.max_sources));
        t.roll(at, secs_to_nanos(c.window));
        t.count(at, src, dport);
        if !answered {
            t.unanswered += 1;
        }
        let met = t.count >= c.min_half_open
            && t.enough_sources(c.min_sources)
            && t.count as f64 >= c.min_ratio * (t.count + t.other) as f64;
        if t.fire(met) {
            self.counters.detections += 1;
            let total = t.count + t.other;
            out.push(detection(
                DetectorId::HalfOpen,
                at,
                tenant,
                session,
                "MIRADOR half-open exhaustion: many connections to one host left half-open",
                dst,
                vec![
                    ("half_open", Value::Count(t.count)),
                    ("unanswered", Value::Count(t.unanswered)),
                    ("unacked", Value::Count(t.count - t.unanswered)),
                    ("completed", Value::Count(t.other)),
                    ("ratio", Value::Number(t.count as f64 / total as f64)),
                    ("sources", Value::Count(t.sources.len())),
                    ("source_cap", Value::Count(t.sources.cap as u64)),
                    ("source_hosts", Value::Hosts(t.sources.listed())),
                    ("ports", Value::Ports(t.ports.top())),
                    ("port_count", Value::Count(t.ports.len())),
                    ("window", Value::Seconds(c.window as f64)),
                    (
                        "syn_timeout",
                        Value::Seconds(self.timeout as f64 / NANOS as f64),
                    ),
                    ("first_seen", Value::Time(t.first)),
                    ("last_seen", Value::Time(t.last)),
                    ("rate", Value::Number(t.rate())),
                ],
            ));
        }
    }

    /// Counts a completed handshake toward a tracked destination.
    fn completed(&mut self, tenant: u32, dst: IpAddr, now: Timestamp) {
        let key = (tenant, dst);
        if self.dsts.get(&key).is_none() {
            return;
        }
        let c = self.cfg.get(tenant);
        let t = self.dsts.touch(key, now, || Tally::new(now, c.max_sources));
        t.roll(now, secs_to_nanos(c.window));
        t.other += 1;
    }
}

impl Detector for HalfOpen {
    fn id(&self) -> DetectorId {
        DetectorId::HalfOpen
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.counters.events += 1;
        let now = ev.ts;
        self.catch_up(now, out);
        if !ev.bidirectional {
            return;
        }
        let tenant = ev.tenant;
        match ev.kind {
            EventKind::FlowStart {
                src,
                dst,
                sport,
                dport,
                proto: TCP,
                syn: true,
                ..
            } => {
                let c = self.cfg.get(tenant);
                if !c.enabled || c.allow.allows(src, dst, Some(dport)) {
                    return;
                }
                let key = (tenant, src, sport, dst, dport);
                self.syn_acked.remove(&key);
                let p = Pending {
                    start: now,
                    session: ev.session,
                };
                *self.syn_sent.touch(key, now, || p) = p;
            }
            EventKind::SynAck {
                src,
                dst,
                sport,
                dport,
                syn_seen: true,
            } => {
                let key = (tenant, dst, dport, src, sport);
                if let Some(p) = self.syn_sent.remove(&key) {
                    *self.syn_acked.touch(key, now, || p) = p;
                }
            }
            EventKind::Reject { src, dst, port } => {
                *self.rejects.touch((tenant, src, dst, port), now, || now) = now;
            }
            EventKind::FlowEnd {
                src,
                dst,
                sport,
                dport,
                proto: TCP,
                established,
                pkts_to_client,
                ..
            } => {
                let key = (tenant, src, sport, dst, dport);
                if let Some(p) = self.syn_acked.remove(&key) {
                    if established {
                        self.completed(tenant, dst, now);
                    } else {
                        self.half_open(key, now, p.session, true, out);
                    }
                } else if established {
                    self.syn_sent.remove(&key);
                    let c = self.cfg.get(tenant);
                    if c.enabled && !c.allow.allows(src, dst, Some(dport)) {
                        self.completed(tenant, dst, now);
                    }
                } else if pkts_to_client > 0 {
                    // Answered, but not by a SYN-ACK: refused.
                    self.syn_sent.remove(&key);
                }
                // Never answered: it stays for its deadline.
            }
            _ => {}
        }
    }

    fn advance(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        self.catch_up(now, out);
    }

    fn counters(&self) -> Counters {
        Counters {
            evicted: self.syn_sent.evicted()
                + self.syn_acked.evicted()
                + self.rejects.evicted()
                + self.dsts.evicted(),
            entries: (self.syn_sent.len()
                + self.syn_acked.len()
                + self.rejects.len()
                + self.dsts.len()) as u64,
            ..self.counters
        }
    }
}

// ---------------------------------------------------------------------------
// Reflection

/// Settings of the [`Reflection`] detector (`detectors.reflection`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReflectionConfig {
    /// `enabled`: on by default.
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// `min-synacks`: SYN-ACKs for no SYN arriving at one host in a window
    /// (1,000).
    pub min_synacks: u64,
    /// `min-reflectors`: distinct hosts sending them (100).
    pub min_reflectors: u64,
    /// `min-unsolicited-ratio`: least share of SYN-ACKs for no SYN among
    /// all SYN-ACKs arriving at the host in the window (0.5).
    pub min_unsolicited_ratio: f64,
    /// `window`: seconds (10).
    pub window: u64,
    /// `allow`: reflectors (`sources`), victims (`destinations`) and
    /// reflector ports (`ports`, the port the SYN was sent to) not counted.
    pub allow: Allow,
    /// `max-entries`: victims tracked (1,024; default settings).
    pub max_entries: usize,
    /// `max-reflectors`: distinct reflectors counted per victim (1,024).
    pub max_reflectors: usize,
}

impl Default for ReflectionConfig {
    fn default() -> Self {
        ReflectionConfig {
            enabled: true,
            min_synacks: 1_000,
            min_reflectors: 100,
            min_unsolicited_ratio: 0.5,
            window: 10,
            allow: Allow::default(),
            max_entries: 1_024,
            max_reflectors: 1_024,
        }
    }
}

/// SYN-ACKs arriving at one host for SYNs it never sent (sid 7).
///
/// Counts [`EventKind::SynAck`] with `syn_seen: false` toward (tenant,
/// destination) where both directions are seen; SYN-ACKs answering the
/// host's own SYNs (`syn_seen: true`) count against it. Emits one
/// [`Detection`] per episode with `dst` the victim, `proto` 6, no `src` or
/// `flow`, and evidence `synacks`, `reflectors`, `reflector_cap`,
/// `reflector_hosts`, `ports` (the reflectors' ports, most used),
/// `port_count`, `solicited`, `window`, `first_seen`, `last_seen`, `rate`
/// (SYN-ACKs a second).
#[derive(Debug)]
pub struct Reflection {
    cfg: PerTenant<ReflectionConfig>,
    victims: Bounded<(u32, IpAddr), Tally>,
    horizon: i64,
    counters: Counters,
}

impl Reflection {
    /// A detector with these settings.
    pub fn new(cfg: PerTenant<ReflectionConfig>) -> Self {
        let horizon = horizon(&cfg, |c| c.window);
        Reflection {
            victims: Bounded::new(cfg.default.max_entries),
            cfg,
            horizon,
            counters: Counters::default(),
        }
    }

    /// Victims tracked now.
    pub fn tracked(&self) -> usize {
        self.victims.len()
    }
}

impl Detector for Reflection {
    fn id(&self) -> DetectorId {
        DetectorId::Reflection
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        self.counters.events += 1;
        let now = ev.ts;
        self.victims.expire(minus(now, self.horizon), |_, _| {});
        let EventKind::SynAck {
            src,
            dst,
            sport,
            syn_seen,
            ..
        } = ev.kind
        else {
            return;
        };
        if !ev.bidirectional {
            return;
        }
        let key = (ev.tenant, dst);
        if syn_seen && self.victims.get(&key).is_none() {
            return;
        }
        let c = self.cfg.get(ev.tenant);
        if !c.enabled || c.allow.allows(src, dst, Some(sport)) {
            return;
        }
        let t = self
            .victims
            .touch(key, now, || Tally::new(now, c.max_reflectors));
        t.roll(now, secs_to_nanos(c.window));
        if syn_seen {
            t.other += 1;
            return;
        }
        t.count(now, src, sport);
        let met = t.count >= c.min_synacks
            && t.enough_sources(c.min_reflectors)
            && t.count as f64 >= c.min_unsolicited_ratio * (t.count + t.other) as f64;
        if t.fire(met) {
            self.counters.detections += 1;
            out.push(detection(
                DetectorId::Reflection,
                now,
                ev.tenant,
                ev.session,
                "MIRADOR SYN-ACK reflection: many hosts answered SYNs one host never sent",
                dst,
                vec![
                    ("synacks", Value::Count(t.count)),
                    ("reflectors", Value::Count(t.sources.len())),
                    ("reflector_cap", Value::Count(t.sources.cap as u64)),
                    ("reflector_hosts", Value::Hosts(t.sources.listed())),
                    ("ports", Value::Ports(t.ports.top())),
                    ("port_count", Value::Count(t.ports.len())),
                    ("solicited", Value::Count(t.other)),
                    ("window", Value::Seconds(c.window as f64)),
                    ("first_seen", Value::Time(t.first)),
                    ("last_seen", Value::Time(t.last)),
                    ("rate", Value::Number(t.rate())),
                ],
            ));
        }
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.victims.expire(minus(now, self.horizon), |_, _| {});
    }

    fn counters(&self) -> Counters {
        Counters {
            evicted: self.victims.evicted(),
            entries: self.victims.len() as u64,
            ..self.counters
        }
    }
}

#[cfg(test)]
mod tests;
