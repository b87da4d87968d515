//! The live sensor's EVE output file: buffered, appended to (a restart never
//! truncates), rotated by size (`outputs.eve.rotate-size`) or age
//! (`rotate-interval`), reopened on request (SIGHUP, for logrotate).
//!
//! Rotation renames the file to `FILENAME.YYYYMMDDTHHMMSSZ` (the rotation
//! time, UTC; `.1`, `.2`... appended when that name exists) and opens a
//! fresh one. It happens only between two [`EveFile::write`] calls, after
//! a flush, so a record handed to one call is never split across files.
//! The path `-` is standard output, never rotated.
//!
//! Time is an argument, so that rotation can be tested without waiting.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Buffer size: large enough that a busy sensor makes few `write` calls,
/// small enough that a crash loses little.
const BUFFER: usize = 256 * 1024;

/// Most `.N` suffixes tried when a rotated name exists.
const MAX_SUFFIX: u32 = 10_000;

/// How often a write tries to open the path again while the file cannot be
/// opened (each failure is an error the caller logs: not one per record).
const RETRY: Duration = Duration::from_secs(1);

/// The EVE output.
#[derive(Debug)]
pub struct EveFile {
    path: PathBuf,
    out: Out,
    rotate_size: u64,
    rotate_interval: Duration,
    /// When the current file was opened (the interval counts from here).
    opened: SystemTime,
    /// Bytes in the current file, what was there when it was opened
    /// included.
    size: u64,
    /// The current handle may no longer refer to `path` (a rotation renamed
    /// the file, or a reopening was asked for, and `path` could not be
    /// opened): records still go to the old handle, and writes try to open
    /// `path` again, from `retry_at` on.
    detached: bool,
    retry_at: Option<SystemTime>,
    rotations: u64,
    bytes_written: u64,
    write_errors: u64,
}

#[derive(Debug)]
enum Out {
    Stdout(BufWriter<Stdout>),
    File(BufWriter<File>),
}

impl Out {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Out::Stdout(w) => w,
            Out::File(w) => w,
        }
    }
}

fn open_append(path: &Path) -> io::Result<(BufWriter<File>, u64)> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    let size = f.metadata()?.len();
    Ok((BufWriter::with_capacity(BUFFER, f), size))
}

impl EveFile {
    /// Opens `path` for appending (creating it), or standard output for
    /// `-`. `rotate_size` 0 and `rotate_interval` zero disable rotation;
    /// `now` starts the interval.
    pub fn open(
        path: &Path,
        rotate_size: u64,
        rotate_interval: Duration,
        now: SystemTime,
    ) -> io::Result<EveFile> {
        let (out, size) = if path == Path::new("-") {
            (
                Out::Stdout(BufWriter::with_capacity(BUFFER, io::stdout())),
                0,
            )
        } else {
            let (w, size) = open_append(path)?;
            (Out::File(w), size)
        };
        Ok(EveFile {
            path: path.to_path_buf(),
            out,
            rotate_size,
            rotate_interval,
            opened: now,
            size,
            detached: false,
            retry_at: None,
            rotations: 0,
            bytes_written: 0,
            write_errors: 0,
        })
    }

    fn is_stdout(&self) -> bool {
        matches!(self.out, Out::Stdout(_))
    }

    /// Writes whole records (`bytes` ends with a newline). Rotates first
    /// when the interval has passed since the file was opened, and after
    /// when the file has reached the rotation size.
    ///
    /// An error (each is counted in [`write_errors`](Self::write_errors)) is
    /// for the caller to log. When it is a rotation's or a reopening's, the
    /// records were written all the same (to the file as it was: nothing is
    /// lost), a failed rotation is tried again after another interval or
    /// size, a failed opening at most every second.
    pub fn write(&mut self, bytes: &[u8], now: SystemTime) -> io::Result<()> {
        let mut result = Ok(());
        if self.detached && self.retry_at.is_none_or(|t| now >= t) {
            result = self.reattach(now);
        }
        if self.interval_due(now) {
            result = result.and(self.rotate(now));
        }
        if let Err(e) = self.out.writer().write_all(bytes) {
            self.write_errors += 1;
            return Err(e);
        }
        let n = bytes.len() as u64;
        self.bytes_written += n;
        self.size += n;
        if self.rotate_size > 0 && self.size >= self.rotate_size && !self.is_stdout() {
            result = result.and(self.rotate(now));
        }
        result
    }

    fn interval_due(&self, now: SystemTime) -> bool {
        !self.rotate_interval.is_zero()
            && !self.is_stdout()
            && now
                .duration_since(self.opened)
                .is_ok_and(|age| age >= self.rotate_interval)
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.writer().flush().inspect_err(|_| {
            self.write_errors += 1;
        })
    }

    /// Flushes, closes and opens the path again (appending, creating it):
    /// after logrotate moved the file away, writes go to a fresh one. When
    /// the path cannot be opened, records keep going to the old file and
    /// the next write tries again. A no-op, but for the flush, on standard
    /// output.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.flush()?;
        if self.is_stdout() {
            return Ok(());
        }
        self.retry_at = None;
        self.reattach_now()
    }

    /// Opens `path` again in place of the current handle; on failure, writes
    /// try again from `now` + [`RETRY`].
    fn reattach(&mut self, now: SystemTime) -> io::Result<()> {
        let r = self.reattach_now();
        if r.is_err() {
            self.retry_at = now.checked_add(RETRY);
        }
        r
    }

    fn reattach_now(&mut self) -> io::Result<()> {
        match open_append(&self.path) {
            Ok((w, size)) => {
                let old = std::mem::replace(&mut self.out, Out::File(w));
                // What the old handle still buffers belongs to its file.
                if let Out::File(mut old) = old
                    && old.flush().is_err()
                {
                    self.write_errors += 1;
                }
                self.size = size;
                self.detached = false;
                self.retry_at = None;
                Ok(())
            }
            Err(e) => {
                self.write_errors += 1;
                self.detached = true;
                Err(e)
            }
        }
    }

    /// Renames the file aside and opens a fresh one.
    fn rotate(&mut self, now: SystemTime) -> io::Result<()> {
        // Whatever happens, the next attempt waits for another interval or
        // size: a failing rotation must not fail every write.
        self.opened = now;
        self.size = 0;
        self.flush()?;
        let renamed =
            rotated_name(&self.path, now).and_then(|target| std::fs::rename(&self.path, &target));
        if let Err(e) = renamed {
            self.write_errors += 1;
            return Err(e);
        }
        self.rotations += 1;
        // Until the fresh file is open, the handle writes to the renamed one.
        self.reattach(now)
    }

    /// Files rotated so far.
    pub fn rotations(&self) -> u64 {
        self.rotations
    }

    /// Bytes accepted by [`write`](Self::write) so far (buffered or
    /// written).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Failed writes, flushes, rotations and reopenings so far.
    pub fn write_errors(&self) -> u64 {
        self.write_errors
    }

    /// The path given to [`open`](Self::open).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `path.YYYYMMDDTHHMMSSZ`, or with `.1`, `.2`... when that exists.
fn rotated_name(path: &Path, now: SystemTime) -> io::Result<PathBuf> {
    let mut base = path.as_os_str().to_os_string();
    base.push(".");
    base.push(utc_stamp(now));
    let base = PathBuf::from(base);
    if !base.exists() {
        return Ok(base);
    }
    for n in 1..=MAX_SUFFIX {
        let mut p = base.clone().into_os_string();
        p.push(format!(".{n}"));
        let p = PathBuf::from(p);
        if !p.exists() {
            return Ok(p);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{}: every rotated name is taken", base.display()),
    ))
}

/// `YYYYMMDDTHHMMSSZ` of `t` (UTC; times before 1970 as 1970).
///
/// By hand rather than with a date crate: this is the only calendar
/// arithmetic the runtime needs, and the conversion is a few lines of
/// integer arithmetic (below).
fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The proleptic Gregorian date of day `z` since 1970-01-01: Howard
/// Hinnant's `civil_from_days` ("chrono-Compatible Low-Level Date
/// Algorithms"), for days on or after the epoch. Eras are 400-year cycles
/// starting on a March 1st, which puts the leap day at the end of a year.
fn civil_from_days(z: u64) -> (u64, u64, u64) {
    let z = z + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

impl super::pipeline::EveSink for EveFile {
    fn write(&mut self, bytes: &[u8], now: SystemTime) -> io::Result<()> {
        EveFile::write(self, bytes, now)
    }
    fn flush(&mut self) -> io::Result<()> {
        EveFile::flush(self)
    }
    fn reopen(&mut self) -> io::Result<()> {
        EveFile::reopen(self)
    }
    fn rotations(&self) -> u64 {
        EveFile::rotations(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fresh directory of its own (removed when dropped).
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            static N: AtomicU64 = AtomicU64::new(0);
            let p = std::env::temp_dir().join(format!(
                "mirador-eve-{name}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }

        /// File names in the directory, sorted.
        fn names(&self) -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(&self.0)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        }

        fn read(&self, name: &str) -> String {
            std::fs::read_to_string(self.0.join(name)).unwrap()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// 2023-11-14T22:13:20Z.
    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn at(secs: u64) -> SystemTime {
        t0() + Duration::from_secs(secs)
    }

    fn record(i: usize) -> Vec<u8> {
        format!("{{\"event_type\":\"flow\",\"n\":{i}}}\n").into_bytes()
    }

    #[test]
    fn utc_stamps() {
        let s = |secs: u64| utc_stamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(s(0), "19700101T000000Z");
        assert_eq!(s(1_700_000_000), "20231114T221320Z");
        assert_eq!(s(951_782_400), "20000229T000000Z"); // leap day of a 400-year leap year
        assert_eq!(s(951_868_799), "20000229T235959Z");
        assert_eq!(s(951_868_800), "20000301T000000Z");
        assert_eq!(s(4_107_542_399), "21000228T235959Z"); // 2100 is no leap year
        assert_eq!(s(4_107_542_400), "21000301T000000Z");
        assert_eq!(s(1_709_164_800), "20240229T000000Z");
        assert_eq!(s(1_735_689_599), "20241231T235959Z");
        assert_eq!(s(253_402_300_799), "99991231T235959Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH - Duration::from_secs(1)),
            "19700101T000000Z"
        );
        // Every day of four centuries maps to consecutive dates.
        let mut prev = civil_from_days(0);
        assert_eq!(prev, (1970, 1, 1));
        for z in 1..146_097 {
            let (y, m, d) = civil_from_days(z);
            let next_day = (y, m, d) == (prev.0, prev.1, prev.2 + 1);
            let next_month = (y, m, d) == (prev.0, prev.1 + 1, 1) && prev.2 >= 28;
            let next_year = (y, m, d) == (prev.0 + 1, 1, 1) && (prev.1, prev.2) == (12, 31);
            assert!(
                next_day || next_month || next_year,
                "{prev:?} -> {y}-{m}-{d}"
            );
            prev = (y, m, d);
        }
    }

    #[test]
    fn appends_and_never_truncates() {
        let dir = Dir::new("append");
        let path = dir.0.join("eve.json");
        std::fs::write(&path, "old\n").unwrap();
        let mut f = EveFile::open(&path, 0, Duration::ZERO, t0()).unwrap();
        f.write(b"new\n", t0()).unwrap();
        // Buffered until flushed.
        assert_eq!(dir.read("eve.json"), "old\n");
        f.flush().unwrap();
        assert_eq!(dir.read("eve.json"), "old\nnew\n");
        assert_eq!(
            (f.bytes_written(), f.rotations(), f.write_errors()),
            (4, 0, 0)
        );
        drop(f);
        // Dropping flushes too.
        let mut f = EveFile::open(&path, 0, Duration::ZERO, t0()).unwrap();
        f.write(b"more\n", t0()).unwrap();
        drop(f);
        assert_eq!(dir.read("eve.json"), "old\nnew\nmore\n");
        assert_eq!(dir.names(), ["eve.json"]);
    }

    #[test]
    fn rotates_by_size_and_never_splits_records() {
        let dir = Dir::new("size");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 100, Duration::ZERO, t0()).unwrap();
        let mut all = Vec::new();
        // Records of 31-32 bytes, handed one or three at a time.
        let mut i = 0;
        for round in 0..20 {
            let mut chunk = Vec::new();
            for _ in 0..(1 + 2 * (round % 2)) {
                chunk.extend(record(i));
                i += 1;
            }
            all.extend_from_slice(&chunk);
            f.write(&chunk, at(round)).unwrap();
        }
        f.flush().unwrap();
        assert_eq!(f.bytes_written(), all.len() as u64);
        let names = dir.names();
        assert_eq!(names.len() as u64, f.rotations() + 1);
        assert!(f.rotations() >= 5, "{names:?}");
        // Concatenated in order (rotated names sort by time, after the live
        // file's), the files are exactly what was written; each holds whole
        // records and reached the size (only the live one may be smaller).
        let (live, rotated) = names.split_first().unwrap();
        assert_eq!(live, "eve.json");
        let mut joined = String::new();
        for n in rotated {
            assert!(n.starts_with("eve.json.20231114T2213"), "{n}");
            let text = dir.read(n);
            assert!(text.len() >= 100, "{n}: {}", text.len());
            assert!(text.ends_with('\n'));
            for line in text.lines() {
                assert!(line.starts_with("{\"event_type\"") && line.ends_with('}'));
            }
            joined.push_str(&text);
        }
        joined.push_str(&dir.read(live));
        assert_eq!(joined.as_bytes(), all);
        assert_eq!(f.write_errors(), 0);
    }

    #[test]
    fn size_counts_what_the_file_held_at_open() {
        let dir = Dir::new("presize");
        let path = dir.0.join("eve.json");
        std::fs::write(&path, vec![b'x'; 90]).unwrap();
        let mut f = EveFile::open(&path, 100, Duration::ZERO, t0()).unwrap();
        f.write(&[b'y'; 9], t0()).unwrap();
        assert_eq!(f.rotations(), 0);
        f.write(b"\n", t0()).unwrap();
        assert_eq!(f.rotations(), 1);
        assert_eq!(dir.names(), ["eve.json", "eve.json.20231114T221320Z"]);
        assert_eq!(dir.read("eve.json"), "");
    }

    #[test]
    fn rotates_by_interval() {
        let dir = Dir::new("interval");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 0, Duration::from_secs(60), t0()).unwrap();
        f.write(&record(0), at(0)).unwrap();
        f.write(&record(1), at(59)).unwrap();
        assert_eq!(f.rotations(), 0);
        // The first write at the boundary rotates, then goes to the fresh file.
        f.write(&record(2), at(60)).unwrap();
        assert_eq!(f.rotations(), 1);
        // The next interval counts from the rotation.
        f.write(&record(3), at(119)).unwrap();
        assert_eq!(f.rotations(), 1);
        // Long quiet: one rotation, whatever the number of intervals missed.
        f.write(&record(4), at(1000)).unwrap();
        assert_eq!(f.rotations(), 2);
        f.flush().unwrap();
        let r0 = String::from_utf8([record(0), record(1)].concat()).unwrap();
        let r1 = String::from_utf8([record(2), record(3)].concat()).unwrap();
        assert_eq!(
            dir.names(),
            [
                "eve.json",
                "eve.json.20231114T221420Z",
                "eve.json.20231114T223000Z"
            ]
        );
        assert_eq!(dir.read("eve.json.20231114T221420Z"), r0);
        assert_eq!(dir.read("eve.json.20231114T223000Z"), r1);
        assert_eq!(dir.read("eve.json"), String::from_utf8(record(4)).unwrap());
        // A clock going back rotates nothing.
        f.write(&record(5), at(10)).unwrap();
        assert_eq!(f.rotations(), 2);
    }

    #[test]
    fn name_collisions_get_a_suffix() {
        let dir = Dir::new("collide");
        let path = dir.0.join("eve.json");
        std::fs::write(dir.0.join("eve.json.20231114T221320Z"), "someone else's\n").unwrap();
        let mut f = EveFile::open(&path, 1, Duration::ZERO, t0()).unwrap();
        for i in 0..3 {
            f.write(&record(i), t0()).unwrap();
        }
        assert_eq!(f.rotations(), 3);
        assert_eq!(
            dir.names(),
            [
                "eve.json",
                "eve.json.20231114T221320Z",
                "eve.json.20231114T221320Z.1",
                "eve.json.20231114T221320Z.2",
                "eve.json.20231114T221320Z.3",
            ]
        );
        assert_eq!(dir.read("eve.json.20231114T221320Z"), "someone else's\n");
        for i in 0..3 {
            assert_eq!(
                dir.read(&format!("eve.json.20231114T221320Z.{}", i + 1))
                    .as_bytes(),
                record(i)
            );
        }
        assert_eq!(dir.read("eve.json"), "");
    }

    #[test]
    fn reopen_after_logrotate() {
        let dir = Dir::new("reopen");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 0, Duration::ZERO, t0()).unwrap();
        f.write(&record(0), t0()).unwrap();
        f.flush().unwrap();
        // logrotate renames the file; until the reopen, writes follow it.
        std::fs::rename(&path, dir.0.join("eve.json.1")).unwrap();
        f.write(&record(1), t0()).unwrap();
        f.reopen().unwrap();
        f.write(&record(2), t0()).unwrap();
        f.flush().unwrap();
        assert_eq!(dir.names(), ["eve.json", "eve.json.1"]);
        assert_eq!(
            dir.read("eve.json.1").as_bytes(),
            [record(0), record(1)].concat()
        );
        assert_eq!(dir.read("eve.json").as_bytes(), record(2));
        // Reopening the same file appends.
        f.reopen().unwrap();
        f.write(&record(3), t0()).unwrap();
        f.flush().unwrap();
        assert_eq!(
            dir.read("eve.json").as_bytes(),
            [record(2), record(3)].concat()
        );
        assert_eq!(f.write_errors(), 0);
    }

    #[test]
    fn a_failed_reopen_loses_nothing_and_is_retried() {
        let dir = Dir::new("reopen-fails");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 0, Duration::ZERO, t0()).unwrap();
        f.write(&record(0), at(0)).unwrap();
        // The path cannot be opened (a directory is in the way).
        std::fs::rename(&path, dir.0.join("moved")).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert!(f.reopen().is_err());
        assert_eq!(f.write_errors(), 1);
        // The next write tries again, fails, and writes to the old file.
        assert!(f.write(&record(1), at(0)).is_err());
        assert_eq!(f.write_errors(), 2);
        // Not again within a second.
        f.write(&record(2), at(0)).unwrap();
        assert_eq!(f.write_errors(), 2);
        // Then again, and it works.
        std::fs::remove_dir(&path).unwrap();
        f.write(&record(3), at(1)).unwrap();
        f.flush().unwrap();
        assert_eq!(
            dir.read("moved").as_bytes(),
            [record(0), record(1), record(2)].concat()
        );
        assert_eq!(dir.read("eve.json").as_bytes(), record(3));
        assert_eq!(f.bytes_written(), 4 * record(0).len() as u64);
    }

    #[test]
    fn a_failed_rotation_loses_nothing_and_waits() {
        let dir = Dir::new("rotate-fails");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 0, Duration::from_secs(10), t0()).unwrap();
        f.write(&record(0), at(0)).unwrap();
        // The file vanished: the rename fails.
        std::fs::rename(&path, dir.0.join("moved")).unwrap();
        assert!(f.write(&record(1), at(10)).is_err());
        assert_eq!((f.write_errors(), f.rotations()), (1, 0));
        // Tried again only after another interval.
        f.write(&record(2), at(19)).unwrap();
        assert_eq!(f.write_errors(), 1);
        f.flush().unwrap();
        assert_eq!(
            dir.read("moved").as_bytes(),
            [record(0), record(1), record(2)].concat()
        );
        // A size rotation that fails the same way.
        let mut f = EveFile::open(&dir.0.join("b.json"), 10, Duration::ZERO, t0()).unwrap();
        std::fs::remove_file(dir.0.join("b.json")).unwrap();
        assert!(f.write(&record(0), t0()).is_err());
        assert_eq!((f.write_errors(), f.rotations()), (1, 0));
        f.write(b"x\n", t0()).unwrap();
        assert_eq!(f.write_errors(), 1);
        assert_eq!(f.bytes_written(), record(0).len() as u64 + 2);
    }

    #[test]
    fn a_rotation_whose_fresh_file_cannot_be_opened() {
        let dir = Dir::new("fresh-fails");
        let path = dir.0.join("eve.json");
        let mut f = EveFile::open(&path, 0, Duration::from_secs(10), t0()).unwrap();
        f.write(&record(0), at(0)).unwrap();
        // What a failed opening after the rename leaves (the rename itself
        // cannot be made to succeed and the opening fail from here).
        let rotated = dir.0.join("eve.json.rotated");
        std::fs::rename(&path, &rotated).unwrap();
        std::fs::create_dir(&path).unwrap();
        f.detached = true;
        assert!(f.write(&record(1), at(1)).is_err());
        assert_eq!(f.write_errors(), 1);
        std::fs::remove_dir(&path).unwrap();
        f.write(&record(2), at(2)).unwrap();
        f.flush().unwrap();
        assert_eq!(
            std::fs::read(&rotated).unwrap(),
            [record(0), record(1)].concat()
        );
        assert_eq!(dir.read("eve.json").as_bytes(), record(2));
    }

    #[test]
    fn stdout_is_never_rotated() {
        let mut f = EveFile::open(Path::new("-"), 1, Duration::from_secs(1), t0()).unwrap();
        assert_eq!(f.path(), Path::new("-"));
        f.write(b"", at(0)).unwrap();
        f.write(b"", at(100)).unwrap();
        f.reopen().unwrap();
        assert_eq!((f.rotations(), f.write_errors()), (0, 0));
    }
}
