//! What already fills an expert's time: absences and confirmed appointments.

use chrono::{DateTime, Utc};

use super::memo::Memos;
use crate::domain::GeoPoint;

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    /// First instant.
    pub start: DateTime<Utc>,
    /// First instant after the span.
    pub end: DateTime<Utc>,
}

/// A CONFIRMED appointment (cancelled and completed ones are not given to the engine).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Booked {
    /// First instant.
    pub start: DateTime<Utc>,
    /// End (exclusive).
    pub end: DateTime<Utc>,
    /// Where it takes place; `None` for a remote appointment.
    pub place: Option<GeoPoint>,
}

/// One expert's absences and confirmed appointments, each list sorted by start.
///
/// Build it with [`Calendar::new`], which sorts; the engine relies on the order. It only
/// needs the entries around the searched window (a day before and after is plenty, the
/// whole ISO weeks of the window for the load tie-break).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar {
    /// Absences, sorted by start; they may overlap each other.
    pub absences: Vec<Interval>,
    /// Confirmed appointments, sorted by start.
    pub appointments: Vec<Booked>,
    /// The same entries in seconds, made once by [`Calendar::new`]: a calendar is built
    /// once per expert and request, and read for many days. Edit the public lists by
    /// building a new calendar: an entry changed in place is not seen by the engine.
    seconds: Seconds,
    /// Per expertise type, the day memo of the first search that needed it (see
    /// [`super::memo`]).
    memos: Memos,
}

/// A calendar's entries in whole seconds, with their longest lengths.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seconds {
    absences: Vec<Busy>,
    appointments: Vec<Busy>,
    reach: Reach,
}

impl Calendar {
    /// Builds a calendar, sorting both lists by start.
    pub fn new(mut absences: Vec<Interval>, mut appointments: Vec<Booked>) -> Self {
        absences.sort_by_key(|a| (a.start, a.end));
        appointments.sort_by_key(|a| (a.start, a.end));
        let mut seconds = Seconds::default();
        let reach = convert(
            &absences,
            &appointments,
            &mut seconds.absences,
            &mut seconds.appointments,
        );
        seconds.reach = reach;
        Self {
            absences,
            appointments,
            seconds,
            memos: Memos::default(),
        }
    }

    /// This calendar with one more appointment (and no memos: they are built again when
    /// a search needs them); the same when it has it already (two CONFIRMED appointments
    /// of one expert never share a start and an end, so it is the same one, read since).
    #[must_use]
    pub fn with_booked(&self, booked: Booked) -> Self {
        if self
            .appointments
            .iter()
            .any(|a| a.start == booked.start && a.end == booked.end)
        {
            return self.clone();
        }
        let mut appointments = Vec::with_capacity(self.appointments.len() + 1);
        appointments.extend_from_slice(&self.appointments);
        appointments.push(booked);
        Self::new(self.absences.clone(), appointments)
    }

    /// The calendar's day memos.
    pub(crate) fn memos(&self) -> &Memos {
        &self.memos
    }

    /// The calendar in seconds as [`Calendar::new`] made it, unless the public lists
    /// were replaced or resized since (then [`Calendar::convert`] must be used). Only
    /// the lengths are compared: reading the lists themselves would cost the memory
    /// accesses the copy saves.
    pub(crate) fn sheet(&self) -> Option<Sheet<'_>> {
        let s = &self.seconds;
        (s.absences.len() == self.absences.len() && s.appointments.len() == self.appointments.len())
            .then(|| self.own_sheet())
    }

    /// The calendar in seconds as [`Calendar::new`] made it, once [`Calendar::sheet`]
    /// found it current.
    pub(crate) fn own_sheet(&self) -> Sheet<'_> {
        let s = &self.seconds;
        Sheet {
            absences: &s.absences,
            appointments: &s.appointments,
            reach: s.reach,
        }
    }
}

/// A calendar entry as whole UTC seconds: what the day computations work on, so that no
/// instant is converted twice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Busy {
    /// Start, in seconds since the epoch.
    pub start: i64,
    /// End, in seconds since the epoch.
    pub end: i64,
    /// Where an appointment takes place (`None` when remote, and for absences).
    pub place: Option<GeoPoint>,
}

/// Something with a start and an end in seconds.
pub(crate) trait Span {
    /// Start, in seconds since the epoch.
    fn start_secs(&self) -> i64;
    /// End, in seconds since the epoch.
    fn end_secs(&self) -> i64;
}

impl Span for Busy {
    fn start_secs(&self) -> i64 {
        self.start
    }
    fn end_secs(&self) -> i64 {
        self.end
    }
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
pub(crate) struct Sheet<'a> {
    /// Absences, sorted by start.
    pub absences: &'a [Busy],
    /// Confirmed appointments, sorted by start.
    pub appointments: &'a [Busy],
    /// Longest entries.
    pub reach: Reach,
}

impl Calendar {
    /// Appends the calendar in seconds to the two lists and measures its longest entries.
    pub(crate) fn convert(&self, absences: &mut Vec<Busy>, appointments: &mut Vec<Busy>) -> Reach {
        convert(&self.absences, &self.appointments, absences, appointments)
    }
}

/// Appends `from_absences` and `from_appointments` in seconds to the two lists and
/// measures their longest entries.
fn convert(
    from_absences: &[Interval],
    from_appointments: &[Booked],
    absences: &mut Vec<Busy>,
    appointments: &mut Vec<Busy>,
) -> Reach {
    let mut reach = Reach::default();
    for a in from_absences {
        let (start, end) = (a.start.timestamp(), a.end.timestamp());
        reach.absence = reach.absence.max(end - start);
        absences.push(Busy {
            start,
            end,
            place: None,
        });
    }
    for b in from_appointments {
        let (start, end) = (b.start.timestamp(), b.end.timestamp());
        reach.appointment = reach.appointment.max(end - start);
        appointments.push(Busy {
            start,
            end,
            place: b.place,
        });
    }
    reach
}

/// Reads a calendar day after day, days in order: its cursors only move forward, so each
/// entry is passed over once whatever the number of days.
pub(crate) struct Sweep<'a> {
    sheet: Sheet<'a>,
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
    pub absences: &'a [Busy],
    /// Appointments from the first that can still be in the way once widened by the
    /// buffer, sorted by start.
    pub appointments: &'a [Busy],
    /// Number of appointments starting on the day.
    pub count: usize,
    /// End of the first on-site appointment starting on the day (`PLUS_INF` when none).
    pub first_visit_end: i64,
}

impl<'a> Sweep<'a> {
    /// A sweep over `sheet`, appointments widened by `buffer` seconds.
    pub fn new(sheet: Sheet<'a>, buffer: i64) -> Self {
        Self {
            sheet,
            buffer,
            absence: 0,
            appointment: 0,
            today: 0,
        }
    }

    /// The entries that can matter on the day of instants `[day_from, day_to)`, which
    /// must come after the days already asked for.
    pub fn day(&mut self, (day_from, day_to): (i64, i64)) -> DayEntries<'a> {
        let Sheet {
            absences,
            appointments,
            reach,
        } = self.sheet;
        while appointments
            .get(self.today)
            .is_some_and(|a| a.start < day_from)
        {
            self.today += 1;
        }
        let (mut next, mut first_visit_end) = (self.today, super::local_day::PLUS_INF);
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
pub(crate) fn around<T: Span>(items: &[T], after: i64, before: i64, reach: i64) -> &[T] {
    let first = items.partition_point(|i| i.start_secs() < after.saturating_sub(reach));
    let last = items.partition_point(|i| i.start_secs() < before);
    &items[first..last.max(first)]
}

/// The entries starting in `[from, to)`.
pub(crate) fn starting_in<T: Span>(items: &[T], from: i64, to: i64) -> &[T] {
    let first = items.partition_point(|i| i.start_secs() < from);
    let last = items.partition_point(|i| i.start_secs() < to);
    &items[first..last.max(first)]
}
