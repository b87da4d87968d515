//! Property tests: `inspect` against naive reference implementations.
//! * one content with random `offset`/`depth`/`nocase`/negation;
//! * two contents, the second relative (`distance` and/or `within`), where
//!   Suricata's backtracking must equal "some occurrence of the first has
//!   the second in its window".

use mirador_detect::payload::{BufferKind, Program, Vars};
use proptest::prelude::*;

fn occurs(hay: &[u8], pat: &[u8], nocase: bool, from: usize, to: usize) -> Option<usize> {
    let to = to.min(hay.len());
    if from > to || to - from < pat.len() {
        return None;
    }
    (from..=to - pat.len()).find(|&i| {
        let w = &hay[i..i + pat.len()];
        if nocase {
            w.eq_ignore_ascii_case(pat)
        } else {
            w == pat
        }
    })
}

fn quoted(pat: &[u8]) -> String {
    let mut s = String::from("\"|");
    for b in pat {
        s.push_str(&format!("{b:02x} "));
    }
    s.push_str("|\"");
    s
}

fn hay() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"abAB".to_vec()), 0..40)
}

fn pat() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(b"abAB".to_vec()), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn single_content_matches_naive(
        hay in hay(),
        pat in pat(),
        offset in prop::option::of(0u16..20),
        depth_extra in prop::option::of(0u16..20),
        nocase in any::<bool>(),
        negated in any::<bool>(),
    ) {
        let content = format!("{}{}", if negated { "!" } else { "" }, quoted(&pat));
        let mut opts: Vec<(&str, Option<String>)> = vec![("content", Some(content))];
        if nocase {
            opts.push(("nocase", None));
        }
        if let Some(o) = offset {
            opts.push(("offset", Some(o.to_string())));
        }
        let depth = depth_extra.map(|d| d + pat.len() as u16);
        if let Some(d) = depth {
            opts.push(("depth", Some(d.to_string())));
        }
        let prog = Program::compile(BufferKind::Payload, opts.iter().map(|(n, v)| (*n, v.as_deref())))
            .expect("valid program");
        let from = usize::from(offset.unwrap_or(0));
        let to = match depth {
            Some(d) => from + usize::from(d),
            None => hay.len(),
        };
        let found = occurs(&hay, &pat, nocase, from, to).is_some();
        prop_assert_eq!(prog.inspect(&hay, &mut Vars::new()), found != negated);
    }

    #[test]
    fn relative_pair_matches_naive(
        hay in hay(),
        a in pat(),
        b in pat(),
        distance in prop::option::of(-6i32..8),
        within_extra in prop::option::of(0i32..8),
        nocase in any::<bool>(),
    ) {
        prop_assume!(distance.is_some() || within_extra.is_some());
        let within = within_extra.map(|w| w + b.len() as i32);
        let mut opts: Vec<(&str, Option<String>)> = vec![("content", Some(quoted(&a)))];
        if nocase {
            opts.push(("nocase", None));
        }
        opts.push(("content", Some(quoted(&b))));
        if nocase {
            opts.push(("nocase", None));
        }
        if let Some(d) = distance {
            opts.push(("distance", Some(d.to_string())));
        }
        if let Some(w) = within {
            opts.push(("within", Some(w.to_string())));
        }
        let prog = Program::compile(BufferKind::Payload, opts.iter().map(|(n, v)| (*n, v.as_deref())))
            .expect("valid program");
        // Some occurrence of `a` whose window holds `b`; the window as
        // Suricata computes it (a negative end means no end limit).
        let naive = (0..hay.len()).any(|i| {
            if occurs(&hay, &a, nocase, i, i + a.len()) != Some(i) {
                return false;
            }
            let cur = (i + a.len()) as i64;
            let d = i64::from(distance.unwrap_or(0));
            let from = if d < 0 && -d > cur { 0 } else { cur + d };
            let to = match within {
                Some(w) if cur + i64::from(w) + d >= 0 => cur + i64::from(w) + d,
                _ => hay.len() as i64,
            };
            from >= 0 && occurs(&hay, &b, nocase, from as usize, to.max(0) as usize).is_some()
        });
        let got = prog.inspect_with(&hay, &mut Vars::new(), None);
        prop_assert!(!got.limit_reached);
        prop_assert_eq!(got.matched, naive);
    }
}

/// Option values that are valid, borderline or garbage for each keyword.
fn option() -> impl Strategy<Value = String> {
    let num = prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        (0u32..70000).prop_map(|n| n.to_string()),
        Just("v".to_string()),
        Just("w".to_string())
    ];
    let small = (0u8..30).prop_map(|n| n.to_string());
    prop_oneof![
        pat().prop_map(|p| format!("content:{}", quoted(&p))),
        pat().prop_map(|p| format!("content:!{}", quoted(&p))),
        Just("nocase".to_string()),
        Just("startswith".to_string()),
        Just("endswith".to_string()),
        Just("rawbytes".to_string()),
        Just("fast_pattern".to_string()),
        Just("fast_pattern:only".to_string()),
        num.clone().prop_map(|n| format!("depth:{n}")),
        num.clone().prop_map(|n| format!("offset:{n}")),
        num.clone().prop_map(|n| format!("distance:{n}")),
        num.clone().prop_map(|n| format!("within:{n}")),
        (any::<bool>(), num.clone(), any::<bool>()).prop_map(|(neg, n, rel)| format!(
            "isdataat:{}{n}{}",
            if neg { "!" } else { "" },
            if rel { ",relative" } else { "" }
        )),
        (
            small.clone(),
            prop::sample::select(vec!["=", "!=", "<", ">", "&", "^", "<=", ">="]),
            num.clone(),
            num.clone(),
            prop::sample::select(vec![
                "",
                ",relative",
                ",little",
                ",string",
                ",string,hex",
                ",relative,string,oct",
                ",bitmask 0xf0",
                ",dce"
            ])
        )
            .prop_map(|(n, op, v, o, f)| format!("byte_test:{n},{op},{v},{o}{f}")),
        (
            small.clone(),
            num.clone(),
            prop::sample::select(vec![
                "",
                ",relative",
                ",little",
                ",string,dec",
                ",align",
                ",from_beginning",
                ",from_end,post_offset -3",
                ",multiplier 3,relative",
                ",bitmask 0x0f"
            ])
        )
            .prop_map(|(n, o, f)| format!("byte_jump:{n},{o}{f}")),
        (
            small.clone(),
            num.clone(),
            prop::sample::select(vec!["v", "w"]),
            prop::sample::select(vec![
                "",
                ",relative",
                ",little",
                ",string",
                ",string,hex",
                ",multiplier 2",
                ",align 4",
                ",dce"
            ])
        )
            .prop_map(|(n, o, name, f)| format!("byte_extract:{n},{o},{name}{f}")),
        (
            small,
            num.clone(),
            prop::sample::select(vec!["+", "-", "*", "/", "<<", ">>"]),
            num,
            prop::sample::select(vec!["v", "w"]),
            prop::sample::select(vec![
                "",
                ",relative",
                ",endian little",
                ",string dec",
                ",bitmask 0xff",
                ",dce"
            ])
        )
            .prop_map(|(n, o, op, r, res, f)| format!(
                "byte_math:bytes {n}, offset {o}, oper {op}, rvalue {r}, result {res}{f}"
            )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Random programs on random buffers: building either succeeds or
    /// names the keyword, and inspecting never panics and stays within the
    /// recursion limit.
    #[test]
    fn random_programs_never_panic(
        opts in prop::collection::vec(option(), 0..10),
        buf in prop::collection::vec(prop::sample::select(b"ab01\x00\x02\xff 9".to_vec()), 0..64),
        sticky in any::<bool>(),
    ) {
        use mirador_detect::payload::{DEFAULT_RECURSION_LIMIT, Escapes, ProgramBuilder, RuleScope, split_options};
        let text = opts.join("; ");
        let mut scope = RuleScope::new();
        let kind = if sticky { BufferKind::Sticky } else { BufferKind::Payload };
        let mut b = ProgramBuilder::new(&mut scope, kind);
        b.escapes(Escapes::Raw);
        let mut ok = true;
        for (name, value) in split_options(&text) {
            match b.apply(name, value) {
                Ok(handled) => prop_assert!(handled),
                Err(e) => {
                    prop_assert!(!e.keyword.is_empty() && !e.message.is_empty());
                    ok = false;
                    break;
                }
            }
        }
        if ok && let Ok(prog) = b.build() {
            let mut vars = Vars::new();
            for _ in 0..2 {
                let r = prog.inspect_with(&buf, &mut vars, None);
                prop_assert!(r.steps <= DEFAULT_RECURSION_LIMIT);
            }
        }
    }
}
