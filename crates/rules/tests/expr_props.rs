//! Random address and port expressions (nested groups, negations,
//! variables) resolve to the same membership as a naive evaluator that
//! implements Suricata's semantics on bitmaps instead of ranges.
//!
//! Addresses: every literal lies in 10.0.0.0..=10.0.0.7 or
//! 2001:db8::..=2001:db8::7, so every address outside those behaves like
//! one of the probes below it, above it or at the ends of the space; the
//! bitmaps over the probes are exact. Ports: the bitmaps cover all 65536.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mirador_rules::{AddrExpr, ExprError, PortExpr, Vars};
use proptest::prelude::*;

/// A literal of the small universe.
#[derive(Debug, Clone, Copy)]
enum Lit {
    V4Single(u8),
    V4Cidr(u8, u8),
    V4Range(u8, u8),
    V6Single(u8),
    V6Cidr(u8, u8),
    V6Range(u8, u8),
}

#[derive(Debug, Clone)]
enum E<L> {
    Any,
    Lit(L),
    Var(usize),
    Group(Vec<E<L>>),
    Not(Box<E<L>>),
}

const VARS: usize = 3;

fn render<L>(e: &E<L>, lit: &dyn Fn(&L) -> String) -> String {
    match e {
        E::Any => "any".into(),
        E::Lit(l) => lit(l),
        E::Var(i) => format!("$V{i}"),
        E::Group(items) => {
            let parts: Vec<String> = items.iter().map(|i| render(i, lit)).collect();
            format!("[{}]", parts.join(", "))
        }
        E::Not(inner) => format!("!{}", render(inner, lit)),
    }
}

/// Expressions that may name variables `$V0..$V{max_var - 1}`.
fn tree<L: Clone + std::fmt::Debug + 'static>(
    lit: impl Strategy<Value = L> + Clone + 'static,
    max_var: usize,
) -> impl Strategy<Value = E<L>> {
    let leaf = if max_var == 0 {
        prop_oneof![1 => Just(E::Any), 6 => lit.prop_map(E::Lit)].boxed()
    } else {
        prop_oneof![1 => Just(E::Any), 6 => lit.prop_map(E::Lit), 2 => (0..max_var).prop_map(E::Var)]
            .boxed()
    };
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            3 => prop::collection::vec(inner.clone(), 1..4).prop_map(E::Group),
            // No `!!`: the parser rejects it.
            2 => inner.prop_filter_map("no double negation", |e| match e {
                E::Not(_) => None,
                other => Some(E::Not(Box::new(other))),
            }),
        ]
    })
}

/// Variables V0..V2, each naming only earlier ones (no cycles), and a
/// top expression naming any.
fn case<L: Clone + std::fmt::Debug + 'static>(
    lit: impl Strategy<Value = L> + Clone + 'static,
) -> impl Strategy<Value = (Vec<E<L>>, E<L>)> {
    let vars = (
        tree(lit.clone(), 0),
        tree(lit.clone(), 1),
        tree(lit.clone(), 2),
    )
        .prop_map(|(a, b, c)| vec![a, b, c]);
    (vars, tree(lit, VARS))
}

// ---------------------------------------------------------------- addresses

fn v4(i: u8) -> u32 {
    0x0a00_0000 | u32::from(i)
}

fn v6(i: u8) -> u128 {
    (0x2001_0db8u128 << 96) | u128::from(i)
}

fn render_addr(l: &Lit) -> String {
    match *l {
        Lit::V4Single(i) => Ipv4Addr::from(v4(i)).to_string(),
        Lit::V4Cidr(i, p) => format!("{}/{p}", Ipv4Addr::from(v4(i))),
        Lit::V4Range(a, b) => format!("{}-{}", Ipv4Addr::from(v4(a)), Ipv4Addr::from(v4(b))),
        Lit::V6Single(i) => Ipv6Addr::from(v6(i)).to_string(),
        Lit::V6Cidr(i, p) => format!("{}/{p}", Ipv6Addr::from(v6(i))),
        Lit::V6Range(a, b) => format!("{}-{}", Ipv6Addr::from(v6(a)), Ipv6Addr::from(v6(b))),
    }
}

fn addr_lit() -> impl Strategy<Value = Lit> + Clone {
    let range = (0u8..8, 0u8..8).prop_map(|(a, b)| (a.min(b), a.max(b)));
    prop_oneof![
        (0u8..8).prop_map(Lit::V4Single),
        (0u8..8, 29u8..=32).prop_map(|(i, p)| Lit::V4Cidr(i, p)),
        range.clone().prop_map(|(a, b)| Lit::V4Range(a, b)),
        (0u8..8).prop_map(Lit::V6Single),
        (0u8..8, 125u8..=128).prop_map(|(i, p)| Lit::V6Cidr(i, p)),
        range.prop_map(|(a, b)| Lit::V6Range(a, b)),
    ]
}

/// The probes: both ends of each family, the universe, and one address
/// just below and just above it.
fn probes() -> Vec<IpAddr> {
    let mut p: Vec<IpAddr> = vec![Ipv4Addr::from(0).into(), Ipv4Addr::from(v4(0) - 1).into()];
    p.extend((0..8).map(|i| IpAddr::from(Ipv4Addr::from(v4(i)))));
    p.push(Ipv4Addr::from(v4(8)).into());
    p.push(Ipv4Addr::from(u32::MAX).into());
    p.push(Ipv6Addr::from(0).into());
    p.push(Ipv6Addr::from(v6(0) - 1).into());
    p.extend((0..8).map(|i| IpAddr::from(Ipv6Addr::from(v6(i)))));
    p.push(Ipv6Addr::from(v6(8)).into());
    p.push(Ipv6Addr::from(u128::MAX).into());
    p
}

type Mask = u32;

fn family_masks(probes: &[IpAddr]) -> (Mask, Mask) {
    let mut m4 = 0;
    let mut m6 = 0;
    for (i, p) in probes.iter().enumerate() {
        if p.is_ipv4() {
            m4 |= 1 << i;
        } else {
            m6 |= 1 << i;
        }
    }
    (m4, m6)
}

fn lit_mask(l: &Lit, probes: &[IpAddr]) -> Mask {
    let mut m = 0;
    for (i, p) in probes.iter().enumerate() {
        let hit = match (*l, p) {
            (Lit::V4Single(a), IpAddr::V4(x)) => u32::from(*x) == v4(a),
            (Lit::V4Cidr(a, pl), IpAddr::V4(x)) => {
                let mask = u32::MAX << (32 - u32::from(pl));
                u32::from(*x) & mask == v4(a) & mask
            }
            (Lit::V4Range(a, b), IpAddr::V4(x)) => (v4(a)..=v4(b)).contains(&u32::from(*x)),
            (Lit::V6Single(a), IpAddr::V6(x)) => u128::from(*x) == v6(a),
            (Lit::V6Cidr(a, pl), IpAddr::V6(x)) => {
                let mask = u128::MAX << (128 - u32::from(pl));
                u128::from(*x) & mask == v6(a) & mask
            }
            (Lit::V6Range(a, b), IpAddr::V6(x)) => (v6(a)..=v6(b)).contains(&u128::from(*x)),
            _ => false,
        };
        if hit {
            m |= 1 << i;
        }
    }
    m
}

/// What the naive model says: Ok(mask) or the error's name.
fn naive_addr(e: &E<Lit>, vars: &[E<Lit>], probes: &[IpAddr]) -> Result<Mask, &'static str> {
    let (m4, m6) = family_masks(probes);
    let all = m4 | m6;
    fn collect(
        e: &E<Lit>,
        vars: &[E<Lit>],
        probes: &[IpAddr],
        pos: &mut Mask,
        neg: &mut Mask,
    ) -> Result<(), &'static str> {
        let (m4, m6) = family_masks(probes);
        match e {
            E::Any => *pos |= m4 | m6,
            E::Lit(l) => *pos |= lit_mask(l, probes),
            E::Var(i) => collect(&vars[*i], vars, probes, pos, neg)?,
            E::Group(items) => {
                for i in items {
                    collect(i, vars, probes, pos, neg)?;
                }
            }
            E::Not(inner) => {
                let inner = match &**inner {
                    E::Var(i) => &vars[*i],
                    other => other,
                };
                *neg |= naive_addr(inner, vars, probes)?;
            }
        }
        Ok(())
    }
    let (mut pos, mut neg) = (0, 0);
    collect(e, vars, probes, &mut pos, &mut neg)?;
    if neg & m4 == m4 {
        return Err("complete");
    }
    if pos & m4 == 0 && neg & m4 != 0 {
        pos |= m4;
    }
    if pos & m6 == 0 && neg & m6 != 0 {
        pos |= m6;
    }
    let r = pos & !neg & all;
    if r == 0 { Err("empty") } else { Ok(r) }
}

fn error_name(e: &ExprError) -> &'static str {
    match e {
        ExprError::InVariable { error, .. } => error_name(error),
        ExprError::CompleteSpaceNegated { .. } => "complete",
        ExprError::Empty { .. } => "empty",
        _ => "other",
    }
}

fn addr_vars(vars: &[E<Lit>]) -> Vars {
    let mut v = Vars::new();
    for (i, e) in vars.iter().enumerate() {
        v.set_address(&format!("V{i}"), &render(e, &render_addr))
            .unwrap();
    }
    v
}

// -------------------------------------------------------------------- ports

#[derive(Debug, Clone, Copy)]
enum PLit {
    Single(u16),
    Range(u16, u16),
    From(u16),
    To(u16),
}

const PORTS: [u16; 11] = [0, 1, 2, 79, 80, 81, 443, 1023, 1024, 65534, 65535];

fn port_lit() -> impl Strategy<Value = PLit> + Clone {
    let p = prop::sample::select(PORTS.to_vec());
    prop_oneof![
        p.clone().prop_map(PLit::Single),
        (p.clone(), p.clone()).prop_map(|(a, b)| PLit::Range(a.min(b), a.max(b))),
        p.clone().prop_map(PLit::From),
        p.prop_map(PLit::To),
    ]
}

fn render_port(l: &PLit) -> String {
    match *l {
        PLit::Single(p) => p.to_string(),
        PLit::Range(a, b) => format!("{a}:{b}"),
        PLit::From(a) => format!("{a}:"),
        PLit::To(b) => format!(":{b}"),
    }
}

fn port_bounds(l: &PLit) -> (u16, u16) {
    match *l {
        PLit::Single(p) => (p, p),
        PLit::Range(a, b) => (a, b),
        PLit::From(a) => (a, u16::MAX),
        PLit::To(b) => (0, b),
    }
}

struct Bits(Vec<bool>);

impl Bits {
    fn new() -> Bits {
        Bits(vec![false; 65536])
    }
    fn set(&mut self, (a, b): (u16, u16)) {
        for p in a..=b {
            self.0[usize::from(p)] = true;
        }
    }
}

/// Suricata's port model (detect-engine-port.c), on bitmaps.
fn naive_ports(e: &E<PLit>, vars: &[E<PLit>]) -> Result<Vec<bool>, &'static str> {
    fn push(pos: &mut Bits, neg: &mut Bits, negative: bool, r: (u16, u16)) {
        if negative { neg.set(r) } else { pos.set(r) }
    }
    fn collect(
        e: &E<PLit>,
        negate: bool,
        last: bool,
        vars: &[E<PLit>],
        pos: &mut Bits,
        neg: &mut Bits,
    ) {
        match e {
            E::Any => push(pos, neg, negate, (0, u16::MAX)),
            E::Lit(l) => push(pos, neg, negate, port_bounds(l)),
            E::Var(i) => collect(&vars[*i], negate, true, vars, pos, neg),
            E::Group(items) => {
                for (i, it) in items.iter().enumerate() {
                    collect(it, negate, i + 1 == items.len(), vars, pos, neg);
                }
            }
            E::Not(inner) => match &**inner {
                E::Var(i) => collect(&vars[*i], !negate, true, vars, pos, neg),
                E::Group(items) => {
                    for (i, it) in items.iter().enumerate() {
                        collect(it, true, i + 1 == items.len(), vars, pos, neg);
                    }
                }
                E::Any => push(pos, neg, !(last && negate), (0, u16::MAX)),
                E::Lit(l) => push(pos, neg, !(last && negate), port_bounds(l)),
                E::Not(_) => unreachable!("generator avoids !!"),
            },
        }
    }
    let (mut pos, mut neg) = (Bits::new(), Bits::new());
    collect(e, false, true, vars, &mut pos, &mut neg);
    if neg.0.iter().all(|&b| b) {
        return Err("complete");
    }
    if !pos.0.iter().any(|&b| b) && neg.0.iter().any(|&b| b) {
        pos.set((0, u16::MAX));
    }
    let r: Vec<bool> = pos.0.iter().zip(&neg.0).map(|(&p, &n)| p && !n).collect();
    if r.iter().any(|&b| b) {
        Ok(r)
    } else {
        Err("empty")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn addresses_match_naive_model((vars, top) in case(addr_lit())) {
        let probes = probes();
        let text = render(&top, &render_addr);
        let real = AddrExpr::parse(&text).unwrap().resolve(&addr_vars(&vars));
        let want = naive_addr(&top, &vars, &probes);
        match (&real, &want) {
            (Ok(set), Ok(mask)) => {
                for (i, p) in probes.iter().enumerate() {
                    prop_assert_eq!(set.contains(*p), mask & (1 << i) != 0, "{} at {}", text, p);
                }
            }
            (Err(e), Err(name)) => prop_assert_eq!(error_name(e), *name, "{}", text),
            _ => prop_assert!(false, "{text}: real {real:?}, naive {want:?}"),
        }
    }

    #[test]
    fn ports_match_naive_model((vars, top) in case(port_lit())) {
        let mut v = Vars::new();
        for (i, e) in vars.iter().enumerate() {
            v.set_port(&format!("V{i}"), &render(e, &render_port)).unwrap();
        }
        let text = render(&top, &render_port);
        let real = PortExpr::parse(&text).unwrap().resolve(&v);
        match (&real, naive_ports(&top, &vars)) {
            (Ok(set), Ok(bits)) => {
                for (p, &b) in bits.iter().enumerate() {
                    let p = u16::try_from(p).unwrap();
                    prop_assert_eq!(set.contains(p), b, "{} at {}", text, p);
                }
            }
            (Err(e), Err(name)) => prop_assert_eq!(error_name(e), name, "{}", text),
            (real, want) => prop_assert!(false, "{text}: real {real:?}, naive {want:?}"),
        }
    }

    #[test]
    fn expressions_render_and_reparse((_, top) in case(addr_lit())) {
        let text = render(&top, &render_addr);
        let e = AddrExpr::parse(&text).unwrap();
        prop_assert_eq!(AddrExpr::parse(&e.to_string()).unwrap(), e);
    }
}

/// The generators reach every outcome, so the properties above are not
/// vacuous.
#[test]
fn generators_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut ok, mut complete, mut empty, mut partial) = (0, 0, 0, 0);
    let probes = probes();
    for _ in 0..2000 {
        let (vars, top) = case(addr_lit()).new_tree(&mut runner).unwrap().current();
        match naive_addr(&top, &vars, &probes) {
            Ok(mask) => {
                ok += 1;
                let (m4, m6) = family_masks(&probes);
                if mask != m4 | m6 {
                    partial += 1;
                }
            }
            Err("complete") => complete += 1,
            Err(_) => empty += 1,
        }
    }
    assert!(
        ok > 400 && partial > 200 && complete > 20 && empty > 20,
        "{ok} {partial} {complete} {empty}"
    );

    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let (vars, top) = case(port_lit()).new_tree(&mut runner).unwrap().current();
        match naive_ports(&top, &vars) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok > 60 && err > 20, "{ok} {err}");
}
