//! The process's own log (`logging`): `tracing` events to stderr, as text
//! lines or one JSON object per line (`timestamp`, `level`, `target`,
//! `fields`), at `logging.level` unless the `RUST_LOG` environment variable
//! gives the filter (`RUST_LOG` syntax: `warn,mirador_runtime=debug`).

// Called by `mirador run` only.

use std::io::IsTerminal;

use anyhow::{Context, anyhow};
use mirador_config::{LogFormat, LoggingConfig};
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber (and routes `log` records to it). Call
/// once, early; an error when `RUST_LOG` or the level does not parse, or a
/// subscriber is installed already.
pub fn init(cfg: &LoggingConfig) -> anyhow::Result<()> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let ansi = std::io::stderr().is_terminal();
    subscriber(cfg, rust_log.as_deref(), std::io::stderr, ansi)?
        .try_init()
        .map_err(|e| anyhow!("installing the logger: {e}"))
}

/// The subscriber `init` installs, writing to `writer`.
fn subscriber<W>(
    cfg: &LoggingConfig,
    rust_log: Option<&str>,
    writer: W,
    ansi: bool,
) -> anyhow::Result<Box<dyn Subscriber + Send + Sync>>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(&cfg.level, rust_log)?)
        .with_writer(writer);
    Ok(match cfg.format {
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    })
}

/// `RUST_LOG` when set and not blank, else `level` for every target.
fn filter(level: &str, rust_log: Option<&str>) -> anyhow::Result<EnvFilter> {
    if let Some(directives) = rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        return EnvFilter::builder()
            .parse(directives)
            .with_context(|| format!("RUST_LOG={directives:?}"));
    }
    // The names the config accepts (`LevelFilter`'s parser takes more:
    // numbers, the empty string).
    let level = match level.trim().to_ascii_lowercase().as_str() {
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        _ => return Err(anyhow!("logging.level: invalid value '{level}'")),
    };
    Ok(EnvFilter::default().add_directive(level.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[test]
    fn each_level_parses() {
        for (name, want) in [
            ("error", LevelFilter::ERROR),
            ("warn", LevelFilter::WARN),
            ("info", LevelFilter::INFO),
            ("debug", LevelFilter::DEBUG),
            ("trace", LevelFilter::TRACE),
            (" Debug ", LevelFilter::DEBUG),
        ] {
            let f = filter(name, None).unwrap();
            assert_eq!(f.max_level_hint(), Some(want), "{name}");
            // A blank RUST_LOG is no RUST_LOG.
            let f = filter(name, Some("  ")).unwrap();
            assert_eq!(f.max_level_hint(), Some(want), "{name}");
        }
        assert!(filter("loud", None).is_err());
        assert!(filter("", None).is_err());
        assert!(filter("3", None).is_err());
    }

    #[test]
    fn rust_log_overrides_the_level() {
        let f = filter("error", Some("trace")).unwrap();
        assert_eq!(f.max_level_hint(), Some(LevelFilter::TRACE));
        let f = filter("trace", Some("warn,mirador_runtime=debug")).unwrap();
        assert_eq!(f.max_level_hint(), Some(LevelFilter::DEBUG));
        let e = filter("info", Some("mirador=loud")).unwrap_err();
        assert!(format!("{e:#}").contains("RUST_LOG"), "{e:#}");
    }

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Logs one event at each of info and debug through a subscriber for
    /// `format` at `info` (installed for this thread only).
    fn log_with(format: LogFormat) -> String {
        let buf = Buf::default();
        let cfg = LoggingConfig {
            format,
            level: "info".into(),
        };
        let w = buf.clone();
        let sub = subscriber(&cfg, None, move || w.clone(), false).unwrap();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(listener = "vxlan 0.0.0.0:4789", sockets = 2, "listening");
            tracing::debug!("not shown");
        });
        buf.text()
    }

    #[test]
    fn text_lines() {
        let out = log_with(LogFormat::Text);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains(" INFO "), "{out}");
        assert!(out.contains("listening"), "{out}");
        assert!(out.contains("sockets=2"), "{out}");
        assert!(
            !out.contains('\x1b'),
            "no colours when asked for none: {out}"
        );
    }

    #[test]
    fn json_lines() {
        let out = log_with(LogFormat::Json);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], module_path!());
        assert_eq!(v["fields"]["message"], "listening");
        assert_eq!(v["fields"]["listener"], "vxlan 0.0.0.0:4789");
        assert_eq!(v["fields"]["sockets"], 2);
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.len() >= 20 && ts.ends_with('Z'), "{ts}");
    }
}
