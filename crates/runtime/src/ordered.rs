//! The host-keyed stage's input: events from every worker, released in
//! one global order whatever the worker count.
//!
//! Thresholds, `detection_filter` and xbits keep state per host or rule
//! across flows, which different workers own. DESIGN.md ("Time and
//! determinism") has them fed in event-time order; the reader numbers
//! packets as it reads them, and that number (plus a sequence within the
//! packet) is a total order every worker agrees with. Each worker sends its
//! events in that order, with its progress (the last packet number it has
//! finished); an event is released once every worker has finished its
//! packet, so nothing earlier can still arrive. The result is the order a
//! single worker would have produced.
//!
//! Memory: held events are bounded by what the workers produce ahead of
//! the slowest one, which backpressure in replay bounds; the caller caps
//! them anyway ([`Ordered::new`]) and counts what the cap drops.

use std::collections::BinaryHeap;

/// An event's place in the global order: (packet number, sequence within
/// the packet's events, worker) — the worker only breaks ties that
/// cannot happen (one packet is one worker's).
pub type Key = (u64, u32, u32);

/// The packet number of events that come after every packet: those of
/// the flows a worker ends at shutdown.
pub const SHUTDOWN: u64 = u64::MAX;

#[derive(Debug)]
struct Held<T> {
    key: Key,
    event: T,
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<T> Eq for Held<T> {}
impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Held<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap.
        o.key.cmp(&self.key)
    }
}

/// Merges the workers' event streams into the global order.
#[derive(Debug)]
pub struct Ordered<T> {
    heap: BinaryHeap<Held<T>>,
    /// Per worker: the last packet number it finished (0 = none yet).
    progress: Vec<u64>,
    max_held: usize,
    dropped: u64,
}

impl<T> Ordered<T> {
    /// A merge of `workers` streams holding at most `max_held` events.
    pub fn new(workers: usize, max_held: usize) -> Ordered<T> {
        Ordered {
            heap: BinaryHeap::new(),
            progress: vec![0; workers.max(1)],
            max_held: max_held.max(1),
            dropped: 0,
        }
    }

    /// Takes `worker`'s events (in its order) and its progress: it has
    /// finished every packet up to `done`. Events beyond the cap are
    /// dropped and counted (the latest first, so released order holds).
    pub fn push(&mut self, worker: usize, events: impl IntoIterator<Item = (Key, T)>, done: u64) {
        for (key, event) in events {
            if self.heap.len() >= self.max_held {
                self.dropped += 1;
                continue;
            }
            self.heap.push(Held { key, event });
        }
        if let Some(p) = self.progress.get_mut(worker) {
            *p = (*p).max(done);
        }
    }

    /// Marks `worker` finished: it will send nothing more.
    pub fn finish(&mut self, worker: usize) {
        if let Some(p) = self.progress.get_mut(worker) {
            *p = u64::MAX;
        }
    }

    /// The next event every worker is past, if any.
    pub fn pop(&mut self) -> Option<T> {
        self.pop_keyed().map(|(_, e)| e)
    }

    /// [`Ordered::pop`], with the event's key.
    pub fn pop_keyed(&mut self) -> Option<(Key, T)> {
        let floor = self.progress.iter().copied().min().unwrap_or(0);
        if self.heap.peek().is_some_and(|h| h.key.0 <= floor) {
            self.heap.pop().map(|h| (h.key, h.event))
        } else {
            None
        }
    }

    /// Events held now.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Events dropped at the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn releases_only_what_every_worker_is_past() {
        let mut o = Ordered::new(2, 100);
        o.push(0, [((5, 0, 0), "a5"), ((9, 0, 0), "a9")], 9);
        // Worker 1 has done nothing: packet 5 could still come from it.
        assert_eq!(o.pop(), None);
        o.push(1, [((3, 0, 1), "b3")], 6);
        assert_eq!(o.pop(), Some("b3"));
        assert_eq!(o.pop(), Some("a5"));
        assert_eq!(o.pop(), None, "9 is beyond worker 1's progress");
        o.finish(1);
        assert_eq!(o.pop(), Some("a9"));
        assert!(o.is_empty());
    }

    #[test]
    fn the_cap_drops_and_counts() {
        let mut o = Ordered::new(1, 2);
        o.push(0, [((1, 0, 0), 1), ((2, 0, 0), 2), ((3, 0, 0), 3)], 3);
        assert_eq!(o.dropped(), 1);
        assert_eq!((o.pop(), o.pop(), o.pop()), (Some(1), Some(2), None));
    }

    proptest! {
        /// Packets spread over any number of workers, each worker's events
        /// pushed in batches of any size: the released order is the
        /// global order.
        #[test]
        fn any_sharding_and_batching_gives_the_global_order(
            shards in proptest::collection::vec(0usize..4, 1..200),
            events_per in proptest::collection::vec(0u32..3, 1..200),
            batch in 1usize..20,
        ) {
            let workers = 4;
            let n = shards.len().min(events_per.len());
            let mut per: Vec<Vec<(Key, (u64, u32))>> = vec![Vec::new(); workers];
            let mut want = Vec::new();
            for pkt in 0..n {
                let w = shards[pkt];
                for s in 0..events_per[pkt] {
                    let key = (pkt as u64 + 1, s, w as u32);
                    per[w].push((key, (pkt as u64 + 1, s)));
                    want.push((pkt as u64 + 1, s));
                }
            }
            let mut o = Ordered::new(workers, 10_000);
            let mut got = Vec::new();
            let mut cursors = vec![0usize; workers];
            // Round-robin batches; progress is the packet number of the
            // last event sent (or everything when a worker is done).
            loop {
                let mut any = false;
                for w in 0..workers {
                    let start = cursors[w];
                    let end = (start + batch).min(per[w].len());
                    if start < end {
                        any = true;
                        let chunk: Vec<_> = per[w][start..end].to_vec();
                        let done = chunk.last().map_or(0, |(k, _)| k.0 - 1);
                        o.push(w, chunk, done);
                        cursors[w] = end;
                    } else {
                        o.finish(w);
                    }
                    while let Some(e) = o.pop() {
                        got.push(e);
                    }
                }
                if !any {
                    break;
                }
            }
            while let Some(e) = o.pop() {
                got.push(e);
            }
            prop_assert_eq!(got, want);
        }
    }
}
