//! Random experts for the property tests: any time zone, hours, skills and zone.

use chrono::Weekday;
use chrono_tz::Tz;
use creneau::domain::expert::{Base, Durations, ExpertProfile, Skills, Zone};
use creneau::domain::text::Name;
use creneau::domain::{
    Area, ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType, Insurer, Money,
    PartnerKind, WeeklyHours,
};
use proptest::prelude::*;
use proptest::sample::select;

pub fn point() -> impl Strategy<Value = GeoPoint> {
    (48.6..49.1f64, 2.0..2.7f64).prop_map(|(lat, lon)| GeoPoint::new(lat, lon).unwrap())
}

fn time_zone() -> impl Strategy<Value = Tz> {
    prop_oneof![
        5 => Just(chrono_tz::Europe::Paris),
        1 => Just(chrono_tz::America::Martinique),
        1 => Just(chrono_tz::Indian::Reunion),
        1 => Just(chrono_tz::Pacific::Noumea),
    ]
}

/// The ranges of one day on the 15-minute grid, often across the night of a DST change.
fn day_ranges() -> impl Strategy<Value = Vec<(u16, u16)>> {
    let quarters = proptest::collection::btree_set(0u16..=96, 0..=6).prop_map(|set| {
        let q: Vec<u16> = set.into_iter().collect();
        q.chunks_exact(2).map(|p| (p[0] * 15, p[1] * 15)).collect()
    });
    prop_oneof![
        3 => quarters,
        1 => Just(vec![(8 * 60, 12 * 60), (13 * 60 + 30, 18 * 60)]),
        1 => Just(vec![(60, 4 * 60), (8 * 60, 10 * 60)]),
        1 => Just(vec![(0, 1440)]),
    ]
}

fn weekly_hours() -> impl Strategy<Value = WeeklyHours> {
    proptest::collection::vec(day_ranges(), 7).prop_map(|days| {
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        WeeklyHours::from_days(weekdays.into_iter().zip(days)).unwrap()
    })
}

/// Keeps each item with probability `p`.
fn some_of<T: Clone + std::fmt::Debug + 'static>(
    items: Vec<T>,
    p: f64,
) -> impl Strategy<Value = Vec<T>> {
    proptest::collection::vec(proptest::bool::weighted(p), items.len()).prop_map(move |keep| {
        items
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(i, _)| i.clone())
            .collect()
    })
}

pub fn square(center: &GeoPoint, half: f64) -> Area {
    let (x, y) = (center.lon(), center.lat());
    let ring = [
        [x - half, y - half],
        [x + half, y - half],
        [x + half, y + half],
        [x - half, y + half],
        [x - half, y - half],
    ];
    serde_json::from_value(serde_json::json!({"type": "Polygon", "coordinates": [ring]})).unwrap()
}

fn skills() -> impl Strategy<Value = Skills> {
    let codes = |names: &[&str]| {
        names
            .iter()
            .map(|n| Code::parse(n).unwrap())
            .collect::<Vec<_>>()
    };
    (
        some_of(vec![ClaimType::parse("DDE").unwrap(), ClaimType::parse("DE").unwrap()], 0.85),
        some_of(ExpertiseType::ALL.to_vec(), 0.8),
        prop_oneof![3 => Just(vec![]), 1 => some_of(vec![Insurer::parse("AXA").unwrap(), Insurer::parse("MAIF").unwrap()], 0.6)],
        prop_oneof![3 => Just(vec![]), 1 => some_of(vec![InsuredType::Particulier, InsuredType::Pro], 0.6)],
        prop_oneof![3 => Just(vec![]), 1 => some_of(codes(&["APPARTEMENT", "MAISON"]), 0.6)],
        proptest::option::weighted(0.2, 0i64..2_000_000),
    )
        .prop_map(|(claim_types, expertise_types, insurers, insured_types, dwelling_types, max)| Skills {
            claim_types,
            expertise_types,
            insurers,
            insured_types,
            dwelling_types,
            max_stake: max.and_then(Money::from_cents),
        })
}

fn zone(base: Option<GeoPoint>) -> impl Strategy<Value = Zone> {
    let departments = ["75", "92", "93", "94"]
        .map(|d| Department::parse(d).unwrap())
        .to_vec();
    (
        some_of(departments, 0.3),
        proptest::option::weighted(0.6, 3u32..40),
        proptest::option::weighted(0.3, (point(), 0.02..0.2f64)),
    )
        .prop_map(move |(departments, radius_km, area)| Zone {
            departments,
            radius_km: radius_km.filter(|_| base.is_some()),
            area: area.map(|(c, half)| square(&c, half)),
        })
}

/// A random expert (not necessarily a valid profile for the admin API).
pub fn expert() -> impl Strategy<Value = ExpertProfile> {
    let minutes = || select(vec![30u16, 45, 60, 90, 95, 120]);
    let durations = (minutes(), minutes(), minutes(), minutes()).prop_map(
        |(visio, ead, ess, contradictoire)| Durations {
            visio,
            ead,
            ess,
            contradictoire,
        },
    );
    let head = (
        time_zone(),
        proptest::bool::weighted(0.92),
        prop_oneof![9 => Just(PartnerKind::Expert), 1 => Just(PartnerKind::Ren)],
        proptest::option::weighted(0.8, point()),
    );
    let tail = (
        skills(),
        durations,
        0u16..=30,
        proptest::option::of(1u16..=4),
        0u16..=48,
        weekly_hours(),
    );
    (head, tail)
        .prop_flat_map(move |((tz, active, partner_kind, base), rest)| {
            (
                Just((tz, active, partner_kind, base)),
                Just(rest),
                zone(base),
            )
        })
        .prop_map(
            |(
                (tz, active, partner_kind, base),
                (skills, durations, buffer, per_day, notice, hours),
                zone,
            )| {
                ExpertProfile {
                    external_ref: None,
                    display_name: Name::parse("Expert").unwrap(),
                    email: None,
                    phone: None,
                    partner_kind,
                    active,
                    time_zone: tz.into(),
                    base: base.map(|geo| Base { address: None, geo }),
                    zone,
                    skills,
                    durations_minutes: durations,
                    buffer_minutes: buffer,
                    max_appointments_per_day: per_day,
                    min_notice_hours: notice,
                    weekly_hours: hours,
                }
            },
        )
}
