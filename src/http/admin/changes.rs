//! The firm's watch: its appointments holding changes it has not validated, what changed
//! as JSON Pointers, and the validation (`If-Match` refuses a change made since the read).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiQuery, PageQuery, Paged};
use crate::http::protocol::if_match;
use crate::http::state::AppState;
use crate::store::{ChangedAppointment, Page};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_changed))
        .routes(routes!(appointment_changes))
        .routes(routes!(validate))
}

/// An appointment with changes the firm has not validated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangedView {
    /// Appointment id.
    appointment_id: String,
    /// Claims IA reference.
    claims_ia_ref: String,
    /// Insurer's claim reference.
    claim_ref: Option<String>,
    /// Expert booked.
    expert_id: String,
    /// Always `true` here.
    changed: bool,
    /// The last validation (`null`: never validated).
    last_validated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last change.
    last_change_at: chrono::DateTime<chrono::Utc>,
    /// What changed: `appointment`, `dossier`, `attachments`.
    changes: Vec<String>,
}

impl From<ChangedAppointment> for ChangedView {
    fn from(c: ChangedAppointment) -> Self {
        Self {
            appointment_id: c.appointment.id,
            claims_ia_ref: c.appointment.claims_ia_ref,
            claim_ref: c.appointment.claim_ref,
            expert_id: c.appointment.expert_id,
            changed: true,
            last_validated_at: c.last_validated_at,
            last_change_at: c.last_change_at,
            changes: c.changes,
        }
    }
}

/// One changed value since the last validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// When it changed.
    at: chrono::DateTime<chrono::Utc>,
    /// The event behind it (`appointment.updated`, `dossier.updated`…).
    #[serde(rename = "type")]
    kind: String,
    /// RFC 6901 pointer into the appointment view (`/start`, `/contact/phone`) or the
    /// dossier (`/dossier/stake/total`, `/dossier/attachments/0`).
    pointer: String,
    /// The value before (`null`: absent).
    #[schema(value_type = Object)]
    before: serde_json::Value,
    /// The value after (`null`: removed).
    #[schema(value_type = Object)]
    after: serde_json::Value,
}

/// What changed on one appointment since the last validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    /// Oldest first.
    items: Vec<ChangeView>,
}

/// The firm's appointments holding changes it has not validated (a new booking is one),
/// oldest change first.
#[utoipa::path(get, path = "/changes", tag = "admin", security(("firmToken" = [])),
    params(PageQuery),
    responses((status = 200, body = Paged<ChangedView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_changed(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<ChangedView>>> {
    let request = query.to_request()?;
    // A cursor this server did not issue reads from the start, as the list's cursors do.
    let after = request
        .after
        .as_deref()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0);
    let mut items = state
        .service
        .changed_appointments(&admin.firm_id, after, request.limit + 1)
        .await?;
    let more = items.len() > usize::try_from(request.limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
    let next_after = more
        .then(|| items.last().map(|c| c.first_event.to_string()))
        .flatten();
    let page = Page { items, next_after };
    Ok(Json(Paged::from_page(page, ChangedView::from)))
}

/// What changed on one of the firm's appointments since its last validation, as JSON
/// Pointers with the values before and after; the `ETag` names the last change included.
#[utoipa::path(get, path = "/appointments/{id}/changes", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = ChangeList, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn appointment_changes(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let changes = state
        .service
        .appointment_changes(&admin.firm_id, &id)
        .await?;
    let items = changes
        .items
        .into_iter()
        .map(|i| ChangeView {
            at: i.at,
            kind: i.kind,
            pointer: i.change.pointer,
            before: i.change.before,
            after: i.change.after,
        })
        .collect();
    Ok((
        [(header::ETAG, format!("\"{}\"", changes.through))],
        Json(ChangeList { items }),
    ))
}

/// Marks the appointment's changes seen: it leaves `/admin/v1/changes` until the next one.
/// With `If-Match` (the `ETag` of the changes read), a newer change answers 412 and nothing
/// is validated.
#[utoipa::path(post, path = "/appointments/{id}/validation", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the changes read")),
    responses((status = 204, description = "Validated"), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem)))]
async fn validate(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let expected = if_match(&headers);
    state
        .service
        .validate_changes(&admin.firm_id, &id, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
