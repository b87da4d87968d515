//! Every capture of the shared corpus replays with exit 0, its accounting
//! balances, and `received` equals capinfos's packet count; and the
//! anomaly detectors, on with their defaults, stay quiet on the benign
//! suricata-verify captures (at most 10 detections in all, each listed).

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::*;

#[test]
fn every_corpus_capture_replays_and_balances() {
    let Some(corpus) = corpus() else { return };
    let files = captures_in(&corpus);
    assert!(
        files.len() > 300,
        "expected the corpus's ~313 captures, found {}",
        files.len()
    );

    // capinfos prints "path<TAB>count" for every file in one run.
    let counts: Option<HashMap<String, u64>> = tool("capinfos").map(|()| {
        let out = Command::new("capinfos")
            .args(["-T", "-r", "-c"])
            .args(&files)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (p, n) = l.rsplit_once('\t')?;
                Some((p.trim().to_string(), n.trim().parse().ok()?))
            })
            .collect()
    });

    let mut failures = Vec::new();
    let mut detections = Vec::new();
    for f in &files {
        let name = f.to_str().unwrap();
        let r = replay(&["--no-rules", name]);
        if !r.output.status.success() {
            failures.push(format!(
                "{name}: exit {:?}: {}",
                r.output.status.code(),
                r.stderr()
            ));
            continue;
        }
        let received = r.assert_balanced();
        if name.contains("/suricata-verify/") {
            for a in r.events("alert") {
                if a["alert"]["gid"] == 9000 {
                    detections.push(format!(
                        "{name}: {} ({} -> {})",
                        a["alert"]["signature"], a["src_ip"], a["dest_ip"]
                    ));
                }
            }
        }
        if let Some(counts) = &counts {
            match counts.get(name) {
                Some(n) if *n == received => {}
                Some(n) => failures.push(format!("{name}: received {received}, capinfos {n}")),
                // capinfos refuses damaged files (one corpus file claims a
                // 1.4 GB record): then mirador must have said the file is
                // damaged too.
                None if r.stderr().contains("partial record")
                    || r.stderr().contains(": record ") => {}
                None => failures.push(format!("{name}: capinfos gave no count")),
            }
        }
    }
    eprintln!(
        "anomaly detections on the benign suricata-verify captures: {}\n{}",
        detections.len(),
        detections.join("\n")
    );
    assert!(
        detections.len() <= 10,
        "the detectors' defaults raise {} detections on benign captures:\n{}",
        detections.len(),
        detections.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} of {} captures failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
