//! `/admin/v1/appointments/{id}/settlements`: the firm files its report and fee note (or
//! invoice) on a COMPLETED appointment, and reads them back.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::settlement::SettlementInput;
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::idempotency;
use crate::http::state::AppState;
use crate::store::Owner;
use crate::wire::{SettlementList, SettlementView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(file_settlement, list_settlements))
                .layer(from_fn(idempotency::layer)),
        )
        .routes(routes!(get_settlement))
        .routes(routes!(settlement_document))
}

/// Files the settlement of a COMPLETED appointment (else 409 `appointment-not-completed`).
/// EXPERT appointments carry `fees`, `damage`, `feeNoteKey` and `reportKey`; REN
/// (repairer) appointments `invoice` and `invoiceKey`; the other kind's fields are 422.
/// Amounts are euros with at most 2 decimals and `gross = net + vat` exactly; `date` is not
/// in the future; each key is an unused PDF upload of this firm (else 422
/// `unknown-upload`); `(type, reference)` is unique per firm (409 `settlement-exists`).
/// Answered 202 with `Location`; `settlement.submitted` is published to Claims IA.
#[utoipa::path(post, path = "/appointments/{id}/settlements", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer")),
    request_body = SettlementInput,
    responses((status = 202, description = "Filed", headers(("Location" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn file_settlement(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SettlementInput>,
) -> ApiResult<Response> {
    let stored = state
        .service
        .file_settlement(&admin.firm_id, &id, input)
        .await?;
    let location = format!("/admin/v1/appointments/{id}/settlements/{}", stored.id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)]).into_response())
}

/// The settlements filed on one of the firm's appointments, oldest first.
#[utoipa::path(get, path = "/appointments/{id}/settlements", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = SettlementList), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn list_settlements(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SettlementList>> {
    let settlements = state
        .service
        .settlements(Owner::Firm(&admin.firm_id), &id)
        .await?;
    Ok(Json(SettlementList::new(settlements, "/admin/v1")))
}

/// One settlement of one of the firm's appointments.
#[utoipa::path(get, path = "/appointments/{id}/settlements/{settlementId}", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("settlementId" = String, Path, description = "Settlement id")),
    responses((status = 200, body = SettlementView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_settlement(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path((id, settlement_id)): Path<(String, String)>,
) -> ApiResult<Json<SettlementView>> {
    let stored = state
        .service
        .settlement(Owner::Firm(&admin.firm_id), &id, &settlement_id)
        .await?;
    Ok(Json(SettlementView::new(stored, "/admin/v1")))
}

/// A document of a settlement (`REPORT`, `FEE_NOTE` or `INVOICE`): the PDF, streamed, with
/// `ETag` = its sha256 (`If-None-Match` answers 304).
#[utoipa::path(get, path = "/appointments/{id}/settlements/{settlementId}/documents/{kind}",
    tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("settlementId" = String, Path, description = "Settlement id"),
        ("kind" = String, Path, description = "REPORT, FEE_NOTE or INVOICE"),
        ("If-None-Match" = Option<String>, Header, description = "ETag already held")),
    responses((status = 200, description = "The PDF", content_type = "application/pdf",
            headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn settlement_document(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path((id, settlement_id, kind)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    super::super::content::serve_settlement_document(
        &state,
        Owner::Firm(&admin.firm_id),
        (&id, &settlement_id, &kind),
        &headers,
    )
    .await
}
