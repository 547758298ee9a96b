//! The eligible experts of one request, prepared once for a search or an enumeration.

use std::ops::Range;

use chrono::{DateTime, Datelike as _, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::availability::ExpertRequest;
use super::busy::{BusySpan, BusyTimes};
use super::calendar::Calendar;
use super::entry_ranges::{EntryRanges, fill, narrow, one_day};
use super::expert::{ExpertEntry, Schedule};
use super::local_day::{LocalDay, local_date, week_span};
use super::member::{Member, Stored, members};
use super::query::Query;
use super::settings::Settings;
use super::travel::Anchor;
use crate::domain::{ExpertiseType, GeoPoint};

/// The eligible experts of one request with their time zones and days: what a search or
/// an enumeration reads of them, prepared once and on demand.
#[derive(Debug)]
pub(crate) struct Roster<'a> {
    /// Travel estimation and grid.
    pub settings: &'a Settings,
    /// The expertise type asked for (it picks the calendars' memos).
    pub expertise_type: ExpertiseType,
    /// The appointment place when on site.
    pub place: Option<&'a GeoPoint>,
    /// The appointment place prepared for distances.
    anchor: Option<Anchor>,
    /// Grid step in seconds.
    pub grid: i64,
    /// The experts with something to offer, by directory index.
    pub members: Vec<Member<'a>>,
    zones: Vec<Tz>,
    first_date: NaiveDate,
    /// Number of local dates covered, in any of the zones.
    pub days: usize,
    /// Earliest start and latest start of any member.
    pub bounds: (i64, i64),
    frames: Vec<Option<LocalDay>>,
    /// Per zone and day, the instants of the local ISO week, once computed.
    weeks: Vec<Option<(i64, i64)>>,
    dates: Vec<NaiveDate>,
    weekdays: Vec<Weekday>,
    absences: Vec<BusySpan>,
    appointments: Vec<BusySpan>,
    /// Per zone, the instants of each day, once needed.
    day_spans: Vec<Vec<(i64, i64)>>,
    /// Per member with entry ranges, one per day.
    entry_ranges: Vec<EntryRanges>,
}

impl<'a> Roster<'a> {
    /// Prepares the members of `eligible` for `query`; `experts` and `schedules` are the
    /// directory's, by index.
    pub fn new<'c: 'a, F>(
        experts: (&'a [ExpertEntry], &'a [Schedule]),
        query: &'a Query,
        eligible: &[usize],
        calendar: F,
        now: DateTime<Utc>,
        settings: &'a Settings,
    ) -> Self
    where
        F: Fn(usize) -> &'c Calendar,
    {
        let place = query.on_site_place();
        let (members, zones) = members(experts, query, eligible, calendar, now, settings);
        let (first_date, days) = date_range(&members, &zones);
        let bounds = (
            members.iter().map(|m| m.lo).min().unwrap_or(0),
            members.iter().map(|m| m.hi).max().unwrap_or(-1),
        );
        Self {
            settings,
            expertise_type: query.expertise_type,
            place,
            anchor: place.map(Anchor::new),
            grid: settings.grid_seconds(),
            frames: vec![None; zones.len() * days],
            day_spans: vec![Vec::new(); zones.len()],
            entry_ranges: Vec::new(),
            weeks: vec![None; zones.len() * days],
            dates: (0..days)
                .map(|d| first_date + Days::new(d as u64))
                .collect(),
            weekdays: (0..days)
                .map(|d| (first_date + Days::new(d as u64)).weekday())
                .collect(),
            members,
            zones,
            first_date,
            days,
            bounds,
            absences: Vec::new(),
            appointments: Vec::new(),
        }
    }

    /// Number of distinct time zones among the members.
    pub fn zone_count(&self) -> usize {
        self.zones.len()
    }

    /// The local date of day `day`.
    pub fn date(&self, day: usize) -> NaiveDate {
        self.dates[day]
    }

    /// The weekday of day `day`.
    pub fn weekday(&self, day: usize) -> Weekday {
        self.weekdays[day]
    }

    /// The weekday of each day.
    pub fn weekdays(&self) -> &[Weekday] {
        &self.weekdays
    }

    /// The days whose local date in zone `zone` holds instants of `[from, to]`.
    pub fn zone_days(&self, zone: usize, from: i64, to: i64) -> Range<usize> {
        let index = |at: i64| {
            let days = (local_date(self.zones[zone], at) - self.first_date).num_days();
            usize::try_from(days).ok()
        };
        let first = index(from).unwrap_or(0);
        let end = index(to).map_or(0, |last| (last + 1).min(self.days));
        first..end.max(first)
    }

    /// The frame of day `day` in the time zone of member `m`.
    pub fn frame(&mut self, m: usize, day: usize) -> LocalDay {
        self.zone_frame(self.members[m].zone, day)
    }

    /// The frame of day `day` in zone `zone`.
    pub fn zone_frame(&mut self, zone: usize, day: usize) -> LocalDay {
        let slot = zone * self.days + day;
        if let Some(frame) = self.frames[slot] {
            return frame;
        }
        let frame = LocalDay::new(self.zones[zone], self.date(day));
        self.frames[slot] = Some(frame);
        frame
    }

    /// The frame of day `day` in zone `zone`, if [`Roster::zone_frame`] made it.
    pub fn made_frame(&self, zone: usize, day: usize) -> Option<&LocalDay> {
        self.frames[zone * self.days + day].as_ref()
    }

    /// Converts the calendar of member `m` to seconds, once, unless [`Calendar::new`]
    /// already did.
    pub fn prepare(&mut self, m: usize) {
        let member = &mut self.members[m];
        if member.busy.is_none() {
            member.busy = Some(if member.calendar.busy_times().is_some() {
                Stored::Own
            } else {
                let (absences, appointments) = (self.absences.len(), self.appointments.len());
                let reach = member
                    .calendar
                    .convert(&mut self.absences, &mut self.appointments);
                Stored::Roster(absences, appointments, reach)
            });
        }
    }

    /// The calendar of member `m` in seconds, once [`Roster::prepare`]d.
    pub fn busy_times(&self, m: usize) -> BusyTimes<'_> {
        let member = &self.members[m];
        match member.busy.expect("member prepared") {
            Stored::Own => member.calendar.own_busy_times(),
            Stored::Roster(absences, appointments, reach) => BusyTimes {
                absences: &self.absences[absences..absences + member.calendar.absences.len()],
                appointments: &self.appointments
                    [appointments..appointments + member.calendar.appointments.len()],
                reach,
            },
        }
    }

    /// What is asked of member `m`, once [`Roster::prepare`]d.
    pub fn request(&self, m: usize) -> ExpertRequest<'_> {
        let member = &self.members[m];
        ExpertRequest {
            profile: member.profile,
            busy: self.busy_times(m),
            place: self.anchor,
            base_travel: self.base_travel(m),
            duration: member.duration,
            lo: member.lo,
            hi: member.hi,
            settings: self.settings,
        }
    }

    /// The travel in seconds from the base of member `m` to the place (on site, with a
    /// base), worked out the first time it is needed: most members are only ranked by
    /// their lower bounds.
    pub fn base_travel(&self, m: usize) -> Option<i64> {
        let member = &self.members[m];
        *member.base_travel.get_or_init(|| {
            let (base, place) = (member.schedule.base.as_ref()?, self.anchor.as_ref()?);
            Some(i64::from(place.travel_minutes_to(base, self.settings)) * 60)
        })
    }

    /// The confirmed appointments of member `m` in the local ISO week of day `day`.
    pub fn load(&mut self, m: usize, day: usize) -> u32 {
        let zone = self.members[m].zone;
        let slot = zone * self.days + day;
        let (from, to) = *self.weeks[slot].get_or_insert_with(|| {
            let date = self.dates[day];
            week_span(self.zones[zone], date)
        });
        if let Some((start, count)) = self.members[m].week {
            if start == from {
                return count;
            }
        }
        self.prepare(m);
        let booked = self.busy_times(m).appointments;
        let first = booked.partition_point(|b| b.start < from);
        let count = booked[first..].partition_point(|b| b.start < to);
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        self.members[m].week = Some((from, count));
        count
    }

    /// The entry ranges of day `day` of member `m`, once [`Roster::sweep_entry_ranges`]
    /// found them.
    pub fn swept_entry_ranges(&self, m: usize, day: usize) -> Option<EntryRanges> {
        self.members[m]
            .entry_ranges
            .map(|base| self.entry_ranges[base + day])
    }

    /// What is asked of member `m` on day `day`: [`Roster::request`] with only the
    /// calendar entries that can matter on that day. Uses the entry ranges of every day
    /// when they were swept, else finds this day's alone.
    pub fn day_request(&mut self, m: usize, day: usize) -> ExpertRequest<'_> {
        self.prepare(m);
        let ranges = if let Some(base) = self.members[m].entry_ranges {
            self.entry_ranges[base + day]
        } else {
            let member = &self.members[m];
            let buffer = i64::from(member.profile.buffer_minutes) * 60;
            let span = self.zone_frame(member.zone, day).span();
            let member = &self.members[m];
            one_day(&self.busy_times(m), span, member.duration, buffer)
        };
        narrow(self.request(m), ranges)
    }

    /// Finds the entry ranges of every day of member `m` in one sweep, for a caller about
    /// to look at all its days (see [`Roster::day_request`]).
    pub fn sweep_entry_ranges(&mut self, m: usize) {
        self.prepare(m);
        if self.members[m].entry_ranges.is_some() {
            return;
        }
        let zone = self.members[m].zone;
        if self.day_spans[zone].is_empty() {
            let spans = (0..self.days).map(|day| self.zone_frame(zone, day).span());
            self.day_spans[zone] = spans.collect();
        }
        let mut ranges = std::mem::take(&mut self.entry_ranges);
        if ranges.capacity() == 0 {
            // Enumerating: every member will have its entry ranges.
            ranges.reserve(self.members.len() * self.days);
        }
        let base = ranges.len();
        let member = &self.members[m];
        let buffer = i64::from(member.profile.buffer_minutes) * 60;
        let busy = self.busy_times(m);
        fill(
            &busy,
            &self.day_spans[zone],
            member.duration,
            buffer,
            &mut ranges,
        );
        self.entry_ranges = ranges;
        self.members[m].entry_ranges = Some(base);
    }
}

/// The first local date of any member's window and the number of dates up to the last,
/// in whichever zone is furthest.
fn date_range(members: &[Member], zones: &[Tz]) -> (NaiveDate, usize) {
    let mut first_date: Option<NaiveDate> = None;
    let mut last_date: Option<NaiveDate> = None;
    for (zone, &tz) in zones.iter().enumerate() {
        let of_zone = members.iter().filter(|m| m.zone == zone);
        let lo = of_zone.clone().map(|m| m.lo).min().unwrap_or(0);
        let hi = of_zone.map(|m| m.hi).max().unwrap_or(0);
        let (first, last) = (local_date(tz, lo), local_date(tz, hi));
        first_date = Some(first_date.map_or(first, |d| d.min(first)));
        last_date = Some(last_date.map_or(last, |d| d.max(last)));
    }
    match (first_date, last_date) {
        (Some(first), Some(last)) => (first, day_count(first, last)),
        _ => (NaiveDate::MIN, 0),
    }
}

/// Number of dates from `first` to `last`, both included.
fn day_count(first: NaiveDate, last: NaiveDate) -> usize {
    usize::try_from((last - first).num_days() + 1).unwrap_or(0)
}
