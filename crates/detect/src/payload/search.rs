//! Single-pattern search, built once per content: `memchr::memmem` for
//! exact patterns (and `nocase` patterns without ASCII letters), an
//! ASCII-case-insensitive Aho-Corasick automaton for the rest. Both search
//! in linear time and without allocating.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use memchr::memmem;

/// A prebuilt searcher for one pattern.
#[derive(Debug, Clone)]
pub(crate) enum Searcher {
    Exact(Box<memmem::Finder<'static>>),
    Fold(AhoCorasick),
}

impl Searcher {
    /// Builds the searcher; `None` only if the automaton cannot be built
    /// (it always can for one pattern of at most 65535 bytes).
    pub(crate) fn new(pattern: &[u8], nocase: bool) -> Option<Searcher> {
        if !nocase || !pattern.iter().any(u8::is_ascii_alphabetic) {
            return Some(Searcher::Exact(Box::new(
                memmem::Finder::new(pattern).into_owned(),
            )));
        }
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build([pattern])
            .ok()
            .map(Searcher::Fold)
    }

    /// The start of the first occurrence in `hay`.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<usize> {
        match self {
            Searcher::Exact(f) => f.find(hay),
            Searcher::Fold(ac) => ac.find(hay).map(|m| m.start()),
        }
    }
}

/// Whether `hay` equals `pattern`, case-insensitively for `nocase`.
pub(crate) fn eq_at(hay: &[u8], pattern: &[u8], nocase: bool) -> bool {
    if nocase {
        hay.eq_ignore_ascii_case(pattern)
    } else {
        hay == pattern
    }
}
