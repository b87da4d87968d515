use super::*;
use crate::payload::Vars as PVars;

fn nopcre(_: &str) -> Result<Arc<dyn RegexStep>, Skip> {
    Err(Skip::Unsupported("pcre".into()))
}

fn build(text: &str) -> Result<Signature, Skip> {
    let rule = Arc::new(Rule::parse(text).expect("parses"));
    let mut names = Names::default();
    let classes = Classifications::suricata_default();
    let mut ctx = CompileCtx {
        names: &mut names,
        classes: &classes,
        pcre: &nopcre,
        files: None,
    };
    compile(rule, &mut ctx)
}

#[test]
fn a_full_packet_rule_compiles_with_meta_and_fast_pattern() {
    let s = build(
        r#"alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"ET TEST evil"; flow:established,to_server; content:"GET"; depth:3; content:"/evil.php"; distance:0; fast_pattern; flags:AP; threshold:type limit, track by_src, count 1, seconds 60; classtype:trojan-activity; metadata:created_at 2020_01_01, tag a, tag b; sid:2000001; rev:4;)"#,
    )
    .unwrap();
    assert_eq!((s.gid, s.sid, s.rev), (1, 2_000_001, 4));
    assert_eq!(s.msg, "ET TEST evil");
    assert_eq!(s.category.as_deref(), Some("A Network Trojan was detected"));
    assert_eq!(s.severity, 1);
    assert_eq!(
        s.metadata[1],
        ("tag".to_string(), vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(s.proto, Proto::Tcp);
    // `flags` needs the packet: Suricata makes the rule packet-only.
    assert_eq!(s.inspect, Inspect::Packet);
    assert_eq!(s.fast_pattern, Some((b"/evil.php".to_vec(), false)));
    assert_eq!(s.header.len(), 2);
    assert!(s.threshold.is_some());
    let mut v = PVars::new();
    assert!(s.payload.inspect(b"GET /evil.php HTTP/1.1", &mut v));
    assert!(!s.payload.inspect(b"POST /evil.php HTTP/1.1", &mut v));
}

#[test]
fn longest_content_is_the_fast_pattern_by_default_and_negations_never_are() {
    let s = build(r#"alert udp any any -> any 53 (content:"ab"; content:!"abcdefgh"; content:"abcd"; sid:1;)"#).unwrap();
    assert_eq!(s.fast_pattern, Some((b"abcd".to_vec(), false)));
    assert_eq!(s.inspect, Inspect::Packet);
    let s = build(
        r#"alert tcp any any -> any any (content:"abcdef"; fast_pattern:2,3; nocase; sid:1;)"#,
    )
    .unwrap();
    assert_eq!(s.fast_pattern, Some((b"cde".to_vec(), true)));
}

#[test]
fn stream_and_packet_inspection_follow_protocol_and_flow() {
    let i = |r: &str| build(r).unwrap().inspect;
    assert_eq!(
        i(r#"alert tcp-pkt any any -> any any (content:"x"; sid:1;)"#),
        Inspect::Packet
    );
    assert_eq!(
        i(r#"alert tcp-stream any any -> any any (content:"x"; sid:1;)"#),
        Inspect::Stream
    );
    assert_eq!(
        i(r#"alert tcp any any -> any any (flow:only_stream; content:"x"; sid:1;)"#),
        Inspect::Stream
    );
    assert_eq!(
        i(r#"alert tcp any any -> any any (flow:no_stream; content:"x"; sid:1;)"#),
        Inspect::Packet
    );
    assert_eq!(
        i(r#"alert tcp any any -> any any (flags:S; sid:1;)"#),
        Inspect::Packet
    );
}

#[test]
fn anchored_contents_and_stream_size_inspect_packet_and_stream() {
    let i = |r: &str| build(r).unwrap().inspect;
    for anchored in [
        r#"alert tcp any any -> any any (content:"x"; depth:4; sid:1;)"#,
        r#"alert tcp any any -> any any (content:"x"; offset:2; sid:1;)"#,
        r#"alert tcp any any -> any any (content:"x"; startswith; sid:1;)"#,
        r#"alert tcp any any -> any any (content:"a"; content:"x"; depth:9; sid:1;)"#,
        r#"alert tcp any any -> any any (stream_size:server,<,5; content:"x"; sid:1;)"#,
    ] {
        assert_eq!(i(anchored), Inspect::Both, "{anchored}");
    }
    // Relative modifiers do not anchor; packet keywords make it packet-only;
    // an explicit flow option wins.
    assert_eq!(
        i(
            r#"alert tcp any any -> any any (content:"a"; content:"x"; distance:0; within:3; sid:1;)"#
        ),
        Inspect::Either
    );
    for packet in [
        r#"alert tcp any any -> any any (dsize:>3; content:"x"; depth:4; sid:1;)"#,
        r#"alert tcp any any -> any any (ttl:64; content:"x"; sid:1;)"#,
        r#"alert tcp any any -> any any (flags:PA; content:"x"; sid:1;)"#,
        r#"alert tcp any any -> any any (flow:no_stream; content:"x"; depth:4; sid:1;)"#,
    ] {
        assert_eq!(i(packet), Inspect::Packet, "{packet}");
    }
    assert_eq!(
        i(r#"alert tcp any any -> any any (flow:only_stream; content:"x"; depth:4; sid:1;)"#),
        Inspect::Stream
    );
    assert_eq!(
        i(r#"alert udp any any -> any any (content:"x"; depth:4; sid:1;)"#),
        Inspect::Packet
    );
}

#[test]
fn skip_reasons_name_the_first_unsupported_keyword() {
    let reason = |r: &str| build(r).unwrap_err().reason();
    assert_eq!(
        reason(r#"alert smtp any any -> any any (content:"x"; sid:1;)"#),
        "protocol smtp"
    );
    assert_eq!(
        reason(r#"alert tcp any any -> any any (http.uri; to_md5; content:"x"; sid:1;)"#),
        "to_md5"
    );
    assert_eq!(
        reason(r#"alert tcp any any -> any any (content:"x"; pcre:"/x/"; sid:1;)"#),
        "pcre"
    );
    assert_eq!(
        reason(r#"pass tcp any any -> any any (sid:1;)"#),
        "action pass"
    );
    assert_eq!(
        reason(r#"alert tcp any any -> any any (content:"x"; depth:0; sid:1;)"#),
        "invalid depth"
    );
    assert_eq!(
        reason(r#"alert tcp any any -> any any (flow:sideways; sid:1;)"#),
        "invalid flow"
    );
}

#[test]
fn state_keywords_and_events() {
    let s = build(r#"alert tcp any any -> any any (flowbits:set,a; flowbits:noalert; flowint:n,+,1; xbits:set,x,track ip_src; stream-event:reassembly_seq_gap; decode-event:ipv4.trunc_pkt; sid:1;)"#).unwrap();
    assert!(s.noalert);
    assert_eq!(s.flowbits.len(), 1);
    assert_eq!(s.flowints.len(), 1);
    assert_eq!(s.xbits.len(), 1);
    assert_eq!(s.stream_events, ["stream.reassembly_seq_gap"]);
    assert_eq!(s.decode_events, ["decoder.ipv4.trunc_pkt"]);
}

#[test]
fn headers_resolve_per_tenant_vars() {
    let s = build(r#"alert tcp $HOME_NET any -> any 80 (sid:1;)"#).unwrap();
    let def = Resolved::new(&s, &Vars::suricata_defaults()).unwrap();
    let ip = |x: &str| x.parse::<IpAddr>().unwrap();
    assert!(def.admits(ip("10.1.1.1"), 5, ip("8.8.8.8"), 80));
    assert!(!def.admits(ip("10.1.1.1"), 5, ip("8.8.8.8"), 81));
    let mut over = Vars::new();
    over.set_address("HOME_NET", "[172.31.0.0/16]").unwrap();
    let t = Resolved::new(&s, &Vars::with_overrides(&Vars::suricata_defaults(), &over)).unwrap();
    assert!(!t.admits(ip("10.1.1.1"), 5, ip("8.8.8.8"), 80));
    assert!(t.admits(ip("172.31.9.9"), 5, ip("8.8.8.8"), 80));
}

#[test]
fn base64_rules_compile_and_match() {
    let s = build(
        r#"alert tcp any any -> any any (msg:"b64"; content:"Authorization: Basic "; base64_decode:relative; base64_data; content:"admin"; sid:1;)"#,
    )
    .unwrap();
    assert_eq!(s.inspect, Inspect::Either);
    // The decoded bytes cannot feed the prefilter: the payload content does.
    assert_eq!(
        s.fast_pattern,
        Some((b"Authorization: Basic ".to_vec(), false))
    );
    let mut v = PVars::new();
    assert!(s.payload.inspect(
        b"GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46cw==\r\n",
        &mut v
    ));
    assert!(!s.payload.inspect(
        b"GET / HTTP/1.1\r\nAuthorization: Basic cm9vdDpz\r\n",
        &mut v
    ));
    // Only content after base64_data: no fast pattern, every packet is a
    // candidate.
    let s =
        build(r#"alert udp any any -> any any (base64_decode; base64_data; content:"x"; sid:2;)"#)
            .unwrap();
    assert_eq!(s.fast_pattern, None);
    assert_eq!(s.inspect, Inspect::Packet);
}

#[test]
fn base64_option_errors_skip_the_rule() {
    for (rule, reason) in [
        (
            r#"alert tcp any any -> any any (base64_decode:bytes 70000; base64_data; content:"a"; sid:1;)"#,
            "invalid base64_decode",
        ),
        (
            r#"alert tcp any any -> any any (base64_decode:offset x; base64_data; content:"a"; sid:1;)"#,
            "invalid base64_decode",
        ),
        (
            r#"alert tcp any any -> any any (base64_data; content:"a"; sid:1;)"#,
            "invalid base64_data",
        ),
        (
            r#"alert tcp any any -> any any (base64_decode; base64_data; content:"a"; fast_pattern; sid:1;)"#,
            "invalid fast_pattern",
        ),
    ] {
        let e = build(rule).expect_err(rule);
        assert_eq!(e.reason(), reason, "{rule}: {e}");
    }
}

#[test]
fn sticky_buffers_modifiers_and_transforms_make_lists() {
    use crate::buffer::{AppProto, Buffer, TxDir};
    // Sticky buffers, a legacy modifier, pkt_data, dotprefix, bsize.
    let s = build(
        r#"alert http any any -> any any (flow:established,to_server; http.method; content:"POST"; http.uri; content:"/a"; bsize:<10; pkt_data; content:"x"; nocase; http_host; content:"raw"; pkt_data; content:"pp"; sid:1;)"#,
    )
    .unwrap();
    let tx = s.tx.as_ref().expect("a transaction rule");
    assert_eq!(tx.app, AppProto::Http);
    assert_eq!(tx.dirs, [true, false]);
    let bufs: Vec<Buffer> = tx.lists.iter().map(|l| l.buffer).collect();
    assert_eq!(
        bufs,
        [Buffer::HttpMethod, Buffer::HttpUri, Buffer::HttpHost]
    );
    assert_eq!(tx.lists[1].sizes.len(), 1);
    // `content:"x"; nocase; http_host;` moved "x" (nocase) to http.host;
    // "raw" and "pp" stay on the payload.
    let host = &tx.lists[2].program;
    assert!(host.inspect(b"X", &mut Default::default()));
    assert!(s.payload.inspect(b"raw pp", &mut Default::default()));
    assert!(!s.payload.inspect(b"raw", &mut Default::default()));
    // The fast pattern is the longest buffer content: "POST".
    assert_eq!(
        tx.fast.as_ref().map(|f| (f.0, f.1.clone())),
        Some((0, b"POST".to_vec()))
    );
    assert_eq!(s.app, Some((AppProto::Http, false)));

    let d = build(r#"alert dns any any -> any any (dns.query; dotprefix; content:".evil.com"; endswith; sid:2;)"#).unwrap();
    let tx = d.tx.as_ref().unwrap();
    assert!(!tx.lists[0].transforms.is_empty());
    assert_eq!(tx.lists[0].slot(TxDir::ToServer).side, TxDir::ToServer);
    assert_eq!(d.proto, Proto::TcpUdp);

    // A response buffer decides the direction; a two-sided buffer follows.
    let r = build(r#"alert http any any -> any any (http.stat_code; content:"200"; http.header; content:"Server"; sid:3;)"#).unwrap();
    let tx = r.tx.as_ref().unwrap();
    assert_eq!(tx.dirs, [false, true]);
    assert_eq!(tx.lists[1].side, Some(TxDir::ToClient));
    // Without any direction, a two-sided buffer is inspected both ways.
    let b = build(r#"alert http any any -> any any (http.header; content:"X-A"; sid:4;)"#).unwrap();
    assert_eq!(b.tx.as_ref().unwrap().dirs, [true, true]);
    assert_eq!(b.tx.as_ref().unwrap().lists[0].side, None);

    // pcre with /U lands in http.uri; an explicit fast_pattern wins.
    let p = build(r#"alert tcp any any -> any any (content:"ab"; http_uri; content:"x"; fast_pattern; http_header; sid:5;)"#).unwrap();
    let tx = p.tx.as_ref().unwrap();
    assert_eq!(tx.fast.as_ref().map(|f| f.0), Some(1));
    assert_eq!(tx.app, AppProto::Http);

    let reason = |r: &str| build(r).unwrap_err().reason();
    assert_eq!(
        reason(
            r#"alert http any any -> any any (flow:to_server; http.stat_code; content:"200"; sid:6;)"#
        ),
        "invalid http.stat_code"
    );
    assert_eq!(
        reason(r#"alert http any any -> any any (http.uri; content:"a"; dotprefix; sid:7;)"#),
        "invalid dotprefix"
    );
    assert_eq!(
        reason(r#"alert http any any -> any any (http.uri; content:"a"; http_uri; sid:8;)"#),
        "invalid http_uri"
    );
    assert_eq!(
        reason(r#"alert tcp any any -> any any (bsize:3; sid:9;)"#),
        "invalid bsize"
    );
    assert_eq!(
        reason(r#"alert tls any any -> any any (dns.query; content:"a"; sid:10;)"#),
        "invalid dns.query"
    );
    assert_eq!(
        reason(r#"alert http any any -> any any (http.uri; sid:11;)"#),
        "invalid http.uri"
    );
    // Rules without buffers keep their protocol as a flow condition.
    let plain = build(r#"alert http any any -> any any (content:"GET"; sid:12;)"#).unwrap();
    assert!(plain.tx.is_none());
    assert_eq!(plain.app, Some((AppProto::Http, false)));
    assert_eq!(plain.proto, Proto::Tcp);
}

#[test]
fn file_hash_lists_load_through_the_callers_loader() {
    let with = |text: &str, files: &FileLoader<'_>| {
        let rule = Arc::new(Rule::parse(text).expect("parses"));
        let mut names = Names::default();
        let classes = Classifications::suricata_default();
        let mut ctx = CompileCtx {
            names: &mut names,
            classes: &classes,
            pcre: &nopcre,
            files: Some(files),
        };
        compile(rule, &mut ctx)
    };
    let lists = |name: &str| match name {
        "good" => Ok(format!(
            "# c\n\n{}  a.exe\n{}\n",
            "0123456789abcdef0123456789ABCDEF",
            "f".repeat(32)
        )),
        "short" => Ok("abcd\n".to_string()),
        _ => Err("not found".to_string()),
    };
    let s = with(
        r#"alert http any any -> any any (filemd5:good; sid:1;)"#,
        &lists,
    )
    .unwrap();
    let tx = s.tx.as_ref().unwrap();
    assert_eq!(tx.app, AppProto::Http);
    let h = &tx.file_hashes[0];
    assert_eq!(h.list.len(), 2);
    let d: Vec<u8> = (0..16)
        .map(|i| [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef][i % 8])
        .collect();
    assert!(h.matches(&d));
    assert!(!h.matches(&[0u8; 16]));
    let n = with(
        r#"alert http any any -> any any (filemd5:!good; sid:1;)"#,
        &lists,
    )
    .unwrap();
    assert!(n.tx.as_ref().unwrap().file_hashes[0].matches(&[0u8; 16]));
    let reason = |r: &str| with(r, &lists).unwrap_err().reason();
    assert_eq!(
        reason(r#"alert http any any -> any any (filemd5:short; sid:1;)"#),
        "invalid filemd5"
    );
    assert_eq!(
        reason(r#"alert http any any -> any any (filesha1:good; sid:1;)"#),
        "invalid filesha1"
    );
    assert_eq!(
        reason(r#"alert http any any -> any any (filesha256:missing; sid:1;)"#),
        "invalid filesha256"
    );
    // Without a loader (a pure caller), the rule is skipped.
    assert_eq!(
        build(r#"alert http any any -> any any (filemd5:good; sid:1;)"#)
            .unwrap_err()
            .reason(),
        "filemd5"
    );
}
