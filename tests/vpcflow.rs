//! VPC Flow Logs output through `mirador replay`: unidirectional records
//! per 60 s aggregation window, the session's AWS keys, ingress/egress,
//! files laid out like AWS's S3 keys, each parsed back with the field list
//! its header declares.

mod common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use common::*;
use mirador_engine::vpcflow::{Format, Record};
use mirador_testkit::frame::{FrameSpec, tcp_flags::*};
use mirador_testkit::pcap::{Record as PcapRecord, TsResolution, pcap};
use mirador_testkit::tunnel::vxlan_frame;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// 2026-01-01T00:00:10Z, in ns.
const T0: u64 = 1_767_225_610_000_000_000;
const SEC: u64 = 1_000_000_000;

const CONFIG: &str = r#"
mirror:
  unknown-session: drop
  sessions:
    - name: web
      vni: 42
      source-ips: [10.0.1.15]
      source-eni: eni-0123456789abcdef0
      eni-addresses: [10.0.1.15]
      account-id: "123456789012"
      vpc-id: vpc-0a1b2c3d
      subnet-id: subnet-0a1b2c3d
      instance-id: i-0123456789abcdef0
      region: us-east-1
      az-id: use1-az1
outputs:
  vpc-flow-logs:
    enabled: yes
    format: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction}"
"#;

/// A mirrored packet of session `web` (outer source = the ENI).
fn mirrored(inner: &[u8]) -> Vec<u8> {
    vxlan_frame(ip("10.0.1.15"), ip("10.0.9.9"), 49152, 42, inner)
}

fn write_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let (client, server) = (ip("198.51.100.7"), ip("10.0.1.15"));
    let to_s = |f: u8, p: &[u8]| {
        FrameSpec::tcp(client, server, 51000, 443)
            .flags(f)
            .payload(p.to_vec())
            .build()
            .bytes
    };
    let to_c = |f: u8, p: &[u8]| {
        FrameSpec::tcp(server, client, 443, 51000)
            .flags(f)
            .payload(p.to_vec())
            .build()
            .bytes
    };
    // Window 1 (00:00:00-00:01:00): handshake and a request; window 2
    // (00:01:00-00:02:00): the response and the close.
    let frames: Vec<(u64, Vec<u8>)> = vec![
        (0, to_s(SYN, b"")),
        (0, to_c(SYN | ACK, b"")),
        (1, to_s(ACK, b"")),
        (2, to_s(ACK | PSH, &[b'q'; 100])),
        (70, to_c(ACK | PSH, &[b'r'; 300])),
        (71, to_s(ACK | FIN, b"")),
        (71, to_c(ACK | FIN, b"")),
        (72, to_s(ACK, b"")),
    ];
    let records: Vec<PcapRecord> = frames
        .into_iter()
        .map(|(t, f)| PcapRecord::new(T0 + t * SEC, mirrored(&f)))
        .collect();
    let pcap_path = dir.join("vpc.pcap");
    std::fs::write(&pcap_path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    let config = dir.join("sensor.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    (pcap_path, config)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn records_of(text: &str) -> Vec<Record> {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let format = Format::parse(header).expect("the header is a field list");
    lines
        .map(|l| Record::parse(&format, l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn records_per_direction_and_window_with_the_sessions_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap_path, config) = write_inputs(dir.path());
    let out = dir.path().join("flowlogs");
    let r = replay(&[
        "--no-rules",
        "--config",
        config.to_str().unwrap(),
        "--set",
        &format!("outputs.vpc-flow-logs.directory={}", out.display()),
        "--set",
        "outputs.vpc-flow-logs.gzip=no",
        pcap_path.to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
    assert_eq!(r.stats()["vpc_flow_logs"]["records"], 4);

    let files = files_under(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let rel = files[0]
        .strip_prefix(&out)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        rel.starts_with("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/01/123456789012_vpcflowlogs_us-east-1_"),
        "{rel}"
    );
    assert!(rel.ends_with(".log"), "{rel}");
    let mut recs = records_of(&std::fs::read_to_string(&files[0]).unwrap());
    recs.sort_by_key(|r| (r.start, r.srcport));
    assert_eq!(recs.len(), 4);
    let t0 = (T0 / SEC) as i64;
    let ingress: Vec<&Record> = recs.iter().filter(|r| r.dstport == Some(443)).collect();
    let egress: Vec<&Record> = recs.iter().filter(|r| r.srcport == Some(443)).collect();
    assert_eq!((ingress.len(), egress.len()), (2, 2));
    for r in &recs {
        assert_eq!(r.version, Some(5));
        assert_eq!(r.account_id.as_deref(), Some("123456789012"));
        assert_eq!(r.interface_id.as_deref(), Some("eni-0123456789abcdef0"));
        assert_eq!(r.vpc_id.as_deref(), Some("vpc-0a1b2c3d"));
        assert_eq!(r.instance_id.as_deref(), Some("i-0123456789abcdef0"));
        assert_eq!(r.az_id.as_deref(), Some("use1-az1"));
        assert_eq!(r.protocol, Some(6));
        assert_eq!(r.action.as_deref(), Some("ACCEPT"));
        assert_eq!(r.log_status.as_deref(), Some("OK"));
    }
    // Ingress, window 1: SYN, ACK, request (40 + 40 + 140 IP bytes).
    let i1 = ingress[0];
    assert_eq!(i1.flow_direction.as_deref(), Some("ingress"));
    assert_eq!((i1.packets, i1.bytes), (Some(3), Some(40 + 40 + 140)));
    assert_eq!((i1.start, i1.end), (Some(t0), Some(t0 + 2)));
    assert_eq!(i1.tcp_flags, Some(2));
    // Ingress, window 2: FIN and the last ACK.
    let i2 = ingress[1];
    assert_eq!(
        (i2.packets, i2.start, i2.end),
        (Some(2), Some(t0 + 71), Some(t0 + 72))
    );
    assert_eq!(i2.tcp_flags, Some(1));
    // Egress: SYN-ACK alone in window 1 (AWS logs 18), response + FIN in 2.
    let (e1, e2) = (egress[0], egress[1]);
    assert_eq!(e1.flow_direction.as_deref(), Some("egress"));
    assert_eq!((e1.packets, e1.tcp_flags), (Some(1), Some(18)));
    assert_eq!((e2.packets, e2.bytes), (Some(2), Some(340 + 40)));
    assert_eq!(e2.srcaddr, Some(ip("10.0.1.15")));
    assert_eq!(e2.pkt_srcaddr, Some(ip("10.0.1.15")));
}

#[test]
fn gzip_files_by_default_and_worker_count_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap_path, config) = write_inputs(dir.path());
    let mut texts = Vec::new();
    for workers in ["1", "3"] {
        let out = dir.path().join(format!("logs-{workers}"));
        let r = replay(&[
            "--no-rules",
            "--workers",
            workers,
            "--config",
            config.to_str().unwrap(),
            "--set",
            &format!("outputs.vpc-flow-logs.directory={}", out.display()),
            pcap_path.to_str().unwrap(),
        ]);
        assert!(r.output.status.success(), "{}", r.stderr());
        let files = files_under(&out);
        assert_eq!(files.len(), 1);
        assert!(files[0].to_str().unwrap().ends_with(".log.gz"));
        let bytes = std::fs::read(&files[0]).unwrap();
        let mut text = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert_eq!(records_of(&text).len(), 4);
        lines.sort();
        texts.push((files[0].strip_prefix(&out).unwrap().to_path_buf(), lines));
    }
    assert_eq!(
        texts[0], texts[1],
        "same files and records with 1 and 3 workers"
    );
}

#[test]
fn a_quiet_flow_gets_its_record_when_its_window_ends() {
    // Flow A (TCP, established) sends at t=5 s and then goes quiet for the
    // rest of the capture; flow B (UDP) sends every 0.2 s until t=220 s.
    // With 60 s files, A's record must be written when the watermark passes
    // its window (t=60), into the first file, not at the end of the
    // capture, after that file was closed (which would open a second file
    // for the same window).
    let dir = tempfile::tempdir().unwrap();
    let (client, server) = (ip("198.51.100.7"), ip("10.0.1.15"));
    let mut records = Vec::new();
    // A handshake: established, so its 600 s timeout outlasts the capture.
    for (i, (c2s, flags)) in [(true, SYN), (false, SYN | ACK), (true, ACK)]
        .into_iter()
        .enumerate()
    {
        let spec = if c2s {
            FrameSpec::tcp(client, server, 51000, 443)
        } else {
            FrameSpec::tcp(server, client, 443, 51000)
        };
        let f = spec.flags(flags).build().bytes;
        records.push(PcapRecord::new(T0 + 5 * SEC + i as u64, mirrored(&f)));
    }
    let b = FrameSpec::udp(client, server, 5353, 53)
        .payload(vec![0; 20])
        .build()
        .bytes;
    for i in 0..1100u64 {
        records.push(PcapRecord::new(T0 + i * SEC / 5, mirrored(&b)));
    }
    records.sort_by_key(|r| r.ts_ns);
    let pcap_path = dir.path().join("quiet.pcap");
    std::fs::write(&pcap_path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    let config = dir.path().join("sensor.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    for workers in ["1", "3"] {
        let out = dir.path().join(format!("logs-{workers}"));
        let r = replay(&[
            "--no-rules",
            "--workers",
            workers,
            "--config",
            config.to_str().unwrap(),
            "--set",
            &format!("outputs.vpc-flow-logs.directory={}", out.display()),
            "--set",
            "outputs.vpc-flow-logs.rotate-interval=60",
            "--set",
            "outputs.vpc-flow-logs.gzip=no",
            pcap_path.to_str().unwrap(),
        ]);
        assert!(r.output.status.success(), "{}", r.stderr());
        let files = files_under(&out);
        // B spans four 60 s windows (t0 is 10 s into a minute): four files.
        assert_eq!(files.len(), 4, "{files:?}");
        let first = records_of(&std::fs::read_to_string(&files[0]).unwrap());
        assert!(
            first
                .iter()
                .any(|r| r.dstport == Some(443) && r.packets == Some(2)),
            "flow A's record is in the first file: {first:?}"
        );
    }
}

#[test]
fn a_flood_of_short_flows_keeps_the_window_queue_bounded() {
    // 12,000 one-packet UDP flows within a second through a table of 100
    // flows: every evicted flow still gets its record, and the queue of due
    // windows is purged of ended flows instead of growing with the flood.
    let dir = tempfile::tempdir().unwrap();
    let server = ip("10.0.1.15");
    let records: Vec<PcapRecord> = (0..12_000u32)
        .map(|i| {
            let src = IpAddr::from([198, 51, (i >> 8) as u8, i as u8]);
            let f = FrameSpec::udp(src, server, 40000, 53)
                .payload(vec![0; 8])
                .build()
                .bytes;
            PcapRecord::new(T0 + u64::from(i) * 50_000, mirrored(&f))
        })
        .collect();
    let pcap_path = dir.path().join("flood.pcap");
    std::fs::write(&pcap_path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    let config = dir.path().join("sensor.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let out = dir.path().join("logs");
    let r = replay(&[
        "--no-rules",
        "--workers",
        "1",
        "--config",
        config.to_str().unwrap(),
        "--set",
        "flow.max-flows=100",
        "--set",
        &format!("outputs.vpc-flow-logs.directory={}", out.display()),
        pcap_path.to_str().unwrap(),
    ]);
    assert!(r.output.status.success(), "{}", r.stderr());
    let v = &r.stats()["vpc_flow_logs"];
    assert_eq!(v["records"], 12_000);
    assert!(v["due_purged"].as_u64().unwrap() > 5_000, "{v}");
    assert!(r.stats()["flow"]["forced"].as_u64().unwrap() > 11_000);
}
