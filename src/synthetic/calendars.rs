//! Calendars: CONFIRMED appointments up to the requested occupancy, and days off.

use chrono::{DateTime, Datelike as _, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone as _, Utc};
use chrono_tz::Tz;

use crate::domain::GeoPoint;
use crate::domain::expert::ExpertProfile;
use crate::engine::{Booked, Calendar, Interval, Settings, travel_minutes};

use rand::Rng as _;

use super::{ABSENCE_RATE, SyntheticConfig, SyntheticRng, around, pick};

/// The instant of local `minute` of `date` (the first one when repeated, the next hour's
/// when skipped by a DST change).
pub(super) fn local(tz: Tz, date: NaiveDate, minute: u16) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + TimeDelta::hours(1)))
                .earliest()
        })
        .expect("a local time exists within the hour")
        .with_timezone(&Utc)
}

pub(super) fn calendar(
    profile: &ExpertProfile,
    config: &SyntheticConfig,
    rng: &mut SyntheticRng,
) -> Calendar {
    let tz = profile.time_zone.tz();
    let first = config.start.with_timezone(&tz).date_naive();
    let (mut absences, mut appointments) = (Vec::new(), Vec::new());
    for date in (0..config.days).filter_map(|d| first.checked_add_days(Days::new(d.into()))) {
        if profile.weekly_hours.day(date.weekday()).is_empty() {
            continue;
        }
        if rng.random_bool(ABSENCE_RATE) {
            let end = date.succ_opt().unwrap_or(date);
            absences.push(Interval {
                start: local(tz, date, 0),
                end: local(tz, end, 0),
            });
        } else {
            fill_day(profile, config.occupancy, date, rng, &mut appointments);
        }
    }
    Calendar::new(absences, appointments)
}

/// Books about `occupancy` of the day's working time: draws the appointments, then lays
/// them out in the working ranges on the 15-minute grid with the idle time spread randomly
/// between them, each after the previous one by the buffer or the travel between on-site
/// places, whichever is longer.
fn fill_day(
    profile: &ExpertProfile,
    occupancy: f64,
    date: NaiveDate,
    rng: &mut SyntheticRng,
    out: &mut Vec<Booked>,
) {
    let tz = profile.time_zone.tz();
    let mut ranges = profile.weekly_hours.day(date.weekday()).iter();
    let working: u16 = ranges.clone().map(|r| r.end() - r.start()).sum();
    let planned = draw_day(profile, occupancy * f64::from(working), rng);
    let busy: u16 = planned.iter().map(|p| p.0 + profile.buffer_minutes).sum();
    let mut idle = working.saturating_sub(busy);
    let (Some(mut range), mut previous) = (ranges.next(), None) else {
        return;
    };
    for (index, &(minutes, place)) in planned.iter().enumerate() {
        let gaps = u16::try_from(planned.len() - index + 1).unwrap_or(u16::MAX);
        let steps = rng.random_range(0..=2 * idle / gaps / 15);
        let mut slack = (15 * steps).min(idle);
        idle -= slack;
        let earliest = previous.map_or(0, |(end, from): (u16, Option<GeoPoint>)| {
            let travel = match (from, place) {
                (Some(a), Some(b)) => travel_minutes(&a, &b, &Settings::default()),
                _ => 0,
            };
            let apart = profile
                .buffer_minutes
                .max(u16::try_from(travel).unwrap_or(999));
            end.saturating_add(apart)
        });
        loop {
            let start = earliest.max(range.start()).div_ceil(15) * 15 + slack;
            if start + minutes <= range.end() {
                out.push(Booked {
                    start: local(tz, date, start),
                    end: local(tz, date, start + minutes),
                    place,
                });
                previous = Some((start + minutes, place));
                break;
            }
            if slack > 0 {
                slack = 0;
            } else if let Some(next) = ranges.next() {
                range = next;
            } else {
                return;
            }
        }
    }
}

/// The day's appointments until `target` minutes are booked (to the nearest one) or the
/// daily maximum is reached: length, and place when on site.
fn draw_day(
    profile: &ExpertProfile,
    mut target: f64,
    rng: &mut SyntheticRng,
) -> Vec<(u16, Option<GeoPoint>)> {
    let max = usize::from(profile.max_appointments_per_day.unwrap_or(u16::MAX));
    let mut planned = Vec::new();
    while planned.len() < max {
        let kind = pick(rng, &profile.skills.expertise_types);
        let minutes = profile.durations_minutes.get(kind);
        if target < f64::from(minutes) / 2.0 {
            break;
        }
        let base = profile
            .base
            .as_ref()
            .map(|b| b.geo)
            .filter(|_| !kind.is_remote());
        planned.push((minutes, base.map(|b| around(rng, b.lat(), b.lon(), 8.0))));
        target -= f64::from(minutes);
    }
    planned
}
