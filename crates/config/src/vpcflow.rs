//! VPC Flow Logs: the `outputs.vpc-flow-logs` section, the flow log field list
//! ([`Field`], [`Format`]) and the checks on the AWS ids that go into records
//! (`account-id`, `vpc-id`, … here and in `mirror.sessions[]`).
//!
//! The field list lives here rather than in the engine so that a bad `format`
//! is a load error naming the file, line and key, like every other bad value;
//! the engine re-exports it next to the record type.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::values::de_bool;

macro_rules! fields {
    ($($variant:ident => $name:literal, $version:literal;)*) => {
        /// A flow log field (AWS's names).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field { $(#[doc = $name] $variant,)* }

        impl Field {
            /// Every field, in AWS's table order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// AWS's name, e.g. `account-id`.
            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name,)* }
            }

            /// The flow log version that introduced the field.
            pub fn version(self) -> u8 {
                match self { $(Field::$variant => $version,)* }
            }
        }
    };
}

fields! {
    Version => "version", 2;
    AccountId => "account-id", 2;
    InterfaceId => "interface-id", 2;
    Srcaddr => "srcaddr", 2;
    Dstaddr => "dstaddr", 2;
    Srcport => "srcport", 2;
    Dstport => "dstport", 2;
    Protocol => "protocol", 2;
    Packets => "packets", 2;
    Bytes => "bytes", 2;
    Start => "start", 2;
    End => "end", 2;
    Action => "action", 2;
    LogStatus => "log-status", 2;
    VpcId => "vpc-id", 3;
    SubnetId => "subnet-id", 3;
    InstanceId => "instance-id", 3;
    TcpFlags => "tcp-flags", 3;
    Type => "type", 3;
    PktSrcaddr => "pkt-srcaddr", 3;
    PktDstaddr => "pkt-dstaddr", 3;
    Region => "region", 4;
    AzId => "az-id", 4;
    SublocationType => "sublocation-type", 4;
    SublocationId => "sublocation-id", 4;
    PktSrcAwsService => "pkt-src-aws-service", 5;
    PktDstAwsService => "pkt-dst-aws-service", 5;
    FlowDirection => "flow-direction", 5;
    TrafficPath => "traffic-path", 5;
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Field, String> {
        Field::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown flow log field '{s}' (mirador writes the version 2-5 fields)")
            })
    }
}

/// The ordered field list of a flow log.
///
/// Deserializes from AWS's `LogFormat` string (`${version} ${srcaddr} ...`) or
/// plain space-separated names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    fields: Vec<Field>,
}

impl Default for Format {
    /// AWS's default format.
    fn default() -> Self {
        Format::default_v2()
    }
}

impl Format {
    /// AWS's default format: the version-2 fields in table order.
    pub fn default_v2() -> Format {
        Format {
            fields: Field::ALL
                .iter()
                .copied()
                .filter(|f| f.version() == 2)
                .collect(),
        }
    }

    /// A custom format: AWS's `LogFormat` (`${version} ${vpc-id} ...`) or
    /// plain space-separated names.
    ///
    /// # Errors
    ///
    /// An unknown or repeated field, or an empty list, named in the message.
    pub fn parse(s: &str) -> Result<Format, String> {
        let mut fields = Vec::new();
        for tok in s.split_whitespace() {
            let name = tok
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or(tok);
            let f: Field = name.parse()?;
            if fields.contains(&f) {
                return Err(format!("flow log field '{name}' given twice"));
            }
            fields.push(f);
        }
        if fields.is_empty() {
            return Err("empty flow log format".to_string());
        }
        Ok(Format { fields })
    }

    /// The fields in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Whether the format has `field`.
    pub fn has(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }

    /// The record version: the highest version among the fields (AWS).
    pub fn version(&self) -> u8 {
        self.fields.iter().map(|f| f.version()).max().unwrap_or(2)
    }

    /// The header line: the field names, space-separated.
    pub fn header(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// AWS's `LogFormat` string for this list.
    pub fn log_format(&self) -> String {
        self.fields
            .iter()
            .map(|f| format!("${{{}}}", f.name()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Format;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a flow log format such as \"${version} ${account-id} ${srcaddr}\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Format, E> {
                Format::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// AWS's `MaxAggregationInterval` values, in seconds.
pub const AGGREGATION_INTERVALS: [u32; 2] = [60, 600];

/// `outputs.vpc-flow-logs`: flow records in the VPC Flow Logs text format,
/// written into files laid out as AWS lays them out in S3, so that a folder
/// synced to a bucket is read by the same Athena table as AWS's own logs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VpcFlowLogsOutput {
    /// `enabled` (default no).
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
    /// `directory`: the folder that plays the bucket prefix (default
    /// `vpc-flow-logs`); files go under `AWSLogs/{account}/vpcflowlogs/…`.
    #[serde(deserialize_with = "de_directory")]
    pub directory: String,
    /// `format`: the field list, AWS `LogFormat` syntax or plain names
    /// (default: AWS's default version-2 format).
    pub format: Format,
    /// `aggregation-interval`: seconds, 60 or 600 as AWS allows (default 60,
    /// what AWS uses on Nitro instances).
    #[serde(deserialize_with = "de_aggregation_interval")]
    pub aggregation_interval: u32,
    /// `rotate-interval`: seconds of event time per file (default 300, AWS's
    /// 5-minute delivery), 60..=86400.
    #[serde(deserialize_with = "de_rotate_interval")]
    pub rotate_interval: u32,
    /// `gzip`: compress files, as AWS delivers them (default yes).
    #[serde(deserialize_with = "de_bool")]
    pub gzip: bool,
    /// `account-id`: for sessions without their own (default none: `-` in
    /// records, `unknown` in paths).
    #[serde(deserialize_with = "de_account_id")]
    pub account_id: Option<String>,
    /// `region`: for sessions without their own (default none).
    #[serde(deserialize_with = "de_region")]
    pub region: Option<String>,
    /// `flow-log-id`: the `fl-…` id in file names (default `fl-mirador`).
    #[serde(deserialize_with = "de_flow_log_id")]
    pub flow_log_id: String,
    /// `hive-compatible-partitions`: AWS's `HiveCompatiblePartitions` layout
    /// (`aws-account-id=…/…/year=…`; default no).
    #[serde(deserialize_with = "de_bool")]
    pub hive_compatible_partitions: bool,
    /// `per-hour-partition`: AWS's `PerHourPartition` (default no).
    #[serde(deserialize_with = "de_bool")]
    pub per_hour_partition: bool,
    /// `max-open-files`: files kept open at once (default 64, 1..=4096); at
    /// the cap the least recently written is closed, and a later record for
    /// it starts a new file.
    #[serde(deserialize_with = "de_max_open_files")]
    pub max_open_files: usize,
}

impl Default for VpcFlowLogsOutput {
    fn default() -> Self {
        VpcFlowLogsOutput {
            enabled: false,
            directory: "vpc-flow-logs".to_string(),
            format: Format::default_v2(),
            aggregation_interval: 60,
            rotate_interval: 300,
            gzip: true,
            account_id: None,
            region: None,
            flow_log_id: "fl-mirador".to_string(),
            hive_compatible_partitions: false,
            per_hour_partition: false,
            max_open_files: 64,
        }
    }
}

/// A visitor for a number in `range`, with the message naming what is allowed.
struct Bounded {
    ok: fn(u64) -> bool,
    what: &'static str,
}

impl Visitor<'_> for Bounded {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        if (self.ok)(v) {
            Ok(v)
        } else {
            Err(E::custom(format_args!(
                "invalid value {v}, expected {}",
                self.what
            )))
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format_args!(
                "invalid value {v}, expected {}",
                self.what
            ))),
        }
    }
    // `--set` values and quoted numbers arrive as strings.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        match v.trim().parse::<u64>() {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::custom(format_args!(
                "invalid value '{v}', expected {}",
                self.what
            ))),
        }
    }
}

fn de_aggregation_interval<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = d.deserialize_any(Bounded {
        ok: |v| AGGREGATION_INTERVALS.iter().any(|&a| u64::from(a) == v),
        what: "60 or 600 (seconds; AWS's MaxAggregationInterval values)",
    })?;
    Ok(v as u32)
}

fn de_rotate_interval<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    // At least a minute: file names carry the window's start to the minute
    // (AWS's YYYYMMDDTHHmmZ), so shorter windows would share a stamp.
    let v = d.deserialize_any(Bounded {
        ok: |v| (60..=86_400).contains(&v),
        what: "60..=86400 (seconds)",
    })?;
    Ok(v as u32)
}

fn de_max_open_files<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let v = d.deserialize_any(Bounded {
        ok: |v| (1..=4096).contains(&v),
        what: "1..=4096",
    })?;
    Ok(v as usize)
}

/// Checks an AWS account id: 12 digits.
pub fn check_account_id(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "invalid value '{s}', expected a 12-digit AWS account id"
        ))
    }
}

/// Whether `s` is `prefix` followed by lowercase letters and digits: the
/// shape of AWS resource ids (`vpc-0123456789abcdef0`). Light on purpose:
/// the length after the prefix has changed over the years (8, then 17).
fn is_resource_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn check_resource_id(s: &str, prefix: &str, what: &str) -> Result<(), String> {
    if is_resource_id(s, prefix) {
        Ok(())
    } else {
        Err(format!(
            "invalid value '{s}', expected {what} ('{prefix}' and lowercase letters or digits)"
        ))
    }
}

/// Whether `s` is lowercase letters, digits and inner `-`: region names
/// (`us-east-1`) and AZ ids (`use1-az1`). They go into records, where a space
/// would shift every later field, and into file paths.
fn is_dashed_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a VPC id (`vpc-…`).
pub fn check_vpc_id(s: &str) -> Result<(), String> {
    check_resource_id(s, "vpc-", "a VPC id")
}

/// Checks a subnet id (`subnet-…`).
pub fn check_subnet_id(s: &str) -> Result<(), String> {
    check_resource_id(s, "subnet-", "a subnet id")
}

/// Checks an instance id (`i-…`).
pub fn check_instance_id(s: &str) -> Result<(), String> {
    check_resource_id(s, "i-", "an instance id")
}

/// Checks a flow log id (`fl-…`); it goes into file names.
pub fn check_flow_log_id(s: &str) -> Result<(), String> {
    check_resource_id(s, "fl-", "a flow log id")
}

/// Checks a region name (`us-east-1`).
pub fn check_region(s: &str) -> Result<(), String> {
    if is_dashed_name(s) && s.contains('-') {
        Ok(())
    } else {
        Err(format!(
            "invalid value '{s}', expected a region name such as us-east-1"
        ))
    }
}

/// Checks an availability zone id (`use1-az1`; the id, not the name
/// `us-east-1a`, which differs between accounts).
pub fn check_az_id(s: &str) -> Result<(), String> {
    if is_dashed_name(s) && s.contains("-az") {
        Ok(())
    } else {
        Err(format!(
            "invalid value '{s}', expected an availability zone id such as use1-az1"
        ))
    }
}

/// A visitor for an optional id string checked by `check`. Account ids may
/// also come as YAML integers (unquoted), zero-padded back to 12 digits.
struct Id {
    check: fn(&str) -> Result<(), String>,
    numeric: bool,
}

impl Visitor<'_> for Id {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if self.numeric {
            self.visit_str(&format!("{v:012}"))
        } else {
            self.visit_str(&v.to_string())
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        (self.check)(v).map_err(E::custom)?;
        Ok(Some(v.to_string()))
    }
}

fn de_id<'de, D: Deserializer<'de>>(
    d: D,
    check: fn(&str) -> Result<(), String>,
) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Id {
        check,
        numeric: false,
    })
}

/// `deserialize_with` helper: an optional 12-digit account id.
pub(crate) fn de_account_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Id {
        check: check_account_id,
        numeric: true,
    })
}

/// `deserialize_with` helper: an optional VPC id.
pub(crate) fn de_vpc_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d, check_vpc_id)
}

/// `deserialize_with` helper: an optional subnet id.
pub(crate) fn de_subnet_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d, check_subnet_id)
}

/// `deserialize_with` helper: an optional instance id.
pub(crate) fn de_instance_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d, check_instance_id)
}

/// `deserialize_with` helper: an optional region name.
pub(crate) fn de_region<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d, check_region)
}

/// `deserialize_with` helper: an optional AZ id.
pub(crate) fn de_az_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    de_id(d, check_az_id)
}

fn de_directory<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(de::Error::custom(
            "expected a folder name, not an empty string",
        ));
    }
    Ok(s)
}

fn de_flow_log_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_id(d, check_flow_log_id)?
        .ok_or_else(|| de::Error::custom("expected a flow log id such as fl-mirador"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, ConfigError, Origin};

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::load("sensor.yaml", text, &[])
    }

    /// Asserts the error names the file, the line and the key, and says `needle`.
    fn assert_err(text: &str, line: u32, key: &str, needle: &str) {
        let e = load(text).expect_err("expected an error");
        let s = e.to_string();
        assert_eq!(e.origin, Origin::File("sensor.yaml".into()), "{s}");
        assert_eq!((e.line, e.key.as_str()), (Some(line), key), "{s}");
        assert!(e.column.is_some(), "{s}");
        assert!(s.starts_with(&format!("sensor.yaml:{line}:")), "{s}");
        assert!(s.contains(needle), "{s} should contain {needle}");
    }

    #[test]
    fn section_defaults_and_every_key() {
        let c = Config::embedded_default();
        assert_eq!(c.outputs.vpc_flow_logs, VpcFlowLogsOutput::default());
        let d = &c.outputs.vpc_flow_logs;
        assert!(!d.enabled && d.gzip);
        assert_eq!((d.aggregation_interval, d.rotate_interval), (60, 300));
        assert_eq!(d.format, Format::default_v2());
        assert_eq!(d.directory, "vpc-flow-logs");

        let c = load(
            "outputs:\n  vpc-flow-logs:\n    enabled: yes\n    directory: /var/log/flows\n    format: \"${version} ${vpc-id} ${srcaddr} ${tcp-flags} ${flow-direction}\"\n    aggregation-interval: 600\n    rotate-interval: 3600\n    gzip: no\n    account-id: \"012345678901\"\n    region: eu-west-1\n    flow-log-id: fl-0123abcd\n    hive-compatible-partitions: yes\n    per-hour-partition: on\n    max-open-files: 8\n",
        )
        .unwrap();
        let v = &c.outputs.vpc_flow_logs;
        assert!(v.enabled && !v.gzip && v.hive_compatible_partitions && v.per_hour_partition);
        assert_eq!(v.directory, "/var/log/flows");
        assert_eq!(v.format.version(), 5);
        assert_eq!(
            v.format.header(),
            "version vpc-id srcaddr tcp-flags flow-direction"
        );
        assert_eq!((v.aggregation_interval, v.rotate_interval), (600, 3600));
        assert_eq!(v.account_id.as_deref(), Some("012345678901"));
        assert_eq!(v.region.as_deref(), Some("eu-west-1"));
        assert_eq!(v.flow_log_id, "fl-0123abcd");
        assert_eq!(v.max_open_files, 8);

        // Plain names work as well as AWS's ${...} syntax; an unquoted account id
        // is a YAML integer, zero-padded back to 12 digits.
        let c = load(
            "outputs:\n  vpc-flow-logs:\n    format: version srcaddr dstaddr\n    account-id: 12345678901\n",
        )
        .unwrap();
        assert_eq!(c.outputs.vpc_flow_logs.format.fields().len(), 3);
        assert_eq!(
            c.outputs.vpc_flow_logs.account_id.as_deref(),
            Some("012345678901")
        );
    }

    #[test]
    fn section_errors_name_the_key() {
        let at =
            |key: &str, value: &str| format!("outputs:\n  vpc-flow-logs:\n    {key}: {value}\n");
        let k = |key: &str| format!("outputs.vpc-flow-logs.{key}");
        assert_err(
            &at("format", "\"${version} ${srcadr}\""),
            3,
            &k("format"),
            "unknown flow log field 'srcadr'",
        );
        assert_err(
            &at("format", "\"\""),
            3,
            &k("format"),
            "empty flow log format",
        );
        assert_err(
            &at("format", "\"version version\""),
            3,
            &k("format"),
            "given twice",
        );
        assert_err(
            &at("aggregation-interval", "300"),
            3,
            &k("aggregation-interval"),
            "expected 60 or 600",
        );
        assert_err(
            &at("rotate-interval", "0"),
            3,
            &k("rotate-interval"),
            "60..=86400",
        );
        assert_err(&at("gzip", "maybe"), 3, &k("gzip"), "'maybe'");
        assert_err(
            &at("account-id", "\"1234\""),
            3,
            &k("account-id"),
            "12-digit AWS account id",
        );
        assert_err(&at("region", "\"us east\""), 3, &k("region"), "region name");
        assert_err(
            &at("flow-log-id", "x-1"),
            3,
            &k("flow-log-id"),
            "flow log id",
        );
        assert_err(&at("directory", "\"\""), 3, &k("directory"), "folder name");
        assert_err(
            &at("max-open-files", "0"),
            3,
            &k("max-open-files"),
            "1..=4096",
        );
        assert_err(
            &at("enable", "yes"),
            3,
            "outputs.vpc-flow-logs",
            "unknown key 'enable'",
        );
    }

    #[test]
    fn set_overrides_reach_the_section() {
        let sets = [
            ("outputs.vpc-flow-logs.enabled", "yes"),
            ("outputs.vpc-flow-logs.format", "${version} ${az-id}"),
            ("outputs.vpc-flow-logs.aggregation-interval", "600"),
            ("outputs.vpc-flow-logs.account-id", "123456789012"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = Config::load_embedded(&sets).unwrap();
        let v = &c.outputs.vpc_flow_logs;
        assert!(v.enabled);
        assert_eq!(v.format.version(), 4);
        assert_eq!(v.aggregation_interval, 600);
        assert_eq!(v.account_id.as_deref(), Some("123456789012"));
        let bad = [("outputs.vpc-flow-logs.aggregation-interval", "120")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let e = Config::load_embedded(&bad).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--set outputs.vpc-flow-logs.aggregation-interval=120: "),
            "{e}"
        );
    }

    #[test]
    fn session_flow_log_keys() {
        let c = load(
            "mirror:\n  sessions:\n    - vni: 1\n      account-id: \"123456789010\"\n      vpc-id: vpc-abcdefab012345678\n      subnet-id: subnet-aaaaaaaa012345678\n      instance-id: i-01234567890123456\n      region: us-east-1\n      az-id: use1-az4\n    - vni: 2\n",
        )
        .unwrap();
        let s = &c.mirror.sessions;
        assert_eq!(s[0].account_id.as_deref(), Some("123456789010"));
        assert_eq!(s[0].vpc_id.as_deref(), Some("vpc-abcdefab012345678"));
        assert_eq!(s[0].subnet_id.as_deref(), Some("subnet-aaaaaaaa012345678"));
        assert_eq!(s[0].instance_id.as_deref(), Some("i-01234567890123456"));
        assert_eq!(s[0].region.as_deref(), Some("us-east-1"));
        assert_eq!(s[0].az_id.as_deref(), Some("use1-az4"));
        assert!(s[1].account_id.is_none() && s[1].vpc_id.is_none() && s[1].az_id.is_none());

        let one = |key: &str, value: &str| {
            format!("mirror:\n  sessions:\n    - vni: 1\n      {key}: {value}\n")
        };
        for (key, value, needle) in [
            ("account-id", "\"12345678901x\"", "12-digit"),
            ("vpc-id", "subnet-1", "a VPC id"),
            ("subnet-id", "vpc-1", "a subnet id"),
            ("instance-id", "\"i-\"", "an instance id"),
            ("region", "US-EAST-1", "region name"),
            ("az-id", "us-east-1a", "availability zone id"),
        ] {
            assert_err(
                &one(key, value),
                4,
                &format!("mirror.sessions[0].{key}"),
                needle,
            );
        }
    }

    #[test]
    fn default_format_is_the_version_2_list() {
        let f = Format::default_v2();
        assert_eq!(
            f.header(),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        );
        assert_eq!(f.version(), 2);
        assert_eq!(Format::parse(&f.log_format()).unwrap(), f);
        assert_eq!(Format::default(), f);
    }

    #[test]
    fn formats_parse_or_say_why() {
        let f = Format::parse("${version} ${vpc-id} flow-direction").unwrap();
        assert_eq!(f.version(), 5);
        assert!(f.has(Field::VpcId) && !f.has(Field::Srcaddr));
        assert!(Format::parse("version nope").unwrap_err().contains("nope"));
        assert!(
            Format::parse("${version} ${version}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(Format::parse("  ").is_err());
        // Transit Gateway (version 6) fields are not ENI flow log fields.
        assert!(Format::parse("version tgw-id").is_err());
    }

    #[test]
    fn id_checks() {
        assert!(check_account_id("123456789012").is_ok());
        assert!(check_account_id("12345678901").is_err());
        assert!(check_account_id("12345678901a").is_err());
        assert!(check_vpc_id("vpc-0123456789abcdef0").is_ok());
        assert!(check_vpc_id("vpc-").is_err());
        assert!(check_vpc_id("subnet-1").is_err());
        assert!(check_vpc_id("vpc-1 2").is_err());
        assert!(check_subnet_id("subnet-aaaaaaaa012345678").is_ok());
        assert!(check_instance_id("i-01234567890123456").is_ok());
        assert!(check_instance_id("i-").is_err());
        assert!(check_region("us-east-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        assert!(check_region("us east 1").is_err());
        assert!(check_region("../etc").is_err());
        assert!(check_az_id("use1-az1").is_ok());
        assert!(check_az_id("us-east-1a").is_err());
        assert!(check_flow_log_id("fl-1234abcd").is_ok());
        assert!(check_flow_log_id("fl-a_b").is_err());
    }
}
