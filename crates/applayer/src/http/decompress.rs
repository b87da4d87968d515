//! Content-Encoding decoding of HTTP bodies (gzip and deflate), layered,
//! with libhtp's tolerance of broken streams.
//!
//! Each layer recognises what it is given (a gzip header, a zlib header, or
//! raw deflate) rather than trusting its label: libhtp's decompressor
//! accepts gzip and zlib framing for either label and retries a failing
//! stream in the other format. When a stream cannot be decoded, the layer
//! turns to passthrough: what it could not decode (everything, if it had
//! produced nothing yet) is passed on unchanged, as libhtp does after a
//! failed `inflate`. Layers are applied in the order the header lists
//! them, as libhtp 0.5 chains its decompressors.
//!
//! The gzip header is parsed here, byte by byte, because flate2's
//! `GzDecoder` wants a reader and fails on the malformed headers the
//! evasion tests use; the deflate data itself goes to flate2's
//! `Decompress`, which works on slices without buffering.

use flate2::{Decompress, FlushDecompress, Status};

/// What a body layer was labelled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
}

#[derive(Debug)]
enum GzHdr {
    /// Fixed 10-byte header; `n` bytes seen, FLG remembered.
    Fixed { n: u8, flg: u8 },
    /// FEXTRA length, `n` of its 2 bytes seen.
    XLen { n: u8, len: u16, flg: u8 },
    /// Skipping `left` FEXTRA bytes.
    Extra { left: u16, flg: u8 },
    /// Skipping a NUL-terminated name (FNAME).
    Name { flg: u8 },
    /// Skipping a NUL-terminated comment (FCOMMENT).
    Comment { flg: u8 },
    /// Skipping `left` header CRC bytes (FHCRC).
    Crc { left: u8 },
}

#[derive(Debug)]
enum LayerState {
    /// Nothing seen yet: the first bytes decide the format.
    Detect,
    Gzip(GzHdr),
    Inflate(Box<Decompress>),
    /// The stream ended; trailing bytes (the gzip trailer) are ignored.
    Done,
    Passthrough,
}

const REPLAY: usize = 64;

/// One decoding layer.
#[derive(Debug)]
struct Layer {
    state: LayerState,
    /// The first input bytes, kept until the layer produces output, so
    /// that a stream that turns out not to be compressed passes through
    /// whole.
    replay: Vec<u8>,
    produced: bool,
    /// Bytes given to the layer so far.
    seen: u64,
}

/// Where a layer's output goes; returns false to stop decoding.
type Sink<'a> = dyn FnMut(&[u8]) -> bool + 'a;

impl Layer {
    fn new() -> Layer {
        Layer {
            state: LayerState::Detect,
            replay: Vec::new(),
            produced: false,
            seen: 0,
        }
    }

    /// Decodes `input` into `sink`. Returns (failed during this call,
    /// keep going).
    fn feed(&mut self, mut input: &[u8], sink: &mut Sink<'_>) -> (bool, bool) {
        self.seen = self.seen.saturating_add(input.len() as u64);
        if !self.produced && self.replay.len() < REPLAY {
            let n = input.len().min(REPLAY - self.replay.len());
            self.replay.extend_from_slice(&input[..n]);
        }
        while let Some(&c) = input.first() {
            match &mut self.state {
                LayerState::Passthrough => return (false, sink(input)),
                LayerState::Done => return (false, true),
                LayerState::Detect => {
                    if c == 0x1f {
                        self.state = LayerState::Gzip(GzHdr::Fixed { n: 0, flg: 0 });
                        continue;
                    }
                    let zlib = match input.get(1) {
                        Some(&b1) => is_zlib_header(c, b1),
                        // One byte only: decide on the CMF byte alone.
                        None => c & 0x0f == 8 && c >> 4 <= 7,
                    };
                    self.state = LayerState::Inflate(Box::new(Decompress::new(zlib)));
                }
                LayerState::Gzip(h) => {
                    input = &input[1..];
                    let next = match *h {
                        GzHdr::Fixed { n, flg } => {
                            let ok = match n {
                                0 => c == 0x1f,
                                1 => c == 0x8b,
                                _ => true,
                            };
                            if !ok {
                                return (true, self.fail(input, sink));
                            }
                            let flg = if n == 3 { c } else { flg };
                            if n + 1 < 10 {
                                GzHdr::Fixed { n: n + 1, flg }
                            } else {
                                next_after(flg, 0)
                            }
                        }
                        GzHdr::XLen { n, len, flg } => {
                            let len = len | u16::from(c) << (8 * u16::from(n));
                            if n == 0 {
                                GzHdr::XLen { n: 1, len, flg }
                            } else if len == 0 {
                                next_after(flg, 1)
                            } else {
                                GzHdr::Extra { left: len, flg }
                            }
                        }
                        GzHdr::Extra { left, flg } => {
                            if left > 1 {
                                GzHdr::Extra {
                                    left: left - 1,
                                    flg,
                                }
                            } else {
                                next_after(flg, 1)
                            }
                        }
                        GzHdr::Name { flg } => {
                            if c == 0 {
                                next_after(flg, 2)
                            } else {
                                GzHdr::Name { flg }
                            }
                        }
                        GzHdr::Comment { flg } => {
                            if c == 0 {
                                next_after(flg, 3)
                            } else {
                                GzHdr::Comment { flg }
                            }
                        }
                        GzHdr::Crc { left } => GzHdr::Crc {
                            left: left.saturating_sub(1),
                        },
                    };
                    match next {
                        // `Crc { left: 0 }` marks the end of the header.
                        GzHdr::Crc { left: 0 } => {
                            self.state = LayerState::Inflate(Box::new(Decompress::new(false)));
                        }
                        h2 => *h = h2,
                    }
                }
                LayerState::Inflate(d) => {
                    let mut scratch = [0u8; 16 * 1024];
                    let in_before = d.total_in();
                    let out_before = d.total_out();
                    let res = d.decompress(input, &mut scratch, FlushDecompress::None);
                    let consumed = usize::try_from(d.total_in() - in_before).unwrap_or(input.len());
                    let wrote = usize::try_from(d.total_out() - out_before).unwrap_or(0);
                    let wrote = wrote.min(scratch.len());
                    match res {
                        Ok(status) => {
                            input = input.get(consumed..).unwrap_or_default();
                            if wrote > 0 {
                                self.produced = true;
                                self.replay = Vec::new();
                                if !sink(&scratch[..wrote]) {
                                    return (false, false);
                                }
                            }
                            if status == Status::StreamEnd {
                                self.state = LayerState::Done;
                            } else if consumed == 0 && wrote == 0 {
                                // No progress although input remains: a
                                // corrupt stream zlib will not reject.
                                return (true, self.fail(input, sink));
                            }
                        }
                        Err(_) => {
                            let rest = input.get(consumed..).unwrap_or_default();
                            return (true, self.fail(rest, sink));
                        }
                    }
                }
            }
        }
        (false, true)
    }

    /// Switches to passthrough: passes on what the layer swallowed
    /// without output (as far as the replay buffer kept it), then what is
    /// left of this input.
    fn fail(&mut self, rest: &[u8], sink: &mut Sink<'_>) -> bool {
        self.state = LayerState::Passthrough;
        if !self.produced {
            let replay = std::mem::take(&mut self.replay);
            let swallowed = self.seen.saturating_sub(rest.len() as u64);
            let n = usize::try_from(swallowed)
                .unwrap_or(usize::MAX)
                .min(replay.len());
            if n > 0 && !sink(&replay[..n]) {
                return false;
            }
        }
        sink(rest)
    }
}

fn next_after(flg: u8, stage: u8) -> GzHdr {
    // Stages: 0 after the fixed header, 1 after FEXTRA, 2 after FNAME,
    // 3 after FCOMMENT.
    if stage < 1 && flg & 0x04 != 0 {
        return GzHdr::XLen { n: 0, len: 0, flg };
    }
    if stage < 2 && flg & 0x08 != 0 {
        return GzHdr::Name { flg };
    }
    if stage < 3 && flg & 0x10 != 0 {
        return GzHdr::Comment { flg };
    }
    if flg & 0x02 != 0 {
        return GzHdr::Crc { left: 2 };
    }
    GzHdr::Crc { left: 0 }
}

fn is_zlib_header(b0: u8, b1: u8) -> bool {
    b0 & 0x0f == 8 && b0 >> 4 <= 7 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0
}

fn feed_chain(layers: &mut [Layer], input: &[u8], sink: &mut Sink<'_>) -> (bool, bool) {
    match layers.split_first_mut() {
        None => (false, sink(input)),
        Some((first, rest)) => {
            let mut failed_below = false;
            let (failed, go) = first.feed(input, &mut |chunk: &[u8]| {
                let (f, g) = feed_chain(rest, chunk, sink);
                failed_below |= f;
                g
            });
            (failed || failed_below, go)
        }
    }
}

/// The bomb limits of [`Decoder::feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub bomb: u64,
    pub ratio: u64,
    pub out: u64,
}

/// What one call of [`Decoder::feed`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fed {
    /// A layer could not decode its input and turned to passthrough.
    pub failed: bool,
    /// The bomb limits were crossed: decoding stopped for good.
    pub bomb: bool,
}

/// A body's decoding chain with its bomb accounting.
#[derive(Debug)]
pub(crate) struct Decoder {
    layers: Vec<Layer>,
    /// Encoded bytes given so far.
    pub bytes_in: u64,
    /// Decoded bytes produced so far (kept or not).
    pub bytes_out: u64,
    stopped: bool,
}

impl Decoder {
    /// A chain for the given codings, in header order.
    pub(crate) fn new(codings: &[Coding]) -> Decoder {
        Decoder {
            layers: codings.iter().map(|_| Layer::new()).collect(),
            bytes_in: 0,
            bytes_out: 0,
            stopped: false,
        }
    }

    /// Decodes `input`, handing decoded bytes to `out` (which keeps what it
    /// wants). Decoding stops for good when more than `limits.bomb` bytes
    /// came out at more than `limits.ratio` times the bytes that went in
    /// (libhtp's compression-bomb test), or when more than `limits.out`
    /// bytes came out (in place of Suricata's decompression time limit,
    /// which a pure parser cannot measure).
    pub(crate) fn feed(&mut self, input: &[u8], limits: Limits, out: &mut dyn FnMut(&[u8])) -> Fed {
        let mut fed = Fed::default();
        if self.stopped || input.is_empty() {
            return fed;
        }
        self.bytes_in = self.bytes_in.saturating_add(input.len() as u64);
        let bytes_in = self.bytes_in;
        let mut bytes_out = self.bytes_out;
        let mut bomb = false;
        let (failed, _) = feed_chain(&mut self.layers, input, &mut |chunk: &[u8]| {
            bytes_out = bytes_out.saturating_add(chunk.len() as u64);
            if (bytes_out > limits.bomb && bytes_out > bytes_in.saturating_mul(limits.ratio))
                || bytes_out > limits.out
            {
                bomb = true;
                return false;
            }
            out(chunk);
            true
        });
        self.bytes_out = bytes_out;
        fed.failed = failed;
        if bomb {
            self.stopped = true;
            fed.bomb = true;
        }
        fed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }
    fn raw(data: &[u8]) -> Vec<u8> {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }
    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(codings: &[Coding], input: &[u8], step: usize) -> (Vec<u8>, Fed) {
        let mut d = Decoder::new(codings);
        let mut out = Vec::new();
        let mut all = Fed::default();
        for chunk in input.chunks(step.max(1)) {
            let limits = Limits {
                bomb: 1 << 20,
                ratio: 2048,
                out: 8 << 20,
            };
            let f = d.feed(chunk, limits, &mut |b| out.extend_from_slice(b));
            all.failed |= f.failed;
            all.bomb |= f.bomb;
        }
        (out, all)
    }

    const TEXT: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

    #[test]
    fn formats_are_recognised_whatever_the_label() {
        for enc in [gz(TEXT), raw(TEXT), zlib(TEXT)] {
            for label in [Coding::Gzip, Coding::Deflate] {
                for step in [1, 3, 1000] {
                    let (out, fed) = decode(&[label], &enc, step);
                    assert_eq!(out, TEXT, "{label:?} step {step}");
                    assert!(!fed.failed);
                }
            }
        }
    }

    #[test]
    fn gzip_header_fields_are_skipped() {
        let body = gz(TEXT);
        // FEXTRA (5 bytes), FNAME, FCOMMENT, FHCRC.
        let mut odd = body[..10].to_vec();
        odd[3] = 0x04 | 0x08 | 0x10 | 0x02;
        odd.extend_from_slice(&[5, 0, b'A', b'p', 1, 0, 0]);
        odd.extend_from_slice(b"name\0comment\0");
        odd.extend_from_slice(&[0xaa, 0xbb]);
        odd.extend_from_slice(&body[10..]);
        for step in [1, 2, 7, 1000] {
            assert_eq!(decode(&[Coding::Gzip], &odd, step).0, TEXT);
        }
    }

    #[test]
    fn bad_crc_and_missing_trailer_still_give_the_data() {
        let mut body = gz(TEXT);
        let n = body.len();
        body[n - 5] ^= 0xff;
        assert_eq!(decode(&[Coding::Gzip], &body, 1000).0, TEXT);
        assert_eq!(decode(&[Coding::Gzip], &body[..n - 8], 1000).0, TEXT);
    }

    #[test]
    fn plain_data_passes_through() {
        for step in [1, 5, 1000] {
            let (out, fed) = decode(&[Coding::Deflate], TEXT, step);
            assert_eq!(out, TEXT, "step {step}");
            assert!(fed.failed);
        }
        let long: Vec<u8> = TEXT.iter().cycle().take(500).copied().collect();
        let (out, _) = decode(&[Coding::Gzip], &long, 1000);
        assert_eq!(out, long);
    }

    #[test]
    fn layers_in_header_order_with_passthrough() {
        // "gzip, deflate" over a body that is gzip only.
        assert_eq!(
            decode(&[Coding::Gzip, Coding::Deflate], &gz(TEXT), 1000).0,
            TEXT
        );
        // Truly layered: deflate applied over gzip.
        let double = raw(&gz(TEXT));
        assert_eq!(decode(&[Coding::Gzip, Coding::Deflate], &double, 3).0, TEXT);
        assert_eq!(
            decode(&[Coding::Deflate, Coding::Gzip], &double, 1000).0,
            TEXT
        );
    }

    #[test]
    fn bomb_stops_decoding() {
        // Two layers: far beyond the 2048:1 ratio.
        let zeros = vec![0u8; 4 << 20];
        let body = gz(&gz(&zeros));
        let (out, fed) = decode(&[Coding::Gzip, Coding::Gzip], &body, 4096);
        assert!(fed.bomb);
        assert!(out.len() <= (1 << 20) + 16 * 1024);
        // One layer (about 1000:1) stops at the output cap.
        let zeros = vec![0u8; 9 << 20];
        let (out, fed) = decode(&[Coding::Gzip], &gz(&zeros), 4096);
        assert!(fed.bomb);
        assert!(out.len() <= (8 << 20) + 16 * 1024);
        // A sane body is not a bomb.
        let (out, fed) = decode(&[Coding::Gzip], &gz(&zeros[..1 << 20]), 4096);
        assert!(!fed.bomb);
        assert_eq!(out.len(), 1 << 20);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 7u32;
        for len in 0..300 {
            let g: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let mut with_magic = vec![0x1f, 0x8b, 8, 0xff];
            with_magic.extend_from_slice(&g);
            let _ = decode(&[Coding::Gzip, Coding::Deflate], &g, 3);
            let _ = decode(&[Coding::Gzip], &with_magic, 1);
        }
    }
}
