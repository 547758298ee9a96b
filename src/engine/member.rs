//! One eligible expert of a search, with what the search reads of it.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::busy::Reach;
use super::calendar::Calendar;
use super::expert::{ExpertEntry, Schedule};
use super::local_day::ceil_secs;
use super::query::Query;
use super::settings::Settings;
use super::travel::Unit;
use crate::domain::expert::ExpertProfile;

/// One eligible expert with a non-empty window.
#[derive(Debug)]
pub(crate) struct Member<'a> {
    /// Index in the directory.
    pub expert: usize,
    /// The expert's profile.
    pub profile: &'a ExpertProfile,
    /// The expert's calendar.
    pub calendar: &'a Calendar,
    /// What searches read of the expert's schedule (hours, base, fingerprint).
    pub schedule: &'a Schedule,
    /// Index of the expert's time zone in the roster.
    pub zone: usize,
    /// Slot length in seconds.
    pub duration: i64,
    /// Earliest start allowed.
    pub lo: i64,
    /// Latest start allowed.
    pub hi: i64,
    /// Travel from the base to the place, in seconds (on site, with a base), once
    /// needed: most members are only ranked by their lower bounds.
    pub base_travel: OnceCell<Option<i64>>,
    /// A lower bound of `base_travel` found without trigonometry, for the bounds of the
    /// first free starts.
    pub base_floor: Option<i64>,
    /// Where the member's day entry ranges start in the roster's list, once built.
    pub entry_ranges: Option<usize>,
    /// Where the calendar in seconds lies, once the roster prepared it.
    pub busy: Option<Stored>,
    /// The start of the last local ISO week asked about, and the member's load in it.
    pub week: Option<(i64, u32)>,
}

/// Where a member's calendar in seconds lies.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stored {
    /// In the calendar, as [`Calendar::new`] made it.
    Own,
    /// In the roster's lists, from these positions.
    Roster(usize, usize, Reach),
}

/// The members among `eligible` (directory indexes into `experts` and `schedules`) that
/// have a non-empty window for `query`, ascending, and the time zones they use, each once.
pub(crate) fn members<'a, 'c: 'a>(
    (experts, schedules): (&'a [ExpertEntry], &'a [Schedule]),
    query: &Query,
    eligible: &[usize],
    calendar: impl Fn(usize) -> &'c Calendar,
    now: DateTime<Utc>,
    settings: &Settings,
) -> (Vec<Member<'a>>, Vec<Tz>) {
    let mut eligible = eligible.to_vec();
    eligible.sort_unstable();
    eligible.dedup();
    let unit = query.on_site_place().map(Unit::new);
    let (from, to) = (ceil_secs(query.from), query.to.timestamp());
    let now = ceil_secs(now);
    let mut zones: Vec<Tz> = Vec::new();
    let mut members = Vec::with_capacity(eligible.len());
    for expert in eligible.into_iter().filter(|&i| i < experts.len()) {
        // The schedule holds what is read here; the profile is only read for the few
        // expert-days computed in full.
        let schedule = &schedules[expert];
        let duration = schedule.duration(query.expertise_type);
        let (lo, hi) = (from.max(now + schedule.notice), to - duration);
        if lo > hi || schedule.hours.iter().all(Option::is_none) {
            continue;
        }
        let tz = schedule.tz;
        let zone = zones.iter().position(|&z| z == tz).unwrap_or_else(|| {
            zones.push(tz);
            zones.len() - 1
        });
        members.push(Member {
            expert,
            profile: &experts[expert].profile,
            calendar: calendar(expert),
            schedule,
            zone,
            duration,
            lo,
            hi,
            base_travel: OnceCell::new(),
            base_floor: schedule
                .base_unit
                .zip(unit)
                .map(|(base, place)| i64::from(place.travel_minutes_floor(&base, settings)) * 60),
            entry_ranges: None,
            busy: None,
            week: None,
        });
    }
    (members, zones)
}
