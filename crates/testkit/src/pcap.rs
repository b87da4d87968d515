//! Writing pcap and pcapng files (with `pcap-file`), in memory or to a path.
//!
//! ```
//! use mirador_testkit::pcap::{pcap, Record, TsResolution};
//!
//! let bytes = pcap(1, TsResolution::Micro, &[Record::new(1_000_000_123_000, vec![0u8; 60])]).unwrap();
//! assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]); // little-endian microsecond magic
//! ```

use std::borrow::Cow;
use std::io;
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;
use pcap_file::{DataLink, Endianness};

/// Snap length written in headers: libpcap's default maximum.
pub const SNAPLEN: u32 = 262_144;

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire; `None` means `data.len()` (not cut by snaplen).
    pub orig_len: Option<u32>,
    /// pcapng only: the index of the interface (IDB) it was captured on.
    pub interface: u32,
}

impl Record {
    /// A record on interface 0, not cut.
    pub fn new(ts_ns: u64, data: Vec<u8>) -> Record {
        Record {
            ts_ns,
            data,
            orig_len: None,
            interface: 0,
        }
    }

    fn orig_len(&self) -> u32 {
        let len = u32::try_from(self.data.len()).unwrap_or(u32::MAX);
        self.orig_len.unwrap_or(len).max(len)
    }
}

/// Timestamp resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsResolution {
    /// Microseconds (classic pcap; pcapng's default without `if_tsresol`).
    Micro,
    /// Nanoseconds.
    Nano,
}

/// A classic pcap file (little-endian) of one link type.
pub fn pcap(linktype: u32, ts: TsResolution, records: &[Record]) -> io::Result<Vec<u8>> {
    let header = PcapHeader {
        snaplen: SNAPLEN,
        datalink: DataLink::from(linktype),
        ts_resolution: match ts {
            TsResolution::Micro => pcap_file::TsResolution::MicroSecond,
            TsResolution::Nano => pcap_file::TsResolution::NanoSecond,
        },
        endianness: Endianness::Little,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).map_err(to_io)?;
    for r in records {
        // Microsecond files keep whole microseconds (the writer truncates).
        let p = PcapPacket::new(Duration::from_nanos(r.ts_ns), r.orig_len(), &r.data);
        w.write_packet(&p).map_err(to_io)?;
    }
    Ok(w.into_writer())
}

/// One pcapng interface (Interface Description Block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Link type.
    pub linktype: u32,
    /// Timestamp resolution (`if_tsresol` 6 or 9).
    pub ts: TsResolution,
    /// `if_name`, when set.
    pub name: Option<String>,
}

/// A pcapng file (little-endian, one section) with these interfaces;
/// each record names its interface by index.
pub fn pcapng(interfaces: &[Interface], records: &[Record]) -> io::Result<Vec<u8>> {
    let shb = SectionHeaderBlock {
        endianness: Endianness::Little,
        major_version: 1,
        minor_version: 0,
        section_length: -1,
        options: Vec::new(),
    };
    let mut w = PcapNgWriter::with_section_header(Vec::new(), shb).map_err(to_io)?;
    for i in interfaces {
        let mut options = vec![InterfaceDescriptionOption::IfTsResol(match i.ts {
            TsResolution::Micro => 6,
            TsResolution::Nano => 9,
        })];
        if let Some(n) = &i.name {
            options.insert(0, InterfaceDescriptionOption::IfName(Cow::Owned(n.clone())));
        }
        w.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::from(i.linktype),
            snaplen: SNAPLEN,
            options,
        })
        .map_err(to_io)?;
    }
    for r in records {
        let Some(iface) = interfaces.get(r.interface as usize) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "record names interface {} of {}",
                    r.interface,
                    interfaces.len()
                ),
            ));
        };
        // pcap-file writes the Duration's nanosecond count as the raw 64-bit
        // timestamp whatever if_tsresol says, so pass it in the interface's
        // units.
        let units = match iface.ts {
            TsResolution::Micro => r.ts_ns / 1000,
            TsResolution::Nano => r.ts_ns,
        };
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: r.interface,
            timestamp: Duration::from_nanos(units),
            original_len: r.orig_len(),
            data: Cow::Borrowed(&r.data),
            options: Vec::new(),
        })
        .map_err(to_io)?;
    }
    Ok(w.into_inner())
}

/// Writes `bytes` to `path`.
pub fn write_file(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
}

fn to_io(e: pcap_file::PcapError) -> io::Error {
    io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_round_trip_and_header() {
        let recs = vec![
            Record::new(1_700_000_000_123_456_789, vec![1u8; 60]),
            Record {
                orig_len: Some(1514),
                ..Record::new(1_700_000_001_000_000_000, vec![2u8; 128])
            },
        ];
        for (ts, magic) in [
            (TsResolution::Micro, [0xd4, 0xc3, 0xb2, 0xa1]),
            (TsResolution::Nano, [0x4d, 0x3c, 0xb2, 0xa1]),
        ] {
            let b = pcap(1, ts, &recs).unwrap();
            assert_eq!(&b[..4], &magic);
            assert_eq!(b.len(), 24 + 16 + 60 + 16 + 128);
            let mut r = pcap_file::pcap::PcapReader::new(&b[..]).unwrap();
            let p = r.next_packet().unwrap().unwrap();
            let want_ns = match ts {
                TsResolution::Micro => 1_700_000_000_123_456_000,
                TsResolution::Nano => 1_700_000_000_123_456_789,
            };
            assert_eq!(p.timestamp.as_nanos(), want_ns);
            let p = r.next_packet().unwrap().unwrap();
            assert_eq!((p.orig_len, p.data.len()), (1514, 128));
        }
    }

    #[test]
    fn pcapng_two_interfaces() {
        let ifs = [
            Interface {
                linktype: 1,
                ts: TsResolution::Nano,
                name: Some("eth0".into()),
            },
            Interface {
                linktype: 101,
                ts: TsResolution::Micro,
                name: None,
            },
        ];
        let mut r1 = Record::new(1_000_000_000_000_000_500, vec![0x45; 20]);
        r1.interface = 1;
        let recs = [Record::new(1_000_000_000_000_000_001, vec![0; 60]), r1];
        let b = pcapng(&ifs, &recs).unwrap();
        assert_eq!(&b[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        let mut r = pcap_file::pcapng::PcapNgReader::new(&b[..]).unwrap();
        let mut ts = Vec::new();
        while let Some(block) = r.next_block() {
            if let pcap_file::pcapng::Block::EnhancedPacket(e) = block.unwrap() {
                ts.push((e.interface_id, e.timestamp.as_nanos()));
            }
        }
        // Raw units: ns on interface 0, µs on interface 1.
        assert_eq!(
            ts,
            [(0, 1_000_000_000_000_000_001), (1, 1_000_000_000_000_000)]
        );
        let bad = Record {
            interface: 2,
            ..Record::new(0, vec![])
        };
        assert!(pcapng(&ifs, &[bad]).is_err());
    }
}
