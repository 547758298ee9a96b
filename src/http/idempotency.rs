//! `Idempotency-Key` for unsafe protocol requests: the same key with the same request replays
//! the first response byte for byte (`Idempotent-Replayed: true`); with another request it is
//! 422 `idempotency-key-reused`; while the first is in flight a duplicate waits briefly, then
//! gets 409 `idempotency-key-in-flight`. Keys live 24 hours per client.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::{ApiError, PROBLEM_JSON};
use super::state::AppState;
use crate::store::{IdempotencyBegin, IdempotencyRecord};

/// How long a key is remembered.
pub const KEY_TTL: Duration = Duration::from_secs(24 * 3600);
/// An in-flight key older than this belongs to a request that died; it may be taken over.
const STALE_AFTER: Duration = Duration::from_secs(60);
/// How long a duplicate waits for the first request before answering 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(2);
const HEADER: &str = "idempotency-key";

/// A response captured so that it can be stored and replayed exactly.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Captured {
    /// Status code.
    pub status: u16,
    /// Headers worth replaying (content type, location, etag).
    pub headers: Vec<(String, String)>,
    /// Body, exactly as first sent.
    pub body: String,
}

impl Captured {
    /// A JSON response.
    pub fn json(status: StatusCode, body: String, extra: Vec<(String, String)>) -> Self {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(extra);
        Self {
            status: status.as_u16(),
            headers,
            body,
        }
    }

    /// The problem document of an error.
    pub fn error(err: &ApiError) -> Self {
        if let ApiError::Internal(cause) = err {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let problem = err.problem();
        Self {
            status: problem.status,
            headers: vec![("content-type".to_owned(), PROBLEM_JSON.to_owned())],
            body: serde_json::to_string(&problem).unwrap_or_default(),
        }
    }

    /// The record to store for a key.
    pub fn record(&self, client_id: &str, key: &str) -> IdempotencyRecord {
        IdempotencyRecord {
            client_id: client_id.to_owned(),
            key: key.to_owned(),
            status: self.status,
            response: serde_json::to_string(self).unwrap_or_default(),
        }
    }

    /// The HTTP response; `replayed` adds `Idempotent-Replayed: true`.
    pub fn into_response(self, replayed: bool) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::try_from(value))
            {
                headers.insert(name, value);
            }
        }
        if replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}

/// The key a request carries, if any (400 when malformed).
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::MalformedBody(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Fingerprint of a request: method, path and the canonical JSON body (keys sorted), so
/// whitespace or key order do not make the "same" request different.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// What to do with a request carrying a key.
pub enum Claim {
    /// Process it; the key is ours.
    Proceed,
    /// Answer this (a replay, or a refusal).
    Answer(Response),
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Keys created before this instant (ms) have expired at `now`.
pub fn expired_before_ms(now: chrono::DateTime<chrono::Utc>) -> i64 {
    now.timestamp_millis() - ms(KEY_TTL)
}

/// Claims `key` for this request, waiting briefly for a duplicate in flight.
pub async fn claim(
    state: &AppState,
    client_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Claim, ApiError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        let begin = state
            .store
            .idempotency_begin(client_id, key, request_hash, ms(KEY_TTL), ms(STALE_AFTER))
            .await?;
        match begin {
            IdempotencyBegin::Started => return Ok(Claim::Proceed),
            IdempotencyBegin::Mismatch => return Err(ApiError::IdempotencyKeyReused),
            IdempotencyBegin::Done { response, .. } => {
                let captured: Captured = serde_json::from_str(&response)
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored response: {e}")))?;
                return Ok(Claim::Answer(captured.into_response(true)));
            }
            IdempotencyBegin::InFlight if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            IdempotencyBegin::InFlight => return Err(ApiError::IdempotencyKeyInFlight),
        }
    }
}

/// Settles a claimed key with the final answer: stored for replay, or released when the
/// failure was ours (5xx), so a retry can run again.
pub async fn settle(state: &AppState, client_id: &str, key: &str, captured: &Captured) {
    let result = if captured.status >= 500 {
        state.store.idempotency_abandon(client_id, key).await
    } else {
        state
            .store
            .idempotency_finish(&captured.record(client_id, key))
            .await
    };
    if let Err(err) = result {
        tracing::error!(error = %err, "could not settle an idempotency key");
    }
}

impl IntoResponse for Captured {
    fn into_response(self) -> Response {
        Captured::into_response(self, false)
    }
}

/// Runs an unsafe request under its `Idempotency-Key`, if it has one: replays or refuses
/// duplicates, otherwise runs `work` and stores its answer (errors included, except ours).
pub async fn run<F, Fut>(
    state: &AppState,
    client_id: &str,
    key: Option<String>,
    fingerprint: impl FnOnce() -> String,
    work: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Captured, ApiError>>,
{
    let Some(key) = key else {
        return Ok(match work(None).await {
            Ok(captured) => captured.into_response(false),
            Err(err) => err.into_response(),
        });
    };
    if let Claim::Answer(response) = claim(state, client_id, &key, &fingerprint()).await? {
        return Ok(response);
    }
    let captured = work(Some(key.clone()))
        .await
        .unwrap_or_else(|err| Captured::error(&err));
    settle(state, client_id, &key, &captured).await;
    Ok(captured.into_response(false))
}
