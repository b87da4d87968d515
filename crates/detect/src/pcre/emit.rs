//! Writes a parsed pattern in the syntax of a Rust engine: the `regex`
//! crate (bytes API, Unicode off) where every construct has an exact
//! counterpart there, `fancy-regex` (over a Latin-1 view of the haystack)
//! where it needs backtracking features, or neither.
//!
//! Everything option-dependent was resolved by the parser, so the output
//! carries no flags: case-insensitivity is spelled out as byte classes,
//! `.` as a class, greediness per quantifier, and PCRE's anchors as the
//! assertions of the target that mean the same.

use super::byteset::{self, ByteSet};
pub(crate) use super::syntax::min_len;
use super::syntax::{Assertion, Node, RepeatKind};

/// Which engine a pattern is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `regex::bytes`, Unicode off: a byte is a byte.
    Regex,
    /// `fancy-regex` over a string whose chars are the haystack's bytes
    /// (U+0000 to U+00FF).
    Fancy,
}

/// A pattern written for one engine.
#[derive(Debug, Clone)]
pub(crate) struct Emitted {
    pub pattern: String,
    /// Regex mode: how many capture groups mark a PCRE `$` that may have
    /// matched before a final newline (all groups are such markers).
    pub dollar_markers: u32,
    /// Fancy mode: search the ASCII-lowercased haystack. Set for caseless
    /// back references (fancy-regex compares them exactly) when every
    /// byte set of the pattern is closed under ASCII case folding and
    /// every back reference is caseless: then matching the haystack and
    /// its lowercased copy give the same spans, and comparing lowercased
    /// text exactly is comparing the original caselessly.
    pub fold_case: bool,
}

/// Why a pattern was not written for a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmitError {
    /// Regex mode: a construct needs the backtracking engine.
    NeedsFancy(&'static str),
    /// Neither engine can run it exactly.
    Unsupported(&'static str),
}

/// Writes `root` for `mode`. `anchored`: PCRE2_ANCHORED (the `A` flag).
pub(crate) fn emit(root: &Node, mode: Mode, anchored: bool) -> Result<Emitted, EmitError> {
    let mut referenced = Vec::new();
    referenced_groups(root, &mut referenced);
    check_loops(root, &referenced)?;
    check_auto_possess(
        root,
        Follow {
            q: 0,
            bytes: ByteSet::EMPTY,
        },
    )?;
    let mut e = Emitter {
        mode,
        out: String::new(),
        markers: 0,
        renumber: Vec::new(),
    };
    let mut fold_case = false;
    if mode == Mode::Fancy {
        (e.renumber, fold_case) = check_backrefs(root)?;
        if anchored {
            e.out.push_str("\\G");
        }
    }
    e.node(
        root,
        Ctx {
            follow_min: 0,
            tail: true,
        },
    )?;
    Ok(Emitted {
        pattern: e.out,
        dollar_markers: e.markers,
        fold_case,
    })
}

/// What follows a node: the least number of bytes the rest of the pattern
/// consumes, and whether nothing at all follows.
#[derive(Clone, Copy)]
struct Ctx {
    follow_min: u64,
    tail: bool,
}

struct Emitter {
    mode: Mode,
    out: String,
    markers: u32,
    /// Fancy mode: new capture number per PCRE group number (index 0
    /// unused); groups nobody refers to do not capture.
    renumber: Vec<Option<u32>>,
}

/// Whether every way `n` can match the empty string comes after (in
/// priority) every way it can match something: then an iteration that
/// matches empty is one PCRE tries last too.
fn empty_is_last(n: &Node) -> bool {
    if min_len(n) > 0 {
        return true;
    }
    match n {
        Node::Alt(v) => match v.split_last() {
            Some((last, rest)) => rest.iter().all(|b| min_len(b) > 0) && empty_is_last(last),
            None => true,
        },
        Node::Concat(v) => v.iter().all(empty_is_last),
        Node::Group { node, .. } | Node::Atomic(node) => empty_is_last(node),
        Node::Repeat {
            node, min, kind, ..
        } => match kind {
            RepeatKind::Lazy if *min == 0 => false,
            _ => empty_is_last(node),
        },
        Node::Set(_)
        | Node::Empty
        | Node::Assert(_)
        | Node::Look { .. }
        | Node::KeepOut
        | Node::Backref { .. } => true,
    }
}

/// Whether `n` holds a capture group that some back reference reads, or
/// a `\K`: what an empty iteration would change.
fn contains_referenced(n: &Node, referenced: &[u32]) -> bool {
    match n {
        Node::Group {
            index: Some(i),
            node,
        } => referenced.contains(i) || contains_referenced(node, referenced),
        Node::KeepOut => true,
        Node::Concat(v) | Node::Alt(v) => v.iter().any(|c| contains_referenced(c, referenced)),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => contains_referenced(node, referenced),
        _ => false,
    }
}

/// The group numbers back references read.
fn referenced_groups(n: &Node, out: &mut Vec<u32>) {
    match n {
        Node::Backref { group, .. } => out.push(*group),
        Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|c| referenced_groups(c, out)),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => referenced_groups(node, out),
        _ => {}
    }
}

/// The most bytes a match of `n` consumes (`None`: unbounded or unknown).
pub(crate) fn max_len(n: &Node) -> Option<u64> {
    match n {
        Node::Set(_) => Some(1),
        Node::Empty | Node::Look { .. } | Node::Assert(_) | Node::KeepOut => Some(0),
        Node::Backref { .. } => None,
        Node::Concat(v) => v
            .iter()
            .try_fold(0u64, |a, c| max_len(c).map(|m| a.saturating_add(m))),
        Node::Alt(v) => v.iter().try_fold(0u64, |a, c| max_len(c).map(|m| a.max(m))),
        Node::Group { node, .. } | Node::Atomic(node) => max_len(node),
        Node::Repeat { node, max, .. } => match (max_len(node)?, max) {
            (0, _) => Some(0),
            (m, Some(x)) => Some(m.saturating_mul(u64::from(*x))),
            (_, None) => None,
        },
    }
}

/// PCRE ends an unbounded repeat at an iteration that matched the empty
/// string (and goes on with what follows); the regex crate and
/// fancy-regex instead drop that path and try the iteration's other ways
/// first. The two agree when the empty iteration is the body's last
/// resort and no back reference can see the captures it sets.
fn check_loops(n: &Node, referenced: &[u32]) -> Result<(), EmitError> {
    match n {
        Node::Repeat {
            node,
            max: None,
            kind,
            ..
        } if min_len(node) == 0 && max_len(node) != Some(0) => {
            // (A body that only matches empty is written without a loop.)
            // A lazy loop tries going on before each iteration, so an
            // empty iteration (PCRE: go on) adds nothing it has not tried.
            if *kind != RepeatKind::Lazy && !empty_is_last(node) {
                return Err(EmitError::Unsupported(
                    "unbounded repeat of a group that may match empty before matching text",
                ));
            }
            if contains_referenced(node, referenced) {
                return Err(EmitError::Unsupported(
                    "unbounded repeat that may match empty around a referenced group or \\K",
                ));
            }
            check_loops(node, referenced)
        }
        Node::Concat(v) | Node::Alt(v) => v.iter().try_for_each(|c| check_loops(c, referenced)),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => check_loops(node, referenced),
        _ => Ok(()),
    }
}

// PCRE2 makes a repeat possessive when what follows cannot start with
// what it repeats ("auto-possessification"). For pairs of escapes it
// decides from a fixed table that, without UCP, is wrong for a few pairs
// that share a byte (NBSP 0xa0 is \S and \h; NEL 0x85 is \S, \v and
// starts \R; `.` matches CR, which starts \R): `\S+\h` never matches
// "a\xa0" in PCRE2. Patterns where such a pair can meet are refused.
const Q_DOT: u8 = 1;
const Q_NONSPACE: u8 = 2;
const Q_SPACE: u8 = 4;
const Q_HSPACE: u8 = 8;
const Q_VSPACE: u8 = 16;
const Q_NEWLINE: u8 = 32;
/// A possessive or atomic group that may match empty: PCRE2's analysis
/// takes it as always consuming its first item (`\w+(?:(?:-)?+)+.` never
/// matches "B1" in PCRE2 10.46).
const Q_OPAQUE: u8 = 64;

/// The escapes PCRE's table mistakes, as (repeated, following).
const QUIRKS: [(u8, u8); 8] = [
    (Q_DOT, Q_NEWLINE),
    (Q_NEWLINE, Q_DOT),
    (Q_NEWLINE, Q_SPACE),
    (Q_NONSPACE, Q_NEWLINE),
    (Q_NONSPACE, Q_HSPACE),
    (Q_NONSPACE, Q_VSPACE),
    (Q_HSPACE, Q_NONSPACE),
    (Q_VSPACE, Q_NONSPACE),
];

/// Which table escape a single-item node may be (a byte set equal to one
/// is counted: conservative).
fn quirk_item(n: &Node) -> u8 {
    match n {
        Node::Set(s) => {
            let mut q = 0;
            if *s == ByteSet::all_but(b'\n') {
                q |= Q_DOT;
            }
            if *s == byteset::space().complement() {
                q |= Q_NONSPACE;
            }
            if *s == byteset::space() {
                q |= Q_SPACE;
            }
            if *s == byteset::hspace() {
                q |= Q_HSPACE;
            }
            if *s == byteset::vspace() {
                q |= Q_VSPACE;
            }
            q
        }
        Node::Atomic(inner) if is_newline_seq(inner) => Q_NEWLINE,
        _ => 0,
    }
}

fn is_newline_seq(inner: &Node) -> bool {
    matches!(inner, Node::Alt(v) if v.len() == 2
        && matches!(&v[1], Node::Set(s) if *s == byteset::vspace()))
}

/// The table escapes `n` may start with, and whether it may match empty.
fn quirk_firsts(n: &Node) -> (u8, bool) {
    let q = quirk_item(n);
    if q != 0 {
        return (q, false);
    }
    match n {
        Node::Set(_) => (0, false),
        Node::Concat(v) => {
            let mut acc = 0;
            for c in v {
                let (f, nullable) = quirk_firsts(c);
                acc |= f;
                if !nullable {
                    return (acc, false);
                }
            }
            (acc, true)
        }
        Node::Alt(v) => v.iter().fold((0, false), |(a, e), c| {
            let (f, n) = quirk_firsts(c);
            (a | f, e || n)
        }),
        Node::Group { node, .. } => quirk_firsts(node),
        Node::Atomic(node) => {
            let (f, n) = quirk_firsts(node);
            (if n { f | Q_OPAQUE } else { f }, n)
        }
        Node::Repeat {
            node, min, kind, ..
        } => {
            let (f, n) = quirk_firsts(node);
            let nullable = n || *min == 0;
            let opaque =
                nullable && *kind == RepeatKind::Possessive && !matches!(**node, Node::Set(_));
            (if opaque { f | Q_OPAQUE } else { f }, nullable)
        }
        // What a lookaround looks at is counted too (conservative).
        Node::Look { node, .. } => (quirk_firsts(node).0, true),
        Node::Empty | Node::Assert(_) | Node::KeepOut | Node::Backref { .. } => (0, true),
    }
}

/// The bytes a match of `n` may start with (lookaround contents and
/// back references counted, conservatively), and whether it may be empty.
fn first_bytes(n: &Node) -> (ByteSet, bool) {
    match n {
        Node::Set(s) => (*s, false),
        Node::Concat(v) => {
            let mut acc = ByteSet::EMPTY;
            for c in v {
                let (f, nullable) = first_bytes(c);
                acc = acc.union(f);
                if !nullable {
                    return (acc, false);
                }
            }
            (acc, true)
        }
        Node::Alt(v) => v.iter().fold((ByteSet::EMPTY, false), |(a, e), c| {
            let (f, n) = first_bytes(c);
            (a.union(f), e || n)
        }),
        Node::Group { node, .. } | Node::Atomic(node) => first_bytes(node),
        Node::Repeat { node, min, .. } => {
            let (f, n) = first_bytes(node);
            (f, n || *min == 0)
        }
        Node::Look { node, .. } => (first_bytes(node).0, true),
        Node::Backref { .. } => (ByteSet::FULL, true),
        Node::Empty | Node::Assert(_) | Node::KeepOut => (ByteSet::EMPTY, true),
    }
}

/// What may follow a node: table escapes, and bytes.
#[derive(Clone, Copy)]
struct Follow {
    q: u8,
    bytes: ByteSet,
}

impl Follow {
    /// `n` followed by `self`.
    fn after(self, n: &Node) -> Follow {
        let (q, qn) = quirk_firsts(n);
        let (b, bn) = first_bytes(n);
        Follow {
            q: if qn { q | self.q } else { q },
            bytes: if bn { b.union(self.bytes) } else { b },
        }
    }

    fn or(self, other: Follow) -> Follow {
        Follow {
            q: self.q | other.q,
            bytes: self.bytes.union(other.bytes),
        }
    }
}

/// Walks `n` with `follow`, what comes after it.
fn check_auto_possess(n: &Node, follow: Follow) -> Result<(), EmitError> {
    match n {
        Node::Concat(v) => {
            let mut after = follow;
            for c in v.iter().rev() {
                check_auto_possess(c, after)?;
                after = after.after(c);
            }
            Ok(())
        }
        Node::Alt(v) => v.iter().try_for_each(|c| check_auto_possess(c, follow)),
        Node::Group { node, .. } | Node::Look { node, .. } => check_auto_possess(node, follow),
        Node::Atomic(node) => {
            if quirk_item(n) != 0 {
                Ok(())
            } else {
                check_auto_possess(node, follow)
            }
        }
        Node::Repeat { node, min, max, .. } => {
            if *max != Some(*min) {
                let left = quirk_item(node);
                let left_bytes = match &**node {
                    Node::Set(s) => Some(*s),
                    _ if left != 0 => Some(first_bytes(node).0),
                    _ => None,
                };
                // Where PCRE2 may misjudge what follows, possessive must
                // not matter: the repeated bytes cannot start what follows.
                if let Some(lb) = left_bytes {
                    let overlap = !lb.intersect(follow.bytes).is_empty();
                    if follow.q & Q_OPAQUE != 0 && overlap {
                        return Err(EmitError::Unsupported(
                            "repeat PCRE2 may wrongly make possessive (before an optional possessive group)",
                        ));
                    }
                }
                for (l, r) in QUIRKS {
                    if left & l != 0 && follow.q & r != 0 {
                        return Err(EmitError::Unsupported(
                            "repeat PCRE2 wrongly makes possessive (e.g. \\S+ before \\h)",
                        ));
                    }
                }
            }
            check_auto_possess(node, follow.or(follow.after(node)))
        }
        _ => Ok(()),
    }
}

/// A size estimate of the compiled program: repeats count as many copies.
pub(crate) fn weight(n: &Node) -> u64 {
    match n {
        Node::Set(_) | Node::Empty | Node::Assert(_) | Node::KeepOut | Node::Backref { .. } => 1,
        Node::Concat(v) | Node::Alt(v) => v.iter().map(weight).fold(1u64, u64::saturating_add),
        Node::Group { node, .. } | Node::Atomic(node) | Node::Look { node, .. } => {
            weight(node).saturating_add(1)
        }
        Node::Repeat { node, min, max, .. } => {
            let copies = u64::from(max.unwrap_or(*min).max(*min)).max(1);
            weight(node).saturating_mul(copies).saturating_add(1)
        }
    }
}

const WORD: &str = "[0-9A-Za-z_]";

impl Emitter {
    fn byte(&mut self, b: u8) {
        if b.is_ascii_alphanumeric() {
            self.out.push(b as char);
        } else {
            self.out.push_str(&format!("\\x{b:02X}"));
        }
    }

    fn set(&mut self, s: &ByteSet) {
        if let Some(b) = s.as_single() {
            self.byte(b);
            return;
        }
        if s.is_empty() {
            // An empty class: never matches.
            self.out.push_str("[a&&b]");
            return;
        }
        self.out.push('[');
        for (lo, hi) in s.ranges() {
            self.byte(lo);
            if hi != lo {
                if hi > lo + 1 {
                    self.out.push('-');
                }
                self.byte(hi);
            }
        }
        self.out.push(']');
    }

    fn need_fancy(&self, why: &'static str) -> Result<(), EmitError> {
        match self.mode {
            Mode::Regex => Err(EmitError::NeedsFancy(why)),
            Mode::Fancy => Ok(()),
        }
    }

    fn node(&mut self, n: &Node, ctx: Ctx) -> Result<(), EmitError> {
        match n {
            Node::Empty => self.out.push_str("(?:)"),
            Node::Set(s) => self.set(s),
            Node::Concat(v) => {
                // follow_min of item i: what items i+1.. consume at least.
                let mut after = vec![0u64; v.len()];
                let mut acc = 0u64;
                for i in (0..v.len()).rev() {
                    after[i] = acc;
                    acc = acc.saturating_add(min_len(&v[i]));
                }
                for (i, item) in v.iter().enumerate() {
                    let c = Ctx {
                        follow_min: ctx.follow_min.saturating_add(after[i]),
                        tail: ctx.tail && i + 1 == v.len(),
                    };
                    self.node(item, c)?;
                }
            }
            Node::Alt(v) => {
                self.out.push_str("(?:");
                for (i, b) in v.iter().enumerate() {
                    if i > 0 {
                        self.out.push('|');
                    }
                    self.node(b, ctx)?;
                }
                self.out.push(')');
            }
            Node::Group { index, node } => {
                let capture = match (self.mode, index) {
                    (Mode::Fancy, Some(i)) => {
                        self.renumber.get(*i as usize).copied().flatten().is_some()
                    }
                    _ => false,
                };
                // fancy-regex 0.14 drops the set of referenced groups it
                // collects, so it may hand a referenced group to its
                // one-shot delegate, which never backtracks into another
                // alternative of the same length (`(?:(a)|(a))\2` misses
                // "aa"). An empty lookahead marks the group as needing
                // backtracking.
                self.out.push_str(if capture { "((?=)" } else { "(?:" });
                self.node(node, ctx)?;
                self.out.push(')');
            }
            Node::Repeat {
                node, min, kind, ..
            } if max_len(node) == Some(0) => {
                // Repeating what only matches empty (assertions, empty
                // groups): a PCRE loop stops at an empty iteration, so this
                // is the item once if required, else an option tried first
                // (greedy) or last (lazy). The engines refuse some of these
                // as repeat targets.
                let atomic = *kind == RepeatKind::Possessive && self.mode == Mode::Fancy;
                let open = if atomic { "(?>" } else { "(?:" };
                self.out.push_str(open);
                if *min == 0 && *kind == RepeatKind::Lazy {
                    self.out.push('|');
                }
                self.node(node, ctx)?;
                if *min == 0 && *kind != RepeatKind::Lazy {
                    self.out.push('|');
                }
                self.out.push(')');
            }
            Node::Repeat {
                node,
                min,
                max,
                kind,
            } => {
                if *kind == RepeatKind::Possessive {
                    self.need_fancy("possessive quantifier")?;
                    self.out.push_str("(?>");
                }
                self.out.push_str("(?:");
                let inner = Ctx {
                    follow_min: ctx.follow_min,
                    tail: ctx.tail && max.is_some_and(|m| m <= 1),
                };
                self.node(node, inner)?;
                self.out.push(')');
                match max {
                    Some(m) if m == min => self.out.push_str(&format!("{{{min}}}")),
                    Some(m) => self.out.push_str(&format!("{{{min},{m}}}")),
                    None => self.out.push_str(&format!("{{{min},}}")),
                }
                if *kind == RepeatKind::Lazy {
                    self.out.push('?');
                }
                if *kind == RepeatKind::Possessive {
                    self.out.push(')');
                }
            }
            Node::Atomic(node) => {
                self.need_fancy("atomic group or \\R")?;
                self.out.push_str("(?>");
                self.node(node, ctx)?;
                self.out.push(')');
            }
            Node::Look {
                behind,
                negated,
                node,
            } => {
                self.need_fancy(if *behind { "lookbehind" } else { "lookahead" })?;
                self.out.push_str(match (behind, negated) {
                    (false, false) => "(?=",
                    (false, true) => "(?!",
                    (true, false) => "(?<=",
                    (true, true) => "(?<!",
                });
                self.node(
                    node,
                    Ctx {
                        follow_min: 0,
                        tail: false,
                    },
                )?;
                self.out.push(')');
            }
            Node::Backref { group, .. } => {
                self.need_fancy("back reference")?;
                let Some(new) = self.renumber.get(*group as usize).copied().flatten() else {
                    return Err(EmitError::Unsupported("back reference to an unknown group"));
                };
                self.out.push_str(&format!("\\k<{new}>"));
            }
            Node::KeepOut => {
                self.need_fancy("\\K")?;
                self.out.push_str("\\K");
            }
            Node::Assert(a) => self.assertion(*a, ctx)?,
        }
        Ok(())
    }

    fn assertion(&mut self, a: Assertion, ctx: Ctx) -> Result<(), EmitError> {
        let fancy = self.mode == Mode::Fancy;
        match a {
            Assertion::StartText => self.out.push_str("\\A"),
            Assertion::EndText => self.out.push_str("\\z"),
            Assertion::EndLine => self.out.push_str("(?m:$)"),
            Assertion::EndTextOptNl => {
                if fancy {
                    self.out.push_str("(?=\\x0A?\\z)");
                } else if ctx.tail {
                    // Nothing follows, so the match ends where `$` held:
                    // consume the optional final newline in a marker group
                    // and give it back after the search.
                    self.markers += 1;
                    self.out.push_str("(?:(\\x0A)?\\z)");
                } else {
                    return Err(EmitError::NeedsFancy(
                        "$ or \\Z not at the end of the pattern",
                    ));
                }
            }
            Assertion::StartLine => {
                if ctx.follow_min >= 1 {
                    // Where the two differ (after a newline that ends the
                    // subject) nothing can follow anyway.
                    self.out.push_str("(?m:^)");
                } else if fancy {
                    self.out.push_str("(?:\\A|(?<=\\x0A)(?!\\z))");
                } else {
                    return Err(EmitError::NeedsFancy(
                        "^ in multiline mode that may match at the end",
                    ));
                }
            }
            Assertion::WordBoundary => {
                if fancy {
                    self.out
                        .push_str(&format!("(?:(?<={WORD})(?!{WORD})|(?<!{WORD})(?={WORD}))"));
                } else {
                    self.out.push_str("\\b");
                }
            }
            Assertion::NotWordBoundary => {
                if fancy {
                    self.out
                        .push_str(&format!("(?:(?<={WORD})(?={WORD})|(?<!{WORD})(?!{WORD}))"));
                } else {
                    self.out.push_str("\\B");
                }
            }
            Assertion::StartOfSearch => {
                self.need_fancy("\\G")?;
                self.out.push_str("\\G");
            }
        }
        Ok(())
    }
}

/// Checks every back reference for an exact fancy-regex counterpart and
/// numbers the referenced groups; also says whether the haystack must be
/// lowercased (see [`Emitted::fold_case`]).
fn check_backrefs(root: &Node) -> Result<(Vec<Option<u32>>, bool), EmitError> {
    #[derive(Default, Clone)]
    struct GroupInfo {
        alphabet: ByteSet,
        in_look: bool,
        opened: bool,
    }
    struct Walk {
        groups: Vec<GroupInfo>,
        refs: Vec<(u32, bool, Vec<u32>)>,
        /// A reference met before its group opened.
        forward: bool,
    }
    fn alphabet(n: &Node) -> ByteSet {
        match n {
            Node::Set(s) => *s,
            Node::Backref { .. } => ByteSet::FULL,
            Node::Concat(v) | Node::Alt(v) => {
                v.iter().fold(ByteSet::EMPTY, |a, n| a.union(alphabet(n)))
            }
            Node::Group { node, .. }
            | Node::Repeat { node, .. }
            | Node::Atomic(node)
            | Node::Look { node, .. } => alphabet(node),
            Node::Empty | Node::Assert(_) | Node::KeepOut => ByteSet::EMPTY,
        }
    }
    fn walk(n: &Node, w: &mut Walk, open: &mut Vec<u32>, in_look: bool) {
        match n {
            Node::Group { index, node } => {
                if let Some(i) = index {
                    let i = *i as usize;
                    if w.groups.len() <= i {
                        w.groups.resize(i + 1, GroupInfo::default());
                    }
                    w.groups[i] = GroupInfo {
                        alphabet: alphabet(node),
                        in_look,
                        opened: true,
                    };
                    open.push(*index.as_ref().unwrap_or(&0));
                    walk(node, w, open, in_look);
                    open.pop();
                } else {
                    walk(node, w, open, in_look);
                }
            }
            Node::Backref {
                group, caseless, ..
            } => {
                let opened = w.groups.get(*group as usize).is_some_and(|g| g.opened);
                w.forward |= !opened;
                w.refs.push((*group, *caseless, open.clone()));
            }
            Node::Concat(v) | Node::Alt(v) => {
                for c in v {
                    walk(c, w, open, in_look);
                }
            }
            Node::Repeat { node, .. } | Node::Atomic(node) => walk(node, w, open, in_look),
            Node::Look { node, .. } => walk(node, w, open, true),
            _ => {}
        }
    }
    let mut w = Walk {
        groups: Vec::new(),
        refs: Vec::new(),
        forward: false,
    };
    walk(root, &mut w, &mut Vec::new(), false);
    if w.forward {
        return Err(EmitError::Unsupported("forward back reference"));
    }
    let mut referenced = vec![false; w.groups.len()];
    let mut fold = false;
    for (group, caseless, open) in &w.refs {
        let Some(info) = w.groups.get(*group as usize) else {
            return Err(EmitError::Unsupported("back reference to an unknown group"));
        };
        if open.contains(group) {
            return Err(EmitError::Unsupported(
                "back reference inside the group it refers to",
            ));
        }
        if info.in_look {
            return Err(EmitError::Unsupported(
                "back reference to a group inside a lookaround",
            ));
        }
        if *caseless && info.alphabet.has_cased() {
            fold = true;
        }
        referenced[*group as usize] = true;
    }
    if fold {
        // Lowercasing the haystack is exact only if nothing in the pattern
        // tells the cases apart.
        let case_sensitive_ref = w
            .refs
            .iter()
            .any(|(g, caseless, _)| !caseless && w.groups[*g as usize].alphabet.has_cased());
        if case_sensitive_ref || !case_closed(root) {
            return Err(EmitError::Unsupported(
                "caseless back reference in a pattern that is partly case-sensitive",
            ));
        }
    }
    let mut next = 0u32;
    let renumber = referenced
        .into_iter()
        .map(|r| {
            r.then(|| {
                next += 1;
                next
            })
        })
        .collect();
    Ok((renumber, fold))
}

/// Whether every byte set in `n` holds both cases of its letters.
fn case_closed(n: &Node) -> bool {
    match n {
        Node::Set(s) => s.fold_ascii_case() == *s,
        Node::Concat(v) | Node::Alt(v) => v.iter().all(case_closed),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => case_closed(node),
        Node::Empty | Node::Assert(_) | Node::KeepOut | Node::Backref { .. } => true,
    }
}

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Appends to `out` a string that the pattern is likely to match (exact
/// for plain patterns; lookarounds and anchors are only approximated).
pub(crate) fn sample(
    n: &Node,
    rng: &mut Rng,
    out: &mut Vec<u8>,
    caps: &mut Vec<Option<(usize, usize)>>,
    depth: usize,
) {
    const MAX_OUT: usize = 2048;
    if out.len() >= MAX_OUT || depth > 200 {
        return;
    }
    match n {
        Node::Empty | Node::KeepOut | Node::Look { .. } => {}
        Node::Set(s) => {
            let len = s.len();
            if len > 0 {
                // Prefer printable members: they make readable samples.
                let printable = ByteSet::range(0x20, 0x7e);
                let mut pick = *s;
                let both: Vec<u8> = s.iter().filter(|&b| printable.contains(b)).collect();
                if !both.is_empty() && rng.below(4) != 0 {
                    pick = both
                        .iter()
                        .fold(ByteSet::EMPTY, |a, &b| a.union(ByteSet::single(b)));
                }
                let i = rng.below(u64::from(pick.len())) as u32;
                if let Some(b) = pick.nth(i) {
                    out.push(b);
                }
            }
        }
        Node::Concat(v) => {
            for c in v {
                sample(c, rng, out, caps, depth + 1);
            }
        }
        Node::Alt(v) => {
            if !v.is_empty() {
                let i = rng.below(v.len() as u64) as usize;
                sample(&v[i], rng, out, caps, depth + 1);
            }
        }
        Node::Group { index, node } => {
            let start = out.len();
            sample(node, rng, out, caps, depth + 1);
            if let Some(i) = index {
                let i = *i as usize;
                if caps.len() <= i {
                    caps.resize(i + 1, None);
                }
                caps[i] = Some((start, out.len()));
            }
        }
        Node::Repeat { node, min, max, .. } => {
            let extra = max.map_or(3, |m| (m - min).min(3));
            let count = u64::from(*min).min(64) + rng.below(u64::from(extra) + 1);
            for _ in 0..count {
                sample(node, rng, out, caps, depth + 1);
            }
        }
        Node::Atomic(node) => sample(node, rng, out, caps, depth + 1),
        Node::Backref { group, .. } => {
            if let Some(Some((s, e))) = caps.get(*group as usize).copied() {
                let piece = out[s..e].to_vec();
                out.extend_from_slice(&piece);
            }
        }
        Node::Assert(a) => match a {
            Assertion::StartLine
                if !out.is_empty() && out.last() != Some(&b'\n') && rng.below(2) == 0 =>
            {
                out.push(b'\n');
            }
            Assertion::EndLine | Assertion::EndTextOptNl if rng.below(3) == 0 => out.push(b'\n'),
            Assertion::WordBoundary if rng.below(3) == 0 => out.push(b' '),
            _ => {}
        },
    }
}
