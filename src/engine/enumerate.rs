//! Every free start of every eligible expert, one expert-day at a time.

use chrono::{DateTime, Utc};

use super::clock::instant;
use super::day::Scratch;
use super::plan::Plan;

/// Lists every free `(directory index, start)` pair, by expert then by start.
pub(crate) fn enumerate(plan: &mut Plan) -> Vec<(usize, DateTime<Utc>)> {
    let mut out = Vec::new();
    let mut scratch = Scratch::default();
    let mut spans = Vec::new();
    let grid = plan.grid;
    for m in 0..plan.members.len() {
        let member = &plan.members[m];
        let (expert, days) = (
            member.expert,
            plan.zone_days(member.zone, member.lo, member.hi),
        );
        plan.prepare(m);
        for day in days {
            let frame = plan.frame(m, day);
            let need = plan.need(m, false);
            spans.clear();
            need.free_spans(&frame, &mut scratch, &mut spans);
            for &(from, to) in &spans {
                let mut next = frame.next_aligned(from, grid);
                while let Some(start) = next.filter(|&s| s <= to) {
                    out.push((expert, instant(start)));
                    next = frame.next_aligned(start + 1, grid);
                }
            }
        }
    }
    out
}
