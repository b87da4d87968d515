//! mirador's pure pipeline stages.
//!
//! This crate holds the stages that run between the capture (a pcap file, a
//! UDP socket) and the outputs, with no I/O of their own: time comes with
//! each packet and EVE records are appended to a caller's buffer. Replay and
//! live capture run the same code.
//!
//! * [`ingest`]: the reader stage. Decodes a frame ([`mirador_wire`]),
//!   applies the allow-lists, attributes it to a mirror session
//!   ([`sessions`]), applies the session's Traffic Mirror Filter, and
//!   accounts for it: every packet ends `inspected`, `invalid`, `filtered`
//!   or `dropped` ([`stats`]).
//! * [`eve`]: EVE JSON records in Suricata's layout plus mirador's `mirror`
//!   object.
//! * [`vpcflow`]: VPC Flow Logs records and their per-direction aggregation
//!   (pure), and [`vpcflow::VpcFlowWriter`], the crate's one piece of file
//!   I/O, which writes them in AWS's S3 layout.
//!
//! ```
//! use mirador_engine::Ingest;
//! use mirador_wire::{Timestamp, linktype};
//!
//! let config = mirador_config::Config::embedded_default();
//! let mut ingest = Ingest::from_config(&config);
//! let mut eve = Vec::new();
//! // A frame too short for an Ethernet header: invalid, with an anomaly record.
//! ingest.process(Timestamp::from_nanos(0), linktype::ETHERNET, &[0u8; 6], 1, &mut eve);
//! assert!(ingest.accounting().balances());
//! assert_eq!(ingest.accounting().invalid_total(), 1);
//! assert!(String::from_utf8(eve).unwrap().contains("decoder.ethernet.pkt_too_small"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod eve;
pub mod ingest;
pub mod sessions;
pub mod stats;
pub mod vpcflow;

pub use ingest::{Ingest, IngestOptions, SessionCounters, Verdict};
pub use sessions::{SessionSpec, SessionTable};
pub use stats::{Accounting, DecoderCounters, DropReason, FilterReason, InvalidCause};

use mirador_config::{ChecksumValidation, Config, UnknownSession};
use mirador_wire::{DecodeOptions, PortSet, Timestamp};

use crate::eve::{Obj, SessionLabel};

impl Ingest {
    /// The reader stage for a validated configuration.
    pub fn from_config(config: &Config) -> Ingest {
        Ingest::new(ingest_options(config), session_table(config))
    }
}

/// Decoder and reader-stage settings from the configuration.
pub fn ingest_options(config: &Config) -> IngestOptions {
    let ports = |t: &mirador_config::TunnelDecoder| {
        let ports = if t.enabled { &t.ports[..] } else { &[][..] };
        // The config accepts at most MAX_TUNNEL_PORTS, which PortSet holds.
        const _: () = assert!(mirador_config::MAX_TUNNEL_PORTS <= PortSet::CAPACITY);
        PortSet::new(ports).expect("validated port count")
    };
    IngestOptions {
        decode: DecodeOptions {
            vxlan_ports: ports(&config.decoder.vxlan),
            geneve_ports: ports(&config.decoder.geneve),
            max_layers: config.decoder.max_layers,
            verify_checksums: true,
        },
        checksum_validation: config.checksum_validation == ChecksumValidation::All,
        source_allow: config.mirror.source_allow.clone(),
        dedup: mirador_flow::dedup::DedupConfig {
            enabled: config.mirror.dedup.enabled,
            window_ns: i64::try_from(config.mirror.dedup.window_ms.saturating_mul(1_000_000))
                .unwrap_or(i64::MAX),
            max_entries: config.mirror.dedup.max_entries,
        },
        vni_allow: config
            .mirror
            .vni_allow
            .iter()
            .map(|r| (r.start, r.end))
            .collect(),
    }
}

/// The session table for the configuration's declared sessions.
pub fn session_table(config: &Config) -> SessionTable {
    let specs = config
        .mirror
        .sessions
        .iter()
        .map(|s| SessionSpec {
            key: s.key(),
            source_ips: s.source_ips.clone(),
            label: SessionLabel {
                tenant: s.tenant.clone(),
                session_id: s.id.clone(),
                session_name: s.name.clone(),
                source_eni: s.source_eni.clone(),
            },
            display: s.label(),
            filter: s
                .filter
                .as_ref()
                .and_then(|f| config.filters.get(f).cloned()),
            declared: Some(s.clone()),
        })
        .collect();
    SessionTable::new(
        specs,
        config.mirror.unknown_session == UnknownSession::Inspect,
        config.mirror.max_anonymous_sessions,
    )
}

/// Writes a final EVE `stats` record for `ingest`: Suricata-style
/// `decoder` counters, `stats.accounting` and per-session `stats.mirror`.
pub fn write_stats_record(out: &mut Vec<u8>, ts: Timestamp, uptime_secs: u64, ingest: &Ingest) {
    write_stats_record_with(out, ts, uptime_secs, ingest, |_| {});
}

/// [`write_stats_record`] with more counters, written by `extra` into the
/// `stats` object after the reader stage's.
pub fn write_stats_record_with(
    out: &mut Vec<u8>,
    ts: Timestamp,
    uptime_secs: u64,
    ingest: &Ingest,
    extra: impl FnOnce(&mut Obj<'_>),
) {
    let acc = ingest.accounting();
    let mut o = Obj::new(out);
    o.ts("timestamp", ts).str("event_type", "stats");
    o.obj("stats", |s| {
        s.u64("uptime", uptime_secs);
        s.obj("decoder", |d| {
            ingest.decoder().write(d, acc.invalid_total())
        });
        s.obj("accounting", |a| acc.write(a));
        s.obj("mirror", |m| {
            m.u64("anonymous_overflow", ingest.sessions().anonymous_overflow);
            let (d, fuller) = ingest.dedup();
            m.obj("dedup", |o| {
                o.u64("checked", d.checked)
                    .u64("duplicates", d.duplicates)
                    .u64("duplicates_fuller_than_kept", fuller)
                    .u64("same_source_repeats", d.same_source_repeats)
                    .u64("evicted", d.evicted)
                    .u64("entries", d.entries);
            });
            m.obj("sessions", |ss| {
                for sess in ingest.sessions().iter() {
                    write_session(ss, sess);
                }
            });
        });
        extra(s);
    });
    o.close();
    out.push(b'\n');
}

fn write_session(o: &mut Obj<'_>, sess: &sessions::Session) {
    let c = &sess.counters;
    let spec = &sess.spec;
    o.obj(&spec.display, |s| {
        match spec.key {
            mirador_config::SessionKey::Vni(v) => {
                s.u64("vni", u64::from(v));
            }
            mirador_config::SessionKey::Erspan(e) => {
                s.u64("erspan_session_id", u64::from(e));
            }
            mirador_config::SessionKey::None => {}
        }
        s.str("tenant", &spec.label.tenant)
            .bool("anonymous", sess.anonymous);
        if let Some(id) = &spec.label.session_id {
            s.str("session_id", id);
        }
        s.u64("received", c.received)
            .u64("bytes", c.bytes)
            .u64("inspected", c.inspected)
            .u64("truncated", c.truncated)
            .u64("invalid", c.invalid)
            .u64("filtered", c.filtered())
            .u64("no_direction", c.no_direction)
            .u64("duplicates", c.duplicates);
        if spec.filter.is_some() {
            s.obj("filter", |f| {
                let mut rules = |k: &str, list: &[(mirador_config::Direction, u16, u64)]| {
                    f.obj(k, |r| {
                        for (dir, rule, n) in list {
                            r.u64(&format!("{dir}:{rule}"), *n);
                        }
                    });
                };
                rules("accepted", &c.accepted_by_rule);
                rules("rejected", &c.rejected_by_rule);
                f.obj("no_match", |n| {
                    n.u64("ingress", c.no_match[0])
                        .u64("egress", c.no_match[1])
                        .u64("non_ip", c.non_ip_no_match);
                });
            });
        }
    });
}
