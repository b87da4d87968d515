//! Suricata's `pcre` keyword: the option value parsed, the PCRE pattern
//! translated to a Rust engine whose matches are PCRE's, and the search.
//!
//! Suricata hands the regex to libpcre2 in 8-bit mode without UTF or UCP,
//! with the default ("C" locale) character tables, LF as the newline, and
//! `PCRE2_NO_AUTO_CAPTURE` (retrying without it when a back reference needs
//! the numbered groups). This module reads the pattern with the same rules
//! and writes it for one of two engines:
//!
//! * the `regex` crate (`regex::bytes`, Unicode off: a byte is a byte) when
//!   every construct has an exact counterpart there: linear time, no limit
//!   needed;
//! * `fancy-regex` when the pattern needs backtracking features (back
//!   references, lookaround, atomic groups, possessive quantifiers, `\G`,
//!   `\K`, and anchors whose PCRE meaning needs a lookaround). It runs over
//!   a Latin-1 view of the haystack (byte `b` is char `U+00b`), so it sees
//!   bytes, never UTF-8; its backtracking is bounded by
//!   [`PcreConfig::backtrack_limit`], and a search that reaches the limit
//!   counts as no match (and is counted, see [`Pcre::limit_hits`]) as in
//!   Suricata, where a PCRE error is no match.
//!
//! What neither engine runs exactly is refused with
//! [`PcreError::Unsupported`] naming the construct: the translation never
//! changes what matches. The crate's differential tests compare every
//! accepted ET Open expression against libpcre2 itself.
//!
//! Semantics worth knowing, all PCRE's:
//! * `$` matches at the end and before a final newline (`\z` with `E`,
//!   before any newline with `m`); `^` with `m` does not match after a
//!   newline that ends the subject;
//! * `\b`, `\w`, `\d`, `\s` (which includes VT) and POSIX classes are ASCII;
//!   `i` folds ASCII letters only; `.` is any byte but `\n` (any with `s`);
//!   `\h`/`\v` are classes (with NBSP/NEL), not the VT character;
//! * `{,n}` and spaces inside `{}` mean different things before and after
//!   PCRE2 10.43, so are refused, as are variable-length lookbehinds;
//! * PCRE2 ends an unbounded loop at an iteration that matched empty where
//!   the Rust engines drop that iteration: loops whose body may match empty
//!   before matching text are refused (lazy ones and those whose empty
//!   match is the last resort agree);
//! * PCRE2's auto-possessification misjudges a few escape pairs without
//!   UCP (`\S+\h` never matches "a\xa0"), and optional possessive groups
//!   after a repeat: such patterns are refused rather than imitated;
//! * caseless back references (fancy-regex compares exactly) run over the
//!   ASCII-lowercased haystack when nothing else in the pattern tells the
//!   cases apart, and are refused otherwise.
//!
//! Match limits differ: Suricata caps PCRE at 3500 steps by default (`O`
//! lifts it to the configured value), which makes libpcre2 give up (no
//! match) on some inputs where these engines, linear or with a far larger
//! budget, find the match PCRE2 finds when left to finish.

mod byteset;
mod emit;
mod option;
mod syntax;

use std::sync::atomic::{AtomicU64, Ordering};

pub use option::{Buffer, Flags, PcreSpec};

use emit::{EmitError, Mode};
use syntax::{Node, Options, ParseError};

/// Limits for compiling and running a [`Pcre`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcreConfig {
    /// fancy-regex: backtracking steps one search may take before it gives
    /// up (counted as no match).
    pub backtrack_limit: usize,
    /// The regex crate's compiled-program size limit, in bytes (also for
    /// fancy-regex's delegated parts).
    pub size_limit: usize,
    /// The regex crate's lazy DFA cache limit, in bytes.
    pub dfa_size_limit: usize,
    /// The longest pattern accepted, in bytes.
    pub max_pattern_len: usize,
    /// The largest pattern accepted, counting each repeat's copies.
    pub max_weight: u64,
}

impl Default for PcreConfig {
    fn default() -> Self {
        PcreConfig {
            backtrack_limit: 1_000_000,
            size_limit: 8 << 20,
            dfa_size_limit: 2 << 20,
            max_pattern_len: 32 << 10,
            max_weight: 200_000,
        }
    }
}

/// Which engine runs a compiled [`Pcre`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The `regex` crate: linear time.
    Regex,
    /// `fancy-regex`: backtracking, bounded by the backtrack limit.
    Fancy,
}

/// Why a `pcre` value was not compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcreError {
    /// The option value is malformed: delimiters, quoting, modifiers.
    Option(String),
    /// The pattern is not valid PCRE2 (libpcre2 refuses it too).
    Invalid {
        /// Byte offset in the pattern.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// Valid PCRE that has no exact translation (yet).
    Unsupported {
        /// Byte offset in the pattern.
        offset: usize,
        /// The construct, a stable short description.
        construct: &'static str,
    },
    /// The pattern exceeds the configured size bounds.
    TooLarge(String),
    /// The engine refused the translation (a bug in the translation).
    Backend(String),
}

impl std::fmt::Display for PcreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcreError::Option(m) => write!(f, "pcre: {m}"),
            PcreError::Invalid { offset, message } => {
                write!(f, "pcre: invalid regex at offset {offset}: {message}")
            }
            PcreError::Unsupported { offset, construct } => {
                write!(f, "pcre: unsupported at offset {offset}: {construct}")
            }
            PcreError::TooLarge(m) => write!(f, "pcre: too large: {m}"),
            PcreError::Backend(m) => write!(f, "pcre: translation refused by the engine: {m}"),
        }
    }
}

impl std::error::Error for PcreError {}

/// A search that reached the backtrack limit (Suricata: a PCRE error,
/// which never matches, negated or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitExceeded;

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pcre: backtrack limit exceeded")
    }
}

impl std::error::Error for LimitExceeded {}

enum Engine {
    Regex {
        re: regex::bytes::Regex,
        /// The pattern has `$` marker groups (see [`emit`]).
        markers: bool,
    },
    Fancy {
        re: fancy_regex::Regex,
        /// Search the ASCII-lowercased haystack (see [`emit`]).
        fold_case: bool,
    },
}

/// A compiled `pcre` keyword.
pub struct Pcre {
    spec: PcreSpec,
    engine: Engine,
    translated: String,
    fancy_reason: Option<&'static str>,
    root: Node,
    limit_hits: AtomicU64,
}

impl std::fmt::Debug for Pcre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcre")
            .field("spec", &self.spec)
            .field("backend", &self.backend())
            .field("translated", &self.translated)
            .finish()
    }
}

fn from_parse(e: ParseError) -> PcreError {
    match e {
        ParseError::Invalid { offset, message } => PcreError::Invalid { offset, message },
        ParseError::Unsupported { offset, construct } => {
            PcreError::Unsupported { offset, construct }
        }
        ParseError::NonexistentGroup { offset } => PcreError::Invalid {
            offset,
            message: "reference to non-existent subpattern".into(),
        },
    }
}

impl Pcre {
    /// Parses and compiles a `pcre` option value with the default limits.
    pub fn new(value: &str) -> Result<Pcre, PcreError> {
        Pcre::with_config(value, &PcreConfig::default())
    }

    /// Parses and compiles a `pcre` option value.
    pub fn with_config(value: &str, config: &PcreConfig) -> Result<Pcre, PcreError> {
        Pcre::compile(PcreSpec::parse(value)?, config)
    }

    /// Compiles a parsed value.
    pub fn compile(spec: PcreSpec, config: &PcreConfig) -> Result<Pcre, PcreError> {
        let pattern = spec.pattern.as_bytes();
        if pattern.len() > config.max_pattern_len {
            return Err(PcreError::TooLarge(format!(
                "pattern of {} bytes (limit {})",
                pattern.len(),
                config.max_pattern_len
            )));
        }
        let f = spec.flags;
        let mut opts = Options {
            caseless: f.caseless,
            multiline: f.multiline,
            dotall: f.dotall,
            extended: f.extended,
            extended_more: false,
            ungreedy: f.ungreedy,
            no_auto_capture: spec.capture_vars.is_empty(),
            dollar_endonly: f.dollar_endonly,
        };
        let parsed = match syntax::parse(pattern, opts) {
            Err(ParseError::NonexistentGroup { .. }) if opts.no_auto_capture => {
                // Suricata's retry on PCRE2 error 115.
                opts.no_auto_capture = false;
                syntax::parse(pattern, opts)
            }
            other => other,
        }
        .map_err(from_parse)?;
        let weight = emit::weight(&parsed.root);
        if weight > config.max_weight {
            return Err(PcreError::TooLarge(format!(
                "pattern expands to about {weight} items (limit {})",
                config.max_weight
            )));
        }
        let (engine, translated, fancy_reason) =
            match emit::emit(&parsed.root, Mode::Regex, f.anchored) {
                Ok(e) => {
                    let re = regex::bytes::RegexBuilder::new(&e.pattern)
                        .unicode(false)
                        .size_limit(config.size_limit)
                        .dfa_size_limit(config.dfa_size_limit)
                        .nest_limit(1000)
                        .build()
                        .map_err(|err| match err {
                            regex::Error::CompiledTooBig(n) => {
                                PcreError::TooLarge(format!("compiled program over {n} bytes"))
                            }
                            other => PcreError::Backend(other.to_string()),
                        })?;
                    (
                        Engine::Regex {
                            re,
                            markers: e.dollar_markers > 0,
                        },
                        e.pattern,
                        None,
                    )
                }
                Err(EmitError::NeedsFancy(why)) => {
                    let e = emit::emit(&parsed.root, Mode::Fancy, f.anchored).map_err(|e| {
                        PcreError::Unsupported {
                            offset: 0,
                            construct: match e {
                                EmitError::NeedsFancy(c) | EmitError::Unsupported(c) => c,
                            },
                        }
                    })?;
                    let re = fancy_regex::RegexBuilder::new(&e.pattern)
                        .backtrack_limit(config.backtrack_limit)
                        .delegate_size_limit(config.size_limit)
                        .delegate_dfa_size_limit(config.dfa_size_limit)
                        .build()
                        .map_err(|err| PcreError::Backend(err.to_string()))?;
                    (
                        Engine::Fancy {
                            re,
                            fold_case: e.fold_case,
                        },
                        e.pattern,
                        Some(why),
                    )
                }
                Err(EmitError::Unsupported(c)) => {
                    return Err(PcreError::Unsupported {
                        offset: 0,
                        construct: c,
                    });
                }
            };
        Ok(Pcre {
            spec,
            engine,
            translated,
            fancy_reason,
            root: parsed.root,
            limit_hits: AtomicU64::new(0),
        })
    }

    /// The parsed option value.
    pub fn spec(&self) -> &PcreSpec {
        &self.spec
    }

    /// The PCRE compile flags.
    pub fn flags(&self) -> Flags {
        self.spec.flags
    }

    /// `R`: the search starts where the previous match ended.
    pub fn relative(&self) -> bool {
        self.spec.relative
    }

    /// `pcre:!"..."`.
    pub fn negated(&self) -> bool {
        self.spec.negated
    }

    /// The HTTP buffer a modifier selects, if any.
    pub fn buffer(&self) -> Option<Buffer> {
        self.spec.buffer
    }

    /// The engine that runs the pattern.
    pub fn backend(&self) -> Backend {
        match self.engine {
            Engine::Regex { .. } => Backend::Regex,
            Engine::Fancy { .. } => Backend::Fancy,
        }
    }

    /// Why the pattern needs fancy-regex (`None` on the regex crate).
    pub fn fancy_reason(&self) -> Option<&'static str> {
        self.fancy_reason
    }

    /// The pattern as given to the engine.
    pub fn translated(&self) -> &str {
        &self.translated
    }

    /// How many searches reached the backtrack limit so far.
    pub fn limit_hits(&self) -> u64 {
        self.limit_hits.load(Ordering::Relaxed)
    }

    /// The first match at or after `start`, as PCRE's `pcre2_match` with
    /// `start_offset = start` finds it: `(match start, match end)`. The
    /// bytes before `start` are context (lookbehind, `\b`, `^` with `m`);
    /// `\A`/`^` match only at 0. For Suricata's relative (`R`) search,
    /// pass the buffer sliced at the previous match's end. `start` past the
    /// end: `Ok(None)`.
    pub fn try_find_at(
        &self,
        haystack: &[u8],
        start: usize,
    ) -> Result<Option<(usize, usize)>, LimitExceeded> {
        if start > haystack.len() {
            return Ok(None);
        }
        let found = match &self.engine {
            Engine::Regex { re, markers } => {
                let Some(m) = re.find_at(haystack, start) else {
                    return Ok(None);
                };
                let mut end = m.end();
                if *markers && end == haystack.len() && haystack.last() == Some(&b'\n') {
                    // A `$` may have held before the final newline: the
                    // marker group says whether it consumed it.
                    if let Some(c) = re.captures_at(haystack, start)
                        && (1..c.len()).any(|i| c.get(i).is_some())
                    {
                        end -= 1;
                    }
                }
                // PCRE2_ANCHORED (fancy-regex has `\G` in front instead:
                // with `\K` the reported start may lie further on).
                if self.spec.flags.anchored && m.start() != start {
                    return Ok(None);
                }
                Some((m.start(), end))
            }
            Engine::Fancy { re, fold_case } => match if *fold_case {
                fancy_find(re, &haystack.to_ascii_lowercase(), start)
            } else {
                fancy_find(re, haystack, start)
            } {
                Ok(m) => m,
                Err(e) => {
                    self.limit_hits.fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            },
        };
        Ok(found)
    }

    /// [`try_find_at`](Self::try_find_at), a search at the limit being no
    /// match.
    pub fn find_at(&self, haystack: &[u8], start: usize) -> Option<(usize, usize)> {
        self.try_find_at(haystack, start).ok().flatten()
    }

    /// Whether the regex matches anywhere in `haystack` (ignoring the
    /// keyword's negation).
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        match &self.engine {
            Engine::Regex { re, .. } if !self.spec.flags.anchored => re.is_match(haystack),
            _ => self.find_at(haystack, 0).is_some(),
        }
    }

    /// The keyword's verdict as Suricata gives it: a match (or, negated,
    /// no match) from `start`; a search at the limit is false either way.
    pub fn inspect(&self, haystack: &[u8], start: usize) -> bool {
        match self.try_find_at(haystack, start) {
            Ok(Some(_)) => !self.spec.negated,
            Ok(None) => self.spec.negated,
            Err(LimitExceeded) => false,
        }
    }

    /// A haystack generated from the pattern (deterministic in `seed`):
    /// one the pattern is likely to match, for tests, fuzzing and rule QA.
    pub fn sample(&self, seed: u64) -> Vec<u8> {
        let mut rng = emit::Rng::new(seed);
        let mut out = Vec::new();
        emit::sample(&self.root, &mut rng, &mut out, &mut Vec::new(), 0);
        out
    }
}

/// Runs fancy-regex over the Latin-1 view of `h`.
fn fancy_find(
    re: &fancy_regex::Regex,
    h: &[u8],
    start: usize,
) -> Result<Option<(usize, usize)>, LimitExceeded> {
    if h.is_ascii()
        && let Ok(s) = std::str::from_utf8(h)
    {
        return re
            .find_from_pos(s, start)
            .map(|m| m.map(|m| (m.start(), m.end())))
            .map_err(|_| LimitExceeded);
    }
    let s: String = h.iter().map(|&b| char::from(b)).collect();
    let ustart = start + h[..start].iter().filter(|&&b| b >= 0x80).count();
    let m = re.find_from_pos(&s, ustart).map_err(|_| LimitExceeded)?;
    Ok(m.map(|m| {
        let s = byte_offset(h, m.start());
        (s, byte_offset(h, m.end()))
    }))
}

/// The haystack offset of UTF-8 offset `u` in its Latin-1 view.
fn byte_offset(h: &[u8], u: usize) -> usize {
    let mut acc = 0usize;
    for (i, &b) in h.iter().enumerate() {
        if acc >= u {
            return i;
        }
        acc += if b < 0x80 { 1 } else { 2 };
    }
    h.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(v: &str, h: &[u8]) -> Option<(usize, usize)> {
        Pcre::new(v).unwrap().find_at(h, 0)
    }

    #[test]
    fn shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Pcre>();
        send_sync::<PcreError>();
    }

    #[test]
    fn backends_and_reasons() {
        let re = Pcre::new(r#""/^GET \/[a-z]+\.php$/Ui""#).unwrap();
        assert_eq!(re.backend(), Backend::Regex);
        assert_eq!(re.buffer(), Some(Buffer::HttpUri));
        assert_eq!(re.fancy_reason(), None);
        let re = Pcre::new(r#""/(?<=x)y/R""#).unwrap();
        assert_eq!(re.backend(), Backend::Fancy);
        assert_eq!(re.fancy_reason(), Some("lookbehind"));
        assert!(re.relative());
        assert!(format!("{re:?}").contains("Fancy"));
        let e = Pcre::new(r#""/(?R)/""#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pcre: unsupported at offset 0: recursion or subroutine call"
        );
    }

    #[test]
    fn samples_match_plain_patterns() {
        let re = Pcre::new(r#""/^ab{2,4}[c-e]+(?:x|yz)\d$/s""#).unwrap();
        for seed in 0..50 {
            let h = re.sample(seed);
            assert!(re.is_match(&h), "{h:?}");
        }
    }

    #[test]
    fn basics() {
        assert_eq!(find("\"/abc/\"", b"xxabcx"), Some((2, 5)));
        assert_eq!(find("\"/abc$/\"", b"abc\n"), Some((0, 3)));
        assert_eq!(find("\"/$/\"", b"a\n"), Some((1, 1)));
        assert_eq!(find("\"/a\\xe9/\"", b"a\xe9"), Some((0, 2)));
        assert_eq!(find("\"/(a)\\1\\xe9/\"", b"\xe9aa\xe9"), Some((1, 4)));
        assert_eq!(byte_offset(b"a\xe9b", 3), 2);
    }
}
