//! The `EXPERTS` CSV format of imports and of the export: one row per expert, its cells
//! mapped to and from the JSON of `POST /admin/v1/experts`, so that a row is checked by
//! exactly the deserialisation and the rules of the JSON API.

use serde_json::{Map, Value, json};

use crate::domain::Invalid;
use crate::domain::expert::ExpertProfile;

/// The columns, in export order.
pub const COLUMNS: [&str; 34] = [
    "externalRef",
    "displayName",
    "email",
    "phone",
    "partnerKind",
    "active",
    "timeZone",
    "baseLine1",
    "basePostalCode",
    "baseCity",
    "baseLat",
    "baseLon",
    "departments",
    "radiusKm",
    "claimTypes",
    "expertiseTypes",
    "insurers",
    "insuredTypes",
    "dwellingTypes",
    "maxStake",
    "durationVISIO",
    "durationEAD",
    "durationESS",
    "durationCONTRADICTOIRE",
    "bufferMinutes",
    "maxAppointmentsPerDay",
    "minNoticeHours",
    "MON",
    "TUE",
    "WED",
    "THU",
    "FRI",
    "SAT",
    "SUN",
];

const DAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const LISTS: [(&str, &str); 5] = [
    ("claimTypes", "claimTypes"),
    ("expertiseTypes", "expertiseTypes"),
    ("insurers", "insurers"),
    ("insuredTypes", "insuredTypes"),
    ("dwellingTypes", "dwellingTypes"),
];
const DURATIONS: [&str; 4] = ["VISIO", "EAD", "ESS", "CONTRADICTOIRE"];

/// A cell as JSON: a number when it reads as one (so that a number field gets a number
/// and a text field a type error, as in the JSON API), else the text.
fn scalar(cell: &str) -> Value {
    if let Ok(n) = cell.parse::<i64>() {
        return json!(n);
    }
    match cell.parse::<f64>() {
        Ok(x) if x.is_finite() && !cell.contains(['e', 'E', 'n', 'N', 'i', 'I']) => json!(x),
        _ => json!(cell),
    }
}

fn boolean(cell: &str) -> Value {
    match cell.to_ascii_lowercase().as_str() {
        "true" => json!(true),
        "false" => json!(false),
        _ => json!(cell),
    }
}

fn list(cell: &str) -> Value {
    Value::Array(cell.split('|').map(|s| json!(s.trim())).collect())
}

fn spans(cell: &str) -> Value {
    Value::Array(
        cell.split('|')
            .map(|span| match span.split_once('-') {
                Some((start, end)) => json!([start.trim(), end.trim()]),
                None => json!(span.trim()),
            })
            .collect(),
    )
}

/// The JSON body of the expert in a row, `cell(column)` giving each non-empty cell; empty
/// cells are left out, so they take the API's defaults.
pub fn row_to_json<'a>(cell: impl Fn(&str) -> Option<&'a str>) -> Value {
    let mut body = Map::new();
    let put = |object: &mut Map<String, Value>, key: &str, value: Value| {
        object.insert(key.to_owned(), value);
    };
    for (column, key) in [
        ("externalRef", "externalRef"),
        ("displayName", "displayName"),
        ("email", "email"),
        ("phone", "phone"),
        ("partnerKind", "partnerKind"),
        ("timeZone", "timeZone"),
    ] {
        if let Some(text) = cell(column) {
            put(&mut body, key, json!(text));
        }
    }
    if let Some(active) = cell("active") {
        put(&mut body, "active", boolean(active));
    }
    for (column, key) in [
        ("bufferMinutes", "bufferMinutes"),
        ("maxAppointmentsPerDay", "maxAppointmentsPerDay"),
        ("minNoticeHours", "minNoticeHours"),
    ] {
        if let Some(text) = cell(column) {
            put(&mut body, key, scalar(text));
        }
    }
    let mut address = Map::new();
    for (column, key) in [
        ("baseLine1", "line1"),
        ("basePostalCode", "postalCode"),
        ("baseCity", "city"),
    ] {
        if let Some(text) = cell(column) {
            put(&mut address, key, json!(text));
        }
    }
    let mut geo = Map::new();
    for (column, key) in [("baseLat", "lat"), ("baseLon", "lon")] {
        if let Some(text) = cell(column) {
            put(&mut geo, key, scalar(text));
        }
    }
    if !address.is_empty() || !geo.is_empty() {
        let mut base = Map::new();
        if !address.is_empty() {
            base.insert("address".into(), Value::Object(address));
        }
        if !geo.is_empty() {
            base.insert("geo".into(), Value::Object(geo));
        }
        put(&mut body, "base", Value::Object(base));
    }
    let mut zone = Map::new();
    if let Some(text) = cell("departments") {
        put(&mut zone, "departments", list(text));
    }
    if let Some(text) = cell("radiusKm") {
        put(&mut zone, "radiusKm", scalar(text));
    }
    if !zone.is_empty() {
        put(&mut body, "zone", Value::Object(zone));
    }
    let mut skills = Map::new();
    for (column, key) in LISTS {
        if let Some(text) = cell(column) {
            put(&mut skills, key, list(text));
        }
    }
    if let Some(text) = cell("maxStake") {
        put(&mut skills, "maxStake", scalar(text));
    }
    if !skills.is_empty() {
        put(&mut body, "skills", Value::Object(skills));
    }
    let mut durations = Map::new();
    for kind in DURATIONS {
        if let Some(text) = cell(&format!("duration{kind}")) {
            put(&mut durations, kind, scalar(text));
        }
    }
    if !durations.is_empty() {
        put(&mut body, "durationsMinutes", Value::Object(durations));
    }
    let mut hours = Map::new();
    for day in DAYS {
        if let Some(text) = cell(day) {
            put(&mut hours, day, spans(text));
        }
    }
    if !hours.is_empty() {
        put(&mut body, "weeklyHours", Value::Object(hours));
    }
    Value::Object(body)
}

/// The profile of a row, checked as `POST /admin/v1/experts` checks a body; the error
/// names the column at fault.
pub fn parse_row<'a>(
    cell: impl Fn(&str) -> Option<&'a str>,
) -> Result<ExpertProfile, (&'static str, String)> {
    let invalid = |e: Invalid| (column_of(&e.pointer), e.detail);
    let profile: ExpertProfile = crate::domain::from_json(row_to_json(cell)).map_err(invalid)?;
    profile.check().map_err(invalid)?;
    Ok(profile)
}

/// The CSV column a JSON Pointer into an expert body comes from.
pub fn column_of(pointer: &str) -> &'static str {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let find = |name: &str| COLUMNS.iter().copied().find(|c| *c == name);
    let column = match parts.as_slice() {
        ["base", "address", "postalCode", ..] => Some("basePostalCode"),
        ["base", "address", "city", ..] => Some("baseCity"),
        ["base", "address", ..] => Some("baseLine1"),
        ["base", "geo", "lon", ..] => Some("baseLon"),
        ["base", ..] => Some("baseLat"),
        ["zone", "radiusKm", ..] => Some("radiusKm"),
        ["zone", ..] => Some("departments"),
        ["skills", field, ..] | [field, ..]
            if *field != "durationsMinutes" && *field != "weeklyHours" =>
        {
            find(field)
        }
        ["durationsMinutes", kind, ..] => COLUMNS
            .iter()
            .copied()
            .find(|c| c.strip_prefix("duration") == Some(kind)),
        ["weeklyHours", day, ..] => find(day),
        _ => None,
    };
    column.unwrap_or("externalRef")
}

/// The cells of an expert, in [`COLUMNS`] order, for the export.
pub fn profile_to_row(profile: &ExpertProfile) -> Vec<String> {
    let body = serde_json::to_value(profile).unwrap_or(Value::Null);
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let joined = |v: &Value| {
        v.as_array()
            .map(|items| items.iter().map(text).collect::<Vec<_>>().join("|"))
            .unwrap_or_default()
    };
    let hours = |v: &Value| {
        v.as_array()
            .map(|spans| {
                spans
                    .iter()
                    .map(|span| format!("{}-{}", text(&span[0]), text(&span[1])))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .unwrap_or_default()
    };
    COLUMNS
        .iter()
        .map(|column| {
            let at = |pointer: &str| body.pointer(pointer).unwrap_or(&Value::Null);
            match *column {
                "baseLine1" => text(at("/base/address/line1")),
                "basePostalCode" => text(at("/base/address/postalCode")),
                "baseCity" => text(at("/base/address/city")),
                "baseLat" => text(at("/base/geo/lat")),
                "baseLon" => text(at("/base/geo/lon")),
                "departments" => joined(at("/zone/departments")),
                "radiusKm" => text(at("/zone/radiusKm")),
                "maxStake" => text(at("/skills/maxStake")),
                day if DAYS.contains(&day) => hours(at(&format!("/weeklyHours/{day}"))),
                list if LISTS.iter().any(|(c, _)| *c == list) => {
                    joined(at(&format!("/skills/{list}")))
                }
                duration if duration.starts_with("duration") => text(at(&format!(
                    "/durationsMinutes/{}",
                    &duration["duration".len()..]
                ))),
                field => text(at(&format!("/{field}"))),
            }
        })
        .collect()
}

/// Neutralises a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or
/// carriage return first) with a leading `'`; imports take that quote off again.
pub fn neutralise(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The cell as read back: a `'` put before a formula character by the export is removed.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<&'static str> {
        let pairs = pairs.to_vec();
        move |column| {
            pairs
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, v)| *v)
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn a_full_row_becomes_the_profile_and_back() {
        let row = [
            ("externalRef", "XT5678"),
            ("displayName", "J. Martin"),
            ("phone", "+33 6 12 34 56 78"),
            ("baseLat", "-21.1"),
            ("baseLon", "55.5"),
            ("departments", "974"),
            ("radiusKm", "40"),
            ("claimTypes", "DDE|DE"),
            ("expertiseTypes", "ESS|VISIO"),
            ("maxStake", "15000.5"),
            ("durationESS", "75"),
            ("MON", "08:30-12:00|13:30-18:00"),
        ];
        let profile = parse_row(cells(&row)).unwrap();
        assert_eq!(profile.durations_minutes.ess, 75);
        let exported = profile_to_row(&profile);
        let again = parse_row(|column| {
            let i = COLUMNS.iter().position(|c| *c == column)?;
            Some(exported[i].as_str()).filter(|v| !v.is_empty())
        })
        .unwrap();
        assert_eq!(profile, again);
    }

    #[test]
    fn errors_name_their_column() {
        let bad = |row: &[(&'static str, &'static str)]| parse_row(cells(row)).unwrap_err().0;
        assert_eq!(bad(&[("displayName", "X"), ("MON", "08:30-25:00")]), "MON");
        assert_eq!(bad(&[("displayName", "X"), ("radiusKm", "40")]), "baseLat");
        assert_eq!(
            bad(&[("displayName", "X"), ("durationESS", "0")]),
            "durationESS"
        );
        assert_eq!(
            bad(&[("displayName", "X"), ("bufferMinutes", "abc")]),
            "bufferMinutes"
        );
        assert_eq!(
            bad(&[("displayName", "X"), ("claimTypes", "D D")]),
            "claimTypes"
        );
        assert_eq!(
            bad(&[("externalRef", "a b"), ("displayName", "X")]),
            "externalRef"
        );
        assert_eq!(bad(&[("active", "yes"), ("displayName", "X")]), "active");
    }

    #[test]
    fn formulas_are_neutralised_and_read_back() {
        for cell in ["=cmd|' /C calc'!A0", "+33 1", "-21.1", "@SUM(A1)"] {
            let out = neutralise(cell.to_owned());
            assert!(out.starts_with('\''), "{out}");
            assert_eq!(unneutralise(&out), cell);
        }
        assert_eq!(neutralise("Paris".into()), "Paris");
        assert_eq!(unneutralise("'quoted"), "'quoted");
    }
}
