//! ClientHello and ServerHello bodies, JA3/JA3S and JA4, as Suricata's
//! `TLSDecodeHandshakeHello` and its helpers decode them.
//!
//! The walk follows Suricata field by field, including its quirks, since
//! they decide what the JA3 string and the version keyword see:
//!
//! * a length error in the fixed fields (version, random, session id,
//!   cipher suites, compression) or in the extensions list framing raises
//!   `HANDSHAKE_INVALID_LENGTH` and abandons the hello: the JA3 string keeps
//!   what was added so far and no JA3 hash is computed;
//! * an error inside one extension (SNI, groups, point formats, supported
//!   versions, signature algorithms, ALPN) raises its event and ends the
//!   extension walk, but the JA3 string is completed with what was seen and
//!   hashed;
//! * those extension decoders advance by what they read, not by the
//!   extension's declared length, as Suricata does (a SNI extension with
//!   trailing bytes makes the walk read them as the next extension);
//! * GREASE values are left out of JA3 and JA4 (point formats are single
//!   bytes and so never GREASE).
//!
//! JA4 is Suricata 7's (`rust/src/ja4.rs`), which departs from the FoxIO
//! reference in small ways kept here: an ALPN of one byte gives `00`, the
//! empty cipher and extension lists hash the empty string, and the version
//! is the highest of the legacy version and the first valid
//! supported_versions entry.

use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::{Flags, Sink, ev};

/// TLS extension numbers Suricata looks into.
const EXT_SNI: u16 = 0x0000;
const EXT_GROUPS: u16 = 0x000a;
const EXT_POINT_FORMATS: u16 = 0x000b;
const EXT_SIG_ALGS: u16 = 0x000d;
const EXT_ALPN: u16 = 0x0010;
const EXT_SESSION_TICKET: u16 = 0x0023;
const EXT_EARLY_DATA: u16 = 0x002a;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// Suricata's `TLS_VERSION_13_PRE_DRAFT16`: what a legacy version field of
/// 0x0304 or 0x7f01..0x7f0f is recorded as.
const TLS13_PRE_DRAFT16: u16 = 0x7f01;
const TLS12: u16 = 0x0303;
const TLS13: u16 = 0x0304;

/// Most ALPN protocol names kept per hello (the list is bounded by the
/// message anyway; this bounds the allocation count).
const MAX_ALPN: usize = 32;

/// GREASE values (RFC 8701), left out of JA3 and JA4.
pub fn is_grease(v: u16) -> bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Suricata's `TLSVersionValid`: the versions it accepts from a
/// ClientHello's supported_versions list.
fn version_valid(v: u16) -> bool {
    matches!(
        v,
        0x0300..=0x0304 | 0x7f01 | 0x7f10..=0x7f1c | 0xfb14..=0xfb17 | 0xfb1a
    )
}

/// What a hello decoded, before it becomes a [`super::ClientHello`] or a
/// [`super::ServerHello`].
#[derive(Debug, Default)]
pub(super) struct Hello {
    pub legacy_version: Option<u16>,
    pub session_id: Option<Vec<u8>>,
    pub ciphers: Vec<u16>,
    pub extensions: Vec<u16>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub sig_algs: Vec<u16>,
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u16>,
    pub selected_version: Option<u16>,
    pub sni: Option<Vec<u8>>,
    pub ja3_string: String,
    pub ja3_complete: bool,
    pub ja4: Ja4,
}

/// What a hello changes in the state around it.
pub(super) struct Ctx<'a> {
    pub client: bool,
    pub flags: &'a mut Flags,
    pub sink: &'a mut Sink,
    /// The direction's version (`connp->version`).
    pub version: &'a mut u16,
    /// Whether this direction already has a SNI (`connp->sni`).
    pub have_sni: bool,
    /// Whether this direction already has a session id.
    pub have_session_id: bool,
    /// The client's session id, for a ServerHello's resumption check.
    pub client_session_id: Option<&'a [u8]>,
}

/// A cursor over one hello; every read is checked.
struct Rd<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Rd<'a> {
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.p)
    }
    fn has(&self, n: usize) -> bool {
        self.left() >= n
    }
    fn u8(&mut self) -> Option<u8> {
        let v = *self.b.get(self.p)?;
        self.p += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let s = self.b.get(self.p..self.p.checked_add(2)?)?;
        self.p += 2;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.p..self.p.checked_add(n)?)?;
        self.p += n;
        Some(s)
    }
}

/// Suricata's `Ja3Buffer`: values joined by `-`, lists joined by `,`.
#[derive(Default)]
struct Ja3List(String);

impl Ja3List {
    fn add(&mut self, v: u16) {
        use std::fmt::Write as _;
        if !self.0.is_empty() {
            self.0.push('-');
        }
        let _ = write!(self.0, "{v}");
    }
}

fn ja3_append(s: &mut String, l: &Ja3List) {
    s.push(',');
    s.push_str(&l.0);
}

/// Decodes one hello. Returns what it found; events and flags go to `ctx`.
pub(super) fn parse(msg: &[u8], ctx: &mut Ctx<'_>) -> Hello {
    let mut h = Hello::default();
    let mut r = Rd { b: msg, p: 0 };
    let client = ctx.client;

    // Version.
    let Some(version) = r.u16() else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    };
    h.legacy_version = Some(version);
    *ctx.version = version;
    if !client && (version == TLS13 || (version >> 8) == 0x7f) {
        // TLS 1.3 drafts 1-21 put the version here and drop the session
        // id and compression fields.
        ctx.flags.set(Flags::LOG_WITHOUT_CERT);
    }
    if (0x7f01..0x7f10).contains(&version) || version == TLS13 {
        *ctx.version = TLS13_PRE_DRAFT16;
    }
    h.ja3_string = version.to_string();
    if client {
        h.ja4.set_version(version);
    }

    // Random.
    if r.take(32).is_none() {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    }

    let short_server = !client && ctx.flags.has(Flags::LOG_WITHOUT_CERT);

    // Session id.
    if !short_server {
        let Some(sid) = r.u8().and_then(|n| r.take(n as usize)) else {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return h;
        };
        if !sid.is_empty() && !ctx.have_session_id {
            h.session_id = Some(sid.to_vec());
            if !client && ctx.client_session_id == Some(sid) {
                ctx.flags.set(Flags::SESSION_RESUMED);
            }
        }
    }

    // Cipher suites (the ServerHello's one cipher has no length prefix).
    let suites = if client {
        r.u16().and_then(|n| r.take(n as usize))
    } else {
        r.take(2)
    };
    let Some(suites) = suites.filter(|s| s.len() % 2 == 0) else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return h;
    };
    let mut ja3 = Ja3List::default();
    for c in suites.chunks_exact(2) {
        let c = u16::from_be_bytes([c[0], c[1]]);
        h.ciphers.push(c);
        if !is_grease(c) {
            ja3.add(c);
            if client {
                h.ja4.add_cipher(c);
            }
        }
    }
    ja3_append(&mut h.ja3_string, &ja3);

    // Compression methods (one byte in a ServerHello).
    if !short_server {
        let ok = if client {
            r.u8().and_then(|n| r.take(n as usize)).is_some()
        } else {
            r.u8().is_some()
        };
        if !ok {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return h;
        }
    }

    // Extensions.
    let mut exts = Ja3List::default();
    let mut groups = Ja3List::default();
    let mut pfs = Ja3List::default();
    if r.has(2) {
        let total = r.u16().unwrap_or(0) as usize;
        if !r.has(total) {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return h;
        }
        let mut processed = 0usize;
        while processed < total {
            let (Some(typ), Some(len)) = (r.u16(), r.u16()) else {
                ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
                return h;
            };
            let Some(body) = r.b.get(r.p..r.p + len as usize) else {
                ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
                return h;
            };
            h.extensions.push(typ);
            let used = match typ {
                EXT_SNI => ext_sni(body, ctx, &mut h),
                EXT_GROUPS => ext_groups(body, ctx, &mut h, &mut groups),
                EXT_POINT_FORMATS => ext_point_formats(body, ctx, &mut h, &mut pfs),
                EXT_SUPPORTED_VERSIONS => ext_supported_versions(body, ctx, &mut h),
                EXT_SIG_ALGS => ext_sig_algs(body, ctx, &mut h),
                EXT_ALPN => ext_alpn(body, ctx, &mut h),
                EXT_EARLY_DATA => {
                    if client {
                        ctx.flags.set(Flags::EARLY_DATA);
                    }
                    Some(body.len())
                }
                EXT_SESSION_TICKET => {
                    if client {
                        // To be confirmed by the absence of a certificate.
                        ctx.flags.set(Flags::SESSION_RESUMED);
                    }
                    Some(body.len())
                }
                _ => Some(body.len()),
            };
            let Some(used) = used else {
                break;
            };
            r.p += used;
            if !is_grease(typ) {
                exts.add(typ);
            }
            if client {
                h.ja4.add_extension(typ);
            }
            processed += len as usize + 4;
        }
    }
    ja3_append(&mut h.ja3_string, &exts);
    if client {
        ja3_append(&mut h.ja3_string, &groups);
        ja3_append(&mut h.ja3_string, &pfs);
    }
    h.ja3_complete = true;
    h
}

fn ext_sni(b: &[u8], ctx: &mut Ctx<'_>, h: &mut Hello) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    if r.take(2).is_none() {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    }
    let Some(typ) = r.u8() else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    if typ != 0 {
        ctx.sink.event(ev::INVALID_SNI_TYPE);
        return None;
    }
    let Some(len) = r.u16() else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    if len == 0 || len > 255 || !r.has(len as usize) {
        ctx.sink.event(ev::INVALID_SNI_LENGTH);
        return None;
    }
    let name = r.take(len as usize)?;
    if ctx.have_sni || h.sni.is_some() {
        ctx.sink.event(ev::MULTIPLE_SNI_EXTENSIONS);
        return Some(r.p);
    }
    // Suricata keeps the name as a C string: it ends at the first NUL.
    let end = memchr::memchr(0, name).unwrap_or(name.len());
    h.sni = Some(name[..end].to_vec());
    Some(r.p)
}

fn ext_groups(b: &[u8], ctx: &mut Ctx<'_>, h: &mut Hello, ja3: &mut Ja3List) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    let Some(len) = r.u16().filter(|&n| r.has(n as usize)) else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    if !ctx.client {
        return Some(2 + len as usize);
    }
    let mut done = 0;
    while done < len {
        // Suricata reads pairs until the declared length is covered, even
        // past it for an odd length, within the extension.
        let Some(g) = r.u16() else {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return None;
        };
        h.groups.push(g);
        if !is_grease(g) {
            ja3.add(g);
        }
        done += 2;
    }
    Some(r.p)
}

fn ext_point_formats(
    b: &[u8],
    ctx: &mut Ctx<'_>,
    h: &mut Hello,
    ja3: &mut Ja3List,
) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    let Some(list) = r.u8().and_then(|n| r.take(n as usize)) else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    if ctx.client {
        for &f in list {
            h.point_formats.push(f);
            ja3.add(u16::from(f));
        }
    }
    Some(r.p)
}

fn ext_supported_versions(b: &[u8], ctx: &mut Ctx<'_>, h: &mut Hello) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    if ctx.client {
        let list = r.u8().filter(|&n| n >= 2).and_then(|n| r.take(n as usize));
        let Some(list) = list else {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return None;
        };
        let mut chosen = false;
        for v in list.chunks_exact(2) {
            let v = u16::from_be_bytes([v[0], v[1]]);
            h.supported_versions.push(v);
            // The first valid version is the client's (GREASE skipped).
            if !chosen && version_valid(v) {
                chosen = true;
                *ctx.version = v;
                h.ja4.set_version(v);
            }
        }
        ctx.flags.set(Flags::CH_VERSION_EXTENSION);
        Some(r.p)
    } else {
        let Some(v) = r.u16() else {
            ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
            return None;
        };
        if ctx.flags.has(Flags::CH_VERSION_EXTENSION) && v > TLS12 {
            ctx.flags.set(Flags::LOG_WITHOUT_CERT);
        }
        *ctx.version = v;
        h.selected_version = Some(v);
        Some(2)
    }
}

fn ext_sig_algs(b: &[u8], ctx: &mut Ctx<'_>, h: &mut Hello) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    let list = r
        .u16()
        .filter(|&n| n % 2 == 0)
        .and_then(|n| r.take(n as usize));
    let Some(list) = list else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    if ctx.client {
        for s in list.chunks_exact(2) {
            let s = u16::from_be_bytes([s[0], s[1]]);
            h.sig_algs.push(s);
            h.ja4.add_sig_alg(s);
        }
    }
    Some(r.p)
}

fn ext_alpn(b: &[u8], ctx: &mut Ctx<'_>, h: &mut Hello) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let mut r = Rd { b, p: 0 };
    let Some(list) = r.u16().and_then(|n| r.take(n as usize)) else {
        ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
        return None;
    };
    let mut l = Rd { b: list, p: 0 };
    let mut first = true;
    while l.left() > 0 {
        let Some(p) = l.u8().and_then(|n| l.take(n as usize)) else {
            if first && ctx.client {
                ctx.sink.event(ev::HANDSHAKE_INVALID_LENGTH);
                return None;
            }
            break;
        };
        if first && ctx.client {
            h.ja4.set_alpn(p);
        }
        first = false;
        if h.alpn.len() < MAX_ALPN {
            h.alpn.push(p.to_vec());
        }
    }
    Some(r.p)
}

/// Lowercase hex MD5 of `s` (JA3 and JA3S hashes).
pub(super) fn md5_hex(s: &str) -> String {
    hex(&Md5::digest(s.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Suricata 7's JA4 accumulator (`rust/src/ja4.rs`).
#[derive(Debug, Default, Clone)]
pub(super) struct Ja4 {
    version: Option<u16>,
    ciphers: Vec<u16>,
    extensions: Vec<u16>,
    sig_algs: Vec<u16>,
    domain: bool,
    alpn: Option<[u8; 2]>,
    nof_exts: u16,
}

impl Ja4 {
    fn set_version(&mut self, v: u16) {
        if is_grease(v) {
            return;
        }
        if self.version.is_none_or(|cur| v > cur) {
            self.version = Some(v);
        }
    }

    fn set_alpn(&mut self, p: &[u8]) {
        if p.len() < 2 {
            return;
        }
        let (a, b) = (p[0], p[p.len() - 1]);
        if p.len() == 2 && is_grease(u16::from_be_bytes([a, b])) {
            return;
        }
        self.alpn = Some([a, b]);
    }

    fn add_cipher(&mut self, c: u16) {
        if !is_grease(c) {
            self.ciphers.push(c);
        }
    }

    fn add_extension(&mut self, e: u16) {
        if is_grease(e) {
            return;
        }
        match e {
            EXT_SNI => self.domain = true,
            EXT_ALPN => {}
            _ => self.extensions.push(e),
        }
        self.nof_exts = self.nof_exts.saturating_add(1);
    }

    fn add_sig_alg(&mut self, s: u16) {
        if !is_grease(s) {
            self.sig_algs.push(s);
        }
    }

    /// The JA4 fingerprint (`t13d1516h2_8daaf6152771_b0da82dd1658` form).
    pub(super) fn hash(&self) -> String {
        use std::fmt::Write as _;
        let version = match self.version {
            Some(0x0304) => "13",
            Some(0x0303) => "12",
            Some(0x0302) => "11",
            Some(0x0301) => "10",
            Some(0x0300) => "s3",
            _ => "00",
        };
        let mut out = String::with_capacity(36);
        let _ = write!(
            out,
            "t{version}{}{:02}{:02}",
            if self.domain { 'd' } else { 'i' },
            self.ciphers.len().min(99),
            self.nof_exts.min(99),
        );
        match self.alpn {
            // Suricata maps each byte to the char of that code point.
            Some([a, b]) => {
                out.push(char::from(a));
                out.push(char::from(b));
            }
            None => out.push_str("00"),
        }
        let list = |v: &[u16]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            let mut s = String::with_capacity(v.len() * 5);
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{x:04x}");
            }
            s
        };
        let b = list(&self.ciphers);
        let mut c = list(&self.extensions);
        c.push('_');
        for (i, x) in self.sig_algs.iter().enumerate() {
            if i > 0 {
                c.push(',');
            }
            let _ = write!(c, "{x:04x}");
        }
        let hb = hex(&Sha256::digest(b.as_bytes()));
        let hc = hex(&Sha256::digest(c.as_bytes()));
        out.push('_');
        out.push_str(hb.get(..12).unwrap_or(""));
        out.push('_');
        out.push_str(hc.get(..12).unwrap_or(""));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values() {
        let g: Vec<u16> = (0..=0xffffu16).filter(|&v| is_grease(v)).collect();
        assert_eq!(g.len(), 16);
        assert!(g.contains(&0x0a0a) && g.contains(&0xfafa) && g.contains(&0x5a5a));
        assert!(!is_grease(0x0a1a));
    }

    #[test]
    fn valid_versions_match_suricata_list() {
        for v in [
            0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f01, 0x7f10, 0x7f1c, 0xfb14, 0xfb1a,
        ] {
            assert!(version_valid(v), "{v:04x}");
        }
        for v in [0x0200, 0x0305, 0x7f02, 0x7f1d, 0xfb18, 0x0a0a] {
            assert!(!version_valid(v), "{v:04x}");
        }
    }

    // Suricata's own JA4 unit test values (rust/src/ja4.rs), minus QUIC.
    #[test]
    fn ja4_matches_suricata_unit_test() {
        let mut j = Ja4::default();
        assert_eq!(j.hash(), "t00i000000_e3b0c44298fc_d2e2adf7177b");
        j.set_version(0x0303);
        assert_eq!(j.hash(), "t12i000000_e3b0c44298fc_d2e2adf7177b");
        j.add_extension(0x0a0a);
        assert_eq!(j.hash(), "t12i000000_e3b0c44298fc_d2e2adf7177b");
        j.add_extension(0x0000);
        assert_eq!(j.hash(), "t12d000100_e3b0c44298fc_d2e2adf7177b");
        j.set_alpn(b"h3-16");
        j.add_extension(EXT_ALPN);
        assert_eq!(j.hash(), "t12d0002h6_e3b0c44298fc_d2e2adf7177b");
        j.add_cipher(0x1111);
        j.add_cipher(0x0a20);
        j.add_cipher(0xbada);
        assert_eq!(j.hash(), "t12d0302h6_f500716053f9_d2e2adf7177b");
        j.add_extension(0xface);
        j.add_extension(0x0121);
        j.add_extension(0x1234);
        j.add_sig_alg(0x6666);
        assert_eq!(j.hash(), "t12d0305h6_f500716053f9_2debc8880bae");
    }

    #[test]
    fn ja4_caps_counts_and_short_alpn() {
        let mut j = Ja4::default();
        for i in 1..200 {
            j.add_cipher(i);
            j.add_extension(i);
        }
        assert!(j.hash().starts_with("t00i999900"));
        let mut j = Ja4::default();
        j.set_alpn(b"a");
        assert!(j.hash().starts_with("t00i000000"));
        j.set_alpn(b"aa");
        assert!(j.hash().starts_with("t00i0000aa"));
        j.set_version(0x0301);
        j.set_version(0x0300);
        assert!(j.hash().starts_with("t10"));
    }

    #[test]
    fn md5_known_value() {
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
