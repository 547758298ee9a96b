//! On site, the first start of each expert-day that is free but for the trips between
//! visits: a lower bound of its real first free start, found without computing any
//! distance.
//!
//! Each member's days are walked together the first time any of them is needed: the
//! member's profile and calendar are then read once, while they are in cache, instead of
//! once per bucket.

use crate::engine::clock::{Frame, PLUS_INF};
use crate::engine::plan::Plan;
use crate::engine::window;

use super::bucket::lower_bound;

/// Not walked yet.
const UNSET: i64 = i64::MIN;

/// Per member and plan day, the first rough start ([`PLUS_INF`] when none).
#[derive(Debug)]
pub(super) struct Early {
    days: usize,
    starts: Vec<i64>,
    /// Scratch: the lower bounds of one member's days.
    bounds: Vec<Option<i64>>,
}

impl Early {
    /// Nothing walked yet for `members` members over `days` plan days.
    pub fn new(members: usize, days: usize) -> Self {
        Self {
            days,
            starts: vec![UNSET; members * days],
            bounds: Vec::with_capacity(days),
        }
    }

    /// The first rough start of member `m` on plan day `day`; `frames` are the plan's
    /// frames per zone and day.
    pub fn get(
        &mut self,
        plan: &mut Plan,
        frames: &[Vec<Frame>],
        m: usize,
        day: usize,
    ) -> Option<i64> {
        let slot = m * self.days + day;
        if self.starts[slot] == UNSET {
            self.walk(plan, frames, m);
        }
        let start = self.starts[slot];
        (start != PLUS_INF).then_some(start)
    }

    /// Walks every plan day of member `m`.
    fn walk(&mut self, plan: &mut Plan, frames: &[Vec<Frame>], m: usize) {
        let frames = &frames[plan.members[m].zone];
        let member = &plan.members[m];
        self.bounds.clear();
        self.bounds
            .extend(frames.iter().enumerate().map(|(day, frame)| {
                let weekday = plan.weekday(day).num_days_from_monday() as usize;
                lower_bound(member, frame, weekday, frame.span())
            }));
        let grid = plan.grid;
        let (need, windows) = plan.day_needs(m, true);
        let starts = &mut self.starts[m * self.days..(m + 1) * self.days];
        for (day, frame) in frames.iter().enumerate() {
            starts[day] = self.bounds[day].map_or(PLUS_INF, |bound| {
                let need = window::narrow(need, windows[day]);
                need.first_rough(frame, bound, grid).unwrap_or(PLUS_INF)
            });
        }
    }
}
