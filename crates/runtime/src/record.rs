//! EVE `flow` records in Suricata's layout.

use mirador_engine::eve::{Obj, SessionLabel, mirror_object};
use mirador_flow::key::{Endpoint, FlowKey, proto};
use mirador_flow::table::{EndedFlow, TcpState};
use mirador_flow::tcp::TcpSession;
use mirador_wire::community_id::community_id_v1;
use mirador_wire::{Mirror, Timestamp};

/// What a worker keeps with each flow: from the flow's first packet, and
/// the TCP session.
#[derive(Debug, Clone, Default)]
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
        });
    }
    if let (Some(m), Some(l)) = (&e.user.mirror, label) {
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
