//! The prefilter: one multi-pattern search over a buffer picks the rules
//! worth verifying.
//!
//! Each rule of a group contributes its fast pattern (the `fast_pattern`
//! content, else its longest content, as Suricata chooses); rules without
//! one are always candidates. Identical patterns are searched once and map
//! to every rule that uses them.
//!
//! ## Why not one aho-corasick automaton
//!
//! The first version ran aho-corasick (overlapping search, since a pattern
//! inside another pattern's match must still make its rule a candidate)
//! over each group's patterns. With ET Open's ≈ 2,000 fast patterns per
//! large group the automaton's transition table is megabytes, every byte
//! costs a cache miss, and the search ran at 58–120 MB/s (BENCHMARKS.md);
//! aho-corasick's SIMD prefilter (Teddy) only covers small, case-sensitive
//! sets. Suricata gets its speed from Hyperscan, a C++ library this
//! project does not link. No Rust crate offers a many-pattern *existence*
//! filter, so the search here is hand-written, in the spirit of
//! Hyperscan's FDR and of Rabin–Karp:
//!
//! - **Patterns of 4 bytes or more** (97% of ET Open's) are each given an
//!   *anchor*, their 4-byte window made of the rarest bytes. At every
//!   position of the buffer the 4 bytes there, case-folded by `| 0x20`, are
//!   hashed and looked up in a bitmap of the anchors' hashes, small enough
//!   to stay in L1/L2 cache (64 bits per pattern). Only on a hit is the
//!   hash's bucket read and each of its patterns compared in full at the
//!   position the anchor implies. Folding with `| 0x20` lets one bitmap
//!   serve case-sensitive and `nocase` patterns; it merges some unrelated
//!   bytes too (`\0` with space), which only costs a comparison.
//! - **Shorter patterns** are few (61 distinct in ET Open): single bytes
//!   go to memchr, two and three bytes to a bitmap of byte pairs.
//!
//! Every position is examined, so overlapping and repeated occurrences are
//! all found; a pattern already found in this buffer is not compared
//! again.
//!
//! A search allocates nothing: [`Candidates`] is reused, and a generation
//! stamp replaces clearing the per-rule and per-pattern "seen" marks.

use std::collections::HashMap;

/// A rule's contribution to a group's prefilter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The rule (an index the caller chooses, below the group's rule count).
    pub rule: u32,
    /// Its fast pattern and whether it is `nocase`; `None` = always a
    /// candidate.
    pub pattern: Option<(Vec<u8>, bool)>,
}

/// Why a prefilter could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "prefilter: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

/// Patterns at least this long go to the anchored search.
const ANCHOR: usize = 4;

/// Bitmap bits per anchored pattern: with 64, a group's bitmap is about
/// 1.5% full, so about one position in 60 of unrelated bytes costs a bucket
/// lookup.
const BITS_PER_PATTERN: usize = 64;

/// How common a byte is in traffic, roughly (higher = more common), for
/// picking anchors: zeros, `0xff`, whitespace, line ends, lower-case text,
/// digits and URL punctuation are everywhere; upper-case letters, other
/// punctuation and other binary bytes less so.
fn commonness(b: u8) -> u32 {
    match b {
        0x00 | b' ' => 8,
        0xff | b'\r' | b'\n' => 6,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 5,
        b'a'..=b'z' | b'0'..=b'9' => 4,
        b'/' | b'.' | b':' | b'=' | b'&' | b'-' | b'_' | b'%' => 4,
        0x01..=0x08 => 3,
        b'A'..=b'Z' => 2,
        _ => 1,
    }
}

/// The offset of the anchor in `p` (at least [`ANCHOR`] bytes): the window
/// of least common bytes, the first such.
fn anchor_of(p: &[u8]) -> usize {
    let mut best = (u32::MAX, 0);
    for (i, w) in p.windows(ANCHOR).enumerate() {
        let score: u32 = w.iter().map(|&b| commonness(b)).sum();
        if score < best.0 {
            best = (score, i);
        }
    }
    best.1
}

/// Folds four bytes as the search does: `| 0x20` on each byte maps ASCII
/// upper case onto lower case (and merges some other byte pairs, which
/// only costs a comparison).
#[inline(always)]
fn folded(w: [u8; 4]) -> u32 {
    u32::from_le_bytes(w) | 0x2020_2020
}

/// A pattern of the anchored search.
#[derive(Debug, Clone)]
struct Anchored {
    /// Its bytes in [`Long::pool`].
    start: u32,
    len: u32,
    /// The anchor's offset in the pattern.
    anchor: u32,
    nocase: bool,
    /// Its id in the group's pattern numbering.
    id: u32,
    /// The hash of its anchor (buckets hold several hash values).
    hash: u32,
}

/// The search for patterns of [`ANCHOR`] bytes or more.
#[derive(Debug, Clone)]
struct Long {
    /// One bit per anchor hash value.
    bits: Vec<u64>,
    /// `32 - log2(bits in the bitmap)`: the hash is the top bits of a
    /// multiplicative hash.
    shift: u32,
    /// Hash → the patterns of its bucket, `pats[buckets[b]..buckets[b +
    /// 1]]` with `b = h >> BUCKET_SHIFT`: a bucket per hash value would
    /// cost 256 bytes per pattern, and port groups carry copies of the
    /// any-port patterns.
    buckets: Vec<u32>,
    pats: Vec<Anchored>,
    /// Every pattern's bytes, lower-cased for `nocase` ones.
    pool: Vec<u8>,
}

const HASH_MUL: u32 = 0x9e37_79b1;

/// Hash values per bucket, as a shift: 8 values, so about one pattern in
/// eight bitmap bits, 32 bytes of bucket index per pattern.
const BUCKET_SHIFT: u32 = 3;

impl Long {
    fn build(patterns: &[(Vec<u8>, bool, u32)]) -> Option<Long> {
        if patterns.is_empty() {
            return None;
        }
        let want = (patterns.len() * BITS_PER_PATTERN).next_power_of_two();
        let log2 = want.trailing_zeros().clamp(10, 24);
        let shift = 32 - log2;
        let hash = |w: [u8; 4]| (folded(w).wrapping_mul(HASH_MUL) >> shift) as usize;
        let mut bits = vec![0u64; (1usize << log2) / 64];
        let mut pool = Vec::new();
        let mut keyed: Vec<(usize, Anchored)> = patterns
            .iter()
            .map(|(p, nocase, id)| {
                let anchor = anchor_of(p);
                let w = [p[anchor], p[anchor + 1], p[anchor + 2], p[anchor + 3]];
                let h = hash(w);
                bits[h / 64] |= 1 << (h % 64);
                let start = pool.len() as u32;
                pool.extend_from_slice(p);
                (
                    h,
                    Anchored {
                        start,
                        len: p.len() as u32,
                        anchor: anchor as u32,
                        nocase: *nocase,
                        id: *id,
                        hash: h as u32,
                    },
                )
            })
            .collect();
        keyed.sort_by_key(|(h, a)| (*h, a.id));
        let mut buckets = vec![0u32; (1usize << (log2 - BUCKET_SHIFT)) + 1];
        for (h, _) in &keyed {
            buckets[(h >> BUCKET_SHIFT) + 1] += 1;
        }
        for i in 1..buckets.len() {
            buckets[i] += buckets[i - 1];
        }
        Some(Long {
            bits,
            shift,
            buckets,
            pats: keyed.into_iter().map(|(_, a)| a).collect(),
            pool,
        })
    }

    /// Looks at position `at`, whose four bytes folded are `x`.
    #[inline(always)]
    fn check(&self, hay: &[u8], at: usize, x: u32, seen: &mut Seen, found: &mut impl FnMut(u32)) {
        let h = (x.wrapping_mul(HASH_MUL) >> self.shift) as usize;
        if self.bits[h / 64] & (1 << (h % 64)) != 0 {
            self.verify(hay, at, h, seen, found);
        }
    }

    #[cold]
    fn verify(
        &self,
        hay: &[u8],
        at: usize,
        h: usize,
        seen: &mut Seen,
        found: &mut impl FnMut(u32),
    ) {
        let b = h >> BUCKET_SHIFT;
        let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        for a in &self.pats[lo..hi] {
            if a.hash as usize != h || seen.is_seen(a.id) {
                continue;
            }
            let Some(start) = at.checked_sub(a.anchor as usize) else {
                continue;
            };
            let Some(window) = hay.get(start..start + a.len as usize) else {
                continue;
            };
            let p = &self.pool[a.start as usize..(a.start + a.len) as usize];
            let hit = if a.nocase {
                window.eq_ignore_ascii_case(p)
            } else {
                window == p
            };
            if hit {
                seen.mark(a.id);
                found(a.id);
            }
        }
    }
}

/// The patterns shorter than [`ANCHOR`]: single bytes are looked for with
/// memchr; two- and three-byte patterns through a bitmap of their first
/// two bytes (folded as [`folded`] does), checked at every position, then
/// compared in full. (aho-corasick's overlapping search over these few
/// patterns took half the prefilter's time: they occur everywhere.)
#[derive(Debug, Clone)]
struct Short {
    /// `(byte, nocase, id)`; `nocase` bytes lower-cased.
    single: Vec<(u8, bool, u32)>,
    /// One bit per folded byte pair; empty without 2–3-byte patterns.
    pair_bits: Vec<u64>,
    /// `(folded pair, pattern, id)` sorted by pair.
    pairs: Vec<(u16, ShortPattern, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct ShortPattern {
    bytes: [u8; 3],
    len: u8,
    nocase: bool,
}

fn folded_pair(a: u8, b: u8) -> u16 {
    u16::from_le_bytes([a, b]) | 0x2020
}

impl Short {
    fn build(patterns: &[(Vec<u8>, bool, u32)]) -> Option<Short> {
        if patterns.is_empty() {
            return None;
        }
        let mut single = Vec::new();
        let mut pairs = Vec::new();
        for (p, nocase, id) in patterns {
            match p[..] {
                [b] => single.push((b, *nocase, *id)),
                [a, b, ..] => {
                    let mut bytes = [0; 3];
                    bytes[..p.len()].copy_from_slice(p);
                    pairs.push((
                        folded_pair(a, b),
                        ShortPattern {
                            bytes,
                            len: p.len() as u8,
                            nocase: *nocase,
                        },
                        *id,
                    ));
                }
                [] => {}
            }
        }
        pairs.sort_by_key(|(k, _, id)| (*k, *id));
        let mut pair_bits = Vec::new();
        if !pairs.is_empty() {
            pair_bits = vec![0u64; 65536 / 64];
            for (k, _, _) in &pairs {
                pair_bits[usize::from(*k) / 64] |= 1 << (k % 64);
            }
        }
        Some(Short {
            single,
            pair_bits,
            pairs,
        })
    }

    /// The single-byte patterns.
    fn search_single(&self, hay: &[u8], seen: &mut Seen, found: &mut impl FnMut(u32)) {
        for &(b, nocase, id) in &self.single {
            if seen.is_seen(id) {
                continue;
            }
            let hit = if nocase && b.is_ascii_alphabetic() {
                memchr::memchr2(b, b.to_ascii_uppercase(), hay).is_some()
            } else {
                memchr::memchr(b, hay).is_some()
            };
            if hit {
                seen.mark(id);
                found(id);
            }
        }
    }

    /// Looks at position `at`, whose first two bytes folded are `k`.
    #[inline(always)]
    fn check_pair(
        &self,
        hay: &[u8],
        at: usize,
        k: u16,
        seen: &mut Seen,
        found: &mut impl FnMut(u32),
    ) {
        if self.pair_bits[usize::from(k) / 64] & (1 << (k % 64)) != 0 {
            self.verify(hay, at, k, seen, found);
        }
    }

    #[cold]
    fn verify(&self, hay: &[u8], at: usize, k: u16, seen: &mut Seen, found: &mut impl FnMut(u32)) {
        let lo = self.pairs.partition_point(|(pk, _, _)| *pk < k);
        for (pk, p, id) in &self.pairs[lo..] {
            if *pk != k {
                break;
            }
            if seen.is_seen(*id) {
                continue;
            }
            let Some(window) = hay.get(at..at + usize::from(p.len)) else {
                continue;
            };
            let pat = &p.bytes[..usize::from(p.len)];
            let hit = if p.nocase {
                window.eq_ignore_ascii_case(pat)
            } else {
                window == pat
            };
            if hit {
                seen.mark(*id);
                found(*id);
            }
        }
    }
}

/// One group's prefilter.
#[derive(Debug, Clone)]
pub struct Prefilter {
    long: Option<Long>,
    short: Option<Short>,
    /// Pattern id → rules: `rule_list[rule_start[p]..rule_start[p + 1]]`.
    rule_start: Vec<u32>,
    rule_list: Vec<u32>,
    /// Rules without a fast pattern.
    always: Vec<u32>,
    rules: usize,
}

impl Prefilter {
    /// Builds the prefilter of a group of rules numbered below `rules`.
    pub fn build(rules: usize, entries: &[Entry]) -> Result<Prefilter, BuildError> {
        // (pattern, nocase) → rules; `nocase` patterns lower-cased so that
        // their case variants are one pattern.
        let mut by_pattern: HashMap<(Vec<u8>, bool), Vec<u32>> = HashMap::new();
        let mut always = Vec::new();
        for e in entries {
            if e.rule as usize >= rules {
                return Err(BuildError(format!("rule {} out of range", e.rule)));
            }
            match &e.pattern {
                Some((p, _)) if p.is_empty() => always.push(e.rule),
                Some((p, false)) => by_pattern
                    .entry((p.clone(), false))
                    .or_default()
                    .push(e.rule),
                Some((p, true)) => by_pattern
                    .entry((p.to_ascii_lowercase(), true))
                    .or_default()
                    .push(e.rule),
                None => always.push(e.rule),
            }
        }
        // A rule listed twice, once without a pattern, is always a
        // candidate; keeping it out of the pattern lists lets the search
        // copy `always` without marking it.
        always.sort_unstable();
        always.dedup();
        for rs in by_pattern.values_mut() {
            rs.retain(|r| always.binary_search(r).is_err());
        }
        // Sorted so that the build (and the order candidates are found
        // in) is the same in every run.
        let mut patterns: Vec<_> = by_pattern.into_iter().collect();
        patterns.sort();
        let mut rule_start = vec![0u32];
        let mut rule_list = Vec::new();
        let (mut long, mut short) = (Vec::new(), Vec::new());
        for (id, ((p, nocase), mut rs)) in patterns.into_iter().enumerate() {
            let id = id as u32;
            rs.sort_unstable();
            rs.dedup();
            rule_list.extend_from_slice(&rs);
            rule_start.push(rule_list.len() as u32);
            if p.len() >= ANCHOR {
                long.push((p, nocase, id));
            } else {
                short.push((p, nocase, id));
            }
        }
        Ok(Prefilter {
            long: Long::build(&long),
            short: Short::build(&short),
            rule_start,
            rule_list,
            always,
            rules,
        })
    }

    /// Distinct patterns searched.
    pub fn patterns(&self) -> usize {
        self.rule_start.len() - 1
    }

    /// Rules that are always candidates.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// The candidates for `hay`: every rule whose fast pattern occurs in it,
    /// and every rule without one, each once, into `out` (cleared first).
    pub fn candidates(&self, hay: &[u8], out: &mut Candidates) {
        out.reset(self.rules, self.patterns());
        // No rule is both here and behind a pattern (see `build`), so these
        // need no "seen" marks: a copy is all.
        out.list.extend_from_slice(&self.always);
        let Candidates {
            seen,
            rule_seen,
            list,
            ..
        } = out;
        let generation = seen.generation;
        let mut add_rules = |p: u32| {
            let (lo, hi) = (
                self.rule_start[p as usize] as usize,
                self.rule_start[p as usize + 1] as usize,
            );
            for &r in &self.rule_list[lo..hi] {
                let slot = &mut rule_seen[r as usize];
                if *slot != generation {
                    *slot = generation;
                    list.push(r);
                }
            }
        };
        if let Some(s) = &self.short {
            s.search_single(hay, seen, &mut add_rules);
        }
        let pairs = self.short.as_ref().filter(|s| !s.pairs.is_empty());
        // One pass over the positions for both searches; the loops are
        // written out per case so that the common one has no per-byte
        // test of what exists.
        match (&self.long, pairs) {
            (Some(l), Some(s)) => {
                for (i, w) in hay.windows(ANCHOR).enumerate() {
                    let x = folded([w[0], w[1], w[2], w[3]]);
                    s.check_pair(hay, i, x as u16, seen, &mut add_rules);
                    l.check(hay, i, x, seen, &mut add_rules);
                }
            }
            (Some(l), None) => {
                for (i, w) in hay.windows(ANCHOR).enumerate() {
                    let x = folded([w[0], w[1], w[2], w[3]]);
                    l.check(hay, i, x, seen, &mut add_rules);
                }
            }
            (None, Some(s)) => {
                for (i, w) in hay
                    .windows(2)
                    .enumerate()
                    .take(hay.len().saturating_sub(ANCHOR - 1))
                {
                    s.check_pair(hay, i, folded_pair(w[0], w[1]), seen, &mut add_rules);
                }
            }
            (None, None) => {}
        }
        // The last positions, too short for an anchor, can still start a
        // byte pair.
        if let Some(s) = pairs {
            let tail = hay.len().saturating_sub(ANCHOR - 1);
            for i in tail..hay.len().saturating_sub(1) {
                s.check_pair(
                    hay,
                    i,
                    folded_pair(hay[i], hay[i + 1]),
                    seen,
                    &mut add_rules,
                );
            }
        }
    }
}

/// Per-pattern "found in this buffer" marks.
#[derive(Debug, Default, Clone)]
struct Seen {
    generation: u32,
    marks: Vec<u32>,
}

impl Seen {
    #[inline]
    fn is_seen(&self, id: u32) -> bool {
        self.marks[id as usize] == self.generation
    }

    #[inline]
    fn mark(&mut self, id: u32) {
        self.marks[id as usize] = self.generation;
    }
}

/// Candidate rules of one search, reusable across searches.
#[derive(Debug, Default, Clone)]
pub struct Candidates {
    seen: Seen,
    rule_seen: Vec<u32>,
    list: Vec<u32>,
}

impl Candidates {
    fn reset(&mut self, rules: usize, patterns: usize) {
        self.list.clear();
        self.seen.generation = self.seen.generation.wrapping_add(1);
        if self.seen.generation == 0 {
            // Wrapped: stale stamps could look current.
            self.rule_seen.iter_mut().for_each(|x| *x = 0);
            self.seen.marks.iter_mut().for_each(|x| *x = 0);
            self.seen.generation = 1;
        }
        if self.rule_seen.len() < rules {
            self.rule_seen.resize(rules, 0);
        }
        if self.seen.marks.len() < patterns {
            self.seen.marks.resize(patterns, 0);
        }
    }

    /// The candidates, in the order found.
    pub fn as_slice(&self) -> &[u32] {
        &self.list
    }

    /// The candidates sorted (rule order), for deterministic verification.
    pub fn sorted(&mut self) -> &[u32] {
        self.list.sort_unstable();
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(rule: u32, p: Option<(&str, bool)>) -> Entry {
        Entry {
            rule,
            pattern: p.map(|(s, n)| (s.as_bytes().to_vec(), n)),
        }
    }

    #[test]
    fn candidates_are_the_rules_whose_pattern_occurs_plus_the_rest() {
        let pf = Prefilter::build(
            5,
            &[
                e(0, Some(("GET /admin", false))),
                e(1, Some(("user-agent: evil", true))),
                e(2, None),
                e(3, Some(("GET /admin", false))),
                e(4, Some(("xyz", false))),
            ],
        )
        .unwrap();
        assert_eq!(pf.patterns(), 3);
        let mut c = Candidates::default();
        pf.candidates(b"GET /admin HTTP/1.1\r\nUser-Agent: EVIL\r\n", &mut c);
        assert_eq!(c.sorted(), &[0, 1, 2, 3]);
        // Case matters for case-sensitive patterns.
        pf.candidates(b"get /ADMIN", &mut c);
        assert_eq!(c.sorted(), &[2]);
        // Repeated occurrences give each rule once.
        pf.candidates(b"xyzxyzxyz GET /admin GET /admin", &mut c);
        assert_eq!(c.sorted(), &[0, 2, 3, 4]);
        // Overlapping patterns are all found.
        let pf =
            Prefilter::build(2, &[e(0, Some(("abcd", false))), e(1, Some(("bc", false)))]).unwrap();
        pf.candidates(b"xabcdx", &mut c);
        assert_eq!(c.sorted(), &[0, 1]);
    }

    #[test]
    fn reuse_across_many_searches_stays_correct() {
        let pf = Prefilter::build(2, &[e(0, Some(("a", false))), e(1, Some(("b", true)))]).unwrap();
        let mut c = Candidates::default();
        for i in 0..10_000u32 {
            let hay: &[u8] = if i % 2 == 0 { b"a" } else { b"B" };
            pf.candidates(hay, &mut c);
            assert_eq!(c.as_slice(), &[i % 2], "search {i}");
        }
    }

    #[test]
    fn out_of_range_rule_is_an_error() {
        assert!(Prefilter::build(1, &[e(1, None)]).is_err());
    }

    /// The reference: rules whose pattern occurs anywhere, by brute force.
    fn naive(entries: &[Entry], hay: &[u8]) -> Vec<u32> {
        let mut v: Vec<u32> = entries
            .iter()
            .filter(|e| match &e.pattern {
                None => true,
                Some((p, _)) if p.is_empty() => true,
                Some((p, nocase)) => hay.windows(p.len()).any(|w| {
                    if *nocase {
                        w.eq_ignore_ascii_case(p)
                    } else {
                        w == &p[..]
                    }
                }),
            })
            .map(|e| e.rule)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn long_patterns_are_found_wherever_they_lie() {
        let entries = [
            e(0, Some(("abcdefgh", false))),
            e(1, Some(("cdef", false))),
            e(2, Some(("EFGHIJ", true))),
            e(3, Some(("ZZZZ", false))),
            e(4, Some(("ab", false))),
            e(5, Some(("Q", true))),
        ];
        let pf = Prefilter::build(6, &entries).unwrap();
        let mut c = Candidates::default();
        for hay in [
            &b"abcdefghij"[..],
            b"xxabcdefghijxx",
            b"cdef",
            b"cde",
            b"efghij",
            b"zzzz ZZZZ",
            b"q",
            b"",
            b"abcdefg",
        ] {
            pf.candidates(hay, &mut c);
            assert_eq!(
                c.sorted(),
                naive(&entries, hay),
                "{:?}",
                String::from_utf8_lossy(hay)
            );
        }
    }

    #[test]
    fn folding_collisions_are_not_matches() {
        // `| 0x20` folds `\0` onto space and `\r` onto `-`: the bitmap hits,
        // the comparison must still refuse.
        let entries = [e(0, Some(("    ", false))), e(1, Some(("a-b-", true)))];
        let pf = Prefilter::build(2, &entries).unwrap();
        let mut c = Candidates::default();
        pf.candidates(b"\0\0\0\0a\rb\r", &mut c);
        assert_eq!(c.sorted(), &[] as &[u32]);
        pf.candidates(b"x    A-B-", &mut c);
        assert_eq!(c.sorted(), &[0, 1]);
    }

    #[test]
    fn thousands_of_patterns_share_buckets_correctly() {
        // More patterns than bitmap bits per pattern would keep apart.
        let pats: Vec<String> = (0..5000).map(|i| format!("p{i:05}x")).collect();
        let entries: Vec<Entry> = pats
            .iter()
            .enumerate()
            .map(|(i, p)| e(i as u32, Some((p, i % 3 == 0))))
            .collect();
        let pf = Prefilter::build(entries.len(), &entries).unwrap();
        let mut c = Candidates::default();
        let hay = b"..p00042x..P00003X..p04999xp00007";
        pf.candidates(hay, &mut c);
        assert_eq!(c.sorted(), naive(&entries, hay));
        assert_eq!(naive(&entries, hay), &[3, 42, 4999]);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_brute_force(
            pats in proptest::collection::vec(
                (proptest::collection::vec(proptest::sample::select(b"aAbB\0 \r-".to_vec()), 0..9),
                 proptest::bool::ANY,
                 proptest::option::weighted(0.9, proptest::bool::ANY)),
                1..40),
            hays in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(b"aAbB\0 \r-x".to_vec()), 0..64),
                1..8),
        ) {
            let entries: Vec<Entry> = pats
                .iter()
                .enumerate()
                .map(|(i, (p, nocase, some))| Entry {
                    rule: i as u32,
                    pattern: some.map(|_| (p.clone(), *nocase)),
                })
                .collect();
            let pf = Prefilter::build(entries.len(), &entries).unwrap();
            let mut c = Candidates::default();
            for hay in &hays {
                pf.candidates(hay, &mut c);
                proptest::prop_assert_eq!(c.sorted(), &naive(&entries, hay)[..]);
            }
        }
    }
}
