//! Packet-header keywords: `flags`/`tcp.flags`, `ttl`, `itype`, `icode`,
//! `icmp_id`, `icmp_seq`, `ip_proto`, `stream_size`, and `flow`.
//!
//! Each keyword is parsed from its raw option value (the rule parser has
//! already undone the rule-level escapes) into a small value that matches
//! a [`PacketView`]. Syntax and semantics follow Suricata's
//! `detect-flags.c`, `detect-ttl.c` (via `detect-engine-uint.c`),
//! `detect-icode.c`/`detect-itype.c`, `detect-icmp-id.c`,
//! `detect-icmp-seq.c`, `detect-ipproto.c`, `detect-stream_size.c` and
//! `detect-flow.c`.

use std::fmt;

/// What the header keywords look at in one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketView {
    /// IP protocol (TCP 6, UDP 17, ICMP 1, ICMPv6 58, ...).
    pub ip_proto: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// TCP flags, for TCP packets.
    pub tcp_flags: Option<u8>,
    /// ICMP type and code, for ICMP packets.
    pub icmp: Option<(u8, u8)>,
    /// ICMP echo id and sequence, for echo requests and replies (v4 and v6).
    pub icmp_echo: Option<(u16, u16)>,
    /// The packet goes from client to server.
    pub to_server: bool,
    /// The flow is established (TCP: handshake done or picked up; others:
    /// both directions seen).
    pub established: bool,
    /// The packet belongs to a flow (always, for packets with an IP layer).
    pub has_flow: bool,
    /// The match is on reassembled stream data rather than one packet.
    pub stream: bool,
    /// Stream bytes seen so far by client and server (TCP): for
    /// `stream_size`, the sequence space each side has sent.
    pub stream_size: Option<(u64, u64)>,
}

/// A keyword value that could not be parsed: the reason, for check-rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordError {
    /// The keyword.
    pub keyword: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for KeywordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.keyword, self.message)
    }
}

impl std::error::Error for KeywordError {}

fn err(keyword: &'static str, message: impl Into<String>) -> KeywordError {
    KeywordError {
        keyword,
        message: message.into(),
    }
}

/// An unsigned-integer comparison, as Suricata's `detect-engine-uint.c`
/// parses them: `N`, `=N`, `<N`, `<=N`, `>N`, `>=N`, `!N`, `N-M` and
/// `N<>M` (both exclusive ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UintCmp {
    /// Equal.
    Eq(u64),
    /// Not equal.
    Ne(u64),
    /// Less than.
    Lt(u64),
    /// Less than or equal.
    Le(u64),
    /// Greater than.
    Gt(u64),
    /// Greater than or equal.
    Ge(u64),
    /// Strictly between (exclusive on both ends).
    Range(u64, u64),
    /// Outside that: `!N-M` (at or below N, or at or above M).
    NotRange(u64, u64),
}

impl UintCmp {
    /// Parses a comparison whose values fit in `max`.
    pub fn parse(keyword: &'static str, s: &str, max: u64) -> Result<UintCmp, KeywordError> {
        let s = s.trim();
        let num = |t: &str| -> Result<u64, KeywordError> {
            let t = t.trim();
            let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                u64::from_str_radix(h, 16)
            } else {
                t.parse::<u64>()
            }
            .map_err(|_| err(keyword, format!("invalid number '{t}'")))?;
            if v > max {
                return Err(err(keyword, format!("{v} is larger than {max}")));
            }
            Ok(v)
        };
        if s.is_empty() {
            return Err(err(keyword, "empty value"));
        }
        let (negated, body) = match s.strip_prefix('!') {
            Some(r) if r.contains('-') || r.contains("<>") => (true, r.trim()),
            _ => (false, s),
        };
        let s = body;
        if let Some((a, b)) = s.split_once("<>").or_else(|| {
            // `N-M`, but not a leading minus.
            s.get(1..)
                .and_then(|rest| rest.find('-'))
                .map(|i| (&s[..=i], &s[i + 2..]))
        }) {
            let (a, b) = (num(a)?, num(b)?);
            if a >= b {
                return Err(err(keyword, format!("empty range {a}-{b}")));
            }
            return Ok(if negated {
                UintCmp::NotRange(a, b)
            } else {
                UintCmp::Range(a, b)
            });
        }
        let (op, rest) = if let Some(r) = s.strip_prefix("<=") {
            ("<=", r)
        } else if let Some(r) = s.strip_prefix(">=") {
            (">=", r)
        } else if let Some(r) = s.strip_prefix('<') {
            ("<", r)
        } else if let Some(r) = s.strip_prefix('>') {
            (">", r)
        } else if let Some(r) = s.strip_prefix('!') {
            ("!", r)
        } else if let Some(r) = s.strip_prefix('=') {
            ("=", r)
        } else {
            ("=", s)
        };
        let v = num(rest)?;
        Ok(match op {
            "<=" => UintCmp::Le(v),
            ">=" => UintCmp::Ge(v),
            "<" => UintCmp::Lt(v),
            ">" => UintCmp::Gt(v),
            "!" => UintCmp::Ne(v),
            _ => UintCmp::Eq(v),
        })
    }

    /// Whether `x` satisfies the comparison.
    pub fn matches(self, x: u64) -> bool {
        match self {
            UintCmp::Eq(v) => x == v,
            UintCmp::Ne(v) => x != v,
            UintCmp::Lt(v) => x < v,
            UintCmp::Le(v) => x <= v,
            UintCmp::Gt(v) => x > v,
            UintCmp::Ge(v) => x >= v,
            UintCmp::Range(a, b) => x > a && x < b,
            UintCmp::NotRange(a, b) => x <= a || x >= b,
        }
    }
}

/// `flags` / `tcp.flags`: Suricata's `[modifier]flags[,ignored]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// How the flags are compared.
    pub mode: FlagsMode,
    /// The flags named (after the modifier).
    pub flags: u8,
    /// Flags ignored (the part after the comma).
    pub ignore: u8,
}

/// The `flags` modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsMode {
    /// No modifier: exactly these flags (minus the ignored ones).
    Exact,
    /// `+`: these flags and possibly others.
    All,
    /// `*`: any of these flags.
    Any,
    /// `!`: none of these flags is set.
    Not,
}

fn flag_bit(c: char) -> Option<u8> {
    Some(match c.to_ascii_uppercase() {
        'F' => 0x01,
        'S' => 0x02,
        'R' => 0x04,
        'P' => 0x08,
        'A' => 0x10,
        'U' => 0x20,
        // ECE and CWR; Suricata also reads the old names 1 and 2.
        'E' | '2' => 0x40,
        'C' | '1' => 0x80,
        _ => return None,
    })
}

impl Flags {
    /// Parses a `flags` value.
    pub fn parse(s: &str) -> Result<Flags, KeywordError> {
        let s = s.trim();
        let (main, ignore) = match s.split_once(',') {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (s, None),
        };
        let mut mode = FlagsMode::Exact;
        let mut flags = 0u8;
        let mut null = false;
        for c in main.chars() {
            match c {
                '+' => mode = FlagsMode::All,
                '*' => mode = FlagsMode::Any,
                '!' => mode = FlagsMode::Not,
                '0' => null = true,
                c => {
                    flags |= flag_bit(c)
                        .ok_or_else(|| err("flags", format!("unknown flag '{c}' in '{s}'")))?;
                }
            }
        }
        if flags == 0 && !null {
            return Err(err("flags", format!("no flag in '{s}'")));
        }
        let mut ign = 0u8;
        if let Some(i) = ignore {
            for c in i.chars() {
                ign |= flag_bit(c)
                    .ok_or_else(|| err("flags", format!("unknown flag '{c}' in '{s}'")))?;
            }
        }
        Ok(Flags {
            mode,
            flags,
            ignore: ign,
        })
    }

    /// Whether a TCP header's flags byte matches.
    pub fn matches(&self, tcp_flags: u8) -> bool {
        let f = tcp_flags & !self.ignore;
        match self.mode {
            FlagsMode::Exact => f == self.flags,
            FlagsMode::All => f & self.flags == self.flags,
            FlagsMode::Any => f & self.flags != 0 || self.flags == 0,
            FlagsMode::Not => f & self.flags == 0,
        }
    }
}

/// `ip_proto`: a number or a name, with `!`, `<`, `>` (Suricata's forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpProto(pub UintCmp);

impl IpProto {
    /// Parses an `ip_proto` value.
    pub fn parse(s: &str) -> Result<IpProto, KeywordError> {
        let s = s.trim();
        let (prefix, name) = match s.chars().next() {
            Some(c @ ('!' | '<' | '>')) => (c.to_string(), &s[1..]),
            _ => (String::new(), s),
        };
        let number = match name.trim().to_ascii_lowercase().as_str() {
            "icmp" => "1".to_string(),
            "igmp" => "2".to_string(),
            "tcp" => "6".to_string(),
            "udp" => "17".to_string(),
            "ipv6" => "41".to_string(),
            "gre" => "47".to_string(),
            "esp" => "50".to_string(),
            "ah" => "51".to_string(),
            "ipv6-icmp" | "icmpv6" => "58".to_string(),
            "sctp" => "132".to_string(),
            other => other.to_string(),
        };
        Ok(IpProto(UintCmp::parse(
            "ip_proto",
            &format!("{prefix}{number}"),
            255,
        )?))
    }
}

/// `flow`: direction and state options (Suricata's `detect-flow.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowOpts {
    /// `to_server`/`from_client` (`Some(true)`) or `to_client`/`from_server`.
    pub to_server: Option<bool>,
    /// `established` (`Some(true)`) or `not_established`.
    pub established: Option<bool>,
    /// `stateless`: matches packets with or without flow state.
    pub stateless: bool,
    /// `only_stream` (`Some(true)`) or `no_stream` (`Some(false)`).
    pub stream: Option<bool>,
}

impl FlowOpts {
    /// Parses a `flow` value: comma-separated options.
    pub fn parse(s: &str) -> Result<FlowOpts, KeywordError> {
        let mut f = FlowOpts::default();
        let set = |slot: &mut Option<bool>, v: bool, o: &str| -> Result<(), KeywordError> {
            if slot.is_some_and(|x| x != v) {
                return Err(err(
                    "flow",
                    format!("'{o}' conflicts with an earlier option"),
                ));
            }
            *slot = Some(v);
            Ok(())
        };
        for o in s.split(',').map(str::trim) {
            match o.to_ascii_lowercase().as_str() {
                "to_server" | "from_client" => set(&mut f.to_server, true, o)?,
                "to_client" | "from_server" => set(&mut f.to_server, false, o)?,
                "established" => set(&mut f.established, true, o)?,
                "not_established" => set(&mut f.established, false, o)?,
                "stateless" => f.stateless = true,
                "only_stream" => set(&mut f.stream, true, o)?,
                "no_stream" => set(&mut f.stream, false, o)?,
                "" => return Err(err("flow", "empty option")),
                other => return Err(err("flow", format!("unknown option '{other}'"))),
            }
        }
        Ok(f)
    }

    /// Whether a packet (or stream match) satisfies the options.
    pub fn matches(&self, p: &PacketView) -> bool {
        if !p.has_flow && !self.stateless {
            return self.to_server.is_none() && self.established.is_none();
        }
        self.to_server.is_none_or(|t| t == p.to_server)
            && self.established.is_none_or(|e| e == p.established)
            && self.stream.is_none_or(|s| s == p.stream)
    }
}

/// `stream_size: <client|server|both|either>, <op>, <bytes>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSize {
    /// Which side's size.
    pub side: StreamSide,
    /// The comparison.
    pub cmp: UintCmp,
}

/// The sides `stream_size` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamSide {
    /// The client's stream.
    Client,
    /// The server's stream.
    Server,
    /// Both must satisfy.
    Both,
    /// Either may satisfy.
    Either,
}

impl StreamSize {
    /// Parses a `stream_size` value.
    pub fn parse(s: &str) -> Result<StreamSize, KeywordError> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [side, op, bytes] = parts.as_slice() else {
            return Err(err(
                "stream_size",
                format!("expected side, operator, bytes in '{s}'"),
            ));
        };
        let side = match side.to_ascii_lowercase().as_str() {
            "client" => StreamSide::Client,
            "server" => StreamSide::Server,
            "both" => StreamSide::Both,
            "either" => StreamSide::Either,
            other => return Err(err("stream_size", format!("unknown side '{other}'"))),
        };
        let op = match *op {
            "<" | ">" | "=" | "<=" | ">=" | "!" => *op,
            "!=" => "!",
            other => return Err(err("stream_size", format!("unknown operator '{other}'"))),
        };
        let cmp = UintCmp::parse("stream_size", &format!("{op}{bytes}"), u64::from(u32::MAX))?;
        Ok(StreamSize { side, cmp })
    }

    /// Whether the flow's stream sizes satisfy the comparison; no match
    /// without TCP stream state.
    pub fn matches(&self, p: &PacketView) -> bool {
        let Some((c, s)) = p.stream_size else {
            return false;
        };
        match self.side {
            StreamSide::Client => self.cmp.matches(c),
            StreamSide::Server => self.cmp.matches(s),
            StreamSide::Both => self.cmp.matches(c) && self.cmp.matches(s),
            StreamSide::Either => self.cmp.matches(c) || self.cmp.matches(s),
        }
    }
}

/// A header keyword with its parsed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderMatch {
    /// `flags` / `tcp.flags`.
    Flags(Flags),
    /// `ttl`.
    Ttl(UintCmp),
    /// `itype`.
    Itype(UintCmp),
    /// `icode`.
    Icode(UintCmp),
    /// `icmp_id`.
    IcmpId(u16),
    /// `icmp_seq`.
    IcmpSeq(u16),
    /// `ip_proto`.
    IpProto(IpProto),
    /// `stream_size`.
    StreamSize(StreamSize),
    /// `flow`.
    Flow(FlowOpts),
}

impl HeaderMatch {
    /// Parses keyword `name` with `value`; `None` when `name` is not a
    /// header keyword.
    pub fn parse(name: &str, value: Option<&str>) -> Option<Result<HeaderMatch, KeywordError>> {
        let v = value.unwrap_or("").trim();
        let icmp16 = |kw: &'static str| -> Result<u16, KeywordError> {
            let t = v.trim_matches('"').trim();
            t.parse::<u16>()
                .map_err(|_| err(kw, format!("invalid value '{t}', expected 0-65535")))
        };
        Some(match name {
            "flags" | "tcp.flags" => Flags::parse(v).map(HeaderMatch::Flags),
            "ttl" => UintCmp::parse("ttl", v, 255).map(HeaderMatch::Ttl),
            "itype" => UintCmp::parse("itype", v, 255).map(HeaderMatch::Itype),
            "icode" => UintCmp::parse("icode", v, 255).map(HeaderMatch::Icode),
            "icmp_id" => icmp16("icmp_id").map(HeaderMatch::IcmpId),
            "icmp_seq" => icmp16("icmp_seq").map(HeaderMatch::IcmpSeq),
            "ip_proto" => IpProto::parse(v).map(HeaderMatch::IpProto),
            "stream_size" => StreamSize::parse(v).map(HeaderMatch::StreamSize),
            "flow" => FlowOpts::parse(v).map(HeaderMatch::Flow),
            _ => return None,
        })
    }

    /// Whether packet `p` satisfies the keyword.
    pub fn matches(&self, p: &PacketView) -> bool {
        match self {
            HeaderMatch::Flags(f) => p.tcp_flags.is_some_and(|x| f.matches(x)),
            HeaderMatch::Ttl(c) => c.matches(u64::from(p.ttl)),
            HeaderMatch::Itype(c) => p.icmp.is_some_and(|(t, _)| c.matches(u64::from(t))),
            HeaderMatch::Icode(c) => p.icmp.is_some_and(|(_, k)| c.matches(u64::from(k))),
            HeaderMatch::IcmpId(id) => p.icmp_echo.is_some_and(|(x, _)| x == *id),
            HeaderMatch::IcmpSeq(seq) => p.icmp_echo.is_some_and(|(_, x)| x == *seq),
            HeaderMatch::IpProto(IpProto(c)) => c.matches(u64::from(p.ip_proto)),
            HeaderMatch::StreamSize(s) => s.matches(p),
            HeaderMatch::Flow(f) => f.matches(p),
        }
    }
}

#[cfg(test)]
mod tests;
