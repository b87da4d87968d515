//! Request-URI parsing and normalisation as libhtp 0.5 does it under
//! Suricata 7's default configuration (IDS personality, path lowercasing
//! switched off by Suricata, `+` not decoded to space, no double decoding),
//! and Suricata's `SCHTPGenerateNormalizedUri` (what `http.uri` sees).

use super::util::{is_space, parse_int_ws};

/// libhtp `htp_uri_t`, the components of a request URI.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Uri {
    pub scheme: Option<Vec<u8>>,
    pub username: Option<Vec<u8>>,
    pub password: Option<Vec<u8>>,
    pub hostname: Option<Vec<u8>>,
    pub port: Option<Vec<u8>>,
    pub path: Option<Vec<u8>>,
    pub query: Option<Vec<u8>>,
    pub fragment: Option<Vec<u8>>,
}

/// libhtp `htp_parse_uri`.
pub(crate) fn parse_uri(data: &[u8]) -> Uri {
    let mut uri = Uri::default();
    if data.is_empty() {
        return uri;
    }
    let len = data.len();
    let mut pos = 0;
    if data.first() != Some(&b'/') {
        // Scheme: up to the first colon; without a colon the whole thing is
        // a path (as Apache treats it).
        if let Some(colon) = data.iter().position(|&c| c == b':') {
            uri.scheme = Some(data[..colon].to_vec());
            pos = colon + 1;
        }
    }
    // Authority: only after a scheme, introduced by exactly two slashes.
    if uri.scheme.is_some()
        && pos + 2 < len
        && data.get(pos) == Some(&b'/')
        && data.get(pos + 1) == Some(&b'/')
        && data.get(pos + 2) != Some(&b'/')
    {
        let start = pos + 2;
        let end = data
            .get(start..)
            .and_then(|s| s.iter().position(|&c| c == b'?' || c == b'/' || c == b'#'))
            .map_or(len, |p| start + p);
        let auth = data.get(start..end).unwrap_or_default();
        let host = match auth.iter().position(|&c| c == b'@') {
            Some(at) => {
                let cred = &auth[..at];
                match cred.iter().position(|&c| c == b':') {
                    Some(c) => {
                        uri.username = Some(cred[..c].to_vec());
                        uri.password = Some(cred[c + 1..].to_vec());
                    }
                    None => uri.username = Some(cred.to_vec()),
                }
                &auth[at + 1..]
            }
            None => auth,
        };
        if host.first() == Some(&b'[') {
            match host.iter().position(|&c| c == b']') {
                None => uri.hostname = Some(host.to_vec()),
                Some(rb) => {
                    uri.hostname = Some(host[..=rb].to_vec());
                    let after = &host[rb + 1..];
                    if let Some(c) = after.iter().position(|&c| c == b':') {
                        uri.port = Some(after[c + 1..].to_vec());
                    }
                }
            }
        } else {
            match host.iter().position(|&c| c == b':') {
                Some(c) => {
                    uri.port = Some(host[c + 1..].to_vec());
                    uri.hostname = Some(host[..c].to_vec());
                }
                None => uri.hostname = Some(host.to_vec()),
            }
        }
        pos = end;
    }
    let rest = data.get(pos..).unwrap_or_default();
    let pend = rest
        .iter()
        .position(|&c| c == b'?' || c == b'#')
        .unwrap_or(rest.len());
    uri.path = Some(rest[..pend].to_vec());
    let mut rest = &rest[pend..];
    if rest.first() == Some(&b'?') {
        let q = &rest[1..];
        let qend = q.iter().position(|&c| c == b'#').unwrap_or(q.len());
        uri.query = Some(q[..qend].to_vec());
        rest = &q[qend..];
    }
    if rest.first() == Some(&b'#') {
        uri.fragment = Some(rest[1..].to_vec());
    }
    uri
}

/// libhtp `htp_parse_uri_hostport` for CONNECT: the URI is an authority.
pub(crate) fn parse_authority(data: &[u8]) -> (Uri, bool) {
    let mut uri = Uri::default();
    let hp = parse_hostport(data);
    uri.hostname = hp.hostname;
    uri.port = hp.port;
    (uri, hp.invalid)
}

/// The result of libhtp `htp_parse_hostport`.
#[derive(Debug, Default)]
pub(crate) struct HostPort {
    pub hostname: Option<Vec<u8>>,
    pub port: Option<Vec<u8>>,
    pub port_number: Option<u16>,
    pub invalid: bool,
}

/// libhtp `htp_parse_hostport` (the Host header, a CONNECT authority).
pub(crate) fn parse_hostport(data: &[u8]) -> HostPort {
    let mut r = HostPort::default();
    let data = super::util::trim_space(data);
    if data.is_empty() {
        r.invalid = true;
        return r;
    }
    if data.first() == Some(&b'[') {
        let Some(rb) = data.iter().position(|&c| c == b']') else {
            r.invalid = true;
            return r;
        };
        r.hostname = Some(data[..=rb].to_ascii_lowercase());
        let after = &data[rb + 1..];
        if after.is_empty() {
            return r;
        }
        if after.first() == Some(&b':') {
            r.port = Some(after[1..].to_vec());
            parse_port(&after[1..], &mut r);
        } else {
            r.invalid = true;
        }
        return r;
    }
    match data.iter().position(|&c| c == b':') {
        None => r.hostname = Some(data.to_ascii_lowercase()),
        Some(colon) => {
            let mut hend = colon;
            while hend > 0 && data.get(hend - 1).is_some_and(|&c| is_space(c)) {
                hend -= 1;
            }
            // libhtp lowercases only the no-port form here; Suricata
            // documents `http.host` as lowercase, and the URI form is
            // lowercased by normalisation, so the port form is too.
            r.hostname = Some(data[..hend].to_ascii_lowercase());
            r.port = Some(data[colon + 1..].to_vec());
            parse_port(&data[colon + 1..], &mut r);
        }
    }
    r
}

fn parse_port(data: &[u8], r: &mut HostPort) {
    match parse_int_ws(data, 10) {
        Some(p) if p > 0 && p < 65536 => r.port_number = u16::try_from(p).ok(),
        _ => r.invalid = true,
    }
}

/// libhtp `htp_validate_hostname`.
pub(crate) fn validate_hostname(h: &[u8]) -> bool {
    if h.is_empty() || h.len() > 255 {
        return false;
    }
    if h.first() == Some(&b'[') {
        if h.len() < 2 || h.last() != Some(&b']') {
            return false;
        }
        return std::str::from_utf8(&h[1..h.len() - 1])
            .ok()
            .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
            .is_some();
    }
    let mut pos = 0;
    while pos < h.len() {
        let start = pos;
        while let Some(&c) = h.get(pos) {
            if c == b'.' {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                return false;
            }
            pos += 1;
        }
        if pos == start || pos - start > 63 {
            return false;
        }
        if pos >= h.len() {
            return true;
        }
        let dots = pos;
        while h.get(pos) == Some(&b'.') {
            pos += 1;
        }
        if pos - dots != 1 {
            return false;
        }
    }
    true
}

/// The normalised URI (libhtp `htp_normalize_parsed_uri`) with the
/// flags Suricata turns into events.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    pub uri: Uri,
    pub port_number: Option<u16>,
    /// `HTP_HOSTU_INVALID`: a bad port or hostname in the URI.
    pub host_invalid: bool,
}

/// libhtp `htp_normalize_parsed_uri` with the IDS personality's URL-path
/// decoder: %XX and %uXXXX decoding, invalid encodings kept, encoded
/// separators decoded, backslashes converted, separators compressed,
/// UTF-8 best-fit, then RFC 3986 dot-segment removal.
pub(crate) fn normalize(raw: &Uri) -> Normalized {
    let mut n = Normalized::default();
    n.uri.scheme = raw.scheme.as_ref().map(|s| s.to_ascii_lowercase());
    n.uri.username = raw.username.as_ref().map(|s| urldecode(s));
    n.uri.password = raw.password.as_ref().map(|s| urldecode(s));
    if let Some(h) = &raw.hostname {
        let mut h = urldecode(h);
        h.make_ascii_lowercase();
        while h.last() == Some(&b'.') {
            h.pop();
        }
        n.uri.hostname = Some(h);
    }
    if let Some(p) = &raw.port {
        match parse_int_ws(p, 10) {
            Some(v) if v > 0 && v < 65536 => n.port_number = u16::try_from(v).ok(),
            _ => n.host_invalid = true,
        }
        n.uri.port = Some(p.clone());
    }
    if let Some(p) = &raw.path {
        let mut p = decode_path(p);
        p = utf8_bestfit(&p);
        normalize_path(&mut p);
        n.uri.path = Some(p);
    }
    n.uri.query = raw.query.clone();
    n.uri.fragment = raw.fragment.as_ref().map(|f| urldecode(f));
    if let Some(h) = &n.uri.hostname
        && !validate_hostname(h)
    {
        n.host_invalid = true;
    }
    n
}

/// Suricata `SCHTPGenerateNormalizedUri` with `uri-include-all: no`: the
/// normalised path, `?` and the URL-decoded query, `#` and the fragment.
pub(crate) fn suricata_normalized_uri(n: &Uri) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(p) = &n.path {
        out.extend_from_slice(p);
    }
    if let Some(q) = &n.query {
        out.push(b'?');
        out.extend_from_slice(&urldecode(q));
    }
    if let Some(f) = &n.fragment {
        out.push(b'#');
        out.extend_from_slice(f);
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn hex2(a: Option<&u8>, b: Option<&u8>) -> Option<u8> {
    Some(hex(*a?)? << 4 | hex(*b?)?)
}

/// libhtp `htp_urldecode_inplace` with the default (URL-encoded) decoder:
/// %XX decoded, %u not decoded, invalid encodings kept with their percent
/// sign, `+` kept (Suricata disables plus-space decoding).
pub(crate) fn urldecode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&c) = data.get(i) {
        if c == b'%'
            && let Some(v) = hex2(data.get(i + 1), data.get(i + 2))
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The best-fit mapping of a code point to one byte (libhtp's table is
/// Windows' best-fit for code page 1252; mirador carries its most
/// evasion-relevant part, the full-width ASCII forms, and maps every other
/// code point above U+00FF to libhtp's replacement byte `?`).
fn bestfit(cp: u32) -> u8 {
    if cp < 0x100 {
        return u8::try_from(cp).unwrap_or(b'?');
    }
    if (0xff01..=0xff5e).contains(&cp) {
        return u8::try_from(cp - 0xfee0).unwrap_or(b'?');
    }
    b'?'
}

/// libhtp `htp_decode_path_inplace` with the IDS personality.
fn decode_path(data: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&raw) = data.get(i) {
        let mut c = raw;
        if raw == b'%' {
            if matches!(data.get(i + 1), Some(b'u' | b'U')) {
                // %uXXXX (u-encoding decode is on for the path).
                let v = (
                    hex2(data.get(i + 2), data.get(i + 3)),
                    hex2(data.get(i + 4), data.get(i + 5)),
                );
                if let (Some(hi), Some(lo)) = v {
                    c = if hi == 0 {
                        lo
                    } else {
                        bestfit(u32::from(hi) << 8 | u32::from(lo))
                    };
                    i += 6;
                } else {
                    // Invalid %u encoding: the percent sign is kept.
                    i += 1;
                }
            } else if let Some(v) = hex2(data.get(i + 1), data.get(i + 2)) {
                c = v;
                i += 3;
            } else {
                // Invalid encoding: HTP_URL_DECODE_PRESERVE_PERCENT.
                i += 1;
            }
        } else {
            i += 1;
        }
        if c == b'\\' {
            c = b'/';
        }
        if c == b'/' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(c);
    }
    out
}

/// libhtp `htp_utf8_decode_path_inplace` (best-fit on): valid multi-byte
/// sequences (overlong ones included) become one best-fit byte; invalid
/// bytes are kept as they are.
fn utf8_bestfit(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        let need = match b {
            0xc0..=0xdf => 1,
            0xe0..=0xef => 2,
            0xf0..=0xf7 => 3,
            _ => 0,
        };
        if need == 0 {
            out.push(b);
            i += 1;
            continue;
        }
        let mut cp = u32::from(b) & (0x3f >> need);
        let mut ok = true;
        for k in 1..=need {
            match data.get(i + k) {
                Some(&c) if c & 0xc0 == 0x80 => cp = cp << 6 | u32::from(c & 0x3f),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && cp <= 0x10ffff {
            out.push(bestfit(cp));
            i += need + 1;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// libhtp `htp_normalize_uri_path_inplace` (RFC 3986 5.2.4).
pub(crate) fn normalize_path(data: &mut Vec<u8>) {
    let len = data.len();
    let mut rpos = 0;
    let mut wpos = 0;
    let mut c: Option<u8> = None;
    let at = |d: &Vec<u8>, i: usize| d.get(i).copied();
    while rpos < len && wpos < len {
        let ch = match c {
            Some(ch) => ch,
            None => {
                let ch = at(data, rpos).unwrap_or(0);
                rpos += 1;
                c = Some(ch);
                ch
            }
        };
        // A. "../" or "./" prefix.
        if ch == b'.' {
            if rpos + 1 < len && at(data, rpos) == Some(b'.') && at(data, rpos + 1) == Some(b'/') {
                c = None;
                rpos += 2;
                continue;
            } else if rpos < len && at(data, rpos) == Some(b'/') {
                c = None;
                rpos += 1;
                continue;
            }
        }
        if ch == b'/' {
            // B. "/./" or a final "/.".
            if rpos + 1 < len && at(data, rpos) == Some(b'.') && at(data, rpos + 1) == Some(b'/') {
                c = Some(b'/');
                rpos += 2;
                continue;
            } else if rpos + 1 == len && at(data, rpos) == Some(b'.') {
                c = Some(b'/');
                rpos += 1;
                continue;
            }
            // C. "/../" or a final "/..": drop the last output segment.
            if rpos + 2 < len
                && at(data, rpos) == Some(b'.')
                && at(data, rpos + 1) == Some(b'.')
                && at(data, rpos + 2) == Some(b'/')
            {
                c = Some(b'/');
                rpos += 3;
                while wpos > 0 && at(data, wpos - 1) != Some(b'/') {
                    wpos -= 1;
                }
                wpos = wpos.saturating_sub(1);
                continue;
            } else if rpos + 2 == len
                && at(data, rpos) == Some(b'.')
                && at(data, rpos + 1) == Some(b'.')
            {
                c = Some(b'/');
                rpos += 2;
                while wpos > 0 && at(data, wpos - 1) != Some(b'/') {
                    wpos -= 1;
                }
                wpos = wpos.saturating_sub(1);
                continue;
            }
        }
        // D. "." or ".." alone.
        if ch == b'.' && rpos == len {
            rpos += 1;
            continue;
        }
        if ch == b'.' && rpos + 1 == len && at(data, rpos) == Some(b'.') {
            rpos += 2;
            continue;
        }
        // E. Move the segment to the output.
        if let Some(slot) = data.get_mut(wpos) {
            *slot = ch;
        }
        wpos += 1;
        while rpos < len && at(data, rpos) != Some(b'/') && wpos < len {
            let v = at(data, rpos).unwrap_or(0);
            if let Some(slot) = data.get_mut(wpos) {
                *slot = v;
            }
            wpos += 1;
            rpos += 1;
        }
        c = None;
    }
    data.truncate(wpos);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &[u8]) -> Vec<u8> {
        suricata_normalized_uri(&normalize(&parse_uri(s)).uri)
    }

    #[test]
    fn parse_absolute_uri() {
        let u = parse_uri(b"http://user:pw@Www.Example.COM:8080/a/b?x=1#frag");
        assert_eq!(u.scheme.as_deref(), Some(&b"http"[..]));
        assert_eq!(u.username.as_deref(), Some(&b"user"[..]));
        assert_eq!(u.password.as_deref(), Some(&b"pw"[..]));
        assert_eq!(u.hostname.as_deref(), Some(&b"Www.Example.COM"[..]));
        assert_eq!(u.port.as_deref(), Some(&b"8080"[..]));
        assert_eq!(u.path.as_deref(), Some(&b"/a/b"[..]));
        assert_eq!(u.query.as_deref(), Some(&b"x=1"[..]));
        assert_eq!(u.fragment.as_deref(), Some(&b"frag"[..]));
        let n = normalize(&u);
        assert_eq!(n.uri.hostname.as_deref(), Some(&b"www.example.com"[..]));
        assert_eq!(n.port_number, Some(8080));
        assert_eq!(suricata_normalized_uri(&n.uri), b"/a/b?x=1#frag");
    }

    #[test]
    fn parse_odd_uris() {
        assert_eq!(parse_uri(b"*").path.as_deref(), Some(&b"*"[..]));
        let u = parse_uri(b"[::1]:80/x");
        assert_eq!(u.scheme.as_deref(), Some(&b"["[..]));
        let u = parse_uri(b"http://[::1]:81/x");
        assert_eq!(u.hostname.as_deref(), Some(&b"[::1]"[..]));
        assert_eq!(u.port.as_deref(), Some(&b"81"[..]));
        let u = parse_uri(b"http:///x");
        assert_eq!(u.hostname, None);
        assert_eq!(u.path.as_deref(), Some(&b"///x"[..]));
        assert_eq!(parse_uri(b"").path, None);
    }

    #[test]
    fn path_normalisation() {
        assert_eq!(norm(b"/a/./b/../c"), b"/a/c");
        assert_eq!(norm(b"/a//b\\c"), b"/a/b/c");
        assert_eq!(norm(b"/%2e%2e/x"), b"/x");
        assert_eq!(norm(b"/a%2fb"), b"/a/b");
        assert_eq!(norm(b"/%41%zz%"), b"/A%zz%");
        assert_eq!(norm(b"/%u0041%uFF0F"), b"/A/");
        // Best-fit runs after separator compression, as in libhtp.
        assert_eq!(norm(b"/\xef\xbc\x8fetc"), b"//etc");
        // Overlong UTF-8 is decoded too.
        assert_eq!(norm(b"/\xc0\xafx"), b"//x");
        // libhtp's loop ends with the final "/" pending, unwritten.
        assert_eq!(norm(b"/a/.."), b"");
        assert_eq!(norm(b"/a/."), b"/a");
        assert_eq!(norm(b"/../../x"), b"/x");
        assert_eq!(norm(b"/blah/"), b"/blah/");
        assert_eq!(norm(b"/Case"), b"/Case");
        // The query is URL-decoded, the path's '+' is kept.
        assert_eq!(norm(b"/a+b?q=%41+%2F"), b"/a+b?q=A+/");
    }

    #[test]
    fn host_and_port() {
        let h = parse_hostport(b" Example.COM:8080 ");
        assert_eq!(h.hostname.as_deref(), Some(&b"example.com"[..]));
        assert_eq!(h.port_number, Some(8080));
        assert!(!h.invalid);
        assert!(parse_hostport(b"a:99999").invalid);
        assert!(parse_hostport(b"a:").invalid);
        assert!(parse_hostport(b"").invalid);
        assert!(parse_hostport(b"[::1").invalid);
        let h = parse_hostport(b"[::1]:8");
        assert_eq!(h.hostname.as_deref(), Some(&b"[::1]"[..]));
        assert!(validate_hostname(b"a-b.c_d.example"));
        assert!(validate_hostname(b"[::1]"));
        assert!(!validate_hostname(b"a..b"));
        assert!(!validate_hostname(b"a b"));
        assert!(!validate_hostname(b""));
    }
}
