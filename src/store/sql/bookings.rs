//! Bookings, absences over booked time, idempotency keys.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{
    SqlStore, absence_from_row, expect_one, expert_from_row, from_json, from_ms, new_id, now_ms,
    on_constraint, paginate, to_json,
};
use crate::domain::appointment::{
    Actor, AppointmentStatus, Cancellation, CancellationReason, Mode,
};
use crate::domain::firm::NewAbsence;
use crate::domain::{ExpertiseType, GeoPoint};
use crate::store::{
    AbsenceOutcome, Appointment, AppointmentFilter, Backend, BookError, Bookings, Busy,
    IdempotencyBegin, IdempotencyRecord, Page, PageRequest, Recheck, Schedule, StoreError,
    StoreResult,
};

const APPOINTMENT_COLUMNS: &str = "id, firm_id, expert_id, client_id, status, version, start_at, \
    end_at, mode, expertise_type, place, claims_ia_ref, claim_ref, contact, comment, \
    cancellation, created_at, updated_at";

/// Bound variables per `IN (...)` list, well under both engines' limits.
const IN_CHUNK: usize = 500;

/// Calendars are read this far around a booking: travel, daily maximum and weekly load
/// look at the surrounding days.
const SCHEDULE_MARGIN_DAYS: i64 = 8;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("bad {what}"))
}

fn opt_json<T: serde::de::DeserializeOwned>(text: Option<&str>) -> StoreResult<Option<T>> {
    text.map(from_json).transpose()
}

fn appointment_from_row(row: &AnyRow) -> StoreResult<Appointment> {
    let status: String = row.try_get("status")?;
    let mode: String = row.try_get("mode")?;
    let expertise: String = row.try_get("expertise_type")?;
    Ok(Appointment {
        id: row.try_get("id")?,
        firm_id: row.try_get("firm_id")?,
        expert_id: row.try_get("expert_id")?,
        client_id: row.try_get("client_id")?,
        status: AppointmentStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        version: row.try_get("version")?,
        start: from_ms(row.try_get("start_at")?)?,
        end: from_ms(row.try_get("end_at")?)?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt("mode"))?,
        expertise_type: expertise
            .parse::<ExpertiseType>()
            .map_err(|_| corrupt("expertise type"))?,
        place: opt_json(row.try_get::<Option<String>, _>("place")?.as_deref())?,
        claims_ia_ref: row.try_get("claims_ia_ref")?,
        claim_ref: row.try_get("claim_ref")?,
        contact: opt_json(row.try_get::<Option<String>, _>("contact")?.as_deref())?,
        comment: row.try_get("comment")?,
        cancellation: opt_json(row.try_get::<Option<String>, _>("cancellation")?.as_deref())?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

fn busy_from_row(row: &AnyRow) -> StoreResult<Busy> {
    let lat: Option<f64> = row.try_get("lat")?;
    let lon: Option<f64> = row.try_get("lon")?;
    let place = match (lat, lon) {
        (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).map_err(|_| corrupt("place"))?),
        _ => None,
    };
    Ok(Busy {
        id: row.try_get("id")?,
        start: from_ms(row.try_get("start_at")?)?,
        end: from_ms(row.try_get("end_at")?)?,
        place,
    })
}

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps the overlap and one-per-claim rules to booking errors.
fn booking_conflict(err: StoreError) -> BookError {
    match err {
        StoreError::Conflict {
            constraint: "appointments_no_overlap",
        } => BookError::SlotUnavailable,
        StoreError::Conflict { .. } => BookError::AppointmentExists(String::new()),
        other => BookError::Store(other),
    }
}

impl SqlStore {
    fn lock_expert_sql(&self) -> &'static str {
        match self.backend {
            // Serialises bookings of one expert; other experts book in parallel.
            Backend::Postgres => "SELECT id FROM experts WHERE id = $1 FOR UPDATE",
            // BEGIN IMMEDIATE already holds the database write lock.
            Backend::Sqlite => "SELECT id FROM experts WHERE id = $1",
        }
    }

    async fn schedule_in(
        tx: &mut sqlx::AnyConnection,
        firm_id: &str,
        expert_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Option<Schedule>> {
        let Some(row) = sqlx::query(
            "SELECT id, firm_id, profile, created_at, updated_at FROM experts
             WHERE id = $1 AND firm_id = $2",
        )
        .bind(expert_id)
        .bind(firm_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let expert = expert_from_row(&row)?;
        let absences = sqlx::query(
            "SELECT id, expert_id, start_at, end_at, reason, created_at FROM absences
             WHERE expert_id = $1 AND end_at > $2 AND start_at < $3 ORDER BY start_at",
        )
        .bind(expert_id)
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(absence_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        let appointments = sqlx::query(
            "SELECT id, start_at, end_at, lat, lon FROM appointments
             WHERE expert_id = $1 AND status = 'CONFIRMED' AND end_at > $2 AND start_at < $3
             ORDER BY start_at",
        )
        .bind(expert_id)
        .bind(from.timestamp_millis())
        .bind(to.timestamp_millis())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(busy_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(Schedule {
            expert,
            absences,
            appointments,
        }))
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
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
        .bind(geo.map(|g| g.lat()))
        .bind(geo.map(|g| g.lon()))
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn record_event(
        tx: &mut sqlx::AnyConnection,
        kind: &str,
        appointment_id: &str,
        data: &serde_json::Value,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO events (type, appointment_id, data, occurred_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(kind)
        .bind(appointment_id)
        .bind(data.to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Bookings for SqlStore {
    async fn schedules(
        &self,
        expert_ids: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Vec<crate::store::Absence>, Vec<Busy>)>> {
        let mut by_id: HashMap<&str, (Vec<_>, Vec<_>)> = expert_ids
            .iter()
            .map(|id| (*id, (Vec::new(), Vec::new())))
            .collect();
        for chunk in expert_ids.chunks(IN_CHUNK) {
            let list = placeholders(3, chunk.len());
            let mut absences = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, expert_id, start_at, end_at, reason, created_at FROM absences
                 WHERE end_at > $1 AND start_at < $2 AND expert_id IN ({list}) ORDER BY start_at"
            )))
            .bind(from.timestamp_millis())
            .bind(to.timestamp_millis());
            let mut busy = sqlx::query(AssertSqlSafe(format!(
                "SELECT id, expert_id, start_at, end_at, lat, lon FROM appointments
                 WHERE status = 'CONFIRMED' AND end_at > $1 AND start_at < $2
                   AND expert_id IN ({list}) ORDER BY start_at"
            )))
            .bind(from.timestamp_millis())
            .bind(to.timestamp_millis());
            for id in chunk {
                absences = absences.bind(*id);
                busy = busy.bind(*id);
            }
            for row in absences.fetch_all(&self.pool).await? {
                let absence = absence_from_row(&row)?;
                if let Some(entry) = by_id.get_mut(absence.expert_id.as_str()) {
                    entry.0.push(absence);
                }
            }
            for row in busy.fetch_all(&self.pool).await? {
                let expert_id: String = row.try_get("expert_id")?;
                if let Some(entry) = by_id.get_mut(expert_id.as_str()) {
                    entry.1.push(busy_from_row(&row)?);
                }
            }
        }
        Ok(expert_ids
            .iter()
            .map(|id| {
                let (absences, busy) = by_id.remove(id).unwrap_or_default();
                ((*id).to_owned(), absences, busy)
            })
            .collect())
    }

    async fn book(
        &self,
        a: &Appointment,
        recheck: &Recheck,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), BookError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(self.lock_expert_sql())
            .bind(&a.expert_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
        let schedule = Self::schedule_in(
            &mut tx,
            &a.firm_id,
            &a.expert_id,
            a.start - margin,
            a.end + margin,
        )
        .await?;
        if !schedule.as_ref().is_some_and(recheck) {
            return Err(BookError::SlotUnavailable);
        }
        if let Some(existing) = Self::confirmed_by_ref(&mut tx, &a.claims_ia_ref).await? {
            return Err(BookError::AppointmentExists(existing));
        }
        if let Err(err) = Self::insert_appointment(&mut tx, a).await {
            return Err(match booking_conflict(err) {
                BookError::AppointmentExists(_) => {
                    let existing = Self::confirmed_by_ref(&mut tx, &a.claims_ia_ref).await?;
                    BookError::AppointmentExists(existing.unwrap_or_default())
                }
                other => other,
            });
        }
        if let Some(record) = idempotency {
            finish_key(&mut tx, record).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn client_appointment(&self, client_id: &str, id: &str) -> StoreResult<Appointment> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE client_id = $1 AND id = $2"
        )))
        .bind(client_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        appointment_from_row(&row)
    }

    async fn client_appointments_by_ref(
        &self,
        client_id: &str,
        claims_ia_ref: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Appointment>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments
             WHERE client_id = $1 AND claims_ia_ref = $2 AND id > $3 ORDER BY id LIMIT $4"
        )))
        .bind(client_id)
        .bind(claims_ia_ref)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(appointment_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |a| &a.id))
    }

    async fn firm_appointment(&self, firm_id: &str, id: &str) -> StoreResult<Appointment> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE firm_id = $1 AND id = $2"
        )))
        .bind(firm_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        appointment_from_row(&row)
    }

    async fn firm_appointments(
        &self,
        firm_id: &str,
        filter: &AppointmentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Appointment>> {
        // Keyset on (start, id): the cursor is "<start ms>|<id>".
        let (after_start, after_id) = match page.after.as_deref().and_then(|c| c.split_once('|')) {
            Some((start, id)) => (start.parse::<i64>().map_err(|_| StoreError::NotFound)?, id),
            None => (i64::MIN, ""),
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments
             WHERE firm_id = $1
               AND ($2 = '' OR expert_id = $2)
               AND start_at >= $3 AND start_at < $4
               AND ($5 = '' OR status = $5)
               AND (start_at > $6 OR (start_at = $6 AND id > $7))
             ORDER BY start_at, id LIMIT $8"
        )))
        .bind(firm_id)
        .bind(filter.expert_id.as_deref().unwrap_or(""))
        .bind(filter.from.map_or(i64::MIN, |t| t.timestamp_millis()))
        .bind(filter.to.map_or(i64::MAX, |t| t.timestamp_millis()))
        .bind(filter.status.map_or("", AppointmentStatus::as_str))
        .bind(after_start)
        .bind(after_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(appointment_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut page = paginate(items, page.limit, |a| &a.id);
        if page.next_after.is_some() {
            page.next_after = page
                .items
                .last()
                .map(|a| format!("{}|{}", a.start.timestamp_millis(), a.id));
        }
        Ok(page)
    }

    async fn create_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence: &NewAbsence,
        force: bool,
    ) -> StoreResult<AbsenceOutcome> {
        let mut tx = self.begin_write().await?;
        sqlx::query(self.lock_expert_sql())
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
        let now = Utc::now();
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
            Self::record_event(&mut tx, "appointment.cancelled", &appointment.id, &data).await?;
            appointment.status = AppointmentStatus::Cancelled;
            appointment.version += 1;
            appointment.cancellation = Some(cancellation);
            appointment.updated_at = now;
            cancelled.push(appointment);
        }
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

    async fn idempotency_begin(
        &self,
        client_id: &str,
        key: &str,
        request_hash: &str,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin> {
        let now = now_ms();
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND created_at < $3",
        )
        .bind(client_id)
        .bind(key)
        .bind(now - ttl_ms)
        .execute(&self.pool)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
             VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (client_id, key) DO NOTHING",
        )
        .bind(client_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyBegin::Started);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, status, response, created_at FROM idempotency_keys
             WHERE client_id = $1 AND key = $2",
        )
        .bind(client_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        else {
            // Deleted between our two statements: the caller may simply retry.
            return Ok(IdempotencyBegin::InFlight);
        };
        let stored_hash: String = row.try_get(0)?;
        let status: Option<i64> = row.try_get(1)?;
        let response: Option<String> = row.try_get(2)?;
        let created_at: i64 = row.try_get(3)?;
        if stored_hash != request_hash {
            return Ok(IdempotencyBegin::Mismatch);
        }
        match (status, response) {
            (Some(status), Some(response)) => Ok(IdempotencyBegin::Done {
                status: u16::try_from(status).map_err(|_| corrupt("idempotency status"))?,
                response,
            }),
            _ if created_at < now - stale_ms => {
                // The request that claimed it died: take it over, once.
                let taken = sqlx::query(
                    "UPDATE idempotency_keys SET created_at = $3
                     WHERE client_id = $1 AND key = $2 AND created_at = $4 AND status IS NULL",
                )
                .bind(client_id)
                .bind(key)
                .bind(now)
                .bind(created_at)
                .execute(&self.pool)
                .await?;
                Ok(if taken.rows_affected() == 1 {
                    IdempotencyBegin::Started
                } else {
                    IdempotencyBegin::InFlight
                })
            }
            _ => Ok(IdempotencyBegin::InFlight),
        }
    }

    async fn idempotency_finish(&self, record: &IdempotencyRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        finish_key(&mut conn, record).await
    }

    async fn idempotency_abandon(&self, client_id: &str, key: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND status IS NULL",
        )
        .bind(client_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

async fn finish_key(conn: &mut sqlx::AnyConnection, record: &IdempotencyRecord) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 WHERE client_id = $1 AND key = $2",
    )
    .bind(&record.client_id)
    .bind(&record.key)
    .bind(i64::from(record.status))
    .bind(&record.response)
    .execute(&mut *conn)
    .await?;
    expect_one(&result)
}
