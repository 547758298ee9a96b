//! Local days of a time zone, seen as instants (UTC seconds).
//!
//! A [`LocalDay`] describes one local date of one time zone by the constant-offset segments
//! of time around it (one segment on most days, two on a DST day). With it, local times
//! of that date become instants without asking `chrono-tz` again, and the grid-aligned
//! instants of the date can be stepped through.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Stands for "minus infinity" in instant arithmetic (far from overflowing).
pub(crate) const MINUS_INF: i64 = i64::MIN / 4;
/// Stands for "plus infinity" in instant arithmetic.
pub(crate) const PLUS_INF: i64 = i64::MAX / 4;
/// Seconds in a civil day.
pub(crate) const DAY: i64 = 86_400;
/// Time zone offsets stay within ±15 hours.
const MAX_OFFSET: i64 = 15 * 3600;
/// Segments kept per frame (real zones change offset at most twice in 54 hours).
const MAX_SEGMENTS: usize = 3;

/// The instant at `secs` seconds after the epoch, clamped to what `chrono` represents.
pub(crate) fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Whole seconds at or after an instant.
pub(crate) fn ceil_secs(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// The UTC offset of `tz` at instant `secs`, in seconds.
fn offset_at(tz: Tz, secs: i64) -> i64 {
    let utc = instant(secs).naive_utc();
    i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

/// The local date of instant `secs` in `tz`.
pub(crate) fn local_date(tz: Tz, secs: i64) -> NaiveDate {
    instant(secs).with_timezone(&tz).date_naive()
}

/// Which instant a local time that happens twice (DST fall-back) stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The first occurrence: used for the start of a range.
    Earliest,
    /// The second occurrence: used for the end of a range.
    Latest,
}

/// A stretch of time with one UTC offset: instants `[from, to)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Segment {
    from: i64,
    to: i64,
    offset: i64,
}

/// One local date of one time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalDay {
    date: NaiveDate,
    /// Local midnight of `date` read as if it were UTC, in seconds.
    midnight: i64,
    segments: [Segment; MAX_SEGMENTS],
    len: usize,
    /// The part of each segment whose local date is `date`: `from`, `to`, and in
    /// `offset` the instant at which local midnight falls with that segment's offset.
    parts: [Segment; MAX_SEGMENTS],
    parts_len: usize,
}

impl LocalDay {
    /// Describes `date` in `tz` (two offset look-ups, more on a DST day).
    pub fn new(tz: Tz, date: NaiveDate) -> Self {
        let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp();
        let mut frame = Self {
            date,
            midnight,
            segments: [Segment::default(); MAX_SEGMENTS],
            len: 0,
            parts: [Segment::default(); MAX_SEGMENTS],
            parts_len: 0,
        };
        let (mut lo, hi) = (midnight - MAX_OFFSET, midnight + DAY + MAX_OFFSET);
        let mut lo_offset = offset_at(tz, lo);
        let mut from = MINUS_INF;
        loop {
            if frame.len + 1 == MAX_SEGMENTS || offset_at(tz, hi) == lo_offset {
                frame.push(from, PLUS_INF, lo_offset);
                frame.cut_parts();
                return frame;
            }
            // offset(a) == lo_offset != offset(b): close in on the change.
            let (mut a, mut b) = (lo, hi);
            while b - a > 1 {
                let mid = a + (b - a) / 2;
                if offset_at(tz, mid) == lo_offset {
                    a = mid;
                } else {
                    b = mid;
                }
            }
            frame.push(from, b, lo_offset);
            (lo, from, lo_offset) = (b, b, offset_at(tz, b));
        }
    }

    fn push(&mut self, from: i64, to: i64, offset: i64) {
        self.segments[self.len] = Segment { from, to, offset };
        self.len += 1;
    }

    fn segments(&self) -> &[Segment] {
        &self.segments[..self.len]
    }

    /// Fills `parts` from `segments`.
    fn cut_parts(&mut self) {
        for i in 0..self.len {
            let s = self.segments[i];
            let base = self.midnight - s.offset;
            let (from, to) = (s.from.max(base), s.to.min(base + DAY));
            if from < to {
                self.parts[self.parts_len] = Segment {
                    from,
                    to,
                    offset: base,
                };
                self.parts_len += 1;
            }
        }
    }

    /// The local date described.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The instant of local time `minute` (0 to 1440) of this date. A time that does not
    /// exist (DST gap) moves forward to the end of the gap; a time that happens twice
    /// gives the occurrence `pick` asks for.
    #[inline]
    pub fn at(&self, minute: u16, pick: Pick) -> i64 {
        let naive = self.midnight + i64::from(minute) * 60;
        if self.len == 1 {
            // One offset all around the day, as on all but two days a year.
            return naive - self.segments[0].offset;
        }
        self.at_changing(naive, pick)
    }

    /// [`LocalDay::at`] on a day when the offset changes, for the local time `naive`.
    #[cold]
    #[inline(never)]
    fn at_changing(&self, naive: i64, pick: Pick) -> i64 {
        let matches = self
            .segments()
            .iter()
            .map(|s| (s, naive - s.offset))
            .filter(|(s, t)| (s.from..s.to).contains(t))
            .map(|(_, t)| t);
        let found = match pick {
            Pick::Earliest => matches.min(),
            Pick::Latest => matches.max(),
        };
        found.unwrap_or_else(|| {
            // In a gap: the first segment whose local time starts after `naive`.
            self.segments()
                .iter()
                .find(|s| s.from != MINUS_INF && s.from + s.offset > naive)
                .map_or(naive - self.segments[self.len - 1].offset, |s| s.from)
        })
    }

    /// The instants whose local date is this date, as `[first, end)`.
    pub fn span(&self) -> (i64, i64) {
        match &self.parts[..self.parts_len] {
            [first, .., last] => (first.from, last.to),
            [only] => (only.from, only.to),
            [] => (0, 0),
        }
    }

    /// The first instant at or after `x` of this local date whose local minute of the day
    /// is a multiple of the grid (`grid` in seconds, a multiple of 60), if any.
    #[inline]
    pub fn next_aligned(&self, x: i64, grid: i64) -> Option<i64> {
        if self.parts_len == 1 {
            // One offset all day, as on all but two days a year.
            let Segment { from, to, offset } = self.parts[0];
            let y = x.max(from);
            let aligned = offset + (y - offset + grid - 1).div_euclid(grid) * grid;
            return (aligned < to).then_some(aligned);
        }
        self.next_aligned_changing(x, grid)
    }

    /// [`LocalDay::next_aligned`] on a day when the offset changes.
    #[cold]
    #[inline(never)]
    fn next_aligned_changing(&self, x: i64, grid: i64) -> Option<i64> {
        self.parts[..self.parts_len].iter().find_map(|part| {
            let (from, to, base) = (part.from, part.to, part.offset);
            let y = x.max(from);
            let aligned = base + (y - base + grid - 1).div_euclid(grid) * grid;
            (aligned < to).then_some(aligned)
        })
    }
}

impl LocalDay {
    /// Calls `each` with every grid-aligned instant of this local date in `[from, to]`, in
    /// order: within a constant-offset part they are `grid` apart, so stepping costs an
    /// addition (`grid` in seconds, a multiple of 60).
    pub fn each_aligned(&self, from: i64, to: i64, grid: i64, mut each: impl FnMut(i64)) {
        for part in &self.parts[..self.parts_len] {
            let (lo, end, base) = (from.max(part.from), part.to.min(to + 1), part.offset);
            let mut at = base + (lo - base + grid - 1).div_euclid(grid) * grid;
            while at < end {
                each(at);
                at += grid;
            }
        }
    }
}

/// The first instant of the ISO week of `date` in `tz` and the first instant of the next.
pub(crate) fn week_span(tz: Tz, date: NaiveDate) -> (i64, i64) {
    let monday = date - Days::new(u64::from(date.weekday().num_days_from_monday()));
    let next = monday + Days::new(7);
    (
        LocalDay::new(tz, monday).at(0, Pick::Earliest),
        LocalDay::new(tz, next).at(0, Pick::Earliest),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn an_ordinary_paris_winter_day_has_one_offset() {
        let frame = LocalDay::new(Paris, date(2026, 11, 24));
        assert_eq!(frame.segments().len(), 1);
        assert_eq!(
            frame.at(8 * 60, Pick::Earliest),
            utc("2026-11-24T07:00:00Z")
        );
        assert_eq!(frame.at(1440, Pick::Latest), utc("2026-11-24T23:00:00Z"));
        assert_eq!(frame.span().1 - frame.span().0, DAY);
    }

    #[test]
    fn on_the_spring_forward_day_a_time_in_the_gap_moves_to_three_o_clock() {
        let frame = LocalDay::new(Paris, date(2026, 3, 29));
        let three = utc("2026-03-29T01:00:00Z");
        assert_eq!(frame.at(2 * 60 + 30, Pick::Earliest), three);
        assert_eq!(frame.at(2 * 60 + 30, Pick::Latest), three);
        assert_eq!(frame.span().1 - frame.span().0, DAY - 3600);
        // 01:45 +01:00 is followed on the grid by 03:00 +02:00.
        let quarter_to_two = utc("2026-03-29T00:45:00Z");
        assert_eq!(frame.next_aligned(quarter_to_two + 1, 900), Some(three));
    }

    #[test]
    fn on_the_fall_back_day_a_repeated_time_has_two_instants() {
        let frame = LocalDay::new(Paris, date(2026, 10, 25));
        let first = utc("2026-10-25T00:30:00Z");
        let second = utc("2026-10-25T01:30:00Z");
        assert_eq!(frame.at(2 * 60 + 30, Pick::Earliest), first);
        assert_eq!(frame.at(2 * 60 + 30, Pick::Latest), second);
        assert_eq!(frame.span().1 - frame.span().0, DAY + 3600);
        assert_eq!(frame.next_aligned(first + 1, 900), Some(first + 900));
        // 02:45 +02:00 is followed by 02:00 +01:00.
        assert_eq!(frame.next_aligned(first + 901, 900), Some(first + 1800));
    }

    #[test]
    fn grid_alignment_follows_local_time_in_a_half_hour_zone() {
        let frame = LocalDay::new(chrono_tz::Asia::Kolkata, date(2026, 1, 5));
        // 09:00 +05:30 is 03:30 UTC.
        let nine = utc("2026-01-05T03:30:00Z");
        assert_eq!(frame.next_aligned(nine - 1799, 3600), Some(nine));
    }

    #[test]
    fn an_iso_week_runs_from_monday_midnight_to_monday_midnight() {
        let (from, to) = week_span(Paris, date(2026, 3, 29));
        assert_eq!(from, utc("2026-03-22T23:00:00Z"));
        assert_eq!(to, utc("2026-03-29T22:00:00Z"));
    }
}
