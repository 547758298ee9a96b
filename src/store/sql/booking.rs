//! The booking transaction: the expert's row locked with its profile read, the calendar
//! re-checked, the appointment written, and the answer recorded under the request's
//! Idempotency-Key, all in one — shared by the bookings that arrive together (see
//! [`super::batch`]), or of one booking alone.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::batch::{FreshKey, Job, Verdict};
use super::firm_events::record_for_appointment;
use super::rows::{APPOINTMENT_COLUMNS, SCHEDULE_MARGIN_DAYS};
use super::spans::{self, Span};
use super::{SqlStore, expert_from_row, idempotency, on_constraint, to_json};
use crate::store::{
    Appointment, BookError, BookKey, Constraint, Recheck, Schedule, StoreError, StoreResult,
};

/// Maps the overlap and one-per-claim rules to booking errors.
fn booking_conflict(err: StoreError) -> BookError {
    match err {
        StoreError::Conflict {
            constraint: Constraint::NoOverlap,
        } => BookError::SlotUnavailable,
        StoreError::Conflict {
            constraint: Constraint::OneConfirmedPerRef,
        } => BookError::AppointmentExists(String::new()),
        other => BookError::Store(other),
    }
}

/// See [`crate::store::Bookings::book`]: in a group transaction with the bookings that
/// arrive at the same time (see [`super::batch`]), or alone when the group cannot decide it.
pub(super) async fn book(
    store: &SqlStore,
    a: &Appointment,
    recheck: Arc<Recheck>,
    key: Option<BookKey<'_>>,
) -> Result<(), BookError> {
    let grouped = match (&store.batcher, key) {
        (Some(batcher), None) => Some((batcher, None)),
        (
            Some(batcher),
            Some(BookKey::Fresh {
                answer,
                request_hash,
                expired_before_ms,
                refusal,
            }),
        ) => Some((
            batcher,
            Some(FreshKey {
                answer: answer.clone(),
                request_hash: request_hash.to_owned(),
                expired_before_ms,
                refusal: refusal(&BookError::SlotUnavailable),
            }),
        )),
        // A key claimed beforehand (rare: a retry) goes alone.
        _ => None,
    };
    if let Some((batcher, fresh)) = grouped {
        let job = Job {
            appointment: a.clone(),
            recheck: Arc::clone(&recheck),
            key: fresh,
        };
        match batcher.submit(job).await {
            Verdict::Booked => return Ok(()),
            Verdict::Refused => return Err(BookError::SlotUnavailable),
            Verdict::KeyTaken => return Err(BookError::KeyTaken),
            Verdict::Failed(err) => return Err(BookError::Store(err)),
            Verdict::Alone => {}
        }
    }
    book_alone(store, a, &*recheck, key).await
}

/// One booking in a transaction of its own: the expert's row locked with its profile read,
/// then a fresh key claimed (the order the group transaction takes its locks in, so the
/// two never wait for each other crosswise), the calendar re-checked, the appointment
/// written and the answer recorded.
async fn book_alone(
    store: &SqlStore,
    a: &Appointment,
    recheck: &Recheck,
    key: Option<BookKey<'_>>,
) -> Result<(), BookError> {
    let _queued = store.booking_gates.enter(&a.expert_id).await;
    let mut tx = store.begin_write().await?;
    let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
    let schedule = store
        .schedule_in(
            &mut tx,
            true,
            &a.firm_id,
            &a.expert_id,
            a.start - margin,
            a.end + margin,
        )
        .await?;
    if let Some(BookKey::Fresh {
        answer,
        request_hash,
        expired_before_ms,
        ..
    }) = key
        && !idempotency::claim_answered(
            &mut tx,
            answer,
            request_hash,
            expired_before_ms,
            store.now_ms(),
        )
        .await?
    {
        return Err(BookError::KeyTaken);
    }
    if !schedule.as_ref().is_some_and(recheck) {
        if let Some(BookKey::Fresh { refusal, .. }) = key {
            idempotency::finish_key(&mut tx, &refusal(&BookError::SlotUnavailable)).await?;
            tx.commit().await.map_err(StoreError::from)?;
        }
        return Err(BookError::SlotUnavailable);
    }
    // The one-per-claim index and (on PostgreSQL) the overlap constraint have the last
    // word; a violation aborts the transaction, so its refusal is recorded in another.
    if let Err(err) = SqlStore::insert_appointment(&mut tx, a).await {
        drop(tx);
        return Err(match booking_conflict(err) {
            BookError::Store(err) => BookError::Store(err),
            refused => store.refuse_after_conflict(a, key, refused).await?,
        });
    }
    if let Some(BookKey::Claimed(record)) = key {
        idempotency::finish_key(&mut tx, record).await?;
    }
    let (data, changes) = crate::wire::diff::booked_event(a);
    let kind = "appointment.booked";
    record_for_appointment(store, &mut tx, &a.id, kind, &data, &changes).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

impl SqlStore {
    /// The expert's profile and calendar around `[from, to)`, read in `tx`. With `lock`, the
    /// expert's row is locked by the same read (on PostgreSQL; SQLite's write transaction
    /// already excludes other writers), serialising bookings of this expert.
    pub(super) async fn schedule_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        lock: bool,
        firm_id: &str,
        expert_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Option<Schedule>> {
        let lock = if lock {
            self.backend.dialect().for_update
        } else {
            ""
        };
        let expert_sql = format!(
            "SELECT id, firm_id, profile, created_at, updated_at FROM experts
             WHERE id = $1 AND firm_id = $2 {lock}"
        );
        let Some(row) = sqlx::query(AssertSqlSafe(expert_sql))
            .bind(expert_id)
            .bind(firm_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let expert = expert_from_row(&row)?;
        let span = Span {
            e: expert_id,
            f: from.timestamp_millis(),
            t: to.timestamp_millis(),
        };
        let (absences, appointments) = spans::calendars(tx, self.backend, &[span])
            .await?
            .remove(expert_id)
            .unwrap_or_default();
        Ok(Some(Schedule {
            expert,
            absences,
            appointments,
        }))
    }

    /// The refusal of a booking whose insert broke a constraint (`refused`, with the
    /// appointment already booked for its claim looked up), recorded under a
    /// [`BookKey::Fresh`] key in a transaction of its own; `KeyTaken` if the key was
    /// claimed meanwhile.
    async fn refuse_after_conflict(
        &self,
        a: &Appointment,
        key: Option<BookKey<'_>>,
        refused: BookError,
    ) -> Result<BookError, BookError> {
        let fresh = matches!(key, Some(BookKey::Fresh { .. }));
        if !fresh && matches!(refused, BookError::SlotUnavailable) {
            return Ok(refused);
        }
        let mut tx = self.begin_write().await?;
        let refused = match refused {
            BookError::AppointmentExists(_) => BookError::AppointmentExists(
                Self::confirmed_by_ref(&mut tx, &a.claims_ia_ref)
                    .await?
                    .unwrap_or_default(),
            ),
            other => other,
        };
        if let Some(BookKey::Fresh {
            request_hash,
            expired_before_ms,
            refusal,
            ..
        }) = key
        {
            let record = refusal(&refused);
            if !idempotency::claim_answered(
                &mut tx,
                &record,
                request_hash,
                expired_before_ms,
                self.now_ms(),
            )
            .await?
            {
                return Err(BookError::KeyTaken);
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(refused)
    }

    async fn confirmed_by_ref(
        tx: &mut sqlx::AnyConnection,
        claims_ia_ref: &str,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT id FROM appointments WHERE claims_ia_ref = $1 AND status = 'CONFIRMED'",
        )
        .bind(claims_ia_ref)
        .fetch_optional(&mut *tx)
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn insert_appointment(tx: &mut sqlx::AnyConnection, a: &Appointment) -> StoreResult<()> {
        let geo = a.place.as_ref().and_then(|p| p.geo);
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO appointments ({APPOINTMENT_COLUMNS}, lat, lon)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                     $19, CAST($20 AS DOUBLE PRECISION), CAST($21 AS DOUBLE PRECISION))"
        )))
        .bind(&a.id)
        .bind(&a.firm_id)
        .bind(&a.expert_id)
        .bind(&a.client_id)
        .bind(a.status.as_str())
        .bind(a.version)
        .bind(a.start.timestamp_millis())
        .bind(a.end.timestamp_millis())
        .bind(a.mode.as_str())
        .bind(a.expertise_type.as_str())
        .bind(a.place.as_ref().map(to_json).transpose()?)
        .bind(&a.claims_ia_ref)
        .bind(a.claim_ref.clone())
        .bind(a.contact.as_ref().map(to_json).transpose()?)
        .bind(a.comment.clone())
        .bind(a.cancellation.as_ref().map(to_json).transpose()?)
        .bind(a.created_at.timestamp_millis())
        .bind(a.updated_at.timestamp_millis())
        .bind(a.search_id.clone())
        // As text: sqlx's Any driver binds a NULL f64 as FLOAT4 on PostgreSQL, which then
        // breaks the cached statement for the next non-NULL f64 on that connection.
        .bind(geo.map(|g| g.lat().to_string()))
        .bind(geo.map(|g| g.lon().to_string()))
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }
}
