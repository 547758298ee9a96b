//! The calendar entries that can matter on each day of a plan, found in one pass.
//!
//! A day's computations only look at entries starting from a little before the day (the
//! longest entry, and the buffer, before its first instant) to a little after it (a slot
//! length and the buffer after its end). Finding those ranges for every day at once, by
//! walking the sorted lists side by side with the days, replaces several binary searches
//! per expert-day over scattered memory with one sequential read per expert.

use super::busy::BusyTimes;
use super::availability::ExpertRequest;
use super::plan::Plan;

/// Per plan day, the ranges `[a0, a1)` of absences and `[p0, p1)` of appointments to
/// keep: `[a0, a1, p0, p1]`.
pub(crate) type Window = [usize; 4];

/// Appends to `out` the window of each day of `days` (its instants `[from, to)`, in
/// order) for a slot of `duration` seconds and a buffer of `buffer` seconds.
pub(crate) fn fill(
    busy: &BusyTimes,
    days: &[(i64, i64)],
    duration: i64,
    buffer: i64,
    out: &mut Vec<Window>,
) {
    let (absences, appointments) = (busy.absences, busy.appointments);
    let (mut a0, mut a1, mut p0, mut p1) = (0, 0, 0, 0);
    let mut previous = i64::MIN;
    for &(from, to) in days {
        if from < previous {
            // Days out of order (never for real zones): start the walk over.
            (a0, a1, p0, p1) = (0, 0, 0, 0);
        }
        previous = from;
        let (a_lo, a_hi) = (from.saturating_sub(busy.reach.absence), to + duration);
        let p_lo = from.saturating_sub(buffer + busy.reach.appointment);
        let p_hi = to + duration + buffer;
        while a0 < absences.len() && absences[a0].start < a_lo {
            a0 += 1;
        }
        a1 = a1.max(a0);
        while a1 < absences.len() && absences[a1].start < a_hi {
            a1 += 1;
        }
        while p0 < appointments.len() && appointments[p0].start < p_lo {
            p0 += 1;
        }
        p1 = p1.max(p0);
        while p1 < appointments.len() && appointments[p1].start < p_hi {
            p1 += 1;
        }
        out.push([a0, a1, p0, p1]);
    }
}

impl Plan<'_> {
    /// The window of plan day `day` of member `m`, once [`Plan::sweep_windows`] found it.
    pub fn swept_window(&self, m: usize, day: usize) -> Option<Window> {
        self.members[m].windows.map(|base| self.windows[base + day])
    }
}

/// Points `need` at the entries of `busy` (its member's whole calendar) in `window`: a
/// day's need, without building one per day.
pub(crate) fn narrow_to<'a>(need: &mut ExpertRequest<'a>, busy: &BusyTimes<'a>, [a0, a1, p0, p1]: Window) {
    need.busy.absences = &busy.absences[a0..a1];
    need.busy.appointments = &busy.appointments[p0..p1];
}

/// `need` with only the calendar entries of `window`.
pub(crate) fn narrow(mut need: ExpertRequest<'_>, window: Window) -> ExpertRequest<'_> {
    let busy = need.busy;
    narrow_to(&mut need, &busy, window);
    need
}

/// The window of one day (its instants `[from, to)`), as [`fill`] gives it, by binary
/// search: for the few expert-days a search computes in full.
fn one(busy: &BusyTimes, (from, to): (i64, i64), duration: i64, buffer: i64) -> Window {
    let (absences, appointments) = (busy.absences, busy.appointments);
    let (a_lo, a_hi) = (from.saturating_sub(busy.reach.absence), to + duration);
    let p_lo = from.saturating_sub(buffer + busy.reach.appointment);
    let p_hi = to + duration + buffer;
    let a0 = absences.partition_point(|a| a.start < a_lo);
    let a1 = a0 + absences[a0..].partition_point(|a| a.start < a_hi);
    let p0 = appointments.partition_point(|a| a.start < p_lo);
    let p1 = p0 + appointments[p0..].partition_point(|a| a.start < p_hi);
    [a0, a1, p0, p1]
}

impl Plan<'_> {
    /// What is asked of member `m` on plan day `day`: [`Plan::need`] with only the
    /// calendar entries that can matter on that day. Uses the windows of every day when
    /// [`Plan::day_needs`] built them, else finds this day's alone.
    pub fn day_need(&mut self, m: usize, day: usize) -> ExpertRequest<'_> {
        self.prepare(m);
        let window = if let Some(base) = self.members[m].windows {
            self.windows[base + day]
        } else {
            let member = &self.members[m];
            let buffer = i64::from(member.profile.buffer_minutes) * 60;
            let span = self.zone_frame(member.zone, day).span();
            let member = &self.members[m];
            one(&self.busy_times(m), span, member.duration, buffer)
        };
        narrow(self.need(m), window)
    }

    /// Finds the windows of every plan day of member `m` in one sweep, for a caller about
    /// to look at all its days (see [`Plan::day_need`]).
    pub fn sweep_windows(&mut self, m: usize) {
        self.prepare(m);
        if self.members[m].windows.is_none() {
            self.build_windows(m);
        }
    }

    /// Finds the day windows of member `m` and gives where they start.
    fn build_windows(&mut self, m: usize) -> usize {
        let zone = self.members[m].zone;
        if self.day_spans[zone].is_empty() {
            let spans = (0..self.days).map(|day| self.zone_frame(zone, day).span());
            self.day_spans[zone] = spans.collect();
        }
        let mut windows = std::mem::take(&mut self.windows);
        if windows.capacity() == 0 {
            // Enumerating: every member will have its windows.
            windows.reserve(self.members.len() * self.days);
        }
        let base = windows.len();
        let member = &self.members[m];
        let buffer = i64::from(member.profile.buffer_minutes) * 60;
        let busy = self.busy_times(m);
        fill(
            &busy,
            &self.day_spans[zone],
            member.duration,
            buffer,
            &mut windows,
        );
        self.windows = windows;
        self.members[m].windows = Some(base);
        base
    }
}
