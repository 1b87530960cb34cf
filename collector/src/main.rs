//! `sightline-collector`: the edge collector binary.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use sightline_collector::config::{Config, LogFormat};

/// mimalloc instead of the system allocator: every request allocates its decoded batch
/// and one record per event from several threads, and glibc malloc/free was about a
/// third of the collector's instructions per event (see bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sightline edge collector: validates, rate-limits and forwards browser batches to Kafka.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// TOML configuration file (see collector/sightline.example.toml).
    #[arg(long, env = "SIGHTLINE_CONFIG")]
    config: Option<PathBuf>,
    /// Listen address, overriding server.listen.
    #[arg(long, env = "SIGHTLINE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Kafka bootstrap servers, overriding kafka.brokers.
    #[arg(long, env = "SIGHTLINE_BROKERS")]
    brokers: Option<String>,
    /// Topic prefix, overriding routing.prefix.
    #[arg(long, env = "SIGHTLINE_TOPIC_PREFIX")]
    topic_prefix: Option<String>,
    /// Log format (text or json), overriding log.format.
    #[arg(long, env = "SIGHTLINE_LOG_FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
    /// Validate the configuration, print a summary and exit (0 valid, 2 invalid).
    #[arg(long)]
    check_config: bool,
}

fn load(cli: &Cli) -> Result<Config, sightline_collector::config::ConfigError> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(listen) = cli.listen {
        config.server.listen = listen;
    }
    if let Some(brokers) = &cli.brokers {
        config.kafka.brokers.clone_from(brokers);
    }
    if let Some(prefix) = &cli.topic_prefix {
        config.routing.prefix.clone_from(prefix);
    }
    match cli.log_format.as_deref() {
        Some("json") => config.log.format = LogFormat::Json,
        Some("text") => config.log.format = LogFormat::Text,
        _ => {}
    }
    config.validate()?;
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("sightline-collector: {err}");
            return ExitCode::from(2);
        }
    };
    if cli.check_config {
        let spool = if config.spool.enabled {
            format!(
                "spool {} (cap {} bytes)",
                config.spool_dir().display(),
                config.spool.max_bytes
            )
        } else {
            "spool disabled".to_owned()
        };
        println!(
            "configuration OK: listen {}, brokers {}, prefix {:?}, {} site(s), {spool}",
            config.server.listen,
            config.kafka.brokers,
            config.routing.prefix,
            config.sites.len()
        );
        return ExitCode::SUCCESS;
    }
    sightline_service::logging::init(&config.log.level, config.log.format);
    sightline_service::runtime::run(
        "sightline-collector",
        sightline_collector::run(config, sightline_collector::shutdown_signal()),
        |err| tracing::error!(%err, "collector failed"),
    )
}
