//! Every application-layer buffer and keyword, end to end through `mirador
//! replay`: a table of rows `(keyword, rule, traffic, expected)` in the
//! style of `tests/keywords.rs`, over HTTP, TLS and DNS sessions the test
//! writes itself.
//!
//! Each keyword has a row that alerts and a row that must stay silent
//! although its content is in the traffic, just not in that buffer (the
//! URI's text in a header, the request's in the response, the raw form of
//! a normalized value, the other certificate of the chain), so that a
//! buffer that were ignored, mixed up with another, or built with the
//! wrong layout fails a row. The expected values are Suricata 7's
//! (`detect-http-*.c`, `detect-tls-*.c`, `detect-dns-query.c`,
//! `app-layer-htp-libhtp.c`, libhtp's normalization, `util-ja3.c`,
//! `ja4.rs`, the x509 module): the normalized URI with its query
//! URL-decoded, the host lowercased without port, `http.header` as
//! "Name: value\r\n" without Cookie, dechunked and decompressed bodies,
//! JA3 without GREASE, serials in upper-case hex, fingerprints in
//! lower-case hex, both colon-separated.
//!
//! Rows sharing a traffic run in one replay, each with its own sids. Rows
//! where mirador is known to differ from Suricata are listed in
//! [`KNOWN_WRONG`]: they are reported and skipped, and a listed row that
//! passes fails the test, so the list cannot go stale.
//!
//! The protocol EVE records (`http`, `tls`, `dns`), `app_proto` on flows
//! and alerts, and `tx_id` with the protocol object in alerts are checked
//! per protocol; and the whole table gives the same records with one
//! worker and with three.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::OnceLock;

use common::*;
use md5::Digest as _;
use mirador_testkit::appgen::dns::{self, Rdata};
use mirador_testkit::appgen::http::{Framing, Response};
use mirador_testkit::appgen::tls::{self, Cert};
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::pcaps::Rng;
use serde_json::{Value, json};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;

/// A named traffic scenario (each on its own 5-tuple, so that all of them
/// can share one capture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Traffic {
    /// HTTP on port 80, two transactions on one connection:
    /// tx 0: [`REQ0`] answered by a 302 with a gzip-coded, chunked body
    /// ([`resp0`]); tx 1: [`REQ1`] (an absolute URI) answered by
    /// [`RESP1`] (HTTP/1.0, `Content-Length`).
    Http,
    /// An HTTP/1.1 request without a Host header (`MISSING_HOST_HEADER`).
    HttpNoHost,
    /// HTTP on port 7777 (detected by content, not port).
    HttpPort,
    /// [`ODD_REQ`] (a path to compress, a repeated header, a folded one,
    /// trailing blanks, a chunked body) answered with a deflate-coded body
    /// ([`odd_resp`]).
    HttpOdd,
    /// A TLS 1.2 handshake on port 443: [`client_hello`] with GREASE
    /// values, the server's flight with a two-certificate chain
    /// ([`Vals`]), both Finished, application data.
    Tls,
    /// A TLS 1.3 handshake (testkit's browser-like ClientHello with
    /// supported_versions, SNI `tls13.example.net`, ALPN h2; ServerHello
    /// choosing 1.3; the rest encrypted).
    Tls13,
    /// A ClientHello followed, in the same flight, by a record of an
    /// unknown type (`INVALID_RECORD_TYPE`, while the handshake is still
    /// under way).
    TlsBad,
    /// DNS over UDP: a query for `www.Evil-Domain.com` and its answer, a
    /// CNAME to `cdn.answer-only.net` and that name's A record.
    Dns,
    /// DNS over TCP: a query for `tcp.Example.net` with the Z flag set,
    /// and its answer.
    DnsTcp,
}

use Traffic::*;

impl Traffic {
    const ALL: [Traffic; 9] = [
        Http, HttpNoHost, HttpPort, HttpOdd, Tls, Tls13, TlsBad, Dns, DnsTcp,
    ];
}

/// What a row expects of its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// At least one alert.
    Alerts,
    /// No alert.
    Silent,
    /// Between this many alerts and that many (inclusive).
    Between(usize, usize),
}

use Expect::*;

// ---------------------------------------------------------------------------
// The traffic.

/// The first request. The URI normalizes to `/Shop/ItemA.php?q=Red Shoe`
/// (26 bytes; raw: 40). The User-Agent is 25 bytes with a double space.
/// The body is 40 bytes.
const REQ0: &[u8] = b"POST /Shop/./Cart/../Item%41.php?q=Red%20Shoe HTTP/1.1\r\n\
Host: WWW.Example.COM:8080\r\n\
User-Agent: Agent Smith/2.0  (Tester)\r\n\
Accept: text/x-acceptme\r\n\
Accept-Encoding: gzip, x-encme\r\n\
Accept-Language: xx-LANGME\r\n\
Referer: http://referer.example/from-page\r\n\
Cookie: session=CookieMonster\r\n\
Content-Type: application/x-form-me\r\n\
Connection: keep-alive\r\n\
Content-Length: 40\r\n\
\r\n\
user=alice&pass=Req-Body-Secret&code=200";

/// The first response's decoded body.
const RESP0_BODY: &[u8] = b"<html>Resp-Body-Secret</html>";

/// The first response: 302, gzip, chunked in 10-byte chunks.
fn resp0() -> Response {
    let h = |n: &str, v: &str| (n.as_bytes().to_vec(), v.as_bytes().to_vec());
    Response {
        protocol: b"HTTP/1.1".to_vec(),
        status: b"302".to_vec(),
        reason: b"Found It".to_vec(),
        headers: vec![
            h("Server", "Mirador-Srv/9"),
            h("Location", "/login-here"),
            h("Set-Cookie", "srvcookie=Baked"),
            h("Content-Type", "text/x-resp-type; charset=utf-8"),
        ],
        body: RESP0_BODY.to_vec(),
        gzip: true,
        framing: Framing::Chunked(10),
    }
}

/// The second request: an absolute URI (normalized: `/abs/path?id=7`, 14
/// bytes; raw: 39), the same host in the Host header.
const REQ1: &[u8] = b"GET http://Abs.Example.NET:81/abs/path?id=7 HTTP/1.1\r\n\
Host: abs.example.net:81\r\n\
\r\n";

const RESP1: &[u8] = b"HTTP/1.0 200 OK\r\n\
Content-Type: text/plain\r\n\
Connection: close\r\n\
Content-Length: 12\r\n\
\r\n\
hello tx one";

const NOHOST_REQ: &[u8] = b"GET /nohost HTTP/1.1\r\nUser-Agent: nohost-agent\r\n\r\n";
const NOHOST_RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const PORT_REQ: &[u8] = b"GET /odd-port HTTP/1.1\r\nHost: odd.example\r\n\r\n";
const PORT_RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// libhtp's IDS personality turns `\\` into `/`, compresses `//`, decodes
/// `%2e` and then removes dot segments: the path is `/a/b/d.php`.
const ODD_REQ: &[u8] = b"POST //a\\b//c/%2e%2e/d.php HTTP/1.1\r\n\
Host: odd.example\r\n\
User-Agent: first-ua\r\n\
User-Agent: second-ua\r\n\
X-Folded: part-one\r\n \
part-two\r\n\
Accept: trailing-ws   \r\n\
Transfer-Encoding: chunked\r\n\
\r\n\
5\r\nchunk\r\n6\r\ned-bod\r\n1\r\ny\r\n0\r\n\r\n";

/// A 200 whose body is "deflated-secret" in zlib-wrapped deflate.
fn odd_resp() -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b"deflated-secret").unwrap();
    let body = z.finish().unwrap();
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// The ClientHello's cipher suites: GREASE 0x1a1a first.
const CH_CIPHERS: [u16; 4] = [0x1a1a, 0xc02b, 0xc02f, 0x009c];

fn put16(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    put16(out, data);
}

/// A TLS 1.2 ClientHello (record version 1.0) with GREASE in the cipher
/// suites (0x1a1a), the extensions (0x2a2a, first) and the groups
/// (0x3a3a); extensions SNI, supported_groups, ec_point_formats,
/// signature_algorithms (0x0403, 0x0804), ALPN (h2, http/1.1),
/// extended_master_secret.
fn client_hello(sni: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[0x11; 32]);
    b.push(0);
    let cs: Vec<u8> = CH_CIPHERS.iter().flat_map(|c| c.to_be_bytes()).collect();
    put16(&mut b, &cs);
    b.extend_from_slice(&[1, 0]);
    let mut e = Vec::new();
    ext(&mut e, 0x2a2a, &[]);
    let mut name = vec![0u8];
    put16(&mut name, sni);
    let mut list = Vec::new();
    put16(&mut list, &name);
    ext(&mut e, 0x0000, &list);
    ext(&mut e, 0x000a, &[0, 6, 0x3a, 0x3a, 0, 0x1d, 0, 0x17]);
    ext(&mut e, 0x000b, &[1, 0]);
    ext(&mut e, 0x000d, &[0, 4, 4, 3, 8, 4]);
    ext(&mut e, 0x0010, b"\x00\x0c\x02h2\x08http/1.1");
    ext(&mut e, 0x0017, &[]);
    put16(&mut b, &e);
    let mut hs = vec![1];
    hs.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&b);
    tls::records(tls::content_type::HANDSHAKE, 0x0301, &hs)
}

/// The JA3 string of [`client_hello`] as Suricata writes it (GREASE left
/// out), and the one an implementation that kept GREASE would write.
const JA3_STRING: &str = "771,49195-49199-156,0-10-11-13-16-23,29-23,0";
const JA3_STRING_GREASE: &str = "771,6682-49195-49199-156,10794-0-10-11-13-16-23,14906-29-23,0";
/// The JA3S string of `tls::server_flight(false, 0xc02f, Some("h2"), ..)`:
/// extensions renegotiation_info, extended_master_secret, ALPN.
const JA3S_STRING: &str = "771,49199,65281-23-16";

/// What the rules and checks need from the generated TLS session.
struct Vals {
    /// The server's certificates, leaf first.
    leaf: Vec<u8>,
    ca: Vec<u8>,
    /// The server's flight (TLS 1.2, with the chain).
    server_flight: Vec<u8>,
    client_finish: Vec<u8>,
    server_finish: Vec<u8>,
    app_data: [Vec<u8>; 2],
    /// Placeholders `${NAME}` in rules, and their values.
    subst: HashMap<&'static str, String>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn colon_hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn md5_hex(s: &str) -> String {
    hex(&md5::Md5::digest(s.as_bytes()))
}

fn sha256_12(s: &str) -> String {
    let mut h = hex(&sha2::Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

/// JA4 of [`client_hello`], computed as Suricata's `ja4.rs` does: TCP,
/// TLS 1.2 (no supported_versions), SNI present, 3 ciphers and 6
/// extensions without GREASE, ALPN "h2"; the sorted ciphers; the sorted
/// extensions without SNI and ALPN, then the signature algorithms in
/// order.
fn ja4() -> String {
    let mut ciphers: Vec<u16> = CH_CIPHERS
        .iter()
        .copied()
        .filter(|c| c & 0x0f0f != 0x0a0a)
        .collect();
    ciphers.sort_unstable();
    let b = ciphers
        .iter()
        .map(|c| format!("{c:04x}"))
        .collect::<Vec<_>>()
        .join(",");
    let c = "000a,000b,000d,0017_0403,0804";
    format!("t12d0306h2_{}_{}", sha256_12(&b), sha256_12(c))
}

fn vals() -> &'static Vals {
    static V: OnceLock<Vals> = OnceLock::new();
    V.get_or_init(|| {
        let mut rng = Rng::new(0x5eed);
        let ca = tls::cert_der(
            &Cert {
                serial: vec![0x05],
                issuer: b"C=US, O=Issuer Org, CN=Issuer CA".to_vec(),
                subject: b"C=US, O=Issuer Org, CN=Issuer CA".to_vec(),
                validity: (b"230101000000Z".to_vec(), b"380101000000Z".to_vec()),
                dns_names: Vec::new(),
                ca: true,
                extra: Some(b"ca-cert-marker".to_vec()),
            },
            &mut rng,
        )
        .unwrap();
        // A serial whose first content byte has its high bit set: DER puts
        // a 0x00 in front, which Suricata prints ("00:AB:CD:01").
        let leaf = tls::cert_der(
            &Cert {
                serial: vec![0x00, 0xab, 0xcd, 0x01],
                issuer: b"C=US, O=Issuer Org, CN=Issuer CA".to_vec(),
                subject: b"C=US, O=Leaf Org, CN=leaf.example.com".to_vec(),
                validity: (b"240101000000Z".to_vec(), b"340101000000Z".to_vec()),
                dns_names: vec![b"leaf.example.com".to_vec()],
                ca: false,
                extra: Some(b"leaf-cert-marker".to_vec()),
            },
            &mut rng,
        )
        .unwrap();
        let chain = [leaf.clone(), ca.clone()];
        let server_flight = tls::server_flight(false, 0xc02f, Some(b"h2"), &chain, &mut rng);
        let client_finish = tls::client_finish(false, &mut rng);
        let server_finish = tls::server_finish(&mut rng);
        let app_data = [tls::app_data(300, &mut rng), tls::app_data(900, &mut rng)];
        let leaf_sha1 = colon_hex(&sha1::Sha1::digest(&leaf));
        let ca_sha1 = colon_hex(&sha1::Sha1::digest(&ca));
        // The last 4 bytes of the leaf and the first 4 of the CA: a
        // pattern only a buffer that joined the certificates would hold.
        let seam = [&leaf[leaf.len() - 4..], &ca[..4]]
            .concat()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        let subst = HashMap::from([
            ("JA3_HASH", md5_hex(JA3_STRING)),
            ("JA3_HASH_GREASE", md5_hex(JA3_STRING_GREASE)),
            ("JA3S_HASH", md5_hex(JA3S_STRING)),
            ("JA4", ja4()),
            ("LEAF_SHA1", leaf_sha1.clone()),
            ("LEAF_SHA1_UPPER", leaf_sha1.to_ascii_uppercase()),
            ("CA_SHA1", ca_sha1),
            ("CERT_SEAM", seam),
        ]);
        Vals {
            leaf,
            ca,
            server_flight,
            client_finish,
            server_finish,
            app_data,
            subst,
        }
    })
}

/// A TCP connection: handshake, each message (`true`: from the client) in
/// segments of at most 1400 bytes, each acknowledged by the other side,
/// then FIN from both sides.
fn tcp_session(c: (&str, u16), s: (&str, u16), msgs: &[(bool, &[u8])]) -> Vec<Vec<u8>> {
    tcp_conversation((ip(c.0), c.1), (ip(s.0), s.1), msgs, true)
}

/// A DNS message over TCP: the two-byte length in front.
fn tcp_dns(msg: &[u8]) -> Vec<u8> {
    let mut out = (msg.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    out
}

fn frames(t: Traffic) -> Vec<Vec<u8>> {
    let client = "10.9.0.9";
    match t {
        Http => {
            let r0 = resp0().encode();
            tcp_session(
                (client, 40000),
                ("10.1.0.1", 80),
                &[(true, REQ0), (false, &r0), (true, REQ1), (false, RESP1)],
            )
        }
        HttpNoHost => tcp_session(
            (client, 40001),
            ("10.1.0.1", 80),
            &[(true, NOHOST_REQ), (false, NOHOST_RESP)],
        ),
        HttpPort => tcp_session(
            (client, 40002),
            ("10.1.0.2", 7777),
            &[(true, PORT_REQ), (false, PORT_RESP)],
        ),
        HttpOdd => tcp_session(
            (client, 40005),
            ("10.1.0.1", 80),
            &[(true, ODD_REQ), (false, &odd_resp())],
        ),
        Tls => {
            let v = vals();
            tcp_session(
                (client, 40003),
                ("10.1.0.3", 443),
                &[
                    (true, &client_hello(b"secure.Example.org")),
                    (false, &v.server_flight),
                    (true, &v.client_finish),
                    (false, &v.server_finish),
                    (true, &v.app_data[0]),
                    (false, &v.app_data[1]),
                ],
            )
        }
        Tls13 => {
            let mut rng = Rng::new(13);
            let hello = tls::client_hello(
                &tls::ClientHello {
                    sni: Some(b"tls13.example.net".to_vec()),
                    alpn: vec![b"h2"],
                    tls13: true,
                    ciphers: tls::BROWSER_CIPHERS.to_vec(),
                },
                &mut rng,
            );
            let flight = tls::server_flight(true, 0x1301, None, &[], &mut rng);
            let finish = tls::client_finish(true, &mut rng);
            let data = tls::app_data(500, &mut rng);
            tcp_session(
                (client, 40006),
                ("10.1.0.3", 443),
                &[
                    (true, &hello),
                    (false, &flight),
                    (true, &finish),
                    (false, &data),
                ],
            )
        }
        TlsBad => {
            let mut flight = client_hello(b"bad.example");
            flight.extend_from_slice(&tls::records(0x19, 0x0303, &[0, 0, 0, 0]));
            tcp_session((client, 40004), ("10.1.0.3", 443), &[(true, &flight)])
        }
        Dns => {
            let (c, s) = (ip("10.0.0.5"), ip("10.0.0.53"));
            let name = b"www.Evil-Domain.com";
            let q = dns::query(0x1234, name, dns::TYPE_A).unwrap();
            let r = dns::response(
                0x1234,
                name,
                dns::TYPE_A,
                &[
                    (
                        name.to_vec(),
                        300,
                        Rdata::Cname(b"cdn.answer-only.net".to_vec()),
                    ),
                    (
                        b"cdn.answer-only.net".to_vec(),
                        60,
                        Rdata::A([192, 0, 2, 7]),
                    ),
                ],
                false,
            )
            .unwrap();
            vec![
                FrameSpec::udp(c, s, 5353, 53).payload(q).build().bytes,
                FrameSpec::udp(s, c, 53, 5353).payload(r).build().bytes,
            ]
        }
        DnsTcp => {
            let name = b"tcp.Example.net";
            let mut q = dns::query(0x4321, name, dns::TYPE_A).unwrap();
            q[3] |= 0x40; // Z
            let r = dns::response(
                0x4321,
                name,
                dns::TYPE_A,
                &[(name.to_vec(), 60, Rdata::A([198, 51, 100, 9]))],
                false,
            )
            .unwrap();
            tcp_session(
                ("10.0.0.6", 40053),
                ("10.0.0.53", 53),
                &[(true, &tcp_dns(&q)), (false, &tcp_dns(&r))],
            )
        }
    }
}

fn write_pcap(path: &Path, traffics: &[Traffic]) -> usize {
    let mut records = Vec::new();
    for (k, &t) in traffics.iter().enumerate() {
        let base = T0 + k as u64 * 10_000 * MS;
        for (i, f) in frames(t).into_iter().enumerate() {
            records.push(Record::new(base + i as u64 * MS, f));
        }
    }
    let n = records.len();
    std::fs::write(path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    n
}

// ---------------------------------------------------------------------------
// The table.

/// `(keyword, rules, traffic, expected)`. `rules` is one rule per line, no
/// `sid`: the first line is the rule checked. `${NAME}` is replaced by
/// [`Vals::subst`].
#[rustfmt::skip]
const ROWS: &[(&str, &str, Traffic, Expect)] = &[
    // http.uri: normalized (dot segments removed, %41 decoded, the query
    // URL-decoded), the path of an absolute URI only.
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"/Shop/ItemA.php?q=Red Shoe"; startswith; endswith;)"#, Http, Alerts),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"/abs/path?id=7"; startswith; endswith;)"#, Http, Alerts),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"/odd-port";)"#, HttpPort, Alerts),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"Cart";)"#, Http, Silent),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"%41";)"#, Http, Silent),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"Agent Smith";)"#, Http, Silent),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"example.net"; nocase;)"#, Http, Silent),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"/a/b/d.php"; startswith; endswith;)"#, HttpOdd, Alerts),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"//";)"#, HttpOdd, Silent),
    ("http.uri", r#"alert http any any -> any any (http.uri; content:"/c/";)"#, HttpOdd, Silent),
    // http.uri.raw: as on the request line.
    ("http.uri.raw", r#"alert http any any -> any any (http.uri.raw; content:"/Shop/./Cart/../Item%41.php?q=Red%20Shoe"; startswith; endswith;)"#, Http, Alerts),
    ("http.uri.raw", r#"alert http any any -> any any (http.uri.raw; content:"http://Abs.Example.NET:81/abs/path?id=7"; startswith; endswith;)"#, Http, Alerts),
    ("http.uri.raw", r#"alert http any any -> any any (http.uri.raw; content:"ItemA";)"#, Http, Silent),
    ("http.uri.raw", r#"alert http any any -> any any (http.uri.raw; content:"Red Shoe";)"#, Http, Silent),
    ("http.uri.raw", r#"alert http any any -> any any (http.uri.raw; content:"HTTP/1.1";)"#, Http, Silent),
    // http.method.
    ("http.method", r#"alert http any any -> any any (http.method; content:"POST"; startswith; endswith;)"#, Http, Alerts),
    ("http.method", r#"alert http any any -> any any (http.method; content:"GET"; bsize:3;)"#, Http, Alerts),
    ("http.method", r#"alert http any any -> any any (http.method; content:"HTTP";)"#, Http, Silent),
    ("http.method", r#"alert http any any -> any any (http.method; content:"/Shop";)"#, Http, Silent),
    // http.request_line: without its CRLF.
    ("http.request_line", r#"alert http any any -> any any (http.request_line; content:"POST /Shop/./Cart/../Item%41.php?q=Red%20Shoe HTTP/1.1"; startswith; endswith;)"#, Http, Alerts),
    ("http.request_line", r#"alert http any any -> any any (http.request_line; content:"|0d 0a|";)"#, Http, Silent),
    ("http.request_line", r#"alert http any any -> any any (http.request_line; content:"Host";)"#, Http, Silent),
    ("http.request_line", r#"alert http any any -> any any (http.request_line; content:"HTTP/1.1 302";)"#, Http, Silent),
    // http.host: lowercase, no port; an absolute URI's host wins.
    ("http.host", r#"alert http any any -> any any (http.host; content:"www.example.com"; startswith; endswith;)"#, Http, Alerts),
    ("http.host", r#"alert http any any -> any any (http.host; content:"abs.example.net"; bsize:15;)"#, Http, Alerts),
    ("http.host", r#"alert http any any -> any any (http.host; content:":8080";)"#, Http, Silent),
    ("http.host", r#"alert http any any -> any any (http.host; content:"abs.example.net|3a|81";)"#, Http, Silent),
    ("http.host", r#"alert http any any -> any any (http.host; content:"referer.example";)"#, Http, Silent),
    // http.host.raw: the Host value as sent, port included; for an
    // absolute URI, libhtp's normalized URI hostname (lowercase, no port).
    ("http.host.raw", r#"alert http any any -> any any (http.host.raw; content:"WWW.Example.COM:8080"; startswith; endswith;)"#, Http, Alerts),
    ("http.host.raw", r#"alert http any any -> any any (http.host.raw; content:"abs.example.net"; bsize:15;)"#, Http, Alerts),
    ("http.host.raw", r#"alert http any any -> any any (http.host.raw; content:"www.example.com";)"#, Http, Silent),
    ("http.host.raw", r#"alert http any any -> any any (http.host.raw; content:"Abs.Example.NET";)"#, Http, Silent),
    // http.user_agent.
    ("http.user_agent", r#"alert http any any -> any any (http.user_agent; content:"Agent Smith/2.0  (Tester)"; bsize:25;)"#, Http, Alerts),
    ("http.user_agent", r#"alert http any any -> any any (http.user_agent; content:"User-Agent";)"#, Http, Silent),
    // A repeated header: one value, joined with ", " (libhtp).
    ("http.user_agent", r#"alert http any any -> any any (http.user_agent; content:"first-ua, second-ua"; startswith; endswith;)"#, HttpOdd, Alerts),
    ("http.user_agent", r#"alert http any any -> any any (http.user_agent; content:"second-ua"; startswith;)"#, HttpOdd, Silent),
    ("http.user_agent", r#"alert http any any -> any any (http.user_agent; content:"WWW.Example";)"#, Http, Silent),
    // http.referer, http.accept, http.accept_enc, http.accept_lang: each
    // its own header (Accept, Accept-Encoding, Accept-Language share a
    // prefix).
    ("http.referer", r#"alert http any any -> any any (http.referer; content:"http://referer.example/from-page"; startswith; endswith;)"#, Http, Alerts),
    ("http.referer", r#"alert http any any -> any any (http.referer; content:"Referer";)"#, Http, Silent),
    ("http.referer", r#"alert http any any -> any any (http.referer; content:"/login-here";)"#, Http, Silent),
    ("http.accept", r#"alert http any any -> any any (http.accept; content:"text/x-acceptme"; bsize:15;)"#, Http, Alerts),
    ("http.accept", r#"alert http any any -> any any (http.accept; content:"gzip";)"#, Http, Silent),
    // Trailing blanks are not part of a value.
    ("http.accept", r#"alert http any any -> any any (http.accept; content:"trailing-ws"; bsize:11;)"#, HttpOdd, Alerts),
    ("http.accept", r#"alert http any any -> any any (http.accept; content:"trailing-ws "; )"#, HttpOdd, Silent),
    ("http.accept", r#"alert http any any -> any any (http.accept; content:"xx-LANGME";)"#, Http, Silent),
    ("http.accept_enc", r#"alert http any any -> any any (http.accept_enc; content:"gzip, x-encme"; bsize:13;)"#, Http, Alerts),
    ("http.accept_enc", r#"alert http any any -> any any (http.accept_enc; content:"text/x-acceptme";)"#, Http, Silent),
    ("http.accept_enc", r#"alert http any any -> any any (http.accept_enc; content:"xx-LANGME";)"#, Http, Silent),
    ("http.accept_lang", r#"alert http any any -> any any (http.accept_lang; content:"xx-LANGME"; bsize:9;)"#, Http, Alerts),
    ("http.accept_lang", r#"alert http any any -> any any (http.accept_lang; content:"gzip";)"#, Http, Silent),
    ("http.accept_lang", r#"alert http any any -> any any (http.accept_lang; content:"text/x-acceptme";)"#, Http, Silent),
    // http.request_body.
    ("http.request_body", r#"alert http any any -> any any (http.request_body; content:"user=alice&pass=Req-Body-Secret&code=200"; startswith; endswith;)"#, Http, Alerts),
    ("http.request_body", r#"alert http any any -> any any (http.request_body; content:"Resp-Body-Secret";)"#, Http, Silent),
    ("http.request_body", r#"alert http any any -> any any (http.request_body; content:"Content-Length";)"#, Http, Silent),
    // A chunked request body, dechunked.
    ("http.request_body", r#"alert http any any -> any any (http.request_body; content:"chunked-body"; startswith; endswith;)"#, HttpOdd, Alerts),
    ("http.request_body", r#"alert http any any -> any any (http.request_body; content:"ed-bod|0d 0a|";)"#, HttpOdd, Silent),
    // http.request_header: one instance per header, "Name: value".
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"Host: WWW.Example.COM:8080"; startswith; endswith;)"#, Http, Alerts),
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"Cookie: session=CookieMonster"; startswith; endswith;)"#, Http, Alerts),
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"Host: abs.example.net:81"; startswith; endswith;)"#, Http, Alerts),
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"|0d 0a|";)"#, Http, Silent),
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"keep-alive|0d 0a|Content-Length";)"#, Http, Silent),
    ("http.request_header", r#"alert http any any -> any any (http.request_header; content:"Server: Mirador";)"#, Http, Silent),
    // http.stat_code, http.stat_msg, http.response_line.
    ("http.stat_code", r#"alert http any any -> any any (http.stat_code; content:"302"; bsize:3;)"#, Http, Alerts),
    ("http.stat_code", r#"alert http any any -> any any (http.stat_code; content:"Found";)"#, Http, Silent),
    ("http.stat_code", r#"alert http any any -> any any (http.stat_code; content:"40";)"#, Http, Silent),
    ("http.stat_code", r#"alert http any any -> any any (http.stat_code; content:"HTTP";)"#, Http, Silent),
    ("http.stat_msg", r#"alert http any any -> any any (http.stat_msg; content:"Found It"; startswith; endswith;)"#, Http, Alerts),
    ("http.stat_msg", r#"alert http any any -> any any (http.stat_msg; content:"OK"; bsize:2;)"#, Http, Alerts),
    ("http.stat_msg", r#"alert http any any -> any any (http.stat_msg; content:"302";)"#, Http, Silent),
    ("http.stat_msg", r#"alert http any any -> any any (http.stat_msg; content:"HTTP";)"#, Http, Silent),
    ("http.response_line", r#"alert http any any -> any any (http.response_line; content:"HTTP/1.1 302 Found It"; startswith; endswith;)"#, Http, Alerts),
    ("http.response_line", r#"alert http any any -> any any (http.response_line; content:"HTTP/1.0 200 OK"; startswith; endswith;)"#, Http, Alerts),
    ("http.response_line", r#"alert http any any -> any any (http.response_line; content:"POST";)"#, Http, Silent),
    ("http.response_line", r#"alert http any any -> any any (http.response_line; content:"Server";)"#, Http, Silent),
    ("http.response_line", r#"alert http any any -> any any (http.response_line; content:"|0d 0a|";)"#, Http, Silent),
    // http.server, http.location.
    ("http.server", r#"alert http any any -> any any (http.server; content:"Mirador-Srv/9"; bsize:13;)"#, Http, Alerts),
    ("http.server", r#"alert http any any -> any any (http.server; content:"Server";)"#, Http, Silent),
    ("http.server", r#"alert http any any -> any any (http.server; content:"Agent Smith";)"#, Http, Silent),
    ("http.location", r#"alert http any any -> any any (http.location; content:"/login-here"; bsize:11;)"#, Http, Alerts),
    ("http.location", r#"alert http any any -> any any (http.location; content:"Location";)"#, Http, Silent),
    ("http.location", r#"alert http any any -> any any (http.location; content:"/Shop";)"#, Http, Silent),
    // http.response_body: dechunked and decompressed.
    ("http.response_body", r#"alert http any any -> any any (http.response_body; content:"<html>Resp-Body-Secret</html>"; startswith; endswith;)"#, Http, Alerts),
    ("http.response_body", r#"alert http any any -> any any (http.response_body; content:"hello tx one"; bsize:12;)"#, Http, Alerts),
    ("http.response_body", r#"alert http any any -> any any (http.response_body; content:"Req-Body-Secret";)"#, Http, Silent),
    ("http.response_body", r#"alert http any any -> any any (http.response_body; content:"|1f 8b 08|";)"#, Http, Silent),
    ("http.response_body", r#"alert http any any -> any any (http.response_body; content:"Mirador-Srv";)"#, Http, Silent),
    // http.response_header.
    ("http.response_header", r#"alert http any any -> any any (http.response_header; content:"Server: Mirador-Srv/9"; startswith; endswith;)"#, Http, Alerts),
    ("http.response_header", r#"alert http any any -> any any (http.response_header; content:"Set-Cookie: srvcookie=Baked"; startswith; endswith;)"#, Http, Alerts),
    ("http.response_header", r#"alert http any any -> any any (http.response_header; content:"User-Agent";)"#, Http, Silent),
    ("http.response_header", r#"alert http any any -> any any (http.response_header; content:"|0d 0a|";)"#, Http, Silent),
    // http.header: "Name: value\r\n" each, Cookie (Set-Cookie) left out,
    // no final empty line; the rule's direction picks the side, both
    // without one.
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"Host: WWW.Example.COM:8080|0d 0a|User-Agent: Agent Smith/2.0  (Tester)|0d 0a|"; startswith;)"#, Http, Alerts),
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"from-page|0d 0a|Content-Type: application/x-form-me|0d 0a|";)"#, Http, Alerts),
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"Connection: keep-alive|0d 0a|Content-Length: 40|0d 0a|"; endswith;)"#, Http, Alerts),
    ("http.header", r#"alert http any any -> any any (flow:to_client; http.header; content:"Server: Mirador-Srv/9|0d 0a|Location: /login-here|0d 0a|Content-Type"; startswith;)"#, Http, Alerts),
    ("http.header", r#"alert http any any -> any any (http.header; content:"Server: Mirador-Srv/9";)"#, Http, Alerts),
    ("http.header", r#"alert http any any -> any any (http.header; content:"Cookie";)"#, Http, Silent),
    ("http.header", r#"alert http any any -> any any (http.header; content:"|0d 0a 0d 0a|";)"#, Http, Silent),
    ("http.header", r#"alert http any any -> any any (http.header; content:"POST";)"#, Http, Silent),
    // A repeated header is one line; a folded one is unfolded.
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"|0d 0a|User-Agent: first-ua, second-ua|0d 0a|X-Folded: part-one part-two|0d 0a|Accept: trailing-ws|0d 0a|";)"#, HttpOdd, Alerts),
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"User-Agent: second-ua";)"#, HttpOdd, Silent),
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"part-one|0d 0a|";)"#, HttpOdd, Silent),
    ("http.header", r#"alert http any any -> any any (flow:to_server; http.header; content:"Server: Mirador-Srv/9";)"#, Http, Silent),
    ("http.header", r#"alert http any any -> any any (flow:to_client; http.header; content:"Agent Smith";)"#, Http, Silent),
    // http.header.raw: the header block as received.
    ("http.header.raw", r#"alert http any any -> any any (flow:to_server; http.header.raw; content:"Referer: http://referer.example/from-page|0d 0a|Cookie: session=CookieMonster|0d 0a|";)"#, Http, Alerts),
    ("http.header.raw", r#"alert http any any -> any any (flow:to_client; http.header.raw; content:"Set-Cookie: srvcookie=Baked|0d 0a|";)"#, Http, Alerts),
    ("http.header.raw", r#"alert http any any -> any any (flow:to_server; http.header.raw; content:"POST";)"#, Http, Silent),
    ("http.header.raw", r#"alert http any any -> any any (flow:to_server; http.header.raw; content:"Req-Body-Secret";)"#, Http, Silent),
    ("http.header.raw", r#"alert http any any -> any any (flow:to_client; http.header.raw; content:"Found It";)"#, Http, Silent),
    ("http.header.raw", r#"alert http any any -> any any (flow:to_client; http.header.raw; content:"Agent Smith";)"#, Http, Silent),
    // http.header_names: "\r\n", each name and "\r\n", then "\r\n";
    // Cookie included.
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"|0d 0a|Host|0d 0a|User-Agent|0d 0a|Accept|0d 0a|"; startswith;)"#, Http, Alerts),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"Referer|0d 0a|Cookie|0d 0a|Content-Type|0d 0a|";)"#, Http, Alerts),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"|0d 0a|Connection|0d 0a|Content-Length|0d 0a 0d 0a|"; endswith;)"#, Http, Alerts),
    ("http.header_names", r#"alert http any any -> any any (flow:to_client; http.header_names; content:"|0d 0a|Server|0d 0a|Location|0d 0a|Set-Cookie|0d 0a|"; startswith;)"#, Http, Alerts),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"WWW.Example";)"#, Http, Silent),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"|0d 0a|Host|0d 0a|User-Agent|0d 0a|X-Folded|0d 0a|"; startswith;)"#, HttpOdd, Alerts),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"User-Agent|0d 0a|User-Agent";)"#, HttpOdd, Silent),
    ("http.header_names", r#"alert http any any -> any any (flow:to_server; http.header_names; content:"Server";)"#, Http, Silent),
    ("http.header_names", r#"alert http any any -> any any (flow:to_client; http.header_names; content:"Mirador-Srv";)"#, Http, Silent),
    // http.cookie: Cookie to the server, Set-Cookie to the client.
    ("http.cookie", r#"alert http any any -> any any (flow:to_server; http.cookie; content:"session=CookieMonster"; startswith; endswith;)"#, Http, Alerts),
    ("http.cookie", r#"alert http any any -> any any (flow:to_client; http.cookie; content:"srvcookie=Baked"; startswith; endswith;)"#, Http, Alerts),
    ("http.cookie", r#"alert http any any -> any any (http.cookie; content:"srvcookie=Baked";)"#, Http, Alerts),
    ("http.cookie", r#"alert http any any -> any any (flow:to_server; http.cookie; content:"srvcookie";)"#, Http, Silent),
    ("http.cookie", r#"alert http any any -> any any (flow:to_client; http.cookie; content:"session";)"#, Http, Silent),
    ("http.cookie", r#"alert http any any -> any any (http.cookie; content:"Cookie:";)"#, Http, Silent),
    // http.content_type, http.content_len, http.connection: per side.
    ("http.content_type", r#"alert http any any -> any any (flow:to_server; http.content_type; content:"application/x-form-me"; startswith; endswith;)"#, Http, Alerts),
    ("http.content_type", r#"alert http any any -> any any (flow:to_client; http.content_type; content:"text/x-resp-type|3b| charset=utf-8"; startswith; endswith;)"#, Http, Alerts),
    ("http.content_type", r#"alert http any any -> any any (flow:to_client; http.content_type; content:"text/plain"; bsize:10;)"#, Http, Alerts),
    ("http.content_type", r#"alert http any any -> any any (flow:to_server; http.content_type; content:"text/";)"#, Http, Silent),
    ("http.content_type", r#"alert http any any -> any any (flow:to_client; http.content_type; content:"application";)"#, Http, Silent),
    ("http.content_len", r#"alert http any any -> any any (flow:to_server; http.content_len; content:"40"; bsize:2;)"#, Http, Alerts),
    ("http.content_len", r#"alert http any any -> any any (flow:to_client; http.content_len; content:"12"; bsize:2;)"#, Http, Alerts),
    ("http.content_len", r#"alert http any any -> any any (flow:to_server; http.content_len; content:"12";)"#, Http, Silent),
    ("http.content_len", r#"alert http any any -> any any (flow:to_client; http.content_len; content:"40";)"#, Http, Silent),
    ("http.connection", r#"alert http any any -> any any (flow:to_server; http.connection; content:"keep-alive"; bsize:10;)"#, Http, Alerts),
    ("http.connection", r#"alert http any any -> any any (flow:to_client; http.connection; content:"close"; bsize:5;)"#, Http, Alerts),
    ("http.connection", r#"alert http any any -> any any (flow:to_server; http.connection; content:"close";)"#, Http, Silent),
    ("http.connection", r#"alert http any any -> any any (flow:to_client; http.connection; content:"keep-alive";)"#, Http, Silent),
    // http.protocol: the request's or the response's.
    ("http.protocol", r#"alert http any any -> any any (flow:to_server; http.protocol; content:"HTTP/1.1"; bsize:8;)"#, Http, Alerts),
    ("http.protocol", r#"alert http any any -> any any (flow:to_client; http.protocol; content:"HTTP/1.0"; bsize:8;)"#, Http, Alerts),
    ("http.protocol", r#"alert http any any -> any any (flow:to_server; http.protocol; content:"HTTP/1.0";)"#, Http, Silent),
    ("http.protocol", r#"alert http any any -> any any (http.protocol; content:"POST";)"#, Http, Silent),
    // http.start: the line, CRLF, every header (Cookie too), CRLF.
    ("http.start", r#"alert http any any -> any any (flow:to_server; http.start; content:"POST /Shop/./Cart/../Item%41.php?q=Red%20Shoe HTTP/1.1|0d 0a|Host: WWW.Example.COM:8080|0d 0a|"; startswith;)"#, Http, Alerts),
    ("http.start", r#"alert http any any -> any any (flow:to_server; http.start; content:"Cookie: session=CookieMonster|0d 0a|";)"#, Http, Alerts),
    ("http.start", r#"alert http any any -> any any (flow:to_server; http.start; content:"Content-Length: 40|0d 0a 0d 0a|"; endswith;)"#, Http, Alerts),
    ("http.start", r#"alert http any any -> any any (flow:to_client; http.start; content:"HTTP/1.1 302 Found It|0d 0a|Server: Mirador-Srv/9|0d 0a|"; startswith;)"#, Http, Alerts),
    ("http.start", r#"alert http any any -> any any (flow:to_server; http.start; content:"Req-Body-Secret";)"#, Http, Silent),
    ("http.start", r#"alert http any any -> any any (flow:to_server; http.start; content:"HTTP/1.1 302";)"#, Http, Silent),
    ("http.start", r#"alert http any any -> any any (flow:to_client; http.start; content:"POST";)"#, Http, Silent),
    // file.data: the response body decoded; to the server, a POST body is
    // a file too (Suricata's HtpRequestBodyHandlePOSTorPUT).
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"<html>Resp-Body-Secret</html>"; startswith; endswith;)"#, Http, Alerts),
    ("file.data", r#"alert http any any -> any any (file.data; content:"Resp-Body-Secret";)"#, Http, Alerts),
    ("file.data", r#"alert http any any -> any any (flow:to_server; file.data; content:"Req-Body-Secret";)"#, Http, Alerts),
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"|1f 8b|";)"#, Http, Silent),
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"Req-Body-Secret";)"#, Http, Silent),
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"Transfer-Encoding";)"#, Http, Silent),
    ("file.data", r#"alert http any any -> any any (flow:to_server; file.data; content:"Resp-Body-Secret";)"#, Http, Silent),
    // deflate (zlib-wrapped), decoded.
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"deflated-secret"; bsize:15;)"#, HttpOdd, Alerts),
    ("file.data", r#"alert http any any -> any any (flow:to_client; file.data; content:"|78 9c|";)"#, HttpOdd, Silent),
    // tls.sni: as sent (not lowercased).
    ("tls.sni", r#"alert tls any any -> any any (tls.sni; content:"secure.Example.org"; startswith; endswith;)"#, Tls, Alerts),
    ("tls.sni", r#"alert tls any any -> any any (tls.sni; content:"secure.example.org";)"#, Tls, Silent),
    ("tls.sni", r#"alert tls any any -> any any (tls.sni; content:"leaf.example.com";)"#, Tls, Silent),
    // ja3.*, ja3s.*, ja4.hash.
    ("ja3.hash", r#"alert tls any any -> any any (ja3.hash; content:"${JA3_HASH}"; bsize:32;)"#, Tls, Alerts),
    ("ja3.hash", r#"alert tls any any -> any any (ja3.hash; content:"${JA3_HASH_GREASE}";)"#, Tls, Silent),
    ("ja3.hash", r#"alert tls any any -> any any (ja3.hash; content:"${JA3S_HASH}";)"#, Tls, Silent),
    ("ja3.string", r#"alert tls any any -> any any (ja3.string; content:"771,49195-49199-156,0-10-11-13-16-23,29-23,0"; startswith; endswith;)"#, Tls, Alerts),
    ("ja3.string", r#"alert tls any any -> any any (ja3.string; content:"6682";)"#, Tls, Silent),
    ("ja3.string", r#"alert tls any any -> any any (ja3.string; content:"771,49199,65281";)"#, Tls, Silent),
    ("ja4.hash", r#"alert tls any any -> any any (ja4.hash; content:"${JA4}"; bsize:36;)"#, Tls, Alerts),
    ("ja4.hash", r#"alert tls any any -> any any (ja4.hash; content:"t12d0306h2_"; startswith;)"#, Tls, Alerts),
    ("ja4.hash", r#"alert tls any any -> any any (ja4.hash; content:"t13";)"#, Tls, Silent),
    ("ja4.hash", r#"alert tls any any -> any any (ja4.hash; content:"${JA3_HASH}";)"#, Tls, Silent),
    ("ja3s.hash", r#"alert tls any any -> any any (ja3s.hash; content:"${JA3S_HASH}"; bsize:32;)"#, Tls, Alerts),
    ("ja3s.hash", r#"alert tls any any -> any any (ja3s.hash; content:"${JA3_HASH}";)"#, Tls, Silent),
    ("ja3s.string", r#"alert tls any any -> any any (ja3s.string; content:"771,49199,65281-23-16"; startswith; endswith;)"#, Tls, Alerts),
    ("ja3s.string", r#"alert tls any any -> any any (ja3s.string; content:"49195";)"#, Tls, Silent),
    // Certificates: the leaf's fields, the chain as instances.
    ("tls.cert_subject", r#"alert tls any any -> any any (tls.cert_subject; content:"C=US, O=Leaf Org, CN=leaf.example.com"; startswith; endswith;)"#, Tls, Alerts),
    ("tls.cert_subject", r#"alert tls any any -> any any (tls.cert_subject; content:"Issuer CA";)"#, Tls, Silent),
    ("tls.cert_subject", r#"alert tls any any -> any any (tls.cert_subject; content:"secure.Example.org";)"#, Tls, Silent),
    ("tls.cert_issuer", r#"alert tls any any -> any any (tls.cert_issuer; content:"C=US, O=Issuer Org, CN=Issuer CA"; startswith; endswith;)"#, Tls, Alerts),
    ("tls.cert_issuer", r#"alert tls any any -> any any (tls.cert_issuer; content:"leaf.example.com";)"#, Tls, Silent),
    ("tls.cert_serial", r#"alert tls any any -> any any (tls.cert_serial; content:"00:AB:CD:01"; startswith; endswith;)"#, Tls, Alerts),
    ("tls.cert_serial", r#"alert tls any any -> any any (tls.cert_serial; content:"ab:cd";)"#, Tls, Silent),
    ("tls.cert_serial", r#"alert tls any any -> any any (tls.cert_serial; content:"05"; bsize:2;)"#, Tls, Silent),
    ("tls.cert_fingerprint", r#"alert tls any any -> any any (tls.cert_fingerprint; content:"${LEAF_SHA1}"; bsize:59;)"#, Tls, Alerts),
    ("tls.cert_fingerprint", r#"alert tls any any -> any any (tls.cert_fingerprint; content:"${LEAF_SHA1_UPPER}";)"#, Tls, Silent),
    ("tls.cert_fingerprint", r#"alert tls any any -> any any (tls.cert_fingerprint; content:"${CA_SHA1}";)"#, Tls, Silent),
    ("tls.certs", r#"alert tls any any -> any any (tls.certs; content:"leaf-cert-marker";)"#, Tls, Alerts),
    ("tls.certs", r#"alert tls any any -> any any (tls.certs; content:"ca-cert-marker";)"#, Tls, Alerts),
    ("tls.certs", r#"alert tls any any -> any any (tls.certs; content:"secure.Example.org";)"#, Tls, Silent),
    ("tls.certs", r#"alert tls any any -> any any (tls.certs; content:"|${CERT_SEAM}|";)"#, Tls, Silent),
    // tls.version (detect-tls-version.c): the server's version to the
    // client, the client's to the server (both 1.2 here).
    ("tls.version", r#"alert tls any any -> any any (flow:to_client; tls.version:1.2;)"#, Tls, Alerts),
    ("tls.version", r#"alert tls any any -> any any (flow:to_server; tls.version:1.2;)"#, Tls, Alerts),
    ("tls.version", r#"alert tls any any -> any any (tls.version:1.2;)"#, Tls, Alerts),
    ("tls.version", r#"alert tls any any -> any any (tls.version:1.0;)"#, Tls, Silent),
    ("tls.version", r#"alert tls any any -> any any (tls.version:1.3;)"#, Tls, Silent),
    // TLS 1.3: the ServerHello's supported_versions gives the server 1.3;
    // the client's version is the first valid entry of its
    // supported_versions (app-layer-ssl.c
    // TLSDecodeHSHelloExtensionSupportedVersions), 1.3 too, not the
    // hello's legacy 1.2.
    ("tls.version", r#"alert tls any any -> any any (flow:to_client; tls.version:1.3;)"#, Tls13, Alerts),
    ("tls.version", r#"alert tls any any -> any any (flow:to_server; tls.version:1.3;)"#, Tls13, Alerts),
    ("tls.version", r#"alert tls any any -> any any (flow:to_server; tls.version:1.2;)"#, Tls13, Silent),
    ("tls.version", r#"alert tls any any -> any any (flow:to_client; tls.version:1.2;)"#, Tls13, Silent),
    ("tls.sni", r#"alert tls any any -> any any (tls.sni; content:"tls13.example.net"; bsize:17;)"#, Tls13, Alerts),
    ("ja4.hash", r#"alert tls any any -> any any (ja4.hash; content:"t13d1512h2_"; startswith;)"#, Tls13, Alerts),
    ("tls.cert_subject", r#"alert tls any any -> any any (tls.cert_subject; content:"leaf";)"#, Tls13, Silent),
    // dns.query: the question name as sent (case kept), not the answers.
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:"www.Evil-Domain.com"; startswith; endswith;)"#, Dns, Alerts),
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:"tcp.Example.net"; startswith; endswith;)"#, DnsTcp, Alerts),
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:"answer-only";)"#, Dns, Silent),
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:"www.evil-domain.com";)"#, Dns, Silent),
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:"|03|www";)"#, Dns, Silent),
    ("dns.query", r#"alert dns any any -> any any (dns.query; content:".www."; nocase;)"#, Dns, Silent),
    // bsize.
    ("bsize", r#"alert http any any -> any any (http.user_agent; bsize:25;)"#, Http, Alerts),
    ("bsize", r#"alert http any any -> any any (http.user_agent; bsize:20<>30;)"#, Http, Alerts),
    ("bsize", r#"alert http any any -> any any (http.user_agent; bsize:24;)"#, Http, Silent),
    ("bsize", r#"alert http any any -> any any (http.user_agent; bsize:>25;)"#, Http, Silent),
    ("bsize", r#"alert dns any any -> any any (dns.query; bsize:19;)"#, Dns, Alerts),
    ("bsize", r#"alert dns any any -> any any (dns.query; bsize:18;)"#, Dns, Silent),
    // urilen: the normalized URI's length, or the raw one's.
    ("urilen", r#"alert http any any -> any any (urilen:26;)"#, Http, Alerts),
    ("urilen", r#"alert http any any -> any any (urilen:14;)"#, Http, Alerts),
    ("urilen", r#"alert http any any -> any any (urilen:40,raw;)"#, Http, Alerts),
    ("urilen", r#"alert http any any -> any any (urilen:>38,raw;)"#, Http, Alerts),
    ("urilen", r#"alert http any any -> any any (urilen:40;)"#, Http, Silent),
    ("urilen", r#"alert http any any -> any any (urilen:26,raw;)"#, Http, Silent),
    ("urilen", r#"alert http any any -> any any (urilen:>26;)"#, Http, Silent),
    // Transforms.
    ("dotprefix", r#"alert dns any any -> any any (dns.query; dotprefix; content:".evil-domain.com"; nocase; endswith;)"#, Dns, Alerts),
    ("dotprefix", r#"alert dns any any -> any any (dns.query; dotprefix; content:".www."; nocase; startswith;)"#, Dns, Alerts),
    ("dotprefix", r#"alert tls any any -> any any (tls.sni; dotprefix; content:".example.org"; nocase; endswith;)"#, Tls, Alerts),
    ("dotprefix", r#"alert dns any any -> any any (dns.query; dotprefix; content:".vil-domain.com"; nocase; endswith;)"#, Dns, Silent),
    ("to_lowercase", r#"alert http any any -> any any (http.user_agent; to_lowercase; content:"agent smith/2.0";)"#, Http, Alerts),
    ("to_lowercase", r#"alert dns any any -> any any (dns.query; to_lowercase; content:"www.evil-domain.com"; bsize:19;)"#, Dns, Alerts),
    ("to_lowercase", r#"alert http any any -> any any (http.user_agent; to_lowercase; content:"Agent";)"#, Http, Silent),
    ("to_uppercase", r#"alert http any any -> any any (http.user_agent; to_uppercase; content:"AGENT SMITH/2.0";)"#, Http, Alerts),
    ("to_uppercase", r#"alert http any any -> any any (http.user_agent; to_uppercase; content:"Smith";)"#, Http, Silent),
    ("strip_whitespace", r#"alert http any any -> any any (http.user_agent; strip_whitespace; content:"AgentSmith/2.0(Tester)"; bsize:22;)"#, Http, Alerts),
    ("strip_whitespace", r#"alert http any any -> any any (http.user_agent; strip_whitespace; content:"Agent Smith";)"#, Http, Silent),
    ("compress_whitespace", r#"alert http any any -> any any (http.user_agent; compress_whitespace; content:"Agent Smith/2.0 (Tester)"; bsize:24;)"#, Http, Alerts),
    ("compress_whitespace", r#"alert http any any -> any any (http.user_agent; compress_whitespace; content:"2.0  (";)"#, Http, Silent),
    ("url_decode", r#"alert http any any -> any any (http.uri.raw; url_decode; content:"/Shop/./Cart/../ItemA.php?q=Red Shoe"; startswith; endswith;)"#, Http, Alerts),
    ("url_decode", r#"alert http any any -> any any (http.uri.raw; url_decode; content:"%20";)"#, Http, Silent),
    // app-layer-protocol: detected by content, on any port.
    // A rule with nothing but app-layer-protocol is "protocol detection
    // only" (detect-engine-build.c SignatureIsPDOnly): it matches only on
    // the packets where detection completed (PKT_PROTO_DETECT_TS_DONE,
    // _TC_DONE), one per direction at most.
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:http;)"#, Http, Between(1, 2)),
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:http;)"#, HttpPort, Between(1, 2)),
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:tls;)"#, Tls, Between(1, 2)),
    ("app-layer-protocol", r#"alert udp any any -> any any (app-layer-protocol:dns;)"#, Dns, Between(1, 2)),
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:dns;)"#, DnsTcp, Between(1, 2)),
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:tls;)"#, Http, Silent),
    ("app-layer-protocol", r#"alert tcp any any -> any any (app-layer-protocol:http;)"#, Tls, Silent),
    ("app-layer-protocol", r#"alert ip any any -> any any (app-layer-protocol:dns;)"#, Http, Silent),
    // With a content, on the second request's packet (long after
    // detection): the flow's protocol, negated or not.
    ("app-layer-protocol", r#"alert tcp any any -> any any (flow:to_server; content:"GET http://Abs"; app-layer-protocol:http;)"#, Http, Alerts),
    ("app-layer-protocol", r#"alert tcp any any -> any any (flow:to_server; content:"GET http://Abs"; app-layer-protocol:!tls;)"#, Http, Alerts),
    ("app-layer-protocol", r#"alert tcp any any -> any any (flow:to_server; content:"GET http://Abs"; app-layer-protocol:!http;)"#, Http, Silent),
    ("app-layer-protocol", r#"alert tcp any any -> any any (flow:to_server; content:"GET http://Abs"; app-layer-protocol:tls;)"#, Http, Silent),
    // app-layer-event.
    ("app-layer-event", r#"alert http any any -> any any (app-layer-event:http.missing_host_header;)"#, HttpNoHost, Alerts),
    ("app-layer-event", r#"alert http any any -> any any (app-layer-event:http.missing_host_header;)"#, Http, Silent),
    ("app-layer-event", r#"alert tls any any -> any any (app-layer-event:tls.invalid_record_type;)"#, TlsBad, Alerts),
    ("app-layer-event", r#"alert tls any any -> any any (app-layer-event:tls.invalid_record_type;)"#, Tls, Silent),
    ("app-layer-event", r#"alert dns any any -> any any (app-layer-event:dns.z_flag_set;)"#, DnsTcp, Alerts),
    ("app-layer-event", r#"alert dns any any -> any any (app-layer-event:dns.z_flag_set;)"#, Dns, Silent),
    // Legacy content modifiers (ET Open's `alert tcp` style).
    ("http_uri", r#"alert tcp any any -> any any (content:"/Shop/ItemA.php"; http_uri;)"#, Http, Alerts),
    ("http_uri", r#"alert tcp any any -> any any (content:"Cart"; http_uri;)"#, Http, Silent),
    ("uricontent", r#"alert tcp any any -> any any (uricontent:"/Shop/ItemA.php";)"#, Http, Alerts),
    ("uricontent", r#"alert tcp any any -> any any (uricontent:"Cart";)"#, Http, Silent),
    ("http_raw_uri", r#"alert tcp any any -> any any (content:"/./Cart/../Item%41"; http_raw_uri;)"#, Http, Alerts),
    ("http_raw_uri", r#"alert tcp any any -> any any (content:"ItemA"; http_raw_uri;)"#, Http, Silent),
    ("http_method", r#"alert tcp any any -> any any (content:"POST"; http_method;)"#, Http, Alerts),
    ("http_method", r#"alert tcp any any -> any any (content:"HTTP"; http_method;)"#, Http, Silent),
    ("http_cookie", r#"alert tcp any any -> any any (content:"CookieMonster"; http_cookie;)"#, Http, Alerts),
    ("http_cookie", r#"alert tcp any any -> any any (content:"Cookie:"; http_cookie;)"#, Http, Silent),
    ("http_client_body", r#"alert tcp any any -> any any (content:"Req-Body-Secret"; http_client_body;)"#, Http, Alerts),
    ("http_client_body", r#"alert tcp any any -> any any (content:"Resp-Body-Secret"; http_client_body;)"#, Http, Silent),
    ("http_server_body", r#"alert tcp any any -> any any (content:"Resp-Body-Secret"; http_server_body;)"#, Http, Alerts),
    ("http_server_body", r#"alert tcp any any -> any any (content:"Req-Body-Secret"; http_server_body;)"#, Http, Silent),
    ("http_server_body", r#"alert tcp any any -> any any (content:"|1f 8b|"; http_server_body;)"#, Http, Silent),
    ("http_header", r#"alert tcp any any -> any any (content:"User-Agent: Agent Smith"; http_header;)"#, Http, Alerts),
    ("http_header", r#"alert tcp any any -> any any (content:"session=CookieMonster"; http_header;)"#, Http, Silent),
    ("http_raw_header", r#"alert tcp any any -> any any (content:"Cookie: session=CookieMonster|0d 0a|"; http_raw_header;)"#, Http, Alerts),
    ("http_raw_header", r#"alert tcp any any -> any any (content:"POST /Shop"; http_raw_header;)"#, Http, Silent),
    ("http_stat_code", r#"alert tcp any any -> any any (content:"302"; http_stat_code;)"#, Http, Alerts),
    ("http_stat_code", r#"alert tcp any any -> any any (content:"Found"; http_stat_code;)"#, Http, Silent),
    ("http_stat_msg", r#"alert tcp any any -> any any (content:"Found It"; http_stat_msg;)"#, Http, Alerts),
    ("http_stat_msg", r#"alert tcp any any -> any any (content:"302"; http_stat_msg;)"#, Http, Silent),
    ("http_user_agent", r#"alert tcp any any -> any any (content:"Agent Smith"; http_user_agent;)"#, Http, Alerts),
    ("http_user_agent", r#"alert tcp any any -> any any (content:"User-Agent"; http_user_agent;)"#, Http, Silent),
    ("http_host", r#"alert tcp any any -> any any (content:"www.example.com"; http_host;)"#, Http, Alerts),
    ("http_host", r#"alert tcp any any -> any any (content:"8080"; http_host;)"#, Http, Silent),
    ("http_raw_host", r#"alert tcp any any -> any any (content:"WWW.Example.COM:8080"; http_raw_host;)"#, Http, Alerts),
    ("http_raw_host", r#"alert tcp any any -> any any (content:"www.example.com"; http_raw_host;)"#, Http, Silent),
    // Legacy sticky-buffer names.
    ("file_data", r#"alert http any any -> any any (file_data; content:"Resp-Body-Secret";)"#, Http, Alerts),
    ("file_data", r#"alert http any any -> any any (file_data; content:"|1f 8b|";)"#, Http, Silent),
    ("dns_query", r#"alert dns any any -> any any (dns_query; content:"www.Evil-Domain.com";)"#, Dns, Alerts),
    ("dns_query", r#"alert dns any any -> any any (dns_query; content:"answer-only";)"#, Dns, Silent),
    ("tls_sni", r#"alert tls any any -> any any (tls_sni; content:"secure.Example.org";)"#, Tls, Alerts),
    ("tls_sni", r#"alert tls any any -> any any (tls_sni; content:"leaf.example.com";)"#, Tls, Silent),
    ("ja3_hash", r#"alert tls any any -> any any (ja3_hash; content:"${JA3_HASH}";)"#, Tls, Alerts),
    ("ja3_hash", r#"alert tls any any -> any any (ja3_hash; content:"${JA3S_HASH}";)"#, Tls, Silent),
    // pcre's HTTP buffer flags.
    ("pcre /U", r#"alert http any any -> any any (pcre:"/^\/Shop\/ItemA\.php\?q=Red Shoe$/U";)"#, Http, Alerts),
    ("pcre /U", r#"alert http any any -> any any (pcre:"/Cart/U";)"#, Http, Silent),
    ("pcre /I", r#"alert http any any -> any any (pcre:"/\/\.\/Cart\/\.\.\/Item%41/I";)"#, Http, Alerts),
    ("pcre /I", r#"alert http any any -> any any (pcre:"/ItemA/I";)"#, Http, Silent),
    ("pcre /H", r#"alert http any any -> any any (pcre:"/^Host: WWW\.Example\.COM:8080\r\n/H";)"#, Http, Alerts),
    ("pcre /H", r#"alert http any any -> any any (pcre:"/Cookie/H";)"#, Http, Silent),
    ("pcre /D", r#"alert http any any -> any any (pcre:"/Cookie: session=CookieMonster\r\n/D";)"#, Http, Alerts),
    ("pcre /D", r#"alert http any any -> any any (pcre:"/^POST/D";)"#, Http, Silent),
    ("pcre /M", r#"alert http any any -> any any (pcre:"/^POST$/M";)"#, Http, Alerts),
    ("pcre /M", r#"alert http any any -> any any (pcre:"/Shop/M";)"#, Http, Silent),
    ("pcre /C", r#"alert http any any -> any any (pcre:"/^session=CookieMonster$/C";)"#, Http, Alerts),
    ("pcre /C", r#"alert http any any -> any any (pcre:"/Cookie:/C";)"#, Http, Silent),
    ("pcre /S", r#"alert http any any -> any any (pcre:"/^302$/S";)"#, Http, Alerts),
    ("pcre /S", r#"alert http any any -> any any (pcre:"/Found/S";)"#, Http, Silent),
    ("pcre /Y", r#"alert http any any -> any any (pcre:"/^Found It$/Y";)"#, Http, Alerts),
    ("pcre /Y", r#"alert http any any -> any any (pcre:"/302/Y";)"#, Http, Silent),
    ("pcre /V", r#"alert http any any -> any any (pcre:"/^Agent Smith\/2\.0  \(Tester\)$/V";)"#, Http, Alerts),
    ("pcre /V", r#"alert http any any -> any any (pcre:"/User-Agent/V";)"#, Http, Silent),
    ("pcre /W", r#"alert http any any -> any any (pcre:"/^www\.example\.com$/W";)"#, Http, Alerts),
    ("pcre /W", r#"alert http any any -> any any (pcre:"/8080/W";)"#, Http, Silent),
    ("pcre /Z", r#"alert http any any -> any any (pcre:"/^WWW\.Example\.COM:8080$/Z";)"#, Http, Alerts),
    ("pcre /Z", r#"alert http any any -> any any (pcre:"/^www\.example\.com$/Z";)"#, Http, Silent),
    ("pcre /P", r#"alert http any any -> any any (pcre:"/pass=Req-Body-Secret&/P";)"#, Http, Alerts),
    ("pcre /P", r#"alert http any any -> any any (pcre:"/Resp-Body-Secret/P";)"#, Http, Silent),
    ("pcre /Q", r#"alert http any any -> any any (pcre:"/^<html>Resp-Body-Secret<\/html>$/Q";)"#, Http, Alerts),
    ("pcre /Q", r#"alert http any any -> any any (pcre:"/\x1f\x8b/Q";)"#, Http, Silent),
];

/// Rows (by their rule, as in [`ROWS`], and traffic) where mirador is
/// known to differ from Suricata: skipped with a note. Each is reported to
/// be fixed; a listed row that passes fails the test.
#[rustfmt::skip]
const KNOWN_WRONG: &[(&str, Traffic)] = &[
];

/// The rule text of row `i` with its placeholders replaced.
fn row_text(i: usize) -> String {
    let mut s = ROWS[i].1.to_string();
    for (k, v) in &vals().subst {
        s = s.replace(&format!("${{{k}}}"), v);
    }
    assert!(!s.contains("${"), "unknown placeholder in {s}");
    s
}

/// Row `i`'s rules with their sids: `10 * (i + 1) + line`.
fn row_rules(i: usize) -> Vec<String> {
    row_text(i)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(k, l)| {
            let close = l.rfind(')').expect("a rule ends with ')'");
            format!("{} sid:{};)", &l[..close], row_sid(i) + k as u64)
        })
        .collect()
}

fn row_sid(i: usize) -> u64 {
    10 * (i as u64 + 1)
}

fn write_rules(path: &Path, rows: &[usize]) -> Vec<String> {
    let rules: Vec<String> = rows.iter().flat_map(|&i| row_rules(i)).collect();
    std::fs::write(path, rules.join("\n") + "\n").unwrap();
    rules
}

/// Runs `mirador replay` over `pcap` with `rules` (a file) and checks the
/// run: success, balanced accounting, every rule loaded.
fn run(pcap: &Path, rules: &Path, n_rules: usize, extra: &[&str]) -> Replay {
    let mut args = vec!["--rules", rules.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().unwrap());
    let out = replay(&args);
    assert!(
        out.output.status.success(),
        "replay failed: {}",
        out.stderr()
    );
    out.assert_balanced();
    // A skipped rule would pass every "must not alert" row: all must load.
    assert_eq!(
        out.stats()["detect"]["engines"][0]["rules_loaded"],
        n_rules,
        "not every rule loaded: {}\n{}",
        out.stderr(),
        std::fs::read_to_string(rules).unwrap()
    );
    out
}

fn alert_sids(out: &Replay) -> Vec<u64> {
    out.events("alert")
        .iter()
        .map(|a| a["alert"]["signature_id"].as_u64().unwrap())
        .collect()
}

/// Runs the rows `rows` over `traffic` in one replay; returns a failure
/// line per row whose expectation is not met (or a known-wrong row that
/// passes), and prints a note per known-wrong row.
fn run_group(dir: &Path, traffic: Traffic, rows: &[usize]) -> Vec<String> {
    let name = format!("{traffic:?}");
    let pcap = dir.join(format!("{name}.pcap"));
    let received = write_pcap(&pcap, &[traffic]);
    let rules_path = dir.join(format!("{name}.rules"));
    let rules = write_rules(&rules_path, rows);
    let out = run(&pcap, &rules_path, rules.len(), &[]);
    assert_eq!(
        out.stats()["accounting"]["received"],
        received as u64,
        "{name}"
    );
    let alerts = alert_sids(&out);
    let mut failures = Vec::new();
    for &i in rows {
        let (keyword, rule, _, expect) = ROWS[i];
        let sid = row_sid(i);
        let n = alerts.iter().filter(|&&s| s == sid).count();
        let ok = match expect {
            Alerts => n > 0,
            Silent => n == 0,
            Between(lo, hi) => (lo..=hi).contains(&n),
        };
        let line = format!(
            "keyword `{keyword}`, row {i} (sid {sid}) on {traffic:?}: expected {expect:?}, got {n} alert(s)\n    {}",
            row_text(i)
        );
        match (ok, KNOWN_WRONG.contains(&(rule, traffic))) {
            (true, false) => {}
            (false, false) => failures.push(line),
            (false, true) => eprintln!("KNOWN WRONG (skipped): {line}"),
            (true, true) => failures.push(format!(
                "listed in KNOWN_WRONG but passes now (remove it): {line}"
            )),
        }
    }
    failures
}

#[test]
fn every_buffer_matches_its_own_bytes_only() {
    let dir = tempfile::tempdir().unwrap();
    let failures: Vec<String> = Traffic::ALL
        .iter()
        .flat_map(|&t| {
            let rows: Vec<usize> = (0..ROWS.len()).filter(|&i| ROWS[i].2 == t).collect();
            run_group(dir.path(), t, &rows)
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

#[test]
fn every_buffer_and_keyword_has_a_row_that_alerts_and_one_that_must_not() {
    let mut wanted: Vec<&str> = mirador_detect::buffer::Buffer::ALL
        .iter()
        .map(|b| b.keyword())
        .collect();
    wanted.extend([
        "bsize",
        "urilen",
        "dotprefix",
        "to_lowercase",
        "to_uppercase",
        "strip_whitespace",
        "compress_whitespace",
        "url_decode",
        "tls.version",
        "app-layer-protocol",
        "app-layer-event",
        "http_uri",
        "http_raw_uri",
        "http_method",
        "http_cookie",
        "http_client_body",
        "http_server_body",
        "http_header",
        "http_raw_header",
        "http_stat_code",
        "http_stat_msg",
        "http_user_agent",
        "http_host",
        "http_raw_host",
        "uricontent",
        "file_data",
        "dns_query",
        "tls_sni",
        "ja3_hash",
    ]);
    wanted.extend("UIHDMCSYVWZPQ".chars().map(|c| match c {
        'U' => "pcre /U",
        'I' => "pcre /I",
        'H' => "pcre /H",
        'D' => "pcre /D",
        'M' => "pcre /M",
        'C' => "pcre /C",
        'S' => "pcre /S",
        'Y' => "pcre /Y",
        'V' => "pcre /V",
        'W' => "pcre /W",
        'Z' => "pcre /Z",
        'P' => "pcre /P",
        _ => "pcre /Q",
    }));
    for k in wanted {
        let rows = || ROWS.iter().filter(move |r| r.0 == k);
        assert!(
            rows().any(|r| matches!(r.3, Alerts | Between(1.., _))),
            "`{k}` has no row that alerts"
        );
        assert!(
            rows().any(|r| matches!(r.3, Silent | Between(..))),
            "`{k}` has no row that must not alert"
        );
    }
    // Every row's rule is unique (KNOWN_WRONG names rows by their rule).
    let mut rules: Vec<(&str, Traffic)> = ROWS.iter().map(|r| (r.1, r.2)).collect();
    rules.sort_unstable_by_key(|r| (r.0, format!("{:?}", r.1)));
    rules.dedup();
    assert_eq!(rules.len(), ROWS.len(), "a row is repeated");
    for &(rule, t) in KNOWN_WRONG {
        assert!(
            ROWS.iter().any(|r| r.1 == rule && r.2 == t),
            "KNOWN_WRONG names no row: {rule} on {t:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// EVE records.

/// Replays `traffic` with `rules` (sids given); returns the output.
fn replay_with(dir: &Path, traffic: Traffic, rules: &str) -> Replay {
    let pcap = dir.join("t.pcap");
    write_pcap(&pcap, &[traffic]);
    let rules_path = dir.join("t.rules");
    std::fs::write(&rules_path, rules).unwrap();
    run(&pcap, &rules_path, rules.lines().count(), &[])
}

/// The only record of `event_type` with `tx_id`.
fn one<'a>(out: &'a Replay, event_type: &str, tx_id: u64) -> &'a Value {
    let r: Vec<&Value> = out
        .events(event_type)
        .into_iter()
        .filter(|r| r["tx_id"] == tx_id)
        .collect();
    assert_eq!(r.len(), 1, "one {event_type} record for tx {tx_id}: {r:?}");
    r[0]
}

/// The only alert of `sid`.
fn alert_of(out: &Replay, sid: u64) -> &Value {
    let a: Vec<&Value> = out
        .events("alert")
        .into_iter()
        .filter(|a| a["alert"]["signature_id"] == sid)
        .collect();
    assert_eq!(a.len(), 1, "one alert of sid {sid}");
    a[0]
}

/// `got`'s members named in `want` equal `want`'s.
fn assert_members(what: &str, got: &Value, want: &Value) {
    let mut bad = Vec::new();
    for (k, v) in want.as_object().unwrap() {
        if &got[k] != v {
            bad.push(format!("{k}: got {}, expected {v}", got[k]));
        }
    }
    assert!(bad.is_empty(), "{what}:\n{}\nin {got}", bad.join("\n"));
}

/// The flow record of the flow to `dest_port`.
fn flow_to(out: &Replay, port: u64) -> &Value {
    let f: Vec<&Value> = out
        .events("flow")
        .into_iter()
        .filter(|f| f["dest_port"] == port)
        .collect();
    assert_eq!(f.len(), 1, "one flow record to port {port}");
    f[0]
}

#[test]
fn http_records_one_per_transaction_with_suricatas_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay_with(
        dir.path(),
        Http,
        "alert http any any -> any any (http.uri; content:\"/Shop/ItemA.php\"; sid:1;)\n\
         alert http any any -> any any (http.uri; content:\"/abs/path\"; sid:2;)\n\
         alert http any any -> any any (http.stat_code; content:\"302\"; sid:3;)\n",
    );
    assert_eq!(
        out.events("http").len(),
        2,
        "one http record per transaction"
    );
    // `length` is libhtp's response_message_len: the body as sent,
    // still gzip-coded, with the chunk framing counted (htp_response.c
    // adds each chunk-length line and each chunk's CRLF) but not the
    // final empty line.
    let r0_wire = resp0().encode();
    let body_at = r0_wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let msg_len = r0_wire.len() - body_at - 2;
    let r0 = one(&out, "http", 0);
    assert_members(
        "http record of tx 0",
        r0,
        &json!({"src_ip": "10.9.0.9", "src_port": 40000, "dest_ip": "10.1.0.1", "dest_port": 80, "proto": "TCP"}),
    );
    assert_members(
        "http object of tx 0",
        &r0["http"],
        &json!({
            "hostname": "www.example.com",
            "http_port": 8080,
            "url": "/Shop/./Cart/../Item%41.php?q=Red%20Shoe",
            "http_user_agent": "Agent Smith/2.0  (Tester)",
            "http_content_type": "text/x-resp-type",
            "http_refer": "http://referer.example/from-page",
            "http_method": "POST",
            "protocol": "HTTP/1.1",
            "status": 302,
            "redirect": "/login-here",
            "length": msg_len,
        }),
    );
    let r1 = one(&out, "http", 1);
    assert_members(
        "http object of tx 1",
        &r1["http"],
        &json!({
            "hostname": "abs.example.net",
            "http_port": 81,
            "url": "http://Abs.Example.NET:81/abs/path?id=7",
            "http_content_type": "text/plain",
            "http_method": "GET",
            "protocol": "HTTP/1.1",
            "status": 200,
            "length": 12,
        }),
    );
    for absent in ["http_user_agent", "http_refer", "redirect"] {
        assert!(r1["http"].get(absent).is_none(), "tx 1 has no {absent}");
    }
    // Alerts: app_proto, the transaction's id and its http object.
    for (sid, tx, url) in [
        (1, 0, "/Shop/./Cart/../Item%41.php?q=Red%20Shoe"),
        (2, 1, "http://Abs.Example.NET:81/abs/path?id=7"),
        (3, 0, "/Shop/./Cart/../Item%41.php?q=Red%20Shoe"),
    ] {
        let a = alert_of(&out, sid);
        assert_members(
            &format!("alert of sid {sid}"),
            a,
            &json!({"app_proto": "http", "tx_id": tx}),
        );
        assert_eq!(a["http"]["url"], url, "sid {sid}: {a}");
        assert!(a["http"]["http_method"].is_string(), "sid {sid}: {a}");
    }
    // The response-side alert carries the response's fields too.
    assert_eq!(alert_of(&out, 3)["http"]["status"], 302);
    assert_eq!(flow_to(&out, 80)["app_proto"], "http");
}

#[test]
fn http_on_another_port_is_http() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay_with(
        dir.path(),
        HttpPort,
        "alert http any any -> any any (http.uri; content:\"/odd-port\"; sid:1;)\n",
    );
    assert_eq!(out.events("http").len(), 1);
    assert_eq!(one(&out, "http", 0)["http"]["hostname"], "odd.example");
    assert_eq!(alert_of(&out, 1)["app_proto"], "http");
    assert_eq!(flow_to(&out, 7777)["app_proto"], "http");
}

#[test]
fn tls_record_one_per_session_with_suricatas_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay_with(
        dir.path(),
        Tls,
        "alert tls any any -> any any (tls.sni; content:\"secure\"; sid:1;)\n\
         alert tls any any -> any any (tls.cert_subject; content:\"Leaf Org\"; sid:2;)\n\
         alert tls any any -> any any (ja3.hash; content:\"0\"; sid:3;)\n",
    );
    let v = vals();
    assert_eq!(out.events("tls").len(), 1, "one tls record per session");
    let r = one(&out, "tls", 0);
    assert_members(
        "tls record",
        r,
        &json!({"src_ip": "10.9.0.9", "dest_ip": "10.1.0.3", "dest_port": 443}),
    );
    assert_members(
        "tls object",
        &r["tls"],
        &json!({
            "subject": "C=US, O=Leaf Org, CN=leaf.example.com",
            "issuerdn": "C=US, O=Issuer Org, CN=Issuer CA",
            "serial": "00:AB:CD:01",
            "fingerprint": v.subst["LEAF_SHA1"],
            "sni": "secure.Example.org",
            "version": "TLS 1.2",
            "notbefore": "2024-01-01T00:00:00",
            "notafter": "2034-01-01T00:00:00",
        }),
    );
    // JA3 is logged when enabled (a rule uses it, as here): then with
    // Suricata's values.
    if let Some(j) = r["tls"].get("ja3") {
        assert_eq!(
            j,
            &json!({"hash": v.subst["JA3_HASH"], "string": JA3_STRING})
        );
    }
    if let Some(j) = r["tls"].get("ja3s") {
        assert_eq!(
            j,
            &json!({"hash": v.subst["JA3S_HASH"], "string": JA3S_STRING})
        );
    }
    if let Some(j) = r["tls"].get("ja4") {
        assert_eq!(j, &json!(v.subst["JA4"]));
    }
    for sid in [1, 2, 3] {
        let a = alert_of(&out, sid);
        assert_members(
            &format!("alert of sid {sid}"),
            a,
            &json!({"app_proto": "tls", "tx_id": 0}),
        );
        assert_eq!(a["tls"]["sni"], "secure.Example.org", "sid {sid}: {a}");
    }
    assert_eq!(
        alert_of(&out, 2)["tls"]["subject"],
        "C=US, O=Leaf Org, CN=leaf.example.com"
    );
    assert_eq!(flow_to(&out, 443)["app_proto"], "tls");
    // The certificates are what the checks assume.
    assert!(v.leaf.windows(16).any(|w| w == b"leaf-cert-marker"));
    assert!(v.ca.windows(14).any(|w| w == b"ca-cert-marker"));
}

#[test]
fn dns_records_one_per_transaction_with_suricatas_fields() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay_with(
        dir.path(),
        Dns,
        "alert dns any any -> any any (dns.query; content:\"Evil\"; sid:1;)\n",
    );
    // Suricata 7: the query and the response are two transactions, one
    // record each.
    assert_eq!(out.events("dns").len(), 2, "one dns record per transaction");
    let q = one(&out, "dns", 0);
    assert_members(
        "query record",
        q,
        &json!({"src_ip": "10.0.0.5", "src_port": 5353, "dest_ip": "10.0.0.53", "dest_port": 53, "proto": "UDP"}),
    );
    assert_members(
        "query object",
        &q["dns"],
        &json!({"type": "query", "id": 0x1234, "rrname": "www.Evil-Domain.com", "rrtype": "A", "tx_id": 0, "opcode": 0}),
    );
    // The answer record too is written in the flow's direction
    // (output-json-dns.c: CreateEveHeader(p, LOG_DIR_FLOW, "dns", ..)).
    let r = one(&out, "dns", 1);
    assert_members(
        "answer record",
        r,
        &json!({"src_ip": "10.0.0.5", "src_port": 5353, "dest_ip": "10.0.0.53", "dest_port": 53}),
    );
    assert_members(
        "answer object",
        &r["dns"],
        &json!({
            "version": 2,
            "type": "answer",
            "id": 0x1234,
            "flags": "8180",
            "qr": true,
            "rd": true,
            "ra": true,
            "opcode": 0,
            "rrname": "www.Evil-Domain.com",
            "rrtype": "A",
            "rcode": "NOERROR",
            "answers": [
                {"rrname": "www.Evil-Domain.com", "rrtype": "CNAME", "ttl": 300, "rdata": "cdn.answer-only.net"},
                {"rrname": "cdn.answer-only.net", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.7"},
            ],
            "grouped": {"CNAME": ["cdn.answer-only.net"], "A": ["192.0.2.7"]},
        }),
    );
    let a = alert_of(&out, 1);
    assert_members("dns alert", a, &json!({"app_proto": "dns", "tx_id": 0}));
    assert_members(
        "dns alert's query",
        &a["dns"]["query"][0],
        &json!({"type": "query", "id": 0x1234, "rrname": "www.Evil-Domain.com", "rrtype": "A", "tx_id": 0}),
    );
    assert_eq!(flow_to(&out, 53)["app_proto"], "dns");
}

#[test]
fn dns_over_tcp_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay_with(
        dir.path(),
        DnsTcp,
        "alert dns any any -> any any (app-layer-event:dns.z_flag_set; sid:1;)\n",
    );
    // The request's Z flag; a rule without a direction alerts once per
    // transaction.
    assert_eq!(out.events("dns").len(), 2, "one dns record per transaction");
    assert_members(
        "query over TCP",
        &one(&out, "dns", 0)["dns"],
        &json!({"type": "query", "id": 0x4321, "rrname": "tcp.Example.net", "rrtype": "A"}),
    );
    assert_members(
        "answer over TCP",
        &one(&out, "dns", 1)["dns"],
        &json!({"type": "answer", "id": 0x4321, "rcode": "NOERROR", "grouped": {"A": ["198.51.100.9"]}}),
    );
    assert_members(
        "dns alert",
        alert_of(&out, 1),
        &json!({"app_proto": "dns", "tx_id": 0, "proto": "TCP"}),
    );
    assert_eq!(
        alert_of(&out, 1)["dns"]["query"][0]["rrname"],
        "tcp.Example.net"
    );
    assert_eq!(flow_to(&out, 53)["app_proto"], "dns");
}

/// A record with what may differ between runs removed: nothing here (the
/// `stats` records, which carry per-worker counters, are left out).
fn records_of(out: &Replay) -> Vec<String> {
    let mut v: Vec<String> = out
        .records
        .iter()
        .filter(|r| r["event_type"] != "stats")
        .map(|r| r.to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn one_worker_and_three_give_the_same_alerts_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("all.pcap");
    write_pcap(&pcap, &Traffic::ALL);
    let rules_path = dir.path().join("all.rules");
    let all: Vec<usize> = (0..ROWS.len()).collect();
    let n = write_rules(&rules_path, &all).len();
    let one = run(&pcap, &rules_path, n, &["--workers", "1"]);
    let three = run(&pcap, &rules_path, n, &["--workers", "3"]);
    let (a, b) = (records_of(&one), records_of(&three));
    for kind in ["alert", "http", "tls", "dns", "flow"] {
        assert!(
            !one.events(kind).is_empty(),
            "the capture gives {kind} records"
        );
    }
    if a != b {
        let only_a: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(5).collect();
        let only_b: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(5).collect();
        panic!(
            "--workers 1 and 3 differ ({} vs {} records)\nonly with 1: {only_a:#?}\nonly with 3: {only_b:#?}",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn file_digests_from_a_list_beside_the_rules() {
    // RESP1's body is the second transaction's file; its MD5 and SHA-256
    // are listed (with a comment and another digest) beside the rules.
    let body = &RESP1[RESP1.len() - 12..];
    let md5 = hex(&md5::Md5::digest(body));
    let sha256 = hex(&sha2::Sha256::digest(body));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("md5.list"),
        format!("# known files\n{md5}  hello.txt\n{}\n", "0".repeat(32)),
    )
    .unwrap();
    std::fs::write(dir.path().join("sha256.list"), format!("{sha256}\n")).unwrap();
    std::fs::write(
        dir.path().join("other.list"),
        format!("{}\n", "1".repeat(32)),
    )
    .unwrap();
    let out = replay_with(
        dir.path(),
        Http,
        "alert http any any -> any any (filemd5:md5.list; sid:1;)\n\
         alert http any any -> any any (filesha256:sha256.list; sid:2;)\n\
         alert http any any -> any any (filemd5:other.list; sid:3;)\n\
         alert http any any -> any any (flow:to_client; filemd5:!other.list; sid:4;)\n",
    );
    let sids: Vec<u64> = out
        .events("alert")
        .iter()
        .map(|a| a["alert"]["signature_id"].as_u64().unwrap())
        .collect();
    // 1 and 2 on the listed file (transaction 1) only; 4 on both
    // responses, neither of which is listed in other.list.
    let count = |s: u64| sids.iter().filter(|&&x| x == s).count();
    assert_eq!(
        (count(1), count(2), count(3), count(4)),
        (1, 1, 0, 2),
        "{sids:?}"
    );
    assert_eq!(alert_of(&out, 1)["tx_id"], 1);
}

#[test]
fn encrypted_tls_payload_is_not_inspected_by_content_rules_by_default() {
    // The server's application data (an encrypted record) as a content,
    // and a payload-free rule on the same flow.
    let v = vals();
    let needle: String = v.app_data[1][10..22]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let rules = format!(
        "alert tcp any 443 -> any any (flow:to_client; content:\"|{needle}|\"; sid:1;)\n\
         alert tcp any 443 -> any any (flow:to_client; flags:A; sid:2;)\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("t.pcap");
    write_pcap(&pcap, &[Tls]);
    let rules_path = dir.path().join("t.rules");
    std::fs::write(&rules_path, &rules).unwrap();
    let default = run(&pcap, &rules_path, 2, &[]);
    let sids = alert_sids(&default);
    assert!(!sids.contains(&1) && sids.contains(&2), "{sids:?}");
    let full = run(
        &pcap,
        &rules_path,
        2,
        &["--set", "app-layer.protocols.tls.encryption-handling=full"],
    );
    assert!(alert_sids(&full).contains(&1));
}
