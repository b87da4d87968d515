//! The members of Suricata 7.0's EVE `http` object (`output-json-http.c`
//! with `extended: yes`, the default `suricata.yaml`): `EveHttpLogJSONBasic`
//! then `EveHttpLogJSONExtended`. No header arrays (`dump-all-headers` is
//! off by default) and no `xff` (the X-Forwarded-For option is off).

use std::borrow::Cow;

use mirador_engine::eve::Obj;

use super::tx::HttpTx;

/// Suricata's `jb_set_string_from_bytes`: valid UTF-8 as it is, otherwise
/// ASCII bytes as they are and every other byte as `\xNN`.
pub(crate) fn string_from_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(b.len() * 2);
            for &c in b {
                if c < 128 {
                    out.push(char::from(c));
                } else {
                    out.push_str(&format!("\\x{c:02x}"));
                }
            }
            Cow::Owned(out)
        }
    }
}

/// `http_content_type`: Suricata's `BytesToStringBuffer` (NUL written as
/// `\0`), cut at the first ';', set only when the result is UTF-8.
fn content_type(v: &[u8]) -> Option<String> {
    let mut s = Vec::with_capacity(v.len());
    for &c in v {
        if c == 0 {
            s.extend_from_slice(b"\\0");
        } else {
            s.push(c);
        }
    }
    if let Some(p) = s.iter().position(|&c| c == b';') {
        s.truncate(p);
    }
    String::from_utf8(s).ok()
}

/// Suricata's Content-Range parser (`HTPParseContentRange`): after the
/// unit, `*/size` or `start-end/size` or `start-end/*`.
fn content_range(v: &[u8]) -> Option<(Option<u64>, Option<u64>, Option<u64>)> {
    let mut i = 0;
    while v.get(i) == Some(&b' ') {
        i += 1;
    }
    while v.get(i).is_some_and(|&c| c != b' ') {
        i += 1;
    }
    while v.get(i) == Some(&b' ') {
        i += 1;
    }
    let rest = v.get(i..)?;
    let digits = |s: &[u8]| -> Option<(u64, usize)> {
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let v: u64 = std::str::from_utf8(&s[..n]).ok()?.parse().ok()?;
        (v <= i64::MAX as u64).then_some((v, n))
    };
    if let Some(r) = rest.strip_prefix(b"*/") {
        let (size, _) = digits(r)?;
        return Some((None, None, Some(size)));
    }
    let (start, n) = digits(rest)?;
    let r = rest.get(n..)?.strip_prefix(b"-")?;
    let (end, n) = digits(r)?;
    let r = r.get(n..)?.strip_prefix(b"/")?;
    if r.first() == Some(&b'*') {
        return Some((Some(start), Some(end), None));
    }
    let (size, _) = digits(r)?;
    Some((Some(start), Some(end), Some(size)))
}

/// C `strtoul` on the status as sent (Suricata 7.0 logs `status` from the
/// raw status string): leading digits, 0 when there are none.
fn status_value(s: &[u8]) -> u64 {
    let mut v: u64 = 0;
    for &c in s.iter().skip_while(|c| c.is_ascii_whitespace()) {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
    }
    v.min(u64::from(u32::MAX))
}

impl HttpTx {
    /// Writes the members of Suricata's EVE `http` object into `o` (the
    /// caller opens and closes the object): used for `event_type: http`
    /// records and for the `http` object of alerts.
    pub fn write_eve(&self, o: &mut Obj<'_>) {
        if let Some(h) = &self.hostname {
            o.str("hostname", &string_from_bytes(h));
        }
        if let Some(p) = self.port {
            o.u64("http_port", u64::from(p));
        }
        if let Some(u) = &self.uri_raw {
            o.str("url", &string_from_bytes(u));
        }
        if let Some(ua) = self.req_headers.value(b"user-agent") {
            o.str("http_user_agent", &string_from_bytes(ua));
        }
        if let Some(ct) = self
            .resp_headers
            .value(b"content-type")
            .and_then(content_type)
        {
            o.str("http_content_type", &ct);
        }
        if let Some(cr) = self.resp_headers.value(b"content-range") {
            o.obj("content_range", |o| {
                o.str("raw", &string_from_bytes(cr));
                if let Some((start, end, size)) = content_range(cr) {
                    if let Some(v) = start {
                        o.u64("start", v);
                    }
                    if let Some(v) = end {
                        o.u64("end", v);
                    }
                    if let Some(v) = size {
                        o.u64("size", v);
                    }
                }
            });
        }
        // Extended.
        if let Some(r) = self.req_headers.value(b"referer") {
            o.str("http_refer", &string_from_bytes(r));
        }
        if let Some(m) = &self.method {
            o.str("http_method", &string_from_bytes(m));
        }
        if let Some(p) = &self.req_protocol {
            o.str("protocol", &string_from_bytes(p));
        }
        if let Some(s) = &self.status {
            o.u64("status", status_value(s));
        }
        if let Some(l) = self.resp_headers.value(b"location") {
            o.str("redirect", &string_from_bytes(l));
        }
        o.u64("length", self.resp_message_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_strings() {
        assert_eq!(string_from_bytes(b"abc"), "abc");
        assert_eq!(string_from_bytes("é".as_bytes()), "é");
        assert_eq!(string_from_bytes(b"a\xffb"), "a\\xffb");
        assert_eq!(
            content_type(b"text/html; charset=utf-8").as_deref(),
            Some("text/html")
        );
        assert_eq!(content_type(b"a\0b").as_deref(), Some("a\\0b"));
        assert_eq!(content_type(b"\xff"), None);
    }

    #[test]
    fn ranges_and_status() {
        assert_eq!(
            content_range(b"bytes 0-9/100"),
            Some((Some(0), Some(9), Some(100)))
        );
        assert_eq!(content_range(b"bytes */100"), Some((None, None, Some(100))));
        assert_eq!(
            content_range(b"bytes 1-2/*"),
            Some((Some(1), Some(2), None))
        );
        assert_eq!(content_range(b"bytes x"), None);
        assert_eq!(status_value(b"200"), 200);
        assert_eq!(status_value(b"20x"), 20);
        assert_eq!(status_value(b"abc"), 0);
        assert_eq!(status_value(b"99999999999999"), u64::from(u32::MAX));
    }
}
