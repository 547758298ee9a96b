//! Tests of [`super::TimeRange`] and [`super::WeeklyHours`].

use super::*;
use serde_json::{from_value, json, to_value};

fn err_of(v: serde_json::Value) -> String {
    from_value::<WeeklyHours>(v).unwrap_err().to_string()
}

fn office_hours() -> WeeklyHours {
    WeeklyHours::from_days([
        (Weekday::Mon, vec![(510, 720), (810, 1080)]),
        (Weekday::Fri, vec![(480, 720)]),
    ])
    .unwrap()
}

#[test]
fn times_are_parsed_as_minutes_from_midnight() {
    assert_eq!(parse_hhmm("00:00"), Ok(0));
    assert_eq!(parse_hhmm("08:30"), Ok(510));
    assert_eq!(parse_hhmm("23:59"), Ok(1439));
    assert_eq!(parse_hhmm("24:00"), Ok(1440));
}

#[test]
fn malformed_times_are_rejected() {
    for bad in [
        "8:30",
        "08:3",
        "0830",
        "08h30",
        "08:60",
        "24:01",
        "25:00",
        "99:99",
        "+8:30",
        "08:30 ",
        "",
        "０８:３０",
    ] {
        assert_eq!(parse_hhmm(bad), Err(HoursError::InvalidTime), "{bad:?}");
    }
}

#[test]
fn midnight_is_allowed_as_an_end_but_not_as_a_start() {
    assert_eq!(TimeRange::parse("20:00", "24:00").unwrap().end(), 1440);
    assert_eq!(
        TimeRange::parse("24:00", "24:00"),
        Err(HoursError::StartAtDayEnd)
    );
    assert_eq!(TimeRange::new(1440, 1440), Err(HoursError::StartAtDayEnd));
    assert_eq!(TimeRange::new(0, 1441), Err(HoursError::InvalidTime));
    assert_eq!(TimeRange::new(1500, 1600), Err(HoursError::InvalidTime));
}

#[test]
fn a_range_must_start_before_it_ends() {
    assert_eq!(
        TimeRange::parse("12:00", "12:00"),
        Err(HoursError::EmptyRange)
    );
    assert_eq!(
        TimeRange::parse("13:00", "12:00"),
        Err(HoursError::EmptyRange)
    );
    assert_eq!(
        TimeRange::new(0, 1).map(|r| (r.start(), r.end())),
        Ok((0, 1))
    );
}

#[test]
fn a_range_contains_its_start_but_not_its_end() {
    let r = TimeRange::new(510, 720).unwrap();
    assert!(r.contains(510) && r.contains(719));
    assert!(!r.contains(509) && !r.contains(720));
}

#[test]
fn weekly_hours_deserialize_from_the_documented_shape() {
    let hours: WeeklyHours =
        from_value(json!({"MON": [["08:30", "12:00"], ["13:30", "18:00"]], "TUE": [], "FRI": [["08:00", "12:00"]]}))
            .unwrap();
    assert_eq!(hours.day(Weekday::Mon), office_hours().day(Weekday::Mon));
    assert!(hours.day(Weekday::Tue).is_empty());
    assert!(hours.day(Weekday::Sun).is_empty());
    assert_eq!(hours, office_hours());
}

#[test]
fn weekly_hours_serialize_all_seven_days_in_order() {
    let json = serde_json::to_string(&office_hours()).unwrap();
    assert_eq!(
        json,
        r#"{"MON":[["08:30","12:00"],["13:30","18:00"]],"TUE":[],"WED":[],"THU":[],"FRI":[["08:00","12:00"]],"SAT":[],"SUN":[]}"#
    );
    assert_eq!(
        from_value::<WeeklyHours>(to_value(office_hours()).unwrap()).unwrap(),
        office_hours()
    );
}

#[test]
fn an_empty_object_means_no_hours_at_all() {
    let hours: WeeklyHours = from_value(json!({})).unwrap();
    assert!(hours.is_empty());
    assert_eq!(hours, WeeklyHours::default());
    assert!(!office_hours().is_empty());
}

#[test]
fn unknown_or_lowercase_day_keys_are_rejected() {
    assert!(err_of(json!({"MONDAY": []})).contains("unknown field `MONDAY`"));
    assert!(err_of(json!({"mon": []})).contains("unknown field `mon`"));
}

#[test]
fn a_day_given_as_null_or_a_range_with_three_times_is_rejected() {
    assert!(from_value::<WeeklyHours>(json!({"MON": null})).is_err());
    assert!(from_value::<WeeklyHours>(json!({"MON": [["08:00", "09:00", "10:00"]]})).is_err());
    assert!(from_value::<WeeklyHours>(json!({"MON": [["08:00"]]})).is_err());
    assert!(from_value::<WeeklyHours>(json!({"MON": [[480, 540]]})).is_err());
}

#[test]
fn invalid_times_in_json_fail_with_the_human_message() {
    assert_eq!(
        err_of(json!({"MON": [["8:00", "12:00"]]})),
        "times must be HH:MM between 00:00 and 24:00"
    );
    assert_eq!(
        err_of(json!({"MON": [["24:00", "24:00"]]})),
        "24:00 can only end a range"
    );
    assert_eq!(
        err_of(json!({"MON": [["12:00", "08:00"]]})),
        "a range must start before it ends"
    );
}

#[test]
fn touching_ranges_are_allowed() {
    let hours: WeeklyHours =
        from_value(json!({"WED": [["08:00", "12:00"], ["12:00", "13:00"]]})).unwrap();
    assert_eq!(hours.day(Weekday::Wed).len(), 2);
}

#[test]
fn overlapping_or_unsorted_ranges_are_rejected_naming_the_day() {
    let overlap = json!({"THU": [["08:00", "12:00"], ["11:59", "13:00"]]});
    assert_eq!(
        err_of(overlap),
        "THU: ranges must be sorted and must not overlap"
    );
    let unsorted = json!({"SAT": [["13:00", "14:00"], ["08:00", "09:00"]]});
    assert_eq!(
        err_of(unsorted),
        "SAT: ranges must be sorted and must not overlap"
    );
    let duplicate = WeeklyHours::from_days([(Weekday::Sun, vec![(60, 120), (60, 120)])]);
    assert_eq!(duplicate, Err(HoursError::Overlap { day: "SUN" }));
}

#[test]
fn a_day_may_have_eight_ranges_but_not_nine() {
    let ranges = |n: u16| (0..n).map(|i| (i * 60, i * 60 + 30)).collect::<Vec<_>>();
    assert!(WeeklyHours::from_days([(Weekday::Tue, ranges(8))]).is_ok());
    let err = WeeklyHours::from_days([(Weekday::Tue, ranges(9))]).unwrap_err();
    assert_eq!(err.to_string(), "TUE: at most 8 ranges per day");
}

#[test]
fn from_days_rejects_a_day_given_twice_and_invalid_minutes() {
    let twice = WeeklyHours::from_days([(Weekday::Mon, vec![]), (Weekday::Mon, vec![(0, 60)])]);
    assert_eq!(twice, Err(HoursError::DuplicateDay { day: "MON" }));
    assert_eq!(
        WeeklyHours::from_days([(Weekday::Mon, vec![(600, 600)])]),
        Err(HoursError::EmptyRange)
    );
}

#[test]
fn iter_walks_monday_to_sunday() {
    let days: Vec<_> = office_hours().iter().map(|(wd, r)| (wd, r.len())).collect();
    assert_eq!(days.first(), Some(&(Weekday::Mon, 2)));
    assert_eq!(days.last(), Some(&(Weekday::Sun, 0)));
    assert_eq!(days.len(), 7);
}

#[test]
fn the_schema_is_an_object_of_seven_optional_days_without_extra_keys() {
    let s = to_value(WeeklyHours::schema()).unwrap();
    let keys: Vec<_> = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys.len(), 7);
    assert!(s.get("required").is_none());
    assert_eq!(s["additionalProperties"], json!(false));
    let range = &s["properties"]["MON"]["items"];
    assert_eq!(
        (range["minItems"].clone(), range["maxItems"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(range["items"]["type"], json!("string"));
}
