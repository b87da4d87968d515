//! mirador's signature engine: what turns parsed rules into matchers and
//! runs them on packets and reassembled streams. Pure: no I/O, no clocks.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod flowvars;
pub mod header;
pub mod prefilter;
pub mod threshold;
