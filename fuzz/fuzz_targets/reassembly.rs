//! Any sequence of segments, ACKs, flushes and polls through one stream
//! direction with small caps: no panic, caps hold, delivered chunks are
//! contiguous.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_flow::reassembly::{Chunk, StreamConfig, StreamDir};
use mirador_wire::Timestamp;

fuzz_target!(|data: &[u8]| {
    let cfg = StreamConfig {
        depth: 4096,
        max_buffered_bytes: 2048,
        max_segments: 16,
        inline: data.first().is_some_and(|b| b & 1 == 1),
        ..StreamConfig::default()
    };
    let mut s = StreamDir::new(cfg);
    let mut next_offset = 0u64;
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut t = 0i64;
    // Ops: [kind][seq: 4][len: 1][flags: 1][missing: 1] + payload.
    while rest.len() >= 8 {
        let (op, seq) = (
            rest[0],
            u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]),
        );
        let (len, flags, missing) = (usize::from(rest[5]), rest[6], u32::from(rest[7]));
        let end = (8 + len).min(rest.len());
        let payload = &rest[8..end];
        rest = &rest[end..];
        t += 1;
        match op % 4 {
            0 | 1 => {
                s.segment(Timestamp::from_nanos(t), seq, payload, flags, missing);
            }
            2 => s.ack(seq),
            _ => s.flush(),
        }
        assert!(s.buffered_bytes() <= 2048 + 255);
        while let Some(c) = s.poll() {
            let (off, len) = match c {
                Chunk::Data { offset, bytes } => (offset, bytes.len() as u64),
                Chunk::Gap { offset, len } => (offset, len),
            };
            assert_eq!(off, next_offset, "chunks are contiguous");
            next_offset = off + len;
            assert!(next_offset <= 4096 + 65536);
        }
        let _ = s.take_events();
    }
});
