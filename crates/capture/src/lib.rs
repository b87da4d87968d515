//! mirador's I/O edge for captures: reading pcap and pcapng files.
//!
//! [`PcapSource`] yields one [`Record`] per captured packet: its time, its
//! linktype and the captured bytes, borrowed from the reader's buffer (no
//! copy, no allocation per packet). Both pcap (microsecond and nanosecond,
//! either byte order) and pcapng (several sections and interfaces, any
//! `if_tsresol`/`if_tsoffset`) are read, through `pcap-parser`.
//!
//! ```no_run
//! # fn main() -> Result<(), mirador_capture::CaptureError> {
//! let mut src = mirador_capture::PcapSource::open("x.pcap".as_ref())?;
//! while let Some(rec) = src.next_record()? {
//!     println!("{} bytes of linktype {} at {:?}", rec.data.len(), rec.linktype, rec.ts);
//! }
//! # Ok(()) }
//! ```
//!
//! A capture file is as hostile as the network: record sizes are capped
//! ([`MAX_RECORD_LEN`]), timestamps are computed with checked arithmetic,
//! and a file cut short ends the stream with [`PcapSource::truncated_tail`]
//! set rather than an error, so that nothing already read is lost.
//!
//! [`udp::send_batch`] sends datagrams in batches (`sendmmsg(2)`), for
//! `mirador send`. It holds the crate's one `unsafe` function (every other
//! item is checked by `deny(unsafe_code)`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use mirador_wire::{Timestamp, linktype};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};

pub mod recv;
pub mod udp;
mod writer;
pub use writer::PcapSink;

/// The largest record accepted (captured length), and the reader buffer's
/// growth limit: 16 MiB, well above any snaplen in use (262144) and any
/// BIG TCP/GSO capture.
pub const MAX_RECORD_LEN: usize = 16 << 20;

const INITIAL_BUFFER: usize = 1 << 20;

/// The linktype reported for a pcapng packet whose interface id has no
/// Interface Description Block. Not a real linktype: the decoder rejects it,
/// so the packet is counted as invalid rather than lost.
pub const LINKTYPE_NO_INTERFACE: u32 = u32::MAX;

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Neither a pcap nor a pcapng file.
    #[error("{path}: not a pcap or pcapng file ({detail})")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
    /// A linktype mirador does not decode.
    #[error(
        "{path}: unsupported linktype {name} ({value}){where_}; supported: 0 NULL, 1 ETHERNET, 9 PPP, 101 RAW, 104 C_HDLC, 108 LOOP, 113 LINUX_SLL, 228 IPV4, 229 IPV6, 276 LINUX_SLL2"
    )]
    UnsupportedLinktype {
        /// The file.
        path: PathBuf,
        /// The linktype value.
        value: u32,
        /// Its LINKTYPE_ name where known.
        name: &'static str,
        /// ", interface N" for pcapng.
        where_: String,
    },
    /// A malformed record in the middle of the file.
    #[error("{path}: record {record}: {detail}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based record number (packets and other blocks).
        record: u64,
        /// What is wrong.
        detail: String,
    },
}

/// One captured packet.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// The linktype of its interface.
    pub linktype: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The packet's length on the wire (may exceed `data.len()`).
    pub orig_len: u32,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Units per second of the EPB timestamp.
    resolution: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

/// A pcap or pcapng file, read record by record.
pub struct PcapSource {
    path: PathBuf,
    reader: Box<dyn PcapReaderIterator + Send>,
    /// Legacy pcap: the file's linktype and whether `ts_usec` holds nanoseconds.
    legacy: Option<(u32, bool)>,
    /// pcapng: the current section's interfaces.
    interfaces: Vec<Interface>,
    /// Bytes of the record last returned, consumed at the next call.
    pending: usize,
    records: u64,
    last_ts: Timestamp,
    truncated_tail: bool,
    done: bool,
}

impl std::fmt::Debug for PcapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapSource")
            .field("path", &self.path)
            .field("records", &self.records)
            .finish_non_exhaustive()
    }
}

impl PcapSource {
    /// Opens a pcap or pcapng file. For pcap the linktype is checked here;
    /// for pcapng at each Interface Description Block (before any packet of
    /// that interface).
    ///
    /// # Errors
    ///
    /// [`CaptureError::Io`], [`CaptureError::NotACapture`] or
    /// [`CaptureError::UnsupportedLinktype`], each naming the file.
    pub fn open(path: &Path) -> Result<PcapSource, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(path, Box::new(file))
    }

    /// Reads a capture from any reader; `name` is used in error messages.
    ///
    /// # Errors
    ///
    /// As [`PcapSource::open`].
    pub fn from_reader(
        name: &Path,
        reader: Box<dyn Read + Send>,
    ) -> Result<PcapSource, CaptureError> {
        let reader = pcap_parser::create_reader(INITIAL_BUFFER, reader).map_err(|e| {
            CaptureError::NotACapture {
                path: name.to_owned(),
                detail: match e {
                    PcapError::Eof => "empty file".to_string(),
                    PcapError::ReadError => "read error".to_string(),
                    PcapError::HeaderNotRecognized => "header not recognized".to_string(),
                    other => format!("{other:?}"),
                },
            }
        })?;
        let mut src = PcapSource {
            path: name.to_owned(),
            reader,
            legacy: None,
            interfaces: Vec::new(),
            pending: 0,
            records: 0,
            last_ts: Timestamp::default(),
            truncated_tail: false,
            done: false,
        };
        // Read the pcap file header now so that an unsupported linktype is
        // an error at open time.
        src.read_headers()?;
        Ok(src)
    }

    /// The file this source reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file ended in the middle of a record (the partial record
    /// is not returned).
    pub fn truncated_tail(&self) -> bool {
        self.truncated_tail
    }

    fn read_headers(&mut self) -> Result<(), CaptureError> {
        // The legacy reader yields its header as the first block; pcapng
        // yields the section header block. Process non-packet blocks until
        // the first packet (which is left unconsumed).
        loop {
            let outcome = self.step()?;
            match outcome {
                Step::Meta(offset) => self.reader.consume(offset),
                Step::Packet { .. } | Step::End => return Ok(()),
                Step::Refilled => {}
            }
        }
    }

    /// The next packet, or `None` at the end of the file.
    ///
    /// # Errors
    ///
    /// [`CaptureError::BadRecord`] for a malformed record (the records
    /// before it have been returned), [`CaptureError::UnsupportedLinktype`]
    /// for a pcapng interface mirador does not decode, or
    /// [`CaptureError::Io`].
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CaptureError> {
        if self.pending > 0 {
            self.reader.consume(self.pending);
            self.pending = 0;
        }
        loop {
            match self.step()? {
                Step::Meta(offset) => self.reader.consume(offset),
                Step::Refilled => {}
                Step::End => return Ok(None),
                Step::Packet {
                    offset,
                    ts,
                    linktype,
                    start,
                    len,
                    orig_len,
                } => {
                    self.pending = offset;
                    self.records += 1;
                    self.last_ts = ts;
                    let data = start
                        .checked_add(len)
                        .and_then(|end| self.reader.data().get(start..end))
                        .unwrap_or(&[]);
                    return Ok(Some(Record {
                        ts,
                        linktype,
                        data,
                        orig_len,
                    }));
                }
            }
        }
    }

    /// Parses one block and describes it without keeping a borrow.
    fn step(&mut self) -> Result<Step, CaptureError> {
        if self.done {
            return Ok(Step::End);
        }
        let base = self.reader.data().as_ptr() as usize;
        let records = self.records + 1;
        let path = &self.path;
        let bad = |detail: String| CaptureError::BadRecord {
            path: path.clone(),
            record: records,
            detail,
        };
        let (offset, block) = match self.reader.next() {
            Ok(x) => x,
            Err(PcapError::Eof) => {
                self.done = true;
                return Ok(Step::End);
            }
            Err(PcapError::UnexpectedEof) => {
                self.done = true;
                self.truncated_tail = true;
                return Ok(Step::End);
            }
            Err(PcapError::Incomplete(_)) => {
                self.reader
                    .refill()
                    .map_err(|e| bad(format!("read error: {e:?}")))?;
                return Ok(Step::Refilled);
            }
            Err(PcapError::BufferTooSmall) => {
                let cap = self.reader.data().len().max(INITIAL_BUFFER);
                let new_size = cap.saturating_mul(2);
                if new_size > MAX_RECORD_LEN * 2 || !self.reader.grow(new_size) {
                    return Err(bad(format!("record larger than {MAX_RECORD_LEN} bytes")));
                }
                self.reader
                    .refill()
                    .map_err(|e| bad(format!("read error: {e:?}")))?;
                return Ok(Step::Refilled);
            }
            Err(e) => return Err(bad(format!("malformed: {e:?}"))),
        };
        let offset_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        let step = match block {
            PcapBlockOwned::LegacyHeader(h) => {
                let lt = u32::try_from(h.network.0).unwrap_or(u32::MAX);
                check_linktype(&self.path, lt, None)?;
                self.legacy = Some((lt, h.is_nanosecond_precision()));
                Step::Meta(offset)
            }
            PcapBlockOwned::Legacy(b) => {
                let (lt, nanos) = self.legacy.unwrap_or((linktype::ETHERNET, false));
                let frac = if nanos {
                    u64::from(b.ts_usec)
                } else {
                    u64::from(b.ts_usec) * 1000
                };
                // A sub-second field of 1e9 or more is malformed; keep
                // the packet, clamp the fraction.
                let frac = frac.min(999_999_999) as u32;
                let ts = Timestamp::from_secs_nanos(i64::from(b.ts_sec), frac);
                if b.data.len() > MAX_RECORD_LEN {
                    return Err(bad(format!("record of {} bytes", b.data.len())));
                }
                Step::Packet {
                    offset,
                    ts,
                    linktype: lt,
                    start: offset_of(b.data),
                    len: b.data.len(),
                    orig_len: b.origlen,
                }
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                self.interfaces.clear();
                Step::Meta(offset)
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                let lt = u32::try_from(idb.linktype.0).unwrap_or(u32::MAX);
                check_linktype(&self.path, lt, Some(self.interfaces.len()))?;
                if self.interfaces.len() >= 65536 {
                    return Err(bad("more than 65536 interfaces".to_string()));
                }
                self.interfaces.push(Interface {
                    linktype: lt,
                    resolution: idb.ts_resolution().unwrap_or(1_000_000),
                    offset: idb.ts_offset(),
                });
                Step::Meta(offset)
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let data = epb.packet_data();
                let (lt, ts) = match self.interfaces.get(epb.if_id as usize) {
                    Some(i) => (i.linktype, ng_timestamp(i, epb.ts_high, epb.ts_low)),
                    None => (LINKTYPE_NO_INTERFACE, self.last_ts),
                };
                Step::Packet {
                    offset,
                    ts,
                    linktype: lt,
                    start: offset_of(data),
                    len: data.len(),
                    orig_len: epb.orig_len(),
                }
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let data = spb.packet_data();
                let lt = self
                    .interfaces
                    .first()
                    .map_or(LINKTYPE_NO_INTERFACE, |i| i.linktype);
                Step::Packet {
                    offset,
                    ts: self.last_ts,
                    linktype: lt,
                    start: offset_of(data),
                    len: data.len(),
                    orig_len: spb.orig_len(),
                }
            }
            // Statistics, name resolution, custom and unknown blocks carry
            // no packets.
            PcapBlockOwned::NG(_) => Step::Meta(offset),
        };
        Ok(step)
    }
}

enum Step {
    Meta(usize),
    Refilled,
    End,
    Packet {
        offset: usize,
        ts: Timestamp,
        linktype: u32,
        start: usize,
        len: usize,
        orig_len: u32,
    },
}

fn check_linktype(path: &Path, lt: u32, iface: Option<usize>) -> Result<(), CaptureError> {
    if linktype::is_supported(lt) {
        return Ok(());
    }
    Err(CaptureError::UnsupportedLinktype {
        path: path.to_owned(),
        value: lt,
        name: linktype::name(lt),
        where_: iface
            .map(|i| format!(", interface {i}"))
            .unwrap_or_default(),
    })
}

/// An EPB timestamp in nanoseconds, computed without overflow.
fn ng_timestamp(iface: &Interface, high: u32, low: u32) -> Timestamp {
    let units = (u64::from(high) << 32) | u64::from(low);
    let res = iface.resolution.max(1);
    let secs = (units / res) as i128 + i128::from(iface.offset);
    let frac = u128::from(units % res) * 1_000_000_000 / u128::from(res);
    let nanos = secs * 1_000_000_000 + frac as i128;
    Timestamp::from_nanos(nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

#[cfg(test)]
mod tests;
