//! Calendars of many experts, each over its own span of time, read in one statement per
//! table.
//!
//! The spans travel as one JSON parameter (`[{"e": expert id, "f": from ms, "t": to ms}]`),
//! so the statement is the same whatever their number: one prepared statement, no list of
//! placeholders to cut into chunks.
//!
//! The plans are chosen not to depend on the tables' statistics, which lag behind a table
//! that grows fast (a new database under load, a bulk import). On PostgreSQL each span is
//! looked up on its own through the `(expert_id, end_at)` index (`LATERAL`, kept from
//! being flattened into a join by `OFFSET 0`), and the status is filtered here rather than
//! in SQL: with `status = 'CONFIRMED'` in the query, a planner that believes few
//! appointments CONFIRMED reads them all through the partial indexes of that predicate
//! (hashed against the spans, or the overlap constraint's GiST index probed per expert).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::busy_from_row;
use super::{absence_from_row, to_json};
use crate::domain::appointment::AppointmentStatus;
use crate::store::{Absence, Backend, Busy, StoreResult};

/// Absences and CONFIRMED appointments by expert id.
pub(super) type ByExpert = HashMap<String, (Vec<Absence>, Vec<Busy>)>;

/// An expert's span of time: rows of the expert overlapping `[f, t)` (milliseconds).
#[derive(Debug, Serialize)]
pub(super) struct Span<'a> {
    /// Expert id.
    pub e: &'a str,
    /// From (ms).
    pub f: i64,
    /// To (ms).
    pub t: i64,
}

/// The table of the elements of the JSON array `array` (a parameter such as `$1`, or a
/// literal), one row each in a column `value`; `value ->> 'field'` reads a field of an
/// object element.
pub(super) fn elements(backend: Backend, array: &str) -> String {
    (backend.dialect().elements)(array)
}

/// `columns` of the rows of `table` (aliased `a`) overlapping each span of the JSON array
/// `spans`.
fn around(backend: Backend, spans: &str, columns: &str, table: &str) -> String {
    let spans = format!(
        "(SELECT value ->> 'e' AS e, CAST(value ->> 'f' AS BIGINT) AS f,
                 CAST(value ->> 't' AS BIGINT) AS t FROM {}) w",
        elements(backend, spans)
    );
    let matching = "a.expert_id = w.e AND a.end_at > w.f AND a.start_at < w.t";
    (backend.dialect().join_each)(&spans, columns, table, matching)
}

/// Absences (`kind` 'A') and appointments of any status (`kind` 'B') overlapping the spans
/// of the JSON array `spans` (see [`Span`]), in start order: one statement, so one round
/// trip. Read its rows with [`read_calendars`].
pub(super) fn calendars_sql(backend: Backend, spans: &str) -> String {
    format!(
        "{} UNION ALL {} ORDER BY start_at",
        around(
            backend,
            spans,
            "'A' AS kind, a.id, a.expert_id, a.start_at, a.end_at, a.reason, NULL AS status,
             a.created_at, NULL AS lat, NULL AS lon",
            "absences",
        ),
        around(
            backend,
            spans,
            "'B' AS kind, a.id, a.expert_id, a.start_at, a.end_at, NULL AS reason, a.status,
             a.created_at, a.lat, a.lon",
            "appointments",
        ),
    )
}

/// The rows of [`calendars_sql`]: absences and CONFIRMED appointments, each list in start
/// order, by expert id (an expert with neither may be left out).
pub(super) fn read_calendars(rows: &[AnyRow]) -> StoreResult<ByExpert> {
    let mut by_expert = ByExpert::new();
    for row in rows {
        let entry = by_expert.entry(row.try_get("expert_id")?).or_default();
        if row.try_get::<String, _>("kind")? == "A" {
            entry.0.push(absence_from_row(row)?);
        } else if row.try_get::<Option<String>, _>("status")?.as_deref()
            == Some(AppointmentStatus::Confirmed.as_str())
        {
            entry.1.push(busy_from_row(row)?);
        }
    }
    Ok(by_expert)
}

/// The absences and CONFIRMED appointments overlapping `spans`, each list in start order,
/// by expert id (an expert with neither may be left out). An expert should have one span.
pub(super) async fn calendars(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    spans: &[Span<'_>],
) -> StoreResult<ByExpert> {
    if spans.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(AssertSqlSafe(calendars_sql(backend, "$1")))
        .bind(to_json(&spans)?)
        .fetch_all(&mut *conn)
        .await?;
    read_calendars(&rows)
}

#[cfg(test)]
mod tests {
    use sqlx::{AssertSqlSafe, Row};

    use super::calendars_sql;
    use crate::store::{Backend, sqlite};

    /// Reading a calendar must not walk the expert's past: each table is searched on the
    /// expert and the end of its rows, from the start of the span.
    #[tokio::test]
    async fn on_sqlite_a_calendar_read_seeks_each_table_from_the_start_of_the_span() {
        let (_dir, store) = sqlite::temporary().await;
        let plan = format!(
            "EXPLAIN QUERY PLAN {}",
            calendars_sql(Backend::Sqlite, "$1")
        );
        let details: Vec<String> = sqlx::query(AssertSqlSafe(plan))
            .bind(r#"[{"e":"x","f":0,"t":1}]"#)
            .fetch_all(store.pool())
            .await
            .expect("plan")
            .iter()
            .map(|row| row.try_get::<String, _>("detail").expect("detail"))
            .collect();
        for index in ["absences_expert_end", "appointments_expert_end"] {
            let seek = format!("USING INDEX {index} (expert_id=? AND end_at>?)");
            assert!(
                details.iter().any(|d| d.contains(&seek)),
                "no `{seek}` in {details:#?}"
            );
        }
    }
}
