//! DNS over UDP and TCP: arbitrary bytes, cut into datagrams, stream
//! chunks and gaps of either direction by the input itself, through one
//! flow's state with small caps; every transaction's EVE records and alert
//! object are written. No panic; the caps hold; ids only grow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_applayer::Dir;
use mirador_applayer::dns::{DnsConfig, DnsEveConfig, DnsState, probe};
use mirador_engine::eve::Obj;

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let cfg = DnsConfig {
        max_txs: 1 + usize::from(first & 7),
        max_queries: 1 + usize::from(first >> 3 & 3) * 8,
        max_records: 1 + usize::from(first >> 5) * 16,
        max_name_bytes: 4096,
        ..DnsConfig::default()
    };
    let eve = if first & 1 == 0 {
        DnsEveConfig::default()
    } else {
        DnsEveConfig::new(None, None, Some(&["grouped"]), Some(&["a", "txt", "soa"])).unwrap()
    };
    let mut s = DnsState::new(&cfg);
    let mut out = Vec::new();
    let mut max_id: Option<u64> = None;
    // Ops: [ctl: 1][len: 1] + len bytes.
    while let [ctl, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        let dir = if ctl & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        match ctl >> 1 & 3 {
            0 => s.udp(dir, chunk),
            1 | 2 => s.input(dir, chunk),
            _ => s.gap(dir, u64::from(*len)),
        }
        let _ = probe(chunk, ctl & 8 != 0);
        assert!(s.txs().count() <= cfg.max_txs);
        let mut prev: Option<u64> = None;
        for tx in s.txs() {
            assert!(prev.is_none_or(|p| tx.id > p));
            prev = Some(tx.id);
            if let Some(m) = tx.request().or(tx.response()) {
                assert!(m.queries.len() <= cfg.max_queries);
                assert!(m.answers.len() + m.authorities.len() <= cfg.max_records);
            }
            for r in tx.eve_records(&eve) {
                out.clear();
                let mut o = Obj::new(&mut out);
                r.write(&mut o);
                o.close();
            }
            out.clear();
            let mut o = Obj::new(&mut out);
            tx.write_alert_eve(&mut o);
            o.close();
            let mut i = 0;
            while tx.query(i).is_some() {
                i += 1;
            }
        }
        if let Some(p) = prev {
            assert!(max_id.is_none_or(|m| p >= m));
            max_id = Some(p);
        }
        let oldest = s.txs().next().map(|t| t.id);
        if let Some(id) = oldest.filter(|_| ctl & 16 != 0) {
            s.remove_through(id);
        }
    }
});
