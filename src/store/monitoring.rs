//! What the operator's metrics read of the database: the backlog of the job queues and the
//! use of the connection pools.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Outbox, StoreResult};

/// A queue of background jobs kept in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobQueue {
    /// Documents to download (`PENDING` attachments).
    Downloads,
    /// Webhook deliveries to Claims IA (the protocol clients' outbox).
    ClaimsIaWebhooks,
    /// Webhook deliveries to the firms' endpoints.
    FirmWebhooks,
}

impl JobQueue {
    /// Every queue.
    pub const ALL: [Self; 3] = [Self::Downloads, Self::ClaimsIaWebhooks, Self::FirmWebhooks];

    /// Stable name, as the metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::ClaimsIaWebhooks => "claims-ia-webhooks",
            Self::FirmWebhooks => "firm-webhooks",
        }
    }
}

impl From<Outbox> for JobQueue {
    fn from(outbox: Outbox) -> Self {
        match outbox {
            Outbox::Clients => Self::ClaimsIaWebhooks,
            Outbox::Firms => Self::FirmWebhooks,
        }
    }
}

/// The jobs of one queue still to do, retries waiting for their turn included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueBacklog {
    /// The queue.
    pub queue: JobQueue,
    /// Jobs pending.
    pub pending: u64,
    /// When the oldest pending job was queued; `None` when none is pending.
    pub oldest: Option<DateTime<Utc>>,
}

/// The use of one connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Which pool: `read` and `write` on SQLite (one writer connection), `shared` on
    /// PostgreSQL.
    pub pool: &'static str,
    /// Connections open, in use or idle.
    pub open: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Most connections the pool opens.
    pub max: u32,
}

impl PoolUse {
    /// Connections lent out to a query or a transaction.
    pub fn in_use(&self) -> u32 {
        self.open.saturating_sub(self.idle)
    }
}

/// What the metrics sample of the database when they are scraped.
#[async_trait]
pub trait Monitoring: Send + Sync + 'static {
    /// The backlog of every job queue, in [`JobQueue::ALL`] order, read in one statement.
    async fn job_backlogs(&self) -> StoreResult<Vec<QueueBacklog>>;
    /// The use of the connection pools now (no query).
    fn pool_use(&self) -> Vec<PoolUse>;
}
