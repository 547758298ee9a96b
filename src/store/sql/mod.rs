//! The one implementation of the store traits over `sqlx::Any`: every query here is written
//! in the SQL common to SQLite and PostgreSQL (`$n` parameters, BIGINT milliseconds, TEXT
//! JSON), so business rules are never copied per engine. What differs lives in `sqlite.rs`
//! and `postgres.rs` and is reached through [`SqlStore::backend`].

mod absences;
mod attachments;
mod batch;
mod booking;
mod bookings;
mod catalog;
mod changes;
mod documents;
mod events;
mod firm_events;
mod gates;
pub use events::StoredEvent as Event;
mod idempotency;
mod imports;
mod lifecycle;
mod monitoring;
mod rows;
mod search_log;
mod settlements;
mod spans;
mod webhooks;

use chrono::{DateTime, TimeZone as _, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{
    Absence, Backend, Constraint, Expert, Firm, Page, StoreError, StoreOptions, StoreResult,
};
use crate::domain::firm::FirmProfile;

/// A [`Store`] on either engine.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// Where write transactions run: the same pool on PostgreSQL, a one-connection pool on
    /// SQLite (see `sqlite::open`).
    writer: AnyPool,
    backend: Backend,
    /// This instance's bookings, queued per expert before they take a connection.
    booking_gates: std::sync::Arc<gates::Gates>,
    /// Groups concurrent bookings into shared transactions; `None` books each alone.
    batcher: Option<std::sync::Arc<batch::Batcher>>,
    /// Where to listen for announcements of calendar changes (PostgreSQL).
    postgres_url: Option<String>,
    clock: crate::clock::Clock,
}

impl SqlStore {
    /// A store over these pools; starts its booking group writer (so it needs a Tokio
    /// runtime) unless `options` say each booking goes alone.
    pub(in crate::store) fn new(
        pool: AnyPool,
        writer: AnyPool,
        backend: Backend,
        options: &StoreOptions,
    ) -> Self {
        // SQLite has one writer: two group transactions would only queue for it.
        let concurrent = if backend.dialect().one_writer {
            1
        } else {
            options.booking_groups
        };
        let batcher = (options.booking_batch > 1).then(|| {
            std::sync::Arc::new(batch::Batcher::start(
                writer.clone(),
                backend,
                options.booking_batch,
                concurrent,
                options.clock.clone(),
            ))
        });
        Self {
            pool,
            writer,
            backend,
            booking_gates: std::sync::Arc::default(),
            batcher,
            postgres_url: None,
            clock: options.clock.clone(),
        }
    }

    /// The same store, listening for calendar announcements on the PostgreSQL server of
    /// `url` (see [`crate::store::Changes`]).
    pub(in crate::store) fn announced_on(self, url: &str) -> Self {
        Self {
            postgres_url: Some(url.to_owned()),
            ..self
        }
    }

    /// The connection pool, for engine-specific work (tests, diagnostics).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Opens a write transaction with the engine's locking statement.
    pub(super) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let begin = self.backend.dialect().begin_write;
        Ok(self.writer.begin_with(begin).await?)
    }
}

/// A new time-ordered id (UUID v7), so id order is creation order.
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl SqlStore {
    /// The current instant in milliseconds, by the store's clock.
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

pub(super) fn from_ms(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("instant {ms} out of range")))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Fails with `NotFound` when a write touched no row.
pub(super) fn expect_one(result: &sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Cuts a `limit + 1` fetch into a page and the cursor to continue after.
pub(super) fn paginate<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Page<T> {
    let limit = limit as usize;
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|item| id(item).to_owned())
    } else {
        None
    };
    Page { items, next_after }
}

pub(super) fn firm_from_row(row: &AnyRow) -> StoreResult<Firm> {
    let profile = FirmProfile::from_stored(
        row.try_get("name")?,
        &row.try_get::<String, _>("siret")?,
        &row.try_get::<String, _>("time_zone")?,
    )
    .map_err(StoreError::Corrupt)?;
    Ok(Firm {
        id: row.try_get("id")?,
        profile,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

pub(super) fn expert_from_row(row: &AnyRow) -> StoreResult<Expert> {
    Ok(Expert {
        id: row.try_get("id")?,
        firm_id: row.try_get("firm_id")?,
        profile: from_json(&row.try_get::<String, _>("profile")?)?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

pub(super) fn absence_from_row(row: &AnyRow) -> StoreResult<Absence> {
    Ok(Absence {
        id: row.try_get("id")?,
        expert_id: row.try_get("expert_id")?,
        start: from_ms(row.try_get("start_at")?)?,
        end: from_ms(row.try_get("end_at")?)?,
        reason: row.try_get("reason")?,
        created_at: from_ms(row.try_get("created_at")?)?,
    })
}

/// Maps integrity violations to domain errors, in one place for every query.
pub(super) fn on_constraint(err: sqlx::Error) -> StoreError {
    if let Some(db) = err.as_database_error() {
        // PostgreSQL: exclusion violation 23P01; SQLite: the trigger's RAISE message.
        if db.code().as_deref() == Some("23P01") || db.message().contains("appointments_no_overlap")
        {
            return StoreError::Conflict {
                constraint: Constraint::NoOverlap,
            };
        }
        if db.is_unique_violation()
            && (db.constraint() == Some("experts_external_ref")
                || db.message().contains("experts.external_ref"))
        {
            return StoreError::Conflict {
                constraint: Constraint::ExternalRef,
            };
        }
        if db.is_unique_violation() {
            let on_ref = db.constraint() == Some("appointments_one_confirmed_per_ref")
                || db.message().contains("appointments.claims_ia_ref");
            return StoreError::Conflict {
                constraint: if on_ref {
                    Constraint::OneConfirmedPerRef
                } else {
                    Constraint::Unique
                },
            };
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound;
        }
    }
    StoreError::Database(err)
}

impl SqlStore {
    /// One keyset page, in id order, of `select` (a `SELECT … WHERE …` whose filter binds
    /// `filter` as `$1…$n`); fetches one row more than the page to know if another follows.
    pub(super) async fn id_page<T>(
        &self,
        select: &str,
        filter: &[&str],
        page: &crate::store::PageRequest,
        from_row: fn(&AnyRow) -> StoreResult<T>,
        id: fn(&T) -> &str,
    ) -> StoreResult<Page<T>> {
        let n = filter.len();
        let sql = format!("{select} AND id > ${} ORDER BY id LIMIT ${}", n + 1, n + 2);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in filter {
            query = query.bind(*value);
        }
        let rows = query
            .bind(page.after.as_deref().unwrap_or(""))
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, id))
    }
}

/// Claims, for `worker` until `lease_until`, the row of a job table (`attachments`,
/// `webhook_deliveries`, `imports`) still to do (`pending`, an SQL condition) that is due
/// first and whose lease is free or lapsed, counting the attempt; returns the `returning`
/// columns of the claimed row. PostgreSQL skips rows other instances are claiming (`SKIP
/// LOCKED`); SQLite has one writer.
pub(super) async fn claim_due(
    store: &SqlStore,
    conn: &mut sqlx::AnyConnection,
    (table, pending): (&str, &str),
    returning: &str,
    worker: &str,
    lease_until: DateTime<Utc>,
) -> StoreResult<Option<AnyRow>> {
    let skip_locked = store.backend.dialect().skip_locked;
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
         WHERE id = (SELECT id FROM {table}
                     WHERE {pending} AND next_attempt_at <= $3
                       AND (lease_until IS NULL OR lease_until < $3)
                     ORDER BY next_attempt_at, id LIMIT 1 {skip_locked})
         RETURNING {returning}"
    )))
    .bind(worker)
    .bind(lease_until.timestamp_millis())
    .bind(store.now_ms())
    .fetch_optional(conn)
    .await?)
}

/// Marks the expert catalogue changed, in the caller's transaction.
pub(super) async fn bump_catalog(conn: &mut sqlx::AnyConnection) -> StoreResult<()> {
    sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}
