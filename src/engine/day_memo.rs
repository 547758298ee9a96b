//! Per calendar and expertise type, the free start spans of each local day with the trips
//! left out, kept from one search to the next.
//!
//! Those spans depend on the calendar and the expert's schedule only, so a search reads an
//! on-site expert-day's lower bound from them in a few comparisons instead of walking the
//! calendar; calendars are shared between searches, so this is the engine's index across
//! requests. A memo answers only for the slot length and schedule it was made with.

use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;

#[cfg(debug_assertions)]
use super::availability::Scratch;
use super::availability::{ExpertRequest, first_free};
use super::busy::DaySweep;
use super::local_day::{LocalDay, PLUS_INF, Pick};
use super::obstacles::DayObstacles;
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
    /// The memo of `request`'s calendar for the dates of `frames` (consecutive, in order,
    /// from `first_date`); the request parts of `request` (window, place) are ignored.
    ///
    /// One sweep over the calendar, like [`ExpertRequest::first_starts_without_trips`], so
    /// that no day sorts or searches anything.
    pub fn build(
        key: MemoKey,
        request: &ExpertRequest,
        frames: &[LocalDay],
        first_date: NaiveDate,
    ) -> Self {
        let (d, buffer) = (
            request.duration,
            i64::from(request.profile.buffer_minutes) * 60,
        );
        let max_per_day = request.profile.max_appointments_per_day.map(usize::from);
        let mut spans = Vec::new();
        // Two pairs per day, then room for a few spans each.
        let mut days = Vec::with_capacity(6 * frames.len());
        let mut sweep = DaySweep::new(request.busy, buffer);
        for frame in frames {
            let first = i64::try_from(spans.len()).unwrap_or(i64::MAX);
            let ranges = request
                .profile
                .weekly_hours
                .day(chrono::Datelike::weekday(&frame.date()));
            let (day_from, day_to) = frame.span();
            let entries = sweep.day((day_from, day_to));
            if max_per_day.is_none_or(|max| entries.count < max) {
                let obstacles = DayObstacles::new(&entries, d, buffer);
                for range in ranges {
                    let lo = frame.at(range.start(), Pick::Earliest).max(day_from);
                    let hi = (frame.at(range.end(), Pick::Latest) - d).min(day_to - 1);
                    obstacles.free_spans_between(lo, hi, &mut spans);
                }
            }
            #[cfg(debug_assertions)]
            check_day(
                request,
                frame,
                &spans[usize::try_from(first).unwrap_or(0)..],
            );
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

    /// Where the search's first date is among the memo's days, when the memo was made for
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
    /// [`ExpertRequest::first_starts_without_trips`] finds by walking; [`PLUS_INF`] when
    /// none.
    pub fn first_start_without_trips(
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

/// Checks the memo's spans of one day against [`ExpertRequest::free_spans`] with no
/// window and no place.
#[cfg(debug_assertions)]
fn check_day(request: &ExpertRequest, frame: &LocalDay, spans: &[(i64, i64)]) {
    let mut mine = spans.to_vec();
    super::spans::normalize(&mut mine);
    let open = ExpertRequest {
        place: None,
        base_travel: None,
        lo: super::local_day::MINUS_INF,
        hi: PLUS_INF,
        ..*request
    };
    let mut theirs = Vec::new();
    open.free_spans(frame, &mut Scratch::default(), &mut theirs);
    assert_eq!(mine, theirs, "memo spans of {}", frame.date());
}
