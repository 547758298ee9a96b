//! Unit tests of the engine, one file per concern, sharing the fixtures below.

mod dst;
mod free;
mod policy;
mod zones;

use chrono::{DateTime, Utc, Weekday};

use super::{Calendar, Directory, ExpertEntry, Query, Settings, Slot, Target};
use crate::domain::expert::{Base, ExpertProfile, Skills};
use crate::domain::text::Name;
use crate::domain::{
    ClaimType, Department, ExpertiseType, GeoPoint, InsuredType, Insurer, Money, PartnerKind,
    WeeklyHours,
};

/// The Paris town hall.
fn paris() -> GeoPoint {
    GeoPoint::new(48.8566, 2.3522).unwrap()
}

/// A point `km` kilometres north of `from`.
fn north_of(from: &GeoPoint, km: f64) -> GeoPoint {
    GeoPoint::new(from.lat() + km / 111.195, from.lon()).unwrap()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// The same ranges on every day of the week.
fn every_day(ranges: &[(u16, u16)]) -> WeeklyHours {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    WeeklyHours::from_days(days.map(|d| (d, ranges.to_vec()))).unwrap()
}

/// Monday to Friday only.
fn week_days(ranges: &[(u16, u16)]) -> WeeklyHours {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    WeeklyHours::from_days(days.map(|d| (d, ranges.to_vec()))).unwrap()
}

/// An expert in Paris skilled for `DDE` of every expertise type, working `hours`, with no
/// base, zone, buffer, notice or daily maximum.
fn expert(hours: WeeklyHours) -> ExpertProfile {
    ExpertProfile {
        external_ref: None,
        display_name: Name::parse("J. Martin").unwrap(),
        email: None,
        phone: None,
        partner_kind: PartnerKind::Expert,
        active: true,
        time_zone: crate::domain::TimeZone::default(),
        base: None,
        zone: crate::domain::expert::Zone {
            departments: vec![Department::parse("75").unwrap()],
            ..Default::default()
        },
        skills: Skills {
            claim_types: vec![ClaimType::parse("DDE").unwrap()],
            expertise_types: ExpertiseType::ALL.to_vec(),
            ..Default::default()
        },
        durations_minutes: crate::domain::expert::Durations::default(),
        buffer_minutes: 0,
        max_appointments_per_day: None,
        min_notice_hours: 0,
        weekly_hours: hours,
    }
}

fn with_base(mut profile: ExpertProfile, geo: GeoPoint) -> ExpertProfile {
    profile.base = Some(Base { address: None, geo });
    profile
}

/// A `DDE` request from AXA for a private individual, at the Paris town hall (75).
fn query(expertise_type: ExpertiseType, from: &str, to: &str, max_slots: usize) -> Query {
    Query {
        partner_kind: PartnerKind::Expert,
        insurer: Insurer::parse("AXA").unwrap(),
        insured_type: InsuredType::Particulier,
        claim_type: ClaimType::parse("DDE").unwrap(),
        expertise_type,
        dwelling_type: None,
        stake_total: Money::from_euros(4200).unwrap(),
        place: Some(Target {
            point: paris(),
            department: Some(Department::parse("75").unwrap()),
        }),
        from: at(from),
        to: at(to),
        max_slots,
    }
}

fn directory(profiles: Vec<ExpertProfile>) -> Directory {
    Directory::new(
        profiles
            .into_iter()
            .enumerate()
            .map(|(i, profile)| ExpertEntry {
                id: format!("e{i}"),
                profile,
            })
            .collect(),
    )
}

/// Every free start of expert 0 (alone in its directory) for `query`.
fn starts(profile: ExpertProfile, calendar: &Calendar, query: &Query) -> Vec<DateTime<Utc>> {
    let directory = directory(vec![profile]);
    let now = at("2020-01-01T00:00:00Z");
    let calendar = |_| calendar;
    directory
        .enumerate(query, &[0], calendar, now, &Settings::default())
        .into_iter()
        .map(|(_, start)| start)
        .collect()
}

/// The slots `search` gives for the directory's eligible experts, with no notice.
fn search(directory: &Directory, calendars: &[Calendar], query: &Query) -> Vec<Slot> {
    let eligible = directory.eligible(query).experts;
    let now = at("2020-01-01T00:00:00Z");
    let calendar = |i: usize| &calendars[i];
    directory.search(query, &eligible, calendar, now, &Settings::default())
}
