//! Shared by the pcre tests: libpcre2 itself as the oracle (through
//! `pcre2-sys`, built from its bundled source), compiled the way Suricata
//! compiles a rule's regex, an extractor for `pcre` values in rule files,
//! and haystack generators.
#![allow(dead_code, unsafe_code)]

use std::ffi::c_int;
use std::ptr;

use mirador_detect::pcre::{Flags, Pcre, PcreSpec};
use pcre2_sys::*;

/// A regex compiled by libpcre2.
pub struct Oracle {
    code: *mut pcre2_code_8,
    md: *mut pcre2_match_data_8,
    mctx: *mut pcre2_match_context_8,
}

/// A libpcre2 compile error: code and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileError {
    pub code: i32,
    pub offset: usize,
}

impl CompileError {
    pub fn message(&self) -> String {
        let mut buf = [0u8; 256];
        // SAFETY: buf is writable for its length.
        let n = unsafe { pcre2_get_error_message_8(self.code, buf.as_mut_ptr(), buf.len()) };
        String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned()
    }
}

/// Our error code for a libpcre2 match outside the subject.
pub const ORACLE_OUT_OF_BOUNDS: i32 = -10_000;

/// PCRE2's "reference to non-existent subpattern".
const ERR_NONEXISTENT: i32 = 115;

/// The libpcre2 version, e.g. "10.46 2025-08-27".
pub fn pcre2_version() -> String {
    let mut buf = [0u8; 64];
    // SAFETY: PCRE2_CONFIG_VERSION writes a NUL-terminated string of at
    // most 24 code units into a buffer we own.
    unsafe { pcre2_config_8(PCRE2_CONFIG_VERSION, buf.as_mut_ptr().cast()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

impl Oracle {
    fn compile_raw(pattern: &[u8], options: u32) -> Result<Oracle, CompileError> {
        let mut code: c_int = 0;
        let mut offset: usize = 0;
        // SAFETY: pattern is valid for its length; the out pointers are ours.
        let re = unsafe {
            pcre2_compile_8(
                pattern.as_ptr(),
                pattern.len(),
                options,
                &mut code,
                &mut offset,
                ptr::null_mut(),
            )
        };
        if re.is_null() {
            return Err(CompileError { code, offset });
        }
        // SAFETY: re is a valid compiled pattern.
        let md = unsafe { pcre2_match_data_create_from_pattern_8(re, ptr::null_mut()) };
        // SAFETY: plain allocation.
        let mctx = unsafe { pcre2_match_context_create_8(ptr::null_mut()) };
        assert!(!md.is_null() && !mctx.is_null());
        // Generous limits: the oracle should answer, not give up.
        // SAFETY: mctx is valid.
        unsafe {
            pcre2_set_match_limit_8(mctx, 10_000_000);
            pcre2_set_depth_limit_8(mctx, 10_000_000);
        }
        Ok(Oracle { code: re, md, mctx })
    }

    /// Compiles as Suricata's DetectPcreParse does: the rule's flags,
    /// PCRE2_NO_AUTO_CAPTURE unless the rule captures into variables, and a
    /// retry without it on error 115.
    pub fn suricata(spec: &PcreSpec) -> Result<Oracle, CompileError> {
        let f: Flags = spec.flags;
        let mut opts = 0u32;
        for (on, bit) in [
            (f.anchored, PCRE2_ANCHORED),
            (f.dollar_endonly, PCRE2_DOLLAR_ENDONLY),
            (f.ungreedy, PCRE2_UNGREEDY),
            (f.caseless, PCRE2_CASELESS),
            (f.multiline, PCRE2_MULTILINE),
            (f.dotall, PCRE2_DOTALL),
            (f.extended, PCRE2_EXTENDED),
        ] {
            if on {
                opts |= bit;
            }
        }
        let pat = spec.pattern.as_bytes();
        if spec.capture_vars.is_empty() {
            match Oracle::compile_raw(pat, opts | PCRE2_NO_AUTO_CAPTURE) {
                Err(e) if e.code == ERR_NONEXISTENT => Oracle::compile_raw(pat, opts),
                r => r,
            }
        } else {
            Oracle::compile_raw(pat, opts)
        }
    }

    /// `pcre2_match` at `start`: the match span, or the (negative) error.
    pub fn find_at(&self, h: &[u8], start: usize) -> Result<Option<(usize, usize)>, i32> {
        // libpcre2 10.46 reads past the end of an empty subject for
        // /.{2}+/s (and reports a match there): give it readable padding.
        let mut padded = Vec::with_capacity(h.len() + 64);
        padded.extend_from_slice(h);
        padded.resize(h.len() + 64, 0);
        // SAFETY: code/md/mctx are valid; padded is valid for h.len() bytes
        // and more.
        let rc = unsafe {
            pcre2_match_8(
                self.code,
                padded.as_ptr(),
                h.len(),
                start,
                0,
                self.md,
                self.mctx,
            )
        };
        if rc == PCRE2_ERROR_NOMATCH {
            return Ok(None);
        }
        if rc < 0 {
            return Err(rc);
        }
        // SAFETY: after a successful match the ovector holds at least one
        // pair.
        let ov = unsafe { std::slice::from_raw_parts(pcre2_get_ovector_pointer_8(self.md), 2) };
        if ov[1] > h.len() || ov[0] > h.len() {
            // libpcre2 10.46 reports (0,2) for /.{2}+|/s on an empty
            // subject: not an answer to compare with.
            return Err(ORACLE_OUT_OF_BOUNDS);
        }
        Ok(Some((ov[0], ov[1])))
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // SAFETY: each pointer was allocated by PCRE2 and is freed once.
        unsafe {
            pcre2_match_data_free_8(self.md);
            pcre2_match_context_free_8(self.mctx);
            pcre2_code_free_8(self.code);
        }
    }
}

/// The values of every `pcre` option in `text` (rule lines, commented-out
/// rules included): from `pcre:` to the next `;` not escaped by `\`, as
/// Suricata splits options (a value may hold unescaped quotes).
pub fn extract_pcre_values(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let b = line.as_bytes();
        let mut i = 0;
        while let Some(k) = line[i..].find("pcre:") {
            let j = i + k;
            // An option name starts after '(' or ';' and spaces.
            let before = line[..j].trim_end();
            let at_option = before.ends_with('(') || before.ends_with(';');
            let mut e = j + 5;
            if at_option {
                while e < b.len() {
                    if b[e] == b'\\' {
                        e += 2;
                        continue;
                    }
                    if b[e] == b';' {
                        break;
                    }
                    e += 1;
                }
                let e = e.min(b.len());
                out.push(line[j + 5..e].to_owned());
            }
            i = e.min(b.len());
        }
    }
    out
}

/// A deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

pub fn fnv(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The byte runs of the pattern that look like literal text (escapes
/// `\xHH` decoded), to seed haystacks.
pub fn literals(pattern: &str) -> Vec<Vec<u8>> {
    let p = pattern.as_bytes();
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    let flush = |cur: &mut Vec<u8>, out: &mut Vec<Vec<u8>>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    while i < p.len() {
        let c = p[i];
        if c == b'\\' && i + 1 < p.len() {
            let d = p[i + 1];
            if d == b'x' && i + 3 < p.len() {
                let h = std::str::from_utf8(&p[i + 2..i + 4]).ok();
                if let Some(v) = h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    cur.push(v);
                    i += 4;
                    continue;
                }
            }
            if !d.is_ascii_alphanumeric() {
                cur.push(d);
            } else {
                flush(&mut cur, &mut out);
            }
            i += 2;
            continue;
        }
        if b"[](){}|*+?.^$".contains(&c) {
            flush(&mut cur, &mut out);
        } else {
            cur.push(c);
        }
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

/// `count` haystacks for a compiled pattern: samples from the pattern
/// (exact for plain patterns), literals from its text, and mutations
/// that move newlines, flip case, truncate and embed.
pub fn haystacks(re: &Pcre, pattern: &str, seed: u64, count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let lits = literals(pattern);
    let mut out: Vec<Vec<u8>> = Vec::new();
    let noise = |rng: &mut Rng, n: usize, ascii: bool| -> Vec<u8> {
        (0..n)
            .map(|_| {
                if ascii {
                    const ALPHA: &[u8] = b" \r\nAaZz09_-/.:;=%\"'<>\t";
                    ALPHA[rng.below(ALPHA.len())]
                } else {
                    rng.next() as u8
                }
            })
            .collect()
    };
    while out.len() < count {
        let k = out.len();
        let mut h = match k % 10 {
            0..=4 => re.sample(seed ^ (k as u64).wrapping_mul(0x1000_0001)),
            5 | 6 if !lits.is_empty() => {
                let mut v = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    v.extend_from_slice(&lits[rng.below(lits.len())]);
                    if rng.below(2) == 0 {
                        let n = rng.below(4);
                        v.extend(noise(&mut rng, n, true));
                    }
                }
                v
            }
            7 => {
                let n = rng.below(40);
                let ascii = rng.next().is_multiple_of(2);
                noise(&mut rng, n, ascii)
            }
            _ => {
                let mut a = re.sample(rng.next());
                a.extend(re.sample(rng.next()));
                a
            }
        };
        // Mutations.
        match rng.below(9) {
            0 => {
                let n = rng.below(8);
                let mut p = noise(&mut rng, n, true);
                p.extend_from_slice(&h);
                h = p;
            }
            1 => {
                let n = rng.below(8);
                h.extend(noise(&mut rng, n, false));
            }
            2 => {
                for b in h.iter_mut() {
                    if rng.below(3) == 0 {
                        *b = if b.is_ascii_lowercase() {
                            b.to_ascii_uppercase()
                        } else {
                            b.to_ascii_lowercase()
                        };
                    }
                }
            }
            3 => h.push(b'\n'),
            4 if !h.is_empty() => {
                let at = rng.below(h.len() + 1);
                h.insert(at, b'\n');
            }
            5 if !h.is_empty() => {
                let n = rng.below(h.len());
                h.truncate(n);
            }
            6 if !h.is_empty() => {
                let at = rng.below(h.len());
                h[at] = rng.next() as u8;
            }
            7 => {
                h.extend_from_slice(b"\r\n");
            }
            _ => {}
        }
        out.push(h);
    }
    out
}

/// A search where we and libpcre2 differ: haystack, start, ours, pcre2's.
pub type Disagreement = (
    Vec<u8>,
    usize,
    Option<(usize, usize)>,
    Option<(usize, usize)>,
);

/// The outcome of comparing one expression with libpcre2.
#[derive(Debug, Default)]
pub struct Compared {
    /// (haystack, start, ours, pcre's) where they differ.
    pub disagreements: Vec<Disagreement>,
    /// Searches where fancy-regex reached its backtrack limit.
    pub our_limit: usize,
    /// Searches where PCRE reported an error (its own limits).
    pub pcre_error: usize,
    /// Searches that matched (per PCRE).
    pub matched: usize,
    pub searches: usize,
}

/// Runs `count` generated haystacks through both, at offset 0 and at a
/// random offset.
pub fn compare(re: &Pcre, oracle: &Oracle, seed: u64, count: usize) -> Compared {
    let mut c = Compared::default();
    let mut rng = Rng::new(seed ^ 0x5555);
    for h in haystacks(re, &re.spec().pattern, seed, count) {
        let starts = [0, rng.below(h.len() + 1)];
        for &start in starts.iter().take(if h.is_empty() { 1 } else { 2 }) {
            c.searches += 1;
            let want = match oracle.find_at(&h, start) {
                Ok(w) => w,
                Err(_) => {
                    c.pcre_error += 1;
                    continue;
                }
            };
            if want.is_some() {
                c.matched += 1;
            }
            match re.try_find_at(&h, start) {
                Ok(got) => {
                    if got != want {
                        c.disagreements.push((h.clone(), start, got, want));
                    }
                }
                Err(_) => c.our_limit += 1,
            }
        }
    }
    c
}

/// Printable form of a haystack.
pub fn show(h: &[u8]) -> String {
    h.iter()
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect()
}
