//! French postal codes and the departments they belong to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub mod centroids;

/// Error of [`PostalCode::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 5 digits")]
pub struct PostalCodeError;

/// A French postal code: exactly 5 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[0-9]{5}$", example = "75011")]
pub struct PostalCode(String);
string_newtype!(PostalCode, PostalCodeError);

impl PostalCode {
    /// Parses a postal code (exactly 5 ASCII digits, nothing around).
    pub fn parse(s: &str) -> Result<Self, PostalCodeError> {
        if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(PostalCodeError)
        }
    }

    /// The department of this postal code, or `None` when the code belongs
    /// to no department (e.g. `98000`, Monaco, which maps to `980`).
    ///
    /// The rule: the first two digits, except in Corsica (`20000..=20199`
    /// is `2A`, `20200..=20999` is `2B`) and overseas, where codes starting
    /// with `97` or `98` use their first three digits (`97411` is `974`).
    pub fn department(&self) -> Option<Department> {
        let code = self.0.as_str();
        let candidate = match &code[..2] {
            "20" if code.as_bytes()[2] < b'2' => "2A",
            "20" => "2B",
            "97" | "98" => &code[..3],
            _ => &code[..2],
        };
        Department::parse(candidate).ok()
    }
}

/// Error of [`Department::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a French department number such as 01, 2A or 974")]
pub struct DepartmentError;

/// A French department number: `01`..`95` (but not `20`), `2A`, `2B`, or an
/// overseas one (`971`..`978`, `986`, `987`, `988`). Stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(
    value_type = String,
    pattern = "^(0[1-9]|1[0-9]|2[1-9AaBb]|[3-8][0-9]|9[0-5]|97[1-8]|98[6-8])$",
    example = "2A"
)]
pub struct Department(String);
string_newtype!(Department, DepartmentError);

impl Department {
    /// Parses a department number; `2a`/`2b` are accepted and stored as
    /// `2A`/`2B`.
    pub fn parse(s: &str) -> Result<Self, DepartmentError> {
        let upper = s.to_ascii_uppercase();
        let valid = match upper.as_bytes() {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                matches!(upper.parse::<u8>(), Ok(n) if (1..=95).contains(&n) && n != 20)
            }
            [b'2', b'A' | b'B'] | [b'9', b'7', b'1'..=b'8'] | [b'9', b'8', b'6'..=b'8'] => true,
            _ => false,
        };
        if valid {
            Ok(Self(upper))
        } else {
            Err(DepartmentError)
        }
    }

    /// Whether this is an overseas department or collectivity (3 characters).
    pub fn is_overseas(&self) -> bool {
        self.0.len() == 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{from_value, json, to_value};

    fn dept_of(code: &str) -> Option<String> {
        PostalCode::parse(code)
            .unwrap()
            .department()
            .map(String::from)
    }

    #[test]
    fn a_postal_code_with_five_digits_is_accepted() {
        for code in ["75011", "01000", "97411", "20000", "99999", "00000"] {
            assert_eq!(PostalCode::parse(code).unwrap().as_str(), code);
        }
    }

    #[test]
    fn a_postal_code_with_four_digits_is_rejected() {
        assert_eq!(PostalCode::parse("7501"), Err(PostalCodeError));
    }

    #[test]
    fn postal_codes_with_letters_spaces_or_six_digits_are_rejected() {
        for bad in [
            "",
            "750111",
            "7501A",
            " 75011",
            "75 011",
            "2A000",
            "７５０１１",
        ] {
            assert_eq!(PostalCode::parse(bad), Err(PostalCodeError), "{bad:?}");
        }
    }

    #[test]
    fn a_postal_code_deserializes_only_from_a_valid_string() {
        assert_eq!(
            from_value::<PostalCode>(json!("1234"))
                .unwrap_err()
                .to_string(),
            "must be 5 digits"
        );
        assert!(from_value::<PostalCode>(json!(75011)).is_err());
        let pc: PostalCode = from_value(json!("69003")).unwrap();
        assert_eq!(to_value(&pc).unwrap(), json!("69003"));
    }

    #[test]
    fn mainland_postal_codes_map_to_their_first_two_digits() {
        assert_eq!(dept_of("75011").as_deref(), Some("75"));
        assert_eq!(dept_of("01000").as_deref(), Some("01"));
        assert_eq!(dept_of("95880").as_deref(), Some("95"));
    }

    #[test]
    fn corsican_postal_codes_map_to_2a_and_2b() {
        assert_eq!(dept_of("20000").as_deref(), Some("2A"));
        assert_eq!(dept_of("20090").as_deref(), Some("2A"));
        assert_eq!(dept_of("20199").as_deref(), Some("2A"));
        assert_eq!(dept_of("20200").as_deref(), Some("2B"));
        assert_eq!(dept_of("20600").as_deref(), Some("2B"));
        assert_eq!(dept_of("20999").as_deref(), Some("2B"));
    }

    #[test]
    fn overseas_postal_codes_map_to_their_first_three_digits() {
        assert_eq!(dept_of("97411").as_deref(), Some("974"));
        assert_eq!(dept_of("97200").as_deref(), Some("972"));
        assert_eq!(dept_of("97133").as_deref(), Some("971"));
        assert_eq!(dept_of("98800").as_deref(), Some("988"));
        assert_eq!(dept_of("98714").as_deref(), Some("987"));
    }

    #[test]
    fn postal_codes_outside_any_department_have_none() {
        for code in [
            "98000", "00100", "96000", "99000", "97900", "97000", "98400", "98900",
        ] {
            assert_eq!(dept_of(code), None, "{code}");
        }
    }

    #[test]
    fn every_department_number_is_accepted() {
        let mut count = 0;
        for n in (1..=95).filter(|&n| n != 20) {
            assert!(Department::parse(&format!("{n:02}")).is_ok());
            count += 1;
        }
        for d in [
            "2A", "2B", "971", "972", "973", "974", "975", "976", "977", "978", "986", "987", "988",
        ] {
            assert!(Department::parse(d).is_ok(), "{d}");
            count += 1;
        }
        assert_eq!(count, 107);
    }

    #[test]
    fn corsican_departments_are_case_insensitive_and_stored_uppercase() {
        assert_eq!(Department::parse("2a").unwrap().as_str(), "2A");
        assert_eq!(
            from_value::<Department>(json!("2b")).unwrap().to_string(),
            "2B"
        );
    }

    #[test]
    fn non_departments_are_rejected() {
        for bad in [
            "", "0", "1", "00", "20", "96", "99", "2C", "970", "979", "980", "985", "989", "1A",
            "750", " 75", "+1",
        ] {
            assert_eq!(Department::parse(bad), Err(DepartmentError), "{bad:?}");
        }
        let err = from_value::<Department>(json!("20"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "must be a French department number such as 01, 2A or 974"
        );
    }

    #[test]
    fn only_three_character_departments_are_overseas() {
        assert!(Department::parse("974").unwrap().is_overseas());
        assert!(!Department::parse("2B").unwrap().is_overseas());
        assert!(!Department::parse("75").unwrap().is_overseas());
    }
}
