//! Certificate messages: the chain, and the first certificate's fields as
//! Suricata's `TlsDecodeHSCertificate` and its Rust x509 module extract
//! them (with the same `x509-parser` crate, so the subject and issuer
//! strings are byte for byte Suricata's: `C=US, O=Let's Encrypt, CN=R3`).
//!
//! As in Suricata, only the first certificate of a message is decoded, and
//! only while the direction has no first-certificate fields yet; the others
//! are kept as DER. A first certificate that does not decode raises the
//! event of its error and is not added to the chain. mirador departs in one
//! place: a certificate list longer than its message is cut at the message
//! (Suricata would read past it), with `INVALID_CERTIFICATE`.

use sha1::{Digest as _, Sha1};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::prelude::FromDer as _;

use super::{Sink, ev};

/// One certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The DER bytes (what `tls.certs` inspects).
    pub der: Vec<u8>,
    /// Subject DN as Suricata writes it; empty when not decoded.
    pub subject: String,
    /// Issuer DN as Suricata writes it; empty when not decoded.
    pub issuer: String,
    /// Serial as uppercase hex bytes joined by `:`; empty when not decoded.
    pub serial: String,
    /// SHA-1 of the DER as lowercase hex bytes joined by `:`.
    pub fingerprint: String,
    /// notBefore, unix seconds (0 when not decoded).
    pub not_before: i64,
    /// notAfter, unix seconds (0 when not decoded).
    pub not_after: i64,
}

/// The first certificate's fields of one direction (Suricata's `cert0_*`),
/// each set separately as Suricata sets them.
#[derive(Debug, Default, Clone)]
pub(super) struct Cert0 {
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    pub fingerprint: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
}

impl Cert0 {
    fn empty(&self) -> bool {
        self.subject.is_none() && self.issuer.is_none() && self.serial.is_none()
    }
}

/// Fields of a decoded certificate.
struct Fields {
    subject: String,
    issuer: String,
    serial: String,
    not_before: i64,
    not_after: i64,
}

/// Decodes `der` as Suricata's `rs_x509_decode`; the error is the event
/// Suricata raises for it.
fn decode(der: &[u8]) -> Result<Fields, &'static str> {
    match X509Certificate::from_der(der) {
        Ok((_, c)) => Ok(Fields {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            serial: serial_string(c.raw_serial()),
            not_before: c.validity().not_before.timestamp(),
            not_after: c.validity().not_after.timestamp(),
        }),
        Err(e) => Err(match e {
            x509_parser::nom::Err::Incomplete(_) => ev::CERTIFICATE_INVALID_LENGTH,
            x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => match e {
                X509Error::InvalidVersion => ev::CERTIFICATE_INVALID_VERSION,
                X509Error::InvalidSerial => ev::CERTIFICATE_INVALID_SERIAL,
                X509Error::InvalidAlgorithmIdentifier => {
                    ev::CERTIFICATE_INVALID_ALGORITHMIDENTIFIER
                }
                X509Error::InvalidX509Name => ev::CERTIFICATE_INVALID_X509NAME,
                X509Error::InvalidDate => ev::CERTIFICATE_INVALID_DATE,
                X509Error::InvalidExtensions => ev::CERTIFICATE_INVALID_EXTENSIONS,
                X509Error::Der(_) => ev::CERTIFICATE_INVALID_DER,
                _ => ev::INVALID_CERTIFICATE,
            },
        }),
    }
}

/// Suricata's serial: `{:02X}` of each raw byte, joined by `:`.
fn serial_string(raw: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(raw.len() * 3);
    for (i, b) in raw.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// Suricata's fingerprint: SHA-1 of the DER, lowercase hex joined by `:`.
pub fn fingerprint(der: &[u8]) -> String {
    use std::fmt::Write as _;
    let h = Sha1::digest(der);
    let mut s = String::with_capacity(59);
    for (i, b) in h.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Fields as best decoded, for a chain entry Suricata keeps as DER only.
fn chain_entry(der: &[u8]) -> Certificate {
    let f = decode(der).ok();
    Certificate {
        der: der.to_vec(),
        fingerprint: fingerprint(der),
        subject: f.as_ref().map(|f| f.subject.clone()).unwrap_or_default(),
        issuer: f.as_ref().map(|f| f.issuer.clone()).unwrap_or_default(),
        serial: f.as_ref().map(|f| f.serial.clone()).unwrap_or_default(),
        not_before: f.as_ref().map_or(0, |f| f.not_before),
        not_after: f.as_ref().map_or(0, |f| f.not_after),
    }
}

/// Decodes one Certificate handshake message (`msg` is its body) into the
/// direction's chain and first-certificate fields.
pub(super) fn parse(
    msg: &[u8],
    chain: &mut Vec<Certificate>,
    cert0: &mut Cert0,
    max_certs: usize,
    sink: &mut Sink,
) {
    let Some(hdr) = msg.get(..3) else {
        return;
    };
    let list_len = u32::from_be_bytes([0, hdr[0], hdr[1], hdr[2]]) as usize;
    let list = match msg.get(3..3 + list_len) {
        Some(l) => l,
        None => {
            sink.event(ev::INVALID_CERTIFICATE);
            return;
        }
    };
    let mut p = 0usize;
    let mut first = true;
    while p < list.len() {
        let Some(l) = list.get(p..p + 3) else {
            sink.event(ev::INVALID_CERTIFICATE);
            return;
        };
        let len = u32::from_be_bytes([0, l[0], l[1], l[2]]) as usize;
        let Some(der) = list.get(p + 3..p + 3 + len) else {
            sink.event(ev::INVALID_CERTIFICATE);
            return;
        };
        p += 3 + len;
        let was_first = std::mem::replace(&mut first, false);
        if was_first && cert0.empty() {
            let f = match decode(der) {
                Ok(f) => f,
                Err(e) => {
                    sink.event(e);
                    continue;
                }
            };
            // Suricata hands these to C as strings: an inner NUL fails.
            if f.subject.contains('\0') {
                sink.event(ev::CERTIFICATE_INVALID_SUBJECT);
                return;
            }
            cert0.subject = Some(f.subject.clone());
            if f.issuer.contains('\0') {
                sink.event(ev::CERTIFICATE_INVALID_ISSUER);
                return;
            }
            cert0.issuer = Some(f.issuer.clone());
            cert0.serial = Some(f.serial.clone());
            cert0.not_before = f.not_before;
            cert0.not_after = f.not_after;
            let fp = fingerprint(der);
            cert0.fingerprint = Some(fp.clone());
            if chain.len() < max_certs {
                chain.push(Certificate {
                    der: der.to_vec(),
                    subject: f.subject,
                    issuer: f.issuer,
                    serial: f.serial,
                    fingerprint: fp,
                    not_before: f.not_before,
                    not_after: f.not_after,
                });
            } else {
                sink.counters.certs_dropped += 1;
            }
            continue;
        }
        if chain.len() < max_certs {
            chain.push(chain_entry(der));
        } else {
            sink.counters.certs_dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_and_fingerprint_formats() {
        assert_eq!(serial_string(&[0x00, 0xab, 0x01]), "00:AB:01");
        assert_eq!(serial_string(&[]), "");
        // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
        assert_eq!(
            fingerprint(b"abc"),
            "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d"
        );
    }

    #[test]
    fn garbage_der_is_an_event_not_a_panic() {
        for b in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x01",
            b"\xff\xff\xff\xff",
        ] {
            assert!(decode(b).is_err());
        }
    }
}
