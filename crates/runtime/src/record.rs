//! EVE `flow` records in Suricata's layout.

use mirador_engine::eve::{Obj, SessionLabel, mirror_object};
use mirador_flow::key::{Endpoint, FlowKey, proto};
use mirador_flow::table::{EndedFlow, TcpState};
use mirador_flow::tcp::TcpSession;
use mirador_wire::community_id::community_id_v1;
use mirador_wire::{Mirror, Timestamp};

/// What a worker keeps with each flow: from the flow's first packet, and
/// the TCP session.
#[derive(Debug, Default)]
pub struct FlowUser {
    /// The session of the first packet.
    pub session: u32,
    /// The mirror encapsulation of the first packet.
    pub mirror: Option<Mirror>,
    /// ICMP type and code of the first packet (ICMP flows).
    pub icmp: Option<(u8, u8)>,
    /// TCP session and streams (TCP flows).
    pub tcp: TcpSession,
    /// VPC Flow Logs aggregation windows per key direction (lo → hi,
    /// hi → lo), allocated only when that output is on.
    pub vpc: Option<Box<[mirador_engine::vpcflow::DirWindow; 2]>>,
    /// Signature state: flowbits and flowints.
    pub vars: mirador_detect::flowvars::FlowVars,
    /// The last bytes of each stream direction already inspected, so that
    /// a content crossing a chunk boundary matches (allocated at the first
    /// stream data when rules inspect streams).
    pub tails: Option<Box<StreamTails>>,
    /// The application layer: protocol detection, then the parser
    /// (allocated at the first payload).
    pub app: Option<Box<crate::app::AppFlow>>,
    /// The last [`RAW_CAP`] (to twice that) stream bytes of each direction, kept only when
    /// some transaction rule has payload keywords: Suricata inspects those
    /// on the raw stream when it inspects the transaction, and a rule may
    /// wait for later data (a body) while the bytes it needs go by.
    pub raw: Option<Box<[Vec<u8>; 2]>>,
    /// The rule-set generation its detection state belongs to (see
    /// [`FlowUser::rebase`]).
    pub generation: u32,
    /// Its SYN-ACK was reported to the anomaly detectors (once per flow:
    /// retransmitted SYN-ACKs would inflate reflection counts).
    pub synack_reported: bool,
}

impl FlowUser {
    /// Moves a flow that began under an earlier rule set onto generation
    /// `generation`: its flowbits and flowints, and its transactions'
    /// inspection progress, name rules of the old set, so they are
    /// dropped. Transactions already under way are not inspected by the
    /// new rules (they would otherwise alert on data they saw only part
    /// of); later transactions and all stream and packet data are.
    pub fn rebase(&mut self, generation: u32) {
        self.generation = generation;
        self.vars = Default::default();
        if let Some(app) = self.app.as_deref_mut() {
            for t in app.txs.iter_mut() {
                t.det = Default::default();
                t.done = [true, true];
                t.frozen = true;
            }
        }
    }
}

/// Bytes of each direction kept in [`FlowUser::raw`].
pub const RAW_CAP: usize = 32 << 10;

/// Bytes kept from each stream direction (client → server first).
pub const STREAM_TAIL: usize = 256;

/// The inspected tails of a flow's two stream directions.
#[derive(Debug, Clone)]
pub struct StreamTails {
    /// The bytes.
    pub buf: [[u8; STREAM_TAIL]; 2],
    /// How many are valid.
    pub len: [u16; 2],
}

impl Default for StreamTails {
    fn default() -> Self {
        StreamTails {
            buf: [[0; STREAM_TAIL]; 2],
            len: [0; 2],
        }
    }
}

/// Suricata's flow id is a 48-bit number; ours is the key's stable hash,
/// so it is the same for every run and worker count.
const FLOW_ID_MASK: u64 = 0xffff_ffff_ffff;

fn tcp_state_name(s: TcpState) -> &'static str {
    match s {
        TcpState::None => "none",
        TcpState::SynSent => "syn_sent",
        TcpState::SynRecv => "syn_recv",
        TcpState::Established => "established",
        TcpState::Closing => "closing",
        TcpState::Closed => "closed",
    }
}

/// Appends the EVE `flow` record of an ended flow (one line) to `out`.
/// `label` is the session of the flow's first packet (for the `mirror`
/// object); `seed` the Community ID seed.
pub fn flow_record(
    out: &mut Vec<u8>,
    e: &EndedFlow<FlowUser>,
    label: Option<&SessionLabel>,
    seed: u16,
) {
    let f = &e.flow;
    let key = &e.key;
    let (client, server) = key.endpoints(f.client_dir());
    let p = key.proto;
    let icmp = p == proto::ICMP || p == proto::ICMPV6;
    let ports = matches!(p, proto::TCP | proto::UDP | proto::SCTP);
    let mut o = Obj::new(out);
    o.ts("timestamp", f.last_seen)
        .u64("flow_id", key.stable_hash() & FLOW_ID_MASK)
        .str("event_type", "flow");
    if !key.vlan.is_empty() {
        o.u64s("vlan", key.vlan.as_slice().iter().map(|v| u64::from(*v)));
    }
    o.ip("src_ip", client.addr);
    if ports {
        o.u64("src_port", u64::from(client.port));
    }
    o.ip("dest_ip", server.addr);
    if ports {
        o.u64("dest_port", u64::from(server.port));
    }
    o.proto("proto", p);
    let (itype, icode) = e.user.icmp.unwrap_or((key.icmp, 0));
    if icmp {
        o.u64("icmp_type", u64::from(itype))
            .u64("icmp_code", u64::from(icode));
    }
    let (sp, dp) = if icmp {
        (u16::from(itype), u16::from(icode))
    } else {
        (client.port, server.port)
    };
    let cid = community_id_v1(seed, client.addr, server.addr, p, sp, dp);
    o.str("community_id", cid.as_str());
    if let Some(app) = e.user.app.as_ref().and_then(|a| a.eve_name()) {
        o.str("app_proto", app);
    }
    o.obj("flow", |fo| {
        fo.u64("pkts_toserver", f.pkts_toserver)
            .u64("pkts_toclient", f.pkts_toclient)
            .u64("bytes_toserver", f.bytes_toserver)
            .u64("bytes_toclient", f.bytes_toclient)
            .ts("start", f.first_seen)
            .ts("end", f.last_seen)
            .u64("age", f.age_secs().max(0) as u64)
            .str("state", f.state().as_str())
            .str("reason", e.reason.as_str())
            .bool("alerted", false);
    });
    if p == proto::TCP {
        let all = f.tcp_flags_ts | f.tcp_flags_tc;
        o.obj("tcp", |t| {
            t.hex("tcp_flags", u64::from(all), 2)
                .hex("tcp_flags_ts", u64::from(f.tcp_flags_ts), 2)
                .hex("tcp_flags_tc", u64::from(f.tcp_flags_tc), 2);
            for (bit, name) in [
                (0x01, "fin"),
                (0x02, "syn"),
                (0x04, "rst"),
                (0x08, "psh"),
                (0x10, "ack"),
                (0x20, "urg"),
                (0x40, "ecn"),
                (0x80, "cwr"),
            ] {
                if all & bit != 0 {
                    t.bool(name, true);
                }
            }
            t.str("state", tcp_state_name(f.tcp_state));
            // Suricata's gap flags: a direction's stream had data missing.
            if e.user.tcp.had_gap(0) {
                t.bool("ts_gap", true);
            }
            if e.user.tcp.had_gap(1) {
                t.bool("tc_gap", true);
            }
            // Suricata writes these only when the urgent policy `oob` removed
            // bytes from a direction.
            for (dir, name) in [(0, "ts_urgent_oob_data"), (1, "tc_urgent_oob_data")] {
                let n = e.user.tcp.urgent_oob_bytes(dir);
                if n > 0 {
                    t.u64(name, u64::from(n));
                }
            }
        });
    }
    if let (Some(m), Some(l)) = (&e.user.mirror, label) {
        mirror_object(&mut o, m, l);
    }
    o.close();
    out.push(b'\n');
}

/// A protocol record (`http`, `tls`, `dns`), for [`app_record`].
pub struct AppRecord<'a> {
    /// The time of the packet that completed it.
    pub ts: Timestamp,
    /// That packet's number (0: at flow end).
    pub pcap_cnt: u64,
    /// The flow.
    pub key: &'a FlowKey,
    /// The record's source (Suricata writes HTTP and TLS records from the
    /// client's side, DNS records from the message's sender).
    pub src: Endpoint,
    /// Its destination.
    pub dst: Endpoint,
    /// The flow's client, for the Community ID.
    pub client: Endpoint,
    /// The flow's server.
    pub server: Endpoint,
    /// `http`, `tls` or `dns`: the event type and the object's name.
    pub event_type: &'static str,
    /// The transaction.
    pub tx_id: u64,
    /// The flow's mirror encapsulation and session.
    pub mirror: Option<(&'a Mirror, &'a SessionLabel)>,
    /// Community ID seed.
    pub seed: u16,
    /// Writes the object's members.
    pub write: &'a dyn Fn(&mut Obj<'_>),
}

/// Appends a protocol record in Suricata's layout to `out`.
pub fn app_record(out: &mut Vec<u8>, a: &AppRecord<'_>) {
    let p = a.key.proto;
    let mut o = Obj::new(out);
    o.ts("timestamp", a.ts)
        .u64("flow_id", a.key.stable_hash() & FLOW_ID_MASK);
    if a.pcap_cnt > 0 {
        o.u64("pcap_cnt", a.pcap_cnt);
    }
    o.str("event_type", a.event_type);
    if !a.key.vlan.is_empty() {
        o.u64s("vlan", a.key.vlan.as_slice().iter().map(|v| u64::from(*v)));
    }
    o.ip("src_ip", a.src.addr)
        .u64("src_port", u64::from(a.src.port))
        .ip("dest_ip", a.dst.addr)
        .u64("dest_port", u64::from(a.dst.port))
        .proto("proto", p)
        .str("pkt_src", if a.pcap_cnt > 0 { "wire/pcap" } else { "wire" })
        .u64("tx_id", a.tx_id);
    let cid = community_id_v1(
        a.seed,
        a.client.addr,
        a.server.addr,
        p,
        a.client.port,
        a.server.port,
    );
    o.str("community_id", cid.as_str());
    o.obj(a.event_type, |x| (a.write)(x));
    if let Some((m, l)) = a.mirror {
        mirror_object(&mut o, m, l);
    }
    o.close();
    out.push(b'\n');
}

/// A stream event on one packet, for [`stream_anomaly`].
#[derive(Debug, Clone, Copy)]
pub struct StreamAnomaly<'a> {
    /// Packet time.
    pub ts: Timestamp,
    /// 1-based packet number in the input.
    pub pcap_cnt: u64,
    /// The flow.
    pub key: &'a FlowKey,
    /// The packet's source.
    pub src: Endpoint,
    /// The packet's destination.
    pub dst: Endpoint,
    /// Suricata's event name, e.g. `stream.reassembly_seq_gap`.
    pub event: &'a str,
    /// The packet's mirror encapsulation and session.
    pub mirror: Option<(&'a Mirror, &'a SessionLabel)>,
}

/// Appends an EVE `anomaly` record of type `stream` (Suricata's layout).
pub fn stream_anomaly(out: &mut Vec<u8>, a: &StreamAnomaly<'_>) {
    let mut o = Obj::new(out);
    o.ts("timestamp", a.ts)
        .u64("flow_id", a.key.stable_hash() & FLOW_ID_MASK);
    if a.pcap_cnt > 0 {
        o.u64("pcap_cnt", a.pcap_cnt);
    }
    o.str("event_type", "anomaly");
    if !a.key.vlan.is_empty() {
        o.u64s("vlan", a.key.vlan.as_slice().iter().map(|v| u64::from(*v)));
    }
    o.ip("src_ip", a.src.addr)
        .u64("src_port", u64::from(a.src.port))
        .ip("dest_ip", a.dst.addr)
        .u64("dest_port", u64::from(a.dst.port))
        .proto("proto", a.key.proto)
        .str("pkt_src", if a.pcap_cnt > 0 { "wire/pcap" } else { "wire" });
    if let Some((m, l)) = a.mirror {
        mirror_object(&mut o, m, l);
    }
    o.obj("anomaly", |x| {
        x.str("type", "stream").str("event", a.event);
    });
    o.close();
    out.push(b'\n');
}

/// A signature's fields as an EVE `alert` object carries them.
#[derive(Debug, Clone, Copy)]
pub struct AlertSignature<'a> {
    /// `alert.action`: `allowed` for a passive sensor.
    pub action: &'a str,
    /// `gid`.
    pub gid: u32,
    /// `sid` (`alert.signature_id`).
    pub sid: u32,
    /// `rev`.
    pub rev: u32,
    /// `msg` (`alert.signature`).
    pub msg: &'a str,
    /// The classtype's description (`alert.category`), if any.
    pub category: Option<&'a str>,
    /// `priority`, or the classtype's (`alert.severity`; Suricata's default 3).
    pub severity: u8,
    /// `metadata`: keys with their values, in rule order.
    pub metadata: &'a [(String, Vec<String>)],
    /// `target:`: `Some(true)` when the destination is the target
    /// (`dest_ip`), `Some(false)` when the source is (`src_ip`); gives
    /// `alert.source` and `alert.target`.
    pub dest_is_target: Option<bool>,
}

/// One alert, for [`alert_record`].
#[derive(Debug, Clone, Copy)]
pub struct AlertRecord<'a> {
    /// Packet (or, for stream matches, delivering packet) time.
    pub ts: Timestamp,
    /// 1-based packet number in the input (0 when not known).
    pub pcap_cnt: u64,
    /// The flow.
    pub key: &'a FlowKey,
    /// The packet's source.
    pub src: Endpoint,
    /// The packet's destination.
    pub dst: Endpoint,
    /// ICMP type and code, for ICMP.
    pub icmp: Option<(u8, u8)>,
    /// The packet's protocol where it is not the flow's: an ICMP error in
    /// the flow it quotes. The record is the packet's (its `proto`, no
    /// ports, `icmp_type`/`icmp_code`) in that flow (its `flow_id` and
    /// Community ID), as Suricata writes it.
    pub packet_proto: Option<u8>,
    /// The packet went from client to server.
    pub to_server: bool,
    /// The flow's state: its counters and client/server endpoints.
    pub flow: Option<(&'a mirador_flow::table::Flow, Endpoint, Endpoint)>,
    /// The packet was inspected without a flow: Suricata then writes no
    /// `flow_id`, `community_id`, `direction` nor `flow` (`key` is the
    /// packet's own).
    pub flowless: bool,
    /// The match was on reassembled stream data.
    pub stream: bool,
    /// The signature.
    pub sig: AlertSignature<'a>,
    /// The packet's mirror encapsulation and session.
    pub mirror: Option<(&'a Mirror, &'a SessionLabel)>,
    /// Community ID seed.
    pub seed: u16,
    /// `payload`/`payload_printable` (what was inspected), when the config
    /// asks for them.
    pub payload: Option<&'a [u8]>,
    /// `packet` (the inner frame) and the pcap linktype describing its
    /// bytes, when the config asks for it.
    pub packet: Option<(&'a [u8], u16)>,
    /// The flow's application layer: `app_proto`, and for a transaction
    /// rule its `tx_id` and protocol object.
    pub app: Option<AppInfo<'a>>,
}

/// Writes the members of an EVE object.
pub type WriteObj<'a> = dyn Fn(&mut Obj<'_>) + 'a;

/// What an alert (or a protocol record) says of the application layer.
#[derive(Clone, Copy)]
pub struct AppInfo<'a> {
    /// EVE `app_proto`: the detected protocol, or `failed`.
    pub proto: &'static str,
    /// The transaction the rule matched on.
    pub tx_id: Option<u64>,
    /// The protocol object (`http`, `tls`, `dns`) and its writer.
    pub object: Option<(&'static str, &'a WriteObj<'a>)>,
}

impl std::fmt::Debug for AppInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppInfo")
            .field("proto", &self.proto)
            .field("tx_id", &self.tx_id)
            .field("object", &self.object.map(|(n, _)| n))
            .finish()
    }
}

/// Suricata's `payload_printable`: printable ASCII kept, others as `.`.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t' {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

/// Appends an EVE `alert` record (Suricata's layout) to `out`.
pub fn alert_record(out: &mut Vec<u8>, a: &AlertRecord<'_>) {
    use base64::Engine as _;
    // The packet's protocol decides the tuple's fields; the flow's, its
    // Community ID.
    let p = a.packet_proto.unwrap_or(a.key.proto);
    let ports = matches!(p, proto::TCP | proto::UDP | proto::SCTP);
    let icmp = p == proto::ICMP || p == proto::ICMPV6;
    let mut o = Obj::new(out);
    o.ts("timestamp", a.ts);
    if !a.flowless {
        o.u64("flow_id", a.key.stable_hash() & FLOW_ID_MASK);
    }
    if a.pcap_cnt > 0 {
        o.u64("pcap_cnt", a.pcap_cnt);
    }
    o.str("event_type", "alert");
    if !a.key.vlan.is_empty() {
        o.u64s("vlan", a.key.vlan.as_slice().iter().map(|v| u64::from(*v)));
    }
    o.ip("src_ip", a.src.addr);
    if ports {
        o.u64("src_port", u64::from(a.src.port));
    }
    o.ip("dest_ip", a.dst.addr);
    if ports {
        o.u64("dest_port", u64::from(a.dst.port));
    }
    o.proto("proto", p);
    if let (true, Some((t, c))) = (icmp, a.icmp) {
        o.u64("icmp_type", u64::from(t))
            .u64("icmp_code", u64::from(c));
    }
    // Suricata's names: a stream match found when the flow ended (no
    // packet of its own) is "stream (flow timeout)".
    let pkt_src = match (a.pcap_cnt, a.stream) {
        (0, true) => "stream (flow timeout)",
        (0, false) => "wire",
        _ => "wire/pcap",
    };
    o.str("pkt_src", pkt_src);
    if let Some(id) = a.app.and_then(|x| x.tx_id) {
        o.u64("tx_id", id);
    }
    if !a.flowless {
        // The Community ID of the flow, from its client's side.
        let (client, server) = match a.flow {
            Some((_, c, s)) => (c, s),
            None if a.to_server => (a.src, a.dst),
            None => (a.dst, a.src),
        };
        let fp = a.key.proto;
        let (sp, dp) = if a.packet_proto.is_some() {
            // An ICMP error in a TCP/UDP flow: the flow's ports.
            (client.port, server.port)
        } else if icmp {
            let (t, c) = a.icmp.unwrap_or((a.key.icmp, 0));
            (u16::from(t), u16::from(c))
        } else {
            (client.port, server.port)
        };
        let cid = community_id_v1(a.seed, client.addr, server.addr, fp, sp, dp);
        o.str("community_id", cid.as_str());
        o.str(
            "direction",
            if a.to_server {
                "to_server"
            } else {
                "to_client"
            },
        );
    }
    let s = &a.sig;
    o.obj("alert", |x| {
        x.str("action", s.action)
            .u64("gid", u64::from(s.gid))
            .u64("signature_id", u64::from(s.sid))
            .u64("rev", u64::from(s.rev))
            .str("signature", s.msg)
            .str("category", s.category.unwrap_or(""))
            .u64("severity", u64::from(s.severity));
        if !s.metadata.is_empty() {
            x.obj("metadata", |m| {
                for (k, vs) in s.metadata {
                    m.strs(k, vs.iter().map(String::as_str));
                }
            });
        }
        // Suricata's `AlertJsonSourceTarget`: the record's own source and
        // destination, swapped when the source is the target; no ports
        // for ICMP.
        if let Some(dest) = s.dest_is_target {
            let (from, to) = if dest { (a.src, a.dst) } else { (a.dst, a.src) };
            for (name, e) in [("source", from), ("target", to)] {
                x.obj(name, |t| {
                    t.ip("ip", e.addr);
                    if ports {
                        t.u64("port", u64::from(e.port));
                    }
                });
            }
        }
    });
    if let Some(app) = a.app {
        if let Some((name, write)) = app.object {
            o.obj(name, |x| write(x));
        }
        o.str("app_proto", app.proto);
    }
    if let Some((f, c, sv)) = a.flow {
        // Suricata's alert `flow` object takes its addresses from the
        // packet by direction (output-json-alert.c): for an ICMP error the
        // error's own addresses, without ports.
        let (c, sv) = match a.packet_proto {
            Some(_) if a.to_server => (a.src, a.dst),
            Some(_) => (a.dst, a.src),
            None => (c, sv),
        };
        o.obj("flow", |fo| {
            fo.u64("pkts_toserver", f.pkts_toserver)
                .u64("pkts_toclient", f.pkts_toclient)
                .u64("bytes_toserver", f.bytes_toserver)
                .u64("bytes_toclient", f.bytes_toclient)
                .ts("start", f.first_seen)
                .ip("src_ip", c.addr)
                .ip("dest_ip", sv.addr);
            if ports {
                fo.u64("src_port", u64::from(c.port))
                    .u64("dest_port", u64::from(sv.port));
            }
        });
    }
    // Suricata writes it on every alert: 1 for a stream match, else 0.
    o.u64("stream", u64::from(a.stream));
    if let Some(pl) = a.payload {
        o.str(
            "payload",
            &base64::engine::general_purpose::STANDARD.encode(pl),
        )
        .str("payload_printable", &printable(pl))
        .u64("payload_length", pl.len() as u64);
    }
    if let Some((pk, linktype)) = a.packet {
        o.str(
            "packet",
            &base64::engine::general_purpose::STANDARD.encode(pk),
        );
        // Suricata writes the packet's linktype with it, so that a reader
        // can decode the bytes.
        o.obj("packet_info", |pi| {
            pi.u64("linktype", u64::from(linktype));
        });
    }
    if let Some((m, l)) = a.mirror {
        tunnel_object(&mut o, m, a.pcap_cnt);
        mirror_object(&mut o, m, l);
    }
    o.close();
    out.push(b'\n');
}

/// Suricata's `tunnel` object of an alert on a decapsulated packet: the
/// outer packet that carried it.
fn tunnel_object(o: &mut Obj<'_>, m: &Mirror, pcap_cnt: u64) {
    use mirador_wire::EncapKind;
    let (proto, ports) = match m.encap {
        EncapKind::Vxlan | EncapKind::Geneve | EncapKind::Gwlb => (proto::UDP, true),
        EncapKind::Erspan | EncapKind::Gre => (47, false),
    };
    o.obj("tunnel", |t| {
        t.ip("src_ip", m.outer_src);
        if ports {
            t.u64("src_port", u64::from(m.outer_src_port));
        }
        t.ip("dest_ip", m.outer_dst);
        if ports {
            t.u64("dest_port", u64::from(m.outer_dst_port));
        }
        t.proto("proto", proto).u64("depth", 0);
        if pcap_cnt > 0 {
            t.u64("pcap_cnt", pcap_cnt).str("pkt_src", "wire/pcap");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirador_flow::key::Endpoint;
    use mirador_wire::VlanIds;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: s.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn alert_record_has_suricatas_fields() {
        let (c, s) = (ep("10.0.0.9", 40000), ep("10.0.0.1", 80));
        let (key, _) = FlowKey::new(3, VlanIds::EMPTY, proto::TCP, 0, c, s);
        let metadata = vec![
            ("created_at".to_string(), vec!["2020_01_01".to_string()]),
            ("tag".to_string(), vec!["a".to_string(), "b\"c".to_string()]),
        ];
        let mut out = Vec::new();
        alert_record(
            &mut out,
            &AlertRecord {
                ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
                pcap_cnt: 7,
                key: &key,
                src: s,
                dst: c,
                icmp: None,
                packet_proto: None,
                to_server: false,
                flow: None,
                flowless: false,
                stream: true,
                sig: AlertSignature {
                    action: "allowed",
                    gid: 1,
                    sid: 2_000_001,
                    rev: 3,
                    msg: "ET TEST \"quoted\"",
                    category: Some("A Network Trojan was detected"),
                    severity: 1,
                    metadata: &metadata,
                    dest_is_target: Some(false),
                },
                mirror: None,
                seed: 0,
                payload: Some(b"GET /\x01"),
                packet: None,
                app: None,
            },
        );
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["src_ip"], "10.0.0.1");
        assert_eq!(v["src_port"], 80);
        assert_eq!(v["direction"], "to_client");
        assert_eq!(v["alert"]["signature_id"], 2_000_001);
        assert_eq!(v["alert"]["signature"], "ET TEST \"quoted\"");
        assert_eq!(v["alert"]["metadata"]["tag"][1], "b\"c");
        assert_eq!(v["stream"], 1);
        assert_eq!(v["payload_printable"], "GET /.");
        assert_eq!(v["payload"], "R0VUIC8B");
        // The Community ID is the flow's, from the client's side.
        let cid = community_id_v1(0, c.addr, s.addr, proto::TCP, c.port, s.port);
        assert_eq!(v["community_id"], cid.as_str());
        assert!(v.get("packet").is_none() && v.get("packet_info").is_none());
        // `target:src_ip`: the record's source (the server, 10.0.0.1:80)
        // is the target.
        assert_eq!(v["alert"]["target"]["ip"], "10.0.0.1");
        assert_eq!(v["alert"]["target"]["port"], 80);
        assert_eq!(v["alert"]["source"]["ip"], v["dest_ip"]);
        assert_eq!(v["alert"]["source"]["port"], v["dest_port"]);
    }

    fn sig() -> AlertSignature<'static> {
        AlertSignature {
            action: "allowed",
            gid: 1,
            sid: 1,
            rev: 1,
            msg: "",
            category: None,
            severity: 3,
            metadata: &[],
            dest_is_target: None,
        }
    }

    #[test]
    fn icmp_error_alert_is_the_packets_in_the_quoted_flow() {
        // A UDP flow 10.0.0.1:40000 → 10.0.0.9:53; the router's port
        // unreachable to the client.
        let (c, s) = (ep("10.0.0.1", 40000), ep("10.0.0.9", 53));
        let (key, _) = FlowKey::new(0, VlanIds::EMPTY, proto::UDP, 0, c, s);
        let (router, client) = (ep("192.0.2.1", 0), ep("10.0.0.1", 0));
        let mut out = Vec::new();
        let mut rec = AlertRecord {
            ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            pcap_cnt: 2,
            key: &key,
            src: router,
            dst: client,
            icmp: Some((3, 3)),
            packet_proto: Some(proto::ICMP),
            to_server: false,
            flow: None,
            flowless: false,
            stream: false,
            sig: sig(),
            mirror: None,
            seed: 0,
            payload: None,
            packet: None,
            app: None,
        };
        alert_record(&mut out, &rec);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["proto"], "ICMP");
        assert_eq!(v["src_ip"], "192.0.2.1");
        assert_eq!(
            (v["icmp_type"].as_u64(), v["icmp_code"].as_u64()),
            (Some(3), Some(3))
        );
        assert!(v.get("src_port").is_none() && v.get("dest_port").is_none());
        assert_eq!(v["flow_id"], key.stable_hash() & FLOW_ID_MASK);
        // (The Community ID is the flow's, from the flow's client and
        // server: tests/signatures.rs checks it against the flow record.)
        assert!(v["community_id"].is_string());
        assert_eq!(v["direction"], "to_client");

        // Flowless: no flow fields at all.
        rec.flowless = true;
        out.clear();
        alert_record(&mut out, &rec);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        for k in ["flow_id", "community_id", "direction", "flow"] {
            assert!(v.get(k).is_none(), "{k}: {v}");
        }
        assert_eq!(v["icmp_type"], 3);
    }

    #[test]
    fn alert_packet_comes_with_its_linktype() {
        let (c, s) = (ep("2001:db8::1", 12345), ep("2001:db8::2", 8080));
        let (key, _) = FlowKey::new(3, VlanIds::EMPTY, proto::TCP, 0, c, s);
        let mut out = Vec::new();
        alert_record(
            &mut out,
            &AlertRecord {
                ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
                pcap_cnt: 1,
                key: &key,
                src: c,
                dst: s,
                icmp: None,
                packet_proto: None,
                to_server: true,
                flow: None,
                flowless: false,
                stream: false,
                sig: AlertSignature {
                    action: "allowed",
                    gid: 1,
                    sid: 1,
                    rev: 1,
                    msg: "",
                    category: None,
                    severity: 3,
                    metadata: &[],
                    dest_is_target: None,
                },
                mirror: None,
                seed: 0,
                payload: None,
                packet: Some((&[0x60, 0, 0, 0], 229)),
                app: None,
            },
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["packet"], "YAAAAA==");
        assert_eq!(v["packet_info"]["linktype"], 229);
    }
}
