//! Calendars read from the store.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::{Booked, Calendar, Interval};
use crate::store::{Absence, Busy, Store, StoreResult};

pub(super) async fn load(
    store: &dyn Store,
    ids: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<Arc<Calendar>>> {
    Ok(store
        .schedules(ids, from, to)
        .await?
        .into_iter()
        .map(|(_, absences, busy)| Arc::new(calendar_of(&absences, &busy)))
        .collect())
}

/// The engine's view of stored absences and appointments.
pub(crate) fn calendar_of(absences: &[Absence], busy: &[Busy]) -> Calendar {
    Calendar::new(
        absences
            .iter()
            .map(|a| Interval {
                start: a.start,
                end: a.end,
            })
            .collect(),
        busy.iter()
            .map(|b| Booked {
                start: b.start,
                end: b.end,
                place: b.place,
            })
            .collect(),
    )
}
