//! `GET /v1/events`: what happened to the caller's appointments that it did not do itself
//! (a firm cancelled or completed an appointment...), in commit order, never skipping one.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiQuery, DEFAULT_LIMIT, MAX_LIMIT};
use crate::http::state::AppState;
use crate::wire::EventView;

/// `?after=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Cursor: the `nextCursor` of the previous page (absent: from the beginning).
    pub after: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// Events, oldest first.
    pub items: Vec<EventView>,
    /// Where to continue: poll again with `after` set to it. Never null once the log has
    /// events, so a client polling an empty page keeps its place.
    pub next_cursor: Option<String>,
}

/// The caller's events after a cursor.
#[utoipa::path(get, path = "/events", tag = "protocol", security(("apiKey" = [])),
    params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_events(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> ApiResult<Json<EventPage>> {
    let (after, limit) = cursor_and_limit(&query)?;
    let events = state.service.events(&client.id, after, limit).await?;
    let next_cursor = events.last().map_or(after, |e| e.id);
    Ok(Json(EventPage {
        next_cursor: (next_cursor > 0).then(|| next_cursor.to_string()),
        items: events.into_iter().map(EventView::from).collect(),
    }))
}

/// The position after which to read, and the page size, of an event query.
pub(crate) fn cursor_and_limit(query: &EventQuery) -> ApiResult<(i64, u32)> {
    let after = match query.after.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cursor
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::InvalidQuery("after is not a cursor this server issued".into())
            })?,
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::InvalidQuery(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    Ok((after, limit))
}
