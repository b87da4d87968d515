//! The README's configuration example loads, and its commands exist.

mod common;

use common::*;

#[test]
fn readme_config_example_loads() {
    let readme = include_str!("../README.md");
    let start = readme.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let yaml = &readme[start..end];
    // The README shows config/example.yaml as it is.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.yaml");
    assert_eq!(yaml, std::fs::read_to_string(&path).unwrap());
    let out = mirador().arg("check-config").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("app-a") && stdout.contains("no-ssh-in"),
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
        &["send", "--help"],
    ] {
        let out = mirador().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}
