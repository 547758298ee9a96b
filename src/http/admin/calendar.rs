//! Calendar feeds of an expert: `GET /admin/v1/experts/{id}/calendar.ics` for the firm, and a
//! revocable secret URL (`/feeds/{token}.ics`) for calendar apps, which cannot send a JWT.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::ics;
use crate::http::state::AppState;
use crate::service::calendar_feeds::ExpertCalendar;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(expert_calendar))
        .routes(routes!(create_feed, revoke_feed))
}

/// The public route of the secret feeds (authenticated by the token in the path).
pub fn feed_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

/// The ICS of an expert's calendar.
fn render(calendar: &ExpertCalendar) -> Response {
    let body = ics::calendar(
        calendar.expert.profile.display_name.as_str(),
        &calendar.appointments,
        &calendar.absences,
        calendar.read_at,
    );
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        body,
    )
        .into_response()
}

/// The expert's appointments and absences as an iCalendar (RFC 5545) file.
#[utoipa::path(get, path = "/experts/{id}/calendar.ics", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    responses((status = 200, content_type = "text/calendar", body = String),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn expert_calendar(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let calendar = state.service.expert_calendar(&admin.firm_id, &id).await?;
    Ok(render(&calendar))
}

/// A secret feed URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    /// Path to subscribe to (shown once; keep it secret).
    pub url: String,
}

/// Mints the expert's secret feed URL, replacing (revoking) the previous one.
#[utoipa::path(post, path = "/experts/{id}/calendar-feed", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    responses((status = 201, body = Feed), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn create_feed(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let token = state
        .service
        .mint_calendar_feed(&admin.firm_id, &id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Feed {
            url: format!("/feeds/{token}.ics"),
        }),
    ))
}

/// Revokes the expert's secret feed URL.
#[utoipa::path(delete, path = "/experts/{id}/calendar-feed", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn revoke_feed(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .service
        .revoke_calendar_feed(&admin.firm_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A calendar app's view of an expert, opened by the secret token (404 once revoked).
#[utoipa::path(get, path = "/feeds/{file}", tag = "admin", security(()),
    params(("file" = String, Path, description = "`{token}.ics`")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = Problem)))]
async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(ApiError::NotFound)?;
    let calendar = state
        .service
        .calendar_by_feed(token)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(render(&calendar))
}
