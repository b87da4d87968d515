//! `mirador`: an IDS sensor for AWS VPC Traffic Mirroring.
//!
//! This binary wires the command line to the library crates: `replay`
//! (pcap → EVE JSON), `run` (the live sensor), `check-config`, `check-rules`, `aws import`,
//! `pcap encap` and `send`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod commands;
mod logging;

/// An IDS sensor for AWS VPC Traffic Mirroring: VXLAN, GENEVE (Gateway Load
/// Balancer) and ERSPAN decapsulation, mirror sessions and filters, EVE JSON.
#[derive(Debug, Parser)]
#[command(name = "mirador", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay pcap/pcapng files through the sensor and write EVE JSON.
    Replay(ReplayArgs),
    /// Run as a Traffic Mirror target: receive VXLAN (UDP 4789) and GENEVE
    /// (UDP 6081), answer health checks, serve /metrics; SIGHUP reloads,
    /// SIGTERM drains and stops.
    Run(RunArgs),
    /// Load rule files as `replay` would and report what loads and why
    /// the rest does not (like `suricata -T`).
    CheckRules {
        /// Print `{"loaded": N, "skipped": N, "reasons": {reason: count}}`.
        #[arg(long)]
        json: bool,
        /// Also list every rule not loaded, with its file, line and reason
        /// (on stderr).
        #[arg(long, short)]
        verbose: bool,
        /// mirador YAML config for variables and side files (default: the
        /// embedded default config).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Rule files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Validate a configuration file and print what it resolves to.
    CheckConfig {
        /// The YAML configuration file.
        file: PathBuf,
        /// Override a key by its dotted path (Suricata value syntax).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// AWS helpers.
    #[command(subcommand)]
    Aws(AwsCommand),
    /// Capture-file tools.
    #[command(subcommand)]
    Pcap(PcapCommand),
    /// Send a capture to a sensor as mirrored traffic (VXLAN or GENEVE over
    /// UDP): a load and test tool.
    Send(SendArgs),
}

/// Options of `mirador replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// mirador YAML config (default: the embedded default config).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Rule files; replaces the config's rule files (repeatable).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Run without signatures (anomaly detection stays on).
    #[arg(long, conflicts_with = "rules")]
    pub no_rules: bool,
    /// Where to write EVE JSON; `-` is standard output (default: the
    /// config's `outputs.eve.filename`, `eve.json` in the current folder).
    #[arg(long, value_name = "PATH")]
    pub eve: Option<PathBuf>,
    /// Worker threads (default: the CPUs available; config key `workers`).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Override a config key by its dotted path, with Suricata's value
    /// syntax (yes/no, sizes like 1mb). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Capture files (pcap or pcapng), replayed in order.
    #[arg(required = true, value_name = "PCAP")]
    pub pcaps: Vec<PathBuf>,
}

/// Options of `mirador run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// mirador YAML config (default: the embedded default config). SIGHUP
    /// reads it again.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key by its dotted path, with Suricata's value
    /// syntax (yes/no, sizes like 1mb). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Rule files; replaces the config's rule files (repeatable; read again
    /// on reload).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Run without signatures.
    #[arg(long, conflicts_with = "rules")]
    pub no_rules: bool,
    /// Where to write EVE JSON; `-` is standard output (default: the
    /// config's `outputs.eve.filename`).
    #[arg(long, value_name = "PATH")]
    pub eve: Option<PathBuf>,
    /// Worker threads (default: the CPUs available; config key `workers`).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum AwsCommand {
    /// Turn `aws ec2 describe-traffic-mirror-*` JSON into mirador's session config (YAML on stdout).
    Import {
        /// Output of `aws ec2 describe-traffic-mirror-sessions`.
        #[arg(long, value_name = "S.json")]
        sessions: PathBuf,
        /// Output of `aws ec2 describe-traffic-mirror-filters`.
        #[arg(long, value_name = "F.json")]
        filters: PathBuf,
        /// Output of `aws ec2 describe-traffic-mirror-targets`.
        #[arg(long, value_name = "T.json")]
        targets: Option<PathBuf>,
        /// Output of `aws ec2 describe-network-interfaces` (source ENIs' addresses).
        #[arg(long, value_name = "I.json")]
        interfaces: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum PcapCommand {
    /// Wrap a capture as AWS Traffic Mirroring would deliver it (VXLAN, or GENEVE+VXLAN with --gwlb).
    Encap(EncapArgs),
}

/// Options of `mirador pcap encap`.
#[derive(Debug, Args)]
pub struct EncapArgs {
    /// VXLAN network identifier (the mirror session's VNI).
    #[arg(long, value_name = "N")]
    pub vni: u32,
    /// Outer source address: the mirror source ENI's primary IP.
    #[arg(long, value_name = "A", default_value = "10.0.1.15")]
    pub src_ip: std::net::IpAddr,
    /// Outer destination address: the target (sensor, NLB or GWLB endpoint).
    #[arg(long, value_name = "B", default_value = "10.0.0.100")]
    pub dst_ip: std::net::IpAddr,
    /// Mirror only this many bytes of each frame (AWS `PacketLength`).
    #[arg(long, value_name = "L")]
    pub packet_length: Option<u32>,
    /// Deliver as a Gateway Load Balancer endpoint does (GENEVE on 6081 around the VXLAN).
    #[arg(long)]
    pub gwlb: bool,
    /// Give both directions of a flow the same outer source port (AWS promises no such symmetry; the default differs per direction).
    #[arg(long)]
    pub symmetric: bool,
    /// Input capture (pcap or pcapng, any supported linktype).
    pub input: PathBuf,
    /// Output pcap (Ethernet, nanosecond timestamps).
    pub output: PathBuf,
}

/// Options of `mirador send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Where to send: the sensor's listener, HOST:PORT (`[ADDR]:PORT` for
    /// IPv6), usually port 4789 (VXLAN) or 6081 (GENEVE, for --gwlb).
    #[arg(long, value_name = "HOST:PORT")]
    pub to: String,
    /// Rate limit in datagrams per second (default: as fast as possible).
    #[arg(long, value_name = "PPS", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Rate limit in Mbit/s of UDP payload (the IP and UDP headers not
    /// counted).
    #[arg(long, value_name = "N", value_parser = positive_rate, conflicts_with = "rate")]
    pub mbps: Option<f64>,
    /// Send the capture this many times.
    #[arg(long = "loop", value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub loops: u64,
    /// VXLAN network identifier for wrapped frames [default: 1].
    #[arg(long, value_name = "N")]
    pub vni: Option<u32>,
    /// Wrap as a Gateway Load Balancer endpoint delivers (GENEVE around the
    /// VXLAN; send it to the sensor's GENEVE port).
    #[arg(long)]
    pub gwlb: bool,
    /// Mirror only this many bytes of each frame (AWS `PacketLength`).
    #[arg(long, value_name = "L")]
    pub packet_length: Option<u32>,
    /// The capture (pcap or pcapng, any supported linktype). Mirror traffic
    /// (UDP to 4789 or 6081) is sent as it is; other frames are wrapped as
    /// `pcap encap` wraps them.
    #[arg(value_name = "PCAP")]
    pub pcap: PathBuf,
}

/// A rate: a positive, finite number.
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s}: expected a positive number")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => commands::replay::run(&args),
        Command::Run(args) => commands::run::run(&args),
        Command::CheckConfig { file, set } => commands::check_config(&file, &set),
        Command::CheckRules {
            json,
            verbose,
            config,
            files,
        } => commands::rules::check_rules(&files, json, config.as_deref(), verbose),
        Command::Aws(AwsCommand::Import {
            sessions,
            filters,
            targets,
            interfaces,
        }) => commands::aws_import(
            &sessions,
            &filters,
            targets.as_deref(),
            interfaces.as_deref(),
        ),
        Command::Pcap(PcapCommand::Encap(args)) => commands::encap::run(&args),
        Command::Send(args) => commands::send::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mirador: {e:#}");
            ExitCode::FAILURE
        }
    }
}
