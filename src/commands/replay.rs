//! `mirador replay`: capture files through the sensor pipeline to EVE JSON.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mirador_capture::PcapSource;
use mirador_engine::{Ingest, InvalidCause, stats::FilterReason};
use mirador_runtime::{RuntimeConfig, RuntimeStats, Sharded};
use mirador_wire::Timestamp;

use crate::ReplayArgs;

/// EVE records are flushed to the output when this many bytes are buffered.
const EVE_FLUSH_BYTES: usize = 256 << 10;

/// Runs `mirador replay`.
pub fn run(args: &ReplayArgs) -> Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), &args.set)?;
    if args.workers == Some(0) {
        bail!("--workers 0: at least one worker is needed");
    }
    // Signatures: --no-rules turns them off; --rules replaces the
    // config's rule files.
    let rules = if args.no_rules {
        None
    } else {
        let paths = super::rules::rule_paths(&config, &args.rules);
        if paths.is_empty() {
            None
        } else {
            let (engine, report) = super::rules::load_rules(&config, &paths)?;
            eprintln!(
                "mirador: {} rule(s) loaded from {} file(s), {} skipped (mirador check-rules lists why)",
                report.loaded,
                paths.len(),
                report.skipped.len()
            );
            Some((std::sync::Arc::new(engine), report))
        }
    };

    let eve_path = args
        .eve
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.outputs.eve.filename));
    let mut out: Box<dyn Write> = if eve_path.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let f = File::create(&eve_path)
            .with_context(|| format!("{}: cannot create the EVE file", eve_path.display()))?;
        Box::new(BufWriter::new(f))
    };

    let workers = match args.workers.unwrap_or(config.workers) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let started = Instant::now();
    let mut rc = RuntimeConfig::from_config(&config, workers);
    rc.detect = rules.as_ref().map(|(e, _)| e.clone());
    rc.detectors = super::detectors::setup(&config)?;
    let mut sharded = Sharded::start(&rc).context("starting the flow workers")?;
    let mut ingest = Ingest::from_config(&config);
    let mut eve = Vec::with_capacity(EVE_FLUSH_BYTES * 2);
    let mut progress = Progress::new();
    let mut pcap_cnt = 0u64;
    let mut last_ts = Timestamp::default();
    let mut failures = Vec::new();
    let mut eve_records = 0u64;

    for path in &args.pcaps {
        let mut src = match PcapSource::open(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mirador: {e}");
                failures.push(e.to_string());
                continue;
            }
        };
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let mut bytes_read = 0u64;
        loop {
            let rec = match src.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    // Everything read so far stays counted and written.
                    eprintln!("mirador: {e}");
                    failures.push(e.to_string());
                    break;
                }
            };
            pcap_cnt += 1;
            bytes_read += rec.data.len() as u64 + 16;
            last_ts = last_ts.max(rec.ts);
            eve_records += sharded.process(
                &mut ingest,
                rec.ts,
                rec.linktype,
                rec.data,
                pcap_cnt,
                &mut eve,
            );
            if eve.len() >= EVE_FLUSH_BYTES {
                out.write_all(&eve).context("writing EVE")?;
                eve.clear();
            }
            progress.tick(path, pcap_cnt, bytes_read, size);
        }
        if src.truncated_tail() {
            eprintln!(
                "mirador: warning: {}: the file ends in a partial record (ignored)",
                path.display()
            );
        }
    }
    progress.clear();

    // The workers' last flow records, then the stats record: it stays last.
    out.write_all(&eve).context("writing EVE")?;
    eve.clear();
    let (rt, flow_records) = sharded
        .finish(|chunk| out.write_all(chunk))
        .context("writing EVE")?;
    eve_records += flow_records;
    let elapsed = started.elapsed();
    let rule_counts = rules
        .as_ref()
        .map_or((0, 0), |(_, r)| (r.loaded as u64, r.skipped.len() as u64));
    mirador_runtime::write_stats_record(
        &mut eve,
        last_ts,
        elapsed.as_secs(),
        &ingest,
        &rt,
        rule_counts,
        None,
    );
    eve_records += 1;
    out.write_all(&eve).context("writing EVE")?;
    out.flush().context("writing EVE")?;
    drop(out);

    summary(&ingest, &rt, args, &eve_path, elapsed, eve_records);
    // The process exits next: freeing the rule set, hundreds of thousands
    // of allocations, would only cost time (6% of the CPU of a 100,000
    // packet replay with ET Open). The OS takes the memory back.
    std::mem::forget(rules);
    if let Some(e) = &rt.vpc_error {
        eprintln!("mirador: VPC Flow Logs output: {e}");
        failures.push(e.clone());
    }
    if rt.worker_failed {
        eprintln!("mirador: internal error: a flow worker failed; flow records are missing");
        return Ok(ExitCode::from(3));
    }
    if !ingest.accounting().balances() {
        // A broken identity is a bug, never an input problem: make it loud.
        eprintln!("mirador: internal error: packet accounting does not balance");
        return Ok(ExitCode::from(3));
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn summary(
    ingest: &Ingest,
    rt: &RuntimeStats,
    args: &ReplayArgs,
    eve: &Path,
    elapsed: Duration,
    eve_records: u64,
) {
    let a = ingest.accounting();
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut s = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        s,
        "mirador replay: {} packets from {} file(s) in {:.3} s ({:.0} packets/s)",
        a.received,
        args.pcaps.len(),
        secs,
        a.received as f64 / secs
    );
    let _ = writeln!(
        s,
        "  inspected {} (truncated {}), invalid {}, filtered {}, dropped {}",
        a.inspected,
        a.truncated,
        a.invalid_total(),
        a.filtered_total(),
        a.dropped_total()
    );
    let invalid: Vec<String> = a
        .invalid
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(i, n)| InvalidCause::from_index(i).map(|c| format!("{} {n}", c.as_str())))
        .collect();
    if !invalid.is_empty() {
        let _ = writeln!(s, "  invalid: {}", invalid.join(", "));
    }
    let filtered: Vec<String> = FilterReason::ALL
        .iter()
        .zip(a.filtered)
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{} {n}", r.as_str()))
        .collect();
    if !filtered.is_empty() {
        let _ = writeln!(s, "  filtered: {}", filtered.join(", "));
    }
    for sess in ingest.sessions().iter() {
        let c = &sess.counters;
        if c.received == 0 {
            continue;
        }
        let _ = writeln!(
            s,
            "  session {}: {} packets, {} inspected, {} invalid, {} filtered",
            sess.spec.display,
            c.received,
            c.inspected,
            c.invalid,
            c.filtered()
        );
    }
    let t = rt.flow_totals();
    let _ = writeln!(
        s,
        "  flows {} on {} worker(s): timeout {}, forced {}, shutdown {}",
        t.created,
        rt.workers.len(),
        t.timeouts,
        t.forced,
        t.shutdown
    );
    let (tcp, _, st) = rt.tcp_totals();
    let _ = writeln!(
        s,
        "  tcp sessions {} (midstream {}), stream bytes {}, gaps {}, mirror loss {}",
        tcp.sessions,
        tcp.midstream_pickups,
        st.bytes,
        st.gaps,
        match st.percent_lost() {
            Some(p) => format!("{p:.2}% ({} bytes)", st.lost_bytes),
            None => "n/a".into(),
        }
    );
    if let Some(v) = &rt.vpc {
        let _ = writeln!(
            s,
            "  vpc flow logs: {} records in {} file(s)",
            v.records, v.files_opened
        );
    }
    let _ = writeln!(
        s,
        "  eve: {} ({eve_records} records)",
        if eve.as_os_str() == "-" {
            "stdout".into()
        } else {
            eve.display().to_string()
        }
    );
    eprint!("{s}");
}

/// A progress line on stderr, only when stderr is a terminal, at most a few
/// times a second.
struct Progress {
    enabled: bool,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            last: Instant::now(),
            shown: false,
        }
    }

    fn tick(&mut self, path: &Path, packets: u64, read: u64, size: u64) {
        // Checking the clock every packet would cost more than the check
        // saves: look every 4096 packets.
        if !self.enabled
            || !packets.is_multiple_of(4096)
            || self.last.elapsed() < Duration::from_millis(250)
        {
            return;
        }
        self.last = Instant::now();
        self.shown = true;
        let pct = if size > 0 {
            (read as f64 * 100.0 / size as f64).min(100.0)
        } else {
            0.0
        };
        eprint!("\r{}: {packets} packets, {pct:.0}%   ", path.display());
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r{}\r", " ".repeat(72));
        }
    }
}
