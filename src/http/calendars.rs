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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::engine::{Booked, Calendar};
use crate::store::CalendarChange;
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
    /// The time-to-live while `hearing` (at least `ttl`, unless that is zero).
    heard_ttl: Duration,
    /// Whether this instance hears the other instances' announcements now: then their
    /// changes reach the cache within milliseconds, and a calendar can be kept longer.
    hearing: std::sync::atomic::AtomicBool,
    inner: RwLock<Inner>,
    /// Bumped by every invalidation.
    epoch: AtomicU64,
    /// Where the changes made through this instance go, to be announced to the other
    /// instances on the database (see [`super::announce`]).
    announce: Option<tokio::sync::mpsc::UnboundedSender<CalendarChange>>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Cached>,
    /// The epoch of each expert's last invalidation, and when it happened. A load that
    /// began at an earlier epoch may have read the calendar before the change, so its copy
    /// of that expert is not kept; other experts of the same load are. A stamp older than
    /// the time-to-live can go: a load begun before it would be expired already.
    stamps: HashMap<String, (u64, Instant)>,
    /// Loads begun before this epoch keep nothing (see [`CalendarCache::forget_all`]).
    cleared: u64,
    /// Calendars a search is reading from the database, and how to learn that it is done
    /// (`true` once its calendars are kept). Other searches wait for it instead of reading
    /// them too: when many calendars expire together under load, every concurrent search
    /// would otherwise read all of them at once.
    loading: HashMap<String, watch::Receiver<bool>>,
}

impl Inner {
    /// Records a change of `expert_id` at `epoch` (see [`Inner::stamps`]).
    fn stamp(&mut self, expert_id: &str, epoch: u64, ttl: Duration) {
        if self.stamps.len() > PRUNE_STAMPS_ABOVE {
            self.stamps.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        self.stamps
            .insert(expert_id.to_owned(), (epoch, Instant::now()));
    }
}

/// Indexes of calendars another search is reading, each with the channel that tells when
/// it is done.
type Waits = Vec<(usize, watch::Receiver<bool>)>;

/// Calendars one search reads itself, registered in [`Inner::loading`] until dropped.
/// Dropped without [`Loading::done`] (a failed or abandoned read), its waiters see the
/// channel closed and read the calendars themselves.
struct Loading<'a> {
    cache: &'a CalendarCache,
    ids: Vec<String>,
    done: watch::Sender<bool>,
}

impl Loading<'_> {
    /// Tells the waiters the calendars are kept (or, for those invalidated meanwhile, not:
    /// those they read themselves).
    fn done(self) {
        self.done.send_replace(true);
    }
}

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        let mut inner = self.cache.write();
        let ours = self.done.subscribe();
        for id in &self.ids {
            if inner.loading.get(id).is_some_and(|r| r.same_channel(&ours)) {
                inner.loading.remove(id);
            }
        }
    }
}

impl CalendarCache {
    /// A cache keeping calendars for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            heard_ttl: ttl,
            hearing: std::sync::atomic::AtomicBool::new(false),
            inner: RwLock::default(),
            epoch: AtomicU64::new(0),
            announce: None,
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

    /// Says whether the other instances' announcements are heard from now on. When they
    /// stop being heard, call [`CalendarCache::forget_all`] too: some may have been missed.
    pub fn hearing(&self, heard: bool) {
        self.hearing.store(heard, Ordering::SeqCst);
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
        inner.stamp(expert_id, epoch, self.heard_ttl);
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
        inner.stamp(expert_id, epoch, self.heard_ttl);
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
        c.loaded.elapsed() < self.current_ttl() && c.from <= from && to <= c.to
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
            ids.into_iter().zip([&calendar, &calendar, &calendar]),
        );
        assert_eq!(cached(&cache), ["before", "untouched"]);
        // A later load keeps it; a change drops it again.
        let begun = cache.begin_load();
        cache.keep(&begun, span, [("during", &calendar)]);
        assert_eq!(cached(&cache), ["before", "during", "untouched"]);
        cache.invalidate("before");
        assert_eq!(cached(&cache), ["during", "untouched"]);
    }

    #[tokio::test]
    async fn a_search_waits_for_calendars_another_is_reading_instead_of_reading_them_too() {
        let cache = CalendarCache::new(Duration::from_secs(60));
        let now = Utc::now();
        let span = (now, now + chrono::Duration::days(1));
        let calendar = Arc::new(Calendar::default());
        let ids = ["a", "b"];
        let (mine, waits, first) = cache.share_out(&ids, &[0]);
        assert_eq!((mine, waits.len()), (vec![0], 0));
        let (mine, waits, second) = cache.share_out(&ids, &[0, 1]);
        assert_eq!(mine, [1]);
        let [(0, mut waiting_for_a)] = <[_; 1]>::try_from(waits).unwrap() else {
            panic!("the second search should wait for \"a\"");
        };
        // The first search keeps what it read, then says so.
        let begun = cache.begin_load();
        cache.keep(&begun, span, [("a", &calendar)]);
        first.done();
        assert!(*waiting_for_a.wait_for(|done| *done).await.unwrap());
        assert!(cache.fresh("a", span.0, span.1).is_some());
        // A read abandoned (the search failed or went away): its waiters see the channel
        // closed and nobody is reading the calendar any more.
        let (mine, waits, _third) = cache.share_out(&ids, &[1]);
        assert!(mine.is_empty());
        drop(second);
        let (_, mut waiting_for_b) = waits.into_iter().next().unwrap();
        assert!(waiting_for_b.wait_for(|done| *done).await.is_err());
        let (mine, waits, _fourth) = cache.share_out(&ids, &[1]);
        assert_eq!((mine, waits.len()), (vec![1], 0));
    }

    #[test]
    fn a_booking_through_this_instance_is_added_to_the_cached_calendar() {
        let cache = CalendarCache::new(Duration::from_secs(60));
        let now = Utc::now();
        let span = (now, now + chrono::Duration::days(1));
        let booked = Booked {
            start: now + chrono::Duration::hours(2),
            end: now + chrono::Duration::hours(3),
            place: None,
        };
        let begun = cache.begin_load();
        cache.keep(&begun, span, [("a", &Arc::new(Calendar::default()))]);
        let loaded = cache.write().entries["a"].loaded;
        // A load under way meanwhile read the calendar before the booking.
        let under_way = cache.begin_load();
        cache.booked("a", booked);
        let calendar = cache.fresh("a", span.0, span.1).expect("still cached");
        assert_eq!(calendar.appointments, [booked]);
        assert_eq!(
            cache.write().entries["a"].loaded,
            loaded,
            "it keeps its age"
        );
        cache.keep(&under_way, span, [("a", &Arc::new(Calendar::default()))]);
        assert_eq!(
            cache.fresh("a", span.0, span.1).unwrap().appointments,
            [booked],
            "the older copy is not kept"
        );
        // Added again (read since, or announced by another instance): not twice.
        cache.add_booked("a", booked);
        assert_eq!(
            cache.fresh("a", span.0, span.1).unwrap().appointments,
            [booked]
        );
        // An expert not cached stays so.
        cache.booked("b", booked);
        assert_eq!(cached(&cache), ["a"]);
    }

    #[test]
    fn calendars_are_kept_longer_while_the_other_instances_are_heard() {
        let (sender, _changes) = tokio::sync::mpsc::unbounded_channel();
        let cache = CalendarCache::new(Duration::from_secs(1))
            .announcing(sender.clone(), Duration::from_secs(10));
        let now = Utc::now();
        let span = (now, now + chrono::Duration::days(1));
        let five_seconds_ago = Instant::now()
            .checked_sub(Duration::from_secs(5))
            .expect("an instant 5 s ago");
        let begun = Begun {
            epoch: cache.epoch.load(Ordering::SeqCst),
            at: five_seconds_ago,
        };
        cache.keep(&begun, span, [("a", &Arc::new(Calendar::default()))]);
        assert!(cache.fresh("a", span.0, span.1).is_none(), "deaf: 1 s");
        cache.hearing(true);
        assert!(cache.fresh("a", span.0, span.1).is_some(), "heard: 10 s");
        cache.hearing(false);
        assert!(
            cache.fresh("a", span.0, span.1).is_none(),
            "deaf again: 1 s"
        );
        // Never shorter than the time-to-live; no caching stays no caching.
        let longer = CalendarCache::new(Duration::from_secs(20))
            .announcing(sender.clone(), Duration::from_secs(10));
        assert_eq!(longer.heard_ttl, Duration::from_secs(20));
        let none = CalendarCache::new(Duration::ZERO).announcing(sender, Duration::from_secs(10));
        assert_eq!(none.heard_ttl, Duration::ZERO);
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
