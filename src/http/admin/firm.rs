//! `GET`/`PUT /admin/v1/firm`: the caller's own firm.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::firm::FirmProfile;
use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiJson;
use crate::http::state::AppState;
use crate::store::Firm;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_firm, put_firm))
}

/// A firm as returned.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FirmView {
    /// Server-owned id.
    id: String,
    /// Profile fields.
    #[serde(flatten)]
    profile: FirmProfile,
    /// Creation instant.
    created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Firm> for FirmView {
    fn from(firm: Firm) -> Self {
        Self {
            id: firm.id,
            profile: firm.profile,
            created_at: firm.created_at,
            updated_at: firm.updated_at,
        }
    }
}

/// The caller's firm.
#[utoipa::path(get, path = "/firm", tag = "admin", security(("firmToken" = [])),
    responses((status = 200, body = FirmView), (status = 401, body = Problem)))]
async fn get_firm(admin: FirmAdmin, State(state): State<AppState>) -> ApiResult<Json<FirmView>> {
    Ok(Json(state.service.firm(&admin.firm_id).await?.into()))
}

/// Replaces the caller's firm profile (name, SIRET, default time zone).
#[utoipa::path(put, path = "/firm", tag = "admin", security(("firmToken" = [])),
    request_body = FirmProfile,
    responses((status = 200, body = FirmView), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn put_firm(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiJson(profile): ApiJson<FirmProfile>,
) -> ApiResult<Json<FirmView>> {
    let firm = state.service.update_firm(&admin.firm_id, &profile).await?;
    Ok(Json(firm.into()))
}
