//! Amounts of money in euros, and the financial stake of a claim.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Largest amount accepted, in cents (one billion euros).
const MAX_CENTS: i64 = 100_000_000_000;

/// Error of building a [`Money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// A negative amount.
    #[error("must not be negative")]
    Negative,
    /// More than 1,000,000,000.00.
    #[error("must be at most 1000000000")]
    TooLarge,
    /// More than 2 decimals.
    #[error("must have at most 2 decimals")]
    TooPrecise,
    /// NaN or infinite.
    #[error("must be a finite number")]
    NotFinite,
}

/// A non-negative amount in euros with at most 2 decimals, at most one
/// billion, stored exactly as cents. JSON: a number such as `4200.5`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    /// Zero euros.
    pub const ZERO: Money = Money(0);

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// An amount from cents, if within `0..=100_000_000_000`.
    pub fn from_cents(cents: i64) -> Option<Money> {
        (0..=MAX_CENTS).contains(&cents).then_some(Money(cents))
    }

    /// An amount from whole euros.
    pub fn from_euros(euros: u64) -> Result<Money, MoneyError> {
        i64::try_from(euros)
            .ok()
            .and_then(|e| e.checked_mul(100))
            .and_then(Self::from_cents)
            .ok_or(MoneyError::TooLarge)
    }

    /// An amount from a number of euros such as `12.34`.
    ///
    /// Any `f64` that is the nearest double to a decimal with at most two
    /// decimals is accepted (a tolerance of a few ULPs absorbs parsers that
    /// are not correctly rounded); `4200.505` is rejected.
    pub fn from_euros_f64(euros: f64) -> Result<Money, MoneyError> {
        if !euros.is_finite() {
            return Err(MoneyError::NotFinite);
        }
        if euros < 0.0 {
            return Err(MoneyError::Negative);
        }
        let scaled = euros * 100.0;
        // Checked before the cast, so the cast below cannot saturate.
        if scaled > 1.0e11 + 0.5 {
            return Err(MoneyError::TooLarge);
        }
        let rounded = scaled.round();
        if (scaled - rounded).abs() > scaled.max(1.0) * 4.0 * f64::EPSILON {
            return Err(MoneyError::TooPrecise);
        }
        #[allow(clippy::cast_possible_truncation)]
        let cents = rounded as i64;
        Self::from_cents(cents).ok_or(MoneyError::TooLarge)
    }

    /// The amount in euros, as the nearest `f64` (exact for display).
    #[allow(clippy::cast_precision_loss)]
    pub fn euros(self) -> f64 {
        // At most 1e11 cents, below 2^53: exact before the division.
        self.0 as f64 / 100.0
    }
}

impl TryFrom<f64> for Money {
    type Error = MoneyError;
    fn try_from(euros: f64) -> Result<Self, Self::Error> {
        Self::from_euros_f64(euros)
    }
}

impl std::fmt::Display for Money {
    /// Euros with two decimals, e.g. `4200.50`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.euros())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

/// Accepts JSON numbers only.
struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a number of euros with at most 2 decimals")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        Money::from_euros(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(MoneyError::Negative)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
        Money::from_euros_f64(v).map_err(E::custom)
    }
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0))
            .maximum(Some(1_000_000_000))
            .multiple_of(Some(0.01))
            .description(Some("Amount in euros, at most 2 decimals"))
            .examples([serde_json::json!(4200.5)])
            .into()
    }
}

impl ToSchema for Money {}

/// The financial stake of a claim: its total and, optionally, how it splits
/// between movable and immovable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stake {
    /// Total stake.
    pub total: Money,
    /// Stake on movable property (contents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movable: Option<Money>,
    /// Stake on immovable property (buildings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immovable: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{from_str, from_value, json, to_string, to_value};

    fn parse(json: &str) -> Result<Money, String> {
        from_str::<Money>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn whole_and_two_decimal_amounts_are_stored_as_exact_cents() {
        assert_eq!(parse("4200").unwrap().cents(), 420_000);
        assert_eq!(parse("4200.5").unwrap().cents(), 420_050);
        assert_eq!(parse("12.34").unwrap().cents(), 1234);
        assert_eq!(parse("0.1").unwrap().cents(), 10);
        assert_eq!(parse("0").unwrap(), Money::ZERO);
        assert_eq!(parse("1e3").unwrap().cents(), 100_000);
    }

    #[test]
    fn an_amount_with_three_decimals_is_rejected() {
        assert!(
            parse("4200.505")
                .unwrap_err()
                .starts_with("must have at most 2 decimals")
        );
        assert!(parse("0.001").is_err());
        assert!(parse("12.340000001").is_err());
    }

    #[test]
    fn a_negative_amount_is_rejected() {
        assert!(parse("-1").unwrap_err().starts_with("must not be negative"));
        assert!(
            parse("-0.01")
                .unwrap_err()
                .starts_with("must not be negative")
        );
    }

    #[test]
    fn amounts_above_one_billion_are_rejected() {
        assert_eq!(parse("1000000000").unwrap().cents(), MAX_CENTS);
        assert_eq!(parse("1000000000.00").unwrap().cents(), MAX_CENTS);
        assert_eq!(parse("999999999.99").unwrap().cents(), MAX_CENTS - 1);
        assert!(
            parse("1000000000.01")
                .unwrap_err()
                .starts_with("must be at most 1000000000")
        );
        assert!(parse("1e300").is_err());
        assert!(parse("18446744073709551615").is_err());
    }

    #[test]
    fn an_amount_given_as_a_string_or_null_is_rejected() {
        assert!(
            parse("\"12.34\"")
                .unwrap_err()
                .contains("a number of euros")
        );
        assert!(parse("null").is_err());
    }

    #[test]
    fn twelve_thirty_four_round_trips_exactly() {
        assert_eq!(to_string(&parse("12.34").unwrap()).unwrap(), "12.34");
        assert_eq!(to_string(&parse("4200.5").unwrap()).unwrap(), "4200.5");
        assert_eq!(to_string(&parse("4200").unwrap()).unwrap(), "4200.0");
    }

    #[test]
    fn every_cent_amount_round_trips_through_json() {
        let samples = (0..2_000)
            .chain((0..2_000).map(|i| MAX_CENTS - i))
            .chain((1..40).map(|i| 7_i64.pow(i / 3) + i64::from(i)));
        for cents in samples.filter(|c| *c <= MAX_CENTS) {
            let m = Money::from_cents(cents).unwrap();
            assert_eq!(
                from_str::<Money>(&to_string(&m).unwrap()).unwrap(),
                m,
                "{cents}"
            );
        }
    }

    #[test]
    fn non_finite_values_and_out_of_range_cents_are_rejected() {
        assert_eq!(Money::try_from(f64::NAN), Err(MoneyError::NotFinite));
        assert_eq!(Money::try_from(f64::INFINITY), Err(MoneyError::NotFinite));
        assert_eq!(Money::from_cents(-1), None);
        assert_eq!(Money::from_cents(MAX_CENTS + 1), None);
        assert_eq!(Money::from_euros(u64::MAX), Err(MoneyError::TooLarge));
    }

    #[test]
    fn money_displays_with_two_decimals() {
        assert_eq!(Money::from_cents(420_050).unwrap().to_string(), "4200.50");
        assert_eq!(Money::from_cents(7).unwrap().to_string(), "0.07");
    }

    #[test]
    fn a_stake_reads_camel_case_with_optional_parts() {
        let stake: Stake = from_value(json!({"total": 5000, "movable": 1200.5})).unwrap();
        assert_eq!(stake.total.cents(), 500_000);
        assert_eq!(stake.movable.map(Money::cents), Some(120_050));
        assert_eq!(stake.immovable, None);
        assert_eq!(
            to_value(stake).unwrap(),
            json!({"total": 5000.0, "movable": 1200.5})
        );
    }

    #[test]
    fn a_stake_rejects_unknown_fields_missing_total_and_bad_amounts() {
        assert!(from_value::<Stake>(json!({"total": 1, "furniture": 2})).is_err());
        assert!(from_value::<Stake>(json!({"movable": 2})).is_err());
        let err = from_value::<Stake>(json!({"total": 1, "immovable": -3})).unwrap_err();
        assert_eq!(err.to_string(), "must not be negative");
    }

    #[test]
    fn the_money_schema_is_a_non_negative_number_in_cents_steps() {
        let s = to_value(Money::schema()).unwrap();
        assert_eq!(s["type"], json!("number"));
        assert_eq!(s["minimum"], json!(0));
        assert_eq!(s["multipleOf"], json!(0.01));
    }
}
