//! The "free" rules, one at a time, on a Monday in Paris (2026-11-23, UTC+1).

use super::{at, every_day, expert, north_of, paris, query, starts, with_base};
use crate::domain::ExpertiseType;
use crate::engine::{Blocker, Booked, Calendar, Interval, Settings, check_slot};

const FROM: &str = "2026-11-23T00:00:00+01:00";
const TO: &str = "2026-11-24T00:00:00+01:00";

fn booked(start: &str, end: &str, place: Option<crate::domain::GeoPoint>) -> Booked {
    Booked {
        start: at(start),
        end: at(end),
        place,
    }
}

#[test]
fn a_buffer_keeps_free_time_on_both_sides_of_an_appointment() {
    let mut profile = expert(every_day(&[(9 * 60, 13 * 60)]));
    profile.buffer_minutes = 15;
    let calendar = Calendar::new(
        vec![],
        vec![booked(
            "2026-11-23T10:00:00+01:00",
            "2026-11-23T11:00:00+01:00",
            None,
        )],
    );
    let found = starts(
        profile,
        &calendar,
        &query(ExpertiseType::Visio, FROM, TO, 10),
    );
    assert!(found.contains(&at("2026-11-23T09:00:00+01:00")));
    assert!(!found.contains(&at("2026-11-23T09:15:00+01:00")));
    assert!(!found.contains(&at("2026-11-23T11:00:00+01:00")));
    assert_eq!(found[1], at("2026-11-23T11:15:00+01:00"));
}

#[test]
fn the_first_on_site_slot_leaves_time_to_come_from_the_base() {
    // 19.9 km away: 38.8 minutes with the default detour and speed, rounded up to 39.
    let profile = with_base(
        expert(every_day(&[(8 * 60, 18 * 60)])),
        north_of(&paris(), 19.9),
    );
    let found = starts(
        profile.clone(),
        &Calendar::default(),
        &query(ExpertiseType::Ess, FROM, TO, 10),
    );
    assert_eq!(found.first(), Some(&at("2026-11-23T08:45:00+01:00")));
    let travel = check_slot(
        &profile,
        &Calendar::default(),
        ExpertiseType::Ess,
        Some(&paris()),
        found[0],
        found[0] + chrono::Duration::minutes(90),
        at(FROM),
        &Settings::default(),
    );
    assert_eq!(travel, Ok(39));
}

#[test]
fn on_site_slots_leave_time_to_travel_from_and_to_the_other_visits() {
    // 10 km away: 19.5 minutes, rounded up to 20. The remote call at 14:00 needs no travel.
    let calendar = Calendar::new(
        vec![],
        vec![
            booked(
                "2026-11-23T10:00:00+01:00",
                "2026-11-23T11:00:00+01:00",
                Some(north_of(&paris(), 10.0)),
            ),
            booked(
                "2026-11-23T14:00:00+01:00",
                "2026-11-23T14:30:00+01:00",
                None,
            ),
        ],
    );
    let profile = expert(every_day(&[(8 * 60, 18 * 60)]));
    let found = starts(
        profile.clone(),
        &calendar,
        &query(ExpertiseType::Ess, FROM, TO, 10),
    );
    // 08:00 + 90 min + 20 min reaches the visit at 09:50; 08:15 would be late.
    assert_eq!(found[0], at("2026-11-23T08:00:00+01:00"));
    assert_eq!(found[1], at("2026-11-23T11:30:00+01:00"));
    assert!(found.contains(&at("2026-11-23T12:30:00+01:00")));
    assert!(found.contains(&at("2026-11-23T14:30:00+01:00")));
    let slot = at("2026-11-23T11:30:00+01:00");
    let travel = check_slot(
        &profile,
        &calendar,
        ExpertiseType::Ess,
        Some(&paris()),
        slot,
        slot + chrono::Duration::minutes(90),
        at(FROM),
        &Settings::default(),
    );
    assert_eq!(travel, Ok(20));
}

#[test]
fn a_day_at_its_maximum_of_appointments_offers_nothing() {
    let mut profile = expert(every_day(&[(8 * 60, 18 * 60)]));
    profile.max_appointments_per_day = Some(1);
    let calendar = Calendar::new(
        vec![],
        vec![booked(
            "2026-11-23T08:00:00+01:00",
            "2026-11-23T09:00:00+01:00",
            None,
        )],
    );
    let q = query(ExpertiseType::Visio, FROM, "2026-11-25T00:00:00+01:00", 10);
    let found = starts(profile, &calendar, &q);
    assert_eq!(found.first(), Some(&at("2026-11-24T08:00:00+01:00")));
}

#[test]
fn no_slot_starts_before_the_minimum_notice() {
    let mut profile = expert(every_day(&[(8 * 60, 18 * 60)]));
    profile.min_notice_hours = 24;
    let now = at("2026-11-23T09:05:00+01:00");
    let q = query(ExpertiseType::Visio, FROM, "2026-11-26T00:00:00+01:00", 10);
    let directory = super::directory(vec![profile]);
    let calendar = Calendar::default();
    let found = directory.enumerate(&q, &[0], |_| &calendar, now, &Settings::default());
    assert_eq!(
        found.first().map(|p| p.1),
        Some(at("2026-11-24T09:15:00+01:00"))
    );
}

#[test]
fn an_absence_removes_the_slots_it_overlaps() {
    let profile = expert(every_day(&[(8 * 60, 12 * 60)]));
    let absence = Interval {
        start: at("2026-11-23T08:00:00+01:00"),
        end: at("2026-11-23T11:00:00+01:00"),
    };
    let found = starts(
        profile,
        &Calendar::new(vec![absence], vec![]),
        &query(ExpertiseType::Visio, FROM, TO, 10),
    );
    assert_eq!(
        found,
        vec![
            at("2026-11-23T11:00:00+01:00"),
            at("2026-11-23T11:15:00+01:00")
        ]
    );
}

#[test]
fn check_slot_refuses_a_taken_a_misshapen_or_a_placeless_slot() {
    let profile = expert(every_day(&[(8 * 60, 18 * 60)]));
    let calendar = Calendar::new(
        vec![],
        vec![booked(
            "2026-11-23T10:00:00+01:00",
            "2026-11-23T11:00:00+01:00",
            None,
        )],
    );
    let check = |start: &str, minutes: i64, place| {
        let start = at(start);
        check_slot(
            &profile,
            &calendar,
            ExpertiseType::Ess,
            place,
            start,
            start + chrono::Duration::minutes(minutes),
            at(FROM),
            &Settings::default(),
        )
    };
    let here = paris();
    assert_eq!(check("2026-11-23T08:00:00+01:00", 90, Some(&here)), Ok(0));
    assert_eq!(
        check("2026-11-23T09:00:00+01:00", 90, Some(&here)),
        Err(Blocker::FullyBooked)
    );
    assert_eq!(
        check("2026-11-23T08:00:00+01:00", 60, Some(&here)),
        Err(Blocker::FullyBooked)
    );
    assert_eq!(
        check("2026-11-23T08:05:00+01:00", 90, Some(&here)),
        Err(Blocker::FullyBooked)
    );
    assert_eq!(
        check("2026-11-23T08:00:00+01:00", 90, None),
        Err(Blocker::OutOfZone)
    );
}

#[test]
fn entries_pushed_after_the_calendar_was_built_still_count() {
    let profile = expert(every_day(&[(8 * 60, 12 * 60)]));
    // Built empty, filled through its public lists afterwards: the seconds made by
    // `Calendar::new` are stale, and must not be used.
    let mut calendar = Calendar::new(vec![], vec![]);
    calendar.absences.push(Interval {
        start: at("2026-11-23T08:00:00+01:00"),
        end: at("2026-11-23T10:00:00+01:00"),
    });
    calendar.appointments.push(booked(
        "2026-11-23T10:00:00+01:00",
        "2026-11-23T11:00:00+01:00",
        None,
    ));
    let query = query(ExpertiseType::Visio, FROM, TO, 10);
    let found = starts(profile.clone(), &calendar, &query);
    assert_eq!(
        found,
        vec![
            at("2026-11-23T11:00:00+01:00"),
            at("2026-11-23T11:15:00+01:00")
        ]
    );
    let start = at("2026-11-23T10:00:00+01:00");
    let checked = check_slot(
        &profile,
        &calendar,
        ExpertiseType::Visio,
        None,
        start,
        start + chrono::Duration::minutes(45),
        at(FROM),
        &Settings::default(),
    );
    assert_eq!(checked, Err(Blocker::FullyBooked));
}
