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

const LIGHT_RULES: &str = "\
alert tcp any any -> any any (msg:\"m: request\"; flow:to_server; content:\"GET /m\"; classtype:attempted-recon; sid:9200001; rev:1;)
alert tcp any any -> any any (msg:\"m: response\"; flow:to_client; content:\"m-ok\"; classtype:misc-activity; sid:9200002; rev:1;)
alert udp any any -> any 53 (msg:\"m: udp\"; content:\"|de ad be ef|\"; classtype:trojan-activity; sid:9200003; rev:1;)
";

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
