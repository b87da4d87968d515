//! The signature engine's keys: Suricata's `default-rule-path`,
//! `classification-file`, `reference-config-file`, `threshold-file` and
//! `vars`, plus mirador's `rules` (enable/disable by sid) and `tenants`
//! (per-tenant variables: a fleet of VPCs has different `HOME_NET`s).
//!
//! Variable values are kept as written; the rule-language layer
//! (`mirador-rules`) resolves them over Suricata's defaults and reports
//! an invalid one with its key.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// `vars`: `address-groups` and `port-groups`, as in `suricata.yaml`. Only
/// the groups given here override Suricata's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VarsConfig {
    /// `address-groups`: name → expression (e.g. `HOME_NET: "[10.0.0.0/8]"`).
    #[serde(deserialize_with = "de_groups")]
    pub address_groups: BTreeMap<String, String>,
    /// `port-groups`: name → expression (e.g. `HTTP_PORTS: "[80,8080]"`).
    #[serde(deserialize_with = "de_groups")]
    pub port_groups: BTreeMap<String, String>,
}

/// A group value: a string (Suricata's form) or, for convenience, a YAML
/// list or a number, written back as Suricata's `[a,b]` syntax.
fn de_groups<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct Value;
    impl<'de> Visitor<'de> for Value {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an address or port expression (a string, a number or a list)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
            let mut items = Vec::new();
            while let Some(x) = seq.next_element_seed(ValueSeed)? {
                items.push(x);
            }
            Ok(format!("[{}]", items.join(",")))
        }
    }
    struct ValueSeed;
    impl<'de> de::DeserializeSeed<'de> for ValueSeed {
        type Value = String;
        fn deserialize<D2: Deserializer<'de>>(self, d: D2) -> Result<String, D2::Error> {
            d.deserialize_any(Value)
        }
    }
    struct Groups;
    impl<'de> Visitor<'de> for Groups {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of group names to expressions")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(k) = map.next_key::<String>()? {
                if k.is_empty()
                    || !k
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(de::Error::custom(format_args!(
                        "invalid group name '{k}' (letters, digits, '_' and '-')"
                    )));
                }
                let v = map.next_value_seed(ValueSeed)?;
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_any(Groups)
}

/// A rule named by sid, optionally with its gid (`"1:2010935"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId {
    /// `gid` (1 when not given).
    pub gid: u32,
    /// `sid`.
    pub sid: u32,
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RuleId, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RuleId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sid (2010935) or gid:sid (\"1:2010935\")")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RuleId, E> {
                let sid = u32::try_from(v)
                    .map_err(|_| E::custom(format_args!("sid {v} is larger than 4294967295")))?;
                Ok(RuleId { gid: 1, sid })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RuleId, E> {
                Err(E::custom(format_args!("invalid sid {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RuleId, E> {
                let bad = || {
                    E::custom(format_args!(
                        "invalid rule id '{v}', expected sid or gid:sid"
                    ))
                };
                match v.trim().split_once(':') {
                    Some((g, s)) => Ok(RuleId {
                        gid: g.trim().parse().map_err(|_| bad())?,
                        sid: s.trim().parse().map_err(|_| bad())?,
                    }),
                    None => Ok(RuleId {
                        gid: 1,
                        sid: v.trim().parse().map_err(|_| bad())?,
                    }),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `rules`: which loaded rules run (mirador's key; suricata-update's
/// `enable.conf`/`disable.conf` do the same on files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSelection {
    /// `disable`: rules not to load even if their file enables them.
    pub disable: Vec<RuleId>,
    /// `enable`: rules to load even if their file has them commented out
    /// (`# alert ...`, as suricata-update writes disabled rules).
    pub enable: Vec<RuleId>,
}

/// One tenant's settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantConfig {
    /// `vars`: groups overriding the global `vars` for this tenant's traffic.
    pub vars: VarsConfig,
    /// `detectors`: detector settings for this tenant's traffic.
    pub detectors: crate::detectors::TenantDetectors,
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn detect_keys_load_with_suricatas_forms() {
        let yaml = r#"
default-rule-path: /var/lib/suricata/rules
rule-files: [suricata.rules]
classification-file: /etc/suricata/classification.config
reference-config-file: /etc/suricata/reference.config
threshold-file: /etc/suricata/threshold.config
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8]"
    EXTERNAL_NET: "!$HOME_NET"
    DNS_SERVERS: [10.0.0.2, 10.0.0.3]
  port-groups:
    HTTP_PORTS: "80"
    SSH_PORTS: 22
rules:
  disable: [2010935, "3:2200003"]
  enable: ["1:2019401"]
tenants:
  prod:
    vars:
      address-groups:
        HOME_NET: "[172.31.0.0/16]"
"#;
        let c = Config::load("s.yaml", yaml, &[]).unwrap();
        assert_eq!(c.default_rule_path, "/var/lib/suricata/rules");
        assert_eq!(
            c.threshold_file.as_deref(),
            Some("/etc/suricata/threshold.config")
        );
        assert_eq!(c.vars.address_groups["HOME_NET"], "[10.0.0.0/8]");
        assert_eq!(c.vars.address_groups["DNS_SERVERS"], "[10.0.0.2,10.0.0.3]");
        assert_eq!(c.vars.port_groups["SSH_PORTS"], "22");
        assert_eq!(c.rules.disable[1].gid, 3);
        assert_eq!(c.rules.disable[1].sid, 2_200_003);
        assert_eq!(c.rules.enable[0].sid, 2_019_401);
        assert_eq!(
            c.tenants["prod"].vars.address_groups["HOME_NET"],
            "[172.31.0.0/16]"
        );
    }

    #[test]
    fn bad_detect_keys_name_the_key() {
        for (yaml, needle) in [
            ("rules:\n  disable: [x]\n", "rules.disable"),
            (
                "vars:\n  address-groups:\n    \"bad name\": any\n",
                "vars.address-groups",
            ),
            ("vars:\n  colors: {}\n", "vars"),
            (
                "tenants:\n  prod:\n    vars:\n      port-groups:\n        X: {a: 1}\n",
                "tenants",
            ),
        ] {
            let e = Config::load("s.yaml", yaml, &[]).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains("s.yaml:"), "{yaml}: {e}");
        }
    }
}
