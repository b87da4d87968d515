//! Payload inspection against Suricata's own vectors: the
//! `DetectEngineContentInspectionTest*` cases of
//! `src/tests/detect-engine-content-inspection.c` (match result and the
//! exact recursion count), plus the `byte_jump` packet tests of
//! `detect-bytejump.c` and the `distance`/`within` packet tests.
//! `pcre` steps use a tiny literal regex with `^`/`$` anchors standing in
//! for the PCRE module.

use std::sync::Arc;

use mirador_detect::payload::{
    BufferKind, Escapes, Program, ProgramBuilder, RegexStep, RuleScope, Vars, split_options,
};

/// `/[^]literal[$]/[R]`, optionally `!`-negated: enough regex for the
/// Suricata vectors.
struct FakeRe {
    lit: Vec<u8>,
    start_anchor: bool,
    end_anchor: bool,
    relative: bool,
    negated: bool,
}

impl RegexStep for FakeRe {
    fn find_at(&self, hay: &[u8], start: usize) -> Option<(usize, usize)> {
        let n = self.lit.len();
        let last = hay.len().checked_sub(n)?;
        let positions = if self.start_anchor {
            0..=0
        } else {
            start..=last
        };
        for p in positions {
            if p < start || p > last {
                continue;
            }
            if &hay[p..p + n] == self.lit.as_slice() && (!self.end_anchor || p + n == hay.len()) {
                return Some((p, p + n));
            }
        }
        None
    }
    fn relative(&self) -> bool {
        self.relative
    }
    fn negated(&self) -> bool {
        self.negated
    }
}

fn fake_pcre(value: &str) -> FakeRe {
    let v = value.trim();
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let v = v.trim_matches('"');
    let v = v.strip_prefix('/').expect("pcre starts with /");
    let (body, flags) = v.rsplit_once('/').expect("pcre has a closing /");
    let (start_anchor, body) = match body.strip_prefix('^') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let (end_anchor, body) = match body.strip_suffix('$') {
        Some(b) => (true, b),
        None => (false, body),
    };
    FakeRe {
        lit: body.as_bytes().to_vec(),
        start_anchor,
        end_anchor,
        relative: flags.contains('R'),
        negated,
    }
}

fn compile(sig: &str) -> Program {
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    b.escapes(Escapes::Raw);
    for (name, value) in split_options(sig) {
        if name == "pcre" {
            b.regex(Arc::new(fake_pcre(value.expect("pcre value"))))
                .unwrap_or_else(|e| panic!("{sig}: {e}"));
            continue;
        }
        let handled = b
            .apply(name, value)
            .unwrap_or_else(|e| panic!("{sig}: {e}"));
        assert!(handled, "{sig}: {name} is not a payload keyword");
    }
    b.build().unwrap_or_else(|e| panic!("{sig}: {e}"))
}

/// (buffer, rule options, match, recursion count).
type Vector = (&'static str, &'static str, bool, u32);

fn run_vectors(name: &str, vectors: &[Vector]) {
    for (i, &(buf, sig, want, steps)) in vectors.iter().enumerate() {
        let prog = compile(sig);
        let got = prog.inspect_with(buf.as_bytes(), &mut Vars::new(), None);
        assert_eq!(
            (got.matched, got.steps),
            (want, steps),
            "{name}[{i}]: {sig:?} on {buf:?}"
        );
        assert_eq!(prog.inspect(buf.as_bytes(), &mut Vars::new()), want);
    }
}

#[test]
fn test01_simple_match_with_distance() {
    run_vectors(
        "Test01",
        &[
            ("ab", r#"content:"a"; content:"b";"#, true, 2),
            ("ab", r#"content:"a"; content:"b"; distance:0; "#, true, 2),
            ("ba", r#"content:"a"; content:"b"; distance:0; "#, false, 2),
        ],
    );
}

#[test]
fn test02_simple_match_with_pcre_relative() {
    run_vectors(
        "Test02",
        &[
            ("ab", r#"content:"a"; pcre:"/b/";"#, true, 2),
            ("ab", r#"content:"a"; pcre:"/b/R";"#, true, 2),
            ("ba", r#"content:"a"; pcre:"/b/R";"#, false, 2),
        ],
    );
}

#[test]
fn test03_simple_recursion() {
    run_vectors(
        "Test03",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"c";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"d";"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0;"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; content:"d"; distance:0;"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"d"; distance:0; within:1;"#,
                false,
                5,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1;"#,
                true,
                5,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; content:"bab";"#,
                true,
                6,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; content:"no";"#,
                false,
                6,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; pcre:"/^c$/R";"#,
                true,
                5,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; pcre:"/^c$/R"; content:"bab";"#,
                true,
                6,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; pcre:"/^c$/R"; content:"no";"#,
                false,
                6,
            ),
        ],
    );
}

#[test]
fn test04_pcre_recursion() {
    run_vectors(
        "Test04",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"c";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"d";"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"pcre:"/^a/"; pcre:"/^b/R"; pcre:"/c/R"; "#,
                true,
                3,
            ),
            (
                "ababc",
                r#"pcre:"/a/"; pcre:"/^b/R"; pcre:"/^c/R"; "#,
                true,
                5,
            ),
            (
                "ababc",
                r#"pcre:"/^a/"; pcre:"/^b/R"; pcre:"/d/R"; "#,
                false,
                3,
            ),
            (
                "ababc",
                r#"pcre:"/^a/"; pcre:"/^b/R"; pcre:"/c/R"; pcre:"/d/"; "#,
                false,
                4,
            ),
        ],
    );
}

#[test]
fn test05_independent_blocks() {
    run_vectors(
        "Test05",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"c";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"d";"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"b"; content:"c"; distance:0; within:1;"#,
                true,
                5,
            ),
        ],
    );
}

#[test]
fn test06_isdataat_recursion() {
    run_vectors(
        "Test06",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"c";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:"d";"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; isdataat:!1,relative;"#,
                true,
                5,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; isdataat:1,relative;"#,
                false,
                6,
            ),
            (
                "abcabc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; isdataat:10,relative;"#,
                false,
                4,
            ),
            (
                "ababcabc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; isdataat:!1,relative;"#,
                true,
                7,
            ),
            (
                "ababcabc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; isdataat:1,relative;"#,
                true,
                6,
            ),
            (
                "abcXYZ",
                r#"content:"abc"; content:"XYZ"; distance:0; within:3; isdataat:!1,relative;"#,
                true,
                2,
            ),
            (
                "abcXYZ",
                r#"content:"XYZ"; distance:3; within:3; isdataat:!1,relative;"#,
                true,
                1,
            ),
            (
                "abcXYZ",
                r#"content:"cXY"; distance:2; within:3; isdataat:!1,relative;"#,
                false,
                1,
            ),
            (
                "xxxxxxxxxxxxxxxxxyYYYYYYYYYYYYYYYY",
                r#"content:"yYYYYYYYYYYYYYYYY"; distance:9; within:29; isdataat:!1,relative;"#,
                true,
                1,
            ),
        ],
    );
}

#[test]
fn test07_extreme_recursion() {
    const ABC: &str = "abcabcabcabcabcabcabcabcabcabcd";
    const ABX: &str = "abcabcabcabcabcabcabcabcabcabcx";
    const ABCD: &str = "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdx";
    run_vectors(
        "Test07",
        &[
            (
                ABC,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; content:"d";"#,
                true,
                4,
            ),
            (
                ABC,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; content:"d"; within:1; distance:0; "#,
                true,
                31,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; content:"d"; within:1; distance:0; "#,
                false,
                31,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; content:"d"; distance:0; "#,
                false,
                4,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; pcre:"/^d/R"; "#,
                false,
                13,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; isdataat:!1,relative; "#,
                false,
                3,
            ),
            (
                ABCD,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; content:"d"; distance:0; content:"e"; distance:0; "#,
                false,
                5,
            ),
            (
                ABCD,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; content:"d"; distance:0; pcre:"/^e/R"; "#,
                false,
                14,
            ),
            (
                ABCD,
                r#"content:"a"; content:"b"; distance:0; content:"c"; distance:0; content:"d"; distance:0; isdataat:!1,relative; "#,
                false,
                4,
            ),
            (
                ABC,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/d/";"#,
                true,
                4,
            ),
            (
                ABC,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/d/R";"#,
                true,
                4,
            ),
            (
                ABC,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/^d/R";"#,
                true,
                31,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/d/";"#,
                false,
                4,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/d/R";"#,
                false,
                31,
            ),
            (
                ABX,
                r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; pcre:"/^d/R";"#,
                false,
                31,
            ),
        ],
    );
}

#[test]
fn test08_negation() {
    run_vectors(
        "Test08",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:!"d";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:!"c";"#,
                false,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:!"a"; distance:0; within:1;"#,
                true,
                5,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:!"a"; distance:0; "#,
                true,
                5,
            ),
            (
                "abcdefghy",
                r#"content:"a"; content:!"x"; content:"c"; distance:0; within:2; "#,
                true,
                3,
            ),
            (
                "abcdefghx",
                r#"content:"a"; content:!"x"; content:"c"; distance:0; within:2; "#,
                false,
                2,
            ),
            (
                "abcdefghy",
                r#"content:"a"; content:!"x"; content:!"c"; distance:2; within:1; "#,
                true,
                3,
            ),
            (
                "aaabbbccc",
                r#"content:"ccc"; endswith; content:!"bccc"; endswith; "#,
                false,
                2,
            ),
            (
                "aaabbbccc",
                r#"content:"ccc"; endswith; content:!"accc"; endswith; "#,
                true,
                2,
            ),
            (
                "aaabbbccc",
                r#"content:"ccc"; endswith; content:!"bccc"; endswith; depth:4; "#,
                true,
                2,
            ),
            (
                "aaabbbccc",
                r#"content:"ccc"; endswith; content:!"bccc"; endswith; depth:9; "#,
                false,
                2,
            ),
        ],
    );
}

#[test]
fn test09_byte_jump() {
    run_vectors(
        "Test09",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; content:!"d";"#,
                true,
                3,
            ),
            (
                "ababc",
                r#"content:"a"; content:"b"; content:!"c";"#,
                false,
                3,
            ),
            (
                "abc03abcxyz",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3;"#,
                true,
                3,
            ),
            (
                "abc03abc03abcxyz",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3;"#,
                true,
                5,
            ),
            (
                "abc03abc03abcxyz",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3; isdataat:!1,relative;"#,
                true,
                5,
            ),
            (
                "abc03abc03abcxyz",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3; pcre:"/klm$/R";"#,
                false,
                7,
            ),
            (
                "abc03abc03abcxyzklm",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3; pcre:"/klm$/R";"#,
                true,
                6,
            ),
            (
                "abc03abc03abcxyzklx",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3; pcre:"/^klm$/R";"#,
                false,
                7,
            ),
            (
                "abc03abc03abc03abcxyzklm",
                r#"content:"abc"; byte_jump:2,0,relative,string,dec; content:"xyz"; within:3; pcre:"/^klm$/R";"#,
                true,
                8,
            ),
        ],
    );
}

#[test]
fn test10_byte_extract() {
    run_vectors(
        "Test10",
        &[
            (
                "9abcdefghi",
                r#"byte_extract:1,0,data_size,string; isdataat:data_size;"#,
                true,
                2,
            ),
            (
                "9abcdefgh",
                r#"byte_extract:1,0,data_size,string; isdataat:!data_size;"#,
                true,
                2,
            ),
            (
                "x9x9abcdefghi",
                r#"content:"x"; byte_extract:1,0,data_size,string,relative; isdataat:data_size,relative;"#,
                true,
                3,
            ),
            (
                "x9x9abcdefgh",
                r#"content:"x"; byte_extract:1,0,data_size,string,relative; isdataat:!data_size,relative;"#,
                true,
                5,
            ),
            (
                "x9x9abcdefgh",
                r#"content:"x"; depth:1; byte_extract:1,0,data_size,string,relative; isdataat:!data_size,relative;"#,
                false,
                3,
            ),
            (
                "x9x5abcdef",
                r#"content:"x"; byte_extract:1,0,data_size,string,relative; isdataat:data_size,relative;"#,
                true,
                5,
            ),
            (
                "100000000abcdefghi",
                r#"byte_extract:0,0,data_size,string; isdataat:data_size;"#,
                false,
                2,
            ),
            (
                "100000000abcdefghi",
                r#"byte_extract:0,0,data_size,string; isdataat:!data_size;"#,
                true,
                2,
            ),
        ],
    );
}

#[test]
fn test11_to_13_startswith_endswith() {
    run_vectors(
        "Test11",
        &[
            ("ab", r#"content:"a"; startswith; content:"b";"#, true, 2),
            (
                "ab",
                r#"content:"a"; startswith; content:"b"; within:1; distance:0;"#,
                true,
                2,
            ),
            ("ab", r#"content:"ab"; startswith;"#, true, 1),
            ("ab", r#"content:"a"; startswith;"#, true, 1),
            ("ab", r#"content:"b"; startswith;"#, false, 1),
        ],
    );
    run_vectors(
        "Test12",
        &[
            (
                "ababc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; endswith;"#,
                true,
                5,
            ),
            (
                "ababcabc",
                r#"content:"a"; content:"b"; distance:0; within:1; content:"c"; distance:0; within:1; endswith;"#,
                true,
                7,
            ),
            (
                "abcXYZ",
                r#"content:"abc"; content:"XYZ"; distance:0; within:3; endswith;"#,
                true,
                2,
            ),
            (
                "abcXYZ",
                r#"content:"XYZ"; distance:3; within:3; endswith;"#,
                true,
                1,
            ),
            (
                "abcXYZ",
                r#"content:"cXY"; distance:2; within:3; endswith;"#,
                false,
                1,
            ),
            ("abcXYZ", r#"content:!"cXY"; endswith;"#, true, 1),
            ("abcXYZ", r#"content:!"XYZ"; endswith;"#, false, 1),
            (
                "xxxxxxxxxxxxxxxxxyYYYYYYYYYYYYYYYY",
                r#"content:"yYYYYYYYYYYYYYYYY"; distance:9; within:29; endswith;"#,
                true,
                1,
            ),
        ],
    );
    run_vectors(
        "Test13",
        &[
            (
                "ab",
                r#"content:"a"; startswith; content:"b"; endswith;"#,
                true,
                2,
            ),
            (
                "ab",
                r#"content:"a"; startswith; content:"b"; within:1; distance:0; endswith;"#,
                true,
                2,
            ),
            ("ab", r#"content:"ab"; startswith; endswith;"#, true, 1),
            ("ab", r#"content:"a"; startswith; endswith;"#, false, 1),
            ("ab", r#"content:"b"; startswith;"#, false, 1),
            ("ab", r#"content:"b"; startswith; endswith;"#, false, 1),
        ],
    );
}

#[test]
fn test14_byte_test_negative_offset() {
    run_vectors(
        "Test14",
        &[
            (
                "XYZ_klm_1234abcd_XYZ_klm_5678abcd",
                r#"content:"XYZ"; content:"_klm_"; distance:0; content:"abcd"; distance:4; byte_test:4,=,1234,-8,relative,string;"#,
                true,
                4,
            ),
            (
                "XYZ_klm_1234abcd_XYZ_klm_5678abcd",
                r#"content:"XYZ"; content:"_klm_"; distance:0; content:"abcd"; distance:4; byte_test:4,=,5678,-8,relative,string;"#,
                true,
                5,
            ),
        ],
    );
}

#[test]
fn test17_negative_distance() {
    run_vectors(
        "Test17",
        &[(
            "aaabbbcccdddee",
            r#"content:"aaa"; content:"ee"; within:2; distance:9; content:"bbb"; within:3; distance:-11; content:"ccc"; within:3; distance:0;"#,
            true,
            4,
        )],
    );
}

/// `detect-bytejump.c`'s `DetectByteJumpTestPacket01`-`08`,
/// `detect-distance.c`'s `DetectDistanceTestPacket01` and
/// `detect-within.c`'s `DetectWithinTestPacket01`/`02`.
#[test]
fn keyword_packet_tests() {
    const HTTP: &str = "GET /AllWorkAndNoPlayMakesWillADullBoy HTTP/1.0User-Agent: Wget/1.11.4Accept: */*Host: www.google.comConnection: Keep-AliveDate: Mon, 04 Jan 2010 17:29:39 GMT";
    let cases: &[(&[u8], &str, bool)] = &[
        (
            HTTP.as_bytes(),
            r#"pcre:"/AllWorkAndNoPlayMakesWillADullBoy/"; byte_jump:1,6,relative,string,dec; content:"0";"#,
            true,
        ),
        (
            &[
                0x00, 0x00, 0x00, 0x77, 0xff, 0x53, 0x4d, 0x42, 0x2f, 0x00, 0x00, 0x00, 0x00, 0x18,
                0x01, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x08, 0x92, 0xa4, 0x01, 0x08, 0x17, 0x5c, 0x0e, 0xff, 0x00, 0x00, 0x00, 0x01,
                0x40, 0x48, 0x00, 0x00, 0x00, 0xff,
            ],
            r#"byte_jump:1,13; byte_jump:4,0,relative; content:"|48 00 00|"; within:3;"#,
            true,
        ),
        (
            b"XYZ04abcdABCD",
            r#"content:"XYZ"; byte_jump:2,0,relative,string,dec; content:"ABCD"; distance:0; within:4;"#,
            true,
        ),
        (
            b"XYZ04abcdABCD",
            r#"content:"XYZ"; byte_jump:2,0,relative,string,dec; content:"cdABCD"; within:6;"#,
            false,
        ),
        (
            b"XX04abcdABCD",
            r#"content:"XX"; byte_jump:2,0,relative,string,dec,from_beginning; content:"ABCD"; distance:4; within:4;"#,
            true,
        ),
        (
            b"XX04abcdABCD",
            r#"content:"XX"; byte_jump:2,0,relative,string,dec,from_beginning; content:"abcdABCD"; distance:0; within:8;"#,
            true,
        ),
        (
            b"XX04abcdABCD",
            r#"content:"XX"; byte_jump:2,0,relative,string,dec,from_end, post_offset -8; content:"ABCD";"#,
            true,
        ),
        (
            &[0x01, 0x00, 0x00, 0x00, 0x00, 0x00],
            r#"byte_jump:1,2; content:"|00|"; within:1; distance:2;"#,
            true,
        ),
        (
            HTTP.as_bytes(),
            r#"pcre:"/AllWorkAndNoPlayMakesWillADullBoy/"; content:"HTTP"; within:5;"#,
            true,
        ),
        (
            b"Zero Five Ten Fourteen",
            r#"content:"Five"; content:"Ten"; within:3; distance:1;"#,
            true,
        ),
    ];
    for (buf, sig, want) in cases {
        assert_eq!(compile(sig).inspect(buf, &mut Vars::new()), *want, "{sig}");
    }
}

#[test]
fn recursion_limit_stops_the_search() {
    // 10 (a, b, c) triples each cost 3 steps: a limit of 10 ends the
    // search before the match at the end, which a limit of 3000 finds.
    let sig = r#"content:"a"; content:"b"; within:1; distance:0; content:"c"; distance:0; within:1; content:"d"; within:1; distance:0;"#;
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    b.escapes(Escapes::Raw).recursion_limit(10);
    for (n, v) in split_options(sig) {
        b.apply(n, v).unwrap();
    }
    let limited = b.build().unwrap();
    let r = limited.inspect_with(b"abcabcabcabcabcabcabcabcabcabcd", &mut Vars::new(), None);
    assert!(!r.matched);
    assert!(r.limit_reached);
    assert_eq!(r.steps, 10);
    let r = compile(sig).inspect_with(b"abcabcabcabcabcabcabcabcabcabcd", &mut Vars::new(), None);
    assert!(r.matched && !r.limit_reached);
}

#[test]
fn negated_pcre_and_sticky_relative_pcre() {
    // A negated regex matches when the literal is absent and is never
    // retried.
    run_vectors(
        "negated pcre",
        &[
            ("abc", r#"content:"a"; pcre:!"/x/R";"#, true, 2),
            ("abx", r#"content:"a"; pcre:!"/x/R";"#, false, 2),
            (
                "abx",
                r#"content:"a"; pcre:!"/x/R"; content:"b"; distance:0;"#,
                false,
                2,
            ),
        ],
    );
    // On the payload, /R needs an earlier content or pcre; in a sticky
    // buffer it is relative to the buffer start.
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    let e = b.regex(Arc::new(fake_pcre("/a/R"))).unwrap_err();
    assert_eq!(e.keyword, "pcre");
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Sticky);
    b.regex(Arc::new(fake_pcre("/^a/R"))).unwrap();
    let p = b.build().unwrap();
    assert!(p.inspect(b"ab", &mut Vars::new()));
    assert!(!p.inspect(b"ba", &mut Vars::new()));
}
