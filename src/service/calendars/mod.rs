//! Expert calendars for slot searches, kept for a short time.
//!
//! A search needs the absences and CONFIRMED appointments of every eligible expert; reading
//! them from the database on each search is most of its cost. They are cached per expert
//! for `ttl` over a fixed span around today. Writes through this instance drop the
//! expert's entry at once (and a load that was under way when one happened does not keep
//! that expert's copy), except a booking, which is added to the entry: under a flow of
//! bookings, the next search would otherwise read again the calendar of every expert just
//! booked. Writes through another instance on the same database are applied as soon as
//! it announces them (PostgreSQL, see [`super::announce`]); while those announcements are
//! heard, calendars are kept longer, since the time-to-live then only bounds how long a
//! change made outside Créneau, or whose announcement failed, goes unseen. Otherwise
//! changes made elsewhere are seen within the time-to-live. A stale calendar can only make
//! a search offer a slot that is gone (or miss one freed), and a booking re-checks the
//! slot in its own transaction, so it never causes a double booking: the client gets
//! `409 slot-unavailable` and searches again, as after any race.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::engine::{Booked, Calendar};
use crate::store::{CalendarChange, Store, StoreResult};

/// How far back and ahead of now a cached calendar reaches (a search window of at most 62
/// days plus the 8-day margin either side for travel, daily and weekly rules).
const SPAN_BACK_DAYS: i64 = 9;
const SPAN_AHEAD_DAYS: i64 = 72;

struct Cached {
    /// When it was read, as [`Clock::elapsed`].
    loaded: Duration,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    calendar: Arc<Calendar>,
}

/// Invalidation stamps are pruned past this many experts (keeping those younger than the
/// time-to-live).
const PRUNE_STAMPS_ABOVE: usize = 4096;

mod read;
mod state;

pub(crate) use read::calendar_of;
use read::load;
use state::{Begun, Inner, Loading, Waits};

/// Per-expert calendars with a time-to-live.
pub struct CalendarCache {
    ttl: Duration,
    /// The time-to-live while `hearing` (at least `ttl`, unless that is zero).
    heard_ttl: Duration,
    /// Whether this instance hears the other instances' announcements now: then their
    /// changes reach the cache within milliseconds, and a calendar can be kept longer.
    hearing: AtomicBool,
    inner: RwLock<Inner>,
    /// Bumped by every invalidation.
    epoch: AtomicU64,
    /// Where the changes made through this instance go, to be announced to the other
    /// instances on the database (see [`super::announce`]).
    announce: Option<tokio::sync::mpsc::UnboundedSender<CalendarChange>>,
    clock: Clock,
}

impl CalendarCache {
    /// A cache keeping calendars for `ttl` (zero: no caching), by `clock`.
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            heard_ttl: ttl,
            hearing: AtomicBool::new(false),
            inner: RwLock::default(),
            epoch: AtomicU64::new(0),
            announce: None,
            clock,
        }
    }

    /// The same cache, sending every change made through this instance to `announce`,
    /// and keeping calendars for `heard_ttl` (if longer than its time-to-live, and unless
    /// that is zero) while [`CalendarCache::hearing`] says the other instances' changes
    /// are heard.
    #[must_use]
    pub fn announcing(
        self,
        announce: tokio::sync::mpsc::UnboundedSender<CalendarChange>,
        heard_ttl: Duration,
    ) -> Self {
        let heard_ttl = if self.ttl.is_zero() {
            Duration::ZERO
        } else {
            heard_ttl.max(self.ttl)
        };
        Self {
            announce: Some(announce),
            heard_ttl,
            ..self
        }
    }

    /// Says whether the other instances' announcements are heard from now on; returns
    /// whether that changed. Either way a change drops every calendar: when they stop
    /// being heard, some may have been missed; when they are heard again, what was read
    /// meanwhile may have missed some. Called by one task only (the listener).
    pub fn hearing(&self, heard: bool) -> bool {
        if self.is_hearing() == heard {
            return false;
        }
        if heard {
            // Dropped first: nothing read while deaf is kept for the longer life.
            self.forget_all();
            self.hearing.store(true, Ordering::SeqCst);
        } else {
            self.hearing.store(false, Ordering::SeqCst);
            self.forget_all();
        }
        true
    }

    /// Whether the other instances' announcements are heard (see
    /// [`CalendarCache::hearing`]).
    pub fn is_hearing(&self) -> bool {
        self.hearing.load(Ordering::SeqCst)
    }

    /// How long a cached calendar is used now.
    fn current_ttl(&self) -> Duration {
        if self.is_hearing() {
            self.heard_ttl
        } else {
            self.ttl
        }
    }

    /// Forgets an expert's calendar (call after any change to it through this instance).
    pub fn invalidate(&self, expert_id: &str) {
        self.forget(expert_id);
        self.announce(CalendarChange::Changed {
            expert_id: expert_id.to_owned(),
        });
    }

    /// Forgets an expert's calendar changed through another instance.
    pub fn forget(&self, expert_id: &str) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut inner = self.write();
        inner.entries.remove(expert_id);
        inner.stamp(expert_id, epoch, self.heard_ttl, self.clock.elapsed());
    }

    /// Forgets every calendar, and what loads under way read (announcements of other
    /// instances may have been missed).
    pub fn forget_all(&self) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut inner = self.write();
        inner.entries.clear();
        inner.cleared = epoch;
    }

    fn announce(&self, change: CalendarChange) {
        if let Some(announce) = &self.announce {
            // Gone only when the server stops.
            let _ = announce.send(change);
        }
    }

    /// Adds an appointment just booked through this instance to the expert's calendar,
    /// if it is cached; a load under way when it happened does not keep its copy, as
    /// after [`CalendarCache::invalidate`]. The entry keeps its age: what another instance
    /// changed meanwhile is still seen within the time-to-live.
    pub fn booked(&self, expert_id: &str, booked: Booked) {
        self.add_booked(expert_id, booked);
        self.announce(CalendarChange::Booked {
            expert_id: expert_id.to_owned(),
            start_ms: booked.start.timestamp_millis(),
            end_ms: booked.end.timestamp_millis(),
            place: booked.place.map(|p| (p.lat(), p.lon())),
        });
    }

    /// [`CalendarCache::booked`] for an appointment booked through another instance.
    pub fn add_booked(&self, expert_id: &str, booked: Booked) {
        let entry = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entries
            .get(expert_id)
            .map(|c| (c.loaded, Arc::clone(&c.calendar)));
        // Built outside the lock; kept only if nobody replaced or dropped the entry since.
        let updated = entry.map(|(loaded, calendar)| (loaded, calendar.with_booked(booked)));
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut inner = self.write();
        let current = inner.entries.remove(expert_id);
        if let (Some(current), Some((loaded, calendar))) = (current, updated)
            && current.loaded == loaded
        {
            let cached = Cached {
                calendar: Arc::new(calendar),
                ..current
            };
            inner.entries.insert(expert_id.to_owned(), cached);
        }
        inner.stamp(expert_id, epoch, self.heard_ttl, self.clock.elapsed());
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
        let now = self.clock.now();
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
                    Some(c) if self.serves(c, from, to) => found[i] = Some(Arc::clone(&c.calendar)),
                    _ => missing.push(i),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found.into_iter().map(Option::unwrap_or_default).collect());
        }
        let span = (span_from, span_to);
        let (mine, waits, loading) = self.share_out(ids, &missing);
        self.load_and_keep(store, ids, &mine, span, &mut found)
            .await?;
        loading.done();
        let mut again = Vec::new();
        for (i, mut done) in waits {
            // Err: the other search's read failed or was abandoned.
            let _ = done.wait_for(|done| *done).await;
            match self.fresh(ids[i], from, to) {
                Some(calendar) => found[i] = Some(calendar),
                None => again.push(i),
            }
        }
        self.load_and_keep(store, ids, &again, span, &mut found)
            .await?;
        Ok(found.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// The cached calendar of `id` if it is young enough and covers `[from, to)`.
    pub(super) fn fresh(
        &self,
        id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<Arc<Calendar>> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = inner.entries.get(id)?;
        self.serves(c, from, to).then(|| Arc::clone(&c.calendar))
    }

    /// Whether `c` is young enough and covers `[from, to)`.
    fn serves(&self, c: &Cached, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.clock.elapsed().saturating_sub(c.loaded) < self.current_ttl()
            && c.from <= from
            && to <= c.to
    }

    /// Splits the `missing` indexes of `ids` into those this search reads (registered as
    /// loading until the returned guard goes) and those another search is reading, with
    /// the channel that tells when it is done.
    fn share_out(&self, ids: &[&str], missing: &[usize]) -> (Vec<usize>, Waits, Loading<'_>) {
        let (done, receiver) = watch::channel(false);
        let (mut mine, mut waits) = (Vec::new(), Vec::new());
        let mut inner = self.write();
        for &i in missing {
            if let Some(other) = inner.loading.get(ids[i]) {
                waits.push((i, other.clone()));
            } else {
                inner.loading.insert(ids[i].to_owned(), receiver.clone());
                mine.push(i);
            }
        }
        let ids = mine.iter().map(|&i| ids[i].to_owned()).collect();
        let loading = Loading {
            cache: self,
            ids,
            done,
        };
        (mine, waits, loading)
    }

    /// Reads the calendars of `ids[i]` for each `i` of `which` over `span`, keeps them and
    /// puts them in `found`.
    async fn load_and_keep(
        &self,
        store: &dyn Store,
        ids: &[&str],
        which: &[usize],
        span: (DateTime<Utc>, DateTime<Utc>),
        found: &mut [Option<Arc<Calendar>>],
    ) -> StoreResult<()> {
        if which.is_empty() {
            return Ok(());
        }
        let begun = self.begin_load();
        let which_ids: Vec<&str> = which.iter().map(|&i| ids[i]).collect();
        let calendars = load(store, &which_ids, span.0, span.1).await?;
        self.keep(&begun, span, which_ids.iter().copied().zip(&calendars));
        for (&i, calendar) in which.iter().zip(calendars) {
            found[i] = Some(calendar);
        }
        Ok(())
    }

    /// Marks the start of a load, before it reads anything.
    fn begin_load(&self) -> Begun {
        Begun {
            epoch: self.epoch.load(Ordering::SeqCst),
            at: self.clock.elapsed(),
        }
    }

    /// Keeps the calendars of a load covering `span`, except those of experts invalidated
    /// since it began.
    fn keep<'a>(
        &self,
        begun: &Begun,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
        loaded: impl IntoIterator<Item = (&'a str, &'a Arc<Calendar>)>,
    ) {
        let mut inner = self.write();
        if begun.epoch < inner.cleared {
            return;
        }
        for (id, calendar) in loaded {
            if inner.stamps.get(id).is_some_and(|s| s.0 > begun.epoch) {
                continue;
            }
            let cached = Cached {
                loaded: begun.at,
                from,
                to,
                calendar: Arc::clone(calendar),
            };
            inner.entries.insert(id.to_owned(), cached);
        }
    }
}

#[cfg(test)]
mod tests;
