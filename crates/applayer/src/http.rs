//! HTTP/1.x: an incremental, bounded parser with libhtp's semantics, as
//! Suricata 7.0 configures libhtp 0.5 by default (the IDS personality),
//! the sticky buffers Suricata 7 builds from its transactions, and
//! Suricata's EVE `http` object.
//!
//! Hand-written: no crate parses HTTP the way an IDS must. `httparse` and
//! friends reject what servers and browsers accept (folded and repeated
//! headers, bare CR line ends, junk chunk lengths, missing protocols,
//! HTTP/0.9), while the point here is to see what the endpoints see and to
//! report the anomalies with libhtp's (and Suricata's) names. The code
//! follows libhtp's `htp_request.c`, `htp_response.c`,
//! `htp_request_generic.c`, `htp_response_generic.c`, `htp_transaction.c`
//! and `htp_util.c` state by state; where libhtp's outcome depends on how
//! the stream happens to be cut into chunks (it peeks "the rest of the
//! current chunk" in a few places), mirador decides on bytes, so that the
//! result never depends on segmentation:
//!
//! * After an HTTP/0.9-looking request line, the next byte decides: not
//!   whitespace, headers follow ("missing protocol"); whitespace, the
//!   request is HTTP/0.9. libhtp scans the rest of its chunk.
//! * A request or response is complete as soon as its body ends. libhtp
//!   also waits for the next line when it is already in the chunk, to fold
//!   junk after a body into that body ("Unexpected request/response body").
//!   Here junk after a body starts the next message.
//! * A response line that does not start with "HTTP" makes the rest of the
//!   response a body until the connection closes (libhtp does so up to the
//!   end of its chunk), unless the next byte is 'H'; empty lines between
//!   messages are skipped without starting a transaction.
//!
//! Limits (Suricata's defaults in [`HttpConfig`]): libhtp's hard field
//! limit on a line (a longer line is `REQUEST_FIELD_TOO_LONG` /
//! `RESPONSE_FIELD_TOO_LONG` and stops that direction, as libhtp's error
//! does; the soft limit is unused by libhtp 0.5), header fields per message
//! and header bytes per message (mirador caps), libhtp's 64 repetitions of
//! a field, Suricata's body limits (bytes kept for inspection), the
//! compression-bomb limit with libhtp's 2048:1 ratio, and a cap on
//! decoded bytes in place of Suricata's decompression time limit, live transactions
//! per flow, events per transaction and libhtp messages per flow
//! (`TOO_MANY_WARNINGS`). Every cap reached is counted in
//! [`HttpCounters`].
//!
//! Events: libhtp reports anomalies as log messages, which Suricata 7 maps
//! to its `http_decoder_event_table` names by message prefix
//! (`htp_errors` / `htp_warnings` in `app-layer-htp.c`); a message with no
//! entry becomes `UNKNOWN_ERROR`. The parser raises the name Suricata ends
//! up with, so unmatched libhtp warnings ("Repetition for header", "C-L
//! value with extra data", "Request line: missing protocol", ...) are
//! `UNKNOWN_ERROR` here too.
//!
//! Gaps: as libhtp 0.5, a gap inside a body of known length (or a body
//! that runs to the end of the connection) is consumed as body (the body
//! kept for inspection stops there); a gap anywhere else is reported
//! (`UNKNOWN_ERROR`, libhtp's "Gaps are not allowed during this state"),
//! counted, and parsing goes on with the bytes after it as libhtp does.
//!
//! Not raised, because mirador does not model what produces them:
//! `REQUEST_SERVER_PORT_TCP_PORT_MISMATCH` (the parser does not know the
//! TCP port), `LZMA_MEMLIMIT_REACHED` (LZMA is off by default in Suricata
//! 7), the multipart and file events (`MULTIPART_*`, `FILE_NAME_TOO_LONG`,
//! `RANGE_INVALID`: no file extraction), `DOUBLE_ENCODED_URI` (double
//! decoding is off by default), `FAILED_PROTOCOL_CHANGE` (the runtime's),
//! `INVALID_AUTHORITY_PORT` and `REQUEST_LINE_INVALID` (libhtp 0.5 no
//! longer produces them under this configuration).
//!
//! After a successful CONNECT (a 2xx answer) or a `101 Switching
//! Protocols` without a body, both directions are a tunnel: the bytes are
//! counted and not parsed ([`HttpState::is_tunnel`] tells the caller, which
//! may hand the stream to protocol detection as Suricata does).

mod decompress;
mod eve;
mod parser;
mod tx;
mod uri;
mod util;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use tx::{FileDigest, FileHashes, HashKind, HttpTx, Progress};

use crate::Dir;
use parser::{ReqParser, RespParser};

/// Caps and limits, with Suricata 7's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `request-body-limit` (100kb): request body bytes kept for inspection.
    pub request_body_limit: usize,
    /// `response-body-limit` (100kb): response body bytes kept.
    pub response_body_limit: usize,
    /// libhtp's hard field limit (18000): the longest line (with a pending
    /// folded header) buffered.
    pub field_limit: usize,
    /// Header fields kept per message (libhtp 0.5.50's headers limit).
    pub max_headers: usize,
    /// Bytes of header names and values kept per message (mirador's cap;
    /// libhtp has none beyond the field limit).
    pub max_header_bytes: usize,
    /// Repetitions of header fields per message after which further ones
    /// are dropped (libhtp's `HTP_MAX_HEADERS_REPETITIONS`, 64).
    pub max_header_repetitions: u16,
    /// Live transactions per flow (`max-tx`, 512): a new request beyond
    /// it stops the parser, as libhtp's error does.
    pub max_tx: usize,
    /// `response-body-decompress-layer-limit` (2): encodings applied.
    pub decompress_layer_limit: usize,
    /// `compression-bomb-limit` (1mb): decoded bytes beyond which a body
    /// whose ratio exceeds `compression_bomb_ratio` is a bomb.
    pub compression_bomb_limit: u64,
    /// libhtp's `HTP_COMPRESSION_BOMB_RATIO` (2048).
    pub compression_bomb_ratio: u64,
    /// Decoded bytes per body after which decoding stops
    /// (`COMPRESSION_BOMB`), whatever the ratio: mirador's stand-in for
    /// Suricata's `decompression-time-limit` (100ms), which a pure parser
    /// cannot measure. 32 MiB inflate in a few tens of milliseconds.
    pub decompress_out_limit: u64,
    /// Distinct events kept per transaction.
    pub max_events: usize,
    /// libhtp messages per flow before `TOO_MANY_WARNINGS` (Suricata's
    /// `HTP_MAX_MESSAGES`, 512).
    pub max_messages: u32,
    /// Digests computed over each whole body (for `filemd5` and kin;
    /// none by default, as Suricata hashes files only when asked).
    pub file_hashes: FileHashes,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            request_body_limit: 100 * 1024,
            response_body_limit: 100 * 1024,
            field_limit: 18000,
            max_headers: 1024,
            max_header_bytes: 256 * 1024,
            max_header_repetitions: 64,
            max_tx: 512,
            decompress_layer_limit: 2,
            compression_bomb_limit: 1024 * 1024,
            compression_bomb_ratio: 2048,
            decompress_out_limit: 32 * 1024 * 1024,
            max_events: 32,
            max_messages: 512,
            file_hashes: FileHashes::default(),
        }
    }
}

/// Counters of one flow's HTTP parsing: caps reached and bytes not parsed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HttpCounters {
    /// Lines over the field limit (the direction stopped).
    pub field_too_long: u64,
    /// Header fields dropped at `max_headers` or `max_header_bytes`.
    pub headers_dropped: u64,
    /// Repeated header fields dropped at `max_header_repetitions`.
    pub repetitions_dropped: u64,
    /// Body bytes not kept (beyond the body limits, or after a gap).
    pub body_bytes_dropped: u64,
    /// Bodies whose decoding stopped at the bomb limits.
    pub bombs: u64,
    /// Requests refused at `max_tx` (the parser stopped).
    pub tx_cap: u64,
    /// Events dropped at `max_events`, or after `TOO_MANY_WARNINGS`.
    pub events_dropped: u64,
    /// Gaps seen, and gap bytes.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Bytes ignored because the direction stopped on an error.
    pub bytes_after_error: u64,
    /// Bytes of a tunnel (after CONNECT or 101), not parsed.
    pub tunnel_bytes: u64,
    /// Requests waiting for a CONNECT answer whose bytes overflowed the
    /// field limit (dropped).
    pub connect_bytes_dropped: u64,
}

/// A sticky buffer of an HTTP transaction, as Suricata 7.0 fills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpBuffer {
    /// `http.uri`: the normalised URI, path and URL-decoded query
    /// (`detect-http-uri.c` GetData: `htud->request_uri_normalized`, made
    /// by `SCHTPGenerateNormalizedUri`). `urilen` measures this one.
    Uri,
    /// `http.uri.raw`: the URI as on the request line (`detect-http-raw-uri`
    /// GetData: `tx->request_uri`). `urilen: ..., raw` measures this one.
    UriRaw,
    /// `http.method` (`tx->request_method`).
    Method,
    /// `http.protocol` to server (`detect-http-protocol.c`:
    /// `tx->request_protocol`).
    RequestProtocol,
    /// `http.protocol` to client (`tx->response_protocol`).
    ResponseProtocol,
    /// `http.request_line` (`tx->request_line`, without CRLF).
    RequestLine,
    /// `http.response_line` (`tx->response_line`, without CRLF).
    ResponseLine,
    /// `http.host` (`detect-http-host.c` GetData: `tx->request_hostname`,
    /// lowercase, no port; from the URI when it is absolute).
    Host,
    /// `http.host.raw` (`GetRawData`: the URI's hostname when the URI has
    /// one, else the Host header value as sent, port included).
    HostRaw,
    /// `http.user_agent` (the User-Agent value).
    UserAgent,
    /// `http.header` to server (`detect-http-header.c` GetBufferForTX):
    /// "Name: value\r\n" per field, without Cookie, no extra final CRLF.
    RequestHeaders,
    /// `http.header` to client: as above, without Set-Cookie.
    ResponseHeaders,
    /// `http.header.raw` to server (`detect-http-raw-header.c`: the header
    /// block bytes as received, line ends and final empty line included,
    /// trailers appended).
    RequestHeadersRaw,
    /// `http.header.raw` to client.
    ResponseHeadersRaw,
    /// `http.header_names` to server (`detect-http-header-names.c`):
    /// "\r\nName\r\nName\r\n\r\n".
    RequestHeaderNames,
    /// `http.header_names` to client.
    ResponseHeaderNames,
    /// `http.cookie` to server (`detect-http-cookie.c`: the Cookie value).
    RequestCookie,
    /// `http.cookie` to client (the Set-Cookie value).
    ResponseCookie,
    /// `http.content_type` to server (`detect-http-headers.c`).
    RequestContentType,
    /// `http.content_type` to client.
    ResponseContentType,
    /// `http.content_len` to server (the Content-Length value).
    RequestContentLen,
    /// `http.content_len` to client.
    ResponseContentLen,
    /// `http.referer` (request).
    Referer,
    /// `http.accept` (request).
    Accept,
    /// `http.accept_enc` (request Accept-Encoding).
    AcceptEnc,
    /// `http.accept_lang` (request Accept-Language).
    AcceptLang,
    /// `http.connection` to server.
    RequestConnection,
    /// `http.connection` to client.
    ResponseConnection,
    /// `http.start` to server (`detect-http-start.c`): the request line,
    /// CRLF, "Name: value\r\n" per field (Cookie included), CRLF.
    RequestStart,
    /// `http.start` to client.
    ResponseStart,
    /// `http.stat_code` (`tx->response_status`, as sent).
    StatCode,
    /// `http.stat_msg` (`tx->response_message`).
    StatMsg,
    /// `http.server` (response Server).
    Server,
    /// `http.location` (response Location).
    Location,
    /// `http.request_body` / `http.client_body`: the dechunked request
    /// body, decoded (Suricata 7 turns libhtp's request decompression on),
    /// up to `request_body_limit` bytes (`detect-http-client-body.c`).
    RequestBody,
    /// `http.response_body` / `file.data` over HTTP: the dechunked,
    /// decoded response body up to `response_body_limit`
    /// (`detect-file-data.c`, `HttpServerBodyGetDataCallback`).
    ResponseBody,
}

/// One flow's HTTP parser and its live transactions.
#[derive(Debug)]
pub struct HttpState {
    cfg: HttpConfig,
    txs: VecDeque<HttpTx>,
    next_id: u64,
    req: ReqParser,
    resp: RespParser,
    /// Unconsumed bytes of each direction (a partial line).
    bufs: [Vec<u8>; 2],
    counters: HttpCounters,
    messages: u32,
    tunnel: bool,
}

impl HttpState {
    /// A parser for a new flow.
    pub fn new(cfg: &HttpConfig) -> HttpState {
        HttpState {
            cfg: cfg.clone(),
            txs: VecDeque::new(),
            next_id: 0,
            req: ReqParser::default(),
            resp: RespParser::default(),
            bufs: [Vec::new(), Vec::new()],
            counters: HttpCounters::default(),
            messages: 0,
            tunnel: false,
        }
    }

    /// Feeds the next in-order bytes of one direction.
    pub fn input(&mut self, dir: Dir, data: &[u8]) {
        self.feed(dir, data, false);
    }

    /// A gap of `len` bytes in one direction.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        self.gap_in(dir, len);
    }

    /// The end of one direction (FIN, RST or the end of the flow): a body
    /// that runs to the end of the connection is complete, partial lines
    /// are parsed as libhtp does on close.
    pub fn eof(&mut self, dir: Dir) {
        self.feed(dir, &[], true);
    }

    /// Live transactions, oldest first.
    pub fn txs(&self) -> impl Iterator<Item = &HttpTx> {
        self.txs.iter()
    }

    /// The live transaction with that id.
    pub fn tx(&self, id: u64) -> Option<&HttpTx> {
        let first = self.txs.front()?.id;
        let idx = usize::try_from(id.checked_sub(first)?).ok()?;
        self.txs.get(idx).filter(|t| t.id == id)
    }

    /// Drops the transactions with ids up to and including `id` (the
    /// runtime has logged and inspected them).
    pub fn remove_through(&mut self, id: u64) {
        while self.txs.front().is_some_and(|t| t.id <= id) {
            self.txs.pop_front();
        }
    }

    /// Cap hits and bytes not parsed.
    pub fn counters(&self) -> &HttpCounters {
        &self.counters
    }

    /// Whether the flow became a tunnel (CONNECT accepted, or 101
    /// Switching Protocols): no more HTTP in either direction.
    pub fn is_tunnel(&self) -> bool {
        self.tunnel
    }
}
