//! Building mirrored packets: the inverse of decoding, as AWS builds them.
// PLACEHOLDER: being written.
