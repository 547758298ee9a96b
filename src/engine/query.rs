//! What a slot search asks for.

use chrono::{DateTime, Utc};

use crate::domain::{
    ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType, Insurer, Money, PartnerKind,
};

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
