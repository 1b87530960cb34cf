//! `sightline-decide`: the ad-decision service binary.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use sightline_decide::config::{Config, ConfigError};

/// Sightline ad decisions: real-time interest profiles from Kafka, ranked creatives over HTTP.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// TOML configuration file (see decide/decide.example.toml).
    #[arg(long, env = "SIGHTLINE_DECIDE_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, overriding server.listen.
    #[arg(long, env = "SIGHTLINE_DECIDE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Kafka bootstrap servers, overriding kafka.brokers.
    #[arg(long, env = "SIGHTLINE_DECIDE_BROKERS")]
    brokers: Option<String>,
    /// Catalogue file, overriding catalogue.path.
    #[arg(long, env = "SIGHTLINE_DECIDE_CATALOGUE")]
    catalogue: Option<PathBuf>,
    /// Validate the configuration and the catalogue, print a summary and exit (0 valid, 2 invalid).
    #[arg(long)]
    check_config: bool,
}

fn load(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(listen) = cli.listen {
        config.server.listen = listen;
    }
    if let Some(brokers) = &cli.brokers {
        config.kafka.brokers.clone_from(brokers);
    }
    if let Some(catalogue) = &cli.catalogue {
        config.catalogue.path.clone_from(catalogue);
    }
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("sightline-decide: {err}");
            return ExitCode::from(2);
        }
    };
    if cli.check_config {
        return match sightline_decide::catalogue::Catalogue::load(&config.catalogue.path) {
            Ok(catalogue) => {
                println!(
                    "configuration OK: listen {}, brokers {}, catalogue {} ({} creatives)",
                    config.server.listen,
                    config.kafka.brokers,
                    config.catalogue.path.display(),
                    catalogue.creatives.len()
                );
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("sightline-decide: {err}");
                ExitCode::from(2)
            }
        };
    }
    sightline_service::logging::init(&config.log.level, config.log.format);
    sightline_service::runtime::run(
        "sightline-decide",
        sightline_decide::run(config, sightline_decide::shutdown_signal()),
        |err| tracing::error!(%err, "sightline-decide failed"),
    )
}
