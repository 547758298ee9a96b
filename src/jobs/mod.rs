//! Background workers: the document fetcher, the webhook sender, and the sweepers of
//! expired uploads and search log entries.
//!
//! Both drain a persistent queue in the database (`attachments` rows that are `PENDING`,
//! the `webhook_deliveries` outbox), so nothing is lost on a crash or a restart: a job is
//! claimed under a lease, and a job whose worker died is taken over once the lease lapses.
//! Each worker exposes `run_once` (one job, if one is due) and `drain` (until none is due),
//! which tests call to run the real workers deterministically; [`Jobs::spawn`] runs them in
//! loops that wake on new work of this instance and poll for the rest.

pub mod fetch;
pub mod search_log;
pub mod uploads;
pub mod webhooks;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::JobArgs;
use crate::fetch::{AllowedOrigin, BlobStore, FetchPolicy, Fetcher, FsBlobStore};
use crate::metrics::JobMetrics;
use crate::scan::Scanner;
use crate::store::{Refusal, Store};

/// Bounded retries with exponential backoff and jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub base: chrono::Duration,
    /// Longest delay.
    pub cap: chrono::Duration,
    /// How long a claimed job stays its worker's (longer than one attempt can take).
    pub lease: chrono::Duration,
}

impl RetryPolicy {
    /// Delay before the attempt after `attempts` failed ones: `base * 2^(attempts - 1)`,
    /// capped, then drawn uniformly in its upper half so instances do not retry in step.
    pub fn backoff(&self, attempts: i64) -> chrono::Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self
            .base
            .checked_mul(1 << doublings)
            .map_or(self.cap, |d| d.min(self.cap));
        let ms = full.num_milliseconds().max(2);
        chrono::Duration::milliseconds(rand::rng().random_range(ms / 2..=ms))
    }
}

/// A unique id for one worker loop (lease owner).
pub fn worker_id(kind: &str) -> String {
    format!("{kind}-{}", uuid::Uuid::now_v7())
}

/// What the workers share with the HTTP layer.
pub struct Jobs {
    /// Downloads under the operator's policy.
    pub fetcher: Fetcher,
    /// Firms' webhook endpoints are reached through the same guard.
    pub webhook_guard: Fetcher,
    /// Where documents go.
    pub blobs: Arc<dyn BlobStore>,
    /// The virus scanner every document goes through before it is stored; `None`: documents
    /// are stored unscanned.
    pub scanner: Option<Scanner>,
    /// The same store, for housekeeping only the filesystem has.
    fs_blobs: Arc<FsBlobStore>,
    fetch_retry: RetryPolicy,
    webhook_retry: RetryPolicy,
    webhook_timeout: Duration,
    fetch_workers: u32,
    poll: Duration,
    fetch_wake: Arc<Notify>,
    webhook_wake: Arc<Notify>,
    /// How long search log entries are kept.
    search_log_retention: chrono::Duration,
    /// Where failed attempts are counted.
    metrics: JobMetrics,
    clock: Clock,
}

impl Jobs {
    /// Builds the fetcher, the blob store and the scanner from the settings.
    pub fn new(args: &JobArgs, clock: Clock) -> anyhow::Result<Self> {
        let allowed_origins = args
            .fetch_allow_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| {
                o.trim()
                    .parse::<AllowedOrigin>()
                    .map_err(|e| anyhow::anyhow!("--fetch-allow-origin {o}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let timeout = Duration::from_secs(args.fetch_timeout_secs);
        let policy = FetchPolicy {
            max_bytes: args.fetch_max_bytes,
            allowed_origins,
            total_timeout: timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            ..FetchPolicy::default()
        };
        let blobs = FsBlobStore::new(&args.blob_dir)
            .map_err(|e| anyhow::anyhow!("blob directory {}: {e}", args.blob_dir.display()))?;
        let base = chrono::Duration::milliseconds(i64::try_from(args.retry_base_ms)?);
        // An attempt is bounded by its timeout; the margin covers recording its result.
        let lease_for = |attempt: Duration| {
            chrono::Duration::from_std(attempt + Duration::from_secs(5))
                .unwrap_or(chrono::Duration::hours(1))
        };
        let webhook_timeout = Duration::from_secs(args.webhook_timeout_secs);
        let blobs = Arc::new(blobs);
        let scanner = args
            .scanner
            .as_deref()
            .filter(|spec| !spec.trim().is_empty())
            .map(|spec| {
                spec.trim()
                    .parse::<Scanner>()
                    .map(|s| s.with_timeout(Duration::from_secs(args.scan_timeout_secs)))
                    .map_err(|e| anyhow::anyhow!("--scanner {e}"))
            })
            .transpose()?;
        // A scan happens inside a download attempt, under the same lease.
        let fetch_attempt = timeout + scanner.as_ref().map_or(Duration::ZERO, Scanner::timeout);
        let webhook_guard = Fetcher::new(FetchPolicy {
            total_timeout: Duration::from_secs(args.webhook_timeout_secs),
            connect_timeout: Duration::from_secs(args.webhook_timeout_secs.min(10)),
            ..policy.clone()
        })?;
        Ok(Self {
            webhook_guard,
            fetcher: Fetcher::new(policy)?.with_scanner(scanner.clone()),
            blobs: Arc::clone(&blobs) as Arc<dyn BlobStore>,
            scanner,
            fs_blobs: blobs,
            fetch_retry: RetryPolicy {
                max_attempts: args.fetch_max_attempts,
                base,
                cap: chrono::Duration::hours(1),
                lease: lease_for(fetch_attempt),
            },
            webhook_retry: RetryPolicy {
                max_attempts: args.webhook_max_attempts,
                base,
                cap: chrono::Duration::hours(1),
                lease: lease_for(webhook_timeout),
            },
            webhook_timeout,
            fetch_workers: args.fetch_workers,
            poll: Duration::from_millis(args.job_poll_ms),
            fetch_wake: Arc::new(Notify::new()),
            webhook_wake: Arc::new(Notify::new()),
            search_log_retention: chrono::Duration::days(90),
            metrics: JobMetrics::default(),
            clock,
        })
    }

    /// How often idle workers look for work.
    pub fn poll(&self) -> Duration {
        self.poll
    }

    /// Download attempts before giving up.
    pub fn fetch_attempts(&self) -> i64 {
        i64::from(self.fetch_retry.max_attempts)
    }

    /// Delay before the download attempt after `attempts` failed ones.
    pub fn fetch_backoff(&self, attempts: i64) -> chrono::Duration {
        self.fetch_retry.backoff(attempts)
    }

    /// The same, keeping search log entries for `retention` (90 days otherwise).
    #[must_use]
    pub fn with_search_log_retention(self, retention: chrono::Duration) -> Self {
        Self {
            search_log_retention: retention,
            ..self
        }
    }

    /// The same, counting failed attempts in `metrics` (nowhere rendered otherwise).
    #[must_use]
    pub fn with_metrics(self, metrics: JobMetrics) -> Self {
        Self { metrics, ..self }
    }

    /// The download policy.
    pub fn fetch_policy(&self) -> &FetchPolicy {
        self.fetcher.policy()
    }

    /// Why `url` may not be fetched, when that is known without any connection (scheme,
    /// literal address, host not allowed). Names are resolved and checked by the worker.
    pub fn precheck(&self, url: &str) -> Option<Refusal> {
        self.fetcher.precheck(url).map(|r| Refusal {
            reason: r.reason.code().to_owned(),
            detail: r.detail,
        })
    }

    /// Tells this instance's fetch workers new downloads are queued.
    pub fn wake_fetcher(&self) {
        self.fetch_wake.notify_waiters();
    }

    /// Tells this instance's webhook sender new events were recorded.
    pub fn wake_webhooks(&self) {
        self.webhook_wake.notify_waiters();
    }

    /// A fetch worker (for one loop, or for a test to drain).
    pub fn fetch_worker(&self, store: Arc<dyn Store>) -> fetch::FetchWorker {
        fetch::FetchWorker::new(
            store,
            self.fetcher.clone(),
            Arc::clone(&self.blobs),
            self.fetch_retry,
            self.metrics.clone(),
            self.clock.clone(),
        )
    }

    /// The sweeper of expired uploads (for one loop, or for a test to drain).
    pub fn upload_sweeper(&self, store: Arc<dyn Store>) -> uploads::UploadSweeper {
        uploads::UploadSweeper::new(store, Arc::clone(&self.fs_blobs), self.clock.clone())
    }

    /// The sweeper of expired search log entries (for one loop, or for a test to drain).
    pub fn search_log_sweeper(&self, store: Arc<dyn Store>) -> search_log::SearchLogSweeper {
        search_log::SearchLogSweeper::new(store, self.search_log_retention, self.clock.clone())
    }

    /// A webhook sender (for one loop, or for a test to drain).
    pub fn webhook_sender(&self, store: Arc<dyn Store>) -> anyhow::Result<webhooks::WebhookSender> {
        webhooks::WebhookSender::new(
            store,
            self.webhook_retry,
            self.webhook_timeout,
            self.metrics.clone(),
            self.clock.clone(),
        )
    }

    /// The sender of the firms' webhooks (for one loop, or for a test to drain).
    pub fn firm_webhook_sender(&self, store: Arc<dyn Store>) -> webhooks::WebhookSender {
        webhooks::WebhookSender::for_firms(
            store,
            self.webhook_retry,
            self.webhook_guard.clone(),
            self.metrics.clone(),
            self.clock.clone(),
        )
    }

    /// Runs the workers until `shutdown` turns `true`.
    pub fn spawn(
        &self,
        store: &Arc<dyn Store>,
        shutdown: &watch::Receiver<bool>,
    ) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let mut handles = Vec::new();
        // Staging files of writes cut short by a crash: a write takes at most the download
        // timeout, so anything older than an hour is garbage.
        let fs_blobs = Arc::clone(&self.fs_blobs);
        handles.push(tokio::spawn(async move {
            match fs_blobs
                .remove_stale_staging(Duration::from_secs(3600))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "stale staging files removed"),
                Err(err) => tracing::warn!(error = %err, "cannot clean the blob directory"),
            }
        }));
        for _ in 0..self.fetch_workers {
            let worker = Arc::new(self.fetch_worker(Arc::clone(store)));
            handles.push(tokio::spawn(run_loop(
                "fetch",
                Arc::clone(&self.fetch_wake),
                self.poll,
                shutdown.clone(),
                move || {
                    let worker = Arc::clone(&worker);
                    async move { worker.run_once().await }
                },
            )));
        }
        let sender = Arc::new(self.webhook_sender(Arc::clone(store))?);
        handles.push(tokio::spawn(run_loop(
            "webhooks",
            Arc::clone(&self.webhook_wake),
            self.poll,
            shutdown.clone(),
            move || {
                let sender = Arc::clone(&sender);
                async move { sender.run_once().await }
            },
        )));
        let firm_sender = Arc::new(self.firm_webhook_sender(Arc::clone(store)));
        handles.push(tokio::spawn(run_loop(
            "firm-webhooks",
            Arc::clone(&self.webhook_wake),
            self.poll,
            shutdown.clone(),
            move || {
                let sender = Arc::clone(&firm_sender);
                async move { sender.run_once().await }
            },
        )));
        let sweeper = Arc::new(self.upload_sweeper(Arc::clone(store)));
        handles.push(tokio::spawn(run_loop(
            "uploads",
            Arc::new(Notify::new()),
            SWEEP_EVERY,
            shutdown.clone(),
            move || {
                let sweeper = Arc::clone(&sweeper);
                async move { sweeper.run_once().await }
            },
        )));
        let search_log = Arc::new(self.search_log_sweeper(Arc::clone(store)));
        handles.push(tokio::spawn(run_loop(
            "search-log",
            Arc::new(Notify::new()),
            SWEEP_EVERY,
            shutdown.clone(),
            move || {
                let sweeper = Arc::clone(&search_log);
                async move { sweeper.run_once().await }
            },
        )));
        Ok(handles)
    }
}

/// How often expired uploads and search log entries are looked for; their deletion is
/// not urgent.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Runs `once` while it finds work; when idle, waits for a wake-up, the poll interval or
/// the shutdown. Errors (database down) are logged and retried after the poll interval.
pub(crate) async fn run_loop<F, Fut>(
    name: &'static str,
    wake: Arc<Notify>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
    once: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    tracing::info!(worker = name, "worker started");
    while !*shutdown.borrow() {
        let idle = match once().await {
            Ok(worked) => !worked,
            Err(err) => {
                tracing::error!(worker = name, error = %err, "worker step failed");
                true
            }
        };
        if idle {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!(worker = name, "worker stopped");
}
