//! `/admin/v1/experts/{id}/absences`: list, create, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::render_instant;
use crate::domain::firm::{NewAbsence, NewAbsenceInput};
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, Paged};
use crate::http::state::AppState;
use crate::store::Absence;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_absences, create_absence))
        .routes(routes!(delete_absence))
}

/// An absence as returned, its instants in the expert's time zone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AbsenceView {
    /// Server-owned id.
    id: String,
    /// Expert concerned.
    expert_id: String,
    /// Start (RFC 3339, expert's time zone).
    start: String,
    /// End, exclusive.
    end: String,
    /// Why.
    reason: Option<String>,
    /// Creation instant.
    created_at: chrono::DateTime<chrono::Utc>,
}

impl AbsenceView {
    fn new(absence: Absence, tz: chrono_tz::Tz) -> Self {
        Self {
            id: absence.id,
            expert_id: absence.expert_id,
            start: render_instant(absence.start, tz),
            end: render_instant(absence.end, tz),
            reason: absence.reason,
            created_at: absence.created_at,
        }
    }
}

/// An expert's absences, in creation order.
#[utoipa::path(get, path = "/experts/{id}/absences", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id"), PageQuery),
    responses((status = 200, body = Paged<AbsenceView>), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_absences(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<AbsenceView>>> {
    let request = query.to_request()?;
    let (page, expert) = state
        .service
        .absences(&admin.firm_id, &id, &request)
        .await?;
    let tz = expert.profile.time_zone.tz();
    Ok(Json(Paged::from_page(page, |a| AbsenceView::new(a, tz))))
}

/// `?force=true` on absence creation.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ForceQuery {
    /// Cancel the CONFIRMED appointments inside the absence (reason `EXPERT_UNAVAILABLE`,
    /// each published as an `appointment.cancelled` event) instead of answering 409.
    force: Option<bool>,
}

/// Records an absence `[start, end)` of an expert. CONFIRMED appointments inside it make
/// this a 409 `absence-over-appointments` listing them, unless `?force=true`.
#[utoipa::path(post, path = "/experts/{id}/absences", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id"), ForceQuery),
    request_body = NewAbsenceInput,
    responses((status = 201, body = AbsenceView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_absence(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ForceQuery>,
    ApiJson(input): ApiJson<NewAbsenceInput>,
) -> ApiResult<impl IntoResponse> {
    let absence = NewAbsence::try_from(input)?;
    let force = query.force.unwrap_or(false);
    let (absence, expert) = state
        .service
        .add_absence(&admin.firm_id, &id, &absence, force)
        .await?;
    let location = format!("/admin/v1/experts/{id}/absences/{}", absence.id);
    let view = AbsenceView::new(absence, expert.profile.time_zone.tz());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// Deletes an absence.
#[utoipa::path(delete, path = "/experts/{id}/absences/{absenceId}", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id"),
           ("absenceId" = String, Path, description = "Absence id")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_absence(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path((id, absence_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .service
        .remove_absence(&admin.firm_id, &id, &absence_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
