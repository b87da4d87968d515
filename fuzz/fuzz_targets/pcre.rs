//! The `pcre` keyword: arbitrary option values through parse, translation
//! and compilation (and a search of the compiled regex), and arbitrary
//! haystacks against a fixed set of regexes on both engines. Nothing may
//! panic, and every match must lie within the haystack, at or after the
//! search's start.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mirador_detect::pcre::{Pcre, PcreConfig};

fn config() -> PcreConfig {
    PcreConfig {
        backtrack_limit: 20_000,
        max_weight: 20_000,
        size_limit: 1 << 20,
        dfa_size_limit: 1 << 20,
        ..PcreConfig::default()
    }
}

fn fixed() -> &'static [Pcre] {
    static FIXED: OnceLock<Vec<Pcre>> = OnceLock::new();
    FIXED.get_or_init(|| {
        [
            r#""/^GET\s+\/[^\r\n]{0,64}\.php\?id=\d+/i""#,
            r#""/abc$/""#,
            r#""/^$/m""#,
            r#""/\bx[\x80-\xff]+\b/s""#,
            r#""/(?P<v>[a-z]{2,8})=\d+&(?P=v)=/i""#,
            r#""/(?<=\x00\x01)[^\x00]{4}(?!\x00)/""#,
            r#""/(?:a|ab)++c\Z/""#,
            r#""/^(a|aa)+(?=b)/""#,
            r#"!"/\x2f(?:x{2,}|y)\K\w/A""#,
            r#""/.\R\G\h\v\N/G""#,
        ]
        .iter()
        .map(|v| Pcre::with_config(v, &config()).expect(v))
        .collect()
    })
}

fn check(h: &[u8], start: usize, found: Option<(usize, usize)>) {
    if let Some((s, e)) = found {
        assert!(
            start <= s && s <= e && e <= h.len(),
            "{start} {s} {e} {}",
            h.len()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let Ok(value) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(re) = Pcre::with_config(value, &config()) {
            check(rest, 0, re.find_at(rest, 0));
            let h = re.sample(u64::from(mode));
            let start = usize::from(mode >> 1) % (h.len() + 1);
            check(&h, start, re.find_at(&h, start));
            let _ = re.inspect(&h, 0);
        }
    } else {
        let start = usize::from(mode >> 1) % (rest.len() + 2);
        for re in fixed() {
            check(rest, start, re.find_at(rest, start));
            let _ = re.is_match(rest);
        }
    }
});
