//! Keeping the calendar caches of several instances on one database in step.
//!
//! Every change made through this instance is announced to the others (see
//! [`crate::store::Changes`]), which apply it to their cached calendars at once instead of
//! serving them stale until their cache's delay runs out: a booking is added to the
//! expert's calendar, as on the instance that took it; any other change drops the
//! calendar. Without this, with three instances taking a client's requests in turn, a
//! search was offered the slots the same client had just booked through another instance,
//! and 22 % of the bookings of `--mix book` (62 % of the scenario's) ended in 409.
//!
//! Announcements are grouped: the changes made while one is sent go in the next, and at
//! most one is sent every [`INTERVAL`], so their number does not grow with the booking
//! rate. A lost announcement only leaves a calendar to the cache's delay, as before.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use super::calendars::CalendarCache;
use crate::domain::GeoPoint;
use crate::engine::Booked;
use crate::store::{CalendarChange, ChangeListener, Store};

/// Shortest time between two announcements of this instance.
const INTERVAL: Duration = Duration::from_millis(10);

/// How long to wait before listening again after the listener failed.
const RETRY: Duration = Duration::from_secs(1);

/// Starts announcing this instance's changes and applying the other instances' to
/// `calendars`, when the store can deliver announcements; returns the cache, announcing.
pub async fn start(
    store: &Arc<dyn Store>,
    calendars: CalendarCache,
) -> anyhow::Result<Arc<CalendarCache>> {
    let Some(listener) = store.listen_changes().await? else {
        return Ok(Arc::new(calendars));
    };
    let origin = crate::auth::random_token(12);
    let (sender, changed) = mpsc::unbounded_channel();
    let calendars = Arc::new(calendars.announcing(sender));
    tokio::spawn(send(Arc::clone(store), origin.clone(), changed));
    tokio::spawn(listen(
        Arc::clone(store),
        origin,
        listener,
        Arc::downgrade(&calendars),
    ));
    Ok(calendars)
}

/// Announces the changes made through this instance, grouped; ends with the server.
async fn send(
    store: Arc<dyn Store>,
    origin: String,
    mut made: mpsc::UnboundedReceiver<CalendarChange>,
) {
    while let Some(first) = made.recv().await {
        let mut changes = vec![first];
        while let Ok(change) = made.try_recv() {
            changes.push(change);
        }
        if let Err(err) = store.announce_changes(&origin, &changes).await {
            tracing::warn!(error = %err, changes = changes.len(), "calendar changes not announced");
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Applies a change announced by another instance.
fn apply(calendars: &CalendarCache, change: &CalendarChange) {
    match change {
        CalendarChange::Booked {
            expert_id,
            start_ms,
            end_ms,
            place,
        } => {
            let start = chrono::DateTime::from_timestamp_millis(*start_ms);
            let end = chrono::DateTime::from_timestamp_millis(*end_ms);
            let place = place.map(|(lat, lon)| GeoPoint::new(lat, lon).ok());
            match (start, end, place) {
                (Some(start), Some(end), None) => {
                    calendars.add_booked(
                        expert_id,
                        Booked {
                            start,
                            end,
                            place: None,
                        },
                    );
                }
                (Some(start), Some(end), Some(Some(place))) => calendars.add_booked(
                    expert_id,
                    Booked {
                        start,
                        end,
                        place: Some(place),
                    },
                ),
                _ => calendars.forget(expert_id),
            }
        }
        CalendarChange::Changed { expert_id } => calendars.forget(expert_id),
    }
}

/// Drops from `calendars` what other instances announce; everything when announcements
/// may have been missed. Ends when the cache is gone.
async fn listen(
    store: Arc<dyn Store>,
    origin: String,
    mut listener: Box<dyn ChangeListener>,
    calendars: Weak<CalendarCache>,
) {
    loop {
        let next = listener.next().await;
        let Some(calendars) = calendars.upgrade() else {
            return;
        };
        match next {
            Ok(Some(announcement)) if announcement.origin != origin => {
                for change in &announcement.changes {
                    apply(&calendars, change);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!("calendar announcements interrupted; cached calendars dropped");
                calendars.forget_all();
            }
            Err(err) => {
                tracing::warn!(error = %err, "calendar announcements lost; listening again");
                calendars.forget_all();
                drop(calendars);
                tokio::time::sleep(RETRY).await;
                match store.listen_changes().await {
                    Ok(Some(again)) => listener = again,
                    Ok(None) => return,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen to calendar announcements");
                    }
                }
            }
        }
    }
}
