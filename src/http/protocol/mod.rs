//! The Claims IA protocol (`/v1`): slot search and booking. Every handler takes
//! [`ClaimsIaClient`](super::auth::ClaimsIaClient).

mod appointments;
mod changes;
mod dossier;
pub(crate) mod events;
mod search;
pub mod slot_token;
mod uploads;
mod views;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;
use crate::engine::{Booked, Calendar, Interval};
use crate::store::{Absence, Busy};

pub(crate) use appointments::slot_free;
pub use appointments::{page_of_views, view_of};
pub(crate) use changes::{CancellationRequest, captured_view};
pub use dossier::{AttachmentView, DossierView, dossier_response, dossier_view};
pub use events::EventView;
pub use views::{AppointmentView, ExpertRef};

/// The protocol routes, relative to `/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search::search_slots))
        .routes(routes!(appointments::book, appointments::list_by_ref))
        .routes(routes!(appointments::get_appointment, changes::patch))
        .routes(routes!(changes::cancel))
        .routes(routes!(changes::reschedule))
        .routes(routes!(dossier::put_dossier, dossier::get_dossier))
        .merge(
            // Documents stream past the 1 MiB JSON limit; the blob writer enforces the cap.
            OpenApiRouter::new()
                .routes(routes!(uploads::upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .routes(routes!(events::list_events))
}

/// The engine's view of stored absences and appointments.
pub(crate) fn calendar(absences: &[Absence], busy: &[Busy]) -> Calendar {
    Calendar::new(
        absences
            .iter()
            .map(|a| Interval {
                start: a.start,
                end: a.end,
            })
            .collect(),
        busy.iter()
            .map(|b| Booked {
                start: b.start,
                end: b.end,
                place: b.place,
            })
            .collect(),
    )
}
