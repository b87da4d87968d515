//! The committed captures in `pcaps/` are exactly what the generator makes.

use std::path::Path;

use mirador_testkit::pcaps::{FILES, write_all};

const REGENERATE: &str = "cargo run -p mirador-testkit --bin gen-pcaps -- pcaps/";

#[test]
fn committed_pcaps_match_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pcaps");
    let fresh = tempfile::tempdir().expect("temp dir");
    write_all(fresh.path()).expect("generate");
    let names = FILES.iter().map(|f| f.name).chain(["README.md"]);
    for name in names {
        let want = std::fs::read(fresh.path().join(name)).expect("generated file");
        let have = std::fs::read(committed.join(name)).unwrap_or_default();
        assert!(
            have == want,
            "pcaps/{name} is missing or out of date ({} bytes committed, {} generated); \
             regenerate with `{REGENERATE}` from the repository root",
            have.len(),
            want.len()
        );
    }
}
