//! Scans and sweeps: reconnaissance seen as one host touching many ports
//! or many hosts in a short time.
//!
//! Four detectors, modelled on the classes of Snort 3's `port_scan`
//! inspector and on the `scan.zeek` policy script Zeek shipped until 6.1:
//!
//! | detector | Snort 3 class | key | counts |
//! |---|---|---|---|
//! | [`port_scan::PortScan`] | portscan | (tenant, source, destination) | distinct destination ports; distinct rejected ports |
//! | [`host_sweep::HostSweep`] | portsweep | (tenant, source, protocol, port) | distinct destinations; distinct rejecting destinations |
//! | [`arp_sweep::ArpSweep`] | (none; ARP) | (tenant, sender) | distinct target addresses asked for |
//! | [`distributed_scan::DistributedScan`] | distributed portscan | (tenant, destination) | distinct sources, distinct ports, distinct rejected ports |
//!
//! ## The model
//!
//! Each key holds a small set of what it touched (ports or hosts), each
//! element with the time it was first and last seen. The window slides:
//! before an event is counted, elements last seen a full window ago are
//! dropped, so "N distinct in W seconds" means N elements each seen within
//! the last W seconds (Snort 3 resets a tumbling window per tracker, and
//! Zeek's SumStats epochs do the same; a sliding window does not miss a
//! scan that straddles an epoch boundary).
//!
//! What counts as a probe: a TCP flow opened by a SYN without ACK (flows
//! picked up midstream do not count), a UDP flow, and for host sweeps an
//! ICMP or ICMPv6 echo request. A UDP flow from a port below 1024 to a
//! port at or above 1024 looks like a service answering an ephemeral port
//! (a resolver's answers seen first on a one-sided mirror) and is not
//! counted; Snort 3 users meet this as DNS servers reported as "UDP
//! filtered portscan" sources. Rejects ([`crate::EventKind::Reject`], a
//! RST before the connection was established) are failures, so they count
//! only where [`crate::Event::bidirectional`] is true.
//!
//! ## Firing and re-arming
//!
//! A key fires once when its counts reach a threshold. Its set is then
//! emptied and it stays quiet until a full window has passed since the
//! detection (re-arm on the window passing, not on the condition
//! clearing, since a scan that goes on never clears): a long scan is
//! reported once per window, each time with what it touched since the
//! previous report. A threshold of 0 turns that condition off.
//!
//! ## Memory
//!
//! Every table is a [`Bounded`](crate::bounded::Bounded) map with a cap
//! (`max_entries`, from the default settings: one table serves every
//! tenant); at the cap the least recently touched key goes and is counted
//! in [`Counters::evicted`](crate::Counters). Keys idle for the longest
//! window of any tenant are expired on each event and on
//! [`Detector::advance`](crate::Detector::advance). Each key's set is
//! capped too (`max_distinct`, raised to the largest threshold if set
//! lower): at the cap the element seen longest ago gives way. The decision
//! needs only "at least the threshold", so counts beyond the cap are not
//! kept and a reported count equal to `max_distinct` means "at least"
//! (Zeek's scan.zeek did the same with SumStats' `unique_max` set to its
//! threshold + 2). Per-key work is linear in `max_distinct` (small), per
//! event; no path is quadratic in the number of events or keys.

use mirador_wire::Timestamp;

use crate::{MAX_LISTED, Value};

pub mod arp_sweep;
pub mod distributed_scan;
pub mod host_sweep;
pub mod port_scan;

/// Element mark: the element was rejected (RST before establishment).
pub(crate) const REJECTED: u8 = 1;
/// Element mark: seen over TCP.
pub(crate) const TCP: u8 = 2;
/// Element mark: seen over UDP.
pub(crate) const UDP: u8 = 4;

/// One distinct element of a key's set.
#[derive(Debug, Clone)]
struct Seen<T> {
    value: T,
    first: Timestamp,
    last: Timestamp,
    marks: u8,
}

/// A key's distinct elements within the window, at most a cap of them.
#[derive(Debug, Clone)]
pub(crate) struct Distinct<T> {
    items: Vec<Seen<T>>,
}

impl<T> Default for Distinct<T> {
    fn default() -> Self {
        Distinct { items: Vec::new() }
    }
}

impl<T: Copy + Ord> Distinct<T> {
    /// Drops the elements last seen before `before`.
    pub(crate) fn prune(&mut self, before: Timestamp) {
        self.items.retain(|s| s.last >= before);
    }

    /// Counts `value` seen at `ts` with `marks`; at `cap` the element seen
    /// longest ago (the smallest on a tie) gives way.
    pub(crate) fn see(&mut self, value: T, ts: Timestamp, marks: u8, cap: usize) {
        if let Some(s) = self.items.iter_mut().find(|s| s.value == value) {
            s.last = s.last.max(ts);
            s.marks |= marks;
            return;
        }
        if self.items.len() >= cap.max(1)
            && let Some(i) = self
                .items
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| (s.last, s.value))
                .map(|(i, _)| i)
        {
            self.items.swap_remove(i);
        }
        self.items.push(Seen {
            value,
            first: ts,
            last: ts,
            marks,
        });
    }

    /// Distinct elements held.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Elements carrying every bit of `mark`.
    pub(crate) fn marked(&self, mark: u8) -> usize {
        self.items.iter().filter(|s| s.marks & mark == mark).count()
    }

    /// The union of the elements' marks.
    pub(crate) fn marks(&self) -> u8 {
        self.items.iter().fold(0, |m, s| m | s.marks)
    }

    /// When the earliest element held was first seen.
    pub(crate) fn first(&self) -> Option<Timestamp> {
        self.items.iter().map(|s| s.first).min()
    }

    /// The smallest [`MAX_LISTED`] values, sorted.
    pub(crate) fn listed(&self) -> Vec<T> {
        let mut v: Vec<T> = self.items.iter().map(|s| s.value).collect();
        v.sort_unstable();
        v.truncate(MAX_LISTED);
        v
    }

    /// Empties the set (keeping its allocation).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }
}

/// A window in seconds as nanoseconds (saturating).
pub(crate) fn window_ns(secs: u64) -> i64 {
    crate::secs_to_ns(secs)
}

/// `ts` moved back by `ns` (saturating).
pub(crate) fn before(ts: Timestamp, ns: i64) -> Timestamp {
    Timestamp::from_nanos(ts.as_nanos().saturating_sub(ns))
}

/// `ts` moved on by `ns` (saturating).
pub(crate) fn after(ts: Timestamp, ns: i64) -> Timestamp {
    Timestamp::from_nanos(ts.as_nanos().saturating_add(ns))
}

/// Whether a UDP flow from `sport` to `dport` looks like a service
/// answering a client's ephemeral port (not counted as a probe).
pub(crate) fn udp_looks_like_reply(sport: u16, dport: u16) -> bool {
    sport < 1024 && dport >= 1024
}

/// The protocol text and number of an element set's marks.
pub(crate) fn protocol(marks: u8) -> (Value, Option<u8>) {
    match (marks & TCP != 0, marks & UDP != 0) {
        (true, false) => (Value::Text("tcp".into()), Some(6)),
        (false, true) => (Value::Text("udp".into()), Some(17)),
        _ => (Value::Text("tcp+udp".into()), None),
    }
}

/// The name of an IP protocol number in evidence.
pub(crate) fn proto_name(proto: u8) -> &'static str {
    match proto {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        58 => "ipv6-icmp",
        _ => "other",
    }
}

/// The largest window of a per-tenant config, in nanoseconds.
pub(crate) fn horizon<C>(cfg: &crate::PerTenant<C>, window: impl Fn(&C) -> u64) -> i64 {
    cfg.tenants
        .iter()
        .map(|(_, c)| window(c))
        .chain(std::iter::once(window(&cfg.default)))
        .map(window_ns)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testutil::*;
    use crate::{Detection, Detector, Event, PerTenant};
    use proptest::prelude::*;

    fn all() -> Vec<Box<dyn Detector>> {
        vec![
            Box::new(port_scan::PortScan::new(PerTenant::all(
                port_scan::Config {
                    ports: 4,
                    rejected_ports: 3,
                    ..Default::default()
                },
            ))),
            Box::new(host_sweep::HostSweep::new(PerTenant::all(
                host_sweep::Config {
                    hosts: 4,
                    rejected_hosts: 3,
                    max_entries: 16,
                    ..Default::default()
                },
            ))),
            Box::new(arp_sweep::ArpSweep::new(PerTenant::all(
                arp_sweep::Config {
                    targets: 4,
                    max_entries: 8,
                    ..Default::default()
                },
            ))),
            Box::new(distributed_scan::DistributedScan::new(PerTenant::all(
                distributed_scan::Config {
                    sources: 2,
                    ports: 3,
                    rejected_ports: 2,
                    max_distinct: 3,
                    ..Default::default()
                },
            ))),
        ]
    }

    /// Runs every detector over `evs`; with `advance`, time is also moved
    /// on before each event, as the runtime's watermark does.
    fn replay(evs: &[Event<'static>], advance: bool) -> Vec<Detection> {
        let mut out = Vec::new();
        for mut d in all() {
            for e in evs {
                if advance {
                    d.advance(e.ts, &mut out);
                }
                d.on_event(e, &mut out);
            }
        }
        out
    }

    fn event() -> impl Strategy<Value = (u16, u8, u8, u8, u16, bool)> {
        // (time step in 100 ms, kind, src, dst, port, bidirectional)
        (0u16..30, 0u8..6, 0u8..6, 0u8..8, 0u16..8, any::<bool>())
    }

    proptest! {
        /// The same events give the same detections, in the same order,
        /// replayed or interleaved with time advancing.
        #[test]
        fn replays_are_identical(steps in proptest::collection::vec(event(), 0..300)) {
            let mut now = 0i64;
            let evs: Vec<Event<'static>> = steps
                .into_iter()
                .map(|(dt, kind, s, d, port, bidir)| {
                    now += i64::from(dt) * 100;
                    let (src, dst) = (ip(10, 0, 0, s), ip(10, 0, 1, d));
                    let mut e = match kind {
                        0 => start(ms(now), src, dst, port, 6),
                        1 => start(ms(now), src, dst, port, 17),
                        2 => start(ms(now), src, dst, port, 1),
                        3 => reject(ms(now), dst, src, port, bidir),
                        4 => arp(ms(now), src, dst, 1),
                        _ => arp(ms(now), src, dst, 2),
                    };
                    e.bidirectional = bidir;
                    e
                })
                .collect();
            let a = replay(&evs, false);
            prop_assert_eq!(&a, &replay(&evs, false));
            prop_assert_eq!(&a, &replay(&evs, true));
        }
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs_nanos(s, 0)
    }

    #[test]
    fn the_set_is_capped_and_the_oldest_gives_way() {
        let mut d = Distinct::default();
        for p in 0u16..10 {
            d.see(p, t(i64::from(p)), 0, 4);
        }
        assert_eq!(d.len(), 4);
        assert_eq!(d.listed(), vec![6, 7, 8, 9]);
        d.see(7, t(20), REJECTED, 4);
        d.see(100, t(21), 0, 4); // evicts 6
        assert_eq!(d.listed(), vec![7, 8, 9, 100]);
        assert_eq!(d.marked(REJECTED), 1);
        d.prune(t(10));
        assert_eq!(d.listed(), vec![7, 100]);
        assert_eq!(d.first(), Some(t(7)));
    }
}
