//! The job queues' backlog and the pools' use (see [`crate::store::Monitoring`]).

use async_trait::async_trait;
use sqlx::{AnyPool, Row};

use super::{SqlStore, from_ms};
use crate::store::{JobQueue, Monitoring, PoolUse, QueueBacklog, StoreError, StoreResult};

/// Each queue's pending jobs, labelled with [`JobQueue::as_str`]; every table has an index
/// on its pending rows.
const BACKLOGS: &str = "
    SELECT 'downloads' AS queue, COUNT(*) AS pending, MIN(created_at) AS oldest
      FROM attachments WHERE status = 'PENDING'
    UNION ALL
    SELECT 'claims-ia-webhooks', COUNT(*), MIN(created_at)
      FROM webhook_deliveries WHERE status = 'PENDING'
    UNION ALL
    SELECT 'firm-webhooks', COUNT(*), MIN(created_at)
      FROM firm_webhook_deliveries WHERE status = 'PENDING'";

#[async_trait]
impl Monitoring for SqlStore {
    async fn job_backlogs(&self) -> StoreResult<Vec<QueueBacklog>> {
        let rows = sqlx::query(BACKLOGS).fetch_all(&self.pool).await?;
        let mut backlogs = Vec::with_capacity(JobQueue::ALL.len());
        for queue in JobQueue::ALL {
            let row = rows
                .iter()
                .find(|row| {
                    row.try_get::<String, _>("queue")
                        .is_ok_and(|q| q == queue.as_str())
                })
                .ok_or_else(|| StoreError::Corrupt(format!("no backlog of {}", queue.as_str())))?;
            backlogs.push(QueueBacklog {
                queue,
                pending: u64::try_from(row.try_get::<i64, _>("pending")?).unwrap_or(0),
                oldest: row
                    .try_get::<Option<i64>, _>("oldest")?
                    .map(from_ms)
                    .transpose()?,
            });
        }
        Ok(backlogs)
    }

    fn pool_use(&self) -> Vec<PoolUse> {
        if self.backend.dialect().one_writer {
            vec![use_of("read", &self.pool), use_of("write", &self.writer)]
        } else {
            vec![use_of("shared", &self.pool)]
        }
    }
}

fn use_of(name: &'static str, pool: &AnyPool) -> PoolUse {
    PoolUse {
        pool: name,
        open: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}
