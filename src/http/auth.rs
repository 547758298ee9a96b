//! Authentication extractors: a handler that takes [`FirmAdmin`] or [`ClaimsIaClient`]
//! cannot run without a valid credential, and always has the caller's identity in hand.
//! Each also holds the caller to its request rate, counting a request once: a layer that
//! authenticates before the handler leaves the identity in the request's extensions.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{api_key_client_id, api_key_matches};
use crate::rate_limit::RateLimiter;

/// Admits one more request of `key`, or answers 429.
fn within_rate(limiter: Option<&RateLimiter>, key: &str) -> Result<(), ApiError> {
    match limiter {
        Some(limiter) => limiter.check(key).map_err(ApiError::rate_limited),
        None => Ok(()),
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized(
            "missing Authorization: Bearer credential",
        ))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthorized("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized("expected a Bearer credential"));
    }
    Ok(token.trim())
}

/// An expert firm authenticated by its access token; every query is scoped to `firm_id`.
#[derive(Debug, Clone)]
pub struct FirmAdmin {
    /// The caller's firm.
    pub firm_id: String,
}

impl FromRequestParts<AppState> for FirmAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        const INVALID: ApiError = ApiError::Unauthorized("invalid or expired access token");
        // Already checked, and counted, by a layer in front of the handler (idempotency).
        if let Some(admin) = parts.extensions.get::<Self>() {
            return Ok(admin.clone());
        }
        let token = bearer(parts)?;
        let (firm_id, client_id) = state.tokens.verify(token).ok_or(INVALID)?;
        // A revoked credential (or a removed firm's) loses its tokens at once.
        let credential = state.service.firm_credential(&client_id).await?;
        if credential.is_none_or(|c| c.firm_id != firm_id) {
            return Err(INVALID);
        }
        within_rate(state.limits.firms.as_ref(), &firm_id)?;
        Ok(Self { firm_id })
    }
}

/// The Claims IA platform (or another protocol client) authenticated by its API key.
#[derive(Debug, Clone)]
pub struct ClaimsIaClient {
    /// Client id.
    pub id: String,
    /// Operator-given name.
    pub name: String,
}

impl FromRequestParts<AppState> for ClaimsIaClient {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        const INVALID: ApiError = ApiError::Unauthorized("invalid API key");
        // Already checked, and counted, by a layer in front of the handler (idempotency).
        if let Some(client) = parts.extensions.get::<Self>() {
            return Ok(client.clone());
        }
        let key = bearer(parts)?;
        let client_id = api_key_client_id(key).ok_or(INVALID)?;
        let client = state.service.api_client(client_id).await?.ok_or(INVALID)?;
        if !api_key_matches(key, &client.key_hash) {
            return Err(INVALID);
        }
        within_rate(state.limits.clients.as_ref(), &client.id)?;
        Ok(Self {
            id: client.id,
            name: client.name,
        })
    }
}
