//! IP-only rules: rules that look at nothing but addresses, ports and
//! protocol, found by address lookup instead of by trying each one.
//!
//! Suricata inspects such rules (`SignatureIsIPOnly`: no payload, no flow
//! direction, only keywords marked IP-only compatible, no negated address
//! anywhere in source or destination) in its IP-only engine, and only on
//! the first packet of each direction of a flow (`DetectRunInspectIPOnly`);
//! mirador does the same, so such a rule alerts at most twice per flow, as
//! Suricata's does. ET Open's reputation lists (CINS, DROP, Tor, …) are
//! IP-only rules with hundreds of addresses each: tried one by one they
//! took most of the matching time, as every packet paid a binary search
//! per rule.
//!
//! The index cuts each address family into the elementary intervals
//! between the rules' range boundaries; each interval maps to the set of
//! rules whose addresses cover it (a bitset, deduplicated: most intervals
//! share a handful of sets). A packet's candidates are the rules in both
//! its source's set and its destination's set (and, for `<>` rules, the
//! same the other way round); the caller still checks ports and protocol.

use std::collections::HashMap;
use std::net::IpAddr;

use mirador_rules::IpSet;

/// The elementary intervals of one family.
#[derive(Debug, Clone)]
struct Intervals<T> {
    /// Interval starts, ascending; the first is 0.
    starts: Vec<T>,
    /// Interval → index into [`Side::sets`].
    set: Vec<u32>,
}

impl<T: Copy + Ord> Intervals<T> {
    fn lookup(&self, x: T) -> usize {
        // The last interval starting at or before x.
        let i = self.starts.partition_point(|&s| s <= x);
        self.set[i.saturating_sub(1)] as usize
    }
}

/// One side (source or destination) of every IP-only rule.
#[derive(Debug, Clone)]
struct Side {
    v4: Intervals<u32>,
    v6: Intervals<u128>,
    /// Distinct rule sets, `words` u64s each.
    sets: Vec<u64>,
}

impl Side {
    fn bits(&self, ip: IpAddr, words: usize) -> &[u64] {
        let i = match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        };
        &self.sets[i * words..(i + 1) * words]
    }
}

/// Builds one family's intervals from each rule's ranges, interning the
/// rule sets into `sets`.
fn intervals<T: Copy + Ord + std::hash::Hash>(
    ranges: &[&[(T, T)]],
    zero: T,
    succ: impl Fn(T) -> Option<T>,
    words: usize,
    sets: &mut Vec<u64>,
    interned: &mut HashMap<Vec<u64>, u32>,
) -> Intervals<T> {
    let mut starts = vec![zero];
    for rs in ranges {
        for &(a, b) in rs.iter() {
            starts.push(a);
            if let Some(n) = succ(b) {
                starts.push(n);
            }
        }
    }
    starts.sort_unstable();
    starts.dedup();
    let mut flat = vec![0u64; starts.len() * words];
    for (r, rs) in ranges.iter().enumerate() {
        for &(a, b) in rs.iter() {
            // `a` is a start; the intervals up to the one holding `b`.
            let lo = starts.partition_point(|&s| s < a);
            let hi = starts.partition_point(|&s| s <= b);
            for i in lo..hi {
                flat[i * words + r / 64] |= 1 << (r % 64);
            }
        }
    }
    let set = flat
        .chunks(words.max(1))
        .take(starts.len())
        .map(|bits| {
            let next = interned.len() as u32;
            *interned.entry(bits.to_vec()).or_insert_with(|| {
                sets.extend_from_slice(bits);
                next
            })
        })
        .collect();
    Intervals { starts, set }
}

/// The IP-only rules of one variable set.
#[derive(Debug, Clone)]
pub struct IpOnly {
    /// Local id → the caller's rule number.
    rules: Vec<u32>,
    words: usize,
    src: Side,
    dst: Side,
    /// Rules written with `<>`.
    bidir: Vec<u64>,
}

/// A rule's part in the index: its number, addresses and `<>`.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The caller's number for the rule.
    pub rule: u32,
    /// Source addresses.
    pub src: &'a IpSet,
    /// Destination addresses.
    pub dst: &'a IpSet,
    /// Written with `<>`.
    pub bidirectional: bool,
}

impl IpOnly {
    /// Indexes `members` (in the order they are given; candidates come out
    /// in that order).
    pub fn build<'a>(members: &[Member<'a>]) -> IpOnly {
        let words = members.len().div_ceil(64).max(1);
        let side = |source: bool| {
            let pick = |m: &Member<'a>| if source { m.src } else { m.dst };
            let mut sets = Vec::new();
            let mut interned = HashMap::new();
            let v4: Vec<&[(u32, u32)]> = members.iter().map(|m| pick(m).v4_ranges()).collect();
            let v6: Vec<&[(u128, u128)]> = members.iter().map(|m| pick(m).v6_ranges()).collect();
            let v4 = intervals(
                &v4,
                0u32,
                |b| b.checked_add(1),
                words,
                &mut sets,
                &mut interned,
            );
            let v6 = intervals(
                &v6,
                0u128,
                |b| b.checked_add(1),
                words,
                &mut sets,
                &mut interned,
            );
            Side { v4, v6, sets }
        };
        let mut bidir = vec![0u64; words];
        for (i, m) in members.iter().enumerate() {
            if m.bidirectional {
                bidir[i / 64] |= 1 << (i % 64);
            }
        }
        IpOnly {
            rules: members.iter().map(|m| m.rule).collect(),
            words,
            src: side(true),
            dst: side(false),
            bidir,
        }
    }

    /// How many rules are indexed.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule is indexed.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Calls `f` with each rule whose addresses admit `src → dst` (or
    /// `dst → src` for `<>` rules), in index order. Ports and protocol are
    /// the caller's to check.
    pub fn candidates(&self, src: IpAddr, dst: IpAddr, mut f: impl FnMut(u32)) {
        if self.rules.is_empty() {
            return;
        }
        let w = self.words;
        let (s, d) = (self.src.bits(src, w), self.dst.bits(dst, w));
        let (rs, rd) = (self.src.bits(dst, w), self.dst.bits(src, w));
        for i in 0..w {
            let mut m = (s[i] & d[i]) | (rs[i] & rd[i] & self.bidir[i]);
            while m != 0 {
                let b = m.trailing_zeros() as usize;
                m &= m - 1;
                if let Some(&r) = self.rules.get(i * 64 + b) {
                    f(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirador_rules::{AddrExpr, Vars};

    fn set(s: &str) -> IpSet {
        AddrExpr::parse(s)
            .unwrap()
            .resolve(&Vars::suricata_defaults())
            .unwrap()
    }

    fn found(idx: &IpOnly, src: &str, dst: &str) -> Vec<u32> {
        let mut v = Vec::new();
        idx.candidates(src.parse().unwrap(), dst.parse().unwrap(), |r| v.push(r));
        v
    }

    #[test]
    fn candidates_are_the_rules_whose_both_sides_admit() {
        let sets = [
            (set("[1.2.3.4,5.6.7.0/24]"), set("$HOME_NET"), false),
            (set("any"), set("10.0.0.0/8"), false),
            (set("10.1.0.0/16"), set("1.2.3.4"), true),
            (set("2001:db8::/32"), set("any"), false),
            (set("[0.0.0.0,255.255.255.255]"), set("any"), false),
        ];
        let members: Vec<Member<'_>> = sets
            .iter()
            .enumerate()
            .map(|(i, (s, d, b))| Member {
                rule: 100 + i as u32,
                src: s,
                dst: d,
                bidirectional: *b,
            })
            .collect();
        let idx = IpOnly::build(&members);
        assert_eq!(idx.len(), 5);
        assert_eq!(found(&idx, "1.2.3.4", "192.168.1.1"), &[100]);
        assert_eq!(found(&idx, "5.6.7.255", "10.0.0.1"), &[100, 101]);
        assert_eq!(found(&idx, "5.6.8.0", "10.0.0.1"), &[101]);
        // 102 is `<>`: 1.2.3.4 → 10.1.x matches reversed (and 101 fits).
        assert_eq!(found(&idx, "1.2.3.4", "10.1.2.3"), &[100, 101, 102]);
        assert_eq!(found(&idx, "10.1.2.3", "1.2.3.4"), &[102]);
        assert_eq!(found(&idx, "2001:db8::1", "::1"), &[103]);
        assert_eq!(found(&idx, "0.0.0.0", "8.8.8.8"), &[104]);
        assert_eq!(found(&idx, "255.255.255.255", "8.8.8.8"), &[104]);
        assert_eq!(found(&idx, "8.8.8.8", "8.8.4.4"), &[] as &[u32]);
    }

    #[test]
    fn agrees_with_the_sets_on_many_rules() {
        // More rules than one bitset word, with overlapping lists.
        let sets: Vec<(IpSet, IpSet)> = (0..150u32)
            .map(|i| {
                let a = format!("[10.{}.0.0/16,192.168.{}.{}]", i % 7, i % 3, i);
                let b = if i % 2 == 0 {
                    "any".to_string()
                } else {
                    format!("172.16.{}.0/24", i % 5)
                };
                (set(&a), set(&b))
            })
            .collect();
        let members: Vec<Member<'_>> = sets
            .iter()
            .enumerate()
            .map(|(i, (s, d))| Member {
                rule: i as u32,
                src: s,
                dst: d,
                bidirectional: false,
            })
            .collect();
        let idx = IpOnly::build(&members);
        for (src, dst) in [
            ("10.3.1.1", "172.16.1.9"),
            ("192.168.1.4", "172.16.4.1"),
            ("192.168.2.149", "8.8.8.8"),
            ("10.6.255.255", "172.16.0.0"),
        ] {
            let want: Vec<u32> = sets
                .iter()
                .enumerate()
                .filter(|(_, (s, d))| {
                    s.contains(src.parse().unwrap()) && d.contains(dst.parse().unwrap())
                })
                .map(|(i, _)| i as u32)
                .collect();
            assert_eq!(found(&idx, src, dst), want, "{src} -> {dst}");
        }
    }
}
