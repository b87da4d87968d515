//! Any linktype's frame through the whole decoder and the reader stage.
//! The first byte picks the linktype; the rest is the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_wire::{DecodeOptions, Timestamp, decode, linktype};

const LINKTYPES: [u32; 11] = [
    linktype::NULL,
    linktype::ETHERNET,
    linktype::PPP,
    linktype::RAW,
    linktype::C_HDLC,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::IPV4,
    linktype::IPV6,
    linktype::LINUX_SLL2,
    999,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let lt = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    let d = decode(lt, frame, &DecodeOptions::default());
    if let Ok(p) = &d.outcome {
        // Everything the decoder hands out must lie inside the input.
        assert!(p.frame.len() <= frame.len());
        assert!(p.payload.len() <= frame.len());
        let _ = p.five_tuple();
    }
    // The live receiver's entry, on the same bytes.
    let a = "10.0.0.1:40000".parse().unwrap();
    let b = "10.0.0.2:4789".parse().unwrap();
    let _ = mirador_wire::decode_udp_payload(a, b, frame, &DecodeOptions::default());
    // And the whole reader stage (sessions, accounting, anomaly records).
    thread_local! {
        static INGEST: std::cell::RefCell<mirador_engine::Ingest> = std::cell::RefCell::new(
            mirador_engine::Ingest::from_config(&mirador_config::Config::embedded_default()));
    }
    INGEST.with(|i| {
        let mut i = i.borrow_mut();
        let mut eve = Vec::new();
        i.process(Timestamp::from_nanos(0), lt, frame, 1, &mut eve);
        assert!(i.accounting().balances());
    });
});
