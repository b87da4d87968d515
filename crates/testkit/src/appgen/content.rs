//! The pieces of a rule the generator satisfies, and a small content
//! matcher to check that it did.
//!
//! [`decode_content`] reads a `content` value (`|hex|` runs, `\"`, `\;`,
//! `\\`, `\:` escapes). [`Cm`] is one content with the modifiers the
//! generator understands; [`Step`] adds `pcre` and the end anchor that
//! `isdataat:!1,relative` puts after a content. [`matches`] runs a buffer's
//! steps with Suricata's content-inspection semantics (a cursor at the end
//! of the last match; `distance`/`within` measured from it, `within`
//! counted from cursor + distance as Suricata does; `depth` counted from
//! `offset`; backtracking of earlier contents when a later relative step
//! fails; negated contents leave the cursor alone). It is written here,
//! not borrowed from `mirador-detect`, so that the generator is a check on
//! the engine rather than its mirror; Suricata is the final judge (see the
//! generator's validation in `BENCHMARKS.md`).

use regex::bytes::Regex;

/// Decodes a `content` value as written between the quotes: `|41 42|` hex
/// runs and the escapes `\"`, `\;`, `\\`, `\:`. `None` when malformed.
pub fn decode_content(raw: &str) -> Option<Vec<u8>> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut hex = false;
    let mut nib: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if hex {
            match c {
                b'|' => {
                    if nib.is_some() {
                        return None;
                    }
                    hex = false;
                }
                b' ' | b'\t' => {}
                _ => {
                    let v = (c as char).to_digit(16)? as u8;
                    match nib.take() {
                        Some(h) => out.push(h << 4 | v),
                        None => nib = Some(v),
                    }
                }
            }
            i += 1;
            continue;
        }
        match c {
            b'|' => hex = true,
            b'\\' => {
                let n = *b.get(i + 1)?;
                if !matches!(n, b'"' | b';' | b'\\' | b':') {
                    return None;
                }
                out.push(n);
                i += 1;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    (!hex && !out.is_empty()).then_some(out)
}

/// An integer range from `bsize`/`urilen` syntax: `N`, `<N`, `>N`,
/// `N<>M` (exclusive bounds, as Suricata's `DetectU32` parses them).
pub fn parse_range(s: &str) -> Option<(usize, usize)> {
    let s = s.trim();
    let num = |t: &str| t.trim().parse::<usize>().ok();
    if let Some((a, b)) = s.split_once("<>") {
        let (a, b) = (num(a)?, num(b)?);
        return (b > a + 1).then_some((a + 1, b - 1));
    }
    if let Some(r) = s.strip_prefix("<=") {
        return Some((0, num(r)?));
    }
    if let Some(r) = s.strip_prefix(">=") {
        return Some((num(r)?, usize::MAX));
    }
    if let Some(r) = s.strip_prefix('<') {
        return Some((0, num(r)?.checked_sub(1)?));
    }
    if let Some(r) = s.strip_prefix('>') {
        return Some((num(r)? + 1, usize::MAX));
    }
    let n = num(s)?;
    Some((n, n))
}

/// One `content` with its modifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cm {
    /// The pattern.
    pub bytes: Vec<u8>,
    /// `nocase`.
    pub nocase: bool,
    /// `content:!"..."`.
    pub negated: bool,
    /// `offset`.
    pub offset: Option<usize>,
    /// `depth`.
    pub depth: Option<usize>,
    /// `distance`.
    pub distance: Option<i64>,
    /// `within`.
    pub within: Option<usize>,
    /// `startswith`.
    pub startswith: bool,
    /// `endswith` (or `isdataat:!1,relative` right after it).
    pub endswith: bool,
}

impl Cm {
    /// Relative to the previous match.
    pub fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
    /// Placed by offset, depth or startswith.
    pub fn anchored(&self) -> bool {
        self.offset.is_some() || self.depth.is_some() || self.startswith
    }
}

/// A `pcre` reduced to what the check needs.
#[derive(Debug, Clone)]
pub struct Pcre {
    /// The compiled pattern (byte regex, Unicode off).
    pub re: Regex,
    /// `pcre:!"..."`.
    pub negated: bool,
    /// `/R`: from the cursor.
    pub relative: bool,
    /// A string the pattern matches ([`sample_regex`]), when one was found.
    pub sample: Option<Vec<u8>>,
    /// The pattern starts with `^`.
    pub anchored: bool,
}

/// One inspection step of a buffer.
#[derive(Debug, Clone)]
pub enum Step {
    /// A content.
    Content(Cm),
    /// A pcre.
    Pcre(Pcre),
}

/// Does `buf` satisfy `steps` (and the size range, if any)?
pub fn matches(steps: &[Step], size: Option<(usize, usize)>, buf: &[u8]) -> bool {
    if let Some((lo, hi)) = size
        && (buf.len() < lo || buf.len() > hi)
    {
        return false;
    }
    let mut budget = 20_000u32;
    run(steps, 0, 0, buf, &mut budget)
}

fn eq(a: &[u8], b: &[u8], nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Candidate start positions of `c` at `cursor`, in order.
fn window(c: &Cm, cursor: usize, len: usize) -> Option<(usize, usize)> {
    let plen = c.bytes.len();
    // [lo, hi): where the match may lie (start >= lo, end <= hi).
    let (lo, mut hi) = if c.relative() {
        let d = c.distance.unwrap_or(0);
        let lo = if d < 0 {
            cursor.saturating_sub(d.unsigned_abs() as usize)
        } else {
            cursor + d as usize
        };
        let hi = match c.within {
            Some(w) => (cursor as i64 + d + w as i64).max(0) as usize,
            None => len,
        };
        (lo, hi)
    } else if c.startswith {
        (0, plen)
    } else {
        let lo = c.offset.unwrap_or(0);
        let hi = c.depth.map_or(len, |d| lo + d);
        (lo, hi)
    };
    hi = hi.min(len);
    if c.endswith {
        if hi < len || len < plen || len - plen < lo {
            return None;
        }
        return Some((len - plen, len - plen));
    }
    if hi < lo + plen {
        return None;
    }
    Some((lo, hi - plen))
}

fn run(steps: &[Step], i: usize, cursor: usize, buf: &[u8], budget: &mut u32) -> bool {
    let Some(step) = steps.get(i) else {
        return true;
    };
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match step {
        Step::Content(c) => {
            let plen = c.bytes.len();
            let found = window(c, cursor, buf.len())
                .and_then(|(a, b)| (a..=b).find(|&s| eq(&buf[s..s + plen], &c.bytes, c.nocase)));
            if c.negated {
                return found.is_none() && run(steps, i + 1, cursor, buf, budget);
            }
            let Some((a, b)) = window(c, cursor, buf.len()) else {
                return false;
            };
            for s in a..=b {
                if eq(&buf[s..s + plen], &c.bytes, c.nocase)
                    && run(steps, i + 1, s + plen, buf, budget)
                {
                    return true;
                }
                if *budget == 0 {
                    return false;
                }
            }
            false
        }
        Step::Pcre(p) => {
            let start = if p.relative { cursor.min(buf.len()) } else { 0 };
            let hay = &buf[start..];
            match p.re.find(hay) {
                Some(m) if !p.negated => run(steps, i + 1, start + m.end(), buf, budget),
                None if p.negated => run(steps, i + 1, cursor, buf, budget),
                _ => false,
            }
        }
    }
}

/// Compiles a rule's `pcre` value (`/re/flags`, quotes removed) for the
/// check. Returns the pcre (not negated), and the buffer letters among its
/// flags (Suricata's `U`, `H`, `P`, ...). `None` when the pattern cannot be
/// expressed with the `regex` crate (back-references, look-around): such
/// rules are skipped.
pub fn compile_pcre(value: &str) -> Option<(Pcre, Vec<char>)> {
    let value = value.trim();
    let body = value.strip_prefix('/')?;
    let end = body.rfind('/')?;
    let (pat, flags) = (&body[..end], &body[end + 1..]);
    let mut inline = String::from("(?");
    let mut relative = false;
    let mut bufs = Vec::new();
    for f in flags.chars() {
        match f {
            'i' | 's' | 'm' | 'x' => inline.push(f),
            'R' => relative = true,
            'U' | 'I' | 'H' | 'D' | 'M' | 'C' | 'K' | 'S' | 'Y' | 'V' | 'W' | 'Z' | 'P' | 'Q' => {
                bufs.push(f)
            }
            // Anchoring and greediness flags the check approximates.
            'O' | 'B' | 'G' | 'E' | 'A' => {
                if f == 'A' {
                    return None;
                }
            }
            _ => return None,
        }
    }
    inline.push_str("-u)");
    let full = format!("{inline}{pat}");
    let re = Regex::new(&full).ok()?;
    let sample = sample_regex(&full).filter(|s| re.is_match(s));
    let pcre = Pcre {
        re,
        negated: false,
        relative,
        sample,
        anchored: pat.starts_with('^'),
    };
    Some((pcre, bufs))
}

/// A short string `pattern` matches: literals as written, the first
/// repetition count, the first alternative, and from each class the first
/// of lowercase letters, digits, uppercase letters, `-_./=`, then any
/// printable byte, then any byte. Look-arounds are ignored (the caller
/// checks the sample against the regex). `None` when the pattern does not
/// parse.
pub fn sample_regex(pattern: &str) -> Option<Vec<u8>> {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn pick(ranges: impl Iterator<Item = (u32, u32)> + Clone) -> Option<u8> {
        let has = |b: u8| {
            ranges
                .clone()
                .any(|(lo, hi)| (lo..=hi).contains(&u32::from(b)))
        };
        let prefs = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_./=";
        prefs
            .iter()
            .copied()
            .chain(0x21..0x7f)
            .chain(0..=255)
            .find(|&b| has(b))
    }
    fn walk(h: &Hir, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > 64 || out.len() > 4096 {
            return None;
        }
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(l) => out.extend_from_slice(&l.0),
            HirKind::Class(Class::Bytes(c)) => {
                out.push(pick(
                    c.ranges()
                        .iter()
                        .map(|r| (u32::from(r.start()), u32::from(r.end()))),
                )?);
            }
            HirKind::Class(Class::Unicode(c)) => {
                out.push(pick(
                    c.ranges()
                        .iter()
                        .map(|r| (r.start() as u32, r.end() as u32)),
                )?);
            }
            HirKind::Repetition(r) => {
                for _ in 0..r.min.min(256) {
                    walk(&r.sub, out, depth + 1)?;
                }
            }
            HirKind::Capture(c) => walk(&c.sub, out, depth + 1)?,
            HirKind::Concat(hs) => {
                for x in hs {
                    walk(x, out, depth + 1)?;
                }
            }
            HirKind::Alternation(hs) => {
                let mut done = false;
                for x in hs {
                    let mark = out.len();
                    if walk(x, out, depth + 1).is_some() {
                        done = true;
                        break;
                    }
                    out.truncate(mark);
                }
                if !done {
                    return None;
                }
            }
        }
        Some(())
    }
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut out = Vec::new();
    walk(&hir, &mut out, 0)?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(b: &[u8]) -> Cm {
        Cm {
            bytes: b.to_vec(),
            ..Cm::default()
        }
    }

    #[test]
    fn decodes_hex_and_escapes() {
        assert_eq!(decode_content("a|3a 20|b").unwrap(), b"a: b");
        assert_eq!(decode_content(r#"x\"y\;z"#).unwrap(), b"x\"y;z");
        assert_eq!(decode_content("|0d0a|").unwrap(), b"\r\n");
        assert!(decode_content("|3|").is_none());
        assert!(decode_content("|zz|").is_none());
        assert!(decode_content("").is_none());
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("5"), Some((5, 5)));
        assert_eq!(parse_range("<5"), Some((0, 4)));
        assert_eq!(parse_range(">5"), Some((6, usize::MAX)));
        assert_eq!(parse_range("3<>6"), Some((4, 5)));
        assert_eq!(parse_range("x"), None);
    }

    #[test]
    fn relative_and_anchors() {
        let steps = vec![
            Step::Content(c(b"ab")),
            Step::Content(Cm {
                distance: Some(1),
                within: Some(3),
                ..c(b"cd")
            }),
        ];
        assert!(matches(&steps, None, b"abxcd"));
        // within counts from cursor + distance, as in Suricata.
        assert!(matches(&steps, None, b"abxxcd"));
        assert!(!matches(&steps, None, b"abxxxcd"));
        // backtracking: the second "ab" makes it.
        assert!(matches(&steps, None, b"abzzzzabxcd"));
        let ends = vec![Step::Content(Cm {
            endswith: true,
            nocase: true,
            ..c(b".com")
        })];
        assert!(matches(&ends, None, b"x.COM"));
        assert!(!matches(&ends, None, b"x.com."));
        let starts = vec![Step::Content(Cm {
            startswith: true,
            ..c(b"GET")
        })];
        assert!(matches(&starts, None, b"GET /"));
        assert!(!matches(&starts, None, b" GET /"));
        let deep = vec![Step::Content(Cm {
            offset: Some(2),
            depth: Some(3),
            ..c(b"abc")
        })];
        assert!(matches(&deep, None, b"xxabc"));
        assert!(!matches(&deep, None, b"xxxabc"));
        let neg = vec![
            Step::Content(c(b"a")),
            Step::Content(Cm {
                negated: true,
                ..c(b"b")
            }),
        ];
        assert!(matches(&neg, None, b"ac"));
        assert!(!matches(&neg, None, b"acb"));
        assert!(!matches(&neg, Some((3, 3)), b"ac"));
    }

    #[test]
    fn pcre_check() {
        let (p, bufs) = compile_pcre(r"/^\/[a-z]+\.php$/Ui").unwrap();
        assert!(!p.relative && p.anchored);
        assert_eq!(bufs, ['U']);
        assert_eq!(p.sample.as_deref(), Some(&b"/a.php"[..]));
        let steps = vec![Step::Pcre(p)];
        assert!(matches(&steps, None, b"/Gate.php"));
        assert!(!matches(&steps, None, b"/gate.php?x"));
        assert!(compile_pcre(r"/(a)\1/").is_none());
        let (p, _) = compile_pcre(r"/^\d{4}(?:foo|bar)[^\r\n]{2,}\x2e/R").unwrap();
        assert!(p.relative);
        assert_eq!(p.sample.as_deref(), Some(&b"0000fooaa."[..]));
    }
}
