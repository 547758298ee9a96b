//! Prometheus metrics of one server instance. Every instrument is registered in a registry
//! the instance owns, so two instances in one process (tests, say) never share a count; the
//! registry is rendered in the Prometheus text format when the operator's listener is
//! scraped (see `http::metrics`).
//!
//! Counters and histograms are recorded where things happen: the HTTP layer, the slot
//! search, the booking handler, the job workers. What lives in the database (the job
//! queues' backlog) or in the pools is sampled at each scrape instead.

mod requests;
mod sampled;
mod work;

use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::registry::Registry;

use crate::store::Monitoring;

pub use requests::{HttpMetrics, Route, method_label};
pub use work::{BookingMetrics, Failure, JobMetrics, SearchMetrics};

/// Media type of the rendering: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Longest wait for the database's share of a scrape: a scrape must answer even when the
/// database does not.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(2);

/// The instruments of one instance and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests of the API.
    pub http: HttpMetrics,
    /// Slot searches.
    pub search: SearchMetrics,
    /// Bookings.
    pub bookings: BookingMetrics,
    /// Background jobs.
    pub jobs: JobMetrics,
    sampled: sampled::Sampled,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every instrument, registered in a new registry.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http = HttpMetrics::register(&mut registry);
        let search = SearchMetrics::register(&mut registry);
        let bookings = BookingMetrics::register(&mut registry);
        let jobs = JobMetrics::register(&mut registry);
        let sampled = sampled::Sampled::register(&mut registry);
        Self {
            registry,
            http,
            search,
            bookings,
            jobs,
            sampled,
        }
    }

    /// Samples the connection pools and the job queues (one query, bounded by a timeout) of
    /// `store`, then renders every metric. When the query fails or times out, the queue
    /// gauges are left out of this rendering rather than shown stale, and a counter says so.
    pub async fn scrape<S: Monitoring + ?Sized>(&self, store: &S, now: DateTime<Utc>) -> String {
        // The pools first, so that the queue query's own connection is not counted.
        self.sampled.pools(&store.pool_use());
        match tokio::time::timeout(SAMPLE_TIMEOUT, store.job_backlogs()).await {
            Ok(Ok(backlogs)) => self.sampled.queues(&backlogs, now),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "metrics: cannot read the job queues");
                self.sampled.queues_unknown();
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = SAMPLE_TIMEOUT.as_millis(),
                    "metrics: the job queues were not read in time"
                );
                self.sampled.queues_unknown();
            }
        }
        self.render()
    }

    /// Every metric as it stands, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(err) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
        {
            tracing::error!(error = %err, "metrics: cannot render");
        }
        text
    }
}

/// Bounds, in seconds, of latency histograms: 100 µs to 30 s.
const LATENCY_BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];
