//! TLS records and handshake messages (RFC 5246, RFC 8446) and X.509
//! certificates in DER (RFC 5280), written by hand. Signatures and keys are
//! random bytes: nothing here is meant to verify, only to parse as
//! Suricata's TLS parser and its X.509 decoder parse them.

use crate::pcaps::Rng;

/// Record content types.
pub mod content_type {
    /// change_cipher_spec.
    pub const CCS: u8 = 20;
    /// handshake.
    pub const HANDSHAKE: u8 = 22;
    /// application_data.
    pub const APPLICATION_DATA: u8 = 23;
}

/// Records of `ty` around `body`, split at 16384 bytes.
pub fn records(ty: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5 * (body.len() / 16384 + 1));
    for c in body.chunks(16384) {
        out.push(ty);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(c.len() as u16).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn u24(n: usize) -> [u8; 3] {
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

fn vec8(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b.len() as u8);
    out.extend_from_slice(b);
}

fn vec16(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![ty];
    out.extend_from_slice(&u24(body.len()));
    out.extend_from_slice(body);
    out
}

fn ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    vec16(out, data);
}

fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v.truncate(n);
    v
}

/// What a ClientHello offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// server_name, if any.
    pub sni: Option<Vec<u8>>,
    /// ALPN protocols.
    pub alpn: Vec<&'static [u8]>,
    /// Offer TLS 1.3 (supported_versions, key_share).
    pub tls13: bool,
    /// Cipher suites.
    pub ciphers: Vec<u16>,
}

/// A browser-like cipher list (GREASE-free).
pub const BROWSER_CIPHERS: [u16; 15] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
];

/// A ClientHello handshake message in one record.
pub fn client_hello(h: &ClientHello, rng: &mut Rng) -> Vec<u8> {
    let mut b = Vec::with_capacity(512);
    b.extend_from_slice(&0x0303u16.to_be_bytes());
    b.extend_from_slice(&random_bytes(rng, 32));
    vec8(&mut b, &random_bytes(rng, 32)); // session id
    let mut cs = Vec::new();
    for c in &h.ciphers {
        cs.extend_from_slice(&c.to_be_bytes());
    }
    vec16(&mut b, &cs);
    vec8(&mut b, &[0]); // null compression
    let mut exts = Vec::new();
    if let Some(name) = &h.sni {
        let mut list = vec![0u8]; // host_name
        vec16(&mut list, name);
        let mut sn = Vec::new();
        vec16(&mut sn, &list);
        ext(&mut exts, 0, &sn);
    }
    ext(&mut exts, 23, &[]); // extended_master_secret
    ext(&mut exts, 0xff01, &[0]); // renegotiation_info
    // supported_groups: x25519, secp256r1, secp384r1
    ext(&mut exts, 10, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]);
    ext(&mut exts, 11, &[1, 0]); // ec_point_formats: uncompressed
    ext(&mut exts, 35, &[]); // session_ticket
    if !h.alpn.is_empty() {
        let mut list = Vec::new();
        for p in &h.alpn {
            vec8(&mut list, p);
        }
        let mut a = Vec::new();
        vec16(&mut a, &list);
        ext(&mut exts, 16, &a);
    }
    ext(&mut exts, 5, &[1, 0, 0, 0, 0]); // status_request
    // signature_algorithms
    ext(
        &mut exts,
        13,
        &[0, 16, 4, 3, 8, 4, 4, 1, 5, 3, 8, 5, 5, 1, 8, 6, 6, 1],
    );
    if h.tls13 {
        let mut ks = Vec::new();
        ks.extend_from_slice(&0x001du16.to_be_bytes());
        vec16(&mut ks, &random_bytes(rng, 32));
        let mut k = Vec::new();
        vec16(&mut k, &ks);
        ext(&mut exts, 51, &k); // key_share
        ext(&mut exts, 45, &[1, 1]); // psk_key_exchange_modes
        ext(&mut exts, 43, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
    }
    vec16(&mut b, &exts);
    records(content_type::HANDSHAKE, 0x0301, &handshake(1, &b))
}

/// The server's first flight. TLS 1.2: ServerHello, Certificate (`chain`,
/// leaf first), ServerKeyExchange, ServerHelloDone in one record run.
/// TLS 1.3: ServerHello, ChangeCipherSpec, then the encrypted rest as an
/// application-data record of `enc_len` bytes.
pub fn server_flight(
    tls13: bool,
    cipher: u16,
    alpn: Option<&[u8]>,
    chain: &[Vec<u8>],
    rng: &mut Rng,
) -> Vec<u8> {
    let mut sh = Vec::with_capacity(128);
    sh.extend_from_slice(&0x0303u16.to_be_bytes());
    sh.extend_from_slice(&random_bytes(rng, 32));
    vec8(&mut sh, &random_bytes(rng, 32));
    sh.extend_from_slice(&cipher.to_be_bytes());
    sh.push(0);
    let mut exts = Vec::new();
    if tls13 {
        ext(&mut exts, 43, &[0x03, 0x04]);
        let mut ks = 0x001du16.to_be_bytes().to_vec();
        vec16(&mut ks, &random_bytes(rng, 32));
        ext(&mut exts, 51, &ks);
    } else {
        ext(&mut exts, 0xff01, &[0]);
        ext(&mut exts, 23, &[]);
        if let Some(p) = alpn {
            let mut list = Vec::new();
            vec8(&mut list, p);
            let mut a = Vec::new();
            vec16(&mut a, &list);
            ext(&mut exts, 16, &a);
        }
    }
    vec16(&mut sh, &exts);
    let mut msgs = handshake(2, &sh);
    if tls13 {
        let mut out = records(content_type::HANDSHAKE, 0x0303, &msgs);
        out.extend_from_slice(&records(content_type::CCS, 0x0303, &[1]));
        let enc = 900 + chain.iter().map(Vec::len).sum::<usize>();
        out.extend_from_slice(&records(
            content_type::APPLICATION_DATA,
            0x0303,
            &random_bytes(rng, enc),
        ));
        return out;
    }
    let mut certs = Vec::new();
    for c in chain {
        certs.extend_from_slice(&u24(c.len()));
        certs.extend_from_slice(c);
    }
    let mut cm = u24(certs.len()).to_vec();
    cm.extend_from_slice(&certs);
    msgs.extend_from_slice(&handshake(11, &cm));
    // ServerKeyExchange: named curve x25519, a point, rsa_pss_rsae_sha256
    // signature.
    let mut ske = vec![3, 0, 0x1d];
    vec8(&mut ske, &random_bytes(rng, 32));
    ske.extend_from_slice(&[0x08, 0x04]);
    vec16(&mut ske, &random_bytes(rng, 256));
    msgs.extend_from_slice(&handshake(12, &ske));
    msgs.extend_from_slice(&handshake(14, &[]));
    records(content_type::HANDSHAKE, 0x0303, &msgs)
}

/// The client's second flight of TLS 1.2 (ClientKeyExchange,
/// ChangeCipherSpec, encrypted Finished), or of TLS 1.3 (ChangeCipherSpec,
/// encrypted Finished).
pub fn client_finish(tls13: bool, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if !tls13 {
        let mut cke = Vec::new();
        vec8(&mut cke, &random_bytes(rng, 32));
        out = records(content_type::HANDSHAKE, 0x0303, &handshake(16, &cke));
    }
    out.extend_from_slice(&records(content_type::CCS, 0x0303, &[1]));
    let (ty, n) = if tls13 {
        (content_type::APPLICATION_DATA, 53)
    } else {
        (content_type::HANDSHAKE, 40)
    };
    out.extend_from_slice(&records(ty, 0x0303, &random_bytes(rng, n)));
    out
}

/// The server's ChangeCipherSpec and Finished (TLS 1.2).
pub fn server_finish(rng: &mut Rng) -> Vec<u8> {
    let mut out = records(content_type::CCS, 0x0303, &[1]);
    out.extend_from_slice(&records(
        content_type::HANDSHAKE,
        0x0303,
        &random_bytes(rng, 40),
    ));
    out
}

/// `n` bytes of application data in records of at most 16384 bytes of
/// ciphertext (random bytes).
pub fn app_data(n: usize, rng: &mut Rng) -> Vec<u8> {
    records(
        content_type::APPLICATION_DATA,
        0x0303,
        &random_bytes(rng, n),
    )
}

// ---------------------------------------------------------------------------
// X.509 in DER

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else if n < 0x10000 {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// OID content bytes from dotted arcs.
fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let first = arcs[0] * 40 + arcs.get(1).copied().unwrap_or(0);
    let mut enc = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend_from_slice(&tmp);
    };
    enc(first);
    for &a in arcs.iter().skip(2) {
        enc(a);
    }
    der(0x06, &out)
}

/// The attribute types a Name may hold, by the short name Suricata's
/// X.509 decoder prints for them.
pub fn attr_oid(short: &[u8]) -> Option<Vec<u8>> {
    let arc = match short {
        b"CN" => 3,
        b"C" => 6,
        b"L" => 7,
        b"ST" => 8,
        b"O" => 10,
        b"OU" => 11,
        _ => return None,
    };
    Some(oid(&[2, 5, 4, arc]))
}

/// A Name from `K=V, K=V` (the order Suricata prints it in), each
/// attribute in its own RDN; `C` as PrintableString, others UTF8String.
/// `None` when an attribute type is unknown or a value holds a byte the
/// printed form would escape.
pub fn name_der(text: &[u8]) -> Option<Vec<u8>> {
    let mut rdns = Vec::new();
    for part in split_name(text) {
        let eq = part.iter().position(|&b| b == b'=')?;
        let (k, v) = (&part[..eq], &part[eq + 1..]);
        if v.is_empty()
            || v.iter()
                .any(|b| !(0x20..0x7f).contains(b) || b",+\"\\<>;=".contains(b))
        {
            return None;
        }
        let tag = if k == b"C" { 0x13 } else { 0x0c };
        let atv = seq(&[attr_oid(k)?, der(tag, v)]);
        rdns.push(der(0x31, &atv));
    }
    if rdns.is_empty() {
        return None;
    }
    Some(seq(&rdns))
}

/// `K=V, K=V` split at `, `.
pub fn split_name(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < text.len() {
        if text[i] == b',' && text[i + 1] == b' ' {
            out.push(&text[start..i]);
            start = i + 2;
            i += 2;
            continue;
        }
        i += 1;
    }
    out.push(&text[start..]);
    out
}

/// A certificate to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    /// Serial number bytes (positive: high bit clear).
    pub serial: Vec<u8>,
    /// Issuer, `K=V, K=V`.
    pub issuer: Vec<u8>,
    /// Subject, `K=V, K=V`.
    pub subject: Vec<u8>,
    /// notBefore and notAfter as UTCTime text (`YYMMDDhhmmssZ`).
    pub validity: (Vec<u8>, Vec<u8>),
    /// subjectAltName dNSNames.
    pub dns_names: Vec<Vec<u8>>,
    /// A CA certificate (basicConstraints cA).
    pub ca: bool,
    /// Bytes carried in a private, non-critical extension (for `tls.certs`
    /// patterns).
    pub extra: Option<Vec<u8>>,
}

/// The certificate's DER; `None` when a name cannot be encoded.
pub fn cert_der(c: &Cert, rng: &mut Rng) -> Option<Vec<u8>> {
    let sha256_rsa = seq(&[oid(&[1, 2, 840, 113549, 1, 1, 11]), der(0x05, &[])]);
    let rsa = seq(&[oid(&[1, 2, 840, 113549, 1, 1, 1]), der(0x05, &[])]);
    let mut modulus = vec![0u8];
    modulus.extend_from_slice(&random_bytes(rng, 256));
    modulus[1] |= 0x80;
    let rsa_key = seq(&[der(0x02, &modulus), der(0x02, &[1, 0, 1])]);
    let spki = seq(&[rsa, der(0x03, &[&[0u8][..], &rsa_key].concat())]);
    let mut exts = Vec::new();
    if !c.dns_names.is_empty() {
        let names: Vec<Vec<u8>> = c.dns_names.iter().map(|n| der(0x82, n)).collect();
        exts.push(seq(&[oid(&[2, 5, 29, 17]), der(0x04, &seq(&names))]));
    }
    let bc = if c.ca {
        seq(&[der(0x01, &[0xff])])
    } else {
        seq(&[])
    };
    exts.push(seq(&[
        oid(&[2, 5, 29, 19]),
        der(0x01, &[0xff]),
        der(0x04, &bc),
    ]));
    if let Some(x) = &c.extra {
        exts.push(seq(&[
            oid(&[1, 3, 6, 1, 4, 1, 55555, 1]),
            der(0x04, &der(0x04, x)),
        ]));
    }
    let tbs = seq(&[
        der(0xa0, &der(0x02, &[2])),
        der(0x02, &c.serial),
        sha256_rsa.clone(),
        name_der(&c.issuer)?,
        seq(&[der(0x17, &c.validity.0), der(0x17, &c.validity.1)]),
        name_der(&c.subject)?,
        spki,
        der(0xa3, &seq(&exts)),
    ]);
    let mut sig = vec![0u8];
    sig.extend_from_slice(&random_bytes(rng, 256));
    Some(seq(&[tbs, sha256_rsa, der(0x03, &sig)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_oids() {
        assert_eq!(der(0x04, &[1, 2]), [4, 2, 1, 2]);
        assert_eq!(&der(0x04, &[0; 200])[..3], &[4, 0x81, 200]);
        assert_eq!(&der(0x04, &[0; 300])[..4], &[4, 0x82, 1, 44]);
        // 1.2.840.113549.1.1.11
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 11]),
            [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 11]
        );
        assert_eq!(oid(&[2, 5, 4, 3]), [6, 3, 0x55, 4, 3]);
    }

    #[test]
    fn names() {
        let n = name_der(b"C=US, O=Acme Co, CN=a.example").unwrap();
        assert_eq!(n[0], 0x30);
        assert!(n.windows(7).any(|w| w == b"Acme Co"));
        assert!(name_der(b"XX=1").is_none());
        assert!(name_der(b"CN=a,b").is_none());
        assert_eq!(split_name(b"C=US, CN=x"), [&b"C=US"[..], b"CN=x"]);
    }

    #[test]
    fn hello_carries_sni() {
        let mut rng = Rng::new(1);
        let h = client_hello(
            &ClientHello {
                sni: Some(b"www.example.org".to_vec()),
                alpn: vec![b"h2"],
                tls13: true,
                ciphers: BROWSER_CIPHERS.to_vec(),
            },
            &mut rng,
        );
        assert_eq!(&h[..3], &[22, 3, 1]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(h[5], 1);
        assert!(h.windows(15).any(|w| w == b"www.example.org"));
    }
}
