//! The prefilter: one multi-pattern search over a buffer picks the rules
//! worth verifying.
//!
//! Each rule of a group contributes its fast pattern (the `fast_pattern`
//! content, else its longest content, as Suricata chooses); rules without
//! one are always candidates. Case-sensitive and case-insensitive patterns
//! go to two automatons: aho-corasick's SIMD prefilter (Teddy) only works
//! for case-sensitive, smallish pattern sets (reference/crates.md), and
//! most ET Open fast patterns are case-sensitive, so keeping the
//! `nocase` ones apart keeps the common automaton fast. Identical patterns
//! are searched once and map to every rule that uses them.
//!
//! A search allocates nothing: [`Candidates`] is reused, and a generation
//! stamp replaces clearing the per-rule "seen" marks.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
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

/// Groups with at most this many patterns get a DFA (see [`Automaton`]).
pub const DFA_MAX_PATTERNS: usize = 32;

#[derive(Debug, Clone)]
struct Automaton {
    ac: AhoCorasick,
    /// Pattern id → rules.
    rules: Vec<Vec<u32>>,
}

impl Automaton {
    fn build(
        patterns: Vec<(Vec<u8>, Vec<u32>)>,
        nocase: bool,
    ) -> Result<Option<Automaton>, BuildError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(nocase)
            // A DFA is the fastest search but its memory grows with the
            // pattern set: loading ET Open's 3,573 supported rules took
            // 188 MB of RSS with aho-corasick's automatic choice, 191 MB
            // with DFAs up to 256 patterns, 131 MB up to 32, and 125 MB
            // with contiguous NFAs only. Small groups get the DFA.
            .kind(Some(if patterns.len() <= DFA_MAX_PATTERNS {
                aho_corasick::AhoCorasickKind::DFA
            } else {
                aho_corasick::AhoCorasickKind::ContiguousNFA
            }))
            .build(patterns.iter().map(|(p, _)| p))
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(Some(Automaton {
            ac,
            rules: patterns.into_iter().map(|(_, r)| r).collect(),
        }))
    }
}

/// One group's prefilter.
#[derive(Debug, Clone)]
pub struct Prefilter {
    exact: Option<Automaton>,
    nocase: Option<Automaton>,
    /// Rules without a fast pattern.
    always: Vec<u32>,
    rules: usize,
    patterns: usize,
}

impl Prefilter {
    /// Builds the prefilter of a group of rules numbered below `rules`.
    pub fn build(rules: usize, entries: &[Entry]) -> Result<Prefilter, BuildError> {
        let mut exact: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        let mut nocase: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
        let mut always = Vec::new();
        for e in entries {
            if e.rule as usize >= rules {
                return Err(BuildError(format!("rule {} out of range", e.rule)));
            }
            match &e.pattern {
                Some((p, _)) if p.is_empty() => always.push(e.rule),
                Some((p, false)) => exact.entry(p.clone()).or_default().push(e.rule),
                Some((p, true)) => nocase
                    .entry(p.to_ascii_lowercase())
                    .or_default()
                    .push(e.rule),
                None => always.push(e.rule),
            }
        }
        // Sorted so that the build is the same in every run.
        let sorted = |m: HashMap<Vec<u8>, Vec<u32>>| {
            let mut v: Vec<_> = m.into_iter().collect();
            v.sort();
            v
        };
        let patterns = exact.len() + nocase.len();
        always.sort_unstable();
        Ok(Prefilter {
            exact: Automaton::build(sorted(exact), false)?,
            nocase: Automaton::build(sorted(nocase), true)?,
            always,
            rules,
            patterns,
        })
    }

    /// Distinct patterns searched.
    pub fn patterns(&self) -> usize {
        self.patterns
    }

    /// Rules that are always candidates.
    pub fn always(&self) -> &[u32] {
        &self.always
    }

    /// The candidates for `hay`: every rule whose fast pattern occurs in it,
    /// and every rule without one, each once, into `out` (cleared first).
    pub fn candidates(&self, hay: &[u8], out: &mut Candidates) {
        out.reset(self.rules);
        for &r in &self.always {
            out.add(r);
        }
        for (a, exact) in [(&self.exact, true), (&self.nocase, false)] {
            let Some(a) = a else { continue };
            for m in a.ac.find_overlapping_iter(hay) {
                let p = m.pattern().as_usize();
                if !out.first_sight_of_pattern(p, a.rules.len(), exact) {
                    continue;
                }
                for &r in &a.rules[p] {
                    out.add(r);
                }
            }
        }
    }
}

/// Candidate rules of one search, reusable across searches.
#[derive(Debug, Default, Clone)]
pub struct Candidates {
    generation: u32,
    rule_seen: Vec<u32>,
    exact_seen: Vec<u32>,
    nocase_seen: Vec<u32>,
    list: Vec<u32>,
}

impl Candidates {
    fn reset(&mut self, rules: usize) {
        self.list.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: stale stamps could look current.
            self.rule_seen.iter_mut().for_each(|x| *x = 0);
            self.exact_seen.iter_mut().for_each(|x| *x = 0);
            self.nocase_seen.iter_mut().for_each(|x| *x = 0);
            self.generation = 1;
        }
        if self.rule_seen.len() < rules {
            self.rule_seen.resize(rules, 0);
        }
    }

    fn first_sight_of_pattern(&mut self, p: usize, patterns: usize, exact: bool) -> bool {
        let seen = if exact {
            &mut self.exact_seen
        } else {
            &mut self.nocase_seen
        };
        if seen.len() < patterns {
            seen.resize(patterns, 0);
        }
        if seen[p] == self.generation {
            return false;
        }
        seen[p] = self.generation;
        true
    }

    fn add(&mut self, r: u32) {
        let slot = &mut self.rule_seen[r as usize];
        if *slot != self.generation {
            *slot = self.generation;
            self.list.push(r);
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
}
