//! Every free start of every eligible expert, one expert-day at a time.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::availability::Scratch;
use super::entry_ranges::narrow_to;
use super::local_day::{DAY, instant};
use super::roster::Roster;

/// Lists every free `(directory index, start)` pair, by expert then by start.
pub(crate) fn enumerate(roster: &mut Roster) -> Vec<(usize, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut scratch = Scratch::default();
    let mut spans = Vec::new();
    let mut instants = Instants::default();
    let grid = roster.grid;
    // Members mostly share a zone and a window: their days are looked up once.
    let mut known = None;
    for m in 0..roster.members.len() {
        let member = &roster.members[m];
        let (key, expert) = ((member.zone, member.lo, member.hi), member.expert);
        let days = match &known {
            Some((k, days)) if *k == key => Range::clone(days),
            _ => {
                let days = roster.zone_days(key.0, key.1, key.2);
                for day in days.clone() {
                    roster.zone_frame(key.0, day);
                }
                known = Some((key, days.clone()));
                days
            }
        };
        roster.sweep_entry_ranges(m);
        // From here on the roster is only read: one request per member, pointed at each day's
        // entries in turn, and frames by reference (both are large to copy per day).
        let roster = &*roster;
        let mut request = roster.request(m);
        let busy = request.busy;
        for day in days {
            let (Some(frame), Some(ranges)) = (
                roster.made_frame(key.0, day),
                roster.swept_entry_ranges(m, day),
            ) else {
                continue;
            };
            narrow_to(&mut request, &busy, ranges);
            spans.clear();
            request.free_spans(frame, &mut scratch, &mut spans);
            for &(from, to) in &spans {
                frame.each_aligned(from, to, grid, |start| {
                    out.push((expert, instants.at(start)));
                });
            }
        }
        if m == 0 {
            // The first expert tells roughly how many pairs the others will have; a quarter
            // more spares the copy of everything found so far when it had fewer than most.
            out.reserve(out.len() * roster.members.len() * 5 / 4);
        }
    }
    out
}

/// Turns instants in seconds, many of them on the same UTC day, into `DateTime`s: the
/// date is worked out once per UTC day, the time of day by arithmetic.
#[derive(Debug, Clone, Copy)]
struct Instants {
    day: i64,
    date: Option<NaiveDate>,
}

impl Default for Instants {
    fn default() -> Self {
        Self {
            day: i64::MIN,
            date: None,
        }
    }
}

impl Instants {
    /// The instant at `secs` seconds after the epoch, as [`instant`] gives it.
    fn at(&mut self, secs: i64) -> DateTime<Utc> {
        let day = secs.div_euclid(DAY);
        if day != self.day {
            self.day = day;
            self.date = DateTime::from_timestamp(day * DAY, 0).map(|t| t.date_naive());
        }
        let second = u32::try_from(secs - day * DAY).unwrap_or(0);
        match (
            self.date,
            NaiveTime::from_num_seconds_from_midnight_opt(second, 0),
        ) {
            (Some(date), Some(time)) => date.and_time(time).and_utc(),
            _ => instant(secs),
        }
    }
}
