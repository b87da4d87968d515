//! One shard's flow table.
//!
//! * Keyed by [`FlowKey`]; values are a [`Flow`] record (Suricata's flow
//!   counters, per-direction TCP flags, a simple TCP state) plus caller data
//!   `U` (e.g. reassembly state), returned with the flow when it ends.
//! * Client and server as Suricata decides them: the sender of the first
//!   packet is the client, unless that packet is a TCP SYN-ACK (with
//!   midstream pick-up on, mirador's default), whose receiver is the client.
//! * Per-state timeouts from [`FlowTimeouts`] (`flow-timeouts.tcp/udp/icmp/
//!   sctp/default`), `new`/`established`/`closed`, driven by the caller's
//!   watermark ([`FlowTable::advance`]). A flow has timed out at time `t`
//!   when `t >= last_seen + timeout` (Suricata's comparison). A packet that
//!   arrives for a flow that has already timed out by the packet's own time
//!   ends that flow (reason `timeout`) and starts a new one, as Suricata's
//!   lookup does, so the result does not depend on how often the watermark
//!   is advanced.
//! * Caps: `max_flows` and a rough memory cap (`memcap / bytes_per_flow`).
//!   A new flow at the cap puts the table in emergency mode (Suricata's
//!   `emergency-*` timeouts apply from then on, and timed-out flows are
//!   swept at once); if it is still full the flow with the oldest
//!   `last_seen` is evicted with reason `forced`. Emergency mode ends when
//!   the table has fallen to `(100 - emergency_recovery)%` of its cap.
//!   Every timeout, eviction and emergency entry/exit is counted.
//!
//! # Hashing
//!
//! hashbrown's `HashTable<u32>` with `foldhash::fast::RandomState` (a fresh
//! seed per table), indexing a slab of entries (crates.md §10). The seed
//! changes the table's internal order between runs, so nothing observable
//! depends on that order: flows are expired through per-class lists, and
//! what a call returns is sorted by `(first_seen, key)`.
//!
//! # Expiry without scanning
//!
//! Flows sit in one of 15 intrusive doubly linked lists, one per (protocol
//! class, state), in the order they were last touched. Within one list the
//! timeout is the same for every flow, so the list head is the first to
//! expire and [`FlowTable::advance`] only looks at heads. A flow touched by
//! a packet older than the list's newest is walked back to its place, so
//! the order holds whatever order the packets came in; only past 4096 newer
//! flows (a capture whose clock jumped back) does the walk stop, which can
//! delay (never advance) that flow's expiry until the flows before it
//! expire — its record is unchanged, since the lookup-time check above
//! still applies.
//!
//! # Allocation
//!
//! The hash index (a few bytes per flow) is sized for the cap up front and
//! never rehashes; the slab of entries starts at `prealloc` flows and grows
//! by doubling but never past the cap. Freed slots are reused through a
//! free list, so in steady state `update` and `advance` do not allocate
//! (apart from `out`, which the caller reuses, and whatever `U::default()`
//! does). A shutdown can be taken in chunks ([`FlowTable::shutdown_some`]).

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use mirador_config::{FlowTimeoutSet, FlowTimeouts};
use mirador_wire::Timestamp;
use std::hash::BuildHasher;

use crate::key::{Direction, FlowKey, proto};

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}
use tcp_flags::{ACK, FIN, RST, SYN};

/// A flow's state for timeouts and for the EVE `flow.state` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowState {
    /// Not established yet.
    New,
    /// TCP: handshake done (or picked up midstream); others: both
    /// directions seen.
    Established,
    /// TCP: RST, or FIN from both sides.
    Closed,
}

impl FlowState {
    /// The EVE name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        }
    }
}

/// A simple, app-independent TCP state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    /// Nothing that starts a session seen (midstream pick-up off).
    None,
    /// SYN seen from the client.
    SynSent,
    /// SYN-ACK seen from the server.
    SynRecv,
    /// Handshake completed or picked up midstream.
    Established,
    /// FIN seen from one side.
    Closing,
    /// RST, or FIN from both sides.
    Closed,
}

/// Why a flow ended (EVE `flow.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Its timeout passed.
    Timeout,
    /// Evicted at the cap.
    Forced,
    /// The table was shut down.
    Shutdown,
}

impl EndReason {
    /// The EVE name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One flow's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Time of the first packet.
    pub first_seen: Timestamp,
    /// Latest packet time seen.
    pub last_seen: Timestamp,
    /// Whether the client is [`FlowKey::lo`].
    pub client_is_lo: bool,
    /// Packets from the client.
    pub pkts_toserver: u64,
    /// Packets from the server.
    pub pkts_toclient: u64,
    /// Bytes from the client (as the caller counts them, e.g. frame length).
    pub bytes_toserver: u64,
    /// Bytes from the server.
    pub bytes_toclient: u64,
    /// TCP flags seen from the client, OR-ed.
    pub tcp_flags_ts: u8,
    /// TCP flags seen from the server, OR-ed.
    pub tcp_flags_tc: u8,
    /// TCP state (`None` for other protocols).
    pub tcp_state: TcpState,
    /// Created while the table was in emergency mode.
    pub emergency: bool,
    proto: u8,
    fins: u8,
    /// Directions seen (bit 0 from the client, bit 1 from the server) by
    /// packets that count for the state: not ICMP errors, which Suricata
    /// counts in a flow but never marks as seen (`FlowUpdateSeenFlag`).
    seen: u8,
}

impl Flow {
    /// The state that selects the timeout.
    pub fn state(&self) -> FlowState {
        if self.proto == proto::TCP {
            match self.tcp_state {
                TcpState::None | TcpState::SynSent | TcpState::SynRecv => FlowState::New,
                TcpState::Established | TcpState::Closing => FlowState::Established,
                TcpState::Closed => FlowState::Closed,
            }
        } else if self.seen == 3 {
            FlowState::Established
        } else {
            FlowState::New
        }
    }

    /// The direction of packets from the client.
    pub fn client_dir(&self) -> Direction {
        if self.client_is_lo {
            Direction::LoToHi
        } else {
            Direction::HiToLo
        }
    }

    /// `last_seen - first_seen` in whole seconds (EVE `age`).
    pub fn age_secs(&self) -> i64 {
        self.last_seen.secs() - self.first_seen.secs()
    }
}

/// A flow that ended, by value, for the caller to write its records.
#[derive(Debug)]
pub struct EndedFlow<U = ()> {
    /// Its key.
    pub key: FlowKey,
    /// Its record.
    pub flow: Flow,
    /// The caller's data.
    pub user: U,
    /// Why it ended.
    pub reason: EndReason,
}

/// Table configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableConfig {
    /// Maximum flows (hard cap).
    pub max_flows: usize,
    /// Rough memory cap in bytes: the cap is also `memcap / bytes_per_flow`.
    pub memcap: Option<usize>,
    /// Flows to allocate for up front (bounded by the cap).
    pub prealloc: usize,
    /// Percent of the cap to free before leaving emergency mode
    /// (Suricata's `flow.emergency-recovery`, default 30).
    pub emergency_recovery: u8,
    /// TCP midstream pick-up (`stream.midstream`; mirador default on): a
    /// first packet without SYN establishes the session, and a first SYN-ACK
    /// makes its receiver the client.
    pub midstream: bool,
    /// `flow-timeouts`.
    pub timeouts: FlowTimeouts,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            max_flows: 65_536,
            memcap: None,
            prealloc: 10_000,
            emergency_recovery: 30,
            midstream: true,
            timeouts: FlowTimeouts::default(),
        }
    }
}

/// Counters, cumulative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableCounters {
    /// Flows created.
    pub created: u64,
    /// Flows ended by timeout (by the watermark or on lookup).
    pub timeouts: u64,
    /// Flows evicted at the cap.
    pub forced: u64,
    /// Flows ended by shutdown.
    pub shutdown: u64,
    /// New flows that found the table at its cap.
    pub cap_hits: u64,
    /// Closed TCP flows ended early because a new connection reused their
    /// ports (also counted in `timeouts`).
    pub tcp_reuse: u64,
    /// Times emergency mode was entered.
    pub emergency_entered: u64,
    /// Times emergency mode was left.
    pub emergency_over: u64,
}

/// What one packet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Packet time.
    pub ts: Timestamp,
    /// Direction relative to the key.
    pub dir: Direction,
    /// Bytes to count.
    pub len: u32,
    /// TCP flags, for TCP packets with a TCP header.
    pub tcp_flags: Option<u8>,
}

/// The flow a packet was applied to.
#[derive(Debug)]
pub struct Touched<'a, U> {
    /// The flow, after the packet.
    pub flow: &'a Flow,
    /// The caller's data.
    pub user: &'a mut U,
    /// The packet went from client to server.
    pub to_server: bool,
    /// The packet created the flow.
    pub created: bool,
}

const NIL: u32 = u32::MAX;
const CLASSES: usize = 5;
const LISTS: usize = CLASSES * 3;
const FREE: u8 = u8::MAX;
/// How far back a flow touched by an out-of-order packet is moved to keep
/// its expiry list in `last_seen` order (see "Expiry without scanning").
const ORDER_WALK: usize = 4096;

struct Entry<U> {
    key: FlowKey,
    flow: Flow,
    user: U,
}

struct Slot<U> {
    entry: Option<Entry<U>>,
    prev: u32,
    next: u32,
    list: u8,
}

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

fn proto_class(p: u8) -> usize {
    match p {
        proto::TCP => 0,
        proto::UDP => 1,
        proto::ICMP | proto::ICMPV6 => 2,
        proto::SCTP => 3,
        _ => 4,
    }
}

fn list_of(flow: &Flow) -> u8 {
    let s = match flow.state() {
        FlowState::New => 0,
        FlowState::Established => 1,
        FlowState::Closed => 2,
    };
    (proto_class(flow.proto) * 3 + s) as u8
}

/// One shard's flow table.
pub struct FlowTable<U = ()> {
    cfg: TableConfig,
    cap: usize,
    hasher: RandomState,
    index: HashTable<u32>,
    slots: Vec<Slot<U>>,
    free: u32,
    lists: [List; LISTS],
    len: usize,
    emergency: bool,
    watermark: Timestamp,
    counters: TableCounters,
}

impl<U: Default> FlowTable<U> {
    /// Rough bytes per flow: slab slot, index entry and control byte at
    /// hashbrown's 7/8 load factor.
    pub fn bytes_per_flow() -> usize {
        std::mem::size_of::<Slot<U>>() + (std::mem::size_of::<u32>() + 1) * 8 / 7 + 1
    }

    /// A table with `cfg`.
    pub fn new(cfg: TableConfig) -> Self {
        let mut cap = cfg.max_flows.max(1);
        if let Some(m) = cfg.memcap {
            cap = cap.min((m / Self::bytes_per_flow()).max(1));
        }
        cap = cap.min(NIL as usize - 1);
        let pre = cfg.prealloc.min(cap);
        FlowTable {
            cfg,
            cap,
            hasher: RandomState::default(),
            // The index is small (a `u32` and a control byte per bucket):
            // sized for the cap at once, it never rehashes.
            index: HashTable::with_capacity(cap.min(1 << 24)),
            slots: Vec::with_capacity(pre),
            free: NIL,
            lists: [List {
                head: NIL,
                tail: NIL,
            }; LISTS],
            len: 0,
            emergency: false,
            watermark: Timestamp::from_nanos(i64::MIN),
            counters: TableCounters::default(),
        }
    }

    /// Flows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no flows are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The effective cap (`max_flows`, lowered by the memory cap).
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Whether the table is in emergency mode.
    pub fn is_emergency(&self) -> bool {
        self.emergency
    }

    /// Counters.
    pub fn counters(&self) -> &TableCounters {
        &self.counters
    }

    /// The latest watermark passed to [`FlowTable::advance`].
    pub fn watermark(&self) -> Timestamp {
        self.watermark
    }

    /// The flow of `key`, if held.
    pub fn get(&self, key: &FlowKey) -> Option<(&Flow, &U)> {
        let i = self.find(key)?;
        let e = self.slots[i as usize].entry.as_ref()?;
        Some((&e.flow, &e.user))
    }

    /// The flow of `key` for a packet going in `dir`, without applying a
    /// packet to it (counters, state and expiry order unchanged).
    pub fn peek_mut(&mut self, key: &FlowKey, dir: Direction) -> Option<Touched<'_, U>> {
        let i = self.find(key)?;
        let e = self.slots[i as usize].entry.as_mut()?;
        Some(Touched {
            to_server: (dir == Direction::LoToHi) == e.flow.client_is_lo,
            flow: &e.flow,
            user: &mut e.user,
            created: false,
        })
    }

    /// Swaps the client and server of `key`'s flow, with its per-direction
    /// counters and flags (Suricata's `FlowSwap`, used when protocol
    /// detection finds a midstream flow the wrong way round). `false` when
    /// there is no such flow.
    pub fn reverse(&mut self, key: &FlowKey) -> bool {
        let Some(i) = self.find(key) else {
            return false;
        };
        let Some(e) = self.slots[i as usize].entry.as_mut() else {
            return false;
        };
        let f = &mut e.flow;
        f.client_is_lo = !f.client_is_lo;
        std::mem::swap(&mut f.pkts_toserver, &mut f.pkts_toclient);
        f.seen = ((f.seen & 1) << 1) | (f.seen >> 1);
        std::mem::swap(&mut f.bytes_toserver, &mut f.bytes_toclient);
        std::mem::swap(&mut f.tcp_flags_ts, &mut f.tcp_flags_tc);
        true
    }

    /// Applies a packet to its flow, creating the flow if needed. Flows it
    /// ends (timed out on lookup, swept or evicted at the cap) are appended
    /// to `out`, sorted by `(first_seen, key)` within this call.
    pub fn update(
        &mut self,
        key: &FlowKey,
        pkt: &Packet,
        out: &mut Vec<EndedFlow<U>>,
    ) -> Touched<'_, U> {
        self.update_with(key, pkt, out, |_, _| false)
    }

    /// [`update`](Self::update), where `repeats(flow, user)` can tell that
    /// a SYN on a closed flow repeats that flow's own SYN (same ISN, which
    /// the caller's TCP session knows): a retransmission, not a port reuse,
    /// as Suricata's `TcpSessionReuseDoneEnoughSyn` decides.
    pub fn update_with(
        &mut self,
        key: &FlowKey,
        pkt: &Packet,
        out: &mut Vec<EndedFlow<U>>,
        repeats: impl FnOnce(&Flow, &U) -> bool,
    ) -> Touched<'_, U> {
        match self.touch(key, pkt, out, true, repeats) {
            Some((i, created)) => self.apply(i, pkt, created, true),
            // `touch` with `create` always yields a slot.
            None => unreachable!("update creates"),
        }
    }

    /// Applies an ICMP error to the flow it quotes, if that exists and has
    /// not timed out; never creates one. The error is counted (packets,
    /// bytes, last seen) but, as in Suricata, does not mark its direction
    /// seen: a one-sided UDP flow stays `new`.
    pub fn update_existing(
        &mut self,
        key: &FlowKey,
        pkt: &Packet,
        out: &mut Vec<EndedFlow<U>>,
    ) -> Option<Touched<'_, U>> {
        let (i, _) = self.touch(key, pkt, out, false, |_, _| false)?;
        Some(self.apply(i, pkt, false, false))
    }

    /// Advances the clock to `now` (the reader's watermark): ends every flow
    /// whose timeout has passed, appending them to `out` sorted by
    /// `(first_seen, key)`. A watermark older than the last is ignored.
    pub fn advance(&mut self, now: Timestamp, out: &mut Vec<EndedFlow<U>>) {
        if now > self.watermark {
            self.watermark = now;
        }
        let start = out.len();
        self.sweep(self.watermark, out);
        sort_ended(&mut out[start..]);
        self.check_emergency_over();
    }

    /// Ends every flow with reason `shutdown`, appended to `out` sorted by
    /// `(first_seen, key)`.
    pub fn shutdown(&mut self, out: &mut Vec<EndedFlow<U>>) {
        while self.shutdown_some(out, usize::MAX) {}
    }

    /// Ends at most `max` flows with reason `shutdown`, appended to `out`
    /// sorted by `(first_seen, key)` within this call; whether flows remain.
    /// A caller that writes each chunk before the next keeps the memory of
    /// a shutdown bounded by the chunk, not the table.
    pub fn shutdown_some(&mut self, out: &mut Vec<EndedFlow<U>>, max: usize) -> bool {
        let start = out.len();
        let mut n = 0;
        for l in 0..LISTS {
            while self.lists[l].head != NIL && n < max {
                let i = self.lists[l].head;
                self.end(i, EndReason::Shutdown, out);
                n += 1;
            }
        }
        sort_ended(&mut out[start..]);
        self.check_emergency_over();
        self.len > 0
    }

    fn find(&self, key: &FlowKey) -> Option<u32> {
        let h = self.hasher.hash_one(key);
        let slots = &self.slots;
        self.index
            .find(h, |&i| {
                slots[i as usize]
                    .entry
                    .as_ref()
                    .is_some_and(|e| e.key == *key)
            })
            .copied()
    }

    fn timeout_secs(&self, flow: &Flow) -> u32 {
        let t = &self.cfg.timeouts;
        let set: &FlowTimeoutSet = match proto_class(flow.proto) {
            0 => &t.tcp,
            1 => &t.udp,
            2 => &t.icmp,
            3 => &t.sctp,
            _ => &t.default,
        };
        match (flow.state(), self.emergency) {
            (FlowState::New, false) => set.new,
            (FlowState::Established, false) => set.established,
            (FlowState::Closed, false) => set.closed,
            (FlowState::New, true) => set.emergency_new,
            (FlowState::Established, true) => set.emergency_established,
            (FlowState::Closed, true) => set.emergency_closed,
        }
    }

    fn timed_out(&self, flow: &Flow, now: Timestamp) -> bool {
        let t = i64::from(self.timeout_secs(flow)).saturating_mul(1_000_000_000);
        now.as_nanos() >= flow.last_seen.as_nanos().saturating_add(t)
    }

    /// Ends the flows of every list whose head has timed out at `now`.
    fn sweep(&mut self, now: Timestamp, out: &mut Vec<EndedFlow<U>>) {
        for l in 0..LISTS {
            loop {
                let i = self.lists[l].head;
                if i == NIL {
                    break;
                }
                let expired = match &self.slots[i as usize].entry {
                    Some(e) => self.timed_out(&e.flow, now),
                    None => true,
                };
                if !expired {
                    break;
                }
                self.end(i, EndReason::Timeout, out);
            }
        }
    }

    fn check_emergency_over(&mut self) {
        if self.emergency {
            let keep = 100usize.saturating_sub(usize::from(self.cfg.emergency_recovery.min(100)));
            if self.len <= self.cap * keep / 100 {
                self.emergency = false;
                self.counters.emergency_over += 1;
            }
        }
    }

    /// Finds (or, with `create`, makes) the slot for `key` at `pkt.ts`.
    fn touch(
        &mut self,
        key: &FlowKey,
        pkt: &Packet,
        out: &mut Vec<EndedFlow<U>>,
        create: bool,
        repeats: impl FnOnce(&Flow, &U) -> bool,
    ) -> Option<(u32, bool)> {
        let start = out.len();
        if let Some(i) = self.find(key) {
            let (expired, reused) = match &self.slots[i as usize].entry {
                Some(e) => (
                    self.timed_out(&e.flow, pkt.ts),
                    create && self.reuses(&e.flow, pkt) && !repeats(&e.flow, &e.user),
                ),
                None => (true, false),
            };
            if !expired && !reused {
                return Some((i, false));
            }
            if reused && !expired {
                self.counters.tcp_reuse += 1;
            }
            self.end(i, EndReason::Timeout, out);
        }
        if !create {
            sort_ended(&mut out[start..]);
            return None;
        }
        if self.len >= self.cap {
            self.make_room(pkt.ts, out);
        }
        sort_ended(&mut out[start..]);
        Some((self.insert(*key, pkt), true))
    }

    /// TCP port reuse: a new connection's SYN (or, with midstream pick-up,
    /// SYN-ACK) on a closed session ends the old flow and starts a new one,
    /// as Suricata's `TcpSessionPacketSsnReuse` does. The old flow's record
    /// says `timeout`, as Suricata's does for a reused flow.
    fn reuses(&self, flow: &Flow, pkt: &Packet) -> bool {
        if flow.proto != proto::TCP || flow.tcp_state != TcpState::Closed {
            return false;
        }
        let Some(fl) = pkt.tcp_flags else {
            return false;
        };
        match fl & (SYN | ACK | RST | FIN) {
            SYN => true,
            x if x == SYN | ACK => self.cfg.midstream,
            _ => false,
        }
    }

    fn make_room(&mut self, ts: Timestamp, out: &mut Vec<EndedFlow<U>>) {
        self.counters.cap_hits += 1;
        if !self.emergency {
            self.emergency = true;
            self.counters.emergency_entered += 1;
        }
        let now = ts.max(self.watermark);
        self.sweep(now, out);
        while self.len >= self.cap {
            // The oldest by last_seen among the list heads; ties by key.
            let mut best: Option<(Timestamp, FlowKey, u32)> = None;
            for l in &self.lists {
                if l.head == NIL {
                    continue;
                }
                if let Some(e) = &self.slots[l.head as usize].entry {
                    let c = (e.flow.last_seen, e.key, l.head);
                    if best.is_none_or(|b| (c.0, c.1) < (b.0, b.1)) {
                        best = Some(c);
                    }
                }
            }
            match best {
                Some((_, _, i)) => self.end(i, EndReason::Forced, out),
                None => break,
            }
        }
    }

    fn insert(&mut self, key: FlowKey, pkt: &Packet) -> u32 {
        let flags = pkt.tcp_flags.unwrap_or(0);
        let synack = key.proto == proto::TCP && flags & (SYN | ACK) == (SYN | ACK);
        let sender_is_lo = pkt.dir == Direction::LoToHi;
        let client_is_lo = if synack && self.cfg.midstream {
            !sender_is_lo
        } else {
            sender_is_lo
        };
        let flow = Flow {
            first_seen: pkt.ts,
            last_seen: pkt.ts,
            client_is_lo,
            pkts_toserver: 0,
            pkts_toclient: 0,
            bytes_toserver: 0,
            bytes_toclient: 0,
            tcp_flags_ts: 0,
            tcp_flags_tc: 0,
            tcp_state: TcpState::None,
            emergency: self.emergency,
            proto: key.proto,
            fins: 0,
            seen: 0,
        };
        let entry = Entry {
            key,
            flow,
            user: U::default(),
        };
        let i = if self.free != NIL {
            let i = self.free;
            let s = &mut self.slots[i as usize];
            self.free = s.next;
            s.entry = Some(entry);
            i
        } else {
            if self.slots.len() == self.slots.capacity() {
                // Grow by doubling, but never past the cap: the slab is
                // most of the table's memory, and amortized doubling alone
                // could leave it up to twice the cap.
                let len = self.slots.len();
                let extra = len.max(1024).min(self.cap.saturating_sub(len)).max(1);
                self.slots.reserve_exact(extra);
            }
            self.slots.push(Slot {
                entry: Some(entry),
                prev: NIL,
                next: NIL,
                list: FREE,
            });
            (self.slots.len() - 1) as u32
        };
        let h = self.hasher.hash_one(key);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(h, i, |&j| {
            slots[j as usize]
                .entry
                .as_ref()
                .map_or(0, |e| hasher.hash_one(e.key))
        });
        self.len += 1;
        self.counters.created += 1;
        i
    }

    fn apply(&mut self, i: u32, pkt: &Packet, created: bool, seen: bool) -> Touched<'_, U> {
        let midstream = self.cfg.midstream;
        let slot = &mut self.slots[i as usize];
        let Some(e) = slot.entry.as_mut() else {
            unreachable!("live slot")
        };
        let f = &mut e.flow;
        let to_server = (pkt.dir == Direction::LoToHi) == f.client_is_lo;
        if pkt.ts > f.last_seen {
            f.last_seen = pkt.ts;
        }
        if to_server {
            f.pkts_toserver += 1;
            f.bytes_toserver += u64::from(pkt.len);
        } else {
            f.pkts_toclient += 1;
            f.bytes_toclient += u64::from(pkt.len);
        }
        if seen {
            f.seen |= if to_server { 1 } else { 2 };
        }
        if let (proto::TCP, Some(fl)) = (f.proto, pkt.tcp_flags) {
            if to_server {
                f.tcp_flags_ts |= fl;
            } else {
                f.tcp_flags_tc |= fl;
            }
            tcp_step(f, fl, to_server, midstream);
        }
        let new_list = list_of(f);
        let old_list = slot.list;
        // Move to the tail of its (possibly new) list.
        if old_list != FREE {
            self.unlink(i);
        }
        self.link_tail(i, new_list);
        let Some(e) = self.slots[i as usize].entry.as_mut() else {
            unreachable!("live slot")
        };
        Touched {
            flow: &e.flow,
            user: &mut e.user,
            to_server,
            created,
        }
    }

    fn unlink(&mut self, i: u32) {
        let (prev, next, l) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next, s.list)
        };
        if l == FREE {
            return;
        }
        let list = &mut self.lists[usize::from(l)];
        if prev == NIL {
            list.head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
        let s = &mut self.slots[i as usize];
        s.prev = NIL;
        s.next = NIL;
        s.list = FREE;
    }

    fn last_seen_of(&self, i: u32) -> Timestamp {
        self.slots[i as usize]
            .entry
            .as_ref()
            .map_or(Timestamp::from_nanos(i64::MIN), |e| e.flow.last_seen)
    }

    /// Links slot `i` into list `l` in `last_seen` order: at the tail, or,
    /// when packet times went backwards, after the last flow not newer than
    /// it (a walk of at most [`ORDER_WALK`] steps from the tail).
    fn link_tail(&mut self, i: u32, l: u8) {
        let ts = self.last_seen_of(i);
        let mut after = self.lists[usize::from(l)].tail;
        let mut steps = 0;
        while after != NIL && self.last_seen_of(after) > ts && steps < ORDER_WALK {
            after = self.slots[after as usize].prev;
            steps += 1;
        }
        let next = if after == NIL {
            self.lists[usize::from(l)].head
        } else {
            self.slots[after as usize].next
        };
        {
            let s = &mut self.slots[i as usize];
            s.prev = after;
            s.next = next;
            s.list = l;
        }
        if after == NIL {
            self.lists[usize::from(l)].head = i;
        } else {
            self.slots[after as usize].next = i;
        }
        if next == NIL {
            self.lists[usize::from(l)].tail = i;
        } else {
            self.slots[next as usize].prev = i;
        }
    }

    /// Removes slot `i` and appends it to `out` with `reason`.
    fn end(&mut self, i: u32, reason: EndReason, out: &mut Vec<EndedFlow<U>>) {
        self.unlink(i);
        let Some(e) = self.slots[i as usize].entry.take() else {
            return;
        };
        let h = self.hasher.hash_one(e.key);
        if let Ok(o) = self.index.find_entry(h, |&j| j == i) {
            o.remove();
        }
        let s = &mut self.slots[i as usize];
        s.next = self.free;
        self.free = i;
        self.len -= 1;
        match reason {
            EndReason::Timeout => self.counters.timeouts += 1,
            EndReason::Forced => self.counters.forced += 1,
            EndReason::Shutdown => self.counters.shutdown += 1,
        }
        out.push(EndedFlow {
            key: e.key,
            flow: e.flow,
            user: e.user,
            reason,
        });
    }
}

/// The TCP state machine: SYN / SYN-ACK / ACK, FIN from both sides, RST.
fn tcp_step(f: &mut Flow, fl: u8, to_server: bool, midstream: bool) {
    use TcpState::*;
    if f.tcp_state == Closed {
        return;
    }
    if fl & RST != 0 {
        f.tcp_state = Closed;
        return;
    }
    let syn = fl & SYN != 0;
    let ack = fl & ACK != 0;
    f.tcp_state = match f.tcp_state {
        None if syn && !ack && to_server => SynSent,
        None if syn && ack && !to_server && midstream => SynRecv,
        None if !syn && midstream => Established,
        SynSent if syn && ack && !to_server => SynRecv,
        SynRecv if ack && !syn && to_server => Established,
        s => s,
    };
    if fl & FIN != 0 {
        f.fins |= if to_server { 1 } else { 2 };
        f.tcp_state = if f.fins == 3 {
            Closed
        } else if matches!(f.tcp_state, Established | Closing) {
            Closing
        } else {
            f.tcp_state
        };
    }
}

fn sort_ended<U>(v: &mut [EndedFlow<U>]) {
    v.sort_unstable_by(|a, b| {
        (a.flow.first_seen, a.key, a.flow.last_seen).cmp(&(
            b.flow.first_seen,
            b.key,
            b.flow.last_seen,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Endpoint;
    use mirador_wire::VlanIds;
    use std::net::{IpAddr, Ipv4Addr};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
            port,
        }
    }

    /// Key and direction of a packet from `src` to `dst`.
    fn k(p: u8, src: Endpoint, dst: Endpoint) -> (FlowKey, Direction) {
        FlowKey::new(1, VlanIds::EMPTY, p, 0, src, dst)
    }

    fn pkt(ts: i64, dir: Direction, len: u32, flags: Option<u8>) -> Packet {
        Packet {
            ts: t(ts),
            dir,
            len,
            tcp_flags: flags,
        }
    }

    fn table(max: usize) -> FlowTable<u32> {
        FlowTable::new(TableConfig {
            max_flows: max,
            prealloc: max.min(64),
            ..TableConfig::default()
        })
    }

    #[test]
    fn first_packet_sender_is_client_and_counts_per_direction() {
        let mut tb = table(16);
        let mut out = Vec::new();
        let (key, c2s) = k(6, ep(9, 40000), ep(1, 80));
        let s2c = c2s.reverse();
        let r = tb.update(&key, &pkt(0, c2s, 60, Some(SYN)), &mut out);
        assert!(r.created && r.to_server);
        *r.user += 1;
        tb.update(&key, &pkt(1, s2c, 60, Some(SYN | ACK)), &mut out);
        let r = tb.update(&key, &pkt(1, c2s, 52, Some(ACK)), &mut out);
        assert!(!r.created && r.to_server);
        assert_eq!(r.flow.tcp_state, TcpState::Established);
        tb.update(&key, &pkt(2, c2s, 500, Some(ACK | 0x08)), &mut out);
        tb.update(&key, &pkt(2, s2c, 1500, Some(ACK)), &mut out);
        let (f, u) = tb.get(&key).unwrap();
        assert_eq!(*u, 1);
        assert_eq!(f.client_dir(), c2s);
        assert_eq!((f.pkts_toserver, f.pkts_toclient), (3, 2));
        assert_eq!((f.bytes_toserver, f.bytes_toclient), (612, 1560));
        assert_eq!(f.tcp_flags_ts, SYN | ACK | 0x08);
        assert_eq!(f.tcp_flags_tc, SYN | ACK);
        assert_eq!(f.state(), FlowState::Established);
        assert_eq!((f.first_seen, f.last_seen), (t(0), t(2)));
        assert!(out.is_empty());
    }

    #[test]
    fn syn_ack_first_reverses_direction() {
        let mut tb = table(16);
        let mut out = Vec::new();
        // The first packet seen is the server's SYN-ACK (10.0.0.1:80 ->
        // 10.0.0.9:40000): the client is its receiver.
        let (key, s2c) = k(6, ep(1, 80), ep(9, 40000));
        let r = tb.update(&key, &pkt(0, s2c, 60, Some(SYN | ACK)), &mut out);
        assert!(r.created && !r.to_server);
        assert_eq!(r.flow.tcp_state, TcpState::SynRecv);
        let r = tb.update(&key, &pkt(0, s2c.reverse(), 52, Some(ACK)), &mut out);
        assert!(r.to_server);
        let f = r.flow;
        assert_eq!(f.tcp_state, TcpState::Established);
        assert_eq!(f.client_dir(), s2c.reverse());
        assert_eq!((f.pkts_toserver, f.pkts_toclient), (1, 1));
        // A first packet that is not a SYN-ACK keeps the sender as client.
        let (key2, d) = k(17, ep(1, 53), ep(9, 5353));
        assert!(tb.update(&key2, &pkt(0, d, 80, None), &mut out).to_server);
    }

    #[test]
    fn syn_on_a_closed_session_reuses_the_ports() {
        let mut tb = table(16);
        let mut out = Vec::new();
        let (key, c2s) = k(6, ep(9, 40000), ep(1, 80));
        tb.update(&key, &pkt(0, c2s, 60, Some(SYN)), &mut out);
        tb.update(&key, &pkt(0, c2s.reverse(), 60, Some(SYN | ACK)), &mut out);
        tb.update(&key, &pkt(1, c2s, 60, Some(ACK)), &mut out);
        // A SYN while established is not a new connection.
        assert!(
            !tb.update(&key, &pkt(2, c2s, 60, Some(SYN)), &mut out)
                .created
        );
        tb.update(&key, &pkt(3, c2s.reverse(), 60, Some(RST | ACK)), &mut out);
        assert!(out.is_empty());
        // Closed: the next SYN starts a new flow, the old one ends.
        let r = tb.update(&key, &pkt(5, c2s, 60, Some(SYN)), &mut out);
        assert!(r.created && r.to_server);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].reason, EndReason::Timeout);
        assert_eq!(out[0].flow.pkts_toserver, 3);
        assert_eq!(tb.counters().tcp_reuse, 1);
        // A non-SYN on the closed flow does not.
        let (key2, d) = k(6, ep(8, 40000), ep(1, 80));
        tb.update(&key2, &pkt(0, d, 60, Some(ACK)), &mut out);
        tb.update(&key2, &pkt(0, d, 60, Some(RST)), &mut out);
        assert!(
            !tb.update(&key2, &pkt(1, d, 60, Some(ACK)), &mut out)
                .created
        );
        assert_eq!(tb.counters().tcp_reuse, 1);
        // Nor does a SYN the caller knows repeats the session's own SYN.
        let r = tb.update_with(&key2, &pkt(2, d, 60, Some(SYN)), &mut out, |_, _| true);
        assert!(!r.created);
        assert_eq!(tb.counters().tcp_reuse, 1);
        let r = tb.update_with(&key2, &pkt(2, d, 60, Some(SYN)), &mut out, |_, _| false);
        assert!(r.created);
        assert_eq!(tb.counters().tcp_reuse, 2);
    }

    /// Runs `key` from `ts` with the given state built, then checks it is
    /// still there at `expire - 1` and gone at `expire`.
    fn expect_timeout(
        tb: &mut FlowTable<u32>,
        key: &FlowKey,
        last: i64,
        after: i64,
        state: FlowState,
    ) {
        let mut out = Vec::new();
        assert_eq!(tb.get(key).unwrap().0.state(), state);
        tb.advance(t(last + after - 1), &mut out);
        assert!(out.is_empty(), "{state:?} ended early");
        tb.advance(t(last + after), &mut out);
        assert_eq!(out.len(), 1, "{state:?} did not end at {}", last + after);
        assert_eq!(out[0].reason, EndReason::Timeout);
        assert_eq!(out[0].key, *key);
        assert_eq!(out[0].flow.state(), state);
        assert!(tb.get(key).is_none());
    }

    #[test]
    fn tcp_timeouts_per_state() {
        let mut tb = table(16);
        let mut out = Vec::new();
        // new: SYN only -> 60 s.
        let (a, d) = k(6, ep(2, 1000), ep(1, 80));
        tb.update(&a, &pkt(100, d, 60, Some(SYN)), &mut out);
        expect_timeout(&mut tb, &a, 100, 60, FlowState::New);
        // established -> 600 s.
        let (b, d) = k(6, ep(3, 1000), ep(1, 80));
        tb.update(&b, &pkt(200, d, 60, Some(SYN)), &mut out);
        tb.update(&b, &pkt(200, d.reverse(), 60, Some(SYN | ACK)), &mut out);
        tb.update(&b, &pkt(201, d, 60, Some(ACK)), &mut out);
        expect_timeout(&mut tb, &b, 201, 600, FlowState::Established);
        // closed (RST) -> 60 s.
        let (c, d) = k(6, ep(4, 1000), ep(1, 80));
        tb.update(&c, &pkt(1000, d, 60, Some(ACK)), &mut out);
        tb.update(&c, &pkt(1001, d.reverse(), 60, Some(RST)), &mut out);
        expect_timeout(&mut tb, &c, 1001, 60, FlowState::Closed);
        // closed by FIN from both sides.
        let (e, d) = k(6, ep(5, 1000), ep(1, 80));
        tb.update(&e, &pkt(2000, d, 60, Some(ACK)), &mut out);
        let r = tb.update(&e, &pkt(2000, d, 60, Some(FIN | ACK)), &mut out);
        assert_eq!(r.flow.tcp_state, TcpState::Closing);
        tb.update(&e, &pkt(2001, d.reverse(), 60, Some(FIN | ACK)), &mut out);
        expect_timeout(&mut tb, &e, 2001, 60, FlowState::Closed);
        assert!(out.is_empty());
        assert_eq!(tb.counters().timeouts, 4);
    }

    #[test]
    fn udp_and_icmp_timeouts_per_state() {
        let mut tb = table(16);
        let mut out = Vec::new();
        let (a, d) = k(17, ep(2, 5000), ep(1, 53));
        tb.update(&a, &pkt(10, d, 80, None), &mut out);
        expect_timeout(&mut tb, &a, 10, 30, FlowState::New);
        let (b, d) = k(17, ep(3, 5000), ep(1, 53));
        tb.update(&b, &pkt(100, d, 80, None), &mut out);
        tb.update(&b, &pkt(101, d.reverse(), 120, None), &mut out);
        expect_timeout(&mut tb, &b, 101, 300, FlowState::Established);
        let (c, d) = k(1, ep(3, 7), ep(1, 7));
        tb.update(&c, &pkt(1000, d, 84, None), &mut out);
        expect_timeout(&mut tb, &c, 1000, 30, FlowState::New);
    }

    #[test]
    fn configured_timeouts_apply() {
        let mut timeouts = FlowTimeouts::default();
        timeouts.udp.new = 5;
        let mut tb: FlowTable<u32> = FlowTable::new(TableConfig {
            timeouts,
            ..TableConfig::default()
        });
        let mut out = Vec::new();
        let (a, d) = k(17, ep(2, 5000), ep(1, 53));
        tb.update(&a, &pkt(10, d, 80, None), &mut out);
        expect_timeout(&mut tb, &a, 10, 5, FlowState::New);
    }

    #[test]
    fn a_packet_after_the_timeout_starts_a_new_flow() {
        let mut tb = table(16);
        let mut out = Vec::new();
        let (a, d) = k(17, ep(2, 5000), ep(1, 53));
        tb.update(&a, &pkt(10, d, 80, None), &mut out);
        // No watermark in between: the lookup notices the timeout.
        let r = tb.update(&a, &pkt(40, d.reverse(), 80, None), &mut out);
        assert!(r.created);
        assert!(r.to_server, "the new flow's client is the new sender");
        let _ = r;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].reason, EndReason::Timeout);
        assert_eq!(out[0].flow.last_seen, t(10));
        // One second before the timeout it is the same flow.
        let r = tb.update(&a, &pkt(69, d, 80, None), &mut out);
        assert!(!r.created);
    }

    #[test]
    fn update_existing_never_creates() {
        let mut tb = table(16);
        let mut out = Vec::new();
        let (a, d) = k(17, ep(2, 5000), ep(1, 53));
        assert!(
            tb.update_existing(&a, &pkt(0, d, 70, None), &mut out)
                .is_none()
        );
        assert!(tb.is_empty());
        tb.update(&a, &pkt(0, d, 70, None), &mut out);
        let r = tb
            .update_existing(&a, &pkt(1, d.reverse(), 70, None), &mut out)
            .unwrap();
        assert_eq!(r.flow.pkts_toclient, 1);
        // Counted, but not seen: the flow is still new.
        assert_eq!(r.flow.state(), FlowState::New);
        let r = tb.update(&a, &pkt(2, d.reverse(), 70, None), &mut out);
        assert_eq!(r.flow.state(), FlowState::Established);
    }

    #[test]
    fn emergency_mode_and_forced_eviction_at_the_cap() {
        let mut tb = table(4);
        let mut out = Vec::new();
        // Four UDP flows, one-sided (new: 30 s; emergency-new 10 s).
        let keys: Vec<_> = (0..5u8)
            .map(|i| k(17, ep(10 + i, 1000), ep(1, 53)))
            .collect();
        for (i, (key, d)) in keys.iter().take(4).enumerate() {
            tb.update(key, &pkt(i as i64, *d, 60, None), &mut out);
        }
        assert_eq!(tb.len(), 4);
        assert!(!tb.is_emergency());
        // At t=11 the fifth flow finds the table full: emergency mode; with
        // emergency-new = 10 s, flows 0 and 1 (last seen 0 and 1) time out.
        tb.update(&keys[4].0, &pkt(11, keys[4].1, 60, None), &mut out);
        assert!(tb.is_emergency());
        assert_eq!(tb.counters().emergency_entered, 1);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|e| e.reason == EndReason::Timeout));
        assert_eq!((out[0].key, out[1].key), (keys[0].0, keys[1].0));
        assert_eq!(tb.len(), 3);
        out.clear();
        // Fill again within the emergency timeouts: forced eviction of the
        // oldest by last_seen. Flow 2 is refreshed at 11 (before its
        // emergency timeout at 12), leaving flow 3 (last seen 3) the oldest.
        tb.update(&keys[2].0, &pkt(11, keys[2].1, 60, None), &mut out);
        assert!(out.is_empty());
        let (k5, d5) = k(17, ep(30, 1000), ep(1, 53));
        tb.update(&k5, &pkt(12, d5, 60, None), &mut out);
        assert_eq!(tb.len(), 4);
        let (k6, d6) = k(17, ep(31, 1000), ep(1, 53));
        let r = tb.update(&k6, &pkt(12, d6, 60, None), &mut out);
        assert!(r.flow.emergency);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].reason, EndReason::Forced);
        assert_eq!(out[0].key, keys[3].0, "oldest last_seen (3) goes");
        assert_eq!(tb.counters().forced, 1);
        assert_eq!(tb.len(), 4);
        // Emergency ends once the table drops to 70% of the cap.
        out.clear();
        tb.advance(t(30), &mut out);
        assert_eq!(out.len(), 4);
        assert!(!tb.is_emergency());
        assert_eq!(tb.counters().emergency_over, 1);
    }

    #[test]
    fn memcap_lowers_the_cap() {
        let per = FlowTable::<()>::bytes_per_flow();
        let tb: FlowTable<()> = FlowTable::new(TableConfig {
            max_flows: 1000,
            memcap: Some(per * 10 + 1),
            ..TableConfig::default()
        });
        assert_eq!(tb.cap(), 10);
    }

    #[test]
    fn shutdown_in_chunks_ends_everything_once() {
        let mut tb = table(64);
        let mut out = Vec::new();
        for i in 0..40u8 {
            let (key, d) = k(17, ep(i, 1000), ep(200, 53));
            tb.update(&key, &pkt(i64::from(i), d, 60, None), &mut out);
        }
        let mut chunks = 0;
        while tb.shutdown_some(&mut out, 16) {
            chunks += 1;
            assert!(out.len() <= 16 * chunks);
        }
        assert_eq!(out.len(), 40);
        assert!(tb.is_empty());
        assert_eq!(tb.counters().shutdown, 40);
        assert!(!tb.shutdown_some(&mut out, 16));
    }

    #[test]
    fn slab_growth_stops_at_the_cap() {
        let mut tb = table(3000);
        let mut out = Vec::new();
        for i in 0..3000u32 {
            let (key, d) = k(17, ep((i % 250) as u8, i as u16), ep(200, 53));
            tb.update(&key, &pkt(0, d, 60, None), &mut out);
        }
        assert_eq!(tb.len(), 3000);
        assert_eq!(tb.slots.capacity(), 3000);
    }

    #[test]
    fn shutdown_ends_everything() {
        let mut tb = table(16);
        let mut out = Vec::new();
        for i in 0..5u8 {
            let (key, d) = k(6, ep(20 + i, 1000), ep(1, 80));
            tb.update(&key, &pkt(i64::from(5 - i), d, 60, Some(SYN)), &mut out);
        }
        tb.shutdown(&mut out);
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|e| e.reason == EndReason::Shutdown));
        assert!(
            out.windows(2)
                .all(|w| w[0].flow.first_seen <= w[1].flow.first_seen)
        );
        assert!(tb.is_empty());
        assert_eq!(tb.counters().shutdown, 5);
        // Slots are reused afterwards.
        let (key, d) = k(6, ep(2, 1), ep(1, 2));
        assert!(tb.update(&key, &pkt(9, d, 1, None), &mut out).created);
    }

    /// Insertion order (and the table's random seed) never changes which
    /// flows end at a watermark, nor their order.
    #[test]
    fn ended_flows_do_not_depend_on_insertion_order() {
        let mut pkts = Vec::new();
        for i in 0..40u8 {
            let p = if i % 3 == 0 { 6 } else { 17 };
            let (key, d) = k(p, ep(i, 1000 + u16::from(i)), ep(200, 80));
            // All start at the same second: order is by key then.
            let ts = i64::from(i % 4);
            pkts.push((key, pkt(ts, d, 60, (p == 6).then_some(SYN))));
        }
        let run = |order: &[usize]| {
            let mut tb = table(1000);
            let mut out = Vec::new();
            for &i in order {
                let (key, p) = &pkts[i];
                tb.update(key, p, &mut out);
            }
            let mut steps = Vec::new();
            for w in [20, 31, 33, 62, 70] {
                tb.advance(t(w), &mut out);
                steps.push(out.drain(..).map(|e| (e.key, e.reason)).collect::<Vec<_>>());
            }
            tb.shutdown(&mut out);
            steps.push(out.drain(..).map(|e| (e.key, e.reason)).collect());
            steps
        };
        let fwd: Vec<usize> = (0..pkts.len()).collect();
        let rev: Vec<usize> = (0..pkts.len()).rev().collect();
        let mut shuffled = fwd.clone();
        let mut x = 12345u64;
        for i in (1..shuffled.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        let a = run(&fwd);
        assert_eq!(a, run(&rev));
        assert_eq!(a, run(&shuffled));
        // Something ended at each of the UDP (30 s) and TCP (60 s) steps.
        assert!(!a[1].is_empty() && !a[3].is_empty());
    }
}
