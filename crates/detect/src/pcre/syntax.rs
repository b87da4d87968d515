//! A parser for PCRE2 pattern syntax as Suricata compiles it: 8-bit code
//! units, no UTF, no UCP, the default ("C" locale) character tables and LF
//! as the newline. It resolves everything that depends on the options in
//! force (case folding, `.`, `^`/`$`, greediness, capture numbering) so
//! that the tree it yields means the same under any flags: a set of bytes
//! per position, explicit assertions, explicit greediness.
//!
//! It follows PCRE2 10.46's `parse_regex`/`check_escape` for what it
//! accepts and reports as invalid, and turns away (as unsupported) what it
//! does not model or what differs between PCRE2 versions still in use
//! (10.42 and earlier versus 10.43 and later).

use super::byteset::{self, ByteSet};

/// Deepest group nesting accepted (PCRE2's own limit is 250).
pub(crate) const MAX_DEPTH: usize = 128;
/// PCRE2's largest repeat count.
const MAX_REPEAT: u32 = 65535;
/// PCRE2's largest group number.
const MAX_GROUP: u32 = 65535;

/// One parsed pattern element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Matches the empty string.
    Empty,
    /// One byte out of the set.
    Set(ByteSet),
    Concat(Vec<Node>),
    /// Alternatives in priority order.
    Alt(Vec<Node>),
    /// A group; `index` is its capture number when it captures.
    Group {
        index: Option<u32>,
        node: Box<Node>,
    },
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        kind: RepeatKind,
    },
    /// `(?>...)`.
    Atomic(Box<Node>),
    /// Lookahead or lookbehind.
    Look {
        behind: bool,
        negated: bool,
        node: Box<Node>,
    },
    /// A back reference to a capture group; `min` is the fewest bytes
    /// that group's pattern matches (so the fewest the reference does,
    /// when it matches at all).
    Backref {
        group: u32,
        caseless: bool,
        min: u64,
    },
    Assert(Assertion),
    /// `\K`: the reported match starts here.
    KeepOut,
}

/// How a repeat prefers to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RepeatKind {
    Greedy,
    Lazy,
    Possessive,
}

/// Zero-width assertions, with their PCRE meaning resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Assertion {
    /// `\A`, `^` without `m`: start of the subject.
    StartText,
    /// `^` with `m`: start of the subject or after a newline that is not
    /// the subject's last byte.
    StartLine,
    /// `\z`, `$` with `E` (and without `m`): end of the subject.
    EndText,
    /// `\Z`, `$` without `m`/`E`: end of the subject or before a newline
    /// that is its last byte.
    EndTextOptNl,
    /// `$` with `m`: end of the subject or before any newline.
    EndLine,
    /// `\b` over ASCII word bytes.
    WordBoundary,
    /// `\B` over ASCII word bytes.
    NotWordBoundary,
    /// `\G`: the search's start offset.
    StartOfSearch,
}

/// The options that change how a pattern is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Options {
    pub caseless: bool,
    pub multiline: bool,
    pub dotall: bool,
    pub extended: bool,
    pub extended_more: bool,
    pub ungreedy: bool,
    pub no_auto_capture: bool,
    pub dollar_endonly: bool,
}

/// Why a pattern was not parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// PCRE2 rejects it too.
    Invalid { offset: usize, message: String },
    /// Valid PCRE2 (or valid in some versions) that is not modelled.
    Unsupported {
        offset: usize,
        construct: &'static str,
    },
    /// PCRE2's error 115, "reference to non-existent subpattern": Suricata
    /// compiles with `PCRE2_NO_AUTO_CAPTURE` and retries without on it.
    NonexistentGroup { offset: usize },
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub root: Node,
    /// How many capture groups it has.
    pub groups: u32,
}

/// Parses `pattern` under `opts`.
pub(crate) fn parse(pattern: &[u8], opts: Options) -> Result<Parsed, ParseError> {
    let mut p = Parser {
        p: pattern,
        pos: 0,
        opts,
        caps: 0,
        names: Vec::new(),
        refs: Vec::new(),
        named_refs: Vec::new(),
        depth: 0,
        escq: false,
    };
    let mut root = p.parse_alt()?;
    if p.pos < pattern.len() {
        // Only a ')' stops the top level early.
        return Err(invalid(p.pos, "unmatched closing parenthesis"));
    }
    // Named references may point forward: resolve them now.
    if !p.named_refs.is_empty() {
        resolve_names(&mut root, &p.named_refs, &p.names, &mut p.refs)?;
    }
    for &(group, offset) in &p.refs {
        if group > p.caps {
            return Err(ParseError::NonexistentGroup { offset });
        }
    }
    if !p.refs.is_empty() {
        let mut mins = vec![0u64; p.caps as usize + 1];
        group_mins(&root, &mut mins);
        set_backref_mins(&mut root, &mins);
    }
    Ok(Parsed {
        root,
        groups: p.caps,
    })
}

fn invalid(offset: usize, message: &str) -> ParseError {
    ParseError::Invalid {
        offset,
        message: message.to_owned(),
    }
}

fn unsupported(offset: usize, construct: &'static str) -> ParseError {
    ParseError::Unsupported { offset, construct }
}

/// A named reference before resolution, kept in the tree as a group
/// number above every real one and looked up afterwards.
const NAMED_REF_BASE: u32 = 1 << 20;

fn resolve_names(
    node: &mut Node,
    named_refs: &[(u32, Vec<u8>, usize)],
    names: &[(Vec<u8>, u32)],
    refs: &mut Vec<(u32, usize)>,
) -> Result<(), ParseError> {
    match node {
        Node::Backref { group, .. } if *group >= NAMED_REF_BASE => {
            let Some((_, name, offset)) = named_refs.iter().find(|(p, ..)| p == group) else {
                return Err(invalid(0, "internal: unknown named reference"));
            };
            match names.iter().find(|(n, _)| n == name) {
                Some(&(_, g)) => {
                    *group = g;
                    refs.push((g, *offset));
                    Ok(())
                }
                None => Err(ParseError::NonexistentGroup { offset: *offset }),
            }
        }
        Node::Concat(v) | Node::Alt(v) => {
            for n in v {
                resolve_names(n, named_refs, names, refs)?;
            }
            Ok(())
        }
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => resolve_names(node, named_refs, names, refs),
        _ => Ok(()),
    }
}

/// The fewest bytes a match of `n` consumes.
pub(crate) fn min_len(n: &Node) -> u64 {
    match n {
        Node::Set(_) => 1,
        Node::Concat(v) => v.iter().map(min_len).fold(0u64, u64::saturating_add),
        Node::Alt(v) => v.iter().map(min_len).min().unwrap_or(0),
        Node::Group { node, .. } | Node::Atomic(node) => min_len(node),
        Node::Repeat { node, min, .. } => min_len(node).saturating_mul(u64::from(*min)),
        Node::Backref { min, .. } => *min,
        Node::Empty | Node::Look { .. } | Node::Assert(_) | Node::KeepOut => 0,
    }
}

fn group_mins(n: &Node, mins: &mut [u64]) {
    match n {
        Node::Group { index, node } => {
            if let Some(slot) = index.and_then(|i| mins.get_mut(i as usize)) {
                *slot = min_len(node);
            }
            group_mins(node, mins);
        }
        Node::Concat(v) | Node::Alt(v) => v.iter().for_each(|c| group_mins(c, mins)),
        Node::Repeat { node, .. } | Node::Atomic(node) | Node::Look { node, .. } => {
            group_mins(node, mins)
        }
        _ => {}
    }
}

fn set_backref_mins(n: &mut Node, mins: &[u64]) {
    match n {
        Node::Backref { group, min, .. } => *min = mins.get(*group as usize).copied().unwrap_or(0),
        Node::Concat(v) | Node::Alt(v) => v.iter_mut().for_each(|c| set_backref_mins(c, mins)),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => set_backref_mins(node, mins),
        _ => {}
    }
}

struct Parser<'a> {
    p: &'a [u8],
    pos: usize,
    opts: Options,
    /// Capture groups opened so far.
    caps: u32,
    names: Vec<(Vec<u8>, u32)>,
    /// Numbered references and where they are.
    refs: Vec<(u32, usize)>,
    /// Named references: (placeholder number, name, offset).
    named_refs: Vec<(u32, Vec<u8>, usize)>,
    depth: usize,
    /// Inside `\Q...\E`.
    escq: bool,
}

/// What an escape sequence stands for.
enum Escape {
    Byte(u8),
    /// A class such as `\d`.
    Set(ByteSet),
    Assert(Assertion),
    Backref(u32),
    NamedBackref(Vec<u8>),
    KeepOut,
    /// `\R`.
    NewlineSeq,
}

/// Range state inside a class, as PCRE2 tracks it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeState {
    /// After `[`, a completed range or a nested item: `-` is literal.
    No,
    /// After a character: `-` may start a range.
    Ok(u8),
    /// After `c-`.
    Started(u8),
    /// After a class escape or POSIX class: only `-]` is allowed.
    ForbidNo,
    /// After `\d-`.
    ForbidStarted,
}

fn is_pattern_space(c: u8) -> bool {
    // ctype_space in the C locale: HT, LF, VT, FF, CR, space.
    matches!(c, 0x09..=0x0d | b' ')
}

fn hex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.p.get(self.pos + k).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.p.get(self.pos..).unwrap_or(&[])
    }

    /// A literal byte under the options in force.
    fn literal(&self, c: u8) -> Node {
        let set = ByteSet::single(c);
        Node::Set(if self.opts.caseless {
            set.fold_ascii_case()
        } else {
            set
        })
    }

    /// Parses alternatives up to an unconsumed `)` or the end.
    fn parse_alt(&mut self) -> Result<Node, ParseError> {
        let mut branches = Vec::new();
        let mut items: Vec<Node> = Vec::new();
        // Whether the previous item may be quantified (PCRE's okquantifier).
        let mut ok_quant = false;
        // The previous item is a quantifier that may take a `?`/`+` suffix.
        let mut last_quant = false;
        loop {
            if self.escq {
                match self.peek() {
                    None => break,
                    Some(b'\\') if self.peek_at(1) == Some(b'E') => {
                        self.escq = false;
                        self.pos += 2;
                    }
                    Some(c) => {
                        self.pos += 1;
                        items.push(self.literal(c));
                        ok_quant = true;
                        last_quant = false;
                    }
                }
                continue;
            }
            let Some(c) = self.peek() else { break };
            let start = self.pos;
            // Items that leave the quantification state alone.
            if c == b'\\' && matches!(self.peek_at(1), Some(b'Q' | b'E')) {
                self.escq = self.peek_at(1) == Some(b'Q');
                self.pos += 2;
                continue;
            }
            if self.opts.extended {
                if is_pattern_space(c) {
                    self.pos += 1;
                    continue;
                }
                if c == 0x85 {
                    // NEL is white space in extended mode only in some
                    // PCRE2 versions.
                    return Err(unsupported(
                        start,
                        "NEL byte (0x85) in an extended-mode pattern",
                    ));
                }
                if c == b'#' {
                    while let Some(d) = self.peek() {
                        self.pos += 1;
                        if d == b'\n' {
                            break;
                        }
                    }
                    continue;
                }
            }
            if self.rest().starts_with(b"(?#") {
                match self.rest().iter().position(|&d| d == b')') {
                    Some(k) => self.pos += k + 1,
                    None => return Err(invalid(start, "missing ) after (?# comment")),
                }
                continue;
            }
            if last_quant && (c == b'?' || c == b'+') {
                self.pos += 1;
                if let Some(Node::Repeat { kind, .. }) = items.last_mut() {
                    *kind = if c == b'+' {
                        RepeatKind::Possessive
                    } else if self.opts.ungreedy {
                        RepeatKind::Greedy
                    } else {
                        RepeatKind::Lazy
                    };
                }
                last_quant = false;
                ok_quant = false;
                continue;
            }
            let prev_ok = ok_quant;
            ok_quant = false;
            last_quant = false;
            match c {
                b'|' => {
                    self.pos += 1;
                    branches.push(concat(std::mem::take(&mut items)));
                }
                b')' => break,
                b'*' | b'+' | b'?' | b'{' => {
                    let (min, max) = match c {
                        b'*' => (0, None),
                        b'+' => (1, None),
                        b'?' => (0, Some(1)),
                        _ => match self.read_repeat(self.pos + 1)? {
                            Some((min, max, end)) => {
                                self.pos = end - 1;
                                (min, max)
                            }
                            None => {
                                self.pos += 1;
                                items.push(self.literal(b'{'));
                                ok_quant = true;
                                continue;
                            }
                        },
                    };
                    self.pos += 1;
                    if !prev_ok {
                        return Err(invalid(
                            start,
                            "quantifier does not follow a repeatable item",
                        ));
                    }
                    let Some(node) = items.pop() else {
                        return Err(invalid(
                            start,
                            "quantifier does not follow a repeatable item",
                        ));
                    };
                    if matches!(node, Node::Look { .. }) {
                        return Err(unsupported(start, "quantified assertion"));
                    }
                    items.push(Node::Repeat {
                        node: Box::new(node),
                        min,
                        max,
                        kind: if self.opts.ungreedy {
                            RepeatKind::Lazy
                        } else {
                            RepeatKind::Greedy
                        },
                    });
                    last_quant = true;
                }
                b'^' => {
                    self.pos += 1;
                    items.push(Node::Assert(if self.opts.multiline {
                        Assertion::StartLine
                    } else {
                        Assertion::StartText
                    }));
                }
                b'$' => {
                    self.pos += 1;
                    items.push(Node::Assert(if self.opts.multiline {
                        Assertion::EndLine
                    } else if self.opts.dollar_endonly {
                        Assertion::EndText
                    } else {
                        Assertion::EndTextOptNl
                    }));
                }
                b'.' => {
                    self.pos += 1;
                    items.push(Node::Set(if self.opts.dotall {
                        ByteSet::FULL
                    } else {
                        ByteSet::all_but(b'\n')
                    }));
                    ok_quant = true;
                }
                b'[' => {
                    items.push(self.parse_class()?);
                    ok_quant = true;
                }
                b'(' => {
                    if let Some((node, quantifiable)) = self.parse_group()? {
                        items.push(node);
                        ok_quant = quantifiable;
                    }
                }
                b'\\' => {
                    self.pos += 1;
                    match self.parse_escape(false)? {
                        Escape::Byte(b) => {
                            items.push(self.literal(b));
                            ok_quant = true;
                        }
                        Escape::Set(s) => {
                            items.push(Node::Set(s));
                            ok_quant = true;
                        }
                        Escape::Assert(a) => items.push(Node::Assert(a)),
                        Escape::Backref(group) => {
                            self.refs.push((group, start));
                            items.push(Node::Backref {
                                group,
                                caseless: self.opts.caseless,
                                min: 0,
                            });
                            ok_quant = true;
                        }
                        Escape::NamedBackref(name) => {
                            let placeholder = NAMED_REF_BASE + self.named_refs.len() as u32;
                            self.named_refs.push((placeholder, name, start));
                            items.push(Node::Backref {
                                group: placeholder,
                                caseless: self.opts.caseless,
                                min: 0,
                            });
                            ok_quant = true;
                        }
                        Escape::KeepOut => items.push(Node::KeepOut),
                        Escape::NewlineSeq => {
                            items.push(newline_seq());
                            ok_quant = true;
                        }
                    }
                }
                _ => {
                    self.pos += 1;
                    items.push(self.literal(c));
                    ok_quant = true;
                }
            }
        }
        branches.push(concat(items));
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    /// Reads `{n}`, `{n,}` or `{n,m}` starting after the `{` at `at - 1`.
    /// `Ok(None)`: not a quantifier (a literal `{`). Forms that only
    /// PCRE2 10.43+ reads as quantifiers (`{,m}`, spaces inside) are
    /// unsupported: older versions read them as literals.
    fn read_repeat(&self, at: usize) -> Result<Option<(u32, Option<u32>, usize)>, ParseError> {
        let p = self.p;
        let digits = |mut i: usize| {
            let s = i;
            while i < p.len() && p[i].is_ascii_digit() {
                i += 1;
            }
            (s, i)
        };
        let number = |s: usize, e: usize| -> Result<u32, ParseError> {
            let mut v: u32 = 0;
            for &d in &p[s..e] {
                v = v.saturating_mul(10).saturating_add(u32::from(d - b'0'));
            }
            if v > MAX_REPEAT {
                Err(invalid(s, "number too big in {} quantifier"))
            } else {
                Ok(v)
            }
        };
        // The strict (all versions) forms.
        let (s1, e1) = digits(at);
        if e1 > s1 {
            match p.get(e1) {
                Some(b'}') => {
                    let n = number(s1, e1)?;
                    return Ok(Some((n, Some(n), e1 + 1)));
                }
                Some(b',') => {
                    let (s2, e2) = digits(e1 + 1);
                    if p.get(e2) == Some(&b'}') {
                        let n = number(s1, e1)?;
                        if e2 == s2 {
                            return Ok(Some((n, None, e2 + 1)));
                        }
                        let m = number(s2, e2)?;
                        if m < n {
                            return Err(invalid(s1, "numbers out of order in {} quantifier"));
                        }
                        return Ok(Some((n, Some(m), e2 + 1)));
                    }
                }
                _ => {}
            }
        }
        // The relaxed forms of PCRE2 10.43+: `{,m}` and spaces/tabs.
        let mut i = at;
        let skip = |mut i: usize| {
            while i < p.len() && (p[i] == b' ' || p[i] == b'\t') {
                i += 1;
            }
            i
        };
        i = skip(i);
        let (a, b) = digits(i);
        let had_min = b > a;
        i = skip(b);
        let relaxed = match p.get(i) {
            Some(b'}') => had_min,
            Some(b',') => {
                let j = skip(i + 1);
                let (c, d) = digits(j);
                (d > c || had_min) && p.get(skip(d)) == Some(&b'}')
            }
            _ => false,
        };
        if relaxed {
            return Err(unsupported(
                at - 1,
                "quantifier written {,m} or with spaces (PCRE2 >= 10.43 only)",
            ));
        }
        Ok(None)
    }

    /// Parses a group at `(`. `None` for an option setting such as `(?i)`,
    /// which is no item; otherwise the node and whether it may be
    /// quantified.
    fn parse_group(&mut self) -> Result<Option<(Node, bool)>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        if self.depth >= MAX_DEPTH {
            return Err(unsupported(start, "groups nested deeper than 128"));
        }
        let rest = self.rest();
        enum Kind {
            Capture(Option<Vec<u8>>),
            NonCapture,
            Atomic,
            Look { behind: bool, negated: bool },
        }
        let kind;
        let saved = self.opts;
        if rest.first() == Some(&b'*') {
            return Err(unsupported(start, "(*VERB) or (*alpha_assertion:"));
        } else if rest.first() != Some(&b'?') {
            kind = Kind::Capture(None);
        } else {
            self.pos += 1;
            let r = self.rest();
            let mut take = |k: usize, kind_: Kind| {
                self.pos += k;
                kind_
            };
            match (r.first().copied(), r.get(1).copied()) {
                (Some(b':'), _) => kind = take(1, Kind::NonCapture),
                (Some(b'>'), _) => kind = take(1, Kind::Atomic),
                (Some(b'='), _) => {
                    kind = take(
                        1,
                        Kind::Look {
                            behind: false,
                            negated: false,
                        },
                    )
                }
                (Some(b'!'), _) => {
                    kind = take(
                        1,
                        Kind::Look {
                            behind: false,
                            negated: true,
                        },
                    )
                }
                (Some(b'<'), Some(b'=')) => {
                    kind = take(
                        2,
                        Kind::Look {
                            behind: true,
                            negated: false,
                        },
                    )
                }
                (Some(b'<'), Some(b'!')) => {
                    kind = take(
                        2,
                        Kind::Look {
                            behind: true,
                            negated: true,
                        },
                    )
                }
                (Some(b'<'), _) => {
                    self.pos += 1;
                    kind = Kind::Capture(Some(self.read_name(b'>')?));
                }
                (Some(b'\''), _) => {
                    self.pos += 1;
                    kind = Kind::Capture(Some(self.read_name(b'\'')?));
                }
                (Some(b'P'), Some(b'<')) => {
                    self.pos += 2;
                    kind = Kind::Capture(Some(self.read_name(b'>')?));
                }
                (Some(b'P'), Some(b'=')) => {
                    self.pos += 2;
                    let name = self.read_name(b')')?;
                    let placeholder = NAMED_REF_BASE + self.named_refs.len() as u32;
                    self.named_refs.push((placeholder, name, start));
                    return Ok(Some((
                        Node::Backref {
                            group: placeholder,
                            caseless: self.opts.caseless,
                            min: 0,
                        },
                        true,
                    )));
                }
                (Some(b'P'), Some(b'>')) | (Some(b'&'), _) | (Some(b'R'), _) => {
                    return Err(unsupported(start, "recursion or subroutine call"));
                }
                (Some(b'0'..=b'9' | b'+'), _) | (Some(b'-'), Some(b'0'..=b'9')) => {
                    return Err(unsupported(start, "recursion or subroutine call"));
                }
                (Some(b'('), _) => return Err(unsupported(start, "conditional group (?(")),
                (Some(b'C'), _) => return Err(unsupported(start, "callout (?C")),
                (Some(b'|'), _) => return Err(unsupported(start, "branch reset group (?|")),
                (Some(b'['), _) => return Err(unsupported(start, "extended class (?[")),
                (Some(b'*'), _) => return Err(unsupported(start, "non-atomic lookaround (?*")),
                (None, _) => return Err(invalid(start, "missing closing parenthesis")),
                _ => {
                    // Option letters.
                    let mut set = true;
                    let mut hyphen_ok = true;
                    if self.peek() == Some(b'^') {
                        self.pos += 1;
                        let o = &mut self.opts;
                        o.caseless = false;
                        o.multiline = false;
                        o.no_auto_capture = false;
                        o.dotall = false;
                        o.extended = false;
                        o.extended_more = false;
                        hyphen_ok = false;
                    }
                    loop {
                        let at = self.pos;
                        let Some(c) = self.peek() else {
                            return Err(invalid(start, "missing closing parenthesis"));
                        };
                        self.pos += 1;
                        match c {
                            b')' => {
                                // Changes the options for the rest of the
                                // enclosing group: no item.
                                return Ok(None);
                            }
                            b':' => break,
                            b'-' if hyphen_ok => {
                                set = false;
                                hyphen_ok = false;
                            }
                            b'i' => self.opts.caseless = set,
                            b'm' => self.opts.multiline = set,
                            b'n' => self.opts.no_auto_capture = set,
                            b's' => self.opts.dotall = set,
                            b'U' => self.opts.ungreedy = set,
                            b'x' => {
                                let more = self.peek() == Some(b'x');
                                if more {
                                    self.pos += 1;
                                }
                                self.opts.extended = set;
                                // x alone sets extended and clears xx;
                                // unsetting x clears both.
                                self.opts.extended_more = set && more;
                            }
                            b'J' => return Err(unsupported(at, "duplicate group names (?J)")),
                            b'a' | b'r' => {
                                return Err(unsupported(
                                    at,
                                    "ASCII/caseless-restrict options (?a) (?r)",
                                ));
                            }
                            _ => {
                                return Err(invalid(at, "unrecognized character after (? or (?-"));
                            }
                        }
                    }
                    kind = Kind::NonCapture;
                }
            }
        }
        let index = match &kind {
            Kind::Capture(name) => {
                if name.is_some() || !self.opts.no_auto_capture {
                    if self.caps >= MAX_GROUP {
                        return Err(invalid(start, "too many capture groups"));
                    }
                    self.caps += 1;
                    if let Some(name) = name {
                        if self.names.iter().any(|(n, _)| n == name) {
                            return Err(invalid(start, "two named subpatterns have the same name"));
                        }
                        self.names.push((name.clone(), self.caps));
                    }
                    Some(self.caps)
                } else {
                    None
                }
            }
            _ => None,
        };
        self.depth += 1;
        let body = self.parse_alt()?;
        self.depth -= 1;
        if self.peek() != Some(b')') {
            return Err(invalid(start, "missing closing parenthesis"));
        }
        self.pos += 1;
        self.opts = saved;
        Ok(Some(match kind {
            Kind::Capture(_) | Kind::NonCapture => (
                Node::Group {
                    index,
                    node: Box::new(body),
                },
                true,
            ),
            Kind::Atomic => (Node::Atomic(Box::new(body)), true),
            Kind::Look { behind, negated } => {
                if behind {
                    check_lookbehind(&body, start)?;
                }
                if contains_keepout(&body) {
                    return Err(unsupported(start, "\\K inside a lookaround"));
                }
                (
                    Node::Look {
                        behind,
                        negated,
                        node: Box::new(body),
                    },
                    true,
                )
            }
        }))
    }

    /// Reads a group name up to `term` (consumed): a non-digit first, then
    /// `[A-Za-z0-9_]`, at most 32 long.
    fn read_name(&mut self, term: u8) -> Result<Vec<u8>, ParseError> {
        let start = self.pos;
        let mut name = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(invalid(
                    start,
                    "syntax error in subpattern name (missing terminator?)",
                ));
            };
            self.pos += 1;
            if c == term {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == b'_') {
                return Err(invalid(
                    start,
                    "syntax error in subpattern name (missing terminator?)",
                ));
            }
            name.push(c);
        }
        if name.is_empty() {
            return Err(invalid(start, "subpattern name expected"));
        }
        if name[0].is_ascii_digit() {
            return Err(invalid(
                start,
                "subpattern name must start with a non-digit",
            ));
        }
        if name.len() > 32 {
            return Err(invalid(
                start,
                "subpattern name is too long (maximum 32 code units)",
            ));
        }
        Ok(name)
    }

    /// Parses an escape; `self.pos` is just after the backslash.
    fn parse_escape(&mut self, in_class: bool) -> Result<Escape, ParseError> {
        let start = self.pos - 1;
        let Some(c) = self.peek() else {
            return Err(invalid(start, "\\ at end of pattern"));
        };
        self.pos += 1;
        if !c.is_ascii_alphanumeric() {
            return Ok(Escape::Byte(c));
        }
        let not_in_class = |e: Escape| -> Result<Escape, ParseError> {
            if in_class {
                Err(invalid(
                    start,
                    "escape sequence is invalid in character class",
                ))
            } else {
                Ok(e)
            }
        };
        Ok(match c {
            b'a' => Escape::Byte(0x07),
            b'e' => Escape::Byte(0x1b),
            b'f' => Escape::Byte(0x0c),
            b'n' => Escape::Byte(b'\n'),
            b'r' => Escape::Byte(b'\r'),
            b't' => Escape::Byte(b'\t'),
            b'b' if in_class => Escape::Byte(0x08),
            b'b' => Escape::Assert(Assertion::WordBoundary),
            b'B' => not_in_class(Escape::Assert(Assertion::NotWordBoundary))?,
            b'A' => not_in_class(Escape::Assert(Assertion::StartText))?,
            b'Z' => not_in_class(Escape::Assert(Assertion::EndTextOptNl))?,
            b'z' => not_in_class(Escape::Assert(Assertion::EndText))?,
            b'G' => not_in_class(Escape::Assert(Assertion::StartOfSearch))?,
            b'K' => not_in_class(Escape::KeepOut)?,
            b'C' => not_in_class(Escape::Set(ByteSet::FULL))?,
            b'R' => not_in_class(Escape::NewlineSeq)?,
            b'X' => {
                if in_class {
                    return Err(invalid(
                        start,
                        "escape sequence is invalid in character class",
                    ));
                }
                return Err(unsupported(start, "\\X (extended grapheme cluster)"));
            }
            b'p' | b'P' => return Err(unsupported(start, "\\p / \\P (Unicode properties)")),
            b'd' => Escape::Set(byteset::digit()),
            b'D' => Escape::Set(byteset::digit().complement()),
            b's' => Escape::Set(byteset::space()),
            b'S' => Escape::Set(byteset::space().complement()),
            b'w' => Escape::Set(byteset::word()),
            b'W' => Escape::Set(byteset::word().complement()),
            b'h' => Escape::Set(byteset::hspace()),
            b'H' => Escape::Set(byteset::hspace().complement()),
            b'v' => Escape::Set(byteset::vspace()),
            b'V' => Escape::Set(byteset::vspace().complement()),
            b'N' => {
                if in_class {
                    return Err(invalid(start, "\\N is not supported in a class"));
                }
                if self.peek() == Some(b'{') {
                    // Only a quantifier may follow (\N{U+..} needs UTF).
                    match self.read_repeat(self.pos + 1)? {
                        Some(_) => {}
                        None => {
                            return Err(invalid(
                                start,
                                "\\N{U+dddd} is supported only in Unicode (UTF) mode",
                            ));
                        }
                    }
                }
                Escape::Set(ByteSet::all_but(b'\n'))
            }
            b'g' if in_class => Escape::Byte(b'g'),
            b'k' if in_class => Escape::Byte(b'k'),
            b'g' => self.parse_g(start)?,
            b'k' => {
                let term = match self.peek() {
                    Some(b'<') => b'>',
                    Some(b'\'') => b'\'',
                    Some(b'{') => b'}',
                    _ => {
                        return Err(invalid(
                            start,
                            "\\k is not followed by a name in braces, angle brackets, or quotes",
                        ));
                    }
                };
                self.pos += 1;
                Escape::NamedBackref(self.read_name(term)?)
            }
            b'0'..=b'9' => self.parse_digits(c, in_class, start)?,
            b'o' => {
                if self.peek() != Some(b'{') {
                    return Err(invalid(start, "missing opening brace after \\o"));
                }
                self.pos += 1;
                let mut v: u32 = 0;
                let mut n = 0;
                while let Some(d @ b'0'..=b'7') = self.peek() {
                    self.pos += 1;
                    n += 1;
                    v = v.saturating_mul(8).saturating_add(u32::from(d - b'0'));
                }
                if self.peek() != Some(b'}') || n == 0 {
                    return Err(unsupported(start, "\\o{...} with spaces or malformed"));
                }
                self.pos += 1;
                if v > 0xff {
                    return Err(invalid(
                        start,
                        "character code point value in \\o{} is too large",
                    ));
                }
                Escape::Byte(v as u8)
            }
            b'x' => {
                if self.peek() == Some(b'{') {
                    self.pos += 1;
                    let mut v: u32 = 0;
                    let mut n = 0;
                    while let Some(h) = self.peek().and_then(hex) {
                        self.pos += 1;
                        n += 1;
                        v = v.saturating_mul(16).saturating_add(h);
                    }
                    if n == 0 || self.peek() != Some(b'}') {
                        // 10.46 errors; spaces are allowed in newer
                        // versions only.
                        return Err(unsupported(start, "\\x{...} malformed or with spaces"));
                    }
                    self.pos += 1;
                    if v > 0xff {
                        return Err(invalid(
                            start,
                            "character code point value in \\x{} or \\o{} is too large",
                        ));
                    }
                    Escape::Byte(v as u8)
                } else {
                    let Some(h1) = self.peek().and_then(hex) else {
                        // NUL in PCRE2 before 10.43, an error after.
                        return Err(unsupported(
                            start,
                            "\\x without hex digits (version-dependent)",
                        ));
                    };
                    self.pos += 1;
                    let mut v = h1;
                    if let Some(h2) = self.peek().and_then(hex) {
                        self.pos += 1;
                        v = v * 16 + h2;
                    }
                    Escape::Byte(v as u8)
                }
            }
            b'c' => {
                let Some(mut x) = self.peek() else {
                    return Err(invalid(start, "\\c at end of pattern"));
                };
                self.pos += 1;
                x = x.to_ascii_uppercase();
                if !(32..=126).contains(&x) {
                    return Err(invalid(
                        start,
                        "\\c must be followed by a printable ASCII character",
                    ));
                }
                Escape::Byte(x ^ 0x40)
            }
            _ => return Err(invalid(start, "unrecognized character follows \\")),
        })
    }

    /// `\g` forms: `\gN`, `\g{N}`, `\g-N`, `\g{-N}`, `\g{name}`; `\g<..>`
    /// and `\g'..'` are subroutine calls.
    fn parse_g(&mut self, start: usize) -> Result<Escape, ParseError> {
        let braced = match self.peek() {
            Some(b'<' | b'\'') => return Err(unsupported(start, "recursion or subroutine call")),
            Some(b'{') => {
                self.pos += 1;
                true
            }
            Some(_) => false,
            None => return Err(invalid(start, "a numbered reference must not be zero")),
        };
        let neg = self.peek() == Some(b'-');
        let plus = self.peek() == Some(b'+');
        if neg || plus {
            self.pos += 1;
        }
        let ds = self.pos;
        while self.peek().is_some_and(|d| d.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == ds {
            if braced && !neg && !plus {
                self.pos = ds;
                return Ok(Escape::NamedBackref(self.read_name(b'}')?));
            }
            return Err(invalid(
                start,
                "\\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number",
            ));
        }
        let n = digits_value(&self.p[ds..self.pos]);
        if braced {
            if self.peek() != Some(b'}') {
                return Err(unsupported(start, "\\g{...} malformed or with spaces"));
            }
            self.pos += 1;
        }
        if plus {
            return Err(unsupported(start, "relative forward reference \\g{+n}"));
        }
        let group = if neg {
            if n == 0 {
                return Err(invalid(start, "a relative value of zero is not allowed"));
            }
            if n > self.caps {
                return Err(ParseError::NonexistentGroup { offset: start });
            }
            self.caps - n + 1
        } else {
            n
        };
        if group == 0 {
            return Err(invalid(start, "a numbered reference must not be zero"));
        }
        if group > MAX_GROUP {
            return Err(invalid(start, "subpattern number is too big"));
        }
        Ok(Escape::Backref(group))
    }

    /// `\` followed by a digit `c` (already consumed).
    fn parse_digits(&mut self, c: u8, in_class: bool, start: usize) -> Result<Escape, ParseError> {
        if c != b'0' && !in_class {
            // Perl-style disambiguation between references and octal.
            let ds = self.pos - 1;
            let mut e = self.pos;
            while e < self.p.len() && self.p[e].is_ascii_digit() {
                e += 1;
            }
            let s = digits_value(&self.p[ds..e]);
            if s < 10 || c >= b'8' || s <= self.caps {
                if s > MAX_GROUP {
                    return Err(invalid(start, "subpattern number is too big"));
                }
                self.pos = e;
                return Ok(Escape::Backref(s));
            }
        }
        if c >= b'8' {
            // In a class (or after the reference test), \8 and \9 are
            // the literal digits.
            return Ok(Escape::Byte(c));
        }
        let mut v = u32::from(c - b'0');
        let mut i = 0;
        while i < 2 {
            match self.peek() {
                Some(d @ b'0'..=b'7') => {
                    self.pos += 1;
                    v = v * 8 + u32::from(d - b'0');
                    i += 1;
                }
                _ => break,
            }
        }
        if v > 0xff {
            return Err(invalid(
                start,
                "octal value is greater than \\377 in 8-bit non-UTF mode",
            ));
        }
        Ok(Escape::Byte(v as u8))
    }

    /// Checks PCRE's POSIX class syntax at `at` (the `:`/`.`/`=` after a
    /// `[`): returns the index of the terminator `:` of `[:name:]`.
    fn posix_syntax(&self, at: usize) -> Option<usize> {
        let p = self.p;
        let term = p[at];
        let mut i = at + 1;
        while i + 2 <= p.len() {
            if p[i] == b'\\' && (p[i + 1] == b']' || p[i + 1] == b'\\') {
                i += 1;
            } else if (p[i] == b'[' && p[i + 1] == term) || p[i] == b']' {
                return None;
            } else if p[i] == term && p[i + 1] == b']' {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Parses a class at `[`.
    fn parse_class(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        if self.rest().starts_with(b"[[:<:]]") || self.rest().starts_with(b"[[:>:]]") {
            return Err(unsupported(start, "[[:<:]] / [[:>:]] word boundaries"));
        }
        if matches!(self.peek_at(1), Some(b':' | b'.' | b'='))
            && self.posix_syntax(start + 1).is_some()
        {
            return Err(invalid(
                start,
                "POSIX named classes are supported only within a class",
            ));
        }
        self.pos += 1;
        let mut negate = false;
        let mut set = ByteSet::EMPTY;
        let mut state = RangeState::No;
        let eoc = |s: &Self| invalid(s.pos, "missing terminating ] for character class");
        // The class start: \E, \Q\E, (xx) spaces, one ^.
        loop {
            let Some(c) = self.peek() else {
                return Err(eoc(self));
            };
            if c == b'\\' && self.peek_at(1) == Some(b'E') {
                self.pos += 2;
            } else if self.rest().starts_with(b"\\Q\\E") {
                self.pos += 4;
            } else if self.opts.extended_more && (c == b' ' || c == b'\t') {
                self.pos += 1;
            } else if !negate && c == b'^' {
                negate = true;
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.peek() == Some(b']') {
            self.pos += 1;
            set.insert(b']');
            state = RangeState::Ok(b']');
        }
        let mut escq = false;
        loop {
            let Some(c) = self.peek() else {
                return Err(eoc(self));
            };
            let at = self.pos;
            // The byte of a literal item, if this is one.
            let lit: u8;
            if escq {
                if c == b'\\' && self.peek_at(1) == Some(b'E') {
                    escq = false;
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                lit = c;
            } else if self.opts.extended_more && (c == b' ' || c == b'\t') {
                self.pos += 1;
                continue;
            } else if let Some(end) = (c == b'['
                && matches!(self.peek_at(1), Some(b':' | b'.' | b'='))
                && self.p.len() - self.pos >= 4)
                .then(|| self.posix_syntax(at + 1))
                .flatten()
            {
                if matches!(state, RangeState::Started(_) | RangeState::ForbidStarted) {
                    return Err(invalid(at, "invalid range in character class"));
                }
                if self.p[at + 1] != b':' {
                    return Err(invalid(at, "POSIX collating elements are not supported"));
                }
                let mut name = &self.p[at + 2..end];
                let neg = name.first() == Some(&b'^');
                if neg {
                    name = &name[1..];
                }
                let mut class =
                    byteset::posix(name).ok_or_else(|| invalid(at, "unknown POSIX class name"))?;
                if self.opts.caseless && (name == b"upper" || name == b"lower") {
                    class = byteset::posix(b"alpha").unwrap_or(class);
                }
                set = set.union(if neg { class.complement() } else { class });
                self.pos = end + 2;
                state = RangeState::ForbidNo;
                continue;
            } else if c == b']' {
                self.pos += 1;
                if matches!(state, RangeState::Started(_)) {
                    set.insert(b'-');
                }
                break;
            } else if c == b'\\' {
                self.pos += 1;
                if self.peek() == Some(b'Q') {
                    self.pos += 1;
                    escq = true;
                    continue;
                }
                if self.peek() == Some(b'E') {
                    self.pos += 1;
                    continue;
                }
                match self.parse_escape(true)? {
                    Escape::Byte(b) => lit = b,
                    Escape::Set(s) => {
                        if matches!(state, RangeState::Started(_) | RangeState::ForbidStarted) {
                            return Err(invalid(at, "invalid range in character class"));
                        }
                        set = set.union(s);
                        state = RangeState::ForbidNo;
                        continue;
                    }
                    _ => return Err(invalid(at, "escape sequence is invalid in character class")),
                }
            } else if c == b'-' && matches!(state, RangeState::Ok(_)) {
                self.pos += 1;
                if let RangeState::Ok(b) = state {
                    state = RangeState::Started(b);
                }
                continue;
            } else if c == b'-' && state == RangeState::ForbidNo {
                self.pos += 1;
                set.insert(b'-');
                state = RangeState::ForbidStarted;
                continue;
            } else {
                self.pos += 1;
                lit = c;
            }
            match state {
                RangeState::Started(lo) => {
                    if lit < lo {
                        return Err(invalid(at, "range out of order in character class"));
                    }
                    set.insert_range(lo, lit);
                    state = RangeState::No;
                }
                RangeState::ForbidStarted => {
                    return Err(invalid(at, "invalid range in character class"));
                }
                _ => {
                    set.insert(lit);
                    state = RangeState::Ok(lit);
                }
            }
        }
        if self.opts.caseless {
            set = set.fold_ascii_case();
        }
        Ok(Node::Set(if negate { set.complement() } else { set }))
    }
}

fn digits_value(d: &[u8]) -> u32 {
    d.iter().fold(0u32, |v, &c| {
        v.saturating_mul(10).saturating_add(u32::from(c - b'0'))
    })
}

/// `\R` in 8-bit non-UTF mode: `(?>\r\n|\n|\x0b|\x0c|\r|\x85)`.
fn newline_seq() -> Node {
    Node::Atomic(Box::new(Node::Alt(vec![
        Node::Concat(vec![
            Node::Set(ByteSet::single(b'\r')),
            Node::Set(ByteSet::single(b'\n')),
        ]),
        Node::Set(byteset::vspace()),
    ])))
}

fn concat(mut items: Vec<Node>) -> Node {
    match items.len() {
        0 => Node::Empty,
        1 => items.pop().unwrap_or(Node::Empty),
        _ => Node::Concat(items),
    }
}

fn contains_keepout(n: &Node) -> bool {
    match n {
        Node::KeepOut => true,
        Node::Concat(v) | Node::Alt(v) => v.iter().any(contains_keepout),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => contains_keepout(node),
        _ => false,
    }
}

/// The length every match of `n` has, if it is fixed.
pub(crate) fn fixed_len(n: &Node) -> Option<u64> {
    match n {
        Node::Empty | Node::Assert(_) | Node::Look { .. } | Node::KeepOut => Some(0),
        Node::Set(_) => Some(1),
        Node::Concat(v) => v.iter().try_fold(0u64, |a, n| Some(a + fixed_len(n)?)),
        Node::Alt(v) => {
            let first = fixed_len(v.first()?)?;
            v.iter()
                .all(|n| fixed_len(n) == Some(first))
                .then_some(first)
        }
        Node::Group { node, .. } | Node::Atomic(node) => fixed_len(node),
        Node::Repeat { node, min, max, .. } => {
            if Some(*min) == *max {
                Some(fixed_len(node)? * u64::from(*min))
            } else {
                None
            }
        }
        Node::Backref { .. } => None,
    }
}

/// PCRE2 before 10.43 requires each top-level branch of a lookbehind to
/// have a fixed length (10.43+ allows bounded variable lengths).
fn check_lookbehind(body: &Node, at: usize) -> Result<(), ParseError> {
    let branches: &[Node] = match body {
        Node::Alt(v) => v,
        other => std::slice::from_ref(other),
    };
    for b in branches {
        if contains_backref(b) {
            return Err(unsupported(at, "back reference inside a lookbehind"));
        }
        if fixed_len(b).is_none() {
            return Err(unsupported(
                at,
                "variable-length lookbehind (PCRE2 >= 10.43 only)",
            ));
        }
    }
    Ok(())
}

fn contains_backref(n: &Node) -> bool {
    match n {
        Node::Backref { .. } => true,
        Node::Concat(v) | Node::Alt(v) => v.iter().any(contains_backref),
        Node::Group { node, .. }
        | Node::Repeat { node, .. }
        | Node::Atomic(node)
        | Node::Look { node, .. } => contains_backref(node),
        _ => false,
    }
}
