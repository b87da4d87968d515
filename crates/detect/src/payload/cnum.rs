//! C number conversions as Suricata uses them: glibc's `strtoull` and
//! `strtoll`, and the `util-byte.c` wrappers (`ByteExtractString*`,
//! `StringParse*`) with their strict/non-strict quirks. Keyword values
//! and `string` extraction both go through these, so that `0x10`, `010`
//! (octal), leading blanks, signs and trailing text are read exactly as
//! Suricata reads them.

/// Is `c` a C `isspace` character (in the "C" locale)?
pub(crate) fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The outcome of a `strtoull`/`strtoll` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Strto {
    /// The magnitude read (before applying a minus sign).
    pub magnitude: u64,
    /// A `-` sign was read.
    pub negative: bool,
    /// Bytes consumed (`endptr - nptr`); 0 when nothing was converted.
    pub consumed: usize,
    /// The magnitude did not fit in 64 bits (`ERANGE` for `strtoull`).
    pub overflow: bool,
}

fn digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// glibc's number scanner shared by `strtoull` and `strtoll`: blanks, a
/// sign, a `0x`/`0` prefix for bases 0 and 16, then digits. `base` must
/// be 0 or 2..=36 (other bases convert nothing, as glibc's `EINVAL`).
/// Stops at the end of `s`, which stands for the C string's NUL.
pub(crate) fn scan(s: &[u8], base: u32) -> Strto {
    let none = Strto {
        magnitude: 0,
        negative: false,
        consumed: 0,
        overflow: false,
    };
    if base == 1 || base > 36 {
        return none;
    }
    let mut i = 0;
    while i < s.len() && c_isspace(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        negative = s[i] == b'-';
        i += 1;
    }
    let mut base = base;
    let mut prefix_x = false;
    if i < s.len() && s[i] == b'0' {
        if (base == 0 || base == 16) && s.get(i + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'x'))
        {
            i += 2;
            base = 16;
            prefix_x = true;
        } else if base == 0 {
            base = 8;
        }
    } else if base == 0 {
        base = 10;
    }
    let start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let Some(d) = digit(s[i]).filter(|d| *d < base) else {
            break;
        };
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        // No digits. glibc's special case: "0x" with no hex digit after
        // it converts the "0" and leaves endptr at the 'x'.
        if prefix_x {
            return Strto {
                consumed: i - 1,
                ..none
            };
        }
        return none;
    }
    Strto {
        magnitude: if overflow { u64::MAX } else { magnitude },
        negative,
        consumed: i,
        overflow,
    }
}

/// `ByteExtractString(res, base, len, str, strict)`: `strtoull` on the
/// first `len` bytes (or, for `len == 0`, up to the first NUL or the end).
/// Returns the value and the bytes consumed, or `None` where Suricata
/// returns an error (`len > 23`, `ERANGE`, nothing converted, or trailing
/// text when `strict`).
pub(crate) fn byte_extract_string(
    s: &[u8],
    base: u32,
    len: usize,
    strict: bool,
) -> Option<(u64, usize)> {
    if len > 23 {
        return None;
    }
    let s = if len > 0 {
        &s[..len.min(s.len())]
    } else {
        let end = memchr::memchr(0, s).unwrap_or(s.len());
        &s[..end]
    };
    // A NUL inside the copied bytes ends the C string there.
    let s = &s[..memchr::memchr(0, s).unwrap_or(s.len())];
    let r = scan(s, base);
    if r.overflow || r.consumed == 0 {
        return None;
    }
    if strict && r.consumed != s.len() {
        return None;
    }
    let v = if r.negative {
        r.magnitude.wrapping_neg()
    } else {
        r.magnitude
    };
    Some((v, r.consumed))
}

/// `StringParseUint*`/`StringParseU*RangeCheck`: strict unsigned parse of
/// a whole keyword value, at most `max`.
pub(crate) fn parse_unsigned(s: &str, base: u32, max: u64) -> Option<u64> {
    let (v, _) = byte_extract_string(s.as_bytes(), base, 0, true)?;
    (v <= max).then_some(v)
}

/// `ByteExtractStringUint64` with `len == 0`: non-strict (trailing text is
/// ignored, as in `0xffffffffffffffffULL`).
pub(crate) fn parse_unsigned_loose(s: &str, base: u32) -> Option<u64> {
    byte_extract_string(s.as_bytes(), base, 0, false).map(|(v, _)| v)
}

/// `ByteExtractStringSigned` then a range check, as `StringParseInt32` and
/// `StringParseI32RangeCheck` do. Suricata checks for trailing text only
/// when a length is passed, so callers pass `strict` accordingly.
pub(crate) fn parse_signed(s: &str, base: u32, strict: bool, min: i64, max: i64) -> Option<i64> {
    let b = s.as_bytes();
    let b = &b[..memchr::memchr(0, b).unwrap_or(b.len())];
    let r = scan(b, base);
    if r.consumed == 0 {
        return None;
    }
    let v: i64 = if r.negative {
        if r.overflow || r.magnitude > 1u64 << 63 {
            return None;
        }
        0i64.wrapping_sub_unsigned(r.magnitude)
    } else {
        if r.overflow || r.magnitude > i64::MAX as u64 {
            return None;
        }
        r.magnitude as i64
    };
    if strict && r.consumed != b.len() {
        return None;
    }
    (min..=max).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, base, value and bytes consumed).
    type Case = (&'static str, u32, Option<(u64, usize)>);

    #[test]
    fn strtoull_like_glibc() {
        let cases: &[Case] = &[
            ("123", 10, Some((123, 3))),
            ("  42x", 10, Some((42, 4))),
            ("0x1f", 0, Some((31, 4))),
            ("0x1f", 16, Some((31, 4))),
            ("1f", 16, Some((31, 2))),
            ("010", 0, Some((8, 3))),
            ("010", 10, Some((10, 3))),
            ("0xg", 0, Some((0, 1))),
            ("-1", 10, Some((u64::MAX, 2))),
            ("+7", 10, Some((7, 2))),
            ("", 10, None),
            ("x", 10, None),
            ("18446744073709551615", 10, Some((u64::MAX, 20))),
            ("18446744073709551616", 10, None),
            ("777", 8, Some((511, 3))),
            ("8", 8, None),
            ("z", 36, Some((35, 1))),
        ];
        for &(s, base, want) in cases {
            assert_eq!(
                byte_extract_string(s.as_bytes(), base, 0, false),
                want,
                "{s:?} base {base}"
            );
        }
    }

    #[test]
    fn nul_and_length_bound_the_string() {
        assert_eq!(
            byte_extract_string(b"12\x0034", 10, 5, false),
            Some((12, 2))
        );
        assert_eq!(byte_extract_string(b"1234", 10, 2, false), Some((12, 2)));
        assert_eq!(byte_extract_string(b"1234", 10, 24, false), None);
    }

    #[test]
    fn signed_and_strict() {
        assert_eq!(parse_signed("-8", 0, true, -100, 100), Some(-8));
        assert_eq!(parse_signed("0x10", 0, true, -100, 100), Some(16));
        assert_eq!(parse_signed("5abc", 0, false, -100, 100), Some(5));
        assert_eq!(parse_signed("5abc", 0, true, -100, 100), None);
        assert_eq!(parse_signed("101", 0, true, -100, 100), None);
        assert_eq!(
            parse_signed("99999999999999999999", 10, false, i64::MIN, i64::MAX),
            None
        );
        assert_eq!(parse_unsigned("65535", 10, 65535), Some(65535));
        assert_eq!(parse_unsigned("65536", 10, 65535), None);
        assert_eq!(parse_unsigned("12 ", 10, 65535), None);
        assert_eq!(parse_unsigned_loose("0xffULL", 0), Some(255));
    }
}
