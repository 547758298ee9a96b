//! `/admin/v1/appointments`: a firm's appointments by expert, period and status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::appointment::AppointmentStatus;
use crate::domain::appointment::{Actor, Cancellation};
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::extract::{ApiQuery, PageQuery, Paged};
use crate::http::protocol::{
    AppointmentView, CancellationRequest, captured_view, page_of_views, slot_free, view_of,
};
use crate::http::state::AppState;
use crate::store::{AppointmentFilter, Move, Owner, Schedule, StoreError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_appointments))
        .routes(routes!(get_appointment))
        .routes(routes!(cancel_appointment))
        .routes(routes!(complete_appointment))
        .routes(routes!(reschedule_appointment))
}

/// Filters of the firm's appointment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AppointmentQuery {
    /// Only this expert.
    pub expert_id: Option<String>,
    /// Starting at or after (RFC 3339).
    pub from: Option<DateTime<FixedOffset>>,
    /// Starting before (RFC 3339).
    pub to: Option<DateTime<FixedOffset>>,
    /// Only this status.
    pub status: Option<AppointmentStatus>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The caller's appointments, in start order.
#[utoipa::path(get, path = "/appointments", tag = "admin", security(("firmToken" = [])),
    params(AppointmentQuery),
    responses((status = 200, body = Paged<AppointmentView>), (status = 401, body = Problem)))]
async fn list_appointments(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AppointmentQuery>,
) -> ApiResult<Json<Paged<AppointmentView>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .to_request()?;
    let filter = AppointmentFilter {
        expert_id: query.expert_id,
        from: query.from.map(|t| t.to_utc()),
        to: query.to.map(|t| t.to_utc()),
        status: query.status,
    };
    let page = state
        .store
        .firm_appointments(&admin.firm_id, &filter, &page)
        .await?;
    Ok(Json(page_of_views(&state, page).await?))
}

/// One of the caller's appointments.
#[utoipa::path(get, path = "/appointments/{id}", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_appointment(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let appointment = state.store.firm_appointment(&admin.firm_id, &id).await?;
    let view = view_of(&state, &appointment).await?;
    Ok(([(header::ETAG, view.etag())], Json(view)))
}

/// Cancels one of the caller's appointments (the expert cannot come, say). Claims IA is told
/// by an `appointment.cancelled` event. Cancelling again returns the same result.
#[utoipa::path(post, path = "/appointments/{id}/cancellation", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    request_body = CancellationRequest,
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_appointment(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CancellationRequest>,
) -> ApiResult<impl IntoResponse> {
    let cancellation = Cancellation {
        reason: request.reason,
        comment: request.comment,
        by: Actor::Firm,
        at: Utc::now(),
    };
    let appointment = state
        .store
        .cancel_appointment(Owner::Firm(&admin.firm_id), &id, &cancellation)
        .await?;
    state.calendars.invalidate(&appointment.expert_id);
    tracing::info!(
        firm_id = admin.firm_id,
        appointment_id = id,
        "appointment cancelled by the firm"
    );
    captured_view(&state, &appointment).await
}

/// Marks one of the caller's appointments completed; Claims IA is told by an
/// `appointment.completed` event. Completing again returns the same result.
#[utoipa::path(post, path = "/appointments/{id}/completion", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn complete_appointment(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let appointment = state
        .store
        .complete_appointment(&admin.firm_id, &id)
        .await?;
    state.calendars.invalidate(&appointment.expert_id);
    tracing::info!(
        firm_id = admin.firm_id,
        appointment_id = id,
        "appointment completed"
    );
    captured_view(&state, &appointment).await
}

/// A move decided by the firm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FirmRescheduleRequest {
    /// New start (RFC 3339); the length is the expert's duration for the expertise type.
    pub start: DateTime<FixedOffset>,
    /// Another of the firm's experts (default: the same one).
    #[serde(default)]
    pub expert_id: Option<String>,
}

/// Moves one of the caller's CONFIRMED appointments to a new time (and possibly another of
/// its experts), checked like a booking: working hours, absences, other appointments,
/// travel, daily maximum, notice, grid. Atomic: 409 `slot-unavailable` leaves it untouched.
/// Claims IA is told by an `appointment.rescheduled` event.
#[utoipa::path(post, path = "/appointments/{id}/reschedule", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    request_body = FirmRescheduleRequest,
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn reschedule_appointment(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<FirmRescheduleRequest>,
) -> ApiResult<impl IntoResponse> {
    let current = state.store.firm_appointment(&admin.firm_id, &id).await?;
    let expert_id = request
        .expert_id
        .unwrap_or_else(|| current.expert_id.clone());
    let expert = match state.store.expert(&admin.firm_id, &expert_id).await {
        Err(StoreError::NotFound) => {
            return Err(ApiError::invalid(
                "/expertId",
                "no such expert in this firm",
            ));
        }
        other => other?,
    };
    let start = request.start.to_utc();
    let minutes = expert.profile.durations_minutes.get(current.expertise_type);
    let end = start + chrono::Duration::minutes(i64::from(minutes));
    let to = Move {
        expert_id,
        firm_id: admin.firm_id.clone(),
        start,
        end,
        mode: current.mode,
        expertise_type: current.expertise_type,
        place: current.place.clone(),
    };
    let now = Utc::now();
    let settings = state.config.engine.settings();
    let geo = current.place.as_ref().and_then(|p| p.geo);
    let expertise = current.expertise_type;
    let recheck =
        move |schedule: &Schedule| slot_free(schedule, expertise, geo, start, end, now, &settings);
    let outcome = state
        .store
        .reschedule(Owner::Firm(&admin.firm_id), &id, &to, &recheck)
        .await;
    state.calendars.invalidate(&current.expert_id);
    state.calendars.invalidate(&to.expert_id);
    let appointment = outcome?;
    tracing::info!(
        firm_id = admin.firm_id,
        appointment_id = id,
        expert_id = appointment.expert_id,
        start = %appointment.start,
        "appointment rescheduled by the firm"
    );
    captured_view(&state, &appointment).await
}
