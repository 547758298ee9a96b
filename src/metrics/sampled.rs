//! What is sampled when the metrics are scraped: the job queues' backlog, read from the
//! database, and the use of the connection pools.

use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::store::{JobQueue, PoolUse, QueueBacklog};

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueueLabels {
    queue: JobQueue,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ConnectionLabels {
    pool: &'static str,
    state: &'static str,
}

/// The gauges set at each scrape.
pub(super) struct Sampled {
    pending: Family<QueueLabels, Gauge>,
    oldest_age: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    sample_failures: Counter,
    connections: Family<ConnectionLabels, Gauge>,
    max_connections: Family<PoolLabels, Gauge>,
}

impl Sampled {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let sampled = Self {
            pending: Family::default(),
            oldest_age: Family::default(),
            sample_failures: Counter::default(),
            connections: Family::default(),
            max_connections: Family::default(),
        };
        registry.register(
            "creneau_job_queue_depth",
            "Jobs pending in a queue (downloads, claims-ia-webhooks, firm-webhooks), retries \
             waiting for their turn included",
            sampled.pending.clone(),
        );
        registry.register(
            "creneau_job_queue_oldest_age_seconds",
            "Age of the oldest pending job of a queue (0 when none is pending)",
            sampled.oldest_age.clone(),
        );
        registry.register(
            "creneau_job_queue_sample_failures",
            "Scrapes that could not read the job queues from the database in time",
            sampled.sample_failures.clone(),
        );
        registry.register(
            "creneau_db_connections",
            "Database connections open, by pool and state (in_use, idle)",
            sampled.connections.clone(),
        );
        registry.register(
            "creneau_db_connections_max",
            "Most connections a database pool opens",
            sampled.max_connections.clone(),
        );
        sampled
    }

    /// Sets the queue gauges from a fresh reading.
    pub(super) fn queues(&self, backlogs: &[QueueBacklog], now: DateTime<Utc>) {
        for backlog in backlogs {
            let labels = QueueLabels {
                queue: backlog.queue,
            };
            self.pending
                .get_or_create(&labels)
                .set(i64::try_from(backlog.pending).unwrap_or(i64::MAX));
            let age = backlog
                .oldest
                .and_then(|oldest| (now - oldest).to_std().ok())
                .map_or(0.0, |age| age.as_secs_f64());
            self.oldest_age.get_or_create(&labels).set(age);
        }
    }

    /// The queues could not be read: their gauges go until the next reading.
    pub(super) fn queues_unknown(&self) {
        self.sample_failures.inc();
        self.pending.clear();
        self.oldest_age.clear();
    }

    /// Sets the pool gauges.
    pub(super) fn pools(&self, pools: &[PoolUse]) {
        for pool in pools {
            let name = pool.pool;
            for (state, count) in [("in_use", pool.in_use()), ("idle", pool.idle)] {
                self.connections
                    .get_or_create(&ConnectionLabels { pool: name, state })
                    .set(i64::from(count));
            }
            self.max_connections
                .get_or_create(&PoolLabels { pool: name })
                .set(i64::from(pool.max));
        }
    }
}
