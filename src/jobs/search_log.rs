//! The retention of the search log: searches older than `--search-log-days` are deleted,
//! in batches of short transactions, by whichever instances sweep.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::Clock;
use crate::store::Store;

/// Searches deleted per transaction.
const BATCH: u32 = 1000;

/// Deletes the searches past their retention.
pub struct SearchLogSweeper {
    store: Arc<dyn Store>,
    retention: chrono::Duration,
    clock: Clock,
    /// Deleted since the sweep began, reported when it ends.
    swept: AtomicU64,
}

impl SearchLogSweeper {
    /// A sweeper deleting the searches older than `retention`.
    pub fn new(store: Arc<dyn Store>, retention: chrono::Duration, clock: Clock) -> Self {
        Self {
            store,
            retention,
            clock,
            swept: AtomicU64::new(0),
        }
    }

    /// Deletes one batch of expired searches. `Ok(false)`: none is left.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let before = self.clock.now() - self.retention;
        let deleted = self.store.forget_searches(before, BATCH).await?;
        let more = deleted >= u64::from(BATCH);
        let swept = self.swept.fetch_add(deleted, Ordering::Relaxed) + deleted;
        if !more && swept > 0 {
            self.swept.store(0, Ordering::Relaxed);
            tracing::info!(
                searches = swept,
                days = self.retention.num_days(),
                "expired search log entries deleted"
            );
        }
        Ok(more)
    }

    /// Sweeps until no search is past its retention.
    pub async fn drain(&self) -> anyhow::Result<()> {
        while self.run_once().await? {}
        Ok(())
    }
}
