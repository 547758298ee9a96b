//! What the calendar cache holds besides its entries: when each expert last changed, and
//! the loads under way.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::watch;

use super::{Cached, CalendarCache, PRUNE_STAMPS_ABOVE};

#[derive(Default)]
pub(super) struct Inner {
    pub(super) entries: HashMap<String, Cached>,
    /// The epoch of each expert's last invalidation, and when it happened. A load that
    /// began at an earlier epoch may have read the calendar before the change, so its copy
    /// of that expert is not kept; other experts of the same load are. A stamp older than
    /// the time-to-live can go: a load begun before it would be expired already.
    pub(super) stamps: HashMap<String, (u64, Duration)>,
    /// Loads begun before this epoch keep nothing (see [`CalendarCache::forget_all`]).
    pub(super) cleared: u64,
    /// Calendars a search is reading from the database, and how to learn that it is done
    /// (`true` once its calendars are kept). Other searches wait for it instead of reading
    /// them too: when many calendars expire together under load, every concurrent search
    /// would otherwise read all of them at once.
    pub(super) loading: HashMap<String, watch::Receiver<bool>>,
}

impl Inner {
    /// Records a change of `expert_id` at `epoch` (see [`Inner::stamps`]).
    pub(super) fn stamp(&mut self, expert_id: &str, epoch: u64, ttl: Duration, now: Duration) {
        if self.stamps.len() > PRUNE_STAMPS_ABOVE {
            self.stamps
                .retain(|_, (_, at)| now.saturating_sub(*at) < ttl);
        }
        self.stamps.insert(expert_id.to_owned(), (epoch, now));
    }
}

/// Indexes of calendars another search is reading, each with the channel that tells when
/// it is done.
pub(super) type Waits = Vec<(usize, watch::Receiver<bool>)>;

/// Calendars one search reads itself, registered in [`Inner::loading`] until dropped.
/// Dropped without [`Loading::done`] (a failed or abandoned read), its waiters see the
/// channel closed and read the calendars themselves.
pub(super) struct Loading<'a> {
    pub(super) cache: &'a CalendarCache,
    pub(super) ids: Vec<String>,
    pub(super) done: watch::Sender<bool>,
}

impl Loading<'_> {
    /// Tells the waiters the calendars are kept (or, for those invalidated meanwhile, not:
    /// those they read themselves).
    pub(super) fn done(self) {
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

/// When a load of calendars began.
pub(super) struct Begun {
    pub(super) epoch: u64,
    pub(super) at: Duration,
}
