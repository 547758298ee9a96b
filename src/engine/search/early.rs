//! On site, the first start of each expert-day that is free but for the trips between
//! visits: a lower bound of its real first free start, found without computing any
//! distance.
//!
//! Each member's days are walked together the first time any of them is needed, in one
//! sweep over its calendar (see [`Need::first_rough_days`]): the member's profile and
//! calendar are then read once, while they are in cache, instead of once per bucket.
//!
//! [`Need::first_rough_days`]: crate::engine::day::Need

use crate::engine::clock::{Frame, PLUS_INF};
use crate::engine::plan::Plan;

/// Not walked yet.
const UNSET: i64 = i64::MIN;

/// Per member and plan day, the first rough start ([`PLUS_INF`] when none).
#[derive(Debug)]
pub(super) struct Early {
    days: usize,
    starts: Vec<i64>,
}

impl Early {
    /// Nothing walked yet for `members` members over `days` plan days.
    pub fn new(members: usize, days: usize) -> Self {
        Self {
            days,
            starts: vec![UNSET; members * days],
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

    /// Walks every plan day of member `m`, in one sweep over its calendar.
    fn walk(&mut self, plan: &mut Plan, frames: &[Vec<Frame>], m: usize) {
        plan.prepare(m);
        let frames = &frames[plan.members[m].zone];
        let starts = &mut self.starts[m * self.days..(m + 1) * self.days];
        plan.need(m)
            .first_rough_days(frames, plan.weekdays(), plan.grid, starts);
    }
}
