//! VPC Flow Logs records: AWS's space-separated text format, written and
//! parsed with the same field list.
//!
//! A [`Format`] is the ordered field list of a flow log (AWS's default
//! version-2 list, or any custom list of version 2–5 fields, given as AWS's
//! `LogFormat` string `${version} ${srcaddr} ...` or as plain names). A
//! [`Record`] holds one unidirectional flow's values; a field that does not
//! apply or is unknown is written `-`, as AWS writes it. The file header
//! line is the field names in order (AWS's Athena DDL skips one header line).
//!
//! ```
//! use mirador_engine::vpcflow::{Format, Record};
//!
//! let fmt = Format::default_v2();
//! let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
//! let rec = Record::parse(&fmt, line).unwrap();
//! assert_eq!(rec.dstport, Some(22));
//! assert_eq!(rec.to_line(&fmt), line);
//! ```

use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

use mirador_wire::Timestamp;

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
            .ok_or_else(|| format!("unknown flow log field '{s}'"))
    }
}

/// The ordered field list of a flow log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    fields: Vec<Field>,
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

/// One flow log record. `None` is written `-`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)] // the fields are AWS's, documented in `Field`
pub struct Record {
    pub version: Option<u8>,
    pub account_id: Option<String>,
    pub interface_id: Option<String>,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub action: Option<String>,
    pub log_status: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_id: Option<String>,
    pub tcp_flags: Option<u8>,
    pub r#type: Option<String>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub region: Option<String>,
    pub az_id: Option<String>,
    pub sublocation_type: Option<String>,
    pub sublocation_id: Option<String>,
    pub pkt_src_aws_service: Option<String>,
    pub pkt_dst_aws_service: Option<String>,
    pub flow_direction: Option<String>,
    pub traffic_path: Option<u8>,
}

/// Why a line did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based field position, 0 for a wrong field count.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.position == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "field {}: {}", self.position, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

fn opt<T: FromStr>(s: &str) -> Result<Option<T>, String> {
    if s == "-" {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| format!("invalid value '{s}'"))
}

fn put<T: std::fmt::Display>(out: &mut String, v: &Option<T>) {
    match v {
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => out.push('-'),
    }
}

impl Record {
    /// Appends the record's line (no newline) in `format`'s field order.
    pub fn write(&self, format: &Format, out: &mut String) {
        for (i, f) in format.fields().iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            match f {
                Field::Version => put(out, &self.version),
                Field::AccountId => put(out, &self.account_id),
                Field::InterfaceId => put(out, &self.interface_id),
                Field::Srcaddr => put(out, &self.srcaddr),
                Field::Dstaddr => put(out, &self.dstaddr),
                Field::Srcport => put(out, &self.srcport),
                Field::Dstport => put(out, &self.dstport),
                Field::Protocol => put(out, &self.protocol),
                Field::Packets => put(out, &self.packets),
                Field::Bytes => put(out, &self.bytes),
                Field::Start => put(out, &self.start),
                Field::End => put(out, &self.end),
                Field::Action => put(out, &self.action),
                Field::LogStatus => put(out, &self.log_status),
                Field::VpcId => put(out, &self.vpc_id),
                Field::SubnetId => put(out, &self.subnet_id),
                Field::InstanceId => put(out, &self.instance_id),
                Field::TcpFlags => put(out, &self.tcp_flags),
                Field::Type => put(out, &self.r#type),
                Field::PktSrcaddr => put(out, &self.pkt_srcaddr),
                Field::PktDstaddr => put(out, &self.pkt_dstaddr),
                Field::Region => put(out, &self.region),
                Field::AzId => put(out, &self.az_id),
                Field::SublocationType => put(out, &self.sublocation_type),
                Field::SublocationId => put(out, &self.sublocation_id),
                Field::PktSrcAwsService => put(out, &self.pkt_src_aws_service),
                Field::PktDstAwsService => put(out, &self.pkt_dst_aws_service),
                Field::FlowDirection => put(out, &self.flow_direction),
                Field::TrafficPath => put(out, &self.traffic_path),
            }
        }
    }

    /// The record's line in `format`.
    pub fn to_line(&self, format: &Format) -> String {
        let mut s = String::new();
        self.write(format, &mut s);
        s
    }

    /// Parses one line written in `format`.
    ///
    /// # Errors
    ///
    /// A wrong field count or a value that does not parse, with its position.
    pub fn parse(format: &Format, line: &str) -> Result<Record, ParseError> {
        let values: Vec<&str> = line.split(' ').collect();
        if values.len() != format.fields().len() {
            return Err(ParseError {
                position: 0,
                message: format!(
                    "{} fields, the format has {}",
                    values.len(),
                    format.fields().len()
                ),
            });
        }
        let mut r = Record::default();
        for (i, (f, v)) in format.fields().iter().zip(values).enumerate() {
            let err = |message| ParseError {
                position: i + 1,
                message,
            };
            match f {
                Field::Version => r.version = opt(v).map_err(err)?,
                Field::AccountId => r.account_id = opt(v).map_err(err)?,
                Field::InterfaceId => r.interface_id = opt(v).map_err(err)?,
                Field::Srcaddr => r.srcaddr = opt(v).map_err(err)?,
                Field::Dstaddr => r.dstaddr = opt(v).map_err(err)?,
                Field::Srcport => r.srcport = opt(v).map_err(err)?,
                Field::Dstport => r.dstport = opt(v).map_err(err)?,
                Field::Protocol => r.protocol = opt(v).map_err(err)?,
                Field::Packets => r.packets = opt(v).map_err(err)?,
                Field::Bytes => r.bytes = opt(v).map_err(err)?,
                Field::Start => r.start = opt(v).map_err(err)?,
                Field::End => r.end = opt(v).map_err(err)?,
                Field::Action => r.action = opt(v).map_err(err)?,
                Field::LogStatus => r.log_status = opt(v).map_err(err)?,
                Field::VpcId => r.vpc_id = opt(v).map_err(err)?,
                Field::SubnetId => r.subnet_id = opt(v).map_err(err)?,
                Field::InstanceId => r.instance_id = opt(v).map_err(err)?,
                Field::TcpFlags => r.tcp_flags = opt(v).map_err(err)?,
                Field::Type => r.r#type = opt(v).map_err(err)?,
                Field::PktSrcaddr => r.pkt_srcaddr = opt(v).map_err(err)?,
                Field::PktDstaddr => r.pkt_dstaddr = opt(v).map_err(err)?,
                Field::Region => r.region = opt(v).map_err(err)?,
                Field::AzId => r.az_id = opt(v).map_err(err)?,
                Field::SublocationType => r.sublocation_type = opt(v).map_err(err)?,
                Field::SublocationId => r.sublocation_id = opt(v).map_err(err)?,
                Field::PktSrcAwsService => r.pkt_src_aws_service = opt(v).map_err(err)?,
                Field::PktDstAwsService => r.pkt_dst_aws_service = opt(v).map_err(err)?,
                Field::FlowDirection => r.flow_direction = opt(v).map_err(err)?,
                Field::TrafficPath => r.traffic_path = opt(v).map_err(err)?,
            }
        }
        Ok(r)
    }
}

/// The `tcp-flags` contribution of one TCP packet's flags byte, as AWS logs
/// it: FIN 1, SYN 2, RST 4, and SYN-ACK 18 for a packet with both SYN and
/// ACK; a plain ACK (or PSH, URG) contributes nothing. A record's value is
/// the OR of its packets' contributions.
pub fn aws_tcp_flags(flags: u8) -> u8 {
    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;
    const ACK: u8 = 0x10;
    let mut v = flags & (FIN | SYN | RST);
    if flags & (SYN | ACK) == SYN | ACK {
        v |= ACK;
    }
    v
}

/// Where AWS puts flow log files in S3, so that files mirador writes into
/// a local folder can be synced under the same keys and read by the same
/// Athena table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Layout {
    /// The bucket prefix (may be empty).
    pub prefix: String,
    /// The account id.
    pub account: String,
    /// The region.
    pub region: String,
    /// The flow log id (`fl-…`).
    pub flow_log_id: String,
    /// Hive-compatible partitions (`aws-account-id=…/…/year=…`).
    pub hive: bool,
    /// Hourly partitions.
    pub per_hour: bool,
}

impl S3Layout {
    /// The object key of a file delivered at `t`:
    /// `prefix/AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{hh}/]`
    /// (or the Hive form) then
    /// `{account}_vpcflowlogs_{region}_{flow_log_id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz`.
    pub fn key(&self, t: Timestamp, hash: &str) -> String {
        let mut stamp = Vec::new();
        crate::eve::push_timestamp(&mut stamp, t);
        let stamp = String::from_utf8(stamp).unwrap_or_default();
        // "2018-06-20T16:20:00.000000+0000"
        let (y, mo, d) = (&stamp[0..4], &stamp[5..7], &stamp[8..10]);
        let (h, mi) = (&stamp[11..13], &stamp[14..16]);
        let (account, region) = (&self.account, &self.region);
        let mut key = String::new();
        if !self.prefix.is_empty() {
            key.push_str(self.prefix.trim_end_matches('/'));
            key.push('/');
        }
        if self.hive {
            let _ = write!(
                key,
                "AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={y}/month={mo}/day={d}/"
            );
            if self.per_hour {
                let _ = write!(key, "hour={h}/");
            }
        } else {
            let _ = write!(key, "AWSLogs/{account}/vpcflowlogs/{region}/{y}/{mo}/{d}/");
            if self.per_hour {
                let _ = write!(key, "{h}/");
            }
        }
        let _ = write!(
            key,
            "{account}_vpcflowlogs_{region}_{}_{y}{mo}{d}T{h}{mi}Z_{hash}.log.gz",
            self.flow_log_id
        );
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's literal sample records (VPC Flow Logs examples page).
    const SAMPLES: &[(&str, &str)] = &[
        (
            "",
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
        ),
        (
            "",
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
        ),
        (
            "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status",
            "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43418 10.0.0.62 52.213.180.42 6 632 12 1566848875 1566848933 ACCEPT 18 OK",
        ),
    ];

    #[test]
    fn aws_samples_round_trip() {
        for (fmt, line) in SAMPLES {
            let fmt = if fmt.is_empty() {
                Format::default_v2()
            } else {
                Format::parse(fmt).unwrap()
            };
            let rec = Record::parse(&fmt, line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(rec.to_line(&fmt), *line);
        }
        let fmt = Format::parse(SAMPLES[2].0).unwrap();
        let rec = Record::parse(&fmt, SAMPLES[2].1).unwrap();
        assert_eq!(fmt.version(), 3);
        assert_eq!(rec.tcp_flags, Some(18));
        assert_eq!(rec.bytes, Some(632));
        assert_eq!(rec.packets, Some(12));
        assert_eq!(rec.r#type.as_deref(), Some("IPv4"));
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
    }

    #[test]
    fn every_field_round_trips_in_a_custom_format() {
        let all: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        let fmt = Format::parse(&all.join(" ")).unwrap();
        assert_eq!(fmt.version(), 5);
        let rec = Record {
            version: Some(5),
            account_id: Some("123456789012".into()),
            interface_id: Some("eni-0123".into()),
            srcaddr: Some("10.0.1.15".parse().unwrap()),
            dstaddr: Some("2600:1f18::1".parse().unwrap()),
            srcport: Some(443),
            dstport: Some(50000),
            protocol: Some(6),
            packets: Some(3),
            bytes: Some(180),
            start: Some(1_700_000_000),
            end: Some(1_700_000_060),
            action: Some("ACCEPT".into()),
            log_status: Some("OK".into()),
            vpc_id: Some("vpc-1".into()),
            subnet_id: Some("subnet-1".into()),
            instance_id: Some("i-1".into()),
            tcp_flags: Some(19),
            r#type: Some("IPv6".into()),
            pkt_srcaddr: Some("10.0.1.15".parse().unwrap()),
            pkt_dstaddr: Some("10.0.2.20".parse().unwrap()),
            region: Some("us-east-1".into()),
            az_id: Some("use1-az1".into()),
            sublocation_type: None,
            sublocation_id: None,
            pkt_src_aws_service: Some("AMAZON".into()),
            pkt_dst_aws_service: None,
            flow_direction: Some("egress".into()),
            traffic_path: Some(8),
        };
        let line = rec.to_line(&fmt);
        assert_eq!(Record::parse(&fmt, &line).unwrap(), rec);
        assert_eq!(line.split(' ').count(), Field::ALL.len());
    }

    #[test]
    fn bad_lines_and_formats_say_where() {
        let f = Format::default_v2();
        assert_eq!(Record::parse(&f, "2 1 2").unwrap_err().position, 0);
        let e = Record::parse(
            &f,
            "2 123 eni-1 10.0.0.1 10.0.0.2 70000 22 6 1 1 1 2 ACCEPT OK",
        )
        .unwrap_err();
        assert_eq!(e.position, 6);
        assert!(Format::parse("version nope").unwrap_err().contains("nope"));
        assert!(
            Format::parse("${version} ${version}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(Format::parse("  ").is_err());
    }

    #[test]
    fn tcp_flags_follow_aws() {
        assert_eq!(aws_tcp_flags(0x02), 2); // SYN
        assert_eq!(aws_tcp_flags(0x12), 18); // SYN-ACK
        assert_eq!(aws_tcp_flags(0x10), 0); // plain ACK is not logged
        assert_eq!(aws_tcp_flags(0x18), 0); // PSH-ACK neither
        assert_eq!(aws_tcp_flags(0x11), 1); // FIN-ACK: FIN
        assert_eq!(aws_tcp_flags(0x04), 4); // RST
        // OR-ed over an interval: SYN-ACK then FIN = 19.
        assert_eq!(aws_tcp_flags(0x12) | aws_tcp_flags(0x11), 19);
    }

    #[test]
    fn s3_keys_match_aws_layout() {
        let t = Timestamp::from_secs_nanos(1_529_511_600, 0); // 2018-06-20T16:20:00Z
        let mut l = S3Layout {
            prefix: String::new(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            flow_log_id: "fl-1234abcd".into(),
            hive: false,
            per_hour: false,
        };
        assert_eq!(
            l.key(t, "fe123456"),
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz"
        );
        (l.prefix, l.flow_log_id, l.hive, l.per_hour) = ("logs/".into(), "fl-1".into(), true, true);
        assert_eq!(
            l.key(t, "h"),
            "logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/hour=16/123456789012_vpcflowlogs_us-east-1_fl-1_20180620T1620Z_h.log.gz"
        );
    }
}
