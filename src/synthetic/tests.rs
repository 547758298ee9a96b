//! Tests of the synthetic dataset.

use chrono::{Datelike as _, Days, TimeDelta};

use super::calendars::local;
use super::*;

fn small() -> SyntheticConfig {
    SyntheticConfig {
        experts: 300,
        ..SyntheticConfig::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let config = small();
    assert_eq!(generate(&config), generate(&config));
    let other = SyntheticConfig { seed: 7, ..config };
    assert_ne!(generate(&config).experts, generate(&other).experts);
}

#[test]
fn a_small_dataset_is_the_start_of_a_larger_one() {
    let large = generate(&SyntheticConfig {
        experts: 500,
        ..small()
    });
    let small = generate(&small());
    assert_eq!(small.experts[..], large.experts[..300]);
    assert_eq!(small.calendars[..], large.calendars[..300]);
}

#[test]
fn every_profile_passes_its_own_checks() {
    for expert in generate(&small()).experts {
        assert_eq!(expert.profile.check(), Ok(()), "{}", expert.id);
    }
}

#[test]
fn every_base_lies_in_metropolitan_france() {
    for expert in generate(&small()).experts {
        let geo = expert.profile.base.expect("a base").geo;
        assert!(
            (FRANCE_LAT.0..=FRANCE_LAT.1).contains(&geo.lat()),
            "{geo:?}"
        );
        assert!(
            (FRANCE_LON.0..=FRANCE_LON.1).contains(&geo.lon()),
            "{geo:?}"
        );
    }
}

#[test]
fn appointments_fill_roughly_the_requested_share_of_working_time() {
    for occupancy in [0.3, 0.6] {
        let config = SyntheticConfig {
            occupancy,
            ..small()
        };
        let data = generate(&config);
        let (mut busy, mut working) = (0, 0);
        for (expert, calendar) in data.experts.iter().zip(&data.calendars) {
            let first = config.start.with_timezone(&Paris).date_naive();
            for date in (0..config.days).map(|d| first + Days::new(d.into())) {
                let day_start = local(Paris, date, 0);
                if calendar.absences.iter().any(|a| a.start == day_start) {
                    continue;
                }
                let hours = expert.profile.weekly_hours.day(date.weekday());
                working += hours
                    .iter()
                    .map(|r| i64::from(r.end() - r.start()))
                    .sum::<i64>();
            }
            busy += calendar
                .appointments
                .iter()
                .map(|a| (a.end - a.start).num_minutes())
                .sum::<i64>();
        }
        #[allow(clippy::cast_precision_loss)]
        let measured = busy as f64 / working as f64;
        assert!(
            (measured - occupancy).abs() < 0.08,
            "{measured} for {occupancy}"
        );
    }
}

#[test]
fn appointments_of_an_expert_never_come_closer_than_the_buffer() {
    let data = generate(&small());
    for (expert, calendar) in data.experts.iter().zip(&data.calendars) {
        let buffer = TimeDelta::minutes(expert.profile.buffer_minutes.into());
        for pair in calendar.appointments.windows(2) {
            assert!(pair[0].end + buffer <= pair[1].start, "{}", expert.id);
        }
    }
}
