//! The in-memory directory of active experts that slot searches run on. It is rebuilt when
//! the catalogue version in the database moves (every expert or firm change bumps it in the
//! same transaction), so every instance on one database sees changes on its next search.

use std::sync::Arc;

use tokio::sync::{Mutex, RwLock};

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
#[derive(Default)]
pub struct DirectoryCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    rebuild: Mutex<()>,
}

impl DirectoryCache {
    /// The snapshot for the catalogue as it is now in the database.
    pub async fn current(&self, store: &dyn Store) -> StoreResult<Arc<Snapshot>> {
        let version = store.catalog_version().await?;
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
