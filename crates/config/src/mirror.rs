//! Mirror sessions, the `mirror:` section.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::filter::Direction;
use crate::values::{VniRange, de_nets, de_opt_erspan, de_opt_vni};

/// The encapsulation key that identifies a session on the wire, together with the outer
/// source IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SessionKey {
    /// A VXLAN (or GENEVE) VNI, 24 bits.
    Vni(u32),
    /// An ERSPAN type II/III session id, 10 bits.
    Erspan(u16),
    /// No key: ERSPAN type I, plain GRE, or non-encapsulated traffic.
    None,
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SessionKey::Vni(v) => write!(f, "vni {v}"),
            SessionKey::Erspan(e) => write!(f, "erspan-id {e}"),
            SessionKey::None => f.write_str("none"),
        }
    }
}

/// What to do with mirrored packets whose (key, outer source) matches no declared
/// session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownSession {
    /// Inspect them in an anonymous session per key (tenant = the key, as for declared
    /// sessions without `tenant`), up to `max-anonymous-sessions`.
    #[default]
    Inspect,
    /// Count them as `filtered` (`unknown_session`) and do not inspect them.
    Drop,
}

/// The `mirror:` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct MirrorConfig {
    /// `unknown-session`: `inspect` (default) or `drop`.
    pub unknown_session: UnknownSession,
    /// `max-anonymous-sessions`: the most anonymous sessions created for undeclared keys
    /// (default 1024); packets for further keys count as `unknown_session`.
    pub max_anonymous_sessions: usize,
    /// `source-allow`: outer source addresses or CIDRs allowed to send mirrored traffic;
    /// empty (default) allows all. Others count as `source_not_allowed`.
    #[serde(deserialize_with = "de_nets")]
    pub source_allow: Vec<IpNet>,
    /// `vni-allow`: VNIs or ranges (`"100-200"`) accepted; empty (default) allows all.
    /// Others count as `vni_not_allowed`.
    pub vni_allow: Vec<VniRange>,
    /// `sessions`: the declared mirror sessions.
    pub sessions: Vec<Session>,
    /// `dedup`: dropping the second copy of a packet mirrored by both ENIs.
    pub dedup: DedupSettings,
}

/// `mirror.dedup`: when both endpoints of a conversation are mirror
/// sources, every packet between them arrives twice, through two sessions
/// of one tenant with different outer sources. The later copy from another
/// source within `window-ms` is filtered as `duplicate`; a packet repeated
/// by the same source (a retransmission) is always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DedupSettings {
    /// `enabled` (default yes).
    #[serde(deserialize_with = "crate::values::de_bool")]
    pub enabled: bool,
    /// `window-ms`: how long a packet is remembered (default 2000).
    pub window_ms: u64,
    /// `max-entries`: the most packets remembered (default 65536); at the
    /// cap the oldest is forgotten (counted), which can only let a copy
    /// through, never drop a packet.
    pub max_entries: usize,
}

impl Default for DedupSettings {
    fn default() -> Self {
        DedupSettings {
            enabled: true,
            window_ms: 2000,
            max_entries: 65536,
        }
    }
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            unknown_session: UnknownSession::Inspect,
            max_anonymous_sessions: 1024,
            source_allow: Vec::new(),
            vni_allow: Vec::new(),
            sessions: Vec::new(),
            dedup: DedupSettings::default(),
        }
    }
}

impl MirrorConfig {
    /// Whether an outer source address may send mirrored traffic (`source-allow`; empty
    /// allows all). No allocation.
    #[inline]
    pub fn source_allowed(&self, ip: IpAddr) -> bool {
        self.source_allow.is_empty() || self.source_allow.iter().any(|n| n.contains(&ip))
    }

    /// Whether a VNI is accepted (`vni-allow`; empty allows all). No allocation.
    #[inline]
    pub fn vni_allowed(&self, vni: u32) -> bool {
        self.vni_allow.is_empty() || self.vni_allow.iter().any(|r| r.contains(vni))
    }
}

/// A declared mirror session (AWS `TrafficMirrorSession` plus what the sensor needs to
/// attribute and filter its packets).
///
/// A session is identified on the wire by its [`SessionKey`] plus the outer source IP
/// (one of `source-ips`, or any source when that list is empty). Several sessions may
/// share a key (one VNI per VPC is common) and even a source (AWS allows up to three
/// sessions per ENI, tried by `session-number`); attribution is the engine's job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Session {
    /// `id`: AWS `TrafficMirrorSessionId` (optional, unique among sessions).
    #[serde(default)]
    pub id: Option<String>,
    /// `name`: a human name (optional; EVE `mirror.session_name`).
    #[serde(default)]
    pub name: Option<String>,
    /// `description`: AWS `Description` (optional, informational).
    #[serde(default)]
    pub description: Option<String>,
    /// `vni`: the VXLAN/GENEVE VNI (AWS `VirtualNetworkId`), 0..=16777215. Exclusive
    /// with `erspan-id`; neither means key `none`.
    #[serde(default, deserialize_with = "de_opt_vni")]
    pub vni: Option<u32>,
    /// `erspan-id`: the ERSPAN type II/III session id, 0..=1023.
    #[serde(default, deserialize_with = "de_opt_erspan")]
    pub erspan_id: Option<u16>,
    /// `source-ips`: the outer source IPs this session's packets come from (for AWS: the
    /// source ENI's primary IP); empty = any source.
    #[serde(default)]
    pub source_ips: Vec<IpAddr>,
    /// `source-eni`: AWS `NetworkInterfaceId` (informational; EVE `mirror.source_eni`).
    #[serde(default)]
    pub source_eni: Option<String>,
    /// `eni-addresses`: every private address and prefix of the source ENI (bare
    /// addresses mean /32 or /128); they decide a packet's [`Direction`].
    #[serde(default, deserialize_with = "de_nets")]
    pub eni_addresses: Vec<IpNet>,
    /// `tenant`: the flow-key tenant. Default: the VNI or ERSPAN id as a decimal string,
    /// `default` for key `none`.
    #[serde(default)]
    pub tenant: String,
    /// `packet-length`: AWS `PacketLength`, bytes mirrored after the VXLAN header,
    /// 1..=65535; absent = whole packets (informational: truncation is detected anyway).
    #[serde(default)]
    pub packet_length: Option<u16>,
    /// `session-number`: AWS `SessionNumber`, 1..=32766 (optional): among sessions of
    /// one source ENI, the lowest number whose filter accepts a packet mirrors it.
    #[serde(default)]
    pub session_number: Option<u16>,
    /// `filter`: the name of a filter under `filters:` (optional; none = every packet
    /// of the session is inspected).
    #[serde(default)]
    pub filter: Option<String>,
    /// `bidirectional`: the session mirrors both directions of its traffic (both
    /// ingress and egress filtered in, and the peers' traffic not split across
    /// sensors), so the anomaly detectors that count failures (a SYN never answered,
    /// a SYN-ACK with no SYN) may count it from the start; otherwise they wait until
    /// a flow of the session shows both directions. Default no.
    #[serde(default, deserialize_with = "crate::values::de_bool")]
    pub bidirectional: bool,
    /// `target`: the mirror target, informational (e.g. `tmt-… (network-load-balancer
    /// arn:…)` as written by `mirador aws import`).
    #[serde(default)]
    pub target: Option<String>,
    /// `account-id`: the source ENI's AWS account, 12 digits (optional; VPC Flow Logs
    /// `account-id`; default `outputs.vpc-flow-logs.account-id`).
    #[serde(default, deserialize_with = "crate::vpcflow::de_account_id")]
    pub account_id: Option<String>,
    /// `vpc-id`: the source ENI's VPC, `vpc-…` (optional; VPC Flow Logs `vpc-id`).
    #[serde(default, deserialize_with = "crate::vpcflow::de_vpc_id")]
    pub vpc_id: Option<String>,
    /// `subnet-id`: the source ENI's subnet, `subnet-…` (optional).
    #[serde(default, deserialize_with = "crate::vpcflow::de_subnet_id")]
    pub subnet_id: Option<String>,
    /// `instance-id`: the instance the source ENI is attached to, `i-…` (optional).
    #[serde(default, deserialize_with = "crate::vpcflow::de_instance_id")]
    pub instance_id: Option<String>,
    /// `region`: the source ENI's region, e.g. `us-east-1` (optional; default
    /// `outputs.vpc-flow-logs.region`).
    #[serde(default, deserialize_with = "crate::vpcflow::de_region")]
    pub region: Option<String>,
    /// `az-id`: the source ENI's availability zone id, e.g. `use1-az1` (optional).
    #[serde(default, deserialize_with = "crate::vpcflow::de_az_id")]
    pub az_id: Option<String>,
}

impl Session {
    /// The session's encapsulation key.
    #[inline]
    pub const fn key(&self) -> SessionKey {
        match (self.vni, self.erspan_id) {
            (Some(v), _) => SessionKey::Vni(v),
            (None, Some(e)) => SessionKey::Erspan(e),
            (None, None) => SessionKey::None,
        }
    }

    /// The tenant a session with this key gets by default.
    pub fn default_tenant(key: SessionKey) -> String {
        match key {
            SessionKey::Vni(v) => v.to_string(),
            SessionKey::Erspan(e) => e.to_string(),
            SessionKey::None => "default".to_string(),
        }
    }

    /// A label for messages and metrics: the name, else the id, else the key.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| self.key().to_string())
    }

    /// Whether packets from this outer source IP may belong to this session (an empty
    /// `source-ips` accepts any source).
    #[inline]
    pub fn accepts_source(&self, outer_src: IpAddr) -> bool {
        self.source_ips.is_empty() || self.source_ips.contains(&outer_src)
    }

    /// Whether `ip` is one of the source ENI's addresses.
    #[inline]
    pub fn is_eni_address(&self, ip: IpAddr) -> bool {
        self.eni_addresses.iter().any(|n| n.contains(&ip))
    }

    /// The direction of an inner packet relative to the source ENI: `Egress` when the
    /// inner source is one of `eni-addresses`, `Ingress` when the inner destination is.
    /// When both are (hairpin traffic from the ENI to itself), `Egress`. When neither
    /// is (or `eni-addresses` is empty), `None`: the engine then cannot apply the
    /// session's filter, and counts and inspects the packet. No allocation.
    #[inline]
    pub fn direction(&self, inner_src: IpAddr, inner_dst: IpAddr) -> Option<Direction> {
        if self.is_eni_address(inner_src) {
            Some(Direction::Egress)
        } else if self.is_eni_address(inner_dst) {
            Some(Direction::Ingress)
        } else {
            None
        }
    }
}
