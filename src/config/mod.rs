//! Command line and environment configuration (clap). Secrets never show in `Debug`.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::store::sqlite::DEFAULT_URL;

mod limits;
mod metrics;
mod search_log;
mod server;
mod uploads;

pub use limits::RateLimitArgs;
pub use metrics::MetricsArgs;
pub use search_log::{Logging, SearchLogArgs};
pub use server::{EngineArgs, JobArgs, ServerConfig};
pub use uploads::UploadArgs;

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
    /// Mint a client id and a one-time secret for a firm's admin API (`credentials
    /// FIRM_ID`), or revoke one (`credentials revoke CLIENT_ID`).
    #[command(args_conflicts_with_subcommands = true)]
    Credentials {
        /// The firm's id, to mint a credential.
        firm_id: Option<String>,
        /// What to do instead of minting.
        #[command(subcommand)]
        action: Option<CredentialsAction>,
    },
    /// Remove a firm: its credentials are revoked (their tokens refused at once) and its
    /// experts deactivated; its appointments and history are kept.
    Remove {
        /// The firm's id.
        firm_id: String,
    },
}

/// `firm credentials` actions.
#[derive(Debug, Subcommand)]
pub enum CredentialsAction {
    /// Revoke a credential: its access tokens are refused at once.
    Revoke {
        /// The credential's client id.
        client_id: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firm_credentials_are_minted_for_a_firm_or_revoked_by_client_id() {
        let mint = Cli::try_parse_from(["creneau", "firm", "credentials", "F1"]).unwrap();
        assert!(matches!(
            mint.command,
            Command::Firm(FirmCommand::Credentials { firm_id: Some(ref f), action: None }) if f == "F1"
        ));
        let revoke =
            Cli::try_parse_from(["creneau", "firm", "credentials", "revoke", "firm_1"]).unwrap();
        assert!(matches!(
            revoke.command,
            Command::Firm(FirmCommand::Credentials {
                action: Some(CredentialsAction::Revoke { ref client_id }),
                ..
            }) if client_id == "firm_1"
        ));
        let remove = Cli::try_parse_from(["creneau", "firm", "remove", "F1"]).unwrap();
        assert!(matches!(
            remove.command,
            Command::Firm(FirmCommand::Remove { .. })
        ));
    }

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
    fn metrics_are_served_only_on_an_address_given() {
        let serve = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Serve(serve) => serve.server.metrics,
            other => panic!("not serve: {other:?}"),
        };
        assert_eq!(serve(&["creneau", "serve"]).metrics_listen, None);
        assert!(!serve(&["creneau", "serve"]).enabled());
        let on = serve(&["creneau", "serve", "--metrics-listen", "127.0.0.1:9464"]);
        assert_eq!(on.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(on.enabled());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let cli =
            Cli::try_parse_from(["creneau", "serve", "--jwt-secret", &"s".repeat(40)]).unwrap();
        assert!(!format!("{cli:?}").contains(&"s".repeat(40)));
    }
}
