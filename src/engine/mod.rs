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

// What is asked and what is offered.
mod query;
mod settings;
mod slot;

// Who may take a request.
mod directory;
mod eligibility;
mod expert;
mod rule_index;
mod zone_index;

// Time, calendars and distances.
mod busy;
mod calendar;
mod local_day;
mod obstacles;
mod spans;
mod travel;

// The free time of one expert.
mod availability;
mod day_memo;
mod entry_ranges;
mod recheck;

// Many experts at once.
mod enumerate;
mod member;
mod roster;
mod search;

pub use calendar::{Booked, Calendar, Interval};
pub use directory::Directory;
pub use eligibility::{Blocker, Eligibility};
pub use expert::ExpertEntry;
pub use query::{Query, Target};
pub use recheck::check_slot;
pub use settings::Settings;
pub use slot::Slot;
pub use travel::{haversine_km, travel_minutes};

#[cfg(test)]
mod tests;
