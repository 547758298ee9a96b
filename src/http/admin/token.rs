//! `POST /admin/v1/token`: OAuth2 client-credentials exchange for a firm access token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::verify_secret;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(issue_token))
}

/// Form-encoded client-credentials grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(pattern = "^client_credentials$")]
    grant_type: String,
    /// Client id from `creneau firm credentials`.
    client_id: String,
    /// Secret from `creneau firm credentials`.
    client_secret: String,
}

/// A firm access token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// JWT to send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds (at most 3600).
    pub expires_in: u64,
}

/// Exchanges a firm's client credentials for an access token. Repeated bad secrets for one
/// client id from one address lock that address out of that client for five minutes, and
/// repeated failures of any kind lock the address out (429 with `Retry-After`); other
/// addresses are not affected.
#[utoipa::path(post, path = "/token", tag = "admin", security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    ))]
async fn issue_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let Form(form) = Form::<TokenRequest>::from_request(request, &state)
        .await
        .map_err(|rejection| match rejection.status() {
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
                "expected Content-Type: application/x-www-form-urlencoded",
            ),
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::MalformedBody(
                "expected grant_type, client_id and client_secret form fields".into(),
            ),
        })?;
    if form.grant_type != "client_credentials" {
        return Err(ApiError::MalformedBody(
            "grant_type must be client_credentials".into(),
        ));
    }
    let source = peer.ip().to_string();
    let pair = format!("{source} {}", form.client_id);
    let locked =
        (state.throttle.sources.check(&source)).or_else(|| state.throttle.clients.check(&pair));
    if let Some(retry_after) = locked {
        tracing::warn!(
            client_id = form.client_id,
            "token request refused: locked out"
        );
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let refused = || {
        state.throttle.sources.failed(&source);
        tracing::warn!(
            client_id = form.client_id,
            "token request refused: bad client credentials"
        );
        ApiError::Unauthorized("invalid client credentials")
    };
    // Client ids are random: an unknown one is refused without a password check.
    let Some(credential) = state.service.firm_credential(&form.client_id).await? else {
        return Err(refused());
    };
    let hash = credential.secret_hash.clone();
    let secret = form.client_secret;
    let valid = {
        // Password checks are slow on purpose: a few at a time leave the cores to the API.
        let _permit = state.throttle.checks.acquire().await;
        tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?
    };
    if !valid {
        state.throttle.clients.failed(&pair);
        return Err(refused());
    }
    state.throttle.clients.succeeded(&pair);
    let access_token = state
        .tokens
        .issue(&credential.firm_id, &credential.client_id)?;
    tracing::info!(
        firm_id = credential.firm_id,
        client_id = credential.client_id,
        "access token issued"
    );
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.tokens.ttl().as_secs(),
        }),
    ))
}
