//! Loading signatures: rule files, side files and variables from the
//! configuration, into a [`mirador_detect::engine::Engine`]; and
//! `mirador check-rules`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mirador_config::Config;
use mirador_detect::engine::Engine;
use mirador_detect::pcre_step::compile_pcre;
use mirador_detect::ruleset::{LoadOptions, LoadReport, load};
use mirador_rules::{Classifications, Vars};

/// Rule files compiled into the binary, named `builtin:NAME` in
/// `rule-files`: the embedded default config loads `builtin:mirador.rules`,
/// so `mirador replay x.pcap` has signatures with no file around.
const BUILTIN: &[(&str, &str)] = &[(
    "builtin:mirador.rules",
    include_str!("../../rules/mirador.rules"),
)];

/// Whether warnings go to the structured log (`mirador run`) rather than
/// plain stderr lines (`replay`, `check-rules`).
pub static LOG_WARNINGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A loading warning.
fn warn(msg: &str) {
    if LOG_WARNINGS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!("{msg}");
    } else {
        eprintln!("mirador: warning: {msg}");
    }
}

/// The rule files to load: `--rules`, else the config's `rule-files`
/// (relative ones under `default-rule-path`; `builtin:` names as they are).
pub fn rule_paths(config: &Config, cli: &[PathBuf]) -> Vec<PathBuf> {
    if !cli.is_empty() {
        return cli.to_vec();
    }
    config
        .rule_files
        .iter()
        .map(|f| {
            let p = Path::new(f);
            if f.starts_with("builtin:") || p.is_absolute() || config.default_rule_path.is_empty() {
                p.to_path_buf()
            } else {
                Path::new(&config.default_rule_path).join(p)
            }
        })
        .collect()
}

fn read(path: &Path, what: &str) -> Result<String> {
    if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| Path::new(n) == path) {
        return Ok((*text).to_string());
    }
    std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the {what}", path.display()))
}

/// The classifications: the config's file, else Suricata's default.
fn classifications(config: &Config) -> Result<Classifications> {
    let Some(f) = &config.classification_file else {
        return Ok(Classifications::suricata_default());
    };
    let text = read(Path::new(f), "classification file")?;
    let (c, errors) = Classifications::from_config(f, &text);
    for e in errors {
        warn(&e.to_string());
    }
    Ok(c)
}

/// Suricata's variables with the config's `vars` over them.
pub fn vars_of(base: &Vars, v: &mirador_config::VarsConfig, key: &str) -> Result<Vars> {
    let mut over = Vars::new();
    for (name, value) in &v.address_groups {
        over.set_address(name, value)
            .map_err(|e| anyhow::anyhow!("{key}.address-groups.{name}: {e}"))?;
    }
    for (name, value) in &v.port_groups {
        over.set_port(name, value)
            .map_err(|e| anyhow::anyhow!("{key}.port-groups.{name}: {e}"))?;
    }
    Ok(Vars::with_overrides(base, &over))
}

/// Loads the rules of `paths` under `config`: the engine and what loading
/// reported.
pub fn load_rules(config: &Config, paths: &[PathBuf]) -> Result<(Engine, LoadReport)> {
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        files.push((p.display().to_string(), read(p, "rule file")?));
    }
    let classes = classifications(config)?;
    let disable: Vec<(u32, u32)> = config
        .rules
        .disable
        .iter()
        .map(|r| (r.gid, r.sid))
        .collect();
    let enable: Vec<(u32, u32)> = config.rules.enable.iter().map(|r| (r.gid, r.sid)).collect();
    // A file a rule names (`filemd5:list;`): beside its rule file first,
    // then under `default-rule-path` (Suricata's only place), then as
    // given. Lists are small; the size cap keeps a wrong name harmless.
    let files_of = |rule_file: &str, name: &str| -> std::result::Result<String, String> {
        let mut tries: Vec<PathBuf> = Vec::new();
        let p = std::path::Path::new(name);
        if p.is_absolute() {
            tries.push(p.to_path_buf());
        } else {
            if let Some(dir) = std::path::Path::new(rule_file).parent() {
                tries.push(dir.join(name));
            }
            if !config.default_rule_path.is_empty() {
                tries.push(std::path::Path::new(&config.default_rule_path).join(name));
            }
            tries.push(p.to_path_buf());
        }
        for t in &tries {
            if let Ok(meta) = std::fs::metadata(t) {
                if meta.len() > 64 << 20 {
                    return Err(format!("{} is larger than 64 MiB", t.display()));
                }
                return std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()));
            }
        }
        Err("not found beside the rule file nor under default-rule-path".to_string())
    };
    let opts = LoadOptions {
        disable: &disable,
        enable: &enable,
        classes: &classes,
        pcre: &compile_pcre,
        files: Some(&files_of),
    };
    let (mut sigs, names, report) = load(&files, &opts);
    // The rules are parsed into owned values: the text (20 MB for ET
    // Open) need not live on while the engine is built.
    drop(files);
    let defaults = vars_of(&Vars::suricata_defaults(), &config.vars, "vars")?;
    if let Some(f) = &config.threshold_file {
        let text = read(Path::new(f), "threshold file")?;
        let r = mirador_detect::ruleset::apply_threshold_config(&mut sigs, f, &text, &defaults);
        for why in &r.ignored {
            warn(&why.to_string());
        }
    }
    let mut tenants = Vec::new();
    for (name, t) in &config.tenants {
        tenants.push((
            name.clone(),
            vars_of(&defaults, &t.vars, &format!("tenants.{name}.vars"))?,
        ));
    }
    let engine = Engine::build(sigs, names, &defaults, &tenants);
    for (sid, why) in &engine.stats().unresolved {
        warn(&format!("rule {sid}: {why}"));
    }
    Ok((engine, report))
}

/// `mirador check-rules [--json] FILE...`.
pub fn check_rules(
    files: &[PathBuf],
    json: bool,
    config: Option<&Path>,
    verbose: bool,
) -> Result<ExitCode> {
    if files.is_empty() {
        bail!("no rule file given");
    }
    let config = super::load_config(config, &[])?;
    let started = std::time::Instant::now();
    let (engine, report) = load_rules(&config, files)?;
    let elapsed = started.elapsed();
    let reasons = report.reasons();
    if json {
        let v = serde_json::json!({
            "loaded": report.loaded,
            "skipped": report.skipped.len(),
            "reasons": reasons,
        });
        println!("{v}");
    } else {
        println!(
            "mirador check-rules: {} file(s): {} rules loaded, {} skipped, {} disabled in their files ({:.2} s)",
            files.len(),
            report.loaded,
            report.skipped.len(),
            report.disabled,
            elapsed.as_secs_f64()
        );
        if report.disabled_by_config + report.enabled_by_config > 0 {
            println!(
                "  rules.disable removed {}, rules.enable added {}",
                report.disabled_by_config, report.enabled_by_config
            );
        }
        let s = engine.stats();
        println!(
            "  {} port groups, largest {} rules, {} prefilter patterns, {} IP-only rules",
            s.groups, s.largest_group, s.patterns, s.ip_only
        );
        if !reasons.is_empty() {
            println!("skipped, by reason (the first keyword or feature not supported yet):");
            let mut by_count: Vec<_> = reasons.iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (reason, n) in by_count {
                println!("  {n:>7}  {reason}");
            }
        }
        if report.tag_not_logged > 0 {
            println!(
                "note: {} loaded rule(s) use `tag`: they alert, but the extra packets `tag` asks to log are not logged yet",
                report.tag_not_logged
            );
        }
    }
    if verbose {
        for s in &report.skipped {
            eprintln!("{}: {}: {}", s.at, s.reason, s.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}
