//! `mirador run` over loopback: `mirador send` sends captures built here,
//! and what the sensor writes is compared with `mirador replay` on the
//! same capture; health checks, reloads and shutdown are exercised on the
//! running process.
//!
//! These tests start processes that bind loopback sockets; they are
//! serialised (one sensor at a time) so that a 2-core machine gives each
//! the CPU it needs to keep up with the sender.

mod common;
#[path = "live/sensor.rs"]
mod sensor;

use std::collections::BTreeMap;
use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;
use sensor::{Sensor, send_to, serial, sum};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const RULES: &str = "\
alert tcp any any -> any any (msg:\"live: request\"; flow:to_server; content:\"GET /live\"; sid:9100001; rev:1;)
alert tcp any any -> any any (msg:\"live: response\"; flow:to_client; content:\"live-ok\"; sid:9100002; rev:1;)
alert udp any any -> any 53 (msg:\"live: udp\"; content:\"|de ad be ef|\"; sid:9100003; rev:1;)
";

/// Inner frames of `flows` TCP conversations (each closed by FINs) and
/// as many UDP exchanges, over a few hosts.
fn inner_frames(flows: usize, tag: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..flows {
        let c = ip(&format!("10.{tag}.{}.{}", i / 200, i % 200 + 1));
        let s = ip("10.200.0.80");
        let req = format!("GET /live/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        let body = "live-ok ".repeat(1 + i % 300);
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        out.extend(tcp_conversation(
            (c, 40000 + i as u16),
            (s, 80),
            &[(true, req.as_bytes()), (false, resp.as_bytes())],
            true,
        ));
        let mut p = vec![0xde, 0xad, 0xbe, 0xef];
        p.extend(std::iter::repeat_n(i as u8, i % 50));
        out.push(
            FrameSpec::udp(c, ip("10.200.0.53"), 30000 + i as u16, 53)
                .payload(p)
                .build()
                .bytes,
        );
        out.push(
            FrameSpec::udp(ip("10.200.0.53"), c, 53, 30000 + i as u16)
                .payload(vec![1, 2, 3])
                .build()
                .bytes,
        );
    }
    out
}

/// A VXLAN capture of `frames`, spread over VNIs 1 to 3 by flow.
fn vxlan_pcap(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            // The VNI follows the inner flow (the client address's last octet).
            let vni = 1 + u32::from(f.get(29).copied().unwrap_or(0) % 3);
            let outer = tunnel::vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50000, vni, f);
            Record::new(1_700_000_000_000_000_000 + i as u64 * 1_000_000, outer)
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

/// (sid, inner 5-tuple) of every alert, counted.
fn alerts(records: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records.iter().filter(|r| r["event_type"] == "alert") {
        let k = format!(
            "{} {} {}:{} -> {}:{}",
            r["alert"]["signature_id"],
            r["proto"],
            r["src_ip"],
            r["src_port"],
            r["dest_ip"],
            r["dest_port"]
        );
        *m.entry(k).or_default() += 1;
    }
    m
}

/// (5-tuple, packets and bytes each way) of every flow record, counted.
fn flows(records: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records.iter().filter(|r| r["event_type"] == "flow") {
        let f = &r["flow"];
        let k = format!(
            "{} {}:{} -> {}:{} pkts {}/{} bytes {}/{}",
            r["proto"],
            r["src_ip"],
            r["src_port"],
            r["dest_ip"],
            r["dest_port"],
            f["pkts_toserver"],
            f["pkts_toclient"],
            f["bytes_toserver"],
            f["bytes_toclient"]
        );
        *m.entry(k).or_default() += 1;
    }
    m
}

/// The final `stats` record's accounting.
fn final_accounting(records: &[Value]) -> Value {
    let stats = records
        .iter()
        .rfind(|r| r["event_type"] == "stats")
        .expect("a final stats record");
    stats["stats"]["accounting"].clone()
}

fn kernel_dropped(m: &BTreeMap<String, f64>) -> u64 {
    sum(m, "mirador_kernel_dropped_total") as u64
}

#[test]
fn what_run_receives_equals_what_replay_reads() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("live.rules");
    std::fs::write(&rules, RULES).unwrap();
    let frames = inner_frames(60, 1);
    let pcap = vxlan_pcap(dir.path(), "live.pcap", &frames);
    let rules_s = rules.to_str().unwrap();

    let replayed = replay(&["--rules", rules_s, "--workers", "2", pcap.to_str().unwrap()]);
    assert!(replayed.output.status.success(), "{}", replayed.stderr());
    let want_alerts = alerts(&replayed.records);
    let want_flows = flows(&replayed.records);
    assert!(want_alerts.len() >= 150, "the rules fire: {want_alerts:?}");

    let s = Sensor::start(&["--rules", rules_s, "--workers", "2"]);
    let sent = s.send(&["--rate", "20000"], &pcap);
    assert_eq!(sent, frames.len() as u64);
    // Everything arrived or was dropped by the kernel (counted).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let m = loop {
        let m = s.metrics();
        if sum(&m, "mirador_packets_received_total") as u64 + kernel_dropped(&m) >= sent {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all arrived: {m:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        kernel_dropped(&m),
        0,
        "the kernel dropped datagrams at 20,000/s"
    );
    let (status, records) = s.stop();
    assert!(status.success(), "{status}");

    let acc = final_accounting(&records);
    assert_eq!(balanced(&acc), sent);
    assert_eq!(acc["inspected"].as_u64(), Some(sent));
    assert_eq!(alerts(&records), want_alerts, "alerts differ from replay's");
    assert_eq!(
        flows(&records),
        want_flows,
        "flow records differ from replay's"
    );
    // Sessions are the capture's VNIs (loopback rewrote the outer source).
    let vnis: std::collections::BTreeSet<u64> = records
        .iter()
        .filter_map(|r| r["mirror"]["vni"].as_u64())
        .collect();
    assert_eq!(vnis, [1, 2, 3].into_iter().collect());
    // Every flow was ended by the stop or its FIN exchange.
    for r in records.iter().filter(|r| r["event_type"] == "flow") {
        let reason = r["flow"]["reason"].as_str().unwrap();
        assert!(matches!(reason, "shutdown" | "timeout"), "{r}");
    }
}

#[test]
fn health_checks_answer() {
    let _one = serial();
    let s = Sensor::start(&["--no-rules", "--workers", "1"]);
    let (code, body) = s.request("GET", "/healthz");
    assert_eq!(code, 200, "{body}");
    let (code, body) = s.request("GET", "/readyz");
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("ready"), "{body}");
    assert!(body.contains("overloaded: no"), "{body}");
    let (code, _) = s.request("GET", "/nope");
    assert_eq!(code, 404);
    // The NLB's TCP check: the handshake completes.
    TcpStream::connect_timeout(&s.tcp, Duration::from_secs(5)).expect("TCP health check");
    let m = s.metrics();
    assert_eq!(sum(&m, "mirador_ready"), 1.0);
    assert_eq!(sum(&m, "mirador_overloaded"), 0.0);
    let (status, records) = s.stop();
    assert!(status.success());
    assert_eq!(final_accounting(&records)["received"], 0);
}

#[test]
fn a_broken_rules_file_on_reload_keeps_the_old_rules() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("live.rules");
    std::fs::write(&rules, RULES).unwrap();
    // Closed flows end at the next tick, so each batch's alerts (three
    // per flow: request, response, UDP) are all out before the next step.
    let s = Sensor::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "2",
        "--set",
        "flow-timeouts.tcp.closed=0",
    ]);
    let first = vxlan_pcap(dir.path(), "a.pcap", &inner_frames(10, 1));
    s.send(&[], &first);
    s.wait_metric("mirador_alerts_total", 30.0, Duration::from_secs(30));

    // Broken: nothing in it loads. SIGHUP and POST both refuse it.
    std::fs::write(&rules, "this is not a rule\nalert tcp (\n").unwrap();
    s.signal(1);
    s.wait_metric(
        "mirador_reload_failures_total",
        1.0,
        Duration::from_secs(60),
    );
    let (code, body) = s.request("POST", "/-/reload");
    assert_eq!(code, 500, "{body}");
    assert!(
        body.contains("running configuration and rules stay"),
        "{body}"
    );
    assert_eq!(sum(&s.metrics(), "mirador_reload_failures_total"), 2.0);
    let failed = s.logged("reload failed; the running configuration and rules stay");
    assert_eq!(failed.len(), 2);
    assert!(
        sensor::field(&failed[0], "error")
            .and_then(Value::as_str)
            .is_some_and(|e| e.contains("live.rules:1:")),
        "the error names the file and line: {failed:?}"
    );
    let before = sum(&s.metrics(), "mirador_alerts_total");
    let second = vxlan_pcap(dir.path(), "b.pcap", &inner_frames(10, 2));
    s.send(&[], &second);
    // All of this batch's alerts (three per flow), so that none of its
    // packets is still on its way when the next reload switches rules.
    let after = s.wait_metric(
        "mirador_alerts_total",
        before + 30.0,
        Duration::from_secs(30),
    );
    assert!(after > before, "the old rules still alert");

    // A good file again: the new rule set replaces the old one.
    std::fs::write(
        &rules,
        "alert udp any any -> any 53 (msg:\"live: new\"; content:\"|de ad|\"; sid:9100009; rev:1;)\n",
    )
    .unwrap();
    let (code, body) = s.request("POST", "/-/reload");
    assert_eq!(code, 200, "{body}");
    assert_eq!(sum(&s.metrics(), "mirador_reloads_total"), 1.0);
    assert_eq!(sum(&s.metrics(), "mirador_rules_loaded"), 1.0);
    let third = vxlan_pcap(dir.path(), "c.pcap", &inner_frames(10, 3));
    let sent3 = s.send(&[], &third);
    let (status, records) = s.stop();
    assert!(status.success());
    let sids = |tag: &str| -> std::collections::BTreeSet<u64> {
        records
            .iter()
            .filter(|r| r["event_type"] == "alert")
            .filter(|r| {
                [&r["src_ip"], &r["dest_ip"]]
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| a.starts_with(tag)))
            })
            .filter_map(|r| r["alert"]["signature_id"].as_u64())
            .collect()
    };
    assert_eq!(sids("10.1."), [9100001, 9100002, 9100003].into());
    assert_eq!(sids("10.2."), [9100001, 9100002, 9100003].into());
    assert_eq!(sids("10.3."), [9100009].into());
    let acc = final_accounting(&records);
    let received = balanced(&acc);
    assert!(received >= sent3);
}

#[test]
fn sigterm_loses_nothing() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let frames = inner_frames(150, 4);
    let pcap = vxlan_pcap(dir.path(), "t.pcap", &frames);
    let s = Sensor::start(&["--no-rules", "--workers", "2"]);
    // As fast as the sender can: some may be dropped, none may be lost.
    let sent = s.send(&["--loop", "3"], &pcap);
    assert_eq!(sent, 3 * frames.len() as u64);
    let last_scrape = kernel_dropped(&s.metrics());
    let (status, records) = s.stop();
    assert!(status.success(), "{status}");
    let acc = final_accounting(&records);
    let received = balanced(&acc);
    // The kernel's drop counters are read again at shutdown, after the
    // sockets were drained: the final stats record has the final count.
    let capture = &records
        .iter()
        .rfind(|r| r["event_type"] == "stats")
        .unwrap()["stats"]["capture"];
    let kernel = capture["kernel_drops"]
        .as_u64()
        .expect("stats.capture.kernel_drops");
    assert!(kernel >= last_scrape);
    assert_eq!(capture["kernel_packets"].as_u64(), Some(received));
    assert_eq!(sent, received + kernel, "{acc}");
    assert_eq!(
        total(&acc["dropped"]) + acc["inspected"].as_u64().unwrap(),
        received
    );
}

#[test]
fn geneve_and_ipv6_listeners_receive() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let s = Sensor::start(&[
        "--no-rules",
        "--workers",
        "1",
        "--set",
        "listen.vxlan=[\"127.0.0.1:0\", \"[::1]:0\"]",
        "--set",
        "listen.geneve=[\"127.0.0.1:0\"]",
    ]);
    let find = |prefix: &str| {
        s.listeners
            .iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, a)| *a)
    };
    let geneve = find("geneve 127.0.0.1").expect("a GENEVE socket");
    // Plain frames, wrapped as a Gateway Load Balancer endpoint delivers them.
    let plain = dir.path().join("plain.pcap");
    let records: Vec<Record> = inner_frames(5, 5)
        .into_iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1000, f))
        .collect();
    std::fs::write(&plain, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    let sent_gwlb = send_to(&geneve.to_string(), &["--gwlb", "--vni", "77"], &plain);
    let mut sent = sent_gwlb;
    // IPv6, where the host has it (the socket is skipped with a warning otherwise).
    let v6 = find("vxlan [::1]");
    if let Some(a) = v6 {
        let cap = vxlan_pcap(dir.path(), "v6.pcap", &inner_frames(5, 6));
        sent += send_to(&a.to_string(), &[], &cap);
    }
    s.wait_metric(
        "mirador_packets_received_total",
        sent as f64,
        Duration::from_secs(30),
    );
    let m = s.metrics();
    let geneve_label =
        "mirador_listener_datagrams_total{listener=\"geneve 127.0.0.1:0\"}".to_string();
    assert_eq!(
        m.get(&geneve_label).copied(),
        Some(sent_gwlb as f64),
        "{m:?}"
    );
    let (status, records) = s.stop();
    assert!(status.success());
    let acc = final_accounting(&records);
    assert_eq!(balanced(&acc), sent);
    assert_eq!(acc["inspected"].as_u64(), Some(sent));
    let gwlb: Vec<&Value> = records
        .iter()
        .filter(|r| r["mirror"]["encap"] == "gwlb")
        .collect();
    assert!(!gwlb.is_empty(), "GWLB-wrapped flows");
    for r in &gwlb {
        assert_eq!(r["mirror"]["vni"], 77, "{r}");
        // The address enclosing the VXLAN: the source ENI (the sender wraps
        // as 10.0.1.15), not the GENEVE sender.
        assert_eq!(r["mirror"]["outer_src_ip"], "10.0.1.15", "{r}");
    }
    if v6.is_some() {
        assert!(
            records
                .iter()
                .any(|r| r["mirror"]["outer_src_ip"] == "0000:0000:0000:0000:0000:0000:0000:0001"),
            "flows received on the IPv6 socket carry the IPv6 source"
        );
    }
}

#[test]
fn sighup_reopens_the_eve_file_and_rotation_loses_nothing() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("live.rules");
    std::fs::write(&rules, RULES).unwrap();
    let s = Sensor::start(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        "2",
        "--set",
        "flow-timeouts.tcp.closed=0",
    ]);
    s.send(&[], &vxlan_pcap(dir.path(), "a.pcap", &inner_frames(10, 1)));
    s.wait_metric("mirador_alerts_total", 30.0, Duration::from_secs(30));
    // What logrotate does: move the file, then SIGHUP.
    std::thread::sleep(Duration::from_millis(300)); // a tick writes what is pending
    let moved = s.dir.path().join("eve.json.1");
    std::fs::rename(&s.eve, &moved).unwrap();
    s.signal(1);
    s.wait_metric("mirador_reloads_total", 1.0, Duration::from_secs(60));
    // The moved file is complete once reopened (the sensor's folder goes
    // with the sensor: read it now).
    std::thread::sleep(Duration::from_millis(300));
    let old = sensor::read_eve(&moved);
    s.send(&[], &vxlan_pcap(dir.path(), "b.pcap", &inner_frames(10, 2)));
    s.wait_metric("mirador_alerts_total", 60.0, Duration::from_secs(30));
    let (status, fresh) = s.stop();
    assert!(status.success());
    let tagged = |records: &[Value], tag: &str| {
        records
            .iter()
            .filter(|r| r["event_type"] == "alert")
            .filter(|r| {
                [&r["src_ip"], &r["dest_ip"]]
                    .iter()
                    .any(|a| a.as_str().is_some_and(|a| a.starts_with(tag)))
            })
            .count()
    };
    // Every record is in one file or the other, none in both.
    assert_eq!(tagged(&old, "10.1.") + tagged(&fresh, "10.1."), 30);
    assert_eq!(tagged(&old, "10.2.") + tagged(&fresh, "10.2."), 30);
    assert_eq!(
        tagged(&fresh, "10.2."),
        30,
        "after the SIGHUP, records go to the new file"
    );
    assert!(tagged(&old, "10.1.") > 0, "before it, to the moved one");
    assert!(fresh.iter().any(|r| r["event_type"] == "stats"));
}
