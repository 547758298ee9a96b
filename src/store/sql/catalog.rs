//! Firms, credentials, API clients, experts and absences.

use async_trait::async_trait;
use sqlx::Row;

use super::{
    SqlStore, absence_from_row, bump_catalog, expect_one, expert_from_row, firm_from_row, new_id,
    on_constraint, to_json,
};
use crate::domain::expert::ExpertProfile;
use crate::domain::firm::FirmProfile;
use crate::domain::text::ExternalRef;
use crate::store::{
    Absence, ApiClient, Backend, Catalog, Expert, Firm, FirmCredential, Page, PageRequest,
    StoreError, StoreResult,
};

pub(super) const EXPERT_COLUMNS: &str = "id, firm_id, profile, created_at, updated_at";
const ABSENCE_COLUMNS: &str = "id, expert_id, start_at, end_at, reason, created_at";

#[async_trait]
impl Catalog for SqlStore {
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
        let now = self.now_ms();
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
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE firms SET name = $2, siret = $3, time_zone = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(firm_id)
        .bind(profile.name.as_str())
        .bind(profile.siret.as_str())
        .bind(profile.time_zone.to_string())
        .bind(self.now_ms())
        .execute(&mut *tx)
        .await?;
        expect_one(&result)?;
        bump_catalog(&mut tx).await?;
        tx.commit().await?;
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
        .bind(self.now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn revoke_firm_credential(&self, client_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM firm_credentials WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_firm_credentials(&self, firm_id: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM firm_credentials WHERE firm_id = $1")
            .bind(firm_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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
        .bind(self.now_ms())
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
        let mut tx = self.begin_write().await?;
        insert_expert(&mut tx, &id, firm_id, profile, self.now_ms()).await?;
        bump_catalog(&mut tx).await?;
        tx.commit().await?;
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

    async fn list_experts(
        &self,
        firm_id: &str,
        external_ref: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Expert>> {
        let select = format!(
            "SELECT {EXPERT_COLUMNS} FROM experts
             WHERE firm_id = $1 AND ($2 = '' OR external_ref = $2)"
        );
        let filter = [firm_id, external_ref.unwrap_or("")];
        self.id_page(&select, &filter, page, expert_from_row, |e| &e.id)
            .await
    }

    async fn replace_expert(
        &self,
        firm_id: &str,
        expert_id: &str,
        profile: &ExpertProfile,
    ) -> StoreResult<Expert> {
        let mut tx = self.begin_write().await?;
        update_expert(&mut tx, firm_id, expert_id, profile, self.now_ms()).await?;
        bump_catalog(&mut tx).await?;
        tx.commit().await?;
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

    async fn set_calendar_feed(
        &self,
        firm_id: &str,
        expert_id: &str,
        token_hash: &[u8],
    ) -> StoreResult<()> {
        self.expert(firm_id, expert_id).await?;
        sqlx::query(
            "INSERT INTO calendar_feeds (expert_id, firm_id, token_hash, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (expert_id) DO UPDATE SET token_hash = $3, created_at = $4",
        )
        .bind(expert_id)
        .bind(firm_id)
        .bind(token_hash.to_vec())
        .bind(self.now_ms())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn revoke_calendar_feed(&self, firm_id: &str, expert_id: &str) -> StoreResult<()> {
        self.expert(firm_id, expert_id).await?;
        sqlx::query("DELETE FROM calendar_feeds WHERE firm_id = $1 AND expert_id = $2")
            .bind(firm_id)
            .bind(expert_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn calendar_feed(&self, token_hash: &[u8]) -> StoreResult<Option<(String, String)>> {
        let row =
            sqlx::query("SELECT firm_id, expert_id FROM calendar_feeds WHERE token_hash = $1")
                .bind(token_hash.to_vec())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
    }

    async fn catalog_version(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn active_experts(&self) -> StoreResult<Vec<(Expert, String)>> {
        let rows = sqlx::query(
            "SELECT e.id, e.firm_id, e.profile, e.created_at, e.updated_at, f.name AS firm_name
             FROM experts e JOIN firms f ON f.id = e.firm_id WHERE e.active = 1 ORDER BY e.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((expert_from_row(row)?, row.try_get("firm_name")?)))
            .collect()
    }

    async fn list_absences(
        &self,
        firm_id: &str,
        expert_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Absence>> {
        // Listing a foreign or unknown expert is NotFound, not an empty page.
        self.expert(firm_id, expert_id).await?;
        let select =
            format!("SELECT {ABSENCE_COLUMNS} FROM absences WHERE firm_id = $1 AND expert_id = $2");
        self.id_page(
            &select,
            &[firm_id, expert_id],
            page,
            absence_from_row,
            |a| &a.id,
        )
        .await
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

/// Writes a new expert in the caller's transaction.
pub(super) async fn insert_expert(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    firm_id: &str,
    profile: &ExpertProfile,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO experts (id, firm_id, active, partner_kind, external_ref, profile,
            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(firm_id)
    .bind(i64::from(profile.active))
    .bind(profile.partner_kind.as_str())
    .bind(profile.external_ref.as_ref().map(ExternalRef::as_str))
    .bind(to_json(profile)?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .map_err(on_constraint)?;
    Ok(())
}

/// Replaces an expert's profile in the caller's transaction.
pub(super) async fn update_expert(
    conn: &mut sqlx::AnyConnection,
    firm_id: &str,
    expert_id: &str,
    profile: &ExpertProfile,
    now_ms: i64,
) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE experts SET active = $3, partner_kind = $4, external_ref = $5, profile = $6,
            updated_at = $7
         WHERE firm_id = $1 AND id = $2",
    )
    .bind(firm_id)
    .bind(expert_id)
    .bind(i64::from(profile.active))
    .bind(profile.partner_kind.as_str())
    .bind(profile.external_ref.as_ref().map(ExternalRef::as_str))
    .bind(to_json(profile)?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .map_err(on_constraint)?;
    expect_one(&result)
}
