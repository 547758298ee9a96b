//! The experts of the country, indexed once and queried many times.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::calendar::Calendar;
use super::eligibility::{Blocker, Eligibility};
use super::eligibility::{fails_at, fails_before_zone, in_zone_unlisted};
use super::expert::{ExpertEntry, Schedule};
use super::local_day::DAY;
use super::query::Query;
use super::roster::Roster;
use super::rule_index::RuleIndex;
use super::search::Collisions;
use super::settings::Settings;
use super::slot::Slot;
use super::travel::Anchor;
use super::zone_index::ZoneIndex;
use super::{enumerate, search};
use crate::domain::appointment::Mode;

/// Every expert, with a spatial index of their zones and a map from id to position.
#[derive(Debug, Default)]
pub struct Directory {
    experts: Vec<ExpertEntry>,
    positions: HashMap<String, usize>,
    zones: ZoneIndex,
    /// The place-independent rules as bit sets.
    rules: RuleIndex,
    /// Per expert, what searches read of its schedule, in one compact place.
    schedules: Vec<Schedule>,
}

impl Directory {
    /// Indexes `experts`; an expert's index is its position in this list. When an id is
    /// given twice, [`Directory::position`] finds the first.
    pub fn new(experts: Vec<ExpertEntry>) -> Self {
        let mut positions = HashMap::with_capacity(experts.len());
        for (index, expert) in experts.iter().enumerate() {
            positions.entry(expert.id.clone()).or_insert(index);
        }
        let zones = ZoneIndex::new(&experts);
        let schedules = experts.iter().map(|e| Schedule::of(&e.profile)).collect();
        let rules = RuleIndex::new(&experts);
        Self {
            experts,
            positions,
            zones,
            rules,
            schedules,
        }
    }

    /// Number of experts.
    pub fn len(&self) -> usize {
        self.experts.len()
    }

    /// Whether there is no expert at all.
    pub fn is_empty(&self) -> bool {
        self.experts.is_empty()
    }

    /// The expert at `index`; panics when out of range.
    pub fn expert(&self, index: usize) -> &ExpertEntry {
        &self.experts[index]
    }

    /// The index of the expert with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.positions.get(id).copied()
    }

    /// The experts eligible for `query` (protocol "Etape 1": active, of the partner kind,
    /// skilled, accepting insurer, insured type and dwelling type, stake under their
    /// maximum, and on site the place in their zone).
    ///
    /// The rules but the zone are read from the `RuleIndex`, and on site only the
    /// experts the `ZoneIndex` proposes are checked; the whole list is scanned only to
    /// explain an empty answer.
    pub fn eligible(&self, query: &Query) -> Eligibility {
        let admitting = self.rules.admitting(query);
        let passes = |i: usize| {
            let passes = admitting.contains(i) && self.rules.takes_stake(i, query);
            debug_assert_eq!(
                passes,
                fails_before_zone(&self.experts[i].profile, query).is_none(),
                "expert {i}"
            );
            passes
        };
        let experts = match (&query.place, query.expertise_type.is_remote()) {
            (_, true) => {
                let experts: Vec<usize> = admitting
                    .iter()
                    .filter(|&i| self.rules.takes_stake(i, query))
                    .collect();
                debug_assert_eq!(experts, self.scan(query));
                experts
            }
            (None, false) => Vec::new(),
            (Some(target), false) => {
                let mut near = Vec::new();
                let anchor = Anchor::new(&target.point);
                self.zones.candidates(target, |i, listed| {
                    if passes(i)
                        && (listed
                            || in_zone_unlisted(
                                &self.experts[i].profile,
                                self.schedules[i].base.as_ref(),
                                target,
                                &anchor,
                            ))
                    {
                        near.push(i);
                    }
                });
                near
            }
        };
        let blocked_by = experts.is_empty().then(|| self.diagnose(query));
        Eligibility {
            experts,
            blocked_by,
        }
    }

    /// The best free slots of the `eligible` experts for `query` (protocol "Etape 1"):
    /// sorted by start, never two with the same start, never two overlapping slots of one
    /// expert, at most `query.max_slots`, and spread over days: a first round takes at
    /// most `ceil(max_slots / days of the window)` slots from each Europe/Paris date,
    /// earliest first, and further rounds fill up while slots remain. For one start the
    /// best expert wins: least travel, then fewest confirmed appointments in the expert's
    /// local ISO week of the start, then lowest index.
    ///
    /// `calendar(i)` gives the calendar of expert `i` (it should hold the window and the
    /// ISO weeks around it); `now` bounds the notice. Only the expert-days that can
    /// compete for the earliest starts are computed in full.
    pub fn search<'c>(
        &self,
        query: &Query,
        eligible: &[usize],
        calendar: impl Fn(usize) -> &'c Calendar,
        now: DateTime<Utc>,
        settings: &Settings,
    ) -> Vec<Slot> {
        self.search_with(
            query,
            eligible,
            calendar,
            now,
            settings,
            Collisions::SetAside,
        )
    }

    /// [`Directory::search`] by the plain algorithm, where every candidate whose start
    /// another slot took is queued again at once: the reference the faster one must
    /// agree with, for tests and benchmarks.
    #[doc(hidden)]
    pub fn search_reference<'c>(
        &self,
        query: &Query,
        eligible: &[usize],
        calendar: impl Fn(usize) -> &'c Calendar,
        now: DateTime<Utc>,
        settings: &Settings,
    ) -> Vec<Slot> {
        self.search_with(
            query,
            eligible,
            calendar,
            now,
            settings,
            Collisions::Requeue,
        )
    }

    fn search_with<'c>(
        &self,
        query: &Query,
        eligible: &[usize],
        calendar: impl Fn(usize) -> &'c Calendar,
        now: DateTime<Utc>,
        settings: &Settings,
        collisions: Collisions,
    ) -> Vec<Slot> {
        if query.max_slots == 0
            || (query.on_site_place().is_none() && !query.expertise_type.is_remote())
        {
            return Vec::new();
        }
        let experts = (&self.experts[..], &self.schedules[..]);
        let mut roster = Roster::new(experts, query, eligible, calendar, now, settings);
        let window = (query.to - query.from).num_seconds();
        let days = usize::try_from((window + DAY / 2) / DAY).unwrap_or(0);
        search::search(
            &mut roster,
            Mode::of(query.expertise_type),
            query.max_slots,
            days,
            collisions,
        )
    }

    /// Every free `(expert index, start)` pair of the `eligible` experts for `query`,
    /// grouped by expert (ascending), each expert's starts ascending; `max_slots` and the
    /// result policy do not apply.
    pub fn enumerate<'c>(
        &self,
        query: &Query,
        eligible: &[usize],
        calendar: impl Fn(usize) -> &'c Calendar,
        now: DateTime<Utc>,
        settings: &Settings,
    ) -> Vec<(usize, DateTime<Utc>)> {
        if query.on_site_place().is_none() && !query.expertise_type.is_remote() {
            return Vec::new();
        }
        let experts = (&self.experts[..], &self.schedules[..]);
        let mut roster = Roster::new(experts, query, eligible, calendar, now, settings);
        enumerate::enumerate(&mut roster)
    }

    /// Every eligible expert, by checking each one.
    fn scan(&self, query: &Query) -> Vec<usize> {
        (0..self.experts.len())
            .filter(|&i| fails_at(&self.experts[i].profile, query).is_none())
            .collect()
    }

    /// The rule at which the experts that got furthest failed.
    fn diagnose(&self, query: &Query) -> Blocker {
        self.experts
            .iter()
            .filter_map(|e| fails_at(&e.profile, query))
            .max()
            .unwrap_or(Blocker::NoExpertOfKind)
    }
}
