//! Bookings, calendars and appointment reads; the booking transaction, absences and
//! idempotency keys live in their own modules.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::rows::{APPOINTMENT_COLUMNS, appointment_from_row};
use super::spans::{self, Span};
use super::{SqlStore, absences, booking, events, idempotency, lifecycle, paginate};
use crate::domain::appointment::{AppointmentStatus, Cancellation};
use crate::domain::firm::NewAbsence;
use crate::store::{
    AbsenceOutcome, Appointment, AppointmentFilter, BookError, BookKey, Bookings, Busy,
    DetailsEdit, IdempotencyBegin, IdempotencyRecord, Move, Owner, Page, PageRequest, Recheck,
    StoreError, StoreResult,
};

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
        self.backend.dialect().lock_expert
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
        let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
        let spans: Vec<Span<'_>> = expert_ids.iter().map(|&e| Span { e, f, t }).collect();
        let mut conn = self.pool.acquire().await?;
        let mut read = spans::calendars(&mut conn, self.backend, &spans).await?;
        Ok(expert_ids
            .iter()
            .map(|id| {
                let (absences, busy) = read.remove(*id).unwrap_or_default();
                ((*id).to_owned(), absences, busy)
            })
            .collect())
    }

    async fn book(
        &self,
        a: &Appointment,
        recheck: std::sync::Arc<Recheck>,
        key: Option<BookKey<'_>>,
    ) -> Result<(), BookError> {
        booking::book(self, a, recheck, key).await
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
        // A position this store did not write reads from the start.
        let (after_start, after_id) = page
            .after
            .as_deref()
            .and_then(|c| c.split_once('|'))
            .and_then(|(start, id)| Some((start.parse::<i64>().ok()?, id)))
            .unwrap_or((i64::MIN, ""));
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
