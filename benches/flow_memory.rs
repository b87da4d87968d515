//! Bytes per idle TCP flow (issue 3): a `FlowTable<FlowUser>` (what a
//! worker holds) with 1,000,000 TCP flows, one client SYN each, measured as
//! the growth of the process's resident memory (`VmRSS`, and the peak
//! `VmHWM`, from `/proc/self/status`) over the table's insertions, divided
//! by the flow count; beside `FlowTable::<FlowUser>::bytes_per_flow()`, the
//! estimate the table's memory cap uses.
//!
//! `cargo bench --bench flow_memory` (release). Two configurations, each in
//! its own process so that the peak is its own: the table preallocated for
//! every flow (`prealloc`), and grown from the default preallocation of
//! 10,000 flows (`growing`). `FLOW_MEMORY_FLOWS=N` changes the count. Run
//! without `--bench` (as `cargo test --benches` does) it uses 10,000 flows.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;

use mirador_flow::key::{Endpoint, FlowKey, proto};
use mirador_flow::table::{Flow, FlowTable, Packet, TableConfig, tcp_flags};
use mirador_runtime::FlowUser;
use mirador_wire::{Timestamp, VlanIds};

/// What a worker stores per flow.
type User = FlowUser;

const MODE_VAR: &str = "FLOW_MEMORY_MODE";

/// `(VmRSS, VmHWM)` in bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The i-th flow: a distinct client 10.x.y.z on an ephemeral port to one of
/// 1024 servers on port 443, and its SYN.
fn flow(i: u32) -> (FlowKey, Packet) {
    let client = Endpoint {
        addr: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (i & 0x00ff_ffff))),
        port: 32768 + (i % 28232) as u16,
    };
    let server = Endpoint {
        addr: IpAddr::V4(Ipv4Addr::from(0xac10_0000 | (i % 1024))),
        port: 443,
    };
    let (key, dir) = FlowKey::new(i % 4, VlanIds::EMPTY, proto::TCP, 0, client, server);
    let pkt = Packet {
        ts: Timestamp::from_nanos(1_000_000_000 + i64::from(i)),
        dir,
        len: 74,
        tcp_flags: Some(tcp_flags::SYN),
    };
    (key, pkt)
}

fn measure(mode: &str, flows: u32) {
    let prealloc = match mode {
        "prealloc" => flows as usize,
        _ => TableConfig::default().prealloc,
    };
    let cfg = TableConfig {
        max_flows: (flows as usize).max(1 << 20),
        prealloc,
        ..TableConfig::default()
    };
    let mut out = Vec::new();
    let (rss0, hwm0) = rss();
    let mut table = FlowTable::<User>::new(cfg);
    for i in 0..flows {
        let (key, pkt) = flow(i);
        assert!(table.update(&key, &pkt, &mut out).created);
    }
    let (rss1, hwm1) = rss();
    assert!(out.is_empty());
    assert_eq!(table.len(), flows as usize);
    let n = f64::from(flows);
    println!(
        "{mode:>8}: {flows} flows, prealloc {prealloc}: RSS +{:.1} MiB = {:.1} B/flow, \
         peak (VmHWM {:.1} MiB - VmRSS before {:.1} MiB) +{:.1} MiB = {:.1} B/flow; \
         bytes_per_flow() = {}",
        (rss1 - rss0) as f64 / 1048576.0,
        (rss1 - rss0) as f64 / n,
        hwm1 as f64 / 1048576.0,
        rss0 as f64 / 1048576.0,
        (hwm1.max(hwm0) - rss0) as f64 / 1048576.0,
        (hwm1.max(hwm0) - rss0) as f64 / n,
        FlowTable::<User>::bytes_per_flow(),
    );
    std::hint::black_box(&table);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let flows: u32 = match std::env::var("FLOW_MEMORY_FLOWS") {
        Ok(v) => v.parse().expect("FLOW_MEMORY_FLOWS: a count"),
        Err(_) if bench => 1_000_000,
        Err(_) => 10_000,
    };
    if let Ok(mode) = std::env::var(MODE_VAR) {
        measure(&mode, flows);
        return;
    }
    println!(
        "size_of: FlowKey {} B, Flow {} B, FlowUser {} B; FlowTable::<FlowUser>::bytes_per_flow() = {} B",
        size_of::<FlowKey>(),
        size_of::<Flow>(),
        size_of::<User>(),
        FlowTable::<User>::bytes_per_flow(),
    );
    let exe = std::env::current_exe().expect("current_exe");
    for mode in ["prealloc", "growing"] {
        let status = Command::new(&exe)
            .args(&args[1..])
            .env(MODE_VAR, mode)
            .env("FLOW_MEMORY_FLOWS", flows.to_string())
            .status()
            .expect("run a measurement");
        assert!(status.success(), "{mode}: {status}");
    }
}
