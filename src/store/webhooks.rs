//! Webhook endpoints of protocol clients and the transactional outbox of deliveries.
//!
//! Every event row is written together with one `webhook_deliveries` row per endpoint of
//! the appointment's client, in the event's own transaction: an event that committed is an
//! event that will be delivered (at least once), whatever crashes afterwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Event, FirmEvent, StoreResult};

/// Whose outbox: the protocol clients' (endpoints set by the operator) or the firms'
/// (endpoints set by each firm, an untrusted URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    /// `webhook_deliveries`, events of `/v1/events`.
    Clients,
    /// `firm_webhook_deliveries`, events of `/admin/v1/events`.
    Firms,
}

/// The event a delivery carries.
#[derive(Debug, Clone)]
pub enum Payload {
    /// An event of a protocol client.
    Client(Event),
    /// An event of a firm.
    Firm(FirmEvent),
}

impl Payload {
    /// The event's position in its log.
    pub fn event_id(&self) -> i64 {
        match self {
            Self::Client(e) => e.id,
            Self::Firm(e) => e.id,
        }
    }
}

/// A firm's webhook endpoint as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmWebhook {
    /// Where events are POSTed.
    pub url: String,
    /// When it was set (or its secret last rotated).
    pub created_at: DateTime<Utc>,
}

/// One delivery of a firm's outbox as the firm reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The firm event delivered.
    pub event_id: i64,
    /// `PENDING`, `DELIVERED` or `FAILED`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last attempt.
    pub attempted_at: Option<DateTime<Utc>>,
    /// The endpoint's last HTTP status.
    pub last_status: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// The next attempt, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

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
    /// Its outbox.
    pub outbox: Outbox,
    /// The event to deliver.
    pub payload: Payload,
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
    /// Sets (or replaces, with a new secret) a firm's endpoint.
    async fn set_firm_webhook(&self, firm_id: &str, url: &str, secret: &str) -> StoreResult<()>;
    /// A firm's endpoint, if set.
    async fn firm_webhook(&self, firm_id: &str) -> StoreResult<Option<FirmWebhook>>;
    /// Removes a firm's endpoint and its pending deliveries (`NotFound` when none is set).
    async fn remove_firm_webhook(&self, firm_id: &str) -> StoreResult<()>;
    /// A firm's most recent deliveries, newest first.
    async fn firm_deliveries(&self, firm_id: &str, limit: u32) -> StoreResult<Vec<DeliveryRecord>>;
    /// Claims the next due delivery of `outbox` for `worker` until `lease_until`; counts the
    /// attempt.
    async fn claim_delivery(
        &self,
        outbox: Outbox,
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
