//! Counters: packet accounting (every packet in exactly one outcome) and
//! Suricata-style decoder counters. Plain `u64` fields, owned by one stage;
//! counted where each decision is made, never derived by subtraction.

use mirador_wire::{DecodeEvent, EncapKind, InvalidReason};

use crate::eve::Obj;

/// Why a packet was filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterReason {
    /// The session's Traffic Mirror Filter rejected it or matched no rule.
    SessionFilter,
    /// No declared session matched and `unknown-session: drop`.
    UnknownSession,
    /// Outer source not in `mirror.source-allow`.
    SourceNotAllowed,
    /// VNI not in `mirror.vni-allow`.
    VniNotAllowed,
    /// A copy of a packet already seen through another session (dedup).
    Duplicate,
}

impl FilterReason {
    /// Every reason.
    pub const ALL: [FilterReason; 5] = [
        FilterReason::SessionFilter,
        FilterReason::UnknownSession,
        FilterReason::SourceNotAllowed,
        FilterReason::VniNotAllowed,
        FilterReason::Duplicate,
    ];

    /// The name in `stats.accounting.filtered` and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterReason::SessionFilter => "session_filter",
            FilterReason::UnknownSession => "unknown_session",
            FilterReason::SourceNotAllowed => "source_not_allowed",
            FilterReason::VniNotAllowed => "vni_not_allowed",
            FilterReason::Duplicate => "duplicate",
        }
    }
}

/// Why a packet was dropped (live capture only; replay applies backpressure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A worker queue was full.
    QueueFull,
}

impl DropReason {
    /// Every reason.
    pub const ALL: [DropReason; 1] = [DropReason::QueueFull];

    /// The name in `stats.accounting.dropped`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
        }
    }
}

/// Why a packet is invalid: a decoder event, or (under
/// `checksum-validation: all`) a bad checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvalidCause {
    /// Decoding stopped.
    Decode(InvalidReason),
    /// Bad IPv4 header checksum.
    Ipv4Checksum,
    /// Bad TCP checksum.
    TcpChecksum,
    /// Bad UDP checksum.
    UdpChecksum,
    /// Bad ICMPv4 checksum.
    Icmpv4Checksum,
    /// Bad ICMPv6 checksum.
    Icmpv6Checksum,
}

const CHECKSUM_CAUSES: [(InvalidCause, &str); 5] = [
    (InvalidCause::Ipv4Checksum, "decoder.ipv4.invalid_checksum"),
    (InvalidCause::TcpChecksum, "decoder.tcp.invalid_checksum"),
    (InvalidCause::UdpChecksum, "decoder.udp.invalid_checksum"),
    (
        InvalidCause::Icmpv4Checksum,
        "decoder.icmpv4.invalid_checksum",
    ),
    (
        InvalidCause::Icmpv6Checksum,
        "decoder.icmpv6.invalid_checksum",
    ),
];

/// How many distinct invalid causes exist.
pub const INVALID_CAUSES: usize = InvalidReason::ALL.len() + CHECKSUM_CAUSES.len();

impl InvalidCause {
    /// Position in counter arrays.
    pub fn index(self) -> usize {
        match self {
            InvalidCause::Decode(r) => r.index(),
            other => {
                InvalidReason::ALL.len()
                    + CHECKSUM_CAUSES
                        .iter()
                        .position(|(c, _)| *c == other)
                        .unwrap_or(0)
            }
        }
    }

    /// The cause at `index`.
    pub fn from_index(index: usize) -> Option<InvalidCause> {
        if let Some(r) = InvalidReason::ALL.get(index) {
            return Some(InvalidCause::Decode(*r));
        }
        CHECKSUM_CAUSES
            .get(index - InvalidReason::ALL.len())
            .map(|(c, _)| *c)
    }

    /// The Suricata-style name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidCause::Decode(r) => r.as_str(),
            other => CHECKSUM_CAUSES
                .iter()
                .find(|(c, _)| *c == other)
                .map_or("", |(_, n)| n),
        }
    }
}

/// The accounting identity's terms: received = inspected + invalid +
/// filtered + dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounting {
    /// Packets read (replay) or datagrams received (live).
    pub received: u64,
    /// Decoded and handed to detection.
    pub inspected: u64,
    /// Of the inspected, how many were truncated.
    pub truncated: u64,
    /// Invalid, by [`InvalidCause::index`].
    pub invalid: [u64; INVALID_CAUSES],
    /// Filtered, in [`FilterReason::ALL`] order.
    pub filtered: [u64; 5],
    /// Dropped, in [`DropReason::ALL`] order.
    pub dropped: [u64; 1],
}

impl Default for Accounting {
    fn default() -> Self {
        Accounting {
            received: 0,
            inspected: 0,
            truncated: 0,
            invalid: [0; INVALID_CAUSES],
            filtered: [0; 5],
            dropped: [0; 1],
        }
    }
}

impl Accounting {
    /// Sum of invalid counts.
    pub fn invalid_total(&self) -> u64 {
        self.invalid.iter().sum()
    }

    /// Sum of filtered counts.
    pub fn filtered_total(&self) -> u64 {
        self.filtered.iter().sum()
    }

    /// Sum of dropped counts.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// Whether received equals the sum of the outcomes.
    pub fn balances(&self) -> bool {
        self.received
            == self.inspected + self.invalid_total() + self.filtered_total() + self.dropped_total()
    }

    /// Writes `stats.accounting` as DESIGN.md specifies: `{"received": N,
    /// "inspected": N, "truncated": N, "invalid": {reason: N}, "filtered":
    /// {reason: N}, "dropped": {reason: N}}`; zero reasons are omitted.
    pub fn write(&self, o: &mut Obj<'_>) {
        o.u64("received", self.received)
            .u64("inspected", self.inspected)
            .u64("truncated", self.truncated);
        o.obj("invalid", |m| {
            for (i, n) in self.invalid.iter().enumerate() {
                if *n > 0
                    && let Some(c) = InvalidCause::from_index(i)
                {
                    m.u64(c.as_str(), *n);
                }
            }
        });
        o.obj("filtered", |m| {
            for (r, n) in FilterReason::ALL.iter().zip(self.filtered) {
                if n > 0 {
                    m.u64(r.as_str(), n);
                }
            }
        });
        o.obj("dropped", |m| {
            for (r, n) in DropReason::ALL.iter().zip(self.dropped) {
                if n > 0 {
                    m.u64(r.as_str(), n);
                }
            }
        });
    }
}

/// Suricata-style `decoder.*` counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderCounters {
    /// Packets seen by the decoder.
    pub pkts: u64,
    /// Captured bytes seen by the decoder.
    pub bytes: u64,
    /// Largest captured packet.
    pub max_pkt_size: u64,
    /// Inner IPv4 packets.
    pub ipv4: u64,
    /// Inner IPv6 packets.
    pub ipv6: u64,
    /// Inner ARP packets.
    pub arp: u64,
    /// Inner frames of other link-layer protocols.
    pub other: u64,
    /// TCP.
    pub tcp: u64,
    /// UDP.
    pub udp: u64,
    /// ICMPv4.
    pub icmpv4: u64,
    /// ICMPv6.
    pub icmpv6: u64,
    /// Inner IP fragments.
    pub fragments: u64,
    /// One VLAN tag.
    pub vlan: u64,
    /// Two VLAN tags.
    pub vlan_qinq: u64,
    /// Three VLAN tags.
    pub vlan_qinqinq: u64,
    /// Per mirror encapsulation: vxlan, geneve, gwlb, erspan, gre.
    pub encap: [u64; 5],
    /// Non-fatal decoder events, by [`DecodeEvent::index`].
    pub events: [u64; DecodeEvent::ALL.len()],
    /// Invalid decoder events, by [`InvalidReason::index`].
    pub invalid_events: [u64; InvalidReason::ALL.len()],
    /// Bad IPv4 header checksums seen (whatever `checksum-validation` says).
    pub ipv4_checksum_bad: u64,
    /// Bad L4 checksums seen.
    pub l4_checksum_bad: u64,
    /// L4 checksums not checked (truncated packets, zero UDP checksum).
    pub l4_checksum_unchecked: u64,
}

impl Default for DecoderCounters {
    fn default() -> Self {
        DecoderCounters {
            pkts: 0,
            bytes: 0,
            max_pkt_size: 0,
            ipv4: 0,
            ipv6: 0,
            arp: 0,
            other: 0,
            tcp: 0,
            udp: 0,
            icmpv4: 0,
            icmpv6: 0,
            fragments: 0,
            vlan: 0,
            vlan_qinq: 0,
            vlan_qinqinq: 0,
            encap: [0; 5],
            events: [0; DecodeEvent::ALL.len()],
            invalid_events: [0; InvalidReason::ALL.len()],
            ipv4_checksum_bad: 0,
            l4_checksum_bad: 0,
            l4_checksum_unchecked: 0,
        }
    }
}

/// Position of an encapsulation in [`DecoderCounters::encap`].
pub fn encap_index(e: EncapKind) -> usize {
    match e {
        EncapKind::Vxlan => 0,
        EncapKind::Geneve => 1,
        EncapKind::Gwlb => 2,
        EncapKind::Erspan => 3,
        EncapKind::Gre => 4,
    }
}

const ENCAP_NAMES: [&str; 5] = ["vxlan", "geneve", "gwlb", "erspan", "gre"];

impl DecoderCounters {
    /// Writes the `decoder` object of a stats record.
    pub fn write(&self, o: &mut Obj<'_>, invalid_total: u64) {
        o.u64("pkts", self.pkts)
            .u64("bytes", self.bytes)
            .u64("invalid", invalid_total)
            .u64("ipv4", self.ipv4)
            .u64("ipv6", self.ipv6)
            .u64("arp", self.arp)
            .u64("other", self.other)
            .u64("tcp", self.tcp)
            .u64("udp", self.udp)
            .u64("icmpv4", self.icmpv4)
            .u64("icmpv6", self.icmpv6)
            .u64("fragments", self.fragments)
            .u64("vlan", self.vlan)
            .u64("vlan_qinq", self.vlan_qinq)
            .u64("vlan_qinqinq", self.vlan_qinqinq);
        for (name, n) in ENCAP_NAMES.iter().zip(self.encap) {
            o.u64(name, n);
        }
        o.u64(
            "avg_pkt_size",
            self.bytes.checked_div(self.pkts).unwrap_or(0),
        )
        .u64("max_pkt_size", self.max_pkt_size)
        .u64(
            "too_many_layers",
            self.invalid_events[InvalidReason::TooManyLayers.index()],
        );
        o.obj("checksum", |c| {
            c.u64("ipv4_bad", self.ipv4_checksum_bad)
                .u64("l4_bad", self.l4_checksum_bad)
                .u64("l4_unchecked", self.l4_checksum_unchecked);
        });
        // decoder.event.<layer>.<name>, as Suricata nests them.
        let mut events: Vec<(&str, &str, u64)> = Vec::new();
        for (e, n) in DecodeEvent::ALL.iter().zip(self.events) {
            if n > 0 {
                events.push(split_event(e.as_str(), n));
            }
        }
        for (r, n) in InvalidReason::ALL.iter().zip(self.invalid_events) {
            if n > 0 {
                events.push(split_event(r.as_str(), n));
            }
        }
        events.sort();
        o.obj("event", |ev| {
            let mut i = 0;
            while i < events.len() {
                let layer = events[i].0;
                let j = events[i..].iter().take_while(|e| e.0 == layer).count() + i;
                ev.obj(layer, |l| {
                    for (_, name, n) in &events[i..j] {
                        l.u64(name, *n);
                    }
                });
                i = j;
            }
        });
    }
}

/// `decoder.ipv4.trunc_pkt` → (`ipv4`, `trunc_pkt`).
fn split_event(full: &'static str, n: u64) -> (&'static str, &'static str, u64) {
    let rest = full.strip_prefix("decoder.").unwrap_or(full);
    match rest.split_once('.') {
        Some((layer, name)) => (layer, name, n),
        None => ("decoder", rest, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_causes_index_round_trip() {
        for i in 0..INVALID_CAUSES {
            let c = InvalidCause::from_index(i).unwrap();
            assert_eq!(c.index(), i);
            assert!(c.as_str().starts_with("decoder."), "{}", c.as_str());
        }
        assert!(InvalidCause::from_index(INVALID_CAUSES).is_none());
    }

    #[test]
    fn accounting_json_names_reasons() {
        let mut a = Accounting {
            received: 5,
            inspected: 2,
            truncated: 1,
            ..Default::default()
        };
        a.invalid[InvalidCause::Decode(InvalidReason::Ipv4TruncPkt).index()] = 1;
        a.filtered[0] = 1;
        a.dropped[0] = 1;
        assert!(a.balances());
        let mut v = Vec::new();
        let mut o = Obj::new(&mut v);
        a.write(&mut o);
        o.close();
        let j: serde_json::Value = serde_json::from_slice(&v).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"received": 5, "inspected": 2, "truncated": 1,
                "invalid": {"decoder.ipv4.trunc_pkt": 1},
                "filtered": {"session_filter": 1}, "dropped": {"queue_full": 1}})
        );
    }
}
