//! The search log. A batch of searches is written in one transaction of two statements,
//! each carrying the whole batch as one JSON parameter (so the statements stay the same
//! whatever the batch's size). Firms read through `search_log_firms`, indexed on the firm
//! and the time, so a read walks only the firm's searches of the period asked for.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::spans::elements;
use super::{SqlStore, from_ms, paginate, to_json};
use crate::store::{
    DemandCell, FirmSearch, FirmShare, LoggedSearch, Page, Period, SearchCursor, SearchLog,
    StoreError, StoreResult,
};

/// Milliseconds in a hundredth of a day: the unit of the demand's delays.
const CENTIDAY_MS: i64 = 864_000;

/// A `search_log` row as the insert reads it from its JSON parameter.
#[derive(Serialize)]
struct SearchRow<'a> {
    id: &'a str,
    at: i64,
    request: &'a str,
    process: Option<&'a str>,
    department: Option<&'a str>,
    claim_type: &'a str,
    eligible: u32,
    slots: u32,
    first: Option<i64>,
    diagnostic: Option<&'a str>,
}

/// A `search_log_firms` row as the insert reads it from its JSON parameter.
#[derive(Serialize)]
struct ShareRow<'a> {
    search: &'a str,
    firm: &'a str,
    at: i64,
    eligible: u32,
    slots: u32,
    first: Option<i64>,
}

fn ms(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|t| t.timestamp_millis())
}

fn opt_ms(row: &AnyRow, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(column)?
        .map(from_ms)
        .transpose()
}

fn count(row: &AnyRow, column: &str) -> StoreResult<u32> {
    u32::try_from(row.try_get::<i64, _>(column)?)
        .map_err(|_| StoreError::Corrupt(format!("bad {column}")))
}

fn firm_search_from_row(row: &AnyRow) -> StoreResult<FirmSearch> {
    let at = from_ms(row.try_get("at")?)?;
    Ok(FirmSearch {
        search: LoggedSearch {
            id: row.try_get("id")?,
            at,
            request: row.try_get("request")?,
            process: row.try_get("process")?,
            department: row.try_get("department")?,
            claim_type: row.try_get("claim_type")?,
            eligible_experts: count(row, "eligible_experts")?,
            slots_offered: count(row, "slots_offered")?,
            first_slot_at: opt_ms(row, "first_slot_at")?,
            diagnostic: row.try_get("diagnostic")?,
            firms: Vec::new(),
        },
        share: FirmShare {
            firm_id: row.try_get("firm_id")?,
            eligible_experts: count(row, "firm_eligible")?,
            slots_offered: count(row, "firm_slots")?,
            first_slot_at: opt_ms(row, "firm_first_slot_at")?,
        },
        booked: row.try_get::<i64, _>("booked")? != 0,
    })
}

#[async_trait]
impl SearchLog for SqlStore {
    async fn log_searches(&self, searches: &[LoggedSearch]) -> StoreResult<()> {
        if searches.is_empty() {
            return Ok(());
        }
        let rows: Vec<SearchRow<'_>> = searches
            .iter()
            .map(|s| SearchRow {
                id: &s.id,
                at: s.at.timestamp_millis(),
                request: &s.request,
                process: s.process.as_deref(),
                department: s.department.as_deref(),
                claim_type: &s.claim_type,
                eligible: s.eligible_experts,
                slots: s.slots_offered,
                first: ms(s.first_slot_at),
                diagnostic: s.diagnostic.as_deref(),
            })
            .collect();
        let shares: Vec<ShareRow<'_>> = searches
            .iter()
            .flat_map(|s| {
                s.firms.iter().map(|f| ShareRow {
                    search: &s.id,
                    firm: &f.firm_id,
                    at: s.at.timestamp_millis(),
                    eligible: f.eligible_experts,
                    slots: f.slots_offered,
                    first: ms(f.first_slot_at),
                })
            })
            .collect();
        let mut tx = self.begin_write().await?;
        // A batch lost in a crash costs a few log entries, not a promise made to anyone.
        if let Some(relaxed) = self.backend.dialect().relaxed_commit {
            sqlx::query(relaxed).execute(&mut *tx).await?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO search_log (id, at, request, process, department, claim_type,
                                     eligible_experts, slots_offered, first_slot_at, diagnostic)
             SELECT value ->> 'id', CAST(value ->> 'at' AS BIGINT), value ->> 'request',
                    value ->> 'process', value ->> 'department', value ->> 'claim_type',
                    CAST(value ->> 'eligible' AS BIGINT), CAST(value ->> 'slots' AS BIGINT),
                    CAST(value ->> 'first' AS BIGINT), value ->> 'diagnostic'
             FROM {}",
            elements(self.backend, "$1")
        )))
        .bind(to_json(&rows)?)
        .execute(&mut *tx)
        .await?;
        if !shares.is_empty() {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO search_log_firms (search_id, firm_id, at, eligible_experts,
                                               slots_offered, first_slot_at)
                 SELECT value ->> 'search', value ->> 'firm', CAST(value ->> 'at' AS BIGINT),
                        CAST(value ->> 'eligible' AS BIGINT), CAST(value ->> 'slots' AS BIGINT),
                        CAST(value ->> 'first' AS BIGINT)
                 FROM {}",
                elements(self.backend, "$1")
            )))
            .bind(to_json(&shares)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn forget_searches(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<u64> {
        // Instances sweeping together pass over each other's rows instead of waiting; the
        // firms' shares go with their search (ON DELETE CASCADE).
        let skip_locked = self.backend.dialect().skip_locked;
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM search_log WHERE id IN (
                 SELECT id FROM search_log WHERE at < $1 ORDER BY at LIMIT $2 {skip_locked})"
        )))
        .bind(before.timestamp_millis())
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    async fn firm_searches(
        &self,
        firm_id: &str,
        period: Period,
        cursor: Option<&SearchCursor>,
        limit: u32,
    ) -> StoreResult<Page<FirmSearch>> {
        let (before_ms, before_id) = cursor.map_or((period.to.timestamp_millis(), ""), |c| {
            (c.at_ms, c.id.as_str())
        });
        let rows = sqlx::query(
            "SELECT s.id, f.at, s.request, s.process, s.department, s.claim_type,
                    s.eligible_experts, s.slots_offered, s.first_slot_at, s.diagnostic,
                    f.firm_id, f.eligible_experts AS firm_eligible, f.slots_offered AS firm_slots,
                    f.first_slot_at AS firm_first_slot_at,
                    CAST(CASE WHEN EXISTS (SELECT 1 FROM appointments a
                                           WHERE a.search_id = f.search_id
                                             AND a.firm_id = f.firm_id)
                         THEN 1 ELSE 0 END AS BIGINT) AS booked
             FROM search_log_firms f JOIN search_log s ON s.id = f.search_id
             WHERE f.firm_id = $1 AND f.at >= $2 AND f.at < $3
               AND (f.at < $4 OR (f.at = $4 AND f.search_id < $5))
             ORDER BY f.at DESC, f.search_id DESC
             LIMIT $6",
        )
        .bind(firm_id)
        .bind(period.from.timestamp_millis())
        .bind(period.to.timestamp_millis())
        .bind(before_ms)
        .bind(before_id)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(firm_search_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut page = paginate(items, limit, |s| s.search.id.as_str());
        // The position is the time and the id of the page's last search.
        page.next_after = page.next_after.and(page.items.last()).map(|last| {
            SearchCursor {
                at_ms: last.search.at.timestamp_millis(),
                id: last.search.id.clone(),
            }
            .to_string()
        });
        Ok(page)
    }

    async fn firm_demand(&self, firm_id: &str, period: Period) -> StoreResult<Vec<DemandCell>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT department, claim_type, delay, CAST(COUNT(*) AS BIGINT) AS searches,
                    CAST(SUM(no_slot) AS BIGINT) AS without_firm_slots,
                    CAST(SUM(bookings) AS BIGINT) AS bookings
             FROM (SELECT s.department, s.claim_type,
                          (f.first_slot_at - f.at) / {CENTIDAY_MS} AS delay,
                          CASE WHEN f.slots_offered = 0 THEN 1 ELSE 0 END AS no_slot,
                          (SELECT COUNT(*) FROM appointments a
                           WHERE a.search_id = f.search_id AND a.firm_id = f.firm_id) AS bookings
                   FROM search_log_firms f JOIN search_log s ON s.id = f.search_id
                   WHERE f.firm_id = $1 AND f.at >= $2 AND f.at < $3) x
             GROUP BY department, claim_type, delay"
        )))
        .bind(firm_id)
        .bind(period.from.timestamp_millis())
        .bind(period.to.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DemandCell {
                    department: row.try_get("department")?,
                    claim_type: row.try_get("claim_type")?,
                    delay_centidays: row.try_get("delay")?,
                    searches: row.try_get("searches")?,
                    without_firm_slots: row.try_get("without_firm_slots")?,
                    bookings: row.try_get("bookings")?,
                })
            })
            .collect()
    }
}
