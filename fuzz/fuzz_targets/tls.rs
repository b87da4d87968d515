//! The TLS state over arbitrary bytes, in both directions, cut into chunks
//! by the input itself; every accessor is read at the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mirador_applayer::Dir;
use mirador_applayer::tls::{TlsBuffer, TlsConfig, TlsState};

fuzz_target!(|data: &[u8]| {
    let cfg = TlsConfig { ja3: true, ja4: true, max_handshake_message: 4096, ..TlsConfig::default() };
    let mut s = TlsState::new(&cfg);
    // Each chunk: one control byte (bit 7: direction, bits 0-6: length),
    // then that many bytes; a control byte of 0x7f or 0xff is a gap.
    let mut rest = data;
    while let Some((&c, tail)) = rest.split_first() {
        let dir = if c & 0x80 != 0 { Dir::ToClient } else { Dir::ToServer };
        let n = usize::from(c & 0x7f);
        if n == 0x7f && tail.first() == Some(&0) {
            s.gap(dir, 10);
            rest = &tail[1..];
            continue;
        }
        let n = n.min(tail.len());
        s.input(dir, &tail[..n]);
        rest = &tail[n..];
    }
    s.eof(Dir::ToServer);
    let _ = s.progress();
    let _ = (s.client_hello(), s.server_hello(), s.certs(), s.client_certs());
    let _ = (s.version(), s.version_dir(Dir::ToServer), s.events(), s.counters());
    for b in [
        TlsBuffer::Sni,
        TlsBuffer::CertSubject,
        TlsBuffer::CertIssuer,
        TlsBuffer::CertSerial,
        TlsBuffer::CertFingerprint,
        TlsBuffer::Ja3Hash,
        TlsBuffer::Ja3String,
        TlsBuffer::Ja3sHash,
        TlsBuffer::Ja3sString,
        TlsBuffer::Ja4Hash,
    ] {
        let _ = s.buffer_dir(b, Dir::ToServer);
        let _ = s.buffer(b);
    }
    let _ = s.cert(0);
    let mut out = Vec::new();
    let mut o = mirador_engine::eve::Obj::new(&mut out);
    s.write_eve(&mut o);
    o.close();
    assert!(std::str::from_utf8(&out).is_ok());
});
