//! [`VpcFlowWriter`]: records into files named and laid out as AWS delivers
//! flow logs to S3, so that the folder can be synced to a bucket and read by
//! the same Athena table (`skip.header.line.count=1`) as AWS's own logs.
//!
//! The one piece of the VPC Flow Logs output that does I/O. Files:
//!
//! * one per (account, region, rotation window), where the window is a
//!   multiple of `rotate-interval` in Unix time taken from the record's
//!   `end`: event time, so replaying an old capture yields files named by
//!   the capture's time, the same on every run;
//! * named `{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz`
//!   under `AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/` (see
//!   [`S3Layout`]), the stamp being the window's start and the hash a
//!   deterministic function of account, region, flow log id, window and a
//!   sequence number (never random);
//! * each starting with the format's header line, each a gzip member when
//!   `gzip` is on.
//!
//! At most `max-open-files` files are open at once; at the cap the least
//! recently written is closed (counted), and a later record for it opens a
//! new file with the next sequence number, so no file is ever reopened and
//! truncated within a run. Running again into the same folder replaces files
//! of the same name.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use mirador_config::VpcFlowLogsOutput;
use mirador_wire::Timestamp;

use super::{Format, Record, S3Layout, path_part};

/// How many (account, region, window) sequence numbers the writer remembers;
/// beyond that the oldest windows are forgotten, and a file for a forgotten
/// window is opened only where no file of that name exists yet.
const SEQ_MEMORY: usize = 8192;

/// How many existing names a file for a forgotten window may skip before the
/// writer gives up (a folder full of earlier runs' files for one window).
const MAX_NAME_TRIES: u32 = 1024;

/// The writer's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// The folder that plays the bucket prefix.
    pub directory: PathBuf,
    /// The field list (and header line).
    pub format: Format,
    /// File names and partitions.
    pub layout: S3Layout,
    /// Seconds of event time per file; taken as at least 60, since file
    /// names carry the window's start to the minute.
    pub rotate_interval: u32,
    /// Files open at once; taken as at least 1.
    pub max_open_files: usize,
}

impl WriterOptions {
    /// The settings `outputs.vpc-flow-logs` asks for.
    pub fn from_config(c: &VpcFlowLogsOutput) -> WriterOptions {
        WriterOptions {
            directory: PathBuf::from(&c.directory),
            format: c.format.clone(),
            layout: S3Layout::from_config(c),
            rotate_interval: c.rotate_interval,
            max_open_files: c.max_open_files,
        }
    }
}

/// What the writer did, for stats records and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Records written.
    pub records: u64,
    /// Bytes written before compression (header lines included).
    pub bytes: u64,
    /// Files opened.
    pub files_opened: u64,
    /// Files closed (finished), whatever the reason.
    pub files_closed: u64,
    /// Files closed because `max-open-files` were open and another was needed.
    pub closed_at_cap: u64,
    /// Files open now.
    pub open_files: usize,
}

/// A file that could not be opened, written or closed.
#[derive(Debug)]
pub struct WriteError {
    /// The file.
    pub path: PathBuf,
    /// What was being done: `create`, `write` or `close`.
    pub op: &'static str,
    /// The cause.
    pub source: io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VPC flow log file {}: cannot {}: {}",
            self.path.display(),
            self.op,
            self.source
        )
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Sink {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(b),
            Sink::Gzip(w) => w.write_all(b),
        }
    }

    /// Writes the gzip trailer and flushes; the file is complete after it.
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

struct OpenFile {
    account: String,
    region: String,
    window: i64,
    path: PathBuf,
    sink: Sink,
    /// The writer's tick at the last write: the least recent goes at the cap.
    last_used: u64,
}

/// Writes [`Record`]s into rotated, optionally gzipped files laid out as
/// AWS's S3 delivery (see the module docs). Every I/O error is returned.
/// Dropping the writer closes its files as well as it can; call
/// [`finish`](Self::finish) to learn whether that worked.
pub struct VpcFlowWriter {
    opts: WriterOptions,
    header: String,
    open: Vec<OpenFile>,
    /// The next sequence number per (window, account, region), for windows
    /// from `forgotten_before` on; ordered so the oldest windows go first.
    seqs: BTreeMap<(i64, String, String), u32>,
    forgotten_before: i64,
    tick: u64,
    line: String,
    stats: WriterStats,
}

impl fmt::Debug for VpcFlowWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VpcFlowWriter")
            .field("opts", &self.opts)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// FNV-1a, 32 bits: a small, stable hash for file names (the standard
/// library's hashers may change between releases).
fn fnv1a(parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for &b in p.iter().chain(&[0xff]) {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    h
}

impl VpcFlowWriter {
    /// A writer; nothing is created on disk until the first record.
    pub fn new(opts: WriterOptions) -> VpcFlowWriter {
        let header = opts.format.header();
        VpcFlowWriter {
            opts,
            header,
            open: Vec::new(),
            seqs: BTreeMap::new(),
            forgotten_before: i64::MIN,
            tick: 0,
            line: String::new(),
            stats: WriterStats::default(),
        }
    }

    /// What the writer did so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            open_files: self.open.len(),
            ..self.stats
        }
    }

    fn rotate(&self) -> i64 {
        i64::from(self.opts.rotate_interval.max(60))
    }

    /// Writes one record, in the writer's format, to the file of its
    /// account, region and rotation window (of its `end`, else `start`).
    /// A record without an account or region goes to `unknown`.
    ///
    /// # Errors
    ///
    /// A file that cannot be created, written, or (at the open-file cap)
    /// closed. A file that failed a write is dropped; the next record for it
    /// starts a new file.
    pub fn write(&mut self, rec: &Record) -> Result<(), WriteError> {
        let account = path_part(rec.account_id.as_deref().unwrap_or(""));
        let region = path_part(rec.region.as_deref().unwrap_or(""));
        let t = rec.end.or(rec.start).unwrap_or(0);
        let window = t.div_euclid(self.rotate());
        let idx = match self
            .open
            .iter()
            .position(|f| f.window == window && f.account == account && f.region == region)
        {
            Some(i) => i,
            None => self.open_file(account, region, window)?,
        };
        self.line.clear();
        rec.write(&self.opts.format, &mut self.line);
        self.line.push('\n');
        self.tick += 1;
        let f = &mut self.open[idx];
        f.last_used = self.tick;
        if let Err(source) = f.sink.write_all(self.line.as_bytes()) {
            let f = self.open.swap_remove(idx);
            self.stats.files_closed += 1;
            return Err(WriteError {
                path: f.path,
                op: "write",
                source,
            });
        }
        self.stats.records += 1;
        self.stats.bytes += self.line.len() as u64;
        Ok(())
    }

    /// Opens the next file for (account, region, window), closing the least
    /// recently written one first when at the cap; returns its index.
    fn open_file(&mut self, account: &str, region: &str, window: i64) -> Result<usize, WriteError> {
        if self.open.len() >= self.opts.max_open_files.max(1) {
            let lru = self
                .open
                .iter()
                .enumerate()
                .min_by_key(|(_, f)| f.last_used)
                .map(|(i, _)| i);
            if let Some(i) = lru {
                self.stats.closed_at_cap += 1;
                self.close(i)?;
            }
        }
        let key = (window, account.to_string(), region.to_string());
        // A window still remembered: its next sequence number is exact, and
        // the name was not used in this run, so a file left by an earlier
        // run is replaced. A forgotten window: skip names that exist, as
        // they may be this run's.
        let remembered = window >= self.forgotten_before;
        let mut seq = if remembered {
            self.seqs.get(&key).copied().unwrap_or(0)
        } else {
            0
        };
        let start = window.saturating_mul(self.rotate());
        let stamp = Timestamp::from_secs_nanos(start, 0);
        let base = fnv1a(&[
            account.as_bytes(),
            region.as_bytes(),
            self.opts.layout.flow_log_id.as_bytes(),
            &window.to_le_bytes(),
        ]);
        let mut tries = 0;
        let (path, file) = loop {
            // Sequence numbers offset the hash, so the names of one
            // (account, region, window) never collide with each other.
            let hash = format!("{:08x}", base.wrapping_add(seq));
            let path = self
                .opts
                .directory
                .join(self.opts.layout.key(account, region, stamp, &hash));
            let err = |source| WriteError {
                path: path.clone(),
                op: "create",
                source,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            let opened = if remembered {
                File::create(&path)
            } else {
                OpenOptions::new().write(true).create_new(true).open(&path)
            };
            match opened {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < MAX_NAME_TRIES => {
                    tries += 1;
                    seq = seq.wrapping_add(1);
                }
                Err(e) => return Err(err(e)),
            }
        };
        self.remember(key, seq.wrapping_add(1));
        let buf = BufWriter::with_capacity(64 * 1024, file);
        let mut sink = if self.opts.layout.gzip {
            Sink::Gzip(GzEncoder::new(buf, Compression::default()))
        } else {
            Sink::Plain(buf)
        };
        self.stats.files_opened += 1;
        let header_write = sink
            .write_all(self.header.as_bytes())
            .and_then(|()| sink.write_all(b"\n"));
        if let Err(source) = header_write {
            self.stats.files_closed += 1;
            return Err(WriteError {
                path,
                op: "write",
                source,
            });
        }
        self.stats.bytes += self.header.len() as u64 + 1;
        self.open.push(OpenFile {
            account: account.to_string(),
            region: region.to_string(),
            window,
            path,
            sink,
            last_used: self.tick,
        });
        Ok(self.open.len() - 1)
    }

    fn remember(&mut self, key: (i64, String, String), next: u32) {
        self.seqs.insert(key, next);
        while self.seqs.len() > SEQ_MEMORY {
            if let Some(((w, _, _), _)) = self.seqs.pop_first() {
                self.forgotten_before = self.forgotten_before.max(w.saturating_add(1));
            }
        }
    }

    fn close(&mut self, i: usize) -> Result<(), WriteError> {
        let f = self.open.swap_remove(i);
        self.stats.files_closed += 1;
        f.sink.finish().map_err(|source| WriteError {
            path: f.path,
            op: "close",
            source,
        })
    }

    /// Closes the files whose rotation window ended at or before `t` (the
    /// caller's watermark, less whatever lateness it allows), so that they
    /// are complete on disk while the writer runs. A later record for such
    /// a window starts a new file.
    ///
    /// # Errors
    ///
    /// The first file that could not be closed; the others are closed anyway.
    pub fn close_ended(&mut self, t: Timestamp) -> Result<(), WriteError> {
        let rotate = self.rotate();
        let now = t.secs();
        let mut first_err = None;
        let mut i = 0;
        while i < self.open.len() {
            let end = self.open[i].window.saturating_add(1).saturating_mul(rotate);
            if end <= now {
                if let Err(e) = self.close(i) {
                    first_err.get_or_insert(e);
                }
            } else {
                i += 1;
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Closes every file (writing gzip trailers) and returns the stats. The
    /// writer stays usable: a later record starts a new file.
    ///
    /// # Errors
    ///
    /// The first file that could not be closed; the others are closed anyway.
    pub fn finish(&mut self) -> Result<WriterStats, WriteError> {
        let mut first_err = None;
        while !self.open.is_empty() {
            if let Err(e) = self.close(self.open.len() - 1) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(self.stats()), Err)
    }

    /// The folder the writer writes under.
    pub fn directory(&self) -> &Path {
        &self.opts.directory
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::atomic::{AtomicU32, Ordering};

    use flate2::read::MultiGzDecoder;
    use mirador_config::Direction;

    use super::*;
    use crate::vpcflow::{DirWindow, FlowFacts, SessionFacts, build_record};

    /// A fresh folder under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "mirador-vpcflow-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Every file under `dir`, relative, sorted.
    fn files(dir: &Path) -> Vec<PathBuf> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap().to_path_buf());
                }
            }
        }
        let mut v = Vec::new();
        walk(dir, dir, &mut v);
        v.sort();
        v
    }

    fn read(path: &Path) -> String {
        let bytes = std::fs::read(path).unwrap();
        if path.extension().is_some_and(|e| e == "gz") {
            let mut s = String::new();
            MultiGzDecoder::new(&bytes[..])
                .read_to_string(&mut s)
                .unwrap();
            s
        } else {
            String::from_utf8(bytes).unwrap()
        }
    }

    /// Parses a file as a reader would: the header names the fields, every
    /// other line parses with them.
    fn parse_file(path: &Path) -> (Format, Vec<Record>) {
        let text = read(path);
        let mut lines = text.lines();
        let fmt = Format::parse(lines.next().unwrap()).unwrap();
        let recs = lines
            .map(|l| Record::parse(&fmt, l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        (fmt, recs)
    }

    fn opts(dir: &Path, format: Format, gzip: bool) -> WriterOptions {
        WriterOptions {
            directory: dir.to_path_buf(),
            format,
            layout: S3Layout {
                prefix: String::new(),
                flow_log_id: "fl-1234abcd".into(),
                hive: false,
                per_hour: false,
                gzip,
            },
            rotate_interval: 300,
            max_open_files: 64,
        }
    }

    const T0: i64 = 1_529_511_600; // 2018-06-20T16:20:00Z, a multiple of 300

    fn rec(account: &str, region: &str, end: i64, packets: u64) -> Record {
        Record {
            version: Some(5),
            account_id: Some(account.into()),
            interface_id: Some("eni-1235b8ca123456789".into()),
            srcaddr: Some("10.0.0.62".parse().unwrap()),
            dstaddr: Some("52.213.180.42".parse().unwrap()),
            srcport: Some(5001),
            dstport: Some(443),
            protocol: Some(6),
            packets: Some(packets),
            bytes: Some(packets * 100),
            start: Some(end - 10),
            end: Some(end),
            action: Some("ACCEPT".into()),
            log_status: Some("OK".into()),
            region: Some(region.into()),
            flow_direction: Some("egress".into()),
            ..Record::default()
        }
    }

    #[test]
    fn gzip_files_hold_the_header_then_the_records() {
        let dir = TempDir::new();
        let fmt = Format::default_v2();
        let mut w = VpcFlowWriter::new(opts(&dir.0, fmt.clone(), true));
        let recs = [
            rec("123456789012", "us-east-1", T0 + 10, 1),
            rec("123456789012", "us-east-1", T0 + 20, 2),
        ];
        for r in &recs {
            w.write(r).unwrap();
        }
        let stats = w.finish().unwrap();
        assert_eq!(
            (
                stats.records,
                stats.files_opened,
                stats.files_closed,
                stats.open_files
            ),
            (2, 1, 1, 0)
        );
        let found = files(&dir.0);
        // AWS's key layout, the stamp being the rotation window's start.
        assert_eq!(found.len(), 1);
        let name = found[0].to_str().unwrap();
        let prefix = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_";
        assert!(name.starts_with(prefix), "{name}");
        let hash = &name[prefix.len()..name.len() - ".log.gz".len()];
        assert!(name.ends_with(".log.gz"), "{name}");
        assert!(
            hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{hash}"
        );
        let text = read(&dir.0.join(name));
        let want = format!(
            "{}\n{}\n{}\n",
            fmt.header(),
            recs[0].to_line(&fmt),
            recs[1].to_line(&fmt)
        );
        assert_eq!(text, want);
        assert_eq!(stats.bytes, want.len() as u64);
    }

    #[test]
    fn rotation_follows_event_time_and_names_are_deterministic() {
        let run = |dir: &Path| {
            let mut w = VpcFlowWriter::new(opts(dir, Format::default_v2(), false));
            // Two rotation windows; the order records arrive in does not matter.
            for r in [
                rec("123456789012", "us-east-1", T0 + 299, 1),
                rec("123456789012", "us-east-1", T0 + 300, 2),
                rec("123456789012", "us-east-1", T0 + 1, 3),
            ] {
                w.write(&r).unwrap();
            }
            w.finish().unwrap();
            files(dir)
        };
        let (a, b) = (TempDir::new(), TempDir::new());
        let names = run(&a.0);
        assert_eq!(names, run(&b.0), "the same records, the same names");
        assert_eq!(names.len(), 2, "{names:?}");
        let stamps: Vec<bool> = ["20180620T1620Z", "20180620T1625Z"]
            .iter()
            .map(|s| names.iter().any(|n| n.to_str().unwrap().contains(s)))
            .collect();
        assert_eq!(stamps, [true, true], "{names:?}");
        for n in &names {
            assert!(n.to_str().unwrap().ends_with(".log"), "plain text: {n:?}");
            let (_, recs) = parse_file(&a.0.join(n));
            let packets: Vec<u64> = recs.iter().filter_map(|r| r.packets).collect();
            let first = n.to_str().unwrap().contains("T1620Z");
            assert_eq!(packets, if first { vec![1, 3] } else { vec![2] });
        }
        // Running again into the same folder replaces the files.
        assert_eq!(run(&a.0), names);
    }

    #[test]
    fn accounts_and_regions_get_their_own_files() {
        let dir = TempDir::new();
        let mut w = VpcFlowWriter::new(opts(&dir.0, Format::default_v2(), true));
        for r in [
            rec("123456789012", "us-east-1", T0, 1),
            rec("210987654321", "us-east-1", T0, 1),
            rec("123456789012", "eu-west-1", T0, 1),
            Record {
                account_id: None,
                region: Some("../../etc".into()),
                ..rec("x", "y", T0, 1)
            },
        ] {
            w.write(&r).unwrap();
        }
        w.finish().unwrap();
        let names: Vec<String> = files(&dir.0)
            .iter()
            .map(|p| p.to_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        for prefix in [
            "AWSLogs/123456789012/vpcflowlogs/eu-west-1/",
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/",
            "AWSLogs/210987654321/vpcflowlogs/us-east-1/",
            "AWSLogs/unknown/vpcflowlogs/unknown/2018/06/20/unknown_vpcflowlogs_unknown_fl-1234abcd_",
        ] {
            assert!(
                names.iter().any(|n| n.starts_with(prefix)),
                "{prefix} in {names:?}"
            );
        }
    }

    #[test]
    fn the_open_file_cap_closes_the_least_recent_and_counts() {
        let dir = TempDir::new();
        let mut o = opts(&dir.0, Format::default_v2(), true);
        o.max_open_files = 2;
        let mut w = VpcFlowWriter::new(o);
        let (a, b, c) = ("111111111111", "222222222222", "333333333333");
        for (acct, n) in [(a, 1), (b, 2), (a, 3), (c, 4), (b, 5), (a, 6)] {
            w.write(&rec(acct, "us-east-1", T0, n)).unwrap();
            assert!(w.stats().open_files <= 2);
        }
        // c evicts b (a was written more recently); b's return evicts a;
        // a's return evicts c: b and a each get a second file.
        let stats = w.finish().unwrap();
        assert_eq!((stats.files_opened, stats.closed_at_cap), (5, 3));
        assert_eq!(stats.files_closed, 5);
        let names = files(&dir.0);
        assert_eq!(names.len(), 5, "{names:?}");
        let mut packets = Vec::new();
        for n in &names {
            let (_, recs) = parse_file(&dir.0.join(n));
            packets.extend(recs.iter().filter_map(|r| r.packets));
        }
        packets.sort_unstable();
        assert_eq!(packets, [1, 2, 3, 4, 5, 6], "every record once");
        // Names of one account and window differ only in the hash.
        let of_a: Vec<_> = names
            .iter()
            .filter(|n| n.to_str().unwrap().contains(&format!("/{a}_")))
            .collect();
        assert_eq!(of_a.len(), 2);
    }

    #[test]
    fn close_ended_completes_past_windows() {
        let dir = TempDir::new();
        let mut w = VpcFlowWriter::new(opts(&dir.0, Format::default_v2(), true));
        w.write(&rec("123456789012", "us-east-1", T0 + 5, 1))
            .unwrap();
        w.write(&rec("123456789012", "us-east-1", T0 + 305, 2))
            .unwrap();
        w.close_ended(Timestamp::from_secs_nanos(T0 + 299, 0))
            .unwrap();
        assert_eq!(w.stats().open_files, 2);
        w.close_ended(Timestamp::from_secs_nanos(T0 + 300, 0))
            .unwrap();
        assert_eq!(w.stats().open_files, 1);
        // The closed file is complete now: it decompresses to header + record.
        let done: Vec<_> = files(&dir.0)
            .into_iter()
            .filter(|n| n.to_str().unwrap().contains("T1620Z"))
            .collect();
        let (_, recs) = parse_file(&dir.0.join(&done[0]));
        assert_eq!(recs.len(), 1);
        // A late record for the closed window goes to a new file.
        w.write(&rec("123456789012", "us-east-1", T0 + 6, 3))
            .unwrap();
        w.finish().unwrap();
        assert_eq!(files(&dir.0).len(), 3);
    }

    #[test]
    fn open_errors_are_returned() {
        let dir = TempDir::new();
        // A file where the writer needs a folder.
        std::fs::write(dir.0.join("AWSLogs"), b"x").unwrap();
        let mut w = VpcFlowWriter::new(opts(&dir.0, Format::default_v2(), true));
        let e = w
            .write(&rec("123456789012", "us-east-1", T0, 1))
            .unwrap_err();
        assert_eq!(e.op, "create");
        assert!(e.to_string().contains("AWSLogs"), "{e}");
        assert_eq!(w.stats().records, 0);
        assert!(w.finish().is_ok());
    }

    #[test]
    fn forgotten_windows_never_overwrite() {
        let dir = TempDir::new();
        let mut w = VpcFlowWriter::new(opts(&dir.0, Format::default_v2(), false));
        w.write(&rec("123456789012", "us-east-1", T0, 1)).unwrap();
        w.finish().unwrap();
        // Pretend the window was forgotten: the next file skips the name in use.
        w.seqs.clear();
        w.forgotten_before = i64::MAX;
        w.write(&rec("123456789012", "us-east-1", T0, 2)).unwrap();
        w.finish().unwrap();
        let names = files(&dir.0);
        assert_eq!(names.len(), 2);
        let mut packets: Vec<u64> = names
            .iter()
            .flat_map(|n| parse_file(&dir.0.join(n)).1)
            .filter_map(|r| r.packets)
            .collect();
        packets.sort_unstable();
        assert_eq!(packets, [1, 2]);
    }

    /// Packets through `DirWindow`, records through `build_record`, files
    /// through the writer, and back with `Record::parse` using each file's
    /// header: what comes back is what was built.
    #[test]
    fn round_trip_from_packets_to_parsed_files() {
        let dir = TempDir::new();
        let fmt = Format::parse(
            "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${flow-direction} ${traffic-path}",
        )
        .unwrap();
        let mut w = VpcFlowWriter::new(opts(&dir.0, fmt.clone(), true));
        let session = SessionFacts {
            account_id: Some("123456789010".into()),
            interface_id: Some("eni-1235b8ca123456789".into()),
            vpc_id: Some("vpc-abcdefab012345678".into()),
            region: Some("us-east-1".into()),
            az_id: Some("use1-az4".into()),
            primary_ipv4: Some("10.0.0.62".parse().unwrap()),
            ..SessionFacts::default()
        };
        let out = FlowFacts {
            direction: Some(Direction::Egress),
            ..FlowFacts::new(
                "10.0.0.62".parse().unwrap(),
                "52.213.180.42".parse().unwrap(),
                5001,
                443,
                6,
                &session,
            )
        };
        let back = FlowFacts {
            src: out.dst,
            dst: out.src,
            src_port: out.dst_port,
            dst_port: out.src_port,
            direction: Some(Direction::Ingress),
            ..out
        };
        let (mut w_out, mut w_back) = (DirWindow::new(), DirWindow::new());
        let mut built = Vec::new();
        // Ten minutes of a slow connection: a packet each way every 45 s.
        for i in 0..14 {
            let ts = Timestamp::from_secs_nanos(T0 + i * 45, 0);
            let (f_out, f_back) = if i == 0 { (0x02, 0x12) } else { (0x18, 0x10) };
            for (win, flow, flags) in [(&mut w_out, &out, f_out), (&mut w_back, &back, f_back)] {
                if let Some(iv) = win.on_packet(ts, 100, Some(flags), 60) {
                    built.push(build_record(&fmt, &iv, flow));
                }
            }
        }
        for (win, flow) in [(&mut w_out, &out), (&mut w_back, &back)] {
            if let Some(iv) = win.take() {
                built.push(build_record(&fmt, &iv, flow));
            }
        }
        for r in &built {
            w.write(r).unwrap();
        }
        w.finish().unwrap();
        let mut parsed = Vec::new();
        for n in files(&dir.0) {
            let (header, recs) = parse_file(&dir.0.join(n));
            assert_eq!(header, fmt);
            parsed.extend(recs);
        }
        assert_eq!(parsed.len(), built.len());
        let key = |r: &Record| (r.start, r.srcport);
        parsed.sort_by_key(key);
        built.sort_by_key(key);
        // Only the format's fields travel; everything built is in the format.
        assert_eq!(parsed, built);
        let syn_ack: Vec<_> = parsed.iter().filter(|r| r.tcp_flags == Some(18)).collect();
        assert_eq!(syn_ack.len(), 1);
        assert_eq!(syn_ack[0].flow_direction.as_deref(), Some("ingress"));
        assert_eq!(parsed.iter().map(|r| r.packets.unwrap()).sum::<u64>(), 28);
    }
}
