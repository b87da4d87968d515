//! Live counters the metrics endpoint reads while the workers run.
//!
//! Each worker owns one [`WorkerTelemetry`] and is its only writer: after
//! every batch it stores its running totals with relaxed atomic stores
//! (no read-modify-write, no lock, no contention with other workers).
//! A scrape loads them and sums over workers. The counters a worker keeps
//! per mirror session, and its table and stream counters, are published
//! as a whole [`WorkerStats`] snapshot at most every
//! [`SNAPSHOT_EVERY`], through a `try_lock` the worker never waits on;
//! periodic EVE `stats` records and the per-session metrics read those.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::WorkerStats;

/// How often a worker publishes its full [`WorkerStats`].
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(500);

/// Distinct classtypes counted in `mirador_alerts_total`; rules of later
/// classtypes count under [`OTHER_CLASS`].
pub const MAX_CLASSES: usize = 128;
/// Severities counted (1 to 4; a larger priority counts as 4).
pub const SEVERITIES: usize = 4;
/// The class slot of rules without a classtype.
pub const NO_CLASS: usize = 0;
/// The class slot of classtypes beyond [`MAX_CLASSES`].
pub const OTHER_CLASS: usize = MAX_CLASSES - 1;

/// Upper bounds (seconds) of `mirador_packet_latency_seconds`'s buckets;
/// the last, +Inf, is implied.
pub const LATENCY_BOUNDS: [f64; 12] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];

/// A latency histogram a single writer fills.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Non-cumulative counts per bucket ([`LATENCY_BOUNDS`], then +Inf).
    pub buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    /// Sum of observations, in nanoseconds.
    pub sum_ns: AtomicU64,
}

/// The single writer's side of a [`Histogram`]: plain counts, published
/// with stores.
#[derive(Debug, Clone, Default)]
pub struct LocalHistogram {
    buckets: [u64; LATENCY_BOUNDS.len() + 1],
    sum_ns: u64,
}

impl LocalHistogram {
    /// Adds `count` observations of `ns` nanoseconds.
    pub fn observe(&mut self, ns: u64, count: u64) {
        let secs = ns as f64 / 1e9;
        let i = LATENCY_BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BOUNDS.len());
        self.buckets[i] += count;
        self.sum_ns = self.sum_ns.saturating_add(ns.saturating_mul(count));
    }

    /// Stores the totals into `h`.
    pub fn publish(&self, h: &Histogram) {
        for (a, v) in h.buckets.iter().zip(&self.buckets) {
            a.store(*v, Relaxed);
        }
        h.sum_ns.store(self.sum_ns, Relaxed);
    }
}

/// One worker's published counters.
#[derive(Debug)]
pub struct WorkerTelemetry {
    /// Packets processed.
    pub packets: AtomicU64,
    /// Nanoseconds spent processing batches.
    pub busy_ns: AtomicU64,
    /// Batches waiting in its queue after the last one.
    pub queue_depth: AtomicU64,
    /// Flows created.
    pub flows_created: AtomicU64,
    /// Flows in the table.
    pub flows_active: AtomicU64,
    /// Flows evicted because the table was full (flow records with
    /// reason `forced`).
    pub flows_evicted: AtomicU64,
    /// 1 while the table is in emergency mode.
    pub emergency: AtomicU64,
    /// Stream gaps (ended and live sessions' delivered gaps).
    pub gaps: AtomicU64,
    /// Segments that overlapped received data.
    pub overlaps: AtomicU64,
    /// Stream memory in use.
    pub reassembly_bytes: AtomicU64,
    /// Alerts, by class slot × severity.
    pub alerts: Box<[AtomicU64]>,
    /// Processing latency (kernel receive time to the end of the batch).
    pub latency: Histogram,
    /// The last full snapshot.
    pub snapshot: Mutex<Option<WorkerStats>>,
}

impl Default for WorkerTelemetry {
    fn default() -> Self {
        WorkerTelemetry {
            packets: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            flows_created: AtomicU64::new(0),
            flows_active: AtomicU64::new(0),
            flows_evicted: AtomicU64::new(0),
            emergency: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
            overlaps: AtomicU64::new(0),
            reassembly_bytes: AtomicU64::new(0),
            alerts: (0..MAX_CLASSES * SEVERITIES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            latency: Histogram::default(),
            snapshot: Mutex::new(None),
        }
    }
}

/// The classtype names alert counters are labelled with, interned in
/// order of first use (slot 0 is "none"). Written when a rule set is
/// loaded, read at scrape time.
#[derive(Debug)]
pub struct ClassNames {
    names: Mutex<Vec<String>>,
}

impl Default for ClassNames {
    fn default() -> Self {
        ClassNames {
            names: Mutex::new(vec!["none".to_string()]),
        }
    }
}

impl ClassNames {
    /// The slot of `classtype` (interning it).
    pub fn slot(&self, classtype: Option<&str>) -> usize {
        let Some(name) = classtype else {
            return NO_CLASS;
        };
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = names.iter().position(|n| n == name) {
            return i;
        }
        if names.len() >= OTHER_CLASS {
            return OTHER_CLASS;
        }
        names.push(name.to_string());
        names.len() - 1
    }

    /// The label of `slot`.
    pub fn name(&self, slot: usize) -> String {
        if slot == OTHER_CLASS {
            return "other".to_string();
        }
        let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        names.get(slot).cloned().unwrap_or_else(|| "none".into())
    }

    /// Each rule's alert counter slot (class slot × severity), by signature
    /// index.
    pub fn slots(&self, engine: &mirador_detect::engine::Engine) -> Vec<u16> {
        engine
            .signatures()
            .iter()
            .map(|s| {
                let class = self.slot(s.rule.classtype.as_deref());
                let sev = usize::from(s.severity.clamp(1, SEVERITIES as u8)) - 1;
                u16::try_from(class * SEVERITIES + sev).unwrap_or(0)
            })
            .collect()
    }
}

/// Everything the workers publish, shared with the metrics endpoint.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// One per worker, in worker order.
    pub workers: Vec<Arc<WorkerTelemetry>>,
    /// Alert counters of the host-keyed stage (thresholded rules), by the
    /// same slots.
    pub host_alerts: Arc<WorkerTelemetry>,
    /// The classtype labels.
    pub classes: Arc<ClassNames>,
}

impl Telemetry {
    /// Counters for `workers` workers.
    pub fn new(workers: usize) -> Telemetry {
        Telemetry {
            workers: (0..workers)
                .map(|_| Arc::new(WorkerTelemetry::default()))
                .collect(),
            host_alerts: Arc::new(WorkerTelemetry::default()),
            classes: Arc::new(ClassNames::default()),
        }
    }

    /// `f(worker)` summed over the workers.
    pub fn sum(&self, f: impl Fn(&WorkerTelemetry) -> &AtomicU64) -> u64 {
        self.workers.iter().map(|w| f(w).load(Relaxed)).sum()
    }

    /// Alerts per (classtype, severity), nonzero only.
    pub fn alerts(&self) -> Vec<(String, usize, u64)> {
        let mut out = Vec::new();
        for slot in 0..MAX_CLASSES * SEVERITIES {
            let n: u64 = self
                .workers
                .iter()
                .chain(std::iter::once(&self.host_alerts))
                .map(|w| w.alerts.get(slot).map_or(0, |a| a.load(Relaxed)))
                .sum();
            if n > 0 {
                out.push((
                    self.classes.name(slot / SEVERITIES),
                    slot % SEVERITIES + 1,
                    n,
                ));
            }
        }
        out
    }

    /// The latest full snapshot of every worker that has published one.
    pub fn snapshots(&self) -> Vec<WorkerStats> {
        self.workers
            .iter()
            .map(|w| {
                w.snapshot
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_default()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_and_sum() {
        let mut l = LocalHistogram::default();
        l.observe(10_000, 2); // 10 µs: first bucket
        l.observe(3_000_000, 1); // 3 ms: the 5 ms bucket
        l.observe(5_000_000_000, 1); // 5 s: +Inf
        let h = Histogram::default();
        l.publish(&h);
        assert_eq!(h.buckets[0].load(Relaxed), 2);
        assert_eq!(h.buckets[6].load(Relaxed), 1);
        assert_eq!(h.buckets[LATENCY_BOUNDS.len()].load(Relaxed), 1);
        assert_eq!(h.sum_ns.load(Relaxed), 5_003_020_000);
    }

    #[test]
    fn class_names_intern_and_overflow_to_other() {
        let c = ClassNames::default();
        assert_eq!(c.slot(None), NO_CLASS);
        let a = c.slot(Some("trojan-activity"));
        assert_eq!(c.slot(Some("trojan-activity")), a);
        assert_eq!(c.name(a), "trojan-activity");
        for i in 0..MAX_CLASSES * 2 {
            let s = c.slot(Some(&format!("c{i}")));
            assert!(s < MAX_CLASSES);
        }
        assert_eq!(c.slot(Some("late")), OTHER_CLASS);
        assert_eq!(c.name(OTHER_CLASS), "other");
    }
}
