//! `detectors`: the anomaly detectors, each with its settings (the structs
//! of `mirador-anomaly`, which document every key and its default), and
//! their per-tenant overrides under `tenants.<name>.detectors`.

use serde::Deserialize;

use mirador_anomaly::flood::{HalfOpenConfig, ReflectionConfig, SynFloodConfig};
use mirador_anomaly::scan::{arp_sweep, distributed_scan, host_sweep, port_scan};
use mirador_anomaly::{beacon, dns_tunnel, exfil, unexpected};

/// `detectors`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DetectorsConfig {
    /// `enabled`: run the anomaly detectors at all (default yes). `--no-rules`
    /// does not turn them off.
    #[serde(deserialize_with = "crate::values::de_bool")]
    pub enabled: bool,
    /// `port-scan`.
    pub port_scan: port_scan::Config,
    /// `host-sweep`.
    pub host_sweep: host_sweep::Config,
    /// `arp-sweep`.
    pub arp_sweep: arp_sweep::Config,
    /// `distributed-scan`.
    pub distributed_scan: distributed_scan::Config,
    /// `syn-flood`.
    pub syn_flood: SynFloodConfig,
    /// `half-open`.
    pub half_open: HalfOpenConfig,
    /// `reflection`.
    pub reflection: ReflectionConfig,
    /// `dns-tunnel`.
    pub dns_tunnel: dns_tunnel::Config,
    /// `beaconing`.
    pub beaconing: beacon::Config,
    /// `exfiltration`.
    pub exfiltration: exfil::Config,
    /// `unexpected-connection` (off unless configured).
    pub unexpected_connection: unexpected::Config,
}

impl Default for DetectorsConfig {
    fn default() -> Self {
        DetectorsConfig {
            enabled: true,
            port_scan: Default::default(),
            host_sweep: Default::default(),
            arp_sweep: Default::default(),
            distributed_scan: Default::default(),
            syn_flood: Default::default(),
            half_open: Default::default(),
            reflection: Default::default(),
            dns_tunnel: Default::default(),
            beaconing: Default::default(),
            exfiltration: Default::default(),
            unexpected_connection: Default::default(),
        }
    }
}

/// `tenants.<name>.detectors`: a detector named here takes these settings
/// for the tenant's traffic instead of the global ones (the whole
/// detector's section: keys not given take their defaults, not the global
/// values).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantDetectors {
    /// `port-scan`.
    pub port_scan: Option<port_scan::Config>,
    /// `host-sweep`.
    pub host_sweep: Option<host_sweep::Config>,
    /// `arp-sweep`.
    pub arp_sweep: Option<arp_sweep::Config>,
    /// `distributed-scan`.
    pub distributed_scan: Option<distributed_scan::Config>,
    /// `syn-flood`.
    pub syn_flood: Option<SynFloodConfig>,
    /// `half-open`.
    pub half_open: Option<HalfOpenConfig>,
    /// `reflection`.
    pub reflection: Option<ReflectionConfig>,
    /// `dns-tunnel`.
    pub dns_tunnel: Option<dns_tunnel::Config>,
    /// `beaconing`.
    pub beaconing: Option<beacon::Config>,
    /// `exfiltration`.
    pub exfiltration: Option<exfil::Config>,
    /// `unexpected-connection`.
    pub unexpected_connection: Option<unexpected::Config>,
}
