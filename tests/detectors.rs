//! The anomaly detectors through `mirador replay`: generated scans and
//! sweeps fire with the right evidence and do not depend on the worker
//! count; a near miss stays quiet; the real nmap host discovery in the
//! corpus fires the ARP sweep; config turns detectors off, `--no-rules`
//! does not.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::{FrameSpec, tcp_flags::*};
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A capture of `frames`, 10 ms apart from `t0` seconds.
fn write(dir: &Path, name: &str, frames: &[Vec<u8>], t0: u64) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new((t0 * 1_000_000_000) + i as u64 * 10_000_000, f.clone()))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

fn syn(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    FrameSpec::tcp(ip(src), ip(dst), sport, dport)
        .flags(SYN)
        .seq_ack(1000, 0)
        .build()
        .bytes
}

fn rst(src: &str, sport: u16, dst: &str, dport: u16) -> Vec<u8> {
    FrameSpec::tcp(ip(src), ip(dst), sport, dport)
        .flags(RST | ACK)
        .seq_ack(0, 1001)
        .build()
        .bytes
}

/// A port scan of `ports` ports of 10.9.0.5 from 10.9.0.66, each answered
/// by a RST; a sweep of port 22 over `hosts` hosts from 10.9.0.77; and
/// ordinary traffic around them.
fn scenario(ports: u16, hosts: u8) -> Vec<Vec<u8>> {
    let mut f = Vec::new();
    for p in 0..ports {
        f.push(syn("10.9.0.66", 40000 + p, "10.9.0.5", 1000 + p));
        f.push(rst("10.9.0.5", 1000 + p, "10.9.0.66", 40000 + p));
        // Noise: a client talking to a web server.
        f.extend(tcp_conversation(
            (ip("10.9.1.10"), 50000 + p),
            (ip("10.9.1.80"), 443),
            &[(true, b"hello"), (false, b"world")],
            true,
        ));
    }
    for h in 0..hosts {
        f.push(syn(
            "10.9.0.77",
            41000 + u16::from(h),
            &format!("10.9.2.{}", h + 1),
            22,
        ));
    }
    f
}

/// Detector alerts: (sid, src, dest, evidence without times), counted.
fn detections(records: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r["event_type"] == "alert" && r["alert"]["gid"] == 9000)
    {
        let k = format!(
            "{} {} {} {}",
            r["alert"]["signature_id"], r["src_ip"], r["dest_ip"], r["alert"]["evidence"]
        );
        *m.entry(k).or_default() += 1;
    }
    m
}

fn sids(records: &[Value]) -> Vec<u64> {
    let mut v: Vec<u64> = records
        .iter()
        .filter(|r| r["event_type"] == "alert" && r["alert"]["gid"] == 9000)
        .filter_map(|r| r["alert"]["signature_id"].as_u64())
        .collect();
    v.sort();
    v
}

#[test]
fn scans_fire_with_their_evidence_whatever_the_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "scan.pcap", &scenario(40, 60), 1_700_000_000);
    let p = pcap.to_str().unwrap();
    let one = replay(&["--no-rules", "--workers", "1", p]);
    assert!(one.output.status.success(), "{}", one.stderr());
    let four = replay(&["--no-rules", "--workers", "4", p]);
    if std::env::var("DBG").is_ok() {
        eprintln!(
            "ONE {}\nFOUR {}",
            one.stats()["detectors"],
            four.stats()["detectors"]
        );
    }
    assert_eq!(detections(&one.records), detections(&four.records));
    // Port scan (sid 1) and host sweep (sid 2), once each.
    assert_eq!(
        sids(&one.records),
        vec![1, 2],
        "{:?}",
        detections(&one.records)
    );
    let scan = one
        .events("alert")
        .into_iter()
        .find(|a| a["alert"]["signature_id"] == 1)
        .unwrap();
    assert_eq!(scan["src_ip"], "10.9.0.66");
    assert_eq!(scan["dest_ip"], "10.9.0.5");
    let ev = &scan["alert"]["evidence"];
    assert_eq!(ev["detector"], "port-scan");
    assert!(ev["distinct_ports"].as_u64().unwrap() >= 10, "{ev}");
    assert!(ev["first_seen"].is_string() && ev["last_seen"].is_string());
    let sweep = one
        .events("alert")
        .into_iter()
        .find(|a| a["alert"]["signature_id"] == 2)
        .unwrap();
    assert_eq!(sweep["src_ip"], "10.9.0.77");
    assert_eq!(sweep["alert"]["evidence"]["ports"], serde_json::json!([22]));
    // The final stats record counts them.
    let d = &one.stats()["detectors"];
    assert_eq!(d["detections"], 2, "{d}");
    assert!(d["port-scan"]["events"].as_u64().unwrap() > 0);
}

#[test]
fn a_near_miss_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    // Fewer ports than either threshold, fewer hosts than the sweep's,
    // and no rejects at all.
    let mut frames = Vec::new();
    for p in 0..9u16 {
        frames.push(syn("10.9.0.66", 40000 + p, "10.9.0.5", 1000 + p));
    }
    for h in 0..20u8 {
        frames.push(syn(
            "10.9.0.77",
            41000 + u16::from(h),
            &format!("10.9.2.{}", h + 1),
            22,
        ));
    }
    let pcap = write(dir.path(), "near.pcap", &frames, 1_700_000_000);
    let r = replay(&["--no-rules", pcap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    assert!(sids(&r.records).is_empty(), "{:?}", detections(&r.records));
}

#[test]
fn config_turns_detectors_off_and_no_rules_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "scan.pcap", &scenario(40, 60), 1_700_000_000);
    let p = pcap.to_str().unwrap();
    // --no-rules: signatures off, detectors on (the tests above).
    let off = replay(&["--no-rules", "--set", "detectors.enabled=no", p]);
    assert!(off.output.status.success(), "{}", off.stderr());
    assert!(sids(&off.records).is_empty());
    assert!(off.stats().get("detectors").is_none());
    let no_scan = replay(&["--no-rules", "--set", "detectors.port-scan.enabled=no", p]);
    assert_eq!(sids(&no_scan.records), vec![2]);
    // With the bundled rules too.
    let with_rules = replay(&[p]);
    assert_eq!(sids(&with_rules.records), vec![1, 2]);
    // Allow-listed scanner: not counted.
    let allowed = replay(&[
        "--no-rules",
        "--set",
        "detectors.port-scan.allow.sources=[\"10.9.0.66/32\"]",
        p,
    ]);
    assert_eq!(sids(&allowed.records), vec![2]);
}

#[test]
fn the_nmap_host_discovery_is_an_arp_sweep() {
    let Some(corpus) = corpus() else { return };
    let pcap = corpus.join("captures/zeek-zeek/nmap-vsn.pcap");
    let r = replay(&["--no-rules", pcap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    let arp: Vec<&Value> = r
        .events("alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 9000 && a["alert"]["signature_id"] == 3)
        .collect();
    assert_eq!(arp.len(), 1, "{:?}", detections(&r.records));
    assert_eq!(arp[0]["src_ip"], "192.168.1.71");
    let ev = &arp[0]["alert"]["evidence"];
    assert_eq!(ev["detector"], "arp-sweep");
    assert!(ev["distinct_targets"].as_u64().unwrap() >= 32, "{ev}");
}

fn gid_9000_sids(pcap: &Path, extra: &[&str]) -> Vec<u64> {
    let mut args = vec!["--no-rules"];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().unwrap());
    let r = replay(&args);
    assert!(r.output.status.success(), "{}", r.stderr());
    let mut v = sids(&r.records);
    v.dedup();
    v
}

#[test]
fn the_stopddos_captures_are_a_syn_flood_and_a_reflection() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("captures/StopDDoS-packet-captures");
    // Not encapsulated: a tap sees both directions, so the failure
    // counting detectors count too.
    let flood = dir.join("pkt.TCP.synflood.spoofed.pcap");
    assert_eq!(
        gid_9000_sids(&flood, &[]),
        vec![5, 6],
        "SYN flood and half-open"
    );
    let reflection = dir.join("amp.TCP.reflection.SYNACK.pcap");
    assert_eq!(gid_9000_sids(&reflection, &[]), vec![7], "reflection");
    for workers in ["1", "4"] {
        assert_eq!(gid_9000_sids(&flood, &["--workers", workers]), vec![5, 6]);
    }
}

/// 1,200 SYN-ACKs from 150 reflectors to 10.9.9.9, none answered, 1 ms
/// apart: a reflection as the victim's tap sees it.
fn reflected() -> Vec<Vec<u8>> {
    (0..1200u32)
        .map(|i| {
            let r = format!("172.16.{}.{}", i % 150 / 100, i % 150 % 100 + 1);
            FrameSpec::tcp(ip(&r), ip("10.9.9.9"), 443, 20000 + (i % 40000) as u16)
                .flags(SYN | ACK)
                .seq_ack(i * 7, i * 13 + 1)
                .build()
                .bytes
        })
        .collect()
}

#[test]
fn a_one_sided_mirror_does_not_count_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let frames = reflected();
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f.clone()))
        .collect();
    // A tap: both directions are there to be seen, so SYN-ACKs nobody
    // asked for are evidence.
    let tap = tmp.path().join("tap.pcap");
    std::fs::write(&tap, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    assert_eq!(gid_9000_sids(&tap, &[]), vec![7]);
    // The same as a VXLAN mirror session that only ever shows this
    // direction: the SYNs may simply not be mirrored, so nothing fires.
    let wrapped = tmp.path().join("mirror.pcap");
    let out = mirador()
        .args(["pcap", "encap", "--vni", "7"])
        .arg(&tap)
        .arg(&wrapped)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(gid_9000_sids(&wrapped, &[]), Vec::<u64>::new());
    // Declared bidirectional, the session counts failures from the start.
    let declared = gid_9000_sids(
        &wrapped,
        &[
            "--set",
            "mirror.sessions=[{vni: 7, name: tap, bidirectional: yes}]",
        ],
    );
    assert_eq!(declared, vec![7]);
}

/// The sids a capture of `frames` (1 ms apart) fires, plain and wrapped
/// as a VXLAN mirror session (VNI 7) that only ever shows what it holds;
/// the plain capture's detections must not depend on the worker count.
fn plain_and_mirrored(frames: &[Vec<u8>]) -> (Vec<u64>, Vec<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f.clone()))
        .collect();
    let plain = tmp.path().join("plain.pcap");
    std::fs::write(&plain, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    let wrapped = tmp.path().join("mirror.pcap");
    let out = mirador()
        .args(["pcap", "encap", "--vni", "7"])
        .arg(&plain)
        .arg(&wrapped)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = detections_of(&plain, "1");
    assert_eq!(one, detections_of(&plain, "4"), "1 and 4 workers differ");
    (gid_9000_sids(&plain, &[]), gid_9000_sids(&wrapped, &[]))
}

/// The detections of a replay with `workers` workers.
fn detections_of(pcap: &Path, workers: &str) -> BTreeMap<String, usize> {
    let r = replay(&["--no-rules", "--workers", workers, pcap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    detections(&r.records)
}

/// `n` SYNs to 10.9.9.9:80 from `sources` spoofed sources, none answered.
fn syns(n: u32, sources: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let s = i % sources;
            let src = format!("198.18.{}.{}", s / 250, s % 250 + 1);
            syn(&src, 1024 + (i % 60000) as u16, "10.9.9.9", 80)
        })
        .collect()
}

#[test]
fn a_syn_flood_and_its_half_open_connections() {
    // 12,000 unanswered SYNs from 1,200 sources in 12 s: a flood, and on a
    // tap (both directions visible) half-open exhaustion too.
    let (plain, mirrored) = plain_and_mirrored(&syns(12_000, 1_200));
    assert_eq!(plain, vec![5, 6]);
    // One-sided: the rate is evidence, the missing answers are not.
    assert_eq!(mirrored, vec![5]);
    // A near miss: under the SYN count of the window, and too few sources.
    let (plain, _) = plain_and_mirrored(&syns(6_000, 500));
    assert!(!plain.contains(&5), "{plain:?}");
}

/// An ARP request from `sender` for `target` (Ethernet, IPv4).
fn arp(sender: [u8; 4], target: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x71]);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x71]);
    f.extend_from_slice(&sender);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&target);
    f
}

#[test]
fn an_arp_sweep_and_a_near_miss() {
    let sweep: Vec<Vec<u8>> = (1..=60u8)
        .map(|t| arp([10, 1, 1, 71], [10, 1, 1, t]))
        .collect();
    let (plain, _) = plain_and_mirrored(&sweep);
    assert_eq!(plain, vec![3]);
    // A host resolving its 20 neighbours, and the same address asked again.
    let mut quiet: Vec<Vec<u8>> = (1..=20u8)
        .map(|t| arp([10, 1, 1, 5], [10, 1, 1, t]))
        .collect();
    quiet.extend((0..40).map(|_| arp([10, 1, 1, 6], [10, 1, 1, 1])));
    let (plain, _) = plain_and_mirrored(&quiet);
    assert_eq!(plain, Vec::<u64>::new());
}

/// Sources 10.8.0.1.. each probing `ports` ports of 10.9.0.5, every probe
/// answered by a RST.
fn distributed(sources: u8, ports: u16) -> Vec<Vec<u8>> {
    let mut f = Vec::new();
    for p in 0..ports {
        for s in 1..=sources {
            let src = format!("10.8.0.{s}");
            let sport = 30000 + p * 10 + u16::from(s);
            f.push(syn(&src, sport, "10.9.0.5", 2000 + p));
            f.push(rst("10.9.0.5", 2000 + p, &src, sport));
        }
    }
    f
}

#[test]
fn a_distributed_scan_with_rejects() {
    // 6 sources, each touching 8 of 30 ports: no single port scan.
    let mut frames = Vec::new();
    for p in 0..30u16 {
        let s = (p % 6) as u8 + 1;
        let src = format!("10.8.0.{s}");
        let sport = 30000 + p;
        frames.push(syn(&src, sport, "10.9.0.5", 2000 + p));
        frames.push(rst("10.9.0.5", 2000 + p, &src, sport));
    }
    let (plain, mirrored) = plain_and_mirrored(&frames);
    assert_eq!(plain, vec![4]);
    // The mirror shows both directions (the RSTs answer the SYNs), so the
    // session is two-way as soon as the first RST arrives.
    assert_eq!(mirrored, vec![4]);
    // Four sources: below the five a distributed scan needs.
    let (near, _) = plain_and_mirrored(&distributed(4, 6));
    assert!(!near.contains(&4), "{near:?}");
}
