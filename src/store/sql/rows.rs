//! Row mapping shared by the booking queries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{from_json, from_ms};
use crate::domain::appointment::{AppointmentStatus, Mode};
use crate::domain::{ExpertiseType, GeoPoint};
use crate::store::{Appointment, Busy, StoreError, StoreResult};

pub(super) const APPOINTMENT_COLUMNS: &str = "id, firm_id, expert_id, client_id, status, version, start_at, \
    end_at, mode, expertise_type, place, claims_ia_ref, claim_ref, contact, comment, \
    cancellation, created_at, updated_at, search_id";

/// Calendars are read this far around a booking: travel, daily maximum and weekly load
/// look at the surrounding days.
pub(super) const SCHEDULE_MARGIN_DAYS: i64 = 8;

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("bad {what}"))
}

pub(super) fn opt_json<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
) -> StoreResult<Option<T>> {
    text.map(from_json).transpose()
}

pub(super) fn appointment_from_row(row: &AnyRow) -> StoreResult<Appointment> {
    let status: String = row.try_get("status")?;
    let mode: String = row.try_get("mode")?;
    let expertise: String = row.try_get("expertise_type")?;
    Ok(Appointment {
        id: row.try_get("id")?,
        firm_id: row.try_get("firm_id")?,
        expert_id: row.try_get("expert_id")?,
        client_id: row.try_get("client_id")?,
        status: AppointmentStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        version: row.try_get("version")?,
        start: from_ms(row.try_get("start_at")?)?,
        end: from_ms(row.try_get("end_at")?)?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt("mode"))?,
        expertise_type: expertise
            .parse::<ExpertiseType>()
            .map_err(|_| corrupt("expertise type"))?,
        place: opt_json(row.try_get::<Option<String>, _>("place")?.as_deref())?,
        claims_ia_ref: row.try_get("claims_ia_ref")?,
        claim_ref: row.try_get("claim_ref")?,
        contact: opt_json(row.try_get::<Option<String>, _>("contact")?.as_deref())?,
        comment: row.try_get("comment")?,
        cancellation: opt_json(row.try_get::<Option<String>, _>("cancellation")?.as_deref())?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
        search_id: row.try_get("search_id")?,
    })
}

pub(super) fn busy_from_row(row: &AnyRow) -> StoreResult<Busy> {
    let lat: Option<f64> = row.try_get("lat")?;
    let lon: Option<f64> = row.try_get("lon")?;
    let place = match (lat, lon) {
        (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).map_err(|_| corrupt("place"))?),
        _ => None,
    };
    Ok(Busy {
        id: row.try_get("id")?,
        start: from_ms(row.try_get("start_at")?)?,
        end: from_ms(row.try_get("end_at")?)?,
        place,
    })
}
