//! Flows and streams (issue 3): the flow table and TCP reassembly, each
//! beside a baseline measured in the same run (the figures BENCHMARKS.md
//! quotes).
//!
//! `cargo bench --bench flow`
//!
//! * **Flow table.** 100,000 distinct flows with a realistic key mix (90%
//!   IPv4 / 10% IPv6, 80% TCP / 20% UDP, four tenants, clients on ephemeral
//!   ports towards 1024 servers on common ports). `table_get` and
//!   `table_update_hit` look up flows that exist (`update_hit` also applies
//!   the packet: counters, TCP state, moving the flow to the tail of its
//!   expiry list), in a random order; `table_insert_new` creates every flow
//!   in an empty table (`_growing`: from the default preallocation of
//!   10,000). The table stores what a worker stores per flow,
//!   [`mirador_runtime::FlowUser`], whatever that type holds when this is
//!   rerun.
//!
//!   Baseline: a `hashbrown::HashMap<FlowKey, FlowUser>` with its default
//!   hasher (foldhash, as the table's index uses) doing the same lookups and
//!   inserts. That is the least any flow table has to do (hash the key,
//!   probe, store the caller's data), so the ratio is the cost of what the
//!   table adds: the flow record, the slab, expiry lists, timeouts and caps.
//! * **Reassembly.** A 1 MiB stream cut into 1448-byte segments, fed to one
//!   [`StreamDir`] after its SYN, with the ACKs a receiver would send
//!   interleaved (every second in-order segment, at once for an out-of-order
//!   segment or one that fills a hole, and a final one), and every
//!   deliverable chunk polled after each ACK. `in_order`, and `reordered`
//!   with 10% of the segments swapped with one up to 3 places later.
//!   Baseline: `memcpy` of the same segments into a 1 MiB buffer at their
//!   offsets. Before timing, each variant checks that every byte of the
//!   stream is delivered, as data, exactly once.

use std::ops::Range;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use hashbrown::HashMap;
use mirador_flow::key::{Endpoint, FlowKey, proto};
use mirador_flow::reassembly::{Chunk, Policy, StreamConfig, StreamDir};
use mirador_flow::table::{FlowTable, Packet, TableConfig, tcp_flags};
use mirador_runtime::FlowUser;
use mirador_wire::{Timestamp, VlanIds};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn main() {
    divan::main();
}

/// What a worker stores per flow.
type User = FlowUser;

/// Distinct flows in the flow-table benches.
const FLOWS: usize = 100_000;

/// splitmix64: deterministic inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// One flow's key and its first packet (from the client), at time 0.
fn flows(n: usize, seed: u64) -> Vec<(FlowKey, Packet)> {
    let mut rng = Rng(seed);
    let mut seen = hashbrown::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let v6 = rng.below(10) == 0;
        let tcp = rng.below(10) < 8;
        let server_id = rng.below(1024) as u32;
        let (client, server) = if v6 {
            let c = 0xfd00_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(rng.next());
            let s = 0xfd00_0000_0000_0001_0000_0000_0000_0000u128 | u128::from(server_id);
            (IpAddr::V6(Ipv6Addr::from(c)), IpAddr::V6(Ipv6Addr::from(s)))
        } else {
            let c = 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff);
            (
                IpAddr::V4(Ipv4Addr::from(c)),
                IpAddr::V4(Ipv4Addr::from(0xac10_0000 | server_id)),
            )
        };
        let ports: &[u16] = if tcp {
            &[443, 443, 443, 80, 8080, 22]
        } else {
            &[53, 53, 123, 443]
        };
        let sport = ports[rng.below(ports.len() as u64) as usize];
        let cport = 32768 + rng.below(28232) as u16;
        let (key, dir) = FlowKey::new(
            rng.below(4) as u32,
            VlanIds::EMPTY,
            if tcp { proto::TCP } else { proto::UDP },
            0,
            Endpoint {
                addr: client,
                port: cport,
            },
            Endpoint {
                addr: server,
                port: sport,
            },
        );
        if seen.insert(key) {
            out.push((
                key,
                Packet {
                    ts: Timestamp::from_nanos(0),
                    dir,
                    len: if tcp { 74 } else { 80 },
                    tcp_flags: tcp.then_some(tcp_flags::SYN),
                },
            ));
        }
    }
    out
}

fn table_config(prealloc: usize) -> TableConfig {
    TableConfig {
        max_flows: 1 << 20,
        prealloc,
        ..TableConfig::default()
    }
}

/// Packet times: 1 s from the epoch, then one nanosecond per packet, so no
/// flow times out however long the bench runs.
const T0: i64 = 1_000_000_000;

fn inserted(keys: &[(FlowKey, Packet)]) -> FlowTable<User> {
    let mut t = FlowTable::<User>::new(table_config(keys.len()));
    let mut out = Vec::new();
    for (i, (k, p)) in keys.iter().enumerate() {
        let p = Packet {
            ts: Timestamp::from_nanos(T0 + i as i64),
            ..*p
        };
        assert!(t.update(k, &p, &mut out).created);
    }
    assert!(out.is_empty());
    assert_eq!(t.len(), keys.len());
    t
}

/// The flows in a random order, laid out in that order: a worker reads the
/// key from the packet it holds, so reading the key must not be a cache
/// miss of its own.
fn lookup_order(keys: &[(FlowKey, Packet)], seed: u64) -> Vec<(FlowKey, Packet)> {
    let mut order = keys.to_vec();
    Rng(seed).shuffle(&mut order);
    order
}

#[divan::bench_group(name = "flow_table")]
mod flow_table {
    use super::*;

    /// Baseline: hashbrown lookups of the same keys in the same order.
    #[divan::bench]
    fn hashmap_get(b: Bencher) {
        let keys = flows(FLOWS, 7);
        let map: HashMap<FlowKey, User> = keys.iter().map(|(k, _)| (*k, User::default())).collect();
        let order = lookup_order(&keys, 99);
        assert!(order.iter().all(|(k, _)| map.contains_key(k)));
        b.counter(ItemsCount::new(FLOWS)).bench_local(|| {
            for (k, _) in &order {
                black_box(map.get(black_box(k)));
            }
        });
    }

    #[divan::bench]
    fn table_get(b: Bencher) {
        let keys = flows(FLOWS, 7);
        let table = inserted(&keys);
        let order = lookup_order(&keys, 99);
        assert!(order.iter().all(|(k, _)| table.get(k).is_some()));
        b.counter(ItemsCount::new(FLOWS)).bench_local(|| {
            for (k, _) in &order {
                black_box(table.get(black_box(k)));
            }
        });
    }

    /// A packet (ACK, or UDP) for every existing flow, alternately from the
    /// client and the server. Two random orders, taken in turn, so that a
    /// flow's neighbours in its expiry list are not the flows next in line.
    #[divan::bench]
    fn table_update_hit(b: Bencher) {
        let keys = flows(FLOWS, 7);
        let mut table = inserted(&keys);
        let orders: Vec<Vec<(FlowKey, Packet)>> = [99, 100]
            .into_iter()
            .map(|seed| {
                lookup_order(&keys, seed)
                    .into_iter()
                    .enumerate()
                    .map(|(j, (k, p))| {
                        let dir = if j % 2 == 0 { p.dir } else { p.dir.reverse() };
                        let tcp_flags = p.tcp_flags.map(|_| tcp_flags::ACK);
                        let len = 1500;
                        (
                            k,
                            Packet {
                                dir,
                                tcp_flags,
                                len,
                                ..p
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        let mut ts = T0 + FLOWS as i64;
        let mut turn = 0;
        b.counter(ItemsCount::new(FLOWS)).bench_local(|| {
            turn ^= 1;
            for (k, p) in &orders[turn] {
                ts += 1;
                let p = Packet {
                    ts: Timestamp::from_nanos(ts),
                    ..*p
                };
                black_box(table.update(black_box(k), &p, &mut out).created);
            }
        });
        assert!(out.is_empty(), "no flow may end");
        assert_eq!(table.counters().created, FLOWS as u64, "every packet hit");
    }

    /// Baseline: hashbrown inserts of the same keys into a map with room.
    #[divan::bench(sample_size = 1, sample_count = 60)]
    fn hashmap_insert(b: Bencher) {
        let keys = flows(FLOWS, 7);
        b.counter(ItemsCount::new(FLOWS))
            .with_inputs(|| HashMap::<FlowKey, User>::with_capacity(FLOWS))
            .bench_local_values(|mut map| {
                for (k, _) in &keys {
                    map.insert(*black_box(k), User::default());
                }
                map
            });
    }

    fn insert_new(b: Bencher, prealloc: usize) {
        let keys = flows(FLOWS, 7);
        assert_eq!(inserted(&keys).counters().created, FLOWS as u64);
        b.counter(ItemsCount::new(FLOWS))
            .with_inputs(|| (FlowTable::<User>::new(table_config(prealloc)), Vec::new()))
            .bench_local_values(|(mut table, mut out)| {
                for (i, (k, p)) in keys.iter().enumerate() {
                    let p = Packet {
                        ts: Timestamp::from_nanos(T0 + i as i64),
                        ..*p
                    };
                    black_box(table.update(black_box(k), &p, &mut out).created);
                }
                (table, out)
            });
    }

    /// Every flow new, in a table preallocated for all of them.
    #[divan::bench(sample_size = 1, sample_count = 60)]
    fn table_insert_new(b: Bencher) {
        insert_new(b, FLOWS);
    }

    /// The same from the default preallocation (10,000 flows), growing.
    #[divan::bench(sample_size = 1, sample_count = 60)]
    fn table_insert_new_growing(b: Bencher) {
        insert_new(b, TableConfig::default().prealloc);
    }
}

/// Bytes in the reassembly benches' stream.
const STREAM: usize = 1 << 20;
/// Payload per segment (a 1500-byte MTU with TCP timestamps).
const MSS: usize = 1448;
/// The client's ISN, close enough to 2^32 that the stream wraps.
const ISN: u32 = 0xfff8_0000;

/// One step as the sensor sees it.
#[derive(Clone)]
enum Step {
    /// A data segment: sequence number and stream range.
    Segment(u32, Range<usize>),
    /// The receiver's ACK (sequence number).
    Ack(u32),
}

fn stream_bytes() -> Vec<u8> {
    let mut rng = Rng(3);
    (0..STREAM).map(|_| rng.next() as u8).collect()
}

fn segments() -> Vec<Range<usize>> {
    (0..STREAM)
        .step_by(MSS)
        .map(|s| s..(s + MSS).min(STREAM))
        .collect()
}

/// Data segments in arrival order, `percent` of them (each with probability
/// `percent`%) swapped with one up to 3 places later, and the receiver's
/// ACKs between them; with the number of swaps.
fn schedule(percent: u64) -> (Vec<Step>, usize) {
    let segs = segments();
    let mut order: Vec<usize> = (0..segs.len()).collect();
    let mut rng = Rng(5);
    let mut moved = vec![false; segs.len()];
    let mut swaps = 0;
    for i in 0..order.len() {
        if moved[i] || rng.below(100) >= percent {
            continue;
        }
        let j = i + 1 + rng.below(3) as usize;
        if j < order.len() && !moved[j] {
            order.swap(i, j);
            moved[i] = true;
            moved[j] = true;
            swaps += 1;
        }
    }
    let seq = |off: usize| ISN.wrapping_add(1).wrapping_add(off as u32);
    let mut steps = Vec::with_capacity(order.len() * 2);
    let mut have = vec![false; segs.len()];
    let mut next = 0; // first segment not received in order
    let mut unacked = 0;
    for &s in &order {
        steps.push(Step::Segment(seq(segs[s].start), segs[s].clone()));
        have[s] = true;
        let before = next;
        while next < segs.len() && have[next] {
            next += 1;
        }
        // At once for a segment out of order (a duplicate ACK) or one that
        // fills a hole; otherwise delayed, every second segment.
        let ack_now = if next.saturating_sub(before) == 1 {
            unacked += 1;
            unacked == 2
        } else {
            true
        };
        if ack_now {
            let end = if next == 0 { 0 } else { segs[next - 1].end };
            steps.push(Step::Ack(seq(end)));
            unacked = 0;
        }
    }
    if !matches!(steps.last(), Some(Step::Ack(_))) {
        steps.push(Step::Ack(seq(STREAM)));
    }
    (steps, swaps)
}

const NOW: Timestamp = Timestamp::from_secs_nanos(1, 0);

/// Feeds the SYN and `steps` to a fresh direction; returns the data bytes
/// and gap bytes delivered.
fn reassemble(cfg: StreamConfig, stream: &[u8], steps: &[Step]) -> (u64, u64) {
    let mut d = StreamDir::new(cfg);
    d.segment(NOW, ISN, &[], tcp_flags::SYN, 0);
    let (mut data, mut gaps) = (0u64, 0u64);
    for step in steps {
        match step {
            Step::Segment(seq, r) => {
                d.segment(
                    NOW,
                    *seq,
                    &stream[r.clone()],
                    tcp_flags::ACK | tcp_flags::PSH,
                    0,
                );
            }
            Step::Ack(a) => {
                d.ack(*a);
                while let Some(c) = d.poll() {
                    match c {
                        Chunk::Data { bytes, .. } => data += black_box(bytes).len() as u64,
                        Chunk::Gap { len, .. } => gaps += len,
                    }
                }
            }
        }
    }
    (data, gaps)
}

/// The stream's bytes put back together from what `steps` delivers.
fn reassembled(cfg: StreamConfig, stream: &[u8], steps: &[Step]) -> Vec<u8> {
    let mut d = StreamDir::new(cfg);
    d.segment(NOW, ISN, &[], tcp_flags::SYN, 0);
    let mut got = Vec::new();
    for step in steps {
        match step {
            Step::Segment(seq, r) => {
                d.segment(NOW, *seq, &stream[r.clone()], tcp_flags::ACK, 0);
            }
            Step::Ack(a) => {
                d.ack(*a);
                while let Some(c) = d.poll() {
                    match c {
                        Chunk::Data { offset, bytes } => {
                            assert_eq!(offset, got.len() as u64);
                            got.extend_from_slice(bytes);
                        }
                        Chunk::Gap { .. } => panic!("a gap"),
                    }
                }
            }
        }
    }
    got
}

fn stream_bench(b: Bencher, percent: u64) {
    let stream = stream_bytes();
    let (steps, swaps) = schedule(percent);
    let nsegs = segments().len();
    // Within two points of the target.
    assert!(
        (swaps * 100).abs_diff(nsegs * percent as usize) <= nsegs * 2,
        "{swaps} swaps of {nsegs} segments"
    );
    let cfg = StreamConfig {
        policy: Policy::Bsd,
        depth: 0,
        ..StreamConfig::default()
    };
    assert!(reassembled(cfg, &stream, &steps) == stream);
    assert_eq!(reassemble(cfg, &stream, &steps), (STREAM as u64, 0));
    b.counter(BytesCount::new(STREAM))
        .counter(ItemsCount::new(nsegs))
        .bench_local(|| black_box(reassemble(cfg, black_box(&stream), &steps)));
}

#[divan::bench_group(name = "reassembly")]
mod reassembly {
    use super::*;

    /// Baseline: copy each segment's payload to its offset.
    #[divan::bench]
    fn memcpy(b: Bencher) {
        let stream = stream_bytes();
        let segs = segments();
        let mut dst = vec![0u8; STREAM];
        b.counter(BytesCount::new(STREAM))
            .counter(ItemsCount::new(segs.len()))
            .bench_local(|| {
                for r in &segs {
                    dst[r.clone()].copy_from_slice(black_box(&stream[r.clone()]));
                }
                black_box(&dst);
            });
        assert!(dst == stream);
    }

    #[divan::bench]
    fn in_order(b: Bencher) {
        stream_bench(b, 0);
    }

    /// 10% of the segments swapped with one up to 3 places later.
    #[divan::bench]
    fn reordered_10pct(b: Bencher) {
        stream_bench(b, 10);
    }
}
