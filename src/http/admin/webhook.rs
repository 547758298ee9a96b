//! `/admin/v1/webhook`: the firm's own endpoint for its events (Standard Webhooks
//! signing), and the recent delivery attempts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_webhook, put_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

/// The endpoint to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `https` URL resolving to public addresses (origins the operator allows aside).
    #[schema(example = "https://hooks.cabinet.example/creneau", max_length = 2048)]
    url: String,
}

/// The endpoint, with its new secret (shown on each `PUT`, which rotates it).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    /// The endpoint.
    url: String,
    /// The signing secret (`whsec_…`); keep it, it is not shown again.
    secret: String,
}

/// The endpoint as configured.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// The endpoint.
    url: String,
    /// When it was set (or its secret last rotated).
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Sets the firm's endpoint: every firm event is delivered there, signed per Standard
/// Webhooks. The URL must be `https` and resolve to public addresses (422
/// `webhook-url-not-allowed`); it is checked again at each delivery. Each `PUT` rotates
/// the secret.
#[utoipa::path(put, path = "/webhook", tag = "admin", security(("firmToken" = [])),
    request_body = WebhookInput,
    responses((status = 200, body = WebhookSecret), (status = 401, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn put_webhook(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = state
        .service
        .set_firm_webhook(&admin.firm_id, &input.url)
        .await?;
    Ok(Json(WebhookSecret {
        url: input.url,
        secret,
    }))
}

/// The firm's endpoint (404 when none is set).
#[utoipa::path(get, path = "/webhook", tag = "admin", security(("firmToken" = [])),
    responses((status = 200, body = WebhookView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_webhook(
    admin: FirmAdmin,
    State(state): State<AppState>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = state
        .service
        .firm_webhook(&admin.firm_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(WebhookView {
        url: webhook.url,
        created_at: webhook.created_at,
    }))
}

/// Removes the firm's endpoint; pending deliveries are dropped.
#[utoipa::path(delete, path = "/webhook", tag = "admin", security(("firmToken" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_webhook(admin: FirmAdmin, State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.service.remove_firm_webhook(&admin.firm_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?limit=` of the deliveries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// How many (default 50, at most 500).
    limit: Option<u32>,
}

/// One delivery of a firm event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The firm event (`id` in `/admin/v1/events`).
    event_id: String,
    /// `PENDING`, `DELIVERED` or `FAILED`.
    state: String,
    /// Attempts made.
    attempts: i64,
    /// The last attempt.
    attempted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The endpoint's HTTP status at the last attempt.
    status: Option<i64>,
    /// What went wrong at the last attempt.
    error: Option<String>,
    /// The next attempt, while pending.
    next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The firm's recent delivery attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    items: Vec<DeliveryView>,
}

/// The firm's recent webhook deliveries, newest first.
#[utoipa::path(get, path = "/webhook/deliveries", tag = "admin", security(("firmToken" = [])),
    params(DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_deliveries(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    let deliveries = state.service.firm_deliveries(&admin.firm_id, limit).await?;
    Ok(Json(DeliveryList {
        items: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                event_id: d.event_id.to_string(),
                state: d.status,
                attempts: d.attempts,
                attempted_at: d.attempted_at,
                status: d.last_status,
                error: d.last_error,
                next_attempt_at: d.next_attempt_at,
            })
            .collect(),
    }))
}
