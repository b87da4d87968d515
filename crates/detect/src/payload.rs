//! Payload inspection: Suricata's `DetectEngineContentInspection` as a pure
//! module.
//!
//! A rule's payload keywords for one buffer (the packet payload, the stream,
//! or a sticky buffer such as `http.uri`) compile, in rule order, into a
//! [`Program`]: a sequence of [`Step`]s (`content` with its modifiers,
//! `isdataat`, `byte_test`, `byte_jump`, `byte_extract`, `byte_math`, and
//! `pcre` through the [`RegexStep`] hook). [`Program::inspect`] runs it on
//! a buffer with Suricata's semantics:
//!
//! * a running cursor (`buffer_offset`): the end of the last `content` or
//!   `pcre` match, moved by `byte_jump`, `byte_extract` and `byte_math`;
//! * relative matching: `distance`/`within` measure from the cursor, and so
//!   do `relative` `isdataat`, byte keywords and `pcre` (`/R`);
//! * backtracking: when a later step fails, a `content` that a later
//!   `within` (or a relative `isdataat`, byte keyword or `pcre`) depends on
//!   is retried at its next occurrence, and so is a `pcre` followed by a
//!   relative step; every recursive step counts against
//!   `inspection_recursion_limit` (3000 by default), and reaching it ends
//!   the inspection with no match;
//! * negated contents: the pattern must not occur in the window; a negated
//!   content neither moves the cursor nor is retried;
//! * `endswith` (and `isdataat:!1,relative` right after a content, which
//!   Suricata turns into `endswith`) anchors the match at the buffer end;
//! * `byte_extract`/`byte_math` results are stored in [`Vars`] and carried
//!   to later steps (and to later buffers of the same rule);
//! * `base64_decode` decodes part of the buffer (RFC 4648 mode, see
//!   [`Base64Decode`]) into the per-thread [`DecodeBuf`] and, as in
//!   Suricata, runs the keywords after `base64_data` on the decoded bytes
//!   right there: the rule matches if they match, and the `base64_decode`
//!   step fails otherwise (also without `base64_data`, or when nothing was
//!   decoded). It is terminal: payload keywords after it, before
//!   `base64_data`, are never evaluated (they still feed the prefilter).
//!
//! Building a program applies Suricata's setup-time checks (conflicting
//! absolute and relative modifiers, `depth` shorter than the pattern,
//! `within` shorter than the pattern, `fast_pattern` conflicts, unknown
//! variables), each error naming the keyword.
//!
//! Inspection allocates nothing: searchers are prebuilt, variables live in
//! a fixed array, the decode buffer is the caller's (allocated once per
//! thread), and the backtracking recursion is bounded by the program length
//! and the recursion limit.
//!
//! ## Where this follows Suricata's code rather than its documentation
//!
//! * `byte_jump`'s `bitmask` is documented by Suricata but its parser
//!   rejects it; it is accepted here with the documented meaning (mask,
//!   then shift right by the mask's trailing zeros, before the multiplier).
//!   `byte_extract` has no `bitmask` in Suricata; it is accepted with the
//!   same meaning as an extension.
//! * `byte_extract ... slice` is rejected (its meaning is not documented).
//! * Suricata's MPM-only optimisations (`DetectContentPropagateLimits`,
//!   skipping `fast_pattern:only` contents) are not applied: they never
//!   change the outcome, only how early a miss is found.
//! * A relative `isdataat`, byte keyword or `pcre` that is the first
//!   pattern-relative keyword after `base64_data` does not mark the content
//!   before `base64_decode` for retrying (Suricata looks across buffers for
//!   it); `byte_math ... relative` there is rejected.
//! * `dce` byte order: without DCE/RPC information (see
//!   [`Program::inspect_with`]) `byte_test`/`byte_jump` read big endian and
//!   `byte_extract`/`byte_math` little endian, as Suricata does.

mod base64;
mod cnum;
mod engine;
mod parse;
mod search;

use std::fmt;
use std::sync::Arc;

pub use crate::header::KeywordError;
pub use base64::{
    BASE64_DECODE_MAX, BASE64_DECODED_MAX, Base64Decode, DecodeBuf, decode_rfc4648, decoded_bound,
};
use parse::err;
pub use parse::{
    Base, ByteExtract, ByteJump, ByteMath, ByteTest, ByteTestOp, CONTENT_VALUE_MAX, ContentPattern,
    Dsize, Endian, Escapes, ExtractEndian, FastPattern, IsDataAt, JumpFrom, MathOp, NumOrVar,
    parse_depth_offset, parse_distance_within,
};
use search::Searcher;

/// How many `byte_extract`/`byte_math` variables one rule may define.
pub const MAX_VARS: usize = 16;

/// How many steps one program may have.
pub const MAX_STEPS: usize = 256;

/// Suricata's default `detect.inspection-recursion-limit`.
pub const DEFAULT_RECURSION_LIMIT: u32 = 3000;

/// The keywords [`ProgramBuilder::apply`] handles (`pcre` goes through
/// [`ProgramBuilder::regex`], `dsize` through [`Dsize`]).
pub const KEYWORDS: &[&str] = &[
    "content",
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "fast_pattern",
    "rawbytes",
    "isdataat",
    "byte_test",
    "byte_jump",
    "byte_extract",
    "byte_math",
    "base64_decode",
    "base64_data",
];

/// The hook for `pcre` steps, implemented by the PCRE module.
pub trait RegexStep: Send + Sync {
    /// The first match in `hay` starting at or after `start` (which may be
    /// `hay.len()`), as `(match start, match end)`; `^` and lookbehind see
    /// the bytes before `start`, as with `pcre2_match`'s start offset.
    /// For a relative regex, `hay` begins at the cursor.
    fn find_at(&self, hay: &[u8], start: usize) -> Option<(usize, usize)>;
    /// `/R`: match from the cursor rather than the buffer start.
    fn relative(&self) -> bool;
    /// `pcre:!"..."`: the step matches when the regex does not.
    fn negated(&self) -> bool;
    /// The HTTP buffer its modifier letters select (`/U`, `/H`, ...), if
    /// any: the rule list it belongs to.
    fn http_buffer(&self) -> Option<crate::buffer::Buffer> {
        None
    }
}

/// A variable slot, from [`RuleScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(u8);

impl VarId {
    /// The slot index in [`Vars`].
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Values of a rule's `byte_extract`/`byte_math` variables during one
/// inspection (or several buffers of one rule): a fixed array, no heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vars {
    values: [u64; MAX_VARS],
}

impl Default for Vars {
    fn default() -> Self {
        Vars::new()
    }
}

impl Vars {
    /// All variables zero (as Suricata's per-thread array starts).
    pub fn new() -> Vars {
        Vars {
            values: [0; MAX_VARS],
        }
    }

    /// A variable's value.
    pub fn get(&self, id: VarId) -> u64 {
        self.values[id.index()]
    }

    /// Sets a variable.
    pub fn set(&mut self, id: VarId, value: u64) {
        self.values[id.index()] = value;
    }
}

/// Which keyword defined a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarSource {
    /// `byte_extract`.
    ByteExtract,
    /// `byte_math`'s `result`.
    ByteMath,
}

/// Per-rule state shared by the programs of one rule's buffers: the
/// variable names and whether a content already has `fast_pattern`.
#[derive(Debug, Clone, Default)]
pub struct RuleScope {
    vars: Vec<(String, VarSource)>,
    fast_pattern: bool,
}

impl RuleScope {
    /// An empty scope.
    pub fn new() -> RuleScope {
        RuleScope::default()
    }

    /// Looks a variable up as Suricata does: the first `byte_extract` of
    /// that name, else the first `byte_math` result of that name.
    pub fn var(&self, name: &str) -> Option<VarId> {
        let find = |src: VarSource| {
            self.vars
                .iter()
                .position(|(n, s)| *s == src && n == name)
                .map(|i| VarId(i as u8))
        };
        find(VarSource::ByteExtract).or_else(|| find(VarSource::ByteMath))
    }

    /// How many variables are defined.
    pub fn var_count(&self) -> usize {
        self.vars.len()
    }

    fn define(
        &mut self,
        keyword: &'static str,
        name: &str,
        src: VarSource,
    ) -> Result<VarId, KeywordError> {
        if self.vars.len() >= MAX_VARS {
            return Err(err(
                keyword,
                format!("too many byte_extract/byte_math variables (at most {MAX_VARS})"),
            ));
        }
        self.vars.push((name.to_string(), src));
        Ok(VarId((self.vars.len() - 1) as u8))
    }

    fn resolve<T>(
        &self,
        keyword: &'static str,
        v: NumOrVar<T>,
    ) -> Result<Operand<T>, KeywordError> {
        match v {
            NumOrVar::Num(n) => Ok(Operand::Lit(n)),
            NumOrVar::Var(name) => self.var(&name).map(Operand::Var).ok_or_else(|| {
                err(
                    keyword,
                    format!("unknown byte_extract/byte_math variable '{name}'"),
                )
            }),
        }
    }
}

/// A compiled numeric argument: a literal or a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand<T> {
    /// A literal.
    Lit(T),
    /// A `byte_extract`/`byte_math` variable.
    Var(VarId),
}

/// The kind of buffer a program inspects; it decides which earlier keyword
/// a `relative` keyword attaches to, as in Suricata's setup functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BufferKind {
    /// The packet payload / stream (`DETECT_SM_LIST_PMATCH`): a relative
    /// `isdataat` or byte keyword follows the previous payload keyword of
    /// any kind, and `pcre` with `/R` needs a previous `content` or `pcre`.
    #[default]
    Payload,
    /// A sticky buffer: relative keywords follow the previous `content` or
    /// `pcre`.
    Sticky,
}

/// DCE/RPC byte order for the `dce` option, when the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DceEndian {
    /// The DCE/RPC record is little endian.
    Little,
    /// The DCE/RPC record is big endian.
    Big,
}

/// A compiled `content` and its modifiers.
#[derive(Clone)]
pub struct ContentStep {
    /// The pattern bytes.
    pub pattern: Vec<u8>,
    /// `content:!"..."`.
    pub negated: bool,
    /// `nocase`.
    pub nocase: bool,
    /// `depth` (as written: relative to `offset`).
    pub depth: Option<Operand<u16>>,
    /// `offset`.
    pub offset: Option<Operand<u16>>,
    /// `distance`.
    pub distance: Option<Operand<i32>>,
    /// `within`.
    pub within: Option<Operand<i32>>,
    /// `startswith` (also sets `depth` to the pattern length).
    pub starts_with: bool,
    /// `endswith`, or a following `isdataat:!1,relative`.
    pub ends_with: bool,
    /// `rawbytes` (no effect).
    pub rawbytes: bool,
    /// `fast_pattern` (prefilter hint; no effect on inspection).
    pub fast_pattern: Option<FastPattern>,
    /// A later `within` depends on this match (`DETECT_CONTENT_WITHIN_NEXT`):
    /// a failure after it retries the next occurrence.
    pub within_next: bool,
    /// A later `distance` depends on this match
    /// (`DETECT_CONTENT_DISTANCE_NEXT`).
    pub distance_next: bool,
    static_depth: u16,
    searcher: Option<Searcher>,
}

impl fmt::Debug for ContentStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentStep")
            .field("pattern", &self.pattern.escape_ascii().to_string())
            .field("negated", &self.negated)
            .field("nocase", &self.nocase)
            .field("depth", &self.depth)
            .field("offset", &self.offset)
            .field("distance", &self.distance)
            .field("within", &self.within)
            .field("starts_with", &self.starts_with)
            .field("ends_with", &self.ends_with)
            .field("fast_pattern", &self.fast_pattern)
            .field("within_next", &self.within_next)
            .field("distance_next", &self.distance_next)
            .finish()
    }
}

impl ContentStep {
    fn new(p: ContentPattern) -> ContentStep {
        ContentStep {
            pattern: p.bytes,
            negated: p.negated,
            nocase: false,
            depth: None,
            offset: None,
            distance: None,
            within: None,
            starts_with: false,
            ends_with: false,
            rawbytes: false,
            fast_pattern: None,
            within_next: false,
            distance_next: false,
            static_depth: 0,
            searcher: None,
        }
    }

    /// `distance` or `within`: the match is relative to the cursor.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// Suricata's `DETECT_CONTENT_IS_SINGLE`: no relative or absolute
    /// modifier and nothing relative after it; a negated single content
    /// that matches ends the inspection.
    pub fn is_single(&self) -> bool {
        !(self.is_relative()
            || self.within_next
            || self.distance_next
            || self.depth.is_some()
            || self.offset.is_some())
    }

    fn fp_only(&self) -> bool {
        self.fast_pattern == Some(FastPattern::Only)
    }

    fn set_relative_next(&mut self) {
        self.within_next = true;
        self.distance_next = true;
    }
}

/// A compiled `isdataat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsDataAtStep {
    /// `!`.
    pub negated: bool,
    /// `relative`.
    pub relative: bool,
    /// The position.
    pub value: Operand<u16>,
}

/// A compiled `byte_test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteTestStep {
    /// Bytes to read.
    pub nbytes: Operand<u8>,
    /// `!` before the operator.
    pub negated: bool,
    /// The comparison.
    pub op: ByteTestOp,
    /// The value compared against.
    pub value: Operand<u64>,
    /// Where to read.
    pub offset: Operand<i32>,
    /// `relative`.
    pub relative: bool,
    /// Byte order of binary reads.
    pub endian: Endian,
    /// `string`.
    pub string: bool,
    /// `strtoull` base.
    pub base: Base,
    /// `dce`.
    pub dce: bool,
    /// `bitmask` and its trailing-zero shift.
    pub bitmask: Option<(u32, u32)>,
}

/// A compiled `byte_jump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteJumpStep {
    /// Bytes to read.
    pub nbytes: Operand<u8>,
    /// Where to read.
    pub offset: Operand<i32>,
    /// `relative`.
    pub relative: bool,
    /// `multiplier`.
    pub multiplier: u16,
    /// Byte order of binary reads.
    pub endian: Endian,
    /// `string`.
    pub string: bool,
    /// `strtoull` base.
    pub base: Base,
    /// `align`.
    pub align: bool,
    /// Where the jump starts.
    pub from: JumpFrom,
    /// `post_offset`.
    pub post_offset: i32,
    /// `dce`.
    pub dce: bool,
    /// `bitmask` and its trailing-zero shift.
    pub bitmask: Option<(u32, u32)>,
}

/// A compiled `byte_extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteExtractStep {
    /// Bytes to read.
    pub nbytes: u8,
    /// Where to read.
    pub offset: i32,
    /// The variable written.
    pub var: VarId,
    /// `relative`.
    pub relative: bool,
    /// `multiplier`.
    pub multiplier: u16,
    /// Byte order of binary reads.
    pub endian: ExtractEndian,
    /// `string`.
    pub string: bool,
    /// `strtoull` base.
    pub base: Base,
    /// `align`.
    pub align: Option<u8>,
    /// `bitmask` and its trailing-zero shift.
    pub bitmask: Option<(u32, u32)>,
}

/// A compiled `byte_math`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteMathStep {
    /// Bytes to read.
    pub nbytes: Operand<u8>,
    /// Where to read.
    pub offset: i32,
    /// The operation.
    pub oper: MathOp,
    /// The right operand.
    pub rvalue: Operand<u32>,
    /// The variable written.
    pub var: VarId,
    /// `relative`.
    pub relative: bool,
    /// Byte order of binary reads.
    pub endian: ExtractEndian,
    /// `string` base.
    pub string: Option<Base>,
    /// `bitmask` and its trailing-zero shift.
    pub bitmask: Option<(u32, u32)>,
}

/// A compiled `pcre`.
#[derive(Clone)]
pub struct RegexStepData {
    /// The regex.
    pub regex: Arc<dyn RegexStep>,
    /// A later relative step depends on this match
    /// (`DETECT_PCRE_RELATIVE_NEXT`): a failure after it retries the regex
    /// past the start of this match.
    pub relative_next: bool,
}

impl fmt::Debug for RegexStepData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegexStepData")
            .field("relative", &self.regex.relative())
            .field("negated", &self.regex.negated())
            .field("relative_next", &self.relative_next)
            .finish_non_exhaustive()
    }
}

/// One step of a program.
#[derive(Debug, Clone)]
pub enum Step {
    /// `content` with its modifiers.
    Content(ContentStep),
    /// `isdataat`.
    IsDataAt(IsDataAtStep),
    /// `byte_test`.
    ByteTest(ByteTestStep),
    /// `byte_jump`.
    ByteJump(ByteJumpStep),
    /// `byte_extract`.
    ByteExtract(ByteExtractStep),
    /// `byte_math`.
    ByteMath(ByteMathStep),
    /// `pcre`.
    Regex(RegexStepData),
    /// `base64_decode`: decodes, then runs the program's `base64_data`
    /// steps on the decoded bytes.
    Base64Decode(Base64Decode),
}

impl Step {
    /// The keyword this step came from.
    pub fn keyword(&self) -> &'static str {
        match self {
            Step::Content(_) => "content",
            Step::IsDataAt(_) => "isdataat",
            Step::ByteTest(_) => "byte_test",
            Step::ByteJump(_) => "byte_jump",
            Step::ByteExtract(_) => "byte_extract",
            Step::ByteMath(_) => "byte_math",
            Step::Regex(_) => "pcre",
            Step::Base64Decode(_) => "base64_decode",
        }
    }
}

/// A compiled inspection program for one buffer.
#[derive(Debug, Clone)]
pub struct Program {
    steps: Vec<Step>,
    /// The keywords after `base64_decode`'s `base64_data` (Suricata's
    /// `DETECT_SM_LIST_BASE64_DATA`); `None` without `base64_data`.
    base64_data: Option<Vec<Step>>,
    recursion_limit: u32,
}

/// The outcome of [`Program::inspect_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    /// The buffer matched.
    pub matched: bool,
    /// Recursive step evaluations, counted as Suricata counts them against
    /// the recursion limit.
    pub steps: u32,
    /// The recursion limit ended the inspection.
    pub limit_reached: bool,
}

impl Program {
    /// Compiles `name`/`value` options (values with rule-level escapes
    /// removed) into a program with a scope of its own; for tests and
    /// single-buffer rules.
    pub fn compile<'a>(
        kind: BufferKind,
        options: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Result<Program, KeywordError> {
        let mut scope = RuleScope::new();
        let mut b = ProgramBuilder::new(&mut scope, kind);
        for (name, value) in options {
            if !b.apply(name, value)? {
                return Err(err("payload", format!("'{name}' is not a payload keyword")));
            }
        }
        b.build()
    }

    /// The steps, in rule order (those after `base64_data` excluded).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The steps after `base64_data`, which inspect the decoded bytes;
    /// `None` when the rule has no `base64_data`.
    pub fn base64_data(&self) -> Option<&[Step]> {
        self.base64_data.as_deref()
    }

    /// No steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The recursion limit used by [`Program::inspect`].
    pub fn recursion_limit(&self) -> u32 {
        self.recursion_limit
    }

    /// Runs the program on `buffer` (cursor at 0), reading and writing the
    /// rule's variables. An empty program matches; a buffer longer than
    /// `u32::MAX` bytes (beyond Suricata's buffer lengths) does not.
    pub fn inspect(&self, buffer: &[u8], vars: &mut Vars) -> bool {
        self.inspect_with(buffer, vars, None).matched
    }

    /// [`Program::inspect`] with the DCE/RPC byte order for `dce` options,
    /// reporting the step count. A program with `base64_decode` gets a
    /// decode buffer of its own here; per-packet callers use
    /// [`Program::inspect_in`] with a per-thread one.
    pub fn inspect_with(
        &self,
        buffer: &[u8],
        vars: &mut Vars,
        dce: Option<DceEndian>,
    ) -> Inspection {
        engine::run(self, buffer, vars, dce, &mut DecodeBuf::new())
    }

    /// [`Program::inspect_with`] decoding `base64_decode` input into
    /// `decode` (allocated on its first use, then reused).
    pub fn inspect_in(
        &self,
        buffer: &[u8],
        vars: &mut Vars,
        dce: Option<DceEndian>,
        decode: &mut DecodeBuf,
    ) -> Inspection {
        engine::run(self, buffer, vars, dce, decode)
    }
}

/// Builds a [`Program`] from a rule's payload keywords for one buffer, in
/// rule order, applying each keyword the way Suricata's setup function
/// does (modifiers change the last `content`; relative keywords mark the
/// keyword they depend on).
pub struct ProgramBuilder<'s> {
    scope: &'s mut RuleScope,
    kind: BufferKind,
    escapes: Escapes,
    recursion_limit: u32,
    steps: Vec<Step>,
    /// After `base64_data`: the payload's steps, while `steps` collects the
    /// decoded buffer's.
    outer: Option<Vec<Step>>,
}

impl<'s> ProgramBuilder<'s> {
    /// A builder for a buffer of `kind`, defining and resolving variables
    /// in `scope`.
    pub fn new(scope: &'s mut RuleScope, kind: BufferKind) -> ProgramBuilder<'s> {
        ProgramBuilder {
            scope,
            kind,
            escapes: Escapes::Removed,
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            steps: Vec::new(),
            outer: None,
        }
    }

    /// How `content` values arrive (default: rule-level escapes removed).
    pub fn escapes(&mut self, escapes: Escapes) -> &mut Self {
        self.escapes = escapes;
        self
    }

    /// `detect.inspection-recursion-limit` (default 3000; 0 means no
    /// limit, as in Suricata).
    pub fn recursion_limit(&mut self, limit: u32) -> &mut Self {
        self.recursion_limit = limit;
        self
    }

    /// Applies one rule option. `Ok(false)`: not a payload keyword handled
    /// here (see [`KEYWORDS`]).
    pub fn apply(&mut self, name: &str, value: Option<&str>) -> Result<bool, KeywordError> {
        let value = value.filter(|v| !v.trim().is_empty());
        let Some(&kw) = KEYWORDS.iter().find(|k| **k == name) else {
            return Ok(false);
        };
        let needs_value = !matches!(
            kw,
            "nocase"
                | "startswith"
                | "endswith"
                | "rawbytes"
                | "fast_pattern"
                | "base64_decode"
                | "base64_data"
        );
        match (needs_value, value) {
            (true, None) => return Err(err(kw, "needs a value")),
            (false, Some(v)) if kw != "fast_pattern" && kw != "base64_decode" => {
                return Err(err(kw, format!("takes no value (got '{v}')")));
            }
            _ => {}
        }
        let v = value.unwrap_or("");
        match kw {
            "content" => self.content(ContentPattern::parse_with("content", v, self.escapes)?)?,
            "nocase" => self.nocase()?,
            "depth" => self.depth(parse_depth_offset("depth", v)?)?,
            "offset" => self.offset(parse_depth_offset("offset", v)?)?,
            "distance" => self.distance(parse_distance_within("distance", v)?)?,
            "within" => self.within(parse_distance_within("within", v)?)?,
            "startswith" => self.startswith()?,
            "endswith" => self.endswith()?,
            "rawbytes" => self.rawbytes()?,
            "fast_pattern" => self.fast_pattern(FastPattern::parse(value)?)?,
            "isdataat" => self.isdataat(IsDataAt::parse(v)?)?,
            "byte_test" => self.byte_test(ByteTest::parse(v)?)?,
            "byte_jump" => self.byte_jump(ByteJump::parse(v)?)?,
            "byte_extract" => self.byte_extract(ByteExtract::parse(v)?)?,
            "base64_decode" => self.base64_decode(Base64Decode::parse(value)?)?,
            "base64_data" => self.base64_data()?,
            _ => self.byte_math(ByteMath::parse(v)?)?,
        }
        Ok(true)
    }

    fn push(&mut self, keyword: &'static str, step: Step) -> Result<(), KeywordError> {
        if self.steps.len() >= MAX_STEPS {
            return Err(err(
                keyword,
                format!("too many payload keywords for one buffer (at most {MAX_STEPS})"),
            ));
        }
        self.steps.push(step);
        Ok(())
    }

    /// Adds a `content`.
    pub fn content(&mut self, pattern: ContentPattern) -> Result<(), KeywordError> {
        if pattern.bytes.is_empty() || pattern.bytes.len() > usize::from(u16::MAX) {
            return Err(err("content", "the pattern must be 1 to 65535 bytes long"));
        }
        self.push("content", Step::Content(ContentStep::new(pattern)))
    }

    fn last_content(
        &mut self,
        keyword: &'static str,
    ) -> Result<(usize, &mut ContentStep), KeywordError> {
        let i = self
            .steps
            .iter()
            .rposition(|s| matches!(s, Step::Content(_)))
            .ok_or_else(|| err(keyword, "needs a preceding content"))?;
        match &mut self.steps[i] {
            Step::Content(c) => Ok((i, c)),
            _ => unreachable!("rposition found a content"),
        }
    }

    /// The last `content` or `pcre` before step `before`.
    fn prev_pattern(&self, before: usize) -> Option<usize> {
        self.steps[..before]
            .iter()
            .rposition(|s| matches!(s, Step::Content(_) | Step::Regex(_)))
    }

    /// What a relative `isdataat`/byte keyword attaches to (Suricata's
    /// `prev_pm`): on the payload, the previous payload keyword of any
    /// kind; in a sticky buffer, the previous `content` or `pcre`.
    fn relative_anchor(&self) -> Option<usize> {
        match self.kind {
            BufferKind::Payload => self.steps.len().checked_sub(1),
            BufferKind::Sticky => self.prev_pattern(self.steps.len()),
        }
    }

    fn mark_relative_next(&mut self, i: Option<usize>) {
        match i.map(|i| &mut self.steps[i]) {
            Some(Step::Content(c)) => c.set_relative_next(),
            Some(Step::Regex(r)) => r.relative_next = true,
            _ => {}
        }
    }

    /// `nocase` on the last content.
    pub fn nocase(&mut self) -> Result<(), KeywordError> {
        let (_, c) = self.last_content("nocase")?;
        if c.nocase {
            return Err(err(
                "nocase",
                "can't use multiple nocase modifiers with the same content",
            ));
        }
        c.nocase = true;
        Ok(())
    }

    fn absolute_checks(keyword: &'static str, c: &ContentStep) -> Result<(), KeywordError> {
        if c.is_relative() {
            return Err(err(
                keyword,
                "can't mix a relative modifier (distance/within) with an absolute one (depth/offset) on one content",
            ));
        }
        Self::fp_checks(keyword, c)
    }

    fn fp_checks(keyword: &'static str, c: &ContentStep) -> Result<(), KeywordError> {
        if c.negated && c.fast_pattern.is_some() {
            return Err(err(
                keyword,
                "can't be used on a negated content with fast_pattern",
            ));
        }
        if c.fp_only() {
            return Err(err(
                keyword,
                "can't be used on a content with fast_pattern:only",
            ));
        }
        Ok(())
    }

    /// `depth` on the last content.
    pub fn depth(&mut self, value: NumOrVar<u16>) -> Result<(), KeywordError> {
        let v = self.scope.resolve("depth", value)?;
        let (_, c) = self.last_content("depth")?;
        if c.depth.is_some() {
            return Err(err(
                "depth",
                "can't use multiple depth/startswith on one content",
            ));
        }
        Self::absolute_checks("depth", c)?;
        if let Operand::Lit(d) = v
            && usize::from(d) < c.pattern.len()
        {
            return Err(err(
                "depth",
                format!(
                    "depth {d} is smaller than the pattern length {}",
                    c.pattern.len()
                ),
            ));
        }
        c.depth = Some(v);
        Ok(())
    }

    /// `offset` on the last content.
    pub fn offset(&mut self, value: NumOrVar<u16>) -> Result<(), KeywordError> {
        let v = self.scope.resolve("offset", value)?;
        let (_, c) = self.last_content("offset")?;
        if c.starts_with {
            return Err(err("offset", "can't be used with startswith"));
        }
        if c.offset.is_some() {
            return Err(err("offset", "can't use multiple offsets on one content"));
        }
        Self::absolute_checks("offset", c)?;
        c.offset = Some(v);
        Ok(())
    }

    /// `startswith` on the last content.
    pub fn startswith(&mut self) -> Result<(), KeywordError> {
        let (_, c) = self.last_content("startswith")?;
        if c.depth.is_some() {
            return Err(err(
                "startswith",
                "can't use multiple depth/startswith on one content",
            ));
        }
        Self::absolute_checks("startswith", c)?;
        if c.offset.is_some() {
            return Err(err("startswith", "can't be mixed with offset"));
        }
        c.depth = Some(Operand::Lit(c.pattern.len() as u16));
        c.starts_with = true;
        Ok(())
    }

    /// `endswith` on the last content.
    pub fn endswith(&mut self) -> Result<(), KeywordError> {
        let (_, c) = self.last_content("endswith")?;
        c.ends_with = true;
        Ok(())
    }

    /// `rawbytes` on the last content (no effect on matching).
    pub fn rawbytes(&mut self) -> Result<(), KeywordError> {
        let (_, c) = self.last_content("rawbytes")?;
        c.rawbytes = true;
        Ok(())
    }

    fn relative_checks(keyword: &'static str, c: &ContentStep) -> Result<(), KeywordError> {
        if c.depth.is_some() || c.offset.is_some() {
            return Err(err(
                keyword,
                "can't mix a relative modifier (distance/within) with an absolute one (depth/offset/startswith) on one content",
            ));
        }
        Self::fp_checks(keyword, c)
    }

    fn prev_fp_only_check(
        &self,
        keyword: &'static str,
        prev: Option<usize>,
    ) -> Result<(), KeywordError> {
        if let Some(Step::Content(p)) = prev.map(|i| &self.steps[i])
            && p.fp_only()
        {
            return Err(err(
                keyword,
                "the previous content has fast_pattern:only; relative keywords can't follow it",
            ));
        }
        Ok(())
    }

    /// `distance` on the last content.
    pub fn distance(&mut self, value: NumOrVar<i32>) -> Result<(), KeywordError> {
        let v = self.scope.resolve("distance", value)?;
        let (i, c) = self.last_content("distance")?;
        if c.distance.is_some() {
            return Err(err(
                "distance",
                "can't use multiple distances on one content",
            ));
        }
        Self::relative_checks("distance", c)?;
        c.distance = Some(v);
        let negated = c.negated;
        let prev = self.prev_pattern(i);
        self.prev_fp_only_check("distance", prev)?;
        match prev.map(|p| &mut self.steps[p]) {
            Some(Step::Content(p)) if negated => p.set_relative_next(),
            Some(Step::Content(p)) => p.distance_next = true,
            Some(Step::Regex(r)) => r.relative_next = true,
            _ => {}
        }
        Ok(())
    }

    /// `within` on the last content.
    pub fn within(&mut self, value: NumOrVar<i32>) -> Result<(), KeywordError> {
        let v = self.scope.resolve("within", value)?;
        let (i, c) = self.last_content("within")?;
        if c.within.is_some() {
            return Err(err("within", "can't use multiple withins on one content"));
        }
        Self::relative_checks("within", c)?;
        if let Operand::Lit(w) = v
            && w < c.pattern.len() as i32
        {
            return Err(err(
                "within",
                format!(
                    "within {w} is less than the pattern length {}: it can never match",
                    c.pattern.len()
                ),
            ));
        }
        c.within = Some(v);
        let prev = self.prev_pattern(i);
        self.prev_fp_only_check("within", prev)?;
        match prev.map(|p| &mut self.steps[p]) {
            Some(Step::Content(p)) => p.within_next = true,
            Some(Step::Regex(r)) => r.relative_next = true,
            _ => {}
        }
        Ok(())
    }

    /// `fast_pattern` on the last content.
    pub fn fast_pattern(&mut self, fp: FastPattern) -> Result<(), KeywordError> {
        const K: &str = "fast_pattern";
        if self.outer.is_some() {
            // The decoded bytes do not exist when the prefilter runs.
            return Err(err(K, "can't be used after base64_data"));
        }
        let scope_has_fp = self.scope.fast_pattern;
        let (_, c) = self.last_content(K)?;
        let positional = c.is_relative() || c.depth.is_some() || c.offset.is_some();
        if c.negated && positional {
            return Err(err(
                K,
                "can't be used on a negated content with relative or absolute modifiers",
            ));
        }
        match fp {
            FastPattern::Plain => {
                if c.fast_pattern.is_some() {
                    return Err(err(
                        K,
                        "can't use multiple fast_pattern options on one content",
                    ));
                }
                if scope_has_fp {
                    return Err(err(K, "can be used on only one content in a rule"));
                }
            }
            FastPattern::Only => {
                if c.negated || positional {
                    return Err(err(
                        K,
                        "only can't be used on a negated content or with distance, within, offset or depth",
                    ));
                }
            }
            FastPattern::Chop { offset, length } => {
                if usize::from(offset) + usize::from(length) > c.pattern.len() {
                    return Err(err(
                        K,
                        format!(
                            "offset + length ({}) exceeds the pattern length ({})",
                            u32::from(offset) + u32::from(length),
                            c.pattern.len()
                        ),
                    ));
                }
            }
        }
        c.fast_pattern = Some(fp);
        self.scope.fast_pattern = true;
        Ok(())
    }

    /// `isdataat`. `isdataat:!1,relative` right after a content becomes
    /// that content's `endswith`, as in Suricata.
    pub fn isdataat(&mut self, d: IsDataAt) -> Result<(), KeywordError> {
        let value = self.scope.resolve("isdataat", d.value)?;
        let anchor = if d.relative {
            self.relative_anchor()
        } else {
            None
        };
        if d.relative
            && d.negated
            && value == Operand::Lit(1)
            && let Some(Step::Content(c)) = anchor.map(|i| &mut self.steps[i])
        {
            c.ends_with = true;
            return Ok(());
        }
        self.push(
            "isdataat",
            Step::IsDataAt(IsDataAtStep {
                negated: d.negated,
                relative: d.relative,
                value,
            }),
        )?;
        if d.relative {
            self.mark_relative_next(anchor);
        }
        Ok(())
    }

    fn bitmask(m: Option<u32>) -> Option<(u32, u32)> {
        m.map(|m| (m, if m == 0 { 0 } else { m.trailing_zeros() }))
    }

    /// `byte_test`.
    pub fn byte_test(&mut self, t: ByteTest) -> Result<(), KeywordError> {
        const K: &str = "byte_test";
        let step = ByteTestStep {
            nbytes: self.scope.resolve(K, t.nbytes)?,
            negated: t.negated,
            op: t.op,
            value: self.scope.resolve(K, t.value)?,
            offset: self.scope.resolve(K, t.offset)?,
            relative: t.relative,
            endian: t.endian,
            string: t.string,
            base: t.base,
            dce: t.dce,
            bitmask: Self::bitmask(t.bitmask),
        };
        let anchor = if t.relative {
            self.relative_anchor()
        } else {
            None
        };
        self.push(K, Step::ByteTest(step))?;
        self.mark_relative_next(anchor);
        Ok(())
    }

    /// `byte_jump`.
    pub fn byte_jump(&mut self, j: ByteJump) -> Result<(), KeywordError> {
        const K: &str = "byte_jump";
        let step = ByteJumpStep {
            nbytes: self.scope.resolve(K, j.nbytes)?,
            offset: self.scope.resolve(K, j.offset)?,
            relative: j.relative,
            multiplier: j.multiplier,
            endian: j.endian,
            string: j.string,
            base: j.base,
            align: j.align,
            from: j.from,
            post_offset: j.post_offset,
            dce: j.dce,
            bitmask: Self::bitmask(j.bitmask),
        };
        let anchor = if j.relative {
            self.relative_anchor()
        } else {
            None
        };
        self.push(K, Step::ByteJump(step))?;
        self.mark_relative_next(anchor);
        Ok(())
    }

    /// `byte_extract`: defines its variable in the scope.
    pub fn byte_extract(&mut self, e: ByteExtract) -> Result<(), KeywordError> {
        const K: &str = "byte_extract";
        if self.steps.len() >= MAX_STEPS {
            return Err(err(
                K,
                format!("too many payload keywords for one buffer (at most {MAX_STEPS})"),
            ));
        }
        let anchor = if e.relative {
            self.relative_anchor()
        } else {
            None
        };
        let var = self.scope.define(K, &e.name, VarSource::ByteExtract)?;
        self.push(
            K,
            Step::ByteExtract(ByteExtractStep {
                nbytes: e.nbytes,
                offset: e.offset,
                var,
                relative: e.relative,
                multiplier: e.multiplier,
                endian: e.endian,
                string: e.string,
                base: e.base,
                align: e.align,
                bitmask: Self::bitmask(e.bitmask),
            }),
        )?;
        self.mark_relative_next(anchor);
        Ok(())
    }

    /// `byte_math`: defines its result variable in the scope.
    pub fn byte_math(&mut self, m: ByteMath) -> Result<(), KeywordError> {
        const K: &str = "byte_math";
        let nbytes = self.scope.resolve(K, m.nbytes)?;
        let rvalue = self.scope.resolve(K, m.rvalue)?;
        let anchor = if m.relative {
            self.relative_anchor()
        } else {
            None
        };
        if m.relative && self.kind == BufferKind::Sticky && anchor.is_none() {
            return Err(err(
                K,
                "relative specified without a previous pattern match",
            ));
        }
        if self.steps.len() >= MAX_STEPS {
            return Err(err(
                K,
                format!("too many payload keywords for one buffer (at most {MAX_STEPS})"),
            ));
        }
        let var = self.scope.define(K, &m.result, VarSource::ByteMath)?;
        self.push(
            K,
            Step::ByteMath(ByteMathStep {
                nbytes,
                offset: m.offset,
                oper: m.oper,
                rvalue,
                var,
                relative: m.relative,
                endian: m.endian,
                string: m.string,
                bitmask: Self::bitmask(m.bitmask),
            }),
        )?;
        self.mark_relative_next(anchor);
        Ok(())
    }

    /// `base64_decode`, on the payload (Suricata's setup puts it in the
    /// list of the previous payload keyword, which is the payload here).
    pub fn base64_decode(&mut self, d: Base64Decode) -> Result<(), KeywordError> {
        if self.outer.is_some() {
            // Suricata would append it to the base64_data list, where it
            // decodes the buffer it is reading into itself.
            return Err(err(
                "base64_decode",
                "can't follow base64_data (no nested decoding)",
            ));
        }
        self.push("base64_decode", Step::Base64Decode(d))
    }

    /// `base64_data`: the keywords after it inspect the bytes decoded by
    /// the preceding `base64_decode`, with sticky-buffer rules for
    /// relative keywords (Suricata's `DETECT_SM_LIST_BASE64_DATA`).
    pub fn base64_data(&mut self) -> Result<(), KeywordError> {
        if self.outer.is_some() {
            return Ok(());
        }
        if !self
            .steps
            .iter()
            .any(|s| matches!(s, Step::Base64Decode(_)))
        {
            return Err(err("base64_data", "needs a preceding base64_decode"));
        }
        self.outer = Some(std::mem::take(&mut self.steps));
        self.kind = BufferKind::Sticky;
        Ok(())
    }

    /// A `pcre` step. A relative regex (`/R`) on the payload needs a
    /// previous `content` or `pcre`, as Suricata requires.
    pub fn regex(&mut self, regex: Arc<dyn RegexStep>) -> Result<(), KeywordError> {
        let prev = self.prev_pattern(self.steps.len());
        if regex.relative() {
            if prev.is_none() && self.kind == BufferKind::Payload {
                return Err(err(
                    "pcre",
                    "with /R (relative) needs a preceding content or pcre in the same buffer",
                ));
            }
            self.mark_relative_next(prev);
        }
        self.push(
            "pcre",
            Step::Regex(RegexStepData {
                regex,
                relative_next: false,
            }),
        )
    }

    /// Finishes the program: builds the searchers.
    pub fn build(self) -> Result<Program, KeywordError> {
        let (mut steps, mut base64_data) = match self.outer {
            Some(outer) => (outer, Some(self.steps)),
            None => (self.steps, None),
        };
        let inner = base64_data.iter_mut().flatten();
        for s in steps.iter_mut().chain(inner) {
            if let Step::Content(c) = s {
                c.static_depth = match (c.depth, c.offset) {
                    // Suricata stores depth + offset in a u16.
                    (Some(Operand::Lit(d)), Some(Operand::Lit(o))) => d.wrapping_add(o),
                    (Some(Operand::Lit(d)), _) => d,
                    _ => 0,
                };
                c.searcher =
                    Some(Searcher::new(&c.pattern, c.nocase).ok_or_else(|| {
                        err("content", "could not build a searcher for the pattern")
                    })?);
            }
        }
        Ok(Program {
            steps,
            base64_data,
            recursion_limit: self.recursion_limit,
        })
    }
}

/// Splits rule option text (`name:value; name; ...`, the part between the
/// parentheses) into `(name, value)` pairs the way Suricata's
/// `SigParseOptions` does: `;` ends an option unless escaped with `\`,
/// the name ends at the first `:`, and values keep their escapes (use
/// [`Escapes::Raw`]). For tests, fuzzing and tools.
pub fn split_options(text: &str) -> Vec<(&str, Option<&str>)> {
    fn emit<'t>(out: &mut Vec<(&'t str, Option<&'t str>)>, opt: &'t str) {
        let opt = opt.trim();
        if opt.is_empty() {
            return;
        }
        match opt.split_once(':') {
            Some((n, v)) => out.push((n.trim(), Some(v.trim()))),
            None => out.push((opt, None)),
        }
    }
    let mut out = Vec::new();
    let b = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b';' => {
                emit(&mut out, &text[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    emit(&mut out, &text[start..]);
    out
}
