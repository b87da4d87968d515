//! Prefilter throughput on mixed payloads with ET Open's fast patterns:
//! mirador's grouping (any-port group plus the destination port's group,
//! per protocol class and inspection kind) against one automaton over
//! every loaded rule's fast pattern, and memcpy of the same bytes.
//!
//! `cargo bench -p mirador-detect --bench prefilter`. Needs the shared
//! corpus's ET Open rules (`../shared/corpus/et-open/rules` from the
//! workspace root); without them it says so and measures nothing.

use std::path::Path;

use mirador_detect::engine::{Engine, Scratch};
use mirador_detect::pcre_step::compile_pcre;
use mirador_detect::prefilter::{Candidates, Entry, Prefilter};
use mirador_detect::ruleset::{LoadOptions, load};
use mirador_rules::{Classifications, Vars};

fn main() {
    divan::main();
}

struct Setup {
    engine: Engine,
    one: Prefilter,
    /// The previous prefilter's search, for the ratio: aho-corasick over
    /// the same distinct patterns (case-sensitive and `nocase` apart),
    /// overlapping.
    ac: [aho_corasick::AhoCorasick; 2],
    payloads: Vec<(u16, Vec<u8>)>,
    bytes: usize,
}

fn setup() -> Option<Setup> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/et-open/rules");
    let mut files = Vec::new();
    for e in std::fs::read_dir(&dir).ok()? {
        let p = e.ok()?.path();
        if p.extension().is_some_and(|x| x == "rules") {
            files.push((p.display().to_string(), std::fs::read_to_string(&p).ok()?));
        }
    }
    files.sort();
    let classes = Classifications::suricata_default();
    let opts = LoadOptions {
        disable: &[],
        enable: &[],
        classes: &classes,
        pcre: &compile_pcre,
        files: None,
    };
    let (sigs, names, _) = load(&files, &opts);
    let entries: Vec<Entry> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| Entry {
            rule: i as u32,
            pattern: s.fast_pattern.clone(),
        })
        .collect();
    let one = Prefilter::build(sigs.len(), &entries).ok()?;
    let mut pats: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    for (p, nocase) in sigs.iter().filter_map(|s| s.fast_pattern.clone()) {
        pats[usize::from(nocase)].push(if nocase { p.to_ascii_lowercase() } else { p });
    }
    let ac = [0, 1].map(|i| {
        pats[i].sort();
        pats[i].dedup();
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(i == 1)
            .build(&pats[i])
            .expect("automaton")
    });
    let engine = Engine::build(sigs, names, &Vars::suricata_defaults(), &[]);
    // Mixed payloads: HTTP-like requests and responses, TLS-ish binary,
    // SMTP/IMAP text and random bytes, 1448-byte segments, to ports
    // 80, 443, 25 and high ports.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut payloads = Vec::new();
    let mut bytes = 0;
    for i in 0..2048 {
        let mut p = Vec::with_capacity(1448);
        let port = match i % 4 {
            0 => {
                p.extend_from_slice(b"GET /index.php?id=42&user=admin HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\nAccept: */*\r\nCookie: session=abcdef0123456789\r\n\r\n");
                80
            }
            1 => {
                p.extend_from_slice(&[
                    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
                ]);
                443
            }
            2 => {
                p.extend_from_slice(b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: quarterly report\r\n\r\n");
                25
            }
            _ => 49152 + (i % 1000) as u16,
        };
        while p.len() < 1448 {
            let r = next();
            if i % 4 == 3 {
                p.push(r as u8);
            } else {
                p.push(b"abcdefghijklmnopqrstuvwxyz0123456789 =&/\r\n"[(r % 42) as usize]);
            }
        }
        bytes += p.len();
        payloads.push((port, p));
    }
    Some(Setup {
        engine,
        one,
        ac,
        payloads,
        bytes,
    })
}

static SETUP: std::sync::LazyLock<Option<Setup>> = std::sync::LazyLock::new(|| {
    let s = setup();
    match &s {
        Some(s) => eprintln!(
            "prefilter bench: {} rules, {} payload bytes, grouping {:?}",
            s.engine.signatures().len(),
            s.bytes,
            s.engine.stats().groups
        ),
        None => {
            eprintln!("prefilter bench: ../shared/corpus/et-open/rules not found; nothing measured")
        }
    }
    s
});

#[divan::bench]
fn memcpy(bencher: divan::Bencher) {
    let Some(s) = SETUP.as_ref() else { return };
    let mut buf = vec![0u8; 1448];
    bencher
        .counter(divan::counter::BytesCount::new(s.bytes))
        .bench_local(|| {
            for (_, p) in &s.payloads {
                buf[..p.len()].copy_from_slice(divan::black_box(p));
            }
            divan::black_box(&buf);
        });
}

#[divan::bench(args = [false, true])]
fn grouped(bencher: divan::Bencher, stream: bool) {
    let Some(s) = SETUP.as_ref() else { return };
    let mut scratch = Scratch::default();
    bencher
        .counter(divan::counter::BytesCount::new(s.bytes))
        .bench_local(|| {
            let mut n = 0;
            for (port, p) in &s.payloads {
                n += s.engine.candidates(0, 6, *port, stream, p, &mut scratch);
            }
            divan::black_box(n)
        });
}

#[divan::bench]
fn one_automaton(bencher: divan::Bencher) {
    let Some(s) = SETUP.as_ref() else { return };
    let mut c = Candidates::default();
    bencher
        .counter(divan::counter::BytesCount::new(s.bytes))
        .bench_local(|| {
            let mut n = 0;
            for (_, p) in &s.payloads {
                s.one.candidates(p, &mut c);
                n += c.as_slice().len();
            }
            divan::black_box(n)
        });
}

#[divan::bench]
fn one_aho_corasick(bencher: divan::Bencher) {
    let Some(s) = SETUP.as_ref() else { return };
    bencher
        .counter(divan::counter::BytesCount::new(s.bytes))
        .bench_local(|| {
            let mut n = 0;
            for (_, p) in &s.payloads {
                for ac in &s.ac {
                    n += ac.find_overlapping_iter(p).count();
                }
            }
            divan::black_box(n)
        });
}
