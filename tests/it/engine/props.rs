//! Property tests: the engine against the naive oracle, on random cases around DST.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use creneau::domain::appointment::Mode;
use creneau::engine::{Blocker, Directory, Slot, check_slot};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use super::cases::{Case, busy_case, case};
use super::oracle;

/// `cases` cases; failures are kept in `tests/it/engine/props.regressions` to be replayed.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

/// The blocker the oracle expects from the rule numbers of [`oracle::failed_rule`].
fn blocker(rule: u8) -> Blocker {
    [
        Blocker::NoExpertOfKind,
        Blocker::NoSkill,
        Blocker::InsurerNotAccepted,
        Blocker::InsuredTypeNotAccepted,
        Blocker::DwellingTypeNotAccepted,
        Blocker::StakeTooHigh,
        Blocker::OutOfZone,
    ][usize::from(rule)]
}

fn duration(case: &Case, expert: usize) -> Duration {
    let profile = &case.experts[expert].profile;
    Duration::minutes(i64::from(
        profile.durations_minutes.get(case.query.expertise_type),
    ))
}

/// Every free (expert, start) pair of the eligible experts, according to the oracle.
fn oracle_free(case: &Case, eligible: &[usize]) -> BTreeSet<(usize, DateTime<Utc>)> {
    let mut free = BTreeSet::new();
    for &e in eligible {
        let profile = &case.experts[e].profile;
        for start in oracle::free_starts(
            profile,
            &case.calendars[e],
            &case.query,
            case.now,
            &case.settings,
        ) {
            free.insert((e, start));
        }
    }
    free
}

/// Whether `slots` holds a slot of `expert` overlapping `[start, end)`.
fn busy(slots: &[Slot], expert: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    slots
        .iter()
        .any(|s| s.expert == expert && s.start < end && start < s.end)
}

fn check_eligibility(case: &Case, directory: &Directory) -> Result<Vec<usize>, TestCaseError> {
    let eligibility = directory.eligible(&case.query);
    let expected: Vec<usize> = (0..case.experts.len())
        .filter(|&i| oracle::eligible(&case.experts[i].profile, &case.query))
        .collect();
    prop_assert_eq!(&eligibility.experts, &expected);
    let furthest = case
        .experts
        .iter()
        .filter_map(|e| oracle::failed_rule(&e.profile, &case.query))
        .max();
    let blocked_by = if expected.is_empty() {
        Some(furthest.map_or(Blocker::NoExpertOfKind, blocker))
    } else {
        None
    };
    prop_assert_eq!(eligibility.blocked_by, blocked_by);
    Ok(expected)
}

fn check_shape(case: &Case, slots: &[Slot]) -> Result<(), TestCaseError> {
    prop_assert!(slots.len() <= case.query.max_slots);
    prop_assert!(
        slots.windows(2).all(|w| w[0].start < w[1].start),
        "sorted, distinct starts"
    );
    for (i, slot) in slots.iter().enumerate() {
        prop_assert!(slot.start >= case.query.from && slot.end <= case.query.to);
        prop_assert_eq!(slot.end - slot.start, duration(case, slot.expert));
        prop_assert!(
            !busy(&slots[..i], slot.expert, slot.start, slot.end),
            "overlap of one expert"
        );
        prop_assert_eq!(slot.mode, Mode::of(case.query.expertise_type));
    }
    Ok(())
}

fn check_sound_and_best(
    case: &Case,
    slots: &[Slot],
    free: &BTreeSet<(usize, DateTime<Utc>)>,
) -> Result<(), TestCaseError> {
    let rank = |e: usize, start: DateTime<Utc>| {
        let (profile, calendar) = (&case.experts[e].profile, &case.calendars[e]);
        let travel = oracle::travel_of(profile, calendar, &case.query, start, &case.settings);
        (travel, oracle::load(profile, calendar, start), e)
    };
    for slot in slots {
        let (profile, calendar) = (
            &case.experts[slot.expert].profile,
            &case.calendars[slot.expert],
        );
        prop_assert!(oracle::eligible(profile, &case.query));
        prop_assert!(
            free.contains(&(slot.expert, slot.start)),
            "not free: {:?}",
            slot
        );
        let travel = oracle::travel_of(profile, calendar, &case.query, slot.start, &case.settings);
        prop_assert_eq!(slot.travel_minutes, travel);
        // No other expert free at that start, and not kept busy by another slot, ranks better.
        let winner = rank(slot.expert, slot.start);
        for &(e, start) in free
            .iter()
            .filter(|(e, s)| *s == slot.start && *e != slot.expert)
        {
            let others: Vec<Slot> = slots
                .iter()
                .filter(|s| s.start != slot.start)
                .copied()
                .collect();
            if !busy(&others, e, start, start + duration(case, e)) {
                prop_assert!(
                    rank(e, start) > winner,
                    "{:?} beats {:?}",
                    rank(e, start),
                    winner
                );
            }
        }
    }
    Ok(())
}

fn check_complete(
    case: &Case,
    slots: &[Slot],
    free: &BTreeSet<(usize, DateTime<Utc>)>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(free.is_empty(), slots.is_empty());
    if slots.len() < case.query.max_slots {
        // Fewer than asked: every free pair is shut out by a slot taken.
        for &(e, start) in free {
            let taken = slots.iter().any(|s| s.start == start);
            prop_assert!(
                taken || busy(slots, e, start, start + duration(case, e)),
                "left out: {} {}",
                e,
                start
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn search_and_enumerate_agree_with_the_naive_oracle(case in busy_case(6)) {
        let directory = Directory::new(case.experts.clone());
        let eligible = check_eligibility(&case, &directory)?;
        let calendar = |i: usize| &case.calendars[i];
        let slots = directory.search(&case.query, &eligible, calendar, case.now, &case.settings);
        let reference =
            directory.search_reference(&case.query, &eligible, calendar, case.now, &case.settings);
        prop_assert_eq!(&slots, &reference, "the plain algorithm differs");
        let listed = directory.enumerate(&case.query, &eligible, calendar, case.now, &case.settings);
        let free = oracle_free(&case, &eligible);
        let listed_set: BTreeSet<_> = listed.iter().copied().collect();
        prop_assert_eq!(listed_set.len(), listed.len(), "enumerate repeats a pair");
        prop_assert_eq!(&listed_set, &free);
        check_shape(&case, &slots)?;
        check_sound_and_best(&case, &slots, &free)?;
        check_complete(&case, &slots, &free)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn eligibility_and_its_diagnostic_agree_with_the_naive_oracle(case in case(8)) {
        check_eligibility(&case, &Directory::new(case.experts.clone()))?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn check_slot_agrees_with_the_naive_oracle(case in busy_case(1), minute in 0i64..5760) {
        let (profile, calendar) = (&case.experts[0].profile, &case.calendars[0]);
        let random = DateTime::from_timestamp(case.query.from.timestamp().div_euclid(60) * 60, 0).unwrap()
            + Duration::minutes(minute);
        // check_slot has no window: the oracle gets a wide one.
        let mut query = case.query.clone();
        (query.from, query.to) = (random - Duration::days(2), random + Duration::days(2));
        let free = oracle::free_starts(profile, calendar, &query, case.now, &case.settings);
        let picked = (!free.is_empty()).then(|| free[usize::try_from(minute).unwrap() % free.len()]);
        for start in std::iter::once(random).chain(picked) {
            let end = start + duration(&case, 0);
            let place = query.place.as_ref().map(|t| &t.point);
            let checked = check_slot(profile, calendar, query.expertise_type, place, start, end, case.now, &case.settings);
            let expected = oracle::is_free(profile, calendar, &query, start, case.now, &case.settings);
            prop_assert_eq!(checked.is_ok(), expected, "{:?} at {}", checked, start);
            if let Ok(travel) = checked {
                prop_assert_eq!(travel, oracle::travel_of(profile, calendar, &query, start, &case.settings));
            }
            let longer = end + Duration::minutes(1);
            prop_assert!(check_slot(profile, calendar, query.expertise_type, place, start, longer, case.now, &case.settings).is_err());
        }
    }
}

/// `case` with each expert (and its calendar) there `copies` times: whole groups of
/// experts free at the same instants, where the search sets aside every loser of a tie.
fn copied(case: Case, copies: usize) -> Case {
    let repeat = |n: usize| (0..n * copies).map(move |i| i / copies);
    let experts = repeat(case.experts.len())
        .map(|i| case.experts[i].clone())
        .collect();
    let calendars = repeat(case.calendars.len())
        .map(|i| case.calendars[i].clone())
        .collect();
    Case {
        experts,
        calendars,
        ..case
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn ties_of_many_experts_give_the_plain_algorithm_s_slots(
        case in busy_case(4),
        copies in 2usize..=12,
    ) {
        let case = copied(case, copies);
        let directory = Directory::new(case.experts.clone());
        let eligible = check_eligibility(&case, &directory)?;
        let calendar = |i: usize| &case.calendars[i];
        let slots = directory.search(&case.query, &eligible, calendar, case.now, &case.settings);
        let reference =
            directory.search_reference(&case.query, &eligible, calendar, case.now, &case.settings);
        prop_assert_eq!(&slots, &reference);
        check_shape(&case, &slots)?;
    }
}
