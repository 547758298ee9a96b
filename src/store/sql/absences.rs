//! Absences recorded over booked time: conflicts, or forced cancellations with events.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::events::record_event;
use super::rows::{APPOINTMENT_COLUMNS, appointment_from_row};
use super::{SqlStore, absence_from_row, new_id, to_json};
use crate::domain::appointment::{Actor, AppointmentStatus, Cancellation, CancellationReason};
use crate::domain::firm::NewAbsence;
use crate::store::{AbsenceOutcome, Appointment, StoreError, StoreResult};

/// See [`crate::store::Bookings::create_absence`].
pub(super) async fn create_absence(
    store: &SqlStore,
    firm_id: &str,
    expert_id: &str,
    absence: &NewAbsence,
    force: bool,
) -> StoreResult<AbsenceOutcome> {
    let mut tx = store.begin_write().await?;
    sqlx::query(store.lock_expert_sql())
        .bind(expert_id)
        .execute(&mut *tx)
        .await?;
    let owned = sqlx::query("SELECT id FROM experts WHERE id = $1 AND firm_id = $2")
        .bind(expert_id)
        .bind(firm_id)
        .fetch_optional(&mut *tx)
        .await?;
    if owned.is_none() {
        return Err(StoreError::NotFound);
    }
    let overlapping = sqlx::query(AssertSqlSafe(format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments
         WHERE expert_id = $1 AND status = 'CONFIRMED' AND end_at > $2 AND start_at < $3
         ORDER BY start_at"
    )))
    .bind(expert_id)
    .bind(absence.start.timestamp_millis())
    .bind(absence.end.timestamp_millis())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(appointment_from_row)
    .collect::<StoreResult<Vec<_>>>()?;
    if !overlapping.is_empty() && !force {
        return Ok(AbsenceOutcome::Conflicts(overlapping));
    }
    let now = store.clock.now();
    let cancelled = cancel_under(store, &mut tx, overlapping, now).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO absences (id, firm_id, expert_id, start_at, end_at, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(firm_id)
    .bind(expert_id)
    .bind(absence.start.timestamp_millis())
    .bind(absence.end.timestamp_millis())
    .bind(absence.reason.clone())
    .bind(now.timestamp_millis())
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "SELECT id, expert_id, start_at, end_at, reason, created_at FROM absences WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *tx)
    .await?;
    let absence = absence_from_row(&row)?;
    tx.commit().await?;
    Ok(AbsenceOutcome::Created { absence, cancelled })
}

/// Cancels the CONFIRMED appointments an absence covers (`EXPERT_UNAVAILABLE`, by the firm),
/// each with its `appointment.cancelled` event, in the absence's transaction.
async fn cancel_under(
    store: &SqlStore,
    tx: &mut sqlx::AnyConnection,
    overlapping: Vec<Appointment>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<Appointment>> {
    let mut cancelled = Vec::with_capacity(overlapping.len());
    for mut appointment in overlapping {
        let cancellation = Cancellation {
            reason: CancellationReason::ExpertUnavailable,
            comment: None,
            by: Actor::Firm,
            at: now,
        };
        sqlx::query(
            "UPDATE appointments SET status = 'CANCELLED', version = version + 1,
             cancellation = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(&appointment.id)
        .bind(to_json(&cancellation)?)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        let data = serde_json::json!({ "reason": cancellation.reason, "by": cancellation.by });
        record_event(
            store,
            &mut *tx,
            "appointment.cancelled",
            &appointment.id,
            &data,
        )
        .await?;
        appointment.status = AppointmentStatus::Cancelled;
        appointment.version += 1;
        appointment.cancellation = Some(cancellation);
        appointment.updated_at = now;
        cancelled.push(appointment);
    }
    Ok(cancelled)
}
