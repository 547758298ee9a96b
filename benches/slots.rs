//! Criterion benchmarks of the slot engine on the synthetic data of [`creneau::synthetic`].
//!
//! `cargo bench --bench slots` (add `-- --warm-up-time 1 --measurement-time 3` for a quick
//! run, or a filter such as `-- full_enumeration`):
//!
//! - `onsite_paris_2000`: the protocol's example search (ESS, DDE, AXA, Paris 2e, 14 days,
//!   10 slots) over 2,000 experts: eligibility, calendar look-up and search (target
//!   ≤ 100 µs);
//! - `onsite_paris_2000_fresh_calendars`: the same on calendars no search has read yet,
//!   so each calendar's day memo is built on the way;
//! - `remote_visio_2000`: a VISIO search for which all 2,000 experts are eligible
//!   (target ≤ 1 ms);
//! - `remote_visio_one_day/{booked,empty}/{search,reference}`: 20 VISIO slots in one day
//!   among 2,000 experts, on the synthetic calendars and on empty ones (a new firm), where
//!   hundreds of experts are free at each instant: the search, and the plain algorithm it
//!   is checked against (every candidate beaten to an instant queued again at once);
//! - `onsite_paris_scaling/{100,1000,10000}`: the first search as the directory grows;
//!   the zone index keeps it sublinear;
//! - `full_enumeration/{creneau,nettu_scheduler_domain}`: every free (expert, start) pair
//!   of 1,000 experts over 14 days across the October DST change, computed by Créneau
//!   and by `nettu_scheduler_domain` on identical inputs (target: Créneau ≥ 30× faster).
//!
//! Every dataset and query is built, and every answer checked, outside the timed loops.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Datelike as _, Days, NaiveDate, TimeDelta, TimeZone as _, Utc, Weekday};
use chrono_tz::Europe::Paris;
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use nettu_scheduler_domain::booking_slots::{BookingSlotsOptions, get_booking_slots};
use nettu_scheduler_domain::{EventInstance, ID, Schedule, TimeSpan, get_free_busy};
use rand::{Rng as _, SeedableRng as _};

use creneau::domain::expert::ExpertProfile;
use creneau::domain::{
    ClaimType, Department, ExpertiseType, GeoPoint, InsuredType, Insurer, Money, PartnerKind,
    WeeklyHours,
};
use creneau::engine::{Booked, Calendar, Directory, Query, Settings, Slot, Target, check_slot};
use creneau::synthetic::{SyntheticConfig, SyntheticRng, generate};

/// A directory with its calendars and clock, built once per benchmark.
struct World {
    directory: Directory,
    calendars: Vec<Calendar>,
    now: DateTime<Utc>,
    settings: Settings,
}

impl World {
    /// The synthetic dataset of `experts` experts, each passed through `adjust`.
    fn synthetic(experts: usize, adjust: impl Fn(&mut ExpertProfile)) -> Self {
        let mut data = generate(&SyntheticConfig {
            experts,
            ..SyntheticConfig::default()
        });
        data.experts.iter_mut().for_each(|e| adjust(&mut e.profile));
        Self {
            directory: Directory::new(data.experts),
            calendars: data.calendars,
            now: data.now,
            settings: Settings::default(),
        }
    }

    /// What `POST /v1/slot-searches` computes: the eligible experts, then the best slots.
    fn slots(&self, query: &Query) -> Vec<Slot> {
        self.slots_in(&self.calendars, query)
    }

    /// [`World::slots`] over the given calendars.
    fn slots_in(&self, calendars: &[Calendar], query: &Query) -> Vec<Slot> {
        let eligible = self.directory.eligible(query);
        let calendar = |i: usize| &calendars[i];
        let (now, settings) = (self.now, &self.settings);
        self.directory
            .search(query, &eligible.experts, calendar, now, settings)
    }

    /// Checks outside the timed loop that `query` finds a full page of slots, each one
    /// accepted by the booking-time re-check.
    fn check(&self, name: &str, query: &Query) {
        let eligible = self.directory.eligible(query).experts.len();
        let slots = self.slots(query);
        println!(
            "{name}: {eligible} of {} experts eligible, {} slots",
            self.directory.len(),
            slots.len()
        );
        assert_eq!(slots.len(), query.max_slots, "{name}");
        let place = query.place.as_ref().map(|t| &t.point);
        for slot in &slots {
            let (profile, calendar) = (
                &self.directory.expert(slot.expert).profile,
                &self.calendars[slot.expert],
            );
            let (start, end, now) = (slot.start, slot.end, self.now);
            let checked = check_slot(
                profile,
                calendar,
                query.expertise_type,
                place,
                start,
                end,
                now,
                &self.settings,
            );
            assert_eq!(checked, Ok(slot.travel_minutes), "{name}: {slot:?}");
        }
    }
}

/// The contract's example search: ESS water damage for AXA in Paris 2e, 14 days, 10 slots.
fn paris_query(now: DateTime<Utc>) -> Query {
    Query {
        partner_kind: PartnerKind::Expert,
        insurer: Insurer::parse("AXA").unwrap(),
        insured_type: InsuredType::Particulier,
        claim_type: ClaimType::parse("DDE").unwrap(),
        expertise_type: ExpertiseType::Ess,
        dwelling_type: None,
        stake_total: Money::from_euros(4_200).unwrap(),
        place: Some(Target {
            point: GeoPoint::new(48.8686, 2.3316).unwrap(),
            department: Some(Department::parse("75").unwrap()),
        }),
        from: now,
        to: now + TimeDelta::days(14),
        max_slots: 10,
    }
}

/// A VISIO search with the same claim.
fn visio_query(now: DateTime<Utc>) -> Query {
    Query {
        expertise_type: ExpertiseType::Visio,
        place: None,
        ..paris_query(now)
    }
}

/// Makes an expert eligible for any DDE VISIO request.
fn open_to_visio(profile: &mut ExpertProfile) {
    let skills = &mut profile.skills;
    let dde = ClaimType::parse("DDE").unwrap();
    if !skills.claim_types.contains(&dde) {
        skills.claim_types.push(dde);
    }
    if !skills.expertise_types.contains(&ExpertiseType::Visio) {
        skills.expertise_types.push(ExpertiseType::Visio);
    }
    skills.insurers.clear();
    skills.insured_types.clear();
    skills.dwelling_types.clear();
    skills.max_stake = None;
    (profile.active, profile.partner_kind) = (true, PartnerKind::Expert);
}

fn onsite_paris(c: &mut Criterion) {
    let world = World::synthetic(2_000, |_| ());
    let query = paris_query(world.now);
    world.check("onsite_paris_2000", &query);
    c.bench_function("onsite_paris_2000", |b| {
        b.iter(|| world.slots(black_box(&query)));
    });
    // The same search on calendars no search has read yet: each calendar's day memo is
    // built on the way (what the first search after a calendar is (re)loaded pays).
    assert_eq!(
        world.slots_in(&world.calendars.clone(), &query),
        world.slots(&query)
    );
    c.bench_function("onsite_paris_2000_fresh_calendars", |b| {
        b.iter_batched_ref(
            || world.calendars.clone(),
            |calendars| world.slots_in(calendars, black_box(&query)),
            BatchSize::LargeInput,
        );
    });
}

fn remote_visio(c: &mut Criterion) {
    let world = World::synthetic(2_000, open_to_visio);
    let query = visio_query(world.now);
    assert_eq!(world.directory.eligible(&query).experts.len(), 2_000);
    world.check("remote_visio_2000", &query);
    c.bench_function("remote_visio_2000", |b| {
        b.iter(|| world.slots(black_box(&query)));
    });
}

fn remote_visio_one_day(c: &mut Criterion) {
    let mut group = c.benchmark_group("remote_visio_one_day");
    for calendars in ["booked", "empty"] {
        let mut world = World::synthetic(2_000, open_to_visio);
        if calendars == "empty" {
            world
                .calendars
                .iter_mut()
                .for_each(|c| *c = Calendar::default());
        }
        let from = world.now + TimeDelta::days(2);
        let query = Query {
            from,
            to: from + TimeDelta::days(1),
            max_slots: 20,
            ..visio_query(world.now)
        };
        world.check(&format!("remote_visio_one_day/{calendars}"), &query);
        let eligible = world.directory.eligible(&query).experts;
        let calendar = |i: usize| &world.calendars[i];
        let (now, settings) = (world.now, &world.settings);
        let search = |reference: bool| {
            let run = if reference {
                Directory::search_reference
            } else {
                Directory::search
            };
            run(&world.directory, &query, &eligible, calendar, now, settings)
        };
        assert_eq!(search(false), search(true), "both algorithms agree");
        for (name, reference) in [("search", false), ("reference", true)] {
            group.bench_function(format!("{calendars}/{name}"), |b| {
                b.iter(|| black_box(search(reference)));
            });
        }
    }
    group.finish();
}

fn onsite_paris_scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("onsite_paris_scaling");
    for experts in [100, 1_000, 10_000] {
        let world = World::synthetic(experts, |_| ());
        let query = paris_query(world.now);
        world.check(&format!("onsite_paris_scaling/{experts}"), &query);
        group.bench_function(BenchmarkId::from_parameter(experts), |b| {
            b.iter(|| world.slots(black_box(&query)));
        });
    }
    group.finish();
}

/// The enumeration problem, small enough for both libraries to state it identically:
/// Monday to Friday 09:00–17:30 in Europe/Paris (nettu's default schedule), 60-minute
/// slots on a 15-minute grid, three busy hours a working day, no buffer, notice, daily
/// maximum or travel, over the 14 days from Monday 19 October 2026 (the clocks go back
/// on the 25th).
struct Enumeration {
    world: World,
    query: Query,
    eligible: Vec<usize>,
    /// One nettu schedule per expert, with its busy instances in UTC milliseconds.
    schedules: Vec<Schedule>,
    busy: Vec<Vec<EventInstance>>,
    span: TimeSpan,
    options: BookingSlotsOptions,
}

const EXPERTS: usize = 1_000;
const DAYS: u64 = 14;
const SLOT_MINUTES: u16 = 60;
const GRID_MINUTES: i64 = 15;
const OPEN: (u16, u16) = (9 * 60, 17 * 60 + 30);

impl Enumeration {
    fn new() -> Self {
        let first = NaiveDate::from_ymd_opt(2026, 10, 19).unwrap();
        let at = |date: NaiveDate, minute: u16| {
            let naive = date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0);
            Paris
                .from_local_datetime(&naive.unwrap())
                .single()
                .unwrap()
                .with_timezone(&Utc)
        };
        let (from, to) = (at(first, 0), at(first + Days::new(DAYS), 0));
        let weekdays = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        let hours = WeeklyHours::from_days(weekdays.map(|d| (d, vec![OPEN]))).unwrap();
        let mut world = World::synthetic(EXPERTS, |profile| {
            open_to_visio(profile);
            profile.weekly_hours = hours.clone();
            profile.durations_minutes.visio = SLOT_MINUTES;
            (profile.buffer_minutes, profile.min_notice_hours) = (0, 0);
            profile.max_appointments_per_day = None;
            profile.time_zone = Paris.into();
        });
        let mut rng = SyntheticRng::seed_from_u64(2026);
        let mut busy = Vec::with_capacity(EXPERTS);
        world.calendars = (0..EXPERTS)
            .map(|_| {
                let mut booked = Vec::new();
                for date in (0..DAYS).map(|d| first + Days::new(d)) {
                    if date.weekday().num_days_from_monday() < 5 {
                        booked.extend(three_busy_hours(&mut rng).map(|(start, end)| Booked {
                            start: at(date, start),
                            end: at(date, end),
                            place: None,
                        }));
                    }
                }
                busy.push(booked.iter().map(|b| instance(b.start, b.end)).collect());
                Calendar::new(Vec::new(), booked)
            })
            .collect();
        world.now = from;
        world.settings.grid_minutes = 15;
        let query = Query {
            from,
            to,
            ..visio_query(from)
        };
        let eligible = world.directory.eligible(&query).experts;
        assert_eq!(eligible.len(), EXPERTS);
        let paris = nettu_scheduler_domain::Tz::Europe__Paris;
        Self {
            world,
            query,
            eligible,
            schedules: (0..EXPERTS)
                .map(|_| Schedule::new(ID::default(), ID::default(), &paris))
                .collect(),
            busy,
            span: TimeSpan::new(from.timestamp_millis(), to.timestamp_millis()),
            options: BookingSlotsOptions {
                start_ts: from.timestamp_millis(),
                end_ts: to.timestamp_millis(),
                duration: i64::from(SLOT_MINUTES) * 60_000,
                interval: GRID_MINUTES * 60_000,
            },
        }
    }

    /// Créneau: every free (expert, start) pair.
    fn creneau(&self) -> Vec<(usize, DateTime<Utc>)> {
        let world = &self.world;
        let calendar = |i: usize| &world.calendars[i];
        world.directory.enumerate(
            &self.query,
            &self.eligible,
            calendar,
            world.now,
            &world.settings,
        )
    }

    /// nettu: each user's free time (schedule minus busy instances), then its booking
    /// slots, as (expert, start in UTC milliseconds).
    fn nettu(&self) -> Vec<(usize, i64)> {
        let mut out = Vec::new();
        for (expert, (schedule, busy)) in self.schedules.iter().zip(&self.busy).enumerate() {
            let mut instances: Vec<EventInstance> = schedule.freebusy(&self.span).inner().into();
            instances.extend(busy.iter().cloned());
            let free = get_free_busy(instances).free;
            let slots = get_booking_slots(&free, &self.options);
            out.extend(slots.into_iter().map(|slot| (expert, slot.start)));
        }
        out
    }
}

/// Three non-overlapping busy hours inside the opening hours, on a 5-minute grid (so some
/// are off the 15-minute slot grid), as local minutes.
fn three_busy_hours(rng: &mut SyntheticRng) -> [(u16, u16); 3] {
    let room = (OPEN.1 - OPEN.0 - 3 * 60) / 5;
    let mut gaps = [0; 3].map(|_| rng.random_range(0..=room));
    gaps.sort_unstable();
    let mut hour = 0;
    gaps.map(|gap| {
        let start = OPEN.0 + gap * 5 + hour * 60;
        hour += 1;
        (start, start + 60)
    })
}

fn instance(start: DateTime<Utc>, end: DateTime<Utc>) -> EventInstance {
    EventInstance {
        start_ts: start.timestamp_millis(),
        end_ts: end.timestamp_millis(),
        busy: true,
    }
}

fn full_enumeration(c: &mut Criterion) {
    let problem = Enumeration::new();
    let ours: Vec<(usize, i64)> = problem
        .creneau()
        .into_iter()
        .map(|(e, start)| (e, start.timestamp_millis()))
        .collect();
    let mut theirs = problem.nettu();
    theirs.sort_unstable();
    println!(
        "full_enumeration: creneau {} pairs, nettu_scheduler_domain {} pairs",
        ours.len(),
        theirs.len()
    );
    assert_eq!(
        ours.len(),
        theirs.len(),
        "both libraries count the same pairs"
    );
    assert_eq!(ours, theirs, "both libraries find the same pairs");

    let mut group = c.benchmark_group("full_enumeration");
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function("creneau", |b| b.iter(|| black_box(&problem).creneau()));
    group.bench_function("nettu_scheduler_domain", |b| {
        b.iter(|| black_box(&problem).nettu());
    });
    group.finish();
}

criterion_group! {
    name = slots;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = onsite_paris, remote_visio, remote_visio_one_day, onsite_paris_scaling, full_enumeration
}
criterion_main!(slots);
