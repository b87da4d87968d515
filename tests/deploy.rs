//! Checks of the deployment material in `deploy/`: the CloudFormation template
//! passes `cfn-lint` and has the mirroring pieces; the Prometheus configuration
//! and alert rules pass `promtool`, and so does every query of the Grafana
//! dashboard; the alert rules and the dashboard name only metrics of the README's
//! metrics table; the systemd unit passes `systemd-analyze verify`; the logrotate
//! file parses; the sysctl keys exist; the template's user data carries the unit
//! and the sysctl file verbatim.
//!
//! The tools are optional: each check skips without its tool unless
//! `MIRADOR_REQUIRE_OPTIONAL=1` (as `.ci/run` sets, after installing them).
//! CloudFormation YAML uses tags (`!Ref`) that a plain YAML reader rejects, and
//! the root package has no YAML reader among its test dependencies, so the
//! template is read as text, one resource block at a time.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::tool;
use serde_json::Value;

/// Where the metrics table lives: the section headed `## Metrics`.
const METRICS_DOC: &str = "README.md";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deploy(rel: &str) -> PathBuf {
    root().join("deploy").join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs a tool and returns its output, with stdout and stderr shown on failure.
fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    eprintln!(
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn both(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------
// The metrics table and the metric names the rules and the dashboard use.

/// The README's metrics table: name -> type (`counter`, `gauge`, `histogram`).
fn metrics_table() -> BTreeMap<String, String> {
    let text = read(&root().join(METRICS_DOC));
    let start = text
        .lines()
        .position(|l| l.trim_end() == "## Metrics")
        .unwrap_or_else(|| panic!("{METRICS_DOC} has no '## Metrics' section"));
    let mut table = BTreeMap::new();
    for line in text
        .lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with("## "))
    {
        let Some(row) = line.strip_prefix("| `mirador_") else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = format!("mirador_{}", cells[0].trim_end_matches('`'));
        let kind = cells.get(1).copied().unwrap_or_default().to_string();
        assert!(
            matches!(kind.as_str(), "counter" | "gauge" | "histogram"),
            "{METRICS_DOC}: {name} has type '{kind}'"
        );
        if kind == "counter" {
            assert!(
                name.ends_with("_total"),
                "counter {name} should end in _total"
            );
        }
        assert!(
            table.insert(name.clone(), kind).is_none(),
            "{METRICS_DOC}: {name} twice"
        );
    }
    // The contract has 37 metrics; a table cut short would make the checks weak.
    assert!(
        table.len() >= 30,
        "{METRICS_DOC}: only {} metrics",
        table.len()
    );
    table
}

/// Every `mirador_...` name in `text` (a name starts after a character that
/// cannot be part of an identifier), with the `_bucket`, `_sum` and `_count`
/// series of histograms mapped to the histogram's name.
fn metric_names(text: &str, table: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut from = 0;
    while let Some(i) = text[from..].find("mirador_").map(|i| i + from) {
        let mut end = i + "mirador_".len();
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'_')
        {
            end += 1;
        }
        if i == 0 || !ident(bytes[i - 1]) {
            let name = &text[i..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|b| table.get(*b).is_some_and(|t| t == "histogram"));
            names.insert(base.unwrap_or(name).to_string());
        }
        from = end;
    }
    names
}

fn assert_documented(what: &str, names: &BTreeSet<String>, table: &BTreeMap<String, String>) {
    let unknown: Vec<_> = names.iter().filter(|n| !table.contains_key(*n)).collect();
    assert!(
        unknown.is_empty(),
        "{what} names metrics missing from {METRICS_DOC}'s table: {unknown:?}"
    );
}

#[test]
fn alert_rules_name_only_documented_metrics() {
    let table = metrics_table();
    let rules = read(&deploy("prometheus/alerts.yml"));
    let names = metric_names(&rules, &table);
    assert_documented("deploy/prometheus/alerts.yml", &names, &table);
    // The alerts the deployment guide promises.
    for m in [
        "mirador_packets_dropped_total",
        "mirador_kernel_dropped_total",
        "mirador_packets_received_total",
        "mirador_ready",
        "mirador_session_mirror_loss_bytes_total",
        "mirador_overloaded",
        "mirador_reload_failures_total",
    ] {
        assert!(names.contains(m), "no alert rule uses {m}");
    }
    assert!(rules.contains("up{job=~\"mirador"), "no sensor-down alert");
}

#[test]
fn dashboard_names_only_documented_metrics() {
    let table = metrics_table();
    let names = metric_names(&read(&deploy("grafana/mirador.json")), &table);
    assert_documented("deploy/grafana/mirador.json", &names, &table);
    for m in [
        "mirador_listener_datagrams_total",
        "mirador_packets_invalid_total",
        "mirador_packets_filtered_total",
        "mirador_packets_dropped_total",
        "mirador_kernel_dropped_total",
        "mirador_session_packets_total",
        "mirador_session_mirror_loss_bytes_total",
        "mirador_worker_busy_seconds_total",
        "mirador_worker_queue_depth",
        "mirador_flows_active",
        "mirador_flows_emergency",
        "mirador_reassembly_gaps_total",
        "mirador_alerts_total",
        "mirador_packet_latency_seconds",
        "mirador_rules_loaded",
        "mirador_reloads_total",
    ] {
        assert!(names.contains(m), "no dashboard panel shows {m}");
    }
}

#[test]
fn metric_name_scan_finds_histogram_series_and_rejects_unknown_names() {
    let table: BTreeMap<String, String> = [
        ("mirador_a_seconds", "histogram"),
        ("mirador_b_total", "counter"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    let names = metric_names(
        "histogram_quantile(0.9, rate(mirador_a_seconds_bucket[5m])) / x_mirador_no + mirador_b_total_count",
        &table,
    );
    let expect: BTreeSet<String> = ["mirador_a_seconds", "mirador_b_total_count"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expect);
}

// ---------------------------------------------------------------------------
// The Grafana dashboard.

fn dashboard() -> Value {
    serde_json::from_str(&read(&deploy("grafana/mirador.json"))).expect("dashboard JSON")
}

/// Every panel, rows' nested panels included.
fn panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner);
        }
    }
    out
}

#[test]
fn dashboard_is_well_formed() {
    let d = dashboard();
    let schema = d["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    assert_eq!(d["uid"], "mirador");
    let vars = d["templating"]["list"].as_array().expect("templating");
    assert!(
        vars.iter().any(|v| v["name"] == "datasource"
            && v["type"] == "datasource"
            && v["query"] == "prometheus"),
        "a Prometheus data source variable"
    );
    let mut ids = BTreeSet::new();
    let mut cells: Vec<(u64, u64, u64, u64, String)> = Vec::new();
    for p in panels(&d) {
        let title = p["title"].as_str().expect("a title").to_string();
        assert!(
            ids.insert(p["id"].as_u64().expect("an id")),
            "{title}: id twice"
        );
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_u64().unwrap(),
            g["y"].as_u64().unwrap(),
            g["w"].as_u64().unwrap(),
            g["h"].as_u64().unwrap(),
        );
        assert!(x + w <= 24 && w > 0 && h > 0, "{title}: gridPos {g}");
        for (cx, cy, cw, ch, other) in &cells {
            let apart = x + w <= *cx || cx + cw <= x || y + h <= *cy || cy + ch <= y;
            assert!(apart, "{title} overlaps {other}");
        }
        cells.push((x, y, w, h, title.clone()));
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        let mut refs = BTreeSet::new();
        for t in targets {
            assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()), "{title}");
            assert!(refs.insert(t["refId"].as_str().expect("refId")), "{title}");
        }
    }
    assert!(ids.len() > 20, "only {} panels", ids.len());
}

/// A dashboard query made plain PromQL: Grafana's interval variables become
/// durations and the template variables (used in label matchers) `.*`.
fn plain_promql(expr: &str) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced.find('}').expect("closing brace");
            (&braced[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        out.push_str(match name {
            "__rate_interval" | "__interval" | "__range" => "5m",
            _ => ".*",
        });
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn plain_promql_replaces_grafana_variables() {
    assert_eq!(
        plain_promql(r#"rate(m{job=~"$job", instance=~"${instance}"}[$__rate_interval])"#),
        r#"rate(m{job=~".*", instance=~".*"}[5m])"#
    );
}

#[test]
fn dashboard_queries_pass_promtool() {
    if tool("promtool").is_none() {
        return;
    }
    let d = dashboard();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut n = 0;
    for p in panels(&d) {
        for t in p["targets"].as_array().into_iter().flatten() {
            n += 1;
            let expr = plain_promql(t["expr"].as_str().unwrap());
            // A JSON string is a YAML scalar.
            rules.push_str(&format!(
                "      - record: dashboard:query_{n}\n        expr: {}\n",
                serde_json::to_string(&expr).unwrap()
            ));
        }
    }
    assert!(n > 20, "only {n} queries");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard-rules.yml");
    std::fs::write(&file, rules).unwrap();
    let out = run(Command::new("promtool").args(["check", "rules"]).arg(&file));
    assert!(
        out.status.success(),
        "a dashboard query is not valid PromQL"
    );
    assert!(
        both(&out).contains(&format!("{n} rules found")),
        "{}",
        both(&out)
    );
}

// ---------------------------------------------------------------------------
// Prometheus configuration and alert rules.

#[test]
fn prometheus_config_and_rules_pass_promtool() {
    if tool("promtool").is_none() {
        return;
    }
    // check config also checks the rule files it names.
    let out = run(Command::new("promtool")
        .args(["check", "config"])
        .arg(deploy("prometheus/prometheus.yml")));
    assert!(out.status.success());
    assert!(
        both(&out).contains("1 rule files found"),
        "alerts.yml not loaded"
    );
    let out = run(Command::new("promtool")
        .args(["check", "rules"])
        .arg(deploy("prometheus/alerts.yml")));
    assert!(out.status.success());

    // promtool does reject a broken rule (so the checks above can fail).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    let text = read(&deploy("prometheus/alerts.yml")).replacen(
        "expr: mirador_ready == 0",
        "expr: mirador_ready == (0",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    let out = run(Command::new("promtool").args(["check", "rules"]).arg(&bad));
    assert!(!out.status.success(), "promtool accepted a broken rule");
}

#[test]
fn prometheus_discovers_the_instances_the_template_tags() {
    let prom = read(&deploy("prometheus/prometheus.yml"));
    let cfn = read(&deploy("cloudformation/mirador-nlb.yaml"));
    assert!(prom.contains("ec2_sd_configs:"));
    assert!(prom.contains("rule_files:") && prom.contains("- alerts.yml"));
    assert!(prom.contains("- name: tag:mirador:role") && prom.contains("values: [sensor]"));
    assert!(cfn.contains("- Key: mirador:role") && cfn.contains("Value: sensor"));
    let http = mirador_config::Config::embedded_default().http.listen[0].port();
    assert!(
        prom.contains(&format!("replacement: ${{1}}:{http}")),
        "scrape port {http}"
    );
}

// ---------------------------------------------------------------------------
// CloudFormation.

fn template() -> String {
    read(&deploy("cloudformation/mirador-nlb.yaml"))
}

/// A resource of the template: its logical name, type and lines.
struct Resource {
    name: String,
    kind: String,
    body: Vec<String>,
}

impl Resource {
    /// Whether the block has a line that is `line` once trimmed.
    fn has(&self, line: &str) -> bool {
        self.body.iter().any(|l| l.trim() == line)
    }

    /// The value of a `- Key: K` / `Value: V` attribute, unquoted.
    fn attribute(&self, key: &str) -> Option<String> {
        let at = self
            .body
            .iter()
            .position(|l| l.trim() == format!("- Key: {key}"))?;
        let v = self.body[at + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.starts_with('#'))?
            .strip_prefix("Value: ")?;
        Some(v.trim_matches('"').to_string())
    }
}

/// The template's resources (the blocks indented two spaces under `Resources:`).
fn resources(text: &str) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty() {
            inside = line.trim_end() == "Resources:";
            continue;
        }
        if !inside {
            continue;
        }
        let name = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
            .and_then(|l| l.trim_end().strip_suffix(':'));
        if let Some(name) = name {
            out.push(Resource {
                name: name.to_string(),
                kind: String::new(),
                body: Vec::new(),
            });
        } else if let Some(r) = out.last_mut() {
            if let Some(kind) = line.strip_prefix("    Type: ") {
                r.kind = kind.trim().to_string();
            }
            r.body.push(line.to_string());
        }
    }
    out
}

fn one<'a>(all: &'a [Resource], kind: &str) -> &'a Resource {
    let found: Vec<_> = all.iter().filter(|r| r.kind == kind).collect();
    assert_eq!(found.len(), 1, "resources of type {kind}");
    found[0]
}

#[test]
fn cloudformation_template_passes_cfn_lint() {
    if tool("cfn-lint").is_none() {
        return;
    }
    let path = deploy("cloudformation/mirador-nlb.yaml");
    let out = run(Command::new("cfn-lint").arg("--").arg(&path));
    // cfn-lint exits non-zero on errors and on warnings.
    assert!(out.status.success(), "cfn-lint: {}", both(&out));
    assert!(
        both(&out).trim().is_empty(),
        "cfn-lint reported: {}",
        both(&out)
    );

    // It does reject a broken template (so the check above can fail).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        template().replace("Protocol: UDP\n", "Protocol: UDPX\n"),
    )
    .unwrap();
    let out = run(Command::new("cfn-lint").arg("--").arg(&bad));
    assert!(!out.status.success(), "cfn-lint accepted a bad protocol");
}

#[test]
fn cloudformation_template_has_the_mirroring_pieces() {
    let text = template();
    let all = resources(&text);
    assert!(all.len() >= 10, "{} resources", all.len());
    let config = mirador_config::Config::embedded_default();
    let http = config.http.listen[0].port();
    let tcp = config.health.tcp[0].port();

    let nlb = one(&all, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    assert!(nlb.has("Type: network") && nlb.has("Scheme: internal"));
    assert_eq!(
        nlb.attribute("load_balancing.cross_zone.enabled")
            .as_deref(),
        Some("true")
    );

    let tg = one(&all, "AWS::ElasticLoadBalancingV2::TargetGroup");
    assert!(tg.has("Protocol: UDP") && tg.has("Port: 4789"));
    assert_eq!(tg.attribute("stickiness.enabled").as_deref(), Some("true"));
    assert_eq!(
        tg.attribute("stickiness.type").as_deref(),
        Some("source_ip")
    );
    assert!(tg.has(r#"HealthCheckProtocol: !If [HttpHealthCheck, HTTP, TCP]"#));
    assert!(tg.has(&format!(
        r#"HealthCheckPort: !If [HttpHealthCheck, "{http}", "{tcp}"]"#
    )));
    assert!(tg.has("HealthCheckPath: !If [HttpHealthCheck, /readyz, !Ref AWS::NoValue]"));

    let listener = one(&all, "AWS::ElasticLoadBalancingV2::Listener");
    assert!(listener.has("Protocol: UDP") && listener.has("Port: 4789"));
    assert!(listener.has(&format!("LoadBalancerArn: !Ref {}", nlb.name)));
    assert!(listener.has(&format!("TargetGroupArn: !Ref {}", tg.name)));

    let asg = one(&all, "AWS::AutoScaling::AutoScalingGroup");
    assert!(asg.has(&format!("TargetGroupARNs: [!Ref {}]", tg.name)));
    assert!(asg.has("HealthCheckType: ELB"));

    let sg = one(&all, "AWS::EC2::SecurityGroup");
    let ingress = sg.body.join("\n");
    for rule in [
        "IpProtocol: udp\n          FromPort: 4789\n          ToPort: 4789\n          CidrIp: !Ref MirrorSourceCidr".to_string(),
        format!("IpProtocol: tcp\n          FromPort: {tcp}\n          ToPort: {tcp}\n          CidrIp: !Ref VpcCidr"),
        format!("IpProtocol: tcp\n          FromPort: {http}\n          ToPort: {http}\n          CidrIp: !Ref VpcCidr"),
    ] {
        assert!(ingress.contains(&rule), "security group rule:\n{rule}");
    }

    let target = one(&all, "AWS::EC2::TrafficMirrorTarget");
    assert!(target.has(&format!("NetworkLoadBalancerArn: !Ref {}", nlb.name)));
    let filter = one(&all, "AWS::EC2::TrafficMirrorFilter");
    let rules: Vec<_> = all
        .iter()
        .filter(|r| r.kind == "AWS::EC2::TrafficMirrorFilterRule")
        .collect();
    for direction in ["ingress", "egress"] {
        assert!(
            rules
                .iter()
                .any(|r| r.has(&format!("TrafficDirection: {direction}"))
                    && r.has("RuleAction: accept")
                    && r.has(&format!("TrafficMirrorFilterId: !Ref {}", filter.name))),
            "an accept rule for {direction}"
        );
    }
    let session = one(&all, "AWS::EC2::TrafficMirrorSession");
    for line in [
        format!("TrafficMirrorTargetId: !Ref {}", target.name),
        format!("TrafficMirrorFilterId: !Ref {}", filter.name),
        "NetworkInterfaceId: !Ref SourceEniId".to_string(),
        "VirtualNetworkId: !Ref VirtualNetworkId".to_string(),
    ] {
        assert!(session.has(&line), "session: {line}");
    }
}

/// The launch template's user data: the `Fn::Base64: !Sub |` block, unindented.
fn user_data(text: &str) -> String {
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "Fn::Base64: !Sub |")
        .skip(1)
        .peekable();
    let indent = lines.peek().map_or(0, |l| l.len() - l.trim_start().len());
    let mut script = String::new();
    for line in lines.take_while(|l| l.is_empty() || l.len() - l.trim_start().len() >= indent) {
        script.push_str(line.get(indent..).unwrap_or(""));
        script.push('\n');
    }
    assert!(script.starts_with("#!/bin/bash\n"), "no user data script");
    script
}

/// The body of the here-document `<<'TAG'` in the template, unindented.
fn heredoc(text: &str, tag: &str) -> String {
    let opener = format!("<<'{tag}'");
    let mut lines = text.lines().skip_while(|l| !l.ends_with(&opener));
    let first = lines.next().unwrap_or_else(|| panic!("no {opener}"));
    let indent = first.len() - first.trim_start().len();
    let mut body = String::new();
    for line in lines.by_ref() {
        if line.trim() == tag {
            return body;
        }
        body.push_str(line.get(indent..).unwrap_or(""));
        body.push('\n');
    }
    panic!("{tag} is not closed");
}

#[test]
fn template_user_data_installs_the_unit_and_sysctl_verbatim() {
    let text = template();
    for (tag, file) in [
        ("MIRADOR_UNIT", "systemd/mirador.service"),
        ("MIRADOR_SYSCTL", "sysctl.conf"),
    ] {
        let original = read(&deploy(file));
        // Fn::Sub would substitute ${...} in the copy.
        assert!(!original.contains("${"), "deploy/{file} contains ${{");
        assert!(
            heredoc(&text, tag) == original,
            "the copy of deploy/{file} in the template's user data differs: paste the file \
             there again, indented as the here-document"
        );
    }
    let script = user_data(&text);
    // EC2 limits user data to 16 KiB before Base64.
    assert!(
        script.len() < 16 * 1024,
        "user data is {} bytes",
        script.len()
    );
    // The binary goes where the unit runs it.
    let unit = read(&deploy("systemd/mirador.service"));
    assert!(
        unit.contains("ExecStart=/usr/local/bin/mirador run --config /etc/mirador/mirador.yaml")
    );
    assert!(script.contains("mirador\" /usr/local/bin/mirador\n"));
    // The script parses (Fn::Sub's ${Name} made plain words first).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user-data.sh");
    std::fs::write(&path, script.replace("${", "X").replace('}', "X")).unwrap();
    let out = run(Command::new("bash").arg("-n").arg(&path));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        both(&out)
    );
}

#[test]
fn heredoc_reads_the_body_unindented() {
    let t = "x: |\n    cat > f <<'T'\n    a\n\n      b\n    T\n    done\n";
    assert_eq!(heredoc(t, "T"), "a\n\n  b\n");
}

// ---------------------------------------------------------------------------
// systemd, sysctl, logrotate, container.

#[test]
fn systemd_unit_is_hardened() {
    let unit = read(&deploy("systemd/mirador.service"));
    let lines: BTreeSet<&str> = unit.lines().map(str::trim).collect();
    for line in [
        "ExecStart=/usr/local/bin/mirador run --config /etc/mirador/mirador.yaml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGTERM",
        "Restart=on-failure",
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "LockPersonality=yes",
        "RestrictNamespaces=yes",
        "StateDirectory=mirador",
        "LogsDirectory=mirador",
    ] {
        assert!(lines.contains(line), "mirador.service lacks {line}");
    }
    assert!(lines.iter().any(|l| l.starts_with("LimitNOFILE=")));
    let stop: u64 = lines
        .iter()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .expect("TimeoutStopSec")
        .parse()
        .expect("seconds");
    assert!(
        stop >= 60,
        "TimeoutStopSec={stop} leaves little time to drain"
    );
}

#[test]
fn systemd_unit_passes_systemd_analyze_verify() {
    if tool("systemd-analyze").is_none() {
        return;
    }
    // verify checks that the commands exist: point ExecStart at the binary under test.
    let unit = read(&deploy("systemd/mirador.service"))
        .replace("/usr/local/bin/mirador", env!("CARGO_BIN_EXE_mirador"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirador.service");
    std::fs::write(&path, unit).unwrap();
    let out = run(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(out.status.success());
    // Unknown keys and bad values are reported but do not change the exit status.
    let reported: Vec<String> = both(&out)
        .lines()
        .filter(|l| l.contains("mirador.service"))
        .map(String::from)
        .collect();
    assert!(reported.is_empty(), "systemd-analyze: {reported:#?}");
}

#[test]
fn sysctl_settings_exist_and_fit_the_receive_buffer() {
    let text = read(&deploy("sysctl.conf"));
    let mut settings = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line}"));
        settings.insert(key.trim().to_string(), value.trim().to_string());
    }
    for key in [
        "net.core.rmem_max",
        "net.core.rmem_default",
        "net.core.netdev_max_backlog",
        "net.core.netdev_budget",
    ] {
        assert!(settings.contains_key(key), "sysctl.conf lacks {key}");
    }
    let want = mirador_config::Config::embedded_default()
        .listen
        .recv_buffer
        .0;
    let max: u64 = settings["net.core.rmem_max"].parse().unwrap();
    assert!(max >= want, "rmem_max {max} < listen.recv-buffer {want}");
    // The keys are real (read only; nothing is set).
    let proc_sys = Path::new("/proc/sys");
    if proc_sys.join("net/core").exists() {
        for key in settings.keys() {
            let p = proc_sys.join(key.replace('.', "/"));
            assert!(p.exists(), "{key}: no {}", p.display());
        }
    }
}

#[test]
fn logrotate_file_parses() {
    if tool("logrotate").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // -d: debug mode, rotates nothing; a private state file.
    let out = run(Command::new("logrotate")
        .arg("-d")
        .arg("-s")
        .arg(dir.path().join("state"))
        .arg(deploy("logrotate/mirador")));
    assert!(out.status.success());
    // Unknown directives are reported as errors without failing the run.
    let errors: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("error"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let text = read(&deploy("logrotate/mirador"));
    assert!(
        text.contains("systemctl reload mirador.service") && !text.contains("\n    copytruncate")
    );
}

#[test]
fn containerfile_builds_a_non_root_image_with_the_default_ports() {
    let text = read(&deploy("Containerfile"));
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let from = lines.iter().filter(|l| l.starts_with("FROM ")).count();
    assert!(from >= 2, "a multi-stage build");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cargo build --release --locked"))
    );
    let user = lines
        .iter()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "USER {user}"
    );
    let config = mirador_config::Config::embedded_default();
    let expose = lines
        .iter()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .expect("EXPOSE");
    let exposed: BTreeSet<&str> = expose.split_whitespace().collect();
    let port = |a: &std::net::SocketAddr| a.port();
    let wanted = [
        format!("{}/udp", port(&config.listen.vxlan[0])),
        format!("{}/udp", port(&config.listen.geneve[0])),
        format!("{}/tcp", port(&config.health.tcp[0])),
        format!("{}/tcp", port(&config.http.listen[0])),
    ];
    for w in &wanted {
        assert!(exposed.contains(w.as_str()), "EXPOSE lacks {w}");
    }
    let health = lines
        .iter()
        .position(|l| l.starts_with("HEALTHCHECK"))
        .expect("HEALTHCHECK");
    assert!(
        lines[health..].iter().take(3).any(|l| l.contains(&format!(
            "/dev/tcp/127.0.0.1/{}",
            port(&config.http.listen[0])
        )) && l.contains("/healthz")),
        "the health check asks /healthz on the HTTP port"
    );
    assert!(lines.contains(&r#"ENTRYPOINT ["/usr/local/bin/mirador", "run"]"#));
    let ignore = read(&deploy("Containerfile.dockerignore"));
    assert!(
        ignore.lines().any(|l| l == "target"),
        "the build context skips target/"
    );
}
