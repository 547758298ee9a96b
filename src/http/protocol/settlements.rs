//! `/v1/appointments/{id}/settlements`: Claims IA reads what the firm filed after the visit.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiResult, Problem};
use crate::http::state::AppState;
use crate::store::Owner;
use crate::wire::{SettlementList, SettlementView};

/// The settlements filed on one of the client's appointments, oldest first.
#[utoipa::path(get, path = "/appointments/{id}/settlements", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = SettlementList), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list_settlements(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SettlementList>> {
    let settlements = state
        .service
        .settlements(Owner::Client(&client.id), &id)
        .await?;
    Ok(Json(SettlementList::new(settlements, "/v1")))
}

/// One settlement of one of the client's appointments.
#[utoipa::path(get, path = "/appointments/{id}/settlements/{settlementId}", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("settlementId" = String, Path, description = "Settlement id")),
    responses((status = 200, body = SettlementView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
pub async fn get_settlement(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path((id, settlement_id)): Path<(String, String)>,
) -> ApiResult<Json<SettlementView>> {
    let stored = state
        .service
        .settlement(Owner::Client(&client.id), &id, &settlement_id)
        .await?;
    Ok(Json(SettlementView::new(stored, "/v1")))
}

/// A document of a settlement (`REPORT`, `FEE_NOTE` or `INVOICE`): the PDF, streamed, with
/// `ETag` = its sha256 (`If-None-Match` answers 304).
#[utoipa::path(get, path = "/appointments/{id}/settlements/{settlementId}/documents/{kind}",
    tag = "protocol", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("settlementId" = String, Path, description = "Settlement id"),
        ("kind" = String, Path, description = "REPORT, FEE_NOTE or INVOICE"),
        ("If-None-Match" = Option<String>, Header, description = "ETag already held")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf",
            headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn settlement_document(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path((id, settlement_id, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    crate::http::content::serve_settlement_document(
        &state,
        Owner::Client(&client.id),
        (&id, &settlement_id, &kind),
        &headers,
    )
    .await
}
