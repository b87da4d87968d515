//! Arbitrary bytes in both directions of one HTTP flow, cut into chunks
//! by the input itself, with gaps, ends of direction and removal of
//! transactions: no panic, and the caps hold (bodies within their limits,
//! live transactions within max-tx, events within their cap).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_applayer::Dir;
use mirador_applayer::http::{HttpBuffer, HttpConfig, HttpState};

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    // Small limits so that the caps are reached.
    let cfg = if first & 1 != 0 {
        HttpConfig {
            request_body_limit: 64,
            response_body_limit: 64,
            field_limit: 256,
            max_headers: 8,
            max_header_bytes: 512,
            max_header_repetitions: 4,
            max_tx: 4,
            decompress_layer_limit: 3,
            compression_bomb_limit: 4096,
            decompress_out_limit: 16 * 1024,
            max_events: 4,
            max_messages: 16,
            ..HttpConfig::default()
        }
    } else {
        HttpConfig::default()
    };
    let mut s = HttpState::new(&cfg);
    // Records: a control byte (direction, operation), a length byte, data.
    while let Some((&ctl, r)) = rest.split_first() {
        let Some((&len, r)) = r.split_first() else {
            break;
        };
        let n = usize::from(len).min(r.len());
        let (chunk, r) = r.split_at(n);
        rest = r;
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        match ctl >> 1 & 7 {
            0..=4 => s.input(dir, chunk),
            5 => s.gap(dir, u64::from(len)),
            6 => s.eof(dir),
            _ => {
                let oldest = s.txs().next().map(|t| t.id);
                if let Some(id) = oldest {
                    s.remove_through(id);
                }
            }
        }
    }
    s.eof(Dir::ToServer);
    s.eof(Dir::ToClient);
    assert!(s.txs().count() <= cfg.max_tx);
    let mut out = Vec::new();
    for tx in s.txs() {
        assert!(
            tx.buffer(HttpBuffer::RequestBody).map_or(0, <[u8]>::len) <= cfg.request_body_limit
        );
        assert!(
            tx.buffer(HttpBuffer::ResponseBody).map_or(0, <[u8]>::len) <= cfg.response_body_limit
        );
        assert!(tx.events().len() <= cfg.max_events);
        let mut i = 0;
        while tx.request_header(i).is_some() {
            i += 1;
        }
        assert!(i <= cfg.max_headers);
        out.clear();
        let mut o = mirador_engine::eve::Obj::new(&mut out);
        tx.write_eve(&mut o);
        o.close();
    }
});
