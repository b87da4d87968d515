//! The live sensor's sections (`mirador run`): `listen`, `health`, `http`,
//! `stats` and `logging`. `replay` reads none of them.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::values::{ByteSize, de_bool};

/// `listen`: the UDP sockets mirrored traffic arrives on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ListenConfig {
    /// `vxlan`: addresses for VXLAN (AWS Traffic Mirroring's UDP 4789). Default
    /// `0.0.0.0:4789` and `[::]:4789` (the IPv6 socket is IPv6-only; where the host
    /// has no IPv6 it is skipped with a warning).
    pub vxlan: Vec<SocketAddr>,
    /// `geneve`: addresses for GENEVE (a Gateway Load Balancer endpoint's UDP 6081).
    /// Default `0.0.0.0:6081` and `[::]:6081`.
    pub geneve: Vec<SocketAddr>,
    /// `sockets`: sockets bound to each address with `SO_REUSEPORT`, one receiver
    /// thread each; the kernel spreads datagrams over them by their outer 4-tuple.
    /// 0 (default) = one per four workers, at least one.
    pub sockets: usize,
    /// `recv-buffer`: the `SO_RCVBUF` asked for each socket (default 64mb). The kernel
    /// caps it at `net.core.rmem_max`; mirador warns when it got less.
    pub recv_buffer: ByteSize,
    /// `batch`: datagrams read per `recvmmsg` call (default 64, at most 1024).
    pub batch: usize,
    /// `queue`: batches each receiver may have waiting for the pipeline (default 64).
    /// When it is full, a received batch is dropped and counted
    /// `dropped{queue_full}`.
    pub queue: usize,
    /// `kernel-drops-interval`: seconds between reads of the sockets' kernel drop
    /// counters (`SO_MEMINFO`); they are also read at shutdown. Default 1.
    pub kernel_drops_interval: u64,
}

impl Default for ListenConfig {
    fn default() -> Self {
        ListenConfig {
            vxlan: vec![
                "0.0.0.0:4789".parse().expect("valid"),
                "[::]:4789".parse().expect("valid"),
            ],
            geneve: vec![
                "0.0.0.0:6081".parse().expect("valid"),
                "[::]:6081".parse().expect("valid"),
            ],
            sockets: 0,
            recv_buffer: ByteSize::mib(64),
            batch: 64,
            queue: 64,
            kernel_drops_interval: 1,
        }
    }
}

/// `health`: what load balancers check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthConfig {
    /// `tcp`: TCP addresses that accept a connection and close it, for a Network
    /// Load Balancer's TCP health check. Default `0.0.0.0:4789` (AWS's sample
    /// answers TCP on the VXLAN port); `[]` = none.
    pub tcp: Vec<SocketAddr>,
    /// `fail-on-overload`: whether `/readyz` answers 503 while the sensor drops for
    /// a full queue (default no: failing moves mirror sources onto other sensors,
    /// which can overload them in turn; overload is reported in the body and in
    /// `mirador_overloaded` either way).
    #[serde(deserialize_with = "de_bool")]
    pub fail_on_overload: bool,
    /// `overload-window`: seconds a queue drop keeps the sensor reported
    /// overloaded (default 10).
    pub overload_window: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            tcp: vec!["0.0.0.0:4789".parse().expect("valid")],
            fail_on_overload: false,
            overload_window: 10,
        }
    }
}

/// `http`: the HTTP endpoint: `GET /metrics` (Prometheus), `GET /healthz`,
/// `GET /readyz`, `POST /-/reload`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpEndpointConfig {
    /// `listen`: TCP addresses (default `0.0.0.0:9788`); `[]` = no HTTP endpoint.
    pub listen: Vec<SocketAddr>,
    /// `reload`: whether `POST /-/reload` is accepted (default yes; SIGHUP always
    /// reloads).
    #[serde(deserialize_with = "de_bool")]
    pub reload: bool,
}

impl Default for HttpEndpointConfig {
    fn default() -> Self {
        HttpEndpointConfig {
            listen: vec!["0.0.0.0:9788".parse().expect("valid")],
            reload: true,
        }
    }
}

/// `stats`: periodic EVE `stats` records, as Suricata's `stats` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct StatsConfig {
    /// `enabled` (default yes). The final record at shutdown is always written.
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
    /// `interval`: seconds between records (default 8, Suricata's).
    pub interval: u64,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            enabled: true,
            interval: 8,
        }
    }
}

/// `logging`: the process's own log (stderr).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoggingConfig {
    /// `format`: `text` (default) or `json` (one object per line).
    pub format: LogFormat,
    /// `level`: `error`, `warn`, `info` (default), `debug` or `trace`; the
    /// `RUST_LOG` environment variable overrides it.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            format: LogFormat::Text,
            level: "info".to_string(),
        }
    }
}

/// `logging.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Checks the live sections' values.
pub(crate) fn validate(config: &crate::Config) -> Result<(), (crate::error::KeyPath, String)> {
    let root = |k: &str| crate::error::KeyPath::default().key(k);
    let l = &config.listen;
    if l.batch == 0 || l.batch > 1024 {
        return Err((
            root("listen").key("batch"),
            format!("invalid value {}, expected 1..=1024", l.batch),
        ));
    }
    if l.queue == 0 {
        return Err((
            root("listen").key("queue"),
            "invalid value 0, expected at least 1".into(),
        ));
    }
    if l.kernel_drops_interval == 0 {
        return Err((
            root("listen").key("kernel-drops-interval"),
            "invalid value 0, expected at least 1 (seconds)".into(),
        ));
    }
    if config.stats.enabled && config.stats.interval == 0 {
        return Err((
            root("stats").key("interval"),
            "invalid value 0, expected at least 1 (seconds)".into(),
        ));
    }
    if config.health.overload_window == 0 {
        return Err((
            root("health").key("overload-window"),
            "invalid value 0, expected at least 1 (seconds)".into(),
        ));
    }
    let level = config.logging.level.trim().to_ascii_lowercase();
    if !matches!(
        level.as_str(),
        "error" | "warn" | "info" | "debug" | "trace"
    ) {
        return Err((
            root("logging").key("level"),
            format!(
                "invalid value '{}', expected error, warn, info, debug or trace",
                config.logging.level
            ),
        ));
    }
    Ok(())
}
