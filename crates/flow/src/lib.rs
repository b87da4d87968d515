//! mirador's pure flow stages: what turns decoded packets into flows and
//! in-order byte streams. No I/O, no clocks (time comes with each call),
//! every table capped and counted.
//!
//! * [`dedup`]: two-ENI deduplication of mirror copies.
//! * [`defrag`]: IPv4 and IPv6 reassembly with target-based overlap
//!   policies, run before sharding.
//! * [`key`]: the flow key (tenant, VLAN ids, normalized 5-tuple) and the
//!   symmetric shard hash.
//! * [`table`]: a shard's flow table with per-state timeouts, caps and an
//!   emergency mode.
//! * [`tcp`]: TCP sessions (handshake, midstream pick-up, one-sided
//!   sessions) driving two reassembly streams per flow.
//! * [`reassembly`]: per-direction TCP stream reassembly with target-based
//!   overlap policies, gaps as events.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dedup;
pub mod defrag;
pub mod key;
pub mod reassembly;
pub mod table;
pub mod tcp;
