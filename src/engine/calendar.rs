//! What already fills an expert's time: absences and confirmed appointments.

use chrono::{DateTime, Utc};

use super::busy::{BusySpan, BusyTimes, Reach};
use super::day_memo::Memos;
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
    /// [`super::day_memo`]).
    memos: Memos,
}

/// A calendar's entries in whole seconds, with their longest lengths.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seconds {
    absences: Vec<BusySpan>,
    appointments: Vec<BusySpan>,
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
    pub(crate) fn busy_times(&self) -> Option<BusyTimes<'_>> {
        let s = &self.seconds;
        (s.absences.len() == self.absences.len() && s.appointments.len() == self.appointments.len())
            .then(|| self.own_busy_times())
    }

    /// The calendar in seconds as [`Calendar::new`] made it, once [`Calendar::busy_times`]
    /// found it current.
    pub(crate) fn own_busy_times(&self) -> BusyTimes<'_> {
        let s = &self.seconds;
        BusyTimes {
            absences: &s.absences,
            appointments: &s.appointments,
            reach: s.reach,
        }
    }

    /// Appends the calendar in seconds to the two lists and measures its longest entries.
    pub(crate) fn convert(
        &self,
        absences: &mut Vec<BusySpan>,
        appointments: &mut Vec<BusySpan>,
    ) -> Reach {
        convert(&self.absences, &self.appointments, absences, appointments)
    }
}

/// Appends `from_absences` and `from_appointments` in seconds to the two lists and
/// measures their longest entries.
fn convert(
    from_absences: &[Interval],
    from_appointments: &[Booked],
    absences: &mut Vec<BusySpan>,
    appointments: &mut Vec<BusySpan>,
) -> Reach {
    let mut reach = Reach::default();
    for a in from_absences {
        let (start, end) = (a.start.timestamp(), a.end.timestamp());
        reach.absence = reach.absence.max(end - start);
        absences.push(BusySpan {
            start,
            end,
            place: None,
        });
    }
    for b in from_appointments {
        let (start, end) = (b.start.timestamp(), b.end.timestamp());
        reach.appointment = reach.appointment.max(end - start);
        appointments.push(BusySpan {
            start,
            end,
            place: b.place,
        });
    }
    reach
}
