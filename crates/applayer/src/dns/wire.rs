//! The DNS message parser: header, questions, resource records, names.
//!
//! Hand-written rather than built on nom (Suricata's own parser is nom): a
//! cursor over offsets gives exact control over what Suricata's nom code
//! does implicitly — where a compression pointer resumes, which failure is
//! `Incomplete` and which an error (the probe tells them apart), the slice
//! comparison Suricata uses to spot a self-pointer — while every read is
//! bounds-checked and nothing allocates beyond the caps.
//!
//! Follows Suricata 7.0.10's `rust/src/dns/parser.rs`:
//!
//! * A request body is its questions only; answers, authorities and
//!   additionals of a request are not parsed. A response body is its
//!   questions, answers and authorities; additionals are never parsed (so a
//!   bad additional section never makes a message malformed).
//! * Names: a label is appended with a `.` separator; a name also ends at
//!   the end of its input (no terminator needed). A pointer may point
//!   anywhere in the message, forwards included; `offset > len` is an
//!   error. A pointer to itself is an error if no pointer was followed
//!   before it, else the name ends there (`INFINITE_LOOP`). Every label and
//!   pointer counts; past 255 the name is cut (`LABEL_LIMIT`, and
//!   `TRUNCATED`) if a pointer was followed, else it is an error — this is
//!   also what ends pointer loops between two or more pointers. A name
//!   longer than 1025 bytes is cut to 1025 (`TRUNCATED`), and parsing stops
//!   there if a pointer was followed (else it goes on to find the name's
//!   end). After a pointer, parsing resumes after the first pointer.
//! * Record data: empty data gives no record at all. A TXT record gives one
//!   record per character-string (up to 32767; a bad string after the first
//!   ends the list, a bad first one is an error). Other types are parsed
//!   once from the start of the data; bytes left over are ignored. A and
//!   AAAA keep their bytes whatever their length. Names in record data end
//!   at the data's end, but pointers reach the whole message.

/// Name flags, as Suricata's `DNSNameFlags`.
pub(crate) const NAME_INFINITE_LOOP: u8 = 1;
pub(crate) const NAME_TRUNCATED: u8 = 2;
pub(crate) const NAME_LABEL_LIMIT: u8 = 4;

/// Suricata's `MAX_NAME_LEN`: longer names are truncated to this length.
pub const MAX_NAME_LEN: usize = 1025;
/// Labels and pointers followed per name before Suricata gives up.
pub const MAX_NAME_SEGMENTS: usize = 255;
/// Most character-strings taken from one TXT record (Suricata's bound).
pub const MAX_TXT_STRINGS: usize = 32767;

/// Record types Suricata parses the data of.
pub mod rrtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const NULL: u16 = 10;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const SSHFP: u16 = 44;
}

/// Why a parse stopped: nom's `Incomplete` (more bytes were needed) or an
/// error. Both make a message malformed; the probe treats them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    Incomplete,
    Error,
}

type PResult<T> = Result<T, Fail>;

/// The 12-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DnsHeader {
    /// The message ID (Suricata's `tx_id`, logged as `id`).
    pub id: u16,
    /// The flags word as sent.
    pub flags: u16,
    /// QDCOUNT.
    pub questions: u16,
    /// ANCOUNT.
    pub answer_rr: u16,
    /// NSCOUNT.
    pub authority_rr: u16,
    /// ARCOUNT.
    pub additional_rr: u16,
}

impl DnsHeader {
    /// Parses the header at the start of `b`.
    pub(crate) fn parse(b: &[u8]) -> PResult<DnsHeader> {
        let w = |i: usize| -> PResult<u16> { be16(b, i) };
        Ok(DnsHeader {
            id: w(0)?,
            flags: w(2)?,
            questions: w(4)?,
            answer_rr: w(6)?,
            authority_rr: w(8)?,
            additional_rr: w(10)?,
        })
    }

    /// QR: the message is a response.
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// The 4-bit opcode.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    /// Authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// Truncated.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// The reserved Z bit (Suricata's `Z_FLAG_SET`).
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
    /// Authentic data (DNSSEC).
    pub fn ad(&self) -> bool {
        self.flags & 0x0020 != 0
    }
    /// Checking disabled (DNSSEC).
    pub fn cd(&self) -> bool {
        self.flags & 0x0010 != 0
    }
    /// The 4-bit response code.
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
}

/// A decompressed name, dotted, as Suricata gives it (raw label bytes, no
/// escaping, no trailing dot; the root is empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsName {
    /// The name's bytes.
    pub value: Box<[u8]>,
    /// Cut at [`MAX_NAME_LEN`] or at the label limit (`rrname_truncated`).
    pub truncated: bool,
}

/// A question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    /// QNAME.
    pub name: DnsName,
    /// QTYPE.
    pub rrtype: u16,
    /// QCLASS.
    pub rrclass: u16,
}

/// SOA data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    pub mname: DnsName,
    pub rname: DnsName,
    pub serial: u32,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    pub minimum: u32,
}

/// SRV data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: DnsName,
}

/// SSHFP data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sshfp {
    pub algo: u8,
    pub fp_type: u8,
    pub fingerprint: Box<[u8]>,
}

/// Record data as Suricata 7 parses it; other types are [`RData::Unknown`]
/// (OPT included: Suricata 7 has no OPT parser, and OPT lives in the
/// additional section, which it does not parse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// A: the data bytes (any length; logged as an address only if 4 long).
    A(Box<[u8]>),
    /// AAAA: the data bytes (logged as an address only if 16 long).
    Aaaa(Box<[u8]>),
    Cname(DnsName),
    Ptr(DnsName),
    Ns(DnsName),
    /// MX: Suricata keeps (and logs) only the exchange name.
    Mx {
        preference: u16,
        name: DnsName,
    },
    /// One character-string of a TXT record.
    Txt(Box<[u8]>),
    Null(Box<[u8]>),
    Soa(Box<Soa>),
    Srv(Srv),
    Sshfp(Sshfp),
    Unknown(Box<[u8]>),
}

impl RData {
    /// The name this data carries, if any (CNAME, PTR, NS, MX, SOA's mname).
    pub fn name(&self) -> Option<&DnsName> {
        match self {
            RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => Some(n),
            RData::Mx { name, .. } => Some(name),
            RData::Soa(s) => Some(&s.mname),
            _ => None,
        }
    }
}

/// A resource record (one per TXT string, as Suricata expands them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: DnsName,
    pub rrtype: u16,
    pub rrclass: u16,
    pub ttl: u32,
    pub data: RData,
}

/// A parsed message. Requests carry questions only (Suricata parses no
/// more of them); responses carry questions, answers and authorities.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsMessage {
    pub header: DnsHeader,
    pub queries: Vec<DnsQuery>,
    pub answers: Vec<DnsRecord>,
    pub authorities: Vec<DnsRecord>,
}

/// Per-message storage caps (Suricata has none: it keeps everything).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub queries: usize,
    pub records: usize,
    pub name_bytes: usize,
}

/// What parsing a body found besides the message.
#[derive(Debug, Default)]
pub(crate) struct BodyInfo {
    /// Union of the flags of every name parsed (Suricata's `parse_flags`).
    pub name_flags: u8,
    /// Entries parsed but not kept because a cap was reached.
    pub dropped: u64,
}

fn be16(b: &[u8], i: usize) -> PResult<u16> {
    match b.get(i..i.saturating_add(2)) {
        Some(&[x, y]) => Ok(u16::from_be_bytes([x, y])),
        _ => Err(Fail::Incomplete),
    }
}

fn be32(b: &[u8], i: usize) -> PResult<u32> {
    match b.get(i..i.saturating_add(4)) {
        Some(&[a, b2, c, d]) => Ok(u32::from_be_bytes([a, b2, c, d])),
        _ => Err(Fail::Incomplete),
    }
}

/// A view `msg[..end]` read from `pos`: `end` is the message's end, or a
/// record's data end for names in record data.
pub(crate) struct Parser<'a> {
    msg: &'a [u8],
    name: Vec<u8>,
    caps: Caps,
    name_bytes: usize,
    records: usize,
    pub info: BodyInfo,
}

impl<'a> Parser<'a> {
    pub fn new(msg: &'a [u8], caps: Caps) -> Self {
        Parser {
            msg,
            name: Vec::with_capacity(64),
            caps,
            name_bytes: 0,
            records: 0,
            info: BodyInfo::default(),
        }
    }

    /// Parses a name at `start` within `msg[..end]` into `self.name`;
    /// returns where parsing resumes and the name's own flags.
    fn name_at(&mut self, start: usize, end: usize) -> PResult<(usize, u8)> {
        let msg = self.msg;
        let mut pos = start;
        let mut end = end.min(msg.len());
        let mut pivot: Option<usize> = None;
        let mut count = 0usize;
        let mut flags = 0u8;
        self.name.clear();
        while let Some(&len) = msg.get(pos).filter(|_| pos < end) {
            if len == 0 {
                pos += 1;
                break;
            } else if len & 0xc0 == 0 {
                let l = usize::from(len);
                let label = msg.get(pos + 1..pos + 1 + l).filter(|_| pos + 1 + l <= end);
                let Some(label) = label else {
                    return Err(Fail::Incomplete);
                };
                if flags & NAME_TRUNCATED == 0 {
                    if !self.name.is_empty() {
                        self.name.push(b'.');
                    }
                    self.name.extend_from_slice(label);
                }
                pos += 1 + l;
            } else if len & 0xc0 == 0xc0 {
                if end - pos < 2 {
                    return Err(Fail::Incomplete);
                }
                let lo = msg.get(pos + 1).copied().unwrap_or(0);
                let offset = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                if offset > msg.len() {
                    return Err(Fail::Error);
                }
                // Suricata compares `&message[offset..] == pos` by content:
                // within the message's own view that is "points at itself";
                // within record data (a shorter view) it holds only when
                // lengths and bytes agree. Bytes are compared only in that
                // second case, at most once per name and at most the rest
                // of one record's data: linear per message.
                let self_ref = msg.len() - offset == end - pos
                    && (offset == pos || msg.get(offset..) == msg.get(pos..end));
                if self_ref {
                    flags |= NAME_INFINITE_LOOP;
                    if pivot.is_some() {
                        break;
                    }
                    return Err(Fail::Error);
                }
                if pivot.is_none() {
                    pivot = Some(pos + 2);
                }
                pos = offset;
                end = msg.len();
            } else {
                return Err(Fail::Error);
            }
            count += 1;
            if count > MAX_NAME_SEGMENTS {
                flags |= NAME_LABEL_LIMIT;
                if pivot.is_some() {
                    flags |= NAME_TRUNCATED;
                    break;
                }
                return Err(Fail::Error);
            }
            if self.name.len() > MAX_NAME_LEN {
                self.name.truncate(MAX_NAME_LEN);
                flags |= NAME_TRUNCATED;
                if pivot.is_some() {
                    break;
                }
            }
        }
        self.info.name_flags |= flags;
        Ok((pivot.unwrap_or(pos), flags))
    }

    /// Copies the scratch name out.
    fn take_name(&self, flags: u8) -> DnsName {
        DnsName {
            value: self.name.as_slice().into(),
            truncated: flags & NAME_TRUNCATED != 0,
        }
    }

    /// Parses `n` questions from `pos`; keeps them in `out` up to the caps.
    pub fn queries(&mut self, mut pos: usize, n: u16, out: &mut Vec<DnsQuery>) -> PResult<usize> {
        for _ in 0..n {
            let (p, flags) = self.name_at(pos, self.msg.len())?;
            let rrtype = be16(self.msg, p)?;
            let rrclass = be16(self.msg, p + 2)?;
            pos = p + 4;
            let cost = self.name_bytes.saturating_add(self.name.len());
            if out.len() < self.caps.queries && cost <= self.caps.name_bytes {
                self.name_bytes = cost;
                out.push(DnsQuery {
                    name: self.take_name(flags),
                    rrtype,
                    rrclass,
                });
            } else {
                self.info.dropped += 1;
            }
        }
        Ok(pos)
    }

    /// Parses `n` resource records from `pos` (Suricata's
    /// `dns_parse_answer`); keeps them in `out` up to the caps.
    pub fn records(&mut self, mut pos: usize, n: u16, out: &mut Vec<DnsRecord>) -> PResult<usize> {
        let msg = self.msg;
        for _ in 0..n {
            let (p, flags) = self.name_at(pos, msg.len())?;
            let owner = self.take_name(flags);
            let rrtype = be16(msg, p)?;
            let rrclass = be16(msg, p + 2)?;
            let ttl = be32(msg, p + 4)?;
            let rdlen = usize::from(be16(msg, p + 8)?);
            let dstart = p + 10;
            let dend = dstart + rdlen;
            if dend > msg.len() {
                return Err(Fail::Incomplete);
            }
            pos = dend;
            if rdlen == 0 {
                // Suricata: no data, no record.
                continue;
            }
            if rrtype == rrtype::TXT {
                let mut at = dstart;
                let mut got = 0usize;
                while got < MAX_TXT_STRINGS {
                    let Some(&l) = msg.get(at).filter(|_| at < dend) else {
                        break;
                    };
                    let l = usize::from(l);
                    let Some(s) = msg.get(at + 1..at + 1 + l).filter(|_| at + 1 + l <= dend) else {
                        break;
                    };
                    at += 1 + l;
                    got += 1;
                    self.push_record(&owner, rrtype, rrclass, ttl, RData::Txt(s.into()), out);
                }
                if got == 0 {
                    return Err(Fail::Error);
                }
            } else {
                // `complete()` in Suricata: running out of data is an error.
                let data = self.rdata(rrtype, dstart, dend).map_err(|_| Fail::Error)?;
                self.push_record(&owner, rrtype, rrclass, ttl, data, out);
            }
        }
        Ok(pos)
    }

    /// Keeps a record if the caps allow (each record, TXT strings included,
    /// holds its own copy of the owner name, as in Suricata).
    fn push_record(
        &mut self,
        owner: &DnsName,
        rrtype: u16,
        rrclass: u16,
        ttl: u32,
        data: RData,
        out: &mut Vec<DnsRecord>,
    ) {
        let names = owner.value.len() + rdata_name_bytes(&data);
        let cost = self.name_bytes.saturating_add(names);
        if self.records < self.caps.records && cost <= self.caps.name_bytes {
            self.name_bytes = cost;
            self.records += 1;
            out.push(DnsRecord {
                name: owner.clone(),
                rrtype,
                rrclass,
                ttl,
                data,
            });
        } else {
            self.info.dropped += 1;
        }
    }

    /// Parses one record's data in `msg[start..end]` (non-empty).
    fn rdata(&mut self, rrtype: u16, start: usize, end: usize) -> PResult<RData> {
        let msg = self.msg;
        let bytes = msg.get(start..end).unwrap_or(&[]);
        let data = match rrtype {
            rrtype::A => RData::A(bytes.into()),
            rrtype::AAAA => RData::Aaaa(bytes.into()),
            rrtype::CNAME | rrtype::PTR | rrtype::NS => {
                let (_, f) = self.name_at(start, end)?;
                let n = self.take_name(f);
                match rrtype {
                    rrtype::CNAME => RData::Cname(n),
                    rrtype::PTR => RData::Ptr(n),
                    _ => RData::Ns(n),
                }
            }
            rrtype::MX => {
                let preference = be16(bytes, 0)?;
                let (_, f) = self.name_at(start + 2, end)?;
                RData::Mx {
                    preference,
                    name: self.take_name(f),
                }
            }
            rrtype::SOA => {
                let (p, f1) = self.name_at(start, end)?;
                let mname = self.take_name(f1);
                let (p, f2) = self.name_at(p, end)?;
                let rname = self.take_name(f2);
                let rest = msg.get(p..end).unwrap_or(&[]);
                RData::Soa(Box::new(Soa {
                    mname,
                    rname,
                    serial: be32(rest, 0)?,
                    refresh: be32(rest, 4)?,
                    retry: be32(rest, 8)?,
                    expire: be32(rest, 12)?,
                    minimum: be32(rest, 16)?,
                }))
            }
            rrtype::SRV => {
                let priority = be16(bytes, 0)?;
                let weight = be16(bytes, 2)?;
                let port = be16(bytes, 4)?;
                let (_, f) = self.name_at(start + 6, end)?;
                RData::Srv(Srv {
                    priority,
                    weight,
                    port,
                    target: self.take_name(f),
                })
            }
            rrtype::SSHFP => match bytes {
                [algo, fp_type, fp @ ..] => RData::Sshfp(Sshfp {
                    algo: *algo,
                    fp_type: *fp_type,
                    fingerprint: fp.into(),
                }),
                _ => return Err(Fail::Incomplete),
            },
            rrtype::NULL => RData::Null(bytes.into()),
            _ => RData::Unknown(bytes.into()),
        };
        Ok(data)
    }
}

fn rdata_name_bytes(d: &RData) -> usize {
    match d {
        RData::Soa(s) => s.mname.value.len() + s.rname.value.len(),
        RData::Srv(s) => s.target.value.len(),
        d => d.name().map_or(0, |n| n.value.len()),
    }
}

/// Parses a request body (questions only) after a valid header.
pub(crate) fn parse_request(
    msg: &[u8],
    header: DnsHeader,
    caps: Caps,
) -> (PResult<DnsMessage>, BodyInfo) {
    let mut p = Parser::new(msg, caps);
    let mut m = DnsMessage {
        header,
        ..DnsMessage::default()
    };
    let r = p.queries(12, header.questions, &mut m.queries).map(|_| m);
    (r, p.info)
}

/// Parses a response body (questions, answers, authorities).
pub(crate) fn parse_response(
    msg: &[u8],
    header: DnsHeader,
    caps: Caps,
) -> (PResult<DnsMessage>, BodyInfo) {
    let mut p = Parser::new(msg, caps);
    let mut m = DnsMessage {
        header,
        ..DnsMessage::default()
    };
    let r = (|| {
        let pos = p.queries(12, header.questions, &mut m.queries)?;
        let pos = p.records(pos, header.answer_rr, &mut m.answers)?;
        p.records(pos, header.authority_rr, &mut m.authorities)?;
        Ok(())
    })();
    (r.map(|()| m), p.info)
}

/// Suricata's `probe_header_validity`: each declared entry needs at least
/// two bytes. Returns whether the header is plausible.
pub(crate) fn header_valid(h: &DnsHeader, len: usize) -> bool {
    let n = usize::from(h.questions)
        + usize::from(h.answer_rr)
        + usize::from(h.authority_rr)
        + usize::from(h.additional_rr);
    2 * n <= len
}
