//! The firms' event feed. Like the Claims IA log (see `events.rs`), ids must become
//! visible in id order for a reader paging by `id > cursor`: on PostgreSQL a transaction
//! recording one takes the same transaction-scoped advisory lock first.

use sqlx::Row;

use super::{SqlStore, from_json, from_ms};
use crate::store::{FirmEvent, FirmEvents, StoreResult};

/// What a firm event is about.
#[derive(Debug, Clone, Copy)]
pub(super) enum Subject<'a> {
    /// An appointment of the firm.
    Appointment(&'a str),
    /// An import of the firm.
    Import(&'a str),
}

/// Appends an event to the firm's feed in the caller's transaction.
pub(super) async fn record_firm_event(
    store: &SqlStore,
    tx: &mut sqlx::AnyConnection,
    firm_id: &str,
    kind: &str,
    subject: Subject<'_>,
    data: &serde_json::Value,
) -> StoreResult<()> {
    if let Some(lock) = store.backend.dialect().event_order_lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    let (appointment, import) = match subject {
        Subject::Appointment(id) => (Some(id), None),
        Subject::Import(id) => (None, Some(id)),
    };
    sqlx::query(
        "INSERT INTO firm_events (firm_id, type, appointment_id, import_id, data, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(firm_id)
    .bind(kind)
    .bind(appointment)
    .bind(import)
    .bind(data.to_string())
    .bind(store.now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Appends an event about an appointment to its firm's feed, in the caller's transaction.
pub(super) async fn record_for_appointment(
    store: &SqlStore,
    tx: &mut sqlx::AnyConnection,
    appointment_id: &str,
    kind: &str,
    data: &serde_json::Value,
) -> StoreResult<()> {
    let firm_id: String = sqlx::query_scalar("SELECT firm_id FROM appointments WHERE id = $1")
        .bind(appointment_id)
        .fetch_one(&mut *tx)
        .await?;
    record_firm_event(
        store,
        tx,
        &firm_id,
        kind,
        Subject::Appointment(appointment_id),
        data,
    )
    .await
}

#[async_trait::async_trait]
impl FirmEvents for SqlStore {
    async fn firm_events(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<FirmEvent>> {
        let rows = sqlx::query(
            "SELECT id, type, appointment_id, import_id, data, occurred_at FROM firm_events
             WHERE firm_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(firm_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FirmEvent {
                    id: row.try_get("id")?,
                    kind: row.try_get("type")?,
                    appointment_id: row.try_get("appointment_id")?,
                    import_id: row.try_get("import_id")?,
                    data: from_json(&row.try_get::<String, _>("data")?)?,
                    occurred_at: from_ms(row.try_get("occurred_at")?)?,
                })
            })
            .collect()
    }
}
