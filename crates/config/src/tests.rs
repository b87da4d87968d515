//! Loader tests: the embedded default, error messages (file, line, key), `--set`,
//! sessions and allow-lists.

use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn sets(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err(text: &str) -> ConfigError {
    Config::load("sensor.yaml", text, &[]).expect_err("expected an error")
}

/// Asserts the error names the file, the line and the key, and says `needle`.
fn assert_err(e: &ConfigError, line: u32, key: &str, needle: &str) {
    let s = e.to_string();
    assert_eq!(e.origin, Origin::File("sensor.yaml".into()), "{s}");
    assert_eq!(e.line, Some(line), "{s}");
    assert!(e.column.is_some(), "{s}");
    assert_eq!(e.key, key, "{s}");
    assert!(s.starts_with(&format!("sensor.yaml:{line}:")), "{s}");
    if !key.is_empty() {
        assert!(s.contains(&format!(": {key}: ")), "{s}");
    }
    assert!(s.contains(needle), "{s} should contain {needle}");
}

const GOOD: &str = "\
workers: 4
mirror:
  sessions:
    - id: tms-1
      name: web
      vni: 42
      source-ips: [10.0.1.15]
      eni-addresses: [10.0.1.15/32, 10.0.1.16, \"2600:1f18:aa::/80\"]
      filter: web-filter
    - id: tms-2
      vni: 42
      source-ips: [10.0.2.20]
      eni-addresses: [10.0.2.20]
      tenant: prod
    - erspan-id: 100
    - name: plain
filters:
  web-filter:
    ingress:
      - rule-number: 100
        action: accept
        protocol: 6
        source-cidr: 0.0.0.0/0
        destination-cidr: 10.0.0.0/16
        destination-port: 443
    egress: []
";

#[test]
fn embedded_default_loads_and_equals_code_defaults() {
    let c = Config::embedded_default();
    assert_eq!(c, Config::default());
    assert!(c.stream.async_oneside);
    assert!(c.stream.midstream);
    assert!(!c.stream.inline);
    assert_eq!(c.stream.reassembly.depth, ByteSize::mib(1));
    assert_eq!(c.mirror.unknown_session, UnknownSession::Inspect);
    assert!(c.mirror.sessions.is_empty());
    assert!(c.filters.is_empty());
    assert_eq!(c.checksum_validation, ChecksumValidation::None);
    assert_eq!(c.decoder.vxlan.ports, [4789]);
    assert_eq!(c.decoder.geneve.ports, [6081]);
    assert_eq!(c.flow_timeouts.tcp, FlowTimeoutSet::SURICATA_TCP);
    assert_eq!(c.flow_timeouts.udp, FlowTimeoutSet::SURICATA_DEFAULT);
    assert_eq!(c.outputs.eve.filename, "eve.json");
    assert!(EMBEDDED_DEFAULT_YAML.contains("async-oneside: yes"));
    assert!(EMBEDDED_DEFAULT_YAML.contains("midstream: yes"));
}

#[test]
fn empty_and_comment_only_text_is_the_default() {
    assert_eq!(Config::from_yaml("e.yaml", "").unwrap(), Config::default());
    assert_eq!(
        Config::from_yaml("e.yaml", "# nothing\n---\n").unwrap(),
        Config::default()
    );
}

#[test]
fn good_config_resolves() {
    let c = Config::from_yaml("sensor.yaml", GOOD).unwrap();
    assert_eq!(c.workers, 4);
    let s = &c.mirror.sessions;
    assert_eq!(s[0].key(), SessionKey::Vni(42));
    assert_eq!(s[0].tenant, "42");
    assert_eq!(s[1].tenant, "prod");
    assert_eq!(s[2].key(), SessionKey::Erspan(100));
    assert_eq!(s[2].tenant, "100");
    assert_eq!(s[3].key(), SessionKey::None);
    assert_eq!(s[3].tenant, "default");
    assert_eq!(c.session_filter(&s[0]).unwrap().name, "web-filter");
    assert!(c.session_filter(&s[1]).is_none());
    assert!(s[0].accepts_source(ip("10.0.1.15")));
    assert!(!s[0].accepts_source(ip("10.0.2.20")));
    assert!(s[3].accepts_source(ip("192.0.2.1")));
}

#[test]
fn session_direction() {
    let c = Config::from_yaml("sensor.yaml", GOOD).unwrap();
    let s = &c.mirror.sessions[0];
    let out = ip("203.0.113.5");
    assert_eq!(s.direction(ip("10.0.1.15"), out), Some(Direction::Egress));
    assert_eq!(s.direction(ip("10.0.1.16"), out), Some(Direction::Egress));
    assert_eq!(s.direction(out, ip("10.0.1.16")), Some(Direction::Ingress));
    assert_eq!(
        s.direction(out, ip("2600:1f18:aa::ffff")),
        Some(Direction::Ingress)
    );
    assert_eq!(s.direction(out, ip("2600:1f18:ab::1")), None);
    assert_eq!(s.direction(out, ip("10.0.1.17")), None);
    // hairpin: both ends are the ENI's -> egress
    assert_eq!(
        s.direction(ip("10.0.1.15"), ip("10.0.1.16")),
        Some(Direction::Egress)
    );
    // no eni-addresses: never a direction
    assert_eq!(c.mirror.sessions[3].direction(ip("10.0.1.15"), out), None);
}

#[test]
fn allow_lists() {
    let c = Config::default();
    assert!(c.mirror.source_allowed(ip("1.2.3.4")));
    assert!(c.mirror.vni_allowed(16_777_215));
    let c = Config::from_yaml(
        "a.yaml",
        "mirror:\n  source-allow: [10.0.0.0/16, 192.0.2.1, \"2001:db8::/32\"]\n  vni-allow: [42, \"100-200\", \"7\"]\n",
    )
    .unwrap();
    let m = &c.mirror;
    assert!(m.source_allowed(ip("10.0.255.255")));
    assert!(!m.source_allowed(ip("10.1.0.0")));
    assert!(m.source_allowed(ip("192.0.2.1")));
    assert!(!m.source_allowed(ip("192.0.2.2")));
    assert!(m.source_allowed(ip("2001:db8::5")));
    for (v, ok) in [
        (42, true),
        (41, false),
        (43, false),
        (99, false),
        (100, true),
        (150, true),
        (200, true),
        (201, false),
        (7, true),
    ] {
        assert_eq!(m.vni_allowed(v), ok, "vni {v}");
    }
}

// ---- errors name file, line and key ----

#[test]
fn error_unknown_top_level_key() {
    let e = err("workers: 2\nstreem:\n  midstream: yes\n");
    assert_err(&e, 2, "", "unknown key 'streem'");
    assert!(e.to_string().contains("expected one of"), "{e}");
}

#[test]
fn error_unknown_key_in_mirror() {
    let e = err("mirror:\n  unknown-session: drop\n  sesions: []\n");
    assert_err(&e, 3, "mirror", "unknown key 'sesions'");
    assert_eq!(
        e.to_string().split(", expected").next().unwrap(),
        "sensor.yaml:3:3: mirror: unknown key 'sesions'"
    );
}

#[test]
fn error_unknown_key_in_session() {
    let text = GOOD.replace(
        "      tenant: prod\n",
        "      tenant: prod\n      vlan: 5\n",
    );
    let e = err(&text);
    assert_err(&e, 15, "mirror.sessions[1]", "unknown key 'vlan'");
}

#[test]
fn error_bad_vni() {
    let text = GOOD.replace(
        "    - id: tms-2\n      vni: 42",
        "    - id: tms-2\n      vni: 16777216",
    );
    let e = err(&text);
    assert_err(
        &e,
        11,
        "mirror.sessions[1].vni",
        "invalid value 16777216, expected a 24-bit VNI (0..=16777215)",
    );
    assert_eq!(
        e.to_string(),
        "sensor.yaml:11:12: mirror.sessions[1].vni: invalid value 16777216, expected a 24-bit VNI (0..=16777215)"
    );
    let e = err("mirror:\n  sessions:\n    - vni: -1\n");
    assert_err(&e, 3, "mirror.sessions[0].vni", "24-bit VNI");
    let e = err("mirror:\n  sessions:\n    - erspan-id: 1024\n");
    assert_err(&e, 3, "mirror.sessions[0].erspan-id", "0..=1023");
    let e = err("mirror:\n  sessions:\n    - vni: 1\n      erspan-id: 2\n");
    assert_err(&e, 4, "mirror.sessions[0].erspan-id", "not both");
    let e = err("mirror:\n  vni-allow: [\"300-200\"]\n");
    assert_err(&e, 2, "mirror.vni-allow[0]", "300-200");
}

#[test]
fn error_bad_cidr() {
    let text = GOOD.replace(
        "destination-cidr: 10.0.0.0/16",
        "destination-cidr: 10.0.0.0/33",
    );
    let e = err(&text);
    assert_err(
        &e,
        24,
        "filters.web-filter.ingress[0].destination-cidr",
        "'10.0.0.0/33'",
    );
    let e = err("mirror:\n  sessions:\n    - eni-addresses: [10.0.0.1, bogus]\n");
    assert_err(&e, 3, "mirror.sessions[0].eni-addresses[1]", "'bogus'");
    let e = err("mirror:\n  source-allow: [300.0.0.0/8]\n");
    assert_err(&e, 2, "mirror.source-allow[0]", "300.0.0.0/8");
}

#[test]
fn error_mixed_cidr_families() {
    let text = GOOD.replace(
        "destination-cidr: 10.0.0.0/16",
        "destination-cidr: \"2001:db8::/32\"",
    );
    let e = err(&text);
    assert_err(
        &e,
        24,
        "filters.web-filter.ingress[0].destination-cidr",
        "different IP families",
    );
}

#[test]
fn error_bad_port_range() {
    let text = GOOD.replace("destination-port: 443", "destination-port: \"2000-1000\"");
    let e = err(&text);
    assert_err(
        &e,
        25,
        "filters.web-filter.ingress[0].destination-port",
        "2000-1000",
    );
    let text = GOOD.replace("destination-port: 443", "destination-port: 65536");
    let e = err(&text);
    assert_err(
        &e,
        25,
        "filters.web-filter.ingress[0].destination-port",
        "65536",
    );
    // port range without tcp/udp
    let text = GOOD.replace("protocol: 6", "protocol: 1");
    let e = err(&text);
    assert_err(
        &e,
        25,
        "filters.web-filter.ingress[0].destination-port",
        "only to protocol 6 (tcp) or 17 (udp)",
    );
    let text = GOOD.replace("        protocol: 6\n", "");
    let e = err(&text);
    assert_err(
        &e,
        24,
        "filters.web-filter.ingress[0].destination-port",
        "all protocols",
    );
}

#[test]
fn error_unknown_filter_name() {
    let text = GOOD.replace("filter: web-filter", "filter: web-filtre");
    let e = err(&text);
    assert_err(
        &e,
        9,
        "mirror.sessions[0].filter",
        "unknown filter 'web-filtre', expected one of web-filter",
    );
}

#[test]
fn error_duplicate_rule_number() {
    let text = GOOD.replace(
        "    egress: []\n",
        "      - { rule-number: 100, action: reject, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }\n    egress:\n      - { rule-number: 100, action: reject, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }\n",
    );
    let e = err(&text);
    assert_err(
        &e,
        26,
        "filters.web-filter.ingress[1].rule-number",
        "duplicate rule-number 100 in ingress",
    );
    let e = err(
        "filters:\n  f:\n    egress:\n      - { rule-number: 0, action: accept, source-cidr: 0.0.0.0/0, destination-cidr: 0.0.0.0/0 }\n",
    );
    assert_err(
        &e,
        4,
        "filters.f.egress[0].rule-number",
        "expected 1..=32766",
    );
}

#[test]
fn error_duplicate_session_id() {
    let text = GOOD.replace("id: tms-2", "id: tms-1");
    let e = err(&text);
    assert_err(
        &e,
        10,
        "mirror.sessions[1].id",
        "duplicate session id 'tms-1'",
    );
}

#[test]
fn error_bad_values_elsewhere() {
    assert_err(
        &err("stream:\n  midstream: maybe\n"),
        2,
        "stream.midstream",
        "'maybe'",
    );
    assert_err(
        &err("stream:\n  reassembly:\n    depth: 1zb\n"),
        3,
        "stream.reassembly.depth",
        "'1zb'",
    );
    assert_err(
        &err("stream:\n  reassembly:\n    urgent:\n      policy: OOB\n"),
        4,
        "stream.reassembly.urgent.policy",
        "invalid value 'OOB', expected one of inline, drop, oob, gap",
    );
    // Suricata refuses `oob` as the limit's policy.
    assert_err(
        &err("stream:\n  reassembly:\n    urgent:\n      oob-limit-policy: oob\n"),
        4,
        "stream.reassembly.urgent.oob-limit-policy",
        "expected one of inline, drop, gap",
    );
    assert_err(
        &err("checksum-validation: some\n"),
        1,
        "checksum-validation",
        "none or all",
    );
    assert_err(
        &err("decoder:\n  vxlan:\n    ports: \"[8472, 0]\"\n"),
        3,
        "decoder.vxlan.ports",
        "invalid port '0'",
    );
    assert_err(
        &err("decoder:\n  vxlan:\n    enabled: yes\n    ports: []\n"),
        4,
        "decoder.vxlan.ports",
        "at least one port",
    );
    assert_err(
        &err("flow-timeouts:\n  tcp:\n    neww: 5\n"),
        3,
        "flow-timeouts.tcp",
        "unknown key 'neww'",
    );
    assert_err(
        &err("mirror:\n  unknown-session: ignore\n"),
        2,
        "mirror.unknown-session",
        "'ignore'",
    );
    assert_err(
        &err("mirror:\n  sessions:\n    - packet-length: 0\n"),
        3,
        "mirror.sessions[0].packet-length",
        "1..=65535",
    );
    assert_err(
        &err(
            "filters:\n  f:\n    ingress:\n      - rule-number: 1\n        action: allow\n        source-cidr: 0.0.0.0/0\n        destination-cidr: 0.0.0.0/0\n",
        ),
        5,
        "filters.f.ingress[0].action",
        "'allow'",
    );
    assert_err(
        &err("filters:\n  f:\n    ingress:\n      - rule-number: 1\n        action: accept\n"),
        4,
        "filters.f.ingress[0]",
        "missing key 'source-cidr'",
    );
}

#[test]
fn error_yaml_syntax_names_line() {
    let e = err("mirror:\n  sessions: [\n  - a\n: b\n");
    assert_eq!(e.origin, Origin::File("sensor.yaml".into()));
    assert!(e.line.is_some(), "{e}");
}

// ---- --set ----

#[test]
fn set_each_suricata_key() {
    type Check = fn(&Config) -> bool;
    let cases: &[(&str, &str, Check)] = &[
        ("stream.midstream", "yes", |c| c.stream.midstream),
        ("stream.midstream", "true", |c| c.stream.midstream),
        ("stream.midstream", "on", |c| c.stream.midstream),
        ("stream.async-oneside", "no", |c| !c.stream.async_oneside),
        ("stream.async-oneside", "false", |c| !c.stream.async_oneside),
        ("stream.async-oneside", "off", |c| !c.stream.async_oneside),
        ("stream.inline", "yes", |c| c.stream.inline),
        ("stream.inline", "auto", |c| !c.stream.inline),
        ("stream.reassembly.depth", "64kb", |c| {
            c.stream.reassembly.depth == ByteSize(65536)
        }),
        ("stream.reassembly.depth", "1gb", |c| {
            c.stream.reassembly.depth == ByteSize(1 << 30)
        }),
        ("stream.reassembly.depth", "0", |c| {
            c.stream.reassembly.depth == ByteSize(0)
        }),
        ("stream.reassembly.urgent.policy", "oob", |c| {
            c.stream.reassembly.urgent.policy == UrgentPolicy::Oob
        }),
        ("stream.reassembly.urgent.policy", "gap", |c| {
            c.stream.reassembly.urgent.policy == UrgentPolicy::Gap
        }),
        ("stream.reassembly.urgent.policy", "drop", |c| {
            c.stream.reassembly.urgent.policy == UrgentPolicy::Drop
        }),
        ("stream.reassembly.urgent.oob-limit-policy", "gap", |c| {
            c.stream.reassembly.urgent.oob_limit_policy == UrgentPolicy::Gap
        }),
        ("checksum-validation", "all", |c| {
            c.checksum_validation == ChecksumValidation::All
        }),
        ("checksum-validation", "none", |c| {
            c.checksum_validation == ChecksumValidation::None
        }),
        ("checksum-validation", "yes", |c| {
            c.checksum_validation == ChecksumValidation::All
        }),
        ("checksum-validation", "no", |c| {
            c.checksum_validation == ChecksumValidation::None
        }),
        ("checksum-validation", "auto", |c| {
            c.checksum_validation == ChecksumValidation::None
        }),
        ("flow-timeouts.default.new", "1", |c| {
            c.flow_timeouts.default.new == 1
        }),
        ("flow-timeouts.default.emergency-bypassed", "2", |c| {
            c.flow_timeouts.default.emergency_bypassed == 2
        }),
        ("flow-timeouts.tcp.established", "3600", |c| {
            c.flow_timeouts.tcp.established == 3600 && c.flow_timeouts.tcp.new == 60
        }),
        ("flow-timeouts.tcp.closed", "5", |c| {
            c.flow_timeouts.tcp.closed == 5
        }),
        ("flow-timeouts.tcp.emergency-closed", "6", |c| {
            c.flow_timeouts.tcp.emergency_closed == 6
        }),
        ("flow-timeouts.udp.new", "7", |c| {
            c.flow_timeouts.udp.new == 7
        }),
        ("flow-timeouts.udp.emergency-established", "8", |c| {
            c.flow_timeouts.udp.emergency_established == 8
        }),
        ("flow-timeouts.icmp.bypassed", "9", |c| {
            c.flow_timeouts.icmp.bypassed == 9
        }),
        ("flow-timeouts.icmp.emergency-new", "10", |c| {
            c.flow_timeouts.icmp.emergency_new == 10
        }),
        ("flow-timeouts.sctp.established", "11", |c| {
            c.flow_timeouts.sctp.established == 11
        }),
        ("workers", "3", |c| c.workers == 3),
        ("decoder.vxlan.ports", "[8472, 4789]", |c| {
            c.decoder.vxlan.ports == [8472, 4789]
        }),
        ("decoder.vxlan.ports", "4790", |c| {
            c.decoder.vxlan.ports == [4790]
        }),
        ("decoder.geneve.enabled", "no", |c| {
            !c.decoder.geneve.enabled
        }),
        ("mirror.unknown-session", "drop", |c| {
            c.mirror.unknown_session == UnknownSession::Drop
        }),
        ("mirror.vni-allow", "[42, 100-200]", |c| {
            c.mirror.vni_allowed(150) && !c.mirror.vni_allowed(43)
        }),
        ("outputs.eve.tunnel-flows", "yes", |c| {
            c.outputs.eve.tunnel_flows
        }),
        ("rule-files", "[a.rules, b.rules]", |c| {
            c.rule_files == ["a.rules", "b.rules"]
        }),
    ];
    for (k, v, check) in cases {
        // on the embedded default and on a file that lacks the section
        let c = Config::load_embedded(&sets(&[(k, v)])).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        assert!(check(&c), "{k}={v} on the embedded default");
        let c = Config::load("s.yaml", "workers: 1\n", &sets(&[(k, v)]))
            .unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        assert!(check(&c), "{k}={v} on a small file");
    }
}

#[test]
fn set_into_sessions_and_order() {
    let c = Config::load(
        "sensor.yaml",
        GOOD,
        &sets(&[
            ("mirror.sessions[1].vni", "7"),
            ("mirror.sessions.1.tenant", "x"),
            ("stream.midstream", "yes"),
            ("stream.midstream", "no"),
        ]),
    )
    .unwrap();
    assert_eq!(c.mirror.sessions[1].key(), SessionKey::Vni(7));
    assert_eq!(c.mirror.sessions[1].tenant, "x");
    assert!(!c.stream.midstream, "later overrides win");
    // the file's other values survive
    assert_eq!(c.workers, 4);
    assert_eq!(c.filters["web-filter"].ingress.len(), 1);
}

fn set_err(text: &str, k: &str, v: &str) -> ConfigError {
    Config::load(
        "sensor.yaml",
        text,
        &sets(&[("stream.midstream", "yes"), (k, v)]),
    )
    .expect_err("expected an error")
}

#[test]
fn error_bad_set_key() {
    let e = set_err("", "stream.foo", "1");
    assert_eq!(
        e.origin,
        Origin::Override {
            key: "stream.foo".into(),
            value: "1".into()
        }
    );
    assert_eq!(
        e.to_string().split(", expected").next().unwrap(),
        "--set stream.foo=1: unknown key 'foo' in stream"
    );
    let e = set_err(GOOD, "mirror.sessions[0].vlan", "3");
    assert!(
        e.to_string().starts_with(
            "--set mirror.sessions[0].vlan=3: unknown key 'vlan' in mirror.sessions[0]"
        ),
        "{e}"
    );
    let e = set_err(GOOD, "nope", "3");
    assert!(
        e.to_string()
            .starts_with("--set nope=3: unknown key 'nope', expected one of"),
        "{e}"
    );
    let e = set_err(GOOD, "mirror.sessions[9].vni", "3");
    assert!(
        e.to_string()
            .starts_with("--set mirror.sessions[9].vni=3: index 9 is out of range"),
        "{e}"
    );
    let e = set_err(GOOD, "stream.midstream.x", "3");
    assert!(
        e.to_string()
            .starts_with("--set stream.midstream.x=3: cannot set key 'x'"),
        "{e}"
    );
    let e = set_err(GOOD, "stream..x", "3");
    assert!(
        e.to_string().starts_with("--set stream..x=3: invalid key"),
        "{e}"
    );
    assert!(parse_set("novalue").is_err());
    assert_eq!(
        parse_set("a.b=c=d").unwrap(),
        ("a.b".to_string(), "c=d".to_string())
    );
}

#[test]
fn error_bad_set_value() {
    let e = set_err(GOOD, "stream.async-oneside", "maybe");
    assert_eq!(
        e.to_string(),
        "--set stream.async-oneside=maybe: invalid value 'maybe', expected a boolean (yes/no, true/false, on/off)"
    );
    assert_eq!(e.key, "stream.async-oneside");
    let e = set_err(GOOD, "stream.reassembly.depth", "lots");
    assert!(
        e.to_string().starts_with(
            "--set stream.reassembly.depth=lots: invalid value 'lots', expected a size"
        ),
        "{e}"
    );
    let e = set_err(GOOD, "flow-timeouts.tcp.new", "-1");
    assert!(
        e.to_string()
            .starts_with("--set flow-timeouts.tcp.new=-1: invalid value"),
        "{e}"
    );
    let e = set_err(GOOD, "checksum-validation", "some");
    assert!(
        e.to_string()
            .starts_with("--set checksum-validation=some: invalid value 'some'"),
        "{e}"
    );
    let e = set_err(GOOD, "mirror.sessions[0].vni", "16777216");
    assert!(e.to_string().contains("expected a 24-bit VNI"), "{e}");
    // semantic errors caused by an override name the override
    let e = set_err(GOOD, "mirror.sessions[0].filter", "missing");
    assert_eq!(
        e.origin,
        Origin::Override {
            key: "mirror.sessions[0].filter".into(),
            value: "missing".into()
        }
    );
    assert!(e.to_string().contains("unknown filter 'missing'"), "{e}");
}

#[test]
fn load_file_names_the_path() {
    let e = Config::load_file("/nonexistent/mirador.yaml", &[]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/mirador.yaml: cannot read"),
        "{e}"
    );
}

#[test]
fn too_many_tunnel_ports_is_an_error() {
    let e = err("decoder:\n  vxlan:\n    ports: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
    assert_err(&e, 3, "decoder.vxlan.ports", "at most 8");
    // Eight are fine.
    Config::load(
        "sensor.yaml",
        "decoder:\n  geneve:\n    ports: [1, 2, 3, 4, 5, 6, 7, 8]\n",
        &[],
    )
    .unwrap();
}

#[test]
fn app_layer_section() {
    let c = Config::load("sensor.yaml", "", &[]).unwrap();
    assert_eq!(c.app_layer.protocols.http.enabled, Enabled::Yes);
    let h = &c.app_layer.protocols.http.libhtp.default_config;
    assert_eq!(h.request_body_limit.bytes(), 100 * 1024);
    assert_eq!(
        c.app_layer.protocols.tls.ja3_fingerprints,
        Fingerprints::Auto
    );
    let yaml = "app-layer:\n  protocols:\n    http:\n      enabled: detection-only\n      libhtp:\n        default-config:\n          response-body-limit: 1mb\n    tls:\n      ja3-fingerprints: yes\n    dns:\n      udp:\n        enabled: no\n";
    let c = Config::load("sensor.yaml", yaml, &[]).unwrap();
    let p = &c.app_layer.protocols;
    assert_eq!(p.http.enabled, Enabled::DetectionOnly);
    assert!(!p.http.enabled.parses());
    assert_eq!(
        p.http.libhtp.default_config.response_body_limit.bytes(),
        1 << 20
    );
    assert_eq!(p.tls.ja3_fingerprints, Fingerprints::Yes);
    assert!(!p.dns.udp.enabled && p.dns.tcp.enabled);
    // --set reaches it, and errors name the key.
    let c = Config::load(
        "sensor.yaml",
        "",
        &sets(&[("app-layer.protocols.tls.enabled", "no")]),
    )
    .unwrap();
    assert_eq!(c.app_layer.protocols.tls.enabled, Enabled::No);
    let e = err("app-layer:\n  protocols:\n    http:\n      enabled: maybe\n");
    assert_err(
        &e,
        4,
        "app-layer.protocols.http.enabled",
        "invalid value 'maybe'",
    );
    let e = err("app-layer:\n  protocols:\n    smtp:\n      enabled: yes\n");
    assert_err(&e, 3, "app-layer.protocols", "unknown key 'smtp'");
}
