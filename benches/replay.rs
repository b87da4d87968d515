//! End to end in memory: a pcap of VXLAN-wrapped mixed traffic read by the
//! capture reader and run through the reader stage, EVE records written to
//! a buffer, as `mirador replay` does minus the file system; beside reading
//! the same pcap alone and a memcpy of its bytes, measured in the same run.
//!
//! `cargo bench --bench replay`

use std::path::Path;

use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use mirador_capture::PcapSource;
use mirador_engine::Ingest;
use mirador_testkit::pcap::{Record, TsResolution, pcap};

fn main() {
    divan::main();
}

const PACKETS: usize = 20_000;

fn capture() -> Vec<u8> {
    let recs: Vec<Record> = mirador_testkit::pcaps::mixed_vxlan_traffic(PACKETS, 11)
        .into_iter()
        .map(|(ts, f)| Record::new(ts, f))
        .collect();
    pcap(1, TsResolution::Nano, &recs).expect("in-memory pcap")
}

fn source(bytes: &[u8]) -> PcapSource {
    PcapSource::from_reader(
        Path::new("bench.pcap"),
        Box::new(std::io::Cursor::new(bytes.to_vec())),
    )
    .expect("a pcap")
}

#[divan::bench]
fn memcpy(b: Bencher) {
    let bytes = capture();
    let mut dst = vec![0u8; bytes.len()];
    b.counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(PACKETS))
        .bench_local(|| {
            dst.copy_from_slice(black_box(&bytes));
            black_box(&dst);
        });
}

#[divan::bench]
fn read_only(b: Bencher) {
    let bytes = capture();
    b.counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(PACKETS))
        .with_inputs(|| source(&bytes))
        .bench_local_values(|mut src| {
            let mut n = 0usize;
            while let Some(rec) = src.next_record().expect("record") {
                n += black_box(rec.data).len();
            }
            n
        });
}

#[divan::bench]
fn replay(b: Bencher) {
    let bytes = capture();
    let config = mirador_config::Config::embedded_default();
    b.counter(BytesCount::new(bytes.len()))
        .counter(ItemsCount::new(PACKETS))
        .with_inputs(|| {
            (
                source(&bytes),
                Ingest::from_config(&config),
                Vec::with_capacity(1 << 20),
            )
        })
        .bench_local_values(|(mut src, mut ingest, mut eve)| {
            let mut cnt = 0u64;
            while let Some(rec) = src.next_record().expect("record") {
                cnt += 1;
                black_box(ingest.process(rec.ts, rec.linktype, rec.data, cnt, &mut eve));
            }
            mirador_engine::write_stats_record(
                &mut eve,
                mirador_wire::Timestamp::default(),
                0,
                &ingest,
            );
            eve.len()
        });
}
