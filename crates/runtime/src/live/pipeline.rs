//! The pipeline thread: received frames through the reader stage to the
//! flow workers, EVE records to the output, and the live sensor's clock.
//!
//! One thread runs the reader stage (decode, session, filter, dedup,
//! defragmentation, sharding), because its state (sessions and their
//! counters, the dedup window, fragments) is shared by every datagram
//! whatever socket it came in on; the receivers only copy datagrams out of
//! the kernel, and the workers do the per-flow work. It hands packets to
//! the workers with backpressure: a slow worker slows this thread, whose
//! input queue then fills, and the receivers drop (and count) there. So a
//! packet the reader stage has counted is never dropped later, and the
//! accounting identity holds exactly.
//!
//! Every [`PipelineConfig::tick`] it moves the workers' clock to the wall
//! clock (flows time out, records come out while traffic is quiet),
//! publishes its counters, and writes what the workers finished. It also
//! applies reloads and output reopening between batches, and writes
//! periodic `stats` records.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use mirador_engine::{Accounting, DecoderCounters, DropReason, Ingest};
use mirador_wire::Timestamp;

use super::receiver::{DatagramBatch, ListenerTelemetry, Receivers};
use crate::telemetry::Telemetry;
use crate::{RuntimeStats, Sharded};

/// EVE bytes buffered before they are written.
const EVE_FLUSH_BYTES: usize = 256 << 10;

/// Where EVE records go (the rotating file in production).
pub trait EveSink: Send {
    /// Writes whole records.
    fn write(&mut self, bytes: &[u8], now: SystemTime) -> io::Result<()>;
    /// Flushes buffered bytes.
    fn flush(&mut self) -> io::Result<()>;
    /// Closes and opens the output again (logrotate moved it).
    fn reopen(&mut self) -> io::Result<()>;
    /// Files rotated so far.
    fn rotations(&self) -> u64;
}

/// An instruction for the pipeline, applied between batches.
pub enum Command {
    /// Switch to a new rule set (compiled beforehand, off this thread).
    Reload(Box<Reload>),
    /// Reopen the EVE output.
    Reopen,
}

/// A compiled rule set to switch to.
pub struct Reload {
    /// The signatures (none: `--no-rules`).
    pub detect: Option<Arc<mirador_detect::engine::Engine>>,
    /// The application-layer settings.
    pub app: crate::app::AppConfig,
    /// Rules loaded and skipped, for metrics and `stats.detect`.
    pub rules: (u64, u64),
    /// Told once every worker has switched.
    pub done: Option<Sender<()>>,
}

/// The pipeline's settings.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// How often the clock ticks.
    pub tick: Duration,
    /// Periodic `stats` records, when on.
    pub stats_interval: Option<Duration>,
    /// Rules loaded and skipped at start.
    pub rules: (u64, u64),
}

/// The reader stage's counters as last published (at most one tick old).
#[derive(Debug, Clone, Default)]
pub struct IngestSnapshot {
    /// The accounting identity's terms.
    pub accounting: Accounting,
    /// Decoder counters.
    pub decoder: DecoderCounters,
    /// Per session: label, tenant, and its counters.
    pub sessions: Vec<SessionSnapshot>,
    /// Per session (by id): TCP stream bytes the mirror never delivered.
    pub mirror_loss: Vec<u64>,
    /// The anomaly detectors' counters, when they are on.
    pub detectors: Option<crate::detectors::DetectorCounters>,
}

/// One session's counters.
#[derive(Debug, Clone, Default)]
pub struct SessionSnapshot {
    /// Its display name (`vni 5 from 10.0.0.1`, or the configured name).
    pub name: String,
    /// Its tenant.
    pub tenant: String,
    /// Packets received.
    pub packets: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Inspected packets that were truncated.
    pub truncated: u64,
    /// Packets filtered.
    pub filtered: u64,
}

/// State the metrics and health endpoints read.
#[derive(Debug)]
pub struct LiveState {
    /// The workers' counters.
    pub telemetry: Arc<Telemetry>,
    /// The sockets' counters.
    pub listeners: Vec<Arc<ListenerTelemetry>>,
    /// The reader stage's counters.
    pub ingest: Mutex<IngestSnapshot>,
    /// Rules in use.
    pub rules_loaded: AtomicU64,
    /// Rules the loaded files had that were skipped.
    pub rules_skipped: AtomicU64,
    /// Successful reloads.
    pub reloads: AtomicU64,
    /// Failed reloads.
    pub reload_failures: AtomicU64,
    /// EVE records written.
    pub eve_records: AtomicU64,
    /// EVE write errors.
    pub eve_errors: AtomicU64,
    /// EVE files rotated.
    pub eve_rotations: AtomicU64,
    /// The pipeline and every worker run.
    pub running: AtomicBool,
    /// Unix seconds of the last queue drop (0: never).
    pub last_drop: AtomicU64,
    /// When the sensor started.
    pub started: SystemTime,
}

impl LiveState {
    /// Fresh state.
    pub fn new(telemetry: Arc<Telemetry>, listeners: Vec<Arc<ListenerTelemetry>>) -> LiveState {
        LiveState {
            telemetry,
            listeners,
            ingest: Mutex::new(IngestSnapshot::default()),
            rules_loaded: AtomicU64::new(0),
            rules_skipped: AtomicU64::new(0),
            reloads: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            eve_records: AtomicU64::new(0),
            eve_errors: AtomicU64::new(0),
            eve_rotations: AtomicU64::new(0),
            running: AtomicBool::new(false),
            last_drop: AtomicU64::new(0),
            started: SystemTime::now(),
        }
    }

    /// Whether the sensor dropped for a full queue within `window`.
    pub fn overloaded(&self, window: Duration) -> bool {
        let last = self.last_drop.load(Relaxed);
        last > 0 && unix_secs(SystemTime::now()).saturating_sub(last) < window.as_secs().max(1)
    }
}

/// What the pipeline leaves at the end.
#[derive(Debug)]
pub struct Summary {
    /// The accounting identity's terms, receivers' drops included.
    pub accounting: Accounting,
    /// The workers' final counters.
    pub runtime: RuntimeStats,
    /// EVE records written.
    pub eve_records: u64,
    /// The first EVE write error, if any.
    pub eve_error: Option<String>,
}

/// Runs the pipeline until every receiver has ended (their senders
/// dropped) and their batches are processed; then ends every flow, writes
/// the final `stats` record and flushes the output.
#[allow(clippy::too_many_arguments)]
pub fn run(
    config: &mirador_config::Config,
    input: Receiver<DatagramBatch>,
    spare: Sender<DatagramBatch>,
    commands: Receiver<Command>,
    mut eve: Box<dyn EveSink>,
    state: Arc<LiveState>,
    pc: PipelineConfig,
    sharded: Sharded,
) -> io::Result<Summary> {
    let mut sharded = sharded;
    let mut ingest = Ingest::from_config(config);
    state.rules_loaded.store(pc.rules.0, Relaxed);
    state.rules_skipped.store(pc.rules.1, Relaxed);
    state.running.store(true, Relaxed);
    let mut rules = pc.rules;
    let mut out = Vec::with_capacity(EVE_FLUSH_BYTES * 2);
    let mut records = 0u64;
    let mut seq = 0u64;
    let mut folded = 0u64;
    let mut eve_error: Option<String> = None;
    let mut last_tick = Instant::now();
    let mut last_stats = Instant::now();
    let started = Instant::now();
    let write = |out: &mut Vec<u8>, eve: &mut Box<dyn EveSink>, eve_error: &mut Option<String>| {
        if out.is_empty() {
            return;
        }
        if let Err(e) = eve.write(out, SystemTime::now()) {
            state.eve_errors.fetch_add(1, Relaxed);
            eve_error.get_or_insert(e.to_string());
        }
        state.eve_rotations.store(eve.rotations(), Relaxed);
        out.clear();
    };
    loop {
        let disconnected = match input.recv_timeout(pc.tick) {
            Ok(batch) => {
                for item in &batch.items {
                    seq += 1;
                    records += sharded.process(
                        &mut ingest,
                        item.ts,
                        mirador_wire::linktype::RAW,
                        batch.frame(item),
                        seq,
                        &mut out,
                    );
                }
                let _ = spare.try_send(batch);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        while let Ok(c) = commands.try_recv() {
            match c {
                Command::Reload(r) => {
                    records += sharded.reload(r.detect, r.app, &mut out);
                    rules = r.rules;
                    state.rules_loaded.store(rules.0, Relaxed);
                    state.rules_skipped.store(rules.1, Relaxed);
                    state.reloads.fetch_add(1, Relaxed);
                    if let Some(done) = r.done {
                        let _ = done.send(());
                    }
                }
                Command::Reopen => {
                    write(&mut out, &mut eve, &mut eve_error);
                    if let Err(e) = eve.reopen() {
                        state.eve_errors.fetch_add(1, Relaxed);
                        eve_error.get_or_insert(e.to_string());
                    }
                }
            }
        }
        let ticked = last_tick.elapsed() >= pc.tick || disconnected;
        if ticked {
            last_tick = Instant::now();
            sharded.tick(now_ts());
            records += sharded.drain(&mut out);
            fold_drops(&state, &mut ingest, &mut folded);
            publish(&state, &ingest, &sharded);
            if sharded.failed() {
                state.running.store(false, Relaxed);
            }
        }
        if let Some(every) = pc.stats_interval
            && last_stats.elapsed() >= every
        {
            last_stats = Instant::now();
            let rt = sharded.snapshot();
            crate::write_stats_record(
                &mut out,
                now_ts(),
                started.elapsed().as_secs(),
                &ingest,
                &rt,
                rules,
                Some(capture_counts(&state)),
            );
            records += 1;
        }
        if out.len() >= EVE_FLUSH_BYTES || (ticked && !out.is_empty()) {
            state.eve_records.store(records, Relaxed);
            write(&mut out, &mut eve, &mut eve_error);
            if ticked && let Err(e) = eve.flush() {
                state.eve_errors.fetch_add(1, Relaxed);
                eve_error.get_or_insert(e.to_string());
            }
        }
        if disconnected {
            break;
        }
    }
    // The receivers have ended: their last drop counts are final.
    fold_drops(&state, &mut ingest, &mut folded);
    write(&mut out, &mut eve, &mut eve_error);
    let mut chunk_error = None;
    let (rt, flow_records) = sharded.finish(|chunk| {
        if let Err(e) = eve.write(chunk, SystemTime::now()) {
            chunk_error.get_or_insert(e.to_string());
        }
        Ok(())
    })?;
    if let Some(e) = chunk_error {
        state.eve_errors.fetch_add(1, Relaxed);
        eve_error.get_or_insert(e);
    }
    records += flow_records;
    crate::write_stats_record(
        &mut out,
        now_ts(),
        started.elapsed().as_secs(),
        &ingest,
        &rt,
        rules,
        Some(capture_counts(&state)),
    );
    records += 1;
    write(&mut out, &mut eve, &mut eve_error);
    if let Err(e) = eve.flush() {
        state.eve_errors.fetch_add(1, Relaxed);
        eve_error.get_or_insert(e.to_string());
    }
    state.eve_records.store(records, Relaxed);
    state.running.store(false, Relaxed);
    publish_ingest(&state, &ingest, &rt);
    Ok(Summary {
        accounting: ingest.accounting().clone(),
        runtime: rt,
        eve_records: records,
        eve_error,
    })
}

/// Datagrams the sockets received, and those the kernel dropped.
fn capture_counts(state: &LiveState) -> (u64, u64) {
    state.listeners.iter().fold((0, 0), |(p, d), l| {
        (
            p + l.datagrams.load(Relaxed),
            d + l.kernel_dropped.load(Relaxed),
        )
    })
}

/// Carries the receivers' queue drops into the accounting.
fn fold_drops(state: &LiveState, ingest: &mut Ingest, folded: &mut u64) {
    let total = Receivers::queue_dropped(&state.listeners);
    if total > *folded {
        ingest.add_dropped(DropReason::QueueFull, total - *folded);
        *folded = total;
        state.last_drop.store(unix_secs(SystemTime::now()), Relaxed);
    }
}

fn publish(state: &LiveState, ingest: &Ingest, sharded: &Sharded) {
    publish_ingest(state, ingest, &sharded.snapshot());
}

fn publish_ingest(state: &LiveState, ingest: &Ingest, rt: &RuntimeStats) {
    // Once per tick, never per packet; a scrape holding the lock makes
    // this tick skip rather than wait.
    let Ok(mut g) = state.ingest.try_lock() else {
        return;
    };
    g.accounting.clone_from(ingest.accounting());
    g.decoder.clone_from(ingest.decoder());
    g.sessions.clear();
    for s in ingest.sessions().iter() {
        let c = &s.counters;
        g.sessions.push(SessionSnapshot {
            name: s.spec.display.clone(),
            tenant: s.spec.label.tenant.clone(),
            packets: c.received,
            bytes: c.bytes,
            truncated: c.truncated,
            filtered: c.filtered(),
        });
    }
    g.detectors.clone_from(&rt.detectors);
    g.mirror_loss.clear();
    for w in &rt.workers {
        for (i, t) in w.sessions.iter().enumerate() {
            if g.mirror_loss.len() <= i {
                g.mirror_loss.resize(i + 1, 0);
            }
            g.mirror_loss[i] += t.lost_bytes;
        }
    }
}

fn now_ts() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_nanos(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use mirador_detect::engine::Engine;
    use mirador_detect::flowvars::Names;
    use mirador_detect::signature::{CompileCtx, compile};
    use mirador_rules::{Classifications, Rule, Vars};
    use mirador_testkit::frame::FrameSpec;
    use mirador_wire::Timestamp;

    use crate::{RuntimeConfig, Sharded};

    fn engine(rules: &[&str]) -> Arc<Engine> {
        let mut names = Names::default();
        let classes = Classifications::suricata_default();
        let nopcre = |_: &str| Err(mirador_detect::signature::Skip::Unsupported("pcre".into()));
        let sigs = rules
            .iter()
            .map(|r| {
                let mut ctx = CompileCtx {
                    names: &mut names,
                    classes: &classes,
                    pcre: &nopcre,
                    files: None,
                };
                compile(Arc::new(Rule::parse(r).expect("parses")), &mut ctx).expect("compiles")
            })
            .collect();
        Arc::new(Engine::build(sigs, names, &Vars::suricata_defaults(), &[]))
    }

    /// The sids of the alerts in `eve`, in order, with the source port.
    fn alerts(eve: &[u8]) -> Vec<(u64, u64)> {
        String::from_utf8_lossy(eve)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|r| r["event_type"] == "alert")
            .map(|r| {
                (
                    r["alert"]["signature_id"].as_u64().unwrap_or(0),
                    r["src_port"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }

    /// A reload takes effect at one point of the packet stream, for every
    /// worker: packets handed over before it are inspected by the old rules
    /// only, those after by the new ones only, flows that span it included;
    /// and a flowbit set under the old rules does not carry over.
    #[test]
    fn a_reload_switches_every_worker_at_one_packet() {
        let old = engine(&[
            "alert udp any any -> any any (msg:\"old\"; content:\"ping\"; flowbits:set,seen; sid:1;)",
        ]);
        let new = engine(&[
            "alert udp any any -> any any (msg:\"new\"; content:\"ping\"; sid:2;)",
            "alert udp any any -> any any (msg:\"bit\"; flowbits:isset,seen; sid:3;)",
        ]);
        let config = mirador_config::Config::default();
        for workers in [1, 3] {
            let mut rc = RuntimeConfig::from_config(&config, workers);
            rc.detect = Some(old.clone());
            let mut sharded = Sharded::start(&rc).expect("workers");
            let mut ingest = mirador_engine::Ingest::from_config(&config);
            let mut eve = Vec::new();
            let mut cnt = 0;
            let mut feed =
                |sharded: &mut Sharded, eve: &mut Vec<u8>, ports: std::ops::Range<u16>| {
                    for p in ports {
                        cnt += 1;
                        let f = FrameSpec::udp(
                            "10.0.0.1".parse().expect("ip"),
                            "10.0.0.2".parse().expect("ip"),
                            p,
                            9999,
                        )
                        .payload(b"ping".to_vec())
                        .build()
                        .bytes;
                        let ts = Timestamp::from_secs_nanos(1_700_000_000, cnt as u32 * 1000);
                        sharded.process(
                            &mut ingest,
                            ts,
                            mirador_wire::linktype::ETHERNET,
                            &f,
                            cnt,
                            eve,
                        );
                    }
                };
            // Ports 1000-1007 before, 1000-1015 after: half the flows span it.
            feed(&mut sharded, &mut eve, 1000..1008);
            let app = crate::app::AppConfig::from_config(&config.app_layer);
            sharded.reload(Some(new.clone()), app, &mut eve);
            feed(&mut sharded, &mut eve, 1000..1016);
            let (_, _) = sharded
                .finish(|c| {
                    eve.extend_from_slice(c);
                    Ok(())
                })
                .expect("finish");
            let mut got = alerts(&eve);
            got.sort();
            let mut want: Vec<(u64, u64)> = (1000..1008).map(|p| (1, p)).collect();
            want.extend((1000..1016).map(|p| (2, p)));
            want.sort();
            assert_eq!(got, want, "{workers} workers");
        }
    }
}
