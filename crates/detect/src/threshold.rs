//! `threshold` and `detection_filter`: how often a matching rule alerts.
//!
//! The state is keyed by rule and tracked address, so it must see every
//! match of a rule whatever flow (and worker) it came from: it lives in the
//! host-keyed stage, which applies matches in event-time order (DESIGN.md,
//! "Time and determinism"), so the outcome does not depend on the worker
//! count. Time is an argument; nothing here reads a clock.
//!
//! Semantics are Suricata's (`detect-engine-threshold.c`,
//! `ThresholdHandlePacket`); a *window* starts at the first counted match
//! and lasts `seconds`; a match at or after its end starts a new window.
//!
//! * `type limit`: the first `count` matches of a window alert.
//! * `type threshold`: every `count`-th match of a window alerts.
//! * `type both`: the `count`-th match of a window alerts, once.
//! * `detection_filter`: every match after the first `count` of a window
//!   alerts.
//!
//! The table is capped ([`Thresholds::new`]); at the cap the entry whose
//! window started first is dropped (counted), which can only let an alert
//! through early, never lose one that a full table would have raised twice.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::header::KeywordError;

/// What a threshold counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Track {
    /// The packet's source address.
    BySrc,
    /// The packet's destination address.
    ByDst,
    /// The (source, destination) pair.
    ByBoth,
    /// The rule alone.
    ByRule,
}

/// The kind of rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `type limit`.
    Limit,
    /// `type threshold`.
    Threshold,
    /// `type both`.
    Both,
    /// `detection_filter`.
    DetectionFilter,
}

/// A parsed `threshold` or `detection_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The kind.
    pub kind: Kind,
    /// What is tracked.
    pub track: Track,
    /// `count`.
    pub count: u32,
    /// `seconds`.
    pub seconds: u32,
}

fn err(keyword: &'static str, message: impl Into<String>) -> KeywordError {
    KeywordError {
        keyword,
        message: message.into(),
    }
}

impl Spec {
    /// Parses `threshold: type T, track K, count N, seconds S` (`keyword`
    /// `"threshold"`) or `detection_filter: track K, count N, seconds S`
    /// (`"detection_filter"`), options in any order, as Suricata accepts.
    pub fn parse(keyword: &'static str, value: &str) -> Result<Spec, KeywordError> {
        let mut kind = (keyword == "detection_filter").then_some(Kind::DetectionFilter);
        let (mut track, mut count, mut seconds) = (None, None, None);
        for part in value.split(',').map(str::trim) {
            let mut it = part.split_whitespace();
            let (Some(k), Some(v), None) = (it.next(), it.next(), it.next()) else {
                return Err(err(keyword, format!("expected 'name value' in '{part}'")));
            };
            match k {
                "type" if keyword == "threshold" => {
                    kind = Some(match v {
                        "limit" => Kind::Limit,
                        "threshold" => Kind::Threshold,
                        "both" => Kind::Both,
                        other => return Err(err(keyword, format!("unknown type '{other}'"))),
                    });
                }
                "track" => {
                    track = Some(match v {
                        "by_src" => Track::BySrc,
                        "by_dst" => Track::ByDst,
                        "by_both" => Track::ByBoth,
                        "by_rule" => Track::ByRule,
                        other => return Err(err(keyword, format!("unknown track '{other}'"))),
                    });
                }
                "count" => {
                    count = Some(
                        v.parse::<u32>()
                            .map_err(|_| err(keyword, format!("invalid count '{v}'")))?,
                    );
                }
                "seconds" => {
                    seconds = Some(
                        v.parse::<u32>()
                            .map_err(|_| err(keyword, format!("invalid seconds '{v}'")))?,
                    );
                }
                other => return Err(err(keyword, format!("unknown option '{other}'"))),
            }
        }
        let kind = kind.ok_or_else(|| err(keyword, "missing type"))?;
        let track = track.ok_or_else(|| err(keyword, "missing track"))?;
        let count = count.ok_or_else(|| err(keyword, "missing count"))?;
        let seconds = seconds.ok_or_else(|| err(keyword, "missing seconds"))?;
        if count == 0 && kind != Kind::DetectionFilter {
            return Err(err(keyword, "count must be at least 1"));
        }
        Ok(Spec {
            kind,
            track,
            count,
            seconds,
        })
    }
}

/// The tracked address(es) of one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tracked {
    One(IpAddr),
    Pair(IpAddr, IpAddr),
    Rule,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Window start, ns.
    start: i64,
    count: u32,
    /// `both`: the window already alerted.
    fired: bool,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThresholdCounters {
    /// Matches that alerted.
    pub passed: u64,
    /// Matches whose alert was suppressed by the rate limit.
    pub suppressed: u64,
    /// Entries dropped at the cap.
    pub evicted: u64,
}

/// Rate-limit state of every rule with a threshold, in one host-keyed
/// stage.
#[derive(Debug)]
pub struct Thresholds {
    entries: HashMap<(u32, Tracked), Entry>,
    /// Window starts in the order they began, for eviction at the cap in
    /// O(1) amortized (entries restarted since are skipped when reached).
    order: VecDeque<(i64, (u32, Tracked))>,
    max_entries: usize,
    counters: ThresholdCounters,
}

impl Thresholds {
    /// A table holding at most `max_entries` (rule, address) entries.
    pub fn new(max_entries: usize) -> Thresholds {
        Thresholds {
            entries: HashMap::new(),
            order: VecDeque::new(),
            max_entries: max_entries.max(1),
            counters: ThresholdCounters::default(),
        }
    }

    /// Counters so far.
    pub fn counters(&self) -> ThresholdCounters {
        self.counters
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Applies one match of rule `rule` (an index the caller assigns) with
    /// `spec`, at time `ts_ns`, for a packet from `src` to `dst`: whether
    /// it alerts. Matches must come in event-time order.
    pub fn check(&mut self, rule: u32, spec: &Spec, ts_ns: i64, src: IpAddr, dst: IpAddr) -> bool {
        let tracked = match spec.track {
            Track::BySrc => Tracked::One(src),
            Track::ByDst => Tracked::One(dst),
            Track::ByBoth => Tracked::Pair(src, dst),
            Track::ByRule => Tracked::Rule,
        };
        let window = i64::from(spec.seconds).saturating_mul(1_000_000_000);
        let key = (rule, tracked);
        if !self.entries.contains_key(&key) && self.entries.len() >= self.max_entries {
            self.evict();
        }
        let mut started = false;
        let e = self.entries.entry(key).or_insert_with(|| {
            started = true;
            Entry {
                start: ts_ns,
                count: 0,
                fired: false,
            }
        });
        if ts_ns.saturating_sub(e.start) >= window {
            // The window is over: this match starts a new one.
            *e = Entry {
                start: ts_ns,
                count: 0,
                fired: false,
            };
            started = true;
        }
        e.count = e.count.saturating_add(1);
        let alert = match spec.kind {
            Kind::Limit => e.count <= spec.count,
            Kind::Threshold => {
                if e.count >= spec.count {
                    e.count = 0;
                    true
                } else {
                    false
                }
            }
            Kind::Both => {
                if e.count >= spec.count && !e.fired {
                    e.fired = true;
                    true
                } else {
                    false
                }
            }
            Kind::DetectionFilter => e.count > spec.count,
        };
        if alert {
            self.counters.passed += 1;
        } else {
            self.counters.suppressed += 1;
        }
        if started {
            self.order.push_back((ts_ns, key));
            if self.order.len() > 2 * self.max_entries + 64 {
                // Drop the records of windows that were restarted.
                let entries = &self.entries;
                self.order
                    .retain(|(t, k)| entries.get(k).is_some_and(|e| e.start == *t));
            }
        }
        alert
    }

    /// Drops the entry whose window started first (records of windows
    /// restarted since are skipped).
    fn evict(&mut self) {
        while let Some((t, k)) = self.order.pop_front() {
            if self.entries.get(&k).is_some_and(|e| e.start == t) {
                self.entries.remove(&k);
                self.counters.evicted += 1;
                return;
            }
        }
    }

    /// Drops entries whose window started more than `max_window_ns` before
    /// `now_ns` (the caller passes its longest window): they would restart
    /// anyway. Call as the watermark advances.
    pub fn expire(&mut self, now_ns: i64, max_window_ns: i64) {
        self.entries
            .retain(|_, e| now_ns.saturating_sub(e.start) < max_window_ns);
        let entries = &self.entries;
        self.order
            .retain(|(t, k)| entries.get(k).is_some_and(|e| e.start == *t));
    }
}

#[cfg(test)]
mod tests;
