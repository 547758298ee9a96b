//! Etape 2: `POST /v1/appointments` (booking), `GET /v1/appointments/{id}`,
//! `GET /v1/appointments?claimsIaRef=`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, Paged};
use crate::http::idempotency::{AnsweredUnderKey, Captured, KeyUse, expired_before_ms};
use crate::http::state::AppState;
use crate::service::{Answered, BookingRequest, Keyed};
use crate::store::Owner;
use crate::wire::AppointmentView;

/// The answer to a booking: 201 with the appointment, its `Location` and `ETag`.
fn booked(view: &AppointmentView) -> Captured {
    Captured::json(
        StatusCode::CREATED,
        serde_json::to_string(view).unwrap_or_default(),
        vec![
            (
                "location".into(),
                format!("/v1/appointments/{}", view.appointment_id),
            ),
            ("etag".into(), view.etag()),
        ],
    )
}

/// Books a slot. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(post, path = "/appointments", tag = "protocol", security(("apiKey" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (24 h)")),
    request_body = BookingRequest,
    responses(
        (status = 201, body = AppointmentView, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem), (status = 409, body = Problem, description = "slot-unavailable, appointment-exists, idempotency-key-in-flight"),
        (status = 410, body = Problem, description = "slot-expired"),
        (status = 422, body = Problem, description = "invalid-slot, idempotency-key-reused, validation-failed")))]
pub async fn book(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    key_use: Option<Extension<KeyUse>>,
    ApiJson(request): ApiJson<BookingRequest>,
) -> Response {
    let (key_client, key) = match key_use.as_deref() {
        Some(KeyUse::Claimed { client_id, key } | KeyUse::Fresh { client_id, key, .. }) => {
            (client_id.as_str(), key.as_str())
        }
        None => ("", ""),
    };
    let answer = |view: &AppointmentView| booked(view).record(key_client, key);
    let refusal =
        |err: &crate::service::Error| Captured::error(&refusal_error(err)).record(key_client, key);
    let now = state.service.clock.now();
    let keyed = match key_use.as_deref() {
        None => Keyed::None,
        Some(KeyUse::Claimed { .. }) => Keyed::Claimed { answer: &answer },
        Some(KeyUse::Fresh { request_hash, .. }) => Keyed::Fresh {
            request_hash,
            expired_before_ms: expired_before_ms(now),
            answer: &answer,
            refusal: &refusal,
        },
    };
    let fresh = matches!(keyed, Keyed::Fresh { .. });
    let bookings = &state.service.metrics.bookings;
    let refused = |err: crate::service::Error| {
        let err = ApiError::from(err);
        bookings.refused(err.code());
        err.into_response()
    };
    let mut response = match state.service.book(&client.id, &request, keyed).await {
        Ok(Answered::Booked(view)) => {
            bookings.booked();
            booked(&view).into_response(false)
        }
        Ok(Answered::Refused(err)) => refused(err),
        Err(err) => return refused(err),
    };
    if fresh {
        response.extensions_mut().insert(AnsweredUnderKey);
    }
    response
}

/// The answer to a refusal a booking records under its key: the claim booked, or the slot
/// taken.
fn refusal_error(err: &crate::service::Error) -> ApiError {
    match err {
        crate::service::Error::AppointmentExists(id) => ApiError::AppointmentExists(id.clone()),
        _ => ApiError::SlotUnavailable,
    }
}

/// One appointment booked by the caller.
#[utoipa::path(get, path = "/appointments/{id}", tag = "protocol", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_appointment(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let appointment = state
        .service
        .appointment(Owner::Client(&client.id), &id)
        .await?;
    let view = state.service.appointment_view(&appointment).await?;
    Ok(([(header::ETAG, view.etag())], Json(view)))
}

/// `?claimsIaRef=` of the appointment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ByRefQuery {
    /// Claims IA reference.
    pub claims_ia_ref: String,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The caller's appointments for a claim (all statuses).
#[utoipa::path(get, path = "/appointments", tag = "protocol", security(("apiKey" = [])),
    params(ByRefQuery),
    responses((status = 200, body = Paged<AppointmentView>), (status = 401, body = Problem)))]
pub async fn list_by_ref(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ByRefQuery>,
) -> ApiResult<Json<Paged<AppointmentView>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .to_request()?;
    let page = state
        .service
        .appointments_by_ref(&client.id, &query.claims_ia_ref, &page)
        .await?;
    Ok(Json(Paged::from_page(page, |view| view)))
}
