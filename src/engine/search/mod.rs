//! The best few slots of many experts, found lazily.
//!
//! One queue per Europe/Paris date (so that all the candidates for one instant meet),
//! ranked as the result policy ranks slots: start, travel, weekly load, directory index.
//! An expert-day enters as a lower bound of its first free start (remote: its first
//! working start; on site: see [`lower_bounds`]) and is only computed in full when that
//! bound reaches the head of its queue, so only the expert-days that can compete for the
//! earliest starts are computed. Bounds rank before real starts, so the head is always
//! the best slot left.

mod day_queue;
mod lower_bounds;

use std::cmp::Reverse;

use super::availability::{Scratch, first_free, travel_after};
use super::local_day::{LocalDay, PLUS_INF, instant};
use super::roster::Roster;
use super::slot::Slot;
use crate::domain::appointment::Mode;
use day_queue::{Candidate, DayQueue, ExpertDay, day_queues, lower_bound};
use lower_bounds::OnSiteBounds;

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

/// The search state over all queues.
struct Searcher<'p, 'a> {
    roster: &'p mut Roster<'a>,
    collisions: Collisions,
    queues: Vec<DayQueue>,
    scratch: Scratch,
    chosen: Vec<Chosen>,
    /// The frames of the roster, per zone and day.
    frames: Vec<Vec<LocalDay>>,
    /// On site, the first start without trips of each expert-day, once walked.
    on_site_bounds: OnSiteBounds,
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
    let queues = day_queues(roster.bounds);
    let count = queues.len();
    let frames = (0..roster.zone_count())
        .map(|zone| {
            (0..roster.days)
                .map(|day| roster.zone_frame(zone, day))
                .collect()
        })
        .collect();
    let on_site = roster.place.is_some();
    let on_site_bounds = OnSiteBounds::new(if on_site { roster.members.len() } else { 0 });
    let mut searcher = Searcher {
        queues,
        roster,
        collisions,
        scratch: Scratch::default(),
        chosen: Vec::with_capacity(max_slots),
        frames,
        on_site_bounds,
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
    /// Puts in the reserve of queue `b` one lower bound per expert-day in it: remote, the
    /// start of its working hours; on site, its first start without trips.
    fn start_queue(&mut self, b: usize) {
        let (from, to) = (self.queues[b].from, self.queues[b].to);
        let days: Vec<_> = (0..self.roster.zone_count())
            .map(|zone| self.roster.zone_days(zone, from, to - 1))
            .collect();
        let on_site = self.roster.place.is_some();
        let mut reserve = Vec::with_capacity(self.roster.members.len());
        if on_site {
            if !self.on_site_bounds.walked() {
                self.on_site_bounds.walk_all(self.roster, &self.frames);
            }
            let members = &self.roster.members;
            for (zone, days) in days.iter().enumerate() {
                for day in days.clone() {
                    // That start already keeps to the working hours, the window and the
                    // notice.
                    let starts = self.on_site_bounds.day(day).iter().enumerate();
                    for (m, &bound) in starts.filter(|&(m, _)| members[m].zone == zone) {
                        if bound.max(from) < to {
                            reserve.push((bound.max(from), m, day));
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
        let queue = &mut self.queues[b];
        queue.reserve_min = reserve.iter().map(|r| r.0).min().unwrap_or(PLUS_INF);
        queue.reserve = reserve;
        queue.started = true;
    }

    /// Moves from the reserve of queue `b` to its queue the bounds equal to the lowest
    /// one: the reserve is an unsorted list, as most bounds never come near the head.
    /// Remote, their weekly loads are read at once, since a remote bound is often the real
    /// start and ties are common.
    fn refill(&mut self, b: usize) {
        let threshold = self.queues[b].reserve_min;
        let on_site = self.roster.place.is_some();
        let mut reserve = std::mem::take(&mut self.queues[b].reserve);
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
            let queue = &mut self.queues[b];
            queue.heap.push(Reverse(Candidate {
                start,
                travel: 0,
                load: load.unwrap_or(0),
                expert: u32::try_from(expert).unwrap_or(u32::MAX),
                exact: false,
                id: queue.pending.len(),
            }));
            queue.pending.push((m, day, load));
        }
        let queue = &mut self.queues[b];
        queue.reserve = reserve;
        queue.reserve_min = rest_min;
    }

    /// Computes the free spans of member `m` on day `day` within queue `b`, then
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
        let queue = &mut self.queues[b];
        let first = queue.spans.len();
        request.free_spans(&frame, &mut self.scratch, &mut queue.spans);
        // Keep the part inside the queue.
        let (lo, hi) = (queue.from, queue.to - 1);
        let mut kept = first;
        for i in first..queue.spans.len() {
            let (a, z) = queue.spans[i];
            if a.max(lo) <= z.min(hi) {
                queue.spans[kept] = (a.max(lo), z.min(hi));
                kept += 1;
            }
        }
        queue.spans.truncate(kept);
        let visits = queue.visits.len();
        queue.visits.extend_from_slice(self.scratch.visits());
        queue.computed.push(ExpertDay {
            member: m,
            day,
            spans: (first, kept),
            visits: (visits, queue.visits.len()),
            load,
        });
        let id = queue.computed.len() - 1;
        self.requeue(b, id, from)
    }

    /// Queues the first free start at or after `from` of a computed expert-day and
    /// returns it.
    fn requeue(&mut self, b: usize, id: usize, from: i64) -> Option<i64> {
        let computed = self.queues[b].computed[id];
        let frame = self.roster.frame(computed.member, computed.day);
        let queue = &mut self.queues[b];
        let spans = &queue.spans[computed.spans.0..computed.spans.1];
        let start = first_free(&frame, spans, from, self.roster.grid)?;
        let member = &self.roster.members[computed.member];
        let visits = &queue.visits[computed.visits.0..computed.visits.1];
        let base_travel = self.roster.base_travel(computed.member);
        queue.heap.push(Reverse(Candidate {
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
    /// latest slot chosen in queue `b`). When hundreds of experts are free at the same
    /// instants, queuing each again at the next instant costs a queue operation per expert
    /// and slot; set aside, they come back one at a time (see [`Searcher::unstall`]).
    fn stall(&mut self, b: usize, candidate: Candidate, taken: i64) {
        let ExpertDay { member, day, .. } = self.queues[b].computed[candidate.id];
        let frame = (self.roster.members[member].zone, day);
        self.queues[b].stalled.push(&candidate, frame);
        self.raise_floor(b, taken);
    }

    /// After the slot at `taken` was chosen in queue `b` (or a stalled day collided with
    /// it): see `Stalled::raise_floor`.
    fn raise_floor(&mut self, b: usize, taken: i64) {
        let grid = self.roster.grid;
        self.queues[b]
            .stalled
            .raise_floor(taken, &self.frames, grid);
    }

    /// Queues again the best stalled expert-day of queue `b` if it could rank before the
    /// head of the queue; whether it did.
    fn unstall(&mut self, b: usize) -> bool {
        let queue = &mut self.queues[b];
        let Some((bound, id)) = queue.stalled.best() else {
            return false;
        };
        if queue.heap.peek().is_some_and(|head| head.0 < bound) {
            return false;
        }
        queue.stalled.pop();
        self.requeue(b, id, bound.start);
        true
    }

    /// Takes the best slot left in queue `b`, if any.
    fn next_slot(&mut self, b: usize) -> bool {
        if !self.queues[b].started {
            self.start_queue(b);
        }
        loop {
            let queue = &self.queues[b];
            let head = queue.heap.peek().map(|e| e.0.start);
            if queue.reserve_min <= head.unwrap_or(PLUS_INF) && !queue.reserve.is_empty() {
                self.refill(b);
                continue;
            }
            if self.unstall(b) {
                continue;
            }
            let Some(Reverse(entry)) = self.queues[b].heap.pop() else {
                break;
            };
            if !entry.exact {
                let pending = self.queues[b].pending[entry.id];
                self.compute(b, pending, entry.start);
                continue;
            }
            let ExpertDay {
                member, day, load, ..
            } = self.queues[b].computed[entry.id];
            if load.is_none() {
                let load = self.roster.load(member, day);
                self.queues[b].computed[entry.id].load = Some(load);
                self.queues[b]
                    .heap
                    .push(Reverse(Candidate { load, ..entry }));
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
