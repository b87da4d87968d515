//! EVE `flow` records through `mirador replay`: direction, per-direction
//! counts, Community ID, and watermark-driven timeouts, the same with 1 and
//! 4 workers.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::{FrameSpec, tcp_flags};
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_wire::community_id::community_id_v1;
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: u64 = 1_700_000_000_000_000_000;
const SEC: u64 = 1_000_000_000;

fn write_pcap(dir: &Path, frames: Vec<(u64, Vec<u8>)>) -> PathBuf {
    let records: Vec<Record> = frames
        .into_iter()
        .map(|(ts, f)| Record::new(T0 + ts, f))
        .collect();
    let path = dir.join("flows.pcap");
    std::fs::write(&path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    path
}

fn flows(r: &Replay) -> Vec<Value> {
    let mut v: Vec<Value> = r.events("flow").into_iter().cloned().collect();
    v.sort_by_key(|x| x.to_string());
    v
}

/// Replays with 1 and 4 workers; asserts equal flow records; returns them.
fn both(pcap: &Path) -> Vec<Value> {
    let p = pcap.to_str().unwrap();
    let one = replay(&["--no-rules", "--workers", "1", p]);
    let four = replay(&["--no-rules", "--workers", "4", p]);
    assert!(one.output.status.success(), "{}", one.stderr());
    assert!(four.output.status.success(), "{}", four.stderr());
    assert_eq!(flows(&one), flows(&four));
    assert_eq!(
        one.records.last().unwrap()["event_type"],
        "stats",
        "stats is the last record"
    );
    assert_eq!(four.records.last().unwrap()["event_type"], "stats");
    flows(&one)
}

#[test]
fn tcp_flow_direction_counts_and_community_id() {
    let dir = tempfile::tempdir().unwrap();
    // Client 10.9.0.9:40000 (the SYN sender, the larger address) to server
    // 10.1.0.1:443, so the client is not the normalized key's low end.
    let (c, s) = (ip("10.9.0.9"), ip("10.1.0.1"));
    let to_s = |flags: u8, payload: &[u8]| {
        FrameSpec::tcp(c, s, 40000, 443)
            .flags(flags)
            .payload(payload.to_vec())
            .build()
            .bytes
    };
    let to_c = |flags: u8, payload: &[u8]| {
        FrameSpec::tcp(s, c, 443, 40000)
            .flags(flags)
            .payload(payload.to_vec())
            .build()
            .bytes
    };
    let frames = vec![
        to_s(tcp_flags::SYN, b""),
        to_c(tcp_flags::SYN | tcp_flags::ACK, b""),
        to_s(tcp_flags::ACK, b""),
        to_s(tcp_flags::ACK | tcp_flags::PSH, b"hello"),
        to_c(tcp_flags::ACK | tcp_flags::PSH, b"world!!"),
        to_s(tcp_flags::ACK, b""),
    ];
    let bytes_ts: u64 = [0, 2, 3, 5].iter().map(|&i| frames[i].len() as u64).sum();
    let bytes_tc: u64 = [1, 4].iter().map(|&i| frames[i].len() as u64).sum();
    let frames = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (i as u64 * 1000, f))
        .collect();
    let recs = both(&write_pcap(dir.path(), frames));
    assert_eq!(recs.len(), 1, "{recs:#?}");
    let r = &recs[0];
    assert_eq!(r["src_ip"], "10.9.0.9");
    assert_eq!(r["src_port"], 40000);
    assert_eq!(r["dest_ip"], "10.1.0.1");
    assert_eq!(r["dest_port"], 443);
    assert_eq!(r["proto"], "TCP");
    let f = &r["flow"];
    assert_eq!(f["pkts_toserver"], 4);
    assert_eq!(f["pkts_toclient"], 2);
    assert_eq!(f["bytes_toserver"], bytes_ts);
    assert_eq!(f["bytes_toclient"], bytes_tc);
    assert_eq!(f["state"], "established");
    assert_eq!(f["reason"], "shutdown");
    assert_eq!(f["alerted"], false);
    assert_eq!(r["tcp"]["tcp_flags_ts"], "1a");
    assert_eq!(r["tcp"]["tcp_flags_tc"], "1a");
    assert_eq!(r["tcp"]["syn"], true);
    assert_eq!(
        r["community_id"],
        community_id_v1(0, c, s, 6, 40000, 443).as_str()
    );
    assert!(r.get("mirror").is_none(), "not mirrored");
}

#[test]
fn idle_udp_flow_times_out_by_the_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (ip("10.0.0.5"), ip("10.0.0.53"));
    let q = FrameSpec::udp(a, b, 5353, 53)
        .payload(b"q".to_vec())
        .build()
        .bytes;
    let r = FrameSpec::udp(b, a, 53, 5353)
        .payload(b"r".to_vec())
        .build()
        .bytes;
    // The same flow again, and other flows, long after every UDP timeout
    // (300 s established): the first flow must end by timeout, and the
    // second with the same tuple at shutdown.
    let mut frames = vec![(0, q.clone()), (SEC / 10, r)];
    for i in 0..20u16 {
        let other = FrameSpec::udp(ip("10.0.7.7"), ip("10.0.8.8"), 1000 + i, 9)
            .build()
            .bytes;
        frames.push((400 * SEC + u64::from(i), other));
    }
    frames.push((500 * SEC, q));
    let recs = both(&write_pcap(dir.path(), frames));
    let ours: Vec<&Value> = recs
        .iter()
        .filter(|r| r["src_ip"] == "10.0.0.5" && r["dest_port"] == 53)
        .collect();
    assert_eq!(ours.len(), 2, "{recs:#?}");
    let (first, second): (Vec<&&Value>, Vec<&&Value>) =
        ours.iter().partition(|r| r["flow"]["pkts_toclient"] == 1);
    assert_eq!(first[0]["flow"]["reason"], "timeout");
    assert_eq!(first[0]["flow"]["state"], "established");
    assert_eq!(second[0]["flow"]["reason"], "shutdown");
    assert_eq!(second[0]["flow"]["pkts_toserver"], 1);
    assert_eq!(
        first[0]["community_id"],
        community_id_v1(0, a, b, 17, 5353, 53).as_str()
    );
    // The 20 other flows are idle from 400 s: at shutdown (500 s) they are
    // past the 30 s `new` timeout, so they end by timeout too.
    let others = recs.iter().filter(|r| r["dest_port"] == 9).count();
    assert_eq!(others, 20);
    assert!(
        recs.iter()
            .filter(|r| r["dest_port"] == 9)
            .all(|r| r["flow"]["reason"] == "timeout")
    );
}

/// Splits a built IPv4 frame (Ethernet + IPv4 without options) into IP
/// fragments of `size` payload bytes (a multiple of 8), in order.
fn fragments(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
    let (eth, ip) = frame.split_at(14);
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let (hdr, payload) = ip[..total].split_at(20);
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, part)| {
            let mut h = hdr.to_vec();
            let more = (i + 1) * size < payload.len();
            let fo = ((i * size / 8) as u16) | if more { 0x2000 } else { 0 };
            h[2..4].copy_from_slice(&((20 + part.len()) as u16).to_be_bytes());
            h[6..8].copy_from_slice(&fo.to_be_bytes());
            h[10..12].copy_from_slice(&[0, 0]);
            let c = mirador_testkit::tunnel::internet_checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            [eth, &h, part].concat()
        })
        .collect()
}

#[test]
fn fragments_are_reassembled_into_one_flow_before_sharding() {
    let dir = tempfile::tempdir().unwrap();
    let dgram = FrameSpec::udp(ip("10.1.0.1"), ip("10.2.0.2"), 5353, 53)
        .payload(vec![b'q'; 1000])
        .build()
        .bytes;
    let mut frags = fragments(&dgram, 256);
    assert_eq!(frags.len(), 4);
    // Out of order: last first.
    frags.rotate_right(1);
    // A second datagram whose overlapping fragment carries different data.
    let other = FrameSpec::udp(ip("10.1.0.1"), ip("10.2.0.2"), 5353, 53)
        .payload(vec![b'r'; 600])
        .build()
        .bytes;
    let mut other_frags = fragments(&other, 256);
    let mut evil = other_frags[1].clone();
    let last = evil.len() - 1;
    evil[last] ^= 0xff;
    other_frags.insert(1, evil);
    // Different IP ids so the two datagrams are apart.
    for f in &mut other_frags {
        f[14 + 4] ^= 0x55;
        f[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
        let c = mirador_testkit::tunnel::internet_checksum(&f[14..34]);
        f[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
    }
    let frames: Vec<(u64, Vec<u8>)> = frags
        .into_iter()
        .chain(other_frags)
        .enumerate()
        .map(|(i, f)| (i as u64 * 1000, f))
        .collect();
    let path = write_pcap(dir.path(), frames);
    let f = both(&path);
    // One UDP flow with the datagrams' real ports, two packets (the two
    // rebuilt datagrams), not one flow per fragment with port 0.
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0]["src_port"].as_u64(), f[0]["dest_port"].as_u64()),
        (Some(5353), Some(53))
    );
    assert_eq!(f[0]["flow"]["pkts_toserver"], 2);
    let r = replay(&["--no-rules", path.to_str().unwrap()]);
    let d = &r.stats()["defrag"];
    assert_eq!(d["fragments_ipv4"], 4 + 4);
    assert_eq!(d["reassembled"], 2);
    assert_eq!(d["overlap_different_data"], 1);
    let overlaps: Vec<&Value> = r
        .events("anomaly")
        .into_iter()
        .filter(|a| a["anomaly"]["event"] == "decoder.ipv4.frag_overlap")
        .collect();
    assert_eq!(overlaps.len(), 1);
    // Every fragment is a received, inspected packet; the rebuilt
    // datagrams are not extra packets.
    assert_eq!(r.assert_balanced(), 8);
    assert_eq!(r.stats()["accounting"]["inspected"], 8);
}

#[test]
fn tunnel_flows_only_when_asked() {
    let demo = project_pcap("demo-vxlan.pcap");
    let demo = demo.to_str().unwrap();
    let plain = replay(&["--no-rules", demo]);
    assert!(plain.output.status.success(), "{}", plain.stderr());
    let inner = plain.events("flow").len();
    assert!(
        plain
            .events("flow")
            .iter()
            .all(|f| f["dest_port"] != 4789 && f.get("mirror").is_some())
    );
    for workers in ["1", "3"] {
        let r = replay(&[
            "--no-rules",
            "--workers",
            workers,
            "--set",
            "outputs.eve.tunnel-flows=yes",
            demo,
        ]);
        assert!(r.output.status.success(), "{}", r.stderr());
        let flows = r.events("flow");
        let tunnel: Vec<&&Value> = flows.iter().filter(|f| f["dest_port"] == 4789).collect();
        assert_eq!(flows.len() - tunnel.len(), inner, "inner flows unchanged");
        assert!(!tunnel.is_empty());
        let packets: u64 = tunnel
            .iter()
            .map(|f| {
                f["flow"]["pkts_toserver"].as_u64().unwrap()
                    + f["flow"]["pkts_toclient"].as_u64().unwrap()
            })
            .sum();
        // Every packet of the capture travelled a tunnel.
        assert_eq!(
            packets,
            r.stats()["accounting"]["received"].as_u64().unwrap()
        );
        for f in tunnel {
            assert_eq!(f["proto"], "UDP");
            assert!(f.get("mirror").is_none(), "{f}");
            assert!(f["community_id"].is_string());
        }
    }
}

#[test]
fn community_id_seed_is_configurable() {
    let demo = project_pcap("demo-vxlan.pcap");
    let demo = demo.to_str().unwrap();
    let a = replay(&["--no-rules", demo]);
    let b = replay(&[
        "--no-rules",
        "--set",
        "outputs.eve.community-id-seed=7",
        demo,
    ]);
    let cid = |r: &Replay| {
        let mut v: Vec<String> = r
            .events("flow")
            .iter()
            .map(|f| f["community_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(cid(&a).len(), cid(&b).len());
    assert!(
        cid(&a).iter().all(|c| !cid(&b).contains(c)),
        "the seed changes every id"
    );
}
