//! The anomaly detectors' stage: events from the flow workers (and ARP from
//! the reader) in one global order, to the detectors of `mirador-anomaly`,
//! and their detections to EVE `alert` records.
//!
//! Like the host stage of thresholds and xbits, it runs on the reader's
//! thread and releases events in packet order ([`crate::ordered`]), so
//! replay gives the same detections whatever the worker count.
//!
//! Whether a session's traffic is seen in both directions (what the
//! failure-counting detectors need) is decided here too, in the same
//! order: a session is bidirectional when configured so, when it is not
//! encapsulated (a tap or SPAN port sees both directions), or from the
//! first packet of any of its flows that answers the other direction.

use std::net::IpAddr;
use std::sync::Arc;

use mirador_anomaly::{Detection, Detector, Event, EventKind, Value};
use mirador_engine::eve::{Obj, SessionLabel};
use mirador_wire::{Mirror, Timestamp};

use crate::ordered::{Key, Ordered};

/// Most events held for ordering (beyond, they are dropped and counted).
const MAX_HELD: usize = 1 << 20;

/// A fresh set of detectors.
pub type BuildDetectors = Arc<dyn Fn() -> Vec<Box<dyn Detector + Send>> + Send + Sync>;
/// `HOME_NET` of a tenant, by name.
pub type HomeNets = Arc<dyn Fn(&str) -> Vec<ipnet::IpNet> + Send + Sync>;
/// Whether a session is configured bidirectional.
pub type Bidirectional = Arc<dyn Fn(&SessionLabel) -> bool + Send + Sync>;

/// How the runtime builds and feeds the detectors.
#[derive(Clone)]
pub struct DetectorSetup {
    /// A fresh set of detectors.
    pub build: BuildDetectors,
    /// `HOME_NET` of a tenant (by name): what counts as internal.
    pub home: HomeNets,
    /// Sessions configured `bidirectional: true`, by tenant name and
    /// session display name.
    pub bidirectional: Bidirectional,
}

impl std::fmt::Debug for DetectorSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorSetup").finish_non_exhaustive()
    }
}

/// An event as it travels from a worker: owned.
#[derive(Debug, Clone)]
pub(crate) struct Owned {
    pub ts: Timestamp,
    pub tenant: u32,
    pub session: u32,
    pub kind: OwnedKind,
}

/// [`EventKind`] with an owned query name; and the note that a session
/// has shown both directions.
#[derive(Debug, Clone)]
pub(crate) enum OwnedKind {
    Plain(EventKind<'static>),
    Dns {
        client: IpAddr,
        server: IpAddr,
        qname: Box<[u8]>,
        qtype: u16,
    },
    /// A flow of the session carried packets both ways.
    BothWays,
}

/// Counters of the stage, and per detector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetectorCounters {
    /// Detections written.
    pub detections: u64,
    /// Events dropped because the ordering buffer was full.
    pub dropped: u64,
    /// Per detector (its name), its counters.
    pub per_detector: Vec<(&'static str, mirador_anomaly::Counters)>,
}

/// What the stage needs of a session for a detection's record.
#[derive(Debug, Clone)]
pub(crate) struct SessionInfo {
    pub label: SessionLabel,
    pub mirror: Option<Mirror>,
    pub bidirectional: bool,
}

pub(crate) struct DetectorStage {
    detectors: Vec<Box<dyn Detector + Send>>,
    bidirectional: Bidirectional,
    ordered: Ordered<Owned>,
    /// By session id: what records carry, and whether both ways are seen.
    sessions: Vec<Option<SessionInfo>>,
    out: Vec<Detection>,
    last_advance: Option<Timestamp>,
    seed: u16,
    pub detections: u64,
}

impl DetectorStage {
    /// A stage for `workers` workers plus the reader (ARP).
    pub fn new(setup: &DetectorSetup, workers: usize, seed: u16) -> DetectorStage {
        DetectorStage {
            detectors: (setup.build)(),
            bidirectional: setup.bidirectional.clone(),
            ordered: Ordered::new(workers + 1, MAX_HELD),
            sessions: Vec::new(),
            out: Vec::new(),
            last_advance: None,
            seed,
            detections: 0,
        }
    }

    /// Whether the configuration declares the session bidirectional.
    pub fn configured_bidirectional(&self, label: &SessionLabel) -> bool {
        (self.bidirectional)(label)
    }

    /// Registers a session (before its first event).
    pub fn session(&mut self, id: u32, info: SessionInfo) {
        let i = id as usize;
        if self.sessions.len() <= i {
            self.sessions.resize(i + 1, None);
        }
        if self.sessions[i].is_none() {
            self.sessions[i] = Some(info);
        }
    }

    /// Events of `worker` (or the reader: index `workers`), in its order,
    /// and its progress; writes what is released to `eve`.
    pub fn push(
        &mut self,
        worker: usize,
        events: Vec<(Key, Owned)>,
        done: u64,
        eve: &mut Vec<u8>,
    ) -> u64 {
        self.ordered.push(worker, events, done);
        self.drain(eve)
    }

    /// `worker` has ended.
    pub fn finish(&mut self, worker: usize, eve: &mut Vec<u8>) -> u64 {
        self.ordered.finish(worker);
        self.drain(eve)
    }

    /// The end of input: every window closes at `now`.
    pub fn close(&mut self, now: Timestamp, eve: &mut Vec<u8>) -> u64 {
        for d in &mut self.detectors {
            d.advance(now, &mut self.out);
        }
        self.write(eve)
    }

    pub fn counters(&self) -> DetectorCounters {
        DetectorCounters {
            detections: self.detections,
            dropped: self.ordered.dropped(),
            per_detector: self
                .detectors
                .iter()
                .map(|d| (d.id().name(), d.counters()))
                .collect(),
        }
    }

    fn drain(&mut self, eve: &mut Vec<u8>) -> u64 {
        let mut n = 0;
        let mut tail = Vec::new();
        while let Some((key, ev)) = self.ordered.pop_keyed() {
            if key.0 == crate::ordered::SHUTDOWN {
                tail.push(ev);
            } else {
                n += self.deliver(ev, eve);
            }
        }
        // Flows ended at shutdown, released only once every worker has
        // finished: which worker ended a flow (and so the key's tie
        // break) depends on the worker count, so they go in time order,
        // ties by their content.
        if !tail.is_empty() {
            tail.sort_by_cached_key(|e| (e.ts, e.tenant, e.session, format!("{:?}", e.kind)));
            for ev in tail {
                n += self.deliver(ev, eve);
            }
        }
        n
    }

    /// Hands one event to every detector; writes what they detect.
    fn deliver(&mut self, ev: Owned, eve: &mut Vec<u8>) -> u64 {
        // Time moves once per second of packet time.
        if self.last_advance.is_none_or(|l| ev.ts.secs() > l.secs()) {
            self.last_advance = Some(ev.ts);
            for d in &mut self.detectors {
                d.advance(ev.ts, &mut self.out);
            }
        }
        let info = self
            .sessions
            .get(ev.session as usize)
            .and_then(|s| s.as_ref());
        let bidirectional = info.is_some_and(|s| s.bidirectional);
        let kind = match &ev.kind {
            OwnedKind::BothWays => {
                if let Some(Some(s)) = self.sessions.get_mut(ev.session as usize) {
                    s.bidirectional = true;
                }
                return 0;
            }
            OwnedKind::Plain(k) => k.clone(),
            OwnedKind::Dns {
                client,
                server,
                qname,
                qtype,
            } => EventKind::DnsQuery {
                client: *client,
                server: *server,
                qname,
                qtype: *qtype,
            },
        };
        let e = Event {
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            bidirectional,
            kind,
        };
        for d in &mut self.detectors {
            d.on_event(&e, &mut self.out);
        }
        self.write(eve)
    }

    fn write(&mut self, eve: &mut Vec<u8>) -> u64 {
        let mut n = 0;
        for d in std::mem::take(&mut self.out) {
            let info = self
                .sessions
                .get(d.session as usize)
                .and_then(|s| s.as_ref());
            write_detection(eve, &d, info, self.seed);
            self.detections += 1;
            n += 1;
        }
        n
    }
}

/// An EVE `alert` record of a detection: Suricata's alert layout with gid
/// [`mirador_anomaly::GID`], the `evidence` object, and the `mirror`
/// object of the session; `community_id` when one flow is concerned.
pub(crate) fn write_detection(
    out: &mut Vec<u8>,
    d: &Detection,
    session: Option<&SessionInfo>,
    seed: u16,
) {
    let mut o = Obj::new(out);
    o.ts("timestamp", d.ts).str("event_type", "alert");
    if let Some(src) = d.src {
        o.ip("src_ip", src);
        if let Some((sp, _)) = d.flow {
            o.u64("src_port", u64::from(sp));
        }
    }
    if let Some(dst) = d.dst {
        o.ip("dest_ip", dst);
        if let Some((_, dp)) = d.flow {
            o.u64("dest_port", u64::from(dp));
        }
    }
    if let Some(p) = d.proto {
        o.proto("proto", p);
    }
    if let (Some(src), Some(dst), Some(p), Some((sp, dp))) = (d.src, d.dst, d.proto, d.flow) {
        let cid = mirador_wire::community_id::community_id_v1(seed, src, dst, p, sp, dp);
        o.str("community_id", cid.as_str());
    }
    o.obj("alert", |a| {
        a.str("action", "allowed")
            .u64("gid", u64::from(mirador_anomaly::GID))
            .u64("signature_id", u64::from(d.detector.sid()))
            .u64("rev", 1)
            .str("signature", d.msg)
            .str("category", "Detected anomaly")
            .u64("severity", u64::from(d.severity));
        a.obj("evidence", |e| {
            e.str("detector", d.detector.name());
            for (k, v) in &d.evidence {
                match v {
                    Value::Count(n) => {
                        e.u64(k, *n);
                    }
                    Value::Seconds(s) | Value::Number(s) => {
                        e.f64(k, *s, 3);
                    }
                    Value::Time(t) => {
                        e.ts(k, *t);
                    }
                    Value::Text(s) => {
                        e.str(k, s);
                    }
                    Value::Ports(p) => {
                        e.u64s(k, p.iter().map(|p| u64::from(*p)));
                    }
                    Value::Hosts(h) => {
                        e.ips(k, h.iter().copied());
                    }
                }
            }
        });
    });
    if let Some(s) = session
        && let Some(m) = &s.mirror
    {
        // `mirror_object` writes the `mirror` key itself.
        mirador_engine::eve::mirror_object(&mut o, m, &s.label);
    }
    o.close();
    out.push(b'\n');
}

/// The detectors `config` turns on, with their per-tenant settings (tenant
/// numbers are the order of `config.tenants`, as [`crate::RuntimeConfig`]
/// numbers them).
pub fn build(config: &mirador_config::Config) -> Vec<Box<dyn Detector + Send>> {
    use mirador_anomaly::PerTenant;
    use mirador_anomaly::scan::{arp_sweep, distributed_scan, host_sweep, port_scan};
    let d = &config.detectors;
    if !d.enabled {
        return Vec::new();
    }
    // (tenant number, its overrides), in `tenants` order.
    let tenants: Vec<(u32, &mirador_config::TenantDetectors)> = config
        .tenants
        .values()
        .enumerate()
        .map(|(i, t)| (u32::try_from(i).unwrap_or(u32::MAX), &t.detectors))
        .collect();
    fn per<C: Clone>(
        default: &C,
        tenants: &[(u32, &mirador_config::TenantDetectors)],
        pick: impl Fn(&mirador_config::TenantDetectors) -> Option<&C>,
    ) -> PerTenant<C> {
        PerTenant {
            default: default.clone(),
            tenants: tenants
                .iter()
                .filter_map(|(i, t)| pick(t).map(|c| (*i, c.clone())))
                .collect(),
        }
    }
    let mut v: Vec<Box<dyn Detector + Send>> = Vec::new();
    // A detector runs when it is on globally or for some tenant.
    macro_rules! add {
        ($field:ident, $new:path) => {
            if d.$field.enabled
                || tenants
                    .iter()
                    .any(|(_, t)| t.$field.as_ref().is_some_and(|c| c.enabled))
            {
                v.push(Box::new($new(per(&d.$field, &tenants, |t| {
                    t.$field.as_ref()
                }))));
            }
        };
    }
    add!(port_scan, port_scan::PortScan::new);
    add!(host_sweep, host_sweep::HostSweep::new);
    add!(arp_sweep, arp_sweep::ArpSweep::new);
    add!(distributed_scan, distributed_scan::DistributedScan::new);
    add!(syn_flood, mirador_anomaly::flood::SynFlood::new);
    add!(half_open, mirador_anomaly::flood::HalfOpen::new);
    add!(reflection, mirador_anomaly::flood::Reflection::new);
    add!(dns_tunnel, mirador_anomaly::dns_tunnel::DnsTunnel::new);
    add!(beaconing, mirador_anomaly::beacon::Beaconing::new);
    add!(exfiltration, mirador_anomaly::exfil::Exfiltration::new);
    add!(
        unexpected_connection,
        mirador_anomaly::unexpected::UnexpectedConnection::new
    );
    v
}
