//! Changes after booking: `PATCH /v1/appointments/{id}`, `.../cancellation`,
//! `.../reschedule`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::text::{Email, FreeText, Name, Phone, Reference};
use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::service::Destination;
use crate::service::appointments::CancellationRequest;
use crate::store::{Appointment, Owner};
use crate::wire::AppointmentView;

/// A reschedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RescheduleRequest {
    /// A `slotId` from a new slot search.
    pub slot_id: String,
}

/// 200 with the appointment and its `ETag`.
pub(crate) async fn rendered(
    state: &AppState,
    appointment: &Appointment,
) -> ApiResult<impl IntoResponse + use<>> {
    let view = state.service.appointment_view(appointment).await?;
    Ok(([(header::ETAG, view.etag())], Json(view)))
}

/// Cancels an appointment; the time is freed. Cancelling again returns the same result.
#[utoipa::path(post, path = "/appointments/{id}/cancellation", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (24 h)")),
    request_body = CancellationRequest,
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "appointment-not-active (completed)")))]
pub async fn cancel(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CancellationRequest>,
) -> ApiResult<impl IntoResponse> {
    let appointment = state
        .service
        .cancel(Owner::Client(&client.id), &id, request)
        .await?;
    rendered(&state, &appointment).await
}

/// Moves an appointment to a new slot (same id, possibly another expert, `version + 1`).
/// Atomic: when the new slot is unavailable, 409 and the appointment is untouched.
#[utoipa::path(post, path = "/appointments/{id}/reschedule", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (24 h)")),
    request_body = RescheduleRequest,
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 410, body = Problem),
        (status = 422, body = Problem)))]
pub async fn reschedule(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RescheduleRequest>,
) -> ApiResult<impl IntoResponse> {
    let destination = Destination::Offer(request.slot_id);
    let appointment = state
        .service
        .reschedule(Owner::Client(&client.id), &id, destination)
        .await?;
    rendered(&state, &appointment).await
}

/// A JSON merge patch (RFC 7396) of an appointment: the fields to change, `null` removing
/// one. Only the documented schema; the handler merges the JSON itself.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct AppointmentPatch {
    /// Claim reference.
    claim_ref: Option<Reference>,
    /// Comment.
    comment: Option<FreeText>,
    /// Changes to the contact (a new contact needs a `name`).
    contact: Option<ContactPatch>,
}

/// Changes to an appointment's contact, `null` removing a field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ContactPatch {
    /// Name.
    name: Option<Name>,
    /// Phone number.
    phone: Option<Phone>,
    /// E-mail address.
    email: Option<Email>,
}

/// The version named by `If-Match` (`"3"`, `W/"3"`), `None` for absent or `*`. A tag this
/// server did not issue names no version: the change is refused (412) once the request is
/// otherwise found valid.
pub(crate) fn if_match(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(header::IF_MATCH)?;
    let Ok(text) = value.to_str().map(str::trim) else {
        return Some(NO_VERSION);
    };
    if text == "*" {
        return None;
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    Some(tag.parse().ok().filter(|v| *v >= 0).unwrap_or(NO_VERSION))
}

/// A version nothing has (versions and change ids are never negative).
const NO_VERSION: i64 = -1;

/// Changes `contact`, `comment` or `claimRef` (JSON merge patch; `null` removes). Send
/// `If-Match` with the `ETag` you read to refuse to overwrite someone else's change (412).
#[utoipa::path(patch, path = "/appointments/{id}", tag = "protocol", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    request_body(content = AppointmentPatch, content_type = "application/merge-patch+json"),
    responses((status = 200, body = AppointmentView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn patch(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    // The body is checked before the precondition: a malformed request is refused as such.
    let Value::Object(patch) = body else {
        return Err(ApiError::invalid("", "a merge patch must be a JSON object"));
    };
    let expected = if_match(&headers);
    let appointment = state
        .service
        .patch_details(&client.id, &id, expected, &patch)
        .await?;
    rendered(&state, &appointment).await
}
