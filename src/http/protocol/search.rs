//! Etape 1: `POST /v1/slot-searches`.

use axum::Json;
use axum::extract::State;

use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::service::search::{SlotSearchRequest, SlotSearchResponse};

/// Finds free slots for a claim.
#[utoipa::path(post, path = "/slot-searches", tag = "protocol", security(("apiKey" = [])),
    request_body = SlotSearchRequest,
    responses((status = 200, body = SlotSearchResponse), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
pub async fn search_slots(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SlotSearchRequest>,
) -> ApiResult<Json<SlotSearchResponse>> {
    Ok(Json(state.service.search(&client.id, &request).await?))
}
