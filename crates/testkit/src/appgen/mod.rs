//! A large application-layer workload: HTTP/1.1, TLS and DNS sessions in
//! realistic proportions, mirrored through VXLAN as AWS Traffic Mirroring
//! sends them, with a few percent of sessions built to make given rules
//! (ET Open) alert. For measuring mirador against Suricata on HTTP, TLS and
//! DNS detection (`gen-app`, see `BENCHMARKS.md`).
//!
//! # What a capture holds
//!
//! - **DNS over UDP** (the most numerous sessions): a query (A, AAAA) from
//!   a VPC host to the VPC resolver and its response: addresses, CNAME
//!   chains, some NXDOMAIN.
//! - **HTTP/1.1 over TCP**: keep-alive connections with one to eight
//!   requests (GET, some POST with form or JSON bodies), browser-like
//!   headers (Host, User-Agent, Accept, Accept-Language, Accept-Encoding,
//!   Cookie, Referer), responses with `Content-Length` or chunked bodies,
//!   text bodies often gzip-compressed, some 304 and 404; mostly outbound,
//!   some inbound to VPC web servers.
//! - **TLS over TCP**: ClientHello (SNI, ALPN, supported groups, signature
//!   algorithms; TLS 1.3 offers key share and supported versions),
//!   ServerHello, for TLS 1.2 a certificate chain (X.509 DER built here,
//!   random keys and signatures), key exchange and Finished, then
//!   application-data records both ways.
//! - **Triggers** ([`derive`]): sessions carrying what a rule inspects.
//!
//! Every TCP conversation has a handshake, MSS-sized segments with running
//! sequence numbers, delayed ACKs and a FIN close ([`wire::Tcp`]). Sessions
//! start as a Poisson process whose rate keeps the capture near the asked
//! bandwidth; packets of overlapping sessions interleave in time order.
//! Most bytes are HTTP bodies and TLS application data. The output is
//! deterministic for a seed and a rule set.

pub mod content;
pub mod derive;
pub mod dns;
pub mod http;
pub mod tls;
pub mod wire;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use derive::{Kind, Side, Trigger};
use http::{Framing, Header, Request, Response};
use wire::{Mirror, Peer, Tcp};

use crate::pcaps::{Rng, T0_NS};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of every random choice.
    pub seed: u64,
    /// Stop once the capture reaches this many bytes (0: no limit).
    pub target_bytes: u64,
    /// Stop after this many sessions (0: no limit).
    pub max_sessions: u64,
    /// Share of sessions that are triggers, in percent.
    pub trigger_pct: f64,
    /// Average mirrored bandwidth, bit/s (sets the session arrival rate).
    pub rate_bps: f64,
    /// Trigger sessions to cycle through.
    pub triggers: Vec<Trigger>,
    /// External addresses never to use (the rules' address lists).
    pub avoid: Vec<mirador_rules::IpSet>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            target_bytes: 0,
            max_sessions: 1000,
            trigger_pct: 3.0,
            rate_bps: 20e6,
            triggers: Vec::new(),
            avoid: Vec::new(),
        }
    }
}

/// Session kinds, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// DNS.
    Dns = 0,
    /// HTTP.
    Http = 1,
    /// TLS.
    Tls = 2,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Packets.
    pub packets: u64,
    /// Bytes of the pcap file.
    pub bytes: u64,
    /// Sessions per [`Proto`].
    pub sessions: [u64; 3],
    /// Trigger sessions per [`Proto`].
    pub trigger_sessions: [u64; 3],
    /// Frame bytes per [`Proto`].
    pub proto_bytes: [u64; 3],
    /// HTTP transactions.
    pub http_requests: u64,
    /// First and last timestamps, ns.
    pub span_ns: (u64, u64),
}

/// One planned trigger session, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The rule.
    pub sid: u32,
    /// Protocol.
    pub proto: &'static str,
    /// Client.
    pub client: Peer,
    /// Server.
    pub server: Peer,
    /// Session start, ns.
    pub ts: u64,
}

/// The sensor's address (outer destination of every mirrored packet).
pub const SENSOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
/// The VPC resolver.
pub const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The mirror sessions' VNIs (one per group of ENIs).
pub const VNIS: [u32; 3] = [4001, 4002, 4003];

impl Rng {
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-12);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Log-normal with this median, shape `sigma`, capped.
    fn lognormal(&mut self, median: f64, sigma: f64, cap: usize) -> usize {
        ((median * (sigma * self.normal()).exp()) as usize).clamp(1, cap)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next_u64() % xs.len() as u64) as usize]
    }
    fn exp(&mut self) -> f64 {
        -(1.0 - self.f64()).max(1e-12).ln()
    }
}

const DOMAINS: &[&str] = &[
    "amazon.com",
    "amazonaws.com",
    "cloudfront.net",
    "google.com",
    "googleapis.com",
    "gstatic.com",
    "microsoft.com",
    "windowsupdate.com",
    "office.com",
    "live.com",
    "apple.com",
    "icloud.com",
    "github.com",
    "githubusercontent.com",
    "npmjs.org",
    "pypi.org",
    "docker.io",
    "ubuntu.com",
    "debian.org",
    "cloudflare.com",
    "akamaized.net",
    "fastly.net",
    "slack.com",
    "zoom.us",
    "salesforce.com",
    "okta.com",
    "atlassian.net",
    "datadoghq.com",
    "newrelic.com",
    "sentry.io",
    "stripe.com",
    "twilio.com",
    "wikipedia.org",
    "nytimes.com",
    "bbc.co.uk",
    "cnn.com",
    "reddit.com",
    "linkedin.com",
    "yahoo.com",
    "bing.com",
    "adobe.com",
    "oracle.com",
    "ibm.com",
    "intel.com",
    "nvidia.com",
    "mozilla.org",
    "example-shop.com",
    "acme-corp.net",
    "internal-api.example.com",
    "s3.us-east-1.amazonaws.com",
];

const SUBS: &[&str] = &[
    "www",
    "api",
    "cdn",
    "static",
    "img",
    "assets",
    "login",
    "auth",
    "app",
    "m",
    "update",
    "download",
    "edge",
    "media",
    "data",
    "telemetry",
    "ws",
    "v2.api",
    "eu.api",
    "files",
];

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "that",
    "this",
    "be",
    "are",
    "was",
    "it",
    "an",
    "or",
    "which",
    "service",
    "account",
    "order",
    "customer",
    "product",
    "price",
    "shipping",
    "cloud",
    "region",
    "instance",
    "network",
    "security",
    "update",
    "version",
    "release",
    "notes",
    "support",
    "documentation",
    "search",
    "results",
    "page",
    "news",
    "world",
    "business",
    "technology",
    "data",
    "report",
    "market",
];

const UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
    "aws-sdk-go/1.51.21 (go1.22.2; linux; amd64)",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10 lang/python#3.11.8",
    "okhttp/4.12.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
];

const SERVERS: &[&str] = &[
    "nginx",
    "Apache",
    "cloudflare",
    "AmazonS3",
    "Microsoft-IIS/10.0",
    "gws",
    "envoy",
];

/// Root and intermediate CAs of the background chains.
const CAS: &[(&str, &str)] = &[
    (
        "C=US, O=Let's Encrypt, CN=R11",
        "C=US, O=Internet Security Research Group, CN=ISRG Root X1",
    ),
    (
        "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert Global Root G2",
    ),
    (
        "C=US, O=Amazon, CN=Amazon RSA 2048 M02",
        "C=US, O=Amazon, CN=Amazon Root CA 1",
    ),
    (
        "C=US, O=Google Trust Services, CN=WR2",
        "C=US, O=Google Trust Services LLC, CN=GTS Root R1",
    ),
    (
        "C=GB, ST=Greater Manchester, L=Salford, O=Sectigo Limited, CN=Sectigo RSA Domain Validation Secure Server CA",
        "C=US, ST=New Jersey, L=Jersey City, O=The USERTRUST Network, CN=USERTrust RSA Certification Authority",
    ),
];

/// External address blocks the background draws servers from (large
/// CDN and cloud ranges).
const EXTERNAL_BLOCKS: &[(u8, u8)] = &[
    (13, 32),
    (13, 224),
    (18, 160),
    (23, 32),
    (34, 117),
    (35, 186),
    (52, 84),
    (52, 216),
    (54, 230),
    (104, 16),
    (104, 18),
    (142, 250),
    (151, 101),
    (172, 217),
    (199, 232),
    (185, 199),
    (140, 82),
    (157, 240),
    (20, 42),
    (40, 126),
];

/// Address pools.
struct Pools {
    clients: Vec<IpAddr>,
    web_servers: Vec<IpAddr>,
    external: Vec<IpAddr>,
    /// Next ephemeral port per client index.
    ports: Vec<u16>,
}

impl Pools {
    fn new(rng: &mut Rng, avoid: &[mirador_rules::IpSet]) -> Pools {
        let mut clients = Vec::new();
        for net in 1..=8u8 {
            for host in (10..250u8).step_by(4) {
                clients.push(IpAddr::V4(Ipv4Addr::new(10, 0, net, host)));
            }
        }
        let web_servers = (10..40u8)
            .map(|h| IpAddr::V4(Ipv4Addr::new(10, 0, 20, h)))
            .collect();
        let mut external = Vec::new();
        while external.len() < 400 {
            let &(a, b) = rng.pick(EXTERNAL_BLOCKS);
            let ip = IpAddr::V4(Ipv4Addr::new(
                a,
                b,
                rng.range(0, 256) as u8,
                rng.range(1, 255) as u8,
            ));
            if !avoid.iter().any(|s| s.contains(ip)) && !external.contains(&ip) {
                external.push(ip);
            }
        }
        let ports = (0..clients.len())
            .map(|_| rng.range(32768, 60000) as u16)
            .collect();
        Pools {
            clients,
            web_servers,
            external,
            ports,
        }
    }

    fn client(&mut self, rng: &mut Rng) -> Peer {
        let i = (rng.next_u64() % self.clients.len() as u64) as usize;
        let p = self.ports[i];
        self.ports[i] = if p >= 60999 { 32768 } else { p + 1 };
        Peer {
            ip: self.clients[i],
            port: p,
        }
    }

    fn ephemeral(rng: &mut Rng) -> u16 {
        rng.range(49152, 65535) as u16
    }

    fn pick(&mut self, side: Side, server: bool, rng: &mut Rng) -> IpAddr {
        match side {
            Side::Home if server => *rng.pick(&self.web_servers),
            Side::Home => self.client(rng).ip,
            Side::External => *rng.pick(&self.external),
            Side::Fixed(ip) => ip,
        }
    }
}

fn in_vpc(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(a) if a.octets()[0] == 10)
}

fn mirror_for(client: IpAddr, server: IpAddr) -> Mirror {
    // The mirrored ENI is the VPC side; the client's when both are.
    let eni = if in_vpc(client) || !in_vpc(server) {
        client
    } else {
        server
    };
    let h = match eni {
        IpAddr::V4(a) => a.octets()[2] as usize + a.octets()[3] as usize,
        IpAddr::V6(a) => a.octets()[15] as usize,
    };
    Mirror {
        eni,
        sensor: IpAddr::V4(SENSOR),
        vni: VNIS[h % VNIS.len()],
    }
}

/// Text for bodies: HTML-ish paragraphs of common words.
fn text_corpus(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    while out.len() < (1 << 20) {
        out.extend_from_slice(b"<div class=\"item\"><h2>");
        for _ in 0..rng.range(2, 6) {
            out.extend_from_slice(rng.pick(WORDS).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(b"</h2><p>");
        for _ in 0..rng.range(20, 80) {
            out.extend_from_slice(rng.pick(WORDS).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(b"</p></div>\n");
    }
    out
}

/// The session builder: all state but the output.
struct Gen<'a> {
    cfg: &'a Config,
    rng: Rng,
    pools: Pools,
    corpus: Vec<u8>,
    stats: Stats,
    order: Vec<usize>,
    next_trigger: usize,
}

fn hostname(rng: &mut Rng) -> String {
    format!("{}.{}", rng.pick(SUBS), rng.pick(DOMAINS))
}

impl Gen<'_> {
    fn text(&mut self, n: usize) -> Vec<u8> {
        let start = (self.rng.next_u64() % (self.corpus.len() / 2) as u64) as usize;
        let mut out = Vec::with_capacity(n);
        let mut i = start;
        while out.len() < n {
            let take = (n - out.len()).min(self.corpus.len() - i);
            out.extend_from_slice(&self.corpus[i..i + take]);
            i = 0;
        }
        out
    }

    fn binary(&mut self, n: usize, magic: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        out.extend_from_slice(magic);
        while out.len() < n {
            out.extend_from_slice(&self.rng.next_u64().to_le_bytes());
        }
        out.truncate(n.max(magic.len()));
        out
    }

    fn rtt(&mut self, server: IpAddr) -> u64 {
        if in_vpc(server) {
            self.rng.range(200_000, 1_500_000)
        } else {
            self.rng.range(8_000_000, 90_000_000)
        }
    }

    // -- DNS -----------------------------------------------------------

    fn dns(
        &mut self,
        t: u64,
        qname: Option<Vec<u8>>,
        client: Peer,
        server: Peer,
    ) -> Vec<wire::Packet> {
        let rng = &mut self.rng;
        let name = qname.clone().unwrap_or_else(|| hostname(rng).into_bytes());
        let qtype = if rng.pct(72) {
            dns::TYPE_A
        } else {
            dns::TYPE_AAAA
        };
        let id = rng.next_u64() as u16;
        let mirror = mirror_for(client.ip, server.ip);
        let Some(q) = dns::query(id, &name, qtype) else {
            return Vec::new();
        };
        let nx = if qname.is_some() {
            rng.pct(40)
        } else {
            rng.pct(3)
        };
        let mut answers = Vec::new();
        if !nx {
            let mut owner = name.clone();
            if rng.pct(30) {
                let target = format!(
                    "{}.edgekey.net",
                    String::from_utf8_lossy(&owner).replace('.', "-")
                );
                let target = if target.len() > 200 {
                    b"e1.edgekey.net".to_vec()
                } else {
                    target.into_bytes()
                };
                answers.push((owner.clone(), 300, dns::Rdata::Cname(target.clone())));
                owner = target;
            }
            for _ in 0..rng.range(1, 4) {
                let ttl = rng.range(20, 3600) as u32;
                let data = if qtype == dns::TYPE_A {
                    dns::Rdata::A((rng.next_u64() as u32 | 0x0100_0000).to_be_bytes())
                } else {
                    let mut a = [0u8; 16];
                    a[..2].copy_from_slice(&[0x26, 0x00]);
                    a[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
                    dns::Rdata::Aaaa(a)
                };
                answers.push((owner.clone(), ttl, data));
            }
        }
        let r = dns::response(id, &name, qtype, &answers, nx).unwrap_or_default();
        let ip_id = rng.next_u64() as u16;
        let rt = if in_vpc(server.ip) {
            rng.range(300_000, 3_000_000)
        } else {
            rng.range(5_000_000, 60_000_000)
        };
        vec![
            (t, wire::udp(client, server, mirror, ip_id, 64, &q)),
            (
                t + rt,
                wire::udp(server, client, mirror, ip_id ^ 0x5a5a, 64, &r),
            ),
        ]
    }

    // -- HTTP ----------------------------------------------------------

    fn background_request(
        &mut self,
        host: &[u8],
        ua: &[u8],
        cookie: Option<&[u8]>,
        n: usize,
    ) -> (Request, Response) {
        let rng = &mut self.rng;
        let kinds = ["html", "js", "css", "json", "png", "jpg", "bin"];
        let kind = *rng.pick(&kinds);
        let mut path = String::from("/");
        for _ in 0..rng.range(1, 4) {
            let w: &str = rng.pick::<&str>(WORDS);
            path.push_str(w);
            path.push('/');
        }
        path.push_str(&format!("{:x}", rng.next_u64() & 0xffff_ffff));
        path.push_str(match kind {
            "html" => ".html",
            "js" => ".js",
            "css" => ".css",
            "json" => "",
            "png" => ".png",
            "jpg" => ".jpg",
            _ => ".bin",
        });
        if kind == "json" || rng.pct(15) {
            path.push_str(&format!(
                "?id={}&v={}",
                rng.range(1, 100_000),
                rng.range(1, 9)
            ));
        }
        let post = kind == "json" && rng.pct(50);
        let mut headers: Vec<Header> = vec![
            (b"Host".to_vec(), host.to_vec()),
            (b"User-Agent".to_vec(), ua.to_vec()),
            (
                b"Accept".to_vec(),
                match kind {
                    "html" => {
                        b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_vec()
                    }
                    "json" => b"application/json".to_vec(),
                    "png" | "jpg" => b"image/avif,image/webp,*/*".to_vec(),
                    _ => b"*/*".to_vec(),
                },
            ),
            (b"Accept-Language".to_vec(), b"en-US,en;q=0.5".to_vec()),
            (b"Accept-Encoding".to_vec(), b"gzip, deflate".to_vec()),
        ];
        if n > 0 || rng.pct(40) {
            headers.push((b"Referer".to_vec(), [&b"http://"[..], host, b"/"].concat()));
        }
        if let Some(c) = cookie {
            headers.push((b"Cookie".to_vec(), c.to_vec()));
        }
        headers.push((b"Connection".to_vec(), b"keep-alive".to_vec()));
        let mut body = Vec::new();
        if post {
            let n = rng.lognormal(600.0, 1.0, 20_000);
            let mut words = self.text(n);
            words.retain(|&c| c != b'\n' && c != b'"');
            body = [&b"{\"items\":\""[..], &words[..], b"\"}"].concat();
            headers.push((b"Content-Type".to_vec(), b"application/json".to_vec()));
        }
        let rng = &mut self.rng;
        let req = Request {
            method: if post {
                b"POST".to_vec()
            } else {
                b"GET".to_vec()
            },
            uri: path.into_bytes(),
            protocol: b"HTTP/1.1".to_vec(),
            headers,
            body,
        };
        let roll = rng.range(0, 100);
        let (status, reason): (&[u8], &[u8]) = match roll {
            0..=84 => (b"200", b"OK"),
            85..=89 => (b"304", b"Not Modified"),
            90..=92 => (b"302", b"Found"),
            93..=97 => (b"404", b"Not Found"),
            _ => (b"500", b"Internal Server Error"),
        };
        let (ctype, median, cap): (&[u8], f64, usize) = match kind {
            "html" => (b"text/html; charset=utf-8", 4_000.0, 1_500_000),
            "js" => (b"application/javascript", 6_000.0, 2_000_000),
            "css" => (b"text/css", 3_000.0, 600_000),
            "json" => (b"application/json", 700.0, 400_000),
            "png" => (b"image/png", 5_000.0, 2_000_000),
            "jpg" => (b"image/jpeg", 9_000.0, 3_000_000),
            _ => (b"application/octet-stream", 15_000.0, 6_000_000),
        };
        let server = *rng.pick(SERVERS);
        let mut rh: Vec<Header> = vec![
            (b"Date".to_vec(), b"Mon, 01 Jan 2024 12:00:00 GMT".to_vec()),
            (b"Server".to_vec(), server.as_bytes().to_vec()),
        ];
        let mut resp_body = Vec::new();
        let text = matches!(kind, "html" | "js" | "css" | "json");
        if status == b"200" {
            let n = rng.lognormal(median, 1.2, cap);
            resp_body = match kind {
                "png" => self.binary(n, b"\x89PNG\r\n\x1a\n"),
                "jpg" => self.binary(n, b"\xff\xd8\xff\xe0"),
                "bin" => self.binary(n, b""),
                _ => self.text(n),
            };
            rh.push((b"Content-Type".to_vec(), ctype.to_vec()));
            rh.push((b"Cache-Control".to_vec(), b"max-age=3600".to_vec()));
        } else if status == b"302" {
            rh.push((
                b"Location".to_vec(),
                [&b"http://"[..], host, b"/login"].concat(),
            ));
            resp_body = b"<html><body>Moved</body></html>".to_vec();
            rh.push((b"Content-Type".to_vec(), b"text/html".to_vec()));
        } else if status != b"304" {
            let n = rng_range(&mut self.rng, 200, 3000);
            resp_body = self.text(n);
            rh.push((b"Content-Type".to_vec(), b"text/html".to_vec()));
        }
        let rng = &mut self.rng;
        if n == 0 && rng.pct(20) {
            rh.push((
                b"Set-Cookie".to_vec(),
                format!("session={:016x}; Path=/; HttpOnly", rng.next_u64()).into_bytes(),
            ));
        }
        let gzip = text && resp_body.len() > 1024 && rng.pct(45);
        let framing = if text && rng.pct(30) {
            Framing::Chunked(rng.range(2_000, 16_000) as usize)
        } else {
            Framing::Length
        };
        let resp = Response {
            protocol: b"HTTP/1.1".to_vec(),
            status: status.to_vec(),
            reason: reason.to_vec(),
            headers: rh,
            body: resp_body,
            gzip,
            framing: if status == b"304" {
                Framing::Length
            } else {
                framing
            },
        };
        (req, resp)
    }

    fn http(
        &mut self,
        t: u64,
        trigger: Option<(&Request, &Response)>,
        client: Peer,
        server: Peer,
    ) -> Vec<wire::Packet> {
        let rtt = self.rtt(server.ip);
        let isn = [self.rng.next_u64() as u32, self.rng.next_u64() as u32];
        let mut c = Tcp::new(
            client,
            server,
            mirror_for(client.ip, server.ip),
            t,
            rtt,
            isn,
        );
        c.handshake();
        let host = hostname(&mut self.rng).into_bytes();
        let ua = self.rng.pick(UAS).as_bytes().to_vec();
        let cookie = self.rng.pct(35).then(|| {
            format!(
                "sid={:x}; _ga=GA1.2.{}",
                self.rng.next_u64(),
                self.rng.range(1, 1 << 30)
            )
            .into_bytes()
        });
        let n = if trigger.is_some() {
            self.rng.range(1, 3) as usize
        } else {
            1 + (self.rng.exp() * 1.5) as usize
        }
        .min(8);
        for i in 0..n {
            let (req, resp) = match trigger {
                Some((q, r)) if i == 0 => (q.clone(), r.clone()),
                _ => self.background_request(&host, &ua, cookie.as_deref(), i),
            };
            c.t += if i == 0 {
                1_000_000
            } else {
                self.rng.range(1_000_000, 400_000_000)
            };
            c.send(true, &req.encode());
            let think = self.rng.range(500_000, 40_000_000);
            c.turn(think);
            let mut wire_resp = resp.encode();
            if req.method.eq_ignore_ascii_case(b"HEAD") {
                // No body after a HEAD (the headers say how long it would be).
                if let Some(p) = wire_resp.windows(4).position(|w| w == b"\r\n\r\n") {
                    wire_resp.truncate(p + 4);
                }
            }
            c.send(false, &wire_resp);
            self.stats.http_requests += 1;
        }
        c.close();
        c.packets
    }

    // -- TLS -----------------------------------------------------------

    fn tls(
        &mut self,
        t: u64,
        trig: Option<&Kind>,
        client: Peer,
        server: Peer,
    ) -> Vec<wire::Packet> {
        let rtt = self.rtt(server.ip);
        let isn = [self.rng.next_u64() as u32, self.rng.next_u64() as u32];
        let mut c = Tcp::new(
            client,
            server,
            mirror_for(client.ip, server.ip),
            t,
            rtt,
            isn,
        );
        c.handshake();
        let (sni, subject, issuer, extra) = match trig {
            Some(Kind::Tls {
                sni,
                subject,
                issuer,
                cert_extra,
            }) => (
                sni.clone(),
                subject.clone(),
                issuer.clone(),
                cert_extra.clone(),
            ),
            _ => {
                let h = hostname(&mut self.rng).into_bytes();
                (self.rng.pct(98).then_some(h), None, None, None)
            }
        };
        let certs_needed = subject.is_some();
        let tls13 = !certs_needed && self.rng.pct(60);
        let alpn: Vec<&'static [u8]> = if self.rng.pct(80) {
            vec![b"h2", b"http/1.1"]
        } else {
            Vec::new()
        };
        let hello = tls::ClientHello {
            sni: sni.clone(),
            alpn: alpn.clone(),
            tls13,
            ciphers: tls::BROWSER_CIPHERS.to_vec(),
        };
        c.t += 1_000_000;
        let ch = tls::client_hello(&hello, &mut self.rng);
        c.send(true, &ch);
        c.turn(self.rng.range(200_000, 5_000_000));
        let chain = if tls13 {
            vec![vec![0u8; 2500]]
        } else {
            let &(ica, root) = self.rng.pick(CAS);
            let leaf_subject = subject.clone().unwrap_or_else(|| {
                let cn = sni
                    .clone()
                    .unwrap_or_else(|| b"server.example.net".to_vec());
                [&b"CN="[..], &cn].concat()
            });
            let leaf_issuer = issuer.clone().unwrap_or_else(|| ica.as_bytes().to_vec());
            let inter_subject = if issuer.is_some() {
                leaf_issuer.clone()
            } else {
                ica.as_bytes().to_vec()
            };
            let serial = {
                let mut s = self.rng.next_u64().to_be_bytes().to_vec();
                s.extend_from_slice(&self.rng.next_u64().to_be_bytes());
                s[0] &= 0x7f;
                s[0] |= 0x01;
                s
            };
            let dns_names = sni.iter().cloned().collect();
            let leaf = tls::Cert {
                serial,
                issuer: leaf_issuer,
                subject: leaf_subject,
                validity: (b"240301000000Z".to_vec(), b"250301000000Z".to_vec()),
                dns_names,
                ca: false,
                extra,
            };
            let inter = tls::Cert {
                serial: vec![0x0a, 0x11, 0x22, 0x33],
                issuer: root.as_bytes().to_vec(),
                subject: inter_subject,
                validity: (b"200901000000Z".to_vec(), b"300901000000Z".to_vec()),
                dns_names: Vec::new(),
                ca: true,
                extra: None,
            };
            let mut chain = Vec::new();
            for cert in [leaf, inter] {
                if let Some(d) = tls::cert_der(&cert, &mut self.rng) {
                    chain.push(d);
                }
            }
            chain
        };
        let alpn_sel = alpn.first().copied();
        let flight = tls::server_flight(
            tls13,
            if tls13 { 0x1301 } else { 0xc02f },
            alpn_sel,
            &chain,
            &mut self.rng,
        );
        c.send(false, &flight);
        c.turn(self.rng.range(100_000, 2_000_000));
        let fin = tls::client_finish(tls13, &mut self.rng);
        c.send(true, &fin);
        if !tls13 {
            c.turn(100_000);
            let sf = tls::server_finish(&mut self.rng);
            c.send(false, &sf);
        }
        let exchanges = 1 + (self.rng.exp() * 1.0) as usize;
        for _ in 0..exchanges.min(10) {
            c.t += self.rng.range(1_000_000, 300_000_000);
            let req = self.rng.lognormal(400.0, 0.5, 8_000);
            let data = tls::app_data(req, &mut self.rng);
            c.send(true, &data);
            c.turn(self.rng.range(1_000_000, 60_000_000));
            let n = self.rng.lognormal(1_200.0, 1.6, 3_000_000);
            let data = tls::app_data(n, &mut self.rng);
            c.send(false, &data);
        }
        c.close();
        c.packets
    }

    // -- sessions --------------------------------------------------------

    /// One session starting at `t`: (packets, proto, manifest entry).
    fn session(&mut self, t: u64) -> (Vec<wire::Packet>, Proto, Option<Planned>) {
        let want_trigger = !self.order.is_empty() && self.rng.f64() * 100.0 < self.cfg.trigger_pct;
        if want_trigger {
            let idx = self.order[self.next_trigger % self.order.len()];
            self.next_trigger += 1;
            let trig = &self.cfg.triggers[idx];
            let cip = self.pools.pick(trig.client, false, &mut self.rng);
            let sip = match (trig.proto(), trig.server) {
                ("dns", Side::Home) => IpAddr::V4(RESOLVER),
                (_, s) => self.pools.pick(s, true, &mut self.rng),
            };
            let client = Peer {
                ip: cip,
                port: trig
                    .client_port
                    .unwrap_or_else(|| Pools::ephemeral(&mut self.rng)),
            };
            let server = Peer {
                ip: sip,
                port: trig.server_port,
            };
            let (pk, proto) = match &trig.kind {
                Kind::Dns { qname } => {
                    (self.dns(t, Some(qname.clone()), client, server), Proto::Dns)
                }
                Kind::Tls { .. } => {
                    let k = trig.kind.clone();
                    (self.tls(t, Some(&k), client, server), Proto::Tls)
                }
                Kind::Http { req, resp } => {
                    let (q, r) = (req.clone(), resp.clone());
                    (self.http(t, Some((&q, &r)), client, server), Proto::Http)
                }
            };
            let planned = Planned {
                sid: trig.sid,
                proto: trig.proto(),
                client,
                server,
                ts: t,
            };
            self.stats.trigger_sessions[proto as usize] += 1;
            return (pk, proto, Some(planned));
        }
        let roll = self.rng.range(0, 100);
        if roll < 60 {
            let client = self.pools.client(&mut self.rng);
            let server = Peer {
                ip: IpAddr::V4(RESOLVER),
                port: 53,
            };
            (self.dns(t, None, client, server), Proto::Dns, None)
        } else if roll < 73 {
            let (client, server) = if self.rng.pct(88) {
                let c = self.pools.client(&mut self.rng);
                let s = *self.rng.pick(&self.pools.external);
                (c, Peer { ip: s, port: 80 })
            } else {
                let c = Peer {
                    ip: *self.rng.pick(&self.pools.external),
                    port: Pools::ephemeral(&mut self.rng),
                };
                let s = *self.rng.pick(&self.pools.web_servers);
                (c, Peer { ip: s, port: 80 })
            };
            (self.http(t, None, client, server), Proto::Http, None)
        } else {
            let c = self.pools.client(&mut self.rng);
            let s = *self.rng.pick(&self.pools.external);
            (
                self.tls(t, None, c, Peer { ip: s, port: 443 }),
                Proto::Tls,
                None,
            )
        }
    }
}

fn rng_range(rng: &mut Rng, lo: u64, hi: u64) -> usize {
    rng.range(lo, hi) as usize
}

/// Writes the workload as a nanosecond pcap to `out`; each trigger
/// session is also reported to `planned`. Returns what was written.
pub fn generate<W: Write>(
    cfg: &Config,
    out: W,
    mut planned: impl FnMut(&Planned),
) -> io::Result<Stats> {
    let mut rng = Rng::new(cfg.seed ^ 0xa99e_0000_0000_0001);
    let pools = Pools::new(&mut rng, &cfg.avoid);
    let corpus = text_corpus(&mut rng);
    let mut order: Vec<usize> = (0..cfg.triggers.len()).collect();
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut g = Gen {
        cfg,
        rng,
        pools,
        corpus,
        stats: Stats::default(),
        order,
        next_trigger: 0,
    };
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    // pcap header: nanosecond resolution, Ethernet.
    w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    for v in [0u32, 0, 262_144, 1] {
        w.write_all(&v.to_le_bytes())?;
    }
    let mut written: u64 = 24;
    let mut pending: u64 = 0;
    let mut heap: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>> = BinaryHeap::new();
    let mut seq: u64 = 0;
    let mut t = T0_NS;
    let mut sessions: u64 = 0;
    let mut first = None;
    let mut last = 0;
    let mut flush = |heap: &mut BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
                     upto: u64,
                     w: &mut io::BufWriter<W>,
                     stats: &mut Stats,
                     written: &mut u64,
                     pending: &mut u64|
     -> io::Result<()> {
        while heap.peek().is_some_and(|Reverse((ts, _, _))| *ts < upto) {
            let Some(Reverse((ts, _, frame))) = heap.pop() else {
                break;
            };
            let len = frame.len() as u32;
            w.write_all(&((ts / 1_000_000_000) as u32).to_le_bytes())?;
            w.write_all(&((ts % 1_000_000_000) as u32).to_le_bytes())?;
            w.write_all(&len.to_le_bytes())?;
            w.write_all(&len.to_le_bytes())?;
            w.write_all(&frame)?;
            *written += 16 + u64::from(len);
            *pending -= 16 + u64::from(len);
            stats.packets += 1;
            first.get_or_insert(ts);
            last = ts;
        }
        Ok(())
    };
    loop {
        if cfg.max_sessions > 0 && sessions >= cfg.max_sessions {
            break;
        }
        if cfg.target_bytes > 0 && written + pending >= cfg.target_bytes {
            break;
        }
        let (packets, proto, plan) = g.session(t);
        sessions += 1;
        g.stats.sessions[proto as usize] += 1;
        if let Some(p) = &plan {
            planned(p);
        }
        let mut bytes = 0u64;
        for (ts, frame) in packets {
            bytes += 16 + frame.len() as u64;
            heap.push(Reverse((ts, seq, frame)));
            seq += 1;
        }
        g.stats.proto_bytes[proto as usize] += bytes;
        pending += bytes;
        // The next session starts after an exponential gap whose mean
        // keeps the bandwidth near the target.
        let mean = bytes as f64 * 8.0 * 1e9 / cfg.rate_bps.max(1.0);
        t += (g.rng.exp() * mean) as u64 + 1;
        flush(
            &mut heap,
            t,
            &mut w,
            &mut g.stats,
            &mut written,
            &mut pending,
        )?;
    }
    flush(
        &mut heap,
        u64::MAX,
        &mut w,
        &mut g.stats,
        &mut written,
        &mut pending,
    )?;
    w.flush()?;
    g.stats.bytes = written;
    g.stats.span_ns = (first.unwrap_or(T0_NS), last);
    Ok(g.stats)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Rules the tests derive their triggers from, one or more per buffer
    /// family.
    const RULES: &str = r#"
alert dns $HOME_NET any -> any any (msg:"dns dotprefix"; dns.query; dotprefix; content:".bad-domain.example"; nocase; endswith; sid:1001; rev:1;)
alert dns $HOME_NET any -> any any (msg:"dns bsize"; dns.query; content:"c2"; startswith; content:".xyz"; endswith; bsize:12; sid:1002; rev:1;)
alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"sni"; flow:established,to_server; tls.sni; content:"evil-cdn.example"; endswith; sid:1003; rev:1;)
alert tls $EXTERNAL_NET any -> $HOME_NET any (msg:"subject"; flow:established,to_client; tls.cert_subject; content:"O=Bad Corp"; tls.cert_issuer; content:"CN=Bad CA"; sid:1004; rev:1;)
alert tls $EXTERNAL_NET any -> $HOME_NET any (msg:"certs"; flow:established,to_client; tls.certs; content:"|de ad be ef|"; content:"|ca fe|"; distance:2; within:4; sid:1005; rev:1;)
alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"checkin"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/gate.php"; startswith; http.user_agent; content:"EvilBot"; http.request_body; content:"id="; startswith; content:"&os="; distance:0; http.header_names; content:!"Referer"; sid:1006; rev:1;)
alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"header"; flow:established,to_server; http.header; content:"|0d 0a|X-Token|3a 20|abc123|0d 0a|"; http.host; content:"tracker.example"; http.cookie; content:"uid="; sid:1007; rev:1;)
alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"response"; flow:established,to_client; http.stat_code; content:"403"; http.server; content:"BadServer"; file.data; content:"<title>owned"; sid:1008; rev:1;)
alert http $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:"inbound"; flow:established,to_server; http.uri; content:"/wp-admin/"; content:".php?cmd="; distance:0; pcre:"/\.php\?cmd=[a-z]+$/U"; sid:1009; rev:1;)
alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"cannot"; flowbits:isset,x; http.uri; content:"/x"; sid:1010; rev:1;)
"#;

    fn config(seed: u64, sessions: u64) -> Config {
        let files = vec![("test.rules".to_string(), RULES.to_string())];
        let d = derive::derive(&files);
        Config {
            seed,
            max_sessions: sessions,
            trigger_pct: 20.0,
            triggers: d.triggers,
            avoid: derive::address_lists(&files),
            ..Config::default()
        }
    }

    fn run(cfg: &Config) -> (Vec<u8>, Vec<Planned>, Stats) {
        let mut out = Vec::new();
        let mut plans = Vec::new();
        let stats = generate(cfg, &mut out, |p| plans.push(p.clone())).unwrap();
        (out, plans, stats)
    }

    /// (timestamp, frame) of each record of a nanosecond pcap.
    fn records(pcap: &[u8]) -> Vec<(u64, &[u8])> {
        assert_eq!(&pcap[..4], &0xa1b2_3c4du32.to_le_bytes());
        let mut out = Vec::new();
        let mut i = 24;
        let u32at = |i: usize| u32::from_le_bytes(pcap[i..i + 4].try_into().unwrap());
        while i < pcap.len() {
            let ts = u64::from(u32at(i)) * 1_000_000_000 + u64::from(u32at(i + 4));
            let len = u32at(i + 8) as usize;
            assert_eq!(len, u32at(i + 12) as usize);
            out.push((ts, &pcap[i + 16..i + 16 + len]));
            i += 16 + len;
        }
        assert_eq!(i, pcap.len());
        out
    }

    /// An inner IPv4 packet, read by offsets.
    #[derive(Debug)]
    struct Inner<'a> {
        src: IpAddr,
        dst: IpAddr,
        proto: u8,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &'a [u8],
    }

    /// Checks the VXLAN wrapping and returns the inner packet and VNI.
    fn decap(frame: &[u8]) -> (Inner<'_>, u32, IpAddr) {
        // Outer Ethernet / IPv4 / UDP to 4789 / VXLAN with the I flag.
        assert_eq!(&frame[12..14], &[0x08, 0x00]);
        assert_eq!(frame[14], 0x45);
        assert_eq!(frame[23], 17);
        let outer_src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&frame[26..30]).unwrap()));
        assert_eq!(&frame[30..34], &SENSOR.octets());
        assert_eq!(u16::from_be_bytes([frame[36], frame[37]]), 4789);
        let udp_len = usize::from(u16::from_be_bytes([frame[38], frame[39]]));
        assert_eq!(udp_len, frame.len() - 34);
        assert_eq!(frame[42], 0x08);
        let vni = u32::from_be_bytes([0, frame[46], frame[47], frame[48]]);
        let f = &frame[50..];
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        let ip = &f[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        let src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap()));
        let dst = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&ip[16..20]).unwrap()));
        let l4 = &ip[ihl..total];
        let port = |i: usize| u16::from_be_bytes([l4[i], l4[i + 1]]);
        let inner = match ip[9] {
            6 => {
                let off = usize::from(l4[12] >> 4) * 4;
                Inner {
                    src,
                    dst,
                    proto: 6,
                    sport: port(0),
                    dport: port(2),
                    seq: u32::from_be_bytes(l4[4..8].try_into().unwrap()),
                    ack: u32::from_be_bytes(l4[8..12].try_into().unwrap()),
                    flags: l4[13],
                    payload: &l4[off..],
                }
            }
            17 => Inner {
                src,
                dst,
                proto: 17,
                sport: port(0),
                dport: port(2),
                seq: 0,
                ack: 0,
                flags: 0,
                payload: &l4[8..],
            },
            p => panic!("inner protocol {p}"),
        };
        (inner, vni, outer_src)
    }

    type Key = (IpAddr, u16, IpAddr, u16);

    /// Per direction of each TCP flow: the reassembled bytes, checking
    /// that every segment starts where the previous one ended. UDP
    /// payloads are kept per direction in order.
    fn streams(pcap: &[u8]) -> HashMap<Key, Vec<u8>> {
        let mut next: HashMap<Key, u32> = HashMap::new();
        let mut data: HashMap<Key, Vec<u8>> = HashMap::new();
        for (_, frame) in records(pcap) {
            let (p, _, _) = decap(frame);
            let key = (p.src, p.sport, p.dst, p.dport);
            if p.proto == 17 {
                data.entry(key).or_default().extend_from_slice(p.payload);
                continue;
            }
            if p.flags & 0x02 != 0 {
                assert!(!next.contains_key(&key), "second SYN on {key:?}");
                next.insert(key, p.seq.wrapping_add(1));
                continue;
            }
            let want = next.get_mut(&key).expect("segment before SYN");
            assert_eq!(p.seq, *want, "sequence gap on {key:?}");
            *want = want.wrapping_add(p.payload.len() as u32);
            if p.flags & 0x01 != 0 {
                *want = want.wrapping_add(1);
            }
            // What it acknowledges was sent by the other side.
            if let Some(other) = next.get(&(p.dst, p.dport, p.src, p.sport)) {
                assert_eq!(p.flags & 0x10, 0x10);
                assert!(
                    other.wrapping_sub(p.ack) < 1 << 30,
                    "ack ahead of data on {key:?}"
                );
            }
            data.entry(key).or_default().extend_from_slice(p.payload);
        }
        data
    }

    #[test]
    fn deterministic_for_a_seed() {
        let cfg = config(7, 150);
        let (a, pa, sa) = run(&cfg);
        let (b, pb, _) = run(&cfg);
        assert_eq!(a, b);
        assert_eq!(pa, pb);
        assert_eq!(sa.sessions.iter().sum::<u64>(), 150);
        assert_eq!(sa.bytes, a.len() as u64);
        let (c, _, _) = run(&config(8, 150));
        assert_ne!(a, c);
    }

    #[test]
    fn mix_and_wrapping() {
        let cfg = Config {
            trigger_pct: 0.0,
            ..config(3, 600)
        };
        let (pcap, plans, stats) = run(&cfg);
        assert!(plans.is_empty());
        // DNS the most numerous, most bytes in HTTP and TLS.
        let [dns_n, http_n, tls_n] = stats.sessions;
        assert!(dns_n > http_n && dns_n > tls_n, "{:?}", stats.sessions);
        assert!(stats.proto_bytes[0] * 10 < stats.proto_bytes[1] + stats.proto_bytes[2]);
        let recs = records(&pcap);
        assert_eq!(recs.len() as u64, stats.packets);
        let mut last = 0;
        let mut vnis = std::collections::BTreeSet::new();
        for (ts, frame) in &recs {
            assert!(*ts >= last, "time goes back");
            last = *ts;
            let (p, vni, eni) = decap(frame);
            vnis.insert(vni);
            // The mirrored ENI is the VPC side of the conversation.
            assert!(eni == p.src || eni == p.dst);
            assert!(in_vpc(eni));
        }
        assert_eq!(vnis.into_iter().collect::<Vec<_>>(), VNIS);
        // Every TCP conversation is complete.
        let s = streams(&pcap);
        assert!(s.keys().any(|k| k.3 == 443) && s.keys().any(|k| k.3 == 80));
    }

    #[test]
    fn derives_the_test_rules() {
        let cfg = config(1, 1);
        let mut sids: Vec<u32> = cfg.triggers.iter().map(|t| t.sid).collect();
        sids.sort_unstable();
        assert_eq!(sids, (1001..=1009).collect::<Vec<_>>());
    }

    fn http_message(b: &[u8]) -> (Vec<u8>, Vec<Header>, Vec<u8>, usize) {
        let end = b.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let mut lines = b[..end]
            .split(|&c| c == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let first = lines.next().unwrap().to_vec();
        let headers: Vec<Header> = lines
            .map(|l| {
                let c = l.iter().position(|&x| x == b':').unwrap();
                (l[..c].to_vec(), l[c + 2..].to_vec())
            })
            .collect();
        let len = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"content-length"))
            .map_or(0, |(_, v)| std::str::from_utf8(v).unwrap().parse().unwrap());
        let body = b[end + 4..end + 4 + len].to_vec();
        (first, headers, body, end + 4 + len)
    }

    fn tls_handshakes(stream: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut hs = Vec::new();
        let mut i = 0;
        while i + 5 <= stream.len() {
            let len = usize::from(u16::from_be_bytes([stream[i + 3], stream[i + 4]]));
            if stream[i] == 22 {
                hs.extend_from_slice(&stream[i + 5..i + 5 + len]);
            }
            i += 5 + len;
        }
        let mut out = Vec::new();
        let mut j = 0;
        while j + 4 <= hs.len() {
            let n =
                usize::from(hs[j + 1]) << 16 | usize::from(hs[j + 2]) << 8 | usize::from(hs[j + 3]);
            if j + 4 + n > hs.len() {
                break; // an encrypted Finished
            }
            out.push((hs[j], hs[j + 4..j + 4 + n].to_vec()));
            j += 4 + n;
        }
        out
    }

    fn sni(hello: &[u8]) -> Option<Vec<u8>> {
        let mut i = 2 + 32;
        i += 1 + usize::from(hello[i]);
        i += 2 + usize::from(u16::from_be_bytes([hello[i], hello[i + 1]]));
        i += 1 + usize::from(hello[i]);
        let end = i + 2 + usize::from(u16::from_be_bytes([hello[i], hello[i + 1]]));
        i += 2;
        while i < end {
            let ty = u16::from_be_bytes([hello[i], hello[i + 1]]);
            let n = usize::from(u16::from_be_bytes([hello[i + 2], hello[i + 3]]));
            if ty == 0 {
                let l = usize::from(u16::from_be_bytes([hello[i + 7], hello[i + 8]]));
                return Some(hello[i + 9..i + 9 + l].to_vec());
            }
            i += 4 + n;
        }
        None
    }

    #[test]
    fn triggers_land_where_intended() {
        let cfg = config(5, 300);
        let (pcap, plans, stats) = run(&cfg);
        let s = streams(&pcap);
        assert!(plans.len() >= 30, "{} trigger sessions", plans.len());
        assert_eq!(
            plans.len() as u64,
            stats.trigger_sessions.iter().sum::<u64>()
        );
        let mut seen = std::collections::BTreeSet::new();
        for p in &plans {
            let t = cfg.triggers.iter().find(|t| t.sid == p.sid).unwrap();
            seen.insert(t.sid);
            let up = &s[&(p.client.ip, p.client.port, p.server.ip, p.server.port)];
            let down = &s[&(p.server.ip, p.server.port, p.client.ip, p.client.port)];
            // The sides of HOME_NET the rule asks for.
            for (side, ip) in [(t.client, p.client.ip), (t.server, p.server.ip)] {
                match side {
                    Side::Home => assert!(in_vpc(ip)),
                    Side::External => assert!(!in_vpc(ip)),
                    Side::Fixed(a) => assert_eq!(a, ip),
                }
            }
            assert_eq!(p.server.port, t.server_port);
            let same = |want: &[u8], got: &[u8]| want == got || want == [&b"."[..], got].concat();
            for (b, want) in &t.expect {
                let got: Vec<u8> = match b {
                    http::Buf::DnsQuery => dns::question_name(up).unwrap(),
                    http::Buf::TlsSni => {
                        let hs = tls_handshakes(up);
                        assert_eq!(hs[0].0, 1);
                        sni(&hs[0].1).unwrap()
                    }
                    http::Buf::TlsSubject | http::Buf::TlsIssuer | http::Buf::TlsCerts => {
                        let hs = tls_handshakes(down);
                        let cert = &hs.iter().find(|h| h.0 == 11).unwrap().1;
                        let n = usize::from(cert[3]) << 16
                            | usize::from(cert[4]) << 8
                            | usize::from(cert[5]);
                        let leaf = &cert[6..6 + n];
                        let needle = match b {
                            http::Buf::TlsCerts => match &t.kind {
                                Kind::Tls {
                                    cert_extra: Some(x),
                                    ..
                                } => x.clone(),
                                _ => unreachable!(),
                            },
                            _ => tls::name_der(want).unwrap(),
                        };
                        assert!(
                            leaf.windows(needle.len()).any(|w| w == needle),
                            "sid {}",
                            t.sid
                        );
                        continue;
                    }
                    _ => {
                        let (line, headers, body, _) = http_message(up);
                        let parts: Vec<&[u8]> = line.splitn(3, |&c| c == b' ').collect();
                        let req = Request {
                            method: parts[0].to_vec(),
                            uri: parts[1].to_vec(),
                            protocol: parts[2].to_vec(),
                            headers,
                            body,
                        };
                        let (line, headers, body, _) = http_message(down);
                        let parts: Vec<&[u8]> = line.splitn(3, |&c| c == b' ').collect();
                        let resp = Response {
                            protocol: parts[0].to_vec(),
                            status: parts[1].to_vec(),
                            reason: parts[2].to_vec(),
                            headers,
                            body,
                            gzip: false,
                            framing: Framing::Length,
                        };
                        http::buffer(*b, &req, &resp, t.to_server).unwrap()
                    }
                };
                assert!(
                    same(want, &got),
                    "sid {} {b:?}: {:?} vs {:?}",
                    t.sid,
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(&got)
                );
            }
        }
        assert_eq!(seen.len(), 9, "every derived rule was used");
    }
}
