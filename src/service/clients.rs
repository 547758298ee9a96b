//! The Claims IA clients cache.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{ApiClient, Store, StoreResult};

/// Claims IA clients as last read, for a short time: every protocol request checks its
/// API key, and reading the client from the database was the only database access left on
/// a slot search. Only clients found are kept (a wrong id always reaches the database and
/// the throttle); the key itself is checked against the hash on every request. A client
/// changed in the database is seen within `ttl`.
pub struct ApiClientCache {
    ttl: Duration,
    /// Each client with when it was read, as [`Clock::elapsed`].
    entries: RwLock<HashMap<String, (Duration, ApiClient)>>,
    clock: Clock,
}

impl ApiClientCache {
    /// A cache keeping clients for `ttl` (zero: no caching).
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            entries: RwLock::default(),
            clock,
        }
    }

    /// The client with this id, from the cache while fresh, else from the store.
    pub async fn get(&self, store: &dyn Store, id: &str) -> StoreResult<Option<ApiClient>> {
        if self.ttl.is_zero() {
            return store.api_client(id).await;
        }
        {
            let entries = self
                .entries
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((loaded, client)) = entries.get(id)
                && self.clock.elapsed().saturating_sub(*loaded) < self.ttl
            {
                return Ok(Some(client.clone()));
            }
        }
        let client = store.api_client(id).await?;
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &client {
            Some(client) => {
                entries.insert(id.to_owned(), (self.clock.elapsed(), client.clone()));
            }
            None => {
                entries.remove(id);
            }
        }
        Ok(client)
    }
}
