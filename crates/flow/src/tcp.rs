//! TCP session tracking: the handshake, midstream pick-up, one-sided
//! (asynchronous) sessions, and the two [`StreamDir`]s of a session.
//!
//! [`TcpSession`] is what a worker keeps per TCP flow. It follows Suricata's
//! stream engine (`stream-tcp.c`) in IDS mode where the two differ from a
//! textbook TCP:
//!
//! * **Start.** A SYN starts a session (`SYN_SENT`); with `stream.midstream`
//!   or `stream.async-oneside`, so does a SYN-ACK (the flow table has already
//!   made its receiver the client); with `stream.midstream`, any packet with
//!   ACK picks the session up `ESTABLISHED`. A first RST or FIN starts
//!   nothing (`stream.rst_but_no_session`, `stream.fin_but_no_session`).
//!   Without a start, the flow is still recorded but its bytes are not
//!   reassembled: Suricata does the same.
//! * **Handshake.** SYN → SYN-ACK (its ACK must be the SYN's ISN + 1, else
//!   `stream.3whs_synack_with_wrong_ack` and the SYN-ACK is ignored) → ACK
//!   from the client (`ESTABLISHED`); an ACK from the server in `SYN_RECV` is
//!   `stream.3whs_ack_in_wrong_dir`.
//! * **One-sided sessions** (`stream.async-oneside`). A SYN followed by the
//!   client's ACK with no SYN-ACK seen, or a midstream pick-up, makes the
//!   session *asynchronous*: the other side's ACKs will never be seen, so
//!   each client packet declares the client's data before its own sequence
//!   number deliverable (Suricata moves `last_ack` to the packet's SEQ).
//!   The first packet from the server ends asynchronous mode. Without
//!   `async-oneside` a SYN followed by a client ACK is ignored as Suricata
//!   ignores it, and the session never establishes.
//! * **Data.** Each direction's segments go to that direction's
//!   [`StreamDir`] (overlap policy of the *receiving* host); each ACK makes
//!   the other direction's data deliverable. Out-of-window, retransmitted,
//!   overlapping and gap handling are the stream's ([`crate::reassembly`]).
//! * **End.** RST closes the session (its payload is ignored); FIN from both
//!   sides closes it. A SYN on an established session is an event, not a new
//!   session (the flow table handles port reuse of a *closed* session). At
//!   the end of the flow, an established session's remaining data is
//!   flushed, unacknowledged or not, as Suricata's end-of-flow reassembly.
//!
//! Memory: a session is 24 bytes inline; its two streams are allocated on
//! the first segment that needs them, against the caller's
//! [`StreamBudget`], so idle and handshake-only flows (a SYN flood) cost no
//! stream memory. Buffered segment bytes count against the same budget; a
//! segment that does not fit is recorded as a hole (its bytes become a gap,
//! `stream.reassembly_memcap`), so sequence tracking continues.

use crate::reassembly::{Chunk, Events, Policy, StreamConfig, StreamCounters, StreamDir};
use crate::table::tcp_flags::{ACK, FIN, RST, SYN, URG};
use mirador_wire::{Inner, Network, Timestamp, Transport};

/// Session-level settings (Suricata's `stream.*` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// `stream.midstream`: pick up sessions whose handshake was not seen.
    pub midstream: bool,
    /// `stream.async-oneside`: track sessions of which one side is seen.
    pub async_oneside: bool,
    /// Per-direction reassembly (its policy is replaced per receiving host).
    pub stream: StreamConfig,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            midstream: true,
            async_oneside: true,
            stream: StreamConfig::default(),
        }
    }
}

/// One TCP segment as the session tracker needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Packet time.
    pub ts: Timestamp,
    /// Sent by the client (as the flow table decided).
    pub to_server: bool,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// TCP flags.
    pub flags: u8,
    /// The payload as captured.
    pub payload: &'a [u8],
    /// Payload bytes the IP length declared but the capture cut off.
    pub missing: u32,
    /// The advertised window (unscaled).
    pub window: u16,
    /// The window-scale shift of a SYN that carries the option.
    pub wscale: Option<u8>,
    /// The urgent pointer (meaningful with the URG flag).
    pub urgent: u16,
}

/// The TCP fields of a packet the session tracker needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentFields {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: u8,
    /// The advertised window (unscaled).
    pub window: u16,
    /// The window-scale option's shift, on a SYN that carries one.
    pub wscale: Option<u8>,
    /// Where the payload starts in the frame.
    pub payload_off: usize,
    /// Captured payload bytes.
    pub payload_len: usize,
    /// Payload bytes the IP length declared but the capture cut off.
    pub missing: u32,
    /// The urgent pointer (meaningful with the URG flag).
    pub urgent: u16,
}

/// The TCP fields of `p`: where its payload lies in `p.frame`, its
/// declared length beyond what was captured, and the window (with the
/// window-scale option of a SYN). `None` for packets without a TCP header.
pub fn segment_fields(p: &Inner<'_>) -> Option<SegmentFields> {
    let Transport::Tcp {
        seq,
        ack,
        flags,
        window,
        header_len,
        ..
    } = p.transport
    else {
        return None;
    };
    let declared_l4 = match p.network {
        Network::Ipv4 {
            total_len, header, ..
        } => usize::from(total_len).saturating_sub(header.len()),
        Network::Ipv6 {
            payload_len,
            header,
            ..
        } => usize::from(payload_len).saturating_sub(header.len().saturating_sub(40)),
        _ => return None,
    };
    let declared = declared_l4.saturating_sub(usize::from(header_len));
    let missing = u32::try_from(declared.saturating_sub(p.payload.len())).unwrap_or(u32::MAX);
    // The payload is a sub-slice of the frame: its offset, without unsafe.
    let off = (p.payload.as_ptr() as usize).wrapping_sub(p.frame.as_ptr() as usize);
    if off > p.frame.len() || p.frame.len() - off < p.payload.len() {
        return None;
    }
    let header = off.checked_sub(usize::from(header_len));
    let wscale = if flags & SYN != 0 {
        let opts = header.and_then(|h| p.frame.get(h + 20..off)).unwrap_or(&[]);
        window_scale(opts)
    } else {
        None
    };
    // The decoder does not keep the urgent pointer: read it from the header.
    let urgent = match header.and_then(|h| p.frame.get(h + 18..h + 20)) {
        Some(&[a, b]) if flags & URG != 0 => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    Some(SegmentFields {
        seq,
        ack,
        flags,
        window,
        wscale,
        payload_off: off,
        payload_len: p.payload.len(),
        missing,
        urgent,
    })
}

/// The window-scale option (kind 3) in TCP options, its shift capped at 14
/// (RFC 7323).
fn window_scale(mut opts: &[u8]) -> Option<u8> {
    // Bounded by the options' length: each step consumes at least a byte.
    while let [kind, rest @ ..] = opts {
        match kind {
            0 => return None,
            1 => opts = rest,
            _ => {
                let len = usize::from(*rest.first()?);
                if len < 2 || len > opts.len() {
                    return None;
                }
                if *kind == 3 && len == 3 {
                    return Some(opts[2].min(14));
                }
                opts = &opts[len..];
            }
        }
    }
    None
}

macro_rules! tcp_events {
    ($($variant:ident => $name:literal,)*) => {
        /// A session-level stream event, named as Suricata names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum TcpEvent { $(#[doc = $name] $variant,)* }

        impl TcpEvent {
            /// Every event, in declaration order.
            pub const ALL: &'static [TcpEvent] = &[$(TcpEvent::$variant,)*];

            /// The Suricata name, e.g. `stream.3whs_ack_in_wrong_dir`.
            pub fn as_str(self) -> &'static str {
                match self { $(TcpEvent::$variant => $name,)* }
            }
        }
    };
}

tcp_events! {
    RstButNoSession => "stream.rst_but_no_session",
    FinButNoSession => "stream.fin_but_no_session",
    SynAckWithWrongAck => "stream.3whs_synack_with_wrong_ack",
    SynAckInWrongDirection => "stream.3whs_synack_in_wrong_direction",
    SynAckResendWithDiffAck => "stream.3whs_synack_resend_with_diff_ack",
    AckInWrongDir => "stream.3whs_ack_in_wrong_dir",
    AsyncWrongSeq => "stream.3whs_async_wrong_seq",
    RightSeqWrongAckEvasion => "stream.3whs_right_seq_wrong_ack_evasion",
    WrongSeqWrongAck => "stream.3whs_wrong_seq_wrong_ack",
    SynResendDiffSeqOnSynRecv => "stream.3whs_syn_resend_diff_seq_on_syn_recv",
    EstSynResend => "stream.est_syn_resend",
    EstSynResendDiffSeq => "stream.est_syn_resend_diff_seq",
    EstSynAckResend => "stream.est_synack_resend",
    PktBrokenAck => "stream.pkt_broken_ack",
    DataAfterClose => "stream.data_after_close",
    EstPacketOutOfWindow => "stream.est_packet_out_of_window",
}

/// A set of [`TcpEvent`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpEvents(u32);

impl TcpEvents {
    /// Adds `e`.
    pub fn insert(&mut self, e: TcpEvent) {
        self.0 |= 1 << (e as u32);
    }

    /// Whether `e` is in the set.
    pub fn contains(self, e: TcpEvent) -> bool {
        self.0 & (1 << (e as u32)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The events, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = TcpEvent> {
        TcpEvent::ALL
            .iter()
            .copied()
            .filter(move |e| self.contains(*e))
    }
}

/// Session state (Suricata's, with the FIN states folded together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SsnState {
    /// No session: nothing that starts one was seen.
    #[default]
    None,
    /// SYN seen from the client.
    SynSent,
    /// SYN-ACK seen from the server.
    SynRecv,
    /// Handshake done, picked up midstream, or one-sided.
    Established,
    /// FIN seen from one side.
    Closing,
    /// RST, or FIN from both sides.
    Closed,
}

impl SsnState {
    /// Whether data is tracked (the session is established or closing).
    pub fn is_established(self) -> bool {
        matches!(
            self,
            SsnState::Established | SsnState::Closing | SsnState::Closed
        )
    }
}

/// Per-worker memory for TCP streams, shared by all its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamBudget {
    /// Sessions with allocated streams, at most (`stream.memcap` divided by
    /// the size of a session's streams).
    pub max_sessions: u64,
    /// Buffered segment bytes, at most (`stream.reassembly.memcap`).
    pub max_bytes: u64,
    /// Sessions with streams now.
    pub sessions: u64,
    /// Buffered segment bytes now.
    pub bytes: u64,
    /// Sessions that could not get streams (Suricata's `ssn_memcap_drop`).
    pub session_drops: u64,
    /// Segments whose bytes did not fit (`segment_memcap_drop`).
    pub segment_drops: u64,
}

/// Session counters, summed per worker (Suricata's `tcp.*` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpCounters {
    /// Sessions started (handshake or pick-up).
    pub sessions: u64,
    /// Sessions picked up midstream.
    pub midstream_pickups: u64,
    /// SYN packets.
    pub syn: u64,
    /// SYN-ACK packets.
    pub synack: u64,
    /// RST packets.
    pub rst: u64,
    /// Sessions that became one-sided (asynchronous).
    pub async_sessions: u64,
    /// Data packets ignored because they started beyond the receiver's
    /// advertised window.
    pub out_of_window: u64,
    /// Packets with the URG flag (Suricata's `tcp.urg`).
    pub urg: u64,
}

const F_ASYNC: u16 = 1;
const F_MIDSTREAM: u16 = 2;
const F_CLIENT_ISN: u16 = 4;
const F_SERVER_ISN: u16 = 8;
const F_CLIENT_FIN: u16 = 16;
const F_SERVER_FIN: u16 = 32;
const F_STREAMS_REFUSED: u16 = 64;
/// One-sided, and the side seen is the server (after a reversal).
const F_ASYNC_SEEN_SERVER: u16 = 128;
/// Picked up on a SYN-ACK: the direction is known.
const F_SYNACK_PICKUP: u16 = 256;
/// The direction of a midstream pick-up was checked against its first data.
const F_DIR_CHECKED: u16 = 512;
/// The client's SYN carried the window-scale option.
const F_CLIENT_WS: u16 = 1024;
/// The server's SYN-ACK carried the window-scale option.
const F_SERVER_WS: u16 = 2048;

/// The two directions' streams: index 0 is client → server.
#[derive(Debug, Clone)]
pub struct Streams {
    dirs: [StreamDir; 2],
    /// Per side (0 = client): the last ACK it sent and the scaled window it
    /// advertised with it, once seen.
    win: [Option<(u32, u32)>; 2],
}

/// What a worker keeps per TCP flow.
#[derive(Debug, Clone, Default)]
pub struct TcpSession {
    state: SsnState,
    flags: u16,
    /// Window-scale shifts from the SYNs: client in the low nibble, server
    /// in the high one (valid where `F_CLIENT_WS` / `F_SERVER_WS`).
    ws: u8,
    client_isn: u32,
    server_isn: u32,
    /// Buffered bytes last charged to the budget.
    held: u32,
    streams: Option<Box<Streams>>,
}

impl TcpSession {
    /// The session state.
    pub fn state(&self) -> SsnState {
        self.state
    }

    /// The client's ISN, when its SYN was seen (or inferred from a
    /// SYN-ACK).
    pub fn client_isn(&self) -> Option<u32> {
        (self.flags & F_CLIENT_ISN != 0).then_some(self.client_isn)
    }

    /// Whether the session is one-sided (asynchronous) now.
    pub fn is_async(&self) -> bool {
        self.flags & F_ASYNC != 0
    }

    /// Whether the session was picked up midstream.
    pub fn is_midstream(&self) -> bool {
        self.flags & F_MIDSTREAM != 0
    }

    /// Whether the flow's direction should be checked against this
    /// segment's payload: a session picked up midstream on a packet other
    /// than a SYN-ACK, whose first data this is. Suricata reverses such a
    /// flow when its protocol detection finds a response sent "to the
    /// server" ([`Role`]); the check is made once.
    pub fn direction_unchecked(&self, payload: &[u8]) -> bool {
        self.flags & (F_MIDSTREAM | F_SYNACK_PICKUP | F_DIR_CHECKED) == F_MIDSTREAM
            && !payload.is_empty()
    }

    /// Records that the direction was checked.
    pub fn direction_checked(&mut self) {
        self.flags |= F_DIR_CHECKED;
    }

    /// Swaps client and server (the flow table swaps its side): the
    /// streams, the ISNs, the FIN flags and which side a one-sided session
    /// sees.
    pub fn reverse(&mut self) {
        std::mem::swap(&mut self.client_isn, &mut self.server_isn);
        let swap = |f: u16, a: u16, b: u16| {
            let (ha, hb) = (f & a != 0, f & b != 0);
            (f & !(a | b)) | if ha { b } else { 0 } | if hb { a } else { 0 }
        };
        self.flags = swap(self.flags, F_CLIENT_ISN, F_SERVER_ISN);
        self.flags = swap(self.flags, F_CLIENT_FIN, F_SERVER_FIN);
        if self.flags & F_ASYNC != 0 {
            self.flags ^= F_ASYNC_SEEN_SERVER;
        }
        self.ws = self.ws.rotate_left(4);
        self.flags = swap(self.flags, F_CLIENT_WS, F_SERVER_WS);
        if let Some(s) = self.streams.as_deref_mut() {
            s.dirs.swap(0, 1);
            s.win.swap(0, 1);
        }
    }

    /// The stream of one direction (0 = to server), if allocated.
    pub fn stream(&self, dir: usize) -> Option<&StreamDir> {
        self.streams.as_ref().and_then(|s| s.dirs.get(dir))
    }

    /// Counters of one direction's stream (zero when none was allocated).
    pub fn stream_counters(&self, dir: usize) -> StreamCounters {
        self.stream(dir).map(|s| *s.counters()).unwrap_or_default()
    }

    /// Applies one segment. `policies` gives the overlap policy of the
    /// server and of the client (the receivers of each direction); it is
    /// called only when the streams are allocated. Session events are added
    /// to `events`; stream events are queued in the streams (see
    /// [`TcpSession::take_stream_events`]).
    pub fn packet(
        &mut self,
        cfg: &TcpConfig,
        seg: &Segment<'_>,
        policies: impl FnOnce() -> (Policy, Policy),
        budget: &mut StreamBudget,
        counters: &mut TcpCounters,
        events: &mut TcpEvents,
    ) {
        let fl = seg.flags;
        let syn = fl & SYN != 0;
        let ack = fl & ACK != 0;
        let rst = fl & RST != 0;
        if syn && ack {
            counters.synack += 1;
        } else if syn {
            counters.syn += 1;
        }
        if rst {
            counters.rst += 1;
        }
        if fl & URG != 0 {
            counters.urg += 1;
        }
        if ack && !syn && !rst && seg.ack == 0 {
            events.insert(TcpEvent::PktBrokenAck);
        }
        if syn && let Some(shift) = seg.wscale {
            if seg.to_server {
                self.flags |= F_CLIENT_WS;
                self.ws = (self.ws & 0xf0) | (shift & 0x0f);
            } else {
                self.flags |= F_SERVER_WS;
                self.ws = (self.ws & 0x0f) | (shift << 4);
            }
        }
        let seen_server = self.flags & F_ASYNC_SEEN_SERVER != 0;
        if self.is_async() && seg.to_server == seen_server {
            // The other side shows up: its ACKs now drive delivery.
            self.flags &= !(F_ASYNC | F_ASYNC_SEEN_SERVER);
        }
        match self.state {
            SsnState::None => self.start(cfg, seg, counters, events),
            SsnState::SynSent => self.syn_sent(cfg, seg, counters, events),
            SsnState::SynRecv => self.syn_recv(seg, events),
            SsnState::Established | SsnState::Closing | SsnState::Closed => {
                self.established(seg, events);
            }
        }
        if !self.state.is_established() {
            return;
        }
        let data = !seg.payload.is_empty() || seg.missing > 0 || fl & FIN != 0;
        if self.streams.is_none() && (data || rst) && !self.allocate(cfg, seg.ts, policies, budget)
        {
            return;
        }
        let Some(streams) = self.streams.as_deref_mut() else {
            return;
        };
        let d = usize::from(!seg.to_server);
        // Data that starts beyond the receiver's advertised window would be
        // dropped by the receiver: Suricata ignores the packet
        // (`stream.est_packet_out_of_window`), so an attacker cannot insert
        // bytes only the sensor keeps. Checked against the last window the
        // receiver was seen to advertise.
        if (!seg.payload.is_empty() || seg.missing > 0)
            && !rst
            && !syn
            && let Some((rack, rwin)) = streams.win[1 - d]
            && (seg.seq.wrapping_sub(rack.wrapping_add(rwin)) as i32) > 0
        {
            events.insert(TcpEvent::EstPacketOutOfWindow);
            counters.out_of_window += 1;
            return;
        }
        if ack && !rst {
            let shift = if self.flags & F_MIDSTREAM != 0 {
                // The SYNs were not seen: the scale is unknown, assume the
                // largest (Suricata does the same for pick-ups).
                14
            } else if self.flags & (F_CLIENT_WS | F_SERVER_WS) == F_CLIENT_WS | F_SERVER_WS {
                if seg.to_server {
                    self.ws & 0x0f
                } else {
                    self.ws >> 4
                }
            } else {
                0
            };
            let win = u32::from(seg.window) << shift.min(14);
            streams.win[d] = Some((seg.ack, win));
        }
        // A segment that does not fit the budget keeps its sequence space
        // as a hole: the bytes become a gap once acknowledged.
        let (payload, missing) = if budget.bytes + seg.payload.len() as u64 > budget.max_bytes
            && !seg.payload.is_empty()
            && !rst
        {
            budget.segment_drops += 1;
            let n = u32::try_from(seg.payload.len()).unwrap_or(u32::MAX);
            (&[][..], seg.missing.saturating_add(n))
        } else {
            (seg.payload, seg.missing)
        };
        streams.dirs[d].segment_urgent(seg.ts, seg.seq, payload, fl, missing, seg.urgent);
        if ack && !rst && seg.ack != 0 {
            streams.dirs[1 - d].ack(seg.ack);
        }
        if self.flags & F_ASYNC != 0 && seg.to_server != seen_server {
            // Suricata moves the async stream's last_ack to this packet's
            // SEQ: data before it is deliverable.
            streams.dirs[d].ack(seg.seq);
        }
        self.sync(budget);
    }

    /// Charges the budget with what the streams buffer now (call after
    /// polling: delivery frees bytes).
    pub fn sync(&mut self, budget: &mut StreamBudget) {
        let now = self.buffered_bytes();
        budget.bytes = (budget.bytes + now).saturating_sub(u64::from(self.held));
        self.held = u32::try_from(now).unwrap_or(u32::MAX);
    }

    fn start(
        &mut self,
        cfg: &TcpConfig,
        seg: &Segment<'_>,
        counters: &mut TcpCounters,
        events: &mut TcpEvents,
    ) {
        let fl = seg.flags;
        if fl & RST != 0 {
            events.insert(TcpEvent::RstButNoSession);
            return;
        }
        if fl & FIN != 0 && fl & SYN == 0 {
            events.insert(TcpEvent::FinButNoSession);
            return;
        }
        if fl & (SYN | ACK) == SYN | ACK {
            if !(cfg.midstream || cfg.async_oneside) {
                return;
            }
            // The table made the SYN-ACK's receiver the client.
            self.server_isn = seg.seq;
            self.client_isn = seg.ack.wrapping_sub(1);
            self.flags |= F_SERVER_ISN | F_CLIENT_ISN | F_MIDSTREAM | F_SYNACK_PICKUP;
            if cfg.async_oneside {
                // Suricata marks a SYN-ACK pick-up asynchronous: if only
                // the server's side is mirrored, its packets go on alone.
                self.flags |= F_ASYNC | F_ASYNC_SEEN_SERVER;
                counters.async_sessions += 1;
            }
            self.state = SsnState::SynRecv;
            counters.sessions += 1;
            counters.midstream_pickups += 1;
            return;
        }
        if fl & SYN != 0 {
            self.client_isn = seg.seq;
            self.flags |= F_CLIENT_ISN;
            self.state = SsnState::SynSent;
            counters.sessions += 1;
            return;
        }
        if fl & ACK != 0 && cfg.midstream {
            self.state = SsnState::Established;
            self.flags |= F_MIDSTREAM;
            if cfg.async_oneside {
                self.flags |= F_ASYNC;
                counters.async_sessions += 1;
            }
            counters.sessions += 1;
            counters.midstream_pickups += 1;
        }
    }

    fn syn_sent(
        &mut self,
        cfg: &TcpConfig,
        seg: &Segment<'_>,
        counters: &mut TcpCounters,
        events: &mut TcpEvents,
    ) {
        let fl = seg.flags;
        if fl & RST != 0 {
            self.state = SsnState::Closed;
            return;
        }
        if !seg.to_server {
            if fl & (SYN | ACK) == SYN | ACK {
                if seg.ack != self.client_isn.wrapping_add(1) {
                    events.insert(TcpEvent::SynAckWithWrongAck);
                    return;
                }
                self.server_isn = seg.seq;
                self.flags |= F_SERVER_ISN;
                self.state = SsnState::SynRecv;
            }
            return;
        }
        if fl & SYN != 0 {
            if fl & ACK != 0 {
                events.insert(TcpEvent::SynAckInWrongDirection);
                return;
            }
            // A SYN resent with another ISN restarts the handshake.
            self.client_isn = seg.seq;
            return;
        }
        if fl & ACK != 0 {
            if !cfg.async_oneside {
                return;
            }
            if seg.seq != self.client_isn.wrapping_add(1) {
                events.insert(TcpEvent::AsyncWrongSeq);
                return;
            }
            self.flags |= F_ASYNC;
            self.state = SsnState::Established;
            counters.async_sessions += 1;
        }
    }

    fn syn_recv(&mut self, seg: &Segment<'_>, events: &mut TcpEvents) {
        let fl = seg.flags;
        if fl & RST != 0 {
            self.state = SsnState::Closed;
            return;
        }
        if fl & SYN != 0 {
            if !seg.to_server && fl & ACK != 0 {
                if seg.ack != self.client_isn.wrapping_add(1) {
                    events.insert(TcpEvent::SynAckResendWithDiffAck);
                }
            } else if seg.to_server && fl & ACK == 0 && seg.seq != self.client_isn {
                events.insert(TcpEvent::SynResendDiffSeqOnSynRecv);
            }
            return;
        }
        if fl & ACK == 0 {
            return;
        }
        if !seg.to_server {
            if self.flags & (F_ASYNC | F_ASYNC_SEEN_SERVER) == F_ASYNC | F_ASYNC_SEEN_SERVER {
                // One-sided, only the server seen: its ACK establishes.
                self.state = SsnState::Established;
                return;
            }
            events.insert(TcpEvent::AckInWrongDir);
            return;
        }
        let right_seq = seg.seq == self.client_isn.wrapping_add(1);
        let right_ack = seg.ack == self.server_isn.wrapping_add(1);
        match (right_seq, right_ack) {
            (_, true) => self.state = SsnState::Established,
            (true, false) => events.insert(TcpEvent::RightSeqWrongAckEvasion),
            (false, false) => events.insert(TcpEvent::WrongSeqWrongAck),
        }
    }

    fn established(&mut self, seg: &Segment<'_>, events: &mut TcpEvents) {
        let fl = seg.flags;
        if fl & SYN != 0 && fl & RST == 0 {
            let e = match (seg.to_server, fl & ACK != 0) {
                (true, false) if seg.seq == self.client_isn => TcpEvent::EstSynResend,
                (true, false) => TcpEvent::EstSynResendDiffSeq,
                _ => TcpEvent::EstSynAckResend,
            };
            events.insert(e);
            return;
        }
        if self.state == SsnState::Closed
            && fl & RST == 0
            && (!seg.payload.is_empty() || seg.missing > 0)
        {
            events.insert(TcpEvent::DataAfterClose);
        }
        if fl & RST != 0 {
            self.state = SsnState::Closed;
        } else if fl & FIN != 0 {
            self.flags |= if seg.to_server {
                F_CLIENT_FIN
            } else {
                F_SERVER_FIN
            };
            let both = self.flags & (F_CLIENT_FIN | F_SERVER_FIN) == F_CLIENT_FIN | F_SERVER_FIN;
            if both || self.state == SsnState::Closed {
                self.state = SsnState::Closed;
            } else {
                self.state = SsnState::Closing;
            }
        }
    }

    /// Allocates the streams, replaying the SYNs seen so far; `false` when
    /// the budget refuses (counted once per session).
    fn allocate(
        &mut self,
        cfg: &TcpConfig,
        ts: Timestamp,
        policies: impl FnOnce() -> (Policy, Policy),
        budget: &mut StreamBudget,
    ) -> bool {
        if self.flags & F_STREAMS_REFUSED != 0 {
            return false;
        }
        if budget.sessions >= budget.max_sessions {
            budget.session_drops += 1;
            self.flags |= F_STREAMS_REFUSED;
            return false;
        }
        budget.sessions += 1;
        let (server_policy, client_policy) = policies();
        let mut to_server = StreamDir::new(StreamConfig {
            policy: server_policy,
            ..cfg.stream
        });
        let mut to_client = StreamDir::new(StreamConfig {
            policy: client_policy,
            ..cfg.stream
        });
        if self.flags & F_CLIENT_ISN != 0 {
            to_server.segment(ts, self.client_isn, &[], SYN, 0);
        }
        if self.flags & F_SERVER_ISN != 0 {
            to_client.segment(ts, self.server_isn, &[], SYN | ACK, 0);
        }
        self.streams = Some(Box::new(Streams {
            dirs: [to_server, to_client],
            win: [None, None],
        }));
        true
    }

    /// The next deliverable chunk of direction `dir` (0 = to server).
    pub fn poll(&mut self, dir: usize) -> Option<Chunk<'_>> {
        self.streams.as_deref_mut()?.dirs.get_mut(dir)?.poll()
    }

    /// Stream events queued in direction `dir`, left queued.
    pub fn peek_stream_events(&self, dir: usize) -> Events {
        self.stream(dir)
            .map_or(Events::NONE, StreamDir::pending_events)
    }

    /// Stream events queued in direction `dir` since the last call.
    pub fn take_stream_events(&mut self, dir: usize) -> Events {
        match self
            .streams
            .as_deref_mut()
            .and_then(|s| s.dirs.get_mut(dir))
        {
            Some(s) => s.take_events(),
            None => Events::NONE,
        }
    }

    /// End of flow: makes everything buffered deliverable (an established
    /// session's data is inspected whether or not it was acknowledged, as
    /// Suricata's end-of-flow reassembly does). Poll afterwards.
    pub fn flush(&mut self) {
        if !self.state.is_established() {
            return;
        }
        if let Some(s) = self.streams.as_deref_mut() {
            for d in &mut s.dirs {
                d.flush();
            }
        }
    }

    /// Releases the streams' share of `budget` (call when the flow ends,
    /// after the last poll).
    pub fn release(&mut self, budget: &mut StreamBudget) {
        if self.streams.take().is_some() {
            budget.bytes = budget.bytes.saturating_sub(u64::from(self.held));
            budget.sessions = budget.sessions.saturating_sub(1);
        }
        self.held = 0;
    }

    /// Bytes of stream memory held (buffered data), for the budget.
    pub fn buffered_bytes(&self) -> u64 {
        self.streams
            .as_ref()
            .map_or(0, |s| s.dirs.iter().map(StreamDir::buffered_bytes).sum())
    }

    /// Out-of-band urgent bytes left out of direction `dir` (0 = to
    /// server) under `stream.reassembly.urgent.policy: oob`.
    pub fn urgent_oob_bytes(&self, dir: usize) -> u16 {
        self.stream(dir).map_or(0, StreamDir::urgent_oob_bytes)
    }

    /// Whether direction `dir` delivered a gap.
    pub fn had_gap(&self, dir: usize) -> bool {
        self.stream(dir).is_some_and(|s| s.counters().gaps > 0)
    }
}

/// Which end of a conversation sent a payload, as far as its first bytes
/// tell: the minimal protocol recognition that orients a flow picked up
/// midstream (Suricata's protocol detection reverses such a flow when it
/// finds a response travelling to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A client's request (HTTP request line, TLS ClientHello, DNS query,
    /// SMB request).
    Request,
    /// A server's response (HTTP status line, TLS ServerHello, DNS response,
    /// SMB response).
    Response,
}

impl Role {
    /// The role of `payload`, sent from port `src_port` to `dst_port`;
    /// `None` when it is not recognised.
    pub fn of(payload: &[u8], src_port: u16, dst_port: u16) -> Option<Role> {
        const METHODS: &[&[u8]] = &[
            b"GET ",
            b"POST ",
            b"HEAD ",
            b"PUT ",
            b"DELETE ",
            b"OPTIONS ",
            b"CONNECT ",
            b"PATCH ",
            b"TRACE ",
        ];
        if payload.starts_with(b"HTTP/1.") {
            return Some(Role::Response);
        }
        if METHODS.iter().any(|m| payload.starts_with(m)) {
            return Some(Role::Request);
        }
        // TLS handshake record: ClientHello (1) or ServerHello (2).
        if let [0x16, 0x03, 0..=4, _, _, hs, ..] = payload {
            return match hs {
                1 => Some(Role::Request),
                2 => Some(Role::Response),
                _ => None,
            };
        }
        // DNS over TCP: length prefix, then a header with one question.
        if (src_port == 53 || dst_port == 53)
            && let [l0, l1, _, _, flags, _, 0, 1, ..] = payload
            && usize::from(u16::from_be_bytes([*l0, *l1])) >= 12
        {
            return Some(if flags & 0x80 != 0 {
                Role::Response
            } else {
                Role::Request
            });
        }
        // SMB over NetBIOS session service: SMB1 flags (reply bit) or SMB2
        // flags (server-to-redirector bit).
        if let [0, _, _, _, rest @ ..] = payload {
            if let [0xff, b'S', b'M', b'B', _, _, _, _, _, flags, ..] = rest {
                return Some(if flags & 0x80 != 0 {
                    Role::Response
                } else {
                    Role::Request
                });
            }
            if let [
                0xfe,
                b'S',
                b'M',
                b'B',
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                _,
                f0,
                ..,
            ] = rest
            {
                return Some(if f0 & 0x01 != 0 {
                    Role::Response
                } else {
                    Role::Request
                });
            }
        }
        None
    }
}

/// Approximate heap bytes of one session's streams (the allocation that
/// `stream.memcap` bounds).
pub fn streams_size() -> usize {
    std::mem::size_of::<Streams>()
}

#[cfg(test)]
mod tests;
