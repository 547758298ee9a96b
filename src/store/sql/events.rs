//! The event log Claims IA reads with a cursor.
//!
//! Readers page by `id > cursor`, which is only safe if ids become visible in id order. On
//! PostgreSQL a sequence hands out ids at insert time and transactions commit in any order,
//! so a reader could see id 7 committed before id 6 and skip 6 for ever. Every transaction
//! that records an event therefore first takes one transaction-scoped advisory lock: ids are
//! then allocated and committed one transaction at a time, in order. SQLite has a single
//! writer, so its ids are committed in order already.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{SqlStore, from_json, from_ms};
use crate::store::StoreResult;

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Position in the log (the cursor).
    pub id: i64,
    /// `appointment.cancelled`, `appointment.completed`...
    pub kind: String,
    /// Appointment concerned.
    pub appointment_id: String,
    /// Event details.
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Appends an event in the caller's transaction (which must commit for it to exist).
pub(super) async fn record_event(
    store: &SqlStore,
    tx: &mut sqlx::AnyConnection,
    kind: &str,
    appointment_id: &str,
    data: &serde_json::Value,
) -> StoreResult<()> {
    if let Some(lock) = store.backend.dialect().event_order_lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    let now = store.now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (type, appointment_id, data, occurred_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(kind)
    .bind(appointment_id)
    .bind(data.to_string())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    // The transactional outbox: the delivery exists if and only if the event does.
    sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, client_id, status, attempts, next_attempt_at,
            created_at)
         SELECT $1, w.client_id, 'PENDING', 0, $2, $2
         FROM webhook_endpoints w JOIN appointments a ON a.client_id = w.client_id
         WHERE a.id = $3",
    )
    .bind(id)
    .bind(now)
    .bind(appointment_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Events about a client's appointments after `after`, in log order.
pub(super) async fn list(
    store: &SqlStore,
    client_id: &str,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<StoredEvent>> {
    let rows = sqlx::query(
        "SELECT e.id, e.type, e.appointment_id, e.data, e.occurred_at
         FROM events e JOIN appointments a ON a.id = e.appointment_id
         WHERE a.client_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3",
    )
    .bind(client_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// Reads an event from columns `id, type, appointment_id, data, occurred_at` (in that order).
pub(super) fn event_from_row(row: &sqlx::any::AnyRow) -> StoreResult<StoredEvent> {
    Ok(StoredEvent {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        appointment_id: row.try_get(2)?,
        data: from_json(&row.try_get::<String, _>(3)?)?,
        occurred_at: from_ms(row.try_get(4)?)?,
    })
}
