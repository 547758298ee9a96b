//! The store contract, checked on every engine: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod bookings;
mod catalog;
mod groups;

use chrono::{TimeZone, Utc};
use creneau::domain::expert::ExpertProfile;
use creneau::domain::firm::{FirmProfile, NewAbsence};

use crate::helpers::expert_body;

pub fn firm_profile(name: &str) -> FirmProfile {
    FirmProfile::from_stored(name.into(), "73282932000074", "Europe/Paris").unwrap()
}

pub fn expert_profile(name: &str) -> ExpertProfile {
    serde_json::from_value(expert_body(name)).unwrap()
}

pub fn absence(day: u32) -> NewAbsence {
    NewAbsence {
        start: Utc.with_ymd_and_hms(2026, 12, day, 8, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 12, day, 17, 0, 0).unwrap(),
        reason: Some("formation".into()),
    }
}
