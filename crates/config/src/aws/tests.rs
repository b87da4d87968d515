use std::net::IpAddr;

use super::*;
use crate::{Config, Direction, FilterVerdict, SessionKey};

const SESSIONS: &str = include_str!("../../testdata/aws/sessions.json");
const FILTERS: &str = include_str!("../../testdata/aws/filters.json");
const TARGETS: &str = include_str!("../../testdata/aws/targets.json");
const INTERFACES: &str = include_str!("../../testdata/aws/interfaces.json");

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn load(yaml: &str) -> Config {
    Config::from_yaml("import.yaml", yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

#[test]
fn round_trip_full() {
    let yaml = import(SESSIONS, FILTERS, Some(TARGETS), Some(INTERFACES)).unwrap();
    if std::env::var_os("MIRADOR_PRINT_IMPORT").is_some() {
        println!("{yaml}");
    }
    let c = load(&yaml);
    let s = &c.mirror.sessions;
    assert_eq!(s.len(), 3);

    // two sessions share VNI 42 on different ENIs
    assert_eq!(s[0].id.as_deref(), Some("tms-0a1b2c3d4e5f60789"));
    assert_eq!(s[0].name.as_deref(), Some("web-a"), "Name tag");
    assert_eq!(
        s[1].name.as_deref(),
        Some("web frontend B"),
        "Description fallback"
    );
    assert_eq!(
        s[2].name.as_deref(),
        Some("tms-0c3d4e5f607182901"),
        "id fallback"
    );
    assert_eq!(s[0].key(), SessionKey::Vni(42));
    assert_eq!(s[1].key(), SessionKey::Vni(42));
    assert_eq!(s[0].tenant, "42");
    assert_eq!(s[2].key(), SessionKey::Vni(13_314_501));
    assert_eq!(s[0].source_eni.as_deref(), Some("eni-0a471a5cf3d4e5f61"));
    assert_eq!(s[0].source_ips, [ip("10.0.1.15")]);
    assert_eq!(s[1].source_ips, [ip("10.0.2.20")]);
    assert_eq!(s[0].packet_length, Some(128));
    assert_eq!(s[1].packet_length, None);
    assert_eq!(s[2].session_number, Some(2));
    let addrs: Vec<String> = s[0].eni_addresses.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        addrs,
        [
            "10.0.1.15/32",
            "10.0.1.16/32",
            "2600:1f18:aa:1::15/128",
            "10.0.1.64/28",
            "2600:1f18:aa:1:8000::/80"
        ]
    );
    assert_eq!(
        s[0].target.as_deref(),
        Some(
            "tmt-0dabe9b0a6d1f2c3e (network-load-balancer arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/net/mirador/0123456789abcdef)"
        )
    );
    assert_eq!(
        s[2].target.as_deref(),
        Some("tmt-03665551cb7e8f9a0 (network-interface eni-0d7a4d8f26a7b8c94)")
    );

    // the ENI not in the interfaces file: no source-ips, no eni-addresses, a warning
    assert!(s[2].source_ips.is_empty() && s[2].eni_addresses.is_empty());
    assert!(
        yaml.contains("# WARNING: eni-0c693c7e15f6a7b83 is not in the interfaces JSON"),
        "{yaml}"
    );

    // filters: Name tag, else id
    assert_eq!(s[0].filter.as_deref(), Some("web-filter"));
    assert_eq!(s[2].filter.as_deref(), Some("tmf-06c787846c0d1e2f3"));
    let f = c.session_filter(&s[0]).unwrap();
    assert_eq!(f.id.as_deref(), Some("tmf-0293f26e86a1b2c3d"));
    assert_eq!(f.network_services, [crate::NetworkService::AmazonDns]);
    assert_eq!(
        f.ingress.iter().map(|r| r.rule_number).collect::<Vec<_>>(),
        [100, 200, 300]
    );
    assert_eq!(f.egress.len(), 2);
    assert_eq!(f.ingress[0].id.as_deref(), Some("tmfr-0da87f1f19b2c3d4e"));
    assert_eq!(f.egress[1].protocol, None, "absent Protocol = all");
    let empty = c.session_filter(&s[2]).unwrap();
    assert!(empty.ingress.is_empty() && empty.egress.is_empty());

    // semantics through the imported config
    let client = ip("198.51.100.7");
    let dir = s[0].direction(client, ip("10.0.1.16")).unwrap();
    assert_eq!(dir, Direction::Ingress);
    assert_eq!(
        f.evaluate(dir, 6, client, ip("10.0.1.16"), Some(5000), Some(22)),
        FilterVerdict::Reject { rule_number: 100 }
    );
    assert_eq!(
        f.evaluate(dir, 6, client, ip("10.0.1.16"), Some(5000), Some(443)),
        FilterVerdict::Accept { rule_number: 200 }
    );
    assert_eq!(
        f.evaluate(dir, 17, client, ip("10.0.1.16"), Some(5000), Some(443)),
        FilterVerdict::NoMatch
    );
    // the IPv6 rule
    let v6client = ip("2001:db8::9");
    let v6 = ip("2600:1f18:aa:1::15");
    let dir = s[0].direction(v6client, v6).unwrap();
    assert_eq!(dir, Direction::Ingress);
    assert_eq!(
        f.evaluate(dir, 6, v6client, v6, Some(5000), Some(443)),
        FilterVerdict::Accept { rule_number: 300 }
    );
    // the IPv4 ssh reject rule (100) does not apply to IPv6: ssh over IPv6 meets no rule
    assert_eq!(
        f.evaluate(dir, 6, v6client, v6, Some(5000), Some(22)),
        FilterVerdict::NoMatch
    );
    // egress
    let dir = s[0].direction(ip("10.0.1.15"), ip("10.0.0.2")).unwrap();
    assert_eq!(dir, Direction::Egress);
    assert_eq!(
        f.evaluate(
            dir,
            17,
            ip("10.0.1.15"),
            ip("10.0.0.2"),
            Some(3333),
            Some(53)
        ),
        FilterVerdict::Accept { rule_number: 100 }
    );
    assert_eq!(
        f.evaluate(dir, 1, ip("10.0.1.15"), ip("10.0.0.2"), None, None),
        FilterVerdict::Accept { rule_number: 200 }
    );
}

#[test]
fn without_targets_and_interfaces() {
    let yaml = import(SESSIONS, FILTERS, None, None).unwrap();
    let c = load(&yaml);
    assert!(yaml.contains("No interfaces JSON was given"), "{yaml}");
    for s in &c.mirror.sessions {
        assert!(s.source_ips.is_empty());
        assert!(s.eni_addresses.is_empty());
    }
    assert_eq!(
        c.mirror.sessions[0].target.as_deref(),
        Some("tmt-0dabe9b0a6d1f2c3e")
    );
}

#[test]
fn aws_cli_documentation_examples() {
    // The shapes printed in the AWS CLI's own examples (reference/aws.md §3).
    let sessions = r#"{ "TrafficMirrorSessions": [
      { "Tags": [], "VirtualNetworkId": 42, "OwnerId": "111122223333",
        "Description": "TCP Session", "NetworkInterfaceId": "eni-0a471a5cf3EXAMPLE",
        "TrafficMirrorTargetId": "tmt-0dabe9b0a6EXAMPLE",
        "TrafficMirrorFilterId": "tmf-083e18f985EXAMPLE",
        "PacketLength": 20, "SessionNumber": 1,
        "TrafficMirrorSessionId": "tms-0567a4c684EXAMPLE" },
      { "Tags": [{"Key": "Name", "Value": "tag test"}], "VirtualNetworkId": 13314501,
        "OwnerId": "111122223333", "Description": "TCP Session",
        "NetworkInterfaceId": "eni-0a471a5cf3EXAMPLE",
        "TrafficMirrorTargetId": "tmt-03665551cbEXAMPLE",
        "TrafficMirrorFilterId": "tmf-06c787846cEXAMPLE", "SessionNumber": 2,
        "TrafficMirrorSessionId": "tms-0060101cf8EXAMPLE" } ] }"#;
    let filters = r#"{ "TrafficMirrorFilters": [
      { "TrafficMirrorFilterId": "tmf-0293f26e86EXAMPLE",
        "IngressFilterRules": [
          { "TrafficMirrorFilterRuleId": "tmfr-0ca76e0e08EXAMPLE",
            "TrafficMirrorFilterId": "tmf-0293f26e86EXAMPLE",
            "TrafficDirection": "ingress", "RuleNumber": 100, "RuleAction": "accept",
            "Protocol": 6, "DestinationCidrBlock": "10.0.0.0/24",
            "SourceCidrBlock": "10.0.0.0/24", "Description": "TCP Rule" } ],
        "EgressFilterRules": [], "NetworkServices": [],
        "Description": "Exanple Filter", "Tags": [] } ] }"#;
    let yaml = import(sessions, filters, None, None).unwrap();
    // Both sessions name filters that the filters JSON lacks: warnings, no filter key.
    assert_eq!(yaml.matches("# WARNING: filter tmf-").count(), 2, "{yaml}");
    let c = load(&yaml);
    assert_eq!(c.mirror.sessions[1].name.as_deref(), Some("tag test"));
    assert_eq!(c.mirror.sessions[0].packet_length, Some(20));
    assert!(c.mirror.sessions.iter().all(|s| s.filter.is_none()));
    assert_eq!(
        c.filters["tmf-0293f26e86EXAMPLE"].ingress[0].protocol,
        Some(6)
    );
}

#[test]
fn empty_documents() {
    let yaml = import(
        r#"{"TrafficMirrorSessions": []}"#,
        r#"{"TrafficMirrorFilters": []}"#,
        None,
        None,
    )
    .unwrap();
    let c = load(&yaml);
    assert!(c.mirror.sessions.is_empty() && c.filters.is_empty());
}

#[test]
fn errors() {
    let e = import("{", FILTERS, None, None).unwrap_err();
    assert!(e.to_string().starts_with("sessions JSON: "), "{e}");
    let e = import(SESSIONS, FILTERS, Some("[1]"), None).unwrap_err();
    assert!(e.to_string().starts_with("targets JSON: "), "{e}");
    let bad = SESSIONS.replace("13314501", "16777216");
    let e = import(&bad, FILTERS, None, None).unwrap_err();
    assert!(e.to_string().contains("VirtualNetworkId 16777216"), "{e}");
}

#[test]
fn strings_are_quoted_safely() {
    let sessions = r#"{"TrafficMirrorSessions": [{"TrafficMirrorSessionId": "tms-1",
        "VirtualNetworkId": 1, "Description": "a: b # c\n\"quoted\" 'single' ünï"}]}"#;
    let yaml = import(sessions, r#"{"TrafficMirrorFilters": []}"#, None, None).unwrap();
    let c = load(&yaml);
    assert_eq!(
        c.mirror.sessions[0].description.as_deref(),
        Some("a: b # c\n\"quoted\" 'single' ünï")
    );
}

#[test]
fn flow_log_fields_from_interfaces() {
    // The testdata ENIs: the first has OwnerId, VpcId, SubnetId and an AZ name; the
    // second no OwnerId (the session's OwnerId stands in); the third ENI is absent.
    let yaml = import(SESSIONS, FILTERS, Some(TARGETS), Some(INTERFACES)).unwrap();
    let c = load(&yaml);
    let s = &c.mirror.sessions;
    assert_eq!(s[0].account_id.as_deref(), Some("111122223333"));
    assert_eq!(s[0].vpc_id.as_deref(), Some("vpc-0123456789abcdef0"));
    assert_eq!(s[0].subnet_id.as_deref(), Some("subnet-0123456789abcdef0"));
    assert_eq!(s[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(
        (s[0].instance_id.as_deref(), s[0].az_id.as_deref()),
        (None, None)
    );
    assert_eq!(s[1].account_id.as_deref(), Some("111122223333"));
    assert_eq!(s[1].subnet_id.as_deref(), Some("subnet-0fedcba9876543210"));
    assert_eq!(s[2].account_id.as_deref(), Some("111122223333"));
    assert!(s[2].vpc_id.is_none() && s[2].region.is_none());

    // Attachment.InstanceId and AvailabilityZoneId; a Local Zone's region; a value
    // the config would reject is left out with a warning, and the output loads.
    let sessions = r#"{"TrafficMirrorSessions": [
        {"TrafficMirrorSessionId": "tms-1", "VirtualNetworkId": 1, "NetworkInterfaceId": "eni-1"},
        {"TrafficMirrorSessionId": "tms-2", "VirtualNetworkId": 2, "NetworkInterfaceId": "eni-2"}]}"#;
    let interfaces = r#"{"NetworkInterfaces": [
        {"NetworkInterfaceId": "eni-1", "PrivateIpAddress": "10.0.0.5", "OwnerId": "123456789010",
         "VpcId": "vpc-abcdefab012345678", "SubnetId": "subnet-aaaaaaaa012345678",
         "AvailabilityZone": "us-west-2-lax-1a", "AvailabilityZoneId": "usw2-lax1-az1",
         "Attachment": {"InstanceId": "i-01234567890123456", "DeviceIndex": 0}},
        {"NetworkInterfaceId": "eni-2", "PrivateIpAddress": "10.0.0.6", "OwnerId": "amazon-elb",
         "AvailabilityZone": "us-gov-west-1b"}]}"#;
    let yaml = import(
        sessions,
        r#"{"TrafficMirrorFilters": []}"#,
        None,
        Some(interfaces),
    )
    .unwrap();
    let c = load(&yaml);
    let s = &c.mirror.sessions;
    assert_eq!(s[0].account_id.as_deref(), Some("123456789010"));
    assert_eq!(s[0].vpc_id.as_deref(), Some("vpc-abcdefab012345678"));
    assert_eq!(s[0].subnet_id.as_deref(), Some("subnet-aaaaaaaa012345678"));
    assert_eq!(s[0].instance_id.as_deref(), Some("i-01234567890123456"));
    assert_eq!(s[0].region.as_deref(), Some("us-west-2"));
    assert_eq!(s[0].az_id.as_deref(), Some("usw2-lax1-az1"));
    assert_eq!(s[1].account_id, None);
    assert!(
        yaml.contains("# WARNING: account-id left out: invalid value 'amazon-elb'"),
        "{yaml}"
    );
    assert_eq!(s[1].region.as_deref(), Some("us-gov-west-1"));
    assert_eq!(region_of_zone("us-east-1a").as_deref(), Some("us-east-1"));
    assert_eq!(region_of_zone("nowhere"), None);
    assert_eq!(region_of_zone("1a"), None);
}
