//! On site, the first start of each expert-day that is free but for the trips between
//! visits: a lower bound of its real first free start, found without computing any
//! distance. Every member's days are done at once, when the first on-site queue starts,
//! so that each member's profile and calendar are read once, while they are in cache.

use crate::engine::availability::ExpertRequest;
use crate::engine::day_memo::{DayMemo, MemoKey};
use crate::engine::local_day::{LocalDay, PLUS_INF};
use crate::engine::roster::Roster;

/// Per day and member, the first start without trips ([`PLUS_INF`] when none), day by
/// day so that a queue reads its day's starts in one run.
#[derive(Debug)]
pub(super) struct OnSiteBounds {
    members: usize,
    /// Empty until [`OnSiteBounds::walk_all`].
    starts: Vec<i64>,
}

impl OnSiteBounds {
    /// Nothing walked yet for `members` members.
    pub fn new(members: usize) -> Self {
        Self {
            members,
            starts: Vec::new(),
        }
    }

    /// Whether [`OnSiteBounds::walk_all`] was done.
    pub fn walked(&self) -> bool {
        !self.starts.is_empty() || self.members == 0
    }

    /// The first starts without trips of every member on day `day`, once walked.
    pub fn day(&self, day: usize) -> &[i64] {
        &self.starts[day * self.members..(day + 1) * self.members]
    }

    /// Walks every day of every member, each member in one sweep over its calendar;
    /// `frames` are the roster's frames per zone and day.
    ///
    /// A member whose calendar has a [`DayMemo`] for this schedule and these dates reads
    /// its bounds from it; the first search that needs a memo makes it (see
    /// `DayMemo::build`).
    pub fn walk_all(&mut self, roster: &mut Roster, frames: &[Vec<LocalDay>]) {
        let (members, days) = (self.members, roster.days);
        let mut starts = vec![PLUS_INF; members * days];
        if days == 0 {
            self.starts = starts;
            return;
        }
        let mut own = vec![PLUS_INF; days];
        for m in 0..members {
            let frames = &frames[roster.members[m].zone];
            if let Some((memo, offset)) = memo(roster, m, frames) {
                let member = &roster.members[m];
                let (window, base) = ((member.lo, member.hi), member.base_floor);
                for (day, (frame, out)) in frames.iter().zip(own.iter_mut()).enumerate() {
                    *out = memo.first_start_without_trips(
                        offset + day,
                        frame,
                        window,
                        base,
                        roster.grid,
                    );
                }
                #[cfg(debug_assertions)]
                {
                    let mut walked = vec![PLUS_INF; days];
                    walk(roster, m, frames, &mut walked);
                    assert_eq!(own, walked, "memo of member {m} from {}", roster.date(0));
                }
            } else {
                walk(roster, m, frames, &mut own);
            }
            for (day, &start) in own.iter().enumerate() {
                starts[day * members + m] = start;
            }
        }
        self.starts = starts;
    }
}

/// The first starts without trips of member `m` on every day, by walking its calendar; like
/// the memo's, the trip from the base counts by its lower bound.
fn walk(roster: &mut Roster, m: usize, frames: &[LocalDay], starts: &mut [i64]) {
    roster.prepare(m);
    let request = ExpertRequest {
        base_travel: roster.members[m].base_floor,
        ..roster.request(m)
    };
    debug_assert!(
        request.base_travel <= roster.base_travel(m),
        "the floor is a lower bound"
    );
    request.first_starts_without_trips(frames, roster.weekdays(), roster.grid, starts);
}

/// The memo of member `m`'s calendar for the roster's schedule and dates, made now if the
/// calendar has none yet, with the position of the roster's first date in it; `None` when
/// the calendar's memo was made for another schedule or other dates (or its lists were
/// changed in place).
fn memo<'a>(
    roster: &mut Roster<'a>,
    m: usize,
    frames: &[LocalDay],
) -> Option<(&'a DayMemo, usize)> {
    let member = &roster.members[m];
    let calendar = member.calendar;
    let key = MemoKey {
        duration: member.duration,
        schedule: member.schedule.fingerprint,
    };
    let slot = calendar.memos().slot(roster.expertise_type);
    let memo = if let Some(memo) = slot.get() {
        memo
    } else {
        calendar.busy_times()?;
        roster.prepare(m);
        let request = roster.request(m);
        slot.get_or_init(|| DayMemo::build(key, &request, frames, roster.date(0)))
    };
    let offset = memo.offset(key, roster.date(0), roster.days)?;
    Some((memo, offset))
}
