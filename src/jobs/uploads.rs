//! The sweeper of pre-uploaded files: deletes the uploads no settlement took once they
//! expire, then their blobs when nothing else references them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::fetch::{BlobKey, FsBlobStore};
use crate::store::Store;

/// Uploads deleted per step.
const BATCH: u32 = 100;

/// A blob written this recently is spared: an upload or a download of the same bytes may
/// be about to reference it.
const GRACE: Duration = Duration::from_secs(3600);

/// Deletes expired uploads and their bytes.
pub struct UploadSweeper {
    store: Arc<dyn Store>,
    blobs: Arc<FsBlobStore>,
    clock: Clock,
}

impl UploadSweeper {
    /// A sweeper over `store` and `blobs`.
    pub fn new(store: Arc<dyn Store>, blobs: Arc<FsBlobStore>, clock: Clock) -> Self {
        Self {
            store,
            blobs,
            clock,
        }
    }

    /// Deletes one batch of expired uploads. `Ok(false)`: none was due.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let expired = self.store.expire_uploads(now, BATCH).await?;
        if expired.is_empty() {
            return Ok(false);
        }
        let cutoff = SystemTime::from(now)
            .checked_sub(GRACE)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        for sha256 in &expired {
            let Some(key) = BlobKey::parse(sha256) else {
                continue;
            };
            if !self.store.blob_referenced(sha256).await?
                && self.blobs.remove_if_older(&key, cutoff).await?
            {
                removed += 1;
            }
        }
        tracing::info!(
            uploads = expired.len(),
            blobs = removed,
            "expired uploads deleted"
        );
        Ok(true)
    }

    /// Sweeps until no upload is due; returns how many batches were deleted.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        while self.run_once().await? {
            n += 1;
        }
        Ok(n)
    }
}
