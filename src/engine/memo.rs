//! Per calendar, the free starts of each local day with the trips left out, kept from one
//! search to the next.
//!
//! What the lower bound of an on-site expert-day needs ([`Need::first_rough_days`]) does
//! not depend on the request but for three numbers: the earliest start (window and
//! notice), the latest start, and the trip from the base to the place. So the day's free
//! start spans without any trip (the working ranges shrunk by the slot length, minus the
//! absences and the appointments widened by the buffer, nothing when the daily maximum is
//! reached) are computed once per calendar and slot length, with the day's first working
//! start and the end of its first on-site visit; a search then reads a bound in a few
//! comparisons instead of walking the calendar. Calendars are shared between searches
//! (the server caches them), so this is the slot engine's index across requests: it is
//! rebuilt whenever a calendar is (after a booking, an absence, or the cache's delay).
//!
//! A memo answers only for the schedule it was made with: the slot length and a
//! fingerprint of the expert's time zone, hours, buffer and daily maximum. Another
//! schedule, or a date it does not cover, falls back to the walk.
//!
//! [`Need::first_rough_days`]: super::day::Need

use std::fmt;
use std::hash::{Hash as _, Hasher as _};
use std::sync::OnceLock;

use chrono::NaiveDate;

use super::calendar::starting_in;
use super::clock::{Frame, MINUS_INF, PLUS_INF, Pick};
use super::day::{Need, Scratch, first_free};
use crate::domain::ExpertiseType;
use crate::domain::expert::ExpertProfile;

/// The fingerprint of what a memo depends on in a profile: time zone, weekly hours, buffer
/// and daily maximum.
pub(crate) fn schedule_fingerprint(profile: &ExpertProfile) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    profile.time_zone.hash(&mut hasher);
    profile.weekly_hours.hash(&mut hasher);
    profile.buffer_minutes.hash(&mut hasher);
    profile.max_appointments_per_day.hash(&mut hasher);
    hasher.finish()
}

/// What a memo was made for besides its calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoKey {
    /// Slot length in seconds.
    pub duration: i64,
    /// [`schedule_fingerprint`] of the profile.
    pub schedule: u64,
}

/// The free start spans, without trips, of consecutive local days of one calendar.
///
/// Everything lives in one allocation, as a search reads one memo per eligible expert
/// and each read is a likely cache miss: first two pairs per day, `(first span, end of
/// its spans)` as positions after the days, then `(start of the first working range, end
/// of the first on-site visit)` ([`PLUS_INF`] when none); then the spans.
#[derive(Debug)]
pub(crate) struct DayMemo {
    key: MemoKey,
    first_date: NaiveDate,
    days: usize,
    data: Box<[(i64, i64)]>,
}

impl DayMemo {
    /// The memo of `need`'s calendar for the dates of `frames` (consecutive, in order,
    /// from `first_date`); the request parts of `need` (window, place) are ignored.
    pub fn build(key: MemoKey, need: &Need, frames: &[Frame], first_date: NaiveDate) -> Self {
        let open = Need {
            place: None,
            base_travel: None,
            lo: MINUS_INF,
            hi: PLUS_INF,
            ..*need
        };
        let mut scratch = Scratch::default();
        let mut spans = Vec::new();
        let mut days = Vec::with_capacity(2 * frames.len());
        for frame in frames {
            let first = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            open.free_spans(frame, &mut scratch, &mut spans);
            let weekday = chrono::Datelike::weekday(&frame.date());
            let first_start = need
                .profile
                .weekly_hours
                .day(weekday)
                .first()
                .map_or(PLUS_INF, |range| frame.at(range.start(), Pick::Earliest));
            let (from, to) = frame.span();
            let first_visit_end = starting_in(need.sheet.appointments, from, to)
                .iter()
                .filter(|b| b.place.is_some())
                .map(|b| b.end)
                .min()
                .unwrap_or(PLUS_INF);
            let end = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            days.push((first, end));
            days.push((first_start, first_visit_end));
        }
        let count = frames.len();
        days.extend_from_slice(&spans);
        Self {
            key,
            first_date,
            days: count,
            data: days.into_boxed_slice(),
        }
    }

    /// Where the plan's first date is among the memo's days, when the memo was made for
    /// `key` and covers `days` days from `first_date`.
    pub fn offset(&self, key: MemoKey, first_date: NaiveDate, days: usize) -> Option<usize> {
        let offset = if first_date == self.first_date {
            0
        } else {
            usize::try_from((first_date - self.first_date).num_days()).ok()?
        };
        (self.key == key && offset + days <= self.days).then_some(offset)
    }

    /// The first grid-aligned start of memo day `day` (whose frame is `frame`) in
    /// `[lo, hi]` that is free but for the trips between visits, the trip from the base
    /// (`base_travel` seconds, when on site with a base) counting: what
    /// [`Need::first_rough_days`](super::day::Need) finds by walking; [`PLUS_INF`] when
    /// none.
    pub fn first_rough(
        &self,
        day: usize,
        frame: &Frame,
        (lo, hi): (i64, i64),
        base_travel: Option<i64>,
        grid: i64,
    ) -> i64 {
        let ((first, end), (first_start, first_visit_end)) =
            (self.data[2 * day], self.data[2 * day + 1]);
        let at = |i: i64| 2 * self.days + usize::try_from(i).unwrap_or(usize::MAX);
        let spans = &self.data[at(first)..at(end)];
        if spans.is_empty() {
            return PLUS_INF;
        }
        let mut start = lo.max(first_start).max(frame.span().0);
        if let Some(base) = base_travel {
            start = start.max((first_start + base).min(first_visit_end));
        }
        first_free(frame, spans, start, grid)
            .filter(|&s| s <= hi)
            .unwrap_or(PLUS_INF)
    }
}

/// A calendar's memos, one per expertise type (each has its own slot length). Cloning a
/// calendar starts with none; two calendars compare equal whatever their memos.
#[derive(Default)]
pub(crate) struct Memos([OnceLock<DayMemo>; ExpertiseType::ALL.len()]);

impl Memos {
    /// The memo slot of `expertise_type`.
    pub fn slot(&self, expertise_type: ExpertiseType) -> &OnceLock<DayMemo> {
        &self.0[expertise_type.index()]
    }
}

impl Clone for Memos {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for Memos {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Memos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let made = self.0.iter().filter(|m| m.get().is_some()).count();
        write!(f, "Memos({made} made)")
    }
}
