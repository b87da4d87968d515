//! Payload inspection throughput: single patterns (exact and `nocase`)
//! over a 1460-byte segment, a typical multi-keyword HTTP rule, and a
//! within-chain that backtracks over every occurrence.

use divan::counter::BytesCount;
use divan::{Bencher, black_box};
use mirador_detect::payload::{BufferKind, Program, Vars, split_options};

fn main() {
    divan::main();
}

fn program(sig: &str) -> Program {
    Program::compile(BufferKind::Payload, split_options(sig)).expect("valid rule options")
}

fn http_segment() -> Vec<u8> {
    let mut p = b"GET /index.php?id=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0\r\n"
        .to_vec();
    while p.len() < 1440 {
        p.extend_from_slice(b"X-Filler: abcdefghijklmnopqrstuvwxyz0123456789\r\n");
    }
    p.truncate(1440);
    p.extend_from_slice(b"\r\n\r\n0123456789abcd");
    p
}

fn bench(bencher: Bencher, sig: &str, buf: &[u8], expect: bool) {
    let prog = program(sig);
    assert_eq!(prog.inspect(buf, &mut Vars::new()), expect, "{sig}");
    bencher.counter(BytesCount::of_slice(buf)).bench_local(|| {
        let mut vars = Vars::new();
        black_box(prog.inspect(black_box(buf), &mut vars))
    });
}

#[divan::bench]
fn content_miss(bencher: Bencher) {
    bench(
        bencher,
        r#"content:"|de ad be ef|";"#,
        &http_segment(),
        false,
    );
}

#[divan::bench]
fn content_nocase_miss(bencher: Bencher) {
    bench(
        bencher,
        r#"content:"select from"; nocase;"#,
        &http_segment(),
        false,
    );
}

#[divan::bench]
fn http_rule_match(bencher: Bencher) {
    bench(
        bencher,
        r#"content:"GET "; startswith; content:".php?"; distance:0; within:64; content:"id="; distance:0; content:"User-Agent|3a| "; nocase; isdataat:4,relative; content:"|0d 0a 0d 0a|"; distance:0; byte_test:4,>,100,0,relative,string,dec;"#,
        &http_segment(),
        true,
    );
}

#[divan::bench]
fn backtracking_over_every_occurrence(bencher: Bencher) {
    let buf: Vec<u8> = b"ab".iter().copied().cycle().take(1460).collect();
    bench(
        bencher,
        r#"content:"a"; content:"b"; distance:0; within:1; content:"a"; distance:0; within:1; content:"c"; distance:0; within:1;"#,
        &buf,
        false,
    );
}
