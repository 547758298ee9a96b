//! The document fetcher: downloads the attachment URLs of dossiers into the blob store.

use std::sync::Arc;

use super::{RetryPolicy, worker_id};
use crate::clock::Clock;
use crate::fetch::{BlobStore, FetchOutcome, Fetcher};
use crate::metrics::{Failure, JobMetrics};
use crate::store::{BlobInfo, FetchSettlement, JobQueue, Refusal, Store};

/// Downloads queued attachments, one at a time.
pub struct FetchWorker {
    store: Arc<dyn Store>,
    fetcher: Fetcher,
    blobs: Arc<dyn BlobStore>,
    retry: RetryPolicy,
    metrics: JobMetrics,
    id: String,
    clock: Clock,
}

impl FetchWorker {
    /// A worker with its own lease id.
    pub fn new(
        store: Arc<dyn Store>,
        fetcher: Fetcher,
        blobs: Arc<dyn BlobStore>,
        retry: RetryPolicy,
        metrics: JobMetrics,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            fetcher,
            blobs,
            retry,
            metrics,
            id: worker_id("fetch"),
            clock,
        }
    }

    /// Downloads one due attachment, if any. `Ok(false)`: nothing was due.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let lease = self.clock.now() + self.retry.lease;
        let Some(job) = self.store.claim_fetch(&self.id, lease).await? else {
            return Ok(false);
        };
        tracing::info!(
            attachment_id = job.attachment_id,
            url = job.url,
            attempt = job.attempts,
            "fetching attachment"
        );
        let outcome = self.fetcher.fetch(&job.url, self.blobs.as_ref()).await;
        let settlement = match outcome {
            FetchOutcome::Stored(blob) => {
                tracing::info!(attachment_id = job.attachment_id, sha256 = %blob.key, size = blob.size, content_type = blob.content_type, "attachment stored");
                FetchSettlement::Stored(BlobInfo {
                    sha256: blob.key.to_string(),
                    size: i64::try_from(blob.size)?,
                    content_type: blob.content_type.to_owned(),
                })
            }
            FetchOutcome::Rejected(rejection) => {
                tracing::warn!(
                    attachment_id = job.attachment_id,
                    url = job.url,
                    reason = rejection.reason.code(),
                    detail = rejection.detail,
                    "attachment rejected"
                );
                FetchSettlement::Rejected(Refusal {
                    reason: rejection.reason.code().to_owned(),
                    detail: rejection.detail,
                })
            }
            FetchOutcome::Failed(failure)
                if failure.retryable && job.attempts < i64::from(self.retry.max_attempts) =>
            {
                let at = self.clock.now() + self.retry.backoff(job.attempts);
                tracing::warn!(attachment_id = job.attachment_id, url = job.url, detail = failure.detail, attempt = job.attempts, retry_at = %at, "attachment download failed, will retry");
                self.metrics.failed(JobQueue::Downloads, Failure::WillRetry);
                FetchSettlement::Retry {
                    at,
                    detail: failure.detail,
                }
            }
            FetchOutcome::Failed(failure) => {
                tracing::error!(
                    attachment_id = job.attachment_id,
                    url = job.url,
                    detail = failure.detail,
                    attempts = job.attempts,
                    "attachment download failed for good"
                );
                self.metrics.failed(JobQueue::Downloads, Failure::GivenUp);
                FetchSettlement::Failed {
                    reason: "download-failed".to_owned(),
                    detail: failure.detail,
                }
            }
        };
        if !self.store.settle_fetch(&job, &self.id, &settlement).await? {
            tracing::warn!(
                attachment_id = job.attachment_id,
                "attachment changed while fetching; result dropped"
            );
        }
        Ok(true)
    }

    /// Downloads every due attachment; returns how many attempts were made.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        while self.run_once().await? {
            n += 1;
        }
        Ok(n)
    }
}
