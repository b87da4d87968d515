//! The subcommands.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mirador_config::Config;

pub mod detectors;
pub mod encap;
pub mod replay;
pub mod rules;
pub mod run;
pub mod send;

/// Loads the configuration: `file`, or the embedded default, with `--set`
/// overrides applied.
pub fn load_config(file: Option<&Path>, set: &[String]) -> Result<Config> {
    let overrides = set
        .iter()
        .map(|s| mirador_config::parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    let config = match file {
        Some(path) => Config::load_file(path, &overrides)?,
        None => Config::load_embedded(&overrides)?,
    };
    Ok(config)
}

/// `mirador check-config FILE`.
pub fn check_config(file: &Path, set: &[String]) -> Result<ExitCode> {
    let config = load_config(Some(file), set)?;
    println!("{}: OK", file.display());
    print!("{}", config.describe());
    Ok(ExitCode::SUCCESS)
}

/// `mirador aws import`.
pub fn aws_import(
    sessions: &Path,
    filters: &Path,
    targets: Option<&Path>,
    interfaces: Option<&Path>,
) -> Result<ExitCode> {
    let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("{}", p.display()));
    let sessions_json = read(sessions)?;
    let filters_json = read(filters)?;
    let targets_json = targets.map(read).transpose()?;
    let interfaces_json = interfaces.map(read).transpose()?;
    let yaml = mirador_config::aws::import(
        &sessions_json,
        &filters_json,
        targets_json.as_deref(),
        interfaces_json.as_deref(),
    )?;
    print!("{yaml}");
    Ok(ExitCode::SUCCESS)
}
