//! Writes a SYN flood as AWS would mirror it: `N` TCP SYNs from random
//! spoofed sources to one server, VXLAN-wrapped (VNI 42, ENI 10.0.1.15 →
//! sensor 10.0.0.100), streamed to a pcap so that any size fits in constant
//! memory. For testing the flow table's caps, eviction and emergency mode.
//!
//! `cargo run --release -p mirador-testkit --bin gen-flood -- PACKETS OUT.pcap [PPS]`
//!
//! PPS (default 100000) spaces the timestamps.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use mirador_testkit::frame::{FrameSpec, tcp_flags};
use mirador_testkit::pcaps::{Rng, T0_NS};
use mirador_testkit::tunnel::{internet_checksum, vxlan_frame};

/// Offsets in the wrapped frame: outer Ethernet 14, IPv4 20, UDP 8, VXLAN 8,
/// inner Ethernet 14.
const INNER_IP: usize = 14 + 20 + 8 + 8 + 14;
const INNER_TCP: usize = INNER_IP + 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (
        args.first().and_then(|s| s.parse::<u64>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: gen-flood PACKETS OUT.pcap [PPS]");
        return ExitCode::from(2);
    };
    let pps: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
        .max(1);
    match write(n, out, pps) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-flood: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write(n: u64, out: &str, pps: u64) -> std::io::Result<()> {
    let server = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 15));
    let template = FrameSpec::tcp(
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
        server,
        1024,
        443,
    )
    .flags(tcp_flags::SYN)
    .seq_ack(0, 0)
    .build()
    .bytes;
    let mut frame = vxlan_frame(
        server,
        "10.0.0.100".parse().expect("address"),
        49152,
        42,
        &template,
    );
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    // pcap header: microsecond resolution, Ethernet.
    w.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    w.write_all(&2u16.to_le_bytes())?;
    w.write_all(&4u16.to_le_bytes())?;
    for v in [0u32, 0, 65535, 1] {
        w.write_all(&v.to_le_bytes())?;
    }
    let mut rng = Rng::new(0x5eed);
    let gap_ns = 1_000_000_000 / pps;
    for i in 0..n {
        let r = rng.next_u64();
        // A spoofed source outside the VPC, a random port and sequence.
        let src = Ipv4Addr::from(0x0b00_0000 | (r as u32 & 0x00ff_ffff));
        frame[INNER_IP + 12..INNER_IP + 16].copy_from_slice(&src.octets());
        frame[INNER_TCP..INNER_TCP + 2]
            .copy_from_slice(&(1024 + (r >> 32) as u16 % 64000).to_be_bytes());
        frame[INNER_TCP + 4..INNER_TCP + 8].copy_from_slice(&((r >> 16) as u32).to_be_bytes());
        fix_checksums(&mut frame);
        let ts = T0_NS + i * gap_ns;
        let (secs, usecs) = (ts / 1_000_000_000, ts % 1_000_000_000 / 1000);
        for v in [
            secs as u32,
            usecs as u32,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&frame)?;
    }
    w.flush()
}

/// Recomputes the inner IPv4 header and TCP checksums after patching.
fn fix_checksums(frame: &mut [u8]) {
    frame[INNER_IP + 10..INNER_IP + 12].copy_from_slice(&[0, 0]);
    let c = internet_checksum(&frame[INNER_IP..INNER_TCP]);
    frame[INNER_IP + 10..INNER_IP + 12].copy_from_slice(&c.to_be_bytes());
    let tcp_len = frame.len() - INNER_TCP;
    let tcp_len = tcp_len.min(
        usize::from(u16::from_be_bytes([
            frame[INNER_IP + 2],
            frame[INNER_IP + 3],
        ])) - 20,
    );
    frame[INNER_TCP + 16..INNER_TCP + 18].copy_from_slice(&[0, 0]);
    let mut pseudo = Vec::with_capacity(12 + tcp_len);
    pseudo.extend_from_slice(&frame[INNER_IP + 12..INNER_IP + 20]);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
    pseudo.extend_from_slice(&frame[INNER_TCP..INNER_TCP + tcp_len]);
    let c = internet_checksum(&pseudo);
    frame[INNER_TCP + 16..INNER_TCP + 18].copy_from_slice(&c.to_be_bytes());
}
