//! Keeping the calendar caches of several instances on one database in step.
//!
//! Every change made through this instance is announced to the others (see
//! [`crate::store::Changes`]), which apply it to their cached calendars at once instead of
//! serving them stale until their cache's delay runs out: a booking is added to the
//! expert's calendar, as on the instance that took it; any other change drops the
//! calendar. Without this, with several instances taking a client's requests in turn, a
//! search would be offered the slots the same client had just booked through another
//! instance.
//!
//! Announcements are grouped: the changes made while one is sent go in the next, and at
//! most one is sent every [`INTERVAL`], so their number does not grow with the booking
//! rate. While announcements are heard, cached calendars are kept for the longer delay
//! (`--calendar-cache-announced-ms`); when they may have been missed, every calendar is
//! dropped and the short one (`--calendar-cache-ms`) applies until they are heard again.
//! An announcement that could not be sent leaves a calendar to the delay.

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
/// `calendars`, when the store can deliver announcements; returns the cache, announcing,
/// and keeping calendars for `heard_ttl` while it hears the others.
pub async fn start(
    store: &Arc<dyn Store>,
    calendars: CalendarCache,
    heard_ttl: Duration,
) -> anyhow::Result<Arc<CalendarCache>> {
    let Some(listener) = store.listen_changes().await? else {
        return Ok(Arc::new(calendars));
    };
    let origin = crate::auth::random_token(12);
    let (sender, changed) = mpsc::unbounded_channel();
    let calendars = Arc::new(calendars.announcing(sender, heard_ttl));
    // Listening began before anything was cached.
    calendars.hearing(true);
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
/// may have been missed, and again when they are heard anew (what was read meanwhile may
/// have missed some). Ends when the cache is gone.
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
            Ok(Some(announcement)) => {
                if calendars.hearing(true) {
                    tracing::info!("calendar announcements heard again; cached calendars dropped");
                }
                if announcement.origin != origin {
                    for change in &announcement.changes {
                        apply(&calendars, change);
                    }
                }
            }
            Ok(None) => {
                tracing::warn!("calendar announcements interrupted; cached calendars dropped");
                calendars.hearing(false);
            }
            Err(err) => {
                tracing::warn!(error = %err, "calendar announcements lost; listening again");
                calendars.hearing(false);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use tokio::sync::mpsc;

    use super::listen;
    use crate::clock::Clock;
    use crate::service::calendars::CalendarCache;
    use crate::store::{Announcement, CalendarChange, ChangeListener, Store, StoreResult};

    /// Plays the announcements (or interruptions, `None`) it is sent.
    struct Played(mpsc::UnboundedReceiver<Option<Announcement>>);

    #[async_trait]
    impl ChangeListener for Played {
        async fn next(&mut self) -> StoreResult<Option<Announcement>> {
            match self.0.recv().await {
                Some(played) => Ok(played),
                // Nothing more to play: silence.
                None => std::future::pending().await,
            }
        }
    }

    /// Waits until `done` holds of `calendars` (the listener runs on its own task).
    async fn until(calendars: &CalendarCache, done: impl Fn(&CalendarCache) -> bool) {
        for _ in 0..500 {
            if done(calendars) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("the listener did not get there");
    }

    #[tokio::test]
    async fn an_interruption_drops_every_calendar_and_shortens_their_life_until_heard_again() {
        let (_dir, store) = crate::store::sqlite::temporary().await;
        let store: Arc<dyn Store> = Arc::new(store);
        let (sender, _changes) = mpsc::unbounded_channel();
        let calendars = Arc::new(
            CalendarCache::new(Duration::from_secs(1), Clock::system())
                .announcing(sender, Duration::from_secs(10)),
        );
        calendars.hearing(true);
        let (play, played) = mpsc::unbounded_channel();
        tokio::spawn(listen(
            Arc::clone(&store),
            "me".to_owned(),
            Box::new(Played(played)),
            Arc::downgrade(&calendars),
        ));
        let now = Clock::system().now();
        let (from, to) = (now, now + chrono::Duration::hours(1));
        let is_cached = |c: &CalendarCache| c.fresh("e1", from, to).is_some();
        calendars
            .get(store.as_ref(), &["e1"], from, to)
            .await
            .expect("read");
        assert!(is_cached(&calendars));

        play.send(None).expect("listening");
        until(&calendars, |c| !c.is_hearing()).await;
        assert!(
            !is_cached(&calendars),
            "what may have missed a change is dropped"
        );

        // Read while deaf, then heard again: dropped too, and kept long again.
        calendars
            .get(store.as_ref(), &["e1"], from, to)
            .await
            .expect("read");
        assert!(is_cached(&calendars));
        let own = Announcement {
            origin: "me".to_owned(),
            changes: vec![CalendarChange::Changed {
                expert_id: "e2".to_owned(),
            }],
        };
        play.send(Some(own)).expect("listening");
        until(&calendars, CalendarCache::is_hearing).await;
        assert!(!is_cached(&calendars));
    }
}
