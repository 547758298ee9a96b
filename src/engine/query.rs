//! What a slot search asks for, and why it may find nobody.

use chrono::{DateTime, Utc};

use crate::domain::expert::ExpertProfile;
use crate::domain::{
    ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType, Insurer, Money, PartnerKind,
};

/// An expert as the engine knows it: the server-owned id and the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpertEntry {
    /// The expert's id (opaque to the engine).
    pub id: String,
    /// Everything the firm said about the expert.
    pub profile: ExpertProfile,
}

/// Where an on-site appointment takes place.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Coordinates of the place (given, or the centroid of its postal code).
    pub point: GeoPoint,
    /// Department of the place's postal code, when it has one.
    pub department: Option<Department>,
}

/// A slot search (protocol "Etape 1"), already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Loss adjuster or repairer.
    pub partner_kind: PartnerKind,
    /// The insurer asking.
    pub insurer: Insurer,
    /// Private individual or professional.
    pub insured_type: InsuredType,
    /// Claim type (`DDE`, …).
    pub claim_type: ClaimType,
    /// Expertise type; decides on site or remote.
    pub expertise_type: ExpertiseType,
    /// Dwelling type, when given.
    pub dwelling_type: Option<Code>,
    /// Total stake of the claim.
    pub stake_total: Money,
    /// The appointment place; needed on site, ignored when remote.
    pub place: Option<Target>,
    /// No slot starts before this instant.
    pub from: DateTime<Utc>,
    /// No slot ends after this instant.
    pub to: DateTime<Utc>,
    /// Most slots returned.
    pub max_slots: usize,
}

impl Query {
    /// The on-site target: `None` for a remote expertise type.
    pub(crate) fn on_site_place(&self) -> Option<&GeoPoint> {
        if self.expertise_type.is_remote() {
            None
        } else {
            self.place.as_ref().map(|t| &t.point)
        }
    }
}

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
    /// give when [`super::Directory::search`] finds nothing.
    pub blocked_by: Option<Blocker>,
}
