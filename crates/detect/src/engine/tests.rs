use super::*;
use crate::payload::RegexStep;
use crate::signature::{CompileCtx, compile};
use mirador_rules::{Classifications, Rule};
use proptest::prelude::*;
use std::sync::Arc;

fn nopcre(_: &str) -> Result<Arc<dyn RegexStep>, Skip> {
    Err(Skip::Unsupported("pcre".into()))
}

fn engine(rules: &[&str], tenants: &[(&str, &str)]) -> Engine {
    let mut names = Names::default();
    let classes = Classifications::suricata_default();
    let mut sigs = Vec::new();
    for r in rules {
        let rule = Arc::new(Rule::parse(r).expect("parses"));
        let mut ctx = CompileCtx {
            names: &mut names,
            classes: &classes,
            pcre: &nopcre,
            files: None,
        };
        sigs.push(compile(rule, &mut ctx).unwrap_or_else(|e| panic!("{r}: {e}")));
    }
    let defaults = Vars::suricata_defaults();
    let tv: Vec<(String, Vars)> = tenants
        .iter()
        .map(|(t, home)| {
            let mut o = Vars::new();
            o.set_address("HOME_NET", home).unwrap();
            (t.to_string(), Vars::with_overrides(&defaults, &o))
        })
        .collect();
    Engine::build(sigs, names, &defaults, &tv)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp_input<'a>(src: &str, sp: u16, dst: &str, dp: u16, data: &'a [u8]) -> Input<'a> {
    Input {
        var_set: 0,
        view: PacketView {
            ip_proto: 6,
            ttl: 64,
            tcp_flags: Some(0x18),
            has_flow: true,
            established: true,
            to_server: true,
            ..PacketView::default()
        },
        src: ip(src),
        sport: sp,
        dst: ip(dst),
        dport: dp,
        data,
        events: &[],
        reassembled: false,
        first_in_direction: true,
        skip: &[],
        app: None,
        proto_detect: false,
        no_payload: false,
    }
}

fn sids(e: &Engine, input: &Input<'_>, stream: bool, flow: &FlowVars) -> Vec<u32> {
    let mut out = Vec::new();
    let mut s = Scratch::default();
    e.matches(input, stream, flow, &mut s, &mut out);
    out.iter()
        .map(|m| e.signatures()[m.sig as usize].sid)
        .collect()
}

const RULES: &[&str] = &[
    r#"alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (content:"GET /evil"; sid:1;)"#,
    r#"alert tcp any any -> any 443 (content:"GET /evil"; sid:2;)"#,
    r#"alert tcp any any -> any any (content:"evil"; nocase; sid:3;)"#,
    r#"alert tcp any any <> any 8080 (content:"evil"; sid:4;)"#,
    r#"alert ip any any -> any any (ttl:64; sid:5;)"#,
    r#"alert udp any any -> any 53 (content:"evil"; sid:6;)"#,
    r#"alert tcp any any -> any [80,8000:8100] (flow:established,to_server; content:"GET"; depth:3; sid:7;)"#,
];

#[test]
fn grouping_and_prefilter_find_exactly_the_matching_rules() {
    let e = engine(RULES, &[]);
    let f = FlowVars::default();
    let http = tcp_input("198.51.100.1", 40000, "10.0.0.1", 80, b"GET /evil HTTP/1.1");
    assert_eq!(sids(&e, &http, false, &f), vec![1, 3, 5, 7]);
    let tls = tcp_input(
        "198.51.100.1",
        40000,
        "10.0.0.1",
        443,
        b"GET /evil HTTP/1.1",
    );
    assert_eq!(sids(&e, &tls, false, &f), vec![2, 3, 5]);
    // `<>`: the reply from port 8080 matches too.
    let rev = tcp_input("10.0.0.1", 8080, "198.51.100.1", 40000, b"evil");
    assert_eq!(sids(&e, &rev, false, &f), vec![3, 4, 5]);
    let alt = tcp_input("198.51.100.1", 40000, "10.0.0.1", 8050, b"GET x");
    assert_eq!(sids(&e, &alt, false, &f), vec![5, 7]);
    assert!(e.stats().groups > 1);
}

#[test]
fn tenant_variables_change_what_matches() {
    let e = engine(RULES, &[("prod", "[172.31.0.0/16]")]);
    let f = FlowVars::default();
    let mut to_10 = tcp_input("198.51.100.1", 40000, "10.0.0.1", 80, b"GET /evil");
    assert!(sids(&e, &to_10, false, &f).contains(&1));
    to_10.var_set = e.var_set("prod");
    assert_eq!(to_10.var_set, 1);
    assert!(
        !sids(&e, &to_10, false, &f).contains(&1),
        "10/8 is not prod's HOME_NET"
    );
    let mut to_172 = tcp_input("198.51.100.1", 40000, "172.31.0.9", 80, b"GET /evil");
    to_172.var_set = 1;
    assert!(sids(&e, &to_172, false, &f).contains(&1));
    assert_eq!(e.var_set("unknown-tenant"), 0);
}

#[test]
fn either_rules_run_on_the_stream_of_reassembled_flows_only() {
    let e = engine(
        &[r#"alert tcp any any -> any any (content:"abc"; sid:9;)"#],
        &[],
    );
    let f = FlowVars::default();
    let mut p = tcp_input("1.1.1.1", 1, "2.2.2.2", 2, b"xxabcxx");
    assert_eq!(sids(&e, &p, false, &f), vec![9]);
    p.reassembled = true;
    assert!(sids(&e, &p, false, &f).is_empty());
    assert_eq!(sids(&e, &p, true, &f), vec![9]);
}

#[test]
fn anchored_rules_run_on_packets_of_reassembled_flows_too() {
    // Suricata: a `depth`/`offset` content or `stream_size` adds
    // SIG_FLAG_REQUIRE_PACKET to a stream rule; `dsize` (a packet keyword)
    // makes the rule packet-only.
    let e = engine(
        &[
            r#"alert tcp any any -> any any (content:"GET "; depth:4; sid:1;)"#,
            r#"alert tcp any any -> any any (content:"GET "; sid:2;)"#,
            r#"alert tcp any any -> any any (dsize:>4; content:"GET "; sid:3;)"#,
            r#"alert tcp any any -> any any (stream_size:client,<,100; content:"GET "; sid:4;)"#,
        ],
        &[],
    );
    let f = FlowVars::default();
    let mut p = tcp_input("1.1.1.1", 1, "2.2.2.2", 2, b"GET / HTTP/1.1");
    p.reassembled = true;
    p.view.stream_size = Some((14, 0));
    assert_eq!(sids(&e, &p, false, &f), vec![1, 3, 4]);
    assert_eq!(sids(&e, &p, true, &f), vec![1, 2, 4]);
}

#[test]
fn flowbits_gate_and_actions_apply() {
    let e = engine(
        &[
            r#"alert tcp any any -> any any (content:"login"; flowbits:set,auth; flowbits:noalert; sid:10;)"#,
            r#"alert tcp any any -> any any (content:"secret"; flowbits:isset,auth; sid:11;)"#,
        ],
        &[],
    );
    let mut f = FlowVars::default();
    let secret = tcp_input("1.1.1.1", 1, "2.2.2.2", 2, b"secret");
    assert!(sids(&e, &secret, false, &f).is_empty());
    let login = tcp_input("1.1.1.1", 1, "2.2.2.2", 2, b"login");
    let mut out = Vec::new();
    e.matches(&login, false, &f, &mut Scratch::default(), &mut out);
    assert_eq!(out.len(), 1);
    assert!(e.signatures()[out[0].sig as usize].noalert);
    e.apply_actions(out[0], &mut f);
    assert_eq!(sids(&e, &secret, false, &f), vec![11]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the rules' ports, contents and the packet: the grouped,
    /// prefiltered matching returns exactly what checking every rule
    /// would.
    #[test]
    fn grouping_equals_checking_every_rule(
        ports in proptest::collection::vec((0u16..100, 0u16..20, any::<bool>()), 1..20),
        words in proptest::collection::vec(proptest::sample::select(vec!["ab", "bc", "abc", "zz", "AB"]), 1..20),
        nocase in proptest::collection::vec(any::<bool>(), 1..20),
        dport in 0u16..130,
        data in proptest::collection::vec(proptest::sample::select(b"abcz".to_vec()), 0..12),
    ) {
        let n = ports.len().min(words.len()).min(nocase.len());
        let rules: Vec<String> = (0..n)
            .map(|i| {
                let (lo, span, any) = ports[i];
                let p = if any { "any".to_string() } else { format!("{}:{}", lo, lo + span) };
                let nc = if nocase[i] { " nocase;" } else { "" };
                format!(r#"alert tcp any any -> any {p} (content:"{}";{nc} sid:{};)"#, words[i], i + 1)
            })
            .collect();
        let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
        let e = engine(&refs, &[]);
        let f = FlowVars::default();
        let input = tcp_input("1.1.1.1", 1, "2.2.2.2", dport, &data);
        let got = sids(&e, &input, false, &f);
        let mut want = Vec::new();
        let mut pv = PayloadVars::new();
        for (i, s) in e.signatures().iter().enumerate() {
            let r = Resolved::new(s, &Vars::suricata_defaults()).unwrap();
            if r.admits(input.src, input.sport, input.dst, input.dport) && s.payload.inspect(&data, &mut pv) {
                want.push((i + 1) as u32);
            }
        }
        prop_assert_eq!(got, want);
    }
}

#[test]
fn ip_only_rules_are_inspected_on_the_first_packet_of_each_direction_only() {
    let e = engine(
        &[
            // IP-only: addresses and ports only.
            r#"alert ip [198.51.100.0/24,203.0.113.7] any -> $HOME_NET any (msg:"list"; sid:20;)"#,
            r#"alert tcp any any <> 203.0.113.7 22 (flowbits:set,seen; sid:21;)"#,
            // Like IP-only (a negation through $EXTERNAL_NET): every packet.
            r#"alert ip $EXTERNAL_NET any -> $HOME_NET any (sid:22;)"#,
            // Not IP-only: a header keyword, a flowbits condition.
            r#"alert ip 198.51.100.0/24 any -> any any (ttl:64; sid:23;)"#,
            r#"alert ip 198.51.100.0/24 any -> any any (flowbits:isset,seen; sid:24;)"#,
        ],
        &[],
    );
    assert_eq!(e.stats().ip_only, 2);
    let f = FlowVars::default();
    let mut p = tcp_input("198.51.100.1", 40000, "10.0.0.1", 80, b"");
    assert_eq!(sids(&e, &p, false, &f), vec![20, 22, 23]);
    p.first_in_direction = false;
    assert_eq!(sids(&e, &p, false, &f), vec![22, 23]);
    // Never on the stream.
    p.first_in_direction = true;
    assert!(!sids(&e, &p, true, &f).contains(&20));
    // `<>` with ports: the server's reply matches, other ports do not.
    let reply = tcp_input("203.0.113.7", 22, "192.0.2.1", 50000, b"x");
    assert_eq!(sids(&e, &reply, false, &f), vec![21]);
    let other = tcp_input("203.0.113.7", 23, "192.0.2.1", 50000, b"x");
    assert!(sids(&e, &other, false, &f).is_empty());
    let mut set = FlowVars::default();
    assert!(e.apply_actions(Match { sig: 1 }, &mut set));
    // Suricata's order: a flowbits reader before a rule without flowbits.
    assert_eq!(
        sids(
            &e,
            &tcp_input("198.51.100.1", 1, "192.0.2.1", 2, b""),
            false,
            &set
        ),
        vec![24, 23]
    );
}

#[test]
fn rules_run_in_suricatas_order_and_see_flowbits_set_on_the_same_packet() {
    // After SCSigOrderingTest02 (without the `pass`, flowvar and pktvar
    // rules this engine does not load): drop before alert; flowbits
    // setters, then setter-readers, then readers, then the rest; then
    // priority; then sid.
    let e = engine(
        &[
            r#"alert tcp any any -> any any (content:"220"; sid:1;)"#,
            r#"drop tcp any any -> any any (content:"220"; sid:2;)"#,
            r#"drop tcp any any -> any any (content:"220"; priority:3; flowbits:set,one; flowbits:noalert; sid:9;)"#,
            r#"drop tcp any any -> any any (content:"220"; priority:2; flowbits:isnotset,two; sid:13;)"#,
            r#"alert tcp any any -> any any (content:"220"; priority:2; flowbits:set,two; sid:14;)"#,
            r#"alert tcp any any -> any any (content:"220"; priority:1; sid:5;)"#,
            r#"alert tcp any any -> any any (content:"220"; sid:11;)"#,
            // Reads `one`, set by sid 9 on this very packet.
            r#"alert tcp any any -> any any (content:"220"; flowbits:isset,one; sid:3;)"#,
            r#"reject tcp any any -> any any (content:"220"; sid:4;)"#,
        ],
        &[],
    );
    let f = FlowVars::default();
    let p = tcp_input("1.1.1.1", 1, "2.2.2.2", 21, b"220 ready");
    assert_eq!(sids(&e, &p, false, &f), vec![9, 13, 2, 4, 14, 3, 5, 1, 11]);
}

mod tx_rules {
    use super::*;
    use crate::buffer::{Buffer, Ready, TxBuffers, TxDir};

    /// A transaction whose buffers are given by name, each final or not.
    #[derive(Default)]
    struct Tx {
        bufs: Vec<(Buffer, TxDir, Vec<&'static [u8]>)>,
        not_yet: Vec<Buffer>,
    }

    impl TxBuffers for Tx {
        fn get(&self, b: Buffer, side: TxDir, i: usize) -> Option<&[u8]> {
            self.bufs
                .iter()
                .find(|(x, s, _)| *x == b && *s == side)
                .and_then(|(_, _, v)| v.get(i).copied())
        }
        fn ready(&self, b: Buffer, _: TxDir) -> Ready {
            if self.not_yet.contains(&b) {
                Ready::NotYet
            } else {
                Ready::Final
            }
        }
    }

    fn input(dir: TxDir, app: AppProto) -> TxInput<'static> {
        let (src, dst, sp, dp) = match dir {
            TxDir::ToServer => ("10.0.0.1", "203.0.113.9", 40000, 80),
            TxDir::ToClient => ("203.0.113.9", "10.0.0.1", 80, 40000),
        };
        TxInput {
            var_set: 0,
            app,
            dir,
            view: PacketView {
                ip_proto: 6,
                has_flow: true,
                established: true,
                to_server: dir == TxDir::ToServer,
                ..PacketView::default()
            },
            src: ip(src),
            sport: sp,
            dst: ip(dst),
            dport: dp,
            data: b"",
        }
    }

    fn run(e: &Engine, i: &TxInput<'_>, tx: &Tx, st: &mut TxState, flow: &FlowVars) -> Vec<u32> {
        let mut out = Vec::new();
        e.inspect_tx(i, tx, st, flow, &mut Scratch::default(), &mut out);
        out.iter()
            .map(|m| e.signatures()[m.sig as usize].sid)
            .collect()
    }

    const RULES: &[&str] = &[
        r#"alert http $HOME_NET any -> $EXTERNAL_NET any (flow:established,to_server; http.method; content:"POST"; http.uri; content:"/gate.php"; endswith; sid:1;)"#,
        r#"alert http any any -> any any (flow:to_server; http.user_agent; content:"evilbot"; nocase; sid:2;)"#,
        r#"alert http any any -> any any (flow:to_server; http.host; bsize:11; sid:3;)"#,
        r#"alert http any any -> any any (flow:to_client; http.stat_code; content:"404"; http.uri; content:"/gate"; sid:4;)"#,
        r#"alert dns any any -> any any (dns.query; dotprefix; content:".evil.example"; endswith; sid:5;)"#,
        r#"alert http any any -> any any (flow:to_server; http.uri; content:"/gate"; flowbits:set,seen; flowbits:noalert; sid:6;)"#,
        r#"alert http any any -> any any (flow:to_server; http.method; content:"POST"; flowbits:isset,seen; sid:7;)"#,
        r#"alert http any any -> any any (flow:to_server; http.request_body; content:"secret"; sid:8;)"#,
        r#"alert tcp any any -> any any (content:"POST"; http_method; content:"gate"; http_uri; sid:9;)"#,
    ];

    fn post() -> Tx {
        Tx {
            bufs: vec![
                (Buffer::HttpMethod, TxDir::ToServer, vec![b"POST"]),
                (Buffer::HttpUri, TxDir::ToServer, vec![b"/x/gate.php"]),
                (
                    Buffer::HttpUserAgent,
                    TxDir::ToServer,
                    vec![b"Mozilla EvilBot/1"],
                ),
                (Buffer::HttpHost, TxDir::ToServer, vec![b"example.com"]),
                (Buffer::HttpRequestBody, TxDir::ToServer, vec![b"a secret"]),
                (Buffer::HttpStatCode, TxDir::ToClient, vec![b"404"]),
            ],
            not_yet: vec![Buffer::HttpRequestBody, Buffer::HttpStatCode],
        }
    }

    #[test]
    fn inspected_once_each_when_their_buffers_are_final() {
        let e = engine(RULES, &[]);
        let mut tx = post();
        let mut ts = TxState::default();
        let flow = FlowVars::default();
        // Headers done, body not yet: 6 sets "seen" silently and 7 sees it.
        let i = input(TxDir::ToServer, AppProto::Http);
        // Suricata's order: the flowbits setter, then its reader, then the rest.
        assert_eq!(run(&e, &i, &tx, &mut ts, &flow), vec![6, 7, 1, 2, 3, 9]);
        // Again with nothing new: nothing twice.
        assert_eq!(run(&e, &i, &tx, &mut ts, &flow), Vec::<u32>::new());
        // The body completes.
        tx.not_yet.retain(|b| *b != Buffer::HttpRequestBody);
        assert_eq!(run(&e, &i, &tx, &mut ts, &flow), vec![8]);
        assert!(!ts.has_pending());
        // The response: the mixed rule reads the request's URI (its fast
        // pattern) and waits for the status code.
        let mut tc = TxState::default();
        let r = input(TxDir::ToClient, AppProto::Http);
        assert_eq!(run(&e, &r, &tx, &mut tc, &flow), Vec::<u32>::new());
        assert!(tc.has_pending(), "rule 4 waits for the status");
        tx.not_yet.clear();
        assert_eq!(run(&e, &r, &tx, &mut tc, &flow), vec![4]);
        assert!(!tc.has_pending());
        // Another protocol's transaction sees none of these.
        let mut other = TxState::default();
        assert!(
            run(
                &e,
                &input(TxDir::ToServer, AppProto::Tls),
                &tx,
                &mut other,
                &flow
            )
            .is_empty()
        );
    }

    #[test]
    fn buffers_are_checked_not_just_prefiltered() {
        let e = engine(RULES, &[]);
        let flow = FlowVars::default();
        let i = input(TxDir::ToServer, AppProto::Http);
        // "/gate.php" not at the end; host 12 bytes; method GET.
        let tx = Tx {
            bufs: vec![
                (Buffer::HttpMethod, TxDir::ToServer, vec![b"GET"]),
                (Buffer::HttpUri, TxDir::ToServer, vec![b"/gate.php?x"]),
                (Buffer::HttpHost, TxDir::ToServer, vec![b"example.org1"]),
            ],
            not_yet: vec![],
        };
        // 6 matches (sets the bit, no alert shown since noalert is the
        // caller's concern); 9 needs "POST" in the method.
        assert_eq!(run(&e, &i, &tx, &mut TxState::default(), &flow), vec![6]);
        // The header's addresses: to an internal server, rule 1 is out.
        let mut j = i;
        j.dst = ip("10.9.9.9");
        let tx = post();
        let got = run(&e, &j, &tx, &mut TxState::default(), &flow);
        assert!(!got.contains(&1) && got.contains(&2), "{got:?}");
    }

    #[test]
    fn multi_buffers_and_transforms() {
        let e = engine(RULES, &[]);
        let flow = FlowVars::default();
        let q = |names: Vec<&'static [u8]>| Tx {
            bufs: vec![(Buffer::DnsQuery, TxDir::ToServer, names)],
            not_yet: vec![],
        };
        let mut i = input(TxDir::ToServer, AppProto::Dns);
        i.view.ip_proto = 17;
        let hit = q(vec![b"ok.example", b"a.evil.example"]);
        assert_eq!(run(&e, &i, &hit, &mut TxState::default(), &flow), vec![5]);
        // dotprefix makes "evil.example" itself match ".evil.example".
        let exact = q(vec![b"evil.example"]);
        assert_eq!(run(&e, &i, &exact, &mut TxState::default(), &flow), vec![5]);
        let miss = q(vec![b"notevil.example"]);
        assert!(run(&e, &i, &miss, &mut TxState::default(), &flow).is_empty());
    }
}

#[test]
fn pd_only_rules_see_the_detection_pass_alone() {
    let e = engine(
        &[
            r#"alert tcp any any -> any any (app-layer-protocol:http; sid:1;)"#,
            r#"alert ip any any -> 8.8.8.8 any (sid:2;)"#,
            r#"alert tcp any any -> any any (app-layer-protocol:http; content:"GET"; sid:3;)"#,
        ],
        &[],
    );
    let flow = FlowVars::default();
    let mut i = tcp_input("10.0.0.1", 1000, "8.8.8.8", 80, b"GET /");
    i.app = Some(crate::buffer::AppProto::Http);
    // The ordinary pass: the IP-only rule and the content rule, not 1.
    assert_eq!(sids(&e, &i, false, &flow), vec![2, 3]);
    // The detection pass: rule 1 alone.
    i.proto_detect = true;
    assert_eq!(sids(&e, &i, false, &flow), vec![1]);
    assert!(e.signatures()[0].pd_only && !e.signatures()[2].pd_only);
}

#[test]
fn no_payload_flows_skip_payload_rules_only() {
    let e = engine(
        &[
            r#"alert tcp any any -> any 443 (content:"secret"; sid:1;)"#,
            r#"alert tcp any any -> any 443 (flags:PA; sid:2;)"#,
        ],
        &[],
    );
    let flow = FlowVars::default();
    let mut i = tcp_input("10.0.0.1", 1000, "10.0.0.2", 443, b"a secret");
    assert_eq!(sids(&e, &i, false, &flow), vec![1, 2]);
    i.no_payload = true;
    assert_eq!(sids(&e, &i, false, &flow), vec![2]);
    assert!(sids(&e, &i, true, &flow).is_empty());
}
