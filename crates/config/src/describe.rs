//! `Config::describe`, for `mirador check-config`.

use std::fmt::{self, Write as _};

use crate::filter::FilterRule;
use crate::sections::FlowTimeoutSet;
use crate::{Config, UnknownSession};

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn list<T: fmt::Display>(items: &[T], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn timeouts(t: &FlowTimeoutSet) -> String {
    format!(
        "new {} established {} closed {} bypassed {} | emergency: new {} established {} closed {} bypassed {}",
        t.new,
        t.established,
        t.closed,
        t.bypassed,
        t.emergency_new,
        t.emergency_established,
        t.emergency_closed,
        t.emergency_bypassed
    )
}

fn rule_line(r: &FilterRule) -> String {
    let mut s = format!("{:>5} {}", r.rule_number, r.action.as_str());
    match r.protocol {
        None => s.push_str(" all"),
        Some(6) => s.push_str(" tcp"),
        Some(17) => s.push_str(" udp"),
        Some(1) => s.push_str(" icmp"),
        Some(58) => s.push_str(" icmpv6"),
        Some(p) => {
            let _ = write!(s, " proto {p}");
        }
    }
    let _ = write!(s, " {}", r.source_cidr);
    if let Some(p) = r.source_port {
        let _ = write!(s, " port {p}");
    }
    let _ = write!(s, " -> {}", r.destination_cidr);
    if let Some(p) = r.destination_port {
        let _ = write!(s, " port {p}");
    }
    if let Some(d) = &r.description {
        let _ = write!(s, "  ({d})");
    }
    s
}

impl Config {
    /// A human summary of what was resolved, with defaults filled in: workers,
    /// checksums, decoders, mirror allow-lists and sessions (key, sources, tenant,
    /// filter and rule counts), filters with their rules in evaluation order, stream
    /// settings, host-os-policy, defrag, flow, flow timeouts, outputs and rule files.
    /// `mirador check-config` prints it.
    pub fn describe(&self) -> String {
        let mut o = String::new();
        let w = &mut o;
        let workers = if self.workers == 0 {
            "auto (the CPUs available)".to_string()
        } else {
            self.workers.to_string()
        };
        let _ = writeln!(w, "workers: {workers}");
        let _ = writeln!(
            w,
            "checksum-validation: {}",
            self.checksum_validation.as_str()
        );
        let d = &self.decoder;
        let dec = |t: &crate::TunnelDecoder| {
            if t.enabled {
                format!("udp {}", list(&t.ports, "-"))
            } else {
                "off".to_string()
            }
        };
        let _ = writeln!(
            w,
            "decoder: vxlan {}; geneve {}; max-layers {}",
            dec(&d.vxlan),
            dec(&d.geneve),
            d.max_layers
        );

        let m = &self.mirror;
        let _ = writeln!(w, "mirror:");
        let unknown = match m.unknown_session {
            UnknownSession::Inspect => {
                format!(
                    "inspect (at most {} anonymous sessions)",
                    m.max_anonymous_sessions
                )
            }
            UnknownSession::Drop => "drop".to_string(),
        };
        let _ = writeln!(w, "  unknown-session: {unknown}");
        let _ = writeln!(w, "  source-allow: {}", list(&m.source_allow, "all"));
        let _ = writeln!(w, "  vni-allow: {}", list(&m.vni_allow, "all"));
        let _ = writeln!(w, "  sessions: {}", m.sessions.len());
        for (i, s) in m.sessions.iter().enumerate() {
            let _ = write!(w, "    [{i}] {}", s.name.as_deref().unwrap_or("(unnamed)"));
            if let Some(id) = &s.id {
                let _ = write!(w, " {id}");
            }
            let _ = writeln!(w);
            let _ = writeln!(w, "        key: {}; tenant: {}", s.key(), s.tenant);
            let _ = writeln!(w, "        outer sources: {}", list(&s.source_ips, "any"));
            if let Some(eni) = &s.source_eni {
                let _ = writeln!(w, "        source-eni: {eni}");
            }
            let _ = writeln!(
                w,
                "        eni-addresses: {}",
                list(
                    &s.eni_addresses,
                    "none (no direction: filters cannot apply)"
                )
            );
            match self.session_filter(s) {
                Some(f) => {
                    let _ = writeln!(
                        w,
                        "        filter: {} ({} ingress, {} egress rules)",
                        f.name,
                        f.ingress.len(),
                        f.egress.len()
                    );
                }
                None => {
                    let _ = writeln!(w, "        filter: none (every packet inspected)");
                }
            }
            if let Some(p) = s.packet_length {
                let _ = writeln!(w, "        packet-length: {p}");
            }
            if let Some(n) = s.session_number {
                let _ = writeln!(w, "        session-number: {n}");
            }
            if let Some(t) = &s.target {
                let _ = writeln!(w, "        target: {t}");
            }
        }

        let _ = writeln!(w, "filters: {}", self.filters.len());
        for f in self.filters.values() {
            let _ = write!(w, "  {}", f.name);
            if let Some(id) = &f.id {
                let _ = write!(w, " {id}");
            }
            if !f.network_services.is_empty() {
                let _ = write!(w, " (network-services: amazon-dns)");
            }
            let _ = writeln!(w);
            for (dir, rules) in [("ingress", &f.ingress), ("egress", &f.egress)] {
                if rules.is_empty() {
                    let _ = writeln!(w, "    {dir}: no rules (nothing mirrored)");
                    continue;
                }
                let _ = writeln!(w, "    {dir}:");
                for r in rules {
                    let _ = writeln!(w, "    {}", rule_line(r));
                }
            }
        }

        let s = &self.stream;
        let _ = writeln!(
            w,
            "stream: midstream {}; async-oneside {}; inline {}; reassembly.depth {}",
            yes_no(s.midstream),
            yes_no(s.async_oneside),
            yes_no(s.inline),
            if s.reassembly.depth.0 == 0 {
                "unlimited".to_string()
            } else {
                s.reassembly.depth.to_string()
            }
        );
        let p = &self.app_layer.protocols;
        let en = |e: crate::Enabled| match e {
            crate::Enabled::Yes => "yes",
            crate::Enabled::DetectionOnly => "detection-only",
            crate::Enabled::No => "no",
        };
        let _ = writeln!(
            w,
            "app-layer: http {} (bodies {}/{}); tls {}; dns {} (tcp {}, udp {})",
            en(p.http.enabled),
            p.http.libhtp.default_config.request_body_limit,
            p.http.libhtp.default_config.response_body_limit,
            en(p.tls.enabled),
            en(p.dns.enabled),
            yes_no(p.dns.tcp.enabled),
            yes_no(p.dns.udp.enabled),
        );
        crate::engine_sections::describe(self, w);
        let t = &self.flow_timeouts;
        let _ = writeln!(w, "flow-timeouts (seconds):");
        for (name, set) in [
            ("default", &t.default),
            ("tcp", &t.tcp),
            ("udp", &t.udp),
            ("icmp", &t.icmp),
            ("sctp", &t.sctp),
        ] {
            let _ = writeln!(w, "  {name:<7} {}", timeouts(set));
        }
        let _ = writeln!(
            w,
            "outputs.eve: {}; tunnel-flows {}",
            self.outputs.eve.filename,
            yes_no(self.outputs.eve.tunnel_flows)
        );
        let v = &self.outputs.vpc_flow_logs;
        if v.enabled {
            let _ = writeln!(
                w,
                "outputs.vpc-flow-logs: {}; version {} ({} fields); aggregation {}s; files every {}s{}",
                v.directory,
                v.format.version(),
                v.format.fields().len(),
                v.aggregation_interval,
                v.rotate_interval,
                if v.gzip { ", gzip" } else { "" }
            );
        } else {
            let _ = writeln!(w, "outputs.vpc-flow-logs: off");
        }
        let l = &self.listen;
        let _ = writeln!(
            w,
            "listen (mirador run): vxlan {}; geneve {}; sockets {}; recv-buffer {} bytes; batch {}; queue {}",
            list(&l.vxlan, "none"),
            list(&l.geneve, "none"),
            if l.sockets == 0 {
                "one per four workers".to_string()
            } else {
                l.sockets.to_string()
            },
            l.recv_buffer.bytes(),
            l.batch,
            l.queue
        );
        let _ = writeln!(
            w,
            "health: tcp {}; fail-on-overload {}; http {}{}; stats every {}",
            list(&self.health.tcp, "none"),
            yes_no(self.health.fail_on_overload),
            list(&self.http.listen, "none"),
            if self.http.reload {
                ""
            } else {
                " (reload off)"
            },
            if self.stats.enabled {
                format!("{}s", self.stats.interval)
            } else {
                "never".to_string()
            }
        );
        let _ = writeln!(w, "rule-files: {}", list(&self.rule_files, "none"));
        if !self.default_rule_path.is_empty() {
            let _ = writeln!(w, "default-rule-path: {}", self.default_rule_path);
        }
        for (key, v) in [
            ("classification-file", &self.classification_file),
            ("reference-config-file", &self.reference_config_file),
            ("threshold-file", &self.threshold_file),
        ] {
            let _ = writeln!(w, "{key}: {}", v.as_deref().unwrap_or("(default)"));
        }
        for (name, v) in self
            .vars
            .address_groups
            .iter()
            .chain(self.vars.port_groups.iter())
        {
            let _ = writeln!(w, "vars: {name} = {v}");
        }
        if !self.rules.disable.is_empty() || !self.rules.enable.is_empty() {
            let _ = writeln!(
                w,
                "rules: {} disabled, {} enabled by sid",
                self.rules.disable.len(),
                self.rules.enable.len()
            );
        }
        for (t, tc) in &self.tenants {
            let n = tc.vars.address_groups.len() + tc.vars.port_groups.len();
            let _ = writeln!(w, "tenant {t}: {n} variable(s) overridden");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn describe_names_what_was_resolved() {
        let c = Config::from_yaml(
            "d.yaml",
            "mirror:\n  vni-allow: [\"100-200\"]\n  sessions:\n    - name: web\n      vni: 42\n      source-ips: [10.0.1.15]\n      eni-addresses: [10.0.1.15]\n      filter: f\n    - erspan-id: 7\nfilters:\n  f:\n    ingress:\n      - { rule-number: 100, action: accept, protocol: 6, source-cidr: 0.0.0.0/0, destination-cidr: 10.0.0.0/16, destination-port: 443 }\n",
        )
        .unwrap();
        let d = c.describe();
        for needle in [
            "workers: auto",
            "checksum-validation: none",
            "vxlan udp 4789; geneve udp 6081",
            "vni-allow: 100-200",
            "source-allow: all",
            "[0] web",
            "key: vni 42; tenant: 42",
            "outer sources: 10.0.1.15",
            "filter: f (1 ingress, 0 egress rules)",
            "key: erspan-id 7; tenant: 7",
            "filter: none (every packet inspected)",
            "100 accept tcp 0.0.0.0/0 -> 10.0.0.0/16 port 443",
            "egress: no rules (nothing mirrored)",
            "async-oneside yes",
            "reassembly.depth 1mb",
            "tcp     new 60 established 600",
            "outputs.eve: eve.json",
            "outputs.vpc-flow-logs: off",
        ] {
            assert!(d.contains(needle), "missing {needle:?} in\n{d}");
        }
    }
}
