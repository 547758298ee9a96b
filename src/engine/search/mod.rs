//! The best few slots of many experts, found lazily.
//!
//! Slots are spread over the days of Europe/Paris (one bucket per Paris date, whatever the
//! experts' own time zones, so that all the candidates for one instant meet in one
//! bucket). Each bucket has a priority queue of candidates ranked as the result policy
//! ranks slots: start, then travel, then weekly load, then directory index.
//!
//! An expert-day enters a bucket as a lower bound of its first free start, with no
//! travel and no load: remote, the start of its first working range (a few additions:
//! most of the thousands of remote experts are never looked at more closely); on site,
//! the first start that is free if the trips between visits are left out (see [`early`]).
//! Bounds wait in an unsorted reserve and only enter the queue when they reach its head;
//! when a bound comes out of the queue, the expert-day is computed in full and requeued
//! with its real first free start and travel. The weekly load, a mere tie-break, is read
//! when a candidate reaches the head (remote, as soon as its bound enters the queue, since
//! a remote bound is often the real start). Bounds rank before real starts, so the head
//! of the queue is always the best slot left in the bucket, and only the expert-days that
//! can compete for the earliest starts are computed.

mod bucket;
mod early;

use std::cmp::Reverse;

use super::local_day::{LocalDay, PLUS_INF, instant};
use super::availability::{Scratch, first_free, travel_after};
use super::roster::Roster;
use super::slot::Slot;
use crate::domain::appointment::Mode;
use bucket::{Bucket, Entry, ExpertDay, buckets, lower_bound};
use early::Early;

/// A slot already chosen.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    member: usize,
    start: i64,
    end: i64,
    travel: u32,
}

/// What the search does with a candidate whose start another slot took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collisions {
    /// Set it aside until it could compete again (see [`Searcher::stall`]).
    SetAside,
    /// Queue it again at once from the next instant: the plain algorithm, kept as the
    /// reference the other is checked against.
    Requeue,
}

/// The search state over all buckets.
struct Searcher<'p, 'a> {
    roster: &'p mut Roster<'a>,
    collisions: Collisions,
    buckets: Vec<Bucket>,
    scratch: Scratch,
    chosen: Vec<Chosen>,
    /// The frames of the roster, per zone and day.
    frames: Vec<Vec<LocalDay>>,
    /// On site, the first rough start of each expert-day, once walked.
    early: Early,
}

/// Runs the result policy: at most `max_slots` slots, sorted by start, spread over days
/// (`spread_days` is the number of days of the window).
pub(crate) fn search(
    roster: &mut Roster,
    mode: Mode,
    max_slots: usize,
    spread_days: usize,
    collisions: Collisions,
) -> Vec<Slot> {
    let per_day = max_slots.div_ceil(spread_days.max(1));
    let buckets = buckets(roster.bounds);
    let count = buckets.len();
    let frames = (0..roster.zone_count())
        .map(|zone| {
            (0..roster.days)
                .map(|day| roster.zone_frame(zone, day))
                .collect()
        })
        .collect();
    let on_site = roster.place.is_some();
    let early = Early::new(if on_site { roster.members.len() } else { 0 });
    let mut searcher = Searcher {
        buckets,
        roster,
        collisions,
        scratch: Scratch::default(),
        chosen: Vec::with_capacity(max_slots),
        frames,
        early,
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
    let members = &searcher.roster.members;
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
    /// Puts in the reserve of bucket `b` one lower bound per expert-day in it: remote,
    /// the start of its working hours; on site, its first rough start (see [`Early`]).
    fn start_bucket(&mut self, b: usize) {
        let (from, to) = (self.buckets[b].from, self.buckets[b].to);
        let days: Vec<_> = (0..self.roster.zone_count())
            .map(|zone| self.roster.zone_days(zone, from, to - 1))
            .collect();
        let on_site = self.roster.place.is_some();
        let mut reserve = Vec::with_capacity(self.roster.members.len());
        if on_site {
            if !self.early.walked() {
                self.early.walk_all(self.roster, &self.frames);
            }
            let members = &self.roster.members;
            for (zone, days) in days.iter().enumerate() {
                for day in days.clone() {
                    // The rough start already keeps to the working hours, the window and
                    // the notice.
                    let starts = self.early.day(day).iter().enumerate();
                    for (m, &early) in starts.filter(|&(m, _)| members[m].zone == zone) {
                        if early.max(from) < to {
                            reserve.push((early.max(from), m, day));
                        }
                    }
                }
            }
        } else {
            for (m, member) in self.roster.members.iter().enumerate() {
                for day in days[member.zone].clone() {
                    let frame = &self.frames[member.zone][day];
                    let weekday = self.roster.weekday(day).num_days_from_monday() as usize;
                    if let Some(start) = lower_bound(member, frame, weekday, (from, to)) {
                        reserve.push((start, m, day));
                    }
                }
            }
        }
        let bucket = &mut self.buckets[b];
        bucket.reserve_min = reserve.iter().map(|r| r.0).min().unwrap_or(PLUS_INF);
        bucket.reserve = reserve;
        bucket.started = true;
    }

    /// Moves from the reserve of bucket `b` to its queue the bounds equal to the lowest
    /// one: the reserve is an unsorted list, as most bounds never come near the head.
    /// Remote, their weekly loads are read at once, since a remote bound is often the real
    /// start and ties are common.
    fn refill(&mut self, b: usize) {
        let threshold = self.buckets[b].reserve_min;
        let on_site = self.roster.place.is_some();
        let mut reserve = std::mem::take(&mut self.buckets[b].reserve);
        let mut rest_min = PLUS_INF;
        let mut i = 0;
        while i < reserve.len() {
            let (start, m, day) = reserve[i];
            if start > threshold {
                rest_min = rest_min.min(start);
                i += 1;
                continue;
            }
            reserve.swap_remove(i);
            // The load is only a tie-break: on site it waits until the entry reaches the
            // head (0 ranks it no later than its real self meanwhile).
            let load = (!on_site).then(|| self.roster.load(m, day));
            let expert = self.roster.members[m].expert;
            let bucket = &mut self.buckets[b];
            bucket.heap.push(Reverse(Entry {
                start,
                travel: 0,
                load: load.unwrap_or(0),
                expert: u32::try_from(expert).unwrap_or(u32::MAX),
                exact: false,
                id: bucket.pending.len(),
            }));
            bucket.pending.push((m, day, load));
        }
        let bucket = &mut self.buckets[b];
        bucket.reserve = reserve;
        bucket.reserve_min = rest_min;
    }

    /// Computes the free spans of member `m` on day `day` within bucket `b`, then
    /// queues its first free start at or after `from` and returns it.
    fn compute(
        &mut self,
        b: usize,
        (m, day, load): (usize, usize, Option<u32>),
        from: i64,
    ) -> Option<i64> {
        let frame = self.roster.frame(m, day);
        self.roster.prepare(m);
        let request = self.roster.day_request(m, day);
        let bucket = &mut self.buckets[b];
        let first = bucket.spans.len();
        request.free_spans(&frame, &mut self.scratch, &mut bucket.spans);
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
        let frame = self.roster.frame(computed.member, computed.day);
        let bucket = &mut self.buckets[b];
        let spans = &bucket.spans[computed.spans.0..computed.spans.1];
        let start = first_free(&frame, spans, from, self.roster.grid)?;
        let member = &self.roster.members[computed.member];
        let visits = &bucket.visits[computed.visits.0..computed.visits.1];
        let base_travel = self.roster.base_travel(computed.member);
        bucket.heap.push(Reverse(Entry {
            start,
            travel: travel_after(visits, base_travel, start),
            load: computed.load.unwrap_or(0),
            expert: u32::try_from(member.expert).unwrap_or(u32::MAX),
            exact: true,
            id,
        }));
        Some(start)
    }

    /// Sets aside a computed expert-day whose start `taken` another slot just took (the
    /// latest slot chosen in bucket `b`).
    ///
    /// When hundreds of experts are free at the same instants (by video, from the start of
    /// the working day), each slot chosen used to send all of them back to the queue at the
    /// next instant, where all but one lost again: a queue operation per expert and slot.
    /// Set aside, they come back one at a time, best tie-break first, only when they could
    /// rank before the head (see [`Searcher::unstall`]).
    fn stall(&mut self, b: usize, entry: Entry, taken: i64) {
        let ExpertDay { member, day, .. } = self.buckets[b].computed[entry.id];
        let frame = (self.roster.members[member].zone, day);
        let bucket = &mut self.buckets[b];
        bucket
            .stalled
            .push(Reverse((entry.load, entry.expert, entry.id)));
        if !bucket.stalled_frames.contains(&frame) {
            bucket.stalled_frames.push(frame);
        }
        self.raise_floor(b, taken);
    }

    /// After the slot at `taken` was chosen in bucket `b` (or a stalled day collided with
    /// it): the stalled expert-days' next free starts not taken are after it, so at or
    /// after its next grid instant in their frames.
    ///
    /// Why after: slots of one bucket are chosen in increasing start order, and none was
    /// chosen while a stalled day could rank before it ([`Searcher::unstall`]), so every
    /// stalled day's next start was at or after `taken` — which is now taken.
    fn raise_floor(&mut self, b: usize, taken: i64) {
        let bucket = &mut self.buckets[b];
        if bucket.stalled.is_empty() {
            bucket.stalled_frames.clear();
            return;
        }
        bucket.stalled_floor = bucket
            .stalled_frames
            .iter()
            .map(|&(zone, day)| {
                self.frames[zone][day]
                    .next_aligned(taken + 1, self.roster.grid)
                    .unwrap_or(PLUS_INF)
            })
            .min()
            .unwrap_or(PLUS_INF);
    }

    /// Queues again the best stalled expert-day of bucket `b` if it could rank before the
    /// head of the queue (no stalled day ranks before its floor with no travel, its weekly
    /// load and its expert); whether it did.
    fn unstall(&mut self, b: usize) -> bool {
        let bucket = &mut self.buckets[b];
        let Some(&Reverse((load, expert, id))) = bucket.stalled.peek() else {
            return false;
        };
        let bound = Entry {
            start: bucket.stalled_floor,
            travel: 0,
            load,
            expert,
            exact: false,
            id: 0,
        };
        if bucket.heap.peek().is_some_and(|head| head.0 < bound) {
            return false;
        }
        bucket.stalled.pop();
        let floor = bucket.stalled_floor;
        self.requeue(b, id, floor);
        true
    }

    /// Takes the best slot left in bucket `b`, if any.
    fn next_slot(&mut self, b: usize) -> bool {
        if !self.buckets[b].started {
            self.start_bucket(b);
        }
        loop {
            let bucket = &self.buckets[b];
            let head = bucket.heap.peek().map(|e| e.0.start);
            if bucket.reserve_min <= head.unwrap_or(PLUS_INF) && !bucket.reserve.is_empty() {
                self.refill(b);
                continue;
            }
            if self.unstall(b) {
                continue;
            }
            let Some(Reverse(entry)) = self.buckets[b].heap.pop() else {
                break;
            };
            if !entry.exact {
                let pending = self.buckets[b].pending[entry.id];
                self.compute(b, pending, entry.start);
                continue;
            }
            let ExpertDay {
                member, day, load, ..
            } = self.buckets[b].computed[entry.id];
            if load.is_none() {
                let load = self.roster.load(member, day);
                self.buckets[b].computed[entry.id].load = Some(load);
                self.buckets[b].heap.push(Reverse(Entry { load, ..entry }));
                continue;
            }
            let (start, end) = (
                entry.start,
                entry.start + self.roster.members[member].duration,
            );
            if self.chosen.iter().any(|c| c.start == start) {
                match self.collisions {
                    Collisions::SetAside => self.stall(b, entry, start),
                    Collisions::Requeue => {
                        self.requeue(b, entry.id, start + 1);
                    }
                }
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
            self.raise_floor(b, start);
            return true;
        }
        false
    }
}
