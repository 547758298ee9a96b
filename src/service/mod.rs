//! The use cases: one entry point per operation (search, book, reschedule, cancel, …),
//! shared by the Claims IA protocol, the firms' admin API and the workers. Each owns its
//! side effects — the calendar and directory caches, the announcements to the other
//! instances, the wake-up of the workers — so no caller has to remember them. Events and
//! webhook deliveries are written by the store in the operation's own transaction.

mod absences;
mod announce;
pub mod appointments;
mod booking;
pub mod calendar_feeds;
pub mod calendars;
mod clients;
pub mod details;
mod directory;
pub mod dossier;
mod error;
mod experts;
mod firm_webhooks;
pub mod imports;
mod keys;
pub mod offers;
mod reads;
pub mod reschedule;
pub mod search;
pub mod search_log;
pub mod settlements;
pub mod uploads;

use std::sync::Arc;
use std::time::Duration;

pub use booking::{Answered, BookingRequest, Keyed};
pub use clients::ApiClientCache;
pub use directory::{DirectoryCache, Snapshot};
pub use error::{Error, Result};
pub use reschedule::Destination;

use crate::auth::random_token;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::store::Store;
use calendars::CalendarCache;
use offers::SlotSigner;

/// How far ahead of now an appointment can be searched for or moved to, or an absence
/// end.
pub const HORIZON_DAYS: i64 = 730;

/// What the operations need, built once per server.
pub struct Service {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The one source of time.
    pub clock: Clock,
    /// Document downloads, blobs and webhooks.
    pub jobs: Arc<Jobs>,
    /// This instance's metrics.
    pub metrics: Arc<Metrics>,
    api_clients: ApiClientCache,
    calendars: Arc<CalendarCache>,
    directory: DirectoryCache,
    offers: SlotSigner,
    settings: crate::engine::Settings,
    /// How old a directory or calendar a search may use.
    search_cache: Duration,
    /// How long an offered slot may be booked.
    slot_ttl: chrono::Duration,
    /// Size, types and lifetime of pre-uploaded files.
    upload_rules: uploads::UploadRules,
    /// Size and type of import files sent with the request.
    import_rules: uploads::UploadRules,
    /// Downloads of import URLs: the document fetcher's guard, for CSV files.
    import_fetcher: crate::fetch::Fetcher,
    /// Wakes this instance's import worker.
    import_wake: Arc<imports::ImportWake>,
    /// Where searches are logged.
    search_log: search_log::SearchLog,
}

impl Service {
    /// Builds the service on `store`; starts hearing and announcing calendar changes when
    /// the store can (PostgreSQL).
    pub async fn new(
        store: Arc<dyn Store>,
        config: &ServerConfig,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let slot_key = store
            .server_secret("slot-signing-key", &random_token(48))
            .await?;
        let calendars = CalendarCache::new(
            Duration::from_millis(config.calendar_cache_ms),
            clock.clone(),
        );
        let calendars = announce::start(
            &store,
            calendars,
            Duration::from_millis(config.calendar_cache_announced_ms),
        )
        .await?;
        let metrics = Arc::new(Metrics::new());
        let jobs = Arc::new(
            Jobs::new(&config.jobs, clock.clone())?
                .with_search_log_retention(config.search_log.retention())
                .with_metrics(metrics.jobs.clone()),
        );
        let import_fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchPolicy {
            max_bytes: imports::MAX_FILE_BYTES,
            allowed_content_types: vec![crate::fetch::TEXT_PLAIN.to_owned()],
            ..jobs.fetch_policy().clone()
        })?
        .with_scanner(jobs.scanner.clone());
        Ok(Self {
            jobs,
            metrics,
            import_rules: uploads::UploadRules::new(imports::MAX_FILE_BYTES, config.uploads.ttl())
                .text_only(),
            import_fetcher,
            import_wake: Arc::default(),
            search_log: search_log::SearchLog::start(
                Arc::clone(&store),
                &config.search_log,
                clock.clone(),
            ),
            calendars,
            directory: DirectoryCache::new(clock.clone()),
            api_clients: ApiClientCache::new(config.search_cache(), clock.clone()),
            offers: SlotSigner::new(slot_key.as_bytes()),
            settings: config.engine.settings(),
            search_cache: config.search_cache(),
            slot_ttl: config.slot_ttl(),
            upload_rules: uploads::UploadRules::new(
                config.uploads.upload_max_bytes,
                config.uploads.ttl(),
            ),
            store,
            clock,
        })
    }

    /// Called after any change to an expert's calendar made through this instance: the
    /// cached copy goes, and the other instances are told.
    fn calendar_changed(&self, expert_id: &str) {
        self.calendars.invalidate(expert_id);
    }

    /// Called after any change to the catalogue of experts made through this instance.
    fn catalogue_changed(&self) {
        self.directory.changed();
    }

    /// Returns once every search answered before the call is in the search log.
    pub async fn flush_search_log(&self) {
        self.search_log.flush().await;
    }

    /// Writes the searches still queued for the log and stops its writer: call at
    /// shutdown, once the requests in flight are answered.
    pub async fn close_search_log(&self) {
        self.search_log.close().await;
    }

    /// Searches not logged because the log's queue was full, since the start.
    pub fn search_log_dropped(&self) -> u64 {
        self.search_log.dropped()
    }
}
