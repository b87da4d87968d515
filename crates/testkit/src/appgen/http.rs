//! HTTP/1.1 messages: requests and responses as bytes, bodies with
//! `Content-Length`, chunked or gzip-compressed (flate2), and the
//! inspection buffers Suricata 7 derives from them (the model the trigger
//! derivation checks itself against; see [`Buf`] for each one's layout).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// A header: name and value, as written.
pub type Header = (Vec<u8>, Vec<u8>);

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Vec<u8>,
    /// Request target as written.
    pub uri: Vec<u8>,
    /// Protocol (`HTTP/1.1`).
    pub protocol: Vec<u8>,
    /// Headers in order (no `Content-Length`: [`Request::encode`] adds it
    /// when there is a body and none is given).
    pub headers: Vec<Header>,
    /// Body (identity).
    pub body: Vec<u8>,
}

/// How a response body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`.
    Length,
    /// `Transfer-Encoding: chunked`, chunks of about this size.
    Chunked(usize),
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Protocol.
    pub protocol: Vec<u8>,
    /// Status code, three digits.
    pub status: Vec<u8>,
    /// Reason phrase.
    pub reason: Vec<u8>,
    /// Headers in order, without the framing headers.
    pub headers: Vec<Header>,
    /// The body before content coding.
    pub body: Vec<u8>,
    /// gzip the body (`Content-Encoding: gzip`).
    pub gzip: bool,
    /// Framing.
    pub framing: Framing,
}

fn has(headers: &[Header], name: &str) -> bool {
    headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
}

fn put_headers(out: &mut Vec<u8>, headers: &[Header]) {
    for (n, v) in headers {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
}

impl Request {
    /// A GET with no headers.
    pub fn get(uri: &[u8]) -> Request {
        Request {
            method: b"GET".to_vec(),
            uri: uri.to_vec(),
            protocol: b"HTTP/1.1".to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The headers as sent: the given ones, plus `Content-Length` when
    /// there is a body and no length was given.
    pub fn wire_headers(&self) -> Vec<Header> {
        let mut h = self.headers.clone();
        if !self.body.is_empty() && !has(&h, "content-length") {
            h.push((
                b"Content-Length".to_vec(),
                self.body.len().to_string().into_bytes(),
            ));
        }
        h
    }

    /// The request on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(&self.request_line());
        out.extend_from_slice(b"\r\n");
        put_headers(&mut out, &self.wire_headers());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// `METHOD URI PROTOCOL`.
    pub fn request_line(&self) -> Vec<u8> {
        [&self.method[..], b" ", &self.uri, b" ", &self.protocol].concat()
    }
}

impl Response {
    /// A 200 with a `Content-Length` body.
    pub fn ok(body: Vec<u8>) -> Response {
        Response {
            protocol: b"HTTP/1.1".to_vec(),
            status: b"200".to_vec(),
            reason: b"OK".to_vec(),
            headers: Vec::new(),
            body,
            gzip: false,
            framing: Framing::Length,
        }
    }

    /// `PROTOCOL STATUS REASON`.
    pub fn response_line(&self) -> Vec<u8> {
        [&self.protocol[..], b" ", &self.status, b" ", &self.reason].concat()
    }

    /// The body as sent (after content coding, before framing).
    pub fn coded_body(&self) -> Vec<u8> {
        if !self.gzip {
            return self.body.clone();
        }
        let level = if self.body.len() > 64 * 1024 {
            Compression::fast()
        } else {
            Compression::default()
        };
        let mut e = GzEncoder::new(Vec::with_capacity(self.body.len() / 3 + 64), level);
        // Writing to a Vec cannot fail.
        let _ = e.write_all(&self.body);
        e.finish().unwrap_or_default()
    }

    /// The headers as sent, framing headers added.
    pub fn wire_headers(&self, coded_len: usize) -> Vec<Header> {
        let mut h = self.headers.clone();
        if self.gzip && !has(&h, "content-encoding") {
            h.push((b"Content-Encoding".to_vec(), b"gzip".to_vec()));
        }
        match self.framing {
            Framing::Length => {
                if !has(&h, "content-length") {
                    h.push((
                        b"Content-Length".to_vec(),
                        coded_len.to_string().into_bytes(),
                    ));
                }
            }
            Framing::Chunked(_) => h.push((b"Transfer-Encoding".to_vec(), b"chunked".to_vec())),
        }
        h
    }

    /// The response on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let body = self.coded_body();
        let mut out = Vec::with_capacity(256 + body.len() + body.len() / 512);
        out.extend_from_slice(&self.response_line());
        out.extend_from_slice(b"\r\n");
        put_headers(&mut out, &self.wire_headers(body.len()));
        out.extend_from_slice(b"\r\n");
        match self.framing {
            Framing::Length => out.extend_from_slice(&body),
            Framing::Chunked(size) => {
                for c in body.chunks(size.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                    out.extend_from_slice(c);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
        }
        out
    }
}

/// The inspection buffers (sticky buffers) the generator can satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Buf {
    /// `dns.query`: the query name, dotted.
    DnsQuery,
    /// `tls.sni`.
    TlsSni,
    /// `tls.cert_subject`: the leaf's subject, `K=V, K=V`.
    TlsSubject,
    /// `tls.cert_issuer`.
    TlsIssuer,
    /// `tls.certs`: each certificate's DER (any one may match).
    TlsCerts,
    /// `http.method`.
    Method,
    /// `http.uri` (normalised; the generator only writes URIs that
    /// normalisation leaves alone).
    Uri,
    /// `http.uri.raw`.
    UriRaw,
    /// `http.protocol`.
    Protocol,
    /// `http.request_line`.
    RequestLine,
    /// `http.host`: the Host header lowercased.
    Host,
    /// `http.host.raw`.
    HostRaw,
    /// `http.user_agent`.
    UserAgent,
    /// `http.cookie`: Cookie (request) or Set-Cookie (response) value.
    Cookie,
    /// `http.referer`.
    Referer,
    /// `http.accept`.
    Accept,
    /// `http.accept_enc`.
    AcceptEnc,
    /// `http.accept_lang`.
    AcceptLang,
    /// `http.connection`.
    Connection,
    /// `http.content_type` (of the message in the rule's direction).
    ContentType,
    /// `http.content_len`.
    ContentLen,
    /// `http.server`.
    Server,
    /// `http.location`.
    Location,
    /// `http.header`: every header but Cookie/Set-Cookie, `N: V\r\n` each.
    Header,
    /// `http.header_names`: `\r\n`, each name and `\r\n`, then `\r\n`.
    HeaderNames,
    /// `http.start`: request (or status) line, `\r\n`, every header
    /// `N: V\r\n`, `\r\n`.
    Start,
    /// `http.request_body` (`http_client_body`).
    RequestBody,
    /// `http.stat_code`.
    StatCode,
    /// `http.stat_msg`.
    StatMsg,
    /// `http.response_line`.
    ResponseLine,
    /// `file.data` / `http.response_body` on responses: the decoded body.
    ResponseBody,
}

impl Buf {
    /// The buffer of a sticky-buffer keyword or a legacy content modifier.
    pub fn from_keyword(k: &str) -> Option<Buf> {
        Some(match k {
            "dns.query" | "dns_query" => Buf::DnsQuery,
            "tls.sni" | "tls_sni" => Buf::TlsSni,
            "tls.cert_subject" | "tls_cert_subject" => Buf::TlsSubject,
            "tls.cert_issuer" | "tls_cert_issuer" => Buf::TlsIssuer,
            "tls.certs" => Buf::TlsCerts,
            "http.method" | "http_method" => Buf::Method,
            "http.uri" | "http_uri" => Buf::Uri,
            "http.uri.raw" | "http_raw_uri" => Buf::UriRaw,
            "http.protocol" => Buf::Protocol,
            "http.request_line" => Buf::RequestLine,
            "http.host" | "http_host" => Buf::Host,
            "http.host.raw" | "http_raw_host" => Buf::HostRaw,
            "http.user_agent" | "http_user_agent" => Buf::UserAgent,
            "http.cookie" | "http_cookie" => Buf::Cookie,
            "http.referer" => Buf::Referer,
            "http.accept" => Buf::Accept,
            "http.accept_enc" => Buf::AcceptEnc,
            "http.accept_lang" => Buf::AcceptLang,
            "http.connection" => Buf::Connection,
            "http.content_type" | "http_content_type" => Buf::ContentType,
            "http.content_len" => Buf::ContentLen,
            "http.server" => Buf::Server,
            "http.location" => Buf::Location,
            "http.header" | "http_header" => Buf::Header,
            "http.header_names" => Buf::HeaderNames,
            "http.start" => Buf::Start,
            "http.request_body" | "http_client_body" => Buf::RequestBody,
            "http.stat_code" | "http_stat_code" => Buf::StatCode,
            "http.stat_msg" | "http_stat_msg" => Buf::StatMsg,
            "http.response_line" => Buf::ResponseLine,
            "file.data" | "file_data" | "http.response_body" | "http_server_body" => {
                Buf::ResponseBody
            }
            _ => return None,
        })
    }

    /// The buffer a pcre flag letter selects.
    pub fn from_pcre_flag(f: char) -> Option<Buf> {
        Some(match f {
            'U' => Buf::Uri,
            'I' => Buf::UriRaw,
            'H' => Buf::Header,
            'M' => Buf::Method,
            'C' => Buf::Cookie,
            'S' => Buf::StatCode,
            'Y' => Buf::StatMsg,
            'V' => Buf::UserAgent,
            'W' => Buf::Host,
            'Z' => Buf::HostRaw,
            'P' => Buf::RequestBody,
            'Q' => Buf::ResponseBody,
            _ => return None,
        })
    }

    /// The header whose value this buffer is, if it is one.
    pub fn header_name(self) -> Option<&'static str> {
        Some(match self {
            Buf::Host | Buf::HostRaw => "Host",
            Buf::UserAgent => "User-Agent",
            Buf::Referer => "Referer",
            Buf::Accept => "Accept",
            Buf::AcceptEnc => "Accept-Encoding",
            Buf::AcceptLang => "Accept-Language",
            Buf::Connection => "Connection",
            Buf::ContentType => "Content-Type",
            Buf::ContentLen => "Content-Length",
            Buf::Server => "Server",
            Buf::Location => "Location",
            _ => return None,
        })
    }

    /// Protocol the buffer belongs to.
    pub fn proto(self) -> &'static str {
        match self {
            Buf::DnsQuery => "dns",
            Buf::TlsSni | Buf::TlsSubject | Buf::TlsIssuer | Buf::TlsCerts => "tls",
            _ => "http",
        }
    }
}

fn header_value<'a>(headers: &'a [Header], name: &str) -> Option<Vec<u8>> {
    // Duplicates are joined with ", " as libhtp does.
    let vals: Vec<&'a [u8]> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| &v[..])
        .collect();
    (!vals.is_empty()).then(|| vals.join(&b", "[..]))
}

fn header_buf(headers: &[Header], skip: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(skip.as_bytes()) {
            continue;
        }
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn names_buf(headers: &[Header]) -> Vec<u8> {
    let mut out = b"\r\n".to_vec();
    for (n, _) in headers {
        out.extend_from_slice(n);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn start_buf(line: &[u8], headers: &[Header]) -> Vec<u8> {
    let mut out = line.to_vec();
    out.extend_from_slice(b"\r\n");
    put_headers(&mut out, headers);
    out.extend_from_slice(b"\r\n");
    out
}

/// The value of `buf` for a transaction, as Suricata 7 builds it (for the
/// rule direction `to_server`: request-side header buffers; otherwise
/// response-side). `None` when the buffer is absent.
pub fn buffer(buf: Buf, req: &Request, resp: &Response, to_server: bool) -> Option<Vec<u8>> {
    let rh = req.wire_headers();
    let coded = resp.coded_body();
    let sh = resp.wire_headers(coded.len());
    let dir_headers = if to_server { &rh } else { &sh };
    Some(match buf {
        Buf::Method => req.method.clone(),
        Buf::Uri | Buf::UriRaw => req.uri.clone(),
        Buf::Protocol => {
            if to_server {
                req.protocol.clone()
            } else {
                resp.protocol.clone()
            }
        }
        Buf::RequestLine => req.request_line(),
        Buf::Host => header_value(&rh, "host")?.to_ascii_lowercase(),
        Buf::HostRaw => header_value(&rh, "host")?,
        Buf::Cookie => {
            if to_server {
                header_value(&rh, "cookie")?
            } else {
                header_value(&sh, "set-cookie")?
            }
        }
        Buf::UserAgent | Buf::Referer | Buf::Accept | Buf::AcceptEnc | Buf::AcceptLang => {
            header_value(&rh, buf.header_name()?)?
        }
        Buf::Server | Buf::Location => header_value(&sh, buf.header_name()?)?,
        Buf::Connection | Buf::ContentType | Buf::ContentLen => {
            header_value(dir_headers, buf.header_name()?)?
        }
        Buf::Header => {
            if to_server {
                header_buf(&rh, "cookie")
            } else {
                header_buf(&sh, "set-cookie")
            }
        }
        Buf::HeaderNames => names_buf(dir_headers),
        Buf::Start => {
            if to_server {
                start_buf(&req.request_line(), &rh)
            } else {
                start_buf(&resp.response_line(), &sh)
            }
        }
        Buf::RequestBody => {
            if req.body.is_empty() {
                return None;
            }
            req.body.clone()
        }
        Buf::StatCode => resp.status.clone(),
        Buf::StatMsg => resp.reason.clone(),
        Buf::ResponseLine => resp.response_line(),
        Buf::ResponseBody => {
            if resp.body.is_empty() {
                return None;
            }
            resp.body.clone()
        }
        Buf::DnsQuery | Buf::TlsSni | Buf::TlsSubject | Buf::TlsIssuer | Buf::TlsCerts => {
            return None;
        }
    })
}

/// Is `b` an HTTP token (method, header name)?
pub fn is_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c))
}

/// Can `b` be a header value as written (printable, no edge blanks)?
pub fn is_value(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter().all(|c| (0x20..0x7f).contains(c))
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
}

/// Is `b` a request target that libhtp's normalisation leaves unchanged
/// (so `http.uri` equals what was written)?
pub fn is_plain_uri(b: &[u8]) -> bool {
    if b.first() != Some(&b'/') || b.iter().any(|c| !(0x21..0x7f).contains(c)) {
        return false;
    }
    if b.iter().any(|c| matches!(c, b'%' | b'#' | b'\\')) {
        return false;
    }
    let path = b.split(|&c| c == b'?').next().unwrap_or(b);
    let p = [path, b"/"].concat();
    !(p.windows(2).any(|w| w == b"//")
        || p.windows(3).any(|w| w == b"/./")
        || p.windows(4).any(|w| w == b"/../"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request {
            headers: vec![
                (b"Host".to_vec(), b"Example.COM".to_vec()),
                (b"Cookie".to_vec(), b"a=1".to_vec()),
                (b"User-Agent".to_vec(), b"ua".to_vec()),
            ],
            body: b"x=1".to_vec(),
            method: b"POST".to_vec(),
            ..Request::get(b"/a?b=c")
        }
    }

    #[test]
    fn request_bytes_and_buffers() {
        let r = req();
        assert_eq!(
            r.encode(),
            b"POST /a?b=c HTTP/1.1\r\nHost: Example.COM\r\nCookie: a=1\r\nUser-Agent: ua\r\nContent-Length: 3\r\n\r\nx=1"
        );
        let resp = Response::ok(b"hi".to_vec());
        let b = |x| buffer(x, &r, &resp, true).unwrap();
        assert_eq!(b(Buf::Host), b"example.com");
        assert_eq!(
            b(Buf::Header),
            b"Host: Example.COM\r\nUser-Agent: ua\r\nContent-Length: 3\r\n"
        );
        assert_eq!(
            b(Buf::HeaderNames),
            b"\r\nHost\r\nCookie\r\nUser-Agent\r\nContent-Length\r\n\r\n"
        );
        assert_eq!(b(Buf::Cookie), b"a=1");
        assert_eq!(b(Buf::RequestLine), b"POST /a?b=c HTTP/1.1");
        assert_eq!(b(Buf::RequestBody), b"x=1");
        assert_eq!(buffer(Buf::ContentLen, &r, &resp, false).unwrap(), b"2");
    }

    #[test]
    fn response_framings() {
        let mut r = Response::ok(b"hello world".to_vec());
        r.framing = Framing::Chunked(4);
        let e = r.encode();
        assert!(e.ends_with(b"4\r\nhell\r\n4\r\no wo\r\n3\r\nrld\r\n0\r\n\r\n"));
        r.gzip = true;
        r.framing = Framing::Length;
        let e = r.encode();
        let body_at = e.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut d = flate2::read::GzDecoder::new(&e[body_at..]);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut out).unwrap();
        assert_eq!(out, b"hello world");
        assert!(e.starts_with(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "));
    }

    #[test]
    fn plain_uris() {
        assert!(is_plain_uri(b"/a/b.php?x=//y"));
        assert!(!is_plain_uri(b"a"));
        assert!(!is_plain_uri(b"/a//b"));
        assert!(!is_plain_uri(b"/a/./b"));
        assert!(!is_plain_uri(b"/a/.."));
        assert!(!is_plain_uri(b"/a%20"));
        assert!(!is_plain_uri(b"/a b"));
    }
}
