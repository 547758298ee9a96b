//! Changes after booking: `PATCH /v1/appointments/{id}`, `.../cancellation`,
//! `.../reschedule`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::appointments::{offered, recheck_for, view_of};
use super::views::AppointmentView;
use crate::domain::appointment::{Actor, Cancellation, CancellationReason, Contact};
use crate::domain::text::{FreeText, Reference};
use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, from_value};
use crate::http::idempotency::{self, Captured};
use crate::http::state::AppState;
use crate::store::{Appointment, Move, Owner, StoreError};

/// A cancellation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancellationRequest {
    /// Why.
    pub reason: CancellationReason,
    /// Free text.
    #[serde(default)]
    pub comment: Option<FreeText>,
}

/// A reschedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RescheduleRequest {
    /// A `slotId` from a new slot search.
    pub slot_id: String,
}

/// 200 with the appointment, its `ETag`, captured for idempotent replay.
pub(crate) async fn captured_view(
    state: &AppState,
    appointment: &Appointment,
) -> ApiResult<Captured> {
    let view = view_of(state, appointment).await?;
    let body = serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Captured::json(
        StatusCode::OK,
        body,
        vec![("etag".into(), view.etag())],
    ))
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
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let key = idempotency::key_of(&headers)?;
    let request: CancellationRequest = from_value(body.clone())?;
    let path = format!("/v1/appointments/{id}/cancellation");
    idempotency::run(
        &state,
        &client.id,
        key,
        || idempotency::fingerprint("POST", &path, &body),
        |_| async {
            let cancellation = Cancellation {
                reason: request.reason,
                comment: request.comment.clone(),
                by: Actor::ClaimsIa,
                at: Utc::now(),
            };
            let appointment =
                state.store.cancel_appointment(Owner::Client(&client.id), &id, &cancellation).await?;
            state.calendars.invalidate(&appointment.expert_id);
            tracing::info!(appointment_id = id, reason = ?request.reason, "appointment cancelled by Claims IA");
            captured_view(&state, &appointment).await
        },
    )
    .await
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
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let key = idempotency::key_of(&headers)?;
    let request: RescheduleRequest = from_value(body.clone())?;
    let path = format!("/v1/appointments/{id}/reschedule");
    idempotency::run(
        &state,
        &client.id,
        key,
        || idempotency::fingerprint("POST", &path, &body),
        |_| async {
            let now = Utc::now();
            let (offer, snapshot, index) = offered(&state, &client, &request.slot_id, now).await?;
            let (start, end) = offer.times().ok_or(ApiError::InvalidSlot)?;
            let to = Move {
                expert_id: offer.expert_id.clone(),
                firm_id: snapshot.firm_ids[index].clone(),
                start,
                end,
                mode: offer.mode(),
                expertise_type: offer.expertise_type,
                place: offer.place.clone(),
            };
            let recheck = recheck_for(offer, now, state.config.engine.settings());
            let previous = state.store.client_appointment(&client.id, &id).await?;
            let outcome = state
                .store
                .reschedule(Owner::Client(&client.id), &id, &to, &recheck)
                .await;
            // Both calendars changed (or, on a refusal, the new one proved stale).
            state.calendars.invalidate(&previous.expert_id);
            state.calendars.invalidate(&to.expert_id);
            let appointment = outcome?;
            tracing::info!(
                appointment_id = id,
                expert_id = to.expert_id,
                "appointment rescheduled"
            );
            captured_view(&state, &appointment).await
        },
    )
    .await
}

/// The version named by `If-Match` (`"3"`, `W/"3"`), `None` for absent or `*`.
pub(crate) fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse()
        .map(Some)
        .map_err(|_| ApiError::PreconditionFailed)
}

/// New values of the editable details after a JSON merge patch (RFC 7386).
struct Details {
    claim_ref: Option<String>,
    contact: Option<Contact>,
    comment: Option<String>,
}

fn merge_details(
    current: &Appointment,
    patch: &serde_json::Map<String, Value>,
) -> ApiResult<Details> {
    let mut details = Details {
        claim_ref: current.claim_ref.clone(),
        contact: current.contact.clone(),
        comment: current.comment.clone(),
    };
    for (field, value) in patch {
        let pointer = format!("/{field}");
        let text = |value: &Value| -> ApiResult<Option<String>> {
            match value {
                Value::Null => Ok(None),
                other => Ok(Some(
                    other
                        .as_str()
                        .ok_or_else(|| ApiError::invalid(&pointer, "must be a string or null"))?
                        .to_owned(),
                )),
            }
        };
        match field.as_str() {
            "claimRef" => {
                details.claim_ref = text(value)?
                    .map(|r| Reference::parse(&r).map(String::from))
                    .transpose()
                    .map_err(|e| ApiError::invalid(&pointer, e.to_string()))?;
            }
            "comment" => {
                details.comment = text(value)?
                    .map(|c| FreeText::parse(&c).map(String::from))
                    .transpose()
                    .map_err(|e| ApiError::invalid(&pointer, e.to_string()))?;
            }
            "contact" => {
                details.contact = match value {
                    Value::Null => None,
                    Value::Object(changes) => {
                        let mut merged = match &details.contact {
                            Some(contact) => serde_json::to_value(contact)
                                .map_err(|e| ApiError::Internal(e.into()))?,
                            None => Value::Object(serde_json::Map::new()),
                        };
                        for (k, v) in changes {
                            if v.is_null() {
                                merged.as_object_mut().map(|m| m.remove(k));
                            } else if let Some(m) = merged.as_object_mut() {
                                m.insert(k.clone(), v.clone());
                            }
                        }
                        Some(from_value::<Contact>(merged).map_err(|err| match err {
                            ApiError::Validation(mut errors) => {
                                for e in &mut errors {
                                    e.pointer = format!("/contact{}", e.pointer);
                                }
                                ApiError::Validation(errors)
                            }
                            other => other,
                        })?)
                    }
                    _ => return Err(ApiError::invalid(&pointer, "must be an object or null")),
                };
            }
            _ => {
                return Err(ApiError::invalid(
                    &pointer,
                    "only contact, comment and claimRef can change",
                ));
            }
        }
    }
    Ok(details)
}

/// Changes `contact`, `comment` or `claimRef` (JSON merge patch; `null` removes). Send
/// `If-Match` with the `ETag` you read to refuse to overwrite someone else's change (412).
#[utoipa::path(patch, path = "/appointments/{id}", tag = "protocol", security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the version read")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
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
    let expected = if_match(&headers)?;
    let Value::Object(patch) = body else {
        return Err(ApiError::invalid("", "a merge patch must be a JSON object"));
    };
    // Without If-Match a concurrent change is merged again, a few times at most.
    for _ in 0..3 {
        let current = state.store.client_appointment(&client.id, &id).await?;
        if expected.is_some_and(|v| v != current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        let details = merge_details(&current, &patch)?;
        let edit = move |a: &mut Appointment| {
            a.claim_ref.clone_from(&details.claim_ref);
            a.contact.clone_from(&details.contact);
            a.comment.clone_from(&details.comment);
        };
        match state
            .store
            .update_details(&client.id, &id, Some(current.version), &edit)
            .await
        {
            Ok(appointment) => {
                let view = view_of(&state, &appointment).await?;
                return Ok(([(header::ETAG, view.etag())], axum::Json(view)));
            }
            Err(StoreError::Conflict {
                constraint: "version",
            }) if expected.is_none() => {}
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::PreconditionFailed)
}
