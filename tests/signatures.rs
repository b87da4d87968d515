//! Signatures through `mirador replay`: stream matching across segments,
//! packet keywords, flowbits across packets, thresholds and xbits across
//! flows identical for any worker count, and the alert record.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::{FrameSpec, tcp_flags::*};
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;

fn write(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(T0 + i as u64 * MS, f.clone()))
        .collect();
    let p = dir.join(name);
    std::fs::write(&p, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    p
}

fn rules(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("test.rules");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(pcap: &Path, rules: &Path, workers: &str) -> Replay {
    let r = replay(&[
        "--rules",
        rules.to_str().unwrap(),
        "--workers",
        workers,
        pcap.to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
    r.assert_balanced();
    r
}

fn alerts(r: &Replay) -> Vec<u64> {
    let mut v: Vec<u64> = r
        .events("alert")
        .iter()
        .map(|a| a["alert"]["signature_id"].as_u64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

fn sorted(r: &Replay) -> Vec<String> {
    let mut v: Vec<String> = r.events("alert").iter().map(|a| a.to_string()).collect();
    v.sort();
    v
}

/// One TCP connection, client 10.9.0.9:40000 → server 10.1.0.1:80, whose
/// client data is `chunks`, each segment acknowledged by the server.
fn connection(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let (c, s) = (ip("10.9.0.9"), ip("10.1.0.1"));
    let seg = |to_s: bool, seq: u32, ack: u32, flags: u8, p: &[u8]| {
        let spec = if to_s {
            FrameSpec::tcp(c, s, 40000, 80)
        } else {
            FrameSpec::tcp(s, c, 80, 40000)
        };
        spec.flags(flags)
            .seq_ack(seq, ack)
            .payload(p.to_vec())
            .build()
            .bytes
    };
    let mut f = vec![
        seg(true, 1000, 0, SYN, b""),
        seg(false, 5000, 1001, SYN | ACK, b""),
        seg(true, 1001, 5001, ACK, b""),
    ];
    let mut seq = 1001u32;
    for ch in chunks {
        f.push(seg(true, seq, 5001, ACK | PSH, ch));
        seq += ch.len() as u32;
        f.push(seg(false, 5001, seq, ACK, b""));
    }
    f
}

#[test]
fn content_split_across_segments_matches_the_stream_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "split.pcap",
        &connection(&[b"GET /ad", b"min.php HTTP/1.1\r\n\r\n"]),
    );
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any 80 (msg:"admin page"; flow:established,to_server; content:"/admin.php"; classtype:web-application-attack; sid:1000001; rev:2;)
alert tcp-pkt any any -> any 80 (msg:"packet only"; content:"/admin.php"; sid:1000002;)
"#,
    );
    for w in ["1", "3"] {
        let out = run(&p, &r, w);
        assert_eq!(alerts(&out), vec![1_000_001], "workers {w}");
        let a = out.events("alert")[0];
        assert_eq!(a["stream"], 1);
        assert_eq!(a["src_ip"], "10.9.0.9");
        assert_eq!(a["dest_port"], 80);
        assert_eq!(a["alert"]["rev"], 2);
        assert_eq!(a["alert"]["category"], "Web Application Attack");
        assert_eq!(a["alert"]["severity"], 1);
        assert_eq!(a["direction"], "to_server");
        assert!(a["community_id"].is_string());
        assert_eq!(a["flow"]["src_ip"], "10.9.0.9");
        assert_eq!(out.stats()["detect"]["alert"], 1);
        assert_eq!(out.stats()["detect"]["engines"][0]["rules_loaded"], 2);
    }
    // In one segment, the packet-only rule matches too.
    let p = write(
        dir.path(),
        "whole.pcap",
        &connection(&[b"GET /admin.php HTTP/1.1\r\n\r\n"]),
    );
    assert_eq!(alerts(&run(&p, &r, "1")), vec![1_000_001, 1_000_002]);
}

#[test]
fn packet_keywords_on_udp_and_icmp() {
    let dir = tempfile::tempdir().unwrap();
    let frames = vec![
        FrameSpec::udp(ip("10.0.0.5"), ip("10.0.0.53"), 5353, 53)
            .payload(b"\x12\x34\x01\x00\x00\x01evil".to_vec())
            .ttl(3)
            .build()
            .bytes,
        FrameSpec::icmp_echo(ip("10.0.0.5"), ip("10.0.0.6"), true, 0x4242, 9)
            .build()
            .bytes,
    ];
    let p = write(dir.path(), "pk.pcap", &frames);
    let r = rules(
        dir.path(),
        r#"alert udp any any -> any 53 (msg:"dns evil"; content:"|01 00 00 01|"; offset:2; depth:4; content:"evil"; distance:0; ttl:<5; dsize:>5; sid:1;)
alert udp any any -> any 53 (msg:"wrong ttl"; content:"evil"; ttl:>5; sid:2;)
alert icmp any any -> any any (msg:"echo"; itype:8; icode:0; icmp_id:16962; icmp_seq:9; sid:3;)
alert icmp any any -> any any (msg:"not a reply"; itype:0; sid:4;)
alert ip any any -> any any (msg:"proto"; ip_proto:1; sid:5;)
"#,
    );
    assert_eq!(alerts(&run(&p, &r, "2")), vec![1, 3, 5]);
}

#[test]
fn flowbits_carry_across_packets_of_one_flow() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "fb.pcap",
        &connection(&[b"USER admin\r\n", b"PASS secret\r\n"]),
    );
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any any (msg:"user"; content:"USER admin"; flowbits:set,admin; flowbits:noalert; sid:10;)
alert tcp any any -> any any (msg:"admin pass"; content:"PASS"; flowbits:isset,admin; sid:11;)
alert tcp any any -> any any (msg:"pass without user"; content:"PASS"; flowbits:isnotset,admin; sid:12;)
"#,
    );
    assert_eq!(alerts(&run(&p, &r, "1")), vec![11]);
}

/// Ten connections from one source to ten servers: one flow each, spread
/// over the workers.
fn many_flows() -> Vec<Vec<u8>> {
    (0..10u8)
        .map(|i| {
            FrameSpec::udp(
                ip("198.51.100.7"),
                IpAddr::from([10, 0, 9, i]),
                40000 + u16::from(i),
                53,
            )
            .payload(b"probe".to_vec())
            .build()
            .bytes
        })
        .collect()
}

#[test]
fn thresholds_across_flows_are_the_same_for_any_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "th.pcap", &many_flows());
    let r = rules(
        dir.path(),
        r#"alert udp any any -> any 53 (msg:"limit"; content:"probe"; threshold:type limit, track by_src, count 2, seconds 60; sid:20;)
alert udp any any -> any 53 (msg:"every 4th"; content:"probe"; threshold:type threshold, track by_src, count 4, seconds 60; sid:21;)
alert udp any any -> any 53 (msg:"after 8"; content:"probe"; detection_filter:track by_src, count 8, seconds 60; sid:22;)
alert udp any any -> any 53 (msg:"by dst"; content:"probe"; threshold:type limit, track by_dst, count 1, seconds 60; sid:23;)
"#,
    );
    let one = run(&p, &r, "1");
    assert_eq!(
        alerts(&one),
        [vec![20, 20], vec![21, 21], vec![22, 22], vec![23; 10]].concat()
    );
    let four = run(&p, &r, "4");
    assert_eq!(sorted(&one), sorted(&four));
    // The first two packets alert for the limit rule, whichever worker
    // had them.
    let limited: Vec<u64> = one
        .events("alert")
        .iter()
        .filter(|a| a["alert"]["signature_id"] == 20)
        .map(|a| a["pcap_cnt"].as_u64().unwrap())
        .collect();
    assert_eq!(limited, vec![1, 2]);
    let busy = four.stats()["workers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["packets"].as_u64() > Some(0))
        .count();
    assert!(busy >= 2, "the flows spread over the workers");
    assert_eq!(four.stats()["host_stage"]["threshold_suppressed"], 40 - 16);
}

#[test]
fn xbits_set_by_one_flow_gate_another() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "xb.pcap", &many_flows());
    let r = rules(
        dir.path(),
        // The check runs first on a packet: Suricata orders xbits readers
        // before rules that do not read xbits (its sort does not count
        // `xbits:set` as a use), so the first packet does not see its own
        // set.
        r#"alert udp any any -> any 53 (msg:"seen before"; content:"probe"; xbits:isset,seen,track ip_src; sid:31;)
alert udp any any -> 10.0.9.0 53 (msg:"mark source"; content:"probe"; xbits:set,seen,track ip_src, expire 60; noalert; sid:30;)
"#,
    );
    let one = run(&p, &r, "1");
    // The first packet sets the bit (and does not alert); the other nine
    // find it, whichever worker has their flow.
    assert_eq!(alerts(&one), vec![31; 9]);
    assert_eq!(sorted(&one), sorted(&run(&p, &r, "4")));
}

#[test]
fn check_rules_json_reports_loaded_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any any (content:"x"; sid:1;)
alert smtp any any -> any any (content:"x"; sid:2;)
alert tcp any any -> any any (content:"x"; depth:0; sid:3;)
"#,
    );
    let out = mirador()
        .args(["check-rules", "--json", r.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["loaded"], 1);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["reasons"]["protocol smtp"], 1);
    assert_eq!(v["reasons"]["invalid depth"], 1);
}

#[test]
fn threshold_config_suppresses_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "tc.pcap", &many_flows());
    let r = rules(
        dir.path(),
        r#"alert udp any any -> any 53 (msg:"limited by threshold.config"; content:"probe"; sid:40;)
alert udp any any -> any 53 (msg:"suppressed"; content:"probe"; sid:41;)
alert udp any any -> any 53 (msg:"suppressed for some destinations"; content:"probe"; sid:42;)
"#,
    );
    let tc = dir.path().join("threshold.config");
    std::fs::write(
        &tc,
        "threshold gen_id 1, sig_id 40, type limit, track by_src, count 3, seconds 60\n\
         suppress gen_id 1, sig_id 41\n\
         suppress gen_id 1, sig_id 42, track by_dst, ip [10.0.9.0/30]\n",
    )
    .unwrap();
    let run_tc = |w: &str| {
        let out = replay(&[
            "--rules",
            r.to_str().unwrap(),
            "--set",
            &format!("threshold-file={}", tc.display()),
            "--workers",
            w,
            p.to_str().unwrap(),
        ]);
        assert!(out.output.status.success(), "{}", out.stderr());
        out
    };
    let one = run_tc("1");
    // 3 limited, none of 41, and 42 for the six destinations outside
    // 10.0.9.0/30.
    assert_eq!(alerts(&one), [vec![40; 3], vec![42; 6]].concat());
    assert_eq!(one.stats()["detect"]["alerts_suppressed"], 10 + 4 + 7);
    assert_eq!(sorted(&one), sorted(&run_tc("3")));
}

#[test]
fn stream_data_left_at_the_end_of_the_flow_is_inspected() {
    // The last segment is never acknowledged: it is inspected when the
    // flow ends, as Suricata does, and says so in `pkt_src`.
    let dir = tempfile::tempdir().unwrap();
    let mut frames = connection(&[b"hello "]);
    let (c, s) = (ip("10.9.0.9"), ip("10.1.0.1"));
    frames.push(
        FrameSpec::tcp(c, s, 40000, 80)
            .flags(ACK | PSH)
            .seq_ack(1007, 5001)
            .payload(b"unacked secret".to_vec())
            .build()
            .bytes,
    );
    let p = write(dir.path(), "end.pcap", &frames);
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any 80 (msg:"end"; flow:to_server; content:"secret"; sid:50;)
"#,
    );
    let out = run(&p, &r, "2");
    assert_eq!(alerts(&out), vec![50]);
    let a = out.events("alert")[0];
    assert_eq!(a["pkt_src"], "stream (flow timeout)");
    assert_eq!(a["stream"], 1);
    assert!(a.get("pcap_cnt").is_none());
}

#[test]
fn ip_only_rules_alert_once_per_direction_of_a_flow() {
    // A connection of several packets each way: an IP-only rule alerts on
    // the first packet of each direction (as Suricata's IP-only engine
    // does); a rule with a negated address ("like IP-only") on every
    // packet it fits.
    let dir = tempfile::tempdir().unwrap();
    // Client: SYN, ACK and three data segments; server: SYN-ACK and three
    // ACKs.
    let frames = connection(&[b"one", b"two", b"three"]);
    let p = write(dir.path(), "iponly.pcap", &frames);
    let r = rules(
        dir.path(),
        r#"alert ip [10.9.0.0/16,192.0.2.1] any <> 10.1.0.1 any (msg:"ip-only"; sid:30;)
alert ip 10.9.0.9 any -> ![192.0.2.0/24] any (msg:"like ip-only, client to server"; sid:31;)
"#,
    );
    for workers in ["1", "3"] {
        let got = alerts(&run(&p, &r, workers));
        assert_eq!(got.iter().filter(|&&s| s == 30).count(), 2, "{got:?}");
        assert_eq!(got.iter().filter(|&&s| s == 31).count(), 5, "{got:?}");
    }
}

#[test]
fn anchored_content_is_inspected_on_the_packet_and_on_the_stream() {
    // Suricata's packet-and-stream rules: a TCP rule with a `depth`/`offset`
    // content inspects the packet as well as the stream, so one request
    // alerts once per inspection. Without the anchor the rule inspects the
    // stream only; `dsize` (a packet keyword) makes it packet-only.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "get.pcap",
        &connection(&[b"GET /x HTTP/1.1\r\n\r\n"]),
    );
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any 80 (msg:"anchored"; flow:to_server; content:"GET "; depth:4; sid:1;)
alert tcp any any -> any 80 (msg:"floating"; flow:to_server; content:"GET "; sid:2;)
alert tcp any any -> any 80 (msg:"sized"; flow:to_server; dsize:>4; content:"GET "; sid:3;)
"#,
    );
    let count = |out: &Replay, sid: u64, stream: u64| {
        out.events("alert")
            .iter()
            .filter(|a| a["alert"]["signature_id"] == sid && a["stream"] == stream)
            .count()
    };
    let out = run(&p, &r, "1");
    assert_eq!(alerts(&out), vec![1, 1, 2, 3]);
    assert_eq!((count(&out, 1, 0), count(&out, 1, 1)), (1, 1));
    assert_eq!((count(&out, 2, 1), count(&out, 3, 0)), (1, 1));
    let on_packet = out
        .events("alert")
        .into_iter()
        .find(|a| a["alert"]["signature_id"] == 1 && a["stream"] == 0)
        .unwrap();
    assert_eq!(on_packet["pcap_cnt"], 4);
    assert_eq!(on_packet["pkt_src"], "wire/pcap");

    // Inline, the stream reaches the packet's own bytes on that packet: a
    // stream match there means the packet is not inspected for that rule.
    let out = replay(&[
        "--rules",
        r.to_str().unwrap(),
        "--set",
        "stream.inline=true",
        p.to_str().unwrap(),
    ]);
    assert!(out.output.status.success(), "{}", out.stderr());
    assert_eq!(alerts(&out), vec![1, 2, 3]);
    assert_eq!(count(&out, 1, 1), 1);
}

#[test]
fn base64_decoded_credentials_match_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    // "admin:secret" in base64, split across two segments.
    let p = write(
        dir.path(),
        "b64.pcap",
        &connection(&[
            b"GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46",
            b"c2VjcmV0\r\n\r\n",
        ]),
    );
    let r = rules(
        dir.path(),
        r#"alert tcp any any -> any any (msg:"b64"; content:"Authorization: Basic "; base64_decode:relative; base64_data; content:"admin"; sid:1;)
alert tcp any any -> any any (msg:"b64 secret"; content:"Authorization: Basic "; base64_decode:relative; base64_data; content:"secret"; sid:2;)
alert tcp any any -> any any (msg:"b64 root"; content:"Authorization: Basic "; base64_decode:relative; base64_data; content:"root"; sid:3;)
alert tcp any any -> any any (msg:"b64 cut"; content:"Authorization: Basic "; base64_decode:bytes 8,relative; base64_data; content:"secret"; sid:4;)
alert tcp any any -> any any (msg:"raw"; content:"admin"; sid:5;)
"#,
    );
    for w in ["1", "2"] {
        assert_eq!(alerts(&run(&p, &r, w)), vec![1, 2], "workers {w}");
    }
}

#[test]
fn icmp_errors_are_inspected_as_suricata_inspects_them() {
    // A UDP query 10.0.0.1:40000 → 10.0.0.9:53; the router 192.0.2.1
    // answers port unreachable (quoting the query's IP and UDP headers),
    // then time exceeded (same quote).
    let dir = tempfile::tempdir().unwrap();
    let (client, server, router) = (ip("10.0.0.1"), ip("10.0.0.9"), ip("192.0.2.1"));
    let query = FrameSpec::udp(client, server, 40000, 53)
        .payload(b"query".to_vec())
        .build();
    let unreach = FrameSpec::icmp_error(router, client, 3, 3, [0; 4], &query, 28).build();
    let exceeded = FrameSpec::icmp_error(router, client, 11, 0, [0; 4], &query, 28).build();
    let frames = vec![query.bytes.clone(), unreach.bytes, exceeded.bytes];
    let p = write(dir.path(), "icmp-errors.pcap", &frames);
    let r = rules(
        dir.path(),
        r#"alert icmp any any -> any any (msg:"port unreachable"; itype:3; icode:3; sid:1;)
alert icmp any any -> any any (msg:"echo reply"; itype:0; sid:2;)
alert ip 192.0.2.1 any -> any any (msg:"from the router"; sid:3;)
alert icmp any any -> any any (msg:"to client"; itype:3; flow:to_client,not_established; sid:4;)
alert icmp any any -> any any (msg:"to server"; itype:3; flow:to_server; sid:5;)
alert udp any any -> any 53 (msg:"mark"; flowbits:set,queried; flowbits:noalert; sid:6;)
alert icmp any any -> any any (msg:"marked"; itype:3; flowbits:isset,queried; sid:7;)
alert icmp any any -> any any (msg:"quoted ports"; itype:3; content:"|9c 40 00 35|"; sid:8;)
alert icmp any any -> any 53 (msg:"icmp has no ports"; sid:9;)
alert icmp any any -> any any (msg:"time exceeded"; itype:11; sid:10;)
alert icmp any any -> any any (msg:"exceeded in a flow"; itype:11; flow:to_client; sid:11;)
alert icmp any any -> any any (msg:"exceeded marked"; itype:11; flowbits:isset,queried; sid:12;)
"#,
    );
    let mut baseline = None;
    for workers in ["1", "3"] {
        let run = run(&p, &r, workers);
        // The router's address rule is IP-only: it runs on the first
        // packet of each direction of a flow, and on every flowless one.
        assert_eq!(
            alerts(&run),
            vec![1, 3, 3, 4, 7, 8, 10],
            "workers {workers}"
        );
        let flows = run.events("flow");
        assert_eq!(flows.len(), 1, "the errors make no flow: {flows:?}");
        let udp = flows[0];
        assert_eq!(udp["proto"], "UDP");
        assert_eq!(udp["flow"]["pkts_toserver"], 1);
        assert_eq!(udp["flow"]["pkts_toclient"], 1, "the unreachable joined it");
        let all = run.events("alert");
        let a = all
            .iter()
            .find(|a| a["alert"]["signature_id"] == 1)
            .unwrap();
        assert_eq!(a["src_ip"], "192.0.2.1");
        assert_eq!(a["dest_ip"], "10.0.0.1");
        assert_eq!(a["proto"], "ICMP");
        assert_eq!(a["icmp_type"], 3);
        assert_eq!(a["icmp_code"], 3);
        assert!(a.get("src_port").is_none() && a.get("dest_port").is_none());
        assert_eq!(a["flow_id"], udp["flow_id"]);
        assert_eq!(a["community_id"], udp["community_id"]);
        assert_eq!(a["direction"], "to_client");
        assert_eq!(a["flow"]["src_ip"], "10.0.0.1");
        assert_eq!(a["flow"]["dest_ip"], "192.0.2.1");
        assert_eq!(a["flow"]["pkts_toclient"], 1);
        assert!(a["flow"].get("src_port").is_none());
        // Time exceeded is inspected without a flow.
        let t = all
            .iter()
            .find(|a| a["alert"]["signature_id"] == 10)
            .unwrap();
        assert_eq!(t["src_ip"], "192.0.2.1");
        assert_eq!(t["icmp_type"], 11);
        for k in ["flow_id", "community_id", "direction", "flow"] {
            assert!(t.get(k).is_none(), "flowless alert has no {k}: {t}");
        }
        let s = sorted(&run);
        match &baseline {
            None => baseline = Some(s),
            Some(b) => assert_eq!(b, &s, "same alerts for any worker count"),
        }
    }
}
