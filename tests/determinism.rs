//! Replay yields the same multiset of flow and anomaly records (decode and
//! stream events), and the same accounting, TCP, defragmentation and
//! capture-loss counters, whatever the worker count (DESIGN.md, "Time and
//! determinism"), on every capture of the shared corpus (its own captures
//! and the suricata-verify pcaps).

mod common;

use common::*;
use serde_json::Value;

/// Every non-stats record, serialized, sorted.
fn records(r: &Replay) -> Vec<String> {
    let mut v: Vec<String> = r
        .records
        .iter()
        .filter(|x| x["event_type"] != "stats")
        .map(Value::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_records_do_not_depend_on_the_worker_count() {
    let Some(corpus) = corpus() else { return };
    let files = captures_in(&corpus);
    assert!(files.len() > 300, "found {} captures", files.len());
    let mut failures = Vec::new();
    let mut shared_work = 0;
    let (mut flows, mut timeouts) = (0, 0);
    for f in &files {
        let name = f.to_str().unwrap();
        let one = replay(&["--no-rules", "--workers", "1", name]);
        let four = replay(&["--no-rules", "--workers", "4", name]);
        if one.output.status.code() != four.output.status.code() {
            failures.push(format!("{name}: exit status differs"));
            continue;
        }
        if one.records.is_empty() || four.records.is_empty() {
            continue; // unreadable file: corpus.rs checks what it says
        }
        let (a, b) = (records(&one), records(&four));
        if a != b {
            let only1 = a.iter().filter(|x| !b.contains(x)).count();
            let only4 = b.iter().filter(|x| !a.contains(x)).count();
            failures.push(format!(
                "{name}: {} vs {} records; {only1} only with 1 worker, {only4} only with 4",
                a.len(),
                b.len()
            ));
        }
        for k in ["accounting", "tcp", "capture_loss", "defrag"] {
            if one.stats()[k] != four.stats()[k] {
                failures.push(format!(
                    "{name}: stats.{k} differs: {} vs {}",
                    one.stats()[k],
                    four.stats()[k]
                ));
            }
        }
        let busy = four.stats()["workers"].as_array().map_or(0, |w| {
            w.iter().filter(|w| w["packets"].as_u64() > Some(0)).count()
        });
        if busy >= 2 {
            shared_work += 1;
        }
        for r in one.events("flow") {
            flows += 1;
            if r["flow"]["reason"] == "timeout" {
                timeouts += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} captures differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(
        shared_work > 0,
        "no capture spread its packets over two or more of 4 workers"
    );
    eprintln!(
        "{} captures, {shared_work} spread over 2+ workers, {flows} flows, {timeouts} ended by timeout",
        files.len()
    );
    assert!(
        flows > 0 && timeouts > 0,
        "{flows} flows, {timeouts} ended by timeout"
    );
}
