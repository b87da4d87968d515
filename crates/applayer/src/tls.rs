//! TLS handshakes, incremental and bounded, with Suricata 7.0's semantics
//! (`app-layer-ssl.c`, its x509 module, `util-ja3.c`, `ja4.rs`,
//! `output-json-tls.c`).
//!
//! [`TlsState`] is one flow's TLS state (Suricata's `SSLState`, which is
//! also its only transaction). A worker feeds it each direction's
//! reassembled bytes in order ([`TlsState::input`]), gaps
//! ([`TlsState::gap`]) and ends ([`TlsState::eof`]). It gives what
//! Suricata's TLS keywords inspect ([`TlsState::buffer`],
//! [`TlsState::cert`], [`TlsState::version_dir`]) and what its EVE `tls`
//! object logs ([`TlsState::write_eve`]).
//!
//! **Records.** A record is parsed once it is whole, as Suricata does (its
//! parser asks the stream for the full record before it looks at it): a
//! record split over chunks is buffered, records that lie whole in a chunk
//! are parsed in place with no copy. A first byte with one of its two top
//! bits set starts an SSLv2 record (2- or 3-byte header), as Suricata
//! decides; SSLv2 ClientHello and ServerHello set the progress, nothing
//! more (no JA3, as in Suricata). A TLS record's version is the
//! direction's version until that direction's hello has set one. Records
//! over 2^14 bytes raise `INVALID_RECORD_LENGTH` and are still parsed (the
//! length field bounds them to 64 KiB). Handshake messages split over
//! records are buffered up to [`TlsConfig::max_handshake_message`] (Suricata
//! has no cap: a message may claim 16 MiB); a longer one is skipped and
//! counted. After a ChangeCipherSpec (either side) handshake records are
//! encrypted and skipped, except a TLS 1.3 client's before the ServerHello
//! (middlebox compatibility mode), as in Suricata. Application data, or the
//! first certificate's subject and issuer, mark the handshake done.
//!
//! **Errors.** Where Suricata's parser returns an error (unknown record
//! type, a handshake record under 4 bytes, a malformed handshake framing,
//! a bad heartbeat) Suricata stops the app layer for the whole flow; so
//! does this state. A gap does the same (Suricata's TLS parser does not
//! accept gaps). Malformed fields inside a hello or a certificate are
//! events and parsing goes on. Events carry Suricata's names (module
//! [`ev`]), at most [`TlsConfig::max_events`] of them.
//!
//! **Departures.** Suricata's `TOO_MANY_RECORDS_IN_PACKET` depends on how
//! the stream was cut into chunks and is not raised; neither is
//! `INVALID_RECORD_VERSION`, `HEARTBEAT_MESSAGE` or `INVALID_TLS_HEADER`,
//! which Suricata 7.0 defines but never raises on these paths. Suricata
//! drops the rest of a chunk after a malformed SSLv2 header; this state
//! stops parsing that direction (the result does not depend on chunking).
//! A handshake message split over records is parsed once complete (an older
//! Suricata could parse it a record early).
//!
//! **Why hand-written records and hellos.** `tls-parser` parses whole
//! messages into its own types; Suricata's results depend on how its own
//! walk reacts to each malformed length (which events, what the JA3 string
//! holds when a hello is cut, how far an extension decoder advances). A
//! walk of a few hundred lines that mirrors Suricata's gives those exactly,
//! keeps the raw lists JA3 and JA4 need, and never allocates per record.
//! Certificates use `x509-parser`, the crate Suricata uses, so the DN
//! strings are Suricata's.

mod cert;
mod hello;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use mirador_engine::eve::Obj;

use crate::Dir;
pub use cert::Certificate;

/// Suricata's TLS app-layer event names (`tls_decoder_event_table`).
pub mod ev {
    #![allow(missing_docs)]
    pub const INVALID_SSLV2_HEADER: &str = "INVALID_SSLV2_HEADER";
    pub const INVALID_TLS_HEADER: &str = "INVALID_TLS_HEADER";
    pub const INVALID_RECORD_VERSION: &str = "INVALID_RECORD_VERSION";
    pub const INVALID_RECORD_TYPE: &str = "INVALID_RECORD_TYPE";
    pub const INVALID_RECORD_LENGTH: &str = "INVALID_RECORD_LENGTH";
    pub const INVALID_HANDSHAKE_MESSAGE: &str = "INVALID_HANDSHAKE_MESSAGE";
    pub const HEARTBEAT_MESSAGE: &str = "HEARTBEAT_MESSAGE";
    pub const INVALID_HEARTBEAT_MESSAGE: &str = "INVALID_HEARTBEAT_MESSAGE";
    pub const OVERFLOW_HEARTBEAT_MESSAGE: &str = "OVERFLOW_HEARTBEAT_MESSAGE";
    pub const DATALEAK_HEARTBEAT_MISMATCH: &str = "DATALEAK_HEARTBEAT_MISMATCH";
    pub const HANDSHAKE_INVALID_LENGTH: &str = "HANDSHAKE_INVALID_LENGTH";
    pub const MULTIPLE_SNI_EXTENSIONS: &str = "MULTIPLE_SNI_EXTENSIONS";
    pub const INVALID_SNI_TYPE: &str = "INVALID_SNI_TYPE";
    pub const INVALID_SNI_LENGTH: &str = "INVALID_SNI_LENGTH";
    pub const TOO_MANY_RECORDS_IN_PACKET: &str = "TOO_MANY_RECORDS_IN_PACKET";
    pub const INVALID_CERTIFICATE: &str = "INVALID_CERTIFICATE";
    pub const CERTIFICATE_INVALID_LENGTH: &str = "CERTIFICATE_INVALID_LENGTH";
    pub const CERTIFICATE_INVALID_VERSION: &str = "CERTIFICATE_INVALID_VERSION";
    pub const CERTIFICATE_INVALID_SERIAL: &str = "CERTIFICATE_INVALID_SERIAL";
    pub const CERTIFICATE_INVALID_ALGORITHMIDENTIFIER: &str =
        "CERTIFICATE_INVALID_ALGORITHMIDENTIFIER";
    pub const CERTIFICATE_INVALID_X509NAME: &str = "CERTIFICATE_INVALID_X509NAME";
    pub const CERTIFICATE_INVALID_DATE: &str = "CERTIFICATE_INVALID_DATE";
    pub const CERTIFICATE_INVALID_EXTENSIONS: &str = "CERTIFICATE_INVALID_EXTENSIONS";
    pub const CERTIFICATE_INVALID_DER: &str = "CERTIFICATE_INVALID_DER";
    pub const CERTIFICATE_INVALID_SUBJECT: &str = "CERTIFICATE_INVALID_SUBJECT";
    pub const CERTIFICATE_INVALID_ISSUER: &str = "CERTIFICATE_INVALID_ISSUER";
    pub const CERTIFICATE_INVALID_VALIDITY: &str = "CERTIFICATE_INVALID_VALIDITY";
    pub const ERROR_MESSAGE_ENCOUNTERED: &str = "ERROR_MESSAGE_ENCOUNTERED";
    pub const INVALID_SSL_RECORD: &str = "INVALID_SSL_RECORD";

    /// Every name, for `app-layer-event:tls.NAME` validation.
    pub const ALL: &[&str] = &[
        INVALID_SSLV2_HEADER,
        INVALID_TLS_HEADER,
        INVALID_RECORD_VERSION,
        INVALID_RECORD_TYPE,
        INVALID_RECORD_LENGTH,
        INVALID_HANDSHAKE_MESSAGE,
        HEARTBEAT_MESSAGE,
        INVALID_HEARTBEAT_MESSAGE,
        OVERFLOW_HEARTBEAT_MESSAGE,
        DATALEAK_HEARTBEAT_MISMATCH,
        HANDSHAKE_INVALID_LENGTH,
        MULTIPLE_SNI_EXTENSIONS,
        INVALID_SNI_TYPE,
        INVALID_SNI_LENGTH,
        TOO_MANY_RECORDS_IN_PACKET,
        INVALID_CERTIFICATE,
        CERTIFICATE_INVALID_LENGTH,
        CERTIFICATE_INVALID_VERSION,
        CERTIFICATE_INVALID_SERIAL,
        CERTIFICATE_INVALID_ALGORITHMIDENTIFIER,
        CERTIFICATE_INVALID_X509NAME,
        CERTIFICATE_INVALID_DATE,
        CERTIFICATE_INVALID_EXTENSIONS,
        CERTIFICATE_INVALID_DER,
        CERTIFICATE_INVALID_SUBJECT,
        CERTIFICATE_INVALID_ISSUER,
        CERTIFICATE_INVALID_VALIDITY,
        ERROR_MESSAGE_ENCOUNTERED,
        INVALID_SSL_RECORD,
    ];
}

/// Settings (Suricata's `app-layer.protocols.tls.*`, `outputs.eve-log.types.tls`,
/// and mirador's caps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// `ja3-fingerprints`: log `ja3`/`ja3s` in EVE. Suricata's default,
    /// `auto`, turns it on when a loaded rule uses a JA3 keyword; the
    /// caller resolves `auto`. The JA3 buffers are there either way.
    pub ja3: bool,
    /// `ja4-fingerprints`: log `ja4` in EVE (same `auto` rule).
    pub ja4: bool,
    /// `session-resumption`: log a `tls` record for a resumed session
    /// (one without a certificate). Suricata's default: no.
    pub log_session_resumption: bool,
    /// Largest handshake message buffered across records, in bytes
    /// (mirador's cap; Suricata has none). Longer messages are skipped and
    /// counted in [`TlsCounters::handshake_too_large`].
    pub max_handshake_message: usize,
    /// Most certificates kept per direction's chain (mirador's cap);
    /// beyond it they are counted in [`TlsCounters::certs_dropped`].
    pub max_certs: usize,
    /// Most events kept (mirador's cap); beyond it they are counted in
    /// [`TlsCounters::events_dropped`].
    pub max_events: usize,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            ja3: false,
            ja4: false,
            log_session_resumption: false,
            max_handshake_message: 256 * 1024,
            max_certs: 16,
            max_events: 64,
        }
    }
}

/// What the state saw and where it hit a cap.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TlsCounters {
    /// Records parsed (TLS and SSLv2).
    pub records: u64,
    /// Of which SSLv2 records.
    pub sslv2_records: u64,
    /// Handshake messages parsed (clear text).
    pub handshake_messages: u64,
    /// ChangeCipherSpec records.
    pub change_cipher_spec: u64,
    /// Alert records.
    pub alerts: u64,
    /// Application data records.
    pub application_data: u64,
    /// Handshake records skipped as encrypted (after ChangeCipherSpec).
    pub encrypted_handshake: u64,
    /// Heartbeat records.
    pub heartbeats: u64,
    /// Handshake messages over [`TlsConfig::max_handshake_message`], skipped.
    pub handshake_too_large: u64,
    /// Certificates over [`TlsConfig::max_certs`], not kept.
    pub certs_dropped: u64,
    /// Events over [`TlsConfig::max_events`], not kept.
    pub events_dropped: u64,
    /// Bytes not parsed because parsing had stopped (error or gap).
    pub bytes_not_parsed: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes of unfinished records or messages left at end of stream.
    pub truncated_at_eof: u64,
}

/// How far the handshake got (Suricata's progress as detection and
/// logging use it). Ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsProgress {
    /// Nothing seen yet.
    None,
    /// A ClientHello (TLS or SSLv2) was seen.
    ClientHello,
    /// A ServerHello was seen.
    ServerHello,
    /// The server's first certificate was decoded (Suricata's
    /// `TLS_STATE_CERT_READY`).
    Certificate,
    /// Handshake done: application data, or the server certificate's
    /// subject and issuer (Suricata's `TLS_HANDSHAKE_DONE`, when the `tls`
    /// EVE record is written).
    HandshakeDone,
    /// Both directions ended (`TLS_STATE_FINISHED`).
    Finished,
}

/// The buffers Suricata 7.0 gives TLS sticky-buffer keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsBuffer {
    /// `tls.sni` (client).
    Sni,
    /// `tls.cert_subject` (first certificate).
    CertSubject,
    /// `tls.cert_issuer`.
    CertIssuer,
    /// `tls.cert_serial`.
    CertSerial,
    /// `tls.cert_fingerprint`.
    CertFingerprint,
    /// `ja3.hash` (client).
    Ja3Hash,
    /// `ja3.string` (client).
    Ja3String,
    /// `ja3s.hash` (server).
    Ja3sHash,
    /// `ja3s.string` (server).
    Ja3sString,
    /// `ja4.hash` (client).
    Ja4Hash,
}

/// A ClientHello as decoded (the direction's first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// legacy_version.
    pub version: u16,
    /// supported_versions, in order, GREASE included.
    pub supported_versions: Vec<u16>,
    /// Cipher suites, in order, GREASE included.
    pub ciphers: Vec<u16>,
    /// Extension types, in order, GREASE included, up to where the
    /// extension walk stopped.
    pub extensions: Vec<u16>,
    /// server_name host name (up to its first NUL, as Suricata keeps it).
    pub sni: Option<Vec<u8>>,
    /// ALPN protocol names (at most 32).
    pub alpn: Vec<Vec<u8>>,
    /// signature_algorithms, GREASE included.
    pub sig_algs: Vec<u16>,
    /// supported_groups (elliptic curves), GREASE included.
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub point_formats: Vec<u8>,
    /// Session id (empty when none).
    pub session_id: Vec<u8>,
    /// JA3 string (as far as the hello decoded: see the module docs).
    pub ja3_string: String,
    /// JA3 MD5, lowercase hex; `None` when the hello was cut short.
    pub ja3_hash: Option<String>,
    /// JA4 as Suricata 7 computes it.
    pub ja4: Option<String>,
}

/// A ServerHello as decoded (the direction's first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// legacy_version.
    pub version: u16,
    /// The supported_versions extension's selected version (TLS 1.3).
    pub selected_version: Option<u16>,
    /// The chosen cipher suite.
    pub cipher: Option<u16>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// ALPN protocol chosen.
    pub alpn: Vec<Vec<u8>>,
    /// Session id (empty when none).
    pub session_id: Vec<u8>,
    /// JA3S string.
    pub ja3s_string: String,
    /// JA3S MD5, lowercase hex; `None` when the hello was cut short.
    pub ja3s_hash: Option<String>,
}

/// Suricata's `SSL_AL_FLAG_*` that matter here.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags(u32);

impl Flags {
    const CHANGE_CIPHER_SPEC: u32 = 1 << 2;
    const SSL_CLIENT_HS: u32 = 1 << 3;
    const SSL_SERVER_HS: u32 = 1 << 4;
    const SSL_CLIENT_MASTER_KEY: u32 = 1 << 5;
    const SSL_NO_SESSION_ID: u32 = 1 << 8;
    const CLIENT_HELLO: u32 = 1 << 9;
    const SERVER_HELLO: u32 = 1 << 10;
    const CLIENT_KEYX: u32 = 1 << 11;
    const SERVER_KEYX: u32 = 1 << 12;
    const FINISHED: u32 = 1 << 14;
    const HB_INFLIGHT: u32 = 1 << 15;
    const HB_CLIENT_INIT: u32 = 1 << 16;
    const HB_SERVER_INIT: u32 = 1 << 17;
    const HANDSHAKE_DONE: u32 = 1 << 18;
    const SESSION_RESUMED: u32 = 1 << 20;
    const CH_VERSION_EXTENSION: u32 = 1 << 21;
    const LOG_WITHOUT_CERT: u32 = 1 << 22;
    const EARLY_DATA: u32 = 1 << 23;

    fn set(&mut self, f: u32) {
        self.0 |= f;
    }
    fn clear(&mut self, f: u32) {
        self.0 &= !f;
    }
    fn has(&self, f: u32) -> bool {
        self.0 & f != 0
    }
}

/// Events and counters, shared by the decoders.
#[derive(Debug)]
pub(crate) struct Sink {
    events: Vec<&'static str>,
    max_events: usize,
    counters: TlsCounters,
}

impl Sink {
    fn event(&mut self, e: &'static str) {
        if self.events.len() < self.max_events {
            self.events.push(e);
        } else {
            self.counters.events_dropped += 1;
        }
    }
}

const SSL_VERSION_2: u16 = 0x0200;
const TLS12: u16 = 0x0303;
const RECORD_MAX: usize = 1 << 14;

/// A handshake message being collected across records.
#[derive(Debug)]
struct HsBuf {
    typ: u8,
    size: usize,
    buf: Vec<u8>,
}

/// One direction (Suricata's `SSLStateConnp`).
#[derive(Debug, Default)]
struct Side {
    version: u16,
    /// An unfinished record (header included).
    pend: Vec<u8>,
    hs: Option<HsBuf>,
    /// Bytes left of a handshake message over the cap.
    hs_skip: usize,
    stopped: bool,
    eof: bool,
    sni: Option<Vec<u8>>,
    session_id: Option<Vec<u8>>,
    chain: Vec<Certificate>,
    cert0: cert::Cert0,
}

/// One flow's TLS state.
#[derive(Debug)]
pub struct TlsState {
    cfg: TlsConfig,
    flags: Flags,
    sides: [Side; 2],
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    sink: Sink,
    /// Suricata disabled the app layer for the flow.
    failed: bool,
    hb_record_len: usize,
}

/// The length of the record that `b` starts, once its header is there.
fn record_total(b: &[u8]) -> Option<usize> {
    let b0 = *b.first()?;
    if b0 & 0xc0 != 0 {
        let b1 = *b.get(1)?;
        let (mask, hdr) = if b0 & 0x80 != 0 { (0x7f, 2) } else { (0x3f, 3) };
        Some(hdr + ((usize::from(b0 & mask) << 8) | usize::from(b1)))
    } else {
        let h = b.get(3..5)?;
        Some(5 + usize::from(u16::from_be_bytes([h[0], h[1]])))
    }
}

/// How many bytes tell a record's length.
fn header_need(b0: u8) -> usize {
    if b0 & 0xc0 != 0 { 2 } else { 5 }
}

/// Handshake types Suricata parses (`SupportedHandshakeType`).
fn supported_handshake(t: u8) -> bool {
    matches!(
        t,
        0 | 1 | 2 | 4 | 11 | 12 | 13 | 14 | 15 | 16 | 20 | 21 | 22
    )
}

impl TlsState {
    /// A fresh state.
    pub fn new(cfg: &TlsConfig) -> TlsState {
        TlsState {
            cfg: cfg.clone(),
            flags: Flags::default(),
            sides: [Side::default(), Side::default()],
            client_hello: None,
            server_hello: None,
            sink: Sink {
                events: Vec::new(),
                max_events: cfg.max_events,
                counters: TlsCounters::default(),
            },
            failed: false,
            hb_record_len: 0,
        }
    }

    fn parsing(&self, i: usize) -> bool {
        !self.failed && !self.sides[i].stopped
    }

    /// Feeds the next bytes of `dir`'s stream.
    pub fn input(&mut self, dir: Dir, data: &[u8]) {
        let i = dir.index();
        let mut data = data;
        if !self.parsing(i) {
            self.sink.counters.bytes_not_parsed += data.len() as u64;
            return;
        }
        // Finish a record begun in an earlier chunk.
        if !self.sides[i].pend.is_empty() {
            loop {
                let pend = &mut self.sides[i].pend;
                let want = record_total(pend).unwrap_or_else(|| header_need(pend[0]));
                if pend.len() < want {
                    if data.is_empty() {
                        return;
                    }
                    let n = (want - pend.len()).min(data.len());
                    pend.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    continue;
                }
                let rec = std::mem::take(pend);
                self.record(dir, &rec);
                break;
            }
        }
        // Whole records in place; the tail is kept for the next chunk.
        while !data.is_empty() {
            if !self.parsing(i) {
                self.sink.counters.bytes_not_parsed += data.len() as u64;
                return;
            }
            match record_total(data) {
                Some(n) if n <= data.len() => {
                    self.record(dir, &data[..n]);
                    data = &data[n..];
                }
                _ => {
                    self.sides[i].pend.extend_from_slice(data);
                    return;
                }
            }
        }
    }

    /// A gap of `len` bytes in `dir`'s stream: Suricata's TLS parser does
    /// not accept gaps, and the flow's TLS parsing ends.
    pub fn gap(&mut self, dir: Dir, len: u64) {
        let _ = (dir, len);
        self.sink.counters.gaps += 1;
        self.failed = true;
    }

    /// The end of `dir`'s stream.
    pub fn eof(&mut self, dir: Dir) {
        let s = &mut self.sides[dir.index()];
        s.eof = true;
        let left = s.pend.len() + s.hs.as_ref().map_or(0, |h| h.buf.len());
        self.sink.counters.truncated_at_eof += left as u64;
        s.pend = Vec::new();
        s.hs = None;
        if self.sides[0].eof && self.sides[1].eof {
            self.flags.set(Flags::FINISHED);
        }
    }

    /// One whole record.
    fn record(&mut self, dir: Dir, rec: &[u8]) {
        if !self.parsing(dir.index()) {
            return;
        }
        self.sink.counters.records += 1;
        if rec.first().is_some_and(|b| b & 0xc0 != 0) {
            self.sslv2(dir, rec);
        } else if rec.len() >= 5 {
            self.tls_record(dir, rec);
        }
        // Suricata: the server certificate's subject and issuer end the
        // handshake as far as logging is concerned.
        let c0 = &self.sides[1].cert0;
        if c0.subject.is_some() && c0.issuer.is_some() {
            self.flags.set(Flags::HANDSHAKE_DONE);
        }
    }

    fn sslv2(&mut self, dir: Dir, rec: &[u8]) {
        self.sink.counters.sslv2_records += 1;
        let i = dir.index();
        self.sides[i].version = SSL_VERSION_2;
        let hdr = if rec[0] & 0x80 != 0 { 2 } else { 3 };
        let Some(&mt) = rec.get(hdr) else {
            // Record length zero.
            self.sink.event(ev::INVALID_SSLV2_HEADER);
            self.sink.event(ev::INVALID_SSL_RECORD);
            self.sides[i].stopped = true;
            return;
        };
        match mt {
            0 => self.sink.event(ev::ERROR_MESSAGE_ENCOUNTERED),
            1 => {
                self.flags.set(Flags::CLIENT_HELLO | Flags::SSL_CLIENT_HS);
                // version(2) cipher_spec_length(2) session_id_length(2)
                if rec.get(hdr + 5..hdr + 7) == Some(&[0, 0]) {
                    self.flags.set(Flags::SSL_NO_SESSION_ID);
                }
            }
            2 => self.flags.set(Flags::SSL_CLIENT_MASTER_KEY),
            4 => self.flags.set(Flags::SERVER_HELLO | Flags::SSL_SERVER_HS),
            _ => {}
        }
    }

    fn tls_record(&mut self, dir: Dir, rec: &[u8]) {
        let i = dir.index();
        let to_server = dir == Dir::ToServer;
        let side = &mut self.sides[i];
        if side.version == SSL_VERSION_2 {
            side.version = 0;
        }
        let typ = rec[0];
        let hello_flag = if to_server {
            Flags::CLIENT_HELLO
        } else {
            Flags::SERVER_HELLO
        };
        // Only the record layer's version until the hello set one.
        if !(self.flags.has(hello_flag) && side.version != 0) {
            side.version = u16::from_be_bytes([rec[1], rec[2]]);
        }
        let body = &rec[5..];
        if body.len() > RECORD_MAX {
            self.sink.event(ev::INVALID_RECORD_LENGTH);
        }
        if body.is_empty() {
            return;
        }
        match typ {
            20 => {
                self.sink.counters.change_cipher_spec += 1;
                self.flags.set(Flags::CHANGE_CIPHER_SPEC);
            }
            21 => self.sink.counters.alerts += 1,
            22 => self.handshake_record(dir, body),
            23 => {
                self.sink.counters.application_data += 1;
                // TLS 1.3 0-RTT data before the ServerHello is not the end
                // of the handshake.
                if !self.flags.has(Flags::EARLY_DATA) || self.flags.has(Flags::SERVER_HELLO) {
                    self.flags.set(Flags::HANDSHAKE_DONE);
                }
            }
            24 => self.heartbeat(dir, body),
            _ => {
                self.sink.event(ev::INVALID_RECORD_TYPE);
                self.failed = true;
            }
        }
    }

    fn handshake_record(&mut self, dir: Dir, body: &[u8]) {
        if self.flags.has(Flags::CHANGE_CIPHER_SPEC) {
            // TLS 1.3 middlebox compatibility: a client's ChangeCipherSpec
            // before the ServerHello does not encrypt its handshake.
            let tls13_client = self.flags.has(Flags::CLIENT_HELLO)
                && self.sides[0].version > TLS12
                && !self.flags.has(Flags::SERVER_HELLO);
            if !tls13_client {
                self.sink.counters.encrypted_handshake += 1;
                return;
            }
        }
        if body.len() < 4 {
            self.sink.event(ev::INVALID_SSL_RECORD);
            self.failed = true;
            return;
        }
        if self.handshake_protocol(dir, body).is_err() {
            self.sink.event(ev::INVALID_HANDSHAKE_MESSAGE);
            self.failed = true;
        }
    }

    /// The handshake messages of one record (Suricata's
    /// `SSLv3ParseHandshakeProtocol`).
    fn handshake_protocol(&mut self, dir: Dir, mut input: &[u8]) -> Result<(), ()> {
        let i = dir.index();
        while !input.is_empty() {
            let side = &mut self.sides[i];
            if side.hs_skip > 0 {
                let n = side.hs_skip.min(input.len());
                side.hs_skip -= n;
                input = &input[n..];
                continue;
            }
            if let Some(hs) = &mut side.hs {
                let n = (hs.size - hs.buf.len()).min(input.len());
                hs.buf.extend_from_slice(&input[..n]);
                input = &input[n..];
                if hs.buf.len() == hs.size
                    && let Some(hs) = side.hs.take()
                {
                    self.handshake_message(dir, hs.typ, &hs.buf);
                }
                continue;
            }
            if input.len() < 4 {
                self.sink.event(ev::INVALID_SSL_RECORD);
                return Err(());
            }
            let typ = input[0];
            let len = u32::from_be_bytes([0, input[1], input[2], input[3]]) as usize;
            input = &input[4..];
            if !supported_handshake(typ) {
                // Suricata skips what this record holds of it, no more.
                input = &input[len.min(input.len())..];
                self.sink.event(ev::INVALID_HANDSHAKE_MESSAGE);
                continue;
            }
            if len > input.len() {
                if len > self.cfg.max_handshake_message {
                    self.sink.counters.handshake_too_large += 1;
                    side.hs_skip = len - input.len();
                } else {
                    let mut buf = Vec::with_capacity(len.min(64 * 1024));
                    buf.extend_from_slice(input);
                    side.hs = Some(HsBuf {
                        typ,
                        size: len,
                        buf,
                    });
                }
                return Ok(());
            }
            self.handshake_message(dir, typ, &input[..len]);
            input = &input[len..];
        }
        Ok(())
    }

    /// One whole handshake message (Suricata's `SSLv3ParseHandshakeType`).
    fn handshake_message(&mut self, dir: Dir, typ: u8, msg: &[u8]) {
        self.sink.counters.handshake_messages += 1;
        match typ {
            1 => {
                self.hello(dir, true, msg);
                self.flags.set(Flags::CLIENT_HELLO);
            }
            2 => {
                self.hello(dir, false, msg);
                self.flags.set(Flags::SERVER_HELLO);
            }
            11 => {
                let side = &mut self.sides[dir.index()];
                cert::parse(
                    msg,
                    &mut side.chain,
                    &mut side.cert0,
                    self.cfg.max_certs,
                    &mut self.sink,
                );
            }
            12 => self.flags.set(Flags::SERVER_KEYX),
            16 => self.flags.set(Flags::CLIENT_KEYX),
            _ => {}
        }
    }

    fn hello(&mut self, dir: Dir, client: bool, msg: &[u8]) {
        let (s0, s1) = self.sides.split_at_mut(1);
        let (side, client_sid) = match dir {
            Dir::ToServer => (&mut s0[0], None),
            Dir::ToClient => (&mut s1[0], s0[0].session_id.as_deref()),
        };
        let mut ctx = hello::Ctx {
            client,
            flags: &mut self.flags,
            sink: &mut self.sink,
            version: &mut side.version,
            have_sni: side.sni.is_some(),
            have_session_id: side.session_id.is_some(),
            client_session_id: client_sid,
        };
        let h = hello::parse(msg, &mut ctx);
        if let Some(sid) = &h.session_id {
            side.session_id = Some(sid.clone());
        }
        if side.sni.is_none() {
            side.sni.clone_from(&h.sni);
        }
        let Some(version) = h.legacy_version else {
            return;
        };
        let hash = h.ja3_complete.then(|| hello::md5_hex(&h.ja3_string));
        match dir {
            Dir::ToServer if client && self.client_hello.is_none() => {
                self.client_hello = Some(ClientHello {
                    version,
                    supported_versions: h.supported_versions,
                    ja4: Some(h.ja4.hash()),
                    ciphers: h.ciphers,
                    extensions: h.extensions,
                    sni: h.sni,
                    alpn: h.alpn,
                    sig_algs: h.sig_algs,
                    groups: h.groups,
                    point_formats: h.point_formats,
                    session_id: h.session_id.unwrap_or_default(),
                    ja3_string: h.ja3_string,
                    ja3_hash: hash,
                });
            }
            Dir::ToClient if !client && self.server_hello.is_none() => {
                self.server_hello = Some(ServerHello {
                    version,
                    selected_version: h.selected_version,
                    cipher: h.ciphers.first().copied(),
                    extensions: h.extensions,
                    alpn: h.alpn,
                    session_id: h.session_id.unwrap_or_default(),
                    ja3s_string: h.ja3_string,
                    ja3s_hash: hash,
                });
            }
            _ => {}
        }
    }

    /// Heartbeat records (Suricata's `SSLv3ParseHeartbeatProtocol`, the
    /// Heartbleed checks). An error is fatal, as in Suricata.
    fn heartbeat(&mut self, dir: Dir, body: &[u8]) {
        self.sink.counters.heartbeats += 1;
        if let Err(e) = self.heartbeat_check(dir, body) {
            self.sink.event(e);
            self.failed = true;
        }
    }

    fn heartbeat_check(&mut self, dir: Dir, body: &[u8]) -> Result<(), &'static str> {
        if body.len() < 3 {
            return Ok(());
        }
        let ccs = self.flags.has(Flags::CHANGE_CIPHER_SPEC);
        let to_client = dir == Dir::ToClient;
        if !ccs && !matches!(body[0], 1 | 2) {
            return Err(ev::INVALID_HEARTBEAT_MESSAGE);
        }
        if !self.flags.has(Flags::HB_INFLIGHT) {
            self.flags.set(Flags::HB_INFLIGHT);
            self.flags.set(if to_client {
                Flags::HB_SERVER_INIT
            } else {
                Flags::HB_CLIENT_INIT
            });
            if ccs {
                // Encrypted: only its length can be compared with the reply.
                self.hb_record_len = body.len();
                return Ok(());
            }
            let payload = usize::from(u16::from_be_bytes([body[1], body[2]]));
            if payload + 3 > body.len() {
                return Err(ev::OVERFLOW_HEARTBEAT_MESSAGE);
            }
            if body.len() - payload - 3 < 16 {
                return Err(ev::INVALID_HEARTBEAT_MESSAGE);
            }
            return Ok(());
        }
        if (to_client && self.flags.has(Flags::HB_SERVER_INIT))
            || (!to_client && self.flags.has(Flags::HB_CLIENT_INIT))
        {
            return Err(ev::INVALID_HEARTBEAT_MESSAGE);
        }
        self.flags
            .clear(Flags::HB_INFLIGHT | Flags::HB_SERVER_INIT | Flags::HB_CLIENT_INIT);
        let request = std::mem::take(&mut self.hb_record_len);
        if ccs && request > 0 && request < body.len() {
            return Err(ev::DATALEAK_HEARTBEAT_MISMATCH);
        }
        Ok(())
    }

    /// How far the handshake got.
    pub fn progress(&self) -> TlsProgress {
        let c0 = &self.sides[1].cert0;
        if self.flags.has(Flags::FINISHED) {
            TlsProgress::Finished
        } else if self.flags.has(Flags::HANDSHAKE_DONE) {
            TlsProgress::HandshakeDone
        } else if c0.subject.is_some() || c0.issuer.is_some() {
            TlsProgress::Certificate
        } else if self.flags.has(Flags::SERVER_HELLO) {
            TlsProgress::ServerHello
        } else if self.flags.has(Flags::CLIENT_HELLO) {
            TlsProgress::ClientHello
        } else {
            TlsProgress::None
        }
    }

    /// The client's first ClientHello (TLS, not SSLv2).
    pub fn client_hello(&self) -> Option<&ClientHello> {
        self.client_hello.as_ref()
    }

    /// The server's first ServerHello.
    pub fn server_hello(&self) -> Option<&ServerHello> {
        self.server_hello.as_ref()
    }

    /// The server's certificate chain, in message order (leaf first).
    pub fn certs(&self) -> &[Certificate] {
        &self.sides[1].chain
    }

    /// The client's certificate chain (mutual TLS).
    pub fn client_certs(&self) -> &[Certificate] {
        &self.sides[0].chain
    }

    /// The `i`th DER certificate of the chain `tls.certs` inspects in `dir`
    /// (the server's to the client, the client's to the server).
    pub fn cert_dir(&self, dir: Dir, i: usize) -> Option<&[u8]> {
        let side = match dir {
            Dir::ToServer => &self.sides[0],
            Dir::ToClient => &self.sides[1],
        };
        side.chain.get(i).map(|c| c.der.as_slice())
    }

    /// The `i`th DER certificate of the server's chain (`tls.certs`).
    pub fn cert(&self, i: usize) -> Option<&[u8]> {
        self.cert_dir(Dir::ToClient, i)
    }

    /// The server's version as EVE logs it (`server_connp.version`):
    /// the ServerHello's, its supported_versions choice, or the record
    /// layer's before that. `None` while unknown.
    pub fn version(&self) -> Option<u16> {
        self.version_dir(Dir::ToClient)
    }

    /// The version `tls.version` matches in `dir`: Suricata compares the
    /// server's in to-client inspection and the client's (its hello's, the
    /// first valid supported_versions entry, or the record layer's) in
    /// to-server inspection.
    pub fn version_dir(&self, dir: Dir) -> Option<u16> {
        Some(self.sides[dir.index()].version).filter(|&v| v != 0)
    }

    /// Events raised so far, in order (at most [`TlsConfig::max_events`]).
    pub fn events(&self) -> &[&'static str] {
        &self.sink.events
    }

    /// Counters.
    pub fn counters(&self) -> &TlsCounters {
        &self.sink.counters
    }

    /// Whether parsing has stopped for the flow (error or gap).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Whether the handshake is past ChangeCipherSpec or application data
    /// (the rest of the stream is encrypted).
    pub fn encrypted(&self) -> bool {
        self.flags.has(Flags::CHANGE_CIPHER_SPEC) || self.flags.has(Flags::HANDSHAKE_DONE)
    }

    /// A sticky buffer in its default direction (certificate buffers: the
    /// server's).
    pub fn buffer(&self, b: TlsBuffer) -> Option<&[u8]> {
        self.buffer_dir(b, Dir::ToClient)
    }

    /// A sticky buffer as inspected in `dir`: the certificate buffers are
    /// the server's in to-client inspection and the client's in to-server
    /// inspection; the others have one side only. A field that exists but
    /// is empty (a certificate with an empty issuer) is an empty buffer, as
    /// in Suricata, not a missing one.
    pub fn buffer_dir(&self, b: TlsBuffer, dir: Dir) -> Option<&[u8]> {
        let c0 = &self.sides[dir.index()].cert0;
        let ch = self.client_hello.as_ref();
        let sh = self.server_hello.as_ref();
        let s: Option<&str> = match b {
            TlsBuffer::Sni => return self.sides[0].sni.as_deref(),
            TlsBuffer::CertSubject => c0.subject.as_deref(),
            TlsBuffer::CertIssuer => c0.issuer.as_deref(),
            TlsBuffer::CertSerial => c0.serial.as_deref(),
            TlsBuffer::CertFingerprint => c0.fingerprint.as_deref(),
            TlsBuffer::Ja3Hash => ch.and_then(|h| h.ja3_hash.as_deref()),
            TlsBuffer::Ja3String => ch.map(|h| h.ja3_string.as_str()),
            TlsBuffer::Ja3sHash => sh.and_then(|h| h.ja3s_hash.as_deref()),
            TlsBuffer::Ja3sString => sh.map(|h| h.ja3s_string.as_str()),
            TlsBuffer::Ja4Hash => ch.and_then(|h| h.ja4.as_deref()),
        };
        s.map(str::as_bytes)
    }

    /// Whether Suricata writes a `tls` EVE record for this session: a
    /// certificate with subject and issuer, a TLS 1.3 session (no
    /// certificate in clear), or a resumed session when configured.
    pub fn eve_wanted(&self) -> bool {
        let c0 = &self.sides[1].cert0;
        (c0.subject.is_some() && c0.issuer.is_some())
            || (self.flags.has(Flags::SESSION_RESUMED) && self.cfg.log_session_resumption)
            || self.flags.has(Flags::LOG_WITHOUT_CERT)
    }

    /// The members of Suricata 7's EVE `tls` object with the default
    /// `extended: yes` (the same members go in an alert's `tls` object).
    pub fn write_eve(&self, o: &mut Obj<'_>) {
        let c0 = &self.sides[1].cert0;
        if let Some(s) = &c0.subject {
            o.str("subject", s);
        }
        if let Some(s) = &c0.issuer {
            o.str("issuerdn", s);
        }
        // Only a session with no certificate that is not TLS 1.3 is called
        // resumed.
        if self.flags.has(Flags::SESSION_RESUMED)
            && c0.subject.is_none()
            && c0.issuer.is_none()
            && self.flags.has(Flags::SERVER_HELLO)
            && !self.flags.has(Flags::LOG_WITHOUT_CERT)
        {
            o.bool("session_resumed", true);
        }
        if let Some(s) = &c0.serial {
            o.str("serial", s);
        }
        if let Some(s) = &c0.fingerprint {
            o.str("fingerprint", s);
        }
        // Suricata writes C strings that are valid UTF-8 only.
        if let Some(s) = self.sides[0]
            .sni
            .as_deref()
            .and_then(|s| std::str::from_utf8(s).ok())
        {
            o.str("sni", s);
        }
        o.str("version", &version_string(self.sides[1].version));
        if c0.not_before != 0 {
            o.str("notbefore", &format_time(c0.not_before));
        }
        if c0.not_after != 0 {
            o.str("notafter", &format_time(c0.not_after));
        }
        if self.cfg.ja3 {
            if let Some(h) = &self.client_hello {
                o.obj("ja3", |j| {
                    if let Some(x) = &h.ja3_hash {
                        j.str("hash", x);
                    }
                    j.str("string", &h.ja3_string);
                });
            }
            if let Some(h) = &self.server_hello {
                o.obj("ja3s", |j| {
                    if let Some(x) = &h.ja3s_hash {
                        j.str("hash", x);
                    }
                    j.str("string", &h.ja3s_string);
                });
            }
        }
        if self.cfg.ja4
            && let Some(j) = self.client_hello.as_ref().and_then(|h| h.ja4.as_deref())
        {
            o.str("ja4", j);
        }
        let cc = &self.sides[0].cert0;
        if cc.subject.is_some() || cc.issuer.is_some() {
            o.obj("client", |c| {
                if let Some(s) = &cc.subject {
                    c.str("subject", s);
                }
                if let Some(s) = &cc.issuer {
                    c.str("issuerdn", s);
                }
                if let Some(s) = &cc.fingerprint {
                    c.str("fingerprint", s);
                }
                if let Some(s) = &cc.serial {
                    c.str("serial", s);
                }
                if cc.not_before != 0 {
                    c.str("notbefore", &format_time(cc.not_before));
                }
                if cc.not_after != 0 {
                    c.str("notafter", &format_time(cc.not_after));
                }
            });
        }
    }
}

/// Suricata's `SSLVersionToString`: `TLS 1.2`, `TLSv1`, `SSLv3`,
/// `UNDETERMINED`, `TLS 1.3 draft-28`, ... or `0x%04x`.
pub fn version_string(v: u16) -> Cow<'static, str> {
    let s = match v {
        0x0000 => "UNDETERMINED",
        0x0200 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f01 => "TLS 1.3 draft-<16",
        0x7f10..=0x7f1c => return Cow::Owned(format!("TLS 1.3 draft-{}", v & 0xff)),
        0xfb14 => "TLS 1.3 draft-20-fb",
        0xfb15 => "TLS 1.3 draft-21-fb",
        0xfb16 => "TLS 1.3 draft-22-fb",
        0xfb17 => "TLS 1.3 draft-23-fb",
        0xfb1a => "TLS 1.3 draft-26-fb",
        _ => return Cow::Owned(format!("0x{v:04x}")),
    };
    Cow::Borrowed(s)
}

/// Unix seconds as Suricata's certificate dates: `2020-01-01T00:00:00` (UTC).
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
