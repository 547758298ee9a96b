//! Eligibility: zones by department, radius and polygon, and the blocker diagnostics.

use super::{directory, every_day, expert, north_of, paris, query, with_base};
use crate::domain::expert::ExpertProfile;
use crate::domain::{Department, ExpertiseType, Insurer, Money, PartnerKind};
use crate::engine::{Blocker, Target};

const FROM: &str = "2026-11-23T00:00:00+01:00";
const TO: &str = "2026-11-24T00:00:00+01:00";

fn anyone() -> ExpertProfile {
    let mut profile = expert(every_day(&[(8 * 60, 18 * 60)]));
    profile.zone.departments.clear();
    profile
}

/// The eligibility of each profile alone for an on-site request at `target`.
fn on_site(profile: ExpertProfile, target: Target) -> Option<Blocker> {
    let mut q = query(ExpertiseType::Ess, FROM, TO, 10);
    q.place = Some(target);
    let found = directory(vec![profile]).eligible(&q);
    assert_eq!(found.experts.is_empty(), found.blocked_by.is_some());
    found.blocked_by
}

fn target(point: crate::domain::GeoPoint, department: &str) -> Target {
    Target {
        point,
        department: Some(Department::parse(department).unwrap()),
    }
}

#[test]
fn a_place_in_one_of_the_zone_departments_is_in_zone() {
    let mut profile = anyone();
    profile.zone.departments = vec![Department::parse("92").unwrap()];
    assert_eq!(on_site(profile.clone(), target(paris(), "92")), None);
    assert_eq!(
        on_site(profile, target(paris(), "75")),
        Some(Blocker::OutOfZone)
    );
}

#[test]
fn a_place_within_the_radius_of_the_base_is_in_zone() {
    let mut profile = with_base(anyone(), paris());
    profile.zone.radius_km = Some(10);
    assert_eq!(
        on_site(profile.clone(), target(north_of(&paris(), 9.9), "93")),
        None
    );
    assert_eq!(
        on_site(profile, target(north_of(&paris(), 10.1), "93")),
        Some(Blocker::OutOfZone)
    );
}

#[test]
fn a_place_inside_the_zone_polygon_is_in_zone() {
    let mut profile = anyone();
    let square = serde_json::json!({"type": "Polygon", "coordinates": [[[2.2, 48.8], [2.5, 48.8], [2.5, 48.9], [2.2, 48.9], [2.2, 48.8]]]});
    profile.zone.area = Some(serde_json::from_value(square).unwrap());
    assert_eq!(on_site(profile.clone(), target(paris(), "75")), None);
    assert_eq!(
        on_site(profile, target(north_of(&paris(), 10.0), "95")),
        Some(Blocker::OutOfZone)
    );
}

#[test]
fn a_remote_request_ignores_the_zone_and_the_place() {
    let mut q = query(ExpertiseType::Visio, FROM, TO, 10);
    q.place = None;
    assert_eq!(directory(vec![anyone()]).eligible(&q).experts, vec![0]);
}

#[test]
fn an_on_site_request_without_a_place_is_out_of_zone() {
    let mut q = query(ExpertiseType::Ess, FROM, TO, 10);
    q.place = None;
    assert_eq!(
        directory(vec![expert(every_day(&[]))])
            .eligible(&q)
            .blocked_by,
        Some(Blocker::OutOfZone)
    );
}

#[test]
fn only_the_experts_whose_zone_holds_the_place_are_eligible() {
    let mut far = with_base(anyone(), north_of(&paris(), 300.0));
    far.zone.radius_km = Some(50);
    let mut near = with_base(anyone(), north_of(&paris(), 30.0));
    near.zone.radius_km = Some(50);
    let by_department = expert(every_day(&[]));
    let found = directory(vec![far, near, by_department]).eligible(&query(
        ExpertiseType::Ess,
        FROM,
        TO,
        10,
    ));
    assert_eq!(found.experts, vec![1, 2]);
    assert_eq!(found.blocked_by, None);
}

fn blocked(profiles: Vec<ExpertProfile>) -> Option<Blocker> {
    directory(profiles)
        .eligible(&query(ExpertiseType::Ess, FROM, TO, 10))
        .blocked_by
}

#[test]
fn without_experts_of_the_kind_the_blocker_is_no_expert_of_kind() {
    let mut repairer = expert(every_day(&[]));
    repairer.partner_kind = PartnerKind::Ren;
    let mut inactive = expert(every_day(&[]));
    inactive.active = false;
    assert_eq!(blocked(vec![]), Some(Blocker::NoExpertOfKind));
    assert_eq!(
        blocked(vec![repairer, inactive]),
        Some(Blocker::NoExpertOfKind)
    );
}

#[test]
fn an_empty_skill_list_means_skilled_for_nothing() {
    let mut profile = expert(every_day(&[]));
    profile.skills.expertise_types.clear();
    assert_eq!(blocked(vec![profile]), Some(Blocker::NoSkill));
}

#[test]
fn the_blocker_is_the_rule_where_the_furthest_experts_failed() {
    let mut unskilled = expert(every_day(&[]));
    unskilled.skills.claim_types.clear();
    let mut picky = expert(every_day(&[]));
    picky.skills.insurers = vec![Insurer::parse("MAIF").unwrap()];
    let mut cheap = expert(every_day(&[]));
    cheap.skills.max_stake = Some(Money::from_euros(1000).unwrap());
    let mut elsewhere = expert(every_day(&[]));
    elsewhere.zone.departments = vec![Department::parse("13").unwrap()];
    assert_eq!(
        blocked(vec![unskilled.clone(), picky.clone()]),
        Some(Blocker::InsurerNotAccepted)
    );
    assert_eq!(
        blocked(vec![picky.clone(), cheap.clone(), unskilled]),
        Some(Blocker::StakeTooHigh)
    );
    assert_eq!(
        blocked(vec![cheap, elsewhere, picky]),
        Some(Blocker::OutOfZone)
    );
}

#[test]
fn blockers_have_stable_codes() {
    assert_eq!(Blocker::NoExpertOfKind.code(), "no-expert-of-kind");
    assert_eq!(
        Blocker::DwellingTypeNotAccepted.code(),
        "dwelling-type-not-accepted"
    );
    assert_eq!(Blocker::FullyBooked.to_string(), "fully-booked");
}
