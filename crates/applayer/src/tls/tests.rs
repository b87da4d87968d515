//! TLS state tests: byte fixtures built here (records, hellos, a DER
//! certificate by hand), hostile inputs, random splits.

use super::*;
use proptest::prelude::*;

// ---- builders -------------------------------------------------------------

fn u16b(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn u24b(v: usize) -> [u8; 3] {
    let b = (v as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A TLS record.
fn rec(typ: u8, ver: u16, body: &[u8]) -> Vec<u8> {
    let mut v = vec![typ];
    v.extend_from_slice(&u16b(ver));
    v.extend_from_slice(&u16b(body.len() as u16));
    v.extend_from_slice(body);
    v
}

/// A handshake message.
fn hs(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![typ];
    v.extend_from_slice(&u24b(body.len()));
    v.extend_from_slice(body);
    v
}

fn ext(typ: u16, body: &[u8]) -> (u16, Vec<u8>) {
    (typ, body.to_vec())
}

fn ext_sni(name: &[u8]) -> (u16, Vec<u8>) {
    let mut e = Vec::new();
    e.extend_from_slice(&u16b(name.len() as u16 + 3));
    e.push(0);
    e.extend_from_slice(&u16b(name.len() as u16));
    e.extend_from_slice(name);
    (0, e)
}

fn list16(typ: u16, vals: &[u16]) -> (u16, Vec<u8>) {
    let mut e = u16b(vals.len() as u16 * 2).to_vec();
    for v in vals {
        e.extend_from_slice(&u16b(*v));
    }
    (typ, e)
}

fn ext_pf(vals: &[u8]) -> (u16, Vec<u8>) {
    let mut e = vec![vals.len() as u8];
    e.extend_from_slice(vals);
    (11, e)
}

fn ext_versions(vals: &[u16]) -> (u16, Vec<u8>) {
    let mut e = vec![vals.len() as u8 * 2];
    for v in vals {
        e.extend_from_slice(&u16b(*v));
    }
    (43, e)
}

fn ext_alpn(protos: &[&[u8]]) -> (u16, Vec<u8>) {
    let mut l = Vec::new();
    for p in protos {
        l.push(p.len() as u8);
        l.extend_from_slice(p);
    }
    let mut e = u16b(l.len() as u16).to_vec();
    e.extend_from_slice(&l);
    (16, e)
}

fn exts_bytes(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut e = Vec::new();
    for (t, b) in exts {
        e.extend_from_slice(&u16b(*t));
        e.extend_from_slice(&u16b(b.len() as u16));
        e.extend_from_slice(b);
    }
    let mut v = u16b(e.len() as u16).to_vec();
    v.extend_from_slice(&e);
    v
}

fn client_hello_body(ver: u16, sid: &[u8], ciphers: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = u16b(ver).to_vec();
    b.extend_from_slice(&[0x11; 32]);
    b.push(sid.len() as u8);
    b.extend_from_slice(sid);
    b.extend_from_slice(&u16b(ciphers.len() as u16 * 2));
    for c in ciphers {
        b.extend_from_slice(&u16b(*c));
    }
    b.extend_from_slice(&[1, 0]);
    if !exts.is_empty() {
        b.extend_from_slice(&exts_bytes(exts));
    }
    b
}

fn server_hello_body(ver: u16, sid: &[u8], cipher: u16, exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = u16b(ver).to_vec();
    b.extend_from_slice(&[0x22; 32]);
    b.push(sid.len() as u8);
    b.extend_from_slice(sid);
    b.extend_from_slice(&u16b(cipher));
    b.push(0);
    if !exts.is_empty() {
        b.extend_from_slice(&exts_bytes(exts));
    }
    b
}

// DER by hand.
fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 128 {
        v.push(n as u8);
    } else if n < 256 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(body);
    v
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A Name of (attribute OID last byte under 2.5.4, PrintableString value).
fn name(attrs: &[(u8, &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(oid, val)| {
            let atv = der(
                0x30,
                &cat(&[der(0x06, &[0x55, 0x04, *oid]), der(0x13, val.as_bytes())]),
            );
            der(0x31, &atv)
        })
        .collect();
    der(0x30, &cat(&rdns))
}

/// A v3 certificate (x509-parser does not check the signature).
fn certificate(serial: &[u8], issuer: &[(u8, &str)], subject: &[(u8, &str)]) -> Vec<u8> {
    let alg = der(
        0x30,
        &cat(&[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            der(0x05, &[]),
        ]),
    );
    let validity = der(
        0x30,
        &cat(&[der(0x17, b"200101000000Z"), der(0x17, b"301231235959Z")]),
    );
    let spki = der(
        0x30,
        &cat(&[
            der(
                0x30,
                &cat(&[
                    der(
                        0x06,
                        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                    ),
                    der(0x05, &[]),
                ]),
            ),
            der(
                0x03,
                &[0x00, 0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03],
            ),
        ]),
    );
    let tbs = der(
        0x30,
        &cat(&[
            der(0xa0, &der(0x02, &[0x02])),
            der(0x02, serial),
            alg.clone(),
            name(issuer),
            validity,
            name(subject),
            spki,
        ]),
    );
    der(
        0x30,
        &cat(&[tbs, alg, der(0x03, &[0x00, 0xde, 0xad, 0xbe, 0xef])]),
    )
}

fn le_cert() -> Vec<u8> {
    certificate(
        &[0x00, 0xfa, 0x01, 0x02],
        &[(6, "US"), (10, "Let's Encrypt"), (3, "R3")],
        &[(3, "example.com")],
    )
}

fn ca_cert() -> Vec<u8> {
    certificate(
        &[0x01],
        &[(6, "US"), (3, "Root")],
        &[(6, "US"), (10, "Let's Encrypt"), (3, "R3")],
    )
}

fn certificate_msg(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut l = Vec::new();
    for c in certs {
        l.extend_from_slice(&u24b(c.len()));
        l.extend_from_slice(c);
    }
    let mut b = u24b(l.len()).to_vec();
    b.extend_from_slice(&l);
    hs(11, &b)
}

const GREASE: u16 = 0x1a1a;

/// The JA3 README's example hello, with GREASE added everywhere.
fn readme_client_hello() -> Vec<u8> {
    let ciphers = [
        GREASE, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4,
    ];
    let exts = vec![
        ext(0x2a2a, &[]),
        ext_sni(b"example.com"),
        list16(10, &[0x3a3a, 23, 24, 25]),
        ext_pf(&[0]),
        ext(0xfafa, &[0]),
    ];
    hs(1, &client_hello_body(0x0301, &[], &ciphers, &exts))
}

fn server_flight_tls12() -> Vec<u8> {
    let mut v = rec(
        22,
        0x0303,
        &hs(
            2,
            &server_hello_body(
                0x0303,
                &[7; 32],
                0xc02f,
                &[ext(0xff01, &[0]), ext(0x0b, &[1, 0])],
            ),
        ),
    );
    v.extend(rec(22, 0x0303, &certificate_msg(&[le_cert(), ca_cert()])));
    v.extend(rec(22, 0x0303, &hs(14, &[])));
    v
}

fn server_finish_tls12() -> Vec<u8> {
    let mut v = rec(20, 0x0303, &[1]);
    v.extend(rec(22, 0x0303, &[0x55; 40])); // encrypted Finished
    v
}

fn client_finish_tls12() -> Vec<u8> {
    let mut v = rec(22, 0x0303, &hs(16, &[0x33; 66]));
    v.extend(rec(20, 0x0303, &[1]));
    v.extend(rec(22, 0x0303, &[0x66; 40]));
    v.extend(rec(23, 0x0303, &[0x77; 100]));
    v
}

/// A full TLS 1.2 handshake in wire order.
fn tls12_session() -> Vec<(Dir, Vec<u8>)> {
    vec![
        (Dir::ToServer, rec(22, 0x0301, &readme_client_hello())),
        (Dir::ToClient, server_flight_tls12()),
        (Dir::ToServer, client_finish_tls12()),
        (Dir::ToClient, server_finish_tls12()),
    ]
}

fn run_seq(seq: &[(Dir, Vec<u8>)]) -> TlsState {
    let mut s = TlsState::new(&TlsConfig {
        ja3: true,
        ja4: true,
        ..TlsConfig::default()
    });
    for (d, b) in seq {
        s.input(*d, b);
    }
    s
}

fn run(client: &[u8], server: &[u8]) -> TlsState {
    let mut s = TlsState::new(&TlsConfig {
        ja3: true,
        ja4: true,
        ..TlsConfig::default()
    });
    s.input(Dir::ToServer, client);
    s.input(Dir::ToClient, server);
    s
}

fn eve(s: &TlsState) -> serde_json::Value {
    let mut out = Vec::new();
    let mut o = Obj::new(&mut out);
    s.write_eve(&mut o);
    o.close();
    serde_json::from_slice(&out).expect("valid JSON")
}

/// Everything observable, for comparing runs.
fn snapshot(s: &TlsState) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        s.progress(),
        s.client_hello(),
        s.server_hello(),
        s.certs(),
        s.events(),
        s.version_dir(Dir::ToServer),
        s.version_dir(Dir::ToClient),
        s.failed(),
        eve(s)
    )
}

// ---- behaviour --------------------------------------------------------------

#[test]
fn ja3_with_grease_matches_published_example() {
    let s = run(&rec(22, 0x0301, &readme_client_hello()), &[]);
    let ch = s.client_hello().expect("client hello");
    assert_eq!(
        ch.ja3_string,
        "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
    );
    assert_eq!(
        ch.ja3_hash.as_deref(),
        Some("ada70206e40642a3e4461f35503241d5")
    );
    assert_eq!(
        s.buffer(TlsBuffer::Ja3Hash),
        Some(&b"ada70206e40642a3e4461f35503241d5"[..])
    );
    assert_eq!(s.buffer(TlsBuffer::Sni), Some(&b"example.com"[..]));
    assert_eq!(ch.ciphers.first(), Some(&GREASE));
    assert_eq!(s.progress(), TlsProgress::ClientHello);
    assert!(s.events().is_empty(), "{:?}", s.events());
}

#[test]
fn ja4_matches_published_example() {
    // The JA4 README's example: 15 ciphers, 16 extensions (SNI and ALPN
    // counted, not hashed), ALPN h2, TLS 1.3.
    let ciphers = [
        GREASE, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let sigs = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];
    let exts = vec![
        ext(0x0a0a, &[]),
        ext_sni(b"example.org"),
        ext(0x0017, &[]),
        ext(0xff01, &[0]),
        list16(0x000a, &[0x2a2a, 0x001d, 0x0017]),
        ext_pf(&[0]),
        ext(0x0023, &[]),
        ext_alpn(&[b"h2", b"http/1.1"]),
        ext(0x0005, &[1, 0, 0, 0, 0]),
        list16(0x000d, &sigs),
        ext(0x0012, &[]),
        ext(0x0033, &[0, 0]),
        ext(0x002d, &[1, 1]),
        ext_versions(&[0x4a4a, 0x0304, 0x0303]),
        ext(0x001b, &[2, 0, 2]),
        ext(0x4469, &[0, 3, 2, b'h', b'2']),
        ext(0x0015, &[0; 8]),
        ext(0x3a3a, &[0]),
    ];
    let s = run(
        &rec(
            22,
            0x0301,
            &hs(1, &client_hello_body(0x0303, &[9; 32], &ciphers, &exts)),
        ),
        &[],
    );
    let ch = s.client_hello().unwrap();
    assert_eq!(
        ch.ja4.as_deref(),
        Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
    );
    assert_eq!(
        s.buffer(TlsBuffer::Ja4Hash),
        Some(&b"t13d1516h2_8daaf6152771_e5627efa2ab1"[..])
    );
    // The first valid supported version is the client's, GREASE skipped.
    assert_eq!(s.version_dir(Dir::ToServer), Some(0x0304));
    assert_eq!(ch.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
    assert_eq!(ch.sig_algs, sigs);
    assert!(s.events().is_empty(), "{:?}", s.events());
}

#[test]
fn full_tls12_handshake() {
    let s = run_seq(&tls12_session());
    assert_eq!(s.progress(), TlsProgress::HandshakeDone);
    let sh = s.server_hello().unwrap();
    assert_eq!(sh.cipher, Some(0xc02f));
    assert_eq!(sh.ja3s_string, "771,49199,65281-11");
    assert_eq!(
        sh.ja3s_hash.as_deref(),
        Some(hello::md5_hex("771,49199,65281-11").as_str())
    );
    assert_eq!(s.version(), Some(0x0303));
    assert_eq!(s.version_dir(Dir::ToServer), Some(0x0301));
    let certs = s.certs();
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[0].der, le_cert());
    assert_eq!(certs[0].subject, "CN=example.com");
    assert_eq!(certs[0].issuer, "C=US, O=Let's Encrypt, CN=R3");
    assert_eq!(certs[0].serial, "00:FA:01:02");
    assert_eq!(certs[0].not_before, 1_577_836_800);
    assert_eq!(certs[0].not_after, 1_924_991_999);
    assert_eq!(certs[0].fingerprint, cert::fingerprint(&le_cert()));
    assert_eq!(certs[1].subject, "C=US, O=Let's Encrypt, CN=R3");
    assert_eq!(s.cert(1), Some(ca_cert().as_slice()));
    assert_eq!(s.cert(2), None);
    assert_eq!(
        s.buffer(TlsBuffer::CertSubject),
        Some(&b"CN=example.com"[..])
    );
    assert_eq!(
        s.buffer(TlsBuffer::CertIssuer),
        Some(&b"C=US, O=Let's Encrypt, CN=R3"[..])
    );
    assert_eq!(s.buffer(TlsBuffer::CertSerial), Some(&b"00:FA:01:02"[..]));
    assert_eq!(s.buffer_dir(TlsBuffer::CertSubject, Dir::ToServer), None);
    assert!(s.events().is_empty(), "{:?}", s.events());
    assert_eq!(s.counters().encrypted_handshake, 2);
    assert_eq!(s.counters().change_cipher_spec, 2);
    assert_eq!(s.counters().application_data, 1);
    assert!(s.eve_wanted());

    // Suricata's member order (serde_json sorts keys: look at the text).
    let mut raw = Vec::new();
    let mut o = Obj::new(&mut raw);
    s.write_eve(&mut o);
    o.close();
    let raw = String::from_utf8(raw).unwrap();
    let order = [
        "subject",
        "issuerdn",
        "serial",
        "fingerprint",
        "sni",
        "version",
        "notbefore",
        "notafter",
        "ja3",
        "ja3s",
        "ja4",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| raw.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{raw}");
    let e = eve(&s);
    assert_eq!(e.as_object().unwrap().len(), order.len());
    assert_eq!(e["version"], "TLS 1.2");
    assert_eq!(e["notbefore"], "2020-01-01T00:00:00");
    assert_eq!(e["notafter"], "2030-12-31T23:59:59");
    assert_eq!(e["ja3"]["hash"], "ada70206e40642a3e4461f35503241d5");
    assert_eq!(e["ja3s"]["string"], "771,49199,65281-11");
}

#[test]
fn eve_without_ja3_ja4_and_before_server() {
    let mut s = TlsState::new(&TlsConfig::default());
    s.input(Dir::ToServer, &rec(22, 0x0301, &readme_client_hello()));
    let e = eve(&s);
    assert_eq!(
        e,
        serde_json::json!({"sni": "example.com", "version": "UNDETERMINED"})
    );
    assert!(!s.eve_wanted());
}

#[test]
fn tls13_server_hello_and_encrypted_rest() {
    let client = rec(
        22,
        0x0301,
        &hs(
            1,
            &client_hello_body(
                0x0303,
                &[5; 32],
                &[0x1301],
                &[ext_versions(&[0x0304, 0x0303])],
            ),
        ),
    );
    let mut server = rec(
        22,
        0x0303,
        &hs(
            2,
            &server_hello_body(0x0303, &[5; 32], 0x1301, &[(43, vec![3, 4])]),
        ),
    );
    server.extend(rec(20, 0x0303, &[1]));
    server.extend(rec(23, 0x0303, &[0xaa; 300]));
    let s = run(&client, &server);
    assert_eq!(s.version(), Some(0x0304));
    assert_eq!(s.server_hello().unwrap().selected_version, Some(0x0304));
    assert_eq!(s.progress(), TlsProgress::HandshakeDone);
    assert!(s.certs().is_empty());
    assert!(s.eve_wanted());
    let e = eve(&s);
    assert_eq!(e["version"], "TLS 1.3");
    // Same session ids, but TLS 1.3: not "resumed".
    assert!(e.get("session_resumed").is_none());
}

#[test]
fn session_resumption_by_id() {
    let client = rec(
        22,
        0x0301,
        &hs(1, &client_hello_body(0x0303, &[3; 32], &[0x2f], &[])),
    );
    let mut server = rec(
        22,
        0x0303,
        &hs(2, &server_hello_body(0x0303, &[3; 32], 0x2f, &[])),
    );
    server.extend(rec(20, 0x0303, &[1]));
    let s = run(&client, &server);
    assert_eq!(eve(&s)["session_resumed"], true);
    assert!(!s.eve_wanted());
    let mut cfg = TlsConfig {
        log_session_resumption: true,
        ..TlsConfig::default()
    };
    cfg.ja3 = false;
    let mut s2 = TlsState::new(&cfg);
    s2.input(Dir::ToServer, &client);
    s2.input(Dir::ToClient, &server);
    assert!(s2.eve_wanted());
    // JA3 of a hello without extensions.
    assert_eq!(s.client_hello().unwrap().ja3_string, "771,47,,,");
    assert_eq!(s.server_hello().unwrap().ja3s_string, "771,47,");
}

#[test]
fn version_strings() {
    assert_eq!(version_string(0), "UNDETERMINED");
    assert_eq!(version_string(0x0200), "SSLv2");
    assert_eq!(version_string(0x0300), "SSLv3");
    assert_eq!(version_string(0x0301), "TLSv1");
    assert_eq!(version_string(0x0302), "TLS 1.1");
    assert_eq!(version_string(0x0304), "TLS 1.3");
    assert_eq!(version_string(0x7f1c), "TLS 1.3 draft-28");
    assert_eq!(version_string(0x7f01), "TLS 1.3 draft-<16");
    assert_eq!(version_string(0xfb1a), "TLS 1.3 draft-26-fb");
    assert_eq!(version_string(0x1234), "0x1234");
}

#[test]
fn time_format() {
    assert_eq!(format_time(0), "1970-01-01T00:00:00");
    assert_eq!(format_time(1_577_836_800), "2020-01-01T00:00:00");
    assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00");
    assert_eq!(format_time(-1), "1969-12-31T23:59:59");
    assert_eq!(format_time(253_402_300_799), "9999-12-31T23:59:59");
}

#[test]
fn sslv2_client_hello() {
    // 2-byte header, CLIENT-HELLO, version 3.1, cipher specs 3, session id 0, challenge 16.
    let mut body = vec![1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 4];
    body.extend_from_slice(&[0xcc; 16]);
    let mut r = vec![0x80, body.len() as u8];
    r.extend_from_slice(&body);
    let mut s = TlsState::new(&TlsConfig::default());
    s.input(Dir::ToServer, &r);
    assert_eq!(s.progress(), TlsProgress::ClientHello);
    assert_eq!(s.version_dir(Dir::ToServer), Some(0x0200));
    assert!(s.client_hello().is_none());
    // The server answers in TLS.
    s.input(Dir::ToClient, &server_flight_tls12());
    assert_eq!(s.progress(), TlsProgress::HandshakeDone);
    assert_eq!(s.version_dir(Dir::ToServer), Some(0x0200));
    assert!(s.events().is_empty(), "{:?}", s.events());
    // A zero-length SSLv2 record stops that direction.
    let mut s = TlsState::new(&TlsConfig::default());
    s.input(Dir::ToServer, &[0x80, 0x00, 0x16, 0x03]);
    assert_eq!(
        s.events(),
        [ev::INVALID_SSLV2_HEADER, ev::INVALID_SSL_RECORD]
    );
}

#[test]
fn handshake_message_split_over_records() {
    let msg = certificate_msg(&[le_cert()]);
    let (a, b) = msg.split_at(30);
    let mut server = rec(
        22,
        0x0303,
        &hs(2, &server_hello_body(0x0303, &[], 0x2f, &[])),
    );
    server.extend(rec(22, 0x0303, a));
    server.extend(rec(22, 0x0303, b));
    let s = run(&[], &server);
    assert_eq!(s.certs().len(), 1);
    assert_eq!(s.progress(), TlsProgress::HandshakeDone);
    assert!(s.events().is_empty(), "{:?}", s.events());
}

#[test]
fn several_messages_in_one_record() {
    let mut body = hs(2, &server_hello_body(0x0303, &[], 0x2f, &[]));
    body.extend(certificate_msg(&[le_cert()]));
    body.extend(hs(14, &[]));
    let s = run(&[], &rec(22, 0x0303, &body));
    assert_eq!(s.certs().len(), 1);
    assert_eq!(s.counters().handshake_messages, 3);
}

#[test]
fn errors_raise_suricata_events() {
    // Unknown record type: fatal.
    let mut s = run(&rec(0x30, 0x0303, &[1, 2, 3]), &[]);
    assert_eq!(s.events(), [ev::INVALID_RECORD_TYPE]);
    assert!(s.failed());
    s.input(Dir::ToServer, &rec(22, 0x0301, &readme_client_hello()));
    assert!(s.client_hello().is_none());
    assert_eq!(
        s.counters().bytes_not_parsed,
        5 + readme_client_hello().len() as u64
    );

    // Handshake record shorter than a message header.
    let s = run(&rec(22, 0x0301, &[1, 0]), &[]);
    assert_eq!(s.events(), [ev::INVALID_SSL_RECORD]);
    // Trailing bytes after a message.
    let mut body = readme_client_hello();
    body.extend_from_slice(&[1, 0]);
    let s = run(&rec(22, 0x0301, &body), &[]);
    assert_eq!(
        s.events(),
        [ev::INVALID_SSL_RECORD, ev::INVALID_HANDSHAKE_MESSAGE]
    );
    assert!(s.client_hello().is_some());
    // Unknown handshake type: an event, parsing goes on.
    let mut body = hs(99, &[0; 3]);
    body.extend(readme_client_hello());
    let s = run(&rec(22, 0x0301, &body), &[]);
    assert_eq!(s.events(), [ev::INVALID_HANDSHAKE_MESSAGE]);
    assert!(!s.failed() && s.client_hello().is_some());
    // Oversized record.
    let s = run(&rec(23, 0x0303, &vec![0; RECORD_MAX + 1]), &[]);
    assert_eq!(s.events(), [ev::INVALID_RECORD_LENGTH]);
    // Bad SNI type, bad SNI length, two SNI.
    let h = |exts: &[(u16, Vec<u8>)]| {
        rec(
            22,
            0x0301,
            &hs(1, &client_hello_body(0x0303, &[], &[0x2f], exts)),
        )
    };
    let s = run(&h(&[(0, vec![0, 4, 1, 0, 1, b'a'])]), &[]);
    assert_eq!(s.events(), [ev::INVALID_SNI_TYPE]);
    assert!(s.client_hello().unwrap().ja3_hash.is_some());
    let s = run(&h(&[(0, vec![0, 3, 0, 0, 0])]), &[]);
    assert_eq!(s.events(), [ev::INVALID_SNI_LENGTH]);
    let s = run(&h(&[ext_sni(b"a.b"), ext_sni(b"c.d")]), &[]);
    assert_eq!(s.events(), [ev::MULTIPLE_SNI_EXTENSIONS]);
    assert_eq!(s.buffer(TlsBuffer::Sni), Some(&b"a.b"[..]));
    // A cut ClientHello: no JA3 hash, the string as far as it got.
    let body = client_hello_body(0x0303, &[], &[0x2f, 0x35], &[]);
    let s = run(&rec(22, 0x0301, &hs(1, &body[..40])), &[]);
    assert_eq!(s.events(), [ev::HANDSHAKE_INVALID_LENGTH]);
    let ch = s.client_hello().unwrap();
    assert_eq!(
        (ch.ja3_string.as_str(), ch.ja3_hash.as_ref()),
        ("771", None)
    );
    // A certificate that does not decode.
    let s = run(
        &[],
        &rec(
            22,
            0x0303,
            &certificate_msg(&[vec![0x30, 0x03, 1, 2, 3], le_cert()]),
        ),
    );
    assert_eq!(s.events().len(), 1);
    assert!(
        s.events()[0].starts_with("CERTIFICATE_INVALID")
            || s.events()[0] == ev::INVALID_CERTIFICATE
    );
    assert_eq!(s.certs().len(), 1); // the bad first one is not kept
    assert_eq!(s.buffer(TlsBuffer::CertSubject), None);
    // A certificate list longer than its message.
    let mut m = certificate_msg(&[le_cert()]);
    m[6] = m[6].wrapping_add(1);
    let s = run(&[], &rec(22, 0x0303, &m));
    assert_eq!(s.events(), [ev::INVALID_CERTIFICATE]);
}

#[test]
fn heartbleed_checks() {
    // A request claiming more payload than it carries.
    let mut body = vec![1, 0x40, 0x00];
    body.extend_from_slice(&[0; 16]);
    let s = run(&rec(24, 0x0303, &body), &[]);
    assert_eq!(s.events(), [ev::OVERFLOW_HEARTBEAT_MESSAGE]);
    // Encrypted: a reply longer than the request.
    let mut c = rec(20, 0x0303, &[1]);
    c.extend(rec(24, 0x0303, &[0; 40]));
    let mut s = run(&c, &[]);
    s.input(Dir::ToClient, &rec(24, 0x0303, &[0; 400]));
    assert_eq!(s.events(), [ev::DATALEAK_HEARTBEAT_MISMATCH]);
}

#[test]
fn gap_and_eof() {
    let mut s = TlsState::new(&TlsConfig::default());
    let r = rec(22, 0x0301, &readme_client_hello());
    s.input(Dir::ToServer, &r[..10]);
    s.eof(Dir::ToServer);
    assert_eq!(s.counters().truncated_at_eof, 10);
    s.eof(Dir::ToClient);
    assert_eq!(s.progress(), TlsProgress::Finished);
    let mut s = TlsState::new(&TlsConfig::default());
    s.gap(Dir::ToClient, 100);
    s.input(Dir::ToServer, &r);
    assert!(s.failed() && s.client_hello().is_none());
}

#[test]
fn caps_are_counted() {
    let cfg = TlsConfig {
        max_certs: 1,
        max_events: 2,
        max_handshake_message: 100,
        ..TlsConfig::default()
    };
    let mut s = TlsState::new(&cfg);
    s.input(
        Dir::ToClient,
        &rec(
            22,
            0x0303,
            &certificate_msg(&[le_cert(), ca_cert(), ca_cert()]),
        ),
    );
    assert_eq!(s.certs().len(), 1);
    assert_eq!(s.counters().certs_dropped, 2);
    // A message over the cap, split: skipped, and the next one parses.
    let msg = certificate_msg(&[ca_cert()]);
    let (a, b) = msg.split_at(20);
    let mut t = TlsState::new(&cfg);
    let mut d = rec(22, 0x0303, a);
    d.extend(rec(22, 0x0303, b));
    d.extend(rec(
        22,
        0x0303,
        &hs(2, &server_hello_body(0x0303, &[], 0x2f, &[])),
    ));
    t.input(Dir::ToClient, &d);
    assert_eq!(t.counters().handshake_too_large, 1);
    assert!(t.certs().is_empty() && t.server_hello().is_some());
    // Events.
    let mut u = TlsState::new(&cfg);
    for _ in 0..5 {
        u.input(Dir::ToServer, &rec(22, 0x0301, &hs(99, &[])));
    }
    assert_eq!(u.events().len(), 2);
    assert_eq!(u.counters().events_dropped, 3);
}

// ---- hostile inputs -----------------------------------------------------------

fn all_fixtures() -> Vec<Vec<(Dir, Vec<u8>)>> {
    vec![
        tls12_session(),
        vec![(Dir::ToServer, rec(22, 0x0301, &readme_client_hello()))],
    ]
}

#[test]
fn every_truncation_is_safe() {
    for seq in all_fixtures() {
        for (k, (_, b)) in seq.iter().enumerate() {
            for n in 0..=b.len() {
                let mut cut = seq[..k].to_vec();
                cut.push((seq[k].0, b[..n].to_vec()));
                let mut s = run_seq(&cut);
                s.eof(Dir::ToClient);
                s.eof(Dir::ToServer);
                let _ = snapshot(&s);
            }
        }
    }
    // Truncated handshake messages inside whole records.
    for m in [readme_client_hello(), certificate_msg(&[le_cert()])] {
        for n in 4..m.len() {
            let mut body = m[..n].to_vec();
            let len = n - 4;
            body[1..4].copy_from_slice(&u24b(len));
            let _ = snapshot(&run(&rec(22, 0x0301, &body), &rec(22, 0x0303, &body)));
        }
    }
}

#[test]
fn bit_flips_are_safe() {
    for seq in all_fixtures() {
        for k in 0..seq.len() {
            for i in 0..seq[k].1.len() {
                for bit in [0x01u8, 0x80, 0xff] {
                    let mut x = seq.clone();
                    x[k].1[i] ^= bit;
                    let _ = snapshot(&run_seq(&x));
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn garbage_is_safe(a in proptest::collection::vec(any::<u8>(), 0..600),
                       b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut s = TlsState::new(&TlsConfig { ja3: true, ja4: true, ..TlsConfig::default() });
        s.input(Dir::ToServer, &a);
        s.input(Dir::ToClient, &b);
        s.eof(Dir::ToServer);
        let _ = snapshot(&s);
    }

    #[test]
    fn random_splits_give_the_same_result(
        cuts in proptest::collection::vec(0usize..3000, 0..16),
        which in 0usize..2,
    ) {
        let seq = all_fixtures().swap_remove(which);
        let whole = snapshot(&run_seq(&seq));
        let mut s = TlsState::new(&TlsConfig { ja3: true, ja4: true, ..TlsConfig::default() });
        for (k, (dir, data)) in seq.iter().enumerate() {
            let mut c: Vec<usize> = cuts
                .iter()
                .skip(k * 4)
                .take(4)
                .map(|&x| x % (data.len() + 1))
                .collect();
            c.sort_unstable();
            let mut last = 0;
            for c in c {
                s.input(*dir, &data[last..c]);
                last = c;
            }
            s.input(*dir, &data[last..]);
        }
        prop_assert_eq!(whole, snapshot(&s));
    }

    #[test]
    fn byte_by_byte_gives_the_same_result(which in 0usize..2) {
        let seq = all_fixtures().swap_remove(which);
        let whole = snapshot(&run_seq(&seq));
        let mut s = TlsState::new(&TlsConfig { ja3: true, ja4: true, ..TlsConfig::default() });
        for (dir, data) in &seq {
            for b in data {
                s.input(*dir, std::slice::from_ref(b));
            }
        }
        prop_assert_eq!(whole, snapshot(&s));
    }
}

#[test]
fn client_certificate_is_logged_under_client() {
    let mut seq = tls12_session();
    seq.insert(
        2,
        (
            Dir::ToServer,
            rec(22, 0x0303, &certificate_msg(&[ca_cert()])),
        ),
    );
    let s = run_seq(&seq);
    assert_eq!(s.client_certs().len(), 1);
    assert_eq!(
        s.buffer_dir(TlsBuffer::CertSubject, Dir::ToServer),
        Some(&b"C=US, O=Let's Encrypt, CN=R3"[..])
    );
    assert_eq!(s.cert_dir(Dir::ToServer, 0), Some(ca_cert().as_slice()));
    let e = eve(&s);
    assert_eq!(e["client"]["subject"], "C=US, O=Let's Encrypt, CN=R3");
    assert_eq!(e["client"]["issuerdn"], "C=US, CN=Root");
    assert_eq!(e["subject"], "CN=example.com");
}

#[test]
fn tls13_middlebox_ccs_and_early_data() {
    let hello = |exts: &[(u16, Vec<u8>)]| {
        rec(
            22,
            0x0301,
            &hs(1, &client_hello_body(0x0303, &[1; 32], &[0x1301], exts)),
        )
    };
    // A TLS 1.3 client's ChangeCipherSpec before the ServerHello leaves its
    // handshake in clear (a second ClientHello is still parsed: its SNI is
    // a second one).
    let mut c = hello(&[ext_versions(&[0x0304]), ext_sni(b"a.example")]);
    c.extend(rec(20, 0x0303, &[1]));
    c.extend(hello(&[ext_versions(&[0x0304]), ext_sni(b"b.example")]));
    let s = run(&c, &[]);
    assert_eq!(s.events(), [ev::MULTIPLE_SNI_EXTENSIONS]);
    assert_eq!(s.counters().encrypted_handshake, 0);
    // A TLS 1.2 client's is the end of its clear handshake.
    let mut c = hello(&[ext_sni(b"a.example")]);
    c.extend(rec(20, 0x0303, &[1]));
    c.extend(hello(&[ext_sni(b"b.example")]));
    let s = run(&c, &[]);
    assert!(s.events().is_empty());
    assert_eq!(s.counters().encrypted_handshake, 1);
    // 0-RTT data before the ServerHello does not end the handshake.
    let mut c = hello(&[ext_versions(&[0x0304]), ext(42, &[])]);
    c.extend(rec(23, 0x0303, &[9; 50]));
    let s = run(&c, &[]);
    assert_eq!(s.progress(), TlsProgress::ClientHello);
    let mut c = hello(&[ext_versions(&[0x0304])]);
    c.extend(rec(23, 0x0303, &[9; 50]));
    assert_eq!(run(&c, &[]).progress(), TlsProgress::HandshakeDone);
}

#[test]
fn empty_issuer_is_an_empty_buffer() {
    let c = certificate(&[5], &[], &[(3, "localhost")]);
    let s = run(&[], &rec(22, 0x0303, &certificate_msg(&[c])));
    assert_eq!(s.buffer(TlsBuffer::CertIssuer), Some(&b""[..]));
    assert_eq!(s.buffer(TlsBuffer::CertSubject), Some(&b"CN=localhost"[..]));
    assert_eq!(s.progress(), TlsProgress::HandshakeDone);
    assert_eq!(eve(&s)["issuerdn"], "");
    assert_eq!(s.buffer(TlsBuffer::Sni), None);
}
