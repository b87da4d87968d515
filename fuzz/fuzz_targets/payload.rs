//! Payload inspection over arbitrary rule options and buffers: the bytes
//! before the first NUL are rule-option text (`content:"..."; distance:0;
//! ...`, a leading `#` selects a sticky buffer), the rest is the buffer.
//! Building must never panic; inspecting must never panic, and its work is
//! bounded by the recursion limit.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mirador_detect::payload::{
    BufferKind, DEFAULT_RECURSION_LIMIT, Escapes, ProgramBuilder, RegexStep, RuleScope, Vars,
    split_options,
};

/// `pcre:"/literal/R"` stand-in: a literal search, so that the regex step's
/// cursor and retry logic are exercised without the PCRE module.
struct Literal {
    lit: Vec<u8>,
    relative: bool,
    negated: bool,
}

impl RegexStep for Literal {
    fn find_at(&self, hay: &[u8], start: usize) -> Option<(usize, usize)> {
        let rest = hay.get(start..)?;
        if self.lit.is_empty() {
            return Some((start, start));
        }
        rest.windows(self.lit.len())
            .position(|w| w == self.lit.as_slice())
            .map(|p| (start + p, start + p + self.lit.len()))
    }
    fn relative(&self) -> bool {
        self.relative
    }
    fn negated(&self) -> bool {
        self.negated
    }
}

fn literal(value: &str) -> Literal {
    let v = value.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let v = v.trim_matches('"').trim_start_matches('/');
    let (body, flags) = v.rsplit_once('/').unwrap_or((v, ""));
    Literal {
        lit: body.as_bytes().to_vec(),
        relative: flags.contains('R'),
        negated,
    }
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(text) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let buffer = data.get(split + 1..).unwrap_or(&[]);
    let (kind, text) = match text.strip_prefix('#') {
        Some(t) => (BufferKind::Sticky, t),
        None => (BufferKind::Payload, text),
    };
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, kind);
    b.escapes(Escapes::Raw);
    for (name, value) in split_options(text) {
        let r = if name == "pcre" {
            b.regex(Arc::new(literal(value.unwrap_or(""))))
                .map(|()| true)
        } else {
            b.apply(name, value)
        };
        if r.is_err() {
            return;
        }
    }
    let Ok(prog) = b.build() else {
        return;
    };
    let mut vars = Vars::new();
    for _ in 0..2 {
        let r = prog.inspect_with(buffer, &mut vars, None);
        assert!(r.steps <= DEFAULT_RECURSION_LIMIT);
        assert!(!r.matched || !r.limit_reached);
    }
});
