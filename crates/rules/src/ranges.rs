//! Sorted, disjoint inclusive ranges over an unsigned integer type: the
//! representation behind [`crate::IpSet`] (per address family) and
//! [`crate::PortSet`].

/// An unsigned bound type: `u16` ports, `u32` IPv4, `u128` IPv6.
pub(crate) trait Bound: Copy + Ord + std::fmt::Debug {
    const MIN: Self;
    const MAX: Self;
    /// `self + 1`, or `None` at `MAX`.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at `MIN`.
    fn pred(self) -> Option<Self>;
}

macro_rules! bound {
    ($t:ty) => {
        impl Bound for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn succ(self) -> Option<Self> {
                self.checked_add(1)
            }
            fn pred(self) -> Option<Self> {
                self.checked_sub(1)
            }
        }
    };
}
bound!(u16);
bound!(u32);
bound!(u128);

/// Sorts and merges overlapping or adjacent ranges in place.
pub(crate) fn normalize<T: Bound>(v: &mut Vec<(T, T)>) {
    v.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(v.len());
    for &(s, e) in v.iter() {
        if let Some(last) = out.last_mut() {
            // Adjacent ranges merge too: (1,2) and (3,4) are (1,4).
            if last.1.succ().is_none_or(|next| s <= next) {
                if e > last.1 {
                    last.1 = e;
                }
                continue;
            }
        }
        out.push((s, e));
    }
    *v = out;
}

/// `a` minus `b`, both normalized; the result is normalized.
pub(crate) fn subtract<T: Bound>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(mut s, e) in a {
        // Skip the cuts that end before this range starts.
        while j < b.len() && b[j].1 < s {
            j += 1;
        }
        let mut k = j;
        let mut alive = true;
        while k < b.len() && b[k].0 <= e {
            let (cs, ce) = b[k];
            if cs > s {
                // `cs > s >= MIN`, so `cs - 1` exists.
                out.push((s, cs.pred().unwrap_or(cs)));
            }
            match ce.succ() {
                Some(n) if ce < e => s = n,
                _ => {
                    alive = false;
                    break;
                }
            }
            k += 1;
        }
        if alive {
            out.push((s, e));
        }
    }
    out
}

/// Whether the normalized `v` holds `x`.
pub(crate) fn contains<T: Bound>(v: &[(T, T)], x: T) -> bool {
    // The first range whose end is >= x is the only candidate.
    let i = v.partition_point(|&(_, e)| e < x);
    v.get(i).is_some_and(|&(s, _)| s <= x)
}

/// Whether the normalized `v` is the whole space.
pub(crate) fn is_full<T: Bound>(v: &[(T, T)]) -> bool {
    matches!(v, [(s, e)] if *s == T::MIN && *e == T::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_overlap_and_adjacency() {
        let mut v: Vec<(u16, u16)> = vec![(10, 20), (1, 2), (3, 4), (15, 30), (40, 40)];
        normalize(&mut v);
        assert_eq!(v, vec![(1, 4), (10, 30), (40, 40)]);
        let mut full: Vec<(u16, u16)> = vec![(0, 65535), (65535, 65535)];
        normalize(&mut full);
        assert!(is_full(&full));
    }

    #[test]
    fn subtract_cuts_every_way() {
        let a: Vec<(u16, u16)> = vec![(0, 100), (200, 300)];
        assert_eq!(
            subtract(&a, &[(50, 60)]),
            vec![(0, 49), (61, 100), (200, 300)]
        );
        assert_eq!(subtract(&a, &[(0, 100)]), vec![(200, 300)]);
        assert_eq!(subtract(&a, &[(90, 210)]), vec![(0, 89), (211, 300)]);
        assert_eq!(subtract(&a, &[(0, 65535)]), vec![]);
        assert_eq!(
            subtract(&[(0u16, 65535)], &[(65535, 65535)]),
            vec![(0, 65534)]
        );
        assert_eq!(subtract(&[(0u16, 65535)], &[(0, 0)]), vec![(1, 65535)]);
    }

    #[test]
    fn contains_checks_bounds() {
        let v: Vec<(u32, u32)> = vec![(1, 2), (10, 20)];
        assert!(!contains(&v, 0));
        assert!(contains(&v, 1));
        assert!(contains(&v, 2));
        assert!(!contains(&v, 3));
        assert!(contains(&v, 20));
        assert!(!contains(&v, 21));
    }
}
