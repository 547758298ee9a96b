//! Firms (tenants) and expert absences.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::{FreeText, Name};
use super::{Siret, TimeZone};

/// The editable profile of an expert firm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirmProfile {
    /// Trading name.
    pub name: Name,
    /// SIRET (14 digits, Luhn-checked).
    pub siret: Siret,
    /// Default IANA time zone of the firm.
    #[serde(default)]
    pub time_zone: TimeZone,
}

impl FirmProfile {
    /// Rebuilds a profile from stored columns.
    pub fn from_stored(name: String, siret: &str, time_zone: &str) -> Result<Self, String> {
        Ok(Self {
            name: Name::try_from(name).map_err(|e| e.to_string())?,
            siret: siret
                .parse()
                .map_err(|e: super::siret::SiretError| e.to_string())?,
            time_zone: time_zone
                .parse()
                .map_err(|e: super::timezone::TimeZoneError| e.to_string())?,
        })
    }
}

/// Longest absence accepted in one piece.
pub const MAX_ABSENCE_DAYS: i64 = 366;

/// An absence as requested: `[start, end)`, instants with an explicit offset.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAbsenceInput {
    /// Start (RFC 3339 with offset).
    pub start: DateTime<FixedOffset>,
    /// End, exclusive (RFC 3339 with offset).
    pub end: DateTime<FixedOffset>,
    /// Why (free text).
    pub reason: Option<FreeText>,
}

/// A validated absence.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAbsence {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (exclusive).
    pub end: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
}

impl TryFrom<NewAbsenceInput> for NewAbsence {
    type Error = super::Invalid;

    fn try_from(input: NewAbsenceInput) -> Result<Self, Self::Error> {
        let (start, end) = (input.start.to_utc(), input.end.to_utc());
        if end <= start {
            return Err(super::Invalid::new("/end", "must be after start"));
        }
        if end - start > chrono::Duration::days(MAX_ABSENCE_DAYS) {
            return Err(super::Invalid::new(
                "/end",
                format!("an absence lasts at most {MAX_ABSENCE_DAYS} days"),
            ));
        }
        Ok(Self {
            start,
            end,
            reason: input.reason.map(String::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(start: &str, end: &str) -> NewAbsenceInput {
        serde_json::from_value(serde_json::json!({ "start": start, "end": end })).unwrap()
    }

    #[test]
    fn an_absence_ending_before_it_starts_is_rejected() {
        let err = NewAbsence::try_from(input(
            "2026-11-24T10:00:00+01:00",
            "2026-11-24T09:00:00+01:00",
        ))
        .unwrap_err();
        assert_eq!(err.pointer, "/end");
    }

    #[test]
    fn an_absence_keeps_its_instants_across_offsets() {
        let a = NewAbsence::try_from(input("2026-11-24T10:00:00+01:00", "2026-11-24T10:30:00Z"))
            .unwrap();
        assert_eq!((a.end - a.start).num_minutes(), 90);
    }

    #[test]
    fn an_absence_without_offset_is_rejected() {
        let parsed: Result<NewAbsenceInput, _> = serde_json::from_value(
            serde_json::json!({ "start": "2026-11-24T10:00:00", "end": "2026-11-24T11:00:00Z" }),
        );
        assert!(parsed.is_err());
    }

    #[test]
    fn a_firm_profile_rejects_unknown_fields() {
        let parsed: Result<FirmProfile, _> = serde_json::from_value(serde_json::json!({
            "name": "Cabinet", "siret": "73282932000074", "id": "x"
        }));
        assert!(parsed.is_err());
    }
}
