//! Postal addresses and places (an address, optionally geocoded).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

use super::super::postal::PostalCode;
use super::super::text;
use super::{CountryCode, GeoPoint};

/// Most characters in a line of an address or in a city name.
const MAX_TEXT: usize = 200;

/// Error of [`Address::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// A required text (`line1`, `city`) that is blank.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A text over 200 characters.
    #[error("{0} must be at most 200 characters")]
    TooLong(&'static str),
    /// A text with a control character such as a newline.
    #[error("{0} must not contain control characters")]
    ControlCharacter(&'static str),
}

/// A postal address. Texts are trimmed, 1 to 200 characters (`line2` may be
/// absent; a blank `line2` counts as absent) without control characters;
/// `country` defaults to `FR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// First line: number and street.
    #[schema(schema_with = line_schema)]
    line1: String,
    /// Second line: building, floor, locality...
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = optional_line_schema)]
    line2: Option<String>,
    /// Postal code.
    postal_code: PostalCode,
    /// City.
    #[schema(schema_with = line_schema)]
    city: String,
    /// Country, `FR` when absent.
    #[serde(default)]
    country: CountryCode,
}

fn line_schema() -> RefOr<Schema> {
    text::string_schema(
        text::pattern(MAX_TEXT, false),
        "1 to 200 characters once trimmed, no control characters",
    )
}

fn optional_line_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(Some(format!(
            "^[{}]*$|{}",
            text::SPACE,
            text::pattern(MAX_TEXT, false)
        )))
        .description(Some(
            "Absent, null, blank, or 1 to 200 characters once trimmed, no control characters",
        ))
        .into()
}

/// Trims `value` and checks its length and characters.
fn text(field: &'static str, value: &str) -> Result<String, AddressError> {
    let value = value.trim();
    if value.is_empty() {
        Err(AddressError::Empty(field))
    } else if value.chars().count() > MAX_TEXT {
        Err(AddressError::TooLong(field))
    } else if value.chars().any(char::is_control) {
        Err(AddressError::ControlCharacter(field))
    } else {
        Ok(value.to_owned())
    }
}

impl Address {
    /// Builds an address, trimming and checking its texts.
    pub fn new(
        line1: &str,
        line2: Option<&str>,
        postal_code: PostalCode,
        city: &str,
        country: CountryCode,
    ) -> Result<Self, AddressError> {
        Ok(Self {
            line1: text("line1", line1)?,
            line2: match line2.map(str::trim) {
                None | Some("") => None,
                Some(l2) => Some(text("line2", l2)?),
            },
            postal_code,
            city: text("city", city)?,
            country,
        })
    }

    /// First line: number and street.
    pub fn line1(&self) -> &str {
        &self.line1
    }

    /// Second line, if any.
    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }

    /// Postal code.
    pub fn postal_code(&self) -> &PostalCode {
        &self.postal_code
    }

    /// City.
    pub fn city(&self) -> &str {
        &self.city
    }

    /// Country.
    pub fn country(&self) -> &CountryCode {
        &self.country
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The unchecked JSON shape.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Raw {
            line1: String,
            #[serde(default)]
            line2: Option<String>,
            postal_code: PostalCode,
            city: String,
            #[serde(default)]
            country: CountryCode,
        }
        let raw = Raw::deserialize(deserializer)?;
        Self::new(
            &raw.line1,
            raw.line2.as_deref(),
            raw.postal_code,
            &raw.city,
            raw.country,
        )
        .map_err(D::Error::custom)
    }
}

/// A place: a postal address and, when known, its coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Place {
    /// Postal address.
    pub address: Address,
    /// Coordinates, when geocoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoPoint>,
}
