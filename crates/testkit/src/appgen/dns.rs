//! DNS messages (RFC 1035 §4), written byte by byte: a query for one name
//! and its response (A/AAAA answers, optionally behind a CNAME chain, or
//! NXDOMAIN).

/// Query type A.
pub const TYPE_A: u16 = 1;
/// Query type CNAME.
pub const TYPE_CNAME: u16 = 5;
/// Query type AAAA.
pub const TYPE_AAAA: u16 = 28;

/// A name in wire form (labels split on `.`), or `None` when a label is
/// empty or longer than 63 bytes or the name longer than 255 bytes.
pub fn encode_name(name: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split(|&b| b == b'.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    (out.len() <= 255).then_some(out)
}

/// Is `name` a name [`encode_name`] takes, with printable bytes only?
pub fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|b| (0x21..0x7f).contains(b)) && encode_name(name).is_some()
}

fn header(out: &mut Vec<u8>, id: u16, flags: u16, an: u16) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&an.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // NSCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // ARCOUNT
}

/// A recursive query (RD) for `name`, type `qtype`, class IN.
pub fn query(id: u16, name: &[u8], qtype: u16) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len() + 20);
    header(&mut out, id, 0x0100, 0);
    out.extend_from_slice(&encode_name(name)?);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    Some(out)
}

/// One answer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    /// An IPv4 address.
    A([u8; 4]),
    /// An IPv6 address.
    Aaaa([u8; 16]),
    /// A canonical name.
    Cname(Vec<u8>),
}

/// The response to [`query`]: the question again, then `answers` as
/// (owner name, TTL, data); the first owner is written as a pointer to the
/// question (offset 12). `nxdomain` sets RCODE 3 (answers should be empty).
pub fn response(
    id: u16,
    name: &[u8],
    qtype: u16,
    answers: &[(Vec<u8>, u32, Rdata)],
    nxdomain: bool,
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len() * 2 + 40 * answers.len() + 20);
    let flags = if nxdomain { 0x8183 } else { 0x8180 };
    header(&mut out, id, flags, answers.len() as u16);
    out.extend_from_slice(&encode_name(name)?);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    for (owner, ttl, data) in answers {
        if owner == name {
            out.extend_from_slice(&[0xc0, 12]);
        } else {
            out.extend_from_slice(&encode_name(owner)?);
        }
        let (ty, rd) = match data {
            Rdata::A(a) => (TYPE_A, a.to_vec()),
            Rdata::Aaaa(a) => (TYPE_AAAA, a.to_vec()),
            Rdata::Cname(n) => (TYPE_CNAME, encode_name(n)?),
        };
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        out.extend_from_slice(&rd);
    }
    Some(out)
}

/// The question name of a message, dotted (for tests).
pub fn question_name(msg: &[u8]) -> Option<Vec<u8>> {
    let mut i = 12;
    let mut out = Vec::new();
    loop {
        let n = usize::from(*msg.get(i)?);
        if n == 0 {
            return Some(out);
        }
        if !out.is_empty() {
            out.push(b'.');
        }
        out.extend_from_slice(msg.get(i + 1..i + 1 + n)?);
        i += 1 + n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_layout() {
        let q = query(0x1234, b"www.example.com", TYPE_A).unwrap();
        assert_eq!(&q[..12], &[0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..17], b"\x03www\x07");
        assert_eq!(&q[q.len() - 4..], &[0, 1, 0, 1]);
        assert_eq!(question_name(&q).unwrap(), b"www.example.com");
        assert!(query(1, b"a..b", TYPE_A).is_none());
        assert!(query(1, &[b'a'; 64], TYPE_A).is_none());
        assert!(valid_name(b"a.b"));
        assert!(!valid_name(b".a"));
        assert!(!valid_name(b"a b"));
    }

    #[test]
    fn response_layout() {
        let r = response(
            7,
            b"a.io",
            TYPE_A,
            &[
                (b"a.io".to_vec(), 60, Rdata::Cname(b"b.io".to_vec())),
                (b"b.io".to_vec(), 60, Rdata::A([1, 2, 3, 4])),
            ],
            false,
        )
        .unwrap();
        assert_eq!(&r[2..4], &[0x81, 0x80]);
        assert_eq!(&r[6..8], &[0, 2]);
        // question (4+4+... ) then the pointer to it
        let q_end = 12 + 6 + 4;
        assert_eq!(&r[q_end..q_end + 2], &[0xc0, 12]);
        assert_eq!(&r[r.len() - 4..], &[1, 2, 3, 4]);
    }
}
