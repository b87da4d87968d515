//! The command-line tools other than replay: `aws import` → `check-config`,
//! and their errors.

mod common;

use std::path::Path;

use common::*;

#[test]
fn aws_import_output_passes_check_config() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/config/testdata/aws");
    let out = mirador()
        .args(["aws", "import", "--sessions"])
        .arg(d.join("sessions.json"))
        .arg("--filters")
        .arg(d.join("filters.json"))
        .arg("--targets")
        .arg(d.join("targets.json"))
        .arg("--interfaces")
        .arg(d.join("interfaces.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(
        yaml.contains("vni: 42") && yaml.contains("source-ips: [\"10.0.1.15\"]"),
        "{yaml}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("imported.yaml");
    std::fs::write(&cfg, &yaml).unwrap();
    let out = mirador().arg("check-config").arg(&cfg).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("web-a") && stdout.contains("key: vni 42"),
        "{stdout}"
    );
}

#[test]
fn aws_import_names_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("S.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let out = mirador()
        .args(["aws", "import", "--sessions"])
        .arg(&bad)
        .arg("--filters")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn check_config_reports_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sensor.yaml");
    std::fs::write(
        &cfg,
        "decoder:\n  vxlan:\n    ports: [4789]\nmirror:\n  sessions:\n    - vni: 16777216\n",
    )
    .unwrap();
    let out = mirador().arg("check-config").arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("sensor.yaml:6") && e.contains("mirror.sessions[0].vni"),
        "{e}"
    );
}

#[test]
fn pcap_encap_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("o.pcap");
    let input = project_pcap("plain.pcap");
    let out = mirador()
        .args(["pcap", "encap", "--vni", "16777216"])
        .arg(&input)
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("24 bits"));
    let out = mirador()
        .args([
            "pcap",
            "encap",
            "--vni",
            "1",
            "--src-ip",
            "10.0.0.1",
            "--dst-ip",
            "2001:db8::1",
        ])
        .arg(&input)
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
