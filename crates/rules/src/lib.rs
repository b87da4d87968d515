//! mirador's rule-language layer: Suricata's rule syntax parsed into a
//! plain representation, the variables it refers to, and the side files
//! Suricata reads with it (`classification.config`, `reference.config`,
//! `threshold.config`). Pure: text in, values or errors naming the file,
//! line and field out. Compiling a rule into something that matches is
//! `mirador-detect`'s job.
//!
//! # What it does
//!
//! - [`Rule::parse`] and [`entries`] / [`parse_rules`] read rules exactly as
//!   Suricata 7/8 splits them: header fields, options ending at an
//!   unescaped `;`, backslash-continued lines, comments, and rules
//!   disabled with `#` ([`Entry::Disabled`]). A malformed rule is an error
//!   for that rule only ([`RuleError`], `FILE:LINE:COL: FIELD: MESSAGE`).
//! - Every option is kept in order ([`RuleOption`]); the meta options
//!   (`sid`, `gid`, `rev`, `msg`, `classtype`, `priority`, `metadata`,
//!   `reference`, `target`) are also decoded onto [`Rule`]. Unknown
//!   keywords are errors, as in Suricata; [`keywords`] catalogues every
//!   Suricata 7/8 keyword and when mirador means to support it.
//! - Addresses and ports stay unresolved expressions ([`AddrExpr`],
//!   [`PortExpr`]) until resolved against a [`Vars`] set, Suricata's
//!   defaults or a tenant's overrides ([`Vars::with_overrides`]), into an
//!   [`IpSet`] or [`PortSet`] with Suricata's negation semantics.
//! - [`Classifications`], [`ReferenceSystems`] and
//!   [`parse_threshold_config`] read the side files, with Suricata's
//!   default `classification.config` and `reference.config` bundled.
//!
//! # Example
//!
//! ```
//! use mirador_rules::{parse_rules, Classifications, Vars};
//!
//! let text = r#"alert http $HOME_NET any -> $EXTERNAL_NET any (msg:"ET test"; flow:established,to_server; http.uri; content:"/evil"; classtype:trojan-activity; sid:2000001; rev:3;)"#;
//! let rule = parse_rules("local.rules", text).pop().unwrap().unwrap();
//! assert_eq!(rule.sid, 2000001);
//! assert_eq!(rule.option("content").unwrap().value.as_deref(), Some("/evil"));
//! assert_eq!(rule.effective_priority(&Classifications::suricata_default()), 1);
//!
//! let header = rule.resolve(&Vars::suricata_defaults()).unwrap();
//! assert!(header.src.contains("10.1.2.3".parse().unwrap()));
//! assert!(header.dst.contains("8.8.8.8".parse().unwrap()));
//! assert!(header.dst_ports.is_any());
//! ```
//!
//! # Limits
//!
//! Rules are at most [`MAX_RULE_LEN`] bytes (Suricata's buffer); brackets
//! nest at most [`MAX_NESTING`] deep; variables nest at most
//! [`MAX_VAR_DEPTH`] deep and one resolution visits at most
//! [`MAX_EXPANDED_ITEMS`] items. Nothing here panics or recurses without
//! bound on any input.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod addr;
pub mod classification;
mod error;
pub mod expr;
pub mod file;
pub mod keywords;
pub mod port;
mod ranges;
pub mod reference_config;
pub mod rule;
mod sidefile;
pub mod threshold;
pub mod vars;

pub use addr::{AddrExpr, IpRange, IpSet};
pub use classification::{
    Classification, Classifications, DEFAULT_CLASSIFICATION_CONFIG, parse_classification_config,
};
pub use error::{ErrorKind, ExprError, ExprKind, RuleError, SideFileError};
pub use expr::{Expr, MAX_EXPR_LEN, MAX_NESTING};
pub use file::{Entries, Entry, entries, parse_rules};
pub use keywords::{Keyword, KeywordClass, ValuePolicy};
pub use port::{PortExpr, PortRange, PortSet};
pub use reference_config::{
    DEFAULT_REFERENCE_CONFIG, ReferenceSystem, ReferenceSystems, parse_reference_config,
};
pub use rule::{
    Action, DEFAULT_PRIORITY, Direction, MAX_RULE_LEN, Protocol, Reference, ResolvedHeader, Rule,
    RuleOption, Span, Target,
};
pub use threshold::{
    RateFilter, Suppress, SuppressTrack, ThresholdEntry, ThresholdLine, ThresholdSpec,
    ThresholdType, Track, parse_threshold_config,
};
pub use vars::{MAX_EXPANDED_ITEMS, MAX_VAR_DEPTH, Vars};
