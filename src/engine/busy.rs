//! A calendar in whole seconds, as the day computations read it, and the cursors that
//! find what of it can matter on a day.

use super::local_day::PLUS_INF;
use crate::domain::GeoPoint;

/// A calendar entry as whole UTC seconds: what the day computations work on, so that no
/// instant is converted twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BusySpan {
    /// Start, in seconds since the epoch.
    pub start: i64,
    /// End, in seconds since the epoch.
    pub end: i64,
    /// Where an appointment takes place (`None` when remote, and for absences).
    pub place: Option<GeoPoint>,
}

/// The longest absence and the longest appointment of a calendar, in seconds: entries are
/// sorted by start only, so these bound how far back an entry can still reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reach {
    /// Longest absence.
    pub absence: i64,
    /// Longest appointment.
    pub appointment: i64,
}

/// A calendar in seconds, borrowed from wherever it was converted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BusyTimes<'a> {
    /// Absences, sorted by start.
    pub absences: &'a [BusySpan],
    /// Confirmed appointments, sorted by start.
    pub appointments: &'a [BusySpan],
    /// Longest entries.
    pub reach: Reach,
}

/// Reads a calendar day after day, days in order: its cursors only move forward, so each
/// entry is passed over once whatever the number of days.
pub(crate) struct DaySweep<'a> {
    busy: BusyTimes<'a>,
    /// Buffer kept around appointments, in seconds.
    buffer: i64,
    /// First absence, and first appointment, that can still be in the way.
    absence: usize,
    appointment: usize,
    /// First appointment starting on or after the last day looked at.
    today: usize,
}

/// What of a calendar can matter on one day.
pub(crate) struct DayEntries<'a> {
    /// Absences from the first that can still be in the way, sorted by start.
    pub absences: &'a [BusySpan],
    /// Appointments from the first that can still be in the way once widened by the
    /// buffer, sorted by start.
    pub appointments: &'a [BusySpan],
    /// Number of appointments starting on the day.
    pub count: usize,
    /// End of the first on-site appointment starting on the day (`PLUS_INF` when none).
    pub first_visit_end: i64,
}

impl<'a> DaySweep<'a> {
    /// A sweep over `busy`, appointments widened by `buffer` seconds.
    pub fn new(busy: BusyTimes<'a>, buffer: i64) -> Self {
        Self {
            busy,
            buffer,
            absence: 0,
            appointment: 0,
            today: 0,
        }
    }

    /// The entries that can matter on the day of instants `[day_from, day_to)`, which
    /// must come after the days already asked for.
    pub fn day(&mut self, (day_from, day_to): (i64, i64)) -> DayEntries<'a> {
        let BusyTimes {
            absences,
            appointments,
            reach,
        } = self.busy;
        while appointments
            .get(self.today)
            .is_some_and(|a| a.start < day_from)
        {
            self.today += 1;
        }
        let (mut next, mut first_visit_end) = (self.today, PLUS_INF);
        while let Some(booked) = appointments.get(next)
            && booked.start < day_to
        {
            if booked.place.is_some() {
                first_visit_end = first_visit_end.min(booked.end);
            }
            next += 1;
        }
        let count = next - self.today;
        self.today = next;
        // Entries starting longer before the day than the longest one lasts are over.
        let lowest = day_from.saturating_sub(reach.absence);
        while absences.get(self.absence).is_some_and(|a| a.start < lowest) {
            self.absence += 1;
        }
        let lowest = day_from.saturating_sub(self.buffer + reach.appointment);
        while appointments
            .get(self.appointment)
            .is_some_and(|a| a.start < lowest)
        {
            self.appointment += 1;
        }
        DayEntries {
            absences: &absences[self.absence..],
            appointments: &appointments[self.appointment..],
            count,
            first_visit_end,
        }
    }
}

/// The entries that may end after `after` and that start before `before`, given the
/// longest entry `reach`: a sub-slice to filter further.
pub(crate) fn around(items: &[BusySpan], after: i64, before: i64, reach: i64) -> &[BusySpan] {
    let first = items.partition_point(|i| i.start < after.saturating_sub(reach));
    let last = items.partition_point(|i| i.start < before);
    &items[first..last.max(first)]
}

/// The entries starting in `[from, to)`.
pub(crate) fn starting_in(items: &[BusySpan], from: i64, to: i64) -> &[BusySpan] {
    let first = items.partition_point(|i| i.start < from);
    let last = items.partition_point(|i| i.start < to);
    &items[first..last.max(first)]
}
