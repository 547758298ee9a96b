//! Expert calendars for slot searches, kept for a short time.
//!
//! A search needs the absences and CONFIRMED appointments of every eligible expert; reading
//! them from the database on each search is most of its cost. They are cached per expert
//! for `ttl` over a fixed span around today. Writes through this instance drop the
//! expert's entry at once (and a load that was under way when one happened does not keep
//! that expert's copy); writes through another instance on the same database are seen
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

/// Invalidation stamps are pruned past this many experts (keeping those younger than the
/// time-to-live).
const PRUNE_STAMPS_ABOVE: usize = 4096;

/// Per-expert calendars with a time-to-live.
pub struct CalendarCache {
    ttl: Duration,
    inner: RwLock<Inner>,
    /// Bumped by every invalidation.
    epoch: AtomicU64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Cached>,
    /// The epoch of each expert's last invalidation, and when it happened. A load that
    /// began at an earlier epoch may have read the calendar before the change, so its copy
    /// of that expert is not kept; other experts of the same load are. A stamp older than
    /// the time-to-live can go: a load begun before it would be expired already.
    stamps: HashMap<String, (u64, Instant)>,
}

impl CalendarCache {
    /// A cache keeping calendars for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: RwLock::default(),
            epoch: AtomicU64::new(0),
        }
    }

    /// Forgets an expert's calendar (call after any change to it through this instance).
    pub fn invalidate(&self, expert_id: &str) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut inner = self.write();
        inner.entries.remove(expert_id);
        if inner.stamps.len() > PRUNE_STAMPS_ABOVE {
            let ttl = self.ttl;
            inner.stamps.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        inner
            .stamps
            .insert(expert_id.to_owned(), (epoch, Instant::now()));
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
            let inner = self
                .inner
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (i, id) in ids.iter().enumerate() {
                match inner.entries.get(*id) {
                    Some(c) if c.loaded.elapsed() < self.ttl && c.from <= from && to <= c.to => {
                        found[i] = Some(Arc::clone(&c.calendar));
                    }
                    _ => missing.push(i),
                }
            }
        }
        if !missing.is_empty() {
            let begun = self.begin_load();
            let missing_ids: Vec<&str> = missing.iter().map(|&i| ids[i]).collect();
            let calendars = load(store, &missing_ids, span_from, span_to).await?;
            self.keep(
                &begun,
                (span_from, span_to),
                missing_ids.iter().zip(&calendars),
            );
            for (&i, calendar) in missing.iter().zip(calendars) {
                found[i] = Some(calendar);
            }
        }
        Ok(found.into_iter().map(Option::unwrap_or_default).collect())
    }
}

/// When a load of calendars began.
struct Begun {
    epoch: u64,
    at: Instant,
}

impl CalendarCache {
    /// Marks the start of a load, before it reads anything.
    fn begin_load(&self) -> Begun {
        Begun {
            epoch: self.epoch.load(Ordering::SeqCst),
            at: Instant::now(),
        }
    }

    /// Keeps the calendars of a load covering `span`, except those of experts invalidated
    /// since it began.
    fn keep<'a>(
        &self,
        begun: &Begun,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        loaded: impl IntoIterator<Item = (&'a &'a str, &'a Arc<Calendar>)>,
    ) {
        let mut inner = self.write();
        for (id, calendar) in loaded {
            if inner.stamps.get(*id).is_some_and(|s| s.0 > begun.epoch) {
                continue;
            }
            let cached = Cached {
                loaded: begun.at,
                from,
                to,
                calendar: Arc::clone(calendar),
            };
            inner.entries.insert((*id).to_owned(), cached);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(cache: &CalendarCache) -> Vec<String> {
        let mut ids: Vec<_> = cache.write().entries.keys().cloned().collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_load_keeps_every_expert_but_those_changed_while_it_ran() {
        let cache = CalendarCache::new(Duration::from_secs(60));
        let now = Utc::now();
        let span = (now, now + chrono::Duration::days(1));
        let calendar = Arc::new(Calendar::default());
        cache.invalidate("before");
        let begun = cache.begin_load();
        cache.invalidate("during");
        let ids = ["before", "during", "untouched"];
        cache.keep(
            &begun,
            span,
            ids.iter().zip([&calendar, &calendar, &calendar]),
        );
        assert_eq!(cached(&cache), ["before", "untouched"]);
        // A later load keeps it; a change drops it again.
        let begun = cache.begin_load();
        cache.keep(&begun, span, [(&"during", &calendar)]);
        assert_eq!(cached(&cache), ["before", "during", "untouched"]);
        cache.invalidate("before");
        assert_eq!(cached(&cache), ["during", "untouched"]);
    }

    #[test]
    fn stamps_older_than_the_time_to_live_are_pruned() {
        let cache = CalendarCache::new(Duration::ZERO);
        for i in 0..=PRUNE_STAMPS_ABOVE + 1 {
            cache.invalidate(&format!("e{i}"));
        }
        assert!(cache.write().stamps.len() <= 2);
    }
}
