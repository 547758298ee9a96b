//! Admin API for expert firms (`/admin/v1`). Every handler takes [`FirmAdmin`] and passes its
//! firm id to the store, so another firm's ids answer 404.
//!
//! [`FirmAdmin`]: super::auth::FirmAdmin

mod absences;
mod appointments;
mod calendar;
mod changes;
mod documents;
mod events;
mod experts;
mod firm;
mod imports;
mod searches;
mod settlements;
mod token;
mod uploads;
mod webhook;

use chrono::{DateTime, SecondsFormat, Utc};
use utoipa_axum::router::OpenApiRouter;

use super::state::AppState;

/// The admin routes, relative to `/admin/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(token::router())
        .merge(firm::router())
        .merge(experts::router())
        .merge(absences::router())
        .merge(appointments::router())
        .merge(calendar::router())
        .merge(documents::router())
        .merge(uploads::router())
        .merge(settlements::router())
        .merge(imports::router())
        .merge(events::router())
        .merge(changes::router())
        .merge(webhook::router())
        .merge(searches::router())
}

/// The public, token-authenticated calendar feed route.
pub fn feed_router() -> OpenApiRouter<AppState> {
    calendar::feed_router()
}

/// RFC 3339 rendering of an instant in a time zone (seconds precision, explicit offset).
pub(crate) fn render_instant(instant: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    instant
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}
