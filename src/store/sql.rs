//! The one implementation of [`Store`] over `sqlx::Any`: every query here is written in the
//! SQL common to SQLite and PostgreSQL (`$n` parameters, BIGINT milliseconds, TEXT JSON), so
//! business rules are never copied per engine. What differs lives in `sqlite.rs` and
//! `postgres.rs`.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{
    Absence, ApiClient, Backend, Expert, Firm, FirmCredential, Page, PageRequest, Store,
    StoreError, StoreResult,
};
use crate::domain::expert::ExpertProfile;
use crate::domain::firm::{FirmProfile, NewAbsence};

/// A [`Store`] on either engine.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    pub(super) fn new(pool: AnyPool, backend: Backend) -> Self {
        Self { pool, backend }
    }

    /// The connection pool, for engine-specific work (tests, diagnostics).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Opens a write transaction with the engine's locking statement.
    #[allow(dead_code)] // used by the booking transactions
    pub(super) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let statement = match self.backend {
            Backend::Sqlite => super::sqlite::BEGIN_WRITE,
            Backend::Postgres => super::postgres::BEGIN_WRITE,
        };
        Ok(self.pool.begin_with(statement).await?)
    }
}

/// A new time-ordered id (UUID v7), so id order is creation order.
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn from_ms(ms: i64) -> StoreResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("instant {ms} out of range")))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Fails with `NotFound` when a write touched no row.
fn expect_one(result: &sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Cuts a `limit + 1` fetch into a page and the cursor to continue after.
fn paginate<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Page<T> {
    let limit = limit as usize;
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|item| id(item).to_owned())
    } else {
        None
    };
    Page { items, next_after }
}

fn firm_from_row(row: &AnyRow) -> StoreResult<Firm> {
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

fn expert_from_row(row: &AnyRow) -> StoreResult<Expert> {
    Ok(Expert {
        id: row.try_get("id")?,
        firm_id: row.try_get("firm_id")?,
        profile: from_json(&row.try_get::<String, _>("profile")?)?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

fn absence_from_row(row: &AnyRow) -> StoreResult<Absence> {
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
fn on_constraint(err: sqlx::Error) -> StoreError {
    if let Some(db) = err.as_database_error() {
        if db.is_unique_violation() {
            return StoreError::Conflict {
                constraint: "unique",
            };
        }
        if db.is_foreign_key_violation() {
            return StoreError::NotFound;
        }
    }
    StoreError::Database(err)
}

const EXPERT_COLUMNS: &str = "id, firm_id, profile, created_at, updated_at";
const ABSENCE_COLUMNS: &str = "id, expert_id, start_at, end_at, reason, created_at";

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn server_secret(&self, name: &str, candidate: &str) -> StoreResult<String> {
        // Insert-if-absent then read: whichever instance wins, all read the same value.
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn create_firm(&self, profile: &FirmProfile) -> StoreResult<Firm> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO firms (id, name, siret, time_zone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(profile.name.as_str())
        .bind(profile.siret.as_str())
        .bind(profile.time_zone.to_string())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        self.firm(&id).await
    }

    async fn firm(&self, firm_id: &str) -> StoreResult<Firm> {
        let row = sqlx::query(
            "SELECT id, name, siret, time_zone, created_at, updated_at FROM firms WHERE id = $1",
        )
        .bind(firm_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        firm_from_row(&row)
    }

    async fn firm_by_siret(&self, siret: &str) -> StoreResult<Option<Firm>> {
        let row = sqlx::query(
            "SELECT id, name, siret, time_zone, created_at, updated_at FROM firms
             WHERE siret = $1 ORDER BY id LIMIT 1",
        )
        .bind(siret)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(firm_from_row).transpose()
    }

    async fn update_firm(&self, firm_id: &str, profile: &FirmProfile) -> StoreResult<Firm> {
        let result = sqlx::query(
            "UPDATE firms SET name = $2, siret = $3, time_zone = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(firm_id)
        .bind(profile.name.as_str())
        .bind(profile.siret.as_str())
        .bind(profile.time_zone.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        expect_one(&result)?;
        self.firm(firm_id).await
    }

    async fn add_firm_credential(&self, cred: &FirmCredential) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO firm_credentials (client_id, firm_id, secret_hash, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&cred.client_id)
        .bind(&cred.firm_id)
        .bind(&cred.secret_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn firm_credential(&self, client_id: &str) -> StoreResult<Option<FirmCredential>> {
        let row = sqlx::query(
            "SELECT client_id, firm_id, secret_hash FROM firm_credentials WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(FirmCredential {
                client_id: row.try_get(0)?,
                firm_id: row.try_get(1)?,
                secret_hash: row.try_get(2)?,
            })
        })
        .transpose()
    }

    async fn create_api_client(&self, client: &ApiClient) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_clients (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(client.key_hash.clone())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn api_client(&self, id: &str) -> StoreResult<Option<ApiClient>> {
        let row = sqlx::query("SELECT id, name, key_hash FROM api_clients WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(ApiClient {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                key_hash: row.try_get(2)?,
            })
        })
        .transpose()
    }

    async fn create_expert(&self, firm_id: &str, profile: &ExpertProfile) -> StoreResult<Expert> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO experts (id, firm_id, active, partner_kind, profile, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(firm_id)
        .bind(i64::from(profile.active))
        .bind(profile.partner_kind.as_str())
        .bind(to_json(profile)?)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        self.expert(firm_id, &id).await
    }

    async fn expert(&self, firm_id: &str, expert_id: &str) -> StoreResult<Expert> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EXPERT_COLUMNS} FROM experts WHERE firm_id = $1 AND id = $2"
        )))
        .bind(firm_id)
        .bind(expert_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        expert_from_row(&row)
    }

    async fn list_experts(&self, firm_id: &str, page: &PageRequest) -> StoreResult<Page<Expert>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EXPERT_COLUMNS} FROM experts WHERE firm_id = $1 AND id > $2
             ORDER BY id LIMIT $3"
        )))
        .bind(firm_id)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(expert_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |e| &e.id))
    }

    async fn replace_expert(
        &self,
        firm_id: &str,
        expert_id: &str,
        profile: &ExpertProfile,
    ) -> StoreResult<Expert> {
        let result = sqlx::query(
            "UPDATE experts SET active = $3, partner_kind = $4, profile = $5, updated_at = $6
             WHERE firm_id = $1 AND id = $2",
        )
        .bind(firm_id)
        .bind(expert_id)
        .bind(i64::from(profile.active))
        .bind(profile.partner_kind.as_str())
        .bind(to_json(profile)?)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        expect_one(&result)?;
        self.expert(firm_id, expert_id).await
    }

    async fn deactivate_expert(&self, firm_id: &str, expert_id: &str) -> StoreResult<()> {
        let mut expert = self.expert(firm_id, expert_id).await?;
        if !expert.profile.active {
            return Ok(());
        }
        expert.profile.active = false;
        self.replace_expert(firm_id, expert_id, &expert.profile)
            .await?;
        Ok(())
    }

    async fn create_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence: &NewAbsence,
    ) -> StoreResult<Absence> {
        // The expert must be the firm's: checked in the same statement as the insert.
        let id = new_id();
        let result = sqlx::query(
            "INSERT INTO absences (id, firm_id, expert_id, start_at, end_at, reason, created_at)
             SELECT $1, firm_id, id, $4, $5, $6, $7 FROM experts WHERE firm_id = $2 AND id = $3",
        )
        .bind(&id)
        .bind(firm_id)
        .bind(expert_id)
        .bind(absence.start.timestamp_millis())
        .bind(absence.end.timestamp_millis())
        .bind(absence.reason.clone())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        expect_one(&result)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ABSENCE_COLUMNS} FROM absences WHERE id = $1"
        )))
        .bind(&id)
        .fetch_one(&self.pool)
        .await?;
        absence_from_row(&row)
    }

    async fn list_absences(
        &self,
        firm_id: &str,
        expert_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Absence>> {
        // Listing a foreign or unknown expert is NotFound, not an empty page.
        self.expert(firm_id, expert_id).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ABSENCE_COLUMNS} FROM absences
             WHERE firm_id = $1 AND expert_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        )))
        .bind(firm_id)
        .bind(expert_id)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(absence_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(items, page.limit, |a| &a.id))
    }

    async fn delete_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence_id: &str,
    ) -> StoreResult<()> {
        let result =
            sqlx::query("DELETE FROM absences WHERE firm_id = $1 AND expert_id = $2 AND id = $3")
                .bind(firm_id)
                .bind(expert_id)
                .bind(absence_id)
                .execute(&self.pool)
                .await?;
        expect_one(&result)
    }
}
