//! Closed enumerations and short upper-case codes of the claims protocol.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Error of `FromStr` on the enumerations of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of {list}", list = .expected.join(", "))]
pub struct UnknownValue {
    /// The accepted values.
    pub expected: &'static [&'static str],
}

/// Implements `as_str`, `Display` and `FromStr` for a unit-only enum whose
/// wire names are given (they must match the serde names).
macro_rules! enum_strings {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The wire name of this value, as used in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Self::$variant),)+
                    _ => Err(UnknownValue { expected: &[$($name),+] }),
                }
            }
        }
    };
}

/// Kind of partner taking appointments: a loss adjuster or a repair network.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum PartnerKind {
    /// A loss adjuster (expert).
    #[default]
    Expert,
    /// A repair network (réseau d'entreprises de réparation).
    Ren,
}
enum_strings!(PartnerKind { Expert => "EXPERT", Ren => "REN" });

/// Whether the insured is a private individual or a professional.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum InsuredType {
    /// A private individual.
    Particulier,
    /// A professional (company, shop, liberal profession...).
    Pro,
}
enum_strings!(InsuredType { Particulier => "PARTICULIER", Pro => "PRO" });

/// How an expertise is carried out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExpertiseType {
    /// Video call with the insured.
    Visio,
    /// Remote expertise on documents (expertise à distance).
    Ead,
    /// On-site expertise (expertise sur site).
    Ess,
    /// On-site expertise with all the parties (contradictoire).
    Contradictoire,
}
enum_strings!(ExpertiseType {
    Visio => "VISIO",
    Ead => "EAD",
    Ess => "ESS",
    Contradictoire => "CONTRADICTOIRE",
});

impl ExpertiseType {
    /// Every expertise type, in declaration order.
    pub const ALL: [ExpertiseType; 4] = [Self::Visio, Self::Ead, Self::Ess, Self::Contradictoire];

    /// The position of this type in [`ExpertiseType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the expertise happens without travelling (VISIO and EAD).
    pub fn is_remote(self) -> bool {
        matches!(self, Self::Visio | Self::Ead)
    }
}

/// Whether `s` is 1 to `max` characters among `A-Z`, `0-9` and `_`.
fn is_code(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Error of [`ClaimType::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 20 characters among A-Z, 0-9 and _")]
pub struct ClaimTypeError;

/// A claim type code such as `DDE` (water damage), `DE`, `CATNAT` or `VOL`.
///
/// Codes unknown to Créneau are valid: insurers add their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Z0-9_]{1,20}$", example = "DDE")]
pub struct ClaimType(String);
string_newtype!(ClaimType, ClaimTypeError);

impl ClaimType {
    /// Parses a claim type code (`[A-Z0-9_]{1,20}`).
    pub fn parse(s: &str) -> Result<Self, ClaimTypeError> {
        if is_code(s, 20) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ClaimTypeError)
        }
    }
}

/// Error of [`Code::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 30 characters among A-Z, 0-9 and _")]
pub struct CodeError;

/// An open upper-case code, used for `dwellingType` and `insuredCapacity`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Z0-9_]{1,30}$", example = "MAISON")]
pub struct Code(String);
string_newtype!(Code, CodeError);

impl Code {
    /// Parses a code (`[A-Z0-9_]{1,30}`).
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if is_code(s, 30) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CodeError)
        }
    }
}

/// Error of [`Insurer::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsurerError {
    /// Nothing but whitespace.
    #[error("must not be empty")]
    Empty,
    /// More than 64 characters once trimmed and upper-cased.
    #[error("must be at most 64 characters")]
    TooLong,
    /// A control character such as a newline.
    #[error("must not contain control characters")]
    ControlCharacter,
}

/// An insurer's name, trimmed and upper-cased so that `"Axa"` equals `"AXA"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(
    value_type = String,
    pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*\\S[^\\u0000-\\u001F\\u007F-\\u009F]*$",
    example = "AXA"
)]
pub struct Insurer(String);
string_newtype!(Insurer, InsurerError);

impl Insurer {
    /// Parses an insurer name: trimmed, 1 to 64 characters, no control
    /// characters, stored upper-case.
    pub fn parse(s: &str) -> Result<Self, InsurerError> {
        let name = s.trim().to_uppercase();
        if name.is_empty() {
            Err(InsurerError::Empty)
        } else if name.chars().any(char::is_control) {
            Err(InsurerError::ControlCharacter)
        } else if name.chars().count() > 64 {
            Err(InsurerError::TooLong)
        } else {
            Ok(Self(name))
        }
    }
}

#[cfg(test)]
mod tests;
