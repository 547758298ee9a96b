//! A quick look at an expert's days: the first start of each day that is free if the
//! trips between visits are left out. It never comes after the real first free start, so
//! the search uses it to rank expert-days before computing the few that can win.
//!
//! All the days of one expert are looked at in one sweep over the calendar: the entries
//! that can matter on a day are found by cursors that only move forward, and the walk
//! through a day passes each entry at most once, so an expert-day costs a few comparisons
//! per entry of that day instead of binary searches and rescans.

use chrono::Weekday;

use super::calendar::{Busy, Sweep};
use super::local_day::{LocalDay, PLUS_INF, Pick};
use super::day::Need;

impl Need<'_> {
    /// Writes in `starts[i]` the first grid-aligned start on the date of `frames[i]`
    /// (whose weekday is `weekdays[i]`) that is free by every rule but the trips between
    /// visits (the trip from the base counts), or [`PLUS_INF`] when there is none: a walk
    /// from obstacle to obstacle, without computing any distance. The frames must be in
    /// date order.
    pub fn first_rough_days(
        &self,
        frames: &[LocalDay],
        weekdays: &[Weekday],
        grid: i64,
        starts: &mut [i64],
    ) {
        let (d, buffer) = (self.duration, i64::from(self.profile.buffer_minutes) * 60);
        let max_per_day = self.profile.max_appointments_per_day.map(usize::from);
        let mut sweep = Sweep::new(self.sheet, buffer);
        for ((frame, &weekday), out) in frames.iter().zip(weekdays).zip(starts.iter_mut()) {
            *out = PLUS_INF;
            let ranges = self.profile.weekly_hours.day(weekday);
            let Some(first) = ranges.first() else {
                continue;
            };
            let (day_from, _) = frame.span();
            let entries = sweep.day(frame.span());
            if max_per_day.is_some_and(|max| entries.count >= max) {
                continue;
            }
            let first_start = frame.at(first.start(), Pick::Earliest);
            let mut start = self.lo.max(first_start).max(day_from);
            if let Some(base) = self.base_travel {
                start = start.max((first_start + base).min(entries.first_visit_end));
            }
            let walk = Walk {
                absences: entries.absences,
                appointments: entries.appointments,
                duration: d,
                buffer,
            };
            *out = walk
                .first(frame, ranges, start, self.hi, grid)
                .unwrap_or(PLUS_INF);
        }
    }
}

/// The obstacles of one day: absences and appointments from the first that can still be
/// in the way, sorted by start.
struct Walk<'a> {
    absences: &'a [Busy],
    appointments: &'a [Busy],
    duration: i64,
    buffer: i64,
}

impl Walk<'_> {
    /// The first grid-aligned start at or after `start` and at most `hi` that fits in one
    /// of `ranges` and meets no obstacle.
    fn first(
        &self,
        frame: &LocalDay,
        ranges: &[crate::domain::TimeRange],
        mut start: i64,
        hi: i64,
        grid: i64,
    ) -> Option<i64> {
        let (d, buffer) = (self.duration, self.buffer);
        let (absences, appointments) = (self.absences, self.appointments);
        // Entries before the cursors are over by `start`: starts only grow, so they never
        // get in the way again.
        let (mut a, mut p) = (0, 0);
        for range in ranges {
            let latest = (frame.at(range.end(), Pick::Latest) - d).min(hi);
            start = start.max(frame.at(range.start(), Pick::Earliest));
            loop {
                if start > latest {
                    break;
                }
                let before = start;
                // Every entry starting before the slot ends either ends by its start or
                // pushes the start to its end.
                while let Some(&Busy {
                    start: from,
                    end: to,
                    ..
                }) = absences.get(a)
                    && from < start + d
                {
                    if from < to && start < to {
                        start = to;
                    }
                    a += 1;
                }
                while let Some(booked) = appointments.get(p)
                    && booked.start - buffer < start + d
                {
                    let (from, to) = (booked.start - buffer, booked.end + buffer);
                    if from < to && start < to {
                        start = to;
                    }
                    p += 1;
                }
                if start != before {
                    continue;
                }
                let aligned = frame.next_aligned(start, grid)?;
                if aligned == start {
                    return Some(start);
                }
                start = aligned;
            }
        }
        None
    }
}
