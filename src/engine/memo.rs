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
use std::sync::OnceLock;

use chrono::NaiveDate;

use super::calendar::{Busy, Sweep};
use super::local_day::{LocalDay, PLUS_INF, Pick};
use super::day::{Need, first_free};
use crate::domain::ExpertiseType;

/// What a memo was made for besides its calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoKey {
    /// Slot length in seconds.
    pub duration: i64,
    /// The schedule fingerprint of the profile.
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
    ///
    /// One sweep over the calendar, like [`Need::first_rough_days`]: cursors only move
    /// forward from day to day, and each working range is cut by the day's obstacles in
    /// the order they start, so no day sorts or searches anything.
    pub fn build(key: MemoKey, need: &Need, frames: &[LocalDay], first_date: NaiveDate) -> Self {
        let (d, buffer) = (need.duration, i64::from(need.profile.buffer_minutes) * 60);
        let max_per_day = need.profile.max_appointments_per_day.map(usize::from);
        let mut spans = Vec::new();
        // Two pairs per day, then room for a few spans each.
        let mut days = Vec::with_capacity(6 * frames.len());
        let mut sweep = Sweep::new(need.sheet, buffer);
        for frame in frames {
            let first = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            let ranges = need
                .profile
                .weekly_hours
                .day(chrono::Datelike::weekday(&frame.date()));
            let (day_from, day_to) = frame.span();
            let entries = sweep.day((day_from, day_to));
            if max_per_day.is_none_or(|max| entries.count < max) {
                let obstacles = Obstacles {
                    absences: entries.absences,
                    appointments: entries.appointments,
                    duration: d,
                    buffer,
                };
                for range in ranges {
                    let lo = frame.at(range.start(), Pick::Earliest).max(day_from);
                    let hi = (frame.at(range.end(), Pick::Latest) - d).min(day_to - 1);
                    obstacles.cut(lo, hi, &mut spans);
                }
            }
            #[cfg(debug_assertions)]
            {
                let mut mine = spans[usize::try_from(first).unwrap_or(0)..].to_vec();
                super::spans::normalize(&mut mine);
                let open = Need {
                    place: None,
                    base_travel: None,
                    lo: super::local_day::MINUS_INF,
                    hi: PLUS_INF,
                    ..*need
                };
                let mut theirs = Vec::new();
                open.free_spans(frame, &mut super::day::Scratch::default(), &mut theirs);
                assert_eq!(mine, theirs, "memo spans of {}", frame.date());
            }
            let first_start = ranges
                .first()
                .map_or(PLUS_INF, |range| frame.at(range.start(), Pick::Earliest));
            let end = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            days.push((first, end));
            days.push((first_start, entries.first_visit_end));
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
        frame: &LocalDay,
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

/// The absences and appointments of a day, from the first that can still be in the way,
/// sorted by start.
struct Obstacles<'a> {
    absences: &'a [Busy],
    appointments: &'a [Busy],
    duration: i64,
    buffer: i64,
}

impl Obstacles<'_> {
    /// Appends to `spans` the starts of `[lo, hi]` whose slot meets no obstacle: each
    /// obstacle `[from, to)` (an appointment widened by the buffer) rules out the starts
    /// of `[from - duration + 1, to - 1]`; those holes are taken in the order of their
    /// first start, the two lists merged.
    fn cut(&self, lo: i64, hi: i64, spans: &mut Vec<(i64, i64)>) {
        if lo > hi {
            return;
        }
        let (d, buffer) = (self.duration, self.buffer);
        let (mut next_absence, mut next_booked) = (0, 0);
        let mut cursor = lo;
        loop {
            let absence = self.absences.get(next_absence).map(|b| (b.start, b.end));
            let booked = self
                .appointments
                .get(next_booked)
                .map(|b| (b.start - buffer, b.end + buffer));
            let (from, to) = match (absence, booked) {
                (Some(absence), Some(booked)) if absence.0 <= booked.0 => {
                    next_absence += 1;
                    absence
                }
                (_, Some(booked)) => {
                    next_booked += 1;
                    booked
                }
                (Some(absence), None) => {
                    next_absence += 1;
                    absence
                }
                (None, None) => break,
            };
            let (first, last) = (from - d + 1, to - 1);
            if first > hi {
                break;
            }
            if from >= to || last < cursor {
                continue;
            }
            if first > cursor {
                spans.push((cursor, first - 1));
            }
            cursor = last + 1;
            if cursor > hi {
                return;
            }
        }
        spans.push((cursor, hi));
    }
}
