//! The `Idempotency-Key`s of Claims IA's requests: claimed, answered, released.

use super::{Result, Service};
use crate::store::{IdempotencyBegin, IdempotencyRecord};

impl Service {
    /// Claims `key` for a request identified by `request_hash` (see
    /// [`crate::store::Bookings::idempotency_begin`]).
    pub async fn claim_key(
        &self,
        client_id: &str,
        key: &str,
        request_hash: &str,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> Result<IdempotencyBegin> {
        Ok(self
            .store
            .idempotency_begin(client_id, key, request_hash, ttl_ms, stale_ms)
            .await?)
    }

    /// Records the answer of a claimed key.
    pub async fn answer_key(&self, record: &IdempotencyRecord) -> Result<()> {
        Ok(self.store.idempotency_finish(record).await?)
    }

    /// Releases a claimed key without an answer, so that a retry runs again.
    pub async fn release_key(&self, client_id: &str, key: &str) -> Result<()> {
        Ok(self.store.idempotency_abandon(client_id, key).await?)
    }
}
