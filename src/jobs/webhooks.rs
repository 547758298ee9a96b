//! Webhook delivery, signed per Standard Webhooks (<https://www.standardwebhooks.com/>).
//!
//! Each delivery POSTs the event exactly as `GET /v1/events` lists it, with the headers
//! `webhook-id` (`evt_<event id>`, stable across retries, so receivers can deduplicate),
//! `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`
//! (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the secret's base64-decoded
//! bytes). A non-2xx answer or a network error is retried with exponential backoff and
//! jitter, up to a bound; the outbox row then says `FAILED` with the last error.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::{RetryPolicy, worker_id};
use crate::clock::Clock;
use crate::metrics::{Failure, JobMetrics};
use crate::store::{Delivery, DeliverySettlement, JobQueue, Outbox, Payload, Store};
use crate::wire::{EventView, FirmEventView};

/// Prefix of Standard Webhooks secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by base64 (at least 24 bytes)")]
pub struct BadSecret;

/// The key bytes of a `whsec_…` secret (the prefix is optional, as in the reference
/// libraries).
pub fn secret_key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).map_err(|_| BadSecret)?;
    if key.len() < 24 {
        return Err(BadSecret);
    }
    Ok(key)
}

/// A new random secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` value of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-id` of an event: the same for every attempt.
pub fn message_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}

/// How a sender reaches endpoints.
enum Poster {
    /// Endpoints the operator configured: trusted, redirects not followed.
    Trusted(reqwest::Client),
    /// Endpoints firms configured: through the document fetcher's SSRF guard.
    Guarded(crate::fetch::Fetcher),
}

/// Delivers one outbox.
pub struct WebhookSender {
    store: Arc<dyn Store>,
    outbox: Outbox,
    http: Poster,
    retry: RetryPolicy,
    metrics: JobMetrics,
    id: String,
    clock: Clock,
}

impl WebhookSender {
    /// A sender of the clients' outbox; `timeout` bounds each attempt.
    pub fn new(
        store: Arc<dyn Store>,
        retry: RetryPolicy,
        timeout: Duration,
        metrics: JobMetrics,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("creneau/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            store,
            outbox: Outbox::Clients,
            http: Poster::Trusted(http),
            retry,
            metrics,
            id: worker_id("webhooks"),
            clock,
        })
    }

    /// A sender of the firms' outbox, reaching their endpoints through `guard`.
    pub fn for_firms(
        store: Arc<dyn Store>,
        retry: RetryPolicy,
        guard: crate::fetch::Fetcher,
        metrics: JobMetrics,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            outbox: Outbox::Firms,
            http: Poster::Guarded(guard),
            retry,
            metrics,
            id: worker_id("firm-webhooks"),
            clock,
        }
    }

    /// Delivers one due message, if any. `Ok(false)`: nothing was due.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let lease = self.clock.now() + self.retry.lease;
        let claimed = self
            .store
            .claim_delivery(self.outbox, &self.id, lease)
            .await?;
        let Some(delivery) = claimed else {
            return Ok(false);
        };
        let settlement = self.attempt(&delivery).await;
        let queue = JobQueue::from(self.outbox);
        match &settlement {
            DeliverySettlement::Delivered { status } => tracing::info!(
                event_id = delivery.payload.event_id(),
                url = delivery.url,
                status,
                "webhook delivered"
            ),
            DeliverySettlement::Retry { at, status, detail } => {
                tracing::warn!(
                    event_id = delivery.payload.event_id(), url = delivery.url, ?status, detail,
                    attempts = delivery.attempts, retry_at = %at, "webhook not delivered, will retry"
                );
                self.metrics.failed(queue, Failure::WillRetry);
            }
            DeliverySettlement::Failed { status, detail } => {
                tracing::error!(
                    event_id = delivery.payload.event_id(),
                    url = delivery.url,
                    ?status,
                    detail,
                    attempts = delivery.attempts,
                    "webhook given up"
                );
                self.metrics.failed(queue, Failure::GivenUp);
            }
        }
        self.store
            .settle_delivery(&delivery, &self.id, &settlement)
            .await?;
        Ok(true)
    }

    async fn attempt(&self, delivery: &Delivery) -> DeliverySettlement {
        let failed = |status: Option<u16>, detail: String| {
            if delivery.attempts >= i64::from(self.retry.max_attempts) {
                DeliverySettlement::Failed { status, detail }
            } else {
                DeliverySettlement::Retry {
                    at: self.clock.now() + self.retry.backoff(delivery.attempts),
                    status,
                    detail,
                }
            }
        };
        let key = match secret_key(&delivery.secret) {
            Ok(key) => key,
            Err(err) => {
                return DeliverySettlement::Failed {
                    status: None,
                    detail: err.to_string(),
                };
            }
        };
        let (body, id) = match &delivery.payload {
            Payload::Client(event) => (
                serde_json::to_vec(&EventView::from(event.clone())),
                message_id(event.id),
            ),
            Payload::Firm(event) => (
                serde_json::to_vec(&FirmEventView::from(event.clone())),
                format!("fevt_{}", event.id),
            ),
        };
        let body = match body {
            Ok(body) => body,
            Err(err) => return failed(None, err.to_string()),
        };
        let timestamp = self.clock.now().timestamp();
        let request = match &self.http {
            Poster::Trusted(client) => client.post(&delivery.url),
            Poster::Guarded(guard) => match guard.post(&delivery.url) {
                Ok(request) => request,
                // The URL may no longer be reached (a name now resolving to a private
                // address is refused by the resolver, below): no connection is made.
                Err(refusal) => return failed(None, refusal.detail),
            },
        };
        let response = request
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(&key, &id, timestamp, &body))
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => DeliverySettlement::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => {
                let status = response.status().as_u16();
                failed(Some(status), format!("endpoint answered {status}"))
            }
            Err(err) => failed(None, crate::fetch::error_chain(&err)),
        }
    }

    /// Delivers every due message; returns how many attempts were made.
    pub async fn drain(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        while self.run_once().await? {
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_example_signature_is_reproduced() {
        // The published Standard Webhooks test vector.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_valid_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(secret_key(&a).unwrap().len(), 32);
        assert_ne!(a, b);
        assert!(secret_key("whsec_not base64!").is_err());
        assert!(secret_key("whsec_c2hvcnQ=").is_err());
    }

    #[test]
    fn the_message_id_depends_only_on_the_event() {
        assert_eq!(message_id(42), "evt_42");
    }
}
