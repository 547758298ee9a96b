//! On site, the first start of each expert-day that is free but for the trips between
//! visits: a lower bound of its real first free start, found without computing any
//! distance.
//!
//! Every member's days are walked when the first on-site bucket starts, each member in one
//! sweep over its calendar (see [`ExpertRequest::first_starts_without_trips`]): the member's profile and
//! calendar are then read once, while they are in cache, instead of once per bucket, and
//! each bucket then reads its day's bounds from one contiguous run.
//!
//! [`ExpertRequest::first_starts_without_trips`]: crate::engine::availability::ExpertRequest

use crate::engine::local_day::{LocalDay, PLUS_INF};
use crate::engine::availability::ExpertRequest;
use crate::engine::day_memo::{DayMemo, MemoKey};
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
    ///
    /// A member whose calendar has a [`DayMemo`] for this schedule and these dates reads
    /// its bounds from it; the first search to need a memo makes it (see
    /// [`crate::engine::memo`]).
    pub fn walk_all(&mut self, plan: &mut Plan, frames: &[Vec<LocalDay>]) {
        let (members, days) = (self.members, plan.days);
        let mut starts = vec![PLUS_INF; members * days];
        if days == 0 {
            self.starts = starts;
            return;
        }
        let mut own = vec![PLUS_INF; days];
        for m in 0..members {
            let frames = &frames[plan.members[m].zone];
            if let Some((memo, offset)) = memo(plan, m, frames) {
                let member = &plan.members[m];
                let (window, base) = ((member.lo, member.hi), member.base_floor);
                for (day, (frame, out)) in frames.iter().zip(own.iter_mut()).enumerate() {
                    *out = memo.first_start_without_trips(offset + day, frame, window, base, plan.grid);
                }
                #[cfg(debug_assertions)]
                {
                    let mut walked = vec![PLUS_INF; days];
                    walk(plan, m, frames, &mut walked);
                    assert_eq!(own, walked, "memo of member {m} from {}", plan.date(0));
                }
            } else {
                walk(plan, m, frames, &mut own);
            }
            for (day, &start) in own.iter().enumerate() {
                starts[day * members + m] = start;
            }
        }
        self.starts = starts;
    }
}

/// The first rough starts of member `m` on every plan day, by walking its calendar; like
/// the memo's, the trip from the base counts by its lower bound.
fn walk(plan: &mut Plan, m: usize, frames: &[LocalDay], starts: &mut [i64]) {
    plan.prepare(m);
    let need = ExpertRequest {
        base_travel: plan.members[m].base_floor,
        ..plan.need(m)
    };
    debug_assert!(
        need.base_travel <= plan.base_travel(m),
        "the floor is a lower bound"
    );
    need.first_starts_without_trips(frames, plan.weekdays(), plan.grid, starts);
}

/// The memo of member `m`'s calendar for the plan's schedule and dates, made now if the
/// calendar has none yet, with the position of the plan's first date in it; `None` when
/// the calendar's memo was made for another schedule or other dates (or its lists were
/// changed in place).
fn memo<'a>(plan: &mut Plan<'a>, m: usize, frames: &[LocalDay]) -> Option<(&'a DayMemo, usize)> {
    let member = &plan.members[m];
    let calendar = member.calendar;
    let key = MemoKey {
        duration: member.duration,
        schedule: member.schedule.fingerprint,
    };
    let slot = calendar.memos().slot(plan.expertise_type);
    let memo = if let Some(memo) = slot.get() {
        memo
    } else {
        calendar.busy_times()?;
        plan.prepare(m);
        let need = plan.need(m);
        slot.get_or_init(|| DayMemo::build(key, &need, frames, plan.date(0)))
    };
    let offset = memo.offset(key, plan.date(0), plan.days)?;
    Some((memo, offset))
}
