//! Address expressions (`any`, `1.2.3.4`, `10.0.0.0/8`,
//! `10.0.0.0/255.0.0.0`, `1.2.3.4-1.2.3.10`, IPv6 forms, `[...]`, `!x`,
//! `$VAR`) and their resolution into an [`IpSet`].
//!
//! Resolution follows Suricata's `DetectAddressParse2` and
//! `DetectAddressMergeNot` (detect-engine-address.c):
//!
//! - Items of a plain group, and the items of a plain variable's value,
//!   all land in one pool of positive and negative ranges, however deeply
//!   nested: `[10.0.0.0/8, [!10.1.0.0/16]]` is 10/8 minus 10.1/16.
//! - A negated group or variable (`![...]`, `!$VAR`) is resolved on its
//!   own first, and its result becomes negative ranges of the outer pool.
//! - Per address family: if the pool has negative but no positive ranges,
//!   the positive side is the whole family (so `!1.2.3.4` is all IPv4 but
//!   1.2.3.4, and **no IPv6**: Suricata's `!$HOME_NET` with an IPv4-only
//!   `HOME_NET` matches no IPv6 address). The result is positive minus
//!   negative.
//! - Errors: negative ranges covering all of IPv4 (`!any`; Suricata checks
//!   IPv4 only), or nothing left in either family.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{ExprError, ExprKind, quote};
use crate::expr::{self, Expr};
use crate::ranges;
use crate::vars::{Resolver, Vars};

/// An address expression: see the [module docs](self).
pub type AddrExpr = Expr<IpRange>;

/// An inclusive range of addresses of one family: what a single address,
/// a network or an `a-b` range denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpRange {
    /// IPv4, as host-order integers.
    V4 {
        /// First address.
        start: u32,
        /// Last address (inclusive).
        end: u32,
    },
    /// IPv6, as host-order integers.
    V6 {
        /// First address.
        start: u128,
        /// Last address (inclusive).
        end: u128,
    },
}

impl IpRange {
    /// Parses one literal: an address, `addr/prefix`, `ipv4/dotted-mask`
    /// or `first-last`. IPv6 is recognised by a `:` anywhere, as Suricata
    /// does.
    ///
    /// # Errors
    ///
    /// A message naming the literal when it is none of these forms.
    pub fn parse(s: &str) -> Result<IpRange, String> {
        let bad = || format!("invalid address {}", quote(s));
        if s.contains(':') {
            if let Some((ip, prefix)) = s.split_once('/') {
                let ip: Ipv6Addr = ip.parse().map_err(|_| bad())?;
                let prefix = parse_prefix(prefix, 128).ok_or_else(bad)?;
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix)
                };
                let start = u128::from(ip) & mask;
                Ok(IpRange::V6 {
                    start,
                    end: start | !mask,
                })
            } else if let Some((a, b)) = s.split_once('-') {
                let start = u128::from(a.parse::<Ipv6Addr>().map_err(|_| bad())?);
                let end = u128::from(b.parse::<Ipv6Addr>().map_err(|_| bad())?);
                if start > end {
                    return Err(format!("address range {} runs backwards", quote(s)));
                }
                Ok(IpRange::V6 { start, end })
            } else {
                let ip = u128::from(s.parse::<Ipv6Addr>().map_err(|_| bad())?);
                Ok(IpRange::V6 { start: ip, end: ip })
            }
        } else if let Some((ip, mask)) = s.split_once('/') {
            let ip = u32::from(ip.parse::<Ipv4Addr>().map_err(|_| bad())?);
            let mask = if mask.contains('.') {
                // Suricata takes any dotted mask and ANDs it, so a
                // non-contiguous mask yields [ip & mask, (ip & mask) | !mask].
                u32::from(mask.parse::<Ipv4Addr>().map_err(|_| bad())?)
            } else {
                let prefix = parse_prefix(mask, 32).ok_or_else(bad)?;
                if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                }
            };
            let start = ip & mask;
            Ok(IpRange::V4 {
                start,
                end: start | !mask,
            })
        } else if let Some((a, b)) = s.split_once('-') {
            let start = u32::from(a.trim().parse::<Ipv4Addr>().map_err(|_| bad())?);
            let end = u32::from(b.trim().parse::<Ipv4Addr>().map_err(|_| bad())?);
            if start > end {
                return Err(format!("address range {} runs backwards", quote(s)));
            }
            Ok(IpRange::V4 { start, end })
        } else {
            let ip = u32::from(s.parse::<Ipv4Addr>().map_err(|_| bad())?);
            Ok(IpRange::V4 { start: ip, end: ip })
        }
    }
}

fn parse_prefix(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&p| p <= max)
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IpRange::V4 { start, end } => {
                let (a, b) = (Ipv4Addr::from(start), Ipv4Addr::from(end));
                match prefix_len(u128::from(start), u128::from(end), 32) {
                    Some(32) => write!(f, "{a}"),
                    Some(p) => write!(f, "{a}/{p}"),
                    None => write!(f, "{a}-{b}"),
                }
            }
            IpRange::V6 { start, end } => {
                let (a, b) = (Ipv6Addr::from(start), Ipv6Addr::from(end));
                match prefix_len(start, end, 128) {
                    Some(128) => write!(f, "{a}"),
                    Some(p) => write!(f, "{a}/{p}"),
                    None => write!(f, "{a}-{b}"),
                }
            }
        }
    }
}

/// The prefix length if `[start, end]` is exactly one network of a
/// `bits`-wide family.
fn prefix_len(start: u128, end: u128, bits: u32) -> Option<u32> {
    let host = start ^ end;
    // A network: the host part is a run of low ones, start has none of them.
    if host & host.wrapping_add(1) != 0 || start & host != 0 {
        return None;
    }
    Some(bits - (128 - host.leading_zeros()))
}

impl AddrExpr {
    /// Parses an address expression.
    ///
    /// # Errors
    ///
    /// [`ExprError::Syntax`] naming the offending part.
    ///
    /// # Example
    ///
    /// ```
    /// use mirador_rules::{AddrExpr, Vars};
    ///
    /// let e = AddrExpr::parse("[$HOME_NET, !192.168.1.0/24]").unwrap();
    /// let set = e.resolve(&Vars::suricata_defaults()).unwrap();
    /// assert!(set.contains("10.1.2.3".parse().unwrap()));
    /// assert!(!set.contains("192.168.1.7".parse().unwrap()));
    /// ```
    pub fn parse(s: &str) -> Result<AddrExpr, ExprError> {
        expr::parse(s, ExprKind::Address, IpRange::parse)
    }

    /// Whether the expression, with its variables expanded from `vars`,
    /// contains a negation anywhere (`$EXTERNAL_NET` does, being
    /// `!$HOME_NET` by default). Suricata's `src_contains_negation`: such
    /// rules are not inspected as IP-only rules.
    pub fn contains_negation(&self, vars: &Vars) -> bool {
        fn walk(e: &AddrExpr, vars: &Vars, depth: usize) -> bool {
            // Resolution refuses deeper nesting; a cycle would otherwise
            // recurse for ever.
            if depth > 64 {
                return false;
            }
            match e {
                Expr::Not(_) => true,
                Expr::Group(items) => items.iter().any(|i| walk(i, vars, depth + 1)),
                Expr::Var(name) => vars.address(name).is_some_and(|v| walk(v, vars, depth + 1)),
                Expr::Any | Expr::Literal(_) => false,
            }
        }
        walk(self, vars, 0)
    }

    /// Resolves the expression against `vars` (see the [module
    /// docs](self) for Suricata's semantics).
    ///
    /// # Errors
    ///
    /// Undefined variables, cycles, too deep or too large expansions, a
    /// negated complete IPv4 space, or an empty result.
    pub fn resolve(&self, vars: &Vars) -> Result<IpSet, ExprError> {
        let mut r = Resolver::new(vars, ExprKind::Address);
        resolve_fresh(self, &mut r)
    }
}

/// Positive and negative ranges gathered from one (non-negated) scope.
#[derive(Default)]
struct Pool {
    pos4: Vec<(u32, u32)>,
    pos6: Vec<(u128, u128)>,
    neg4: Vec<(u32, u32)>,
    neg6: Vec<(u128, u128)>,
}

fn resolve_fresh(e: &AddrExpr, r: &mut Resolver<'_>) -> Result<IpSet, ExprError> {
    let mut pool = Pool::default();
    collect(e, &mut pool, r)?;
    merge(pool)
}

fn collect(e: &AddrExpr, pool: &mut Pool, r: &mut Resolver<'_>) -> Result<(), ExprError> {
    r.count_item()?;
    match e {
        Expr::Any => {
            pool.pos4.push((0, u32::MAX));
            pool.pos6.push((0, u128::MAX));
        }
        Expr::Literal(IpRange::V4 { start, end }) => pool.pos4.push((*start, *end)),
        Expr::Literal(IpRange::V6 { start, end }) => pool.pos6.push((*start, *end)),
        Expr::Group(items) => {
            for item in items {
                collect(item, pool, r)?;
            }
        }
        Expr::Var(name) => {
            let value = r.enter_address(name)?;
            let res = collect(value, pool, r);
            r.leave();
            res.map_err(|e| in_var(name, e))?;
        }
        Expr::Not(inner) => {
            // A negated block is resolved on its own, then subtracted.
            let set = match &**inner {
                Expr::Var(name) => {
                    let value = r.enter_address(name)?;
                    let res = resolve_fresh(value, r);
                    r.leave();
                    res.map_err(|e| in_var(name, e))?
                }
                other => resolve_fresh(other, r)?,
            };
            pool.neg4.extend_from_slice(&set.v4);
            pool.neg6.extend_from_slice(&set.v6);
        }
    }
    Ok(())
}

/// Wraps an error found inside `$name`'s value, once: errors that are
/// about the variable itself (undefined, cycle) or already wrapped pass.
pub(crate) fn in_var(name: &str, e: ExprError) -> ExprError {
    match e {
        ExprError::UndefinedVariable { .. }
        | ExprError::Cycle { .. }
        | ExprError::TooDeep { .. }
        | ExprError::TooLarge { .. }
        | ExprError::InVariable { .. } => e,
        other => ExprError::InVariable {
            name: name.to_string(),
            error: Box::new(other),
        },
    }
}

fn merge(mut p: Pool) -> Result<IpSet, ExprError> {
    ranges::normalize(&mut p.neg4);
    ranges::normalize(&mut p.neg6);
    if ranges::is_full(&p.neg4) {
        return Err(ExprError::CompleteSpaceNegated {
            kind: ExprKind::Address,
        });
    }
    if p.pos4.is_empty() && !p.neg4.is_empty() {
        p.pos4.push((0, u32::MAX));
    }
    if p.pos6.is_empty() && !p.neg6.is_empty() {
        p.pos6.push((0, u128::MAX));
    }
    ranges::normalize(&mut p.pos4);
    ranges::normalize(&mut p.pos6);
    let set = IpSet {
        v4: ranges::subtract(&p.pos4, &p.neg4),
        v6: ranges::subtract(&p.pos6, &p.neg6),
    };
    if set.is_empty() {
        return Err(ExprError::Empty {
            kind: ExprKind::Address,
        });
    }
    Ok(set)
}

/// A resolved address expression: sorted, disjoint, merged inclusive
/// ranges per family, answering [`IpSet::contains`] by binary search.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct IpSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl IpSet {
    /// Every IPv4 and IPv6 address (`any`).
    pub fn any() -> IpSet {
        IpSet {
            v4: vec![(0, u32::MAX)],
            v6: vec![(0, u128::MAX)],
        }
    }

    /// Whether `ip` is in the set. IPv4-mapped IPv6 addresses are IPv6.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => ranges::contains(&self.v4, u32::from(a)),
            IpAddr::V6(a) => ranges::contains(&self.v6, u128::from(a)),
        }
    }

    /// Whether the set is every address of both families.
    pub fn is_any(&self) -> bool {
        ranges::is_full(&self.v4) && ranges::is_full(&self.v6)
    }

    /// Whether the set holds no address (never true of a resolved
    /// expression, which errors instead).
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// The IPv4 ranges, as inclusive host-order pairs, sorted and disjoint.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4
    }

    /// The IPv6 ranges, as inclusive host-order pairs, sorted and disjoint.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6
    }

    /// The set as the fewest CIDR networks covering exactly it, IPv4
    /// first (for a radix tree or a log line).
    pub fn to_ipnets(&self) -> Vec<ipnet::IpNet> {
        let mut out = Vec::new();
        for &(s, e) in &self.v4 {
            split_cidrs(u128::from(s), u128::from(e), 32, &mut |a, p| {
                // Values come from u32 ranges, so they fit.
                let a = Ipv4Addr::from(u32::try_from(a).unwrap_or(u32::MAX));
                if let Ok(n) = ipnet::Ipv4Net::new(a, p as u8) {
                    out.push(ipnet::IpNet::V4(n));
                }
            });
        }
        for &(s, e) in &self.v6 {
            split_cidrs(s, e, 128, &mut |a, p| {
                if let Ok(n) = ipnet::Ipv6Net::new(Ipv6Addr::from(a), p as u8) {
                    out.push(ipnet::IpNet::V6(n));
                }
            });
        }
        out
    }
}

/// Emits the minimal list of aligned blocks covering `[start, end]` in a
/// `bits`-wide space, as (first address, prefix length).
fn split_cidrs(mut start: u128, end: u128, bits: u32, emit: &mut dyn FnMut(u128, u32)) {
    loop {
        // The largest block aligned at `start` that does not pass `end`.
        let mut size = if start == 0 {
            bits
        } else {
            start.trailing_zeros().min(bits)
        };
        while size > 0 && block_last(start, size) > end {
            size -= 1;
        }
        let last = block_last(start, size);
        emit(start, bits - size);
        if last >= end {
            return;
        }
        start = last + 1;
    }
}

/// The last address of the `2^size` block starting at `start`.
fn block_last(start: u128, size: u32) -> u128 {
    if size >= 128 {
        u128::MAX
    } else {
        start | ((1u128 << size) - 1)
    }
}

impl fmt::Display for IpSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            return f.write_str("any");
        }
        f.write_str("[")?;
        let mut first = true;
        for n in self.to_ipnets() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{n}")?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests;
