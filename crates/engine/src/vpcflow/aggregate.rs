//! Aggregation of one flow direction's packets into AWS aggregation windows,
//! and the record built from a closed window. Pure: time comes with each
//! packet, and nothing here reads a clock or writes a file.
//!
//! AWS aggregates each (interface, 5-tuple) direction over an aggregation
//! interval of 60 or 600 seconds and writes one record per interval in which
//! the direction had packets. mirador's windows are aligned to multiples of
//! the interval in Unix time, so the same capture yields the same records
//! whatever the worker count or the moment of replay. Empty windows yield no
//! record (AWS's `NODATA` and `SKIPDATA` describe an interface, not a flow,
//! and mirador never skips).
//!
//! ```
//! use mirador_engine::vpcflow::{DirWindow, FlowFacts, Format, SessionFacts, build_record};
//! use mirador_wire::Timestamp;
//!
//! let t = |s| Timestamp::from_secs_nanos(s, 0);
//! let mut w = DirWindow::new();
//! assert!(w.on_packet(t(1_700_000_001), 60, Some(0x02), 60).is_none()); // SYN
//! assert!(w.on_packet(t(1_700_000_003), 52, Some(0x10), 60).is_none()); // ACK
//! // A packet in the next minute closes the first window.
//! let iv = w.on_packet(t(1_700_000_045), 40, Some(0x11), 60).unwrap();
//! assert_eq!((iv.packets, iv.bytes, iv.tcp_flags), (2, 112, 2));
//!
//! let session = SessionFacts { account_id: Some("123456789012".into()), ..Default::default() };
//! let flow = FlowFacts::new(
//!     "10.0.1.15".parse().unwrap(), "203.0.113.9".parse().unwrap(), 50000, 443, 6, &session,
//! );
//! let rec = build_record(&Format::default_v2(), &iv, &flow);
//! assert_eq!(
//!     rec.to_line(&Format::default_v2()),
//!     "2 123456789012 - 10.0.1.15 203.0.113.9 50000 443 6 2 112 1700000001 1700000003 ACCEPT OK",
//! );
//! ```

use std::net::{IpAddr, Ipv4Addr};

use mirador_config::{Direction, Session, VpcFlowLogsOutput};
use mirador_wire::Timestamp;

use super::{Format, Record, aws_tcp_flags};

/// One closed aggregation window of one flow direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Packets in the window.
    pub packets: u64,
    /// Bytes in the window, as the caller counted them (AWS counts IP packet
    /// bytes: pass the IP total length, not the mirrored, possibly truncated
    /// capture length).
    pub bytes: u64,
    /// AWS's `tcp-flags`: the OR of [`aws_tcp_flags`] over the window's
    /// packets (FIN 1, SYN 2, RST 4, SYN-ACK 18); 0 for other protocols, as
    /// AWS writes when no logged flag was seen.
    pub tcp_flags: u8,
    /// Unix seconds of the first packet in the window (AWS's `start`).
    pub start: i64,
    /// Unix seconds of the last packet in the window (AWS's `end`).
    pub end: i64,
}

/// The accumulator one flow direction keeps for the current aggregation
/// window. Small and `Copy` because every flow holds two.
///
/// The window is implied by the first packet's time (windows are multiples
/// of the interval in Unix time), so it is not stored: the caller passes the
/// interval with each call, from its configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirWindow {
    packets: u64,
    bytes: u64,
    first: i64,
    last: i64,
    flags: u8,
}

// It lives in every flow, twice.
const _: () = assert!(std::mem::size_of::<DirWindow>() <= 48);

/// The window index of `secs`; an interval of 0 (never valid config) is
/// taken as 1 rather than dividing by zero.
fn window_of(secs: i64, interval: u32) -> i64 {
    secs.div_euclid(i64::from(interval.max(1)))
}

fn window_start(secs: i64, interval: u32) -> i64 {
    window_of(secs, interval).saturating_mul(i64::from(interval.max(1)))
}

impl DirWindow {
    /// An empty accumulator.
    pub const fn new() -> DirWindow {
        DirWindow {
            packets: 0,
            bytes: 0,
            first: 0,
            last: 0,
            flags: 0,
        }
    }

    /// Whether no packet was counted since the last closed window.
    pub const fn is_empty(&self) -> bool {
        self.packets == 0
    }

    /// Counts one packet at `ts` of `bytes` bytes; `tcp_flags` is the TCP
    /// header's flags byte (`None` for other protocols). `interval` is the
    /// aggregation interval in seconds.
    ///
    /// When the packet falls in a later window than the open one, the open
    /// window is closed and returned, and the packet starts the new one; the
    /// windows in between had no packets and yield nothing. A packet older
    /// than the open window (reordering between mirror sources) is counted
    /// in the open window, whose times never leave the window.
    pub fn on_packet(
        &mut self,
        ts: Timestamp,
        bytes: u64,
        tcp_flags: Option<u8>,
        interval: u32,
    ) -> Option<Interval> {
        let secs = ts.secs();
        let closed =
            if !self.is_empty() && window_of(secs, interval) > window_of(self.first, interval) {
                self.take()
            } else {
                None
            };
        if self.is_empty() {
            self.first = secs;
            self.last = secs;
        } else {
            if secs < self.first {
                self.first = secs.max(window_start(self.first, interval));
            }
            self.last = self.last.max(secs);
        }
        self.packets = self.packets.saturating_add(1);
        self.bytes = self.bytes.saturating_add(bytes);
        if let Some(f) = tcp_flags {
            self.flags |= aws_tcp_flags(f);
        }
        closed
    }

    /// The Unix second at which the open window ends (the next multiple of
    /// `interval`), `None` when empty. A caller that schedules its
    /// expiry checks can use it.
    pub fn window_end(&self, interval: u32) -> Option<i64> {
        (!self.is_empty())
            .then(|| window_start(self.first, interval).saturating_add(i64::from(interval.max(1))))
    }

    /// Whether the open window has ended by `now` (the caller's watermark):
    /// the caller then [`take`](Self::take)s it, so that a direction that
    /// goes quiet still gets its record within one interval.
    pub fn expired(&self, now: Timestamp, interval: u32) -> bool {
        self.window_end(interval)
            .is_some_and(|end| now.secs() >= end)
    }

    /// Closes the open window (at flow end, or once [`expired`](Self::expired)),
    /// leaving the accumulator empty. `None` when it had no packets.
    pub fn take(&mut self) -> Option<Interval> {
        if self.is_empty() {
            return None;
        }
        let iv = Interval {
            packets: self.packets,
            bytes: self.bytes,
            tcp_flags: self.flags,
            start: self.first,
            end: self.last,
        };
        *self = DirWindow::new();
        Some(iv)
    }
}

/// A mirror session's facts that go into its flows' records. The caller
/// builds it once per session ([`SessionFacts::from_session`], or
/// [`SessionFacts::defaults`] for anonymous sessions) and keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFacts {
    /// `account-id`.
    pub account_id: Option<String>,
    /// `interface-id`: the session's source ENI.
    pub interface_id: Option<String>,
    /// `vpc-id`.
    pub vpc_id: Option<String>,
    /// `subnet-id`.
    pub subnet_id: Option<String>,
    /// `instance-id`.
    pub instance_id: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `az-id`.
    pub az_id: Option<String>,
    /// The source ENI's primary private IPv4. AWS writes it as `srcaddr`
    /// (egress) or `dstaddr` (ingress) for traffic of any of the ENI's
    /// addresses (secondary IPs, prefixes, pods), and the packet's own
    /// address as `pkt-srcaddr`/`pkt-dstaddr`.
    pub primary_ipv4: Option<Ipv4Addr>,
}

impl SessionFacts {
    /// The facts of a declared session; keys it lacks come from the
    /// output's `account-id` and `region`. The primary IPv4 is the first
    /// IPv4 `source-ips` entry that is also one of its `eni-addresses` (for
    /// AWS the outer source is the ENI's primary IP; requiring it among the
    /// ENI's addresses keeps an ERSPAN switch's address out).
    pub fn from_session(s: &Session, output: &VpcFlowLogsOutput) -> SessionFacts {
        SessionFacts {
            account_id: s.account_id.clone().or_else(|| output.account_id.clone()),
            interface_id: s.source_eni.clone(),
            vpc_id: s.vpc_id.clone(),
            subnet_id: s.subnet_id.clone(),
            instance_id: s.instance_id.clone(),
            region: s.region.clone().or_else(|| output.region.clone()),
            az_id: s.az_id.clone(),
            primary_ipv4: s.source_ips.iter().find_map(|&ip| match ip {
                IpAddr::V4(v4) if s.is_eni_address(ip) => Some(v4),
                _ => None,
            }),
        }
    }

    /// The facts of a session declared nowhere: only the output's defaults.
    pub fn defaults(output: &VpcFlowLogsOutput) -> SessionFacts {
        SessionFacts {
            account_id: output.account_id.clone(),
            region: output.region.clone(),
            ..SessionFacts::default()
        }
    }
}

/// What the caller knows of one flow direction: its packets' addresses and
/// ports, its direction relative to the session's ENI, and the session.
#[derive(Debug, Clone, Copy)]
pub struct FlowFacts<'a> {
    /// The packets' source address.
    pub src: IpAddr,
    /// The packets' destination address.
    pub dst: IpAddr,
    /// The source port (written only for TCP and UDP; other protocols get 0,
    /// as AWS writes, so ICMP type and code kept in port slots do not leak).
    pub src_port: u16,
    /// The destination port (likewise).
    pub dst_port: u16,
    /// The IANA protocol number.
    pub protocol: u8,
    /// Ingress or egress relative to the session's ENI addresses; `None`
    /// when neither address is the ENI's (`flow-direction` is then `-`).
    pub direction: Option<Direction>,
    /// AWS's `traffic-path` code where the caller knows it (egress only).
    pub traffic_path: Option<u8>,
    /// The mirror session.
    pub session: &'a SessionFacts,
}

impl<'a> FlowFacts<'a> {
    /// Facts with no direction and no traffic path.
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        src_port: u16,
        dst_port: u16,
        protocol: u8,
        session: &'a SessionFacts,
    ) -> FlowFacts<'a> {
        FlowFacts {
            src,
            dst,
            src_port,
            dst_port,
            protocol,
            direction: None,
            traffic_path: None,
            session,
        }
    }
}

/// A value fit for a record field: one non-empty token. Anything else
/// (possible only from facts built by hand, since the config checks its
/// ids) would shift every later field, so it is written `-`.
fn token(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 256
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        .map(str::to_string)
}

/// The record of one closed window: `version` is `format`'s (the highest
/// field version), `action` `ACCEPT` (mirrored traffic passed the security
/// groups), `log-status` `OK`. Fields nothing here knows
/// (`sublocation-*`, `pkt-*-aws-service`) are `-`.
pub fn build_record(format: &Format, interval: &Interval, flow: &FlowFacts<'_>) -> Record {
    let s = flow.session;
    let ports = matches!(flow.protocol, 6 | 17);
    let primary = s.primary_ipv4.map(IpAddr::V4);
    // AWS: for traffic of the interface, srcaddr/dstaddr is its primary IPv4.
    let (srcaddr, dstaddr) = match (flow.direction, primary) {
        (Some(Direction::Egress), Some(p)) if flow.src.is_ipv4() => (p, flow.dst),
        (Some(Direction::Ingress), Some(p)) if flow.dst.is_ipv4() => (flow.src, p),
        _ => (flow.src, flow.dst),
    };
    Record {
        version: Some(format.version()),
        account_id: token(&s.account_id),
        interface_id: token(&s.interface_id),
        srcaddr: Some(srcaddr),
        dstaddr: Some(dstaddr),
        srcport: Some(if ports { flow.src_port } else { 0 }),
        dstport: Some(if ports { flow.dst_port } else { 0 }),
        protocol: Some(flow.protocol),
        packets: Some(interval.packets),
        bytes: Some(interval.bytes),
        start: Some(interval.start),
        end: Some(interval.end),
        action: Some("ACCEPT".to_string()),
        log_status: Some("OK".to_string()),
        vpc_id: token(&s.vpc_id),
        subnet_id: token(&s.subnet_id),
        instance_id: token(&s.instance_id),
        tcp_flags: Some(interval.tcp_flags),
        r#type: Some(if flow.src.is_ipv4() { "IPv4" } else { "IPv6" }.to_string()),
        pkt_srcaddr: Some(flow.src),
        pkt_dstaddr: Some(flow.dst),
        region: token(&s.region),
        az_id: token(&s.az_id),
        sublocation_type: None,
        sublocation_id: None,
        pkt_src_aws_service: None,
        pkt_dst_aws_service: None,
        flow_direction: flow.direction.map(|d| d.as_str().to_string()),
        // AWS: the codes apply to egress only.
        traffic_path: flow
            .traffic_path
            .filter(|_| flow.direction == Some(Direction::Egress)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs_nanos(secs, 0)
    }

    const T0: i64 = 1_700_000_040; // a multiple of 60: 2023-11-14T22:14:00Z

    #[test]
    fn packets_in_one_window_make_one_interval() {
        assert_eq!(T0 % 60, 0);
        let mut w = DirWindow::new();
        assert!(w.take().is_none());
        for (i, s) in [0, 5, 59].into_iter().enumerate() {
            assert!(w.on_packet(t(T0 + s), 100 + i as u64, None, 60).is_none());
        }
        assert!(!w.expired(t(T0 + 59), 60));
        assert!(w.expired(t(T0 + 60), 60));
        assert_eq!(w.window_end(60), Some(T0 + 60));
        let iv = w.take().unwrap();
        assert_eq!(
            iv,
            Interval {
                packets: 3,
                bytes: 303,
                tcp_flags: 0,
                start: T0,
                end: T0 + 59
            }
        );
        assert!(w.is_empty() && w.take().is_none() && !w.expired(t(i64::MAX / 2), 60));
    }

    #[test]
    fn a_boundary_closes_the_window() {
        let mut w = DirWindow::new();
        assert!(w.on_packet(t(T0 + 58), 10, Some(0x02), 60).is_none());
        // Sub-second times: 59.999 s is still the first window.
        let late = Timestamp::from_secs_nanos(T0 + 59, 999_999_999);
        assert!(w.on_packet(late, 10, Some(0x10), 60).is_none());
        let iv = w.on_packet(t(T0 + 60), 10, Some(0x10), 60).unwrap();
        assert_eq!(
            (iv.packets, iv.start, iv.end, iv.tcp_flags),
            (2, T0 + 58, T0 + 59, 2)
        );
        let iv = w.take().unwrap();
        assert_eq!(
            (iv.packets, iv.start, iv.end, iv.tcp_flags),
            (1, T0 + 60, T0 + 60, 0)
        );
        // 600-second windows: the same packets share one.
        const B: i64 = 1_699_999_800;
        assert_eq!(B % 600, 0);
        let mut w = DirWindow::new();
        for s in [58, 59, 60, 599] {
            assert!(w.on_packet(t(B + s), 1, None, 600).is_none());
        }
        let iv = w.on_packet(t(B + 600), 1, None, 600).unwrap();
        assert_eq!((iv.packets, iv.start, iv.end), (4, B + 58, B + 599));
    }

    #[test]
    fn an_idle_gap_yields_no_empty_windows() {
        let mut w = DirWindow::new();
        assert!(w.on_packet(t(T0 + 1), 50, None, 60).is_none());
        // Five windows later: the first window closes, nothing for the gap.
        let iv = w.on_packet(t(T0 + 5 * 60 + 7), 70, None, 60).unwrap();
        assert_eq!(
            (iv.packets, iv.bytes, iv.start, iv.end),
            (1, 50, T0 + 1, T0 + 1)
        );
        assert_eq!(w.window_end(60), Some(T0 + 6 * 60));
        let iv = w.take().unwrap();
        assert_eq!((iv.packets, iv.bytes, iv.start), (1, 70, T0 + 307));
    }

    #[test]
    fn late_packets_stay_in_the_open_window() {
        let mut w = DirWindow::new();
        assert!(w.on_packet(t(T0 + 70), 1, None, 60).is_none());
        // Older than the window: counted here, `start` stays in the window.
        assert!(w.on_packet(t(T0 + 30), 1, None, 60).is_none());
        assert!(w.on_packet(t(T0 + 65), 1, None, 60).is_none());
        let iv = w.take().unwrap();
        assert_eq!((iv.packets, iv.start, iv.end), (3, T0 + 60, T0 + 70));
    }

    #[test]
    fn tcp_flags_are_ored_as_aws_logs_them() {
        let mut w = DirWindow::new();
        // SYN-ACK, ACK, PSH-ACK, FIN-ACK: 18 | 0 | 0 | 1 = 19.
        for f in [0x12, 0x10, 0x18, 0x11] {
            w.on_packet(t(T0), 1, Some(f), 60);
        }
        assert_eq!(w.take().unwrap().tcp_flags, 19);
        // SYN-ACK alone is 18; only ACKs are 0; RST is 4; SYN + FIN is 3.
        for (flags, want) in [
            (&[0x12][..], 18),
            (&[0x10, 0x10][..], 0),
            (&[0x14][..], 4),
            (&[0x02, 0x01][..], 3),
        ] {
            for &f in flags {
                w.on_packet(t(T0), 1, Some(f), 60);
            }
            assert_eq!(w.take().unwrap().tcp_flags, want, "{flags:x?}");
        }
    }

    #[test]
    fn counters_saturate_and_odd_inputs_do_not_panic() {
        let mut w = DirWindow::new();
        w.on_packet(t(0), u64::MAX, None, 0);
        w.on_packet(t(0), u64::MAX, None, 0);
        assert_eq!(w.window_end(0), Some(1));
        assert_eq!(w.take().unwrap().bytes, u64::MAX);
        for ts in [i64::MIN, -1, i64::MAX] {
            let mut w = DirWindow::new();
            w.on_packet(Timestamp::from_nanos(ts), 1, None, 600);
            assert!(w.window_end(600).is_some());
            let _ = w.expired(Timestamp::from_nanos(i64::MAX), 600);
            let _ = w.on_packet(Timestamp::from_nanos(i64::MAX), 1, None, 600);
        }
    }

    fn session() -> SessionFacts {
        SessionFacts {
            account_id: Some("123456789010".into()),
            interface_id: Some("eni-1235b8ca123456789".into()),
            vpc_id: Some("vpc-abcdefab012345678".into()),
            subnet_id: Some("subnet-aaaaaaaa012345678".into()),
            instance_id: Some("i-01234567890123456".into()),
            region: Some("us-east-1".into()),
            az_id: Some("use1-az4".into()),
            primary_ipv4: Some("10.0.0.62".parse().unwrap()),
        }
    }

    #[test]
    fn v2_default_record() {
        let s = session();
        let iv = Interval {
            packets: 20,
            bytes: 4249,
            tcp_flags: 2,
            start: 1_418_530_010,
            end: 1_418_530_070,
        };
        let flow = FlowFacts {
            direction: Some(Direction::Ingress),
            ..FlowFacts::new(
                "172.31.16.139".parse().unwrap(),
                "172.31.16.21".parse().unwrap(),
                20641,
                22,
                6,
                &s,
            )
        };
        let fmt = Format::default_v2();
        let rec = build_record(&fmt, &iv, &flow);
        // The ENI's primary IPv4 is dstaddr for ingress; the packet's own
        // destination is pkt-dstaddr.
        assert_eq!(
            rec.to_line(&fmt),
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 10.0.0.62 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
        );
        assert_eq!(rec.pkt_dstaddr, Some("172.31.16.21".parse().unwrap()));
        // Without a known primary, the packet's addresses: AWS's sample line.
        let s = SessionFacts {
            primary_ipv4: None,
            ..session()
        };
        let rec = build_record(
            &fmt,
            &iv,
            &FlowFacts {
                session: &s,
                ..flow
            },
        );
        assert_eq!(
            rec.to_line(&fmt),
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
        );
    }

    #[test]
    fn v5_custom_record() {
        let fmt = Format::parse(
            "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}",
        )
        .unwrap();
        assert_eq!(fmt.version(), 5);
        let s = session();
        let iv = Interval {
            packets: 12,
            bytes: 632,
            tcp_flags: 18,
            start: 1_566_848_875,
            end: 1_566_848_933,
        };
        let flow = FlowFacts {
            direction: Some(Direction::Egress),
            traffic_path: Some(8),
            ..FlowFacts::new(
                "10.0.0.62".parse().unwrap(),
                "52.213.180.42".parse().unwrap(),
                5001,
                43418,
                6,
                &s,
            )
        };
        let rec = build_record(&fmt, &iv, &flow);
        let line = rec.to_line(&fmt);
        assert_eq!(
            line,
            "5 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43418 10.0.0.62 52.213.180.42 6 632 12 1566848875 1566848933 ACCEPT 18 OK us-east-1 use1-az4 - - - - egress 8"
        );
        assert_eq!(Record::parse(&fmt, &line).unwrap(), rec);

        // Ingress: no traffic-path (egress only); unknown direction: `-`.
        let rec = build_record(
            &fmt,
            &iv,
            &FlowFacts {
                direction: Some(Direction::Ingress),
                ..flow
            },
        );
        assert_eq!(
            (rec.flow_direction.as_deref(), rec.traffic_path),
            (Some("ingress"), None)
        );
        let rec = build_record(
            &fmt,
            &iv,
            &FlowFacts {
                direction: None,
                ..flow
            },
        );
        assert!(rec.to_line(&fmt).ends_with(" - - - - - -"));
        assert_eq!(rec.srcaddr, Some(flow.src));
    }

    #[test]
    fn icmp_ipv6_and_bad_facts() {
        // ICMP: type/code in the port slots are not written; AWS writes 0 0.
        let s = SessionFacts {
            interface_id: Some("eni with space".into()),
            account_id: Some(String::new()),
            primary_ipv4: Some("10.0.0.5".parse().unwrap()),
            ..SessionFacts::default()
        };
        let iv = Interval {
            packets: 4,
            bytes: 336,
            tcp_flags: 0,
            start: 1,
            end: 2,
        };
        let flow = FlowFacts::new(
            "203.0.113.12".parse().unwrap(),
            "172.31.16.139".parse().unwrap(),
            8,
            0,
            1,
            &s,
        );
        let fmt = Format::parse("version account-id interface-id srcport dstport type").unwrap();
        assert_eq!(
            build_record(&fmt, &iv, &flow).to_line(&fmt),
            "3 - - 0 0 IPv4"
        );
        // IPv6 egress: srcaddr stays the IPv6 address (the primary is IPv4).
        let flow = FlowFacts {
            src: "2600:1f18::1".parse().unwrap(),
            dst: "2600:1f18::2".parse().unwrap(),
            protocol: 17,
            src_port: 53,
            dst_port: 5353,
            direction: Some(Direction::Egress),
            ..flow
        };
        let rec = build_record(&fmt, &iv, &flow);
        assert_eq!(rec.to_line(&fmt), "3 - - 53 5353 IPv6");
        assert_eq!(rec.srcaddr, Some(flow.src));
    }

    #[test]
    fn session_facts_from_config() {
        let c = mirador_config::Config::from_yaml(
            "s.yaml",
            "outputs:\n  vpc-flow-logs:\n    account-id: \"111122223333\"\n    region: eu-west-1\nmirror:\n  sessions:\n    - vni: 1\n      source-eni: eni-1\n      source-ips: [10.0.1.15]\n      eni-addresses: [10.0.1.15, 10.0.1.16]\n      vpc-id: vpc-1\n      region: us-east-1\n    - erspan-id: 3\n      source-ips: [192.0.2.1]\n",
        )
        .unwrap();
        let out = &c.outputs.vpc_flow_logs;
        let a = SessionFacts::from_session(&c.mirror.sessions[0], out);
        assert_eq!(a.account_id.as_deref(), Some("111122223333"));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(a.interface_id.as_deref(), Some("eni-1"));
        assert_eq!(a.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(a.primary_ipv4, Some("10.0.1.15".parse().unwrap()));
        // An ERSPAN switch's address is not an ENI's primary.
        let b = SessionFacts::from_session(&c.mirror.sessions[1], out);
        assert_eq!(
            (b.primary_ipv4, b.region.as_deref()),
            (None, Some("eu-west-1"))
        );
        let d = SessionFacts::defaults(out);
        assert_eq!(d.account_id.as_deref(), Some("111122223333"));
        assert!(d.interface_id.is_none());
    }
}
