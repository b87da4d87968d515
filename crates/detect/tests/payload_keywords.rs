//! Payload keyword value parsing, build-time validation, and per-keyword
//! matching, table-driven; every table has a case that would fail if the
//! keyword (or modifier) were ignored. Parse vectors come from Suricata's
//! `DetectBytetestTestParse*`, `DetectBytejumpTestParse*`,
//! `DetectByteMathParseTest*`, `DetectIsdataatTestParse*`,
//! `DetectContentParseTest*` and the Rust `byte_extract` parser tests.

use mirador_detect::payload::{
    BufferKind, ByteExtract, ByteJump, ByteMath, ByteTest, ByteTestOp, ContentPattern, Dsize,
    Endian, Escapes, ExtractEndian, FastPattern, IsDataAt, JumpFrom, MathOp, NumOrVar, Program,
    ProgramBuilder, RuleScope, Step, Vars, split_options,
};

fn compile(sig: &str) -> Result<Program, mirador_detect::payload::KeywordError> {
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    b.escapes(Escapes::Raw);
    for (name, value) in split_options(sig) {
        assert!(b.apply(name, value)?, "{name} is not a payload keyword");
    }
    b.build()
}

fn matches(sig: &str, buf: &[u8]) -> bool {
    compile(sig)
        .unwrap_or_else(|e| panic!("{sig}: {e}"))
        .inspect(buf, &mut Vars::new())
}

/// (rule options, buffer, expected).
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

#[test]
fn content_values() {
    let ok: &[(&str, Escapes, &[u8], bool)] = &[
        (r#""abc""#, Escapes::Raw, b"abc", false),
        (r#"!"abc""#, Escapes::Raw, b"abc", true),
        (r#" ! "abc" "#, Escapes::Raw, b"abc", true),
        (r#""|41 42|c""#, Escapes::Raw, b"ABc", false),
        (r#""a|0d 0A|b|63|""#, Escapes::Raw, b"a\r\nbc", false),
        (r#""|61,62|""#, Escapes::Raw, b"ab", false),
        (r#""|4142|""#, Escapes::Raw, b"AB", false),
        // DetectContentParseTest01-03: escaped ':', ';' and '"'.
        (r#""abc\:def""#, Escapes::Raw, b"abc:def", false),
        (r#""abc\;def""#, Escapes::Raw, b"abc;def", false),
        (r#""abc\"def""#, Escapes::Raw, b"abc\"def", false),
        (r#""abc\\def""#, Escapes::Raw, b"abc\\def", false),
        // Escapes already removed by the rule parser.
        (r#""abc;def""#, Escapes::Removed, b"abc;def", false),
        (r#""abc"def""#, Escapes::Removed, b"abc\"def", false),
        (r#""a\b""#, Escapes::Removed, b"a\\b", false),
        (r#""a\:b""#, Escapes::Removed, b"a:b", false),
    ];
    for (v, esc, bytes, neg) in ok {
        let c =
            ContentPattern::parse_with("content", v, *esc).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!((c.bytes.as_slice(), c.negated), (*bytes, *neg), "{v}");
    }
    let bad: &[(&str, Escapes)] = &[
        ("abc", Escapes::Raw),
        (r#""abc"#, Escapes::Raw),
        (r#""""#, Escapes::Raw),
        (r#""||""#, Escapes::Raw),
        (r#""|41"#, Escapes::Raw),
        (r#""|41|a|""#, Escapes::Raw),
        (r#""|4|""#, Escapes::Raw),
        (r#""|4g|""#, Escapes::Raw),
        (r#""a\xb""#, Escapes::Raw),
        (r#""a"b""#, Escapes::Raw),
        ("", Escapes::Removed),
        ("!", Escapes::Removed),
    ];
    for (v, esc) in bad {
        let e = ContentPattern::parse_with("content", v, *esc).expect_err(v);
        assert_eq!(e.keyword, "content");
    }
}

#[test]
fn content_modifiers_match() {
    table(
        "content",
        &[
            (r#"content:"abc";"#, b"xxabcxx", true),
            (r#"content:"abc";"#, b"xxabxcx", false),
            (r#"content:"|00 01|";"#, b"a\x00\x01", true),
            (r#"content:!"abc";"#, b"xxabcxx", false),
            (r#"content:!"abc";"#, b"xxabdxx", true),
            (r#"content:"abc";"#, b"", false),
            (r#"content:!"abc";"#, b"", true),
        ],
    );
    table(
        "nocase",
        &[
            (r#"content:"AbC"; nocase;"#, b"xxaBcxx", true),
            (r#"content:"AbC";"#, b"xxaBcxx", false),
            (r#"content:"|41|b"; nocase;"#, b"aB", true),
            (r#"content:"a1-"; nocase;"#, b"A1-", true),
            (r#"content:"123"; nocase;"#, b"x123", true),
            (r#"content:"abc"; nocase; endswith;"#, b"xxABC", true),
            (r#"content:"abc"; nocase; endswith;"#, b"ABCx", false),
            (r#"content:!"abc"; nocase;"#, b"xABCx", false),
        ],
    );
    table(
        "depth",
        &[
            (r#"content:"abc"; depth:5;"#, b"xxabcxx", true),
            (r#"content:"abc"; depth:4;"#, b"xxabcxx", false),
            (r#"content:"abc"; depth:0x05;"#, b"xxabcxx", true),
            // Base 0: a leading 0 is octal, as in Suricata (010 = 8).
            (r#"content:"abc"; depth:010;"#, b"xxxxxabcx", true),
            (r#"content:"abc"; depth:010;"#, b"xxxxxxabc", false),
        ],
    );
    table(
        "offset",
        &[
            (r#"content:"abc"; offset:2;"#, b"xxabcxx", true),
            (r#"content:"abc"; offset:3;"#, b"xxabcxx", false),
            // depth counts from the offset: [3, 3+4).
            (r#"content:"abc"; offset:3; depth:4;"#, b"xxxxabcx", true),
            (r#"content:"abc"; depth:4; offset:3;"#, b"xxxxabcx", true),
            (r#"content:"abc"; offset:3; depth:4;"#, b"xxxxxabc", false),
            (r#"content:"abc"; offset:20;"#, b"xxabc", false),
            (r#"content:!"abc"; offset:20;"#, b"xxabc", true),
        ],
    );
    table(
        "distance",
        &[
            (r#"content:"a"; content:"b"; distance:2;"#, b"axxb", true),
            (r#"content:"a"; content:"b"; distance:3;"#, b"axxb", false),
            (r#"content:"a"; content:"b";"#, b"ba", true),
            (r#"content:"a"; content:"b"; distance:0;"#, b"ba", false),
            (r#"content:"ab"; content:"a"; distance:-2;"#, b"ab", true),
            (r#"content:"ab"; content:"a"; distance:-1;"#, b"ab", false),
            // A negative distance past the buffer start clamps to 0.
            (r#"content:"b"; content:"a"; distance:-100;"#, b"ab", true),
            // Leading relative content: relative to the buffer start.
            (r#"content:"b"; distance:1;"#, b"ab", true),
            (r#"content:"b"; distance:2;"#, b"ab", false),
        ],
    );
    table(
        "within",
        &[
            (r#"content:"a"; content:"bc"; within:3;"#, b"axbc", true),
            (r#"content:"a"; content:"bc"; within:2;"#, b"axbc", false),
            (r#"content:"a"; content:"bc";"#, b"axxxxbc", true),
            (r#"content:"a"; content:"bc"; within:3;"#, b"axxxxbc", false),
            (
                r#"content:"a"; content:"c"; distance:1; within:1;"#,
                b"abc",
                true,
            ),
            (
                r#"content:"a"; content:"c"; distance:1; within:1;"#,
                b"abbc",
                false,
            ),
            // The retry finds the second "a".
            (r#"content:"a"; content:"c"; within:1;"#, b"abac", true),
        ],
    );
    table(
        "startswith",
        &[
            (r#"content:"GET "; startswith;"#, b"GET /", true),
            (r#"content:"GET "; startswith;"#, b" GET /", false),
            (r#"content:"GET ";"#, b" GET /", true),
        ],
    );
    table(
        "endswith",
        &[
            (r#"content:".php"; endswith;"#, b"/a.php", true),
            (r#"content:".php"; endswith;"#, b"/a.php?x", false),
            (r#"content:".php"; endswith;"#, b"/a.php.php", true),
            (r#"content:".php";"#, b"/a.php?x", true),
            (
                r#"content:".php"; isdataat:!1,relative;"#,
                b"/a.php?x",
                false,
            ),
        ],
    );
    table(
        "fast_pattern and rawbytes have no effect on matching",
        &[
            (r#"content:"abc"; fast_pattern;"#, b"abc", true),
            (r#"content:"abc"; fast_pattern:only;"#, b"xabc", true),
            (r#"content:"abcd"; fast_pattern:1,2;"#, b"abcd", true),
            (r#"content:"abcd"; fast_pattern:1,2;"#, b"bc", false),
            (r#"content:"abc"; rawbytes;"#, b"abc", true),
        ],
    );
}

#[test]
fn variables_in_content_modifiers() {
    table(
        "byte_extract vars",
        &[
            // within:len
            (
                r#"content:"|00 FF|"; byte_extract:1,0,len,relative; content:"|5c 00|"; distance:2; within:len;"#,
                b"\x00\xff\x04xx\\\x00",
                true,
            ),
            (
                r#"content:"|00 FF|"; byte_extract:1,0,len,relative; content:"|5c 00|"; distance:2; within:len;"#,
                b"\x00\xff\x01xx\\\x00",
                false,
            ),
            // distance:size (the absolute byte_extract moves the cursor to
            // the end of the bytes it read, as in Suricata).
            (
                r#"content:"Alice"; byte_extract:2,0,size; content:"Bob"; distance:size; within:3;"#,
                b"\x00\x05AliceBob",
                true,
            ),
            (
                r#"content:"Alice"; byte_extract:2,0,size; content:"Bob"; distance:size; within:3;"#,
                b"\x00\x04AliceBob",
                false,
            ),
            // depth:var and offset:var
            (
                r#"byte_extract:1,0,d; content:"abc"; depth:d;"#,
                b"\x05xabcx",
                true,
            ),
            (
                r#"byte_extract:1,0,d; content:"abc"; depth:d;"#,
                b"\x03xabcx",
                false,
            ),
            (
                r#"byte_extract:1,0,o; content:"abc"; offset:o;"#,
                b"\x02abcabc",
                true,
            ),
            (
                r#"byte_extract:1,0,o; content:"abc"; offset:o;"#,
                b"\x05abcabc",
                false,
            ),
            // offset:var with a static depth counts the depth from the offset.
            (
                r#"byte_extract:1,0,o; content:"abc"; offset:o; depth:3;"#,
                b"\x04xxxabc",
                true,
            ),
            (
                r#"byte_extract:1,0,o; content:"abc"; offset:o; depth:3;"#,
                b"\x03xxxabc",
                false,
            ),
            // byte_test value and offset, byte_jump offset, isdataat.
            (
                r#"byte_extract:1,0,v; byte_test:1,=,v,1;"#,
                b"\x07\x07",
                true,
            ),
            (
                r#"byte_extract:1,0,v; byte_test:1,=,v,1;"#,
                b"\x07\x08",
                false,
            ),
            (
                r#"byte_extract:1,0,o; byte_test:1,=,9,o;"#,
                b"\x02x\x09",
                true,
            ),
            (
                r#"byte_extract:1,0,o; byte_jump:1,o; content:"z"; within:1;"#,
                b"\x01\x01xz",
                true,
            ),
            (
                r#"byte_extract:1,0,o; byte_jump:1,o; content:"z"; within:1;"#,
                b"\x02\x01xz",
                false,
            ),
            (r#"byte_extract:1,0,n; isdataat:n;"#, b"\x03abc", true),
            (r#"byte_extract:1,0,n; isdataat:n;"#, b"\x04abc", false),
        ],
    );
}

#[test]
fn isdataat_values_and_matching() {
    let ok: &[(&str, IsDataAt)] = &[
        (
            "30 ",
            IsDataAt {
                negated: false,
                value: NumOrVar::Num(30),
                relative: false,
                rawbytes: false,
            },
        ),
        (
            "30 , relative",
            IsDataAt {
                negated: false,
                value: NumOrVar::Num(30),
                relative: true,
                rawbytes: false,
            },
        ),
        (
            "30,relative, rawbytes ",
            IsDataAt {
                negated: false,
                value: NumOrVar::Num(30),
                relative: true,
                rawbytes: true,
            },
        ),
        (
            "!1,relative",
            IsDataAt {
                negated: true,
                value: NumOrVar::Num(1),
                relative: true,
                rawbytes: false,
            },
        ),
        (
            "len",
            IsDataAt {
                negated: false,
                value: NumOrVar::Var("len".into()),
                relative: false,
                rawbytes: false,
            },
        ),
    ];
    for (v, want) in ok {
        assert_eq!(
            &IsDataAt::parse(v).unwrap_or_else(|e| panic!("{v}: {e}")),
            want,
            "{v}"
        );
    }
    for v in [
        "",
        "65536",
        "-1",
        "5,rawbytes",
        "5,relativex",
        "5 6",
        "5,relative,relative",
    ] {
        assert_eq!(IsDataAt::parse(v).expect_err(v).keyword, "isdataat");
    }
    let p32 = [b'x'; 32];
    // Suricata's documented 32-byte and "abcdefgh" tables.
    table(
        "isdataat",
        &[
            ("isdataat:31;", &p32, true),
            ("isdataat:32;", &p32, false),
            ("isdataat:31,relative;", &p32, true),
            ("isdataat:32,relative;", &p32, true),
            ("isdataat:33,relative;", &p32, false),
            ("isdataat:7;", b"abcdefgh", true),
            ("isdataat:8;", b"abcdefgh", false),
            ("isdataat:8,relative;", b"abcdefgh", true),
            ("isdataat:9,relative;", b"abcdefgh", false),
            (r#"content:"c"; isdataat:4,relative;"#, b"abcdefgh", true),
            (r#"content:"c"; isdataat:5,relative;"#, b"abcdefgh", true),
            (r#"content:"c"; isdataat:6,relative;"#, b"abcdefgh", false),
            ("isdataat:!8;", b"abcdefgh", true),
            ("isdataat:!7;", b"abcdefgh", false),
            (r#"content:"c"; isdataat:!6,relative;"#, b"abcdefgh", true),
            (r#"content:"c"; isdataat:!5,relative;"#, b"abcdefgh", false),
        ],
    );
}

#[test]
fn byte_test_values() {
    let t = |v: &str| ByteTest::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
    let p = t("4, =, 1 , 0");
    assert_eq!(
        (p.nbytes, p.op, p.negated, p.value, p.offset),
        (
            NumOrVar::Num(4),
            ByteTestOp::Eq,
            false,
            NumOrVar::Num(1),
            NumOrVar::Num(0)
        )
    );
    let p = t("4, !=, 1, 0, relative");
    assert_eq!((p.op, p.negated, p.relative), (ByteTestOp::Eq, true, true));
    let p = t("4, !=, 1, 0, string, oct");
    assert_eq!((p.string, p.base), (true, 8));
    assert_eq!(t("4, =, 1, 0, string, dec").base, 10);
    let p = t("4, >, 1, 0, string, hex");
    assert_eq!((p.op, p.base), (ByteTestOp::Gt, 16));
    assert_eq!(t("4, <, 5, 0, big").endian, Endian::Big);
    assert_eq!(t("4, <, 5, 0, little").endian, Endian::Little);
    let p = t("4, !, 5, 0");
    assert_eq!((p.op, p.negated), (ByteTestOp::Eq, true));
    let p = t("\t4 , ! &, 5\t, 0 , little ");
    assert_eq!(
        (p.op, p.negated, p.endian),
        (ByteTestOp::And, true, Endian::Little)
    );
    let p = t("4,!^,5,0,little,string,relative,hex");
    assert_eq!(
        (p.op, p.negated, p.string, p.relative, p.base),
        (ByteTestOp::Xor, true, true, true, 16)
    );
    let p = t("23,=,0xffffffffffffffffULL,0,string,oct");
    assert_eq!(p.value, NumOrVar::Num(u64::MAX));
    assert!(t("4, <, 5, 0, dce").dce);
    assert_eq!(t("4, <, 5, 0, bitmask 0xf8").bitmask, Some(0xf8));
    let p = t("4, !<, 5, 0, relative,string,hex, big, bitmask 0xf8");
    assert_eq!(
        (p.op, p.negated, p.bitmask, p.base),
        (ByteTestOp::Lt, true, Some(0xf8), 16)
    );
    assert_eq!(t("n, =, v, o").nbytes, NumOrVar::Var("n".into()));
    assert_eq!(t("2, =, 0x10, -0x2").offset, NumOrVar::Num(-2));
    for bad in [
        "4, =, 1, 0, hex",
        "9, =, 1, 0",
        "24, =, 0xffffffffffffffffULL, 0, string",
        "4,=,0,0xffffffffffffffffULL",
        "4, =, 1",
        "4, ~, 1, 0",
        "4, , 1, 0",
        "4, =, 1, 0, bogus",
        "4, =, 1, 0, string, dce",
        "4, =, 1, 0, big, dce",
        "4, =, 1, 0, little, dce",
        "4, =, 1, 0, bitmask",
        "4, =, 1, 0, relative, relative, relative, relative, relative, relative, relative",
    ] {
        assert_eq!(
            ByteTest::parse(bad).expect_err(bad).keyword,
            "byte_test",
            "{bad}"
        );
    }
}

#[test]
fn byte_test_matching() {
    table(
        "byte_test",
        &[
            (
                r#"content:"|00 01 00 02|"; byte_test:2,=,0x01,0;"#,
                b"\x00\x01\x00\x02",
                true,
            ),
            (
                r#"content:"|00 01 00 02|"; byte_test:2,=,0x02,0;"#,
                b"\x00\x01\x00\x02",
                false,
            ),
            (
                r#"content:"|00 01 00 02|"; byte_test:2,=,0x03,2,relative;"#,
                b"\x00\x01\x00\x02\xff\xff\x00\x03",
                true,
            ),
            (
                r#"content:"|00 01 00 02|"; byte_test:2,=,0x03,2,relative;"#,
                b"\x00\x01\x00\x02\x00\x03",
                false,
            ),
            (
                r#"content:"|00 01 00 02|"; byte_test:2,!=,0x06,0;"#,
                b"\x00\x01\x00\x02",
                true,
            ),
            (r#"byte_test:2,!,0x01,0;"#, b"\x00\x01", false),
            (r#"byte_test:2,<,2,0;"#, b"\x00\x01", true),
            (r#"byte_test:2,>,2,0;"#, b"\x00\x01", false),
            (r#"byte_test:2,<=,1,0;"#, b"\x00\x01", true),
            (r#"byte_test:2,>=,2,0;"#, b"\x00\x01", false),
            (r#"byte_test:1,&,0x01,0;"#, b"\x03", true),
            (r#"byte_test:1,&,0x04,0;"#, b"\x03", false),
            (r#"byte_test:1,^,0x03,0;"#, b"\x03", false),
            (r#"byte_test:1,^,0x02,0;"#, b"\x03", true),
            // Little endian.
            (r#"byte_test:2,=,1,0,little;"#, b"\x01\x00", true),
            (r#"byte_test:2,=,1,0;"#, b"\x01\x00", false),
            (
                r#"byte_test:8,=,0x0102030405060708,0;"#,
                b"\x01\x02\x03\x04\x05\x06\x07\x08",
                true,
            ),
            // Strings: dec, hex, oct, automatic base, leading blanks.
            (
                r#"content:"foobar"; byte_test:4,=,1337,1,relative,string,dec;"#,
                b"foobar 1337",
                true,
            ),
            (
                r#"content:"foobar"; byte_test:4,=,1337,0,relative,string,dec;"#,
                b"foobar 1337",
                false,
            ),
            (r#"byte_test:2,=,255,0,string,hex;"#, b"ff", true),
            (r#"byte_test:3,=,8,0,string,oct;"#, b"010", true),
            (r#"byte_test:3,=,10,0,string,dec;"#, b"010", true),
            (r#"byte_test:3,=,8,0,string;"#, b"010", true),
            (r#"byte_test:4,=,16,0,string;"#, b"0x10", true),
            (r#"byte_test:4,=,12,0,string,dec;"#, b"12ab", true),
            (r#"byte_test:2,=,0,0,string,dec;"#, b"ab", false),
            // Bitmask: AND, then shift right by the mask's trailing zeros.
            (r#"byte_test:1,=,3,0,bitmask 0x30;"#, b"\x3f", true),
            (r#"byte_test:1,=,0x30,0;"#, b"\x3f", false),
            (r#"byte_test:2,=,0x1f,0,bitmask 0x1f00;"#, b"\xff\x00", true),
            // Beyond the buffer: no match.
            (r#"byte_test:4,=,0,0;"#, b"\x00\x00\x00", false),
            (r#"byte_test:1,=,0,3;"#, b"\x00\x00\x00", false),
            (r#"byte_test:1,=,0,-1;"#, b"\x00\x00\x00", false),
            (
                r#"content:"a"; byte_test:1,=,0,0,relative;"#,
                b"\x00a",
                false,
            ),
            (
                r#"content:"a"; byte_test:1,=,0x61,-1,relative;"#,
                b"\x00a",
                true,
            ),
            (r#"byte_test:1,=,0,0;"#, b"", false),
        ],
    );
}

#[test]
fn byte_jump_values() {
    let j = |v: &str| ByteJump::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
    let p = j("4, 0");
    assert_eq!(
        (
            p.nbytes,
            p.offset,
            p.multiplier,
            p.post_offset,
            p.relative,
            p.base
        ),
        (NumOrVar::Num(4), NumOrVar::Num(0), 1, 0, false, 0)
    );
    let p = j(" 4,0 , relative , little, string, dec, align, from_beginning");
    assert_eq!(
        (p.relative, p.endian, p.string, p.base, p.align, p.from),
        (true, Endian::Little, true, 10, true, JumpFrom::Beginning)
    );
    let p = j(
        " 4,0 , relative , little, string, dec, align, from_beginning , multiplier 2 , post_offset -16 ",
    );
    assert_eq!((p.multiplier, p.post_offset), (2, -16));
    assert_eq!(
        j(" 4,0 , relative , little, string, dec, align, from_end").from,
        JumpFrom::End
    );
    assert!(j("4,0, align, multiplier 2, post_offset -16,dce").dce);
    assert_eq!(j("2,0,bitmask 0x0f00").bitmask, Some(0x0f00));
    for bad in [
        " 4,0 , relative , little, dec, align, from_beginning",
        "9, 0",
        "24, 0, string, dec",
        "4, 0xffffffffffffffff",
        "1,214748364",
        " 4,0 , relative , little, string, dec, align, from_beginning, from_end",
        "4,0, string, dce",
        "4,0, big, dce",
        "4,0, little, dce",
        "4,0, string, hex, dce",
        "4,0, from_beginning, dce",
        "4,0, multiplier 0",
        "4,0, multiplier 65536",
        "4,0, post_offset 65536",
        "4,0, unknown",
        "4",
    ] {
        assert_eq!(
            ByteJump::parse(bad).expect_err(bad).keyword,
            "byte_jump",
            "{bad}"
        );
    }
}

#[test]
fn byte_jump_matching() {
    table(
        "byte_jump",
        &[
            // Jump over a 2-byte length: "|00 03|" then 3 bytes then "end".
            (
                r#"byte_jump:2,0; content:"end"; within:3;"#,
                b"\x00\x03xyzend",
                true,
            ),
            (
                r#"byte_jump:2,0; content:"end"; within:3;"#,
                b"\x00\x02xyzend",
                false,
            ),
            (
                r#"byte_jump:2,0,little; content:"end"; within:3;"#,
                b"\x03\x00xyzend",
                true,
            ),
            (
                r#"byte_jump:1,0,multiplier 2; content:"end"; within:3;"#,
                b"\x02abcdend",
                true,
            ),
            (
                r#"byte_jump:1,0,multiplier 2; content:"end"; within:3;"#,
                b"\x01abcdend",
                false,
            ),
            // align: 1 byte of length 1 rounds up to 4.
            (
                r#"byte_jump:1,0,align; content:"end"; within:3;"#,
                b"\x01abcdend",
                true,
            ),
            (
                r#"byte_jump:1,0; content:"end"; within:3;"#,
                b"\x01abcdend",
                false,
            ),
            (
                r#"byte_jump:1,0,post_offset 2; content:"end"; within:3;"#,
                b"\x01abcend",
                true,
            ),
            (
                r#"byte_jump:1,0,post_offset -1; content:"a"; within:1;"#,
                b"\x01a",
                true,
            ),
            // A jump before the buffer start lands at the start.
            (
                r#"byte_jump:1,0,post_offset -100; content:"|01|"; within:1;"#,
                b"\x01a",
                true,
            ),
            // Beyond the end: no match; exactly the end is fine.
            (r#"byte_jump:1,0;"#, b"\x05abcd", false),
            (r#"byte_jump:1,0; isdataat:!1,relative;"#, b"\x04abcd", true),
            (
                r#"byte_jump:0,0,from_end,post_offset -4; content:"abcd"; within:4;"#,
                b"xxabcd",
                true,
            ),
            (
                r#"byte_jump:1,0,from_beginning; content:"c"; within:1;"#,
                b"\x03abc",
                true,
            ),
            (
                r#"byte_jump:1,0,from_beginning; content:"c"; within:1;"#,
                b"\x02abc",
                false,
            ),
            // string: the jump counts from the end of the digits read.
            (
                r#"byte_jump:4,0,string,dec; content:"x"; within:1;"#,
                b"2 abxy",
                false,
            ),
            (
                r#"byte_jump:4,0,string,dec; content:"x"; within:1;"#,
                b"2abxyz",
                true,
            ),
            (
                r#"byte_jump:2,0,string,hex; content:"z"; within:1;"#,
                b"0a0123456789z",
                true,
            ),
            (r#"byte_jump:2,0,string,dec;"#, b"zz0123", false),
            // bitmask (documented by Suricata).
            (
                r#"byte_jump:1,0,bitmask 0xf0; content:"z"; within:1;"#,
                b"\x20abz",
                true,
            ),
            (
                r#"byte_jump:1,0; content:"z"; within:1;"#,
                b"\x20abz",
                false,
            ),
        ],
    );
}

#[test]
fn byte_extract_values() {
    let e = |v: &str| ByteExtract::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
    let p = e("4, 2, one");
    assert_eq!(
        (
            p.nbytes,
            p.offset,
            p.name.as_str(),
            p.relative,
            p.multiplier,
            p.endian
        ),
        (4, 2, "one", false, 1, ExtractEndian::Big)
    );
    assert!(e("4, 2, one, relative").relative);
    assert_eq!(e("4, 2, one, multiplier 10").multiplier, 10);
    assert_eq!(e("4, 2, one, little").endian, ExtractEndian::Little);
    assert_eq!(e("4, 2, one, dce").endian, ExtractEndian::Dce);
    let p = e("4, 2, one, string, hex");
    assert_eq!((p.string, p.base), (true, 16));
    assert_eq!(e("4, 2, one, string").base, 10);
    assert_eq!(
        e("4, 2, one, align 4, relative, little, multiplier 2").align,
        Some(4)
    );
    assert_eq!(e("1, -2, v").offset, -2);
    for bad in [
        "4",
        "4, 2",
        "4, 65536",
        "4, 2, one, align 4, align 4",
        "4, 2, one, relative, relative",
        "4, 2, one, hex",
        "4, 2, one, little, little",
        "4, 2, one, multiplier",
        "4, 2, one, multiplier 0",
        "4, 2, one, multiplier 65536",
        "4, 2, one, align 3",
        "4, 2, one, string, little",
        "4, 2, one, string, dce",
        "9, 2, one",
        "21, 2, one, string",
        "15, 2, one, string, hex",
        "4, 2, 12",
        "4, 2, one, slice",
        "4, 2, one, bogus",
        "4, 40000, one",
    ] {
        assert_eq!(
            ByteExtract::parse(bad).expect_err(bad).keyword,
            "byte_extract",
            "{bad}"
        );
    }
}

#[test]
fn byte_extract_matching() {
    table(
        "byte_extract",
        &[
            (
                r#"byte_extract:2,0,v,little; byte_test:2,=,0x0201,2;"#,
                b"\x01\x02\x02\x01",
                true,
            ),
            (
                r#"byte_extract:2,0,v; byte_test:2,=,v,2;"#,
                b"\x01\x02\x01\x02",
                true,
            ),
            (
                r#"byte_extract:2,0,v,little; byte_test:2,=,v,2;"#,
                b"\x01\x02\x01\x02",
                false,
            ),
            (
                r#"byte_extract:1,0,v,multiplier 3; isdataat:v;"#,
                b"\x02abcdef",
                true,
            ),
            (
                r#"byte_extract:1,0,v,multiplier 3; isdataat:v;"#,
                b"\x03abcdef",
                false,
            ),
            (
                r#"byte_extract:1,0,v,align 4; isdataat:v;"#,
                b"\x01abcd",
                true,
            ),
            (
                r#"byte_extract:1,0,v,align 4; isdataat:v;"#,
                b"\x01abc",
                false,
            ),
            (
                r#"byte_extract:2,0,v,string,hex; isdataat:!v;"#,
                b"10abcdefghijklmn",
                true,
            ),
            (
                r#"byte_extract:2,0,v,string,dec; isdataat:!v;"#,
                b"10abcdefghijklmn",
                false,
            ),
            (
                r#"byte_extract:3,0,v,string,oct; byte_test:1,=,v,0;"#,
                b"\x08\x00\x00017",
                false,
            ),
            // The cursor moves past the bytes read.
            (
                r#"byte_extract:1,0,v; content:"a"; within:1;"#,
                b"\x00ab",
                true,
            ),
            (
                r#"byte_extract:1,1,v; content:"a"; within:1;"#,
                b"\x00ab",
                false,
            ),
            // Beyond the buffer: no match.
            (r#"byte_extract:4,0,v;"#, b"\x00\x00\x00", false),
            (r#"byte_extract:1,-1,v;"#, b"\x00", false),
            (r#"byte_extract:1,0,v,string;"#, b"x", false),
        ],
    );
}

#[test]
fn byte_math_values() {
    let m = |v: &str| ByteMath::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
    let p = m("bytes 4, offset 2, oper +,rvalue 10, result bar");
    assert_eq!(
        (
            p.nbytes,
            p.offset,
            p.oper,
            p.rvalue,
            p.result.as_str(),
            p.endian,
            p.string
        ),
        (
            NumOrVar::Num(4),
            2,
            MathOp::Add,
            NumOrVar::Num(10),
            "bar",
            ExtractEndian::Big,
            None
        )
    );
    assert!(m("bytes 4, offset 0, oper +,rvalue 248, result var, relative").relative);
    assert_eq!(
        m("bytes 4, offset 2, oper +,rvalue foo, result bar").rvalue,
        NumOrVar::Var("foo".into())
    );
    assert_eq!(
        m("bytes 4, offset 2, oper +,rvalue 39, result bar, endian big").endian,
        ExtractEndian::Big
    );
    assert_eq!(
        m("bytes 4, offset 2, oper +, rvalue 39, result bar, dce").endian,
        ExtractEndian::Dce
    );
    assert_eq!(
        m("bytes 4, offset 2, oper +,rvalue 39, result bar, relative, string dec").string,
        Some(10)
    );
    let p = m(
        "bytes 4, offset -2, oper +, rvalue 39, result bar, relative,  string dec, bitmask 0x8f40",
    );
    assert_eq!((p.offset, p.bitmask), (-2, Some(0x8f40)));
    assert_eq!(
        m("result r, rvalue 1, oper <<, offset 0, bytes 4").oper,
        MathOp::Shl
    );
    for bad in [
        "bytes 257, offset 2, oper +, rvalue 39, result bar",
        "bytes 11, offset 2, oper +, rvalue 39, result bar",
        "bytes 4, offset 70000, oper +, rvalue 39, result bar",
        "bytes 11, offset 16, oper &,rvalue 39, result bar",
        "bytes 4, offset 2, oper +,rvalue foo",
        "bytes 4, offset 2, oper +, result bar",
        "bytes 5, offset 2, oper <<, rvalue 1, result bar",
        "bytes 3, offset 2, oper +, rvalue 1, result bar, dce",
        "bytes 4, offset 2, oper +, rvalue 1, result bar, dce, string dec",
        "bytes 4, offset 2, oper +, rvalue 4294967296, result bar",
        "bytes 4, offset 2, oper +, rvalue 1, result 9bar",
        "bytes 4, offset 2, oper +, rvalue 1, result bar, bitmask zz",
        "bytes 4, offset 2, oper +, rvalue 1, result bar, relative, relative",
    ] {
        assert_eq!(
            ByteMath::parse(bad).expect_err(bad).keyword,
            "byte_math",
            "{bad}"
        );
    }
}

#[test]
fn byte_math_matching() {
    table(
        "byte_math",
        &[
            (
                r#"byte_math:bytes 1, offset 0, oper +, rvalue 1, result r; byte_test:1,=,r,1;"#,
                b"\x04\x05",
                true,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper +, rvalue 2, result r; byte_test:1,=,r,1;"#,
                b"\x04\x05",
                false,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper -, rvalue 1, result r; byte_test:1,=,r,1;"#,
                b"\x04\x03",
                true,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper *, rvalue 2, result r; byte_test:1,=,r,1;"#,
                b"\x04\x08",
                true,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper /, rvalue 2, result r; byte_test:1,=,r,1;"#,
                b"\x04\x02",
                true,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper /, rvalue 0, result r;"#,
                b"\x04\x02",
                false,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper <<, rvalue 2, result r; byte_test:1,=,r,1;"#,
                b"\x01\x04",
                true,
            ),
            (
                r#"byte_math:bytes 1, offset 0, oper >>, rvalue 2, result r; byte_test:1,=,r,1;"#,
                b"\x08\x02",
                true,
            ),
            // rvalue from byte_extract (the documented example).
            (
                r#"byte_extract: 1, 0, extracted_val, relative; byte_math: bytes 1, offset 1, oper +, rvalue extracted_val, result var; byte_test: 2, =, var, 13;"#,
                b"\x02\x03\x00xxxxxxxxxx\x00\x05",
                true,
            ),
            (
                r#"byte_math:bytes 2, offset 0, oper +, rvalue 0, result r, endian little; byte_test:2,=,r,2;"#,
                b"\x01\x02\x02\x01",
                true,
            ),
            (
                r#"byte_math:bytes 2, offset 0, oper +, rvalue 0, result r, string dec; byte_test:1,=,r,2;"#,
                b"12\x0c",
                true,
            ),
            (
                r#"byte_math:bytes 2, offset 0, oper +, rvalue 0, result r, bitmask 0xf0; byte_test:1,=,r,2;"#,
                b"\x00\x35\x03",
                true,
            ),
            (
                r#"byte_math:bytes 2, offset 0, oper +, rvalue 0, result r; byte_test:1,=,r,2;"#,
                b"\x00\x35\x03",
                false,
            ),
            // Beyond the buffer, and 9-10 binary bytes never match.
            (
                r#"byte_math:bytes 4, offset 0, oper +, rvalue 0, result r;"#,
                b"\x00\x00",
                false,
            ),
            (
                r#"byte_math:bytes 9, offset 0, oper +, rvalue 0, result r;"#,
                b"\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                false,
            ),
            // The cursor moves past the bytes read.
            (
                r#"byte_math:bytes 1, offset 0, oper +, rvalue 0, result r; content:"a"; within:1;"#,
                b"\x00ab",
                true,
            ),
        ],
    );
}

#[test]
fn dsize_values() {
    let cases: &[(&str, &[(usize, bool)])] = &[
        ("10", &[(10, true), (9, false), (11, false)]),
        ("<10", &[(9, true), (10, false)]),
        (">10", &[(11, true), (10, false)]),
        ("<=10", &[(10, true), (11, false)]),
        (">=10", &[(10, true), (9, false)]),
        ("5<>10", &[(6, true), (9, true), (5, false), (10, false)]),
        ("!9", &[(8, true), (9, false)]),
        (" 0 ", &[(0, true), (1, false)]),
    ];
    for (v, checks) in cases {
        let d = Dsize::parse(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        for (len, want) in *checks {
            assert_eq!(d.matches(*len), *want, "dsize:{v} on {len}");
        }
    }
    for bad in ["", "65536", "abc", "10<>5", "-1"] {
        assert_eq!(Dsize::parse(bad).expect_err(bad).keyword, "dsize", "{bad}");
    }
}

#[test]
fn fast_pattern_values() {
    assert_eq!(FastPattern::parse(None).unwrap(), FastPattern::Plain);
    assert_eq!(
        FastPattern::parse(Some(" only ")).unwrap(),
        FastPattern::Only
    );
    assert_eq!(
        FastPattern::parse(Some("1, 2")).unwrap(),
        FastPattern::Chop {
            offset: 1,
            length: 2
        }
    );
    for bad in ["boo", "1", "1,x", "65535,1"] {
        assert_eq!(
            FastPattern::parse(Some(bad)).expect_err(bad).keyword,
            "fast_pattern"
        );
    }
}

/// Rules Suricata refuses, and the keyword each error names.
#[test]
fn build_time_validation() {
    let cases: &[(&str, &str)] = &[
        (r#"nocase;"#, "nocase"),
        (r#"depth:3;"#, "depth"),
        (r#"content:"a"; nocase; nocase;"#, "nocase"),
        (r#"content:"abc"; depth:2;"#, "depth"),
        (r#"content:"abc"; depth:0;"#, "depth"),
        (r#"content:"abc"; depth:3; depth:4;"#, "depth"),
        (r#"content:"abc"; offset:1; offset:2;"#, "offset"),
        (r#"content:"a"; content:"b"; distance:0; depth:3;"#, "depth"),
        (r#"content:"a"; content:"b"; within:3; offset:3;"#, "offset"),
        (
            r#"content:"a"; content:"b"; depth:3; distance:0;"#,
            "distance",
        ),
        (r#"content:"a"; content:"b"; offset:3; within:3;"#, "within"),
        (
            r#"content:"a"; content:"b"; distance:0; distance:1;"#,
            "distance",
        ),
        (r#"content:"a"; content:"b"; within:1; within:2;"#, "within"),
        (r#"content:"a"; content:"bc"; within:1;"#, "within"),
        (r#"content:"a"; content:"bc"; within:0;"#, "within"),
        (r#"content:"a"; content:"b"; within:-1;"#, "within"),
        (r#"content:"a"; content:"b"; distance:2000000;"#, "distance"),
        (r#"content:"ab"; startswith; depth:2;"#, "depth"),
        (r#"content:"ab"; startswith; offset:2;"#, "offset"),
        (r#"content:"ab"; offset:2; startswith;"#, "startswith"),
        (
            r#"content:"a"; content:"ab"; distance:0; startswith;"#,
            "startswith",
        ),
        (r#"content:"ab"; startswith; distance:0;"#, "distance"),
        (
            r#"content:"a"; fast_pattern:only; content:"b"; distance:0;"#,
            "distance",
        ),
        (r#"content:"a"; fast_pattern:only; depth:1;"#, "depth"),
        (
            r#"content:!"a"; fast_pattern; content:"b"; content:!"c"; fast_pattern;"#,
            "fast_pattern",
        ),
        (
            r#"content:"a"; fast_pattern; content:"b"; fast_pattern;"#,
            "fast_pattern",
        ),
        (
            r#"content:"a"; fast_pattern; fast_pattern;"#,
            "fast_pattern",
        ),
        (r#"content:!"a"; fast_pattern:only;"#, "fast_pattern"),
        (r#"content:"ab"; fast_pattern:1,2;"#, "fast_pattern"),
        (r#"content:!"a"; offset:1; fast_pattern;"#, "fast_pattern"),
        (r#"content:!"a"; fast_pattern; offset:1;"#, "offset"),
        (r#"content:"a"; distance:x;"#, "distance"),
        (r#"content:"a"; depth:x;"#, "depth"),
        (r#"isdataat:x;"#, "isdataat"),
        (r#"byte_test:1,=,x,0;"#, "byte_test"),
        (r#"byte_jump:1,x;"#, "byte_jump"),
        (
            r#"byte_math:bytes 1, offset 0, oper +, rvalue x, result r;"#,
            "byte_math",
        ),
        (
            r#"byte_math:bytes 1, offset 0, oper +, rvalue r, result r;"#,
            "byte_math",
        ),
        (r#"content;"#, "content"),
        (r#"content:"a"; endswith:1;"#, "endswith"),
        (r#"byte_test;"#, "byte_test"),
    ];
    for (sig, keyword) in cases {
        match compile(sig) {
            Ok(p) => panic!("{sig}: accepted: {p:?}"),
            Err(e) => {
                assert_eq!(e.keyword, *keyword, "{sig}: {e}");
                assert!(!e.message.is_empty());
            }
        }
    }
}

#[test]
fn relative_flags_as_suricata_sets_them() {
    let p = compile(r#"content:"a"; content:"b"; distance:0; content:"c"; within:5; content:!"d"; distance:0; isdataat:2,relative;"#).unwrap();
    let flags: Vec<(bool, bool, bool)> = p
        .steps()
        .iter()
        .filter_map(|s| match s {
            Step::Content(c) => Some((c.distance_next, c.within_next, c.is_single())),
            _ => None,
        })
        .collect();
    assert_eq!(
        flags,
        [
            (true, false, false), // "b" has distance.
            (false, true, false), // "c" has within.
            (true, true, false),  // "!d" is negated with distance: both.
            (true, true, false),  // the relative isdataat.
        ]
    );
    // isdataat:!1,relative after a content becomes endswith.
    let p = compile(r#"content:"a"; isdataat:!1,relative;"#).unwrap();
    assert_eq!(p.steps().len(), 1);
    assert!(matches!(&p.steps()[0], Step::Content(c) if c.ends_with));
    // On the payload a relative isdataat after a byte_test attaches to the
    // byte_test (no endswith); in a sticky buffer it goes to the content.
    let p = compile(r#"content:"a"; byte_test:1,=,1,0; isdataat:!1,relative;"#).unwrap();
    assert_eq!(p.steps().len(), 3);
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Sticky);
    b.escapes(Escapes::Raw);
    for (n, v) in split_options(r#"content:"a"; byte_test:1,=,1,0; isdataat:!1,relative;"#) {
        b.apply(n, v).unwrap();
    }
    let p = b.build().unwrap();
    assert_eq!(p.steps().len(), 2);
}

#[test]
fn variables_cross_buffers_through_the_scope() {
    let mut scope = RuleScope::new();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Payload);
    b.apply("byte_extract", Some("1,0,len")).unwrap();
    let first = b.build().unwrap();
    let mut b = ProgramBuilder::new(&mut scope, BufferKind::Sticky);
    b.apply("isdataat", Some("len")).unwrap();
    let second = b.build().unwrap();
    let mut vars = Vars::new();
    assert!(first.inspect(b"\x03", &mut vars));
    assert!(second.inspect(b"abcd", &mut vars));
    assert!(!second.inspect(b"abc", &mut vars));
    assert_eq!(scope.var("len").map(|v| v.index()), Some(0));
    assert!(
        !ProgramBuilder::new(&mut scope, BufferKind::Payload)
            .apply("dsize", Some("1"))
            .unwrap()
    );
}

#[test]
fn split_options_like_suricata() {
    assert_eq!(
        split_options(r#" content:"a\;b"; nocase ; depth: 3;fast_pattern"#),
        vec![
            ("content", Some(r#""a\;b""#)),
            ("nocase", None),
            ("depth", Some("3")),
            ("fast_pattern", None)
        ]
    );
    assert!(split_options("").is_empty());
}
