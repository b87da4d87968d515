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

use crate::flowvars::{Flowbits, Flowint, Names, Xbits};
use crate::header::{HeaderMatch, PacketView};
use crate::payload::{
    BufferKind, Dsize, Escapes, Program, ProgramBuilder, RegexStep, RuleScope, Step,
};
use crate::threshold;

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

/// What compiling needs besides the rule.
pub struct CompileCtx<'a> {
    /// Variable names of the rule set (flowbits, flowint, xbits).
    pub names: &'a mut Names,
    /// The classifications (`classtype` → category, priority).
    pub classes: &'a Classifications,
    /// The `pcre` compiler.
    pub pcre: &'a RegexCompiler<'a>,
}

fn protocol(p: &Protocol) -> Result<(Proto, Option<Inspect>), Skip> {
    Ok(match p {
        Protocol::Ip | Protocol::Pkthdr => (Proto::Ip, None),
        Protocol::Ipv4 => (Proto::Ipv4, None),
        Protocol::Ipv6 => (Proto::Ipv6, None),
        Protocol::Tcp => (Proto::Tcp, None),
        Protocol::TcpPkt => (Proto::Tcp, Some(Inspect::Packet)),
        Protocol::TcpStream => (Proto::Tcp, Some(Inspect::Stream)),
        Protocol::Udp => (Proto::Udp, None),
        Protocol::Icmp => (Proto::Icmp, None),
        Protocol::Icmpv4 => (Proto::Icmpv4, None),
        Protocol::Icmpv6 => (Proto::Icmpv6, None),
        Protocol::Sctp => (Proto::Sctp, None),
        other => return Err(Skip::Unsupported(format!("protocol {}", other.as_str()))),
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
    let (proto, forced) = protocol(&rule.protocol)?;
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
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    b.escapes(Escapes::Raw);
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
            "content" => b
                .apply("content", o.raw.as_deref())
                .map(|_| ())
                .map_err(|e| invalid(name, e.message)),
            "pcre" => {
                let raw = o.raw.as_deref().unwrap_or("");
                let step = (ctx.pcre)(raw)?;
                b.regex(step).map_err(|e| invalid(name, e.message))
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
            other => match b.apply(other, value(o)) {
                Ok(true) => Ok(()),
                Ok(false) => Err(Skip::Unsupported(other.to_string())),
                Err(e) => Err(invalid(other, e.message)),
            },
        };
        r?;
    }
    let payload = b.build().map_err(|e| invalid(e.keyword, e.message))?;
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
