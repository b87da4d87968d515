//! A flow worker: one shard's flow table, TCP sessions and streams.
//!
//! For each packet of a batch, in order: advance the table to the packet's
//! watermark, apply the packet to its flow, and for TCP feed the session
//! ([`TcpSession`]), then hand each direction's newly deliverable bytes and
//! gaps to the stream consumer, and write stream events as EVE `anomaly`
//! records. Ended flows are flushed (their remaining stream data
//! delivered), then written as EVE `flow` records.
//!
//! The stream consumer is where detection plugs in: today it counts what
//! it is given ([`StreamTotals`]), which is what the mirror-loss estimate
//! and the stats need.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crossbeam_channel::{Receiver, Sender};
use ipnet::IpNet;
use mirador_flow::key::{Direction, FlowKey, proto};
use mirador_flow::reassembly::{Chunk, Event, Policy, StreamCounters};
use mirador_flow::table::{EndedFlow, FlowTable, Packet};
use mirador_flow::tcp::{Role, Segment, StreamBudget, TcpConfig, TcpEvents, TcpSession};
use mirador_wire::Timestamp;
use std::net::IpAddr;

use crate::record::{StreamAnomaly, flow_record, stream_anomaly};
use crate::{Batch, FlowUser, Meta, MetaKind, SessionCtx, ToWriter, WorkerStats};
use mirador_engine::vpcflow::{FlowFacts, Format, Interval, Record, build_record};

/// A worker sends its EVE buffer to the writer once it holds this much.
pub(crate) const WORKER_FLUSH_BYTES: usize = 64 << 10;
/// A worker sends its VPC Flow Logs records at least this often (a
/// shutdown ends a whole table at once).
const VPC_SEND_RECORDS: usize = 4096;

/// Overlap policies by receiving host: the longest matching prefix wins.
#[derive(Debug, Clone, Default)]
pub struct PolicyMap {
    /// For addresses no entry matches.
    pub default: Policy,
    /// `(network, policy)`; a linear scan, meant for a handful of entries.
    pub entries: Vec<(IpNet, Policy)>,
}

impl PolicyMap {
    /// The policy of host `addr`.
    pub fn policy_for(&self, addr: IpAddr) -> Policy {
        self.entries
            .iter()
            .filter(|(n, _)| n.contains(&addr))
            .max_by_key(|(n, _)| n.prefix_len())
            .map_or(self.default, |(_, p)| *p)
    }
}

/// Stream totals of ended TCP sessions (one worker, or summed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamTotals {
    /// Directions that delivered anything (data or gap).
    pub streams: u64,
    /// Data bytes delivered to the consumer.
    pub bytes: u64,
    /// Gap chunks delivered.
    pub gaps: u64,
    /// Bytes in gaps.
    pub gap_bytes: u64,
    /// Gap bytes never seen at all: the mirror's loss.
    pub lost_bytes: u64,
    /// Bytes cut by mirror truncation (`packet-length`, MTU).
    pub truncated_bytes: u64,
    /// Segments that only repeated received bytes.
    pub retransmissions: u64,
    /// Segments that overlapped received data.
    pub overlaps: u64,
    /// Of those, overlaps with different data.
    pub overlap_different_data: u64,
    /// Directions that reached the depth.
    pub depth_reached: u64,
    /// Segments dropped at a per-direction cap.
    pub dropped_segments: u64,
    /// Segments out of window.
    pub out_of_window: u64,
}

impl StreamTotals {
    fn add_dir(&mut self, c: &StreamCounters) {
        if c.bytes_delivered > 0 || c.gaps > 0 {
            self.streams += 1;
        }
        self.bytes += c.bytes_delivered;
        self.gaps += c.gaps;
        self.gap_bytes += c.gap_bytes;
        self.lost_bytes += c.unseen_gap_bytes;
        self.truncated_bytes += c.truncated_bytes;
        self.retransmissions += c.retransmissions;
        self.overlaps += c.overlaps;
        self.overlap_different_data += c.overlap_different_data;
        self.depth_reached += c.depth_reached;
        self.dropped_segments += c.dropped_segments;
        self.out_of_window += c.out_of_window;
    }

    /// Adds another total.
    pub fn add(&mut self, o: &StreamTotals) {
        self.streams += o.streams;
        self.bytes += o.bytes;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.lost_bytes += o.lost_bytes;
        self.truncated_bytes += o.truncated_bytes;
        self.retransmissions += o.retransmissions;
        self.overlaps += o.overlaps;
        self.overlap_different_data += o.overlap_different_data;
        self.depth_reached += o.depth_reached;
        self.dropped_segments += o.dropped_segments;
        self.out_of_window += o.out_of_window;
    }

    /// The share of stream bytes the mirror lost, in percent: bytes
    /// acknowledged (or followed by later data) that were never seen, over
    /// those plus the bytes seen. `None` before any stream byte.
    pub fn percent_lost(&self) -> Option<f64> {
        let total = self.bytes + self.lost_bytes;
        (total > 0).then(|| self.lost_bytes as f64 * 100.0 / total as f64)
    }
}

/// Worker settings shared by all workers.
#[derive(Debug, Clone)]
pub(crate) struct WorkerShared {
    pub tcp: TcpConfig,
    pub policies: PolicyMap,
    pub budget: StreamBudget,
    pub seed: u16,
    pub stream_events: bool,
    pub overlap_events: bool,
    /// VPC Flow Logs: the record format and the aggregation interval.
    pub vpc: Option<(Format, u32)>,
}

pub(crate) struct Worker {
    pub index: usize,
    pub table: FlowTable<FlowUser>,
    pub shared: WorkerShared,
    pub rx: Receiver<Batch>,
    pub spare: Sender<Batch>,
    pub out: Sender<ToWriter>,
    pub bufs: Receiver<Vec<u8>>,
}

/// The worker's state besides the table (split so that a flow borrowed
/// from the table and this can be used together).
struct State {
    stats: WorkerStats,
    sessions: Vec<Option<SessionCtx>>,
    /// VPC Flow Logs records not yet sent to the writer.
    vpc: Vec<Record>,
    /// Open VPC Flow Logs windows by end time (Unix seconds): a window is
    /// closed when the watermark passes its end, so a direction that goes
    /// quiet still gets its record within one interval. Entries of flows
    /// that ended or moved on are skipped when they come up; there are at
    /// most two per flow and interval.
    vpc_due: BinaryHeap<Reverse<(i64, FlowKey, u8)>>,
    eve: Vec<u8>,
    records: u64,
    budget: StreamBudget,
}

impl Worker {
    pub(crate) fn run(mut self) {
        let mut st = State {
            stats: WorkerStats::default(),
            sessions: Vec::new(),
            vpc: Vec::new(),
            vpc_due: BinaryHeap::new(),
            eve: Vec::with_capacity(WORKER_FLUSH_BYTES * 2),
            records: 0,
            budget: self.shared.budget,
        };
        let mut ended: Vec<EndedFlow<FlowUser>> = Vec::with_capacity(64);
        while let Ok(mut batch) = self.rx.recv() {
            for (s, ctx) in batch.labels.drain(..) {
                let s = s as usize;
                if st.sessions.len() <= s {
                    st.sessions.resize(s + 1, None);
                }
                st.sessions[s] = Some(ctx);
            }
            for m in &batch.packets {
                if m.watermark > self.table.watermark() {
                    self.table.advance(m.watermark, &mut ended);
                    self.end_flows(&mut ended, &mut st);
                    self.close_vpc_windows(m.watermark, &mut st);
                }
                self.packet(&batch, m, &mut ended, &mut st);
                self.end_flows(&mut ended, &mut st);
                if st.vpc_due.len() > 2 * self.table.cap() + 4096 {
                    self.purge_vpc_due(&mut st);
                }
            }
            self.table.advance(batch.watermark, &mut ended);
            self.end_flows(&mut ended, &mut st);
            self.close_vpc_windows(batch.watermark, &mut st);
            // VPC Flow Logs records go out with every batch (EVE waits for
            // a full buffer), with this worker's watermark: the writer
            // closes a file only once every worker has passed its window.
            if self.shared.vpc.is_some() {
                self.send_vpc(&mut st);
            }
            batch.clear();
            let _ = self.spare.send(batch);
        }
        // In chunks: each is written before the next is ended, so a full
        // table does not become one vector of ended flows.
        while self.table.shutdown_some(&mut ended, 1024) {
            self.end_flows(&mut ended, &mut st);
        }
        self.end_flows(&mut ended, &mut st);
        self.flush(&mut st);
        st.stats.table = *self.table.counters();
        st.stats.budget = st.budget;
        let _ = self
            .out
            .send(ToWriter::Done(self.index, Box::new(st.stats)));
    }

    fn packet(
        &mut self,
        batch: &Batch,
        m: &Meta,
        ended: &mut Vec<EndedFlow<FlowUser>>,
        st: &mut State,
    ) {
        let pkt = Packet {
            ts: m.ts,
            dir: m.dir,
            len: m.len,
            tcp_flags: m.tcp_flags,
        };
        st.stats.packets += 1;
        let touched = match m.kind {
            MetaKind::Flow => {
                // A SYN repeating a closed session's own SYN is a
                // retransmission, not a new connection on the same ports.
                let syn_seq = m.tcp.map(|t| t.seq);
                let t = self.table.update_with(&m.key, &pkt, ended, |_, u| {
                    syn_seq.is_some() && u.tcp.client_isn() == syn_seq
                });
                if t.created {
                    st.stats.flows += 1;
                    t.user.session = m.session;
                    t.user.mirror = m.mirror;
                    t.user.icmp = m.icmp;
                }
                if let Some((format, interval)) = &self.shared.vpc {
                    let d = usize::from(m.dir == Direction::HiToLo);
                    let windows = t.user.vpc.get_or_insert_with(Box::default);
                    let before = windows[d].window_end(*interval);
                    if let Some(iv) =
                        windows[d].on_packet(m.ts, u64::from(m.ip_len), m.tcp_flags, *interval)
                    {
                        let ctx = st.sessions.get(m.session as usize).and_then(|c| c.as_ref());
                        st.vpc.push(vpc_record(format, &iv, &m.key, m.dir, ctx));
                    }
                    let after = windows[d].window_end(*interval);
                    if let Some(end) = after
                        && after != before
                    {
                        st.vpc_due.push(Reverse((end, m.key, d as u8)));
                    }
                }
                t
            }
            MetaKind::IcmpError => {
                let _ = self.table.update_existing(&m.key, &pkt, ended);
                return;
            }
            MetaKind::Filler => {
                // A fuller mirror copy of a packet already counted: only
                // its bytes are used, to fill what truncation cut.
                match self.table.peek_mut(&m.key, m.dir) {
                    Some(t) => t,
                    None => return,
                }
            }
        };
        let Some(tcp) = m.tcp else {
            return;
        };
        let frame = batch.frame(m);
        let payload = frame
            .get(tcp.payload_off as usize..(tcp.payload_off + tcp.payload_len) as usize)
            .unwrap_or(&[]);
        let flow = touched.flow;
        let user = touched.user;
        let to_server = touched.to_server;
        let seg = Segment {
            ts: m.ts,
            to_server,
            seq: tcp.seq,
            ack: tcp.ack,
            flags: m.tcp_flags.unwrap_or(0),
            payload,
            missing: tcp.missing,
            window: tcp.window,
            wscale: tcp.wscale,
        };
        let (client, server) = m.key.endpoints(flow.client_dir());
        let policies = &self.shared.policies;
        let mut events = TcpEvents::default();
        user.tcp.packet(
            &self.shared.tcp,
            &seg,
            || {
                (
                    policies.policy_for(server.addr),
                    policies.policy_for(client.addr),
                )
            },
            &mut st.budget,
            &mut st.stats.tcp,
            &mut events,
        );
        // A midstream pick-up's first data: a response going "to the
        // server" (or a request to the client) means the first packet seen
        // was the server's. Suricata's protocol detection reverses such a
        // flow, and so do we, once (the table's side below, after the last
        // use of this flow's borrow).
        let mut wrong_way = false;
        if user.tcp.direction_unchecked(payload) {
            user.tcp.direction_checked();
            let (src, dst) = m.key.endpoints(m.dir);
            wrong_way = match Role::of(payload, src.port, dst.port) {
                Some(Role::Response) => to_server,
                Some(Role::Request) => !to_server,
                None => false,
            };
            if wrong_way {
                user.tcp.reverse();
            }
        }
        deliver(&mut user.tcp);
        user.tcp.sync(&mut st.budget);
        if !self.shared.stream_events {
            let _ = (
                user.tcp.take_stream_events(0),
                user.tcp.take_stream_events(1),
            );
            if wrong_way {
                self.reverse(&m.key, st);
            }
            return;
        }
        let (src, dst) = m.key.endpoints(m.dir);
        let label = st
            .sessions
            .get(m.session as usize)
            .and_then(|c| c.as_ref())
            .map(|c| &c.label);
        let mut a = StreamAnomaly {
            ts: m.ts,
            pcap_cnt: m.pcap_cnt,
            key: &m.key,
            src,
            dst,
            event: "",
            mirror: m.mirror.as_ref().zip(label),
        };
        for e in events.iter() {
            a.event = e.as_str();
            stream_anomaly(&mut st.eve, &a);
            st.records += 1;
        }
        for d in 0..2 {
            for e in user.tcp.take_stream_events(d).iter() {
                if e == Event::OverlapDifferentData && !self.shared.overlap_events {
                    continue;
                }
                a.event = e.as_str();
                stream_anomaly(&mut st.eve, &a);
                st.records += 1;
            }
        }
        if wrong_way {
            self.reverse(&m.key, st);
        }
        if st.eve.len() >= WORKER_FLUSH_BYTES {
            self.flush(st);
        }
    }

    /// Writes the records of VPC Flow Logs windows that ended by `now`.
    fn close_vpc_windows(&mut self, now: Timestamp, st: &mut State) {
        let Some((format, interval)) = &self.shared.vpc else {
            return;
        };
        let secs = now.secs();
        while let Some(Reverse((end, key, d))) = st.vpc_due.peek().copied() {
            if end > secs {
                break;
            }
            st.vpc_due.pop();
            let dir = if d == 0 {
                Direction::LoToHi
            } else {
                Direction::HiToLo
            };
            let Some(t) = self.table.peek_mut(&key, dir) else {
                continue;
            };
            let session = t.user.session;
            let Some(w) = t.user.vpc.as_mut().map(|w| &mut w[usize::from(d)]) else {
                continue;
            };
            // Only the window this entry was made for (a later one has its
            // own entry).
            if w.window_end(*interval) != Some(end) {
                continue;
            }
            if let Some(iv) = w.take() {
                let ctx = st.sessions.get(session as usize).and_then(|c| c.as_ref());
                st.vpc.push(vpc_record(format, &iv, &key, dir, ctx));
            }
        }
    }

    /// Drops the due-window entries of flows that ended (or moved to a
    /// later window): a flood of short flows would otherwise pile them up
    /// for a whole interval. What remains is at most two per live flow, so
    /// this runs at most once per `table.cap()` insertions (amortized O(1)).
    fn purge_vpc_due(&mut self, st: &mut State) {
        let Some((_, interval)) = &self.shared.vpc else {
            st.vpc_due.clear();
            return;
        };
        let before = st.vpc_due.len();
        let mut v = std::mem::take(&mut st.vpc_due).into_vec();
        v.retain(|Reverse((end, key, d))| {
            self.table.get(key).is_some_and(|(_, u)| {
                u.vpc
                    .as_ref()
                    .is_some_and(|w| w[usize::from(*d)].window_end(*interval) == Some(*end))
            })
        });
        st.stats.vpc_due_purged += (before - v.len()) as u64;
        st.vpc_due = BinaryHeap::from(v);
    }

    fn send_vpc(&self, st: &mut State) {
        let _ = self.out.send(ToWriter::Vpc {
            worker: self.index,
            records: std::mem::take(&mut st.vpc),
            watermark: self.table.watermark(),
        });
    }

    fn reverse(&mut self, key: &FlowKey, st: &mut State) {
        if self.table.reverse(key) {
            st.stats.reversed += 1;
        }
    }

    /// Flushes ended flows' streams, then writes their records, handing
    /// the buffer to the writer whenever it is full (a shutdown can end a
    /// whole table at once).
    fn end_flows(&self, ended: &mut Vec<EndedFlow<FlowUser>>, st: &mut State) {
        for mut e in ended.drain(..) {
            if e.key.proto == proto::TCP {
                e.user.tcp.flush();
                deliver(&mut e.user.tcp);
                // End-of-flow events (a final gap) are counted, not
                // logged: there is no packet to attach them to.
                let _ = (
                    e.user.tcp.take_stream_events(0),
                    e.user.tcp.take_stream_events(1),
                );
                let mut totals = StreamTotals::default();
                totals.add_dir(&e.user.tcp.stream_counters(0));
                totals.add_dir(&e.user.tcp.stream_counters(1));
                st.stats.streams.add(&totals);
                let s = e.user.session as usize;
                if st.stats.sessions.len() <= s {
                    st.stats.sessions.resize(s + 1, StreamTotals::default());
                }
                st.stats.sessions[s].add(&totals);
            }
            let ctx = st
                .sessions
                .get(e.user.session as usize)
                .and_then(|c| c.as_ref());
            if let (Some((format, _)), Some(windows)) = (&self.shared.vpc, e.user.vpc.as_mut()) {
                for (d, dir) in [Direction::LoToHi, Direction::HiToLo]
                    .into_iter()
                    .enumerate()
                {
                    if let Some(iv) = windows[d].take() {
                        st.vpc.push(vpc_record(format, &iv, &e.key, dir, ctx));
                    }
                }
            }
            flow_record(&mut st.eve, &e, ctx.map(|c| &c.label), self.shared.seed);
            e.user.tcp.release(&mut st.budget);
            st.records += 1;
            if st.vpc.len() >= VPC_SEND_RECORDS {
                self.send_vpc(st);
            }
            if st.eve.len() >= WORKER_FLUSH_BYTES {
                self.flush(st);
            }
        }
    }

    fn flush(&self, st: &mut State) {
        if !st.vpc.is_empty() {
            self.send_vpc(st);
        }
        if st.eve.is_empty() {
            return;
        }
        let next = self
            .bufs
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(WORKER_FLUSH_BYTES * 2));
        let full = std::mem::replace(&mut st.eve, next);
        let _ = self.out.send(ToWriter::Eve(full, st.records));
        st.records = 0;
    }
}

/// The VPC Flow Logs record of one direction's closed window.
fn vpc_record(
    format: &Format,
    iv: &Interval,
    key: &FlowKey,
    dir: Direction,
    ctx: Option<&SessionCtx>,
) -> Record {
    let (src, dst) = key.endpoints(dir);
    let fallback = mirador_engine::vpcflow::SessionFacts::default();
    let vpc = ctx.and_then(|c| c.vpc.as_deref());
    let mut facts = FlowFacts::new(
        src.addr,
        dst.addr,
        src.port,
        dst.port,
        key.proto,
        vpc.map_or(&fallback, |v| &v.facts),
    );
    facts.direction = vpc
        .and_then(|v| v.declared.as_ref())
        .and_then(|d| d.direction(src.addr, dst.addr));
    build_record(format, iv, &facts)
}

/// Hands every deliverable chunk of both directions to the stream consumer.
/// Detection (a later stage) reads the chunks here; the counts are kept by
/// the streams themselves.
fn deliver(tcp: &mut TcpSession) {
    for d in 0..2 {
        while let Some(chunk) = tcp.poll(d) {
            match chunk {
                Chunk::Data { .. } | Chunk::Gap { .. } => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuntimeConfig;

    #[test]
    fn host_os_policy_reaches_streams_and_defrag_by_longest_prefix() {
        let yaml = "host-os-policy:\n  linux: [10.0.0.0/8]\n  solaris: [10.1.0.0/16]\n  first: [\"2001:db8::/32\"]\n  old-solaris: [192.0.2.0/24]\n";
        let config = mirador_config::Config::load("t.yaml", yaml, &[]).unwrap();
        let rc = RuntimeConfig::from_config(&config, 2);
        let p = |a: &str| rc.policies.policy_for(a.parse().unwrap());
        assert_eq!(p("10.9.9.9"), Policy::Linux);
        assert_eq!(p("10.1.2.3"), Policy::Solaris);
        assert_eq!(p("2001:db8::1"), Policy::First);
        assert_eq!(p("192.0.2.1"), Policy::Solaris);
        assert_eq!(p("172.16.0.1"), Policy::Bsd);
        // Defrag maps old-solaris differently from TCP (Suricata's tables).
        let d = rc
            .defrag
            .policies
            .iter()
            .find(|(n, _)| n.to_string() == "192.0.2.0/24")
            .unwrap()
            .1;
        assert_eq!(d, mirador_flow::defrag::Policy::First);
    }

    #[test]
    fn global_caps_are_split_across_workers() {
        let yaml = "flow:\n  max-flows: 1000\nstream:\n  reassembly:\n    memcap: 4mb\n";
        let config = mirador_config::Config::load("t.yaml", yaml, &[]).unwrap();
        let one = RuntimeConfig::from_config(&config, 1);
        let four = RuntimeConfig::from_config(&config, 4);
        assert_eq!(one.table.max_flows, 1000);
        assert_eq!(four.table.max_flows, 250);
        assert_eq!(one.budget.max_bytes, 4 << 20);
        assert_eq!(four.budget.max_bytes, 1 << 20);
        // Derived from flow.memcap when max-flows is 0.
        let d = RuntimeConfig::from_config(&mirador_config::Config::default(), 2);
        assert_eq!(
            d.table.max_flows as u64,
            (128u64 << 20) / 2 / FlowTable::<FlowUser>::bytes_per_flow() as u64
        );
    }
}
