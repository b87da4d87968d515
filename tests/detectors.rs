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
