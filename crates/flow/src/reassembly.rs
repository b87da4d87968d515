//! Per-direction TCP stream reassembly with target-based overlap policies.
//!
//! A [`StreamDir`] turns the TCP segments one endpoint sends into the byte
//! stream the other endpoint's TCP stack would have seen, the way Suricata's
//! stream engine does in IDS mode. The flow table owns two per TCP flow and
//! feeds them; this module knows nothing about connection state beyond what
//! one direction's sequence space needs.
//!
//! * **Sequence space.** Stream offset 0 is the ISN + 1 of a SYN, or the
//!   sequence number of the first segment carrying data (or a FIN) when the
//!   flow is picked up midstream. Sequence numbers are mapped to 64-bit stream
//!   offsets with serial-number arithmetic relative to the next expected
//!   sequence number (`rcv_nxt`), so wrap-around is invisible above this
//!   layer. A segment more than [`StreamConfig::max_window`] beyond `rcv_nxt`
//!   is out of window and dropped.
//! * **Delivery** (Suricata IDS semantics). Data becomes deliverable once the
//!   other direction acknowledges it ([`StreamDir::ack`]), immediately when
//!   [`StreamConfig::inline`] is set (in order, holes block), when the caller
//!   declares everything received deliverable ([`StreamDir::ack_received`],
//!   for one-sided flows under `stream.async-oneside`), or at the end of the
//!   flow ([`StreamDir::flush`]). [`StreamDir::poll`] then hands out
//!   [`Chunk`]s in stream order: data with its offset, or a gap where the
//!   receiver acknowledged (or the caller flushed past) bytes the sensor never
//!   saw. Reassembly continues after a gap.
//! * **Overlaps** are resolved by the [`Policy`] of the receiving host, with
//!   Suricata's decision table (`stream-tcp-list.c`, `DoHandleDataOverlap`),
//!   applied against every buffered segment the new one overlaps. Bytes
//!   already delivered cannot change: a segment that only repeats delivered
//!   bytes raises `stream.reassembly_segment_before_base_seq`, one that only
//!   repeats buffered bytes `stream.pkt_retransmission`; either way nothing
//!   is delivered twice. Overlapping bytes that differ from buffered ones
//!   raise `stream.reassembly_overlap_different_data`, whatever the policy
//!   decides. Differences against bytes already delivered are not detected
//!   (they are no longer held).
//! * **Truncation.** AWS Traffic Mirroring may cut a packet short
//!   (`PacketLength`, target MTU). The bytes the segment declared but the
//!   mirror did not carry (`truncated_missing`) are recorded as a *hole*: the
//!   sequence space is known to be used, its content is not. A later copy of
//!   the same segment with those bytes (a retransmission, or the fuller of
//!   two mirror copies) fills the hole; otherwise it is delivered as a gap.
//!
//! * **Urgent data** ([`UrgentPolicy`], Suricata's
//!   `stream.reassembly.urgent.policy`). With `oob`, the *last* byte of a
//!   segment whose URG flag is set and whose urgent pointer lies inside its
//!   payload is out-of-band data, not stream data: it is left out, and every
//!   later sequence number of the direction (segments and the other side's
//!   ACKs) is shifted down by the count of such bytes, so the bytes around it
//!   join up. At most 65535 such bytes are tracked per direction
//!   (`stream.reassembly_urgent_oob_limit_reached`); beyond that
//!   `oob-limit-policy` applies. With `gap`, that byte is left out but its
//!   sequence number kept: it becomes a gap. `inline` keeps it as data, and so
//!   does `drop` (Suricata drops urgent packets only in IPS mode; a mirror
//!   target cannot).
//!
//! # Memory bound
//!
//! Buffered bytes are held in owned `Vec<u8>` *pieces* keyed by stream
//! offset, never overlapping; holes are pieces without bytes. Per direction:
//!
//! * buffered data bytes ≤ [`StreamConfig::max_buffered_bytes`] (all
//!   undelivered bytes count, in order or not: in IDS mode in-order data also
//!   waits for its ACK);
//! * pieces ≤ [`StreamConfig::max_segments`], and the recorded segment
//!   boundaries the overlap policy needs (two `u64` each) ≤ the same number;
//! * bytes beyond [`StreamConfig::depth`] are never stored;
//! * plus the last delivered chunk, which [`StreamDir::poll`] lends out.
//!
//! A segment whose new bytes or pieces would exceed a cap is dropped whole
//! (`stream.reassembly_memcap`, counted in [`StreamCounters::dropped_segments`]
//! and [`StreamCounters::dropped_bytes`]); if the sender retransmits it after
//! delivery frees room it is accepted then, otherwise its bytes become a gap
//! once acknowledged. Nothing here panics or allocates without a cap,
//! whatever the input.

use std::collections::{BTreeMap, BTreeSet};

use mirador_wire::Timestamp;

const TH_FIN: u8 = 0x01;
const TH_SYN: u8 = 0x02;
const TH_RST: u8 = 0x04;
const TH_URG: u8 = 0x20;

/// The target-based overlap policy: which bytes the receiving host keeps
/// when a new segment overlaps data it already holds.
///
/// "Old" is the buffered segment, "new" the arriving one. The table is
/// Suricata's (`stream-tcp-list.c`, `DoHandleDataOverlap`, IDS mode), which
/// agrees with Snort 3's `TcpOverlapResolver` on these policies. Windows and
/// BSD resolve TCP overlaps identically in both references (they differ for
/// IP fragments, not for TCP), so they are the same here; both names exist so
/// that `host-os-policy` configurations read as in Suricata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Old data always wins (Suricata/Snort `first`; Windows Vista in Snort).
    First,
    /// New data always wins (Suricata/Snort `last`).
    Last,
    /// Like [`Policy::Bsd`], and new data also wins when it starts at the
    /// same sequence number as the old segment and extends beyond its end.
    Linux,
    /// Identical to [`Policy::Bsd`] for TCP (Suricata's and Snort's
    /// resolvers treat them alike).
    Windows,
    /// New data wins only where the new segment starts *before* the old one;
    /// otherwise old data wins. Suricata's default (`OS_POLICY_DEFAULT`) and
    /// Snort's default.
    #[default]
    Bsd,
    /// New data wins where the new segment ends at or beyond the old one's
    /// end, except when it starts after it and ends exactly at it: same start
    /// (equal or longer), starting before and covering the old one's end, or
    /// starting after and extending beyond. Old data wins where the new
    /// segment ends inside the old one. (Solaris and HP-UX 11.)
    Solaris,
}

impl Policy {
    /// Every policy.
    pub const ALL: &'static [Policy] = &[
        Policy::First,
        Policy::Last,
        Policy::Linux,
        Policy::Windows,
        Policy::Bsd,
        Policy::Solaris,
    ];

    /// The configuration name (`first`, `last`, `linux`, `windows`, `bsd`,
    /// `solaris`).
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::First => "first",
            Policy::Last => "last",
            Policy::Linux => "linux",
            Policy::Windows => "windows",
            Policy::Bsd => "bsd",
            Policy::Solaris => "solaris",
        }
    }

    /// Parses a configuration name (case-insensitive); `None` if unknown.
    pub fn from_name(name: &str) -> Option<Policy> {
        Policy::ALL
            .iter()
            .copied()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether the new segment `[ns, ne)` wins over the buffered segment
    /// `[os, oe)` on the bytes they share (they are assumed to overlap).
    fn new_wins(self, ns: i64, ne: i64, os: i64, oe: i64) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Policy::First => false,
            Policy::Last => true,
            Policy::Linux | Policy::Windows | Policy::Bsd | Policy::Solaris => {
                let solaris = self == Policy::Solaris;
                match (ns.cmp(&os), ne.cmp(&oe)) {
                    // Same start, new ends inside old: old wins everywhere.
                    (Equal, Less) => false,
                    // Same start, new is longer.
                    (Equal, Greater) => solaris || self == Policy::Linux,
                    // Exactly the same range.
                    (Equal, Equal) => solaris,
                    // New starts before old and ends inside it.
                    (Less, Less) => !solaris,
                    // New starts before old and covers its end.
                    (Less, _) => true,
                    // New starts after old and extends beyond it.
                    (Greater, Greater) => solaris,
                    // New starts after old and ends inside or at its end.
                    (Greater, _) => false,
                }
            }
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the stream does with TCP urgent data (Suricata's
/// `stream.reassembly.urgent.policy` and `oob-limit-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UrgentPolicy {
    /// The urgent byte stays in the stream (Suricata's default; also what a
    /// receiver with `SO_OOBINLINE` sees).
    #[default]
    Inline,
    /// Suricata drops urgent packets in IPS mode. A mirror target cannot
    /// drop, and in IDS mode Suricata keeps the byte, so the stream does as
    /// with [`UrgentPolicy::Inline`]. As `oob-limit-policy`: a segment beyond
    /// the limit is left out of the stream (its bytes become a gap), as
    /// Suricata's dropped packet is.
    Drop,
    /// The last byte of an urgent segment is out-of-band: removed, and the
    /// direction's later sequence numbers shifted so the stream joins up
    /// (what a receiver without `SO_OOBINLINE` reads).
    Oob,
    /// The last byte of an urgent segment is left out, its sequence number
    /// kept: a one-byte gap.
    Gap,
}

impl UrgentPolicy {
    /// Every policy.
    pub const ALL: &'static [UrgentPolicy] = &[
        UrgentPolicy::Inline,
        UrgentPolicy::Drop,
        UrgentPolicy::Oob,
        UrgentPolicy::Gap,
    ];

    /// The configuration name (`inline`, `drop`, `oob`, `gap`).
    pub fn as_str(self) -> &'static str {
        match self {
            UrgentPolicy::Inline => "inline",
            UrgentPolicy::Drop => "drop",
            UrgentPolicy::Oob => "oob",
            UrgentPolicy::Gap => "gap",
        }
    }

    /// Parses a configuration name (as Suricata, case-sensitive); `None`
    /// if unknown.
    pub fn from_name(name: &str) -> Option<UrgentPolicy> {
        UrgentPolicy::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == name)
    }
}

impl std::fmt::Display for UrgentPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reassembly settings for one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Overlap policy of the receiving host (`host-os-policy`).
    pub policy: Policy,
    /// Bytes of stream delivered at most; 0 = unlimited
    /// (`stream.reassembly.depth`, default 1 MiB).
    pub depth: u64,
    /// Undelivered data bytes buffered at most (in order or not).
    pub max_buffered_bytes: u64,
    /// Buffered pieces (and recorded segment boundaries) at most.
    pub max_segments: usize,
    /// `stream.inline`: deliver in-order data as it arrives, without waiting
    /// for the acknowledgement.
    pub inline: bool,
    /// Segments or ACKs more than this many bytes beyond the next expected
    /// sequence number are out of window (the largest scaled TCP window is
    /// 2^30).
    pub max_window: u32,
    /// `stream.reassembly.urgent.policy`.
    pub urgent: UrgentPolicy,
    /// `stream.reassembly.urgent.oob-limit-policy`: what `oob` does once a
    /// direction has [`MAX_URGENT_OOB`] out-of-band bytes (`inline`, `drop`
    /// or `gap`; `oob` reads as `inline`).
    pub urgent_oob_limit: UrgentPolicy,
}

/// Out-of-band bytes tracked per direction at most (Suricata keeps the
/// count in 16 bits).
pub const MAX_URGENT_OOB: u16 = u16::MAX;

impl Default for StreamConfig {
    /// BSD policy, depth 1 MiB (Suricata), 4 MiB and 3072 segments buffered
    /// (Snort 3's `queue_limit`), IDS delivery, 1 GiB window.
    fn default() -> Self {
        StreamConfig {
            policy: Policy::Bsd,
            depth: 1 << 20,
            max_buffered_bytes: 4 << 20,
            max_segments: 3072,
            inline: false,
            max_window: 1 << 30,
            urgent: UrgentPolicy::Inline,
            urgent_oob_limit: UrgentPolicy::Inline,
        }
    }
}

/// A stream event, named as Suricata names it where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Event {
    /// Overlapping bytes differ from buffered ones.
    OverlapDifferentData,
    /// A gap of bytes never seen was delivered (acknowledged or flushed
    /// past). Gaps made only of bytes cut by mirror truncation are counted
    /// but raise no event.
    SeqGap,
    /// Bytes beyond the configured depth were seen (once per direction).
    DepthReached,
    /// A segment only repeats bytes already delivered, or lies before the
    /// start of the stream.
    SegmentBeforeBaseSeq,
    /// A segment only repeats bytes still buffered.
    PktRetransmission,
    /// A segment was dropped at a buffer cap (mirador's name; Suricata
    /// counts this as `tcp.segment_memcap_drop`).
    SegmentMemcapDrop,
    /// A segment beyond the window.
    PacketOutOfWindow,
    /// The direction reached [`MAX_URGENT_OOB`] out-of-band bytes.
    UrgentOobLimitReached,
}

impl Event {
    /// Every event, in declaration order.
    pub const ALL: &'static [Event] = &[
        Event::OverlapDifferentData,
        Event::SeqGap,
        Event::DepthReached,
        Event::SegmentBeforeBaseSeq,
        Event::PktRetransmission,
        Event::SegmentMemcapDrop,
        Event::PacketOutOfWindow,
        Event::UrgentOobLimitReached,
    ];

    /// The Suricata-style name, e.g. `stream.reassembly_seq_gap`.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::OverlapDifferentData => "stream.reassembly_overlap_different_data",
            Event::SeqGap => "stream.reassembly_seq_gap",
            Event::DepthReached => "stream.reassembly_depth_reached",
            Event::SegmentBeforeBaseSeq => "stream.reassembly_segment_before_base_seq",
            Event::PktRetransmission => "stream.pkt_retransmission",
            Event::SegmentMemcapDrop => "stream.reassembly_memcap",
            Event::PacketOutOfWindow => "stream.est_packet_out_of_window",
            Event::UrgentOobLimitReached => "stream.reassembly_urgent_oob_limit_reached",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Event`]s (a bitset, no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Events(u16);

impl Events {
    /// The empty set.
    pub const NONE: Events = Events(0);

    /// Whether `event` is in the set.
    pub fn contains(self, event: Event) -> bool {
        self.0 & event.bit() != 0
    }

    /// Adds `event`.
    pub fn insert(&mut self, event: Event) {
        self.0 |= event.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The events in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Event> {
        Event::ALL
            .iter()
            .copied()
            .filter(move |e| self.contains(*e))
    }
}

/// What [`StreamDir::segment`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// New bytes buffered, no overlap with data already received.
    Accepted,
    /// New bytes buffered; part of the segment overlapped data already
    /// received and was resolved by the policy.
    Overlap,
    /// Every byte was already buffered (policy still applied).
    Retransmission,
    /// Every byte was already delivered, or lies before the stream start.
    BeforeBaseSeq,
    /// Beyond the window; ignored.
    OutOfWindow,
    /// Every byte lies beyond the depth; ignored.
    BeyondDepth,
    /// Dropped whole at a buffer cap.
    DroppedAtCap,
    /// No payload (pure ACK, SYN or FIN): sequence tracking only.
    NoData,
    /// RST: recorded, payload ignored (receivers discard it).
    Reset,
    /// Midstream, no data yet to pick the stream up from: ignored.
    NotInitialized,
}

/// The result of one [`StreamDir::segment`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentOutcome {
    /// What happened to the segment.
    pub disposition: Disposition,
    /// Stream positions the segment newly filled (data or truncation hole).
    pub new_bytes: u64,
    /// Events this segment raised (also queued for [`StreamDir::take_events`]).
    pub events: Events,
}

/// Counters of one direction; all monotonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StreamCounters {
    /// Segments passed to [`StreamDir::segment`].
    pub segments: u64,
    /// Data bytes handed out by [`StreamDir::poll`].
    pub bytes_delivered: u64,
    /// Segments that carried no new byte (`Retransmission` and
    /// `BeforeBaseSeq` with data).
    pub retransmissions: u64,
    /// Of those, segments entirely before the delivered offset or the stream
    /// start.
    pub before_base_seq: u64,
    /// Segments with new bytes that also overlapped received data.
    pub overlaps: u64,
    /// Segments whose overlapping bytes differed from buffered ones.
    pub overlap_different_data: u64,
    /// Gap chunks delivered.
    pub gaps: u64,
    /// Bytes in gap chunks.
    pub gap_bytes: u64,
    /// Of those, bytes no segment carried or declared: acknowledged (or
    /// flushed past) but never seen, the mirror's loss. The rest were cut by
    /// truncation, which is configured, not lost.
    pub unseen_gap_bytes: u64,
    /// Bytes declared by segments but cut off by truncation.
    pub truncated_bytes: u64,
    /// Segments dropped at a buffer cap.
    pub dropped_segments: u64,
    /// Payload bytes of those segments.
    pub dropped_bytes: u64,
    /// 1 once bytes beyond the depth were seen.
    pub depth_reached: u64,
    /// Bytes beyond the depth, not stored.
    pub beyond_depth_bytes: u64,
    /// Segments beyond the window.
    pub out_of_window: u64,
    /// RST segments seen.
    pub resets: u64,
    /// Urgent bytes handled as out-of-band under `oob`, the limit's
    /// included (Suricata's `tcp.urgent_oob_data`).
    pub urgent_oob: u64,
    /// Segments left out whole by `oob-limit-policy: drop`.
    pub urgent_dropped: u64,
}

/// A piece of delivered stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chunk<'a> {
    /// Reassembled bytes starting at stream offset `offset`.
    Data {
        /// Stream offset of the first byte.
        offset: u64,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// `len` bytes starting at `offset` that the sensor does not have.
    Gap {
        /// Stream offset of the first missing byte.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
    },
}

/// `payload`'s bytes for stream offsets `[a, b)`, the payload starting at
/// stream offset `off` (the caller keeps `[a, b)` inside the payload).
fn sub(payload: &[u8], off: i64, a: u64, b: u64) -> &[u8] {
    let from = usize::try_from(a as i64 - off).unwrap_or(0);
    let to = usize::try_from(b as i64 - off).unwrap_or(0);
    payload.get(from..to).unwrap_or(&[])
}

/// A buffered run of stream: bytes, or a truncation hole of known length.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Data(Vec<u8>),
    Hole(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Data(v) => v.len() as u64,
            Piece::Hole(n) => *n,
        }
    }
}

/// How a range of stream is covered by buffered pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cover {
    None,
    /// A data piece starting at this offset.
    Data(u64),
    /// A hole piece starting at this offset.
    Hole(u64),
}

/// One direction of a TCP connection being reassembled.
#[derive(Debug, Clone)]
pub struct StreamDir {
    cfg: StreamConfig,
    /// Sequence number of stream offset 0; `None` until picked up.
    base_seq: Option<u32>,
    midstream: bool,
    /// Stream offset up to which chunks were handed out.
    delivered: u64,
    /// End of the contiguous run received from `delivered` on.
    rcv_nxt: u64,
    /// Stream offset the other direction acknowledged (or the caller
    /// declared deliverable).
    acked: u64,
    /// Stream offset of the first FIN.
    fin: Option<u64>,
    rst: bool,
    pieces: BTreeMap<u64, Piece>,
    /// Stream ranges of buffered segments' data, for the overlap policy.
    boundaries: BTreeSet<(u64, u64)>,
    max_boundary_len: u64,
    buffered_bytes: u64,
    out: Vec<u8>,
    pending: Events,
    counters: StreamCounters,
    last_seen: Option<Timestamp>,
    /// Out-of-band bytes removed so far: later sequence numbers of this
    /// direction are shifted down by this much.
    urg_offset: u16,
    /// Sequence number (as sent) of the latest out-of-band byte: an ACK at or
    /// before it does not cover it yet.
    urg_seq: u32,
}

impl StreamDir {
    /// A direction not yet picked up.
    pub fn new(cfg: StreamConfig) -> Self {
        StreamDir {
            cfg,
            base_seq: None,
            midstream: false,
            delivered: 0,
            rcv_nxt: 0,
            acked: 0,
            fin: None,
            rst: false,
            pieces: BTreeMap::new(),
            boundaries: BTreeSet::new(),
            max_boundary_len: 0,
            buffered_bytes: 0,
            out: Vec::new(),
            pending: Events::NONE,
            counters: StreamCounters::default(),
            last_seen: None,
            urg_offset: 0,
            urg_seq: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StreamConfig {
        &self.cfg
    }

    /// Sequence number of stream offset 0, once known.
    pub fn base_seq(&self) -> Option<u32> {
        self.base_seq
    }

    /// Whether the stream was picked up midstream (no SYN seen first).
    pub fn is_midstream(&self) -> bool {
        self.midstream
    }

    /// Stream offset up to which chunks were handed out.
    pub fn delivered_offset(&self) -> u64 {
        self.delivered
    }

    /// The next expected sequence number (end of the contiguous data
    /// received), once known, in the sender's numbering (out-of-band bytes
    /// included).
    pub fn next_seq(&self) -> Option<u32> {
        self.base_seq.map(|b| {
            b.wrapping_add(self.rcv_nxt as u32)
                .wrapping_add(u32::from(self.urg_offset))
        })
    }

    /// Stream offset of the end of the contiguous data received (the bytes
    /// this side has sent so far, as `stream_size` counts them).
    pub fn next_seq_offset(&self) -> u64 {
        self.rcv_nxt
    }

    /// Stream offset the other direction acknowledged.
    pub fn acked_offset(&self) -> u64 {
        self.acked
    }

    /// Undelivered data bytes buffered.
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered_bytes
    }

    /// Buffered pieces (data runs and truncation holes).
    pub fn buffered_pieces(&self) -> usize {
        self.pieces.len()
    }

    /// Stream offset of the FIN, once seen.
    pub fn fin_offset(&self) -> Option<u64> {
        self.fin
    }

    /// Whether a RST was seen.
    pub fn rst_seen(&self) -> bool {
        self.rst
    }

    /// Whether everything up to the FIN was delivered.
    pub fn is_finished(&self) -> bool {
        self.fin.is_some_and(|f| self.delivered >= f)
    }

    /// Whether everything up to the depth was delivered (nothing more will
    /// ever be).
    pub fn is_depth_done(&self) -> bool {
        self.cfg.depth > 0 && self.delivered >= self.cfg.depth
    }

    /// The counters.
    pub fn counters(&self) -> &StreamCounters {
        &self.counters
    }

    /// Time of the latest segment.
    pub fn last_seen(&self) -> Option<Timestamp> {
        self.last_seen
    }

    /// Out-of-band urgent bytes removed from this direction (Suricata's
    /// `ts_urgent_oob_data` / `tc_urgent_oob_data`).
    pub fn urgent_oob_bytes(&self) -> u16 {
        self.urg_offset
    }

    /// Events raised since the last [`StreamDir::take_events`], kept.
    pub fn pending_events(&self) -> Events {
        self.pending
    }

    /// Events raised since the last [`StreamDir::take_events`], cleared.
    pub fn take_events(&mut self) -> Events {
        std::mem::take(&mut self.pending)
    }

    /// Stream offset of `seq`, by serial-number arithmetic around `rcv_nxt`
    /// (negative before the stream start).
    fn offset_of(&self, base: u32, seq: u32) -> i64 {
        let nxt = i64::try_from(self.rcv_nxt).unwrap_or(i64::MAX);
        let nxt_seq = base.wrapping_add(self.rcv_nxt as u32);
        nxt.saturating_add(i64::from(seq.wrapping_sub(nxt_seq) as i32))
    }

    fn raise(&mut self, events: &mut Events, e: Event) {
        events.insert(e);
        self.pending.insert(e);
    }

    fn outcome(&self, disposition: Disposition, new_bytes: u64, events: Events) -> SegmentOutcome {
        SegmentOutcome {
            disposition,
            new_bytes,
            events,
        }
    }

    /// Feeds one segment sent in this direction.
    ///
    /// `seq` and `flags` are the TCP header's; `payload` the captured
    /// payload; `truncated_missing` the payload bytes the packet declared
    /// (IP total length) but the capture cut off: they become a hole that a
    /// fuller copy can fill, otherwise a gap.
    ///
    /// * SYN: offset 0 is `seq + 1`; data on the SYN (TCP Fast Open) is
    ///   stream data from offset 0.
    /// * Without a SYN seen, the first segment with data or FIN picks the
    ///   stream up midstream at its `seq`.
    /// * FIN: records the end of stream (data beyond it is still buffered;
    ///   the FIN is not trusted to truncate the stream).
    /// * RST: recorded, payload ignored; the state machine decides whether
    ///   to stop feeding this direction.
    pub fn segment(
        &mut self,
        now: Timestamp,
        seq: u32,
        payload: &[u8],
        flags: u8,
        truncated_missing: u32,
    ) -> SegmentOutcome {
        self.segment_urgent(now, seq, payload, flags, truncated_missing, 0)
    }

    /// [`StreamDir::segment`] with the TCP header's urgent pointer, which
    /// counts when `flags` has URG: under [`UrgentPolicy::Oob`] or
    /// [`UrgentPolicy::Gap`], a pointer inside the segment makes its last
    /// byte urgent (Suricata's reading: only that byte is out-of-band,
    /// wherever the pointer points).
    pub fn segment_urgent(
        &mut self,
        now: Timestamp,
        seq: u32,
        payload: &[u8],
        flags: u8,
        truncated_missing: u32,
        urgent: u16,
    ) -> SegmentOutcome {
        // Bytes after removed out-of-band bytes move down by their count.
        let shifted = seq.wrapping_sub(u32::from(self.urg_offset));
        let (mut payload, mut missing) = (payload, truncated_missing);
        let mut limit_reached = false;
        let total = payload.len() as u64 + u64::from(missing);
        if flags & (TH_URG | TH_RST) == TH_URG
            && matches!(self.cfg.urgent, UrgentPolicy::Oob | UrgentPolicy::Gap)
            && urgent > 0
            && u64::from(urgent) <= total
        {
            let oob = self.cfg.urgent == UrgentPolicy::Oob;
            let mut strip = true;
            let mut dropped = false;
            if oob {
                if self.urg_offset < MAX_URGENT_OOB {
                    self.urg_offset += 1;
                    self.urg_seq = seq.wrapping_add((total - 1) as u32);
                    limit_reached = self.urg_offset == MAX_URGENT_OOB;
                } else {
                    match self.cfg.urgent_oob_limit {
                        UrgentPolicy::Drop => {
                            // Suricata drops the packet before reassembly:
                            // its bytes never enter the stream.
                            self.counters.urgent_dropped += 1;
                            payload = &[];
                            missing = 0;
                            strip = false;
                            dropped = true;
                        }
                        UrgentPolicy::Gap => {}
                        UrgentPolicy::Inline | UrgentPolicy::Oob => strip = false,
                    }
                }
                // Suricata counts every urgent byte handled as `oob`, the
                // limit's included, but not the dropped ones.
                if !dropped {
                    self.counters.urgent_oob += 1;
                }
            }
            if strip {
                if missing > 0 {
                    missing -= 1;
                } else {
                    payload = &payload[..payload.len().saturating_sub(1)];
                }
            }
        }
        let mut out = self.insert(now, shifted, payload, flags, missing);
        if limit_reached {
            self.raise(&mut out.events, Event::UrgentOobLimitReached);
        }
        out
    }

    fn insert(
        &mut self,
        now: Timestamp,
        seq: u32,
        payload: &[u8],
        flags: u8,
        truncated_missing: u32,
    ) -> SegmentOutcome {
        let mut events = Events::NONE;
        self.counters.segments += 1;
        self.last_seen = Some(self.last_seen.map_or(now, |t| t.max(now)));

        if flags & TH_RST != 0 {
            self.rst = true;
            self.counters.resets += 1;
            return self.outcome(Disposition::Reset, 0, events);
        }
        let syn = flags & TH_SYN != 0;
        let fin = flags & TH_FIN != 0;
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let base = match self.base_seq {
            Some(b) => b,
            None if syn => {
                self.base_seq = Some(data_seq);
                data_seq
            }
            None if !payload.is_empty() || truncated_missing > 0 || fin => {
                self.base_seq = Some(data_seq);
                self.midstream = true;
                data_seq
            }
            None => return self.outcome(Disposition::NotInitialized, 0, events),
        };

        let plen = payload.len() as i64;
        let total = plen + i64::from(truncated_missing);
        let off = self.offset_of(base, data_seq);
        let end = off.saturating_add(total);

        let window_end = i64::try_from(self.rcv_nxt)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(self.cfg.max_window));
        if off > window_end {
            self.counters.out_of_window += 1;
            self.raise(&mut events, Event::PacketOutOfWindow);
            return self.outcome(Disposition::OutOfWindow, 0, events);
        }
        if fin && self.fin.is_none() && end >= 0 {
            self.fin = Some(end as u64);
        }
        if total == 0 {
            return self.outcome(Disposition::NoData, 0, events);
        }
        if truncated_missing > 0 {
            self.counters.truncated_bytes += u64::from(truncated_missing);
        }
        let delivered = i64::try_from(self.delivered).unwrap_or(i64::MAX);
        if end <= delivered || end <= 0 {
            self.counters.retransmissions += 1;
            self.counters.before_base_seq += 1;
            self.raise(&mut events, Event::SegmentBeforeBaseSeq);
            return self.outcome(Disposition::BeforeBaseSeq, 0, events);
        }

        // The part of the segment that can still be stored: [lo, hi).
        let lo = off.max(delivered).max(0);
        let mut hi = end;
        if self.cfg.depth > 0 {
            let depth = i64::try_from(self.cfg.depth).unwrap_or(i64::MAX);
            if hi > depth {
                self.counters.beyond_depth_bytes += (hi - depth.max(lo)) as u64;
                if self.counters.depth_reached == 0 {
                    self.counters.depth_reached = 1;
                    self.raise(&mut events, Event::DepthReached);
                }
                hi = depth;
            }
        }
        if lo >= hi {
            return self.outcome(Disposition::BeyondDepth, 0, events);
        }
        let (lo, hi) = (lo as u64, hi as u64);
        // Captured bytes [ds, de), truncation hole [de, hi).
        let data_end = (off + plen).max(0) as u64;
        let ds = lo;
        let de = data_end.clamp(lo, hi);
        let front_trimmed = off < lo as i64;

        let data_cover = self.classify(ds, de);
        let hole_cover = self.classify(de, hi);

        // What the segment would add.
        let mut new_positions = 0u64;
        let mut new_bytes = 0u64;
        let mut new_pieces = 0usize;
        let mut removed_pieces = 0usize;
        let mut overlapped = front_trimmed;
        for &(a, b, c) in &data_cover {
            match c {
                Cover::None => {
                    new_positions += b - a;
                    new_bytes += b - a;
                    new_pieces += 1;
                }
                Cover::Hole(hs) => {
                    new_positions += b - a;
                    new_bytes += b - a;
                    let he = hs + self.pieces.get(&hs).map_or(0, Piece::len);
                    new_pieces += 1 + usize::from(hs < a) + usize::from(he > b);
                    removed_pieces += 1;
                }
                Cover::Data(_) => overlapped = true,
            }
        }
        for &(a, b, c) in &hole_cover {
            if c == Cover::None {
                new_positions += b - a;
                new_pieces += 1;
            }
        }
        let pieces_after = (self.pieces.len() + new_pieces).saturating_sub(removed_pieces);
        let over_bytes =
            new_bytes > 0 && self.buffered_bytes + new_bytes > self.cfg.max_buffered_bytes;
        let over_pieces = new_pieces > removed_pieces && pieces_after > self.cfg.max_segments;
        if over_bytes || over_pieces {
            self.counters.dropped_segments += 1;
            self.counters.dropped_bytes += payload.len() as u64;
            self.raise(&mut events, Event::SegmentMemcapDrop);
            return self.outcome(Disposition::DroppedAtCap, 0, events);
        }

        // Resolve overlaps: start from the new bytes, put back old bytes
        // wherever the policy keeps a buffered segment's data.
        let slice = |a: u64, b: u64| sub(payload, off, a, b);
        let mut buf = if de > ds {
            slice(ds, de).to_vec()
        } else {
            Vec::new()
        };
        let mut different = false;
        if overlapped && de > ds {
            for &(a, b, c) in &data_cover {
                if let Cover::Data(ps) = c
                    && let Some(Piece::Data(old)) = self.pieces.get(&ps)
                {
                    let old = &old[(a - ps) as usize..(b - ps) as usize];
                    different |= old != slice(a, b);
                }
            }
            if different {
                let (ns, ne) = (off, off + plen);
                let min_start = ds.saturating_sub(self.max_boundary_len);
                let keep_old: Vec<(u64, u64)> = self
                    .boundaries
                    .range((min_start, 0)..(de, 0))
                    .filter(|&&(bs, be)| be > ds && bs < de)
                    .filter(|&&(bs, be)| !self.cfg.policy.new_wins(ns, ne, bs as i64, be as i64))
                    .map(|&(bs, be)| (bs.max(ds), be.min(de)))
                    .collect();
                for (a, b) in keep_old {
                    self.copy_stored(a, b, ds, &mut buf);
                }
            }
        }

        // Apply: data part.
        for &(a, b, c) in &data_cover {
            let src = &buf[(a - ds) as usize..(b - ds) as usize];
            match c {
                Cover::Data(ps) => {
                    if let Some(Piece::Data(old)) = self.pieces.get_mut(&ps) {
                        old[(a - ps) as usize..(b - ps) as usize].copy_from_slice(src);
                    }
                }
                Cover::None => {
                    self.pieces.insert(a, Piece::Data(src.to_vec()));
                    self.buffered_bytes += b - a;
                }
                Cover::Hole(hs) => {
                    if let Some(Piece::Hole(n)) = self.pieces.remove(&hs) {
                        let he = hs + n;
                        if hs < a {
                            self.pieces.insert(hs, Piece::Hole(a - hs));
                        }
                        if he > b {
                            self.pieces.insert(b, Piece::Hole(he - b));
                        }
                    }
                    self.pieces.insert(a, Piece::Data(src.to_vec()));
                    self.buffered_bytes += b - a;
                }
            }
        }
        // Truncation hole.
        for &(a, b, c) in &hole_cover {
            if c == Cover::None {
                self.pieces.insert(a, Piece::Hole(b - a));
            }
        }
        // Record the segment's data range for later overlap decisions.
        if de > ds && self.boundaries.len() < self.cfg.max_segments {
            let bs = off.max(0) as u64;
            self.boundaries.insert((bs, data_end));
            self.max_boundary_len = self.max_boundary_len.max(data_end - bs);
        }
        self.advance_rcv_nxt();

        if different {
            self.counters.overlap_different_data += 1;
            self.raise(&mut events, Event::OverlapDifferentData);
        }
        let disposition = if new_positions == 0 {
            self.counters.retransmissions += 1;
            self.raise(&mut events, Event::PktRetransmission);
            Disposition::Retransmission
        } else if overlapped {
            self.counters.overlaps += 1;
            Disposition::Overlap
        } else {
            Disposition::Accepted
        };
        self.outcome(disposition, new_positions, events)
    }

    /// Covers of `[a, b)` by buffered pieces, in order, without holes in the
    /// listing.
    fn classify(&self, a: u64, b: u64) -> Vec<(u64, u64, Cover)> {
        let mut out = Vec::new();
        if a >= b {
            return out;
        }
        let mut cur = a;
        let first = self
            .pieces
            .range(..a)
            .next_back()
            .filter(|(s, p)| *s + p.len() > a)
            .map(|(s, _)| *s)
            .unwrap_or(a);
        for (&s, p) in self.pieces.range(first..b) {
            let e = s + p.len();
            if s > cur {
                out.push((cur, s, Cover::None));
            }
            let x = s.max(cur);
            let y = e.min(b);
            if x < y {
                let c = match p {
                    Piece::Data(_) => Cover::Data(s),
                    Piece::Hole(_) => Cover::Hole(s),
                };
                out.push((x, y, c));
                cur = y;
            }
        }
        if cur < b {
            out.push((cur, b, Cover::None));
        }
        out
    }

    /// Copies stored data bytes of `[a, b)` into `buf` (which starts at
    /// stream offset `buf_start`).
    fn copy_stored(&self, a: u64, b: u64, buf_start: u64, buf: &mut [u8]) {
        for (x, y, c) in self.classify(a, b) {
            if let Cover::Data(ps) = c
                && let Some(Piece::Data(v)) = self.pieces.get(&ps)
            {
                buf[(x - buf_start) as usize..(y - buf_start) as usize]
                    .copy_from_slice(&v[(x - ps) as usize..(y - ps) as usize]);
            }
        }
    }

    fn advance_rcv_nxt(&mut self) {
        self.rcv_nxt = self.rcv_nxt.max(self.delivered);
        while let Some((&s, p)) = self.pieces.range(..=self.rcv_nxt).next_back() {
            let e = s + p.len();
            if e > self.rcv_nxt {
                self.rcv_nxt = e;
            } else {
                break;
            }
        }
    }

    /// The other direction acknowledged `ack`: data before it becomes
    /// deliverable, and bytes before it that were never seen become a gap.
    /// ACKs that go backwards, or lie beyond the window, are ignored.
    pub fn ack(&mut self, ack: u32) {
        let Some(base) = self.base_seq else {
            return;
        };
        // ACKs count the out-of-band bytes the stream left out; an ACK that
        // does not yet cover the latest one counts only the earlier ones.
        let mut shift = u32::from(self.urg_offset);
        if shift > 0 && (ack.wrapping_sub(self.urg_seq) as i32) <= 0 {
            shift -= 1;
        }
        let ack = ack.wrapping_sub(shift);
        let off = self.offset_of(base, ack);
        let window_end = i64::try_from(self.rcv_nxt)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(self.cfg.max_window));
        if off <= 0 || off > window_end {
            return;
        }
        self.acked = self.acked.max(off as u64);
    }

    /// Declares all contiguous data received so far deliverable, as if
    /// acknowledged (for one-sided flows under `stream.async-oneside`).
    pub fn ack_received(&mut self) {
        self.acked = self.acked.max(self.rcv_nxt);
    }

    /// Declares everything buffered deliverable, holes as gaps (end of flow,
    /// or a one-sided flow the caller gives up waiting on).
    pub fn flush(&mut self) {
        let end = self.pieces.last_key_value().map_or(0, |(s, p)| s + p.len());
        self.acked = self.acked.max(end).max(self.rcv_nxt);
    }

    /// Offset up to which data may be handed out now.
    fn limit(&self) -> u64 {
        let mut limit = self.acked;
        // The ACK of the FIN covers the FIN's sequence number, not data
        // (checked here, not in `ack`: the mirror may reorder the two).
        if self.fin.is_some_and(|f| limit == f.saturating_add(1)) {
            limit -= 1;
        }
        if self.cfg.inline {
            limit = limit.max(self.rcv_nxt);
        }
        if self.cfg.depth > 0 {
            limit = limit.min(self.cfg.depth);
        }
        limit
    }

    /// The next deliverable chunk, in stream order; `None` when nothing more
    /// is deliverable now. The bytes of a [`Chunk::Data`] are lent until the
    /// next call that changes the stream.
    pub fn poll(&mut self) -> Option<Chunk<'_>> {
        let limit = self.limit();
        let start = self.delivered;
        if start >= limit {
            return None;
        }
        let data_first =
            matches!(self.pieces.first_key_value(), Some((&s, Piece::Data(_))) if s == start);
        if data_first {
            let Some(Piece::Data(mut v)) = self.pieces.remove(&start) else {
                return None;
            };
            let avail = limit - start;
            if v.len() as u64 > avail {
                let rest = v.split_off(avail as usize);
                self.pieces.insert(limit, Piece::Data(rest));
            }
            let n = v.len() as u64;
            self.buffered_bytes = self.buffered_bytes.saturating_sub(n);
            self.delivered = start + n;
            self.counters.bytes_delivered += n;
            self.out = v;
            self.after_delivery();
            return Some(Chunk::Data {
                offset: start,
                bytes: &self.out,
            });
        }
        // A gap: unseen bytes and truncation holes up to the next data or
        // the limit.
        let mut end = start;
        let mut unseen = 0u64;
        while end < limit {
            let Some((&s, p)) = self.pieces.range(end..).next() else {
                unseen += limit - end;
                end = limit;
                break;
            };
            if s > end {
                unseen += s.min(limit) - end;
                end = s.min(limit);
                continue;
            }
            let Piece::Hole(n) = *p else {
                break;
            };
            self.pieces.remove(&s);
            let he = s + n;
            if he > limit {
                self.pieces.insert(limit, Piece::Hole(he - limit));
                end = limit;
            } else {
                end = he;
            }
        }
        let len = end - start;
        self.delivered = end;
        self.counters.gaps += 1;
        self.counters.gap_bytes += len;
        self.counters.unseen_gap_bytes += unseen;
        // Bytes the mirror cut on purpose (`packet-length`) are a gap in
        // the stream but not an event: a truncating session would raise
        // one per packet. Bytes never seen at all are.
        if unseen > 0 {
            self.pending.insert(Event::SeqGap);
        }
        self.after_delivery();
        Some(Chunk::Gap { offset: start, len })
    }

    fn after_delivery(&mut self) {
        self.advance_rcv_nxt();
        let delivered = self.delivered;
        let done: Vec<(u64, u64)> = self
            .boundaries
            .range(..(delivered, 0))
            .filter(|&&(_, be)| be <= delivered)
            .copied()
            .collect();
        for b in done {
            self.boundaries.remove(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ISN: u32 = 999; // offset 0 = seq 1000

    fn cfg(policy: Policy) -> StreamConfig {
        StreamConfig {
            policy,
            depth: 0,
            max_buffered_bytes: 1 << 24,
            max_segments: 1 << 16,
            inline: false,
            max_window: 1 << 30,
            urgent: UrgentPolicy::Inline,
            urgent_oob_limit: UrgentPolicy::Inline,
        }
    }

    fn t() -> Timestamp {
        Timestamp::from_nanos(1)
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Out {
        Data(u64, Vec<u8>),
        Gap(u64, u64),
    }

    fn drain(s: &mut StreamDir) -> Vec<Out> {
        let mut out = Vec::new();
        while let Some(c) = s.poll() {
            out.push(match c {
                Chunk::Data { offset, bytes } => Out::Data(offset, bytes.to_vec()),
                Chunk::Gap { offset, len } => Out::Gap(offset, len),
            });
            assert!(out.len() < 1_000_000, "poll must terminate");
        }
        out
    }

    /// Concatenates chunks, checking they are contiguous; gaps as `?`.
    fn text(chunks: &[Out]) -> Vec<u8> {
        let mut v = Vec::new();
        for c in chunks {
            match c {
                Out::Data(o, b) => {
                    assert_eq!(*o, v.len() as u64, "chunks contiguous");
                    v.extend_from_slice(b);
                }
                Out::Gap(o, n) => {
                    assert_eq!(*o, v.len() as u64, "chunks contiguous");
                    v.extend(std::iter::repeat_n(b'?', *n as usize));
                }
            }
        }
        v
    }

    fn started(c: StreamConfig) -> StreamDir {
        let mut s = StreamDir::new(c);
        assert_eq!(
            s.segment(t(), ISN, &[], TH_SYN, 0).disposition,
            Disposition::NoData
        );
        s
    }

    /// Sends `data` at stream offset `off` (relative to ISN + 1).
    fn send(s: &mut StreamDir, off: u32, data: &[u8]) -> SegmentOutcome {
        s.segment(t(), ISN.wrapping_add(1).wrapping_add(off), data, 0x18, 0)
    }

    fn ack_to(s: &mut StreamDir, off: u32) {
        s.ack(ISN.wrapping_add(1).wrapping_add(off));
    }

    // ---- urgent data ------------------------------------------------------

    fn urgent_cfg(urgent: UrgentPolicy, limit: UrgentPolicy) -> StreamConfig {
        StreamConfig {
            urgent,
            urgent_oob_limit: limit,
            ..cfg(Policy::Bsd)
        }
    }

    /// Sends `data` with URG and urgent pointer `urp` at stream offset `off`
    /// (as the sender numbers it).
    fn send_urg(s: &mut StreamDir, off: u32, data: &[u8], urp: u16) -> SegmentOutcome {
        let seq = ISN.wrapping_add(1).wrapping_add(off);
        s.segment_urgent(t(), seq, data, 0x18 | TH_URG, 0, urp)
    }

    /// suricata-verify tcp-urgp-01: "GET /malic", then "X" with URG and
    /// pointer 1, then "ious": the policy decides what the stream holds.
    fn urgp_01(urgent: UrgentPolicy) -> (Vec<u8>, StreamDir) {
        let mut s = started(urgent_cfg(urgent, UrgentPolicy::Inline));
        send(&mut s, 0, b"GET /malic");
        send_urg(&mut s, 10, b"X", 1);
        // The receiver's ACK of the urgent byte, then of everything.
        ack_to(&mut s, 11);
        send(&mut s, 11, b"ious HTTP/1.1\r\n");
        ack_to(&mut s, 26);
        let out = text(&drain(&mut s));
        (out, s)
    }

    #[test]
    fn urgent_policies_on_suricata_verify_urgp_01() {
        let (out, s) = urgp_01(UrgentPolicy::Inline);
        assert_eq!(out, b"GET /malicXious HTTP/1.1\r\n");
        assert_eq!(s.urgent_oob_bytes(), 0);
        // IDS mode cannot drop: the byte stays, as with inline.
        let (out, _) = urgp_01(UrgentPolicy::Drop);
        assert_eq!(out, b"GET /malicXious HTTP/1.1\r\n");
        let (out, mut s) = urgp_01(UrgentPolicy::Oob);
        assert_eq!(out, b"GET /malicious HTTP/1.1\r\n");
        assert_eq!(s.urgent_oob_bytes(), 1);
        assert_eq!(s.counters().urgent_oob, 1);
        assert_eq!(s.counters().gaps, 0, "the ACKs are shifted too");
        assert!(!s.take_events().contains(Event::SeqGap));
        assert_eq!(s.next_seq(), Some(ISN + 1 + 26), "sender's numbering");
        let (out, mut s) = urgp_01(UrgentPolicy::Gap);
        assert_eq!(out, b"GET /malic?ious HTTP/1.1\r\n");
        assert_eq!(s.urgent_oob_bytes(), 0);
        assert!(s.take_events().contains(Event::SeqGap));
    }

    #[test]
    fn urgent_oob_takes_the_last_byte_wherever_the_pointer_points() {
        // tcp-urgp-04: "XY" with pointer 2 leaves "X" in the stream.
        let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
        send(&mut s, 0, b"malic");
        send_urg(&mut s, 5, b"XY", 2);
        send(&mut s, 7, b"ious");
        s.flush();
        assert_eq!(text(&drain(&mut s)), b"malicXious");
        // Suricata's reading: pointer 1 inside "XYZ" still takes "Z".
        let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
        send_urg(&mut s, 0, b"XYZ", 1);
        send(&mut s, 3, b"-");
        s.flush();
        assert_eq!(text(&drain(&mut s)), b"XY-");
    }

    #[test]
    fn urgent_pointer_outside_the_segment_or_without_urg_is_ignored() {
        for (flags, urp) in [(0x18 | TH_URG, 0), (0x18 | TH_URG, 4), (0x18, 1)] {
            let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
            s.segment_urgent(t(), ISN + 1, b"abc", flags, 0, urp);
            send(&mut s, 3, b"d");
            s.flush();
            assert_eq!(text(&drain(&mut s)), b"abcd", "flags {flags:#x} urp {urp}");
            assert_eq!(s.urgent_oob_bytes(), 0);
        }
        // RST payloads are ignored anyway.
        let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
        s.segment_urgent(t(), ISN + 1, b"abc", TH_RST | TH_URG, 0, 1);
        assert_eq!(s.urgent_oob_bytes(), 0);
    }

    #[test]
    fn urgent_byte_cut_by_truncation_is_taken_from_the_hole() {
        let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
        // 4 bytes declared, 2 captured: the urgent (last) byte was never
        // captured, so the hole shrinks and the captured bytes stay.
        s.segment_urgent(t(), ISN + 1, b"ab", 0x18 | TH_URG, 2, 4);
        send(&mut s, 4, b"e");
        s.flush();
        assert_eq!(text(&drain(&mut s)), b"ab?e");
        // A lone urgent byte leaves nothing, and nothing is missing.
        let mut s = started(urgent_cfg(UrgentPolicy::Oob, UrgentPolicy::Inline));
        send(&mut s, 0, b"a");
        send_urg(&mut s, 1, b"!", 1);
        send(&mut s, 2, b"b");
        ack_to(&mut s, 3);
        assert_eq!(text(&drain(&mut s)), b"ab");
    }

    #[test]
    fn urgent_oob_limit_policies() {
        for (limit, want) in [
            (UrgentPolicy::Inline, &b"a!b"[..]),
            (UrgentPolicy::Gap, b"a?b"),
            (UrgentPolicy::Drop, b"a??b"),
        ] {
            let mut s = started(urgent_cfg(UrgentPolicy::Oob, limit));
            s.urg_offset = MAX_URGENT_OOB - 1;
            // Offsets below are as the sender numbers them: the removed
            // bytes come first.
            let base = u32::from(MAX_URGENT_OOB) - 1;
            let out = send_urg(&mut s, base, b"#", 1);
            assert!(out.events.contains(Event::UrgentOobLimitReached));
            assert!(s.take_events().contains(Event::UrgentOobLimitReached));
            assert_eq!(s.urgent_oob_bytes(), MAX_URGENT_OOB);
            let base = base + 1;
            send(&mut s, base, b"a");
            // Beyond the limit: the next urgent segment ("x!" under drop,
            // "!" otherwise) follows oob-limit-policy.
            if limit == UrgentPolicy::Drop {
                send_urg(&mut s, base + 1, b"x!", 2);
                send(&mut s, base + 3, b"b");
                assert_eq!(s.counters().urgent_dropped, 1);
            } else {
                send_urg(&mut s, base + 1, b"!", 1);
                send(&mut s, base + 2, b"b");
            }
            assert!(!s.take_events().contains(Event::UrgentOobLimitReached));
            assert_eq!(s.urgent_oob_bytes(), MAX_URGENT_OOB);
            let counted = if limit == UrgentPolicy::Drop { 1 } else { 2 };
            assert_eq!(s.counters().urgent_oob, counted);
            s.flush();
            assert_eq!(text(&drain(&mut s)), want, "limit {limit}");
        }
    }

    #[test]
    fn urgent_policy_names() {
        for p in UrgentPolicy::ALL {
            assert_eq!(UrgentPolicy::from_name(p.as_str()), Some(*p));
        }
        assert_eq!(UrgentPolicy::from_name("OOB"), None);
        assert_eq!(
            Event::UrgentOobLimitReached.as_str(),
            "stream.reassembly_urgent_oob_limit_reached"
        );
    }

    // ---- policies -------------------------------------------------------

    #[test]
    fn policy_table_and_names() {
        for p in Policy::ALL {
            assert_eq!(Policy::from_name(p.as_str()), Some(*p));
        }
        assert_eq!(Policy::from_name("BSD"), Some(Policy::Bsd));
        assert_eq!(Policy::from_name("hpux"), None);
        assert_eq!(Policy::default(), Policy::Bsd);
    }

    /// Target-based vector in the style of Novak's: five overlap shapes,
    /// each old segment buffered out of order before the new one arrives.
    ///
    /// (a) same start, new longer; (b) new starts before, ends inside;
    /// (c) new starts inside, ends beyond; (d) exactly the same range;
    /// (e) new starts before and ends beyond.
    fn novak(policy: Policy) -> (Vec<u8>, StreamCounters, Events) {
        let mut s = started(cfg(policy));
        // Old segments (offset 0 missing, so all are buffered out of order).
        send(&mut s, 10, b"AAAA");
        send(&mut s, 20, b"CCCC");
        send(&mut s, 30, b"EEEE");
        send(&mut s, 40, b"GGGG");
        send(&mut s, 50, b"II");
        // New, overlapping segments.
        send(&mut s, 10, b"bbbbbb");
        send(&mut s, 18, b"dddd");
        send(&mut s, 32, b"ffff");
        send(&mut s, 40, b"hhhh");
        send(&mut s, 49, b"jjjj");
        // Fillers, overlapping nothing.
        send(&mut s, 0, b"..........");
        send(&mut s, 16, b"..");
        send(&mut s, 24, b"......");
        send(&mut s, 36, b"....");
        send(&mut s, 44, b".....");
        send(&mut s, 53, b"...");
        ack_to(&mut s, 56);
        let out = text(&drain(&mut s));
        (out, *s.counters(), s.take_events())
    }

    #[test]
    fn novak_vector_per_policy() {
        let expect = |a: &str, b: &str, c: &str, d: &str, e: &str| {
            format!("..........{a}..{b}......{c}....{d}.....{e}...")
        };
        let (old_a, new_a) = ("AAAAbb", "bbbbbb");
        let (old_b, new_b) = ("ddCCCC", "ddddCC");
        let (old_c, new_c) = ("EEEEff", "EEffff");
        let (old_d, new_d) = ("GGGG", "hhhh");
        let (old_e, new_e) = ("jIIj", "jjjj");
        let cases = [
            (Policy::First, expect(old_a, old_b, old_c, old_d, old_e)),
            (Policy::Last, expect(new_a, new_b, new_c, new_d, new_e)),
            (Policy::Bsd, expect(old_a, new_b, old_c, old_d, new_e)),
            (Policy::Windows, expect(old_a, new_b, old_c, old_d, new_e)),
            (Policy::Linux, expect(new_a, new_b, old_c, old_d, new_e)),
            (Policy::Solaris, expect(new_a, old_b, new_c, new_d, new_e)),
        ];
        let mut seen = std::collections::HashSet::new();
        for (policy, want) in cases {
            let (got, counters, events) = novak(policy);
            assert_eq!(String::from_utf8_lossy(&got), want, "policy {policy}");
            assert_eq!(counters.overlap_different_data, 5, "policy {policy}");
            assert_eq!(counters.overlaps, 4, "policy {policy}"); // a, b, c, e add bytes; d does not
            assert_eq!(counters.retransmissions, 1, "policy {policy}"); // d
            assert_eq!(counters.gaps, 0);
            assert!(events.contains(Event::OverlapDifferentData));
            seen.insert(want);
        }
        // Five distinct outcomes (Windows and BSD agree for TCP).
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn overlap_with_same_data_raises_nothing() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 4, b"efgh");
        let o = send(&mut s, 2, b"cdefghij");
        assert_eq!(o.disposition, Disposition::Overlap);
        assert!(!o.events.contains(Event::OverlapDifferentData));
        send(&mut s, 0, b"ab");
        ack_to(&mut s, 10);
        assert_eq!(text(&drain(&mut s)), b"abcdefghij");
        assert_eq!(s.counters().overlap_different_data, 0);
    }

    // ---- Ptacek–Newsham -------------------------------------------------

    /// Evasion by overlap: the attacker sends "evil" and a conflicting
    /// "good" for the same bytes (one of them, say, with a TTL that expires
    /// before the host); which one the host keeps depends on its stack.
    #[test]
    fn ptacek_newsham_overlap_resolved_per_policy() {
        for &policy in Policy::ALL {
            let mut s = started(cfg(policy));
            send(&mut s, 5, b"evil"); // arrives before the head: buffered
            let o = send(&mut s, 5, b"good");
            assert!(o.events.contains(Event::OverlapDifferentData));
            assert_eq!(o.disposition, Disposition::Retransmission);
            send(&mut s, 0, b"GET /");
            ack_to(&mut s, 9);
            let want: &[u8] = match policy {
                Policy::Last | Policy::Solaris => b"GET /good",
                _ => b"GET /evil",
            };
            assert_eq!(text(&drain(&mut s)), want, "policy {policy}");
        }
    }

    /// Insertion after delivery: bytes already handed out cannot be
    /// rewritten by a later conflicting segment.
    #[test]
    fn segment_after_delivery_is_before_base_seq() {
        let mut s = started(cfg(Policy::Last));
        send(&mut s, 0, b"GET /evil");
        ack_to(&mut s, 9);
        assert_eq!(text(&drain(&mut s)), b"GET /evil");
        let o = send(&mut s, 5, b"good");
        assert_eq!(o.disposition, Disposition::BeforeBaseSeq);
        assert!(o.events.contains(Event::SegmentBeforeBaseSeq));
        ack_to(&mut s, 9);
        assert!(drain(&mut s).is_empty());
        // Straddling the delivered offset: only the new part is taken.
        let o = send(&mut s, 7, b"XX more");
        assert_eq!(o.disposition, Disposition::Overlap);
        assert_eq!(o.new_bytes, 5);
        ack_to(&mut s, 14);
        assert_eq!(drain(&mut s), vec![Out::Data(9, b" more".to_vec())]);
        assert_eq!(s.counters().before_base_seq, 1);
    }

    /// Insertion of data the host would reject as out of window.
    #[test]
    fn out_of_window_segment_is_ignored() {
        let mut c = cfg(Policy::Bsd);
        c.max_window = 65535;
        let mut s = started(c);
        let o = send(&mut s, 70_000, b"junk");
        assert_eq!(o.disposition, Disposition::OutOfWindow);
        assert!(o.events.contains(Event::PacketOutOfWindow));
        send(&mut s, 0, b"ok");
        s.flush();
        assert_eq!(text(&drain(&mut s)), b"ok");
        assert_eq!(s.counters().out_of_window, 1);
    }

    #[test]
    fn inline_mode_delivers_first_seen_bytes() {
        let mut c = cfg(Policy::Last);
        c.inline = true;
        let mut s = started(c);
        send(&mut s, 0, b"GET /evil");
        assert_eq!(text(&drain(&mut s)), b"GET /evil");
        let o = send(&mut s, 5, b"good");
        assert_eq!(o.disposition, Disposition::BeforeBaseSeq);
        assert!(drain(&mut s).is_empty());
    }

    // ---- retransmissions, wrap, flags -----------------------------------

    #[test]
    fn exact_retransmission_is_counted_not_redelivered() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, b"hello");
        let o = send(&mut s, 0, b"hello");
        assert_eq!(o.disposition, Disposition::Retransmission);
        assert!(o.events.contains(Event::PktRetransmission));
        assert!(!o.events.contains(Event::OverlapDifferentData));
        ack_to(&mut s, 5);
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"hello".to_vec())]);
        assert_eq!(s.counters().retransmissions, 1);
        assert_eq!(s.counters().bytes_delivered, 5);
    }

    #[test]
    fn sequence_wrap_around() {
        let isn = u32::MAX - 3;
        let mut s = StreamDir::new(cfg(Policy::Bsd));
        s.segment(t(), isn, &[], TH_SYN, 0);
        assert_eq!(s.base_seq(), Some(u32::MAX - 2));
        // Offsets 0..6 straddle the wrap; send out of order.
        s.segment(t(), 3, b"ghij", 0x18, 0); // offset 6
        s.segment(t(), u32::MAX - 2, b"abcdef", 0x18, 0); // offset 0
        assert_eq!(s.next_seq(), Some(7));
        s.ack(7);
        assert_eq!(text(&drain(&mut s)), b"abcdefghij");
    }

    #[test]
    fn syn_with_data_is_stream_data() {
        let mut s = StreamDir::new(cfg(Policy::Bsd));
        let o = s.segment(t(), ISN, b"tfo", TH_SYN, 0);
        assert_eq!(o.disposition, Disposition::Accepted);
        send(&mut s, 3, b"more");
        ack_to(&mut s, 7);
        assert_eq!(text(&drain(&mut s)), b"tfomore");
    }

    #[test]
    fn fin_ends_the_stream_and_its_ack_is_not_a_gap() {
        let mut s = started(cfg(Policy::Bsd));
        s.segment(t(), ISN + 1, b"bye", TH_FIN | 0x10, 0);
        assert_eq!(s.fin_offset(), Some(3));
        ack_to(&mut s, 4); // ACK of the FIN
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"bye".to_vec())]);
        assert!(s.is_finished());
        assert_eq!(s.counters().gaps, 0);
    }

    #[test]
    fn fin_ack_seen_before_the_fin_is_not_a_gap() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, b"bye");
        ack_to(&mut s, 4); // the mirror delivered the ACK of the FIN first
        s.segment(t(), ISN + 4, &[], TH_FIN | 0x10, 0);
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"bye".to_vec())]);
        assert!(s.is_finished());
    }

    #[test]
    fn rst_payload_is_ignored() {
        let mut s = started(cfg(Policy::Bsd));
        let o = s.segment(t(), ISN + 1, b"x", TH_RST, 0);
        assert_eq!(o.disposition, Disposition::Reset);
        assert!(s.rst_seen());
        s.flush();
        assert!(drain(&mut s).is_empty());
    }

    #[test]
    fn midstream_pickup_and_data_before_it() {
        let mut s = StreamDir::new(cfg(Policy::Bsd));
        assert_eq!(
            s.segment(t(), 5000, &[], 0x10, 0).disposition,
            Disposition::NotInitialized
        );
        s.ack(1); // nothing to map yet
        s.segment(t(), 5000, b"world", 0x18, 0);
        assert!(s.is_midstream());
        let o = s.segment(t(), 4994, b"hello ", 0x18, 0);
        assert_eq!(o.disposition, Disposition::BeforeBaseSeq);
        s.ack(5005);
        assert_eq!(text(&drain(&mut s)), b"world");
    }

    // ---- gaps -----------------------------------------------------------

    #[test]
    fn lost_segment_is_a_gap_then_data_continues() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, &[b'a'; 100]);
        send(&mut s, 200, &[b'c'; 100]);
        ack_to(&mut s, 300); // the receiver got the middle; we did not
        let out = drain(&mut s);
        assert_eq!(
            out,
            vec![
                Out::Data(0, vec![b'a'; 100]),
                Out::Gap(100, 100),
                Out::Data(200, vec![b'c'; 100]),
            ]
        );
        assert_eq!((s.counters().gaps, s.counters().gap_bytes), (1, 100));
        assert!(s.take_events().contains(Event::SeqGap));
        // Reassembly continues after the gap.
        send(&mut s, 300, b"tail");
        ack_to(&mut s, 304);
        assert_eq!(drain(&mut s), vec![Out::Data(300, b"tail".to_vec())]);
        // The late segment for the gap is before the base.
        assert_eq!(
            send(&mut s, 100, &[b'b'; 100]).disposition,
            Disposition::BeforeBaseSeq
        );
    }

    #[test]
    fn ack_for_unseen_data_at_the_end_is_a_gap() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, b"abc");
        ack_to(&mut s, 10);
        assert_eq!(
            drain(&mut s),
            vec![Out::Data(0, b"abc".to_vec()), Out::Gap(3, 7)]
        );
    }

    #[test]
    fn truncated_segment_keeps_its_bytes_then_a_gap() {
        let mut s = started(cfg(Policy::Bsd));
        // 100 bytes declared, 60 captured.
        let o = s.segment(t(), ISN + 1, &[b'x'; 60], 0x18, 40);
        assert_eq!(o.new_bytes, 100);
        assert_eq!(s.next_seq(), Some(ISN + 101));
        send(&mut s, 100, b"next");
        ack_to(&mut s, 104);
        assert_eq!(
            drain(&mut s),
            vec![
                Out::Data(0, vec![b'x'; 60]),
                Out::Gap(60, 40),
                Out::Data(100, b"next".to_vec()),
            ]
        );
        assert_eq!(s.counters().truncated_bytes, 40);
    }

    #[test]
    fn full_copy_fills_a_truncation_hole() {
        let full: Vec<u8> = (0..100u8).collect();
        let mut s = started(cfg(Policy::Bsd));
        s.segment(t(), ISN + 1, &full[..60], 0x18, 40);
        let o = send(&mut s, 0, &full);
        assert_eq!(o.disposition, Disposition::Overlap);
        assert_eq!(o.new_bytes, 40);
        ack_to(&mut s, 100);
        let out = drain(&mut s);
        assert_eq!(text(&out), full);
        assert_eq!(s.counters().gaps, 0);
    }

    #[test]
    fn truncation_hole_in_the_middle_of_a_hole_is_split() {
        let mut s = started(cfg(Policy::Bsd));
        s.segment(t(), ISN + 1, b"ab", 0x18, 8); // data [0,2), hole [2,10)
        send(&mut s, 4, b"ef"); // fills [4,6) inside the hole
        assert_eq!(s.buffered_pieces(), 4);
        ack_to(&mut s, 10);
        assert_eq!(text(&drain(&mut s)), b"ab??ef????");
    }

    #[test]
    fn inline_holes_block_until_flush() {
        let mut c = cfg(Policy::Bsd);
        c.inline = true;
        let mut s = started(c);
        send(&mut s, 0, b"0123456789");
        send(&mut s, 20, b"klmnopqrst");
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"0123456789".to_vec())]);
        s.flush();
        assert_eq!(
            drain(&mut s),
            vec![Out::Gap(10, 10), Out::Data(20, b"klmnopqrst".to_vec())]
        );
    }

    #[test]
    fn ack_received_delivers_contiguous_data_only() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, b"abc");
        send(&mut s, 5, b"fg");
        s.ack_received();
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"abc".to_vec())]);
        send(&mut s, 3, b"de");
        s.ack_received();
        assert_eq!(
            drain(&mut s),
            vec![Out::Data(3, b"de".to_vec()), Out::Data(5, b"fg".to_vec())]
        );
    }

    #[test]
    fn partial_ack_splits_a_segment() {
        let mut s = started(cfg(Policy::Bsd));
        send(&mut s, 0, b"abcdef");
        ack_to(&mut s, 2);
        assert_eq!(drain(&mut s), vec![Out::Data(0, b"ab".to_vec())]);
        ack_to(&mut s, 1); // backwards: ignored
        ack_to(&mut s, 6);
        assert_eq!(drain(&mut s), vec![Out::Data(2, b"cdef".to_vec())]);
        assert_eq!(s.buffered_bytes(), 0);
    }

    // ---- caps and depth -------------------------------------------------

    #[test]
    fn buffered_bytes_cap_drops_and_counts() {
        let mut c = cfg(Policy::Bsd);
        c.max_buffered_bytes = 100;
        let mut s = started(c);
        assert_eq!(
            send(&mut s, 100, &[1; 40]).disposition,
            Disposition::Accepted
        );
        assert_eq!(
            send(&mut s, 200, &[2; 40]).disposition,
            Disposition::Accepted
        );
        let o = send(&mut s, 300, &[3; 40]);
        assert_eq!(o.disposition, Disposition::DroppedAtCap);
        assert!(o.events.contains(Event::SegmentMemcapDrop));
        assert_eq!(s.buffered_bytes(), 80);
        // A retransmission of buffered bytes adds nothing and is not dropped.
        assert_eq!(
            send(&mut s, 100, &[1; 40]).disposition,
            Disposition::Retransmission
        );
        assert_eq!(s.counters().dropped_segments, 1);
        assert_eq!(s.counters().dropped_bytes, 40);
    }

    #[test]
    fn segment_cap_drops_and_counts() {
        let mut c = cfg(Policy::Bsd);
        c.max_segments = 2;
        let mut s = started(c);
        send(&mut s, 10, b"a");
        send(&mut s, 20, b"b");
        assert_eq!(
            send(&mut s, 30, b"c").disposition,
            Disposition::DroppedAtCap
        );
        assert_eq!(s.buffered_pieces(), 2);
        // Delivery frees room.
        send(&mut s, 0, b"0123456789");
        assert_eq!(s.counters().dropped_segments, 2);
        ack_to(&mut s, 11);
        drain(&mut s);
        assert_eq!(
            send(&mut s, 0, b"0123456789").disposition,
            Disposition::BeforeBaseSeq
        );
        assert_eq!(
            send(&mut s, 10, b"a123456789").disposition,
            Disposition::Overlap
        );
        assert!(s.buffered_pieces() <= 2);
    }

    #[test]
    fn depth_limits_delivery_with_one_event() {
        let mut c = cfg(Policy::Bsd);
        c.depth = 50;
        let mut s = started(c);
        send(&mut s, 0, &[b'a'; 40]);
        let o = send(&mut s, 40, &[b'b'; 40]);
        assert!(o.events.contains(Event::DepthReached));
        let o = send(&mut s, 80, &[b'c'; 40]);
        assert_eq!(o.disposition, Disposition::BeyondDepth);
        assert!(!o.events.contains(Event::DepthReached));
        assert!(s.buffered_bytes() <= 50);
        ack_to(&mut s, 120);
        let out = text(&drain(&mut s));
        assert_eq!(out.len(), 50);
        assert!(s.is_depth_done());
        assert_eq!(s.counters().depth_reached, 1);
        assert_eq!(s.counters().beyond_depth_bytes, 70);
    }

    #[test]
    fn event_names() {
        assert_eq!(
            Event::OverlapDifferentData.as_str(),
            "stream.reassembly_overlap_different_data"
        );
        let mut e = Events::NONE;
        e.insert(Event::SeqGap);
        e.insert(Event::DepthReached);
        assert_eq!(
            e.iter().collect::<Vec<_>>(),
            vec![Event::SeqGap, Event::DepthReached]
        );
    }

    // ---- properties -----------------------------------------------------

    /// Pieces ordered, non-overlapping, after the delivered offset; byte
    /// accounting exact.
    fn check_invariants(s: &StreamDir) {
        let mut end = s.delivered;
        let mut bytes = 0;
        for (&start, p) in &s.pieces {
            assert!(start >= end, "pieces overlap or precede delivery");
            assert!(p.len() > 0, "empty piece");
            if let Piece::Data(v) = p {
                bytes += v.len() as u64;
            }
            end = start + p.len();
        }
        assert_eq!(bytes, s.buffered_bytes);
        assert!(s.rcv_nxt >= s.delivered);
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn isn_strategy() -> impl Strategy<Value = u32> {
        prop_oneof![any::<u32>(), (u32::MAX - 25_000)..=u32::MAX]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any stream, cut into segments, with duplicates and partial
        /// retransmissions of the same bytes, reordered, reassembles
        /// exactly, acknowledged at the end or inline.
        #[test]
        fn reassembles_any_stream(
            data in proptest::collection::vec(any::<u8>(), 0..20_000),
            ncuts in 0usize..80,
            nextra in 0usize..30,
            seed in 1u64..,
            isn in isn_strategy(),
            inline in any::<bool>(),
            policy in proptest::sample::select(Policy::ALL),
        ) {
            let mut rng = XorShift(seed);
            let n = data.len();
            let mut cuts: Vec<usize> = (0..ncuts).map(|_| rng.below(n + 1)).collect();
            cuts.push(0);
            cuts.push(n);
            cuts.sort_unstable();
            cuts.dedup();
            let mut segs: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
            for _ in 0..nextra {
                let a = rng.below(n + 1);
                let b = rng.below(n + 1);
                segs.push((a.min(b), a.max(b)));
                if let Some(&s) = segs.get(rng.below(segs.len())) {
                    segs.push(s); // exact duplicate
                }
            }
            for i in (1..segs.len()).rev() {
                segs.swap(i, rng.below(i + 1));
            }
            let mut c = cfg(policy);
            c.inline = inline;
            let mut s = StreamDir::new(c);
            s.segment(t(), isn, &[], TH_SYN, 0);
            let mut out = Vec::new();
            for (a, b) in segs {
                let seq = isn.wrapping_add(1).wrapping_add(a as u32);
                s.segment(t(), seq, &data[a..b], 0x18, 0);
                if inline {
                    out.extend(drain(&mut s));
                }
            }
            s.ack(isn.wrapping_add(1).wrapping_add(n as u32));
            out.extend(drain(&mut s));
            prop_assert!(out.iter().all(|c| matches!(c, Out::Data(..))));
            prop_assert_eq!(text(&out), data);
            prop_assert_eq!(s.counters().overlap_different_data, 0);
            prop_assert_eq!(s.buffered_bytes(), 0);
            prop_assert_eq!(s.delivered_offset(), n as u64);
            check_invariants(&s);
        }

        /// Arbitrary input never panics, caps hold, chunks come out
        /// contiguous and within the depth.
        #[test]
        fn arbitrary_input_keeps_invariants(
            ops in proptest::collection::vec(
                (0u8..8, any::<u32>(), 0usize..300, any::<u8>(), 0u32..200, any::<u8>()),
                1..200,
            ),
            isn in isn_strategy(),
            policy in proptest::sample::select(Policy::ALL),
            inline in any::<bool>(),
            depth in prop_oneof![Just(0u64), 1u64..4000],
            urgent in proptest::sample::select(UrgentPolicy::ALL),
            urgent_oob_limit in proptest::sample::select(UrgentPolicy::ALL),
            near_limit in any::<bool>(),
        ) {
            let c = StreamConfig {
                policy,
                depth,
                max_buffered_bytes: 2000,
                max_segments: 16,
                inline,
                max_window: 1 << 16,
                urgent,
                urgent_oob_limit,
            };
            let mut s = StreamDir::new(c);
            if near_limit {
                s.urg_offset = MAX_URGENT_OOB - 2;
            }
            let mut next = 0u64;
            for (op, r, len, fill, missing, flags) in ops {
                let near = isn.wrapping_add(r % 6000).wrapping_sub(500);
                match op {
                    0..=2 => {
                        let payload = vec![fill; len];
                        let m = if op == 2 { missing } else { 0 };
                        // Any urgent pointer, in or beyond the segment.
                        let urp = (r >> 20) as u16 % 400;
                        s.segment_urgent(t(), near, &payload, flags, m, urp);
                    }
                    3 => s.ack(near),
                    4 => s.flush(),
                    5 => s.ack_received(),
                    6 => s.ack(r),
                    _ => {
                        // Anywhere in sequence space, with any truncation.
                        s.segment(t(), r, &vec![fill; len], flags, r.rotate_left(7));
                    }
                }
                prop_assert!(s.buffered_bytes() <= 2000);
                prop_assert!(s.buffered_pieces() <= 16);
                prop_assert!(s.boundaries.len() <= 16);
                check_invariants(&s);
                while let Some(ch) = s.poll() {
                    let (o, l) = match ch {
                        Chunk::Data { offset, bytes } => (offset, bytes.len() as u64),
                        Chunk::Gap { offset, len } => (offset, len),
                    };
                    prop_assert_eq!(o, next);
                    prop_assert!(l > 0);
                    next = o + l;
                    prop_assert!(depth == 0 || next <= depth);
                }
            }
        }
    }
}
