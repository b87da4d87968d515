//! The README's configuration example loads, and its commands exist.

mod common;

use common::*;

#[test]
fn readme_config_example_loads() {
    let readme = include_str!("../README.md");
    let start = readme.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let yaml = &readme[start..end];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = mirador().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("web-a") && stdout.contains("web-filter"),
        "{stdout}"
    );
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["replay", "--help"][..],
        &["check-config", "--help"],
        &["aws", "import", "--help"],
        &["pcap", "encap", "--help"],
    ] {
        let out = mirador().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}
