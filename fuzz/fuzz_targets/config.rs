//! The config loader over arbitrary text, with and without a `--set`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Split off a trailing "\n--set KEY=VALUE" to exercise overrides too.
    let (yaml, set) = match text.rsplit_once("\n--set ") {
        Some((y, s)) => (y, mirador_config::parse_set(s).ok()),
        None => (text, None),
    };
    let overrides: Vec<(String, String)> = set.into_iter().collect();
    if let Ok(c) = Config::load("fuzz.yaml", yaml, &overrides) {
        let _ = c.describe();
    }
});
