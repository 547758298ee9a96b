//! Bookings, calendars and appointment reads; absences and idempotency keys live in their
//! own modules.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::rows::{
    APPOINTMENT_COLUMNS, IN_CHUNK, SCHEDULE_MARGIN_DAYS, appointment_from_row, busy_from_row,
    placeholders,
};
use super::{
    SqlStore, absence_from_row, absences, events, expert_from_row, idempotency, lifecycle,
    on_constraint, paginate, to_json,
};
use crate::domain::appointment::{AppointmentStatus, Cancellation};
use crate::domain::firm::NewAbsence;
use crate::store::{
    AbsenceOutcome, Appointment, AppointmentFilter, Backend, BookError, BookKey, Bookings, Busy,
    DetailsEdit, IdempotencyBegin, IdempotencyRecord, Move, Owner, Page, PageRequest, Recheck,
    Schedule, StoreError, StoreResult,
};

/// Maps the overlap and one-per-claim rules to booking errors.
fn booking_conflict(err: StoreError) -> BookError {
    match err {
        StoreError::Conflict {
            constraint: "appointments_no_overlap",
        } => BookError::SlotUnavailable,
        StoreError::Conflict {
            constraint: "appointments_one_confirmed_per_ref",
        } => BookError::AppointmentExists(String::new()),
        other => BookError::Store(other),
    }
}

impl SqlStore {
    /// One appointment whose `owner_column` (a constant column name) is `owner`.
    async fn appointment_owned_by(
        &self,
        owner_column: &'static str,
        owner: &str,
        id: &str,
    ) -> StoreResult<Appointment> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE {owner_column} = $1 AND id = $2"
        )))
        .bind(owner)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        appointment_from_row(&row)
    }

    pub(super) fn lock_expert_sql(&self) -> &'static str {
        match self.backend {
            // Serialises bookings of one expert; other experts book in parallel.
            Backend::Postgres => "SELECT id FROM experts WHERE id = $1 FOR UPDATE",
            // BEGIN IMMEDIATE already holds the database write lock.
            Backend::Sqlite => "SELECT id FROM experts WHERE id = $1",
        }
    }

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
        const EXPERT: &str = "SELECT id, firm_id, profile, created_at, updated_at FROM experts
             WHERE id = $1 AND firm_id = $2";
        const EXPERT_LOCKED: &str = "SELECT id, firm_id, profile, created_at, updated_at
             FROM experts WHERE id = $1 AND firm_id = $2 FOR UPDATE";
        let expert_sql = match self.backend {
            Backend::Postgres if lock => EXPERT_LOCKED,
            _ => EXPERT,
        };
        let Some(row) = sqlx::query(expert_sql)
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
            if !idempotency::claim_answered(&mut tx, &record, request_hash, expired_before_ms)
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
                     CAST($19 AS DOUBLE PRECISION), CAST($20 AS DOUBLE PRECISION))"
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
        key: Option<BookKey<'_>>,
    ) -> Result<(), BookError> {
        let _queued = self.booking_gates.enter(&a.expert_id).await;
        let mut tx = self.begin_write().await?;
        if let Some(BookKey::Fresh {
            answer,
            request_hash,
            expired_before_ms,
            ..
        }) = key
            && !idempotency::claim_answered(&mut tx, answer, request_hash, expired_before_ms)
                .await?
        {
            return Err(BookError::KeyTaken);
        }
        let margin = Duration::days(SCHEDULE_MARGIN_DAYS);
        let schedule = self
            .schedule_in(
                &mut tx,
                true,
                &a.firm_id,
                &a.expert_id,
                a.start - margin,
                a.end + margin,
            )
            .await?;
        if !schedule.as_ref().is_some_and(recheck) {
            if let Some(BookKey::Fresh { refusal, .. }) = key {
                idempotency::finish_key(&mut tx, &refusal(&BookError::SlotUnavailable)).await?;
                tx.commit().await.map_err(StoreError::from)?;
            }
            return Err(BookError::SlotUnavailable);
        }
        // The one-per-claim index and (on PostgreSQL) the overlap constraint have the last
        // word; a violation aborts the transaction, so its refusal is recorded in another.
        if let Err(err) = Self::insert_appointment(&mut tx, a).await {
            drop(tx);
            return Err(match booking_conflict(err) {
                BookError::Store(err) => BookError::Store(err),
                refused => self.refuse_after_conflict(a, key, refused).await?,
            });
        }
        if let Some(BookKey::Claimed(record)) = key {
            idempotency::finish_key(&mut tx, record).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn client_appointment(&self, client_id: &str, id: &str) -> StoreResult<Appointment> {
        self.appointment_owned_by("client_id", client_id, id).await
    }

    async fn client_appointments_by_ref(
        &self,
        client_id: &str,
        claims_ia_ref: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Appointment>> {
        let select = format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM appointments WHERE client_id = $1 AND claims_ia_ref = $2"
        );
        self.id_page(
            &select,
            &[client_id, claims_ia_ref],
            page,
            appointment_from_row,
            |a| &a.id,
        )
        .await
    }

    async fn firm_appointment(&self, firm_id: &str, id: &str) -> StoreResult<Appointment> {
        self.appointment_owned_by("firm_id", firm_id, id).await
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
        absences::create_absence(self, firm_id, expert_id, absence, force).await
    }

    async fn cancel_appointment(
        &self,
        owner: Owner<'_>,
        id: &str,
        cancellation: &Cancellation,
    ) -> StoreResult<Appointment> {
        lifecycle::cancel(self, owner, id, cancellation).await
    }

    async fn complete_appointment(&self, firm_id: &str, id: &str) -> StoreResult<Appointment> {
        lifecycle::complete(self, firm_id, id).await
    }

    async fn update_details(
        &self,
        client_id: &str,
        id: &str,
        if_version: Option<i64>,
        edit: &DetailsEdit,
    ) -> StoreResult<Appointment> {
        lifecycle::update_details(self, client_id, id, if_version, edit).await
    }

    async fn reschedule(
        &self,
        owner: Owner<'_>,
        id: &str,
        to: &Move,
        recheck: &Recheck,
    ) -> Result<Appointment, BookError> {
        lifecycle::reschedule(self, owner, id, to, recheck).await
    }

    async fn events(
        &self,
        client_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<crate::store::Event>> {
        events::list(self, client_id, after, limit).await
    }

    async fn idempotency_begin(
        &self,
        client_id: &str,
        key: &str,
        request_hash: &str,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin> {
        idempotency::begin(self, client_id, key, request_hash, ttl_ms, stale_ms).await
    }

    async fn idempotency_finish(&self, record: &IdempotencyRecord) -> StoreResult<()> {
        idempotency::finish(&self.writer, record).await
    }

    async fn idempotency_abandon(&self, client_id: &str, key: &str) -> StoreResult<()> {
        idempotency::abandon(&self.writer, client_id, key).await
    }
}
