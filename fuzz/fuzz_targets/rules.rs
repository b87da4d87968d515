//! Rule text through mirador-rules: any text through the rule-file parser,
//! every parsed (and disabled) rule's header through the expression
//! resolver with Suricata's default variables and with variables taken
//! from the input, and the same text through the side-file parsers.
//!
//! Input: a rules file, optionally followed by `\n--vars\n` and lines
//! `A NAME VALUE` (address variable) or `P NAME VALUE` (port variable).
//! Checks: no panic, no unbounded recursion or work (the crate caps
//! nesting, variable depth and expansion).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_rules::{
    AddrExpr, Classifications, Entry, PortExpr, ReferenceSystems, Vars, entries,
    parse_threshold_config,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (rules, var_lines) = text.split_once("\n--vars\n").unwrap_or((&text, ""));

    let mut vars = Vars::suricata_defaults();
    for line in var_lines.lines() {
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("A"), Some(name), Some(value)) => {
                let _ = vars.set_address(name, value);
            }
            (Some("P"), Some(name), Some(value)) => {
                let _ = vars.set_port(name, value);
            }
            _ => {}
        }
    }
    let _ = vars.check();

    let defaults = Vars::suricata_defaults();
    for entry in entries("fuzz.rules", rules) {
        let rule = match entry {
            Entry::Rule(Ok(r)) => r,
            Entry::Disabled(r) => r,
            Entry::Rule(Err(e)) => {
                let _ = (e.to_string(), e.reason());
                continue;
            }
            Entry::Ignored { .. } => continue,
        };
        for v in [&defaults, &vars] {
            if let Ok(h) = rule.resolve(v) {
                let _ = (
                    h.src.to_ipnets(),
                    h.dst.to_string(),
                    h.dst_ports.to_string(),
                );
            }
        }
        for o in &rule.options {
            let _ = (o.raw_unquoted(), o.canonical_name());
        }
        let _ = rule.location(rule.text.len());
    }

    // Each line as a bare expression too.
    for line in rules.lines().take(64) {
        if let Ok(e) = AddrExpr::parse(line) {
            let _ = e.resolve(&vars);
            let _ = AddrExpr::parse(&e.to_string());
        }
        if let Ok(e) = PortExpr::parse(line) {
            let _ = e.resolve(&vars);
        }
    }

    let _ = Classifications::from_config("fuzz.config", rules);
    let _ = ReferenceSystems::from_config("fuzz.config", rules);
    let _ = parse_threshold_config("fuzz.config", rules);
});
