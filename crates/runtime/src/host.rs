//! The host-keyed stage: matches whose outcome depends on other flows
//! (`threshold`, `detection_filter`, `xbits`), applied in the global
//! packet order ([`crate::ordered`]) whatever the worker count.

use std::sync::Arc;

use mirador_detect::engine::Engine;
use mirador_detect::flowvars::HostBits;
use mirador_detect::threshold::Thresholds;

use crate::ordered::{Key, Ordered};
use crate::worker::HostEvent;

/// The most matches held waiting for the slowest worker.
const MAX_HELD: usize = 1 << 20;
/// The most (rule, address) threshold entries and host bits.
const MAX_ENTRIES: usize = 1 << 18;

/// Counters of the stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCounters {
    /// Alerts written.
    pub alerts: u64,
    /// Alerts held back by `threshold`/`detection_filter`.
    pub suppressed: u64,
    /// Matches whose `xbits` condition did not hold.
    pub xbits_unmet: u64,
    /// Matches dropped because the stage was full.
    pub dropped: u64,
}

impl HostCounters {
    /// The sum of two stages' counters (one replaced by a reload).
    pub fn plus(&self, o: &HostCounters) -> HostCounters {
        HostCounters {
            alerts: self.alerts + o.alerts,
            suppressed: self.suppressed + o.suppressed,
            xbits_unmet: self.xbits_unmet + o.xbits_unmet,
            dropped: self.dropped + o.dropped,
        }
    }
}

pub(crate) struct HostStage {
    engine: Arc<Engine>,
    ordered: Ordered<HostEvent>,
    thresholds: Thresholds,
    bits: HostBits,
    pub counters: HostCounters,
    /// Alert counters for the metrics endpoint, and each rule's slot.
    telemetry: Arc<crate::telemetry::WorkerTelemetry>,
    slots: Vec<u16>,
}

impl HostStage {
    pub fn new(
        engine: Arc<Engine>,
        workers: usize,
        telemetry: &crate::telemetry::Telemetry,
    ) -> HostStage {
        HostStage {
            slots: telemetry.classes.slots(&engine),
            telemetry: telemetry.host_alerts.clone(),
            engine,
            ordered: Ordered::new(workers, MAX_HELD),
            thresholds: Thresholds::new(MAX_ENTRIES),
            bits: HostBits::new(MAX_ENTRIES),
            counters: HostCounters::default(),
        }
    }

    /// Takes a worker's matches and progress; writes what is now due to
    /// `out`; returns the records written.
    pub fn push(
        &mut self,
        worker: usize,
        events: Vec<(Key, HostEvent)>,
        done: u64,
        out: &mut Vec<u8>,
    ) -> u64 {
        self.ordered.push(worker, events, done);
        self.drain(out)
    }

    /// A worker finished; writes what is now due.
    pub fn finish(&mut self, worker: usize, out: &mut Vec<u8>) -> u64 {
        self.ordered.finish(worker);
        self.drain(out)
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> u64 {
        let mut n = 0;
        while let Some(ev) = self.ordered.pop() {
            n += u64::from(self.apply(ev, out));
        }
        self.counters.dropped = self.ordered.dropped();
        n
    }

    fn apply(&mut self, ev: HostEvent, out: &mut Vec<u8>) -> bool {
        let Some(sig) = self.engine.signatures().get(ev.sig as usize) else {
            return false;
        };
        let ts = ev.ts.as_nanos();
        if !sig
            .xbits
            .iter()
            .filter(|x| x.is_condition())
            .all(|x| self.bits.check(x, ts, ev.src, ev.dst))
        {
            self.counters.xbits_unmet += 1;
            return false;
        }
        for x in sig.xbits.iter().filter(|x| !x.is_condition()) {
            self.bits.apply(x, ts, ev.src, ev.dst);
        }
        if sig.noalert || ev.record.is_empty() {
            return false;
        }
        // `threshold` and `detection_filter` keep separate state.
        for (spec, id) in [
            (&sig.threshold, ev.sig),
            (&sig.detection_filter, ev.sig | 1 << 31),
        ] {
            if let Some(spec) = spec
                && !self.thresholds.check(id, spec, ts, ev.src, ev.dst)
            {
                self.counters.suppressed += 1;
                return false;
            }
        }
        out.extend_from_slice(&ev.record);
        self.counters.alerts += 1;
        // This stage is the counter's only writer.
        let slot = usize::from(self.slots.get(ev.sig as usize).copied().unwrap_or(0));
        if let Some(a) = self.telemetry.alerts.get(slot) {
            a.store(
                a.load(std::sync::atomic::Ordering::Relaxed) + 1,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        true
    }
}
