//! Differential tests: the `pcre` translation against libpcre2 itself.
//!
//! * `curated_expressions_agree_with_pcre2` (always): about 200 short `pcre`
//!   values chosen from ET Open to cover every construct class, each run on
//!   50 generated haystacks at two offsets.
//! * `et_open_corpus_agrees_with_pcre2` (with `MIRADOR_PCRE_FULL=1`): every
//!   `pcre` value in the ET Open rules under `shared/corpus` (or
//!   `MIRADOR_PCRE_CORPUS`), with a report of the figures:
//!
//! ```text
//! MIRADOR_PCRE_FULL=1 cargo test -p mirador-detect --test pcre_differential \
//!     -- --nocapture et_open
//! ```

mod pcre_support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use mirador_detect::pcre::{Backend, Pcre, PcreError, PcreSpec};
use pcre_support::{Oracle, compare, extract_pcre_values, fnv, pcre2_version, show};

/// What happened to one expression.
enum Verdict {
    Regex,
    Fancy(&'static str),
    /// Refused by us, with the group it is counted under.
    Rejected(String),
}

#[derive(Default)]
struct Report {
    total: usize,
    regex: usize,
    fancy: BTreeMap<&'static str, usize>,
    rejected: BTreeMap<String, usize>,
    /// We accept, libpcre2 refuses.
    accepted_pcre_rejects: Vec<String>,
    /// We call invalid what libpcre2 compiles.
    invalid_pcre_accepts: Vec<String>,
    disagreeing: Vec<String>,
    disagreements: usize,
    searches: usize,
    matched: usize,
    our_limit: usize,
    pcre_error: usize,
    examples: Vec<String>,
}

fn group(e: &PcreError) -> String {
    match e {
        PcreError::Option(m) => format!("option: {m}"),
        PcreError::Invalid { message, .. } => format!("invalid: {message}"),
        PcreError::Unsupported { construct, .. } => format!("unsupported: {construct}"),
        PcreError::TooLarge(_) => "too large".into(),
        PcreError::Backend(m) => format!("backend: {m}"),
    }
}

fn check(value: &str, haystacks: usize, report: &mut Report) -> Option<Verdict> {
    report.total += 1;
    let spec = match PcreSpec::parse(value) {
        Ok(s) => s,
        Err(e) => {
            let g = group(&e);
            *report.rejected.entry(g.clone()).or_default() += 1;
            return Some(Verdict::Rejected(g));
        }
    };
    let oracle = Oracle::suricata(&spec);
    let ours = Pcre::compile(spec, &Default::default());
    let re = match (ours, &oracle) {
        (Ok(re), Ok(_)) => re,
        (Ok(_), Err(e)) => {
            report
                .accepted_pcre_rejects
                .push(format!("{value}  (pcre2: {})", e.message()));
            return None;
        }
        (Err(e), pcre) => {
            if matches!(e, PcreError::Invalid { .. }) && pcre.is_ok() {
                report.invalid_pcre_accepts.push(format!("{value}  ({e})"));
            }
            let g = match (&e, pcre) {
                (PcreError::Invalid { .. }, Err(pe)) => {
                    format!("invalid (pcre2 agrees): {}", pe.message())
                }
                _ => group(&e),
            };
            *report.rejected.entry(g.clone()).or_default() += 1;
            return Some(Verdict::Rejected(g));
        }
    };
    let Ok(oracle) = oracle else { return None };
    let verdict = match re.backend() {
        Backend::Regex => {
            report.regex += 1;
            Verdict::Regex
        }
        Backend::Fancy => {
            let why = re.fancy_reason().unwrap_or("?");
            *report.fancy.entry(why).or_default() += 1;
            Verdict::Fancy(why)
        }
    };
    let c = compare(&re, &oracle, fnv(value.as_bytes()), haystacks);
    report.searches += c.searches;
    report.matched += c.matched;
    report.our_limit += c.our_limit;
    report.pcre_error += c.pcre_error;
    if !c.disagreements.is_empty() {
        report.disagreements += c.disagreements.len();
        report.disagreeing.push(value.to_owned());
        for (h, start, got, want) in c.disagreements.iter().take(2) {
            report.examples.push(format!(
                "{value}\n    as {}\n    on \"{}\" from {start}: ours {got:?}, pcre2 {want:?}",
                re.translated(),
                show(h)
            ));
        }
    }
    Some(verdict)
}

fn print(report: &Report, title: &str) {
    println!("== {title} (libpcre2 {})", pcre2_version());
    println!("expressions: {}", report.total);
    println!("  regex crate:  {}", report.regex);
    println!("  fancy-regex:  {}", report.fancy.values().sum::<usize>());
    for (why, n) in &report.fancy {
        println!("      {n:5}  needs {why}");
    }
    println!(
        "  rejected:     {}",
        report.rejected.values().sum::<usize>()
    );
    for (why, n) in &report.rejected {
        println!("      {n:5}  {why}");
    }
    println!(
        "searches: {} ({} matched per pcre2), backtrack limit reached: {}, pcre2 errors: {}",
        report.searches, report.matched, report.our_limit, report.pcre_error
    );
    println!(
        "disagreements: {} searches in {} expressions",
        report.disagreements,
        report.disagreeing.len()
    );
    for e in report.examples.iter().take(40) {
        println!("  {e}");
    }
    println!(
        "accepted but refused by pcre2: {}",
        report.accepted_pcre_rejects.len()
    );
    for e in report.accepted_pcre_rejects.iter().take(20) {
        println!("  {e}");
    }
    println!(
        "called invalid but compiled by pcre2: {}",
        report.invalid_pcre_accepts.len()
    );
    for e in report.invalid_pcre_accepts.iter().take(20) {
        println!("  {e}");
    }
}

fn assert_clean(report: &Report) {
    assert!(
        report.disagreeing.is_empty(),
        "{} expressions disagree with pcre2: {:#?}",
        report.disagreeing.len(),
        report.examples
    );
    assert!(
        report.accepted_pcre_rejects.is_empty(),
        "accepted what pcre2 refuses: {:#?}",
        report.accepted_pcre_rejects
    );
    assert!(
        report.invalid_pcre_accepts.is_empty(),
        "called invalid what pcre2 compiles: {:#?}",
        report.invalid_pcre_accepts
    );
}

#[test]
fn curated_expressions_agree_with_pcre2() {
    let mut report = Report::default();
    let mut regex = 0;
    let mut fancy = 0;
    let mut rejected = 0;
    for value in CURATED {
        let t = std::time::Instant::now();
        let verdict = check(value, 50, &mut report);
        if t.elapsed() > std::time::Duration::from_secs(1) {
            println!("slow ({:?}): {value}", t.elapsed());
        }
        match verdict {
            Some(Verdict::Regex) => regex += 1,
            Some(Verdict::Fancy(_)) => fancy += 1,
            Some(Verdict::Rejected(_)) => rejected += 1,
            None => {}
        }
    }
    print(&report, "curated ET Open subset");
    assert_clean(&report);
    assert!(CURATED.len() >= 150, "the curated list shrank");
    assert!(
        regex > 100 && fancy > 50 && rejected >= 2,
        "coverage: {regex} {fancy} {rejected}"
    );
    assert!(
        report.matched > 1000,
        "too few matching searches: {}",
        report.matched
    );
}

fn corpus_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MIRADOR_PCRE_CORPUS") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/et-open/rules")
}

#[test]
fn et_open_corpus_agrees_with_pcre2() {
    if std::env::var("MIRADOR_PCRE_FULL").as_deref() != Ok("1") {
        eprintln!("skipped: set MIRADOR_PCRE_FULL=1 to run the ET Open differential");
        return;
    }
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        all.extend(extract_pcre_values(&String::from_utf8_lossy(&bytes)));
    }
    let occurrences = all.len();
    all.sort();
    all.dedup();
    println!(
        "{} rule files, {occurrences} pcre options, {} distinct values",
        files.len(),
        all.len()
    );
    if let Ok(f) = std::env::var("MIRADOR_PCRE_FILTER") {
        all.retain(|v| v.contains(&f));
    }
    let mut report = Report::default();
    let mut by_verdict: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut slowest: Vec<(std::time::Duration, &str)> = Vec::new();
    for value in &all {
        let t = std::time::Instant::now();
        let v = check(value, 50, &mut report);
        slowest.push((t.elapsed(), value));
        let key = match v {
            Some(Verdict::Regex) => "regex".to_owned(),
            Some(Verdict::Fancy(w)) => format!("fancy: {w}"),
            Some(Verdict::Rejected(g)) => format!("rejected: {g}"),
            None => "mismatch".to_owned(),
        };
        by_verdict.entry(key).or_default().push(value);
    }
    print(&report, "ET Open");
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("slowest:");
    for (t, v) in slowest.iter().take(8) {
        println!("  {t:?}  {v}");
    }
    if let Some(path) = std::env::var_os("MIRADOR_PCRE_DUMP") {
        // Every value with its verdict, to refresh the curated list.
        let mut out = String::new();
        for (k, v) in &by_verdict {
            for s in v {
                out.push_str(&format!("{k}\t{s}\n"));
            }
        }
        std::fs::write(path, out).unwrap();
    }
    assert_clean(&report);
}

/// `pcre` values from ET Open (short ones), one or more per construct
/// class: plain, anchors and `$`/`m`/`E`, classes, escapes, flags,
/// lookaround, back references, atomic/possessive, buffers, negation,
/// and the refused ones. Refresh with `MIRADOR_PCRE_DUMP=file` on a full
/// run.
const CURATED: &[&str] = &[
    r##""/^[^\r]*?name=[\x22\x27]image_file"\x3b[^(?>\r\n|\n|\r)]*?(?>\r\n|\n|\r)(?>\r\n|\n|\r)?Content-Type: application\/x-httpd-php/Rsi""##,
    r##""/\x22\x3A(\w)\x3D\x22execute\s+\x22{5}\x3A.*\x3Aexecute\s*\x28\s*\1\s*\x29\x3Aend\s+function\x3A/s""##,
    r##""/^(?P<q>[\x22\x27])\+(?P=q)\?(?P=q)\+(?P=q)/R""##,
    r##""/^\/[a-z0-9_-]+\/[A-Za-z0-9_-]{36}(?P<sep>[\x2c\x3b])1(?:(?P=sep)|\d)*?$/U""##,
    r##""/^(?P<sep>.{1,50})u(?P=sep)n(?P=sep)c(?P=sep)t(?P=sep)i(?P=sep)o(?P=sep)n(?P=sep)\s/R""##,
    r##""/^[\r\n\s]*?=[\r\n\s]*?(?P<q>[\x22\x27])[a-f0-9]{9,16}\.(jar|zip)(?P=q)/R""##,
    r##""/^\/[a-z0-9_-]+\/[A-Za-z0-9_-]{36}(?P<sep>[\x2c\x3b])8(?:(?P=sep)|\d)*?$/U""##,
    r##""/^\s*?\)\s*?\{\s*(?P<var>[^\s]+)\s*=[^\x5b]+?\x5b\s*(?P=var)\s*?\|\s*?0\s*?\]\s*?\x3b\s*?/Rsi""##,
    r##""/^[a-f0-9]{6}\x22>\r\n(?:<(?P<tag>[^>]{1,10})>[A-Za-z0-9]+?<\/(?P=tag)>\r\n){0,10}<script>var/R""##,
    r##""/^GET \/(?P<name>a[a-z]{9,})\/.+?\r\nHost\x3a\x20(?P=name)\./sm""##,
    r##""/^(?P<sep>[^\x22\x27]{0,10})75(?P=sep)6e(?P=sep)63(?P=sep)74(?P=sep)69(?P=sep)6f(?P=sep)6e(?P=sep)20/Rsi""##,
    r##""/^\/\d{1,2}(?P<l>[A-Z])\d{1,2}(?P=l)\d{1,2}(?P=l)\d{1,2}\.pdf$/U""##,
    r##""/^[\r\n\s]*?(?P<q>[\x22\x27])Java(?P=q)/Ri""##,
    r##""/^[a-zA-Z0-9]{2}[%a-zA-Z0-9]{9}(?P<addr>(?:[%a-zA-Z0-9]{3}){4})(?P=addr)/R""##,
    r##""/^(?P<num_value>\d+)\x7d,\x22id\x22\x3a(?P=num_value)/R""##,
    r##""/^\/[a-z0-9_-]+\/[A-Za-z0-9_-]{36}(?P<sep>[\x2c\x3b])7(?:(?P=sep)|\d)*?$/U""##,
    r##""/^(?P<arrayName>[a-z]{1,50})\x20\x3d\x20new\x20Array\x3b\x0a((?P=arrayName)\x5b){1,50}/R""##,
    r##""/\x2F(?!Pages)(P|#40)(a|#61)(g|#67)(e|#65)(s|#73)/""##,
    r##""/^[\r\n\s]+(\d{4}|(?!(\d{1,2}[\r\n\s]|1[0-2][0-8][\r\n\s])))((?!>>).)+\/R\s+3[\r\n\s>]/Rs""##,
    r##""/CN=(?:[^\r\n]+?\.)?doh\x2e\w{2}\x2eahadns\.net(?!\.)/""##,
    r##""/\/banner.php\?sid=(?=[0-9]*?[A-F])[A-F0-9]{10,}$/U""##,
    r##""/Host\x3a\x20(?P<refhost>[^\x3a\r\n]+).*?\r\nReferer\x3a\x20https?\x3a\x2f\x2f(?!(?P=refhost))/Hsi""##,
    r##""/^(?=(?:\/[a-z]+?)*?\/\d+\/)(?=(?:\/\d+?)*?\/[a-z]+?\/)(?:\/(?:[a-z]+|\d+)){4,}\/[a-z]+\.pack\.gz$/U""##,
    r##""/CN=(?:[^\r\n]+?\.)?hizliresim\.com(?!\.)/""##,
    r##""/(TOP\sSECRET|TS)//[\s\w,/-]*(CRITICAL\sNUCLEAR\sWEAPON\sDESIGN\sINFORMATION|CNWDI)[\s\w,/-]*(?=//MR)/ism""##,
    r##""/\?(?=[a-z\d\x3d&\x2e]*?[A-Z])(?=[A-Z\d=&\x2e]*?[a-z])(?=[A-Za-z=&\x2e]*?\d)[A-Za-z\d=&\x2e]{50,}$/""##,
    r##""/(CONFIDENTIAL|C)//[\s\w,/-]*COMSEC[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/CN=(?:[^\r\n]+?\.)?sharepointle\.com(?!\.)/""##,
    r##""/(TOP\sSECRET|TS)//[\s\w,/-]*PROPIN[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/^\/(?=[a-z\d]+[+-][a-z\d]+[+-][a-z\d]+[+-])[a-z\d+-]*\/$/""##,
    r##""/\/(?=[a-z]*?[A-Z])(?=[A-Z]*?[a-z])[A-Z-a-z]{18}\.jnlp$/U""##,
    r##""/^(?=(?:(?!<\/>).)+?FlashVars)(?:(?!<\/>).)+?value\s*?=\s*?[\x22\x27][^=]*\s*=EB02EB05E8F9FFFFFF/Rsi""##,
    r##""/\x2F(?!Subtype)(S|#53)(u|#75)(b|#62)(t|#74)(y|#79)(p|#70)(e|#65)/""##,
    r##""/(?<!TOP|//)\Wsecret[^\w/a]/ism""##,
    r##""/(?<=(\?|&))pwd=(?!&)/iU""##,
    r##""/https\x3a.+(?<!\x5c)(:[\x22\x27]|\\x2[27])\s*?[\x3b&\x7c><].*?(:[\x22\x27]|\\x2[27])/si""##,
    r##""/(?<=(\?|&))passwd=(?!&)/Ui""##,
    r##""/(?<!law\senforcement)\Wsensitive\W(?!/(25)?X[1-9])/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*COMSEC[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/(?<=(\?|&))passphrase=(?!&)/Ui""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*(RESTRICTED\sDATA|RD)[\s\w,/-]*(?=//MR)/ism""##,
    r##""/(?<=(\?|&))password=(?!&)/Ui""##,
    r##""/(?<=(\?|&))pass=(?!&)/Ui""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*REL\sTO\sUSA[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*(IMCON|IMC)[\s\w,/-]*(?=//(X1|MR))/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*(TALENT\sKEYHOLE|TK)[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*(COMINT|SI)[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*(ORIGINATOR\sCONTROLLED|ORCON)[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/(?<!TOP\s|T)(SECRET|S)//[\s\w,/-]*SPECAT[\s\w,/-]*(?=//(25)?X[1-9])/ism""##,
    r##""/^\d{2,5}+(?!\&|\d)/R""##,
    r##""/^\s*?Preserve\s*?(?P<var1>[a-z]\w{0,254}+)\s*?\x28\s*?[^\x29]+?\x29.*?redim\s*?Preserve\s*?(?P=var1)/Rsi""##,
    r##""/^\/blog\/\?[a-z]{3,20}+\&utm_source=\d+\x3a\d+\x3a\d+$/""##,
    r##""/^\/closest\/(([a-z]{1,16}[-_]){1,4}[a-z]{1,16}|[a-z0-9]{20,}+)\.php/U""##,
    r##""/AUTH\s+\S+\s+(?:[a-zA-Z0-9\+\/=]{4})*+[a-zA-Z0-9\+\/=]{3}\s/""##,
    r##""/^\d{4,}[^A-Za-z\.]/""##,
    r##""/^LIST\s+\x22-W\s+\d/smi""##,
    r##""/_compile_file\s*=\s*(https?|ftps?|php)\:\//i""##,
    r##""/vwar_root=\s*(ftps?|https?|php)\:\//Ui""##,
    r##""/(modname=meta_certificate|modname=certificate|modname=link).+DELETE.+FROM/i""##,
    r##""/<OBJECT\s+[^>]*classid\s*=\s*[\x22\x27]?\s*clsid\s*\x3a\s*\x7B?\s*01002B17-5D93-4551-81E4-831FEF780A53/si""##,
    r##""/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\x22\x7d$/R""##,
    r##""/archive=[^\x3e]+?\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/""##,
    r##""/^(?:nc)?\s*(?:[A-Z0-9+\/]{4})*(?:[A-Z0-9+\/]{2}==|[A-Z0-9+\/]{3}=)/Ri""##,
    r##""/ (30[0-5]\d|36\d{2}|38\d{2}) \d{4} \d{4} \d{2} /""##,
    r##""/\/FlashPlayer\.cpl$/U""##,
    r##""/^OSIRIS(?:(?:\/|\s)[0-9]\.0)?$/i""##,
    r##""/^\/[A-Za-z0-9]+[A-Z]+[A-Za-z0-9]*\/index\.html?$/U""##,
    r##""/\x26Phone(Number\x3D|\x5FNumber\x3D|\x2DNumber\x3D)/i""##,
    r##""/\/xml\/p\.php\?id=\d{2,}/Ui""##,
    r##""/\.jsp\/[^\x2f]*$/i""##,
    r##""/(POST |POST (http|https)\:\/\/[-0-9a-z.]*)\/.*perl\/fr\.pl/i""##,
    r##""/=\s*\x25\s*\{\s*.+?\bProcessBuilder\b/i""##,
    r##""/\/\d+\.pkg$/Ui""##,
    r##""/attachment\x3b[^\r\n]*?calc\.(dll|exe)[\x22\x27]?\r?$/Hmi""##,
    r##""/\/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\.aso$/U""##,
    r##""/\Wappraisal(s)?\W/ism""##,
    r##""/^[\x20-\x7e\r\n]{0,20}[^\x20-\x7e\r\n]/P""##,
    r##""/cs_base_path=\s*(ftps?|https?|php)\:\//Ui""##,
    r##""/mosConfig_absolute_path=\s*(?:ftps?|https?|php)\x3a\//i""##,
    r##""/<OBJECT\s+[^>]*classid\s*=\s*[\x22\x27]?\s*clsid\s*\x3a\s*\x7B?\s*E5D2CE27-5FA0-11D2-A666-204C4F4F5020/si""##,
    r##""/config\[library_path\]=\s*(ftps?|https?|php)\:\//i""##,
    r##""/MyValue=[a-f0-9]{32}/Ui""##,
    r##""/migrate\s*=\s*\|/Ui""##,
    r##""/^\/assets\/js\/jquery-[0-9]\.[0-9]\.[0-9]\.min\.js\?ver=[0-9]+\.[0-9]+\.[0-9]+$/U""##,
    r##""/<?(java|vb)?script>?.*<.+\/script>?/Ui""##,
    r##""/^Content-Disposition\x3a[^\r\n]*\{[\da-fA-F]{8}(-[\da-fA-F]{4}){3}-[\da-fA-F]{12}\}/smi""##,
    r##""/RunAV_\d{3,4}\.exe/Ui""##,
    r##""/^[A-Za-z0-9]{17}$/R""##,
    r##""/(?:^|[\n\&])ACT=(?:%\d{2}|[^%&]){21}/i""##,
    r##""/\/pony\.(exe|pack)$/i""##,
    r##""/\/[^\x2f]+\.[^\x2f]+\.wsf$/i""##,
    r##""/(\?|&)id=/Ui""##,
    r##""/^(?:[A-Z0-9+/]{4})*(?:[A-Z0-9+/]{2}==|[A-Z0-9+/]{3}=|[A-Z0-9+/]{4})/Ri""##,
    r##""/^.{0,5}(?:\x3b|\x0a|\x26|\x60|\x7C|\x24)/R""##,
    r##""/^[^\x00]+\x00\x00\x01/R""##,
    r##""/(?:^|&)c99shcook\[/i""##,
    r##""/flash-[A-Z0-9]+-plugin\.[A-Z0-9]+\.exe/Ui""##,
    r##""/<OBJECT\s+[^>]*classid\s*=\s*[\x22\x27]?\s*clsid\s*\x3a\s*\x7B?\s*333C7BC4-460F-11D0-BC04-0080C7055A83/si""##,
    r##""/^CEL\s[^\n]{100}/smi""##,
    r##""/^[\r\n\s]*[\d\x5b]/R""##,
    r##""/^CWD\s+~root/smi""##,
    r##""/^\/index\.php\?[a-z]{8,80}=(?:\d{10,13}|\d{15,20})$/U""##,
    r##""/\.php\?[a-z]_info=[a-z0-9]{1,4}_\d+?$/Ui""##,
    r##""/^page=\.\..+/RUi""##,
    r##""/^[\r\n\s]*?\\?\(.+?\\?\)\.keep\.previous[\r\n\s]*?=[\r\n\s]*?[\x22\x27]contentArea/Rsi""##,
    r##""/Template=.*\.\./UGi""##,
    r##""/include_directory=\s*(https?|ftps?|php)\:\//i""##,
    r##""/^AUTHINFO\s+USER\s[^\n]{200}/smi""##,
    r##""/^\d+[^\r\n\s]+/R""##,
    r##""/^GET\s*?\/stat\/load(?=(?-i)[a-z0-9]*?[A-Z])(?=(?-i)[A-Z0-9]*?[a-z])(?P<hname>[a-z0-9]+)\.php\s.+?Host\x3a\x20(?P=hname)\./smi""##,
    r##""/^[^\x3c]{,100}\x27/Ri""##,
    r##""/User-Agent\:[^\n]+zb-hb-/Hi""##,
    r##""/Range\x3a\s?bytes=[-0-9,\x20]{100}/iH""##,
    r##""/User-Agent\x3a \d{6}\x0d\x0a/H""##,
    r##""/User-Agent\x3A[^\n]+TheWorld/H""##,
    r##""/=%25[0-9A-F]{2}%25[0-9A-F]{2}/P""##,
    r##""/[^=]+?=(?:(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d)+?2e)+(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d)+\s*?/P""##,
    r##""/filename=\x22\d+?\x22/P""##,
    r##""/^\x22[^\x22]*\x3b[^\x22]*\x22/PR""##,
    r##""/^(?:Begin|End)\=/PR""##,
    r##""/^p[a-z0-9]{0,20}\x3d[a-z0-9]{1,20}&i[a-z0-9]{0,20}\x3d%[0-9A-F]{2}/P""##,
    r##""/^\s?\+x=[0-9]*\;\ +y=[0-9]/C""##,
    r##""/nb[\d+]=Yes/C""##,
    r##""/^[a-z]{5}\d=\x5f\d\x5f/C""##,
    r##""/^[a-zA-Z]{5}=[a-z0-9]{8}\-[a-f0-9]{4}\-[a-f0-9]{4}\-[a-f0-9]{4}\-[a-f0-9]{12}$/C""##,
    r##""/c99shcook/Ci""##,
    r##""/^[a-z]{15}\.(?:com|ru|cn|su)$/W""##,
    r##""/^[^\r\n]*showip\.[a-z]+(?:\x3a\d{1,5})?\r?$/Wm""##,
    r##""/(localhost|127\.0\.0\.1)/W""##,
    r##""/^\d{5,20}\x22/QR""##,
    r##""/function(\s_0x[0-9a-f]{4})?\(_0x[0-9a-f]{6},_0x[0-9a-f]{6}\){var _0x[0-9a-f]{6}=/Qi""##,
    r##""/(\r\nContent-Disposition\x3a\s+form-data\x3b[^\r\n]+\r\n\r\n.+?){250}/Osmi""##,
    r##""/([^=]+=[^&]*&){500}/O""##,
    r##""/T.*?T.*?Y.*?P.*?R.*?O.*?M.*?P.*?T/RBi""##,
    r##""/^\d{4}\r$/RDm""##,
    r##""/^dBrowser\x20\d\x20CallGetResponse\x3a\d$/V""##,
    r##""/a=\%[0-9a-fA-F]{2}\&b/Ii""##,
    r##""/\/\?[a-z0-9]{5,}=[a-zA-Z0-9\x25]{40,}\x253D$/I""##,
    r##""/\.php\?a=[^&]+&f=[a-f0-9]{32}&u=[^&]+$/I""##,
    r##""/@\x00i\x00m\x00p\x00o\x00r\x00t\x00\x20.{4,20}[^\x00\w\s.]/sG""##,
    r##""/module=[^\;]*\;.*\"/UGi""##,
    r##""/(ActiveXObject|CreateObject)\s*\(\s*(\x22|\x27)PLAYERPT\.PlayerPTCtrl\.1/iG""##,
    r##"!"/#http:\/\/cert.*coinhive/i""##,
    r##"!"/^(?:[^\r\n]+\.)?(?:ya(?:ndex|hoo)|google|bing)\.(?:com?)?(?:\.[a-z]{2})?$/i""##,
    r##"!"/^USER\s+(anonymous|ftp)/smi""##,
    r##"!"/^.{8}(\x05\x37(\x1E[\x90-\xFF]|[\x1F-\x2F].|\x30[\x00-\x70])|\x00\x00\x00[\x00-\x65]|\x02\x68\x05\xC0)/s""##,
    r##"!"/\x00$/""##,
    r##"!"/^Y$/R""##,
    r##"!"/^takethis.*?Path\x3a.*?[\r]{0,1}?\n[\r]{0,1}\n/si""##,
    r##""/^Cache-Control\x3a\x20(?:max-age=0|no-cache)\r?$/m""##,
    r##""/=[.\"]\w{8}\.jar$/mi""##,
    r##""/(\x5c[^\x5c]{16,}|\x2f[^\x2f]{16,})\.cda$/smi""##,
    r##""/^Referer\x3a\x20http\x3a\/\/[^\r\n\/]+\/(?:\x3a\d{1,5})?\r$/m""##,
    r##""/^Host\x3a\x20[^\r\n]+\.pw\r?$/Hmi""##,
    r##""/^[^\r\n]+?\.html?\r?$/Rmi""##,
    r##""/^file\x3a\x2f\x2f[^\n]{400}/smi""##,
    r##""/\bdig\.dll\b/""##,
    r##""/^PHPSESSID\x3d[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}$/""##,
    r##""/\bsafe_mode\s*?=/""##,
    r##""/\bredirect\x3a/""##,
    r##""/^[\s\x22\x27]*uploadedfile\b/Ri""##,
    r##""/\bopen_basedir\s*?=/""##,
    r##""/\(\s*(\x27[^\x27]{1024,}|\x22[^\x22]{1024,})/si""##,
    r##""/^a=[a-zA-Z0-9_-]+&c=[a-zA-Z0-9_-]+&h=[a-zA-Z0-9_-]+&r=[0-9]{15,}$/""##,
    r##""/\/[a-f0-9]{5,}\/(?:[a-z]{1,16}[-_]){1,4}[a-z]{1,16}\/(?:[a-z]{1,16}[-_]){1,4}[a-z]{1,16}\.php/U""##,
    r##""/^(?:\x8b|\xf2)/R""##,
    r##" "/\xeb.[\x58-\x5b]\x31[\xc0\xc9\xd2\xdb][\xb0-\xb3].\x8b.[\x05\x2d\x35\x81\xc1]/sm""##,
    r##""/\x26[\x00-\xff]\x09\x00/""##,
    r##""/^\s*\(\s*[\x22\x27][\x00-\x09\x80-\xff][\x22\x27]\s*\)\s*\x3b\s*[A-Za-z0-9]+\s*=\s*[\x22\x27]/Rsi""##,
    r##""/^(\x2d|\x2f|\x73|\xa2|\x2e|\x24|\x74)/sR""##,
    r##""/^[\x80-\xff]/R""##,
    r##""/^(\x75|\x2d|\x2f|\x73|\xa2|\x2e|\x24|\x74)/sR""##,
    r##""/^((?!(?i:<\/applet>)).)+?[\r\n\s]archive[\r\n\s]*?=[\r\n\s]*?[\x22\x27][^\x22\x27]+?\.zip[\x22\x27]/Rsi""##,
    r##""/^((?!(?i:<\/object>)).)+?data\s*?\=\s*?[\x22\x27][^\x22\x27]*[?&]callback=FWS[a-zA-Z0-9_\.\x0d\x0a]{50,}+[&\x22\x27]/Rsi""##,
    r##""/^((?!(?i:<\/object>)).)+?data\s*?\=\s*?[\x22\x27][^\x22\x27]*[?&]callback=ZWS[a-zA-Z0-9_\.\x0d\x0a]{50,}+[&\x22\x27]/Rsi""##,
    r##""/^((?!(?i:<\/object>)).)+?data\s*?\=\s*?[\x22\x27][^\x22\x27]*[?&]callback=CWS[a-zA-Z0-9_\.\x0d\x0a]{50,}+[&\x22\x27]/Rsi""##,
    r##""/^((?!<\/iframe>).)*?[\r\n\s]+name[\r\n\s]*=[\r\n\s]*(?P<q>[\x22\x27])?(Twitter|Google\+)(?P=q)?[\r\n\s]+/R""##,
    r##""/^(?:a(?:ttack|dEx[xp])|([a-z])\1)\.class/Ri""##,
    r##""/^(USE|PASS|SELECT|UPDATE|INSERT|ASCII|SHOW|CREATE|DESCRIBE|DROP|ALTER)\s+?(.{1})\2{300}/Ri""##,
    r##""/Host\x3a\x20(?!www\.)(?P<refhost>[^\x3a\r\n]+).*?\r\nReferer\x3a\x20https?\x3a\x2f\x2f(?!(?P=refhost))/Hsi""##,
    r##""/^((?!<\/applet>).)+[\r\n\s]value[\r\n\s]*=[\r\n\s]*(?P<q1>[\x22\x27])[a-f0-9]{32}(?P=q1)/Rsi""##,
    r##""/(?<=(\?|&))pword=(?!&)/Ui""##,
    r##""/(?<=(\?|&))pw=(?!&)/Ui""##,
    r##""/^.{6}[^\x00]+/Rs""##,
    r##""/(\0[a-z]{3}\.classPK.{43}){4}/""##,
    r##""/%INCLUDE\s*{.*rev=\"\d+\|.+\".*}\s*%/i""##,
    r##""/^["']\s*:\s*["']\s*[^0-9]+/Ri""##,
    r##""/\/cgi-mod\/index\.cgi\?.*backup_server=[^&\;]*[>\"]/i""##,
    r##""/\/servlet\/dea\/register\?fwReg=[>\"]/i""##,
    r##""/\/cgi-mod\/index\.cgi\?.*backup_password=[^&\;]*[>\"]/i""##,
    r##""/ftp\://[^\' \"]*%0a/i""##,
    r##""/date=\d{8}\)\;./Ui""##,
    r##""/[\?&]name=[^&\;\?]+\x27/i""##,
    r##""/[&?]cmd=[^\x26\x28]*(?:cd|\;|echo|cat|perl|curl|wget|id|uname|t?ftp)/i""##,
    r##""/(\&lt\;).+(\&gt\;)/Ui""##,
    r##""/fingerprint=\w*\;/i""##,
    r##""/>.*?\'\s*?\)\s*?\)*?\s*?\;/R""##,
    r##""/(?:file=\|.+\|)/""##,
    r##""/(file=\|.+\|)/""##,
    r##""/(?:art=\|.+\|)/i""##,
    r##""/(f=.+\|)/Ui""##,
    r##""/<object\s*[^>]*\s*classid\s*=\s*(.+<q1>\x22|\x27|)\s*clsid\s*\x3a\s*{?\s*7390f3d8-0439-4c05-91e3-cf5cb290c3d0\s*}?\s*(\?P=q1)(\s|>)/si""##,
    r##""/<object\s*[^>]*\s*classid\s*=\s*(\x22|\x27)\s*clsid\s*\x3a\s*{?\s*F21507A7-530F-4A89-8FE4-9D989670FD2C\s*}?\s*(.*)(\s|)/si""##,
];
