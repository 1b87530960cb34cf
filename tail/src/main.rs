//! `sightline-tail`: consume Sightline topics and print every decoded record as one JSON
//! line, the protobuf-aware equivalent of a console consumer.
//!
//! ```text
//! sightline-tail --brokers 127.0.0.1:9092                       # follow every topic
//! sightline-tail --topic clicks,ad_clicks --user stu-asha      # one user's clicks
//! sightline-tail --kind ad_impression --from-beginning --until-end
//! ```

mod cli;
mod consume;
mod error;
mod filter;
mod record;

use std::{io::Write, process::ExitCode};

use clap::Parser;

use crate::{cli::Args, consume::Tail, error::TailError};

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`sightline-tail | head`) is the reader's way of saying "enough".
        Err(TailError::Output(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sightline-tail: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), TailError> {
    let filter = args.filter()?;
    let mut tail = Tail::connect(args)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut printed: u64 = 0;
    tail.run(|line| {
        if !filter.accepts(line) {
            return Ok(true);
        }
        serde_json::to_writer(&mut out, line).map_err(TailError::Json)?;
        out.write_all(b"\n").map_err(TailError::Output)?;
        // Line-buffered: a follower (the demo's /live page) sees each event at once.
        out.flush().map_err(TailError::Output)?;
        printed += 1;
        Ok(args.max_records.is_none_or(|max| printed < max))
    })
}
