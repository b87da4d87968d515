//! Any sequence of IP packets through the defragmenter, with small caps so
//! that every limit is reached; memory must stay under its cap and every
//! rebuilt packet must carry a header that describes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_flow::defrag::{DefragConfig, Defragmenter, Verdict};
use mirador_wire::Timestamp;

fuzz_target!(|data: &[u8]| {
    let config = DefragConfig {
        max_fragments_per_datagram: 16,
        max_datagrams: 8,
        memcap: 64 << 10,
        ..DefragConfig::default()
    };
    let memcap = config.memcap;
    let mut d = Defragmenter::new(config);
    let mut out = Vec::new();
    // Records: [time step: u8][len: u16 le][bytes...].
    let (mut rest, mut now) = (data, 0i64);
    while rest.len() >= 3 {
        now += i64::from(rest[0]) * 100_000_000;
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        let pkt = &rest[3..end];
        rest = &rest[end..];
        out.clear();
        let o = d.push(Timestamp::from_nanos(now), 1, pkt, &mut out);
        if o.verdict == Verdict::Reassembled {
            // The rebuilt header must describe exactly the rebuilt bytes
            // (what it carries may still be garbage: that is the decoder's
            // business).
            match out.first().map(|b| b >> 4) {
                Some(4) => {
                    let ihl = usize::from(out[0] & 0x0f) * 4;
                    assert!(ihl >= 20 && ihl <= out.len());
                    assert_eq!(usize::from(u16::from_be_bytes([out[2], out[3]])), out.len());
                    assert_eq!(out[6] & 0x3f, 0, "MF and offset cleared");
                    assert_eq!(out[7], 0, "offset cleared");
                }
                Some(6) => {
                    assert!(out.len() >= 40);
                    assert_eq!(
                        usize::from(u16::from_be_bytes([out[4], out[5]])) + 40,
                        out.len()
                    );
                }
                _ => panic!("rebuilt packet is not IP"),
            }
        }
        assert!(d.memuse() <= memcap, "memory over its cap");
        d.expire(Timestamp::from_nanos(now));
    }
});
