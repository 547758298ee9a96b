//! Webhook endpoints of protocol clients and the transactional outbox of deliveries.
//!
//! Every event row is written together with one `webhook_deliveries` row per endpoint of
//! the appointment's client, in the event's own transaction: an event that committed is an
//! event that will be delivered (at least once), whatever crashes afterwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Event, StoreResult};

/// A client's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Protocol client.
    pub client_id: String,
    /// Where to POST events.
    pub url: String,
    /// Signing secret, `whsec_` + base64.
    pub secret: String,
}

/// A delivery claimed by one worker for a lease.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Outbox row.
    pub id: i64,
    /// The event to deliver.
    pub event: Event,
    /// Endpoint.
    pub url: String,
    /// Signing secret.
    pub secret: String,
    /// Attempts including this one.
    pub attempts: i64,
}

/// What a delivery attempt came to.
#[derive(Debug, Clone)]
pub enum DeliverySettlement {
    /// The endpoint answered 2xx.
    Delivered {
        /// Its status.
        status: u16,
    },
    /// Try again at `at`.
    Retry {
        /// Next attempt.
        at: DateTime<Utc>,
        /// Status, when the endpoint answered.
        status: Option<u16>,
        /// What went wrong.
        detail: String,
    },
    /// Given up (retries exhausted).
    Failed {
        /// Status, when the endpoint answered.
        status: Option<u16>,
        /// What went wrong.
        detail: String,
    },
}

/// Webhook configuration and outbox.
#[async_trait]
pub trait Webhooks: Send + Sync + 'static {
    /// Sets (or replaces) a client's endpoint. Unknown client: `NotFound`.
    async fn set_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()>;
    /// Removes a client's endpoint (pending deliveries to it are dropped).
    async fn remove_webhook(&self, client_id: &str) -> StoreResult<()>;
    /// Claims the next due delivery for `worker` until `lease_until`; counts the attempt.
    async fn claim_delivery(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>>;
    /// Records the result of a claimed delivery. `false` when the lease was lost.
    async fn settle_delivery(
        &self,
        delivery: &Delivery,
        worker: &str,
        settlement: &DeliverySettlement,
    ) -> StoreResult<bool>;
}
