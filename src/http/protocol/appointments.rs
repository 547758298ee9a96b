//! Etape 2: `POST /v1/appointments` (booking), `GET /v1/appointments/{id}`,
//! `GET /v1/appointments?claimsIaRef=`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::slot_token::{SlotOffer, SlotTokenError};
use super::views::{AppointmentView, ExpertRef};
use crate::domain::appointment::{AppointmentStatus, Contact};
use crate::domain::text::{FreeText, Reference};
use crate::engine::Booked;
use crate::http::auth::ClaimsIaClient;
use crate::http::directory::Snapshot;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, Paged, from_value};
use crate::http::idempotency::{self, Captured};
use crate::http::state::AppState;
use crate::store::{Appointment, BookError, BookKey};

/// A booking (Etape 2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookingRequest {
    /// A `slotId` from a slot search.
    pub slot_id: String,
    /// Claims IA reference of the claim (one CONFIRMED appointment each).
    pub claims_ia_ref: Reference,
    /// Insurer's claim reference.
    #[serde(default)]
    pub claim_ref: Option<Reference>,
    /// Person to call.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Free text (access code, floor…).
    #[serde(default)]
    pub comment: Option<FreeText>,
}

/// Longest accepted slot id.
const MAX_SLOT_ID: usize = 4096;

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
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let key = idempotency::key_of(&headers)?;
    let request: BookingRequest = from_value(body.clone())?;
    let request_hash = key
        .as_ref()
        .map(|_| idempotency::fingerprint("POST", "/v1/appointments", &body));
    if let (Some(key), Some(request_hash)) = (key.as_deref(), request_hash.as_deref()) {
        // The common case, a key never seen: claimed and answered in the booking's own
        // transaction. Anything else goes the general way below, which claims it first.
        let keying = Keying::Fresh { key, request_hash };
        if let Ok(captured) = book_once(&state, &client, &request, keying).await {
            return Ok(captured.into_response(false));
        }
    }
    idempotency::run(
        &state,
        &client.id,
        key,
        || request_hash.unwrap_or_default(),
        |key| {
            let (state, client, request) = (&state, &client, &request);
            async move {
                let keying = key.as_deref().map_or(Keying::None, Keying::Claimed);
                book_once(state, client, request, keying).await
            }
        },
    )
    .await
}

/// How a booking attempt treats the request's `Idempotency-Key`.
#[derive(Debug, Clone, Copy)]
enum Keying<'a> {
    /// There is none.
    None,
    /// Claimed already: a success is recorded under it in the booking transaction.
    Claimed(&'a str),
    /// Not claimed yet: the booking transaction claims it (see [`BookKey::Fresh`]). `Ok`
    /// is then an answer recorded under the key, a success or a refusal; `Err` an answer
    /// that is not, the key left unclaimed.
    Fresh { key: &'a str, request_hash: &'a str },
}

/// One booking attempt. A success is recorded under the idempotency key inside the booking
/// transaction itself, so a crash can never leave a booking without its replayable answer.
async fn book_once(
    state: &AppState,
    client: &ClaimsIaClient,
    request: &BookingRequest,
    keying: Keying<'_>,
) -> Result<Captured, ApiError> {
    let now = Utc::now();
    let (offer, snapshot, index) = offered(state, client, &request.slot_id, now).await?;
    let entry = snapshot.directory.expert(index);
    let appointment = new_appointment(&offer, request, &client.id, &snapshot.firm_ids[index], now)?;
    let expert = ExpertRef {
        id: entry.id.clone(),
        display_name: entry.profile.display_name.to_string(),
        firm: snapshot.firm_names[index].clone(),
    };
    let view = AppointmentView::new(&appointment, expert, entry.profile.time_zone.tz());
    let captured = Captured::json(
        StatusCode::CREATED,
        serde_json::to_string(&view).map_err(|e| ApiError::Internal(e.into()))?,
        vec![
            (
                "location".into(),
                format!("/v1/appointments/{}", appointment.id),
            ),
            ("etag".into(), view.etag()),
        ],
    );
    let key = match keying {
        Keying::None => None,
        Keying::Claimed(key) | Keying::Fresh { key, .. } => Some(key),
    };
    let record = key.map(|k| captured.record(&client.id, k));
    let refusal = |err: &BookError| {
        Captured::error(&refusal_error(err)).record(&client.id, key.unwrap_or_default())
    };
    let book_key = match (keying, record.as_ref()) {
        (Keying::Claimed(_), Some(record)) => Some(BookKey::Claimed(record)),
        (Keying::Fresh { request_hash, .. }, Some(answer)) => Some(BookKey::Fresh {
            answer,
            request_hash,
            expired_before_ms: idempotency::expired_before_ms(now),
            refusal: &refusal,
        }),
        _ => None,
    };
    let recheck = Arc::new(recheck_for(offer, now, state.config.engine.settings()));
    let outcome = state.store.book(&appointment, recheck, book_key).await;
    match outcome {
        Ok(()) => {
            state.calendars.booked(
                &appointment.expert_id,
                Booked {
                    start: appointment.start,
                    end: appointment.end,
                    place: appointment.place.as_ref().and_then(|p| p.geo),
                },
            );
            tracing::info!(
                appointment_id = appointment.id,
                expert_id = appointment.expert_id,
                claims_ia_ref = appointment.claims_ia_ref,
                "appointment booked"
            );
            Ok(captured)
        }
        Err(err) => {
            // Refused because the time was taken, or failed: the cached calendar is old.
            state.calendars.invalidate(&appointment.expert_id);
            match err {
                BookError::SlotUnavailable | BookError::AppointmentExists(_)
                    if matches!(keying, Keying::Fresh { .. }) =>
                {
                    Ok(Captured::error(&refusal_error(&err)))
                }
                err => Err(err.into()),
            }
        }
    }
}

/// The answer to a booking refused by the store (the slot taken, the claim booked).
fn refusal_error(err: &BookError) -> ApiError {
    match err {
        BookError::AppointmentExists(id) => ApiError::AppointmentExists(id.clone()),
        _ => ApiError::SlotUnavailable,
    }
}

/// The offer behind a slot id made to this client, with the directory snapshot holding its
/// expert and the expert's index there; or why not.
pub(super) async fn offered(
    state: &AppState,
    client: &ClaimsIaClient,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<(SlotOffer, Arc<Snapshot>, usize), ApiError> {
    let offer = verify_offer(state, client, slot_id, now)?;
    let (snapshot, index) = state
        .directory
        .holding(
            state.store.as_ref(),
            state.config.search_cache(),
            &offer.expert_id,
        )
        .await?;
    let index = index.ok_or(ApiError::SlotUnavailable)?;
    Ok((offer, snapshot, index))
}

/// The offer behind a slot id made to this client, or why not.
fn verify_offer(
    state: &AppState,
    client: &ClaimsIaClient,
    slot_id: &str,
    now: DateTime<Utc>,
) -> Result<SlotOffer, ApiError> {
    if slot_id.len() > MAX_SLOT_ID {
        return Err(ApiError::InvalidSlot);
    }
    state
        .slots
        .verify(slot_id, &client.id, now)
        .map_err(|e| match e {
            SlotTokenError::Invalid => ApiError::InvalidSlot,
            SlotTokenError::Expired => ApiError::SlotExpired,
        })
}

/// The booking-time check of an offered slot against a schedule read in the transaction:
/// the expert is still active and the slot still free by the engine's rules.
pub(super) fn recheck_for(
    offer: SlotOffer,
    now: DateTime<Utc>,
    settings: crate::engine::Settings,
) -> impl Fn(&crate::store::Schedule) -> bool + Send + Sync {
    let geo = offer.place.as_ref().and_then(|p| p.geo);
    move |schedule| {
        offer.times().is_some_and(|(start, end)| {
            slot_free(
                schedule,
                offer.expertise_type,
                geo,
                start,
                end,
                now,
                &settings,
            )
        })
    }
}

/// Whether `[start, end)` is still bookable in `schedule` (read in the writing
/// transaction): the expert is active and the engine's rules allow the slot.
pub(crate) fn slot_free(
    schedule: &crate::store::Schedule,
    expertise: crate::domain::ExpertiseType,
    geo: Option<crate::domain::GeoPoint>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &crate::engine::Settings,
) -> bool {
    schedule.expert.profile.active
        && crate::engine::check_slot(
            &schedule.expert.profile,
            &super::calendar(&schedule.absences, &schedule.appointments),
            expertise,
            geo.as_ref(),
            start,
            end,
            now,
            settings,
        )
        .is_ok()
}

fn new_appointment(
    offer: &SlotOffer,
    request: &BookingRequest,
    client_id: &str,
    firm_id: &str,
    now: DateTime<Utc>,
) -> ApiResult<Appointment> {
    let (start, end) = offer.times().ok_or(ApiError::InvalidSlot)?;
    Ok(Appointment {
        id: uuid::Uuid::now_v7().to_string(),
        firm_id: firm_id.to_owned(),
        expert_id: offer.expert_id.clone(),
        client_id: client_id.to_owned(),
        status: AppointmentStatus::Confirmed,
        version: 1,
        start,
        end,
        mode: offer.mode(),
        expertise_type: offer.expertise_type,
        place: offer.place.clone(),
        claims_ia_ref: request.claims_ia_ref.to_string(),
        claim_ref: request.claim_ref.as_ref().map(ToString::to_string),
        contact: request.contact.clone(),
        comment: request.comment.as_ref().map(ToString::to_string),
        cancellation: None,
        // Milliseconds only, as stored, so the first answer and later reads agree.
        created_at: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
        updated_at: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
    })
}

/// Renders a stored appointment with its expert.
pub async fn view_of(state: &AppState, appointment: &Appointment) -> ApiResult<AppointmentView> {
    let expert = state
        .store
        .expert(&appointment.firm_id, &appointment.expert_id)
        .await?;
    let firm = state.store.firm(&appointment.firm_id).await?;
    let expert_ref = ExpertRef {
        id: expert.id,
        display_name: expert.profile.display_name.to_string(),
        firm: firm.profile.name.to_string(),
    };
    Ok(AppointmentView::new(
        appointment,
        expert_ref,
        expert.profile.time_zone.tz(),
    ))
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
    let appointment = state.store.client_appointment(&client.id, &id).await?;
    let view = view_of(&state, &appointment).await?;
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
        .store
        .client_appointments_by_ref(&client.id, &query.claims_ia_ref, &page)
        .await?;
    Ok(Json(page_of_views(&state, page).await?))
}

/// Renders a page of appointments (each with its expert).
pub async fn page_of_views(
    state: &AppState,
    page: crate::store::Page<Appointment>,
) -> ApiResult<Paged<AppointmentView>> {
    let mut items = Vec::with_capacity(page.items.len());
    for appointment in &page.items {
        items.push(view_of(state, appointment).await?);
    }
    Ok(Paged {
        items,
        next_cursor: page
            .next_after
            .as_deref()
            .map(crate::http::extract::encode_cursor),
    })
}
