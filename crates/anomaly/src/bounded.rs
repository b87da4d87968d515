//! A map with a cap: least recently touched entries go first.
//!
//! Detectors key state by hosts an attacker chooses (spoofed sources), so
//! every table must hold a fixed number of entries whatever arrives. At the
//! cap, inserting evicts the entry touched longest ago, and the eviction is
//! counted. Entries untouched for a window can be expired in time order.
//!
//! Recency is kept in a queue with lazy deletion: touching an entry pushes
//! a fresh stamp and leaves the old one to be skipped; the queue is
//! compacted when stale stamps outnumber live entries, so it stays within
//! twice the cap (amortised O(1) per operation, no quadratic path).

use std::collections::VecDeque;
use std::hash::Hash;

use hashbrown::HashMap;
use mirador_wire::Timestamp;

/// A capped map whose entries carry the time they were last touched.
#[derive(Debug)]
pub struct Bounded<K, V> {
    map: HashMap<K, Slot<V>, foldhash::fast::RandomState>,
    /// (key, stamp, time) in touch order; stale when the stamp is not the
    /// entry's.
    order: VecDeque<(K, u64, Timestamp)>,
    cap: usize,
    next: u64,
    evicted: u64,
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    stamp: u64,
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    /// An empty map holding at most `cap` entries (at least 1).
    pub fn new(cap: usize) -> Self {
        Bounded {
            map: HashMap::with_hasher(foldhash::fast::RandomState::default()),
            order: VecDeque::new(),
            cap: cap.max(1),
            next: 0,
            evicted: 0,
        }
    }

    /// The entry for `key`, touched at `now`; created with `init` if absent
    /// (evicting the least recently touched entry at the cap).
    pub fn touch(&mut self, key: K, now: Timestamp, init: impl FnOnce() -> V) -> &mut V {
        self.next += 1;
        let stamp = self.next;
        if !self.map.contains_key(&key) && self.map.len() >= self.cap {
            self.evict_one();
        }
        self.order.push_back((key.clone(), stamp, now));
        if self.order.len() > 2 * self.cap + 16 {
            self.compact_keeping(&key);
        }
        let slot = self.map.entry(key).or_insert_with(|| Slot {
            value: init(),
            stamp,
        });
        slot.stamp = stamp;
        &mut slot.value
    }

    /// The entry for `key`, if present (not touched).
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|s| &s.value)
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key).map(|s| s.value)
    }

    /// Removes every entry last touched before `before`, oldest first,
    /// calling `f` with each.
    pub fn expire(&mut self, before: Timestamp, mut f: impl FnMut(K, V)) {
        while let Some((k, stamp, t)) = self.order.front() {
            if *t >= before {
                break;
            }
            let live = self.map.get(k).is_some_and(|s| s.stamp == *stamp);
            let (k, _, _) = self.order.pop_front().expect("front exists");
            if live && let Some(s) = self.map.remove(&k) {
                f(k, s.value);
            }
        }
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries evicted at the cap so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }

    fn evict_one(&mut self) {
        while let Some((k, stamp, _)) = self.order.pop_front() {
            if self.map.get(&k).is_some_and(|s| s.stamp == stamp) {
                self.map.remove(&k);
                self.evicted += 1;
                return;
            }
        }
    }

    /// Drops stale stamps; the last stamp of `pending` (a key being
    /// inserted, not in the map yet) is kept.
    fn compact_keeping(&mut self, pending: &K) {
        let map = &self.map;
        let last = self.next;
        self.order.retain(|(k, stamp, _)| {
            map.get(k).is_some_and(|s| s.stamp == *stamp) || (*stamp == last && k == pending)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    #[test]
    fn the_least_recently_touched_goes_at_the_cap() {
        let mut b = Bounded::new(2);
        *b.touch(1, t(1), || 0) += 1;
        *b.touch(2, t(2), || 0) += 1;
        *b.touch(1, t(3), || 0) += 1; // 1 is now the most recent
        *b.touch(3, t(4), || 0) += 1; // evicts 2
        assert_eq!(b.get(&1), Some(&2));
        assert_eq!(b.get(&2), None);
        assert_eq!(b.get(&3), Some(&1));
        assert_eq!(b.evicted(), 1);
    }

    #[test]
    fn expiry_goes_by_last_touch() {
        let mut b = Bounded::new(10);
        b.touch("a", t(1), || 1);
        b.touch("b", t(2), || 2);
        b.touch("a", t(5), || 0);
        let mut gone = Vec::new();
        b.expire(t(4), |k, v| gone.push((k, v)));
        assert_eq!(gone, vec![("b", 2)]);
        assert_eq!(b.len(), 1);
    }

    proptest! {
        /// Whatever the operations, the map holds at most its cap, its
        /// queue at most twice that (plus slack), and what it holds agrees
        /// with a model that evicts the least recently touched key.
        #[test]
        fn it_matches_an_lru_model(ops in proptest::collection::vec((0u8..20, 0u8..3), 0..400), cap in 1usize..8) {
            let mut b = Bounded::new(cap);
            let mut model: Vec<u8> = Vec::new(); // most recent last
            for (i, (k, op)) in ops.into_iter().enumerate() {
                let now = t(i as i64);
                if op < 2 {
                    b.touch(k, now, || ());
                    model.retain(|x| *x != k);
                    if model.len() >= cap { model.remove(0); }
                    model.push(k);
                } else {
                    b.remove(&k);
                    model.retain(|x| *x != k);
                }
                prop_assert!(b.len() <= cap);
                prop_assert!(b.order.len() <= 2 * cap + 17);
                let mut have: Vec<u8> = b.iter().map(|(k, _)| *k).collect();
                have.sort();
                let mut want = model.clone();
                want.sort();
                prop_assert_eq!(have, want);
            }
        }
    }
}
