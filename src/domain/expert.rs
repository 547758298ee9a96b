//! The expert profile: who an expert is, what they accept, where and when they work.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::{Email, ExternalRef, Name, Phone};
use super::{
    Address, Area, ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType, Insurer,
    Invalid, Money, PartnerKind, TimeZone, WeeklyHours,
};

/// Caps on list sizes, so one profile stays small.
pub mod limits {
    /// Departments in a zone.
    pub const DEPARTMENTS: usize = 120;
    /// Entries of any accept-list.
    pub const ACCEPT_LIST: usize = 200;
    /// Largest radius around the base.
    pub const RADIUS_KM: u32 = 1000;
    /// Shortest and longest appointment.
    pub const DURATION_MINUTES: (u16, u16) = (5, 720);
    /// Largest buffer around appointments.
    pub const BUFFER_MINUTES: u16 = 240;
    /// Largest daily maximum.
    pub const PER_DAY: u16 = 50;
    /// Longest minimum notice (90 days).
    pub const NOTICE_HOURS: u16 = 2160;
}

/// Where an expert starts from: an optional address and its coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Base {
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Coordinates used for travel and radius zones.
    pub geo: GeoPoint,
}

/// Where an expert goes on site: any of the three rules admits a place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Zone {
    /// Departments covered (`75`, `2A`, `974`…).
    #[serde(default)]
    #[schema(max_items = 120)]
    pub departments: Vec<Department>,
    /// Radius around the base, in kilometres.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000)]
    pub radius_km: Option<u32>,
    /// `GeoJSON` `Polygon` or `MultiPolygon`.
    #[serde(default)]
    pub area: Option<Area>,
}

/// What an expert accepts. An empty accept-list means "all".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Skills {
    /// Claim types handled (`DDE`, `DE`, `CATNAT`, `VOL`…).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub claim_types: Vec<ClaimType>,
    /// Expertise types offered.
    #[serde(default)]
    pub expertise_types: Vec<ExpertiseType>,
    /// Insurers accepted (empty: all).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub insurers: Vec<Insurer>,
    /// Insured types accepted (empty: all).
    #[serde(default)]
    pub insured_types: Vec<InsuredType>,
    /// Dwelling types accepted (empty: all).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub dwelling_types: Vec<Code>,
    /// Highest stake accepted, in euros.
    #[serde(default)]
    pub max_stake: Option<Money>,
}

/// Appointment length per expertise type, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Durations {
    /// Video call.
    #[serde(rename = "VISIO", default = "defaults::visio")]
    #[schema(minimum = 5, maximum = 720)]
    pub visio: u16,
    /// Remote assessment.
    #[serde(rename = "EAD", default = "defaults::ead")]
    #[schema(minimum = 5, maximum = 720)]
    pub ead: u16,
    /// On-site assessment.
    #[serde(rename = "ESS", default = "defaults::ess")]
    #[schema(minimum = 5, maximum = 720)]
    pub ess: u16,
    /// On-site assessment with the other parties.
    #[serde(rename = "CONTRADICTOIRE", default = "defaults::contradictoire")]
    #[schema(minimum = 5, maximum = 720)]
    pub contradictoire: u16,
}

mod defaults {
    pub fn visio() -> u16 {
        45
    }
    pub fn ead() -> u16 {
        60
    }
    pub fn ess() -> u16 {
        90
    }
    pub fn contradictoire() -> u16 {
        120
    }
    pub fn active() -> bool {
        true
    }
}

impl Default for Durations {
    fn default() -> Self {
        Self {
            visio: defaults::visio(),
            ead: defaults::ead(),
            ess: defaults::ess(),
            contradictoire: defaults::contradictoire(),
        }
    }
}

impl Durations {
    /// Minutes for one expertise type.
    pub fn get(&self, kind: ExpertiseType) -> u16 {
        match kind {
            ExpertiseType::Visio => self.visio,
            ExpertiseType::Ead => self.ead,
            ExpertiseType::Ess => self.ess,
            ExpertiseType::Contradictoire => self.contradictoire,
        }
    }
}

/// Everything a firm says about one of its experts (the server-owned `id` aside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpertProfile {
    /// The firm's own identifier of the expert (unique in the firm); imports match by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._-]{1,40}$", example = "XT5678")]
    pub external_ref: Option<ExternalRef>,
    /// Name shown to Claims IA, e.g. `J. Martin`.
    pub display_name: Name,
    /// Contact e-mail.
    #[serde(default)]
    pub email: Option<Email>,
    /// Contact phone.
    #[serde(default)]
    pub phone: Option<Phone>,
    /// Loss adjuster or repairer.
    #[serde(default)]
    pub partner_kind: PartnerKind,
    /// Inactive experts are never offered (default `true`).
    #[serde(default = "defaults::active")]
    pub active: bool,
    /// IANA time zone of the working hours (default `Europe/Paris`).
    #[serde(default)]
    pub time_zone: TimeZone,
    /// Starting point for travel and radius zones.
    #[serde(default)]
    pub base: Option<Base>,
    /// On-site zone.
    #[serde(default)]
    pub zone: Zone,
    /// Accepted work.
    #[serde(default)]
    pub skills: Skills,
    /// Appointment lengths.
    #[serde(default)]
    pub durations_minutes: Durations,
    /// Free time kept before and after each appointment.
    #[serde(default)]
    #[schema(maximum = 240)]
    pub buffer_minutes: u16,
    /// Most appointments in one local day.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub max_appointments_per_day: Option<u16>,
    /// Shortest notice before an appointment, in hours.
    #[serde(default)]
    #[schema(maximum = 2160)]
    pub min_notice_hours: u16,
    /// Working hours per weekday, local time.
    #[serde(default)]
    pub weekly_hours: WeeklyHours,
}

fn at_most(len: usize, max: usize, pointer: &str) -> Result<(), Invalid> {
    if len > max {
        return Err(Invalid::new(pointer, format!("at most {max} entries")));
    }
    Ok(())
}

impl ExpertProfile {
    /// Checks the rules that span fields or bound numbers; types already hold the rest.
    pub fn check(&self) -> Result<(), Invalid> {
        use limits::{
            ACCEPT_LIST, BUFFER_MINUTES, DEPARTMENTS, DURATION_MINUTES, NOTICE_HOURS, PER_DAY,
            RADIUS_KM,
        };
        at_most(
            self.zone.departments.len(),
            DEPARTMENTS,
            "/zone/departments",
        )?;
        let skills = &self.skills;
        at_most(skills.claim_types.len(), ACCEPT_LIST, "/skills/claimTypes")?;
        at_most(skills.insurers.len(), ACCEPT_LIST, "/skills/insurers")?;
        at_most(
            skills.dwelling_types.len(),
            ACCEPT_LIST,
            "/skills/dwellingTypes",
        )?;
        if let Some(radius) = self.zone.radius_km {
            if !(1..=RADIUS_KM).contains(&radius) {
                return Err(Invalid::new(
                    "/zone/radiusKm",
                    format!("must be 1 to {RADIUS_KM}"),
                ));
            }
            if self.base.is_none() {
                return Err(Invalid::new("/base", "a radius zone needs a base"));
            }
        }
        for kind in ExpertiseType::ALL {
            let minutes = self.durations_minutes.get(kind);
            if !(DURATION_MINUTES.0..=DURATION_MINUTES.1).contains(&minutes) {
                return Err(Invalid::new(
                    format!("/durationsMinutes/{}", kind.as_str()),
                    format!(
                        "must be {} to {} minutes",
                        DURATION_MINUTES.0, DURATION_MINUTES.1
                    ),
                ));
            }
        }
        if self.buffer_minutes > BUFFER_MINUTES {
            return Err(Invalid::new(
                "/bufferMinutes",
                format!("must be at most {BUFFER_MINUTES}"),
            ));
        }
        if let Some(per_day) = self.max_appointments_per_day {
            if !(1..=PER_DAY).contains(&per_day) {
                return Err(Invalid::new(
                    "/maxAppointmentsPerDay",
                    format!("must be 1 to {PER_DAY}"),
                ));
            }
        }
        if self.min_notice_hours > NOTICE_HOURS {
            return Err(Invalid::new(
                "/minNoticeHours",
                format!("must be at most {NOTICE_HOURS}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> serde_json::Value {
        json!({ "displayName": "J. Martin" })
    }

    fn parse(value: serde_json::Value) -> ExpertProfile {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_minimal_expert_gets_the_documented_defaults() {
        let expert = parse(minimal());
        assert!(expert.active);
        assert_eq!(expert.partner_kind, PartnerKind::Expert);
        assert_eq!(expert.durations_minutes.get(ExpertiseType::Ess), 90);
        assert_eq!(expert.time_zone, TimeZone::default());
        assert!(expert.check().is_ok());
    }

    #[test]
    fn the_contract_example_expert_is_accepted() {
        let expert = parse(json!({
            "displayName": "J. Martin", "email": "j.martin@example.fr", "phone": "+33612345678",
            "partnerKind": "EXPERT", "active": true, "timeZone": "Europe/Paris",
            "base": { "geo": { "lat": 48.85, "lon": 2.35 } },
            "zone": { "departments": ["75", "92", "93", "94"], "radiusKm": 40, "area": null },
            "skills": { "claimTypes": ["DDE", "DE"], "expertiseTypes": ["ESS", "VISIO"],
                        "insurers": [], "insuredTypes": [], "dwellingTypes": [], "maxStake": 15000.00 },
            "durationsMinutes": { "VISIO": 45, "EAD": 60, "ESS": 90, "CONTRADICTOIRE": 120 },
            "bufferMinutes": 15, "maxAppointmentsPerDay": 5, "minNoticeHours": 24,
            "weeklyHours": { "MON": [["08:30", "12:00"], ["13:30", "18:00"]], "TUE": [] }
        }));
        assert_eq!(expert.check(), Ok(()));
        assert_eq!(expert.zone.radius_km, Some(40));
    }

    #[test]
    fn a_radius_without_base_is_rejected() {
        let mut value = minimal();
        value["zone"] = json!({ "radiusKm": 30 });
        assert_eq!(parse(value).check().unwrap_err().pointer, "/base");
    }

    #[test]
    fn a_zero_minute_duration_is_rejected_with_its_pointer() {
        let mut value = minimal();
        value["durationsMinutes"] = json!({ "ESS": 0 });
        assert_eq!(
            parse(value).check().unwrap_err().pointer,
            "/durationsMinutes/ESS"
        );
    }

    #[test]
    fn a_server_owned_id_cannot_be_mass_assigned() {
        let mut value = minimal();
        value["id"] = json!("x");
        assert!(serde_json::from_value::<ExpertProfile>(value).is_err());
    }

    #[test]
    fn a_profile_round_trips_through_json() {
        let expert = parse(minimal());
        let again: ExpertProfile =
            serde_json::from_str(&serde_json::to_string(&expert).unwrap()).unwrap();
        assert_eq!(expert, again);
    }
}
