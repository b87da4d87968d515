//! A set of byte values: what one position of a pattern may match.

/// 256 bits, one per byte value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct ByteSet([u64; 4]);

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ByteSet[")?;
        for (i, (lo, hi)) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo:02x}")?;
            } else {
                write!(f, "{lo:02x}-{hi:02x}")?;
            }
        }
        f.write_str("]")
    }
}

impl ByteSet {
    /// No byte.
    pub(crate) const EMPTY: ByteSet = ByteSet([0; 4]);
    /// Every byte.
    pub(crate) const FULL: ByteSet = ByteSet([u64::MAX; 4]);

    /// Only `b`.
    pub(crate) fn single(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert(b);
        s
    }

    /// The bytes `lo..=hi`.
    pub(crate) fn range(lo: u8, hi: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert_range(lo, hi);
        s
    }

    /// Every byte but `b`.
    pub(crate) fn all_but(b: u8) -> ByteSet {
        ByteSet::single(b).complement()
    }

    pub(crate) fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1u64 << (b & 63);
    }

    pub(crate) fn insert_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.insert(b);
        }
    }

    pub(crate) fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
    }

    pub(crate) fn union(mut self, other: ByteSet) -> ByteSet {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        self
    }

    pub(crate) fn intersect(mut self, other: ByteSet) -> ByteSet {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a &= b;
        }
        self
    }

    pub(crate) fn complement(mut self) -> ByteSet {
        for a in &mut self.0 {
            *a = !*a;
        }
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    pub(crate) fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    /// The only member, if there is exactly one.
    pub(crate) fn as_single(&self) -> Option<u8> {
        if self.len() == 1 {
            self.iter().next()
        } else {
            None
        }
    }

    /// The members in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..=255).filter(|&b| self.contains(b))
    }

    /// Maximal runs `(lo, hi)` of members, ascending.
    pub(crate) fn ranges(&self) -> impl Iterator<Item = (u8, u8)> + '_ {
        let mut next: u16 = 0;
        std::iter::from_fn(move || {
            while next < 256 && !self.contains(next as u8) {
                next += 1;
            }
            if next >= 256 {
                return None;
            }
            let lo = next as u8;
            while next < 256 && self.contains(next as u8) {
                next += 1;
            }
            Some((lo, (next - 1) as u8))
        })
    }

    /// The set closed under ASCII case folding: PCRE's caseless matching
    /// without UTF/UCP, with its default ("C" locale) tables, folds only
    /// `A-Z` with `a-z`.
    pub(crate) fn fold_ascii_case(mut self) -> ByteSet {
        for b in b'A'..=b'Z' {
            let l = b.to_ascii_lowercase();
            if self.contains(b) || self.contains(l) {
                self.insert(b);
                self.insert(l);
            }
        }
        self
    }

    /// Whether some member has another case (an ASCII letter).
    pub(crate) fn has_cased(&self) -> bool {
        self.iter().any(|b| b.is_ascii_alphabetic())
    }

    /// The i-th member (ascending), `i < len()`.
    pub(crate) fn nth(&self, i: u32) -> Option<u8> {
        self.iter().nth(i as usize)
    }
}

/// PCRE's `\d`: `0-9`.
pub(crate) fn digit() -> ByteSet {
    ByteSet::range(b'0', b'9')
}

/// PCRE's `\w` with the default tables: `0-9A-Za-z_`.
pub(crate) fn word() -> ByteSet {
    ByteSet::range(b'0', b'9')
        .union(ByteSet::range(b'A', b'Z'))
        .union(ByteSet::range(b'a', b'z'))
        .union(ByteSet::single(b'_'))
}

/// PCRE2's `\s` with the default tables: HT, LF, VT, FF, CR and space
/// (VT is included since PCRE 8.34 / all of PCRE2).
pub(crate) fn space() -> ByteSet {
    ByteSet::range(0x09, 0x0d).union(ByteSet::single(b' '))
}

/// PCRE's `\h` in 8-bit non-UTF mode: HT, space, NBSP (0xa0).
pub(crate) fn hspace() -> ByteSet {
    ByteSet::single(0x09)
        .union(ByteSet::single(b' '))
        .union(ByteSet::single(0xa0))
}

/// PCRE's `\v` in 8-bit non-UTF mode: LF, VT, FF, CR, NEL (0x85).
pub(crate) fn vspace() -> ByteSet {
    ByteSet::range(0x0a, 0x0d).union(ByteSet::single(0x85))
}

/// A POSIX class by name (`alpha`, ...), as PCRE2 builds it from the
/// default ("C" locale) tables; `None` for an unknown name.
pub(crate) fn posix(name: &[u8]) -> Option<ByteSet> {
    let lower = ByteSet::range(b'a', b'z');
    let upper = ByteSet::range(b'A', b'Z');
    let alpha = lower.union(upper);
    let graph = ByteSet::range(0x21, 0x7e);
    Some(match name {
        b"alpha" => alpha,
        b"lower" => lower,
        b"upper" => upper,
        b"alnum" => alpha.union(digit()),
        b"ascii" => ByteSet::range(0, 0x7f),
        b"blank" => ByteSet::single(b'\t').union(ByteSet::single(b' ')),
        b"cntrl" => ByteSet::range(0, 0x1f).union(ByteSet::single(0x7f)),
        b"digit" => digit(),
        b"graph" => graph,
        b"print" => ByteSet::range(0x20, 0x7e),
        b"punct" => {
            let mut p = graph;
            for b in alpha.union(digit()).iter() {
                p.0[usize::from(b >> 6)] &= !(1u64 << (b & 63));
            }
            p
        }
        b"space" => space(),
        b"word" => word(),
        b"xdigit" => digit()
            .union(ByteSet::range(b'a', b'f'))
            .union(ByteSet::range(b'A', b'F')),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_fold() {
        let s = ByteSet::range(b'a', b'c').union(ByteSet::single(0xff));
        assert_eq!(
            s.ranges().collect::<Vec<_>>(),
            vec![(b'a', b'c'), (0xff, 0xff)]
        );
        let f = s.fold_ascii_case();
        assert!(f.contains(b'B') && !f.contains(b'D') && f.contains(0xff));
        assert_eq!(ByteSet::FULL.ranges().collect::<Vec<_>>(), vec![(0, 255)]);
        assert_eq!(ByteSet::EMPTY.ranges().count(), 0);
        let p = posix(b"punct").unwrap();
        assert!(p.contains(b'!') && p.contains(b'_') && !p.contains(b'a') && !p.contains(b' '));
        assert_eq!(p.len(), 32);
    }
}
