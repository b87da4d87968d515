//! Writes a large application-layer workload: HTTP/1.1, TLS and DNS
//! sessions in realistic proportions, VXLAN-wrapped as AWS Traffic
//! Mirroring sends them, with a share of sessions built from the given
//! rules so that they alert ([`mirador_testkit::appgen`]). For measuring
//! mirador against Suricata with ET Open (see `BENCHMARKS.md`).
//!
//! ```text
//! cargo run --release -p mirador-testkit --bin gen-app -- \
//!     [--seed N] [--bytes SIZE | --sessions N] [--trigger-pct P] \
//!     [--rate-mbps R] [--manifest FILE] [--rules FILE...] OUT.pcap
//! ```
//!
//! SIZE takes K, M and G suffixes (powers of 1000): `--bytes 400M`. The
//! default is 1000 sessions. `--trigger-pct` (default 3) is the share of
//! sessions that are triggers, cycling through one per satisfiable rule.
//! `--rate-mbps` (default 20) sets the mirrored bandwidth and so how fast
//! time runs. `--manifest` writes one line per trigger session: sid,
//! protocol, client, server, start time. A summary goes to stderr.

use std::fs::File;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use mirador_testkit::appgen::{self, Config, derive};

const USAGE: &str = "usage: gen-app [--seed N] [--bytes SIZE | --sessions N] [--trigger-pct P] [--rate-mbps R] [--manifest FILE] [--rules FILE...] OUT.pcap";

fn size(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 1_000),
        'M' => (&s[..s.len() - 1], 1_000_000),
        'G' => (&s[..s.len() - 1], 1_000_000_000),
        _ => (s, 1),
    };
    num.parse::<f64>().ok().map(|v| (v * mult as f64) as u64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, opts)) = args.split_last() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let mut cfg = Config::default();
    let mut rules: Vec<String> = Vec::new();
    let mut manifest: Option<String> = None;
    let mut i = 0;
    let bad = |what: &str| {
        eprintln!("gen-app: {what}\n{USAGE}");
        ExitCode::from(2)
    };
    while i < opts.len() {
        let o = opts[i].as_str();
        let val = opts.get(i + 1).map(String::as_str);
        match o {
            "--rules" => {
                i += 1;
                while i < opts.len() && !opts[i].starts_with("--") {
                    rules.push(opts[i].clone());
                    i += 1;
                }
                continue;
            }
            "--seed" => match val.and_then(|v| v.parse().ok()) {
                Some(v) => cfg.seed = v,
                None => return bad("--seed needs a number"),
            },
            "--bytes" => match val.and_then(size) {
                Some(v) => {
                    cfg.target_bytes = v;
                    cfg.max_sessions = 0;
                }
                None => return bad("--bytes needs a size"),
            },
            "--sessions" => match val.and_then(|v| v.parse().ok()) {
                Some(v) => cfg.max_sessions = v,
                None => return bad("--sessions needs a number"),
            },
            "--trigger-pct" => match val.and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if (0.0..=100.0).contains(&v) => cfg.trigger_pct = v,
                _ => return bad("--trigger-pct needs a percentage"),
            },
            "--rate-mbps" => match val.and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if v > 0.0 => cfg.rate_bps = v * 1e6,
                _ => return bad("--rate-mbps needs a positive number"),
            },
            "--manifest" => match val {
                Some(v) => manifest = Some(v.to_string()),
                None => return bad("--manifest needs a path"),
            },
            _ => return bad(&format!("unknown option {o}")),
        }
        i += 2;
    }
    let started = Instant::now();
    let mut files = Vec::new();
    for r in &rules {
        match std::fs::read(r) {
            Ok(b) => files.push((r.clone(), String::from_utf8_lossy(&b).into_owned())),
            Err(e) => {
                eprintln!("gen-app: {r}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let d = derive::derive(&files);
    cfg.triggers = d.triggers;
    cfg.avoid = derive::address_lists(&files);
    if !rules.is_empty() {
        let count = |p: &str| cfg.triggers.iter().filter(|t| t.proto() == p).count();
        eprintln!(
            "gen-app: {} enabled rules, {} triggers (dns {}, tls {}, http {}) in {:.1}s",
            d.rules,
            cfg.triggers.len(),
            count("dns"),
            count("tls"),
            count("http"),
            started.elapsed().as_secs_f64()
        );
        let mut why: Vec<_> = d.skipped.iter().collect();
        why.sort_by(|a, b| b.1.cmp(a.1));
        for (w, n) in why.iter().take(40) {
            eprintln!("gen-app:   skipped {n:6}  {w}");
        }
    }
    let mut man = match manifest.as_deref().map(File::create).transpose() {
        Ok(m) => m.map(std::io::BufWriter::new),
        Err(e) => {
            eprintln!("gen-app: manifest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let file = match File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen-app: {out}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let t1 = Instant::now();
    let mut man_err = None;
    let res = appgen::generate(&cfg, file, |p| {
        if let Some(m) = man.as_mut()
            && let Err(e) = writeln!(
                m,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.sid, p.proto, p.client.ip, p.client.port, p.server.ip, p.server.port, p.ts
            )
        {
            man_err.get_or_insert(e);
        }
    });
    if let Some(e) = man_err.or_else(|| man.as_mut().and_then(|m| m.flush().err())) {
        eprintln!("gen-app: manifest: {e}");
        return ExitCode::FAILURE;
    }
    match res {
        Ok(s) => {
            let total: u64 = s.sessions.iter().sum();
            let pb = |i: usize| s.proto_bytes[i] as f64 / 1e6;
            eprintln!(
                "gen-app: {out}: {} bytes, {} packets, {total} sessions (dns {}, http {} with {} requests, tls {}), {} trigger sessions (dns {}, http {}, tls {}); MB dns {:.1} http {:.1} tls {:.1}; {:.1}s of traffic; written in {:.1}s",
                s.bytes,
                s.packets,
                s.sessions[0],
                s.sessions[1],
                s.http_requests,
                s.sessions[2],
                s.trigger_sessions.iter().sum::<u64>(),
                s.trigger_sessions[0],
                s.trigger_sessions[1],
                s.trigger_sessions[2],
                pb(0),
                pb(1),
                pb(2),
                (s.span_ns.1 - s.span_ns.0) as f64 / 1e9,
                t1.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-app: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
