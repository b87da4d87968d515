//! DNS tunnelling: one client sending many long, high-entropy names under
//! one registered domain, or TXT/NULL queries at volume under one domain.
//!
//! # What it detects
//!
//! Tunnels (iodine, dnscat2, DNSExfiltrator, custom C2) encode data into
//! the labels left of a domain whose authoritative server the attacker
//! runs, one new name per chunk, and fetch the answers as TXT or NULL
//! records (the record types that carry the most bytes). Both leave the
//! same trace from one client: under one registered domain, many queries
//! whose subdomain part is long and random-looking, nearly all distinct;
//! and for the reply channel, TXT/NULL queries at a rate no ordinary
//! client needs.
//!
//! # Model
//!
//! State is kept per (tenant, client, registered domain), in a tumbling
//! window that starts at the key's first counted query. For each query the
//! *subdomain part* is everything left of the registered domain, dots
//! removed, lower-cased (resolvers and clients may randomise case, the
//! "0x20" trick, which would otherwise inflate the entropy). A query is
//! *suspicious* when that part is at least `min_subdomain_len` characters
//! long and its Shannon entropy (bits per character, over the byte
//! frequencies of the part) is at least `min_entropy`. The detector fires
//! when, within one window,
//!
//! - `suspicious >= min_suspicious` and the distinct subdomains seen are at
//!   least `min_distinct` (reason "long high-entropy names"), or
//! - TXT (16) and NULL (10) queries number at least `min_txt_null` and the
//!   distinct subdomains are at least `min_distinct` (reason "TXT/NULL
//!   volume").
//!
//! The distinct-subdomain requirement keeps a client that repeats one
//! name (a retry loop, an SPF lookup per mail) from counting as a
//! tunnel: each tunnel query carries a new chunk, so a new name.
//!
//! A key is only created by a suspicious or a TXT/NULL query: ordinary
//! browsing costs no state. From then on, every query of that client under
//! that domain in the window is counted (queries, lengths, entropies,
//! distinct subdomains, query types).
//!
//! **Registered domain.** Without a public-suffix list (a dependency and
//! data that go stale), the registered domain is approximated by the last
//! two labels, or the last three when the top-level label has two letters
//! (a country code) and the second-to-last is one of the common
//! second-level labels `co`, `com`, `net`, `org`, `gov`, `ac`, `edu`
//! (`example.co.uk`, `example.com.au`). The approximation errs both ways:
//! under private suffixes such as `s3.amazonaws.com` or `github.io` every
//! customer shares one key (their queries add up), and under country codes
//! with other second-level labels (`example.ne.jp`) the key is the
//! second-level label (again shared). Both only merge keys, which can make
//! a detection more likely, never hide a tunnel.
//!
//! The features are those of the DNS tunnelling literature and practice
//! (query name length, character entropy, unique subdomains per domain per
//! client, record type; e.g. Farnham and Atlasis, "Detecting DNS Tunneling",
//! SANS 2013; Nadler et al., "Detection of malicious and low throughput
//! data exfiltration over the DNS protocol", 2019).
//!
//! # Defaults and why
//!
//! - `window_s` 60: tunnels are chatty (dnscat2 polls about once a second
//!   even when idle, iodine sends as fast as data goes); a minute is enough
//!   to see dozens of queries and short enough to keep state small.
//! - `min_subdomain_len` 40: ordinary hostnames' subdomain parts are short
//!   (`www`, `mail`, `api.eu`); practitioners flag names over 50 to 52
//!   characters in all; 40 characters left of the domain is past nearly
//!   every human-made name while a tunnel fills labels up to 63 bytes,
//!   usually several of them.
//! - `min_entropy` 3.5 bits/char: published heuristics put the line at
//!   about 3.5 to 4. Random hex (dnscat2) approaches 4, base32 (iodine's
//!   default) approaches 5, while long readable names sit lower; with 40 or
//!   more characters the estimate is stable. 3.5 still catches hex of
//!   compressed or encrypted data.
//! - `min_suspicious` 30 in a window: a minute with 30 long random names
//!   under one domain from one client is far above what content delivery
//!   or telemetry names produce, and below what any working tunnel needs
//!   (one query per second is already 60).
//! - `min_txt_null` 40 in a window: NULL is nearly never queried; TXT is
//!   used for SPF, DKIM, DMARC and domain verification, a few per message
//!   or per check, not 40 distinct names a minute under one domain.
//! - `min_distinct` 10: see above.
//! - `max_entries` 8192 keys (tenants together), `max_subdomains` 64
//!   distinct subdomain hashes per key: about 1 KiB per key, some 8 MiB in
//!   all. At the table's cap the least recently touched key goes (counted
//!   in [`Counters::evicted`]); the distinct count saturates at
//!   `max_subdomains` (the evidence then reads "at least").
//! - `allow`: clients (`sources`) and resolvers (`destinations`) left
//!   alone; `allow_domains` (names or their parents, e.g. reputation
//!   services that look up hashes over DNS) never counted.
//!
//! # Re-arm
//!
//! A key fires once per episode: at most once per window, and not again in
//! the next window if the condition holds there too. It re-arms after a
//! window in which the condition did not hold (or a whole window passed
//! without a query, after which the key is forgotten).

use std::hash::BuildHasher;
use std::net::IpAddr;

use mirador_wire::Timestamp;

use crate::bounded::Bounded;
use crate::{
    Allow, Counters, Detection, Detector, DetectorId, Event, EventKind, PerTenant, Value,
    secs_to_ns,
};

/// The TXT query type.
pub const QTYPE_TXT: u16 = 16;
/// The NULL query type.
pub const QTYPE_NULL: u16 = 10;

/// Most example names in a detection's evidence.
pub const MAX_EXAMPLES: usize = 3;
/// Most distinct query types remembered per key.
const MAX_QTYPES: usize = 16;
/// Longest example name kept (a DNS name is at most 253 characters).
const MAX_EXAMPLE_LEN: usize = 253;

/// Second-level labels that, under a two-letter top-level label, belong to
/// the public suffix (`co.uk`, `com.au`, `ac.jp`, ...).
const COMMON_SLD: [&[u8]; 7] = [b"co", b"com", b"net", b"org", b"gov", b"ac", b"edu"];

const MSG_ENTROPY: &str =
    "MIRADOR DNS tunnel: one client sent many long, high-entropy names under one domain";
const MSG_TXT: &str =
    "MIRADOR DNS tunnel: one client sent TXT/NULL queries at volume under one domain";

/// Settings of the DNS tunnel detector (one tenant's).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// On (default true).
    #[serde(deserialize_with = "crate::de_bool")]
    pub enabled: bool,
    /// Window length in seconds (default 60).
    #[serde(rename = "window")]
    pub window_s: u64,
    /// Shortest subdomain part (dots removed) that can be suspicious
    /// (default 40).
    pub min_subdomain_len: usize,
    /// Least Shannon entropy, bits per character, of a suspicious
    /// subdomain part (default 3.5).
    pub min_entropy: f64,
    /// Suspicious queries in a window that fire (default 30).
    pub min_suspicious: u64,
    /// TXT and NULL queries in a window that fire (default 40).
    pub min_txt_null: u64,
    /// Distinct subdomains a window needs to fire, either way (default 10).
    pub min_distinct: u64,
    /// Clients (`sources`) and resolvers (`destinations`) left alone.
    pub allow: Allow,
    /// Names never counted, with everything under them (lower case, no
    /// trailing dot; default none).
    pub allow_domains: Vec<String>,
    /// Most (tenant, client, domain) keys (default 8192).
    pub max_entries: usize,
    /// Most distinct subdomains remembered per key (default 64); the count
    /// saturates there.
    pub max_subdomains: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            window_s: 60,
            min_subdomain_len: 40,
            min_entropy: 3.5,
            min_suspicious: 30,
            min_txt_null: 40,
            min_distinct: 10,
            allow: Allow::default(),
            allow_domains: Vec::new(),
            max_entries: 8192,
            max_subdomains: 64,
        }
    }
}

type Key = (u32, IpAddr, Box<[u8]>);

#[derive(Debug)]
struct Episode {
    /// Start of the current window.
    start: Timestamp,
    first: Timestamp,
    last: Timestamp,
    queries: u64,
    suspicious: u64,
    txt_null: u64,
    /// Queries with a non-empty subdomain part, and their summed lengths
    /// and entropies.
    measured: u64,
    len_sum: u64,
    entropy_sum: f64,
    /// Hashes of distinct subdomain parts, sorted, at most
    /// `max_subdomains`.
    distinct: Vec<u64>,
    qtypes: Vec<u16>,
    examples: Vec<String>,
    /// The resolver, while there has been only one.
    server: Option<IpAddr>,
    servers_many: bool,
    /// The condition held in this window.
    hot: bool,
    /// A detection may fire in this window.
    armed: bool,
}

impl Episode {
    fn new(now: Timestamp, armed: bool) -> Self {
        Episode {
            start: now,
            first: now,
            last: now,
            queries: 0,
            suspicious: 0,
            txt_null: 0,
            measured: 0,
            len_sum: 0,
            entropy_sum: 0.0,
            distinct: Vec::new(),
            qtypes: Vec::new(),
            examples: Vec::new(),
            server: None,
            servers_many: false,
            hot: false,
            armed,
        }
    }
}

/// The DNS tunnel detector.
#[derive(Debug)]
pub struct DnsTunnel {
    cfg: PerTenant<Config>,
    table: Bounded<Key, Episode>,
    /// Longest window of any tenant, for expiry.
    max_window_ns: i64,
    hasher: foldhash::fast::FixedState,
    events: u64,
    detections: u64,
}

impl DnsTunnel {
    /// A detector with these settings; the table cap is the default's
    /// `max_entries` (shared by all tenants).
    pub fn new(cfg: PerTenant<Config>) -> Self {
        let max_window_s = std::iter::once(&cfg.default)
            .chain(cfg.tenants.iter().map(|(_, c)| c))
            .map(|c| c.window_s.max(1))
            .max()
            .unwrap_or(60);
        DnsTunnel {
            table: Bounded::new(cfg.default.max_entries),
            max_window_ns: secs_to_ns(max_window_s),
            cfg,
            hasher: foldhash::fast::FixedState::with_seed(0x6d69_7261_646f_7221),
            events: 0,
            detections: 0,
        }
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn expire(&mut self, now: Timestamp) {
        // A key idle for two windows (of the longest window) is forgotten:
        // a whole window passed without a query, so the condition cleared.
        let before = Timestamp::from_nanos(now.as_nanos().saturating_sub(2 * self.max_window_ns));
        self.table.expire(before, |_, _| {});
    }
}

impl Detector for DnsTunnel {
    fn id(&self) -> DetectorId {
        DetectorId::DnsTunnel
    }

    fn on_event(&mut self, ev: &Event<'_>, out: &mut Vec<Detection>) {
        let EventKind::DnsQuery {
            client,
            server,
            qname,
            qtype,
        } = ev.kind
        else {
            return;
        };
        self.events += 1;
        self.expire(ev.ts);
        let cfg = self.cfg.get(ev.tenant);
        if !cfg.enabled || cfg.allow.allows(client, server, None) {
            return;
        }
        let name = normalise(qname);
        if cfg
            .allow_domains
            .iter()
            .any(|d| is_under(&name, d.trim_end_matches('.').as_bytes()))
        {
            return;
        }
        let (left, registered) = split_registered(&name);
        if registered.is_empty() {
            return;
        }
        // A key holds at most a DNS name's length (a name without dots
        // from a lax parser would otherwise be all key).
        let registered = &registered[registered.len().saturating_sub(MAX_EXAMPLE_LEN)..];
        let (len, entropy) = measure(left);
        let suspicious = len >= cfg.min_subdomain_len && entropy >= cfg.min_entropy;
        let txt_null = qtype == QTYPE_TXT || qtype == QTYPE_NULL;
        let key: Key = (ev.tenant, client, registered.into());
        if !suspicious && !txt_null && self.table.get(&key).is_none() {
            return;
        }
        let window_ns = secs_to_ns(cfg.window_s.max(1));
        let hash = self.hasher.hash_one(left);
        let e = self.table.touch(key, ev.ts, || Episode::new(ev.ts, true));

        // Roll the window.
        let since = ev.ts.as_nanos().saturating_sub(e.start.as_nanos());
        if since >= window_ns {
            let armed = since >= 2 * window_ns || !e.hot;
            *e = Episode::new(ev.ts, armed);
        }

        e.queries += 1;
        e.last = ev.ts;
        if suspicious {
            e.suspicious += 1;
        }
        if txt_null {
            e.txt_null += 1;
        }
        if len > 0 {
            e.measured += 1;
            e.len_sum += len as u64;
            e.entropy_sum += entropy;
        }
        if let Err(at) = e.distinct.binary_search(&hash)
            && e.distinct.len() < cfg.max_subdomains.max(1)
        {
            e.distinct.insert(at, hash);
        }
        if let Err(at) = e.qtypes.binary_search(&qtype)
            && e.qtypes.len() < MAX_QTYPES
        {
            e.qtypes.insert(at, qtype);
        }
        if (suspicious || txt_null) && e.examples.len() < MAX_EXAMPLES {
            e.examples.push(printable(&name));
        }
        match e.server {
            None if !e.servers_many => e.server = Some(server),
            Some(s) if s != server => {
                e.server = None;
                e.servers_many = true;
            }
            _ => {}
        }

        let distinct = e.distinct.len() as u64;
        let by_entropy = e.suspicious >= cfg.min_suspicious && distinct >= cfg.min_distinct;
        let by_type = e.txt_null >= cfg.min_txt_null && distinct >= cfg.min_distinct;
        if e.hot || !(by_entropy || by_type) {
            return;
        }
        e.hot = true;
        if !e.armed {
            return;
        }
        let (msg, reason) = if by_entropy {
            (MSG_ENTROPY, "long high-entropy names")
        } else {
            (MSG_TXT, "TXT/NULL volume")
        };
        let mean_len = if e.measured > 0 {
            e.len_sum as f64 / e.measured as f64
        } else {
            0.0
        };
        let mean_entropy = if e.measured > 0 {
            e.entropy_sum / e.measured as f64
        } else {
            0.0
        };
        let mut evidence = vec![
            ("reason", Value::Text(reason.to_string())),
            (
                "domain",
                Value::Text(String::from_utf8_lossy(registered).into_owned()),
            ),
            ("queries", Value::Count(e.queries)),
            ("suspicious", Value::Count(e.suspicious)),
            ("txt_null", Value::Count(e.txt_null)),
            ("distinct_subdomains", Value::Count(distinct)),
            ("mean_subdomain_length", Value::Number(round2(mean_len))),
            ("mean_entropy", Value::Number(round2(mean_entropy))),
            ("qtypes", Value::Text(qtype_list(&e.qtypes))),
            ("window", Value::Seconds(cfg.window_s as f64)),
            ("first_seen", Value::Time(e.first)),
            ("last_seen", Value::Time(e.last)),
        ];
        const EXAMPLE_KEYS: [&str; MAX_EXAMPLES] = ["example_1", "example_2", "example_3"];
        for (k, x) in EXAMPLE_KEYS.iter().zip(&e.examples) {
            evidence.push((k, Value::Text(x.clone())));
        }
        self.detections += 1;
        out.push(Detection {
            detector: DetectorId::DnsTunnel,
            ts: ev.ts,
            tenant: ev.tenant,
            session: ev.session,
            msg,
            severity: 2,
            src: Some(client),
            dst: e.server,
            proto: None,
            flow: None,
            evidence,
        });
    }

    fn advance(&mut self, now: Timestamp, _out: &mut Vec<Detection>) {
        self.expire(now);
    }

    fn counters(&self) -> Counters {
        Counters::of(self.events, self.detections, &self.table)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Lower case, without a trailing dot.
fn normalise(qname: &[u8]) -> Vec<u8> {
    let n = qname.strip_suffix(b".").unwrap_or(qname);
    n.to_ascii_lowercase()
}

/// Whether `name` is `domain` or under it.
fn is_under(name: &[u8], domain: &[u8]) -> bool {
    if domain.is_empty() {
        return false;
    }
    let domain = domain.to_ascii_lowercase();
    name == domain.as_slice()
        || (name.len() > domain.len()
            && name.ends_with(&domain)
            && name[name.len() - domain.len() - 1] == b'.')
}

/// Splits a (normalised) name into the part left of the registered domain
/// (without the joining dot) and the registered domain (see the module
/// docs for the approximation). A name of one or two labels is all
/// registered domain.
pub fn split_registered(name: &[u8]) -> (&[u8], &[u8]) {
    // Positions of the last three dots.
    let mut dots = [None; 3];
    let mut found = 0;
    for (i, b) in name.iter().enumerate().rev() {
        if *b == b'.' {
            dots[found] = Some(i);
            found += 1;
            if found == 3 {
                break;
            }
        }
    }
    let Some(last) = dots[0] else {
        return (&[], name);
    };
    let tld = &name[last + 1..];
    let sld_start = dots[1].map_or(0, |d| d + 1);
    let sld = &name[sld_start..last];
    let labels = if tld.len() == 2 && COMMON_SLD.contains(&sld) {
        3
    } else {
        2
    };
    match dots[labels - 1] {
        Some(cut) => (&name[..cut], &name[cut + 1..]),
        None => (&[], name),
    }
}

/// Length (dots not counted) and Shannon entropy in bits per character of
/// a subdomain part.
pub fn measure(left: &[u8]) -> (usize, f64) {
    let mut counts = [0u32; 256];
    let mut n = 0usize;
    for &b in left {
        if b != b'.' {
            counts[b as usize] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return (0, 0.0);
    }
    let total = n as f64;
    let h = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| {
            let p = f64::from(c) / total;
            -p * p.log2()
        })
        .sum::<f64>();
    (n, h)
}

/// A name for the evidence: printable ASCII kept, other bytes as `\xNN`.
fn printable(name: &[u8]) -> String {
    let mut s = String::with_capacity(name.len().min(MAX_EXAMPLE_LEN));
    for &b in name {
        if s.len() >= MAX_EXAMPLE_LEN {
            break;
        }
        if b.is_ascii_graphic() {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn qtype_list(q: &[u16]) -> String {
    q.iter()
        .map(|t| match t {
            1 => "A".to_string(),
            2 => "NS".to_string(),
            5 => "CNAME".to_string(),
            6 => "SOA".to_string(),
            10 => "NULL".to_string(),
            12 => "PTR".to_string(),
            15 => "MX".to_string(),
            16 => "TXT".to_string(),
            28 => "AAAA".to_string(),
            33 => "SRV".to_string(),
            65 => "HTTPS".to_string(),
            255 => "ANY".to_string(),
            n => format!("TYPE{n}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    fn ms(m: i64) -> Timestamp {
        Timestamp::from_nanos(m * 1_000_000)
    }

    fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
    const RESOLVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn q<'a>(ts: Timestamp, client: IpAddr, qname: &'a [u8], qtype: u16) -> Event<'a> {
        Event {
            ts,
            tenant: 1,
            session: 3,
            bidirectional: true,
            kind: EventKind::DnsQuery {
                client,
                server: RESOLVER,
                qname,
                qtype,
            },
        }
    }

    /// A deterministic pseudo-random generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// A dnscat2-like name: `hexlen` random hex characters in labels of
    /// up to 60, under `domain`.
    fn tunnel_name(rng: &mut Rng, hexlen: usize, domain: &str) -> String {
        const HEX: &[u8] = b"0123456789abcdef";
        let mut s = String::new();
        for i in 0..hexlen {
            if i > 0 && i % 60 == 0 {
                s.push('.');
            }
            s.push(HEX[(rng.next() % 16) as usize] as char);
        }
        s.push('.');
        s.push_str(domain);
        s
    }

    fn names(n: usize, seed: u64, hexlen: usize, domain: &str) -> Vec<String> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|_| tunnel_name(&mut rng, hexlen, domain))
            .collect()
    }

    fn run(d: &mut DnsTunnel, evs: &[Event<'_>]) -> Vec<Detection> {
        let mut out = Vec::new();
        for e in evs {
            d.on_event(e, &mut out);
        }
        out
    }

    fn get<'a>(d: &'a Detection, k: &str) -> &'a Value {
        &d.evidence.iter().find(|(n, _)| *n == k).unwrap().1
    }

    #[test]
    fn registered_domain_approximation() {
        assert_eq!(
            split_registered(b"a.b.example.com"),
            (&b"a.b"[..], &b"example.com"[..])
        );
        assert_eq!(
            split_registered(b"x.example.co.uk"),
            (&b"x"[..], &b"example.co.uk"[..])
        );
        assert_eq!(
            split_registered(b"example.co.uk"),
            (&b""[..], &b"example.co.uk"[..])
        );
        // `co` under a three-letter TLD is an ordinary label.
        assert_eq!(split_registered(b"x.co.com"), (&b"x"[..], &b"co.com"[..]));
        assert_eq!(split_registered(b"com"), (&b""[..], &b"com"[..]));
        assert_eq!(split_registered(b"a.org"), (&b""[..], &b"a.org"[..]));
    }

    #[test]
    fn entropy_of_random_and_plain_labels() {
        let (n, h) = measure(b"aaaa");
        assert_eq!((n, h), (4, 0.0));
        let (n, h) = measure(b"0123456789abcdef.0123456789abcdef");
        assert_eq!(n, 32);
        assert!((h - 4.0).abs() < 1e-9);
        let mut rng = Rng(7);
        let name = tunnel_name(&mut rng, 120, "t.example");
        let (left, _) = split_registered(name.as_bytes());
        let (n, h) = measure(left);
        assert_eq!(n, 120);
        assert!(h > 3.5, "random hex has about 4 bits/char, got {h}");
        let (_, h) = measure(b"www");
        assert!(h < 1.0);
    }

    #[test]
    fn a_hex_tunnel_fires_with_its_evidence() {
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        let ns = names(40, 1, 100, "tunnel.example.com");
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(ms(1_000_000 + i as i64 * 500), CLIENT, n.as_bytes(), 1))
            .collect();
        let out = run(&mut d, &evs);
        assert_eq!(out.len(), 1, "{out:?}");
        let det = &out[0];
        assert_eq!(det.detector, DetectorId::DnsTunnel);
        assert_eq!(det.msg, MSG_ENTROPY);
        assert_eq!(det.src, Some(CLIENT));
        assert_eq!(det.dst, Some(RESOLVER));
        assert_eq!(det.flow, None);
        assert_eq!(det.tenant, 1);
        assert_eq!(det.session, 3);
        // Fired on the 30th suspicious query.
        assert_eq!(det.ts, ms(1_000_000 + 29 * 500));
        assert_eq!(get(det, "domain"), &Value::Text("example.com".into()));
        assert_eq!(get(det, "queries"), &Value::Count(30));
        assert_eq!(get(det, "suspicious"), &Value::Count(30));
        assert_eq!(get(det, "distinct_subdomains"), &Value::Count(30));
        // 100 hex characters plus the `tunnel` label.
        assert_eq!(get(det, "mean_subdomain_length"), &Value::Number(106.0));
        let Value::Number(h) = get(det, "mean_entropy") else {
            panic!()
        };
        assert!(*h > 3.5 && *h < 4.5, "{h}");
        assert_eq!(get(det, "qtypes"), &Value::Text("A".into()));
        assert_eq!(get(det, "window"), &Value::Seconds(60.0));
        assert_eq!(get(det, "first_seen"), &Value::Time(ms(1_000_000)));
        assert_eq!(get(det, "last_seen"), &Value::Time(det.ts));
        assert_eq!(get(det, "example_1"), &Value::Text(ns[0].clone()));
        assert_eq!(get(det, "example_3"), &Value::Text(ns[2].clone()));
        assert!(det.evidence.iter().all(|(k, _)| *k != "example_4"));
        assert_eq!(d.counters().detections, 1);
        assert_eq!(d.counters().events, 40);
    }

    #[test]
    fn txt_volume_fires_and_null_counts_too() {
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        // Short names (not suspicious), distinct, TXT and NULL.
        let ns: Vec<String> = (0..40).map(|i| format!("c{i}.x.example.net")).collect();
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let qt = if i % 2 == 0 { QTYPE_TXT } else { QTYPE_NULL };
                q(t(100 + i as i64), CLIENT, n.as_bytes(), qt)
            })
            .collect();
        let out = run(&mut d, &evs);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].msg, MSG_TXT);
        assert_eq!(get(&out[0], "txt_null"), &Value::Count(40));
        assert_eq!(get(&out[0], "suspicious"), &Value::Count(0));
        assert_eq!(get(&out[0], "qtypes"), &Value::Text("NULL,TXT".into()));
        assert_eq!(get(&out[0], "domain"), &Value::Text("example.net".into()));
    }

    #[test]
    fn near_misses_do_not_fire() {
        let cfg = Config::default();
        // 29 suspicious queries in a window.
        let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
        let ns = names(29, 2, 100, "example.com");
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64), CLIENT, n.as_bytes(), 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());

        // 60 long names, but low entropy (readable, repeated letters).
        let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
        let ns: Vec<String> = (0..60)
            .map(|i| format!("aaaaaaaaaabbbbbbbbbbaaaaaaaaaabbbbbbbbbbcccc{i}.example.com"))
            .collect();
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64 / 2), CLIENT, n.as_bytes(), 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());

        // 60 random names just under the length: 39 characters.
        let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
        let ns = names(60, 3, 39, "example.com");
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64 / 2), CLIENT, n.as_bytes(), 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());

        // 30 suspicious queries spread over more than a window.
        let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
        let ns = names(30, 4, 100, "example.com");
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64 * 3), CLIENT, n.as_bytes(), 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());

        // 100 TXT queries for one name (an SPF lookup per mail).
        let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
        let evs: Vec<_> = (0..100)
            .map(|i| q(ms(10_000 + i * 100), CLIENT, b"_spf.example.com", QTYPE_TXT))
            .collect();
        assert!(run(&mut d, &evs).is_empty());

        // 39 distinct TXT queries.
        let mut d = DnsTunnel::new(PerTenant::all(cfg));
        let ns: Vec<String> = (0..39).map(|i| format!("s{i}.example.org")).collect();
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64), CLIENT, n.as_bytes(), QTYPE_TXT))
            .collect();
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn ordinary_queries_cost_no_state() {
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        let evs: Vec<_> = (0..1000)
            .map(|i| q(ms(i * 10), CLIENT, b"www.example.com", 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());
        assert!(d.is_empty());
    }

    #[test]
    fn per_client_and_per_domain() {
        // 20 suspicious queries from each of two clients, and 20 from one
        // client under two domains: no key reaches 30.
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        let a = names(20, 5, 100, "example.com");
        let b = names(20, 6, 100, "example.org");
        let mut evs = Vec::new();
        for i in 0..20 {
            evs.push(q(t(10 + i as i64), CLIENT, a[i].as_bytes(), 1));
            evs.push(q(t(10 + i as i64), ip(10, 0, 0, 6), a[i].as_bytes(), 1));
            evs.push(q(t(10 + i as i64), CLIENT, b[i].as_bytes(), 1));
        }
        assert!(run(&mut d, &evs).is_empty());
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn allow_lists_are_respected() {
        let ns = names(40, 8, 100, "av-lookup.example.com");
        let mk = |cfg: Config| {
            let mut d = DnsTunnel::new(PerTenant::all(cfg));
            let evs: Vec<_> = ns
                .iter()
                .enumerate()
                .map(|(i, n)| q(t(10 + i as i64), CLIENT, n.as_bytes(), 1))
                .collect();
            run(&mut d, &evs)
        };
        assert_eq!(mk(Config::default()).len(), 1);
        let domains = |d: &str| Config {
            allow_domains: vec![d.into()],
            ..Config::default()
        };
        assert!(mk(domains("example.com")).is_empty());
        assert!(mk(domains("AV-Lookup.Example.com.")).is_empty());
        assert_eq!(
            mk(domains("ample.com")).len(),
            1,
            "a suffix that is not a parent domain"
        );
        let mut c = Config::default();
        c.allow.sources = vec!["10.0.0.0/24".parse().unwrap()];
        assert!(mk(c).is_empty());
        let mut c = Config::default();
        c.allow.destinations = vec!["10.0.0.2/32".parse().unwrap()];
        assert!(mk(c).is_empty());
        let off = Config {
            enabled: false,
            ..Config::default()
        };
        assert!(mk(off.clone()).is_empty());
        // Per tenant: tenant 1 disabled, the default on.
        let c = off;
        let mut d = DnsTunnel::new(PerTenant {
            default: Config::default(),
            tenants: vec![(1, c)],
        });
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64), CLIENT, n.as_bytes(), 1))
            .collect();
        assert!(run(&mut d, &evs).is_empty());
    }

    #[test]
    fn rearms_only_after_a_quiet_window() {
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        let ns = names(400, 9, 80, "example.com");
        let mut it = ns.iter();
        let mut out = Vec::new();
        // Minutes 0..3: a tunnel at one query a second: one detection.
        for s in 0..180 {
            d.on_event(
                &q(t(1000 + s), CLIENT, it.next().unwrap().as_bytes(), 1),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        // Minute 3: only 10 queries (the condition clears).
        for s in 180..190 {
            d.on_event(
                &q(t(1000 + s), CLIENT, it.next().unwrap().as_bytes(), 1),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        // Minute 4: the tunnel again: a second detection.
        for s in 240..300 {
            d.on_event(
                &q(t(1000 + s), CLIENT, it.next().unwrap().as_bytes(), 1),
                &mut out,
            );
        }
        assert_eq!(out.len(), 2);
        // A long pause (the key is forgotten), then again: a third.
        for s in 1000..1040 {
            d.on_event(
                &q(t(1000 + s), CLIENT, it.next().unwrap().as_bytes(), 1),
                &mut out,
            );
        }
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn idle_keys_expire_on_advance() {
        let mut d = DnsTunnel::new(PerTenant::all(Config::default()));
        let ns = names(5, 10, 80, "example.com");
        run(&mut d, &[q(t(10), CLIENT, ns[0].as_bytes(), 1)]);
        assert_eq!(d.len(), 1);
        let mut out = Vec::new();
        d.advance(t(100), &mut out);
        assert_eq!(d.len(), 1);
        d.advance(t(200), &mut out);
        assert_eq!(d.len(), 0);
        assert!(out.is_empty());
    }

    #[test]
    fn a_million_spoofed_clients_stay_within_the_cap() {
        let cfg = Config {
            max_entries: 1000,
            ..Config::default()
        };
        let mut d = DnsTunnel::new(PerTenant::all(cfg));
        let name = names(1, 11, 60, "example.com").pop().unwrap();
        let mut out = Vec::new();
        for i in 0u32..1_000_000 {
            let client = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            // All within one second of each other: nothing expires.
            d.on_event(
                &q(
                    Timestamp::from_nanos(i64::from(i)),
                    client,
                    name.as_bytes(),
                    1,
                ),
                &mut out,
            );
            assert!(d.len() <= 1000);
        }
        assert!(out.is_empty());
        let c = d.counters();
        assert_eq!(c.entries, 1000);
        assert_eq!(c.evicted, 1_000_000 - 1000);
        assert_eq!(c.events, 1_000_000);
    }

    #[test]
    fn distinct_subdomains_saturate_at_the_cap() {
        let cfg = Config {
            max_subdomains: 16,
            min_distinct: 16,
            ..Config::default()
        };
        let mut d = DnsTunnel::new(PerTenant::all(cfg));
        let ns = names(40, 12, 100, "example.com");
        let evs: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| q(t(10 + i as i64), CLIENT, n.as_bytes(), 1))
            .collect();
        let out = run(&mut d, &evs);
        assert_eq!(out.len(), 1);
        assert_eq!(get(&out[0], "distinct_subdomains"), &Value::Count(16));
        let key: Key = (1, CLIENT, b"example.com"[..].into());
        assert_eq!(d.table.get(&key).unwrap().distinct.len(), 16);
    }

    #[test]
    fn example_names_are_printable() {
        assert_eq!(printable(b"a\x00b c"), "a\\x00b\\x20c");
    }

    proptest! {
        /// Replaying the same stream gives the same detections.
        #[test]
        fn replay_is_deterministic(
            evs in proptest::collection::vec((0u8..4, 0u8..3, 0u8..3, any::<bool>(), 0i64..400), 0..300)
        ) {
            let cfg = Config { min_suspicious: 5, min_txt_null: 5, min_distinct: 3, max_entries: 4, ..Config::default() };
            let mut rng = Rng(99);
            let labels: Vec<String> = (0..64).map(|_| tunnel_name(&mut rng, 45, "")).collect();
            let domains = ["example.com", "example.co.uk", "example.org"];
            let mut names = Vec::new();
            let mut ts = 0i64;
            for (c, dom, lab, txt, dt) in &evs {
                ts += dt;
                let name = format!("{}{}", labels[(ts as usize) % 64], domains[*dom as usize]);
                names.push((ts, *c, name, *lab, *txt));
            }
            let go = || {
                let mut d = DnsTunnel::new(PerTenant::all(cfg.clone()));
                let mut out = Vec::new();
                for (ts, c, name, lab, txt) in &names {
                    let n: &[u8] = if *lab == 0 { b"www.example.com" } else { name.as_bytes() };
                    let qt = if *txt { QTYPE_TXT } else { 1 };
                    d.on_event(&q(ms(*ts), ip(10, 0, 0, *c), n, qt), &mut out);
                }
                d.advance(ms(ts + 1_000_000), &mut out);
                (out, d.counters())
            };
            prop_assert_eq!(go(), go());
        }
    }
}
