//! The best few slots of many experts, found lazily.
//!
//! Slots are spread over the days of Europe/Paris (one bucket per Paris date, whatever the
//! experts' own time zones, so that all the candidates for one instant meet in one
//! bucket). Each bucket has a priority queue of candidates ranked as the result policy
//! ranks slots: start, then travel, then weekly load, then directory index.
//!
//! An expert-day enters a bucket's queue as a lower bound of its first free start, with
//! no travel: remote, the start of its first working range (a few additions: most of the
//! thousands of remote experts are never looked at more closely); on site, the first start
//! that is free if the trips between visits are left out (a walk over the day's
//! appointments, no distance computed). When a bound reaches the head, the expert-day is
//! computed in full and requeued with its real first free start and travel. Bounds rank
//! before real starts, so the head of the queue is always the best slot left in the
//! bucket, and only the expert-days that can compete for the earliest starts are computed.

mod bucket;

use std::cmp::Reverse;

use super::clock::{Pick, instant};
use super::day::{Scratch, first_free, travel_after};
use super::plan::Plan;
use super::rough::Look;
use super::{Mode, Slot};
use bucket::{Bucket, Entry, ExpertDay, buckets};

/// A slot already chosen.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    member: usize,
    start: i64,
    end: i64,
    travel: u32,
}

/// The search state over all buckets.
struct Searcher<'p, 'a> {
    plan: &'p mut Plan<'a>,
    buckets: Vec<Bucket>,
    scratch: Scratch,
    chosen: Vec<Chosen>,
    /// Members, those closest to the place first (on site), so that the cap of a
    /// bucket falls early.
    order: Vec<usize>,
}

/// Runs the result policy: at most `max_slots` slots, sorted by start, spread over days
/// (`spread_days` is the number of days of the window).
pub(crate) fn search(
    plan: &mut Plan,
    mode: Mode,
    max_slots: usize,
    spread_days: usize,
) -> Vec<Slot> {
    let per_day = max_slots.div_ceil(spread_days.max(1));
    let buckets = buckets(plan.bounds);
    let count = buckets.len();
    let mut order: Vec<usize> = (0..plan.members.len()).collect();
    order.sort_by_key(|&m| plan.members[m].base_travel);
    let mut searcher = Searcher {
        buckets,
        plan,
        scratch: Scratch::default(),
        chosen: Vec::with_capacity(max_slots),
        order,
    };
    'rounds: loop {
        let before = searcher.chosen.len();
        for b in 0..count {
            for _ in 0..per_day {
                if searcher.chosen.len() >= max_slots {
                    break 'rounds;
                }
                if !searcher.next_slot(b) {
                    break;
                }
            }
        }
        if searcher.chosen.len() == before {
            break;
        }
    }
    let members = &searcher.plan.members;
    let mut slots: Vec<Slot> = searcher
        .chosen
        .iter()
        .map(|c| Slot {
            expert: members[c.member].expert,
            start: instant(c.start),
            end: instant(c.end),
            mode,
            travel_minutes: c.travel,
        })
        .collect();
    slots.sort_by_key(|s| (s.start, s.expert));
    slots
}

impl Searcher<'_, '_> {
    /// Fills the queue of bucket `b` with one candidate per expert-day in it.
    ///
    /// On site, a running `cap` (the earliest real free start computed so far) limits
    /// each walk: an expert-day that cannot start before it waits as a lower bound, and
    /// one that may is computed at once and lowers the cap.
    fn start_bucket(&mut self, b: usize) {
        let (from, to) = (self.buckets[b].from, self.buckets[b].to);
        let zone_days: Vec<_> = (0..self.plan.zone_count())
            .map(|zone| self.plan.zone_days(zone, from, to - 1))
            .collect();
        let on_site = self.plan.place.is_some();
        let (mut entries, mut pending) = (Vec::new(), Vec::new());
        let mut cap = to - 1;
        for i in 0..self.order.len() {
            let m = self.order[i];
            for day in zone_days[self.plan.members[m].zone].clone() {
                let Some(mut start) = self.lower_bound(m, day, (from, to)) else {
                    continue;
                };
                if on_site {
                    let frame = self.plan.frame(m, day);
                    self.plan.prepare(m);
                    let need = self.plan.need(m, true);
                    match need.first_rough(&frame, start, self.plan.grid, cap) {
                        Look::Nothing => continue,
                        Look::NotBefore(later) => start = later,
                        Look::Free(rough) => {
                            if let Some(real) = self.compute(b, m, day, rough) {
                                cap = cap.min(real);
                            }
                            continue;
                        }
                    }
                }
                // On site, travel decides before load: the load waits for the real start.
                let load = if on_site { 0 } else { self.plan.load(m, day) };
                let expert = self.plan.members[m].expert;
                entries.push(Reverse(Entry {
                    start,
                    travel: 0,
                    load,
                    expert: u32::try_from(expert).unwrap_or(u32::MAX),
                    exact: false,
                    id: pending.len(),
                }));
                pending.push((m, day));
            }
        }
        let bucket = &mut self.buckets[b];
        bucket.heap.extend(entries);
        bucket.pending = pending;
        bucket.started = true;
    }

    /// The start of the first working range of member `m` on plan day `day`, moved into
    /// its window and `[from, to)`; `None` when the day has no room for a slot.
    fn lower_bound(&mut self, m: usize, day: usize, (from, to): (i64, i64)) -> Option<i64> {
        let member = &self.plan.members[m];
        let (lo, hi, duration) = (member.lo, member.hi, member.duration);
        let ranges = member.profile.weekly_hours.day(self.plan.weekday(day));
        let (first, last) = (ranges.first()?, ranges.last()?);
        let frame = self.plan.frame(m, day);
        let bound = frame.at(first.start(), Pick::Earliest).max(lo).max(from);
        let latest = hi
            .min(to - 1)
            .min(frame.at(last.end(), Pick::Latest) - duration);
        (bound <= latest).then_some(bound)
    }

    /// Computes the free spans of member `m` on plan day `day` within bucket `b`, then
    /// queues its first free start at or after `from` and returns it.
    fn compute(&mut self, b: usize, m: usize, day: usize, from: i64) -> Option<i64> {
        let frame = self.plan.frame(m, day);
        let load = self.plan.load(m, day);
        self.plan.prepare(m);
        let need = self.plan.need(m, false);
        let bucket = &mut self.buckets[b];
        let first = bucket.spans.len();
        need.free_spans(&frame, &mut self.scratch, &mut bucket.spans);
        // Keep the part inside the bucket.
        let (lo, hi) = (bucket.from, bucket.to - 1);
        let mut kept = first;
        for i in first..bucket.spans.len() {
            let (a, z) = bucket.spans[i];
            if a.max(lo) <= z.min(hi) {
                bucket.spans[kept] = (a.max(lo), z.min(hi));
                kept += 1;
            }
        }
        bucket.spans.truncate(kept);
        let visits = bucket.visits.len();
        bucket.visits.extend_from_slice(self.scratch.visits());
        bucket.computed.push(ExpertDay {
            member: m,
            day,
            spans: (first, kept),
            visits: (visits, bucket.visits.len()),
            load,
        });
        let id = bucket.computed.len() - 1;
        self.requeue(b, id, from)
    }

    /// Queues the first free start at or after `from` of a computed expert-day and
    /// returns it.
    fn requeue(&mut self, b: usize, id: usize, from: i64) -> Option<i64> {
        let computed = self.buckets[b].computed[id];
        let frame = self.plan.frame(computed.member, computed.day);
        let bucket = &mut self.buckets[b];
        let spans = &bucket.spans[computed.spans.0..computed.spans.1];
        let start = first_free(&frame, spans, from, self.plan.grid)?;
        let member = &self.plan.members[computed.member];
        let visits = &bucket.visits[computed.visits.0..computed.visits.1];
        bucket.heap.push(Reverse(Entry {
            start,
            travel: travel_after(visits, member.base_travel, start),
            load: computed.load,
            expert: u32::try_from(member.expert).unwrap_or(u32::MAX),
            exact: true,
            id,
        }));
        Some(start)
    }

    /// Takes the best slot left in bucket `b`, if any.
    fn next_slot(&mut self, b: usize) -> bool {
        if !self.buckets[b].started {
            self.start_bucket(b);
        }
        while let Some(Reverse(entry)) = self.buckets[b].heap.pop() {
            if !entry.exact {
                let (m, day) = self.buckets[b].pending[entry.id];
                self.compute(b, m, day, entry.start);
                continue;
            }
            let member = self.buckets[b].computed[entry.id].member;
            let (start, end) = (
                entry.start,
                entry.start + self.plan.members[member].duration,
            );
            if self.chosen.iter().any(|c| c.start == start) {
                self.requeue(b, entry.id, start + 1);
                continue;
            }
            let busy_until = self
                .chosen
                .iter()
                .filter(|c| c.member == member && c.start < end && start < c.end)
                .map(|c| c.end)
                .max();
            if let Some(until) = busy_until {
                self.requeue(b, entry.id, until);
                continue;
            }
            self.chosen.push(Chosen {
                member,
                start,
                end,
                travel: entry.travel,
            });
            self.requeue(b, entry.id, end);
            return true;
        }
        false
    }
}
