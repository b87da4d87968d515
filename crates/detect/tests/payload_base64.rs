//! `base64_decode` / `base64_data`: Suricata's unit tests for the keywords
//! (`DetectBase64DecodeTest*`, `DetectBase64DataSetupTest*`) and tables of
//! (rule options, buffer, expected) in which every case would fail if the
//! keywords were ignored or the decoding were done another way.

use mirador_detect::payload::{
    BASE64_DECODE_MAX, Base64Decode, BufferKind, DecodeBuf, Escapes, KeywordError, Program,
    ProgramBuilder, RuleScope, Step, Vars, split_options,
};

fn compile_kind(sig: &str, kind: BufferKind) -> Result<Program, KeywordError> {
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, kind);
    b.escapes(Escapes::Raw);
    for (name, value) in split_options(sig) {
        assert!(b.apply(name, value)?, "{name} is not a payload keyword");
    }
    b.build()
}

fn compile(sig: &str) -> Result<Program, KeywordError> {
    compile_kind(sig, BufferKind::Payload)
}

fn matches(sig: &str, buf: &[u8]) -> bool {
    let p = compile(sig).unwrap_or_else(|e| panic!("{sig}: {e}"));
    let got = p.inspect(buf, &mut Vars::new());
    // The per-thread buffer, reused across calls, gives the same answer.
    let mut decode = DecodeBuf::new();
    for _ in 0..2 {
        let r = p.inspect_in(buf, &mut Vars::new(), None, &mut decode);
        assert_eq!(r.matched, got, "{sig}: inspect_in disagrees");
    }
    got
}

fn table(name: &str, cases: &[(&str, &[u8], bool)]) {
    for (i, (sig, buf, want)) in cases.iter().enumerate() {
        assert_eq!(
            matches(sig, buf),
            *want,
            "{name}[{i}]: {sig:?} on {:?}",
            buf.escape_ascii().to_string()
        );
    }
}

/// "Hello World" encoded, as in Suricata's tests.
const HELLO: &[u8] = b"SGVsbG8gV29ybGQ=";

/// `DetectBase64DecodeTestSetup`: `base64_decode` lands in the payload list.
#[test]
fn suricata_decode_setup() {
    let p = compile(r#"base64_decode; content:"content";"#).unwrap();
    assert!(matches!(p.steps()[0], Step::Base64Decode(_)));
    assert_eq!(p.steps().len(), 2);
    assert!(p.base64_data().is_none());
}

/// `DetectBase64DecodeTestDecode`, `...WithOffset`, `...LargeOffset`,
/// `...Relative`: Suricata checks the decoded buffer; here the
/// `base64_data` content that must (or must not) find "Hello World" in it.
#[test]
fn suricata_decode_match_tests() {
    table(
        "suricata",
        &[
            (
                r#"base64_decode; base64_data; content:"Hello World";"#,
                HELLO,
                true,
            ),
            (
                r#"base64_decode: offset 8; base64_data; content:"Hello World";"#,
                b"aaaaaaaaSGVsbG8gV29ybGQ=",
                true,
            ),
            // Offset out of range: nothing decoded.
            (
                r#"base64_decode: bytes 16, offset 32; base64_data; content:!"x";"#,
                HELLO,
                false,
            ),
            (
                r#"content:"aaaaaaaa"; base64_decode: relative; base64_data; content:"Hello World";"#,
                b"aaaaaaaaSGVsbG8gV29ybGQ=",
                true,
            ),
            // Without the offset / relative, decoding starts at "aaaa..."
            // (valid base64 too, so "Hello World" follows six other bytes).
            (
                r#"base64_decode; base64_data; content:"Hello World"; startswith;"#,
                b"aaaaaaaaSGVsbG8gV29ybGQ=",
                false,
            ),
            (
                r#"base64_decode; base64_data; content:"Hello World"; offset:6; depth:11;"#,
                b"aaaaaaaaSGVsbG8gV29ybGQ=",
                true,
            ),
        ],
    );
}

/// `DetectBase64DataSetupTest01`: `base64_decode` in the payload list, the
/// content after `base64_data` in the base64 list.
#[test]
fn suricata_data_setup() {
    let p = compile(r#"base64_decode; base64_data; content:"content";"#).unwrap();
    assert_eq!(p.steps().len(), 1);
    assert!(matches!(
        p.steps()[0],
        Step::Base64Decode(Base64Decode {
            bytes: BASE64_DECODE_MAX,
            offset: 0,
            relative: false
        })
    ));
    let data = p.base64_data().unwrap();
    assert!(matches!(&data[0], Step::Content(c) if c.pattern == b"content"));
}

/// `DetectBase64DataSetupTest04`: on a sticky buffer, with `fast_pattern`
/// before `base64_decode` and modifiers after `base64_data`.
#[test]
fn suricata_data_setup_sticky() {
    let p = compile_kind(
        r#"content:"sometext"; fast_pattern; base64_decode:relative; base64_data; content:"foobar"; nocase;"#,
        BufferKind::Sticky,
    )
    .unwrap();
    assert!(matches!(&p.base64_data().unwrap()[0], Step::Content(c) if c.nocase));
}

#[test]
fn setup_errors() {
    for (sig, kw) in [
        (r#"base64_data; content:"a";"#, "base64_data"),
        (r#"content:"a"; base64_data;"#, "base64_data"),
        (
            r#"base64_decode:bytes 70000; base64_data; content:"a";"#,
            "base64_decode",
        ),
        (
            r#"base64_decode:offset -1; base64_data; content:"a";"#,
            "base64_decode",
        ),
        (
            r#"base64_decode:relatve; base64_data; content:"a";"#,
            "base64_decode",
        ),
        (
            r#"base64_decode; base64_data; content:"a"; fast_pattern;"#,
            "fast_pattern",
        ),
        (
            r#"base64_decode; base64_data; base64_decode;"#,
            "base64_decode",
        ),
        (
            r#"base64_decode; base64_data:x; content:"a";"#,
            "base64_data",
        ),
    ] {
        let e = compile(sig).expect_err(sig);
        assert_eq!(e.keyword, kw, "{sig}: {e}");
    }
    // A second base64_data changes nothing.
    assert!(compile(r#"base64_decode; base64_data; content:"a"; base64_data;"#).is_ok());
}

/// "admin" = YWRtaW4=, "admin:pass" = YWRtaW46cGFzcw==.
#[test]
fn decoded_content() {
    let r = r#"base64_decode; base64_data; content:"admin";"#;
    table(
        "decoded",
        &[
            // Only present decoded.
            (r, b"YWRtaW4=", true),
            (r, b"YWRtaW46cGFzcw==", true),
            // Present raw, not decoded.
            (r, b"admin", false),
            // Without base64_data the keyword can never match.
            (r#"base64_decode;"#, b"YWRtaW4=", false),
            (r#"content:"YWRt"; base64_decode;"#, b"YWRtaW4=", false),
            // Nothing decoded: even a negated content fails.
            (
                r#"base64_decode; base64_data; content:!"root";"#,
                b"!!!!",
                false,
            ),
            (
                r#"base64_decode; base64_data; content:!"root";"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:!"root";"#,
                b"cm9vdA==",
                false,
            ),
            // Empty buffer.
            (r, b"", false),
        ],
    );
}

/// Suricata's RFC 4648 mode: stop at whitespace and invalid characters.
#[test]
fn invalid_input() {
    let r = r#"base64_decode; base64_data; content:"admin";"#;
    table(
        "invalid",
        &[
            // A space ends the decoding (RFC 2045 mode would skip it).
            (r, b"YWRt aW4=", false),
            (r, b"YWRt\r\naW4=", false),
            (r, b"YWRtaW4= and more", true),
            // A stray character too.
            (r, b"YWRt.aW4=", false),
            (r, b"YWRtaW4.", true),
            // Missing padding is fine.
            (r, b"YWRtaW4", true),
            // Misplaced padding discards everything decoded.
            (r, b"YWRtaW4=Y===", false),
            (r, b"=YWRtaW4=", false),
            // Padding ends a group; the next group still decodes.
            (
                r#"base64_decode; base64_data; content:"aadmin";"#,
                b"YQ==YWRtaW4=",
                true,
            ),
            // URL-safe alphabet is not base64 here.
            (
                r#"base64_decode; base64_data; content:"|fb ff|";"#,
                b"-_-_",
                false,
            ),
            (
                r#"base64_decode; base64_data; content:"|fb ff|";"#,
                b"+/+/",
                true,
            ),
        ],
    );
}

#[test]
fn relative_and_offset() {
    let rel = r#"content:"Basic "; base64_decode:relative; base64_data; content:"admin";"#;
    table(
        "relative",
        &[
            (rel, b"Authorization: Basic YWRtaW46cGFzcw==", true),
            // Decoding starts after "Basic ", not at the buffer start.
            (rel, b"YWRtaW4= Basic !!!!", false),
            (
                r#"content:"Basic "; base64_decode; base64_data; content:"admin";"#,
                b"YWRtaW4= Basic !!!!",
                true,
            ),
            // offset skips from the cursor.
            (
                r#"content:"Basic "; base64_decode:offset 2,relative; base64_data; content:"admin";"#,
                b"Basic xxYWRtaW4=",
                true,
            ),
            (
                r#"content:"Basic "; base64_decode:offset 2,relative; base64_data; content:"admin";"#,
                b"Basic YWRtaW4=",
                false,
            ),
            // The cursor at the end: nothing to decode.
            (
                r#"content:"Basic "; base64_decode:relative; base64_data; content:!"x";"#,
                b"Basic ",
                false,
            ),
            // offset at or past the end.
            (
                r#"base64_decode:offset 8; base64_data; content:!"x";"#,
                b"YWRtaW4=",
                false,
            ),
            (
                r#"base64_decode:offset 7; base64_data; content:!"x";"#,
                b"YWRtaW4=",
                false,
            ),
            (
                r#"base64_decode:offset 4; base64_data; content:"in";"#,
                b"YWRtaW4=",
                true,
            ),
            // "4=" pads to "4===": misplaced padding, nothing decoded.
            (
                r#"base64_decode:offset 6; base64_data; content:!"x";"#,
                b"YWRtaW4=",
                false,
            ),
            // Only the first "Basic " is tried: base64_decode does not make
            // the content retry (Suricata's "must be the first match").
            (rel, b"Basic !!!! Basic YWRtaW4=", false),
            // ...unless something else does (a later within in the payload
            // list marks it, as in Suricata).
            (
                r#"content:"Basic "; base64_decode:relative; content:"z"; within:1; base64_data; content:"admin";"#,
                b"Basic !!!! Basic YWRtaW4=",
                true,
            ),
        ],
    );
}

#[test]
fn bytes_limit() {
    let b = |n: u32| format!(r#"base64_decode:bytes {n}; base64_data; content:"admin";"#);
    let cases: Vec<(String, &[u8], bool)> = vec![
        (b(8), b"YWRtaW4=", true),
        // 7 characters: the last group is padded.
        (b(7), b"YWRtaW4=", true),
        (b(6), b"YWRtaW4=", false),
        (b(4), b"YWRtaW4=", false),
        // bytes 0 is the maximum.
        (b(0), b"YWRtaW4=", true),
    ];
    for (sig, buf, want) in &cases {
        assert_eq!(matches(sig, buf), *want, "{sig}");
    }
    // The maximum, 65535 encoded bytes, applies without `bytes`.
    let r = r#"base64_decode; base64_data; content:"admin";"#;
    let at = |pad: usize| {
        let mut v = b"AAAA".repeat(pad / 4);
        v.extend_from_slice(b"YWRtaW4=");
        v
    };
    assert!(matches(r, &at(65524)));
    assert!(matches(r, &at(65528)));
    assert!(!matches(r, &at(65532)));
    assert!(!matches(r, &at(100_000)));
}

#[test]
fn keywords_on_decoded_bytes() {
    table(
        "decoded-buffer",
        &[
            // Absolute modifiers count from the decoded start.
            (
                r#"base64_decode; base64_data; content:"min"; offset:2; depth:3;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:"adm"; offset:1;"#,
                b"YWRtaW4=",
                false,
            ),
            (
                r#"base64_decode; base64_data; content:"adm"; startswith;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:"min"; endswith;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:"adm"; endswith;"#,
                b"YWRtaW4=",
                false,
            ),
            // The cursor starts at the decoded start, not at the payload's.
            (
                r#"content:"Basic "; base64_decode:relative; base64_data; content:"admin"; distance:0; within:5;"#,
                b"Basic YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:"ad"; content:"in"; distance:1; within:3;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; content:"ad"; content:"in"; distance:2;"#,
                b"YWRtaW4=",
                false,
            ),
            // Byte keywords and isdataat read the decoded bytes.
            (
                r#"base64_decode; base64_data; byte_test:1,=,0x61,0;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; byte_test:1,=,0x59,0;"#,
                b"YWRtaW4=",
                false,
            ),
            (
                r#"base64_decode; base64_data; isdataat:4; isdataat:!5;"#,
                b"YWRtaW4=",
                true,
            ),
            (
                r#"base64_decode; base64_data; isdataat:5;"#,
                b"YWRtaW4=",
                false,
            ),
            // Variables carry from the payload into the decoded buffer.
            (
                r#"byte_extract:1,0,n,string,dec; base64_decode:offset 1; base64_data; content:"admin"; depth:n;"#,
                b"5YWRtaW4=",
                true,
            ),
            (
                r#"byte_extract:1,0,n,string,dec; base64_decode:offset 1; base64_data; content:"admin"; depth:n;"#,
                b"4YWRtaW4=",
                false,
            ),
            // base64_decode is terminal: payload keywords after it (before
            // base64_data) are never evaluated, as in Suricata.
            (
                r#"base64_decode; content:"zzz"; base64_data; content:"admin";"#,
                b"YWRtaW4=",
                true,
            ),
        ],
    );
}

/// The decoded-buffer inspection shares the recursion count and limit.
#[test]
fn recursion_limit_is_shared() {
    let sig =
        r#"content:"a"; base64_decode:relative; content:"z"; within:1; base64_data; content:"q";"#;
    let p = compile(sig).unwrap();
    let buf = b"aYWJj".repeat(2000);
    let r = p.inspect_with(&buf, &mut Vars::new(), None);
    assert!(!r.matched);
    assert!(r.limit_reached);
    assert_eq!(r.steps, 3000);
}
