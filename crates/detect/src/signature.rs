//! A parsed rule compiled into a [`Signature`]: every option enforced, or
//! the rule skipped with the reason (the first keyword it cannot enforce).
//!
//! A rule counts as loaded only if every option is enforced when matching
//! (the brief's rule, and what `mirador check-rules` reports). What this
//! release enforces: the header (protocol, addresses, ports, direction),
//! the packet-header keywords ([`crate::header`]), the payload keywords on
//! the packet payload or the reassembled stream ([`crate::payload`]),
//! `pcre` (through [`Signature`]'s regex hook), `base64_decode` and
//! `base64_data` (on the packet payload or stream), `dsize`, `flowbits`,
//! `flowint`, `xbits`, `threshold`, `detection_filter`, `noalert`,
//! `stream-event`, `decode-event` and the meta keywords. App-layer
//! protocols and sticky buffers (`http.uri`, `tls.sni`, `file.data`, ...)
//! come with the app-layer parsers and skip the rule until then.

use std::net::IpAddr;
use std::sync::Arc;

use mirador_rules::{
    Action, Classifications, Direction, Protocol, ResolvedHeader, Rule, RuleOption, Vars,
};

use crate::buffer::{AppProto, Buffer, FileHashKind, Sides, Slot, Transform, Transforms, TxDir};
use crate::flowvars::{Flowbits, Flowint, Names, Xbits};
use crate::header::UintCmp;
use crate::header::{HeaderMatch, PacketView};
use crate::payload::{Dsize, Program, RegexStep, Step};
use crate::threshold;

mod lists;
use lists::{Lists, StickyList};

/// Why a rule was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// A keyword (or protocol, or action) this release does not enforce:
    /// the rule would match more than it should. The name is the reason.
    Unsupported(String),
    /// A keyword whose value is invalid (Suricata also rejects the rule).
    Invalid {
        /// The keyword.
        keyword: String,
        /// What is wrong.
        message: String,
    },
}

impl Skip {
    /// The reason as `mirador check-rules` counts it: the keyword for an
    /// unsupported one, `invalid <keyword>` for a bad value.
    pub fn reason(&self) -> String {
        match self {
            Skip::Unsupported(k) => k.clone(),
            Skip::Invalid { keyword, .. } => format!("invalid {keyword}"),
        }
    }
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Unsupported(k) => write!(f, "unsupported: {k}"),
            Skip::Invalid { keyword, message } => write!(f, "{keyword}: {message}"),
        }
    }
}

fn invalid(keyword: &str, message: impl std::fmt::Display) -> Skip {
    Skip::Invalid {
        keyword: keyword.to_string(),
        message: message.to_string(),
    }
}

/// What the rule's protocol field admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// `ip`, `pkthdr`: any IP packet.
    Ip,
    /// `ipv4`.
    Ipv4,
    /// `ipv6`.
    Ipv6,
    /// `tcp`, `tcp-pkt`, `tcp-stream`.
    Tcp,
    /// `udp`.
    Udp,
    /// `icmp`: ICMPv4 and ICMPv6.
    Icmp,
    /// `icmpv4`.
    Icmpv4,
    /// `icmpv6`.
    Icmpv6,
    /// `sctp`.
    Sctp,
    /// TCP or UDP (`dns`).
    TcpUdp,
}

impl Proto {
    /// Whether a packet of IP protocol `p` (and version) is admitted.
    pub fn admits(self, p: u8, v6: bool) -> bool {
        match self {
            Proto::Ip => true,
            Proto::Ipv4 => !v6,
            Proto::Ipv6 => v6,
            Proto::Tcp => p == 6,
            Proto::Udp => p == 17,
            Proto::Icmp => p == 1 || p == 58,
            Proto::Icmpv4 => p == 1,
            Proto::Icmpv6 => p == 58,
            Proto::Sctp => p == 132,
            Proto::TcpUdp => p == 6 || p == 17,
        }
    }
}

/// Where a rule's payload keywords look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inspect {
    /// The packet's payload only (non-TCP, `tcp-pkt`, `flow:no_stream`, or
    /// no payload keyword).
    Packet,
    /// The reassembled stream only (`tcp-stream`, `flow:only_stream`).
    Stream,
    /// TCP with payload keywords: the stream when the flow is reassembled,
    /// the packet otherwise (Suricata's `SIG_FLAG_REQUIRE_STREAM` alone).
    Either,
    /// TCP with a `content` anchored by `depth`/`offset`/`startswith`, or
    /// with `stream_size`: the stream when reassembled, and the packet as
    /// well, unless the stream matched the rule on that same packet
    /// (Suricata's `SIG_FLAG_REQUIRE_STREAM | SIG_FLAG_REQUIRE_PACKET`:
    /// the same bytes can alert twice, once per inspection).
    Both,
}

/// A compiled rule.
pub struct Signature {
    /// `gid`.
    pub gid: u32,
    /// `sid`.
    pub sid: u32,
    /// `rev`.
    pub rev: u32,
    /// `msg`.
    pub msg: String,
    /// The classtype's description, if any.
    pub category: Option<String>,
    /// `priority`, or the classtype's, or Suricata's default 3.
    pub severity: u8,
    /// `metadata`, values grouped by key in rule order.
    pub metadata: Vec<(String, Vec<String>)>,
    /// The rule's action (drop/reject alert like `alert` on a passive
    /// sensor, as Suricata does in IDS mode).
    pub action: Action,
    /// The protocol.
    pub proto: Proto,
    /// `<>`: either direction matches.
    pub bidirectional: bool,
    /// The header keywords, all of which must match.
    pub header: Vec<HeaderMatch>,
    /// `dsize`.
    pub dsize: Option<Dsize>,
    /// The payload program (empty when the rule has no payload keyword).
    pub payload: Program,
    /// Where the payload program runs.
    pub inspect: Inspect,
    /// The app-layer protocol the flow must (`false`) or must not (`true`)
    /// have: the header's protocol (`alert http`), the buffers' or
    /// `app-layer-protocol`.
    pub app: Option<(AppProto, bool)>,
    /// The transaction part: sticky buffers and app-layer conditions. A
    /// rule with one is inspected on transactions, not on packets.
    pub tx: Option<TxRule>,
    /// Nothing but `app-layer-protocol` decides a match (Suricata's
    /// `SignatureIsPDOnly`): the rule is inspected only on the packet that
    /// completed protocol detection.
    pub pd_only: bool,
    /// The prefilter pattern: the `fast_pattern` content, else the longest
    /// non-negated content (Suricata's choice), and whether it is nocase.
    pub fast_pattern: Option<(Vec<u8>, bool)>,
    /// `flowbits` options.
    pub flowbits: Vec<Flowbits>,
    /// `flowint` options.
    pub flowints: Vec<Flowint>,
    /// `xbits` options (evaluated in the host-keyed stage).
    pub xbits: Vec<Xbits>,
    /// `threshold`.
    pub threshold: Option<threshold::Spec>,
    /// `detection_filter`.
    pub detection_filter: Option<threshold::Spec>,
    /// `noalert` (or `flowbits:noalert`).
    pub noalert: bool,
    /// `suppress` entries of `threshold.config` for this rule: an alert is
    /// dropped if any matches.
    pub suppress: Vec<Suppress>,
    /// `stream-event` names, each must have been raised by the packet.
    pub stream_events: Vec<String>,
    /// `decode-event` names, likewise.
    pub decode_events: Vec<String>,
    /// The unresolved rule, for resolving its header per tenant.
    pub rule: Arc<Rule>,
}

impl Signature {
    /// Whether a match changes the flow's variables (`flowbits`
    /// set/unset/toggle, `flowint` assignments).
    pub fn has_flow_actions(&self) -> bool {
        self.flowbits
            .iter()
            .any(|f| !f.is_condition() && !matches!(f, Flowbits::NoAlert))
            || self.flowints.iter().any(|f| !f.is_condition())
    }
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signature")
            .field("gid", &self.gid)
            .field("sid", &self.sid)
            .field("msg", &self.msg)
            .finish_non_exhaustive()
    }
}

/// Compiles a `pcre` option value into a regex step; supplied by the
/// caller so that this module does not depend on one regex engine.
pub type RegexCompiler<'a> = dyn Fn(&str) -> Result<Arc<dyn RegexStep>, Skip> + 'a;

/// Reads a file a rule names (`filemd5:list.txt;`), resolved as the caller
/// sees fit (relative to the rule file, then `default-rule-path`); this
/// module does no I/O.
pub type FileLoader<'a> = dyn Fn(&str) -> Result<String, String> + 'a;

/// What compiling needs besides the rule.
pub struct CompileCtx<'a> {
    /// Variable names of the rule set (flowbits, flowint, xbits).
    pub names: &'a mut Names,
    /// The classifications (`classtype` → category, priority).
    pub classes: &'a Classifications,
    /// The `pcre` compiler.
    pub pcre: &'a RegexCompiler<'a>,
    /// Reads the hash lists of `filemd5` and kin (`None`: such rules are
    /// skipped).
    pub files: Option<&'a FileLoader<'a>>,
}

fn protocol(p: &Protocol) -> Result<(Proto, Option<Inspect>, Option<AppProto>), Skip> {
    Ok(match p {
        Protocol::Ip | Protocol::Pkthdr => (Proto::Ip, None, None),
        Protocol::Ipv4 => (Proto::Ipv4, None, None),
        Protocol::Ipv6 => (Proto::Ipv6, None, None),
        Protocol::Tcp => (Proto::Tcp, None, None),
        Protocol::TcpPkt => (Proto::Tcp, Some(Inspect::Packet), None),
        Protocol::TcpStream => (Proto::Tcp, Some(Inspect::Stream), None),
        Protocol::Udp => (Proto::Udp, None, None),
        Protocol::Icmp => (Proto::Icmp, None, None),
        Protocol::Icmpv4 => (Proto::Icmpv4, None, None),
        Protocol::Icmpv6 => (Proto::Icmpv6, None, None),
        Protocol::Sctp => (Proto::Sctp, None, None),
        Protocol::AppLayer(name) => match AppProto::from_name(name) {
            // DNS runs over UDP and TCP; HTTP/1 and TLS over TCP.
            Some(AppProto::Dns) => (Proto::TcpUdp, None, Some(AppProto::Dns)),
            Some(a) => (Proto::Tcp, None, Some(a)),
            None => return Err(Skip::Unsupported(format!("protocol {name}"))),
        },
        other => return Err(Skip::Unsupported(format!("protocol {}", other.as_str()))),
    })
}

/// `tls.version` values, as Suricata's `detect-tls-version.c` reads them.
fn parse_tls_version(v: &str) -> Result<u16, Skip> {
    let t = v.trim().trim_matches('"').trim();
    Ok(match t {
        "1.0" => 0x0301,
        "1.1" => 0x0302,
        "1.2" => 0x0303,
        "1.3" => 0x0304,
        "3.0" | "ssl3" | "sslv3" => 0x0300,
        "2.0" | "ssl2" | "sslv2" => 0x0200,
        _ => match t.strip_prefix("0x").map(|h| u16::from_str_radix(h, 16)) {
            Some(Ok(x)) => x,
            _ => return Err(invalid("tls.version", format!("unknown version '{t}'"))),
        },
    })
}

/// Keywords decoded by the rule parser onto [`Rule`] itself.
const META: &[&str] = &[
    "msg",
    "sid",
    "gid",
    "rev",
    "classtype",
    "priority",
    "metadata",
    "reference",
    "target",
];

/// Keywords accepted with no effect on matching, and why that is right.
const NO_EFFECT: &[&str] = &[
    // Only changes which keyword feeds the prefilter, never what matches.
    "prefilter",
    // Extra packet logging after an alert; the alert itself is unaffected.
    // (Logging the tagged packets comes later: check-rules says so.)
    "tag",
];

fn value(o: &RuleOption) -> Option<&str> {
    o.value.as_deref()
}

/// Compiles one rule.
pub fn compile(rule: Arc<Rule>, ctx: &mut CompileCtx<'_>) -> Result<Signature, Skip> {
    match rule.action {
        Action::Alert
        | Action::Drop
        | Action::Reject
        | Action::RejectSrc
        | Action::RejectDst
        | Action::RejectBoth => {}
        other => return Err(Skip::Unsupported(format!("action {}", other.as_str()))),
    }
    let (proto, forced, header_app) = protocol(&rule.protocol)?;
    if rule.direction == Direction::Transactional {
        return Err(Skip::Unsupported("direction =>".into()));
    }
    let mut header = Vec::new();
    let mut dsize = None;
    let mut flowbits = Vec::new();
    let mut flowints = Vec::new();
    let mut xbits = Vec::new();
    let mut thr = None;
    let mut dfilter = None;
    let mut noalert = false;
    let mut stream_events = Vec::new();
    let mut decode_events = Vec::new();
    let mut flow_stream: Option<bool> = None;
    let mut lists = Lists::new();
    let mut app_cond: Option<(AppProto, bool)> = None;
    let mut app_events: Vec<(AppProto, String)> = Vec::new();
    let mut tls_version: Option<u16> = None;
    let mut file_hashes: Vec<FileHashMatch> = Vec::new();
    for o in &rule.options {
        let name = o.canonical_name();
        if META.contains(&name) || NO_EFFECT.contains(&name) {
            continue;
        }
        if let Some(h) = HeaderMatch::parse(name, value(o)) {
            let h = h.map_err(|e| invalid(name, e.message))?;
            if let HeaderMatch::Flow(f) = &h {
                flow_stream = f.stream;
            }
            header.push(h);
            continue;
        }
        let r: Result<(), Skip> = match name {
            "content" => {
                lists.content(o.raw.as_deref());
                Ok(())
            }
            "pcre" => {
                let raw = o.raw.as_deref().unwrap_or("");
                let step = (ctx.pcre)(raw)?;
                lists.pcre(step)
            }
            "dsize" => {
                dsize = Some(
                    Dsize::parse(value(o).unwrap_or("")).map_err(|e| invalid(name, e.message))?,
                );
                Ok(())
            }
            "flowbits" => {
                let f = Flowbits::parse(value(o).unwrap_or(""), ctx.names)
                    .map_err(|e| invalid(name, e.message))?;
                if f == Flowbits::NoAlert {
                    noalert = true;
                } else {
                    flowbits.push(f);
                }
                Ok(())
            }
            "flowint" => {
                flowints.push(
                    Flowint::parse(value(o).unwrap_or(""), ctx.names)
                        .map_err(|e| invalid(name, e.message))?,
                );
                Ok(())
            }
            "xbits" => {
                xbits.push(
                    Xbits::parse(value(o).unwrap_or(""), ctx.names)
                        .map_err(|e| invalid(name, e.message))?,
                );
                Ok(())
            }
            "threshold" => {
                thr = Some(
                    threshold::Spec::parse("threshold", value(o).unwrap_or(""))
                        .map_err(|e| invalid(name, e.message))?,
                );
                Ok(())
            }
            "detection_filter" => {
                dfilter = Some(
                    threshold::Spec::parse("detection_filter", value(o).unwrap_or(""))
                        .map_err(|e| invalid(name, e.message))?,
                );
                Ok(())
            }
            "noalert" => {
                noalert = true;
                Ok(())
            }
            "stream-event" => {
                stream_events.push(event_name("stream", value(o).unwrap_or(""))?);
                Ok(())
            }
            "decode-event" => {
                decode_events.push(event_name("decoder", value(o).unwrap_or(""))?);
                Ok(())
            }
            "pkt_data" => {
                lists.pkt_data();
                Ok(())
            }
            "uricontent" => lists.uricontent(o.raw.as_deref()),
            "bsize" => lists.bsize(value(o).unwrap_or("")),
            "urilen" => lists.urilen(value(o).unwrap_or("")),
            "app-layer-protocol" => {
                let v = value(o).unwrap_or("").trim();
                let (neg, n) = match v.strip_prefix('!') {
                    Some(n) => (true, n.trim()),
                    None => (false, v),
                };
                match AppProto::from_name(n) {
                    Some(a) => {
                        app_cond = Some((a, neg));
                        Ok(())
                    }
                    None => Err(Skip::Unsupported(format!("app-layer-protocol:{n}"))),
                }
            }
            "app-layer-event" => {
                let v = value(o).unwrap_or("").trim();
                match v.split_once('.').map(|(p, e)| (AppProto::from_name(p), e)) {
                    Some((Some(a), e)) if !e.is_empty() => {
                        app_events.push((a, e.to_ascii_uppercase()));
                        Ok(())
                    }
                    _ => Err(Skip::Unsupported(format!("app-layer-event:{v}"))),
                }
            }
            "tls.version" => {
                tls_version = Some(parse_tls_version(value(o).unwrap_or(""))?);
                Ok(())
            }
            "filemd5" | "filesha1" | "filesha256" => {
                let kind = match name {
                    "filemd5" => FileHashKind::Md5,
                    "filesha1" => FileHashKind::Sha1,
                    _ => FileHashKind::Sha256,
                };
                file_hashes.push(FileHashMatch::load(
                    name,
                    kind,
                    value(o).unwrap_or(""),
                    ctx,
                )?);
                Ok(())
            }
            other => {
                if let Some(t) = Transform::from_keyword(other) {
                    lists.transform(other, t)
                } else if let Some(buf) = Buffer::from_keyword(other) {
                    lists.sticky(buf);
                    Ok(())
                } else if let Some(buf) = Buffer::from_modifier(other) {
                    lists.modifier(other, buf)
                } else if crate::payload::KEYWORDS.contains(&other) {
                    lists.keyword(other, value(o));
                    Ok(())
                } else {
                    Err(Skip::Unsupported(other.to_string()))
                }
            }
        };
        r?;
    }
    let (payload, sticky) = lists.build()?;
    let rule_dir = header.iter().find_map(|h| match h {
        HeaderMatch::Flow(f) => f.to_server,
        _ => None,
    });
    let tx = TxRule::new(
        header_app,
        rule_dir,
        sticky,
        app_events,
        tls_version,
        file_hashes,
        &payload,
    )?;
    let pd_only = app_cond.is_some()
        && header.is_empty()
        && payload.is_empty()
        && tx.is_none()
        && dsize.is_none()
        && flowbits.iter().all(|f| !f.is_condition())
        && flowints.iter().all(|f| !f.is_condition())
        && xbits.is_empty()
        && stream_events.is_empty()
        && decode_events.is_empty();
    let app = match (app_cond, header_app, &tx) {
        (Some(c), _, _) => Some(c),
        (None, Some(a), _) => Some((a, false)),
        (None, None, Some(t)) => Some((t.app, false)),
        (None, None, None) => None,
    };
    let has_payload = !payload.is_empty();
    // Suricata's SigValidate: a keyword that needs the packet (dsize,
    // flags, ttl, flow:no_stream, ...) makes the rule packet-only; else a
    // TCP payload rule needs the stream, and the packet too when a content
    // is anchored to the buffer start or `stream_size` is used.
    let packet_only = dsize.is_some()
        || header.iter().any(|h| {
            matches!(
                h,
                HeaderMatch::Flags(_)
                    | HeaderMatch::Ttl(_)
                    | HeaderMatch::Itype(_)
                    | HeaderMatch::Icode(_)
                    | HeaderMatch::IcmpId(_)
                    | HeaderMatch::IcmpSeq(_)
            )
        });
    let anchored = payload.steps().iter().any(|s| match s {
        Step::Content(c) => c.depth.is_some() || c.offset.is_some(),
        _ => false,
    }) || header
        .iter()
        .any(|h| matches!(h, HeaderMatch::StreamSize(_)));
    let inspect = match (forced, flow_stream) {
        (Some(i), _) => i,
        (None, _) if !has_payload || proto != Proto::Tcp && proto != Proto::Ip => Inspect::Packet,
        (None, Some(true)) => Inspect::Stream,
        (None, Some(false)) => Inspect::Packet,
        (None, None) if proto == Proto::Tcp && packet_only => Inspect::Packet,
        (None, None) if proto == Proto::Tcp && anchored => Inspect::Both,
        (None, None) if proto == Proto::Tcp => Inspect::Either,
        (None, None) => Inspect::Packet,
    };
    let fast_pattern = fast_pattern(&payload);
    let class = rule.classtype.as_deref().and_then(|c| ctx.classes.get(c));
    let severity = u8::try_from(rule.effective_priority(ctx.classes)).unwrap_or(u8::MAX);
    let mut metadata: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &rule.metadata {
        match metadata.iter_mut().find(|(key, _)| key == k) {
            Some((_, vs)) => vs.push(v.clone()),
            None => metadata.push((k.clone(), vec![v.clone()])),
        }
    }
    Ok(Signature {
        gid: rule.gid,
        sid: rule.sid,
        rev: rule.rev,
        msg: rule.msg.clone().unwrap_or_default(),
        category: class.map(|c| c.description.clone()),
        severity,
        metadata,
        action: rule.action,
        proto,
        bidirectional: rule.direction == Direction::Both,
        header,
        dsize,
        payload,
        inspect,
        fast_pattern,
        app,
        tx,
        pd_only,
        flowbits,
        flowints,
        xbits,
        threshold: thr,
        detection_filter: dfilter,
        noalert,
        suppress: Vec::new(),
        stream_events,
        decode_events,
        rule,
    })
}

/// One sticky-buffer list of a transaction rule.
#[derive(Debug, Clone)]
pub struct TxList {
    /// The buffer.
    pub buffer: Buffer,
    /// Transforms applied to it.
    pub transforms: Transforms,
    /// The side read; `None`: the side of the direction inspected (a
    /// two-sided buffer in a rule without a direction).
    pub side: Option<TxDir>,
    /// The keywords on the buffer.
    pub program: Program,
    /// `bsize` / `urilen` checks.
    pub sizes: Vec<UintCmp>,
}

impl TxList {
    /// The slot read when inspecting in direction `dir`.
    pub fn slot(&self, dir: TxDir) -> Slot {
        Slot {
            buffer: self.buffer,
            side: self.side.unwrap_or(dir),
            transforms: self.transforms,
        }
    }
}

/// The transaction part of a rule (Suricata's app-layer inspection
/// engines): the rule is inspected once per transaction and direction,
/// when every buffer it reads is final, and alerts at most once there.
#[derive(Debug, Clone)]
pub struct TxRule {
    /// The protocol.
    pub app: AppProto,
    /// Inspected in the to-server (`[0]`) and to-client (`[1]`) direction.
    pub dirs: [bool; 2],
    /// The sticky-buffer lists, in rule order.
    pub lists: Vec<TxList>,
    /// The prefilter pattern: which list, the bytes, nocase. `None`: the
    /// rule is a candidate on every transaction of its protocol.
    pub fast: Option<(usize, Vec<u8>, bool)>,
    /// `app-layer-event` names (no protocol prefix; compared without
    /// regard to case).
    pub events: Vec<String>,
    /// `tls.version`.
    pub tls_version: Option<u16>,
    /// `filemd5`, `filesha1`, `filesha256`: the file (body) of the side
    /// inspected must (or, negated, must not) be listed.
    pub file_hashes: Vec<FileHashMatch>,
}

/// One `filemd5`/`filesha1`/`filesha256` option: its list, loaded.
#[derive(Debug, Clone)]
pub struct FileHashMatch {
    /// The digest kind.
    pub kind: FileHashKind,
    /// The digests, sorted.
    pub list: Arc<Vec<Vec<u8>>>,
    /// `!`: the file must not be listed.
    pub negated: bool,
}

impl FileHashMatch {
    /// Loads `value` (`[!]file`) through the caller's loader: one digest
    /// per line, hex, first on the line (Suricata's format; `#` comments
    /// and blank lines ignored).
    fn load(
        keyword: &str,
        kind: FileHashKind,
        value: &str,
        ctx: &CompileCtx<'_>,
    ) -> Result<FileHashMatch, Skip> {
        let v = value.trim();
        let (negated, name) = match v.strip_prefix('!') {
            Some(n) => (true, n.trim()),
            None => (false, v),
        };
        let name = name.trim_matches('"');
        let Some(files) = ctx.files else {
            return Err(Skip::Unsupported(keyword.to_string()));
        };
        let text = files(name).map_err(|e| invalid(keyword, format!("{name}: {e}")))?;
        let mut list = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let hex = l
                .split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .unwrap_or("");
            let d = decode_hex(hex)
                .filter(|d| d.len() == kind.digest_len())
                .ok_or_else(|| {
                    invalid(
                        keyword,
                        format!(
                            "{name}:{}: not a {}-byte hex digest",
                            i + 1,
                            kind.digest_len()
                        ),
                    )
                })?;
            list.push(d);
        }
        list.sort_unstable();
        list.dedup();
        Ok(FileHashMatch {
            kind,
            list: Arc::new(list),
            negated,
        })
    }

    /// Whether `digest` satisfies the option.
    pub fn matches(&self, digest: &[u8]) -> bool {
        self.list
            .binary_search_by(|d| d.as_slice().cmp(digest))
            .is_ok()
            != self.negated
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl TxRule {
    /// The transaction part of a rule, or `None` when it has none (a
    /// packet or stream rule, maybe limited to an app-layer protocol).
    fn new(
        header_app: Option<AppProto>,
        rule_dir: Option<bool>,
        sticky: Vec<StickyList>,
        events: Vec<(AppProto, String)>,
        tls_version: Option<u16>,
        file_hashes: Vec<FileHashMatch>,
        payload: &Program,
    ) -> Result<Option<TxRule>, Skip> {
        if sticky.is_empty() && events.is_empty() && tls_version.is_none() && file_hashes.is_empty()
        {
            return Ok(None);
        }
        let mut app = header_app;
        let apps = sticky
            .iter()
            .map(|l| (l.buffer.app(), l.buffer.keyword()))
            .chain(events.iter().map(|(a, _)| (*a, "app-layer-event")))
            .chain(tls_version.map(|_| (AppProto::Tls, "tls.version")))
            // Files come from HTTP bodies here.
            .chain(file_hashes.first().map(|_| (AppProto::Http, "filemd5")));
        for (a, kw) in apps {
            match app {
                None => app = Some(a),
                Some(x) if x == a => {}
                Some(x) => {
                    return Err(invalid(
                        kw,
                        format!("a {} buffer in a {} rule", a.name(), x.name()),
                    ));
                }
            }
        }
        let Some(app) = app else {
            return Ok(None);
        };
        let one_side = |s: Sides| sticky.iter().any(|l| l.buffer.sides() == s);
        let (ts_only, tc_only) = (one_side(Sides::ToServer), one_side(Sides::ToClient));
        let (dirs, both_side) = match rule_dir {
            Some(true) if tc_only => {
                let l = sticky.iter().find(|l| l.buffer.sides() == Sides::ToClient);
                let kw = l.map_or("flow", |l| l.buffer.keyword());
                return Err(invalid(kw, "a response buffer in a to_server rule"));
            }
            Some(true) => ([true, false], Some(TxDir::ToServer)),
            Some(false) => ([false, true], Some(TxDir::ToClient)),
            None if tc_only => ([false, true], Some(TxDir::ToClient)),
            None if ts_only => ([true, false], Some(TxDir::ToServer)),
            None => ([true, true], None),
        };
        // DNS and TLS transactions have fixed sides; so do the one-sided
        // buffers of HTTP.
        let lists: Vec<TxList> = sticky
            .into_iter()
            .map(|l| TxList {
                side: match l.buffer.sides() {
                    Sides::ToServer => Some(TxDir::ToServer),
                    Sides::ToClient => Some(TxDir::ToClient),
                    Sides::Both => both_side,
                },
                buffer: l.buffer,
                transforms: l.transforms,
                program: l.program,
                sizes: l.sizes,
            })
            .collect();
        let fast = tx_fast_pattern(&lists, payload);
        Ok(Some(TxRule {
            app,
            dirs,
            lists,
            fast,
            events: events.into_iter().map(|(_, e)| e).collect(),
            tls_version,
            file_hashes,
        }))
    }
}

/// A transaction rule's prefilter pattern: the `fast_pattern` content if it
/// is in a sticky list (none if it is on the payload: the rule is then a
/// candidate on every transaction), else the longest non-negated content
/// of the sticky lists. Every content of a list must match, so any of them
/// is a sound prefilter.
fn tx_fast_pattern(lists: &[TxList], payload: &Program) -> Option<(usize, Vec<u8>, bool)> {
    let explicit = |p: &Program| {
        p.steps()
            .iter()
            .any(|s| matches!(s, Step::Content(c) if c.fast_pattern.is_some() && !c.negated))
    };
    if explicit(payload) {
        return None;
    }
    if let Some(i) = lists.iter().position(|l| explicit(&l.program)) {
        return fast_pattern(&lists[i].program).map(|(b, n)| (i, b, n));
    }
    lists
        .iter()
        .enumerate()
        .filter_map(|(i, l)| fast_pattern(&l.program).map(|(b, n)| (i, b, n)))
        .max_by_key(|(i, b, _)| (b.len(), std::cmp::Reverse(*i)))
}

/// Normalizes an event name (`ipv4.trunc_pkt` → `decoder.ipv4.trunc_pkt`,
/// `reassembly_seq_gap` → `stream.reassembly_seq_gap`); Suricata accepts
/// both forms.
fn event_name(prefix: &str, v: &str) -> Result<String, Skip> {
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        let kw = if prefix == "stream" {
            "stream-event"
        } else {
            "decode-event"
        };
        return Err(invalid(kw, format!("invalid event name '{v}'")));
    }
    Ok(if v.starts_with(&format!("{prefix}.")) {
        v
    } else {
        format!("{prefix}.{v}")
    })
}

/// Suricata's fast-pattern choice for one buffer: the content marked
/// `fast_pattern` (its chopped slice if chopped), else the longest
/// non-negated content.
fn fast_pattern(p: &Program) -> Option<(Vec<u8>, bool)> {
    use crate::payload::FastPattern;
    let contents = p.steps().iter().filter_map(|s| match s {
        Step::Content(c) => Some(c),
        _ => None,
    });
    let mut best: Option<(Vec<u8>, bool)> = None;
    for c in contents {
        if c.negated {
            continue;
        }
        match c.fast_pattern {
            Some(FastPattern::Chop { offset, length }) => {
                let (o, l) = (usize::from(offset), usize::from(length));
                let slice = c.pattern.get(o..o + l).unwrap_or(&c.pattern).to_vec();
                return Some((slice, c.nocase));
            }
            Some(_) => return Some((c.pattern.clone(), c.nocase)),
            None => {
                if best.as_ref().is_none_or(|(b, _)| c.pattern.len() > b.len()) {
                    best = Some((c.pattern.clone(), c.nocase));
                }
            }
        }
    }
    best
}

/// A `suppress` line of `threshold.config`.
#[derive(Debug, Clone)]
pub enum Suppress {
    /// Every alert of the rule.
    All,
    /// Alerts whose source is in the set.
    BySrc(mirador_rules::IpSet),
    /// Alerts whose destination is in the set.
    ByDst(mirador_rules::IpSet),
    /// Alerts with either address in the set.
    ByEither(mirador_rules::IpSet),
}

impl Suppress {
    /// Whether an alert from `src` to `dst` is suppressed.
    pub fn applies(&self, src: IpAddr, dst: IpAddr) -> bool {
        match self {
            Suppress::All => true,
            Suppress::BySrc(s) => s.contains(src),
            Suppress::ByDst(s) => s.contains(dst),
            Suppress::ByEither(s) => s.contains(src) || s.contains(dst),
        }
    }
}

/// A signature's header resolved for one tenant's variables.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The addresses and ports.
    pub header: ResolvedHeader,
}

impl Resolved {
    /// Resolves `sig`'s header against `vars`.
    pub fn new(sig: &Signature, vars: &Vars) -> Result<Resolved, Skip> {
        sig.rule
            .resolve(vars)
            .map(|header| Resolved { header })
            .map_err(|e| invalid(e.field.as_deref().unwrap_or("header"), e.message))
    }

    /// Whether a packet `src:sp -> dst:dp` fits the header as written
    /// (`false`), or reversed for `<>` rules (checked by the caller).
    pub fn admits(&self, src: IpAddr, sp: u16, dst: IpAddr, dp: u16) -> bool {
        let h = &self.header;
        h.src.contains(src)
            && h.dst.contains(dst)
            && h.src_ports.contains(sp)
            && h.dst_ports.contains(dp)
    }
}

/// Whether packet view `p` satisfies every header keyword of `sig`.
pub fn header_matches(sig: &Signature, p: &PacketView) -> bool {
    sig.header.iter().all(|h| h.matches(p))
}

#[cfg(test)]
mod tests;
