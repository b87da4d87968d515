//! The Internet checksum (RFC 1071), as plain data: computed over a whole
//! captured segment and reported, never used to reject a packet.

use super::ip::Pseudo;

/// The one's-complement sum of `data` as big-endian 16-bit words (an odd
/// last byte padded with zero), as a value whose [`fold`] is that sum (and
/// which is zero only when every byte is).
///
/// Sums native little-endian 32-bit words into a `u64` and swaps the bytes
/// of the folded result: the one's-complement sum is byte-order independent
/// (RFC 1071 §2(B)), and 2^16 ≡ 1 (mod 0xffff) makes 32-bit words fold to
/// the 16-bit sum. Little-endian loads need no byte swap per word, so the
/// loop vectorises. It cannot overflow below 2^32 words (16 GiB).
pub(super) fn sum(data: &[u8]) -> u64 {
    let (words, tail) = data.as_chunks::<4>();
    let mut acc: u64 = 0;
    for w in words {
        acc += u64::from(u32::from_le_bytes(*w));
    }
    // The 0-3 last bytes, zero-padded (no branch on the length).
    let t = |i: usize| tail.get(i).copied().unwrap_or(0);
    acc += u64::from(u32::from_le_bytes([t(0), t(1), t(2), 0]));
    u64::from(fold(acc).swap_bytes())
}

/// The big-endian 32-bit words of a fixed-size address, summed unfolded.
#[inline]
fn sum_addr<const N: usize>(a: &[u8; N]) -> u64 {
    let (words, _) = a.as_chunks::<4>();
    words
        .iter()
        .map(|w| u64::from(u32::from_be_bytes(*w)))
        .sum()
}

/// Folds a sum to 16 bits with end-around carry.
#[inline]
pub(super) fn fold(acc: u64) -> u16 {
    // A fixed number of folds, no loop: 64 bits to at most 33, then to at
    // most 18, 17 and 16. Each step keeps the value mod 0xffff and keeps it
    // non-zero, and is a no-op once it fits 16 bits.
    let mut acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// Whether a region that includes its own checksum field sums to all ones.
#[inline]
pub(super) fn verifies(acc: u64) -> bool {
    fold(acc) == 0xffff
}

/// The pseudo-header sum for an upper-layer protocol `proto` of `len` bytes.
pub(super) fn pseudo(p: &Pseudo<'_>, proto: u8, len: usize) -> u64 {
    let len = len as u64;
    match p {
        Pseudo::V4 { src, dst, .. } => sum_addr(src) + sum_addr(dst) + u64::from(proto) + len,
        Pseudo::V6 { src, dst } => sum_addr(src) + sum_addr(dst) + u64::from(proto) + len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d)), 0xddf2);
        // Odd lengths pad with zero.
        assert_eq!(
            fold(sum(&d[..7])),
            fold(sum(&[0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0]))
        );
    }

    #[test]
    fn matches_a_16_bit_reference() {
        let data: Vec<u8> = (0..=1001u32).map(|i| (i * 7919 % 251) as u8).collect();
        for n in 0..data.len() {
            let d = &data[..n];
            let mut r: u32 = 0;
            for c in d.chunks(2) {
                r += u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
            }
            while r >> 16 != 0 {
                r = (r & 0xffff) + (r >> 16);
            }
            assert_eq!(u32::from(fold(sum(d))), r, "len {n}");
        }
    }
}
