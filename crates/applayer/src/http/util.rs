//! Byte-level helpers with libhtp's definitions (`htp_util.c`): character
//! classes, CR/LF chomping, number parsing, and the header-line parsers of
//! `htp_request_generic.c` / `htp_response_generic.c`.

/// libhtp `htp_is_space`: SP, HT, LF, VT, FF, CR.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, 0x20 | 0x09 | 0x0a | 0x0b | 0x0c | 0x0d)
}

/// libhtp `htp_is_lws`: SP or HT.
pub(crate) fn is_lws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// libhtp `htp_is_token`: a visible ASCII character that is not a separator.
pub(crate) fn is_token(c: u8) -> bool {
    if !(32..=126).contains(&c) {
        return false;
    }
    !matches!(
        c,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
            | b'{'
            | b'}'
            | b' '
            | b'\t'
    )
}

/// libhtp `htp_chomp`: removes every trailing CR and LF.
pub(crate) fn chomp(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s {
        if *last == b'\n' || *last == b'\r' {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// libhtp `htp_is_line_empty`: a line of one byte (the LF) or exactly CRLF.
pub(crate) fn is_line_empty(line: &[u8]) -> bool {
    line.len() == 1 || line == b"\r\n"
}

/// Trims SP/HT on both ends (libhtp `bstr_util_mem_trim` uses isspace).
pub(crate) fn trim_space(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_space(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_space(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// libhtp `bstr_util_mem_to_pint`: digits of `base` from the start; returns
/// the value and the number of digits, `None` without a digit or on
/// overflow.
pub(crate) fn mem_to_pint(data: &[u8], base: u32) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut n = 0;
    for &c in data {
        let Some(d) = (c as char).to_digit(base) else {
            break;
        };
        v = v.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// libhtp `htp_parse_positive_integer_whitespace`: optional LWS, digits,
/// optional LWS, nothing else.
pub(crate) fn parse_int_ws(data: &[u8], base: u32) -> Option<u64> {
    let start = data.iter().position(|&c| !is_lws(c))?;
    let rest = data.get(start..)?;
    let (v, n) = mem_to_pint(rest, base)?;
    rest.get(n..)?.iter().all(|&c| is_lws(c)).then_some(v)
}

/// What `htp_parse_content_length` made of a Content-Length value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentLength {
    /// The length; `None` when libhtp returns a negative value.
    pub value: Option<u64>,
    /// Junk before or after the digits (libhtp logs a warning, which
    /// Suricata turns into `UNKNOWN_ERROR`).
    pub junk: bool,
}

/// libhtp `htp_parse_content_length`: skips junk before the digits (any
/// non-LWS junk is warned about), takes the digits, tolerates junk after.
pub(crate) fn parse_content_length(v: &[u8]) -> ContentLength {
    if v.is_empty() {
        return ContentLength {
            value: None,
            junk: false,
        };
    }
    let mut junk = false;
    let mut pos = 0;
    while let Some(&c) = v.get(pos) {
        if c.is_ascii_digit() {
            break;
        }
        if !is_lws(c) {
            junk = true;
        }
        pos += 1;
    }
    let rest = v.get(pos..).unwrap_or_default();
    match mem_to_pint(rest, 10) {
        Some((n, digits)) => ContentLength {
            value: Some(n).filter(|&n| n <= i64::MAX as u64),
            junk: junk || digits < rest.len(),
        },
        None => ContentLength { value: None, junk },
    }
}

/// libhtp `htp_parse_chunked_length`. `Ok(None)`: an empty line (all
/// control characters; libhtp's -1004, skipped). `Err(())`: invalid.
pub(crate) fn parse_chunked_length(line: &[u8]) -> Result<Option<u64>, ()> {
    let start = line.iter().position(|&c| !is_chunk_ctl(c));
    let Some(start) = start else {
        return Ok(None);
    };
    let rest = line.get(start..).unwrap_or_default();
    let hex = rest
        .iter()
        .position(|c| !c.is_ascii_hexdigit())
        .unwrap_or(rest.len());
    match mem_to_pint(rest.get(..hex).unwrap_or_default(), 16) {
        Some((n, _)) if n <= i32::MAX as u64 => Ok(Some(n)),
        _ => Err(()),
    }
}

/// libhtp `is_chunked_ctl_char`: CR, LF, SP, HT, VT, FF.
pub(crate) fn is_chunk_ctl(c: u8) -> bool {
    matches!(c, 0x0d | 0x0a | 0x20 | 0x09 | 0x0b | 0x0c)
}

/// libhtp `data_probe_chunk_length`: once 8 bytes of a chunk-length line
/// have been seen, the first non-control byte must be a hex digit.
pub(crate) fn chunk_line_plausible(line: &[u8]) -> bool {
    if line.len() < 8 {
        return true;
    }
    match line.iter().find(|&&c| !is_chunk_ctl(c)) {
        Some(c) => c.is_ascii_hexdigit(),
        None => true,
    }
}

/// libhtp `htp_parse_protocol` (0.5.x): only `HTTP/1.0` and `HTTP/1.1`
/// (and `HTTP/0.9`) are recognised, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Proto {
    Invalid,
    Unknown,
    V09,
    V10,
    V11,
}

pub(crate) fn parse_protocol(p: &[u8]) -> Proto {
    match p {
        b"HTTP/1.0" => Proto::V10,
        b"HTTP/1.1" => Proto::V11,
        b"HTTP/0.9" => Proto::V09,
        _ => Proto::Invalid,
    }
}

/// Case-insensitive comparison ignoring NUL bytes in `a` (libhtp
/// `bstr_cmp_c_nocasenorzero`).
pub(crate) fn eq_nocase_nozero(a: &[u8], b: &[u8]) -> bool {
    let mut it = a.iter().filter(|&&c| c != 0);
    for &cb in b {
        match it.next() {
            Some(ca) if ca.eq_ignore_ascii_case(&cb) => {}
            _ => return false,
        }
    }
    it.next().is_none()
}

/// Case-insensitive substring search ignoring NUL bytes in the haystack
/// (libhtp `bstr_index_of_c_nocasenorzero`).
pub(crate) fn contains_nocase_nozero(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    // Bounded: header values are capped by the field limit, and the needle
    // is a short constant, so this is linear in practice.
    for start in 0..hay.len() {
        let mut it = hay
            .get(start..)
            .unwrap_or_default()
            .iter()
            .filter(|&&c| c != 0);
        if needle
            .iter()
            .all(|n| it.next().is_some_and(|c| c.eq_ignore_ascii_case(n)))
        {
            return true;
        }
    }
    false
}

/// Case-insensitive substring search.
pub(crate) fn contains_nocase(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// libhtp `htp_header_has_token`: is `token` one of the comma/space
/// separated tokens of `value` (case-insensitive)?
pub(crate) fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&c| c == b',' || is_space(c))
        .any(|t| t.eq_ignore_ascii_case(token))
}

/// One parsed header field, before it is merged into a header table.
#[derive(Debug)]
pub(crate) struct ParsedHeader<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// No colon: libhtp's `HTP_FIELD_UNPARSEABLE`.
    pub missing_colon: bool,
    /// Empty name, LWS before the colon, or a name that is not a token.
    pub invalid: bool,
}

/// libhtp `htp_parse_request_header_generic`: the colon search stops at a
/// NUL byte; a line without a colon is a header with an empty name whose
/// value is the whole line; LWS between name and colon is removed.
pub(crate) fn parse_request_header(data: &[u8]) -> ParsedHeader<'_> {
    let data = chomp(data);
    let colon = data.iter().position(|&c| c == b':' || c == 0);
    let Some(colon) = colon.filter(|&p| data.get(p) == Some(&b':')) else {
        return ParsedHeader {
            name: b"",
            value: data,
            missing_colon: true,
            invalid: false,
        };
    };
    let mut invalid = colon == 0;
    let mut name_end = colon;
    while name_end > 0 && data.get(name_end - 1).is_some_and(|&c| is_lws(c)) {
        name_end -= 1;
        invalid = true;
    }
    let mut vstart = colon + 1;
    while data.get(vstart).is_some_and(|&c| is_lws(c)) {
        vstart += 1;
    }
    // The value ends at the first NUL byte.
    let mut vend = vstart;
    while data.get(vend).is_some_and(|&c| c != 0) {
        vend += 1;
    }
    while vend > vstart + 1 && data.get(vend - 1).is_some_and(|&c| is_lws(c)) {
        vend -= 1;
    }
    // libhtp trims with `prev > value_start`, so a one-byte LWS value stays.
    let name = data.get(..name_end).unwrap_or_default();
    if !invalid && name.iter().any(|&c| !is_token(c)) {
        invalid = true;
    }
    ParsedHeader {
        name,
        value: data.get(vstart..vend).unwrap_or_default(),
        missing_colon: false,
        invalid,
    }
}

/// libhtp `htp_parse_response_header_generic`: the colon search does not
/// stop at NUL; a line without a colon is a header with an empty name;
/// every byte <= 0x20 before the colon is removed from the name.
pub(crate) fn parse_response_header(data: &[u8]) -> ParsedHeader<'_> {
    let data = chomp(data);
    let (name, vstart, missing_colon, mut invalid) = match data.iter().position(|&c| c == b':') {
        None => (&b""[..], 0, true, true),
        Some(colon) => {
            let mut invalid = colon == 0;
            let mut name_end = colon;
            while name_end > 0 && data.get(name_end - 1).is_some_and(|&c| c <= 0x20) {
                name_end -= 1;
                invalid = true;
            }
            (
                data.get(..name_end).unwrap_or_default(),
                colon + 1,
                false,
                invalid,
            )
        }
    };
    let mut vstart = vstart;
    while data.get(vstart).is_some_and(|&c| is_lws(c)) {
        vstart += 1;
    }
    let mut vend = data.len();
    if !missing_colon && name.iter().any(|&c| !is_token(c)) {
        invalid = true;
    }
    while vend > vstart + 1 && data.get(vend - 1).is_some_and(|&c| is_lws(c)) {
        vend -= 1;
    }
    ParsedHeader {
        name,
        value: data.get(vstart..vend).unwrap_or_default(),
        missing_colon,
        invalid,
    }
}

/// libhtp `htp_treat_response_line_as_body`: a response line must start,
/// after whitespace and NUL bytes, with "HTTP" in any case.
pub(crate) fn response_line_is_body(line: &[u8]) -> bool {
    let pos = line
        .iter()
        .position(|&c| !(is_space(c) || c == 0))
        .unwrap_or(line.len());
    match line.get(pos..pos + 4) {
        Some(p) => !p.eq_ignore_ascii_case(b"HTTP"),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chomp_strips_all_trailing_cr_lf() {
        assert_eq!(chomp(b"a\r\n"), b"a");
        assert_eq!(chomp(b"a\r\r\n\n"), b"a");
        assert_eq!(chomp(b"\r\n"), b"");
        assert_eq!(chomp(b"a\rb"), b"a\rb");
    }

    #[test]
    fn content_length_like_libhtp() {
        assert_eq!(parse_content_length(b"68").value, Some(68));
        assert!(!parse_content_length(b" 68").junk);
        let c = parse_content_length(b"68 34");
        assert_eq!((c.value, c.junk), (Some(68), true));
        let c = parse_content_length(b"x68,");
        assert_eq!((c.value, c.junk), (Some(68), true));
        assert_eq!(parse_content_length(b"abc").value, None);
        assert_eq!(parse_content_length(b"").value, None);
        assert_eq!(parse_content_length(b"99999999999999999999999").value, None);
    }

    #[test]
    fn chunked_length_like_libhtp() {
        assert_eq!(parse_chunked_length(b"f \r\n"), Ok(Some(15)));
        assert_eq!(parse_chunked_length(b"\r5\r\n"), Ok(Some(5)));
        assert_eq!(parse_chunked_length(b"5;ext=1\r\n"), Ok(Some(5)));
        assert_eq!(parse_chunked_length(b"\r\n"), Ok(None));
        assert_eq!(parse_chunked_length(b"\n"), Ok(None));
        assert_eq!(
            parse_chunked_length(b"00000000000000000000\r\n"),
            Ok(Some(0))
        );
        assert_eq!(parse_chunked_length(b"X5O!P\r\n"), Err(()));
        assert_eq!(parse_chunked_length(b"ffffffffff\r\n"), Err(()));
        assert!(chunk_line_plausible(b"\r\n 12345"));
        assert!(!chunk_line_plausible(b"X5O!P%@AP"));
    }

    #[test]
    fn request_header_lines() {
        let h = parse_request_header(b"Host: a.b \r\n");
        assert_eq!(
            (h.name, h.value, h.invalid),
            (&b"Host"[..], &b"a.b"[..], false)
        );
        let h = parse_request_header(b"Foo : bar");
        assert_eq!((h.name, h.invalid), (&b"Foo"[..], true));
        let h = parse_request_header(b"no colon here");
        assert!(h.missing_colon);
        assert_eq!((h.name, h.value), (&b""[..], &b"no colon here"[..]));
        let h = parse_request_header(b"A\0:b");
        assert!(h.missing_colon);
        let h = parse_request_header(b": v");
        assert!(h.invalid);
        let h = parse_request_header(b"Foo Bar: x");
        assert!(h.invalid);
        let h = parse_request_header(b"A: b\0c");
        assert_eq!(h.value, b"b");
        let h = parse_request_header(b"A:");
        assert_eq!(h.value, b"");
    }

    #[test]
    fn response_header_lines() {
        let h = parse_response_header(b"Transfer-Encoding\x0b:chunked\r\n");
        assert_eq!(
            (h.name, h.value, h.invalid),
            (&b"Transfer-Encoding"[..], &b"chunked"[..], true)
        );
        let h = parse_response_header(b"Content-Encoding\0:deflate");
        assert_eq!(h.name, b"Content-Encoding");
        let h = parse_response_header(b"junk line");
        assert!(h.missing_colon);
        assert_eq!(h.value, b"junk line");
    }

    #[test]
    fn nozero_comparisons() {
        assert!(eq_nocase_nozero(b"GZip\0", b"gzip"));
        assert!(eq_nocase_nozero(b"\0deflate", b"deflate"));
        assert!(!eq_nocase_nozero(b"gzip,", b"gzip"));
        assert!(contains_nocase_nozero(b"x chun\0ked", b"chunked"));
        assert!(!contains_nocase_nozero(b"lalala", b"chunked"));
        assert!(has_token(b"gzip, chunked", b"chunked"));
        assert!(!has_token(b"xchunked", b"chunked"));
    }

    #[test]
    fn body_like_response_lines() {
        assert!(!response_line_is_body(b"HTTP/1.1 200 OK"));
        assert!(!response_line_is_body(b"\0 http/1.0 200"));
        assert!(response_line_is_body(b"SIP/2.0 200 ok"));
        assert!(response_line_is_body(b"HT"));
    }
}
