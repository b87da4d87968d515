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
//! | 7 | otherwise | inspected (and `truncated` when bytes were cut) |
//!
//! Packets whose inner addresses belong to neither side of the session's
//! ENI have no filter direction: they are inspected and counted as
//! `no_direction` on the session, since guessing a direction would apply
//! the wrong rule list.

use mirador_config::{Direction, FilterVerdict};
use mirador_wire::{
    DecodeOptions, Decoded, Inner, Invalid, Mirror, Network, Timestamp, Transport, decode,
};

use crate::eve::{self, Obj};
use crate::sessions::{Attribution, SessionId, SessionTable, packet_key};
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
        self.rejected_by_rule.iter().map(|e| e.2).sum::<u64>() + self.no_match.iter().sum::<u64>()
    }
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
}

/// The reader stage of one input: pure, no I/O; EVE records go to a byte
/// buffer the caller drains.
#[derive(Debug)]
pub struct Ingest {
    opts: IngestOptions,
    sessions: SessionTable,
    accounting: Accounting,
    decoder: DecoderCounters,
}

impl Ingest {
    /// A stage with these options and sessions.
    pub fn new(opts: IngestOptions, sessions: SessionTable) -> Self {
        Ingest {
            opts,
            sessions,
            accounting: Accounting::default(),
            decoder: Default::default(),
        }
    }

    /// The accounting so far.
    pub fn accounting(&self) -> &Accounting {
        &self.accounting
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
        let session = match self.sessions.attribute(key, mirror.map(|m| m.outer_src)) {
            Attribution::Session(id) => id,
            Attribution::Unknown => return Verdict::Filtered(FilterReason::UnknownSession),
        };
        let s = self.sessions.get_mut(session);
        s.counters.received += 1;
        s.counters.bytes += len as u64;

        let packet = match d.outcome {
            Ok(p) => p,
            Err(invalid) => {
                s.counters.invalid += 1;
                self.write_anomaly(ts, linktype, mirror, session, &invalid, pcap_cnt, eve);
                return Verdict::Invalid(InvalidCause::Decode(invalid.reason));
            }
        };
        if self.opts.checksum_validation
            && let Some(cause) = checksum_cause(&packet)
        {
            self.sessions.get_mut(session).counters.invalid += 1;
            return Verdict::Invalid(cause);
        }
        let s = self.sessions.get_mut(session);
        if let Some(filter) = &s.spec.filter {
            let Some(ft) = packet.five_tuple() else {
                // A filter's rules match IP fields only; a non-IP frame
                // matches none of them, so AWS would not mirror it.
                s.counters.no_match[0] += 1;
                return Verdict::Filtered(FilterReason::SessionFilter);
            };
            let dir = s
                .spec
                .declared
                .as_ref()
                .and_then(|d| d.direction(ft.src, ft.dst));
            match dir {
                None => s.counters.no_direction += 1,
                Some(dir) => {
                    let (sp, dp) = match packet.transport {
                        Transport::Tcp { .. } | Transport::Udp { .. } => {
                            (Some(ft.src_port), Some(ft.dst_port))
                        }
                        _ => (None, None),
                    };
                    match filter.evaluate(dir, ft.proto, ft.src, ft.dst, sp, dp) {
                        FilterVerdict::Accept { rule_number } => {
                            SessionCounters::bump_rule(
                                &mut s.counters.accepted_by_rule,
                                dir,
                                rule_number,
                            );
                        }
                        FilterVerdict::Reject { rule_number } => {
                            SessionCounters::bump_rule(
                                &mut s.counters.rejected_by_rule,
                                dir,
                                rule_number,
                            );
                            return Verdict::Filtered(FilterReason::SessionFilter);
                        }
                        FilterVerdict::NoMatch => {
                            s.counters.no_match[usize::from(dir == Direction::Egress)] += 1;
                            return Verdict::Filtered(FilterReason::SessionFilter);
                        }
                    }
                }
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
        let mut o = Obj::new(eve);
        o.ts("timestamp", ts);
        if pcap_cnt > 0 {
            o.u64("pcap_cnt", pcap_cnt);
        }
        o.str("event_type", "anomaly");
        if let Some((src, dst)) = invalid.addrs {
            o.ip("src_ip", src).ip("dest_ip", dst);
        }
        if let Some(p) = invalid.proto {
            o.str("proto", &eve::proto_name(p));
        }
        o.str("pkt_src", if pcap_cnt > 0 { "wire/pcap" } else { "wire" });
        if let Some(m) = mirror {
            eve::mirror_object(&mut o, m, &self.sessions.get(session).spec.label);
        }
        o.obj("packet_info", |pi| {
            pi.u64("linktype", u64::from(linktype));
        });
        o.obj("anomaly", |a| {
            a.str("type", "decode")
                .str("event", invalid.reason.as_str());
        });
        o.close();
        eve.push(b'\n');
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
