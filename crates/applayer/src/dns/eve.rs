//! The EVE `dns` records of a transaction and the `dns` object of alerts,
//! in Suricata 7.0.10's layout (EVE DNS "version 2"; `rust/src/dns/log.rs`
//! and `output-json-dns.c`, `output-json-alert.c`).
//!
//! * A request transaction gives one record per question,
//!   `{"type":"query","id","rrname","rrtype","tx_id","opcode"}` (plus `z`
//!   and `rrname_truncated` when set). Logging stops at the first question
//!   whose type is filtered out (Suricata's loop `break`s there).
//! * A response transaction gives one record, `{"version":2,"type":
//!   "answer",...}`, if any of its questions' types is enabled; a response
//!   without questions is never logged. `answers` (detailed) and `grouped`
//!   depend on `formats`; `authorities` are always detailed.
//! * In alerts, `dns` holds `query` (the array of query objects) and/or
//!   `answer` (the answer object without `answers`/`grouped`: Suricata
//!   passes `LOG_ALL_RRTYPES`, which clears the format bits). Types Suricata
//!   has no flag bit for are left out there, as in Suricata.
//!
//! Departure: Suricata fills `grouped` from a hash map, so its key order
//! varies; here keys come in order of first appearance.

use std::borrow::Cow;
use std::fmt::Write as _;

use mirador_engine::eve::Obj;

use super::DnsTx;
use super::wire::{DnsMessage, DnsName, DnsQuery, DnsRecord, RData};

const LOG_QUERIES: u64 = 1 << 0;
const LOG_ANSWERS: u64 = 1 << 1;
const LOG_FORMAT_GROUPED: u64 = 1 << 60;
const LOG_FORMAT_DETAILED: u64 = 1 << 61;
const LOG_HTTPS: u64 = 1 << 62;
const LOG_ALL_RRTYPES: u64 =
    !(LOG_QUERIES | LOG_ANSWERS | LOG_FORMAT_DETAILED | LOG_FORMAT_GROUPED);

/// The `types` names Suricata accepts, their record type and flag bit (bit
/// 2 + index, HTTPS on bit 62), in Suricata's order.
const TYPES: &[(&str, u16)] = &[
    ("a", 1),
    ("ns", 2),
    ("md", 3),
    ("mf", 4),
    ("cname", 5),
    ("soa", 6),
    ("mb", 7),
    ("mg", 8),
    ("mr", 9),
    ("null", 10),
    ("wks", 11),
    ("ptr", 12),
    ("hinfo", 13),
    ("minfo", 14),
    ("mx", 15),
    ("txt", 16),
    ("rp", 17),
    ("afsdb", 18),
    ("x25", 19),
    ("isdn", 20),
    ("rt", 21),
    ("nsap", 22),
    ("nsapptr", 23),
    ("sig", 24),
    ("key", 25),
    ("px", 26),
    ("gpos", 27),
    ("aaaa", 28),
    ("loc", 29),
    ("nxt", 30),
    ("srv", 33),
    ("atma", 34),
    ("naptr", 35),
    ("kx", 36),
    ("cert", 37),
    ("a6", 38),
    ("dname", 39),
    ("opt", 41),
    ("apl", 42),
    ("ds", 43),
    ("sshfp", 44),
    ("ipseckey", 45),
    ("rrsig", 46),
    ("nsec", 47),
    ("dnskey", 48),
    ("dhcid", 49),
    ("nsec3", 50),
    ("nsec3param", 51),
    ("tlsa", 52),
    ("hip", 55),
    ("cds", 59),
    ("cdnskey", 60),
    ("spf", 99),
    ("tkey", 249),
    ("tsig", 250),
    ("maila", 254),
    ("any", 255),
    ("uri", 256),
];

fn type_bit(rrtype: u16) -> Option<u64> {
    if rrtype == 65 {
        return Some(LOG_HTTPS);
    }
    TYPES
        .iter()
        .position(|&(_, t)| t == rrtype)
        .map(|i| 1u64 << (i + 2))
}

/// The `outputs.eve-log.types.dns` settings (`requests`, `responses`,
/// `formats`, `types`), as Suricata's flag word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsEveConfig {
    flags: u64,
}

impl Default for DnsEveConfig {
    /// Suricata's default: requests and responses, both formats, all types.
    fn default() -> Self {
        DnsEveConfig { flags: !0 }
    }
}

impl DnsEveConfig {
    /// Builds the settings as Suricata 7's `JsonDnsLogInitFilters` does
    /// (each argument `None` when its key is absent). `formats` applies
    /// only when responses are logged. Suricata ignores unknown names;
    /// here they are an error naming the value, for the config checker.
    pub fn new(
        requests: Option<bool>,
        responses: Option<bool>,
        formats: Option<&[&str]>,
        types: Option<&[&str]>,
    ) -> Result<DnsEveConfig, String> {
        let mut flags = !0u64;
        if requests == Some(false) {
            flags &= !LOG_QUERIES;
        }
        if responses == Some(false) {
            flags &= !LOG_ANSWERS;
        }
        if let Some(types) = types {
            flags &= !LOG_ALL_RRTYPES;
            for t in types {
                let bit = if t.eq_ignore_ascii_case("https") {
                    LOG_HTTPS
                } else {
                    let i = TYPES
                        .iter()
                        .position(|(n, _)| n.eq_ignore_ascii_case(t))
                        .ok_or_else(|| format!("unknown dns record type `{t}`"))?;
                    1u64 << (i + 2)
                };
                flags |= bit;
            }
        }
        if let Some(formats) = formats.filter(|_| flags & LOG_ANSWERS != 0) {
            flags &= !(LOG_FORMAT_DETAILED | LOG_FORMAT_GROUPED);
            for f in formats {
                if f.eq_ignore_ascii_case("detailed") {
                    flags |= LOG_FORMAT_DETAILED;
                } else if f.eq_ignore_ascii_case("grouped") {
                    flags |= LOG_FORMAT_GROUPED;
                } else {
                    return Err(format!("unknown dns log format `{f}`"));
                }
            }
        }
        Ok(DnsEveConfig { flags })
    }

    /// Whether request transactions are logged.
    pub fn log_requests(&self) -> bool {
        self.flags & LOG_QUERIES != 0
    }

    /// Whether response transactions are logged.
    pub fn log_responses(&self) -> bool {
        self.flags & LOG_ANSWERS != 0
    }
}

/// Suricata's `dns_log_rrtype_enabled`: with every bit set, any type
/// (unknown ones too); otherwise only types with a flag bit.
fn rrtype_enabled(rrtype: u16, flags: u64) -> bool {
    flags == !0 || type_bit(rrtype).is_some_and(|b| flags & b != 0)
}

/// A record type as Suricata 7 names it in EVE (`dns_rrtype_string`,
/// misspellings included: `ND` for MD, `NSAPPT`, `CDSNKEY`); unnamed types
/// as their number.
pub fn rrtype_name(rrtype: u16) -> Cow<'static, str> {
    let s = match rrtype {
        1 => "A",
        2 => "NS",
        3 => "ND",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPT",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDSNKEY",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        n => return Cow::Owned(n.to_string()),
    };
    Cow::Borrowed(s)
}

/// A response code as Suricata names it (`dns_rcode_string`; only the
/// header's 4 bits exist without EDNS, so 11-15 are numbers).
pub fn rcode_name(rcode: u8) -> Cow<'static, str> {
    let s = match rcode & 0xf {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        n => return Cow::Owned(n.to_string()),
    };
    Cow::Borrowed(s)
}

/// Bytes as Suricata's `set_string_from_bytes` writes them: valid UTF-8 as
/// is, otherwise ASCII bytes as characters and others as `\xNN` text.
pub fn bytes_str(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut s = String::with_capacity(b.len() * 2);
            for &c in b {
                if c < 128 {
                    s.push(char::from(c));
                } else {
                    let _ = write!(s, "\\x{c:02x}");
                }
            }
            Cow::Owned(s)
        }
    }
}

/// Suricata's `dns_print_addr`: dotted quad, or eight groups of four hex
/// digits (never compressed); any other length is the empty string.
fn addr(b: &[u8]) -> String {
    let mut s = String::new();
    match b {
        [a, b2, c, d] => {
            let _ = write!(s, "{a}.{b2}.{c}.{d}");
        }
        _ if b.len() == 16 => {
            for (i, pair) in b.chunks(2).enumerate() {
                if i > 0 {
                    s.push(':');
                }
                for x in pair {
                    let _ = write!(s, "{x:02x}");
                }
            }
        }
        _ => {}
    }
    s
}

fn name_field(o: &mut Obj<'_>, key: &str, trunc_key: &str, n: &DnsName) {
    o.str(key, &bytes_str(&n.value));
    if n.truncated {
        o.bool(trunc_key, true);
    }
}

fn soa_obj(o: &mut Obj<'_>, r: &super::wire::Soa) {
    name_field(o, "mname", "mname_truncated", &r.mname);
    name_field(o, "rname", "rname_truncated", &r.rname);
    o.u64("serial", u64::from(r.serial))
        .u64("refresh", u64::from(r.refresh))
        .u64("retry", u64::from(r.retry))
        .u64("expire", u64::from(r.expire))
        .u64("minimum", u64::from(r.minimum));
}

fn sshfp_obj(o: &mut Obj<'_>, r: &super::wire::Sshfp) {
    let mut hex = String::with_capacity(r.fingerprint.len() * 3);
    for (i, b) in r.fingerprint.iter().enumerate() {
        if i > 0 {
            hex.push(':');
        }
        let _ = write!(hex, "{b:02x}");
    }
    o.str("fingerprint", &hex)
        .u64("algo", u64::from(r.algo))
        .u64("type", u64::from(r.fp_type));
}

fn srv_obj(o: &mut Obj<'_>, r: &super::wire::Srv) {
    o.u64("priority", u64::from(r.priority))
        .u64("weight", u64::from(r.weight))
        .u64("port", u64::from(r.port))
        .str("name", &bytes_str(&r.target.value));
}

/// One detailed answer or authority (`dns_log_json_answer_detail`).
fn record_detail(o: &mut Obj<'_>, r: &DnsRecord) {
    name_field(o, "rrname", "rrname_truncated", &r.name);
    o.str("rrtype", &rrtype_name(r.rrtype))
        .u64("ttl", u64::from(r.ttl));
    match &r.data {
        RData::A(b) | RData::Aaaa(b) => {
            o.str("rdata", &addr(b));
        }
        RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) | RData::Mx { name: n, .. } => {
            name_field(o, "rdata", "rdata_truncated", n);
        }
        RData::Txt(b) | RData::Null(b) => {
            o.str("rdata", &bytes_str(b));
        }
        RData::Soa(s) => {
            o.obj("soa", |o| soa_obj(o, s));
        }
        RData::Sshfp(s) => {
            o.obj("sshfp", |o| sshfp_obj(o, s));
        }
        RData::Srv(s) => {
            o.obj("srv", |o| srv_obj(o, s));
        }
        RData::Unknown(_) => {}
    }
}

/// Grouped form of a record's data, if Suricata groups its type.
enum Grouped<'a> {
    Str(Cow<'a, str>),
    Soa(&'a super::wire::Soa),
    Sshfp(&'a super::wire::Sshfp),
    Srv(&'a super::wire::Srv),
}

fn grouped_value(r: &DnsRecord) -> Option<Grouped<'_>> {
    Some(match &r.data {
        RData::A(b) | RData::Aaaa(b) => Grouped::Str(Cow::Owned(addr(b))),
        RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) | RData::Mx { name: n, .. } => {
            Grouped::Str(bytes_str(&n.value))
        }
        RData::Txt(b) | RData::Null(b) => Grouped::Str(bytes_str(b)),
        RData::Soa(s) => Grouped::Soa(s),
        RData::Sshfp(s) => Grouped::Sshfp(s),
        RData::Srv(s) => Grouped::Srv(s),
        RData::Unknown(_) => return None,
    })
}

fn write_grouped(o: &mut Obj<'_>, answers: &[DnsRecord]) {
    // Types in order of first appearance; each type's values in order.
    let mut order: Vec<u16> = Vec::new();
    for r in answers {
        if grouped_value(r).is_some() && !order.contains(&r.rrtype) {
            order.push(r.rrtype);
        }
    }
    for t in order {
        let vals: Vec<Grouped<'_>> = answers
            .iter()
            .filter(|r| r.rrtype == t)
            .filter_map(grouped_value)
            .collect();
        let key = rrtype_name(t);
        if vals.iter().all(|v| matches!(v, Grouped::Str(_))) {
            o.strs(
                &key,
                vals.iter().map(|v| match v {
                    Grouped::Str(s) => s.as_ref(),
                    _ => "",
                }),
            );
        } else {
            o.objs(&key, vals.iter(), |o, v| match v {
                Grouped::Soa(s) => soa_obj(o, s),
                Grouped::Sshfp(s) => sshfp_obj(o, s),
                Grouped::Srv(s) => srv_obj(o, s),
                Grouped::Str(_) => {}
            });
        }
    }
}

/// A query object (`dns_log_query`).
fn write_query(o: &mut Obj<'_>, tx_id: u64, m: &DnsMessage, q: &DnsQuery) {
    o.str("type", "query").u64("id", u64::from(m.header.id));
    name_field(o, "rrname", "rrname_truncated", &q.name);
    o.str("rrtype", &rrtype_name(q.rrtype)).u64("tx_id", tx_id);
    if m.header.z() {
        o.bool("z", true);
    }
    o.u64("opcode", u64::from(m.header.opcode()));
}

/// The answer object (`dns_log_json_answer`).
fn write_answer(o: &mut Obj<'_>, m: &DnsMessage, flags: u64) {
    let h = &m.header;
    o.u64("version", 2)
        .str("type", "answer")
        .u64("id", u64::from(h.id))
        .str("flags", &format!("{:x}", h.flags));
    for (set, key) in [
        (h.qr(), "qr"),
        (h.aa(), "aa"),
        (h.tc(), "tc"),
        (h.rd(), "rd"),
        (h.ra(), "ra"),
        (h.z(), "z"),
    ] {
        if set {
            o.bool(key, true);
        }
    }
    o.u64("opcode", u64::from(h.opcode()));
    if let Some(q) = m.queries.first() {
        name_field(o, "rrname", "rrname_truncated", &q.name);
        o.str("rrtype", &rrtype_name(q.rrtype));
    }
    o.str("rcode", &rcode_name(h.rcode()));
    if !m.answers.is_empty() {
        if flags & LOG_FORMAT_DETAILED != 0 {
            o.objs("answers", m.answers.iter(), record_detail);
        }
        if flags & LOG_FORMAT_GROUPED != 0 {
            o.obj("grouped", |o| write_grouped(o, &m.answers));
        }
    }
    if !m.authorities.is_empty() {
        o.objs("authorities", m.authorities.iter(), record_detail);
    }
}

/// The questions of a request logged under `flags`: up to the first one
/// whose type is filtered out.
fn logged_queries(m: &DnsMessage, flags: u64) -> impl Iterator<Item = &DnsQuery> {
    m.queries
        .iter()
        .take_while(move |q| rrtype_enabled(q.rrtype, flags))
}

fn answer_logged(m: &DnsMessage, flags: u64) -> bool {
    m.queries.iter().any(|q| rrtype_enabled(q.rrtype, flags))
}

/// One EVE `dns` record of a transaction; [`DnsEveRecord::write`] fills
/// the record's `dns` object.
#[derive(Debug, Clone, Copy)]
pub enum DnsEveRecord<'a> {
    /// `"type":"query"` for one question of a request.
    Query {
        tx: &'a DnsTx,
        request: &'a DnsMessage,
        query: &'a DnsQuery,
    },
    /// `"type":"answer"` for a response.
    Answer {
        response: &'a DnsMessage,
        flags: u64,
    },
}

impl DnsEveRecord<'_> {
    /// Writes the fields of the record's `dns` object into `o`.
    pub fn write(&self, o: &mut Obj<'_>) {
        match *self {
            DnsEveRecord::Query { tx, request, query } => {
                // Suricata 7 writes no `version` in query records; the EVE
                // schema (Suricata 8's) requires one, and 2 is the layout.
                o.u64("version", 2);
                write_query(o, tx.id, request, query)
            }
            DnsEveRecord::Answer { response, flags } => write_answer(o, response, flags),
        }
    }
}

impl DnsTx {
    /// Every EVE `dns` record this transaction produces under `cfg`, in
    /// Suricata's order (the queries of a request, or a response's answer
    /// record). The caller writes each as an `event_type: dns` record with
    /// the flow's addresses (Suricata logs both with `LOG_DIR_FLOW`) and
    /// the record's fields inside `"dns"`.
    pub fn eve_records<'a>(
        &'a self,
        cfg: &DnsEveConfig,
    ) -> impl Iterator<Item = DnsEveRecord<'a>> + 'a {
        let flags = cfg.flags;
        let queries = self
            .request()
            .filter(|_| flags & LOG_QUERIES != 0)
            .into_iter()
            .flat_map(move |m| {
                logged_queries(m, flags).map(move |q| DnsEveRecord::Query {
                    tx: self,
                    request: m,
                    query: q,
                })
            });
        let answer = self
            .response()
            .filter(|m| flags & LOG_ANSWERS != 0 && answer_logged(m, flags))
            .map(|m| DnsEveRecord::Answer { response: m, flags });
        queries.chain(answer)
    }

    /// Writes the fields of an alert's `dns` object into `o` (the caller
    /// opens `"dns"`, which Suricata writes even when it stays empty):
    /// `query` (array) for a request, `answer` (object) for a response.
    pub fn write_alert_eve(&self, o: &mut Obj<'_>) {
        // As for query records: the schema requires `version`.
        o.u64("version", 2);
        let request = self.request();
        if let Some(m) = request.filter(|m| logged_queries(m, LOG_ALL_RRTYPES).next().is_some()) {
            o.objs("query", logged_queries(m, LOG_ALL_RRTYPES), |o, q| {
                write_query(o, self.id, m, q)
            });
        }
        if let Some(m) = self
            .response()
            .filter(|m| answer_logged(m, LOG_ALL_RRTYPES))
        {
            o.obj("answer", |o| write_answer(o, m, LOG_ALL_RRTYPES));
        }
    }
}
