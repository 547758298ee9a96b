//! `GET /admin/v1/events`: the firm's own feed, in commit order, never skipping one.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::ApiQuery;
use crate::http::protocol::events::{EventQuery, cursor_and_limit};
use crate::http::state::AppState;
use crate::wire::FirmEventView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_firm_events))
}

/// A page of the firm's events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FirmEventPage {
    /// Events, oldest first.
    items: Vec<FirmEventView>,
    /// Where to continue (`after`); kept once the feed has events.
    next_cursor: Option<String>,
}

/// The firm's events after a cursor: what it did not do itself (`import.finished`).
#[utoipa::path(get, path = "/events", tag = "admin", security(("firmToken" = [])),
    params(EventQuery),
    responses((status = 200, body = FirmEventPage), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_firm_events(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<FirmEventPage>> {
    let (after, limit) = cursor_and_limit(&query)?;
    let events = state
        .service
        .firm_events(&admin.firm_id, after, limit)
        .await?;
    let next_cursor = events.last().map_or(after, |e| e.id);
    Ok(Json(FirmEventPage {
        next_cursor: (next_cursor > 0).then(|| next_cursor.to_string()),
        items: events.into_iter().map(FirmEventView::from).collect(),
    }))
}
