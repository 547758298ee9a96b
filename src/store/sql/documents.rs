//! Dossiers, attachments and the download queue: the `attachments` table, whose due
//! `PENDING` rows with a free (or lapsed) lease are claimed one at a time (see
//! [`super::claim_due`]). Settling checks the lease is still the worker's, so a worker that
//! lost its lease cannot overwrite the result of the one that took over.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::attachments::{
    ATTACHMENT_COLUMNS, attachment_from_row, refusal_event, settled_columns, settled_event,
};
use super::events::record_event;
use super::firm_events::{attachment_change, record_for_appointment};
use super::lifecycle::load;
use super::rows::corrupt;
use super::{SqlStore, claim_due, from_json, from_ms, new_id, to_json};
use crate::domain::dossier::Dossier;
use crate::store::{
    Attachment, AttachmentStatus, BlobInfo, Constraint, Documents, FetchJob, FetchSettlement,
    MAX_UPLOADS, Owner, Refusal, StoreError, StoreResult, StoredDossier,
};

impl SqlStore {
    /// The dossier of `appointment_id`, read on `conn` (the appointment's owner was checked).
    async fn read_dossier(
        conn: &mut sqlx::AnyConnection,
        appointment_id: &str,
    ) -> StoreResult<StoredDossier> {
        let row =
            sqlx::query("SELECT version, body, updated_at FROM dossiers WHERE appointment_id = $1")
                .bind(appointment_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments
             WHERE appointment_id = $1 AND position IS NOT NULL ORDER BY position"
        )))
        .bind(appointment_id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(StoredDossier {
            appointment_id: appointment_id.to_owned(),
            version: row.try_get("version")?,
            dossier: from_json::<Dossier>(&row.try_get::<String, _>("body")?)?,
            updated_at: from_ms(row.try_get("updated_at")?)?,
            attachments: rows
                .iter()
                .map(attachment_from_row)
                .collect::<StoreResult<_>>()?,
        })
    }

    async fn owned_dossier(&self, owner: Owner<'_>, id: &str) -> StoreResult<StoredDossier> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, owner, id).await?;
        Self::read_dossier(&mut conn, id).await
    }

    /// A new link of a dossier: queued for download, or rejected at once with its event.
    async fn insert_link(
        &self,
        tx: &mut sqlx::AnyConnection,
        appointment_id: &str,
        (url, name, declared): (&str, Option<String>, Option<String>),
        position: i64,
        refusal: Option<Refusal>,
        now: i64,
    ) -> StoreResult<()> {
        let id = new_id();
        let status = if refusal.is_some() {
            AttachmentStatus::Rejected
        } else {
            AttachmentStatus::Pending
        };
        sqlx::query(
            "INSERT INTO attachments (id, appointment_id, url, position, name, declared_type,
                status, reason, detail, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11)",
        )
        .bind(&id)
        .bind(appointment_id)
        .bind(url)
        .bind(position)
        .bind(name)
        .bind(declared)
        .bind(status.as_str())
        .bind(refusal.as_ref().map(|r| r.reason.clone()))
        .bind(refusal.as_ref().map(|r| r.detail.clone()))
        .bind(refusal.is_none().then_some(now))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(refusal) = refusal {
            let data = refusal_event(&id, Some(url), status, &refusal.reason, &refusal.detail);
            record_event(self, tx, "attachment.rejected", appointment_id, &data).await?;
            let changes = attachment_change(tx, &id, serde_json::Value::Null).await?;
            let kind = "attachment.rejected";
            record_for_appointment(self, tx, appointment_id, kind, &data, &changes).await?;
        }
        Ok(())
    }

    /// A direct upload: `STORED` with its blob, or `REJECTED` with its refusal and event.
    async fn insert_upload(
        &self,
        client_id: &str,
        appointment_id: &str,
        (name, declared_type): (Option<&str>, Option<&str>),
        outcome: Result<&BlobInfo, &Refusal>,
    ) -> StoreResult<Attachment> {
        let mut tx = self.begin_write().await?;
        load(&mut tx, Owner::Client(client_id), appointment_id).await?;
        let uploads: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM attachments WHERE appointment_id = $1 AND url IS NULL",
        )
        .bind(appointment_id)
        .fetch_one(&mut *tx)
        .await?;
        if uploads >= MAX_UPLOADS {
            return Err(StoreError::Conflict {
                constraint: Constraint::UploadLimit,
            });
        }
        let id = new_id();
        let now = self.now_ms();
        let (status, blob, refusal) = match outcome {
            Ok(blob) => (AttachmentStatus::Stored, Some(blob), None),
            Err(refusal) => (AttachmentStatus::Rejected, None, Some(refusal)),
        };
        sqlx::query(
            "INSERT INTO attachments (id, appointment_id, name, declared_type, status, reason,
                detail, content_type, size, sha256, attempts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)",
        )
        .bind(&id)
        .bind(appointment_id)
        .bind(name)
        .bind(declared_type)
        .bind(status.as_str())
        .bind(refusal.map(|r| r.reason.as_str()))
        .bind(refusal.map(|r| r.detail.as_str()))
        .bind(blob.map(|b| b.content_type.as_str()))
        .bind(blob.map(|b| b.size))
        .bind(blob.map(|b| b.sha256.as_str()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(refusal) = refusal {
            let data = refusal_event(&id, None, status, &refusal.reason, &refusal.detail);
            record_event(self, &mut tx, "attachment.rejected", appointment_id, &data).await?;
            let changes = attachment_change(&mut tx, &id, serde_json::Value::Null).await?;
            let kind = "attachment.rejected";
            record_for_appointment(self, &mut tx, appointment_id, kind, &data, &changes).await?;
        } else if let Some(blob) = blob {
            // Claims IA's own upload: news for the firm only.
            let data = serde_json::json!({
                "attachmentId": id, "status": status.as_str(), "sha256": blob.sha256,
                "size": blob.size, "contentType": blob.content_type,
            });
            let changes = attachment_change(&mut tx, &id, serde_json::Value::Null).await?;
            let kind = "attachment.stored";
            record_for_appointment(self, &mut tx, appointment_id, kind, &data, &changes).await?;
        }
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1"
        )))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        attachment_from_row(&row)
    }

    /// Matches the dossier's links with the stored attachments of the appointment.
    async fn sync_attachments(
        &self,
        tx: &mut sqlx::AnyConnection,
        appointment_id: &str,
        dossier: &Dossier,
        refusals: &[Option<Refusal>],
        now: i64,
    ) -> StoreResult<()> {
        let known: HashMap<String, (String, String)> = sqlx::query(
            "SELECT id, url, status FROM attachments WHERE appointment_id = $1 AND url IS NOT NULL",
        )
        .bind(appointment_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("url")?,
                (row.try_get("id")?, row.try_get("status")?),
            ))
        })
        .collect::<StoreResult<_>>()?;
        // Everything leaves the dossier first; listed links come back below.
        sqlx::query("UPDATE attachments SET position = NULL WHERE appointment_id = $1")
            .bind(appointment_id)
            .execute(&mut *tx)
            .await?;
        for (position, link) in dossier.attachments.iter().enumerate() {
            let url = link.url.as_str();
            let name = link.name.as_ref().map(|n| n.as_str().to_owned());
            let declared = link.media_type.as_ref().map(|m| m.as_str().to_owned());
            let position = i64::try_from(position).map_err(|_| corrupt("position"))?;
            if let Some((id, _)) = known.get(url) {
                sqlx::query(
                    "UPDATE attachments SET position = $2, name = $3, declared_type = $4,
                        updated_at = $5 WHERE id = $1",
                )
                .bind(id)
                .bind(position)
                .bind(name)
                .bind(declared)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                continue;
            }
            let refusal = refusals
                .get(usize::try_from(position).unwrap_or(usize::MAX))
                .cloned()
                .flatten();
            self.insert_link(
                tx,
                appointment_id,
                (url, name, declared),
                position,
                refusal,
                now,
            )
            .await?;
        }
        // A download nobody wants any more is dropped.
        sqlx::query(
            "DELETE FROM attachments
             WHERE appointment_id = $1 AND position IS NULL AND url IS NOT NULL AND status = 'PENDING'",
        )
        .bind(appointment_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl Documents for SqlStore {
    async fn put_dossier(
        &self,
        client_id: &str,
        appointment_id: &str,
        dossier: &Dossier,
        refusals: &[Option<Refusal>],
        if_version: Option<i64>,
    ) -> StoreResult<StoredDossier> {
        let mut tx = self.begin_write().await?;
        load(&mut tx, Owner::Client(client_id), appointment_id).await?;
        let previous = sqlx::query("SELECT version, body FROM dossiers WHERE appointment_id = $1")
            .bind(appointment_id)
            .fetch_optional(&mut *tx)
            .await?;
        let current: Option<i64> = previous
            .as_ref()
            .map(|row| row.try_get("version"))
            .transpose()?;
        let old_body: serde_json::Value = match &previous {
            Some(row) => from_json(&row.try_get::<String, _>("body")?)?,
            None => serde_json::Value::Null,
        };
        if if_version.is_some() && if_version != current {
            return Err(StoreError::Conflict {
                constraint: Constraint::Version,
            });
        }
        let now = self.now_ms();
        let body = to_json(dossier)?;
        match current {
            Some(version) => {
                sqlx::query(
                    "UPDATE dossiers SET version = $2, body = $3, updated_at = $4
                     WHERE appointment_id = $1",
                )
                .bind(appointment_id)
                .bind(version + 1)
                .bind(&body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO dossiers (appointment_id, version, body, updated_at)
                     VALUES ($1, 1, $2, $3)",
                )
                .bind(appointment_id)
                .bind(&body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        self.sync_attachments(&mut tx, appointment_id, dossier, refusals, now)
            .await?;
        let stored = Self::read_dossier(&mut tx, appointment_id).await?;
        let data = serde_json::json!({ "version": stored.version });
        let new_body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let changes = crate::wire::diff::diff("/dossier", &old_body, &new_body);
        let kind = "dossier.updated";
        record_for_appointment(self, &mut tx, appointment_id, kind, &data, &changes).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn client_dossier(
        &self,
        client_id: &str,
        appointment_id: &str,
    ) -> StoreResult<StoredDossier> {
        self.owned_dossier(Owner::Client(client_id), appointment_id)
            .await
    }

    async fn firm_dossier(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> StoreResult<StoredDossier> {
        self.owned_dossier(Owner::Firm(firm_id), appointment_id)
            .await
    }

    async fn firm_attachments(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> StoreResult<Vec<Attachment>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, Owner::Firm(firm_id), appointment_id).await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE appointment_id = $1
             ORDER BY created_at, id"
        )))
        .bind(appointment_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(attachment_from_row).collect()
    }

    async fn firm_attachment(
        &self,
        firm_id: &str,
        appointment_id: &str,
        attachment_id: &str,
    ) -> StoreResult<Attachment> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, Owner::Firm(firm_id), appointment_id).await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE appointment_id = $1 AND id = $2"
        )))
        .bind(appointment_id)
        .bind(attachment_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        attachment_from_row(&row)
    }

    async fn add_upload(
        &self,
        client_id: &str,
        appointment_id: &str,
        name: Option<&str>,
        declared_type: Option<&str>,
        blob: &BlobInfo,
    ) -> StoreResult<Attachment> {
        self.insert_upload(client_id, appointment_id, (name, declared_type), Ok(blob))
            .await
    }

    async fn reject_upload(
        &self,
        client_id: &str,
        appointment_id: &str,
        name: Option<&str>,
        declared_type: Option<&str>,
        refusal: &Refusal,
    ) -> StoreResult<Attachment> {
        self.insert_upload(
            client_id,
            appointment_id,
            (name, declared_type),
            Err(refusal),
        )
        .await
    }

    async fn claim_fetch(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<FetchJob>> {
        let mut tx = self.begin_write().await?;
        let row = claim_due(
            self,
            &mut tx,
            ("attachments", "status = 'PENDING'"),
            "id, appointment_id, url, attempts",
            worker,
            lease_until,
        )
        .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(FetchJob {
            attachment_id: row.try_get("id")?,
            appointment_id: row.try_get("appointment_id")?,
            url: row
                .try_get::<Option<String>, _>("url")?
                .ok_or_else(|| corrupt("queued attachment without url"))?,
            attempts: row.try_get("attempts")?,
        }))
    }

    async fn settle_fetch(
        &self,
        job: &FetchJob,
        worker: &str,
        settlement: &FetchSettlement,
    ) -> StoreResult<bool> {
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let (status, reason, detail, next, blob) = settled_columns(settlement);
        let result = sqlx::query(
            "UPDATE attachments SET status = $3, reason = $4, detail = $5, next_attempt_at = $6,
                content_type = $7, size = $8, sha256 = $9, lease_owner = NULL,
                lease_until = NULL, updated_at = $10
             WHERE id = $1 AND lease_owner = $2 AND status = 'PENDING'",
        )
        .bind(&job.attachment_id)
        .bind(worker)
        .bind(status.as_str())
        .bind(reason)
        .bind(detail)
        .bind(next)
        .bind(blob.map(|b| b.content_type.clone()))
        .bind(blob.map(|b| b.size))
        .bind(blob.map(|b| b.sha256.clone()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some((kind, data)) = settled_event(job, status, settlement) {
            record_event(self, &mut tx, kind, &job.appointment_id, &data).await?;
            let before =
                serde_json::json!({ "attachmentId": job.attachment_id, "status": "PENDING" });
            let changes = attachment_change(&mut tx, &job.attachment_id, before).await?;
            let appointment = &job.appointment_id;
            record_for_appointment(self, &mut tx, appointment, kind, &data, &changes).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
