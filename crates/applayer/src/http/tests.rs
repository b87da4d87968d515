//! Transaction-level tests with byte fixtures.

use std::io::Write;

use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use proptest::prelude::*;

use super::*;

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Feeds the request bytes, then the response bytes, then closes both.
fn run_with(cfg: &HttpConfig, req: &[u8], resp: &[u8]) -> HttpState {
    let mut s = HttpState::new(cfg);
    s.input(Dir::ToServer, req);
    s.input(Dir::ToClient, resp);
    s.eof(Dir::ToServer);
    s.eof(Dir::ToClient);
    s
}

fn run(req: &[u8], resp: &[u8]) -> HttpState {
    run_with(&HttpConfig::default(), req, resp)
}

fn b(tx: &HttpTx, which: HttpBuffer) -> Option<&[u8]> {
    tx.buffer(which)
}

fn has(tx: &HttpTx, e: &str) -> bool {
    tx.events().contains(&e)
}

const REQ: &[u8] = b"GET /a/./b/../c%41?x=%41+1 HTTP/1.1\r\n\
Host: WWW.Example.com:8080\r\n\
User-Agent: Mozilla/5.0\r\n\
Accept: text/html\r\n\
Accept-Encoding: gzip, deflate\r\n\
Accept-Language: en\r\n\
Referer: http://ref.example/\r\n\
Cookie: a=b\r\n\
Connection: keep-alive\r\n\
\r\n";

const RESP: &[u8] = b"HTTP/1.1 302 Found here\r\n\
Server: nginx\r\n\
Location: /elsewhere\r\n\
Set-Cookie: s=1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 5\r\n\
Connection: close\r\n\
\r\n\
hello";

#[test]
fn every_buffer_of_a_simple_exchange() {
    let s = run(REQ, RESP);
    let tx = s.tx(0).unwrap();
    assert_eq!(tx.request_progress(), Progress::Complete);
    assert_eq!(tx.response_progress(), Progress::Complete);
    use HttpBuffer as B;
    assert_eq!(b(tx, B::Uri), Some(&b"/a/cA?x=A+1"[..]));
    assert_eq!(b(tx, B::UriRaw), Some(&b"/a/./b/../c%41?x=%41+1"[..]));
    assert_eq!(b(tx, B::Method), Some(&b"GET"[..]));
    assert_eq!(b(tx, B::RequestProtocol), Some(&b"HTTP/1.1"[..]));
    assert_eq!(b(tx, B::ResponseProtocol), Some(&b"HTTP/1.1"[..]));
    assert_eq!(
        b(tx, B::RequestLine),
        Some(&b"GET /a/./b/../c%41?x=%41+1 HTTP/1.1"[..])
    );
    assert_eq!(
        b(tx, B::ResponseLine),
        Some(&b"HTTP/1.1 302 Found here"[..])
    );
    assert_eq!(b(tx, B::Host), Some(&b"www.example.com"[..]));
    assert_eq!(b(tx, B::HostRaw), Some(&b"WWW.Example.com:8080"[..]));
    assert_eq!(b(tx, B::UserAgent), Some(&b"Mozilla/5.0"[..]));
    assert_eq!(b(tx, B::Accept), Some(&b"text/html"[..]));
    assert_eq!(b(tx, B::AcceptEnc), Some(&b"gzip, deflate"[..]));
    assert_eq!(b(tx, B::AcceptLang), Some(&b"en"[..]));
    assert_eq!(b(tx, B::Referer), Some(&b"http://ref.example/"[..]));
    assert_eq!(b(tx, B::RequestCookie), Some(&b"a=b"[..]));
    assert_eq!(b(tx, B::ResponseCookie), Some(&b"s=1"[..]));
    assert_eq!(b(tx, B::RequestConnection), Some(&b"keep-alive"[..]));
    assert_eq!(b(tx, B::ResponseConnection), Some(&b"close"[..]));
    assert_eq!(
        b(tx, B::ResponseContentType),
        Some(&b"text/html; charset=utf-8"[..])
    );
    assert_eq!(b(tx, B::RequestContentType), None);
    assert_eq!(b(tx, B::ResponseContentLen), Some(&b"5"[..]));
    assert_eq!(b(tx, B::RequestContentLen), None);
    assert_eq!(b(tx, B::StatCode), Some(&b"302"[..]));
    assert_eq!(b(tx, B::StatMsg), Some(&b"Found here"[..]));
    assert_eq!(b(tx, B::Server), Some(&b"nginx"[..]));
    assert_eq!(b(tx, B::Location), Some(&b"/elsewhere"[..]));
    assert_eq!(b(tx, B::ResponseBody), Some(&b"hello"[..]));
    assert_eq!(b(tx, B::RequestBody), None);
    // http.header: no Cookie, "Name: value\r\n" each, no extra CRLF.
    assert_eq!(
        b(tx, B::RequestHeaders),
        Some(
            &b"Host: WWW.Example.com:8080\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\n\
Accept-Encoding: gzip, deflate\r\nAccept-Language: en\r\nReferer: http://ref.example/\r\n\
Connection: keep-alive\r\n"[..]
        )
    );
    let resp_hdr = b(tx, B::ResponseHeaders).unwrap();
    assert!(!contains(resp_hdr, b"Set-Cookie"));
    assert!(resp_hdr.starts_with(b"Server: nginx\r\nLocation: /elsewhere\r\nContent-Type"));
    // http.header.raw: as received, the final empty line included.
    assert_eq!(b(tx, B::RequestHeadersRaw), Some(&REQ[37..]));
    assert!(
        b(tx, B::ResponseHeadersRaw)
            .unwrap()
            .ends_with(b"close\r\n\r\n")
    );
    assert_eq!(
        b(tx, B::RequestHeaderNames),
        Some(
            &b"\r\nHost\r\nUser-Agent\r\nAccept\r\nAccept-Encoding\r\nAccept-Language\r\nReferer\r\nCookie\r\nConnection\r\n\r\n"[..]
        )
    );
    let start = b(tx, B::RequestStart).unwrap();
    assert!(start.starts_with(b"GET /a/./b/../c%41?x=%41+1 HTTP/1.1\r\nHost: WWW"));
    assert!(contains(start, b"Cookie: a=b\r\n"));
    assert!(start.ends_with(b"keep-alive\r\n\r\n"));
    assert!(
        b(tx, B::ResponseStart)
            .unwrap()
            .starts_with(b"HTTP/1.1 302 Found here\r\nServer")
    );
    assert_eq!(
        tx.request_header(0),
        Some(&b"Host: WWW.Example.com:8080"[..])
    );
    assert_eq!(tx.request_header(6), Some(&b"Cookie: a=b"[..]));
    assert_eq!(tx.request_header(8), None);
    assert_eq!(tx.response_header(2), Some(&b"Set-Cookie: s=1"[..]));
    assert!(tx.events().is_empty(), "{:?}", tx.events());
    assert_eq!(tx.status_code(), Some(302));
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn eve_http_object() {
    let s = run(REQ, RESP);
    let mut out = Vec::new();
    let mut o = mirador_engine::eve::Obj::new(&mut out);
    s.tx(0).unwrap().write_eve(&mut o);
    o.close();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "hostname": "www.example.com",
            "http_port": 8080,
            "url": "/a/./b/../c%41?x=%41+1",
            "http_user_agent": "Mozilla/5.0",
            "http_content_type": "text/html",
            "http_refer": "http://ref.example/",
            "http_method": "GET",
            "protocol": "HTTP/1.1",
            "status": 302,
            "redirect": "/elsewhere",
            "length": 5
        })
    );
    // Members appear in Suricata's order.
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("{\"hostname\":\"www.example.com\",\"http_port\":8080,\"url\""));
}

#[test]
fn eve_for_odd_transactions() {
    let s = run(
        b"",
        b"HTTP/1.1 206 Partial\r\nContent-Range: bytes 0-1/10\r\nContent-Length: 2\r\n\r\nab",
    );
    let tx = s.tx(0).unwrap();
    assert!(has(tx, "UNABLE_TO_MATCH_RESPONSE_TO_REQUEST"));
    let mut out = Vec::new();
    let mut o = mirador_engine::eve::Obj::new(&mut out);
    tx.write_eve(&mut o);
    o.close();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["url"], "/libhtp::request_uri_not_seen");
    assert_eq!(v["content_range"]["raw"], "bytes 0-1/10");
    assert_eq!(v["content_range"]["end"], 1);
    assert_eq!(v["content_range"]["size"], 10);
    assert_eq!(v["status"], 206);
    assert!(v.get("http_method").is_none());
    assert_eq!(
        b(tx, HttpBuffer::Uri),
        Some(&b"/libhtp::request_uri_not_seen"[..])
    );
}

#[test]
fn absolute_uri_gives_the_host() {
    let s = run(
        b"GET http://Www.Evil.COM:81/x?q HTTP/1.1\r\nHost: other.example\r\n\r\n",
        b"",
    );
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::Host), Some(&b"www.evil.com"[..]));
    assert_eq!(b(tx, HttpBuffer::HostRaw), Some(&b"www.evil.com"[..]));
    assert_eq!(b(tx, HttpBuffer::Uri), Some(&b"/x?q"[..]));
    assert_eq!(
        b(tx, HttpBuffer::UriRaw),
        Some(&b"http://Www.Evil.COM:81/x?q"[..])
    );
    assert!(has(tx, "HOST_HEADER_AMBIGUOUS"));
    assert_eq!(tx.port, Some(81));
}

#[test]
fn host_events() {
    let s = run(b"GET / HTTP/1.1\r\n\r\n", b"");
    assert!(has(s.tx(0).unwrap(), "MISSING_HOST_HEADER"));
    let s = run(b"GET / HTTP/1.0\r\n\r\n", b"");
    assert!(!has(s.tx(0).unwrap(), "MISSING_HOST_HEADER"));
    assert_eq!(b(s.tx(0).unwrap(), HttpBuffer::Host), None);
    let s = run(b"GET / HTTP/1.1\r\nHost: a b:x\r\n\r\n", b"");
    assert!(has(s.tx(0).unwrap(), "REQUEST_HEADER_HOST_INVALID"));
    let s = run(b"GET http://a..b/ HTTP/1.1\r\nHost: a\r\n\r\n", b"");
    assert!(has(s.tx(0).unwrap(), "REQUEST_URI_HOST_INVALID"));
}

#[test]
fn authorization_schemes() {
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: NTLM abc\r\n\r\n",
        b"",
    );
    assert!(has(s.tx(0).unwrap(), "REQUEST_AUTH_UNRECOGNIZED"));
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n\r\n",
        b"",
    );
    assert!(s.tx(0).unwrap().events().is_empty());
}

#[test]
fn header_folding_and_duplicates() {
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\tthree\r\nX-B: 1\r\nx-b: 2\r\nX-B: 3\r\n\
Content-Length: 0\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n Transfer-Encoding: chunked\r\nX: 1\r\nX: 2\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
    );
    let tx = s.tx(0).unwrap();
    let hdr = b(tx, HttpBuffer::RequestHeaders).unwrap();
    assert!(
        contains(hdr, b"X-A: one two\tthree\r\n"),
        "{}",
        String::from_utf8_lossy(hdr)
    );
    assert!(contains(hdr, b"X-B: 1, 2, 3\r\n"));
    assert!(contains(hdr, b"Content-Length: 0\r\n"));
    assert!(!contains(hdr, b"Content-Length: 0, 0"));
    // The second occurrence is libhtp's "Repetition for header".
    assert!(has(tx, "UNKNOWN_ERROR"));
    assert!(!has(tx, "DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST"));
    // Folded into Connection, so no chunking: the body is the C-L's 3.
    assert_eq!(
        b(tx, HttpBuffer::ResponseConnection),
        Some(&b"close Transfer-Encoding: chunked"[..])
    );
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"abc"[..]));
    assert!(has(tx, "DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE"));
    assert_eq!(b(tx, HttpBuffer::ResponseContentLen), Some(&b"3"[..]));
}

#[test]
fn invalid_header_lines() {
    let s = run(
        b"GET / HTTP/1.1\r\n fold first\r\nHost: h\r\nno colon line\r\nBad Name: v\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n junk\r\nOops\r\nA B: c\r\nContent-Length: 0\r\n\r\n",
    );
    let tx = s.tx(0).unwrap();
    for e in [
        "INVALID_REQUEST_FIELD_FOLDING",
        "REQUEST_FIELD_MISSING_COLON",
        "REQUEST_HEADER_INVALID",
        "INVALID_RESPONSE_FIELD_FOLDING",
        "RESPONSE_FIELD_MISSING_COLON",
        "RESPONSE_HEADER_INVALID",
    ] {
        assert!(has(tx, e), "{e}: {:?}", tx.events());
    }
    // A line without a colon is a field with an empty name.
    let hdr = b(tx, HttpBuffer::RequestHeaders).unwrap();
    // (with the invalid first folded line, whose name is empty too).
    assert!(
        contains(hdr, b":  fold first, no colon line\r\n"),
        "{}",
        String::from_utf8_lossy(hdr)
    );
}

#[test]
fn request_line_oddities() {
    let s = run(b"  get\t/x y\tHTTP/1.1\r\n\r\n", b"");
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::Method), Some(&b"get"[..]));
    // The URI ends at the last space (Suricata's allow-space-uri).
    assert_eq!(b(tx, HttpBuffer::UriRaw), Some(&b"/x"[..]));
    assert_eq!(
        b(tx, HttpBuffer::RequestProtocol),
        Some(&b"y\tHTTP/1.1"[..])
    );
    assert!(has(tx, "REQUEST_LINE_LEADING_WHITESPACE"));
    assert!(has(tx, "METHOD_DELIM_NON_COMPLIANT"));
    // A space in the URI (Suricata's allow-space-uri).
    let s = run(b"GET /a b HTTP/1.0\r\n\r\n", b"");
    assert_eq!(b(s.tx(0).unwrap(), HttpBuffer::UriRaw), Some(&b"/a b"[..]));
    // Tabs only.
    let s = run(b"GET\t/a\tHTTP/1.0\r\n\r\n", b"");
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::UriRaw), Some(&b"/a"[..]));
    assert!(has(tx, "URI_DELIM_NON_COMPLIANT"));
    // Any token is a method.
    let s = run(b"FOO-BAR /x HTTP/1.1\r\nHost: h\r\n\r\n", b"");
    assert_eq!(
        b(s.tx(0).unwrap(), HttpBuffer::Method),
        Some(&b"FOO-BAR"[..])
    );
}

#[test]
fn http09_and_missing_protocol() {
    let s = run(b"GET /old\r\n", b"<html>old</html>");
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::RequestProtocol), None);
    assert_eq!(b(tx, HttpBuffer::Uri), Some(&b"/old"[..]));
    assert_eq!(
        b(tx, HttpBuffer::ResponseBody),
        Some(&b"<html>old</html>"[..])
    );
    assert_eq!(b(tx, HttpBuffer::ResponseLine), None);
    assert_eq!(tx.response_progress(), Progress::Complete);
    assert_eq!(tx.request_progress(), Progress::Complete);
    // Headers after a line without protocol: "missing protocol".
    let s = run(b"GET /x\r\nHost: h\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nbody");
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::Host), Some(&b"h"[..]));
    assert!(has(tx, "UNKNOWN_ERROR"));
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"body"[..]));
    // The 0.9 request is decided by the answer when nothing else came.
    let mut st = HttpState::new(&HttpConfig::default());
    st.input(Dir::ToServer, b"GET /\r\n");
    assert_eq!(st.tx(0).unwrap().request_progress(), Progress::Line);
    st.input(Dir::ToClient, b"data");
    assert_eq!(st.tx(0).unwrap().request_progress(), Progress::Complete);
    assert_eq!(st.txs().count(), 1);
}

#[test]
fn pipelining_pairs_in_order() {
    let req = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 201 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nbb\r\n0\r\n\r\nHTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n";
    let s = run(req, resp);
    let txs: Vec<_> = s.txs().collect();
    assert_eq!(txs.len(), 3);
    let got: Vec<_> = txs
        .iter()
        .map(|t| {
            (
                t.id,
                b(t, HttpBuffer::Uri).unwrap().to_vec(),
                t.status_code(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, b"/1".to_vec(), Some(200)),
            (1, b"/2".to_vec(), Some(201)),
            (2, b"/3".to_vec(), Some(404)),
        ]
    );
    assert_eq!(b(txs[1], HttpBuffer::RequestBody), Some(&b"abcd"[..]));
    assert_eq!(b(txs[1], HttpBuffer::ResponseBody), Some(&b"bb"[..]));
    assert_eq!(b(txs[0], HttpBuffer::ResponseBody), Some(&b"a"[..]));
    assert!(
        txs.iter()
            .all(|t| t.response_progress() == Progress::Complete)
    );
}

#[test]
fn chunked_bodies_and_bad_lengths() {
    let req = b"POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n0\r\nTrailer-X: 1\r\n\r\n";
    let s = run(req, b"");
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::RequestBody), Some(&b"abc"[..]));
    assert_eq!(tx.request_progress(), Progress::Complete);
    assert!(contains(
        b(tx, HttpBuffer::RequestHeaders).unwrap(),
        b"Trailer-X: 1\r\n"
    ));
    assert!(
        b(tx, HttpBuffer::RequestHeadersRaw)
            .unwrap()
            .ends_with(b"Trailer-X: 1\r\n\r\n")
    );
    // A bad request chunk length stops the request side.
    let s = run(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /next HTTP/1.1\r\n\r\n",
        b"",
    );
    assert!(has(s.tx(0).unwrap(), "INVALID_REQUEST_CHUNK_LEN"));
    assert_eq!(s.txs().count(), 1);
    assert!(s.counters().bytes_after_error > 0);
    // A bad response chunk length: the rest is body (libhtp's fallback).
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        &cat(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            EICAR,
        ]),
    );
    let tx = s.tx(0).unwrap();
    assert!(has(tx, "INVALID_RESPONSE_CHUNK_LEN"));
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(EICAR));
    // T-E that is not chunked in a request: invalid, parsing stops.
    let s = run(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"");
    assert!(has(
        s.tx(0).unwrap(),
        "INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST"
    ));
    let s = run(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"");
    assert!(has(
        s.tx(0).unwrap(),
        "INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST"
    ));
}

/// Responses modelled on the http-evader tests: each must yield the EICAR
/// file as the response body, as Suricata finds it.
#[test]
fn evader_like_responses_give_the_file() {
    let hdr = b"HTTP/1.1 200 ok\r\nContent-type: application/octet-stream\r\nContent-disposition: attachment; filename=\"eicar.txt\"\r\n";
    let chunks5: Vec<u8> = EICAR
        .chunks(5)
        .flat_map(|c| {
            let mut v = format!("{:x}\r\n", c.len()).into_bytes();
            v.extend_from_slice(c);
            v.extend_from_slice(b"\r\n");
            v
        })
        .collect();
    let chunked_with = |size_suffix: &str, prefix: &str| -> Vec<u8> {
        EICAR
            .chunks(15)
            .flat_map(|c| {
                let mut v = format!("{prefix}{:x}{size_suffix}\r\n", c.len()).into_bytes();
                v.extend_from_slice(c);
                v.extend_from_slice(b"\r\n");
                v
            })
            .chain(b"0\r\n\r\n".iter().copied())
            .collect()
    };
    let gzb = gz(EICAR);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("chunked", cat(&[hdr, b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", &chunks5, b"0"])),
        ("size-space", cat(&[hdr, b"Transfer-Encoding: chunked\r\n\r\n", &chunked_with(" ", "")])),
        ("lf-size", cat(&[hdr, b"Transfer-Encoding: chunked\r\n\r\n", &chunked_with("", "\n")])),
        ("cr-size", cat(&[hdr, b"Transfer-Encoding: chunked\r\n\r\n", &chunked_with("", "\r")])),
        ("chunked,clen", cat(&[hdr, b"Transfer-Encoding: chunked\r\nContent-length: 68\r\n\r\n", &chunks5])),
        ("nl-nl-chunked", cat(&[hdr, b"Transfer-Encoding: \r\n \r\n chunked\r\n\r\n", &chunks5])),
        ("x-chunked", cat(&[hdr, b"Transfer-Encoding: x chunked\r\n\r\n", &chunks5])),
        ("rfc2047", cat(&[hdr, b"Transfer-Encoding: =?UTF-8?B?Y2h1bmtlZAo=?=\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("xte,chunked", cat(&[hdr, b"Transfer-Encoding: lalala\r\nTransfer-Encoding: chunked\r\nContent-length: 68\r\n\r\n", &chunks5])),
        ("lfonly", cat(&[b"HTTP/1.1 200 ok\r\nContent-disposition: x\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("clen,clen", cat(&[hdr, b"Content-length: 68\r\nContent-length: 68\r\n\r\n", EICAR, b"XXXX"])),
        ("clen68-136", cat(&[hdr, b"Transfer-Encoding: lalala\r\nContent-length: 68\r\nContent-length: 136\r\n\r\n", EICAR])),
        ("clen 68 34", cat(&[hdr, b"Content-length: 68 34\r\n\r\n", EICAR])),
        ("hdrfirst-space", cat(&[b"HTTP/1.1 200 ok\r\nConnection: close\r\n Transfer-Encoding: chunked\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("junkline", cat(&[hdr, b"qutqzdafsdshadsdfdshsdd sddfd\r\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("crcronly", cat(&[hdr, b"Connection: close\r\n\r\rTransfer-Encoding: chunked\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("te-vt", cat(&[hdr, b"Transfer-Encoding\x0b:chunked\r\n\r\n", &chunks5])),
        ("te-nbsp", cat(&[hdr, b"Transfer-Encoding:\xa0chunked\r\n\r\n", &chunks5])),
        ("te-del", cat(&[hdr, b"Transfer-Encoding:chunked\x7f\r\n\r\n", &chunks5])),
        ("spacehdr", cat(&[hdr, b"Foo Bar: foobar\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("proto 1.10", cat(&[b"HTTP/1.10 200 ok\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("status-cr", cat(&[b"HTTP/1.1 200 \rTransfer-Encoding:chunked\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("nul-status", cat(&[b"\0HTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("cr-no-crlf", cat(&[b"HTTP/1.1 200 ok\rContent-type: x\rTransfer-Encoding: chunked\rYet: foo\r\n\n", &chunks5])),
        ("end-lf-tab", cat(&[hdr, b"Content-length: 68\n\t\n\n", EICAR])),
        ("400", cat(&[b"HTTP/1.1 400 ok\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("000", cat(&[b"HTTP/1.1 000 ok\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("tab-200", cat(&[b"HTTP/1.1 \t200 ok\r\nContent-length: 68\r\n\r\n", EICAR])),
        ("crlf-crlf-header", cat(&[b"\r\n\r\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("sip-line", cat(&[b"SIP/2.0 200 ok\r\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("lf-header", cat(&[b"\nHTTP/1.1 200 ok\r\nTransfer-Encoding: chunked\r\n\r\n", &chunks5])),
        ("gzip", cat(&[hdr, format!("Content-Length: {}\r\nContent-Encoding:gzip\r\n\r\n", gzb.len()).as_bytes(), &gzb])),
        ("nl-deflate", cat(&[hdr, b"Connection: close\r\nContent-Encoding:\r\n deflate\r\n\r\n", &deflate(EICAR)])),
        ("gzip,gzip", cat(&[hdr, b"Connection: close\r\nContent-Encoding:gzip,gzip\r\n\r\n", &gz(&gz(EICAR))])),
        ("identity;gzip", cat(&[hdr, b"Connection: close\r\nContent-Encoding:identity\r\nContent-Encoding:gzip\r\n\r\n", &gzb])),
        ("gzip;deflate", cat(&[hdr, b"Connection: close\r\nContent-Encoding:gzip\r\nContent-Encoding:deflate\r\n\r\n", &gzb])),
        ("deflate,gzip", cat(&[hdr, b"Connection: close\r\nContent-Encoding:deflate,gzip\r\n\r\n", &deflate(EICAR)])),
        ("deflate,", cat(&[hdr, b"Connection: close\r\nContent-Encoding:deflate,\r\n\r\n", EICAR])),
        ("ce::gzip", cat(&[hdr, b"Connection: close\r\nContent-Encoding:: gzip\r\n\r\n", &gzb])),
        ("cr-gzip", cat(&[hdr, b"Connection: close\r\nContent-Encoding:\r gzip\r\n\r\n", &gzb])),
        ("ce-space-colon", cat(&[hdr, b"Connection: close\r\nContent-Encoding : gzip\r\n\r\n", &gzb])),
        ("ce-crlf-colon", cat(&[hdr, b"Connection: close\r\nContent-Encoding\r\n :gzip\r\n\r\n", &gzb])),
        ("gzip-nul", cat(&[hdr, b"Connection: close\r\nContent-Encoding:gzip\0\r\n\r\n", &gzb])),
        ("ce-nul-colon", cat(&[hdr, b"Connection: close\r\nContent-Encoding\0:deflate\r\n\r\n", &deflate(EICAR)])),
        ("nul-deflate", cat(&[hdr, b"Connection: close\r\nContent-Encoding:\0deflate\r\n\r\n", &deflate(EICAR)])),
        ("deflate;", cat(&[hdr, b"Connection: close\r\nContent-Encoding:deflate;\r\n\r\n", &deflate(EICAR)])),
        ("zlib", cat(&[hdr, b"Connection: close\r\nContent-Encoding: deflate\r\n\r\n", &zlib(EICAR)])),
    ];
    let req = b"GET /x HTTP/1.1\r\nHost: evader.example.com\r\n\r\n";
    for (name, resp) in &cases {
        let s = run(req, resp);
        let tx = s.tx(0).unwrap();
        let body = b(tx, HttpBuffer::ResponseBody).unwrap_or_default();
        assert!(
            contains(body, EICAR),
            "{name}: body {:?} events {:?}",
            String::from_utf8_lossy(body),
            tx.events()
        );
        assert_eq!(
            b(tx, HttpBuffer::Host),
            Some(&b"evader.example.com"[..]),
            "{name}"
        );
        // And the same whatever the segmentation.
        for step in [1, 7] {
            let mut st = HttpState::new(&HttpConfig::default());
            for c in req.chunks(step) {
                st.input(Dir::ToServer, c);
            }
            for c in resp.chunks(step) {
                st.input(Dir::ToClient, c);
            }
            st.eof(Dir::ToServer);
            st.eof(Dir::ToClient);
            let body2 = b(st.tx(0).unwrap(), HttpBuffer::ResponseBody).unwrap_or_default();
            assert_eq!(body2, body, "{name} step {step}");
        }
    }
}

#[test]
fn gzip_bad_streams_and_events() {
    let hdr = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n";
    // Not compressed at all: passthrough, with libhtp's GZip warning.
    let s = run(b"GET / HTTP/1.0\r\n\r\n", &cat(&[hdr, b"plain text body"]));
    let tx = s.tx(0).unwrap();
    assert_eq!(
        b(tx, HttpBuffer::ResponseBody),
        Some(&b"plain text body"[..])
    );
    assert!(has(tx, "GZIP_DECOMPRESSION_FAILED"));
    // Bad CRC: the data is there, as libhtp gives it.
    let mut g = gz(b"hello world");
    let n = g.len();
    g[n - 6] ^= 0x55;
    let s = run(b"GET / HTTP/1.0\r\n\r\n", &cat(&[hdr, &g]));
    assert!(contains(
        b(s.tx(0).unwrap(), HttpBuffer::ResponseBody).unwrap(),
        b"hello world"
    ));
    // Too many layers.
    let s = run(
        b"GET / HTTP/1.0\r\n\r\n",
        &cat(&[
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip, gzip\r\n\r\n",
            &gz(&gz(b"x")),
        ]),
    );
    let tx = s.tx(0).unwrap();
    assert!(has(tx, "TOO_MANY_ENCODING_LAYERS"));
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"x"[..]));
}

#[test]
fn compression_bomb_is_stopped_and_counted() {
    let zeros = vec![0u8; 8 << 20];
    let bomb = gz(&gz(&zeros));
    let resp = cat(&[
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        )
        .as_bytes(),
        &bomb,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]);
    let s = run(
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
        &resp,
    );
    let tx = s.tx(0).unwrap();
    assert!(has(tx, "COMPRESSION_BOMB"));
    assert_eq!(s.counters().bombs, 1);
    assert_eq!(b(tx, HttpBuffer::ResponseBody).unwrap().len(), 100 * 1024);
    assert!(s.counters().body_bytes_dropped > 0);
    // The stream goes on.
    assert_eq!(
        b(s.tx(1).unwrap(), HttpBuffer::ResponseBody),
        Some(&b"ok"[..])
    );
}

#[test]
fn request_bodies_are_decoded() {
    let body = gz(b"{\"sdk_version\":1}");
    let req = cat(&[
        format!(
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        &body,
    ]);
    let s = run(&req, b"");
    assert_eq!(
        b(s.tx(0).unwrap(), HttpBuffer::RequestBody),
        Some(&b"{\"sdk_version\":1}"[..])
    );
    // Labelled gzip but sent plain: passthrough.
    let s = run(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nplain",
        b"",
    );
    assert_eq!(
        b(s.tx(0).unwrap(), HttpBuffer::RequestBody),
        Some(&b"plain"[..])
    );
}

#[test]
fn connect_and_tunnels() {
    let s = run(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01tls",
        b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03server",
    );
    assert!(s.is_tunnel());
    let tx = s.tx(0).unwrap();
    assert_eq!(b(tx, HttpBuffer::Host), Some(&b"example.com"[..]));
    assert_eq!(b(tx, HttpBuffer::UriRaw), Some(&b"example.com:443"[..]));
    assert_eq!(tx.response_progress(), Progress::Complete);
    assert_eq!(s.txs().count(), 1);
    assert!(s.counters().tunnel_bytes >= 6);
    // Refused: the next request is parsed.
    let s = run(
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(!s.is_tunnel());
    assert_eq!(s.txs().count(), 2);
    assert_eq!(b(s.tx(1).unwrap(), HttpBuffer::Uri), Some(&b"/after"[..]));
    assert_eq!(s.tx(1).unwrap().status_code(), Some(200));
    // 101 Switching Protocols.
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(
        Dir::ToServer,
        b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
    );
    s.input(
        Dir::ToClient,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
    );
    s.input(Dir::ToServer, b"\x81\x05hello");
    assert!(s.is_tunnel());
    assert_eq!(s.txs().count(), 1);
    assert_eq!(s.counters().tunnel_bytes, 4 + 7);
}

#[test]
fn continue_head_and_body_to_close() {
    // 100 Continue, then the real answer.
    let s = run(
        b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let tx = s.tx(0).unwrap();
    assert_eq!(tx.status_code(), Some(200));
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"ok"[..]));
    assert_eq!(
        b(tx, HttpBuffer::ResponseHeaders),
        Some(&b"Content-Length: 2\r\n"[..])
    );
    assert_eq!(b(tx, HttpBuffer::RequestBody), Some(&b"abc"[..]));
    // Two 100s.
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
    );
    assert!(has(s.tx(0).unwrap(), "100_CONTINUE_ALREADY_SEEN"));
    // A 417 to an Expect: the body does not come, the next request does.
    let s = run(
        b"POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
        b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(s.tx(0).unwrap().request_progress(), Progress::Complete);
    // HEAD: no body whatever the headers say.
    let s = run(
        b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    );
    assert_eq!(b(s.tx(0).unwrap(), HttpBuffer::ResponseBody), None);
    assert_eq!(s.tx(0).unwrap().response_progress(), Progress::Complete);
    assert_eq!(
        b(s.tx(1).unwrap(), HttpBuffer::ResponseBody),
        Some(&b"z"[..])
    );
    // 204 and 304 have no body.
    let s = run(
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 304 NM\r\n\r\n",
    );
    assert_eq!(s.tx(0).unwrap().response_progress(), Progress::Complete);
    // HTTP/1.0 without length: the body runs to the end.
    let mut st = HttpState::new(&HttpConfig::default());
    st.input(Dir::ToServer, b"GET / HTTP/1.0\r\n\r\n");
    st.input(Dir::ToClient, b"HTTP/1.0 200 OK\r\n\r\npart one ");
    st.input(Dir::ToClient, b"part two");
    assert_eq!(st.tx(0).unwrap().response_progress(), Progress::Body);
    st.eof(Dir::ToClient);
    let tx = st.tx(0).unwrap();
    assert_eq!(tx.response_progress(), Progress::Complete);
    assert_eq!(
        b(tx, HttpBuffer::ResponseBody),
        Some(&b"part one part two"[..])
    );
    assert_eq!(tx.resp_message_len, 17);
}

#[test]
fn caps_are_counted_and_hold() {
    // A line over the field limit stops the direction.
    let cfg = HttpConfig::default();
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 20_000));
    let mut st = HttpState::new(&cfg);
    for c in long.chunks(1000) {
        st.input(Dir::ToServer, c);
    }
    assert_eq!(st.counters().field_too_long, 1);
    assert!(has(st.tx(0).unwrap(), "REQUEST_FIELD_TOO_LONG"));
    assert!(st.bufs[0].len() <= cfg.field_limit);
    st.input(Dir::ToServer, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(st.txs().count(), 1);
    // A long header value too, even when it arrives in one piece.
    let mut req = b"GET / HTTP/1.1\r\nX: ".to_vec();
    req.extend(std::iter::repeat_n(b'b', 20_000));
    req.extend_from_slice(b"\r\n\r\n");
    let s = run(&req, b"");
    assert!(has(s.tx(0).unwrap(), "REQUEST_FIELD_TOO_LONG"));
    // Header count.
    let small = HttpConfig {
        max_headers: 3,
        request_body_limit: 10,
        max_tx: 2,
        max_events: 2,
        ..HttpConfig::default()
    };
    let s = run_with(
        &small,
        b"POST / HTTP/1.1\r\nA: 1\r\nB: 2\r\nContent-Length: 20\r\nD: 4\r\nE: 5\r\n\r\n01234567890123456789",
        b"",
    );
    let tx = s.tx(0).unwrap();
    assert_eq!(tx.req_headers.list.len(), 3);
    assert_eq!(s.counters().headers_dropped, 2);
    assert_eq!(b(tx, HttpBuffer::RequestBody), Some(&b"0123456789"[..]));
    assert_eq!(s.counters().body_bytes_dropped, 10);
    // Transactions per flow.
    let s = run_with(
        &small,
        b"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\nGET /3 HTTP/1.0\r\n\r\n",
        b"",
    );
    assert_eq!(s.txs().count(), 2);
    assert_eq!(s.counters().tx_cap, 1);
    // Events per transaction.
    let s = run_with(&small, b"  GET\t/x HTTP/1.1\r\n\r\n", b"");
    assert_eq!(s.tx(0).unwrap().events().len(), 2);
    assert!(s.counters().events_dropped > 0);
    // Repetitions.
    let mut req = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for _ in 0..100 {
        req.extend_from_slice(b"X: y\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let s = run(&req, b"");
    assert!(has(s.tx(0).unwrap(), "REQUEST_HEADER_REPETITION"));
    assert_eq!(s.counters().repetitions_dropped, 100 - 1 - 1 - 64);
    // Removing transactions frees them.
    let mut s = run(b"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", b"");
    s.remove_through(0);
    assert_eq!(s.txs().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
    assert!(s.tx(0).is_none());
    assert!(s.tx(1).is_some());
}

#[test]
fn too_many_warnings_once() {
    let cfg = HttpConfig {
        max_messages: 3,
        ..HttpConfig::default()
    };
    let mut req = Vec::new();
    for _ in 0..5 {
        req.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
    }
    let s = run_with(&cfg, &req, b"");
    let with: Vec<_> = s.txs().filter(|t| has(t, "TOO_MANY_WARNINGS")).collect();
    assert_eq!(with.len(), 1);
    assert!(s.counters().events_dropped > 0);
}

#[test]
fn gaps() {
    // A gap in a body of known length: consumed, the body kept stops.
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(
        Dir::ToServer,
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    );
    s.input(
        Dir::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    );
    s.gap(Dir::ToClient, 4);
    s.input(Dir::ToClient, b"hij");
    s.input(
        Dir::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
    );
    let tx = s.tx(0).unwrap();
    assert_eq!(tx.response_progress(), Progress::Complete);
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"abc"[..]));
    assert_eq!(tx.resp_message_len, 10);
    assert_eq!(
        b(s.tx(1).unwrap(), HttpBuffer::ResponseBody),
        Some(&b"z"[..])
    );
    assert_eq!(s.counters().gaps, 1);
    // A gap in the headers: reported, and parsing goes on.
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(Dir::ToServer, b"GET / HTTP/1.1\r\nHost: h\r\n");
    s.gap(Dir::ToServer, 100);
    s.input(Dir::ToServer, b"X: 1\r\n\r\n");
    let tx = s.tx(0).unwrap();
    assert!(has(tx, "UNKNOWN_ERROR"));
    assert_eq!(tx.request_progress(), Progress::Complete);
    // A gap larger than the body: the rest is reported.
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(
        Dir::ToServer,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n",
    );
    s.gap(Dir::ToServer, 50);
    assert_eq!(s.tx(0).unwrap().request_progress(), Progress::Complete);
    assert!(has(s.tx(0).unwrap(), "UNKNOWN_ERROR"));
}

/// A summary of everything the parser produced, for equality checks.
fn summary(s: &HttpState) -> String {
    format!("{:?} {:?} {}", s.txs, s.counters, s.tunnel)
}

fn fixtures() -> Vec<(Vec<u8>, Vec<u8>)> {
    let chunked =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n";
    let g = gz(b"compressed response body, compressed response body");
    let mut chunked_body = chunked.to_vec();
    for c in g.chunks(7) {
        chunked_body.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        chunked_body.extend_from_slice(c);
        chunked_body.extend_from_slice(b"\r\n");
    }
    chunked_body.extend_from_slice(b"0\r\nT: 1\r\n\r\n");
    vec![
        (REQ.to_vec(), RESP.to_vec()),
        (
            b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".to_vec(),
            cat(&[RESP, &chunked_body]),
        ),
        (
            b"GET /x\r\n".to_vec(),
            b"old style body".to_vec(),
        ),
        (
            b"GET / HTTP/1.1\r\n fold\r\nHost: a\r\n  b\r\nno colon\r\n\r\n".to_vec(),
            b"\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\rX: y\r\n\nbody to close".to_vec(),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\nA: b\n\r\r\n\r\nC: d\n \nbody\n".to_vec(),
        ),
        (
            b"CONNECT h:443 HTTP/1.1\r\n\r\nabc".to_vec(),
            b"HTTP/1.1 200 OK\r\n\r\ndef".to_vec(),
        ),
        (
            b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n".to_vec(),
            b"junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n".to_vec(),
        ),
    ]
}

#[test]
fn every_truncation_of_the_fixtures() {
    for (req, resp) in fixtures() {
        for cut in 0..=req.len() {
            let s = run(&req[..cut], &resp);
            let _ = summary(&s);
        }
        for cut in 0..=resp.len() {
            let s = run(&req, &resp[..cut]);
            for tx in s.txs() {
                let mut out = Vec::new();
                let mut o = mirador_engine::eve::Obj::new(&mut out);
                tx.write_eve(&mut o);
                o.close();
                serde_json::from_slice::<serde_json::Value>(&out).unwrap();
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let alphabet = b"\r\n :\t0aZ/%?#HTTP1.GET chunked gzip";
    for _ in 0..300 {
        let len = (next() % 400) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if r % 3 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect();
        let mut s = HttpState::new(&HttpConfig::default());
        for c in data.chunks(1 + (next() % 50) as usize) {
            let dir = if next() % 2 == 0 {
                Dir::ToServer
            } else {
                Dir::ToClient
            };
            s.input(dir, c);
            if next() % 17 == 0 {
                s.gap(dir, u64::from(next() % 100));
            }
        }
        s.eof(Dir::ToServer);
        s.eof(Dir::ToClient);
        for tx in s.txs() {
            for i in 0..40 {
                let _ = tx.request_header(i);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_points_do_not_matter(
        which in 0usize..7,
        req_cuts in proptest::collection::vec(0usize..400, 0..8),
        resp_cuts in proptest::collection::vec(0usize..600, 0..8),
    ) {
        let fx = fixtures();
        let (req, resp) = &fx[which % fx.len()];
        let whole = run(req, resp);
        let pieces = |data: &[u8], cuts: &[usize]| -> Vec<Vec<u8>> {
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
            cuts.sort_unstable();
            let mut out = Vec::new();
            let mut prev = 0;
            for c in cuts {
                out.push(data[prev..c].to_vec());
                prev = c;
            }
            out.push(data[prev..].to_vec());
            out
        };
        let mut s = HttpState::new(&HttpConfig::default());
        for p in pieces(req, &req_cuts) {
            s.input(Dir::ToServer, &p);
        }
        for p in pieces(resp, &resp_cuts) {
            s.input(Dir::ToClient, &p);
        }
        s.eof(Dir::ToServer);
        s.eof(Dir::ToClient);
        prop_assert_eq!(summary(&whole), summary(&s));
    }
}

/// Found by fuzzing: the transaction being parsed is removed, then the
/// direction ends (this used to loop).
#[test]
fn removing_the_transaction_in_progress() {
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(Dir::ToServer, b"GET /a HTTP/1.1\r\nHost");
    s.input(Dir::ToClient, b"HTTP/1.1 200 OK\r\nContent-Len");
    s.remove_through(0);
    s.eof(Dir::ToServer);
    s.eof(Dir::ToClient);
    // What was left of the abandoned request is parsed afresh.
    assert_eq!(
        b(s.tx(1).unwrap(), HttpBuffer::RequestLine),
        Some(&b"Host"[..])
    );
    let mut s = HttpState::new(&HttpConfig::default());
    s.input(Dir::ToServer, b"CO'NECT a:443 HTTP/1HTTP/1");
    s.remove_through(0);
    s.eof(Dir::ToServer);
    s.eof(Dir::ToClient);
    assert_eq!(s.txs().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
}

#[test]
fn file_digests_cover_the_whole_decoded_body() {
    use crate::http::{FileHashes, HashKind};
    let cfg = HttpConfig {
        response_body_limit: 3,
        file_hashes: FileHashes {
            md5: true,
            sha1: false,
            sha256: true,
        },
        ..HttpConfig::default()
    };
    let body = gz(b"hello");
    let resp = cat(&[
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        &body,
    ]);
    let s = run_with(&cfg, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &resp);
    let tx = s.tx(0).unwrap();
    // Past the 3-byte body limit, decoded.
    assert_eq!(b(tx, HttpBuffer::ResponseBody), Some(&b"hel"[..]));
    let md5 = tx.file_hash(HashKind::Md5, Dir::ToClient).unwrap();
    assert_eq!(
        md5.as_bytes(),
        [
            0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17,
            0xc5, 0x92
        ]
    );
    assert_eq!(
        tx.file_hash(HashKind::Sha256, Dir::ToClient).unwrap().len,
        32
    );
    // Not asked for, or no body: none.
    assert!(tx.file_hash(HashKind::Sha1, Dir::ToClient).is_none());
    assert!(tx.file_hash(HashKind::Md5, Dir::ToServer).is_none());
    // Off by default.
    let s = run(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &resp);
    assert!(
        s.tx(0)
            .unwrap()
            .file_hash(HashKind::Md5, Dir::ToClient)
            .is_none()
    );
    // A gap in the body: no digest.
    let mut st = HttpState::new(&cfg);
    st.input(Dir::ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    st.input(
        Dir::ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
    );
    st.gap(Dir::ToClient, 3);
    st.input(Dir::ToClient, b"cdefg");
    assert!(
        st.tx(0)
            .unwrap()
            .file_hash(HashKind::Md5, Dir::ToClient)
            .is_none()
    );
}
