//! Parses the rule files of the shared corpus: the ET Open ruleset (which
//! uses every corner of the syntax) and suricata-verify's rule files.
//! Skips when `../shared` is absent, unless `MIRADOR_REQUIRE_OPTIONAL=1`
//! (the project's convention, as the root `tests/common` `optional()`).
//!
//! Run with `--nocapture` to see the figures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mirador_rules::keywords::{self, KeywordClass};
use mirador_rules::{Classifications, Entry, ErrorKind, Rule, RuleError, Vars, entries};

fn optional_required() -> bool {
    std::env::var("MIRADOR_REQUIRE_OPTIONAL").is_ok_and(|v| v == "1")
}

/// The shared corpus folder, or `None` (with a note) when absent.
fn corpus() -> Option<PathBuf> {
    let base = std::env::var_os("MIRADOR_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let c = base.join("corpus");
    if c.join("MANIFEST.md").exists() {
        return Some(c);
    }
    assert!(
        !optional_required(),
        "MIRADOR_REQUIRE_OPTIONAL=1 but the shared corpus (../shared/corpus) is missing"
    );
    eprintln!("skipped: the shared corpus (../shared/corpus) is missing");
    None
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

#[derive(Default)]
struct Tally {
    rules: usize,
    parsed: Vec<Rule>,
    failures: Vec<RuleError>,
    disabled: usize,
    ignored: usize,
}

fn tally(files: &[PathBuf], root: &Path) -> Tally {
    let mut t = Tally::default();
    for f in files {
        let name = f.strip_prefix(root).unwrap_or(f).display().to_string();
        for e in entries(&name, &read(f)) {
            match e {
                Entry::Rule(Ok(r)) => {
                    t.rules += 1;
                    t.parsed.push(r);
                }
                Entry::Rule(Err(e)) => {
                    t.rules += 1;
                    t.failures.push(e);
                }
                Entry::Disabled(_) => t.disabled += 1,
                Entry::Ignored { .. } => t.ignored += 1,
            }
        }
    }
    t
}

fn reasons(failures: &[RuleError]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in failures {
        *m.entry(e.reason()).or_insert(0) += 1;
    }
    m
}

fn class_name(c: KeywordClass) -> &'static str {
    match c {
        KeywordClass::Issue4 => "Issue4",
        KeywordClass::AppLayer => "AppLayer",
        KeywordClass::Other => "Other",
    }
}

/// Prints, per class, the keywords found and how many rules use at least
/// one of them; returns the rules whose keywords are all Issue4.
fn keyword_report(rules: &[Rule]) -> usize {
    let mut by_class: BTreeMap<KeywordClass, BTreeMap<&'static str, usize>> = BTreeMap::new();
    let mut rules_per_class: BTreeMap<KeywordClass, usize> = BTreeMap::new();
    let mut issue4_only = 0;
    for r in rules {
        let mut seen: BTreeSet<&'static str> = BTreeSet::new();
        let mut classes = BTreeSet::new();
        for o in &r.options {
            let kw = o.keyword().expect("parsed rules only hold known keywords");
            if seen.insert(kw.name) {
                *by_class
                    .entry(kw.class)
                    .or_default()
                    .entry(kw.name)
                    .or_insert(0) += 1;
            }
            classes.insert(kw.class);
        }
        for c in &classes {
            *rules_per_class.entry(*c).or_insert(0) += 1;
        }
        if classes.iter().all(|c| *c == KeywordClass::Issue4) {
            issue4_only += 1;
        }
    }
    for (class, kws) in &by_class {
        println!(
            "  {}: {} keywords, used by {} rules",
            class_name(*class),
            kws.len(),
            rules_per_class.get(class).copied().unwrap_or(0)
        );
        let mut list: Vec<_> = kws.iter().collect();
        list.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = list.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("    {}", shown.join(", "));
    }
    println!("  rules using only Issue4 keywords: {issue4_only}");
    issue4_only
}

#[test]
fn et_open_parses() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("et-open/rules");
    let files = files_with_ext(&dir, "rules");
    assert!(
        files.len() > 40,
        "ET Open rule files missing under {}",
        dir.display()
    );
    let t = tally(&files, &dir);

    println!(
        "ET Open: {} files, {} rules, {} parsed, {} failed, {} disabled (# alert), {} ignored (indented)",
        files.len(),
        t.rules,
        t.parsed.len(),
        t.failures.len(),
        t.disabled,
        t.ignored
    );
    for (reason, n) in reasons(&t.failures) {
        println!("  failure reason: {reason}: {n}");
    }
    for e in &t.failures {
        println!("  {e}");
    }
    let share = t.parsed.len() as f64 / t.rules as f64;
    assert!(
        share >= 0.999,
        "only {:.4}% of ET Open rules parse",
        share * 100.0
    );

    // Every keyword is in the catalogue: unknown ones fail their rule.
    let unknown: BTreeSet<_> = t
        .failures
        .iter()
        .filter(|e| e.kind == ErrorKind::UnknownKeyword)
        .filter_map(|e| e.field.clone())
        .collect();
    println!("  unknown keywords: {unknown:?}");
    assert!(
        unknown.is_empty(),
        "keywords missing from the catalogue: {unknown:?}"
    );

    // Every header resolves against Suricata's default variables.
    let vars = Vars::suricata_defaults();
    let unresolved: Vec<String> = t
        .parsed
        .iter()
        .filter_map(|r| r.resolve(&vars).err())
        .map(|e| e.to_string())
        .collect();
    for e in unresolved.iter().take(20) {
        println!("  unresolved: {e}");
    }
    assert!(
        unresolved.is_empty(),
        "{} ET Open rules do not resolve",
        unresolved.len()
    );

    // Every classtype is in Suricata's default table and ET's own.
    let (et_classes, errors) = Classifications::from_config(
        "classification.config",
        &read(&dir.join("classification.config")),
    );
    assert!(errors.is_empty(), "{errors:?}");
    let default = Classifications::suricata_default();
    let missing: BTreeSet<_> = t
        .parsed
        .iter()
        .filter_map(|r| r.classtype.as_deref())
        .filter(|c| default.get(c).is_none() || et_classes.get(c).is_none())
        .collect();
    assert!(missing.is_empty(), "classtypes missing: {missing:?}");

    // sids are unique per gid, as Suricata requires.
    let mut sids = BTreeSet::new();
    let dups: Vec<u32> = t
        .parsed
        .iter()
        .filter(|r| !sids.insert((r.gid, r.sid)))
        .map(|r| r.sid)
        .collect();
    println!("  duplicate (gid, sid): {}", dups.len());

    println!("ET Open keyword classes:");
    keyword_report(&t.parsed);

    // Disabled rules use the same keywords.
    let mut disabled_unknown = BTreeSet::new();
    for f in &files {
        for line in read(f).lines() {
            let body = line.trim_start_matches('#').trim_start();
            if !line.starts_with('#') || !body.starts_with("alert ") {
                continue;
            }
            if let Err(e) = Rule::parse(body)
                && e.kind == ErrorKind::UnknownKeyword
            {
                disabled_unknown.extend(e.field);
            }
        }
    }
    println!("  unknown keywords in disabled rules: {disabled_unknown:?}");
}

#[test]
fn suricata_verify_rules_parse() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("suricata-verify");
    let files = files_with_ext(&dir, "rules");
    assert!(
        !files.is_empty(),
        "no suricata-verify rule files under {}",
        dir.display()
    );
    let t = tally(&files, &dir);
    println!(
        "suricata-verify: {} files, {} rules, {} parsed, {} failed, {} disabled, {} ignored",
        files.len(),
        t.rules,
        t.parsed.len(),
        t.failures.len(),
        t.disabled,
        t.ignored
    );
    for e in &t.failures {
        println!("  {e}");
    }
    let unknown: BTreeSet<_> = t
        .failures
        .iter()
        .filter(|e| e.kind == ErrorKind::UnknownKeyword)
        .filter_map(|e| e.field.clone())
        .collect();
    assert!(
        unknown.is_empty(),
        "keywords missing from the catalogue: {unknown:?}"
    );
    let share = t.parsed.len() as f64 / t.rules as f64;
    assert!(
        share >= 0.99,
        "only {:.2}% of suricata-verify rules parse",
        share * 100.0
    );
    println!("suricata-verify keyword classes:");
    keyword_report(&t.parsed);
    assert!(keywords::lookup("stream-event").is_some());
}
