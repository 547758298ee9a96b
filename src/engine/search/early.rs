//! On site, the first start of each expert-day that is free but for the trips between
//! visits: a lower bound of its real first free start, found without computing any
//! distance.
//!
//! Every member's days are walked when the first on-site bucket starts, each member in one
//! sweep over its calendar (see [`Need::first_rough_days`]): the member's profile and
//! calendar are then read once, while they are in cache, instead of once per bucket, and
//! each bucket then reads its day's bounds from one contiguous run.
//!
//! [`Need::first_rough_days`]: crate::engine::day::Need

use crate::engine::clock::{Frame, PLUS_INF};
use crate::engine::plan::Plan;

/// Per plan day and member, the first rough start ([`PLUS_INF`] when none), day by day
/// so that a bucket reads its day's starts in one run.
#[derive(Debug)]
pub(super) struct Early {
    members: usize,
    /// Empty until [`Early::walk_all`].
    starts: Vec<i64>,
}

impl Early {
    /// Nothing walked yet for `members` members.
    pub fn new(members: usize) -> Self {
        Self {
            members,
            starts: Vec::new(),
        }
    }

    /// Whether [`Early::walk_all`] was done.
    pub fn walked(&self) -> bool {
        !self.starts.is_empty() || self.members == 0
    }

    /// The first rough starts of every member on plan day `day`, once walked.
    pub fn day(&self, day: usize) -> &[i64] {
        &self.starts[day * self.members..(day + 1) * self.members]
    }

    /// Walks every plan day of every member, each member in one sweep over its calendar;
    /// `frames` are the plan's frames per zone and day.
    pub fn walk_all(&mut self, plan: &mut Plan, frames: &[Vec<Frame>]) {
        let (members, days) = (self.members, plan.days);
        let mut starts = vec![PLUS_INF; members * days];
        let mut own = vec![PLUS_INF; days];
        for m in 0..members {
            plan.prepare(m);
            let frames = &frames[plan.members[m].zone];
            plan.need(m)
                .first_rough_days(frames, plan.weekdays(), plan.grid, &mut own);
            for (day, &start) in own.iter().enumerate() {
                starts[day * members + m] = start;
            }
        }
        self.starts = starts;
    }
}
