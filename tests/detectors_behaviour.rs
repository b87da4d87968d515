//! The behavioural detectors through `mirador replay`, on captures built
//! here: DNS tunnelling (long random names, TXT volume), beaconing hidden
//! in noise, volume exfiltration, unexpected connections. Each positive
//! case fires with its evidence whatever the worker count; each near miss
//! stays quiet; a tenant's override turns a detector off for its sessions
//! only.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use serde_json::Value;

const SEC: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
/// Packet time of every capture's start.
const T0: u64 = 1_700_000_000 * SEC;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A capture of (time in ns, frame), sorted by time (stable).
fn write(dir: &Path, name: &str, mut frames: Vec<(u64, Vec<u8>)>) -> PathBuf {
    frames.sort_by_key(|(t, _)| *t);
    let records: Vec<Record> = frames.into_iter().map(|(t, f)| Record::new(t, f)).collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

/// Frames 1 ms apart from `t`.
fn at(t: u64, frames: Vec<Vec<u8>>) -> impl Iterator<Item = (u64, Vec<u8>)> {
    frames
        .into_iter()
        .enumerate()
        .map(move |(i, f)| (t + i as u64 * MS, f))
}

/// A seeded pseudo-random sequence (Knuth's MMIX LCG): deterministic
/// captures without a random crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        f64::from(self.next()) / f64::from(1u32 << 31)
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u32) -> u32 {
        (self.unit() * f64::from(n)) as u32
    }
}

/// Detector alerts: (sid, src, dest, evidence), counted.
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

/// The detector alerts of one replay.
fn alerts(r: &Replay) -> Vec<&Value> {
    r.events("alert")
        .into_iter()
        .filter(|a| a["alert"]["gid"] == 9000)
        .collect()
}

/// Replays `pcap` (`--no-rules`, and `extra`) with one worker and with
/// four; asserts both give the same detections and returns the first.
fn replay_both(pcap: &Path, extra: &[&str]) -> Replay {
    let run = |workers: &str| {
        let mut args = vec!["--no-rules", "--workers", workers];
        args.extend_from_slice(extra);
        args.push(pcap.to_str().unwrap());
        let r = replay(&args);
        assert!(r.output.status.success(), "{}", r.stderr());
        r
    };
    let one = run("1");
    let four = run("4");
    assert_eq!(
        detections(&one.records),
        detections(&four.records),
        "1 worker vs 4 workers"
    );
    one
}

/// Replays `pcap` once (`--no-rules`, and `extra`).
fn replay_once(pcap: &Path, extra: &[&str]) -> Replay {
    let mut args = vec!["--no-rules"];
    args.extend_from_slice(extra);
    args.push(pcap.to_str().unwrap());
    let r = replay(&args);
    assert!(r.output.status.success(), "{}", r.stderr());
    r
}

// ----------------------------------------------------------------------
// DNS tunnelling

const CLIENT: &str = "10.2.0.20";
const RESOLVER: &str = "10.2.0.53";

/// A DNS message on the wire (RFC 1035 4.1): header with one question,
/// the name as labels, QTYPE, QCLASS IN.
fn dns_message(id: u16, flags: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend(id.to_be_bytes());
    m.extend(flags.to_be_bytes());
    m.extend(1u16.to_be_bytes()); // QDCOUNT
    m.extend([0; 6]); // ANCOUNT, NSCOUNT, ARCOUNT
    for label in name.split('.') {
        assert!(!label.is_empty() && label.len() <= 63, "{label:?}");
        m.push(label.len() as u8);
        m.extend(label.as_bytes());
    }
    m.push(0);
    m.extend(qtype.to_be_bytes());
    m.extend(1u16.to_be_bytes());
    m
}

/// Each (name, qtype) queried by [`CLIENT`] from [`RESOLVER`], 500 ms
/// apart, each from its own source port; every other one answered
/// NXDOMAIN 20 ms later.
fn dns_capture(queries: &[(String, u16)]) -> Vec<(u64, Vec<u8>)> {
    let mut f = Vec::new();
    for (i, (name, qtype)) in queries.iter().enumerate() {
        let t = T0 + i as u64 * 500 * MS;
        let id = 0x1000 + i as u16;
        let sport = 30000 + i as u16;
        let q = dns_message(id, 0x0100, name, *qtype);
        f.push((
            t,
            FrameSpec::udp(ip(CLIENT), ip(RESOLVER), sport, 53)
                .payload(q)
                .build()
                .bytes,
        ));
        if i % 2 == 0 {
            let a = dns_message(id, 0x8183, name, *qtype);
            f.push((
                t + 20 * MS,
                FrameSpec::udp(ip(RESOLVER), ip(CLIENT), 53, sport)
                    .payload(a)
                    .build()
                    .bytes,
            ));
        }
    }
    f
}

/// `n` characters of the base32 alphabet (iodine's encoding), at random.
fn base32(rng: &mut Lcg, n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..n)
        .map(|_| char::from(ALPHABET[rng.below(32) as usize]))
        .collect()
}

/// Ordinary lookups: short names, a few repeated.
fn ordinary_names() -> Vec<(String, u16)> {
    let names = [
        "www.example.com",
        "api.github.com",
        "mail.google.com",
        "s3.eu-west-1.amazonaws.com",
        "ocsp.digicert.com",
        "login.microsoftonline.com",
        "www.bbc.co.uk",
        "time.aws.com",
    ];
    let mut v: Vec<(String, u16)> = names
        .iter()
        .cycle()
        .take(30)
        .map(|n| (n.to_string(), 1))
        .collect();
    v.push(("_dmarc.example.com".into(), 16));
    v.push(("example.com".into(), 16));
    v
}

#[test]
fn dns_tunnel_long_random_names_fire() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(8);
    // 50 queries of a 60-character random label under t.evil-c2.com,
    // between ordinary lookups: 60 queries in about 30 s.
    let mut queries = Vec::new();
    let ordinary = ordinary_names();
    for i in 0..50 {
        queries.push((format!("{}.t.evil-c2.com", base32(&mut rng, 60)), 1));
        if i % 5 == 0 {
            queries.push(ordinary[i / 5].clone());
        }
    }
    let pcap = write(dir.path(), "tunnel.pcap", dns_capture(&queries));
    let r = replay_both(&pcap, &[]);
    let a = alerts(&r);
    assert_eq!(a.len(), 1, "{:?}", detections(&r.records));
    assert_eq!(a[0]["alert"]["signature_id"], 8);
    assert_eq!(a[0]["src_ip"], CLIENT);
    let ev = &a[0]["alert"]["evidence"];
    assert_eq!(ev["detector"], "dns-tunnel");
    assert_eq!(ev["domain"], "evil-c2.com", "{ev}");
    assert_eq!(ev["reason"], "long high-entropy names", "{ev}");
    assert!(ev["suspicious"].as_u64().unwrap() >= 30, "{ev}");
    assert!(ev["distinct_subdomains"].as_u64().unwrap() >= 10, "{ev}");
    assert!(ev["mean_entropy"].as_f64().unwrap() >= 3.5, "{ev}");
    assert!(ev["first_seen"].is_string() && ev["last_seen"].is_string());
    // The DNS records are there too: the queries were parsed as DNS.
    assert!(r.events("dns").len() >= 60, "{}", r.events("dns").len());
}

#[test]
fn dns_ordinary_names_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(9);
    let mut queries = ordinary_names();
    // A few long names: a handful of random ones under one domain (too few
    // to be a tunnel), long readable ones, a CDN-style hashed name.
    for _ in 0..5 {
        queries.push((format!("{}.t.evil-c2.com", base32(&mut rng, 60)), 1));
    }
    queries.push((
        "this-is-a-rather-long-but-perfectly-readable-hostname.example.org".into(),
        1,
    ));
    queries.push((
        "another-long-descriptive-service-name-for-the-intranet.corp.example.net".into(),
        28,
    ));
    queries.push(("d1a2b3c4d5e6f7.cloudfront.net".into(), 1));
    let pcap = write(dir.path(), "ordinary.pcap", dns_capture(&queries));
    let r = replay_once(&pcap, &[]);
    assert!(alerts(&r).is_empty(), "{:?}", detections(&r.records));
    assert!(r.events("dns").len() >= queries.len());
}

#[test]
fn dns_txt_volume_fires() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(16);
    // 50 TXT queries of short distinct names (8 characters: not long
    // enough to be suspicious by themselves).
    let queries: Vec<(String, u16)> = (0..50)
        .map(|_| (format!("{}.evil-c2.com", base32(&mut rng, 8)), 16))
        .collect();
    let pcap = write(dir.path(), "txt.pcap", dns_capture(&queries));
    let r = replay_both(&pcap, &[]);
    let a = alerts(&r);
    assert_eq!(a.len(), 1, "{:?}", detections(&r.records));
    assert_eq!(a[0]["alert"]["signature_id"], 8);
    assert_eq!(a[0]["src_ip"], CLIENT);
    let ev = &a[0]["alert"]["evidence"];
    assert_eq!(ev["domain"], "evil-c2.com", "{ev}");
    assert_eq!(ev["reason"], "TXT/NULL volume", "{ev}");
    assert!(ev["txt_null"].as_u64().unwrap() >= 40, "{ev}");
    assert_eq!(ev["suspicious"], 0, "{ev}");
}

// ----------------------------------------------------------------------
// Beaconing

const BEACON_SRC: &str = "10.4.0.40";
const C2: &str = "203.0.113.7";

/// A short HTTPS-like check-in from `src:sport` to `dst:dport` at `t`.
fn check_in(t: u64, src: &str, sport: u16, dst: &str, dport: u16) -> Vec<(u64, Vec<u8>)> {
    let conv = tcp_conversation(
        (ip(src), sport),
        (ip(dst), dport),
        &[(true, b"GET /beacon"), (false, b"200 OK")],
        true,
    );
    at(t, conv).collect()
}

/// `beats` check-ins of [`BEACON_SRC`] to [`C2`]:443 every 60 s ± 15%
/// (when `regular`; else at exponential times of mean 60 s), among 120
/// connections of the same host to 50 other external hosts at random
/// times over the same span.
fn beacon_capture(seed: u64, beats: u32, regular: bool) -> Vec<(u64, Vec<u8>)> {
    let mut rng = Lcg(seed);
    let mut f = Vec::new();
    let mut t = T0;
    for i in 0..beats {
        f.extend(check_in(t, BEACON_SRC, 40000 + i as u16, C2, 443));
        let interval = if regular {
            60.0 * (1.0 + 0.3 * (rng.unit() - 0.5))
        } else {
            -60.0 * (1.0 - rng.unit()).ln()
        };
        t += (interval * 1e9) as u64;
    }
    let span = t - T0;
    for i in 0..120u32 {
        let dst = format!("198.51.100.{}", i % 50 + 1);
        let when = T0 + (rng.unit() * span as f64) as u64;
        f.extend(check_in(when, BEACON_SRC, 50000 + i as u16, &dst, 443));
    }
    f
}

#[test]
fn a_jittered_beacon_among_noise_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "beacon.pcap", beacon_capture(60, 30, true));
    let r = replay_both(&pcap, &[]);
    let a = alerts(&r);
    assert_eq!(a.len(), 1, "{:?}", detections(&r.records));
    assert_eq!(a[0]["alert"]["signature_id"], 9);
    assert_eq!(a[0]["src_ip"], BEACON_SRC);
    assert_eq!(a[0]["dest_ip"], C2);
    let ev = &a[0]["alert"]["evidence"];
    assert_eq!(ev["detector"], "beaconing");
    let period = ev["period"].as_f64().unwrap();
    assert!((54.0..=66.0).contains(&period), "{ev}");
    assert!(ev["jitter"].as_f64().unwrap() <= 0.2, "{ev}");
    assert!(ev["beats"].as_u64().unwrap() >= 12, "{ev}");
    assert_eq!(ev["dst_port"], serde_json::json!([443]));
}

#[test]
fn connections_at_random_times_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "random.pcap", beacon_capture(61, 40, false));
    let r = replay_once(&pcap, &[]);
    assert!(alerts(&r).is_empty(), "{:?}", detections(&r.records));
    // The flows were seen: 40 to the one destination, 120 of noise.
    assert!(r.events("flow").len() >= 160, "{}", r.events("flow").len());
}

// ----------------------------------------------------------------------
// Exfiltration

const UPLOADER: &str = "10.3.0.30";
const DROP: &str = "198.51.100.20";

/// `mb` megabytes (10^6 bytes) uploaded by [`UPLOADER`] to [`DROP`]:443
/// in conversations of 2 MB, one after another, each answered briefly.
fn upload_capture(mb: usize) -> Vec<(u64, Vec<u8>)> {
    let chunk: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut f = Vec::new();
    let mut t = T0;
    for i in 0..mb / 2 {
        let conv = tcp_conversation(
            (ip(UPLOADER), 45000 + i as u16),
            (ip(DROP), 443),
            &[(true, &chunk), (false, b"stored")],
            true,
        );
        let n = conv.len() as u64;
        f.extend(at(t, conv));
        t += n * MS + 5 * SEC;
    }
    f
}

/// The default threshold (1 GiB an hour) is too large for a test capture:
/// it is lowered to 5 MB. The capture ends before the closed flows time
/// out: their bytes count when the flow table shuts down.
const THRESHOLD: &[&str] = &["--set", "detectors.exfiltration.threshold-bytes=5000000"];

#[test]
fn an_upload_over_the_threshold_fires() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "upload.pcap", upload_capture(6));
    let r = replay_both(&pcap, THRESHOLD);
    let a = alerts(&r);
    assert_eq!(a.len(), 1, "{:?}", detections(&r.records));
    assert_eq!(a[0]["alert"]["signature_id"], 10);
    assert_eq!(a[0]["src_ip"], UPLOADER);
    assert_eq!(a[0]["dest_ip"], DROP);
    let ev = &a[0]["alert"]["evidence"];
    assert_eq!(ev["detector"], "exfiltration");
    assert_eq!(ev["reason"], "threshold", "{ev}");
    assert!(ev["bytes"].as_u64().unwrap() >= 5_000_000, "{ev}");
    assert_eq!(ev["threshold"], 5_000_000);
    assert_eq!(ev["flows"], 3, "{ev}");
    assert_eq!(ev["role"], "initiator");
    assert_eq!(ev["ports"], serde_json::json!([443]));
}

#[test]
fn an_upload_under_the_threshold_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "upload.pcap", upload_capture(4));
    let r = replay_once(&pcap, THRESHOLD);
    assert!(alerts(&r).is_empty(), "{:?}", detections(&r.records));
}

// ----------------------------------------------------------------------
// Unexpected connections

const IRC: &str = "198.51.100.9";

/// From 10.1.1.1: two IRC connections (6667) and two HTTPS ones to
/// [`IRC`], and a DNS lookup.
fn policy_capture() -> Vec<(u64, Vec<u8>)> {
    let mut f = Vec::new();
    let convs = [(40000, 6667), (40001, 443), (40002, 6667), (40003, 443)];
    for (i, (sport, dport)) in convs.into_iter().enumerate() {
        let t = T0 + i as u64 * 10 * SEC;
        f.extend(check_in(t, "10.1.1.1", sport, IRC, dport));
    }
    let q = dns_message(7, 0x0100, "irc.example.net", 1);
    f.push((
        T0 + 50 * SEC,
        FrameSpec::udp(ip("10.1.1.1"), ip("10.1.1.53"), 33333, 53)
            .payload(q)
            .build()
            .bytes,
    ));
    f
}

const POLICY: &[&str] = &[
    "--set",
    "detectors.unexpected-connection.enabled=yes",
    "--set",
    r#"detectors.unexpected-connection.allowed=["tcp/443","udp/53"]"#,
    "--set",
    r#"detectors.unexpected-connection.hosts=["10.0.0.0/8"]"#,
];

#[test]
fn unexpected_connections_are_off_by_default_and_fire_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write(dir.path(), "policy.pcap", policy_capture());
    let off = replay_once(&pcap, &[]);
    assert!(alerts(&off).is_empty(), "{:?}", detections(&off.records));
    let r = replay_both(&pcap, POLICY);
    let a = alerts(&r);
    assert_eq!(a.len(), 1, "{:?}", detections(&r.records));
    let x = a[0];
    assert_eq!(x["alert"]["signature_id"], 11);
    assert_eq!(x["src_ip"], "10.1.1.1");
    assert_eq!(x["dest_ip"], IRC);
    // One flow concerned (the first): its ports and Community ID.
    assert_eq!(x["src_port"], 40000);
    assert_eq!(x["dest_port"], 6667);
    assert_eq!(x["proto"], "TCP");
    let cid = x["community_id"].as_str().unwrap();
    assert!(cid.starts_with("1:"), "{cid}");
    let flow_cid = r
        .events("flow")
        .into_iter()
        .find(|f| f["src_port"] == 40000)
        .map(|f| f["community_id"].clone());
    assert_eq!(flow_cid, Some(Value::from(cid)));
    let ev = &x["alert"]["evidence"];
    assert_eq!(ev["detector"], "unexpected-connection");
    assert_eq!(ev["dst_port"], serde_json::json!([6667]));
}

// ----------------------------------------------------------------------
// Per-tenant overrides

/// `capture` wrapped in VXLAN with `vni` by `mirador pcap encap`.
fn encap(capture: &Path, vni: u32, out: &Path) {
    let o = mirador()
        .args(["pcap", "encap", "--vni", &vni.to_string()])
        .arg(capture)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_tenant_turns_beaconing_off_for_its_sessions_only() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "beacon.pcap", beacon_capture(60, 30, true));
    let (v5, v6) = (dir.path().join("vni5.pcap"), dir.path().join("vni6.pcap"));
    encap(&plain, 5, &v5);
    encap(&plain, 6, &v6);
    let cfg = dir.path().join("mirador.yaml");
    std::fs::write(
        &cfg,
        "mirror:\n  sessions: [{vni: 5, tenant: t1}]\n\
         tenants: {t1: {detectors: {beaconing: {enabled: no}}}}\n",
    )
    .unwrap();
    let config = ["--config", cfg.to_str().unwrap()];
    let quiet = replay_once(&v5, &config);
    assert!(
        alerts(&quiet).is_empty(),
        "{:?}",
        detections(&quiet.records)
    );
    let flows = quiet.events("flow");
    assert!(flows.len() >= 150);
    assert!(
        flows.iter().all(|f| f["mirror"]["tenant"] == "t1"),
        "{}",
        flows[0]
    );
    let fires = replay_both(&v6, &config);
    let a = alerts(&fires);
    assert_eq!(a.len(), 1, "{:?}", detections(&fires.records));
    assert_eq!(a[0]["alert"]["signature_id"], 9);
    assert_eq!(a[0]["dest_ip"], C2);
    // The session's `mirror` object, as on other records.
    assert_eq!(a[0]["mirror"]["vni"], 6, "{}", a[0]);
    assert_eq!(a[0]["mirror"]["tenant"], "6", "{}", a[0]);
}
