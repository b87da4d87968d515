//! `stream` memory keys, `host-os-policy`, `flow`, `defrag`: defaults, `--set`, errors
//! (file, line, column and key), the longest-prefix lookup and the name mappings.

use std::net::IpAddr;

use super::*;
use crate::{ByteSize, ConfigError, EMBEDDED_DEFAULT_YAML, Origin};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn sets(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(text: &str) -> Config {
    Config::load("sensor.yaml", text, &[]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn err(text: &str) -> ConfigError {
    Config::load("sensor.yaml", text, &[]).expect_err("expected an error")
}

fn set_err(k: &str, v: &str) -> ConfigError {
    Config::load("sensor.yaml", "workers: 1\n", &sets(&[(k, v)])).expect_err("expected an error")
}

/// Asserts the error names the file, the line (and a column) and the key, and says
/// `needle`.
fn assert_err(e: &ConfigError, line: u32, key: &str, needle: &str) {
    let s = e.to_string();
    assert_eq!(e.origin, Origin::File("sensor.yaml".into()), "{s}");
    assert_eq!(e.line, Some(line), "{s}");
    let col = e.column.unwrap_or_else(|| panic!("no column: {s}"));
    assert!(s.starts_with(&format!("sensor.yaml:{line}:{col}: ")), "{s}");
    assert_eq!(e.key, key, "{s}");
    if !key.is_empty() {
        assert!(s.contains(&format!(": {key}: ")), "{s}");
    }
    assert!(s.contains(needle), "{s} should contain {needle}");
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::default();
    let s = &c.stream;
    assert!(s.midstream);
    assert_eq!(s.memcap, ByteSize::mib(64));
    assert_eq!(s.reassembly.memcap, ByteSize::mib(256));
    assert_eq!(s.reassembly.depth, ByteSize::mib(1));
    assert_eq!(s.reassembly.max_segments_per_direction, 3072);
    assert_eq!(s.reassembly.max_buffered_per_direction, ByteSize::mib(4));
    assert!(s.reassembly.check_overlap_different_data);

    assert_eq!(
        c.flow,
        FlowConfig {
            memcap: ByteSize::mib(128),
            hash_size: 65536,
            prealloc: 10000,
            emergency_recovery: 30,
            max_flows: 0,
        }
    );
    assert_eq!(
        c.defrag,
        DefragConfig {
            memcap: ByteSize::mib(32),
            hash_size: 65536,
            trackers: 65535,
            max_frags: 65535,
            prealloc: true,
            timeout: 60,
            max_fragments_per_datagram: 8192,
        }
    );
    assert_eq!(c.host_os_policy, HostOsPolicy::default());
    assert_eq!(c.host_os_policy.policy_for(ip("10.0.0.1")), OsPolicy::Bsd);
    assert_eq!(
        c.host_os_policy.policy_for(ip("2001:db8::1")),
        OsPolicy::Bsd
    );

    // The embedded file spells out every new key, with the same values.
    assert_eq!(Config::embedded_default(), c);
    for key in [
        "memcap: 64mb",
        "memcap: 256mb",
        "max-segments-per-direction: 3072",
        "max-buffered-per-direction: 4mb",
        "check-overlap-different-data: yes",
        "host-os-policy:",
        "bsd-right: []",
        "windows2k3: []",
        "first: []",
        "last: []",
        "memcap: 32mb",
        "trackers: 65535",
        "max-frags: 65535",
        "timeout: 60",
        "max-fragments-per-datagram: 8192",
        "memcap: 128mb",
        "prealloc: 10000",
        "emergency-recovery: 30",
        "max-flows: 0",
    ] {
        assert!(EMBEDDED_DEFAULT_YAML.contains(key), "{key}");
    }
    for name in NAMES {
        assert!(
            EMBEDDED_DEFAULT_YAML.contains(&format!("\n  {name}: []\n")),
            "{name}"
        );
    }
}

#[test]
fn sections_resolve_from_a_file() {
    let c = load(
        "stream:\n  memcap: 1gb\n  reassembly:\n    memcap: 2gb\n    max-segments-per-direction: 100\n    max-buffered-per-direction: 64kb\n    check-overlap-different-data: no\nflow:\n  memcap: 256mb\n  hash-size: 1024\n  prealloc: 0\n  emergency-recovery: 100\n  max-flows: 5000\ndefrag:\n  memcap: 1mb\n  hash-size: 4096\n  trackers: 10\n  max-frags: 20\n  prealloc: no\n  timeout: 86400\n  max-fragments-per-datagram: 1\n",
    );
    assert_eq!(c.stream.memcap, ByteSize(1 << 30));
    assert_eq!(c.stream.reassembly.memcap, ByteSize(2 << 30));
    assert_eq!(c.stream.reassembly.max_segments_per_direction, 100);
    assert_eq!(
        c.stream.reassembly.max_buffered_per_direction,
        ByteSize::kib(64)
    );
    assert!(!c.stream.reassembly.check_overlap_different_data);
    // keys not given keep their defaults
    assert_eq!(c.stream.reassembly.depth, ByteSize::mib(1));
    assert!(c.stream.midstream);
    assert_eq!(
        c.flow,
        FlowConfig {
            memcap: ByteSize::mib(256),
            hash_size: 1024,
            prealloc: 0,
            emergency_recovery: 100,
            max_flows: 5000,
        }
    );
    assert_eq!(
        c.defrag,
        DefragConfig {
            memcap: ByteSize::mib(1),
            hash_size: 4096,
            trackers: 10,
            max_frags: 20,
            prealloc: false,
            timeout: 86400,
            max_fragments_per_datagram: 1,
        }
    );
    let c = load("flow:\n  memcap: 1gb\n");
    assert_eq!(c.flow.memcap, ByteSize(1 << 30));
    assert_eq!(c.flow.hash_size, 65536);
    let c = load("host-os-policy:\ndefrag:\n");
    assert_eq!(c.host_os_policy, HostOsPolicy::default());
    assert_eq!(c.defrag, DefragConfig::default());
}

#[test]
fn set_each_new_key() {
    type Check = fn(&Config) -> bool;
    let cases: &[(&str, &str, Check)] = &[
        ("stream.midstream", "no", |c| !c.stream.midstream),
        ("stream.memcap", "1gb", |c| {
            c.stream.memcap == ByteSize(1 << 30)
        }),
        ("stream.reassembly.memcap", "512mb", |c| {
            c.stream.reassembly.memcap == ByteSize::mib(512)
        }),
        ("stream.reassembly.max-segments-per-direction", "10", |c| {
            c.stream.reassembly.max_segments_per_direction == 10
        }),
        ("stream.reassembly.max-buffered-per-direction", "1mb", |c| {
            c.stream.reassembly.max_buffered_per_direction == ByteSize::mib(1)
        }),
        (
            "stream.reassembly.check-overlap-different-data",
            "no",
            |c| !c.stream.reassembly.check_overlap_different_data,
        ),
        ("flow.memcap", "1gb", |c| c.flow.memcap == ByteSize(1 << 30)),
        ("flow.hash-size", "262144", |c| c.flow.hash_size == 262_144),
        ("flow.prealloc", "5", |c| c.flow.prealloc == 5),
        ("flow.emergency-recovery", "50", |c| {
            c.flow.emergency_recovery == 50
        }),
        ("flow.max-flows", "1000000", |c| {
            c.flow.max_flows == 1_000_000
        }),
        ("defrag.memcap", "64mb", |c| {
            c.defrag.memcap == ByteSize::mib(64)
        }),
        ("defrag.hash-size", "4096", |c| c.defrag.hash_size == 4096),
        ("defrag.trackers", "100", |c| c.defrag.trackers == 100),
        ("defrag.max-frags", "200", |c| c.defrag.max_frags == 200),
        ("defrag.prealloc", "no", |c| !c.defrag.prealloc),
        ("defrag.timeout", "30", |c| c.defrag.timeout == 30),
        ("defrag.max-fragments-per-datagram", "64", |c| {
            c.defrag.max_fragments_per_datagram == 64
        }),
        ("host-os-policy.linux", "[10.0.0.0/8]", |c| {
            c.host_os_policy.entries == [(net("10.0.0.0/8"), OsPolicy::Linux)]
        }),
        ("host-os-policy.linux", "10.0.0.0/8", |c| {
            c.host_os_policy.entries == [(net("10.0.0.0/8"), OsPolicy::Linux)]
        }),
        (
            "host-os-policy.windows",
            "[10.0.0.0/8, 2001:db8::/32]",
            |c| {
                c.host_os_policy.entries
                    == [
                        (net("10.0.0.0/8"), OsPolicy::Windows),
                        (net("2001:db8::/32"), OsPolicy::Windows),
                    ]
            },
        ),
        ("host-os-policy.bsd-right", "[\"::1\", 192.0.2.1]", |c| {
            c.host_os_policy.policy_for(ip("::1")) == OsPolicy::BsdRight
                && c.host_os_policy.policy_for(ip("192.0.2.1")) == OsPolicy::BsdRight
                && c.host_os_policy.policy_for(ip("192.0.2.2")) == OsPolicy::Bsd
        }),
        ("host-os-policy.last", "[]", |c| {
            c.host_os_policy.entries.is_empty()
        }),
    ];
    for (k, v, check) in cases {
        // on the embedded default and on a file that lacks the section
        let c = Config::load_embedded(&sets(&[(k, v)])).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        assert!(check(&c), "{k}={v} on the embedded default: {c:?}");
        let c = Config::load("s.yaml", "workers: 1\n", &sets(&[(k, v)]))
            .unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        assert!(check(&c), "{k}={v} on a small file: {c:?}");
    }
    // a single list item
    let c = Config::load_embedded(&sets(&[("host-os-policy.solaris[0]", "10.9.0.0/16")])).unwrap();
    assert_eq!(
        c.host_os_policy.entries,
        [(net("10.9.0.0/16"), OsPolicy::Solaris)]
    );
}

// ---- errors name file, line, column and key ----

#[test]
fn error_bad_values() {
    for (text, line, key, needle) in [
        (
            "flow:\n  emergency-recovery: 0\n",
            2,
            "flow.emergency-recovery",
            "invalid value 0, expected a percentage (1..=100)",
        ),
        (
            "flow:\n  emergency-recovery: 101\n",
            2,
            "flow.emergency-recovery",
            "invalid value 101, expected a percentage (1..=100)",
        ),
        (
            "flow:\n  emergency-recovery: 300\n",
            2,
            "flow.emergency-recovery",
            "invalid value 300",
        ),
        (
            "flow:\n  emergency-recovery: -1\n",
            2,
            "flow.emergency-recovery",
            "invalid value -1",
        ),
        (
            "flow:\n  memcap: lots\n",
            2,
            "flow.memcap",
            "invalid value 'lots', expected a size",
        ),
        (
            "flow:\n  memcap: 0\n",
            2,
            "flow.memcap",
            "invalid value 0, expected a size above 0",
        ),
        (
            "flow:\n  hash-size: 0\n",
            2,
            "flow.hash-size",
            "invalid value 0, expected at least 1",
        ),
        ("flow:\n  hash-size: -5\n", 2, "flow.hash-size", "'-5'"),
        (
            "flow:\n  max-flow: 5\n",
            2,
            "flow",
            "unknown key 'max-flow', expected one of",
        ),
        (
            "defrag:\n  timeout: 0\n",
            2,
            "defrag.timeout",
            "invalid value 0, expected 1..=86400 (seconds)",
        ),
        (
            "defrag:\n  timeout: 86401\n",
            2,
            "defrag.timeout",
            "invalid value 86401",
        ),
        (
            "defrag:\n  memcap: 32mb\n  trackers: 0\n",
            3,
            "defrag.trackers",
            "expected at least 1",
        ),
        (
            "defrag:\n  max-frags: 0\n",
            2,
            "defrag.max-frags",
            "at least 1",
        ),
        (
            "defrag:\n  max-fragments-per-datagram: 0\n",
            2,
            "defrag.max-fragments-per-datagram",
            "at least 1",
        ),
        (
            "defrag:\n  hash-size: 0\n",
            2,
            "defrag.hash-size",
            "at least 1",
        ),
        (
            "defrag:\n  prealloc: maybe\n",
            2,
            "defrag.prealloc",
            "invalid value 'maybe', expected a boolean",
        ),
        ("defrag:\n  memcap: 0\n", 2, "defrag.memcap", "above 0"),
        ("stream:\n  memcap: 0\n", 2, "stream.memcap", "above 0"),
        (
            "stream:\n  reassembly:\n    memcap: 1zb\n",
            3,
            "stream.reassembly.memcap",
            "'1zb'",
        ),
        (
            "stream:\n  reassembly:\n    max-segments-per-direction: 0\n",
            3,
            "stream.reassembly.max-segments-per-direction",
            "at least 1",
        ),
        (
            "stream:\n  reassembly:\n    max-buffered-per-direction: 0\n",
            3,
            "stream.reassembly.max-buffered-per-direction",
            "above 0",
        ),
        (
            "stream:\n  reassembly:\n    check-overlap-different-data: sometimes\n",
            3,
            "stream.reassembly.check-overlap-different-data",
            "'sometimes'",
        ),
        (
            "stream:\n  max-window: 1mb\n",
            2,
            "stream",
            "unknown key 'max-window'",
        ),
    ] {
        assert_err(&err(text), line, key, needle);
    }
    // the exact text
    assert_eq!(
        err("workers: 2\nflow:\n  emergency-recovery: 0\n").to_string(),
        "sensor.yaml:3:23: flow.emergency-recovery: invalid value 0, expected a percentage (1..=100)"
    );
    assert_eq!(
        err("defrag:\n  timeout: 0\n").to_string(),
        "sensor.yaml:2:12: defrag.timeout: invalid value 0, expected 1..=86400 (seconds)"
    );
}

#[test]
fn error_bad_host_os_policy() {
    let e = err("host-os-policy:\n  linux: [10.0.0.0/8]\n  linuxx: [10.1.0.0/16]\n");
    assert_err(&e, 3, "host-os-policy", "unknown key 'linuxx'");
    assert!(e.to_string().contains("expected one of"), "{e}");
    assert!(e.to_string().contains("'windows2k3'"), "{e}");
    let e = err("host-os-policy:\n  linux: [10.0.0.0/8, 10.0.0.0/33]\n");
    assert_err(
        &e,
        2,
        "host-os-policy.linux[1]",
        "invalid value '10.0.0.0/33', expected an IP address or a CIDR",
    );
    let e = err("host-os-policy:\n  windows:\n    - 10.0.0.0/8\n    - bogus\n");
    assert_err(&e, 4, "host-os-policy.windows[1]", "'bogus'");
    let e = err("host-os-policy:\n  solaris: \"10.0.0.0/8, 300.0.0.1\"\n");
    assert_err(
        &e,
        2,
        "host-os-policy.solaris",
        "invalid value '300.0.0.1', expected an IP address",
    );
    let e = err("host-os-policy:\n  linux: [10.0.0.0/8]\n  bsd: []\n  linux: [10.1.0.0/16]\n");
    assert_eq!(e.origin, Origin::File("sensor.yaml".into()), "{e}");
    assert!(e.to_string().contains("duplicate"), "{e}");
    assert!(e.to_string().contains("linux"), "{e}");
    let e = err("host-os-policy: [10.0.0.0/8]\n");
    assert_err(&e, 1, "host-os-policy", "invalid type");
    // Suricata's internal "none" is not a key.
    let e = err("host-os-policy:\n  none: [10.0.0.0/8]\n");
    assert_err(&e, 2, "host-os-policy", "unknown key 'none'");
}

#[test]
fn error_bad_set_values() {
    let e = set_err("flow.emergency-recovery", "0");
    assert_eq!(
        e.to_string(),
        "--set flow.emergency-recovery=0: invalid value 0, expected a percentage (1..=100)"
    );
    assert_eq!(e.key, "flow.emergency-recovery");
    let e = set_err("flow.memcap", "lots");
    assert!(
        e.to_string()
            .starts_with("--set flow.memcap=lots: invalid value 'lots', expected a size"),
        "{e}"
    );
    // a semantic error names the override
    let e = set_err("defrag.timeout", "0");
    assert_eq!(
        e.origin,
        Origin::Override {
            key: "defrag.timeout".into(),
            value: "0".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "--set defrag.timeout=0: invalid value 0, expected 1..=86400 (seconds)"
    );
    let e = set_err("host-os-policy.bogus", "[10.0.0.0/8]");
    assert!(
        e.to_string().starts_with(
            "--set host-os-policy.bogus=[10.0.0.0/8]: unknown key 'bogus' in host-os-policy"
        ),
        "{e}"
    );
    let e = set_err("host-os-policy.linux", "[10.0.0.0/8, nope]");
    assert!(
        e.to_string()
            .starts_with("--set host-os-policy.linux=[10.0.0.0/8, nope]: invalid value 'nope'"),
        "{e}"
    );
    assert_eq!(e.key, "host-os-policy.linux[1]");
}

// ---- lookup ----

const POLICIES: &str = "\
host-os-policy:
  windows: [0.0.0.0/0]
  linux: [10.0.0.0/8, \"2001:db8::/32\"]
  solaris: [10.1.0.0/16]
  hpux11: [10.1.2.3]
  bsd-right: [\"2001:db8:1::/48\"]
  first: [\"2001:db8:1:2::1\"]
  last: [\"fd00::/8\", 192.168.0.0/16]
";

#[test]
fn longest_prefix_v4() {
    let h = load(POLICIES).host_os_policy;
    for (addr, want) in [
        ("1.2.3.4", OsPolicy::Windows),
        ("10.0.0.1", OsPolicy::Linux),
        ("10.255.255.255", OsPolicy::Linux),
        ("10.1.0.1", OsPolicy::Solaris),
        ("10.1.2.2", OsPolicy::Solaris),
        ("10.1.2.3", OsPolicy::Hpux11),
        ("10.2.0.0", OsPolicy::Linux),
        ("192.168.7.7", OsPolicy::Last),
        ("192.169.0.0", OsPolicy::Windows),
    ] {
        assert_eq!(h.policy_for(ip(addr)), want, "{addr}");
    }
    assert_eq!(h.stream_policy_for(ip("10.1.2.3")), StreamPolicy::Solaris);
    assert_eq!(h.defrag_policy_for(ip("10.1.2.3")), DefragPolicy::First);
    // Without a 0.0.0.0/0 entry, unlisted addresses get bsd.
    let h = load("host-os-policy:\n  linux: [10.0.0.0/8]\n").host_os_policy;
    assert_eq!(h.policy_for(ip("11.0.0.1")), OsPolicy::Bsd);
    assert_eq!(h.stream_policy_for(ip("11.0.0.1")), StreamPolicy::Bsd);
    assert_eq!(h.defrag_policy_for(ip("11.0.0.1")), DefragPolicy::Bsd);
}

#[test]
fn longest_prefix_v6() {
    let h = load(POLICIES).host_os_policy;
    for (addr, want) in [
        ("2001:db8::1", OsPolicy::Linux),
        ("2001:db8:ffff::1", OsPolicy::Linux),
        ("2001:db8:1::5", OsPolicy::BsdRight),
        ("2001:db8:1:2::1", OsPolicy::First),
        ("2001:db8:1:2::2", OsPolicy::BsdRight),
        ("fd12:3456::1", OsPolicy::Last),
        // 0.0.0.0/0 does not hold IPv6 addresses
        ("2001:db9::1", OsPolicy::Bsd),
        ("::1", OsPolicy::Bsd),
    ] {
        assert_eq!(h.policy_for(ip(addr)), want, "{addr}");
    }
    // The flattened lists keep every network with its family's policy.
    let d = h.defrag_policies();
    assert!(d.contains(&(net("2001:db8:1::/48"), DefragPolicy::BsdRight)));
    assert!(d.contains(&(net("10.1.2.3/32"), DefragPolicy::First)));
    let s = h.stream_policies();
    assert!(s.contains(&(net("2001:db8:1::/48"), StreamPolicy::Bsd)));
    assert!(s.contains(&(net("10.1.2.3/32"), StreamPolicy::Solaris)));
    assert_eq!(s.len(), h.entries.len());
}

#[test]
fn first_listing_wins_as_in_suricata() {
    let h = load(
        "host-os-policy:\n  windows: [10.0.0.0/8, 192.0.2.1]\n  linux: [10.9.9.9/8, \"192.0.2.1/32\", 10.1.0.0/16]\n  bsd: [10.0.0.0/8]\n  first: [192.0.2.1, 192.0.2.1]\n",
    )
    .host_os_policy;
    assert_eq!(
        h.entries,
        [
            (net("10.0.0.0/8"), OsPolicy::Windows),
            (net("192.0.2.1/32"), OsPolicy::Windows),
            (net("10.1.0.0/16"), OsPolicy::Linux),
        ]
    );
    assert_eq!(
        h.ignored,
        [
            (net("10.0.0.0/8"), OsPolicy::Linux),
            (net("192.0.2.1/32"), OsPolicy::Linux),
            (net("10.0.0.0/8"), OsPolicy::Bsd),
            (net("192.0.2.1/32"), OsPolicy::First),
            (net("192.0.2.1/32"), OsPolicy::First),
        ]
    );
    assert_eq!(h.policy_for(ip("10.2.3.4")), OsPolicy::Windows);
    assert_eq!(h.policy_for(ip("10.1.3.4")), OsPolicy::Linux);
    assert_eq!(h.policy_for(ip("192.0.2.1")), OsPolicy::Windows);
    // the same network twice under one key is not "ignored"
    let h = load("host-os-policy:\n  linux: [10.0.0.0/8, 10.0.0.0/8]\n").host_os_policy;
    assert_eq!(h.entries.len(), 1);
    assert!(h.ignored.is_empty());
    // the order is the file's, not the names'
    let h = load("host-os-policy:\n  last: [10.0.0.0/8]\n  windows: [10.0.0.0/8]\n").host_os_policy;
    assert_eq!(h.policy_for(ip("10.0.0.1")), OsPolicy::Last);
}

#[test]
fn value_forms() {
    // comma-separated items (Suricata splits them), a bare string, nothing
    let h = load(
        "host-os-policy:\n  linux: [\"10.0.0.0/8, 172.16.0.0/12\", 192.0.2.1]\n  solaris: 198.51.100.0/24\n  irix:\n  macos: []\n",
    )
    .host_os_policy;
    assert_eq!(
        h.entries,
        [
            (net("10.0.0.0/8"), OsPolicy::Linux),
            (net("172.16.0.0/12"), OsPolicy::Linux),
            (net("192.0.2.1/32"), OsPolicy::Linux),
            (net("198.51.100.0/24"), OsPolicy::Solaris),
        ]
    );
    // names are matched case-insensitively, as Suricata does
    let h = load("host-os-policy:\n  Linux: [10.0.0.0/8]\n").host_os_policy;
    assert_eq!(h.policy_for(ip("10.0.0.1")), OsPolicy::Linux);
}

// ---- names ----

#[test]
fn every_os_name_maps_for_tcp_and_for_defrag() {
    use DefragPolicy as D;
    use StreamPolicy as S;
    let table = [
        ("windows", OsPolicy::Windows, S::Windows, D::Windows),
        ("bsd", OsPolicy::Bsd, S::Bsd, D::Bsd),
        ("bsd-right", OsPolicy::BsdRight, S::Bsd, D::BsdRight),
        ("old-linux", OsPolicy::OldLinux, S::Linux, D::Linux),
        ("linux", OsPolicy::Linux, S::Linux, D::Linux),
        ("old-solaris", OsPolicy::OldSolaris, S::Solaris, D::First),
        ("solaris", OsPolicy::Solaris, S::Solaris, D::Solaris),
        ("hpux10", OsPolicy::Hpux10, S::Bsd, D::Bsd),
        ("hpux11", OsPolicy::Hpux11, S::Solaris, D::First),
        ("irix", OsPolicy::Irix, S::Bsd, D::Bsd),
        ("macos", OsPolicy::Macos, S::Bsd, D::First),
        ("vista", OsPolicy::Vista, S::First, D::Windows),
        ("windows2k3", OsPolicy::Windows2k3, S::Windows, D::Windows),
        ("first", OsPolicy::First, S::First, D::First),
        ("last", OsPolicy::Last, S::Last, D::Last),
    ];
    assert_eq!(table.len(), OsPolicy::ALL.len());
    for (i, (name, os, tcp, frag)) in table.into_iter().enumerate() {
        assert_eq!(OsPolicy::ALL[i], os, "{name}");
        assert_eq!(os.as_str(), name);
        assert_eq!(os.to_string(), name);
        assert_eq!(OsPolicy::from_name(name), Some(os));
        assert_eq!(OsPolicy::from_name(&name.to_ascii_uppercase()), Some(os));
        assert_eq!(os.stream_policy(), tcp, "{name} (tcp)");
        assert_eq!(os.defrag_policy(), frag, "{name} (defrag)");
        // each name is accepted as a key and resolves to itself
        let h = load(&format!("host-os-policy:\n  {name}: [10.0.0.0/8]\n")).host_os_policy;
        assert_eq!(h.policy_for(ip("10.1.1.1")), os, "{name}");
        assert_eq!(h.stream_policy_for(ip("10.1.1.1")), tcp, "{name}");
        assert_eq!(h.defrag_policy_for(ip("10.1.1.1")), frag, "{name}");
    }
    assert_eq!(OsPolicy::from_name("none"), None);
    assert_eq!(OsPolicy::from_name("old_linux"), None);
    assert_eq!(OsPolicy::DEFAULT, OsPolicy::Bsd);
    assert_eq!(OsPolicy::default(), OsPolicy::Bsd);
    assert_eq!(StreamPolicy::default(), StreamPolicy::Bsd);
    assert_eq!(DefragPolicy::default(), DefragPolicy::Bsd);
    // the names mirador's reassembly and defragmenter parse
    let tcp: Vec<&str> = [S::First, S::Last, S::Linux, S::Windows, S::Bsd, S::Solaris]
        .iter()
        .map(|p| p.as_str())
        .collect();
    assert_eq!(tcp, ["first", "last", "linux", "windows", "bsd", "solaris"]);
    let frag: Vec<String> = [
        D::First,
        D::Last,
        D::Bsd,
        D::BsdRight,
        D::Linux,
        D::Windows,
        D::Solaris,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        frag,
        [
            "first",
            "last",
            "bsd",
            "bsd-right",
            "linux",
            "windows",
            "solaris"
        ]
    );
}

// ---- check-config ----

#[test]
fn describe_shows_the_resolved_values() {
    let d = Config::default().describe();
    for needle in [
        "stream: midstream yes;",
        "stream.memcap 64mb; stream.reassembly: memcap 256mb; per direction at most 3072 segments, 4mb buffered; check-overlap-different-data yes",
        "host-os-policy: no networks listed; every destination is bsd (stream bsd, defrag bsd)",
        "flow (all workers): memcap 128mb; hash-size 65536; prealloc 10000; emergency-recovery 30%; max-flows derived from memcap",
        "defrag: memcap 32mb; hash-size 65536; trackers 65535; max-frags 65535; prealloc yes; timeout 60s; max-fragments-per-datagram 8192",
    ] {
        assert!(d.contains(needle), "missing {needle:?} in\n{d}");
    }
    let c = Config::load(
        "d.yaml",
        &format!("{POLICIES}  bsd: [10.1.0.0/16]\nflow:\n  max-flows: 7\n"),
        &[],
    )
    .unwrap();
    let d = c.describe();
    for needle in [
        "host-os-policy (by destination, longest prefix wins; unlisted: bsd):",
        "  windows (stream windows, defrag windows): 0.0.0.0/0\n",
        "  linux (stream linux, defrag linux): 10.0.0.0/8, 2001:db8::/32\n",
        "  hpux11 (stream solaris, defrag first): 10.1.2.3/32\n",
        "  bsd-right (stream bsd, defrag bsd-right): 2001:db8:1::/48\n",
        "  last (stream last, defrag last): fd00::/8, 192.168.0.0/16\n",
        "  ignored: 10.1.0.0/16 under bsd (listed first under solaris, which wins as in Suricata)",
        "max-flows 7",
    ] {
        assert!(d.contains(needle), "missing {needle:?} in\n{d}");
    }
}
