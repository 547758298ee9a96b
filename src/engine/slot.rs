//! What a search offers: one free slot of one expert.

use chrono::{DateTime, Utc};

use crate::domain::appointment::Mode;

/// A free slot offered to Claims IA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// Index of the expert in the directory.
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
