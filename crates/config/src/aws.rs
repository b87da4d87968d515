//! Import from the AWS EC2 API: the JSON that `aws ec2 describe-traffic-mirror-sessions`,
//! `describe-traffic-mirror-filters`, `describe-traffic-mirror-targets` and
//! `describe-network-interfaces` print, turned into the sensor's `mirror:` and
//! `filters:` YAML (`mirador aws import`).
//!
//! Mapping:
//!
//! | AWS | YAML |
//! |---|---|
//! | `TrafficMirrorSessionId` | `mirror.sessions[].id` |
//! | tag `Name`, else `Description`, else the id | `name` |
//! | `Description` | `description` |
//! | `VirtualNetworkId` | `vni` |
//! | `NetworkInterfaceId` | `source-eni` |
//! | the ENI's `PrivateIpAddress` (primary) | `source-ips: [primary]` |
//! | the ENI's `PrivateIpAddresses`, `Ipv6Addresses`, `Ipv4Prefixes`, `Ipv6Prefixes` | `eni-addresses` |
//! | the ENI's `OwnerId` (else the session's), `VpcId`, `SubnetId`, `Attachment.InstanceId`, `AvailabilityZoneId` | `account-id`, `vpc-id`, `subnet-id`, `instance-id`, `az-id` (VPC Flow Logs fields) |
//! | the region of the ENI's `AvailabilityZone` (`us-east-1a` → `us-east-1`) | `region` |
//! | `PacketLength` | `packet-length` |
//! | `SessionNumber` | `session-number` |
//! | `TrafficMirrorFilterId` | `filter`: the filter's `Name` tag, else its id |
//! | `TrafficMirrorTargetId` + the target's `Type` and resource | `target` (informational) |
//! | filter `IngressFilterRules` / `EgressFilterRules` | `filters.<name>.ingress` / `egress` |
//! | rule `RuleNumber`, `RuleAction`, `Protocol`, `SourceCidrBlock`, `DestinationCidrBlock`, `SourcePortRange`, `DestinationPortRange`, `Description`, `TrafficMirrorFilterRuleId` | `rule-number`, `action`, `protocol`, `source-cidr`, `destination-cidr`, `source-port`, `destination-port`, `description`, `id` |
//! | filter `NetworkServices` | `network-services` |
//!
//! A session whose ENI is not in the interfaces JSON (or when none is given) gets no
//! `source-ips` (any outer source) and no `eni-addresses` (so no direction, and its
//! filter cannot apply), and a `# WARNING` comment says so. A session whose filter is
//! not in the filters JSON gets no `filter` and a warning. A rule `Protocol` of 0 is
//! written as "all protocols" (no `protocol` key): tools such as Terraform use 0 for
//! "unset". The output loads with [`crate::Config::load`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Deserialize;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A JSON document did not parse or has the wrong shape.
    #[error("{document} JSON: {source}")]
    Json {
        /// Which document: `sessions`, `filters`, `targets` or `interfaces`.
        document: &'static str,
        /// The parser's error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A value the sensor cannot represent.
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

fn name_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key == "Name" && !t.value.trim().is_empty())
        .map(|t| t.value.as_str())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SessionsDoc {
    #[serde(default)]
    traffic_mirror_sessions: Vec<AwsSession>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsSession {
    traffic_mirror_session_id: String,
    #[serde(default)]
    traffic_mirror_target_id: Option<String>,
    #[serde(default)]
    traffic_mirror_filter_id: Option<String>,
    #[serde(default)]
    network_interface_id: Option<String>,
    #[serde(default)]
    packet_length: Option<u64>,
    #[serde(default)]
    session_number: Option<u64>,
    #[serde(default)]
    virtual_network_id: Option<u64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FiltersDoc {
    #[serde(default)]
    traffic_mirror_filters: Vec<AwsFilter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsFilter {
    traffic_mirror_filter_id: String,
    #[serde(default)]
    ingress_filter_rules: Vec<AwsRule>,
    #[serde(default)]
    egress_filter_rules: Vec<AwsRule>,
    #[serde(default)]
    network_services: Vec<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsRule {
    #[serde(default)]
    traffic_mirror_filter_rule_id: Option<String>,
    rule_number: u64,
    rule_action: String,
    #[serde(default)]
    protocol: Option<u64>,
    #[serde(default)]
    source_cidr_block: Option<String>,
    #[serde(default)]
    destination_cidr_block: Option<String>,
    #[serde(default)]
    source_port_range: Option<AwsPortRange>,
    #[serde(default)]
    destination_port_range: Option<AwsPortRange>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsPortRange {
    #[serde(default)]
    from_port: Option<u64>,
    #[serde(default)]
    to_port: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetsDoc {
    #[serde(default)]
    traffic_mirror_targets: Vec<AwsTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsTarget {
    traffic_mirror_target_id: String,
    #[serde(default, rename = "Type")]
    kind: Option<String>,
    #[serde(default)]
    network_interface_id: Option<String>,
    #[serde(default)]
    network_load_balancer_arn: Option<String>,
    #[serde(default)]
    gateway_load_balancer_endpoint_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InterfacesDoc {
    #[serde(default)]
    network_interfaces: Vec<AwsInterface>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsInterface {
    network_interface_id: String,
    #[serde(default)]
    private_ip_address: Option<String>,
    #[serde(default)]
    private_ip_addresses: Vec<AwsPrivateIp>,
    #[serde(default)]
    ipv6_addresses: Vec<AwsIpv6>,
    #[serde(default)]
    ipv4_prefixes: Vec<AwsIpv4Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<AwsIpv6Prefix>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    vpc_id: Option<String>,
    #[serde(default)]
    subnet_id: Option<String>,
    #[serde(default)]
    availability_zone: Option<String>,
    #[serde(default)]
    availability_zone_id: Option<String>,
    #[serde(default)]
    attachment: Option<AwsAttachment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsAttachment {
    #[serde(default)]
    instance_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsPrivateIp {
    #[serde(default)]
    private_ip_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsIpv6 {
    #[serde(default)]
    ipv6_address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsIpv4Prefix {
    #[serde(default)]
    ipv4_prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AwsIpv6Prefix {
    #[serde(default)]
    ipv6_prefix: Option<String>,
}

fn parse<T: for<'de> Deserialize<'de>>(
    document: &'static str,
    text: &str,
) -> Result<T, ImportError> {
    serde_json::from_str(text).map_err(|source| ImportError::Json { document, source })
}

/// A YAML scalar for `s`: plain when unambiguous (`tms-0a1b…`, `web-filter`), else
/// double-quoted (JSON string syntax is valid YAML).
fn q(s: &str) -> String {
    const RESERVED: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
    ];
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

/// Text safe inside a YAML comment: one line.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Converts `describe-traffic-mirror-*` (and optionally `describe-network-interfaces`)
/// JSON into YAML text holding `mirror: sessions:` and `filters:`, ready to load or
/// merge into a config. See the module docs for the mapping.
pub fn import(
    sessions_json: &str,
    filters_json: &str,
    targets_json: Option<&str>,
    interfaces_json: Option<&str>,
) -> Result<String, ImportError> {
    let sessions: SessionsDoc = parse("sessions", sessions_json)?;
    let filters: FiltersDoc = parse("filters", filters_json)?;
    let targets: Option<TargetsDoc> = targets_json.map(|t| parse("targets", t)).transpose()?;
    let interfaces: Option<InterfacesDoc> = interfaces_json
        .map(|t| parse("interfaces", t))
        .transpose()?;

    // Filter names: the Name tag when present and unique, else the id.
    let mut tag_count: HashMap<&str, usize> = HashMap::new();
    for f in &filters.traffic_mirror_filters {
        if let Some(n) = name_tag(&f.tags) {
            *tag_count.entry(n).or_default() += 1;
        }
    }
    let mut filter_names: HashMap<&str, String> = HashMap::new();
    let mut by_name: BTreeMap<String, &AwsFilter> = BTreeMap::new();
    for f in &filters.traffic_mirror_filters {
        let id = f.traffic_mirror_filter_id.as_str();
        let name = match name_tag(&f.tags) {
            Some(n) if tag_count[n] == 1 && !filters_have_id(&filters, n) => n.to_string(),
            _ => id.to_string(),
        };
        if by_name.insert(name.clone(), f).is_some() {
            return Err(ImportError::Invalid(format!(
                "filters JSON: filter {id} appears twice"
            )));
        }
        filter_names.insert(id, name);
    }

    let target_notes: HashMap<&str, String> = targets
        .iter()
        .flat_map(|t| &t.traffic_mirror_targets)
        .map(|t| {
            let resource = t
                .network_interface_id
                .as_deref()
                .or(t.network_load_balancer_arn.as_deref())
                .or(t.gateway_load_balancer_endpoint_id.as_deref());
            let note = match (t.kind.as_deref(), resource) {
                (Some(k), Some(r)) => format!("{} ({k} {r})", t.traffic_mirror_target_id),
                (Some(k), None) => format!("{} ({k})", t.traffic_mirror_target_id),
                (None, Some(r)) => format!("{} ({r})", t.traffic_mirror_target_id),
                (None, None) => t.traffic_mirror_target_id.clone(),
            };
            (t.traffic_mirror_target_id.as_str(), note)
        })
        .collect();

    let enis: HashMap<&str, &AwsInterface> = interfaces
        .iter()
        .flat_map(|d| &d.network_interfaces)
        .map(|i| (i.network_interface_id.as_str(), i))
        .collect();

    let mut out = String::new();
    out.push_str("# Generated by `mirador aws import` from describe-traffic-mirror-sessions,\n");
    out.push_str("# describe-traffic-mirror-filters");
    if targets.is_some() {
        out.push_str(", describe-traffic-mirror-targets");
    }
    if interfaces.is_some() {
        out.push_str(", describe-network-interfaces");
    }
    out.push_str(".\n# Check it with `mirador check-config FILE`; merge mirror: and filters: into your config.\n");
    if interfaces.is_none() {
        out.push_str("# No interfaces JSON was given: sessions have no source-ips (any outer source) and no\n");
        out.push_str(
            "# eni-addresses (no direction, so filters cannot apply). Pass --interfaces.\n",
        );
    }

    out.push_str("mirror:\n");
    if sessions.traffic_mirror_sessions.is_empty() {
        out.push_str("  sessions: []\n");
    } else {
        out.push_str("  sessions:\n");
    }
    for s in &sessions.traffic_mirror_sessions {
        write_session(
            &mut out,
            s,
            &filter_names,
            &target_notes,
            &enis,
            interfaces.is_some(),
        )?;
    }

    if by_name.is_empty() {
        out.push_str("filters: {}\n");
    } else {
        out.push_str("filters:\n");
    }
    for (name, f) in &by_name {
        write_filter(&mut out, name, f)?;
    }
    Ok(out)
}

fn filters_have_id(filters: &FiltersDoc, name: &str) -> bool {
    filters
        .traffic_mirror_filters
        .iter()
        .any(|f| f.traffic_mirror_filter_id == name)
}

fn write_session(
    out: &mut String,
    s: &AwsSession,
    filter_names: &HashMap<&str, String>,
    target_notes: &HashMap<&str, String>,
    enis: &HashMap<&str, &AwsInterface>,
    have_interfaces: bool,
) -> Result<(), ImportError> {
    let id = &s.traffic_mirror_session_id;
    let invalid = |what: String| ImportError::Invalid(format!("session {id}: {what}"));
    let name = name_tag(&s.tags)
        .or(s.description.as_deref().filter(|d| !d.trim().is_empty()))
        .unwrap_or(id);
    let _ = writeln!(out, "    - id: {}", q(id));
    let _ = writeln!(out, "      name: {}", q(name));
    if let Some(d) = s.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "      description: {}", q(d));
    }
    match s.virtual_network_id {
        Some(v) if v <= u64::from(crate::MAX_VNI) => {
            let _ = writeln!(out, "      vni: {v}");
        }
        Some(v) => return Err(invalid(format!("VirtualNetworkId {v} is not a 24-bit VNI"))),
        None => {
            let _ = writeln!(
                out,
                "      # WARNING: no VirtualNetworkId: the session's key is none"
            );
        }
    }
    if let Some(eni) = s.network_interface_id.as_deref() {
        let _ = writeln!(out, "      source-eni: {}", q(eni));
        match enis.get(eni) {
            Some(i) => write_eni_addresses(out, i),
            None if have_interfaces => {
                let _ = writeln!(
                    out,
                    "      # WARNING: {} is not in the interfaces JSON: no source-ips (any outer source),\n      # no eni-addresses (no direction, so the filter cannot apply).",
                    comment(eni)
                );
            }
            None => {}
        }
    }
    let eni = s.network_interface_id.as_deref().and_then(|e| enis.get(e));
    write_flow_log_fields(out, eni.copied(), s.owner_id.as_deref());
    if let Some(p) = s.packet_length {
        if !(1..=65535).contains(&p) {
            return Err(invalid(format!("PacketLength {p} is not in 1..=65535")));
        }
        let _ = writeln!(out, "      packet-length: {p}");
    }
    if let Some(n) = s.session_number {
        if !(1..=32766).contains(&n) {
            return Err(invalid(format!("SessionNumber {n} is not in 1..=32766")));
        }
        let _ = writeln!(out, "      session-number: {n}");
    }
    if let Some(f) = s.traffic_mirror_filter_id.as_deref() {
        match filter_names.get(f) {
            Some(name) => {
                let _ = writeln!(out, "      filter: {}", q(name));
            }
            None => {
                let _ = writeln!(
                    out,
                    "      # WARNING: filter {} is not in the filters JSON; without it every packet of\n      # this session is inspected.",
                    comment(f)
                );
            }
        }
    }
    if let Some(t) = s.traffic_mirror_target_id.as_deref() {
        let note = target_notes
            .get(t)
            .cloned()
            .unwrap_or_else(|| t.to_string());
        let _ = writeln!(out, "      target: {}", q(&note));
    }
    Ok(())
}

fn write_eni_addresses(out: &mut String, i: &AwsInterface) {
    fn push<'a>(addrs: &mut Vec<&'a str>, a: Option<&'a str>) {
        if let Some(a) = a.map(str::trim).filter(|a| !a.is_empty())
            && !addrs.contains(&a)
        {
            addrs.push(a);
        }
    }
    let mut addrs: Vec<&str> = Vec::new();
    push(&mut addrs, i.private_ip_address.as_deref());
    for a in &i.private_ip_addresses {
        push(&mut addrs, a.private_ip_address.as_deref());
    }
    for a in &i.ipv6_addresses {
        push(&mut addrs, a.ipv6_address.as_deref());
    }
    for p in &i.ipv4_prefixes {
        push(&mut addrs, p.ipv4_prefix.as_deref());
    }
    for p in &i.ipv6_prefixes {
        push(&mut addrs, p.ipv6_prefix.as_deref());
    }
    let primary = i.private_ip_address.as_deref().or(addrs.first().copied());
    match primary {
        Some(p) => {
            let _ = writeln!(out, "      source-ips: [{}]", q(p));
        }
        None => {
            let _ = writeln!(
                out,
                "      # WARNING: the interface has no primary IP: any outer source matches"
            );
        }
    }
    let list: Vec<String> = addrs.iter().map(|a| q(a)).collect();
    let _ = writeln!(out, "      eni-addresses: [{}]", list.join(", "));
}

/// The ENI's facts that VPC Flow Logs records carry (the account falls back to
/// the session's owner: the source ENI belongs to the session's account). A
/// value that does not pass the config's check is left out with a warning, so
/// the output still loads.
fn write_flow_log_fields(out: &mut String, i: Option<&AwsInterface>, session_owner: Option<&str>) {
    use crate::vpcflow::{
        check_account_id, check_az_id, check_instance_id, check_region, check_subnet_id,
        check_vpc_id,
    };
    let region = i
        .and_then(|i| i.availability_zone.as_deref())
        .and_then(region_of_zone);
    type Check = fn(&str) -> Result<(), String>;
    let fields: [(&str, Option<&str>, Check); 6] = [
        (
            "account-id",
            i.and_then(|i| i.owner_id.as_deref()).or(session_owner),
            check_account_id,
        ),
        ("vpc-id", i.and_then(|i| i.vpc_id.as_deref()), check_vpc_id),
        (
            "subnet-id",
            i.and_then(|i| i.subnet_id.as_deref()),
            check_subnet_id,
        ),
        (
            "instance-id",
            i.and_then(|i| i.attachment.as_ref())
                .and_then(|a| a.instance_id.as_deref()),
            check_instance_id,
        ),
        ("region", region.as_deref(), check_region),
        (
            "az-id",
            i.and_then(|i| i.availability_zone_id.as_deref()),
            check_az_id,
        ),
    ];
    for (key, value, check) in fields {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        match check(v) {
            Ok(()) => {
                let _ = writeln!(out, "      {key}: {}", q(v));
            }
            Err(e) => {
                let _ = writeln!(out, "      # WARNING: {key} left out: {}", comment(&e));
            }
        }
    }
}

/// The region of an availability zone name: `us-east-1a` → `us-east-1`,
/// `us-gov-west-1b` → `us-gov-west-1`, Local Zone `us-west-2-lax-1a` →
/// `us-west-2`: the dash-separated parts up to the first that starts with a
/// digit, cut after its digits.
fn region_of_zone(zone: &str) -> Option<String> {
    let mut parts = Vec::new();
    for p in zone.split('-') {
        if p.starts_with(|c: char| c.is_ascii_digit()) {
            let digits = p.bytes().take_while(u8::is_ascii_digit).count();
            parts.push(&p[..digits]);
            return (parts.len() >= 2).then(|| parts.join("-"));
        }
        parts.push(p);
    }
    None
}

fn write_filter(out: &mut String, name: &str, f: &AwsFilter) -> Result<(), ImportError> {
    let _ = writeln!(out, "  {}:", q(name));
    let _ = writeln!(out, "    id: {}", q(&f.traffic_mirror_filter_id));
    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "    description: {}", q(d));
    }
    if !f.network_services.is_empty() {
        let list: Vec<String> = f.network_services.iter().map(|s| q(s)).collect();
        let _ = writeln!(out, "    network-services: [{}]", list.join(", "));
    }
    for (dir, rules) in [
        ("ingress", &f.ingress_filter_rules),
        ("egress", &f.egress_filter_rules),
    ] {
        if rules.is_empty() {
            let _ = writeln!(out, "    {dir}: []");
            continue;
        }
        let _ = writeln!(out, "    {dir}:");
        let mut rules: Vec<&AwsRule> = rules.iter().collect();
        rules.sort_by_key(|r| r.rule_number);
        for r in rules {
            write_rule(out, &f.traffic_mirror_filter_id, r)?;
        }
    }
    Ok(())
}

fn write_rule(out: &mut String, filter_id: &str, r: &AwsRule) -> Result<(), ImportError> {
    let invalid = |what: String| {
        ImportError::Invalid(format!(
            "filter {filter_id}, rule {}: {what}",
            r.rule_number
        ))
    };
    if !(1..=32766).contains(&r.rule_number) {
        return Err(invalid("RuleNumber is not in 1..=32766".to_string()));
    }
    let _ = writeln!(out, "      - rule-number: {}", r.rule_number);
    let action = r.rule_action.to_ascii_lowercase();
    if action != "accept" && action != "reject" {
        return Err(invalid(format!(
            "RuleAction '{}' is not accept or reject",
            r.rule_action
        )));
    }
    let _ = writeln!(out, "        action: {action}");
    match r.protocol {
        None | Some(0) => {}
        Some(p) if p <= 255 => {
            let _ = writeln!(out, "        protocol: {p}");
        }
        Some(p) => return Err(invalid(format!("Protocol {p} is not 0..=255"))),
    }
    let any = |other: Option<&str>| {
        if other.is_some_and(|o| o.contains(':')) {
            "::/0"
        } else {
            "0.0.0.0/0"
        }
    };
    let src = r
        .source_cidr_block
        .as_deref()
        .unwrap_or_else(|| any(r.destination_cidr_block.as_deref()));
    let dst = r
        .destination_cidr_block
        .as_deref()
        .unwrap_or_else(|| any(r.source_cidr_block.as_deref()));
    let _ = writeln!(out, "        source-cidr: {}", q(src));
    let _ = writeln!(out, "        destination-cidr: {}", q(dst));
    for (key, range) in [
        ("source-port", &r.source_port_range),
        ("destination-port", &r.destination_port_range),
    ] {
        if let Some(pr) = range {
            let from = pr.from_port.unwrap_or(0);
            let to = pr.to_port.unwrap_or(65535);
            if from > 65535 || to > 65535 || from > to {
                return Err(invalid(format!(
                    "{key} range {from}-{to} is not a port range"
                )));
            }
            if from == to {
                let _ = writeln!(out, "        {key}: {from}");
            } else {
                let _ = writeln!(out, "        {key}: \"{from}-{to}\"");
            }
        }
    }
    if let Some(d) = r.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "        description: {}", q(d));
    }
    if let Some(id) = r.traffic_mirror_filter_rule_id.as_deref() {
        let _ = writeln!(out, "        id: {}", q(id));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
