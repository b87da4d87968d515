//! Helpers shared by the integration tests: running the `mirador` binary,
//! reading its EVE output, building TCP conversations, and finding optional
//! material (`../shared`, tshark, capinfos), which may be absent unless
//! `MIRADOR_REQUIRE_OPTIONAL=1`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `mirador` binary built for these tests.
pub fn mirador() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mirador"))
}

/// Whether optional checks must run (CI sets `MIRADOR_REQUIRE_OPTIONAL=1`).
pub fn optional_required() -> bool {
    std::env::var("MIRADOR_REQUIRE_OPTIONAL").is_ok_and(|v| v == "1")
}

/// Skips (returns `None`) when something optional is missing, or fails the
/// test when optional checks are required.
pub fn optional<T>(what: &str, found: Option<T>) -> Option<T> {
    if found.is_none() {
        assert!(
            !optional_required(),
            "MIRADOR_REQUIRE_OPTIONAL=1 but {what} is missing"
        );
        eprintln!("skipped: {what} is missing");
    }
    found
}

/// The shared corpus folder (`../shared/corpus` beside the repository, or
/// `$MIRADOR_SHARED/corpus`).
pub fn corpus() -> Option<PathBuf> {
    let base = std::env::var_os("MIRADOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let c = base.join("corpus");
    optional(
        "the shared corpus (../shared/corpus)",
        c.join("MANIFEST.md").exists().then_some(c),
    )
}

/// Whether a command exists on PATH.
pub fn tool(name: &str) -> Option<()> {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    optional(name, ok.then_some(()))
}

/// Every pcap/pcapng file below `dir`, sorted.
pub fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The generated capture `name` in `pcaps/`.
pub fn project_pcap(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pcaps")
        .join(name)
}

/// The result of one `mirador replay`.
pub struct Replay {
    pub output: Output,
    pub records: Vec<Value>,
}

impl Replay {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Records of one event type.
    pub fn events(&self, event_type: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r["event_type"] == event_type)
            .collect()
    }

    /// The last `stats` record's `stats` object.
    pub fn stats(&self) -> &Value {
        &self.events("stats").last().expect("a stats record")["stats"]
    }

    /// `received == inspected + invalid + filtered + dropped`, from the
    /// stats record; returns received.
    pub fn assert_balanced(&self) -> u64 {
        balanced(&self.stats()["accounting"])
    }
}

/// The sum of an object's integer values (`{reason: count}`).
pub fn total(v: &Value) -> u64 {
    v.as_object()
        .map_or(0, |o| o.values().filter_map(Value::as_u64).sum())
}

/// Asserts `received == inspected + invalid + filtered + dropped` on a
/// `stats.accounting` object; returns received.
pub fn balanced(acc: &Value) -> u64 {
    let received = acc["received"].as_u64().unwrap();
    let sum = acc["inspected"].as_u64().unwrap()
        + total(&acc["invalid"])
        + total(&acc["filtered"])
        + total(&acc["dropped"]);
    assert_eq!(received, sum, "accounting does not balance: {acc}");
    received
}

/// Runs `mirador replay ARGS --eve <tmp>` and parses every EVE line.
pub fn replay(args: &[&str]) -> Replay {
    let dir = tempfile::tempdir().unwrap();
    let eve = dir.path().join("eve.json");
    let output = mirador()
        .arg("replay")
        .arg("--eve")
        .arg(&eve)
        .args(args)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&eve).unwrap_or_default();
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad EVE line {l:?}: {e}")))
        .collect();
    Replay { output, records }
}

/// The frames of a TCP conversation from client `c` to server `s`:
/// handshake, then each message (`true`: from the client) in segments of
/// at most 1,400 bytes, each acknowledged by the other side, then, when
/// `close`, a FIN exchange.
pub fn tcp_conversation(
    c: (std::net::IpAddr, u16),
    s: (std::net::IpAddr, u16),
    msgs: &[(bool, &[u8])],
    close: bool,
) -> Vec<Vec<u8>> {
    use mirador_testkit::frame::{FrameSpec, tcp_flags::*};
    let seg = |to_s: bool, seq: u32, ack: u32, flags: u8, p: &[u8]| {
        let spec = if to_s {
            FrameSpec::tcp(c.0, s.0, c.1, s.1)
        } else {
            FrameSpec::tcp(s.0, c.0, s.1, c.1)
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
    let (mut cseq, mut sseq) = (1001u32, 5001u32);
    for &(to_s, data) in msgs {
        for chunk in data.chunks(1400) {
            let n = chunk.len() as u32;
            if to_s {
                f.push(seg(true, cseq, sseq, ACK | PSH, chunk));
                cseq += n;
                f.push(seg(false, sseq, cseq, ACK, b""));
            } else {
                f.push(seg(false, sseq, cseq, ACK | PSH, chunk));
                sseq += n;
                f.push(seg(true, cseq, sseq, ACK, b""));
            }
        }
    }
    if close {
        f.push(seg(true, cseq, sseq, FIN | ACK, b""));
        f.push(seg(false, sseq, cseq + 1, FIN | ACK, b""));
        f.push(seg(true, cseq + 1, sseq + 1, ACK, b""));
    }
    f
}
