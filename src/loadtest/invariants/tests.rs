//! The checks on hand-made appointment lists.

use super::*;

fn listed(id: &str, expert: &str, start: &str, end: &str) -> Listed {
    Listed {
        appointment_id: id.into(),
        status: "CONFIRMED".into(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        expert: Ref { id: expert.into() },
    }
}

#[test]
fn appointments_touching_end_to_start_do_not_overlap() {
    let list = [
        listed(
            "a",
            "e",
            "2026-11-24T09:00:00+01:00",
            "2026-11-24T10:00:00+01:00",
        ),
        listed("b", "e", "2026-11-24T09:00:00Z", "2026-11-24T09:30:00Z"),
    ];
    assert!(overlaps(&list).is_empty());
}

#[test]
fn a_booking_is_checked_against_the_time_and_status_last_seen() {
    let found = listed(
        "a",
        "e",
        "2026-11-24T09:00:00+01:00",
        "2026-11-24T10:00:00+01:00",
    );
    let mut booking = Tracked {
        id: "a".into(),
        expert_id: "e".into(),
        start: "2026-11-24T08:00:00Z".parse().unwrap(),
        end: "2026-11-24T09:00:00Z".parse().unwrap(),
        expect: Expect::Confirmed,
    };
    assert_eq!(mismatch(&booking, &found), None);
    booking.expect = Expect::Cancelled;
    assert!(mismatch(&booking, &found).is_some());
    booking.expect = Expect::CancelledOrConfirmed;
    assert_eq!(mismatch(&booking, &found), None);
    booking.expect = Expect::Confirmed;
    booking.end = "2026-11-24T09:15:00Z".parse().unwrap();
    assert!(mismatch(&booking, &found).is_some());
    booking.expect = Expect::ConfirmedSomewhen;
    assert_eq!(mismatch(&booking, &found), None);
}

#[test]
fn the_same_instant_in_two_offsets_is_an_overlap() {
    let list = [
        listed(
            "a",
            "e",
            "2026-11-24T09:00:00+01:00",
            "2026-11-24T12:00:00+01:00",
        ),
        listed("b", "e", "2026-11-24T09:30:00Z", "2026-11-24T10:00:00Z"),
        listed("c", "other", "2026-11-24T09:30:00Z", "2026-11-24T10:00:00Z"),
    ];
    assert_eq!(overlaps(&list).len(), 1);
}
