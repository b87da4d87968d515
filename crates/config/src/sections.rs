//! The Suricata-compatible sections: `checksum-validation`, `decoder`, `stream`,
//! `flow-timeouts`, `outputs`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::values::{ByteSize, de_bool, de_ports, parse_bool};

/// `checksum-validation`: what to do with packets whose checksums are wrong.
///
/// Values: `none` (default) and `all`, as Suricata's `-k none|all`. Also accepted:
/// `no`/`false`/`off` = `none`, `yes`/`true`/`on` = `all`, and `auto` = `none` (Suricata's
/// `auto` turns validation off when it sees offloaded checksums; a mirror target always
/// does, since AWS does not recompute checksums of truncated mirror copies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChecksumValidation {
    /// Bad checksums are counted, and the packets inspected anyway.
    #[default]
    None,
    /// Suricata's meaning: packets with bad checksums are not used for detection (stream
    /// reassembly ignores them).
    All,
}

impl ChecksumValidation {
    /// `"none"` or `"all"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChecksumValidation::None => "none",
            ChecksumValidation::All => "all",
        }
    }
}

impl<'de> Deserialize<'de> for ChecksumValidation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ChecksumValidation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("none or all")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(if v {
                    ChecksumValidation::All
                } else {
                    ChecksumValidation::None
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v.trim().to_ascii_lowercase().as_str() {
                    "none" | "auto" => Ok(ChecksumValidation::None),
                    "all" => Ok(ChecksumValidation::All),
                    other => match parse_bool(other) {
                        Some(true) => Ok(ChecksumValidation::All),
                        Some(false) => Ok(ChecksumValidation::None),
                        None => Err(E::custom(format_args!(
                            "invalid value '{v}', expected none or all (or yes/no/auto)"
                        ))),
                    },
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One tunnel decoder (`decoder.vxlan`, `decoder.geneve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelDecoder {
    /// `enabled`: decode this encapsulation (default yes).
    pub enabled: bool,
    /// `ports`: outer UDP destination ports; a list, or Suricata's string syntax
    /// (`"4789"`, `"[8472, 4789]"`). Default: the protocol's IANA port.
    pub ports: Vec<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTunnel {
    #[serde(default, deserialize_with = "de_opt_bool")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_ports")]
    ports: Option<Vec<u16>>,
}

fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    de_bool(d).map(Some)
}

fn de_opt_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u16>>, D::Error> {
    de_ports(d).map(Some)
}

impl RawTunnel {
    fn resolve(self, port: u16) -> TunnelDecoder {
        TunnelDecoder {
            enabled: self.enabled.unwrap_or(true),
            ports: self.ports.unwrap_or_else(|| vec![port]),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct RawDecoder {
    vxlan: RawTunnel,
    geneve: RawTunnel,
    max_layers: u8,
}

impl Default for RawDecoder {
    fn default() -> Self {
        RawDecoder {
            vxlan: RawTunnel::default(),
            geneve: RawTunnel::default(),
            max_layers: 8,
        }
    }
}

impl From<RawDecoder> for DecoderConfig {
    fn from(r: RawDecoder) -> Self {
        DecoderConfig {
            vxlan: r.vxlan.resolve(4789),
            geneve: r.geneve.resolve(6081),
            max_layers: r.max_layers,
        }
    }
}

/// The `decoder:` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawDecoder")]
pub struct DecoderConfig {
    /// `vxlan`: default enabled on port 4789 (AWS Traffic Mirroring).
    pub vxlan: TunnelDecoder,
    /// `geneve`: default enabled on port 6081 (AWS Gateway Load Balancer).
    pub geneve: TunnelDecoder,
    /// `max-layers`: the most encapsulation layers decoded in one packet (default 8;
    /// GWLB delivery is GENEVE + VXLAN = 2).
    pub max_layers: u8,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        RawDecoder::default().into()
    }
}

/// `stream.reassembly.urgent.policy` (and `oob-limit-policy`): what TCP urgent data
/// does to the reassembled stream. Suricata's values, case-sensitive as in Suricata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UrgentPolicy {
    /// The urgent byte stays in the stream (default).
    #[default]
    Inline,
    /// Suricata drops urgent packets in IPS mode; a mirror target cannot, so the
    /// stream keeps the byte as with `inline`. As `oob-limit-policy`, a segment beyond
    /// the limit is left out of the stream.
    Drop,
    /// The last byte of an urgent segment is out-of-band: left out of the stream.
    Oob,
    /// The last byte of an urgent segment is left out as a gap.
    Gap,
}

impl UrgentPolicy {
    /// The configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            UrgentPolicy::Inline => "inline",
            UrgentPolicy::Drop => "drop",
            UrgentPolicy::Oob => "oob",
            UrgentPolicy::Gap => "gap",
        }
    }
}

fn urgent_policy<E: de::Error>(v: &str, allowed: &[UrgentPolicy]) -> Result<UrgentPolicy, E> {
    allowed
        .iter()
        .copied()
        .find(|p| p.as_str() == v)
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|p| p.as_str()).collect();
            E::custom(format_args!(
                "invalid value '{v}', expected one of {}",
                names.join(", ")
            ))
        })
}

impl<'de> Deserialize<'de> for UrgentPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = String::deserialize(d)?;
        urgent_policy(
            &v,
            &[
                UrgentPolicy::Inline,
                UrgentPolicy::Drop,
                UrgentPolicy::Oob,
                UrgentPolicy::Gap,
            ],
        )
    }
}

/// `oob-limit-policy` takes every policy but `oob` (Suricata refuses it there).
fn de_oob_limit<'de, D: Deserializer<'de>>(d: D) -> Result<UrgentPolicy, D::Error> {
    let v = String::deserialize(d)?;
    urgent_policy(
        &v,
        &[UrgentPolicy::Inline, UrgentPolicy::Drop, UrgentPolicy::Gap],
    )
}

/// `stream.reassembly.urgent` (Suricata's keys and meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct UrgentConfig {
    /// `policy`: `inline` (default), `drop`, `oob` or `gap`.
    pub policy: UrgentPolicy,
    /// `oob-limit-policy`: what `oob` does once a direction has had 65535 out-of-band
    /// bytes: `inline` (default), `drop` or `gap`.
    #[serde(deserialize_with = "de_oob_limit")]
    pub oob_limit_policy: UrgentPolicy,
}

/// `stream.reassembly`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReassemblyConfig {
    /// `depth`: bytes reassembled per direction of a stream before inspection of the
    /// stream stops (Suricata's meaning; default 1mb; 0 = unlimited).
    pub depth: ByteSize,
    /// `memcap`: memory all streams' buffered segments may use, all workers together
    /// (Suricata's meaning; default 256mb).
    pub memcap: ByteSize,
    /// `max-segments-per-direction` (mirador's key): segments buffered at most in one
    /// direction of a stream, awaiting delivery (default 3072: Snort 3's
    /// `stream_tcp.queue_limit.max_segments`).
    pub max_segments_per_direction: usize,
    /// `max-buffered-per-direction` (mirador's key): bytes buffered at most in one
    /// direction of a stream, awaiting delivery (default 4mb: Snort 3's
    /// `stream_tcp.queue_limit.max_bytes`).
    pub max_buffered_per_direction: ByteSize,
    /// `check-overlap-different-data`: compare overlapping segments with the data held
    /// and raise `stream.reassembly_overlap_different_data` when they differ (default
    /// yes; Suricata's is no unless inline or a rule uses the event).
    #[serde(deserialize_with = "de_bool")]
    pub check_overlap_different_data: bool,
    /// `urgent`: TCP urgent data handling.
    pub urgent: UrgentConfig,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            depth: ByteSize::mib(1),
            memcap: ByteSize::mib(256),
            max_segments_per_direction: 3072,
            max_buffered_per_direction: ByteSize::mib(4),
            check_overlap_different_data: true,
            urgent: UrgentConfig::default(),
        }
    }
}

/// The `stream:` section (Suricata's keys and meaning).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct StreamConfig {
    /// `memcap`: memory TCP session tracking may use, all workers together
    /// (Suricata's meaning; default 64mb).
    pub memcap: ByteSize,
    /// `midstream`: pick up TCP sessions whose handshake was not seen (default yes in
    /// mirador: a mirror picks flows up midstream whenever the sensor restarts or a
    /// flow is older than the mirror session; `no` is Suricata's default).
    #[serde(deserialize_with = "de_bool")]
    pub midstream: bool,
    /// `async-oneside`: allow TCP sessions of which only one direction is seen (default
    /// yes in mirador, since mirrored traffic is often one-sided; `no` is Suricata's
    /// default behaviour).
    #[serde(deserialize_with = "de_bool")]
    pub async_oneside: bool,
    /// `inline`: Suricata's inline (IPS) stream mode (default no). Suricata's `auto`
    /// is accepted and means no: mirador is never inline.
    #[serde(deserialize_with = "de_inline")]
    pub inline: bool,
    /// `reassembly`.
    pub reassembly: ReassemblyConfig,
}

fn de_inline<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean (yes/no) or auto")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            if v.trim().eq_ignore_ascii_case("auto") {
                return Ok(false);
            }
            parse_bool(v).ok_or_else(|| {
                E::custom(format_args!(
                    "invalid value '{v}', expected a boolean (yes/no) or auto"
                ))
            })
        }
    }
    d.deserialize_any(V)
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            memcap: ByteSize::mib(64),
            midstream: true,
            async_oneside: true,
            inline: false,
            reassembly: ReassemblyConfig::default(),
        }
    }
}

/// Flow timeouts of one protocol class, in seconds (Suricata's `flow-timeouts.<proto>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowTimeoutSet {
    /// `new`: a flow that has not seen both directions.
    pub new: u32,
    /// `established`.
    pub established: u32,
    /// `closed` (TCP after FIN/RST; 0 elsewhere).
    pub closed: u32,
    /// `bypassed`.
    pub bypassed: u32,
    /// `emergency-new`: used while the flow table is in emergency mode.
    pub emergency_new: u32,
    /// `emergency-established`.
    pub emergency_established: u32,
    /// `emergency-closed`.
    pub emergency_closed: u32,
    /// `emergency-bypassed`.
    pub emergency_bypassed: u32,
}

impl FlowTimeoutSet {
    /// Suricata's `flow-timeouts.default` (also its defaults for `udp`, `icmp`, `sctp`).
    pub const SURICATA_DEFAULT: FlowTimeoutSet = FlowTimeoutSet {
        new: 30,
        established: 300,
        closed: 0,
        bypassed: 100,
        emergency_new: 10,
        emergency_established: 100,
        emergency_closed: 0,
        emergency_bypassed: 50,
    };
    /// Suricata's `flow-timeouts.tcp`.
    pub const SURICATA_TCP: FlowTimeoutSet = FlowTimeoutSet {
        new: 60,
        established: 600,
        closed: 60,
        bypassed: 100,
        emergency_new: 5,
        emergency_established: 100,
        emergency_closed: 10,
        emergency_bypassed: 50,
    };
}

/// What a `flow-timeouts.<proto>` map may hold; absent keys take the protocol's default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTimeoutSet {
    new: Option<u32>,
    established: Option<u32>,
    closed: Option<u32>,
    bypassed: Option<u32>,
    emergency_new: Option<u32>,
    emergency_established: Option<u32>,
    emergency_closed: Option<u32>,
    emergency_bypassed: Option<u32>,
}

impl RawTimeoutSet {
    fn resolve(self, d: FlowTimeoutSet) -> FlowTimeoutSet {
        FlowTimeoutSet {
            new: self.new.unwrap_or(d.new),
            established: self.established.unwrap_or(d.established),
            closed: self.closed.unwrap_or(d.closed),
            bypassed: self.bypassed.unwrap_or(d.bypassed),
            emergency_new: self.emergency_new.unwrap_or(d.emergency_new),
            emergency_established: self
                .emergency_established
                .unwrap_or(d.emergency_established),
            emergency_closed: self.emergency_closed.unwrap_or(d.emergency_closed),
            emergency_bypassed: self.emergency_bypassed.unwrap_or(d.emergency_bypassed),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawFlowTimeouts {
    default: RawTimeoutSet,
    tcp: RawTimeoutSet,
    udp: RawTimeoutSet,
    icmp: RawTimeoutSet,
    sctp: RawTimeoutSet,
}

/// The `flow-timeouts:` section: Suricata's keys, meaning and defaults. Each protocol
/// section takes the keys `new`, `established`, `closed`, `bypassed`,
/// `emergency-new`, `emergency-established`, `emergency-closed`, `emergency-bypassed`;
/// an absent key takes Suricata's built-in default for that protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(from = "RawFlowTimeouts")]
pub struct FlowTimeouts {
    /// `default`: protocols other than TCP, UDP, ICMP and SCTP.
    pub default: FlowTimeoutSet,
    /// `tcp`.
    pub tcp: FlowTimeoutSet,
    /// `udp`.
    pub udp: FlowTimeoutSet,
    /// `icmp` (ICMP and ICMPv6).
    pub icmp: FlowTimeoutSet,
    /// `sctp`.
    pub sctp: FlowTimeoutSet,
}

impl Default for FlowTimeouts {
    fn default() -> Self {
        RawFlowTimeouts::default().into()
    }
}

impl From<RawFlowTimeouts> for FlowTimeouts {
    fn from(r: RawFlowTimeouts) -> Self {
        let d = FlowTimeoutSet::SURICATA_DEFAULT;
        FlowTimeouts {
            default: r.default.resolve(d),
            tcp: r.tcp.resolve(FlowTimeoutSet::SURICATA_TCP),
            udp: r.udp.resolve(d),
            icmp: r.icmp.resolve(d),
            sctp: r.sctp.resolve(d),
        }
    }
}

/// `outputs.eve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EveOutput {
    /// `filename`: where EVE JSON goes (default `eve.json`; `-` = stdout). The CLI's
    /// `--eve` overrides it.
    pub filename: String,
    /// `tunnel-flows`: also emit flow records for the tunnel transport (source ENI →
    /// sensor on 4789/6081); default no.
    #[serde(deserialize_with = "de_bool")]
    pub tunnel_flows: bool,
    /// `community-id-seed`: the Community ID v1 seed (default 0, as Suricata's
    /// `community-id-seed`); every sensor whose records are joined must use the same.
    pub community_id_seed: u16,
    /// `alert`: what alert records carry besides Suricata's defaults.
    pub alert: EveAlertOptions,
    /// `rotate-size`: `mirador run` moves the file aside (to `FILENAME.TIMESTAMP`)
    /// and starts a new one once it holds this much (default 0 = never).
    pub rotate_size: ByteSize,
    /// `rotate-interval`: the same every this many seconds (default 0 = never).
    /// SIGHUP also reopens the file, for logrotate.
    pub rotate_interval: u64,
}

/// `outputs.eve.alert`: Suricata's eve-log alert options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct EveAlertOptions {
    /// `payload`: the inspected bytes, base64 (default no).
    #[serde(deserialize_with = "de_bool")]
    pub payload: bool,
    /// `payload-printable`: the same as printable ASCII (default no).
    #[serde(deserialize_with = "de_bool")]
    pub payload_printable: bool,
    /// `packet`: the packet's inner frame, base64 (default no).
    #[serde(deserialize_with = "de_bool")]
    pub packet: bool,
    /// `metadata`: the rule's `metadata` in `alert.metadata` (default yes).
    #[serde(deserialize_with = "de_bool")]
    pub metadata: bool,
}

impl Default for EveAlertOptions {
    fn default() -> Self {
        EveAlertOptions {
            payload: false,
            payload_printable: false,
            packet: false,
            metadata: true,
        }
    }
}

impl Default for EveOutput {
    fn default() -> Self {
        EveOutput {
            filename: "eve.json".to_string(),
            tunnel_flows: false,
            community_id_seed: 0,
            alert: EveAlertOptions::default(),
            rotate_size: ByteSize(0),
            rotate_interval: 0,
        }
    }
}

/// The `outputs:` section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutputsConfig {
    /// `eve`.
    pub eve: EveOutput,
    /// `vpc-flow-logs`.
    pub vpc_flow_logs: crate::vpcflow::VpcFlowLogsOutput,
}
