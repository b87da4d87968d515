//! Any sequence of segments in both directions through one TCP session
//! (handshake, pick-up, one-sided mode, reversal, FIN/RST) with a small
//! stream budget: no panic, the budget holds, each direction's chunks are
//! contiguous, and ending the flow returns every byte of the budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_flow::reassembly::{Chunk, Policy, StreamConfig, UrgentPolicy};
use mirador_flow::tcp::{Segment, StreamBudget, TcpConfig, TcpCounters, TcpEvents, TcpSession};
use mirador_wire::Timestamp;

fuzz_target!(|data: &[u8]| {
    let first = data.first().copied().unwrap_or(0);
    let cfg = TcpConfig {
        midstream: first & 1 != 0,
        async_oneside: first & 2 != 0,
        stream: StreamConfig {
            depth: 4096,
            max_buffered_bytes: 2048,
            max_segments: 16,
            inline: first & 4 != 0,
            urgent: [
                UrgentPolicy::Inline,
                UrgentPolicy::Oob,
                UrgentPolicy::Gap,
                UrgentPolicy::Drop,
            ][usize::from(first >> 3 & 3)],
            urgent_oob_limit: [UrgentPolicy::Inline, UrgentPolicy::Gap, UrgentPolicy::Drop]
                [usize::from(first >> 5 & 3).min(2)],
            ..StreamConfig::default()
        },
    };
    let mut budget = StreamBudget {
        max_sessions: 1,
        max_bytes: 1024,
        ..StreamBudget::default()
    };
    let mut counters = TcpCounters::default();
    let mut ssn = TcpSession::default();
    let mut next = [0u64; 2];
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut t = 0i64;
    let drain = |ssn: &mut TcpSession, next: &mut [u64; 2]| {
        for (d, n) in next.iter_mut().enumerate() {
            while let Some(c) = ssn.poll(d) {
                let (off, len) = match c {
                    Chunk::Data { offset, bytes } => (offset, bytes.len() as u64),
                    Chunk::Gap { offset, len } => (offset, len),
                };
                assert_eq!(off, *n, "chunks are contiguous");
                *n = off + len;
            }
            let _ = ssn.take_stream_events(d);
        }
    };
    // Ops: [dir/flags: 1][seq: 4][ack: 4][len: 1][missing: 1] + payload.
    while rest.len() >= 11 {
        let ctl = rest[0];
        let seq = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]);
        let ack = u32::from_le_bytes([rest[5], rest[6], rest[7], rest[8]]);
        let (len, missing) = (usize::from(rest[9]), u32::from(rest[10]));
        let end = (11 + len).min(rest.len());
        let payload = &rest[11..end];
        rest = &rest[end..];
        t += 1;
        if ctl == 0xff {
            ssn.reverse();
            next.swap(0, 1);
            continue;
        }
        let seg = Segment {
            ts: Timestamp::from_nanos(t),
            to_server: ctl & 0x80 == 0,
            seq,
            ack,
            // URG (0x20) from the sequence number's low bit, so that
            // urgent segments come with any other flags.
            flags: ctl & 0x1f | 0x10 * u8::from(ctl & 0x40 != 0) | 0x20 * (seq as u8 & 1),
            payload,
            missing,
            window: u16::from(rest.first().copied().unwrap_or(0)) << 4,
            wscale: (ctl & 0x20 != 0).then_some(ctl & 0x0f),
            urgent: u16::from(ack as u8 & 0x0f),
        };
        let mut events = TcpEvents::default();
        ssn.packet(
            &cfg,
            &seg,
            || (Policy::Linux, Policy::Solaris),
            &mut budget,
            &mut counters,
            &mut events,
        );
        drain(&mut ssn, &mut next);
        ssn.sync(&mut budget);
        assert!(budget.bytes <= 1024 + 2 * 255);
        assert!(budget.sessions <= 1);
    }
    ssn.flush();
    drain(&mut ssn, &mut next);
    ssn.sync(&mut budget);
    ssn.release(&mut budget);
    assert_eq!((budget.bytes, budget.sessions), (0, 0));
});
