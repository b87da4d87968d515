//! `mirador run`: the live sensor, a Traffic Mirror target.
//!
//! Threads: one receiver per socket (`mirador_runtime::live::receiver`),
//! the pipeline (`live::pipeline`: reader stage, EVE output, clock), the
//! flow workers, the HTTP endpoint and the TCP health listener. This
//! thread loads configuration and rules, then waits for signals and
//! reload requests:
//!
//! - SIGHUP and `POST /-/reload` read the configuration and the rules
//!   again; the new rule set is compiled here while traffic flows, then
//!   every worker switches to it at one point of the packet stream. A
//!   configuration or rule set that does not load leaves the running one
//!   in place, is logged with its file and line, and is counted. SIGHUP
//!   also reopens the EVE file (logrotate).
//! - SIGTERM and SIGINT stop the receivers after they have read what
//!   their sockets hold; the pipeline drains the queues, ends every flow
//!   (flow records with reason `shutdown`), writes the final `stats`
//!   record and flushes the output; then the process exits 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use crossbeam_channel::{Receiver, Sender};
use mirador_config::Config;
use mirador_runtime::live::http::{Endpoint, HttpServer, Readiness};
use mirador_runtime::live::metrics::{MetricsInfo, readiness, render};
use mirador_runtime::live::pipeline::{self, Command, EveSink, LiveState, PipelineConfig, Reload};
use mirador_runtime::live::receiver::{Encap, ListenerSpec, Receivers};
use mirador_runtime::{RuntimeConfig, Sharded};
use tracing::{error, info, warn};

use crate::RunArgs;

/// How often the pipeline's clock ticks.
const TICK: Duration = Duration::from_millis(100);

/// What wakes the main thread.
enum Event {
    /// SIGHUP: reload, and reopen the EVE file.
    Hangup,
    /// SIGTERM or SIGINT.
    Stop(&'static str),
    /// `POST /-/reload`, answered on the sender.
    Reload(Sender<Result<String, String>>),
}

/// Runs `mirador run`.
pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), &args.set)?;
    crate::logging::init(&config.logging)?;
    super::rules::LOG_WARNINGS.store(true, Relaxed);
    if args.workers == Some(0) {
        bail!("--workers 0: at least one worker is needed");
    }
    let workers = match args.workers.unwrap_or(config.workers) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let specs = listener_specs(&config)?;
    let (detect, rules) = load_signatures(&config, args)?;

    let mut rc = RuntimeConfig::from_config(&config, workers);
    rc.detect = detect.clone();
    rc.live = true;
    rc.detectors = super::detectors::setup(&config)?;
    let sharded = Sharded::start(&rc).context("starting the flow workers")?;
    let telemetry = sharded.telemetry();

    let listen = &config.listen;
    let sockets = match listen.sockets {
        0 => workers.div_ceil(4).max(1),
        n => n,
    };
    let (input_tx, input_rx) =
        crossbeam_channel::bounded(listen.queue * sockets * specs.len().max(1));
    let (spare_tx, spare_rx) = crossbeam_channel::unbounded();
    let opts = mirador_capture::recv::RecvOptions {
        recv_buffer: usize::try_from(listen.recv_buffer.bytes()).unwrap_or(usize::MAX),
        batch: listen.batch,
        poll: TICK,
    };
    let (receivers, skipped) = Receivers::start(
        &specs,
        sockets,
        opts,
        Duration::from_secs(listen.kernel_drops_interval),
        input_tx,
        spare_rx,
    )
    .context("opening the listening sockets")?;
    for s in &skipped {
        warn!(address = %s.addr, error = %s.error, "IPv6 listener skipped: the host has no IPv6");
    }
    if receivers.bound.is_empty() {
        bail!("no listening socket could be opened (listen.vxlan and listen.geneve)");
    }
    // Linux reports twice what it grants (its bookkeeping share).
    let asked = listen.recv_buffer.bytes();
    for l in &receivers.listeners {
        let got = l.recv_buffer.load(Relaxed) / 2;
        if got < asked {
            warn!(
                listener = %l.name,
                asked,
                got,
                "the kernel capped the receive buffer: raise net.core.rmem_max (see deploy/sysctl.conf)"
            );
            break;
        }
    }
    for (l, a) in receivers.listeners.iter().zip(&receivers.bound) {
        info!(listener = %l.name, bound = %a, "listening");
    }

    let state = Arc::new(LiveState::new(telemetry, receivers.listeners.clone()));
    let eve_path = args
        .eve
        .clone()
        .unwrap_or_else(|| PathBuf::from(&config.outputs.eve.filename));
    let eve = open_eve(&eve_path, &config)?;
    let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded::<Command>();
    let pc = PipelineConfig {
        tick: TICK,
        stats_interval: config
            .stats
            .enabled
            .then(|| Duration::from_secs(config.stats.interval)),
        rules,
    };
    let pipeline = {
        let config = config.clone();
        let state = state.clone();
        std::thread::Builder::new()
            .name("mirador-pipeline".into())
            .spawn(move || {
                pipeline::run(&config, input_rx, spare_tx, cmd_rx, eve, state, pc, sharded)
            })
            .context("starting the pipeline")?
    };

    let (events_tx, events_rx) = crossbeam_channel::unbounded::<Event>();
    let info_m = MetricsInfo {
        overload_window: Duration::from_secs(config.health.overload_window),
        version: env!("CARGO_PKG_VERSION"),
        fail_on_overload: config.health.fail_on_overload,
    };
    let http = if config.http.listen.is_empty() {
        None
    } else {
        let endpoint = Arc::new(Http {
            state: state.clone(),
            info: info_m.clone(),
            reload_enabled: config.http.reload,
            events: events_tx.clone(),
        });
        let server = HttpServer::start(&config.http.listen, endpoint)
            .context("opening the HTTP endpoint (http.listen)")?;
        for a in server.local_addrs() {
            info!(address = %a, "HTTP endpoint: /metrics /healthz /readyz /-/reload");
        }
        Some(server)
    };
    let health = if config.health.tcp.is_empty() {
        None
    } else {
        let h = mirador_runtime::live::health_tcp::TcpHealth::start(&config.health.tcp)
            .context("opening the TCP health check listener (health.tcp)")?;
        for a in h.local_addrs() {
            info!(address = %a, "TCP health check");
        }
        Some(h)
    };
    signals(events_tx.clone())?;
    info!(
        workers,
        rules_loaded = rules.0,
        rules_skipped = rules.1,
        "mirador running"
    );

    let mut current = config;
    let stop_reason = loop {
        let Ok(ev) = events_rx.recv_timeout(Duration::from_millis(500)) else {
            if pipeline.is_finished() {
                break "the pipeline ended";
            }
            continue;
        };
        match ev {
            Event::Stop(sig) => break sig,
            Event::Hangup => {
                let _ = reload(args, &mut current, &state, &cmd_tx);
                let _ = cmd_tx.send(Command::Reopen);
            }
            Event::Reload(answer) => {
                let _ = answer.send(reload(args, &mut current, &state, &cmd_tx));
            }
        }
    };
    info!(
        reason = stop_reason,
        "stopping: reading what the sockets hold, then draining"
    );
    receivers.stop();
    let summary = match pipeline.join() {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            error!(error = %e, "the pipeline failed");
            return Ok(ExitCode::from(3));
        }
        Err(_) => {
            error!("the pipeline panicked");
            return Ok(ExitCode::from(3));
        }
    };
    if let Some(h) = http {
        h.stop();
    }
    if let Some(h) = health {
        h.stop();
    }
    let acc = &summary.accounting;
    let kernel: u64 = state
        .listeners
        .iter()
        .map(|l| l.kernel_dropped.load(Relaxed))
        .sum();
    info!(
        received = acc.received,
        inspected = acc.inspected,
        invalid = acc.invalid_total(),
        filtered = acc.filtered_total(),
        dropped = acc.dropped_total(),
        kernel_dropped = kernel,
        eve_records = summary.eve_records,
        eve = %eve_path.display(),
        "stopped"
    );
    if let Some(e) = &summary.eve_error {
        error!(error = %e, "EVE output");
    }
    if summary.runtime.worker_failed {
        error!("internal error: a flow worker failed; flow records are missing");
        return Ok(ExitCode::from(3));
    }
    if !acc.balances() {
        error!("internal error: packet accounting does not balance");
        return Ok(ExitCode::from(3));
    }
    std::mem::forget(detect);
    Ok(if summary.eve_error.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The sockets to open: each address of `listen.vxlan` and `listen.geneve`,
/// with the port its decoder recognises.
fn listener_specs(config: &Config) -> Result<Vec<ListenerSpec>> {
    let mut specs = Vec::new();
    for (encap, addrs, dec, key) in [
        (
            Encap::Vxlan,
            &config.listen.vxlan,
            &config.decoder.vxlan,
            "vxlan",
        ),
        (
            Encap::Geneve,
            &config.listen.geneve,
            &config.decoder.geneve,
            "geneve",
        ),
    ] {
        if addrs.is_empty() {
            continue;
        }
        let port = match dec.ports.first() {
            Some(&p) if dec.enabled => p,
            _ => bail!(
                "listen.{key} has addresses but decoder.{key} is disabled: enable the decoder or set listen.{key}: []"
            ),
        };
        specs.extend(addrs.iter().map(|&addr| ListenerSpec {
            encap,
            addr,
            decoder_port: port,
        }));
    }
    if specs.is_empty() {
        bail!("nothing to listen on: listen.vxlan and listen.geneve are both empty");
    }
    Ok(specs)
}

/// The signatures `args` and `config` ask for, and (loaded, skipped).
type Signatures = (Option<Arc<mirador_detect::engine::Engine>>, (u64, u64));

fn load_signatures(config: &Config, args: &RunArgs) -> Result<Signatures> {
    if args.no_rules {
        return Ok((None, (0, 0)));
    }
    let paths = super::rules::rule_paths(config, &args.rules);
    if paths.is_empty() {
        return Ok((None, (0, 0)));
    }
    let (engine, report) = super::rules::load_rules(config, &paths)?;
    if report.loaded == 0
        && let Some(first) = report.skipped.first()
    {
        bail!(
            "no rule of {} loaded ({} skipped, the first at {}: {}; mirador check-rules --verbose lists them all)",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            report.skipped.len(),
            first.at,
            first.message
        );
    }
    info!(
        loaded = report.loaded,
        skipped = report.skipped.len(),
        files = paths.len(),
        "rules loaded (mirador check-rules lists what was skipped and why)"
    );
    Ok((
        Some(Arc::new(engine)),
        (report.loaded as u64, report.skipped.len() as u64),
    ))
}

/// Reads the configuration and rules again and hands the new rule set to
/// the pipeline; on any error the running ones stay, and the failure is
/// logged and counted.
fn reload(
    args: &RunArgs,
    current: &mut Config,
    state: &LiveState,
    cmd: &Sender<Command>,
) -> Result<String, String> {
    let started = std::time::Instant::now();
    let attempt = || -> Result<(Config, Signatures)> {
        let config = super::load_config(args.config.as_deref(), &args.set)?;
        let sigs = load_signatures(&config, args)?;
        Ok((config, sigs))
    };
    match attempt() {
        Ok((config, (detect, rules))) => {
            let restart = restart_needed(current, &config);
            if !restart.is_empty() {
                warn!(
                    sections = %restart.join(", "),
                    "these settings changed but apply only at restart"
                );
            }
            let app = mirador_runtime::app::AppConfig::from_config(&config.app_layer);
            let (done, switched) = crossbeam_channel::bounded(1);
            let reload = Reload {
                detect,
                app,
                rules,
                done: Some(done),
            };
            // Answered once every worker has switched (the queued batches
            // are processed first: milliseconds).
            if cmd.send(Command::Reload(Box::new(reload))).is_err()
                || switched.recv_timeout(Duration::from_secs(60)).is_err()
            {
                return Err("the pipeline has stopped".into());
            }
            *current = config;
            let msg = format!(
                "reloaded: {} rules loaded, {} skipped ({:.1} s)",
                rules.0,
                rules.1,
                started.elapsed().as_secs_f64()
            );
            info!(rules_loaded = rules.0, rules_skipped = rules.1, "reloaded");
            Ok(msg)
        }
        Err(e) => {
            state.reload_failures.fetch_add(1, Relaxed);
            let msg = format!("{e:#}");
            error!(error = %msg, "reload failed; the running configuration and rules stay");
            Err(format!(
                "reload failed, the running configuration and rules stay: {msg}"
            ))
        }
    }
}

/// Top-level sections whose change a reload cannot apply (sockets, table
/// sizes, the worker count and the outputs are set up once).
fn restart_needed(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut check = |name: &'static str, same: bool| {
        if !same {
            v.push(name);
        }
    };
    check("workers", old.workers == new.workers);
    check(
        "checksum-validation",
        old.checksum_validation == new.checksum_validation,
    );
    check("decoder", old.decoder == new.decoder);
    check("mirror", old.mirror == new.mirror);
    check("filters", old.filters == new.filters);
    check("stream", old.stream == new.stream);
    check("host-os-policy", old.host_os_policy == new.host_os_policy);
    check("defrag", old.defrag == new.defrag);
    check("flow", old.flow == new.flow);
    check("flow-timeouts", old.flow_timeouts == new.flow_timeouts);
    check("outputs", old.outputs == new.outputs);
    check("listen", old.listen == new.listen);
    check("health", old.health == new.health);
    check("http", old.http == new.http);
    check("stats", old.stats == new.stats);
    check("logging", old.logging == new.logging);
    v
}

fn open_eve(path: &Path, config: &Config) -> Result<Box<dyn EveSink>> {
    let e = &config.outputs.eve;
    let f = mirador_runtime::live::eve_file::EveFile::open(
        path,
        e.rotate_size.bytes(),
        Duration::from_secs(e.rotate_interval),
        SystemTime::now(),
    )
    .with_context(|| format!("{}: cannot open the EVE file", path.display()))?;
    Ok(Box::new(f))
}

/// SIGHUP, SIGTERM and SIGINT as events.
fn signals(events: Sender<Event>) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGTERM])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("mirador-signals".into())
        .spawn(move || {
            for s in signals.forever() {
                let ev = match s {
                    SIGHUP => Event::Hangup,
                    SIGINT => Event::Stop("SIGINT"),
                    _ => Event::Stop("SIGTERM"),
                };
                if events.send(ev).is_err() {
                    break;
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// What the HTTP endpoint serves.
struct Http {
    state: Arc<LiveState>,
    info: MetricsInfo,
    reload_enabled: bool,
    events: Sender<Event>,
}

impl Endpoint for Http {
    fn metrics(&self) -> String {
        render(&self.state, &self.info)
    }

    fn ready(&self) -> Readiness {
        let (ready, body) = readiness(
            &self.state,
            self.info.overload_window,
            self.info.fail_on_overload,
        );
        Readiness { ready, body }
    }

    fn reload(&self) -> Result<String, String> {
        let (tx, rx): (Sender<_>, Receiver<_>) = crossbeam_channel::bounded(1);
        if self.events.send(Event::Reload(tx)).is_err() {
            return Err("the sensor is stopping".into());
        }
        rx.recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| Err("the reload did not answer".into()))
    }

    fn reload_enabled(&self) -> bool {
        self.reload_enabled
    }
}
