//! `sightline-admin`: operator commands that change what Sightline keeps.
//!
//! ```text
//! sightline-admin erase --site demo --user-id stu-asha        # DPDP s.12, GDPR Art. 17
//! sightline-admin erase --site demo --anonymous-id 0123…      # a visitor without an account
//! sightline-admin erase --site demo --visitor-id 5d41…        # a cookieless visitor's day
//! ```
//!
//! `erase` writes one erasure request to the compacted topic `sightline.erasures` (key:
//! site, id kind and id, so the log keeps the latest request per person for as long as the
//! topic lives, and a consumer that starts later still sees every person ever erased) and
//! prints what it wrote as one JSON line. ClickHouse applies the requests with `python -m
//! sightline_analytics.erase` (analytics/README.md); docs/privacy.md has the whole flow.

mod erase;
mod error;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "sightline-admin", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Request the erasure of one person's events: writes an erasure request to the
    /// compacted erasures topic (created, compacted, when missing) and prints it.
    Erase(erase::EraseArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Erase(args) => erase::run(args),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sightline-admin: {err}");
            ExitCode::FAILURE
        }
    }
}
