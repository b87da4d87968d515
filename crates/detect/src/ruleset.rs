//! Loading a rule set from rule-file texts: parse, select (enable/disable
//! by sid), compile, deduplicate, and report every rule not loaded with its
//! reason. Pure: the caller reads the files.
//!
//! Suricata's rules for duplicates: of two rules with the same gid and sid,
//! the one with the higher `rev` is kept (the other is reported
//! `duplicate sid`); with equal revs the first one read is kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mirador_rules::{Classifications, Entry, Rule, entries};

use crate::flowvars::Names;
use crate::signature::{CompileCtx, FileLoader, RegexCompiler, Signature, Skip, compile};

/// A rule that was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// File and line (`FILE:LINE`).
    pub at: String,
    /// The rule's sid, when it parsed that far.
    pub sid: Option<u32>,
    /// The reason as counted (`content` for an unsupported keyword,
    /// `invalid depth`, `parse: sid`, `duplicate sid`, ...).
    pub reason: String,
    /// The whole message.
    pub message: String,
}

/// What loading did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Rules loaded.
    pub loaded: usize,
    /// Rules not loaded, in file order.
    pub skipped: Vec<Skipped>,
    /// Commented-out rules left disabled.
    pub disabled: usize,
    /// Rules disabled by `rules.disable`.
    pub disabled_by_config: usize,
    /// Commented-out rules enabled by `rules.enable`.
    pub enabled_by_config: usize,
    /// Loaded rules that use `tag` (matched, but the extra packet logging
    /// `tag` asks for is not implemented yet).
    pub tag_not_logged: usize,
}

impl LoadReport {
    /// Skip counts by reason, sorted by reason.
    pub fn reasons(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason.clone()).or_insert(0) += 1;
        }
        m
    }
}

/// How to load.
pub struct LoadOptions<'a> {
    /// `(gid, sid)` to leave out.
    pub disable: &'a [(u32, u32)],
    /// `(gid, sid)` to load even when commented out.
    pub enable: &'a [(u32, u32)],
    /// `classtype` descriptions and priorities.
    pub classes: &'a Classifications,
    /// The `pcre` compiler.
    pub pcre: &'a RegexCompiler<'a>,
    /// Reads a file a rule names, given the rule file's name and the
    /// file's (`filemd5` lists); `None`: such rules are skipped.
    pub files: Option<&'a RuleFileLoader<'a>>,
}

/// Reads a file a rule names: (the rule file's name, the file's name).
pub type RuleFileLoader<'a> = dyn Fn(&str, &str) -> Result<String, String> + 'a;

/// Loads `files` (name, text), in order.
pub fn load(
    files: &[(String, String)],
    opts: &LoadOptions<'_>,
) -> (Vec<Signature>, Names, LoadReport) {
    let mut names = Names::default();
    let mut report = LoadReport::default();
    let mut sigs: Vec<Signature> = Vec::new();
    let mut by_id: HashMap<(u32, u32), usize> = HashMap::new();
    for (file, text) in files {
        for entry in entries(file, text) {
            let rule = match entry {
                Entry::Rule(Ok(r)) => r,
                Entry::Rule(Err(e)) => {
                    report.skipped.push(Skipped {
                        at: format!("{}:{}", file, e.line),
                        sid: None,
                        reason: format!("parse: {}", e.field.as_deref().unwrap_or("rule")),
                        message: e.to_string(),
                    });
                    continue;
                }
                Entry::Disabled(r) => {
                    if opts.enable.contains(&(r.gid, r.sid)) {
                        report.enabled_by_config += 1;
                        r
                    } else {
                        report.disabled += 1;
                        continue;
                    }
                }
                Entry::Ignored { .. } => continue,
            };
            if opts.disable.contains(&(rule.gid, rule.sid)) {
                report.disabled_by_config += 1;
                continue;
            }
            let at = format!("{}:{}", file, rule.line);
            let (gid, sid, rev) = (rule.gid, rule.sid, rule.rev);
            let uses_tag = rule.option("tag").is_some();
            let loader = |name: &str| match opts.files {
                Some(f) => f(file, name),
                None => Err("no file loader".to_string()),
            };
            let mut ctx = CompileCtx {
                names: &mut names,
                classes: opts.classes,
                pcre: opts.pcre,
                files: opts.files.map(|_| &loader as &FileLoader<'_>),
            };
            let sig = match compile(Arc::new(rule), &mut ctx) {
                Ok(s) => s,
                Err(skip) => {
                    report.skipped.push(skipped(at, sid, &skip));
                    continue;
                }
            };
            match by_id.get(&(gid, sid)) {
                Some(&i) if sigs[i].rev >= rev => {
                    report.skipped.push(Skipped {
                        at,
                        sid: Some(sid),
                        reason: "duplicate sid".into(),
                        message: format!(
                            "{gid}:{sid} rev {rev} is already loaded (rev {})",
                            sigs[i].rev
                        ),
                    });
                }
                Some(&i) => {
                    let old = std::mem::replace(&mut sigs[i], sig);
                    report.skipped.push(Skipped {
                        at: format!(
                            "{}:{}",
                            old.rule.file.as_deref().unwrap_or("?"),
                            old.rule.line
                        ),
                        sid: Some(sid),
                        reason: "duplicate sid".into(),
                        message: format!("{gid}:{sid} rev {} replaced by rev {rev}", old.rev),
                    });
                }
                None => {
                    by_id.insert((gid, sid), sigs.len());
                    report.tag_not_logged += usize::from(uses_tag);
                    sigs.push(sig);
                }
            }
        }
    }
    report.loaded = sigs.len();
    (sigs, names, report)
}

fn skipped(at: String, sid: u32, skip: &Skip) -> Skipped {
    Skipped {
        at,
        sid: Some(sid),
        reason: skip.reason(),
        message: skip.to_string(),
    }
}

/// Parses one rule for tests and tools.
pub fn parse_one(text: &str) -> Option<Rule> {
    Rule::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::RegexStep;

    fn nopcre(_: &str) -> Result<Arc<dyn RegexStep>, Skip> {
        Err(Skip::Unsupported("pcre".into()))
    }

    #[test]
    fn loads_selects_and_reports() {
        let text = [
            r#"alert tcp any any -> any 80 (msg:"a"; content:"x"; sid:1; rev:1;)"#,
            r#"alert tcp any any -> any 80 (msg:"a newer"; content:"x"; sid:1; rev:2;)"#,
            r#"alert tcp any any -> any 80 (msg:"dup older"; content:"x"; sid:1; rev:1;)"#,
            r#"alert smtp any any -> any any (msg:"app"; sid:2;)"#,
            r#"alert tcp any any -> any any (msg:"bad"; sid:x;)"#,
            r#"# alert tcp any any -> any any (msg:"off"; sid:3;)"#,
            r#"# alert tcp any any -> any any (msg:"turned on"; sid:4;)"#,
            r#"alert tcp any any -> any any (msg:"turned off"; sid:5;)"#,
            r#"alert tcp any any -> any any (msg:"tagged"; tag:session,10,packets; sid:6;)"#,
        ]
        .join("\n");
        let classes = Classifications::suricata_default();
        let opts = LoadOptions {
            disable: &[(1, 5)],
            enable: &[(1, 4)],
            classes: &classes,
            pcre: &nopcre,
            files: None,
        };
        let (sigs, _, report) = load(&[("t.rules".to_string(), text)], &opts);
        let sids: Vec<(u32, u32)> = sigs.iter().map(|s| (s.sid, s.rev)).collect();
        assert_eq!(sids, vec![(1, 2), (4, 0), (6, 0)]);
        assert_eq!(report.loaded, 3);
        assert_eq!(report.disabled, 1);
        assert_eq!(report.disabled_by_config, 1);
        assert_eq!(report.enabled_by_config, 1);
        assert_eq!(report.tag_not_logged, 1);
        let reasons = report.reasons();
        assert_eq!(reasons["duplicate sid"], 2);
        assert_eq!(reasons["protocol smtp"], 1);
        assert_eq!(reasons["parse: sid"], 1);
        assert!(report.skipped.iter().any(|s| s.at == "t.rules:5"));
    }
}

/// What applying `threshold.config` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThresholdReport {
    /// Rules whose threshold a `threshold`/`event_filter` line set.
    pub thresholds: usize,
    /// Rules a `suppress` line applies to.
    pub suppressed: usize,
    /// Lines not applied, with why (`FILE:LINE: reason`).
    pub ignored: Vec<String>,
}

/// Applies `threshold.config` text to loaded signatures, as Suricata does:
/// a `threshold` or `event_filter` line replaces the rule's own threshold;
/// `suppress` drops the rule's alerts (all, or by source, destination or
/// either address); `sig_id 0` means every rule of the generator, and
/// `gen_id 0` every generator. `rate_filter` is an IPS feature: reported,
/// not applied.
pub fn apply_threshold_config(
    sigs: &mut [Signature],
    file: &str,
    text: &str,
    vars: &mirador_rules::Vars,
) -> ThresholdReport {
    use crate::signature::Suppress;
    use crate::threshold::{Kind, Spec, Track};
    use mirador_rules::{SuppressTrack, ThresholdEntry, ThresholdType, Track as RTrack};
    let mut report = ThresholdReport::default();
    let hits = |gid: u32, sid: u32, s: &Signature| {
        (gid == 0 || s.gid == gid) && (sid == 0 || s.sid == sid)
    };
    for line in mirador_rules::parse_threshold_config(file, text) {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                report.ignored.push(e.to_string());
                continue;
            }
        };
        match line.entry {
            ThresholdEntry::Threshold(t) | ThresholdEntry::EventFilter(t) => {
                let spec = Spec {
                    kind: match t.kind {
                        ThresholdType::Limit => Kind::Limit,
                        ThresholdType::Threshold => Kind::Threshold,
                        ThresholdType::Both => Kind::Both,
                    },
                    track: match t.track {
                        RTrack::BySrc => Track::BySrc,
                        RTrack::ByDst => Track::ByDst,
                        RTrack::ByRule => Track::ByRule,
                        RTrack::ByBoth => Track::ByBoth,
                    },
                    count: t.count,
                    seconds: t.seconds,
                };
                for s in sigs.iter_mut().filter(|s| hits(t.gen_id, t.sig_id, s)) {
                    s.threshold = Some(spec);
                    report.thresholds += 1;
                }
            }
            ThresholdEntry::Suppress(x) => {
                let rule = match &x.only {
                    None => Suppress::All,
                    Some((track, expr)) => match expr.resolve(vars) {
                        Ok(set) => match track {
                            SuppressTrack::BySrc => Suppress::BySrc(set),
                            SuppressTrack::ByDst => Suppress::ByDst(set),
                            SuppressTrack::ByEither => Suppress::ByEither(set),
                        },
                        Err(e) => {
                            report
                                .ignored
                                .push(format!("{file}:{}: suppress: {e}", line.line));
                            continue;
                        }
                    },
                };
                for s in sigs.iter_mut().filter(|s| hits(x.gen_id, x.sig_id, s)) {
                    s.suppress.push(rule.clone());
                    report.suppressed += 1;
                }
            }
            ThresholdEntry::RateFilter(_) => report.ignored.push(format!(
                "{file}:{}: rate_filter changes IPS actions; not applied",
                line.line
            )),
        }
    }
    report
}

#[cfg(test)]
mod threshold_config_tests {
    use super::*;
    use crate::payload::RegexStep;

    fn nopcre(_: &str) -> Result<Arc<dyn RegexStep>, Skip> {
        Err(Skip::Unsupported("pcre".into()))
    }

    #[test]
    fn threshold_config_sets_thresholds_and_suppressions() {
        let text = [
            r#"alert udp any any -> any any (content:"a"; sid:1;)"#,
            r#"alert udp any any -> any any (content:"b"; sid:2;)"#,
            r#"alert udp any any -> any any (content:"c"; sid:3;)"#,
        ]
        .join("\n");
        let classes = Classifications::suricata_default();
        let opts = LoadOptions {
            disable: &[],
            enable: &[],
            classes: &classes,
            pcre: &nopcre,
            files: None,
        };
        let (mut sigs, _, _) = load(&[("t.rules".to_string(), text)], &opts);
        let conf = "threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60\n\
                    suppress gen_id 1, sig_id 2\n\
                    suppress gen_id 1, sig_id 3, track by_src, ip 10.0.0.0/8\n\
                    rate_filter gen_id 1, sig_id 3, track by_rule, count 1, seconds 1, new_action drop, timeout 5\n";
        let r = apply_threshold_config(
            &mut sigs,
            "threshold.config",
            conf,
            &mirador_rules::Vars::suricata_defaults(),
        );
        assert_eq!((r.thresholds, r.suppressed, r.ignored.len()), (1, 2, 1));
        assert!(sigs[0].threshold.is_some());
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(sigs[1].suppress[0].applies(ip("1.1.1.1"), ip("2.2.2.2")));
        assert!(sigs[2].suppress[0].applies(ip("10.1.1.1"), ip("2.2.2.2")));
        assert!(!sigs[2].suppress[0].applies(ip("11.1.1.1"), ip("10.2.2.2")));
    }
}
