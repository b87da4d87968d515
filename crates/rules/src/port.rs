//! Port expressions (`any`, `80`, `1024:`, `:1023`, `1:1024`, `[...]`,
//! `!x`, `$VAR`) and their resolution into a [`PortSet`].
//!
//! Resolution follows Suricata's `DetectPortParseDo` and
//! `DetectPortParseMergeNotPorts` (detect-engine-port.c), whose negation
//! rules differ from the address ones:
//!
//! - Negation is sticky: inside `![...]` every item is negative, even one
//!   written `!x`; except that Suricata's scanner applies parity to the
//!   *last* item of a list, so there `!x` is positive again:
//!   `![80,!443]` is `[443]` while `![!443,80]` excludes both. mirador
//!   reproduces this quirk so that a rule resolves as it does in Suricata.
//! - A variable's value is read with the polarity of its reference,
//!   flipped by `!`: `!$P` inside a negated group is positive again.
//! - Everything lands in one pool of positive and negative ranges; if
//!   there are negative but no positive ones the positive side is
//!   `0:65535`; the result is positive minus negative.
//! - Errors: negative ranges covering `0:65535` (`!any`), or no port left.

use std::fmt;

use crate::addr::in_var;
use crate::error::{ExprError, ExprKind, quote};
use crate::expr::{self, Expr};
use crate::ranges;
use crate::vars::{Resolver, Vars};

/// A port expression: see the [module docs](self).
pub type PortExpr = Expr<PortRange>;

/// An inclusive port range: what `80`, `1024:`, `:1023` and `1:1024`
/// denote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub start: u16,
    /// Last port (inclusive).
    pub end: u16,
}

impl PortRange {
    /// Parses `N`, `N:M`, `N:` (to 65535) or `:M` (from 0). As in
    /// Suricata, an empty side of `:` is the end of the range.
    ///
    /// # Errors
    ///
    /// A message naming the literal when it is not one of these forms, a
    /// port is over 65535, or the range runs backwards.
    pub fn parse(s: &str) -> Result<PortRange, String> {
        let bad = || format!("invalid port {}", quote(s));
        let num = |t: &str, default: u16| -> Result<u16, String> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(default);
            }
            if !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse()
                .map_err(|_| format!("port {} is over 65535", quote(t)))
        };
        let (start, end) = match s.split_once(':') {
            Some((a, b)) => (num(a, 0)?, num(b, u16::MAX)?),
            None if s.trim().is_empty() => return Err(bad()),
            None => {
                let p = num(s, 0)?;
                (p, p)
            }
        };
        if start > end {
            return Err(format!("port range {} runs backwards", quote(s)));
        }
        Ok(PortRange { start, end })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.start, self.end) {
            (a, b) if a == b => write!(f, "{a}"),
            (a, u16::MAX) => write!(f, "{a}:"),
            (0, b) => write!(f, ":{b}"),
            (a, b) => write!(f, "{a}:{b}"),
        }
    }
}

impl PortExpr {
    /// Parses a port expression.
    ///
    /// # Errors
    ///
    /// [`ExprError::Syntax`] naming the offending part.
    ///
    /// # Example
    ///
    /// ```
    /// use mirador_rules::{PortExpr, Vars};
    ///
    /// let set = PortExpr::parse("[1024:,!8080]").unwrap().resolve(&Vars::new()).unwrap();
    /// assert!(set.contains(1024) && set.contains(65535));
    /// assert!(!set.contains(8080) && !set.contains(80));
    /// ```
    pub fn parse(s: &str) -> Result<PortExpr, ExprError> {
        expr::parse(s, ExprKind::Port, PortRange::parse)
    }

    /// Resolves the expression against `vars` (see the [module
    /// docs](self) for Suricata's semantics).
    ///
    /// # Errors
    ///
    /// Undefined variables, cycles, too deep or too large expansions, a
    /// negated complete port space, or an empty result.
    pub fn resolve(&self, vars: &Vars) -> Result<PortSet, ExprError> {
        let mut r = Resolver::new(vars, ExprKind::Port);
        let mut pool = Pool::default();
        collect(self, false, true, &mut pool, &mut r)?;
        merge(pool)
    }
}

#[derive(Default)]
struct Pool {
    pos: Vec<(u16, u16)>,
    neg: Vec<(u16, u16)>,
}

impl Pool {
    fn push(&mut self, negate: bool, range: (u16, u16)) {
        if negate {
            self.neg.push(range);
        } else {
            self.pos.push(range);
        }
    }
}

/// Adds `e` to the pool. `negate` is Suricata's `negate` argument (the
/// polarity of the enclosing block); `last` says whether `e` is the last
/// item of its list, where Suricata uses parity instead of "either".
fn collect(
    e: &PortExpr,
    negate: bool,
    last: bool,
    pool: &mut Pool,
    r: &mut Resolver<'_>,
) -> Result<(), ExprError> {
    r.count_item()?;
    match e {
        Expr::Any => pool.push(negate, (0, u16::MAX)),
        Expr::Literal(p) => pool.push(negate, (p.start, p.end)),
        Expr::Group(items) => list(items, negate, pool, r)?,
        Expr::Var(name) => var(name, negate, pool, r)?,
        Expr::Not(inner) => match &**inner {
            // `!$VAR`: (negate + 1) % 2.
            Expr::Var(name) => var(name, !negate, pool, r)?,
            // `![...]`: `negate ? negate : n_set`, always negative.
            Expr::Group(items) => list(items, true, pool, r)?,
            // `!x`: `negate || n_set` mid-list, `(negate + n_set) % 2` last.
            Expr::Any => pool.push(!(last && negate), (0, u16::MAX)),
            Expr::Literal(p) => pool.push(!(last && negate), (p.start, p.end)),
            // The parser never nests `!` directly.
            Expr::Not(_) => collect(inner, !negate, last, pool, r)?,
        },
    }
    Ok(())
}

fn list(
    items: &[PortExpr],
    negate: bool,
    pool: &mut Pool,
    r: &mut Resolver<'_>,
) -> Result<(), ExprError> {
    for (i, item) in items.iter().enumerate() {
        collect(item, negate, i + 1 == items.len(), pool, r)?;
    }
    Ok(())
}

fn var(name: &str, negate: bool, pool: &mut Pool, r: &mut Resolver<'_>) -> Result<(), ExprError> {
    let value = r.enter_port(name)?;
    // The value is parsed as a fresh string: its top item is "last".
    let res = collect(value, negate, true, pool, r);
    r.leave();
    res.map_err(|e| in_var(name, e))
}

fn merge(mut p: Pool) -> Result<PortSet, ExprError> {
    ranges::normalize(&mut p.neg);
    if ranges::is_full(&p.neg) {
        return Err(ExprError::CompleteSpaceNegated {
            kind: ExprKind::Port,
        });
    }
    if p.pos.is_empty() && !p.neg.is_empty() {
        p.pos.push((0, u16::MAX));
    }
    ranges::normalize(&mut p.pos);
    let ranges = ranges::subtract(&p.pos, &p.neg);
    if ranges.is_empty() {
        return Err(ExprError::Empty {
            kind: ExprKind::Port,
        });
    }
    Ok(PortSet { ranges })
}

/// A resolved port expression: sorted, disjoint, merged inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PortSet {
    ranges: Vec<(u16, u16)>,
}

impl PortSet {
    /// Every port (`any`).
    pub fn any() -> PortSet {
        PortSet {
            ranges: vec![(0, u16::MAX)],
        }
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        ranges::contains(&self.ranges, port)
    }

    /// Whether the set is every port.
    pub fn is_any(&self) -> bool {
        ranges::is_full(&self.ranges)
    }

    /// The ranges, inclusive, sorted and disjoint.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("any");
        }
        f.write_str("[")?;
        for (i, &(start, end)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            PortRange { start, end }.fmt(f)?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> Result<PortSet, ExprError> {
        PortExpr::parse(s)?.resolve(&Vars::suricata_defaults())
    }

    fn ranges_of(s: &str) -> Vec<(u16, u16)> {
        set(s).unwrap().ranges().to_vec()
    }

    #[test]
    fn literals() {
        assert_eq!(PortRange::parse("80"), Ok(PortRange { start: 80, end: 80 }));
        assert_eq!(
            PortRange::parse("1024:"),
            Ok(PortRange {
                start: 1024,
                end: 65535
            })
        );
        assert_eq!(
            PortRange::parse(":1023"),
            Ok(PortRange {
                start: 0,
                end: 1023
            })
        );
        assert_eq!(
            PortRange::parse("1:1024"),
            Ok(PortRange {
                start: 1,
                end: 1024
            })
        );
        assert_eq!(
            PortRange::parse(" 1 : 2 "),
            Ok(PortRange { start: 1, end: 2 })
        );
        assert_eq!(
            PortRange::parse(":"),
            Ok(PortRange {
                start: 0,
                end: 65535
            })
        );
        for bad in [
            "65536",
            "1024:65536",
            "2:1",
            "-1",
            "80a",
            "0x50",
            "1:!5",
            "",
            "1:2:3",
        ] {
            assert!(PortRange::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn forms() {
        assert!(set("any").unwrap().is_any());
        assert_eq!(ranges_of("80"), vec![(80, 80)]);
        assert_eq!(
            ranges_of("[80,443,8000:8080]"),
            vec![(80, 80), (443, 443), (8000, 8080)]
        );
        assert_eq!(ranges_of("[80,81,82]"), vec![(80, 82)]);
        assert_eq!(ranges_of("!80"), vec![(0, 79), (81, 65535)]);
        assert_eq!(ranges_of("[1:100,!50]"), vec![(1, 49), (51, 100)]);
        assert_eq!(
            ranges_of("![80,443]"),
            vec![(0, 79), (81, 442), (444, 65535)]
        );
        assert_eq!(ranges_of("[!21:902]"), vec![(0, 20), (903, 65535)]);
    }

    #[test]
    fn negation_is_sticky_as_in_suricata() {
        // Mid-list, `!443` inside `![...]` stays negative...
        assert_eq!(
            ranges_of("![!443,80]"),
            vec![(0, 79), (81, 442), (444, 65535)]
        );
        // ...but as the last item Suricata applies parity: it is positive.
        assert_eq!(ranges_of("![80,!443]"), vec![(443, 443)]);
        assert_eq!(ranges_of("![!443]"), vec![(443, 443)]);
        // A positive item inside a negated group is negative.
        assert_eq!(ranges_of("[1:10,![2,3]]"), vec![(1, 1), (4, 10)]);
    }

    #[test]
    fn variables() {
        assert_eq!(ranges_of("$HTTP_PORTS"), vec![(80, 80)]);
        assert_eq!(ranges_of("$SHELLCODE_PORTS"), vec![(0, 79), (81, 65535)]);
        assert_eq!(
            ranges_of("$FILE_DATA_PORTS"),
            vec![(80, 80), (110, 110), (143, 143)]
        );
        assert_eq!(ranges_of("!$HTTP_PORTS"), vec![(0, 79), (81, 65535)]);
        // A negated variable holding a negation flips back.
        assert_eq!(ranges_of("!$SHELLCODE_PORTS"), vec![(80, 80)]);
        let mut v = Vars::new();
        v.set_port("P", "[80,$Q]").unwrap();
        v.set_port("Q", "[443,$P]").unwrap();
        let e = PortExpr::parse("$P").unwrap().resolve(&v).unwrap_err();
        assert!(matches!(e, ExprError::Cycle { .. }), "{e}");
        let e = PortExpr::parse("$NOPE").unwrap().resolve(&v).unwrap_err();
        assert_eq!(e.to_string(), "undefined port variable $NOPE");
    }

    #[test]
    fn errors() {
        assert_eq!(
            set("!any").unwrap_err(),
            ExprError::CompleteSpaceNegated {
                kind: ExprKind::Port
            }
        );
        assert_eq!(
            set("[!0:100,!101:]").unwrap_err(),
            ExprError::CompleteSpaceNegated {
                kind: ExprKind::Port
            }
        );
        assert_eq!(
            set("[80,!80]").unwrap_err(),
            ExprError::Empty {
                kind: ExprKind::Port
            }
        );
        assert_eq!(
            set("[80,![70:90]]").unwrap_err(),
            ExprError::Empty {
                kind: ExprKind::Port
            }
        );
    }

    #[test]
    fn display_round_trips() {
        for s in ["any", "80", "1024:", ":1023", "[80,!443,$HTTP_PORTS,[1:2]]"] {
            let e = PortExpr::parse(s).unwrap();
            assert_eq!(PortExpr::parse(&e.to_string()).unwrap(), e, "{s}");
        }
        assert_eq!(set("[80,1024:,:10]").unwrap().to_string(), "[:10,80,1024:]");
    }
}
