//! What a request asks of one expert, and that expert's free starts on one local day.
//!
//! A start is free when it is grid-aligned ([`LocalDay::next_aligned`]) and lies in one of
//! the closed spans [`ExpertRequest::free_spans`] computes: the working ranges shrunk by
//! the duration, minus every start that would overlap an absence or a widened
//! appointment, break a travel rule, or fall outside the window and notice.

use chrono::{Datelike as _, Weekday};

use super::busy::{BusyTimes, DaySweep, around, starting_in};
use super::local_day::{LocalDay, MINUS_INF, PLUS_INF, Pick};
use super::obstacles::DayObstacles;
use super::settings::Settings;
use super::spans::{normalize, subtract};
use super::travel::{Anchor, travel_minutes};
use crate::domain::GeoPoint;
use crate::domain::expert::ExpertProfile;

/// What a request asks of one expert, the day aside.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpertRequest<'a> {
    /// The expert.
    pub profile: &'a ExpertProfile,
    /// The expert's calendar, in seconds.
    pub busy: BusyTimes<'a>,
    /// The appointment place when on site; `None` when remote.
    pub place: Option<Anchor>,
    /// On site, the travel in seconds from the expert's base to the place, if a base.
    pub base_travel: Option<i64>,
    /// Length of the slot, in seconds.
    pub duration: i64,
    /// Earliest start allowed (window start, notice).
    pub lo: i64,
    /// Latest start allowed (window end minus the duration).
    pub hi: i64,
    /// Travel estimation.
    pub settings: &'a Settings,
}

/// An on-site appointment of the day with the travel between it and the place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Visit {
    /// Start of the appointment.
    pub start: i64,
    /// End of the appointment.
    pub end: i64,
    /// Travel between it and the place, in seconds.
    pub travel: i64,
}

/// Buffers reused from one expert-day to the next, so that no day allocates.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    spans: Vec<(i64, i64)>,
    holes: Vec<(i64, i64)>,
    visits: Vec<Visit>,
}

impl Scratch {
    /// The on-site appointments of the day last given to [`ExpertRequest::free_spans`],
    /// with their travel (empty when remote).
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }
}

/// The travel in seconds from the expert's base to `place`, when both exist.
pub(crate) fn base_travel(
    profile: &ExpertProfile,
    place: Option<&GeoPoint>,
    settings: &Settings,
) -> Option<i64> {
    let (base, place) = (profile.base.as_ref()?, place?);
    Some(i64::from(travel_minutes(&base.geo, place, settings)) * 60)
}

/// Travel in minutes to a slot starting at `start`: from the visit with the greatest end
/// at or before `start` (the longest trip when several end together), else from the base
/// (`base`, in seconds), else 0.
pub(crate) fn travel_after(visits: &[Visit], base: Option<i64>, start: i64) -> u32 {
    let before = visits.iter().filter(|v| v.end <= start);
    let last = before.clone().map(|v| v.end).max();
    let seconds = match last {
        Some(end) => before.filter(|v| v.end == end).map(|v| v.travel).max(),
        None => base,
    };
    u32::try_from(seconds.unwrap_or(0) / 60).unwrap_or(u32::MAX)
}

impl ExpertRequest<'_> {
    /// Travel in seconds from `from` to the appointment place (0 when remote).
    fn travel_to_place(&self, from: &GeoPoint) -> i64 {
        self.place.map_or(0, |place| {
            i64::from(place.travel_minutes(from, self.settings)) * 60
        })
    }

    /// The working ranges of the day as start spans, within the window and notice.
    fn working_spans(&self, frame: &LocalDay, spans: &mut Vec<(i64, i64)>) {
        let (day_from, day_to) = frame.span();
        let weekday = frame.date().weekday();
        for range in self.profile.weekly_hours.day(weekday) {
            let from = frame.at(range.start(), Pick::Earliest);
            let to = frame.at(range.end(), Pick::Latest) - self.duration;
            let (from, to) = (
                from.max(self.lo).max(day_from),
                to.min(self.hi).min(day_to - 1),
            );
            if from <= to {
                spans.push((from, to));
            }
        }
        normalize(spans);
    }

    /// Whether the daily maximum is already reached on this day.
    fn day_is_full(&self, frame: &LocalDay) -> bool {
        self.profile.max_appointments_per_day.is_some_and(|max| {
            let (from, to) = frame.span();
            starting_in(self.busy.appointments, from, to).len() >= usize::from(max)
        })
    }

    /// Starts that overlap an absence or an appointment widened by the buffer, among
    /// the starts in `[lo, hi]`.
    fn busy_holes(&self, (lo, hi): (i64, i64), holes: &mut Vec<(i64, i64)>) {
        let d = self.duration;
        let absences = around(self.busy.absences, lo, hi + d, self.busy.reach.absence);
        for absence in absences {
            let (from, to) = (absence.start, absence.end);
            if from < to && to > lo {
                holes.push((from - d + 1, to - 1));
            }
        }
        let buffer = i64::from(self.profile.buffer_minutes) * 60;
        let appointments = around(
            self.busy.appointments,
            lo - buffer,
            hi + d + buffer,
            self.busy.reach.appointment,
        );
        for booked in appointments {
            let (from, to) = (booked.start - buffer, booked.end + buffer);
            if from < to && to > lo {
                holes.push((from - d + 1, to - 1));
            }
        }
    }

    /// The on-site appointments starting on this day, with the travel to the place.
    fn visits(&self, frame: &LocalDay, visits: &mut Vec<Visit>) {
        let (from, to) = frame.span();
        for booked in starting_in(self.busy.appointments, from, to) {
            if let Some(at) = &booked.place {
                visits.push(Visit {
                    start: booked.start,
                    end: booked.end,
                    travel: self.travel_to_place(at),
                });
            }
        }
    }

    /// Starts that leave too little time to come from the previous on-site appointment
    /// (or the base) or to reach the next one.
    fn travel_holes(&self, first_start: i64, visits: &mut [Visit], holes: &mut Vec<(i64, i64)>) {
        let d = self.duration;
        visits.sort_unstable_by_key(|v| v.end);
        // Coming from the base: while no visit has ended yet.
        if let Some(base) = self.base_travel {
            let first_end = visits.first().map_or(PLUS_INF, |v| v.end);
            holes.push((MINUS_INF, (first_start + base).min(first_end) - 1));
        }
        // Coming from the previous visit: it is `v` while `s` is in [v.end, next end).
        for (i, v) in visits.iter().enumerate() {
            let later = visits[i..].iter().find(|w| w.end > v.end);
            let until = later.map_or(PLUS_INF, |w| w.end);
            holes.push((v.end, (v.end + v.travel).min(until) - 1));
        }
        // Going to the next visit: it is `v` while `s + d` is in (previous start, v.start].
        visits.sort_unstable_by_key(|v| v.start);
        for (i, v) in visits.iter().enumerate() {
            let earlier = visits[..i].iter().rev().find(|w| w.start < v.start);
            let after = earlier.map_or(MINUS_INF, |w| w.start - d + 1);
            holes.push(((v.start - d - v.travel + 1).max(after), v.start - d));
        }
    }

    /// Appends to `out` the free start spans of this expert on the frame's date.
    pub fn free_spans(&self, frame: &LocalDay, scratch: &mut Scratch, out: &mut Vec<(i64, i64)>) {
        let Scratch {
            spans,
            holes,
            visits,
        } = scratch;
        spans.clear();
        holes.clear();
        visits.clear();
        self.working_spans(frame, spans);
        let (Some(&(lo, _)), Some(&(_, hi))) = (spans.first(), spans.last()) else {
            return;
        };
        if self.day_is_full(frame) {
            return;
        }
        self.busy_holes((lo, hi), holes);
        if self.place.is_some() {
            let ranges = self.profile.weekly_hours.day(frame.date().weekday());
            let first_start = frame.at(ranges[0].start(), Pick::Earliest);
            self.visits(frame, visits);
            self.travel_holes(first_start, visits, holes);
        }
        holes.retain(|&(from, to)| from <= to && to >= lo && from <= hi);
        normalize(holes);
        subtract(spans, holes, out);
    }

    /// The travel to a slot starting at `start` on the frame's date: from the on-site
    /// appointment of the day with the greatest end at or before `start` (the longest
    /// trip when several end together), else from the base, else 0. Remote: 0.
    pub fn travel_at(&self, frame: &LocalDay, start: i64) -> u32 {
        if self.place.is_none() {
            return 0;
        }
        let mut visits = Vec::new();
        self.visits(frame, &mut visits);
        travel_after(&visits, self.base_travel, start)
    }

    /// Writes in `starts[i]` the first grid-aligned start on the date of `frames[i]`
    /// (whose weekday is `weekdays[i]`) that is free by every rule but the trips between
    /// visits (the trip from the base counts), or [`PLUS_INF`] when there is none. It is
    /// never after the real first free start, so the search ranks expert-days by it
    /// without computing any distance; one sweep over the calendar serves all the days,
    /// which must be in date order.
    pub fn first_starts_without_trips(
        &self,
        frames: &[LocalDay],
        weekdays: &[Weekday],
        grid: i64,
        starts: &mut [i64],
    ) {
        let (d, buffer) = (self.duration, i64::from(self.profile.buffer_minutes) * 60);
        let max_per_day = self.profile.max_appointments_per_day.map(usize::from);
        let mut sweep = DaySweep::new(self.busy, buffer);
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
            let obstacles = DayObstacles::new(&entries, d, buffer);
            *out = obstacles
                .first_free_start(frame, ranges, start, self.hi, grid)
                .unwrap_or(PLUS_INF);
        }
    }
}

/// The first free start at or after `x` among `spans` (normalized), on the grid.
pub(crate) fn first_free(frame: &LocalDay, spans: &[(i64, i64)], x: i64, grid: i64) -> Option<i64> {
    let first = spans.partition_point(|&(_, to)| to < x);
    spans[first..].iter().find_map(|&(from, to)| {
        frame
            .next_aligned(x.max(from), grid)
            .filter(|&start| start <= to)
    })
}
