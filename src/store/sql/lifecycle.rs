//! Changes after booking: cancel, complete, edit details, reschedule. Each reads the row,
//! changes it in Rust, and writes it back only if its version did not move meanwhile.

use chrono::Duration;
use sqlx::AssertSqlSafe;

use super::events::record_event;
use super::firm_events::{Subject, record_firm_event, record_for_appointment};
use super::rows::{APPOINTMENT_COLUMNS, SCHEDULE_MARGIN_DAYS, appointment_from_row};
use super::{SqlStore, on_constraint, to_json};
use crate::domain::appointment::{Actor, AppointmentStatus, Cancellation};
use crate::store::{
    Appointment, BookError, Constraint, DetailsEdit, Move, Owner, Recheck, StoreError, StoreResult,
};
use crate::wire::diff::{appointment_json, diff};

fn conflict(constraint: Constraint) -> StoreError {
    StoreError::Conflict { constraint }
}

/// The appointment `id` if `owner` may act on it.
pub(super) async fn load(
    conn: &mut sqlx::AnyConnection,
    owner: Owner<'_>,
    id: &str,
) -> StoreResult<Appointment> {
    let (column, value) = match owner {
        Owner::Client(client) => ("client_id", client),
        Owner::Firm(firm) => ("firm_id", firm),
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE {column} = $1 AND id = $2"
    )))
    .bind(value)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    appointment_from_row(&row)
}

/// Writes `a` over the row whose version is still `a.version - 1`.
async fn write(conn: &mut sqlx::AnyConnection, a: &Appointment) -> StoreResult<()> {
    let geo = a.place.as_ref().and_then(|p| p.geo);
    let result = sqlx::query(
        "UPDATE appointments SET status = $3, version = $4, expert_id = $5, firm_id = $6,
            start_at = $7, end_at = $8, mode = $9, expertise_type = $10, place = $11,
            lat = CAST($12 AS DOUBLE PRECISION), lon = CAST($13 AS DOUBLE PRECISION), claim_ref = $14, contact = $15, comment = $16, cancellation = $17,
            updated_at = $18
         WHERE id = $1 AND version = $2",
    )
    .bind(&a.id)
    .bind(a.version - 1)
    .bind(a.status.as_str())
    .bind(a.version)
    .bind(&a.expert_id)
    .bind(&a.firm_id)
    .bind(a.start.timestamp_millis())
    .bind(a.end.timestamp_millis())
    .bind(a.mode.as_str())
    .bind(a.expertise_type.as_str())
    .bind(a.place.as_ref().map(to_json).transpose()?)
    // As text, for the reason given in `bookings.rs` (NULL f64 binds as FLOAT4).
    .bind(geo.map(|g| g.lat().to_string()))
    .bind(geo.map(|g| g.lon().to_string()))
    .bind(a.claim_ref.clone())
    .bind(a.contact.as_ref().map(to_json).transpose()?)
    .bind(a.comment.clone())
    .bind(a.cancellation.as_ref().map(to_json).transpose()?)
    .bind(a.updated_at.timestamp_millis())
    .execute(&mut *conn)
    .await
    .map_err(on_constraint)?;
    if result.rows_affected() == 0 {
        return Err(conflict(Constraint::Version));
    }
    Ok(())
}

/// Bumps the version and the change time.
fn touch(a: &mut Appointment, now_ms: i64) {
    a.version += 1;
    a.updated_at = super::from_ms(now_ms).unwrap_or(a.updated_at);
}

/// See [`crate::store::Bookings::cancel_appointment`].
pub(super) async fn cancel(
    store: &SqlStore,
    owner: Owner<'_>,
    id: &str,
    cancellation: &Cancellation,
) -> StoreResult<Appointment> {
    let mut tx = store.begin_write().await?;
    let mut a = load(&mut tx, owner, id).await?;
    match a.status {
        AppointmentStatus::Cancelled => return Ok(a),
        AppointmentStatus::Completed => return Err(conflict(Constraint::Completed)),
        AppointmentStatus::Confirmed => {}
    }
    let before = appointment_json(&a);
    a.status = AppointmentStatus::Cancelled;
    a.cancellation = Some(cancellation.clone());
    touch(&mut a, store.now_ms());
    write(&mut tx, &a).await?;
    let data = serde_json::json!({ "reason": cancellation.reason, "by": cancellation.by });
    if cancellation.by == Actor::Firm {
        record_event(store, &mut tx, "appointment.cancelled", &a.id, &data).await?;
    } else {
        let changes = diff("", &before, &appointment_json(&a));
        let kind = "appointment.cancelled";
        record_for_appointment(store, &mut tx, &a.id, kind, &data, &changes).await?;
    }
    tx.commit().await?;
    Ok(a)
}

/// See [`crate::store::Bookings::complete_appointment`].
pub(super) async fn complete(
    store: &SqlStore,
    firm_id: &str,
    id: &str,
) -> StoreResult<Appointment> {
    let mut tx = store.begin_write().await?;
    let mut a = load(&mut tx, Owner::Firm(firm_id), id).await?;
    match a.status {
        AppointmentStatus::Completed => return Ok(a),
        AppointmentStatus::Cancelled => return Err(conflict(Constraint::Cancelled)),
        AppointmentStatus::Confirmed => {}
    }
    a.status = AppointmentStatus::Completed;
    touch(&mut a, store.now_ms());
    write(&mut tx, &a).await?;
    record_event(
        store,
        &mut tx,
        "appointment.completed",
        &a.id,
        &serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// See [`crate::store::Bookings::update_details`].
pub(super) async fn update_details(
    store: &SqlStore,
    client_id: &str,
    id: &str,
    if_version: Option<i64>,
    edit: &DetailsEdit,
) -> StoreResult<Appointment> {
    let mut tx = store.begin_write().await?;
    let mut a = load(&mut tx, Owner::Client(client_id), id).await?;
    if if_version.is_some_and(|v| v != a.version) {
        return Err(conflict(Constraint::Version));
    }
    let before = appointment_json(&a);
    edit(&mut a);
    touch(&mut a, store.now_ms());
    write(&mut tx, &a).await?;
    let data = serde_json::json!({ "version": a.version });
    let changes = diff("", &before, &appointment_json(&a));
    record_for_appointment(
        store,
        &mut tx,
        &a.id,
        "appointment.updated",
        &data,
        &changes,
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// See [`crate::store::Bookings::reschedule`].
pub(super) async fn reschedule(
    store: &SqlStore,
    owner: Owner<'_>,
    id: &str,
    to: &Move,
    recheck: &Recheck,
) -> Result<Appointment, BookError> {
    let mut tx = store.begin_write().await?;
    sqlx::query(store.lock_expert_sql())
        .bind(&to.expert_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let mut a = load(&mut tx, owner, id).await?;
    if a.status != AppointmentStatus::Confirmed {
        return Err(conflict(Constraint::NotConfirmed).into());
    }
    let before = (a.expert_id.clone(), a.start, a.end);
    let firm_before = a.firm_id.clone();
    let json_before = appointment_json(&a);
    let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
    let schedule = store
        .schedule_in(
            &mut tx,
            false,
            &to.firm_id,
            &to.expert_id,
            to.start - margin,
            to.end + margin,
        )
        .await?
        .map(|mut schedule| {
            // The appointment being moved does not block its own new time.
            schedule.appointments.retain(|busy| busy.id != a.id);
            schedule
        });
    if !schedule.as_ref().is_some_and(recheck) {
        return Err(BookError::SlotUnavailable);
    }
    a.expert_id.clone_from(&to.expert_id);
    a.firm_id.clone_from(&to.firm_id);
    a.start = to.start;
    a.end = to.end;
    a.mode = to.mode;
    a.expertise_type = to.expertise_type;
    a.place.clone_from(&to.place);
    touch(&mut a, store.now_ms());
    match write(&mut tx, &a).await {
        Err(StoreError::Conflict {
            constraint: Constraint::NoOverlap,
        }) => {
            return Err(BookError::SlotUnavailable);
        }
        other => other?,
    }
    let data = serde_json::json!({
        "expertId": a.expert_id, "start": a.start, "end": a.end, "version": a.version,
        "previous": { "expertId": before.0, "start": before.1, "end": before.2 },
    });
    if let Owner::Firm(_) = owner {
        record_event(store, &mut tx, "appointment.rescheduled", &a.id, &data).await?;
    } else {
        let kind = "appointment.rescheduled";
        let changes = diff("", &json_before, &appointment_json(&a));
        record_for_appointment(store, &mut tx, &a.id, kind, &data, &changes).await?;
        if firm_before != a.firm_id {
            // Moved to another firm's expert: the first firm hears it left.
            let subject = Subject::Appointment(&a.id);
            record_firm_event(store, &mut tx, &firm_before, kind, subject, &data, &changes).await?;
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(a)
}
