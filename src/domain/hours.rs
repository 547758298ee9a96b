//! Weekly working hours, as ranges of local time for each day of the week.

use chrono::Weekday;
use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Minutes in a day: `24:00` as an end time.
const DAY_END: u16 = 1440;
/// Most ranges allowed in one day.
const MAX_RANGES_PER_DAY: usize = 8;
/// The days, in JSON key order, with their keys.
const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "MON"),
    (Weekday::Tue, "TUE"),
    (Weekday::Wed, "WED"),
    (Weekday::Thu, "THU"),
    (Weekday::Fri, "FRI"),
    (Weekday::Sat, "SAT"),
    (Weekday::Sun, "SUN"),
];

/// Error of building a [`TimeRange`] or [`WeeklyHours`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// A time that is not `HH:MM` between `00:00` and `24:00`.
    #[error("times must be HH:MM between 00:00 and 24:00")]
    InvalidTime,
    /// A range starting at `24:00`.
    #[error("24:00 can only end a range")]
    StartAtDayEnd,
    /// A range whose start is not before its end.
    #[error("a range must start before it ends")]
    EmptyRange,
    /// Ranges of a day out of order or overlapping.
    #[error("{day}: ranges must be sorted and must not overlap")]
    Overlap {
        /// The day, e.g. `MON`.
        day: &'static str,
    },
    /// More than 8 ranges in a day.
    #[error("{day}: at most 8 ranges per day")]
    TooManyRanges {
        /// The day, e.g. `MON`.
        day: &'static str,
    },
    /// The same day given twice to [`WeeklyHours::from_days`].
    #[error("{day} is given twice")]
    DuplicateDay {
        /// The day, e.g. `MON`.
        day: &'static str,
    },
}

/// A non-empty half-open range `[start, end)` of local time, in minutes from
/// midnight: `0 <= start < end <= 1440`. JSON: `["08:30", "12:00"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeRange {
    start: u16,
    end: u16,
}

impl TimeRange {
    /// Builds a range from minutes since midnight.
    pub fn new(start: u16, end: u16) -> Result<Self, HoursError> {
        if start == DAY_END {
            Err(HoursError::StartAtDayEnd)
        } else if start > DAY_END || end > DAY_END {
            Err(HoursError::InvalidTime)
        } else if start >= end {
            Err(HoursError::EmptyRange)
        } else {
            Ok(Self { start, end })
        }
    }

    /// Parses a range from two `HH:MM` times.
    pub fn parse(start: &str, end: &str) -> Result<Self, HoursError> {
        Self::new(parse_hhmm(start)?, parse_hhmm(end)?)
    }

    /// Start, in minutes since local midnight (inclusive).
    pub fn start(self) -> u16 {
        self.start
    }

    /// End, in minutes since local midnight (exclusive, at most 1440).
    pub fn end(self) -> u16 {
        self.end
    }

    /// Whether `minute` (since local midnight) falls in `[start, end)`.
    pub fn contains(self, minute: u16) -> bool {
        (self.start..self.end).contains(&minute)
    }
}

/// Parses `HH:MM` (two digits each, `00:00` to `24:00`) into minutes.
fn parse_hhmm(s: &str) -> Result<u16, HoursError> {
    let &[h1, h2, b':', m1, m2] = s.as_bytes() else {
        return Err(HoursError::InvalidTime);
    };
    if ![h1, h2, m1, m2].iter().all(u8::is_ascii_digit) {
        return Err(HoursError::InvalidTime);
    }
    let hours = u16::from(h1 - b'0') * 10 + u16::from(h2 - b'0');
    let minutes = u16::from(m1 - b'0') * 10 + u16::from(m2 - b'0');
    let total = hours * 60 + minutes;
    if minutes > 59 || total > DAY_END {
        Err(HoursError::InvalidTime)
    } else {
        Ok(total)
    }
}

/// Formats minutes since midnight as `HH:MM`.
fn format_hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        [format_hhmm(self.start), format_hhmm(self.end)].serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let [start, end] = <[String; 2]>::deserialize(deserializer)?;
        Self::parse(&start, &end).map_err(D::Error::custom)
    }
}

impl PartialSchema for TimeRange {
    fn schema() -> RefOr<Schema> {
        let time = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"));
        ArrayBuilder::new()
            .items(time)
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("[start, end) in local time; 24:00 only as an end"))
            .examples([serde_json::json!(["08:30", "12:00"])])
            .into()
    }
}

impl ToSchema for TimeRange {}

/// Working hours for each day of the week, in the partner's local time.
///
/// Each day holds at most 8 sorted, non-overlapping ranges (touching ones
/// such as `08:00-12:00` then `12:00-13:00` are allowed). JSON:
/// `{"MON": [["08:30","12:00"],["13:30","18:00"]], "TUE": [], ...}`; missing
/// days have no hours, unknown keys are rejected, all 7 are written back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WeeklyHours {
    days: [Vec<TimeRange>; 7],
}

impl WeeklyHours {
    /// Builds weekly hours from minute pairs per day; days not listed have
    /// no hours. Used for tests and demo data.
    pub fn from_days<I>(days: I) -> Result<Self, HoursError>
    where
        I: IntoIterator<Item = (Weekday, Vec<(u16, u16)>)>,
    {
        let mut seen = [false; 7];
        let mut result = Self::default();
        for (weekday, pairs) in days {
            let i = index(weekday);
            if std::mem::replace(&mut seen[i], true) {
                return Err(HoursError::DuplicateDay { day: DAYS[i].1 });
            }
            result.days[i] = pairs
                .into_iter()
                .map(|(start, end)| TimeRange::new(start, end))
                .collect::<Result<_, _>>()?;
        }
        result.check()?;
        Ok(result)
    }

    /// The ranges of one day, sorted.
    pub fn day(&self, weekday: Weekday) -> &[TimeRange] {
        &self.days[index(weekday)]
    }

    /// Whether no day has any range.
    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Each day from Monday to Sunday with its ranges.
    pub fn iter(&self) -> impl Iterator<Item = (Weekday, &[TimeRange])> {
        DAYS.iter()
            .zip(&self.days)
            .map(|(&(wd, _), r)| (wd, r.as_slice()))
    }

    /// Checks the per-day rules: at most 8 ranges, sorted, no overlap.
    fn check(&self) -> Result<(), HoursError> {
        for ((_, day), ranges) in DAYS.iter().zip(&self.days) {
            if ranges.len() > MAX_RANGES_PER_DAY {
                return Err(HoursError::TooManyRanges { day });
            }
            if ranges.windows(2).any(|w| w[0].end > w[1].start) {
                return Err(HoursError::Overlap { day });
            }
        }
        Ok(())
    }
}

/// Index of a weekday in `DAYS`.
fn index(weekday: Weekday) -> usize {
    weekday.num_days_from_monday() as usize
}

/// The JSON shape of [`WeeklyHours`], read before the per-day checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeeklyHoursJson {
    #[serde(rename = "MON", default)]
    mon: Vec<TimeRange>,
    #[serde(rename = "TUE", default)]
    tue: Vec<TimeRange>,
    #[serde(rename = "WED", default)]
    wed: Vec<TimeRange>,
    #[serde(rename = "THU", default)]
    thu: Vec<TimeRange>,
    #[serde(rename = "FRI", default)]
    fri: Vec<TimeRange>,
    #[serde(rename = "SAT", default)]
    sat: Vec<TimeRange>,
    #[serde(rename = "SUN", default)]
    sun: Vec<TimeRange>,
}

impl Serialize for WeeklyHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(DAYS.len()))?;
        for ((_, key), ranges) in DAYS.iter().zip(&self.days) {
            map.serialize_entry(key, ranges)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WeeklyHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let WeeklyHoursJson {
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
        } = WeeklyHoursJson::deserialize(deserializer)?;
        let hours = Self {
            days: [mon, tue, wed, thu, fri, sat, sun],
        };
        hours.check().map_err(D::Error::custom)?;
        Ok(hours)
    }
}

impl PartialSchema for WeeklyHours {
    fn schema() -> RefOr<Schema> {
        let day = || {
            ArrayBuilder::new()
                .items(TimeRange::schema())
                .max_items(Some(MAX_RANGES_PER_DAY))
        };
        DAYS.iter()
            .fold(
                ObjectBuilder::new().schema_type(Type::Object),
                |o, (_, key)| o.property(*key, day()),
            )
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .description(Some(
                "Sorted, non-overlapping [start, end) ranges per day; missing days have no hours",
            ))
            .examples([
                serde_json::json!({"MON": [["08:30", "12:00"], ["13:30", "18:00"]], "SAT": []}),
            ])
            .into()
    }
}

impl ToSchema for WeeklyHours {}

#[cfg(test)]
mod tests;
