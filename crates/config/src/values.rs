//! Value types shared by the config model, and the lenient, Suricata-style parsers that
//! build them: booleans (`yes`/`no`/`on`/`off`/`true`/`false`), byte sizes (`1mb`),
//! port lists (`[8472, 4789]` or `"4789"`), port ranges (`"1024-65535"`), VNI ranges
//! (`"100-200"`), IP networks (a CIDR or a bare address) and IP protocols.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// The largest VXLAN/GENEVE VNI: 24 bits.
pub const MAX_VNI: u32 = 0x00FF_FFFF;
/// The largest ERSPAN (type II/III) session id: 10 bits.
pub const MAX_ERSPAN_ID: u16 = 0x03FF;

/// Parses a Suricata boolean: `yes`/`no`, `true`/`false`, `on`/`off`, `1`/`0`
/// (ASCII case-insensitive).
pub fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["yes", "true", "on", "1"];
    const FALSE: [&str; 4] = ["no", "false", "off", "0"];
    let s = s.trim();
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| s.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// `deserialize_with` helper: a boolean in Suricata's syntax.
pub(crate) fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean (yes/no, true/false, on/off)")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::custom(format_args!(
                    "invalid value {v}, expected a boolean (yes/no, true/false, on/off)"
                ))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            match u64::try_from(v) {
                Ok(u) => self.visit_u64(u),
                Err(_) => Err(E::custom(format_args!(
                    "invalid value {v}, expected a boolean (yes/no, true/false, on/off)"
                ))),
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            parse_bool(v).ok_or_else(|| {
                E::custom(format_args!(
                    "invalid value '{v}', expected a boolean (yes/no, true/false, on/off)"
                ))
            })
        }
    }
    d.deserialize_any(V)
}

/// A number of bytes. Deserializes from an integer or a string with an optional unit:
/// `b`, `k`/`kb`/`kib`, `m`/`mb`/`mib`, `g`/`gb`/`gib`, `t`/`tb`/`tib` (ASCII
/// case-insensitive, binary multiples as in Suricata: `1kb` = 1024), an optional space
/// and an optional fraction (`1.5mb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }
    /// `n` kibibytes.
    pub const fn kib(n: u64) -> Self {
        ByteSize(n * 1024)
    }
    /// `n` mebibytes.
    pub const fn mib(n: u64) -> Self {
        ByteSize(n * 1024 * 1024)
    }
}

/// Why a [`ByteSize`] string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteSizeError(String);

impl fmt::Display for ByteSizeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "invalid value '{}', expected a size such as 4096, 64kb, 1mb or 1gb",
            self.0
        )
    }
}

impl std::error::Error for ByteSizeError {}

impl FromStr for ByteSize {
    type Err = ByteSizeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ByteSizeError(s.to_string());
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        let mult: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            _ => return Err(err()),
        };
        if num.is_empty() {
            return Err(err());
        }
        if let Some((int, frac)) = num.split_once('.') {
            if int.is_empty() && frac.is_empty() || frac.contains('.') {
                return Err(err());
            }
            let v: f64 = num.parse().map_err(|_| err())?;
            let bytes = (v * mult as f64).round();
            if !(0.0..=u64::MAX as f64).contains(&bytes) {
                return Err(err());
            }
            Ok(ByteSize(bytes as u64))
        } else {
            let v: u64 = num.parse().map_err(|_| err())?;
            v.checked_mul(mult).map(ByteSize).ok_or_else(err)
        }
    }
}

impl fmt::Display for ByteSize {
    /// The shortest exact form: `1mb`, `64kb`, `1500`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const UNITS: [(u64, &str); 4] = [
            (1 << 40, "tb"),
            (1 << 30, "gb"),
            (1 << 20, "mb"),
            (1 << 10, "kb"),
        ];
        for (m, u) in UNITS {
            if self.0 != 0 && self.0.is_multiple_of(m) {
                return write!(f, "{}{u}", self.0 / m);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 4096, 64kb, 1mb or 1gb")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v).map(ByteSize).map_err(|_| {
                    E::custom(format_args!(
                        "invalid value {v}, expected a size such as 4096, 64kb, 1mb or 1gb"
                    ))
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An inclusive range of TCP/UDP ports, `from..=to`.
///
/// Deserializes from an integer (`443`), a string (`"443"`, `"1024-65535"`) or a map
/// `{from-port: 1024, to-port: 65535}` (the AWS field names, kebab-cased).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port of the range.
    pub from: u16,
    /// Last port of the range (inclusive); `from <= to`.
    pub to: u16,
}

impl PortRange {
    /// Whether `port` lies in the range.
    #[inline]
    pub const fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

fn port_range_msg(v: impl fmt::Display) -> String {
    format!("invalid value '{v}', expected a port (0..=65535) or a range FROM-TO with FROM <= TO")
}

impl FromStr for PortRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let p = |x: &str| x.trim().parse::<u16>().map_err(|_| port_range_msg(s));
        let (from, to) = match s.split_once('-') {
            Some((a, b)) => (p(a)?, p(b)?),
            None => {
                let v = p(s)?;
                (v, v)
            }
        };
        if from > to {
            return Err(port_range_msg(s));
        }
        Ok(PortRange { from, to })
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        struct Map {
            from_port: u16,
            to_port: u16,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port (0..=65535) or a range such as \"1024-65535\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortRange, E> {
                let p = u16::try_from(v).map_err(|_| E::custom(port_range_msg(v)))?;
                Ok(PortRange { from: p, to: p })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortRange, E> {
                Err(E::custom(port_range_msg(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortRange, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<PortRange, A::Error> {
                let m = Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if m.from_port > m.to_port {
                    return Err(de::Error::custom(format_args!(
                        "invalid port range {}-{}, expected from-port <= to-port",
                        m.from_port, m.to_port
                    )));
                }
                Ok(PortRange {
                    from: m.from_port,
                    to: m.to_port,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of UDP ports, as in Suricata's `decoder.vxlan.ports`: a YAML list of
/// integers, a single integer, or a string in Suricata's syntax (`"4789"`,
/// `"[8472, 4789]"`). Port 0 is rejected.
pub(crate) fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    fn one<E: de::Error>(s: &str) -> Result<u16, E> {
        match s.trim().parse::<u16>() {
            Ok(p) if p != 0 => Ok(p),
            _ => Err(E::custom(format_args!(
                "invalid port '{}', expected a UDP port (1..=65535)",
                s.trim()
            ))),
        }
    }
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<u16>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a port, a list of ports, or a string such as \"[8472, 4789]\"")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<u16>, E> {
            one(&v.to_string()).map(|p| vec![p])
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<u16>, E> {
            one(&v.to_string()).map(|p| vec![p])
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u16>, E> {
            let t = v.trim();
            let inner = t
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(t);
            if inner.trim().is_empty() {
                return Ok(Vec::new());
            }
            inner.split(',').map(one).collect()
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u16>, A::Error> {
            struct Item(u16);
            impl<'de> Deserialize<'de> for Item {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    struct IV;
                    impl Visitor<'_> for IV {
                        type Value = Item;
                        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                            f.write_str("a UDP port (1..=65535)")
                        }
                        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item, E> {
                            one(&v.to_string()).map(Item)
                        }
                        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Item, E> {
                            one(&v.to_string()).map(Item)
                        }
                        fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                            one(v).map(Item)
                        }
                    }
                    d.deserialize_any(IV)
                }
            }
            let mut out = Vec::new();
            while let Some(Item(p)) = seq.next_element::<Item>()? {
                out.push(p);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// Parses an IP network: a CIDR (`10.0.0.0/16`, `2600:1f18::/56`) or a bare address,
/// which stands for a single host (`/32` or `/128`).
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn net_msg(v: &str) -> String {
    format!("invalid value '{v}', expected an IP address or a CIDR such as 10.0.0.0/16")
}

/// A `Deserialize` wrapper around [`IpNet`] that also accepts bare addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Net(pub IpNet);

impl<'de> Deserialize<'de> for Net {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Net;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an IP address or a CIDR")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Net, E> {
                parse_net(v).map(Net).ok_or_else(|| E::custom(net_msg(v)))
            }
        }
        d.deserialize_str(V)
    }
}

pub(crate) fn de_net<'de, D: Deserializer<'de>>(d: D) -> Result<IpNet, D::Error> {
    Net::deserialize(d).map(|n| n.0)
}

pub(crate) fn de_nets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    Vec::<Net>::deserialize(d).map(|v| v.into_iter().map(|n| n.0).collect())
}

/// An inclusive range of VNIs. Deserializes from an integer (`42`) or a string (`"42"`,
/// `"100-200"`); both ends must be 24-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VniRange {
    /// First VNI of the range.
    pub start: u32,
    /// Last VNI of the range (inclusive); `start <= end`.
    pub end: u32,
}

impl VniRange {
    /// Whether `vni` lies in the range.
    #[inline]
    pub const fn contains(self, vni: u32) -> bool {
        self.start <= vni && vni <= self.end
    }
}

impl fmt::Display for VniRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

fn vni_msg(v: impl fmt::Display) -> String {
    format!("invalid value {v}, expected a 24-bit VNI (0..=16777215)")
}

fn vni_range_msg(v: &str) -> String {
    format!("invalid value '{v}', expected a 24-bit VNI or a range such as \"100-200\"")
}

impl<'de> Deserialize<'de> for VniRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VniRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a VNI or a range such as \"100-200\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VniRange, E> {
                match u32::try_from(v) {
                    Ok(x) if x <= MAX_VNI => Ok(VniRange { start: x, end: x }),
                    _ => Err(E::custom(vni_msg(v))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VniRange, E> {
                Err(E::custom(vni_msg(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VniRange, E> {
                let p = |x: &str| match x.trim().parse::<u32>() {
                    Ok(n) if n <= MAX_VNI => Ok(n),
                    _ => Err(E::custom(vni_range_msg(v))),
                };
                let (start, end) = match v.split_once('-') {
                    Some((a, b)) => (p(a)?, p(b)?),
                    None => {
                        let x = p(v)?;
                        (x, x)
                    }
                };
                if start > end {
                    return Err(E::custom(vni_range_msg(v)));
                }
                Ok(VniRange { start, end })
            }
        }
        d.deserialize_any(V)
    }
}

/// A visitor for an optional integer in `0..=max`, checked while the node is read (so
/// that the error carries the node's position).
struct BoundedOpt {
    max: u64,
    msg: fn(&dyn fmt::Display) -> String,
    what: &'static str,
}

impl Visitor<'_> for BoundedOpt {
    type Value = Option<u64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if v <= self.max {
            Ok(Some(v))
        } else {
            Err(E::custom((self.msg)(&v)))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom((self.msg)(&v))),
        }
    }
}

/// `deserialize_with` helper for an optional 24-bit VNI.
pub(crate) fn de_opt_vni<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = d.deserialize_any(BoundedOpt {
        max: u64::from(MAX_VNI),
        msg: |v| vni_msg(v),
        what: "a 24-bit VNI (0..=16777215)",
    })?;
    Ok(v.map(|v| v as u32))
}

/// `deserialize_with` helper for an optional 10-bit ERSPAN session id.
pub(crate) fn de_opt_erspan<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = d.deserialize_any(BoundedOpt {
        max: u64::from(MAX_ERSPAN_ID),
        msg: |v| format!("invalid value {v}, expected a 10-bit ERSPAN session id (0..=1023)"),
        what: "a 10-bit ERSPAN session id (0..=1023)",
    })?;
    Ok(v.map(|v| v as u16))
}

/// Parses an IP protocol: an IANA number (`0..=255`) or one of the names `tcp` (6),
/// `udp` (17), `icmp` (1), `icmpv6`/`ipv6-icmp` (58), `gre` (47), `sctp` (132),
/// `esp` (50), `ah` (51).
pub fn parse_protocol(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return Some(n);
    }
    Some(match s.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        _ => return None,
    })
}

fn protocol_msg(v: &dyn fmt::Display) -> String {
    format!(
        "invalid value '{v}', expected an IANA protocol number (0..=255) or tcp/udp/icmp/icmpv6"
    )
}

/// `deserialize_with` helper for an optional IP protocol ([`parse_protocol`]).
pub(crate) fn de_opt_protocol<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an IANA protocol number (0..=255) or tcp/udp/icmp/icmpv6")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u8::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(protocol_msg(&v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u8::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(protocol_msg(&v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_protocol(v)
                .map(Some)
                .ok_or_else(|| E::custom(protocol_msg(&v)))
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        let ok = [
            ("0", 0),
            ("1500", 1500),
            ("1b", 1),
            ("64kb", 65536),
            ("64KB", 65536),
            ("10 KiB", 10240),
            ("1mb", 1 << 20),
            ("1m", 1 << 20),
            ("1.5mb", 3 << 19),
            ("1gb", 1 << 30),
            ("2GiB", 2 << 30),
        ];
        for (s, v) in ok {
            assert_eq!(s.parse::<ByteSize>(), Ok(ByteSize(v)), "{s}");
        }
        for s in [
            "",
            "mb",
            "1xb",
            "-1",
            "1..5mb",
            "1 2mb",
            "99999999999999999999tb",
        ] {
            assert!(s.parse::<ByteSize>().is_err(), "{s}");
        }
        assert_eq!(ByteSize::mib(1).to_string(), "1mb");
        assert_eq!(ByteSize(1500).to_string(), "1500");
        assert_eq!(ByteSize(0).to_string(), "0");
    }

    #[test]
    fn bools() {
        for s in ["yes", "YES", "true", "on", "1"] {
            assert_eq!(parse_bool(s), Some(true));
        }
        for s in ["no", "False", "off", "0"] {
            assert_eq!(parse_bool(s), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn port_ranges() {
        assert_eq!("443".parse(), Ok(PortRange { from: 443, to: 443 }));
        assert_eq!(
            "1024-65535".parse(),
            Ok(PortRange {
                from: 1024,
                to: 65535
            })
        );
        assert!("2-1".parse::<PortRange>().is_err());
        assert!("65536".parse::<PortRange>().is_err());
        assert!("a-b".parse::<PortRange>().is_err());
    }

    #[test]
    fn protocols() {
        assert_eq!(parse_protocol("6"), Some(6));
        assert_eq!(parse_protocol("UDP"), Some(17));
        assert_eq!(parse_protocol("icmpv6"), Some(58));
        assert_eq!(parse_protocol("256"), None);
        assert_eq!(parse_protocol("foo"), None);
    }

    #[test]
    fn nets() {
        assert_eq!(
            parse_net("10.0.1.15"),
            Some("10.0.1.15/32".parse().unwrap())
        );
        assert_eq!(
            parse_net("2600:1f18::1"),
            Some("2600:1f18::1/128".parse().unwrap())
        );
        assert_eq!(
            parse_net("10.0.0.0/16"),
            Some("10.0.0.0/16".parse().unwrap())
        );
        assert_eq!(parse_net("10.0.0.0/33"), None);
    }
}
