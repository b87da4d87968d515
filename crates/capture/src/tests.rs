//! Hand-built capture files: the byte layouts of pcap (libpcap file format)
//! and pcapng (draft-ietf-opsawg-pcapng), written out here independently of
//! the reader.

use super::*;

fn pcap(big_endian: bool, nanos: bool, linktype: u32, recs: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let w32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let w16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let mut v = Vec::new();
    w32(&mut v, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    w16(&mut v, 2);
    w16(&mut v, 4);
    w32(&mut v, 0);
    w32(&mut v, 0);
    w32(&mut v, 65535);
    w32(&mut v, linktype);
    for &(sec, frac, data, orig) in recs {
        w32(&mut v, sec);
        w32(&mut v, frac);
        w32(&mut v, data.len() as u32);
        w32(&mut v, orig);
        v.extend_from_slice(data);
    }
    v
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = (body.len() + 12) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&kind.to_le_bytes());
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&body);
    v.extend_from_slice(&len.to_le_bytes());
    v
}

fn shb() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0x1a2b_3c4d_u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &b)
}

fn idb(linktype: u16, tsresol: Option<u8>) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&linktype.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    if let Some(r) = tsresol {
        b.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&[r, 0, 0, 0]);
        b.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
    }
    block(1, &b)
}

fn epb(if_id: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&if_id.to_le_bytes());
    b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    b.extend_from_slice(&(ts as u32).to_le_bytes());
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&orig.to_le_bytes());
    b.extend_from_slice(data);
    block(6, &b)
}

type Owned = (Timestamp, u32, Vec<u8>, u32);

fn read_all(bytes: Vec<u8>) -> Result<(Vec<Owned>, bool), CaptureError> {
    let mut src =
        PcapSource::from_reader(Path::new("t.pcap"), Box::new(std::io::Cursor::new(bytes)))?;
    let mut out = Vec::new();
    while let Some(r) = src.next_record()? {
        out.push((r.ts, r.linktype, r.data.to_vec(), r.orig_len));
    }
    Ok((out, src.truncated_tail()))
}

#[test]
fn reads_legacy_pcap_both_byte_orders_and_resolutions() {
    for be in [false, true] {
        for nanos in [false, true] {
            let bytes = pcap(be, nanos, 1, &[(10, 5, b"abc", 3), (11, 999, b"defgh", 60)]);
            let (recs, trunc) = read_all(bytes).unwrap();
            assert!(!trunc);
            let scale = if nanos { 1 } else { 1000 };
            assert_eq!(recs.len(), 2);
            assert_eq!(recs[0].0, Timestamp::from_secs_nanos(10, 5 * scale));
            assert_eq!(recs[1].0, Timestamp::from_secs_nanos(11, 999 * scale));
            assert_eq!(
                (recs[0].1, recs[0].2.as_slice(), recs[0].3),
                (1, &b"abc"[..], 3)
            );
            assert_eq!((recs[1].2.as_slice(), recs[1].3), (&b"defgh"[..], 60));
        }
    }
}

#[test]
fn unsupported_linktype_is_an_error_at_open_naming_it() {
    let bytes = pcap(false, false, 105, &[(1, 0, b"x", 1)]);
    let err = PcapSource::from_reader(
        Path::new("wifi.pcap"),
        Box::new(std::io::Cursor::new(bytes)),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("wifi.pcap") && err.contains("LINKTYPE_IEEE802_11") && err.contains("105"),
        "{err}"
    );
}

#[test]
fn not_a_capture_names_the_file() {
    let err = PcapSource::from_reader(
        Path::new("notes.txt"),
        Box::new(std::io::Cursor::new(b"hello world, not a pcap".to_vec())),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("notes.txt: not a pcap"), "{err}");
}

#[test]
fn a_file_cut_in_a_record_returns_the_whole_records_and_flags_the_tail() {
    let mut bytes = pcap(
        false,
        false,
        1,
        &[(1, 0, &[7; 100], 100), (2, 0, &[8; 100], 100)],
    );
    bytes.truncate(bytes.len() - 30);
    let (recs, trunc) = read_all(bytes).unwrap();
    assert_eq!(recs.len(), 1);
    assert!(trunc);
}

#[test]
fn an_absurd_record_length_is_an_error_not_an_allocation() {
    let mut bytes = pcap(false, false, 1, &[(1, 0, b"ok", 2)]);
    // A record header claiming 1 GiB, followed by a little data.
    for x in [3u32, 0, 1 << 30, 1 << 30] {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.extend_from_slice(&[0; 64]);
    let mut src =
        PcapSource::from_reader(Path::new("big.pcap"), Box::new(std::io::Cursor::new(bytes)))
            .unwrap();
    assert!(src.next_record().unwrap().is_some());
    // Either flagged as a cut-off tail (the data is not there) or rejected
    // as too large: never a 1 GiB buffer.
    match src.next_record() {
        Ok(None) => assert!(src.truncated_tail()),
        Ok(Some(_)) => panic!("a 1 GiB record was returned"),
        Err(e) => assert!(e.to_string().contains("big.pcap"), "{e}"),
    }
}

#[test]
fn large_records_grow_the_buffer() {
    let big = vec![0x5a; 3 << 20];
    let bytes = pcap(
        false,
        false,
        1,
        &[(1, 0, &big, big.len() as u32), (2, 0, b"x", 1)],
    );
    let (recs, _) = read_all(bytes).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].2.len(), 3 << 20);
}

#[test]
fn reads_pcapng_with_interfaces_of_different_linktypes_and_resolutions() {
    let mut bytes = shb();
    bytes.extend(idb(1, None)); // microseconds
    bytes.extend(idb(101, Some(9))); // nanoseconds
    bytes.extend(epb(0, 1_500_000, b"eth-frame", 9));
    bytes.extend(epb(1, 2_000_000_007, b"ip", 40));
    bytes.extend(epb(7, 0, b"orphan", 6));
    // A second section resets the interfaces.
    bytes.extend(shb());
    bytes.extend(idb(113, None));
    bytes.extend(epb(0, 3_000_000, b"sll", 3));
    let (recs, trunc) = read_all(bytes).unwrap();
    assert!(!trunc);
    let got: Vec<_> = recs
        .iter()
        .map(|r| (r.0.as_nanos(), r.1, r.2.as_slice(), r.3))
        .collect();
    assert_eq!(
        got,
        [
            (1_500_000_000, 1, &b"eth-frame"[..], 9),
            (2_000_000_007, 101, &b"ip"[..], 40),
            (2_000_000_007, LINKTYPE_NO_INTERFACE, &b"orphan"[..], 6),
            (3_000_000_000, 113, &b"sll"[..], 3),
        ]
    );
}

#[test]
fn pcapng_unsupported_interface_linktype_names_the_interface() {
    // Interfaces described before the first packet are checked at open.
    let mut bytes = shb();
    bytes.extend(idb(1, None));
    bytes.extend(idb(127, None));
    let err = PcapSource::from_reader(Path::new("r.pcapng"), Box::new(std::io::Cursor::new(bytes)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("r.pcapng") && err.contains("interface 1") && err.contains("127"),
        "{err}"
    );
    // One described later is an error when it is reached.
    let mut bytes = shb();
    bytes.extend(idb(1, None));
    bytes.extend(epb(0, 1, b"x", 1));
    bytes.extend(idb(127, None));
    let mut src =
        PcapSource::from_reader(Path::new("r.pcapng"), Box::new(std::io::Cursor::new(bytes)))
            .unwrap();
    assert!(src.next_record().unwrap().is_some());
    let err = src.next_record().unwrap_err().to_string();
    assert!(err.contains("interface 1") && err.contains("127"), "{err}");
}

#[test]
fn ng_timestamps_do_not_overflow() {
    let iface = Interface {
        linktype: 1,
        resolution: 1,
        offset: i64::MAX,
    };
    let t = ng_timestamp(&iface, u32::MAX, u32::MAX);
    assert_eq!(t.as_nanos(), i64::MAX);
}
