//! What stands in the way of a slot on one day: absences, and appointments widened by the
//! buffer, each list sorted by start. Both walks pass each entry once.

use super::busy::{BusySpan, DayEntries};
use super::local_day::{LocalDay, Pick};
use crate::domain::TimeRange;

/// The absences and appointments of a day, from the first that can still be in the way,
/// with the slot length and the buffer they are read with.
pub(crate) struct DayObstacles<'a> {
    absences: &'a [BusySpan],
    appointments: &'a [BusySpan],
    duration: i64,
    buffer: i64,
}

impl<'a> DayObstacles<'a> {
    /// The obstacles of `entries` for a slot of `duration` seconds, appointments widened by
    /// `buffer` seconds.
    pub fn new(entries: &DayEntries<'a>, duration: i64, buffer: i64) -> Self {
        Self {
            absences: entries.absences,
            appointments: entries.appointments,
            duration,
            buffer,
        }
    }

    /// Appends to `spans` the starts of `[lo, hi]` whose slot meets no obstacle: each
    /// obstacle `[from, to)` (an appointment widened by the buffer) rules out the starts
    /// of `[from - duration + 1, to - 1]`; those holes are taken in the order of their
    /// first start, the two lists merged.
    pub fn free_spans_between(&self, lo: i64, hi: i64, spans: &mut Vec<(i64, i64)>) {
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

    /// The first grid-aligned start at or after `start` and at most `hi` that fits in one
    /// of `ranges` and meets no obstacle.
    pub fn first_free_start(
        &self,
        frame: &LocalDay,
        ranges: &[TimeRange],
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
                while let Some(&BusySpan {
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
