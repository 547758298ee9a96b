//! Calendar feeds of an expert: `GET /admin/v1/experts/{id}/calendar.ics` for the firm, and a
//! revocable secret URL (`/feeds/{token}.ics`) for calendar apps, which cannot send a JWT.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{random_token, sha256};
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::ics;
use crate::http::state::AppState;
use crate::store::{AppointmentFilter, PageRequest};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(expert_calendar))
        .routes(routes!(create_feed, revoke_feed))
}

/// The public route of the secret feeds (authenticated by the token in the path).
pub fn feed_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

/// Most appointments or absences in one feed (the most recent window).
const FEED_CAP: u32 = 2000;

/// The ICS of one of a firm's experts: 60 days back, 400 days ahead.
async fn render(state: &AppState, firm_id: &str, expert_id: &str) -> ApiResult<Response> {
    let expert = state.store.expert(firm_id, expert_id).await?;
    let now = state.service.clock.now();
    let filter = AppointmentFilter {
        expert_id: Some(expert_id.to_owned()),
        from: Some(now - Duration::days(60)),
        to: Some(now + Duration::days(400)),
        status: None,
    };
    let page = PageRequest {
        after: None,
        limit: FEED_CAP,
    };
    let appointments = state
        .store
        .firm_appointments(firm_id, &filter, &page)
        .await?
        .items;
    let absences = state
        .store
        .list_absences(firm_id, expert_id, &page)
        .await?
        .items;
    let body = ics::calendar(
        expert.profile.display_name.as_str(),
        &appointments,
        &absences,
        now,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        body,
    )
        .into_response())
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
    render(&state, &admin.firm_id, &id).await
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
    let token = random_token(32);
    state
        .store
        .set_calendar_feed(&admin.firm_id, &id, &sha256(&token))
        .await?;
    tracing::info!(
        firm_id = admin.firm_id,
        expert_id = id,
        "calendar feed minted"
    );
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
        .store
        .revoke_calendar_feed(&admin.firm_id, &id)
        .await?;
    tracing::info!(
        firm_id = admin.firm_id,
        expert_id = id,
        "calendar feed revoked"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A calendar app's view of an expert, opened by the secret token (404 once revoked).
#[utoipa::path(get, path = "/feeds/{file}", tag = "admin", security(()),
    params(("file" = String, Path, description = "`{token}.ics`")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = Problem)))]
async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").ok_or(ApiError::NotFound)?;
    let (firm_id, expert_id) = state
        .store
        .calendar_feed(&sha256(token))
        .await?
        .ok_or(ApiError::NotFound)?;
    render(&state, &firm_id, &expert_id).await
}
