//! mirador's anomaly detectors (pure): scans and sweeps, floods,
//! DNS tunnelling, beaconing, volume exfiltration, unexpected connections.
//!
//! Signatures find what someone wrote a rule for; these find the reasons to
//! mirror traffic at all. They run in the host-keyed stage (DESIGN.md,
//! "Time and determinism"): the flow workers turn packets and flows into
//! [`Event`]s, the stage hands them to the detectors in one global
//! event-time order whatever the worker count, and each detector answers
//! with [`Detection`]s, which the runtime writes as EVE `alert` records
//! (gid [`GID`], one sid per detector, an `evidence` object).
//!
//! Everything here is pure: time comes with each event ([`Event::ts`]) and
//! with [`Detector::advance`]; there is no I/O, clock or thread. Every
//! table is a [`bounded::Bounded`] with a configured cap, a counter of what
//! the cap refused or evicted, and a defined behaviour at the cap (the
//! oldest entry goes), so a flood of spoofed sources costs a fixed amount
//! of memory.
//!
//! Mirrored traffic is often one-sided (ingress-only filters, flows split
//! across sensors behind a load balancer, midstream starts). A detector
//! that counts *failures* (a SYN never answered, a SYN-ACK for no SYN)
//! only does so where [`Event::bidirectional`] says both directions are
//! seen.

use std::net::IpAddr;

use mirador_wire::Timestamp;
use serde::Deserialize;

pub mod beacon;
pub mod bounded;
pub mod dns_tunnel;
pub mod exfil;
pub mod flood;
pub mod scan;
pub mod unexpected;

/// The generator id of detector alerts (Suricata's `gid`): rules use 1,
/// Suricata's own decoder and stream events 1 too; 9000 is free.
pub const GID: u32 = 9000;

/// What the flow workers (and, for ARP, the reader stage) report.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Packet time of the packet that caused it.
    pub ts: Timestamp,
    /// The tenant (flow-key tenant number) the traffic belongs to.
    pub tenant: u32,
    /// The mirror session it came through (index into the runtime's
    /// session labels), for the `mirror` object of a detection.
    pub session: u32,
    /// Whether both directions of this tenant's traffic are seen: false for
    /// sessions known to be one-sided, true for non-encapsulated captures
    /// and sessions configured `bidirectional: true` (see the crate docs).
    pub bidirectional: bool,
    /// What happened.
    pub kind: EventKind<'a>,
}

/// The kinds of [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind<'a> {
    /// The first packet of a flow, from its initiator `src` (the client as
    /// the flow table decided it).
    FlowStart {
        /// Initiator.
        src: IpAddr,
        /// Responder.
        dst: IpAddr,
        /// Initiator's port (ICMP: 0).
        sport: u16,
        /// Responder's port (ICMP: the echo id is not a port; 0).
        dport: u16,
        /// IP protocol.
        proto: u8,
        /// A TCP SYN without ACK opened it.
        syn: bool,
        /// An ICMP (v4 or v6) echo request opened it.
        echo: bool,
        /// Whether (src, dst) are inside the tenant's `HOME_NET`.
        internal: (bool, bool),
    },
    /// A TCP SYN-ACK from `src` (the responder) to `dst`.
    SynAck {
        /// The host answering.
        src: IpAddr,
        /// The host answered.
        dst: IpAddr,
        /// Responder's port.
        sport: u16,
        /// Initiator's port.
        dport: u16,
        /// Whether the flow's SYN was seen (a SYN-ACK for no SYN is the mark
        /// of reflection, or of a one-sided mirror).
        syn_seen: bool,
    },
    /// A TCP RST from `src` before the connection was established (a
    /// rejected connection attempt, or a scan probe answered).
    Reject {
        /// The host rejecting.
        src: IpAddr,
        /// The initiator.
        dst: IpAddr,
        /// The rejected port (on `src`).
        port: u16,
    },
    /// A flow ended (timeout, eviction, shutdown).
    FlowEnd {
        /// Initiator.
        src: IpAddr,
        /// Responder.
        dst: IpAddr,
        /// Initiator's port.
        sport: u16,
        /// Responder's port.
        dport: u16,
        /// IP protocol.
        proto: u8,
        /// Packets from the initiator.
        pkts_to_server: u64,
        /// Packets from the responder.
        pkts_to_client: u64,
        /// IP bytes from the initiator.
        bytes_to_server: u64,
        /// IP bytes from the responder.
        bytes_to_client: u64,
        /// First packet time.
        start: Timestamp,
        /// TCP: the handshake completed.
        established: bool,
        /// Whether (src, dst) are inside the tenant's `HOME_NET`.
        internal: (bool, bool),
    },
    /// A DNS query (over UDP or TCP) from `client`.
    DnsQuery {
        /// The querier.
        client: IpAddr,
        /// The resolver asked.
        server: IpAddr,
        /// The name as sent (labels joined by dots, no trailing dot).
        qname: &'a [u8],
        /// The query type (1 A, 16 TXT, 10 NULL, ...).
        qtype: u16,
    },
    /// An ARP packet (request: `op` 1; reply: 2).
    Arp {
        /// Sender protocol address.
        sender: IpAddr,
        /// Target protocol address.
        target: IpAddr,
        /// 1 request, 2 reply.
        op: u16,
    },
}

/// Which detector spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetectorId {
    /// One source to many ports of one destination.
    PortScan,
    /// One source to one port on many destinations (TCP, UDP, ICMP echo).
    HostSweep,
    /// One sender asking ARP for many addresses.
    ArpSweep,
    /// Many sources to many ports of one destination, with rejects.
    DistributedScan,
    /// Many SYNs toward one destination.
    SynFlood,
    /// Many connections toward one destination left half-open.
    HalfOpen,
    /// SYN-ACKs arriving for SYNs never sent.
    Reflection,
    /// Long, high-entropy names under one domain at volume, or TXT/NULL at
    /// volume.
    DnsTunnel,
    /// Regular connections from one internal host to one external one.
    Beaconing,
    /// An internal host's outbound bytes to one external host above a
    /// threshold or its baseline.
    Exfiltration,
    /// A new flow on a port outside a session's allow-list.
    UnexpectedConnection,
}

impl DetectorId {
    /// Every detector, in sid order.
    pub const ALL: [DetectorId; 11] = [
        DetectorId::PortScan,
        DetectorId::HostSweep,
        DetectorId::ArpSweep,
        DetectorId::DistributedScan,
        DetectorId::SynFlood,
        DetectorId::HalfOpen,
        DetectorId::Reflection,
        DetectorId::DnsTunnel,
        DetectorId::Beaconing,
        DetectorId::Exfiltration,
        DetectorId::UnexpectedConnection,
    ];

    /// The name in config (`detectors.<name>`) and in metric labels.
    pub fn name(self) -> &'static str {
        match self {
            DetectorId::PortScan => "port-scan",
            DetectorId::HostSweep => "host-sweep",
            DetectorId::ArpSweep => "arp-sweep",
            DetectorId::DistributedScan => "distributed-scan",
            DetectorId::SynFlood => "syn-flood",
            DetectorId::HalfOpen => "half-open",
            DetectorId::Reflection => "reflection",
            DetectorId::DnsTunnel => "dns-tunnel",
            DetectorId::Beaconing => "beaconing",
            DetectorId::Exfiltration => "exfiltration",
            DetectorId::UnexpectedConnection => "unexpected-connection",
        }
    }

    /// The sid of its alerts (gid [`GID`]): 1 + its place in [`ALL`].
    ///
    /// [`ALL`]: DetectorId::ALL
    pub fn sid(self) -> u32 {
        1 + DetectorId::ALL
            .iter()
            .position(|d| *d == self)
            .map_or(0, |i| i as u32)
    }
}

/// A value of a detection's `evidence` object.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A count.
    Count(u64),
    /// Seconds (windows, periods, jitter).
    Seconds(f64),
    /// A ratio or score.
    Number(f64),
    /// A time.
    Time(Timestamp),
    /// Text (a domain, a protocol name).
    Text(String),
    /// Ports touched (at most [`MAX_LISTED`], sorted).
    Ports(Vec<u16>),
    /// Hosts touched (at most [`MAX_LISTED`], sorted).
    Hosts(Vec<IpAddr>),
}

/// Most ports or hosts listed in one evidence value (the count says how
/// many there were).
pub const MAX_LISTED: usize = 32;

/// What a detector found.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Which detector.
    pub detector: DetectorId,
    /// Time of the event that completed it.
    pub ts: Timestamp,
    /// Tenant.
    pub tenant: u32,
    /// Session of that event.
    pub session: u32,
    /// The alert's signature text (`alert.signature`).
    pub msg: &'static str,
    /// 1 (high) to 3 (low), as rule priorities.
    pub severity: u8,
    /// Source of the alert record (the scanner, the flooder's target's
    /// peer, ...), where one host is to blame.
    pub src: Option<IpAddr>,
    /// Destination, where one host is concerned.
    pub dst: Option<IpAddr>,
    /// IP protocol, where one applies.
    pub proto: Option<u8>,
    /// The single flow concerned, where there is one (ports for its
    /// `community_id`): (src port, dst port).
    pub flow: Option<(u16, u16)>,
    /// The `evidence` object, in order.
    pub evidence: Vec<(&'static str, Value)>,
}

/// Settings by tenant: a default, and overrides for some tenants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerTenant<C> {
    /// For tenants without an override.
    pub default: C,
    /// Overrides, by tenant number.
    pub tenants: Vec<(u32, C)>,
}

impl<C> PerTenant<C> {
    /// The same settings for every tenant.
    pub fn all(default: C) -> Self {
        PerTenant {
            default,
            tenants: Vec::new(),
        }
    }

    /// The settings of `tenant`.
    pub fn get(&self, tenant: u32) -> &C {
        self.tenants
            .iter()
            .find(|(t, _)| *t == tenant)
            .map_or(&self.default, |(_, c)| c)
    }
}

/// Traffic a detector leaves alone: sources, destinations (CIDRs) and
/// ports (the destination port of a flow; for a sweep, the port swept).
/// In config: `allow: {sources: [CIDR...], destinations: [...], ports: [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Allow {
    /// Sources never counted (scanners you run, monitoring).
    pub sources: Vec<ipnet::IpNet>,
    /// Destinations never counted.
    pub destinations: Vec<ipnet::IpNet>,
    /// Destination ports never counted.
    pub ports: Vec<u16>,
}

impl Allow {
    /// Whether a flow from `src` to `dst`:`port` is allowed (not counted).
    pub fn allows(&self, src: IpAddr, dst: IpAddr, port: Option<u16>) -> bool {
        self.sources.iter().any(|n| n.contains(&src))
            || self.destinations.iter().any(|n| n.contains(&dst))
            || port.is_some_and(|p| self.ports.contains(&p))
    }
}

/// `s` seconds in nanoseconds (the unit of [`Timestamp`]), saturating.
pub(crate) fn secs_to_ns(s: u64) -> i64 {
    i64::try_from(s)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000_000)
}

/// Deserializes a yes/no value as Suricata's configs write it (`yes`,
/// `no`, `true`, `false`, `on`, `off`, or a YAML boolean).
pub fn de_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Ok(true),
            "no" | "false" | "off" | "0" => Ok(false),
            _ => Err(serde::de::Error::custom(format_args!(
                "invalid value '{t}', expected yes or no"
            ))),
        },
    }
}

/// Counters every detector keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events it looked at.
    pub events: u64,
    /// Detections it made.
    pub detections: u64,
    /// Table entries refused or evicted at its cap.
    pub evicted: u64,
    /// Entries in its tables now.
    pub entries: u64,
}

impl Counters {
    /// The counters of a detector whose state is one table.
    pub fn of<K: std::hash::Hash + Eq + Clone, V>(
        events: u64,
        detections: u64,
        table: &bounded::Bounded<K, V>,
    ) -> Counters {
        Counters {
            events,
            detections,
            evicted: table.evicted(),
            entries: table.len() as u64,
        }
    }
}

/// One detector.
pub trait Detector {
    /// Which one.
    fn id(&self) -> DetectorId;
    /// Takes one event (events come in event-time order).
    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>);
    /// Time moved to `now` with no event (windows close, state expires).
    fn advance(&mut self, now: Timestamp, out: &mut Vec<Detection>);
    /// Its counters.
    fn counters(&self) -> Counters;
}
