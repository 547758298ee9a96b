//! Expert calendars for slot searches, kept for a short time.
//!
//! A search needs the absences and CONFIRMED appointments of every eligible expert; reading
//! them from the database on each search is most of its cost. They are cached per expert
//! for `ttl` over a fixed span around today. Writes through this instance drop the
//! expert's entry at once; writes through another instance on the same database are seen
//! within `ttl`. A stale calendar can only make a search offer a slot that is gone, and a
//! booking re-checks the slot in its own transaction, so it never causes a double booking:
//! the client gets `409 slot-unavailable` and searches again, as after any race.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::engine::Calendar;
use crate::store::{Store, StoreResult};

/// How far back and ahead of now a cached calendar reaches (a search window of at most 62
/// days plus the 8-day margin either side for travel, daily and weekly rules).
const SPAN_BACK_DAYS: i64 = 9;
const SPAN_AHEAD_DAYS: i64 = 72;

struct Cached {
    loaded: Instant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    calendar: Arc<Calendar>,
}

/// Per-expert calendars with a time-to-live.
pub struct CalendarCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Cached>>,
    /// Bumped by every invalidation: a load that overlapped one is not kept.
    epoch: AtomicU64,
}

impl CalendarCache {
    /// A cache keeping calendars for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::default(),
            epoch: AtomicU64::new(0),
        }
    }

    /// Forgets an expert's calendar (call after any change to it through this instance).
    pub fn invalidate(&self, expert_id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(expert_id);
        }
    }

    /// The calendars of `ids` covering `[from, to)`, in the order of `ids`.
    pub async fn get(
        &self,
        store: &dyn Store,
        ids: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Arc<Calendar>>> {
        let now = Utc::now();
        let span_from = now - chrono::Duration::days(SPAN_BACK_DAYS);
        let span_to = now + chrono::Duration::days(SPAN_AHEAD_DAYS);
        if self.ttl.is_zero() || from < span_from || to > span_to {
            return load(store, ids, from, to).await;
        }
        let mut found: Vec<Option<Arc<Calendar>>> = vec![None; ids.len()];
        let mut missing = Vec::new();
        {
            let entries = self
                .entries
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (i, id) in ids.iter().enumerate() {
                match entries.get(*id) {
                    Some(c) if c.loaded.elapsed() < self.ttl && c.from <= from && to <= c.to => {
                        found[i] = Some(Arc::clone(&c.calendar));
                    }
                    _ => missing.push(i),
                }
            }
        }
        if !missing.is_empty() {
            let epoch = self.epoch.load(Ordering::SeqCst);
            let loaded_at = Instant::now();
            let missing_ids: Vec<&str> = missing.iter().map(|&i| ids[i]).collect();
            let calendars = load(store, &missing_ids, span_from, span_to).await?;
            let keep = self.epoch.load(Ordering::SeqCst) == epoch;
            let mut entries = keep.then(|| {
                self.entries
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            for (&i, calendar) in missing.iter().zip(calendars) {
                if let Some(entries) = entries.as_mut() {
                    entries.insert(
                        ids[i].to_owned(),
                        Cached {
                            loaded: loaded_at,
                            from: span_from,
                            to: span_to,
                            calendar: Arc::clone(&calendar),
                        },
                    );
                }
                found[i] = Some(calendar);
            }
        }
        Ok(found.into_iter().map(Option::unwrap_or_default).collect())
    }
}

async fn load(
    store: &dyn Store,
    ids: &[&str],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<Arc<Calendar>>> {
    Ok(store
        .schedules(ids, from, to)
        .await?
        .into_iter()
        .map(|(_, absences, busy)| Arc::new(super::protocol::calendar(&absences, &busy)))
        .collect())
}
