use super::*;
use mirador_engine::eve::Obj;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A message builder that knows its offsets (for compression pointers).
#[derive(Default, Clone)]
struct B(Vec<u8>);

impl B {
    fn header(id: u16, flags: u16, qd: u16, an: u16, ns: u16, ar: u16) -> B {
        let mut b = B::default();
        for w in [id, flags, qd, an, ns, ar] {
            b.u16(w);
        }
        b
    }
    fn off(&self) -> u16 {
        self.0.len() as u16
    }
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    /// Labels of a dotted name, then the root (unless `end` is a pointer).
    fn labels(&mut self, name: &str) -> &mut Self {
        for l in name.split('.').filter(|l| !l.is_empty()) {
            self.u8(l.len() as u8).raw(l.as_bytes());
        }
        self
    }
    fn name(&mut self, name: &str) -> &mut Self {
        self.labels(name).u8(0)
    }
    fn ptr(&mut self, off: u16) -> &mut Self {
        self.u16(0xc000 | off)
    }
    fn question(&mut self, name: &str, t: u16) -> &mut Self {
        self.name(name).u16(t).u16(1)
    }
    /// A record header after its owner name; data follows.
    fn rr(&mut self, t: u16, ttl: u32, data: &[u8]) -> &mut Self {
        self.u16(t).u16(1).u32(ttl).u16(data.len() as u16).raw(data)
    }
    fn bytes(&self) -> Vec<u8> {
        self.0.clone()
    }
}

fn query_msg(id: u16, name: &str, t: u16) -> Vec<u8> {
    let mut b = B::header(id, 0x0100, 1, 0, 0, 0);
    b.question(name, t);
    b.bytes()
}

/// www.example.com: CNAME cdn.example.com, two A, and an SOA authority.
fn response_msg() -> Vec<u8> {
    let mut b = B::header(0x1234, 0x8180, 1, 3, 1, 0);
    b.question("www.example.com", 1);
    b.ptr(12).u16(5).u16(1).u32(300).u16(6);
    let cdn = b.off();
    b.labels("cdn").ptr(16);
    b.ptr(cdn).rr(1, 60, &[1, 2, 3, 4]);
    b.ptr(cdn).rr(1, 60, &[5, 6, 7, 8]);
    let mut soa = B::default();
    soa.labels("ns1").ptr(16).labels("hostmaster").ptr(16);
    soa.u32(1).u32(2).u32(3).u32(4).u32(5);
    b.ptr(16).rr(6, 600, &soa.0);
    b.bytes()
}

fn state() -> DnsState {
    DnsState::new(&DnsConfig::default())
}

fn obj_json(f: impl FnOnce(&mut Obj<'_>)) -> (String, Value) {
    let mut out = Vec::new();
    let mut o = Obj::new(&mut out);
    f(&mut o);
    o.close();
    let s = String::from_utf8(out).unwrap();
    let v = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}: {s}"));
    (s, v)
}

fn records(tx: &DnsTx, cfg: &DnsEveConfig) -> Vec<Value> {
    tx.eve_records(cfg)
        .map(|r| obj_json(|o| r.write(o)).1)
        .collect()
}

fn only_tx(s: &DnsState) -> &DnsTx {
    let txs: Vec<_> = s.txs().collect();
    assert_eq!(txs.len(), 1, "{txs:?}");
    txs[0]
}

fn tcp_frame(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

#[test]
fn udp_query_is_a_transaction_with_its_eve_record() {
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(0xabcd, "www.Example.com", 1));
    let tx = only_tx(&s);
    assert_eq!(tx.id, 0);
    assert!(tx.response().is_none());
    let m = tx.request().unwrap();
    assert!(m.header.rd() && !m.header.qr());
    assert_eq!(tx.query(0), Some(&b"www.Example.com"[..]));
    assert_eq!(tx.query(1), None);
    assert!(tx.events().is_empty());
    let recs: Vec<String> = tx
        .eve_records(&DnsEveConfig::default())
        .map(|r| obj_json(|o| r.write(o)).0)
        .collect();
    assert_eq!(
        recs,
        [
            r#"{"version":2,"type":"query","id":43981,"rrname":"www.Example.com","rrtype":"A","tx_id":0,"opcode":0}"#
        ]
    );
    assert_eq!(s.counters().messages, 1);
}

#[test]
fn response_with_compression_and_its_eve_record() {
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(0x1234, "www.example.com", 1));
    s.udp(Dir::ToClient, &response_msg());
    let txs: Vec<_> = s.txs().collect();
    assert_eq!(txs.len(), 2, "request and response are transactions apart");
    let tx = txs[1];
    assert_eq!(tx.id, 1);
    assert_eq!(tx.query(0), None, "dns.query reads requests only");
    let m = tx.response().unwrap();
    assert_eq!(m.answers.len(), 3);
    assert_eq!(&*m.answers[1].name.value, b"cdn.example.com");
    assert_eq!(m.authorities.len(), 1);
    let (raw, v) = obj_json(|o| {
        tx.eve_records(&DnsEveConfig::default())
            .next()
            .unwrap()
            .write(o)
    });
    assert!(raw.starts_with(r#"{"version":2,"type":"answer","id":4660,"flags":"8180","qr":true,"rd":true,"ra":true,"opcode":0,"rrname":"www.example.com","rrtype":"A","rcode":"NOERROR","answers":"#), "{raw}");
    assert_eq!(
        v,
        json!({"version":2,"type":"answer","id":4660,"flags":"8180","qr":true,"rd":true,"ra":true,
            "opcode":0,"rrname":"www.example.com","rrtype":"A","rcode":"NOERROR",
            "answers":[
                {"rrname":"www.example.com","rrtype":"CNAME","ttl":300,"rdata":"cdn.example.com"},
                {"rrname":"cdn.example.com","rrtype":"A","ttl":60,"rdata":"1.2.3.4"},
                {"rrname":"cdn.example.com","rrtype":"A","ttl":60,"rdata":"5.6.7.8"}],
            "grouped":{"CNAME":["cdn.example.com"],"A":["1.2.3.4","5.6.7.8"]},
            "authorities":[{"rrname":"example.com","rrtype":"SOA","ttl":600,
                "soa":{"mname":"ns1.example.com","rname":"hostmaster.example.com",
                    "serial":1,"refresh":2,"retry":3,"expire":4,"minimum":5}}]})
    );
    assert!(
        raw.contains(r#""grouped":{"CNAME":["cdn.example.com"],"A":["#),
        "first-seen order"
    );
    assert_eq!(tx.eve_records(&DnsEveConfig::default()).count(), 1);
}

#[test]
fn every_record_type_as_parsed_and_logged() {
    let mut b = B::header(7, 0x8400, 1, 13, 0, 0);
    b.question("x.test", 255);
    let v6: Vec<u8> = (0..16).collect();
    let mut soa = B::default();
    soa.name("m.test")
        .name("r.test")
        .u32(10)
        .u32(20)
        .u32(30)
        .u32(40)
        .u32(50);
    let mut mx = B::default();
    mx.u16(10).name("mail.test");
    let mut srv = B::default();
    srv.u16(1).u16(2).u16(5060).name("sip.test");
    let mut txt = B::default();
    txt.u8(3).raw(b"one").u8(0).u8(3).raw(b"two");
    b.ptr(12).rr(1, 1, &[10, 0, 0, 1]);
    b.ptr(12).rr(28, 2, &v6);
    b.ptr(12).rr(5, 3, &B::default().name("c.test").0);
    b.ptr(12).rr(12, 4, &B::default().name("p.test").0);
    b.ptr(12).rr(15, 5, &mx.0);
    b.ptr(12).rr(2, 6, &B::default().name("ns.test").0);
    b.ptr(12).rr(16, 7, &txt.0);
    b.ptr(12).rr(6, 8, &soa.0);
    b.ptr(12).rr(33, 9, &srv.0);
    b.ptr(12).rr(44, 10, &[1, 2, 0xab, 0xcd]);
    b.ptr(12).rr(10, 11, b"nul");
    b.ptr(12).rr(65534, 12, &[1, 2]);
    b.ptr(12).rr(1, 13, &[]);
    let mut s = state();
    s.udp(Dir::ToClient, &b.bytes());
    let tx = only_tx(&s);
    let m = tx.response().unwrap();
    // 12 records with data, the TXT one twice plus its empty string: 14.
    assert_eq!(m.answers.len(), 14, "{:?}", m.answers);
    assert!(
        matches!(&m.answers[4].data, RData::Mx { preference: 10, name } if &*name.value == b"mail.test")
    );
    let v = records(tx, &DnsEveConfig::default());
    let answers = &v[0]["answers"];
    let rdata: Vec<Value> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let o = a.as_object_mut().unwrap();
            o.remove("rrname");
            o.remove("ttl");
            a
        })
        .collect();
    assert_eq!(
        rdata,
        vec![
            json!({"rrtype":"A","rdata":"10.0.0.1"}),
            json!({"rrtype":"AAAA","rdata":"0001:0203:0405:0607:0809:0a0b:0c0d:0e0f"}),
            json!({"rrtype":"CNAME","rdata":"c.test"}),
            json!({"rrtype":"PTR","rdata":"p.test"}),
            json!({"rrtype":"MX","rdata":"mail.test"}),
            json!({"rrtype":"NS","rdata":"ns.test"}),
            json!({"rrtype":"TXT","rdata":"one"}),
            json!({"rrtype":"TXT","rdata":""}),
            json!({"rrtype":"TXT","rdata":"two"}),
            json!({"rrtype":"SOA","soa":{"mname":"m.test","rname":"r.test","serial":10,"refresh":20,"retry":30,"expire":40,"minimum":50}}),
            json!({"rrtype":"SRV","srv":{"priority":1,"weight":2,"port":5060,"name":"sip.test"}}),
            json!({"rrtype":"SSHFP","sshfp":{"fingerprint":"ab:cd","algo":1,"type":2}}),
            json!({"rrtype":"NULL","rdata":"nul"}),
            json!({"rrtype":"65534"}),
        ]
    );
    assert_eq!(v[0]["aa"], json!(true));
    assert_eq!(v[0]["rrtype"], json!("ANY"));
    let g = &v[0]["grouped"];
    assert_eq!(g["TXT"], json!(["one", "", "two"]));
    assert_eq!(
        g["SSHFP"],
        json!([{"fingerprint":"ab:cd","algo":1,"type":2}])
    );
    assert!(g.get("65534").is_none(), "unknown types are not grouped");
}

#[test]
fn names_and_rcodes_as_suricata_spells_them() {
    assert_eq!(eve::rrtype_name(3), "ND");
    assert_eq!(eve::rrtype_name(60), "CDSNKEY");
    assert_eq!(eve::rrtype_name(65), "HTTPS");
    assert_eq!(eve::rrtype_name(41), "OPT");
    assert_eq!(eve::rrtype_name(1000), "1000");
    assert_eq!(eve::rcode_name(3), "NXDOMAIN");
    assert_eq!(eve::rcode_name(11), "11");
    assert_eq!(eve::bytes_str(b"a\xffb"), "a\\xffb");
    assert_eq!(eve::bytes_str("é".as_bytes()), "é");
}

#[test]
fn flags_and_rcode_fields() {
    let mut b = B::header(1, 0x8000 | (5 << 11) | 0x0200 | 0x0040 | 0x0003, 1, 0, 0, 0);
    b.question("a.b", 1);
    let mut s = state();
    s.udp(Dir::ToClient, &b.bytes());
    let tx = only_tx(&s);
    let h = tx.response().unwrap().header;
    assert_eq!((h.opcode(), h.rcode(), h.tc(), h.z()), (5, 3, true, true));
    assert_eq!(tx.events(), [event::Z_FLAG_SET]);
    let v = records(tx, &DnsEveConfig::default());
    assert_eq!(
        v[0],
        json!({"version":2,"type":"answer","id":1,"flags":"aa43","qr":true,"tc":true,"z":true,
            "opcode":5,"rrname":"a.b","rrtype":"A","rcode":"NXDOMAIN"})
    );
}

#[test]
fn invalid_opcode_and_z_on_requests() {
    let mut b = B::header(9, (7 << 11) | 0x40, 2, 0, 0, 0);
    b.question("a", 1).question("b", 28);
    let mut s = state();
    s.udp(Dir::ToServer, &b.bytes());
    let tx = only_tx(&s);
    assert_eq!(tx.events(), [event::Z_FLAG_SET, event::INVALID_OPCODE]);
    let v = records(tx, &DnsEveConfig::default());
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[1],
        json!({"version":2,"type":"query","id":9,"rrname":"b","rrtype":"AAAA","tx_id":0,"z":true,"opcode":7})
    );
}

#[test]
fn not_request_and_not_response_go_on_the_previous_transaction() {
    let mut s = state();
    let mut resp_to_server = B::header(1, 0x8000, 1, 0, 0, 0);
    resp_to_server.question("a", 1);
    s.udp(Dir::ToServer, &resp_to_server.bytes());
    assert_eq!(s.txs().count(), 0);
    assert_eq!(s.counters().events_lost, 1);
    s.udp(Dir::ToServer, &query_msg(2, "a", 1));
    s.udp(Dir::ToServer, &resp_to_server.bytes());
    assert_eq!(only_tx(&s).events(), [event::NOT_REQUEST]);
    assert_eq!(s.counters().not_request, 2);
    // A query sent to the client: a transaction, the event on the previous.
    s.udp(Dir::ToClient, &query_msg(3, "q", 1));
    let txs: Vec<_> = s.txs().collect();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0].events(), [event::NOT_REQUEST, event::NOT_RESPONSE]);
    assert!(txs[1].events().is_empty());
    assert!(txs[1].response().is_some());
}

#[test]
fn malformed_goes_on_the_previous_transaction_and_bad_headers_are_ignored() {
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(1, "a.b", 1));
    let mut bad = query_msg(2, "a.b", 1);
    bad.truncate(bad.len() - 1);
    s.udp(Dir::ToServer, &bad);
    assert_eq!(only_tx(&s).events(), [event::MALFORMED_DATA]);
    // 100 questions declared in a 17-byte message: implausible, ignored.
    let mut b = B::header(3, 0, 100, 0, 0, 0);
    b.question("a", 1);
    s.udp(Dir::ToServer, &b.bytes());
    s.udp(Dir::ToServer, &[1, 2, 3]);
    assert_eq!(s.counters().header_invalid, 2);
    assert_eq!(s.counters().malformed, 1);
    assert_eq!(s.txs().count(), 1);
}

#[test]
fn request_answers_are_not_parsed_but_response_additionals_neither() {
    // A request declaring an answer section of garbage: only questions.
    let mut b = B::header(1, 0, 1, 1, 0, 0);
    b.question("a", 1).raw(&[0xff, 0xff, 0xff]);
    let mut s = state();
    s.udp(Dir::ToServer, &b.bytes());
    assert!(only_tx(&s).events().is_empty());
    // A response whose additional section is garbage.
    let mut b = B::header(1, 0x8000, 1, 0, 0, 2);
    b.question("a", 1).raw(&[0x80, 1, 2, 3]);
    let mut s = state();
    s.udp(Dir::ToClient, &b.bytes());
    assert!(only_tx(&s).events().is_empty());
}

fn one_answer(owner: impl FnOnce(&mut B), t: u16, data: &[u8]) -> Vec<u8> {
    let mut b = B::header(1, 0x8000, 1, 1, 0, 0);
    b.question("q", 1);
    owner(&mut b);
    b.rr(t, 0, data);
    b.bytes()
}

fn response_events(msg: &[u8]) -> (Option<DnsMessage>, Vec<&'static str>, u64) {
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(0, "seed", 1));
    s.udp(Dir::ToClient, msg);
    let malformed = s.counters().malformed;
    let txs: Vec<_> = s.txs().collect();
    match txs.as_slice() {
        [seed] => (None, seed.events().to_vec(), malformed),
        [_, tx] => (tx.response().cloned(), tx.events().to_vec(), malformed),
        _ => unreachable!(),
    }
}

#[test]
fn self_pointer_in_a_question_is_malformed() {
    let mut b = B::header(1, 0, 1, 0, 0, 0);
    b.ptr(12).u16(1).u16(1);
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(0, "seed", 1));
    s.udp(Dir::ToServer, &b.bytes());
    assert_eq!(only_tx(&s).events(), [event::MALFORMED_DATA]);
    assert_eq!(probe(&b.bytes(), false), Probe::NotDns);
}

#[test]
fn self_pointer_after_a_pointer_ends_the_name() {
    let msg = {
        let mut m = B::header(1, 0x8000, 1, 1, 0, 0);
        m.question("q", 1);
        m.ptr(12).u16(5).u16(1).u32(0);
        let dstart = m.off() + 2;
        let mut data = B::default();
        data.labels("a").ptr(dstart + 2);
        m.u16(data.0.len() as u16).raw(&data.0);
        m.bytes()
    };
    // CNAME data "a" + pointer to itself, at the end of the message: the
    // view is the whole rest of the message, so Suricata sees the self
    // pointer at once, before any pointer was followed: an error.
    let (m, ev, malformed) = response_events(&msg);
    assert!(m.is_none());
    assert_eq!(ev, [event::MALFORMED_DATA]);
    assert_eq!(malformed, 1);
    // Same data followed by another record: the data view is shorter than
    // the message, the first look misses, the pointer is followed and the
    // second look ends the name with INFINITE_LOOP.
    let mut m2 = B::header(1, 0x8000, 1, 2, 0, 0);
    m2.question("q", 1);
    m2.ptr(12).u16(5).u16(1).u32(0);
    let dstart = m2.off() + 2;
    let mut data = B::default();
    data.labels("a").ptr(dstart + 2);
    m2.u16(data.0.len() as u16).raw(&data.0);
    m2.ptr(12).rr(1, 0, &[9, 9, 9, 9]);
    let (m, ev, _) = response_events(&m2.bytes());
    let m = m.unwrap();
    assert_eq!(ev, [event::INFINITE_LOOP]);
    assert!(matches!(&m.answers[0].data, RData::Cname(n) if &*n.value == b"a"));
    assert_eq!(m.answers.len(), 2);
}

#[test]
fn mutual_pointers_hit_the_label_limit() {
    // Record data: pointer to P1; P1 -> P2 -> P1 ... in the data itself.
    let mut m = B::header(1, 0x8000, 1, 1, 0, 0);
    m.question("q", 1);
    m.ptr(12).u16(5).u16(1).u32(0).u16(6);
    let d = m.off();
    m.ptr(d + 2).ptr(d + 4).ptr(d + 2);
    let (msg, ev, _) = response_events(&m.bytes());
    let msg = msg.unwrap();
    assert_eq!(ev, [event::NAME_TOO_LONG, event::TOO_MANY_LABELS]);
    let RData::Cname(n) = &msg.answers[0].data else {
        panic!()
    };
    assert!(n.truncated && n.value.is_empty());
    // The same loop as a question's name, entered by a pointer: fine too.
    let mut q = B::header(1, 0, 1, 0, 0, 0);
    let p = q.off();
    q.ptr(p + 6).u16(1).u16(1).ptr(p + 8).ptr(p + 6);
    let mut s = state();
    s.udp(Dir::ToServer, &q.bytes());
    assert_eq!(
        only_tx(&s).events(),
        [event::NAME_TOO_LONG, event::TOO_MANY_LABELS]
    );
}

#[test]
fn too_many_labels_without_a_pointer_is_malformed() {
    let mut b = B::header(1, 0, 1, 0, 0, 0);
    for _ in 0..256 {
        b.u8(1).u8(b'x');
    }
    b.u8(0).u16(1).u16(1);
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(0, "seed", 1));
    s.udp(Dir::ToServer, &b.bytes());
    assert_eq!(only_tx(&s).events(), [event::MALFORMED_DATA]);
    // 255 labels are fine.
    let mut b = B::header(1, 0, 1, 0, 0, 0);
    for _ in 0..255 {
        b.u8(1).u8(b'x');
    }
    b.u8(0).u16(1).u16(1);
    let mut s = state();
    s.udp(Dir::ToServer, &b.bytes());
    assert_eq!(only_tx(&s).query(0).unwrap().len(), 255 * 2 - 1);
}

#[test]
fn long_names_are_truncated_at_1025() {
    let label = "y".repeat(63);
    let long: Vec<&str> = std::iter::repeat_n(label.as_str(), 20).collect();
    let long = long.join(".");
    // Without a pointer: truncated, parsing goes on to the name's end.
    let mut s = state();
    let mut b = B::header(1, 0, 2, 0, 0, 0);
    b.question(&long, 1).question("next", 1);
    s.udp(Dir::ToServer, &b.bytes());
    let tx = only_tx(&s);
    assert_eq!(tx.query(0).unwrap().len(), 1025);
    assert_eq!(tx.query(1), Some(&b"next"[..]));
    assert!(tx.request().unwrap().queries[0].name.truncated);
    assert_eq!(tx.events(), [event::NAME_TOO_LONG]);
    let v = records(tx, &DnsEveConfig::default());
    assert_eq!(v[0]["rrname_truncated"], json!(true));
    assert!(v[1].get("rrname_truncated").is_none());
    // Through a pointer: truncated and stops there.
    let mut b = B::header(1, 0x8000, 1, 1, 0, 0);
    let q = b.off();
    b.question(&long, 1);
    b.ptr(q).rr(1, 0, &[1, 1, 1, 1]);
    let (m, ev, _) = response_events(&b.bytes());
    let m = m.unwrap();
    assert_eq!(m.answers[0].name.value.len(), 1025);
    assert_eq!(ev, [event::NAME_TOO_LONG]);
}

#[test]
fn pointer_edges() {
    // Forward pointer into the record data; pointer to the message's end.
    let mut b = B::header(1, 0x8000, 1, 1, 0, 0);
    b.question("q", 1);
    let fwd_at = b.off();
    b.ptr(fwd_at + 12).rr(16, 0, &[0]);
    let mut msg = b.bytes();
    // Owner: forward pointer to the TXT data byte (a root label).
    let (m, ev, _) = response_events(&msg);
    let m = m.unwrap();
    assert!(ev.is_empty());
    assert_eq!(&*m.answers[0].name.value, b"");
    // Pointer == message length: an empty continuation.
    let len = msg.len() as u16;
    msg[fwd_at as usize..fwd_at as usize + 2].copy_from_slice(&(0xc000 | len).to_be_bytes());
    let (m, _, _) = response_events(&msg);
    assert!(m.is_some());
    // Beyond the end: malformed.
    msg[fwd_at as usize..fwd_at as usize + 2].copy_from_slice(&(0xc000 | (len + 1)).to_be_bytes());
    let (m, ev, _) = response_events(&msg);
    assert!(m.is_none());
    assert_eq!(ev, [event::MALFORMED_DATA]);
    // 0x40 and 0x80 label types are errors.
    for bad in [0x41u8, 0x81] {
        let msg = one_answer(
            |b| {
                b.u8(bad).u8(b'a').u8(0);
            },
            1,
            &[1, 2, 3, 4],
        );
        assert_eq!(response_events(&msg).1, [event::MALFORMED_DATA]);
    }
}

#[test]
fn record_data_edges() {
    // A name in record data ends at the data's end, terminator or not.
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        5,
        b"\x03foo",
    );
    let (m, ev, _) = response_events(&msg);
    assert!(ev.is_empty());
    assert!(matches!(&m.unwrap().answers[0].data, RData::Cname(n) if &*n.value == b"foo"));
    // A label running past the data is malformed.
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        5,
        b"\x05foo",
    );
    assert_eq!(response_events(&msg).1, [event::MALFORMED_DATA]);
    // TXT: a bad first string is malformed; a bad later one ends the list.
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        16,
        b"\x05ab",
    );
    assert_eq!(response_events(&msg).1, [event::MALFORMED_DATA]);
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        16,
        b"\x02ab\x05c",
    );
    let (m, ev, _) = response_events(&msg);
    assert!(ev.is_empty());
    assert_eq!(m.unwrap().answers.len(), 1);
    // SSHFP needs two bytes; MX two plus a name; SRV six.
    for (t, data) in [
        (44u16, &b"\x01"[..]),
        (15, b"\x00"),
        (33, b"\x00\x01\x00\x02\x00"),
    ] {
        let msg = one_answer(
            |b| {
                b.ptr(12);
            },
            t,
            data,
        );
        assert_eq!(response_events(&msg).1, [event::MALFORMED_DATA], "type {t}");
    }
    // A with a wrong length is kept and logged as an empty address; bytes
    // past a parsed name are ignored.
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        1,
        &[1, 2, 3],
    );
    let mut s = state();
    s.udp(Dir::ToClient, &msg);
    assert_eq!(
        records(only_tx(&s), &DnsEveConfig::default())[0]["answers"][0]["rdata"],
        json!("")
    );
    let msg = one_answer(
        |b| {
            b.ptr(12);
        },
        12,
        b"\x01p\x00junk",
    );
    assert!(response_events(&msg).1.is_empty());
}

#[test]
fn every_truncation_of_a_response_is_handled() {
    let full = response_msg();
    for n in 0..full.len() {
        let mut s = state();
        s.udp(Dir::ToClient, &full[..n]);
        assert_eq!(s.txs().count(), 0, "prefix {n}");
        let c = s.counters();
        assert_eq!(c.header_invalid + c.malformed, 1, "prefix {n}");
        // Over TCP with a matching length prefix: parsing ends.
        let mut s = state();
        s.input(Dir::ToClient, &tcp_frame(&full[..n]));
        assert_eq!(s.txs().count(), 0);
        assert!(n == 0 || s.failed(), "prefix {n}");
        let _ = probe(&full[..n], false);
        let _ = probe(&tcp_frame(&full[..n]), true);
    }
}

#[test]
fn tcp_framing_split_anywhere() {
    let q = query_msg(1, "a.example", 1);
    let r = response_msg();
    let mut ts = tcp_frame(&q);
    ts.extend_from_slice(&[0, 0]); // a zero length is skipped
    ts.extend(tcp_frame(&query_msg(2, "b.example", 28)));
    let tc = tcp_frame(&r);
    let reference = {
        let mut s = state();
        s.input(Dir::ToServer, &ts);
        s.input(Dir::ToClient, &tc);
        format!("{:?}", s.txs().collect::<Vec<_>>())
    };
    assert_eq!(reference.matches("DnsTx").count(), 3);
    for cut in 0..ts.len() {
        let mut s = state();
        s.input(Dir::ToServer, &ts[..cut]);
        s.input(Dir::ToServer, &ts[cut..]);
        s.input(Dir::ToClient, &tc[..cut.min(tc.len())]);
        s.input(Dir::ToClient, &tc[cut.min(tc.len())..]);
        assert_eq!(
            format!("{:?}", s.txs().collect::<Vec<_>>()),
            reference,
            "cut {cut}"
        );
    }
    // Byte by byte.
    let mut s = state();
    for b in &ts {
        s.input(Dir::ToServer, std::slice::from_ref(b));
    }
    for b in &tc {
        s.input(Dir::ToClient, std::slice::from_ref(b));
    }
    assert_eq!(format!("{:?}", s.txs().collect::<Vec<_>>()), reference);
}

#[test]
fn tcp_error_ends_parsing_for_the_flow() {
    let mut s = state();
    let mut bad = B::header(1, 0x8000, 1, 0, 0, 0); // QR set to the server
    bad.question("x", 1);
    let mut data = tcp_frame(&query_msg(1, "ok", 1));
    data.extend(tcp_frame(&bad.bytes()));
    data.extend(tcp_frame(&query_msg(2, "lost", 1)));
    s.input(Dir::ToServer, &data);
    assert_eq!(s.txs().count(), 1);
    assert!(s.failed());
    s.input(Dir::ToClient, &tcp_frame(&response_msg()));
    assert_eq!(s.txs().count(), 1);
    assert!(s.counters().tcp_bytes_ignored > 0);
    // An implausible header is an error over TCP too.
    let mut s = state();
    s.input(Dir::ToServer, &tcp_frame(&[0; 5]));
    assert!(s.failed());
}

#[test]
fn tcp_gap_then_probe() {
    let mut s = state();
    // A partial response, then a gap: dropped.
    let r = tcp_frame(&response_msg());
    s.input(Dir::ToClient, &r[..10]);
    s.gap(Dir::ToClient, 100);
    assert_eq!(s.counters().tcp_partial_dropped, 1);
    // Not DNS after the gap (to client): skipped.
    s.input(Dir::ToClient, &[0xff; 40]);
    assert_eq!(s.counters().tcp_bytes_skipped, 40);
    assert!(!s.failed());
    s.input(Dir::ToClient, &r);
    assert_eq!(s.txs().count(), 1);
    // To server after a gap: parsed regardless, as Suricata does.
    s.gap(Dir::ToServer, 5);
    s.input(Dir::ToServer, &[0, 3, 1, 2, 3]);
    assert!(s.failed());
}

#[test]
fn caps_are_counted() {
    let cfg = DnsConfig {
        max_txs: 2,
        max_queries: 1,
        max_records: 2,
        max_name_bytes: 64,
        max_tcp_buffer: 100,
    };
    let mut s = DnsState::new(&cfg);
    for i in 0..3 {
        s.udp(Dir::ToServer, &query_msg(i, "a", 1));
    }
    assert_eq!(s.txs().map(|t| t.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(s.counters().txs_evicted, 1);
    let mut b = B::header(1, 0, 2, 0, 0, 0);
    b.question("a", 1).question("b", 1);
    s.udp(Dir::ToServer, &b.bytes());
    assert_eq!(s.txs().last().unwrap().request().unwrap().queries.len(), 1);
    assert_eq!(s.counters().entries_dropped, 1);
    let mut s = DnsState::new(&cfg);
    s.udp(Dir::ToClient, &response_msg());
    let m = s.txs().last().unwrap().response().unwrap();
    assert_eq!(m.answers.len() + m.authorities.len(), 2);
    assert_eq!(s.counters().entries_dropped, 2);
    // Name bytes: 40 queries of "x" * 30 via pointers fit 64 bytes twice.
    let mut cfg2 = cfg;
    cfg2.max_queries = 100;
    let mut s = DnsState::new(&cfg2);
    let mut b = B::header(1, 0, 3, 0, 0, 0);
    b.question(&"x".repeat(30), 1)
        .ptr(12)
        .u16(1)
        .u16(1)
        .ptr(12)
        .u16(1)
        .u16(1);
    s.udp(Dir::ToServer, &b.bytes());
    assert_eq!(s.txs().last().unwrap().request().unwrap().queries.len(), 2);
    let mut s = DnsState::new(&cfg);
    s.input(Dir::ToClient, &tcp_frame(&response_msg()));
    assert_eq!(s.counters().tcp_too_long, 1);
    assert!(s.failed());
}

#[test]
fn probing() {
    let q = query_msg(1, "a.b", 1);
    assert_eq!(probe(&q, false), Probe::Dns { request: true });
    assert_eq!(probe(&response_msg(), false), Probe::Dns { request: false });
    assert_eq!(probe(&q[..11], false), Probe::NeedMore);
    assert_eq!(probe(&[0xff; 40], false), Probe::NotDns);
    let t = tcp_frame(&q);
    assert_eq!(probe(&t, true), Probe::Dns { request: true });
    assert_eq!(probe(&t[..13], true), Probe::NeedMore);
    // Header only, rest to come: the header check decides.
    assert_eq!(probe(&t[..15], true), Probe::Dns { request: true });
    let r = tcp_frame(&response_msg());
    assert_eq!(probe(&r[..20], true), Probe::Dns { request: false });
    // A declared length shorter than a header: incomplete, as Suricata.
    let mut short = vec![0, 5];
    short.extend_from_slice(&q);
    assert_eq!(probe(&short, true), Probe::NeedMore);
    // A question cut short: header check only.
    let mut cut = q.clone();
    cut.truncate(q.len() - 2);
    assert_eq!(probe(&cut, false), Probe::Dns { request: true });
    // A bad label type: not DNS.
    let mut bad = q.clone();
    bad[12] = 0x41;
    assert_eq!(probe(&bad, false), Probe::NotDns);
}

#[test]
fn eve_settings() {
    let mut s = state();
    let mut b = B::header(1, 0, 3, 0, 0, 0);
    b.question("a", 1).question("b", 65000).question("c", 1);
    s.udp(Dir::ToServer, &b.bytes());
    let mut r = B::header(2, 0x8000, 1, 1, 0, 0);
    r.question("b", 65000).ptr(12).rr(1, 0, &[1, 2, 3, 4]);
    s.udp(Dir::ToClient, &r.bytes());
    let txs: Vec<_> = s.txs().collect();
    // Defaults: every type.
    assert_eq!(records(txs[0], &DnsEveConfig::default()).len(), 3);
    assert_eq!(records(txs[1], &DnsEveConfig::default()).len(), 1);
    // One format: unknown types have no flag bit any more, so logging
    // stops at the unknown question and the response is not logged.
    let det = DnsEveConfig::new(None, None, Some(&["detailed"]), None).unwrap();
    assert_eq!(records(txs[0], &det).len(), 1);
    assert_eq!(records(txs[1], &det).len(), 0);
    let grouped = DnsEveConfig::new(None, None, Some(&["grouped"]), Some(&["A", "https"])).unwrap();
    let mut r2 = B::header(2, 0x8000, 1, 1, 0, 0);
    r2.question("b", 1).ptr(12).rr(1, 0, &[1, 2, 3, 4]);
    let mut s2 = state();
    s2.udp(Dir::ToClient, &r2.bytes());
    let v = records(only_tx(&s2), &grouped);
    assert!(v[0].get("answers").is_none());
    assert_eq!(v[0]["grouped"], json!({"A":["1.2.3.4"]}));
    let off = DnsEveConfig::new(Some(false), Some(false), None, None).unwrap();
    assert!(!off.log_requests() && !off.log_responses());
    assert_eq!(records(txs[0], &off).len() + records(txs[1], &off).len(), 0);
    assert!(DnsEveConfig::new(None, None, None, Some(&["bogus"])).is_err());
    assert!(DnsEveConfig::new(None, None, Some(&["bogus"]), None).is_err());
}

#[test]
fn alert_objects() {
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(5, "a.b", 1));
    s.udp(Dir::ToClient, &response_msg());
    let txs: Vec<_> = s.txs().collect();
    let (_, q) = obj_json(|o| txs[0].write_alert_eve(o));
    assert_eq!(
        q,
        json!({"version":2,"query":[{"type":"query","id":5,"rrname":"a.b","rrtype":"A","tx_id":0,"opcode":0}]})
    );
    let (_, a) = obj_json(|o| txs[1].write_alert_eve(o));
    let a = &a["answer"];
    assert_eq!(a["version"], json!(2));
    assert!(a.get("answers").is_none() && a.get("grouped").is_none());
    assert_eq!(a["authorities"][0]["rrtype"], json!("SOA"));
    // A question type with no flag bit: nothing but the version.
    let mut s = state();
    s.udp(Dir::ToServer, &query_msg(5, "a.b", 65000));
    let (raw, _) = obj_json(|o| only_tx(&s).write_alert_eve(o));
    assert_eq!(raw, r#"{"version":2}"#);
}

#[test]
fn dns_query_buffer_ends_at_an_empty_name() {
    let mut b = B::header(1, 0, 3, 0, 0, 0);
    b.question("a", 1).question("", 1).question("c", 1);
    let mut s = state();
    s.udp(Dir::ToServer, &b.bytes());
    let tx = only_tx(&s);
    assert_eq!(tx.query(0), Some(&b"a"[..]));
    assert_eq!(tx.query(1), None);
    assert_eq!(tx.query(2), Some(&b"c"[..]));
}

#[test]
fn remove_through_drops_done_transactions() {
    let mut s = state();
    for i in 0..4 {
        s.udp(Dir::ToServer, &query_msg(i, "a", 1));
    }
    s.remove_through(1);
    assert_eq!(s.txs().map(|t| t.id).collect::<Vec<_>>(), [2, 3]);
    s.remove_through(10);
    assert_eq!(s.txs().count(), 0);
    s.udp(Dir::ToServer, &query_msg(9, "a", 1));
    assert_eq!(only_tx(&s).id, 4);
}

fn stream_of(msgs: &[Vec<u8>]) -> Vec<u8> {
    msgs.iter().flat_map(|m| tcp_frame(m)).collect()
}

fn summary(s: &DnsState) -> String {
    format!(
        "{:?} {:?} {}",
        s.txs().collect::<Vec<_>>(),
        s.counters(),
        s.failed()
    )
}

proptest! {
    #[test]
    fn tcp_split_points_do_not_matter(
        picks in proptest::collection::vec(0usize..4, 1..6),
        cuts in proptest::collection::vec(0usize..400, 0..8),
        dir_server in any::<bool>(),
    ) {
        let pool = [
            query_msg(1, "a.example", 1),
            response_msg(),
            query_msg(2, "bbbb.example.org", 16),
            {
                let mut b = B::header(3, 0x8000 | 0x40, 1, 0, 0, 0);
                b.question("z", 1);
                b.bytes()
            },
        ];
        let msgs: Vec<Vec<u8>> = picks.iter().map(|&i| pool[i].clone()).collect();
        let data = stream_of(&msgs);
        let dir = if dir_server { Dir::ToServer } else { Dir::ToClient };
        let mut whole = state();
        whole.input(dir, &data);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut split = state();
        let mut at = 0;
        for c in cuts {
            split.input(dir, &data[at..c]);
            at = c;
        }
        split.input(dir, &data[at..]);
        prop_assert_eq!(summary(&whole), summary(&split));
    }

    #[test]
    fn garbage_does_not_panic(data in proptest::collection::vec(any::<u8>(), 0..300), cut in 0usize..300) {
        let mut s = state();
        s.udp(Dir::ToServer, &data);
        s.udp(Dir::ToClient, &data);
        let c = cut.min(data.len());
        s.input(Dir::ToServer, &data[..c]);
        s.gap(Dir::ToClient, 1);
        s.input(Dir::ToClient, &data[c..]);
        let _ = probe(&data, false);
        let _ = probe(&data, true);
        for tx in s.txs() {
            for r in tx.eve_records(&DnsEveConfig::default()) {
                obj_json(|o| r.write(o));
            }
            obj_json(|o| tx.write_alert_eve(o));
        }
    }

    #[test]
    fn mutated_responses_do_not_panic(flips in proptest::collection::vec((0usize..200, any::<u8>()), 1..6)) {
        let mut msg = response_msg();
        for (i, v) in flips {
            let n = msg.len();
            msg[i % n] = v;
        }
        let mut s = state();
        s.udp(Dir::ToClient, &msg);
        s.input(Dir::ToClient, &tcp_frame(&msg));
        for tx in s.txs() {
            for r in tx.eve_records(&DnsEveConfig::default()) {
                obj_json(|o| r.write(o));
            }
        }
    }
}

#[test]
fn self_pointer_check_compares_bytes_as_suricata_does() {
    // CNAME data [ptr T], and the message's last two bytes are the same
    // [ptr T] with T = len - 2: Suricata's slice comparison finds them
    // equal and calls the first pointer a self-reference (an error), where
    // following it would have reached a real self-pointer after a pivot.
    let mut b = B::header(1, 0x8000, 1, 2, 0, 0);
    b.question("q", 1);
    let len = b.off() + 14 + 14;
    let p = (0xc000u16 | (len - 2)).to_be_bytes();
    b.ptr(12).rr(5, 0, &p);
    b.ptr(12).rr(65534, 0, &p);
    assert_eq!(b.off(), len);
    assert_eq!(response_events(&b.bytes()).1, [event::MALFORMED_DATA]);
    // Point it one byte further (lengths differ): followed, and the zero
    // byte there is a root label, ending the name.
    let mut b2 = B::header(1, 0x8000, 1, 2, 0, 0);
    b2.question("q", 1);
    b2.ptr(12).rr(5, 0, &(0xc000u16 | (len - 1)).to_be_bytes());
    b2.ptr(12).rr(65534, 0, &[0, 0]);
    let (m, ev, _) = response_events(&b2.bytes());
    assert!(ev.is_empty());
    assert_eq!(m.unwrap().answers.len(), 2);
}
