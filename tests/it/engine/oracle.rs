//! A deliberately naive oracle of the "eligible" and "free" rules (protocol "Etape 1"),
//! written straight from the rules, minute by minute, sharing nothing with the engine but
//! its input types.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use creneau::domain::GeoPoint;
use creneau::domain::expert::ExpertProfile;
use creneau::engine::{Booked, Calendar, Query, Settings};

/// Great-circle distance in kilometres, mean Earth radius 6371 km, points in a fixed
/// order so that both directions give the same float.
pub fn distance_km(a: &GeoPoint, b: &GeoPoint) -> f64 {
    let (a, b) = if (a.lat(), a.lon()) <= (b.lat(), b.lon()) {
        (a, b)
    } else {
        (b, a)
    };
    let (p1, p2) = (a.lat().to_radians(), b.lat().to_radians());
    let dp = (p2 - p1) / 2.0;
    let dl = (b.lon() - a.lon()).to_radians() / 2.0;
    let h = dp.sin().powi(2) + p1.cos() * p2.cos() * dl.sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// Travel minutes: `ceil(km * detour / speed * 60)` (small and positive in the tests).
#[allow(clippy::cast_possible_truncation)]
pub fn travel(a: &GeoPoint, b: &GeoPoint, settings: &Settings) -> i64 {
    (distance_km(a, b) * settings.detour_factor / settings.speed_kmh * 60.0).ceil() as i64
}

/// Whether `profile` may take `query`.
pub fn eligible(profile: &ExpertProfile, query: &Query) -> bool {
    failed_rule(profile, query).is_none()
}

/// The number (0 = kind, 1 = skill, 2 = insurer, 3 = insured type, 4 = dwelling type,
/// 5 = stake, 6 = zone) of the first rule `profile` fails for `query`.
pub fn failed_rule(profile: &ExpertProfile, query: &Query) -> Option<u8> {
    let s = &profile.skills;
    if !profile.active || profile.partner_kind != query.partner_kind {
        return Some(0);
    }
    if !s.claim_types.contains(&query.claim_type) {
        return Some(1);
    }
    if !s.expertise_types.contains(&query.expertise_type) {
        return Some(1);
    }
    if !s.insurers.is_empty() && !s.insurers.contains(&query.insurer) {
        return Some(2);
    }
    if !s.insured_types.is_empty() && !s.insured_types.contains(&query.insured_type) {
        return Some(3);
    }
    if let Some(dwelling) = &query.dwelling_type {
        if !s.dwelling_types.is_empty() && !s.dwelling_types.contains(dwelling) {
            return Some(4);
        }
    }
    if let Some(max) = s.max_stake {
        if query.stake_total > max {
            return Some(5);
        }
    }
    if query.expertise_type.is_remote() {
        return None;
    }
    let Some(target) = &query.place else {
        return Some(6);
    };
    let mut inside = false;
    if let Some(department) = &target.department {
        if profile.zone.departments.contains(department) {
            inside = true;
        }
    }
    if let (Some(base), Some(radius)) = (&profile.base, profile.zone.radius_km) {
        if distance_km(&base.geo, &target.point) <= f64::from(radius) {
            inside = true;
        }
    }
    if let Some(area) = &profile.zone.area {
        if area.contains(&target.point) {
            inside = true;
        }
    }
    if inside { None } else { Some(6) }
}

/// The instant of local `minute` (0..=1440) of `date`: a gap moves forward minute by
/// minute to the first time that exists; a repeated time gives the first or last instant.
fn local_instant(tz: Tz, date: NaiveDate, minute: u16, last: bool) -> DateTime<Utc> {
    let mut naive = date.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(i64::from(minute));
    loop {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => {
                return if last { b } else { a }.with_timezone(&Utc);
            }
            LocalResult::None => naive += Duration::minutes(1),
        }
    }
}

fn local_date(profile: &ExpertProfile, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&profile.time_zone.tz()).date_naive()
}

fn overlaps(a: DateTime<Utc>, b: DateTime<Utc>, c: DateTime<Utc>, d: DateTime<Utc>) -> bool {
    a.max(c) < b.min(d)
}

/// The on-site appointments starting on local date `date`.
fn visits<'a>(profile: &ExpertProfile, calendar: &'a Calendar, date: NaiveDate) -> Vec<&'a Booked> {
    let same_day = |b: &&Booked| local_date(profile, b.start) == date;
    calendar
        .appointments
        .iter()
        .filter(same_day)
        .filter(|b| b.place.is_some())
        .collect()
}

/// Whether `[start, start + duration)` is a free slot of the expert for `query`.
pub fn is_free(
    profile: &ExpertProfile,
    calendar: &Calendar,
    query: &Query,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &Settings,
) -> bool {
    let tz = profile.time_zone.tz();
    let duration = Duration::minutes(i64::from(
        profile.durations_minutes.get(query.expertise_type),
    ));
    let end = start + duration;
    let local = start.with_timezone(&tz);
    // 1. On the grid of local time.
    let minute_of_day = local.hour() * 60 + local.minute();
    if local.second() != 0 || start.timestamp_subsec_nanos() != 0 {
        return false;
    }
    if minute_of_day % settings.grid_minutes != 0 {
        return false;
    }
    // 2. Inside one working range of that local date.
    let date = local.date_naive();
    let ranges = profile.weekly_hours.day(date.weekday());
    let mut inside = false;
    for range in ranges {
        let from = local_instant(tz, date, range.start(), false);
        let to = local_instant(tz, date, range.end(), true);
        if from <= start && end <= to {
            inside = true;
        }
    }
    if !inside {
        return false;
    }
    // 3. No absence, no widened appointment.
    for absence in &calendar.absences {
        if overlaps(start, end, absence.start, absence.end) {
            return false;
        }
    }
    let buffer = Duration::minutes(i64::from(profile.buffer_minutes));
    for booked in &calendar.appointments {
        if overlaps(start, end, booked.start - buffer, booked.end + buffer) {
            return false;
        }
    }
    // 4. Travel, on site.
    if !query.expertise_type.is_remote() {
        let Some(target) = &query.place else {
            return false;
        };
        let place = target.point;
        let day = visits(profile, calendar, date);
        let before: Vec<&&Booked> = day.iter().filter(|b| b.end <= start).collect();
        if let Some(last_end) = before.iter().map(|b| b.end).max() {
            for b in before.iter().filter(|b| b.end == last_end) {
                let t = travel(b.place.as_ref().unwrap(), &place, settings);
                if start < b.end + Duration::minutes(t) {
                    return false;
                }
            }
        } else if let Some(base) = &profile.base {
            let first = local_instant(tz, date, ranges[0].start(), false);
            if start < first + Duration::minutes(travel(&base.geo, &place, settings)) {
                return false;
            }
        }
        let after: Vec<&&Booked> = day.iter().filter(|b| b.start >= end).collect();
        if let Some(first_start) = after.iter().map(|b| b.start).min() {
            for b in after.iter().filter(|b| b.start == first_start) {
                let t = travel(&place, b.place.as_ref().unwrap(), settings);
                if end + Duration::minutes(t) > b.start {
                    return false;
                }
            }
        }
    }
    // 5. Daily maximum.
    if let Some(max) = profile.max_appointments_per_day {
        let count = calendar
            .appointments
            .iter()
            .filter(|b| local_date(profile, b.start) == date)
            .count();
        if count >= usize::from(max) {
            return false;
        }
    }
    // 6. Notice.
    if start < now + Duration::hours(i64::from(profile.min_notice_hours)) {
        return false;
    }
    // 7. Window.
    start >= query.from && end <= query.to
}

/// The travel minutes of a slot starting at `start`: from the on-site appointment of the
/// day with the greatest end before it (the longest trip on a tie), else from the base.
pub fn travel_of(
    profile: &ExpertProfile,
    calendar: &Calendar,
    query: &Query,
    start: DateTime<Utc>,
    settings: &Settings,
) -> u32 {
    if query.expertise_type.is_remote() {
        return 0;
    }
    let place = query.place.as_ref().unwrap().point;
    let day = visits(profile, calendar, local_date(profile, start));
    let before: Vec<&&Booked> = day.iter().filter(|b| b.end <= start).collect();
    let minutes = if let Some(last_end) = before.iter().map(|b| b.end).max() {
        before
            .iter()
            .filter(|b| b.end == last_end)
            .map(|b| travel(b.place.as_ref().unwrap(), &place, settings))
            .max()
            .unwrap()
    } else if let Some(base) = &profile.base {
        travel(&base.geo, &place, settings)
    } else {
        0
    };
    u32::try_from(minutes).unwrap()
}

/// Confirmed appointments starting in the local ISO week of `start`.
pub fn load(profile: &ExpertProfile, calendar: &Calendar, start: DateTime<Utc>) -> usize {
    let week = local_date(profile, start).iso_week();
    calendar
        .appointments
        .iter()
        .filter(|b| local_date(profile, b.start).iso_week() == week)
        .count()
}

/// Every free start of the expert in the query window, scanning every minute.
pub fn free_starts(
    profile: &ExpertProfile,
    calendar: &Calendar,
    query: &Query,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Vec<DateTime<Utc>> {
    let tz = profile.time_zone.tz();
    let first = Utc
        .timestamp_opt(query.from.timestamp().div_euclid(60) * 60, 0)
        .unwrap();
    let mut out = Vec::new();
    let mut at = first;
    while at < query.to {
        let local = at.with_timezone(&tz);
        if (local.hour() * 60 + local.minute()) % settings.grid_minutes == 0
            && is_free(profile, calendar, query, at, now, settings)
        {
            out.push(at);
        }
        at += Duration::minutes(1);
    }
    out
}
