//! TCP streams through `mirador replay`: stream events as EVE anomalies,
//! gaps and the mirror-loss estimate, truncated mirror copies, and two-ENI
//! dedup with real copies (one truncated or with a bad checksum) whose
//! fuller copy fills the reassembled stream.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_testkit::frame::{Corrupt, FrameSpec, tcp_flags::*};
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel::vxlan_frame;
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const T0: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;

fn write_pcap(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(T0 + i as u64 * MS, f.clone()))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Nano, &records).unwrap()).unwrap();
    path
}

const CLIENT: &str = "10.9.0.9";
const SERVER: &str = "10.1.0.1";

/// An inner frame of the test connection (client ISN 1000, server 5000).
fn seg(to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> FrameSpec {
    let (c, s) = (ip(CLIENT), ip(SERVER));
    let spec = if to_server {
        FrameSpec::tcp(c, s, 40000, 80)
    } else {
        FrameSpec::tcp(s, c, 80, 40000)
    };
    spec.flags(flags)
        .seq_ack(seq, ack)
        .payload(payload.to_vec())
}

fn frame(to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    seg(to_server, seq, ack, flags, payload).build().bytes
}

fn handshake() -> Vec<Vec<u8>> {
    vec![
        frame(true, 1000, 0, SYN, b""),
        frame(false, 5000, 1001, SYN | ACK, b""),
        frame(true, 1001, 5001, ACK, b""),
    ]
}

fn run(pcap: &Path, workers: &str) -> Replay {
    let r = replay(&["--no-rules", "--workers", workers, pcap.to_str().unwrap()]);
    assert!(r.output.status.success(), "{}", r.stderr());
    r.assert_balanced();
    r
}

fn anomalies(r: &Replay, event: &str) -> usize {
    r.events("anomaly")
        .iter()
        .filter(|a| a["anomaly"]["type"] == "stream" && a["anomaly"]["event"] == event)
        .count()
}

fn sorted(r: &Replay, t: &str) -> Vec<String> {
    let mut v: Vec<String> = r.events(t).iter().map(|x| x.to_string()).collect();
    v.sort();
    v
}

#[test]
fn lost_segment_is_a_gap_an_anomaly_and_mirror_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames = handshake();
    frames.push(frame(true, 1001, 5001, ACK | PSH, b"abc"));
    // 100 bytes (seq 1004..1104) never reach the sensor.
    frames.push(frame(true, 1104, 5001, ACK | PSH, b"def"));
    frames.push(frame(false, 5001, 1107, ACK, b""));
    frames.push(frame(true, 1107, 5001, ACK | FIN, b""));
    frames.push(frame(false, 5001, 1108, ACK | FIN, b""));
    frames.push(frame(true, 1108, 5002, ACK, b""));
    let p = write_pcap(dir.path(), "gap.pcap", &frames);
    let one = run(&p, "1");
    let four = run(&p, "4");
    assert_eq!(sorted(&one, "anomaly"), sorted(&four, "anomaly"));
    assert_eq!(sorted(&one, "flow"), sorted(&four, "flow"));

    assert_eq!(anomalies(&one, "stream.reassembly_seq_gap"), 1);
    let gap = one
        .events("anomaly")
        .into_iter()
        .find(|a| a["anomaly"]["event"] == "stream.reassembly_seq_gap")
        .unwrap();
    // The gap shows on the server's ACK that acknowledged the lost bytes.
    assert_eq!(gap["pcap_cnt"], 6);
    assert_eq!(gap["src_ip"], SERVER);
    assert_eq!(gap["proto"], "TCP");

    let flows = one.events("flow");
    assert_eq!(flows.len(), 1);
    let tcp = &flows[0]["tcp"];
    assert_eq!(tcp["ts_gap"], true);
    assert!(tcp.get("tc_gap").is_none());
    assert_eq!(tcp["state"], "closed");

    let s = one.stats();
    assert_eq!(s["tcp"]["sessions"], 1);
    assert_eq!(s["tcp"]["reassembly_gap"], 1);
    assert_eq!(s["tcp"]["reassembly"]["bytes"], 6);
    assert_eq!(s["tcp"]["reassembly"]["gap_bytes"], 100);
    let loss = &s["capture_loss"];
    assert_eq!(loss["bytes_seen"], 6);
    assert_eq!(loss["bytes_lost"], 100);
    assert_eq!(loss["gaps"], 1);
    let pct = loss["percent_lost"].as_f64().unwrap();
    assert!((pct - 100.0 * 100.0 / 106.0).abs() < 0.01, "{pct}");
    // Per tenant and per session too.
    let tenants = loss["tenants"].as_object().unwrap();
    assert_eq!(tenants.len(), 1);
    let (_, t) = tenants.iter().next().unwrap();
    assert_eq!(t["bytes_lost"], 100);
    assert_eq!(loss["sessions"].as_object().unwrap().len(), 1);
}

#[test]
fn a_clean_connection_has_no_stream_anomaly_and_no_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames = handshake();
    frames.push(frame(
        true,
        1001,
        5001,
        ACK | PSH,
        b"GET / HTTP/1.0\r\n\r\n",
    ));
    frames.push(frame(
        false,
        5001,
        1019,
        ACK | PSH,
        b"HTTP/1.0 200 OK\r\n\r\n",
    ));
    frames.push(frame(true, 1019, 5020, ACK | FIN, b""));
    frames.push(frame(false, 5020, 1020, ACK | FIN, b""));
    frames.push(frame(true, 1020, 5021, ACK, b""));
    let p = write_pcap(dir.path(), "clean.pcap", &frames);
    let r = run(&p, "2");
    assert!(r.events("anomaly").is_empty(), "{:?}", r.events("anomaly"));
    let s = r.stats();
    assert_eq!(s["tcp"]["reassembly"]["bytes"], 18 + 19);
    assert_eq!(s["capture_loss"]["bytes_lost"], 0);
    assert_eq!(s["capture_loss"]["percent_lost"].as_f64(), Some(0.0));
}

#[test]
fn session_events_are_suricatas() {
    let dir = tempfile::tempdir().unwrap();
    let frames = vec![
        frame(true, 1000, 0, SYN, b""),
        // SYN-ACK acknowledging the wrong sequence number.
        frame(false, 5000, 4242, SYN | ACK, b""),
        // A RST with no session, on another connection.
        FrameSpec::tcp(ip(CLIENT), ip(SERVER), 40001, 80)
            .flags(RST | ACK)
            .build()
            .bytes,
    ];
    let p = write_pcap(dir.path(), "events.pcap", &frames);
    let r = run(&p, "1");
    assert_eq!(anomalies(&r, "stream.3whs_synack_with_wrong_ack"), 1);
    assert_eq!(anomalies(&r, "stream.rst_but_no_session"), 1);
}

/// The connection as mirrored by both ENIs (outer sources .11 for the
/// client's ENI, .12 for the server's), VNI 7: every inner packet twice.
fn vx(source: &str, inner: &[u8]) -> Vec<u8> {
    vxlan_frame(ip(source), ip("10.0.0.250"), 50000, 7, inner)
}

const ENI_C: &str = "10.0.0.11";
const ENI_S: &str = "10.0.0.12";

#[test]
fn dedup_prefers_the_fuller_copy_and_keeps_same_source_retransmissions() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200u8).collect();
    let mut frames = Vec::new();
    for f in handshake() {
        frames.push(vx(ENI_C, &f));
        frames.push(vx(ENI_S, &f));
    }
    let full = frame(true, 1001, 5001, ACK | PSH, &data);
    // The client's ENI session truncates (PacketLength): its copy comes
    // first and is kept; the server ENI's full copy is a duplicate whose
    // bytes fill the kept copy's hole before the ACK makes them deliverable.
    frames.push(vx(ENI_C, &full[..full.len() - 150]));
    frames.push(vx(ENI_S, &full));
    // The same source retransmits the segment: kept (not a duplicate).
    frames.push(vx(ENI_C, &full[..full.len() - 150]));
    let ack = frame(false, 5001, 1201, ACK, b"");
    frames.push(vx(ENI_S, &ack));
    frames.push(vx(ENI_C, &ack));
    // A bad-checksum copy first, then the good one: the same packet.
    let more = seg(true, 1201, 5001, ACK | PSH, b"tail").corrupt(Corrupt {
        l4_checksum: true,
        ..Corrupt::default()
    });
    frames.push(vx(ENI_C, &more.build().bytes));
    frames.push(vx(ENI_S, &frame(true, 1201, 5001, ACK | PSH, b"tail")));
    let p = write_pcap(dir.path(), "dedup.pcap", &frames);

    let one = run(&p, "1");
    let four = run(&p, "4");
    assert_eq!(sorted(&one, "flow"), sorted(&four, "flow"));
    let s = one.stats();
    let a = &s["accounting"];
    assert_eq!(a["received"], frames.len() as u64);
    // 3+3 handshake, 2 data copies, 2 ACK copies, 2 tail copies: one of
    // each pair is a duplicate; the retransmission is inspected.
    assert_eq!(a["filtered"]["duplicate"], 6);
    assert_eq!(a["inspected"], 7);
    assert_eq!(s["mirror"]["dedup"]["same_source_repeats"], 1);
    assert_eq!(s["mirror"]["dedup"]["duplicates_fuller_than_kept"], 1);
    // The stream was reassembled whole: no gap, nothing lost.
    assert_eq!(s["tcp"]["reassembly_gap"], 0, "{}", s["tcp"]);
    assert_eq!(s["tcp"]["reassembly"]["bytes"], 204);
    assert_eq!(s["capture_loss"]["bytes_lost"], 0);
    let flows = one.events("flow");
    assert_eq!(flows.len(), 1);
    // Flow counters count the kept copies only.
    assert_eq!(flows[0]["flow"]["pkts_toserver"], 5);
    assert_eq!(flows[0]["flow"]["pkts_toclient"], 2);
}

#[test]
fn a_truncated_copy_alone_leaves_a_gap_that_is_not_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200u8).collect();
    let mut frames: Vec<Vec<u8>> = handshake().iter().map(|f| vx(ENI_C, f)).collect();
    let full = frame(true, 1001, 5001, ACK | PSH, &data);
    frames.push(vx(ENI_C, &full[..full.len() - 150]));
    frames.push(vx(ENI_C, &frame(false, 5001, 1201, ACK, b"")));
    let p = write_pcap(dir.path(), "trunc.pcap", &frames);
    let r = run(&p, "1");
    let s = r.stats();
    assert_eq!(s["tcp"]["reassembly_gap"], 1);
    assert_eq!(s["tcp"]["reassembly"]["bytes"], 50);
    assert_eq!(s["tcp"]["reassembly"]["truncated_bytes"], 150);
    assert_eq!(s["capture_loss"]["bytes_lost"], 0);
    let v: &Value = r.events("flow")[0];
    assert_eq!(v["tcp"]["ts_gap"], true);
    // Truncation is configured, not an anomaly: no event per cut packet.
    assert_eq!(anomalies(&r, "stream.reassembly_seq_gap"), 0);
}

#[test]
fn a_midstream_flow_first_seen_from_the_server_is_reversed_by_its_first_data() {
    let dir = tempfile::tempdir().unwrap();
    // No handshake: the first packet seen is the server's HTTP response.
    let frames = vec![
        frame(false, 5001, 1019, ACK | PSH, b"HTTP/1.1 200 OK\r\n\r\n"),
        frame(true, 1019, 5020, ACK, b""),
        frame(true, 1019, 5020, ACK | PSH, b"GET /next HTTP/1.1\r\n\r\n"),
    ];
    let p = write_pcap(dir.path(), "midstream.pcap", &frames);
    for workers in ["1", "3"] {
        let r = run(&p, workers);
        let flows = r.events("flow");
        assert_eq!(flows.len(), 1);
        let f = flows[0];
        assert_eq!(f["src_ip"], CLIENT, "{f}");
        assert_eq!(f["src_port"], 40000);
        assert_eq!(f["dest_ip"], SERVER);
        assert_eq!(f["flow"]["pkts_toserver"], 2);
        assert_eq!(f["flow"]["pkts_toclient"], 1);
        assert_eq!(r.stats()["flow"]["midstream_reversed"], 1);
        // Both directions were reassembled, each into its own stream.
        assert_eq!(r.stats()["tcp"]["reassembly"]["bytes"], 19 + 22);
    }
    // Without midstream pick-up there is no session to orient: the first
    // sender stays the client, as in Suricata.
    let r = replay(&[
        "--no-rules",
        "--set",
        "stream.midstream=no",
        "--set",
        "stream.async-oneside=no",
        p.to_str().unwrap(),
    ]);
    assert_eq!(r.events("flow")[0]["src_ip"], SERVER);
}

#[test]
fn port_reuse_starts_a_new_flow_but_a_repeated_syn_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut frames = handshake();
    frames.push(frame(true, 1001, 5001, ACK | FIN, b""));
    frames.push(frame(false, 5001, 1002, ACK | FIN, b""));
    frames.push(frame(true, 1002, 5002, ACK, b""));
    // The first SYN again (a late retransmission): the same connection.
    frames.push(frame(true, 1000, 0, SYN, b""));
    let p = write_pcap(dir.path(), "repeat.pcap", &frames);
    let r = run(&p, "1");
    assert_eq!(r.events("flow").len(), 1);
    assert_eq!(r.stats()["tcp"]["tcp_reuse"], 0);
    // A new ISN on the same ports: a new connection, a second flow.
    frames.push(frame(true, 900_000, 0, SYN, b""));
    let p = write_pcap(dir.path(), "reuse.pcap", &frames);
    let r = run(&p, "2");
    let flows = r.events("flow");
    assert_eq!(flows.len(), 2);
    assert_eq!(r.stats()["tcp"]["tcp_reuse"], 1);
    let reasons: Vec<&str> = flows
        .iter()
        .map(|f| f["flow"]["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"timeout") && reasons.contains(&"shutdown"),
        "{reasons:?}"
    );
}

#[test]
fn data_beyond_the_scaled_window_is_an_anomaly_and_not_reassembled() {
    let dir = tempfile::tempdir().unwrap();
    let ws = |spec: FrameSpec| spec.tcp_options(vec![1, 3, 3, 2]).window(100).build().bytes;
    let w = |spec: FrameSpec| spec.window(100).build().bytes;
    // Both SYNs carry window scale 2: the window is 100 << 2 = 400 bytes.
    let frames = vec![
        ws(seg(true, 1000, 0, SYN, b"")),
        ws(seg(false, 5000, 1001, SYN | ACK, b"")),
        w(seg(true, 1001, 5001, ACK, b"")),
        w(seg(true, 1001, 5001, ACK | PSH, b"abc")),
        w(seg(false, 5001, 1004, ACK, b"")),
        // 1004 + 400 = 1404: data at 1300 fits, data at 1500 does not.
        w(seg(true, 1300, 5001, ACK | PSH, b"fits")),
        w(seg(true, 1500, 5001, ACK | PSH, b"insertion")),
    ];
    let p = write_pcap(dir.path(), "window.pcap", &frames);
    let r = run(&p, "1");
    assert_eq!(anomalies(&r, "stream.est_packet_out_of_window"), 1);
    let a = r
        .events("anomaly")
        .into_iter()
        .find(|a| a["anomaly"]["event"] == "stream.est_packet_out_of_window")
        .unwrap();
    assert_eq!(a["pcap_cnt"], 7);
    assert_eq!(r.stats()["tcp"]["pkt_out_of_window"], 1);
    // "abc", a 296-byte gap, "fits": the insertion never reached the stream.
    assert_eq!(r.stats()["tcp"]["reassembly"]["bytes"], 3 + 4);
}
