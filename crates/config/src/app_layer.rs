//! The `app-layer:` section: Suricata's keys for the protocols mirador
//! parses (HTTP/1.x, TLS, DNS). Only keys that change what mirador does
//! are accepted; any other is an error naming it.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::values::{ByteSize, de_bool};

/// `app-layer`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppLayerConfig {
    /// `protocols`.
    pub protocols: AppProtocols,
}

/// `app-layer.protocols`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppProtocols {
    /// `http`.
    pub http: HttpAppConfig,
    /// `tls`.
    pub tls: TlsAppConfig,
    /// `dns`.
    pub dns: DnsAppConfig,
}

/// `enabled`: Suricata's `yes`, `no` or `detection-only` (the protocol is
/// detected and named on flows, but not parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enabled {
    /// Detected and parsed (the default).
    #[default]
    Yes,
    /// Detected only.
    DetectionOnly,
    /// Neither.
    No,
}

impl Enabled {
    /// Whether the parser runs.
    pub fn parses(self) -> bool {
        self == Enabled::Yes
    }
}

impl<'de> Deserialize<'de> for Enabled {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Enabled;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("yes, no or detection-only")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Enabled, E> {
                Ok(if v { Enabled::Yes } else { Enabled::No })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Enabled, E> {
                match v.to_ascii_lowercase().as_str() {
                    "detection-only" => Ok(Enabled::DetectionOnly),
                    other => crate::values::parse_bool(other)
                        .map(|b| if b { Enabled::Yes } else { Enabled::No })
                        .ok_or_else(|| {
                            E::custom(format!(
                                "invalid value '{v}': expected yes, no or detection-only"
                            ))
                        }),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `app-layer.protocols.http`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpAppConfig {
    /// `enabled`.
    pub enabled: Enabled,
    /// `libhtp`.
    pub libhtp: Libhtp,
}

/// `app-layer.protocols.http.libhtp`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Libhtp {
    /// `default-config`.
    pub default_config: HttpLimits,
}

/// `app-layer.protocols.http.libhtp.default-config`: Suricata's keys and
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpLimits {
    /// `request-body-limit` (100kb): request body bytes kept for inspection.
    pub request_body_limit: ByteSize,
    /// `response-body-limit` (100kb).
    pub response_body_limit: ByteSize,
    /// `response-body-decompress-layer-limit` (2).
    pub response_body_decompress_layer_limit: usize,
    /// `compression-bomb-limit` (1mb).
    pub compression_bomb_limit: ByteSize,
    /// `max-tx` (512): live transactions per flow.
    pub max_tx: usize,
    /// `headers-limit` (1024): header fields per message.
    pub headers_limit: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            request_body_limit: ByteSize(100 * 1024),
            response_body_limit: ByteSize(100 * 1024),
            response_body_decompress_layer_limit: 2,
            compression_bomb_limit: ByteSize::mib(1),
            max_tx: 512,
            headers_limit: 1024,
        }
    }
}

/// `ja3-fingerprints` / `ja4-fingerprints`: `auto` (Suricata's default:
/// on when a loaded rule uses the fingerprint), `yes` or `no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fingerprints {
    /// On when a rule needs it.
    #[default]
    Auto,
    /// Always logged.
    Yes,
    /// Never logged.
    No,
}

impl<'de> Deserialize<'de> for Fingerprints {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Fingerprints;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("auto, yes or no")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Fingerprints, E> {
                Ok(if v {
                    Fingerprints::Yes
                } else {
                    Fingerprints::No
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fingerprints, E> {
                if v.eq_ignore_ascii_case("auto") {
                    return Ok(Fingerprints::Auto);
                }
                crate::values::parse_bool(v)
                    .map(|b| {
                        if b {
                            Fingerprints::Yes
                        } else {
                            Fingerprints::No
                        }
                    })
                    .ok_or_else(|| {
                        E::custom(format!("invalid value '{v}': expected auto, yes or no"))
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// `app-layer.protocols.tls`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TlsAppConfig {
    /// `enabled`.
    pub enabled: Enabled,
    /// `ja3-fingerprints`: log `ja3`/`ja3s` in EVE.
    pub ja3_fingerprints: Fingerprints,
    /// `ja4-fingerprints`: log `ja4` in EVE.
    pub ja4_fingerprints: Fingerprints,
    /// `encryption-handling`: what happens once a session is encrypted.
    pub encryption_handling: EncryptionHandling,
}

/// `app-layer.protocols.tls.encryption-handling` (Suricata's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionHandling {
    /// The default: the session is still tracked and `tls.*` keywords
    /// inspected, but content rules no longer see its payload.
    #[default]
    Default,
    /// Stop inspecting the flow's payload (on a passive sensor the same as
    /// `default`: there is nothing to offload).
    Bypass,
    /// Keep inspecting the encrypted payload with content rules.
    Full,
}

/// `app-layer.protocols.dns`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DnsAppConfig {
    /// `enabled` (Suricata also has per-transport switches).
    pub enabled: Enabled,
    /// `tcp.enabled`.
    pub tcp: DnsTransport,
    /// `udp.enabled`.
    pub udp: DnsTransport,
}

/// `app-layer.protocols.dns.tcp` / `.udp`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct DnsTransport {
    /// `enabled` (default yes).
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
}

impl Default for DnsTransport {
    fn default() -> Self {
        DnsTransport { enabled: true }
    }
}
