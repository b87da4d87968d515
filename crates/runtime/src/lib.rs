//! mirador's threads and channels: the reader stage hands inspected packets
//! to flow workers, sharded by flow.
//!
//! * The **reader** (the caller's thread) runs the capture and
//!   [`mirador_engine::Ingest`]; for every inspected packet it calls
//!   [`Sharded::inspect`], which classifies the packet
//!   ([`mirador_flow::key::classify`]), picks the shard with the flow key's
//!   symmetric, run-independent hash, and copies what the worker needs into
//!   that shard's batch: the frame's bytes into the batch's arena plus a
//!   small fixed record ([`Meta`]).
//! * Batches of [`BATCH_PACKETS`] go to the workers over **bounded**
//!   crossbeam channels; a full channel blocks the reader (backpressure:
//!   replay never drops). Emptied batches come back over a return channel,
//!   so in steady state nothing is allocated per packet.
//! * **Time**: every packet carries the reader's watermark at the moment it
//!   was read (the latest packet time read so far), and every batch carries
//!   the watermark at the moment it was sent. A worker advances its flow
//!   table to a packet's watermark before applying the packet, so the table
//!   has seen exactly the same clock at each of its packets whatever the
//!   worker count or batching; idle shards get an empty batch with the
//!   watermark every [`HEARTBEAT_PACKETS`] packets read. Result: the same
//!   flows end, for the same reasons, with 1 or N workers (unless a table
//!   hits its cap, which is per worker).
//! * **Workers** are `std::thread`s, each owning a [`FlowTable`]. Ended
//!   flows become EVE `flow` records ([`flow_record`]) in the worker's own
//!   buffer, sent to the writer (the reader's thread, which drains them
//!   between packets with [`Sharded::drain`]) over an unbounded channel, so
//!   a worker never waits on the reader that may be waiting on it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod detectors;
mod host;
pub mod live;
pub mod ordered;
mod record;
pub mod telemetry;
mod worker;

pub use host::HostCounters;
pub use record::{
    AlertRecord, AlertSignature, FlowUser, StreamAnomaly, alert_record, flow_record, stream_anomaly,
};
pub use worker::{PolicyMap, StreamTotals};
use worker::{Worker, WorkerShared};

use std::collections::HashMap;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use mirador_engine::Ingest;
use mirador_engine::eve::SessionLabel;
use mirador_engine::sessions::SessionId;
use mirador_flow::defrag::{DefragConfig, Defragmenter, Verdict as DefragVerdict};
use mirador_flow::key::{Direction, FlowKey, PacketKey, classify};
use mirador_flow::table::{FlowTable, TableConfig, TableCounters};
use mirador_flow::tcp::{StreamBudget, TcpConfig, TcpCounters, segment_fields};
use mirador_wire::{Inner, Mirror, Network, Timestamp, Transport, linktype};

/// The flow-key tenant of tunnel-transport flows: sessions' tenants are
/// numbered from 0, so this one is never theirs.
const TUNNEL_TENANT: u32 = u32::MAX;
/// The session number of tunnel-transport packets (no mirror session).
pub(crate) const TUNNEL_SESSION: u32 = u32::MAX;
/// IP protocol number of GRE (ERSPAN's transport).
const GRE: u8 = 47;

/// Packets per batch.
pub const BATCH_PACKETS: usize = 64;
/// Batches queued per worker before the reader blocks.
pub const QUEUE_BATCHES: usize = 16;
/// Every this many packets read, partial batches are sent and idle shards
/// get the watermark.
pub const HEARTBEAT_PACKETS: u64 = 1024;

/// Runtime settings.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Worker threads (at least 1).
    pub workers: usize,
    /// Each worker's flow table.
    pub table: TableConfig,
    /// Community ID seed.
    pub community_id_seed: u16,
    /// IP defragmentation.
    pub defrag: DefragConfig,
    /// TCP sessions and reassembly.
    pub tcp: TcpConfig,
    /// Overlap policies of receiving hosts (`host-os-policy`).
    pub policies: PolicyMap,
    /// Each worker's stream memory (`max_sessions`, `max_bytes`).
    pub budget: StreamBudget,
    /// Write stream events as EVE `anomaly` records.
    pub stream_events: bool,
    /// Raise `stream.reassembly_overlap_different_data`
    /// (`stream.reassembly.check-overlap-different-data`).
    pub overlap_events: bool,
    /// VPC Flow Logs output, when enabled.
    pub vpc: Option<VpcSettings>,
    /// Flow records for the tunnel transport too (`outputs.eve.tunnel-flows`).
    pub tunnel_flows: bool,
    /// Signatures, when rules are loaded.
    pub detect: Option<std::sync::Arc<mirador_detect::engine::Engine>>,
    /// What alert records carry (`outputs.eve.alert`).
    pub alert_options: mirador_config::EveAlertOptions,
    /// The application-layer parsers.
    pub app: app::AppConfig,
    /// Live capture (`mirador run`): packet times are kernel receive times,
    /// and the workers measure their processing latency against them.
    pub live: bool,
    /// The anomaly detectors, when on.
    pub detectors: Option<detectors::DetectorSetup>,
    /// Tenants with settings of their own (`tenants`), numbered 0, 1, ...
    /// in this order before any other tenant is seen: per-tenant detector
    /// settings refer to these numbers.
    pub tenant_names: Vec<String>,
}

/// VPC Flow Logs settings (`outputs.vpc-flow-logs`).
#[derive(Debug, Clone)]
pub struct VpcSettings {
    /// The output section as configured.
    pub output: mirador_config::VpcFlowLogsOutput,
}

impl RuntimeConfig {
    /// Settings from the configuration, with `workers` resolved by the
    /// caller (0 is treated as 1).
    pub fn from_config(config: &mirador_config::Config, workers: usize) -> Self {
        let n = workers.max(1);
        // Suricata's caps are global; each worker owns an equal share, so
        // the whole process stays within them whatever the worker count.
        let share = |total: u64| (total / n as u64).max(1);
        let flow = &config.flow;
        let per_flow = FlowTable::<FlowUser>::bytes_per_flow() as u64;
        let total_flows = if flow.max_flows > 0 {
            flow.max_flows as u64
        } else {
            flow.memcap.bytes() / per_flow.max(1)
        };
        let stream = &config.stream;
        let d = &config.defrag;
        let policy = |name: &str| mirador_flow::reassembly::Policy::from_name(name);
        // Same names on both sides; an unknown one cannot pass the config's parser.
        let urgent_policy = |p: mirador_config::UrgentPolicy| {
            mirador_flow::reassembly::UrgentPolicy::from_name(p.as_str()).unwrap_or_default()
        };
        let defrag_policy = |name: &str| {
            mirador_flow::defrag::Policy::ALL
                .into_iter()
                .find(|p| p.as_str() == name)
        };
        RuntimeConfig {
            workers: n,
            table: TableConfig {
                max_flows: usize::try_from(share(total_flows)).unwrap_or(usize::MAX),
                memcap: usize::try_from(share(flow.memcap.bytes())).ok(),
                prealloc: flow.prealloc / n,
                emergency_recovery: flow.emergency_recovery,
                // Suricata reverses a flow whose first packet is a SYN-ACK
                // when either setting is on.
                midstream: stream.midstream || stream.async_oneside,
                timeouts: config.flow_timeouts,
            },
            community_id_seed: config.outputs.eve.community_id_seed,
            defrag: DefragConfig {
                policy_default: mirador_flow::defrag::Policy::Bsd,
                policies: config
                    .host_os_policy
                    .defrag_policies()
                    .into_iter()
                    .filter_map(|(net, p)| Some((net, defrag_policy(p.as_str())?)))
                    .collect(),
                timeout: std::time::Duration::from_secs(u64::from(d.timeout)),
                max_fragments_per_datagram: d.max_fragments_per_datagram,
                max_datagrams: d.trackers,
                max_fragments: d.max_frags,
                memcap: d.memcap.bytes(),
                ..DefragConfig::default()
            },
            tcp: TcpConfig {
                midstream: stream.midstream,
                async_oneside: stream.async_oneside,
                stream: mirador_flow::reassembly::StreamConfig {
                    inline: stream.inline,
                    depth: stream.reassembly.depth.bytes(),
                    max_buffered_bytes: stream.reassembly.max_buffered_per_direction.bytes(),
                    max_segments: stream.reassembly.max_segments_per_direction,
                    urgent: urgent_policy(stream.reassembly.urgent.policy),
                    urgent_oob_limit: urgent_policy(stream.reassembly.urgent.oob_limit_policy),
                    ..Default::default()
                },
            },
            policies: PolicyMap {
                default: mirador_flow::reassembly::Policy::Bsd,
                entries: config
                    .host_os_policy
                    .stream_policies()
                    .into_iter()
                    .filter_map(|(net, p)| Some((net, policy(p.as_str())?)))
                    .collect(),
            },
            budget: StreamBudget {
                max_sessions: share(stream.memcap.bytes())
                    / (mirador_flow::tcp::streams_size() as u64).max(1),
                max_bytes: share(stream.reassembly.memcap.bytes()),
                ..StreamBudget::default()
            },
            stream_events: true,
            overlap_events: stream.reassembly.check_overlap_different_data,
            vpc: config.outputs.vpc_flow_logs.enabled.then(|| VpcSettings {
                output: config.outputs.vpc_flow_logs.clone(),
            }),
            tunnel_flows: config.outputs.eve.tunnel_flows,
            detect: None,
            alert_options: config.outputs.eve.alert.clone(),
            app: app::AppConfig::from_config(&config.app_layer),
            live: false,
            detectors: None,
            tenant_names: config.tenants.keys().cloned().collect(),
        }
    }
}

/// What a packet is to its worker.
#[derive(Debug, Clone, Copy)]
pub enum MetaKind {
    /// A packet of flow `key` going in `dir`.
    Flow,
    /// An ICMPv4 destination unreachable quoting a packet of flow `key`:
    /// inspected as a packet of that flow if it exists, else flowless; it
    /// never creates a flow. `ip_off` is where its own IP header starts in
    /// the frame (its addresses are read from there: `key` holds the
    /// quoted flow's).
    IcmpError {
        /// Offset of the error's IP header in the frame.
        ip_off: u16,
    },
    /// A packet inspected without a flow (an ICMPv4 error naming no flow):
    /// `key` is its own, ports 0; no flow is looked up or created.
    Flowless,
    /// Another source's fuller copy of a packet already applied: its TCP
    /// bytes may fill what truncation cut; it is not counted again.
    Filler,
}

/// The TCP fields of a packet.
#[derive(Debug, Clone, Copy)]
pub struct TcpMeta {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Window-scale shift of a SYN with the option.
    pub wscale: Option<u8>,
    /// Offset of the payload in the frame.
    pub payload_off: u32,
    /// Captured payload bytes.
    pub payload_len: u32,
    /// Payload bytes declared but not captured.
    pub missing: u32,
    /// The urgent pointer (0 without URG).
    pub urgent: u16,
}

/// pcap linktypes of the frames a batch holds: the inner frame from its
/// Ethernet header, or from its IP header where it has no L2 (raw-IP
/// captures, GENEVE/GRE carrying IP, rebuilt datagrams).
pub const LINKTYPE_ETHERNET: u16 = 1;
/// See [`LINKTYPE_ETHERNET`].
pub const LINKTYPE_IPV4: u16 = 228;
/// See [`LINKTYPE_ETHERNET`].
pub const LINKTYPE_IPV6: u16 = 229;

/// The fixed part of one packet in a batch.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// Packet time.
    pub ts: Timestamp,
    /// The reader's watermark when the packet was read.
    pub watermark: Timestamp,
    /// Flow key.
    pub key: FlowKey,
    /// Direction relative to the key.
    pub dir: Direction,
    /// How the key applies.
    pub kind: MetaKind,
    /// Offset of the frame's bytes in the batch arena.
    pub offset: u32,
    /// Captured length of the inner frame.
    pub len: u32,
    /// The IP packet's declared length (header included), as VPC Flow Logs
    /// count bytes.
    pub ip_len: u32,
    /// TCP flags, for TCP packets with a header.
    pub tcp_flags: Option<u8>,
    /// TCP sequence fields and payload position.
    pub tcp: Option<TcpMeta>,
    /// Where the L4 payload lies in the frame (all protocols), and its
    /// captured length.
    pub payload: (u32, u32),
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv6.
    pub v6: bool,
    /// The pcap linktype that describes the frame's bytes (alerts'
    /// `packet_info.linktype`): Ethernet, or IPv4/IPv6 where the frame
    /// starts at the IP header.
    pub linktype: u16,
    /// ICMP echo id and sequence (echo requests and replies).
    pub icmp_echo: Option<(u16, u16)>,
    /// Non-fatal decoder events of the packet.
    pub events: mirador_wire::EventSet,
    /// ICMP type and code, for ICMP packets.
    pub icmp: Option<(u8, u8)>,
    /// The session (index into the worker's labels).
    pub session: u32,
    /// 1-based packet number in the input.
    pub pcap_cnt: u64,
    /// The mirror encapsulation.
    pub mirror: Option<Mirror>,
}

/// What a worker knows of a mirror session.
#[derive(Debug, Clone)]
pub struct SessionCtx {
    /// EVE `mirror` labels.
    pub label: SessionLabel,
    /// VPC Flow Logs facts, when that output is on.
    pub vpc: Option<Box<VpcSession>>,
}

/// A session's facts for VPC Flow Logs records.
#[derive(Debug, Clone)]
pub struct VpcSession {
    /// Account, interface, VPC, ... of the session's records.
    pub facts: mirador_engine::vpcflow::SessionFacts,
    /// The declared session (its ENI addresses give the flow direction).
    pub declared: Option<mirador_config::Session>,
}

/// A batch of packets for one worker.
#[derive(Debug, Default)]
pub struct Batch {
    /// The reader's watermark when the batch was sent.
    pub watermark: Timestamp,
    /// Packets read when the batch was sent: every packet of this shard
    /// numbered up to it is in this batch or an earlier one.
    pub read_upto: u64,
    /// Frame bytes of the packets, back to back.
    pub arena: Vec<u8>,
    /// One entry per packet.
    pub packets: Vec<Meta>,
    /// Sessions the worker has not been sent yet.
    pub labels: Vec<(u32, SessionCtx)>,
    /// An instruction for the worker, acted on after the batch's packets.
    pub control: Option<Control>,
}

/// An instruction the reader sends a worker in band, after every packet
/// read before it.
pub enum Control {
    /// Switch to another rule set (a reload), answered with
    /// `ToWriter::Reloaded`.
    Reload {
        /// The new signatures.
        detect: Option<std::sync::Arc<mirador_detect::engine::Engine>>,
        /// The application-layer settings that go with them.
        app: app::AppConfig,
        /// The new generation.
        generation: u32,
    },
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Reload { generation, .. } => f
                .debug_struct("Reload")
                .field("generation", generation)
                .finish_non_exhaustive(),
        }
    }
}

impl Batch {
    fn new() -> Self {
        Batch {
            watermark: Timestamp::default(),
            read_upto: 0,
            arena: Vec::with_capacity(BATCH_PACKETS * 256),
            packets: Vec::with_capacity(BATCH_PACKETS),
            labels: Vec::new(),
            control: None,
        }
    }

    fn clear(&mut self) {
        self.arena.clear();
        self.packets.clear();
        self.labels.clear();
        self.control = None;
    }

    /// The frame bytes of packet `m`.
    pub fn frame(&self, m: &Meta) -> &[u8] {
        let start = m.offset as usize;
        self.arena.get(start..start + m.len as usize).unwrap_or(&[])
    }
}

/// One worker's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Packets it processed.
    pub packets: u64,
    /// Flows it created.
    pub flows: u64,
    /// Midstream flows it reversed on their first data (a response seen
    /// going to the "server").
    pub reversed: u64,
    /// Alerts it wrote.
    pub alerts: u64,
    /// Alerts dropped by `threshold.config` suppressions.
    pub suppressed: u64,
    /// VPC Flow Logs due-window entries dropped because their flow had
    /// ended (see the worker's purge).
    pub vpc_due_purged: u64,
    /// Its flow table's counters.
    pub table: TableCounters,
    /// TCP session counters.
    pub tcp: TcpCounters,
    /// Its stream memory at the end, with the drops at its caps.
    pub budget: StreamBudget,
    /// Stream totals of its ended TCP sessions.
    pub streams: StreamTotals,
    /// The same per mirror session (indexed by session id).
    pub sessions: Vec<StreamTotals>,
}

/// Every worker's counters, in worker order.
#[derive(Debug, Clone, Default)]
pub struct RuntimeStats {
    /// Per worker.
    pub workers: Vec<WorkerStats>,
    /// Packets with no flow (no IP layer: ARP, other L2).
    pub no_flow: u64,
    /// Whether a worker died (a bug); its flows are missing.
    pub worker_failed: bool,
    /// The reader side's defragmenter.
    pub defrag: mirador_flow::defrag::DefragCounters,
    /// The VPC Flow Logs writer, when enabled.
    pub vpc: Option<mirador_engine::vpcflow::WriterStats>,
    /// The first VPC Flow Logs write error (later records were still
    /// attempted).
    pub vpc_error: Option<String>,
    /// The host-keyed stage's counters.
    pub host: host::HostCounters,
    /// The anomaly detectors' counters, when they are on.
    pub detectors: Option<detectors::DetectorCounters>,
}

impl RuntimeStats {
    /// Table counters summed over the workers.
    pub fn flow_totals(&self) -> TableCounters {
        let mut t = TableCounters::default();
        for w in &self.workers {
            t.created += w.table.created;
            t.timeouts += w.table.timeouts;
            t.forced += w.table.forced;
            t.shutdown += w.table.shutdown;
            t.cap_hits += w.table.cap_hits;
            t.emergency_entered += w.table.emergency_entered;
            t.emergency_over += w.table.emergency_over;
            t.tcp_reuse += w.table.tcp_reuse;
        }
        t
    }

    /// Writes `flow`, `defrag`, `tcp`, `capture_loss` and `workers` into a
    /// `stats` object; `ingest`'s sessions name the per-session and
    /// per-tenant loss figures.
    pub fn write(&self, s: &mut mirador_engine::eve::Obj<'_>, ingest: &Ingest) {
        let t = self.flow_totals();
        s.obj("flow", |f| {
            f.u64("created", t.created)
                .u64("timeouts", t.timeouts)
                .u64("forced", t.forced)
                .u64("shutdown", t.shutdown)
                .u64("emergency", t.emergency_entered)
                .u64("cap_hits", t.cap_hits)
                .u64("no_flow", self.no_flow)
                .u64(
                    "midstream_reversed",
                    self.workers.iter().map(|w| w.reversed).sum(),
                );
        });
        let d = &self.defrag;
        s.obj("defrag", |o| {
            o.u64("fragments_ipv4", d.fragments_ipv4)
                .u64("fragments_ipv6", d.fragments_ipv6)
                .u64("reassembled", d.reassembled)
                .u64("timeouts", d.timeouts)
                .u64("overlaps", d.overlaps)
                .u64("overlap_different_data", d.overlap_different_data);
            o.obj("dropped", |x| {
                x.u64("too_many_fragments", d.dropped_too_many_fragments)
                    .u64("too_many_datagrams", d.dropped_too_many_datagrams)
                    .u64("memcap", d.dropped_memcap)
                    .u64("too_large", d.dropped_too_large)
                    .u64("invalid", d.dropped_invalid)
                    .u64("truncated", d.dropped_truncated);
            });
        });
        let (tcp, budget, streams) = self.tcp_totals();
        s.obj("tcp", |o| {
            o.u64("sessions", tcp.sessions)
                .u64("midstream_pickups", tcp.midstream_pickups)
                .u64("async_sessions", tcp.async_sessions)
                .u64("syn", tcp.syn)
                .u64("synack", tcp.synack)
                .u64("rst", tcp.rst)
                .u64("urg", tcp.urg)
                .u64("urgent_oob_data", streams.urgent_oob)
                .u64("pkt_out_of_window", tcp.out_of_window)
                .u64("ssn_memcap_drop", budget.session_drops)
                .u64(
                    "segment_memcap_drop",
                    budget.segment_drops + streams.dropped_segments,
                )
                .u64("reassembly_gap", streams.gaps)
                .u64("overlap", streams.overlaps)
                .u64("overlap_diff_data", streams.overlap_different_data)
                .u64("stream_depth_reached", streams.depth_reached)
                .u64("tcp_reuse", self.flow_totals().tcp_reuse);
            o.obj("reassembly", |r| {
                r.u64("streams", streams.streams)
                    .u64("bytes", streams.bytes)
                    .u64("gap_bytes", streams.gap_bytes)
                    .u64("truncated_bytes", streams.truncated_bytes)
                    .u64("retransmissions", streams.retransmissions)
                    .u64("out_of_window", streams.out_of_window);
            });
        });
        s.obj("capture_loss", |o| {
            write_loss(o, &streams);
            let mut tenants: std::collections::BTreeMap<&str, StreamTotals> = Default::default();
            o.obj("sessions", |ss| {
                for (id, sess) in ingest.sessions().iter().enumerate() {
                    let t = self.session_streams(id);
                    if t == StreamTotals::default() {
                        continue;
                    }
                    tenants
                        .entry(sess.spec.label.tenant.as_str())
                        .or_default()
                        .add(&t);
                    ss.obj(&sess.spec.display, |x| write_loss(x, &t));
                }
            });
            o.obj("tenants", |ts| {
                for (name, t) in &tenants {
                    ts.obj(name, |x| write_loss(x, t));
                }
            });
        });
        if let Some(v) = &self.vpc {
            s.obj("vpc_flow_logs", |o| {
                o.u64("records", v.records)
                    .u64("bytes", v.bytes)
                    .u64("files", v.files_opened)
                    .u64("closed_at_cap", v.closed_at_cap)
                    .u64(
                        "due_purged",
                        self.workers.iter().map(|w| w.vpc_due_purged).sum(),
                    )
                    .u64("errors", u64::from(self.vpc_error.is_some()));
            });
        }
        if let Some(d) = &self.detectors {
            s.obj("detectors", |o| {
                o.u64("detections", d.detections).u64("dropped", d.dropped);
                for (name, c) in &d.per_detector {
                    o.obj(name, |p| {
                        p.u64("events", c.events)
                            .u64("detections", c.detections)
                            .u64("evicted", c.evicted)
                            .u64("entries", c.entries);
                    });
                }
            });
        }
        s.obj("host_stage", |o| {
            o.u64("alerts", self.host.alerts)
                .u64("threshold_suppressed", self.host.suppressed)
                .u64("xbits_unmet", self.host.xbits_unmet)
                .u64("dropped", self.host.dropped);
        });
        s.objs("workers", self.workers.iter(), |o, w| {
            o.u64("packets", w.packets).u64("flows", w.flows);
        });
    }

    /// TCP counters, stream budgets and stream totals summed over the
    /// workers.
    pub fn tcp_totals(&self) -> (TcpCounters, StreamBudget, StreamTotals) {
        let mut c = TcpCounters::default();
        let mut b = StreamBudget::default();
        let mut t = StreamTotals::default();
        for w in &self.workers {
            c.sessions += w.tcp.sessions;
            c.midstream_pickups += w.tcp.midstream_pickups;
            c.async_sessions += w.tcp.async_sessions;
            c.syn += w.tcp.syn;
            c.synack += w.tcp.synack;
            c.rst += w.tcp.rst;
            c.urg += w.tcp.urg;
            c.out_of_window += w.tcp.out_of_window;
            b.session_drops += w.budget.session_drops;
            b.segment_drops += w.budget.segment_drops;
            t.add(&w.streams);
        }
        (c, b, t)
    }

    /// Stream totals of session `id`, summed over the workers.
    pub fn session_streams(&self, id: usize) -> StreamTotals {
        let mut t = StreamTotals::default();
        for w in &self.workers {
            if let Some(s) = w.sessions.get(id) {
                t.add(s);
            }
        }
        t
    }
}

/// The mirror-loss estimate of some streams, like Zeek's capture_loss:
/// bytes the receivers acknowledged (or that later data proves were sent)
/// which the sensor never saw, over those plus the bytes it saw.
pub fn write_loss(o: &mut mirador_engine::eve::Obj<'_>, t: &StreamTotals) {
    o.u64("bytes_seen", t.bytes)
        .u64("bytes_lost", t.lost_bytes)
        .u64("gaps", t.gaps);
    if let Some(p) = t.percent_lost() {
        o.f64("percent_lost", p, 2);
    }
}

enum ToWriter {
    Eve(Vec<u8>, u64),
    /// Matches for the host-keyed stage from one worker, in its order, and
    /// the packet number it has finished.
    Host {
        worker: usize,
        events: Vec<(ordered::Key, worker::HostEvent)>,
        done: u64,
    },
    /// VPC Flow Logs records of one worker, and the watermark it has
    /// processed up to (every record of a window that ended by then was
    /// sent).
    Vpc {
        worker: usize,
        records: Vec<mirador_engine::vpcflow::Record>,
        watermark: Timestamp,
    },
    Done(usize, Box<WorkerStats>),
    /// A worker switched rule sets (after everything before the reload).
    Reloaded,
    /// Events for the anomaly detectors from one worker, in its order, and
    /// the packet number it has finished.
    Detect {
        worker: usize,
        events: Vec<(ordered::Key, detectors::Owned)>,
        done: u64,
    },
}

/// The reader's side of the sharded workers.
pub struct Sharded {
    senders: Vec<Sender<Batch>>,
    filling: Vec<Batch>,
    last_sent_wm: Vec<Option<Timestamp>>,
    spare: Receiver<Batch>,
    from_workers: Receiver<ToWriter>,
    bufs_back: Sender<Vec<u8>>,
    handles: Vec<JoinHandle<()>>,
    watermark: Option<Timestamp>,
    read: u64,
    tenants: HashMap<String, u32>,
    session_tenant: Vec<u32>,
    label_sent: Vec<Vec<bool>>,
    stats: RuntimeStats,
    failed: bool,
    /// IP defragmentation, before sharding (a datagram's fragments may
    /// belong to different flows' shards until reassembled).
    defrag: Defragmenter,
    /// The datagram being rebuilt (reused).
    reassembled: Vec<u8>,
    /// Anomaly records of the reader side, written at the next drain.
    pending: Vec<u8>,
    pending_records: u64,
    /// `outputs.vpc-flow-logs`, when enabled: the workers send records,
    /// written here (on the reader's thread) into rotating files.
    vpc_output: Option<mirador_config::VpcFlowLogsOutput>,
    vpc_writer: Option<mirador_engine::vpcflow::VpcFlowWriter>,
    vpc_error: Option<String>,
    /// Each worker's processed watermark, from its VPC messages.
    vpc_progress: Vec<Option<Timestamp>>,
    vpc_interval: u32,
    tunnel_flows: bool,
    /// Threshold, detection_filter and xbits, in the global order.
    host: Option<host::HostStage>,
    /// Counters of host stages replaced by reloads.
    host_before: host::HostCounters,
    /// What the workers publish.
    telemetry: std::sync::Arc<telemetry::Telemetry>,
    /// The rule-set generation.
    generation: u32,
    /// Workers that have not yet answered the pending reload.
    reload_waiting: usize,
    /// The anomaly detectors, when on.
    detectors: Option<detectors::DetectorStage>,
    /// Whether the detectors know each session yet.
    det_sessions: Vec<bool>,
    /// ARP events of the reader, in packet order.
    det_reader: Vec<(ordered::Key, detectors::Owned)>,
}

impl Sharded {
    /// Starts `cfg.workers` worker threads.
    pub fn start(cfg: &RuntimeConfig) -> std::io::Result<Sharded> {
        let n = cfg.workers.max(1);
        let (spare_tx, spare) = crossbeam_channel::unbounded();
        let (to_writer, from_workers) = crossbeam_channel::unbounded();
        let (bufs_back, bufs_rx) = crossbeam_channel::bounded::<Vec<u8>>(n * 4);
        let mut senders = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        let telemetry = std::sync::Arc::new(telemetry::Telemetry::new(n));
        for i in 0..n {
            let (tx, rx) = crossbeam_channel::bounded::<Batch>(QUEUE_BATCHES);
            let w = Worker {
                index: i,
                table: FlowTable::new(cfg.table),
                shared: WorkerShared {
                    tcp: cfg.tcp,
                    policies: cfg.policies.clone(),
                    budget: cfg.budget,
                    seed: cfg.community_id_seed,
                    stream_events: cfg.stream_events,
                    overlap_events: cfg.overlap_events,
                    detect: cfg.detect.clone(),
                    alert_options: cfg.alert_options.clone(),
                    app: {
                        let mut a = cfg.app.clone();
                        a.resolve(cfg.detect.as_deref());
                        a
                    },
                    vpc: cfg
                        .vpc
                        .as_ref()
                        .map(|v| (v.output.format.clone(), v.output.aggregation_interval)),
                    detectors: cfg.detectors.clone(),
                },
                rx,
                spare: spare_tx.clone(),
                out: to_writer.clone(),
                bufs: bufs_rx.clone(),
                telemetry: telemetry.workers[i].clone(),
                classes: telemetry.classes.clone(),
                generation: 0,
                live: cfg.live,
            };
            let h = std::thread::Builder::new()
                .name(format!("mirador-flow-{i}"))
                .spawn(move || w.run())?;
            senders.push(tx);
            handles.push(h);
        }
        Ok(Sharded {
            filling: (0..n).map(|_| Batch::new()).collect(),
            last_sent_wm: vec![None; n],
            senders,
            spare,
            from_workers,
            bufs_back,
            handles,
            watermark: None,
            read: 0,
            tenants: cfg
                .tenant_names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), u32::try_from(i).unwrap_or(u32::MAX - 1)))
                .collect(),
            session_tenant: Vec::new(),
            label_sent: Vec::new(),
            stats: RuntimeStats {
                workers: vec![WorkerStats::default(); n],
                ..Default::default()
            },
            failed: false,
            defrag: Defragmenter::new(cfg.defrag.clone()),
            reassembled: Vec::new(),
            pending: Vec::new(),
            pending_records: 0,
            vpc_output: cfg.vpc.as_ref().map(|v| v.output.clone()),
            vpc_writer: cfg.vpc.as_ref().map(|v| {
                mirador_engine::vpcflow::VpcFlowWriter::new(
                    mirador_engine::vpcflow::WriterOptions::from_config(&v.output),
                )
            }),
            vpc_error: None,
            tunnel_flows: cfg.tunnel_flows,
            host: cfg
                .detect
                .as_ref()
                .filter(|e| e.needs_host_stage())
                .map(|e| host::HostStage::new(e.clone(), n, &telemetry)),
            vpc_progress: vec![None; n],
            vpc_interval: cfg
                .vpc
                .as_ref()
                .map_or(60, |v| v.output.aggregation_interval),
            host_before: host::HostCounters::default(),
            telemetry,
            generation: 0,
            reload_waiting: 0,
            detectors: cfg
                .detectors
                .as_ref()
                .map(|d| detectors::DetectorStage::new(d, n, cfg.community_id_seed)),
            det_sessions: Vec::new(),
            det_reader: Vec::new(),
        })
    }

    /// Runs one captured frame through the reader stage (`ingest`) and
    /// hands what it decides to the workers: the body of replay's and the
    /// live pipeline's loops. Anomaly records go to `eve`; returns how many
    /// records were appended (the workers' finished ones included).
    pub fn process(
        &mut self,
        ingest: &mut Ingest,
        ts: Timestamp,
        linktype: u32,
        frame: &[u8],
        pcap_cnt: u64,
        eve: &mut Vec<u8>,
    ) -> u64 {
        let before = eve.len();
        let verdict = ingest.process(ts, linktype, frame, pcap_cnt, eve);
        let mut records = u64::from(eve.len() > before);
        self.observe(ts);
        if let Some(m) = ingest.last_mirror() {
            self.tunnel(ts, m, frame.len(), pcap_cnt);
        }
        match verdict {
            mirador_engine::Verdict::Inspect {
                session,
                mirror,
                packet,
            } => self.inspect(ingest, ts, session, mirror, &packet, pcap_cnt),
            mirador_engine::Verdict::Duplicate {
                session,
                mirror,
                packet,
                fuller: true,
            } => self.fill(ingest, ts, session, mirror, &packet, pcap_cnt),
            _ => {}
        }
        records += self.drain(eve);
        records
    }

    /// Whether a worker has died (a bug).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// What the workers publish for the metrics endpoint.
    pub fn telemetry(&self) -> std::sync::Arc<telemetry::Telemetry> {
        self.telemetry.clone()
    }

    /// Live capture's clock: moves the watermark to `now` (if later) and
    /// sends every shard its partial batch and the watermark, so that
    /// flows time out and records come out while traffic is quiet. Reads
    /// no packet.
    pub fn tick(&mut self, now: Timestamp) {
        self.watermark = Some(self.watermark.map_or(now, |w| w.max(now)));
        if let Some(w) = self.watermark {
            self.defrag.expire(w);
        }
        self.reader_progress();
        for shard in 0..self.senders.len() {
            if !self.filling[shard].packets.is_empty() || self.last_sent_wm[shard] != self.watermark
            {
                self.send(shard);
            }
        }
    }

    /// Switches every worker to a new rule set at this point of the
    /// packet stream: each worker gets the instruction after every packet
    /// handed over so far, and this call waits (appending the records that
    /// arrive meanwhile to `out`) until all have switched, so that no
    /// packet is inspected by a mix of rule sets and the host-keyed stage
    /// sees every match of the old set before it is replaced. Returns the
    /// records appended. Nothing is dropped: the reader simply does not
    /// read for that long (milliseconds: the queued batches).
    pub fn reload(
        &mut self,
        detect: Option<std::sync::Arc<mirador_detect::engine::Engine>>,
        app: app::AppConfig,
        out: &mut Vec<u8>,
    ) -> u64 {
        self.generation = self.generation.wrapping_add(1);
        for shard in 0..self.senders.len() {
            self.send(shard);
            self.filling[shard].control = Some(Control::Reload {
                detect: detect.clone(),
                app: app.clone(),
                generation: self.generation,
            });
            self.send(shard);
        }
        self.reload_waiting = if self.failed { 0 } else { self.senders.len() };
        let mut records = 0;
        while self.reload_waiting > 0 {
            match self.from_workers.recv() {
                Ok(msg) => records += self.take(msg, out),
                Err(_) => break,
            }
        }
        // Every old-rule match is in: apply them all, then start afresh.
        if let Some(mut h) = self.host.take() {
            for w in 0..self.senders.len() {
                records += h.finish(w, out);
            }
            self.host_before = self.host_before.plus(&h.counters);
        }
        self.host = detect
            .filter(|e| e.needs_host_stage())
            .map(|e| host::HostStage::new(e, self.senders.len(), &self.telemetry));
        records
    }

    /// The reader side's counters now, and the workers' latest published
    /// snapshots, for a periodic `stats` record.
    pub fn snapshot(&self) -> RuntimeStats {
        RuntimeStats {
            workers: self.telemetry.snapshots(),
            no_flow: self.stats.no_flow,
            worker_failed: self.failed,
            defrag: self.defrag.counters().clone(),
            vpc: self.vpc_writer.as_ref().map(|w| w.stats()),
            vpc_error: self.vpc_error.clone(),
            host: self
                .host
                .as_ref()
                .map_or(self.host_before, |h| self.host_before.plus(&h.counters)),
            detectors: self.detectors.as_ref().map(|d| d.counters()),
        }
    }

    /// Workers.
    pub fn workers(&self) -> usize {
        self.senders.len()
    }

    /// Records that a packet stamped `ts` was read (whatever its outcome):
    /// moves the watermark, and every [`HEARTBEAT_PACKETS`] packets sends
    /// partial batches and the watermark to idle shards.
    pub fn observe(&mut self, ts: Timestamp) {
        self.watermark = Some(self.watermark.map_or(ts, |w| w.max(ts)));
        self.read += 1;
        if self.read.is_multiple_of(HEARTBEAT_PACKETS) {
            if let Some(w) = self.watermark {
                self.defrag.expire(w);
            }
            self.reader_progress();
            for shard in 0..self.senders.len() {
                if !self.filling[shard].packets.is_empty()
                    || self.last_sent_wm[shard] != self.watermark
                {
                    self.send(shard);
                }
            }
        }
    }

    /// Hands an inspected packet to its flow's worker. Call [`observe`]
    /// for the packet first. Packets without an IP layer have no flow.
    ///
    /// [`observe`]: Sharded::observe
    pub fn inspect(
        &mut self,
        ingest: &Ingest,
        ts: Timestamp,
        session: SessionId,
        mirror: Option<Mirror>,
        packet: &Inner<'_>,
        pcap_cnt: u64,
    ) {
        if packet.fragment().is_some() {
            self.defragment(ingest, ts, session, mirror, packet, pcap_cnt);
        } else {
            self.inspect_whole(ingest, ts, session, mirror, packet, pcap_cnt, false);
        }
    }

    /// Counts a packet of the tunnel transport (the outer IP/UDP or GRE
    /// flow from the source ENI to the sensor) when
    /// `outputs.eve.tunnel-flows` is on: such flows get records of their
    /// own, under a tenant no session uses and without a `mirror` object.
    /// Call it for every packet read whose outer layers decoded, whatever
    /// became of the inner packet.
    pub fn tunnel(&mut self, ts: Timestamp, mirror: &Mirror, frame_len: usize, pcap_cnt: u64) {
        if !self.tunnel_flows {
            return;
        }
        let proto = if mirror.outer_dst_port == 0 && mirror.outer_src_port == 0 {
            GRE
        } else {
            mirador_flow::key::proto::UDP
        };
        let (key, dir) = FlowKey::new(
            TUNNEL_TENANT,
            mirador_wire::VlanIds::EMPTY,
            proto,
            0,
            mirador_flow::key::Endpoint {
                addr: mirror.outer_src,
                port: mirror.outer_src_port,
            },
            mirador_flow::key::Endpoint {
                addr: mirror.outer_dst,
                port: mirror.outer_dst_port,
            },
        );
        let shard = key.shard(self.senders.len());
        let len = u32::try_from(frame_len).unwrap_or(u32::MAX);
        let b = &mut self.filling[shard];
        b.packets.push(Meta {
            ts,
            watermark: self.watermark.unwrap_or(ts),
            key,
            dir,
            kind: MetaKind::Flow,
            offset: u32::try_from(b.arena.len()).unwrap_or(u32::MAX),
            len,
            // The outer IP packet: the frame less its Ethernet header.
            ip_len: len.saturating_sub(14),
            tcp_flags: None,
            tcp: None,
            payload: (0, 0),
            ttl: 0,
            v6: false,
            linktype: LINKTYPE_ETHERNET,
            icmp_echo: None,
            events: mirador_wire::EventSet::default(),
            icmp: None,
            session: TUNNEL_SESSION,
            pcap_cnt,
            mirror: None,
        });
        if b.packets.len() >= BATCH_PACKETS {
            self.send(shard);
        }
    }

    /// Hands over another source's copy of a packet already inspected
    /// (`filtered{duplicate}` by two-ENI dedup) that holds more bytes than
    /// the copy kept: its TCP payload can fill what truncation cut from the
    /// kept copy if reassembly has not delivered those bytes yet (after
    /// that, the kept copy's gap stands). It counts nowhere else.
    pub fn fill(
        &mut self,
        ingest: &Ingest,
        ts: Timestamp,
        session: SessionId,
        mirror: Option<Mirror>,
        packet: &Inner<'_>,
        pcap_cnt: u64,
    ) {
        if packet.fragment().is_none() {
            self.inspect_whole(ingest, ts, session, mirror, packet, pcap_cnt, true);
        }
    }

    /// Feeds a fragment to the defragmenter; a completed datagram is
    /// decoded afresh and handed on as one packet of the last fragment's
    /// session (with its VLAN ids). The fragments themselves were counted
    /// `inspected` by the reader stage; the rebuilt datagram is not a
    /// received packet, and is counted in `stats.defrag`.
    fn defragment(
        &mut self,
        ingest: &Ingest,
        ts: Timestamp,
        session: SessionId,
        mirror: Option<Mirror>,
        packet: &Inner<'_>,
        pcap_cnt: u64,
    ) {
        let tenant = self.tenant_of(ingest, session);
        let Some(ip) = mirador_flow::defrag::ip_packet(packet) else {
            self.stats.no_flow += 1;
            return;
        };
        let mut buf = std::mem::take(&mut self.reassembled);
        buf.clear();
        let outcome = self.defrag.push(ts, u64::from(tenant), ip, &mut buf);
        if outcome.overlap_different_data {
            self.write_overlap_anomaly(ingest, ts, session, mirror.as_ref(), packet, pcap_cnt);
        }
        if outcome.verdict == DefragVerdict::Reassembled {
            let d = mirador_wire::decode(linktype::RAW, &buf, &ingest.options().decode);
            if let Ok(mut whole) = d.outcome
                && whole.fragment().is_none()
            {
                whole.vlan = packet.vlan;
                self.inspect_whole(ingest, ts, session, mirror, &whole, pcap_cnt, false);
            }
        }
        self.reassembled = buf;
    }

    /// An EVE anomaly record for fragments that overlap with different
    /// data (Suricata's `ipv4.frag_overlap` / `ipv6.frag_overlap`).
    fn write_overlap_anomaly(
        &mut self,
        ingest: &Ingest,
        ts: Timestamp,
        session: SessionId,
        mirror: Option<&Mirror>,
        packet: &Inner<'_>,
        pcap_cnt: u64,
    ) {
        let event = match packet.network {
            Network::Ipv6 { .. } => "decoder.ipv6.frag_overlap",
            _ => "decoder.ipv4.frag_overlap",
        };
        let ft = packet.five_tuple();
        let label = &ingest.sessions().get(session).spec.label;
        mirador_engine::eve::write_decode_anomaly(
            &mut self.pending,
            &mirador_engine::eve::DecodeAnomaly {
                ts,
                pcap_cnt,
                addrs: ft.map(|t| (t.src, t.dst)),
                proto: ft.map(|t| t.proto),
                mirror: mirror.map(|m| (m, label)),
                linktype: None,
                event,
            },
        );
        self.pending_records += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn inspect_whole(
        &mut self,
        ingest: &Ingest,
        ts: Timestamp,
        session: SessionId,
        mirror: Option<Mirror>,
        packet: &Inner<'_>,
        pcap_cnt: u64,
        filler: bool,
    ) {
        let tenant = self.tenant_of(ingest, session);
        if self.detectors.is_some() && !filler {
            self.detector_session(ingest, session, mirror.as_ref());
        }
        let Some(pk) = classify(tenant, packet) else {
            self.stats.no_flow += u64::from(!filler);
            if !filler
                && self.detectors.is_some()
                && let Network::Arp { body } = packet.network
                && let Some((op, sender, target)) = arp_ipv4(body)
            {
                let seq = u32::try_from(self.det_reader.len()).unwrap_or(u32::MAX);
                let worker = u32::try_from(self.senders.len()).unwrap_or(u32::MAX);
                self.det_reader.push((
                    (pcap_cnt, seq, worker),
                    detectors::Owned {
                        ts,
                        tenant,
                        session: u32::try_from(session).unwrap_or(u32::MAX),
                        kind: detectors::OwnedKind::Plain(mirador_anomaly::EventKind::Arp {
                            sender,
                            target,
                            op,
                        }),
                    },
                ));
            }
            return;
        };
        let (key, dir, kind) = match pk {
            PacketKey::Flow { key, dir } if filler => (key, dir, MetaKind::Filler),
            PacketKey::Flow { key, dir } => (key, dir, MetaKind::Flow),
            PacketKey::IcmpError { .. } | PacketKey::Flowless { .. } if filler => return,
            PacketKey::IcmpError {
                quoted, quoted_dir, ..
            } => {
                let header = match packet.network {
                    Network::Ipv4 { header, .. } | Network::Ipv6 { header, .. } => header,
                    _ => &[][..],
                };
                // The header is a sub-slice of the frame: its offset, without
                // unsafe (an offset that does not fit reads no addresses).
                let off = (header.as_ptr() as usize).wrapping_sub(packet.frame.as_ptr() as usize);
                let ip_off = u16::try_from(off).unwrap_or(u16::MAX);
                (quoted, quoted_dir.reverse(), MetaKind::IcmpError { ip_off })
            }
            PacketKey::Flowless { key, dir } => (key, dir, MetaKind::Flowless),
        };
        let shard = key.shard(self.senders.len());
        let session_u32 = u32::try_from(session).unwrap_or(u32::MAX);
        // First packet of this session for this shard: send its label.
        if self.label_sent.len() <= session {
            self.label_sent.resize_with(session + 1, Vec::new);
        }
        let sent = &mut self.label_sent[session];
        if sent.is_empty() {
            sent.resize(self.senders.len(), false);
        }
        if !sent[shard] {
            sent[shard] = true;
            let spec = &ingest.sessions().get(session).spec;
            let vpc = self.vpc_output.as_ref().map(|out| {
                Box::new(VpcSession {
                    facts: match &spec.declared {
                        Some(d) => mirador_engine::vpcflow::SessionFacts::from_session(d, out),
                        None => mirador_engine::vpcflow::SessionFacts::defaults(out),
                    },
                    declared: spec.declared.clone(),
                })
            });
            self.filling[shard].labels.push((
                session_u32,
                SessionCtx {
                    label: spec.label.clone(),
                    vpc,
                },
            ));
        }
        let (tcp_flags, icmp) = match packet.transport {
            Transport::Tcp { flags, .. } => (Some(flags), None),
            Transport::Icmpv4 {
                icmp_type,
                icmp_code,
            }
            | Transport::Icmpv6 {
                icmp_type,
                icmp_code,
            } => (None, Some((icmp_type, icmp_code))),
            _ => (None, None),
        };
        let tcp = segment_fields(packet).map(|f| TcpMeta {
            seq: f.seq,
            ack: f.ack,
            window: f.window,
            wscale: f.wscale,
            payload_off: u32::try_from(f.payload_off).unwrap_or(u32::MAX),
            payload_len: u32::try_from(f.payload_len).unwrap_or(0),
            missing: f.missing,
            urgent: f.urgent,
        });
        if filler && tcp.is_none_or(|t| t.payload_len == 0) {
            return;
        }
        let (ip_len, ttl, v6) = match packet.network {
            Network::Ipv4 { total_len, ttl, .. } => (u32::from(total_len), ttl, false),
            Network::Ipv6 {
                payload_len,
                hop_limit,
                ..
            } => (u32::from(payload_len) + 40, hop_limit, true),
            _ => (0, 0, false),
        };
        // The payload is a sub-slice of the frame: its offset, without unsafe.
        let poff = (packet.payload.as_ptr() as usize).wrapping_sub(packet.frame.as_ptr() as usize);
        let mut payload =
            if poff <= packet.frame.len() && packet.frame.len() - poff >= packet.payload.len() {
                (
                    u32::try_from(poff).unwrap_or(0),
                    u32::try_from(packet.payload.len()).unwrap_or(0),
                )
            } else {
                (0, 0)
            };
        // Suricata's ICMPv6 payload of an error message starts after the
        // 8-byte header (`full_hdr` in decode-icmpv6.c): the quoted packet;
        // the decoder's starts after 4.
        if let Some((t, c)) = icmp
            && v6
            && icmpv6_error_full_header(t, c)
        {
            let skip = payload.1.min(4);
            payload = (payload.0 + skip, payload.1 - skip);
        }
        let icmp_echo = match (icmp, mirador_flow::key::icmp_message(packet)) {
            (Some((t, _)), Some(msg)) if matches!((v6, t), (false, 0 | 8) | (true, 128 | 129)) => {
                msg.get(4..8).map(|b| {
                    (
                        u16::from_be_bytes([b[0], b[1]]),
                        u16::from_be_bytes([b[2], b[3]]),
                    )
                })
            }
            _ => None,
        };
        let starts_at_ip = |h: &[u8]| std::ptr::eq(h.as_ptr(), packet.frame.as_ptr());
        let frame_linktype = match packet.network {
            Network::Ipv4 { header, .. } if starts_at_ip(header) => LINKTYPE_IPV4,
            Network::Ipv6 { header, .. } if starts_at_ip(header) => LINKTYPE_IPV6,
            _ => LINKTYPE_ETHERNET,
        };
        let b = &mut self.filling[shard];
        let offset = u32::try_from(b.arena.len()).unwrap_or(u32::MAX);
        b.arena.extend_from_slice(packet.frame);
        b.packets.push(Meta {
            ts,
            watermark: self.watermark.unwrap_or(ts),
            key,
            dir,
            kind,
            offset,
            len: u32::try_from(packet.frame.len()).unwrap_or(u32::MAX),
            ip_len,
            tcp_flags,
            tcp,
            payload,
            ttl,
            v6,
            linktype: frame_linktype,
            icmp_echo,
            events: packet.events,
            icmp,
            session: session_u32,
            pcap_cnt,
            mirror,
        });
        if b.packets.len() >= BATCH_PACKETS {
            self.send(shard);
        }
    }

    /// Tells the detectors about a session the first time it is seen.
    fn detector_session(&mut self, ingest: &Ingest, session: SessionId, mirror: Option<&Mirror>) {
        if self.det_sessions.get(session).copied().unwrap_or(false) {
            return;
        }
        if self.det_sessions.len() <= session {
            self.det_sessions.resize(session + 1, false);
        }
        self.det_sessions[session] = true;
        let label = ingest.sessions().get(session).spec.label.clone();
        let Some(stage) = self.detectors.as_mut() else {
            return;
        };
        let configured = stage.configured_bidirectional(&label);
        stage.session(
            u32::try_from(session).unwrap_or(u32::MAX),
            detectors::SessionInfo {
                label,
                mirror: mirror.copied(),
                // A tap or SPAN port (no encapsulation) sees both ways.
                bidirectional: configured || mirror.is_none(),
            },
        );
    }

    /// Hands the reader's ARP events and its progress to the detectors.
    fn reader_progress(&mut self) {
        if let Some(stage) = self.detectors.as_mut() {
            let events = std::mem::take(&mut self.det_reader);
            let n = self.senders.len();
            self.pending_records += stage.push(n, events, self.read, &mut self.pending);
        }
    }

    fn tenant_of(&mut self, ingest: &Ingest, session: SessionId) -> u32 {
        if let Some(&t) = self.session_tenant.get(session)
            && t != u32::MAX
        {
            return t;
        }
        let name = &ingest.sessions().get(session).spec.label.tenant;
        let next = u32::try_from(self.tenants.len()).unwrap_or(u32::MAX - 1);
        let t = *self.tenants.entry(name.clone()).or_insert(next);
        if self.session_tenant.len() <= session {
            self.session_tenant.resize(session + 1, u32::MAX);
        }
        self.session_tenant[session] = t;
        t
    }

    fn send(&mut self, shard: usize) {
        let fresh = match self.spare.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Batch::new(),
        };
        let mut batch = std::mem::replace(&mut self.filling[shard], fresh);
        if let Some(w) = self.watermark {
            batch.watermark = w;
        } else if let Some(m) = batch.packets.last() {
            batch.watermark = m.watermark;
        }
        self.last_sent_wm[shard] = self.watermark;
        batch.read_upto = self.read;
        if !self.failed && self.senders[shard].send(batch).is_err() {
            // The worker is gone (a bug): keep reading so that the
            // accounting stays complete, and report it at the end.
            self.failed = true;
        }
    }

    /// Appends the flow records the workers have finished so far to `out`
    /// (never blocks); returns how many records were appended.
    pub fn drain(&mut self, out: &mut Vec<u8>) -> u64 {
        let mut records = std::mem::take(&mut self.pending_records);
        out.extend_from_slice(&self.pending);
        self.pending.clear();
        while let Ok(msg) = self.from_workers.try_recv() {
            records += self.take(msg, out);
        }
        records
    }

    /// Sends the last batches, waits for the workers to shut their tables
    /// down, and hands every remaining record to `sink`, in chunks. Returns
    /// the counters and the number of records handed over.
    pub fn finish(
        mut self,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<(RuntimeStats, u64)> {
        self.reader_progress();
        // The reader's index in the detector stage, before the senders go.
        let reader = self.senders.len();
        for shard in 0..self.senders.len() {
            self.send(shard);
        }
        self.senders.clear();
        // What the reader side still holds (anomalies, detections).
        let mut records = std::mem::take(&mut self.pending_records);
        let mut chunk = std::mem::take(&mut self.pending);
        let mut result = Ok(());
        if !chunk.is_empty() {
            result = sink(&chunk);
            chunk.clear();
        }
        while let Ok(msg) = self.from_workers.recv() {
            records += self.take(msg, &mut chunk);
            if !chunk.is_empty() {
                if result.is_ok() {
                    result = sink(&chunk);
                }
                chunk.clear();
            }
        }
        for h in self.handles.drain(..) {
            if h.join().is_err() {
                self.failed = true;
            }
        }
        // The reader's own events, then every detector window closes at
        // the last packet time.
        if let Some(mut d) = self.detectors.take() {
            let events = std::mem::take(&mut self.det_reader);
            records += d.push(reader, events, self.read, &mut chunk);
            records += d.finish(reader, &mut chunk);
            if let Some(w) = self.watermark {
                records += d.close(w, &mut chunk);
            }
            self.stats.detectors = Some(d.counters());
            if !chunk.is_empty() {
                if result.is_ok() {
                    result = sink(&chunk);
                }
                chunk.clear();
            }
        }
        result?;
        if let Some(mut w) = self.vpc_writer.take() {
            match w.finish() {
                Ok(st) => self.stats.vpc = Some(st),
                Err(e) => {
                    self.stats.vpc = Some(w.stats());
                    self.vpc_error.get_or_insert(e.to_string());
                }
            }
        }
        self.stats.vpc_error = self.vpc_error.take();
        self.stats.host = self
            .host
            .as_ref()
            .map_or(self.host_before, |h| self.host_before.plus(&h.counters));
        self.stats.worker_failed = self.failed;
        self.stats.defrag = self.defrag.counters().clone();
        Ok((self.stats, records))
    }

    fn take(&mut self, msg: ToWriter, out: &mut Vec<u8>) -> u64 {
        match msg {
            ToWriter::Eve(mut buf, n) => {
                out.extend_from_slice(&buf);
                buf.clear();
                let _ = self.bufs_back.try_send(buf);
                n
            }
            ToWriter::Vpc {
                worker,
                records,
                watermark,
            } => {
                if let Some(w) = self.vpc_writer.as_mut() {
                    for r in &records {
                        if let Err(e) = w.write(r)
                            && self.vpc_error.is_none()
                        {
                            self.vpc_error = Some(e.to_string());
                        }
                    }
                    if let Some(p) = self.vpc_progress.get_mut(worker) {
                        *p = Some(p.map_or(watermark, |q| q.max(watermark)));
                    }
                    // Every worker has passed `done`: a file whose window
                    // ended an aggregation interval before it is complete
                    // (a record lands in the file of its last packet's
                    // time, and is sent once its aggregation window ends).
                    let done = self.vpc_progress.iter().copied().min().flatten();
                    if let Some(done) = done {
                        let lag = i64::from(self.vpc_interval) * 1_000_000_000;
                        let upto = Timestamp::from_nanos(done.as_nanos().saturating_sub(lag));
                        if let Err(e) = w.close_ended(upto)
                            && self.vpc_error.is_none()
                        {
                            self.vpc_error = Some(e.to_string());
                        }
                    }
                }
                0
            }
            ToWriter::Host {
                worker,
                events,
                done,
            } => match self.host.as_mut() {
                Some(h) => h.push(worker, events, done, out),
                None => 0,
            },
            ToWriter::Detect {
                worker,
                events,
                done,
            } => match self.detectors.as_mut() {
                Some(d) => d.push(worker, events, done, out),
                None => 0,
            },
            ToWriter::Reloaded => {
                self.reload_waiting = self.reload_waiting.saturating_sub(1);
                0
            }
            ToWriter::Done(i, s) => {
                let mut n = 0;
                if let Some(h) = self.host.as_mut() {
                    n = h.finish(i, out);
                }
                if let Some(d) = self.detectors.as_mut() {
                    n += d.finish(i, out);
                }
                if let Some(w) = self.stats.workers.get_mut(i) {
                    *w = *s;
                }
                n
            }
        }
    }
}

/// Writes a `stats` record: the reader stage's counters (`ingest`), the
/// workers' (`rt`), and Suricata's `stats.detect` layout with the rule
/// counts.
pub fn write_stats_record(
    out: &mut Vec<u8>,
    ts: Timestamp,
    uptime_secs: u64,
    ingest: &Ingest,
    rt: &RuntimeStats,
    rules: (u64, u64),
    capture: Option<(u64, u64)>,
) {
    mirador_engine::write_stats_record_with(out, ts, uptime_secs, ingest, |s| {
        // Suricata's `stats.capture` of its live capture methods: what the
        // sockets received and what the kernel dropped before that.
        if let Some((packets, drops)) = capture {
            s.obj("capture", |c| {
                c.u64("kernel_packets", packets)
                    .u64("kernel_drops", drops)
                    .u64("errors", 0);
            });
        }
        rt.write(s, ingest);
        let (loaded, failed) = rules;
        s.obj("detect", |d| {
            d.objs("engines", std::iter::once(()), |e, _| {
                e.u64("id", 0)
                    .u64("rules_loaded", loaded)
                    .u64("rules_failed", failed);
            })
            .u64(
                "alert",
                rt.workers.iter().map(|w| w.alerts).sum::<u64>() + rt.host.alerts,
            )
            .u64(
                "alerts_suppressed",
                rt.workers.iter().map(|w| w.suppressed).sum::<u64>() + rt.host.suppressed,
            );
        });
    });
}

/// An ARP packet over Ethernet and IPv4: (op, sender, target) protocol
/// addresses; `None` for other hardware or protocol types and for a body
/// cut short.
fn arp_ipv4(body: &[u8]) -> Option<(u16, std::net::IpAddr, std::net::IpAddr)> {
    let b = body.get(..28)?;
    // htype 1 (Ethernet), ptype 0x0800 (IPv4), hlen 6, plen 4.
    if b[..6] != [0, 1, 8, 0, 6, 4] {
        return None;
    }
    let op = u16::from_be_bytes([b[6], b[7]]);
    let sender = std::net::Ipv4Addr::new(b[14], b[15], b[16], b[17]);
    let target = std::net::Ipv4Addr::new(b[24], b[25], b[26], b[27]);
    Some((op, sender.into(), target.into()))
}

/// Whether Suricata decodes an ICMPv6 message of type `t`, code `c` as an
/// error with an 8-byte header (`decode-icmpv6.c`: destination unreachable
/// codes 0-6, packet too big 0, time exceeded 0-1, parameter problem 0-2);
/// an unknown code leaves it the 4-byte header.
fn icmpv6_error_full_header(t: u8, c: u8) -> bool {
    matches!((t, c), (1, 0..=6) | (2, 0) | (3, 0..=1) | (4, 0..=2))
}

#[cfg(test)]
mod tests {
    use super::icmpv6_error_full_header;

    #[test]
    fn icmpv6_errors_with_known_codes_have_an_8_byte_header() {
        for (t, c) in [(1, 0), (1, 6), (2, 0), (3, 1), (4, 2)] {
            assert!(icmpv6_error_full_header(t, c), "{t}/{c}");
        }
        for (t, c) in [(1, 7), (2, 1), (3, 2), (4, 3), (128, 0), (135, 0), (0, 0)] {
            assert!(!icmpv6_error_full_header(t, c), "{t}/{c}");
        }
    }
}
