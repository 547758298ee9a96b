//! A quick look at an expert-day: its first start that is free if the trips between visits
//! are left out. It never comes after the real first free start, so the search uses it to
//! rank expert-days before computing the few that can win.

use chrono::Datelike as _;

use super::calendar::{Span as _, around};
use super::clock::{Frame, PLUS_INF, Pick};
use super::day::Need;

impl Need<'_> {
    /// The first grid-aligned start at or after `from` on the frame's date that is free
    /// by every rule but the trips between visits (the trip from the base counts), if
    /// any: a walk from obstacle to obstacle, without computing any distance.
    pub fn first_rough(&self, frame: &Frame, from: i64, grid: i64) -> Option<i64> {
        let ranges = self.profile.weekly_hours.day(frame.date().weekday());
        let first_start = frame.at(ranges.first()?.start(), Pick::Earliest);
        let (day_from, day_to) = frame.span();
        let (d, buffer) = (self.duration, i64::from(self.profile.buffer_minutes) * 60);
        let mut start = from.max(self.lo);
        // The appointments that start today or can still be in the way: one search, then
        // a short scan.
        let appointments = self.sheet.appointments;
        let lowest = day_from.min(start - buffer - self.sheet.reach.appointment);
        let near = &appointments[appointments.partition_point(|a| a.start < lowest)..];
        let near = &near[..near.partition_point(|a| a.start < day_to + d + buffer)];
        let today = near
            .iter()
            .filter(|a| (day_from..day_to).contains(&a.start));
        if let Some(max) = self.profile.max_appointments_per_day {
            if today.clone().count() >= usize::from(max) {
                return None;
            }
        }
        if let Some(base) = self.base_travel {
            let visits = today.filter(|a| a.place.is_some());
            let first_visit_end = visits.map(|a| a.end).min().unwrap_or(PLUS_INF);
            start = start.max((first_start + base).min(first_visit_end));
        }
        let absences = self.sheet.absences;
        let away = around(absences, start, day_to + d, self.sheet.reach.absence);
        let mut passed = 0;
        for range in ranges {
            let latest = (frame.at(range.end(), Pick::Latest) - d).min(self.hi);
            start = start.max(frame.at(range.start(), Pick::Earliest));
            // Obstacles are skipped from unaligned starts (every start before an
            // obstacle's end is blocked by it too) and the grid is only applied to a clear
            // start: one division per free start found rather than one per obstacle.
            loop {
                if start > latest {
                    break;
                }
                let (end, mut clear) = (start + d, None);
                for (from, to) in away.iter().map(|a| (a.start_secs(), a.end_secs())) {
                    if from < to && from < end && start < to {
                        clear = clear.max(Some(to));
                    }
                }
                // Starts only grow: the leading entries over before this one stay over.
                while passed < near.len() && near[passed].end_secs() + buffer <= start {
                    passed += 1;
                }
                for booked in &near[passed..] {
                    let (from, to) = (booked.start_secs() - buffer, booked.end_secs() + buffer);
                    if from >= end {
                        // Sorted by start: the rest begins later still.
                        break;
                    }
                    if from < to && start < to {
                        clear = clear.max(Some(to));
                    }
                }
                if let Some(after) = clear {
                    start = after;
                } else {
                    let aligned = frame.next_aligned(start, grid)?;
                    if aligned == start {
                        return Some(start);
                    }
                    start = aligned;
                }
            }
        }
        None
    }
}
