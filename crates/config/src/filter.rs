//! Traffic Mirror Filters with AWS semantics.
//!
//! A filter holds two ordered rule lists, one per [`Direction`]. For a packet, only the
//! rules of its direction apply; they are tried by ascending `rule-number` and the first
//! one that matches decides ([`FilterVerdict::Accept`] or [`FilterVerdict::Reject`]). A
//! packet that matches no rule, or meets an empty rule list, gets
//! [`FilterVerdict::NoMatch`]. AWS mirrors nothing in that case ("if you don't add any
//! rules, then no traffic is mirrored"), and mirador, consistently, does not inspect it.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::values::{PortRange, de_net, de_opt_protocol};

/// The direction of a mirrored packet relative to the mirror source ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Towards the ENI: the packet's destination is one of the ENI's addresses.
    Ingress,
    /// Away from the ENI: the packet's source is one of the ENI's addresses.
    Egress,
}

impl Direction {
    /// `"ingress"` or `"egress"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a matching rule does: `accept` (mirror, hence inspect) or `reject` (don't).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleAction {
    /// Mirror the packet.
    Accept,
    /// Do not mirror the packet.
    Reject,
}

impl RuleAction {
    /// `"accept"` or `"reject"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleAction::Accept => "accept",
            RuleAction::Reject => "reject",
        }
    }
}

/// Network services a filter opts in to (AWS `NetworkServices`); informational, since
/// the packets the sensor receives were already filtered by AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkService {
    /// Traffic to and from the Amazon-provided DNS resolver (VPC+2) is mirrored.
    AmazonDns,
}

/// The outcome of [`Filter::evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterVerdict {
    /// The first matching rule accepts: the packet is mirrored (inspected).
    Accept {
        /// The deciding rule's `rule-number`.
        rule_number: u16,
    },
    /// The first matching rule rejects: the packet is not mirrored.
    Reject {
        /// The deciding rule's `rule-number`.
        rule_number: u16,
    },
    /// No rule of the packet's direction matches (or there are none): as in AWS, the
    /// packet is not mirrored.
    NoMatch,
}

impl FilterVerdict {
    /// Whether AWS would mirror the packet: only [`FilterVerdict::Accept`].
    #[inline]
    pub const fn is_mirrored(self) -> bool {
        matches!(self, FilterVerdict::Accept { .. })
    }
}

/// One filter rule (AWS `TrafficMirrorFilterRule`).
///
/// ```yaml
/// - rule-number: 100            # 1..=32766, unique per direction; lower is tried first
///   action: accept              # accept | reject
///   protocol: 6                 # optional IANA number or tcp/udp/icmp/icmpv6; absent = all
///   source-cidr: 0.0.0.0/0      # the packet's real source; a bare address means /32 or /128
///   destination-cidr: 10.0.0.0/16   # same family as source-cidr
///   source-port: "1024-65535"   # optional, only with protocol 6 or 17
///   destination-port: 443       # optional, only with protocol 6 or 17
///   description: "https in"     # optional
///   id: tmfr-0ca76e0e08EXAMPLE  # optional, informational
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilterRule {
    /// AWS `RuleNumber`: 1..=32766, unique within its direction; rules are tried in
    /// ascending order.
    pub rule_number: u16,
    /// AWS `RuleAction`.
    pub action: RuleAction,
    /// AWS `Protocol`: the IANA protocol number; `None` matches every protocol.
    #[serde(default, deserialize_with = "de_opt_protocol")]
    pub protocol: Option<u8>,
    /// AWS `SourceCidrBlock`: must contain the packet's source address. Same family as
    /// `destination_cidr`; an IPv4 rule never matches an IPv6 packet.
    #[serde(deserialize_with = "de_net")]
    pub source_cidr: IpNet,
    /// AWS `DestinationCidrBlock`: must contain the packet's destination address.
    #[serde(deserialize_with = "de_net")]
    pub destination_cidr: IpNet,
    /// AWS `SourcePortRange`: only with protocol 6 (TCP) or 17 (UDP). A rule with a port
    /// range never matches a packet whose ports are unknown.
    #[serde(default)]
    pub source_port: Option<PortRange>,
    /// AWS `DestinationPortRange`, like `source_port`.
    #[serde(default)]
    pub destination_port: Option<PortRange>,
    /// AWS `Description`.
    #[serde(default)]
    pub description: Option<String>,
    /// AWS `TrafficMirrorFilterRuleId` (informational).
    #[serde(default)]
    pub id: Option<String>,
}

impl FilterRule {
    /// Whether this rule matches a packet (the direction is the caller's business).
    #[inline]
    pub fn matches(
        &self,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        src_port: Option<u16>,
        dst_port: Option<u16>,
    ) -> bool {
        if let Some(p) = self.protocol
            && p != proto
        {
            return false;
        }
        if !self.source_cidr.contains(&src) || !self.destination_cidr.contains(&dst) {
            return false;
        }
        port_matches(self.source_port, src_port) && port_matches(self.destination_port, dst_port)
    }
}

#[inline]
fn port_matches(range: Option<PortRange>, port: Option<u16>) -> bool {
    match (range, port) {
        (None, _) => true,
        (Some(r), Some(p)) => r.contains(p),
        (Some(_), None) => false,
    }
}

/// A Traffic Mirror Filter (AWS `TrafficMirrorFilter`), declared under `filters:` by
/// name.
///
/// ```yaml
/// filters:
///   web-filter:
///     id: tmf-0123456789abcdef0       # optional, informational
///     description: web tier           # optional
///     network-services: [amazon-dns]  # optional, informational
///     ingress: [ ...rules... ]        # FilterRule list
///     egress: []
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Filter {
    /// The filter's name: its key under `filters:`.
    #[serde(skip)]
    pub name: String,
    /// AWS `TrafficMirrorFilterId` (informational).
    #[serde(default)]
    pub id: Option<String>,
    /// AWS `Description` (informational).
    #[serde(default)]
    pub description: Option<String>,
    /// AWS `NetworkServices` (informational).
    #[serde(default)]
    pub network_services: Vec<NetworkService>,
    /// Inbound rules (AWS `IngressFilterRules`); after loading, sorted by `rule-number`.
    #[serde(default)]
    pub ingress: Vec<FilterRule>,
    /// Outbound rules (AWS `EgressFilterRules`); after loading, sorted by `rule-number`.
    #[serde(default)]
    pub egress: Vec<FilterRule>,
}

impl Filter {
    /// The rules of one direction, in evaluation order (ascending `rule-number`).
    #[inline]
    pub fn rules(&self, dir: Direction) -> &[FilterRule] {
        match dir {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// Evaluates a packet with AWS semantics: the rules of `dir`, lowest `rule-number`
    /// first, the first match decides. `src_port`/`dst_port` are `None` when the packet
    /// has no ports or they could not be read (truncation, non-first fragment); a rule
    /// with a port range then does not match. No allocation.
    #[inline]
    pub fn evaluate(
        &self,
        dir: Direction,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        src_port: Option<u16>,
        dst_port: Option<u16>,
    ) -> FilterVerdict {
        for rule in self.rules(dir) {
            if rule.matches(proto, src, dst, src_port, dst_port) {
                return match rule.action {
                    RuleAction::Accept => FilterVerdict::Accept {
                        rule_number: rule.rule_number,
                    },
                    RuleAction::Reject => FilterVerdict::Reject {
                        rule_number: rule.rule_number,
                    },
                };
            }
        }
        FilterVerdict::NoMatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use FilterVerdict::{Accept, NoMatch, Reject};

    const TCP: u8 = 6;
    const UDP: u8 = 17;
    const ICMP: u8 = 1;

    /// A filter built through the loader, so rule sorting and validation apply.
    fn filter(yaml_rules: &str) -> Filter {
        let text = format!("filters:\n  f:\n{yaml_rules}");
        let mut c = Config::from_yaml("t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
        c.filters.remove("f").unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    struct Case {
        what: &'static str,
        dir: Direction,
        proto: u8,
        src: &'static str,
        dst: &'static str,
        sport: Option<u16>,
        dport: Option<u16>,
        want: FilterVerdict,
    }

    fn run(f: &Filter, cases: &[Case]) {
        for c in cases {
            let got = f.evaluate(c.dir, c.proto, ip(c.src), ip(c.dst), c.sport, c.dport);
            assert_eq!(got, c.want, "{}", c.what);
        }
    }

    use Direction::{Egress, Ingress};

    #[test]
    fn rule_order_lowest_number_wins() {
        // Listed out of order: 200 (accept all) first, 100 (reject ssh) second.
        let f = filter(
            "    ingress:
      - { rule-number: 200, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
      - { rule-number: 100, action: reject, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, destination-port: 22 }
      - { rule-number: 150, action: accept, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, destination-port: 22 }
",
        );
        assert_eq!(
            f.ingress.iter().map(|r| r.rule_number).collect::<Vec<_>>(),
            [100, 150, 200]
        );
        run(
            &f,
            &[
                Case {
                    what: "ssh hits 100 before 150/200",
                    dir: Ingress,
                    proto: TCP,
                    src: "1.2.3.4",
                    dst: "10.0.0.5",
                    sport: Some(40000),
                    dport: Some(22),
                    want: Reject { rule_number: 100 },
                },
                Case {
                    what: "https falls to 200",
                    dir: Ingress,
                    proto: TCP,
                    src: "1.2.3.4",
                    dst: "10.0.0.5",
                    sport: Some(40000),
                    dport: Some(443),
                    want: Accept { rule_number: 200 },
                },
                Case {
                    what: "udp/22 is not tcp: 200",
                    dir: Ingress,
                    proto: UDP,
                    src: "1.2.3.4",
                    dst: "10.0.0.5",
                    sport: Some(40000),
                    dport: Some(22),
                    want: Accept { rule_number: 200 },
                },
            ],
        );
    }

    #[test]
    fn directions_are_separate() {
        let f = filter(
            "    ingress:
      - { rule-number: 100, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
    egress:
      - { rule-number: 100, action: reject, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
",
        );
        run(
            &f,
            &[
                Case {
                    what: "ingress rule",
                    dir: Ingress,
                    proto: TCP,
                    src: "1.1.1.1",
                    dst: "2.2.2.2",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 100 },
                },
                Case {
                    what: "egress rule",
                    dir: Egress,
                    proto: TCP,
                    src: "1.1.1.1",
                    dst: "2.2.2.2",
                    sport: None,
                    dport: None,
                    want: Reject { rule_number: 100 },
                },
            ],
        );
        let ingress_only = filter(
            "    ingress:
      - { rule-number: 1, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
",
        );
        run(
            &ingress_only,
            &[Case {
                what: "ingress rules don't apply to egress",
                dir: Egress,
                proto: TCP,
                src: "1.1.1.1",
                dst: "2.2.2.2",
                sport: None,
                dport: None,
                want: NoMatch,
            }],
        );
    }

    #[test]
    fn empty_filter_and_no_match() {
        let empty = filter("    ingress: []\n");
        for dir in [Ingress, Egress] {
            assert_eq!(
                empty.evaluate(dir, TCP, ip("1.1.1.1"), ip("2.2.2.2"), Some(1), Some(2)),
                NoMatch
            );
        }
        assert!(!NoMatch.is_mirrored());
        let f = filter(
            "    ingress:
      - { rule-number: 10, action: accept, protocol: 17, source-cidr: 10.0.0.0/8, destination-cidr: 10.0.0.0/8 }
",
        );
        run(
            &f,
            &[
                Case {
                    what: "wrong protocol",
                    dir: Ingress,
                    proto: TCP,
                    src: "10.0.0.1",
                    dst: "10.0.0.2",
                    sport: None,
                    dport: None,
                    want: NoMatch,
                },
                Case {
                    what: "source outside",
                    dir: Ingress,
                    proto: UDP,
                    src: "11.0.0.1",
                    dst: "10.0.0.2",
                    sport: None,
                    dport: None,
                    want: NoMatch,
                },
                Case {
                    what: "destination outside",
                    dir: Ingress,
                    proto: UDP,
                    src: "10.0.0.1",
                    dst: "9.255.255.255",
                    sport: None,
                    dport: None,
                    want: NoMatch,
                },
                Case {
                    what: "match",
                    dir: Ingress,
                    proto: UDP,
                    src: "10.0.0.1",
                    dst: "10.255.255.255",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 10 },
                },
            ],
        );
        assert!(Accept { rule_number: 10 }.is_mirrored());
    }

    #[test]
    fn cidr_edges() {
        let f = filter(
            "    ingress:
      - { rule-number: 1, action: accept, source-cidr: 192.0.2.7/32, destination-cidr: 10.0.0.0/24 }
      - { rule-number: 2, action: reject, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
      - { rule-number: 3, action: accept, source-cidr: \"2001:db8::/32\", destination-cidr: \"::/0\" }
      - { rule-number: 4, action: accept, source-cidr: 10.1.2.3/16, destination-cidr: 10.1.0.0/16 }
",
        );
        // host bits are truncated when loading
        assert_eq!(f.ingress[3].source_cidr.to_string(), "10.1.0.0/16");
        run(
            &f,
            &[
                Case {
                    what: "/32 exact, net address",
                    dir: Ingress,
                    proto: TCP,
                    src: "192.0.2.7",
                    dst: "10.0.0.0",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 1 },
                },
                Case {
                    what: "/24 last address",
                    dir: Ingress,
                    proto: TCP,
                    src: "192.0.2.7",
                    dst: "10.0.0.255",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 1 },
                },
                Case {
                    what: "/24 one past the end",
                    dir: Ingress,
                    proto: TCP,
                    src: "192.0.2.7",
                    dst: "10.0.1.0",
                    sport: None,
                    dport: None,
                    want: Reject { rule_number: 2 },
                },
                Case {
                    what: "/32 neighbour",
                    dir: Ingress,
                    proto: TCP,
                    src: "192.0.2.8",
                    dst: "10.0.0.1",
                    sport: None,
                    dport: None,
                    want: Reject { rule_number: 2 },
                },
                Case {
                    what: "/0 v4 matches 255.255.255.255",
                    dir: Ingress,
                    proto: TCP,
                    src: "255.255.255.255",
                    dst: "0.0.0.0",
                    sport: None,
                    dport: None,
                    want: Reject { rule_number: 2 },
                },
                Case {
                    what: "v4 rules never match v6",
                    dir: Ingress,
                    proto: TCP,
                    src: "2001:db8::1",
                    dst: "::1",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 3 },
                },
                Case {
                    what: "v6 /32 edge",
                    dir: Ingress,
                    proto: TCP,
                    src: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                    dst: "fe80::1",
                    sport: None,
                    dport: None,
                    want: Accept { rule_number: 3 },
                },
                Case {
                    what: "v6 outside, ::/0 v4 rules don't apply",
                    dir: Ingress,
                    proto: TCP,
                    src: "2001:db9::",
                    dst: "::",
                    sport: None,
                    dport: None,
                    want: NoMatch,
                },
                Case {
                    what: "v4-mapped v6 is v6",
                    dir: Ingress,
                    proto: TCP,
                    src: "::ffff:192.0.2.7",
                    dst: "::ffff:10.0.0.1",
                    sport: None,
                    dport: None,
                    want: NoMatch,
                },
            ],
        );
    }

    #[test]
    fn port_edges_and_unknown_ports() {
        let f = filter(
            "    egress:
      - { rule-number: 1, action: accept, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, destination-port: 443 }
      - { rule-number: 2, action: accept, protocol: 17, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, source-port: \"1024-2048\" }
      - { rule-number: 3, action: accept, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0, source-port: 0-65535, destination-port: { from-port: 8000, to-port: 8080 } }
      - { rule-number: 4, action: reject, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
",
        );
        let c = |what, proto, sport, dport, want| Case {
            what,
            dir: Egress,
            proto,
            src: "10.0.0.1",
            dst: "10.0.0.2",
            sport,
            dport,
            want,
        };
        run(
            &f,
            &[
                c(
                    "from==to hit",
                    TCP,
                    Some(1),
                    Some(443),
                    Accept { rule_number: 1 },
                ),
                c(
                    "from==to: 442",
                    TCP,
                    Some(1),
                    Some(442),
                    Reject { rule_number: 4 },
                ),
                c(
                    "from==to: 444",
                    TCP,
                    Some(1),
                    Some(444),
                    Reject { rule_number: 4 },
                ),
                c(
                    "udp range low edge",
                    UDP,
                    Some(1024),
                    Some(53),
                    Accept { rule_number: 2 },
                ),
                c(
                    "udp range high edge",
                    UDP,
                    Some(2048),
                    Some(53),
                    Accept { rule_number: 2 },
                ),
                c(
                    "udp just below",
                    UDP,
                    Some(1023),
                    Some(53),
                    Reject { rule_number: 4 },
                ),
                c(
                    "udp just above",
                    UDP,
                    Some(2049),
                    Some(53),
                    Reject { rule_number: 4 },
                ),
                c(
                    "0-65535 with 0",
                    TCP,
                    Some(0),
                    Some(8000),
                    Accept { rule_number: 3 },
                ),
                c(
                    "0-65535 with 65535",
                    TCP,
                    Some(65535),
                    Some(8080),
                    Accept { rule_number: 3 },
                ),
                c(
                    "dst 8081 outside",
                    TCP,
                    Some(65535),
                    Some(8081),
                    Reject { rule_number: 4 },
                ),
                c(
                    "ports unknown: port rules don't match",
                    TCP,
                    None,
                    None,
                    Reject { rule_number: 4 },
                ),
                c(
                    "dst port unknown",
                    TCP,
                    Some(5),
                    None,
                    Reject { rule_number: 4 },
                ),
                c(
                    "udp sport unknown",
                    UDP,
                    None,
                    Some(53),
                    Reject { rule_number: 4 },
                ),
                c(
                    "icmp has no ports",
                    ICMP,
                    None,
                    None,
                    Reject { rule_number: 4 },
                ),
            ],
        );
    }

    #[test]
    fn protocol_any_tcp_udp() {
        let f = filter(
            "    ingress:
      - { rule-number: 1, action: reject, protocol: tcp, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
      - { rule-number: 2, action: accept, protocol: 17, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
      - { rule-number: 3, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }
",
        );
        let c = |what, proto, want| Case {
            what,
            dir: Ingress,
            proto,
            src: "10.0.0.1",
            dst: "10.0.0.2",
            sport: Some(1),
            dport: Some(2),
            want,
        };
        run(
            &f,
            &[
                c("tcp", TCP, Reject { rule_number: 1 }),
                c("udp", UDP, Accept { rule_number: 2 }),
                c("icmp: any", ICMP, Accept { rule_number: 3 }),
                c("gre: any", 47, Accept { rule_number: 3 }),
                c("proto 0: any", 0, Accept { rule_number: 3 }),
            ],
        );
    }
}
