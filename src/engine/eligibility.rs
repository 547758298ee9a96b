//! Who may take a request: the rules one expert at a time, in the order of [`Blocker`],
//! and what an empty answer says.

use super::query::{Query, Target};
use super::travel::{Anchor, haversine_km};
use crate::domain::expert::{ExpertProfile, Zone};

/// The rule that kept every expert out, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Blocker {
    /// No active expert of the requested partner kind.
    NoExpertOfKind,
    /// Nobody skilled for the claim type and expertise type.
    NoSkill,
    /// Nobody accepting the insurer.
    InsurerNotAccepted,
    /// Nobody accepting the insured type.
    InsuredTypeNotAccepted,
    /// Nobody accepting the dwelling type.
    DwellingTypeNotAccepted,
    /// The stake is above every maximum.
    StakeTooHigh,
    /// The place is in nobody's zone (or an on-site search gave no place).
    OutOfZone,
    /// Experts are eligible but none has a free slot in the window.
    FullyBooked,
}

impl Blocker {
    /// The stable machine code, e.g. `out-of-zone`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoExpertOfKind => "no-expert-of-kind",
            Self::NoSkill => "no-skill",
            Self::InsurerNotAccepted => "insurer-not-accepted",
            Self::InsuredTypeNotAccepted => "insured-type-not-accepted",
            Self::DwellingTypeNotAccepted => "dwelling-type-not-accepted",
            Self::StakeTooHigh => "stake-too-high",
            Self::OutOfZone => "out-of-zone",
            Self::FullyBooked => "fully-booked",
        }
    }
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The experts who may take a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eligibility {
    /// Directory indexes of the eligible experts, ascending.
    pub experts: Vec<usize>,
    /// `None` when someone is eligible; otherwise the rule at which the experts that got
    /// furthest failed. Never [`Blocker::FullyBooked`]: that one is for the caller to
    /// give when `Directory::search` finds nothing.
    pub blocked_by: Option<Blocker>,
}

/// Whether an empty accept-list (meaning "all") or the list itself admits `value`.
fn accepts<T: PartialEq>(list: &[T], value: &T) -> bool {
    list.is_empty() || list.contains(value)
}

/// The first rule, in [`Blocker`] order, that `profile` fails for `query`, leaving the
/// zone aside; `None` when every such rule passes.
pub(crate) fn fails_before_zone(profile: &ExpertProfile, query: &Query) -> Option<Blocker> {
    let skills = &profile.skills;
    if !profile.active || profile.partner_kind != query.partner_kind {
        Some(Blocker::NoExpertOfKind)
    } else if !skills.claim_types.contains(&query.claim_type)
        || !skills.expertise_types.contains(&query.expertise_type)
    {
        Some(Blocker::NoSkill)
    } else if !accepts(&skills.insurers, &query.insurer) {
        Some(Blocker::InsurerNotAccepted)
    } else if !accepts(&skills.insured_types, &query.insured_type) {
        Some(Blocker::InsuredTypeNotAccepted)
    } else if query
        .dwelling_type
        .as_ref()
        .is_some_and(|d| !accepts(&skills.dwelling_types, d))
    {
        Some(Blocker::DwellingTypeNotAccepted)
    } else if skills.max_stake.is_some_and(|max| query.stake_total > max) {
        Some(Blocker::StakeTooHigh)
    } else {
        None
    }
}

/// Whether the zone of `profile` admits `target`: by department, by radius around the
/// base, or by polygon.
pub(crate) fn in_zone(profile: &ExpertProfile, target: &Target) -> bool {
    let Zone {
        departments, area, ..
    } = &profile.zone;
    target
        .department
        .as_ref()
        .is_some_and(|d| departments.contains(d))
        || within_radius(profile, target)
        || area.as_ref().is_some_and(|a| a.contains(&target.point))
}

/// [`in_zone`] for an expert whose zone does not list the target's department: by radius
/// (distances from `anchor`, the target prepared, to `base`, the profile's base prepared)
/// or by polygon.
pub(crate) fn in_zone_unlisted(
    profile: &ExpertProfile,
    base: Option<&Anchor>,
    target: &Target,
    anchor: &Anchor,
) -> bool {
    let within = match (base, profile.zone.radius_km) {
        (Some(base), Some(radius)) => anchor.km_to(base) <= f64::from(radius),
        _ => false,
    };
    within
        || profile
            .zone
            .area
            .as_ref()
            .is_some_and(|a| a.contains(&target.point))
}

/// Whether `target` is within the zone radius of the base (needs both).
pub(crate) fn within_radius(profile: &ExpertProfile, target: &Target) -> bool {
    match (&profile.base, profile.zone.radius_km) {
        (Some(base), Some(radius)) => haversine_km(&base.geo, &target.point) <= f64::from(radius),
        _ => false,
    }
}

/// The first rule `profile` fails for `query`, zone included; `None` when eligible.
pub(crate) fn fails_at(profile: &ExpertProfile, query: &Query) -> Option<Blocker> {
    fails_before_zone(profile, query).or_else(|| {
        if query.expertise_type.is_remote() {
            return None;
        }
        match &query.place {
            Some(target) if in_zone(profile, target) => None,
            _ => Some(Blocker::OutOfZone),
        }
    })
}
