//! Value parsing for the payload keywords, one function per keyword, each
//! following the Suricata setup/parse function named in its doc comment.

use super::cnum::{c_isspace, parse_signed, parse_unsigned, parse_unsigned_loose};
use crate::header::{KeywordError, UintCmp};

pub(crate) fn err(keyword: &'static str, message: impl Into<String>) -> KeywordError {
    KeywordError {
        keyword,
        message: message.into(),
    }
}

/// Suricata's `DETECT_CONTENT_VALUE_MAX`: the bound on `|distance|` and
/// `|within|`.
pub const CONTENT_VALUE_MAX: i32 = 1024 * 1024;

/// A keyword argument that is either a number or the name of a
/// `byte_extract`/`byte_math` variable (Suricata treats a value whose first
/// character is a letter as a variable name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumOrVar<T> {
    /// A literal number.
    Num(T),
    /// A variable name, resolved when the program is built.
    Var(String),
}

/// Suricata's test for a variable reference: `str[0] != '-' && isalpha(str[0])`.
pub(crate) fn is_var_name(s: &str) -> bool {
    s.as_bytes()
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic())
}

fn blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// How the content string reaches the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escapes {
    /// The rule parser has already removed the rule-level escapes (`\;`,
    /// `\"`, `\\`): a `"` or `\` inside the quotes is literal, except that
    /// `\:` still reads as `:` (Suricata's content-level escape).
    #[default]
    Removed,
    /// The value exactly as written in the rule: `\;`, `\"`, `\\` and `\:`
    /// are escapes, any other `\x` and an unescaped `"` are errors
    /// (Suricata's `DetectContentDataParse`).
    Raw,
}

/// A parsed `content` value: the bytes to look for and the `!` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentPattern {
    /// The pattern bytes (hex blocks decoded, escapes resolved).
    pub bytes: Vec<u8>,
    /// `content:!"..."`.
    pub negated: bool,
}

impl ContentPattern {
    /// Parses a `content` value whose rule-level escapes were removed by
    /// the rule parser (see [`Escapes::Removed`]).
    pub fn parse(value: &str) -> Result<ContentPattern, KeywordError> {
        Self::parse_with("content", value, Escapes::Removed)
    }

    /// Parses a `content` value as written in the rule text (see
    /// [`Escapes::Raw`]).
    pub fn parse_raw(value: &str) -> Result<ContentPattern, KeywordError> {
        Self::parse_with("content", value, Escapes::Raw)
    }

    /// Parses a `content`-style value (`[!]"..."`) for `keyword`: the
    /// quoting and negation rules of Suricata's `SigParseOptions`
    /// (`SIGMATCH_QUOTES_MANDATORY | SIGMATCH_HANDLE_NEGATION`), then
    /// `DetectContentDataParse` for `|hex|` blocks and escapes.
    pub fn parse_with(
        keyword: &'static str,
        value: &str,
        escapes: Escapes,
    ) -> Result<ContentPattern, KeywordError> {
        let v = value.trim_start_matches(blank);
        let (negated, v) = match v.strip_prefix('!') {
            Some(r) => (true, r.trim_start_matches(blank)),
            None => (false, v),
        };
        let v = v.trim_end_matches(blank);
        if v.is_empty() {
            return Err(err(keyword, "missing value"));
        }
        if !v.starts_with('"') {
            return Err(err(
                keyword,
                format!("value must be double quoted: '{value}'"),
            ));
        }
        if v.len() < 2 || !v.ends_with('"') {
            return Err(err(
                keyword,
                format!("missing closing double quote: '{value}'"),
            ));
        }
        let inner = &v.as_bytes()[1..v.len() - 1];
        if inner.is_empty() {
            return Err(err(keyword, "empty pattern"));
        }
        let bytes = decode_content(keyword, inner, escapes)?;
        if bytes.is_empty() {
            return Err(err(keyword, "empty pattern"));
        }
        if bytes.len() > usize::from(u16::MAX) {
            return Err(err(
                keyword,
                format!("pattern of {} bytes is longer than 65535", bytes.len()),
            ));
        }
        Ok(ContentPattern { bytes, negated })
    }
}

fn decode_content(
    keyword: &'static str,
    s: &[u8],
    escapes: Escapes,
) -> Result<Vec<u8>, KeywordError> {
    let mut out = Vec::with_capacity(s.len());
    let mut in_hex = false;
    let mut hex_hi: Option<u8> = None;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == b'|' {
            if in_hex && hex_hi.is_some() {
                return Err(err(
                    keyword,
                    "incomplete hex code (odd number of hex digits)",
                ));
            }
            in_hex = !in_hex;
        } else if in_hex {
            if let Some(d) = (c as char).to_digit(16) {
                let d = d as u8;
                match hex_hi.take() {
                    Some(hi) => out.push(hi << 4 | d),
                    None => hex_hi = Some(d),
                }
            } else if c != b' ' && c != b',' {
                return Err(err(
                    keyword,
                    format!("invalid hex code '{}'", c.escape_ascii()),
                ));
            }
        } else if c == b'\\' {
            let next = s.get(i + 1).copied();
            match (escapes, next) {
                (_, Some(b':')) => {
                    out.push(b':');
                    i += 1;
                }
                (Escapes::Raw, Some(n @ (b';' | b'\\' | b'"'))) => {
                    out.push(n);
                    i += 1;
                }
                (Escapes::Raw, Some(n)) => {
                    return Err(err(
                        keyword,
                        format!(
                            "'\\{}' is not a valid escape ('\\' has to be escaped)",
                            n.escape_ascii()
                        ),
                    ));
                }
                (Escapes::Raw, None) => return Err(err(keyword, "trailing backslash")),
                (Escapes::Removed, _) => out.push(b'\\'),
            }
        } else if c == b'"' && escapes == Escapes::Raw {
            return Err(err(keyword, "unescaped double quote inside the pattern"));
        } else {
            out.push(c);
        }
        i += 1;
    }
    if in_hex {
        return Err(err(keyword, "unbalanced '|': hex block not closed"));
    }
    Ok(out)
}

/// `isdataat`: `[!]N|var[,relative[,rawbytes]]` (`detect-isdataat.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsDataAt {
    /// `!`: there must be no data there.
    pub negated: bool,
    /// The position (a number up to 65535, or a variable).
    pub value: NumOrVar<u16>,
    /// Relative to the end of the previous match.
    pub relative: bool,
    /// `rawbytes` (no effect).
    pub rawbytes: bool,
}

impl IsDataAt {
    /// Parses an `isdataat` value.
    pub fn parse(value: &str) -> Result<IsDataAt, KeywordError> {
        const K: &str = "isdataat";
        let v = value.trim_matches(c_isspace_char);
        let (negated, v) = match v.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, v),
        };
        let mut parts = v.split(',');
        let first = parts.next().unwrap_or("").trim_matches(c_isspace_char);
        if first.is_empty() || first.contains(c_isspace_char) {
            return Err(err(K, format!("invalid value '{value}'")));
        }
        let num = if is_var_name(first) {
            NumOrVar::Var(first.to_string())
        } else {
            NumOrVar::Num(
                parse_unsigned(first, 10, u64::from(u16::MAX))
                    .ok_or_else(|| err(K, format!("'{first}' is not a number from 0 to 65535")))?
                    as u16,
            )
        };
        let rest: Vec<&str> = parts.map(|p| p.trim_matches(c_isspace_char)).collect();
        let (relative, rawbytes) = match rest.as_slice() {
            [] => (false, false),
            ["relative"] => (true, false),
            ["relative", "rawbytes"] => (true, true),
            ["rawbytes"] => {
                return Err(err(
                    K,
                    "rawbytes needs relative before it (Suricata rejects 'N,rawbytes')",
                ));
            }
            _ => return Err(err(K, format!("unexpected options in '{value}'"))),
        };
        Ok(IsDataAt {
            negated,
            value: num,
            relative,
            rawbytes,
        })
    }
}

fn c_isspace_char(c: char) -> bool {
    c.is_ascii() && c_isspace(c as u8)
}

/// `dsize`: a comparison on the packet payload size, Suricata's unsigned
/// 16-bit integer syntax (`N`, `<N`, `>N`, `<=N`, `>=N`, `!N`, `N<>M`,
/// `N-M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dsize(pub UintCmp);

impl Dsize {
    /// Parses a `dsize` value.
    pub fn parse(value: &str) -> Result<Dsize, KeywordError> {
        UintCmp::parse("dsize", value, u64::from(u16::MAX)).map(Dsize)
    }

    /// Whether a packet with this payload length matches. `dsize` is a
    /// packet check: callers apply it to the packet payload, not to
    /// reassembled stream data.
    pub fn matches(&self, payload_len: usize) -> bool {
        self.0.matches(payload_len as u64)
    }
}

/// Byte order of extracted numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endian {
    /// Most significant byte first (the default).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// `byte_test` comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteTestOp {
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `=` (also what a lone `!` negates)
    Eq,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `&`: any bit in common.
    And,
    /// `^`: any bit different (Suricata's "bitwise OR" is an XOR test).
    Xor,
}

/// How a `string` conversion reads digits: Suricata passes this to
/// `strtoull` as the base (0 = automatic: `0x` hex, leading `0` octal).
/// `byte_test` and `byte_jump` OR the `hex`/`dec`/`oct` values together,
/// so `hex, dec` reads base 26, as Suricata does.
pub type Base = u8;

fn nbytes_ok(string: bool, n: i64) -> bool {
    (string && n <= 23) || n <= 8
}

fn parse_bitmask(keyword: &'static str, rest: &str) -> Result<u32, KeywordError> {
    // ByteExtractStringUint32(base 0, non-strict).
    parse_unsigned_loose(rest, 0)
        .filter(|v| *v <= u64::from(u32::MAX))
        .map(|v| v as u32)
        .ok_or_else(|| {
            err(
                keyword,
                format!("malformed bitmask value '{}'", rest.trim()),
            )
        })
}

/// `byte_test`: `nbytes, [!]op, value, offset[, relative][, big|little]
/// [, string[, hex|dec|oct]][, dce][, bitmask MASK]` (`detect-bytetest.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteTest {
    /// Bytes to read (1-8, or up to 23 with `string`), or a variable.
    pub nbytes: NumOrVar<u8>,
    /// The operator is negated (`!`).
    pub negated: bool,
    /// The comparison.
    pub op: ByteTestOp,
    /// The value compared against.
    pub value: NumOrVar<u64>,
    /// Where to read, from the buffer start or (relative) the cursor.
    pub offset: NumOrVar<i32>,
    /// `relative`.
    pub relative: bool,
    /// Byte order for binary reads.
    pub endian: Endian,
    /// `big` was given (only checked against `dce`).
    pub big_given: bool,
    /// `string`: the bytes are digits.
    pub string: bool,
    /// `strtoull` base for `string`.
    pub base: Base,
    /// `dce`: byte order from the DCE/RPC header.
    pub dce: bool,
    /// `bitmask`: AND mask, then a right shift by its trailing zeros.
    pub bitmask: Option<u32>,
}

impl ByteTest {
    /// Parses a `byte_test` value.
    pub fn parse(value: &str) -> Result<ByteTest, KeywordError> {
        const K: &str = "byte_test";
        let parts: Vec<&str> = value
            .split(',')
            .map(|p| p.trim_matches(c_isspace_char))
            .collect();
        if parts.len() < 4 {
            return Err(err(
                K,
                format!("needs nbytes, operator, value and offset: '{value}'"),
            ));
        }
        if parts.len() > 10 {
            return Err(err(K, "too many options (at most 6 after the offset)"));
        }
        let nbytes_s = parts[0];
        let (nbytes, nbytes_num) = if is_var_name(nbytes_s) {
            (NumOrVar::Var(nbytes_s.to_string()), None)
        } else {
            let n = parse_unsigned(nbytes_s, 10, u64::from(u32::MAX))
                .ok_or_else(|| err(K, format!("malformed number of bytes '{nbytes_s}'")))?;
            (NumOrVar::Num(n.min(255) as u8), Some(n))
        };
        let (negated, op_s) = match parts[1].strip_prefix('!') {
            Some(r) => (true, r.trim_start_matches(c_isspace_char)),
            None => (false, parts[1]),
        };
        let op = match op_s {
            "=" => ByteTestOp::Eq,
            "" if negated => ByteTestOp::Eq,
            "<" => ByteTestOp::Lt,
            ">" => ByteTestOp::Gt,
            "&" => ByteTestOp::And,
            "^" => ByteTestOp::Xor,
            ">=" => ByteTestOp::Ge,
            "<=" => ByteTestOp::Le,
            _ => return Err(err(K, format!("invalid operator '{}'", parts[1]))),
        };
        let value_s = parts[2];
        if value_s.is_empty() || value_s.contains(c_isspace_char) {
            return Err(err(K, format!("malformed value '{value_s}'")));
        }
        let test_value = if is_var_name(value_s) {
            NumOrVar::Var(value_s.to_string())
        } else {
            NumOrVar::Num(
                parse_unsigned_loose(value_s, 0)
                    .ok_or_else(|| err(K, format!("malformed value '{value_s}'")))?,
            )
        };
        let offset_s = parts[3];
        if offset_s.is_empty() || offset_s.contains(c_isspace_char) {
            return Err(err(K, format!("malformed offset '{offset_s}'")));
        }
        let offset = if is_var_name(offset_s) {
            NumOrVar::Var(offset_s.to_string())
        } else {
            NumOrVar::Num(
                parse_signed(offset_s, 0, false, i64::from(i32::MIN), i64::from(i32::MAX))
                    .ok_or_else(|| err(K, format!("malformed offset '{offset_s}'")))?
                    as i32,
            )
        };
        let mut t = ByteTest {
            nbytes,
            negated,
            op,
            value: test_value,
            offset,
            relative: false,
            endian: Endian::Big,
            big_given: false,
            string: false,
            base: 0,
            dce: false,
            bitmask: None,
        };
        for opt in &parts[4..] {
            let lower = opt.to_ascii_lowercase();
            if *opt == "relative" {
                t.relative = true;
            } else if lower == "string" {
                t.string = true;
            } else if lower == "dec" {
                t.base |= 10;
            } else if lower == "hex" {
                t.base |= 16;
            } else if lower == "oct" {
                t.base |= 8;
            } else if lower == "big" {
                t.endian = Endian::Big;
                t.big_given = true;
            } else if lower == "little" {
                t.endian = Endian::Little;
            } else if lower == "dce" {
                t.dce = true;
            } else if lower.starts_with("bitmask") {
                t.bitmask = Some(parse_bitmask(K, &opt["bitmask".len()..])?);
            } else {
                return Err(err(K, format!("unknown option '{opt}'")));
            }
        }
        if let Some(n) = nbytes_num {
            if !nbytes_ok(t.string, n as i64) {
                return Err(err(
                    K,
                    if t.string {
                        format!("cannot test more than 23 bytes with string ({n})")
                    } else {
                        format!("cannot test more than 8 bytes without string ({n})")
                    },
                ));
            }
            if !t.string && t.base != 0 {
                return Err(err(K, "a base (hex/dec/oct) needs string"));
            }
        }
        if t.dce && (t.string || t.big_given || t.endian == Endian::Little || t.base != 0) {
            return Err(err(
                K,
                "dce cannot be combined with string, big, little or a base",
            ));
        }
        Ok(t)
    }
}

/// Where `byte_jump` jumps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JumpFrom {
    /// From the end of the bytes read (the default).
    #[default]
    Current,
    /// `from_beginning`: from the buffer start.
    Beginning,
    /// `from_end`: from the buffer end.
    End,
}

/// `byte_jump`: `nbytes, offset[, relative][, multiplier N][, big|little]
/// [, string[, hex|dec|oct]][, align][, from_beginning|from_end]
/// [, post_offset N][, dce][, bitmask MASK]` (`detect-bytejump.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteJump {
    /// Bytes to read (1-8, or up to 23 with `string`), or a variable.
    pub nbytes: NumOrVar<u8>,
    /// Where to read (-65535..=65535), or a variable.
    pub offset: NumOrVar<i32>,
    /// `relative`.
    pub relative: bool,
    /// `multiplier` (1-65535).
    pub multiplier: u16,
    /// Byte order for binary reads.
    pub endian: Endian,
    /// `big` was given (only checked against `dce`).
    pub big_given: bool,
    /// `string`.
    pub string: bool,
    /// `strtoull` base for `string`.
    pub base: Base,
    /// `align`: round the jump up to a multiple of 4.
    pub align: bool,
    /// Where the jump starts.
    pub from: JumpFrom,
    /// `post_offset` (-65535..=65535).
    pub post_offset: i32,
    /// `dce`.
    pub dce: bool,
    /// `bitmask` (documented by Suricata; see the module notes).
    pub bitmask: Option<u32>,
}

impl ByteJump {
    /// Parses a `byte_jump` value.
    pub fn parse(value: &str) -> Result<ByteJump, KeywordError> {
        const K: &str = "byte_jump";
        let parts: Vec<&str> = value
            .split(',')
            .map(|p| p.trim_matches(c_isspace_char))
            .collect();
        if parts.len() < 2 {
            return Err(err(K, format!("needs nbytes and offset: '{value}'")));
        }
        if parts.len() > 11 {
            return Err(err(K, "too many options (at most 9 after the offset)"));
        }
        let nbytes_s = parts[0];
        let (nbytes, nbytes_num) = if is_var_name(nbytes_s) {
            (NumOrVar::Var(nbytes_s.to_string()), None)
        } else {
            let n = parse_unsigned(nbytes_s, 10, u64::from(u32::MAX))
                .ok_or_else(|| err(K, format!("malformed number of bytes '{nbytes_s}'")))?;
            (NumOrVar::Num(n.min(255) as u8), Some(n))
        };
        let offset_s = parts[1];
        let offset = if is_var_name(offset_s) {
            NumOrVar::Var(offset_s.to_string())
        } else {
            NumOrVar::Num(
                parse_signed(offset_s, 10, true, -65535, 65535).ok_or_else(|| {
                    err(
                        K,
                        format!("malformed offset '{offset_s}' (-65535 to 65535)"),
                    )
                })? as i32,
            )
        };
        let mut j = ByteJump {
            nbytes,
            offset,
            relative: false,
            multiplier: 1,
            endian: Endian::Big,
            big_given: false,
            string: false,
            base: 0,
            align: false,
            from: JumpFrom::Current,
            post_offset: 0,
            dce: false,
            bitmask: None,
        };
        let (mut begin, mut end) = (false, false);
        for opt in &parts[2..] {
            let lower = opt.to_ascii_lowercase();
            if *opt == "relative" {
                j.relative = true;
            } else if lower == "string" {
                j.string = true;
            } else if lower == "dec" {
                j.base |= 10;
            } else if lower == "hex" {
                j.base |= 16;
            } else if lower == "oct" {
                j.base |= 8;
            } else if lower == "big" {
                j.endian = Endian::Big;
                j.big_given = true;
            } else if lower == "little" {
                j.endian = Endian::Little;
            } else if lower == "from_beginning" {
                begin = true;
            } else if lower == "from_end" {
                end = true;
            } else if lower == "align" {
                j.align = true;
            } else if lower == "dce" {
                j.dce = true;
            } else if let Some(v) = strip_word(opt, &lower, "multiplier") {
                j.multiplier = parse_unsigned(v, 10, 65535)
                    .filter(|m| *m >= 1)
                    .ok_or_else(|| err(K, format!("malformed multiplier '{v}' (1 to 65535)")))?
                    as u16;
            } else if let Some(v) = strip_word(opt, &lower, "post_offset") {
                j.post_offset = parse_signed(v, 10, true, -65535, 65535).ok_or_else(|| {
                    err(K, format!("malformed post_offset '{v}' (-65535 to 65535)"))
                })? as i32;
            } else if let Some(v) = strip_word(opt, &lower, "bitmask") {
                j.bitmask = Some(parse_bitmask(K, v)?);
            } else {
                return Err(err(K, format!("unknown option '{opt}'")));
            }
        }
        if begin && end {
            return Err(err(K, "from_end and from_beginning cannot both be used"));
        }
        j.from = if begin {
            JumpFrom::Beginning
        } else if end {
            JumpFrom::End
        } else {
            JumpFrom::Current
        };
        if let Some(n) = nbytes_num
            && !nbytes_ok(j.string, n as i64)
        {
            return Err(err(
                K,
                if j.string {
                    format!("cannot read more than 23 bytes with string ({n})")
                } else {
                    format!("cannot read more than 8 bytes without string ({n})")
                },
            ));
        }
        if !j.string && j.base != 0 {
            return Err(err(K, "a base (hex/dec/oct) needs string"));
        }
        if j.dce
            && (j.string
                || j.big_given
                || j.endian == Endian::Little
                || begin
                || end
                || j.base != 0)
        {
            return Err(err(
                K,
                "dce cannot be combined with string, big, little, from_beginning, from_end or a base",
            ));
        }
        Ok(j)
    }
}

/// `"name value"` options: the word, blanks, then the value (the value is
/// returned; `None` when `opt` is not that word followed by blanks).
fn strip_word<'a>(opt: &'a str, lower: &str, word: &str) -> Option<&'a str> {
    if !lower.starts_with(word) {
        return None;
    }
    let rest = &opt[word.len()..];
    let v = rest.trim_start_matches(c_isspace_char);
    (v.len() < rest.len() && !v.is_empty()).then_some(v)
}

/// `byte_extract`'s and `byte_math`'s byte order, which can defer to DCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtractEndian {
    /// Big endian (the default).
    #[default]
    Big,
    /// Little endian.
    Little,
    /// `dce`: from the DCE/RPC header.
    Dce,
}

/// `byte_extract`: `nbytes, offset, name[, relative][, multiplier N]
/// [, big|little|dce][, string[, hex|dec|oct]][, align 2|4]`
/// (Suricata's `rust/src/detect/byte_extract.rs` and
/// `detect-byte-extract.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteExtract {
    /// Bytes to read.
    pub nbytes: u8,
    /// Where to read (-32768..=32767).
    pub offset: i32,
    /// The variable the value is stored in.
    pub name: String,
    /// `relative`.
    pub relative: bool,
    /// `multiplier` (1-65535).
    pub multiplier: u16,
    /// Byte order (binary reads).
    pub endian: ExtractEndian,
    /// `string`.
    pub string: bool,
    /// `strtoull` base for `string` (10 unless `hex`/`oct` is given).
    pub base: Base,
    /// `align 2|4`: round up to that boundary.
    pub align: Option<u8>,
    /// `bitmask` (not a Suricata option for byte_extract; see the module
    /// notes).
    pub bitmask: Option<u32>,
}

impl ByteExtract {
    /// Parses a `byte_extract` value.
    pub fn parse(value: &str) -> Result<ByteExtract, KeywordError> {
        const K: &str = "byte_extract";
        let parts: Vec<&str> = value
            .split(',')
            .map(|p| p.trim_matches(c_isspace_char))
            .collect();
        if parts.len() < 3 || parts.len() > 10 {
            return Err(err(
                K,
                format!("needs nbytes, offset and a name, with at most 7 options: '{value}'"),
            ));
        }
        let nbytes: u8 = parts[0]
            .parse()
            .map_err(|_| err(K, format!("invalid nbytes value '{}'", parts[0])))?;
        let offset: i32 = parts[1]
            .parse()
            .map_err(|_| err(K, format!("invalid offset value '{}'", parts[1])))?;
        if offset < i32::from(i16::MIN) || offset > i32::from(i16::MAX) {
            return Err(err(
                K,
                format!("offset {offset} is not between -32768 and 32767"),
            ));
        }
        let name = parts[2];
        if name.is_empty() || name.contains(c_isspace_char) || name.parse::<u64>().is_ok() {
            return Err(err(K, format!("invalid variable name '{name}'")));
        }
        let mut e = ByteExtract {
            nbytes,
            offset,
            name: name.to_string(),
            relative: false,
            multiplier: 1,
            endian: ExtractEndian::Big,
            string: false,
            base: 10,
            align: None,
            bitmask: None,
        };
        let (mut endian_set, mut base_set, mut mult_set) = (false, false, false);
        for opt in &parts[3..] {
            let (word, val) = match opt.find(c_isspace_char) {
                Some(i) => (&opt[..i], opt[i..].trim_matches(c_isspace_char)),
                None => (*opt, ""),
            };
            let no_value = |e: ByteExtract| -> Result<ByteExtract, KeywordError> {
                if val.is_empty() {
                    Ok(e)
                } else {
                    Err(err(K, format!("unexpected value after '{word}'")))
                }
            };
            match word {
                "relative" => {
                    if e.relative {
                        return Err(err(K, "relative already set"));
                    }
                    e.relative = true;
                    e = no_value(e)?;
                }
                "multiplier" => {
                    if mult_set {
                        return Err(err(K, "multiplier already set"));
                    }
                    let m: u32 = val
                        .parse()
                        .map_err(|_| err(K, format!("invalid multiplier value '{val}'")))?;
                    if m == 0 || m > 65535 {
                        return Err(err(K, format!("multiplier {m} is not between 1 and 65535")));
                    }
                    e.multiplier = m as u16;
                    mult_set = true;
                }
                "big" | "little" | "dce" => {
                    if endian_set {
                        return Err(err(K, "endianness already set"));
                    }
                    e.endian = match word {
                        "big" => ExtractEndian::Big,
                        "little" => ExtractEndian::Little,
                        _ => ExtractEndian::Dce,
                    };
                    endian_set = true;
                    e = no_value(e)?;
                }
                "string" => {
                    if e.string {
                        return Err(err(K, "string already set"));
                    }
                    if base_set {
                        return Err(err(K, "base given before string; use \"string, base\""));
                    }
                    e.string = true;
                    e = no_value(e)?;
                }
                "hex" | "dec" | "oct" => {
                    if !e.string {
                        return Err(err(K, "string must be given before a base"));
                    }
                    if base_set {
                        return Err(err(K, "base already set"));
                    }
                    e.base = match word {
                        "hex" => 16,
                        "oct" => 8,
                        _ => 10,
                    };
                    base_set = true;
                    e = no_value(e)?;
                }
                "align" => {
                    if e.align.is_some() {
                        return Err(err(K, "align already set"));
                    }
                    let a: u8 = val
                        .parse()
                        .map_err(|_| err(K, format!("invalid align value '{val}'")))?;
                    if a != 2 && a != 4 {
                        return Err(err(K, format!("align must be 2 or 4, not {a}")));
                    }
                    e.align = Some(a);
                }
                "bitmask" => {
                    if e.bitmask.is_some() {
                        return Err(err(K, "bitmask already set"));
                    }
                    e.bitmask = Some(parse_bitmask(K, val)?);
                }
                "slice" => return Err(err(K, "slice is not supported")),
                _ => return Err(err(K, format!("unknown option '{opt}'"))),
            }
        }
        if e.string && endian_set {
            return Err(err(
                K,
                if e.endian == ExtractEndian::Dce {
                    "dce cannot be combined with string"
                } else {
                    "string cannot be combined with big or little"
                },
            ));
        }
        let max = if e.string {
            match e.base {
                8 => 23,
                16 => 14,
                _ => 20,
            }
        } else {
            8
        };
        if e.nbytes > max {
            return Err(err(
                K,
                format!(
                    "cannot extract more than {max} bytes{}",
                    if e.string {
                        " with this string base"
                    } else {
                        " without string"
                    }
                ),
            ));
        }
        Ok(e)
    }
}

/// `byte_math` operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (a zero divisor never matches)
    Div,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// `byte_math`: `bytes N, offset N, oper OP, rvalue N|var, result name
/// [, relative][, endian big|little|dce][, string hex|dec|oct][, dce]
/// [, bitmask MASK]`, in any order (`rust/src/detect/byte_math.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteMath {
    /// Bytes to read (1-10), or a variable.
    pub nbytes: NumOrVar<u8>,
    /// Where to read (-65535..=65535).
    pub offset: i32,
    /// The operation.
    pub oper: MathOp,
    /// The right operand (a u32 number, or a variable).
    pub rvalue: NumOrVar<u32>,
    /// The variable the result is stored in.
    pub result: String,
    /// `relative`.
    pub relative: bool,
    /// Byte order (binary reads).
    pub endian: ExtractEndian,
    /// `string <base>`: the base (None for binary reads).
    pub string: Option<Base>,
    /// `bitmask` (hex), applied to the result, then a right shift by its
    /// trailing zeros.
    pub bitmask: Option<u32>,
}

impl ByteMath {
    /// Parses a `byte_math` value.
    pub fn parse(value: &str) -> Result<ByteMath, KeywordError> {
        const K: &str = "byte_math";
        let parts: Vec<&str> = value
            .split(',')
            .map(|p| p.trim_matches(c_isspace_char))
            .collect();
        if parts.len() < 5 || parts.len() > 10 {
            return Err(err(
                K,
                format!(
                    "needs bytes, offset, oper, rvalue and result, with at most 5 options: '{value}'"
                ),
            ));
        }
        let (mut nbytes, mut offset, mut oper, mut rvalue, mut result) =
            (None, None, None, None, None);
        let mut m = ByteMath {
            nbytes: NumOrVar::Num(0),
            offset: 0,
            oper: MathOp::Add,
            rvalue: NumOrVar::Num(0),
            result: String::new(),
            relative: false,
            endian: ExtractEndian::Big,
            string: None,
            bitmask: None,
        };
        let mut endian_set = false;
        for opt in &parts {
            let (word, val) = match opt.find(c_isspace_char) {
                Some(i) => (&opt[..i], opt[i..].trim_matches(c_isspace_char)),
                None => (*opt, ""),
            };
            let need = |what: &str| -> Result<(), KeywordError> {
                if val.is_empty() {
                    Err(err(K, format!("{what} needs a value")))
                } else {
                    Ok(())
                }
            };
            match word {
                "bytes" => {
                    need("bytes")?;
                    if nbytes.is_some() {
                        return Err(err(K, "bytes already set"));
                    }
                    nbytes = Some(if is_var_name(val) {
                        NumOrVar::Var(val.to_string())
                    } else {
                        let n: u8 = val
                            .parse()
                            .map_err(|_| err(K, format!("invalid bytes value '{val}'")))?;
                        if !(1..=10).contains(&n) {
                            return Err(err(K, format!("bytes must be between 1 and 10, not {n}")));
                        }
                        NumOrVar::Num(n)
                    });
                }
                "offset" => {
                    need("offset")?;
                    if offset.is_some() {
                        return Err(err(K, "offset already set"));
                    }
                    let o: i32 = val
                        .parse()
                        .map_err(|_| err(K, format!("invalid offset value '{val}'")))?;
                    if !(-65535..=65535).contains(&o) {
                        return Err(err(
                            K,
                            format!("offset {o} is not between -65535 and 65535"),
                        ));
                    }
                    offset = Some(o);
                }
                "oper" => {
                    need("oper")?;
                    if oper.is_some() {
                        return Err(err(K, "oper already set"));
                    }
                    oper = Some(match val {
                        "+" => MathOp::Add,
                        "-" => MathOp::Sub,
                        "*" => MathOp::Mul,
                        "/" => MathOp::Div,
                        "<<" => MathOp::Shl,
                        ">>" => MathOp::Shr,
                        _ => return Err(err(K, format!("unknown oper '{val}'"))),
                    });
                }
                "rvalue" => {
                    need("rvalue")?;
                    if rvalue.is_some() {
                        return Err(err(K, "rvalue already set"));
                    }
                    rvalue = Some(match val.parse::<u64>() {
                        Ok(v) if v <= u64::from(u32::MAX) => NumOrVar::Num(v as u32),
                        Ok(v) => {
                            return Err(err(K, format!("rvalue {v} is larger than {}", u32::MAX)));
                        }
                        Err(_) => NumOrVar::Var(val.to_string()),
                    });
                }
                "result" => {
                    need("result")?;
                    if result.is_some() {
                        return Err(err(K, "result already set"));
                    }
                    if !is_var_name(val) {
                        return Err(err(
                            K,
                            format!("result must be a variable name, not '{val}'"),
                        ));
                    }
                    result = Some(val.to_string());
                }
                "endian" | "dce" => {
                    if endian_set {
                        return Err(err(K, "endianness already set"));
                    }
                    m.endian = if word == "dce" {
                        if !val.is_empty() {
                            return Err(err(K, "dce takes no value"));
                        }
                        ExtractEndian::Dce
                    } else {
                        match val {
                            "big" => ExtractEndian::Big,
                            "little" => ExtractEndian::Little,
                            "dce" => ExtractEndian::Dce,
                            _ => return Err(err(K, format!("invalid endian value '{val}'"))),
                        }
                    };
                    endian_set = true;
                }
                "string" => {
                    if m.string.is_some() {
                        return Err(err(K, "string already set"));
                    }
                    m.string = Some(match val {
                        "hex" => 16,
                        "oct" => 8,
                        "dec" => 10,
                        _ => {
                            return Err(err(
                                K,
                                format!("invalid string value '{val}' (hex, dec or oct)"),
                            ));
                        }
                    });
                }
                "relative" => {
                    if m.relative || !val.is_empty() {
                        return Err(err(K, "relative already set or given a value"));
                    }
                    m.relative = true;
                }
                "bitmask" => {
                    need("bitmask")?;
                    if m.bitmask.is_some() {
                        return Err(err(K, "bitmask already set"));
                    }
                    let h = val
                        .strip_prefix("0x")
                        .or_else(|| val.strip_prefix("0X"))
                        .unwrap_or(val);
                    m.bitmask = Some(
                        u32::from_str_radix(h, 16)
                            .map_err(|_| err(K, format!("invalid bitmask value '{val}'")))?,
                    );
                }
                _ => return Err(err(K, format!("unknown option '{opt}'"))),
            }
        }
        let (Some(n), Some(o), Some(op), Some(rv), Some(res)) =
            (nbytes, offset, oper, rvalue, result)
        else {
            return Err(err(
                K,
                "bytes, offset, oper, rvalue and result are all required",
            ));
        };
        if let (NumOrVar::Num(n), MathOp::Shl | MathOp::Shr) = (&n, op)
            && *n > 4
        {
            return Err(err(
                K,
                format!("bytes must be 1 to 4 with << or >>, not {n}"),
            ));
        }
        if m.endian == ExtractEndian::Dce {
            if m.string.is_some() {
                return Err(err(K, "dce cannot be combined with string"));
            }
            if let NumOrVar::Num(n) = &n
                && !matches!(n, 1 | 2 | 4)
            {
                return Err(err(K, format!("bytes must be 1, 2 or 4 with dce, not {n}")));
            }
        }
        m.nbytes = n;
        m.offset = o;
        m.oper = op;
        m.rvalue = rv;
        m.result = res;
        Ok(m)
    }
}

/// `fast_pattern`'s argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPattern {
    /// `fast_pattern;`
    Plain,
    /// `fast_pattern:only;`
    Only,
    /// `fast_pattern:offset,length;`: use that slice of the pattern.
    Chop {
        /// Start of the slice.
        offset: u16,
        /// Length of the slice.
        length: u16,
    },
}

impl FastPattern {
    /// Parses a `fast_pattern` argument (`None` or empty for the plain form).
    pub fn parse(value: Option<&str>) -> Result<FastPattern, KeywordError> {
        const K: &str = "fast_pattern";
        let Some(v) = value
            .map(|v| v.trim_matches(c_isspace_char))
            .filter(|v| !v.is_empty())
        else {
            return Ok(FastPattern::Plain);
        };
        if v == "only" {
            return Ok(FastPattern::Only);
        }
        let Some((a, b)) = v.split_once(',') else {
            return Err(err(
                K,
                format!("invalid argument '{v}' (only, or offset,length)"),
            ));
        };
        let (a, b) = (
            a.trim_matches(c_isspace_char),
            b.trim_matches(c_isspace_char),
        );
        let num = |s: &str| -> Result<u16, KeywordError> {
            if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err(K, format!("invalid chop value '{s}'")));
            }
            parse_unsigned(s, 10, u64::from(u16::MAX))
                .map(|v| v as u16)
                .ok_or_else(|| err(K, format!("invalid chop value '{s}'")))
        };
        let (offset, length) = (num(a)?, num(b)?);
        if u32::from(offset) + u32::from(length) > 65535 {
            return Err(err(K, "offset + length exceeds 65535"));
        }
        Ok(FastPattern::Chop { offset, length })
    }
}

/// `depth`/`offset`: a u16 (Suricata's `StringParseUint16`, base 0) or a
/// variable.
pub fn parse_depth_offset(
    keyword: &'static str,
    value: &str,
) -> Result<NumOrVar<u16>, KeywordError> {
    let v = value.trim_matches(c_isspace_char);
    if v.is_empty() {
        return Err(err(keyword, "missing value"));
    }
    if is_var_name(v) {
        return Ok(NumOrVar::Var(v.to_string()));
    }
    parse_unsigned(v, 0, u64::from(u16::MAX))
        .map(|n| NumOrVar::Num(n as u16))
        .ok_or_else(|| err(keyword, format!("invalid value '{v}' (0 to 65535)")))
}

/// `distance`/`within`: an i32 within ±1 MiB (Suricata's
/// `StringParseI32RangeCheck`, base 0, which ignores trailing text) or a
/// variable.
pub fn parse_distance_within(
    keyword: &'static str,
    value: &str,
) -> Result<NumOrVar<i32>, KeywordError> {
    let v = value.trim_matches(c_isspace_char);
    if v.is_empty() {
        return Err(err(keyword, "missing value"));
    }
    if is_var_name(v) {
        return Ok(NumOrVar::Var(v.to_string()));
    }
    let max = i64::from(CONTENT_VALUE_MAX);
    parse_signed(v, 0, false, -max, max)
        .map(|n| NumOrVar::Num(n as i32))
        .ok_or_else(|| err(keyword, format!("invalid value '{v}' (-{max} to {max})")))
}
