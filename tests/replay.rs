//! Scenario tests through `mirador replay`, on captures built here with the
//! test kit's encoders (independent of the decoder): session attribution,
//! filters, allow-lists, anomalies, truncation, accounting, and output that
//! does not depend on the worker count.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;
use serde_json::{Value, json};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const SENSOR: &str = "10.0.0.100";

/// A VXLAN-mirrored copy of `inner` from ENI `eni` with `vni`.
fn mirrored(eni: &str, vni: u32, inner: &[u8]) -> Vec<u8> {
    tunnel::vxlan_frame(ip(eni), ip(SENSOR), 49152 + (vni as u16), vni, inner)
}

fn write_pcap(dir: &Path, name: &str, frames: Vec<Vec<u8>>) -> PathBuf {
    let records: Vec<Record> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1000, f))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    path
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("mirador.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

const TWO_SESSIONS: &str = r#"
mirror:
  unknown-session: drop
  sessions:
    - id: tms-0000000000000000a
      name: web-a
      vni: 42
      source-ips: [10.0.1.15]
      source-eni: eni-0aaaaaaaaaaaaaaaa
      eni-addresses: [10.0.1.15]
      tenant: prod
      filter: no-ssh
    - id: tms-0000000000000000b
      name: web-b
      vni: 42
      source-ips: [10.0.2.20]
      source-eni: eni-0bbbbbbbbbbbbbbbb
      eni-addresses: [10.0.2.20]
      tenant: prod
filters:
  no-ssh:
    ingress:
      - rule-number: 200
        action: accept
        source-cidr: 0.0.0.0/0
        destination-cidr: 0.0.0.0/0
      - rule-number: 100
        action: reject
        protocol: 6
        source-cidr: 0.0.0.0/0
        destination-cidr: 0.0.0.0/0
        destination-port: 22
    egress:
      - rule-number: 100
        action: accept
        protocol: 17
        source-cidr: 0.0.0.0/0
        destination-cidr: 0.0.0.0/0
"#;

fn session<'a>(stats: &'a Value, name: &str) -> &'a Value {
    &stats["mirror"]["sessions"][name]
}

#[test]
fn sessions_filters_and_accounting() {
    let dir = tempfile::tempdir().unwrap();
    let web = |src: &str, dst: &str, sp, dp| FrameSpec::tcp(ip(src), ip(dst), sp, dp).build().bytes;
    let dns = FrameSpec::udp(ip("10.0.1.15"), ip("10.0.0.2"), 5353, 53)
        .payload(vec![0; 20])
        .build()
        .bytes;
    let frames = vec![
        // web-a ingress https: accepted by rule 200.
        mirrored(
            "10.0.1.15",
            42,
            &web("198.51.100.7", "10.0.1.15", 40000, 443),
        ),
        // web-a ingress ssh: rejected by rule 100 although listed second.
        mirrored(
            "10.0.1.15",
            42,
            &web("198.51.100.7", "10.0.1.15", 40001, 22),
        ),
        // web-a egress TCP: the egress list only accepts UDP: no match.
        mirrored(
            "10.0.1.15",
            42,
            &web("10.0.1.15", "198.51.100.7", 443, 40000),
        ),
        // web-a egress DNS: accepted.
        mirrored("10.0.1.15", 42, &dns),
        // web-a, neither address is the ENI's: inspected, no direction.
        mirrored("10.0.1.15", 42, &web("192.0.2.1", "192.0.2.2", 1, 2)),
        // web-b (same VNI, other ENI): no filter, inspected.
        mirrored(
            "10.0.2.20",
            42,
            &web("198.51.100.7", "10.0.2.20", 40002, 22),
        ),
        // VNI 42 from an undeclared source: ambiguous, dropped as unknown.
        mirrored("10.0.3.30", 42, &web("198.51.100.7", "10.0.3.30", 1, 2)),
        // VNI 7: undeclared.
        mirrored("10.0.1.15", 7, &web("198.51.100.7", "10.0.1.15", 1, 2)),
    ];
    let cap = write_pcap(dir.path(), "s.pcap", frames);
    let cfg = write_config(dir.path(), TWO_SESSIONS);
    let r = replay(&["--config", cfg.to_str().unwrap(), cap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    assert_eq!(r.assert_balanced(), 8);
    let s = r.stats();
    assert_eq!(
        s["accounting"],
        json!({"received": 8, "inspected": 4, "truncated": 0, "invalid": {},
               "filtered": {"session_filter": 2, "unknown_session": 2}, "dropped": {}})
    );
    let a = session(s, "web-a");
    assert_eq!(a["received"], 5);
    assert_eq!(a["inspected"], 3);
    assert_eq!(a["filtered"], 2);
    assert_eq!(a["no_direction"], 1);
    assert_eq!(a["tenant"], "prod");
    assert_eq!(
        a["filter"]["accepted"],
        json!({"ingress:200": 1, "egress:100": 1})
    );
    assert_eq!(a["filter"]["rejected"], json!({"ingress:100": 1}));
    assert_eq!(
        a["filter"]["no_match"],
        json!({"ingress": 0, "egress": 1, "non_ip": 0})
    );
    let b = session(s, "web-b");
    assert_eq!(
        (b["received"].as_u64(), b["inspected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["decoder"]["vxlan"], 8);
}

#[test]
fn unknown_sessions_are_inspected_anonymously_by_default() {
    let dir = tempfile::tempdir().unwrap();
    // Three different packets (the same one from two sources of a tenant
    // would be a duplicate).
    let inner = |port| {
        FrameSpec::udp(ip("10.1.0.1"), ip("10.1.0.2"), port, 2000)
            .build()
            .bytes
    };
    let cap = write_pcap(
        dir.path(),
        "a.pcap",
        vec![
            mirrored("10.0.1.15", 42, &inner(1000)),
            mirrored("10.0.1.16", 42, &inner(1001)),
            mirrored("10.0.1.15", 9, &inner(1002)),
        ],
    );
    let r = replay(&["--no-rules", cap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    let s = r.stats();
    assert_eq!(s["accounting"]["inspected"], 3);
    let v42 = session(s, "anonymous vni 42");
    assert_eq!(
        (v42["received"].as_u64(), v42["tenant"].as_str()),
        (Some(2), Some("42"))
    );
    assert_eq!(v42["anonymous"], true);
    assert_eq!(session(s, "anonymous vni 9")["received"], 1);
}

#[test]
fn allow_lists_filter_before_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let inner = FrameSpec::udp(ip("10.1.0.1"), ip("10.1.0.2"), 1000, 2000)
        .build()
        .bytes;
    let cap = write_pcap(
        dir.path(),
        "a.pcap",
        vec![
            mirrored("10.0.1.15", 42, &inner),
            mirrored("192.168.9.9", 42, &inner),
            mirrored("10.0.1.15", 500, &inner),
            mirrored("10.0.1.15", 150, &inner),
        ],
    );
    let r = replay(&[
        "--set",
        "mirror.source-allow=[10.0.0.0/16]",
        "--set",
        "mirror.vni-allow=[42, 100-200]",
        cap.to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
    assert_eq!(
        r.stats()["accounting"]["filtered"],
        json!({"source_not_allowed": 1, "vni_not_allowed": 1})
    );
    assert_eq!(r.stats()["accounting"]["inspected"], 2);
}

#[test]
fn invalid_packets_get_anomaly_records_with_the_mirror_object() {
    let dir = tempfile::tempdir().unwrap();
    let good = FrameSpec::tcp(ip("10.1.0.1"), ip("10.1.0.2"), 1000, 80)
        .build()
        .bytes;
    // Inner IPv4 header cut in the middle: nothing inspectable.
    let cut_ip = mirrored("10.0.1.15", 42, &good[..14 + 12]);
    // An inner frame of an EtherType VXLAN does not carry (0x88cc LLDP).
    let mut lldp = good.clone();
    lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
    let unknown = mirrored("10.0.1.15", 42, &lldp);
    // Truncated by PacketLength-like cut: still inspected.
    let long = FrameSpec::tcp(ip("10.1.0.1"), ip("10.1.0.2"), 1000, 80)
        .payload(vec![b'x'; 100])
        .build()
        .bytes;
    let truncated = mirrored("10.0.1.15", 42, &long[..14 + 20 + 20 + 10]);
    let cap = write_pcap(
        dir.path(),
        "bad.pcap",
        vec![cut_ip, unknown, truncated, vec![0u8; 7]],
    );
    let r = replay(&[cap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    r.assert_balanced();
    let anomalies = r.events("anomaly");
    let events: Vec<&str> = anomalies
        .iter()
        .map(|a| a["anomaly"]["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "decoder.ipv4.pkt_too_small",
            "decoder.vxlan.unknown_payload_type",
            "decoder.ethernet.pkt_too_small"
        ]
    );
    let first = anomalies[0];
    assert_eq!(first["pcap_cnt"], 1);
    assert_eq!(first["anomaly"]["type"], "decode");
    assert_eq!(first["mirror"]["encap"], "vxlan");
    assert_eq!(first["mirror"]["vni"], 42);
    assert_eq!(first["mirror"]["outer_src_ip"], "10.0.1.15");
    assert!(
        anomalies[2].get("mirror").is_none(),
        "not encapsulated: no mirror object"
    );
    let a = &r.stats()["accounting"];
    assert_eq!(a["inspected"], 1);
    assert_eq!(a["truncated"], 1);
    assert_eq!(a["invalid"]["decoder.ipv4.pkt_too_small"], 1);
}

#[test]
fn output_does_not_depend_on_the_worker_count() {
    let demo = project_pcap("demo-vxlan.pcap");
    let strip = |r: &Replay| -> Vec<Value> {
        let mut v: Vec<Value> = r
            .records
            .iter()
            .filter(|x| x["event_type"] != "stats")
            .cloned()
            .collect();
        v.sort_by_key(|x| x.to_string());
        v
    };
    let one = replay(&["--workers", "1", demo.to_str().unwrap()]);
    let four = replay(&["--workers", "4", demo.to_str().unwrap()]);
    assert!(one.output.status.success() && four.output.status.success());
    // Flow records are part of what must not change.
    let flows = one.events("flow").len();
    assert!(flows > 10, "{flows} flow records");
    assert_eq!(strip(&one), strip(&four));
    assert_eq!(one.stats()["accounting"], four.stats()["accounting"]);
    assert_eq!(one.stats()["flow"], four.stats()["flow"]);
    assert_eq!(one.stats()["workers"].as_array().unwrap().len(), 1);
    let workers = four.stats()["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 4);
    assert!(
        workers
            .iter()
            .filter(|w| w["packets"].as_u64() > Some(0))
            .count()
            >= 2,
        "{workers:?}"
    );
}

#[test]
fn demo_capture_replays_with_no_flags_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let demo = project_pcap("demo-vxlan.pcap");
    // No --eve: eve.json in the current folder.
    let out = mirador()
        .current_dir(dir.path())
        .arg("replay")
        .arg(&demo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = std::fs::read_to_string(dir.path().join("eve.json")).unwrap();
    let last: Value = serde_json::from_str(eve.lines().last().unwrap()).unwrap();
    assert_eq!(last["event_type"], "stats");
    assert!(last["stats"]["accounting"]["inspected"].as_u64().unwrap() > 100);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("inspected"), "{stderr}");
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "mirror:\n  sessions:\n    - name: x\n      vnii: 3\n",
    );
    let r = replay(&[
        "--config",
        cfg.to_str().unwrap(),
        project_pcap("demo-vxlan.pcap").to_str().unwrap(),
    ]);
    assert!(!r.output.status.success());
    let e = r.stderr();
    assert!(e.contains("mirador.yaml:4") && e.contains("vnii"), "{e}");
    let r = replay(&[
        "--set",
        "stream.nope=1",
        project_pcap("demo-vxlan.pcap").to_str().unwrap(),
    ]);
    assert!(!r.output.status.success());
    assert!(r.stderr().contains("nope"), "{}", r.stderr());
}

#[test]
fn suricata_keys_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("empty.rules");
    std::fs::write(&rules, "# no rules\n").unwrap();
    let r = replay(&[
        "--set",
        "stream.midstream=true",
        "--set",
        "stream.async-oneside=no",
        "--set",
        "stream.inline=false",
        "--set",
        "stream.reassembly.depth=1mb",
        "--set",
        "flow-timeouts.tcp.established=600",
        "--set",
        "checksum-validation=none",
        "--rules",
        rules.to_str().unwrap(),
        project_pcap("demo-vxlan.pcap").to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
}

#[test]
fn a_missing_rule_file_is_an_error_naming_it() {
    let r = replay(&[
        "--rules",
        "no-such.rules",
        project_pcap("demo-vxlan.pcap").to_str().unwrap(),
    ]);
    assert!(!r.output.status.success());
    assert!(r.stderr().contains("no-such.rules"), "{}", r.stderr());
}

#[test]
fn unsupported_linktype_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wifi.pcap");
    std::fs::write(
        &path,
        pcap(105, TsResolution::Micro, &[Record::new(0, vec![0; 30])]).unwrap(),
    )
    .unwrap();
    let r = replay(&[path.to_str().unwrap()]);
    assert!(!r.output.status.success());
    assert!(r.stderr().contains("LINKTYPE_IEEE802_11"), "{}", r.stderr());
    // Still a stats record: nothing read is lost, and nothing was read.
    assert_eq!(r.stats()["accounting"]["received"], 0);
}

#[test]
fn pcap_encap_output_replays_as_the_mirror_of_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let plain = project_pcap("plain.pcap");
    let wrapped = dir.path().join("wrapped.pcap");
    for gwlb in [false, true] {
        let mut cmd = mirador();
        cmd.args([
            "pcap",
            "encap",
            "--vni",
            "77",
            "--src-ip",
            "10.0.5.5",
            "--packet-length",
            "96",
        ]);
        if gwlb {
            cmd.arg("--gwlb");
        }
        let out = cmd.arg(&plain).arg(&wrapped).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let before = replay(&[plain.to_str().unwrap()]);
        let after = replay(&[wrapped.to_str().unwrap()]);
        assert!(after.output.status.success());
        let (b, a) = (&before.stats()["accounting"], &after.stats()["accounting"]);
        assert_eq!(a["received"], b["received"]);
        assert_eq!(a["inspected"], b["inspected"]);
        let sess = session(after.stats(), "anonymous vni 77");
        assert_eq!(sess["received"], b["received"]);
        assert_eq!(
            after.stats()["decoder"][if gwlb { "gwlb" } else { "vxlan" }],
            b["received"]
        );
        assert!(
            a["truncated"].as_u64().unwrap() > 0,
            "--packet-length 96 truncates"
        );
    }
}

#[test]
fn example_config_names_the_demo_sessions_and_filters_inbound_ssh() {
    let cfg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.yaml");
    let r = replay(&[
        "--config",
        cfg.to_str().unwrap(),
        project_pcap("demo-vxlan.pcap").to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
    r.assert_balanced();
    let s = r.stats();
    let a = session(s, "app-a");
    // Inbound SSH to app-a is rejected by rule 100; everything else passes.
    let rejected = a["filter"]["rejected"]["ingress:100"].as_u64().unwrap();
    assert!(rejected > 0);
    assert_eq!(
        s["accounting"]["filtered"],
        json!({"session_filter": rejected})
    );
    assert_eq!(a["session_id"], "tms-0a1b2c3d4e5f60789");
    let b = session(s, "app-b");
    assert_eq!(b["received"], b["inspected"]);
    assert!(
        b["truncated"].as_u64().unwrap() > 0,
        "app-b mirrors 128 bytes per packet"
    );
    assert!(r.stderr().contains("session app-a"));
}

#[test]
fn eve_goes_where_the_config_says_unless_the_flag_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        "outputs:\n  eve:\n    filename: from-config.json\n",
    );
    let demo = project_pcap("demo-vxlan.pcap");
    let out = mirador()
        .current_dir(dir.path())
        .arg("replay")
        .arg("--config")
        .arg(&cfg)
        .arg(&demo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("from-config.json").exists());
    // `--eve -` writes EVE to stdout and nothing to the file.
    std::fs::remove_file(dir.path().join("from-config.json")).unwrap();
    let out = mirador()
        .current_dir(dir.path())
        .args(["replay", "--eve", "-", "--config"])
        .arg(&cfg)
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!dir.path().join("from-config.json").exists());
    let last = String::from_utf8(out.stdout).unwrap();
    let last: Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(last["event_type"], "stats");
}

#[test]
fn copies_from_both_enis_are_filtered_as_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    // Both ends are mirror sources of one tenant: A (10.0.1.15, whole
    // frames) and B (10.0.2.20, PacketLength 96).
    let cfg = write_config(
        dir.path(),
        r#"
mirror:
  sessions:
    - {name: a, vni: 42, source-ips: [10.0.1.15], eni-addresses: [10.0.1.15], tenant: prod}
    - {name: b, vni: 42, source-ips: [10.0.2.20], eni-addresses: [10.0.2.20], tenant: prod, packet-length: 96}
"#,
    );
    let seg = |seq: u32| {
        FrameSpec::tcp(ip("10.0.1.15"), ip("10.0.2.20"), 40000, 443)
            .seq_ack(seq, 1)
            .payload(vec![b'x'; 400])
            .build()
            .bytes
    };
    let (s1, s2) = (seg(1000), seg(1400));
    let frames = vec![
        mirrored("10.0.1.15", 42, &s1),
        mirrored("10.0.2.20", 42, &s1[..96]), // B's copy of s1: duplicate
        mirrored("10.0.2.20", 42, &s2[..96]), // B sees s2 first
        mirrored("10.0.1.15", 42, &s2),       // A's copy: duplicate (fuller)
        mirrored("10.0.1.15", 42, &s1),       // A retransmits s1: kept
        mirrored("10.0.2.20", 42, &s1[..96]), // and B's copy of it: duplicate
    ];
    let cap = write_pcap(dir.path(), "dup.pcap", frames);
    let r = replay(&["--config", cfg.to_str().unwrap(), cap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    assert_eq!(r.assert_balanced(), 6);
    let s = r.stats();
    assert_eq!(s["accounting"]["filtered"], json!({"duplicate": 3}));
    assert_eq!(s["accounting"]["inspected"], 3);
    assert_eq!(s["mirror"]["dedup"]["duplicates_fuller_than_kept"], 1);
    assert_eq!(session(s, "a")["duplicates"], 1);
    assert_eq!(session(s, "b")["duplicates"], 2);
    // With dedup off every copy is inspected.
    let r = replay(&[
        "--config",
        cfg.to_str().unwrap(),
        "--set",
        "mirror.dedup.enabled=no",
        cap.to_str().unwrap(),
    ]);
    assert_eq!(r.stats()["accounting"]["inspected"], 6);
    // Copies through sessions of different tenants are not copies.
    let other = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("tenant: prod, packet", "tenant: dev, packet");
    let cfg2 = dir.path().join("other.yaml");
    std::fs::write(&cfg2, other).unwrap();
    let r = replay(&["--config", cfg2.to_str().unwrap(), cap.to_str().unwrap()]);
    assert_eq!(r.stats()["accounting"]["inspected"], 6);
}
