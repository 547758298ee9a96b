//! What a search or an enumeration needs of each eligible expert, prepared once.

use std::cell::OnceCell;
use std::ops::Range;

use chrono::{DateTime, Datelike as _, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::busy::{BusySpan, BusyTimes, Reach};
use super::calendar::Calendar;
use super::local_day::{LocalDay, local_date, week_span};
use super::availability::ExpertRequest;
use super::expert::Schedule;
use super::query::Query;
use super::travel::{Anchor, Unit};
use super::window::Window;
use super::directory::Directory;
use super::settings::Settings;
use crate::domain::expert::ExpertProfile;
use crate::domain::{ExpertiseType, GeoPoint};

/// Whole seconds at or after an instant.
pub(crate) fn ceil_secs(at: DateTime<Utc>) -> i64 {
    at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)
}

/// One eligible expert with a non-empty window.
#[derive(Debug)]
pub(crate) struct Member<'a> {
    /// Index in the directory.
    pub expert: usize,
    /// The expert's profile.
    pub profile: &'a ExpertProfile,
    /// The expert's calendar.
    pub calendar: &'a Calendar,
    /// What searches read of the expert's schedule (hours, base, fingerprint).
    pub schedule: &'a Schedule,
    /// Index of the expert's time zone in the plan.
    pub zone: usize,
    /// Slot length in seconds.
    pub duration: i64,
    /// Earliest start allowed.
    pub lo: i64,
    /// Latest start allowed.
    pub hi: i64,
    /// Travel from the base to the place, in seconds (on site, with a base), once
    /// needed: see [`Plan::base_travel`].
    base_travel: OnceCell<Option<i64>>,
    /// A lower bound of `base_travel` found without trigonometry, for the bounds of the
    /// first free starts.
    pub base_floor: Option<i64>,
    /// Where the member's day windows start in the plan's list, once built.
    pub(super) windows: Option<usize>,
    /// Where the calendar in seconds lies, once [`Plan::prepare`]d.
    busy: Option<Stored>,
    week: Option<(i64, u32)>,
}

/// Where a member's calendar in seconds lies.
#[derive(Debug, Clone, Copy)]
enum Stored {
    /// In the calendar, as [`Calendar::new`] made it.
    Own,
    /// In the plan's lists, from these positions.
    Plan(usize, usize, Reach),
}

/// The eligible experts of one request, their time zones and days.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
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
    /// Per zone, the instants of each plan day, once needed.
    pub(super) day_spans: Vec<Vec<(i64, i64)>>,
    /// Per member with windows, one per plan day.
    pub(super) windows: Vec<Window>,
}

impl<'a> Plan<'a> {
    /// Prepares the members of `eligible` for `query`.
    pub fn new<'c: 'a, F>(
        directory: &'a Directory,
        query: &'a Query,
        eligible: &[usize],
        calendar: F,
        now: DateTime<Utc>,
        settings: &'a Settings,
    ) -> Self
    where
        F: Fn(usize) -> &'c Calendar,
    {
        let mut eligible = eligible.to_vec();
        eligible.sort_unstable();
        eligible.dedup();
        let place = query.on_site_place();
        let anchor = place.map(Anchor::new);
        let unit = place.map(Unit::new);
        let (from, to) = (ceil_secs(query.from), query.to.timestamp());
        let now = ceil_secs(now);
        let mut zones: Vec<Tz> = Vec::new();
        let mut members = Vec::with_capacity(eligible.len());
        for expert in eligible.into_iter().filter(|&i| i < directory.len()) {
            // The schedule holds what is read here; the profile is only read for the few
            // expert-days computed in full.
            let schedule = directory.schedule(expert);
            let duration = schedule.duration(query.expertise_type);
            let (lo, hi) = (from.max(now + schedule.notice), to - duration);
            if lo > hi || schedule.hours.iter().all(Option::is_none) {
                continue;
            }
            let tz = schedule.tz;
            let zone = zones.iter().position(|&z| z == tz).unwrap_or_else(|| {
                zones.push(tz);
                zones.len() - 1
            });
            members.push(Member {
                expert,
                profile: &directory.expert(expert).profile,
                calendar: calendar(expert),
                schedule,
                zone,
                duration,
                lo,
                hi,
                base_travel: OnceCell::new(),
                base_floor: schedule.base_unit.zip(unit).map(|(base, place)| {
                    i64::from(place.travel_minutes_floor(&base, settings)) * 60
                }),
                windows: None,
                busy: None,
                week: None,
            });
        }
        // Dates from the earliest start to the latest, in whichever zone is furthest.
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
        let (first_date, days) = match (first_date, last_date) {
            (Some(first), Some(last)) => (first, day_count(first, last)),
            _ => (NaiveDate::MIN, 0),
        };
        let bounds = (
            members.iter().map(|m| m.lo).min().unwrap_or(0),
            members.iter().map(|m| m.hi).max().unwrap_or(-1),
        );
        Self {
            settings,
            expertise_type: query.expertise_type,
            place,
            anchor,
            grid: settings.grid_seconds(),
            frames: vec![None; zones.len() * days],
            day_spans: vec![Vec::new(); zones.len()],
            windows: Vec::new(),
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

    /// The local date of plan day `day`.
    pub fn date(&self, day: usize) -> NaiveDate {
        self.dates[day]
    }

    /// The weekday of plan day `day`.
    pub fn weekday(&self, day: usize) -> Weekday {
        self.weekdays[day]
    }

    /// The weekday of each plan day.
    pub fn weekdays(&self) -> &[Weekday] {
        &self.weekdays
    }

    /// The plan days whose local date in zone `zone` holds instants of `[from, to]`.
    pub fn zone_days(&self, zone: usize, from: i64, to: i64) -> Range<usize> {
        let index = |at: i64| {
            let days = (local_date(self.zones[zone], at) - self.first_date).num_days();
            usize::try_from(days).ok()
        };
        let first = index(from).unwrap_or(0);
        let end = index(to).map_or(0, |last| (last + 1).min(self.days));
        first..end.max(first)
    }

    /// The frame of plan day `day` in the time zone of member `m`.
    pub fn frame(&mut self, m: usize, day: usize) -> LocalDay {
        self.zone_frame(self.members[m].zone, day)
    }

    /// The frame of plan day `day` in zone `zone`.
    pub fn zone_frame(&mut self, zone: usize, day: usize) -> LocalDay {
        let slot = zone * self.days + day;
        if let Some(frame) = self.frames[slot] {
            return frame;
        }
        let frame = LocalDay::new(self.zones[zone], self.date(day));
        self.frames[slot] = Some(frame);
        frame
    }

    /// The frame of plan day `day` in zone `zone`, if [`Plan::zone_frame`] made it.
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
                Stored::Plan(absences, appointments, reach)
            });
        }
    }

    /// The calendar of member `m` in seconds, once [`Plan::prepare`]d.
    pub(super) fn busy_times(&self, m: usize) -> BusyTimes<'_> {
        let member = &self.members[m];
        match member.busy.expect("member prepared") {
            Stored::Own => member.calendar.own_busy_times(),
            Stored::Plan(absences, appointments, reach) => BusyTimes {
                absences: &self.absences[absences..absences + member.calendar.absences.len()],
                appointments: &self.appointments
                    [appointments..appointments + member.calendar.appointments.len()],
                reach,
            },
        }
    }

    /// What is asked of member `m`, once [`Plan::prepare`]d.
    pub fn need(&self, m: usize) -> ExpertRequest<'_> {
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

    /// The confirmed appointments of member `m` in the local ISO week of plan day `day`.
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
}

/// Number of dates from `first` to `last`, both included.
fn day_count(first: NaiveDate, last: NaiveDate) -> usize {
    usize::try_from((last - first).num_days() + 1).unwrap_or(0)
}
