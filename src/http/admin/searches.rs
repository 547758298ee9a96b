//! `/admin/v1/searches` and `/admin/v1/demand`: the slot searches in which one of the
//! firm's experts was eligible, one by one and summed up.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiQuery, PageQuery, Paged};
use crate::http::state::AppState;
use crate::service::search_log::{DemandView, SearchView};
use crate::store::SearchCursor;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_searches))
        .routes(routes!(demand))
}

/// The searches of `[from, to)`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Searches made at or after this instant (RFC 3339; default: 30 days before `to`).
    pub from: Option<DateTime<FixedOffset>>,
    /// Searches made before this instant (RFC 3339; default: now). At most 366 days after
    /// `from`.
    pub to: Option<DateTime<FixedOffset>>,
    /// Page size (default 50, at most 500).
    pub limit: Option<u32>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// The period of `[from, to)` only.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Searches made at or after this instant (RFC 3339; default: 30 days before `to`).
    pub from: Option<DateTime<FixedOffset>>,
    /// Searches made before this instant (RFC 3339; default: now). At most 366 days after
    /// `from`.
    pub to: Option<DateTime<FixedOffset>>,
}

fn utc(
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (from.map(|t| t.to_utc()), to.map(|t| t.to_utc()))
}

/// The slot searches of `[from, to)` in which at least one of the caller's experts was
/// eligible, newest first: the request without address lines, coordinates or `process`
/// (given beside it), what was offered in all and what was the firm's, and whether one of
/// the firm's slots was booked. Searches are kept 90 days (configurable) and appear within
/// about a second. A malformed instant is 400 `invalid-query`; `to` not after `from`, or
/// more than 366 days after it, is 422 (`/to`, `/from`).
#[utoipa::path(get, path = "/searches", tag = "admin", security(("firmToken" = [])),
    params(SearchQuery),
    responses((status = 200, body = Paged<SearchView>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list_searches(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Paged<SearchView>>> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .to_request()?;
    // A cursor this server did not issue reads from the start, as the list's cursors do.
    let cursor = page.after.as_deref().and_then(SearchCursor::parse);
    let page = state
        .service
        .firm_searches(
            &admin.firm_id,
            utc(query.from, query.to),
            cursor.as_ref(),
            page.limit,
        )
        .await?;
    Ok(Json(Paged::from_page(page, |view| view)))
}

/// The caller's demand over `[from, to)`: its searches (those in which at least one of its
/// experts was eligible) by department and claim type, how many offered none of its
/// slots, the median delay to its first offered slot, and the bookings it got from them.
/// Same period rules as `/searches`.
#[utoipa::path(get, path = "/demand", tag = "admin", security(("firmToken" = [])),
    params(PeriodQuery),
    responses((status = 200, body = DemandView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn demand(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<DemandView>> {
    let demand = state
        .service
        .firm_demand(&admin.firm_id, utc(query.from, query.to))
        .await?;
    Ok(Json(demand))
}
