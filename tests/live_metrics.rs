//! `mirador run`'s metrics and output, checked from outside.
//!
//! Like `tests/live.rs`, each test starts `mirador run` on loopback and
//! they run one at a time.

mod common;
#[path = "live/sensor.rs"]
mod sensor;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;
use sensor::{Sensor, sum};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------
// Traffic.

/// An inner frame in VXLAN as a mirror source sends it.
fn vx(vni: u32, inner: &[u8]) -> Vec<u8> {
    tunnel::vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, vni, inner)
}

/// Each inner frame in VXLAN.
fn vxlan(vni: u32, inner: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    inner.iter().map(|f| vx(vni, f)).collect()
}

/// A capture of (already encapsulated) frames, 1 ms apart.
fn write_pcap(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1_000_000, f.clone()))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

/// `mirador send ARGS PCAP` to the sensor; returns the datagrams sent.
fn send(sensor: &Sensor, args: &[&str], pcap: &Path) -> u64 {
    let out = mirador()
        .arg("send")
        .arg("--to")
        .arg(sensor.udp.to_string())
        .args(args)
        .arg(pcap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("mirador send: "))
        .unwrap_or_else(|| panic!("no report: {err}"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

/// `n` closed HTTP-like conversations and as many UDP exchanges (port
/// 53), alternating between VNI 1 (the declared session) and VNI 2.
fn conversations(n: usize, tag: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..n {
        let vni = 1 + (i % 2) as u32;
        let c = ip(&format!("10.{tag}.0.{}", i + 1));
        let s = ip("10.200.0.80");
        let req = format!("GET /m/{i} HTTP/1.1\r\nHost: m\r\n\r\n");
        let resp = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nm-ok";
        for f in tcp_conversation(
            (c, 40000 + i as u16),
            (s, 80),
            &[(true, req.as_bytes()), (false, resp.as_bytes())],
            true,
        ) {
            out.push(vx(vni, &f));
        }
        let q = FrameSpec::udp(c, ip("10.200.0.53"), 30000 + i as u16, 53)
            .payload(vec![0xde, 0xad, 0xbe, 0xef, i as u8])
            .build()
            .bytes;
        out.push(vx(vni, &q));
        let a = FrameSpec::udp(ip("10.200.0.53"), c, 53, 30000 + i as u16)
            .payload(vec![1, 2, 3])
            .build()
            .bytes;
        out.push(vx(vni, &a));
    }
    out
}

/// Inner UDP frames over `flows` flows carrying text for the rules to scan.
fn udp_load(frames: usize, flows: usize, payload: usize, tag: u8) -> Vec<Vec<u8>> {
    let text: Vec<u8> = b"abcd12efgh34ijkl56mnop78qrst90uvwx "
        .iter()
        .copied()
        .cycle()
        .take(payload)
        .collect();
    (0..frames)
        .map(|i| {
            let f = i % flows;
            let c = ip(&format!("10.{tag}.{}.{}", f / 200, f % 200 + 1));
            FrameSpec::udp(c, ip("10.200.1.1"), 20000 + f as u16, 9999)
                .payload(text.clone())
                .build()
                .bytes
        })
        .collect()
}

const LIGHT_RULES: &str = "\
alert tcp any any -> any any (msg:\"m: request\"; flow:to_server; content:\"GET /m\"; classtype:attempted-recon; sid:9200001; rev:1;)
alert tcp any any -> any any (msg:\"m: response\"; flow:to_client; content:\"m-ok\"; classtype:misc-activity; sid:9200002; rev:1;)
alert udp any any -> any 53 (msg:\"m: udp\"; content:\"|de ad be ef|\"; classtype:trojan-activity; sid:9200003; rev:1;)
";

// ---------------------------------------------------------------------
// The final stats record.

fn last_stats(records: &[Value]) -> &Value {
    &records
        .iter()
        .rfind(|r| r["event_type"] == "stats")
        .expect("a final stats record")["stats"]
}

// ---------------------------------------------------------------------
// Records are written while the sensor runs.

/// The complete lines of an EVE file being written, parsed.
fn eve_so_far(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l:?}: {e}")))
        .collect()
}

#[test]
fn records_come_out_while_traffic_is_quiet() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("m.rules");
    std::fs::write(&rules, LIGHT_RULES).unwrap();
    let s = Sensor::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "2",
        "--set",
        "flow-timeouts.tcp.closed=0",
    ]);
    let p = write_pcap(dir.path(), "c.pcap", &conversations(4, 7));
    send(&s, &["--rate", "2000"], &p);
    // Each alert is written within moments, and each TCP flow's record
    // once its FIN exchange has ended it: not when a buffer fills, nor at
    // shutdown.
    let alerts = s.wait_metric("mirador_alerts_total", 12.0, Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let records = eve_so_far(&s.eve);
        let n = |t: &str| records.iter().filter(|r| r["event_type"] == t).count();
        let tcp_flows = records
            .iter()
            .filter(|r| r["event_type"] == "flow" && r["proto"] == "TCP")
            .count();
        let counted = sum(&s.metrics(), "mirador_eve_records_total");
        if n("alert") as f64 == alerts && tcp_flows >= 4 && counted == records.len() as f64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 10 s the EVE file has {} alerts of {alerts}, {tcp_flows} TCP flow records of 4, \
             {} records of the {counted} mirador_eve_records_total counts",
            n("alert"),
            records.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = s.stop();
    assert!(status.success());
}

#[test]
fn each_eviction_is_counted_once() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let s = Sensor::start(&["--no-rules", "--workers", "1", "--set", "flow.max-flows=50"]);
    // 300 flows of one packet, in well under emergency-new's timeout:
    // each flow past the 50th evicts one (reason `forced`).
    let p = write_pcap(
        dir.path(),
        "flows.pcap",
        &vxlan(2, udp_load(300, 300, 10, 12)),
    );
    let sent = send(&s, &["--rate", "5000"], &p);
    let deadline = Instant::now() + Duration::from_secs(30);
    let evicted = loop {
        let forced = eve_so_far(&s.eve)
            .iter()
            .filter(|r| r["event_type"] == "flow" && r["flow"]["reason"] == "forced")
            .count() as f64;
        let m = s.metrics();
        let evicted = sum(&m, "mirador_flows_evicted_total");
        if sum(&m, "mirador_packets_received_total") == sent as f64 && forced == 250.0 {
            assert_eq!(evicted, forced, "one eviction, one forced flow record");
            break evicted;
        }
        assert!(
            Instant::now() < deadline,
            "{forced} forced flow records of 250; mirador_flows_evicted_total {evicted}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, records) = s.stop();
    assert!(status.success());
    assert_eq!(
        last_stats(&records)["flow"]["forced"].as_f64(),
        Some(evicted)
    );
}
