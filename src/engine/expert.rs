//! An expert as the engine knows it, and the digest of its schedule that searches read.

use std::hash::{Hash as _, Hasher as _};

use chrono_tz::Tz;

use super::travel::{Anchor, Unit};
use crate::domain::ExpertiseType;
use crate::domain::expert::ExpertProfile;

/// An expert as the engine knows it: the server-owned id and the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertEntry {
    /// The expert's id (opaque to the engine).
    pub id: String,
    /// Everything the firm said about the expert.
    pub profile: ExpertProfile,
}

/// The fingerprint of what a memo depends on in a profile: time zone, weekly hours, buffer
/// and daily maximum.
pub(crate) fn schedule_fingerprint(profile: &ExpertProfile) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    profile.time_zone.hash(&mut hasher);
    profile.weekly_hours.hash(&mut hasher);
    profile.buffer_minutes.hash(&mut hasher);
    profile.max_appointments_per_day.hash(&mut hasher);
    hasher.finish()
}

/// What a search reads of an expert's schedule for every eligible expert: made once per
/// directory instead of once per search.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// Per weekday from Monday, the start of the first working range and the end of the
    /// last, in local minutes.
    pub hours: [Option<(u16, u16)>; 7],
    /// [`schedule_fingerprint`] of the profile.
    pub fingerprint: u64,
    /// The base, prepared for distances.
    pub base: Option<Anchor>,
    /// The base, prepared for lower bounds of distances.
    pub base_unit: Option<Unit>,
    /// Minimum notice, in seconds.
    pub notice: i64,
    /// Time zone of the working hours.
    pub tz: Tz,
    /// Slot lengths in seconds, per expertise type (see [`Schedule::duration`]).
    durations: [i64; 4],
}

impl Schedule {
    pub fn of(profile: &ExpertProfile) -> Self {
        let mut hours = [None; 7];
        for (weekday, ranges) in profile.weekly_hours.iter() {
            if let (Some(first), Some(last)) = (ranges.first(), ranges.last()) {
                let index = weekday.num_days_from_monday() as usize;
                hours[index] = Some((first.start(), last.end()));
            }
        }
        Self {
            hours,
            fingerprint: schedule_fingerprint(profile),
            base: profile.base.as_ref().map(|b| Anchor::new(&b.geo)),
            base_unit: profile.base.as_ref().map(|b| Unit::new(&b.geo)),
            notice: i64::from(profile.min_notice_hours) * 3600,
            tz: profile.time_zone.tz(),
            durations: ExpertiseType::ALL.map(|t| i64::from(profile.durations_minutes.get(t)) * 60),
        }
    }

    /// The slot length of `expertise_type`, in seconds.
    pub fn duration(&self, expertise_type: ExpertiseType) -> i64 {
        self.durations[expertise_type.index()]
    }
}
