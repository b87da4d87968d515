//! From ET Open-style rules to trigger sessions: for each enabled rule of
//! protocol http, tls or dns (or tcp/udp with their sticky buffers) whose
//! keywords the generator understands, a session whose buffers satisfy
//! every content, pcre and size condition of the rule, with the client and
//! server on the sides of `HOME_NET` the header asks for.
//!
//! How: the rule's keywords are grouped by buffer ([`Buf`]) into inspection
//! [`Step`]s. For each buffer the positive contents are laid out in order
//! (relative ones at their `distance`, anchored ones at their
//! `offset`/`depth`, `endswith` closing the buffer) with filler between;
//! the buffers are then put into a DNS name, a ClientHello and certificate,
//! or an HTTP request and response (header-structured buffers such as
//! `http.header` and `http.header_names` are split into header lines). The
//! result is then checked: every buffer is rebuilt from the message as
//! Suricata 7 builds it ([`super::http::buffer`]) and run through the
//! matcher ([`super::content::matches`]) with all the rule's steps,
//! negated contents and pcre included. A rule whose check fails is
//! skipped, with the reason counted. What is never attempted:
//! `flowbits:isset`, `xbits`, `flowint`, `noalert`, byte keywords,
//! base64, thresholds that need more than one hit, `detection_filter`,
//! JA3/JA4 hashes and certificate fingerprints (hashes cannot be aimed
//! at), pcre the `regex` crate cannot express, content outside any buffer,
//! and DNS over TCP.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use mirador_rules::{Direction, IpSet, PortSet, Protocol, Rule, Vars};

use super::content::{Cm, Step, compile_pcre, decode_content, matches, parse_range};
use super::dns::valid_name;
use super::http::{
    self, Buf, Framing, Header, Request, Response, is_plain_uri, is_token, is_value,
};
use super::tls;
use crate::pcaps::Rng;

/// Which side of `HOME_NET` an endpoint is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Inside `HOME_NET` (the VPC).
    Home,
    /// Outside it.
    External,
    /// This address (the rule names addresses of its own).
    Fixed(IpAddr),
}

/// The application content of a trigger session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A DNS query for this name (and its response).
    Dns {
        /// The query name, dotted.
        qname: Vec<u8>,
    },
    /// A TLS handshake.
    Tls {
        /// SNI.
        sni: Option<Vec<u8>>,
        /// Leaf certificate subject (`K=V, K=V`); a certificate chain is
        /// sent (TLS 1.2) when any certificate field is set.
        subject: Option<Vec<u8>>,
        /// Leaf issuer.
        issuer: Option<Vec<u8>>,
        /// Bytes for the leaf's private extension (`tls.certs`).
        cert_extra: Option<Vec<u8>>,
    },
    /// One HTTP transaction.
    Http {
        /// Request.
        req: Box<Request>,
        /// Response.
        resp: Box<Response>,
    },
}

/// A session that makes one rule alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The rule's sid.
    pub sid: u32,
    /// What the session carries.
    pub kind: Kind,
    /// Client side.
    pub client: Side,
    /// Server side.
    pub server: Side,
    /// Server port.
    pub server_port: u16,
    /// Client port when the rule constrains it.
    pub client_port: Option<u16>,
    /// The value each inspected buffer gets (after `dotprefix`), for
    /// checking that the session carries it.
    pub expect: Vec<(Buf, Vec<u8>)>,
    /// The rule inspects the to-server direction.
    pub to_server: bool,
}

impl Trigger {
    /// "dns", "tls" or "http".
    pub fn proto(&self) -> &'static str {
        match self.kind {
            Kind::Dns { .. } => "dns",
            Kind::Tls { .. } => "tls",
            Kind::Http { .. } => "http",
        }
    }
}

/// The triggers derived from rule files, and why the other rules were
/// skipped.
#[derive(Debug, Default)]
pub struct Derived {
    /// One per satisfiable rule, in file order.
    pub triggers: Vec<Trigger>,
    /// Skip reason -> rules.
    pub skipped: BTreeMap<String, usize>,
    /// Enabled rules seen.
    pub rules: usize,
}

/// Derives triggers from the text of rule files (enabled rules only).
pub fn derive(files: &[(String, String)]) -> Derived {
    let vars = Vars::suricata_defaults();
    let mut d = Derived::default();
    for (name, text) in files {
        for r in mirador_rules::parse_rules(name, text) {
            d.rules += 1;
            let res = match r {
                Ok(rule) => derive_rule(&rule, &vars),
                Err(_) => Err("parse error".to_string()),
            };
            match res {
                Ok(t) => d.triggers.push(t),
                Err(why) => *d.skipped.entry(why).or_default() += 1,
            }
        }
    }
    d
}

/// The address sets rules name literally (reputation lists and the like):
/// the generator keeps its background servers out of them.
pub fn address_lists(files: &[(String, String)]) -> Vec<IpSet> {
    let vars = Vars::suricata_defaults();
    let mut out = Vec::new();
    for (name, text) in files {
        for rule in mirador_rules::parse_rules(name, text).into_iter().flatten() {
            let Ok(h) = rule.resolve(&vars) else { continue };
            for set in [h.src, h.dst] {
                let specific = !set.contains(IpAddr::V4(HOME_PROBE[0]))
                    && !set.contains(IpAddr::V4(EXT_PROBE[0]));
                if specific {
                    out.push(set);
                }
            }
        }
    }
    out
}

/// A buffer's steps and conditions.
#[derive(Debug, Clone, Default)]
struct BufSpec {
    steps: Vec<Step>,
    size: Option<(usize, usize)>,
    dotprefix: bool,
}

impl BufSpec {
    fn contents(&self) -> impl Iterator<Item = &Cm> {
        self.steps.iter().filter_map(|s| match s {
            Step::Content(c) => Some(c),
            Step::Pcre(_) => None,
        })
    }
    fn positives(&self) -> impl Iterator<Item = &Cm> {
        self.contents().filter(|c| !c.negated)
    }
    fn negatives(&self) -> impl Iterator<Item = &Cm> {
        self.contents().filter(|c| c.negated)
    }
}

type Specs = BTreeMap<Buf, BufSpec>;

/// The value each inspected buffer gets.
type Expect = Vec<(Buf, Vec<u8>)>;

fn skip<T>(why: impl Into<String>) -> Result<T, String> {
    Err(why.into())
}

/// Reads the options into per-buffer specs and the flow direction.
fn read_options(rule: &Rule) -> Result<(Specs, Option<bool>), String> {
    let mut specs = Specs::new();
    let mut cur: Option<Buf> = None;
    // (buffer, index in its steps) of the last content.
    let mut last: Option<(Option<Buf>, usize)> = None;
    let mut loose: Vec<Step> = Vec::new(); // contents before a legacy modifier
    let mut to_server = None;
    for o in &rule.options {
        let name = o.name.to_ascii_lowercase();
        let val = o.value.as_deref().unwrap_or("");
        if let Some(b) = Buf::from_keyword(&name) {
            // Suricata 7's content modifiers (the other `_` names are
            // aliases of sticky buffers).
            let modifier = matches!(
                name.as_str(),
                "http_uri"
                    | "http_raw_uri"
                    | "http_method"
                    | "http_header"
                    | "http_cookie"
                    | "http_client_body"
                    | "http_server_body"
                    | "http_stat_code"
                    | "http_stat_msg"
                    | "http_user_agent"
                    | "http_host"
                    | "http_raw_host"
            );
            if modifier {
                // A modifier: moves the last content to its buffer.
                let Some((None, i)) = last else {
                    return skip("legacy modifier after a sticky buffer");
                };
                let step = loose.remove(i);
                let spec = specs.entry(b).or_default();
                spec.steps.push(step);
                last = Some((Some(b), spec.steps.len() - 1));
                continue;
            }
            cur = Some(b);
            specs.entry(b).or_default();
            continue;
        }
        macro_rules! with_last {
            ($f:expr) => {{
                let (b, i) = match last {
                    Some(x) => x,
                    None => return skip(format!("{name} without content")),
                };
                let step = match b {
                    Some(b) => specs.get_mut(&b).and_then(|s| s.steps.get_mut(i)),
                    None => loose.get_mut(i),
                };
                match step {
                    Some(Step::Content(c)) =>
                    {
                        #[allow(clippy::redundant_closure_call)]
                        ($f)(c)?
                    }
                    _ => return skip(format!("{name} after pcre")),
                }
            }};
        }
        let num = |v: &str| -> Result<i64, String> {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} with a variable"))
        };
        match name.as_str() {
            "msg" | "sid" | "rev" | "gid" | "classtype" | "priority" | "metadata" | "reference"
            | "target" | "fast_pattern" | "rawbytes" | "tag" => {}
            "content" | "uricontent" => {
                let raw = o.raw_unquoted().unwrap_or("");
                let Some(bytes) = decode_content(raw) else {
                    return skip("content: undecodable");
                };
                let cm = Cm {
                    bytes,
                    negated: o.negated,
                    ..Cm::default()
                };
                let target = if name == "uricontent" {
                    Some(Buf::Uri)
                } else {
                    cur
                };
                match target {
                    Some(b) => {
                        let spec = specs.entry(b).or_default();
                        spec.steps.push(Step::Content(cm));
                        last = Some((Some(b), spec.steps.len() - 1));
                    }
                    None => {
                        loose.push(Step::Content(cm));
                        last = Some((None, loose.len() - 1));
                    }
                }
            }
            "nocase" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.nocase = true;
                Ok(())
            }),
            "startswith" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.startswith = true;
                Ok(())
            }),
            "endswith" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.endswith = true;
                Ok(())
            }),
            "depth" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.depth = Some(num(val)?.max(0) as usize);
                Ok(())
            }),
            "offset" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.offset = Some(num(val)?.max(0) as usize);
                Ok(())
            }),
            "distance" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.distance = Some(num(val)?);
                Ok(())
            }),
            "within" => with_last!(|c: &mut Cm| -> Result<(), String> {
                c.within = Some(num(val)?.max(0) as usize);
                Ok(())
            }),
            "isdataat" => {
                let v: String = val.chars().filter(|c| !c.is_whitespace()).collect();
                if v != "!1,relative" {
                    return skip("isdataat");
                }
                with_last!(|c: &mut Cm| -> Result<(), String> {
                    c.endswith = true;
                    Ok(())
                })
            }
            "bsize" => {
                let Some(b) = cur else {
                    return skip("bsize without buffer");
                };
                let Some(r) = parse_range(val) else {
                    return skip("bsize form");
                };
                specs.entry(b).or_default().size = Some(r);
            }
            "urilen" => {
                let (v, raw) = match val.split_once(',') {
                    Some((v, m)) => (v, m.trim() == "raw"),
                    None => (val, false),
                };
                let Some(r) = parse_range(v) else {
                    return skip("urilen form");
                };
                let b = if raw { Buf::UriRaw } else { Buf::Uri };
                specs.entry(b).or_default().size = Some(r);
            }
            "dotprefix" => {
                let Some(b) = cur else {
                    return skip("dotprefix without buffer");
                };
                let spec = specs.entry(b).or_default();
                if !spec.steps.is_empty() {
                    return skip("dotprefix after content");
                }
                spec.dotprefix = true;
            }
            "pcre" => {
                let raw = o.raw_unquoted().unwrap_or("");
                let Some((mut pcre, flags)) = compile_pcre(raw) else {
                    return skip("pcre not expressible");
                };
                pcre.negated = o.negated;
                let b = match flags.as_slice() {
                    [] => cur,
                    [f] => Buf::from_pcre_flag(*f),
                    _ => None,
                };
                let Some(b) = b else {
                    return skip("pcre outside a known buffer");
                };
                specs.entry(b).or_default().steps.push(Step::Pcre(pcre));
                // A later relative content would follow the pcre: keep
                // `last` on it so modifiers error out as Suricata does.
                last = None;
            }
            "flow" => {
                for part in val.split(',').map(str::trim) {
                    match part {
                        "to_server" | "from_client" => to_server = Some(true),
                        "to_client" | "from_server" => to_server = Some(false),
                        "established" | "stateless" | "only_stream" | "no_stream" => {}
                        other => return skip(format!("flow:{other}")),
                    }
                }
            }
            "flowbits" => {
                let cmd = val.split(',').next().unwrap_or("").trim();
                match cmd {
                    "set" | "unset" | "toggle" | "isnotset" => {}
                    other => return skip(format!("flowbits:{other}")),
                }
            }
            "threshold" => {
                let t = val.replace(' ', "");
                let limit = t.contains("typelimit");
                let count1 = t.split(',').any(|p| p == "count1");
                if !limit && !count1 {
                    return skip("threshold needing several hits");
                }
            }
            other => return skip(other.to_string()),
        }
    }
    if !loose.is_empty() {
        return skip("content outside a buffer");
    }
    specs.retain(|_, s| !s.steps.is_empty() || s.size.is_some());
    Ok((specs, to_server))
}

/// Filler bytes for gaps.
fn filler(rng: &mut Rng, n: usize, digits: bool) -> Vec<u8> {
    const AL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| {
            if digits {
                b'0' + (rng.next_u64() % 10) as u8
            } else {
                AL[(rng.next_u64() % 26) as usize]
            }
        })
        .collect()
}

fn find_at(buf: &[u8], c: &Cm, lo: usize, hi_end: usize) -> Option<usize> {
    let n = c.bytes.len();
    if hi_end > buf.len() || hi_end < lo + n {
        return None;
    }
    (lo..=hi_end - n).find(|&s| {
        let w = &buf[s..s + n];
        if c.nocase {
            w.eq_ignore_ascii_case(&c.bytes)
        } else {
            w == &c.bytes[..]
        }
    })
}

/// A buffer laid out: bytes and whether something must end it.
struct Laid {
    bytes: Vec<u8>,
    end_locked: bool,
}

/// Lays the positive contents (and pcre samples) of `spec` out in order;
/// `prefix` starts the buffer when the first content floats.
fn layout(spec: &BufSpec, prefix: &[u8], digits: bool, rng: &mut Rng) -> Option<Laid> {
    let mut buf: Vec<u8> = Vec::new();
    let first_floats = spec
        .positives()
        .next()
        .is_none_or(|c| !c.anchored() && !c.relative());
    // A pcre anchored at the start describes the whole buffer: its sample
    // is the base the contents are laid over.
    let base = spec.steps.iter().find_map(|s| match s {
        Step::Pcre(p) if !p.negated && !p.relative && p.anchored => p.sample.clone(),
        _ => None,
    });
    match base {
        Some(b) if first_floats => buf = b,
        _ if first_floats => buf.extend_from_slice(prefix),
        _ => {}
    }
    let mut cursor = 0usize;
    let mut end_locked = false;
    // Where padding may go when the buffer must grow: before an endswith
    // content that floats.
    let mut pad_at: Option<usize> = None;
    for step in &spec.steps {
        let c = match step {
            Step::Content(c) if !c.negated => c,
            Step::Content(_) => continue,
            Step::Pcre(p) if p.negated => continue,
            Step::Pcre(p) => {
                let from = if p.relative { cursor.min(buf.len()) } else { 0 };
                if let Some(m) = p.re.find(&buf[from..]) {
                    cursor = from + m.end();
                    continue;
                }
                let sample = p.sample.as_ref()?;
                if end_locked || (p.relative && cursor != buf.len()) || (!p.relative && p.anchored)
                {
                    return None;
                }
                buf.extend_from_slice(sample);
                cursor = buf.len();
                continue;
            }
        };
        let n = c.bytes.len();
        let (lo, hi_end) = if c.relative() {
            let d = c.distance.unwrap_or(0);
            let lo = (cursor as i64 + d).max(0) as usize;
            let hi = c.within.map_or(usize::MAX, |w| {
                (cursor as i64 + d + w as i64).max(0) as usize
            });
            (lo, hi)
        } else if c.startswith {
            (0, n)
        } else {
            let lo = c.offset.unwrap_or(0);
            (lo, c.depth.map_or(usize::MAX, |d| lo + d))
        };
        // Already there (a repeated or overlapping pattern, or a pcre
        // sample's literal)?
        let hi_now = hi_end.min(buf.len());
        if let Some(s) = find_at(&buf, c, lo, hi_now)
            && (!c.endswith || s + n == buf.len())
        {
            cursor = s + n;
            if c.endswith {
                end_locked = true;
            }
            continue;
        }
        if end_locked {
            return None;
        }
        let start = lo.max(buf.len());
        if start + n > hi_end {
            return None;
        }
        let gap = start - buf.len();
        buf.extend_from_slice(&filler(rng, gap, digits));
        buf.extend_from_slice(&c.bytes);
        cursor = start + n;
        if c.endswith {
            end_locked = true;
            let floats = if c.relative() {
                c.within.is_none()
            } else {
                !c.anchored()
            };
            if floats {
                pad_at = Some(start);
            }
        }
    }
    if let Some((lo, _)) = spec.size
        && buf.len() < lo
    {
        let pad = filler(rng, lo - buf.len(), digits);
        match (end_locked, pad_at) {
            (false, _) => buf.extend_from_slice(&pad),
            (true, Some(at)) => {
                buf.splice(at..at, pad);
            }
            (true, None) => return None,
        }
    }
    Some(Laid {
        bytes: buf,
        end_locked,
    })
}

/// The prefix a floating first content needs in `b`.
fn prefix_for(b: Buf, spec: &BufSpec, rng: &mut Rng) -> Vec<u8> {
    let Some(first) = spec.positives().next() else {
        return Vec::new();
    };
    let f = &first.bytes;
    match b {
        Buf::DnsQuery | Buf::TlsSni | Buf::Host | Buf::HostRaw => {
            let starts_dot = f.first() == Some(&b'.');
            if spec.dotprefix {
                if starts_dot {
                    Vec::new()
                } else {
                    b".".to_vec()
                }
            } else if starts_dot {
                filler(rng, 6, false)
            } else {
                Vec::new()
            }
        }
        Buf::Uri | Buf::UriRaw => match f.first() {
            Some(b'/') => Vec::new(),
            Some(b'?') => b"/index.php".to_vec(),
            Some(b'&') => b"/index.php?id=1".to_vec(),
            Some(b'=') => b"/index.php?q".to_vec(),
            Some(b'.') => [b"/", &filler(rng, 6, false)[..]].concat(),
            _ => b"/".to_vec(),
        },
        Buf::TlsSubject | Buf::TlsIssuer => {
            let first_part = tls::split_name(f)[0];
            if first_part.contains(&b'=') {
                Vec::new()
            } else {
                b"CN=".to_vec()
            }
        }
        Buf::RequestLine => {
            if f.first() == Some(&b'/') {
                b"GET ".to_vec()
            } else {
                Vec::new()
            }
        }
        Buf::ResponseLine => {
            if f.first().is_some_and(u8::is_ascii_digit) {
                b"HTTP/1.1 ".to_vec()
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// Lays out every buffer of `specs` that has positive contents; buffers
/// with only negations, pcre or sizes are left to the message defaults.
fn lay_all(specs: &Specs, rng: &mut Rng) -> Result<BTreeMap<Buf, Laid>, String> {
    let mut out = BTreeMap::new();
    for (b, spec) in specs {
        let has_sample = spec
            .steps
            .iter()
            .any(|s| matches!(s, Step::Pcre(p) if !p.negated && p.sample.is_some()));
        if spec.positives().next().is_none() && !has_sample {
            if spec.size.is_some_and(|(lo, _)| lo > 0) {
                // A size only: filler of that size.
                let laid = layout(spec, &[], matches!(b, Buf::StatCode | Buf::ContentLen), rng)
                    .ok_or("size")?;
                out.insert(*b, laid);
            }
            continue;
        }
        let prefix = prefix_for(*b, spec, rng);
        let digits = matches!(b, Buf::StatCode | Buf::ContentLen);
        let Some(mut laid) = layout(spec, &prefix, digits, rng) else {
            return skip(format!("layout {b:?}"));
        };
        if spec.dotprefix {
            if laid.bytes.first() != Some(&b'.') {
                return skip("dotprefix layout");
            }
            laid.bytes.remove(0);
        }
        out.insert(*b, laid);
    }
    Ok(out)
}

/// Checks every buffer spec against the values `get` gives.
fn check(
    specs: &Specs,
    get: impl Fn(Buf) -> Option<Vec<u8>>,
) -> Result<Vec<(Buf, Vec<u8>)>, String> {
    let mut expect = Vec::new();
    for (b, spec) in specs {
        let Some(v) = get(*b) else {
            return skip(format!("check {b:?} absent"));
        };
        let v = if spec.dotprefix {
            [&b"."[..], &v].concat()
        } else {
            v
        };
        if !matches(&spec.steps, spec.size, &v) {
            return skip(format!("check {b:?}"));
        }
        expect.push((*b, v));
    }
    Ok(expect)
}

const HOME_PROBE: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 1, 10), Ipv4Addr::new(10, 0, 2, 20)];
const EXT_PROBE: [Ipv4Addr; 2] = [
    Ipv4Addr::new(93, 184, 216, 34),
    Ipv4Addr::new(151, 101, 1, 69),
];

fn side(set: &IpSet, prefer_home: bool) -> Option<Side> {
    let home = HOME_PROBE.iter().all(|a| set.contains(IpAddr::V4(*a)));
    let ext = EXT_PROBE.iter().all(|a| set.contains(IpAddr::V4(*a)));
    match (home, ext) {
        (true, true) if prefer_home => Some(Side::Home),
        (_, true) => Some(Side::External),
        (true, _) => Some(Side::Home),
        _ => {
            let &(lo, hi) = set.v4_ranges().first()?;
            let a = if hi > lo { lo + 1 } else { lo };
            Some(Side::Fixed(IpAddr::V4(Ipv4Addr::from(a))))
        }
    }
}

fn server_port(set: &PortSet, default: u16) -> Option<u16> {
    if set.contains(default) {
        return Some(default);
    }
    set.ranges()
        .iter()
        .map(|&(lo, _)| lo.max(1))
        .find(|&p| set.contains(p))
}

fn client_port(set: &PortSet) -> Option<Option<u16>> {
    if set.is_any() || (49152..=49160).all(|p| set.contains(p)) {
        return Some(None);
    }
    let p = set
        .ranges()
        .iter()
        .map(|&(lo, _)| lo.max(1))
        .find(|&p| set.contains(p))?;
    Some(Some(p))
}

/// The trigger for one rule, or why not.
pub fn derive_rule(rule: &Rule, vars: &Vars) -> Result<Trigger, String> {
    if rule.direction != Direction::ToDst {
        return skip("direction <>");
    }
    let proto_name = match &rule.protocol {
        Protocol::AppLayer(p) => match p.as_str() {
            "http" | "http1" => "http",
            "tls" => "tls",
            "dns" => "dns",
            other => return skip(format!("protocol {other}")),
        },
        Protocol::Tcp | Protocol::TcpStream => "tcp",
        Protocol::Udp => "udp",
        other => return skip(format!("protocol {}", other.as_str())),
    };
    let (specs, flow_dir) = read_options(rule)?;
    let Some(first) = specs.keys().next() else {
        return skip("no buffer");
    };
    let proto = first.proto();
    if specs.keys().any(|b| b.proto() != proto) {
        return skip("buffers of several protocols");
    }
    match (proto_name, proto) {
        ("tcp", "http" | "tls") | ("udp", "dns") => {}
        (a, b) if a == b => {}
        _ => return skip(format!("{proto_name} rule with {proto} buffers")),
    }
    let response_side = specs.keys().any(|b| {
        matches!(
            b,
            Buf::StatCode
                | Buf::StatMsg
                | Buf::ResponseLine
                | Buf::ResponseBody
                | Buf::Server
                | Buf::Location
                | Buf::TlsSubject
                | Buf::TlsIssuer
                | Buf::TlsCerts
        )
    });
    let to_server = flow_dir.unwrap_or(!response_side);
    if to_server && response_side {
        return skip("response buffer in a to_server rule");
    }
    if proto == "dns" && !to_server {
        return skip("dns to_client");
    }
    let header = rule.resolve(vars).map_err(|_| "header".to_string())?;
    let (c_ips, c_ports, s_ips, s_ports) = if to_server {
        (
            &header.src,
            &header.src_ports,
            &header.dst,
            &header.dst_ports,
        )
    } else {
        (
            &header.dst,
            &header.dst_ports,
            &header.src,
            &header.src_ports,
        )
    };
    let client = side(c_ips, true).ok_or("client address")?;
    let server = side(s_ips, proto == "dns").ok_or("server address")?;
    let default_port = match proto {
        "dns" => 53,
        "tls" => 443,
        _ => 80,
    };
    let sport = server_port(s_ports, default_port).ok_or("server port")?;
    if proto == "dns" && sport != 53 {
        return skip("dns off port 53");
    }
    let cport = client_port(c_ports).ok_or("client port")?;
    let mut rng = Rng::new(0x5151_0000 ^ u64::from(rule.sid));
    let laid = lay_all(&specs, &mut rng)?;
    let (kind, expect) = match proto {
        "dns" => build_dns(&specs, &laid)?,
        "tls" => build_tls(&specs, &laid, &mut rng)?,
        _ => build_http(&specs, &laid, to_server, &mut rng)?,
    };
    Ok(Trigger {
        sid: rule.sid,
        kind,
        client,
        server,
        server_port: sport,
        client_port: cport,
        expect,
        to_server,
    })
}

fn build_dns(specs: &Specs, laid: &BTreeMap<Buf, Laid>) -> Result<(Kind, Expect), String> {
    let qname = laid
        .get(&Buf::DnsQuery)
        .ok_or("dns.query without content")?
        .bytes
        .clone();
    if !valid_name(&qname) {
        return skip("dns name invalid");
    }
    let expect = check(specs, |b| (b == Buf::DnsQuery).then(|| qname.clone()))?;
    Ok((Kind::Dns { qname }, expect))
}

/// Default certificate issuer of trigger chains.
pub const TRIGGER_ISSUER: &[u8] = b"C=US, O=Example Trust Services, CN=Example TLS RSA CA G1";

fn build_tls(
    specs: &Specs,
    laid: &BTreeMap<Buf, Laid>,
    rng: &mut Rng,
) -> Result<(Kind, Expect), String> {
    let get = |b| laid.get(&b).map(|l| l.bytes.clone());
    let sni = get(Buf::TlsSni);
    if let Some(s) = &sni
        && !valid_name(s)
    {
        return skip("sni invalid");
    }
    if specs.contains_key(&Buf::TlsSni) && sni.is_none() {
        return skip("tls.sni without content");
    }
    let certs = [Buf::TlsSubject, Buf::TlsIssuer, Buf::TlsCerts]
        .iter()
        .any(|b| specs.contains_key(b));
    let (subject, issuer, cert_extra) = if certs {
        let subject = get(Buf::TlsSubject).unwrap_or_else(|| {
            let cn = sni.clone().unwrap_or_else(|| b"app.example.net".to_vec());
            [&b"CN="[..], &cn].concat()
        });
        let issuer = get(Buf::TlsIssuer).unwrap_or_else(|| TRIGGER_ISSUER.to_vec());
        if tls::name_der(&subject).is_none() || tls::name_der(&issuer).is_none() {
            return skip("certificate name");
        }
        (Some(subject), Some(issuer), get(Buf::TlsCerts))
    } else {
        (None, None, None)
    };
    let leaf = cert_extra.as_ref().map(|x| {
        tls::cert_der(
            &tls::Cert {
                serial: vec![0x11, 0x22],
                issuer: issuer.clone().unwrap_or_default(),
                subject: subject.clone().unwrap_or_default(),
                validity: (b"240101000000Z".to_vec(), b"260101000000Z".to_vec()),
                dns_names: Vec::new(),
                ca: false,
                extra: Some(x.clone()),
            },
            rng,
        )
    });
    let expect = check(specs, |b| match b {
        Buf::TlsSni => sni.clone(),
        Buf::TlsSubject => subject.clone(),
        Buf::TlsIssuer => issuer.clone(),
        Buf::TlsCerts => leaf.clone().flatten(),
        _ => None,
    })?;
    Ok((
        Kind::Tls {
            sni,
            subject,
            issuer,
            cert_extra,
        },
        expect,
    ))
}

fn set_header(h: &mut Vec<Header>, name: &str, value: Vec<u8>) {
    if let Some(e) = h
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    {
        e.1 = value;
    } else {
        h.push((name.as_bytes().to_vec(), value));
    }
}

fn remove_header(h: &mut Vec<Header>, name: &[u8]) {
    h.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
}

/// The trigger request's starting headers (a browser).
fn base_request(rng: &mut Rng) -> Request {
    let host = format!(
        "www.{}.com",
        String::from_utf8_lossy(&filler(rng, 8, false))
    );
    Request {
        method: b"GET".to_vec(),
        uri: [&b"/"[..], &filler(rng, 8, false), b".html"].concat(),
        protocol: b"HTTP/1.1".to_vec(),
        headers: vec![
            (b"Host".to_vec(), host.into_bytes()),
            (
                b"User-Agent".to_vec(),
                b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36".to_vec(),
            ),
            (b"Accept".to_vec(), b"*/*".to_vec()),
            (b"Accept-Language".to_vec(), b"en-US,en;q=0.9".to_vec()),
            (b"Accept-Encoding".to_vec(), b"gzip, deflate".to_vec()),
            (b"Connection".to_vec(), b"keep-alive".to_vec()),
        ],
        body: Vec::new(),
    }
}

fn base_response() -> Response {
    Response {
        headers: vec![
            (b"Date".to_vec(), b"Mon, 01 Jan 2024 00:00:00 GMT".to_vec()),
            (b"Server".to_vec(), b"nginx".to_vec()),
            (
                b"Content-Type".to_vec(),
                b"text/html; charset=utf-8".to_vec(),
            ),
        ],
        ..Response::ok(b"<html><head><title>ok</title></head><body>ok</body></html>".to_vec())
    }
}

/// Default value of a header a rule names without a value.
fn default_value(name: &[u8], req: &Request) -> Vec<u8> {
    let lower = name.to_ascii_lowercase();
    match &lower[..] {
        b"host" => b"www.example.com".to_vec(),
        b"user-agent" => b"Mozilla/5.0".to_vec(),
        b"accept" => b"*/*".to_vec(),
        b"connection" => b"Keep-Alive".to_vec(),
        b"cache-control" | b"pragma" => b"no-cache".to_vec(),
        b"content-type" => b"application/x-www-form-urlencoded".to_vec(),
        b"content-length" => req.body.len().to_string().into_bytes(),
        b"accept-encoding" => b"gzip, deflate".to_vec(),
        b"accept-language" => b"en-US".to_vec(),
        b"referer" => b"http://www.example.com/".to_vec(),
        b"cookie" => b"id=1".to_vec(),
        _ => b"1".to_vec(),
    }
}

fn split_crlf(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'\r' && b[i + 1] == b'\n' {
            out.push(&b[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    out.push(&b[start..]);
    out
}

/// `Name: value` split, when `line` is one.
fn parse_line(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let colon = line.iter().position(|&c| c == b':')?;
    let name = &line[..colon];
    let rest = &line[colon + 1..];
    let value = rest.strip_prefix(b" ").unwrap_or(rest);
    is_token(name).then(|| (name.to_vec(), value.to_vec()))
}

fn starts_at_zero(spec: &BufSpec) -> bool {
    spec.positives()
        .next()
        .is_some_and(|c| c.startswith || (c.offset.unwrap_or(0) == 0 && c.depth.is_some()))
}

/// Removes non-`keep` headers that a negated content of `spec` would find
/// in their `N: V` line or name.
fn drop_negated(h: &mut Vec<Header>, spec: &BufSpec, keep: &[Vec<u8>]) {
    for n in spec.negatives() {
        let core: Vec<u8> = {
            let mut c = &n.bytes[..];
            while let Some(r) = c.strip_prefix(b"\r\n") {
                c = r;
            }
            while let Some(r) = c.strip_suffix(b"\r\n") {
                c = r;
            }
            c.to_vec()
        };
        if core.is_empty() {
            continue;
        }
        h.retain(|(name, v)| {
            if keep.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                return true;
            }
            let line = [&name[..], b": ", v].concat();
            let hit = line
                .windows(core.len())
                .any(|w| w.eq_ignore_ascii_case(&core));
            !hit
        });
    }
}

/// Puts `http.header` bytes into the header list.
fn apply_header(
    h: &mut Vec<Header>,
    spec: &BufSpec,
    s: &[u8],
    req: &Request,
) -> Result<(), String> {
    let pieces = split_crlf(s);
    let mut lines: Vec<Header> = Vec::new();
    let n = pieces.len();
    if n == 1 {
        let frag = pieces[0];
        let cur = h.iter().any(|(name, v)| {
            let line = [&name[..], b": ", v].concat();
            line.windows(frag.len()).any(|w| w == frag)
        });
        if !cur {
            let (name, value) = match parse_line(frag) {
                Some((name, v)) if !v.is_empty() => (name, v),
                Some((name, _)) => {
                    let v = default_value(&name, req);
                    (name, v)
                }
                None if frag.first() == Some(&b':') => {
                    let v = frag[1..].strip_prefix(b" ").unwrap_or(&frag[1..]).to_vec();
                    (b"X-Request-Data".to_vec(), v)
                }
                None => (b"X-Request-Data".to_vec(), frag.to_vec()),
            };
            remove_header(h, &name);
            h.push((name, value));
        }
        drop_negated(h, spec, &[]);
        return Ok(());
    }
    let first = pieces[0];
    if !first.is_empty() {
        match parse_line(first) {
            Some(l) => lines.push(l),
            None => {
                // A value's tail: a header whose value ends with it.
                if let Some(e) = h.iter().find(|(_, v)| v.ends_with(first)) {
                    lines.push(e.clone());
                } else if let Some(v) = first.strip_prefix(b": ") {
                    lines.push((b"X-Request-Data".to_vec(), v.to_vec()));
                } else {
                    lines.push((b"X-Request-Data".to_vec(), first.to_vec()));
                }
            }
        }
    }
    for mid in &pieces[1..n - 1] {
        if mid.is_empty() {
            return skip("http.header end of headers");
        }
        lines.push(parse_line(mid).ok_or("http.header line")?);
    }
    let last = pieces[n - 1];
    if !last.is_empty() {
        match parse_line(last) {
            Some((name, v)) => {
                let existing = h
                    .iter()
                    .find(|(nm, ev)| {
                        nm.eq_ignore_ascii_case(&name) && ev.starts_with(&v) && !ev.is_empty()
                    })
                    .map(|(_, ev)| ev.clone());
                let v = match existing {
                    Some(ev) => ev,
                    None if v.is_empty() => default_value(&name, req),
                    None => v,
                };
                lines.push((name, v));
            }
            None => {
                let e = h
                    .iter()
                    .find(|(nm, _)| {
                        nm.len() > last.len() && nm[..last.len()].eq_ignore_ascii_case(last)
                    })
                    .cloned()
                    .ok_or("http.header name fragment")?;
                lines.push(e);
            }
        }
    }
    let names: Vec<Vec<u8>> = lines.iter().map(|(n, _)| n.clone()).collect();
    let mut rest: Vec<Header> = h
        .iter()
        .filter(|(nm, _)| !names.iter().any(|x| x.eq_ignore_ascii_case(nm)))
        .cloned()
        .collect();
    drop_negated(&mut rest, spec, &[]);
    if starts_at_zero(spec) {
        *h = [lines, rest].concat();
    } else {
        if rest.is_empty()
            || (first.is_empty() && rest.iter().all(|(n, _)| n.eq_ignore_ascii_case(b"cookie")))
        {
            rest.insert(0, (b"Accept".to_vec(), b"*/*".to_vec()));
        }
        *h = [rest, lines].concat();
    }
    Ok(())
}

/// Puts `http.header_names` bytes into the header list (order and
/// presence).
fn apply_names(h: &mut Vec<Header>, spec: &BufSpec, s: &[u8], req: &Request) -> Result<(), String> {
    let pieces = split_crlf(s);
    let n = pieces.len();
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut at_end = false;
    if n == 1 {
        let frag = pieces[0];
        if !h
            .iter()
            .any(|(nm, _)| nm.windows(frag.len().max(1)).any(|w| w == frag))
        {
            if !is_token(frag) {
                return skip("http.header_names fragment");
            }
            names.push(frag.to_vec());
        }
    } else {
        let first = pieces[0];
        if !first.is_empty() {
            let name = h
                .iter()
                .map(|(nm, _)| nm.clone())
                .find(|nm| nm.ends_with(first))
                .unwrap_or_else(|| first.to_vec());
            names.push(name);
        }
        for (i, mid) in pieces[1..n - 1].iter().enumerate() {
            if mid.is_empty() {
                // "\r\n\r\n": the end of the buffer.
                if i + 2 != n - 1 || !pieces[n - 1].is_empty() {
                    return skip("http.header_names past the end");
                }
                at_end = true;
                break;
            }
            names.push(mid.to_vec());
        }
        let last = pieces[n - 1];
        if !last.is_empty() {
            let name = h
                .iter()
                .map(|(nm, _)| nm.clone())
                .find(|nm| nm.starts_with(last))
                .unwrap_or_else(|| last.to_vec());
            names.push(name);
        }
    }
    for nm in &names {
        if !is_token(nm) {
            return skip("http.header_names name");
        }
    }
    let mut lines: Vec<Header> = Vec::new();
    for nm in &names {
        if lines.iter().any(|(x, _)| x.eq_ignore_ascii_case(nm)) {
            return skip("http.header_names repeats a name");
        }
        let v = h
            .iter()
            .find(|(x, _)| x.eq_ignore_ascii_case(nm))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| default_value(nm, req));
        lines.push((nm.clone(), v));
    }
    let mut rest: Vec<Header> = h
        .iter()
        .filter(|(nm, _)| !names.iter().any(|x| x.eq_ignore_ascii_case(nm)))
        .cloned()
        .collect();
    // Negated names: drop the default headers they name.
    for neg in spec.negatives() {
        let core: Vec<u8> = neg
            .bytes
            .split(|&c| c == b'\r' || c == b'\n')
            .filter(|p| !p.is_empty())
            .flat_map(|p| p.to_vec())
            .collect();
        rest.retain(|(nm, _)| {
            !nm.windows(core.len().max(1))
                .any(|w| w.eq_ignore_ascii_case(&core))
        });
    }
    *h = if starts_at_zero(spec) && !at_end {
        [lines, rest].concat()
    } else {
        [rest, lines].concat()
    };
    Ok(())
}

fn reason_for(code: &[u8]) -> &'static [u8] {
    match code {
        b"200" => b"OK",
        b"201" => b"Created",
        b"204" => b"No Content",
        b"301" => b"Moved Permanently",
        b"302" => b"Found",
        b"304" => b"Not Modified",
        b"400" => b"Bad Request",
        b"401" => b"Unauthorized",
        b"403" => b"Forbidden",
        b"404" => b"Not Found",
        b"500" => b"Internal Server Error",
        b"503" => b"Service Unavailable",
        _ => b"Status",
    }
}

fn build_http(
    specs: &Specs,
    laid: &BTreeMap<Buf, Laid>,
    to_server: bool,
    rng: &mut Rng,
) -> Result<(Kind, Expect), String> {
    let mut req = base_request(rng);
    let mut resp = base_response();
    let get = |b: Buf| laid.get(&b);
    if let Some(l) = get(Buf::RequestLine) {
        let mut line = l.bytes.clone();
        if !l.end_locked && !line.windows(6).any(|w| w == b" HTTP/") {
            line.extend_from_slice(b" HTTP/1.1");
        }
        let parts: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
        let [m, u, p] = parts[..] else {
            return skip("http.request_line shape");
        };
        req.method = m.to_vec();
        req.uri = u.to_vec();
        req.protocol = p.to_vec();
    }
    if let Some(l) = get(Buf::ResponseLine) {
        let line = &l.bytes;
        let mut it = line.splitn(3, |&c| c == b' ');
        let (Some(p), Some(c), r) = (it.next(), it.next(), it.next()) else {
            return skip("http.response_line shape");
        };
        resp.protocol = p.to_vec();
        resp.status = c.to_vec();
        resp.reason = r.map_or_else(|| reason_for(c).to_vec(), <[u8]>::to_vec);
    }
    if let Some(l) = get(Buf::Method) {
        req.method = l.bytes.clone();
    }
    if let Some(l) = get(Buf::Uri).or(get(Buf::UriRaw)) {
        req.uri = l.bytes.clone();
    }
    if let Some(l) = get(Buf::Protocol) {
        if to_server {
            req.protocol = l.bytes.clone();
        } else {
            resp.protocol = l.bytes.clone();
        }
    }
    if let Some(l) = get(Buf::RequestBody) {
        req.body = l.bytes.clone();
        if req.method == b"GET" && !specs.contains_key(&Buf::Method) {
            req.method = b"POST".to_vec();
        }
        if !req
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
        {
            req.headers.push((
                b"Content-Type".to_vec(),
                b"application/x-www-form-urlencoded".to_vec(),
            ));
        }
    }
    if let Some(l) = get(Buf::ResponseBody) {
        resp.body = l.bytes.clone();
    }
    if let Some(l) = get(Buf::StatCode) {
        resp.status = l.bytes.clone();
        resp.reason = reason_for(&l.bytes).to_vec();
    }
    if let Some(l) = get(Buf::StatMsg) {
        resp.reason = l.bytes.clone();
    }
    for b in [
        Buf::Host,
        Buf::HostRaw,
        Buf::UserAgent,
        Buf::Referer,
        Buf::Accept,
        Buf::AcceptEnc,
        Buf::AcceptLang,
        Buf::Connection,
        Buf::ContentType,
        Buf::ContentLen,
        Buf::Server,
        Buf::Location,
        Buf::Cookie,
    ] {
        let Some(l) = get(b) else { continue };
        let v = l.bytes.clone();
        if !is_value(&v) {
            return skip(format!("{b:?} value"));
        }
        if matches!(b, Buf::Host | Buf::HostRaw) && !valid_name(&v) {
            return skip("host not a name");
        }
        let response = !to_server || matches!(b, Buf::Server | Buf::Location);
        let response = response
            && !matches!(
                b,
                Buf::Host
                    | Buf::HostRaw
                    | Buf::UserAgent
                    | Buf::Referer
                    | Buf::Accept
                    | Buf::AcceptEnc
                    | Buf::AcceptLang
            );
        let name = match b {
            Buf::Cookie if response => "Set-Cookie",
            Buf::Cookie => "Cookie",
            _ => b.header_name().unwrap_or("X"),
        };
        if b == Buf::ContentLen {
            let n: usize = std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|&n| n < 100_000)
                .ok_or("content_len value")?;
            if response {
                if resp.body.len() != n {
                    resp.body = filler(rng, n, false);
                }
            } else if req.body.len() != n {
                req.body = filler(rng, n, false);
                if req.method == b"GET" && !specs.contains_key(&Buf::Method) {
                    req.method = b"POST".to_vec();
                }
            }
        }
        if response {
            set_header(&mut resp.headers, name, v);
        } else {
            set_header(&mut req.headers, name, v);
        }
    }
    // Only negations/pcre on the User-Agent: try other agents.
    if let Some(spec) = specs.get(&Buf::UserAgent)
        && !laid.contains_key(&Buf::UserAgent)
    {
        let alts: [&[u8]; 4] = [
            b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            b"curl/8.5.0",
            b"python-requests/2.31.0",
            b"Microsoft-CryptoAPI/10.0",
        ];
        if let Some(a) = alts.iter().find(|a| matches(&spec.steps, spec.size, a)) {
            set_header(&mut req.headers, "User-Agent", a.to_vec());
        }
    }
    let req_view = req.clone();
    let dir_headers = if to_server {
        &mut req.headers
    } else {
        &mut resp.headers
    };
    if let (Some(l), Some(spec)) = (get(Buf::Header), specs.get(&Buf::Header)) {
        apply_header(dir_headers, spec, &l.bytes, &req_view)?;
    } else if let Some(spec) = specs.get(&Buf::Header) {
        drop_negated(dir_headers, spec, &[]);
    }
    if let (Some(l), Some(spec)) = (get(Buf::HeaderNames), specs.get(&Buf::HeaderNames)) {
        apply_names(dir_headers, spec, &l.bytes, &req_view)?;
    } else if let Some(spec) = specs.get(&Buf::HeaderNames) {
        apply_names(dir_headers, spec, b"", &req_view).ok();
    }
    if specs.contains_key(&Buf::Start) {
        return skip("http.start");
    }
    // What libhtp would not parse as written, or would normalise.
    if !is_token(&req.method) || req.method.eq_ignore_ascii_case(b"CONNECT") {
        return skip("method");
    }
    if !is_plain_uri(&req.uri) {
        return skip("uri not plain");
    }
    if !matches!(&req.protocol[..], b"HTTP/1.1" | b"HTTP/1.0")
        || !matches!(&resp.protocol[..], b"HTTP/1.1" | b"HTTP/1.0")
    {
        return skip("protocol");
    }
    let code = &resp.status;
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&code[0])
    {
        return skip("status code");
    }
    if !resp.reason.iter().all(|c| (0x20..0x7f).contains(c)) {
        return skip("status message");
    }
    for (n, v) in req.headers.iter().chain(resp.headers.iter()) {
        if !is_token(n) || !(v.is_empty() || is_value(v)) {
            return skip("header not writable");
        }
    }
    if let Some(h) = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"host"))
        && h.1.contains(&b':')
    {
        return skip("host with port");
    }
    for hs in [&req.headers, &resp.headers] {
        for (i, (n, _)) in hs.iter().enumerate() {
            if hs[..i].iter().any(|(m, _)| m.eq_ignore_ascii_case(n)) {
                return skip("duplicate header");
            }
        }
    }
    if req.method.eq_ignore_ascii_case(b"HEAD") || matches!(&code[..], b"204" | b"304") {
        if !resp.body.is_empty() && specs.contains_key(&Buf::ResponseBody) {
            return skip("body on a bodiless response");
        }
        resp.body.clear();
        set_header(&mut resp.headers, "Content-Length", b"0".to_vec());
    }
    // Request Content-Length must agree with the body written.
    if let Some((_, v)) = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"content-length"))
        && v != req.body.len().to_string().as_bytes()
    {
        return skip("request content-length");
    }
    if let Some((_, v)) = resp
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"content-length"))
        && v != resp.body.len().to_string().as_bytes()
    {
        return skip("response content-length");
    }
    if resp.headers.iter().any(|(n, _)| {
        n.eq_ignore_ascii_case(b"transfer-encoding") || n.eq_ignore_ascii_case(b"content-encoding")
    }) || req.headers.iter().any(|(n, _)| {
        n.eq_ignore_ascii_case(b"transfer-encoding") || n.eq_ignore_ascii_case(b"content-encoding")
    }) {
        return skip("coding header");
    }
    resp.framing = Framing::Length;
    let expect = check(specs, |b| http::buffer(b, &req, &resp, to_server))?;
    Ok((
        Kind::Http {
            req: Box::new(req),
            resp: Box::new(resp),
        },
        expect,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(rule: &str) -> Result<Trigger, String> {
        let r = Rule::parse(rule).unwrap();
        derive_rule(&r, &Vars::suricata_defaults())
    }

    #[test]
    fn dns_dotprefix_endswith() {
        let t = one(r#"alert dns $HOME_NET any -> any any (msg:"x"; dns.query; dotprefix; content:".evil.example"; nocase; endswith; sid:1;)"#).unwrap();
        assert_eq!(
            t.kind,
            Kind::Dns {
                qname: b"evil.example".to_vec()
            }
        );
        assert_eq!(t.client, Side::Home);
        assert_eq!(t.server_port, 53);
        let t = one(r#"alert dns $HOME_NET any -> any any (msg:"x"; dns.query; content:".duckdns.org"; endswith; sid:2;)"#).unwrap();
        let Kind::Dns { qname } = t.kind else {
            panic!()
        };
        assert!(qname.ends_with(b".duckdns.org") && qname.len() > 12);
    }

    #[test]
    fn tls_sni_and_subject() {
        let t = one(r#"alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; tls.sni; content:"bad.example"; bsize:11; fast_pattern; sid:3;)"#).unwrap();
        assert!(
            matches!(&t.kind, Kind::Tls { sni: Some(s), subject: None, .. } if s == b"bad.example")
        );
        assert_eq!(
            (t.client, t.server, t.server_port),
            (Side::Home, Side::External, 443)
        );
        let t = one(r#"alert tls $EXTERNAL_NET any -> $HOME_NET any (msg:"x"; flow:established,to_client; tls.cert_subject; content:"evil corp"; sid:4;)"#).unwrap();
        assert!(!t.to_server);
        assert!(matches!(&t.kind, Kind::Tls { subject: Some(s), .. } if s == b"CN=evil corp"));
    }

    #[test]
    fn http_request_parts() {
        let t = one(r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; http.method; content:"POST"; http.uri; content:"/gate.php"; startswith; http.user_agent; content:"Bot/1.0"; http.request_body; content:"id="; startswith; http.header_names; content:!"Referer"; sid:5;)"#).unwrap();
        let Kind::Http { req, .. } = &t.kind else {
            panic!()
        };
        assert_eq!(req.method, b"POST");
        assert!(req.uri.starts_with(b"/gate.php"));
        assert!(req.body.starts_with(b"id="));
        assert!(
            req.headers
                .iter()
                .any(|(n, v)| n == b"User-Agent" && v == b"Bot/1.0")
        );
        let enc = req.encode();
        assert!(enc.starts_with(b"POST /gate.php"));
    }

    #[test]
    fn http_header_lines() {
        let t = one(r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"x"; flow:established,to_server; http.header; content:"|0d 0a|X-Id|3a 20|abc|0d 0a|"; http.header_names; content:"|0d 0a|Host|0d 0a|"; content:!"Accept-Language"; sid:6;)"#).unwrap();
        let Kind::Http { req, .. } = &t.kind else {
            panic!()
        };
        assert!(req.headers.iter().any(|(n, v)| n == b"X-Id" && v == b"abc"));
        assert!(!req.headers.iter().any(|(n, _)| n == b"Accept-Language"));
    }

    #[test]
    fn http_response_side() {
        let t = one(r#"alert http $EXTERNAL_NET $HTTP_PORTS -> $HOME_NET any (msg:"x"; flow:established,to_client; http.stat_code; content:"404"; file.data; content:"<title>pwn"; sid:7;)"#).unwrap();
        assert!(!t.to_server);
        assert_eq!(
            (t.client, t.server, t.server_port),
            (Side::Home, Side::External, 80)
        );
        let Kind::Http { resp, .. } = &t.kind else {
            panic!()
        };
        assert_eq!(resp.status, b"404");
        assert!(resp.body.windows(10).any(|w| w == b"<title>pwn"));
    }

    #[test]
    fn skips_what_it_cannot_do() {
        let r = |s| one(s).unwrap_err();
        assert_eq!(
            r(
                r#"alert http any any -> any any (msg:"x"; flowbits:isset,a; http.uri; content:"/a"; sid:8;)"#
            ),
            "flowbits:isset"
        );
        assert_eq!(
            r(r#"alert tls any any -> any any (msg:"x"; ja3.hash; content:"abc"; sid:9;)"#),
            "ja3.hash"
        );
        assert_eq!(
            r(r#"alert http any any -> any any (msg:"x"; content:"abc"; sid:10;)"#),
            "content outside a buffer"
        );
        // contradictory: bsize shorter than the content
        assert!(r(r#"alert dns any any -> any any (msg:"x"; dns.query; content:"abcdef"; bsize:3; sid:11;)"#).starts_with("check"));
        // pcre the contents do not satisfy
        let why = r(
            r#"alert http any any -> any any (msg:"x"; http.uri; content:"/a"; startswith; pcre:"/^\/b/U"; sid:12;)"#,
        );
        assert!(
            why.starts_with("layout") || why.starts_with("check"),
            "{why}"
        );
        // ... while a pcre the sample satisfies is fine.
        let t = one(r#"alert http any any -> any any (msg:"x"; http.uri; content:"/a"; pcre:"/\/a\/[0-9]{3}$/U"; sid:13;)"#).unwrap();
        let Kind::Http { req, .. } = t.kind else {
            panic!()
        };
        assert!(req.uri.ends_with(b"/a/000"));
    }
}
