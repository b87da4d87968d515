//! One rule: `action protocol src src_port direction dst dst_port
//! (options)`, parsed as Suricata's `SigParseBasics` and `SigParseOptions`
//! (detect-parse.c) do.
//!
//! Header fields are separated by whitespace, except inside `[...]`.
//! Options follow, with any leading `(` and trailing `)` stripped; each
//! runs to the next `;` that is not preceded by `\`. Quotes do not
//! protect a `;`: `msg:"a;b";` is an error in Suricata, and here; write
//! `\;`. Every option must end with `;`, the last one included.

use std::fmt;
use std::sync::Arc;

use crate::addr::{AddrExpr, IpSet};
use crate::classification::Classifications;
use crate::error::{ErrorKind, ExprError, RuleError, quote};
use crate::keywords::{self, Keyword, ValuePolicy};
use crate::port::{PortExpr, PortSet};
use crate::vars::Vars;

/// Longest rule accepted, in bytes, after joining continued lines: the
/// size of Suricata's line buffer (`DETECT_MAX_RULE_SIZE`).
pub const MAX_RULE_LEN: usize = 8192;

/// Suricata's priority for a rule with neither `priority` nor a known
/// `classtype` (`DETECT_DEFAULT_PRIO`).
pub const DEFAULT_PRIORITY: u32 = 3;

/// A rule's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `alert`.
    Alert,
    /// `pass`.
    Pass,
    /// `drop`.
    Drop,
    /// `reject` (like `rejectsrc`).
    Reject,
    /// `rejectsrc`.
    RejectSrc,
    /// `rejectdst`.
    RejectDst,
    /// `rejectboth`.
    RejectBoth,
    /// `config` (Suricata 7+: rules that change logging, not alerts).
    Config,
}

impl Action {
    /// Parses an action, case-insensitively as Suricata does.
    pub fn parse(s: &str) -> Option<Action> {
        const ALL: [Action; 8] = [
            Action::Alert,
            Action::Pass,
            Action::Drop,
            Action::Reject,
            Action::RejectSrc,
            Action::RejectDst,
            Action::RejectBoth,
            Action::Config,
        ];
        ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The action as written in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
            Action::Config => "config",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's protocol field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `ip`: any IP packet.
    Ip,
    /// `ipv4` (or `ip4`).
    Ipv4,
    /// `ipv6` (or `ip6`).
    Ipv6,
    /// `pkthdr`: like `ip`, also for packets that fail decoding.
    Pkthdr,
    /// `tcp`: packets and reassembled stream.
    Tcp,
    /// `tcp-pkt`: TCP packets only.
    TcpPkt,
    /// `tcp-stream`: reassembled TCP stream only.
    TcpStream,
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
    /// `ether` (Suricata 8).
    Ether,
    /// `arp` (Suricata 8).
    Arp,
    /// An app-layer protocol (`http`, `tls`, `dns`, ...), lowercased. Any
    /// identifier is accepted here; the engine decides what it supports.
    AppLayer(String),
}

impl Protocol {
    /// Parses a protocol name, case-insensitively.
    pub fn parse(s: &str) -> Option<Protocol> {
        let lower = s.to_ascii_lowercase();
        Some(match lower.as_str() {
            "ip" => Protocol::Ip,
            "ipv4" | "ip4" => Protocol::Ipv4,
            "ipv6" | "ip6" => Protocol::Ipv6,
            "pkthdr" => Protocol::Pkthdr,
            "tcp" => Protocol::Tcp,
            "tcp-pkt" => Protocol::TcpPkt,
            "tcp-stream" => Protocol::TcpStream,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            "icmpv4" => Protocol::Icmpv4,
            "icmpv6" => Protocol::Icmpv6,
            "sctp" => Protocol::Sctp,
            "ether" => Protocol::Ether,
            "arp" => Protocol::Arp,
            _ => {
                let b = lower.as_bytes();
                let ok = b.len() <= 64
                    && b.first().is_some_and(u8::is_ascii_alphabetic)
                    && b.iter()
                        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
                if !ok {
                    return None;
                }
                Protocol::AppLayer(lower)
            }
        })
    }

    /// The protocol as written in rules (canonical spelling).
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Ip => "ip",
            Protocol::Ipv4 => "ipv4",
            Protocol::Ipv6 => "ipv6",
            Protocol::Pkthdr => "pkthdr",
            Protocol::Tcp => "tcp",
            Protocol::TcpPkt => "tcp-pkt",
            Protocol::TcpStream => "tcp-stream",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Icmpv4 => "icmpv4",
            Protocol::Icmpv6 => "icmpv6",
            Protocol::Sctp => "sctp",
            Protocol::Ether => "ether",
            Protocol::Arp => "arp",
            Protocol::AppLayer(name) => name,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `->`: from source to destination.
    ToDst,
    /// `<>`: either way (Suricata loads it as two rules, unless both
    /// sides are the same).
    Both,
    /// `=>`: Suricata 8's transactional rule, matching both directions of
    /// one transaction.
    Transactional,
}

impl Direction {
    /// The direction as written in rules.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToDst => "->",
            Direction::Both => "<>",
            Direction::Transactional => "=>",
        }
    }
}

/// A byte range within [`Rule::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// One option, `name` or `name:value`, in the order written.
///
/// Three views of the value: [`RuleOption::value`] for keywords whose
/// values are plain text (`msg`, `flow`, `threshold`, `byte_test`, ...),
/// [`RuleOption::raw_unquoted`] for keywords with their own escape
/// handling (`content`'s `|hex|` and `\"`, `pcre`'s regex escapes), and
/// [`RuleOption::raw`] as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOption {
    /// The keyword as written (match it with [`RuleOption::keyword`],
    /// which is case-insensitive and knows aliases).
    pub name: String,
    /// The value with its surrounding quotes and a negating `!` removed,
    /// and Suricata's option escapes `\;` `\"` `\\` `\:` undone; other
    /// backslashes are kept. `None` for `name;`, `Some("")` for `name:;`.
    pub value: Option<String>,
    /// The value as written, blanks around it trimmed: quotes, `!` and
    /// escapes intact.
    pub raw: Option<String>,
    /// The value was double-quoted.
    pub quoted: bool,
    /// The value was a negated quoted string (`content:!"x"`). An unquoted
    /// value starting with `!` (`dsize:!5`) keeps its `!` in `value`.
    pub negated: bool,
    /// Where the option (`name:value`, without `;`) is in [`Rule::text`].
    pub span: Span,
}

impl RuleOption {
    /// The catalogue entry for this option's keyword.
    pub fn keyword(&self) -> Option<&'static Keyword> {
        keywords::lookup(&self.name)
    }

    /// The canonical keyword name (`flags` gives `tcp.flags`), or the
    /// name as written when the keyword is unknown.
    pub fn canonical_name(&self) -> &str {
        self.keyword().map_or(self.name.as_str(), |k| k.name)
    }

    /// The value as written without the negating `!` and the quotes, but
    /// with every escape intact: what `content` and `pcre` decode.
    pub fn raw_unquoted(&self) -> Option<&str> {
        let mut raw = self.raw.as_deref()?;
        if self.negated {
            raw = raw.strip_prefix('!').map_or(raw, str::trim_start);
        }
        if self.quoted {
            raw = raw
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(raw);
        }
        Some(raw)
    }
}

/// A `reference:system,id` option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The reference system (`url`, `cve`, ...; see `reference.config`).
    pub system: String,
    /// The identifier within that system.
    pub id: String,
}

/// A `target:` option: which side of the alert is the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `target:src_ip`.
    Src,
    /// `target:dest_ip`.
    Dst,
}

/// Where a piece of a (possibly multi-line) rule text starts in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Offset in the joined text.
    pub offset: usize,
    /// 1-based line in the file.
    pub line: u32,
    /// 1-based column in the file where the piece starts.
    pub column: u32,
}

/// A parsed rule: the header, every option in order, and the meta options
/// decoded for convenience. Addresses and ports stay unresolved
/// expressions, so one rule can be resolved for each tenant's variables
/// ([`Rule::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The action.
    pub action: Action,
    /// The protocol.
    pub protocol: Protocol,
    /// A Suricata 8 hook after the protocol (`http1:request_headers`).
    pub protocol_hook: Option<String>,
    /// Source addresses.
    pub src: AddrExpr,
    /// Source ports.
    pub src_ports: PortExpr,
    /// Direction.
    pub direction: Direction,
    /// Destination addresses.
    pub dst: AddrExpr,
    /// Destination ports.
    pub dst_ports: PortExpr,
    /// Every option, in order.
    pub options: Vec<RuleOption>,
    /// `sid` (required, non-zero).
    pub sid: u32,
    /// `gid`, 1 when absent (the last one, if repeated, as in Suricata).
    pub gid: u32,
    /// `rev` (non-zero when present), 0 when absent.
    pub rev: u32,
    /// `msg`, unescaped as Suricata does (every `\x` becomes `x`).
    pub msg: Option<String>,
    /// `classtype`, as written (the last one, if repeated).
    pub classtype: Option<String>,
    /// An explicit `priority` (the lowest, if repeated, as Suricata keeps);
    /// see [`Rule::effective_priority`].
    pub priority: Option<u32>,
    /// `metadata` key/value pairs of every `metadata` option; entries
    /// without a value are dropped, as Suricata does.
    pub metadata: Vec<(String, String)>,
    /// `reference` options.
    pub references: Vec<Reference>,
    /// `target`.
    pub target: Option<Target>,
    /// The rule text (continued lines joined, the backslashes removed).
    pub text: String,
    /// The file the rule comes from, if any.
    pub file: Option<Arc<str>>,
    /// 1-based line where the rule starts.
    pub line: u32,
    segments: Vec<Segment>,
    /// Offsets of the src, src_port, dst and dst_port fields in `text`.
    fields: [usize; 4],
}

/// A rule's header with its variables resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedHeader {
    /// Source addresses.
    pub src: IpSet,
    /// Source ports.
    pub src_ports: PortSet,
    /// Destination addresses.
    pub dst: IpSet,
    /// Destination ports.
    pub dst_ports: PortSet,
}

impl Rule {
    /// Parses one rule (a single line; no comment, no continuation).
    ///
    /// # Errors
    ///
    /// A [`RuleError`] naming line 1, the column and the field at fault.
    ///
    /// # Example
    ///
    /// ```
    /// use mirador_rules::{Action, Rule};
    ///
    /// let r = Rule::parse(r#"alert tcp any any -> $HOME_NET 80 (msg:"a\;b"; content:"GET"; sid:1; rev:2;)"#).unwrap();
    /// assert_eq!(r.action, Action::Alert);
    /// assert_eq!((r.sid, r.gid, r.rev), (1, 1, 2));
    /// assert_eq!(r.msg.as_deref(), Some("a;b"));
    /// assert_eq!(r.options[1].value.as_deref(), Some("GET"));
    ///
    /// let e = Rule::parse("alert tcp any any -> any any (sid:x;)").unwrap_err();
    /// assert_eq!(e.to_string(), "rule:1:31: sid: invalid value 'x'");
    /// ```
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        parse_at(
            text.to_string(),
            None,
            vec![Segment {
                offset: 0,
                line: 1,
                column: 1,
            }],
        )
    }

    /// The first option whose keyword is `name` (canonical name or alias,
    /// case-insensitive).
    pub fn option(&self, name: &str) -> Option<&RuleOption> {
        let want = keywords::lookup(name).map(|k| k.name);
        self.options.iter().find(|o| match want {
            Some(w) => o.canonical_name() == w,
            None => o.name.eq_ignore_ascii_case(name),
        })
    }

    /// The file line and column (1-based, in characters) of byte `offset`
    /// of [`Rule::text`].
    pub fn location(&self, offset: usize) -> (u32, u32) {
        locate(&self.text, &self.segments, offset)
    }

    /// Resolves the header's addresses and ports against `vars` (one
    /// tenant's variables).
    ///
    /// # Errors
    ///
    /// A [`RuleError`] of kind [`ErrorKind::Resolve`] naming the field
    /// (`src`, `src_port`, `dst`, `dst_port`) and the reason.
    pub fn resolve(&self, vars: &Vars) -> Result<ResolvedHeader, RuleError> {
        let fail = |i: usize, field: &str, e: ExprError| {
            let (line, col) = self.location(self.fields[i]);
            RuleError {
                file: self.file.clone(),
                line,
                column: Some(col),
                field: Some(field.to_string()),
                kind: ErrorKind::Resolve,
                message: e.to_string(),
            }
        };
        Ok(ResolvedHeader {
            src: self.src.resolve(vars).map_err(|e| fail(0, "src", e))?,
            src_ports: self
                .src_ports
                .resolve(vars)
                .map_err(|e| fail(1, "src_port", e))?,
            dst: self.dst.resolve(vars).map_err(|e| fail(2, "dst", e))?,
            dst_ports: self
                .dst_ports
                .resolve(vars)
                .map_err(|e| fail(3, "dst_port", e))?,
        })
    }

    /// The priority Suricata gives the rule: `priority` if set, else the
    /// classtype's priority in `classes`, else [`DEFAULT_PRIORITY`]
    /// (Suricata registers unknown classtypes with that priority).
    pub fn effective_priority(&self, classes: &Classifications) -> u32 {
        self.priority
            .or_else(|| {
                self.classtype
                    .as_deref()
                    .and_then(|c| classes.get(c))
                    .map(|c| c.priority)
            })
            .unwrap_or(DEFAULT_PRIORITY)
    }
}

fn locate(text: &str, segments: &[Segment], offset: usize) -> (u32, u32) {
    let i = segments
        .partition_point(|s| s.offset <= offset)
        .saturating_sub(1);
    let seg = segments.get(i).copied().unwrap_or(Segment {
        offset: 0,
        line: 1,
        column: 1,
    });
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let start = seg.offset.min(end);
    let chars = u32::try_from(text[start..end].chars().count()).unwrap_or(u32::MAX);
    (seg.line, seg.column.saturating_add(chars))
}

/// Builds errors that point into the rule being parsed.
struct Ctx<'a> {
    text: &'a str,
    file: &'a Option<Arc<str>>,
    segments: &'a [Segment],
}

impl Ctx<'_> {
    fn err(
        &self,
        kind: ErrorKind,
        field: Option<&str>,
        at: Option<usize>,
        message: String,
    ) -> RuleError {
        let (line, column) = match at {
            Some(offset) => {
                let (l, c) = locate(self.text, self.segments, offset);
                (l, Some(c))
            }
            None => (self.segments.first().map_or(1, |s| s.line), None),
        };
        RuleError {
            file: self.file.clone(),
            line,
            column,
            field: field.map(str::to_string),
            kind,
            message,
        }
    }
}

/// Parses a rule whose text may span several file lines (`segments`).
pub(crate) fn parse_at(
    text: String,
    file: Option<Arc<str>>,
    segments: Vec<Segment>,
) -> Result<Rule, RuleError> {
    let parsed = {
        let cx = Ctx {
            text: &text,
            file: &file,
            segments: &segments,
        };
        parse_parts(&cx)?
    };
    let line = segments.first().map_or(1, |s| s.line);
    Ok(Rule {
        action: parsed.action,
        protocol: parsed.protocol,
        protocol_hook: parsed.protocol_hook,
        src: parsed.src,
        src_ports: parsed.src_ports,
        direction: parsed.direction,
        dst: parsed.dst,
        dst_ports: parsed.dst_ports,
        options: parsed.options,
        sid: parsed.meta.sid.unwrap_or(0),
        gid: parsed.meta.gid.unwrap_or(1),
        rev: parsed.meta.rev.unwrap_or(0),
        msg: parsed.meta.msg,
        classtype: parsed.meta.classtype,
        priority: parsed.meta.priority,
        metadata: parsed.meta.metadata,
        references: parsed.meta.references,
        target: parsed.meta.target,
        text,
        file,
        line,
        segments,
        fields: parsed.fields,
    })
}

struct Parts {
    action: Action,
    protocol: Protocol,
    protocol_hook: Option<String>,
    src: AddrExpr,
    src_ports: PortExpr,
    direction: Direction,
    dst: AddrExpr,
    dst_ports: PortExpr,
    options: Vec<RuleOption>,
    meta: Meta,
    fields: [usize; 4],
}

#[derive(Default)]
struct Meta {
    sid: Option<u32>,
    gid: Option<u32>,
    rev: Option<u32>,
    msg: Option<String>,
    classtype: Option<String>,
    priority: Option<u32>,
    metadata: Vec<(String, String)>,
    references: Vec<Reference>,
    target: Option<Target>,
}

/// The next whitespace-separated token from `pos`; in a list field, `[...]`
/// may hold whitespace (Suricata's `SigParseList`).
fn token(s: &str, pos: &mut usize, list: bool) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    while *pos < b.len() && b[*pos].is_ascii_whitespace() {
        *pos += 1;
    }
    if *pos >= b.len() {
        return None;
    }
    let start = *pos;
    let mut depth = 0i32;
    while *pos < b.len() {
        let c = b[*pos];
        if list && c == b'[' {
            depth += 1;
        } else if list && c == b']' {
            depth -= 1;
        } else if c.is_ascii_whitespace() && depth <= 0 {
            break;
        }
        *pos += 1;
    }
    Some((start, *pos))
}

fn parse_parts(cx: &Ctx<'_>) -> Result<Parts, RuleError> {
    let s = cx.text;
    if s.len() > MAX_RULE_LEN {
        return Err(cx.err(
            ErrorKind::TooLong,
            None,
            None,
            format!("rule is longer than Suricata's {MAX_RULE_LEN} bytes"),
        ));
    }
    let mut pos = 0;
    const NAMES: [&str; 7] = [
        "action",
        "protocol",
        "src",
        "src_port",
        "direction",
        "dst",
        "dst_port",
    ];
    let mut tok = [(0usize, 0usize); 7];
    for (i, name) in NAMES.iter().enumerate() {
        let list = !matches!(i, 0 | 4);
        tok[i] = token(s, &mut pos, list).ok_or_else(|| {
            cx.err(
                ErrorKind::Syntax,
                None,
                Some(s.len()),
                format!("incomplete rule header: no {name}"),
            )
        })?;
    }
    let field = |i: usize| &s[tok[i].0..tok[i].1];

    let action = Action::parse(field(0)).ok_or_else(|| {
        cx.err(
            ErrorKind::Header,
            Some("action"),
            Some(tok[0].0),
            format!("unknown action {}", quote(field(0))),
        )
    })?;

    let (proto_name, protocol_hook) = match field(1).split_once(':') {
        Some((p, h)) => (p, Some(h.to_string())),
        None => (field(1), None),
    };
    let protocol = Protocol::parse(proto_name)
        .filter(|_| protocol_hook.as_deref().is_none_or(|h| !h.is_empty()))
        .ok_or_else(|| {
            cx.err(
                ErrorKind::Header,
                Some("protocol"),
                Some(tok[1].0),
                format!("invalid protocol {}", quote(field(1))),
            )
        })?;

    let addr = |i: usize, name: &str| {
        AddrExpr::parse(field(i))
            .map_err(|e| cx.err(ErrorKind::Header, Some(name), Some(tok[i].0), e.to_string()))
    };
    let port = |i: usize, name: &str| {
        PortExpr::parse(field(i))
            .map_err(|e| cx.err(ErrorKind::Header, Some(name), Some(tok[i].0), e.to_string()))
    };
    let src = addr(2, "src")?;
    let src_ports = port(3, "src_port")?;
    let direction = match field(4) {
        "->" => Direction::ToDst,
        "<>" => Direction::Both,
        "=>" => Direction::Transactional,
        other => {
            return Err(cx.err(
                ErrorKind::Header,
                Some("direction"),
                Some(tok[4].0),
                format!(
                    "invalid direction {}, expected '->', '<>' or '=>'",
                    quote(other)
                ),
            ));
        }
    };
    let dst = addr(5, "dst")?;
    let dst_ports = port(6, "dst_port")?;

    // Options: strip any leading '(' and trailing ')' with the whitespace
    // around them, as SigParseBasics does.
    let b = s.as_bytes();
    let mut start = pos;
    while start < b.len() && (b[start].is_ascii_whitespace() || b[start] == b'(') {
        start += 1;
    }
    let mut end = b.len();
    while end > start && (b[end - 1].is_ascii_whitespace() || b[end - 1] == b')') {
        end -= 1;
    }
    if start >= end {
        return Err(cx.err(
            ErrorKind::Syntax,
            None,
            Some(pos.min(s.len())),
            "no rule options".to_string(),
        ));
    }

    let mut options = Vec::new();
    let mut meta = Meta::default();
    let mut i = start;
    loop {
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= end {
            break;
        }
        // The option ends at the first ';' not preceded by '\' (quotes do
        // not matter, as in Suricata).
        let mut j = i;
        let semi = loop {
            match s[j..end].find(';') {
                None => {
                    return Err(cx.err(
                        ErrorKind::Option,
                        None,
                        Some(i),
                        format!("no terminating ';' after {}", quote(s[i..end].trim_end())),
                    ));
                }
                Some(k) if j + k > i && b[j + k - 1] == b'\\' => j = j + k + 1,
                Some(k) => break j + k,
            }
        };
        let opt = parse_option(cx, i, semi)?;
        apply_meta(cx, &opt, &mut meta)?;
        options.push(opt);
        i = semi + 1;
    }

    if meta.sid.is_none() {
        return Err(cx.err(
            ErrorKind::Missing,
            Some("sid"),
            None,
            "rule has no sid".to_string(),
        ));
    }
    Ok(Parts {
        action,
        protocol,
        protocol_hook,
        src,
        src_ports,
        direction,
        dst,
        dst_ports,
        options,
        meta,
        fields: [tok[2].0, tok[3].0, tok[5].0, tok[6].0],
    })
}

/// Parses the option in `text[start..end]` (without its `;`).
fn parse_option(cx: &Ctx<'_>, start: usize, end: usize) -> Result<RuleOption, RuleError> {
    let s = &cx.text[start..end];
    let (name, value) = match s.split_once(':') {
        Some((n, v)) => (n.trim_end(), Some(v)),
        None => (s.trim_end(), None),
    };
    if name.is_empty() {
        return Err(cx.err(
            ErrorKind::Syntax,
            None,
            Some(start),
            "empty option (stray ';' or ':')".to_string(),
        ));
    }
    let Some(kw) = keywords::lookup(name) else {
        return Err(cx.err(
            ErrorKind::UnknownKeyword,
            Some(&name.to_ascii_lowercase()),
            Some(start),
            format!("unknown rule keyword {}", quote(name)),
        ));
    };
    let field = Some(kw.name);
    let value_at = start + name.len() + 1;
    let raw = value.map(str::trim);
    let mut quoted = false;
    let mut negated = false;
    let mut decoded = None;
    if let Some(raw) = raw {
        let mut v = raw;
        if let Some(rest) = v.strip_prefix('!') {
            let rest = rest.trim_start();
            if rest.starts_with('"') {
                negated = true;
                v = rest;
            }
        }
        if v.starts_with('"') {
            // SigParseOptions: a value opening with '"' must close with
            // one; the usual cause is an unescaped ';' inside.
            if v.len() < 2 || !v.ends_with('"') {
                return Err(cx.err(
                    ErrorKind::Option,
                    field,
                    Some(value_at),
                    format!(
                        "bad option value formatting (possible missing semicolon) {}",
                        quote(raw)
                    ),
                ));
            }
            v = &v[1..v.len() - 1];
            if v.is_empty() {
                return Err(cx.err(
                    ErrorKind::Option,
                    field,
                    Some(value_at),
                    "empty quoted value".to_string(),
                ));
            }
            quoted = true;
        }
        decoded = Some(unescape(v));
    }
    let has_value = raw.is_some_and(|r| !r.is_empty());
    match kw.value {
        ValuePolicy::None if has_value => {
            return Err(cx.err(
                ErrorKind::Option,
                field,
                Some(value_at),
                format!("takes no value, got {}", quote(raw.unwrap_or_default())),
            ));
        }
        ValuePolicy::Required if !has_value => {
            return Err(cx.err(
                ErrorKind::Option,
                field,
                Some(start),
                "missing value".to_string(),
            ));
        }
        _ => {}
    }
    Ok(RuleOption {
        name: name.to_string(),
        value: decoded,
        raw: raw.map(str::to_string),
        quoted,
        negated,
        span: Span { start, end },
    })
}

/// Undoes Suricata's option escapes `\;` `\"` `\\` `\:`; any other
/// backslash stays, for the keyword to judge.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.clone().next() {
                Some(n @ (';' | '"' | '\\' | ':')) => {
                    out.push(n);
                    chars.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `msg` unescaping (DetectMsgSetup): every `\x` becomes `x`.
fn unescape_msg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escape = false;
    for c in s.chars() {
        if !escape && c == '\\' {
            escape = true;
        } else {
            out.push(c);
            escape = false;
        }
    }
    out
}

fn digits_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn apply_meta(cx: &Ctx<'_>, opt: &RuleOption, meta: &mut Meta) -> Result<(), RuleError> {
    let Some(kw) = opt.keyword() else {
        return Ok(());
    };
    let at = Some(opt.span.start);
    let fail = |msg: String| cx.err(ErrorKind::Option, Some(kw.name), at, msg);
    let raw = opt.raw.as_deref().unwrap_or_default();
    let value = opt.value.as_deref().unwrap_or_default();
    // Suricata rejects a second `sid` or `rev`; a second `gid` overwrites.
    let integer = |slot: &mut Option<u32>, min: u32, once: bool| -> Result<(), RuleError> {
        if opt.quoted {
            return Err(fail(format!("value must not be quoted: {}", quote(raw))));
        }
        if once && slot.is_some() {
            return Err(fail(format!("duplicated '{}' keyword", kw.name)));
        }
        match digits_u32(value).filter(|&n| n >= min) {
            Some(n) => {
                *slot = Some(n);
                Ok(())
            }
            None => Err(fail(format!("invalid value {}", quote(raw)))),
        }
    };
    match kw.name {
        "sid" => integer(&mut meta.sid, 1, true)?,
        "gid" => integer(&mut meta.gid, 0, false)?,
        "rev" => integer(&mut meta.rev, 1, true)?,
        "msg" => {
            if !opt.quoted {
                return Err(fail(format!("value must be double quoted: {}", quote(raw))));
            }
            if meta.msg.is_some() {
                return Err(fail("duplicated 'msg' keyword".to_string()));
            }
            // From the raw text: msg undoes every escape, not just four.
            meta.msg = opt.raw_unquoted().map(unescape_msg);
        }
        "classtype" => {
            let ok = !value.is_empty()
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(fail(format!(
                    "invalid value {}, expected [a-zA-Z0-9_-]",
                    quote(raw)
                )));
            }
            meta.classtype = Some(value.to_string());
        }
        "priority" => {
            // Suricata accepts `priority:1` and `priority:"1"`, and keeps
            // the highest priority (lowest number) when repeated.
            let n =
                digits_u32(value).ok_or_else(|| fail(format!("invalid value {}", quote(raw))))?;
            meta.priority = Some(meta.priority.map_or(n, |p| p.min(n)));
        }
        "metadata" => {
            for entry in value.split(',') {
                let entry = entry.trim();
                if let Some((k, v)) = entry.split_once([' ', '\t']) {
                    meta.metadata.push((k.to_string(), v.trim().to_string()));
                }
            }
        }
        "reference" => {
            let (system, id) = value.split_once(',').ok_or_else(|| {
                fail(format!(
                    "invalid value {}, expected 'system,id'",
                    quote(raw)
                ))
            })?;
            let system = system.trim();
            let id = id.trim();
            let id = id
                .strip_prefix('"')
                .and_then(|i| i.strip_suffix('"'))
                .unwrap_or(id)
                .trim();
            if system.is_empty()
                || !system.bytes().all(|b| b.is_ascii_alphanumeric())
                || id.is_empty()
            {
                return Err(fail(format!(
                    "invalid value {}, expected 'system,id'",
                    quote(raw)
                )));
            }
            meta.references.push(Reference {
                system: system.to_string(),
                id: id.to_string(),
            });
        }
        "target" => {
            meta.target = Some(match value {
                "src_ip" => Target::Src,
                "dest_ip" => Target::Dst,
                _ => {
                    return Err(fail(format!(
                        "invalid value {}, expected src_ip or dest_ip",
                        quote(raw)
                    )));
                }
            });
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests;
