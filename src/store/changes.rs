//! Calendar changes made through one server instance, announced to the others sharing the
//! database, so that their calendar caches drop what changed at once rather than within
//! their time-to-live.
//!
//! Announcements are advice, not a log: one lost (an instance stopped before sending it, a
//! listener reconnecting) only means a calendar is refreshed at the end of the cache's
//! delay, as without them. A booking never relies on a cache: it re-checks in its own
//! transaction.

use async_trait::async_trait;

use super::StoreResult;

/// A change of an expert's calendar.
#[derive(Debug, Clone, PartialEq)]
pub enum CalendarChange {
    /// The calendar changed (an absence, a cancellation, a move…): read it again.
    Changed {
        /// The expert.
        expert_id: String,
    },
    /// The calendar got this CONFIRMED appointment, and nothing else changed.
    Booked {
        /// The expert.
        expert_id: String,
        /// Start, in milliseconds since the epoch.
        start_ms: i64,
        /// End, in milliseconds since the epoch.
        end_ms: i64,
        /// Where, when on site: latitude and longitude.
        place: Option<(f64, f64)>,
    },
}

/// Calendar changes made through one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    /// The instance that made the changes.
    pub origin: String,
    /// The changes.
    pub changes: Vec<CalendarChange>,
}

/// Announcing calendar changes, and listening to those of every instance.
#[async_trait]
pub trait Changes: Send + Sync + 'static {
    /// Announces `changes` made through instance `origin`.
    async fn announce_changes(&self, origin: &str, changes: &[CalendarChange]) -> StoreResult<()>;
    /// The announcements of every instance (this one's included), from now on; `None`
    /// when the engine cannot deliver them (SQLite, which one process serves).
    async fn listen_changes(&self) -> StoreResult<Option<Box<dyn ChangeListener>>>;
}

/// A subscription to announcements.
#[async_trait]
pub trait ChangeListener: Send {
    /// The next announcement; `None` when some may have been missed (the connection was
    /// lost; it is restored by the next call).
    async fn next(&mut self) -> StoreResult<Option<Announcement>>;
}
