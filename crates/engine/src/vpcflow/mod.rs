//! VPC Flow Logs records: AWS's space-separated text format, written and
//! parsed with the same field list, and the pieces that produce them.
//!
//! A [`Format`] is the ordered field list of a flow log (AWS's default
//! version-2 list, or any custom list of version 2–5 fields, given as AWS's
//! `LogFormat` string `${version} ${srcaddr} ...` or as plain names; it lives
//! in `mirador-config` so that a bad `format` is a load error). A [`Record`]
//! holds one unidirectional flow's values for one aggregation interval; a
//! field that does not apply or is unknown is written `-`, as AWS writes it.
//! The file header line is the field names in order (AWS's Athena DDL skips
//! one header line).
//!
//! * [`aggregate`] (pure): [`DirWindow`], the per-direction accumulator a flow
//!   keeps, which closes an [`Interval`] per aggregation window, and
//!   [`build_record`], which turns an interval plus what is known of the flow
//!   and its mirror session ([`FlowFacts`], [`SessionFacts`]) into a record.
//! * [`writer`] (I/O, the only piece that does any): [`VpcFlowWriter`] writes
//!   records into files named and laid out as AWS delivers them to S3
//!   ([`S3Layout`]), rotated by event time.
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

pub mod aggregate;
pub mod writer;

pub use aggregate::{DirWindow, FlowFacts, Interval, SessionFacts, build_record};
pub use mirador_config::vpcflow::{Field, Format};
pub use writer::{VpcFlowWriter, WriteError, WriterOptions, WriterStats};

use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

use mirador_wire::Timestamp;

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
        // Counted before anything is kept: a long line costs no allocation.
        let count = line.split(' ').count();
        if count != format.fields().len() {
            return Err(ParseError {
                position: 0,
                message: format!("{count} fields, the format has {}", format.fields().len()),
            });
        }
        let mut r = Record::default();
        for (i, (f, v)) in format.fields().iter().zip(line.split(' ')).enumerate() {
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
    /// The bucket prefix (may be empty; may hold `/`).
    pub prefix: String,
    /// The flow log id (`fl-…`).
    pub flow_log_id: String,
    /// Hive-compatible partitions (`aws-account-id=…/…/year=…`).
    pub hive: bool,
    /// Hourly partitions.
    pub per_hour: bool,
    /// Gzip-compressed files (`.log.gz`, as AWS delivers them) rather than
    /// plain text (`.log`).
    pub gzip: bool,
}

impl S3Layout {
    /// The layout `outputs.vpc-flow-logs` asks for, with no prefix (the
    /// writer's folder plays the bucket prefix).
    pub fn from_config(c: &mirador_config::VpcFlowLogsOutput) -> S3Layout {
        S3Layout {
            prefix: String::new(),
            flow_log_id: c.flow_log_id.clone(),
            hive: c.hive_compatible_partitions,
            per_hour: c.per_hour_partition,
            gzip: c.gzip,
        }
    }

    /// The object key of a file for `account` and `region` stamped `t`:
    /// `prefix/AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{hh}/]`
    /// (or the Hive form) then
    /// `{account}_vpcflowlogs_{region}_{flow_log_id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz`.
    ///
    /// The key doubles as a relative file path, so `account`, `region`,
    /// `flow_log_id` and `hash` that are not plain names (letters, digits,
    /// `-`; at most 64 bytes) are written `unknown`: a record's account
    /// can never lead the path out of its folder.
    pub fn key(&self, account: &str, region: &str, t: Timestamp, hash: &str) -> String {
        let mut stamp = Vec::new();
        crate::eve::push_timestamp(&mut stamp, t);
        // "2018-06-20T16:20:00.000000+0000": ASCII, at least 26 bytes, so
        // the slices below cannot fail; `get` keeps that a non-panic anyway.
        let stamp = String::from_utf8(stamp).unwrap_or_default();
        let at = |r: std::ops::Range<usize>| stamp.get(r).unwrap_or("00");
        let (y, mo, d) = (at(0..4), at(5..7), at(8..10));
        let (h, mi) = (at(11..13), at(14..16));
        let (account, region) = (path_part(account), path_part(region));
        let (id, hash) = (path_part(&self.flow_log_id), path_part(hash));
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
        let ext = if self.gzip { "log.gz" } else { "log" };
        let _ = write!(
            key,
            "{account}_vpcflowlogs_{region}_{id}_{y}{mo}{d}T{h}{mi}Z_{hash}.{ext}"
        );
        key
    }
}

/// `s` when it is a safe path component and file name part (ASCII letters,
/// digits and `-`, with at least one letter or digit, at most 64 bytes),
/// else `unknown`.
pub(crate) fn path_part(s: &str) -> &str {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_alphanumeric());
    if ok { s } else { "unknown" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's literal sample records: every one in reference/aws.md §4, plus
    /// the ICMP and REJECT/SKIPDATA records of the same AWS examples page
    /// (ICMP type and code are not ports: AWS writes `0 0`).
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
        (
            "",
            "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
        ),
        (
            "",
            "2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
        ),
        (
            "",
            "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
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
        let nodata = Record::parse(&Format::default_v2(), SAMPLES[1].1).unwrap();
        assert_eq!(nodata.log_status.as_deref(), Some("NODATA"));
        assert_eq!(
            (nodata.srcaddr, nodata.packets, nodata.action),
            (None, None, None)
        );
        let icmp = Record::parse(&Format::default_v2(), SAMPLES[5].1).unwrap();
        assert_eq!(
            (icmp.srcport, icmp.dstport, icmp.protocol),
            (Some(0), Some(0), Some(1))
        );
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
            flow_log_id: "fl-1234abcd".into(),
            hive: false,
            per_hour: false,
            gzip: true,
        };
        // AWS's own example key.
        assert_eq!(
            l.key("123456789012", "us-east-1", t, "fe123456"),
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz"
        );
        (l.prefix, l.flow_log_id, l.hive, l.per_hour) = ("logs/".into(), "fl-1".into(), true, true);
        assert_eq!(
            l.key("123456789012", "us-east-1", t, "h"),
            "logs/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/hour=16/123456789012_vpcflowlogs_us-east-1_fl-1_20180620T1620Z_h.log.gz"
        );
        (l.prefix, l.hive, l.per_hour, l.gzip) = (String::new(), false, false, false);
        // Names that could leave the folder or split the file name are replaced.
        assert_eq!(
            l.key("../..", "us east", t, "a/b"),
            "AWSLogs/unknown/vpcflowlogs/unknown/2018/06/20/unknown_vpcflowlogs_unknown_fl-1_20180620T1620Z_unknown.log"
        );
        // Extreme times do not panic.
        for t in [i64::MIN, -1, 0, i64::MAX] {
            let k = l.key("a", "b", Timestamp::from_nanos(t), "h");
            assert!(k.starts_with("AWSLogs/a/vpcflowlogs/b/"), "{k}");
        }
    }
}
