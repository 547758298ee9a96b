//! Settings of the search log.

use std::time::Duration;

use clap::{Args, ValueEnum};

/// Whether slot searches are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Logging {
    /// Every search is logged (behind its answer).
    On,
    /// Searches are not logged; the retention still deletes old entries.
    Off,
}

/// The log of slot searches that firms read: whether it is kept, for how long, and how
/// its writes are grouped.
#[derive(Debug, Clone, Args)]
pub struct SearchLogArgs {
    /// Whether slot searches are logged: `on` or `off`.
    #[arg(
        long = "search-log",
        env = "CRENEAU_SEARCH_LOG",
        value_enum,
        default_value = "on"
    )]
    pub search_log: Logging,
    /// Days a logged search is kept before it is deleted.
    #[arg(long, env = "CRENEAU_SEARCH_LOG_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub search_log_days: u32,
    /// Most searches waiting to be written; past it, searches are answered but not logged
    /// (counted, and reported in a warning at most every few seconds).
    #[arg(long, env = "CRENEAU_SEARCH_LOG_QUEUE", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub search_log_queue: u32,
    /// Longest time, in milliseconds, a search waits to be written with the ones that
    /// follow it (earlier when a batch is ready, and at shutdown).
    #[arg(long, env = "CRENEAU_SEARCH_LOG_FLUSH_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub search_log_flush_ms: u64,
}

impl Default for SearchLogArgs {
    fn default() -> Self {
        Self {
            search_log: Logging::On,
            search_log_days: 90,
            search_log_queue: 10_000,
            search_log_flush_ms: 1000,
        }
    }
}

impl SearchLogArgs {
    /// Whether searches are logged.
    pub fn enabled(&self) -> bool {
        self.search_log == Logging::On
    }

    /// How long an entry is kept.
    pub fn retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.search_log_days))
    }

    /// Longest wait of an entry before it is written.
    pub fn flush_every(&self) -> Duration {
        Duration::from_millis(self.search_log_flush_ms)
    }
}
