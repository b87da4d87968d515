//! The shared shape of address and port expressions, and their parser.
//!
//! Grammar (Suricata's, minus the input its character scanner accepts by
//! accident, such as `!` in the middle of an address):
//!
//! ```text
//! expr  := item ("," item)*            a bare list at the top is a group
//! item  := "!"? atom
//! atom  := "[" expr "]" | "$" NAME | "any" | literal
//! ```
//!
//! Whitespace around items and brackets is ignored. `!!x` is rejected:
//! Suricata's scanner folds it into one negation, which nobody means.

use std::fmt;

use crate::error::{ExprError, ExprKind, quote};

/// Deepest bracket nesting accepted in one expression. Suricata has no
/// explicit cap (it recurses per bracket); 32 is far beyond any real rule
/// or variable and keeps recursion bounded on hostile input.
pub const MAX_NESTING: usize = 32;

/// Longest expression text accepted, in bytes. A rule is at most 8192
/// bytes; variables come from configuration and get the same room eight
/// times over.
pub const MAX_EXPR_LEN: usize = 65_536;

/// An address or port expression as written, with variables unresolved,
/// so one parsed rule can be resolved against each tenant's variables.
/// See [`crate::AddrExpr`] and [`crate::PortExpr`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr<A> {
    /// `any`.
    Any,
    /// A literal: an address, network or range, or a port or port range.
    Literal(A),
    /// `$NAME`, a variable (name without `$`).
    Var(String),
    /// `[a, b, ...]` (or a bare top-level list `a,b`).
    Group(Vec<Expr<A>>),
    /// `!x`.
    Not(Box<Expr<A>>),
}

impl<A> Expr<A> {
    /// Whether the expression is exactly `any`.
    pub fn is_any(&self) -> bool {
        matches!(self, Expr::Any)
    }

    /// The variables the expression names directly (not those inside the
    /// variables' own values), in order of appearance, without `$`.
    pub fn variables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk_vars(&mut out);
        out
    }

    fn walk_vars<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Var(name) => out.push(name),
            Expr::Group(items) => items.iter().for_each(|i| i.walk_vars(out)),
            Expr::Not(inner) => inner.walk_vars(out),
            Expr::Any | Expr::Literal(_) => {}
        }
    }
}

impl<A: fmt::Display> fmt::Display for Expr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Any => f.write_str("any"),
            Expr::Literal(a) => a.fmt(f),
            Expr::Var(name) => write!(f, "${name}"),
            Expr::Group(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str("]")
            }
            Expr::Not(inner) => write!(f, "!{inner}"),
        }
    }
}

/// Parses an expression whose literals `literal` understands.
pub(crate) fn parse<A>(
    text: &str,
    kind: ExprKind,
    literal: fn(&str) -> Result<A, String>,
) -> Result<Expr<A>, ExprError> {
    if text.len() > MAX_EXPR_LEN {
        return Err(syntax(
            kind,
            format!("expression longer than {MAX_EXPR_LEN} bytes"),
        ));
    }
    let mut p = Parser {
        s: text,
        pos: 0,
        kind,
        literal,
    };
    let mut items = p.list(0)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.unexpected());
    }
    Ok(if items.len() == 1 {
        items.pop().unwrap_or(Expr::Any)
    } else {
        Expr::Group(items)
    })
}

pub(crate) fn syntax(kind: ExprKind, message: String) -> ExprError {
    ExprError::Syntax { kind, message }
}

struct Parser<'a, A> {
    s: &'a str,
    pos: usize,
    kind: ExprKind,
    literal: fn(&str) -> Result<A, String>,
}

impl<A> Parser<'_, A> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn err(&self, message: String) -> ExprError {
        syntax(self.kind, message)
    }

    fn unexpected(&self) -> ExprError {
        let rest = &self.s[self.pos..];
        match rest.chars().next() {
            Some(']') => self.err(format!("unbalanced ']' in {}", quote(self.s))),
            _ => self.err(format!("unexpected {} in {}", quote(rest), quote(self.s))),
        }
    }

    fn list(&mut self, depth: usize) -> Result<Vec<Expr<A>>, ExprError> {
        let mut items = Vec::new();
        loop {
            items.push(self.item(depth)?);
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.pos += 1;
            } else {
                return Ok(items);
            }
        }
    }

    fn item(&mut self, depth: usize) -> Result<Expr<A>, ExprError> {
        self.skip_ws();
        let negated = self.peek() == Some(b'!');
        if negated {
            self.pos += 1;
            self.skip_ws();
            if self.peek() == Some(b'!') {
                return Err(self.err(format!("double negation in {}", quote(self.s))));
            }
        }
        let atom = match self.peek() {
            Some(b'[') => {
                if depth >= MAX_NESTING {
                    return Err(self.err(format!("brackets nest deeper than {MAX_NESTING}")));
                }
                self.pos += 1;
                let items = self.list(depth + 1)?;
                self.skip_ws();
                if self.peek() != Some(b']') {
                    return Err(self.err(format!("missing ']' in {}", quote(self.s))));
                }
                self.pos += 1;
                Expr::Group(items)
            }
            Some(b'$') => {
                self.pos += 1;
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
                let name = &self.s[start..self.pos];
                self.skip_ws();
                if name.is_empty() || !matches!(self.peek(), None | Some(b',' | b']')) {
                    let end = self.s[start..]
                        .find([',', ']'])
                        .map_or(self.s.len(), |i| start + i);
                    let bad = &self.s[start - 1..end];
                    return Err(self.err(format!("invalid variable name {}", quote(bad.trim()))));
                }
                Expr::Var(name.to_string())
            }
            None | Some(b',' | b']') => {
                return Err(self.err(format!("empty element in {}", quote(self.s))));
            }
            Some(_) => {
                let start = self.pos;
                let end = self.s[start..]
                    .find([',', ']', '['])
                    .map_or(self.s.len(), |i| start + i);
                self.pos = end;
                let token = self.s[start..end].trim();
                if token.eq_ignore_ascii_case("any") {
                    Expr::Any
                } else {
                    Expr::Literal((self.literal)(token).map_err(|m| self.err(m))?)
                }
            }
        };
        Ok(if negated {
            Expr::Not(Box::new(atom))
        } else {
            atom
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Result<u32, String> {
        s.parse()
            .map_err(|_| format!("invalid number {}", quote(s)))
    }

    fn p(s: &str) -> Result<Expr<u32>, ExprError> {
        parse(s, ExprKind::Port, lit)
    }

    #[test]
    fn shapes() {
        assert_eq!(p("any").unwrap(), Expr::Any);
        assert_eq!(p(" ANY ").unwrap(), Expr::Any);
        assert_eq!(p("7").unwrap(), Expr::Literal(7));
        assert_eq!(
            p("1,2").unwrap(),
            Expr::Group(vec![Expr::Literal(1), Expr::Literal(2)])
        );
        assert_eq!(
            p("[ 1 , ![2,$X] ]").unwrap(),
            Expr::Group(vec![
                Expr::Literal(1),
                Expr::Not(Box::new(Expr::Group(vec![
                    Expr::Literal(2),
                    Expr::Var("X".into())
                ])))
            ])
        );
        assert_eq!(
            p("! $HOME_NET").unwrap(),
            Expr::Not(Box::new(Expr::Var("HOME_NET".into())))
        );
        assert_eq!(p("[1,[2,[3]]]").unwrap().to_string(), "[1,[2,[3]]]");
    }

    #[test]
    fn errors() {
        for bad in [
            "", "[", "]", "[1", "1]", "[]", "[1,]", ",1", "!!1", "$", "$A B", "$A-B", "x",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should fail");
        }
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert!(p(&deep).unwrap_err().to_string().contains("nest"));
        let ok = format!("{}1{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert!(p(&ok).is_ok());
    }

    #[test]
    fn variables_are_listed() {
        let e = p("[$A,!$B,[1,$C]]").unwrap();
        assert_eq!(e.variables(), vec!["A", "B", "C"]);
    }
}
