//! The reader stage: decode, allow-lists, session, filter, accounting.
//!
//! Every packet handed to [`Ingest::process`] ends in exactly one outcome,
//! counted at the point where it is decided:
//!
//! | order | decision | outcome |
//! |---|---|---|
//! | 1 | outer source not in `source-allow` | filtered `source_not_allowed` |
//! | 2 | VNI not in `vni-allow` | filtered `vni_not_allowed` |
//! | 3 | no session and `unknown-session: drop` | filtered `unknown_session` |
//! | 4 | nothing inspectable after decoding | invalid, by decoder event (and an EVE `anomaly` record) |
//! | 5 | bad checksum under `checksum-validation: all` | invalid `decoder.<proto>.invalid_checksum` |
//! | 6 | session filter rejects or matches no rule | filtered `session_filter` (per session and rule) |
//! | 7 | a copy of a packet already received from another source of the tenant | filtered `duplicate` |
//! | 8 | otherwise | inspected (and `truncated` when bytes were cut) |
//!
//! Packets whose inner addresses belong to neither side of the session's
//! ENI have no filter direction: they are inspected and counted as
//! `no_direction` on the session, since guessing a direction would apply
//! the wrong rule list.

use std::net::IpAddr;

use mirador_config::{Direction, FilterVerdict};
use mirador_flow::dedup::{Dedup, DedupConfig, DedupCounters, DedupKey, Verdict as DedupVerdict};
use mirador_wire::{
    DecodeOptions, Decoded, Inner, Invalid, Mirror, Network, Timestamp, Transport, decode,
};

use crate::eve;
use crate::sessions::{Attribution, Session, SessionId, SessionTable, packet_key};
use crate::stats::{Accounting, DecoderCounters, FilterReason, InvalidCause, encap_index};

/// Per-session counters (`stats.mirror.<session>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Packets attributed to the session.
    pub received: u64,
    /// Captured bytes of those packets.
    pub bytes: u64,
    /// Inspected.
    pub inspected: u64,
    /// Inspected and truncated.
    pub truncated: u64,
    /// Invalid.
    pub invalid: u64,
    /// Filtered by the session filter because a rule rejected them, per
    /// (direction, rule number).
    pub rejected_by_rule: Vec<(Direction, u16, u64)>,
    /// Filtered because no rule of their direction matched, per direction
    /// (ingress, egress).
    pub no_match: [u64; 2],
    /// Inspected with no filter direction (neither address is the ENI's).
    pub no_direction: u64,
    /// Filtered because the packet is not IP, so no filter rule can match.
    pub non_ip_no_match: u64,
    /// Filtered as a copy of a packet already received from another
    /// source (two-ENI dedup).
    pub duplicates: u64,
    /// Accepted by a filter rule, per (direction, rule number).
    pub accepted_by_rule: Vec<(Direction, u16, u64)>,
}

impl SessionCounters {
    fn bump_rule(list: &mut Vec<(Direction, u16, u64)>, dir: Direction, rule: u16) {
        // Filters hold at most a few rules (AWS allows 10 per filter), so a
        // linear scan beats a map; entries are created once per rule.
        match list.iter_mut().find(|(d, r, _)| *d == dir && *r == rule) {
            Some(e) => e.2 += 1,
            None => list.push((dir, rule, 1)),
        }
    }

    /// Filtered by the session filter, all rules and no-match together.
    pub fn filtered(&self) -> u64 {
        self.rejected_by_rule.iter().map(|e| e.2).sum::<u64>()
            + self.no_match.iter().sum::<u64>()
            + self.non_ip_no_match
            + self.duplicates
    }
}

/// What a session's filter makes of a packet (pure; counted by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterOutcome {
    /// The session has no filter.
    NoFilter,
    /// Neither address is the ENI's: the filter cannot apply; inspected.
    NoDirection,
    /// Not IP: no filter rule can match it, so AWS would not mirror it.
    NonIp,
    /// The rules of this direction decided.
    Verdict(Direction, FilterVerdict),
}

impl FilterOutcome {
    fn passes(self) -> bool {
        match self {
            FilterOutcome::NoFilter | FilterOutcome::NoDirection => true,
            FilterOutcome::NonIp => false,
            FilterOutcome::Verdict(_, v) => v.is_mirrored(),
        }
    }
}

fn filter_outcome(session: &Session, packet: &Inner<'_>) -> FilterOutcome {
    let Some(filter) = &session.spec.filter else {
        return FilterOutcome::NoFilter;
    };
    let Some(ft) = packet.five_tuple() else {
        return FilterOutcome::NonIp;
    };
    let Some(dir) = session
        .spec
        .declared
        .as_ref()
        .and_then(|d| d.direction(ft.src, ft.dst))
    else {
        return FilterOutcome::NoDirection;
    };
    // Port ranges only match packets whose ports were read.
    let (sp, dp) = match packet.transport {
        Transport::Tcp { .. } | Transport::Udp { .. } => (Some(ft.src_port), Some(ft.dst_port)),
        _ => (None, None),
    };
    FilterOutcome::Verdict(dir, filter.evaluate(dir, ft.proto, ft.src, ft.dst, sp, dp))
}

/// Settings of the reader stage, from the configuration.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Decoder settings.
    pub decode: DecodeOptions,
    /// `checksum-validation: all`: bad checksums make a packet invalid.
    pub checksum_validation: bool,
    /// `mirror.source-allow`; empty = every source.
    pub source_allow: Vec<ipnet::IpNet>,
    /// `mirror.vni-allow` as inclusive ranges; empty = every VNI.
    pub vni_allow: Vec<(u32, u32)>,
    /// Two-ENI dedup.
    pub dedup: DedupConfig,
}

/// What happened to a packet.
// Returned by value once per packet and never stored: boxing the large
// variant would allocate per packet instead.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// Handed on for inspection.
    Inspect {
        /// Its session.
        session: SessionId,
        /// The mirror encapsulation, if any.
        mirror: Option<Mirror>,
        /// The decoded inner packet.
        packet: Inner<'a>,
    },
    /// Invalid (an anomaly record was written).
    Invalid(InvalidCause),
    /// Filtered.
    Filtered(FilterReason),
    /// Filtered as `duplicate`: another source's copy of a packet already
    /// inspected (two-ENI dedup). Handed back because a copy that holds
    /// more bytes than the one kept (`fuller`) can still fill what
    /// truncation cut from the kept one, before reassembly delivers it.
    Duplicate {
        /// Its session.
        session: SessionId,
        /// The mirror encapsulation, if any.
        mirror: Option<Mirror>,
        /// The decoded inner packet.
        packet: Inner<'a>,
        /// It holds more captured bytes than the copy kept.
        fuller: bool,
    },
}

/// The reader stage of one input: pure, no I/O; EVE records go to a byte
/// buffer the caller drains.
#[derive(Debug)]
pub struct Ingest {
    opts: IngestOptions,
    sessions: SessionTable,
    accounting: Accounting,
    decoder: DecoderCounters,
    dedup: Dedup,
    /// Duplicates that held more captured bytes than the copy kept (their
    /// bytes are lent to reassembly; see [`Verdict::Duplicate`]).
    dedup_fuller_dropped: u64,
    /// The mirror encapsulation of the last packet processed, whatever its
    /// outcome (for flow records of the tunnel transport).
    last_mirror: Option<Mirror>,
}

impl Ingest {
    /// A stage with these options and sessions.
    pub fn new(opts: IngestOptions, sessions: SessionTable) -> Self {
        Ingest {
            dedup: Dedup::new(opts.dedup),
            opts,
            sessions,
            accounting: Accounting::default(),
            decoder: Default::default(),
            dedup_fuller_dropped: 0,
            last_mirror: None,
        }
    }

    /// Two-ENI dedup counters, and how many duplicates were fuller than
    /// the copy kept.
    pub fn dedup(&self) -> (DedupCounters, u64) {
        (self.dedup.counters(), self.dedup_fuller_dropped)
    }

    /// The settings it runs with.
    pub fn options(&self) -> &IngestOptions {
        &self.opts
    }

    /// The mirror encapsulation of the last packet [`process`](Self::process)
    /// decoded, whatever its outcome (invalid, filtered or inspected):
    /// every such packet travelled the tunnel from the source ENI.
    pub fn last_mirror(&self) -> Option<&Mirror> {
        self.last_mirror.as_ref()
    }

    /// The accounting so far.
    pub fn accounting(&self) -> &Accounting {
        &self.accounting
    }

    /// Counts `n` datagrams that a live receiver dropped before this stage
    /// saw them (its queue to this stage was full): they were received,
    /// and dropped for `reason`. The receiver decides and counts them; this
    /// carries its count into the identity.
    pub fn add_dropped(&mut self, reason: crate::stats::DropReason, n: u64) {
        self.accounting.received += n;
        let i = crate::stats::DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        if let Some(d) = self.accounting.dropped.get_mut(i) {
            *d += n;
        }
    }

    /// Decoder counters so far.
    pub fn decoder(&self) -> &DecoderCounters {
        &self.decoder
    }

    /// The sessions and their counters.
    pub fn sessions(&self) -> &SessionTable {
        &self.sessions
    }

    /// Processes one captured frame. `pcap_cnt` is its 1-based number in
    /// the input (0 for live traffic); anomaly records are appended to `eve`.
    pub fn process<'a>(
        &mut self,
        ts: Timestamp,
        linktype: u32,
        frame: &'a [u8],
        pcap_cnt: u64,
        eve: &mut Vec<u8>,
    ) -> Verdict<'a> {
        self.accounting.received += 1;
        let d = decode(linktype, frame, &self.opts.decode);
        self.last_mirror = d.mirror;
        self.count_decoder(&d, frame.len());
        let verdict = self.decide(ts, linktype, &d, frame.len(), pcap_cnt, eve);
        match verdict {
            Verdict::Inspect {
                session, packet, ..
            } => {
                self.accounting.inspected += 1;
                let c = &mut self.sessions.get_mut(session).counters;
                c.inspected += 1;
                if packet.truncated {
                    self.accounting.truncated += 1;
                    c.truncated += 1;
                }
            }
            Verdict::Invalid(cause) => self.accounting.invalid[cause.index()] += 1,
            Verdict::Duplicate { .. } => {
                self.accounting.filtered[FilterReason::ALL
                    .iter()
                    .position(|r| *r == FilterReason::Duplicate)
                    .unwrap_or(0)] += 1
            }
            Verdict::Filtered(reason) => {
                self.accounting.filtered[FilterReason::ALL
                    .iter()
                    .position(|r| *r == reason)
                    .unwrap_or(0)] += 1
            }
        }
        verdict
    }

    #[allow(clippy::too_many_arguments)]
    fn decide<'a>(
        &mut self,
        ts: Timestamp,
        linktype: u32,
        d: &Decoded<'a>,
        len: usize,
        pcap_cnt: u64,
        eve: &mut Vec<u8>,
    ) -> Verdict<'a> {
        let mirror = d.mirror.as_ref();
        if let Some(m) = mirror {
            if !self.opts.source_allow.is_empty()
                && !self
                    .opts
                    .source_allow
                    .iter()
                    .any(|n| n.contains(&m.outer_src))
            {
                return Verdict::Filtered(FilterReason::SourceNotAllowed);
            }
            if let Some(vni) = m.vni
                && !self.opts.vni_allow.is_empty()
                && !self
                    .opts
                    .vni_allow
                    .iter()
                    .any(|(lo, hi)| (*lo..=*hi).contains(&vni))
            {
                return Verdict::Filtered(FilterReason::VniNotAllowed);
            }
        }
        let key = packet_key(mirror);
        let outer_src = mirror.map(|m| m.outer_src);
        let mut session = match self.sessions.attribute(key, outer_src) {
            Attribution::Session(id) => id,
            Attribution::Unknown => return Verdict::Filtered(FilterReason::UnknownSession),
        };
        let packet = match d.outcome {
            Ok(p) => p,
            Err(invalid) => {
                let c = &mut self.sessions.get_mut(session).counters;
                c.received += 1;
                c.bytes += len as u64;
                c.invalid += 1;
                self.write_anomaly(ts, linktype, mirror, session, &invalid, pcap_cnt, eve);
                return Verdict::Invalid(InvalidCause::Decode(invalid.reason));
            }
        };
        let mut filtered = filter_outcome(self.sessions.get(session), &packet);
        if !filtered.passes() {
            // Another session on the same source and key may have mirrored
            // it: AWS uses the lowest-numbered session whose filter accepts.
            let src = outer_src.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
            for &alt in self.sessions.siblings(session) {
                let spec = &self.sessions.get(alt).spec;
                if !spec.source_ips.contains(&src) {
                    continue;
                }
                let o = filter_outcome(self.sessions.get(alt), &packet);
                if o.passes() {
                    (session, filtered) = (alt, o);
                    break;
                }
            }
        }
        let c = &mut self.sessions.get_mut(session).counters;
        c.received += 1;
        c.bytes += len as u64;
        if self.opts.checksum_validation
            && let Some(cause) = checksum_cause(&packet)
        {
            c.invalid += 1;
            return Verdict::Invalid(cause);
        }
        match filtered {
            FilterOutcome::NoFilter => {}
            FilterOutcome::NoDirection => c.no_direction += 1,
            FilterOutcome::NonIp => {
                c.non_ip_no_match += 1;
                return Verdict::Filtered(FilterReason::SessionFilter);
            }
            FilterOutcome::Verdict(dir, verdict) => match verdict {
                FilterVerdict::Accept { rule_number } => {
                    SessionCounters::bump_rule(&mut c.accepted_by_rule, dir, rule_number);
                }
                FilterVerdict::Reject { rule_number } => {
                    SessionCounters::bump_rule(&mut c.rejected_by_rule, dir, rule_number);
                    return Verdict::Filtered(FilterReason::SessionFilter);
                }
                FilterVerdict::NoMatch => {
                    c.no_match[usize::from(dir == Direction::Egress)] += 1;
                    return Verdict::Filtered(FilterReason::SessionFilter);
                }
            },
        }
        // The second copy of a packet mirrored by both ENIs: decided here,
        // in the reader stage, where every copy passes in arrival order.
        if let Some(key) = DedupKey::of(self.sessions.tenant_id(session), &packet) {
            let verdict = self.dedup.check(ts, key, outer_src, packet.frame.len());
            if let DedupVerdict::Duplicate { fuller } = verdict {
                self.dedup_fuller_dropped += u64::from(fuller);
                self.sessions.get_mut(session).counters.duplicates += 1;
                return Verdict::Duplicate {
                    session,
                    mirror: d.mirror,
                    packet,
                    fuller,
                };
            }
        }
        Verdict::Inspect {
            session,
            mirror: d.mirror,
            packet,
        }
    }

    fn count_decoder(&mut self, d: &Decoded<'_>, len: usize) {
        let c = &mut self.decoder;
        c.pkts += 1;
        c.bytes += len as u64;
        c.max_pkt_size = c.max_pkt_size.max(len as u64);
        if let Some(m) = &d.mirror {
            c.encap[encap_index(m.encap)] += 1;
        }
        let p = match &d.outcome {
            Ok(p) => p,
            Err(inv) => {
                c.invalid_events[inv.reason.index()] += 1;
                return;
            }
        };
        match p.network {
            Network::Ipv4 { .. } => c.ipv4 += 1,
            Network::Ipv6 { .. } => c.ipv6 += 1,
            Network::Arp { .. } => c.arp += 1,
            Network::Other { .. } => c.other += 1,
        }
        match p.transport {
            Transport::Tcp { .. } => c.tcp += 1,
            Transport::Udp { .. } => c.udp += 1,
            Transport::Icmpv4 { .. } => c.icmpv4 += 1,
            Transport::Icmpv6 { .. } => c.icmpv6 += 1,
            Transport::None => {}
        }
        if p.fragment().is_some() {
            c.fragments += 1;
        }
        match p.vlan.len() {
            1 => c.vlan += 1,
            2 => c.vlan_qinq += 1,
            3 => c.vlan_qinqinq += 1,
            _ => {}
        }
        for e in p.events.iter() {
            c.events[e.index()] += 1;
        }
        c.ipv4_checksum_bad += u64::from(p.checksums.ipv4_bad);
        c.l4_checksum_bad += u64::from(p.checksums.l4_bad);
        c.l4_checksum_unchecked += u64::from(p.checksums.l4_unchecked);
    }

    #[allow(clippy::too_many_arguments)]
    fn write_anomaly(
        &self,
        ts: Timestamp,
        linktype: u32,
        mirror: Option<&Mirror>,
        session: SessionId,
        invalid: &Invalid,
        pcap_cnt: u64,
        eve: &mut Vec<u8>,
    ) {
        let label = &self.sessions.get(session).spec.label;
        eve::write_decode_anomaly(
            eve,
            &eve::DecodeAnomaly {
                ts,
                pcap_cnt,
                addrs: invalid.addrs,
                proto: invalid.proto,
                mirror: mirror.map(|m| (m, label)),
                linktype: Some(linktype),
                event: invalid.reason.as_str(),
            },
        );
    }
}

fn checksum_cause(p: &Inner<'_>) -> Option<InvalidCause> {
    if p.checksums.ipv4_bad {
        return Some(InvalidCause::Ipv4Checksum);
    }
    if !p.checksums.l4_bad {
        return None;
    }
    Some(match p.transport {
        Transport::Tcp { .. } => InvalidCause::TcpChecksum,
        Transport::Udp { .. } => InvalidCause::UdpChecksum,
        Transport::Icmpv4 { .. } => InvalidCause::Icmpv4Checksum,
        Transport::Icmpv6 { .. } => InvalidCause::Icmpv6Checksum,
        Transport::None => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use mirador_config::Config;
    use mirador_testkit::frame::{Corrupt, FrameSpec, arp_request};
    use mirador_testkit::tunnel::vxlan_frame;
    use mirador_wire::{Timestamp, linktype};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ingest(yaml: &str) -> Ingest {
        Ingest::from_config(&Config::load("t.yaml", yaml, &[]).unwrap_or_else(|e| panic!("{e}")))
    }

    /// A verdict without the borrowed packet.
    #[derive(Debug, PartialEq, Eq)]
    enum Got {
        Inspect(SessionId),
        Invalid(InvalidCause),
        Filtered(FilterReason),
    }

    fn run(i: &mut Ingest, frame: &[u8]) -> Got {
        let mut eve = Vec::new();
        match i.process(
            Timestamp::from_nanos(1),
            linktype::ETHERNET,
            frame,
            1,
            &mut eve,
        ) {
            Verdict::Inspect { session, .. } => Got::Inspect(session),
            Verdict::Invalid(c) => Got::Invalid(c),
            Verdict::Filtered(r) => Got::Filtered(r),
            Verdict::Duplicate { .. } => Got::Filtered(FilterReason::Duplicate),
        }
    }

    const SIBLINGS: &str = r#"
mirror:
  sessions:
    - name: udp-only
      vni: 42
      source-ips: [10.0.1.15]
      eni-addresses: [10.0.1.15]
      session-number: 1
      filter: udp
    - name: tcp-only
      vni: 42
      source-ips: [10.0.1.15]
      eni-addresses: [10.0.1.15]
      session-number: 2
      filter: tcp
filters:
  udp:
    ingress: [{rule-number: 1, action: accept, protocol: 17, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0}]
  tcp:
    ingress: [{rule-number: 1, action: accept, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0}]
"#;

    fn wrap(inner: &[u8]) -> Vec<u8> {
        vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, 42, inner)
    }

    #[test]
    fn sessions_sharing_key_and_source_are_tried_by_session_number() {
        let mut i = ingest(SIBLINGS);
        let udp = wrap(
            &FrameSpec::udp(ip("192.0.2.1"), ip("10.0.1.15"), 1, 53)
                .build()
                .bytes,
        );
        let tcp = wrap(
            &FrameSpec::tcp(ip("192.0.2.1"), ip("10.0.1.15"), 1, 80)
                .build()
                .bytes,
        );
        let icmp = wrap(
            &FrameSpec::icmp_echo(ip("192.0.2.1"), ip("10.0.1.15"), true, 1, 1)
                .build()
                .bytes,
        );
        // Session 0 is udp-only (number 1), session 1 tcp-only (number 2).
        assert_eq!(run(&mut i, &udp), Got::Inspect(0));
        assert_eq!(run(&mut i, &tcp), Got::Inspect(1));
        // Neither accepts ICMP: filtered, counted on the first session.
        assert_eq!(
            run(&mut i, &icmp),
            Got::Filtered(FilterReason::SessionFilter)
        );
        let s = i.sessions();
        assert_eq!(
            (s.get(0).counters.received, s.get(0).counters.inspected),
            (2, 1)
        );
        assert_eq!(s.get(0).counters.no_match, [1, 0]);
        assert_eq!(
            (s.get(1).counters.received, s.get(1).counters.inspected),
            (1, 1)
        );
        assert!(i.accounting().balances());
    }

    #[test]
    fn non_ip_frames_match_no_filter_rule() {
        let mut i = ingest(SIBLINGS);
        let arp = wrap(&arp_request(
            [2, 0, 0, 0, 0, 1],
            "10.0.1.15".parse().unwrap(),
            "10.0.1.1".parse().unwrap(),
        ));
        assert_eq!(
            run(&mut i, &arp),
            Got::Filtered(FilterReason::SessionFilter)
        );
        assert_eq!(i.sessions().get(0).counters.non_ip_no_match, 1);
        // Without a filter the same frame is inspected.
        let mut i = ingest("{}");
        assert_eq!(run(&mut i, &arp), Got::Inspect(0));
    }

    #[test]
    fn checksum_validation_all_makes_bad_checksums_invalid() {
        let bad_tcp = wrap(
            &FrameSpec::tcp(ip("192.0.2.1"), ip("10.0.1.15"), 1, 80)
                .corrupt(Corrupt {
                    l4_checksum: true,
                    ..Default::default()
                })
                .build()
                .bytes,
        );
        let bad_ip = wrap(
            &FrameSpec::udp(ip("192.0.2.1"), ip("10.0.1.15"), 1, 53)
                .corrupt(Corrupt {
                    ip_checksum: true,
                    ..Default::default()
                })
                .build()
                .bytes,
        );
        // Default (none): counted and inspected.
        let mut i = ingest("{}");
        run(&mut i, &bad_tcp);
        run(&mut i, &bad_ip);
        assert_eq!(i.accounting().inspected, 2);
        assert_eq!(
            (i.decoder().l4_checksum_bad, i.decoder().ipv4_checksum_bad),
            (1, 1)
        );
        // all: invalid, by protocol.
        let mut i = ingest("checksum-validation: all");
        assert_eq!(
            run(&mut i, &bad_tcp),
            Got::Invalid(InvalidCause::TcpChecksum)
        );
        assert_eq!(
            run(&mut i, &bad_ip),
            Got::Invalid(InvalidCause::Ipv4Checksum)
        );
        assert_eq!(i.accounting().inspected, 0);
        assert!(i.accounting().balances());
    }

    #[test]
    fn every_outcome_is_counted_once() {
        let mut i =
            ingest("mirror: {unknown-session: drop, vni-allow: [42, 7], sessions: [{vni: 42}]}");
        let inner = FrameSpec::udp(ip("192.0.2.1"), ip("10.0.1.15"), 1, 53)
            .build()
            .bytes;
        let frames = [
            wrap(&inner),
            vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, 7, &inner),
            vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, 8, &inner),
            wrap(&inner[..20]),
            vec![1, 2, 3],
        ];
        let got: Vec<Got> = frames.iter().map(|f| run(&mut i, f)).collect();
        assert_eq!(
            got,
            [
                Got::Inspect(0),
                Got::Filtered(FilterReason::UnknownSession),
                Got::Filtered(FilterReason::VniNotAllowed),
                Got::Invalid(InvalidCause::Decode(
                    mirador_wire::InvalidReason::Ipv4PktTooSmall
                )),
                Got::Filtered(FilterReason::UnknownSession),
            ]
        );
        let a = i.accounting();
        assert_eq!(a.received, 5);
        assert_eq!(a.inspected, 1);
        assert_eq!(
            a.filtered_total(),
            3,
            "unknown VNI 7 and the plain frame: unknown_session; VNI 8: not allowed"
        );
        assert_eq!(a.invalid_total(), 1);
        assert!(a.balances());
    }
}
