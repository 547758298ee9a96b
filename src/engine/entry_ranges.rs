//! The calendar entries that can matter on each day, as index ranges into the calendar.
//!
//! A day only looks at entries starting from a little before it (the longest entry, and
//! the buffer) to a little after it (a slot length and the buffer). Finding those ranges
//! for every day at once, walking the sorted lists beside the days, reads each expert's
//! calendar once in order instead of binary-searching it per day.

use super::availability::ExpertRequest;
use super::busy::BusyTimes;

/// Per day, the ranges `[a0, a1)` of absences and `[p0, p1)` of appointments to
/// keep: `[a0, a1, p0, p1]`.
pub(crate) type EntryRanges = [usize; 4];

/// Appends to `out` the entry ranges of each day of `days` (its instants `[from, to)`, in
/// order) for a slot of `duration` seconds and a buffer of `buffer` seconds.
pub(crate) fn fill(
    busy: &BusyTimes,
    days: &[(i64, i64)],
    duration: i64,
    buffer: i64,
    out: &mut Vec<EntryRanges>,
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

/// Points `request` at the entries of `busy` (its member's whole calendar) in `ranges`:
/// a day's request, without building one per day.
pub(crate) fn narrow_to<'a>(
    request: &mut ExpertRequest<'a>,
    busy: &BusyTimes<'a>,
    [a0, a1, p0, p1]: EntryRanges,
) {
    request.busy.absences = &busy.absences[a0..a1];
    request.busy.appointments = &busy.appointments[p0..p1];
}

/// `request` with only the calendar entries of `ranges`.
pub(crate) fn narrow(mut request: ExpertRequest<'_>, ranges: EntryRanges) -> ExpertRequest<'_> {
    let busy = request.busy;
    narrow_to(&mut request, &busy, ranges);
    request
}

/// The entry ranges of one day (its instants `[from, to)`), as [`fill`] gives them, by
/// binary search: for the few expert-days a search computes in full.
pub(crate) fn one_day(
    busy: &BusyTimes,
    (from, to): (i64, i64),
    duration: i64,
    buffer: i64,
) -> EntryRanges {
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
