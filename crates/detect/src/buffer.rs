//! Suricata's application-layer inspection buffers ("sticky buffers"):
//! which keyword names which buffer, of which protocol, in which
//! direction, and how many instances a transaction has.
//!
//! The engine does not parse protocols: a flow worker hands it each
//! transaction through [`TxBuffers`], which gives a buffer's bytes (after
//! the parsers' normalization) and says whether the transaction has
//! progressed far enough for the buffer to be final. Transforms
//! (`dotprefix`, the only one ET Open uses, and the simple ones
//! suricata-verify exercises) apply on top, per rule list.

/// The application-layer protocols rules can be written against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppProto {
    /// HTTP/1.x (Suricata's `http` and `http1`).
    Http,
    /// TLS (and SSL; Suricata's `tls`/`ssl`).
    Tls,
    /// DNS over UDP or TCP.
    Dns,
}

impl AppProto {
    /// Every protocol, in index order.
    pub const ALL: [AppProto; 3] = [AppProto::Http, AppProto::Tls, AppProto::Dns];

    /// The protocol of a rule header or `app-layer-protocol` name.
    pub fn from_name(name: &str) -> Option<AppProto> {
        Some(match name.to_ascii_lowercase().as_str() {
            "http" | "http1" => AppProto::Http,
            "tls" | "ssl" => AppProto::Tls,
            "dns" => AppProto::Dns,
            _ => return None,
        })
    }

    /// Suricata's name (EVE `app_proto`).
    pub fn name(self) -> &'static str {
        match self {
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Dns => "dns",
        }
    }

    /// 0, 1, 2.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A direction of inspection: the side whose data a buffer holds, or the
/// direction a transaction rule is inspected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TxDir {
    /// Client to server (the request).
    ToServer,
    /// Server to client (the response).
    ToClient,
}

impl TxDir {
    /// 0 for to-server, 1 for to-client.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Which directions a buffer exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// Request side only.
    ToServer,
    /// Response side only.
    ToClient,
    /// Either: the rule's direction picks (`http.header` reads the request
    /// headers in a `to_server` rule, the response's in a `to_client` one).
    Both,
}

macro_rules! buffers {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, $app:ident, $sides:ident, $multi:literal; )*) => {
        /// A sticky buffer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Buffer {
            $( $(#[$doc])* $v, )*
        }

        impl Buffer {
            /// Every buffer.
            pub const ALL: &'static [Buffer] = &[$(Buffer::$v,)*];

            /// The sticky-buffer keyword (canonical name).
            pub fn keyword(self) -> &'static str {
                match self { $(Buffer::$v => $name,)* }
            }

            /// The protocol whose transactions hold it.
            pub fn app(self) -> AppProto {
                match self { $(Buffer::$v => AppProto::$app,)* }
            }

            /// The directions it exists in.
            pub fn sides(self) -> Sides {
                match self { $(Buffer::$v => Sides::$sides,)* }
            }

            /// Whether a transaction has several instances of it (any
            /// instance matching is a match: Suricata's multi-buffers).
            pub fn multi(self) -> bool {
                match self { $(Buffer::$v => $multi,)* }
            }
        }
    };
}

buffers! {
    /// `http.uri` (`http_uri`): the normalized request URI.
    HttpUri = "http.uri", Http, ToServer, false;
    /// `http.uri.raw` (`http_raw_uri`).
    HttpUriRaw = "http.uri.raw", Http, ToServer, false;
    /// `http.method`.
    HttpMethod = "http.method", Http, ToServer, false;
    /// `http.request_line`.
    HttpRequestLine = "http.request_line", Http, ToServer, false;
    /// `http.host`: normalized (lowercase, no port).
    HttpHost = "http.host", Http, ToServer, false;
    /// `http.host.raw`.
    HttpHostRaw = "http.host.raw", Http, ToServer, false;
    /// `http.user_agent`.
    HttpUserAgent = "http.user_agent", Http, ToServer, false;
    /// `http.referer`.
    HttpReferer = "http.referer", Http, ToServer, false;
    /// `http.accept`.
    HttpAccept = "http.accept", Http, ToServer, false;
    /// `http.accept_enc`.
    HttpAcceptEnc = "http.accept_enc", Http, ToServer, false;
    /// `http.accept_lang`.
    HttpAcceptLang = "http.accept_lang", Http, ToServer, false;
    /// `http.request_body` (`http_client_body`).
    HttpRequestBody = "http.request_body", Http, ToServer, false;
    /// `http.request_header`: each request header as `Name: value`.
    HttpRequestHeader = "http.request_header", Http, ToServer, true;
    /// `http.stat_code`.
    HttpStatCode = "http.stat_code", Http, ToClient, false;
    /// `http.stat_msg`.
    HttpStatMsg = "http.stat_msg", Http, ToClient, false;
    /// `http.response_line`.
    HttpResponseLine = "http.response_line", Http, ToClient, false;
    /// `http.server`.
    HttpServer = "http.server", Http, ToClient, false;
    /// `http.location`.
    HttpLocation = "http.location", Http, ToClient, false;
    /// `http.response_body` (`http_server_body`).
    HttpResponseBody = "http.response_body", Http, ToClient, false;
    /// `http.response_header`: each response header as `Name: value`.
    HttpResponseHeader = "http.response_header", Http, ToClient, true;
    /// `http.header` (`http_header`): normalized headers.
    HttpHeader = "http.header", Http, Both, false;
    /// `http.header.raw` (`http_raw_header`).
    HttpHeaderRaw = "http.header.raw", Http, Both, false;
    /// `http.header_names`.
    HttpHeaderNames = "http.header_names", Http, Both, false;
    /// `http.cookie` (`Cookie` or `Set-Cookie`).
    HttpCookie = "http.cookie", Http, Both, false;
    /// `http.content_type`.
    HttpContentType = "http.content_type", Http, Both, false;
    /// `http.content_len`.
    HttpContentLen = "http.content_len", Http, Both, false;
    /// `http.connection`.
    HttpConnection = "http.connection", Http, Both, false;
    /// `http.protocol`.
    HttpProtocol = "http.protocol", Http, Both, false;
    /// `http.start`: the request or response line and headers.
    HttpStart = "http.start", Http, Both, false;
    /// `file.data` (`file_data`) on HTTP: the request or response body,
    /// dechunked and decompressed.
    FileData = "file.data", Http, Both, false;
    /// `tls.sni`.
    TlsSni = "tls.sni", Tls, ToServer, false;
    /// `ja3.hash`.
    Ja3Hash = "ja3.hash", Tls, ToServer, false;
    /// `ja3.string`.
    Ja3String = "ja3.string", Tls, ToServer, false;
    /// `ja4.hash`.
    Ja4Hash = "ja4.hash", Tls, ToServer, false;
    /// `ja3s.hash`.
    Ja3sHash = "ja3s.hash", Tls, ToClient, false;
    /// `ja3s.string`.
    Ja3sString = "ja3s.string", Tls, ToClient, false;
    /// `tls.cert_subject`: the leaf certificate's subject (the server's
    /// to the client, a client certificate's to the server).
    TlsCertSubject = "tls.cert_subject", Tls, Both, false;
    /// `tls.cert_issuer`.
    TlsCertIssuer = "tls.cert_issuer", Tls, Both, false;
    /// `tls.cert_serial`.
    TlsCertSerial = "tls.cert_serial", Tls, Both, false;
    /// `tls.cert_fingerprint`.
    TlsCertFingerprint = "tls.cert_fingerprint", Tls, Both, false;
    /// `tls.certs`: each certificate of the chain (DER), the server's to
    /// the client, the client's to the server.
    TlsCerts = "tls.certs", Tls, Both, true;
    /// `dns.query` (`dns_query`): each query name of a request.
    DnsQuery = "dns.query", Dns, ToServer, true;
}

impl Buffer {
    /// The buffer a sticky-buffer keyword (canonical name) selects.
    pub fn from_keyword(name: &str) -> Option<Buffer> {
        Buffer::ALL.iter().copied().find(|b| b.keyword() == name)
    }

    /// The buffer a legacy content modifier (`content:"x"; http_uri;`)
    /// moves the content into.
    pub fn from_modifier(name: &str) -> Option<Buffer> {
        Some(match name {
            "http_uri" => Buffer::HttpUri,
            "http_raw_uri" => Buffer::HttpUriRaw,
            "http_method" => Buffer::HttpMethod,
            "http_cookie" => Buffer::HttpCookie,
            "http_client_body" => Buffer::HttpRequestBody,
            "http_server_body" => Buffer::HttpResponseBody,
            "http_header" => Buffer::HttpHeader,
            "http_raw_header" => Buffer::HttpHeaderRaw,
            "http_stat_msg" => Buffer::HttpStatMsg,
            "http_stat_code" => Buffer::HttpStatCode,
            "http_user_agent" => Buffer::HttpUserAgent,
            "http_host" => Buffer::HttpHost,
            "http_raw_host" => Buffer::HttpHostRaw,
            _ => return None,
        })
    }

    /// Whether the buffer has a side for `dir`.
    pub fn has_side(self, dir: TxDir) -> bool {
        match self.sides() {
            Sides::Both => true,
            Sides::ToServer => dir == TxDir::ToServer,
            Sides::ToClient => dir == TxDir::ToClient,
        }
    }

    /// A dense index (for bitmaps).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A transform (Suricata's `detect-transform-*.c`), applied to a sticky
/// buffer before its keywords inspect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transform {
    /// `dotprefix`: a `.` in front.
    DotPrefix,
    /// `to_lowercase` (ASCII).
    ToLowercase,
    /// `to_uppercase` (ASCII).
    ToUppercase,
    /// `strip_whitespace`: every whitespace byte removed (C `isspace`).
    StripWhitespace,
    /// `compress_whitespace`: a run of whitespace kept as its first byte.
    CompressWhitespace,
    /// `url_decode`: `%XX` decoded, `+` as a space.
    UrlDecode,
}

impl Transform {
    /// The transform a keyword names.
    pub fn from_keyword(name: &str) -> Option<Transform> {
        Some(match name {
            "dotprefix" => Transform::DotPrefix,
            "to_lowercase" => Transform::ToLowercase,
            "to_uppercase" => Transform::ToUppercase,
            "strip_whitespace" => Transform::StripWhitespace,
            "compress_whitespace" => Transform::CompressWhitespace,
            "url_decode" => Transform::UrlDecode,
            _ => return None,
        })
    }

    fn apply(self, b: &mut Vec<u8>) {
        // C `isspace`: space, \t, \n, \v, \f, \r.
        let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
        match self {
            Transform::DotPrefix => b.insert(0, b'.'),
            Transform::ToLowercase => b.make_ascii_lowercase(),
            Transform::ToUppercase => b.make_ascii_uppercase(),
            Transform::StripWhitespace => b.retain(|&c| !ws(c)),
            Transform::CompressWhitespace => {
                let mut prev_ws = false;
                b.retain(|&c| {
                    let keep = !(ws(c) && prev_ws);
                    prev_ws = ws(c);
                    keep
                });
            }
            Transform::UrlDecode => {
                let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
                let (mut r, mut w) = (0, 0);
                while r < b.len() {
                    let c = b[r];
                    let decoded = match c {
                        b'%' if r + 2 < b.len() => match (hex(b[r + 1]), hex(b[r + 2])) {
                            (Some(h), Some(l)) => Some(h << 4 | l),
                            _ => None,
                        },
                        _ => None,
                    };
                    match (decoded, c) {
                        (Some(v), _) => {
                            b[w] = v;
                            r += 3;
                        }
                        (None, b'+') => {
                            b[w] = b' ';
                            r += 1;
                        }
                        (None, _) => {
                            b[w] = c;
                            r += 1;
                        }
                    }
                    w += 1;
                }
                b.truncate(w);
            }
        }
    }
}

/// The transforms of one rule list, in order (at most four, more than any
/// rule uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Transforms {
    list: [Option<Transform>; 4],
}

impl Transforms {
    /// No transform.
    pub const NONE: Transforms = Transforms { list: [None; 4] };

    /// Appends `t`; `false` when full.
    pub fn push(&mut self, t: Transform) -> bool {
        match self.list.iter_mut().find(|x| x.is_none()) {
            Some(slot) => {
                *slot = Some(t);
                true
            }
            None => false,
        }
    }

    /// No transform.
    pub fn is_empty(&self) -> bool {
        self.list[0].is_none()
    }

    /// The transforms, in order.
    pub fn iter(&self) -> impl Iterator<Item = Transform> + '_ {
        self.list.iter().map_while(|t| *t)
    }

    /// `raw` transformed, in `scratch` unless there is nothing to do.
    pub fn apply<'a>(&self, raw: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
        if self.is_empty() {
            return raw;
        }
        scratch.clear();
        scratch.extend_from_slice(raw);
        for t in self.iter() {
            t.apply(scratch);
        }
        scratch.as_slice()
    }
}

/// A buffer as one rule list inspects it: the buffer, the side it is read
/// from, and the transforms applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    /// The buffer.
    pub buffer: Buffer,
    /// The side read.
    pub side: TxDir,
    /// Transforms, in order.
    pub transforms: Transforms,
}

impl Slot {
    /// The bytes of instance `i` of this slot in `tx`, transformed into
    /// `scratch` when the slot has transforms. `None`: absent.
    pub fn get<'a>(
        &self,
        tx: &'a dyn TxBuffers,
        i: usize,
        scratch: &'a mut Vec<u8>,
    ) -> Option<&'a [u8]> {
        let raw = tx.get(self.buffer, self.side, i)?;
        Some(self.transforms.apply(raw, scratch))
    }
}

/// The digest kinds of `filemd5`, `filesha1` and `filesha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileHashKind {
    /// `filemd5`.
    Md5,
    /// `filesha1`.
    Sha1,
    /// `filesha256`.
    Sha256,
}

impl FileHashKind {
    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            FileHashKind::Md5 => 16,
            FileHashKind::Sha1 => 20,
            FileHashKind::Sha256 => 32,
        }
    }
}

/// Whether a buffer can be inspected yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// Not yet: the transaction has not reached the point where the
    /// buffer is final (its headers or body are still coming).
    NotYet,
    /// Final: its content (or its absence) will not change.
    Final,
}

/// One transaction as the engine inspects it, supplied by the caller.
pub trait TxBuffers {
    /// Instance `i` (0 for single buffers) of `buffer` on `side`; `None`
    /// when absent.
    fn get(&self, buffer: Buffer, side: TxDir, i: usize) -> Option<&[u8]>;

    /// Whether `buffer` on `side` is final.
    fn ready(&self, buffer: Buffer, side: TxDir) -> Ready;

    /// The app-layer events the transaction (or its flow's parser) raised,
    /// by Suricata's `app-layer-event` names without the protocol prefix
    /// (compared without regard to case, as Suricata does).
    fn events(&self) -> &[&'static str] {
        &[]
    }

    /// The TLS version `tls.version` compares with when inspecting in
    /// direction `dir` (TLS only).
    fn tls_version(&self, dir: TxDir) -> Option<u16> {
        let _ = dir;
        None
    }

    /// Whether [`TxBuffers::tls_version`] is final for `dir` (the hello of
    /// that side was seen, or the flow ended).
    fn tls_version_ready(&self, dir: TxDir) -> bool {
        let _ = dir;
        true
    }

    /// Whether the transaction is complete (or its flow ended): its events
    /// are final.
    fn complete(&self) -> bool {
        true
    }

    /// The digest of the file carried on `side` (an HTTP body), when it
    /// is whole and was computed; final when `file.data` of that side is.
    fn file_hash(&self, kind: FileHashKind, side: TxDir) -> Option<([u8; 32], u8)> {
        let _ = (kind, side);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(list: &[Transform], raw: &[u8]) -> Vec<u8> {
        let mut ts = Transforms::NONE;
        for &x in list {
            assert!(ts.push(x));
        }
        let mut s = Vec::new();
        ts.apply(raw, &mut s).to_vec()
    }

    #[test]
    fn transforms_as_suricata() {
        use Transform::*;
        assert_eq!(t(&[ToLowercase], b"AbC"), b"abc");
        assert_eq!(t(&[ToUppercase], b"AbC"), b"ABC");
        assert_eq!(t(&[StripWhitespace], b" a\tb \r\nc "), b"abc");
        assert_eq!(t(&[CompressWhitespace], b"a  \t b\n"), b"a b\n");
        assert_eq!(t(&[UrlDecode], b"%41%2fx+y%zz%4"), b"A/x y%zz%4");
        assert_eq!(t(&[UrlDecode], b"%"), b"%");
        assert_eq!(t(&[DotPrefix, ToUppercase], b"a.b"), b".A.B");
        assert_eq!(t(&[], b"same"), b"same");
        let mut full = Transforms::NONE;
        for _ in 0..4 {
            assert!(full.push(ToLowercase));
        }
        assert!(!full.push(ToLowercase));
    }

    #[test]
    fn keywords_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &b in Buffer::ALL {
            assert!(seen.insert(b.keyword()), "{b:?}");
            assert_eq!(Buffer::from_keyword(b.keyword()), Some(b));
            assert_eq!(Buffer::ALL[b.index()], b);
        }
        assert!(Buffer::ALL.len() <= 64, "bitmaps are u64");
        assert_eq!(Buffer::from_keyword("http.urix"), None);
    }

    #[test]
    fn modifiers_and_sides() {
        assert_eq!(Buffer::from_modifier("http_uri"), Some(Buffer::HttpUri));
        assert_eq!(Buffer::from_modifier("nocase"), None);
        assert!(Buffer::HttpHeader.has_side(TxDir::ToClient));
        assert!(!Buffer::HttpUri.has_side(TxDir::ToClient));
        assert!(!Buffer::TlsSni.has_side(TxDir::ToClient));
        assert!(!Buffer::Ja3sHash.has_side(TxDir::ToServer));
        assert!(Buffer::DnsQuery.multi() && !Buffer::HttpUri.multi());
        assert_eq!(AppProto::from_name("SSL"), Some(AppProto::Tls));
    }

    struct One(&'static [u8]);
    impl TxBuffers for One {
        fn get(&self, b: Buffer, _: TxDir, i: usize) -> Option<&[u8]> {
            (b == Buffer::DnsQuery && i == 0).then_some(self.0)
        }
        fn ready(&self, _: Buffer, _: TxDir) -> Ready {
            Ready::Final
        }
    }

    #[test]
    fn dotprefix_puts_a_dot_in_front() {
        let tx = One(b"evil.example");
        let mut s = Vec::new();
        let mut t = Transforms::NONE;
        t.push(Transform::DotPrefix);
        let slot = Slot {
            buffer: Buffer::DnsQuery,
            side: TxDir::ToServer,
            transforms: t,
        };
        assert_eq!(slot.get(&tx, 0, &mut s), Some(&b".evil.example"[..]));
        let plain = Slot {
            transforms: Transforms::NONE,
            ..slot
        };
        assert_eq!(plain.get(&tx, 0, &mut s), Some(&b"evil.example"[..]));
        assert_eq!(plain.get(&tx, 1, &mut s), None);
    }
}
