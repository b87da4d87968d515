//! Decoding VXLAN-wrapped mixed traffic from memory, beside a memcpy of the
//! same bytes measured in the same run (the baseline BENCHMARKS.md quotes).
//!
//! `cargo bench --bench decode`

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use mirador_engine::Ingest;
use mirador_wire::{DecodeOptions, Timestamp, decode, linktype};

fn main() {
    divan::main();
}

/// 4096 packets of the generated mixed mirror traffic.
fn traffic() -> (Vec<Vec<u8>>, u64) {
    let frames: Vec<Vec<u8>> = mirador_testkit::pcaps::mixed_vxlan_traffic(4096, 7)
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let bytes = frames.iter().map(|f| f.len() as u64).sum();
    (frames, bytes)
}

#[divan::bench]
fn memcpy(b: Bencher) {
    let (frames, bytes) = traffic();
    let mut buf = vec![0u8; 65536];
    b.counter(BytesCount::new(bytes))
        .counter(ItemsCount::new(frames.len()))
        .bench_local(|| {
            for f in &frames {
                buf[..f.len()].copy_from_slice(black_box(f));
                black_box(&buf);
            }
        });
}

#[divan::bench]
fn decode_vxlan(b: Bencher) {
    let (frames, bytes) = traffic();
    let opts = DecodeOptions::default();
    b.counter(BytesCount::new(bytes))
        .counter(ItemsCount::new(frames.len()))
        .bench_local(|| {
            for f in &frames {
                black_box(decode(linktype::ETHERNET, black_box(f), &opts));
            }
        });
}

#[divan::bench]
fn ingest_vxlan(b: Bencher) {
    let (frames, bytes) = traffic();
    let config = mirador_config::Config::embedded_default();
    let mut ingest = Ingest::from_config(&config);
    let mut eve = Vec::new();
    b.counter(BytesCount::new(bytes))
        .counter(ItemsCount::new(frames.len()))
        .bench_local(|| {
            for (i, f) in frames.iter().enumerate() {
                black_box(ingest.process(
                    Timestamp::from_nanos(i as i64),
                    linktype::ETHERNET,
                    f,
                    0,
                    &mut eve,
                ));
            }
            eve.clear();
        });
}

/// The same without checksum verification, to show what it costs.
#[divan::bench]
fn decode_vxlan_no_checksums(b: Bencher) {
    let (frames, bytes) = traffic();
    let opts = DecodeOptions {
        verify_checksums: false,
        ..DecodeOptions::default()
    };
    b.counter(BytesCount::new(bytes))
        .counter(ItemsCount::new(frames.len()))
        .bench_local(|| {
            for f in &frames {
                black_box(decode(linktype::ETHERNET, black_box(f), &opts));
            }
        });
}
