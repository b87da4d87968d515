//! mirador's rule-language layer: Suricata's rule syntax parsed into a
//! plain representation, the variables it refers to, and the side files
//! Suricata reads with it (`classification.config`, `reference.config`,
//! `threshold.config`). Pure: text in, values or errors naming the file,
//! line and field out. Compiling a rule into something that matches is
//! `mirador-detect`'s job.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
