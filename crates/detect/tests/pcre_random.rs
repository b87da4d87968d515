//! Random patterns from a grammar of the constructs the translation
//! handles (and some it refuses), compared with libpcre2 on random
//! haystacks: whatever we accept must match exactly as PCRE2 does, and we
//! must accept nothing PCRE2 refuses. `MIRADOR_PCRE_RANDOM=N` runs N
//! patterns (default 3000); `MIRADOR_PCRE_SEED` changes the seed.

mod pcre_support;

use mirador_detect::pcre::{Pcre, PcreError, PcreSpec};
use pcre_support::{Oracle, Rng, show};

struct Gen {
    rng: Rng,
    groups: u32,
}

impl Gen {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.below(items.len())]
    }

    fn alt(&mut self, depth: u32) -> String {
        let n = 1 + self.rng.below(if depth > 2 { 1 } else { 3 });
        (0..n)
            .map(|_| self.seq(depth))
            .collect::<Vec<_>>()
            .join("|")
    }

    fn seq(&mut self, depth: u32) -> String {
        let n = self.rng.below(5);
        let mut s = String::new();
        for _ in 0..n {
            let (atom, quantifiable) = self.atom(depth);
            s.push_str(&atom);
            if quantifiable && self.rng.below(3) == 0 {
                s.push_str(self.pick(&["*", "+", "?", "{0,2}", "{2}", "{1,}", "{1,3}"]));
                s.push_str(self.pick(&["", "", "", "?", "+"]));
            }
        }
        s
    }

    fn lit(&mut self) -> String {
        self.pick(&[
            "a", "b", "A", "B", "-", " ", "\\n", "\\x0a", "\\xe9", "\\xC9", "\\.", "\\/", "é",
            "\\t", "\\x20", "_", "1", "\\0", "\\101",
        ])
        .to_owned()
    }

    fn class(&mut self) -> String {
        let mut s = String::from("[");
        if self.rng.below(3) == 0 {
            s.push('^');
        }
        if self.rng.below(8) == 0 {
            s.push(']');
        }
        for _ in 0..1 + self.rng.below(3) {
            s.push_str(self.pick(&[
                "a-c",
                "A-Z",
                "a",
                "B",
                "\\d",
                "\\s",
                "\\w",
                "\\W",
                "[:alpha:]",
                "[:^lower:]",
                "[:punct:]",
                "\\x0a",
                "\\xe0-\\xff",
                "-",
                "\\]",
                "\\n",
                "_",
                "\\h",
                "\\v",
                "é",
                "\\b",
                "[:upper:]",
            ]));
        }
        s.push(']');
        s
    }

    fn atom(&mut self, depth: u32) -> (String, bool) {
        let r = self.rng.below(if depth > 3 { 60 } else { 100 });
        match r {
            0..=24 => (self.lit(), true),
            25..=29 => (".".into(), true),
            30..=37 => (self.class(), true),
            38..=45 => (
                self.pick(&[
                    "\\d", "\\D", "\\s", "\\S", "\\w", "\\W", "\\h", "\\v", "\\N", "\\R", "\\C",
                ])
                .into(),
                true,
            ),
            46..=53 => (
                self.pick(&["^", "$", "\\A", "\\Z", "\\z", "\\b", "\\B", "\\G"])
                    .into(),
                false,
            ),
            54..=56 if self.groups > 0 => {
                let g = 1 + self.rng.below(self.groups as usize);
                (
                    match self.rng.below(3) {
                        0 => format!("\\{g}"),
                        1 => format!("\\g{{{g}}}"),
                        _ => "(?:\\g{-1})".to_string(),
                    },
                    true,
                )
            }
            57..=59 => (
                self.pick(&[
                    "(?i)", "(?-i)", "(?m)", "(?s)", "(?U)", "\\K", "(?#c)", "\\Q.\\E",
                ])
                .into(),
                false,
            ),
            _ => {
                let inner = self.alt(depth + 1);
                match self.rng.below(10) {
                    0..=2 => {
                        self.groups += 1;
                        (format!("({inner})"), true)
                    }
                    3 => {
                        self.groups += 1;
                        (format!("(?<n{}>{inner})", self.groups), true)
                    }
                    4 => (format!("(?:{inner})"), true),
                    5 => (format!("(?>{inner})"), true),
                    6 => (format!("(?{}{inner})", self.pick(&["=", "!"])), false),
                    7 => {
                        // Lookbehind: fixed-length branches.
                        let a = self.lit();
                        let b = format!("{}{}", self.lit(), self.lit());
                        let body = if self.rng.below(2) == 0 {
                            a
                        } else {
                            format!("{a}|{b}")
                        };
                        (format!("(?<{}{body})", self.pick(&["=", "!"])), false)
                    }
                    8 => (format!("(?i:{inner})"), true),
                    _ => (format!("(?s-i:{inner})"), true),
                }
            }
        }
    }
}

fn haystack(rng: &mut Rng, re: Option<&Pcre>) -> Vec<u8> {
    const ALPHA: &[u8] = b"aAbB\n -_1\t\xe9\xc9\xff\x00.";
    let mut h: Vec<u8> = match re {
        Some(re) if rng.below(2) == 0 => re.sample(rng.next()),
        _ => (0..rng.below(12))
            .map(|_| ALPHA[rng.below(ALPHA.len())])
            .collect(),
    };
    if rng.below(4) == 0 {
        h.push(b'\n');
    }
    if rng.below(4) == 0 && !h.is_empty() {
        let at = rng.below(h.len());
        h[at] = ALPHA[rng.below(ALPHA.len())];
    }
    h
}

#[test]
fn random_patterns_agree_with_pcre2() {
    let count: usize = std::env::var("MIRADOR_PCRE_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("MIRADOR_PCRE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_250_601);
    let mut g = Gen {
        rng: Rng::new(seed),
        groups: 0,
    };
    let mut failures = Vec::new();
    let mut reasons = std::collections::BTreeMap::new();
    let (mut accepted, mut refused, mut pcre_refused, mut searches) = (0, 0, 0, 0);
    for i in 0..count {
        // Each pattern from its own seed, so that a failure reproduces
        // alone (MIRADOR_PCRE_ONLY=i).
        if let Ok(only) = std::env::var("MIRADOR_PCRE_ONLY")
            && only.parse::<usize>().ok() != Some(i)
        {
            continue;
        }
        g.rng = Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        g.groups = 0;
        let body = g.alt(0);
        let flags: String = "ismxAEG".chars().filter(|_| g.rng.below(4) == 0).collect();
        let value = format!("\"/{body}/{flags}\"");
        if std::env::var_os("MIRADOR_PCRE_TRACE").is_some() {
            eprintln!("#{i} {value}");
        }
        let Ok(spec) = PcreSpec::parse(&value) else {
            continue;
        };
        let oracle = Oracle::suricata(&spec);
        let ours = Pcre::compile(spec, &Default::default());
        let (re, oracle) = match (ours, oracle) {
            (Ok(re), Ok(o)) => (re, o),
            (Ok(re), Err(e)) => {
                failures.push(format!(
                    "{value}: accepted (as {}) but pcre2 refuses: {}",
                    re.translated(),
                    e.message()
                ));
                continue;
            }
            (Err(e), o) => {
                if matches!(e, PcreError::Invalid { .. }) && o.is_ok() {
                    failures.push(format!(
                        "{value}: called invalid ({e}) but pcre2 compiles it"
                    ));
                }
                if o.is_err() {
                    pcre_refused += 1;
                } else {
                    refused += 1;
                    let key = match &e {
                        PcreError::Unsupported { construct, .. } => (*construct).to_owned(),
                        PcreError::Backend(m) => {
                            if std::env::var("MIRADOR_PCRE_SHOW_BACKEND").is_ok() {
                                println!("backend refused {value}: {m}");
                            }
                            format!("backend: {}", m.split(':').next_back().unwrap_or(m).trim())
                        }
                        other => other.to_string(),
                    };
                    *reasons.entry(key).or_insert(0usize) += 1;
                }
                continue;
            }
        };
        accepted += 1;
        for _ in 0..24 {
            let h = haystack(&mut g.rng, Some(&re));
            let start = g
                .rng
                .below(h.len() + 1)
                .min(if g.rng.below(2) == 0 { 0 } else { h.len() });
            let Ok(want) = oracle.find_at(&h, start) else {
                continue;
            };
            searches += 1;
            match re.try_find_at(&h, start) {
                Ok(got) if got == want => {}
                Ok(got) => {
                    failures.push(format!(
                        "#{i} {value} as {}\n    on \"{}\" from {start}: ours {got:?}, pcre2 {want:?}",
                        re.translated(),
                        show(&h)
                    ));
                    break;
                }
                Err(_) => {}
            }
        }
    }
    println!(
        "random patterns: {count}, accepted {accepted}, refused {refused} (pcre2 also refuses {pcre_refused}), {searches} searches, {} failures",
        failures.len()
    );
    for (why, n) in &reasons {
        println!("  refused {n:5}  {why}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(accepted > count / 3, "too few accepted: {accepted}");
}

/// Arbitrary option values (mostly pattern-like noise) must parse,
/// compile or fail cleanly, and a compiled one must search any haystack
/// without panicking, its matches inside the haystack. The fuzz target
/// `pcre` does the same without bounds.
#[test]
fn arbitrary_values_never_panic() {
    const PIECES: &[&str] = &[
        "(", ")", "(?", "(?<", "(?P<", "(?P=", "(?'", "[", "]", "[^", "[:", ":]", "\\", "\\x",
        "\\x{", "}", "{", ",", "}", "|", "*", "+", "?", ".", "^", "$", "-", "a", "Z", "0", "9",
        "\\Q", "\\E", "\\g", "\\k", "\\c", "\\o{", "#", " ", "\n", "\u{e9}", "\\1", "\\2", "(?#",
        "(?i", "(?-", ":", "=", "!", "<", ">", "'", "/", "\"", "\\p{", "(*", "\\N{", "{2,1}",
        "{65536}", "(?|", "(?(",
    ];
    let count: usize = std::env::var("MIRADOR_PCRE_ARBITRARY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng::new(99);
    let mut compiled = 0;
    for _ in 0..count {
        let n = rng.below(12);
        let body: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        let flags: String = "ismxAEGRUHO!"
            .chars()
            .filter(|_| rng.below(5) == 0)
            .collect();
        let value = match rng.below(4) {
            0 => body.clone(),
            _ => format!("\"/{body}/{flags}\""),
        };
        if let Ok(re) = Pcre::new(&value) {
            compiled += 1;
            for _ in 0..4 {
                let h: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                let start = rng.below(h.len() + 2);
                if let Ok(Some((s, e))) = re.try_find_at(&h, start) {
                    assert!(start <= s && s <= e && e <= h.len(), "{value}: {s} {e}");
                }
                let _ = re.inspect(&h, 0);
                let _ = re.is_match(&h);
            }
            let _ = re.sample(3);
        }
    }
    assert!(compiled > 1000, "{compiled}");
}
