//! The in-memory directory of active experts that slot searches run on. It is rebuilt when
//! the catalogue version in the database moves (every expert or firm change bumps it in the
//! same transaction), so every instance on one database sees changes on its next search.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, RwLock};

use crate::clock::Clock;
use crate::engine::{Directory, ExpertEntry};
use crate::store::{Store, StoreResult};

/// A directory and what the wire needs beside it.
pub struct Snapshot {
    /// Catalogue version it was built from.
    pub version: i64,
    /// The engine's index.
    pub directory: Directory,
    /// Firm id of each directory entry.
    pub firm_ids: Vec<String>,
    /// Firm name of each directory entry.
    pub firm_names: Vec<String>,
}

/// The current snapshot, rebuilt on demand.
pub struct DirectoryCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    rebuild: Mutex<()>,
    /// When the version was last read from the database, and when this instance last
    /// changed the catalogue: a check only counts if it started after the change.
    /// Both as [`Clock::elapsed`].
    checked: std::sync::Mutex<(Option<Duration>, Option<Duration>)>,
    clock: Clock,
}

impl DirectoryCache {
    /// An empty cache, timed by `clock`.
    pub fn new(clock: Clock) -> Self {
        Self {
            current: RwLock::default(),
            rebuild: Mutex::default(),
            checked: std::sync::Mutex::default(),
            clock,
        }
    }

    /// The snapshot, checked against the database at most once per `max_age`: slot searches
    /// use it, so they do not read the version on every request. A catalogue change made
    /// through this instance ([`DirectoryCache::changed`]) is seen at once; one made through
    /// another instance within `max_age`. Bookings use [`DirectoryCache::holding`].
    pub async fn recent(&self, store: &dyn Store, max_age: Duration) -> StoreResult<Arc<Snapshot>> {
        let now = self.clock.elapsed();
        let fresh_enough = self.checked.lock().is_ok_and(|c| {
            let (checked, changed) = *c;
            checked.is_some_and(|at| {
                now.saturating_sub(at) < max_age && changed.is_none_or(|ch| ch < at)
            })
        });
        if fresh_enough {
            if let Some(snapshot) = self.current.read().await.clone() {
                return Ok(snapshot);
            }
        }
        self.current(store).await
    }

    /// The snapshot holding `expert_id`, and its index there: the [`recent`] one, or, when
    /// it does not know the expert (created since, perhaps through another instance), the
    /// [`current`] one. Bookings use it: what they take from the snapshot (the firm, the
    /// names and time zone of the answer) is re-checked in their transaction, which reads
    /// the expert's row itself, so a snapshot up to `max_age` old is as good as the latest.
    ///
    /// [`recent`]: DirectoryCache::recent
    /// [`current`]: DirectoryCache::current
    pub async fn holding(
        &self,
        store: &dyn Store,
        max_age: Duration,
        expert_id: &str,
    ) -> StoreResult<(Arc<Snapshot>, Option<usize>)> {
        let snapshot = self.recent(store, max_age).await?;
        if let Some(index) = snapshot.directory.position(expert_id) {
            return Ok((snapshot, Some(index)));
        }
        let snapshot = self.current(store).await?;
        let index = snapshot.directory.position(expert_id);
        Ok((snapshot, index))
    }

    /// Forgets when the version was checked: call after changing the catalogue.
    pub fn changed(&self) {
        if let Ok(mut checked) = self.checked.lock() {
            checked.1 = Some(self.clock.elapsed());
        }
    }

    /// The snapshot for the catalogue as it is now in the database.
    pub async fn current(&self, store: &dyn Store) -> StoreResult<Arc<Snapshot>> {
        let checked_at = self.clock.elapsed();
        let version = store.catalog_version().await?;
        let snapshot = self.at_version(store, version).await?;
        if let Ok(mut checked) = self.checked.lock() {
            if checked.0.is_none_or(|at| at < checked_at) {
                checked.0 = Some(checked_at);
            }
        }
        Ok(snapshot)
    }

    async fn at_version(&self, store: &dyn Store, version: i64) -> StoreResult<Arc<Snapshot>> {
        if let Some(snapshot) = self.fresh(version).await {
            return Ok(snapshot);
        }
        // One rebuild at a time; whoever waited finds it done.
        let _guard = self.rebuild.lock().await;
        if let Some(snapshot) = self.fresh(version).await {
            return Ok(snapshot);
        }
        let experts = store.active_experts().await?;
        let mut firm_ids = Vec::with_capacity(experts.len());
        let mut firm_names = Vec::with_capacity(experts.len());
        let mut entries = Vec::with_capacity(experts.len());
        for (expert, firm_name) in experts {
            firm_ids.push(expert.firm_id);
            firm_names.push(firm_name);
            entries.push(ExpertEntry {
                id: expert.id,
                profile: expert.profile,
            });
        }
        let directory = Directory::new(entries);
        tracing::info!(
            version,
            experts = directory.len(),
            "expert directory rebuilt"
        );
        let snapshot = Arc::new(Snapshot {
            version,
            directory,
            firm_ids,
            firm_names,
        });
        *self.current.write().await = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    async fn fresh(&self, version: i64) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .await
            .as_ref()
            .filter(|s| s.version == version)
            .cloned()
    }
}
