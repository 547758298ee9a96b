//! Command line and environment configuration (clap). Secrets never show in `Debug`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::store::sqlite::DEFAULT_URL;

/// Parses a signing secret: at least 32 characters, kept out of `Debug` output.
fn long_secret(value: &str) -> Result<SecretString, String> {
    if value.len() < 32 {
        return Err("must be at least 32 characters".into());
    }
    Ok(value.into())
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Créneau: partner-side appointment server for the Claims IA protocol.
#[derive(Debug, Parser)]
#[command(name = "creneau", version, about)]
pub struct Cli {
    /// Database: a SQLite path (`sqlite:PATH`, `sqlite://PATH`), or `postgres://...`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_URL, hide_env_values = true)]
    pub database_url: String,
    /// Most bookings written in one shared transaction when they arrive together (group
    /// commit); 1 writes each booking in a transaction of its own.
    #[arg(long, global = true, env = "CRENEAU_BOOKING_BATCH", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub booking_batch: u16,
    /// Most such shared booking transactions at once, per instance (PostgreSQL; SQLite
    /// has one writer).
    #[arg(long, global = true, env = "CRENEAU_BOOKING_GROUPS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=16))]
    pub booking_groups: u16,
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "CRENEAU_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Print one JSON object on stdout (creating commands).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load a demo firm, experts and a protocol client, print how to call them, then serve.
    Demo(DemoArgs),
    /// Manage expert firms.
    #[command(subcommand)]
    Firm(FirmCommand),
    /// Manage Claims IA protocol clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Create a firm of synthetic experts, its credentials and an API key, for load tests.
    Seed(SeedArgs),
    /// Drive running servers with concurrent Claims IA clients, then check invariants.
    Loadtest(LoadtestArgs),
}

/// Options of `seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Number of synthetic experts.
    #[arg(long, default_value_t = 200)]
    pub experts: usize,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Options of `loadtest`. Exactly one of `--duration` and `--requests`.
#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// Base URL of a server (repeat for several instances; loopback hosts only).
    #[arg(long = "target", required = true)]
    pub targets: Vec<String>,
    /// Claims IA API key.
    #[arg(long, env = "CRENEAU_LOADTEST_API_KEY", hide_env_values = true)]
    pub api_key: SecretString,
    /// Firm admin client id (for the invariant check).
    #[arg(long, env = "CRENEAU_LOADTEST_CLIENT_ID")]
    pub client_id: String,
    /// Firm admin client secret.
    #[arg(long, env = "CRENEAU_LOADTEST_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: SecretString,
    /// Run for this many seconds.
    #[arg(
        long,
        required_unless_present = "requests",
        conflicts_with = "requests"
    )]
    pub duration: Option<u64>,
    /// Stop after this many HTTP requests in all.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Concurrent virtual clients.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub clients: u32,
    /// Probability that a client books the first slot offered (several chase it).
    #[arg(long, default_value_t = 0.3)]
    pub contested: f64,
    /// Seed of the clients' random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What each virtual client does: the full `scenario` (healthz, search, book, some
    /// cancels and reschedules), or only `search`, or `book` (one search, then a booking
    /// of each slot offered), or only `healthz` (a trivial route, the reference for
    /// ratios).
    #[arg(long, value_enum, default_value_t = Mix::Scenario)]
    pub mix: Mix,
}

/// The request mix of a load test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Healthz, search, book, sometimes cancel or reschedule.
    Scenario,
    /// Slot searches only.
    Search,
    /// One slot search, then a booking of every slot it offered: bookings alone, nearly.
    /// Each client searches its own days by video, so clients do not chase the same slots,
    /// and moves on to further days when those are full.
    Book,
    /// `GET /healthz` only.
    Healthz,
}

/// Firm commands.
#[derive(Debug, Subcommand)]
pub enum FirmCommand {
    /// Create a firm.
    Create {
        /// Trading name.
        #[arg(long)]
        name: String,
        /// SIRET (14 digits).
        #[arg(long)]
        siret: String,
        /// Default IANA time zone.
        #[arg(long, default_value = "Europe/Paris")]
        time_zone: String,
    },
    /// Mint a client id and a one-time secret for a firm's admin API.
    Credentials {
        /// The firm's id.
        firm_id: String,
    },
}

/// Client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Create a protocol client and print its one-time API key.
    Create {
        /// Name of the client (e.g. "Claims IA production").
        #[arg(long)]
        name: String,
    },
    /// Send a client's events to a webhook URL (Standard Webhooks signing); prints the
    /// signing secret (generated unless given).
    Webhook {
        /// The client's id.
        client_id: String,
        /// Where to POST events (`https://…`; `http` for local receivers).
        #[arg(long, required_unless_present = "remove")]
        url: Option<String>,
        /// Signing secret (`whsec_` + base64 of at least 24 bytes) to use instead of a new
        /// one.
        #[arg(
            long,
            env = "CRENEAU_WEBHOOK_SECRET",
            hide_env_values = true,
            value_parser = long_secret,
            conflicts_with = "remove"
        )]
        secret: Option<SecretString>,
        /// Stop sending (pending deliveries are dropped).
        #[arg(long, conflicts_with = "url")]
        remove: bool,
    },
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CRENEAU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Server settings.
    #[command(flatten)]
    pub server: ServerConfig,
}

/// Options of `demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Load the data and print the commands, but do not serve.
    #[arg(long)]
    pub no_serve: bool,
    /// Serving options.
    #[command(flatten)]
    pub serve: ServeArgs,
}

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
            slot_ttl_secs: 900,
            calendar_cache_ms: 1000,
            calendar_cache_announced_ms: 10_000,
            engine: EngineArgs::default(),
            jobs: JobArgs::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_is_accepted_after_the_subcommand() {
        let cli =
            Cli::try_parse_from(["creneau", "migrate", "--database-url", "sqlite:x.db"]).unwrap();
        assert_eq!(cli.database_url, "sqlite:x.db");
    }

    #[test]
    fn a_load_test_needs_exactly_one_of_duration_and_requests() {
        let base = [
            "creneau",
            "loadtest",
            "--target",
            "http://127.0.0.1:1",
            "--api-key",
            "key-xyz",
            "--client-id",
            "c",
            "--client-secret",
            "secret-xyz",
        ];
        assert!(Cli::try_parse_from(base).is_err());
        let cli = Cli::try_parse_from([&base[..], &["--duration", "5"]].concat()).unwrap();
        assert!(!format!("{cli:?}").contains("key-xyz"));
        assert!(!format!("{cli:?}").contains("secret-xyz"));
        let both = [&base[..], &["--duration", "5", "--requests", "9"]].concat();
        assert!(Cli::try_parse_from(both).is_err());
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let parsed = Cli::try_parse_from(["creneau", "serve", "--jwt-secret", "short"]);
        assert!(parsed.is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let cli =
            Cli::try_parse_from(["creneau", "serve", "--jwt-secret", &"s".repeat(40)]).unwrap();
        assert!(!format!("{cli:?}").contains(&"s".repeat(40)));
    }
}
