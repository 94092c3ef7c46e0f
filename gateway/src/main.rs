#![forbid(unsafe_code)]
//! `axis-gateway`: the agency's local connector to the axis (see the crate docs).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  # Run the gateway of agency G22 (its axis.toml is named in the file):
  axis-gateway --config g22/axis-gateway.toml

  # What a DMS needs to connect: the URL, the systemids, how the JSON API authenticates:
  axis-gateway --config g22/axis-gateway.toml trust-info

The DMS then points VNPT's VXP SDK at http://127.0.0.1:8580 (systemid and secret as
configured); SIGTERM or Ctrl-C stops the gateway after the work in flight.";

/// The agency's local connector to the axis: a VXP-compatible API for DMSs in service, a
/// durable outbox and inbox, and a witness of the axis's log.
#[derive(Parser)]
#[command(name = "axis-gateway", version, after_help = EXAMPLES)]
struct Cli {
    /// The gateway's configuration (TOML; it names the agency's axis.toml).
    #[arg(long, env = "AXIS_GATEWAY_CONFIG", default_value = "axis-gateway.toml")]
    config: PathBuf,
    /// Log as JSON lines.
    #[arg(long, env = "AXIS_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default).
    #[command(after_help = "Example:\n  axis-gateway --config g22/axis-gateway.toml run")]
    Run,
    /// Print what a DMS needs to trust the gateway and be trusted by it (no secret is printed).
    #[command(
        name = "trust-info",
        after_help = "Example:\n  axis-gateway --config g22/axis-gateway.toml trust-info"
    )]
    TrustInfo,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("AXIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if cli.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let config = axis_gateway::Config::from_file(&cli.config)
        .with_context(|| format!("reading {}", cli.config.display()))?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let running = axis_gateway::start(config).await?;
            running.until_signal().await;
            Ok(())
        }
        Command::TrustInfo => {
            print!("{}", axis_gateway::trust_info(&config)?);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn every_command_has_an_example() {
        let cli = super::Cli::command();
        cli.clone().debug_assert();
        let missing = axis_testkit::cli::commands_without_example(&cli);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }
}
