//! Uploads and settlements. Filing a settlement takes its uploads (`used_by`) in the
//! transaction that records it and its `settlement.submitted` event, so an upload is taken
//! once, and the expiry sweep (which deletes only rows no settlement took) cannot remove a
//! file a settlement holds.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::events::record_event;
use super::lifecycle::load;
use super::rows::corrupt;
use super::{SqlStore, from_json, from_ms, new_id, on_constraint, to_json};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::settlement::{DocumentKind, Settlement};
use crate::store::{
    BlobInfo, Constraint, Owner, SettleError, SettlementDocument, Settlements, StoreError,
    StoreResult, StoredSettlement, Upload, UploadStatus,
};

const UPLOAD_COLUMNS: &str = "upload_key, firm_id, name, status, content_type, size, sha256, \
    created_at, expires_at, used_by";

fn upload_from_row(row: &AnyRow) -> StoreResult<Upload> {
    let status: String = row.try_get("status")?;
    Ok(Upload {
        key: row.try_get("upload_key")?,
        firm_id: row.try_get("firm_id")?,
        name: row.try_get("name")?,
        status: UploadStatus::parse(&status).ok_or_else(|| corrupt("upload status"))?,
        blob: BlobInfo {
            sha256: row.try_get("sha256")?,
            size: row.try_get("size")?,
            content_type: row.try_get("content_type")?,
        },
        created_at: from_ms(row.try_get("created_at")?)?,
        expires_at: from_ms(row.try_get("expires_at")?)?,
        used_by: row.try_get("used_by")?,
    })
}

/// Reads the settlements of one appointment (`only`: just that one), documents included.
async fn read_settlements(
    conn: &mut sqlx::AnyConnection,
    appointment_id: &str,
    only: Option<&str>,
) -> StoreResult<Vec<StoredSettlement>> {
    let rows = sqlx::query(
        "SELECT id, body, submitted_at FROM settlements
         WHERE appointment_id = $1 AND ($2 = '' OR id = $2) ORDER BY id",
    )
    .bind(appointment_id)
    .bind(only.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    let docs = sqlx::query(
        "SELECT d.settlement_id, d.kind, d.upload_key, u.sha256, u.size, u.content_type
         FROM settlement_documents d
         JOIN settlements s ON s.id = d.settlement_id
         JOIN uploads u ON u.upload_key = d.upload_key
         WHERE s.appointment_id = $1 AND ($2 = '' OR s.id = $2) ORDER BY d.kind",
    )
    .bind(appointment_id)
    .bind(only.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    let mut settlements = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let mut documents = Vec::new();
        for doc in &docs {
            if doc.try_get::<String, _>("settlement_id")? != id {
                continue;
            }
            let kind: String = doc.try_get("kind")?;
            documents.push(SettlementDocument {
                kind: DocumentKind::parse(&kind).ok_or_else(|| corrupt("document kind"))?,
                upload_key: doc.try_get("upload_key")?,
                blob: BlobInfo {
                    sha256: doc.try_get("sha256")?,
                    size: doc.try_get("size")?,
                    content_type: doc.try_get("content_type")?,
                },
            });
        }
        settlements.push(StoredSettlement {
            id,
            appointment_id: appointment_id.to_owned(),
            settlement: from_json(&row.try_get::<String, _>("body")?)?,
            status: "SUBMITTED",
            submitted_at: from_ms(row.try_get("submitted_at")?)?,
            documents,
        });
    }
    Ok(settlements)
}

impl SqlStore {
    /// The settlement of the firm with this `(type, reference)`, if any.
    async fn settlement_by_reference(
        &self,
        conn: &mut sqlx::AnyConnection,
        firm_id: &str,
        settlement: &Settlement,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM settlements WHERE firm_id = $1 AND type = $2 AND reference = $3",
        )
        .bind(firm_id)
        .bind(settlement.kind.as_str())
        .bind(settlement.reference.as_str())
        .fetch_optional(&mut *conn)
        .await?)
    }

    async fn file_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        firm_id: &str,
        appointment_id: &str,
        settlement: &Settlement,
        documents: &[(DocumentKind, String)],
    ) -> Result<StoredSettlement, SettleError> {
        let appointment = load(tx, Owner::Firm(firm_id), appointment_id).await?;
        if appointment.status != AppointmentStatus::Completed {
            return Err(SettleError::NotCompleted);
        }
        let now = self.now_ms();
        for (i, (kind, key)) in documents.iter().enumerate() {
            let usable: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM uploads WHERE upload_key = $1 AND firm_id = $2
                    AND used_by IS NULL AND expires_at > $3 AND content_type = 'application/pdf'",
            )
            .bind(key)
            .bind(firm_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let repeated = documents[..i].iter().any(|(_, earlier)| earlier == key);
            if usable.is_none() || repeated {
                return Err(SettleError::UnknownUpload(kind.key_field()));
            }
        }
        if let Some(existing) = self
            .settlement_by_reference(tx, firm_id, settlement)
            .await?
        {
            return Err(SettleError::Exists(existing));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO settlements (id, firm_id, appointment_id, type, reference, status, body,
                submitted_at)
             VALUES ($1, $2, $3, $4, $5, 'SUBMITTED', $6, $7)",
        )
        .bind(&id)
        .bind(firm_id)
        .bind(appointment_id)
        .bind(settlement.kind.as_str())
        .bind(settlement.reference.as_str())
        .bind(to_json(settlement)?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        for (kind, key) in documents {
            let taken = sqlx::query(
                "UPDATE uploads SET used_by = $1 WHERE upload_key = $2 AND used_by IS NULL",
            )
            .bind(&id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
            if taken.rows_affected() != 1 {
                return Err(SettleError::UnknownUpload(kind.key_field()));
            }
            sqlx::query(
                "INSERT INTO settlement_documents (settlement_id, kind, upload_key)
                 VALUES ($1, $2, $3)",
            )
            .bind(&id)
            .bind(kind.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        }
        let data = serde_json::json!({
            "settlementId": id,
            "type": settlement.kind.as_str(),
            "reference": settlement.reference.as_str(),
        });
        record_event(self, tx, "settlement.submitted", appointment_id, &data).await?;
        read_settlements(tx, appointment_id, Some(&id))
            .await?
            .pop()
            .ok_or_else(|| SettleError::Store(StoreError::NotFound))
    }
}

#[async_trait]
impl Settlements for SqlStore {
    async fn add_upload_file(&self, upload: &Upload) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO uploads (upload_key, firm_id, name, status, content_type, size, sha256,
                created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&upload.key)
        .bind(&upload.firm_id)
        .bind(&upload.name)
        .bind(upload.status.as_str())
        .bind(&upload.blob.content_type)
        .bind(upload.blob.size)
        .bind(&upload.blob.sha256)
        .bind(upload.created_at.timestamp_millis())
        .bind(upload.expires_at.timestamp_millis())
        .execute(&self.pool)
        .await
        .map_err(on_constraint)?;
        Ok(())
    }

    async fn upload(&self, firm_id: &str, key: &str) -> StoreResult<Upload> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads
             WHERE upload_key = $1 AND firm_id = $2 AND (used_by IS NOT NULL OR expires_at > $3)"
        )))
        .bind(key)
        .bind(firm_id)
        .bind(self.now_ms())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        upload_from_row(&row)
    }

    async fn expire_uploads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<String>> {
        // One statement: concurrent sweeps each delete (and report) disjoint rows.
        let rows = sqlx::query(
            "DELETE FROM uploads WHERE upload_key IN (
                SELECT upload_key FROM uploads
                WHERE used_by IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2)
             AND used_by IS NULL
             RETURNING sha256",
        )
        .bind(now.timestamp_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>("sha256")?))
            .collect()
    }

    async fn blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM uploads WHERE sha256 = $1
             UNION ALL SELECT 1 FROM attachments WHERE sha256 = $1 LIMIT 1",
        )
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn file_settlement(
        &self,
        firm_id: &str,
        appointment_id: &str,
        settlement: &Settlement,
        documents: &[(DocumentKind, String)],
    ) -> Result<StoredSettlement, SettleError> {
        let mut tx = self.begin_write().await?;
        match self
            .file_in(&mut tx, firm_id, appointment_id, settlement, documents)
            .await
        {
            Ok(stored) => {
                tx.commit().await.map_err(StoreError::from)?;
                Ok(stored)
            }
            // A concurrent filing of the same reference committed first.
            Err(SettleError::Store(StoreError::Conflict {
                constraint: Constraint::Unique,
            })) => {
                drop(tx);
                let mut conn = self.pool.acquire().await.map_err(StoreError::from)?;
                match self
                    .settlement_by_reference(&mut conn, firm_id, settlement)
                    .await?
                {
                    Some(existing) => Err(SettleError::Exists(existing)),
                    None => Err(SettleError::Store(StoreError::Conflict {
                        constraint: Constraint::Unique,
                    })),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn settlements(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
    ) -> StoreResult<Vec<StoredSettlement>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, owner, appointment_id).await?;
        read_settlements(&mut conn, appointment_id, None).await
    }

    async fn settlement(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
        settlement_id: &str,
    ) -> StoreResult<StoredSettlement> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, owner, appointment_id).await?;
        if settlement_id.is_empty() {
            return Err(StoreError::NotFound);
        }
        read_settlements(&mut conn, appointment_id, Some(settlement_id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }
}
