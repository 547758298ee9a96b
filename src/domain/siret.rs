//! SIRET numbers, which identify a French establishment.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The SIREN of La Poste, whose SIRETs follow their own checksum rule.
const LA_POSTE_SIREN: &str = "356000000";

/// Error of [`Siret::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    /// Not 14 digits once spaces are removed.
    #[error("must be 14 digits")]
    Format,
    /// 14 digits whose check digit is wrong.
    #[error("is not a valid SIRET (wrong check digit)")]
    Checksum,
}

/// A SIRET: 14 digits (SIREN + establishment number) with a valid Luhn
/// checksum. La Poste's establishments (SIREN `356000000`) may instead have
/// a digit sum divisible by 5. Stored without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^( *[0-9]){14} *$", example = "73282932000074")]
pub struct Siret(String);
string_newtype!(Siret, SiretError);

impl Siret {
    /// Parses a SIRET, ignoring ASCII spaces (`"732 829 320 00074"`).
    pub fn parse(s: &str) -> Result<Self, SiretError> {
        let digits: String = s.chars().filter(|&c| c != ' ').collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SiretError::Format);
        }
        let valid = luhn_valid(&digits)
            || (digits.starts_with(LA_POSTE_SIREN) && digit_sum(&digits) % 5 == 0);
        if valid {
            Ok(Self(digits))
        } else {
            Err(SiretError::Checksum)
        }
    }

    /// The SIREN, i.e. the first 9 digits, which identify the company.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

/// Sum of the digits of an all-ASCII-digit string.
fn digit_sum(digits: &str) -> u32 {
    digits.bytes().map(|b| u32::from(b - b'0')).sum()
}

/// Luhn checksum of an all-ASCII-digit string: doubling every second digit
/// from the right, the total is a multiple of 10.
fn luhn_valid(digits: &str) -> bool {
    let total: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d > 4 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    total % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{from_value, json, to_value};

    #[test]
    fn real_luhn_valid_sirets_are_accepted() {
        for s in [
            "73282932000074",
            "55210055400013",
            "35600000000048",
            "44306184100047",
        ] {
            assert_eq!(Siret::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn a_siret_with_spaces_is_accepted_and_stored_without_them() {
        let siret = Siret::parse("732 829 320 00074").unwrap();
        assert_eq!(siret.as_str(), "73282932000074");
        assert_eq!(siret.siren(), "732829320");
    }

    #[test]
    fn a_siret_with_one_digit_changed_is_rejected() {
        assert_eq!(Siret::parse("73282932000075"), Err(SiretError::Checksum));
        assert_eq!(Siret::parse("73282932100074"), Err(SiretError::Checksum));
    }

    #[test]
    fn a_siret_with_thirteen_or_fifteen_digits_is_rejected() {
        assert_eq!(Siret::parse("7328293200007"), Err(SiretError::Format));
        assert_eq!(Siret::parse("732829320000740"), Err(SiretError::Format));
        assert_eq!(Siret::parse(""), Err(SiretError::Format));
    }

    #[test]
    fn a_siret_with_letters_tabs_or_dashes_is_rejected() {
        for bad in [
            "7328293200007A",
            "732829320\t00074",
            "732-829-320-00074",
            "７３２８２９３２０００７４",
        ] {
            assert_eq!(Siret::parse(bad), Err(SiretError::Format), "{bad:?}");
        }
    }

    #[test]
    fn la_poste_sirets_may_have_a_digit_sum_divisible_by_five_instead_of_luhn() {
        // Digit sum 15, Luhn sum 15: only the La Poste rule accepts it.
        assert!(!luhn_valid("35600000000001"));
        assert_eq!(Siret::parse("35600000000001").unwrap().siren(), "356000000");
        // Digit sum 16, Luhn sum 16: neither rule accepts it.
        assert_eq!(Siret::parse("35600000000002"), Err(SiretError::Checksum));
    }

    #[test]
    fn the_la_poste_rule_does_not_apply_to_other_sirens() {
        // Digit sum 20 but not Luhn-valid, SIREN 356000001.
        assert_eq!(Siret::parse("35600000100005"), Err(SiretError::Checksum));
    }

    #[test]
    fn a_siret_deserializes_through_validation_and_serializes_without_spaces() {
        let siret: Siret = from_value(json!("732 829 320 00074")).unwrap();
        assert_eq!(to_value(&siret).unwrap(), json!("73282932000074"));
        let err = from_value::<Siret>(json!("73282932000075"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "is not a valid SIRET (wrong check digit)");
        assert_eq!(
            from_value::<Siret>(json!("123")).unwrap_err().to_string(),
            "must be 14 digits"
        );
    }
}
