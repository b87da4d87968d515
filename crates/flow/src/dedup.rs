//! Two-ENI deduplication: the same packet mirrored twice.
//!
//! When both endpoints of a conversation are mirror sources, every packet
//! between them arrives twice, through two sessions of the same tenant, with
//! different outer source IPs (the two ENIs) and possibly different
//! truncation (each session has its own `PacketLength`). Copies from a
//! *different* source within a short window are duplicates; a packet seen
//! again from the *same* source is a retransmission and is always kept.
//!
//! Per key the table counts arrivals per source. An arrival from a source
//! that has so far delivered fewer copies than some other source is that
//! source's copy of a transmission already seen: a duplicate. Otherwise it
//! is a new transmission (the first sighting, or a retransmission): kept.
//! So `B1 A1 A2 B2` (A retransmits) keeps B1 and A2 and drops A1 and B2.
//!
//! The key holds only header fields that every copy carries whatever its
//! truncation: addresses, protocol, the IPv4 id, the IP length field (the
//! declared length, not the captured one), ports, and TCP seq, ack and
//! flags (ICMP: type and code). The table is capped
//! ([`DedupConfig::max_entries`]): at the cap the oldest entry is forgotten
//! (counted), which can only let a duplicate through, never drop a packet.

use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;
use std::net::IpAddr;

use mirador_wire::{Inner, Network, Timestamp, Transport};

/// Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupConfig {
    /// Whether deduplication runs at all.
    pub enabled: bool,
    /// How long a packet is remembered, in nanoseconds. Mirror copies of
    /// one packet arrive within milliseconds of each other; the default is
    /// 2 s (Arkime's `dedupSeconds` default).
    pub window_ns: i64,
    /// The most packets remembered.
    pub max_entries: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            window_ns: 2_000_000_000,
            max_entries: 1 << 16,
        }
    }
}

/// Header fields that identify one packet across its mirror copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DedupKey {
    tenant: u32,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ip_id: u16,
    ip_len: u16,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
}

impl DedupKey {
    /// The key of an IP packet of `tenant`, or `None` for non-IP frames
    /// (never deduplicated).
    pub fn of(tenant: u32, p: &Inner<'_>) -> Option<DedupKey> {
        let (src, dst, proto, ip_id, ip_len) = match p.network {
            Network::Ipv4 {
                src,
                dst,
                proto,
                total_len,
                header,
                ..
            } => {
                let id = header
                    .get(4..6)
                    .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
                (IpAddr::V4(src), IpAddr::V4(dst), proto, id, total_len)
            }
            Network::Ipv6 {
                src,
                dst,
                proto,
                payload_len,
                ..
            } => (IpAddr::V6(src), IpAddr::V6(dst), proto, 0, payload_len),
            _ => return None,
        };
        let (src_port, dst_port, seq, ack, flags) = match p.transport {
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                ..
            } => (src_port, dst_port, seq, ack, flags),
            Transport::Udp {
                src_port, dst_port, ..
            } => (src_port, dst_port, 0, 0, 0),
            Transport::Icmpv4 {
                icmp_type,
                icmp_code,
            }
            | Transport::Icmpv6 {
                icmp_type,
                icmp_code,
            } => (u16::from(icmp_type), u16::from(icmp_code), 0, 0, 0),
            Transport::None => (0, 0, 0, 0, 0),
        };
        Some(DedupKey {
            tenant,
            src,
            dst,
            proto,
            ip_id,
            ip_len,
            src_port,
            dst_port,
            seq,
            ack,
            flags,
        })
    }
}

/// What [`Dedup::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// First sight, or a retransmission from the same source: keep it.
    Keep,
    /// A copy from another source: drop it (`filtered{duplicate}`).
    Duplicate {
        /// This copy holds more captured bytes than the one kept (it was
        /// truncated less): the caller may prefer its bytes where the first
        /// copy's have not been used yet.
        fuller: bool,
    },
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DedupCounters {
    /// Packets checked.
    pub checked: u64,
    /// Duplicates found.
    pub duplicates: u64,
    /// Packets seen again from the same source (kept).
    pub same_source_repeats: u64,
    /// Entries forgotten at the cap before their window ended.
    pub evicted: u64,
    /// Entries in the table now.
    pub entries: u64,
}

/// Sources tracked per packet: two ENIs mirror one packet; a few more
/// cover odd set-ups, and further sources are treated as new transmissions.
const SOURCES: usize = 4;

/// A source as a 32-bit fingerprint (0 = not encapsulated): entries stay
/// small (every packet probes this table at a random place, so its size in
/// cache is what the check costs). Two sources with the same fingerprint
/// are taken for one, which can only keep a duplicate, never drop a packet.
type SourceFp = u32;

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Sources and how many copies each delivered.
    sources: [(SourceFp, u32); SOURCES],
    len: u8,
    seen: Timestamp,
    /// Captured bytes of the last copy kept.
    captured: u32,
}

impl Entry {
    fn new(source: SourceFp, seen: Timestamp, captured: u32) -> Entry {
        let mut sources = [(0, 0); SOURCES];
        sources[0] = (source, 1);
        Entry {
            sources,
            len: 1,
            seen,
            captured,
        }
    }

    /// Counts an arrival from `source`; whether it is a duplicate.
    fn arrive(&mut self, source: SourceFp) -> bool {
        let live = &mut self.sources[..usize::from(self.len)];
        let most = live.iter().map(|s| s.1).max().unwrap_or(0);
        if let Some(s) = live.iter_mut().find(|s| s.0 == source) {
            let dup = s.1 < most;
            s.1 += 1;
            return dup;
        }
        if usize::from(self.len) < SOURCES {
            self.sources[usize::from(self.len)] = (source, 1);
            self.len += 1;
            // A new source's first copy of a packet others delivered.
            return most > 0;
        }
        // No room to track this source: never drop what cannot be told apart.
        false
    }
}

/// The dedup table of one shard (all copies of a packet reach the same
/// shard: the shard is chosen by tenant and inner 5-tuple).
#[derive(Debug)]
pub struct Dedup {
    config: DedupConfig,
    /// foldhash rather than SipHash: every packet is looked up here, and
    /// SipHash cost as much as the rest of the check (the keys come off the
    /// wire, but the seed is random per table and the table is capped).
    /// Keyed by a 64-bit fingerprint of the [`DedupKey`] under this
    /// table's random seed, which keeps entries small; a collision (odds
    /// about 2^-64 per pair, not steerable without the seed) could take a
    /// packet from another source for a copy.
    entries: HashMap<u64, Entry, RandomState>,
    /// Insertion order, for expiry and eviction at the cap; a key may
    /// appear more than once when refreshed (stale ones are skipped).
    order: VecDeque<(Timestamp, u64)>,
    fingerprints: RandomState,
    counters: DedupCounters,
}

impl Dedup {
    /// An empty table.
    pub fn new(config: DedupConfig) -> Dedup {
        Dedup {
            config,
            entries: HashMap::with_hasher(RandomState::default()),
            order: VecDeque::new(),
            fingerprints: RandomState::default(),
            counters: DedupCounters::default(),
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> DedupCounters {
        DedupCounters {
            entries: self.entries.len() as u64,
            ..self.counters
        }
    }

    /// Checks one packet that arrived at `now` from outer source `source`
    /// (`None` when not encapsulated) with `captured` bytes.
    pub fn check(
        &mut self,
        now: Timestamp,
        key: DedupKey,
        source: Option<IpAddr>,
        captured: usize,
    ) -> Verdict {
        if !self.config.enabled {
            return Verdict::Keep;
        }
        self.counters.checked += 1;
        self.expire(now);
        use std::hash::BuildHasher as _;
        let key = self.fingerprints.hash_one(key);
        // Never 0, which stands for "not encapsulated".
        let source = source.map_or(0, |a| (self.fingerprints.hash_one(a) as u32).max(1));
        let captured = u32::try_from(captured).unwrap_or(u32::MAX);
        if let Some(e) = self.entries.get_mut(&key) {
            let repeat = e.sources[..usize::from(e.len)]
                .iter()
                .any(|s| s.0 == source);
            if e.arrive(source) {
                self.counters.duplicates += 1;
                return Verdict::Duplicate {
                    fuller: captured > e.captured,
                };
            }
            // A retransmission: keep it, and remember the packet from now.
            if repeat {
                self.counters.same_source_repeats += 1;
            }
            e.seen = now;
            e.captured = captured;
            self.order.push_back((now, key));
            self.trim_order();
            return Verdict::Keep;
        }
        if self.entries.len() >= self.config.max_entries {
            self.evict_oldest();
        }
        self.entries.insert(key, Entry::new(source, now, captured));
        self.order.push_back((now, key));
        self.trim_order();
        Verdict::Keep
    }

    /// Forgets entries older than the window.
    pub fn expire(&mut self, now: Timestamp) {
        let horizon = now.as_nanos().saturating_sub(self.config.window_ns);
        while let Some(&(t, key)) = self.order.front() {
            if t.as_nanos() >= horizon {
                break;
            }
            self.order.pop_front();
            // Only the entry's latest order item removes it.
            if self.entries.get(&key).is_some_and(|e| e.seen == t) {
                self.entries.remove(&key);
            }
        }
    }

    fn evict_oldest(&mut self) {
        while let Some((t, key)) = self.order.pop_front() {
            if self.entries.get(&key).is_some_and(|e| e.seen == t) {
                self.entries.remove(&key);
                self.counters.evicted += 1;
                return;
            }
        }
    }

    /// Keeps the order queue bounded: refreshes add items, so drop stale
    /// ones from the front once the queue outgrows twice the table.
    fn trim_order(&mut self) {
        while self.order.len() > 2 * self.config.max_entries.max(1) {
            if let Some((t, key)) = self.order.pop_front()
                && self.entries.get(&key).is_some_and(|e| e.seen == t)
            {
                self.entries.remove(&key);
                self.counters.evicted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seq: u32) -> DedupKey {
        DedupKey {
            tenant: 1,
            src: "10.0.1.15".parse().unwrap(),
            dst: "10.0.2.20".parse().unwrap(),
            proto: 6,
            ip_id: 7,
            ip_len: 1500,
            src_port: 40000,
            dst_port: 443,
            seq,
            ack: 1,
            flags: 0x18,
        }
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_nanos(ms * 1_000_000)
    }

    const ENI_A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 15)));
    const ENI_B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 2, 20)));

    #[test]
    fn the_second_copy_from_another_source_is_a_duplicate() {
        let mut d = Dedup::new(DedupConfig::default());
        assert_eq!(d.check(t(0), key(1), ENI_A, 1514), Verdict::Keep);
        // B's session truncates to 128 bytes: same packet, fewer bytes.
        assert_eq!(
            d.check(t(1), key(1), ENI_B, 128),
            Verdict::Duplicate { fuller: false }
        );
        // The other way round: the fuller copy arrives second.
        assert_eq!(d.check(t(2), key(2), ENI_B, 128), Verdict::Keep);
        assert_eq!(
            d.check(t(3), key(2), ENI_A, 1514),
            Verdict::Duplicate { fuller: true }
        );
        assert_eq!(d.counters().duplicates, 2);
    }

    #[test]
    fn interleaved_retransmissions_keep_one_copy_per_transmission() {
        let mut d = Dedup::new(DedupConfig::default());
        let got: Vec<bool> = [
            (0, ENI_B),
            (1, ENI_A),
            (50, ENI_A),
            (51, ENI_B),
            (52, ENI_B),
            (53, ENI_A),
        ]
        .into_iter()
        .map(|(ms, src)| d.check(t(ms), key(1), src, 100) == Verdict::Keep)
        .collect();
        // B1 kept, A1 copy, A2 retransmission kept, B2 copy, B3 kept, A3 copy.
        assert_eq!(got, [true, false, true, false, true, false]);
    }

    #[test]
    fn a_retransmission_from_the_same_source_is_kept() {
        let mut d = Dedup::new(DedupConfig::default());
        assert_eq!(d.check(t(0), key(1), ENI_A, 100), Verdict::Keep);
        assert_eq!(d.check(t(200), key(1), ENI_A, 100), Verdict::Keep);
        assert_eq!(d.counters().same_source_repeats, 1);
        // And its copy from B is still a duplicate.
        assert!(matches!(
            d.check(t(201), key(1), ENI_B, 100),
            Verdict::Duplicate { .. }
        ));
    }

    #[test]
    fn entries_expire_after_the_window() {
        let mut d = Dedup::new(DedupConfig {
            window_ns: 1_000_000_000,
            ..Default::default()
        });
        d.check(t(0), key(1), ENI_A, 100);
        assert_eq!(d.check(t(1500), key(1), ENI_B, 100), Verdict::Keep);
        // The refreshed entry expires from its latest sighting.
        let mut d = Dedup::new(DedupConfig {
            window_ns: 1_000_000_000,
            ..Default::default()
        });
        d.check(t(0), key(1), ENI_A, 100);
        d.check(t(900), key(1), ENI_A, 100);
        assert!(matches!(
            d.check(t(1500), key(1), ENI_B, 100),
            Verdict::Duplicate { .. }
        ));
    }

    #[test]
    fn the_cap_holds_and_is_counted() {
        let mut d = Dedup::new(DedupConfig {
            max_entries: 4,
            ..Default::default()
        });
        for s in 0..10 {
            d.check(t(0), key(s), ENI_A, 100);
        }
        let c = d.counters();
        assert_eq!((c.entries, c.evicted), (4, 6));
        // Refreshes cannot grow the order queue past its bound.
        for _ in 0..100 {
            d.check(t(1), key(9), ENI_A, 100);
        }
        assert!(d.order.len() <= 8);
        assert!(d.entries.len() <= 4);
    }

    /// Two real mirror copies of one TCP segment: one whole from ENI A's
    /// session, one truncated to 96 bytes from ENI B's, decoded by the
    /// decoder; and a same-source retransmission.
    #[test]
    fn real_copies_with_different_truncation_share_a_key() {
        use mirador_testkit::frame::FrameSpec;
        use mirador_testkit::tunnel::vxlan_frame;
        use mirador_wire::{DecodeOptions, decode, linktype};

        let inner = FrameSpec::tcp(
            "10.0.1.15".parse().unwrap(),
            "10.0.2.20".parse().unwrap(),
            40000,
            443,
        )
        .seq_ack(1000, 2000)
        .payload(vec![b'x'; 1200])
        .build()
        .bytes;
        let sensor = "10.0.0.100".parse().unwrap();
        let a = vxlan_frame("10.0.1.15".parse().unwrap(), sensor, 50000, 42, &inner);
        let b = vxlan_frame(
            "10.0.2.20".parse().unwrap(),
            sensor,
            50001,
            42,
            &inner[..96],
        );
        let opts = DecodeOptions::default();
        let (da, db) = (
            decode(linktype::ETHERNET, &a, &opts),
            decode(linktype::ETHERNET, &b, &opts),
        );
        let (pa, pb) = (da.outcome.unwrap(), db.outcome.unwrap());
        assert!(pb.truncated && !pa.truncated);
        let (ka, kb) = (DedupKey::of(1, &pa).unwrap(), DedupKey::of(1, &pb).unwrap());
        assert_eq!(ka, kb);
        let src = |d: &mirador_wire::Decoded<'_>| d.mirror.map(|m| m.outer_src);
        let mut d = Dedup::new(DedupConfig::default());
        assert_eq!(d.check(t(0), kb, src(&db), pb.frame.len()), Verdict::Keep);
        assert_eq!(
            d.check(t(1), ka, src(&da), pa.frame.len()),
            Verdict::Duplicate { fuller: true }
        );
        assert_eq!(
            d.check(t(300), ka, src(&da), pa.frame.len()),
            Verdict::Keep,
            "retransmission"
        );
        // Another tenant's identical packet is not a copy.
        assert_eq!(
            d.check(t(2), DedupKey::of(2, &pa).unwrap(), src(&da), 1),
            Verdict::Keep
        );
    }

    #[test]
    fn disabled_keeps_everything() {
        let mut d = Dedup::new(DedupConfig {
            enabled: false,
            ..Default::default()
        });
        d.check(t(0), key(1), ENI_A, 100);
        assert_eq!(d.check(t(0), key(1), ENI_B, 100), Verdict::Keep);
    }
}
