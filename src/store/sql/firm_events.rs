//! The firms' event feed. A reader pages by `id > cursor`, so ids must become visible in
//! id order. A transaction that causes a firm event writes it to `firm_event_queue`, in any
//! order and without a lock (bookings write many at once); the sequencer moves what has
//! committed there into `firm_events`, one batch at a time under its own lock, with the
//! webhook deliveries of each event. Every read of the feed, of the changes and of the
//! deliveries runs the sequencer first, and so does the firms' webhook sender.

use sqlx::Row;

use super::lifecycle::load;
use super::{SqlStore, from_json, from_ms, to_json};
use crate::store::{
    AppointmentChanges, ChangeItem, ChangedAppointment, Constraint, FirmEvent, FirmEvents, Owner,
    StoreError, StoreResult,
};
use crate::wire::diff::Change;

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
    changes: &[Change],
) -> StoreResult<()> {
    let (appointment, import) = match subject {
        Subject::Appointment(id) => (Some(id), None),
        Subject::Import(id) => (None, Some(id)),
    };
    sqlx::query(
        "INSERT INTO firm_event_queue (firm_id, type, appointment_id, import_id, data, changes,
            occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(firm_id)
    .bind(kind)
    .bind(appointment)
    .bind(import)
    .bind(data.to_string())
    .bind(to_json(&changes)?)
    .bind(store.now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Moves the committed queue into the feed, in queue order, with each event's webhook
/// deliveries; returns how many events it moved. Rows of transactions still open are not
/// seen, and wait for a later run: once in the feed, an event is never overtaken.
pub(super) async fn sequence(store: &SqlStore) -> StoreResult<u64> {
    // Most runs find nothing: a plain read spares them a write transaction.
    let waiting: Option<i64> = sqlx::query_scalar("SELECT id FROM firm_event_queue LIMIT 1")
        .fetch_optional(&store.pool)
        .await?;
    if waiting.is_none() {
        return Ok(0);
    }
    let mut tx = store.begin_write().await?;
    if let Some(lock) = store.backend.dialect().firm_feed_lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    let last_queued: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM firm_event_queue")
        .fetch_one(&mut *tx)
        .await?;
    let Some(last_queued) = last_queued else {
        return Ok(0);
    };
    let last_event: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM firm_events")
        .fetch_one(&mut *tx)
        .await?;
    let moved = sqlx::query(
        "INSERT INTO firm_events (firm_id, type, appointment_id, import_id, data, changes,
            occurred_at)
         SELECT firm_id, type, appointment_id, import_id, data, changes, occurred_at
         FROM firm_event_queue WHERE id <= $1 ORDER BY id",
    )
    .bind(last_queued)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // The firms' outbox: a delivery for each new event of a firm with an endpoint.
    sqlx::query(
        "INSERT INTO firm_webhook_deliveries (firm_event_id, firm_id, status, attempts,
            next_attempt_at, created_at)
         SELECT e.id, e.firm_id, 'PENDING', 0, $2, $2
         FROM firm_events e JOIN firm_webhooks w ON w.firm_id = e.firm_id
         WHERE e.id > $1 ORDER BY e.id",
    )
    .bind(last_event)
    .bind(store.now_ms())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM firm_event_queue WHERE id <= $1")
        .bind(last_queued)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(moved)
}

/// Appends an event about an appointment to its firm's feed, in the caller's transaction.
pub(super) async fn record_for_appointment(
    store: &SqlStore,
    tx: &mut sqlx::AnyConnection,
    appointment_id: &str,
    kind: &str,
    data: &serde_json::Value,
    changes: &[Change],
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
        changes,
    )
    .await
}

/// The change of one document's state, read in the caller's transaction: under
/// `/dossier/attachments/{n}` for a dossier's document, `/attachments/{id}` for an upload.
pub(super) async fn attachment_change(
    tx: &mut sqlx::AnyConnection,
    attachment_id: &str,
    before: serde_json::Value,
) -> StoreResult<Vec<Change>> {
    let row = sqlx::query("SELECT position, status, name, sha256 FROM attachments WHERE id = $1")
        .bind(attachment_id)
        .fetch_one(&mut *tx)
        .await?;
    let pointer = match row.try_get::<Option<i64>, _>("position")? {
        Some(n) => format!("/dossier/attachments/{n}"),
        None => format!("/attachments/{attachment_id}"),
    };
    let after = serde_json::json!({
        "attachmentId": attachment_id,
        "status": row.try_get::<String, _>("status")?,
        "name": row.try_get::<Option<String>, _>("name")?,
        "sha256": row.try_get::<Option<String>, _>("sha256")?,
    });
    Ok(vec![Change {
        pointer,
        before,
        after,
    }])
}

fn firm_event_from_row(row: &sqlx::any::AnyRow) -> StoreResult<FirmEvent> {
    Ok(FirmEvent {
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        appointment_id: row.try_get("appointment_id")?,
        import_id: row.try_get("import_id")?,
        data: from_json(&row.try_get::<String, _>("data")?)?,
        occurred_at: from_ms(row.try_get("occurred_at")?)?,
    })
}

/// One firm event, read in the caller's transaction.
pub(super) async fn firm_event(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<FirmEvent> {
    let row = sqlx::query(
        "SELECT id, type, appointment_id, import_id, data, occurred_at FROM firm_events
         WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    firm_event_from_row(&row)
}

#[async_trait::async_trait]
impl FirmEvents for SqlStore {
    async fn firm_events(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<FirmEvent>> {
        sequence(self).await?;
        let rows = sqlx::query(
            "SELECT id, type, appointment_id, import_id, data, occurred_at FROM firm_events
             WHERE firm_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(firm_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(firm_event_from_row).collect()
    }

    async fn changed_appointments(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangedAppointment>> {
        sequence(self).await?;
        let groups = sqlx::query(
            "SELECT e.appointment_id, MIN(e.id) AS first_id, MAX(e.occurred_at) AS last_at,
                MAX(v.validated_at) AS validated_at
             FROM firm_events e
             LEFT JOIN validations v ON v.appointment_id = e.appointment_id
             WHERE e.firm_id = $1 AND e.appointment_id IS NOT NULL
               AND e.id > COALESCE(v.validated_through, 0)
             GROUP BY e.appointment_id
             HAVING MIN(e.id) > $2
             ORDER BY MIN(e.id) LIMIT $3",
        )
        .bind(firm_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(groups.len());
        for group in &groups {
            let id: String = group.try_get("appointment_id")?;
            let Ok(appointment) = load(&mut conn, Owner::Firm(firm_id), &id).await else {
                // Moved to another firm's expert since: no longer this firm's to read.
                continue;
            };
            let first: i64 = group.try_get("first_id")?;
            let kinds: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT type FROM firm_events WHERE appointment_id = $1 AND id >= $2",
            )
            .bind(&id)
            .bind(first)
            .fetch_all(&mut *conn)
            .await?;
            let mut changes: Vec<String> = kinds
                .iter()
                .map(|k| match k.split('.').next() {
                    Some("dossier") => "dossier",
                    Some("attachment") => "attachments",
                    _ => "appointment",
                })
                .map(str::to_owned)
                .collect();
            changes.sort();
            changes.dedup();
            let validated: Option<i64> = group.try_get("validated_at")?;
            out.push(ChangedAppointment {
                appointment,
                first_event: first,
                last_change_at: from_ms(group.try_get("last_at")?)?,
                last_validated_at: validated.map(from_ms).transpose()?,
                changes,
            });
        }
        Ok(out)
    }

    async fn appointment_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> StoreResult<AppointmentChanges> {
        sequence(self).await?;
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, Owner::Firm(firm_id), appointment_id).await?;
        let validated = validated_through(&mut conn, appointment_id).await?;
        let rows = sqlx::query(
            "SELECT id, type, changes, occurred_at FROM firm_events
             WHERE appointment_id = $1 AND firm_id = $2 AND id > $3 ORDER BY id",
        )
        .bind(appointment_id)
        .bind(firm_id)
        .bind(validated)
        .fetch_all(&mut *conn)
        .await?;
        let mut items = Vec::new();
        let mut through = validated;
        for row in &rows {
            through = row.try_get("id")?;
            let at = from_ms(row.try_get("occurred_at")?)?;
            let kind: String = row.try_get("type")?;
            let changes: Vec<Change> = from_json(&row.try_get::<String, _>("changes")?)?;
            items.extend(changes.into_iter().map(|change| ChangeItem {
                at,
                kind: kind.clone(),
                change,
            }));
        }
        Ok(AppointmentChanges { items, through })
    }

    async fn validate_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
        expected: Option<i64>,
    ) -> StoreResult<()> {
        sequence(self).await?;
        let mut tx = self.begin_write().await?;
        load(&mut tx, Owner::Firm(firm_id), appointment_id).await?;
        let validated = validated_through(&mut tx, appointment_id).await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM firm_events WHERE appointment_id = $1 AND firm_id = $2",
        )
        .bind(appointment_id)
        .bind(firm_id)
        .fetch_one(&mut *tx)
        .await?;
        let through = last.unwrap_or(0).max(validated);
        if expected.is_some_and(|e| e != through) {
            return Err(StoreError::Conflict {
                constraint: Constraint::Version,
            });
        }
        sqlx::query(
            "INSERT INTO validations (appointment_id, firm_id, validated_through, validated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (appointment_id) DO UPDATE
             SET validated_through = excluded.validated_through,
                 validated_at = excluded.validated_at",
        )
        .bind(appointment_id)
        .bind(firm_id)
        .bind(through)
        .bind(self.now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The firm_events position an appointment's changes were validated through (0: never).
async fn validated_through(
    conn: &mut sqlx::AnyConnection,
    appointment_id: &str,
) -> StoreResult<i64> {
    let through: Option<i64> =
        sqlx::query_scalar("SELECT validated_through FROM validations WHERE appointment_id = $1")
            .bind(appointment_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(through.unwrap_or(0))
}
