//! The result policy of `search`: spread, ranking, no repeats, no overlaps.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;

use super::{at, directory, every_day, expert, north_of, paris, query, search, week_days};
use crate::domain::ExpertiseType;
use crate::engine::{Booked, Calendar, Slot};

fn per_day(slots: &[Slot]) -> BTreeMap<chrono::NaiveDate, usize> {
    let mut days = BTreeMap::new();
    for slot in slots {
        *days
            .entry(slot.start.with_timezone(&Paris).date_naive())
            .or_default() += 1;
    }
    days
}

#[test]
fn ten_slots_over_two_weeks_fall_on_ten_days_not_on_one_morning() {
    let experts = vec![expert(week_days(&[(8 * 60, 18 * 60)])); 3];
    let calendars = vec![Calendar::default(); 3];
    let q = query(
        ExpertiseType::Visio,
        "2026-11-23T00:00:00+01:00",
        "2026-12-07T00:00:00+01:00",
        10,
    );
    let slots = search(&directory(experts), &calendars, &q);
    assert_eq!(slots.len(), 10);
    assert_eq!(per_day(&slots).len(), 10);
    assert_eq!(slots[0].start, at("2026-11-23T08:00:00+01:00"));
}

#[test]
fn a_short_window_fills_up_once_each_day_had_its_share() {
    let experts = vec![expert(every_day(&[(8 * 60, 18 * 60)])); 2];
    let calendars = vec![Calendar::default(); 2];
    let q = query(
        ExpertiseType::Visio,
        "2026-11-23T00:00:00+01:00",
        "2026-11-26T00:00:00+01:00",
        10,
    );
    let slots = search(&directory(experts), &calendars, &q);
    assert_eq!(slots.len(), 10);
    assert_eq!(
        per_day(&slots).into_values().collect::<Vec<_>>(),
        vec![4, 4, 2]
    );
}

#[test]
fn one_expert_never_gets_two_overlapping_slots_nor_two_slots_the_same_start() {
    let q = query(
        ExpertiseType::Visio,
        "2026-11-23T00:00:00+01:00",
        "2026-11-24T00:00:00+01:00",
        6,
    );
    let slots = search(
        &directory(vec![expert(every_day(&[(8 * 60, 12 * 60)]))]),
        &[Calendar::default()],
        &q,
    );
    let starts: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
    assert_eq!(starts.len(), 5);
    assert!(slots.windows(2).all(|w| w[0].end <= w[1].start));
}

#[test]
fn at_one_start_the_expert_with_the_least_travel_wins() {
    // Both come from a visit ending at 07:30, before their day starts: 16 and 8 minutes.
    let visit = |km| {
        Calendar::new(
            vec![],
            vec![Booked {
                start: at("2026-11-23T07:00:00+01:00"),
                end: at("2026-11-23T07:30:00+01:00"),
                place: Some(north_of(&paris(), km)),
            }],
        )
    };
    let experts = vec![expert(every_day(&[(8 * 60, 18 * 60)])); 2];
    let q = query(
        ExpertiseType::Ess,
        "2026-11-23T00:00:00+01:00",
        "2026-11-24T00:00:00+01:00",
        1,
    );
    let slots = search(&directory(experts), &[visit(8.0), visit(4.0)], &q);
    assert_eq!((slots[0].expert, slots[0].travel_minutes), (1, 8));
    assert_eq!(slots[0].start, at("2026-11-23T08:00:00+01:00"));
}

#[test]
fn at_one_start_the_expert_least_loaded_that_week_wins_then_the_first() {
    let booked = |day: &str| Booked {
        start: at(&format!("2026-11-{day}T16:00:00+01:00")),
        end: at(&format!("2026-11-{day}T17:00:00+01:00")),
        place: None,
    };
    let busy = Calendar::new(vec![], vec![booked("24"), booked("25")]);
    let lighter = Calendar::new(vec![], vec![booked("26")]);
    let experts = vec![expert(every_day(&[(8 * 60, 18 * 60)])); 3];
    let q = query(
        ExpertiseType::Visio,
        "2026-11-23T00:00:00+01:00",
        "2026-11-24T00:00:00+01:00",
        1,
    );
    let slots = search(
        &directory(experts.clone()),
        &[busy.clone(), lighter.clone(), lighter.clone()],
        &q,
    );
    assert_eq!(slots[0].expert, 1);
    let slots = search(
        &directory(experts),
        &[busy, lighter.clone(), Calendar::default()],
        &q,
    );
    assert_eq!(slots[0].expert, 2);
}

#[test]
fn nothing_is_searched_for_zero_slots_or_an_on_site_request_without_place() {
    let d = directory(vec![expert(every_day(&[(8 * 60, 18 * 60)]))]);
    let q = query(
        ExpertiseType::Ess,
        "2026-11-23T00:00:00+01:00",
        "2026-11-24T00:00:00+01:00",
        0,
    );
    assert!(search(&d, &[Calendar::default()], &q).is_empty());
    let mut q = query(
        ExpertiseType::Ess,
        "2026-11-23T00:00:00+01:00",
        "2026-11-24T00:00:00+01:00",
        5,
    );
    q.place = None;
    let calendar = Calendar::default();
    let now = at("2020-01-01T00:00:00Z");
    assert!(
        d.search(
            &q,
            &[0],
            |_| &calendar,
            now,
            &crate::engine::Settings::default()
        )
        .is_empty()
    );
}

#[test]
fn experts_of_two_time_zones_compete_for_the_same_instant() {
    use chrono::Weekday;

    use crate::domain::WeeklyHours;

    // 22:00 in Paris on Tuesday is 01:00 on Wednesday in Réunion: the same instant.
    let paris = expert(WeeklyHours::from_days([(Weekday::Tue, vec![(22 * 60, 23 * 60)])]).unwrap());
    let mut reunion = expert(WeeklyHours::from_days([(Weekday::Wed, vec![(60, 2 * 60)])]).unwrap());
    reunion.time_zone = chrono_tz::Indian::Reunion.into();
    let monday = |hour: u32| Booked {
        start: at(&format!("2026-11-23T{hour}:00:00+01:00")),
        end: at(&format!("2026-11-23T{hour}:30:00+01:00")),
        place: None,
    };
    let busier = Calendar::new(vec![], vec![monday(10), monday(14)]);
    let q = query(
        ExpertiseType::Visio,
        "2026-11-24T00:00:00+01:00",
        "2026-11-26T00:00:00+01:00",
        1,
    );
    let slots = search(
        &directory(vec![paris, reunion]),
        &[busier, Calendar::default()],
        &q,
    );
    assert_eq!(slots.len(), 1);
    assert_eq!(
        (slots[0].expert, slots[0].start),
        (1, at("2026-11-24T21:00:00Z"))
    );
}
