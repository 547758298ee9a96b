//! The Claims IA protocol (`/v1`): slot search and booking. Every handler takes
//! [`ClaimsIaClient`](super::auth::ClaimsIaClient).

mod appointments;
mod changes;
mod dossier;
pub(crate) mod events;
mod search;
mod settlements;
mod uploads;

use axum::middleware::from_fn;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::idempotency;
use super::state::AppState;

pub(crate) use changes::{if_match, rendered};
pub use dossier::{AttachmentView, DossierView, dossier_response, dossier_view};

/// The protocol routes, relative to `/v1`. Unsafe requests pass through the
/// `Idempotency-Key` layer; bookings claim a fresh key in their own transaction.
pub fn router() -> OpenApiRouter<AppState> {
    let keyed = OpenApiRouter::new()
        .routes(routes!(changes::cancel))
        .routes(routes!(changes::reschedule))
        .layer(from_fn(idempotency::layer));
    let bookings = OpenApiRouter::new()
        .routes(routes!(appointments::book, appointments::list_by_ref))
        .layer(from_fn(idempotency::fresh_first));
    OpenApiRouter::new()
        .routes(routes!(search::search_slots))
        .merge(bookings)
        .routes(routes!(appointments::get_appointment, changes::patch))
        .merge(keyed)
        .routes(routes!(dossier::put_dossier, dossier::get_dossier))
        .merge(
            // Documents stream past the 1 MiB JSON limit; the blob writer enforces the cap.
            OpenApiRouter::new()
                .routes(routes!(uploads::upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .routes(routes!(events::list_events))
        .routes(routes!(settlements::list_settlements))
        .routes(routes!(settlements::get_settlement))
        .routes(routes!(settlements::settlement_document))
}
