//! The rows of an import file: each checked as the JSON API checks its body, kept for the
//! one transaction that writes them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};

use super::read::{FileProblem, FileRows, read_csv};
use super::{ABSENCE_COLUMNS, MAX_ROWS};
use crate::domain::Invalid;
use crate::domain::firm::{NewAbsence, NewAbsenceInput};
use crate::store::{Expert, ImportWrites};
use crate::wire::experts_csv;

/// Reads an `EXPERTS` file against the firm's experts: what to create, what to replace.
pub(super) fn read_experts(
    file: std::fs::File,
    experts: &[Expert],
) -> std::result::Result<(FileRows, ImportWrites), FileProblem> {
    let by_ref: HashMap<&str, &Expert> = experts
        .iter()
        .filter_map(|e| Some((e.profile.external_ref.as_ref()?.as_str(), e)))
        .collect();
    let mut writes = ImportWrites::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let rows = read_csv(
        file,
        &experts_csv::COLUMNS,
        &["externalRef"],
        MAX_ROWS,
        |row, cell| {
            let profile = experts_csv::parse_row(|column| cell.cell(column))
                .map_err(|(c, d)| (c.to_owned(), d))?;
            let Some(reference) = profile.external_ref.as_ref().map(|r| r.as_str().to_owned())
            else {
                return Err(("externalRef".into(), "is required".into()));
            };
            if let Some(first) = seen.insert(reference.clone(), row) {
                return Err(("externalRef".into(), format!("already in row {first}")));
            }
            match by_ref.get(reference.as_str()) {
                None => {
                    writes.counts.created += 1;
                    writes.create_experts.push(profile);
                }
                Some(existing) if existing.profile == profile => writes.counts.unchanged += 1,
                Some(existing) => {
                    writes.counts.updated += 1;
                    writes.update_experts.push((existing.id.clone(), profile));
                }
            }
            Ok(())
        },
    )?;
    Ok((rows, writes))
}

/// An instant of an absence row: RFC 3339, or `YYYY-MM-DDTHH:MM` in the expert's zone.
fn instant(text: &str, tz: chrono_tz::Tz) -> std::result::Result<String, String> {
    if DateTime::parse_from_rfc3339(text).is_ok() {
        return Ok(text.to_owned());
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .map_err(|_| "must be RFC 3339 or YYYY-MM-DDTHH:MM".to_owned())?;
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.to_rfc3339()),
        _ => Err(format!("{text} does not exist or is ambiguous in {tz}")),
    }
}

/// Reads an `ABSENCES` file: each row checked as `POST …/absences` checks a body.
pub(super) fn read_absences(
    file: std::fs::File,
    experts: &[Expert],
    now: DateTime<Utc>,
) -> std::result::Result<(FileRows, ImportWrites), FileProblem> {
    let by_ref: HashMap<&str, &Expert> = experts
        .iter()
        .filter_map(|e| Some((e.profile.external_ref.as_ref()?.as_str(), e)))
        .collect();
    let horizon = now + chrono::Duration::days(crate::service::HORIZON_DAYS);
    let mut writes = ImportWrites::default();
    let rows = read_csv(
        file,
        &ABSENCE_COLUMNS,
        &["externalRef", "start", "end"],
        MAX_ROWS,
        |row, data| {
            let missing = |column: &str| (column.to_owned(), "is required".to_owned());
            let cell = |column: &str| data.cell(column);
            let reference = cell("externalRef").ok_or_else(|| missing("externalRef"))?;
            let expert = by_ref.get(reference).ok_or_else(|| {
                (
                    "externalRef".to_owned(),
                    "no expert of the firm has it".to_owned(),
                )
            })?;
            let tz = expert.profile.time_zone.tz();
            let start = instant(cell("start").ok_or_else(|| missing("start"))?, tz)
                .map_err(|d| ("start".to_owned(), d))?;
            let end = instant(cell("end").ok_or_else(|| missing("end"))?, tz)
                .map_err(|d| ("end".to_owned(), d))?;
            let body = serde_json::json!({ "start": start, "end": end, "reason": cell("reason") });
            let column = |e: Invalid| (e.pointer.trim_start_matches('/').to_owned(), e.detail);
            let input: NewAbsenceInput = crate::domain::from_json(body).map_err(column)?;
            let absence = NewAbsence::try_from(input).map_err(column)?;
            if absence.end > horizon {
                return Err((
                    "end".into(),
                    format!("at most {} days from now", crate::service::HORIZON_DAYS),
                ));
            }
            writes.absences.push((row, expert.id.clone(), absence));
            Ok(())
        },
    )?;
    Ok((rows, writes))
}
