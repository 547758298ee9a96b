//! Pure domain types of Créneau, written in the "parse, don't validate" style.
//!
//! Every type in this module can only hold a valid value: the only ways to
//! build one are its constructors (`parse`, `TryFrom`, `FromStr`, or a
//! checked `new`), which return a typed error whose `Display` is a short
//! human sentence (e.g. "must be 5 digits") fit to be shown as an API error
//! detail. Deserialization always goes through the same validation, so a
//! handler that receives a [`PostalCode`] or a [`WeeklyHours`] never has to
//! check it again: invalid input is rejected at the edge, once.
//!
//! Each type also derives or implements [`utoipa::ToSchema`] with a schema
//! that describes exactly what is accepted (patterns, enum values, bounds).
//!
//! This module has no I/O and no dependency on the rest of the crate.

/// Implements the usual conversions of a validated string newtype
/// `$ty(String)` whose `parse(&str)` returns `Result<Self, $err>`:
/// `as_str`, `AsRef<str>`, `Display`, `FromStr`, `TryFrom<String>` and
/// `From<$ty> for String` (the last two back `#[serde(try_from, into)]`).
macro_rules! string_newtype {
    ($ty:ident, $err:ty) => {
        impl $ty {
            /// The validated value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
    };
}

pub mod appointment;
pub mod codes;
pub mod dossier;
pub mod expert;
pub mod firm;
pub mod hours;
mod invalid;
pub mod json;
pub mod money;
pub mod place;
pub mod postal;
pub mod settlement;
pub mod siret;
pub mod text;
pub mod timezone;

pub use codes::{
    ClaimType, ClaimTypeError, Code, CodeError, ExpertiseType, InsuredType, Insurer, InsurerError,
    PartnerKind, UnknownValue,
};
pub use hours::{HoursError, TimeRange, WeeklyHours};
pub use invalid::Invalid;
pub use json::from_json;
pub use money::{Money, MoneyError, Stake};
pub use place::{
    Address, AddressError, Area, AreaError, CountryCode, CountryCodeError, GeoPoint, GeoPointError,
    Place,
};
pub use postal::{Department, DepartmentError, PostalCode, PostalCodeError};
pub use siret::{Siret, SiretError};
pub use timezone::{TimeZone, TimeZoneError};
