//! Semantic validation after parsing: cross references, uniqueness, ranges that serde
//! cannot express. Errors carry the key path; the loader turns it into a line.

use std::collections::HashMap;

use crate::Config;
use crate::error::KeyPath;
use crate::filter::FilterRule;
use crate::mirror::Session;

type VResult = Result<(), (KeyPath, String)>;

/// Most ports per tunnel decoder (`decoder.vxlan.ports`, `decoder.geneve.ports`).
pub const MAX_TUNNEL_PORTS: usize = 8;

fn root(k: &str) -> KeyPath {
    KeyPath::default().key(k)
}

/// Validates and normalizes `config` in place: fills default tenants, truncates filter
/// CIDRs to their networks, sorts filter rules by `rule-number`.
pub(crate) fn validate(config: &mut Config) -> VResult {
    crate::engine_sections::validate(config)?;
    for (name, dec) in [
        ("vxlan", &config.decoder.vxlan),
        ("geneve", &config.decoder.geneve),
    ] {
        if dec.enabled && dec.ports.is_empty() {
            return Err((
                root("decoder").key(name).key("ports"),
                "expected at least one port while the decoder is enabled".into(),
            ));
        }
        // The decoder keeps its ports in a fixed array (no allocation per
        // packet); Suricata allows 4.
        if dec.ports.len() > MAX_TUNNEL_PORTS {
            return Err((
                root("decoder").key(name).key("ports"),
                format!(
                    "{} ports given, at most {MAX_TUNNEL_PORTS} are supported",
                    dec.ports.len()
                ),
            ));
        }
    }
    if config.decoder.max_layers == 0 {
        return Err((
            root("decoder").key("max-layers"),
            "invalid value 0, expected 1..=255".into(),
        ));
    }

    crate::live::validate(config)?;

    let filter_names: Vec<&str> = config.filters.keys().map(String::as_str).collect();
    let sessions = root("mirror").key("sessions");
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, s) in config.mirror.sessions.iter().enumerate() {
        let at = sessions.index(i);
        validate_session(s, &at, &filter_names)?;
        if let Some(id) = s.id.as_deref()
            && let Some(first) = ids.insert(id, i)
        {
            return Err((
                at.key("id"),
                format!("duplicate session id '{id}' (also mirror.sessions[{first}])"),
            ));
        }
    }
    for s in &mut config.mirror.sessions {
        if s.tenant.trim().is_empty() {
            s.tenant = Session::default_tenant(s.key());
        }
    }

    for (name, f) in config.filters.iter_mut() {
        let at = root("filters").key(name);
        for (dir, rules) in [("ingress", &mut f.ingress), ("egress", &mut f.egress)] {
            let at = at.key(dir);
            let mut numbers: HashMap<u16, usize> = HashMap::new();
            for (j, r) in rules.iter_mut().enumerate() {
                let at = at.index(j);
                validate_rule(r, &at)?;
                if let Some(first) = numbers.insert(r.rule_number, j) {
                    return Err((
                        at.key("rule-number"),
                        format!(
                            "duplicate rule-number {} in {dir} (also filters.{name}.{dir}[{first}]); rule numbers are unique per direction",
                            r.rule_number
                        ),
                    ));
                }
                r.source_cidr = r.source_cidr.trunc();
                r.destination_cidr = r.destination_cidr.trunc();
            }
            rules.sort_by_key(|r| r.rule_number);
        }
    }
    Ok(())
}

fn validate_session(s: &Session, at: &KeyPath, filters: &[&str]) -> VResult {
    if s.vni.is_some() && s.erspan_id.is_some() {
        return Err((
            at.key("erspan-id"),
            "a session has a vni or an erspan-id, not both".into(),
        ));
    }
    if s.packet_length == Some(0) {
        return Err((
            at.key("packet-length"),
            "invalid value 0, expected 1..=65535".into(),
        ));
    }
    if let Some(n) = s.session_number
        && !(1..=32766).contains(&n)
    {
        return Err((
            at.key("session-number"),
            format!("invalid value {n}, expected 1..=32766"),
        ));
    }
    if let Some(f) = s.filter.as_deref()
        && !filters.contains(&f)
    {
        let msg = if filters.is_empty() {
            format!("unknown filter '{f}': no filters are declared under filters")
        } else {
            format!(
                "unknown filter '{f}', expected one of {}",
                filters.join(", ")
            )
        };
        return Err((at.key("filter"), msg));
    }
    Ok(())
}

fn validate_rule(r: &FilterRule, at: &KeyPath) -> VResult {
    if !(1..=32766).contains(&r.rule_number) {
        return Err((
            at.key("rule-number"),
            format!("invalid value {}, expected 1..=32766", r.rule_number),
        ));
    }
    let v4 = |n: &ipnet::IpNet| matches!(n, ipnet::IpNet::V4(_));
    if v4(&r.source_cidr) != v4(&r.destination_cidr) {
        return Err((
            at.key("destination-cidr"),
            format!(
                "{} and source-cidr {} are of different IP families; both must be IPv4 or both IPv6",
                r.destination_cidr, r.source_cidr
            ),
        ));
    }
    for (key, range) in [
        ("source-port", r.source_port),
        ("destination-port", r.destination_port),
    ] {
        if range.is_some() && !matches!(r.protocol, Some(6 | 17)) {
            let proto = r
                .protocol
                .map_or("absent (all protocols)".to_string(), |p| p.to_string());
            return Err((
                at.key(key),
                format!(
                    "port ranges apply only to protocol 6 (tcp) or 17 (udp); protocol is {proto}"
                ),
            ));
        }
    }
    Ok(())
}
