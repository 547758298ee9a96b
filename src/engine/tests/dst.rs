//! Working hours on the days the clocks change in Paris.

use chrono::{Timelike as _, Weekday};
use chrono_tz::Europe::Paris;

use super::{at, expert, query, starts};
use crate::domain::{ExpertiseType, WeeklyHours};
use crate::engine::Calendar;

fn sunday(ranges: &[(u16, u16)]) -> WeeklyHours {
    WeeklyHours::from_days([(Weekday::Sun, ranges.to_vec())]).unwrap()
}

#[test]
fn no_slot_starts_at_a_local_time_that_does_not_exist_on_the_spring_forward_day() {
    let q = query(
        ExpertiseType::Visio,
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
        10,
    );
    let found = starts(expert(sunday(&[(0, 1440)])), &Calendar::default(), &q);
    assert!(found.iter().all(|s| s.with_timezone(&Paris).hour() != 2));
    // A 23-hour day holds (1380 - 45) / 15 + 1 starts of 45 minutes.
    assert_eq!(found.len(), 90);
    assert!(found.contains(&at("2026-03-29T01:45:00+01:00")));
    assert!(found.contains(&at("2026-03-29T03:00:00+02:00")));
}

#[test]
fn an_eight_to_noon_range_on_the_spring_forward_day_starts_at_eight_summer_time() {
    let q = query(
        ExpertiseType::Visio,
        "2026-03-28T00:00:00Z",
        "2026-03-31T00:00:00Z",
        10,
    );
    let found = starts(
        expert(sunday(&[(8 * 60, 12 * 60)])),
        &Calendar::default(),
        &q,
    );
    assert_eq!(found.first(), Some(&at("2026-03-29T08:00:00+02:00")));
    assert_eq!(found.last(), Some(&at("2026-03-29T11:15:00+02:00")));
    assert_eq!(found.len(), 14);
}

#[test]
fn a_range_starting_in_the_spring_gap_starts_at_three() {
    let q = query(
        ExpertiseType::Visio,
        "2026-03-28T00:00:00Z",
        "2026-03-31T00:00:00Z",
        10,
    );
    let found = starts(
        expert(sunday(&[(2 * 60 + 30, 5 * 60)])),
        &Calendar::default(),
        &q,
    );
    assert_eq!(found.first(), Some(&at("2026-03-29T03:00:00+02:00")));
    assert_eq!(found.len(), 6);
}

#[test]
fn the_repeated_hour_of_the_fall_back_day_gives_each_start_once() {
    let q = query(
        ExpertiseType::Visio,
        "2026-10-24T00:00:00Z",
        "2026-10-27T00:00:00Z",
        10,
    );
    let found = starts(expert(sunday(&[(60, 4 * 60)])), &Calendar::default(), &q);
    // 01:00 +02:00 to 04:00 +01:00 is four real hours: (240 - 45) / 15 + 1 starts.
    assert_eq!(found.len(), 14);
    assert!(found.windows(2).all(|w| w[0] < w[1]));
    assert!(found.contains(&at("2026-10-25T02:00:00+02:00")));
    assert!(found.contains(&at("2026-10-25T02:00:00+01:00")));
}

#[test]
fn a_range_ending_in_the_repeated_hour_ends_at_its_second_occurrence() {
    let q = query(
        ExpertiseType::Visio,
        "2026-10-24T00:00:00Z",
        "2026-10-27T00:00:00Z",
        10,
    );
    let found = starts(
        expert(sunday(&[(0, 2 * 60 + 30)])),
        &Calendar::default(),
        &q,
    );
    assert_eq!(found.last(), Some(&at("2026-10-25T01:45:00+01:00")));
    // 00:00 +02:00 to 02:30 +01:00 is three and a half real hours.
    assert_eq!(found.len(), (210 - 45) / 15 + 1);
}

#[test]
fn an_expert_in_noumea_works_in_noumea_time() {
    let mut profile = expert(sunday(&[(8 * 60, 9 * 60)]));
    profile.time_zone = chrono_tz::Pacific::Noumea.into();
    let q = query(
        ExpertiseType::Visio,
        "2026-03-28T00:00:00Z",
        "2026-03-31T00:00:00Z",
        10,
    );
    let found = starts(profile, &Calendar::default(), &q);
    assert_eq!(found.first(), Some(&at("2026-03-29T08:00:00+11:00")));
    assert_eq!(found.len(), 2);
}
