//! EVE output fits Suricata's schema plus exactly mirador's declared
//! additions (`docs/eve-additions.schema.json`), checked on replays of every
//! generated capture with the shared `eve-validate` tool and with Python's
//! jsonschema against our own schema.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().unwrap()
}

/// Replays every generated capture into one EVE file; returns its path.
fn eve_of_all_pcaps(dir: &Path) -> std::path::PathBuf {
    let eve = dir.join("eve.json");
    let mut cmd = mirador();
    cmd.arg("replay").arg("--eve").arg(&eve);
    // Invalid packets inside each mirror encapsulation, so that anomaly
    // records carry every shape of `mirror` object (gwlb, erspan).
    let cut = FrameSpec::tcp(ip("10.1.0.1"), ip("10.1.0.2"), 1, 80)
        .build()
        .bytes[..20]
        .to_vec();
    let frames = vec![
        tunnel::gwlb_frame(
            "10.0.3.10".parse().unwrap(),
            "10.0.0.100".parse().unwrap(),
            ip("10.0.1.15"),
            ip("10.0.3.50"),
            50000,
            42,
            (0x0a1b_2c3d_4e5f_6071, 0x8c7d_6e5f_4a3b_2c1d, 0xdead_beef),
            &cut,
        ),
        tunnel::gre_frame(
            ip("192.0.2.10"),
            ip("10.0.0.100"),
            &tunnel::erspan_ii(
                1,
                &tunnel::ErspanII {
                    session_id: 100,
                    ..Default::default()
                },
                &cut,
            ),
        ),
    ];
    // A mirrored TCP connection that lost a segment: stream anomalies, a
    // flow record with `tcp.ts_gap`, and capture-loss stats.
    let (c, sv) = (ip("10.1.0.9"), ip("10.1.0.1"));
    let seg = |to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
        let spec = if to_server {
            FrameSpec::tcp(c, sv, 40000, 80)
        } else {
            FrameSpec::tcp(sv, c, 80, 40000)
        };
        let inner = spec
            .flags(flags)
            .seq_ack(seq, ack)
            .payload(payload.to_vec())
            .build();
        tunnel::vxlan_frame(ip("10.0.1.15"), ip("10.0.0.100"), 50001, 42, &inner.bytes)
    };
    use mirador_testkit::frame::tcp_flags::{ACK, SYN};
    let mut frames = frames;
    frames.extend([
        seg(true, 1000, 0, SYN, b""),
        seg(false, 5000, 1001, SYN | ACK, b""),
        seg(true, 1001, 5001, ACK, b"abc"),
        seg(true, 1104, 5001, ACK, b"def"),
        seg(false, 5001, 1107, ACK, b""),
    ]);
    let records: Vec<Record> = frames.into_iter().map(|f| Record::new(0, f)).collect();
    let bad = dir.join("bad-mirrors.pcap");
    std::fs::write(&bad, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    cmd.arg(&bad);
    // Rules that alert on these captures (packet, stream and threshold
    // paths), with every optional alert field asked for.
    let rules = dir.join("schema.rules");
    std::fs::write(
        &rules,
        r#"alert ip any any -> any any (msg:"every packet, limited"; threshold:type limit, track by_src, count 3, seconds 60; metadata:created_at 2026_11_27; classtype:misc-activity; sid:9000001; rev:1;)
alert tcp any any -> any any (msg:"stream bytes"; content:"abc"; sid:9000002; rev:1;)
alert udp any any -> any any (msg:"udp"; dsize:>0; sid:9000003; rev:1;)
"#,
    )
    .unwrap();
    cmd.arg("--rules").arg(&rules);
    for set in [
        "outputs.eve.alert.payload=yes",
        "outputs.eve.alert.payload-printable=yes",
        "outputs.eve.alert.packet=yes",
    ] {
        cmd.arg("--set").arg(set);
    }
    for name in [
        "demo-vxlan.pcap",
        "gwlb.pcap",
        "erspan.pcap",
        "plain.pcap",
        "truncated.pcap",
        "malformed.pcap",
        "mixed.pcapng",
    ] {
        cmd.arg(project_pcap(name));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&eve).unwrap();
    assert!(
        text.contains("\"anomaly\"") && text.contains("\"mirror\"") && text.contains("\"gwlb\"")
    );
    for sid in ["9000001", "9000002", "9000003"] {
        assert!(
            text.contains(&format!("\"signature_id\":{sid}")),
            "no alert {sid}"
        );
    }
    eve
}

#[test]
fn eve_validates_against_suricatas_schema() {
    let Some(corpus) = corpus() else { return };
    let tool = corpus.join("../tools/eve-validate");
    let Some(()) = optional(
        "python3",
        Command::new("python3")
            .arg("--version")
            .output()
            .ok()
            .map(|_| ()),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let eve = eve_of_all_pcaps(dir.path());
    let out = Command::new("python3")
        .arg(&tool)
        .arg(&eve)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 invalid"), "{stdout}");
}

#[test]
fn mirror_objects_fit_the_declared_additions() {
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    let Some(()) = optional("python3 with jsonschema", has_jsonschema.then_some(())) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let eve = eve_of_all_pcaps(dir.path());
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/eve-additions.schema.json");
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
n = bad = 0
for line in open(sys.argv[2]):
    rec = json.loads(line)
    n += 1
    for e in v.iter_errors(rec):
        bad += 1
        print("line", n, list(e.absolute_path), e.message)
print(n, "records", bad, "errors")
sys.exit(1 if bad else 0)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(&eve)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
