//! `GET /metrics`: the live sensor's counters in the Prometheus
//! (OpenMetrics) text format, through prometheus-client.
//!
//! Nothing is counted here: a scrape reads what the receivers, the
//! pipeline and the workers published ([`LiveState`]) and sums per-worker
//! values. The README's table lists every metric; keep the two in step
//! (`tests/live.rs` checks that each one is exposed and moves).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use mirador_engine::{DropReason, FilterReason, InvalidCause};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::pipeline::LiveState;
use crate::telemetry::LATENCY_BOUNDS;

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Settings the metrics report besides the counters.
#[derive(Debug, Clone)]
pub struct MetricsInfo {
    /// `health.overload-window`.
    pub overload_window: Duration,
    /// The version in `mirador_build_info`.
    pub version: &'static str,
    /// `health.fail-on-overload`.
    pub fail_on_overload: bool,
}

/// Renders every metric.
pub fn render(state: &std::sync::Arc<LiveState>, info: &MetricsInfo) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Sensor {
        state: state.clone(),
        info: info.clone(),
    }));
    let mut out = String::with_capacity(16 << 10);
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

#[derive(Debug)]
struct Sensor {
    state: std::sync::Arc<LiveState>,
    info: MetricsInfo,
}

/// A label value as the text format needs it (prometheus-client writes
/// values as given).
fn esc(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

type Labels = Vec<(&'static str, String)>;

/// One metric family being written.
struct Family<'e, 'a> {
    enc: &'e mut DescriptorEncoder<'a>,
}

impl Family<'_, '_> {
    fn counter(&mut self, name: &str, help: &str, v: u64) -> std::fmt::Result {
        let m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        ConstCounter::new(v).encode(m)
    }

    fn gauge(&mut self, name: &str, help: &str, v: i64) -> std::fmt::Result {
        let m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        ConstGauge::new(v).encode(m)
    }

    fn counters(&mut self, name: &str, help: &str, rows: &[(Labels, u64)]) -> std::fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, v) in rows {
            let f = m.encode_family(labels)?;
            ConstCounter::new(*v).encode(f)?;
        }
        Ok(())
    }

    fn gauges(&mut self, name: &str, help: &str, rows: &[(Labels, i64)]) -> std::fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, v) in rows {
            let f = m.encode_family(labels)?;
            ConstGauge::new(*v).encode(f)?;
        }
        Ok(())
    }
}

fn load(a: &AtomicU64) -> u64 {
    a.load(Relaxed)
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Collector for Sensor {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> std::fmt::Result {
        let st = &*self.state;
        let t = &*st.telemetry;
        let mut f = Family { enc: &mut enc };

        // The process.
        {
            let mut m = f.enc.encode_descriptor(
                "mirador_build_info",
                "The running version (always 1).",
                None,
                MetricType::Gauge,
            )?;
            let labels: Labels = vec![("version", esc(self.info.version))];
            ConstGauge::new(1i64).encode(m.encode_family(&labels)?)?;
        }
        let (ready, _) = readiness(st, self.info.overload_window, self.info.fail_on_overload);
        f.gauge(
            "mirador_ready",
            "1 when /readyz answers 200: rules loaded, every worker running (and not overloaded under health.fail-on-overload).",
            i64::from(ready),
        )?;
        f.gauge(
            "mirador_overloaded",
            "1 while the sensor has dropped for a full queue within health.overload-window.",
            i64::from(st.overloaded(self.info.overload_window)),
        )?;

        // The sockets, summed per listening address.
        let mut per: Vec<(String, [u64; 3])> = Vec::new();
        for l in &st.listeners {
            let v = [load(&l.datagrams), load(&l.bytes), load(&l.kernel_dropped)];
            match per.iter_mut().find(|(n, _)| *n == l.name) {
                Some((_, s)) => (0..3).for_each(|i| s[i] += v[i]),
                None => per.push((l.name.clone(), v)),
            }
        }
        let rows = |i: usize| -> Vec<(Labels, u64)> {
            per.iter()
                .map(|(n, v)| (vec![("listener", esc(n))], v[i]))
                .collect()
        };
        f.counters(
            "mirador_listener_datagrams",
            "Datagrams received, per listening address.",
            &rows(0),
        )?;
        f.counters(
            "mirador_listener_bytes",
            "UDP payload bytes received, per listening address.",
            &rows(1),
        )?;
        f.counters(
            "mirador_kernel_dropped",
            "Datagrams the kernel dropped before mirador read them (receive buffer full).",
            &rows(2),
        )?;

        // The accounting identity.
        let ingest = st.ingest.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let acc = &ingest.accounting;
        f.counter(
            "mirador_packets_received",
            "Datagrams received: inspected + invalid + filtered + dropped.",
            acc.received,
        )?;
        f.counter(
            "mirador_packets_inspected",
            "Packets decoded and handed to detection.",
            acc.inspected,
        )?;
        f.counter(
            "mirador_packets_truncated",
            "Inspected packets that were truncated (mirror packet length, MTU).",
            acc.truncated,
        )?;
        let invalid: Vec<(Labels, u64)> = acc
            .invalid
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .filter_map(|(i, n)| {
                InvalidCause::from_index(i).map(|c| (vec![("reason", c.as_str().to_string())], *n))
            })
            .collect();
        f.counters(
            "mirador_packets_invalid",
            "Packets with nothing inspectable, by decoder event.",
            &invalid,
        )?;
        let filtered: Vec<(Labels, u64)> = FilterReason::ALL
            .iter()
            .zip(acc.filtered)
            .map(|(r, n)| (vec![("reason", r.as_str().to_string())], n))
            .collect();
        f.counters(
            "mirador_packets_filtered",
            "Packets not inspected by decision, by reason.",
            &filtered,
        )?;
        let dropped: Vec<(Labels, u64)> = DropReason::ALL
            .iter()
            .zip(acc.dropped)
            .map(|(r, n)| (vec![("reason", r.as_str().to_string())], n))
            .collect();
        f.counters(
            "mirador_packets_dropped",
            "Datagrams received and dropped, by reason.",
            &dropped,
        )?;

        // Sessions.
        let session_rows = |get: &dyn Fn(usize, &super::pipeline::SessionSnapshot) -> u64| {
            ingest
                .sessions
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        vec![("session", esc(&s.name)), ("tenant", esc(&s.tenant))],
                        get(i, s),
                    )
                })
                .collect::<Vec<_>>()
        };
        f.counters(
            "mirador_session_packets",
            "Packets attributed to a mirror session.",
            &session_rows(&|_, s| s.packets),
        )?;
        f.counters(
            "mirador_session_bytes",
            "Captured bytes of a session's packets.",
            &session_rows(&|_, s| s.bytes),
        )?;
        f.counters(
            "mirador_session_truncated",
            "A session's inspected packets that were truncated.",
            &session_rows(&|_, s| s.truncated),
        )?;
        f.counters(
            "mirador_session_filtered",
            "A session's packets its Traffic Mirror filter (or dedup) left out.",
            &session_rows(&|_, s| s.filtered),
        )?;
        f.counters(
            "mirador_session_mirror_loss_bytes",
            "TCP stream bytes of a session's ended flows the mirror never delivered.",
            &session_rows(&|i, _| ingest.mirror_loss.get(i).copied().unwrap_or(0)),
        )?;

        // Decoder events.
        let mut events: Vec<(Labels, u64)> = Vec::new();
        for (i, n) in ingest.decoder.events.iter().enumerate() {
            if *n > 0
                && let Some(e) = mirador_wire::DecodeEvent::ALL.get(i)
            {
                events.push((vec![("kind", e.as_str().to_string())], *n));
            }
        }
        for (i, n) in ingest.decoder.invalid_events.iter().enumerate() {
            if *n > 0
                && let Some(e) = mirador_wire::InvalidReason::ALL.get(i)
            {
                events.push((vec![("kind", e.as_str().to_string())], *n));
            }
        }
        f.counters(
            "mirador_decode_events",
            "Decoder events, by kind (Suricata's names).",
            &events,
        )?;

        // Workers.
        let per_worker = |g: &dyn Fn(&crate::telemetry::WorkerTelemetry) -> u64| {
            t.workers
                .iter()
                .enumerate()
                .map(|(i, w)| (vec![("worker", i.to_string())], g(w)))
                .collect::<Vec<(Labels, u64)>>()
        };
        f.counters(
            "mirador_worker_packets",
            "Packets a flow worker processed.",
            &per_worker(&|w| load(&w.packets)),
        )?;
        let depth: Vec<(Labels, i64)> = per_worker(&|w| load(&w.queue_depth))
            .into_iter()
            .map(|(l, v)| (l, gauge(v)))
            .collect();
        f.gauges(
            "mirador_worker_queue_depth",
            "Batches waiting for a flow worker.",
            &depth,
        )?;
        {
            let mut m = f.enc.encode_descriptor(
                "mirador_worker_busy_seconds",
                "Time a flow worker spent processing (rate() is its busy ratio).",
                None,
                MetricType::Counter,
            )?;
            for (i, w) in t.workers.iter().enumerate() {
                let labels: Labels = vec![("worker", i.to_string())];
                ConstCounter::new(load(&w.busy_ns) as f64 / 1e9)
                    .encode(m.encode_family(&labels)?)?;
            }
        }

        // Flows and reassembly.
        f.gauge(
            "mirador_flows_active",
            "Flows in the flow tables.",
            gauge(t.sum(|w| &w.flows_active)),
        )?;
        f.counter(
            "mirador_flows_created",
            "Flows created.",
            t.sum(|w| &w.flows_created),
        )?;
        f.counter(
            "mirador_flows_evicted",
            "Flows ended early because a table was full.",
            t.sum(|w| &w.flows_evicted),
        )?;
        f.gauge(
            "mirador_flows_emergency",
            "Flow workers in emergency mode (table full, shorter timeouts).",
            gauge(t.sum(|w| &w.emergency)),
        )?;
        f.counter(
            "mirador_reassembly_gaps",
            "Gaps in reassembled TCP streams of ended flows.",
            t.sum(|w| &w.gaps),
        )?;
        f.counter(
            "mirador_reassembly_overlaps",
            "TCP segments of ended flows that overlapped data already received.",
            t.sum(|w| &w.overlaps),
        )?;
        f.gauge(
            "mirador_reassembly_memory_bytes",
            "Bytes held by TCP reassembly.",
            gauge(t.sum(|w| &w.reassembly_bytes)),
        )?;

        // Detection.
        let alerts: Vec<(Labels, u64)> = t
            .alerts()
            .into_iter()
            .map(|(class, sev, n)| {
                (
                    vec![("severity", sev.to_string()), ("classtype", esc(&class))],
                    n,
                )
            })
            .collect();
        f.counters(
            "mirador_alerts",
            "Alerts written, by severity and classtype.",
            &alerts,
        )?;
        f.gauge(
            "mirador_rules_loaded",
            "Rules in use.",
            gauge(load(&st.rules_loaded)),
        )?;
        f.gauge(
            "mirador_rules_skipped",
            "Rules of the loaded files that were skipped (mirador check-rules says why).",
            gauge(load(&st.rules_skipped)),
        )?;
        f.counter(
            "mirador_reloads",
            "Successful reloads of configuration and rules.",
            load(&st.reloads),
        )?;
        f.counter(
            "mirador_reload_failures",
            "Reloads refused (invalid configuration or rules); the old ones stay.",
            load(&st.reload_failures),
        )?;

        // Latency.
        {
            let mut buckets = [0u64; LATENCY_BOUNDS.len() + 1];
            let mut sum_ns = 0u64;
            for w in &t.workers {
                for (b, a) in buckets.iter_mut().zip(&w.latency.buckets) {
                    *b += load(a);
                }
                sum_ns += load(&w.latency.sum_ns);
            }
            let pairs: Vec<(f64, u64)> = LATENCY_BOUNDS
                .iter()
                .copied()
                .chain(std::iter::once(f64::MAX))
                .zip(buckets)
                .collect();
            let mut m = f.enc.encode_descriptor(
                "mirador_packet_latency_seconds",
                "Kernel receive time to the end of the packet's processing by its flow worker.",
                None,
                MetricType::Histogram,
            )?;
            m.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                sum_ns as f64 / 1e9,
                buckets.iter().sum(),
                &pairs,
                None,
            )?;
        }

        // Anomaly detectors.
        let det = ingest.detectors.clone().unwrap_or_default();
        let by = |g: &dyn Fn(&mirador_anomaly::Counters) -> u64| {
            det.per_detector
                .iter()
                .map(|(name, c)| (vec![("detector", (*name).to_string())], g(c)))
                .collect::<Vec<(Labels, u64)>>()
        };
        f.counters(
            "mirador_detections",
            "Anomaly detections written, per detector.",
            &by(&|c| c.detections),
        )?;
        f.counters(
            "mirador_detector_evicted",
            "Detector table entries evicted at their cap, per detector.",
            &by(&|c| c.evicted),
        )?;
        let entries: Vec<(Labels, i64)> = by(&|c| c.entries)
            .into_iter()
            .map(|(l, v)| (l, gauge(v)))
            .collect();
        f.gauges(
            "mirador_detector_entries",
            "Entries in a detector's tables.",
            &entries,
        )?;

        // Output.
        f.counter(
            "mirador_eve_records",
            "EVE records written.",
            load(&st.eve_records),
        )?;
        f.counter(
            "mirador_eve_write_errors",
            "EVE writes that failed.",
            load(&st.eve_errors),
        )?;
        f.counter(
            "mirador_eve_rotations",
            "EVE files rotated.",
            load(&st.eve_rotations),
        )?;
        Ok(())
    }
}

/// The body of `GET /readyz`, and whether the sensor is ready.
pub fn readiness(
    state: &LiveState,
    overload_window: Duration,
    fail_on_overload: bool,
) -> (bool, String) {
    let mut body = String::new();
    let running = state.running.load(Relaxed);
    let overloaded = state.overloaded(overload_window);
    let ready = running && !(fail_on_overload && overloaded);
    let _ = writeln!(body, "{}", if ready { "ready" } else { "not ready" });
    if !running {
        let _ = writeln!(
            body,
            "reason: the pipeline is not running (starting, stopping, or a worker failed)"
        );
    }
    let _ = writeln!(
        body,
        "rules: {} loaded, {} skipped",
        load(&state.rules_loaded),
        load(&state.rules_skipped)
    );
    let _ = writeln!(body, "workers: {}", state.telemetry.workers.len());
    if overloaded {
        let _ = writeln!(
            body,
            "overloaded: yes (datagrams dropped for a full queue within the last {}s){}",
            overload_window.as_secs(),
            if fail_on_overload {
                "; health.fail-on-overload is on"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(body, "overloaded: no");
    }
    (ready, body)
}
