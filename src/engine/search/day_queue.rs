//! The queues of the search: one per Paris date, of candidates ranked like slots.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{Days, NaiveDate};

use crate::engine::availability::Visit;
use crate::engine::local_day::{LocalDay, PLUS_INF, Pick, local_date};
use crate::engine::member::Member;

/// A candidate, ordered as slots are ranked (a bound before a real start on a tie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate {
    pub start: i64,
    pub travel: u32,
    pub load: u32,
    pub expert: u32,
    /// A real free start (else a lower bound).
    pub exact: bool,
    /// An index in `pending` for a bound, in `computed` for a real start.
    pub id: usize,
}

/// A computed expert-day: its free spans and visits live in the queue's arenas.
#[derive(Debug, Clone, Copy)]
pub(super) struct ExpertDay {
    pub member: usize,
    pub day: usize,
    pub spans: (usize, usize),
    pub visits: (usize, usize),
    /// The weekly load, once needed.
    pub load: Option<u32>,
}

/// The queue of one Paris date: instants `[from, to)`.
#[derive(Debug, Default)]
pub(super) struct DayQueue {
    pub from: i64,
    pub to: i64,
    pub started: bool,
    pub heap: BinaryHeap<Reverse<Candidate>>,
    /// Lower bounds not yet queued (start, member, day), and their lowest start.
    pub reserve: Vec<(i64, usize, usize)>,
    pub reserve_min: i64,
    /// The expert-days with a lower bound queued: member, day and weekly load
    /// once needed.
    pub pending: Vec<(usize, usize, Option<u32>)>,
    pub computed: Vec<ExpertDay>,
    pub spans: Vec<(i64, i64)>,
    pub visits: Vec<Visit>,
    /// Computed expert-days whose start another slot took.
    pub stalled: Stalled,
}

/// Computed expert-days whose start another slot took, set aside until they could compete
/// for the head of their queue again.
#[derive(Debug, Default)]
pub(super) struct Stalled {
    /// By weekly load and expert: `(load, expert, id in computed)`.
    heap: BinaryHeap<Reverse<(u32, u32, usize)>>,
    /// No stalled expert-day has a start not taken yet before this instant.
    floor: i64,
    /// The (zone, day) frames of the stalled expert-days, to align the floor.
    frames: Vec<(usize, usize)>,
}

impl Stalled {
    /// Sets aside the computed expert-day of `candidate`, whose frame is `frame`.
    pub fn push(&mut self, candidate: &Candidate, frame: (usize, usize)) {
        self.heap
            .push(Reverse((candidate.load, candidate.expert, candidate.id)));
        if !self.frames.contains(&frame) {
            self.frames.push(frame);
        }
    }

    /// After the slot at `taken` was chosen: the stalled expert-days' next free starts not
    /// taken are after it, so at or after its next grid instant in their frames (`frames`
    /// per zone and day). Slots of one queue are chosen in increasing start order, and
    /// none while a stalled day could rank before it, so every stalled day's next start
    /// was at or after `taken`, which is now taken.
    pub fn raise_floor(&mut self, taken: i64, frames: &[Vec<LocalDay>], grid: i64) {
        if self.heap.is_empty() {
            self.frames.clear();
            return;
        }
        self.floor = self
            .frames
            .iter()
            .map(|&(zone, day)| {
                frames[zone][day]
                    .next_aligned(taken + 1, grid)
                    .unwrap_or(PLUS_INF)
            })
            .min()
            .unwrap_or(PLUS_INF);
    }

    /// The best stalled expert-day as the bound it ranks by (the floor, no travel, its
    /// weekly load and expert), with its id in `computed`.
    pub fn best(&self) -> Option<(Candidate, usize)> {
        let &Reverse((load, expert, id)) = self.heap.peek()?;
        let bound = Candidate {
            start: self.floor,
            travel: 0,
            load,
            expert,
            exact: false,
            id: 0,
        };
        Some((bound, id))
    }

    /// Drops the best stalled expert-day, once queued again.
    pub fn pop(&mut self) {
        self.heap.pop();
    }
}

/// One queue per Europe/Paris date from the earliest to the latest start.
pub(super) fn day_queues((lo, hi): (i64, i64)) -> Vec<DayQueue> {
    if lo > hi {
        return Vec::new();
    }
    let zone = chrono_tz::Europe::Paris;
    let (first, last) = (local_date(zone, lo), local_date(zone, hi));
    let mut out = Vec::new();
    let mut date: NaiveDate = first;
    // Each date ends where the next one starts: one frame per date.
    let mut from = LocalDay::new(zone, date).span().0;
    while date <= last {
        let next = date + Days::new(1);
        let to = LocalDay::new(zone, next).span().0;
        out.push(DayQueue {
            from,
            to,
            ..DayQueue::default()
        });
        (date, from) = (next, to);
    }
    out
}

/// The start of the first working range of `member` on the frame's date (`weekday` from
/// Monday), moved into its window and `[from, to)`; `None` when the day has no room for a
/// slot.
pub(super) fn lower_bound(
    member: &Member,
    frame: &LocalDay,
    weekday: usize,
    (from, to): (i64, i64),
) -> Option<i64> {
    let (first, last) = member.schedule.hours[weekday]?;
    let bound = frame.at(first, Pick::Earliest).max(member.lo).max(from);
    let latest = member
        .hi
        .min(to - 1)
        .min(frame.at(last, Pick::Latest) - member.duration);
    (bound <= latest).then_some(bound)
}
