//! Writes `N` packets of mixed mirrored traffic
//! ([`mirador_testkit::pcaps::mixed_vxlan_traffic`]: four VXLAN sessions,
//! 256 flows, 90% IPv4, 80% TCP with coherent sequence numbers, 15% UDP,
//! 5% ICMP, an IMIX-like size mix, one session truncated at 256 bytes) to a
//! nanosecond pcap, for end-to-end replay benchmarks.
//!
//! `cargo run --release -p mirador-testkit --bin gen-mixed -- PACKETS OUT.pcap [SEED] [constant|mixed]`
//!
//! The payload bytes are `0x5a` (`constant`, the default) or slices of a
//! corpus of HTTP, HTML, SMTP and binary data (`mixed`, for detection
//! benchmarks).

use std::process::ExitCode;

use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::pcaps::{Payload, mixed_vxlan_traffic_with};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (
        args.first().and_then(|s| s.parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: gen-mixed PACKETS OUT.pcap [SEED] [constant|mixed]");
        return ExitCode::from(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(11);
    let payload = match args.get(3).map(String::as_str) {
        None | Some("constant") => Payload::Constant,
        Some("mixed") => Payload::Mixed,
        Some(other) => {
            eprintln!("gen-mixed: payload '{other}': expected constant or mixed");
            return ExitCode::from(2);
        }
    };
    let records: Vec<Record> = mixed_vxlan_traffic_with(n, seed, payload)
        .into_iter()
        .map(|(t, f)| Record::new(t, f))
        .collect();
    let bytes = match pcap(1, TsResolution::Nano, &records) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gen-mixed: {e}");
            return ExitCode::FAILURE;
        }
    };
    match std::fs::write(out, bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-mixed: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
