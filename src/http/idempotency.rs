//! `Idempotency-Key` for unsafe requests (protocol, and the firms' creating `POST`s), applied by one layer: the same key with
//! the same request replays the first response byte for byte (`Idempotent-Replayed: true`);
//! with another request it is 422 `idempotency-key-reused`; while the first is in flight a
//! duplicate waits briefly, then gets 409 `idempotency-key-in-flight`. Keys live 24 hours
//! per client. Answers to requests that could not be read (400, 413, 415, 422
//! `validation-failed`) and our own failures (5xx) are not kept: the key is released.

use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, OriginalUri, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::auth::{ClaimsIaClient, FirmAdmin};
use super::error::{ApiError, PROBLEM_JSON};
use super::extract::{MAX_BODY_BYTES, is_json};
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

    /// A response as the handler gave it (its body is small JSON).
    async fn of(response: Response) -> Self {
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => {
                return Self::error(&ApiError::Internal(anyhow::anyhow!("response body: {err}")));
            }
        };
        let headers = [header::CONTENT_TYPE, header::LOCATION, header::ETAG]
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        Self {
            status: parts.status.as_u16(),
            headers,
            body,
        }
    }

    /// Whether this answer is kept under its key: not when the request could not be read,
    /// nor when the failure was ours.
    fn kept(&self) -> bool {
        match self.status {
            400 | 413 | 415 => false,
            422 => !self.body.contains("\"code\":\"validation-failed\""),
            status => status < 500,
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
fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::MalformedBody(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
        })?;
    Ok(Some(key.to_owned()))
}

/// Fingerprint of a request: method, path and the canonical JSON body (keys sorted), so
/// whitespace or key order do not make the "same" request different.
fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Keys created before this instant (ms) have expired at `now`.
pub fn expired_before_ms(now: chrono::DateTime<chrono::Utc>) -> i64 {
    now.timestamp_millis() - ms(KEY_TTL)
}

/// The request's key as the layer hands it to the handler (a request extension).
#[derive(Debug, Clone)]
pub enum KeyUse {
    /// The layer claimed it: the handler may record its success in its own transaction.
    Claimed {
        /// Client the key belongs to.
        client_id: String,
        /// The key.
        key: String,
    },
    /// Nobody claimed it yet (see [`fresh_first`]): the handler may claim and answer it
    /// in its own transaction, and then marks its response with [`AnsweredUnderKey`].
    Fresh {
        /// Client the key belongs to.
        client_id: String,
        /// The key.
        key: String,
        /// The request's fingerprint.
        request_hash: String,
    },
}

/// Marks a response already recorded under its key by the handler's own transaction.
#[derive(Debug, Clone, Copy)]
pub struct AnsweredUnderKey;

/// A keyed request, read once so that it can be run again.
struct Keyed {
    client_id: String,
    key: String,
    request_hash: String,
    parts: axum::http::request::Parts,
    body: Bytes,
}

impl Keyed {
    fn request(&self, key_use: KeyUse) -> Request {
        let mut request = Request::from_parts(self.parts.clone(), Body::from(self.body.clone()));
        request.extensions_mut().insert(key_use);
        request
    }
}

/// Reads what idempotency needs from a request; `Err` gives the request back when it has
/// no key, or is not one whose answer can be kept (the handler then answers it alone).
async fn read(state: &AppState, request: Request) -> Result<Result<Keyed, Request>, ApiError> {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return Ok(Err(request));
    }
    let (mut parts, body) = request.into_parts();
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    // Unauthenticated or not JSON: the handler says so. Over its rate: answered here, so
    // the request cannot reach the handler past the key. A firm's keys live apart from the
    // protocol clients' (`firm:` prefix). The caller is left in the extensions, where the
    // handler finds it without counting the request again.
    let owner = match ClaimsIaClient::from_request_parts(&mut parts, state).await {
        Ok(client) => {
            let id = client.id.clone();
            parts.extensions.insert(client);
            id
        }
        Err(limited @ ApiError::RateLimited { .. }) => return Err(limited),
        Err(_) => match FirmAdmin::from_request_parts(&mut parts, state).await {
            Ok(admin) => {
                let owner = format!("firm:{}", admin.firm_id);
                parts.extensions.insert(admin);
                owner
            }
            Err(limited @ ApiError::RateLimited { .. }) => return Err(limited),
            Err(_) => return Ok(Err(Request::from_parts(parts, body))),
        },
    };
    if !json {
        return Ok(Err(Request::from_parts(parts, body)));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(Err(Request::from_parts(parts, Body::from(bytes))));
    };
    let Some(key) = key_of(&parts.headers)? else {
        return Ok(Err(Request::from_parts(parts, Body::from(bytes))));
    };
    let client_id = owner;
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.path().to_owned(), |o| o.path().to_owned());
    Ok(Ok(Keyed {
        request_hash: fingerprint(parts.method.as_str(), &path, &value),
        client_id,
        key,
        parts,
        body: bytes,
    }))
}

/// The layer for unsafe protocol requests: claims the key, runs the handler, keeps its
/// answer.
pub async fn layer(
    Extension(state): Extension<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match read(&state, request).await {
        Ok(Ok(keyed)) => claimed(&state, &keyed, next).await,
        Ok(Err(request)) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// [`layer`] for a handler that can claim a fresh key in its own transaction (bookings):
/// it runs first with [`KeyUse::Fresh`]; unless it answered under the key, the request
/// goes the general way.
pub async fn fresh_first(
    Extension(state): Extension<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let keyed = match read(&state, request).await {
        Ok(Ok(keyed)) => keyed,
        Ok(Err(request)) => return next.run(request).await,
        Err(err) => return err.into_response(),
    };
    let fresh = keyed.request(KeyUse::Fresh {
        client_id: keyed.client_id.clone(),
        key: keyed.key.clone(),
        request_hash: keyed.request_hash.clone(),
    });
    let response = next.clone().run(fresh).await;
    if response.extensions().get::<AnsweredUnderKey>().is_some() {
        return response;
    }
    claimed(&state, &keyed, next).await
}

/// Claims the key, then replays, refuses, or runs the handler and settles the key.
async fn claimed(state: &AppState, keyed: &Keyed, next: Next) -> Response {
    match claim(state, &keyed.client_id, &keyed.key, &keyed.request_hash).await {
        Ok(Claim::Proceed) => {}
        Ok(Claim::Answer(response)) => return response,
        Err(err) => return err.into_response(),
    }
    let request = keyed.request(KeyUse::Claimed {
        client_id: keyed.client_id.clone(),
        key: keyed.key.clone(),
    });
    let captured = Captured::of(next.run(request).await).await;
    settle(state, &keyed.client_id, &keyed.key, &captured).await;
    captured.into_response(false)
}

/// What to do with a request carrying a key.
enum Claim {
    /// Process it; the key is ours.
    Proceed,
    /// Answer this (a replay).
    Answer(Response),
}

/// Claims `key` for this request, waiting briefly for a duplicate in flight.
async fn claim(
    state: &AppState,
    client_id: &str,
    key: &str,
    request_hash: &str,
) -> Result<Claim, ApiError> {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    loop {
        let begin = state
            .service
            .claim_key(client_id, key, request_hash, ms(KEY_TTL), ms(STALE_AFTER))
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
/// request could not be read or the failure was ours, so a retry can run again.
async fn settle(state: &AppState, client_id: &str, key: &str, captured: &Captured) {
    let result = if captured.kept() {
        state
            .service
            .answer_key(&captured.record(client_id, key))
            .await
    } else {
        state.service.release_key(client_id, key).await
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
