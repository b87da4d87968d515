//! `base64_decode` and `base64_data`: the option parser
//! (`DetectBase64DecodeParse`), the decoder Suricata runs for the keyword
//! (its RFC 4648 mode) and the per-thread buffer the decoded bytes go to.
//!
//! Suricata 7 and 8 decode this keyword in RFC 4648 mode (Redmine 5223;
//! its user guide: "base64_decode follows RFC 4648 by default"), not in the
//! RFC 2045 (MIME) mode that skips spaces and stray characters: decoding
//! stops at the first byte outside the alphabet, whitespace included. The
//! decoder here follows Suricata 8's (`decode_rfc4648` in its Rust
//! utilities):
//!
//! * characters of the alphabet and `=` are taken four at a time; the first
//!   other byte (or the end of the input) ends the decoding;
//! * a trailing group of two or three characters is padded with `=` and
//!   decoded (one or two bytes); a lone trailing character yields nothing;
//! * `=` in the third position of a group gives one byte, in the fourth two
//!   (the group's remaining characters are ignored) and decoding goes on
//!   with the next group;
//! * `=` in the first or second position of a group is an error, and an
//!   error discards everything: the decoded buffer is empty.

use super::parse::err;
use crate::header::KeywordError;

/// Suricata's `BASE64_DECODE_MAX`: `bytes` when absent or 0, and the most
/// encoded bytes one `base64_decode` reads.
pub const BASE64_DECODE_MAX: u16 = 65535;

/// The most bytes decoding [`BASE64_DECODE_MAX`] input characters can give
/// (three per full group, two for a trailing group of three).
pub const BASE64_DECODED_MAX: usize = decoded_bound(BASE64_DECODE_MAX as usize);

/// Output bytes `n` input characters can decode to at most.
pub const fn decoded_bound(n: usize) -> usize {
    n / 4 * 3 + (n % 4).saturating_sub(1)
}

/// A parsed `base64_decode` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64Decode {
    /// `bytes`: how many encoded bytes to decode at most (1..=65535; an
    /// absent or zero value is Suricata's maximum).
    pub bytes: u16,
    /// `offset`: encoded bytes skipped before decoding.
    pub offset: u32,
    /// `relative`: start at the cursor (the end of the previous match).
    pub relative: bool,
}

impl Default for Base64Decode {
    fn default() -> Self {
        Base64Decode {
            bytes: BASE64_DECODE_MAX,
            offset: 0,
            relative: false,
        }
    }
}

/// PCRE's `\s`.
fn is_pcre_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// PCRE's `\w`.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn skip_spaces(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|&b| is_pcre_space(b)) {
        i += 1;
    }
    i
}

/// The optional group `name\s+(\d+),?` at `i`: the digits and where the
/// group ends, or `None` when it does not match there.
fn number_group<'s>(s: &'s [u8], i: usize, name: &[u8]) -> Option<(&'s [u8], usize)> {
    let rest = s.get(i..)?;
    if !rest.starts_with(name) {
        return None;
    }
    let mut j = i + name.len();
    let spaces = skip_spaces(s, j);
    if spaces == j {
        return None;
    }
    j = spaces;
    let start = j;
    while s.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j == start {
        return None;
    }
    let digits = &s[start..j];
    if s.get(j) == Some(&b',') {
        j += 1;
    }
    Some((digits, j))
}

/// Digits (as `\d+` matched them) to a number no larger than `max`, as
/// `StringParseUint16`/`StringParseUint32` accept them.
fn digits_value(d: &[u8], max: u64) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in d {
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    (v <= max).then_some(v)
}

impl Base64Decode {
    /// Parses a `base64_decode` value as Suricata does: its (unanchored)
    /// regex `\s*(bytes\s+(\d+),?)?\s*(offset\s+(\d+),?)?\s*(\w+)?`, with
    /// `bytes` a u16, `offset` a u32 and the word, if any, exactly
    /// `relative`. The options must come in that order; text after the
    /// word is ignored, as Suricata ignores it. `None` (no value) is all
    /// defaults.
    pub fn parse(value: Option<&str>) -> Result<Base64Decode, KeywordError> {
        const K: &str = "base64_decode";
        let mut out = Base64Decode::default();
        let Some(v) = value else {
            return Ok(out);
        };
        let s = v.as_bytes();
        let mut i = skip_spaces(s, 0);
        let bytes = number_group(s, i, b"bytes");
        if let Some((_, end)) = bytes {
            i = end;
        }
        i = skip_spaces(s, i);
        let offset = number_group(s, i, b"offset");
        if let Some((_, end)) = offset {
            i = end;
        }
        i = skip_spaces(s, i);
        let word_end = (i..s.len()).find(|&j| !is_word(s[j])).unwrap_or(s.len());
        let word = &v[i..word_end];
        // Suricata wants at least the `bytes` group (pcre_rc >= 3).
        if bytes.is_none() && offset.is_none() && word.is_empty() {
            return Err(err(
                K,
                format!("invalid value '{v}' (expected bytes <n>, offset <n>, relative)"),
            ));
        }
        if let Some((d, _)) = bytes {
            let n = digits_value(d, u64::from(u16::MAX)).ok_or_else(|| {
                err(
                    K,
                    format!(
                        "bad value for bytes: '{}' (0 to 65535)",
                        String::from_utf8_lossy(d)
                    ),
                )
            })?;
            // `bytes 0` means the maximum, as Suricata's setup does.
            if n != 0 {
                out.bytes = n as u16;
            }
        }
        if let Some((d, _)) = offset {
            out.offset = digits_value(d, u64::from(u32::MAX)).ok_or_else(|| {
                err(
                    K,
                    format!(
                        "bad value for offset: '{}' (0 to 4294967295)",
                        String::from_utf8_lossy(d)
                    ),
                )
            })? as u32;
        }
        if !word.is_empty() {
            if word != "relative" {
                return Err(err(K, format!("invalid argument '{word}'")));
            }
            out.relative = true;
        }
        Ok(out)
    }
}

/// The value of a base64 alphabet character (`A-Za-z0-9+/`).
fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes `src` in Suricata's RFC 4648 mode (see the module comment) into
/// `out`, returning how many bytes were written; 0 when nothing decoded or
/// on a misplaced `=`. `out` must hold [`decoded_bound`]`(src.len())`
/// bytes; a shorter one ends the decoding early rather than panicking.
pub fn decode_rfc4648(src: &[u8], out: &mut [u8]) -> usize {
    let mut group = [0u8; 4];
    let mut n = 0usize;
    let mut written = 0usize;
    let mut i = 0usize;
    loop {
        let mut stop = false;
        while n < 4 {
            match src.get(i) {
                Some(&c) if c == b'=' || b64_value(c).is_some() => {
                    group[n] = c;
                    n += 1;
                    i += 1;
                }
                _ => {
                    // A lone character cannot make a byte: it is dropped.
                    if n >= 2 {
                        group[n..].fill(b'=');
                        n = 4;
                    }
                    stop = true;
                    break;
                }
            }
        }
        if n == 4 {
            let (Some(a), Some(b)) = (b64_value(group[0]), b64_value(group[1])) else {
                return 0;
            };
            let mut bytes = [a << 2 | b >> 4, 0, 0];
            let mut len = 1;
            if let Some(c) = b64_value(group[2]) {
                bytes[1] = b << 4 | c >> 2;
                len = 2;
                if let Some(d) = b64_value(group[3]) {
                    bytes[2] = c << 6 | d;
                    len = 3;
                }
            }
            let Some(dst) = out.get_mut(written..written + len) else {
                return written;
            };
            dst.copy_from_slice(&bytes[..len]);
            written += len;
            n = 0;
        }
        if stop {
            return written;
        }
    }
}

/// The per-thread buffer `base64_decode` writes to (Suricata's
/// `det_ctx->base64_decoded`): empty until a rule first decodes, then
/// [`BASE64_DECODED_MAX`] bytes for the life of the thread, so that
/// inspection never allocates per packet.
#[derive(Debug, Default, Clone)]
pub struct DecodeBuf {
    buf: Vec<u8>,
}

impl DecodeBuf {
    /// An empty buffer (nothing allocated yet).
    pub fn new() -> DecodeBuf {
        DecodeBuf::default()
    }

    /// The whole buffer, allocated on first use.
    pub(crate) fn space(&mut self) -> &mut [u8] {
        if self.buf.len() < BASE64_DECODED_MAX {
            self.buf.resize(BASE64_DECODED_MAX, 0);
        }
        &mut self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> Result<Base64Decode, KeywordError> {
        Base64Decode::parse(Some(v))
    }

    fn bor(v: &str) -> (u16, u32, bool) {
        let d = parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        (d.bytes, d.offset, d.relative)
    }

    const MAX: u16 = BASE64_DECODE_MAX;

    /// Suricata's `DetectBase64TestDecodeParse` (with its "0 means the
    /// maximum" applied, as `DetectBase64DecodeSetup` applies it).
    #[test]
    fn suricata_decode_parse() {
        assert_eq!(bor("bytes 1"), (1, 0, false));
        assert_eq!(bor("offset 9"), (MAX, 9, false));
        assert_eq!(bor("relative"), (MAX, 0, true));
        assert_eq!(bor("bytes 1, offset 2"), (1, 2, false));
        assert_eq!(bor("bytes 1, offset 2, relative"), (1, 2, true));
        assert_eq!(bor("offset 2, relative"), (MAX, 2, true));
        // Misspelled relative, bytes, offset; empty.
        assert!(parse("bytes 1, offset 2, relatve").is_err());
        assert!(parse("byts 1, offset 2, relatve").is_err());
        assert!(parse("bytes 1, offst 2, relatve").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn parse_edges() {
        assert_eq!(Base64Decode::parse(None).unwrap(), Base64Decode::default());
        assert_eq!(bor("bytes 0"), (MAX, 0, false));
        assert_eq!(bor("bytes 65535"), (MAX, 0, false));
        assert_eq!(bor("  bytes\t7 offset 0 ,relative"), (7, 0, false));
        assert_eq!(bor("bytes 1,offset 2,relative"), (1, 2, true));
        assert_eq!(bor("offset 4294967295"), (MAX, u32::MAX, false));
        // Suricata's regex is not anchored at the end: trailing text after
        // the word is ignored.
        assert_eq!(bor("relative, bytes 5"), (MAX, 0, true));
        for bad in [
            "bytes 65536",
            "bytes 99999999999999999999999",
            "offset 4294967296",
            "offset -1",
            "bytes -1",
            "offset 2, bytes 1",
            "Relative",
            "relative2",
            "bytes x",
            ",",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("bytes 70000").unwrap_err();
        assert_eq!(e.keyword, "base64_decode");
        assert!(e.message.contains("70000"), "{}", e.message);
    }

    fn dec(s: &str) -> Vec<u8> {
        let mut out = vec![0u8; decoded_bound(s.len())];
        let n = decode_rfc4648(s.as_bytes(), &mut out);
        out.truncate(n);
        out
    }

    /// Suricata's `B64TestVectorsRFC4648` (RFC 4648 section 10 plus its
    /// whitespace and invalid-character cases).
    #[test]
    fn suricata_rfc4648_vectors() {
        assert_eq!(dec(""), b"");
        assert_eq!(dec("Zg=="), b"f");
        assert_eq!(dec("Zm8="), b"fo");
        assert_eq!(dec("Zm9v"), b"foo");
        assert_eq!(dec("Zm9vYg=="), b"foob");
        assert_eq!(dec("Zm9vYmE="), b"fooba");
        assert_eq!(dec("Zm9vYmFy"), b"foobar");
        // Decoding stops at the space / the invalid character.
        assert_eq!(dec("Zm 9v Ym Fy"), b"f");
        assert_eq!(dec("Zm$9vYm.Fy"), b"f");
    }

    #[test]
    fn decoder_edges() {
        assert_eq!(dec("SGVsbG8gV29ybGQ="), b"Hello World");
        // No padding: the trailing group is padded.
        assert_eq!(dec("SGVsbG8gV29ybGQ"), b"Hello World");
        assert_eq!(dec("Zm9vYg"), b"foob");
        assert_eq!(dec("Zm9vYmE"), b"fooba");
        // A lone trailing character is dropped.
        assert_eq!(dec("Zm9vY"), b"foo");
        assert_eq!(dec("Z"), b"");
        // Whitespace (line breaks too) ends the decoding.
        assert_eq!(dec("Zm9v\r\nYmFy"), b"foo");
        assert_eq!(dec(" Zm9v"), b"");
        // Padding inside the data ends a group, decoding goes on.
        assert_eq!(dec("Zg==Zm9v"), b"ffoo");
        assert_eq!(dec("Zg=xZm9v"), b"ffoo");
        // Misplaced padding discards everything.
        assert_eq!(dec("Zm9v=m9v"), b"");
        assert_eq!(dec("Zm9vY==="), b"");
        assert_eq!(dec("===="), b"");
        // URL-safe characters are not in the alphabet.
        assert_eq!(dec("Zm9v-_"), b"foo");
        // Every byte value survives a round trip.
        let all: Vec<u8> = (0..=255u8).collect();
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::STANDARD.encode(&all);
        assert_eq!(dec(&enc), all);
    }

    #[test]
    fn decoder_bounds() {
        assert_eq!(decoded_bound(0), 0);
        assert_eq!(decoded_bound(1), 0);
        assert_eq!(decoded_bound(2), 1);
        assert_eq!(decoded_bound(3), 2);
        assert_eq!(decoded_bound(4), 3);
        assert_eq!(BASE64_DECODED_MAX, 49151);
        // A short output buffer stops the decoding, never panics.
        let mut out = [0u8; 4];
        assert_eq!(decode_rfc4648(b"Zm9vYmFy", &mut out), 3);
        assert_eq!(&out[..3], b"foo");
        // Any input fits its bound.
        let mut rng = 0x1234_5678u32;
        for len in 0..200usize {
            let src: Vec<u8> = (0..len)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 17;
                    rng ^= rng << 5;
                    b"AZaz09+/=\n -"[(rng % 12) as usize]
                })
                .collect();
            let mut out = vec![0u8; decoded_bound(len)];
            let n = decode_rfc4648(&src, &mut out);
            assert!(n <= out.len());
        }
        let mut b = DecodeBuf::new();
        assert_eq!(b.space().len(), BASE64_DECODED_MAX);
    }
}
