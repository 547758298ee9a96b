//! Imports: rows claimed under a lease like the other queues (`finished_at IS NULL` is
//! "to do"), steps recorded only while the lease is the worker's, and a validated file
//! applied — or, for a dry run, tried and rolled back — in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::catalog::{EXPERT_COLUMNS, insert_expert, update_expert};
use super::firm_events::{Subject, record_firm_event};
use super::rows::corrupt;
use super::{
    SqlStore, bump_catalog, claim_due, expert_from_row, from_json, from_ms, new_id, to_json,
};
use crate::store::{
    ApplyError, Expert, Import, ImportCounts, ImportKind, ImportSource, ImportStatus, ImportStep,
    ImportWrites, Imports, NewImport, Page, PageRequest, RowError, StoreError, StoreResult,
};

const IMPORT_COLUMNS: &str = "id, firm_id, kind, source, url, sha256, dry_run, status, reason, \
    records, created, updated, unchanged, errors, attempts, created_at, finished_at";

fn import_from_row(row: &AnyRow) -> StoreResult<Import> {
    let text = |column: &str| -> StoreResult<String> { Ok(row.try_get::<String, _>(column)?) };
    let records: Option<i64> = row.try_get("records")?;
    let counts = match records {
        Some(records) => Some(ImportCounts {
            records,
            created: row.try_get::<Option<i64>, _>("created")?.unwrap_or(0),
            updated: row.try_get::<Option<i64>, _>("updated")?.unwrap_or(0),
            unchanged: row.try_get::<Option<i64>, _>("unchanged")?.unwrap_or(0),
        }),
        None => None,
    };
    let errors: Option<String> = row.try_get("errors")?;
    let finished: Option<i64> = row.try_get("finished_at")?;
    Ok(Import {
        id: text("id")?,
        firm_id: text("firm_id")?,
        kind: ImportKind::parse(&text("kind")?).ok_or_else(|| corrupt("import kind"))?,
        source: ImportSource::parse(&text("source")?).ok_or_else(|| corrupt("import source"))?,
        url: row.try_get("url")?,
        sha256: row.try_get("sha256")?,
        dry_run: row.try_get::<i64, _>("dry_run")? != 0,
        status: ImportStatus::parse(&text("status")?).ok_or_else(|| corrupt("import status"))?,
        reason: row.try_get("reason")?,
        counts,
        errors: match errors {
            Some(json) => from_json(&json)?,
            None => Vec::new(),
        },
        attempts: row.try_get("attempts")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        finished_at: finished.map(from_ms).transpose()?,
    })
}

impl SqlStore {
    /// Whether `worker` still holds the import's lease, read in the caller's transaction.
    async fn holds_import(
        conn: &mut sqlx::AnyConnection,
        id: &str,
        worker: &str,
    ) -> StoreResult<bool> {
        let owner: Option<Option<String>> = sqlx::query_scalar(
            "SELECT lease_owner FROM imports WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(owner.flatten().as_deref() == Some(worker))
    }

    /// Writes the absences of an import, row by row; the rows the stored state refuses.
    async fn write_absences(
        &self,
        tx: &mut sqlx::AnyConnection,
        firm_id: &str,
        writes: &ImportWrites,
        counts: &mut ImportCounts,
    ) -> StoreResult<Vec<RowError>> {
        let mut refused = Vec::new();
        let now = self.now_ms();
        for (row, expert_id, absence) in &writes.absences {
            sqlx::query(self.lock_expert_sql())
                .bind(expert_id)
                .execute(&mut *tx)
                .await?;
            let (start, end) = (
                absence.start.timestamp_millis(),
                absence.end.timestamp_millis(),
            );
            let same: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM absences WHERE expert_id = $1 AND start_at = $2 AND end_at = $3",
            )
            .bind(expert_id)
            .bind(start)
            .bind(end)
            .fetch_optional(&mut *tx)
            .await?;
            if same.is_some() {
                counts.unchanged += 1;
                continue;
            }
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM appointments
                 WHERE expert_id = $1 AND status = 'CONFIRMED' AND end_at > $2 AND start_at < $3",
            )
            .bind(expert_id)
            .bind(start)
            .bind(end)
            .fetch_one(&mut *tx)
            .await?;
            if busy > 0 {
                refused.push(RowError {
                    row: *row,
                    column: "start".into(),
                    detail: format!("the absence covers {busy} CONFIRMED appointment(s)"),
                });
                continue;
            }
            sqlx::query(
                "INSERT INTO absences (id, firm_id, expert_id, start_at, end_at, reason, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id())
            .bind(firm_id)
            .bind(expert_id)
            .bind(start)
            .bind(end)
            .bind(absence.reason.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            counts.created += 1;
        }
        Ok(refused)
    }
}

#[async_trait]
impl Imports for SqlStore {
    async fn create_import(&self, import: &NewImport) -> StoreResult<Import> {
        let id = new_id();
        let now = self.now_ms();
        let mut tx = self.begin_write().await?;
        let mut sha256 = import.sha256.clone();
        if let Some(key) = &import.upload_key {
            let taken: Option<String> = sqlx::query_scalar(
                "UPDATE uploads SET used_by = $1
                 WHERE upload_key = $2 AND firm_id = $3 AND used_by IS NULL AND expires_at > $4
                    AND content_type = 'text/plain'
                 RETURNING sha256",
            )
            .bind(&id)
            .bind(key)
            .bind(&import.firm_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            sha256 = Some(taken.ok_or(StoreError::NotFound)?);
        }
        sqlx::query(
            "INSERT INTO imports (id, firm_id, kind, source, url, sha256, dry_run, status,
                attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'RECEIVED', 0, $8, $8, $8)",
        )
        .bind(&id)
        .bind(&import.firm_id)
        .bind(import.kind.as_str())
        .bind(import.source.as_str())
        .bind(import.url.as_deref())
        .bind(sha256)
        .bind(i64::from(import.dry_run))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.import(&import.firm_id, &id).await
    }

    async fn imports(&self, firm_id: &str, page: &PageRequest) -> StoreResult<Page<Import>> {
        // Newest first: ids are time-ordered, the cursor is the last id seen.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {IMPORT_COLUMNS} FROM imports
             WHERE firm_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
        )))
        .bind(firm_id)
        .bind(page.after.as_deref().unwrap_or(""))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(import_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(super::paginate(items, page.limit, |i| &i.id))
    }

    async fn import(&self, firm_id: &str, id: &str) -> StoreResult<Import> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {IMPORT_COLUMNS} FROM imports WHERE firm_id = $1 AND id = $2"
        )))
        .bind(firm_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        import_from_row(&row)
    }

    async fn claim_import(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Import>> {
        let mut tx = self.begin_write().await?;
        let row = claim_due(
            self,
            &mut tx,
            ("imports", "finished_at IS NULL"),
            IMPORT_COLUMNS,
            worker,
            lease_until,
        )
        .await?;
        tx.commit().await?;
        row.as_ref().map(import_from_row).transpose()
    }

    async fn record_import_step(
        &self,
        id: &str,
        worker: &str,
        step: &ImportStep,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        if !Self::holds_import(&mut tx, id, worker).await? {
            return Ok(false);
        }
        let now = self.now_ms();
        match step {
            ImportStep::Progress { status, sha256 } => {
                sqlx::query(
                    "UPDATE imports SET status = $2, sha256 = COALESCE($3, sha256), updated_at = $4
                     WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(sha256.as_deref())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            ImportStep::Retry { at } => {
                sqlx::query(
                    "UPDATE imports SET next_attempt_at = $2, lease_owner = NULL,
                        lease_until = NULL, updated_at = $3
                     WHERE id = $1",
                )
                .bind(id)
                .bind(at.timestamp_millis())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            ImportStep::Finished {
                status,
                reason,
                counts,
                errors,
            } => {
                let counts = counts.unwrap_or_default();
                let has_counts = step_has_counts(step);
                sqlx::query(
                    "UPDATE imports SET status = $2, reason = $3, records = $4, created = $5,
                        updated = $6, unchanged = $7, errors = $8, finished_at = $9,
                        updated_at = $9, lease_owner = NULL, lease_until = NULL
                     WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(reason.as_deref())
                .bind(has_counts.then_some(counts.records))
                .bind(has_counts.then_some(counts.created))
                .bind(has_counts.then_some(counts.updated))
                .bind(has_counts.then_some(counts.unchanged))
                .bind(to_json(errors)?)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                finished_event(self, &mut tx, id).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn apply_import(
        &self,
        id: &str,
        worker: &str,
        writes: &ImportWrites,
    ) -> Result<(), ApplyError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {IMPORT_COLUMNS}, lease_owner FROM imports WHERE id = $1 AND finished_at IS NULL"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(ApplyError::LeaseLost);
        };
        if row.try_get::<Option<String>, _>("lease_owner")?.as_deref() != Some(worker) {
            return Err(ApplyError::LeaseLost);
        }
        let import = import_from_row(&row)?;
        let now = self.now_ms();
        for profile in &writes.create_experts {
            insert_expert(&mut tx, &new_id(), &import.firm_id, profile, now).await?;
        }
        for (expert_id, profile) in &writes.update_experts {
            update_expert(&mut tx, &import.firm_id, expert_id, profile, now).await?;
        }
        let mut counts = writes.counts;
        let refused = self
            .write_absences(&mut tx, &import.firm_id, writes, &mut counts)
            .await?;
        if !refused.is_empty() {
            return Err(ApplyError::Rows(refused));
        }
        let status = if import.dry_run {
            ImportStatus::Validated
        } else {
            ImportStatus::Imported
        };
        if import.dry_run {
            // Every check ran against the stored state; nothing of it is kept.
            tx.rollback().await?;
            let mut tx = self.begin_write().await?;
            finish(&mut tx, id, status, &counts, now).await?;
            finished_event(self, &mut tx, id).await?;
            tx.commit().await?;
            return Ok(());
        }
        bump_catalog(&mut tx).await?;
        finish(&mut tx, id, status, &counts, now).await?;
        finished_event(self, &mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn firm_experts(&self, firm_id: &str) -> StoreResult<Vec<Expert>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EXPERT_COLUMNS} FROM experts WHERE firm_id = $1 ORDER BY id"
        )))
        .bind(firm_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(expert_from_row).collect()
    }
}

/// Marks an import finished with its counts.
async fn finish(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    status: ImportStatus,
    counts: &ImportCounts,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE imports SET status = $2, records = $3, created = $4, updated = $5,
            unchanged = $6, errors = '[]', finished_at = $7, updated_at = $7,
            lease_owner = NULL, lease_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(counts.records)
    .bind(counts.created)
    .bind(counts.updated)
    .bind(counts.unchanged)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// `import.finished` for the firm, written with the import's end.
async fn finished_event(
    store: &SqlStore,
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> StoreResult<()> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {IMPORT_COLUMNS} FROM imports WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let import = import_from_row(&row)?;
    let counts = import.counts.unwrap_or_default();
    let data = serde_json::json!({
        "importId": import.id,
        "kind": import.kind.as_str(),
        "status": import.status.as_str(),
        "dryRun": import.dry_run,
        "records": counts.records,
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "errors": import.errors.len(),
    });
    record_firm_event(
        store,
        conn,
        &import.firm_id,
        "import.finished",
        Subject::Import(&import.id),
        &data,
        &[],
    )
    .await
}

fn step_has_counts(step: &ImportStep) -> bool {
    matches!(
        step,
        ImportStep::Finished {
            counts: Some(_),
            ..
        }
    )
}
