//! `/admin/v1/experts`: list, create, get, replace, deactivate.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::expert::ExpertProfile;
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiJson, ApiQuery, PageQuery, Paged, from_value};
use crate::http::state::AppState;
use crate::store::Expert;

/// `?externalRef=&limit=&cursor=` of the expert list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ExpertsQuery {
    /// Only the expert with this `externalRef` (an empty page when none has it).
    external_ref: Option<String>,
    /// Page size (default 50, at most 500).
    limit: Option<u32>,
    /// Opaque cursor from the previous page's `nextCursor`.
    cursor: Option<String>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_experts, create_expert))
        .routes(routes!(get_expert, replace_expert, deactivate_expert))
}

/// An expert as returned: the profile plus server-owned fields.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpertView {
    /// Server-owned id.
    id: String,
    /// Profile fields.
    #[serde(flatten)]
    profile: ExpertProfile,
    /// Creation instant.
    created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Expert> for ExpertView {
    fn from(e: Expert) -> Self {
        Self {
            id: e.id,
            profile: e.profile,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// The caller's experts, in creation order.
#[utoipa::path(get, path = "/experts", tag = "admin", security(("firmToken" = [])),
    params(ExpertsQuery),
    responses((status = 200, body = Paged<ExpertView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_experts(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExpertsQuery>,
) -> ApiResult<Json<Paged<ExpertView>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    let page = state
        .service
        .experts(
            &admin.firm_id,
            query.external_ref.as_deref(),
            &page.to_request()?,
        )
        .await?;
    Ok(Json(Paged::from_page(page, ExpertView::from)))
}

/// Creates an expert (`id` is server-owned; `active` defaults to `true`).
#[utoipa::path(post, path = "/experts", tag = "admin", security(("firmToken" = [])),
    request_body = ExpertProfile,
    responses(
        (status = 201, body = ExpertView, headers(("Location" = String))),
        (status = 401, body = Problem),
        (status = 409, body = Problem, description = "external-ref-taken: another expert of the firm has this `externalRef`"),
        (status = 422, body = Problem)))]
async fn create_expert(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiJson(profile): ApiJson<ExpertProfile>,
) -> ApiResult<impl IntoResponse> {
    let expert = state
        .service
        .create_expert(&admin.firm_id, &profile)
        .await?;
    let location = format!("/admin/v1/experts/{}", expert.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(ExpertView::from(expert)),
    ))
}

/// One of the caller's experts.
#[utoipa::path(get, path = "/experts/{id}", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    responses((status = 200, body = ExpertView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_expert(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExpertView>> {
    Ok(Json(
        state.service.expert(&admin.firm_id, &id).await?.into(),
    ))
}

/// Replaces an expert's profile. The body may repeat the expert's own `id` (as returned by
/// `GET`); any other `id` is refused.
#[utoipa::path(put, path = "/experts/{id}", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    request_body = ExpertProfile,
    responses((status = 200, body = ExpertView), (status = 401, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "external-ref-taken: another expert of the firm has this `externalRef`"),
        (status = 422, body = Problem)))]
async fn replace_expert(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<ExpertView>> {
    if let Some(object) = body.as_object_mut() {
        if let Some(given) = object.remove("id") {
            if given.as_str() != Some(id.as_str()) {
                return Err(ApiError::invalid(
                    "/id",
                    "must be the id of the expert in the path",
                ));
            }
        }
    }
    let profile: ExpertProfile = from_value(body)?;
    let expert = state
        .service
        .replace_expert(&admin.firm_id, &id, &profile)
        .await?;
    Ok(Json(expert.into()))
}

/// Deactivates an expert (never offered again; history kept). Idempotent.
#[utoipa::path(delete, path = "/experts/{id}", tag = "admin", security(("firmToken" = [])),
    params(("id" = String, Path, description = "Expert id")),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn deactivate_expert(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.service.deactivate_expert(&admin.firm_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
