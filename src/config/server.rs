//! Settings of the server: HTTP, the slot engine, the background jobs.

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use super::long_secret;

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// HS256 key for firm access tokens (32+ characters). When absent, a random key is
    /// generated once and kept in the database, so every instance on it shares it.
    #[arg(long, env = "CRENEAU_JWT_SECRET", hide_env_values = true, value_parser = long_secret)]
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of firm access tokens, in seconds (at most 3600).
    #[arg(long, env = "CRENEAU_TOKEN_TTL_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(60..=3600))]
    pub token_ttl_secs: u64,
    /// Longest time a request may take before it is answered 408.
    #[arg(long, env = "CRENEAU_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Longest time a connection may take to send a request's headers, and may stay idle
    /// between requests, before it is closed.
    #[arg(long, env = "CRENEAU_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_secs: u64,
    /// Most connections served at once; past it, the oldest connection that has not sent a
    /// request yet is closed to make room (new ones wait while all are busy).
    #[arg(long, env = "CRENEAU_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Lifetime of an offered slot id, in seconds.
    #[arg(long, env = "CRENEAU_SLOT_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub slot_ttl_secs: u64,
    /// How long slot searches reuse what they read from the database (the expert
    /// directory's version, each expert's calendar), and protocol requests the Claims IA
    /// client of their API key, in milliseconds (0: read on every request). Changes made
    /// through this instance are seen at once; through another instance, within this
    /// delay (on PostgreSQL, calendars within milliseconds: see the next setting).
    #[arg(long, env = "CRENEAU_CALENDAR_CACHE_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub calendar_cache_ms: u64,
    /// On PostgreSQL, how long a cached calendar is used, in milliseconds, while this
    /// instance hears the other instances announce their changes (they are then applied
    /// within milliseconds, so this only bounds how long a change made outside Créneau, or
    /// whose announcement failed, goes unseen). Never shorter than `--calendar-cache-ms`;
    /// no effect when that is 0.
    #[arg(long, env = "CRENEAU_CALENDAR_CACHE_ANNOUNCED_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(0..=300_000))]
    pub calendar_cache_announced_ms: u64,
    /// Slot engine settings.
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Background jobs: document downloads and webhooks.
    #[command(flatten)]
    pub jobs: JobArgs,
    /// Pre-uploaded files.
    #[command(flatten)]
    pub uploads: super::UploadArgs,
    /// The log of slot searches.
    #[command(flatten)]
    pub search_log: super::SearchLogArgs,
    /// Request rates per Claims IA client and per firm.
    #[command(flatten)]
    pub rate_limits: super::RateLimitArgs,
    /// Prometheus metrics.
    #[command(flatten)]
    pub metrics: super::MetricsArgs,
}

/// Background jobs: where documents go, what may be downloaded, how often to retry.
#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// Directory of stored documents (created if missing). Instances sharing a PostgreSQL
    /// database must share it too.
    #[arg(long, env = "CRENEAU_BLOB_DIR", default_value = "creneau-blobs")]
    pub blob_dir: std::path::PathBuf,
    /// Largest document accepted, in bytes (downloads are cut off past it).
    #[arg(long, env = "CRENEAU_FETCH_MAX_BYTES", default_value_t = 20 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..=1024 * 1024 * 1024))]
    pub fetch_max_bytes: u64,
    /// Origins (`scheme://host[:port]`) documents may also be fetched from although they
    /// are not `https` or resolve to private addresses; comma-separated.
    #[arg(
        long = "fetch-allow-origin",
        env = "CRENEAU_FETCH_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub fetch_allow_origins: Vec<String>,
    /// Longest single download, in seconds.
    #[arg(long, env = "CRENEAU_FETCH_TIMEOUT_SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub fetch_timeout_secs: u64,
    /// Download attempts before an attachment is `FAILED`.
    #[arg(long, env = "CRENEAU_FETCH_MAX_ATTEMPTS", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(1..=50))]
    pub fetch_max_attempts: u32,
    /// Concurrent downloads per instance.
    #[arg(long, env = "CRENEAU_FETCH_WORKERS", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub fetch_workers: u32,
    /// Delivery attempts before a webhook message is `FAILED`.
    #[arg(long, env = "CRENEAU_WEBHOOK_MAX_ATTEMPTS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=50))]
    pub webhook_max_attempts: u32,
    /// Longest webhook attempt, in seconds.
    #[arg(long, env = "CRENEAU_WEBHOOK_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub webhook_timeout_secs: u64,
    /// First retry delay, in milliseconds; it doubles per attempt (with jitter) up to an
    /// hour.
    #[arg(long, env = "CRENEAU_RETRY_BASE_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub retry_base_ms: u64,
    /// How often idle workers look for due work, in milliseconds (other instances' work
    /// and retries; work of this instance wakes them at once).
    #[arg(long, env = "CRENEAU_JOB_POLL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub job_poll_ms: u64,
    /// ClamAV daemon that scans every document before it is stored:
    /// `clamd://HOST:PORT` or `clamd:///path/to/clamd.ctl`. Without it, documents are
    /// stored unscanned (a warning is logged at start).
    #[arg(long, env = "CRENEAU_SCANNER")]
    pub scanner: Option<String>,
    /// Longest virus scan of one document, in seconds (connecting included).
    #[arg(long, env = "CRENEAU_SCAN_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub scan_timeout_secs: u64,
}

impl Default for JobArgs {
    fn default() -> Self {
        Self {
            blob_dir: "creneau-blobs".into(),
            fetch_max_bytes: 20 * 1024 * 1024,
            fetch_allow_origins: Vec::new(),
            fetch_timeout_secs: 120,
            fetch_max_attempts: 6,
            fetch_workers: 2,
            webhook_max_attempts: 10,
            webhook_timeout_secs: 10,
            retry_base_ms: 10_000,
            job_poll_ms: 1000,
            scanner: None,
            scan_timeout_secs: 30,
        }
    }
}

/// Slot grid and travel model.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Slot grid, in minutes (slots start on multiples of it, local time).
    #[arg(long, env = "CRENEAU_SLOT_GRID_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u32).range(5..=120))]
    pub slot_grid_minutes: u32,
    /// Road distance over great-circle distance.
    #[arg(long, env = "CRENEAU_TRAVEL_DETOUR_FACTOR", default_value_t = 1.3)]
    pub travel_detour_factor: f64,
    /// Average travel speed, in km/h.
    #[arg(long, env = "CRENEAU_TRAVEL_SPEED_KMH", default_value_t = 40.0)]
    pub travel_speed_kmh: f64,
}

impl Default for EngineArgs {
    fn default() -> Self {
        Self {
            slot_grid_minutes: 15,
            travel_detour_factor: 1.3,
            travel_speed_kmh: 40.0,
        }
    }
}

impl EngineArgs {
    /// The engine's settings.
    pub fn settings(&self) -> crate::engine::Settings {
        crate::engine::Settings {
            grid_minutes: self.slot_grid_minutes,
            detour_factor: self.travel_detour_factor,
            speed_kmh: self.travel_speed_kmh,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            token_ttl_secs: 3600,
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            max_connections: 4096,
            slot_ttl_secs: 900,
            calendar_cache_ms: 1000,
            calendar_cache_announced_ms: 10_000,
            engine: EngineArgs::default(),
            jobs: JobArgs::default(),
            uploads: super::UploadArgs::default(),
            search_log: super::SearchLogArgs::default(),
            rate_limits: super::RateLimitArgs::default(),
            metrics: super::MetricsArgs::default(),
        }
    }
}

impl ServerConfig {
    /// How long searches reuse what they read (directory version, calendars).
    pub fn search_cache(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.calendar_cache_ms)
    }

    /// Slot id lifetime.
    pub fn slot_ttl(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.slot_ttl_secs).unwrap_or(900))
    }

    /// Request timeout as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}
