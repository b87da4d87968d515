//! The application layer of one flow, in its worker: protocol detection on
//! the flow's first bytes, then the protocol's parser, fed with the
//! reassembled stream of each direction in order (datagrams for DNS over
//! UDP); and the bookkeeping that transaction inspection and the protocol
//! EVE records need (which transactions were inspected and logged).
//!
//! Data reaches the parser in the order the flow delivers it: in IDS mode
//! the stream of a direction when the other side acknowledges it, so the
//! protocol of a flow is known before its first stream chunk is inspected
//! by the rules.

use std::collections::VecDeque;

use mirador_applayer::Dir;
use mirador_applayer::detect::{self, Detector, FlowVerdict, Proto};
use mirador_applayer::dns::{DnsConfig, DnsEveConfig, DnsState};
use mirador_applayer::http::{HttpConfig, HttpState};
use mirador_applayer::tls::{TlsConfig, TlsState};
use mirador_detect::buffer::AppProto;
use mirador_detect::engine::TxState;

/// Which protocols are detected and parsed
/// (`app-layer.protocols.<name>.enabled`), and the parsers' settings.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// HTTP/1.x.
    pub http: mirador_config::Enabled,
    /// TLS.
    pub tls: mirador_config::Enabled,
    /// DNS.
    pub dns: mirador_config::Enabled,
    /// DNS over TCP, over UDP.
    pub dns_tcp: bool,
    /// See `dns_tcp`.
    pub dns_udp: bool,
    /// HTTP settings.
    pub http_cfg: HttpConfig,
    /// TLS settings (`ja3`/`ja4` resolved from `auto` by [`AppConfig::resolve`]).
    pub tls_cfg: TlsConfig,
    /// `encryption-handling: full`: encrypted TLS payload still inspected.
    pub tls_inspect_encrypted: bool,
    /// `ja3-fingerprints`, `ja4-fingerprints` as configured.
    pub fingerprints: (mirador_config::Fingerprints, mirador_config::Fingerprints),
    /// DNS caps.
    pub dns_cfg: DnsConfig,
    /// What DNS records are logged.
    pub dns_eve: DnsEveConfig,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig::from_config(&mirador_config::AppLayerConfig::default())
    }
}

impl AppConfig {
    /// The settings of the `app-layer` section.
    pub fn from_config(c: &mirador_config::AppLayerConfig) -> AppConfig {
        let p = &c.protocols;
        let h = &p.http.libhtp.default_config;
        let size = |b: mirador_config::ByteSize| usize::try_from(b.bytes()).unwrap_or(usize::MAX);
        AppConfig {
            http: p.http.enabled,
            tls: p.tls.enabled,
            dns: p.dns.enabled,
            dns_tcp: p.dns.tcp.enabled,
            dns_udp: p.dns.udp.enabled,
            http_cfg: HttpConfig {
                request_body_limit: size(h.request_body_limit),
                response_body_limit: size(h.response_body_limit),
                decompress_layer_limit: h.response_body_decompress_layer_limit,
                compression_bomb_limit: h.compression_bomb_limit.bytes(),
                max_tx: h.max_tx.max(1),
                max_headers: h.headers_limit,
                ..HttpConfig::default()
            },
            tls_cfg: TlsConfig::default(),
            tls_inspect_encrypted: p.tls.encryption_handling
                == mirador_config::EncryptionHandling::Full,
            fingerprints: (p.tls.ja3_fingerprints, p.tls.ja4_fingerprints),
            dns_cfg: DnsConfig::default(),
            dns_eve: DnsEveConfig::default(),
        }
    }

    /// Resolves `auto` fingerprints: logged when a loaded rule uses them,
    /// as Suricata does.
    pub fn resolve(&mut self, engine: Option<&mirador_detect::engine::Engine>) {
        use mirador_config::Fingerprints as F;
        use mirador_detect::buffer::Buffer as B;
        let uses = |bs: &[B]| engine.is_some_and(|e| bs.iter().any(|&b| e.uses_buffer(b)));
        self.tls_cfg.ja3 = match self.fingerprints.0 {
            F::Yes => true,
            F::No => false,
            F::Auto => uses(&[B::Ja3Hash, B::Ja3String, B::Ja3sHash, B::Ja3sString]),
        };
        self.tls_cfg.ja4 = match self.fingerprints.1 {
            F::Yes => true,
            F::No => false,
            F::Auto => uses(&[B::Ja4Hash]),
        };
        // Bodies are hashed as files only for the digests rules check.
        use mirador_detect::buffer::FileHashKind as K;
        let hashes = |k: K| engine.is_some_and(|e| e.uses_file_hash(k));
        self.http_cfg.file_hashes = mirador_applayer::http::FileHashes {
            md5: hashes(K::Md5),
            sha1: hashes(K::Sha1),
            sha256: hashes(K::Sha256),
        };
    }

    fn enabled(&self, p: Proto) -> mirador_config::Enabled {
        match p {
            Proto::Http => self.http,
            Proto::Tls => self.tls,
            Proto::Dns => self.dns,
        }
    }
}

/// The parser of a flow whose protocol is known.
pub enum Parser {
    /// Detected, but its parser is turned off (or not written yet).
    Off,
    /// HTTP/1.x.
    Http(Box<HttpState>),
    /// TLS.
    Tls(Box<TlsState>),
    /// DNS.
    Dns(Box<DnsState>),
}

/// Inspection and logging state of one transaction.
#[derive(Debug, Default)]
pub struct TxTrack {
    /// The parser's transaction id.
    pub id: u64,
    /// Rule inspection, per direction.
    pub det: [TxState; 2],
    /// Its protocol record was written.
    pub logged: bool,
    /// Each direction's rules were inspected with the transaction complete
    /// and nothing left waiting.
    pub done: [bool; 2],
    /// It began under an earlier rule set (a reload): no rules run on it.
    pub frozen: bool,
}

/// The application layer of one flow.
pub struct AppFlow {
    /// TCP protocol detection, until decided.
    detector: Option<Box<Detector>>,
    /// The flow's protocol.
    proto: Option<Proto>,
    /// Detection ended without a protocol of ours.
    failed: bool,
    /// UDP: which directions' first datagram was looked at.
    udp_tried: [bool; 2],
    /// Detection ended (either way) and no packet was told yet.
    detected: bool,
    /// The parser, once the protocol is known.
    pub parser: Parser,
    /// Transactions seen by inspection or logging, oldest first.
    pub txs: VecDeque<TxTrack>,
}

impl std::fmt::Debug for AppFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppFlow")
            .field("proto", &self.proto)
            .field("failed", &self.failed)
            .field("txs", &self.txs.len())
            .finish_non_exhaustive()
    }
}

impl Default for AppFlow {
    fn default() -> Self {
        AppFlow::new()
    }
}

impl AppFlow {
    /// Nothing seen yet.
    pub fn new() -> AppFlow {
        AppFlow {
            detector: None,
            proto: None,
            failed: false,
            udp_tried: [false; 2],
            detected: false,
            parser: Parser::Off,
            txs: VecDeque::new(),
        }
    }

    /// The detected protocol, as the signature engine names it.
    pub fn proto(&self) -> Option<AppProto> {
        self.proto.map(|p| match p {
            Proto::Http => AppProto::Http,
            Proto::Tls => AppProto::Tls,
            Proto::Dns => AppProto::Dns,
        })
    }

    /// Whether the flow's payload is no longer inspected by content rules:
    /// a TLS session past its handshake, unless `encryption-handling` is
    /// `full` (Suricata's default stops it; `tls.*` keywords and rules
    /// without payload keywords still run).
    pub fn no_payload_inspection(&self, cfg: &AppConfig) -> bool {
        !cfg.tls_inspect_encrypted && self.settled()
    }

    /// Whether no transaction will need the raw stream any more: a TLS
    /// session past its handshake (the rest is encrypted).
    pub fn settled(&self) -> bool {
        matches!(&self.parser, Parser::Tls(t) if t.encrypted())
    }

    /// EVE `app_proto`: the protocol, `failed`, or nothing while unknown.
    pub fn eve_name(&self) -> Option<&'static str> {
        match (self.proto, self.failed) {
            (Some(p), _) => Some(p.name()),
            (None, true) => Some("failed"),
            (None, false) => None,
        }
    }

    /// Whether protocol detection ended since the last call (once per
    /// flow): the packet being handled is the one that completed it.
    pub fn take_detected(&mut self) -> bool {
        std::mem::take(&mut self.detected)
    }

    fn start(&mut self, cfg: &AppConfig, p: Proto, tcp: bool) {
        use mirador_config::Enabled;
        self.detected = true;
        let transport_off = p == Proto::Dns && !(if tcp { cfg.dns_tcp } else { cfg.dns_udp });
        if cfg.enabled(p) == Enabled::No || transport_off {
            // Not detected at all: as if no protocol of ours were seen.
            self.failed = true;
            return;
        }
        self.proto = Some(p);
        self.parser = match p {
            _ if !cfg.enabled(p).parses() => Parser::Off,
            Proto::Tls => Parser::Tls(Box::new(TlsState::new(&cfg.tls_cfg))),
            Proto::Dns => Parser::Dns(Box::new(DnsState::new(&cfg.dns_cfg))),
            Proto::Http => Parser::Http(Box::new(HttpState::new(&cfg.http_cfg))),
        };
    }

    /// In-order stream bytes of direction `dir`.
    pub fn tcp_data(&mut self, cfg: &AppConfig, dir: Dir, bytes: &[u8], server_port: u16) {
        if self.failed {
            return;
        }
        if self.proto.is_none() {
            let det = self.detector.get_or_insert_with(Box::default);
            let (verdict, stored) = det.feed(dir, bytes, server_port);
            match verdict {
                FlowVerdict::Undecided => return,
                FlowVerdict::Failed => {
                    self.failed = true;
                    self.detected = true;
                    self.detector = None;
                    return;
                }
                FlowVerdict::Detected(p) => {
                    let det = self.detector.take().unwrap_or_default();
                    self.start(cfg, p, true);
                    // Replay what detection held, in direction order.
                    let (prefix, lost) = det.into_parts();
                    for d in [Dir::ToServer, Dir::ToClient] {
                        let i = d.index();
                        if !prefix[i].is_empty() {
                            self.parser_input(d, &prefix[i]);
                        }
                        if lost[i] > 0 {
                            self.parser_gap(d, lost[i]);
                        }
                        if d == dir && stored < bytes.len() {
                            self.parser_input(d, &bytes[stored..]);
                        }
                    }
                    return;
                }
            }
        }
        self.parser_input(dir, bytes);
    }

    /// A hole of `len` bytes in direction `dir`.
    pub fn tcp_gap(&mut self, dir: Dir, len: u64) {
        if self.failed {
            return;
        }
        if self.proto.is_none() {
            // A direction with a hole can tell nothing more; its bytes are
            // replayed to the parser up to the hole, if the other
            // direction names the protocol.
            let det = self.detector.get_or_insert_with(Box::default);
            det.lose(dir, len);
            if det.give_up(dir) == FlowVerdict::Failed {
                self.failed = true;
                self.detected = true;
                self.detector = None;
            }
            return;
        }
        self.parser_gap(dir, len);
    }

    /// Direction `dir` ended.
    pub fn tcp_eof(&mut self, dir: Dir) {
        match &mut self.parser {
            Parser::Off | Parser::Dns(_) => {}
            Parser::Http(h) => h.eof(dir),
            Parser::Tls(t) => t.eof(dir),
        }
    }

    /// One UDP datagram of direction `dir`.
    pub fn udp(&mut self, cfg: &AppConfig, dir: Dir, payload: &[u8], server_port: u16) {
        if self.failed || payload.is_empty() {
            return;
        }
        if self.proto.is_none() {
            let i = dir.index();
            if self.udp_tried[i] {
                return;
            }
            self.udp_tried[i] = true;
            match detect::udp(payload, server_port) {
                detect::Verdict::Is(p) => self.start(cfg, p, false),
                _ => {
                    if self.udp_tried == [true, true] {
                        self.failed = true;
                        self.detected = true;
                    }
                    return;
                }
            }
        }
        match &mut self.parser {
            Parser::Dns(d) => d.udp(dir, payload),
            Parser::Off | Parser::Http(_) | Parser::Tls(_) => {}
        }
    }

    fn parser_input(&mut self, dir: Dir, bytes: &[u8]) {
        match &mut self.parser {
            Parser::Off => {}
            Parser::Http(h) => h.input(dir, bytes),
            Parser::Tls(t) => t.input(dir, bytes),
            Parser::Dns(d) => d.input(dir, bytes),
        }
    }

    fn parser_gap(&mut self, dir: Dir, len: u64) {
        match &mut self.parser {
            Parser::Off => {}
            Parser::Http(h) => h.gap(dir, len),
            Parser::Tls(t) => t.gap(dir, len),
            Parser::Dns(d) => d.gap(dir, len),
        }
    }

    /// The tracking entry of transaction `id`, created in id order.
    pub fn track(txs: &mut VecDeque<TxTrack>, id: u64) -> &mut TxTrack {
        let at = match txs.binary_search_by_key(&id, |t| t.id) {
            Ok(i) => i,
            Err(i) => {
                txs.insert(
                    i,
                    TxTrack {
                        id,
                        ..TxTrack::default()
                    },
                );
                i
            }
        };
        &mut txs[at]
    }
}
