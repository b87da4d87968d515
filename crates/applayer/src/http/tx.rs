//! HTTP transactions: what the parser recorded, and the sticky buffers
//! Suricata 7 builds from it.

use super::HttpBuffer;
use super::util::Proto;

/// A file digest kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

/// A digest (the first `len` bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigest {
    /// The bytes, zero-padded.
    pub bytes: [u8; 32],
    /// How many are the digest's.
    pub len: u8,
}

impl FileDigest {
    /// The digest.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Which digests the parser computes over bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileHashes {
    /// MD5.
    pub md5: bool,
    /// SHA-1.
    pub sha1: bool,
    /// SHA-256.
    pub sha256: bool,
}

impl FileHashes {
    /// Any of them.
    pub fn any(self) -> bool {
        self.md5 || self.sha1 || self.sha256
    }
}

/// Running digests of one body.
#[derive(Clone)]
pub(crate) struct FileHashers {
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    sha256: Option<sha2::Sha256>,
    /// A gap: the file is incomplete, no digest.
    pub gap: bool,
}

impl std::fmt::Debug for FileHashers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileHashers")
            .field("gap", &self.gap)
            .finish()
    }
}

impl FileHashers {
    pub(crate) fn new(h: FileHashes) -> FileHashers {
        use md5::Digest as _;
        FileHashers {
            md5: h.md5.then(md5::Md5::new),
            sha1: h.sha1.then(sha1::Sha1::new),
            sha256: h.sha256.then(sha2::Sha256::new),
            gap: false,
        }
    }

    pub(crate) fn update(&mut self, b: &[u8]) {
        use md5::Digest as _;
        if let Some(h) = self.md5.as_mut() {
            h.update(b);
        }
        if let Some(h) = self.sha1.as_mut() {
            h.update(b);
        }
        if let Some(h) = self.sha256.as_mut() {
            h.update(b);
        }
    }
}

/// Parse progress of one direction of a transaction (libhtp's request and
/// response progress, with the trailer folded into `Body`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Progress {
    /// Nothing seen yet.
    None,
    /// The request or status line is being read.
    Line,
    /// The line is done; headers are being read.
    Headers,
    /// The headers are done; the body (or trailer) is being read.
    Body,
    /// The message is complete.
    Complete,
}

/// One header field of a header table, as libhtp keeps it: the name as
/// first seen, the values of repeated fields joined with ", ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
    /// Seen more than once (`HTP_FIELD_REPEATED`).
    pub repeated: bool,
    /// [`name_hash`] of the name: merging a field compares hashes first,
    /// so a message of many same-length names is not quadratic in bytes.
    pub hash: u64,
}

/// FNV-1a of the lowercased name.
pub(crate) fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &c| {
        (h ^ u64::from(c.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A header table (libhtp `htp_table_t` of `htp_header_t`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Headers {
    pub list: Vec<Header>,
    /// Repetitions counted past the second occurrence (libhtp
    /// `req_header_repetitions`).
    pub repetitions: u16,
    /// Bytes of names and values held (the memory cap).
    pub bytes: usize,
}

impl Headers {
    /// The first field of that name (case-insensitive, as libhtp's table).
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Header> {
        self.list.iter().find(|h| h.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn value(&self, name: &[u8]) -> Option<&[u8]> {
        self.get(name).map(|h| h.value.as_slice())
    }
}

/// The composite buffers built from a complete header block.
#[derive(Debug, Default, Clone)]
pub(crate) struct Built {
    /// `http.header`: "Name: value\r\n" per field, Cookie/Set-Cookie left out.
    pub header: Vec<u8>,
    /// `http.header_names`: "\r\nName\r\n...Name\r\n\r\n".
    pub names: Vec<u8>,
    /// `http.start`: the line, CRLF, "Name: value\r\n" per field, CRLF.
    pub start: Vec<u8>,
    /// "Name: value" of each field (the `http.request_header` and
    /// `http.response_header` multi-buffers), as ranges of `lines`.
    pub lines: Vec<u8>,
    pub line_ranges: Vec<(usize, usize)>,
}

impl Built {
    pub(crate) fn build(line: Option<&[u8]>, headers: &Headers, skip: &[u8]) -> Built {
        let mut b = Built::default();
        if let Some(line) = line {
            b.start.extend_from_slice(line);
            b.start.extend_from_slice(b"\r\n");
        }
        b.names.extend_from_slice(b"\r\n");
        for h in &headers.list {
            let start = b.lines.len();
            b.lines.extend_from_slice(&h.name);
            b.lines.extend_from_slice(b": ");
            b.lines.extend_from_slice(&h.value);
            b.line_ranges.push((start, b.lines.len()));
            let field = &b.lines[start..];
            b.start.extend_from_slice(field);
            b.start.extend_from_slice(b"\r\n");
            if !h.name.eq_ignore_ascii_case(skip) {
                b.header.extend_from_slice(field);
                b.header.extend_from_slice(b"\r\n");
            }
            b.names.extend_from_slice(&h.name);
            b.names.extend_from_slice(b"\r\n");
        }
        b.names.extend_from_slice(b"\r\n");
        b.start.extend_from_slice(b"\r\n");
        b
    }

    fn field(&self, i: usize) -> Option<&[u8]> {
        let &(s, e) = self.line_ranges.get(i)?;
        self.lines.get(s..e)
    }
}

/// Known request methods (libhtp `htp_convert_method_to_number`), of which
/// the parser cares about a few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Unknown,
    Head,
    Connect,
    Known,
}

pub(crate) fn method_number(m: &[u8]) -> Method {
    match m {
        b"HEAD" => Method::Head,
        b"CONNECT" => Method::Connect,
        b"GET" | b"PUT" | b"POST" | b"DELETE" | b"OPTIONS" | b"TRACE" | b"PATCH" | b"PROPFIND"
        | b"PROPPATCH" | b"MKCOL" | b"COPY" | b"MOVE" | b"LOCK" | b"UNLOCK"
        | b"VERSION-CONTROL" | b"CHECKOUT" | b"UNCHECKOUT" | b"CHECKIN" | b"UPDATE" | b"LABEL"
        | b"REPORT" | b"MKWORKSPACE" | b"MKACTIVITY" | b"BASELINE-CONTROL" | b"MERGE"
        | b"INVALID" => Method::Known,
        _ => Method::Unknown,
    }
}

/// One HTTP request/response pair (Suricata's HTTP transaction).
#[derive(Debug, Clone)]
pub struct HttpTx {
    /// Suricata's `tx_id`: 0, 1, 2, ... per flow.
    pub id: u64,
    pub(crate) req_progress: Progress,
    pub(crate) resp_progress: Progress,

    pub(crate) request_line: Option<Vec<u8>>,
    pub(crate) method: Option<Vec<u8>>,
    pub(crate) method_num: Method,
    pub(crate) uri_raw: Option<Vec<u8>>,
    pub(crate) req_protocol: Option<Vec<u8>>,
    pub(crate) req_proto: Proto,
    pub(crate) is_09: bool,
    /// Suricata's normalised URI (`http.uri`).
    pub(crate) uri_norm: Option<Vec<u8>>,
    /// The normalised URI's hostname (libhtp `parsed_uri->hostname`).
    pub(crate) uri_host: Option<Vec<u8>>,
    /// libhtp `request_hostname`: from the URI, else from Host.
    pub(crate) hostname: Option<Vec<u8>>,
    /// libhtp `request_port_number`.
    pub(crate) port: Option<u16>,
    pub(crate) req_headers: Headers,
    pub(crate) req_raw: Vec<u8>,
    pub(crate) req_built: Option<Built>,
    pub(crate) request_body: Vec<u8>,
    pub(crate) req_message_len: u64,
    pub(crate) req_content_length: Option<u64>,

    pub(crate) response_line: Option<Vec<u8>>,
    pub(crate) resp_protocol: Option<Vec<u8>>,
    pub(crate) status: Option<Vec<u8>>,
    pub(crate) status_num: Option<u16>,
    pub(crate) message: Option<Vec<u8>>,
    pub(crate) resp_headers: Headers,
    pub(crate) resp_raw: Vec<u8>,
    pub(crate) resp_built: Option<Built>,
    pub(crate) response_body: Vec<u8>,
    pub(crate) resp_message_len: u64,
    pub(crate) seen_100: bool,

    /// Body bytes were lost to a gap: later body bytes are not kept.
    pub(crate) req_body_gap: bool,
    pub(crate) resp_body_gap: bool,
    /// Digests of each body (request, response) as a file, whole (past
    /// the body limits), when the config asks for them.
    pub(crate) hashers: [Option<Box<FileHashers>>; 2],
    pub(crate) events: Vec<&'static str>,
    /// Once-per-transaction libhtp warnings already raised.
    pub(crate) warned: u32,
}

/// Bits of [`HttpTx::warned`].
pub(crate) mod warn {
    pub const REQ_UNPARSEABLE: u32 = 1 << 0;
    pub const REQ_INVALID: u32 = 1 << 1;
    pub const REQ_FOLDING: u32 = 1 << 2;
    pub const RESP_UNPARSEABLE: u32 = 1 << 3;
    pub const RESP_INVALID: u32 = 1 << 4;
    pub const RESP_FOLDING: u32 = 1 << 5;
    pub const REQ_TOO_MANY: u32 = 1 << 6;
    pub const RESP_TOO_MANY: u32 = 1 << 7;
    pub const REQ_REPEAT_CAP: u32 = 1 << 8;
    pub const RESP_REPEAT_CAP: u32 = 1 << 9;
}

impl HttpTx {
    pub(crate) fn new(id: u64) -> HttpTx {
        HttpTx {
            id,
            req_progress: Progress::None,
            resp_progress: Progress::None,
            request_line: None,
            method: None,
            method_num: Method::Unknown,
            uri_raw: None,
            req_protocol: None,
            req_proto: Proto::Unknown,
            is_09: false,
            uri_norm: None,
            uri_host: None,
            hostname: None,
            port: None,
            req_headers: Headers::default(),
            req_raw: Vec::new(),
            req_built: None,
            request_body: Vec::new(),
            req_message_len: 0,
            req_content_length: None,
            response_line: None,
            resp_protocol: None,
            status: None,
            status_num: None,
            message: None,
            resp_headers: Headers::default(),
            resp_raw: Vec::new(),
            resp_built: None,
            response_body: Vec::new(),
            resp_message_len: 0,
            seen_100: false,
            req_body_gap: false,
            resp_body_gap: false,
            hashers: [None, None],
            events: Vec::new(),
            warned: 0,
        }
    }

    /// The digest of the request (`Dir::ToServer`) or response body as a
    /// file (dechunked, decoded, whole), for `filemd5`, `filesha1` and
    /// `filesha256`: `None` when the config did not ask for that digest,
    /// or the body had a gap (Suricata hashes no file with a gap).
    pub fn file_hash(&self, kind: HashKind, dir: crate::Dir) -> Option<FileDigest> {
        let h = self.hashers[dir.index()].as_ref()?;
        if h.gap {
            return None;
        }
        use md5::Digest as _;
        let mut out = FileDigest {
            bytes: [0; 32],
            len: 0,
        };
        let d: Vec<u8> = match kind {
            HashKind::Md5 => h.md5.as_ref()?.clone().finalize().to_vec(),
            HashKind::Sha1 => h.sha1.as_ref()?.clone().finalize().to_vec(),
            HashKind::Sha256 => h.sha256.as_ref()?.clone().finalize().to_vec(),
        };
        out.bytes[..d.len()].copy_from_slice(&d);
        out.len = d.len() as u8;
        Some(out)
    }

    /// The request's parse progress.
    pub fn request_progress(&self) -> Progress {
        self.req_progress
    }

    /// The response's parse progress.
    pub fn response_progress(&self) -> Progress {
        self.resp_progress
    }

    /// The anomaly events raised on this transaction (Suricata's
    /// `http_decoder_event_table` names), each once, oldest first.
    pub fn events(&self) -> &[&'static str] {
        &self.events
    }

    /// The i-th request header as "Name: value" (Suricata's
    /// `http.request_header` multi-buffer, `GetHttp1HeaderData`), once the
    /// request headers are complete.
    pub fn request_header(&self, i: usize) -> Option<&[u8]> {
        self.req_built.as_ref()?.field(i)
    }

    /// The i-th response header as "Name: value" (`http.response_header`).
    pub fn response_header(&self, i: usize) -> Option<&[u8]> {
        self.resp_built.as_ref()?.field(i)
    }

    /// The response status code as a number when it is valid (100-999).
    pub fn status_code(&self) -> Option<u16> {
        self.status_num
    }

    /// The bytes Suricata 7 gives a sticky buffer of this transaction, or
    /// `None` where Suricata has no buffer (the field is absent, or not
    /// parsed yet: header-derived buffers exist once their header block is
    /// complete).
    pub fn buffer(&self, b: HttpBuffer) -> Option<&[u8]> {
        use HttpBuffer as B;
        let req = |name: &[u8]| -> Option<&[u8]> {
            self.req_built.as_ref()?;
            self.req_headers.value(name)
        };
        let resp = |name: &[u8]| -> Option<&[u8]> {
            self.resp_built.as_ref()?;
            self.resp_headers.value(name)
        };
        match b {
            B::Uri => self.uri_norm.as_deref(),
            B::UriRaw => self.uri_raw.as_deref(),
            B::Method => self.method.as_deref(),
            B::RequestProtocol => self.req_protocol.as_deref(),
            B::ResponseProtocol => self.resp_protocol.as_deref(),
            B::RequestLine => self.request_line.as_deref(),
            B::ResponseLine => self.response_line.as_deref(),
            B::Host => {
                self.req_built.as_ref()?;
                self.hostname.as_deref()
            }
            B::HostRaw => {
                self.req_built.as_ref()?;
                match &self.uri_host {
                    Some(h) => Some(h.as_slice()),
                    None => self.req_headers.value(b"host"),
                }
            }
            B::UserAgent => req(b"user-agent"),
            B::RequestHeaders => self.req_built.as_ref().map(|b| b.header.as_slice()),
            B::ResponseHeaders => self.resp_built.as_ref().map(|b| b.header.as_slice()),
            B::RequestHeadersRaw => self.req_built.as_ref().map(|_| self.req_raw.as_slice()),
            B::ResponseHeadersRaw => self.resp_built.as_ref().map(|_| self.resp_raw.as_slice()),
            B::RequestHeaderNames => self.req_built.as_ref().map(|b| b.names.as_slice()),
            B::ResponseHeaderNames => self.resp_built.as_ref().map(|b| b.names.as_slice()),
            B::RequestCookie => req(b"cookie"),
            B::ResponseCookie => resp(b"set-cookie"),
            B::RequestContentType => req(b"content-type"),
            B::ResponseContentType => resp(b"content-type"),
            B::RequestContentLen => req(b"content-length"),
            B::ResponseContentLen => resp(b"content-length"),
            B::Referer => req(b"referer"),
            B::Accept => req(b"accept"),
            B::AcceptEnc => req(b"accept-encoding"),
            B::AcceptLang => req(b"accept-language"),
            B::RequestConnection => req(b"connection"),
            B::ResponseConnection => resp(b"connection"),
            B::RequestStart => self.req_built.as_ref().map(|b| b.start.as_slice()),
            B::ResponseStart => self.resp_built.as_ref().map(|b| b.start.as_slice()),
            B::StatCode => self.status.as_deref(),
            B::StatMsg => self.message.as_deref(),
            B::Server => resp(b"server"),
            B::Location => resp(b"location"),
            B::RequestBody => {
                (!self.request_body.is_empty()).then_some(self.request_body.as_slice())
            }
            B::ResponseBody => {
                (!self.response_body.is_empty()).then_some(self.response_body.as_slice())
            }
        }
    }
}
