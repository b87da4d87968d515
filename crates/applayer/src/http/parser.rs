//! The request and response state machines (libhtp's `htp_connp_REQ_*`
//! and `htp_connp_RES_*` states) and the byte driver that feeds them.

use memchr::memchr;

use super::HttpState;
use super::decompress::{Coding, Decoder, Limits};
use super::tx::{Built, FileHashers, Headers, HttpTx, Method, Progress, method_number, warn};
use super::uri;
use super::util::{
    ParsedHeader, Proto, chomp, chunk_line_plausible, contains_nocase, contains_nocase_nozero,
    eq_nocase_nozero, has_token, is_line_empty, is_lws, is_space, parse_chunked_length,
    parse_content_length, parse_protocol, parse_request_header, parse_response_header,
    response_line_is_body, trim_space,
};
use crate::Dir;

/// Event names (Suricata's `http_decoder_event_table`).
pub(crate) mod ev {
    pub const UNKNOWN_ERROR: &str = "UNKNOWN_ERROR";
    pub const GZIP_DECOMPRESSION_FAILED: &str = "GZIP_DECOMPRESSION_FAILED";
    pub const REQUEST_FIELD_MISSING_COLON: &str = "REQUEST_FIELD_MISSING_COLON";
    pub const RESPONSE_FIELD_MISSING_COLON: &str = "RESPONSE_FIELD_MISSING_COLON";
    pub const INVALID_REQUEST_CHUNK_LEN: &str = "INVALID_REQUEST_CHUNK_LEN";
    pub const INVALID_RESPONSE_CHUNK_LEN: &str = "INVALID_RESPONSE_CHUNK_LEN";
    pub const INVALID_TE_REQUEST: &str = "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST";
    pub const INVALID_CL_REQUEST: &str = "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST";
    pub const INVALID_CL_RESPONSE: &str = "INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    pub const DUP_CL_REQUEST: &str = "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST";
    pub const DUP_CL_RESPONSE: &str = "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE";
    pub const CONTINUE_ALREADY_SEEN: &str = "100_CONTINUE_ALREADY_SEEN";
    pub const UNABLE_TO_MATCH: &str = "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST";
    pub const REQUEST_HEADER_INVALID: &str = "REQUEST_HEADER_INVALID";
    pub const RESPONSE_HEADER_INVALID: &str = "RESPONSE_HEADER_INVALID";
    pub const MISSING_HOST_HEADER: &str = "MISSING_HOST_HEADER";
    pub const HOST_HEADER_AMBIGUOUS: &str = "HOST_HEADER_AMBIGUOUS";
    pub const INVALID_REQUEST_FIELD_FOLDING: &str = "INVALID_REQUEST_FIELD_FOLDING";
    pub const INVALID_RESPONSE_FIELD_FOLDING: &str = "INVALID_RESPONSE_FIELD_FOLDING";
    pub const REQUEST_FIELD_TOO_LONG: &str = "REQUEST_FIELD_TOO_LONG";
    pub const RESPONSE_FIELD_TOO_LONG: &str = "RESPONSE_FIELD_TOO_LONG";
    pub const REQUEST_URI_HOST_INVALID: &str = "REQUEST_URI_HOST_INVALID";
    pub const REQUEST_HEADER_HOST_INVALID: &str = "REQUEST_HEADER_HOST_INVALID";
    pub const REQUEST_HEADER_REPETITION: &str = "REQUEST_HEADER_REPETITION";
    pub const RESPONSE_HEADER_REPETITION: &str = "RESPONSE_HEADER_REPETITION";
    pub const URI_DELIM_NON_COMPLIANT: &str = "URI_DELIM_NON_COMPLIANT";
    pub const METHOD_DELIM_NON_COMPLIANT: &str = "METHOD_DELIM_NON_COMPLIANT";
    pub const REQUEST_LINE_LEADING_WHITESPACE: &str = "REQUEST_LINE_LEADING_WHITESPACE";
    pub const TOO_MANY_ENCODING_LAYERS: &str = "TOO_MANY_ENCODING_LAYERS";
    pub const ABNORMAL_CE_HEADER: &str = "ABNORMAL_CE_HEADER";
    pub const RESPONSE_MULTIPART_BYTERANGES: &str = "RESPONSE_MULTIPART_BYTERANGES";
    pub const RESPONSE_ABNORMAL_TE: &str = "RESPONSE_ABNORMAL_TRANSFER_ENCODING";
    pub const RESPONSE_CHUNKED_OLD_PROTO: &str = "RESPONSE_CHUNKED_OLD_PROTO";
    pub const RESPONSE_INVALID_PROTOCOL: &str = "RESPONSE_INVALID_PROTOCOL";
    pub const RESPONSE_INVALID_STATUS: &str = "RESPONSE_INVALID_STATUS";
    pub const REQUEST_LINE_INCOMPLETE: &str = "REQUEST_LINE_INCOMPLETE";
    pub const COMPRESSION_BOMB: &str = "COMPRESSION_BOMB";
    pub const REQUEST_AUTH_UNRECOGNIZED: &str = "REQUEST_AUTH_UNRECOGNIZED";
    pub const TOO_MANY_WARNINGS: &str = "TOO_MANY_WARNINGS";
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReqState {
    #[default]
    Idle,
    Line,
    /// After an HTTP/0.9-looking line: the next byte decides.
    Probe09,
    Headers,
    BodyIdentity,
    ChunkLen,
    ChunkData,
    ChunkDataEnd,
    /// A CONNECT request waits for its answer.
    ConnectWait,
    Error,
    Tunnel,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RespState {
    #[default]
    Idle,
    Line,
    Headers,
    BodyIdentity,
    BodyClose,
    ChunkLen,
    ChunkData,
    ChunkDataEnd,
    Error,
    Tunnel,
}

#[derive(Debug, Default)]
pub(crate) struct ReqParser {
    pub state: ReqState,
    pub tx: Option<u64>,
    /// The header line being assembled (folding), chomped.
    pub pending: Option<Vec<u8>>,
    pub trailer: bool,
    /// Body or chunk bytes left.
    pub left: u64,
    pub decoder: Option<Decoder>,
}

#[derive(Debug, Default)]
pub(crate) struct RespParser {
    pub state: RespState,
    pub tx: Option<u64>,
    /// The transaction the next response belongs to.
    pub next_tx: u64,
    pub pending: Option<Vec<u8>>,
    pub trailer: bool,
    pub left: u64,
    pub decoder: Option<Decoder>,
    /// libhtp's `lfcrending` (an LF CR line end was just seen).
    pub lfcr: bool,
}

/// The URI libhtp gives a response that has no request.
const URI_NOT_SEEN: &[u8] = b"/libhtp::request_uri_not_seen";

fn store(body: &mut Vec<u8>, chunk: &[u8], limit: usize, gap: bool, dropped: &mut u64) {
    let keep = if gap {
        0
    } else {
        chunk.len().min(limit.saturating_sub(body.len()))
    };
    body.extend_from_slice(&chunk[..keep]);
    *dropped = dropped.saturating_add((chunk.len() - keep) as u64);
}

/// The Content-Encoding codings libhtp decodes (`htp_tx_state_*_headers`):
/// a fast path for a single known value, else token by token up to the
/// layer limit. Returns the codings and the events raised.
fn content_codings(ce: &[u8], limit: usize, response: bool) -> (Vec<Coding>, Vec<&'static str>) {
    let mut events = Vec::new();
    if eq_nocase_nozero(ce, b"gzip") || eq_nocase_nozero(ce, b"x-gzip") {
        return (vec![Coding::Gzip], events);
    }
    if eq_nocase_nozero(ce, b"deflate") || eq_nocase_nozero(ce, b"x-deflate") {
        return (vec![Coding::Deflate], events);
    }
    if eq_nocase_nozero(ce, b"lzma")
        || eq_nocase_nozero(ce, b"inflate")
        || eq_nocase_nozero(ce, b"none")
    {
        // LZMA is off by default in Suricata 7 (`lzma-layers: 0`).
        return (Vec::new(), events);
    }
    let mut codings = Vec::new();
    let mut layers = 0usize;
    for tok in ce.split(|&c| c == b',' || c == b' ') {
        if tok.is_empty() {
            continue;
        }
        layers += 1;
        if layers > limit {
            // "Too many response content encoding layers"; the request
            // message has no entry in Suricata's table.
            events.push(if response {
                ev::TOO_MANY_ENCODING_LAYERS
            } else {
                ev::UNKNOWN_ERROR
            });
            break;
        }
        if contains_nocase(tok, b"gzip") {
            if tok != b"gzip" && tok != b"x-gzip" {
                events.push(ev::ABNORMAL_CE_HEADER);
            }
            codings.push(Coding::Gzip);
        } else if contains_nocase(tok, b"deflate") {
            if tok != b"deflate" && tok != b"x-deflate" {
                events.push(ev::ABNORMAL_CE_HEADER);
            }
            codings.push(Coding::Deflate);
        } else if tok == b"lzma" || tok == b"inflate" || tok == b"none" {
        } else {
            events.push(ev::ABNORMAL_CE_HEADER);
        }
    }
    (codings, events)
}

impl HttpState {
    fn tx_mut(&mut self, id: u64) -> Option<&mut HttpTx> {
        let first = self.txs.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.txs.get_mut(idx).filter(|t| t.id == id)
    }

    /// Raises an event on a transaction (the last one when none is
    /// given), as Suricata's `HTPSetEvent`, with the per-flow message cap.
    pub(crate) fn event(&mut self, id: Option<u64>, e: &'static str) {
        let max_msgs = self.cfg.max_messages;
        let max_events = self.cfg.max_events;
        let target = id.or_else(|| self.txs.back().map(|t| t.id));
        let e = if self.messages >= max_msgs {
            if self.messages > max_msgs {
                self.counters.events_dropped += 1;
                return;
            }
            // Once per flow, then nothing more.
            self.messages += 1;
            ev::TOO_MANY_WARNINGS
        } else {
            self.messages += 1;
            e
        };
        let Some(tx) = target.and_then(|id| self.tx_mut(id)) else {
            self.counters.events_dropped += 1;
            return;
        };
        if tx.events.contains(&e) {
            return;
        }
        if tx.events.len() >= max_events {
            self.counters.events_dropped += 1;
            return;
        }
        tx.events.push(e);
    }

    /// Raises a once-per-transaction warning (libhtp's tx flags).
    fn warn_once(&mut self, id: u64, bit: u32, e: &'static str) {
        let Some(tx) = self.tx_mut(id) else { return };
        if tx.warned & bit != 0 {
            return;
        }
        tx.warned |= bit;
        self.event(Some(id), e);
    }

    /// Feeds bytes (possibly none, at the end) of one direction through
    /// the buffer of unconsumed bytes.
    pub(super) fn feed(&mut self, dir: Dir, data: &[u8], eof: bool) {
        let d = dir.index();
        if self.bufs[d].is_empty() {
            let n = self.run(dir, data, eof);
            self.bufs[d].extend_from_slice(data.get(n..).unwrap_or_default());
        } else {
            let mut buf = std::mem::take(&mut self.bufs[d]);
            let mut rest = data;
            loop {
                // Add up to the next LF and one byte more (the parsers
                // peek one byte past a line end), so that a long input
                // behind a partial line is not copied whole.
                let take = match memchr(b'\n', rest) {
                    Some(i) => (i + 2).min(rest.len()),
                    None => rest.len(),
                };
                buf.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                let last = rest.is_empty();
                let n = self.run(dir, &buf, eof && last);
                buf.drain(..n.min(buf.len()));
                if buf.is_empty() && !last {
                    let n = self.run(dir, rest, eof);
                    buf.extend_from_slice(rest.get(n..).unwrap_or_default());
                    break;
                }
                if last {
                    break;
                }
            }
            self.bufs[d] = buf;
        }
    }

    /// The request side waited on this response (a CONNECT, an Expect):
    /// it goes on with the bytes it holds, before the next response.
    fn resume_req(&mut self) {
        if !self.bufs[Dir::ToServer.index()].is_empty() {
            self.feed(Dir::ToServer, &[], false);
        }
    }

    fn run(&mut self, dir: Dir, data: &[u8], eof: bool) -> usize {
        let mut pos = 0;
        loop {
            let avail = data.get(pos..).unwrap_or_default();
            let step = match dir {
                Dir::ToServer => self.req_step(avail, eof),
                Dir::ToClient => self.resp_step(avail, eof),
            };
            match step {
                Some(n) => pos += n.min(avail.len()),
                None => break,
            }
        }
        pos
    }

    pub(super) fn gap_in(&mut self, dir: Dir, len: u64) {
        self.counters.gaps += 1;
        self.counters.gap_bytes = self.counters.gap_bytes.saturating_add(len);
        if len == 0 {
            return;
        }
        let mut rest = len;
        match dir {
            Dir::ToServer => match self.req.state {
                ReqState::Tunnel | ReqState::Error => return,
                ReqState::BodyIdentity => {
                    let n = rest.min(self.req.left);
                    self.req.left -= n;
                    rest -= n;
                    if let Some(id) = self.req.tx {
                        if let Some(tx) = self.tx_mut(id) {
                            tx.req_message_len = tx.req_message_len.saturating_add(n);
                            tx.req_body_gap = true;
                            if let Some(h) = tx.hashers[0].as_mut() {
                                h.gap = true;
                            }
                        }
                        if self.req.left == 0 {
                            self.req_complete(id);
                        }
                    }
                }
                _ => {}
            },
            Dir::ToClient => match self.resp.state {
                RespState::Tunnel | RespState::Error => return,
                RespState::BodyIdentity | RespState::BodyClose => {
                    let close = self.resp.state == RespState::BodyClose;
                    let n = if close {
                        rest
                    } else {
                        rest.min(self.resp.left)
                    };
                    if !close {
                        self.resp.left -= n;
                    }
                    rest -= n;
                    if let Some(id) = self.resp.tx {
                        if let Some(tx) = self.tx_mut(id) {
                            tx.resp_message_len = tx.resp_message_len.saturating_add(n);
                            tx.resp_body_gap = true;
                            if let Some(h) = tx.hashers[1].as_mut() {
                                h.gap = true;
                            }
                        }
                        if !close && self.resp.left == 0 {
                            self.resp_complete(id);
                        }
                    }
                }
                _ => {}
            },
        }
        if rest > 0 {
            // libhtp: "Gaps are not allowed during this state"; parsing
            // goes on with the bytes after the gap.
            let id = match dir {
                Dir::ToServer => self.req.tx,
                Dir::ToClient => self.resp.tx,
            };
            self.event(id, ev::UNKNOWN_ERROR);
        }
    }

    fn field_too_long(&mut self, dir: Dir) {
        self.counters.field_too_long += 1;
        match dir {
            Dir::ToServer => {
                let id = self.req.tx;
                self.event(id, ev::REQUEST_FIELD_TOO_LONG);
                self.req_fail();
            }
            Dir::ToClient => {
                let id = self.resp.tx;
                self.event(id, ev::RESPONSE_FIELD_TOO_LONG);
                self.resp_fail();
            }
        }
    }

    /// The request side stops (libhtp's stream error): the transaction in
    /// progress is closed as it is.
    fn req_fail(&mut self) {
        if let Some(id) = self.req.tx.take()
            && let Some(tx) = self.tx_mut(id)
        {
            tx.req_progress = Progress::Complete;
        }
        self.req.state = ReqState::Error;
        self.req.pending = None;
        self.req.decoder = None;
    }

    fn resp_fail(&mut self) {
        if let Some(id) = self.resp.tx.take()
            && let Some(tx) = self.tx_mut(id)
        {
            tx.resp_progress = Progress::Complete;
        }
        self.resp.state = RespState::Error;
        self.resp.pending = None;
        self.resp.decoder = None;
    }

    fn enter_tunnel(&mut self) {
        self.tunnel = true;
        self.req.state = ReqState::Tunnel;
        self.resp.state = RespState::Tunnel;
        let buffered = self.bufs[Dir::ToServer.index()].len() as u64;
        self.counters.tunnel_bytes = self.counters.tunnel_bytes.saturating_add(buffered);
        self.bufs[Dir::ToServer.index()].clear();
    }

    /// Body bytes of one direction: decoded when a Content-Encoding
    /// applies, kept up to the body limit.
    fn body_data(&mut self, dir: Dir, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let HttpState {
            cfg,
            txs,
            req,
            resp,
            counters,
            ..
        } = self;
        let (id, decoder, limit) = match dir {
            Dir::ToServer => (req.tx, &mut req.decoder, cfg.request_body_limit),
            Dir::ToClient => (resp.tx, &mut resp.decoder, cfg.response_body_limit),
        };
        let Some(id) = id else { return };
        let first = txs.front().map_or(0, |t| t.id);
        let Some(tx) = id
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| txs.get_mut(i))
        else {
            return;
        };
        let hashes = cfg.file_hashes;
        let (body, gap, hasher) = match dir {
            Dir::ToServer => (&mut tx.request_body, tx.req_body_gap, &mut tx.hashers[0]),
            Dir::ToClient => (&mut tx.response_body, tx.resp_body_gap, &mut tx.hashers[1]),
        };
        // The whole body feeds the file digests, past the inspection
        // limit; a gap spoils them.
        let mut hasher = hashes.any().then(|| {
            let h = hasher.get_or_insert_with(|| Box::new(FileHashers::new(hashes)));
            h.gap |= gap;
            h
        });
        let dropped = &mut counters.body_bytes_dropped;
        let mut events: [Option<&'static str>; 2] = [None, None];
        match decoder {
            Some(dec) => {
                let limits = Limits {
                    bomb: cfg.compression_bomb_limit,
                    ratio: cfg.compression_bomb_ratio,
                    out: cfg.decompress_out_limit,
                };
                let fed = dec.feed(data, limits, &mut |chunk| {
                    if let Some(h) = hasher.as_mut() {
                        h.update(chunk);
                    }
                    store(body, chunk, limit, gap, dropped)
                });
                if fed.failed {
                    events[0] = Some(ev::GZIP_DECOMPRESSION_FAILED);
                }
                if fed.bomb {
                    counters.bombs += 1;
                    events[1] = Some(ev::COMPRESSION_BOMB);
                }
            }
            None => {
                if let Some(h) = hasher.as_mut() {
                    h.update(data);
                }
                store(body, data, limit, gap, dropped)
            }
        }
        for e in events.into_iter().flatten() {
            self.event(Some(id), e);
        }
    }

    // ----------------------------------------------------------------
    // Requests
    // ----------------------------------------------------------------

    fn req_step(&mut self, avail: &[u8], eof: bool) -> Option<usize> {
        let limit = self.cfg.field_limit;
        if let Some(id) = self.req.tx
            && self.tx(id).is_none()
        {
            // The runtime removed the transaction being parsed: that
            // request is abandoned and parsing starts over.
            self.req = ReqParser::default();
        }
        match self.req.state {
            ReqState::Error => {
                self.counters.bytes_after_error += avail.len() as u64;
                (!avail.is_empty()).then_some(avail.len())
            }
            ReqState::Tunnel => {
                self.counters.tunnel_bytes += avail.len() as u64;
                (!avail.is_empty()).then_some(avail.len())
            }
            ReqState::Idle => {
                // Empty lines between requests start nothing.
                match avail {
                    [] => None,
                    [b'\n', ..] => Some(1),
                    [b'\r', b'\n', ..] => Some(2),
                    [b'\r'] if !eof => None,
                    [b'\r'] => Some(1),
                    _ => {
                        if self.txs.len() >= self.cfg.max_tx {
                            self.counters.tx_cap += 1;
                            self.event(None, ev::UNKNOWN_ERROR);
                            self.req_fail();
                            return Some(0);
                        }
                        let id = self.next_id;
                        self.next_id += 1;
                        let mut tx = HttpTx::new(id);
                        tx.req_progress = Progress::Line;
                        self.txs.push_back(tx);
                        self.req = ReqParser {
                            state: ReqState::Line,
                            tx: Some(id),
                            ..ReqParser::default()
                        };
                        Some(0)
                    }
                }
            }
            ReqState::Line => {
                let (line, n) = match memchr(b'\n', avail) {
                    Some(i) => (&avail[..=i], i + 1),
                    None if eof && !avail.is_empty() => {
                        let id = self.req.tx;
                        self.event(id, ev::REQUEST_LINE_INCOMPLETE);
                        (avail, avail.len())
                    }
                    None => {
                        if avail.len() > limit {
                            self.field_too_long(Dir::ToServer);
                            return Some(0);
                        }
                        return None;
                    }
                };
                if line.len() > limit {
                    self.field_too_long(Dir::ToServer);
                    return Some(0);
                }
                self.request_line(chomp(line));
                Some(n)
            }
            ReqState::Probe09 => {
                let id = self.req.tx?;
                match avail.first() {
                    None if !eof => return None,
                    Some(&c) if !is_space(c) => {
                        // "Request line: missing protocol": headers follow.
                        self.event(Some(id), ev::UNKNOWN_ERROR);
                        if let Some(tx) = self.tx_mut(id) {
                            tx.is_09 = false;
                            tx.req_progress = Progress::Headers;
                        }
                        self.req.state = ReqState::Headers;
                    }
                    _ => self.req_complete(id),
                }
                Some(0)
            }
            ReqState::Headers => self.req_headers_step(avail, eof),
            ReqState::BodyIdentity => {
                if avail.is_empty() {
                    return None;
                }
                let id = self.req.tx?;
                let n = avail
                    .len()
                    .min(usize::try_from(self.req.left).unwrap_or(usize::MAX));
                self.req.left -= n as u64;
                if let Some(tx) = self.tx_mut(id) {
                    tx.req_message_len += n as u64;
                }
                self.body_data(Dir::ToServer, &avail[..n]);
                if self.req.left == 0 {
                    self.req_complete(id);
                }
                Some(n)
            }
            ReqState::ChunkLen => self.chunk_len_step(Dir::ToServer, avail),
            ReqState::ChunkData => {
                let (n, ended) = self.chunk_data_step(Dir::ToServer, avail)?;
                if ended {
                    self.req.state = ReqState::ChunkDataEnd;
                }
                Some(n)
            }
            ReqState::ChunkDataEnd => {
                let (n, ended) = self.chunk_end_step(Dir::ToServer, avail)?;
                if ended {
                    self.req.state = ReqState::ChunkLen;
                }
                Some(n)
            }
            ReqState::ConnectWait => {
                let id = self.req.tx?;
                let known = self
                    .tx(id)
                    .map(|t| (t.resp_progress > Progress::Line, t.status_num));
                match known {
                    Some((true, Some(200..=299))) => {
                        self.enter_tunnel();
                        Some(0)
                    }
                    Some((true, _)) | None => {
                        self.req.state = ReqState::Idle;
                        self.req.tx = None;
                        Some(0)
                    }
                    Some((false, _)) => {
                        // Hold the bytes until the answer, within the field
                        // limit (the oldest beyond it are dropped).
                        if avail.len() > limit {
                            let drop = avail.len() - limit;
                            self.counters.connect_bytes_dropped += drop as u64;
                            return Some(drop);
                        }
                        None
                    }
                }
            }
        }
    }

    /// libhtp `htp_parse_request_line_generic_ex` (with Suricata's
    /// `allow_space_uri`: the URI ends at the last space) and
    /// `htp_tx_state_request_line`.
    fn request_line(&mut self, line: &[u8]) {
        let Some(id) = self.req.tx else { return };
        let mut events: Vec<&'static str> = Vec::new();
        let lead = line
            .iter()
            .position(|&c| !is_space(c))
            .unwrap_or(line.len());
        if lead > 0 {
            events.push(ev::REQUEST_LINE_LEADING_WHITESPACE);
        }
        let rest = &line[lead..];
        let mend = rest.iter().position(|&c| is_space(c)).unwrap_or(rest.len());
        let method = &rest[..mend];
        let rest = &rest[mend..];
        let ws = rest
            .iter()
            .position(|&c| !is_space(c))
            .unwrap_or(rest.len());
        if rest[..ws].iter().any(|&c| c != b' ') {
            events.push(ev::METHOD_DELIM_NON_COMPLIANT);
        }
        let rest = trim_space(&rest[ws..]);
        let mut uri_raw: Option<&[u8]> = None;
        let mut protocol: Option<&[u8]> = None;
        if !rest.is_empty() {
            let (u, p) = match rest.iter().rposition(|&c| c == b' ') {
                Some(i) => (&rest[..i], trim_space(&rest[i + 1..])),
                None if rest.iter().any(|&c| is_space(c)) => {
                    events.push(ev::URI_DELIM_NON_COMPLIANT);
                    match rest.iter().rposition(|&c| is_space(c)) {
                        Some(i) => (&rest[..i], trim_space(&rest[i + 1..])),
                        None => (rest, &b""[..]),
                    }
                }
                None => (rest, &b""[..]),
            };
            let u = trim_space(u);
            uri_raw = Some(u);
            if !p.is_empty() {
                protocol = Some(p);
            }
        }
        let method_num = method_number(method);
        let (parsed, authority_invalid) = match (method_num, uri_raw) {
            (Method::Connect, Some(u)) => uri::parse_authority(u),
            (_, Some(u)) => (uri::parse_uri(u), false),
            (_, None) => (uri::Uri::default(), false),
        };
        let norm = uri::normalize(&parsed);
        if norm.host_invalid || authority_invalid {
            events.push(ev::REQUEST_URI_HOST_INVALID);
        }
        if let Some(tx) = self.tx_mut(id) {
            tx.request_line = Some(line.to_vec());
            tx.method = Some(method.to_vec());
            tx.method_num = method_num;
            tx.uri_raw = uri_raw.map(<[u8]>::to_vec);
            tx.req_protocol = protocol.map(<[u8]>::to_vec);
            tx.req_proto = protocol.map_or(Proto::V09, parse_protocol);
            tx.is_09 = protocol.is_none();
            tx.uri_norm = Some(uri::suricata_normalized_uri(&norm.uri));
            tx.uri_host = norm.uri.hostname.clone();
            tx.hostname = norm.uri.hostname;
            tx.port = norm.port_number;
            if !tx.is_09 {
                tx.req_progress = Progress::Headers;
            }
        }
        for e in events {
            self.event(Some(id), e);
        }
        let is_09 = protocol.is_none();
        self.req.state = if is_09 {
            ReqState::Probe09
        } else {
            ReqState::Headers
        };
    }

    fn req_headers_step(&mut self, avail: &[u8], eof: bool) -> Option<usize> {
        let id = self.req.tx?;
        let limit = self.cfg.field_limit;
        let pending_len = self.req.pending.as_ref().map_or(0, Vec::len);
        let Some(i) = memchr(b'\n', avail) else {
            if eof {
                // libhtp on close: the header in progress is parsed, the
                // partial line is not.
                self.flush_req_header(id);
                self.req_headers_done(id);
                return Some(avail.len());
            }
            if avail.len() + pending_len > limit {
                self.field_too_long(Dir::ToServer);
                return Some(0);
            }
            return None;
        };
        let line = &avail[..=i];
        if line.len() + pending_len > limit {
            self.field_too_long(Dir::ToServer);
            return Some(0);
        }
        let raw_cap = self.cfg.max_header_bytes;
        if let Some(tx) = self.tx_mut(id) {
            let room = raw_cap.saturating_sub(tx.req_raw.len());
            tx.req_raw.extend_from_slice(&line[..line.len().min(room)]);
        }
        if is_line_empty(line) {
            self.flush_req_header(id);
            self.req_headers_done(id);
            return Some(i + 1);
        }
        let c = chomp(line);
        if c.first().is_some_and(|&b| is_lws(b)) {
            match &mut self.req.pending {
                Some(p) => p.extend_from_slice(c),
                None => {
                    self.warn_once(id, warn::REQ_FOLDING, ev::INVALID_REQUEST_FIELD_FOLDING);
                    self.req.pending = Some(c.to_vec());
                }
            }
        } else {
            self.flush_req_header(id);
            self.req.pending = Some(c.to_vec());
        }
        Some(i + 1)
    }

    fn flush_req_header(&mut self, id: u64) {
        if let Some(p) = self.req.pending.take() {
            let h = parse_request_header(&p);
            if h.missing_colon {
                self.warn_once(id, warn::REQ_UNPARSEABLE, ev::REQUEST_FIELD_MISSING_COLON);
            } else if h.invalid {
                self.warn_once(id, warn::REQ_INVALID, ev::REQUEST_HEADER_INVALID);
            }
            self.add_header(id, Dir::ToServer, &h);
        }
    }

    /// libhtp `htp_process_request_header_generic` (and the response
    /// twin): repeated fields are joined with ", ", except Content-Length.
    fn add_header(&mut self, id: u64, dir: Dir, h: &ParsedHeader<'_>) {
        let cfg_max = self.cfg.max_headers;
        let cfg_bytes = self.cfg.max_header_bytes;
        let max_rep = self.cfg.max_header_repetitions;
        let Some(tx) = self.tx_mut(id) else { return };
        let headers: &mut Headers = match dir {
            Dir::ToServer => &mut tx.req_headers,
            Dir::ToClient => &mut tx.resp_headers,
        };
        let mut events: Vec<(Option<u32>, &'static str)> = Vec::new();
        let mut dropped = 0;
        let mut rep_dropped = 0;
        let reps = headers.repetitions;
        let bytes = headers.bytes;
        let hash = super::tx::name_hash(h.name);
        if let Some(idx) = headers
            .list
            .iter()
            .position(|x| x.hash == hash && x.name.eq_ignore_ascii_case(h.name))
        {
            let mut add = true;
            let was_repeated = headers.list.get(idx).is_some_and(|x| x.repeated);
            if !was_repeated {
                // "Repetition for header": no entry in Suricata's table.
                events.push((None, ev::UNKNOWN_ERROR));
            } else if reps < max_rep {
                headers.repetitions += 1;
            } else {
                rep_dropped = 1;
                add = false;
                events.push(match dir {
                    Dir::ToServer => (Some(warn::REQ_REPEAT_CAP), ev::REQUEST_HEADER_REPETITION),
                    Dir::ToClient => (Some(warn::RESP_REPEAT_CAP), ev::RESPONSE_HEADER_REPETITION),
                });
            }
            if add {
                let fits = bytes + h.value.len() + 2 <= cfg_bytes;
                if let Some(existing) = headers.list.get_mut(idx) {
                    existing.repeated = true;
                    if h.name.eq_ignore_ascii_case(b"content-length") {
                        let a = parse_content_length(&existing.value).value;
                        let b = parse_content_length(h.value).value;
                        if a.is_none() || b.is_none() || a != b {
                            events.push((
                                None,
                                match dir {
                                    Dir::ToServer => ev::DUP_CL_REQUEST,
                                    Dir::ToClient => ev::DUP_CL_RESPONSE,
                                },
                            ));
                        }
                    } else if fits {
                        existing.value.extend_from_slice(b", ");
                        existing.value.extend_from_slice(h.value);
                        headers.bytes += h.value.len() + 2;
                    } else {
                        dropped = 1;
                    }
                }
            }
        } else if headers.list.len() >= cfg_max || bytes + h.name.len() + h.value.len() > cfg_bytes
        {
            dropped = 1;
            events.push(match dir {
                Dir::ToServer => (Some(warn::REQ_TOO_MANY), ev::UNKNOWN_ERROR),
                Dir::ToClient => (Some(warn::RESP_TOO_MANY), ev::UNKNOWN_ERROR),
            });
        } else {
            headers.bytes += h.name.len() + h.value.len();
            headers.list.push(super::tx::Header {
                name: h.name.to_vec(),
                value: h.value.to_vec(),
                repeated: false,
                hash,
            });
        }
        self.counters.headers_dropped += dropped;
        self.counters.repetitions_dropped += rep_dropped;
        for (bit, e) in events {
            match bit {
                Some(bit) => self.warn_once(id, bit, e),
                None => self.event(Some(id), e),
            }
        }
    }

    /// libhtp `htp_tx_state_request_headers` and `REQ_BODY_DETERMINE`.
    fn req_headers_done(&mut self, id: u64) {
        if self.req.trailer {
            if let Some(tx) = self.tx_mut(id) {
                tx.req_built = Some(Built::build(
                    tx.request_line.as_deref(),
                    &tx.req_headers,
                    b"cookie",
                ));
            }
            self.req_complete(id);
            return;
        }
        let layer_limit = self.cfg.decompress_layer_limit;
        let Some(tx) = self.tx_mut(id) else { return };
        tx.req_built = Some(Built::build(
            tx.request_line.as_deref(),
            &tx.req_headers,
            b"cookie",
        ));
        let mut events: Vec<&'static str> = Vec::new();
        let mut invalid = false;
        enum Body {
            None,
            Chunked,
            Length(u64),
        }
        let te = tx.req_headers.value(b"transfer-encoding");
        let cl = tx.req_headers.value(b"content-length");
        let body = if let Some(te) = te {
            if has_token(te, b"chunked") {
                Body::Chunked
            } else {
                events.push(ev::INVALID_TE_REQUEST);
                invalid = true;
                Body::None
            }
        } else if let Some(cl) = cl {
            let c = parse_content_length(cl);
            if c.junk {
                events.push(ev::UNKNOWN_ERROR);
            }
            match c.value {
                Some(n) => {
                    tx.req_content_length = Some(n);
                    Body::Length(n)
                }
                None => {
                    events.push(ev::INVALID_CL_REQUEST);
                    invalid = true;
                    Body::None
                }
            }
        } else {
            Body::None
        };
        // Host: the URI's, else the header's.
        match tx.req_headers.value(b"host") {
            None => {
                if tx.req_proto >= Proto::V11 {
                    events.push(ev::MISSING_HOST_HEADER);
                }
            }
            Some(h) => {
                let hp = uri::parse_hostport(h);
                let bad = hp.invalid
                    || hp
                        .hostname
                        .as_deref()
                        .is_some_and(|n| !uri::validate_hostname(n));
                if bad {
                    events.push(ev::REQUEST_HEADER_HOST_INVALID);
                }
                match hp.hostname {
                    Some(name) => {
                        if let Some(uh) = &tx.hostname {
                            let ports_differ =
                                matches!((tx.port, hp.port_number), (Some(a), Some(b)) if a != b);
                            if !uh.eq_ignore_ascii_case(&name) || ports_differ {
                                events.push(ev::HOST_HEADER_AMBIGUOUS);
                            }
                        } else {
                            tx.hostname = Some(name);
                            tx.port = hp.port_number;
                        }
                    }
                    None => {
                        if tx.hostname.is_some() {
                            events.push(ev::HOST_HEADER_AMBIGUOUS);
                        }
                    }
                }
            }
        }
        // libhtp `htp_parse_authorization` (request auth parsing is on by
        // default): an unknown scheme is Suricata's
        // `REQUEST_AUTH_UNRECOGNIZED`.
        if let Some(auth) = tx.req_headers.value(b"authorization") {
            let known = [&b"basic"[..], b"digest", b"bearer"].iter().any(|s| {
                auth.get(..s.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(s))
            });
            if !known {
                events.push(ev::REQUEST_AUTH_UNRECOGNIZED);
            }
        }
        let codings = match tx.req_headers.value(b"content-encoding") {
            Some(ce) => {
                let (c, e) = content_codings(ce, layer_limit, false);
                events.extend(e);
                c
            }
            None => Vec::new(),
        };
        let connect = tx.method_num == Method::Connect;
        for e in events {
            self.event(Some(id), e);
        }
        if invalid {
            // libhtp refuses to go on with an invalid request.
            self.req_fail();
            return;
        }
        self.req.decoder = (!codings.is_empty()).then(|| Decoder::new(&codings));
        if connect {
            if let Some(tx) = self.tx_mut(id) {
                tx.req_progress = Progress::Complete;
            }
            self.req.state = ReqState::ConnectWait;
            return;
        }
        match body {
            Body::Chunked => {
                self.req.state = ReqState::ChunkLen;
                if let Some(tx) = self.tx_mut(id) {
                    tx.req_progress = Progress::Body;
                }
            }
            Body::Length(n) if n > 0 => {
                self.req.state = ReqState::BodyIdentity;
                self.req.left = n;
                if let Some(tx) = self.tx_mut(id) {
                    tx.req_progress = Progress::Body;
                }
            }
            _ => self.req_complete(id),
        }
    }

    fn req_complete(&mut self, id: u64) {
        if let Some(tx) = self.tx_mut(id) {
            tx.req_progress = Progress::Complete;
            if tx.req_built.is_none() {
                tx.req_built = Some(Built::build(
                    tx.request_line.as_deref(),
                    &tx.req_headers,
                    b"cookie",
                ));
            }
        }
        self.req = ReqParser::default();
    }

    /// The chunk-length line of either direction (libhtp
    /// `REQ/RES_BODY_CHUNKED_LENGTH`).
    /// Chunk data of direction `dir`: the bytes taken, and whether the
    /// chunk ended. `None`: nothing to take.
    fn chunk_data_step(&mut self, dir: Dir, avail: &[u8]) -> Option<(usize, bool)> {
        if avail.is_empty() {
            return None;
        }
        let (id, left) = match dir {
            Dir::ToServer => (self.req.tx?, &mut self.req.left),
            Dir::ToClient => (self.resp.tx?, &mut self.resp.left),
        };
        let n = avail
            .len()
            .min(usize::try_from(*left).unwrap_or(usize::MAX));
        *left -= n as u64;
        let ended = *left == 0;
        self.count_message_bytes(id, dir, n);
        self.body_data(dir, &avail[..n]);
        Some((n, ended))
    }

    /// The line end after a chunk's data: the bytes taken, and whether the
    /// line ended.
    fn chunk_end_step(&mut self, dir: Dir, avail: &[u8]) -> Option<(usize, bool)> {
        if avail.is_empty() {
            return None;
        }
        let id = match dir {
            Dir::ToServer => self.req.tx?,
            Dir::ToClient => self.resp.tx?,
        };
        let n = memchr(b'\n', avail).map_or(avail.len(), |i| i + 1);
        self.count_message_bytes(id, dir, n);
        Some((n, avail.get(n - 1) == Some(&b'\n')))
    }

    fn count_message_bytes(&mut self, id: u64, dir: Dir, n: usize) {
        if let Some(tx) = self.tx_mut(id) {
            match dir {
                Dir::ToServer => tx.req_message_len += n as u64,
                Dir::ToClient => tx.resp_message_len += n as u64,
            }
        }
    }

    fn chunk_len_step(&mut self, dir: Dir, avail: &[u8]) -> Option<usize> {
        let id = match dir {
            Dir::ToServer => self.req.tx?,
            Dir::ToClient => self.resp.tx?,
        };
        let (line, n, complete) = match memchr(b'\n', avail) {
            Some(i) => (&avail[..=i], i + 1, true),
            None => {
                if avail.is_empty() {
                    return None;
                }
                if chunk_line_plausible(avail) {
                    if avail.len() > self.cfg.field_limit {
                        self.field_too_long(dir);
                        return Some(0);
                    }
                    return None;
                }
                (avail, avail.len(), false)
            }
        };
        self.count_message_bytes(id, dir, n);
        let parsed = if complete {
            parse_chunked_length(line)
        } else {
            Err(())
        };
        match parsed {
            Ok(None) => {}
            Ok(Some(0)) => match dir {
                Dir::ToServer => {
                    self.req.state = ReqState::Headers;
                    self.req.trailer = true;
                }
                Dir::ToClient => {
                    self.resp.state = RespState::Headers;
                    self.resp.trailer = true;
                    self.resp.lfcr = false;
                }
            },
            Ok(Some(len)) => match dir {
                Dir::ToServer => {
                    self.req.left = len;
                    self.req.state = ReqState::ChunkData;
                }
                Dir::ToClient => {
                    self.resp.left = len;
                    self.resp.state = RespState::ChunkData;
                }
            },
            Err(()) => match dir {
                Dir::ToServer => {
                    self.event(Some(id), ev::INVALID_REQUEST_CHUNK_LEN);
                    self.req_fail();
                }
                Dir::ToClient => {
                    // libhtp falls back to a body that runs to the end of
                    // the connection, starting with this line.
                    self.event(Some(id), ev::INVALID_RESPONSE_CHUNK_LEN);
                    self.resp.state = RespState::BodyClose;
                    self.body_data(Dir::ToClient, line);
                }
            },
        }
        Some(n)
    }

    // ----------------------------------------------------------------
    // Responses
    // ----------------------------------------------------------------

    fn resp_step(&mut self, avail: &[u8], eof: bool) -> Option<usize> {
        let limit = self.cfg.field_limit;
        if let Some(id) = self.resp.tx
            && self.tx(id).is_none()
        {
            // As for requests: the response being parsed is abandoned.
            let next_tx = self.resp.next_tx;
            self.resp = RespParser {
                next_tx,
                ..RespParser::default()
            };
        }
        match self.resp.state {
            RespState::Error => {
                self.counters.bytes_after_error += avail.len() as u64;
                (!avail.is_empty()).then_some(avail.len())
            }
            RespState::Tunnel => {
                self.counters.tunnel_bytes += avail.len() as u64;
                (!avail.is_empty()).then_some(avail.len())
            }
            RespState::Idle => {
                if avail.is_empty() {
                    return None;
                }
                self.resp_start();
                Some(0)
            }
            RespState::Line => {
                let id = self.resp.tx?;
                let (line_len, n) = match resp_line_end(avail) {
                    Some(l) => (l, l),
                    None if eof && !avail.is_empty() => (avail.len(), avail.len()),
                    None => {
                        if avail.len() > limit {
                            self.field_too_long(Dir::ToClient);
                            return Some(0);
                        }
                        return None;
                    }
                };
                let line = &avail[..line_len];
                if line.len() > limit {
                    self.field_too_long(Dir::ToClient);
                    return Some(0);
                }
                if is_line_empty(line) {
                    return Some(n);
                }
                let c = chomp(line);
                if response_line_is_body(c) {
                    match avail.get(n) {
                        None if !eof => return None,
                        Some(&b'H') => return Some(n),
                        Some(_) if c.len() <= 2 => return Some(n),
                        _ => {}
                    }
                    // Not a response: the rest of the connection is body.
                    if let Some(tx) = self.tx_mut(id) {
                        tx.resp_progress = Progress::Body;
                        tx.resp_message_len += n as u64;
                    }
                    self.resp.decoder = None;
                    self.resp.state = RespState::BodyClose;
                    self.body_data(Dir::ToClient, line);
                    return Some(n);
                }
                self.response_line(id, c);
                Some(n)
            }
            RespState::Headers => self.resp_headers_step(avail, eof),
            RespState::BodyIdentity => {
                if avail.is_empty() {
                    return None;
                }
                let id = self.resp.tx?;
                let n = avail
                    .len()
                    .min(usize::try_from(self.resp.left).unwrap_or(usize::MAX));
                self.resp.left -= n as u64;
                if let Some(tx) = self.tx_mut(id) {
                    tx.resp_message_len += n as u64;
                }
                self.body_data(Dir::ToClient, &avail[..n]);
                if self.resp.left == 0 {
                    self.resp_complete(id);
                }
                Some(n)
            }
            RespState::BodyClose => {
                let id = self.resp.tx?;
                if avail.is_empty() {
                    if eof {
                        self.resp_complete(id);
                        return Some(0);
                    }
                    return None;
                }
                if let Some(tx) = self.tx_mut(id) {
                    tx.resp_message_len += avail.len() as u64;
                }
                self.body_data(Dir::ToClient, avail);
                Some(avail.len())
            }
            RespState::ChunkLen => self.chunk_len_step(Dir::ToClient, avail),
            RespState::ChunkData => {
                let (n, ended) = self.chunk_data_step(Dir::ToClient, avail)?;
                if ended {
                    self.resp.state = RespState::ChunkDataEnd;
                }
                Some(n)
            }
            RespState::ChunkDataEnd => {
                let (n, ended) = self.chunk_end_step(Dir::ToClient, avail)?;
                if ended {
                    self.resp.state = RespState::ChunkLen;
                }
                Some(n)
            }
        }
    }

    /// libhtp `htp_connp_RES_IDLE`: the response belongs to the oldest
    /// transaction without one; with none, a transaction is made for it.
    fn resp_start(&mut self) {
        let mut id = self.resp.next_tx;
        if self.tx(id).is_none() {
            if self.txs.len() >= self.cfg.max_tx {
                self.counters.tx_cap += 1;
                self.event(None, ev::UNKNOWN_ERROR);
                self.resp_fail();
                return;
            }
            id = self.next_id;
            self.next_id += 1;
            let mut tx = HttpTx::new(id);
            tx.req_progress = Progress::Complete;
            tx.uri_raw = Some(URI_NOT_SEEN.to_vec());
            tx.uri_norm = Some(URI_NOT_SEEN.to_vec());
            tx.req_built = Some(Built::default());
            self.txs.push_back(tx);
            self.event(Some(id), ev::UNABLE_TO_MATCH);
        }
        if self.req.state == ReqState::Probe09 && self.req.tx == Some(id) {
            // No more request bytes came before the answer: HTTP/0.9.
            self.req_complete(id);
        }
        self.resp = RespParser {
            tx: Some(id),
            next_tx: id + 1,
            ..RespParser::default()
        };
        let is_09 = self.tx(id).is_some_and(|t| t.is_09);
        if let Some(tx) = self.tx_mut(id) {
            if is_09 {
                // An HTTP/0.9 answer has no status line and no headers.
                tx.resp_progress = Progress::Body;
            } else {
                tx.resp_progress = Progress::Line;
            }
        }
        self.resp.state = if is_09 {
            RespState::BodyClose
        } else {
            RespState::Line
        };
    }

    /// libhtp `htp_parse_response_line_generic` and
    /// `htp_tx_state_response_line`.
    fn response_line(&mut self, id: u64, line: &[u8]) {
        let mut pos = line
            .iter()
            .position(|&c| !is_space(c))
            .unwrap_or(line.len());
        let token = |pos: &mut usize| -> &[u8] {
            let start = *pos;
            while line.get(*pos).is_some_and(|&c| !is_space(c)) {
                *pos += 1;
            }
            &line[start..*pos]
        };
        let skip = |pos: &mut usize| {
            while line.get(*pos).is_some_and(|&c| is_space(c)) {
                *pos += 1;
            }
        };
        let protocol = token(&mut pos);
        skip(&mut pos);
        let status = token(&mut pos);
        skip(&mut pos);
        let message = &line[pos..];
        let proto = if protocol.is_empty() {
            Proto::Invalid
        } else {
            parse_protocol(protocol)
        };
        let status_num = super::util::parse_int_ws(status, 10)
            .filter(|s| (100..=999).contains(s))
            .and_then(|s| u16::try_from(s).ok());
        if let Some(tx) = self.tx_mut(id) {
            tx.response_line = Some(line.to_vec());
            tx.resp_protocol = (!protocol.is_empty()).then(|| protocol.to_vec());
            tx.status = (!status.is_empty()).then(|| status.to_vec());
            tx.status_num = status_num;
            tx.message = (!message.is_empty()).then(|| message.to_vec());
            tx.resp_progress = Progress::Headers;
        }
        if proto == Proto::Invalid {
            self.event(Some(id), ev::RESPONSE_INVALID_PROTOCOL);
        }
        if status_num.is_none() {
            self.event(Some(id), ev::RESPONSE_INVALID_STATUS);
        }
        self.resp.state = RespState::Headers;
        self.resp.lfcr = false;
    }

    fn resp_headers_step(&mut self, avail: &[u8], eof: bool) -> Option<usize> {
        let id = self.resp.tx?;
        let limit = self.cfg.field_limit;
        let pending_len = self.resp.pending.as_ref().map_or(0, Vec::len);
        let mut lfcr = self.resp.lfcr;
        let Some(split) = resp_header_line(avail, &mut lfcr, eof) else {
            if eof {
                // libhtp on close: the header in progress is parsed and the
                // response finalised without a body.
                self.flush_resp_header(id);
                self.build_resp(id);
                self.resp_complete(id);
                return Some(avail.len());
            }
            if avail.len() + pending_len > limit {
                self.field_too_long(Dir::ToClient);
                return Some(0);
            }
            return None;
        };
        let line = &avail[..split.line];
        if line.len() + pending_len > limit {
            self.field_too_long(Dir::ToClient);
            return Some(0);
        }
        let next = avail.get(split.consumed);
        let lws_lf = line.len() == 2 && is_lws(line[0]) && line[1] == b'\n';
        if lws_lf && next.is_none() && !eof {
            // libhtp's "only space is terminator if terminator does not
            // follow right away": the next byte decides.
            return None;
        }
        self.resp.lfcr = lfcr;
        if split.weird {
            // "Weird response end of lines mix".
            self.event(Some(id), ev::UNKNOWN_ERROR);
        }
        let raw_cap = self.cfg.max_header_bytes;
        if let Some(tx) = self.tx_mut(id) {
            let bytes = &avail[..split.consumed];
            let room = raw_cap.saturating_sub(tx.resp_raw.len());
            tx.resp_raw
                .extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        let terminator = is_line_empty(line) || (lws_lf && next.is_some_and(|&c| c != b'\n'));
        if terminator {
            self.flush_resp_header(id);
            if self.resp.trailer {
                self.build_resp(id);
                self.resp_complete(id);
            } else {
                self.resp_body_determine(id);
            }
            return Some(split.consumed);
        }
        let c = chomp(line);
        if c.first().is_some_and(|&b| is_lws(b)) {
            match &mut self.resp.pending {
                Some(p) => p.extend_from_slice(c),
                None => {
                    self.warn_once(id, warn::RESP_FOLDING, ev::INVALID_RESPONSE_FIELD_FOLDING);
                    self.resp.pending = Some(c.to_vec());
                }
            }
        } else {
            self.flush_resp_header(id);
            self.resp.pending = Some(c.to_vec());
        }
        Some(split.consumed)
    }

    fn flush_resp_header(&mut self, id: u64) {
        if let Some(p) = self.resp.pending.take() {
            let h = parse_response_header(&p);
            if h.missing_colon {
                self.warn_once(id, warn::RESP_UNPARSEABLE, ev::RESPONSE_FIELD_MISSING_COLON);
            } else if h.invalid {
                self.warn_once(id, warn::RESP_INVALID, ev::RESPONSE_HEADER_INVALID);
            }
            self.add_header(id, Dir::ToClient, &h);
        }
    }

    fn build_resp(&mut self, id: u64) {
        if let Some(tx) = self.tx_mut(id) {
            tx.resp_built = Some(Built::build(
                tx.response_line.as_deref(),
                &tx.resp_headers,
                b"set-cookie",
            ));
        }
    }

    /// libhtp `htp_connp_RES_BODY_DETERMINE` and
    /// `htp_tx_state_response_headers`.
    fn resp_body_determine(&mut self, id: u64) {
        let layer_limit = self.cfg.decompress_layer_limit;
        let Some(tx) = self.tx(id) else {
            self.resp_complete(id);
            return;
        };
        let status = tx.status_num;
        let method = tx.method_num;
        let te = tx
            .resp_headers
            .value(b"transfer-encoding")
            .map(<[u8]>::to_vec);
        let cl = tx.resp_headers.value(b"content-length").map(<[u8]>::to_vec);
        let ct = tx.resp_headers.value(b"content-type").map(<[u8]>::to_vec);
        let ce = tx
            .resp_headers
            .value(b"content-encoding")
            .map(<[u8]>::to_vec);
        let resp_proto = tx
            .resp_protocol
            .as_deref()
            .map_or(Proto::Invalid, parse_protocol);
        let seen_100 = tx.seen_100;
        let expect_100 = tx
            .req_headers
            .value(b"expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let req_cl = tx.req_content_length;
        let s = status.unwrap_or(0);

        if method == Method::Connect {
            if (200..=299).contains(&s) {
                self.build_resp(id);
                self.resp_complete(id);
                self.enter_tunnel();
                return;
            }
            // A refused CONNECT: the request side goes on.
            self.resume_req();
        }
        if s == 101 {
            if te.is_none() && cl.is_none() {
                self.build_resp(id);
                self.resp_complete(id);
                self.enter_tunnel();
                return;
            }
            // "Switching Protocol with Content-Length".
            self.event(Some(id), ev::UNKNOWN_ERROR);
        }
        if s == 100 && te.is_none() && cl.is_none() {
            if seen_100 {
                self.event(Some(id), ev::CONTINUE_ALREADY_SEEN);
                self.resp_fail();
                return;
            }
            if let Some(tx) = self.tx_mut(id) {
                tx.resp_headers = Headers::default();
                tx.resp_progress = Progress::Line;
                tx.seen_100 = true;
            }
            self.resp.state = RespState::Line;
            return;
        }
        // A 4xx to a request that waits for 100-continue: its body will
        // not come.
        if (400..=499).contains(&s)
            && expect_100
            && self.req.tx == Some(id)
            && self.req.state == ReqState::BodyIdentity
            && req_cl.is_some_and(|n| n > 0 && n == self.req.left)
        {
            self.req_complete(id);
            self.resume_req();
        }
        self.build_resp(id);
        let mut no_body = false;
        if method == Method::Head {
            no_body = true;
        } else if (100..=199).contains(&s) || s == 204 || s == 304 {
            if te.is_none() && cl.is_none() {
                no_body = true;
            } else {
                // "Unexpected Response body".
                self.event(Some(id), ev::UNKNOWN_ERROR);
            }
        }
        if no_body {
            self.resp_complete(id);
            return;
        }
        let mut events: Vec<&'static str> = Vec::new();
        let te_chunked = te
            .as_deref()
            .is_some_and(|t| contains_nocase_nozero(t, b"chunked"));
        if te_chunked {
            if !te
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"))
            {
                events.push(ev::RESPONSE_ABNORMAL_TE);
            }
            if resp_proto < Proto::V11 {
                events.push(ev::RESPONSE_CHUNKED_OLD_PROTO);
            }
            self.resp.state = RespState::ChunkLen;
        } else if let Some(cl) = &cl {
            let c = parse_content_length(cl);
            if c.junk {
                events.push(ev::UNKNOWN_ERROR);
            }
            match c.value {
                None => {
                    events.push(ev::INVALID_CL_RESPONSE);
                    for e in events {
                        self.event(Some(id), e);
                    }
                    self.resp_fail();
                    return;
                }
                Some(0) => {
                    for e in events {
                        self.event(Some(id), e);
                    }
                    self.resp_complete(id);
                    return;
                }
                Some(n) => {
                    self.resp.left = n;
                    self.resp.state = RespState::BodyIdentity;
                }
            }
        } else {
            if ct
                .as_deref()
                .is_some_and(|t| contains_nocase(t, b"multipart/byteranges"))
            {
                self.event(Some(id), ev::RESPONSE_MULTIPART_BYTERANGES);
                self.resp_fail();
                return;
            }
            self.resp.state = RespState::BodyClose;
        }
        if let Some(ce) = ce {
            let (codings, e) = content_codings(&ce, layer_limit, true);
            events.extend(e);
            self.resp.decoder = (!codings.is_empty()).then(|| Decoder::new(&codings));
        }
        if let Some(tx) = self.tx_mut(id) {
            tx.resp_progress = Progress::Body;
        }
        for e in events {
            self.event(Some(id), e);
        }
    }

    fn resp_complete(&mut self, id: u64) {
        if let Some(tx) = self.tx_mut(id) {
            tx.resp_progress = Progress::Complete;
            if tx.resp_built.is_none() && tx.response_line.is_some() {
                tx.resp_built = Some(Built::build(
                    tx.response_line.as_deref(),
                    &tx.resp_headers,
                    b"set-cookie",
                ));
            }
        }
        let next_tx = self.resp.next_tx;
        self.resp = RespParser {
            next_tx,
            ..RespParser::default()
        };
    }
}

/// The end of a response line (libhtp `RES_LINE`): LF, CRLF, or a CR
/// followed by anything else. `None`: more bytes are needed.
fn resp_line_end(avail: &[u8]) -> Option<usize> {
    let i = avail.iter().position(|&c| c == b'\n' || c == b'\r')?;
    if avail[i] == b'\n' {
        return Some(i + 1);
    }
    match avail.get(i + 1) {
        None => None,
        Some(b'\n') => Some(i + 2),
        Some(_) => Some(i + 1),
    }
}

/// Where a response header line ends (libhtp `RES_HEADERS`).
#[derive(Debug, Clone, Copy)]
struct LineSplit {
    /// Bytes of the line, terminator included.
    line: usize,
    /// Bytes consumed (the line and any LF-CR-CR-LF extra).
    consumed: usize,
    weird: bool,
}

/// libhtp's response header line ends: LF (and a CR right after it), CRLF,
/// a CR followed by anything but LF or CR (a CR followed by CR stays in the
/// line), and a lone CR line is not a line.
fn resp_header_line(avail: &[u8], lfcr: &mut bool, eof: bool) -> Option<LineSplit> {
    let mut i = 0;
    let mut state = *lfcr;
    loop {
        let &b = avail.get(i)?;
        i += 1;
        if b != b'\n' && b != b'\r' {
            state = false;
            continue;
        }
        let mut endwithcr = false;
        let mut extra = 0;
        let mut weird = false;
        if b == b'\r' {
            match avail.get(i) {
                None if !eof => return None,
                None => {}
                Some(b'\n') => {
                    i += 1;
                    if state {
                        // LF CR CR LF CR LF: "These 6 characters mean only
                        // 2 end of lines" (libhtp); the next bytes decide.
                        match (avail.get(i), avail.get(i + 1)) {
                            (None, _) if !eof => return None,
                            (Some(b'\r'), None) if !eof => return None,
                            (Some(b'\r'), Some(b'\n')) => {
                                extra = 2;
                                weird = true;
                            }
                            (Some(b'\r'), _) => extra = 1,
                            _ => {}
                        }
                    }
                }
                Some(b'\r') => continue,
                Some(_) => {}
            }
            state = false;
            endwithcr = true;
        } else {
            state = false;
            // An LF followed by a CR ends the line with the CR (libhtp
            // peeks; here the next byte is awaited, so that the result
            // does not depend on where the stream was cut).
            match avail.get(i) {
                None if !eof => return None,
                Some(b'\r') => {
                    i += 1;
                    state = true;
                }
                _ => {}
            }
        }
        if endwithcr && i < 2 {
            // A lone CR is not a line: it starts the next one.
            continue;
        }
        *lfcr = state;
        return Some(LineSplit {
            line: i,
            consumed: i + extra,
            weird,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpConfig, HttpCounters};

    #[test]
    fn response_header_line_ends() {
        let mut lfcr = false;
        let s = resp_header_line(b"A: b\r\nC", &mut lfcr, false).unwrap();
        assert_eq!(s.line, 6);
        let s = resp_header_line(b"A: b\rC: d", &mut lfcr, false).unwrap();
        assert_eq!(s.line, 5);
        assert!(resp_header_line(b"A: b\r", &mut lfcr, false).is_none());
        let s = resp_header_line(b"\r\rX", &mut lfcr, false).unwrap();
        assert_eq!(s.line, 2);
        let s = resp_header_line(b"A\n\rB", &mut lfcr, false).unwrap();
        assert_eq!(s.line, 3);
        assert!(lfcr);
        let s = resp_header_line(b"\r\n\r\nX", &mut lfcr, false).unwrap();
        assert_eq!((s.line, s.consumed, s.weird), (2, 4, true));
        assert!(resp_header_line(b"abc", &mut lfcr, false).is_none());
    }

    #[test]
    fn response_line_ends() {
        assert_eq!(resp_line_end(b"HTTP/1.1 200\r\nX"), Some(14));
        assert_eq!(resp_line_end(b"HTTP/1.1 200\rX"), Some(13));
        assert_eq!(resp_line_end(b"HTTP/1.1 200\r"), None);
        assert_eq!(resp_line_end(b"HTTP/1.1 200"), None);
    }

    #[test]
    fn content_codings_like_libhtp() {
        assert_eq!(content_codings(b"gzip", 2, true).0, vec![Coding::Gzip]);
        assert_eq!(content_codings(b"GZIP\0", 2, true).0, vec![Coding::Gzip]);
        assert_eq!(
            content_codings(b"gzip, deflate", 2, true).0,
            vec![Coding::Gzip, Coding::Deflate]
        );
        let (c, e) = content_codings(b"gzip,gzip,gzip", 2, true);
        assert_eq!(c.len(), 2);
        assert_eq!(e, vec![ev::TOO_MANY_ENCODING_LAYERS]);
        let (c, e) = content_codings(b"identity, gzip", 2, true);
        assert_eq!(c, vec![Coding::Gzip]);
        assert_eq!(e, vec![ev::ABNORMAL_CE_HEADER]);
        let (c, e) = content_codings(b"deflate,", 2, true);
        assert_eq!(c, vec![Coding::Deflate]);
        assert!(e.is_empty());
        let (c, e) = content_codings(b"x-gzip2", 2, true);
        assert_eq!(c, vec![Coding::Gzip]);
        assert_eq!(e, vec![ev::ABNORMAL_CE_HEADER]);
        assert!(content_codings(b"none", 2, true).0.is_empty());
    }

    #[test]
    fn config_defaults_are_suricatas() {
        let c = HttpConfig::default();
        assert_eq!(c.request_body_limit, 102_400);
        assert_eq!(c.field_limit, 18_000);
        assert_eq!(c.compression_bomb_limit, 1_048_576);
        let _ = HttpCounters::default();
    }
}
