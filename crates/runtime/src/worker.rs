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
use mirador_flow::tcp::{Role, Segment, StreamBudget, TcpConfig, TcpEvents};
use mirador_wire::Timestamp;
use std::net::IpAddr;

use crate::record::{AlertRecord, AlertSignature, STREAM_TAIL, StreamTails, alert_record};
use crate::record::{StreamAnomaly, flow_record, stream_anomaly};
use crate::{Batch, FlowUser, Meta, MetaKind, SessionCtx, ToWriter, WorkerStats};
use mirador_config::EveAlertOptions;
use mirador_detect::engine::{Engine, Input, Match, Scratch};
use mirador_detect::header::PacketView;
use mirador_detect::signature::Inspect;
use mirador_engine::vpcflow::{FlowFacts, Format, Interval, Record, build_record};
use mirador_flow::key::Endpoint;
use mirador_flow::table::Flow;
use std::sync::Arc;

mod app_tx;

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
    /// Urgent bytes handled as out-of-band (`tcp.urgent_oob_data`).
    pub urgent_oob: u64,
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
        self.urgent_oob += c.urgent_oob;
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
        self.urgent_oob += o.urgent_oob;
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
    /// Signatures.
    pub detect: Option<Arc<Engine>>,
    /// What alert records carry.
    pub alert_options: EveAlertOptions,
    /// The application-layer parsers.
    pub app: crate::app::AppConfig,
    /// The anomaly detectors, when on: the workers report events to them.
    pub detectors: Option<crate::detectors::DetectorSetup>,
}

pub(crate) struct Worker {
    pub index: usize,
    pub table: FlowTable<FlowUser>,
    pub shared: WorkerShared,
    pub rx: Receiver<Batch>,
    pub spare: Sender<Batch>,
    pub out: Sender<ToWriter>,
    pub bufs: Receiver<Vec<u8>>,
    /// Counters the metrics endpoint reads.
    pub telemetry: Arc<crate::telemetry::WorkerTelemetry>,
    /// Classtype labels of the alert counters.
    pub classes: Arc<crate::telemetry::ClassNames>,
    /// The rule-set generation (bumped by each reload).
    pub generation: u32,
    /// Live capture: packet times are the kernel's receive times, so the
    /// processing latency is measured.
    pub live: bool,
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
    /// Signature matching scratch space.
    scratch: Scratch,
    matches: Vec<Match>,
    /// Packet matches of packet-and-stream rules, held until the stream
    /// of the packet's direction has been inspected on the same packet.
    held: Vec<Match>,
    /// What a stream window's carried-over bytes match alone (reused).
    tail_matches: Vec<Match>,
    /// Per session: its tenant's variable set (`None` until looked up).
    var_sets: Vec<Option<usize>>,
    /// Stream window (tail + chunk) being inspected.
    window: Vec<u8>,
    /// Matches for the host-keyed stage, sent with the batch.
    host_events: Vec<(crate::ordered::Key, HostEvent)>,
    host_seq: u32,
    /// The packet number being processed (orders host events).
    cur_cnt: u64,
    /// The (empty) flow variables a flowless packet is matched with.
    no_vars: mirador_detect::flowvars::FlowVars,
    /// Each rule's alert counter slot, by signature index.
    alert_slots: Vec<u16>,
    /// Alerts per counter slot (class × severity).
    alerts_by: Vec<u64>,
    alerts_dirty: bool,
    /// Processing latency (live only).
    latency: crate::telemetry::LocalHistogram,
    busy_ns: u64,
    last_snapshot: Option<std::time::Instant>,
    /// Events for the anomaly detectors, sent with the batch.
    det_events: Vec<(crate::ordered::Key, crate::detectors::Owned)>,
    det_seq: u32,
    /// Per session: its tenant's `HOME_NET` (looked up once), and whether
    /// this worker has reported that the session shows both directions.
    det_sessions: Vec<Option<(Vec<ipnet::IpNet>, bool)>>,
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
            scratch: Scratch::default(),
            matches: Vec::new(),
            held: Vec::new(),
            tail_matches: Vec::new(),
            var_sets: Vec::new(),
            window: Vec::new(),
            host_events: Vec::new(),
            host_seq: 0,
            cur_cnt: 0,
            no_vars: Default::default(),
            alert_slots: self
                .shared
                .detect
                .as_deref()
                .map(|e| self.classes.slots(e))
                .unwrap_or_default(),
            alerts_by: vec![0; crate::telemetry::MAX_CLASSES * crate::telemetry::SEVERITIES],
            alerts_dirty: false,
            latency: Default::default(),
            busy_ns: 0,
            last_snapshot: None,
            det_events: Vec::new(),
            det_seq: 0,
            det_sessions: Vec::new(),
        };
        let mut ended: Vec<EndedFlow<FlowUser>> = Vec::with_capacity(64);
        while let Ok(mut batch) = self.rx.recv() {
            let started = std::time::Instant::now();
            for (s, ctx) in batch.labels.drain(..) {
                let s = s as usize;
                if st.sessions.len() <= s {
                    st.sessions.resize(s + 1, None);
                }
                st.sessions[s] = Some(ctx);
            }
            for m in &batch.packets {
                st.cur_cnt = m.pcap_cnt;
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
            st.cur_cnt = batch.read_upto;
            self.table.advance(batch.watermark, &mut ended);
            self.end_flows(&mut ended, &mut st);
            self.close_vpc_windows(batch.watermark, &mut st);
            self.send_stage_events(&mut st, batch.read_upto);
            // VPC Flow Logs records go out with every batch (replay's EVE
            // waits for a full buffer), with this worker's watermark: the
            // writer closes a file only once every worker has passed its
            // window.
            if self.shared.vpc.is_some() {
                self.send_vpc(&mut st);
            }
            // Live: records go out with every batch (the reader sends one
            // at least every tick), so they reach the output within a tick
            // however quiet the traffic; replay waits for a full buffer.
            if self.live && !st.eve.is_empty() {
                self.flush(&mut st);
            }
            if let Some(c) = batch.control.take() {
                self.control(c, &mut st);
            }
            if self.live {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
                for m in &batch.packets {
                    let ns = u64::try_from(now.saturating_sub(m.ts.as_nanos())).unwrap_or(0);
                    st.latency.observe(ns, 1);
                }
            }
            self.publish(&mut st, started);
            batch.clear();
            let _ = self.spare.send(batch);
        }
        // What flows ended at shutdown tell the host and detector stages
        // (their end-of-flow inspection, `FlowEnd` events) comes after
        // every packet: keyed `SHUTDOWN`, released once every worker has
        // finished (the detector stage puts them in time order).
        let done = st.cur_cnt;
        st.cur_cnt = crate::ordered::SHUTDOWN;
        // In chunks: each is written before the next is ended, so a full
        // table does not become one vector of ended flows.
        while self.table.shutdown_some(&mut ended, 1024) {
            self.end_flows(&mut ended, &mut st);
        }
        self.end_flows(&mut ended, &mut st);
        self.send_stage_events(&mut st, done);
        self.flush(&mut st);
        st.stats.table = *self.table.counters();
        st.stats.budget = st.budget;
        st.last_snapshot = None;
        self.publish(&mut st, std::time::Instant::now());
        let _ = self
            .out
            .send(ToWriter::Done(self.index, Box::new(st.stats)));
    }

    /// Hands the events for the host and detector stages to the writer,
    /// with this worker's progress `done`.
    fn send_stage_events(&self, st: &mut State, done: u64) {
        if self
            .shared
            .detect
            .as_ref()
            .is_some_and(|e| e.needs_host_stage())
        {
            let events = std::mem::take(&mut st.host_events)
                .into_iter()
                .map(|((c, q, _), e)| ((c, q, self.index as u32), e))
                .collect();
            let _ = self.out.send(ToWriter::Host {
                worker: self.index,
                events,
                done,
            });
        }
        if self.shared.detectors.is_some() {
            let events = std::mem::take(&mut st.det_events)
                .into_iter()
                .map(|((c, q, _), e)| ((c, q, self.index as u32), e))
                .collect();
            let _ = self.out.send(ToWriter::Detect {
                worker: self.index,
                events,
                done,
            });
        }
    }

    /// Acts on a control message, after the batch's packets.
    fn control(&mut self, c: crate::Control, st: &mut State) {
        match c {
            crate::Control::Reload {
                detect,
                app,
                generation,
            } => {
                // Everything the old rule set left in the worker's own
                // state: variable-set lookups and matching scratch space
                // are per rule set. Flows are moved over as they are met
                // (`FlowUser::rebase`).
                st.var_sets.clear();
                st.scratch = Scratch::default();
                st.alert_slots = detect
                    .as_deref()
                    .map(|e| self.classes.slots(e))
                    .unwrap_or_default();
                self.shared.app = app;
                self.shared.app.resolve(detect.as_deref());
                self.shared.detect = detect;
                self.generation = generation;
                let _ = self.out.send(ToWriter::Reloaded);
            }
        }
    }

    /// Publishes the running totals for the metrics endpoint (relaxed
    /// stores: this worker is their only writer), and every
    /// [`SNAPSHOT_EVERY`](crate::telemetry::SNAPSHOT_EVERY) (and at the
    /// end) a full copy of its counters.
    fn publish(&self, st: &mut State, started: std::time::Instant) {
        use std::sync::atomic::Ordering::Relaxed;
        let t = &*self.telemetry;
        let now = std::time::Instant::now();
        st.busy_ns = st
            .busy_ns
            .saturating_add(u64::try_from(now.duration_since(started).as_nanos()).unwrap_or(0));
        let c = self.table.counters();
        t.packets.store(st.stats.packets, Relaxed);
        t.busy_ns.store(st.busy_ns, Relaxed);
        t.queue_depth.store(self.rx.len() as u64, Relaxed);
        t.flows_created.store(c.created, Relaxed);
        t.flows_active.store(self.table.len() as u64, Relaxed);
        // Flows ended at the cap (reason `forced`); a cap hit that found
        // room by ending timed-out flows evicts nothing.
        t.flows_evicted.store(c.forced, Relaxed);
        t.emergency
            .store(u64::from(c.emergency_entered > c.emergency_over), Relaxed);
        t.gaps.store(st.stats.streams.gaps, Relaxed);
        t.overlaps.store(st.stats.streams.overlaps, Relaxed);
        t.reassembly_bytes.store(st.budget.bytes, Relaxed);
        if st.alerts_dirty {
            st.alerts_dirty = false;
            for (a, v) in t.alerts.iter().zip(&st.alerts_by) {
                a.store(*v, Relaxed);
            }
        }
        if self.live {
            st.latency.publish(&t.latency);
        }
        if st
            .last_snapshot
            .is_none_or(|l| now.duration_since(l) >= crate::telemetry::SNAPSHOT_EVERY)
            && let Ok(mut g) = t.snapshot.try_lock()
        {
            let snap = g.get_or_insert_with(WorkerStats::default);
            snap.clone_from(&st.stats);
            snap.table = *c;
            snap.budget = st.budget;
            st.last_snapshot = Some(now);
        }
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
                    t.user.generation = self.generation;
                } else if t.user.generation != self.generation {
                    t.user.rebase(self.generation);
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
            MetaKind::IcmpError { ip_off } => {
                self.icmp_error(batch, m, ip_off, ended, st);
                return;
            }
            MetaKind::Flowless => {
                if let Some(engine) = self.shared.detect.clone() {
                    let (src, dst) = m.key.endpoints(m.dir);
                    detect_own(
                        &self.shared,
                        &engine,
                        m,
                        batch.frame(m),
                        (m.key.proto, src.addr, dst.addr),
                        None,
                        st,
                    );
                }
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
        // Tunnel-transport flows (`tunnel-flows`) are the mirror's own
        // plumbing, not a session's traffic: not for the detectors.
        if self.shared.detectors.is_some()
            && matches!(m.kind, MetaKind::Flow)
            && m.session != crate::TUNNEL_SESSION
        {
            flow_events(
                &self.shared,
                m,
                touched.flow,
                &mut *touched.user,
                touched.created,
                touched.to_server,
                st,
            );
        }
        let frame = batch.frame(m);
        let Some(tcp) = m.tcp else {
            let (flow, user, to_server) = (touched.flow, touched.user, touched.to_server);
            let (client, server) = m.key.endpoints(flow.client_dir());
            let (p0, plen) = m.payload;
            let payload = frame
                .get(p0 as usize..(p0 as usize).saturating_add(plen as usize))
                .unwrap_or(&[]);
            let udp = m.key.proto == proto::UDP && matches!(m.kind, MetaKind::Flow);
            if udp && !payload.is_empty() {
                let dir = app_tx::dir_of(usize::from(!to_server));
                user.app
                    .get_or_insert_with(|| Box::new(crate::app::AppFlow::new()))
                    .udp(&self.shared.app, dir, payload, server.port);
            }
            if let (Some(engine), MetaKind::Flow) = (self.shared.detect.clone(), m.kind) {
                let established = flow.state() == mirador_flow::table::FlowState::Established;
                let pd = user.app.as_mut().is_some_and(|a| a.take_detected());
                for proto_detect in [false, true] {
                    if proto_detect && !pd {
                        continue;
                    }
                    detect_packet(
                        &self.shared,
                        &engine,
                        m,
                        frame,
                        flow,
                        user,
                        to_server,
                        established,
                        false,
                        &[],
                        false,
                        proto_detect,
                        st,
                    );
                }
            }
            if udp {
                app_tx::inspect_txs(
                    &self.shared,
                    self.shared.detect.as_deref(),
                    &Here::of(m),
                    client,
                    server,
                    flow,
                    user,
                    Some(usize::from(!to_server)),
                    if to_server {
                        [payload, &[]]
                    } else {
                        [&[], payload]
                    },
                    false,
                    st,
                );
            }
            return;
        };
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
            urgent: tcp.urgent,
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
        let to_server = to_server != wrong_way;
        if let (Some(engine), MetaKind::Flow) = (self.shared.detect.clone(), m.kind) {
            // Packet rules see this packet's stream events too.
            let mut names: [&str; 24] = [""; 24];
            let mut n = 0;
            for e in events.iter() {
                if n < names.len() {
                    names[n] = e.as_str();
                    n += 1;
                }
            }
            for d in 0..2 {
                for e in user.tcp.peek_stream_events(d).iter() {
                    if n < names.len() {
                        names[n] = e.as_str();
                        n += 1;
                    }
                }
            }
            let established = user.tcp.state().is_established();
            let reassembled = user.tcp.stream(usize::from(!to_server)).is_some();
            let (client, server) = if wrong_way {
                (server, client)
            } else {
                (client, server)
            };
            detect_packet(
                &self.shared,
                &engine,
                m,
                frame,
                flow,
                user,
                to_server,
                established,
                reassembled,
                &names[..n],
                true,
                false,
                st,
            );
            deliver_detect(
                &self.shared,
                &engine,
                &Here::of(m),
                client,
                server,
                flow,
                user,
                Some(usize::from(!to_server)),
                payload,
                st,
            );
            // The rules that wait for protocol detection (`app-layer-protocol`
            // alone) see the packet whose acknowledgement completed it.
            if user.app.as_mut().is_some_and(|a| a.take_detected()) {
                detect_packet(
                    &self.shared,
                    &engine,
                    m,
                    frame,
                    flow,
                    user,
                    to_server,
                    established,
                    reassembled,
                    &[],
                    false,
                    true,
                    st,
                );
            }
            // What the stream did not match on this packet, the packet did.
            let held = std::mem::take(&mut st.held);
            for &mt in &held {
                engine.apply_actions(mt, &mut user.vars);
                emit_packet_match(
                    &self.shared,
                    &engine,
                    mt,
                    m,
                    frame,
                    flow,
                    user,
                    to_server,
                    st,
                );
            }
            st.held = held;
            st.held.clear();
        } else {
            let (client, server) = if wrong_way {
                (server, client)
            } else {
                (client, server)
            };
            deliver(
                &self.shared,
                &Here::of(m),
                client,
                server,
                flow,
                user,
                false,
                st,
            );
        }
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

    /// An ICMPv4 destination unreachable quoting flow `m.key`: counted in
    /// that flow and inspected as one of its packets when the flow exists
    /// (Suricata's quoted-flow lookup), else inspected flowless; it never
    /// creates a flow.
    fn icmp_error(
        &mut self,
        batch: &Batch,
        m: &Meta,
        ip_off: u16,
        ended: &mut Vec<EndedFlow<FlowUser>>,
        st: &mut State,
    ) {
        let frame = batch.frame(m);
        // The error's own addresses (the decoder checked the header).
        let Some((src, dst)) = own_addrs(frame, ip_off, m.v6) else {
            return;
        };
        let own = (if m.v6 { proto::ICMPV6 } else { proto::ICMP }, src, dst);
        // Suricata's direction of an ICMP packet in a flow: to the server
        // when it comes from the flow's client address, else to the client
        // (`FlowGetPacketDirection`), whatever the quoted packet's was.
        let dir = match self.table.get(&m.key) {
            Some((f, _)) if m.key.endpoints(f.client_dir()).0.addr == src => f.client_dir(),
            Some((f, _)) => f.client_dir().reverse(),
            None => m.dir,
        };
        let pkt = Packet {
            ts: m.ts,
            dir,
            len: m.len,
            tcp_flags: None,
        };
        let engine = self.shared.detect.clone();
        match self.table.update_existing(&m.key, &pkt, ended) {
            Some(t) => {
                if t.user.generation != self.generation {
                    t.user.rebase(self.generation);
                }
                if let Some(engine) = engine {
                    let established = if m.key.proto == proto::TCP {
                        t.user.tcp.state().is_established()
                    } else {
                        t.flow.state() == mirador_flow::table::FlowState::Established
                    };
                    let owner = OwnFlow {
                        flow: t.flow,
                        user: t.user,
                        to_server: t.to_server,
                        established,
                    };
                    detect_own(&self.shared, &engine, m, frame, own, Some(owner), st);
                }
            }
            None => {
                if let Some(engine) = engine {
                    detect_own(&self.shared, &engine, m, frame, own, None, st);
                }
            }
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
        // `&self`: the shared settings only.
        for mut e in ended.drain(..) {
            if e.user.generation != self.generation {
                e.user.rebase(self.generation);
            }
            if self.shared.detectors.is_some() && e.user.session != crate::TUNNEL_SESSION {
                flow_end_event(&self.shared, &e, st);
            }
            if e.key.proto == proto::TCP {
                e.user.tcp.flush();
                // What remains of the streams is inspected at the end of
                // the flow, as Suricata's end-of-flow reassembly does (or,
                // without rules, handed to the application layer).
                let here = Here::at_flow_end(&e.key, e.flow.last_seen);
                let (client, server) = e.key.endpoints(e.flow.client_dir());
                let flow = e.flow;
                match self.shared.detect.clone() {
                    Some(engine) => deliver_detect(
                        &self.shared,
                        &engine,
                        &here,
                        client,
                        server,
                        &flow,
                        &mut e.user,
                        None,
                        &[],
                        st,
                    ),
                    None => deliver(
                        &self.shared,
                        &here,
                        client,
                        server,
                        &flow,
                        &mut e.user,
                        true,
                        st,
                    ),
                }
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

/// Hands every deliverable chunk of both directions to the application
/// layer, without rules (its records are still written); `closing`: the
/// flow ended. The counts are kept by the streams themselves.
#[allow(clippy::too_many_arguments)]
fn deliver(
    shared: &WorkerShared,
    here: &Here<'_>,
    client: Endpoint,
    server: Endpoint,
    flow: &Flow,
    user: &mut FlowUser,
    closing: bool,
    st: &mut State,
) {
    let mut any = false;
    for d in 0..2 {
        while let Some(chunk) = user.tcp.poll(d) {
            app_tx::feed_chunk(shared, &mut user.app, d, &chunk, server.port);
            any = true;
        }
    }
    if any && !closing {
        app_tx::inspect_txs(
            shared,
            None,
            here,
            client,
            server,
            flow,
            user,
            None,
            [&[], &[]],
            false,
            st,
        );
    }
    if closing {
        app_tx::close(shared, None, here, client, server, flow, user, st);
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
    fn own_addrs_reads_the_header_or_nothing() {
        let mut v4 = vec![0u8; 14];
        v4.extend_from_slice(&[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0]);
        v4.extend_from_slice(&[192, 0, 2, 1, 10, 0, 0, 1]);
        assert_eq!(
            own_addrs(&v4, 14, false),
            Some(("192.0.2.1".parse().unwrap(), "10.0.0.1".parse().unwrap()))
        );
        // Out of the frame: nothing, never a panic.
        for off in [15, 33, u16::MAX] {
            assert_eq!(own_addrs(&v4, off, false), None);
            assert_eq!(own_addrs(&v4, off, true), None);
        }
        let mut v6 = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
        v6.extend_from_slice(
            &"2001:db8::ff"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        v6.extend_from_slice(
            &"2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        assert_eq!(
            own_addrs(&v6, 0, true),
            Some((
                "2001:db8::ff".parse().unwrap(),
                "2001:db8::1".parse().unwrap()
            ))
        );
        assert_eq!(own_addrs(&v6[..39], 0, true), None);
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

/// The variable set of session `s` (its tenant's), looked up once.
fn var_set_of(engine: &Engine, session: u32, st: &mut State) -> usize {
    let s = session as usize;
    if let Some(Some(v)) = st.var_sets.get(s) {
        return *v;
    }
    let v = st
        .sessions
        .get(s)
        .and_then(|c| c.as_ref())
        .map_or(0, |c| engine.var_set(&c.label.tenant));
    if st.var_sets.len() <= s && s < 1 << 20 {
        st.var_sets.resize(s + 1, None);
    }
    if let Some(slot) = st.var_sets.get_mut(s) {
        *slot = Some(v);
    }
    v
}

/// What an alert needs from the packet (or, at flow end, the flow).
#[derive(Clone, Copy)]
pub(crate) struct Here<'a> {
    pub key: &'a mirador_flow::key::FlowKey,
    pub ts: Timestamp,
    pub pcap_cnt: u64,
    pub ttl: u8,
    pub tcp_flags: Option<u8>,
    pub icmp: Option<(u8, u8)>,
    pub linktype: u16,
    /// The packet's protocol where it is not the flow's (an ICMP error in
    /// the flow it quotes).
    pub packet_proto: Option<u8>,
    /// The flow's application layer, and the transaction a rule matched.
    pub app: Option<crate::record::AppInfo<'a>>,
}

impl<'a> Here<'a> {
    /// For what happens when flow `key` ends at `ts`: no packet.
    fn at_flow_end(key: &'a mirador_flow::key::FlowKey, ts: Timestamp) -> Here<'a> {
        Here {
            key,
            ts,
            pcap_cnt: 0,
            ttl: 0,
            tcp_flags: None,
            icmp: None,
            linktype: crate::LINKTYPE_ETHERNET,
            packet_proto: None,
            app: None,
        }
    }

    fn of(m: &'a Meta) -> Here<'a> {
        Here {
            key: &m.key,
            ts: m.ts,
            pcap_cnt: m.pcap_cnt,
            ttl: m.ttl,
            tcp_flags: m.tcp_flags,
            icmp: m.icmp,
            linktype: m.linktype,
            packet_proto: None,
            app: None,
        }
    }
}

/// Whose packet an alert is of: its flow (`None`: a flowless packet), and
/// the session and mirror encapsulation it is labelled with.
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub flow: Option<&'a Flow>,
    pub session: u32,
    pub mirror: Option<&'a mirador_wire::Mirror>,
}

impl<'a> Owner<'a> {
    fn of(flow: &'a Flow, user: &'a FlowUser) -> Owner<'a> {
        Owner {
            flow: Some(flow),
            session: user.session,
            mirror: user.mirror.as_ref(),
        }
    }
}

/// The flow an ICMP error was attached to, as [`detect_own`] needs it.
struct OwnFlow<'a> {
    flow: &'a Flow,
    user: &'a mut FlowUser,
    to_server: bool,
    established: bool,
}

/// The source and destination addresses of the IP header at `ip_off` in
/// `frame` (IPv6 when `v6`); `None` where the frame does not hold them.
fn own_addrs(frame: &[u8], ip_off: u16, v6: bool) -> Option<(IpAddr, IpAddr)> {
    let at = usize::from(ip_off);
    if v6 {
        let h: &[u8; 40] = frame.get(at..at + 40)?.try_into().ok()?;
        let src: [u8; 16] = h[8..24].try_into().ok()?;
        let dst: [u8; 16] = h[24..40].try_into().ok()?;
        Some((IpAddr::from(src), IpAddr::from(dst)))
    } else {
        let h: &[u8; 20] = frame.get(at..at + 20)?.try_into().ok()?;
        let src: [u8; 4] = h[12..16].try_into().ok()?;
        let dst: [u8; 4] = h[16..20].try_into().ok()?;
        Some((IpAddr::from(src), IpAddr::from(dst)))
    }
}

/// Matches a packet inspected on its own header rather than its flow key's
/// (an ICMP error, with or without the flow it quotes) against the packet
/// rules, as Suricata inspects it: `own` is its protocol and addresses
/// (no ports), its payload is the ICMP payload (the quoted packet), and
/// with a flow the `flow` keyword, flowbits and flowints are the flow's,
/// and IP-only rules run on the first packet of its direction; without
/// one, `flow` options other than `stateless` fail, flow actions do
/// nothing, and IP-only rules run on every packet (`detect.c`).
fn detect_own(
    shared: &WorkerShared,
    engine: &Engine,
    m: &Meta,
    frame: &[u8],
    own: (u8, IpAddr, IpAddr),
    mut flow: Option<OwnFlow<'_>>,
    st: &mut State,
) {
    let (ip_proto, src, dst) = own;
    let (p0, plen) = m.payload;
    let data = frame
        .get(p0 as usize..(p0 as usize).saturating_add(plen as usize))
        .unwrap_or(&[]);
    let mut names: [&str; 40] = [""; 40];
    let mut n = 0;
    for e in m.events.iter() {
        if n < names.len() {
            names[n] = e.as_str();
            n += 1;
        }
    }
    let session = flow.as_ref().map_or(m.session, |f| f.user.session);
    let (to_server, established, first_in_direction) = match &flow {
        Some(f) => {
            // The table has counted this packet already.
            let n = if f.to_server {
                f.flow.pkts_toserver
            } else {
                f.flow.pkts_toclient
            };
            (f.to_server, f.established, n == 1)
        }
        None => (false, false, true),
    };
    let input = Input {
        var_set: var_set_of(engine, session, st),
        view: PacketView {
            ip_proto,
            ttl: m.ttl,
            tcp_flags: None,
            icmp: m.icmp,
            icmp_echo: None,
            to_server,
            established,
            has_flow: flow.is_some(),
            stream: false,
            stream_size: None,
        },
        src,
        sport: 0,
        dst,
        dport: 0,
        data,
        events: &names[..n],
        reassembled: false,
        first_in_direction,
        skip: &[],
        app: None,
        proto_detect: false,
        no_payload: false,
    };
    st.matches.clear();
    let vars = flow.as_ref().map_or(&st.no_vars, |f| &f.user.vars);
    engine.matches(&input, false, vars, &mut st.scratch, &mut st.matches);
    let matches = std::mem::take(&mut st.matches);
    let here = Here {
        packet_proto: (ip_proto != m.key.proto).then_some(ip_proto),
        ..Here::of(m)
    };
    let src = Endpoint { addr: src, port: 0 };
    let dst = Endpoint { addr: dst, port: 0 };
    for &mt in &matches {
        let owner = match flow.as_mut() {
            Some(f) => {
                engine.apply_actions(mt, &mut f.user.vars);
                Owner::of(f.flow, f.user)
            }
            None => Owner {
                flow: None,
                session: m.session,
                mirror: m.mirror.as_ref(),
            },
        };
        emit_alert(
            shared, engine, mt, &here, owner, src, dst, to_server, false, data, frame, st,
        );
    }
    st.matches = matches;
}

/// Matches one packet against the packet rules; writes alerts.
#[allow(clippy::too_many_arguments)]
fn detect_packet(
    shared: &WorkerShared,
    engine: &Engine,
    m: &Meta,
    frame: &[u8],
    flow: &Flow,
    user: &mut FlowUser,
    to_server: bool,
    established: bool,
    reassembled: bool,
    events: &[&str],
    hold: bool,
    proto_detect: bool,
    st: &mut State,
) {
    let (p0, plen) = m.payload;
    let data = frame
        .get(p0 as usize..(p0 as usize).saturating_add(plen as usize))
        .unwrap_or(&[]);
    let (src, dst) = m.key.endpoints(m.dir);
    let mut names: [&str; 40] = [""; 40];
    let mut n = 0;
    for e in events
        .iter()
        .copied()
        .chain(m.events.iter().map(|e| e.as_str()))
    {
        if n < names.len() {
            names[n] = e;
            n += 1;
        }
    }
    let input = Input {
        var_set: var_set_of(engine, user.session, st),
        view: PacketView {
            ip_proto: m.key.proto,
            ttl: m.ttl,
            tcp_flags: m.tcp_flags,
            icmp: m.icmp,
            icmp_echo: m.icmp_echo,
            to_server,
            established,
            has_flow: true,
            stream: false,
            stream_size: stream_sizes(user),
        },
        src: src.addr,
        sport: src.port,
        dst: dst.addr,
        dport: dst.port,
        data,
        events: &names[..n],
        reassembled,
        first_in_direction: {
            // The table has counted this packet already.
            let n = if m.dir == flow.client_dir() {
                flow.pkts_toserver
            } else {
                flow.pkts_toclient
            };
            n == 1
        },
        skip: &[],
        app: user.app.as_ref().and_then(|a| a.proto()),
        proto_detect,
        no_payload: user
            .app
            .as_ref()
            .is_some_and(|a| a.no_payload_inspection(&shared.app)),
    };
    st.matches.clear();
    engine.matches(&input, false, &user.vars, &mut st.scratch, &mut st.matches);
    let matches = std::mem::take(&mut st.matches);
    for &mt in &matches {
        if hold && engine.signatures()[mt.sig as usize].inspect == Inspect::Both {
            st.held.push(mt);
            continue;
        }
        engine.apply_actions(mt, &mut user.vars);
        emit_packet_match(shared, engine, mt, m, frame, flow, user, to_server, st);
    }
    st.matches = matches;
}

/// Writes the alert of a match on packet `m`'s payload.
#[allow(clippy::too_many_arguments)]
fn emit_packet_match(
    shared: &WorkerShared,
    engine: &Engine,
    mt: Match,
    m: &Meta,
    frame: &[u8],
    flow: &Flow,
    user: &FlowUser,
    to_server: bool,
    st: &mut State,
) {
    let (p0, plen) = m.payload;
    let data = frame
        .get(p0 as usize..(p0 as usize).saturating_add(plen as usize))
        .unwrap_or(&[]);
    let (src, dst) = m.key.endpoints(m.dir);
    let here = Here {
        app: app_tx::app_info(user),
        ..Here::of(m)
    };
    emit_alert(
        shared,
        engine,
        mt,
        &here,
        Owner::of(flow, user),
        src,
        dst,
        to_server,
        false,
        data,
        frame,
        st,
    );
}

/// Stream bytes each side has sent so far (for `stream_size`).
fn stream_sizes(user: &FlowUser) -> Option<(u64, u64)> {
    let c = user.tcp.stream(0)?.next_seq_offset();
    let s = user.tcp.stream(1).map_or(0, |d| d.next_seq_offset());
    Some((c, s))
}

/// Delivers the streams' new chunks, matching the stream rules on each
/// data chunk together with the tail of what came before it (a content
/// that crosses the boundary matches; a match lying wholly in the tail,
/// already reported, does not count again). `pkt_dir` is the direction of
/// the packet being handled: a stream match there drops the held packet
/// match of the same rule, as Suricata inspects a packet-and-stream rule's
/// packet only when its stream did not match on that packet.
#[allow(clippy::too_many_arguments)]
fn deliver_detect(
    shared: &WorkerShared,
    engine: &Engine,
    here: &Here<'_>,
    client: Endpoint,
    server: Endpoint,
    flow: &Flow,
    user: &mut FlowUser,
    pkt_dir: Option<usize>,
    pkt_payload: &[u8],
    st: &mut State,
) {
    for d in 0..2 {
        loop {
            let mut window = std::mem::take(&mut st.window);
            window.clear();
            let tail_len;
            {
                let Some(chunk) = user.tcp.poll(d) else {
                    st.window = window;
                    break;
                };
                app_tx::feed_chunk(shared, &mut user.app, d, &chunk, server.port);
                let bytes = match chunk {
                    Chunk::Data { bytes, .. } => bytes,
                    Chunk::Gap { .. } => {
                        // Nothing spans a gap.
                        if let Some(t) = user.tails.as_mut() {
                            t.len[d] = 0;
                        }
                        st.window = window;
                        continue;
                    }
                };
                // Only while the protocol's transaction rules may still
                // need it (not after a TLS handshake).
                if user
                    .app
                    .as_ref()
                    .and_then(|a| a.proto().filter(|_| !a.settled()))
                    .is_some_and(|p| engine.has_tx_payload_rules(p))
                {
                    let raw = user.raw.get_or_insert_with(Box::default);
                    let r = &mut raw[d];
                    r.extend_from_slice(bytes);
                    // Trimmed back to the cap only past twice the cap, so
                    // that the move costs O(1) per byte, amortized.
                    if r.len() > 2 * crate::record::RAW_CAP {
                        r.drain(..r.len() - crate::record::RAW_CAP);
                    }
                }
                let tails = user.tails.get_or_insert_with(Box::default);
                tail_len = usize::from(tails.len[d]);
                window.extend_from_slice(&tails.buf[d][..tail_len]);
                window.extend_from_slice(bytes);
                keep_tail(tails, d, &window);
            }
            let (src, dst) = if d == 0 {
                (client, server)
            } else {
                (server, client)
            };
            let input = Input {
                var_set: var_set_of(engine, user.session, st),
                view: PacketView {
                    ip_proto: here.key.proto,
                    ttl: here.ttl,
                    tcp_flags: here.tcp_flags,
                    icmp: None,
                    icmp_echo: None,
                    to_server: d == 0,
                    established: user.tcp.state().is_established(),
                    has_flow: true,
                    stream: true,
                    stream_size: stream_sizes(user),
                },
                src: src.addr,
                sport: src.port,
                dst: dst.addr,
                dport: dst.port,
                data: &window,
                events: &[],
                reassembled: true,
                first_in_direction: false,
                skip: &[],
                app: user.app.as_ref().and_then(|a| a.proto()),
                proto_detect: false,
                no_payload: user
                    .app
                    .as_ref()
                    .is_some_and(|a| a.no_payload_inspection(&shared.app)),
            };
            st.matches.clear();
            engine.matches(&input, true, &user.vars, &mut st.scratch, &mut st.matches);
            let mut matches = std::mem::take(&mut st.matches);
            if tail_len > 0 && !matches.is_empty() {
                // Drop the matches the tail alone already gives, and match
                // again without them, so that their flow actions do not
                // reach the rules after them (rare: a match in the tail).
                let tail_input = Input {
                    data: &window[..tail_len],
                    ..input
                };
                let mut old = std::mem::take(&mut st.tail_matches);
                old.clear();
                engine.matches(&tail_input, true, &user.vars, &mut st.scratch, &mut old);
                if matches.iter().any(|m| old.contains(m)) {
                    matches.clear();
                    let again = Input {
                        skip: &old,
                        ..input
                    };
                    engine.matches(&again, true, &user.vars, &mut st.scratch, &mut matches);
                }
                st.tail_matches = old;
            }
            if pkt_dir == Some(d) && !st.held.is_empty() {
                st.held.retain(|h| !matches.contains(h));
            }
            let here_app = Here {
                app: app_tx::app_info(user),
                ..*here
            };
            for &mt in &matches {
                engine.apply_actions(mt, &mut user.vars);
                emit_alert(
                    shared,
                    engine,
                    mt,
                    &here_app,
                    Owner::of(flow, user),
                    src,
                    dst,
                    d == 0,
                    true,
                    &window,
                    &[],
                    st,
                );
            }
            st.matches = matches;
            st.window = window;
        }
    }
    // Suricata inspects a transaction's rules of one direction on the
    // packets of that direction, once the app layer has taken in what the
    // packet acknowledged.
    match pkt_dir {
        Some(d) => {
            // The recent stream bytes of the direction, else this packet's
            // payload.
            let raw = user
                .raw
                .as_mut()
                .map(|r| std::mem::take(&mut r[d]))
                .unwrap_or_default();
            let mut data = [&[][..], &[][..]];
            data[d] = if raw.is_empty() {
                pkt_payload
            } else {
                &raw[..]
            };
            app_tx::inspect_txs(
                shared,
                Some(engine),
                here,
                client,
                server,
                flow,
                user,
                Some(d),
                data,
                false,
                st,
            );
            if let Some(r) = user.raw.as_mut() {
                r[d] = raw;
            }
        }
        None => app_tx::close(shared, Some(engine), here, client, server, flow, user, st),
    }
}

fn keep_tail(t: &mut StreamTails, d: usize, window: &[u8]) {
    let keep = window.len().min(STREAM_TAIL);
    let from = window.len() - keep;
    t.buf[d][..keep].copy_from_slice(&window[from..]);
    t.len[d] = keep as u16;
}

/// One match for the host-keyed stage: a rule with `threshold`,
/// `detection_filter` or `xbits`, whose outcome depends on matches in other
/// flows.
#[derive(Debug)]
pub(crate) struct HostEvent {
    pub sig: u32,
    pub ts: Timestamp,
    pub src: std::net::IpAddr,
    pub dst: std::net::IpAddr,
    /// The rendered alert record (empty for `noalert`).
    pub record: Vec<u8>,
}

/// Writes the EVE alert of a match unless the rule is `noalert`; a rule
/// whose outcome depends on other flows goes to the host-keyed stage.
#[allow(clippy::too_many_arguments)]
fn emit_alert(
    shared: &WorkerShared,
    engine: &Engine,
    mt: Match,
    here: &Here<'_>,
    owner: Owner<'_>,
    src: Endpoint,
    dst: Endpoint,
    to_server: bool,
    stream: bool,
    data: &[u8],
    frame: &[u8],
    st: &mut State,
) {
    let sig = &engine.signatures()[mt.sig as usize];
    let host = sig.threshold.is_some() || sig.detection_filter.is_some() || !sig.xbits.is_empty();
    // `threshold.config` suppressions are per address, not per history:
    // decided here. A suppressed match still runs its xbits actions.
    let suppressed = sig.suppress.iter().any(|x| x.applies(src.addr, dst.addr));
    if suppressed && !sig.noalert {
        st.stats.suppressed += 1;
    }
    if (sig.noalert || suppressed) && !host {
        return;
    }
    let mut record = Vec::new();
    if !sig.noalert && !suppressed {
        let label = st
            .sessions
            .get(owner.session as usize)
            .and_then(|c| c.as_ref())
            .map(|c| &c.label);
        let opts = &shared.alert_options;
        let empty: &[(String, Vec<String>)] = &[];
        let out = if host { &mut record } else { &mut st.eve };
        alert_record(
            out,
            &AlertRecord {
                ts: here.ts,
                pcap_cnt: here.pcap_cnt,
                key: here.key,
                src,
                dst,
                icmp: here.icmp,
                packet_proto: here.packet_proto,
                to_server,
                flow: owner.flow.map(|f| {
                    let (client, server) = here.key.endpoints(f.client_dir());
                    (f, client, server)
                }),
                flowless: owner.flow.is_none(),
                stream,
                sig: AlertSignature {
                    action: "allowed",
                    gid: sig.gid,
                    sid: sig.sid,
                    rev: sig.rev,
                    msg: &sig.msg,
                    category: sig.category.as_deref(),
                    severity: sig.severity,
                    metadata: if opts.metadata { &sig.metadata } else { empty },
                    dest_is_target: sig.rule.target.map(|t| t == mirador_rules::Target::Dst),
                },
                mirror: owner.mirror.zip(label),
                seed: shared.seed,
                payload: (opts.payload || opts.payload_printable).then_some(data),
                packet: (opts.packet && !frame.is_empty()).then_some((frame, here.linktype)),
                app: here.app,
            },
        );
    }
    if host {
        let seq = st.host_seq;
        st.host_seq = st.host_seq.wrapping_add(1);
        st.host_events.push((
            (st.cur_cnt, seq, 0),
            HostEvent {
                sig: mt.sig,
                ts: here.ts,
                src: src.addr,
                dst: dst.addr,
                record,
            },
        ));
    } else {
        st.records += 1;
        st.stats.alerts += 1;
        let slot = st.alert_slots.get(mt.sig as usize).copied().unwrap_or(0);
        if let Some(n) = st.alerts_by.get_mut(usize::from(slot)) {
            *n += 1;
            st.alerts_dirty = true;
        }
    }
}

/// A detector event of this worker, in its order (the packet being
/// processed, then a sequence within it).
fn push_detector_event(
    st: &mut State,
    ts: Timestamp,
    tenant: u32,
    session: u32,
    kind: crate::detectors::OwnedKind,
) {
    let seq = st.det_seq;
    st.det_seq = st.det_seq.wrapping_add(1);
    st.det_events.push((
        (st.cur_cnt, seq, 0),
        crate::detectors::Owned {
            ts,
            tenant,
            session,
            kind,
        },
    ));
}

/// `HOME_NET` of a session's tenant, looked up once per session.
fn home_of<'s>(
    shared: &WorkerShared,
    st: &'s mut State,
    session: u32,
) -> &'s mut (Vec<ipnet::IpNet>, bool) {
    let i = session as usize;
    if st.det_sessions.len() <= i {
        st.det_sessions.resize(i + 1, None);
    }
    if st.det_sessions[i].is_none() {
        let tenant = st
            .sessions
            .get(i)
            .and_then(|c| c.as_ref())
            .map(|c| c.label.tenant.clone())
            .unwrap_or_default();
        let home = shared
            .detectors
            .as_ref()
            .map(|d| (d.home)(&tenant))
            .unwrap_or_default();
        st.det_sessions[i] = Some((home, false));
    }
    st.det_sessions[i].get_or_insert_with(|| (Vec::new(), false))
}

fn internal(home: &[ipnet::IpNet], a: IpAddr) -> bool {
    home.iter().any(|n| n.contains(&a))
}

/// What a packet of a flow tells the detectors: a new flow, a SYN-ACK, a
/// rejection, or the first packet of a session answering the other way.
fn flow_events(
    shared: &WorkerShared,
    m: &Meta,
    flow: &Flow,
    user: &mut FlowUser,
    created: bool,
    to_server: bool,
    st: &mut State,
) {
    use crate::detectors::OwnedKind;
    use mirador_anomaly::EventKind;
    let (client, server) = m.key.endpoints(flow.client_dir());
    let flags = m.tcp_flags.unwrap_or(0);
    let (syn, ack, rst) = (flags & 0x02 != 0, flags & 0x10 != 0, flags & 0x04 != 0);
    let tenant = m.key.tenant;
    if created {
        let home = &home_of(shared, st, m.session).0;
        let internal = (internal(home, client.addr), internal(home, server.addr));
        let echo = matches!(
            (m.icmp, m.v6),
            (Some((8, _)), false) | (Some((128, _)), true)
        );
        let ports = m.key.proto == proto::TCP || m.key.proto == proto::UDP;
        push_detector_event(
            st,
            m.ts,
            tenant,
            m.session,
            OwnedKind::Plain(EventKind::FlowStart {
                src: client.addr,
                dst: server.addr,
                sport: if ports { client.port } else { 0 },
                dport: if ports { server.port } else { 0 },
                proto: m.key.proto,
                syn: m.key.proto == proto::TCP && syn && !ack,
                echo,
                internal,
            }),
        );
    }
    // The packet that makes the flow two-way (a flow picked up by a
    // SYN-ACK counts that packet as to-client: one direction only).
    let first_both = if to_server {
        flow.pkts_toserver == 1 && flow.pkts_toclient > 0
    } else {
        flow.pkts_toclient == 1 && flow.pkts_toserver > 0
    };
    if first_both {
        let reported = &mut home_of(shared, st, m.session).1;
        if !*reported {
            *reported = true;
            push_detector_event(st, m.ts, tenant, m.session, OwnedKind::BothWays);
        }
    }
    if m.key.proto != proto::TCP {
        return;
    }
    // The packet's own direction: a flow picked up by its SYN-ACK (the
    // SYN unseen: reflection, or a one-sided mirror) has the SYN-ACK's
    // sender as its "client".
    let (psrc, pdst) = m.key.endpoints(m.dir);
    let other_flags = if to_server {
        flow.tcp_flags_tc
    } else {
        flow.tcp_flags_ts
    };
    if syn && ack && !user.synack_reported {
        user.synack_reported = true;
        push_detector_event(
            st,
            m.ts,
            tenant,
            m.session,
            OwnedKind::Plain(EventKind::SynAck {
                src: psrc.addr,
                dst: pdst.addr,
                sport: psrc.port,
                dport: pdst.port,
                syn_seen: other_flags & 0x02 != 0,
            }),
        );
    }
    if rst && !to_server && !user.tcp.state().is_established() {
        push_detector_event(
            st,
            m.ts,
            tenant,
            m.session,
            OwnedKind::Plain(EventKind::Reject {
                src: psrc.addr,
                dst: pdst.addr,
                port: psrc.port,
            }),
        );
    }
}

/// A flow ended: its totals for the detectors.
fn flow_end_event(shared: &WorkerShared, e: &EndedFlow<FlowUser>, st: &mut State) {
    use mirador_anomaly::EventKind;
    let f = &e.flow;
    let (client, server) = e.key.endpoints(f.client_dir());
    let home = &home_of(shared, st, e.user.session).0;
    let internal = (internal(home, client.addr), internal(home, server.addr));
    let ports = e.key.proto == proto::TCP || e.key.proto == proto::UDP;
    let established = if e.key.proto == proto::TCP {
        f.tcp_flags_ts & 0x02 != 0 && f.tcp_flags_tc & 0x12 == 0x12 && f.pkts_toserver > 1
    } else {
        f.pkts_toclient > 0
    };
    push_detector_event(
        st,
        f.last_seen,
        e.key.tenant,
        e.user.session,
        crate::detectors::OwnedKind::Plain(EventKind::FlowEnd {
            src: client.addr,
            dst: server.addr,
            sport: if ports { client.port } else { 0 },
            dport: if ports { server.port } else { 0 },
            proto: e.key.proto,
            pkts_to_server: f.pkts_toserver,
            pkts_to_client: f.pkts_toclient,
            bytes_to_server: f.bytes_toserver,
            bytes_to_client: f.bytes_toclient,
            start: f.first_seen,
            established,
            internal,
        }),
    );
}
