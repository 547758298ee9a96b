//! The slot-allocation engine: pure functions from expert calendars and a request to free
//! slots. No async, no database, no HTTP: only `std`, `chrono`, `chrono-tz`, `geo`, `rstar`
//! and [`crate::domain`].
//!
//! The flow of a slot search (protocol "Etape 1"):
//!
//! 1. [`Directory::new`] indexes every expert once (departments, radius reach and polygon
//!    bounding boxes in R-trees), so it can be shared by many searches;
//! 2. [`Directory::eligible`] keeps the experts who may take the request and, when none
//!    does, says which rule stopped the experts that got furthest ([`Blocker`]);
//! 3. [`Directory::search`] finds the best few free slots of those experts, lazily: it only
//!    looks at the expert-days it needs;
//! 4. at booking time, [`check_slot`] re-checks one slot with the same rules.
//!
//! Time is handled as instants (UTC seconds) everywhere; working hours are turned into
//! instants per local day with the expert's time zone, so DST days hold one hour more or
//! less and no slot ever starts in a local hour that does not exist.
//!
//! Points the protocol leaves open, as decided here:
//!
//! - an appointment belongs to the local date (expert's zone) of its start: that date
//!   counts it for the daily maximum and uses it as previous or next visit for travel;
//! - the previous visit is the on-site appointment of the day with the greatest end at or
//!   before the start; when several end together the longest trip counts (likewise for
//!   several next visits starting together); remote appointments never need travel;
//! - a working-range bound in a DST gap moves to the end of the gap; a repeated bound is
//!   its first occurrence for a start, its last for an end;
//! - the weekly load counts the confirmed appointments starting in the local ISO week
//!   (Monday 00:00 to Monday 00:00) of the slot's start;
//! - days are spread by Europe/Paris date, whatever the experts' zones, so that all the
//!   candidates for one instant compete in the same day.

mod accept;
mod calendar;
mod check;
mod clock;
mod day;
mod directory;
mod enumerate;
mod intervals;
mod memo;
mod plan;
mod query;
mod rough;
mod rules;
mod search;
mod spatial;
mod travel;
mod window;

pub use calendar::{Booked, Calendar, Interval};
pub use check::check_slot;
pub use directory::Directory;
pub use query::{Blocker, Eligibility, ExpertEntry, Query, Target};
pub use travel::{haversine_km, travel_minutes};

use chrono::{DateTime, Utc};

use crate::domain::appointment::Mode;

/// Tunable constants of the engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Slot grid in minutes: starts fall on local times whose minute of the day is a
    /// multiple of it (default 15; 0 is treated as 1).
    pub grid_minutes: u32,
    /// Road distance divided by great-circle distance (default 1.3).
    pub detour_factor: f64,
    /// Average travel speed in km/h (default 40).
    pub speed_kmh: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grid_minutes: 15,
            detour_factor: 1.3,
            speed_kmh: 40.0,
        }
    }
}

impl Settings {
    /// The grid step in seconds, at least one minute.
    pub(crate) fn grid_seconds(&self) -> i64 {
        i64::from(self.grid_minutes.max(1)) * 60
    }
}

/// A free slot offered to Claims IA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Index of the expert in the [`Directory`].
    pub expert: usize,
    /// First instant of the slot.
    pub start: DateTime<Utc>,
    /// End of the slot (exclusive): `start` plus the expert's duration.
    pub end: DateTime<Utc>,
    /// On site or remote.
    pub mode: Mode,
    /// Travel from the previous on-site appointment of the day, or from the base; 0 when
    /// remote or when neither exists.
    pub travel_minutes: u32,
}

#[cfg(test)]
mod tests;
