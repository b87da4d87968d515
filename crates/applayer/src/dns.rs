//! DNS over UDP and TCP, as Suricata 7.0.10 parses, detects and logs it
//! (`rust/src/dns/{dns,parser,log,detect}.rs`).
//!
//! **Transactions.** Every message is a transaction of its own: a request
//! makes a transaction with only a request, a response one with only a
//! response (Suricata 7 never pairs them). [`DnsTx::id`] counts from 0 per
//! flow over both directions (Suricata's `tx.id - 1`, logged as `tx_id`).
//!
//! **Messages.** A message whose header fails Suricata's plausibility check
//! (each declared entry needs two bytes) is ignored silently over UDP and
//! is a parse error over TCP. A request with QR set is not a transaction
//! (`not_request`); a response with QR clear still is (`not_response`). A
//! body that does not parse is `malformed_data`. These three go, as in
//! Suricata, on the flow's most recent transaction (lost if there is none
//! yet) — `not_response` too, since Suricata sets it before adding the
//! response's own transaction. `z_flag_set`, `invalid_opcode` (7-15),
//! `name_too_long`, `infinite_loop` and `too_many_labels` go on the new
//! transaction. Event names are those of Suricata 7's rules
//! (`app-layer-event:dns.<name>`; older releases spelt them
//! `NOT_A_REQUEST` etc.). Parsing rules: [`wire`].
//!
//! **TCP.** Each message is prefixed by its 2-byte length; messages may be
//! split anywhere and several may share a segment (partial messages are
//! buffered, at most one message per direction). A zero length is skipped.
//! Any message that fails (header, body, or a request with QR set) ends DNS
//! parsing for the whole flow, both directions, as Suricata's parser error
//! does for TCP. After a gap, the partial message is dropped and the next
//! data is probed: to-client data that does not probe as DNS is skipped;
//! to-server data is parsed regardless (Suricata's request path forgets to
//! return there). One gap flag serves both directions, as in Suricata.
//!
//! **Caps** (Suricata keeps everything): transactions per flow (the oldest
//! is evicted), questions, records and decompressed name bytes kept per
//! message (the rest is parsed, so validity and events are Suricata's, but
//! not kept), TCP bytes buffered per direction (a length beyond it ends
//! parsing). Each is counted in [`DnsCounters`].
//!
//! **Detection.** [`DnsTx::query`] is the `dns.query` / `dns_query`
//! multi-buffer: the request's questions in order, to-server only; like
//! Suricata it ends at the first empty name.

pub mod eve;
pub mod wire;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use crate::Dir;
pub use eve::{DnsEveConfig, DnsEveRecord};
use wire::{Caps, DnsHeader, Fail};
pub use wire::{DnsMessage, DnsName, DnsQuery, DnsRecord, RData, Soa, Srv, Sshfp};

/// Event names as Suricata 7's `DNSEvent` (snake case, as rules use them).
pub mod event {
    pub const MALFORMED_DATA: &str = "malformed_data";
    pub const NOT_REQUEST: &str = "not_request";
    pub const NOT_RESPONSE: &str = "not_response";
    pub const Z_FLAG_SET: &str = "z_flag_set";
    pub const INVALID_OPCODE: &str = "invalid_opcode";
    pub const NAME_TOO_LONG: &str = "name_too_long";
    pub const INFINITE_LOOP: &str = "infinite_loop";
    pub const TOO_MANY_LABELS: &str = "too_many_labels";
}

/// Per-flow caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsConfig {
    /// Transactions kept per flow; at the cap the oldest is evicted
    /// (`txs_evicted`). Suricata 7 has no cap; 32 is its former
    /// `MAX_TRANSACTIONS`. The runtime removes logged ones with
    /// [`DnsState::remove_through`].
    pub max_txs: usize,
    /// Questions kept per message (`entries_dropped` beyond).
    pub max_queries: usize,
    /// Answer and authority records kept per message, each TXT string
    /// counting as one (`entries_dropped` beyond).
    pub max_records: usize,
    /// Decompressed name bytes kept per message: compression lets a 2-byte
    /// pointer stand for a 1025-byte name (`entries_dropped` beyond).
    pub max_name_bytes: usize,
    /// TCP bytes buffered per direction for a partial message; a message
    /// longer than this ends parsing (`tcp_too_long`). The default holds
    /// any message (2 + 65535).
    pub max_tcp_buffer: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            max_txs: 32,
            max_queries: 64,
            max_records: 1024,
            max_name_bytes: 256 * 1024,
            max_tcp_buffer: 2 + 65535,
        }
    }
}

/// Counters for a flow's DNS parsing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsCounters {
    /// Messages that became transactions.
    pub messages: u64,
    /// Messages ignored because the header failed the plausibility check
    /// (UDP; over TCP this ends parsing).
    pub header_invalid: u64,
    /// Messages whose body did not parse.
    pub malformed: u64,
    /// Requests with QR set (no transaction).
    pub not_request: u64,
    /// Flow-level events that found no transaction to go on.
    pub events_lost: u64,
    /// Transactions evicted at `max_txs`.
    pub txs_evicted: u64,
    /// Questions or records parsed but not kept (per-message caps).
    pub entries_dropped: u64,
    /// TCP messages longer than `max_tcp_buffer`.
    pub tcp_too_long: u64,
    /// TCP bytes ignored after a parse error ended parsing.
    pub tcp_bytes_ignored: u64,
    /// TCP bytes skipped after a gap because they did not probe as DNS.
    pub tcp_bytes_skipped: u64,
    /// Partial TCP messages dropped at a gap.
    pub tcp_partial_dropped: u64,
}

/// One transaction: one message.
#[derive(Debug, Clone)]
pub struct DnsTx {
    /// Per-flow transaction id from 0 (Suricata's `tx_id` in EVE).
    pub id: u64,
    request: Option<DnsMessage>,
    response: Option<DnsMessage>,
    events: Vec<&'static str>,
}

impl DnsTx {
    /// The request, for a transaction made by a to-server message.
    pub fn request(&self) -> Option<&DnsMessage> {
        self.request.as_ref()
    }

    /// The response, for a transaction made by a to-client message.
    pub fn response(&self) -> Option<&DnsMessage> {
        self.response.as_ref()
    }

    /// The `i`-th entry of the `dns.query` multi-buffer (Suricata 7's
    /// `rs_dns_tx_get_query_name`): the `i`-th question name of the
    /// request, dotted; `None` past the last or at an empty name, which
    /// ends the buffer list. Responses have none.
    pub fn query(&self, i: usize) -> Option<&[u8]> {
        let q = self.request.as_ref()?.queries.get(i)?;
        (!q.name.value.is_empty()).then_some(&q.name.value[..])
    }

    /// App-layer events set on this transaction (names in [`event`]), each
    /// once.
    pub fn events(&self) -> &[&'static str] {
        &self.events
    }

    fn set_event(&mut self, e: &'static str) {
        if !self.events.contains(&e) {
            self.events.push(e);
        }
    }
}

/// DNS state of one flow.
#[derive(Debug)]
pub struct DnsState {
    cfg: DnsConfig,
    txs: VecDeque<DnsTx>,
    next_id: u64,
    bufs: [Vec<u8>; 2],
    gap: bool,
    failed: bool,
    counters: DnsCounters,
}

/// What [`probe`] makes of the start of a flow's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Plausibly DNS; `request` when the message is a query (QR clear),
    /// i.e. the data goes to the server.
    Dns { request: bool },
    /// Too short to tell yet.
    NeedMore,
    /// Not DNS (Suricata answers "unknown" rather than "failed": it never
    /// rules DNS out for good).
    NotDns,
}

/// Suricata 7's probing parsers (`probe_udp`, `probe_tcp`): at least a
/// header (plus the length prefix over TCP); the header must be plausible
/// for the declared message length and, when the whole message is there,
/// its questions must parse (a question cut short only falls back to the
/// header check).
pub fn probe(data: &[u8], tcp: bool) -> Probe {
    let (is_dns, request, incomplete) = if tcp {
        if data.len() < 14 {
            return Probe::NeedMore;
        }
        probe_tcp(data)
    } else {
        if data.len() < 12 {
            return Probe::NeedMore;
        }
        probe_msg(data, data.len())
    };
    if is_dns {
        Probe::Dns { request }
    } else if incomplete {
        Probe::NeedMore
    } else {
        Probe::NotDns
    }
}

/// Suricata's `probe_tcp`: (is DNS, is request, incomplete).
fn probe_tcp(data: &[u8]) -> (bool, bool, bool) {
    match data {
        [hi, lo, msg @ ..] => probe_msg(msg, usize::from(u16::from_be_bytes([*hi, *lo]))),
        _ => (false, false, true),
    }
}

/// Suricata's `probe`: `input` holds (at most) a message of `dlen` bytes.
fn probe_msg(input: &[u8], dlen: usize) -> (bool, bool, bool) {
    let input = input.get(..dlen).unwrap_or(input);
    let valid = |h: &DnsHeader| (wire::header_valid(h, dlen), !h.qr(), false);
    let header = DnsHeader::parse(input);
    if input.len() < dlen {
        return header.map_or((false, false, false), |h| valid(&h));
    }
    let Ok(header) = header else {
        return (false, false, true);
    };
    let caps = Caps {
        queries: 0,
        records: 0,
        name_bytes: 0,
    };
    match wire::parse_request(input, header, caps).0 {
        Ok(_) | Err(Fail::Incomplete) => valid(&header),
        Err(Fail::Error) => (false, false, false),
    }
}

impl DnsState {
    /// A new flow's state.
    pub fn new(cfg: &DnsConfig) -> DnsState {
        DnsState {
            cfg: *cfg,
            txs: VecDeque::new(),
            next_id: 0,
            bufs: [Vec::new(), Vec::new()],
            gap: false,
            failed: false,
            counters: DnsCounters::default(),
        }
    }

    /// One UDP datagram's payload.
    pub fn udp(&mut self, dir: Dir, payload: &[u8]) {
        // Over UDP Suricata ignores the parser's verdict.
        let _ = self.message(dir, payload, false);
    }

    /// TCP stream bytes of one direction, in order.
    pub fn input(&mut self, dir: Dir, data: &[u8]) {
        if self.failed {
            self.counters.tcp_bytes_ignored += data.len() as u64;
            return;
        }
        let d = dir.index();
        if self.gap {
            // Suricata probes what it is handed after a gap: the new data
            // (a partial message was dropped at the gap).
            let probe_buf;
            let view: &[u8] = if self.bufs[d].is_empty() {
                data
            } else {
                probe_buf = [self.bufs[d].as_slice(), data].concat();
                &probe_buf
            };
            let (is_dns, _, incomplete) = probe_tcp(view);
            if is_dns || incomplete {
                self.gap = false;
            } else if dir == Dir::ToClient {
                self.counters.tcp_bytes_skipped += data.len() as u64;
                return;
            }
        }
        if self.bufs[d].is_empty() {
            let used = self.frames(dir, data);
            if !self.failed {
                let rest = data.get(used..).unwrap_or(&[]);
                self.bufs[d].extend_from_slice(rest);
            }
        } else {
            let mut buf = std::mem::take(&mut self.bufs[d]);
            buf.extend_from_slice(data);
            let used = self.frames(dir, &buf);
            if !self.failed {
                buf.drain(..used.min(buf.len()));
                self.bufs[d] = buf;
            }
        }
        if self.failed {
            self.bufs = [Vec::new(), Vec::new()];
        }
    }

    /// Parses the complete length-prefixed messages at the start of `data`;
    /// returns the bytes consumed (the rest is a partial message).
    fn frames(&mut self, dir: Dir, data: &[u8]) -> usize {
        let mut at = 0usize;
        while let Some(&[hi, lo]) = data.get(at..at + 2) {
            let size = usize::from(u16::from_be_bytes([hi, lo]));
            if size == 0 {
                at += 2;
                continue;
            }
            if size + 2 > self.cfg.max_tcp_buffer {
                self.counters.tcp_too_long += 1;
                self.fail(data.len() - at);
                return data.len();
            }
            let Some(msg) = data.get(at + 2..at + 2 + size) else {
                break;
            };
            if !self.message(dir, msg, true) {
                self.fail(data.len() - at - 2 - size);
                return data.len();
            }
            at += 2 + size;
        }
        at
    }

    fn fail(&mut self, rest: usize) {
        self.failed = true;
        self.counters.tcp_bytes_ignored += rest as u64;
    }

    /// A gap of `len` bytes in one direction of the TCP stream.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        if len == 0 {
            return;
        }
        let buf = &mut self.bufs[dir.index()];
        if !buf.is_empty() {
            buf.clear();
            self.counters.tcp_partial_dropped += 1;
        }
        self.gap = true;
    }

    /// The flow's live transactions, oldest first.
    pub fn txs(&self) -> impl Iterator<Item = &DnsTx> {
        self.txs.iter()
    }

    /// Drops every transaction with an id up to `id` (done with).
    pub fn remove_through(&mut self, id: u64) {
        while self.txs.front().is_some_and(|t| t.id <= id) {
            self.txs.pop_front();
        }
    }

    /// This flow's counters.
    pub fn counters(&self) -> &DnsCounters {
        &self.counters
    }

    /// Whether a TCP parse error ended DNS parsing for this flow.
    pub fn failed(&self) -> bool {
        self.failed
    }

    fn caps(&self) -> Caps {
        Caps {
            queries: self.cfg.max_queries,
            records: self.cfg.max_records,
            name_bytes: self.cfg.max_name_bytes,
        }
    }

    /// Suricata's `set_event` on the state: the most recent transaction.
    fn flow_event(&mut self, e: &'static str) {
        match self.txs.back_mut() {
            Some(tx) => tx.set_event(e),
            None => self.counters.events_lost += 1,
        }
    }

    /// One message (Suricata's `parse_request` / `parse_response`);
    /// false is a parse failure (which ends TCP parsing).
    fn message(&mut self, dir: Dir, msg: &[u8], tcp: bool) -> bool {
        let header = match DnsHeader::parse(msg) {
            Ok(h) if wire::header_valid(&h, msg.len()) => h,
            _ => {
                self.counters.header_invalid += 1;
                return !tcp;
            }
        };
        let request = dir == Dir::ToServer;
        let (parsed, info) = if request {
            wire::parse_request(msg, header, self.caps())
        } else {
            wire::parse_response(msg, header, self.caps())
        };
        let m = match parsed {
            Ok(m) => m,
            Err(_) => {
                self.counters.malformed += 1;
                self.flow_event(event::MALFORMED_DATA);
                return false;
            }
        };
        self.counters.entries_dropped += info.dropped;
        if request && header.qr() {
            self.counters.not_request += 1;
            self.flow_event(event::NOT_REQUEST);
            return false;
        }
        if !request && !header.qr() {
            self.flow_event(event::NOT_RESPONSE);
        }
        if self.txs.len() >= self.cfg.max_txs.max(1) {
            self.txs.pop_front();
            self.counters.txs_evicted += 1;
        }
        let mut tx = DnsTx {
            id: self.next_id,
            request: None,
            response: None,
            events: Vec::new(),
        };
        self.next_id += 1;
        if header.z() {
            tx.set_event(event::Z_FLAG_SET);
        }
        if header.opcode() >= 7 {
            tx.set_event(event::INVALID_OPCODE);
        }
        if info.name_flags & wire::NAME_TRUNCATED != 0 {
            tx.set_event(event::NAME_TOO_LONG);
        }
        if info.name_flags & wire::NAME_INFINITE_LOOP != 0 {
            tx.set_event(event::INFINITE_LOOP);
        }
        if info.name_flags & wire::NAME_LABEL_LIMIT != 0 {
            tx.set_event(event::TOO_MANY_LABELS);
        }
        if request {
            tx.request = Some(m);
        } else {
            tx.response = Some(m);
        }
        self.txs.push_back(tx);
        self.counters.messages += 1;
        true
    }
}
