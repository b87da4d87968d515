//! `mirador send` over loopback: captures built here with the test kit are
//! sent to a UDP socket of the test's own, and what arrives is compared
//! with what the capture held.

mod common;

use std::net::{IpAddr, Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use mirador_testkit::frame::FrameSpec;
use mirador_testkit::pcap::{Record, TsResolution, pcap};
use mirador_testkit::tunnel;
use mirador_wire::{DecodeOptions, EncapKind, decode_udp_payload};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `n` distinct inner frames: TCP and UDP, IPv4 and IPv6, sizes varying.
fn frames(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let payload = vec![i as u8; i * 7 % 200];
            let spec = match i % 3 {
                0 => FrameSpec::tcp(ip("10.1.0.1"), ip("10.1.0.2"), 40000 + i as u16, 80),
                1 => FrameSpec::udp(ip("10.1.0.3"), ip("10.1.0.4"), 5353, 53),
                _ => FrameSpec::tcp(ip("2001:db8::1"), ip("2001:db8::2"), 443, 50000),
            };
            spec.payload(payload).build().bytes
        })
        .collect()
}

fn write_pcap(dir: &Path, name: &str, frames: &[Vec<u8>]) -> PathBuf {
    let records: Vec<Record> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Record::new(1_700_000_000_000_000_000 + i as u64 * 1000, f.clone()))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, pcap(1, TsResolution::Micro, &records).unwrap()).unwrap();
    path
}

/// A socket for the sensor's side.
fn listener(addr: &str) -> Option<UdpSocket> {
    let s = UdpSocket::bind(addr).ok()?;
    s.set_nonblocking(true).unwrap();
    Some(s)
}

/// Everything queued on `s` (the sender has exited: loopback delivery is
/// done by then).
fn drain(s: &UdpSocket) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        match s.recv(&mut buf) {
            Ok(n) => out.push(buf[..n].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return out,
            Err(e) => panic!("{e}"),
        }
    }
}

fn send(args: &[&str], to: &UdpSocket, pcap: &Path) -> Output {
    mirador()
        .arg("send")
        .arg("--to")
        .arg(to.local_addr().unwrap().to_string())
        .args(args)
        .arg(pcap)
        .output()
        .unwrap()
}

/// The report's datagram and byte counts, and its failed sends.
fn report(out: &Output) -> (u64, u64, u64) {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("mirador send: "))
        .unwrap_or_else(|| panic!("no report: {err}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let datagrams = words[2].parse().unwrap();
    assert_eq!(words[3], "datagrams,", "{line}");
    let bytes = words[4].parse().unwrap();
    let failed = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("failed sends: "))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no failed count: {err}"))
        .parse()
        .unwrap();
    (datagrams, bytes, failed)
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn plain_frames_arrive_wrapped_in_vxlan() {
    let dir = tempfile::tempdir().unwrap();
    let inner = frames(30);
    let pcap = write_pcap(dir.path(), "plain.pcap", &inner);
    let rx = listener("127.0.0.1:0").unwrap();
    let out = send(&["--vni", "4242"], &rx, &pcap);
    ok(&out);
    let got = drain(&rx);
    assert_eq!(got.len(), inner.len());
    let bytes: usize = got.iter().map(Vec::len).sum();
    assert_eq!(report(&out), (30, bytes as u64, 0));
    for (d, f) in got.iter().zip(&inner) {
        assert_eq!(
            &d[..8],
            &tunnel::vxlan_header(4242),
            "a VXLAN header, I flag, VNI"
        );
        assert_eq!(&d[8..], &f[..], "the inner frame as captured");
        // And the sensor's decoder reads it so.
        let src = "10.0.1.15:50000".parse().unwrap();
        let dst = "10.0.0.100:4789".parse().unwrap();
        let dec = decode_udp_payload(src, dst, d, &DecodeOptions::default());
        let m = dec.mirror.unwrap();
        assert_eq!((m.encap, m.vni), (EncapKind::Vxlan, Some(4242)));
        assert!(dec.outcome.is_ok());
    }
}

#[test]
fn the_default_vni_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_pcap(dir.path(), "plain.pcap", &frames(2));
    let rx = listener("127.0.0.1:0").unwrap();
    ok(&send(&[], &rx, &pcap));
    for d in drain(&rx) {
        assert_eq!(&d[..8], &tunnel::vxlan_header(1));
    }
}

#[test]
fn packet_length_truncates_and_gwlb_double_wraps() {
    let dir = tempfile::tempdir().unwrap();
    let inner = frames(12);
    let pcap = write_pcap(dir.path(), "plain.pcap", &inner);
    let rx = listener("127.0.0.1:0").unwrap();
    ok(&send(&["--vni", "9", "--packet-length", "64"], &rx, &pcap));
    let got = drain(&rx);
    assert_eq!(got.len(), inner.len());
    for (d, f) in got.iter().zip(&inner) {
        assert_eq!(&d[8..], &f[..f.len().min(64)]);
    }

    ok(&send(&["--vni", "9", "--gwlb"], &rx, &pcap));
    let got = drain(&rx);
    assert_eq!(got.len(), inner.len());
    for (d, f) in got.iter().zip(&inner) {
        assert!(d.ends_with(f));
        let vxlan = &d[d.len() - f.len() - 8..d.len() - f.len()];
        assert_eq!(vxlan, &tunnel::vxlan_header(9));
        let src = "10.0.0.200:50000".parse().unwrap();
        let dst = "10.0.0.100:6081".parse().unwrap();
        let m = decode_udp_payload(src, dst, d, &DecodeOptions::default())
            .mirror
            .unwrap();
        assert_eq!((m.encap, m.vni), (EncapKind::Gwlb, Some(9)));
    }
}

#[test]
fn mirror_captures_are_sent_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let inner = frames(9);
    let (eni, sensor) = (ip("10.0.1.15"), ip("10.0.0.100"));
    let mut captured = Vec::new();
    let mut expected = Vec::new();
    for (i, f) in inner.iter().enumerate() {
        let frame = if i == 4 {
            tunnel::gwlb_frame(
                Ipv4Addr::new(10, 0, 0, 200),
                Ipv4Addr::new(10, 0, 0, 100),
                eni,
                sensor,
                50001,
                77,
                (1, 2, 3),
                f,
            )
        } else {
            tunnel::vxlan_frame(eni, sensor, 50000 + i as u16, 77 + i as u32, f)
        };
        // Outer Ethernet, IPv4 and UDP headers: 42 bytes.
        expected.push(frame[42..].to_vec());
        captured.push(frame);
        if i == 2 {
            // Not mirror traffic: skipped, not wrapped.
            captured.push(f.clone());
        }
    }
    let pcap = write_pcap(dir.path(), "vxlan.pcap", &captured);
    let rx = listener("127.0.0.1:0").unwrap();
    let out = send(&[], &rx, &pcap);
    ok(&out);
    let got = drain(&rx);
    assert_eq!(got, expected);
    let bytes: usize = expected.iter().map(Vec::len).sum();
    assert_eq!(report(&out), (9, bytes as u64, 0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("8 VXLAN and 1 GENEVE datagrams taken as they are, 1 frames skipped"),
        "{err}"
    );

    // Wrapping options make no sense here.
    let out = send(&["--vni", "5"], &rx, &pcap);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("vxlan.pcap") && err.contains("--vni"), "{err}");
}

#[test]
fn loop_repeats_and_rate_paces() {
    let dir = tempfile::tempdir().unwrap();
    let inner = frames(10);
    let pcap = write_pcap(dir.path(), "plain.pcap", &inner);
    let rx = listener("127.0.0.1:0").unwrap();
    let t = Instant::now();
    let out = send(&["--loop", "5", "--rate", "500"], &rx, &pcap);
    let elapsed = t.elapsed();
    ok(&out);
    let got = drain(&rx);
    assert_eq!(got.len(), 50);
    for (i, d) in got.iter().enumerate() {
        assert_eq!(&d[8..], &inner[i % 10][..]);
    }
    // 50 datagrams at 500/s: at least (50 - one 10 ms batch) / 500 s.
    assert!(elapsed >= Duration::from_millis(80), "{elapsed:?}");

    // --mbps paces by payload bits: 50 datagrams of known size.
    let bits: usize = got.iter().map(|d| d.len() * 8).sum();
    let mbps = bits as f64 / 0.1 / 1e6; // what lasts 100 ms
    let t = Instant::now();
    ok(&send(
        &["--loop", "5", "--mbps", &format!("{mbps}")],
        &rx,
        &pcap,
    ));
    assert!(
        t.elapsed() >= Duration::from_millis(80),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(drain(&rx).len(), 50);
}

#[test]
fn ipv6_destinations_work() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_pcap(dir.path(), "plain.pcap", &frames(5));
    let Some(rx) = optional("IPv6 loopback", listener("[::1]:0")) else {
        return;
    };
    let out = send(&["--vni", "3"], &rx, &pcap);
    ok(&out);
    assert_eq!(drain(&rx).len(), 5);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[::1]:"));
}

#[test]
fn refused_sends_are_counted_apart() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_pcap(dir.path(), "plain.pcap", &frames(20));
    // A port nobody listens on: loopback answers ICMP port unreachable,
    // which fails the next send on the connected socket (batches of two,
    // 10 ms apart, leave the time for it).
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let out = mirador()
        .args(["send", "--rate", "200", "--to"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(&pcap)
        .output()
        .unwrap();
    let (sent, _, failed) = report(&out);
    assert_eq!(sent + failed, 20);
    assert!(failed > 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
}

#[test]
fn bad_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = write_pcap(dir.path(), "plain.pcap", &frames(1));
    let rx = listener("127.0.0.1:0").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--to", "127.0.0.1"], "--to 127.0.0.1"),
        (&["--to", "127.0.0.1:4789", "--loop", "0"], "--loop"),
        (&["--to", "127.0.0.1:4789", "--rate", "0"], "--rate"),
        (
            &["--to", "127.0.0.1:4789", "--rate", "5", "--mbps", "5"],
            "--mbps",
        ),
        (&["--to", "127.0.0.1:4789", "--vni", "16777216"], "--vni"),
    ];
    for (args, needle) in cases {
        let out = mirador()
            .arg("send")
            .args(args)
            .arg(&pcap)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let missing = dir.path().join("missing.pcap");
    let out = send(&[], &rx, &missing);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pcap"));
    assert!(drain(&rx).is_empty());
}
