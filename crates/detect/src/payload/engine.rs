//! The inspection loop: `DetectEngineContentInspectionInternal` step by
//! step, with the same cursor arithmetic (32-bit wrapping where Suricata's
//! is), the same return codes (match / no match / give up) and the same
//! recursion counting.

use super::base64::{Base64Decode, DecodeBuf, decode_rfc4648};
use super::cnum::byte_extract_string;
use super::search::eq_at;
use super::{
    ByteExtractStep, ByteJumpStep, ByteMathStep, ByteTestOp, ByteTestStep, ContentStep, DceEndian,
    Endian, ExtractEndian, Inspection, IsDataAtStep, JumpFrom, MathOp, Operand, Program,
    RegexStepData, Step, Vars,
};

/// A step's verdict: Suricata's 1, 0 and -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// This step and everything after it matched.
    Match,
    /// No match here; an earlier step may retry.
    NoMatch,
    /// No match, and no point retrying anything.
    Stop,
}

struct Run<'a> {
    steps: &'a [Step],
    buf: &'a [u8],
    len: u32,
    vars: &'a mut Vars,
    /// `det_ctx->buffer_offset`.
    cursor: u32,
    count: u32,
    limit: u32,
    limit_reached: bool,
    dce: Option<DceEndian>,
    /// The `base64_data` steps (`None` inside them, and without any).
    base64_data: Option<&'a [Step]>,
    /// Where `base64_decode` writes; taken while the decoded bytes are
    /// being inspected.
    decode: Option<&'a mut DecodeBuf>,
}

pub(super) fn run(
    prog: &Program,
    buffer: &[u8],
    vars: &mut Vars,
    dce: Option<DceEndian>,
    decode: &mut DecodeBuf,
) -> Inspection {
    let Ok(len) = u32::try_from(buffer.len()) else {
        return Inspection {
            matched: false,
            steps: 0,
            limit_reached: false,
        };
    };
    if prog.steps.is_empty() {
        return Inspection {
            matched: true,
            steps: 0,
            limit_reached: false,
        };
    }
    let mut r = Run {
        steps: &prog.steps,
        buf: buffer,
        len,
        vars,
        cursor: 0,
        count: 0,
        limit: prog.recursion_limit,
        limit_reached: false,
        dce,
        base64_data: prog.base64_data.as_deref(),
        decode: Some(decode),
    };
    let flow = r.step(0);
    Inspection {
        matched: flow == Flow::Match,
        steps: r.count,
        limit_reached: r.limit_reached,
    }
}

fn operand_u64<T: Into<u64> + Copy>(vars: &Vars, o: Operand<T>) -> u64 {
    match o {
        Operand::Lit(v) => v.into(),
        Operand::Var(id) => vars.get(id),
    }
}

impl Run<'_> {
    /// One recursive call of `DetectEngineContentInspectionInternal`.
    fn step(&mut self, i: usize) -> Flow {
        self.count = self.count.wrapping_add(1);
        if self.count == self.limit {
            self.limit_reached = true;
            return Flow::Stop;
        }
        let Some(step) = self.steps.get(i) else {
            return Flow::NoMatch;
        };
        match step {
            Step::Content(c) => self.content(i, c),
            Step::IsDataAt(d) => self.isdataat(i, d),
            Step::ByteTest(t) => {
                if self.byte_test(t) {
                    self.next(i)
                } else {
                    Flow::NoMatch
                }
            }
            Step::ByteJump(j) => {
                if self.byte_jump(j) {
                    self.next(i)
                } else {
                    Flow::NoMatch
                }
            }
            Step::ByteExtract(e) => {
                if self.byte_extract(e) {
                    self.next(i)
                } else {
                    Flow::NoMatch
                }
            }
            Step::ByteMath(m) => {
                if self.byte_math(m) {
                    self.next(i)
                } else {
                    Flow::NoMatch
                }
            }
            Step::Regex(r) => self.regex(i, r),
            Step::Base64Decode(d) => self.base64_decode(d),
        }
    }

    /// Suricata's `match:` label: go on with the next step, or report the
    /// match if this was the last.
    fn next(&mut self, i: usize) -> Flow {
        if i + 1 < self.steps.len() {
            self.step(i + 1)
        } else {
            Flow::Match
        }
    }

    fn var_u32<T: Into<u64> + Copy>(&self, o: Operand<T>) -> u32 {
        operand_u64(self.vars, o) as u32
    }

    fn content(&mut self, i: usize, c: &ContentStep) -> Flow {
        let prev_cursor = self.cursor;
        let plen = c.pattern.len() as u32;
        let relative = c.is_relative();
        let var_window =
            matches!(c.depth, Some(Operand::Var(_))) || matches!(c.offset, Some(Operand::Var(_)));
        let mut prev_offset: u32 = 0;
        loop {
            let mut depth = self.len;
            let mut offset: u32;
            if relative {
                offset = prev_cursor;
                let mut distance: i32 = 0;
                if let Some(d) = c.distance {
                    distance = match d {
                        Operand::Lit(v) => v,
                        Operand::Var(id) => self.vars.get(id) as u32 as i32,
                    };
                    if distance < 0 && distance.unsigned_abs() > offset {
                        offset = 0;
                    } else {
                        offset = offset.wrapping_add(distance as u32);
                    }
                }
                if let Some(w) = c.within {
                    let w = match w {
                        Operand::Lit(v) => v as u32,
                        Operand::Var(id) => self.vars.get(id) as u32,
                    };
                    let end = prev_cursor.wrapping_add(w).wrapping_add(distance as u32);
                    if (depth as i32) > (end as i32) {
                        depth = end;
                    }
                }
            } else {
                match c.depth {
                    Some(Operand::Var(id)) => depth = self.vars.get(id) as u32,
                    _ => {
                        if c.static_depth != 0 {
                            depth = u32::from(c.static_depth);
                        }
                    }
                }
                offset = match c.offset {
                    Some(o) => self.var_u32(o),
                    None => 0,
                };
            }
            if var_window {
                depth = depth.wrapping_add(offset);
            }
            if prev_offset != 0 {
                offset = prev_offset;
            }
            if depth > self.len {
                depth = self.len;
            }
            if offset > depth || depth == 0 {
                return if c.negated {
                    self.next(i)
                } else {
                    Flow::NoMatch
                };
            }
            let window = &self.buf[offset as usize..depth as usize];
            let found = if (c.ends_with && depth < self.len) || c.pattern.len() > window.len() {
                None
            } else if c.ends_with && !c.negated {
                // Only an occurrence ending at the buffer end can go on;
                // Suricata walks the earlier ones without recursing, so
                // jumping to the last candidate changes nothing.
                let at = window.len() - c.pattern.len();
                eq_at(&window[at..], &c.pattern, c.nocase).then_some(at)
            } else {
                c.searcher.as_ref().and_then(|s| s.find(window))
            };
            let Some(pos) = found else {
                if c.negated {
                    return self.next(i);
                }
                return if relative { Flow::NoMatch } else { Flow::Stop };
            };
            let match_offset = offset + pos as u32 + plen;
            if c.negated {
                // Suricata compares the window length with the absolute
                // match end here.
                if c.ends_with && window.len() as u32 != match_offset {
                    return self.next(i);
                }
                return if c.is_single() {
                    Flow::Stop
                } else {
                    Flow::NoMatch
                };
            }
            self.cursor = match_offset;
            if !c.ends_with || match_offset == self.len {
                if i + 1 >= self.steps.len() {
                    return Flow::Match;
                }
                match self.step(i + 1) {
                    Flow::Match => return Flow::Match,
                    Flow::Stop => return Flow::Stop,
                    Flow::NoMatch => {}
                }
                if !c.within_next {
                    return Flow::Stop;
                }
            }
            prev_offset = match_offset - (plen - 1);
        }
    }

    fn isdataat(&mut self, i: usize, d: &IsDataAtStep) -> Flow {
        let is_var = matches!(d.value, Operand::Var(_));
        let dataat = operand_u64(self.vars, d.value);
        if is_var && dataat >= 100_000_000 {
            return if d.negated {
                self.next(i)
            } else {
                Flow::NoMatch
            };
        }
        let give_up = if is_var { Flow::NoMatch } else { Flow::Stop };
        if d.relative {
            if u64::from(self.cursor) + dataat > u64::from(self.len) {
                if d.negated { self.next(i) } else { give_up }
            } else if d.negated {
                Flow::NoMatch
            } else {
                self.next(i)
            }
        } else if dataat < u64::from(self.len) {
            if d.negated { give_up } else { self.next(i) }
        } else if d.negated {
            self.next(i)
        } else {
            give_up
        }
    }

    /// Where a byte keyword reads: `(start, bytes left)`, or `None` when
    /// Suricata gives up before reading (`len <= 0` for relative reads).
    fn byte_window(&self, relative: bool, offset: i64, zero_ok: bool) -> Option<(i64, i64)> {
        let len = i64::from(self.len);
        if relative {
            let start = i64::from(self.cursor) + offset;
            let left = len - i64::from(self.cursor) - offset;
            if left <= 0 && !zero_ok {
                return None;
            }
            Some((start, left))
        } else {
            Some((offset, len - offset))
        }
    }

    /// Reads the number: `(value, bytes consumed)`; `None` is no match.
    fn read(
        &self,
        start: i64,
        nbytes: i64,
        string: bool,
        base: u32,
        little: bool,
    ) -> Option<(u64, usize)> {
        let start = usize::try_from(start).ok()?;
        let rest = self.buf.get(start..)?;
        if nbytes < 0 {
            return None;
        }
        let n = nbytes as usize;
        if string {
            byte_extract_string(rest, base, n, false)
        } else {
            if n > 8 || n > rest.len() {
                return None;
            }
            let mut v: u64 = 0;
            for k in 0..n {
                let b = if little { rest[n - 1 - k] } else { rest[k] };
                v = (v << 8) | u64::from(b);
            }
            Some((v, n))
        }
    }

    fn byte_test(&mut self, t: &ByteTestStep) -> bool {
        if self.len == 0 {
            return false;
        }
        let offset = match t.offset {
            Operand::Lit(v) => i64::from(v),
            Operand::Var(id) => i64::from(self.vars.get(id) as i32),
        };
        let value = operand_u64(self.vars, t.value);
        let nbytes = match t.nbytes {
            Operand::Lit(n) => i64::from(n),
            Operand::Var(id) => {
                let n = i64::from(self.vars.get(id) as i32);
                if !((t.string && n <= 23) || n <= 8) {
                    return false;
                }
                n
            }
        };
        let Some((start, left)) = self.byte_window(t.relative, offset, false) else {
            return false;
        };
        if start < 0 || nbytes > left {
            return false;
        }
        let little = t.endian == Endian::Little || (t.dce && self.dce == Some(DceEndian::Little));
        let Some((mut val, _)) = self.read(start, nbytes, t.string, u32::from(t.base), little)
        else {
            return false;
        };
        if let Some((mask, shift)) = t.bitmask {
            val &= u64::from(mask);
            if val != 0 && shift != 0 {
                val >>= shift;
            }
        }
        let m = match t.op {
            ByteTestOp::Eq => val == value,
            ByteTestOp::Lt => val < value,
            ByteTestOp::Gt => val > value,
            ByteTestOp::And => val & value != 0,
            ByteTestOp::Xor => val ^ value != 0,
            ByteTestOp::Ge => val >= value,
            ByteTestOp::Le => val <= value,
        };
        m != t.negated
    }

    fn byte_jump(&mut self, j: &ByteJumpStep) -> bool {
        if self.len == 0 {
            return false;
        }
        let nbytes = match j.nbytes {
            Operand::Lit(n) => i64::from(n),
            Operand::Var(id) => {
                let n = i64::from(self.vars.get(id) as i32);
                if !((j.string && n <= 23) || n <= 8) {
                    return false;
                }
                n
            }
        };
        let offset = match j.offset {
            Operand::Lit(v) => i64::from(v),
            Operand::Var(id) => i64::from(self.vars.get(id) as i32),
        };
        let len = i64::from(self.len);
        let (mut start, mut left) = (offset, len - offset);
        if j.relative {
            start += i64::from(self.cursor);
            left -= i64::from(self.cursor);
            if nbytes != 0 && left <= 0 {
                return false;
            }
        }
        if start < 0 || nbytes > left {
            return false;
        }
        let little = j.endian == Endian::Little || (j.dce && self.dce == Some(DceEndian::Little));
        let Some((mut val, consumed)) =
            self.read(start, nbytes, j.string, u32::from(j.base), little)
        else {
            return false;
        };
        if let Some((mask, shift)) = j.bitmask {
            val &= u64::from(mask);
            if val != 0 && shift != 0 {
                val >>= shift;
            }
        }
        val = val.wrapping_mul(u64::from(j.multiplier));
        if j.align && val % 4 != 0 {
            val = val.wrapping_add(4 - val % 4);
        }
        val = val.wrapping_add(i64::from(j.post_offset) as u64);
        let jump = i128::from(val as i64);
        let target = match j.from {
            JumpFrom::Beginning => jump,
            JumpFrom::End => i128::from(len) + jump,
            JumpFrom::Current => i128::from(start) + jump + consumed as i128,
        };
        if target > i128::from(len) {
            return false;
        }
        // A jump before the buffer start lands on the start.
        self.cursor = target.max(0) as u32;
        true
    }

    fn extract_little(&self, e: ExtractEndian) -> bool {
        match e {
            ExtractEndian::Big => false,
            ExtractEndian::Little => true,
            ExtractEndian::Dce => self.dce != Some(DceEndian::Big),
        }
    }

    fn byte_extract(&mut self, e: &ByteExtractStep) -> bool {
        if self.len == 0 {
            return false;
        }
        let Some((start, left)) = self.byte_window(e.relative, i64::from(e.offset), false) else {
            return false;
        };
        let nbytes = i64::from(e.nbytes);
        if start < 0 || nbytes > left {
            return false;
        }
        let little = self.extract_little(e.endian);
        let Some((mut val, consumed)) =
            self.read(start, nbytes, e.string, u32::from(e.base), little)
        else {
            return false;
        };
        if let Some((mask, shift)) = e.bitmask {
            val &= u64::from(mask);
            if val != 0 && shift != 0 {
                val >>= shift;
            }
        }
        val = val.wrapping_mul(u64::from(e.multiplier));
        if let Some(a) = e.align {
            let a = u64::from(a);
            if val % a != 0 {
                val = val.wrapping_add(a - val % a);
            }
        }
        self.cursor = (start + consumed as i64) as u32;
        self.vars.set(e.var, val);
        true
    }

    fn byte_math(&mut self, m: &ByteMathStep) -> bool {
        if self.len == 0 {
            return false;
        }
        let nbytes = match m.nbytes {
            Operand::Lit(n) => i64::from(n),
            // Suricata narrows a variable byte count to u8.
            Operand::Var(id) => i64::from(self.vars.get(id) as u8),
        };
        let rvalue = operand_u64(self.vars, m.rvalue);
        let Some((start, left)) = self.byte_window(m.relative, i64::from(m.offset), false) else {
            return false;
        };
        if start < 0 || nbytes > left {
            return false;
        }
        let little = self.extract_little(m.endian);
        let (string, base) = match m.string {
            Some(b) => (true, u32::from(b)),
            None => (false, 10),
        };
        let Some((mut val, consumed)) = self.read(start, nbytes, string, base, little) else {
            return false;
        };
        self.cursor = (start + consumed as i64) as u32;
        val = match m.oper {
            MathOp::Add => val.wrapping_add(rvalue),
            MathOp::Sub => val.wrapping_sub(rvalue),
            MathOp::Mul => val.wrapping_mul(rvalue),
            MathOp::Div => match val.checked_div(rvalue) {
                Some(v) => v,
                None => return false,
            },
            // x86 semantics for shift counts of 64 and more (C leaves them
            // undefined).
            MathOp::Shl => val.wrapping_shl(rvalue as u32),
            MathOp::Shr => val.wrapping_shr(rvalue as u32),
        };
        if let Some((mask, shift)) = m.bitmask {
            val &= u64::from(mask);
            if val != 0 && shift != 0 {
                val >>= shift;
            }
        }
        self.vars.set(m.var, val);
        true
    }

    /// `DetectBase64DecodeDoMatch`, then the `base64_data` steps on the
    /// decoded bytes. Either the rule matches there or this step fails:
    /// Suricata never goes on to the step after `base64_decode`.
    fn base64_decode(&mut self, d: &Base64Decode) -> Flow {
        let mut start = 0u32;
        let mut left = self.len;
        if d.relative {
            start = self.cursor.min(self.len);
            left = self.len - start;
        }
        if d.offset != 0 {
            if d.offset >= left {
                return Flow::NoMatch;
            }
            start += d.offset;
            left -= d.offset;
        }
        let n = left.min(u32::from(d.bytes));
        // Without base64_data keywords, or with nothing to decode, there is
        // nothing that could match (Suricata falls through to no match).
        let Some(inner) = self.base64_data.filter(|s| !s.is_empty()) else {
            return Flow::NoMatch;
        };
        if n == 0 {
            return Flow::NoMatch;
        }
        let Some(decode) = self.decode.take() else {
            return Flow::NoMatch;
        };
        let data = self.buf;
        let src = &data[start as usize..(start + n) as usize];
        let space = decode.space();
        let decoded = decode_rfc4648(src, space);
        let flow = if decoded == 0 {
            Flow::NoMatch
        } else {
            let mut run = Run {
                steps: inner,
                buf: &space[..decoded],
                len: decoded as u32,
                vars: &mut *self.vars,
                cursor: 0,
                // One recursion count for the whole inspection, as
                // Suricata's `det_ctx` counter is.
                count: self.count,
                limit: self.limit,
                limit_reached: false,
                dce: self.dce,
                base64_data: None,
                decode: None,
            };
            let f = run.step(0);
            self.count = run.count;
            if run.limit_reached {
                // Stop rather than let an earlier content retry past the
                // limit (Suricata 7's `discontinue_matching`).
                self.limit_reached = true;
                Flow::Stop
            } else if f == Flow::Match {
                Flow::Match
            } else {
                // Suricata maps the inner -1 to a plain no match too.
                Flow::NoMatch
            }
        };
        self.decode = Some(decode);
        flow
    }

    fn regex(&mut self, i: usize, r: &RegexStepData) -> Flow {
        let re = &*r.regex;
        let relative = re.relative();
        let negated = re.negated();
        let prev_cursor = self.cursor;
        // `det_ctx->pcre_match_start_offset`.
        let mut start_abs: u32 = 0;
        loop {
            let subject = if relative { self.cursor } else { 0 };
            let hay = &self.buf[subject as usize..];
            let start = if start_abs != 0 {
                start_abs.saturating_sub(subject) as usize
            } else {
                0
            };
            if start > hay.len() {
                // pcre2's bad-offset error: no match, negated or not.
                return Flow::NoMatch;
            }
            match re.find_at(hay, start) {
                None if !negated => return Flow::NoMatch,
                None => {}
                Some(_) if negated => return Flow::NoMatch,
                Some((s, e)) => {
                    if s < start || s > e || e > hay.len() {
                        return Flow::NoMatch;
                    }
                    self.cursor = subject + e as u32;
                    start_abs = subject + s as u32 + 1;
                }
            }
            if !r.relative_next {
                return self.next(i);
            }
            let prev_offset = start_abs;
            match self.next(i) {
                Flow::Match => return Flow::Match,
                Flow::Stop => return Flow::Stop,
                Flow::NoMatch => {}
            }
            if prev_offset == 0 {
                return Flow::NoMatch;
            }
            self.cursor = prev_cursor;
            start_abs = prev_offset;
        }
    }
}
