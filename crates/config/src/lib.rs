//! mirador's configuration: YAML text to a validated [`Config`].
//!
//! The crate is pure: it takes `(origin_name, text)` and returns values or a
//! [`ConfigError`] that names the file, the line and column, and the dotted key
//! ([`Config::load_file`] is the one convenience that reads a file). It holds:
//!
//! - the config model, kebab-case keys as in Suricata, unknown keys rejected: sensor
//!   settings ([`Config::workers`], [`Config::checksum_validation`], [`DecoderConfig`],
//!   [`StreamConfig`], [`HostOsPolicy`], [`DefragConfig`], [`FlowConfig`],
//!   [`FlowTimeouts`], [`OutputsConfig`]), mirror sessions
//!   ([`MirrorConfig`], [`Session`]) and Traffic Mirror Filters ([`Filter`]);
//! - `--set KEY=VALUE` overrides with Suricata's value syntax ([`Config::load`]);
//! - the embedded default config, `config/mirador.yaml` ([`EMBEDDED_DEFAULT_YAML`],
//!   [`Config::embedded_default`]);
//! - the per-packet helpers the engine calls: [`Session::key`], [`Session::direction`],
//!   [`Filter::evaluate`] (AWS semantics), [`MirrorConfig::source_allowed`],
//!   [`MirrorConfig::vni_allowed`] — none allocates;
//! - [`aws::import`], which turns `aws ec2 describe-traffic-mirror-*` JSON into config
//!   YAML, and [`Config::describe`] for `mirador check-config`.
//!
//! ```
//! use mirador_config::{Config, Direction, FilterVerdict};
//!
//! let yaml = r#"
//! mirror:
//!   sessions:
//!     - name: web
//!       vni: 42
//!       source-ips: [10.0.1.15]
//!       eni-addresses: [10.0.1.15]
//!       filter: https-in
//! filters:
//!   https-in:
//!     ingress:
//!       - { rule-number: 100, action: accept, protocol: 6,
//!           source-cidr: 0.0.0.0/0, destination-cidr: 10.0.0.0/16, destination-port: 443 }
//! "#;
//! let overrides = [("stream.midstream".to_string(), "no".to_string())];
//! let config = Config::load("sensor.yaml", yaml, &overrides).unwrap();
//! assert!(!config.stream.midstream);
//!
//! let session = &config.mirror.sessions[0];
//! let (client, server) = ("203.0.113.9".parse().unwrap(), "10.0.1.15".parse().unwrap());
//! let dir = session.direction(client, server).unwrap();
//! assert_eq!(dir, Direction::Ingress);
//! let filter = config.session_filter(session).unwrap();
//! let verdict = filter.evaluate(dir, 6, client, server, Some(50000), Some(443));
//! assert_eq!(verdict, FilterVerdict::Accept { rule_number: 100 });
//!
//! let err = Config::load("sensor.yaml", "mirror:\n  sesions: []\n", &[]).unwrap_err();
//! assert!(err.to_string().starts_with("sensor.yaml:2:3: mirror: unknown key 'sesions'"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

mod app_layer;
pub mod aws;
mod describe;
mod detect_config;
mod detectors;
mod engine_sections;
mod error;
mod filter;
mod live;
mod mirror;
mod overrides;
mod sections;
mod validate;
mod values;
pub mod vpcflow;

pub use app_layer::{
    AppLayerConfig, AppProtocols, DnsAppConfig, DnsTransport, Enabled, EncryptionHandling,
    Fingerprints, HttpAppConfig, HttpLimits, Libhtp, TlsAppConfig,
};
pub use detect_config::{RuleId, RuleSelection, TenantConfig, VarsConfig};
pub use detectors::{DetectorsConfig, TenantDetectors};
pub use engine_sections::{
    DefragConfig, DefragPolicy, FlowConfig, HostOsPolicy, OsPolicy, StreamPolicy,
};
pub use error::{ConfigError, Origin};
pub use filter::{Direction, Filter, FilterRule, FilterVerdict, NetworkService, RuleAction};
pub use live::{
    HealthConfig, HttpEndpointConfig, ListenConfig, LogFormat, LoggingConfig, StatsConfig,
};
pub use mirror::{DedupSettings, MirrorConfig, Session, SessionKey, UnknownSession};
pub use overrides::parse_set;
pub use sections::{
    ChecksumValidation, DecoderConfig, EveAlertOptions, EveOutput, FlowTimeoutSet, FlowTimeouts,
    OutputsConfig, ReassemblyConfig, StreamConfig, TunnelDecoder, UrgentConfig, UrgentPolicy,
};
pub use validate::MAX_TUNNEL_PORTS;
pub use values::{
    ByteSize, ByteSizeError, MAX_ERSPAN_ID, MAX_VNI, PortRange, VniRange, parse_bool, parse_net,
    parse_protocol,
};
pub use vpcflow::VpcFlowLogsOutput;

use error::{KeyPath, bare_yaml_message, humanize, locate_nearest};

/// The embedded default config, `config/mirador.yaml`: every key with its default and
/// a comment; `stream.midstream: true`, `stream.async-oneside: true`,
/// `mirror.unknown-session: inspect`, no sessions, no `host-os-policy` networks.
pub const EMBEDDED_DEFAULT_YAML: &str = include_str!("../../../config/mirador.yaml");

/// The origin name errors in the embedded default config carry.
pub const EMBEDDED_DEFAULT_NAME: &str = "<embedded mirador.yaml>";

/// The whole sensor configuration, validated.
///
/// Every key is optional; [`Config::default`] equals the embedded default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `workers`: worker threads; 0 (default) = the CPUs available to the process.
    /// The CLI's `--workers` overrides it.
    pub workers: usize,
    /// `checksum-validation`: `none` (default) or `all`; see [`ChecksumValidation`].
    pub checksum_validation: ChecksumValidation,
    /// `decoder`: tunnel decoders.
    pub decoder: DecoderConfig,
    /// `mirror`: mirror sessions and what to accept.
    pub mirror: MirrorConfig,
    /// `filters`: Traffic Mirror Filters by name (rules sorted by `rule-number`).
    #[serde(deserialize_with = "de_filters")]
    pub filters: BTreeMap<String, Filter>,
    /// `stream`: TCP stream settings (Suricata's keys).
    pub stream: StreamConfig,
    /// `host-os-policy`: target-based overlap policies by destination network
    /// (Suricata's keys, plus `first` and `last`).
    pub host_os_policy: HostOsPolicy,
    /// `defrag`: IP defragmentation (Suricata's keys and defaults).
    pub defrag: DefragConfig,
    /// `flow`: the flow table, all workers together (Suricata's keys and defaults).
    pub flow: FlowConfig,
    /// `flow-timeouts`: Suricata's keys and defaults.
    pub flow_timeouts: FlowTimeouts,
    /// `outputs`.
    pub outputs: OutputsConfig,
    /// `rule-files`: signature files to load, relative to `default-rule-path` unless
    /// absolute. The CLI's `--rules` replaces them.
    pub rule_files: Vec<String>,
    /// `default-rule-path`: where relative `rule-files` are (empty = the current
    /// folder).
    pub default_rule_path: String,
    /// `classification-file`: Suricata's `classification.config`; none = the bundled
    /// default.
    pub classification_file: Option<String>,
    /// `reference-config-file`: Suricata's `reference.config`; none = the bundled
    /// default.
    pub reference_config_file: Option<String>,
    /// `threshold-file`: Suricata's `threshold.config` (suppress, threshold,
    /// event_filter); none = no global thresholds.
    pub threshold_file: Option<String>,
    /// `vars`: address and port groups overriding Suricata's defaults.
    pub vars: VarsConfig,
    /// `rules`: rules to disable or enable by sid.
    pub rules: RuleSelection,
    /// `tenants`: per-tenant settings (variables) by tenant name.
    pub tenants: BTreeMap<String, TenantConfig>,
    /// `app-layer`: the HTTP, TLS and DNS parsers (Suricata's keys).
    pub app_layer: AppLayerConfig,
    /// `listen`: the live receiver's UDP sockets (`mirador run`).
    pub listen: ListenConfig,
    /// `health`: load-balancer health checks (`mirador run`).
    pub health: HealthConfig,
    /// `http`: `/metrics`, `/healthz`, `/readyz`, `/-/reload` (`mirador run`).
    pub http: HttpEndpointConfig,
    /// `stats`: periodic EVE `stats` records (`mirador run`).
    pub stats: StatsConfig,
    /// `logging`: the process's own log.
    pub logging: LoggingConfig,
    /// `detectors`: the anomaly detectors.
    pub detectors: DetectorsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 0,
            checksum_validation: ChecksumValidation::None,
            decoder: DecoderConfig::default(),
            mirror: MirrorConfig::default(),
            filters: BTreeMap::new(),
            stream: StreamConfig::default(),
            host_os_policy: HostOsPolicy::default(),
            defrag: DefragConfig::default(),
            flow: FlowConfig::default(),
            flow_timeouts: FlowTimeouts::default(),
            outputs: OutputsConfig::default(),
            rule_files: vec!["builtin:mirador.rules".to_string()],
            default_rule_path: String::new(),
            classification_file: None,
            reference_config_file: None,
            threshold_file: None,
            vars: VarsConfig::default(),
            rules: RuleSelection::default(),
            tenants: BTreeMap::new(),
            app_layer: AppLayerConfig::default(),
            listen: ListenConfig::default(),
            health: HealthConfig::default(),
            http: HttpEndpointConfig::default(),
            stats: StatsConfig::default(),
            logging: LoggingConfig::default(),
            detectors: DetectorsConfig::default(),
        }
    }
}

fn de_filters<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Filter>, D::Error> {
    let mut m = Option::<BTreeMap<String, Filter>>::deserialize(d)?.unwrap_or_default();
    for (name, f) in m.iter_mut() {
        f.name = name.clone();
    }
    Ok(m)
}

/// Whether the text holds no YAML content (only blank lines, comments, markers).
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

impl Config {
    /// Loads a config from YAML `text` (errors name `origin`), then applies `--set`
    /// overrides (`(dotted key, value)` pairs, in order), then validates.
    pub fn load(
        origin: &str,
        text: &str,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let text = if is_blank_yaml(text) { "{}" } else { text };
        // First pass: the file alone, so that errors carry its lines.
        let mut config = deserialize_file(origin, text)?;
        let mut set_paths = Vec::new();
        if !overrides.is_empty() {
            let mut tree: serde_yaml::Value =
                serde_yaml::from_str(text).map_err(|e| file_error(origin, text, &e, ""))?;
            for (key, value) in overrides {
                let err = |message: String| ConfigError {
                    origin: Origin::Override {
                        key: key.clone(),
                        value: value.clone(),
                    },
                    line: None,
                    column: None,
                    key: key.clone(),
                    message,
                };
                let segs = overrides::parse_key(key).map_err(err)?;
                let canon = overrides::set_path(&mut tree, &segs, overrides::parse_value(value))
                    .map_err(err)?;
                set_paths.push((canon, key.clone(), value.clone()));
            }
            config = serde_path_to_error::deserialize(tree).map_err(|e| {
                let mut path = KeyPath::from_p2e(e.path());
                let mut message = humanize(&bare_yaml_message(e.inner()));
                if let Some(name) = unknown_key_name(&message) {
                    // "unknown key 'foo', expected ..." -> "unknown key 'foo' in stream, expected ..."
                    let end = 13 + name.len() + 1;
                    path = unknown_key_parent(path, &message);
                    if !path.0.is_empty() {
                        message.insert_str(end, &format!(" in {path}"));
                    }
                }
                override_error(&set_paths, &path, message)
            })?;
        }
        validate::validate(&mut config).map_err(|(path, message)| {
            if matching_override(&set_paths, &path).is_some() {
                return override_error(&set_paths, &path, message);
            }
            let loc = locate_nearest(text, &path);
            ConfigError {
                origin: Origin::File(origin.to_string()),
                line: loc.map(|l| l.0),
                column: loc.map(|l| l.1),
                key: path.to_string(),
                message,
            }
        })?;
        Ok(config)
    }

    /// [`Config::load`] without overrides.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Config, ConfigError> {
        Config::load(origin, text, &[])
    }

    /// Reads and loads a config file; errors name the path as given.
    pub fn load_file(
        path: impl AsRef<Path>,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: Origin::File(name.clone()),
            line: None,
            column: None,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Config::load(&name, &text, overrides)
    }

    /// The embedded default config ([`EMBEDDED_DEFAULT_YAML`]), with overrides.
    pub fn load_embedded(overrides: &[(String, String)]) -> Result<Config, ConfigError> {
        Config::load(EMBEDDED_DEFAULT_NAME, EMBEDDED_DEFAULT_YAML, overrides)
    }

    /// The embedded default config ([`EMBEDDED_DEFAULT_YAML`]).
    pub fn embedded_default() -> Config {
        Config::load_embedded(&[]).expect("the embedded default config is valid")
    }

    /// The filter named `name`.
    pub fn filter(&self, name: &str) -> Option<&Filter> {
        self.filters.get(name)
    }

    /// The filter a session names, if any (validation guarantees it exists).
    pub fn session_filter(&self, session: &Session) -> Option<&Filter> {
        session.filter.as_deref().and_then(|n| self.filters.get(n))
    }
}

fn deserialize_file(origin: &str, text: &str) -> Result<Config, ConfigError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = KeyPath::from_p2e(e.path());
        let path = unknown_key_parent(path, &humanize(&bare_yaml_message(e.inner())));
        file_error(origin, text, e.inner(), &path.to_string())
    })
}

/// The key an "unknown key 'NAME', ..." message names.
fn unknown_key_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown key '")?;
    rest.find('\'').map(|i| &rest[..i])
}

/// For an unknown-key error, the path of the map that holds the key (the path the
/// error comes with ends with the key itself).
fn unknown_key_parent(mut path: KeyPath, message: &str) -> KeyPath {
    if let Some(name) = unknown_key_name(message)
        && path.0.last() == Some(&error::Seg::Key(name.to_string()))
    {
        path.0.pop();
    }
    path
}

fn file_error(origin: &str, text: &str, e: &serde_yaml::Error, path: &str) -> ConfigError {
    let mut loc = e.location().map(|l| error::to_pos(&l));
    if loc.is_none() && !path.is_empty() {
        // Errors raised after a node was read carry no position: find the node.
        if let Ok(segs) = overrides::parse_key(path) {
            loc = locate_nearest(text, &KeyPath(segs));
        }
    }
    ConfigError {
        origin: Origin::File(origin.to_string()),
        line: loc.map(|l| l.0),
        column: loc.map(|l| l.1),
        key: path.to_string(),
        message: humanize(&bare_yaml_message(e)),
    }
}

fn matching_override<'a>(
    set_paths: &'a [(KeyPath, String, String)],
    path: &KeyPath,
) -> Option<&'a (KeyPath, String, String)> {
    // The last override that set this path or a parent of it, else one below it.
    set_paths
        .iter()
        .rev()
        .find(|(p, _, _)| path.starts_with(p))
        .or_else(|| set_paths.iter().rev().find(|(p, _, _)| p.starts_with(path)))
}

fn override_error(
    set_paths: &[(KeyPath, String, String)],
    path: &KeyPath,
    message: String,
) -> ConfigError {
    let (_, key, value) = matching_override(set_paths, path)
        .or(set_paths.last())
        .expect("override errors come with overrides");
    ConfigError {
        origin: Origin::Override {
            key: key.clone(),
            value: value.clone(),
        },
        line: None,
        column: None,
        key: path.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests;
