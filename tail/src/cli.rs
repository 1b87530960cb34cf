//! Command line: which broker, which topics, where to start and when to stop.

use std::time::Duration;

use clap::Parser;

use crate::{error::TailError, filter::Filter};

/// Consume Sightline topics and print decoded events as JSON lines.
///
/// Each line is one event: {"topic","partition","offset","index","key","timestamp_ms","kind", and either
/// "collected" (a CollectedEvent) or "rejected" (a RejectedEvent) or "undecodable"}.
/// Byte ids are lower-case hex; enums are numbers as in the proto, plus "kind" by name.
#[derive(Debug, Parser)]
#[command(name = "sightline-tail", version)]
pub struct Args {
    /// Kafka bootstrap servers.
    #[arg(long, env = "SIGHTLINE_KAFKA", default_value = "127.0.0.1:9092")]
    pub brokers: String,

    /// Topic prefix shared by all Sightline topics.
    #[arg(long, default_value = "sightline.")]
    pub prefix: String,

    /// Topics to read, as suffixes (clicks) or full names (sightline.clicks); repeatable or
    /// comma-separated. Default: every topic in proto/topics.txt.
    #[arg(long = "topic", value_delimiter = ',')]
    pub topics: Vec<String>,

    /// Only records whose Kafka key (user id, else anonymous id) is one of these.
    #[arg(long = "user", value_delimiter = ',')]
    pub users: Vec<String>,

    /// Only events of these kinds: event kind names as in sightline-proto (page_view,
    /// ad_click, …; an unknown name is refused with the full list) and rejected.
    #[arg(long = "kind", value_delimiter = ',')]
    pub kinds: Vec<String>,

    /// Start at the oldest retained record instead of only new ones.
    #[arg(long)]
    pub from_beginning: bool,

    /// Exit once every partition has been read up to its end as of start-up.
    #[arg(long)]
    pub until_end: bool,

    /// Exit after printing this many records.
    #[arg(long = "max")]
    pub max_records: Option<u64>,

    /// With --until-end: give up after this many seconds even if the end was not reached.
    #[arg(long, default_value_t = 60)]
    pub until_end_timeout_secs: u64,
}

impl Args {
    /// Full topic names to subscribe to.
    pub fn topic_names(&self) -> Vec<String> {
        let suffixes: Vec<String> = if self.topics.is_empty() {
            sightline_proto::all_topic_suffixes()
                .map(str::to_owned)
                .collect()
        } else {
            self.topics.clone()
        };
        suffixes
            .into_iter()
            .map(|t| {
                if t.starts_with(&self.prefix) {
                    t
                } else {
                    format!("{}{t}", self.prefix)
                }
            })
            .collect()
    }

    pub fn filter(&self) -> Result<Filter, TailError> {
        Filter::new(&self.users, &self.kinds)
    }

    pub fn until_end_timeout(&self) -> Duration {
        Duration::from_secs(self.until_end_timeout_secs)
    }
}
