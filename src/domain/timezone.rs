//! IANA time zones, in which partners' working hours are expressed.

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// Error of [`TimeZone::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// The empty string.
    #[error("must not be empty")]
    Empty,
    /// Longer than 64 characters.
    #[error("must be at most 64 characters")]
    TooLong,
    /// Not a name of the IANA time zone database.
    #[error("must be an IANA time zone name such as Europe/Paris")]
    Unknown,
}

/// An IANA time zone such as `Europe/Paris`, `America/Martinique` or
/// `Indian/Reunion`, serialized as its name. Defaults to `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl utoipa::PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
            .description(Some(
                "An IANA time zone name such as `Europe/Paris`, `America/Martinique` or \
                 `Indian/Reunion`.",
            ))
            .examples([serde_json::json!("Europe/Paris")])
            .into()
    }
}

impl utoipa::ToSchema for TimeZone {}

impl TimeZone {
    /// Parses an IANA time zone name (case-sensitive, at most 64 characters).
    pub fn parse(s: &str) -> Result<Self, TimeZoneError> {
        if s.is_empty() {
            Err(TimeZoneError::Empty)
        } else if s.len() > 64 {
            Err(TimeZoneError::TooLong)
        } else {
            s.parse().map(Self).map_err(|_| TimeZoneError::Unknown)
        }
    }

    /// The underlying `chrono_tz` time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name, e.g. `Europe/Paris`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::Europe::Paris)
    }
}

impl From<chrono_tz::Tz> for TimeZone {
    fn from(tz: chrono_tz::Tz) -> Self {
        Self(tz)
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for TimeZone {
    type Err = TimeZoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TimeZone {
    type Error = TimeZoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TimeZone> for String {
    fn from(tz: TimeZone) -> String {
        tz.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Offset, TimeZone as _};
    use serde_json::{from_value, json, to_value};

    #[test]
    fn french_time_zones_are_accepted_by_their_iana_name() {
        for name in [
            "Europe/Paris",
            "America/Martinique",
            "Indian/Reunion",
            "Pacific/Noumea",
            "UTC",
        ] {
            assert_eq!(TimeZone::parse(name).unwrap().name(), name);
        }
    }

    #[test]
    fn the_default_time_zone_is_paris() {
        assert_eq!(TimeZone::default().tz(), chrono_tz::Europe::Paris);
        assert_eq!(TimeZone::default().to_string(), "Europe/Paris");
    }

    #[test]
    fn empty_unknown_and_overlong_names_are_rejected() {
        assert_eq!(TimeZone::parse(""), Err(TimeZoneError::Empty));
        assert_eq!(TimeZone::parse("Europe/Lyon"), Err(TimeZoneError::Unknown));
        assert_eq!(
            TimeZone::parse(" Europe/Paris"),
            Err(TimeZoneError::Unknown)
        );
        assert_eq!(
            TimeZone::parse(&"A".repeat(65)),
            Err(TimeZoneError::TooLong)
        );
    }

    #[test]
    fn a_time_zone_round_trips_through_json_as_its_name() {
        let tz: TimeZone = from_value(json!("Indian/Reunion")).unwrap();
        assert_eq!(tz.tz(), chrono_tz::Indian::Reunion);
        assert_eq!(to_value(tz).unwrap(), json!("Indian/Reunion"));
        let err = from_value::<TimeZone>(json!("Mars/Olympus"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "must be an IANA time zone name such as Europe/Paris");
    }

    #[test]
    fn the_time_zone_gives_the_local_offset() {
        let tz = TimeZone::parse("America/Martinique").unwrap().tz();
        let noon = NaiveDate::from_ymd_opt(2025, 7, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let offset = tz.offset_from_utc_datetime(&noon).fix().local_minus_utc();
        assert_eq!(offset, -4 * 3600);
    }
}
