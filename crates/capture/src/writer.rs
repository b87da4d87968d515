//! Writing pcap files (nanosecond resolution), for `mirador pcap encap`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mirador_wire::Timestamp;
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

use crate::CaptureError;

/// A pcap file being written.
pub struct PcapSink<W: Write> {
    path: PathBuf,
    writer: PcapWriter<W>,
}

impl<W: Write> std::fmt::Debug for PcapSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapSink")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<W: Write> PcapSink<W> {
    /// Starts a pcap stream of `linktype` with nanosecond timestamps on
    /// `out`; `name` is used in error messages.
    ///
    /// # Errors
    ///
    /// [`CaptureError::Io`] when the header cannot be written.
    pub fn new(name: &Path, out: W, linktype: u32) -> Result<Self, CaptureError> {
        let header = PcapHeader {
            datalink: DataLink::from(linktype),
            ts_resolution: pcap_file::TsResolution::NanoSecond,
            snaplen: crate::MAX_RECORD_LEN as u32,
            ..Default::default()
        };
        let writer = PcapWriter::with_header(out, header).map_err(|e| io_error(name, e))?;
        Ok(PcapSink {
            path: name.to_owned(),
            writer,
        })
    }

    /// Appends a record. Times before the epoch are written as the epoch
    /// (the format has no sign).
    ///
    /// # Errors
    ///
    /// [`CaptureError::Io`].
    pub fn write(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> Result<(), CaptureError> {
        let nanos = u64::try_from(ts.as_nanos()).unwrap_or(0);
        let pkt = PcapPacket::new(
            Duration::from_nanos(nanos),
            orig_len.max(data.len() as u32),
            data,
        );
        self.writer
            .write_packet(&pkt)
            .map_err(|e| io_error(&self.path, e))?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    ///
    /// [`CaptureError::Io`].
    pub fn finish(self) -> Result<W, CaptureError> {
        let mut w = self.writer.into_writer();
        w.flush().map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(w)
    }
}

fn io_error(path: &Path, e: pcap_file::PcapError) -> CaptureError {
    let source = match e {
        pcap_file::PcapError::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    };
    CaptureError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PcapSource;

    #[test]
    fn written_files_read_back() {
        let mut sink = PcapSink::new(Path::new("o.pcap"), Vec::new(), 1).unwrap();
        sink.write(Timestamp::from_nanos(1_500_000_123), b"frame-one", 100)
            .unwrap();
        sink.write(Timestamp::from_nanos(-5), b"two", 3).unwrap();
        let bytes = sink.finish().unwrap();
        let mut src =
            PcapSource::from_reader(Path::new("o.pcap"), Box::new(std::io::Cursor::new(bytes)))
                .unwrap();
        let r = src.next_record().unwrap().unwrap();
        assert_eq!(
            (r.ts.as_nanos(), r.linktype, r.data, r.orig_len),
            (1_500_000_123, 1, &b"frame-one"[..], 100)
        );
        let r = src.next_record().unwrap().unwrap();
        assert_eq!((r.ts.as_nanos(), r.data), (0, &b"two"[..]));
        assert!(src.next_record().unwrap().is_none());
    }
}
