use super::*;
use crate::file::parse_rules;

fn ok(s: &str) -> Rule {
    Rule::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> RuleError {
    match Rule::parse(s) {
        Ok(r) => panic!("{s} parsed: {r:?}"),
        Err(e) => e,
    }
}

const H: &str = "alert tcp any any -> any any";

fn opts(o: &str) -> Rule {
    ok(&format!("{H} ({o})"))
}

#[test]
fn header_fields() {
    let r = ok("alert tcp $HOME_NET [1024:,!8080] -> !$HOME_NET $HTTP_PORTS (sid:1;)");
    assert_eq!(r.action, Action::Alert);
    assert_eq!(r.protocol, Protocol::Tcp);
    assert_eq!(r.src.to_string(), "$HOME_NET");
    assert_eq!(r.src_ports.to_string(), "[1024:,!8080]");
    assert_eq!(r.direction, Direction::ToDst);
    assert_eq!(r.dst.to_string(), "!$HOME_NET");
    assert_eq!(r.dst_ports.to_string(), "$HTTP_PORTS");
    // Lists may hold blanks; tabs and runs of spaces separate fields.
    let r = ok("drop  udp\t[1.2.3.4, 5.6.7.8]  any  <>  [::1 , 10.0.0.0/8]  [53, 5353] (sid:2;)");
    assert_eq!(r.action, Action::Drop);
    assert_eq!(r.direction, Direction::Both);
    assert_eq!(r.src.to_string(), "[1.2.3.4,5.6.7.8]");
    assert_eq!(r.dst_ports.to_string(), "[53,5353]");
    assert_eq!(
        ok(&format!("{}(sid:1;)", "alert ip any any => any any ")).direction,
        Direction::Transactional
    );
}

#[test]
fn actions_and_protocols() {
    for (word, action) in [
        ("alert", Action::Alert),
        ("PASS", Action::Pass),
        ("drop", Action::Drop),
        ("reject", Action::Reject),
        ("rejectsrc", Action::RejectSrc),
        ("rejectdst", Action::RejectDst),
        ("rejectboth", Action::RejectBoth),
        ("config", Action::Config),
    ] {
        assert_eq!(
            ok(&format!("{word} ip any any -> any any (sid:1;)")).action,
            action
        );
    }
    for (word, proto) in [
        ("ip", Protocol::Ip),
        ("tcp-pkt", Protocol::TcpPkt),
        ("tcp-stream", Protocol::TcpStream),
        ("UDP", Protocol::Udp),
        ("icmp", Protocol::Icmp),
        ("icmpv4", Protocol::Icmpv4),
        ("icmpv6", Protocol::Icmpv6),
        ("pkthdr", Protocol::Pkthdr),
        ("sctp", Protocol::Sctp),
        ("ip6", Protocol::Ipv6),
        ("http", Protocol::AppLayer("http".into())),
        ("http1", Protocol::AppLayer("http1".into())),
        ("ftp-data", Protocol::AppLayer("ftp-data".into())),
        (
            "bittorrent-dht",
            Protocol::AppLayer("bittorrent-dht".into()),
        ),
    ] {
        assert_eq!(
            ok(&format!("alert {word} any any -> any any (sid:1;)")).protocol,
            proto
        );
    }
    let r = ok("alert http1:request_headers any any -> any any (sid:1;)");
    assert_eq!(r.protocol_hook.as_deref(), Some("request_headers"));

    let e = err("alrt tcp any any -> any any (sid:1;)");
    assert_eq!(e.to_string(), "rule:1:1: action: unknown action 'alrt'");
    assert_eq!(e.reason(), "invalid action");
    let e = err("alert 7cp any any -> any any (sid:1;)");
    assert_eq!(e.to_string(), "rule:1:7: protocol: invalid protocol '7cp'");
    let e = err("alert tcp any any <- any any (sid:1;)");
    assert_eq!(e.field.as_deref(), Some("direction"));
    assert_eq!(e.column, Some(19));
}

#[test]
fn header_errors_name_the_field() {
    let e = err("alert tcp [1.2.3.4]] any -> any any (sid:1;)");
    assert_eq!(
        e.to_string(),
        "rule:1:11: src: unbalanced ']' in '[1.2.3.4]]'"
    );
    // An unclosed list swallows the rest of the header, as in Suricata.
    let e = err("alert tcp [1.2.3.4 any -> any any (sid:1;)");
    assert_eq!(e.kind, ErrorKind::Syntax);
    let e = err("alert tcp any 65536 -> any any (sid:1;)");
    assert_eq!(
        e.to_string(),
        "rule:1:15: src_port: port '65536' is over 65535"
    );
    let e = err("alert tcp any any -> 1.2.3.4/33 any (sid:1;)");
    assert_eq!(
        e.to_string(),
        "rule:1:22: dst: invalid address '1.2.3.4/33'"
    );
    let e = err("alert tcp any any -> any 10:1 (sid:1;)");
    assert_eq!(
        (e.field.as_deref(), e.kind),
        (Some("dst_port"), ErrorKind::Header)
    );
    let e = err("alert tcp any any -> any");
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Syntax, "incomplete rule header: no dst_port")
    );
    let e = err("alert tcp any any -> any any");
    assert_eq!(e.message, "no rule options");
    let e = err("alert tcp any any -> any any ()");
    assert_eq!(e.message, "no rule options");
}

#[test]
fn option_values_and_escapes() {
    let r = opts(
        r#"msg:"a \"quoted\" \; semi\\colon \: x"; content:"|3b|a\;b\"c\\d"; pcre:"/a\;b\d\\/i"; sid:1;"#,
    );
    assert_eq!(r.msg.as_deref(), Some(r#"a "quoted" ; semi\colon : x"#));
    let c = &r.options[1];
    assert_eq!(c.name, "content");
    assert!(c.quoted && !c.negated);
    assert_eq!(c.value.as_deref(), Some(r#"|3b|a;b"c\d"#));
    assert_eq!(c.raw.as_deref(), Some(r#""|3b|a\;b\"c\\d""#));
    assert_eq!(c.raw_unquoted(), Some(r#"|3b|a\;b\"c\\d"#));
    // Escapes other than \; \" \\ \: stay for the keyword.
    let p = &r.options[2];
    assert_eq!(p.value.as_deref(), Some(r"/a;b\d\/i"));
    assert_eq!(p.raw_unquoted(), Some(r"/a\;b\d\\/i"));
    assert_eq!(&r.text[p.span.start..p.span.end], r#"pcre:"/a\;b\d\\/i""#);
}

#[test]
fn quoted_semicolons_must_be_escaped() {
    // As in Suricata, quotes do not protect ';'.
    let e = err(&format!(r#"{H} (msg:"a;b"; sid:1;)"#));
    assert_eq!(e.field.as_deref(), Some("msg"));
    assert!(
        e.message
            .starts_with("bad option value formatting (possible missing semicolon)"),
        "{e}"
    );
    assert_eq!(opts(r#"msg:"a\;b"; sid:1;"#).msg.as_deref(), Some("a;b"));
    // `\\;` still counts as an escaped ';' (Suricata only looks one back):
    // here pcre swallows `sid:1`.
    let e = err(&format!(r#"{H} (pcre:/x\\; sid:1;)"#));
    assert_eq!(e.kind, ErrorKind::Missing);
}

#[test]
fn negation_quotes_and_blanks() {
    let r = opts(r#"content:! "no"; content: "yes" ; nocase ; dsize:!5; sid : 3 ;"#);
    let no = &r.options[0];
    assert!(no.negated && no.quoted);
    assert_eq!(no.value.as_deref(), Some("no"));
    assert_eq!(no.raw_unquoted(), Some("no"));
    assert_eq!(r.options[1].value.as_deref(), Some("yes"));
    assert_eq!(r.options[2].value, None);
    let d = &r.options[3];
    assert!(!d.negated && !d.quoted);
    assert_eq!(d.value.as_deref(), Some("!5"));
    assert_eq!(r.sid, 3);
}

#[test]
fn option_errors() {
    let e = err(&format!("{H} (msg:\"x\"; sid:1)"));
    assert!(e.message.starts_with("no terminating ';'"), "{e}");
    assert_eq!(e.column, Some(40));
    let e = err(&format!("{H} (msg:\"x\"; nosuch:1; sid:1;)"));
    assert_eq!(
        e.to_string(),
        "rule:1:40: nosuch: unknown rule keyword 'nosuch'"
    );
    assert_eq!(e.reason(), "unknown keyword 'nosuch'");
    let e = err(&format!("{H} (nocase:yes; sid:1;)"));
    assert_eq!(
        e.to_string(),
        "rule:1:38: nocase: takes no value, got 'yes'"
    );
    let e = err(&format!("{H} (content; sid:1;)"));
    assert_eq!(e.to_string(), "rule:1:31: content: missing value");
    let e = err(&format!("{H} (content:  ; sid:1;)"));
    assert_eq!(e.message, "missing value");
    let e = err(&format!("{H} (content:\"\"; sid:1;)"));
    assert_eq!(e.message, "empty quoted value");
    let e = err(&format!("{H} (content:\"abc; sid:1;)"));
    assert!(e.message.starts_with("bad option value"));
    let e = err(&format!("{H} (;sid:1;)"));
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(
        opts("nocase:; sid:1;").options[0].value.as_deref(),
        Some("")
    );
}

#[test]
fn meta_options() {
    let r = opts(
        "msg:\"m\"; reference:url,www.example.com/a?b=c; reference: cve , 2024-1 ; \
         metadata:created_at 2024_01_01, bare, former_category MALWARE; metadata: signature_severity Major; \
         classtype:Trojan-Activity; target:dest_ip; gid:3; sid:42; rev:7; priority:4; priority:\"2\";",
    );
    assert_eq!((r.sid, r.gid, r.rev, r.priority), (42, 3, 7, Some(2)));
    assert_eq!(
        r.references,
        vec![
            Reference {
                system: "url".into(),
                id: "www.example.com/a?b=c".into()
            },
            Reference {
                system: "cve".into(),
                id: "2024-1".into()
            },
        ]
    );
    assert_eq!(
        r.metadata,
        vec![
            ("created_at".into(), "2024_01_01".into()),
            ("former_category".into(), "MALWARE".into()),
            ("signature_severity".into(), "Major".into()),
        ]
    );
    assert_eq!(r.classtype.as_deref(), Some("Trojan-Activity"));
    assert_eq!(r.target, Some(Target::Dst));
    assert_eq!(
        r.effective_priority(&Classifications::suricata_default()),
        2
    );
    assert_eq!(opts("gid:2; gid:5; sid:1;").gid, 5);
    let r = opts("classtype:trojan-activity; sid:1;");
    assert_eq!((r.gid, r.rev, r.priority), (1, 0, None));
    assert_eq!(
        r.effective_priority(&Classifications::suricata_default()),
        1
    );
    assert_eq!(
        opts("classtype:unheard-of; sid:1;")
            .effective_priority(&Classifications::suricata_default()),
        3
    );
    assert_eq!(
        opts("sid:1;").effective_priority(&Classifications::suricata_default()),
        3
    );
}

#[test]
fn meta_errors() {
    for (o, field, msg) in [
        ("sid:0;", "sid", "invalid value '0'"),
        ("sid:4294967296;", "sid", "invalid value '4294967296'"),
        ("sid:-1;", "sid", "invalid value '-1'"),
        ("sid:\"1\";", "sid", "value must not be quoted: '\"1\"'"),
        ("sid:1; sid:2;", "sid", "duplicated 'sid' keyword"),
        ("sid:1; rev:x;", "rev", "invalid value 'x'"),
        ("sid:1; rev:1; rev:2;", "rev", "duplicated 'rev' keyword"),
        ("sid:1; rev:0;", "rev", "invalid value '0'"),
        ("sid:1; gid:1.5;", "gid", "invalid value '1.5'"),
        (
            "msg:unquoted; sid:1;",
            "msg",
            "value must be double quoted: 'unquoted'",
        ),
        (
            "msg:\"a\"; msg:\"b\"; sid:1;",
            "msg",
            "duplicated 'msg' keyword",
        ),
        (
            "classtype:bad name; sid:1;",
            "classtype",
            "invalid value 'bad name', expected [a-zA-Z0-9_-]",
        ),
        (
            "reference:nocomma; sid:1;",
            "reference",
            "invalid value 'nocomma', expected 'system,id'",
        ),
        (
            "reference:a-b,c; sid:1;",
            "reference",
            "invalid value 'a-b,c', expected 'system,id'",
        ),
        (
            "target:any; sid:1;",
            "target",
            "invalid value 'any', expected src_ip or dest_ip",
        ),
        ("priority:high; sid:1;", "priority", "invalid value 'high'"),
    ] {
        let e = err(&format!("{H} ({o})"));
        assert_eq!(
            (e.field.as_deref(), e.message.as_str()),
            (Some(field), msg),
            "{o}"
        );
        assert_eq!(e.kind, ErrorKind::Option);
    }
    let e = err(&format!("{H} (msg:\"no sid\";)"));
    assert_eq!(
        e.to_string(),
        "rule: 1: sid: rule has no sid".replacen(": 1", ":1", 1)
    );
    assert_eq!(
        (e.kind, e.reason()),
        (ErrorKind::Missing, "missing sid".to_string())
    );
}

#[test]
fn keyword_lookup_is_case_insensitive_and_knows_aliases() {
    let r = opts("Content:\"a\"; NOCASE; flags:S; file_data; content:\"b\"; sid:1;");
    assert_eq!(r.options[0].canonical_name(), "content");
    assert_eq!(r.options[2].canonical_name(), "tcp.flags");
    assert_eq!(r.options[3].canonical_name(), "file.data");
    assert_eq!(r.option("tcp.flags").unwrap().value.as_deref(), Some("S"));
    assert_eq!(r.option("FLAGS").unwrap().name, "flags");
    assert!(r.option("pcre").is_none());
}

#[test]
fn parens_and_blanks_around_options_as_suricata() {
    let r = ok("alert tcp any any -> any any (  msg:\"x)\" ; sid:1;  )  ");
    assert_eq!(r.msg.as_deref(), Some("x)"));
    // Suricata strips parentheses, it does not require them.
    assert_eq!(ok("alert tcp any any -> any any sid:1;").sid, 1);
}

#[test]
fn resolve_names_field_and_position() {
    let r = ok("alert tcp $HOME_NET any -> $NOPE any (sid:1;)");
    let e = r.resolve(&Vars::suricata_defaults()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule:1:28: dst: undefined address variable $NOPE"
    );
    assert_eq!(e.reason(), "unresolvable dst");
    let r = ok("alert tcp any any -> any !any (sid:1;)");
    let e = r.resolve(&Vars::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule:1:26: dst_port: the complete port space is negated"
    );
    let r = ok("alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (sid:1;)");
    let h = r.resolve(&Vars::suricata_defaults()).unwrap();
    assert!(h.src_ports.is_any() && h.dst_ports.contains(80) && !h.dst_ports.contains(81));
}

#[test]
fn errors_in_files_name_file_line_and_field() {
    let text = "alert tcp any any -> any any (sid:1;)\n\nalert tcp any any -> any any (msg:\"x\"; sid:x;)\n";
    let got = parse_rules("rules.rules", text);
    assert!(got[0].is_ok());
    let e = got[1].as_ref().unwrap_err();
    assert_eq!(e.to_string(), "rules.rules:3:40: sid: invalid value 'x'");
    assert_eq!(e.line, 3);
}

#[test]
fn unicode_and_control_bytes_do_not_break_positions() {
    let r = opts("msg:\"héllo ☃\"; sid:9;");
    assert_eq!(r.msg.as_deref(), Some("héllo ☃"));
    let e = err(&format!("{H} (msg:\"é\"; sid:é;)"));
    assert_eq!(e.column, Some(40));
}
