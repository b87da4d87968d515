//! mirador's signature engine: what turns parsed rules into matchers and
//! runs them on packets and reassembled streams. Pure: no I/O, no clocks.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod buffer;
pub mod engine;
pub mod flowvars;
pub mod header;
pub mod iponly;
pub mod payload;
pub mod pcre;
pub mod pcre_step;
pub mod prefilter;
pub mod ruleset;
pub mod signature;
pub mod threshold;
