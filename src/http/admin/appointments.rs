//! `/admin/v1/appointments`: a firm's appointments by expert, period and status.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::appointment::AppointmentStatus;
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, Paged};
use crate::http::protocol::rendered;
use crate::http::state::AppState;
use crate::service::Destination;
use crate::service::appointments::CancellationRequest;
use crate::store::{AppointmentFilter, Owner};
use crate::wire::AppointmentView;

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
        .service
        .firm_appointments(&admin.firm_id, &filter, &page)
        .await?;
    Ok(Json(Paged::from_page(page, |view| view)))
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
    let appointment = state
        .service
        .appointment(Owner::Firm(&admin.firm_id), &id)
        .await?;
    rendered(&state, &appointment).await
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
    let appointment = state
        .service
        .cancel(Owner::Firm(&admin.firm_id), &id, request)
        .await?;
    rendered(&state, &appointment).await
}

/// Marks one of the caller's appointments completed, once it has started; Claims IA is
/// told by an `appointment.completed` event. Completing again returns the same result.
#[utoipa::path(post, path = "/appointments/{id}/completion", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AppointmentView), (status = 401, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "appointment-not-started, appointment-not-active")))]
async fn complete_appointment(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let appointment = state.service.complete(&admin.firm_id, &id).await?;
    rendered(&state, &appointment).await
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
    let destination = Destination::Chosen {
        start: request.start.to_utc(),
        expert_id: request.expert_id,
    };
    let appointment = state
        .service
        .reschedule(Owner::Firm(&admin.firm_id), &id, destination)
        .await?;
    rendered(&state, &appointment).await
}
