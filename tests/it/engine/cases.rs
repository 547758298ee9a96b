//! Random situations for the property tests: experts, calendars, a request and a clock,
//! with windows of 2 to 4 days around the DST changes of 2026 and 2027 in Paris.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use creneau::domain::{
    ClaimType, Code, Department, ExpertiseType, InsuredType, Insurer, Money, PartnerKind,
};
use creneau::engine::{Booked, Calendar, ExpertEntry, Interval, Query, Settings, Target};
use proptest::prelude::*;
use proptest::sample::select;

use super::arb::{expert, point, square};

/// One generated situation.
#[derive(Debug, Clone)]
pub struct Case {
    pub experts: Vec<ExpertEntry>,
    pub calendars: Vec<Calendar>,
    pub query: Query,
    pub now: DateTime<Utc>,
    pub settings: Settings,
}

/// Days around which windows are drawn: the DST changes of 2026 and 2027 in Paris, and
/// two ordinary weeks.
const ANCHORS: [(i32, u32, u32); 6] = [
    (2026, 3, 29),
    (2026, 10, 25),
    (2027, 3, 28),
    (2027, 10, 31),
    (2026, 11, 24),
    (2026, 6, 15),
];

/// A calendar around `[from, from + span)`: appointments that never overlap each other
/// (the database guarantees it), absences that may.
fn calendar(from: DateTime<Utc>, span: i64) -> impl Strategy<Value = Calendar> {
    let appointment = (
        -1440..span + 1440,
        15i64..=180,
        proptest::option::weighted(0.7, point()),
    );
    let absence = (-2880..span + 1440, 30i64..=2880);
    (
        proptest::collection::vec(appointment, 0..=10),
        proptest::collection::vec(absence, 0..=2),
    )
        .prop_map(move |(appointments, absences)| {
            let at = |m: i64| from + Duration::minutes(m);
            let mut booked: Vec<Booked> = Vec::new();
            let mut sorted = appointments;
            sorted.sort_by_key(|a| a.0);
            for (start, len, place) in sorted {
                if booked.last().is_none_or(|b| b.end <= at(start)) {
                    booked.push(Booked {
                        start: at(start),
                        end: at(start + len),
                        place,
                    });
                }
            }
            let absences = absences
                .into_iter()
                .map(|(s, l)| Interval {
                    start: at(s),
                    end: at(s + l),
                })
                .collect();
            Calendar::new(absences, booked)
        })
}

fn query(from: DateTime<Utc>, span: i64) -> impl Strategy<Value = Query> {
    let target = (
        point(),
        select(vec![Some("75"), Some("92"), Some("93"), None]),
    )
        .prop_map(|(point, d)| Target {
            point,
            department: d.map(|d| Department::parse(d).unwrap()),
        });
    (
        prop_oneof![9 => Just(PartnerKind::Expert), 1 => Just(PartnerKind::Ren)],
        select(vec!["AXA", "MAIF", "GMF"]),
        select(vec![InsuredType::Particulier, InsuredType::Pro]),
        select(vec!["DDE", "DE"]),
        select(ExpertiseType::ALL.to_vec()),
        proptest::option::of(select(vec!["APPARTEMENT", "MAISON"])),
        0i64..2_000_000,
        proptest::option::weighted(0.95, target),
        1usize..=12,
    )
        .prop_map(
            move |(kind, insurer, insured, claim, expertise, dwelling, stake, place, max)| Query {
                partner_kind: kind,
                insurer: Insurer::parse(insurer).unwrap(),
                insured_type: insured,
                claim_type: ClaimType::parse(claim).unwrap(),
                expertise_type: expertise,
                dwelling_type: dwelling.map(|d| Code::parse(d).unwrap()),
                stake_total: Money::from_cents(stake).unwrap(),
                place,
                from,
                to: from + Duration::minutes(span),
                max_slots: max,
            },
        )
}

/// A whole case: 1 to `experts` experts, a window of 2 to 4 days near a DST change.
pub fn case(experts: usize) -> impl Strategy<Value = Case> {
    let window = (
        select(ANCHORS.to_vec()),
        0i64..2880,
        select(vec![0i64, 0, 0, 17]),
        2880i64..=5760,
    );
    (window, 1..=experts)
        .prop_flat_map(|((anchor, offset, secs, span), n)| {
            let (y, m, d) = anchor;
            let midnight = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            let from =
                midnight - Duration::days(1) + Duration::minutes(offset) + Duration::seconds(secs);
            let settings = (
                select(vec![15u32, 15, 30, 60, 20, 45]),
                1.0..1.6f64,
                20.0..80.0f64,
            )
                .prop_map(|(grid_minutes, detour_factor, speed_kmh)| Settings {
                    grid_minutes,
                    detour_factor,
                    speed_kmh,
                });
            (
                proptest::collection::vec(expert(), n),
                proptest::collection::vec(calendar(from, span), n),
                query(from, span),
                (-2880i64..2880, 0i64..60)
                    .prop_map(move |(m, s)| from + Duration::minutes(m) + Duration::seconds(s)),
                settings,
            )
        })
        .prop_map(|(profiles, calendars, query, now, settings)| Case {
            experts: profiles
                .into_iter()
                .enumerate()
                .map(|(i, profile)| ExpertEntry {
                    id: format!("e{i}"),
                    profile,
                })
                .collect(),
            calendars,
            query,
            now,
            settings,
        })
}

/// Makes the experts whose flag is set eligible for the case's request, so that searches
/// have experts to schedule.
fn admit(mut case: Case, flags: &[bool]) -> Case {
    let query = &case.query;
    for (expert, _) in case.experts.iter_mut().zip(flags).filter(|(_, f)| **f) {
        let profile = &mut expert.profile;
        profile.active = true;
        profile.partner_kind = query.partner_kind;
        let skills = &mut profile.skills;
        skills.claim_types.push(query.claim_type.clone());
        skills.expertise_types.push(query.expertise_type);
        skills.insurers.clear();
        skills.insured_types.clear();
        skills.dwelling_types.clear();
        skills.max_stake = None;
        if let Some(target) = &query.place {
            match &target.department {
                Some(department) => profile.zone.departments.push(department.clone()),
                None => profile.zone.area = Some(square(&target.point, 0.01)),
            }
        }
    }
    case
}

/// A case where each expert is made eligible with probability 0.75.
pub fn busy_case(experts: usize) -> impl Strategy<Value = Case> {
    (
        case(experts),
        proptest::collection::vec(proptest::bool::weighted(0.75), experts),
    )
        .prop_map(|(case, flags)| admit(case, &flags))
}
